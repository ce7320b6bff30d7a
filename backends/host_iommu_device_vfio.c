/*
 * The host IOMMU device classes of VFIO devices:
 *   host-iommu-device-legacy-vfio   a device in a legacy (type1) container
 *   host-iommu-device-iommufd-vfio  a device cdev bound to an iommufd
 *
 * Both realize from a HostIOMMUDeviceVFIOInfo the VFIO container fills
 * right after attaching the device (include/system/host_iommu_device.h):
 * name, usable IOVA ranges, page sizes; for iommufd also the backend,
 * device id, default HWPT and the cdev fd.  Realize keeps a snapshot (the
 * ranges are deep-copied), so the info may live on the caller's stack.
 */
#include <errno.h>
#include <inttypes.h>
#include <unistd.h>

#include "system/host_iommu_device.h"
#include "system/iommufd.h"
#include "host/hostos.h"
#include "linux-vfio.h"

/* What both classes keep from the container. */
typedef struct HIODVFIOData {
    GList *iova_ranges;         /* Range *, owned */
    uint64_t pgsizes;
} HIODVFIOData;

typedef struct HostIOMMUDeviceLegacyVFIO {
    HostIOMMUDevice parent_obj;
    HIODVFIOData vfio;
} HostIOMMUDeviceLegacyVFIO;

typedef struct HostIOMMUDeviceIOMMUFDVFIO {
    HostIOMMUDeviceIOMMUFD parent_obj;
    HIODVFIOData vfio;
    int devfd;                  /* the cdev; not owned */
} HostIOMMUDeviceIOMMUFDVFIO;

DECLARE_INSTANCE_CHECKER(HostIOMMUDeviceLegacyVFIO, HIOD_LEGACY_VFIO,
                         TYPE_HOST_IOMMU_DEVICE_LEGACY_VFIO)
DECLARE_INSTANCE_CHECKER(HostIOMMUDeviceIOMMUFDVFIO, HIOD_IOMMUFD_VFIO,
                         TYPE_HOST_IOMMU_DEVICE_IOMMUFD_VFIO)

static HIODVFIOData *hiod_vfio_data(HostIOMMUDevice *hiod)
{
    if (object_dynamic_cast(OBJECT(hiod),
                            TYPE_HOST_IOMMU_DEVICE_LEGACY_VFIO)) {
        return &HIOD_LEGACY_VFIO(hiod)->vfio;
    }
    return &HIOD_IOMMUFD_VFIO(hiod)->vfio;
}

/*
 * The part of realize both classes share: the name, the agent and a
 * checked copy of the container's ranges (each lob <= upb, sorted,
 * disjoint: a vIOMMU inverts this list into reserved regions).
 */
static bool hiod_vfio_realize_common(HostIOMMUDevice *hiod,
                                     const HostIOMMUDeviceVFIOInfo *info,
                                     Error **errp)
{
    HIODVFIOData *d = hiod_vfio_data(hiod);
    const Range *bad;

    if (!info || !info->name || !info->name[0]) {
        error_setg(errp, "%s: realize needs a VFIO device name",
                   object_get_typename(OBJECT(hiod)));
        return false;
    }
    bad = range_list_find_invalid(info->iova_ranges);
    if (bad) {
        error_setg(errp, "%s: invalid host IOVA range 0x%" PRIx64 "-0x%"
                   PRIx64, info->name, bad->lob, bad->upb);
        return false;
    }
    /* a realize that failed half-way may be retried */
    g_free(hiod->name);
    hiod->name = g_strdup(info->name);
    hiod->agent = info->agent;
    range_list_free(d->iova_ranges);
    d->iova_ranges = range_list_copy(info->iova_ranges);
    /* unknown page sizes: the host's page, as the kernel's minimum */
    d->pgsizes = info->pgsizes ? info->pgsizes
                               : (uint64_t)sysconf(_SC_PAGESIZE);
    return true;
}

static GList *hiod_vfio_get_iova_ranges(HostIOMMUDevice *hiod)
{
    return range_list_copy(hiod_vfio_data(hiod)->iova_ranges);
}

static uint64_t hiod_vfio_get_page_size_mask(HostIOMMUDevice *hiod)
{
    return hiod_vfio_data(hiod)->pgsizes;
}

static void hiod_vfio_data_free(HIODVFIOData *d)
{
    range_list_free(d->iova_ranges);
    d->iova_ranges = NULL;
}

/* ------------------------------------------------------------------------
 * host-iommu-device-legacy-vfio
 * ------------------------------------------------------------------------ */

static bool hiod_legacy_vfio_realize(HostIOMMUDevice *hiod, void *agent,
                                     Error **errp)
{
    return hiod_vfio_realize_common(hiod, agent, errp);
}

/*
 * Type1 reports ranges and page sizes only: AW_BITS is answered, the
 * hw-info keys are 0 (no nesting, no HWPT dirty tracking, no PASID, no
 * errata known), and IOMMU_TYPE is unsupported, as in QEMU.
 */
static int hiod_legacy_vfio_get_cap(HostIOMMUDevice *hiod, int cap,
                                    Error **errp)
{
    switch (cap) {
    case HOST_IOMMU_DEVICE_CAP_AW_BITS:
        return host_iommu_device_aw_bits(hiod_vfio_data(hiod)->iova_ranges);
    case HOST_IOMMU_DEVICE_CAP_NESTING:
    case HOST_IOMMU_DEVICE_CAP_FS1GP:
    case HOST_IOMMU_DEVICE_CAP_DIRTY_TRACKING:
    case HOST_IOMMU_DEVICE_CAP_PASID_BITS:
    case HOST_IOMMU_DEVICE_CAP_ERRATA:
        return 0;
    default:
        error_setg(errp, "%s: unsupported capability %x", hiod->name, cap);
        return -EINVAL;
    }
}

static void hiod_legacy_vfio_finalize(Object *obj)
{
    hiod_vfio_data_free(&HIOD_LEGACY_VFIO(obj)->vfio);
}

static void hiod_legacy_vfio_class_init(ObjectClass *klass, const void *data)
{
    HostIOMMUDeviceClass *hiodc = HOST_IOMMU_DEVICE_CLASS(klass);

    hiodc->realize = hiod_legacy_vfio_realize;
    hiodc->get_cap = hiod_legacy_vfio_get_cap;
    hiodc->get_iova_ranges = hiod_vfio_get_iova_ranges;
    hiodc->get_page_size_mask = hiod_vfio_get_page_size_mask;
}

/* ------------------------------------------------------------------------
 * host-iommu-device-iommufd-vfio
 * ------------------------------------------------------------------------ */

static bool hiod_iommufd_vfio_realize(HostIOMMUDevice *hiod, void *agent,
                                      Error **errp)
{
    HostIOMMUDeviceIOMMUFDVFIO *v = HIOD_IOMMUFD_VFIO(hiod);
    const HostIOMMUDeviceVFIOInfo *info = agent;

    if (!hiod_vfio_realize_common(hiod, info, errp)) {
        return false;
    }
    if (info->devfd < 0) {
        error_setg(errp, "%s: realize needs the VFIO device fd", hiod->name);
        return false;
    }
    v->devfd = info->devfd;
    HOST_IOMMU_DEVICE_IOMMUFD(hiod)->ioas_id = info->ioas_id;
    /* the IDs exist already: the container attached before creating us */
    return host_iommu_device_iommufd_setup(HOST_IOMMU_DEVICE_IOMMUFD(hiod),
                                           info->iommufd, info->devid,
                                           info->hwpt_id, errp);
}

static bool hiod_iommufd_vfio_attach_hwpt(HostIOMMUDeviceIOMMUFD *idev,
                                          uint32_t hwpt_id, Error **errp)
{
    HostIOMMUDeviceIOMMUFDVFIO *v = HIOD_IOMMUFD_VFIO(idev);
    struct vfio_device_attach_iommufd_pt attach = {
        .argsz = sizeof(attach), .pt_id = hwpt_id,
    };

    if (hostos_ioctl(v->devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach) < 0) {
        error_setg_errno(errp, errno, "%s: VFIO_DEVICE_ATTACH_IOMMUFD_PT "
                         "(pt_id %" PRIu32 ") failed",
                         HOST_IOMMU_DEVICE(idev)->name, hwpt_id);
        return false;
    }
    return true;
}

static bool hiod_iommufd_vfio_detach_hwpt(HostIOMMUDeviceIOMMUFD *idev,
                                          Error **errp)
{
    HostIOMMUDeviceIOMMUFDVFIO *v = HIOD_IOMMUFD_VFIO(idev);
    struct vfio_device_detach_iommufd_pt detach = {
        .argsz = sizeof(detach),
    };

    if (hostos_ioctl(v->devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach) < 0) {
        error_setg_errno(errp, errno, "%s: VFIO_DEVICE_DETACH_IOMMUFD_PT "
                         "failed", HOST_IOMMU_DEVICE(idev)->name);
        return false;
    }
    return true;
}

static void hiod_iommufd_vfio_init(Object *obj)
{
    HIOD_IOMMUFD_VFIO(obj)->devfd = -1;
}

static void hiod_iommufd_vfio_finalize(Object *obj)
{
    hiod_vfio_data_free(&HIOD_IOMMUFD_VFIO(obj)->vfio);
}

static void hiod_iommufd_vfio_class_init(ObjectClass *klass,
                                         const void *data)
{
    HostIOMMUDeviceClass *hiodc = HOST_IOMMU_DEVICE_CLASS(klass);
    HostIOMMUDeviceIOMMUFDClass *idevc =
        HOST_IOMMU_DEVICE_IOMMUFD_CLASS(klass);

    /* get_cap and get_pasid_info: the iommufd class's, from hw-info */
    hiodc->realize = hiod_iommufd_vfio_realize;
    hiodc->get_iova_ranges = hiod_vfio_get_iova_ranges;
    hiodc->get_page_size_mask = hiod_vfio_get_page_size_mask;
    idevc->attach_hwpt = hiod_iommufd_vfio_attach_hwpt;
    idevc->detach_hwpt = hiod_iommufd_vfio_detach_hwpt;
}

static const TypeInfo hiod_vfio_types[] = {
    {
        .name = TYPE_HOST_IOMMU_DEVICE_LEGACY_VFIO,
        .parent = TYPE_HOST_IOMMU_DEVICE,
        .instance_size = sizeof(HostIOMMUDeviceLegacyVFIO),
        .instance_finalize = hiod_legacy_vfio_finalize,
        .class_init = hiod_legacy_vfio_class_init,
    },
    {
        .name = TYPE_HOST_IOMMU_DEVICE_IOMMUFD_VFIO,
        .parent = TYPE_HOST_IOMMU_DEVICE_IOMMUFD,
        .instance_size = sizeof(HostIOMMUDeviceIOMMUFDVFIO),
        .instance_init = hiod_iommufd_vfio_init,
        .instance_finalize = hiod_iommufd_vfio_finalize,
        .class_init = hiod_iommufd_vfio_class_init,
    },
};

DEFINE_TYPES(hiod_vfio_types)
