/*
 * PCI vendor, device and class codes used by viommu's device models.
 * Values as assigned by the PCI-SIG and the vendors (and as QEMU uses
 * them, so that guests and tools recognise the devices).
 */
#ifndef HW_PCI_PCI_IDS_H
#define HW_PCI_PCI_IDS_H

/* Class codes: base class << 8 | subclass (config word 0x0a). */
#define PCI_CLASS_NOT_DEFINED            0x0000
#define PCI_CLASS_OTHERS                 0x00ff
#define PCI_CLASS_STORAGE_SCSI           0x0100
#define PCI_CLASS_STORAGE_SATA           0x0106
#define PCI_CLASS_NETWORK_ETHERNET       0x0200
#define PCI_CLASS_DISPLAY_VGA            0x0300
#define PCI_CLASS_BRIDGE_HOST            0x0600
#define PCI_CLASS_BRIDGE_ISA             0x0601
#define PCI_CLASS_BRIDGE_PCI             0x0604
#define PCI_CLASS_BRIDGE_OTHER           0x0680
#define PCI_CLASS_SYSTEM_IOMMU           0x0806
#define PCI_CLASS_SYSTEM_OTHER           0x0880
#define PCI_CLASS_SERIAL_SMBUS           0x0c05

/* Vendors */
#define PCI_VENDOR_ID_INTEL              0x8086
#define PCI_VENDOR_ID_REDHAT             0x1b36
#define PCI_VENDOR_ID_REDHAT_QUMRANET    0x1af4
#define PCI_VENDOR_ID_QEMU               0x1234

/* Every PCI device's default subsystem (QEMU's). */
#define PCI_SUBVENDOR_ID_REDHAT_QUMRANET 0x1af4
#define PCI_SUBDEVICE_ID_QEMU            0x1100

/* Devices */
#define PCI_DEVICE_ID_INTEL_Q35_MCH      0x29c0
#define PCI_DEVICE_ID_INTEL_ICH9_8       0x2918  /* ICH9 LPC */
#define PCI_DEVICE_ID_REDHAT_PCIE_RP     0x000c
#define PCI_DEVICE_ID_REDHAT_PCIE_BRIDGE 0x000e  /* pcie-pci-bridge */
#define PCI_DEVICE_ID_REDHAT_TEST        0x0005
#define PCI_DEVICE_ID_QEMU_EDU           0x11e8

#endif
