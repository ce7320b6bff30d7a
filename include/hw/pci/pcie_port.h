/*
 * PCI Express capability, the PCIe root port ("pcie-root-port") and the
 * PCIe-to-PCI bridge ("pcie-pci-bridge").
 *
 * The root port is a PCI-to-PCI bridge (1b36:000c, class 0x0604) with a
 * PCIe capability (v2, root port, slot implemented) and one MSI-X vector
 * in BAR0.  Its slot is hot-pluggable: device_add DRIVER,bus=<port id>
 * plugs a device at slot 0 of the secondary bus.  device_del completes at
 * once when the guest has not enabled hot-plug interrupts and
 * attention-button events in Slot Control (HPIE and ABPE both set);
 * otherwise the port sets Attention Button Pressed and completes the
 * removal when the guest turns the slot power off (PCC) -- the pciehp
 * protocol (PCIe Base 4.0, 6.7.3).
 *
 * The PCIe-to-PCI bridge (1b36:000e, class 0x0604, hw/pci/pcie_pci_bridge.c)
 * has a PCIe capability of type PCI/PCI-X bridge and a conventional
 * secondary bus (TYPE_PCI_BUS, 32 slots).  Transactions from below it carry
 * the requester ID (secondary bus, 00.0) (PCIe-to-PCI/PCI-X Bridge 1.0,
 * 2.3): see pci_device_iommu_alias() in pci.h.  Devices may be hot-plugged
 * onto its bus without notification (no SHPC); the bridge itself is cold
 * plugged only.
 */
#ifndef HW_PCI_PCIE_PORT_H
#define HW_PCI_PCIE_PORT_H

#include "hw/pci/pci_bus.h"

#define TYPE_PCIE_ROOT_PORT "pcie-root-port"
#define TYPE_PCIE_PCI_BRIDGE "pcie-pci-bridge"

/* PCI Express Capability structure (PCIe Base 4.0, 7.5.3), v2: 0x3c bytes */
#define PCI_EXP_VER2_SIZEOF     0x3c
#define PCI_EXP_FLAGS           0x02
#define  PCI_EXP_FLAGS_VER2     0x0002
#define  PCI_EXP_FLAGS_TYPE_SHIFT 4
#define  PCI_EXP_TYPE_ENDPOINT  0x0
#define  PCI_EXP_TYPE_ROOT_PORT 0x4
#define  PCI_EXP_TYPE_PCI_BRIDGE 0x7    /* PCI Express to PCI/PCI-X bridge */
#define  PCI_EXP_FLAGS_SLOT     0x0100
#define  PCI_EXP_FLAGS_IRQ_SHIFT 9     /* interrupt message number */
#define PCI_EXP_DEVCAP          0x04
#define  PCI_EXP_DEVCAP_RBER    0x00008000
#define PCI_EXP_DEVCTL          0x08
#define PCI_EXP_DEVSTA          0x0a
#define PCI_EXP_LNKCAP          0x0c
#define  PCI_EXP_LNKCAP_SLS_2_5GB 0x00000001
#define  PCI_EXP_LNKCAP_MLW_X1  0x00000010
#define  PCI_EXP_LNKCAP_DLLLARC 0x00100000
#define  PCI_EXP_LNKCAP_PN_SHIFT 24
#define PCI_EXP_LNKCTL          0x10
#define PCI_EXP_LNKSTA          0x12
#define  PCI_EXP_LNKSTA_CLS_2_5GB 0x0001
#define  PCI_EXP_LNKSTA_NLW_X1  0x0010
#define  PCI_EXP_LNKSTA_DLLLA   0x2000
#define PCI_EXP_SLTCAP          0x14
#define  PCI_EXP_SLTCAP_ABP     0x00000001  /* attention button */
#define  PCI_EXP_SLTCAP_PCP     0x00000002  /* power controller */
#define  PCI_EXP_SLTCAP_AIP     0x00000008  /* attention indicator */
#define  PCI_EXP_SLTCAP_PIP     0x00000010  /* power indicator */
#define  PCI_EXP_SLTCAP_HPS     0x00000020  /* hot-plug surprise */
#define  PCI_EXP_SLTCAP_HPC     0x00000040  /* hot-plug capable */
#define  PCI_EXP_SLTCAP_PSN_SHIFT 19
#define PCI_EXP_SLTCTL          0x18
#define  PCI_EXP_SLTCTL_ABPE    0x0001
#define  PCI_EXP_SLTCTL_PFDE    0x0002
#define  PCI_EXP_SLTCTL_MRLSCE  0x0004
#define  PCI_EXP_SLTCTL_PDCE    0x0008
#define  PCI_EXP_SLTCTL_CCIE    0x0010
#define  PCI_EXP_SLTCTL_HPIE    0x0020
#define  PCI_EXP_SLTCTL_AIC     0x00c0
#define  PCI_EXP_SLTCTL_PIC     0x0300
#define  PCI_EXP_SLTCTL_PCC     0x0400      /* 1 = power off */
#define  PCI_EXP_SLTCTL_EIC     0x0800
#define  PCI_EXP_SLTCTL_DLLSCE  0x1000
#define PCI_EXP_SLTSTA          0x1a
#define  PCI_EXP_SLTSTA_ABP     0x0001
#define  PCI_EXP_SLTSTA_PFD     0x0002
#define  PCI_EXP_SLTSTA_MRLSC   0x0004
#define  PCI_EXP_SLTSTA_PDC     0x0008
#define  PCI_EXP_SLTSTA_CC      0x0010
#define  PCI_EXP_SLTSTA_MRLSS   0x0020
#define  PCI_EXP_SLTSTA_PDS     0x0040
#define  PCI_EXP_SLTSTA_EIS     0x0080
#define  PCI_EXP_SLTSTA_DLLSC   0x0100
#define PCI_EXP_RTCTL           0x1c
#define PCI_EXP_RTCAP           0x1e
#define PCI_EXP_RTSTA           0x20
#define PCI_EXP_DEVCAP2         0x24
#define PCI_EXP_DEVCTL2         0x28
#define PCI_EXP_LNKCAP2         0x2c
#define  PCI_EXP_LNKCAP2_SLS_2_5GB 0x00000002
#define PCI_EXP_LNKCTL2         0x30
#define PCI_EXP_LNKSTA2         0x32
#define PCI_EXP_SLTCAP2         0x34
#define PCI_EXP_SLTCTL2         0x38
#define PCI_EXP_SLTSTA2         0x3a

typedef struct PCIERootPort {
    PCIBridge parent_obj;
    /* Properties */
    uint8_t chassis;
    uint16_t slot;
    uint8_t port;
    /* State */
    uint8_t exp_cap;            /* PCIe capability offset */
    bool hpev_notified;         /* hot-plug interrupt asserted */
    bool unplug_pending;        /* waiting for the guest to power off */
} PCIERootPort;

DECLARE_INSTANCE_CHECKER(PCIERootPort, PCIE_ROOT_PORT, TYPE_PCIE_ROOT_PORT)

/*
 * Adds a v2 PCI Express capability of device/port type (PCI_EXP_TYPE_*)
 * with what every viommu PCIe function has: a x1 2.5 GT/s link numbered
 * port, writable control registers.  Returns its offset, or -1 with errp.
 * (hw/pci/pci_bridge.c)
 */
int pcie_cap_init(PCIDevice *dev, uint8_t type, uint8_t port, Error **errp);
/* The PCIe device/port type of dev, -1 if it has no PCIe capability. */
int pcie_cap_get_type(PCIDevice *dev);

/* Whether dev is a PCIe root or downstream port (slot 0 only behind it). */
bool pcie_is_downstream_port(PCIDevice *dev);

#endif
