/*
 * PCI buses and PCI-to-PCI bridges.
 *
 * A root bus belongs to a host bridge; every other bus is the secondary
 * bus of a bridge (a PCIe root port, or a PCIe-to-PCI bridge whose bus is
 * conventional) and is that bridge's qdev child bus.  Each bus has a
 * memory and an I/O space where the BARs of its devices are mapped: the
 * host bridge's for the root bus, containers of the bridge for a secondary
 * bus, which the bridge shows in its parent bus's spaces through its
 * forwarding windows (PCI-PCI Bridge 1.2, 4.3).
 *
 * INTx: a bus maps a device pin to an interrupt of the bus (map_irq); a
 * secondary bus swizzles and passes the result up through its bridge; the
 * root bus counts the devices asserting each of its interrupts and drives
 * set_irq with the wired-OR.
 */
#ifndef HW_PCI_PCI_BUS_H
#define HW_PCI_PCI_BUS_H

#include "hw/pci/pci.h"

struct PCIBus {
    BusState qbus;
    PCIDevice *devices[PCI_DEVFN_MAX];   /* realized devices by devfn */
    PCIDevice *parent_dev;      /* the bridge of a secondary bus */
    MemoryRegion *address_space_mem;
    MemoryRegion *address_space_io;

    pci_map_irq_fn map_irq;
    pci_set_irq_fn set_irq;     /* root bus only */
    void *irq_opaque;
    int nirq;
    int *irq_count;             /* root bus: devices asserting each irq */

    const PCIIOMMUOps *iommu_ops;   /* root bus only */
    void *iommu_opaque;
};

DECLARE_INSTANCE_CHECKER(PCIBus, PCI_BUS, TYPE_PCI_BUS)

/*
 * Creates a root bus named name as a child of parent (a host bridge).
 * mem and io are the spaces BARs of its devices map into; typename is
 * TYPE_PCI_BUS or TYPE_PCIE_BUS.
 */
PCIBus *pci_root_bus_new(DeviceState *parent, const char *name,
                         MemoryRegion *mem, MemoryRegion *io,
                         const char *typename);
/* Routing of the root bus's nirq interrupts. */
void pci_bus_irqs(PCIBus *bus, pci_set_irq_fn set_irq, void *irq_opaque,
                  int nirq);
void pci_bus_map_irqs(PCIBus *bus, pci_map_irq_fn map_irq);

/* --- Bridges (hw/pci/pci_bridge.c) ---------------------------------------- */

#define TYPE_PCI_BRIDGE "base-pci-bridge"

/* Each alias is initialised exactly while its *_mapped flag is set. */
typedef struct PCIBridgeWindows {
    MemoryRegion alias_io;      /* secondary I/O space, in the parent's */
    MemoryRegion alias_mem;     /* secondary memory, non-prefetchable */
    MemoryRegion alias_pref;    /* secondary memory, prefetchable */
    bool io_mapped, mem_mapped, pref_mapped;
} PCIBridgeWindows;

typedef struct PCIBridge {
    PCIDevice parent_obj;
    PCIBus *sec_bus;            /* QOM child of the bridge */
    char *bus_name;
    MemoryRegion sec_mem;       /* container: BARs behind the bridge */
    MemoryRegion sec_io;
    PCIBridgeWindows windows;
} PCIBridge;

DECLARE_INSTANCE_CHECKER(PCIBridge, PCI_BRIDGE, TYPE_PCI_BRIDGE)

/*
 * For bridge models: creates the secondary bus (named after the device id,
 * or "pci.N" / "pcie.N") of type bus_type, sets up the type 1 header and the
 * windows.  Undone by pci_bridge_exitfn().
 */
void pci_bridge_initfn(PCIDevice *dev, const char *bus_type);
void pci_bridge_exitfn(PCIDevice *dev);
/* config_write of bridges: default write, then windows and bus reset. */
void pci_bridge_write_config(PCIDevice *dev, uint32_t addr, uint32_t val,
                             int len);
/* Reset hook part: windows follow the restored registers. */
void pci_bridge_reset(PCIDevice *dev);
/* Decoded windows: *base > *limit when closed. */
void pci_bridge_get_io_window(PCIDevice *dev, pcibus_t *base,
                              pcibus_t *limit);
void pci_bridge_get_mem_window(PCIDevice *dev, pcibus_t *base,
                               pcibus_t *limit);
void pci_bridge_get_pref_window(PCIDevice *dev, pcibus_t *base,
                                pcibus_t *limit);

#endif
