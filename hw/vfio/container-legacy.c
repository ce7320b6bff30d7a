/*
 * The legacy VFIO container: /dev/vfio/vfio with the type1 v2 IOMMU,
 * fed by IOMMU groups (/dev/vfio/<N>) (uapi_facts.md §4; qemu_behaviour.md
 * §3).
 *
 * Ownership: a group belongs to one container and lists the devices
 * taken from it; a container lists its groups and devices and serves one
 * address space.  A group is opened by its first device and closed after
 * its last; a container is created by the first group that cannot join an
 * existing container of the address space, and destroyed with its last
 * group.  Order matters on the way down: the listener is unregistered
 * (unmapping everything) while the groups are still attached, because the
 * last group leaving drops the container's IOMMU and every mapping.
 *
 * The host IOMMU device is host-iommu-device-legacy-vfio, built from the
 * container's IOVA ranges and page sizes (VFIO_IOMMU_GET_INFO).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>

#include "hw/vfio/vfio-device.h"
#include "host/hostos.h"
#include "util/range.h"

typedef struct VFIOLegacyContainer {
    VFIOContainer base;
    int fd;                     /* /dev/vfio/vfio */
    GSList *groups;             /* VFIOGroup * */
    /* DMA_AVAIL when the container was set up: the mapping limit; 0: not
     * reported */
    uint32_t dma_limit;
} VFIOLegacyContainer;

struct VFIOGroup {
    int groupid;
    int fd;                     /* /dev/vfio/<groupid> */
    VFIOLegacyContainer *container;
    GSList *devices;            /* VFIODevice * */
};

/* More IOVA ranges than any IOMMU has: a longer cap is bogus. */
#define VFIO_MAX_IOVA_RANGES    4096

static GSList *vfio_groups;                 /* VFIOGroup * */
static GSList *vfio_legacy_containers;      /* VFIOLegacyContainer * */

static VFIOLegacyContainer *legacy_container(VFIOContainer *c)
{
    return container_of(c, VFIOLegacyContainer, base);
}

/* ------------------------------------------------------------------------
 * type1 DMA
 * ------------------------------------------------------------------------ */

static int vfio_legacy_dma_map(VFIOContainer *c, hwaddr iova, uint64_t size,
                               void *vaddr, bool readonly, Error **errp)
{
    struct vfio_iommu_type1_dma_map map = {
        .argsz = sizeof(map),
        .flags = VFIO_DMA_MAP_FLAG_READ |
                 (readonly ? 0 : VFIO_DMA_MAP_FLAG_WRITE),
        .vaddr = (uintptr_t)vaddr,
        .iova = iova,
        .size = size,
    };
    int e;

    if (hostos_ioctl(legacy_container(c)->fd, VFIO_IOMMU_MAP_DMA, &map) >= 0) {
        return 0;
    }
    e = errno;
    error_setg_errno(errp, e, "VFIO_IOMMU_MAP_DMA (iova 0x%" HWADDR_PRIx
                     ", size 0x%" PRIx64 "%s) failed", iova, size,
                     readonly ? ", read-only" : "");
    if (e == ENOSPC && legacy_container(c)->dma_limit) {
        error_append_hint(errp, "The host allows %" PRIu32 " DMA mappings "
                          "per container (vfio_iommu_type1 dma_entry_limit)."
                          "\n", legacy_container(c)->dma_limit);
    }
    return -e;
}

static int vfio_legacy_dma_unmap(VFIOContainer *c, hwaddr iova, uint64_t size,
                                 Error **errp)
{
    struct vfio_iommu_type1_dma_unmap unmap = {
        .argsz = sizeof(unmap),
        .flags = size ? 0 : VFIO_DMA_UNMAP_FLAG_ALL,
        .iova = size ? iova : 0,
        .size = size,
    };
    int e;

    if (hostos_ioctl(legacy_container(c)->fd, VFIO_IOMMU_UNMAP_DMA,
                     &unmap) >= 0) {
        return 0;
    }
    e = errno;
    error_setg_errno(errp, e, "VFIO_IOMMU_UNMAP_DMA (iova 0x%" HWADDR_PRIx
                     ", size 0x%" PRIx64 ") failed", iova, size);
    return -e;
}

static const VFIOContainerOps vfio_legacy_ops = {
    .name = "legacy",
    .dma_map = vfio_legacy_dma_map,
    .dma_unmap = vfio_legacy_dma_unmap,
};

/*
 * VFIO_IOMMU_GET_INFO: page sizes and the usable IOVA ranges (IOVA_RANGE
 * capability).  No ranges reported is not an error (old kernels): the
 * list stays NULL.
 */
static bool vfio_legacy_get_info(VFIOLegacyContainer *lc, GList **ranges,
                                 uint64_t *pgsizes, Error **errp)
{
    struct vfio_iommu_type1_info init = { 0 };
    g_autofree struct vfio_iommu_type1_info *info = NULL;
    const struct vfio_iommu_type1_info_cap_iova_range *cap;
    const struct vfio_iommu_type1_info_dma_avail *avail;

    *ranges = NULL;
    info = vfio_info_ioctl(lc->fd, VFIO_IOMMU_GET_INFO, &init, sizeof(init),
                           "VFIO_IOMMU_GET_INFO", errp);
    if (!info) {
        return false;
    }
    *pgsizes = (info->flags & VFIO_IOMMU_INFO_PGSIZES) ? info->iova_pgsizes
                                                        : 4096;
    if (!(*pgsizes & ~0xfffULL)) {
        error_setg(errp, "VFIO_IOMMU_GET_INFO: no page size of 4 KiB or "
                   "more (0x%" PRIx64 ")", *pgsizes);
        return false;
    }
    if (!(info->flags & VFIO_IOMMU_INFO_CAPS)) {
        return true;
    }
    avail = (const void *)vfio_info_find_cap(info, info->argsz,
                                             info->cap_offset,
                                             VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
                                             sizeof(*avail));
    if (avail) {
        lc->dma_limit = avail->avail;
    }
    cap = (const void *)vfio_info_find_cap(info, info->argsz,
                                           info->cap_offset,
                                           VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
                                           sizeof(*cap));
    if (!cap) {
        return true;
    }
    if (cap->nr_iovas > VFIO_MAX_IOVA_RANGES ||
        (const char *)&cap->iova_ranges[cap->nr_iovas] >
        (const char *)info + info->argsz) {
        error_setg(errp, "VFIO_IOMMU_GET_INFO: bad IOVA range capability "
                   "(%" PRIu32 " ranges)", cap->nr_iovas);
        return false;
    }
    for (uint32_t i = cap->nr_iovas; i > 0; i--) {
        *ranges = g_list_prepend(*ranges,
                                 range_new(cap->iova_ranges[i - 1].start,
                                           cap->iova_ranges[i - 1].end));
    }
    if (range_list_find_invalid(*ranges)) {
        error_setg(errp, "VFIO_IOMMU_GET_INFO: the host reported an invalid "
                   "IOVA range list");
        range_list_free(*ranges);
        *ranges = NULL;
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------------
 * Containers and groups
 * ------------------------------------------------------------------------ */

static void vfio_legacy_container_free(VFIOLegacyContainer *lc)
{
    vfio_legacy_containers = g_slist_remove(vfio_legacy_containers, lc);
    vfio_container_destroy(&lc->base);
    hostos_close(lc->fd);
    g_free(lc);
}

/* A new container holding @group, listening on @as. */
static VFIOLegacyContainer *vfio_legacy_container_new(VFIOGroup *group,
                                                      AddressSpace *as,
                                                      VFIODevice *vbasedev,
                                                      Error **errp)
{
    VFIOLegacyContainer *lc;
    GList *ranges = NULL;
    uint64_t pgsizes = 0;
    int fd, ver;

    fd = hostos_open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        error_setg_errno(errp, errno, "failed to open /dev/vfio/vfio");
        return NULL;
    }
    ver = hostos_ioctl(fd, VFIO_GET_API_VERSION, NULL);
    if (ver != VFIO_API_VERSION) {
        error_setg(errp, "supported vfio version: %d, reported version: %d",
                   VFIO_API_VERSION, ver);
        hostos_close(fd);
        return NULL;
    }
    if (hostos_ioctl(fd, VFIO_CHECK_EXTENSION,
                     (void *)(uintptr_t)VFIO_TYPE1v2_IOMMU) != 1) {
        error_setg(errp, "No available IOMMU models");
        hostos_close(fd);
        return NULL;
    }
    if (hostos_ioctl(group->fd, VFIO_GROUP_SET_CONTAINER, &fd) < 0) {
        error_setg_errno(errp, errno, "failed to set group %d container",
                         group->groupid);
        hostos_close(fd);
        return NULL;
    }
    lc = g_new0(VFIOLegacyContainer, 1);
    lc->fd = fd;
    vfio_container_init(&lc->base, &vfio_legacy_ops, as);
    group->container = lc;
    lc->groups = g_slist_prepend(lc->groups, group);
    vfio_legacy_containers = g_slist_prepend(vfio_legacy_containers, lc);
    if (hostos_ioctl(fd, VFIO_SET_IOMMU,
                     (void *)(uintptr_t)VFIO_TYPE1v2_IOMMU) < 0) {
        error_setg_errno(errp, errno, "failed to set iommu for container");
        goto fail;
    }
    if (!vfio_legacy_get_info(lc, &ranges, &pgsizes, errp)) {
        goto fail;
    }
    vfio_container_set_ranges(&lc->base, ranges, pgsizes);
    /* the device is listed first, so that listener messages name it */
    lc->base.devices = g_slist_prepend(lc->base.devices, vbasedev);
    if (!vfio_container_listen(&lc->base, errp)) {
        lc->base.devices = g_slist_remove(lc->base.devices, vbasedev);
        goto fail;
    }
    return lc;

fail:
    hostos_ioctl(group->fd, VFIO_GROUP_UNSET_CONTAINER, NULL);
    group->container = NULL;
    lc->groups = g_slist_remove(lc->groups, group);
    vfio_legacy_container_free(lc);
    return NULL;
}

static void vfio_group_free(VFIOGroup *group)
{
    VFIOLegacyContainer *lc = group->container;

    vfio_groups = g_slist_remove(vfio_groups, group);
    if (lc) {
        /* the last group out drops the container's IOMMU and mappings */
        if (hostos_ioctl(group->fd, VFIO_GROUP_UNSET_CONTAINER, NULL) < 0) {
            warn_report("vfio: error disconnecting group %d from container: "
                        "%s", group->groupid, strerror(errno));
        }
        lc->groups = g_slist_remove(lc->groups, group);
        if (!lc->groups) {
            vfio_legacy_container_free(lc);
        }
    }
    hostos_close(group->fd);
    g_free(group);
}

/*
 * The group of @vbasedev's device, opened and in a container on @as; the
 * device is listed in the group and the container when this returns.
 */
static VFIOGroup *vfio_group_get(int groupid, AddressSpace *as,
                                 VFIODevice *vbasedev, Error **errp)
{
    struct vfio_group_status status = { .argsz = sizeof(status) };
    g_autofree char *path = NULL;
    VFIOGroup *group;

    for (GSList *l = vfio_groups; l; l = l->next) {
        group = l->data;
        if (group->groupid != groupid) {
            continue;
        }
        if (group->container->base.as != as) {
            error_setg(errp, "group %d used in multiple address spaces",
                       groupid);
            return NULL;
        }
        group->devices = g_slist_prepend(group->devices, vbasedev);
        group->container->base.devices =
            g_slist_prepend(group->container->base.devices, vbasedev);
        return group;
    }

    path = g_strdup_printf("/dev/vfio/%d", groupid);
    group = g_new0(VFIOGroup, 1);
    group->groupid = groupid;
    group->fd = hostos_open(path, O_RDWR | O_CLOEXEC);
    if (group->fd < 0) {
        error_setg_errno(errp, errno, "error opening %s", path);
        g_free(group);
        return NULL;
    }
    vfio_groups = g_slist_prepend(vfio_groups, group);
    if (hostos_ioctl(group->fd, VFIO_GROUP_GET_STATUS, &status) < 0) {
        error_setg_errno(errp, errno, "failed to get group %d status",
                         groupid);
        goto fail;
    }
    if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
        error_setg(errp, "group %d is not viable", groupid);
        error_append_hint(errp, "Please ensure all devices within the "
                          "iommu_group are bound to their vfio bus driver.\n");
        goto fail;
    }

    /* join a container of the address space if the host lets us */
    for (GSList *l = vfio_legacy_containers; l; l = l->next) {
        VFIOLegacyContainer *lc = l->data;

        if (lc->base.as == as &&
            hostos_ioctl(group->fd, VFIO_GROUP_SET_CONTAINER, &lc->fd) == 0) {
            group->container = lc;
            lc->groups = g_slist_prepend(lc->groups, group);
            lc->base.devices = g_slist_prepend(lc->base.devices, vbasedev);
            group->devices = g_slist_prepend(group->devices, vbasedev);
            return group;
        }
    }
    if (!vfio_legacy_container_new(group, as, vbasedev, errp)) {
        goto fail;
    }
    group->devices = g_slist_prepend(group->devices, vbasedev);
    return group;

fail:
    vfio_group_free(group);
    return NULL;
}

/* The IOMMU group number of the device at sysfs path @sysfsdev. */
static int vfio_sysfs_group(const char *sysfsdev, Error **errp)
{
    g_autofree char *link = g_build_filename(sysfsdev, "iommu_group", NULL);
    char target[4096];
    const char *base;
    ssize_t n;
    char *end;
    long id;

    n = hostos_readlink(link, target, sizeof(target) - 1);
    if (n < 0) {
        error_setg_errno(errp, errno, "no iommu_group found");
        return -1;
    }
    target[n] = '\0';
    base = strrchr(target, '/');
    base = base ? base + 1 : target;
    errno = 0;
    id = strtol(base, &end, 10);
    if (!g_ascii_isdigit(*base) || *end || errno || id > INT32_MAX) {
        error_setg(errp, "bad iommu_group link '%s'", target);
        return -1;
    }
    return id;
}

/* ------------------------------------------------------------------------
 * Attach / detach
 * ------------------------------------------------------------------------ */

bool vfio_legacy_attach(VFIODevice *vbasedev, AddressSpace *as,
                        Error **errp)
{
    HostIOMMUDeviceVFIOInfo info = { .devfd = -1 };
    VFIOGroup *group;
    int groupid, fd;

    if (!vbasedev->sysfsdev) {
        error_setg(errp, "a device passed with fd= needs iommufd=");
        return false;
    }
    groupid = vfio_sysfs_group(vbasedev->sysfsdev, errp);
    if (groupid < 0) {
        return false;
    }
    for (GSList *l = vfio_groups; l; l = l->next) {
        VFIOGroup *g = l->data;

        for (GSList *d = g->devices; d; d = d->next) {
            if (!strcmp(((VFIODevice *)d->data)->name, vbasedev->name)) {
                error_setg(errp, "device is already attached");
                return false;
            }
        }
    }
    group = vfio_group_get(groupid, as, vbasedev, errp);
    if (!group) {
        return false;
    }
    vbasedev->group = group;
    vbasedev->container = &group->container->base;

    fd = hostos_ioctl(group->fd, VFIO_GROUP_GET_DEVICE_FD,
                      (void *)vbasedev->name);
    if (fd < 0) {
        error_setg_errno(errp, errno, "error getting device from group %d",
                         groupid);
        error_append_hint(errp, "Verify all devices in group %d are bound to "
                          "vfio-<bus> or pci-stub and not already in use\n",
                          groupid);
        goto fail;
    }
    vbasedev->fd = fd;
    if (!vfio_device_hiod_create(vbasedev, TYPE_HOST_IOMMU_DEVICE_LEGACY_VFIO,
                                 &info, errp)) {
        goto fail;
    }
    return true;

fail:
    vfio_legacy_detach(vbasedev);
    return false;
}

void vfio_legacy_detach(VFIODevice *vbasedev)
{
    VFIOGroup *group = vbasedev->group;
    VFIOContainer *c = vbasedev->container;

    if (vbasedev->hiod) {
        object_unref(vbasedev->hiod);
        vbasedev->hiod = NULL;
    }
    if (vbasedev->fd >= 0) {
        hostos_close(vbasedev->fd);
        vbasedev->fd = -1;
    }
    if (!group) {
        return;
    }
    group->devices = g_slist_remove(group->devices, vbasedev);
    c->devices = g_slist_remove(c->devices, vbasedev);
    if (!c->devices) {
        /* while the groups are attached: unmapping needs the IOMMU */
        vfio_container_unlisten(c);
    }
    if (!group->devices) {
        vfio_group_free(group);
    }
    vbasedev->group = NULL;
    vbasedev->container = NULL;
}
