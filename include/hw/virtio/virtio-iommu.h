/*
 * virtio-iommu: the paravirtual IOMMU (virtio 1.2, 5.13 "IOMMU Device",
 * device id 23), its PCI proxy "virtio-iommu-pci", and the layouts the
 * driver and the device exchange (facts H).
 *
 *   virtio-iommu-pci (PCI function, hw/virtio/virtio-iommu-pci.c)
 *     +- virtio-iommu-device (VirtIOIOMMU, hw/virtio/virtio-iommu.c)
 *
 * The device hooks the PCI root bus of its proxy (PCIIOMMUOps): every
 * other PCI function below it is an endpoint whose ID is its requester id
 * (bus << 8 | devfn), as in QEMU.  Its DMA goes through the endpoint's
 * address space (VirtIOIOMMUEndpoint); the proxy's own DMA (the
 * virtqueues) goes straight to system memory.
 *
 * Byte layouts below are offsets into the request / config / event as the
 * driver lays them out, all fields little endian.
 */
#ifndef HW_VIRTIO_VIRTIO_IOMMU_H
#define HW_VIRTIO_VIRTIO_IOMMU_H

#include <glib.h>

#include "hw/pci/pci.h"
#include "hw/virtio/virtio.h"

#define TYPE_VIRTIO_IOMMU       "virtio-iommu-device"
#define TYPE_VIRTIO_IOMMU_PCI   "virtio-iommu-pci"

/* --- H.1 Features ----------------------------------------------------------- */
#define VIRTIO_IOMMU_F_INPUT_RANGE      0
#define VIRTIO_IOMMU_F_DOMAIN_RANGE     1
#define VIRTIO_IOMMU_F_MAP_UNMAP        2
#define VIRTIO_IOMMU_F_BYPASS           3   /* legacy: never offered */
#define VIRTIO_IOMMU_F_PROBE            4
#define VIRTIO_IOMMU_F_MMIO             5
#define VIRTIO_IOMMU_F_BYPASS_CONFIG    6

/* Virtqueues (H.1) */
#define VIRTIO_IOMMU_REQUESTQ           0
#define VIRTIO_IOMMU_EVENTQ             1
#define VIRTIO_IOMMU_QUEUE_SIZE         256

/* --- H.2 Configuration (40 bytes) -------------------------------------------- */
#define VIRTIO_IOMMU_CFG_PAGE_SIZE_MASK 0   /* le64 */
#define VIRTIO_IOMMU_CFG_INPUT_START    8   /* le64, inclusive */
#define VIRTIO_IOMMU_CFG_INPUT_END      16  /* le64, inclusive */
#define VIRTIO_IOMMU_CFG_DOMAIN_START   24  /* le32, inclusive */
#define VIRTIO_IOMMU_CFG_DOMAIN_END     28  /* le32, inclusive */
#define VIRTIO_IOMMU_CFG_PROBE_SIZE     32  /* le32 */
#define VIRTIO_IOMMU_CFG_BYPASS         36  /* u8: 0/1, driver-writable with
                                             * BYPASS_CONFIG */
#define VIRTIO_IOMMU_CFG_RESERVED       37  /* u8[3] */
#define VIRTIO_IOMMU_CONFIG_SIZE        40

/* --- H.3 Requests -------------------------------------------------------------- */
/*
 * One chain per request: device-readable head + body, device-writable
 * tail (PROBE: properties[probe_size] then the tail).  *_SIZE is the
 * readable part (head included); the tail follows in the writable part.
 */
#define VIRTIO_IOMMU_REQ_TYPE           0   /* u8 */
#define VIRTIO_IOMMU_REQ_HEAD_RESERVED  1   /* u8[3], ignored */
#define VIRTIO_IOMMU_REQ_HEAD_SIZE      4

#define VIRTIO_IOMMU_T_ATTACH           1
#define VIRTIO_IOMMU_T_DETACH           2
#define VIRTIO_IOMMU_T_MAP              3
#define VIRTIO_IOMMU_T_UNMAP            4
#define VIRTIO_IOMMU_T_PROBE            5

/* Tail: u8 status, u8 reserved[3] (written as 0). */
#define VIRTIO_IOMMU_TAIL_STATUS        0
#define VIRTIO_IOMMU_TAIL_SIZE          4

#define VIRTIO_IOMMU_S_OK               0
#define VIRTIO_IOMMU_S_IOERR            1
#define VIRTIO_IOMMU_S_UNSUPP           2
#define VIRTIO_IOMMU_S_DEVERR           3
#define VIRTIO_IOMMU_S_INVAL            4
#define VIRTIO_IOMMU_S_RANGE            5
#define VIRTIO_IOMMU_S_NOENT            6
#define VIRTIO_IOMMU_S_FAULT            7
#define VIRTIO_IOMMU_S_NOMEM            8

/* ATTACH: 24 bytes with the tail */
#define VIRTIO_IOMMU_ATTACH_DOMAIN      4   /* le32 */
#define VIRTIO_IOMMU_ATTACH_ENDPOINT    8   /* le32 */
#define VIRTIO_IOMMU_ATTACH_FLAGS       12  /* le32 */
#define  VIRTIO_IOMMU_ATTACH_F_BYPASS   (1u << 0)
#define VIRTIO_IOMMU_ATTACH_RESERVED    16  /* u8[4], MUST be 0 */
#define VIRTIO_IOMMU_ATTACH_SIZE        20

/* DETACH: 24 bytes with the tail */
#define VIRTIO_IOMMU_DETACH_DOMAIN      4   /* le32 */
#define VIRTIO_IOMMU_DETACH_ENDPOINT    8   /* le32 */
#define VIRTIO_IOMMU_DETACH_RESERVED    12  /* u8[8], ignored */
#define VIRTIO_IOMMU_DETACH_SIZE        20

/* MAP: 40 bytes with the tail */
#define VIRTIO_IOMMU_MAP_DOMAIN         4   /* le32 */
#define VIRTIO_IOMMU_MAP_VIRT_START     8   /* le64 */
#define VIRTIO_IOMMU_MAP_VIRT_END       16  /* le64, inclusive */
#define VIRTIO_IOMMU_MAP_PHYS_START     24  /* le64 */
#define VIRTIO_IOMMU_MAP_FLAGS          32  /* le32 */
#define  VIRTIO_IOMMU_MAP_F_READ        (1u << 0)
#define  VIRTIO_IOMMU_MAP_F_WRITE       (1u << 1)
#define  VIRTIO_IOMMU_MAP_F_MMIO        (1u << 2)   /* needs F_MMIO */
#define VIRTIO_IOMMU_MAP_SIZE           36

/* UNMAP: 32 bytes with the tail */
#define VIRTIO_IOMMU_UNMAP_DOMAIN       4   /* le32 */
#define VIRTIO_IOMMU_UNMAP_VIRT_START   8   /* le64 */
#define VIRTIO_IOMMU_UNMAP_VIRT_END     16  /* le64, inclusive */
#define VIRTIO_IOMMU_UNMAP_RESERVED     24  /* u8[4] */
#define VIRTIO_IOMMU_UNMAP_SIZE         28

/* PROBE: readable 72 bytes; writable properties[probe_size] + tail */
#define VIRTIO_IOMMU_PROBE_ENDPOINT     4   /* le32 */
#define VIRTIO_IOMMU_PROBE_RESERVED     8   /* u8[64], ignored */
#define VIRTIO_IOMMU_PROBE_SIZE         72
#define VIRTIO_IOMMU_PROBE_PROPS_SIZE   512 /* config.probe_size */

/* --- H.5 PROBE properties --------------------------------------------------------- */
#define VIRTIO_IOMMU_PROP_TYPE          0   /* le16: type 11:0, rsvd 15:12 */
#define  VIRTIO_IOMMU_PROP_TYPE_MASK    0x0fff
#define VIRTIO_IOMMU_PROP_LENGTH        2   /* le16: value bytes */
#define VIRTIO_IOMMU_PROP_HEAD_SIZE     4
#define VIRTIO_IOMMU_PROBE_T_NONE       0   /* ends the list */
#define VIRTIO_IOMMU_PROBE_T_RESV_MEM   1

/* RESV_MEM property (24 bytes, length 20) */
#define VIRTIO_IOMMU_RESV_SUBTYPE       4   /* u8 */
#define  VIRTIO_IOMMU_RESV_MEM_T_RESERVED 0
#define  VIRTIO_IOMMU_RESV_MEM_T_MSI    1
#define VIRTIO_IOMMU_RESV_RESERVED      5   /* u8[3] */
#define VIRTIO_IOMMU_RESV_START         8   /* le64 */
#define VIRTIO_IOMMU_RESV_END           16  /* le64, inclusive */
#define VIRTIO_IOMMU_RESV_MEM_SIZE      24

/* The x86 MSI doorbell, reported as RESV_MEM MSI for every endpoint and
 * passed through untranslated (H.5). */
#define VIRTIO_IOMMU_MSI_START          0xfee00000ULL
#define VIRTIO_IOMMU_MSI_END            0xfeefffffULL

/* --- H.7 Fault event (eventq, 24 bytes) --------------------------------------------- */
#define VIRTIO_IOMMU_FAULT_REASON       0   /* u8 */
#define  VIRTIO_IOMMU_FAULT_R_UNKNOWN   0
#define  VIRTIO_IOMMU_FAULT_R_DOMAIN    1
#define  VIRTIO_IOMMU_FAULT_R_MAPPING   2
#define VIRTIO_IOMMU_FAULT_RESERVED     1   /* u8[3] */
#define VIRTIO_IOMMU_FAULT_FLAGS        4   /* le32 */
#define  VIRTIO_IOMMU_FAULT_F_READ      (1u << 0)
#define  VIRTIO_IOMMU_FAULT_F_WRITE     (1u << 1)
#define  VIRTIO_IOMMU_FAULT_F_ADDRESS   (1u << 8)
#define VIRTIO_IOMMU_FAULT_ENDPOINT     8   /* le32 */
#define VIRTIO_IOMMU_FAULT_RESERVED1    12  /* le32 */
#define VIRTIO_IOMMU_FAULT_ADDRESS      16  /* le64 */
#define VIRTIO_IOMMU_FAULT_SIZE         24

/* --- Limits of this implementation ------------------------------------------------- */
/* Guest-driven growth: beyond these, ATTACH / MAP answer NOMEM.  The
 * "x-max-domains" / "x-max-mappings" properties lower them (tests). */
#define VIRTIO_IOMMU_MAX_DOMAINS        1024
#define VIRTIO_IOMMU_MAX_MAPPINGS       65536   /* per domain */

/* --- State ----------------------------------------------------------------------- */

typedef struct VirtIOIOMMU VirtIOIOMMU;
typedef struct VirtIOIOMMUDomain VirtIOIOMMUDomain;

/* A reserved region reported by PROBE (RESV_MEM), inclusive bounds. */
typedef struct VirtIOIOMMUResvRegion {
    uint64_t start;
    uint64_t end;
    uint8_t subtype;            /* VIRTIO_IOMMU_RESV_MEM_T_* */
} VirtIOIOMMUResvRegion;

/* One MAP: [virt_start, virt_end] -> phys_start.  Owned by its domain's
 * tree; virt_start is the key. */
typedef struct VirtIOIOMMUMapping {
    uint64_t virt_start;
    uint64_t virt_end;          /* inclusive */
    uint64_t phys_start;
    uint32_t flags;             /* VIRTIO_IOMMU_MAP_F_* */
} VirtIOIOMMUMapping;

/*
 * A domain, created by the first ATTACH naming its id and destroyed with
 * its mappings when its last endpoint leaves (DETACH, a move, reset).
 * Invariants: endpoints is never empty while the domain is in
 * VirtIOIOMMU.domains; mappings never overlap; a bypass domain has no
 * mappings.
 */
struct VirtIOIOMMUDomain {
    uint32_t id;
    bool bypass;                /* created with ATTACH_F_BYPASS */
    GTree *mappings;            /* &virt_start -> VirtIOIOMMUMapping */
    GList *endpoints;           /* VirtIOIOMMUEndpoint *, not owned */
};

/*
 * One PCI function's DMA address space, created by get_address_space()
 * for (bus, devfn) and kept until the device is unrealized (like
 * intel-iommu's, an unplug does not free it).  Its endpoint ID is
 * computed at use: the guest may renumber buses.
 *
 * root (container, 2^64) holds:
 *   iommu   translating region, enabled unless the endpoint bypasses;
 *   bypass  alias of system memory, enabled while it bypasses (unattached
 *           with config.bypass = 1, or in a bypass domain);
 *   msi     alias of the MSI window 0xfee00000-0xfeefffff, priority 1
 *           over both: never translated (RESV_MEM MSI).
 */
typedef struct VirtIOIOMMUEndpoint {
    VirtIOIOMMU *viommu;
    PCIBus *bus;
    uint8_t devfn;
    char *name;                 /* owned */

    AddressSpace as;
    MemoryRegion root;
    IOMMUMemoryRegion iommu;
    MemoryRegion bypass;
    MemoryRegion msi;
    bool translating;           /* iommu (true) or bypass enabled */

    VirtIOIOMMUDomain *domain;  /* NULL while unattached */

    /* The host IOMMU device of an assigned device (referenced), and the
     * host's unusable IOVA ranges (VirtIOIOMMUResvRegion, RESERVED), both
     * set by set_iommu_device and dropped by unset. */
    struct HostIOMMUDevice *hiod;
    GArray *host_resv;
} VirtIOIOMMUEndpoint;

struct VirtIOIOMMU {
    VirtIODevice parent_obj;

    VirtQueue *req_vq;
    VirtQueue *event_vq;

    /* Properties (qemu_behaviour §5) */
    bool boot_bypass;           /* "boot-bypass": config.bypass at power-on */
    int granule_mode;           /* "granule": VIOMMU_GRANULE_* */
    uint8_t aw_bits;            /* "aw-bits": 32..64 */
    GArray *prop_resv;          /* "reserved-regions": VirtIOIOMMUResvRegion */
    uint32_t max_domains;       /* "x-max-domains" */
    uint32_t max_mappings;      /* "x-max-mappings" */

    /* Derived at realize */
    uint64_t granule;           /* smallest page of pgsize_mask */
    uint64_t pgsize_mask;       /* config.page_size_mask; ANDed with the
                                 * hosts' masks before machine init */
    uint64_t input_end;         /* 2^aw_bits - 1 */
    GArray *resv;               /* prop_resv + the MSI window */
    PCIDevice *proxy;           /* our PCI function: its DMA bypasses us */
    PCIBus *root_bus;           /* hooked; referenced */
    bool reset_registered;

    /* Runtime */
    bool bypass;                /* config.bypass (survives device reset) */
    GPtrArray *endpoints;       /* VirtIOIOMMUEndpoint *, owned */
    GHashTable *domains;        /* id -> VirtIOIOMMUDomain *, owned */
    uint64_t events_dropped;    /* faults with no eventq buffer */
};

DECLARE_INSTANCE_CHECKER(VirtIOIOMMU, VIRTIO_IOMMU, TYPE_VIRTIO_IOMMU)

/* "granule" values (QEMU's GranuleMode). */
enum {
    VIOMMU_GRANULE_4K,
    VIOMMU_GRANULE_8K,
    VIOMMU_GRANULE_16K,
    VIOMMU_GRANULE_64K,
    VIOMMU_GRANULE_HOST,
};

/* The endpoint whose current ID (requester id) is id, NULL if none. */
VirtIOIOMMUEndpoint *viommu_find_endpoint(VirtIOIOMMU *s, uint32_t id);
/* The endpoint's ID: bus number << 8 | devfn. */
uint16_t viommu_endpoint_id(const VirtIOIOMMUEndpoint *ep);

#endif
