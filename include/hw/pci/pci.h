/*
 * PCI devices: configuration space, BARs, INTx, DMA and the vIOMMU hook.
 *
 * A PCI device (TYPE_PCI_DEVICE) is a qdev device on a PCI bus
 * (TYPE_PCI_BUS, or TYPE_PCIE_BUS which derives from it).  Its
 * configuration space lives in config[]; three masks say what a guest
 * write may do to each bit:
 *   wmask    bits the guest may write (others are read-only);
 *   w1cmask  bits the guest clears by writing 1 (status bits);
 *   cmask    bits fixed by the device model (ids, capability headers):
 *            a guest write never changes cmask & ~wmask & ~w1cmask.
 * wmask and w1cmask never overlap.  A device model sets the masks of the
 * registers it implements in its realize; everything it does not
 * implement reads as zero and ignores writes.
 *
 * BARs are registered with pci_register_bar().  A BAR's memory region is
 * mapped into the bus's memory or I/O space at the address the guest
 * programmed, and only while the COMMAND register enables that kind of
 * decode (PCI Local Bus 3.0, 6.2.5.1).
 *
 * DMA: pci_get_address_space() is the device's bus-master address space.
 * It shows the vIOMMU's address space for the device (see PCIIOMMUOps) or
 * system memory, and nothing at all while COMMAND.BME is clear.  Every DMA
 * carries the device's requester id: bus << 8 | devfn, or the alias a
 * PCIe-to-PCI bridge above it substitutes (pci_device_iommu_alias()).
 *
 * Reset puts configuration space back to its value at the end of realize
 * (BARs and decode off), then calls PCIDeviceClass.reset.  Device models
 * use that hook, never DeviceClass.reset.
 */
#ifndef HW_PCI_PCI_H
#define HW_PCI_PCI_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hw/qdev-core.h"
#include "hw/pci/pci_ids.h"
#include "system/memory.h"

#define TYPE_PCI_DEVICE "pci-device"
#define TYPE_PCI_BUS "PCI"
#define TYPE_PCIE_BUS "PCIE"

typedef struct PCIDevice PCIDevice;
typedef struct PCIDeviceClass PCIDeviceClass;
typedef struct PCIBus PCIBus;
typedef struct PCIIOMMUOps PCIIOMMUOps;

typedef uint64_t pcibus_t;
typedef uint64_t dma_addr_t;

typedef enum DMADirection {
    DMA_DIRECTION_TO_DEVICE = 0,    /* read guest memory */
    DMA_DIRECTION_FROM_DEVICE = 1,  /* write guest memory */
} DMADirection;

#define PCI_DEVFN(slot, func)   ((((slot) & 0x1f) << 3) | ((func) & 0x07))
#define PCI_SLOT(devfn)         (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn)         ((devfn) & 0x07)
#define PCI_BUILD_BDF(bus, devfn) ((uint16_t)(((bus) << 8) | (devfn)))
#define PCI_SLOT_MAX            32
#define PCI_FUNC_MAX            8
#define PCI_DEVFN_MAX           256

#define PCI_NUM_REGIONS         6   /* BAR0-5; no expansion ROM */
#define PCI_NUM_PINS            4   /* INTA-INTD */
#define PCI_BAR_UNMAPPED        (~(pcibus_t)0)

#define PCI_CONFIG_HEADER_SIZE  0x40
#define PCI_CONFIG_SPACE_SIZE   0x100
#define PCIE_CONFIG_SPACE_SIZE  0x1000

/* --- Configuration header (PCI Local Bus 3.0, 6.1; PCI-PCI Bridge 1.2, 3.2) */
#define PCI_VENDOR_ID           0x00
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04
#define  PCI_COMMAND_IO         0x0001
#define  PCI_COMMAND_MEMORY     0x0002
#define  PCI_COMMAND_MASTER     0x0004
#define  PCI_COMMAND_PARITY     0x0040
#define  PCI_COMMAND_SERR       0x0100
#define  PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS              0x06
#define  PCI_STATUS_INTERRUPT   0x0008
#define  PCI_STATUS_CAP_LIST    0x0010
#define  PCI_STATUS_PARITY      0x0100
#define  PCI_STATUS_SIG_TARGET_ABORT 0x0800
#define  PCI_STATUS_REC_TARGET_ABORT 0x1000
#define  PCI_STATUS_REC_MASTER_ABORT 0x2000
#define  PCI_STATUS_SIG_SYSTEM_ERROR 0x4000
#define  PCI_STATUS_DETECTED_PARITY  0x8000
#define PCI_REVISION_ID         0x08
#define PCI_CLASS_PROG          0x09
#define PCI_CLASS_DEVICE        0x0a
#define PCI_CACHE_LINE_SIZE     0x0c
#define PCI_LATENCY_TIMER       0x0d
#define PCI_HEADER_TYPE         0x0e
#define  PCI_HEADER_TYPE_NORMAL 0x00
#define  PCI_HEADER_TYPE_BRIDGE 0x01
#define  PCI_HEADER_TYPE_MULTI_FUNCTION 0x80
#define PCI_BIST                0x0f
#define PCI_BASE_ADDRESS_0      0x10
#define  PCI_BASE_ADDRESS_SPACE_IO     0x01
#define  PCI_BASE_ADDRESS_SPACE_MEMORY 0x00
#define  PCI_BASE_ADDRESS_MEM_TYPE_32  0x00
#define  PCI_BASE_ADDRESS_MEM_TYPE_64  0x04
#define  PCI_BASE_ADDRESS_MEM_PREFETCH 0x08
#define  PCI_BASE_ADDRESS_MEM_MASK     (~(pcibus_t)0x0f)
#define  PCI_BASE_ADDRESS_IO_MASK      (~(pcibus_t)0x03)
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID        0x2e
#define PCI_ROM_ADDRESS         0x30
#define PCI_CAPABILITY_LIST     0x34
#define PCI_INTERRUPT_LINE      0x3c
#define PCI_INTERRUPT_PIN       0x3d
#define PCI_MIN_GNT             0x3e
#define PCI_MAX_LAT             0x3f

/* Type 1 (bridge) header */
#define PCI_PRIMARY_BUS         0x18
#define PCI_SECONDARY_BUS       0x19
#define PCI_SUBORDINATE_BUS     0x1a
#define PCI_SEC_LATENCY_TIMER   0x1b
#define PCI_IO_BASE             0x1c
#define PCI_IO_LIMIT            0x1d
#define  PCI_IO_RANGE_TYPE_32   0x01
#define  PCI_IO_RANGE_MASK      0xf0
#define PCI_SEC_STATUS          0x1e
#define PCI_MEMORY_BASE         0x20
#define PCI_MEMORY_LIMIT        0x22
#define  PCI_MEMORY_RANGE_MASK  0xfff0
#define PCI_PREF_MEMORY_BASE    0x24
#define PCI_PREF_MEMORY_LIMIT   0x26
#define  PCI_PREF_RANGE_TYPE_64 0x01
#define  PCI_PREF_RANGE_MASK    0xfff0
#define PCI_PREF_BASE_UPPER32   0x28
#define PCI_PREF_LIMIT_UPPER32  0x2c
#define PCI_IO_BASE_UPPER16     0x30
#define PCI_IO_LIMIT_UPPER16    0x32
#define PCI_ROM_ADDRESS1        0x38
#define PCI_BRIDGE_CONTROL      0x3e
#define  PCI_BRIDGE_CTL_PARITY  0x01
#define  PCI_BRIDGE_CTL_SERR    0x02
#define  PCI_BRIDGE_CTL_ISA     0x04
#define  PCI_BRIDGE_CTL_VGA     0x08
#define  PCI_BRIDGE_CTL_MASTER_ABORT 0x20
#define  PCI_BRIDGE_CTL_BUS_RESET    0x40

/* Capability list */
#define PCI_CAP_LIST_ID         0
#define PCI_CAP_LIST_NEXT       1
#define PCI_CAP_ID_PM           0x01
#define PCI_CAP_ID_MSI          0x05
#define PCI_CAP_ID_VNDR         0x09
#define PCI_CAP_ID_SSVID        0x0d
#define PCI_CAP_ID_EXP          0x10
#define PCI_CAP_ID_MSIX         0x11

/* --- Little-endian config space accessors --------------------------------- */

static inline uint8_t pci_get_byte(const uint8_t *config)
{
    return config[0];
}

static inline void pci_set_byte(uint8_t *config, uint8_t val)
{
    config[0] = val;
}

static inline uint16_t pci_get_word(const uint8_t *config)
{
    return (uint16_t)(config[0] | config[1] << 8);
}

static inline void pci_set_word(uint8_t *config, uint16_t val)
{
    config[0] = val;
    config[1] = val >> 8;
}

static inline uint32_t pci_get_long(const uint8_t *config)
{
    return (uint32_t)pci_get_word(config) |
           (uint32_t)pci_get_word(config + 2) << 16;
}

static inline void pci_set_long(uint8_t *config, uint32_t val)
{
    pci_set_word(config, val);
    pci_set_word(config + 2, val >> 16);
}

static inline uint64_t pci_get_quad(const uint8_t *config)
{
    return (uint64_t)pci_get_long(config) |
           (uint64_t)pci_get_long(config + 4) << 32;
}

static inline void pci_set_quad(uint8_t *config, uint64_t val)
{
    pci_set_long(config, val);
    pci_set_long(config + 4, val >> 32);
}

/* Whether config writes at [a, a + alen) touch [b, b + blen). */
static inline bool pci_ranges_overlap(uint32_t a, uint32_t alen, uint32_t b,
                                      uint32_t blen)
{
    return a < b + blen && b < a + alen;
}

/* --- Devices --------------------------------------------------------------- */

typedef struct PCIIORegion {
    pcibus_t addr;              /* where mapped, or PCI_BAR_UNMAPPED */
    pcibus_t size;              /* 0: BAR not implemented */
    uint8_t type;               /* PCI_BASE_ADDRESS_* flag bits */
    MemoryRegion *memory;       /* the device's region (not owned) */
    MemoryRegion *address_space;/* the bus space it maps into */
} PCIIORegion;

struct PCIDevice {
    DeviceState qdev;

    uint8_t config[PCIE_CONFIG_SPACE_SIZE];
    uint8_t wmask[PCIE_CONFIG_SPACE_SIZE];
    uint8_t w1cmask[PCIE_CONFIG_SPACE_SIZE];
    uint8_t cmask[PCIE_CONFIG_SPACE_SIZE];
    /* Capability bytes in use, for pci_add_capability()'s placement. */
    uint8_t used[PCI_CONFIG_SPACE_SIZE];
    /* config[] at the end of realize: what reset restores. */
    uint8_t config_reset[PCIE_CONFIG_SPACE_SIZE];
    uint32_t config_size;       /* 256, or 4096 for PCIe functions */

    /* Properties */
    int32_t devfn;              /* "addr"; -1 until placed */
    bool multifunction;

    PCIIORegion io_regions[PCI_NUM_REGIONS];

    /* INTx: bit n set while pin n is asserted by the device. */
    uint8_t irq_state;

    /*
     * DMA.  bus_master_as is rooted at bus_master_container, which holds
     * bus_master_enable_region: an alias of dma_as's root, enabled only
     * while COMMAND.BME is set.  dma_as is the vIOMMU's address space for
     * this device, or address_space_memory.
     */
    AddressSpace *dma_as;
    AddressSpace bus_master_as;
    MemoryRegion bus_master_container;
    MemoryRegion bus_master_enable_region;
    bool bus_master_ready;      /* the three above are initialised */

    /* MSI (hw/pci/msi.c): capability offset, 0 when absent. */
    uint8_t msi_cap;

    /* MSI-X (hw/pci/msix.c) */
    uint8_t msix_cap;           /* 0 when absent */
    unsigned msix_entries_nr;
    uint8_t *msix_table;        /* 16 bytes per entry */
    uint8_t *msix_pba;          /* pending bit array */
    MemoryRegion msix_table_mmio;
    MemoryRegion msix_pba_mmio;
    MemoryRegion *msix_table_bar;   /* the BARs holding the two above */
    MemoryRegion *msix_pba_bar;
    MemoryRegion msix_exclusive_bar;/* msix_init_exclusive_bar() */
    bool msix_exclusive;
    bool msix_function_masked;  /* enable clear or function mask set */
};

typedef uint32_t PCIConfigReadFunc(PCIDevice *dev, uint32_t addr, int len);
typedef void PCIConfigWriteFunc(PCIDevice *dev, uint32_t addr, uint32_t val,
                                int len);

struct PCIDeviceClass {
    DeviceClass parent_class;

    /* Sets up config space, BARs and capabilities; false with errp. */
    bool (*realize)(PCIDevice *dev, Error **errp);
    /* Undoes realize (unrealize, or a failed realize after it succeeded
     * up to the PCI core's part). */
    void (*exit)(PCIDevice *dev);
    /* Device-specific reset, after the core restored config space. */
    void (*reset)(PCIDevice *dev);
    /* Default: pci_default_read_config / pci_default_write_config. */
    PCIConfigReadFunc *config_read;
    PCIConfigWriteFunc *config_write;

    uint16_t vendor_id;
    uint16_t device_id;
    uint8_t revision;
    uint16_t class_id;          /* base class << 8 | subclass */
    uint16_t subsystem_vendor_id;   /* 0: QEMU's default 1af4 */
    uint16_t subsystem_id;          /* 0: QEMU's default 1100 */
    bool is_bridge;             /* type 1 header */
    bool is_express;            /* 4 KiB configuration space */
};

DECLARE_OBJ_CHECKERS(PCIDevice, PCIDeviceClass, PCI_DEVICE, TYPE_PCI_DEVICE)

/* --- The vIOMMU hook ------------------------------------------------------- */

struct HostIOMMUDevice;

/*
 * get_viommu_flags() bits.  WANT_NESTING_PARENT: the vIOMMU will nest its
 * guest's stage-1 tables over the host stage 2, so an iommufd-backed
 * assigned device must be attached to an HWPT allocated as a nesting
 * parent.
 */
#define VIOMMU_FLAG_WANT_NESTING_PARENT (1ULL << 0)

/*
 * get_host_iommu_quirks() bits.  NESTING_PARENT_BYPASS_RO: read-only
 * ranges must be left out of a nesting-parent HWPT (Intel erratum SPR17:
 * the host refuses read-only mappings there).
 */
#define HOST_IOMMU_QUIRK_NESTING_PARENT_BYPASS_RO (1ULL << 0)

/*
 * Registered on a root bus by a vIOMMU with pci_setup_iommu(); applies to
 * the devices on that bus and on every bus behind its bridges.  All but
 * get_address_space are optional.
 *
 * Requester-ID aliasing (as QEMU's pci_device_get_iommu_bus_devfn): a
 * device behind a conventional bus issues DMA with the alias of
 * pci_device_iommu_alias(), so get_address_space is asked for the ALIAS
 * bus and devfn, and the devices sharing an alias share one address
 * space.  set/unset_iommu_device get the device's OWN bus and devfn (one
 * host IOMMU device per device); pci_device_set_iommu_device() stores the
 * alias in the HostIOMMUDevice first.
 */
struct PCIIOMMUOps {
    /* The address space DMA from requester (bus, devfn) goes through;
     * called at realize with the device's alias, and again for every
     * existing device when the hook is registered. */
    AddressSpace *(*get_address_space)(PCIBus *bus, void *opaque, int devfn);
    /* A host IOMMU device backs the device (vfio-pci); false refuses it. */
    bool (*set_iommu_device)(PCIBus *bus, void *opaque, int devfn,
                             struct HostIOMMUDevice *dev, Error **errp);
    void (*unset_iommu_device)(PCIBus *bus, void *opaque, int devfn);
    /* VIOMMU_FLAG_* of the vIOMMU's configuration. */
    uint64_t (*get_viommu_flags)(void *opaque);
    /* HOST_IOMMU_QUIRK_* of a host IOMMU with IOMMU_GET_HW_INFO @type
     * and vendor data @caps (@size bytes), for this vIOMMU's use of it. */
    uint64_t (*get_host_iommu_quirks)(uint32_t type, void *caps,
                                      uint32_t size);
};

/*
 * Installs (ops non-NULL) or removes the hook; every realized device below
 * bus is pointed at its new DMA address space at once.  A vIOMMU removes
 * its hook before its address spaces go away.  Not inside a memory
 * transaction.
 */
void pci_setup_iommu(PCIBus *bus, const PCIIOMMUOps *ops, void *opaque);
/*
 * Sets hiod->aliased_bus/aliased_devfn and calls set_iommu_device with the
 * device's own bus and devfn.  true when there is no vIOMMU or it has no
 * set_iommu_device (the alias fields are then left alone).
 */
bool pci_device_set_iommu_device(PCIDevice *dev, struct HostIOMMUDevice *hiod,
                                 Error **errp);
void pci_device_unset_iommu_device(PCIDevice *dev);
/* 0 when there is no vIOMMU or it does not say. */
uint64_t pci_device_get_viommu_flags(PCIDevice *dev);
/* 0 when there is no vIOMMU or it does not say. */
uint64_t pci_device_get_host_iommu_quirks(PCIDevice *dev, uint32_t type,
                                          void *caps, uint32_t size);

/* --- Configuration space ----------------------------------------------------- */

uint32_t pci_config_size(const PCIDevice *dev);
bool pci_is_express(const PCIDevice *dev);
/* The default config_read/config_write; device hooks call them. */
uint32_t pci_default_read_config(PCIDevice *dev, uint32_t addr, int len);
void pci_default_write_config(PCIDevice *dev, uint32_t addr, uint32_t val,
                              int len);
/* A config cycle as the host bridge makes it: through the class hooks,
 * clipped to the config space size; reads beyond it give all-ones. */
uint32_t pci_host_config_read_common(PCIDevice *dev, uint32_t addr,
                                     uint32_t limit, uint32_t len);
void pci_host_config_write_common(PCIDevice *dev, uint32_t addr,
                                  uint32_t limit, uint32_t val, uint32_t len);

/*
 * Adds a capability of size bytes at offset (0: the first free 4-byte
 * aligned space from 0x40) at the head of the list, read-only.  Returns the
 * offset, or -1 with errp set when it does not fit or overlaps another.
 */
int pci_add_capability(PCIDevice *dev, uint8_t cap_id, uint8_t offset,
                       uint8_t size, Error **errp);
/* Offset of the first capability with that id, 0 if none. */
uint8_t pci_find_capability(PCIDevice *dev, uint8_t cap_id);

/* --- BARs ---------------------------------------------------------------------- */

/*
 * Registers BAR region_num.  type is PCI_BASE_ADDRESS_SPACE_IO or a
 * memory type (MEM_TYPE_32/64, optionally MEM_PREFETCH); the size is the
 * region's, a power of two.  A 64-bit BAR also takes region_num + 1.
 * memory must outlive the device's realized life.
 */
void pci_register_bar(PCIDevice *dev, int region_num, uint8_t type,
                      MemoryRegion *memory);
/* The address BAR region_num is mapped at, PCI_BAR_UNMAPPED if not. */
pcibus_t pci_get_bar_addr(PCIDevice *dev, int region_num);

/* --- INTx ------------------------------------------------------------------------ */

typedef void (*pci_set_irq_fn)(void *opaque, int irq_num, int level);
typedef int (*pci_map_irq_fn)(PCIDevice *dev, int pin);

/* Drives the device's INTx pin (config PCI_INTERRUPT_PIN); level 0/1. */
void pci_set_irq(PCIDevice *dev, int level);
static inline void pci_irq_assert(PCIDevice *dev)
{
    pci_set_irq(dev, 1);
}
static inline void pci_irq_deassert(PCIDevice *dev)
{
    pci_set_irq(dev, 0);
}
/* Deasserts every pin the device holds (MSI enabled, reset, unplug). */
void pci_device_deassert_intx(PCIDevice *dev);
/* The root bus's interrupt (0..nirq-1) pin (0 = INTA) reaches. */
int pci_bus_route_intx(PCIDevice *dev, int pin);
/* Standard bridge swizzle: (pin + slot) % 4. */
int pci_swizzle_map_irq_fn(PCIDevice *dev, int pin);

/* --- DMA ---------------------------------------------------------------------- */

/*
 * The requester ID the IOMMU sees for a function at (bus, devfn): its own,
 * unless a conventional bus lies on the path to the root; then, for the
 * topmost such bus, (that bus, 00.0) when its bridge is a PCIe-to-PCI
 * bridge (PCIe-to-PCI/PCI-X Bridge 1.0, 2.3), else the bridge's own
 * (bus, devfn).  The bus number is read at use (the guest numbers buses).
 */
void pci_bus_iommu_alias(PCIBus *bus, int devfn, PCIBus **alias_bus,
                         int *alias_devfn);
void pci_device_iommu_alias(PCIDevice *dev, PCIBus **alias_bus,
                            int *alias_devfn);
/* The alias as bus << 8 | devfn, with the bus number the guest
 * programmed: what the device's DMA and MSI carry. */
uint16_t pci_requester_id(PCIDevice *dev);
/* The bus-master address space: what the device's DMA sees. */
AddressSpace *pci_get_address_space(PCIDevice *dev);
/* The vIOMMU's address space for the device (or address_space_memory),
 * regardless of BME: where a VFIO container listens. */
AddressSpace *pci_device_iommu_address_space(PCIDevice *dev);
MemTxResult pci_dma_rw(PCIDevice *dev, dma_addr_t addr, void *buf,
                       dma_addr_t len, DMADirection dir);
MemTxResult pci_dma_read(PCIDevice *dev, dma_addr_t addr, void *buf,
                         dma_addr_t len);
MemTxResult pci_dma_write(PCIDevice *dev, dma_addr_t addr, const void *buf,
                          dma_addr_t len);

/* --- Buses and lookup ------------------------------------------------------------ */

PCIBus *pci_get_bus(const PCIDevice *dev);
int pci_bus_num(PCIBus *bus);
bool pci_bus_is_root(PCIBus *bus);
bool pci_bus_is_express(PCIBus *bus);
/* The device at bus_num:devfn below root, or NULL.  A function other than
 * 0 is absent while function 0 is. */
PCIDevice *pci_find_device(PCIBus *root, int bus_num, uint8_t devfn);
/* Calls fn for every device on bus and behind its bridges, depth first,
 * in devfn order. */
void pci_for_each_device_under_bus(PCIBus *bus,
                                   void (*fn)(PCIBus *bus, PCIDevice *dev,
                                              void *opaque),
                                   void *opaque);
/* The bus behind a bridge, NULL for other devices. */
PCIBus *pci_bridge_get_sec_bus(PCIDevice *dev);

/* Puts the device in its reset state (as a bus reset does). */
void pci_device_reset(PCIDevice *dev);

#endif
