/*
 * intel-iommu: the translation caches and their invalidation (VT-d 6.5;
 * facts E.4).
 *
 * The caches themselves are filled by intel_iommu_translate.c; this file
 * creates them and drops entries when the guest invalidates, through the
 * entry points intel_iommu_inval.c calls.  Dropping more than asked is
 * always allowed (hardware may evict at any time); dropping less never.
 *
 * Context and PASID cache invalidations also re-evaluate the affected
 * address spaces (pass-through may have been turned on or off), inside
 * one memory transaction.
 */
#include "intel_iommu_internal.h"

static bool vtd_is_scalable(IntelIOMMUState *s)
{
    return s->root_ttm == VTD_TTM_SCALABLE;
}

/* --- IOTLB ------------------------------------------------------------------ */

static guint vtd_iotlb_hash(gconstpointer v)
{
    const VTDIOTLBKey *k = v;
    uint64_t h = k->gfn * 0x9e3779b97f4a7c15ULL;

    h ^= ((uint64_t)k->pasid << 24) ^ ((uint64_t)k->did << 8) ^ k->level;
    return (guint)(h ^ (h >> 32));
}

static gboolean vtd_iotlb_equal(gconstpointer a, gconstpointer b)
{
    const VTDIOTLBKey *x = a, *y = b;

    return x->gfn == y->gfn && x->pasid == y->pasid && x->did == y->did &&
           x->level == y->level;
}

/* Invalidation filter: which entries go. */
typedef struct VTDIOTLBFilter {
    uint16_t did;
    uint32_t pasid;
    bool match_pasid;
    bool ranged;
    uint64_t start, last;       /* when ranged */
    bool scalable_psi;          /* IOTLB PSI in scalable mode (E.4) */
    bool fl_only;               /* P_IOTLB page-selective (E.4) */
} VTDIOTLBFilter;

static bool vtd_pgtt_is_fl(uint8_t pgtt)
{
    return pgtt == VTD_PGTT_FIRST || pgtt == VTD_PGTT_NESTED;
}

static gboolean vtd_iotlb_filter(gpointer key, gpointer value, gpointer opaque)
{
    const VTDIOTLBEntry *e = value;
    const VTDIOTLBFilter *f = opaque;
    uint64_t first, last;

    if (e->key.did != f->did ||
        (f->match_pasid && e->key.pasid != f->pasid)) {
        return false;
    }
    if (!f->ranged) {
        return true;
    }
    if (f->fl_only && !vtd_pgtt_is_fl(e->pgtt)) {
        return false;
    }
    if (f->scalable_psi && vtd_pgtt_is_fl(e->pgtt)) {
        return true;
    }
    first = e->key.gfn << VTD_LEVEL_SHIFT(e->key.level);
    last = first + e->mask;
    return first <= f->last && f->start <= last;
}

/* [start, last] of 2^am pages at addr, aligned down; am is bounded. */
static void vtd_psi_range(uint64_t addr, uint8_t am, uint64_t *start,
                          uint64_t *last)
{
    unsigned shift = VTD_PAGE_SHIFT + MIN(am, 52);
    uint64_t size = 1ULL << shift;

    *start = addr & ~(size - 1);
    *last = *start + size - 1;
}

void vtd_iotlb_invalidate_all(IntelIOMMUState *s)
{
    g_hash_table_remove_all(s->iotlb);
}

void vtd_iotlb_invalidate_domain(IntelIOMMUState *s, uint16_t did)
{
    VTDIOTLBFilter f = { .did = did };

    g_hash_table_foreach_remove(s->iotlb, vtd_iotlb_filter, &f);
}

void vtd_iotlb_invalidate_page(IntelIOMMUState *s, uint16_t did,
                               uint64_t addr, uint8_t am, bool ih)
{
    VTDIOTLBFilter f = {
        .did = did, .ranged = true, .scalable_psi = vtd_is_scalable(s),
    };

    vtd_psi_range(addr, am, &f.start, &f.last);
    g_hash_table_foreach_remove(s->iotlb, vtd_iotlb_filter, &f);
}

void vtd_iotlb_invalidate_pasid(IntelIOMMUState *s, uint16_t did,
                                uint32_t pasid)
{
    VTDIOTLBFilter f = { .did = did, .pasid = pasid, .match_pasid = true };

    g_hash_table_foreach_remove(s->iotlb, vtd_iotlb_filter, &f);
}

void vtd_iotlb_invalidate_pasid_page(IntelIOMMUState *s, uint16_t did,
                                     uint32_t pasid, uint64_t addr,
                                     uint8_t am, bool ih)
{
    VTDIOTLBFilter f = {
        .did = did, .pasid = pasid, .match_pasid = true, .ranged = true,
        .fl_only = true,
    };

    vtd_psi_range(addr, am, &f.start, &f.last);
    g_hash_table_foreach_remove(s->iotlb, vtd_iotlb_filter, &f);
}

/* --- Context and PASID caches ------------------------------------------- */

static void vtd_as_drop_context(VTDAddressSpace *vas)
{
    vas->context_cache_entry.gen = 0;
    g_hash_table_remove_all(vas->pasid_cache);
}

static void vtd_drop_one(VTDAddressSpace *vas, void *opaque)
{
    vtd_as_drop_context(vas);
}

/* Every context (and so PASID) cache entry goes; generation 0 never
 * marks a valid entry. */
static void vtd_context_cache_drop_all(IntelIOMMUState *s)
{
    vtd_foreach_address_space(s, vtd_drop_one, NULL);
    s->context_cache_gen++;
    if (s->context_cache_gen == 0) {
        s->context_cache_gen = 1;
    }
}

void vtd_context_cache_invalidate_all(IntelIOMMUState *s)
{
    vtd_context_cache_drop_all(s);
    vtd_switch_address_space_all(s);
}

typedef struct VTDCCFilter {
    IntelIOMMUState *s;
    uint16_t did;
    uint16_t sid, mask;
} VTDCCFilter;

static void vtd_cc_domain_one(VTDAddressSpace *vas, void *opaque)
{
    VTDCCFilter *f = opaque;
    VTDContextCacheEntry *cc = &vas->context_cache_entry;

    if (cc->scalable || VTD_CONTEXT_HI_DID(cc->ce.val[1]) == f->did) {
        vtd_as_drop_context(vas);
        vtd_switch_address_space(vas);
    }
}

void vtd_context_cache_invalidate_domain(IntelIOMMUState *s, uint16_t did)
{
    VTDCCFilter f = { .s = s, .did = did };

    if (vtd_is_scalable(s)) {
        vtd_context_cache_invalidate_all(s);
        return;
    }
    memory_region_transaction_begin();
    vtd_foreach_address_space(s, vtd_cc_domain_one, &f);
    memory_region_transaction_commit();
}

static void vtd_cc_device_one(VTDAddressSpace *vas, void *opaque)
{
    VTDCCFilter *f = opaque;

    if ((vtd_as_sid(vas) & f->mask) == (f->sid & f->mask)) {
        vtd_as_drop_context(vas);
        vtd_switch_address_space(vas);
    }
}

void vtd_context_cache_invalidate_devices(IntelIOMMUState *s, uint16_t sid,
                                          uint8_t fm)
{
    static const uint16_t fm_mask[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };
    VTDCCFilter f = { .s = s, .sid = sid, .mask = fm_mask[fm & 3] };

    memory_region_transaction_begin();
    vtd_foreach_address_space(s, vtd_cc_device_one, &f);
    memory_region_transaction_commit();
}

typedef struct VTDPCFilter {
    VTDPASIDCacheGran gran;
    uint16_t did;
    uint32_t pasid;
} VTDPCFilter;

static gboolean vtd_pc_filter(gpointer key, gpointer value, gpointer opaque)
{
    const VTDPASIDCacheEntry *pc = value;
    const VTDPCFilter *f = opaque;

    switch (f->gran) {
    case VTD_PASID_CACHE_GLOBAL:
        return true;
    case VTD_PASID_CACHE_DOMAIN:
        return pc->did == f->did;
    default:
        return pc->did == f->did && pc->pasid == f->pasid;
    }
}

static void vtd_pc_one(VTDAddressSpace *vas, void *opaque)
{
    g_hash_table_foreach_remove(vas->pasid_cache, vtd_pc_filter, opaque);
}

void vtd_pasid_cache_invalidate(IntelIOMMUState *s, VTDPASIDCacheGran gran,
                                uint16_t did, uint32_t pasid)
{
    VTDPCFilter f = { .gran = gran, .did = did, .pasid = pasid };

    vtd_foreach_address_space(s, vtd_pc_one, &f);
    /* Any device, cached or not, may have a new RID_PASID entry. */
    vtd_switch_address_space_all(s);
}

void vtd_reset_caches(IntelIOMMUState *s)
{
    vtd_context_cache_drop_all(s);
    vtd_iotlb_invalidate_all(s);
}

void vtd_caches_init(IntelIOMMUState *s)
{
    s->context_cache_gen = 1;
    s->iotlb = g_hash_table_new_full(vtd_iotlb_hash, vtd_iotlb_equal, NULL,
                                     g_free);
}

void vtd_caches_fini(IntelIOMMUState *s)
{
    if (s->iotlb) {
        g_hash_table_destroy(s->iotlb);
        s->iotlb = NULL;
    }
}

