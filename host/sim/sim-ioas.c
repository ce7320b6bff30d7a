/*
 * IOAS: an I/O address space of areas (IOVA → user VA) kept in an interval
 * tree, with reserved ranges (device regions, domain apertures) in a
 * second tree and an optional allowed list for automatic IOVA allocation.
 * Semantics and errno of uapi_facts.md §1.5 and the §5.2 checklist.
 *
 * Areas never split: unmapping part of one is ENOENT.  A paging HWPT on the
 * IOAS (a "domain") is only a view of it: translation reads the areas.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim-internal.h"

#define SIM_HUGE_PAGE_SIZE  (2ull << 20)    /* x86 PMD huge page */
#define SIM_MAP_FLAGS (IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | \
                       IOMMU_IOAS_MAP_READABLE)

static SimIoas *ioas_find(SimIommufdCtx *ictx, uint32_t id)
{
    SimObj *obj = sim_idt_find(&ictx->objs, id, SIM_OBJ_IOAS);

    return obj ? SIM_CONTAINER_OF(obj, SimIoas, obj) : NULL;
}

static int map_prot(uint32_t flags)
{
    return (flags & IOMMU_IOAS_MAP_READABLE ? SIM_PROT_READ : 0) |
           (flags & IOMMU_IOAS_MAP_WRITEABLE ? SIM_PROT_WRITE : 0);
}

SimIoas *sim_ioas_new(SimIommufdCtx *ictx, int *err)
{
    SimIoas *ioas = g_new0(SimIoas, 1);

    ioas->obj.type = SIM_OBJ_IOAS;
    ioas->obj.ictx = ictx;
    *err = sim_idt_alloc(&ictx->objs, &ioas->obj);
    if (*err) {
        g_free(ioas);
        return NULL;
    }
    sim_itree_init(&ioas->areas);
    sim_itree_init(&ioas->reserved);
    ioas->huge_pages = true;
    return ioas;
}

static void area_remove(SimIoas *ioas, SimArea *area)
{
    sim_itree_remove(&ioas->areas, &area->node);
    ioas->n_areas--;
    sim_area_free(area);
}

void sim_ioas_free(SimIoas *ioas)
{
    SimItreeNode *n;

    g_assert(!ioas->hwpts);
    while ((n = sim_itree_first(&ioas->areas))) {
        area_remove(ioas, SIM_CONTAINER_OF(n, SimArea, node));
    }
    while ((n = sim_itree_first(&ioas->reserved))) {
        sim_itree_remove(&ioas->reserved, n);
        g_free(SIM_CONTAINER_OF(n, SimResv, node));
    }
    if (ioas->obj.ictx->vfio_ioas == ioas) {
        ioas->obj.ictx->vfio_ioas = NULL;
    }
    g_free(ioas->allowed);
    g_free(ioas);
}

/* The IOVA/length granule: 1 without a domain, else the 4 KiB page. */
uint64_t sim_ioas_alignment(const SimIoas *ioas)
{
    return ioas->hwpts || !ioas->huge_pages ? SIM_PAGE_SIZE : 1;
}

static bool allowed_overlaps(const SimIoas *ioas, uint64_t start,
                             uint64_t last)
{
    for (unsigned i = 0; i < ioas->n_allowed; i++) {
        if (ioas->allowed[i].start <= last && ioas->allowed[i].last >= start) {
            return true;
        }
    }
    return false;
}

int sim_ioas_reserve(SimIoas *ioas, uint64_t start, uint64_t last,
                     const void *owner)
{
    SimResv *resv;

    if (sim_itree_first_overlap(&ioas->areas, start, last) ||
        allowed_overlaps(ioas, start, last)) {
        return -EADDRINUSE;
    }
    resv = g_new0(SimResv, 1);
    resv->node.start = start;
    resv->node.last = last;
    resv->owner = owner;
    sim_itree_insert(&ioas->reserved, &resv->node);
    return 0;
}

void sim_ioas_unreserve(SimIoas *ioas, const void *owner)
{
    SimItreeNode *n = sim_itree_first(&ioas->reserved);

    while (n) {
        SimItreeNode *next = sim_itree_next(n);
        SimResv *resv = SIM_CONTAINER_OF(n, SimResv, node);

        if (resv->owner == owner) {
            sim_itree_remove(&ioas->reserved, n);
            g_free(resv);
        }
        n = next;
    }
}

/*
 * Can a new domain take the IOAS: areas page aligned (EADDRINUSE), their
 * user memory present (EFAULT, the kernel pins it now), and, under the
 * SPR17 erratum on a nest parent, no read-only area (EINVAL)?
 */
int sim_ioas_domain_check(SimIoas *ioas, bool read_only_forbidden)
{
    for (SimItreeNode *n = sim_itree_first(&ioas->areas); n;
         n = sim_itree_next(n)) {
        SimArea *a = SIM_CONTAINER_OF(n, SimArea, node);

        if ((n->start | (n->last + 1)) & (SIM_PAGE_SIZE - 1)) {
            return -EADDRINUSE;
        }
        if (!a->pages && sim_user_range_check(a->uva, n->last - n->start + 1)) {
            return -EFAULT;
        }
        if (read_only_forbidden && !(a->prot & SIM_PROT_WRITE)) {
            return -EINVAL;
        }
    }
    return 0;
}

/* Does a nest-parent domain sit on @ioas (SPR17 erratum)? */
static bool has_nest_parent(const SimIoas *ioas)
{
    for (GList *l = ioas->hwpts; l; l = l->next) {
        SimHwpt *h = l->data;

        if (h->flags & IOMMU_HWPT_ALLOC_NEST_PARENT) {
            return true;
        }
    }
    return false;
}

/* ---- IOVA allocation ---------------------------------------------------- */

/*
 * The lowest y >= x with y ≡ offset (mod PAGE) and y ≡ 0 (mod align) when
 * align < PAGE (offset is then a multiple of align), or y ≡ 0 (mod align).
 * false on overflow.
 */
static bool iova_align_up(uint64_t x, uint64_t align, uint64_t offset,
                          uint64_t *y)
{
    uint64_t v;

    if (align < SIM_PAGE_SIZE) {
        v = (x & ~(SIM_PAGE_SIZE - 1)) + offset;
        if (v < x && __builtin_add_overflow(v, SIM_PAGE_SIZE, &v)) {
            return false;
        }
    } else if (__builtin_add_overflow(x, align - 1, &v)) {
        return false;
    } else {
        v &= ~(align - 1);
    }
    *y = v;
    return true;
}

/* First fit of @length in [lo, hi] avoiding areas and reserved ranges. */
static bool find_hole(const SimIoas *ioas, uint64_t lo, uint64_t hi,
                      uint64_t length, uint64_t align, uint64_t offset,
                      uint64_t *out)
{
    uint64_t cand, last;

    if (!iova_align_up(lo, align, offset, &cand)) {
        return false;
    }
    for (;;) {
        SimItreeNode *c;

        if (__builtin_add_overflow(cand, length - 1, &last) || last > hi ||
            cand < lo) {
            return false;
        }
        c = sim_itree_first_overlap(&ioas->areas, cand, last);
        if (!c) {
            c = sim_itree_first_overlap(&ioas->reserved, cand, last);
        }
        if (!c) {
            *out = cand;
            return true;
        }
        if (c->last == UINT64_MAX ||
            !iova_align_up(c->last + 1, align, offset, &cand)) {
            return false;
        }
    }
}

static uint64_t pow2_roundup(uint64_t x)
{
    return x <= 1 ? 1 : 1ull << (64 - __builtin_clzll(x - 1));
}

/*
 * Automatic IOVA (uapi_facts.md §1.5 IOAS_MAP): aligned to
 * min(roundup_pow2(length), lowest set bit of uva, huge page), with uva's
 * offset in its page; never 0; only inside allowed ranges if any.
 */
static int alloc_iova(SimIoas *ioas, uint64_t uva, uint64_t length,
                      uint64_t *iova)
{
    const uint64_t lo = SIM_PAGE_SIZE, hi = UINT64_MAX - SIM_PAGE_SIZE;
    uint64_t align, offset;

    if (length >= UINT64_MAX / 2) {
        return -EOVERFLOW;
    }
    align = MIN(pow2_roundup(length),
                ioas->huge_pages ? SIM_HUGE_PAGE_SIZE : SIM_PAGE_SIZE);
    if (uva) {
        align = MIN(align, uva & -uva);
    }
    if (align < sim_ioas_alignment(ioas)) {
        return -EINVAL;
    }
    offset = align < SIM_PAGE_SIZE ? uva & (SIM_PAGE_SIZE - 1) : 0;
    if (!ioas->n_allowed) {
        return find_hole(ioas, lo, hi, length, align, offset, iova)
               ? 0 : -ENOSPC;
    }
    for (unsigned i = 0; i < ioas->n_allowed; i++) {
        uint64_t s = MAX(ioas->allowed[i].start, lo);
        uint64_t l = MIN(ioas->allowed[i].last, hi);

        if (s <= l && find_hole(ioas, s, l, length, align, offset, iova)) {
            return 0;
        }
    }
    return -ENOSPC;
}

/* A caller-chosen IOVA range: aligned, not reserved (EINVAL), free (EEXIST). */
static int check_fixed(SimIoas *ioas, uint64_t iova, uint64_t length)
{
    uint64_t last;

    if (iova & (sim_ioas_alignment(ioas) - 1)) {
        return -EINVAL;
    }
    if (__builtin_add_overflow(iova, length - 1, &last)) {
        return -EOVERFLOW;
    }
    if (sim_itree_first_overlap(&ioas->reserved, iova, last)) {
        return -EINVAL;
    }
    if (sim_itree_first_overlap(&ioas->areas, iova, last)) {
        return -EEXIST;
    }
    return 0;
}

/*
 * Validate and place one new mapping of @length bytes backed at @uva; on
 * success *iova is its IOVA (chosen unless FIXED_IOVA).  Inserts nothing.
 */
static int place(SimIoas *ioas, uint64_t uva, uint64_t length, uint32_t flags,
                 bool user_memory, uint64_t *iova, unsigned n_new)
{
    uint64_t end;
    int r;

    if (!length || (length & (sim_ioas_alignment(ioas) - 1))) {
        return -EINVAL;
    }
    if (__builtin_add_overflow(uva, length, &end)) {
        return -EOVERFLOW;
    }
    if (ioas->n_areas + n_new > ioas->obj.ictx->host->desc.dma_entry_limit) {
        return -ENOMEM;
    }
    r = flags & IOMMU_IOAS_MAP_FIXED_IOVA ? check_fixed(ioas, *iova, length)
                                          : alloc_iova(ioas, uva, length, iova);
    if (r) {
        return r;
    }
    /* with a domain, the kernel pins the pages now */
    if (ioas->hwpts && user_memory && sim_user_range_check(uva, length)) {
        return -EFAULT;
    }
    if (!(flags & IOMMU_IOAS_MAP_WRITEABLE) &&
        ioas->obj.ictx->host->desc.erratum_spr17 && has_nest_parent(ioas)) {
        return -EINVAL;
    }
    return 0;
}

static SimArea *area_insert(SimIoas *ioas, uint64_t iova, uint64_t length,
                            uint64_t uva, int prot, SimPages *pages)
{
    SimArea *a = sim_area_new(iova, length, uva, prot, pages);

    sim_itree_insert(&ioas->areas, &a->node);
    ioas->n_areas++;
    return a;
}

/* ---- ioctls ------------------------------------------------------------- */

int sim_ioctl_ioas_alloc(SimUcmd *u)
{
    struct iommu_ioas_alloc *cmd = u->cmd;
    SimIoas *ioas;
    int r;

    if (cmd->flags) {
        return -EOPNOTSUPP;
    }
    ioas = sim_ioas_new(u->ictx, &r);
    if (!ioas) {
        return r;
    }
    cmd->out_ioas_id = ioas->obj.id;
    r = sim_ucmd_respond(u, sizeof(*cmd));
    if (r) {
        sim_obj_destroy(&ioas->obj);
    }
    return r;
}

/* The holes of the reserved tree: what IOVA_RANGES reports. */
static GArray *usable_ranges(const SimIoas *ioas)
{
    GArray *out = g_array_new(false, false, sizeof(struct iommu_iova_range));
    uint64_t cur = 0;

    for (SimItreeNode *n = sim_itree_first(&ioas->reserved); n;
         n = sim_itree_next(n)) {
        if (n->start > cur) {
            struct iommu_iova_range r = { cur, n->start - 1 };
            g_array_append_val(out, r);
        }
        if (n->last == UINT64_MAX) {
            return out;
        }
        cur = MAX(cur, n->last + 1);
    }
    {
        struct iommu_iova_range r = { cur, UINT64_MAX };
        g_array_append_val(out, r);
    }
    return out;
}

int sim_ioctl_ioas_iova_ranges(SimUcmd *u)
{
    struct iommu_ioas_iova_ranges *cmd = u->cmd;
    SimIoas *ioas;
    GArray *ranges;
    uint32_t max = cmd->num_iovas;
    int r = 0;

    if (cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    ioas = ioas_find(u->ictx, cmd->ioas_id);
    if (!ioas) {
        return -ENOENT;
    }
    ranges = usable_ranges(ioas);
    for (uint32_t i = 0; i < ranges->len && i < max && !r; i++) {
        r = sim_copy_to_user(u->ictx->host,
                             cmd->allowed_iovas + i * sizeof(struct iommu_iova_range),
                             &g_array_index(ranges, struct iommu_iova_range, i),
                             sizeof(struct iommu_iova_range));
    }
    cmd->num_iovas = ranges->len;
    cmd->out_iova_alignment = sim_ioas_alignment(ioas);
    g_array_free(ranges, true);
    if (!r) {
        r = sim_ucmd_respond(u, sizeof(*cmd));
    }
    if (!r && cmd->num_iovas > max) {
        r = -EMSGSIZE;
    }
    return r;
}

static gint cmp_range(gconstpointer a, gconstpointer b)
{
    const SimIovaRange *x = a, *y = b;

    return x->start < y->start ? -1 : x->start > y->start;
}

int sim_ioctl_ioas_allow_iovas(SimUcmd *u)
{
    struct iommu_ioas_allow_iovas *cmd = u->cmd;
    SimIovaRange *list = NULL;
    SimIoas *ioas;
    int r = 0;

    if (cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    ioas = ioas_find(u->ictx, cmd->ioas_id);
    if (!ioas) {
        return -ENOENT;
    }
    if (cmd->num_iovas > SIM_MAX_ALLOWED) {
        return -ENOMEM;
    }
    if (cmd->num_iovas) {
        list = g_new(SimIovaRange, cmd->num_iovas);
        r = sim_copy_from_user(u->ictx->host, list, cmd->allowed_iovas,
                               cmd->num_iovas * sizeof(*list));
    }
    for (uint32_t i = 0; i < cmd->num_iovas && !r; i++) {
        if (list[i].start >= list[i].last) {
            r = -EINVAL;
        }
    }
    if (!r && cmd->num_iovas) {
        qsort(list, cmd->num_iovas, sizeof(*list), cmp_range);
    }
    for (uint32_t i = 1; i < cmd->num_iovas && !r; i++) {
        if (list[i].start <= list[i - 1].last) {
            r = -EINVAL;
        }
    }
    for (uint32_t i = 0; i < cmd->num_iovas && !r; i++) {
        if (sim_itree_first_overlap(&ioas->reserved, list[i].start,
                                    list[i].last)) {
            r = -EADDRINUSE;
        }
    }
    if (r) {
        g_free(list);
        return r;
    }
    g_free(ioas->allowed);
    ioas->allowed = list;
    ioas->n_allowed = cmd->num_iovas;
    return 0;
}

/* Flag, overflow and permission checks shared by MAP, MAP_FILE and COPY. */
static int map_args_check(uint32_t flags, uint64_t a, uint64_t b, uint64_t c)
{
    if (flags & ~SIM_MAP_FLAGS) {
        return -EOPNOTSUPP;
    }
    if (a >= UINT64_MAX || b >= UINT64_MAX || c >= UINT64_MAX) {
        return -EOVERFLOW;
    }
    if (!(flags & (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE))) {
        return -EINVAL;
    }
    return 0;
}

/*
 * Map and report (MAP and MAP_FILE, same size and iova offset): the area
 * goes away again if the answer cannot be written.
 */
_Static_assert(sizeof(struct iommu_ioas_map) ==
               sizeof(struct iommu_ioas_map_file), "");
static int map_and_respond(SimUcmd *u, SimIoas *ioas, uint64_t uva,
                           uint64_t length, uint32_t flags, SimPages *pages,
                           __u64 *iova)
{
    uint64_t v = *iova;
    SimArea *area;
    int r = place(ioas, uva, length, flags, !pages, &v, 1);

    if (r) {
        return r;
    }
    *iova = v;
    area = area_insert(ioas, v, length, uva, map_prot(flags), pages);
    r = sim_ucmd_respond(u, sizeof(struct iommu_ioas_map));
    if (r) {
        area_remove(ioas, area);
    }
    return r;
}

int sim_ioctl_ioas_map(SimUcmd *u)
{
    struct iommu_ioas_map *cmd = u->cmd;
    SimIoas *ioas;
    int r;

    if (cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    r = map_args_check(cmd->flags, cmd->iova, cmd->length, 0);
    if (r) {
        return r;
    }
    ioas = ioas_find(u->ictx, cmd->ioas_id);
    if (!ioas) {
        return -ENOENT;
    }
    return map_and_respond(u, ioas, cmd->user_va, cmd->length, cmd->flags,
                           NULL, &cmd->iova);
}

int sim_ioctl_ioas_map_file(SimUcmd *u)
{
    struct iommu_ioas_map_file *cmd = u->cmd;
    uint64_t end, off;
    SimPages *pages;
    struct stat st;
    SimIoas *ioas;
    void *base;
    int r, prot;

    r = map_args_check(cmd->flags, cmd->iova, cmd->length, 0);
    if (r) {
        return r;
    }
    ioas = ioas_find(u->ictx, cmd->ioas_id);
    if (!ioas) {
        return -ENOENT;
    }
    if (cmd->fd < 0 || fstat(cmd->fd, &st)) {
        return -EBADF;
    }
    if (!S_ISREG(st.st_mode) || !cmd->length) {
        return -EINVAL;
    }
    if (__builtin_add_overflow(cmd->start, cmd->length, &end)) {
        return -EOVERFLOW;
    }
    if (end > (uint64_t)st.st_size) {
        return -EINVAL;
    }
    /* the library maps the file itself: the pages the kernel would pin */
    off = cmd->start & ~(SIM_PAGE_SIZE - 1);
    prot = PROT_READ | (cmd->flags & IOMMU_IOAS_MAP_WRITEABLE ? PROT_WRITE : 0);
    base = mmap(NULL, end - off, prot, MAP_SHARED, cmd->fd, off);
    if (base == MAP_FAILED) {
        return errno == EACCES ? -EPERM : -EINVAL;
    }
    pages = g_new0(SimPages, 1);
    pages->refs = 1;
    pages->base = base;
    pages->size = end - off;
    r = map_and_respond(u, ioas, (uintptr_t)base + (cmd->start - off),
                        cmd->length, cmd->flags, pages, &cmd->iova);
    sim_pages_put(pages);
    return r;
}

/*
 * The areas covering [iova, iova+length) back to back, in order; ENOENT
 * unless every byte is mapped.
 */
static int covering_areas(SimIoas *ioas, uint64_t iova, uint64_t length,
                          GPtrArray *out)
{
    uint64_t last, next = iova;
    SimItreeNode *n;

    if (!length) {
        return -EINVAL;
    }
    if (__builtin_add_overflow(iova, length - 1, &last)) {
        return -EOVERFLOW;
    }
    for (n = sim_itree_first_overlap(&ioas->areas, iova, last); n;
         n = sim_itree_next_overlap(n, iova, last)) {
        if (n->start > next) {
            return -ENOENT;
        }
        g_ptr_array_add(out, SIM_CONTAINER_OF(n, SimArea, node));
        if (n->last >= last) {
            return 0;
        }
        next = n->last + 1;
    }
    return -ENOENT;
}

/*
 * IOAS_COPY: the destination gets one area per source piece, sharing the
 * source's memory, with the copy's own rights (WRITE needs a writable
 * source: EPERM).
 */
static int copy_pieces(SimIoas *dst, GPtrArray *src, uint64_t src_iova,
                       uint64_t length, uint32_t flags, __u64 *dst_iova)
{
    SimArea *first = g_ptr_array_index(src, 0);
    uint64_t uva0 = first->uva + (src_iova - first->node.start);
    uint64_t off = 0;
    int r;

    for (unsigned i = 0; i < src->len; i++) {
        SimArea *a = g_ptr_array_index(src, i);

        if ((flags & IOMMU_IOAS_MAP_WRITEABLE) && !(a->prot & SIM_PROT_WRITE)) {
            return -EPERM;
        }
    }
    uint64_t base = *dst_iova;

    r = place(dst, uva0, length, flags, false, &base, src->len);
    if (r) {
        return r;
    }
    *dst_iova = base;
    for (unsigned i = 0; i < src->len; i++) {
        SimArea *a = g_ptr_array_index(src, i);
        uint64_t s = MAX(a->node.start, src_iova);
        uint64_t l = MIN(a->node.last, src_iova + length - 1);

        area_insert(dst, *dst_iova + off, l - s + 1,
                    a->uva + (s - a->node.start), map_prot(flags), a->pages);
        off += l - s + 1;
    }
    return 0;
}

int sim_ioctl_ioas_copy(SimUcmd *u)
{
    struct iommu_ioas_copy *cmd = u->cmd;
    SimIoas *src, *dst;
    GPtrArray *pieces;
    int r;

    r = map_args_check(cmd->flags, cmd->length, cmd->src_iova, cmd->dst_iova);
    if (r) {
        return r;
    }
    src = ioas_find(u->ictx, cmd->src_ioas_id);
    if (!src) {
        return -ENOENT;
    }
    pieces = g_ptr_array_new();
    r = covering_areas(src, cmd->src_iova, cmd->length, pieces);
    if (!r) {
        dst = ioas_find(u->ictx, cmd->dst_ioas_id);
        r = dst ? copy_pieces(dst, pieces, cmd->src_iova, cmd->length,
                              cmd->flags, &cmd->dst_iova)
                : -ENOENT;
        if (!r && sim_ucmd_respond(u, sizeof(*cmd))) {
            /* undo: the new areas are exactly the copied range */
            for (SimItreeNode *n; (n = sim_itree_first_overlap(&dst->areas,
                                   cmd->dst_iova,
                                   cmd->dst_iova + cmd->length - 1)); ) {
                area_remove(dst, SIM_CONTAINER_OF(n, SimArea, node));
            }
            r = -EFAULT;
        }
    }
    g_ptr_array_free(pieces, true);
    return r;
}

/* Remove every area inside [iova, last]; returns the bytes unmapped. */
static uint64_t unmap_range(SimIoas *ioas, uint64_t iova, uint64_t last)
{
    uint64_t done = 0;
    SimItreeNode *n;

    while ((n = sim_itree_first_overlap(&ioas->areas, iova, last))) {
        done += n->last - n->start + 1;
        sim_ioas_dirty_forget(ioas, n->start, n->last);
        area_remove(ioas, SIM_CONTAINER_OF(n, SimArea, node));
    }
    return done;
}

int sim_ioctl_ioas_unmap(SimUcmd *u)
{
    struct iommu_ioas_unmap *cmd = u->cmd;
    SimIoas *ioas = ioas_find(u->ictx, cmd->ioas_id);
    uint64_t last;
    SimItreeNode *n;

    if (!ioas) {
        return -ENOENT;
    }
    if (cmd->iova == 0 && cmd->length == UINT64_MAX) {
        cmd->length = unmap_range(ioas, 0, UINT64_MAX);
        return sim_ucmd_respond(u, sizeof(*cmd));
    }
    if (cmd->iova >= UINT64_MAX || cmd->length >= UINT64_MAX) {
        return -EOVERFLOW;
    }
    if (!cmd->length) {
        return -EINVAL;
    }
    if (__builtin_add_overflow(cmd->iova, cmd->length - 1, &last)) {
        return -EOVERFLOW;
    }
    /* all or nothing: an area only partly inside is ENOENT, no split */
    n = sim_itree_first_overlap(&ioas->areas, cmd->iova, last);
    if (!n) {
        return -ENOENT;
    }
    for (; n; n = sim_itree_next_overlap(n, cmd->iova, last)) {
        if (n->start < cmd->iova || n->last > last) {
            return -ENOENT;
        }
    }
    cmd->length = unmap_range(ioas, cmd->iova, last);
    return sim_ucmd_respond(u, sizeof(*cmd));
}

static int option_huge_pages(SimUcmd *u, struct iommu_option *cmd)
{
    SimIoas *ioas = ioas_find(u->ictx, cmd->object_id);

    if (!ioas) {
        return -ENOENT;
    }
    if (cmd->op == IOMMU_OPTION_OP_GET) {
        cmd->val64 = ioas->huge_pages;
        return sim_ucmd_respond(u, sizeof(*cmd));
    }
    if (cmd->op != IOMMU_OPTION_OP_SET) {
        return -EOPNOTSUPP;
    }
    if (cmd->val64 > 1) {
        return -EINVAL;
    }
    if (!cmd->val64) {
        for (SimItreeNode *n = sim_itree_first(&ioas->areas); n;
             n = sim_itree_next(n)) {
            if ((n->start | (n->last + 1)) & (SIM_PAGE_SIZE - 1)) {
                return -EADDRINUSE;
            }
        }
    }
    ioas->huge_pages = cmd->val64;
    return 0;
}

int sim_ioctl_option(SimUcmd *u)
{
    struct iommu_option *cmd = u->cmd;

    if (cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    switch (cmd->option_id) {
    case IOMMU_OPTION_RLIMIT_MODE:
        if (cmd->object_id) {
            return -EOPNOTSUPP;
        }
        if (cmd->op == IOMMU_OPTION_OP_GET) {
            cmd->val64 = u->ictx->rlimit_mode;
            return sim_ucmd_respond(u, sizeof(*cmd));
        }
        if (cmd->op != IOMMU_OPTION_OP_SET) {
            return -EOPNOTSUPP;
        }
        /* the simulated caller holds CAP_SYS_RESOURCE */
        if (cmd->val64 > 1) {
            return -EINVAL;
        }
        u->ictx->rlimit_mode = cmd->val64;
        return 0;
    case IOMMU_OPTION_HUGE_PAGES:
        return option_huge_pages(u, cmd);
    default:
        return -EOPNOTSUPP;
    }
}

int sim_ioctl_vfio_ioas(SimUcmd *u)
{
    struct iommu_vfio_ioas *cmd = u->cmd;
    SimIoas *ioas;

    if (cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    switch (cmd->op) {
    case IOMMU_VFIO_IOAS_GET:
        if (!u->ictx->vfio_ioas) {
            return -ENODEV;
        }
        cmd->ioas_id = u->ictx->vfio_ioas->obj.id;
        return sim_ucmd_respond(u, sizeof(*cmd));
    case IOMMU_VFIO_IOAS_SET:
        ioas = ioas_find(u->ictx, cmd->ioas_id);
        if (!ioas) {
            return -ENOENT;
        }
        u->ictx->vfio_ioas = ioas;
        return 0;
    case IOMMU_VFIO_IOAS_CLEAR:
        u->ictx->vfio_ioas = NULL;
        return 0;
    default:
        return -EOPNOTSUPP;
    }
}

int sim_ioctl_ioas_change_process(SimUcmd *u)
{
    struct iommu_ioas_change_process *cmd = u->cmd;
    SimIdTable *t = &u->ictx->objs;

    if (cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    /* only file-backed areas can move; accounting itself is not simulated */
    for (uint32_t id = 1; id < t->size; id++) {
        SimObj *obj = t->slot[id];
        SimIoas *ioas;

        if (!obj || obj->type != SIM_OBJ_IOAS) {
            continue;
        }
        ioas = SIM_CONTAINER_OF(obj, SimIoas, obj);
        for (SimItreeNode *n = sim_itree_first(&ioas->areas); n;
             n = sim_itree_next(n)) {
            if (!SIM_CONTAINER_OF(n, SimArea, node)->pages) {
                return -EINVAL;
            }
        }
    }
    return 0;
}
