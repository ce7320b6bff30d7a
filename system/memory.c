/*
 * Memory regions, their flattening into address space views, listeners,
 * I/O region dispatch and IOMMU notifiers.  The data path (reads, writes,
 * IOMMU translation walk) is in system/physmem.c.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>

#include "system/memory.h"

/* All initialised address spaces, in initialisation order. */
static AddressSpace *address_spaces;

/* Nesting of memory_region_transaction_begin(). */
static unsigned transaction_depth;
/* A topology change waits for the outermost commit. */
static bool update_pending;

/* Offset of a region's last byte (size UINT64_MAX stands for 2^64). */
static hwaddr mr_last(const MemoryRegion *mr)
{
    return mr->size == UINT64_MAX ? HWADDR_MAX : mr->size - 1;
}

static IOMMUMemoryRegion *to_iommu(MemoryRegion *mr)
{
    return (IOMMUMemoryRegion *)((char *)mr -
                                 offsetof(IOMMUMemoryRegion, parent_obj));
}

static void memory_region_changed(void)
{
    memory_region_transaction_begin();
    update_pending = true;
    memory_region_transaction_commit();
}

/* --- Initialisation ------------------------------------------------------ */

static void mr_init_common(MemoryRegion *mr, Object *owner, const char *name,
                           uint64_t size, MemoryRegionKind kind)
{
    memset(mr, 0, sizeof(*mr));
    mr->owner = owner;
    mr->name = g_strdup(name ? name : "anonymous");
    mr->size = size;
    mr->kind = kind;
    mr->enabled = true;
}

void memory_region_init(MemoryRegion *mr, Object *owner, const char *name,
                        uint64_t size)
{
    mr_init_common(mr, owner, name, size, MR_KIND_CONTAINER);
}

void memory_region_init_io(MemoryRegion *mr, Object *owner,
                           const MemoryRegionOps *ops, void *opaque,
                           const char *name, uint64_t size)
{
    mr_init_common(mr, owner, name, size, MR_KIND_IO);
    mr->ops = ops;
    mr->opaque = opaque;
}

static size_t ram_map_size(uint64_t size)
{
    size_t page = sysconf(_SC_PAGESIZE);

    return (size + page - 1) & ~(page - 1);
}

bool memory_region_init_ram(MemoryRegion *mr, Object *owner,
                            const char *name, uint64_t size, Error **errp)
{
    void *ptr;

    if (size == 0 || size > SIZE_MAX / 2) {
        error_setg(errp, "%s: invalid RAM size %" PRIu64, name, size);
        return false;
    }
    ptr = mmap(NULL, ram_map_size(size), PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ptr == MAP_FAILED) {
        error_setg_errno(errp, errno, "%s: cannot allocate %" PRIu64
                         " bytes of RAM", name, size);
        return false;
    }
    mr_init_common(mr, owner, name, size, MR_KIND_RAM);
    mr->ram_ptr = ptr;
    mr->ram_mmapped = true;
    return true;
}

void memory_region_init_ram_ptr(MemoryRegion *mr, Object *owner,
                                const char *name, uint64_t size, void *ptr)
{
    mr_init_common(mr, owner, name, size, MR_KIND_RAM);
    mr->ram_ptr = ptr;
}

void memory_region_init_ram_device_ptr(MemoryRegion *mr, Object *owner,
                                       const char *name, uint64_t size,
                                       void *ptr)
{
    mr_init_common(mr, owner, name, size, MR_KIND_RAM_DEVICE);
    mr->ram_ptr = ptr;
}

void memory_region_init_alias(MemoryRegion *mr, Object *owner,
                              const char *name, MemoryRegion *orig,
                              hwaddr offset, uint64_t size)
{
    mr_init_common(mr, owner, name, size, MR_KIND_ALIAS);
    mr->alias = orig;
    mr->alias_offset = offset;
    orig->alias_count++;
}

void memory_region_init_iommu(IOMMUMemoryRegion *iommu_mr,
                              const IOMMUMemoryRegionOps *ops, Object *owner,
                              const char *name, uint64_t size)
{
    assert(ops && ops->translate);
    memset(iommu_mr, 0, sizeof(*iommu_mr));
    mr_init_common(&iommu_mr->parent_obj, owner, name, size, MR_KIND_IOMMU);
    iommu_mr->iommu_ops = ops;
}

void memory_region_finalize(MemoryRegion *mr)
{
    AddressSpace *as;

    /*
     * Inside a transaction the views would keep pointing at mr until the
     * commit; without reference counts that cannot be allowed.
     */
    assert(transaction_depth == 0);
    assert(mr->alias_count == 0);
    for (as = address_spaces; as; as = as->next) {
        assert(as->root != mr);
    }
    memory_region_transaction_begin();
    if (mr->container) {
        memory_region_del_subregion(mr->container, mr);
    }
    while (mr->subregions) {
        memory_region_del_subregion(mr, mr->subregions);
    }
    memory_region_transaction_commit();

    if (mr->kind == MR_KIND_IOMMU) {
        assert(!to_iommu(mr)->iommu_notify);
    }
    if (mr->kind == MR_KIND_ALIAS) {
        mr->alias->alias_count--;
    }
    if (mr->ram_mmapped) {
        munmap(mr->ram_ptr, ram_map_size(mr->size));
    }
    g_free(mr->name);
    memset(mr, 0, sizeof(*mr));
}

/* --- Topology ------------------------------------------------------------ */

void memory_region_add_subregion_overlap(MemoryRegion *mr, hwaddr offset,
                                         MemoryRegion *subregion,
                                         int priority)
{
    MemoryRegion **link = &mr->subregions;

    assert(!subregion->container && subregion != mr);
    assert(mr->kind != MR_KIND_ALIAS);
    subregion->container = mr;
    subregion->addr = offset;
    subregion->priority = priority;
    /* Before the first of equal priority: the newest wins. */
    while (*link && (*link)->priority > priority) {
        link = &(*link)->next_sibling;
    }
    subregion->next_sibling = *link;
    *link = subregion;
    memory_region_changed();
}

void memory_region_add_subregion(MemoryRegion *mr, hwaddr offset,
                                 MemoryRegion *subregion)
{
    memory_region_add_subregion_overlap(mr, offset, subregion, 0);
}

void memory_region_del_subregion(MemoryRegion *mr, MemoryRegion *subregion)
{
    MemoryRegion **link = &mr->subregions;

    assert(subregion->container == mr);
    while (*link != subregion) {
        link = &(*link)->next_sibling;
    }
    *link = subregion->next_sibling;
    subregion->next_sibling = NULL;
    subregion->container = NULL;
    memory_region_changed();
}

void memory_region_set_enabled(MemoryRegion *mr, bool enabled)
{
    if (mr->enabled != enabled) {
        mr->enabled = enabled;
        memory_region_changed();
    }
}

void memory_region_set_address(MemoryRegion *mr, hwaddr addr)
{
    if (mr->addr != addr) {
        mr->addr = addr;
        memory_region_changed();
    }
}

void memory_region_set_alias_offset(MemoryRegion *mr, hwaddr offset)
{
    assert(mr->kind == MR_KIND_ALIAS);
    if (mr->alias_offset != offset) {
        mr->alias_offset = offset;
        memory_region_changed();
    }
}

void memory_region_set_readonly(MemoryRegion *mr, bool readonly)
{
    if (mr->readonly != readonly) {
        mr->readonly = readonly;
        memory_region_changed();
    }
}

const char *memory_region_name(const MemoryRegion *mr)
{
    return mr->name;
}

uint64_t memory_region_size(const MemoryRegion *mr)
{
    return mr->size;
}

bool memory_region_is_ram(const MemoryRegion *mr)
{
    return mr->kind == MR_KIND_RAM || mr->kind == MR_KIND_RAM_DEVICE;
}

bool memory_region_is_ram_device(const MemoryRegion *mr)
{
    return mr->kind == MR_KIND_RAM_DEVICE;
}

IOMMUMemoryRegion *memory_region_get_iommu(MemoryRegion *mr)
{
    while (mr->kind == MR_KIND_ALIAS) {
        mr = mr->alias;
    }
    return mr->kind == MR_KIND_IOMMU ? to_iommu(mr) : NULL;
}

bool memory_region_is_iommu(MemoryRegion *mr)
{
    return memory_region_get_iommu(mr) != NULL;
}

void *memory_region_get_ram_ptr(MemoryRegion *mr)
{
    hwaddr offset = 0;

    while (mr->kind == MR_KIND_ALIAS) {
        offset += mr->alias_offset;
        mr = mr->alias;
    }
    if (!memory_region_is_ram(mr)) {
        return NULL;
    }
    return (uint8_t *)mr->ram_ptr + offset;
}

/* --- Flattening ---------------------------------------------------------- */

unsigned flatview_find(const FlatView *fv, hwaddr addr)
{
    unsigned lo = 0, hi = fv->nr;

    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;

        if (fv->ranges[mid].last < addr) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static void flatview_insert(FlatView *fv, unsigned pos, const FlatRange *fr)
{
    if (fv->nr == fv->nr_allocated) {
        fv->nr_allocated = MAX(8, fv->nr_allocated * 2);
        fv->ranges = g_renew(FlatRange, fv->ranges, fv->nr_allocated);
    }
    memmove(&fv->ranges[pos + 1], &fv->ranges[pos],
            (fv->nr - pos) * sizeof(*fv->ranges));
    fv->ranges[pos] = *fr;
    fv->nr++;
}

/*
 * Maps the parts of [start, last] that nothing covers yet to mr, start
 * being offset off in mr.  What is already in fv has higher priority.
 */
static void flatview_fill(FlatView *fv, MemoryRegion *mr, hwaddr start,
                          hwaddr last, hwaddr off, bool readonly)
{
    unsigned i = flatview_find(fv, start);
    hwaddr cur = start;

    for (;;) {
        FlatRange fr;

        if (i < fv->nr && fv->ranges[i].start <= cur) {
            if (fv->ranges[i].last >= last) {
                return;
            }
            cur = fv->ranges[i].last + 1;
            i++;
            continue;
        }
        fr = (FlatRange) {
            .mr = mr,
            .offset_in_region = off + (cur - start),
            .start = cur,
            .last = i < fv->nr && fv->ranges[i].start <= last ?
                    fv->ranges[i].start - 1 : last,
            .readonly = readonly,
        };
        flatview_insert(fv, i++, &fr);
        if (fr.last == last) {
            return;
        }
        cur = fr.last + 1;
    }
}

/*
 * Renders offsets [first, last] of mr into fv.  Offset x of mr is address
 * x + delta (mod 2^64) of the address space; the caller guarantees that
 * the window does not wrap.  Higher-priority content is rendered first, so
 * each level only fills what is still uncovered.
 */
static void render_region(FlatView *fv, MemoryRegion *mr, hwaddr delta,
                          hwaddr first, hwaddr last, bool readonly)
{
    MemoryRegion *sub;

    if (!mr->enabled || mr->size == 0) {
        return;
    }
    last = MIN(last, mr_last(mr));
    if (first > last) {
        return;
    }
    readonly |= mr->readonly;

    if (mr->kind == MR_KIND_ALIAS) {
        hwaddr off = mr->alias_offset;

        if (first > HWADDR_MAX - off) {
            return;
        }
        render_region(fv, mr->alias, delta - off, first + off,
                      last > HWADDR_MAX - off ? HWADDR_MAX : last + off,
                      readonly);
        return;
    }

    for (sub = mr->subregions; sub; sub = sub->next_sibling) {
        hwaddr sub_last, lo, hi;

        if (!sub->enabled || sub->size == 0) {
            continue;
        }
        sub_last = mr_last(sub) > HWADDR_MAX - sub->addr ?
                   HWADDR_MAX : sub->addr + mr_last(sub);
        lo = MAX(first, sub->addr);
        hi = MIN(last, sub_last);
        if (lo <= hi) {
            render_region(fv, sub, delta + sub->addr, lo - sub->addr,
                          hi - sub->addr, readonly);
        }
    }

    if (mr->kind != MR_KIND_CONTAINER) {
        flatview_fill(fv, mr, first + delta, last + delta, first, readonly);
    }
}

static bool flatrange_equal(const FlatRange *a, const FlatRange *b)
{
    return a->mr == b->mr && a->offset_in_region == b->offset_in_region &&
           a->start == b->start && a->last == b->last &&
           a->readonly == b->readonly;
}

/* Neighbours showing consecutive bytes of one region become one range. */
static void flatview_simplify(FlatView *fv)
{
    unsigned i, j = 0;

    for (i = 0; i < fv->nr; i++) {
        FlatRange *prev = j ? &fv->ranges[j - 1] : NULL;
        const FlatRange *fr = &fv->ranges[i];

        if (prev && prev->mr == fr->mr && prev->readonly == fr->readonly &&
            prev->last + 1 == fr->start &&
            prev->offset_in_region + (prev->last - prev->start) + 1 ==
            fr->offset_in_region) {
            prev->last = fr->last;
            continue;
        }
        fv->ranges[j++] = *fr;
    }
    fv->nr = j;
}

static FlatView *generate_view(MemoryRegion *root)
{
    FlatView *fv = g_new0(FlatView, 1);

    if (root) {
        render_region(fv, root, 0, 0, HWADDR_MAX, false);
    }
    flatview_simplify(fv);
    return fv;
}

static void flatview_free(FlatView *fv)
{
    if (fv) {
        g_free(fv->ranges);
        g_free(fv);
    }
}

static bool flatview_equal(const FlatView *a, const FlatView *b)
{
    unsigned i;

    if (a->nr != b->nr) {
        return false;
    }
    for (i = 0; i < a->nr; i++) {
        if (!flatrange_equal(&a->ranges[i], &b->ranges[i])) {
            return false;
        }
    }
    return true;
}

/* --- Listeners ----------------------------------------------------------- */

static MemoryRegionSection section_of(FlatView *fv, const FlatRange *fr)
{
    return (MemoryRegionSection) {
        .mr = fr->mr,
        .fv = fv,
        .offset_within_region = fr->offset_in_region,
        .offset_within_address_space = fr->start,
        .size = fr->last - fr->start == HWADDR_MAX ?
                UINT64_MAX : fr->last - fr->start + 1,
        .readonly = fr->readonly,
    };
}

static void listeners_begin(AddressSpace *as)
{
    MemoryListener *l;

    for (l = as->listeners; l; l = l->next) {
        if (l->begin) {
            l->begin(l);
        }
    }
}

static void listeners_commit(AddressSpace *as)
{
    MemoryListener *l;

    for (l = as->listeners; l; l = l->next) {
        if (l->commit) {
            l->commit(l);
        }
    }
}

static void listeners_add(AddressSpace *as, MemoryRegionSection *s)
{
    MemoryListener *l;

    for (l = as->listeners; l; l = l->next) {
        if (l->region_add) {
            l->region_add(l, s);
        }
    }
}

/* In descending priority: the list is ascending, so recurse first. */
static void listeners_del(MemoryListener *l, MemoryRegionSection *s)
{
    if (!l) {
        return;
    }
    listeners_del(l->next, s);
    if (l->region_del) {
        l->region_del(l, s);
    }
}

/*
 * Walks both sorted views at once: a range of old_fv that new_fv does not
 * have went away, one of new_fv that old_fv lacks appeared.  Equal ranges
 * start at the same address, so matching by start finds every pair.
 */
static void update_pass(AddressSpace *as, FlatView *old_fv, FlatView *new_fv,
                        bool adding)
{
    unsigned i = 0, j = 0;

    while (i < old_fv->nr || j < new_fv->nr) {
        const FlatRange *fo = i < old_fv->nr ? &old_fv->ranges[i] : NULL;
        const FlatRange *fn = j < new_fv->nr ? &new_fv->ranges[j] : NULL;
        MemoryRegionSection s;

        if (fo && fn && flatrange_equal(fo, fn)) {
            i++;
            j++;
        } else if (fo && (!fn || fo->start <= fn->start)) {
            if (!adding) {
                s = section_of(old_fv, fo);
                listeners_del(as->listeners, &s);
            }
            i++;
        } else {
            if (adding) {
                s = section_of(new_fv, fn);
                listeners_add(as, &s);
            }
            j++;
        }
    }
}

static void address_space_update(AddressSpace *as)
{
    FlatView *old_fv = as->current_map;
    FlatView *new_fv = generate_view(as->root);

    if (flatview_equal(old_fv, new_fv)) {
        flatview_free(new_fv);
        return;
    }
    /* Installed first: a listener that reads the space sees the new view. */
    as->current_map = new_fv;
    if (as->listeners) {
        listeners_begin(as);
        update_pass(as, old_fv, new_fv, false);
        update_pass(as, old_fv, new_fv, true);
        listeners_commit(as);
    }
    flatview_free(old_fv);
}

void memory_region_transaction_begin(void)
{
    transaction_depth++;
}

void memory_region_transaction_commit(void)
{
    AddressSpace *as;

    assert(transaction_depth > 0);
    if (--transaction_depth > 0) {
        return;
    }
    /*
     * Listeners run at depth 1, so a change they make is queued and
     * applied by the next round rather than re-entering this one.
     */
    while (update_pending) {
        update_pending = false;
        transaction_depth++;
        for (as = address_spaces; as; as = as->next) {
            address_space_update(as);
        }
        transaction_depth--;
    }
}

void memory_listener_register(MemoryListener *listener, AddressSpace *as)
{
    MemoryListener **link = &as->listeners;
    FlatView *fv = as->current_map;
    unsigned i;

    assert(!listener->address_space);
    while (*link && (*link)->priority <= listener->priority) {
        link = &(*link)->next;
    }
    listener->next = *link;
    *link = listener;
    listener->address_space = as;

    if (listener->begin) {
        listener->begin(listener);
    }
    for (i = 0; listener->region_add && i < fv->nr; i++) {
        MemoryRegionSection s = section_of(fv, &fv->ranges[i]);

        listener->region_add(listener, &s);
    }
    if (listener->commit) {
        listener->commit(listener);
    }
}

void memory_listener_unregister(MemoryListener *listener)
{
    AddressSpace *as = listener->address_space;
    MemoryListener **link;
    FlatView *fv;
    unsigned i;

    if (!as) {
        return;
    }
    fv = as->current_map;
    if (listener->begin) {
        listener->begin(listener);
    }
    for (i = 0; listener->region_del && i < fv->nr; i++) {
        MemoryRegionSection s = section_of(fv, &fv->ranges[i]);

        listener->region_del(listener, &s);
    }
    if (listener->commit) {
        listener->commit(listener);
    }
    for (link = &as->listeners; *link != listener; link = &(*link)->next) {
    }
    *link = listener->next;
    listener->next = NULL;
    listener->address_space = NULL;
}

/* --- Address spaces ------------------------------------------------------ */

void address_space_init(AddressSpace *as, MemoryRegion *root,
                        const char *name)
{
    AddressSpace **link = &address_spaces;

    memset(as, 0, sizeof(*as));
    as->name = g_strdup(name ? name : "anonymous");
    as->root = root;
    as->current_map = generate_view(root);
    while (*link) {
        link = &(*link)->next;
    }
    *link = as;
}

void address_space_destroy(AddressSpace *as)
{
    AddressSpace **link = &address_spaces;

    while (as->listeners) {
        memory_listener_unregister(as->listeners);
    }
    while (*link != as) {
        link = &(*link)->next;
    }
    *link = as->next;
    flatview_free(as->current_map);
    g_free(as->name);
    memset(as, 0, sizeof(*as));
}

/* --- I/O region dispatch ------------------------------------------------- */

bool memory_region_access_valid(MemoryRegion *mr, hwaddr addr, unsigned size,
                                bool is_write, MemTxAttrs attrs)
{
    const MemoryRegionOps *ops = mr->ops;
    unsigned min, max;

    if (!ops || size == 0 || size > 8 || (size & (size - 1))) {
        return false;
    }
    min = ops->valid.min_access_size ? ops->valid.min_access_size : 1;
    max = ops->valid.max_access_size ? ops->valid.max_access_size : 4;
    if (size < min || size > max) {
        return false;
    }
    if (!ops->valid.unaligned && (addr & (size - 1))) {
        return false;
    }
    return !ops->valid.accepts ||
           ops->valid.accepts(mr->opaque, addr, size, is_write, attrs);
}

static MemTxResult io_call(MemoryRegion *mr, hwaddr addr, uint64_t *data,
                           unsigned size, bool is_write, MemTxAttrs attrs)
{
    const MemoryRegionOps *ops = mr->ops;

    if (is_write) {
        if (ops->write_with_attrs) {
            return ops->write_with_attrs(mr->opaque, addr, *data, size, attrs);
        }
        if (ops->write) {
            ops->write(mr->opaque, addr, *data, size);
        }
        return MEMTX_OK;
    }
    if (ops->read_with_attrs) {
        *data = 0;
        return ops->read_with_attrs(mr->opaque, addr, data, size, attrs);
    }
    *data = ops->read ? ops->read(mr->opaque, addr, size) : 0;
    return MEMTX_OK;
}

/*
 * Performs a valid access of size bytes at addr with callback accesses of
 * the impl width w: split when wider, widened when narrower, aligned to w
 * unless impl.unaligned.  Byte positions below are relative to the first
 * callback access; the requested bytes are [head, head + size).
 */
static MemTxResult io_access(MemoryRegion *mr, hwaddr addr, uint64_t *data,
                             unsigned size, bool is_write, MemTxAttrs attrs)
{
    const MemoryRegionOps *ops = mr->ops;
    unsigned min = ops->impl.min_access_size ? ops->impl.min_access_size : 1;
    unsigned max = ops->impl.max_access_size ? ops->impl.max_access_size : 4;
    unsigned w = MIN(MIN(MAX(size, min), max), 8);
    hwaddr start = ops->impl.unaligned ? addr : addr & ~(hwaddr)(w - 1);
    unsigned head = addr - start;
    unsigned n = (head + size + w - 1) / w;
    MemTxResult res = MEMTX_OK;
    uint64_t out = 0;
    unsigned i, b;

    if (w == size && head == 0) {
        return io_call(mr, addr, data, size, is_write, attrs);
    }
    for (i = 0; i < n; i++) {
        unsigned lo = MAX(i * w, head), hi = MIN(i * w + w, head + size);
        uint64_t piece = 0;

        if (is_write) {
            for (b = lo; b < hi; b++) {
                piece |= ((*data >> (8 * (b - head))) & 0xff) <<
                         (8 * (b - i * w));
            }
            res |= io_call(mr, start + i * w, &piece, w, true, attrs);
        } else {
            res |= io_call(mr, start + i * w, &piece, w, false, attrs);
            for (b = lo; b < hi; b++) {
                out |= ((piece >> (8 * (b - i * w))) & 0xff) <<
                       (8 * (b - head));
            }
        }
    }
    if (!is_write) {
        *data = out;
    }
    return res;
}

MemTxResult memory_region_dispatch_read(MemoryRegion *mr, hwaddr addr,
                                        uint64_t *data, unsigned size,
                                        MemTxAttrs attrs)
{
    assert(mr->kind == MR_KIND_IO);
    if (!memory_region_access_valid(mr, addr, size, false, attrs)) {
        log_guest_error("%s: invalid read of %u bytes at 0x%" HWADDR_PRIx,
                        mr->name, size, addr);
        *data = 0;
        return MEMTX_DECODE_ERROR;
    }
    return io_access(mr, addr, data, size, false, attrs);
}

MemTxResult memory_region_dispatch_write(MemoryRegion *mr, hwaddr addr,
                                         uint64_t data, unsigned size,
                                         MemTxAttrs attrs)
{
    assert(mr->kind == MR_KIND_IO);
    if (!memory_region_access_valid(mr, addr, size, true, attrs)) {
        log_guest_error("%s: invalid write of %u bytes at 0x%" HWADDR_PRIx,
                        mr->name, size, addr);
        return MEMTX_DECODE_ERROR;
    }
    if (size < 8) {
        data &= (1ULL << (8 * size)) - 1;
    }
    return io_access(mr, addr, &data, size, true, attrs);
}

/* --- IOMMU notifiers ----------------------------------------------------- */

void iommu_notifier_init(IOMMUNotifier *n, IOMMUNotify fn,
                         IOMMUNotifierFlag flags, hwaddr start, hwaddr end)
{
    n->notify = fn;
    n->notifier_flags = flags;
    n->start = start;
    n->end = end;
    n->next = NULL;
}

uint64_t memory_region_iommu_get_min_page_size(IOMMUMemoryRegion *iommu_mr)
{
    if (iommu_mr->iommu_ops->get_min_page_size) {
        return iommu_mr->iommu_ops->get_min_page_size(iommu_mr);
    }
    return 4096;
}

bool memory_region_register_iommu_notifier(MemoryRegion *mr, IOMMUNotifier *n,
                                           Error **errp)
{
    IOMMUMemoryRegion *iommu = memory_region_get_iommu(mr);
    IOMMUNotifierFlag old_flags, new_flags;
    IOMMUNotifier **link;

    assert(iommu && n->notify);
    assert(n->notifier_flags != IOMMU_NOTIFIER_NONE && n->start <= n->end);
    old_flags = iommu->iommu_notify_flags;
    new_flags = old_flags | n->notifier_flags;
    if (new_flags != old_flags && iommu->iommu_ops->notify_flag_changed) {
        Error *local_err = NULL;

        if (iommu->iommu_ops->notify_flag_changed(iommu, old_flags, new_flags,
                                                  &local_err)) {
            if (!local_err) {
                error_setg(&local_err, "%s: notifier flags 0x%x refused",
                           iommu->parent_obj.name, new_flags);
            }
            error_propagate(errp, local_err);
            return false;
        }
    }
    for (link = &iommu->iommu_notify; *link; link = &(*link)->next) {
        assert(*link != n);
    }
    n->next = NULL;
    *link = n;
    iommu->iommu_notify_flags = new_flags;
    return true;
}

void memory_region_unregister_iommu_notifier(MemoryRegion *mr,
                                             IOMMUNotifier *n)
{
    IOMMUMemoryRegion *iommu = memory_region_get_iommu(mr);
    IOMMUNotifierFlag old_flags = iommu->iommu_notify_flags;
    IOMMUNotifierFlag new_flags = IOMMU_NOTIFIER_NONE;
    IOMMUNotifier **link = &iommu->iommu_notify;
    IOMMUNotifier *it;

    while (*link != n) {
        assert(*link);
        link = &(*link)->next;
    }
    *link = n->next;
    n->next = NULL;
    for (it = iommu->iommu_notify; it; it = it->next) {
        new_flags |= it->notifier_flags;
    }
    iommu->iommu_notify_flags = new_flags;
    if (new_flags != old_flags && iommu->iommu_ops->notify_flag_changed) {
        iommu->iommu_ops->notify_flag_changed(iommu, old_flags, new_flags,
                                              NULL);
    }
}

void memory_region_notify_iommu_one(IOMMUNotifier *n, IOMMUTLBEvent *event)
{
    IOMMUTLBEntry entry = event->entry;
    hwaddr entry_last = entry.addr_mask > HWADDR_MAX - entry.iova ?
                        HWADDR_MAX : entry.iova + entry.addr_mask;

    assert(event->type == IOMMU_NOTIFIER_MAP || entry.perm == IOMMU_NONE);
    if (!(n->notifier_flags & event->type) ||
        n->start > entry_last || n->end < entry.iova) {
        return;
    }
    /* A copy: one notifier cannot change what the next one sees. */
    n->notify(n, &entry);
}

void memory_region_notify_iommu(IOMMUMemoryRegion *iommu_mr,
                                IOMMUTLBEvent *event)
{
    IOMMUNotifier *n, *next;

    /* next is read first: a notifier may unregister itself. */
    for (n = iommu_mr->iommu_notify; n; n = next) {
        next = n->next;
        memory_region_notify_iommu_one(n, event);
    }
}

void memory_region_unmap_iommu_notifier_range(IOMMUNotifier *n)
{
    IOMMUTLBEvent event = {
        .type = IOMMU_NOTIFIER_UNMAP,
        .entry = {
            .target_as = &address_space_memory,
            .iova = n->start,
            .addr_mask = n->end - n->start,
            .perm = IOMMU_NONE,
        },
    };

    memory_region_notify_iommu_one(n, &event);
}

/* Pages a default replay may walk: more would stall the main loop. */
#define IOMMU_REPLAY_MAX_PAGES (1ULL << 32)

void memory_region_iommu_replay(IOMMUMemoryRegion *iommu_mr, IOMMUNotifier *n)
{
    uint64_t gran = memory_region_iommu_get_min_page_size(iommu_mr);
    hwaddr first, last, addr;

    if (iommu_mr->iommu_ops->replay) {
        iommu_mr->iommu_ops->replay(iommu_mr, n);
        return;
    }
    assert(gran && !(gran & (gran - 1)));
    first = n->start & ~(gran - 1);
    last = MIN(n->end, mr_last(&iommu_mr->parent_obj));
    if (first > last) {
        return;
    }
    if ((last - first) / gran >= IOMMU_REPLAY_MAX_PAGES) {
        warn_report("%s: not replaying 0x%" HWADDR_PRIx "..0x%" HWADDR_PRIx
                    ": more than 2^32 pages", iommu_mr->parent_obj.name,
                    first, last);
        return;
    }
    for (addr = first;;) {
        IOMMUTLBEvent event = {
            .type = IOMMU_NOTIFIER_MAP,
            .entry = iommu_mr->iommu_ops->translate(iommu_mr, addr, IOMMU_NONE,
                                                    MEMTXATTRS_UNSPECIFIED),
        };
        /* A large page (mapped or not) is looked up once. */
        hwaddr page_last = addr | MAX(gran - 1, event.entry.addr_mask);

        if (event.entry.perm != IOMMU_NONE) {
            memory_region_notify_iommu_one(n, &event);
        }
        if (page_last >= last) {
            break;
        }
        addr = page_last + 1;
    }
}
