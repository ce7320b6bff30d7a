/*
 * virtio-pci: the modern (virtio 1.x, non-transitional) PCI transport,
 * virtio 1.2 section 4.1 "Virtio Over PCI Bus".
 *
 * A proxy is a PCI device (abstract TYPE_VIRTIO_PCI) that owns a virtio
 * bus with exactly one virtio device on it, its "backend":
 *
 *   virtio-iommu-pci (PCI function, VirtIOPCIProxy)
 *     +- virtio-bus (VirtioBusState, child "virtio-bus")
 *          +- virtio-iommu (VirtIODevice, QOM child "virtio-backend")
 *
 * Layout seen by the driver:
 *   vendor 0x1af4, device 0x1040 + virtio device id, revision 1, subsystem
 *   1af4:1100; interrupt pin A.
 *   BAR 1: MSI-X table (offset 0) and PBA (upper half), "vectors" entries
 *          (default: queues + 1; 0 disables MSI-X: INTx + ISR only).
 *   BAR 4: 64-bit prefetchable memory, 16 KiB:
 *          0x0000 common configuration (4 KiB window, 0x3c bytes used)
 *          0x1000 ISR status (1 byte, read clears)
 *          0x2000 device configuration (config_len bytes)
 *          0x3000 notifications: queue n at 0x3000 + n * 4
 *                 (queue_notify_off = n, notify_off_multiplier = 4)
 *   Vendor capabilities (cap_vndr 0x09) for COMMON, NOTIFY, ISR, DEVICE
 *   and PCI_CFG, plus the MSI-X capability.
 *
 * DMA (rings and buffers), as QEMU: with iommu_platform=on the device
 * offers VIRTIO_F_ACCESS_PLATFORM and its DMA goes through the proxy's
 * bus-master address space (translated by a vIOMMU in front of it);
 * with iommu_platform=off (default) the driver uses guest-physical
 * addresses and the DMA bypasses any vIOMMU (still gated by BME).
 *
 * Declaring a concrete proxy (see hw/virtio/virtio-rng.c):
 *
 *   static void foo_pci_instance_init(Object *obj)
 *   {
 *       virtio_pci_init_backend(VIRTIO_PCI(obj), TYPE_VIRTIO_FOO);
 *   }
 *   static void foo_pci_class_init(ObjectClass *klass, const void *data)
 *   {
 *       PCI_DEVICE_CLASS(klass)->class_id = PCI_CLASS_OTHERS;
 *       DEVICE_CLASS(klass)->desc = "...";
 *       virtio_pci_class_forward_props(klass, TYPE_VIRTIO_FOO);
 *       VIRTIO_PCI_CLASS(klass)->realize = foo_pci_realize;  // optional
 *   }
 *   { .name = "virtio-foo-pci", .parent = TYPE_VIRTIO_PCI,
 *     .instance_init = foo_pci_instance_init,
 *     .class_init = foo_pci_class_init }
 *
 * The proxy's realize (virtio-pci core) calls VirtioPCIClass.realize (if
 * any: e.g. set links on proxy->vdev), realizes the backend on the bus,
 * then builds BARs and capabilities from the backend's device id, queues,
 * config size and features.  Reset of the PCI function resets the backend.
 */
#ifndef HW_VIRTIO_VIRTIO_PCI_H
#define HW_VIRTIO_VIRTIO_PCI_H

#include "hw/pci/pci.h"
#include "hw/virtio/virtio.h"

#define TYPE_VIRTIO_PCI         "virtio-pci"
#define TYPE_VIRTIO_PCI_BUS     "virtio-pci-bus"

/* --- PCI identity (4.1.2 "PCI Device Discovery") -------------------------- */
#define VIRTIO_PCI_VENDOR_ID            0x1af4
#define VIRTIO_PCI_DEVICE_ID_MODERN     0x1040  /* + virtio device id */
#define VIRTIO_PCI_REVISION_MODERN      1

/* --- Vendor capability (4.1.4 "Virtio Structure PCI Capabilities") ------- */
#define VIRTIO_PCI_CAP_VNDR             0   /* u8: PCI_CAP_ID_VNDR (0x09) */
#define VIRTIO_PCI_CAP_NEXT             1   /* u8 */
#define VIRTIO_PCI_CAP_LEN              2   /* u8: capability length */
#define VIRTIO_PCI_CAP_CFG_TYPE         3   /* u8: VIRTIO_PCI_CAP_*_CFG */
#define VIRTIO_PCI_CAP_BAR              4   /* u8: BAR index 0-5 */
#define VIRTIO_PCI_CAP_ID               5   /* u8: multiple caps of a type */
#define VIRTIO_PCI_CAP_OFFSET           8   /* le32: offset in the BAR */
#define VIRTIO_PCI_CAP_LENGTH           12  /* le32: length of the structure */
#define VIRTIO_PCI_CAP_SIZE             16  /* struct virtio_pci_cap */
/* 4.1.4.4 "Notification structure layout": + le32 notify_off_multiplier */
#define VIRTIO_PCI_NOTIFY_CAP_MULT      16
#define VIRTIO_PCI_NOTIFY_CAP_SIZE      20
/* 4.1.4.9 "PCI configuration access capability": + u8 pci_cfg_data[4] */
#define VIRTIO_PCI_CFG_CAP_DATA         16
#define VIRTIO_PCI_CFG_CAP_SIZE         20

/* cfg_type values */
#define VIRTIO_PCI_CAP_COMMON_CFG       1
#define VIRTIO_PCI_CAP_NOTIFY_CFG       2
#define VIRTIO_PCI_CAP_ISR_CFG          3
#define VIRTIO_PCI_CAP_DEVICE_CFG       4
#define VIRTIO_PCI_CAP_PCI_CFG          5
#define VIRTIO_PCI_CAP_SHARED_MEMORY_CFG 8
#define VIRTIO_PCI_CAP_VENDOR_CFG       9

/* --- Common configuration (4.1.4.3 "Common configuration structure
 *     layout", struct virtio_pci_common_cfg) ---------------------------- */
#define VIRTIO_PCI_COMMON_DFSELECT      0x00    /* le32 device_feature_select RW */
#define VIRTIO_PCI_COMMON_DF            0x04    /* le32 device_feature RO */
#define VIRTIO_PCI_COMMON_GFSELECT      0x08    /* le32 driver_feature_select RW */
#define VIRTIO_PCI_COMMON_GF            0x0c    /* le32 driver_feature RW */
#define VIRTIO_PCI_COMMON_MSIX          0x10    /* le16 config_msix_vector RW */
#define VIRTIO_PCI_COMMON_NUMQ          0x12    /* le16 num_queues RO */
#define VIRTIO_PCI_COMMON_STATUS        0x14    /* u8 device_status RW */
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15    /* u8 config_generation RO */
#define VIRTIO_PCI_COMMON_Q_SELECT      0x16    /* le16 queue_select RW */
#define VIRTIO_PCI_COMMON_Q_SIZE        0x18    /* le16 queue_size RW */
#define VIRTIO_PCI_COMMON_Q_MSIX        0x1a    /* le16 queue_msix_vector RW */
#define VIRTIO_PCI_COMMON_Q_ENABLE      0x1c    /* le16 queue_enable RW */
#define VIRTIO_PCI_COMMON_Q_NOFF        0x1e    /* le16 queue_notify_off RO */
#define VIRTIO_PCI_COMMON_Q_DESCLO      0x20    /* le64 queue_desc RW */
#define VIRTIO_PCI_COMMON_Q_DESCHI      0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO     0x28    /* le64 queue_driver RW */
#define VIRTIO_PCI_COMMON_Q_AVAILHI     0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO      0x30    /* le64 queue_device RW */
#define VIRTIO_PCI_COMMON_Q_USEDHI      0x34
#define VIRTIO_PCI_COMMON_Q_NDATA       0x38    /* le16 queue_notify_data RO */
#define VIRTIO_PCI_COMMON_Q_RESET       0x3a    /* le16 queue_reset RW */
#define VIRTIO_PCI_COMMON_SIZE          0x3c

/* --- viommu's BAR 4 layout ------------------------------------------------- */
#define VIRTIO_PCI_MODERN_BAR           4
#define VIRTIO_PCI_MSIX_BAR             1
#define VIRTIO_PCI_REGION_SIZE          0x1000
#define VIRTIO_PCI_COMMON_OFFSET        0x0000
#define VIRTIO_PCI_ISR_OFFSET           0x1000
#define VIRTIO_PCI_DEVICE_OFFSET        0x2000
#define VIRTIO_PCI_NOTIFY_OFFSET        0x3000
#define VIRTIO_PCI_NOTIFY_MULTIPLIER    4
#define VIRTIO_PCI_MODERN_BAR_SIZE      0x4000

typedef struct VirtIOPCIProxy {
    PCIDevice pci_dev;

    VirtioBusState *bus;        /* child "virtio-bus", made in instance_init */
    VirtIODevice *vdev;         /* child "virtio-backend" */

    MemoryRegion modern_bar;    /* BAR 4 container */
    MemoryRegion common;
    MemoryRegion isr;
    MemoryRegion device;
    MemoryRegion notify;
    bool regions_ready;         /* the five above are initialised */
    uint8_t pci_cfg_cap;        /* offset of the PCI_CFG capability */

    /*
     * DMA without iommu_platform: system memory, bypassing any vIOMMU
     * (the driver uses guest-physical addresses), but like all bus-master
     * DMA only while COMMAND.BME is set: bypass_root holds bypass_bm, an
     * alias of system memory enabled with BME.
     */
    AddressSpace bypass_as;
    MemoryRegion bypass_root;
    MemoryRegion bypass_bm;
    bool bypass_ready;

    /* Properties */
    uint32_t nvectors;          /* "vectors"; UINT32_MAX: queues + 1 */
    bool event_idx;             /* "event_idx": offer EVENT_IDX */
    bool indirect_desc;         /* "indirect_desc": offer INDIRECT_DESC */
    bool queue_reset;           /* "queue_reset": offer RING_RESET */
    bool iommu_platform;        /* "iommu_platform": offer ACCESS_PLATFORM
                                 * and DMA through the vIOMMU */

    /* Common configuration selectors (reset with the device). */
    uint32_t dfselect;
    uint32_t gfselect;
    uint16_t queue_select;
} VirtIOPCIProxy;

typedef struct VirtioPCIClass {
    PCIDeviceClass parent_class;
    /* Optional: runs in the proxy's realize before the backend is
     * realized (PCI config space and DMA are set up). */
    bool (*realize)(VirtIOPCIProxy *proxy, Error **errp);
} VirtioPCIClass;

DECLARE_OBJ_CHECKERS(VirtIOPCIProxy, VirtioPCIClass, VIRTIO_PCI,
                     TYPE_VIRTIO_PCI)

/* From a concrete proxy's instance_init: creates the backend child. */
void virtio_pci_init_backend(VirtIOPCIProxy *proxy, const char *vdev_type);
/*
 * From a concrete proxy's class_init: every qdev property of vdev_type
 * becomes a property of the proxy class that reads and writes the
 * backend's ("-device virtio-iommu-pci,aw-bits=48").
 */
void virtio_pci_class_forward_props(ObjectClass *klass, const char *vdev_type);

#endif
