/*
 * query-pci: every root bus with its functions, BARs and the buses behind
 * bridges (qapi/pci.json).  BAR addresses are where the BARs are mapped
 * now, -1 when not mapped.
 */
#include "hw/pci/pci_bus.h"
#include "hw/boards.h"
#include "qapi/qapi-commands.h"

static const struct {
    uint16_t class_id;
    const char *desc;
} pci_class_names[] = {
    { PCI_CLASS_STORAGE_SCSI, "SCSI controller" },
    { PCI_CLASS_STORAGE_SATA, "SATA controller" },
    { PCI_CLASS_NETWORK_ETHERNET, "Ethernet controller" },
    { PCI_CLASS_DISPLAY_VGA, "VGA controller" },
    { PCI_CLASS_BRIDGE_HOST, "Host bridge" },
    { PCI_CLASS_BRIDGE_ISA, "ISA bridge" },
    { PCI_CLASS_BRIDGE_PCI, "PCI bridge" },
    { PCI_CLASS_BRIDGE_OTHER, "Bridge" },
    { PCI_CLASS_SYSTEM_IOMMU, "IOMMU" },
    { PCI_CLASS_SYSTEM_OTHER, "System peripheral" },
    { PCI_CLASS_SERIAL_SMBUS, "SMBus" },
};

static PciDeviceInfoList *qmp_query_pci_devices(PCIBus *bus);

static PciMemoryRange *pci_range(pcibus_t base, pcibus_t limit)
{
    PciMemoryRange *r = g_new0(PciMemoryRange, 1);

    r->base = base;
    r->limit = limit;
    return r;
}

static PciBridgeInfo *qmp_query_pci_bridge(PCIDevice *d, PCIBus *sec)
{
    PciBridgeInfo *info = g_new0(PciBridgeInfo, 1);
    PciBusInfo *b = g_new0(PciBusInfo, 1);
    pcibus_t base, limit;

    b->number = d->config[PCI_PRIMARY_BUS];
    b->secondary = d->config[PCI_SECONDARY_BUS];
    b->subordinate = d->config[PCI_SUBORDINATE_BUS];
    pci_bridge_get_io_window(d, &base, &limit);
    b->io_range = pci_range(base, limit);
    pci_bridge_get_mem_window(d, &base, &limit);
    b->memory_range = pci_range(base, limit);
    pci_bridge_get_pref_window(d, &base, &limit);
    b->prefetchable_range = pci_range(base, limit);
    info->bus = b;
    info->devices = qmp_query_pci_devices(sec);
    return info;
}

static PciMemoryRegionList *qmp_query_pci_regions(PCIDevice *d)
{
    PciMemoryRegionList *head = NULL, **tail = &head;

    for (int i = 0; i < PCI_NUM_REGIONS; i++) {
        PCIIORegion *r = &d->io_regions[i];
        PciMemoryRegion *region;

        if (!r->size) {
            continue;
        }
        region = g_new0(PciMemoryRegion, 1);
        region->bar = i;
        region->address = (int64_t)r->addr;
        region->size = r->size;
        if (r->type & PCI_BASE_ADDRESS_SPACE_IO) {
            region->type = g_strdup("io");
        } else {
            region->type = g_strdup("memory");
            region->has_prefetch = true;
            region->prefetch = r->type & PCI_BASE_ADDRESS_MEM_PREFETCH;
            region->has_mem_type_64 = true;
            region->mem_type_64 = r->type & PCI_BASE_ADDRESS_MEM_TYPE_64;
        }
        *tail = g_new0(PciMemoryRegionList, 1);
        (*tail)->value = region;
        tail = &(*tail)->next;
    }
    return head;
}

static PciDeviceInfo *qmp_query_pci_device(PCIBus *bus, PCIDevice *d)
{
    PciDeviceInfo *info = g_new0(PciDeviceInfo, 1);
    uint16_t class_id = pci_get_word(d->config + PCI_CLASS_DEVICE);
    uint8_t pin = d->config[PCI_INTERRUPT_PIN];
    PCIBus *sec = pci_bridge_get_sec_bus(d);

    info->bus = pci_bus_num(bus);
    info->slot = PCI_SLOT(d->devfn);
    info->function = PCI_FUNC(d->devfn);
    info->class_info = g_new0(PciDeviceClass, 1);
    info->class_info->class = class_id;
    for (size_t i = 0; i < G_N_ELEMENTS(pci_class_names); i++) {
        if (pci_class_names[i].class_id == class_id) {
            info->class_info->desc = g_strdup(pci_class_names[i].desc);
        }
    }
    info->id = g_new0(PciDeviceId, 1);
    info->id->vendor = pci_get_word(d->config + PCI_VENDOR_ID);
    info->id->device = pci_get_word(d->config + PCI_DEVICE_ID);
    if ((d->config[PCI_HEADER_TYPE] & ~PCI_HEADER_TYPE_MULTI_FUNCTION) ==
        PCI_HEADER_TYPE_NORMAL) {
        info->id->has_subsystem = info->id->has_subsystem_vendor = true;
        info->id->subsystem = pci_get_word(d->config + PCI_SUBSYSTEM_ID);
        info->id->subsystem_vendor =
            pci_get_word(d->config + PCI_SUBSYSTEM_VENDOR_ID);
    }
    info->irq_pin = pin;
    if (pin) {
        info->has_irq = true;
        info->irq = d->config[PCI_INTERRUPT_LINE];
    }
    info->qdev_id = g_strdup(d->qdev.id ? d->qdev.id : "");
    if (sec) {
        info->pci_bridge = qmp_query_pci_bridge(d, sec);
    }
    info->regions = qmp_query_pci_regions(d);
    return info;
}

static PciDeviceInfoList *qmp_query_pci_devices(PCIBus *bus)
{
    PciDeviceInfoList *head = NULL, **tail = &head;

    for (int devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
        if (bus->devices[devfn]) {
            *tail = g_new0(PciDeviceInfoList, 1);
            (*tail)->value = qmp_query_pci_device(bus, bus->devices[devfn]);
            tail = &(*tail)->next;
        }
    }
    return head;
}

typedef struct RootBusList {
    PciInfoList *head, **tail;
} RootBusList;

static int qmp_query_pci_root(Object *obj, void *opaque)
{
    RootBusList *l = opaque;
    PCIBus *bus = (PCIBus *)object_dynamic_cast(obj, TYPE_PCI_BUS);
    PciInfo *info;

    if (!bus || !pci_bus_is_root(bus)) {
        return 0;
    }
    info = g_new0(PciInfo, 1);
    info->bus = pci_bus_num(bus);
    info->devices = qmp_query_pci_devices(bus);
    *l->tail = g_new0(PciInfoList, 1);
    (*l->tail)->value = info;
    l->tail = &(*l->tail)->next;
    return 0;
}

PciInfoList *qmp_query_pci(Error **errp)
{
    RootBusList l = { NULL, &l.head };
    Object *machine = qdev_get_machine();

    if (machine) {
        object_child_foreach_recursive(machine, qmp_query_pci_root, &l);
    }
    return l.head;
}
