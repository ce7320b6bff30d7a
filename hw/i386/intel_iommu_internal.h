/*
 * Intel VT-d (intel-iommu): register map, structure layouts, fault codes,
 * invalidation descriptors, IRTE layout, the device state and the functions
 * shared by the intel_iommu*.c files.
 *
 * Facts come from reference/vtd_virtio_iommu_facts.md; each block names the
 * section ("facts A.1") and the VT-d specification chapter it condenses.
 * Bits hi:lo are inclusive, every structure is little endian.
 *
 * Files and owners:
 *   intel_iommu.c            device, properties, CAP/ECAP, register file,
 *                            GCMD/GSTS, address spaces, reset
 *   intel_iommu_translate.c  legacy and scalable walks, cache lookups, the
 *                            page walker for replay
 *   intel_iommu_cache.c      cache creation and invalidation
 *   intel_iommu_fault.c      fault recording, fault and event interrupts
 *   intel_iommu_inval.c      register and queued invalidation, caching-mode
 *                            MAP/UNMAP notifications and replay
 *   intel_iommu_ir.c         interrupt remapping
 *   intel_iommu_nest.c       first-stage translation of assigned devices
 *                            on iommufd nested HWPTs (x-flts)
 *
 * Threading: everything runs in the main loop thread (or under the big
 * lock); no locks of our own.
 */
#ifndef HW_I386_INTEL_IOMMU_INTERNAL_H
#define HW_I386_INTEL_IOMMU_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "hw/i386/intel_iommu.h"
#include "hw/pci/pci.h"
#include "hw/qdev-core.h"
#include "qapi/qapi-types.h"
#include "system/memory.h"

/* ======================================================================
 * A. Register file (facts A.1; VT-d 10.4)
 * ====================================================================== */

#define VTD_MMIO_BASE           Q35_HOST_BRIDGE_IOMMU_ADDR
#define VTD_MMIO_SIZE           0x1000      /* one 4 KiB page (DRHD size 0) */

#define DMAR_VER_REG            0x000       /* 32 RO */
#define DMAR_CAP_REG            0x008       /* 64 RO */
#define DMAR_ECAP_REG           0x010       /* 64 RO */
#define DMAR_GCMD_REG           0x018       /* 32 WO (reads 0) */
#define DMAR_GSTS_REG           0x01c       /* 32 RO */
#define DMAR_RTADDR_REG         0x020       /* 64 RW */
#define DMAR_CCMD_REG           0x028       /* 64 RW */
#define DMAR_CCMD_REG_HI        0x02c
#define DMAR_FSTS_REG           0x034       /* 32 RW1C */
#define DMAR_FECTL_REG          0x038       /* 32 */
#define DMAR_FEDATA_REG         0x03c
#define DMAR_FEADDR_REG         0x040
#define DMAR_FEUADDR_REG        0x044
#define DMAR_AFLOG_REG          0x058       /* 64, no CAP.AFL: RO 0 */
#define DMAR_PMEN_REG           0x064       /* no PLMR/PHMR: RO 0 */
#define DMAR_PLMBASE_REG        0x068
#define DMAR_PLMLIMIT_REG       0x06c
#define DMAR_PHMBASE_REG        0x070
#define DMAR_PHMLIMIT_REG       0x078
#define DMAR_IQH_REG            0x080       /* 64 RO */
#define DMAR_IQT_REG            0x088       /* 64 RW */
#define DMAR_IQA_REG            0x090       /* 64 RW */
#define DMAR_ICS_REG            0x09c       /* 32 RW1C */
#define DMAR_IECTL_REG          0x0a0
#define DMAR_IEDATA_REG         0x0a4
#define DMAR_IEADDR_REG         0x0a8
#define DMAR_IEUADDR_REG        0x0ac
#define DMAR_IQERCD_REG         0x0b0       /* 64 RO */
#define DMAR_IRTA_REG           0x0b8       /* 64 RW */
#define DMAR_PQH_REG            0x0c0       /* no ECAP.PRS: RO 0 */
#define DMAR_PQT_REG            0x0c8
#define DMAR_PQA_REG            0x0d0
#define DMAR_PRS_REG            0x0dc
#define DMAR_PECTL_REG          0x0e0
#define DMAR_PEDATA_REG         0x0e4
#define DMAR_PEADDR_REG         0x0e8
#define DMAR_PEUADDR_REG        0x0ec

/* IOTLB registers at ECAP.IRO * 16 (QEMU's layout). */
#define VTD_IRO                 0xf
#define DMAR_IVA_REG            (VTD_IRO * 16)          /* 0xf0, 64 WO */
#define DMAR_IOTLB_REG          (VTD_IRO * 16 + 8)      /* 0xf8, 64 RW */
#define DMAR_IOTLB_REG_HI       (DMAR_IOTLB_REG + 4)

/*
 * Fault recording registers at CAP.FRO * 16, 16 bytes each.  QEMU has one
 * record; viommu has VTD_FRCD_NUM so that FRI, wrap-around and PFO on a
 * full ring are observable (CAP.NFR = VTD_FRCD_NUM - 1).
 */
#define VTD_FRO                 0x22
#define DMAR_FRCD_REG_0         (VTD_FRO * 16)          /* 0x220 */
#define VTD_FRCD_NUM            4
#define DMAR_FRCD_REG(i)        (DMAR_FRCD_REG_0 + 16 * (i))
#define DMAR_REG_END            DMAR_FRCD_REG(VTD_FRCD_NUM)   /* 0x260 */

#define VTD_VERSION             0x10        /* 1.0: register invalidation */

/* --- A.2 GCMD / GSTS ---------------------------------------------------- */
#define VTD_GCMD_TE             (1u << 31)  /* persistent */
#define VTD_GCMD_SRTP           (1u << 30)  /* one-shot */
#define VTD_GCMD_SFL            (1u << 29)  /* one-shot, no CAP.AFL: ignored */
#define VTD_GCMD_EAFL           (1u << 28)  /* persistent, ignored */
#define VTD_GCMD_WBF            (1u << 27)  /* one-shot, no CAP.RWBF: ignored */
#define VTD_GCMD_QIE            (1u << 26)  /* persistent */
#define VTD_GCMD_IRE            (1u << 25)  /* persistent */
#define VTD_GCMD_SIRTP          (1u << 24)  /* one-shot */
#define VTD_GCMD_CFI            (1u << 23)  /* persistent */
#define VTD_GCMD_MASK           0xff800000u /* QEMU: bits 31:23 writable */

#define VTD_GSTS_TES            (1u << 31)
#define VTD_GSTS_RTPS           (1u << 30)
#define VTD_GSTS_FLS            (1u << 29)
#define VTD_GSTS_AFLS           (1u << 28)
#define VTD_GSTS_WBFS           (1u << 27)
#define VTD_GSTS_QIES           (1u << 26)
#define VTD_GSTS_IRES           (1u << 25)
#define VTD_GSTS_IRTPS          (1u << 24)
#define VTD_GSTS_CFIS           (1u << 23)

/* --- A.3 RTADDR --------------------------------------------------------- */
#define VTD_RTADDR_ADDR_MASK    0xfffffffffffff000ULL
#define VTD_RTADDR_TTM_SHIFT    10
#define VTD_RTADDR_TTM_MASK     (3ULL << VTD_RTADDR_TTM_SHIFT)
#define VTD_RTADDR_WMASK        0xfffffffffffffc00ULL
enum {
    VTD_TTM_LEGACY = 0,
    VTD_TTM_SCALABLE = 1,
    VTD_TTM_RESERVED = 2,       /* DMA: 0x30; QI: IQE, IQEI 7 */
    VTD_TTM_ABORT = 3,          /* needs ECAP.ADMS (not advertised): 0x30 */
};

/* --- E.7 CCMD ----------------------------------------------------------- */
#define VTD_CCMD_ICC            (1ULL << 63)
#define VTD_CCMD_CIRG_SHIFT     61
#define VTD_CCMD_CIRG_MASK      (3ULL << VTD_CCMD_CIRG_SHIFT)
#define VTD_CCMD_CAIG_SHIFT     59
#define VTD_CCMD_CAIG_MASK      (3ULL << VTD_CCMD_CAIG_SHIFT)
#define VTD_CCMD_FM_SHIFT       32
#define VTD_CCMD_FM_MASK        (3ULL << VTD_CCMD_FM_SHIFT)
#define VTD_CCMD_SID_SHIFT      16
#define VTD_CCMD_SID_MASK       (0xffffULL << VTD_CCMD_SID_SHIFT)
#define VTD_CCMD_DID_MASK       0xffffULL
#define VTD_CCMD_WMASK          0xe0000003ffffffffULL
enum {                          /* CIRG and CAIG values, also QI CC G */
    VTD_CC_GLOBAL = 1,
    VTD_CC_DOMAIN = 2,
    VTD_CC_DEVICE = 3,
};

/* --- E.7 IOTLB / IVA ---------------------------------------------------- */
#define VTD_TLB_IVT             (1ULL << 63)
#define VTD_TLB_IIRG_SHIFT      60
#define VTD_TLB_IIRG_MASK       (3ULL << VTD_TLB_IIRG_SHIFT)
#define VTD_TLB_IAIG_SHIFT      57
#define VTD_TLB_IAIG_MASK       (3ULL << VTD_TLB_IAIG_SHIFT)
#define VTD_TLB_DR              (1ULL << 49)
#define VTD_TLB_DW              (1ULL << 48)
#define VTD_TLB_DID_SHIFT       32
#define VTD_TLB_DID_MASK        (0xffffULL << VTD_TLB_DID_SHIFT)
#define VTD_IOTLB_WMASK         0xb003ffff00000000ULL
enum {                          /* IIRG and IAIG values, also QI IOTLB G */
    VTD_TLB_GLOBAL = 1,
    VTD_TLB_DOMAIN = 2,
    VTD_TLB_PAGE = 3,
};
#define VTD_IVA_ADDR_MASK       0xfffffffffffff000ULL
#define VTD_IVA_IH              (1ULL << 6)
#define VTD_IVA_AM_MASK         0x3fULL
#define VTD_IVA_WMASK           0xfffffffffffff07fULL

/* --- F.2 FSTS ----------------------------------------------------------- */
#define VTD_FSTS_PFO            (1u << 0)
#define VTD_FSTS_PPF            (1u << 1)
#define VTD_FSTS_AFO            (1u << 2)
#define VTD_FSTS_APF            (1u << 3)
#define VTD_FSTS_IQE            (1u << 4)
#define VTD_FSTS_ICE            (1u << 5)
#define VTD_FSTS_ITE            (1u << 6)
#define VTD_FSTS_PRO            (1u << 7)
#define VTD_FSTS_FRI_SHIFT      8
#define VTD_FSTS_FRI_MASK       (0xffu << VTD_FSTS_FRI_SHIFT)
/* RW1C: QEMU has PFO|IQE; viommu also ICE|ITE (device-iotlb exists). */
#define VTD_FSTS_W1C            (VTD_FSTS_PFO | VTD_FSTS_IQE | \
                                 VTD_FSTS_ICE | VTD_FSTS_ITE)

/* --- A.4 event control (FECTL, IECTL) ----------------------------------- */
#define VTD_ECTL_IM             (1u << 31)  /* reset 1, writable */
#define VTD_ECTL_IP             (1u << 30)  /* RO */

/* --- E.1 queued invalidation registers ----------------------------------- */
#define VTD_IQA_ADDR_MASK       0xfffffffffffff000ULL
#define VTD_IQA_DW              (1ULL << 11)    /* 256-bit descriptors */
#define VTD_IQA_QS_MASK         7ULL
#define VTD_IQA_WMASK           0xfffffffffffff807ULL
#define VTD_IQHT_MASK           0x7fff0ULL      /* IQH/IQT bits 18:4 */
#define VTD_IQHT_SHIFT          4
#define VTD_IQT_WMASK           0x7fff0ULL
#define VTD_ICS_IWC             1u
enum {                          /* E.6 IQERCD.IQEI */
    VTD_IQEI_NONE = 0,
    VTD_IQEI_TAIL_BEYOND = 1,
    VTD_IQEI_FETCH = 2,
    VTD_IQEI_TYPE = 3,
    VTD_IQEI_RSVD = 4,
    VTD_IQEI_WIDTH = 5,
    VTD_IQEI_TAIL_ALIGN = 6,
    VTD_IQEI_TTM = 7,
};
#define VTD_IQERCD_IQEI_MASK    0xfULL
#define VTD_IQERCD_ITESID_SHIFT 32
#define VTD_IQERCD_ICESID_SHIFT 48

/* --- G.1 IRTA ----------------------------------------------------------- */
#define VTD_IRTA_ADDR_MASK      0xfffffffffffff000ULL
#define VTD_IRTA_EIME           (1ULL << 11)
#define VTD_IRTA_S_MASK         0xfULL
#define VTD_IRTA_WMASK          0xfffffffffffff80fULL

/* --- F.1 fault recording register (two qwords) --------------------------- */
#define VTD_FRCD_LO_FI_MASK     0xfffffffffffff000ULL
#define VTD_FRCD_LO_IR_INDEX_SHIFT 48               /* IR faults */
#define VTD_FRCD_HI_SID_MASK    0xffffULL
#define VTD_FRCD_HI_T2          (1ULL << 28)        /* bit 92 */
#define VTD_FRCD_HI_PRIV        (1ULL << 29)
#define VTD_FRCD_HI_EXE         (1ULL << 30)
#define VTD_FRCD_HI_PP          (1ULL << 31)        /* bit 95 */
#define VTD_FRCD_HI_FR_SHIFT    32                  /* bits 103:96 */
#define VTD_FRCD_HI_FR_MASK     (0xffULL << VTD_FRCD_HI_FR_SHIFT)
#define VTD_FRCD_HI_PV_SHIFT    40                  /* bits 123:104 */
#define VTD_FRCD_HI_PV_MASK     (0xfffffULL << VTD_FRCD_HI_PV_SHIFT)
#define VTD_FRCD_HI_AT_SHIFT    60
#define VTD_FRCD_HI_T           (1ULL << 62)        /* 1 = read */
#define VTD_FRCD_HI_F           (1ULL << 63)        /* RW1C */

/* ======================================================================
 * B. Capabilities (facts B; VT-d 10.4.2, 10.4.3)
 * ====================================================================== */

#define VTD_CAP_ND(x)           ((uint64_t)(x) & 7)
#define VTD_CAP_AFL             (1ULL << 3)
#define VTD_CAP_RWBF            (1ULL << 4)
#define VTD_CAP_PLMR            (1ULL << 5)
#define VTD_CAP_PHMR            (1ULL << 6)
#define VTD_CAP_CM              (1ULL << 7)
#define VTD_CAP_SAGAW_SHIFT     8
#define VTD_CAP_SAGAW_MASK      (0x1fULL << VTD_CAP_SAGAW_SHIFT)
#define VTD_CAP_SAGAW_39        (1ULL << 9)     /* AW 1, 3 levels */
#define VTD_CAP_SAGAW_48        (1ULL << 10)    /* AW 2, 4 levels */
#define VTD_CAP_SAGAW_57        (1ULL << 11)    /* AW 3, 5 levels */
#define VTD_CAP_MGAW(aw)        ((uint64_t)((aw) - 1) << 16)
#define VTD_CAP_MGAW_OF(cap)    ((unsigned)(((cap) >> 16) & 0x3f) + 1)
#define VTD_CAP_ZLR             (1ULL << 22)
#define VTD_CAP_FRO(x)          ((uint64_t)(x) << 24)
#define VTD_CAP_SLLPS_2M        (1ULL << 34)
#define VTD_CAP_SLLPS_1G        (1ULL << 35)
#define VTD_CAP_PSI             (1ULL << 39)
#define VTD_CAP_NFR(x)          ((uint64_t)(x) << 40)
#define VTD_CAP_MAMV(x)         ((uint64_t)(x) << 48)
#define VTD_CAP_MAMV_OF(cap)    ((unsigned)(((cap) >> 48) & 0x3f))
#define VTD_CAP_DWD             (1ULL << 54)
#define VTD_CAP_DRD             (1ULL << 55)
#define VTD_CAP_FL1GP           (1ULL << 56)
#define VTD_CAP_PI              (1ULL << 59)
#define VTD_CAP_FL5LP           (1ULL << 60)
#define VTD_CAP_ECMDS           (1ULL << 61)
#define VTD_CAP_ESIRTPS         (1ULL << 62)
#define VTD_CAP_ESRTPS          (1ULL << 63)

#define VTD_MAMV                18      /* QEMU: 2^18 pages = 1 GiB */
#define VTD_ND                  6       /* 64K domains */

#define VTD_ECAP_C              (1ULL << 0)
#define VTD_ECAP_QI             (1ULL << 1)
#define VTD_ECAP_DT             (1ULL << 2)
#define VTD_ECAP_IR             (1ULL << 3)
#define VTD_ECAP_EIM            (1ULL << 4)
#define VTD_ECAP_PT             (1ULL << 6)
#define VTD_ECAP_SC             (1ULL << 7)
#define VTD_ECAP_IRO(x)         ((uint64_t)(x) << 8)
#define VTD_ECAP_MHMV(x)        ((uint64_t)(x) << 20)
#define VTD_ECAP_MHMV_OF(ecap)  ((unsigned)(((ecap) >> 20) & 0xf))
#define VTD_ECAP_MTS            (1ULL << 25)
#define VTD_ECAP_NEST           (1ULL << 26)
#define VTD_ECAP_PRS            (1ULL << 29)
#define VTD_ECAP_ERS            (1ULL << 30)
#define VTD_ECAP_SRS            (1ULL << 31)
#define VTD_ECAP_NWFS           (1ULL << 33)
#define VTD_ECAP_EAFS           (1ULL << 34)
#define VTD_ECAP_PSS(x)         ((uint64_t)(x) << 35)
#define VTD_ECAP_PASID          (1ULL << 40)
#define VTD_ECAP_DIT            (1ULL << 41)
#define VTD_ECAP_PDS            (1ULL << 42)
#define VTD_ECAP_SMTS           (1ULL << 43)
#define VTD_ECAP_VCS            (1ULL << 44)
#define VTD_ECAP_SLADS          (1ULL << 45)
#define VTD_ECAP_SLTS           (1ULL << 46)
#define VTD_ECAP_FLTS           (1ULL << 47)
#define VTD_ECAP_SMPWCS         (1ULL << 48)
#define VTD_ECAP_RPS            (1ULL << 49)
#define VTD_ECAP_PMS            (1ULL << 51)
#define VTD_ECAP_ADMS           (1ULL << 52)
#define VTD_ECAP_RPRIVS         (1ULL << 53)

#define VTD_MHMV                15
#define VTD_PSS                 19      /* 20-bit PASIDs */
#define VTD_PASID_BITS          20
#define VTD_PASID_MAX           ((1u << VTD_PASID_BITS) - 1)

/* ======================================================================
 * C. Legacy mode structures (facts C; VT-d 9.1-9.3)
 * ====================================================================== */

#define VTD_PAGE_SHIFT          12
#define VTD_PAGE_SIZE           (1ULL << VTD_PAGE_SHIFT)
#define VTD_PAGE_MASK           (~(VTD_PAGE_SIZE - 1))
#define VTD_ENTRY_ADDR_MASK     0xfffffffffffff000ULL   /* 63:12 */

/* Bits at or above the host address width aw (39 or 48 here). */
#define VTD_HAW_RSVD(aw)        (~((1ULL << (aw)) - 1))

#define VTD_ROOT_ENTRY_SIZE     16
#define VTD_ROOT_ENTRY_P        1ULL
#define VTD_ROOT_LO_RSVD(aw)    (0xffeULL | VTD_HAW_RSVD(aw))
#define VTD_ROOT_HI_RSVD        0xffffffffffffffffULL

#define VTD_CONTEXT_ENTRY_SIZE  16
#define VTD_CONTEXT_LO_P        1ULL
#define VTD_CONTEXT_LO_FPD      (1ULL << 1)
#define VTD_CONTEXT_LO_TT_SHIFT 2
#define VTD_CONTEXT_LO_TT_MASK  (3ULL << VTD_CONTEXT_LO_TT_SHIFT)
#define VTD_CONTEXT_LO_RSVD(aw) (0xff0ULL | VTD_HAW_RSVD(aw))
#define VTD_CONTEXT_HI_AW_MASK  7ULL
#define VTD_CONTEXT_HI_DID_SHIFT 8
#define VTD_CONTEXT_HI_DID(hi)  ((uint16_t)((hi) >> VTD_CONTEXT_HI_DID_SHIFT))
#define VTD_CONTEXT_HI_RSVD     0xffffffffff000080ULL
enum {                          /* context TT */
    VTD_TT_MULTI_LEVEL = 0,
    VTD_TT_DEV_IOTLB = 1,       /* needs ECAP.DT */
    VTD_TT_PASS_THROUGH = 2,    /* needs ECAP.PT */
    VTD_TT_RESERVED = 3,
};

/* C.2: AW -> levels and width; AW is also the PASID-entry AW coding. */
#define VTD_AW_LEVELS(aw)       ((aw) + 2)
#define VTD_AW_AGAW(aw)         (30 + 9 * (aw))
#define VTD_AW_39BIT            1
#define VTD_AW_48BIT            2
#define VTD_LEVEL_BITS          9
#define VTD_LEVEL_SHIFT(level)  (VTD_PAGE_SHIFT + VTD_LEVEL_BITS * ((level) - 1))
#define VTD_LEVEL_INDEX(iova, level) \
    (((iova) >> VTD_LEVEL_SHIFT(level)) & 0x1ff)
#define VTD_PT_ENTRIES          512
#define VTD_MAX_LEVELS          5

/* C.3 second-level paging entry */
#define VTD_SL_R                (1ULL << 0)
#define VTD_SL_W                (1ULL << 1)
#define VTD_SL_X                (1ULL << 2)
#define VTD_SL_RW_MASK          3ULL
#define VTD_SL_PS               (1ULL << 7)
#define VTD_SL_A                (1ULL << 8)
#define VTD_SL_D                (1ULL << 9)
#define VTD_SL_SNP              (1ULL << 11)
#define VTD_SL_TM               (1ULL << 62)
#define VTD_SL_IGN_MASK         0xbff0000000000000ULL   /* 63, 61:52 */
/*
 * Reserved bits per level (QEMU's choice, facts C.3), plus 51:HAW; SNP
 * is allowed with ECAP.SC or in scalable mode, TM with stale-tm.
 */
#define VTD_SL_RSVD_L1          (1ULL << 11)
#define VTD_SL_RSVD_NONLEAF     (1ULL << 11)            /* L2, L3 */
#define VTD_SL_RSVD_2M_LEAF     0x1ff800ULL
#define VTD_SL_RSVD_1G_LEAF     0x3ffff800ULL
#define VTD_SL_RSVD_L4          0x880ULL
#define VTD_SL_RSVD_L5          0x880ULL

/* Interrupt address range (facts C.4 #15, G.4). */
#define VTD_INTERRUPT_ADDR_FIRST 0xfee00000ULL
#define VTD_INTERRUPT_ADDR_LAST  0xfeefffffULL
#define VTD_INTERRUPT_ADDR_SIZE  0x100000ULL

/* ======================================================================
 * D. Scalable mode structures (facts D; VT-d 9.4-9.9)
 * ====================================================================== */

#define VTD_SM_ROOT_LO_LP       1ULL                    /* devfn 0x00-0x7f */
#define VTD_SM_ROOT_HI_UP       1ULL                    /* devfn 0x80-0xff */
#define VTD_SM_ROOT_RSVD(aw)    (0xffeULL | VTD_HAW_RSVD(aw))

#define VTD_SM_CONTEXT_ENTRY_SIZE 32
#define VTD_SM_CONTEXT_0_P      1ULL
#define VTD_SM_CONTEXT_0_FPD    (1ULL << 1)
#define VTD_SM_CONTEXT_0_DTE    (1ULL << 2)
#define VTD_SM_CONTEXT_0_PASIDE (1ULL << 3)
#define VTD_SM_CONTEXT_0_PRE    (1ULL << 4)
#define VTD_SM_CONTEXT_0_PDTS_SHIFT 9
#define VTD_SM_CONTEXT_0_PDTS(v) (((v) >> VTD_SM_CONTEXT_0_PDTS_SHIFT) & 7)
#define VTD_SM_CONTEXT_0_RSVD(aw) (0x1e0ULL | VTD_HAW_RSVD(aw))
#define VTD_SM_CONTEXT_1_RID_PASID_MASK 0xfffffULL
#define VTD_SM_CONTEXT_1_RID_PRIV (1ULL << 20)
#define VTD_SM_CONTEXT_1_RSVD   0xffffffffffe00000ULL
/* qwords 2 and 3 are reserved (must be 0) */

/* PASID directory: index PASID[19:6], 2^(PDTS+7) entries of 8 bytes. */
#define VTD_PASID_DIR_ENTRY_SIZE 8
#define VTD_PASID_DIR_INDEX(p)  ((p) >> 6)
#define VTD_PASID_DIR_ENTRIES(pdts) (1u << ((pdts) + 7))
#define VTD_PASID_DIR_P         1ULL
#define VTD_PASID_DIR_FPD       (1ULL << 1)
#define VTD_PASID_DIR_RSVD(aw)  (0xffcULL | VTD_HAW_RSVD(aw))

/* PASID table: index PASID[5:0], 64-byte entries. */
#define VTD_PASID_ENTRY_SIZE    64
#define VTD_PASID_TABLE_INDEX(p) ((p) & 0x3f)
/* qword 0 */
#define VTD_PE0_P               1ULL
#define VTD_PE0_FPD             (1ULL << 1)
#define VTD_PE0_AW_SHIFT        2
#define VTD_PE0_AW(v)           (((v) >> VTD_PE0_AW_SHIFT) & 7)
#define VTD_PE0_SLEE            (1ULL << 5)
#define VTD_PE0_PGTT_SHIFT      6
#define VTD_PE0_PGTT(v)         (((v) >> VTD_PE0_PGTT_SHIFT) & 7)
#define VTD_PE0_SLADE           (1ULL << 9)             /* needs SLADS */
#define VTD_PE0_RSVD(aw)        (0xc00ULL | VTD_PE0_SLADE | VTD_HAW_RSVD(aw))
/* qword 1 */
#define VTD_PE1_DID_MASK        0xffffULL
#define VTD_PE1_RSVD            0x7f0000ULL             /* bits 86:80 */
/* qword 2 */
#define VTD_PE2_SRE             (1ULL << 0)
#define VTD_PE2_ERE             (1ULL << 1)             /* needs ERS */
#define VTD_PE2_FLPM_SHIFT      2
#define VTD_PE2_FLPM(v)         (((v) >> VTD_PE2_FLPM_SHIFT) & 3)
#define VTD_PE2_WPE             (1ULL << 4)
#define VTD_PE2_NXE             (1ULL << 5)
#define VTD_PE2_SMEP            (1ULL << 6)
#define VTD_PE2_EAFE            (1ULL << 7)             /* needs EAFS */
#define VTD_PE2_RSVD(aw)        (0xf00ULL | VTD_PE2_ERE | VTD_PE2_EAFE | \
                                 VTD_HAW_RSVD(aw))
/* qwords 3-7 reserved (must be 0) */
enum {                          /* PASID-entry PGTT */
    VTD_PGTT_FIRST = 1,
    VTD_PGTT_SECOND = 2,
    VTD_PGTT_NESTED = 3,
    VTD_PGTT_PT = 4,
};
enum {                          /* PASID-entry FLPM */
    VTD_FLPM_4LEVEL = 0,
    VTD_FLPM_5LEVEL = 1,        /* needs CAP.FL5LP, not advertised */
};

/* D.3 first-stage (IA-32e) paging entry */
#define VTD_FL_P                (1ULL << 0)
#define VTD_FL_RW               (1ULL << 1)
#define VTD_FL_US               (1ULL << 2)
#define VTD_FL_PWT              (1ULL << 3)
#define VTD_FL_PCD              (1ULL << 4)
#define VTD_FL_A                (1ULL << 5)
#define VTD_FL_D                (1ULL << 6)
#define VTD_FL_PS               (1ULL << 7)
#define VTD_FL_EA               (1ULL << 10)
#define VTD_FL_XD               (1ULL << 63)
#define VTD_FL_IGN_MASK         0x7ff0000000000000ULL   /* 62:52 */
#define VTD_FL_RSVD_2M_LEAF     0x1fe000ULL             /* 20:13 */
#define VTD_FL_RSVD_1G_LEAF     0x3fffe000ULL           /* 29:13 */
#define VTD_FL_LEVELS           4

/* ======================================================================
 * E. Queued invalidation descriptors (facts E.2, E.3; VT-d 6.5.2)
 * ====================================================================== */

#define VTD_QI_DESC_SIZE_128    16
#define VTD_QI_DESC_SIZE_256    32
/* type = qw0[3:0] | qw0[11:9] << 4 */
#define VTD_QI_TYPE(qw0)        ((unsigned)(((qw0) & 0xf) | \
                                            (((qw0) >> 9) & 0x7) << 4))
enum {
    VTD_QI_TYPE_CC = 1,
    VTD_QI_TYPE_IOTLB = 2,
    VTD_QI_TYPE_DEVTLB = 3,
    VTD_QI_TYPE_IEC = 4,
    VTD_QI_TYPE_WAIT = 5,
    VTD_QI_TYPE_P_IOTLB = 6,    /* 256-bit only */
    VTD_QI_TYPE_PC = 7,         /* 256-bit only */
    VTD_QI_TYPE_P_DEVTLB = 8,   /* 256-bit only */
    VTD_QI_TYPE_PGRP_RESP = 9,
};
#define VTD_QI_G_SHIFT          4
#define VTD_QI_G(qw0)           ((unsigned)(((qw0) >> VTD_QI_G_SHIFT) & 3))
#define VTD_QI_DID(qw0)         ((uint16_t)((qw0) >> 16))
#define VTD_QI_PASID(qw0)       ((uint32_t)(((qw0) >> 32) & VTD_PASID_MAX))

/* 1: context-cache */
#define VTD_QI_CC_SID(qw0)      ((uint16_t)((qw0) >> 32))
#define VTD_QI_CC_FM(qw0)       ((unsigned)(((qw0) >> 48) & 3))
#define VTD_QI_CC_RSVD_LO       0xfffc00000000f1c0ULL
#define VTD_QI_CC_RSVD_HI       0xffffffffffffffffULL
/* 2: IOTLB (G as VTD_TLB_*) */
#define VTD_QI_IOTLB_DW         (1ULL << 6)
#define VTD_QI_IOTLB_DR         (1ULL << 7)
#define VTD_QI_IOTLB_RSVD_LO    0xffffffff0000f100ULL
#define VTD_QI_IOTLB_RSVD_HI    0xf80ULL
#define VTD_QI_ADDR_MASK        0xfffffffffffff000ULL   /* qw1 of 2, 6 */
#define VTD_QI_IH               (1ULL << 6)
#define VTD_QI_AM(qw1)          ((unsigned)((qw1) & 0x3f))
/* 3: device-TLB */
#define VTD_QI_DEVTLB_PFSID(qw0) ((uint16_t)((((qw0) >> 12) & 0xf) | \
                                            ((((qw0) >> 52) & 0xfff) << 4)))
#define VTD_QI_DEVTLB_MIP(qw0)  ((unsigned)(((qw0) >> 16) & 0x1f))
#define VTD_QI_DEVTLB_SID(qw0)  ((uint16_t)((qw0) >> 32))
#define VTD_QI_DEVTLB_RSVD_LO   0x000f0000ffe001f0ULL
#define VTD_QI_DEVTLB_S         1ULL
#define VTD_QI_DEVTLB_RSVD_HI   0xffeULL
/* 4: interrupt entry cache */
#define VTD_QI_IEC_INDEXED      (1ULL << 4)             /* G: 0 global */
#define VTD_QI_IEC_IM(qw0)      ((unsigned)(((qw0) >> 27) & 0x1f))
#define VTD_QI_IEC_IIDX(qw0)    ((uint16_t)((qw0) >> 32))
#define VTD_QI_IEC_RSVD_LO      0xffff000007fff1e0ULL
#define VTD_QI_IEC_RSVD_HI      0xffffffffffffffffULL
/* 5: invalidation wait */
#define VTD_QI_WAIT_IF          (1ULL << 4)
#define VTD_QI_WAIT_SW          (1ULL << 5)
#define VTD_QI_WAIT_FN          (1ULL << 6)
#define VTD_QI_WAIT_PD          (1ULL << 7)
#define VTD_QI_WAIT_SDATA(qw0)  ((uint32_t)((qw0) >> 32))
#define VTD_QI_WAIT_RSVD_LO     0xfffff180ULL
#define VTD_QI_WAIT_SADDR_MASK  0xfffffffffffffffcULL
#define VTD_QI_WAIT_RSVD_HI     0x3ULL
/* 6: PASID-based IOTLB: G 2 = all of DID+PASID, 3 = page in PASID */
enum {
    VTD_QI_PIOTLB_G_PASID = 2,
    VTD_QI_PIOTLB_G_PAGE = 3,
};
#define VTD_QI_PIOTLB_RSVD_LO   0xfff000000000f1c0ULL
#define VTD_QI_PIOTLB_RSVD_HI   0xf80ULL
/* 7: PASID cache: G 0 = DID, 1 = DID+PASID, 3 = global */
enum {
    VTD_QI_PC_G_DOMAIN = 0,
    VTD_QI_PC_G_PASID = 1,
    VTD_QI_PC_G_GLOBAL = 3,
};
#define VTD_QI_PC_RSVD_LO       0xfff000000000f1c0ULL
#define VTD_QI_PC_RSVD_HI       0xffffffffffffffffULL
/* 8: PASID-based device-TLB */
#define VTD_QI_PDEVTLB_MIP(qw0) ((unsigned)(((qw0) >> 4) & 0x1f))
#define VTD_QI_PDEVTLB_SID(qw0) ((uint16_t)((qw0) >> 16))
#define VTD_QI_PDEVTLB_G        1ULL                    /* qw1 */
#define VTD_QI_PDEVTLB_S        (1ULL << 11)            /* qw1 */

/* ======================================================================
 * F. Fault reasons (facts F.4-F.6; VT-d 7.1, 7.2, 7.3)
 * ====================================================================== */

typedef enum VTDFaultReason {
    VTD_FR_RESERVED = 0x0,
    /* Legacy DMA remapping (F.4) */
    VTD_FR_ROOT_ENTRY_P = 0x1,          /* root not present */
    VTD_FR_CONTEXT_ENTRY_P = 0x2,       /* context not present */
    VTD_FR_CONTEXT_ENTRY_INV = 0x3,     /* AW, TT or top-table read */
    VTD_FR_ADDR_BEYOND_MGAW = 0x4,
    VTD_FR_WRITE = 0x5,
    VTD_FR_READ = 0x6,
    VTD_FR_PAGING_ENTRY_INV = 0x7,      /* paging entry read failed */
    VTD_FR_ROOT_TABLE_INV = 0x8,        /* root entry read failed */
    VTD_FR_CONTEXT_TABLE_INV = 0x9,     /* context entry read failed */
    VTD_FR_ROOT_ENTRY_RSVD = 0xa,
    VTD_FR_CONTEXT_ENTRY_RSVD = 0xb,
    VTD_FR_PAGING_ENTRY_RSVD = 0xc,
    VTD_FR_CONTEXT_ENTRY_TT = 0xd,      /* request type blocked by TT */
    VTD_FR_INTERRUPT_ADDR = 0xe,        /* output in 0xfee00000-0xfeefffff */
    /* Interrupt remapping (F.5) */
    VTD_FR_IR_REQ_RSVD = 0x20,
    VTD_FR_IR_INDEX_OVER = 0x21,
    VTD_FR_IR_ENTRY_P = 0x22,
    VTD_FR_IR_ROOT_INVAL = 0x23,        /* IRTE read failed */
    VTD_FR_IR_IRTE_RSVD = 0x24,
    VTD_FR_IR_REQ_COMPAT = 0x25,
    VTD_FR_IR_SID_ERR = 0x26,
    VTD_FR_IR_PDA_READ = 0x27,
    VTD_FR_IR_PD_RSVD = 0x28,
    VTD_FR_IR_NO_PASID = 0x29,
    /* Scalable mode (F.6) */
    VTD_FR_RTADDR_INV_TTM = 0x30,       /* RTA.1 */
    VTD_FR_RTA_PASID_TTM0 = 0x31,       /* RTA.2 */
    VTD_FR_RTA_PAGE_REQ = 0x32,         /* RTA.3 */
    VTD_FR_RTA_4 = 0x33,                /* RTA.4 */
    VTD_FR_SM_ROOT_READ = 0x38,         /* SRT.1 */
    VTD_FR_SM_ROOT_NOT_PRESENT = 0x39,  /* SRT.2: LP/UP clear */
    VTD_FR_SM_ROOT_RSVD = 0x3a,         /* SRT.3 */
    VTD_FR_SM_CTX_READ = 0x40,          /* SCT.1 */
    VTD_FR_SM_CTX_NOT_PRESENT = 0x41,   /* SCT.2 */
    VTD_FR_SM_CTX_RSVD = 0x42,          /* SCT.3 */
    VTD_FR_SM_CTX_INV = 0x43,           /* SCT.4 */
    VTD_FR_SM_CTX_DTE = 0x44,           /* SCT.5 */
    VTD_FR_SM_CTX_PASIDE = 0x45,        /* SCT.6: PASID request, PASIDE 0 */
    VTD_FR_SM_CTX_PASID_RANGE = 0x46,   /* SCT.7: PASID beyond PDTS */
    VTD_FR_SM_CTX_PRE = 0x47,           /* SCT.8 */
    VTD_FR_SM_CTX_RID_PASID = 0x48,     /* SCT.9 */
    VTD_FR_SM_PD_READ = 0x50,           /* SPD.1: directory read failed */
    VTD_FR_SM_PD_NOT_PRESENT = 0x51,    /* SPD.2 */
    VTD_FR_SM_PD_RSVD = 0x52,           /* SPD.3 */
    VTD_FR_SM_PE_READ = 0x58,           /* SPT.1: PASID entry read failed */
    VTD_FR_SM_PE_NOT_PRESENT = 0x59,    /* SPT.2 */
    VTD_FR_SM_PE_RSVD = 0x5a,           /* SPT.3 */
    VTD_FR_SM_PE_INV = 0x5b,            /* SPT.4: PGTT/AW/FLPM */
    VTD_FR_SM_PE_ERE = 0x5c,            /* SPT.5 */
    VTD_FR_SM_PE_SRE = 0x5d,            /* SPT.6 */
    VTD_FR_FS_READ = 0x70,              /* SFL.1 */
    VTD_FR_FS_NOT_PRESENT = 0x71,       /* SFL.2 */
    VTD_FR_FS_RSVD = 0x72,              /* SFL.3 */
    VTD_FR_FS_ROOT_READ = 0x73,         /* SFL.4 */
    VTD_FR_FS_NEST_MGAW = 0x74,         /* SFL.5 */
    VTD_FR_FS_NEST_ROOT_PERM = 0x75,    /* SFL.6 */
    VTD_FR_FS_NEST_READ_PERM = 0x76,    /* SFL.7 */
    VTD_FR_FS_NEST_WRITE_PERM = 0x77,   /* SFL.8 */
    VTD_FR_SS_READ = 0x78,              /* SSL.1 */
    VTD_FR_SS_PERM = 0x79,              /* SSL.2 */
    VTD_FR_SS_RSVD = 0x7a,              /* SSL.3 */
    VTD_FR_SS_PTR = 0x7b,               /* SSL.4 */
    VTD_FR_SS_AD_NOSNOOP = 0x7c,        /* SSL.5 */
    VTD_FR_NONCANONICAL = 0x80,         /* SGN.1 */
    VTD_FR_FS_USER = 0x81,              /* SGN.2: U/S 0 for a user request */
    VTD_FR_EXEC = 0x82,                 /* SGN.3 */
    VTD_FR_ADDR_BEYOND_HW = 0x83,       /* SGN.4 */
    VTD_FR_SS_ADDR_BEYOND = 0x84,       /* SGN.5 */
    VTD_FR_SM_WRITE = 0x85,             /* SGN.6 */
    VTD_FR_SM_READ = 0x86,              /* SGN.7 */
    VTD_FR_SM_INTERRUPT_ADDR = 0x87,    /* SGN.8 */
    VTD_FR_SGN_9 = 0x88,
    VTD_FR_SGN_10 = 0x89,
    VTD_FR_FS_AD_NOSNOOP = 0x90,        /* SFL.9 */
    VTD_FR_FS_AD_FAIL = 0x91,           /* SFL.10: A/D write-back failed */
    VTD_FR_MAX = 0xff,
} VTDFaultReason;

/* ======================================================================
 * G. Interrupt remapping (facts G; VT-d 5.1, 9.10)
 * ====================================================================== */

#define VTD_IRTE_SIZE           16
/* qword 0, remapped format */
#define VTD_IRTE_P              (1ULL << 0)
#define VTD_IRTE_FPD            (1ULL << 1)
#define VTD_IRTE_DM             (1ULL << 2)
#define VTD_IRTE_RH             (1ULL << 3)
#define VTD_IRTE_TM             (1ULL << 4)
#define VTD_IRTE_DLM_SHIFT      5
#define VTD_IRTE_DLM(lo)        ((unsigned)(((lo) >> 5) & 7))
#define VTD_IRTE_AVAIL_SHIFT    8
#define VTD_IRTE_IM             (1ULL << 15)            /* posted */
#define VTD_IRTE_VECTOR(lo)     ((uint8_t)((lo) >> 16))
#define VTD_IRTE_DST(lo)        ((uint32_t)((lo) >> 32))
#define VTD_IRTE_DST_XAPIC(lo)  ((uint8_t)((lo) >> 40))  /* DST[15:8] */
#define VTD_IRTE_LO_RSVD_XAPIC  0xffff00ffff007000ULL
#define VTD_IRTE_LO_RSVD_X2APIC 0x00000000ff007000ULL
/* qword 1 */
#define VTD_IRTE_SID(hi)        ((uint16_t)(hi))
#define VTD_IRTE_SQ(hi)         ((unsigned)(((hi) >> 16) & 3))
#define VTD_IRTE_SVT(hi)        ((unsigned)(((hi) >> 18) & 3))
#define VTD_IRTE_HI_RSVD        0xfffffffffff00000ULL
enum {                          /* SVT */
    VTD_SVT_NONE = 0,
    VTD_SVT_ALL = 1,
    VTD_SVT_BUS = 2,
};

/* G.4 interrupt request (DMA write to 0xfeexxxxx) */
#define VTD_MSI_ADDR_HANDLE15   (1ULL << 2)
#define VTD_MSI_ADDR_SHV        (1ULL << 3)
#define VTD_MSI_ADDR_REMAPPABLE (1ULL << 4)
#define VTD_MSI_ADDR_HANDLE(a)  ((unsigned)(((a) >> 5) & 0x7fff))

/* ======================================================================
 * Device state
 * ====================================================================== */

typedef struct IntelIOMMUState IntelIOMMUState;
typedef struct VTDAddressSpace VTDAddressSpace;

/* A context entry as read: legacy uses lo/hi = val[0..1], scalable all 4. */
typedef struct VTDContextEntry {
    uint64_t val[4];
} VTDContextEntry;

/* A PASID-table entry (512 bits). */
typedef struct VTDPASIDEntry {
    uint64_t val[8];
} VTDPASIDEntry;

/*
 * Context cache: one entry per device address space.  Valid while gen
 * equals IntelIOMMUState.context_cache_gen (never 0), so a global
 * invalidation is one increment.  Only present, valid context entries are
 * cached, so a guest that fills a context entry after enabling remapping
 * without invalidating (CM=0) is seen at once.
 */
typedef struct VTDContextCacheEntry {
    uint32_t gen;
    bool scalable;              /* read through a scalable root table */
    VTDContextEntry ce;
} VTDContextCacheEntry;

/*
 * PASID cache: present, valid PASID-table entries of one device, keyed by
 * PASID in VTDAddressSpace.pasid_cache (uint32_t key ->
 * VTDPASIDCacheEntry *, owned by the table).  did is the entry's domain.
 */
typedef struct VTDPASIDCacheEntry {
    uint32_t pasid;
    uint16_t did;
    VTDPASIDEntry pe;
} VTDPASIDCacheEntry;

/* IOTLB pasid of requests translated in legacy mode. */
#define VTD_PASID_NONE          UINT32_MAX

/*
 * IOTLB key: domain, PASID (VTD_PASID_NONE in legacy mode; the request's
 * PASID or RID_PASID in scalable mode), page frame number at the entry's
 * level (iova >> VTD_LEVEL_SHIFT(level)) and level (1 = 4K, 2 = 2M,
 * 3 = 1G).  Lookup tries the levels from 1 up.
 */
typedef struct VTDIOTLBKey {
    uint64_t gfn;
    uint32_t pasid;
    uint16_t did;
    uint8_t level;
} VTDIOTLBKey;

typedef struct VTDIOTLBEntry {
    VTDIOTLBKey key;
    uint16_t sid;               /* requester that filled it (informative) */
    uint8_t pgtt;               /* VTD_PGTT_*; legacy: VTD_PGTT_SECOND */
    uint64_t addr;              /* output page base (aligned to the level) */
    uint64_t mask;              /* page size - 1 */
    IOMMUAccessFlags perm;
    bool dirty;                 /* first stage: D already set on the leaf */
} VTDIOTLBEntry;

#define VTD_IOTLB_MAX_SIZE      4096    /* flushed entirely when full */

/*
 * One device's DMA address space, created on demand by
 * get_address_space() for (bus, devfn) and kept until the IOMMU is
 * unrealized (a device unplug does not free it).  The requester id is
 * computed at use, the guest may renumber buses.
 *
 * root (container, 2^64) holds:
 *   iommu   translating region, enabled while remapping applies;
 *   nodmar  alias of system memory, enabled while it does not (TE=0, or
 *           pass-through for requests without PASID);
 *   ir      0xfee00000-0xfeefffff, priority 1 over both: interrupt
 *           requests (writes without PASID) go to vtd_ir_msi_write().
 * vtd_switch_address_space() flips iommu/nodmar.
 */
struct VTDAddressSpace {
    IntelIOMMUState *iommu_state;
    PCIBus *bus;
    uint8_t devfn;
    char *name;                 /* owned */

    AddressSpace as;
    MemoryRegion root;
    IOMMUMemoryRegion iommu;
    MemoryRegion nodmar;
    MemoryRegion ir;
    bool dmar_on;               /* iommu (true) or nodmar (false) enabled */

    VTDContextCacheEntry context_cache_entry;
    GHashTable *pasid_cache;    /* see VTDPASIDCacheEntry */

    /* intel_iommu_inval.c: caching-mode shadow state; NULL until used,
     * released by vtd_cm_as_destroy(). */
    struct VTDCMState *cm;

    /* intel_iommu_nest.c: set while an iommufd host IOMMU device backs
     * this device under x-flts (its host attachment); else NULL. */
    struct VTDNestState *nest;
};

struct IntelIOMMUState {
    DeviceState parent_obj;

    /* Properties (facts qemu_behaviour §4) */
    uint8_t aw_bits;            /* 39 or 48 */
    bool caching_mode;
    bool scalable_mode;         /* "x-scalable-mode" / "scalable-mode" */
    bool flts;                  /* "x-flts" */
    bool fs1gp;
    OnOffAuto intr_eim;         /* "eim" */
    OnOffAuto intremap;         /* "intremap" */
    bool device_iotlb;
    bool pt;
    bool dma_drain;
    bool snoop_control;
    bool pasid;                 /* "x-pasid-mode" */
    bool dma_translation;
    bool stale_tm;

    /* Derived at realize */
    uint64_t cap;
    uint64_t ecap;
    bool ir_supported;          /* ECAP.IR advertised */
    bool eim_supported;         /* ECAP.EIM advertised */

    /* Register file: value and per-byte write masks (intel_iommu.c). */
    MemoryRegion mmio;
    bool mmio_mapped;
    uint8_t regs[VTD_MMIO_SIZE];
    uint8_t wmask[VTD_MMIO_SIZE];   /* writable bits */
    uint8_t w1cmask[VTD_MMIO_SIZE]; /* write-1-to-clear bits */
    uint8_t womask[VTD_MMIO_SIZE];  /* write-only bits: read as 0 */

    /* Latched by SRTP / TE */
    bool dmar_enabled;          /* GSTS.TES */
    uint64_t root;              /* root table base */
    uint8_t root_ttm;           /* VTD_TTM_* latched with it */
    bool root_set;              /* SRTP done since reset */

    /* Fault recording (intel_iommu_fault.c) */
    uint16_t next_frcd;         /* next record to fill */

    /* Queued invalidation (intel_iommu_inval.c owns these) */
    bool qi_enabled;            /* GSTS.QIES */
    uint64_t iq;                /* queue base */
    uint32_t iq_size;           /* entries */
    bool iq_dw;                 /* 256-bit descriptors */
    uint32_t iq_head;           /* index */
    uint32_t iq_tail;           /* index */
    struct VTDInvalState *inval;/* private to intel_iommu_inval.c */

    /* Interrupt remapping (intel_iommu_ir.c owns these) */
    bool intr_enabled;          /* GSTS.IRES */
    uint64_t intr_root;         /* IRTA base latched by SIRTP */
    uint32_t intr_size;         /* entries: 2^(S+1) */
    bool intr_eime;             /* x2APIC mode latched by SIRTP */
    struct VTDIRState *ir;      /* private to intel_iommu_ir.c */

    /* Caches (intel_iommu_translate.c) */
    uint32_t context_cache_gen; /* never 0 */
    GHashTable *iotlb;          /* VTDIOTLBKey * -> VTDIOTLBEntry * */

    /* Address spaces in creation order (VTDAddressSpace *, owned). */
    GPtrArray *address_spaces;
    PCIBus *root_bus;           /* where the hook is installed; ref held */
    /* Accepted host IOMMU devices of assigned devices, keyed by (bus,
     * devfn) (VTDHostIOMMUDev *, owned, each holding a ref on its hiod). */
    GPtrArray *host_iommu_devs;
};

DECLARE_INSTANCE_CHECKER(IntelIOMMUState, INTEL_IOMMU_DEVICE,
                         TYPE_INTEL_IOMMU_DEVICE)

/* The address space embedding an IOMMU region. */
static inline VTDAddressSpace *vtd_as_of_iommu(IOMMUMemoryRegion *iommu)
{
    return (VTDAddressSpace *)((char *)iommu -
                               offsetof(VTDAddressSpace, iommu));
}

/* ======================================================================
 * Register file access (intel_iommu.c), for all the .c files.  Plain
 * stores: no side effects, no masks.
 * ====================================================================== */

static inline uint32_t vtd_get_long(IntelIOMMUState *s, unsigned off)
{
    return (uint32_t)s->regs[off] | (uint32_t)s->regs[off + 1] << 8 |
           (uint32_t)s->regs[off + 2] << 16 | (uint32_t)s->regs[off + 3] << 24;
}

static inline uint64_t vtd_get_quad(IntelIOMMUState *s, unsigned off)
{
    return (uint64_t)vtd_get_long(s, off) |
           (uint64_t)vtd_get_long(s, off + 4) << 32;
}

static inline void vtd_set_long(IntelIOMMUState *s, unsigned off,
                                uint32_t val)
{
    for (int i = 0; i < 4; i++) {
        s->regs[off + i] = val >> (8 * i);
    }
}

static inline void vtd_set_quad(IntelIOMMUState *s, unsigned off,
                                uint64_t val)
{
    vtd_set_long(s, off, (uint32_t)val);
    vtd_set_long(s, off + 4, (uint32_t)(val >> 32));
}

/* Returns the new value. */
static inline uint32_t vtd_set_clear_mask_long(IntelIOMMUState *s,
                                               unsigned off, uint32_t clear,
                                               uint32_t set)
{
    uint32_t v = (vtd_get_long(s, off) & ~clear) | set;

    vtd_set_long(s, off, v);
    return v;
}

static inline uint64_t vtd_set_clear_mask_quad(IntelIOMMUState *s,
                                               unsigned off, uint64_t clear,
                                               uint64_t set)
{
    uint64_t v = (vtd_get_quad(s, off) & ~clear) | set;

    vtd_set_quad(s, off, v);
    return v;
}

/* ======================================================================
 * intel_iommu.c: address spaces
 * ====================================================================== */

/* Requester id of the address space's device, with the bus number now. */
uint16_t vtd_as_sid(const VTDAddressSpace *vas);
/* Calls fn for every address space, in creation order. */
void vtd_foreach_address_space(IntelIOMMUState *s,
                               void (*fn)(VTDAddressSpace *vas, void *opaque),
                               void *opaque);
/* The address space of sid if one was created, else NULL. */
VTDAddressSpace *vtd_find_address_space(IntelIOMMUState *s, uint16_t sid);
/*
 * Enables the iommu or the nodmar region of vas according to TE and the
 * device's context (pass-through for requests without PASID).  Reads the
 * context through the cache, records no fault.
 */
void vtd_switch_address_space(VTDAddressSpace *vas);
void vtd_switch_address_space_all(IntelIOMMUState *s);
/* FSTS/FECTL etc. after a register write: see intel_iommu_fault.c. */

/* ======================================================================
 * intel_iommu_translate.c: translation, caches, page walk
 * ====================================================================== */

/* The IOMMUMemoryRegionOps.translate of every VTDAddressSpace. */
IOMMUTLBEntry vtd_iommu_translate(IOMMUMemoryRegion *iommu, hwaddr addr,
                                  IOMMUAccessFlags flag, MemTxAttrs attrs);

/*
 * The device's context entry (legacy or scalable per the latched root),
 * through the context cache; fills it on a miss.  Returns 0, or the fault
 * reason that a request would get (nothing is recorded).
 */
VTDFaultReason vtd_as_get_context(IntelIOMMUState *s, VTDAddressSpace *vas,
                                  VTDContextEntry *ce);
/*
 * The domain id governing vas's requests with pasid (VTD_PASID_NONE:
 * requests without PASID, i.e. RID_PASID in scalable mode).  False when
 * the structures do not resolve.  No fault is recorded.
 */
bool vtd_as_get_did(IntelIOMMUState *s, VTDAddressSpace *vas, uint32_t pasid,
                    uint16_t *did);
/*
 * Scalable mode: the RID_PASID entry governing vas's requests without
 * PASID, through the context and PASID caches (filling them).  Returns 0,
 * or the fault reason a request would get (nothing recorded;
 * VTD_FR_RTADDR_INV_TTM with a legacy root).  *fpd: the FPD bits seen.
 */
VTDFaultReason vtd_as_get_rid_pasid_entry(IntelIOMMUState *s,
                                          VTDAddressSpace *vas,
                                          VTDPASIDCacheEntry *pc, bool *fpd);
/* Whether requests without PASID from vas are passed through untranslated
 * (legacy TT=2, scalable RID_PASID entry PGTT=PT). */
bool vtd_as_pt_enabled(IntelIOMMUState *s, VTDAddressSpace *vas);

/*
 * Walks the device's current translation tables for requests without
 * PASID (legacy second-level, or scalable RID_PASID: second stage, first
 * stage or nested) over [start, end] (inclusive, clipped to the address
 * width) and calls hook for every mapped range (perm != IOMMU_NONE) and,
 * with notify_unmap, every unmapped range (perm IOMMU_NONE).  Contiguous
 * pages with the same permissions and contiguous output are merged and
 * announced as the largest naturally aligned power-of-two chunks.  Sets no
 * accessed/dirty bits, records no faults.  The walk is bounded (a budget of
 * entry reads; a guest table that loops is cut off with -E2BIG).
 *
 * Returns 0; a non-zero return of hook (the walk stops); -ENOENT when the
 * context or PASID structures do not resolve (nothing mapped: the caller
 * unmaps all); -EOPNOTSUPP when the device is in pass-through or TE=0
 * (nothing to shadow, the nodmar region is in use); -E2BIG (cut off).
 */
typedef int (*VTDPageWalkHook)(const IOMMUTLBEntry *entry, void *opaque);
int vtd_page_walk(IntelIOMMUState *s, VTDAddressSpace *vas, uint64_t start,
                  uint64_t end, bool notify_unmap, VTDPageWalkHook hook,
                  void *opaque);

/*
 * intel_iommu_cache.c: cache invalidation entry points (called by
 * intel_iommu_inval.c).
 * Context and PASID cache invalidations also re-evaluate the affected
 * address spaces (vtd_switch_address_space); caching-mode notifications
 * are the caller's business.
 */
void vtd_context_cache_invalidate_all(IntelIOMMUState *s);
/* Domain-selective: legacy entries whose DID matches; scalable: all
 * (scalable context entries carry no DID, facts E.4). */
void vtd_context_cache_invalidate_domain(IntelIOMMUState *s, uint16_t did);
/* Device-selective; fm is the CCMD/descriptor FM field (0-3): function
 * bits ignored in the compare (facts E.3). */
void vtd_context_cache_invalidate_devices(IntelIOMMUState *s, uint16_t sid,
                                          uint8_t fm);

void vtd_iotlb_invalidate_all(IntelIOMMUState *s);
void vtd_iotlb_invalidate_domain(IntelIOMMUState *s, uint16_t did);
/* Page-selective, 2^am pages at addr (aligned down): entries of did
 * overlapping the range; in scalable mode also every first-stage/nested
 * entry of did (facts E.4).  ih: only leaves changed (no effect here). */
void vtd_iotlb_invalidate_page(IntelIOMMUState *s, uint16_t did,
                               uint64_t addr, uint8_t am, bool ih);
/* PASID-based IOTLB (type 6): all of did+pasid, or its first-stage/nested
 * entries overlapping 2^am pages at addr. */
void vtd_iotlb_invalidate_pasid(IntelIOMMUState *s, uint16_t did,
                                uint32_t pasid);
void vtd_iotlb_invalidate_pasid_page(IntelIOMMUState *s, uint16_t did,
                                     uint32_t pasid, uint64_t addr,
                                     uint8_t am, bool ih);

typedef enum VTDPASIDCacheGran {
    VTD_PASID_CACHE_GLOBAL,
    VTD_PASID_CACHE_DOMAIN,     /* all PASIDs of did */
    VTD_PASID_CACHE_PASID,      /* did + pasid */
} VTDPASIDCacheGran;
void vtd_pasid_cache_invalidate(IntelIOMMUState *s, VTDPASIDCacheGran gran,
                                uint16_t did, uint32_t pasid);

/* Drops every cache (context, PASID, IOTLB): SRTP, TE change, reset. */
void vtd_reset_caches(IntelIOMMUState *s);
void vtd_caches_init(IntelIOMMUState *s);
void vtd_caches_fini(IntelIOMMUState *s);

/*
 * A DMA access that lands in vas's interrupt window but is not an
 * interrupt request (a read, or a PASID-tagged write, facts D.4):
 * translated like any DMA (faults recorded) and performed in system
 * memory.  addr is the full address.
 */
MemTxResult vtd_window_dma_rw(VTDAddressSpace *vas, hwaddr addr,
                              uint64_t *data, unsigned size, MemTxAttrs attrs,
                              bool is_write);

/* ======================================================================
 * intel_iommu_fault.c: faults and event interrupts (facts A.4, F)
 * ====================================================================== */

/*
 * Records a DMA remapping fault (F.3): collapsing by SID, PFO, PPF/FRI and
 * the fault event.  is_fpd_set: the governing FPD; qualified reasons are
 * then dropped.  addr is the request's address (the page is recorded).
 */
void vtd_report_fault(IntelIOMMUState *s, VTDFaultReason fr, bool is_fpd_set,
                      uint16_t sid, uint64_t addr, bool is_write,
                      bool pasid_present, uint32_t pasid);
/* An interrupt-remapping fault: FI[63:48] = index, no T/PASID. */
void vtd_report_ir_fault(IntelIOMMUState *s, VTDFaultReason fr,
                         bool is_fpd_set, uint16_t sid, uint16_t index);
/* Whether fr is suppressed by FPD=1 (F.3; DMA and IR reasons). */
bool vtd_fault_is_qualified(VTDFaultReason fr);
/*
 * Sets FSTS bits (IQE, ICE, ITE) and raises the fault event if nothing
 * was pending (A.4).  IQERCD is the caller's.
 */
void vtd_set_fault_status(IntelIOMMUState *s, uint32_t fsts_bits);
/* After a guest write to FSTS or an FRCD: recomputes PPF/FRI, clears
 * FECTL.IP once nothing is pending (A.4). */
void vtd_fault_status_update(IntelIOMMUState *s);
/* After a guest write to FECTL: IM 1->0 with IP set sends the message. */
void vtd_fectl_write(IntelIOMMUState *s);

/*
 * Event interrupt logic shared by the fault, completion (and page-request)
 * events.  ctl_reg is FECTL/IECTL; data/addr/uaddr the message registers.
 * vtd_event_raise(): IM=1 sets IP, else sends the message and clears IP.
 * vtd_event_unmask(): call after the guest wrote ctl_reg; if IM=0 and IP=1,
 * sends and clears IP.  The message is a DMA write of the IOMMU itself to
 * uaddr:addr in system memory, never remapped.
 */
void vtd_event_raise(IntelIOMMUState *s, unsigned ctl_reg, unsigned data_reg,
                     unsigned addr_reg, unsigned uaddr_reg);
void vtd_event_unmask(IntelIOMMUState *s, unsigned ctl_reg, unsigned data_reg,
                      unsigned addr_reg, unsigned uaddr_reg);
void vtd_generate_event_msi(IntelIOMMUState *s, unsigned data_reg,
                            unsigned addr_reg, unsigned uaddr_reg);

/* ======================================================================
 * intel_iommu_inval.c (engineer B).  intel_iommu.c calls these from the
 * register write handler; weak no-op definitions stand in until the file
 * lands.
 * ====================================================================== */

/* CCMD high dword written with ICC=1 (QIE=0): perform, clear ICC, set
 * CAIG. */
void vtd_handle_ccmd_write(IntelIOMMUState *s);
/* IOTLB register high dword written with IVT=1. */
void vtd_handle_iotlb_write(IntelIOMMUState *s);
/* GCMD.QIE changed; called after GSTS.QIES has been set to en (the
 * handler may set it back, e.g. refusing to disable a busy queue). */
void vtd_handle_gcmd_qie(IntelIOMMUState *s, bool en);
/* IQT written (any width). */
void vtd_handle_iqt_write(IntelIOMMUState *s);
/* ICS written (W1C applied already). */
void vtd_handle_ics_write(IntelIOMMUState *s);
/* IECTL written (IM updated already). */
void vtd_handle_iectl_write(IntelIOMMUState *s);
/* system_reset: drop queue state (registers are reset by intel_iommu.c). */
void vtd_inval_reset(IntelIOMMUState *s);
/*
 * Caching mode: root/context changed for vas (NULL: every address
 * space): replay the device's mappings to its notifiers.  Called after
 * SRTP and TE changes (after the caches were dropped).
 */
void vtd_notify_context_change(IntelIOMMUState *s, VTDAddressSpace *vas);
/* Caching mode: UNMAP everything on every notifier (TE off, reset). */
void vtd_address_space_unmap_all(IntelIOMMUState *s);
/* IOMMUMemoryRegionOps.replay. */
void vtd_iommu_replay(IOMMUMemoryRegion *iommu, IOMMUNotifier *n);
/* Frees vas->cm (address space destruction). */
void vtd_cm_as_destroy(VTDAddressSpace *vas);
/* Device realize/unrealize: set up / free s->inval. */
void vtd_inval_init(IntelIOMMUState *s);
void vtd_inval_fini(IntelIOMMUState *s);

/* ======================================================================
 * intel_iommu_nest.c: first-stage translation on iommufd nested HWPTs
 * (x-flts with iommufd-backed assigned devices; qemu_behaviour §4)
 * ====================================================================== */

/* The host IOMMU device accepted for (bus, devfn), or NULL
 * (intel_iommu.c). */
struct HostIOMMUDevice *vtd_find_hiod(IntelIOMMUState *s, PCIBus *bus,
                                      int devfn);
/*
 * A host IOMMU device was accepted for vas's device / is about to be
 * dropped.  Added: with x-flts and an iommufd device, vas gets nest state
 * and its host attachment follows the guest from now on.  Removed: the
 * device goes back to its default HWPT, our nested HWPT is freed.
 */
void vtd_nest_device_added(IntelIOMMUState *s, VTDAddressSpace *vas);
void vtd_nest_device_removed(IntelIOMMUState *s, VTDAddressSpace *vas);
/*
 * Whether vas's device keeps the plain system-memory view although TE=1:
 * a nested device under a scalable root (the host walks the guest's
 * first stage over the nest parent, which holds GPA -> host memory).
 */
bool vtd_nest_keeps_system_view(IntelIOMMUState *s, VTDAddressSpace *vas);
/*
 * Re-reads every nested device's RID_PASID entry (through the caches)
 * and makes its host attachment match: PASID-cache and context-cache
 * invalidation, SRTP, TE changes, reset.
 */
void vtd_nest_sync_all(IntelIOMMUState *s);
/*
 * Queues the host invalidation of a guest IOTLB invalidation for the
 * nested devices it covers: domain @did (any domain when @all), RID_PASID
 * @pasid (VTD_PASID_NONE: any), 2^@am pages at @addr, or everything when
 * @whole; @ih: leaf entries only.  vtd_nest_flush() sends what is queued,
 * one IOMMU_HWPT_INVALIDATE per device (a guest batch is one call).
 */
void vtd_nest_invalidate(IntelIOMMUState *s, bool all, uint16_t did,
                         uint32_t pasid, bool whole, uint64_t addr,
                         unsigned am, bool ih);
void vtd_nest_flush(IntelIOMMUState *s);
/* Unrealize: every nested device back to its default HWPT.  Address
 * space destruction: frees what is left of vas->nest. */
void vtd_nest_fini(IntelIOMMUState *s);
void vtd_nest_as_destroy(VTDAddressSpace *vas);

/* ======================================================================
 * intel_iommu_ir.c (engineer C); weak stand-ins in intel_iommu.c.
 * ====================================================================== */

/* GCMD.SIRTP written: latch IRTA (intr_root, intr_size, intr_eime); GSTS
 * IRTPS is set by the caller. */
void vtd_ir_handle_sirtp(IntelIOMMUState *s);
/* GCMD.IRE changed; GSTS.IRES was set to en by the caller. */
void vtd_ir_handle_ire(IntelIOMMUState *s, bool en);
/* IEC invalidation (global, or 2^mask entries from index). */
void vtd_iec_invalidate(IntelIOMMUState *s, bool global, uint32_t index,
                        uint32_t mask);
/*
 * An interrupt request from vas's device (a write without PASID into
 * 0xfee00000-0xfeefffff; addr is the full address).  Remaps (or passes
 * through when IRE=0) and delivers with apic_msi_deliver(), or blocks and
 * records the IR fault.  The stand-in delivers unchanged.
 */
MemTxResult vtd_ir_msi_write(IntelIOMMUState *s, VTDAddressSpace *vas,
                             hwaddr addr, uint64_t val, unsigned size,
                             MemTxAttrs attrs);
/*
 * Remaps one MSI (for the IOAPIC and KVM paths).  sid_known: false for
 * messages without a requester (SID validation skipped).  Returns false
 * when the message is blocked (fault recorded).
 */
bool vtd_interrupt_remap_msi(IntelIOMMUState *s, uint64_t addr,
                             uint32_t data, uint16_t sid, bool sid_known,
                             uint64_t *out_addr, uint32_t *out_data);
/* Device realize/unrealize/reset hooks for s->ir. */
void vtd_ir_init(IntelIOMMUState *s);
void vtd_ir_fini(IntelIOMMUState *s);
void vtd_ir_reset(IntelIOMMUState *s);

#endif
