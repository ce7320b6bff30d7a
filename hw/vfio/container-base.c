/*
 * The part of a VFIO container both backends share (vfio-container.h):
 * the record of host mappings, the memory listener on the devices' DMA
 * address space, and shadowing of vIOMMU mappings through IOMMU
 * notifiers.
 *
 * What is mapped, and why (qemu_behaviour.md §3; DESIGN.md path 2):
 *   - RAM sections, page-aligned inwards, at IOVA = address in the space;
 *   - IOMMU sections: a MAP|UNMAP notifier, replayed on registration; a
 *     MAP's translated address is a guest-physical address in the entry's
 *     target address space, resolved here to the RAM holding it;
 *   - never: I/O regions, ram-device regions (another device's BAR: the
 *     host cannot do peer-to-peer DMA), the x86 interrupt window (DMA
 *     there is an interrupt request, not memory), IOVAs outside the
 *     host's usable ranges (the host would refuse them).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "hw/vfio/vfio-device.h"
#include "util/range.h"

/* x86: writes here are interrupt requests, never DMA to memory. */
#define VFIO_MSI_WINDOW_FIRST   0xfee00000ULL
#define VFIO_MSI_WINDOW_LAST    0xfeefffffULL

typedef struct VFIOGuestIOMMU {
    VFIOContainer *c;
    IOMMUMemoryRegion *iommu_mr;
    hwaddr offset_within_region;    /* of the section: identifies it */
    /* IOVA in the address space = offset in the region + iommu_offset */
    hwaddr iommu_offset;
    IOMMUNotifier n;
} VFIOGuestIOMMU;

/* "vfio 0000:02:00.0" for the first device, else the backend's name. */
static char *vfio_container_label(VFIOContainer *c)
{
    if (c->devices) {
        VFIODevice *d = c->devices->data;

        return g_strdup_printf("vfio %s", d->name);
    }
    return g_strdup_printf("vfio %s container", c->ops->name);
}

/*
 * A failure seen by the listener: collected while it replays at
 * registration (the attach fails with it and names the device),
 * reported with the container's label otherwise.
 */
static void vfio_container_report(VFIOContainer *c, Error *err)
{
    g_autofree char *label = NULL;

    if (c->collecting) {
        if (!c->error) {
            c->error = err;
        } else {
            error_free(err);
        }
        return;
    }
    label = vfio_container_label(c);
    error_prepend(&err, "%s: ", label);
    error_report_err(err);
}

static uint64_t vfio_container_min_page(VFIOContainer *c)
{
    uint64_t pg = c->pgsizes & -c->pgsizes;

    return pg >= 4096 ? pg : 4096;
}

static hwaddr mapping_last(const VFIOMapping *m)
{
    return m->iova + m->size - 1;
}

static gint vfio_mapping_cmp(gconstpointer a, gconstpointer b,
                             gpointer unused)
{
    hwaddr x = *(const hwaddr *)a, y = *(const hwaddr *)b;

    return x < y ? -1 : x > y;
}

void vfio_container_init(VFIOContainer *c, const VFIOContainerOps *ops,
                         AddressSpace *as)
{
    memset(c, 0, sizeof(*c));
    c->ops = ops;
    c->as = as;
    c->pgsizes = 4096;
    c->mappings = g_tree_new_full(vfio_mapping_cmp, NULL, NULL, g_free);
}

void vfio_container_destroy(VFIOContainer *c)
{
    vfio_container_unlisten(c);
    g_tree_destroy(c->mappings);
    c->mappings = NULL;
    range_list_free(c->iova_ranges);
    c->iova_ranges = NULL;
    error_free(c->error);
    c->error = NULL;
}

void vfio_container_set_ranges(VFIOContainer *c, GList *ranges,
                               uint64_t pgsizes)
{
    range_list_free(c->iova_ranges);
    c->iova_ranges = ranges;
    c->pgsizes = pgsizes ? pgsizes : 4096;
}

unsigned vfio_container_nr_mappings(VFIOContainer *c)
{
    return g_tree_nnodes(c->mappings);
}

/* ------------------------------------------------------------------------
 * The mapping record
 * ------------------------------------------------------------------------ */

/* The recorded mappings overlapping [first, last], in IOVA order. */
static GPtrArray *vfio_mappings_in(VFIOContainer *c, hwaddr first,
                                   hwaddr last)
{
    GPtrArray *hit = g_ptr_array_new();
    GTreeNode *node = g_tree_upper_bound(c->mappings, &first);
    GTreeNode *prev = node ? g_tree_node_previous(node)
                           : g_tree_node_last(c->mappings);

    if (prev && mapping_last(g_tree_node_value(prev)) >= first) {
        node = prev;
    }
    for (; node; node = g_tree_node_next(node)) {
        VFIOMapping *m = g_tree_node_value(node);

        if (m->iova > last) {
            break;
        }
        g_ptr_array_add(hit, m);
    }
    return hit;
}

static void vfio_mapping_record(VFIOContainer *c, hwaddr iova, uint64_t size,
                                void *vaddr, bool readonly)
{
    VFIOMapping *m = g_new(VFIOMapping, 1);

    m->iova = iova;
    m->size = size;
    m->vaddr = vaddr;
    m->readonly = readonly;
    g_tree_insert(c->mappings, &m->iova, m);
}

int vfio_container_unmap(VFIOContainer *c, hwaddr first, hwaddr last,
                         Error **errp)
{
    uint64_t pg = vfio_container_min_page(c);
    g_autoptr(GPtrArray) hit = NULL;
    VFIOMapping head, tail;
    bool keep_head, keep_tail;
    hwaddr lo, hi;
    int ret;

    /* whole pages: a mapping is never split below the page size */
    first &= ~(pg - 1);
    last |= pg - 1;
    hit = vfio_mappings_in(c, first, last);
    if (!hit->len) {
        return 0;
    }
    head = *(VFIOMapping *)hit->pdata[0];
    tail = *(VFIOMapping *)hit->pdata[hit->len - 1];
    lo = head.iova;
    hi = mapping_last(&tail);
    /* one host call over whole mappings: never bisects one */
    ret = c->ops->dma_unmap(c, lo, hi - lo + 1, errp);
    if (ret < 0) {
        return ret;
    }
    for (guint i = 0; i < hit->len; i++) {
        g_tree_remove(c->mappings, &((VFIOMapping *)hit->pdata[i])->iova);
    }
    /* the parts of the outer mappings the request did not cover stay */
    keep_head = head.iova < first;
    keep_tail = mapping_last(&tail) > last;
    if (keep_head) {
        ret = vfio_container_map(c, head.iova, first - head.iova,
                                 head.vaddr, head.readonly, errp);
        if (ret < 0) {
            return ret;
        }
    }
    if (keep_tail) {
        ret = vfio_container_map(c, last + 1, mapping_last(&tail) - last,
                                 (uint8_t *)tail.vaddr +
                                 (last + 1 - tail.iova),
                                 tail.readonly, errp);
    }
    return ret < 0 ? ret : 0;
}

int vfio_container_map(VFIOContainer *c, hwaddr iova, uint64_t size,
                       void *vaddr, bool readonly, Error **errp)
{
    g_autoptr(GPtrArray) hit = NULL;
    hwaddr last;
    int ret;

    if (!size) {
        return 0;
    }
    if (size - 1 > HWADDR_MAX - iova) {
        error_setg(errp, "DMA map of 0x%" HWADDR_PRIx "+0x%" PRIx64
                   ": wraps", iova, size);
        return -EINVAL;
    }
    last = iova + size - 1;
    hit = vfio_mappings_in(c, iova, last);
    if (hit->len == 1) {
        VFIOMapping *m = hit->pdata[0];

        if (m->iova == iova && m->size == size && m->vaddr == vaddr &&
            m->readonly == readonly) {
            return 0;           /* announced twice: already there */
        }
    }
    if (hit->len) {
        ret = vfio_container_unmap(c, iova, last, errp);
        if (ret < 0) {
            return ret;
        }
    }
    ret = c->ops->dma_map(c, iova, size, vaddr, readonly, errp);
    if (ret < 0) {
        return ret;
    }
    vfio_mapping_record(c, iova, size, vaddr, readonly);
    return 0;
}

/* ------------------------------------------------------------------------
 * What may be mapped
 * ------------------------------------------------------------------------ */

/*
 * The parts of [first, last] the host can map: inside a usable range,
 * outside the interrupt window, page-aligned inwards.  Appends Ranges to
 * @out.
 */
static void vfio_usable_pieces(VFIOContainer *c, hwaddr first, hwaddr last,
                               GArray *out)
{
    uint64_t pg = vfio_container_min_page(c);
    Range all = { 0, UINT64_MAX };
    GList single = { .data = &all };
    GList *ranges = c->iova_ranges ? c->iova_ranges : &single;

    for (GList *l = ranges; l; l = l->next) {
        const Range *r = l->data;
        hwaddr lo = MAX(first, r->lob), hi = MIN(last, r->upb);
        Range cut[2];
        int n = 0;

        if (lo > hi) {
            continue;
        }
        /* minus the interrupt window */
        if (hi < VFIO_MSI_WINDOW_FIRST || lo > VFIO_MSI_WINDOW_LAST) {
            cut[n++] = (Range){ lo, hi };
        } else {
            if (lo < VFIO_MSI_WINDOW_FIRST) {
                cut[n++] = (Range){ lo, VFIO_MSI_WINDOW_FIRST - 1 };
            }
            if (hi > VFIO_MSI_WINDOW_LAST) {
                cut[n++] = (Range){ VFIO_MSI_WINDOW_LAST + 1, hi };
            }
        }
        for (int i = 0; i < n; i++) {
            hwaddr a = cut[i].lob, b = cut[i].upb;

            /* round a up and b + 1 down to pages, without wrapping */
            if (a & (pg - 1)) {
                if (a > HWADDR_MAX - pg) {
                    continue;
                }
                a = (a | (pg - 1)) + 1;
            }
            if ((b & (pg - 1)) != pg - 1) {
                if (b < pg) {
                    continue;
                }
                b = (b & ~(pg - 1)) - 1;
            }
            if (a <= b) {
                g_array_append_val(out, ((Range){ a, b }));
            }
        }
    }
}

/* Maps [first, last] of the space, at vaddr for first, where possible. */
static int vfio_map_usable(VFIOContainer *c, hwaddr first, hwaddr last,
                           void *vaddr, bool readonly, Error **errp)
{
    g_autoptr(GArray) pieces = g_array_new(false, false, sizeof(Range));

    vfio_usable_pieces(c, first, last, pieces);
    for (guint i = 0; i < pieces->len; i++) {
        Range *p = &g_array_index(pieces, Range, i);
        int ret = vfio_container_map(c, p->lob, p->upb - p->lob + 1,
                                     (uint8_t *)vaddr + (p->lob - first),
                                     readonly, errp);

        if (ret < 0) {
            return ret;
        }
    }
    return 0;
}

/* The last address of a section (size UINT64_MAX stands for 2^64). */
static hwaddr section_last(const MemoryRegionSection *s)
{
    hwaddr first = s->offset_within_address_space;

    if (s->size == UINT64_MAX || s->size - 1 > HWADDR_MAX - first) {
        return HWADDR_MAX;
    }
    return first + s->size - 1;
}

/* ------------------------------------------------------------------------
 * Shadowing: vIOMMU mappings
 * ------------------------------------------------------------------------ */

/*
 * Maps the guest-physical range [gpa, gpa + len) of @as, piece by RAM
 * piece, at IOVA @iova.  A target that is not RAM is refused: the guest
 * mapped an IOVA onto MMIO, which the host cannot DMA to.
 */
static void vfio_map_gpa(VFIOGuestIOMMU *g, hwaddr iova, AddressSpace *as,
                         hwaddr gpa, uint64_t len, bool readonly)
{
    VFIOContainer *c = g->c;

    while (len) {
        hwaddr xlat, plen = len;
        MemoryRegion *mr = address_space_translate(as, gpa, &xlat, &plen,
                                                   !readonly,
                                                   MEMTXATTRS_UNSPECIFIED);
        Error *err = NULL;

        if (!mr || !plen || !memory_region_is_ram(mr) ||
            memory_region_is_ram_device(mr)) {
            g_autofree char *label = vfio_container_label(c);

            log_guest_error("%s: iommu map to non memory area 0x%"
                            HWADDR_PRIx " (IOVA 0x%" HWADDR_PRIx "), not "
                            "mapped", label, gpa, iova);
            return;
        }
        plen = MIN(plen, len);
        if (vfio_map_usable(c, iova, iova + plen - 1,
                            (uint8_t *)memory_region_get_ram_ptr(mr) + xlat,
                            readonly || mr->readonly, &err) < 0) {
            error_prepend(&err, "shadowing IOVA 0x%" HWADDR_PRIx ": ", iova);
            vfio_container_report(c, err);
            return;
        }
        iova += plen;
        gpa += plen;
        len -= plen;
    }
}

static void vfio_iommu_notify(IOMMUNotifier *n, IOMMUTLBEntry *e)
{
    VFIOGuestIOMMU *g = container_of(n, VFIOGuestIOMMU, n);
    VFIOContainer *c = g->c;
    hwaddr e_last = e->addr_mask > HWADDR_MAX - e->iova ?
                    HWADDR_MAX : e->iova + e->addr_mask;
    hwaddr first = MAX(e->iova, n->start), last = MIN(e_last, n->end);
    hwaddr as_first = first + g->iommu_offset;
    hwaddr as_last = last + g->iommu_offset;
    uint64_t pg = vfio_container_min_page(c);
    Error *err = NULL;

    if (first > last) {
        return;
    }
    if (e->perm == IOMMU_NONE) {
        if (vfio_container_unmap(c, as_first, as_last, &err) < 0) {
            error_prepend(&err, "unshadowing IOVA 0x%" HWADDR_PRIx "-0x%"
                          HWADDR_PRIx ": ", as_first, as_last);
            vfio_container_report(c, err);
        }
        return;
    }
    if ((as_first | (as_last + 1) | e->translated_addr) & (pg - 1) ||
        last - first == UINT64_MAX || !e->target_as) {
        g_autofree char *label = vfio_container_label(c);

        log_guest_error("%s: vIOMMU mapping 0x%" HWADDR_PRIx "-0x%"
                        HWADDR_PRIx " -> 0x%" HWADDR_PRIx " is not "
                        "page-aligned, not mapped", label, as_first, as_last,
                        e->translated_addr);
        return;
    }
    vfio_map_gpa(g, as_first, e->target_as,
                 e->translated_addr + (first - e->iova), last - first + 1,
                 e->perm == IOMMU_RO);
}

static void vfio_giommu_add(VFIOContainer *c, MemoryRegionSection *s)
{
    VFIOGuestIOMMU *g = g_new0(VFIOGuestIOMMU, 1);
    hwaddr first = s->offset_within_region;
    hwaddr last = first + (section_last(s) - s->offset_within_address_space);
    Error *err = NULL;

    g->c = c;
    g->iommu_mr = memory_region_get_iommu(s->mr);
    g->offset_within_region = first;
    g->iommu_offset = s->offset_within_address_space - first;
    iommu_notifier_init(&g->n, vfio_iommu_notify, IOMMU_NOTIFIER_IOTLB_EVENTS,
                        first, last);
    if (!memory_region_register_iommu_notifier(s->mr, &g->n, &err)) {
        vfio_container_report(c, err);
        g_free(g);
        return;
    }
    c->giommus = g_slist_prepend(c->giommus, g);
    /* what the guest mapped before we listened */
    memory_region_iommu_replay(g->iommu_mr, &g->n);
}

static void vfio_giommu_del(VFIOContainer *c, MemoryRegionSection *s)
{
    IOMMUMemoryRegion *iommu_mr = memory_region_get_iommu(s->mr);
    Error *err = NULL;

    for (GSList *l = c->giommus; l; l = l->next) {
        VFIOGuestIOMMU *g = l->data;

        if (g->iommu_mr != iommu_mr ||
            g->offset_within_region != s->offset_within_region) {
            continue;
        }
        memory_region_unregister_iommu_notifier(s->mr, &g->n);
        c->giommus = g_slist_delete_link(c->giommus, l);
        g_free(g);
        break;
    }
    /* whatever the vIOMMU had mapped there goes with the section */
    if (vfio_container_unmap(c, s->offset_within_address_space,
                             section_last(s), &err) < 0) {
        vfio_container_report(c, err);
    }
}

/* ------------------------------------------------------------------------
 * The listener
 * ------------------------------------------------------------------------ */

/* RAM the host can map: not another device's BAR (no peer-to-peer). */
static bool vfio_section_is_ram(MemoryRegionSection *s)
{
    return memory_region_is_ram(s->mr) && !memory_region_is_ram_device(s->mr);
}

static void vfio_listener_region_add(MemoryListener *l,
                                     MemoryRegionSection *s)
{
    VFIOContainer *c = container_of(l, VFIOContainer, listener);
    hwaddr first = s->offset_within_address_space;
    Error *err = NULL;
    void *vaddr;

    if (memory_region_is_iommu(s->mr)) {
        vfio_giommu_add(c, s);
        return;
    }
    if (!vfio_section_is_ram(s)) {
        return;
    }
    vaddr = (uint8_t *)memory_region_get_ram_ptr(s->mr) +
            s->offset_within_region;
    if (vfio_map_usable(c, first, section_last(s), vaddr,
                        s->readonly || s->mr->readonly, &err) < 0) {
        error_prepend(&err, "mapping %s at 0x%" HWADDR_PRIx ": ",
                      memory_region_name(s->mr), first);
        vfio_container_report(c, err);
    }
}

static void vfio_listener_region_del(MemoryListener *l,
                                     MemoryRegionSection *s)
{
    VFIOContainer *c = container_of(l, VFIOContainer, listener);
    Error *err = NULL;

    if (memory_region_is_iommu(s->mr)) {
        vfio_giommu_del(c, s);
        return;
    }
    if (!vfio_section_is_ram(s)) {
        return;
    }
    if (vfio_container_unmap(c, s->offset_within_address_space,
                             section_last(s), &err) < 0) {
        error_prepend(&err, "unmapping %s: ", memory_region_name(s->mr));
        vfio_container_report(c, err);
    }
}

bool vfio_container_listen(VFIOContainer *c, Error **errp)
{
    assert(!c->listening);
    c->listener = (MemoryListener) {
        .region_add = vfio_listener_region_add,
        .region_del = vfio_listener_region_del,
        .name = "vfio",
    };
    c->collecting = true;
    memory_listener_register(&c->listener, c->as);
    c->listening = true;
    c->collecting = false;
    if (c->error) {
        error_propagate(errp, c->error);
        c->error = NULL;
        vfio_container_unlisten(c);
        return false;
    }
    return true;
}

void vfio_container_unlisten(VFIOContainer *c)
{
    Error *err = NULL;

    if (!c->listening) {
        return;
    }
    /* region_del for every section: notifiers go, mappings go */
    memory_listener_unregister(&c->listener);
    c->listening = false;
    assert(!c->giommus);
    /* a failed unmap leaves records; the host drops them with the fd */
    if (g_tree_nnodes(c->mappings) &&
        c->ops->dma_unmap(c, 0, 0, &err) < 0) {
        error_free(err);
    }
    g_tree_remove_all(c->mappings);
}
