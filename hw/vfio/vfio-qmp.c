/*
 * query-host-iommu-devices (qapi/host-iommu.json): every host IOMMU
 * device below /machine, with what its host IOMMU reports, the vIOMMU its
 * agent sits behind and whether that vIOMMU accepted it.
 */
#include "hw/boards.h"
#include "hw/pci/pci_bus.h"
#include "hw/vfio/vfio-device.h"
#include "system/host_iommu_device.h"
#include "system/iommufd.h"
#include "qapi/qapi-commands.h"

typedef struct HiodList {
    HostIOMMUDeviceInfoList *head, **tail;
} HiodList;

static HostIOMMUType hiod_type(uint32_t type)
{
    switch (type) {
    case IOMMU_HW_INFO_TYPE_INTEL_VTD:
        return HOST_IOMMU_TYPE_INTEL_VTD;
    case IOMMU_HW_INFO_TYPE_ARM_SMMUV3:
        return HOST_IOMMU_TYPE_ARM_SMMUV3;
    default:
        return HOST_IOMMU_TYPE_NONE;
    }
}

/* The vIOMMU registered on @pdev's root bus, or NULL. */
static Object *hiod_viommu(PCIDevice *pdev)
{
    PCIBus *bus = pci_get_bus(pdev);

    while (bus && !pci_bus_is_root(bus) && bus->parent_dev) {
        bus = pci_get_bus(bus->parent_dev);
    }
    /* intel-iommu and virtio-iommu register themselves as the opaque */
    if (!bus || !bus->iommu_ops || !bus->iommu_opaque) {
        return NULL;
    }
    return OBJECT(bus->iommu_opaque);
}

static void hiod_fill_agent(HostIOMMUDeviceInfo *info, HostIOMMUDevice *hiod,
                            Object *obj)
{
    Object *agent = obj->parent;
    VFIODevice *vbasedev = hiod->agent;
    PCIDevice *pdev;

    if (vbasedev && vbasedev->owner) {
        agent = vbasedev->owner;
    }
    info->agent = agent ? object_get_canonical_path(agent) : g_strdup("");
    if (!agent) {
        return;
    }
    if (object_dynamic_cast(agent, TYPE_DEVICE) &&
        qdev_get_id(DEVICE(agent))) {
        info->agent_id = g_strdup(qdev_get_id(DEVICE(agent)));
    }
    info->accepted = object_property_find(agent, "x-iommu-accepted") &&
                     object_property_get_bool(agent, "x-iommu-accepted",
                                              NULL);
    pdev = (PCIDevice *)object_dynamic_cast(agent, TYPE_PCI_DEVICE);
    if (pdev) {
        Object *viommu = hiod_viommu(pdev);

        if (viommu) {
            info->viommu = object_get_canonical_path(viommu);
        }
    }
}

static int hiod_collect(Object *obj, void *opaque)
{
    HiodList *l = opaque;
    HostIOMMUDevice *hiod =
        (HostIOMMUDevice *)object_dynamic_cast(obj, TYPE_HOST_IOMMU_DEVICE);
    HostIOMMUDeviceIOMMUFD *idev;
    HostIOMMUDeviceInfo *info;
    HostIOVARangeList **rtail;
    GList *ranges;
    int aw;

    if (!hiod) {
        return 0;
    }
    info = g_new0(HostIOMMUDeviceInfo, 1);
    info->qom_path = object_get_canonical_path(obj);
    info->name = g_strdup(hiod->name ? hiod->name : "");
    hiod_fill_agent(info, hiod, obj);
    idev = (HostIOMMUDeviceIOMMUFD *)
        object_dynamic_cast(obj, TYPE_HOST_IOMMU_DEVICE_IOMMUFD);
    info->backend = idev ? HOST_IOMMU_BACKEND_IOMMUFD
                         : HOST_IOMMU_BACKEND_LEGACY;
    info->iommu_type = hiod_type(hiod->caps.type);
    aw = host_iommu_device_get_cap(hiod, HOST_IOMMU_DEVICE_CAP_AW_BITS, NULL);
    info->aw_bits = aw > 0 ? aw : 0;
    info->hw_caps = hiod->caps.hw_caps;
    if (hiod->caps.type == IOMMU_HW_INFO_TYPE_INTEL_VTD) {
        info->has_vtd_cap = info->has_vtd_ecap = true;
        info->vtd_cap = hiod->caps.vendor_caps.vtd.cap_reg;
        info->vtd_ecap = hiod->caps.vendor_caps.vtd.ecap_reg;
    }
    ranges = host_iommu_device_get_iova_ranges(hiod);
    rtail = &info->iova_ranges;
    for (GList *r = ranges; r; r = r->next) {
        Range *range = r->data;
        HostIOVARange *v = g_new0(HostIOVARange, 1);

        v->start = range->lob;
        v->end = range->upb;
        *rtail = g_new0(HostIOVARangeList, 1);
        (*rtail)->value = v;
        rtail = &(*rtail)->next;
    }
    range_list_free(ranges);
    info->page_size_mask = host_iommu_device_get_page_size_mask(hiod);
    if (idev) {
        info->has_devid = info->has_hwpt_id = true;
        info->devid = idev->devid;
        info->hwpt_id = idev->hwpt_id;
        info->has_ioas_id = idev->ioas_id != 0;
        info->ioas_id = idev->ioas_id;
        info->has_nested_hwpt_id = info->has_first_stage_table =
            idev->nested_hwpt_id != 0;
        info->nested_hwpt_id = idev->nested_hwpt_id;
        info->first_stage_table = idev->first_stage_table;
    }
    *l->tail = g_new0(HostIOMMUDeviceInfoList, 1);
    (*l->tail)->value = info;
    l->tail = &(*l->tail)->next;
    return 0;
}

HostIOMMUDeviceInfoList *qmp_query_host_iommu_devices(Error **errp)
{
    HiodList l = { NULL, &l.head };
    Object *machine = qdev_get_machine();

    if (machine) {
        object_child_foreach_recursive(machine, hiod_collect, &l);
    }
    return l.head;
}
