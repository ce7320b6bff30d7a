/*
 * PCI host bridges: configuration mechanism #1 (CF8/CFC), PCIe ECAM, and
 * the part of firmware that viommu does itself (it boots without a BIOS).
 *
 * CONFIG_ADDRESS (0xcf8) latches only 32-bit writes, keeping all bits;
 * reads return the latch.  CONFIG_DATA (0xcfc-0xcff) accesses register
 * (CONFIG_ADDRESS | (port & 3)) & 0xff of the addressed function when bit
 * 31 is set; with it clear, or with no function there, reads give
 * all-ones and writes are dropped (PCI Local Bus 3.0, 3.2.2.3.2).
 *
 * ECAM (PCIe Base 4.0, 7.2.2): bus << 20 | device << 15 | function << 12 |
 * register, 1/2/4-byte naturally aligned accesses.
 */
#ifndef HW_PCI_PCI_HOST_H
#define HW_PCI_PCI_HOST_H

#include "hw/pci/pci_bus.h"

#define TYPE_PCI_HOST_BRIDGE "pci-host-bridge"

#define PCI_HOST_CONFIG_ADDR    0xcf8
#define PCI_HOST_CONFIG_DATA    0xcfc
#define PCI_CONFIG_ENABLE       0x80000000u

typedef struct PCIHostState {
    DeviceState parent_obj;
    PCIBus *bus;                /* the root bus */
    uint32_t config_reg;        /* CONFIG_ADDRESS latch */
    MemoryRegion conf_mem;      /* 0xcf8, 4 bytes */
    MemoryRegion data_mem;      /* 0xcfc, 4 bytes */
    bool conf_mapped;
    /* ECAM window, mapped in system memory while enabled. */
    MemoryRegion mmcfg;
    hwaddr mmcfg_base;
    uint64_t mmcfg_size;        /* 0 while unmapped */
} PCIHostState;

DECLARE_INSTANCE_CHECKER(PCIHostState, PCI_HOST_BRIDGE, TYPE_PCI_HOST_BRIDGE)

/* Maps CF8/CFC into the system I/O space (host realize). */
void pci_host_conf_register(PCIHostState *h);
void pci_host_conf_unregister(PCIHostState *h);
/* Maps the ECAM window at base (size 64, 128 or 256 MiB) or unmaps it. */
void pcie_host_mmcfg_update(PCIHostState *h, bool enable, hwaddr base,
                            uint64_t size);

/*
 * Firmware duties at machine reset: ECAM is the machine's business; this
 * numbers the buses behind bridges depth first, assigns BARs and bridge
 * windows from the given ranges, sets the interrupt line register to
 * irq_base + the root bus interrupt the INTx pin reaches, and enables
 * memory and I/O decode (not bus mastering).  See docs/pci.md.
 */
typedef struct PCIFirmwareLayout {
    pcibus_t mem32_base, mem32_end;     /* [base, end) for memory BARs */
    pcibus_t mem64_base, mem64_end;     /* 64-bit BARs that did not fit */
    pcibus_t io_base, io_end;           /* I/O BARs */
    int irq_base;
} PCIFirmwareLayout;

void pci_firmware_setup(PCIBus *root, const PCIFirmwareLayout *layout);

#endif
