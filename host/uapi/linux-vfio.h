/*
 * The Linux VFIO user ABI (legacy container/group/type1, device fd, device
 * cdev with iommufd), as viommu uses it.
 *
 * viommu's own statement of the ABI, written from uapi_facts.md sections 3
 * and 4: names are the kernel's, nothing is copied from a kernel header.
 * Debian 12's <linux/vfio.h> is 6.1 and lacks the cdev ioctls; it must never
 * be included in the same translation unit (its struct names are the same).
 */
#ifndef VIOMMU_UAPI_LINUX_VFIO_H
#define VIOMMU_UAPI_LINUX_VFIO_H

#if defined(VFIO_H) || defined(_UAPIVFIO_H) || defined(_UAPI_VFIO_H)
#error "a system <linux/vfio.h> is included: use host/uapi/linux-vfio.h only"
#endif

#include <linux/types.h>
#include <linux/ioctl.h>
#include <stddef.h>

#define VFIO_API_VERSION        0
#define VFIO_TYPE               (';')
#define VFIO_BASE               100

/* Extensions (VFIO_CHECK_EXTENSION) and IOMMU types (VFIO_SET_IOMMU). */
#define VFIO_TYPE1_IOMMU        1
#define VFIO_SPAPR_TCE_IOMMU    2
#define VFIO_TYPE1v2_IOMMU      3
#define VFIO_DMA_CC_IOMMU       4
#define VFIO_EEH                5
#define VFIO_TYPE1_NESTING_IOMMU 6      /* reserved, never supported */
#define VFIO_SPAPR_TCE_v2_IOMMU 7
#define VFIO_NOIOMMU_IOMMU      8
#define VFIO_UNMAP_ALL          9
#define VFIO_UPDATE_VADDR       10

/* ---- container (/dev/vfio/vfio) ----------------------------------------- */

#define VFIO_GET_API_VERSION    _IO(VFIO_TYPE, VFIO_BASE + 0)
#define VFIO_CHECK_EXTENSION    _IO(VFIO_TYPE, VFIO_BASE + 1)  /* arg: int by value */
#define VFIO_SET_IOMMU          _IO(VFIO_TYPE, VFIO_BASE + 2)  /* arg: int by value */

/* Every VFIO info/argument struct starts with argsz (the caller's size). */

struct vfio_info_cap_header {
    __u16 id;
    __u16 version;
    __u32 next;             /* offset from the start of the info buffer; 0 ends */
};

/* ---- group (/dev/vfio/<N>) ---------------------------------------------- */

struct vfio_group_status {
    __u32 argsz;
    __u32 flags;
#define VFIO_GROUP_FLAGS_VIABLE         (1 << 0)
#define VFIO_GROUP_FLAGS_CONTAINER_SET  (1 << 1)
};
#define VFIO_GROUP_GET_STATUS   _IO(VFIO_TYPE, VFIO_BASE + 3)
#define VFIO_GROUP_SET_CONTAINER _IO(VFIO_TYPE, VFIO_BASE + 4) /* arg: int *fd */
#define VFIO_GROUP_UNSET_CONTAINER _IO(VFIO_TYPE, VFIO_BASE + 5)
#define VFIO_GROUP_GET_DEVICE_FD _IO(VFIO_TYPE, VFIO_BASE + 6) /* arg: char *name */

/* ---- device ------------------------------------------------------------- */

struct vfio_device_info {
    __u32 argsz;
    __u32 flags;
#define VFIO_DEVICE_FLAGS_RESET     (1 << 0)
#define VFIO_DEVICE_FLAGS_PCI       (1 << 1)
#define VFIO_DEVICE_FLAGS_PLATFORM  (1 << 2)
#define VFIO_DEVICE_FLAGS_AMBA      (1 << 3)
#define VFIO_DEVICE_FLAGS_CCW       (1 << 4)
#define VFIO_DEVICE_FLAGS_AP        (1 << 5)
#define VFIO_DEVICE_FLAGS_FSL_MC    (1 << 6)
#define VFIO_DEVICE_FLAGS_CAPS      (1 << 7)
#define VFIO_DEVICE_FLAGS_CDX       (1 << 8)
    __u32 num_regions;
    __u32 num_irqs;
    __u32 cap_offset;
    __u32 pad;
};
#define VFIO_DEVICE_GET_INFO    _IO(VFIO_TYPE, VFIO_BASE + 7)

#define VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP 5
struct vfio_device_info_cap_pci_atomic_comp {
    struct vfio_info_cap_header header;
    __u32 flags;
#define VFIO_PCI_ATOMIC_COMP32  (1 << 0)
#define VFIO_PCI_ATOMIC_COMP64  (1 << 1)
#define VFIO_PCI_ATOMIC_COMP128 (1 << 2)
    __u32 reserved;
};

struct vfio_region_info {
    __u32 argsz;
    __u32 flags;
#define VFIO_REGION_INFO_FLAG_READ  (1 << 0)
#define VFIO_REGION_INFO_FLAG_WRITE (1 << 1)
#define VFIO_REGION_INFO_FLAG_MMAP  (1 << 2)
#define VFIO_REGION_INFO_FLAG_CAPS  (1 << 3)
    __u32 index;
    __u32 cap_offset;
    __aligned_u64 size;
    __aligned_u64 offset;   /* offset of the region in the device fd */
};
#define VFIO_DEVICE_GET_REGION_INFO _IO(VFIO_TYPE, VFIO_BASE + 8)

#define VFIO_REGION_INFO_CAP_SPARSE_MMAP 1
struct vfio_region_sparse_mmap_area {
    __aligned_u64 offset;   /* relative to the region */
    __aligned_u64 size;
};
struct vfio_region_info_cap_sparse_mmap {
    struct vfio_info_cap_header header;
    __u32 nr_areas;
    __u32 reserved;
    struct vfio_region_sparse_mmap_area areas[];
};

#define VFIO_REGION_INFO_CAP_TYPE 2
struct vfio_region_info_cap_type {
    struct vfio_info_cap_header header;
    __u32 type;
    __u32 subtype;
};
#define VFIO_REGION_TYPE_PCI_VENDOR_TYPE    (1u << 31)
#define VFIO_REGION_TYPE_PCI_VENDOR_MASK    0xffff
#define VFIO_REGION_TYPE_GFX                1
#define VFIO_REGION_TYPE_CCW                2
#define VFIO_REGION_TYPE_MIGRATION_DEPRECATED 3

#define VFIO_REGION_INFO_CAP_MSIX_MAPPABLE 3   /* no payload */

struct vfio_irq_info {
    __u32 argsz;
    __u32 flags;
#define VFIO_IRQ_INFO_EVENTFD       (1 << 0)
#define VFIO_IRQ_INFO_MASKABLE      (1 << 1)
#define VFIO_IRQ_INFO_AUTOMASKED    (1 << 2)
#define VFIO_IRQ_INFO_NORESIZE      (1 << 3)
    __u32 index;
    __u32 count;
};
#define VFIO_DEVICE_GET_IRQ_INFO _IO(VFIO_TYPE, VFIO_BASE + 9)

struct vfio_irq_set {
    __u32 argsz;
    __u32 flags;
#define VFIO_IRQ_SET_DATA_NONE      (1 << 0)
#define VFIO_IRQ_SET_DATA_BOOL      (1 << 1)
#define VFIO_IRQ_SET_DATA_EVENTFD   (1 << 2)
#define VFIO_IRQ_SET_ACTION_MASK    (1 << 3)
#define VFIO_IRQ_SET_ACTION_UNMASK  (1 << 4)
#define VFIO_IRQ_SET_ACTION_TRIGGER (1 << 5)
    __u32 index;
    __u32 start;
    __u32 count;
    __u8 data[];
};
#define VFIO_IRQ_SET_DATA_TYPE_MASK   (VFIO_IRQ_SET_DATA_NONE | \
                                       VFIO_IRQ_SET_DATA_BOOL | \
                                       VFIO_IRQ_SET_DATA_EVENTFD)
#define VFIO_IRQ_SET_ACTION_TYPE_MASK (VFIO_IRQ_SET_ACTION_MASK | \
                                       VFIO_IRQ_SET_ACTION_UNMASK | \
                                       VFIO_IRQ_SET_ACTION_TRIGGER)
#define VFIO_DEVICE_SET_IRQS    _IO(VFIO_TYPE, VFIO_BASE + 10)
#define VFIO_DEVICE_RESET       _IO(VFIO_TYPE, VFIO_BASE + 11)

/* vfio-pci region and IRQ indices (uapi_facts.md §4.3). */
enum {
    VFIO_PCI_BAR0_REGION_INDEX,
    VFIO_PCI_BAR1_REGION_INDEX,
    VFIO_PCI_BAR2_REGION_INDEX,
    VFIO_PCI_BAR3_REGION_INDEX,
    VFIO_PCI_BAR4_REGION_INDEX,
    VFIO_PCI_BAR5_REGION_INDEX,
    VFIO_PCI_ROM_REGION_INDEX,
    VFIO_PCI_CONFIG_REGION_INDEX,
    VFIO_PCI_VGA_REGION_INDEX,
    VFIO_PCI_NUM_REGIONS = 9,
};

enum {
    VFIO_PCI_INTX_IRQ_INDEX,
    VFIO_PCI_MSI_IRQ_INDEX,
    VFIO_PCI_MSIX_IRQ_INDEX,
    VFIO_PCI_ERR_IRQ_INDEX,
    VFIO_PCI_REQ_IRQ_INDEX,
    VFIO_PCI_NUM_IRQS
};

/* Hot reset. */
struct vfio_pci_dependent_device {
    union {
        __u32 group_id;
        __u32 devid;
#define VFIO_PCI_DEVID_OWNED        0
#define VFIO_PCI_DEVID_NOT_OWNED    -1
    };
    __u16 segment;
    __u8 bus;
    __u8 devfn;
};

struct vfio_pci_hot_reset_info {
    __u32 argsz;
    __u32 flags;
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID          (1 << 0)
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED    (1 << 1)
    __u32 count;
    struct vfio_pci_dependent_device devices[];
};
#define VFIO_DEVICE_GET_PCI_HOT_RESET_INFO _IO(VFIO_TYPE, VFIO_BASE + 12)

struct vfio_pci_hot_reset {
    __u32 argsz;
    __u32 flags;
    __u32 count;
    __s32 group_fds[];
};
#define VFIO_DEVICE_PCI_HOT_RESET _IO(VFIO_TYPE, VFIO_BASE + 13)

struct vfio_device_feature {
    __u32 argsz;
    __u32 flags;
#define VFIO_DEVICE_FEATURE_MASK    0xffff
#define VFIO_DEVICE_FEATURE_GET     (1 << 16)
#define VFIO_DEVICE_FEATURE_SET     (1 << 17)
#define VFIO_DEVICE_FEATURE_PROBE   (1 << 18)
    __u8 data[];
};
#define VFIO_DEVICE_FEATURE     _IO(VFIO_TYPE, VFIO_BASE + 17)
#define VFIO_DEVICE_FEATURE_PCI_VF_TOKEN    0
#define VFIO_DEVICE_FEATURE_BUS_MASTER      10

/* ---- device cdev + iommufd (uapi_facts.md §3.2) ------------------------- */

struct vfio_device_bind_iommufd {
    __u32 argsz;
    __u32 flags;
#define VFIO_DEVICE_BIND_FLAG_TOKEN (1 << 0)
    __s32 iommufd;
    __u32 out_devid;
    __aligned_u64 token_uuid_ptr;
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)

struct vfio_device_attach_iommufd_pt {
    __u32 argsz;
    __u32 flags;
#define VFIO_DEVICE_ATTACH_PASID    (1 << 0)
    __u32 pt_id;            /* in: IOAS or HWPT; out: the HWPT attached */
    __u32 pasid;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)

struct vfio_device_detach_iommufd_pt {
    __u32 argsz;
    __u32 flags;
#define VFIO_DEVICE_DETACH_PASID    (1 << 0)
    __u32 pasid;
};
#define VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 20)

/* ---- type1 IOMMU (on the container) ------------------------------------- */

struct vfio_iommu_type1_info {
    __u32 argsz;
    __u32 flags;
#define VFIO_IOMMU_INFO_PGSIZES (1 << 0)
#define VFIO_IOMMU_INFO_CAPS    (1 << 1)
    __aligned_u64 iova_pgsizes;
    __u32 cap_offset;
    __u32 pad;
};
#define VFIO_IOMMU_GET_INFO     _IO(VFIO_TYPE, VFIO_BASE + 12)

#define VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE 1
struct vfio_iova_range {
    __u64 start;
    __u64 end;              /* inclusive */
};
struct vfio_iommu_type1_info_cap_iova_range {
    struct vfio_info_cap_header header;
    __u32 nr_iovas;
    __u32 reserved;
    struct vfio_iova_range iova_ranges[];
};

#define VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION 2
struct vfio_iommu_type1_info_cap_migration {
    struct vfio_info_cap_header header;
    __u32 flags;
    __u64 pgsize_bitmap;
    __u64 max_dirty_bitmap_size;
};

#define VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL 3
struct vfio_iommu_type1_info_dma_avail {
    struct vfio_info_cap_header header;
    __u32 avail;
};

struct vfio_iommu_type1_dma_map {
    __u32 argsz;
    __u32 flags;
#define VFIO_DMA_MAP_FLAG_READ  (1 << 0)
#define VFIO_DMA_MAP_FLAG_WRITE (1 << 1)
#define VFIO_DMA_MAP_FLAG_VADDR (1 << 2)
    __u64 vaddr;
    __u64 iova;
    __u64 size;
};
#define VFIO_IOMMU_MAP_DMA      _IO(VFIO_TYPE, VFIO_BASE + 13)

struct vfio_bitmap {
    __u64 pgsize;
    __u64 size;
    __u64 *data;
};

struct vfio_iommu_type1_dma_unmap {
    __u32 argsz;
    __u32 flags;
#define VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP (1 << 0)
#define VFIO_DMA_UNMAP_FLAG_ALL             (1 << 1)
#define VFIO_DMA_UNMAP_FLAG_VADDR           (1 << 2)
    __u64 iova;
    __u64 size;             /* in: bytes; out: bytes unmapped */
    __u8 data[];
};
#define VFIO_IOMMU_UNMAP_DMA    _IO(VFIO_TYPE, VFIO_BASE + 14)
#define VFIO_IOMMU_ENABLE       _IO(VFIO_TYPE, VFIO_BASE + 15)
#define VFIO_IOMMU_DISABLE      _IO(VFIO_TYPE, VFIO_BASE + 16)

/* ---- layout checks (uapi_facts.md §3.2, §4.2; x86_64) ------------------- */

#define VFIO_CHECK_SIZE(s, n) \
    _Static_assert(sizeof(struct s) == (n), "sizeof(struct " #s ")")
#define VFIO_CHECK_OFF(s, f, n) \
    _Static_assert(offsetof(struct s, f) == (n), "offsetof(" #s ", " #f ")")

VFIO_CHECK_SIZE(vfio_info_cap_header, 8);
VFIO_CHECK_SIZE(vfio_group_status, 8);
VFIO_CHECK_SIZE(vfio_device_info, 24);
VFIO_CHECK_OFF(vfio_device_info, cap_offset, 16);
VFIO_CHECK_SIZE(vfio_region_info, 32);
VFIO_CHECK_OFF(vfio_region_info, size, 16);
VFIO_CHECK_OFF(vfio_region_info, offset, 24);
VFIO_CHECK_SIZE(vfio_region_info_cap_sparse_mmap, 16);
VFIO_CHECK_SIZE(vfio_region_sparse_mmap_area, 16);
VFIO_CHECK_SIZE(vfio_region_info_cap_type, 16);
VFIO_CHECK_SIZE(vfio_irq_info, 16);
VFIO_CHECK_SIZE(vfio_irq_set, 20);
VFIO_CHECK_SIZE(vfio_pci_dependent_device, 8);
VFIO_CHECK_SIZE(vfio_pci_hot_reset_info, 12);
VFIO_CHECK_SIZE(vfio_pci_hot_reset, 12);
VFIO_CHECK_SIZE(vfio_device_feature, 8);
VFIO_CHECK_SIZE(vfio_device_bind_iommufd, 24);
VFIO_CHECK_OFF(vfio_device_bind_iommufd, out_devid, 12);
VFIO_CHECK_OFF(vfio_device_bind_iommufd, token_uuid_ptr, 16);
VFIO_CHECK_SIZE(vfio_device_attach_iommufd_pt, 16);
VFIO_CHECK_SIZE(vfio_device_detach_iommufd_pt, 12);
VFIO_CHECK_SIZE(vfio_iommu_type1_info, 24);
VFIO_CHECK_OFF(vfio_iommu_type1_info, cap_offset, 16);
VFIO_CHECK_SIZE(vfio_iova_range, 16);
VFIO_CHECK_SIZE(vfio_iommu_type1_info_cap_iova_range, 16);
VFIO_CHECK_SIZE(vfio_iommu_type1_info_cap_migration, 32);
VFIO_CHECK_OFF(vfio_iommu_type1_info_cap_migration, pgsize_bitmap, 16);
VFIO_CHECK_SIZE(vfio_iommu_type1_info_dma_avail, 12);
VFIO_CHECK_SIZE(vfio_iommu_type1_dma_map, 32);
VFIO_CHECK_SIZE(vfio_bitmap, 24);
VFIO_CHECK_SIZE(vfio_iommu_type1_dma_unmap, 24);
_Static_assert(VFIO_GET_API_VERSION == 0x3B64, "VFIO_GET_API_VERSION code");
_Static_assert(VFIO_DEVICE_BIND_IOMMUFD == 0x3B76, "BIND_IOMMUFD code");
_Static_assert(VFIO_IOMMU_UNMAP_DMA == 0x3B72, "VFIO_IOMMU_UNMAP_DMA code");

#endif /* VIOMMU_UAPI_LINUX_VFIO_H */
