/*
 * libvtd: test-side helpers for intel-iommu qtests.
 *
 * The test plays the guest driver: it builds VT-d structures in guest RAM
 * (a bump allocator over a fixed area), programs the register file at
 * 0xfed90000 following the guest protocol, reads fault records back, runs
 * the invalidation queue and drives edu DMA through the IOMMU.  Constants
 * are written here from the specification (facts A-G), independently of
 * hw/i386/intel_iommu_internal.h, so the tests check the model against
 * the spec rather than against itself.
 *
 * Every helper asserts on a protocol failure (a GSTS bit that does not
 * follow, an allocator overflow), so tests read as guest actions + checks.
 */
#ifndef LIBVTD_H
#define LIBVTD_H

#include <stdbool.h>
#include <stdint.h>

#include "libqtest.h"

/* --- Register file (facts A.1) ------------------------------------------ */
#define VTD_BASE                0xfed90000ULL
#define VTD_REG_VER             0x000
#define VTD_REG_CAP             0x008
#define VTD_REG_ECAP            0x010
#define VTD_REG_GCMD            0x018
#define VTD_REG_GSTS            0x01c
#define VTD_REG_RTADDR          0x020
#define VTD_REG_CCMD            0x028
#define VTD_REG_FSTS            0x034
#define VTD_REG_FECTL           0x038
#define VTD_REG_FEDATA          0x03c
#define VTD_REG_FEADDR          0x040
#define VTD_REG_FEUADDR         0x044
#define VTD_REG_PMEN            0x064
#define VTD_REG_IQH             0x080
#define VTD_REG_IQT             0x088
#define VTD_REG_IQA             0x090
#define VTD_REG_ICS             0x09c
#define VTD_REG_IECTL           0x0a0
#define VTD_REG_IEDATA          0x0a4
#define VTD_REG_IEADDR          0x0a8
#define VTD_REG_IEUADDR         0x0ac
#define VTD_REG_IQERCD          0x0b0
#define VTD_REG_IRTA            0x0b8
#define VTD_REG_IVA             0x0f0       /* ECAP.IRO * 16 */
#define VTD_REG_IOTLB           0x0f8
#define VTD_REG_FRCD0           0x220       /* CAP.FRO * 16 */

/* GCMD / GSTS (facts A.2) */
#define VTD_GCMD_TE             (1u << 31)
#define VTD_GCMD_SRTP           (1u << 30)
#define VTD_GCMD_WBF            (1u << 27)
#define VTD_GCMD_QIE            (1u << 26)
#define VTD_GCMD_IRE            (1u << 25)
#define VTD_GCMD_SIRTP          (1u << 24)
#define VTD_GCMD_CFI            (1u << 23)
#define VTD_GSTS_TES            (1u << 31)
#define VTD_GSTS_RTPS           (1u << 30)
#define VTD_GSTS_QIES           (1u << 26)
#define VTD_GSTS_IRES           (1u << 25)
#define VTD_GSTS_IRTPS          (1u << 24)
#define VTD_GSTS_CFIS           (1u << 23)
/* Persistent bits, the "shadow" a driver keeps (Linux style). */
#define VTD_GSTS_PERSISTENT     (VTD_GSTS_TES | VTD_GSTS_QIES | \
                                 VTD_GSTS_IRES | VTD_GSTS_CFIS)

#define VTD_TTM_LEGACY          0
#define VTD_TTM_SCALABLE        1

/* CAP / ECAP fields (facts B) */
#define VTD_CAP_CM              (1ULL << 7)
#define VTD_CAP_SAGAW(cap)      (((cap) >> 8) & 0x1f)
#define VTD_CAP_MGAW(cap)       ((unsigned)(((cap) >> 16) & 0x3f) + 1)
#define VTD_CAP_FRO(cap)        ((unsigned)(((cap) >> 24) & 0x3ff))
#define VTD_CAP_SLLPS_2M        (1ULL << 34)
#define VTD_CAP_SLLPS_1G        (1ULL << 35)
#define VTD_CAP_PSI             (1ULL << 39)
#define VTD_CAP_NFR(cap)        ((unsigned)(((cap) >> 40) & 0xff))
#define VTD_CAP_MAMV(cap)       ((unsigned)(((cap) >> 48) & 0x3f))
#define VTD_CAP_DWD             (1ULL << 54)
#define VTD_CAP_DRD             (1ULL << 55)
#define VTD_CAP_FL1GP           (1ULL << 56)
#define VTD_CAP_ESRTPS          (1ULL << 63)
#define VTD_ECAP_QI             (1ULL << 1)
#define VTD_ECAP_DT             (1ULL << 2)
#define VTD_ECAP_IR             (1ULL << 3)
#define VTD_ECAP_EIM            (1ULL << 4)
#define VTD_ECAP_PT             (1ULL << 6)
#define VTD_ECAP_SC             (1ULL << 7)
#define VTD_ECAP_IRO(ecap)      ((unsigned)(((ecap) >> 8) & 0x3ff))
#define VTD_ECAP_MHMV(ecap)     ((unsigned)(((ecap) >> 20) & 0xf))
#define VTD_ECAP_NEST           (1ULL << 26)
#define VTD_ECAP_SRS            (1ULL << 31)
#define VTD_ECAP_PSS(ecap)      ((unsigned)(((ecap) >> 35) & 0x1f))
#define VTD_ECAP_PASID          (1ULL << 40)
#define VTD_ECAP_SMTS           (1ULL << 43)
#define VTD_ECAP_SLTS           (1ULL << 46)
#define VTD_ECAP_FLTS           (1ULL << 47)
#define VTD_ECAP_RPS            (1ULL << 49)

/* FSTS, FECTL (facts F.2, A.4) */
#define VTD_FSTS_PFO            (1u << 0)
#define VTD_FSTS_PPF            (1u << 1)
#define VTD_FSTS_IQE            (1u << 4)
#define VTD_FSTS_ICE            (1u << 5)
#define VTD_FSTS_ITE            (1u << 6)
#define VTD_FSTS_FRI(fsts)      (((fsts) >> 8) & 0xff)
#define VTD_ECTL_IM             (1u << 31)
#define VTD_ECTL_IP             (1u << 30)

/* CCMD / IOTLB registers (facts E.7) */
#define VTD_CCMD_ICC            (1ULL << 63)
#define VTD_CCMD_CIRG(g)        ((uint64_t)(g) << 61)
#define VTD_CCMD_CAIG(v)        ((unsigned)(((v) >> 59) & 3))
#define VTD_CCMD_FM(fm)         ((uint64_t)(fm) << 32)
#define VTD_CCMD_SID(sid)       ((uint64_t)(sid) << 16)
#define VTD_TLB_IVT             (1ULL << 63)
#define VTD_TLB_IIRG(g)         ((uint64_t)(g) << 60)
#define VTD_TLB_IAIG(v)         ((unsigned)(((v) >> 57) & 3))
#define VTD_TLB_DID(did)        ((uint64_t)(did) << 32)
#define VTD_INV_GLOBAL          1
#define VTD_INV_DOMAIN          2
#define VTD_INV_DEVICE          3   /* context: device; IOTLB: page */
#define VTD_INV_PAGE            3

/* --- Structures (facts C, D) --------------------------------------------- */
/* Legacy context entry */
#define VTD_CTX_P               1ULL
#define VTD_CTX_FPD             (1ULL << 1)
#define VTD_CTX_TT(tt)          ((uint64_t)(tt) << 2)
#define VTD_TT_MULTI_LEVEL      0
#define VTD_TT_DEV_IOTLB        1
#define VTD_TT_PASS_THROUGH     2
#define VTD_CTX_HI(aw, did)     ((uint64_t)(aw) | (uint64_t)(did) << 8)
#define VTD_AW_39               1   /* 3 levels */
#define VTD_AW_48               2   /* 4 levels */

/* Second-level PTE */
#define VTD_SL_R                (1ULL << 0)
#define VTD_SL_W                (1ULL << 1)
#define VTD_SL_RW               (VTD_SL_R | VTD_SL_W)
#define VTD_SL_PS               (1ULL << 7)
#define VTD_SL_SNP              (1ULL << 11)

/* First-stage PTE */
#define VTD_FL_P                (1ULL << 0)
#define VTD_FL_RW               (1ULL << 1)
#define VTD_FL_US               (1ULL << 2)
#define VTD_FL_A                (1ULL << 5)
#define VTD_FL_D                (1ULL << 6)
#define VTD_FL_PS               (1ULL << 7)
#define VTD_FL_XD               (1ULL << 63)
#define VTD_FL_PRW_US           (VTD_FL_P | VTD_FL_RW | VTD_FL_US)

/* Scalable context entry */
#define VTD_SMCTX_P             1ULL
#define VTD_SMCTX_FPD           (1ULL << 1)
#define VTD_SMCTX_DTE           (1ULL << 2)
#define VTD_SMCTX_PASIDE        (1ULL << 3)
#define VTD_SMCTX_PDTS(n)       ((uint64_t)(n) << 9)
#define VTD_SMCTX_RID_PRIV      (1ULL << 20)    /* qword 1 */

/* PASID directory / table entries */
#define VTD_PDIR_P              1ULL
#define VTD_PDIR_FPD            (1ULL << 1)
#define VTD_PE_P                1ULL
#define VTD_PE_FPD              (1ULL << 1)
#define VTD_PE_AW(aw)           ((uint64_t)(aw) << 2)
#define VTD_PE_PGTT(t)          ((uint64_t)(t) << 6)
#define VTD_PGTT_FIRST          1
#define VTD_PGTT_SECOND         2
#define VTD_PGTT_NESTED         3
#define VTD_PGTT_PT             4
#define VTD_PE2_SRE             (1ULL << 0)     /* qword 2 */
#define VTD_PE2_FLPM(m)         ((uint64_t)(m) << 2)
#define VTD_PE2_WPE             (1ULL << 4)
#define VTD_PE2_NXE             (1ULL << 5)

/* --- Fault reasons used by the tests (facts F.4-F.6) -------------------- */
enum {
    VTD_FR_ROOT_P = 0x1, VTD_FR_CTX_P = 0x2, VTD_FR_CTX_INV = 0x3,
    VTD_FR_ADDR_MGAW = 0x4, VTD_FR_WRITE = 0x5, VTD_FR_READ = 0x6,
    VTD_FR_PTE_READ = 0x7, VTD_FR_ROOT_READ = 0x8, VTD_FR_CTX_READ = 0x9,
    VTD_FR_ROOT_RSVD = 0xa, VTD_FR_CTX_RSVD = 0xb, VTD_FR_PTE_RSVD = 0xc,
    VTD_FR_INTR_ADDR = 0xe,
};

/* --- Queued invalidation descriptors (facts E.2, E.3) -------------------- */
#define VTD_QI_CC               1
#define VTD_QI_IOTLB            2
#define VTD_QI_DEVTLB           3
#define VTD_QI_IEC              4
#define VTD_QI_WAIT             5
#define VTD_QI_PIOTLB           6
#define VTD_QI_PC               7
#define VTD_QI_PDEVTLB          8
#define VTD_QI_WAIT_IF          (1ULL << 4)
#define VTD_QI_WAIT_SW          (1ULL << 5)
#define VTD_QI_WAIT_FN          (1ULL << 6)

/* One descriptor; 128-bit queues use qw[0..1]. */
typedef struct VTDQIDesc {
    uint64_t qw[4];
} VTDQIDesc;

/* --- State of one test machine ------------------------------------------- */

/*
 * Guest RAM [VTD_ALLOC_BASE, VTD_ALLOC_END) holds the tables the helpers
 * build; tests should DMA elsewhere (below VTD_ALLOC_BASE).  The machine
 * must have at least 128 MiB (-m 128M, the q35 default).
 */
#define VTD_ALLOC_BASE          0x04000000ULL   /* 64 MiB */
#define VTD_ALLOC_END           0x07000000ULL   /* 112 MiB */

typedef struct VTDTest {
    QTestState *s;
    uint64_t alloc_next;
    uint64_t cap, ecap;         /* read at vtd_test_init() */
    uint64_t root;              /* root table, 0 until vtd_*_root_new() */
    bool scalable;
    /* invalidation queue (vtd_qi_setup) */
    uint64_t iq;
    unsigned iq_entries;
    bool iq_dw;
    unsigned iq_tail;           /* index of the next free slot */
    uint64_t iq_status;         /* status words for wait descriptors */
    uint32_t iq_status_seq;
} VTDTest;

/*
 * Starts "-M q35 -m 128M -device intel-iommu<iommu_opts> <extra>" and
 * reads CAP/ECAP.  iommu_opts starts with "," or is "".
 */
void vtd_test_start(VTDTest *t, const char *iommu_opts, const char *extra);
/* For a machine started by the caller. */
void vtd_test_init(VTDTest *t, QTestState *s);
void vtd_test_quit(VTDTest *t);
/* Forgets allocations and queue state (after system_reset). */
void vtd_test_reset_state(VTDTest *t);

/* Zeroed, aligned guest memory from the table area. */
uint64_t vtd_alloc(VTDTest *t, uint64_t size, uint64_t align);
uint64_t vtd_alloc_page(VTDTest *t);

/* Registers (offsets from VTD_BASE). */
uint32_t vtd_readl(VTDTest *t, unsigned off);
uint64_t vtd_readq(VTDTest *t, unsigned off);
void vtd_writel(VTDTest *t, unsigned off, uint32_t v);
void vtd_writeq(VTDTest *t, unsigned off, uint64_t v);

/*
 * GCMD protocol (facts A.2): write (GSTS & persistent) with bit set or
 * cleared, then check GSTS followed.  One-shot bits (SRTP, SIRTP) are
 * written with the persistent shadow and checked in GSTS after.
 */
void vtd_gcmd(VTDTest *t, uint32_t bit, bool on);
/* RTADDR = root | ttm << 10, then SRTP. */
void vtd_set_root(VTDTest *t, uint64_t root, unsigned ttm);
void vtd_enable_dmar(VTDTest *t);       /* TE=1 */
void vtd_disable_dmar(VTDTest *t);      /* TE=0 */

/* --- Legacy tables (facts C) --------------------------------------------- */

/* Allocates a root table, latches it (legacy TTM) and remembers it. */
uint64_t vtd_legacy_root_new(VTDTest *t);
/*
 * Writes the context entry of bus:devfn, creating that bus's context table
 * (and the present root entry) when needed.  Returns the entry's address.
 */
uint64_t vtd_legacy_set_context(VTDTest *t, uint8_t bus, uint8_t devfn,
                                uint64_t lo, uint64_t hi);
/* Address of bus's root entry / of bus:devfn's context entry (0 if none). */
uint64_t vtd_root_entry_addr(VTDTest *t, uint8_t bus);
uint64_t vtd_context_entry_addr(VTDTest *t, uint8_t bus, uint8_t devfn);
/* Convenience: context for a multi-level table (TT 0), present. */
uint64_t vtd_legacy_map_device(VTDTest *t, uint8_t bus, uint8_t devfn,
                               uint64_t slptptr, unsigned aw, uint16_t did);

/* --- Page tables (second-level or first-stage) --------------------------- */

typedef struct VTDPageTable {
    uint64_t root;
    int levels;                 /* 3, 4 (or 5) */
    bool first_stage;           /* IA-32e format instead of second-level */
} VTDPageTable;

void vtd_pt_init(VTDTest *t, VTDPageTable *pt, int levels, bool first_stage);
/*
 * Maps one page of size 4K, 2M or 1G at iova -> gpa with leaf flags
 * (second-level: R/W [+SNP]; first stage: P/RW/US ...; PS is added for
 * large pages).  Intermediate tables are created as needed with
 * permissive flags (SL: R|W, FL: P|RW|US).
 */
void vtd_pt_map(VTDTest *t, VTDPageTable *pt, uint64_t iova, uint64_t gpa,
                uint64_t size, uint64_t flags);
/* Maps [iova, iova + len) page by page (4K) to [gpa, ...). */
void vtd_pt_map_range(VTDTest *t, VTDPageTable *pt, uint64_t iova,
                      uint64_t gpa, uint64_t len, uint64_t flags);
/* Guest address of the entry for iova at level (1 = leaf table); 0 when
 * an upper level is absent. */
uint64_t vtd_pt_entry_addr(VTDTest *t, VTDPageTable *pt, uint64_t iova,
                           int level);
/* Zeroes the leaf entry of iova at level. */
void vtd_pt_unmap(VTDTest *t, VTDPageTable *pt, uint64_t iova, int level);

/* --- Scalable tables (facts D) ------------------------------------------- */

/* Allocates a scalable root table and latches it (TTM=01). */
uint64_t vtd_sm_root_new(VTDTest *t);
/* Writes the 256-bit context entry of bus:devfn (qw2/qw3 zero). */
uint64_t vtd_sm_set_context(VTDTest *t, uint8_t bus, uint8_t devfn,
                            uint64_t qw0, uint64_t qw1);
/*
 * Writes PASID entry pasid in the directory dir, creating the PASID table
 * (and the present directory entry) when needed.  Returns its address.
 */
uint64_t vtd_sm_set_pasid_entry(VTDTest *t, uint64_t dir, uint32_t pasid,
                                const uint64_t pe[8]);
uint64_t vtd_sm_pasid_entry_addr(VTDTest *t, uint64_t dir, uint32_t pasid);
/* A PASID entry: pgtt, did, aw (second stage), slptptr, flptptr; flags2
 * are qword-2 flags (SRE, WPE, NXE, FLPM). */
void vtd_pe_build(uint64_t pe[8], unsigned pgtt, uint16_t did, unsigned aw,
                  uint64_t slptptr, uint64_t flptptr, uint64_t flags2);
/*
 * Convenience: directory (PDTS 0 -> 128 entries, PASIDs 0-8191) with the
 * RID_PASID entry, context with PASIDE and RID_PASID rid_pasid.  Returns
 * the directory.
 */
uint64_t vtd_sm_map_device(VTDTest *t, uint8_t bus, uint8_t devfn,
                           uint32_t rid_pasid, const uint64_t pe[8]);

/* --- Faults (facts F.1, F.2) --------------------------------------------- */

typedef struct VTDFault {
    bool f;                     /* record valid */
    uint8_t fr;
    uint16_t sid;
    uint64_t addr;              /* FI: page address (DMA faults) */
    uint16_t ir_index;          /* FI[63:48] (IR faults) */
    bool is_write;              /* T = 0 */
    bool pp;
    uint32_t pasid;
    uint8_t at;
} VTDFault;

unsigned vtd_num_fault_records(VTDTest *t);         /* CAP.NFR + 1 */
unsigned vtd_frcd_offset(VTDTest *t, unsigned i);   /* CAP.FRO*16 + 16i */
/* Reads record i; returns its F bit. */
bool vtd_read_fault(VTDTest *t, unsigned i, VTDFault *out);
/* Clears record i's F (W1C on the top dword, as Linux does). */
void vtd_clear_fault(VTDTest *t, unsigned i);
uint32_t vtd_fsts(VTDTest *t);
void vtd_fsts_clear(VTDTest *t, uint32_t bits);
/* Clears every record and FSTS's W1C bits. */
void vtd_clear_all_faults(VTDTest *t);
/* Asserts there is exactly one pending record, with these contents, and
 * clears it.  Returns the record. */
VTDFault vtd_expect_one_fault(VTDTest *t, uint8_t fr, uint16_t sid,
                              uint64_t addr, bool is_write);
/* Asserts no fault is recorded (PPF=0, no F bit). */
void vtd_expect_no_fault(VTDTest *t);

/* --- Queued invalidation (facts E) ---------------------------------------- */

/*
 * Allocates a queue of 2^qs pages (128- or 256-bit descriptors), sets
 * IQT=0, IQA, GCMD.QIE and checks QIES.
 */
void vtd_qi_setup(VTDTest *t, bool dw256, unsigned qs);
/* Writes n descriptors at the tail and advances IQT (one doorbell). */
void vtd_qi_submit(VTDTest *t, const VTDQIDesc *desc, unsigned n);
/*
 * Submits n descriptors plus a wait descriptor (SW, FN; status data a
 * fresh sequence number) and returns whether the status was written.
 */
bool vtd_qi_submit_wait(VTDTest *t, const VTDQIDesc *desc, unsigned n);
uint64_t vtd_qi_head(VTDTest *t);       /* IQH register */
uint64_t vtd_qi_tail(VTDTest *t);       /* IQT register */
/* Descriptor builders. */
VTDQIDesc vtd_qi_desc_wait(uint32_t sdata, uint64_t saddr, uint64_t flags);
VTDQIDesc vtd_qi_desc_cc_global(void);
VTDQIDesc vtd_qi_desc_cc_domain(uint16_t did);
VTDQIDesc vtd_qi_desc_cc_device(uint16_t did, uint16_t sid, unsigned fm);
VTDQIDesc vtd_qi_desc_iotlb_global(void);
VTDQIDesc vtd_qi_desc_iotlb_domain(uint16_t did);
VTDQIDesc vtd_qi_desc_iotlb_page(uint16_t did, uint64_t addr, unsigned am,
                                 bool ih);
VTDQIDesc vtd_qi_desc_pc(unsigned g, uint16_t did, uint32_t pasid);
VTDQIDesc vtd_qi_desc_piotlb(unsigned g, uint16_t did, uint32_t pasid,
                             uint64_t addr, unsigned am, bool ih);
VTDQIDesc vtd_qi_desc_iec(bool global, uint16_t index, unsigned im);

/* Register-based invalidation (QIE=0), waiting for ICC/IVT to clear. */
void vtd_reg_cc_global(VTDTest *t);
void vtd_reg_iotlb_global(VTDTest *t);
/* Global context, PASID (via QI if enabled) and IOTLB invalidation. */
void vtd_invalidate_all(VTDTest *t);

/* --- edu DMA through the IOMMU -------------------------------------------- */

typedef struct VTDEdu {
    int bus, devfn;
    uint64_t bar;
} VTDEdu;

#define VTD_EDU_BUF             0x40000     /* edu device-side buffer */
#define VTD_EDU_BUF_SIZE        4096

/* Maps BAR0 at bar (0: keep the firmware's placement) and enables memory
 * decode and bus mastering. */
void vtd_edu_init(VTDTest *t, VTDEdu *e, int bus, int devfn, uint64_t bar);
/*
 * One transfer (runs the edu timer); returns the command register: bit 31
 * set when the DMA failed.  to_ram: buffer -> iova, else iova -> buffer.
 */
uint32_t vtd_edu_dma(VTDTest *t, VTDEdu *e, uint64_t iova, uint64_t buf_off,
                     uint64_t len, bool to_ram);
/* iova -> edu buffer at offset 0; true on success. */
bool vtd_edu_read(VTDTest *t, VTDEdu *e, uint64_t iova, uint64_t len);
/* edu buffer offset 0 -> iova; true on success. */
bool vtd_edu_write(VTDTest *t, VTDEdu *e, uint64_t iova, uint64_t len);
/* A test pattern: buf[i] = seed + 7 * i. */
void vtd_fill(void *buf, size_t len, uint8_t seed);

#endif
