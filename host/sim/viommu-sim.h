/*
 * libviommu-sim: a simulated Linux host with VFIO and iommufd.
 *
 * PUBLIC C API.  A SimHost is a user-space model of a Linux machine as seen
 * through its VFIO/iommufd uAPI: a private directory holding dev/iommu,
 * dev/vfio/..., sys/bus/pci/devices/... ; a physical IOMMU (VT-d, SMMUv3 or
 * a generic one) with configurable capabilities; PCI devices whose DMA goes
 * through that IOMMU into the *calling process's own memory* (the user VAs
 * given to IOMMU_IOAS_MAP / VFIO_IOMMU_MAP_DMA).
 *
 * The library depends on libc and GLib only.  It is used by viommu's host-OS
 * layer (host/hostos.c, the sim-host / sim-pci-device objects), by the `sim`
 * test suite, and later by an LD_PRELOAD shim holding one global SimHost.
 * See docs/sim-host.md for the description syntax and what is simulated.
 *
 * Conventions
 * - Every function returning int returns 0 (or a non-negative value where
 *   stated) on success and a negative errno on failure.  The ioctl entry
 *   point follows the kernel's argument validation and errno rules
 *   (shared/reference/uapi_facts.md).  Nothing aborts on caller input.
 * - Thread safety: one mutex per host.  Every function below may be called
 *   from any thread; calls on one host are serialised.  Functions taking a
 *   SimDevice lock the device's host.
 * - File descriptors handed out are real fds (see sim_open).  A simulated fd
 *   is recognised by the inode it refers to, so dup()ed fds and fds received
 *   over SCM_RIGHTS are served like the original.
 */
#ifndef VIOMMU_SIM_H
#define VIOMMU_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SIM_API __attribute__((visibility("default")))
#else
#define SIM_API
#endif

#define SIM_API_VERSION 1

typedef struct SimHost SimHost;
typedef struct SimDevice SimDevice;

/* ------------------------------------------------------------------------
 * Host description
 * ------------------------------------------------------------------------ */

typedef enum SimIommuType {
    SIM_IOMMU_NONE = 0,     /* an IOMMU whose driver reports no vendor data */
    SIM_IOMMU_VTD = 1,      /* Intel VT-d */
    SIM_IOMMU_SMMUV3 = 2,   /* Arm SMMUv3 (hw-info; nest parents, no nested data) */
} SimIommuType;

/* An inclusive IOVA range. */
typedef struct SimIovaRange {
    uint64_t start;
    uint64_t last;
} SimIovaRange;

#define SIM_MAX_RESERVED    16
#define SIM_MAX_DEVICES     256
#define SIM_ROOT_MAX        512

/*
 * The knobs of a host.  Always initialise with sim_host_desc_init() (fields
 * may be appended in later versions).  Text keys in brackets.
 */
typedef struct SimHostDesc {
    SimIommuType iommu;         /* [iommu=vtd|smmuv3|none]          vtd   */
    unsigned aw_bits;           /* [aw-bits=39|48|57]                48    */
    bool nesting;               /* [nesting=on|off]                  on    */
    bool fs1gp;                 /* [fs1gp=on|off] first-stage 1G     on    */
    bool dirty_tracking;        /* [dirty-tracking=on|off]           on    */
    unsigned pasid_bits;        /* [pasid-bits=0..20] 0: no PASID    20    */
    bool erratum_spr17;         /* [erratum-spr17=on|off]            off   */
    uint64_t pgsizes;           /* [pgsizes=4K:2M:1G | 0xbitmap]  4K|2M|1G */
    unsigned n_reserved;        /* [reserved=S-L[:S-L...] | none]          */
    SimIovaRange reserved[SIM_MAX_RESERVED];  /* 0xfee00000-0xfeefffff    */
    bool iommufd;               /* [iommufd=on|off] /dev/iommu exists  on  */
    bool cdev;                  /* [cdev=on|off] vfio device cdevs     on  */
    uint32_t dma_entry_limit;   /* [dma-entry-limit=N] mappings      65535 */
    char root[SIM_ROOT_MAX];    /* [root=DIR] "" = a new mkdtemp dir       */
} SimHostDesc;

/* One simulated PCI device.  Text keys in brackets. */
typedef struct SimDeviceDesc {
    char bdf[16];               /* [bdf=0000:02:00.0] required            */
    int group;                  /* [group=N] -1: a group of its own   -1  */
    char model[32];             /* [model=dma]                        dma */
    uint16_t vendor_id;         /* [vendor=0x1b36] 0: the model's id       */
    uint16_t device_id;         /* [device=0x...] 0: the model's id        */
    int pasid_bits;             /* [pasid-bits=N] -1: the host's       -1  */
    bool dirty;                 /* [dirty=on|off] supports dirty       on  */
} SimDeviceDesc;

SIM_API void sim_host_desc_init(SimHostDesc *desc);
SIM_API void sim_device_desc_init(SimDeviceDesc *desc);

/*
 * Parse "key=value,key=value" onto @desc (keys above; unknown key or bad
 * value → -EINVAL, @desc partly updated).  Host text must not contain
 * device sections.
 */
SIM_API int sim_host_desc_parse(SimHostDesc *desc, const char *text);
SIM_API int sim_device_desc_parse(SimDeviceDesc *desc, const char *text);

/* ------------------------------------------------------------------------
 * Host lifecycle
 * ------------------------------------------------------------------------ */

/*
 * Create a host: validates @desc (-EINVAL), creates the private directory
 * tree (root given or mkdtemp'd under $TMPDIR), no devices yet.
 */
SIM_API int sim_host_new(const SimHostDesc *desc, SimHost **out);

/*
 * Create a host and its devices from one string:
 *   HOST-OPTS { ";device:" DEVICE-OPTS }
 * e.g. "iommu=vtd,aw-bits=48;device:bdf=0000:02:00.0,group=5,model=dma".
 * The form held by the preload's environment variable.
 */
SIM_API int sim_host_new_from_string(const char *text, SimHost **out);

/*
 * Tear a host down: closes every simulated open file state (fds the caller
 * still holds become plain files), removes devices and the directory tree
 * if the library created it.  NULL is a no-op.
 */
SIM_API void sim_host_free(SimHost *host);

/* The host's private root directory (the simulated "/"). */
SIM_API const char *sim_host_root(const SimHost *host);

/* The VT-d CAP/ECAP values reported by IOMMU_GET_HW_INFO (0 if not VT-d). */
SIM_API int sim_host_vtd_regs(const SimHost *host, uint64_t *cap,
                              uint64_t *ecap);

/*
 * Add a device.  -EEXIST for a duplicate BDF, -EINVAL for a bad description,
 * -ENOSPC past SIM_MAX_DEVICES.  @out (may be NULL) stays valid until the
 * device is removed or the host freed.
 */
SIM_API int sim_host_add_device(SimHost *host, const SimDeviceDesc *desc,
                                SimDevice **out);

/* Remove a device: -EBUSY while its group or device fd is open. */
SIM_API int sim_host_remove_device(SimHost *host, SimDevice *dev);

/* Look a device up by BDF ("0000:02:00.0"); NULL if absent. */
SIM_API SimDevice *sim_host_find_device(SimHost *host, const char *bdf);

/* ------------------------------------------------------------------------
 * File operations (what the host-OS layer and the preload forward)
 *
 * Paths are absolute paths as the program sees them ("/dev/iommu").
 * ------------------------------------------------------------------------ */

/*
 * 1 if @path belongs to the simulated host (/dev/iommu, /dev/vfio/..., the
 * simulated /sys entries, anything under the private root), else 0.
 * A claimed path that does not exist in the simulation is ENOENT there,
 * never looked up on the real system.
 */
SIM_API int sim_claims_path(SimHost *host, const char *path);

/*
 * Write the on-disk path of a claimed @path into @buf (for opendir and the
 * like).  -ENOENT if not claimed, -ENAMETOOLONG if @size is too small.
 */
SIM_API int sim_translate_path(SimHost *host, const char *path, char *buf,
                               size_t size);

/*
 * Write into @buf the private tree's directory for an absolute @path the
 * host does not claim but has entries below (/dev, /sys/class,
 * /sys/bus/pci/drivers, ...): a listing of @path shows the real entries
 * and these.  -ENOENT if there is none (or @path is claimed),
 * -ENAMETOOLONG if @size is too small.
 */
SIM_API int sim_overlay_dir(SimHost *host, const char *path, char *buf,
                            size_t size);

/*
 * Open a claimed path.  Returns a real fd (>= 0) or -errno.  Character
 * device nodes (/dev/iommu, /dev/vfio/vfio, /dev/vfio/N, vfio cdevs) get a
 * fresh open-file state per call, as in the kernel; other files are the
 * plain files of the tree.  @flags as open(2); O_CLOEXEC is honoured.
 */
SIM_API int sim_open(SimHost *host, const char *path, int flags, mode_t mode);

/*
 * 1 if @fd refers to a simulated open file (including dup()s, fds received
 * over SCM_RIGHTS, and fds to a node file opened directly in the private
 * tree), 0 if not, -EBADF if @fd is not open.
 */
SIM_API int sim_fd_lookup(SimHost *host, int fd);

/*
 * Close a simulated fd.  The open-file state is released, as the kernel
 * releases a file, when no fd in this process refers to it any more and it
 * has no mmap.  -EBADF if @fd is not a simulated fd (nothing is closed).
 */
SIM_API int sim_close(SimHost *host, int fd);

/*
 * Release the open-file states no fd of this process refers to any more
 * and that have no mapping: for a caller whose fds were replaced or closed
 * behind the library's back (dup2/dup3 onto a simulated fd, close_range).
 * Returns the number released or -errno.  An fd in flight over a socket
 * is in no fd table: its state goes too, as with sim_close.
 */
SIM_API int sim_release_orphans(SimHost *host);

/*
 * ioctl on a simulated fd: returns >= 0 (the ioctl's return value) or
 * -errno.  Integer arguments passed by value (VFIO_CHECK_EXTENSION,
 * VFIO_SET_IOMMU) are given as (void *)(uintptr_t)value.
 */
SIM_API int sim_ioctl(SimHost *host, int fd, unsigned long request, void *arg);

/* Region access on a VFIO device fd at region_info.offset + offset. */
SIM_API ssize_t sim_pread(SimHost *host, int fd, void *buf, size_t count,
                          off_t offset);
SIM_API ssize_t sim_pwrite(SimHost *host, int fd, const void *buf,
                           size_t count, off_t offset);

/*
 * mmap of a simulated fd (mmapable VFIO regions).  On success *out is the
 * mapping and 0 is returned; -ENODEV / -EINVAL / -ENXIO as the kernel.
 * Only sim_munmap may unmap it.
 */
SIM_API int sim_mmap(SimHost *host, void *addr, size_t length, int prot,
                     int flags, int fd, off_t offset, void **out);
/* 0, or -EINVAL if [addr, +length) is not a mapping made by sim_mmap. */
SIM_API int sim_munmap(SimHost *host, void *addr, size_t length);

/* Path metadata of claimed paths; device nodes report S_IFCHR + rdev. */
SIM_API ssize_t sim_readlink(SimHost *host, const char *path, char *buf,
                             size_t bufsiz);
SIM_API int sim_stat(SimHost *host, const char *path, struct stat *st);
SIM_API int sim_lstat(SimHost *host, const char *path, struct stat *st);
SIM_API int sim_fstat(SimHost *host, int fd, struct stat *st);
SIM_API int sim_access(SimHost *host, const char *path, int mode);

/*
 * The entry names of a claimed directory (no "." or ".."), sorted, as a
 * NULL-terminated array to free with sim_strv_free().  Returns the count.
 */
SIM_API int sim_listdir(SimHost *host, const char *path, char ***names);
SIM_API void sim_strv_free(char **names);

/* ------------------------------------------------------------------------
 * Devices: driving them from tests
 * ------------------------------------------------------------------------ */

/* PASID value meaning "a request without PASID" (IOMMU_NO_PASID). */
#define SIM_NO_PASID 0u

SIM_API const char *sim_device_bdf(const SimDevice *dev);
SIM_API int sim_device_group(const SimDevice *dev);

/*
 * Raw register access, as the device sees it (no VFIO virtualisation):
 * @region is a vfio-pci region index (0-5 BARs, 7 config space), @size
 * 1, 2, 4 or 8.  -EINVAL for a bad region/offset/size.
 */
SIM_API int sim_device_reg_read(SimDevice *dev, unsigned region,
                                uint64_t offset, unsigned size,
                                uint64_t *val);
SIM_API int sim_device_reg_write(SimDevice *dev, unsigned region,
                                 uint64_t offset, unsigned size,
                                 uint64_t val);

/*
 * One DMA access by @dev through the physical IOMMU, as the device's bus
 * master would issue it: reads @len bytes at @iova into @buf (@write false)
 * or writes @buf to @iova (@write true), tagged with @pasid (SIM_NO_PASID:
 * untagged).  Returns 0, or -EFAULT after recording a fault in the fault
 * log (nothing past the faulting page is transferred).
 */
SIM_API int sim_device_dma(SimDevice *dev, uint32_t pasid, uint64_t iova,
                           void *buf, size_t len, bool write);

/* Operations of the model's DMA engine (model "dma"). */
typedef enum SimDmaOp {
    SIM_DMA_COPY = 0,       /* IOVA src → IOVA dst */
    SIM_DMA_TO_BUFFER = 1,  /* IOVA src → internal buffer offset dst */
    SIM_DMA_FROM_BUFFER = 2,/* internal buffer offset src → IOVA dst */
} SimDmaOp;

/*
 * Program and start the DMA engine as a driver would through its register
 * BAR; completes synchronously and raises the completion (or fault) MSI-X
 * vector.  Returns 0, -EFAULT on a DMA fault, -EINVAL for bad arguments.
 */
SIM_API int sim_device_start_dma(SimDevice *dev, SimDmaOp op, uint32_t pasid,
                                 uint64_t src, uint64_t dst, uint64_t len);

/* Access the engine's internal buffer (bounds-checked, -EINVAL). */
SIM_API int sim_device_buffer_access(SimDevice *dev, uint64_t offset,
                                     void *buf, size_t len, bool write);

typedef struct SimMsixVector {
    uint64_t addr;
    uint32_t data;
    bool masked;            /* vector control mask or function mask */
    bool pending;           /* pending bit */
    uint64_t fired;         /* times signalled to its eventfd */
} SimMsixVector;

SIM_API int sim_device_msix_read(SimDevice *dev, unsigned vector,
                                 SimMsixVector *out);

/* ------------------------------------------------------------------------
 * Test hooks: injected failures and object counts
 * ------------------------------------------------------------------------ */

/* The operations a failure can be injected into. */
typedef enum SimInjectOp {
    SIM_INJECT_HWPT_ALLOC = 0,      /* IOMMU_HWPT_ALLOC */
    SIM_INJECT_ATTACH = 1,          /* VFIO_DEVICE_ATTACH_IOMMUFD_PT (attach
                                     * or replace, any HWPT or IOAS) */
    SIM_INJECT_HWPT_INVALIDATE = 2, /* IOMMU_HWPT_INVALIDATE */
    SIM_INJECT_OP_MAX,
} SimInjectOp;

/*
 * The next @count calls of @op fail with -@err (1..4095) before doing
 * anything, as a kernel refusing them would (IOMMU_HWPT_INVALIDATE then
 * reports 0 entries handled); @count 0 clears.  Counts are per host and
 * independent per op.  -EINVAL for a bad @op or @err.
 */
SIM_API int sim_host_inject_error(SimHost *host, SimInjectOp op, int err,
                                  unsigned count);

/* HWPT objects (paging and nested) alive in all of the host's iommufd
 * contexts. */
SIM_API unsigned sim_host_nr_hwpts(SimHost *host);

/* ------------------------------------------------------------------------
 * Fault log of the physical IOMMU
 * ------------------------------------------------------------------------ */

typedef enum SimFaultReason {
    SIM_FAULT_BLOCKED = 1,          /* RID/PASID attached to nothing */
    SIM_FAULT_S2_UNMAPPED = 2,      /* stage-2 (IOAS / type1): no mapping */
    SIM_FAULT_S2_PERM = 3,          /* stage-2 permission */
    SIM_FAULT_S1_TABLE = 4,         /* stage-1 table read not translatable */
    SIM_FAULT_S1_NOT_PRESENT = 5,   /* VT-d 0x71 */
    SIM_FAULT_S1_RESERVED = 6,      /* VT-d 0x72 */
    SIM_FAULT_S1_USER = 7,          /* VT-d 0x81 (U/S=0 on a user request) */
    SIM_FAULT_S1_WRITE = 8,         /* VT-d 0x85 */
    SIM_FAULT_S1_NON_CANONICAL = 9, /* VT-d 0x80 */
    SIM_FAULT_S1_AD_UPDATE = 10,    /* VT-d 0x91 */
    SIM_FAULT_MEMORY = 11,          /* the mapped user memory is gone */
} SimFaultReason;

typedef struct SimFaultRecord {
    uint64_t seq;           /* increments per fault; a gap means drops */
    char bdf[16];
    uint32_t pasid;         /* SIM_NO_PASID for untagged requests */
    uint32_t hwpt_id;       /* HWPT the request went through, 0 if none */
    uint64_t iova;          /* the request address */
    uint64_t addr;          /* stage-2 input that failed (GPA), else 0 */
    SimFaultReason reason;
    uint8_t vtd_reason;     /* VT-d fault reason code, 0 if none */
    bool write;
} SimFaultRecord;

/* Log capacity; older records are dropped first. */
#define SIM_FAULT_LOG_SIZE 256

/* Pop up to @max oldest records into @out; returns the number popped. */
SIM_API int sim_fault_log_read(SimHost *host, SimFaultRecord *out,
                               unsigned max);

#ifdef __cplusplus
}
#endif

#endif /* VIOMMU_SIM_H */
