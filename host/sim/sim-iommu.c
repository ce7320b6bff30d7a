/*
 * The simulated physical IOMMU: what a device's DMA request becomes.
 *
 * A request (device, PASID, address, read/write) goes through what the
 * RID or PASID is attached to: nothing (blocked), a paging HWPT (stage 2:
 * the IOAS areas, IOVA → user VA), a nested HWPT (a VT-d first-stage walk
 * of the guest's table, every table read itself translated by stage 2,
 * then stage 2 of the output), or, for the legacy path, a type1
 * container's areas.  Nested results are cached in an IOTLB that keeps
 * them until IOMMU_HWPT_INVALIDATE, as hardware does; stage 2 is always
 * read live (the kernel flushes it on unmap).  Writes through a paging
 * HWPT with dirty tracking enabled set dirty bits.  Failures go to a
 * fault log.
 */
#include <errno.h>
#include <string.h>

#include "sim-internal.h"

/* VT-d first-stage entry bits (facts D.3). */
#define FS_P        (1ull << 0)
#define FS_RW       (1ull << 1)
#define FS_US       (1ull << 2)
#define FS_A        (1ull << 5)
#define FS_D        (1ull << 6)
#define FS_PS       (1ull << 7)
#define FS_EA       (1ull << 10)
#define FS_ADDR_MASK 0x000ffffffffff000ull

/* VT-d fault reasons (facts D.3, F.6). */
#define VTD_FR_S1_TABLE_TOP     0x73
#define VTD_FR_S1_TABLE         0x70
#define VTD_FR_S1_NOT_PRESENT   0x71
#define VTD_FR_S1_RESERVED      0x72
#define VTD_FR_S1_NON_CANONICAL 0x80
#define VTD_FR_S1_USER          0x81
#define VTD_FR_S1_WRITE         0x85
#define VTD_FR_S1_AD            0x91

/* A cached first-stage result: a leaf page of 4K << (9 * level). */
typedef struct SimIotlbEntry {
    uint64_t gpa;           /* output page base */
    bool writable;          /* R/W set at every level */
    bool dirty;             /* D already set in the leaf */
} SimIotlbEntry;

/* A failed step: why, the VT-d code and the stage-2 address involved. */
typedef struct SimFault {
    SimFaultReason reason;
    uint8_t vtd;
    uint64_t addr;
} SimFault;

/* ---- stage 2 ------------------------------------------------------------ */

static int s2_lookup(const SimItree *areas, uint64_t addr, bool write,
                     uint64_t *uva, uint64_t *len, SimFault *f)
{
    SimArea *a = sim_area_find(areas, addr);
    int need = write ? SIM_PROT_WRITE : SIM_PROT_READ;

    f->addr = addr;
    if (!a) {
        f->reason = SIM_FAULT_S2_UNMAPPED;
        return -EFAULT;
    }
    if ((a->prot & need) != need) {
        f->reason = SIM_FAULT_S2_PERM;
        return -EFAULT;
    }
    *uva = a->uva + (addr - a->node.start);
    *len = a->node.last - addr + 1;
    if (!*len) {
        *len = UINT64_MAX;      /* an area spanning all 2^64 addresses */
    }
    return 0;
}

/* Read or update one first-stage entry at guest-physical @gpa. */
static int s2_entry_rw(SimHost *host, const SimItree *areas, uint64_t gpa,
                       uint64_t *val, bool write, SimFault *f)
{
    uint64_t uva, len;
    int r = s2_lookup(areas, gpa, write, &uva, &len, f);

    if (r || len < sizeof(*val)) {
        return -EFAULT;
    }
    r = write ? sim_copy_to_user(host, uva, val, sizeof(*val))
              : sim_copy_from_user(host, val, uva, sizeof(*val));
    if (r) {
        f->reason = SIM_FAULT_MEMORY;
    }
    return r;
}

/* ---- VT-d first-stage walk ---------------------------------------------- */

static int s1_fault(SimFault *f, SimFaultReason reason, uint8_t vtd,
                    uint64_t addr)
{
    f->reason = reason;
    f->vtd = vtd;
    f->addr = addr;
    return -EFAULT;
}

/*
 * Reserved bits of an entry at @level (1 = PTE): address bits at or above
 * the host address width, PS where no page can be, and the low address
 * bits of a large page (bit 12 is PAT there).
 */
static bool s1_reserved(const SimHost *host, uint64_t e, int level)
{
    uint64_t above = FS_ADDR_MASK & ~((1ull << host->desc.aw_bits) - 1);

    if (e & above) {
        return true;
    }
    if (!(e & FS_PS) || level == 1) {
        return false;
    }
    if (level >= 4 || (level == 3 && !host->desc.fs1gp)) {
        return true;
    }
    return e & (level == 2 ? 0x1fe000ull : 0x3fffe000ull);
}

/*
 * Walk the guest first-stage table of @hwpt for @iova (VT-d 3.6, facts
 * D.3): on success *gpa, *level of the leaf and *writable.  A/D (and EA
 * with EAFE) are written back as hardware does.
 */
static int s1_walk(SimHwpt *hwpt, uint64_t iova, bool write, uint64_t *gpa,
                   int *leaf_level, bool *writable, SimFault *f)
{
    SimHost *host = hwpt->obj.ictx->host;
    const SimItree *s2 = &hwpt->parent->ioas->areas;
    int levels = hwpt->s1.addr_width == 57 ? 5 : 4;
    int top_bit = levels * 9 + 11;
    uint64_t table = hwpt->s1.pgtbl_addr, e = 0, ad;
    bool rw = true;
    int level;

    /* canonical: bits above the top one repeat it */
    if ((int64_t)(iova << (63 - top_bit)) >> (63 - top_bit) != (int64_t)iova) {
        return s1_fault(f, SIM_FAULT_S1_NON_CANONICAL, VTD_FR_S1_NON_CANONICAL,
                        0);
    }
    for (level = levels; level >= 1; level--) {
        uint64_t slot = table + (((iova >> (12 + 9 * (level - 1))) & 0x1ff) << 3);

        if (s2_entry_rw(host, s2, slot, &e, false, f)) {
            f->vtd = level == levels ? VTD_FR_S1_TABLE_TOP : VTD_FR_S1_TABLE;
            if (f->reason != SIM_FAULT_MEMORY) {
                f->reason = SIM_FAULT_S1_TABLE;
            }
            return -EFAULT;
        }
        if (!(e & FS_P)) {
            return s1_fault(f, SIM_FAULT_S1_NOT_PRESENT, VTD_FR_S1_NOT_PRESENT,
                            slot);
        }
        if (!(e & FS_US)) {     /* DMA requests are user requests */
            return s1_fault(f, SIM_FAULT_S1_USER, VTD_FR_S1_USER, slot);
        }
        rw = rw && (e & FS_RW);
        if (write && !rw) {
            return s1_fault(f, SIM_FAULT_S1_WRITE, VTD_FR_S1_WRITE, slot);
        }
        if (s1_reserved(host, e, level)) {
            return s1_fault(f, SIM_FAULT_S1_RESERVED, VTD_FR_S1_RESERVED, slot);
        }
        ad = FS_A | (hwpt->s1.flags & IOMMU_VTD_S1_EAFE ? FS_EA : 0);
        if (level == 1 || (e & FS_PS)) {
            ad |= write ? FS_D : 0;
        }
        if ((e & ad) != ad) {
            e |= ad;
            if (s2_entry_rw(host, s2, slot, &e, true, f)) {
                return s1_fault(f, SIM_FAULT_S1_AD_UPDATE, VTD_FR_S1_AD, slot);
            }
        }
        if (level == 1 || (e & FS_PS)) {
            break;
        }
        table = e & FS_ADDR_MASK;
    }
    *leaf_level = level;
    *writable = rw;
    *gpa = (e & FS_ADDR_MASK & ~((SIM_PAGE_SIZE << (9 * (level - 1))) - 1));
    return 0;
}

/* ---- IOTLB -------------------------------------------------------------- */

static uint64_t level_size(int level)
{
    return SIM_PAGE_SIZE << (9 * (level - 1));
}

/* The key of the cached page holding @iova at @level (1..3). */
static gpointer iotlb_key(uint64_t iova, int level)
{
    return GSIZE_TO_POINTER((iova & ~(level_size(level) - 1)) | level);
}

static SimIotlbEntry *iotlb_lookup(SimHwpt *hwpt, uint64_t iova, int *level)
{
    if (!hwpt->iotlb) {
        return NULL;
    }
    for (*level = 1; *level <= 3; (*level)++) {
        SimIotlbEntry *e = g_hash_table_lookup(hwpt->iotlb,
                                               iotlb_key(iova, *level));
        if (e) {
            return e;
        }
    }
    return NULL;
}

static void iotlb_insert(SimHwpt *hwpt, uint64_t iova, int level,
                         uint64_t gpa, bool writable, bool dirty)
{
    SimIotlbEntry *e = g_new(SimIotlbEntry, 1);

    if (!hwpt->iotlb) {
        hwpt->iotlb = g_hash_table_new_full(g_direct_hash, g_direct_equal,
                                            NULL, g_free);
    }
    if (g_hash_table_size(hwpt->iotlb) >= SIM_IOTLB_ENTRIES) {
        g_hash_table_remove_all(hwpt->iotlb);   /* capacity eviction */
    }
    e->gpa = gpa;
    e->writable = writable;
    e->dirty = dirty;
    g_hash_table_insert(hwpt->iotlb, iotlb_key(iova, level), e);
}

void sim_iotlb_flush(SimHwpt *hwpt, uint64_t start, uint64_t last)
{
    GHashTableIter it;
    gpointer key;

    if (!hwpt->iotlb) {
        return;
    }
    g_hash_table_iter_init(&it, hwpt->iotlb);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        uint64_t k = GPOINTER_TO_SIZE(key);
        uint64_t base = k & ~(SIM_PAGE_SIZE - 1);
        uint64_t end = base + level_size(k & 3) - 1;

        if (base <= last && end >= start) {
            g_hash_table_iter_remove(&it);
        }
    }
}

void sim_iotlb_free(SimHwpt *hwpt)
{
    if (hwpt->iotlb) {
        g_hash_table_destroy(hwpt->iotlb);
        hwpt->iotlb = NULL;
    }
}

/* Stage 1 of a nested HWPT, through the IOTLB: IOVA → GPA. */
static int s1_translate(SimHwpt *hwpt, uint64_t iova, bool write,
                        uint64_t *gpa, uint64_t *len, SimFault *f)
{
    SimIotlbEntry *e;
    uint64_t page;
    bool writable;
    int level, r;

    e = iotlb_lookup(hwpt, iova, &level);
    if (!e || (write && (!e->writable || !e->dirty))) {
        /* a miss, or a write needing the walk (permission, D bit) */
        r = s1_walk(hwpt, iova, write, &page, &level, &writable, f);
        if (r) {
            return r;
        }
        iotlb_insert(hwpt, iova, level, page, writable, write);
    } else {
        page = e->gpa;
    }
    *gpa = page + (iova & (level_size(level) - 1));
    *len = level_size(level) - (iova & (level_size(level) - 1));
    return 0;
}

/* ---- translation -------------------------------------------------------- */

static void mark_dirty(SimHwpt *s2, uint64_t addr, uint64_t len)
{
    if (!s2 || !s2->dirty_enabled || !len) {
        return;
    }
    for (uint64_t pfn = addr >> SIM_PAGE_SHIFT;
         pfn <= (addr + len - 1) >> SIM_PAGE_SHIFT; pfn++) {
        g_hash_table_add(s2->dirty, GSIZE_TO_POINTER(pfn));
    }
}

static void log_fault(SimDevice *dev, uint32_t pasid, uint64_t iova,
                      bool write, SimHwpt *hwpt, const SimFault *f)
{
    SimFaultRecord rec = {
        .pasid = pasid,
        .hwpt_id = hwpt ? hwpt->obj.id : 0,
        .iova = iova,
        .addr = f->addr,
        .reason = f->reason,
        .vtd_reason = f->vtd,
        .write = write,
    };

    g_strlcpy(rec.bdf, dev->desc.bdf, sizeof(rec.bdf));
    sim_fault_log(dev->host, &rec);
}

/*
 * One address: *s2_in is the stage-2 input (IOVA or GPA) and *s2 the
 * paging HWPT (NULL for type1), for dirty marking.
 */
static int xlate(SimDevice *dev, uint32_t pasid, uint64_t iova, bool write,
                 SimXlate *out, uint64_t *s2_in, SimHwpt **s2)
{
    SimHwpt *hwpt = pasid == SIM_NO_PASID ? dev->rid_hwpt
                    : dev->pasid_hwpt
                      ? g_hash_table_lookup(dev->pasid_hwpt,
                                            GUINT_TO_POINTER(pasid))
                      : NULL;
    const SimItree *areas;
    SimFault f = { 0 };
    uint64_t addr = iova, len1 = UINT64_MAX, len2;
    int r = 0;

    *s2 = NULL;
    if (hwpt) {
        *s2 = sim_hwpt_stage2(hwpt);
        areas = &(*s2)->ioas->areas;
        if (hwpt->parent) {
            r = s1_translate(hwpt, iova, write, &addr, &len1, &f);
        }
    } else if (pasid == SIM_NO_PASID && dev->legacy_s2) {
        areas = dev->legacy_s2;
    } else {
        f.reason = SIM_FAULT_BLOCKED;
        r = -EFAULT;
    }
    if (!r) {
        r = s2_lookup(areas, addr, write, &out->uva, &len2, &f);
    }
    if (r) {
        log_fault(dev, pasid, iova, write, hwpt, &f);
        return r;
    }
    out->len = MIN(len1, len2);
    out->hwpt = hwpt;
    *s2_in = addr;
    return 0;
}

int sim_iommu_translate(SimDevice *dev, uint32_t pasid, uint64_t iova,
                        bool write, SimXlate *out)
{
    uint64_t s2_in;
    SimHwpt *s2;
    int r = xlate(dev, pasid, iova, write, out, &s2_in, &s2);

    if (!r && write) {
        mark_dirty(s2, s2_in, 1);
    }
    return r;
}

int sim_iommu_dma(SimDevice *dev, uint32_t pasid, uint64_t iova, void *buf,
                  size_t len, bool write)
{
    for (size_t done = 0; done < len; ) {
        uint64_t addr = iova + done, s2_in, n;
        SimXlate x;
        SimHwpt *s2;
        int r;

        if (addr < iova) {      /* wrapped past 2^64 */
            SimFault f = { .reason = SIM_FAULT_S2_UNMAPPED, .addr = addr };
            log_fault(dev, pasid, addr, write, NULL, &f);
            return -EFAULT;
        }
        r = xlate(dev, pasid, addr, write, &x, &s2_in, &s2);
        if (r) {
            return r;
        }
        n = MIN(x.len, len - done);
        r = write ? sim_copy_to_user(dev->host, x.uva, (uint8_t *)buf + done, n)
                  : sim_copy_from_user(dev->host, (uint8_t *)buf + done, x.uva, n);
        if (r) {
            SimFault f = { .reason = SIM_FAULT_MEMORY, .addr = s2_in };
            log_fault(dev, pasid, addr, write, x.hwpt, &f);
            return -EFAULT;
        }
        if (write) {
            mark_dirty(s2, s2_in, n);
        }
        done += n;
    }
    return 0;
}

int sim_device_dma(SimDevice *dev, uint32_t pasid, uint64_t iova, void *buf,
                   size_t len, bool write)
{
    int r;

    if (!dev || (!buf && len)) {
        return -EINVAL;
    }
    g_mutex_lock(&dev->host->lock);
    r = sim_iommu_dma(dev, pasid, iova, buf, len, write);
    g_mutex_unlock(&dev->host->lock);
    return r;
}

/* ---- fault log ---------------------------------------------------------- */

void sim_fault_log(SimHost *host, const SimFaultRecord *rec)
{
    unsigned idx;

    if (host->fault_count == SIM_FAULT_LOG_SIZE) {
        host->fault_head = (host->fault_head + 1) % SIM_FAULT_LOG_SIZE;
        host->fault_count--;
    }
    idx = (host->fault_head + host->fault_count) % SIM_FAULT_LOG_SIZE;
    host->faults[idx] = *rec;
    host->faults[idx].seq = ++host->fault_seq;
    host->fault_count++;
}

int sim_fault_log_read(SimHost *host, SimFaultRecord *out, unsigned max)
{
    unsigned n;

    if (!host || (!out && max)) {
        return -EINVAL;
    }
    g_mutex_lock(&host->lock);
    n = MIN(max, host->fault_count);
    for (unsigned i = 0; i < n; i++) {
        out[i] = host->faults[host->fault_head];
        host->fault_head = (host->fault_head + 1) % SIM_FAULT_LOG_SIZE;
    }
    host->fault_count -= n;
    g_mutex_unlock(&host->lock);
    return n;
}
