/*
 * intel-iommu: DMA address translation (VT-d 3, 9; facts C, D).
 *
 * A request goes root entry -> context entry -> (scalable: PASID directory
 * -> PASID entry) -> IOTLB or page walk.  Each step checks what the
 * specification checks, in the order of facts C.4 / D.4, and a failure
 * becomes the architectural fault reason; nothing a guest writes can make
 * a walk loop or read out of bounds (levels are bounded by the validated
 * AW, indices are masked).
 *
 * Fault codes: legacy mode uses 0x1-0xE.  Scalable mode uses the
 * scalable-mode codes of the specification throughout, second stage
 * included (0x78 read, 0x7a reserved, 0x7b bad pointer, 0x83 address,
 * 0x85/0x86 permission); QEMU reports the legacy 0x4-0x6/0xC there
 * (docs/intel-iommu.md).
 *
 * Caches (filled here, invalidated in intel_iommu_cache.c), "a cached
 * translation stays in use until invalidated":
 *   context cache  one entry per address space, valid while its generation
 *                  matches the IOMMU's (global invalidation = increment);
 *   PASID cache    per address space, PASID -> PASID entry + DID;
 *   IOTLB          (DID, PASID, page, level) -> translation, bounded to
 *                  VTD_IOTLB_MAX_SIZE entries (flushed whole when full).
 * Only present, valid entries are cached, so a guest may turn a
 * not-present entry present without invalidating (CM=0 rule, facts J).
 */
#include <errno.h>
#include <inttypes.h>

#include "intel_iommu_internal.h"

/* Entry reads allowed to one vtd_page_walk() (a looping table is cut). */
#define VTD_PAGE_WALK_BUDGET    (1u << 22)

/* Largest page handed out for a pass-through translation. */
#define VTD_PT_PAGE_SHIFT       30

/* A request as the walks see it. */
typedef struct VTDRequest {
    VTDAddressSpace *vas;
    uint16_t sid;
    uint64_t addr;
    bool is_write;
    bool probe;                 /* IOMMU_NONE: no fault, no A/D update */
    bool pasid_present;         /* request with PASID */
    uint32_t pasid;             /* the request's PASID */
} VTDRequest;

/* A translation: the page holding addr. */
typedef struct VTDXlate {
    uint64_t addr;              /* output page base */
    uint64_t mask;              /* page size - 1 */
    IOMMUAccessFlags perm;
    uint8_t level;              /* 1: 4K, 2: 2M, 3: 1G; 0: pass-through */
    bool dirty;                 /* first stage: D set on the leaf */
} VTDXlate;

/* --- Guest memory ---------------------------------------------------------- */

static bool vtd_read_qwords(uint64_t addr, uint64_t *val, unsigned n)
{
    if (address_space_read(&address_space_memory, addr,
                           MEMTXATTRS_UNSPECIFIED, val, 8 * n) != MEMTX_OK) {
        return false;
    }
    for (unsigned i = 0; i < n; i++) {
        val[i] = GUINT64_FROM_LE(val[i]);
    }
    return true;
}

static bool vtd_write_qword(uint64_t addr, uint64_t val)
{
    uint64_t le = GUINT64_TO_LE(val);

    return address_space_write(&address_space_memory, addr,
                               MEMTXATTRS_UNSPECIFIED, &le, 8) == MEMTX_OK;
}

/* Bits [aw, 51]: reserved in paging entries above the host address width. */
static uint64_t vtd_haw_rsvd_52(unsigned aw)
{
    return ((1ULL << 52) - 1) & ~((1ULL << aw) - 1);
}

static uint64_t vtd_haw_mask(IntelIOMMUState *s)
{
    return (1ULL << s->aw_bits) - 1;
}

static bool vtd_is_scalable(IntelIOMMUState *s)
{
    return s->root_ttm == VTD_TTM_SCALABLE;
}

static bool vtd_aw_supported(IntelIOMMUState *s, unsigned aw)
{
    return aw <= 4 &&
           (s->cap & (1ULL << (VTD_CAP_SAGAW_SHIFT + aw))) &&
           VTD_AW_AGAW(aw) <= 57;
}

/* --- Context entries (C.1, C.4 1-8; D.1, D.4) --------------------------------- */

static VTDFaultReason vtd_read_legacy_context(IntelIOMMUState *s, uint8_t bus,
                                              uint8_t devfn,
                                              VTDContextEntry *ce, bool *fpd)
{
    uint64_t root[2], ctx[2];
    unsigned tt;

    if (!vtd_read_qwords(s->root + bus * VTD_ROOT_ENTRY_SIZE, root, 2)) {
        return VTD_FR_ROOT_TABLE_INV;
    }
    if (!(root[0] & VTD_ROOT_ENTRY_P)) {
        return VTD_FR_ROOT_ENTRY_P;
    }
    if ((root[0] & VTD_ROOT_LO_RSVD(s->aw_bits)) ||
        (root[1] & VTD_ROOT_HI_RSVD)) {
        return VTD_FR_ROOT_ENTRY_RSVD;
    }
    if (!vtd_read_qwords((root[0] & VTD_ENTRY_ADDR_MASK) +
                         devfn * VTD_CONTEXT_ENTRY_SIZE, ctx, 2)) {
        return VTD_FR_CONTEXT_TABLE_INV;
    }
    *fpd = ctx[0] & VTD_CONTEXT_LO_FPD;     /* honoured even when P=0 */
    if (!(ctx[0] & VTD_CONTEXT_LO_P)) {
        return VTD_FR_CONTEXT_ENTRY_P;
    }
    if ((ctx[0] & VTD_CONTEXT_LO_RSVD(s->aw_bits)) ||
        (ctx[1] & VTD_CONTEXT_HI_RSVD)) {
        return VTD_FR_CONTEXT_ENTRY_RSVD;
    }
    tt = (ctx[0] & VTD_CONTEXT_LO_TT_MASK) >> VTD_CONTEXT_LO_TT_SHIFT;
    if (tt == VTD_TT_RESERVED ||
        (tt == VTD_TT_DEV_IOTLB && !(s->ecap & VTD_ECAP_DT)) ||
        (tt == VTD_TT_PASS_THROUGH && !(s->ecap & VTD_ECAP_PT)) ||
        !vtd_aw_supported(s, ctx[1] & VTD_CONTEXT_HI_AW_MASK)) {
        return VTD_FR_CONTEXT_ENTRY_INV;
    }
    memset(ce, 0, sizeof(*ce));
    ce->val[0] = ctx[0];
    ce->val[1] = ctx[1];
    return 0;
}

static VTDFaultReason vtd_read_sm_context(IntelIOMMUState *s, uint8_t bus,
                                          uint8_t devfn, VTDContextEntry *ce,
                                          bool *fpd)
{
    uint64_t root[2], ctx[4], half;

    if (!vtd_read_qwords(s->root + bus * VTD_ROOT_ENTRY_SIZE, root, 2)) {
        return VTD_FR_SM_ROOT_READ;
    }
    half = root[devfn >= 0x80];
    if (!(half & VTD_SM_ROOT_LO_LP)) {
        return VTD_FR_SM_ROOT_NOT_PRESENT;
    }
    if (half & VTD_SM_ROOT_RSVD(s->aw_bits)) {
        return VTD_FR_SM_ROOT_RSVD;
    }
    if (!vtd_read_qwords((half & VTD_ENTRY_ADDR_MASK) +
                         (devfn & 0x7f) * VTD_SM_CONTEXT_ENTRY_SIZE, ctx, 4)) {
        return VTD_FR_SM_CTX_READ;
    }
    *fpd = ctx[0] & VTD_SM_CONTEXT_0_FPD;
    if (!(ctx[0] & VTD_SM_CONTEXT_0_P)) {
        return VTD_FR_SM_CTX_NOT_PRESENT;
    }
    if ((ctx[0] & VTD_SM_CONTEXT_0_RSVD(s->aw_bits)) ||
        (ctx[1] & VTD_SM_CONTEXT_1_RSVD) || ctx[2] || ctx[3]) {
        return VTD_FR_SM_CTX_RSVD;
    }
    if (((ctx[0] & VTD_SM_CONTEXT_0_DTE) && !(s->ecap & VTD_ECAP_DT)) ||
        ((ctx[0] & VTD_SM_CONTEXT_0_PRE) && !(s->ecap & VTD_ECAP_PRS))) {
        return VTD_FR_SM_CTX_INV;
    }
    memcpy(ce->val, ctx, sizeof(ctx));
    return 0;
}

/* The latched root table's TTM is usable (A.3). */
static VTDFaultReason vtd_check_ttm(IntelIOMMUState *s)
{
    switch (s->root_ttm) {
    case VTD_TTM_LEGACY:
        return 0;
    case VTD_TTM_SCALABLE:
        return (s->ecap & VTD_ECAP_SMTS) ? 0 : VTD_FR_RTADDR_INV_TTM;
    default:                    /* reserved; abort-DMA without ADMS */
        return VTD_FR_RTADDR_INV_TTM;
    }
}

static bool vtd_context_cache_valid(IntelIOMMUState *s, VTDAddressSpace *vas)
{
    VTDContextCacheEntry *cc = &vas->context_cache_entry;

    return cc->gen == s->context_cache_gen &&
           cc->scalable == vtd_is_scalable(s);
}

/* Context lookup through the cache; *fpd is the context FPD. */
static VTDFaultReason vtd_get_context(IntelIOMMUState *s, VTDAddressSpace *vas,
                                      VTDContextEntry *ce, bool *fpd)
{
    VTDContextCacheEntry *cc = &vas->context_cache_entry;
    uint8_t bus = pci_bus_num(vas->bus);
    VTDFaultReason fr;

    *fpd = false;
    fr = vtd_check_ttm(s);
    if (fr) {
        return fr;
    }
    if (vtd_context_cache_valid(s, vas)) {
        *ce = cc->ce;
        *fpd = ce->val[0] & VTD_CONTEXT_LO_FPD;    /* same bit in both */
        return 0;
    }
    fr = vtd_is_scalable(s) ?
         vtd_read_sm_context(s, bus, vas->devfn, ce, fpd) :
         vtd_read_legacy_context(s, bus, vas->devfn, ce, fpd);
    if (fr) {
        return fr;
    }
    cc->ce = *ce;
    cc->scalable = vtd_is_scalable(s);
    cc->gen = s->context_cache_gen;
    return 0;
}

VTDFaultReason vtd_as_get_context(IntelIOMMUState *s, VTDAddressSpace *vas,
                                  VTDContextEntry *ce)
{
    bool fpd;

    return vtd_get_context(s, vas, ce, &fpd);
}

/* --- PASID entries (D.1, D.2, D.4) ------------------------------------------- */

/* The PASID entry checks of D.2: reserved bits, then PGTT/AW/FLPM. */
static VTDFaultReason vtd_check_pasid_entry(IntelIOMMUState *s,
                                            const VTDPASIDEntry *pe)
{
    unsigned pgtt = VTD_PE0_PGTT(pe->val[0]);
    bool uses_sl = pgtt == VTD_PGTT_SECOND || pgtt == VTD_PGTT_NESTED;
    bool uses_fl = pgtt == VTD_PGTT_FIRST || pgtt == VTD_PGTT_NESTED;
    uint64_t rsvd0 = 0xc00ULL | VTD_PE0_SLADE;
    uint64_t rsvd2 = 0xf00ULL | VTD_PE2_ERE | VTD_PE2_EAFE;

    if (uses_sl) {
        rsvd0 |= VTD_HAW_RSVD(s->aw_bits);
    }
    if (uses_fl) {
        rsvd2 |= VTD_HAW_RSVD(s->aw_bits);
    }
    if ((pe->val[0] & rsvd0) || (pe->val[1] & VTD_PE1_RSVD) ||
        (pe->val[2] & rsvd2) || pe->val[3] || pe->val[4] || pe->val[5] ||
        pe->val[6] || pe->val[7]) {
        return VTD_FR_SM_PE_RSVD;
    }
    switch (pgtt) {
    case VTD_PGTT_FIRST:
        if (!(s->ecap & VTD_ECAP_FLTS) ||
            VTD_PE2_FLPM(pe->val[2]) != VTD_FLPM_4LEVEL) {
            return VTD_FR_SM_PE_INV;
        }
        return 0;
    case VTD_PGTT_SECOND:
        if (!(s->ecap & VTD_ECAP_SLTS) ||
            !vtd_aw_supported(s, VTD_PE0_AW(pe->val[0]))) {
            return VTD_FR_SM_PE_INV;
        }
        return 0;
    case VTD_PGTT_NESTED:
        if (!(s->ecap & VTD_ECAP_NEST) ||
            !vtd_aw_supported(s, VTD_PE0_AW(pe->val[0])) ||
            VTD_PE2_FLPM(pe->val[2]) != VTD_FLPM_4LEVEL) {
            return VTD_FR_SM_PE_INV;
        }
        return 0;
    case VTD_PGTT_PT:
        return (s->ecap & VTD_ECAP_PT) ? 0 : VTD_FR_SM_PE_INV;
    default:
        return VTD_FR_SM_PE_INV;
    }
}

static VTDFaultReason vtd_read_pasid_entry(IntelIOMMUState *s,
                                           const VTDContextEntry *ce,
                                           uint32_t pasid, VTDPASIDEntry *pe,
                                           bool *fpd)
{
    unsigned pdts = VTD_SM_CONTEXT_0_PDTS(ce->val[0]);
    uint64_t dir;
    VTDFaultReason fr;

    if (pasid > VTD_PASID_MAX ||
        VTD_PASID_DIR_INDEX(pasid) >= VTD_PASID_DIR_ENTRIES(pdts)) {
        return VTD_FR_SM_CTX_PASID_RANGE;
    }
    if (!vtd_read_qwords((ce->val[0] & VTD_ENTRY_ADDR_MASK) +
                         VTD_PASID_DIR_INDEX(pasid) * VTD_PASID_DIR_ENTRY_SIZE,
                         &dir, 1)) {
        return VTD_FR_SM_PD_READ;
    }
    *fpd |= dir & VTD_PASID_DIR_FPD;
    if (!(dir & VTD_PASID_DIR_P)) {
        return VTD_FR_SM_PD_NOT_PRESENT;
    }
    if (dir & VTD_PASID_DIR_RSVD(s->aw_bits)) {
        return VTD_FR_SM_PD_RSVD;
    }
    if (!vtd_read_qwords((dir & VTD_ENTRY_ADDR_MASK) +
                         VTD_PASID_TABLE_INDEX(pasid) * VTD_PASID_ENTRY_SIZE,
                         pe->val, 8)) {
        return VTD_FR_SM_PE_READ;
    }
    *fpd |= pe->val[0] & VTD_PE0_FPD;
    if (!(pe->val[0] & VTD_PE0_P)) {
        return VTD_FR_SM_PE_NOT_PRESENT;
    }
    fr = vtd_check_pasid_entry(s, pe);
    return fr;
}

/*
 * The PASID entry for a request with (pasid_present) or without PASID,
 * through the PASID cache.  *pasid_out is the PASID used (RID_PASID for
 * requests without PASID).
 */
static VTDFaultReason vtd_get_pasid_entry(IntelIOMMUState *s,
                                          VTDAddressSpace *vas,
                                          const VTDContextEntry *ce,
                                          bool pasid_present, uint32_t pasid,
                                          VTDPASIDCacheEntry *out, bool *fpd)
{
    VTDPASIDCacheEntry *pc;
    VTDFaultReason fr;

    if (pasid_present) {
        if (!(ce->val[0] & VTD_SM_CONTEXT_0_PASIDE) ||
            !(s->ecap & VTD_ECAP_PASID)) {
            return VTD_FR_SM_CTX_PASIDE;
        }
    } else {
        pasid = ce->val[1] & VTD_SM_CONTEXT_1_RID_PASID_MASK;
    }
    if (pasid > VTD_PASID_MAX) {
        return VTD_FR_SM_CTX_PASID_RANGE;
    }
    pc = g_hash_table_lookup(vas->pasid_cache, GUINT_TO_POINTER(pasid));
    if (pc) {
        *out = *pc;
        *fpd |= pc->pe.val[0] & VTD_PE0_FPD;
        return 0;
    }
    out->pasid = pasid;
    fr = vtd_read_pasid_entry(s, ce, pasid, &out->pe, fpd);
    if (fr) {
        return fr;
    }
    out->did = out->pe.val[1] & VTD_PE1_DID_MASK;
    pc = g_memdup2(out, sizeof(*out));
    g_hash_table_replace(vas->pasid_cache, GUINT_TO_POINTER(pasid), pc);
    return 0;
}

bool vtd_as_get_did(IntelIOMMUState *s, VTDAddressSpace *vas, uint32_t pasid,
                    uint16_t *did)
{
    VTDContextEntry ce;
    VTDPASIDCacheEntry pc;
    bool fpd = false;

    if (vtd_get_context(s, vas, &ce, &fpd)) {
        return false;
    }
    if (!vtd_is_scalable(s)) {
        *did = VTD_CONTEXT_HI_DID(ce.val[1]);
        return true;
    }
    if (vtd_get_pasid_entry(s, vas, &ce, pasid != VTD_PASID_NONE, pasid, &pc,
                            &fpd)) {
        return false;
    }
    *did = pc.did;
    return true;
}

VTDFaultReason vtd_as_get_rid_pasid_entry(IntelIOMMUState *s,
                                          VTDAddressSpace *vas,
                                          VTDPASIDCacheEntry *pc, bool *fpd)
{
    VTDContextEntry ce;
    VTDFaultReason fr;

    *fpd = false;
    fr = vtd_get_context(s, vas, &ce, fpd);
    if (fr) {
        return fr;
    }
    if (!vtd_is_scalable(s)) {
        return VTD_FR_RTADDR_INV_TTM;
    }
    return vtd_get_pasid_entry(s, vas, &ce, false, 0, pc, fpd);
}

bool vtd_as_pt_enabled(IntelIOMMUState *s, VTDAddressSpace *vas)
{
    VTDContextEntry ce;
    VTDPASIDCacheEntry pc;
    bool fpd = false;

    if (vtd_get_context(s, vas, &ce, &fpd)) {
        return false;
    }
    if (!vtd_is_scalable(s)) {
        return ((ce.val[0] & VTD_CONTEXT_LO_TT_MASK) >>
                VTD_CONTEXT_LO_TT_SHIFT) == VTD_TT_PASS_THROUGH;
    }
    /* With PASIDs enabled, requests with PASID still need the IOMMU. */
    if (ce.val[0] & VTD_SM_CONTEXT_0_PASIDE) {
        return false;
    }
    return !vtd_get_pasid_entry(s, vas, &ce, false, 0, &pc, &fpd) &&
           VTD_PE0_PGTT(pc.pe.val[0]) == VTD_PGTT_PT;
}

/* --- Second-level walk (C.2-C.4; scalable second stage) -------------------- */

/* Reserved bits of a second-level entry at level (C.3). */
static uint64_t vtd_sl_rsvd(IntelIOMMUState *s, int level, bool leaf,
                            bool scalable)
{
    uint64_t rsvd = vtd_haw_rsvd_52(s->aw_bits);

    if (!s->stale_tm) {
        rsvd |= VTD_SL_TM;
    }
    switch (level) {
    case 1:
        rsvd |= VTD_SL_RSVD_L1;
        break;
    case 2:
        rsvd |= leaf ? VTD_SL_RSVD_2M_LEAF : VTD_SL_RSVD_NONLEAF;
        break;
    case 3:
        rsvd |= leaf ? VTD_SL_RSVD_1G_LEAF : VTD_SL_RSVD_NONLEAF;
        break;
    default:
        rsvd |= VTD_SL_RSVD_L4;
        break;
    }
    if (scalable || (s->ecap & VTD_ECAP_SC)) {
        rsvd &= ~VTD_SL_SNP;
    }
    return rsvd;
}

static bool vtd_sl_is_leaf(IntelIOMMUState *s, uint64_t pte, int level)
{
    if (level == 1) {
        return true;
    }
    if (!(pte & VTD_SL_PS)) {
        return false;
    }
    return (level == 2 && (s->cap & VTD_CAP_SLLPS_2M)) ||
           (level == 3 && (s->cap & VTD_CAP_SLLPS_1G));
}

/* Which faults a second-level walk raises: legacy or scalable codes. */
typedef struct VTDSLCodes {
    VTDFaultReason top_read, read, rsvd, addr, write, readp;
} VTDSLCodes;

static const VTDSLCodes vtd_sl_legacy_codes = {
    .top_read = VTD_FR_CONTEXT_ENTRY_INV, .read = VTD_FR_PAGING_ENTRY_INV,
    .rsvd = VTD_FR_PAGING_ENTRY_RSVD, .addr = VTD_FR_ADDR_BEYOND_MGAW,
    .write = VTD_FR_WRITE, .readp = VTD_FR_READ,
};

static const VTDSLCodes vtd_sl_scalable_codes = {
    .top_read = VTD_FR_SS_PTR, .read = VTD_FR_SS_READ,
    .rsvd = VTD_FR_SS_RSVD, .addr = VTD_FR_ADDR_BEYOND_HW,
    .write = VTD_FR_SM_WRITE, .readp = VTD_FR_SM_READ,
};

/*
 * Walks the second-level table at table (AW coding aw, validated) for
 * iova.  need: the permission the request needs (IOMMU_NONE for a probe:
 * then a non-present entry returns the read fault code without effect,
 * and the caller treats any fault as "unmapped").  Permissions are the
 * AND over the levels; they are checked at each level before its
 * reserved bits (C.4 12-13).
 */
static VTDFaultReason vtd_sl_walk(IntelIOMMUState *s, uint64_t table,
                                  unsigned aw, uint64_t iova,
                                  IOMMUAccessFlags need, const VTDSLCodes *fc,
                                  bool scalable, VTDXlate *out)
{
    unsigned width = MIN(VTD_AW_AGAW(aw), s->aw_bits);
    IOMMUAccessFlags perm = IOMMU_RW;
    int level = VTD_AW_LEVELS(aw);

    if (width < 64 && (iova >> width)) {
        return fc->addr;
    }
    for (;; level--) {
        uint64_t pte;
        bool leaf;

        if (!vtd_read_qwords(table + VTD_LEVEL_INDEX(iova, level) * 8, &pte,
                             1)) {
            return level == VTD_AW_LEVELS(aw) ? fc->top_read : fc->read;
        }
        perm &= IOMMU_ACCESS_FLAG(pte & VTD_SL_R, pte & VTD_SL_W);
        if ((need & IOMMU_WO) && !(perm & IOMMU_WO)) {
            return fc->write;
        }
        if (((need & IOMMU_RO) && !(perm & IOMMU_RO)) || perm == IOMMU_NONE) {
            return fc->readp;       /* a probe: not mapped */
        }
        leaf = vtd_sl_is_leaf(s, pte, level);
        if (pte & vtd_sl_rsvd(s, level, leaf, scalable)) {
            return fc->rsvd;
        }
        if (leaf) {
            uint64_t size = 1ULL << VTD_LEVEL_SHIFT(level);

            out->mask = size - 1;
            out->addr = pte & VTD_ENTRY_ADDR_MASK & vtd_haw_mask(s) &
                        ~out->mask;
            out->perm = perm;
            out->level = level;
            out->dirty = true;
            return 0;
        }
        if (level == 1) {           /* unreachable: level 1 is a leaf */
            return fc->rsvd;
        }
        table = pte & VTD_ENTRY_ADDR_MASK & vtd_haw_mask(s);
    }
}

/* --- First-stage walk (D.3), nested through the second stage ---------------- */

typedef struct VTDFLWalk {
    IntelIOMMUState *s;
    const VTDPASIDEntry *pe;
    bool nested;
    bool probe;
} VTDFLWalk;

/*
 * Nested: the host address of the guest-physical gpa of a first-stage
 * structure, which needs read (and write for A/D updates) in the second
 * stage.
 */
static VTDFaultReason vtd_nested_gpa(VTDFLWalk *w, uint64_t gpa, bool write,
                                     VTDFaultReason perm_fr, uint64_t *hpa)
{
    VTDXlate x;
    VTDFaultReason fr;

    if (!w->nested) {
        *hpa = gpa;
        return 0;
    }
    if (gpa >> w->s->aw_bits) {
        return VTD_FR_FS_NEST_MGAW;
    }
    fr = vtd_sl_walk(w->s, w->pe->val[0] & VTD_ENTRY_ADDR_MASK,
                     VTD_PE0_AW(w->pe->val[0]), gpa,
                     write ? IOMMU_RW : IOMMU_RO, &vtd_sl_scalable_codes, true,
                     &x);
    if (fr == VTD_FR_SM_READ) {
        return perm_fr;
    }
    if (fr == VTD_FR_SM_WRITE) {
        return VTD_FR_FS_NEST_WRITE_PERM;
    }
    if (fr) {
        return fr;
    }
    *hpa = x.addr | (gpa & x.mask);
    return 0;
}

static uint64_t vtd_fl_rsvd(VTDFLWalk *w, int level, bool leaf)
{
    IntelIOMMUState *s = w->s;
    uint64_t rsvd = vtd_haw_rsvd_52(s->aw_bits);

    if (!(w->pe->val[2] & VTD_PE2_NXE)) {
        rsvd |= VTD_FL_XD;
    }
    if (level == 4 || (level == 3 && !(s->cap & VTD_CAP_FL1GP))) {
        rsvd |= VTD_FL_PS;
    } else if (level == 3 && leaf) {
        rsvd |= VTD_FL_RSVD_1G_LEAF;
    } else if (level == 2 && leaf) {
        rsvd |= VTD_FL_RSVD_2M_LEAF;
    }
    return rsvd;
}

static bool vtd_fl_is_leaf(IntelIOMMUState *s, uint64_t pte, int level)
{
    return level == 1 || ((pte & VTD_FL_PS) && level == 2) ||
           ((pte & VTD_FL_PS) && level == 3 && (s->cap & VTD_CAP_FL1GP));
}

/*
 * Walks the 4-level first-stage table of the PASID entry for iova (all
 * requests are user requests: MemTxAttrs carries no privilege).  Sets A on
 * every level and D on the leaf of a write, unless probing.
 */
static VTDFaultReason vtd_fl_walk(VTDFLWalk *w, uint64_t iova, bool is_write,
                                  VTDXlate *out)
{
    IntelIOMMUState *s = w->s;
    uint64_t table = w->pe->val[2] & VTD_ENTRY_ADDR_MASK;
    bool rw = true;
    VTDFaultReason fr;

    /* Canonical for 48 bits: 63:47 all equal (D.3). */
    if (((int64_t)iova >> 47) != 0 && ((int64_t)iova >> 47) != -1) {
        return VTD_FR_NONCANONICAL;
    }
    for (int level = VTD_FL_LEVELS; level >= 1; level--) {
        uint64_t gpa = table + VTD_LEVEL_INDEX(iova, level) * 8, hpa, pte, upd;
        bool leaf;

        fr = vtd_nested_gpa(w, gpa, false,
                            level == VTD_FL_LEVELS ? VTD_FR_FS_NEST_ROOT_PERM :
                            VTD_FR_FS_NEST_READ_PERM, &hpa);
        if (fr) {
            return fr;
        }
        if (!vtd_read_qwords(hpa, &pte, 1)) {
            return level == VTD_FL_LEVELS ? VTD_FR_FS_ROOT_READ :
                                            VTD_FR_FS_READ;
        }
        if (!(pte & VTD_FL_P)) {
            return VTD_FR_FS_NOT_PRESENT;
        }
        if (!(pte & VTD_FL_US)) {
            return VTD_FR_FS_USER;
        }
        rw = rw && (pte & VTD_FL_RW);
        if (is_write && !rw) {
            return VTD_FR_SM_WRITE;
        }
        leaf = vtd_fl_is_leaf(s, pte, level);
        if (pte & vtd_fl_rsvd(w, level, leaf)) {
            return VTD_FR_FS_RSVD;
        }
        upd = pte | VTD_FL_A | (leaf && is_write ? VTD_FL_D : 0);
        if (!w->probe && upd != pte) {
            fr = vtd_nested_gpa(w, gpa, true, VTD_FR_FS_NEST_WRITE_PERM, &hpa);
            if (fr) {
                return fr;
            }
            if (!vtd_write_qword(hpa, upd)) {
                return VTD_FR_FS_AD_FAIL;
            }
            pte = upd;
        }
        if (leaf) {
            uint64_t mask = (1ULL << VTD_LEVEL_SHIFT(level)) - 1;

            out->mask = mask;
            out->addr = pte & VTD_ENTRY_ADDR_MASK & vtd_haw_mask(s) & ~mask;
            out->perm = rw ? IOMMU_RW : IOMMU_RO;
            out->level = level;
            out->dirty = pte & VTD_FL_D;
            return 0;
        }
        table = pte & VTD_ENTRY_ADDR_MASK & vtd_haw_mask(s);
    }
    return VTD_FR_FS_RSVD;          /* unreachable: level 1 is a leaf */
}

/*
 * Nested: the first stage gives a guest-physical page; the second stage
 * maps it.  The result is the intersection, on the smaller of the pages.
 */
static VTDFaultReason vtd_nested_walk(VTDFLWalk *w, uint64_t iova,
                                      bool is_write, VTDXlate *out)
{
    VTDXlate fl, sl;
    uint64_t gpa;
    VTDFaultReason fr = vtd_fl_walk(w, iova, is_write, &fl);

    if (fr) {
        return fr;
    }
    gpa = fl.addr | (iova & fl.mask);
    fr = vtd_sl_walk(w->s, w->pe->val[0] & VTD_ENTRY_ADDR_MASK,
                     VTD_PE0_AW(w->pe->val[0]), gpa,
                     w->probe ? IOMMU_NONE : (is_write ? IOMMU_WO : IOMMU_RO),
                     &vtd_sl_scalable_codes, true, &sl);
    if (fr) {
        return fr;
    }
    out->mask = MIN(fl.mask, sl.mask);
    out->addr = (sl.addr | (gpa & sl.mask)) & ~out->mask;
    out->perm = fl.perm & sl.perm;
    out->level = MIN(fl.level, sl.level);
    out->dirty = fl.dirty;
    if (is_write && !(out->perm & IOMMU_WO)) {
        return VTD_FR_SM_WRITE;
    }
    return 0;
}

/* --- IOTLB ---------------------------------------------------------------------- */

static VTDIOTLBEntry *vtd_iotlb_lookup(IntelIOMMUState *s, uint16_t did,
                                       uint32_t pasid, uint64_t addr)
{
    for (uint8_t level = 1; level <= 3; level++) {
        VTDIOTLBKey key = {
            .gfn = addr >> VTD_LEVEL_SHIFT(level),
            .pasid = pasid,
            .did = did,
            .level = level,
        };
        VTDIOTLBEntry *e = g_hash_table_lookup(s->iotlb, &key);

        if (e) {
            return e;
        }
    }
    return NULL;
}

static void vtd_iotlb_insert(IntelIOMMUState *s, uint16_t did, uint32_t pasid,
                             uint16_t sid, uint8_t pgtt, uint64_t iova,
                             const VTDXlate *x)
{
    VTDIOTLBEntry *e;

    if (x->level < 1 || x->level > 3) {
        return;
    }
    if (g_hash_table_size(s->iotlb) >= VTD_IOTLB_MAX_SIZE) {
        g_hash_table_remove_all(s->iotlb);
    }
    e = g_new0(VTDIOTLBEntry, 1);
    e->key.gfn = iova >> VTD_LEVEL_SHIFT(x->level);
    e->key.pasid = pasid;
    e->key.did = did;
    e->key.level = x->level;
    e->sid = sid;
    e->pgtt = pgtt;
    e->addr = x->addr;
    e->mask = x->mask;
    e->perm = x->perm;
    e->dirty = x->dirty;
    g_hash_table_replace(s->iotlb, &e->key, e);
}

/* --- Translation ------------------------------------------------------------------ */

static void vtd_xlate_identity(uint64_t addr, VTDXlate *x)
{
    x->mask = (1ULL << VTD_PT_PAGE_SHIFT) - 1;
    x->addr = addr & ~x->mask;
    x->perm = IOMMU_RW;
    x->level = 0;
    x->dirty = true;
}

/* Cached translation usable for this request?  A first-stage write hit
 * on a leaf whose D bit is not yet set goes back to the walk. */
static bool vtd_iotlb_hit(VTDIOTLBEntry *e, const VTDRequest *req, VTDXlate *x)
{
    if (req->is_write && !req->probe && !e->dirty &&
        (e->perm & IOMMU_WO)) {
        return false;
    }
    x->addr = e->addr;
    x->mask = e->mask;
    x->perm = e->perm;
    x->level = e->key.level;
    x->dirty = e->dirty;
    return true;
}

static VTDFaultReason vtd_perm_fault(const VTDRequest *req, bool scalable)
{
    if (req->is_write) {
        return scalable ? VTD_FR_SM_WRITE : VTD_FR_WRITE;
    }
    return scalable ? VTD_FR_SM_READ : VTD_FR_READ;
}

static VTDFaultReason vtd_translate_legacy(IntelIOMMUState *s,
                                           const VTDRequest *req,
                                           const VTDContextEntry *ce,
                                           VTDXlate *x)
{
    unsigned tt = (ce->val[0] & VTD_CONTEXT_LO_TT_MASK) >>
                  VTD_CONTEXT_LO_TT_SHIFT;
    uint16_t did = VTD_CONTEXT_HI_DID(ce->val[1]);
    IOMMUAccessFlags need = req->probe ? IOMMU_NONE :
                            req->is_write ? IOMMU_WO : IOMMU_RO;
    VTDIOTLBEntry *e;
    VTDFaultReason fr;

    if (tt == VTD_TT_PASS_THROUGH) {
        vtd_xlate_identity(req->addr, x);
        return 0;
    }
    e = vtd_iotlb_lookup(s, did, VTD_PASID_NONE, req->addr);
    if (e && vtd_iotlb_hit(e, req, x)) {
        return (need & ~x->perm) ? vtd_perm_fault(req, false) : 0;
    }
    fr = vtd_sl_walk(s, ce->val[0] & VTD_ENTRY_ADDR_MASK,
                     ce->val[1] & VTD_CONTEXT_HI_AW_MASK, req->addr, need,
                     &vtd_sl_legacy_codes, false, x);
    if (!fr) {
        vtd_iotlb_insert(s, did, VTD_PASID_NONE, req->sid, VTD_PGTT_SECOND,
                         req->addr, x);
    }
    return fr;
}

static VTDFaultReason vtd_translate_scalable(IntelIOMMUState *s,
                                             const VTDRequest *req,
                                             const VTDContextEntry *ce,
                                             VTDXlate *x, bool *fpd)
{
    IOMMUAccessFlags need = req->probe ? IOMMU_NONE :
                            req->is_write ? IOMMU_WO : IOMMU_RO;
    VTDPASIDCacheEntry pc;
    VTDFLWalk w;
    VTDIOTLBEntry *e;
    VTDFaultReason fr;
    unsigned pgtt;

    fr = vtd_get_pasid_entry(s, req->vas, ce, req->pasid_present, req->pasid,
                             &pc, fpd);
    if (fr) {
        return fr;
    }
    pgtt = VTD_PE0_PGTT(pc.pe.val[0]);
    if (pgtt == VTD_PGTT_PT) {
        vtd_xlate_identity(req->addr, x);
        return 0;
    }
    e = vtd_iotlb_lookup(s, pc.did, pc.pasid, req->addr);
    if (e && vtd_iotlb_hit(e, req, x)) {
        return (need & ~x->perm) ? vtd_perm_fault(req, true) : 0;
    }
    w = (VTDFLWalk) {
        .s = s, .pe = &pc.pe, .nested = pgtt == VTD_PGTT_NESTED,
        .probe = req->probe,
    };
    switch (pgtt) {
    case VTD_PGTT_SECOND:
        fr = vtd_sl_walk(s, pc.pe.val[0] & VTD_ENTRY_ADDR_MASK,
                         VTD_PE0_AW(pc.pe.val[0]), req->addr, need,
                         &vtd_sl_scalable_codes, true, x);
        break;
    case VTD_PGTT_FIRST:
        fr = vtd_fl_walk(&w, req->addr, req->is_write && !req->probe, x);
        break;
    default:                    /* nested, validated with the entry */
        fr = vtd_nested_walk(&w, req->addr, req->is_write && !req->probe, x);
        break;
    }
    if (!fr) {
        vtd_iotlb_insert(s, pc.did, pc.pasid, req->sid, pgtt, req->addr, x);
    }
    return fr;
}

/* The whole request: context, then the mode's path; *fpd for reporting. */
static VTDFaultReason vtd_do_translate(IntelIOMMUState *s,
                                       const VTDRequest *req, VTDXlate *x,
                                       bool *fpd)
{
    VTDContextEntry ce;
    VTDFaultReason fr;

    /* RTA.2: a request with PASID needs a scalable-mode root table. */
    if (req->pasid_present && s->root_ttm == VTD_TTM_LEGACY) {
        return VTD_FR_RTA_PASID_TTM0;
    }
    fr = vtd_get_context(s, req->vas, &ce, fpd);
    if (fr) {
        return fr;
    }
    if (vtd_is_scalable(s)) {
        return vtd_translate_scalable(s, req, &ce, x, fpd);
    }
    return vtd_translate_legacy(s, req, &ce, x);
}

static bool vtd_overlaps_interrupt_range(uint64_t first, uint64_t last)
{
    return first <= VTD_INTERRUPT_ADDR_LAST &&
           VTD_INTERRUPT_ADDR_FIRST <= last;
}

IOMMUTLBEntry vtd_iommu_translate(IOMMUMemoryRegion *iommu, hwaddr addr,
                                  IOMMUAccessFlags flag, MemTxAttrs attrs)
{
    VTDAddressSpace *vas = vtd_as_of_iommu(iommu);
    IntelIOMMUState *s = vas->iommu_state;
    VTDRequest req = {
        .vas = vas,
        .sid = vtd_as_sid(vas),
        .addr = addr,
        .is_write = flag & IOMMU_WO,
        .probe = flag == IOMMU_NONE,
        .pasid_present = attrs.pasid_valid,
        .pasid = attrs.pasid,
    };
    IOMMUTLBEntry entry = {
        .target_as = &address_space_memory,
        .iova = addr & VTD_PAGE_MASK,
        .translated_addr = 0,
        .addr_mask = VTD_PAGE_SIZE - 1,
        .perm = IOMMU_NONE,
    };
    VTDXlate x;
    VTDFaultReason fr;
    bool fpd = false;
    uint64_t out;

    if (!s->dmar_enabled) {
        /* Only during a switch: the nodmar region normally serves this. */
        entry.translated_addr = entry.iova;
        entry.perm = IOMMU_RW;
        return entry;
    }
    fr = vtd_do_translate(s, &req, &x, &fpd);
    if (!fr) {
        /* The 4K page of addr must not land on the interrupt window. */
        out = x.addr | (addr & x.mask & VTD_PAGE_MASK);
        if (vtd_overlaps_interrupt_range(out, out + VTD_PAGE_SIZE - 1)) {
            fr = vtd_is_scalable(s) ? VTD_FR_SM_INTERRUPT_ADDR :
                                      VTD_FR_INTERRUPT_ADDR;
        } else if (vtd_overlaps_interrupt_range(x.addr, x.addr + x.mask)) {
            /* Hand out the 4K page only, so each page is checked. */
            x.addr = out;
            x.mask = VTD_PAGE_SIZE - 1;
        }
    }
    if (fr) {
        if (!req.probe) {
            vtd_report_fault(s, fr, fpd, req.sid, addr, req.is_write,
                             req.pasid_present, req.pasid);
        }
        return entry;
    }
    entry.iova = addr & ~x.mask;
    entry.translated_addr = x.addr;
    entry.addr_mask = x.mask;
    entry.perm = x.perm;
    return entry;
}

MemTxResult vtd_window_dma_rw(VTDAddressSpace *vas, hwaddr addr,
                              uint64_t *data, unsigned size, MemTxAttrs attrs,
                              bool is_write)
{
    uint8_t buf[8] = { 0 };
    MemTxResult r;
    uint64_t out = addr;
    AddressSpace *target = &address_space_memory;

    size = MIN(size, sizeof(buf));
    if (vas->dmar_on) {
        IOMMUTLBEntry e = vtd_iommu_translate(&vas->iommu, addr,
                                              is_write ? IOMMU_WO : IOMMU_RO,
                                              attrs);

        if (!(e.perm & (is_write ? IOMMU_WO : IOMMU_RO)) || !e.target_as) {
            if (!is_write) {
                *data = 0;
            }
            return MEMTX_ACCESS_ERROR;
        }
        out = (e.translated_addr & ~e.addr_mask) | (addr & e.addr_mask);
        target = e.target_as;
    }
    if (is_write) {
        for (unsigned i = 0; i < size; i++) {
            buf[i] = *data >> (8 * i);
        }
    }
    r = address_space_rw(target, out, attrs, buf, size, is_write);
    if (!is_write) {
        *data = 0;
        for (unsigned i = 0; i < size; i++) {
            *data |= (uint64_t)buf[i] << (8 * i);
        }
    }
    return r;
}

/* --- Page walk for replay (caching mode) ----------------------------------------- */

typedef struct VTDPageWalk {
    IntelIOMMUState *s;
    uint64_t start, end;        /* inclusive */
    bool notify_unmap;
    VTDPageWalkHook hook;
    void *opaque;
    bool first_stage;
    const VTDPASIDEntry *pe;    /* scalable */
    unsigned budget;
    int ret;                    /* first non-zero hook result or error */
    /* The run being merged: [run_iova, run_iova + run_len) */
    bool run_valid;
    uint64_t run_iova, run_len, run_addr;
    IOMMUAccessFlags run_perm;
} VTDPageWalk;

/* Announces a run as the largest naturally aligned chunks. */
static void vtd_walk_flush(VTDPageWalk *w)
{
    uint64_t iova = w->run_iova, addr = w->run_addr, len = w->run_len;

    w->run_valid = false;
    while (len && !w->ret) {
        uint64_t align = iova | (w->run_perm ? addr : 0);
        unsigned shift = align ? __builtin_ctzll(align) : 63;
        IOMMUTLBEntry e;

        while (shift > 0 && (1ULL << shift) > len) {
            shift--;
        }
        e = (IOMMUTLBEntry) {
            .target_as = &address_space_memory,
            .iova = iova,
            .translated_addr = w->run_perm ? addr : 0,
            .addr_mask = (1ULL << shift) - 1,
            .perm = w->run_perm,
        };
        w->ret = w->hook(&e, w->opaque);
        iova += 1ULL << shift;
        addr += 1ULL << shift;
        len -= 1ULL << shift;
    }
}

/* A leaf (perm != NONE) or a hole over [iova, iova + size), clipped. */
static void vtd_walk_emit(VTDPageWalk *w, uint64_t iova, uint64_t size,
                          uint64_t addr, IOMMUAccessFlags perm)
{
    uint64_t last = iova + size - 1;

    if (perm == IOMMU_NONE && !w->notify_unmap) {
        if (w->run_valid) {
            vtd_walk_flush(w);
        }
        return;
    }
    if (iova < w->start) {
        addr += w->start - iova;
        iova = w->start;
    }
    if (last > w->end) {
        last = w->end;
    }
    size = last - iova + 1;
    if (w->run_valid && w->run_perm == perm &&
        w->run_iova + w->run_len == iova &&
        (perm == IOMMU_NONE || w->run_addr + w->run_len == addr)) {
        w->run_len += size;
        return;
    }
    if (w->run_valid) {
        vtd_walk_flush(w);
    }
    w->run_valid = true;
    w->run_iova = iova;
    w->run_len = size;
    w->run_addr = addr;
    w->run_perm = perm;
}

static void vtd_walk_level(VTDPageWalk *w, uint64_t table, int level,
                           uint64_t base, IOMMUAccessFlags perm, bool fl_rw)
{
    IntelIOMMUState *s = w->s;
    unsigned shift = VTD_LEVEL_SHIFT(level);
    uint64_t size = 1ULL << shift;

    for (unsigned i = 0; i < VTD_PT_ENTRIES && !w->ret; i++) {
        uint64_t iova = base + i * size, pte;
        IOMMUAccessFlags p = perm;
        bool leaf, present, rw = fl_rw;

        if (iova > w->end || iova + size - 1 < w->start) {
            continue;
        }
        if (!w->budget--) {
            w->ret = -E2BIG;
            return;
        }
        if (!vtd_read_qwords(table + i * 8, &pte, 1)) {
            vtd_walk_emit(w, iova, size, 0, IOMMU_NONE);
            continue;
        }
        if (w->first_stage) {
            rw = rw && (pte & VTD_FL_RW);
            present = (pte & VTD_FL_P) && (pte & VTD_FL_US) &&
                      !(pte & vtd_fl_rsvd(&(VTDFLWalk) { .s = s, .pe = w->pe },
                                          level,
                                          vtd_fl_is_leaf(s, pte, level)));
            leaf = vtd_fl_is_leaf(s, pte, level);
            p = rw ? IOMMU_RW : IOMMU_RO;
        } else {
            p &= IOMMU_ACCESS_FLAG(pte & VTD_SL_R, pte & VTD_SL_W);
            leaf = vtd_sl_is_leaf(s, pte, level);
            present = p != IOMMU_NONE &&
                      !(pte & vtd_sl_rsvd(s, level, leaf, w->pe != NULL));
        }
        if (!present) {
            vtd_walk_emit(w, iova, size, 0, IOMMU_NONE);
            continue;
        }
        if (leaf) {
            uint64_t addr = pte & VTD_ENTRY_ADDR_MASK & vtd_haw_mask(s) &
                            ~(size - 1);

            if (vtd_overlaps_interrupt_range(addr, addr + size - 1)) {
                p = IOMMU_NONE;     /* would fault 0xe / 0x87 */
            }
            vtd_walk_emit(w, iova, size, addr, p);
            continue;
        }
        vtd_walk_level(w, pte & VTD_ENTRY_ADDR_MASK & vtd_haw_mask(s),
                       level - 1, iova, p, rw);
    }
}

int vtd_page_walk(IntelIOMMUState *s, VTDAddressSpace *vas, uint64_t start,
                  uint64_t end, bool notify_unmap, VTDPageWalkHook hook,
                  void *opaque)
{
    VTDPageWalk w = {
        .s = s, .start = start, .end = end, .notify_unmap = notify_unmap,
        .hook = hook, .opaque = opaque, .budget = VTD_PAGE_WALK_BUDGET,
    };
    VTDContextEntry ce;
    VTDPASIDCacheEntry pc;
    uint64_t table;
    unsigned width;
    int levels;
    bool fpd = false;

    if (!vas->dmar_on || !s->dmar_enabled) {
        return -EOPNOTSUPP;
    }
    if (vtd_get_context(s, vas, &ce, &fpd)) {
        return -ENOENT;
    }
    if (!vtd_is_scalable(s)) {
        unsigned aw = ce.val[1] & VTD_CONTEXT_HI_AW_MASK;

        if (((ce.val[0] & VTD_CONTEXT_LO_TT_MASK) >>
             VTD_CONTEXT_LO_TT_SHIFT) == VTD_TT_PASS_THROUGH) {
            return -EOPNOTSUPP;
        }
        table = ce.val[0] & VTD_ENTRY_ADDR_MASK;
        levels = VTD_AW_LEVELS(aw);
        width = MIN(VTD_AW_AGAW(aw), s->aw_bits);
    } else {
        if (vtd_get_pasid_entry(s, vas, &ce, false, 0, &pc, &fpd)) {
            return -ENOENT;
        }
        w.pe = &pc.pe;
        switch (VTD_PE0_PGTT(pc.pe.val[0])) {
        case VTD_PGTT_PT:
            return -EOPNOTSUPP;
        case VTD_PGTT_SECOND:
            table = pc.pe.val[0] & VTD_ENTRY_ADDR_MASK;
            levels = VTD_AW_LEVELS(VTD_PE0_AW(pc.pe.val[0]));
            width = MIN(VTD_AW_AGAW(VTD_PE0_AW(pc.pe.val[0])), s->aw_bits);
            break;
        case VTD_PGTT_FIRST:
            w.first_stage = true;
            table = pc.pe.val[2] & VTD_ENTRY_ADDR_MASK;
            levels = VTD_FL_LEVELS;
            width = 47;             /* the lower canonical half */
            break;
        default:                    /* nested: not shadowed */
            return -EOPNOTSUPP;
        }
    }
    if (width < 64 && end > (1ULL << width) - 1) {
        w.end = (1ULL << width) - 1;
    }
    if (start > w.end) {
        return 0;
    }
    vtd_walk_level(&w, table, levels, 0, IOMMU_RW, true);
    if (w.run_valid && !w.ret) {
        vtd_walk_flush(&w);
    }
    return w.ret;
}
