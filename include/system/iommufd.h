/*
 * The iommufd backend: -object iommufd,id=ID[,fd=N|NAME]
 *
 * One /dev/iommu context shared by the devices that name it (vfio-pci
 * iommufd=ID).  Users connect before their first operation and disconnect
 * when done: without `fd`, /dev/iommu is opened on the first connect and
 * closed on the last disconnect.  With `fd`, the backend uses that file
 * instead and keeps it across disconnects; it is closed when the object
 * is deleted (docs/iommufd.md, "fd passing").  object-del is refused while
 * a user is connected.
 *
 * Operations issue one iommufd ioctl each through the host-OS layer
 * (hostos_ioctl), so they run against the real kernel or the simulated
 * host alike; errors name the ioctl and the errno.  All calls are made
 * from the main loop (the big lock); none blocks.
 *
 * Also here: the abstract host IOMMU device class for iommufd-backed
 * devices, TYPE_HOST_IOMMU_DEVICE_IOMMUFD (see system/host_iommu_device.h).
 */
#ifndef SYSTEM_IOMMUFD_H
#define SYSTEM_IOMMUFD_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "qom/object.h"
#include "system/host_iommu_device.h"

#define TYPE_IOMMUFD_BACKEND "iommufd"

/*
 * Fields are read-only outside backends/iommufd.c.  @fd is valid while a
 * user is connected (users bind their devices to it with
 * VFIO_DEVICE_BIND_IOMMUFD); -1 when not open.
 */
typedef struct IOMMUFDBackend {
    Object parent_obj;

    int fd;
    /* @fd came from the `fd` property: kept open until finalize */
    bool passed_fd;
    bool completed;
    uint32_t users;
} IOMMUFDBackend;

DECLARE_INSTANCE_CHECKER(IOMMUFDBackend, IOMMUFD_BACKEND,
                         TYPE_IOMMUFD_BACKEND)

/*
 * connect: counts a user, opening /dev/iommu first if needed; fails with
 * "iommufd 'ID': /dev/iommu opening failed: <errno>".  Every successful
 * connect is paired with one disconnect.
 */
bool iommufd_be_connect(IOMMUFDBackend *be, Error **errp);
void iommufd_be_disconnect(IOMMUFDBackend *be);

/* IOMMU_IOAS_ALLOC. */
bool iommufd_be_alloc_ioas(IOMMUFDBackend *be, uint32_t *ioas_id,
                           Error **errp);
/* IOMMU_DESTROY of any object (IOAS, HWPT); a failure is only warned. */
void iommufd_be_free_id(IOMMUFDBackend *be, uint32_t id);

/*
 * IOMMU_IOAS_IOVA_RANGES: the IOAS's usable ranges (Range *, sorted; free
 * with range_list_free()) and its IOVA alignment.  A host answer that is
 * not a sorted list of disjoint ranges is refused.
 */
bool iommufd_be_get_iova_ranges(IOMMUFDBackend *be, uint32_t ioas_id,
                                GList **ranges, uint64_t *alignment,
                                Error **errp);

/*
 * Mappings.  These return 0 or a negative errno (the caller may treat
 * some as expected, e.g. -EFAULT for a PCI BAR) and set *errp on failure.
 *
 * map_dma: IOMMU_IOAS_MAP at a fixed IOVA, readable, and writeable unless
 * @readonly.  EFAULT also warns "IOMMU_IOAS_MAP failed: Bad address, PCI
 * BAR?": peer-to-peer mappings of device memory are not supported.
 * map_file_dma: IOMMU_IOAS_MAP_FILE of [@start, +@size) of @fd.
 * unmap_dma: IOMMU_IOAS_UNMAP; ENOENT (nothing mapped there) is success,
 * as the legacy container answers; @iova 0 with @size UINT64_MAX unmaps
 * everything.
 */
int iommufd_be_map_dma(IOMMUFDBackend *be, uint32_t ioas_id, uint64_t iova,
                       uint64_t size, void *vaddr, bool readonly,
                       Error **errp);
int iommufd_be_map_file_dma(IOMMUFDBackend *be, uint32_t ioas_id,
                            uint64_t iova, uint64_t size, int fd,
                            uint64_t start, bool readonly, Error **errp);
int iommufd_be_unmap_dma(IOMMUFDBackend *be, uint32_t ioas_id, uint64_t iova,
                         uint64_t size, Error **errp);

/*
 * IOMMU_GET_HW_INFO for bound device @devid: the hw-info type, up to @len
 * bytes of vendor data into @data (zero-filled past what the host
 * wrote), the IOMMU_HW_CAP_* bits and the PASID width.  @caps and
 * @max_pasid_log2 may be NULL.
 */
bool iommufd_be_get_device_info(IOMMUFDBackend *be, uint32_t devid,
                                uint32_t *type, void *data, uint32_t len,
                                uint64_t *caps, uint8_t *max_pasid_log2,
                                Error **errp);

/*
 * IOMMU_HWPT_ALLOC: @pt_id is an IOAS, a nest-parent HWPT (then @data_type
 * and @data describe the stage-1 table, e.g. IOMMU_HWPT_DATA_VTD_S1) or a
 * vIOMMU.  @flags: IOMMU_HWPT_ALLOC_NEST_PARENT, _DIRTY_TRACKING, ...
 */
bool iommufd_be_alloc_hwpt(IOMMUFDBackend *be, uint32_t dev_id,
                           uint32_t pt_id, uint32_t flags,
                           uint32_t data_type, uint32_t data_len, void *data,
                           uint32_t *out_hwpt, Error **errp);

/* IOMMU_HWPT_SET_DIRTY_TRACKING: start or stop. */
bool iommufd_be_set_dirty_tracking(IOMMUFDBackend *be, uint32_t hwpt_id,
                                   bool start, Error **errp);
/*
 * IOMMU_HWPT_GET_DIRTY_BITMAP of [@iova, +@size) at @page_size into
 * @data (bit n: page n from @iova); @flags: IOMMU_HWPT_GET_DIRTY_BITMAP_*
 * (NO_CLEAR keeps the bits).
 */
bool iommufd_be_get_dirty_bitmap(IOMMUFDBackend *be, uint32_t hwpt_id,
                                 uint64_t iova, uint64_t size,
                                 uint64_t page_size, uint64_t *data,
                                 uint32_t flags, Error **errp);

/*
 * IOMMU_HWPT_INVALIDATE of *@entry_num entries of @entry_len bytes at
 * @data on nested HWPT (or vIOMMU) @id.  *@entry_num is updated to the
 * number the host handled; fewer than asked is a failure even when the
 * ioctl succeeded ("... unprocessed entries ... Kernel BUG?!").
 */
bool iommufd_be_invalidate_cache(IOMMUFDBackend *be, uint32_t id,
                                 uint32_t data_type, uint32_t entry_len,
                                 uint32_t *entry_num, void *data,
                                 Error **errp);

/* ------------------------------------------------------------------------
 * host-iommu-device-iommufd (abstract)
 * ------------------------------------------------------------------------ */

#define TYPE_HOST_IOMMU_DEVICE_IOMMUFD "host-iommu-device-iommufd"

typedef struct HostIOMMUDeviceIOMMUFD {
    HostIOMMUDevice parent_obj;

    IOMMUFDBackend *iommufd;    /* referenced while set */
    uint32_t devid;             /* iommufd device object id */
    uint32_t hwpt_id;           /* default HWPT; the nest parent if any */
    uint32_t ioas_id;           /* the agent's IOAS; 0: not known */
    /*
     * Written by the vIOMMU while it keeps the device on a nested HWPT of
     * its own (0 otherwise): that HWPT's id and the guest stage-1 table
     * it translates through (VT-d: the first-stage table pointer).
     * Informative (query-host-iommu-devices).
     */
    uint32_t nested_hwpt_id;
    uint64_t first_stage_table;
} HostIOMMUDeviceIOMMUFD;

typedef struct HostIOMMUDeviceIOMMUFDClass {
    HostIOMMUDeviceClass parent_class;

    /* Attach the device (its RID) to HWPT @hwpt_id, replacing any. */
    bool (*attach_hwpt)(HostIOMMUDeviceIOMMUFD *idev, uint32_t hwpt_id,
                        Error **errp);
    /* Detach it: its DMA is blocked until attached again. */
    bool (*detach_hwpt)(HostIOMMUDeviceIOMMUFD *idev, Error **errp);
} HostIOMMUDeviceIOMMUFDClass;

DECLARE_OBJ_CHECKERS(HostIOMMUDeviceIOMMUFD, HostIOMMUDeviceIOMMUFDClass,
                     HOST_IOMMU_DEVICE_IOMMUFD, TYPE_HOST_IOMMU_DEVICE_IOMMUFD)

/* What vIOMMUs call; fail with *errp set if the class has no hook. */
bool host_iommu_device_iommufd_attach_hwpt(HostIOMMUDeviceIOMMUFD *idev,
                                           uint32_t hwpt_id, Error **errp);
bool host_iommu_device_iommufd_detach_hwpt(HostIOMMUDeviceIOMMUFD *idev,
                                           Error **errp);

/*
 * For realize of subclasses: binds @idev to backend @be (taking a
 * reference) with device id @devid and default HWPT @hwpt_id, then fills
 * the parent's caps with IOMMU_GET_HW_INFO.  Fails if @be is NULL or
 * @devid is 0 or the query fails.
 */
bool host_iommu_device_iommufd_setup(HostIOMMUDeviceIOMMUFD *idev,
                                     IOMMUFDBackend *be, uint32_t devid,
                                     uint32_t hwpt_id, Error **errp);

#endif
