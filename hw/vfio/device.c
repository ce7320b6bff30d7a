/*
 * VFIO devices, backend-independent (vfio-device.h): attach to a
 * container through the backend the device names, the device info, and
 * the region / IRQ queries with their capability chains.  Every answer
 * from the host is checked before use: sizes, offsets, chain links.
 */
#include <errno.h>
#include <inttypes.h>

#include "hw/vfio/vfio-device.h"
#include "host/hostos.h"

/* Bigger VFIO info buffers than this are a host bug, not a device. */
#define VFIO_INFO_MAX_SIZE      (64 * 1024)
/* A capability chain longer than this loops. */
#define VFIO_INFO_MAX_CAPS      64

void vfio_device_init(VFIODevice *vbasedev)
{
    vbasedev->fd = -1;
    vbasedev->passed_fd = -1;
}

const struct vfio_info_cap_header *vfio_info_find_cap(const void *info,
                                                      size_t size,
                                                      uint32_t first,
                                                      uint16_t id,
                                                      size_t min_size)
{
    uint32_t off = first;

    for (int hops = 0; off && hops < VFIO_INFO_MAX_CAPS; hops++) {
        const struct vfio_info_cap_header *h;

        if (off > size || size - off < sizeof(*h) ||
            off % sizeof(uint32_t)) {
            return NULL;
        }
        h = (const void *)((const char *)info + off);
        if (h->id == id) {
            return size - off >= MAX(min_size, sizeof(*h)) ? h : NULL;
        }
        off = h->next;
    }
    return NULL;
}

void *vfio_info_ioctl(int fd, unsigned long request, const void *init,
                      uint32_t size, const char *what, Error **errp)
{
    uint32_t argsz = size;
    void *info = g_malloc(argsz);

    /* ask, and again with room for the chain if the host wants more */
    for (int tries = 0;; tries++) {
        uint32_t want;

        memset(info, 0, argsz);
        memcpy(info, init, size);
        memcpy(info, &argsz, sizeof(argsz));
        if (hostos_ioctl(fd, request, info) < 0) {
            error_setg_errno(errp, errno, "%s failed", what);
            g_free(info);
            return NULL;
        }
        memcpy(&want, info, sizeof(want));
        if (want <= argsz) {
            break;
        }
        if (want > VFIO_INFO_MAX_SIZE || tries == 2) {
            error_setg(errp, "%s: the host asked for %" PRIu32 " bytes", what,
                       want);
            g_free(info);
            return NULL;
        }
        argsz = want;
        info = g_realloc(info, argsz);
    }
    memcpy(info, &argsz, sizeof(argsz));    /* what is valid in the buffer */
    return info;
}

struct vfio_region_info *vfio_device_get_region_info(VFIODevice *vbasedev,
                                                     unsigned index,
                                                     Error **errp)
{
    struct vfio_region_info init = { .index = index };
    g_autofree char *what = g_strdup_printf("VFIO_DEVICE_GET_REGION_INFO "
                                            "(region %u)", index);
    struct vfio_region_info *info;

    info = vfio_info_ioctl(vbasedev->fd, VFIO_DEVICE_GET_REGION_INFO, &init,
                           sizeof(init), what, errp);
    if (info && !(info->flags & VFIO_REGION_INFO_FLAG_CAPS)) {
        info->cap_offset = 0;
    }
    return info;
}

bool vfio_device_get_irq_info(VFIODevice *vbasedev, unsigned index,
                              struct vfio_irq_info *info, Error **errp)
{
    *info = (struct vfio_irq_info) { .argsz = sizeof(*info), .index = index };
    if (hostos_ioctl(vbasedev->fd, VFIO_DEVICE_GET_IRQ_INFO, info) < 0) {
        error_setg_errno(errp, errno, "VFIO_DEVICE_GET_IRQ_INFO (index %u) "
                         "failed", index);
        return false;
    }
    return true;
}

bool vfio_device_hiod_create(VFIODevice *vbasedev, const char *typename,
                             HostIOMMUDeviceVFIOInfo *info, Error **errp)
{
    info->agent = vbasedev;
    info->name = vbasedev->name;
    info->iova_ranges = vbasedev->container->iova_ranges;
    info->pgsizes = vbasedev->container->pgsizes;
    vbasedev->hiod = host_iommu_device_create(typename, info, errp);
    return vbasedev->hiod != NULL;
}

static bool vfio_device_get_info(VFIODevice *vbasedev, Error **errp)
{
    struct vfio_device_info *info = &vbasedev->info;

    *info = (struct vfio_device_info) { .argsz = sizeof(*info) };
    if (hostos_ioctl(vbasedev->fd, VFIO_DEVICE_GET_INFO, info) < 0) {
        error_setg_errno(errp, errno, "error getting device info");
        return false;
    }
    return true;
}

bool vfio_device_attach(VFIODevice *vbasedev, AddressSpace *as,
                        uint64_t viommu_flags, Error **errp)
{
    Error *err = NULL;
    bool ok;

    ok = vbasedev->iommufd ?
         vfio_iommufd_attach(vbasedev, as, viommu_flags, &err) :
         vfio_legacy_attach(vbasedev, as, &err);
    if (ok && !vfio_device_get_info(vbasedev, &err)) {
        vfio_device_detach(vbasedev);
        ok = false;
    }
    if (!ok) {
        error_prepend(&err, "vfio %s: ", vbasedev->name);
        error_propagate(errp, err);
    }
    return ok;
}

void vfio_device_detach(VFIODevice *vbasedev)
{
    if (vbasedev->iommufd) {
        vfio_iommufd_detach(vbasedev);
    } else {
        vfio_legacy_detach(vbasedev);
    }
}
