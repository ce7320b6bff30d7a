/*
 * A minimal Intel VT-d driver for guest test programs (docs/guest-tests.md).
 *
 * It plays the guest OS: finds the remapping unit (DMAR DRHD, else
 * 0xfed90000), builds legacy or scalable-mode tables in pages from
 * page_alloc(), follows the GCMD/GSTS protocol (VT-d 10.4.4: one bit per
 * write, poll GSTS), runs the invalidation queue with wait descriptors
 * (VT-d 6.5.2), reads fault records (VT-d 7.2) and sets up interrupt
 * remapping (VT-d 5.1).  Constants come from the specification; field
 * references are to the project fact sheet vtd_virtio_iommu_facts.md.
 *
 * Protocol failures (a status bit that does not follow, an invalidation
 * queue error) end the test through guest_fail() with the register values.
 */
#ifndef GUEST_VTD_H
#define GUEST_VTD_H

#include "guest.h"

/* ---- register file (facts A.1) ------------------------------------------ */
#define VTD_DEFAULT_BASE 0xfed90000ULL
#define VTD_REG_VER 0x000
#define VTD_REG_CAP 0x008
#define VTD_REG_ECAP 0x010
#define VTD_REG_GCMD 0x018
#define VTD_REG_GSTS 0x01c
#define VTD_REG_RTADDR 0x020
#define VTD_REG_CCMD 0x028
#define VTD_REG_FSTS 0x034
#define VTD_REG_FECTL 0x038
#define VTD_REG_FEDATA 0x03c
#define VTD_REG_FEADDR 0x040
#define VTD_REG_FEUADDR 0x044
#define VTD_REG_IQH 0x080
#define VTD_REG_IQT 0x088
#define VTD_REG_IQA 0x090
#define VTD_REG_ICS 0x09c
#define VTD_REG_IECTL 0x0a0
#define VTD_REG_IEDATA 0x0a4
#define VTD_REG_IEADDR 0x0a8
#define VTD_REG_IQERCD 0x0b0
#define VTD_REG_IRTA 0x0b8

/* GCMD / GSTS (facts A.2) */
#define VTD_GCMD_TE BIT(31)
#define VTD_GCMD_SRTP BIT(30)
#define VTD_GCMD_QIE BIT(26)
#define VTD_GCMD_IRE BIT(25)
#define VTD_GCMD_SIRTP BIT(24)
#define VTD_GCMD_CFI BIT(23)

/* CAP / ECAP (facts B) */
#define VTD_CAP_CM BIT(7)
#define VTD_CAP_SAGAW(cap) (((cap) >> 8) & 0x1f)
#define VTD_CAP_FRO(cap) ((unsigned int)(((cap) >> 24) & 0x3ff))
#define VTD_CAP_NFR(cap) ((unsigned int)(((cap) >> 40) & 0xff))
#define VTD_ECAP_QI BIT(1)
#define VTD_ECAP_IR BIT(3)
#define VTD_ECAP_EIM BIT(4)
#define VTD_ECAP_IRO(ecap) ((unsigned int)(((ecap) >> 8) & 0x3ff))
#define VTD_ECAP_PASID BIT(40)
#define VTD_ECAP_SMTS BIT(43)
#define VTD_ECAP_SLTS BIT(46)
#define VTD_ECAP_FLTS BIT(47)

/* FSTS (facts F.2) */
#define VTD_FSTS_PFO BIT(0)
#define VTD_FSTS_PPF BIT(1)
#define VTD_FSTS_IQE BIT(4)
#define VTD_FSTS_ICE BIT(5)
#define VTD_FSTS_ITE BIT(6)
#define VTD_FSTS_FRI(f) (((f) >> 8) & 0xff)
#define VTD_ECTL_IM BIT(31)
#define VTD_ICS_IWC BIT(0)

/* Second-stage entry bits (facts C.3) and first-stage (D.3). */
#define VTD_SL_R BIT(0)
#define VTD_SL_W BIT(1)
#define VTD_FL_P BIT(0)
#define VTD_FL_RW BIT(1)
#define VTD_FL_US BIT(2)

/* PASID entry PGTT (facts D.2) */
#define VTD_PGTT_FIRST 1
#define VTD_PGTT_SECOND 2
#define VTD_PGTT_PT 4

/* Fault reasons used by the programs (facts F.4, F.6). */
#define VTD_FR_CTX_NOT_PRESENT 0x2
#define VTD_FR_WRITE 0x5
#define VTD_FR_READ 0x6
#define VTD_FR_SM_PASID_NOT_PRESENT 0x59
#define VTD_FR_FL_NOT_PRESENT 0x71
/* Scalable mode, any stage (SGN.6/SGN.7; docs/intel-iommu.md). */
#define VTD_FR_SM_WRITE 0x85
#define VTD_FR_SM_READ 0x86

struct vtd {
    uint64_t base;
    uint64_t cap, ecap;
    uint32_t gcmd;           /* persistent GCMD bits we have set */
    unsigned int frcd;       /* byte offset of FRCD[0] */
    unsigned int nfr;        /* number of fault records */
    unsigned int iotlb_reg;  /* byte offset of the IOTLB register (IRO) */
    bool scalable;           /* TTM programmed by vtd_set_root_table */
    uint64_t *root;          /* root table (256 x 16 B) */
    /* invalidation queue (one page) */
    uint64_t *iq;
    bool iq_wide;            /* 256-bit descriptors (IQA.DW) */
    unsigned int iq_entries, iq_tail;
    volatile uint32_t *wait_status;
    uint32_t wait_seq;
    /* interrupt remapping table */
    uint64_t *irt;
    unsigned int irt_entries;
};

/*
 * An I/O page table: second stage (levels 3 or 4, AW = levels - 2) or
 * first stage (IA-32e, 4 levels).  Mappings are 4 KiB pages.
 */
struct vtd_pgtable {
    uint64_t *root;
    unsigned int levels;
    bool first_stage;
};

struct vtd_fault {
    uint64_t addr;      /* FI: page address (DMA) or index << 48 (IR) */
    uint16_t sid;
    uint8_t reason;
    bool read;          /* T = 1 */
    bool pasid_present;
    uint32_t pasid;
};

/* ---- unit discovery and global commands --------------------------------- */
/*
 * Find the unit (DMAR DRHD register base if a DMAR table exists, else
 * 0xfed90000), check VER/CAP are sane, and read CAP/ECAP.  Fails the test
 * if no unit answers.
 */
void vtd_init(struct vtd *v);
uint32_t vtd_read32(struct vtd *v, unsigned int off);
uint64_t vtd_read64(struct vtd *v, unsigned int off);
void vtd_write32(struct vtd *v, unsigned int off, uint32_t val);
void vtd_write64(struct vtd *v, unsigned int off, uint64_t val);
/* Set or clear one persistent GCMD bit and wait for GSTS to follow. */
void vtd_gcmd_set(struct vtd *v, uint32_t bit, bool on);
/* Issue a one-shot command (SRTP, SIRTP) and wait for its status bit. */
void vtd_gcmd_oneshot(struct vtd *v, uint32_t bit);

/* ---- root tables -------------------------------------------------------- */
/* Allocate an empty root table, latch it (TTM legacy or scalable), SRTP. */
void vtd_set_root_table(struct vtd *v, bool scalable);
void vtd_enable_translation(struct vtd *v);
void vtd_disable_translation(struct vtd *v);

/* ---- I/O page tables ---------------------------------------------------- */
void vtd_pgtable_init(struct vtd_pgtable *pt, unsigned int levels,
                      bool first_stage);
/*
 * Map [iova, iova + size) to [pa, ...) with 4 KiB pages.  Second stage:
 * R (always) and W if @write.  First stage: P, U/S and R/W if @write.
 */
void vtd_map(struct vtd_pgtable *pt, uint64_t iova, uint64_t pa,
             uint64_t size, bool write);
/* Clear the leaf entries of [iova, iova + size). */
void vtd_unmap(struct vtd_pgtable *pt, uint64_t iova, uint64_t size);

/* ---- legacy mode (facts C.1) -------------------------------------------- */
/* Point @bdf's context entry at @pt (TT=00, AW from pt->levels, DID @did). */
void vtd_legacy_attach(struct vtd *v, uint16_t bdf, struct vtd_pgtable *pt,
                       uint16_t did);
void vtd_legacy_detach(struct vtd *v, uint16_t bdf);

/* ---- scalable mode (facts D) -------------------------------------------- */
/*
 * Make @bdf's scalable context entry present with a PASID directory
 * (PDTS 0: 128 entries, PASIDs below 8192), PASIDE set and RID_PASID
 * @rid_pasid (the PASID used by requests without one).
 */
void vtd_sm_attach(struct vtd *v, uint16_t bdf, uint32_t rid_pasid);
/* Write @bdf's PASID entry @pasid: PGTT second stage or first stage. */
void vtd_sm_set_pasid(struct vtd *v, uint16_t bdf, uint32_t pasid,
                      struct vtd_pgtable *pt, uint16_t did);
void vtd_sm_clear_pasid(struct vtd *v, uint16_t bdf, uint32_t pasid);

/* ---- invalidation (facts E) --------------------------------------------- */
/*
 * Enable queued invalidation: one 4 KiB queue, 256-bit descriptors when
 * ECAP.SMTS (required for scalable mode), IQT = 0, QIE.
 */
void vtd_qi_enable(struct vtd *v);
/* Queue one descriptor (qw2/qw3 used only with wide descriptors). */
void vtd_qi_queue(struct vtd *v, uint64_t qw0, uint64_t qw1);
/*
 * Queue a wait descriptor (SW=1, FN=1), ring the doorbell and poll its
 * status word.  Fails the test on FSTS.IQE/ITE/ICE or a timeout.
 */
void vtd_qi_sync(struct vtd *v);
/*
 * Queue a wait descriptor with IF=1 and ring: the unit sets ICS.IWC and
 * sends the completion event (vtd_qi_completion_irq) unless IWC was set.
 */
void vtd_qi_wait_irq(struct vtd *v);
/* Program the completion event MSI (IEADDR/IEDATA), clear ICS.IWC, unmask. */
void vtd_qi_completion_irq(struct vtd *v, uint64_t addr, uint32_t data);

/* Each of these queues its descriptor and synchronises (vtd_qi_sync). */
void vtd_inv_context_global(struct vtd *v);
void vtd_inv_context_device(struct vtd *v, uint16_t did, uint16_t sid);
void vtd_inv_iotlb_global(struct vtd *v);
void vtd_inv_iotlb_domain(struct vtd *v, uint16_t did);
void vtd_inv_iotlb_page(struct vtd *v, uint16_t did, uint64_t addr,
                        unsigned int am);
/* Scalable mode: PASID-cache (DID + PASID) and PASID-based IOTLB. */
void vtd_inv_pasid_cache(struct vtd *v, uint16_t did, uint32_t pasid);
void vtd_inv_piotlb(struct vtd *v, uint16_t did, uint32_t pasid);
/* Interrupt entry cache: global, or 2^im entries from @index. */
void vtd_inv_iec_global(struct vtd *v);
void vtd_inv_iec_index(struct vtd *v, uint16_t index, unsigned int im);

/* ---- faults (facts F) --------------------------------------------------- */
uint32_t vtd_fsts(struct vtd *v);
/* Read FRCD[@i]; returns false if its F bit is clear. */
bool vtd_fault_read(struct vtd *v, unsigned int i, struct vtd_fault *f);
/*
 * Take the first pending fault (FSTS.PPF, FRI), clear its F bit and any
 * PFO; returns false if none is pending.
 */
bool vtd_fault_pop(struct vtd *v, struct vtd_fault *f);
/* Clear every pending record and FSTS's RW1C bits. */
void vtd_fault_clear_all(struct vtd *v);
/*
 * Pop the pending fault and fail the test unless it is a DMA fault with
 * this requester, page address, reason and direction.
 */
void vtd_expect_dma_fault(struct vtd *v, uint16_t sid, uint64_t addr,
                          uint8_t reason, bool read);
/* Program the fault event MSI (FEADDR/FEDATA) and unmask it (FECTL.IM=0). */
void vtd_fault_irq(struct vtd *v, uint64_t addr, uint32_t data);

/* ---- interrupt remapping (facts G) -------------------------------------- */
/*
 * Allocate a table of 2^(@s + 1) entries, latch it (IRTA, SIRTP), do a
 * global IEC invalidation (needs QI enabled) and set IRE.  @x2apic sets
 * IRTA.EIME; @allow_compat sets CFI.
 */
void vtd_ir_enable(struct vtd *v, unsigned int s, bool x2apic,
                   bool allow_compat);
void vtd_ir_disable(struct vtd *v);

#define VTD_IRTE_LEVEL BIT(4)
#define VTD_IRTE_FPD BIT(1)
/* SVT=01 with SQ=00: the requester must equal @sid exactly. */
#define VTD_IRTE_SVT_SID 1
#define VTD_IRTE_SVT_NONE 0
struct vtd_irte {
    uint8_t vector;
    uint32_t dest;          /* APIC ID (x2APIC ID with EIME) */
    bool level;             /* trigger mode */
    bool fpd;
    uint8_t svt, sq;
    uint16_t sid;
};
/*
 * Write IRTE @index (present, fixed delivery, physical destination).  If
 * the entry was present before, an index-selective IEC invalidation follows.
 */
void vtd_irte_set(struct vtd *v, unsigned int index,
                  const struct vtd_irte *e);
/* Make IRTE @index not present (with IEC invalidation). */
void vtd_irte_clear(struct vtd *v, unsigned int index);

/* Remappable-format MSI address for @index (SHV=0, facts G.4). */
static inline uint64_t vtd_ir_msi_addr(unsigned int index)
{
    return 0xfee00000ULL | ((uint64_t)(index & 0x7fff) << 5) | BIT(4) |
           ((uint64_t)((index >> 15) & 1) << 2);
}
/* Remappable-format IOAPIC RTE for @index (facts G.6). */
static inline uint64_t vtd_ir_ioapic_rte(unsigned int index, uint8_t vector,
                                         bool level, bool masked)
{
    return vector | (level ? IOAPIC_RTE_LEVEL : 0) |
           (masked ? IOAPIC_RTE_MASKED : 0) |
           ((uint64_t)((index >> 15) & 1) << 11) | BIT(48) |
           ((uint64_t)(index & 0x7fff) << 49);
}

#endif /* GUEST_VTD_H */
