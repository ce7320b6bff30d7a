/*
 * The iommufd VFIO container: a device cdev (/dev/vfio/devices/vfioN)
 * bound to an `iommufd` backend and attached to an IOAS
 * (uapi_facts.md §1, §3; qemu_behaviour.md §3, "iommufd attach flow").
 *
 * One container = one IOAS on one backend for one address space; devices
 * of the same address space and backend share it.  A device is attached
 * to a HWPT of the IOAS, kept in the container's HWPT list so that the
 * next device tries it first (the host answers EINVAL when its domain is
 * incompatible; then the next one, then a new one):
 *   - by default the host's automatic HWPT (ATTACH with the IOAS id);
 *   - when the vIOMMU asks for a nesting parent
 *     (VIOMMU_FLAG_WANT_NESTING_PARENT), a NEST_PARENT HWPT allocated
 *     here; it becomes the device's default HWPT, the parent of the
 *     nested HWPTs the vIOMMU allocates later.
 *
 * Teardown order: listener off (unmapping, while the device is still
 * attached), DETACH, free an allocated HWPT after its last device, free
 * the IOAS after the container's last device, close the cdev (unbinds),
 * disconnect from the backend.  A failed attach goes the same way from
 * wherever it stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>

#include "hw/vfio/vfio-device.h"
#include "host/hostos.h"
#include "util/range.h"

typedef struct VFIOIOMMUFDContainer {
    VFIOContainer base;
    IOMMUFDBackend *be;
    uint32_t ioas_id;
    GSList *hwpts;              /* VFIOIOASHwpt * */
    /*
     * The IOAS backs a nest parent on a host with
     * HOST_IOMMU_QUIRK_NESTING_PARENT_BYPASS_RO (SPR17): read-only
     * mappings are left out, the host would refuse them.
     */
    bool bypass_ro;
} VFIOIOMMUFDContainer;

struct VFIOIOASHwpt {
    uint32_t id;
    uint32_t flags;             /* IOMMU_HWPT_ALLOC_* it was made with */
    bool allocated;             /* ours to free; else the host's automatic */
    GSList *devices;            /* VFIODevice * */
};

static GSList *vfio_iommufd_containers;    /* VFIOIOMMUFDContainer * */

static VFIOIOMMUFDContainer *iommufd_container(VFIOContainer *c)
{
    return container_of(c, VFIOIOMMUFDContainer, base);
}

static int vfio_iommufd_dma_map(VFIOContainer *c, hwaddr iova, uint64_t size,
                                void *vaddr, bool readonly, Error **errp)
{
    VFIOIOMMUFDContainer *ic = iommufd_container(c);

    if (readonly && ic->bypass_ro) {
        return 0;   /* recorded, never mapped: unmapping it is ENOENT, fine */
    }
    return iommufd_be_map_dma(ic->be, ic->ioas_id, iova, size, vaddr,
                              readonly, errp);
}

static int vfio_iommufd_dma_unmap(VFIOContainer *c, hwaddr iova,
                                  uint64_t size, Error **errp)
{
    VFIOIOMMUFDContainer *ic = iommufd_container(c);

    if (!size) {
        return iommufd_be_unmap_dma(ic->be, ic->ioas_id, 0, UINT64_MAX, errp);
    }
    return iommufd_be_unmap_dma(ic->be, ic->ioas_id, iova, size, errp);
}

static const VFIOContainerOps vfio_iommufd_ops = {
    .name = "iommufd",
    .dma_map = vfio_iommufd_dma_map,
    .dma_unmap = vfio_iommufd_dma_unmap,
};

/* ------------------------------------------------------------------------
 * The device cdev
 * ------------------------------------------------------------------------ */

/* Opens /dev/vfio/devices/vfioN named by <sysfsdev>/vfio-dev/vfioN. */
static int vfio_cdev_open(const char *sysfsdev, Error **errp)
{
    g_autofree char *dir = g_build_filename(sysfsdev, "vfio-dev", NULL);
    g_autofree char *path = NULL;
    char **names = NULL;
    int n, fd;

    n = hostos_listdir(dir, &names);
    if (n < 0) {
        error_setg_errno(errp, errno, "%s not found", dir);
        error_append_hint(errp, "Is the device bound to vfio-pci, on a host "
                          "with VFIO device cdevs (CONFIG_VFIO_DEVICE_CDEV)?"
                          "\n");
        return -1;
    }
    for (int i = 0; i < n && !path; i++) {
        const char *num = names[i] + strlen("vfio");

        if (g_str_has_prefix(names[i], "vfio") && *num &&
            strspn(num, "0123456789") == strlen(num)) {
            path = g_strdup_printf("/dev/vfio/devices/%s", names[i]);
        }
    }
    g_strfreev(names);
    if (!path) {
        error_setg(errp, "no VFIO cdev under %s", dir);
        return -1;
    }
    fd = hostos_open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Failed to open %s", path);
    }
    return fd;
}

/* VFIO_DEVICE_ATTACH_IOMMUFD_PT; *out: the HWPT the host attached. */
static int vfio_cdev_attach_pt(VFIODevice *vbasedev, uint32_t pt_id,
                               uint32_t *out, Error **errp)
{
    struct vfio_device_attach_iommufd_pt attach = {
        .argsz = sizeof(attach), .pt_id = pt_id,
    };
    int e;

    if (hostos_ioctl(vbasedev->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
                     &attach) < 0) {
        e = errno;
        error_setg_errno(errp, e, "error attaching to IOMMUFD object %"
                         PRIu32, pt_id);
        return -e;
    }
    if (!attach.pt_id) {
        error_setg(errp, "VFIO_DEVICE_ATTACH_IOMMUFD_PT returned HWPT 0");
        return -EINVAL;
    }
    *out = attach.pt_id;
    return 0;
}

/* ------------------------------------------------------------------------
 * HWPTs
 * ------------------------------------------------------------------------ */

static VFIOIOASHwpt *vfio_hwpt_add(VFIOIOMMUFDContainer *ic, uint32_t id,
                                   uint32_t flags, bool allocated,
                                   VFIODevice *vbasedev)
{
    VFIOIOASHwpt *hwpt = NULL;

    for (GSList *l = ic->hwpts; l; l = l->next) {
        if (((VFIOIOASHwpt *)l->data)->id == id) {
            hwpt = l->data;
        }
    }
    if (!hwpt) {
        hwpt = g_new0(VFIOIOASHwpt, 1);
        hwpt->id = id;
        hwpt->flags = flags;
        hwpt->allocated = allocated;
        ic->hwpts = g_slist_append(ic->hwpts, hwpt);
    }
    hwpt->devices = g_slist_prepend(hwpt->devices, vbasedev);
    vbasedev->hwpt = hwpt;
    return hwpt;
}

/* Detaches the device from its HWPT; frees an allocated one left empty. */
static void vfio_hwpt_put(VFIOIOMMUFDContainer *ic, VFIODevice *vbasedev)
{
    struct vfio_device_detach_iommufd_pt detach = { .argsz = sizeof(detach) };
    VFIOIOASHwpt *hwpt = vbasedev->hwpt;

    if (hostos_ioctl(vbasedev->fd, VFIO_DEVICE_DETACH_IOMMUFD_PT,
                     &detach) < 0) {
        warn_report("vfio %s: detaching from HWPT %" PRIu32 " failed: %s",
                    vbasedev->name, hwpt->id, strerror(errno));
    }
    vbasedev->hwpt = NULL;
    hwpt->devices = g_slist_remove(hwpt->devices, vbasedev);
    if (hwpt->devices) {
        return;
    }
    ic->hwpts = g_slist_remove(ic->hwpts, hwpt);
    if (hwpt->allocated) {
        iommufd_be_free_id(ic->be, hwpt->id);
    }
    g_free(hwpt);
}

/*
 * A nest parent on a host whose vIOMMU reports the SPR17 quirk: keep
 * read-only ranges out of the IOAS (qemu_behaviour §3).  Decided before
 * the container's listener maps anything.
 */
static void vfio_iommufd_check_bypass_ro(VFIOIOMMUFDContainer *ic,
                                         VFIODevice *vbasedev)
{
    PCIDevice *pdev = vbasedev->owner ? (PCIDevice *)
        object_dynamic_cast(OBJECT(vbasedev->owner), TYPE_PCI_DEVICE) : NULL;
    struct iommu_hw_info_vtd vtd = { 0 };
    uint32_t type = 0;

    if (!pdev || !iommufd_be_get_device_info(ic->be, vbasedev->devid, &type,
                                             &vtd, sizeof(vtd), NULL, NULL,
                                             NULL)) {
        return;
    }
    if (pci_device_get_host_iommu_quirks(pdev, type, &vtd, sizeof(vtd)) &
        HOST_IOMMU_QUIRK_NESTING_PARENT_BYPASS_RO) {
        ic->bypass_ro = true;
    }
}

/*
 * Attaches the device to a HWPT of @ic: an existing compatible one, else
 * a new one (the automatic HWPT of the IOAS, or a nest parent).
 */
static bool vfio_iommufd_container_attach(VFIOIOMMUFDContainer *ic,
                                          VFIODevice *vbasedev,
                                          uint64_t viommu_flags,
                                          Error **errp)
{
    uint32_t want = (viommu_flags & VIOMMU_FLAG_WANT_NESTING_PARENT) ?
                    IOMMU_HWPT_ALLOC_NEST_PARENT : 0;
    uint32_t id;

    for (GSList *l = ic->hwpts; l; l = l->next) {
        VFIOIOASHwpt *hwpt = l->data;
        Error *err = NULL;
        int ret;

        if ((hwpt->flags & IOMMU_HWPT_ALLOC_NEST_PARENT) != want) {
            continue;
        }
        ret = vfio_cdev_attach_pt(vbasedev, hwpt->id, &id, &err);
        if (ret == 0) {
            vfio_hwpt_add(ic, hwpt->id, hwpt->flags, hwpt->allocated,
                          vbasedev);
            return true;
        }
        if (ret != -EINVAL) {   /* EINVAL: incompatible domain, next */
            error_propagate(errp, err);
            return false;
        }
        error_free(err);
    }

    if (!want) {
        if (vfio_cdev_attach_pt(vbasedev, ic->ioas_id, &id, errp) < 0) {
            return false;
        }
        vfio_hwpt_add(ic, id, 0, false, vbasedev);
        return true;
    }
    if (!iommufd_be_alloc_hwpt(ic->be, vbasedev->devid, ic->ioas_id, want,
                               IOMMU_HWPT_DATA_NONE, 0, NULL, &id, errp)) {
        return false;
    }
    vfio_iommufd_check_bypass_ro(ic, vbasedev);
    if (vfio_cdev_attach_pt(vbasedev, id, &id, errp) < 0) {
        iommufd_be_free_id(ic->be, id);
        return false;
    }
    vfio_hwpt_add(ic, id, want, true, vbasedev);
    return true;
}

/* ------------------------------------------------------------------------
 * Containers
 * ------------------------------------------------------------------------ */

static void vfio_iommufd_container_free(VFIOIOMMUFDContainer *ic)
{
    vfio_iommufd_containers = g_slist_remove(vfio_iommufd_containers, ic);
    vfio_container_destroy(&ic->base);
    assert(!ic->hwpts);
    iommufd_be_free_id(ic->be, ic->ioas_id);
    g_free(ic);
}

/* The IOAS's usable ranges and alignment, after an attach narrowed them. */
static void vfio_iommufd_update_ranges(VFIOIOMMUFDContainer *ic,
                                       VFIODevice *vbasedev)
{
    GList *ranges = NULL;
    uint64_t align = 0;
    Error *err = NULL;

    if (!iommufd_be_get_iova_ranges(ic->be, ic->ioas_id, &ranges, &align,
                                    &err)) {
        warn_report("vfio %s: %s. Fallback to default 64bit IOVA range and "
                    "4K page size", vbasedev->name, error_get_pretty(err));
        error_free(err);
        ranges = NULL;
        align = 4096;
    }
    /* the alignment is one power of two, at least the 4 KiB page */
    if (align < 4096 || (align & (align - 1))) {
        align = 4096;
    }
    vfio_container_set_ranges(&ic->base, ranges, align);
}

bool vfio_iommufd_attach(VFIODevice *vbasedev, AddressSpace *as,
                         uint64_t viommu_flags, Error **errp)
{
    IOMMUFDBackend *be = vbasedev->iommufd;
    struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
    HostIOMMUDeviceVFIOInfo info = { 0 };
    VFIOIOMMUFDContainer *ic = NULL;
    bool new_container = false;

    if (!iommufd_be_connect(be, errp)) {
        return false;
    }
    vbasedev->connected = true;
    if (vbasedev->passed_fd >= 0) {
        vbasedev->fd = vbasedev->passed_fd;
        vbasedev->passed_fd = -1;
    } else {
        vbasedev->fd = vfio_cdev_open(vbasedev->sysfsdev, errp);
        if (vbasedev->fd < 0) {
            goto fail;
        }
    }
    bind.iommufd = be->fd;
    if (hostos_ioctl(vbasedev->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind) < 0) {
        error_setg_errno(errp, errno, "error binding to iommufd");
        goto fail;
    }
    if (!bind.out_devid) {
        error_setg(errp, "VFIO_DEVICE_BIND_IOMMUFD returned device id 0");
        goto fail;
    }
    vbasedev->devid = bind.out_devid;

    /* a container of this space and backend that takes the device */
    for (GSList *l = vfio_iommufd_containers; l; l = l->next) {
        VFIOIOMMUFDContainer *c = l->data;

        if (c->base.as == as && c->be == be &&
            vfio_iommufd_container_attach(c, vbasedev, viommu_flags, NULL)) {
            ic = c;
            break;
        }
    }
    if (!ic) {
        uint32_t ioas_id;

        if (!iommufd_be_alloc_ioas(be, &ioas_id, errp)) {
            goto fail;
        }
        ic = g_new0(VFIOIOMMUFDContainer, 1);
        vfio_container_init(&ic->base, &vfio_iommufd_ops, as);
        ic->be = be;
        ic->ioas_id = ioas_id;
        vfio_iommufd_containers = g_slist_prepend(vfio_iommufd_containers,
                                                  ic);
        new_container = true;
        if (!vfio_iommufd_container_attach(ic, vbasedev, viommu_flags,
                                           errp)) {
            vfio_iommufd_container_free(ic);
            goto fail;
        }
    }
    vbasedev->container = &ic->base;
    ic->base.devices = g_slist_prepend(ic->base.devices, vbasedev);
    vfio_iommufd_update_ranges(ic, vbasedev);
    if (new_container && !vfio_container_listen(&ic->base, errp)) {
        goto fail;
    }

    info.iommufd = be;
    info.devid = vbasedev->devid;
    info.hwpt_id = vbasedev->hwpt->id;
    info.ioas_id = ic->ioas_id;
    info.devfd = vbasedev->fd;
    if (!vfio_device_hiod_create(vbasedev,
                                 TYPE_HOST_IOMMU_DEVICE_IOMMUFD_VFIO, &info,
                                 errp)) {
        goto fail;
    }
    return true;

fail:
    vfio_iommufd_detach(vbasedev);
    return false;
}

void vfio_iommufd_detach(VFIODevice *vbasedev)
{
    VFIOContainer *c = vbasedev->container;
    VFIOIOMMUFDContainer *ic = c ? iommufd_container(c) : NULL;

    if (vbasedev->hiod) {
        object_unref(vbasedev->hiod);
        vbasedev->hiod = NULL;
    }
    if (ic) {
        c->devices = g_slist_remove(c->devices, vbasedev);
        if (!c->devices) {
            /* while attached: the mappings go with the listener */
            vfio_container_unlisten(c);
        }
        if (vbasedev->hwpt) {
            vfio_hwpt_put(ic, vbasedev);
        }
        if (!c->devices) {
            vfio_iommufd_container_free(ic);
        }
        vbasedev->container = NULL;
    }
    if (vbasedev->fd >= 0) {
        hostos_close(vbasedev->fd);     /* unbinds the device */
        vbasedev->fd = -1;
    }
    vbasedev->devid = 0;
    if (vbasedev->connected) {
        iommufd_be_disconnect(vbasedev->iommufd);
        vbasedev->connected = false;
    }
}
