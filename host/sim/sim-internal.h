/*
 * libviommu-sim internals: the object model shared by the library's files.
 * Not installed, not part of the API (see viommu-sim.h for that).
 *
 * Who implements what
 *   sim-host.c      host lifecycle, description parsing, groups, devices,
 *                   user-memory access
 *   sim-fs.c        the private tree, node table, open-file table, public
 *                   file-operation entry points, dispatch via SimFileOps
 *   sim-objects.c   iommufd object ids and the id table
 *   sim-itree.c     interval tree; SimArea helpers
 *   sim-iommufd.c   /dev/iommu file ops, ioctl dispatch, device bind/attach
 *   sim-ioas.c      IOAS ioctls (map/unmap/copy/ranges/allow/option)
 *   sim-hwpt.c      HWPT alloc/invalidate/dirty, GET_HW_INFO
 *   sim-iommu.c     physical IOMMU: translate, VT-d first-stage walk,
 *                   IOTLB, dirty bits, fault log, sim_device_dma
 *   sim-vfio.c      legacy container/group/type1, device fd, cdev ioctls
 *   sim-device.c    SimDevice VFIO state, regions, IRQs/eventfds
 *   sim-files.c     contents of the tree (group/cdev nodes, sysfs)
 *   sim-pci-model.c the PCI device model with its DMA engine
 *   (the last four belong to the VFIO side; their entry points are the
 *   "VFIO side" section below)
 *
 * Locking: SimHost.lock protects every structure reachable from the host.
 * Public entry points (viommu-sim.h) take it; every function declared here
 * expects it held and never takes it.  No callback leaves the library.
 *
 * Lifetime, in one place:
 * - SimHost owns groups, devices, nodes and open-file states.
 * - An open-file state (SimFile) lives while any fd of this process refers
 *   to its inode or it has live mmaps; its ops->release then runs once.
 * - An iommufd context lives while its /dev/iommu file is open or a device
 *   is bound to it (SimIommufdCtx.refs).
 * - An iommufd object belongs to its context's id table and is freed only by
 *   destruction (IOMMU_DESTROY, auto-HWPT release, context teardown), which
 *   is refused with EBUSY while SimObj.users > 0.  Every pointer from one
 *   object (or attachment) to another holds one `users` reference on the
 *   target, so a referenced object is never freed first.
 */
#ifndef VIOMMU_SIM_INTERNAL_H
#define VIOMMU_SIM_INTERNAL_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "viommu-sim.h"
#include "linux-iommufd.h"
#include "linux-vfio.h"

typedef struct SimFile SimFile;
typedef struct SimNode SimNode;
typedef struct SimGroup SimGroup;
typedef struct SimIommufdCtx SimIommufdCtx;
typedef struct SimObj SimObj;
typedef struct SimIoas SimIoas;
typedef struct SimHwpt SimHwpt;
typedef struct SimIdev SimIdev;

#define SIM_PAGE_SIZE       4096ull
#define SIM_PAGE_SHIFT      12
#define SIM_ALIGN_UP(x, a)  (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define SIM_CONTAINER_OF(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))

/* Bounds on caller-driven growth (beyond the desc knobs). */
#define SIM_MAX_OBJECTS     65536   /* iommufd objects per context */
#define SIM_MAX_ALLOWED     4096    /* IOAS_ALLOW_IOVAS ranges */
#define SIM_MAX_OPEN_FILES  4096    /* simulated open files per host */
#define SIM_IOTLB_ENTRIES   1024    /* cached stage-1 results per nested HWPT */

/* ------------------------------------------------------------------------
 * Interval tree (sim-itree.c): an AVL tree ordered by start, augmented
 * with the largest `last` of each subtree.  Intervals are inclusive and may
 * overlap.  Embed a SimItreeNode; the tree never allocates.
 * ------------------------------------------------------------------------ */

typedef struct SimItreeNode {
    uint64_t start, last;           /* set before insert, not after */
    uint64_t subtree_last;          /* private */
    struct SimItreeNode *left, *right, *parent;
    int height;                     /* private */
} SimItreeNode;

typedef struct SimItree {
    SimItreeNode *root;
    size_t count;
} SimItree;

void sim_itree_init(SimItree *t);
void sim_itree_insert(SimItree *t, SimItreeNode *n);
void sim_itree_remove(SimItree *t, SimItreeNode *n);
/* In-order traversal (by start). */
SimItreeNode *sim_itree_first(const SimItree *t);
SimItreeNode *sim_itree_next(const SimItreeNode *n);
/* Nodes intersecting [start, last], in order of start. */
SimItreeNode *sim_itree_first_overlap(const SimItree *t, uint64_t start,
                                      uint64_t last);
SimItreeNode *sim_itree_next_overlap(const SimItreeNode *n, uint64_t start,
                                     uint64_t last);

/* ------------------------------------------------------------------------
 * Areas: one IOVA range backed by user memory.  Used by the IOAS
 * (sim-ioas.c) and by the legacy type1 container (sim-vfio.c); the
 * translation path reads both through sim_area_find().
 * ------------------------------------------------------------------------ */

#define SIM_PROT_READ   1
#define SIM_PROT_WRITE  2

/*
 * Backing memory the library mapped itself (IOAS_MAP_FILE): refcounted,
 * because IOAS_COPY shares it between areas; munmapped at the last put.
 */
typedef struct SimPages {
    unsigned refs;
    void *base;
    size_t size;
} SimPages;

typedef struct SimArea {
    SimItreeNode node;      /* IOVA [start, last] */
    uint64_t uva;           /* user VA of node.start */
    int prot;               /* SIM_PROT_* */
    SimPages *pages;        /* NULL for plain user memory; else holds a ref */
} SimArea;

/* @pages (may be NULL) gains a reference. */
SimArea *sim_area_new(uint64_t iova, uint64_t length, uint64_t uva, int prot,
                      SimPages *pages);
void sim_area_free(SimArea *area);          /* not in a tree any more */
SimArea *sim_area_find(const SimItree *areas, uint64_t iova);
SimPages *sim_pages_get(SimPages *pages);
void sim_pages_put(SimPages *pages);

/* ------------------------------------------------------------------------
 * Host, nodes and open files (sim-host.c)
 * ------------------------------------------------------------------------ */

/*
 * Per-file-type operations, the simulated kernel's file_operations.  All
 * are called with the host lock held; missing ones give the errno stated.
 */
typedef struct SimFileOps {
    const char *name;
    /* a new open-file state for a node: set f->priv (-errno refuses) */
    int (*open)(SimFile *f);
    /* the last reference is gone (no fd, no mmap) */
    void (*release)(SimFile *f);
    int (*ioctl)(SimFile *f, unsigned long request, void *arg); /* ENOTTY */
    ssize_t (*pread)(SimFile *f, void *buf, size_t n, off_t off); /* EINVAL */
    ssize_t (*pwrite)(SimFile *f, const void *buf, size_t n, off_t off);
    /* map [off, off+len) of the file; *out = address (ENODEV) */
    int (*mmap)(SimFile *f, size_t len, int prot, int flags, off_t off,
                void **out);
} SimFileOps;

/* A character-device node of the tree, e.g. dev/iommu, dev/vfio/5. */
struct SimNode {
    SimHost *host;
    char *path;             /* relative to the root: "dev/vfio/5" */
    dev_t st_dev;           /* identity of the on-disk file */
    ino_t st_ino;
    dev_t rdev;             /* reported st_rdev */
    const SimFileOps *ops;
    void *priv;             /* SimGroup *, SimDevice * or NULL */
};

/*
 * One open-file state, the simulated `struct file`.  Identified by the
 * inode its fds refer to: a memfd made per open (self_fd keeps that inode
 * alive, so it is never reused while the state exists), or, for node files
 * opened directly in the private tree, the node's own inode (self_fd -1;
 * all such fds of one node share one state).
 */
struct SimFile {
    SimHost *host;
    const SimFileOps *ops;
    SimNode *node;          /* NULL for anonymous files */
    dev_t st_dev;
    ino_t st_ino;
    int self_fd;
    unsigned mmaps;         /* live sim_mmap mappings */
    bool released;
    void *priv;
};

struct SimGroup {
    SimHost *host;
    int id;                 /* IOMMU group number */
    GPtrArray *devices;     /* SimDevice *, not owned */
    SimNode *node;          /* dev/vfio/<id>, set by sim-files.c */
    /*
     * DMA ownership (one owner per group, as the kernel's DMA-owner claim):
     * a legacy container or an iommufd context.  owner_refs counts claims
     * by that owner (e.g. one per bound device).
     */
    const void *owner;
    unsigned owner_refs;
    void *vfio;             /* VFIO-side group state */
};

struct SimDevice {
    SimHost *host;
    SimDeviceDesc desc;     /* bdf, group, model, ids as created */
    SimGroup *group;
    unsigned pasid_bits;    /* effective PASID width, 0: no PASID */
    bool dirty;             /* supports dirty tracking */

    /* iommufd side (sim-iommufd.c): the DEVICE object while bound */
    SimIdev *idev;

    /*
     * Physical IOMMU attachment (sim-iommu.c translates through these).
     * rid_hwpt/pasid_hwpt are set only by sim-iommufd.c; legacy_s2 by
     * sim-vfio.c while the group sits in a type1 container with its IOMMU
     * set (the container owns the tree).  Nothing attached = DMA blocked.
     */
    SimHwpt *rid_hwpt;
    GHashTable *pasid_hwpt;         /* PASID → SimHwpt *, never empty-valued */
    const SimItree *legacy_s2;      /* SimArea tree of the container */

    void *vfio;             /* VFIO-side device state (sim-device.c) */
    void *model;            /* device model state (sim-pci-model.c) */
};

struct SimHost {
    GMutex lock;
    SimHostDesc desc;       /* validated knobs */
    char *root;             /* private root directory, no trailing '/' */
    bool root_created;      /* mkdtemp'd: removed by sim_host_free */
    uint64_t vtd_cap, vtd_ecap;     /* derived from desc (VT-d only) */
    bool safe_copy;         /* process_vm_readv/writev on ourselves work */

    GHashTable *owned;      /* relative paths of owned tree entries */
    GHashTable *nodes;      /* inode key → SimNode * (owned) */
    GHashTable *files;      /* inode key → SimFile * (owned) */
    GHashTable *mmaps;      /* address → SimMmap * (owned) */
    GPtrArray *devices;     /* SimDevice * (owned), creation order */
    GHashTable *groups;     /* group id → SimGroup * (owned) */
    int next_group;         /* for devices without group= */

    /* fault log ring (sim-iommu.c) */
    SimFaultRecord faults[SIM_FAULT_LOG_SIZE];
    unsigned fault_head, fault_count;
    uint64_t fault_seq;

    void *vfio;             /* VFIO-side host state (sim-vfio.c) */

    /* test hooks (sim-host.c): pending injected failures per op */
    unsigned inject_count[SIM_INJECT_OP_MAX];
    int inject_err[SIM_INJECT_OP_MAX];
    unsigned nr_hwpts;      /* HWPT objects alive (sim-hwpt.c) */
};

/*
 * With the host lock held: 0, or the injected -errno if a failure of @op
 * is pending (one is consumed).
 */
int sim_inject_take(SimHost *host, SimInjectOp op);

/* User memory of the calling process: -EFAULT instead of a crash. */
int sim_copy_from_user(SimHost *host, void *dst, uint64_t uptr, size_t len);
int sim_copy_to_user(SimHost *host, uint64_t uptr, const void *src,
                     size_t len);
/*
 * Copy an extensible struct (kernel copy_struct_from_user): @usize bytes
 * at @uptr into @dst of @ksize; a larger @usize needs a zero tail (else
 * -E2BIG), a smaller one is zero-extended.
 */
int sim_copy_struct_from_user(SimHost *host, void *dst, size_t ksize,
                              uint64_t uptr, size_t usize);
/* 0 if [uva, uva+len) is mapped in this process, else -EFAULT. */
int sim_user_range_check(uint64_t uva, uint64_t len);

/* sim-fs.c: tree, tables and root (init), all open files (release), all */
int sim_fs_init(SimHost *host);
void sim_fs_release_files(SimHost *host);
void sim_fs_fini(SimHost *host);

/*
 * Create a node file at @relpath (parents created) and register it.
 * -EEXIST if the path exists.  The node is owned by the host.
 */
int sim_node_add(SimHost *host, const char *relpath, const SimFileOps *ops,
                 void *priv, dev_t rdev, SimNode **out);
/* Unlink and forget a node; open files of it lose their node pointer. */
void sim_node_remove(SimNode *node);
/*
 * Create a directory / a file with contents / a symlink under the root
 * (parents created).  The entry becomes "owned": it and everything below
 * it are claimed paths (sim_claims_path), its parents are not.
 */
int sim_tree_mkdir(SimHost *host, const char *relpath);
int sim_tree_write(SimHost *host, const char *relpath, const char *text);
int sim_tree_symlink(SimHost *host, const char *target, const char *relpath);
int sim_tree_remove(SimHost *host, const char *relpath);   /* recursive */

/*
 * A new anonymous open file (e.g. the fd of VFIO_GROUP_GET_DEVICE_FD):
 * returns its fd (O_CLOEXEC if @cloexec) or -errno; ops->open is not
 * called, @priv is set directly.
 */
int sim_file_new_anon(SimHost *host, const SimFileOps *ops, void *priv,
                      bool cloexec);
/* The open-file state @fd refers to, NULL if none (not simulated). */
SimFile *sim_file_from_fd(SimHost *host, int fd);
/* Does any open file (or node) of @priv's kind exist?  For EBUSY checks. */
bool sim_files_any(SimHost *host, const SimFileOps *ops, const void *priv);

/* Group DMA ownership: -EBUSY if owned by another owner. */
int sim_group_claim(SimGroup *group, const void *owner);
void sim_group_unclaim(SimGroup *group, const void *owner);

/* ------------------------------------------------------------------------
 * iommufd (sim-objects.c, sim-iommufd.c, sim-ioas.c, sim-hwpt.c)
 * ------------------------------------------------------------------------ */

typedef enum SimObjType {
    SIM_OBJ_ANY = 0,
    SIM_OBJ_IOAS,
    SIM_OBJ_HWPT_PAGING,
    SIM_OBJ_HWPT_NESTED,
    SIM_OBJ_DEVICE,
} SimObjType;

/* Header of every iommufd object. */
struct SimObj {
    uint32_t id;            /* 1..INT32_MAX, unique in its context */
    SimObjType type;
    unsigned users;         /* references blocking IOMMU_DESTROY (EBUSY) */
    SimIommufdCtx *ictx;
};

/*
 * Id table: ids are the lowest free id >= 1 (like the kernel's xa_alloc),
 * so a destroyed id is reused by the next allocation.
 */
typedef struct SimIdTable {
    SimObj **slot;          /* slot[id], slot[0] unused */
    uint32_t size;
    uint32_t count;
    uint32_t lowest_free;   /* hint: no free id below it */
} SimIdTable;

void sim_idt_init(SimIdTable *t);
void sim_idt_fini(SimIdTable *t);                  /* must be empty */
int sim_idt_alloc(SimIdTable *t, SimObj *obj);     /* -ENOMEM when full */
void sim_idt_remove(SimIdTable *t, SimObj *obj);
/* Lookup by id and type (SIM_OBJ_ANY: any type); NULL if absent. */
SimObj *sim_idt_find(const SimIdTable *t, uint32_t id, SimObjType type);

/* One open of /dev/iommu. */
struct SimIommufdCtx {
    SimHost *host;
    unsigned refs;          /* the open file + one per bound device */
    SimIdTable objs;
    uint64_t rlimit_mode;   /* IOMMU_OPTION_RLIMIT_MODE */
    SimIoas *vfio_ioas;     /* IOMMU_VFIO_IOAS; holds a users ref */
};

/* A reserved IOVA range of an IOAS, owned by a device, a HWPT or nobody. */
typedef struct SimResv {
    SimItreeNode node;
    const void *owner;
} SimResv;

struct SimIoas {
    SimObj obj;
    SimItree areas;         /* SimArea, disjoint */
    uint32_t n_areas;       /* bounded by desc.dma_entry_limit (ENOMEM) */
    SimItree reserved;      /* SimResv, may overlap */
    SimIovaRange *allowed;  /* sorted, disjoint; NULL: everything */
    unsigned n_allowed;
    GList *hwpts;           /* paging SimHwpt on this IOAS (domains) */
    bool huge_pages;        /* IOMMU_OPTION_HUGE_PAGES */
};

struct SimHwpt {
    SimObj obj;             /* SIM_OBJ_HWPT_PAGING or SIM_OBJ_HWPT_NESTED */
    uint32_t flags;         /* IOMMU_HWPT_ALLOC_* */
    bool auto_domain;       /* made by attaching an IOAS; freed on last detach */
    unsigned attached;      /* RID/PASID attachments, each a users ref too */

    /* paging: stage 2 is the IOAS (holds a users ref on it) */
    SimIoas *ioas;
    bool dirty_enabled;
    GHashTable *dirty;      /* set of dirty 4 KiB IOVA page numbers (as keys) */

    /* nested: VT-d first stage over parent's stage 2 (users ref on parent) */
    SimHwpt *parent;
    struct iommu_hwpt_vtd_s1 s1;
    GHashTable *iotlb;      /* cached stage-1 results (sim-iommu.c) */
};

/* The DEVICE object of a bound device. */
struct SimIdev {
    SimObj obj;             /* users: 1 held by the VFIO binding */
    SimDevice *dev;
    GHashTable *resv_ioas;  /* SimIoas * whose reserved tree has our ranges */
};

extern const SimFileOps sim_iommufd_fops;

/* The iommufd context of an open-file state, NULL if not /dev/iommu. */
SimIommufdCtx *sim_iommufd_from_file(SimFile *f);

/*
 * Entry points of the cdev ioctls (VFIO side calls them, after its own
 * argsz/flags checks):
 * bind: -EINVAL already bound, -EBUSY group owned by another owner;
 * attach: attach @pasid (SIM_NO_PASID: the RID) to *pt_id (IOAS or HWPT)
 *   or replace the current attachment; *pt_id out = the HWPT attached;
 *   a failed replace keeps the old attachment;
 * detach: the RID/PASID becomes blocked (detaching nothing is 0);
 * unbind: detaches everything, destroys the DEVICE object (closing the
 *   cdev fd does this).
 */
int sim_iommufd_bind(SimIommufdCtx *ictx, SimDevice *dev, uint32_t *out_devid);
int sim_iommufd_attach(SimDevice *dev, uint32_t pasid, uint32_t *pt_id);
int sim_iommufd_detach(SimDevice *dev, uint32_t pasid);
void sim_iommufd_unbind(SimDevice *dev);

/* iommufd internals shared by sim-iommufd.c, sim-ioas.c, sim-hwpt.c */
int sim_obj_destroy(SimObj *obj);               /* -EBUSY while used */
void sim_obj_get(SimObj *obj);
void sim_obj_put(SimObj *obj);

SimIoas *sim_ioas_new(SimIommufdCtx *ictx, int *err);
void sim_ioas_free(SimIoas *ioas);
uint64_t sim_ioas_alignment(const SimIoas *ioas);
/* reserve [start,last] for @owner: -EADDRINUSE if mapped or allowed */
int sim_ioas_reserve(SimIoas *ioas, uint64_t start, uint64_t last,
                     const void *owner);
void sim_ioas_unreserve(SimIoas *ioas, const void *owner);
/* check that every area fits a new domain (alignment, user memory) */
int sim_ioas_domain_check(SimIoas *ioas, bool read_only_forbidden);

/*
 * One iommufd ioctl in flight: `cmd` is the kernel copy of the user struct
 * (sizeof the struct, zero-extended), `user_size` the caller's size field.
 */
typedef struct SimUcmd {
    SimIommufdCtx *ictx;
    uint64_t uptr;          /* the user struct */
    uint32_t user_size;
    void *cmd;
} SimUcmd;

/* Copy the (updated) command back: min(user_size, @ksize) bytes. */
int sim_ucmd_respond(SimUcmd *u, size_t ksize);

int sim_ioctl_ioas_alloc(SimUcmd *u);
int sim_ioctl_ioas_iova_ranges(SimUcmd *u);
int sim_ioctl_ioas_allow_iovas(SimUcmd *u);
int sim_ioctl_ioas_map(SimUcmd *u);
int sim_ioctl_ioas_map_file(SimUcmd *u);
int sim_ioctl_ioas_copy(SimUcmd *u);
int sim_ioctl_ioas_unmap(SimUcmd *u);
int sim_ioctl_option(SimUcmd *u);
int sim_ioctl_vfio_ioas(SimUcmd *u);
int sim_ioctl_ioas_change_process(SimUcmd *u);
int sim_ioctl_hwpt_alloc(SimUcmd *u);
int sim_ioctl_get_hw_info(SimUcmd *u);
int sim_ioctl_hwpt_set_dirty(SimUcmd *u);
int sim_ioctl_hwpt_get_dirty(SimUcmd *u);
int sim_ioctl_hwpt_invalidate(SimUcmd *u);

/* A paging HWPT on @ioas (auto_domain for attach); -errno in *err. */
SimHwpt *sim_hwpt_paging_new(SimIoas *ioas, SimDevice *dev, uint32_t flags,
                             bool auto_domain, int *err);
void sim_hwpt_free(SimHwpt *hwpt);
/* Forget dirty bits of [start, last] in every HWPT of @ioas (unmap). */
void sim_ioas_dirty_forget(SimIoas *ioas, uint64_t start, uint64_t last);
/* The paging HWPT translating stage 2 for @hwpt (itself or its parent). */
SimHwpt *sim_hwpt_stage2(SimHwpt *hwpt);

/* VT-d CAP/ECAP from the knobs (VT-d spec 11.4.2/11.4.3). */
void sim_vtd_regs_compute(const SimHostDesc *desc, uint64_t *cap,
                          uint64_t *ecap);

/* ------------------------------------------------------------------------
 * Physical IOMMU (sim-iommu.c)
 * ------------------------------------------------------------------------ */

/* One translated address. */
typedef struct SimXlate {
    uint64_t uva;           /* user VA of the request address */
    uint64_t len;           /* bytes from there with the same translation */
    SimHwpt *hwpt;          /* the HWPT used, NULL for legacy type1 */
} SimXlate;

/*
 * Translate one DMA request address of @dev: stage 1 (nested HWPT, VT-d
 * first-stage walk with IOTLB) then stage 2 (IOAS or type1 areas).
 * Returns 0, or -EFAULT after logging a fault.  Marks dirty pages on writes
 * when the stage-2 HWPT tracks them.
 */
int sim_iommu_translate(SimDevice *dev, uint32_t pasid, uint64_t iova,
                        bool write, SimXlate *out);
/* sim_device_dma() without the lock: the DMA engine's access path. */
int sim_iommu_dma(SimDevice *dev, uint32_t pasid, uint64_t iova, void *buf,
                  size_t len, bool write);

/* IOTLB of nested HWPTs: cached until invalidated, as hardware. */
void sim_iotlb_flush(SimHwpt *nested, uint64_t start, uint64_t last);
void sim_iotlb_free(SimHwpt *nested);

/* Log a fault (never fails; the oldest record drops when full). */
void sim_fault_log(SimHost *host, const SimFaultRecord *rec);

/* ------------------------------------------------------------------------
 * VFIO side (sim-vfio.c, sim-device.c, sim-files.c, sim-pci-model.c)
 * ------------------------------------------------------------------------ */

/* Build the static tree (dev/vfio/vfio, sys/...) at host creation. */
int sim_files_populate(SimHost *host);
/* Nodes and sysfs entries of a new device (and its group if new). */
int sim_files_add_device(SimHost *host, SimDevice *dev);
void sim_files_remove_device(SimHost *host, SimDevice *dev);
/* Device model state: -EINVAL for an unknown model. */
int sim_model_init(SimDevice *dev);
void sim_model_fini(SimDevice *dev);
/* VFIO host/device state (dev->vfio, host->vfio). */
int sim_vfio_host_init(SimHost *host);
void sim_vfio_host_fini(SimHost *host);
int sim_vfio_device_init(SimDevice *dev);
void sim_vfio_device_fini(SimDevice *dev);
/* true while the device or its group has an open file (remove → EBUSY) */
bool sim_vfio_device_busy(SimDevice *dev);

#endif /* VIOMMU_SIM_INTERNAL_H */

/* S2: VFIO/device side */
/*
 * Appended by engineer S2 (sim-vfio.c, sim-device.c, sim-files.c,
 * sim-pci-model.c): what those four files share.  Same rules as above:
 * every function expects the host lock held unless it is public API.
 */
#ifndef VIOMMU_SIM_INTERNAL_S2_H
#define VIOMMU_SIM_INTERNAL_S2_H

/* Character-device numbers the simulated nodes report (st_rdev). */
#define SIM_VFIO_MISC_MAJOR         10      /* /dev/vfio/vfio is 10:196 */
#define SIM_VFIO_CONTAINER_MINOR    196
#define SIM_VFIO_GROUP_MAJOR        243     /* /dev/vfio/<N> is 243:<N> */
#define SIM_VFIO_CDEV_MAJOR         511     /* /dev/vfio/devices/vfioX */
#define SIM_VFIO_MAX_MSIX           32      /* MSI-X vectors the host serves */
#define SIM_VFIO_MAX_MSI            32      /* MSI's architectural limit */

#define SIM_OFFSETOFEND(type, field) \
    (offsetof(type, field) + sizeof(((type *)0)->field))

typedef struct SimContainer SimContainer;   /* sim-vfio.c only */

/* host->vfio, from sim_vfio_host_init to sim_vfio_host_fini. */
typedef struct SimVfioHost {
    bool cdev_used[SIM_MAX_DEVICES];    /* X of vfioX in use */
} SimVfioHost;

/*
 * group->vfio: the open state of a group node (the kernel's
 * group->opened_file).  At most one per group: a second open is EBUSY.
 * refs = the group file + one per device file obtained from it, so the
 * state (and its container attachment) outlives a closed group fd while
 * device fds remain, as a kernel device file holds its group file.
 */
typedef struct SimVfioGroup {
    SimGroup *group;
    unsigned refs;
    SimContainer *container;    /* SET_CONTAINER; holds a container ref */
    unsigned device_fds;        /* device files from GET_DEVICE_FD */
} SimVfioGroup;

/*
 * dev->vfio, from sim_vfio_device_init to sim_vfio_device_fini (device
 * removal is refused while files != 0 or the group is open).
 */
typedef struct SimVfioDev {
    SimDevice *dev;
    char driver[32];            /* "vfio-pci" (default), "" or a kernel one */
    int cdev_index;             /* X of vfioX while it has a cdev, else -1 */
    SimNode *cdev_node;         /* dev/vfio/devices/vfioX */
    unsigned files;             /* device files (group path and cdev) */
    unsigned open_count;        /* opened: group device fds + a bound cdev */
    bool cdev_bound;            /* a cdev file is bound to an iommufd */
    bool kernel_claim;          /* group claimed for a kernel driver */

    /* MSI-X geometry, read from the device's capability at creation */
    unsigned msix_cap;          /* config offset, 0: no MSI-X */
    unsigned msix_count;        /* vectors (clamped to SIM_VFIO_MAX_MSIX) */
    unsigned msix_bar, pba_bar; /* BIRs */
    uint64_t msix_table, pba;   /* offsets in those BARs */
    /* MSI geometry, likewise */
    unsigned msi_cap;           /* config offset, 0: no MSI */
    unsigned msi_count;         /* vectors capable (MMC) */
    bool msi_64;                /* 64-bit message address */

    /*
     * Interrupts: the host kernel's side of SET_IRQS.  One type at a time
     * (vfio_pci_set_msi_trigger): MSI and MSI-X exclude each other.
     */
    int irq_type;               /* -1 none, VFIO_PCI_MSI/MSIX_IRQ_INDEX */
    int msix_efd[SIM_VFIO_MAX_MSIX];    /* our dup of the eventfd, or -1 */
    uint64_t msix_fired[SIM_VFIO_MAX_MSIX];
    int msi_efd[SIM_VFIO_MAX_MSI];      /* likewise for MSI vectors */
    unsigned msi_nvec;          /* MSI vectors enabled by SET_IRQS */
    int req_efd;                /* VFIO_PCI_REQ_IRQ_INDEX eventfd or -1 */
    /*
     * INTx (vfio_pci_intrs.c), enabled while irq_type is
     * VFIO_PCI_INTX_IRQ_INDEX: level-triggered and automasked.  The
     * device's pin rising (or high at unmask) signals intx_efd once and
     * masks until the user unmasks; the user's COMMAND.INTX_DISABLE is
     * virtual (intx_vdisable) and masks likewise (virq_disabled).
     */
    int intx_efd;               /* trigger eventfd or -1 */
    int intx_unmask_efd;        /* virqfd: a write to it unmasks; or -1 */
    bool intx_line;             /* the device's pin as last driven */
    bool intx_masked;
    bool intx_vdisable;         /* the user's COMMAND.INTX_DISABLE */

    /* What vfio-pci virtualises in config space while the device is open */
    uint32_t vbar[7];           /* BAR0-5 and the ROM BAR as the user wrote */
    uint16_t vmsix_ctrl;        /* MSI-X ENABLE/MASKALL as the user wrote */
    uint8_t vmsi_ctrl;          /* MSI ENABLE (only while enabled by
                                 * SET_IRQS) and MME (at most msi_nvec) */
    uint64_t vmsi_addr;         /* MSI address and data as the user wrote */
    uint16_t vmsi_data;
} SimVfioDev;

/* sim-vfio.c */
extern const SimFileOps sim_vfio_container_fops;
extern const SimFileOps sim_vfio_group_fops;
/* A device file from @vg is gone: drop its reference. */
void sim_vfio_group_put(SimVfioGroup *vg);
/* The type1 mappings @group's devices translate through, or NULL. */
const SimItree *sim_vfio_group_s2(SimGroup *group);

/* sim-device.c */
extern const SimFileOps sim_vfio_device_fops;   /* cdev node and anon fds */
/* A new device file for GET_DEVICE_FD (takes a reference on @vg). */
int sim_vfio_device_open_from_group(SimDevice *dev, SimVfioGroup *vg);
/* The model's MSI or MSI-X message reached the host's interrupt logic. */
void sim_vfio_msi_deliver(SimDevice *dev, uint64_t addr, uint32_t data);
/* The model drove its INTx pin to @level (a change). */
void sim_vfio_intx_line(SimDevice *dev, bool level);
/*
 * Rebind @dev to @driver: "vfio-pci", "" (no driver) or the name of a
 * kernel driver, which claims the group's DMA like the kernel DMA API.
 * -EBUSY while the device or its group is open (the REQ eventfd is
 * signalled, as vfio-pci asks its user to release the device) or when a
 * kernel driver meets a group owned by a user; -EINVAL for a bad name.
 * Public for tests (takes the lock).
 */
int sim_device_set_driver(SimDevice *dev, const char *driver);

/* sim-files.c: the vfio-pci parts of a device's tree follow its driver. */
int sim_files_driver_changed(SimHost *host, SimDevice *dev,
                             const char *old_driver);

/* sim-pci-model.c: the device as the host sees it (no VFIO filtering). */
int sim_model_region(SimDevice *dev, unsigned index, uint64_t *size,
                     uint32_t *flags);      /* VFIO_REGION_INFO_FLAG_* */
int sim_model_read(SimDevice *dev, unsigned region, uint64_t off,
                   unsigned size, uint64_t *val);
int sim_model_write(SimDevice *dev, unsigned region, uint64_t off,
                    unsigned size, uint64_t val);
/* Function-level reset: engine, buffer, pending bits (config is kept). */
void sim_model_reset(SimDevice *dev);
/* A shared mapping of an mmappable region (page-aligned @off). */
int sim_model_mmap(SimDevice *dev, unsigned region, uint64_t off,
                   size_t len, int prot, void **out);
/* Send pending MSI-X messages whose vectors were unmasked through mmap. */
void sim_model_msix_poll(SimDevice *dev);

#endif /* VIOMMU_SIM_INTERNAL_S2_H */
