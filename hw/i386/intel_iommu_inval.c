/*
 * intel-iommu: invalidation (VT-d 6.5; facts E) and caching-mode
 * MAP/UNMAP notifications (VT-d 6.1, CAP.CM; qemu_behaviour §4).
 *
 * Register-based invalidation (CCMD, IOTLB/IVA, facts E.7) and the
 * invalidation queue (facts E.1-E.6) both end in the cache entry points of
 * intel_iommu_cache.c: a cached translation stays in use until the guest
 * invalidates it at a granularity that covers it.
 *
 * The queue engine is synchronous: a doorbell (IQT write, or QIE set with
 * a non-zero tail) processes descriptors from IQH to IQT before the write
 * returns, at most one queue's worth per doorbell.  An error stops it with
 * IQH on the offending descriptor and FSTS.IQE set (IQERCD.IQEI says why);
 * processing resumes at the next IQT write once IQE is clear.  A wait
 * descriptor's status write is a DMA of the IOMMU itself and may land on
 * the IOMMU's own registers: the engine is not reentered, the running loop
 * picks up the new tail.
 *
 * Caching mode: every address space with IOMMU notifiers keeps a shadow,
 * the set of mappings announced to its MAP notifiers (VTDCMState).  An
 * invalidation that can change what a device sees re-walks the device's
 * tables over the invalidated range and announces the difference: first
 * an UNMAP for every announced mapping that no longer holds (a whole
 * mapping, never part of one, as VFIO type1 requires), then a MAP for
 * every new piece, as the largest naturally aligned chunks.  Notifiers
 * with UNMAP but no MAP (a device-IOTLB such as vhost) get the
 * invalidated range itself.  Which address spaces an invalidation touches
 * is decided with the caches as they were before and after it (a context
 * entry that moved a device out of a domain affects it too).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "intel_iommu_internal.h"
#include "hw/pci/pci_bus.h"

/* Per device: the most mappings one shadow may hold (about 64 MiB). */
#define VTD_CM_MAX_MAPS         (1u << 20)

/* P_DevTLB qw1 reserved bits 10:1 (facts E.3, type 8). */
#define VTD_QI_PDEVTLB_RSVD_HI  0x7feULL

/* The largest queue: 2^7 pages of 128-bit descriptors. */
#define VTD_IQ_MAX_ENTRIES      (256u << 7)

/* Private state of the queue engine (s->inval). */
typedef struct VTDInvalState {
    bool busy;                  /* vtd_qi_run() is on the stack */
    uint32_t queue_gen;         /* bumped at every QIE change */
} VTDInvalState;

/* Announced mappings of one address space, by iova; disjoint; each an
 * IOMMUTLBEntry as sent (naturally aligned chunk), owned by the tree. */
typedef struct VTDCMState {
    GTree *maps;                /* &entry->iova -> IOMMUTLBEntry * */
} VTDCMState;

/* ======================================================================
 * Caching mode: shadows and notifications
 * ====================================================================== */

static uint64_t vtd_entry_last(const IOMMUTLBEntry *e)
{
    return e->iova + e->addr_mask;
}

static gint vtd_cm_key_cmp(gconstpointer a, gconstpointer b, gpointer opaque)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static VTDCMState *vtd_cm_get(VTDAddressSpace *vas)
{
    if (!vas->cm) {
        vas->cm = g_new0(VTDCMState, 1);
        vas->cm->maps = g_tree_new_full(vtd_cm_key_cmp, NULL, NULL, g_free);
    }
    return vas->cm;
}

void vtd_cm_as_destroy(VTDAddressSpace *vas)
{
    if (vas->cm) {
        g_tree_destroy(vas->cm->maps);
        g_free(vas->cm);
        vas->cm = NULL;
    }
}

/* Forgets the shadow without telling anyone. */
static void vtd_cm_forget(VTDAddressSpace *vas)
{
    if (vas->cm) {
        g_tree_remove_all(vas->cm->maps);
    }
}

/* The announced mapping holding addr, else the first one after it. */
static IOMMUTLBEntry *vtd_cm_first_from(VTDCMState *cm, uint64_t addr)
{
    GTreeNode *node = g_tree_upper_bound(cm->maps, &addr);
    GTreeNode *prev = node ? g_tree_node_previous(node)
                           : g_tree_node_last(cm->maps);

    if (prev && vtd_entry_last(g_tree_node_value(prev)) >= addr) {
        return g_tree_node_value(prev);
    }
    return node ? g_tree_node_value(node) : NULL;
}

static bool vtd_has_notifier(VTDAddressSpace *vas)
{
    return vas->iommu.iommu_notify != NULL;
}

/* Whether a notifier other than except asks for MAP events. */
static bool vtd_cm_has_map_notifier(VTDAddressSpace *vas,
                                    IOMMUNotifier *except)
{
    for (IOMMUNotifier *n = vas->iommu.iommu_notify; n; n = n->next) {
        if (n != except && (n->notifier_flags & IOMMU_NOTIFIER_MAP)) {
            return true;
        }
    }
    return false;
}

/* Delivers a shadow change to the notifiers that keep a shadow. */
static void vtd_cm_notify(VTDAddressSpace *vas, IOMMUNotifierFlag type,
                          const IOMMUTLBEntry *e)
{
    IOMMUTLBEvent ev = { .type = type, .entry = *e };
    IOMMUNotifier *n, *next;

    if (type == IOMMU_NOTIFIER_UNMAP) {
        ev.entry.translated_addr = 0;
        ev.entry.perm = IOMMU_NONE;
    }
    for (n = vas->iommu.iommu_notify; n; n = next) {
        next = n->next;         /* a notifier may unregister itself */
        if (n->notifier_flags & IOMMU_NOTIFIER_MAP) {
            memory_region_notify_iommu_one(n, &ev);
        }
    }
}

/* The largest naturally aligned chunk at iova (output at addr) that
 * stays within last: the chunking of vtd_page_walk(). */
static uint64_t vtd_chunk_mask(uint64_t iova, uint64_t addr, uint64_t last)
{
    uint64_t align = iova | addr;
    unsigned shift = align ? __builtin_ctzll(align) : 63;

    while (shift > 0 && ((1ULL << shift) - 1) > last - iova) {
        shift--;
    }
    return (1ULL << shift) - 1;
}

/*
 * Sends type for [first, last] to each notifier selected by want (flags it
 * must have) and skip (flags it must not have), clipped to its range and
 * to the address width, as aligned chunks.
 */
static void vtd_notify_range(VTDAddressSpace *vas, IOMMUNotifierFlag type,
                             IOMMUNotifierFlag want, IOMMUNotifierFlag skip,
                             uint64_t first, uint64_t last)
{
    uint64_t top = (1ULL << vas->iommu_state->aw_bits) - 1;
    IOMMUNotifier *n, *next;

    for (n = vas->iommu.iommu_notify; n; n = next) {
        uint64_t a = MAX(first, n->start), b = MIN(MIN(last, n->end), top);

        next = n->next;
        if (!(n->notifier_flags & want) || (n->notifier_flags & skip)) {
            continue;
        }
        while (a <= b) {
            IOMMUTLBEvent ev = {
                .type = type,
                .entry = {
                    .target_as = &address_space_memory,
                    .iova = a,
                    .addr_mask = vtd_chunk_mask(a, 0, b),
                    .perm = IOMMU_NONE,
                },
            };

            memory_region_notify_iommu_one(n, &ev);
            if (vtd_entry_last(&ev.entry) >= b) {
                break;
            }
            a = vtd_entry_last(&ev.entry) + 1;
        }
    }
}

/* Collects what a walk finds, up to VTD_CM_MAX_MAPS entries. */
static int vtd_cm_collect_hook(const IOMMUTLBEntry *entry, void *opaque)
{
    GArray *fresh = opaque;

    if (fresh->len >= VTD_CM_MAX_MAPS) {
        return -E2BIG;
    }
    g_array_append_vals(fresh, entry, 1);
    return 0;
}

/* The device's current mappings in [first, last]; a walk that fails to
 * resolve the context, or finds pass-through, maps nothing. */
static GArray *vtd_cm_walk(VTDAddressSpace *vas, uint64_t first,
                           uint64_t last)
{
    GArray *fresh = g_array_new(false, false, sizeof(IOMMUTLBEntry));
    int ret = vtd_page_walk(vas->iommu_state, vas, first, last, false,
                            vtd_cm_collect_hook, fresh);

    if (ret == -E2BIG) {
        log_guest_error("intel-iommu: %s: page tables too large to shadow; "
                        "mappings from 0x%" PRIx64 " on are not announced",
                        vas->name, fresh->len ?
                        vtd_entry_last(&g_array_index(fresh, IOMMUTLBEntry,
                                                      fresh->len - 1)) + 1 :
                        first);
    }
    return fresh;
}

static bool vtd_cm_same_translation(const IOMMUTLBEntry *a,
                                    const IOMMUTLBEntry *b)
{
    return a->perm == b->perm && a->target_as == b->target_as &&
           a->translated_addr - a->iova == b->translated_addr - b->iova;
}

/* Whether fresh[j..] cover old with the same translation throughout. */
static bool vtd_cm_still_holds(const GArray *fresh, guint j,
                               const IOMMUTLBEntry *old)
{
    uint64_t pos = old->iova;

    for (; j < fresh->len; j++) {
        const IOMMUTLBEntry *f = &g_array_index(fresh, IOMMUTLBEntry, j);

        if (f->iova > pos || !vtd_cm_same_translation(f, old)) {
            return false;
        }
        if (vtd_entry_last(f) >= vtd_entry_last(old)) {
            return true;
        }
        pos = vtd_entry_last(f) + 1;
    }
    return false;
}

/* Announces [first, last] of f (a sub-range) as MAPs, in aligned chunks. */
static void vtd_cm_map_piece(VTDAddressSpace *vas, VTDCMState *cm,
                             const IOMMUTLBEntry *f, uint64_t first,
                             uint64_t last)
{
    uint64_t delta = f->translated_addr - f->iova;

    while (first <= last) {
        IOMMUTLBEntry *e;

        if (g_tree_nnodes(cm->maps) >= (gint)VTD_CM_MAX_MAPS) {
            log_guest_error("intel-iommu: %s: more than %u mappings to "
                            "shadow; 0x%" PRIx64 "-0x%" PRIx64 " not "
                            "announced", vas->name, VTD_CM_MAX_MAPS, first,
                            last);
            return;
        }
        e = g_new(IOMMUTLBEntry, 1);
        *e = *f;
        e->iova = first;
        e->translated_addr = first + delta;
        e->addr_mask = vtd_chunk_mask(first, first + delta, last);
        g_tree_insert(cm->maps, &e->iova, e);
        vtd_cm_notify(vas, IOMMU_NOTIFIER_MAP, e);
        if (vtd_entry_last(e) >= last) {
            return;
        }
        first = vtd_entry_last(e) + 1;
    }
}

/*
 * Brings the shadow of vas over [first, last] in line with the device's
 * tables (through the context and PASID caches, as a DMA would see them)
 * and tells the notifiers.
 */
static void vtd_cm_sync(VTDAddressSpace *vas, uint64_t first, uint64_t last)
{
    g_autoptr(GPtrArray) old = g_ptr_array_new();
    g_autoptr(GPtrArray) kept = g_ptr_array_new();
    g_autoptr(GArray) fresh = NULL;
    IOMMUTLBEntry *e;
    VTDCMState *cm;
    guint i, j;

    if (!vtd_has_notifier(vas)) {
        return;
    }
    vtd_notify_range(vas, IOMMU_NOTIFIER_UNMAP, IOMMU_NOTIFIER_UNMAP,
                     IOMMU_NOTIFIER_MAP, first, last);
    if (!vtd_cm_has_map_notifier(vas, NULL)) {
        vtd_cm_forget(vas);     /* nobody holds what it describes */
        return;
    }
    cm = vtd_cm_get(vas);

    /* Widen to whole announced mappings: an UNMAP never bisects one. */
    e = vtd_cm_first_from(cm, first);
    if (e && e->iova < first) {
        first = e->iova;
    }
    e = vtd_cm_first_from(cm, last);
    if (e && e->iova <= last) {
        last = MAX(last, vtd_entry_last(e));
    }
    fresh = vtd_cm_walk(vas, first, last);

    for (e = vtd_cm_first_from(cm, first); e && e->iova <= last;) {
        uint64_t next = vtd_entry_last(e) + 1;

        g_ptr_array_add(old, e);
        if (!next) {
            break;
        }
        e = vtd_cm_first_from(cm, next);
    }

    /* UNMAP what no longer holds, ascending. */
    for (i = 0, j = 0; i < old->len; i++) {
        e = g_ptr_array_index(old, i);
        while (j < fresh->len &&
               vtd_entry_last(&g_array_index(fresh, IOMMUTLBEntry, j)) <
               e->iova) {
            j++;
        }
        if (vtd_cm_still_holds(fresh, j, e)) {
            g_ptr_array_add(kept, e);
            continue;
        }
        g_tree_steal(cm->maps, &e->iova);
        vtd_cm_notify(vas, IOMMU_NOTIFIER_UNMAP, e);
        g_free(e);
    }

    /* MAP what is new: the parts of each walked range no kept mapping
     * covers (kept ones agree with the walk where they overlap it). */
    for (i = 0, j = 0; i < fresh->len; i++) {
        const IOMMUTLBEntry *f = &g_array_index(fresh, IOMMUTLBEntry, i);
        uint64_t pos = f->iova;

        while (j < kept->len &&
               vtd_entry_last(g_ptr_array_index(kept, j)) < pos) {
            j++;
        }
        for (;;) {
            IOMMUTLBEntry *k = j < kept->len ? g_ptr_array_index(kept, j)
                                             : NULL;

            if (!k || k->iova > vtd_entry_last(f)) {
                vtd_cm_map_piece(vas, cm, f, pos, vtd_entry_last(f));
                break;
            }
            if (k->iova > pos) {
                vtd_cm_map_piece(vas, cm, f, pos, k->iova - 1);
            }
            if (vtd_entry_last(k) >= vtd_entry_last(f)) {
                break;
            }
            pos = vtd_entry_last(k) + 1;
            j++;
        }
    }
}

/* --- Which address spaces an invalidation touches ------------------------- */

/*
 * A set of address spaces: all, or those whose requests without PASID
 * are governed by domain did (and, with match_pasid, whose RID_PASID is
 * pasid; with fl_only, whose RID_PASID entry is first-stage or nested),
 * or those whose requester id matches sid under sid_mask.  [first, last]
 * is the range to bring in line; fl_whole widens it to everything for
 * first-stage devices (a page-selective IOTLB invalidation in scalable
 * mode drops all their entries, facts E.4).
 */
typedef struct VTDCMTarget {
    bool all;
    bool match_did;
    uint16_t did;
    bool match_pasid;
    uint32_t pasid;
    bool fl_only;
    bool match_sid;
    uint16_t sid, sid_mask;
    uint64_t first, last;
    bool fl_whole;
} VTDCMTarget;

/* In scalable mode: whether vas's RID_PASID entry is first-stage or
 * nested (from the PASID cache, which vtd_as_get_did() filled), and the
 * RID_PASID. */
static bool vtd_cm_rid_pasid(IntelIOMMUState *s, VTDAddressSpace *vas,
                             uint32_t *pasid, bool *fl)
{
    VTDContextEntry ce;
    VTDPASIDCacheEntry *pc;

    *fl = false;
    if (s->root_ttm != VTD_TTM_SCALABLE || vtd_as_get_context(s, vas, &ce)) {
        return false;
    }
    *pasid = ce.val[1] & VTD_SM_CONTEXT_1_RID_PASID_MASK;
    pc = g_hash_table_lookup(vas->pasid_cache, GUINT_TO_POINTER(*pasid));
    if (pc) {
        unsigned pgtt = VTD_PE0_PGTT(pc->pe.val[0]);

        *fl = pgtt == VTD_PGTT_FIRST || pgtt == VTD_PGTT_NESTED;
    }
    return true;
}

static bool vtd_cm_matches(IntelIOMMUState *s, VTDAddressSpace *vas,
                           const VTDCMTarget *t, bool *fl)
{
    uint32_t rid_pasid = 0;
    uint16_t did;

    *fl = false;
    if (t->all) {
        return true;
    }
    if (t->match_sid) {
        return (vtd_as_sid(vas) & t->sid_mask) == (t->sid & t->sid_mask);
    }
    if (!vtd_as_get_did(s, vas, VTD_PASID_NONE, &did) || did != t->did) {
        return false;
    }
    if (!vtd_cm_rid_pasid(s, vas, &rid_pasid, fl)) {
        return !t->match_pasid && !t->fl_only;
    }
    return (!t->match_pasid || rid_pasid == t->pasid) && (!t->fl_only || *fl);
}

/* One address space selected by a target, with the range to sync. */
typedef struct VTDCMWork {
    VTDAddressSpace *vas;
    bool whole;
} VTDCMWork;

static void vtd_cm_add_work(GArray *work, VTDAddressSpace *vas, bool whole)
{
    for (guint i = 0; i < work->len; i++) {
        VTDCMWork *w = &g_array_index(work, VTDCMWork, i);

        if (w->vas == vas) {
            w->whole |= whole;
            return;
        }
    }
    g_array_append_vals(work, &(VTDCMWork) { vas, whole }, 1);
}

static void vtd_cm_select(IntelIOMMUState *s, const VTDCMTarget *t,
                          GArray *work)
{
    for (guint i = 0; i < s->address_spaces->len; i++) {
        VTDAddressSpace *vas = g_ptr_array_index(s->address_spaces, i);
        bool fl;

        if (vtd_has_notifier(vas) && vtd_cm_matches(s, vas, t, &fl)) {
            vtd_cm_add_work(work, vas, t->fl_whole && fl);
        }
    }
}

/*
 * Brackets one cache invalidation: vtd_cm_begin() selects the address
 * spaces the target matches with the caches as they are, vtd_cm_end()
 * adds those it matches after the invalidation and syncs them all.
 * NULL (nothing to do) when no address space has a notifier.
 */
static GArray *vtd_cm_begin(IntelIOMMUState *s, const VTDCMTarget *t)
{
    GArray *work;
    guint i;

    for (i = 0; i < s->address_spaces->len; i++) {
        if (vtd_has_notifier(g_ptr_array_index(s->address_spaces, i))) {
            break;
        }
    }
    if (i == s->address_spaces->len) {
        return NULL;
    }
    work = g_array_new(false, false, sizeof(VTDCMWork));
    vtd_cm_select(s, t, work);
    return work;
}

static void vtd_cm_end(IntelIOMMUState *s, const VTDCMTarget *t,
                       GArray *work)
{
    if (!work) {
        return;
    }
    vtd_cm_select(s, t, work);
    for (guint i = 0; i < work->len; i++) {
        VTDCMWork *w = &g_array_index(work, VTDCMWork, i);

        if (w->whole) {
            vtd_cm_sync(w->vas, 0, UINT64_MAX);
        } else {
            vtd_cm_sync(w->vas, t->first, t->last);
        }
    }
    g_array_free(work, true);
}

/* --- Entry points for intel_iommu.c -------------------------------------- */

void vtd_notify_context_change(IntelIOMMUState *s, VTDAddressSpace *vas)
{
    if (vas) {
        vtd_cm_sync(vas, 0, UINT64_MAX);
        return;
    }
    for (guint i = 0; i < s->address_spaces->len; i++) {
        vtd_cm_sync(g_ptr_array_index(s->address_spaces, i), 0, UINT64_MAX);
    }
}

void vtd_address_space_unmap_all(IntelIOMMUState *s)
{
    for (guint i = 0; i < s->address_spaces->len; i++) {
        VTDAddressSpace *vas = g_ptr_array_index(s->address_spaces, i);

        vtd_cm_forget(vas);
        vtd_notify_range(vas, IOMMU_NOTIFIER_UNMAP, IOMMU_NOTIFIER_UNMAP, 0,
                         0, UINT64_MAX);
    }
}

/*
 * A new notifier n wants the current mappings.  With other MAP notifiers
 * present it gets the shadow they share, so that later differences apply
 * to it as well; otherwise the shadow is rebuilt from the tables.
 */
void vtd_iommu_replay(IOMMUMemoryRegion *iommu, IOMMUNotifier *n)
{
    VTDAddressSpace *vas = vtd_as_of_iommu(iommu);
    g_autoptr(GArray) fresh = NULL;
    VTDCMState *cm;

    if (!(n->notifier_flags & IOMMU_NOTIFIER_MAP)) {
        return;
    }
    cm = vtd_cm_get(vas);
    if (vtd_cm_has_map_notifier(vas, n)) {
        for (GTreeNode *node = g_tree_node_first(cm->maps); node;
             node = g_tree_node_next(node)) {
            IOMMUTLBEvent ev = {
                .type = IOMMU_NOTIFIER_MAP,
                .entry = *(IOMMUTLBEntry *)g_tree_node_value(node),
            };

            memory_region_notify_iommu_one(n, &ev);
        }
        return;
    }
    vtd_cm_forget(vas);
    fresh = vtd_cm_walk(vas, 0, UINT64_MAX);
    for (guint i = 0; i < fresh->len; i++) {
        IOMMUTLBEntry *e = g_memdup2(&g_array_index(fresh, IOMMUTLBEntry, i),
                                     sizeof(IOMMUTLBEntry));
        IOMMUTLBEvent ev = { .type = IOMMU_NOTIFIER_MAP, .entry = *e };

        g_tree_insert(cm->maps, &e->iova, e);
        memory_region_notify_iommu_one(n, &ev);
    }
}

/* ======================================================================
 * Invalidation operations, shared by the registers and the queue
 * ====================================================================== */

/* Context-cache invalidation (E.3 type 1, E.7 CCMD); returns the
 * granularity performed, 0 for none (bad g). */
static unsigned vtd_inv_context(IntelIOMMUState *s, unsigned g, uint16_t did,
                                uint16_t sid, unsigned fm)
{
    static const uint16_t fm_mask[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };
    VTDCMTarget t = { .first = 0, .last = UINT64_MAX };
    GArray *work;

    switch (g) {
    case VTD_CC_GLOBAL:
        t.all = true;
        break;
    case VTD_CC_DOMAIN:
        /* Scalable context entries carry no DID: effectively global. */
        t.all = s->root_ttm == VTD_TTM_SCALABLE;
        t.match_did = true;
        t.did = did;
        break;
    case VTD_CC_DEVICE:
        t.match_sid = true;
        t.sid = sid;
        t.sid_mask = fm_mask[fm & 3];
        break;
    default:
        return 0;
    }
    work = vtd_cm_begin(s, &t);
    switch (g) {
    case VTD_CC_GLOBAL:
        vtd_context_cache_invalidate_all(s);
        break;
    case VTD_CC_DOMAIN:
        vtd_context_cache_invalidate_domain(s, did);
        break;
    default:
        vtd_context_cache_invalidate_devices(s, sid, fm & 3);
        break;
    }
    vtd_cm_end(s, &t, work);
    vtd_nest_sync_all(s);
    return g;
}

/* [first, last] of 2^am pages at addr, aligned down. */
static void vtd_inv_range(uint64_t addr, unsigned am, uint64_t *first,
                          uint64_t *last)
{
    uint64_t size = 1ULL << (VTD_PAGE_SHIFT + MIN(am, 51u));

    *first = addr & ~(size - 1);
    *last = *first + (size - 1);
}

/* IOTLB invalidation (E.3 type 2, E.7 IOTLB); am is already validated.
 * Returns the granularity performed, 0 for none. */
static unsigned vtd_inv_iotlb(IntelIOMMUState *s, unsigned g, uint16_t did,
                              uint64_t addr, unsigned am, bool ih)
{
    VTDCMTarget t = { .did = did, .first = 0, .last = UINT64_MAX };
    GArray *work;

    switch (g) {
    case VTD_TLB_GLOBAL:
        t.all = true;
        work = vtd_cm_begin(s, &t);
        vtd_iotlb_invalidate_all(s);
        break;
    case VTD_TLB_DOMAIN:
        t.match_did = true;
        work = vtd_cm_begin(s, &t);
        vtd_iotlb_invalidate_domain(s, did);
        break;
    case VTD_TLB_PAGE:
        t.match_did = true;
        t.fl_whole = true;
        vtd_inv_range(addr, am, &t.first, &t.last);
        work = vtd_cm_begin(s, &t);
        vtd_iotlb_invalidate_page(s, did, addr, am, ih);
        break;
    default:
        return 0;
    }
    vtd_cm_end(s, &t, work);
    /* every first-stage entry of the domain (all: every domain) goes,
     * facts E.4 */
    vtd_nest_invalidate(s, g == VTD_TLB_GLOBAL, did, VTD_PASID_NONE, true,
                        0, 0, false);
    return g;
}

/* ======================================================================
 * Register-based invalidation (facts E.7)
 * ====================================================================== */

void vtd_handle_ccmd_write(IntelIOMMUState *s)
{
    uint64_t val = vtd_get_quad(s, DMAR_CCMD_REG);
    unsigned g = (val & VTD_CCMD_CIRG_MASK) >> VTD_CCMD_CIRG_SHIFT;
    unsigned done = 0;

    if (s->qi_enabled) {
        /* Not allowed with QIE=1: report "not performed" (CAIG 0). */
        log_guest_error("intel-iommu: CCMD write while queued "
                        "invalidation is enabled, ignored");
    } else {
        done = vtd_inv_context(s, g, val & VTD_CCMD_DID_MASK,
                               (val & VTD_CCMD_SID_MASK) >>
                               VTD_CCMD_SID_SHIFT,
                               (val & VTD_CCMD_FM_MASK) >> VTD_CCMD_FM_SHIFT);
        if (!done) {
            log_guest_error("intel-iommu: CCMD with reserved CIRG 0");
        }
    }
    vtd_set_clear_mask_quad(s, DMAR_CCMD_REG,
                            VTD_CCMD_ICC | VTD_CCMD_CAIG_MASK,
                            (uint64_t)done << VTD_CCMD_CAIG_SHIFT);
}

void vtd_handle_iotlb_write(IntelIOMMUState *s)
{
    uint64_t val = vtd_get_quad(s, DMAR_IOTLB_REG);
    uint64_t iva = vtd_get_quad(s, DMAR_IVA_REG);
    unsigned g = (val & VTD_TLB_IIRG_MASK) >> VTD_TLB_IIRG_SHIFT;
    unsigned am = iva & VTD_IVA_AM_MASK;
    unsigned done = 0;

    if (s->qi_enabled) {
        log_guest_error("intel-iommu: IOTLB register write while queued "
                        "invalidation is enabled, ignored");
    } else if (g == VTD_TLB_PAGE && am > VTD_CAP_MAMV_OF(s->cap)) {
        log_guest_error("intel-iommu: IOTLB page invalidation with AM %u > "
                        "MAMV %u, not performed", am,
                        VTD_CAP_MAMV_OF(s->cap));
    } else {
        done = vtd_inv_iotlb(s, g, (val & VTD_TLB_DID_MASK) >>
                             VTD_TLB_DID_SHIFT, iva & VTD_IVA_ADDR_MASK, am,
                             iva & VTD_IVA_IH);
        vtd_nest_flush(s);
        if (!done) {
            log_guest_error("intel-iommu: IOTLB invalidation with reserved "
                            "IIRG 0");
        }
    }
    vtd_set_clear_mask_quad(s, DMAR_IOTLB_REG,
                            VTD_TLB_IVT | VTD_TLB_IAIG_MASK,
                            (uint64_t)done << VTD_TLB_IAIG_SHIFT);
}

/* ======================================================================
 * Queued invalidation (facts E.1-E.6)
 * ====================================================================== */

/* What processing one descriptor came to. */
typedef enum VTDQIResult {
    VTD_QI_DONE,
    VTD_QI_ERROR,               /* IQE: *iqei says why, IQH stays */
    VTD_QI_TIMEOUT,             /* ITE: device-TLB invalidation lost */
} VTDQIResult;

typedef struct VTDQIDescriptor {
    uint64_t qw[4];
    unsigned type;
} VTDQIDescriptor;

static unsigned vtd_qi_shift(IntelIOMMUState *s)
{
    return s->iq_dw ? 5 : 4;
}

static void vtd_qi_set_head(IntelIOMMUState *s, uint32_t head)
{
    s->iq_head = head;
    vtd_set_quad(s, DMAR_IQH_REG, (uint64_t)head << vtd_qi_shift(s));
}

static void vtd_qi_error(IntelIOMMUState *s, unsigned iqei, const char *why)
{
    log_guest_error("intel-iommu: invalidation queue error %u at head %u: "
                    "%s", iqei, s->iq_head, why);
    vtd_set_clear_mask_quad(s, DMAR_IQERCD_REG, VTD_IQERCD_IQEI_MASK, iqei);
    vtd_set_fault_status(s, VTD_FSTS_IQE);
}

/* Reserved bits: each qword against its mask; in a 256-bit queue the
 * words a 128-bit format does not use are reserved too. */
static bool vtd_qi_rsvd_ok(IntelIOMMUState *s, const VTDQIDescriptor *d,
                           uint64_t rsvd0, uint64_t rsvd1)
{
    if ((d->qw[0] & rsvd0) || (d->qw[1] & rsvd1)) {
        return false;
    }
    return !s->iq_dw || (!d->qw[2] && !d->qw[3]);
}

/* Whether bus:devfn of sid is a present function (device-TLB targets). */
static bool vtd_sid_present(IntelIOMMUState *s, uint16_t sid)
{
    return s->root_bus && pci_find_device(s->root_bus, sid >> 8,
                                          sid & 0xff);
}

static VTDQIResult vtd_qi_cc(IntelIOMMUState *s, const VTDQIDescriptor *d,
                             unsigned *iqei)
{
    unsigned g = VTD_QI_G(d->qw[0]);

    if (!g || !vtd_qi_rsvd_ok(s, d, VTD_QI_CC_RSVD_LO, VTD_QI_CC_RSVD_HI)) {
        *iqei = VTD_IQEI_RSVD;
        return VTD_QI_ERROR;
    }
    vtd_inv_context(s, g, VTD_QI_DID(d->qw[0]), VTD_QI_CC_SID(d->qw[0]),
                    VTD_QI_CC_FM(d->qw[0]));
    return VTD_QI_DONE;
}

static VTDQIResult vtd_qi_iotlb(IntelIOMMUState *s, const VTDQIDescriptor *d,
                                unsigned *iqei)
{
    unsigned g = VTD_QI_G(d->qw[0]);
    unsigned am = VTD_QI_AM(d->qw[1]);

    if (!g ||
        !vtd_qi_rsvd_ok(s, d, VTD_QI_IOTLB_RSVD_LO, VTD_QI_IOTLB_RSVD_HI) ||
        (g == VTD_TLB_PAGE && am > VTD_CAP_MAMV_OF(s->cap))) {
        *iqei = VTD_IQEI_RSVD;
        return VTD_QI_ERROR;
    }
    vtd_inv_iotlb(s, g, VTD_QI_DID(d->qw[0]), d->qw[1] & VTD_QI_ADDR_MASK,
                  am, d->qw[1] & VTD_QI_IH);
    return VTD_QI_DONE;
}

/*
 * Device-TLB invalidation (types 3 and 8).  No emulated device has an
 * ATC, so there is nothing to drop; the range goes to DEVIOTLB_UNMAP
 * notifiers.  A request to a requester id with no function behind it
 * never completes: invalidation time-out (ITE).
 */
static VTDQIResult vtd_qi_devtlb(IntelIOMMUState *s, const VTDQIDescriptor *d,
                                 unsigned *iqei, uint16_t *sid)
{
    bool pasid_based = d->type == VTD_QI_TYPE_P_DEVTLB;
    uint64_t addr = d->qw[1] & VTD_QI_ADDR_MASK;
    uint64_t first = addr, last = addr + VTD_PAGE_SIZE - 1;
    VTDAddressSpace *vas;

    if (!(s->ecap & VTD_ECAP_DT)) {
        *iqei = VTD_IQEI_TYPE;
        return VTD_QI_ERROR;
    }
    if (pasid_based ?
        !vtd_qi_rsvd_ok(s, d, 0, VTD_QI_PDEVTLB_RSVD_HI) :
        !vtd_qi_rsvd_ok(s, d, VTD_QI_DEVTLB_RSVD_LO, VTD_QI_DEVTLB_RSVD_HI)) {
        *iqei = VTD_IQEI_RSVD;
        return VTD_QI_ERROR;
    }
    *sid = pasid_based ? VTD_QI_PDEVTLB_SID(d->qw[0]) :
                         VTD_QI_DEVTLB_SID(d->qw[0]);
    if (!vtd_sid_present(s, *sid)) {
        return VTD_QI_TIMEOUT;
    }
    if (d->qw[1] & (pasid_based ? VTD_QI_PDEVTLB_S : VTD_QI_DEVTLB_S)) {
        /* ATS size encoding: 2^(n+1) pages, n = trailing 1s of ADDR. */
        unsigned n = __builtin_ctzll(~(addr >> VTD_PAGE_SHIFT));
        uint64_t size = 1ULL << (VTD_PAGE_SHIFT + MIN(n + 1, 52u));

        first = addr & ~(size - 1);
        last = first + (size - 1);
    }
    vas = vtd_find_address_space(s, *sid);
    if (!pasid_based && vas && vtd_has_notifier(vas)) {
        vtd_notify_range(vas, IOMMU_NOTIFIER_DEVIOTLB_UNMAP,
                         IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0, first, last);
    }
    return VTD_QI_DONE;
}

static VTDQIResult vtd_qi_iec(IntelIOMMUState *s, const VTDQIDescriptor *d,
                              unsigned *iqei)
{
    bool indexed = d->qw[0] & VTD_QI_IEC_INDEXED;
    unsigned im = VTD_QI_IEC_IM(d->qw[0]);

    if (!(s->ecap & VTD_ECAP_IR)) {
        *iqei = VTD_IQEI_TYPE;
        return VTD_QI_ERROR;
    }
    if (!vtd_qi_rsvd_ok(s, d, VTD_QI_IEC_RSVD_LO, VTD_QI_IEC_RSVD_HI) ||
        (indexed && im > VTD_ECAP_MHMV_OF(s->ecap))) {
        *iqei = VTD_IQEI_RSVD;
        return VTD_QI_ERROR;
    }
    vtd_iec_invalidate(s, !indexed, VTD_QI_IEC_IIDX(d->qw[0]), im);
    return VTD_QI_DONE;
}

/* Invalidation wait (E.3 type 5): status write, then completion event
 * (facts A.4, J: the status is visible before the interrupt).  FN and
 * ordering are implicit: everything before it is done. */
static VTDQIResult vtd_qi_wait(IntelIOMMUState *s, const VTDQIDescriptor *d,
                               unsigned *iqei)
{
    if (!vtd_qi_rsvd_ok(s, d, VTD_QI_WAIT_RSVD_LO, VTD_QI_WAIT_RSVD_HI)) {
        *iqei = VTD_IQEI_RSVD;
        return VTD_QI_ERROR;
    }
    if (d->qw[0] & VTD_QI_WAIT_SW) {
        uint64_t addr = d->qw[1] & VTD_QI_WAIT_SADDR_MASK;
        MemTxResult r;

        address_space_stl_le(&address_space_memory, addr,
                             VTD_QI_WAIT_SDATA(d->qw[0]),
                             MEMTXATTRS_UNSPECIFIED, &r);
        if (r != MEMTX_OK) {
            log_guest_error("intel-iommu: wait status write to 0x%" PRIx64
                            " failed", addr);
        }
    }
    if ((d->qw[0] & VTD_QI_WAIT_IF) &&
        !(vtd_get_long(s, DMAR_ICS_REG) & VTD_ICS_IWC)) {
        vtd_set_clear_mask_long(s, DMAR_ICS_REG, 0, VTD_ICS_IWC);
        vtd_event_raise(s, DMAR_IECTL_REG, DMAR_IEDATA_REG, DMAR_IEADDR_REG,
                        DMAR_IEUADDR_REG);
    }
    return VTD_QI_DONE;
}

/* PASID-based IOTLB (type 6, facts E.4). */
static VTDQIResult vtd_qi_piotlb(IntelIOMMUState *s, const VTDQIDescriptor *d,
                                 unsigned *iqei)
{
    unsigned g = VTD_QI_G(d->qw[0]), am = VTD_QI_AM(d->qw[1]);
    uint16_t did = VTD_QI_DID(d->qw[0]);
    uint32_t pasid = VTD_QI_PASID(d->qw[0]);
    uint64_t addr = d->qw[1] & VTD_QI_ADDR_MASK;
    VTDCMTarget t = {
        .match_did = true, .did = did, .match_pasid = true, .pasid = pasid,
        .first = 0, .last = UINT64_MAX,
    };
    GArray *work;

    if (!vtd_qi_rsvd_ok(s, d, VTD_QI_PIOTLB_RSVD_LO, VTD_QI_PIOTLB_RSVD_HI) ||
        (g != VTD_QI_PIOTLB_G_PASID && g != VTD_QI_PIOTLB_G_PAGE) ||
        (g == VTD_QI_PIOTLB_G_PAGE && am > VTD_CAP_MAMV_OF(s->cap))) {
        *iqei = VTD_IQEI_RSVD;
        return VTD_QI_ERROR;
    }
    if (g == VTD_QI_PIOTLB_G_PASID) {
        work = vtd_cm_begin(s, &t);
        vtd_iotlb_invalidate_pasid(s, did, pasid);
    } else {
        /* Only first-stage and nested entries are dropped. */
        t.fl_only = true;
        vtd_inv_range(addr, am, &t.first, &t.last);
        work = vtd_cm_begin(s, &t);
        vtd_iotlb_invalidate_pasid_page(s, did, pasid, addr, am,
                                        d->qw[1] & VTD_QI_IH);
    }
    vtd_cm_end(s, &t, work);
    /* queued: sent with the rest of the guest's batch (vtd_qi_process) */
    vtd_nest_invalidate(s, false, did, pasid, g == VTD_QI_PIOTLB_G_PASID,
                        addr, am, d->qw[1] & VTD_QI_IH);
    return VTD_QI_DONE;
}

/* PASID-cache (type 7). */
static VTDQIResult vtd_qi_pc(IntelIOMMUState *s, const VTDQIDescriptor *d,
                             unsigned *iqei)
{
    uint16_t did = VTD_QI_DID(d->qw[0]);
    uint32_t pasid = VTD_QI_PASID(d->qw[0]);
    VTDCMTarget t = { .did = did, .pasid = pasid, .last = UINT64_MAX };
    VTDPASIDCacheGran gran;
    GArray *work;

    switch (VTD_QI_G(d->qw[0])) {
    case VTD_QI_PC_G_DOMAIN:
        gran = VTD_PASID_CACHE_DOMAIN;
        t.match_did = true;
        break;
    case VTD_QI_PC_G_PASID:
        gran = VTD_PASID_CACHE_PASID;
        t.match_did = t.match_pasid = true;
        break;
    case VTD_QI_PC_G_GLOBAL:
        gran = VTD_PASID_CACHE_GLOBAL;
        t.all = true;
        break;
    default:
        *iqei = VTD_IQEI_RSVD;
        return VTD_QI_ERROR;
    }
    if (!vtd_qi_rsvd_ok(s, d, VTD_QI_PC_RSVD_LO, VTD_QI_PC_RSVD_HI)) {
        *iqei = VTD_IQEI_RSVD;
        return VTD_QI_ERROR;
    }
    work = vtd_cm_begin(s, &t);
    vtd_pasid_cache_invalidate(s, gran, did, pasid);
    vtd_cm_end(s, &t, work);
    vtd_nest_sync_all(s);
    return VTD_QI_DONE;
}

static VTDQIResult vtd_qi_process(IntelIOMMUState *s,
                                  const VTDQIDescriptor *d, unsigned *iqei,
                                  uint16_t *sid)
{
    switch (d->type) {
    case VTD_QI_TYPE_P_IOTLB:
    case VTD_QI_TYPE_PC:
    case VTD_QI_TYPE_P_DEVTLB:
        if (!s->iq_dw) {
            /* A 256-bit format cannot sit in a 128-bit slot. */
            *iqei = VTD_IQEI_WIDTH;
            return VTD_QI_ERROR;
        }
        break;
    }
    /* Forwarded IOTLB invalidations are batched: anything else (a wait
     * above all) sees them done on the host. */
    if (d->type != VTD_QI_TYPE_IOTLB && d->type != VTD_QI_TYPE_P_IOTLB) {
        vtd_nest_flush(s);
    }
    switch (d->type) {
    case VTD_QI_TYPE_CC:
        return vtd_qi_cc(s, d, iqei);
    case VTD_QI_TYPE_IOTLB:
        return vtd_qi_iotlb(s, d, iqei);
    case VTD_QI_TYPE_DEVTLB:
    case VTD_QI_TYPE_P_DEVTLB:
        return vtd_qi_devtlb(s, d, iqei, sid);
    case VTD_QI_TYPE_IEC:
        return vtd_qi_iec(s, d, iqei);
    case VTD_QI_TYPE_WAIT:
        return vtd_qi_wait(s, d, iqei);
    case VTD_QI_TYPE_P_IOTLB:
        return vtd_qi_piotlb(s, d, iqei);
    case VTD_QI_TYPE_PC:
        return vtd_qi_pc(s, d, iqei);
    default:                    /* includes 9: no ECAP.PRS */
        *iqei = VTD_IQEI_TYPE;
        return VTD_QI_ERROR;
    }
}

/* Queue-level conditions checked before each fetch; 0 if none. */
static unsigned vtd_qi_queue_error(IntelIOMMUState *s, const char **why)
{
    bool smts = s->ecap & VTD_ECAP_SMTS;

    if (s->iq_dw && !smts) {
        *why = "256-bit descriptors without ECAP.SMTS";
        return VTD_IQEI_WIDTH;
    }
    if (s->root_set &&
        (s->root_ttm == VTD_TTM_RESERVED || s->root_ttm == VTD_TTM_ABORT ||
         (s->root_ttm == VTD_TTM_SCALABLE && !smts))) {
        *why = "invalid RTADDR.TTM";
        return VTD_IQEI_TTM;
    }
    if (!s->iq_dw && s->root_set && s->root_ttm == VTD_TTM_SCALABLE) {
        *why = "128-bit descriptors in scalable mode";
        return VTD_IQEI_WIDTH;
    }
    return VTD_IQEI_NONE;
}

static bool vtd_qi_fetch(IntelIOMMUState *s, VTDQIDescriptor *d)
{
    unsigned size = s->iq_dw ? VTD_QI_DESC_SIZE_256 : VTD_QI_DESC_SIZE_128;
    uint64_t off = (uint64_t)s->iq_head * size;

    memset(d, 0, sizeof(*d));
    if (off > UINT64_MAX - s->iq ||
        address_space_read(&address_space_memory, s->iq + off,
                           MEMTXATTRS_UNSPECIFIED, d->qw, size) != MEMTX_OK) {
        return false;
    }
    for (unsigned i = 0; i < 4; i++) {
        d->qw[i] = GUINT64_FROM_LE(d->qw[i]);
    }
    d->type = VTD_QI_TYPE(d->qw[0]);
    return true;
}

/*
 * Processes the descriptor at IQH if there is one.  Returns false when
 * the queue is empty, disabled or stopped.
 */
static bool vtd_qi_step(IntelIOMMUState *s)
{
    VTDInvalState *st = s->inval;
    uint64_t iqt = vtd_get_quad(s, DMAR_IQT_REG);
    uint32_t gen = st->queue_gen, tail;
    const char *why = NULL;
    VTDQIDescriptor d;
    unsigned iqei = VTD_IQEI_NONE;
    uint16_t sid = 0;

    if (!s->qi_enabled || !s->iq_size ||
        (vtd_get_long(s, DMAR_FSTS_REG) & (VTD_FSTS_IQE | VTD_FSTS_ITE))) {
        return false;
    }
    if (s->iq_dw && (iqt & (1ULL << VTD_IQHT_SHIFT))) {
        vtd_qi_error(s, VTD_IQEI_TAIL_ALIGN, "IQT not 256-bit aligned");
        return false;
    }
    tail = (iqt & VTD_IQHT_MASK) >> vtd_qi_shift(s);
    if (tail >= s->iq_size) {
        vtd_qi_error(s, VTD_IQEI_TAIL_BEYOND, "IQT beyond the queue");
        return false;
    }
    s->iq_tail = tail;
    if (s->iq_head == tail) {
        return false;
    }
    iqei = vtd_qi_queue_error(s, &why);
    if (iqei) {
        vtd_qi_error(s, iqei, why);
        return false;
    }
    if (!vtd_qi_fetch(s, &d)) {
        vtd_qi_error(s, VTD_IQEI_FETCH, "descriptor fetch failed");
        return false;
    }
    switch (vtd_qi_process(s, &d, &iqei, &sid)) {
    case VTD_QI_DONE:
        break;
    case VTD_QI_ERROR:
        vtd_qi_error(s, iqei, "bad descriptor");
        return false;
    case VTD_QI_TIMEOUT:
        /* Everything pending is aborted, waits included (facts E.5). */
        log_guest_error("intel-iommu: device-TLB invalidation of "
                        "%02x:%02x.%x timed out", sid >> 8,
                        PCI_SLOT(sid & 0xff), PCI_FUNC(sid & 0xff));
        vtd_set_clear_mask_quad(s, DMAR_IQERCD_REG,
                                0xffffULL << VTD_IQERCD_ITESID_SHIFT,
                                (uint64_t)sid << VTD_IQERCD_ITESID_SHIFT);
        vtd_qi_set_head(s, s->iq_tail);
        vtd_set_fault_status(s, VTD_FSTS_ITE);
        return false;
    }
    /* The descriptor's own DMA may have disabled or re-based the queue:
     * then IQH already is where the new queue starts. */
    if (gen != st->queue_gen || !s->qi_enabled) {
        return s->qi_enabled;
    }
    vtd_qi_set_head(s, (s->iq_head + 1) % s->iq_size);
    return true;
}

/* Runs the queue; bounded by one full queue per doorbell. */
static void vtd_qi_run(IntelIOMMUState *s)
{
    VTDInvalState *st = s->inval;

    if (!st || st->busy) {
        return;                 /* the running loop re-reads IQT */
    }
    st->busy = true;
    for (unsigned n = 0; n < VTD_IQ_MAX_ENTRIES && vtd_qi_step(s); n++) {
    }
    vtd_nest_flush(s);
    st->busy = false;
}

void vtd_handle_gcmd_qie(IntelIOMMUState *s, bool en)
{
    uint64_t iqa = vtd_get_quad(s, DMAR_IQA_REG);
    VTDInvalState *st = s->inval;

    st->queue_gen++;
    if (!en) {
        if (s->iq_head != s->iq_tail) {
            log_guest_error("intel-iommu: queued invalidation disabled with "
                            "descriptors pending; they are dropped");
        }
        s->iq_head = s->iq_tail = 0;
        vtd_set_quad(s, DMAR_IQH_REG, 0);
        return;
    }
    /* IQA takes effect here (facts E.1). */
    s->iq = iqa & VTD_IQA_ADDR_MASK;
    s->iq_dw = iqa & VTD_IQA_DW;
    s->iq_size = (s->iq_dw ? 128u : 256u) << (iqa & VTD_IQA_QS_MASK);
    s->iq_head = 0;
    vtd_set_quad(s, DMAR_IQH_REG, 0);
    /* Some guests (Windows) set QIE with IQT already non-zero. */
    vtd_qi_run(s);
}

void vtd_handle_iqt_write(IntelIOMMUState *s)
{
    vtd_qi_run(s);
}

void vtd_handle_ics_write(IntelIOMMUState *s)
{
    /* Clearing IWC clears a pending completion event (facts A.4). */
    if (!(vtd_get_long(s, DMAR_ICS_REG) & VTD_ICS_IWC)) {
        vtd_set_clear_mask_long(s, DMAR_IECTL_REG, VTD_ECTL_IP, 0);
    }
}

void vtd_handle_iectl_write(IntelIOMMUState *s)
{
    vtd_event_unmask(s, DMAR_IECTL_REG, DMAR_IEDATA_REG, DMAR_IEADDR_REG,
                     DMAR_IEUADDR_REG);
}

void vtd_inval_reset(IntelIOMMUState *s)
{
    if (s->inval) {
        s->inval->queue_gen++;
    }
}

void vtd_inval_init(IntelIOMMUState *s)
{
    s->inval = g_new0(VTDInvalState, 1);
}

void vtd_inval_fini(IntelIOMMUState *s)
{
    g_free(s->inval);
    s->inval = NULL;
}
