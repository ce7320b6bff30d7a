/*
 * The Linux iommufd user ABI (/dev/iommu), as viommu uses it.
 *
 * viommu's own statement of the ABI, written from the layouts and numbers in
 * shared/reference/uapi_facts.md (sections 1 and 2): struct and constant
 * names are the kernel's so that code reads like the kernel documentation,
 * but nothing here is copied from a kernel header.  Debian 12 ships no
 * <linux/iommufd.h>; never include a system copy next to this one.
 *
 * Every ioctl uses _IO(';', nr); the argument is a pointer to a struct whose
 * first __u32 is its size (extensible-struct rules: uapi_facts.md §1.1).
 */
#ifndef VIOMMU_UAPI_LINUX_IOMMUFD_H
#define VIOMMU_UAPI_LINUX_IOMMUFD_H

#if defined(_UAPI_IOMMUFD_H) || defined(_IOMMUFD_H)
#error "a system <linux/iommufd.h> is included: use host/uapi/linux-iommufd.h only"
#endif

#include <linux/types.h>
#include <linux/ioctl.h>
#include <stddef.h>

#define IOMMUFD_TYPE            (';')
#define IOMMUFD_CMD_BASE        0x80

/* Command numbers (uapi_facts.md §1.2). */
enum {
    IOMMUFD_CMD_DESTROY = 0x80,
    IOMMUFD_CMD_IOAS_ALLOC = 0x81,
    IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82,
    IOMMUFD_CMD_IOAS_COPY = 0x83,
    IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84,
    IOMMUFD_CMD_IOAS_MAP = 0x85,
    IOMMUFD_CMD_IOAS_UNMAP = 0x86,
    IOMMUFD_CMD_OPTION = 0x87,
    IOMMUFD_CMD_VFIO_IOAS = 0x88,
    IOMMUFD_CMD_HWPT_ALLOC = 0x89,
    IOMMUFD_CMD_GET_HW_INFO = 0x8a,
    IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING = 0x8b,
    IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP = 0x8c,
    IOMMUFD_CMD_HWPT_INVALIDATE = 0x8d,
    IOMMUFD_CMD_FAULT_QUEUE_ALLOC = 0x8e,
    IOMMUFD_CMD_IOAS_MAP_FILE = 0x8f,
    IOMMUFD_CMD_VIOMMU_ALLOC = 0x90,
    IOMMUFD_CMD_VDEVICE_ALLOC = 0x91,
    IOMMUFD_CMD_IOAS_CHANGE_PROCESS = 0x92,
    IOMMUFD_CMD_VEVENTQ_ALLOC = 0x93,
    IOMMUFD_CMD_HW_QUEUE_ALLOC = 0x94,
};

/* ---- object lifetime ---------------------------------------------------- */

struct iommu_destroy {
    __u32 size;
    __u32 id;
};
#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY)

/* ---- IOAS --------------------------------------------------------------- */

struct iommu_ioas_alloc {
    __u32 size;
    __u32 flags;            /* must be 0 */
    __u32 out_ioas_id;
};
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)

struct iommu_iova_range {
    __aligned_u64 start;
    __aligned_u64 last;     /* inclusive */
};

struct iommu_ioas_iova_ranges {
    __u32 size;
    __u32 ioas_id;
    __u32 num_iovas;        /* in: array length; out: total ranges */
    __u32 __reserved;
    __aligned_u64 allowed_iovas;    /* user pointer to iommu_iova_range[] */
    __aligned_u64 out_iova_alignment;
};
#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_IOVA_RANGES)

struct iommu_ioas_allow_iovas {
    __u32 size;
    __u32 ioas_id;
    __u32 num_iovas;
    __u32 __reserved;
    __aligned_u64 allowed_iovas;    /* user pointer to iommu_iova_range[] */
};
#define IOMMU_IOAS_ALLOW_IOVAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOW_IOVAS)

enum iommufd_ioas_map_flags {
    IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,
    IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
    IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

struct iommu_ioas_map {
    __u32 size;
    __u32 flags;
    __u32 ioas_id;
    __u32 __reserved;
    __aligned_u64 user_va;
    __aligned_u64 length;
    __aligned_u64 iova;     /* in with FIXED_IOVA, otherwise out */
};
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)

struct iommu_ioas_map_file {
    __u32 size;
    __u32 flags;
    __u32 ioas_id;
    __s32 fd;               /* memfd */
    __aligned_u64 start;    /* byte offset in the file */
    __aligned_u64 length;
    __aligned_u64 iova;
};
#define IOMMU_IOAS_MAP_FILE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP_FILE)

struct iommu_ioas_copy {
    __u32 size;
    __u32 flags;
    __u32 dst_ioas_id;
    __u32 src_ioas_id;
    __aligned_u64 length;
    __aligned_u64 dst_iova;
    __aligned_u64 src_iova;
};
#define IOMMU_IOAS_COPY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_COPY)

struct iommu_ioas_unmap {
    __u32 size;
    __u32 ioas_id;
    __aligned_u64 iova;
    __aligned_u64 length;   /* in: bytes; out: bytes unmapped */
};
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP)

/* ---- options ------------------------------------------------------------ */

enum iommufd_option {
    IOMMU_OPTION_RLIMIT_MODE = 0,
    IOMMU_OPTION_HUGE_PAGES = 1,
};

enum iommufd_option_ops {
    IOMMU_OPTION_OP_SET = 0,
    IOMMU_OPTION_OP_GET = 1,
};

struct iommu_option {
    __u32 size;
    __u32 option_id;
    __u16 op;
    __u16 __reserved;
    __u32 object_id;
    __aligned_u64 val64;
};
#define IOMMU_OPTION _IO(IOMMUFD_TYPE, IOMMUFD_CMD_OPTION)

enum iommufd_vfio_ioas_op {
    IOMMU_VFIO_IOAS_GET = 0,
    IOMMU_VFIO_IOAS_SET = 1,
    IOMMU_VFIO_IOAS_CLEAR = 2,
};

struct iommu_vfio_ioas {
    __u32 size;
    __u32 ioas_id;
    __u16 op;
    __u16 __reserved;
};
#define IOMMU_VFIO_IOAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VFIO_IOAS)

/* ---- HWPT --------------------------------------------------------------- */

enum iommufd_hwpt_alloc_flags {
    IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0,
    IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1,
    IOMMU_HWPT_FAULT_ID_VALID = 1 << 2,
    IOMMU_HWPT_ALLOC_PASID = 1 << 3,
};

/* VT-d stage-1 (first-stage) page table for a nested HWPT. */
enum iommu_hwpt_vtd_s1_flags {
    IOMMU_VTD_S1_SRE = 1 << 0,      /* supervisor requests */
    IOMMU_VTD_S1_EAFE = 1 << 1,     /* extended access flag */
    IOMMU_VTD_S1_WPE = 1 << 2,      /* write protect */
};

struct iommu_hwpt_vtd_s1 {
    __aligned_u64 flags;
    __aligned_u64 pgtbl_addr;       /* guest-physical root (stage-2 input) */
    __u32 addr_width;               /* 48 (4-level) or 57 (5-level) */
    __u32 __reserved;
};

struct iommu_hwpt_arm_smmuv3 {
    __aligned_le64 ste[2];
};

enum iommu_hwpt_data_type {
    IOMMU_HWPT_DATA_NONE = 0,
    IOMMU_HWPT_DATA_VTD_S1 = 1,
    IOMMU_HWPT_DATA_ARM_SMMUV3 = 2,
};

struct iommu_hwpt_alloc {
    __u32 size;
    __u32 flags;
    __u32 dev_id;
    __u32 pt_id;
    __u32 out_hwpt_id;
    __u32 __reserved;
    __u32 data_type;
    __u32 data_len;
    __aligned_u64 data_uptr;
    __u32 fault_id;
    __u32 __reserved2;
};
#define IOMMU_HWPT_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_ALLOC)

/* ---- hardware information ----------------------------------------------- */

enum iommu_hw_info_vtd_flags {
    /* read-only mappings are not allowed on a nest-parent domain */
    IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 = 1 << 0,
};

struct iommu_hw_info_vtd {
    __u32 flags;
    __u32 __reserved;
    __aligned_u64 cap_reg;          /* VT-d CAP, spec 11.4.2 */
    __aligned_u64 ecap_reg;         /* VT-d ECAP, spec 11.4.3 */
};

struct iommu_hw_info_arm_smmuv3 {
    __u32 flags;
    __u32 __reserved;
    __u32 idr[6];
    __u32 iidr;
    __u32 aidr;
};

enum iommu_hw_info_type {
    IOMMU_HW_INFO_TYPE_NONE = 0,
    IOMMU_HW_INFO_TYPE_DEFAULT = 0,
    IOMMU_HW_INFO_TYPE_INTEL_VTD = 1,
    IOMMU_HW_INFO_TYPE_ARM_SMMUV3 = 2,
    IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV = 3,
};

enum iommufd_hw_capabilities {
    IOMMU_HW_CAP_DIRTY_TRACKING = 1 << 0,
    IOMMU_HW_CAP_PCI_PASID_EXEC = 1 << 1,
    IOMMU_HW_CAP_PCI_PASID_PRIV = 1 << 2,
};

enum iommufd_hw_info_flags {
    IOMMU_HW_INFO_FLAG_INPUT_TYPE = 1 << 0,
};

struct iommu_hw_info {
    __u32 size;
    __u32 flags;
    __u32 dev_id;
    __u32 data_len;                 /* in: buffer length; out: kernel length */
    __aligned_u64 data_uptr;
    union {
        __u32 in_data_type;
        __u32 out_data_type;
    };
    __u8 out_max_pasid_log2;
    __u8 __reserved[3];
    __aligned_u64 out_capabilities;
};
#define IOMMU_GET_HW_INFO _IO(IOMMUFD_TYPE, IOMMUFD_CMD_GET_HW_INFO)

/* ---- dirty tracking ----------------------------------------------------- */

enum iommufd_hwpt_set_dirty_tracking_flags {
    IOMMU_HWPT_DIRTY_TRACKING_ENABLE = 1,
};

struct iommu_hwpt_set_dirty_tracking {
    __u32 size;
    __u32 flags;
    __u32 hwpt_id;
    __u32 __reserved;
};
#define IOMMU_HWPT_SET_DIRTY_TRACKING \
    _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING)

enum iommufd_hwpt_get_dirty_bitmap_flags {
    IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR = 1,
};

struct iommu_hwpt_get_dirty_bitmap {
    __u32 size;
    __u32 hwpt_id;
    __u32 flags;
    __u32 __reserved;
    __aligned_u64 iova;
    __aligned_u64 length;
    __aligned_u64 page_size;
    __aligned_u64 data;             /* user pointer to the bitmap */
};
#define IOMMU_HWPT_GET_DIRTY_BITMAP \
    _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP)

/* ---- invalidation ------------------------------------------------------- */

enum iommu_hwpt_invalidate_data_type {
    IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 = 0,
    IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 = 1,
};

enum iommu_hwpt_vtd_s1_invalidate_flags {
    IOMMU_VTD_INV_FLAGS_LEAF = 1 << 0,
};

/* addr 0 with npages U64_MAX invalidates everything. */
struct iommu_hwpt_vtd_s1_invalidate {
    __aligned_u64 addr;             /* 4 KiB aligned */
    __aligned_u64 npages;           /* 4 KiB units */
    __u32 flags;
    __u32 __reserved;
};

struct iommu_hwpt_invalidate {
    __u32 size;
    __u32 hwpt_id;
    __aligned_u64 data_uptr;
    __u32 data_type;
    __u32 entry_len;
    __u32 entry_num;                /* in: entries; out: entries handled */
    __u32 __reserved;
};
#define IOMMU_HWPT_INVALIDATE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_INVALIDATE)

/* ---- objects viommu does not use yet (numbers and layouts only) --------- */

struct iommu_fault_alloc {
    __u32 size;
    __u32 flags;
    __u32 out_fault_id;
    __u32 out_fault_fd;
};
#define IOMMU_FAULT_QUEUE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_FAULT_QUEUE_ALLOC)

enum iommu_viommu_type {
    IOMMU_VIOMMU_TYPE_DEFAULT = 0,
    IOMMU_VIOMMU_TYPE_ARM_SMMUV3 = 1,
    IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV = 2,
};

struct iommu_viommu_alloc {
    __u32 size;
    __u32 flags;
    __u32 type;
    __u32 dev_id;
    __u32 hwpt_id;
    __u32 out_viommu_id;
    __u32 data_len;
    __u32 __reserved;
    __aligned_u64 data_uptr;
};
#define IOMMU_VIOMMU_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VIOMMU_ALLOC)

struct iommu_vdevice_alloc {
    __u32 size;
    __u32 viommu_id;
    __u32 dev_id;
    __u32 out_vdevice_id;
    __aligned_u64 virt_id;
};
#define IOMMU_VDEVICE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VDEVICE_ALLOC)

struct iommu_ioas_change_process {
    __u32 size;
    __u32 __reserved;
};
#define IOMMU_IOAS_CHANGE_PROCESS \
    _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_CHANGE_PROCESS)

/* ---- layout checks (uapi_facts.md §1.3, §2; x86_64) --------------------- */

#define IOMMUFD_CHECK_SIZE(s, n) \
    _Static_assert(sizeof(struct s) == (n), "sizeof(struct " #s ")")
#define IOMMUFD_CHECK_OFF(s, f, n) \
    _Static_assert(offsetof(struct s, f) == (n), "offsetof(" #s ", " #f ")")

IOMMUFD_CHECK_SIZE(iommu_destroy, 8);
IOMMUFD_CHECK_SIZE(iommu_ioas_alloc, 12);
IOMMUFD_CHECK_SIZE(iommu_iova_range, 16);
IOMMUFD_CHECK_SIZE(iommu_ioas_iova_ranges, 32);
IOMMUFD_CHECK_OFF(iommu_ioas_iova_ranges, allowed_iovas, 16);
IOMMUFD_CHECK_OFF(iommu_ioas_iova_ranges, out_iova_alignment, 24);
IOMMUFD_CHECK_SIZE(iommu_ioas_allow_iovas, 24);
IOMMUFD_CHECK_SIZE(iommu_ioas_map, 40);
IOMMUFD_CHECK_OFF(iommu_ioas_map, user_va, 16);
IOMMUFD_CHECK_OFF(iommu_ioas_map, iova, 32);
IOMMUFD_CHECK_SIZE(iommu_ioas_map_file, 40);
IOMMUFD_CHECK_OFF(iommu_ioas_map_file, fd, 12);
IOMMUFD_CHECK_OFF(iommu_ioas_map_file, start, 16);
IOMMUFD_CHECK_SIZE(iommu_ioas_copy, 40);
IOMMUFD_CHECK_OFF(iommu_ioas_copy, src_iova, 32);
IOMMUFD_CHECK_SIZE(iommu_ioas_unmap, 24);
IOMMUFD_CHECK_SIZE(iommu_option, 24);
IOMMUFD_CHECK_OFF(iommu_option, op, 8);
IOMMUFD_CHECK_OFF(iommu_option, object_id, 12);
IOMMUFD_CHECK_OFF(iommu_option, val64, 16);
IOMMUFD_CHECK_SIZE(iommu_vfio_ioas, 12);
IOMMUFD_CHECK_SIZE(iommu_hwpt_alloc, 48);
IOMMUFD_CHECK_OFF(iommu_hwpt_alloc, data_type, 24);
IOMMUFD_CHECK_OFF(iommu_hwpt_alloc, data_uptr, 32);
IOMMUFD_CHECK_OFF(iommu_hwpt_alloc, fault_id, 40);
IOMMUFD_CHECK_SIZE(iommu_hwpt_vtd_s1, 24);
IOMMUFD_CHECK_SIZE(iommu_hwpt_arm_smmuv3, 16);
IOMMUFD_CHECK_SIZE(iommu_hw_info, 40);
IOMMUFD_CHECK_OFF(iommu_hw_info, data_uptr, 16);
IOMMUFD_CHECK_OFF(iommu_hw_info, in_data_type, 24);
IOMMUFD_CHECK_OFF(iommu_hw_info, out_max_pasid_log2, 28);
IOMMUFD_CHECK_OFF(iommu_hw_info, out_capabilities, 32);
IOMMUFD_CHECK_SIZE(iommu_hw_info_vtd, 24);
IOMMUFD_CHECK_SIZE(iommu_hw_info_arm_smmuv3, 40);
IOMMUFD_CHECK_SIZE(iommu_hwpt_set_dirty_tracking, 16);
IOMMUFD_CHECK_SIZE(iommu_hwpt_get_dirty_bitmap, 48);
IOMMUFD_CHECK_OFF(iommu_hwpt_get_dirty_bitmap, data, 40);
IOMMUFD_CHECK_SIZE(iommu_hwpt_invalidate, 32);
IOMMUFD_CHECK_OFF(iommu_hwpt_invalidate, data_type, 16);
IOMMUFD_CHECK_OFF(iommu_hwpt_invalidate, entry_num, 24);
IOMMUFD_CHECK_SIZE(iommu_hwpt_vtd_s1_invalidate, 24);
IOMMUFD_CHECK_SIZE(iommu_fault_alloc, 16);
IOMMUFD_CHECK_SIZE(iommu_viommu_alloc, 40);
IOMMUFD_CHECK_SIZE(iommu_vdevice_alloc, 24);
IOMMUFD_CHECK_SIZE(iommu_ioas_change_process, 8);
_Static_assert(IOMMU_IOAS_MAP == 0x3B85, "IOMMU_IOAS_MAP request code");
_Static_assert(IOMMU_HWPT_INVALIDATE == 0x3B8D, "IOMMU_HWPT_INVALIDATE code");

#endif /* VIOMMU_UAPI_LINUX_IOMMUFD_H */
