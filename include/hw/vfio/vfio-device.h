/*
 * A VFIO device as the containers see it: a device fd on a host device,
 * attached to a container for one guest address space, with the host
 * IOMMU device that describes it to the vIOMMU.
 *
 * vfio_device_attach() picks the backend: iommufd (the device's cdev
 * bound to @iommufd, attached to an IOAS) when @iommufd is set, else the
 * legacy group/container path.  On success @fd is the device fd, the
 * device is in a container listening on the address space, and @hiod is
 * realized; on failure nothing of it is left (fds closed, containers and
 * groups released).  vfio_device_detach() undoes it.
 *
 * Lifetime: the owner (vfio-pci) holds the VFIODevice; the container and
 * group only list it.  Main loop only.
 */
#ifndef HW_VFIO_VFIO_DEVICE_H
#define HW_VFIO_VFIO_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/pci/pci.h"
#include "hw/vfio/vfio-container.h"
#include "system/host_iommu_device.h"
#include "system/iommufd.h"
#include "linux-vfio.h"


typedef struct VFIOGroup VFIOGroup;
typedef struct VFIOIOASHwpt VFIOIOASHwpt;

struct VFIODevice {
    /* Set by the owner before attach */
    char *name;                 /* "0000:02:00.0", or "VFIO_FD<n>" */
    char *sysfsdev;             /* /sys/bus/pci/devices/<bdf>; NULL: fd only */
    int passed_fd;              /* fd= (owned until attach takes it); -1 */
    IOMMUFDBackend *iommufd;    /* NULL: legacy container */
    void *owner;                /* the vfio-pci device: hiod->agent */

    /* Set by attach */
    int fd;                     /* device fd; -1 while detached */
    VFIOContainer *container;
    VFIOGroup *group;           /* legacy */
    VFIOIOASHwpt *hwpt;         /* iommufd */
    uint32_t devid;             /* iommufd device object id */
    bool connected;             /* iommufd: a user of the backend */
    HostIOMMUDevice *hiod;      /* the container's reference */
    struct vfio_device_info info;
};

void vfio_device_init(VFIODevice *vbasedev);
bool vfio_device_attach(VFIODevice *vbasedev, AddressSpace *as,
                        uint64_t viommu_flags, Error **errp);
void vfio_device_detach(VFIODevice *vbasedev);

/*
 * A VFIO *_INFO ioctl on @fd whose struct starts with argsz and grows a
 * capability chain: @init (@size bytes) is sent, and again with the room
 * the host asks for (bounded).  Returns a g_malloc'ed buffer whose argsz
 * is the number of valid bytes, or NULL with *errp set ("@what failed").
 */
void *vfio_info_ioctl(int fd, unsigned long request, const void *init,
                      uint32_t size, const char *what, Error **errp);
/*
 * VFIO_DEVICE_GET_REGION_INFO with its capability chain: a g_malloc'ed
 * info (argsz covers the chain) or NULL with *errp set.
 */
struct vfio_region_info *vfio_device_get_region_info(VFIODevice *vbasedev,
                                                     unsigned index,
                                                     Error **errp);
/*
 * The capability @id of an info buffer of @size bytes whose chain starts
 * at @first; NULL if absent or if the chain is malformed (out of bounds,
 * looping).  The header and @min_size bytes are inside the buffer.
 */
const struct vfio_info_cap_header *vfio_info_find_cap(const void *info,
                                                      size_t size,
                                                      uint32_t first,
                                                      uint16_t id,
                                                      size_t min_size);
bool vfio_device_get_irq_info(VFIODevice *vbasedev, unsigned index,
                              struct vfio_irq_info *info, Error **errp);

/* Internal to hw/vfio: the two backends. */
bool vfio_legacy_attach(VFIODevice *vbasedev, AddressSpace *as,
                        Error **errp);
void vfio_legacy_detach(VFIODevice *vbasedev);
bool vfio_iommufd_attach(VFIODevice *vbasedev, AddressSpace *as,
                         uint64_t viommu_flags, Error **errp);
void vfio_iommufd_detach(VFIODevice *vbasedev);
/*
 * Creates vbasedev->hiod of @typename from @info, filling in the device
 * and its container's ranges and page sizes (the backend fills the rest).
 */
bool vfio_device_hiod_create(VFIODevice *vbasedev, const char *typename,
                             HostIOMMUDeviceVFIOInfo *info, Error **errp);

#endif
