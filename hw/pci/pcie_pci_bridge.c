/*
 * The PCIe-to-PCI bridge "pcie-pci-bridge" (QEMU's 1b36:000e): a PCI
 * Express function whose PCIe capability says PCI/PCI-X bridge, in front
 * of a conventional PCI bus.  The bridge part (bus numbers, windows,
 * configuration forwarding, Secondary Bus Reset) is hw/pci/pci_bridge.c.
 *
 * What the conventional bus changes is the requester ID: the bridge takes
 * ownership of the transactions of the devices behind it and issues them
 * with (secondary bus, 00.0) (PCIe-to-PCI/PCI-X Bridge 1.0, 2.3); the PCI
 * core applies that alias (pci_device_iommu_alias()).
 *
 * QEMU's bridge has an SHPC hot-plug controller, MSI and AER; this one has
 * none of them.  Its bus accepts device_add at once, with no event to the
 * guest (which finds the device by rescanning), and device_del removes a
 * device at once.  The bridge itself is cold plugged only: vIOMMUs keep
 * address spaces keyed by its secondary bus.
 */
#include "hw/pci/pcie_port.h"
#include "system/qdev-monitor.h"

static bool pcie_pci_bridge_realize(PCIDevice *d, Error **errp)
{
    pci_bridge_initfn(d, TYPE_PCI_BUS);
    if (pcie_cap_init(d, PCI_EXP_TYPE_PCI_BRIDGE, 0, errp) < 0) {
        pci_bridge_exitfn(d);
        return false;
    }
    qbus_set_hotplug_handler(&PCI_BRIDGE(d)->sec_bus->qbus, OBJECT(d));
    return true;
}

/* Hot-plug handler of the secondary bus: no controller, no events. */

static bool pcie_pci_bridge_unplug_request(HotplugHandler *h,
                                           DeviceState *dev, Error **errp)
{
    qdev_unplug_finish(dev);
    return true;
}

static void pcie_pci_bridge_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *pc = PCI_DEVICE_CLASS(klass);
    HotplugHandlerClass *hc =
        (HotplugHandlerClass *)object_class_dynamic_cast(klass,
                                                         TYPE_HOTPLUG_HANDLER);

    dc->desc = "Red Hat PCIe-to-PCI bridge";
    dc->category = DEVICE_CATEGORY_BRIDGE;
    dc->hotpluggable = false;
    pc->realize = pcie_pci_bridge_realize;
    pc->exit = pci_bridge_exitfn;
    pc->reset = pci_bridge_reset;
    pc->config_write = pci_bridge_write_config;
    pc->vendor_id = PCI_VENDOR_ID_REDHAT;
    pc->device_id = PCI_DEVICE_ID_REDHAT_PCIE_BRIDGE;
    pc->class_id = PCI_CLASS_BRIDGE_PCI;
    pc->is_bridge = true;
    pc->is_express = true;
    hc->unplug_request = pcie_pci_bridge_unplug_request;
}

static const TypeInfo pcie_pci_bridge_types[] = {
    {
        .name = TYPE_PCIE_PCI_BRIDGE,
        .parent = TYPE_PCI_BRIDGE,
        .instance_size = sizeof(PCIBridge),
        .class_init = pcie_pci_bridge_class_init,
        .interfaces = (const InterfaceInfo[]) {
            { TYPE_HOTPLUG_HANDLER },
            { NULL },
        },
    },
};

DEFINE_TYPES(pcie_pci_bridge_types)
