/*
 * virtio-iommu: the paravirtual IOMMU device (virtio 1.2, 5.13; facts H;
 * QEMU's properties, qemu_behaviour §5).  Its PCI proxy is in
 * virtio-iommu-pci.c; layouts and state in
 * include/hw/virtio/virtio-iommu.h.
 *
 * The driver sends requests on the request queue: ATTACH an endpoint to a
 * domain (created on first use), DETACH it, MAP / UNMAP ranges of a
 * domain's I/O virtual addresses, PROBE an endpoint's reserved regions.
 * Requests are processed in order, one chain at a time, and every field is
 * checked before it is used (the device-rule table, facts H.4).
 *
 * Each PCI function behind the root bus of the proxy gets an address space
 * (VirtIOIOMMUEndpoint) whose IOMMU region translates with the mappings of
 * the endpoint's domain.  A DMA that finds no mapping (or lacks the
 * permission) is refused and reported as a fault event on the event queue
 * if the driver left a buffer there.  MAP and UNMAP requests, ATTACH
 * (replay of the domain's mappings) and DETACH (unmap of all) are
 * announced to the IOMMU notifiers of the affected endpoints, which is how
 * a VFIO container shadows the guest's mappings.
 *
 * Deliberate differences from QEMU:
 *   - UNMAP that would split a mapping answers RANGE and removes nothing
 *     (QEMU removes in order up to the split);
 *   - MAP checks alignment to the granule (RANGE), overlap with reserved
 *     regions (INVAL) and the input range (RANGE); ATTACH and UNMAP check
 *     their reserved fields (INVAL); an unknown request type is returned
 *     unwritten (used length 0), as the spec recommends;
 *   - the number of domains and of mappings per domain are bounded
 *     (NOMEM beyond them).
 *
 * Threading: main loop thread / big lock, like all device models.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "hw/virtio/virtio-iommu.h"
#include "hw/pci/pci_bus.h"
#include "hw/qdev-properties.h"
#include "qapi/qjson.h"
#include "system/reset.h"
#include "system/host_iommu_device.h"
#include "hw/boards.h"
#include "util/range.h"
#include "util/cutils.h"

/* Little-endian fields: the PCI config helpers are plain LE accessors. */
#define ld16(p)     pci_get_word(p)
#define ld32(p)     pci_get_long(p)
#define ld64(p)     pci_get_quad(p)
#define st16(p, v)  pci_set_word(p, v)
#define st32(p, v)  pci_set_long(p, v)
#define st64(p, v)  pci_set_quad(p, v)

static VirtIOIOMMUEndpoint *viommu_ep_of_iommu(IOMMUMemoryRegion *iommu)
{
    return (VirtIOIOMMUEndpoint *)((char *)iommu -
                                   offsetof(VirtIOIOMMUEndpoint, iommu));
}

/* --- Properties ------------------------------------------------------------- */

static const char *const viommu_granule_table[] = {
    [VIOMMU_GRANULE_4K] = "4k",
    [VIOMMU_GRANULE_8K] = "8k",
    [VIOMMU_GRANULE_16K] = "16k",
    [VIOMMU_GRANULE_64K] = "64k",
    [VIOMMU_GRANULE_HOST] = "host",
    NULL,
};

static bool viommu_prop_get_granule(Object *obj, const Property *prop,
                                    JsonNode **value, Error **errp)
{
    int v = *(int *)qdev_prop_ptr(obj, prop);

    *value = qjson_new_str(viommu_granule_table[v]);
    return true;
}

static bool viommu_prop_set_granule(Object *obj, const Property *prop,
                                    JsonNode *value, Error **errp)
{
    const char *s = qjson_is_str(value) ? json_node_get_string(value) : NULL;

    for (int i = 0; s && viommu_granule_table[i]; i++) {
        if (!strcmp(viommu_granule_table[i], s)) {
            *(int *)qdev_prop_ptr(obj, prop) = i;
            return true;
        }
    }
    error_setg(errp, "Parameter '%s' expects 4k, 8k, 16k, 64k or host",
               prop->name);
    return false;
}

static void viommu_prop_default_granule(Object *obj, const Property *prop)
{
    *(int *)qdev_prop_ptr(obj, prop) = prop->defval.i;
}

static JsonNode *viommu_prop_default_json_granule(const Property *prop)
{
    return qjson_new_str(viommu_granule_table[prop->defval.i]);
}

static const PropertyInfo viommu_prop_granule = {
    .type = "GranuleMode",
    .description = "smallest page the IOMMU maps: 4k/8k/16k/64k/host",
    .enum_table = viommu_granule_table,
    .get = viommu_prop_get_granule,
    .set = viommu_prop_set_granule,
    .set_default = viommu_prop_default_granule,
    .default_json = viommu_prop_default_json_granule,
};

/* "START:END:TYPE": hexadecimal inclusive bounds, decimal subtype (the
 * form QEMU's reserved-region property takes). */
static bool viommu_resv_parse(const char *str, VirtIOIOMMUResvRegion *r,
                              Error **errp)
{
    const char *p = str;
    uint64_t type;

    if (!g_ascii_isxdigit(p[0]) || qemu_strtou64(p, &p, 16, &r->start) ||
        p[0] != ':' || !g_ascii_isxdigit(p[1]) ||
        qemu_strtou64(p + 1, &p, 16, &r->end) ||
        p[0] != ':' || !g_ascii_isdigit(p[1]) ||
        qemu_strtou64(p + 1, &p, 10, &type) || *p || type > UINT8_MAX) {
        error_setg(errp, "virtio-iommu: reserved-regions: '%s' is not "
                   "START:END:TYPE (hexadecimal bounds, decimal type)", str);
        return false;
    }
    r->subtype = type;
    return true;
}

static bool viommu_prop_get_resv(Object *obj, const Property *prop,
                                 JsonNode **value, Error **errp)
{
    GArray *regions = *(GArray **)qdev_prop_ptr(obj, prop);
    JsonArray *arr = json_array_new();

    for (guint i = 0; regions && i < regions->len; i++) {
        VirtIOIOMMUResvRegion *r =
            &g_array_index(regions, VirtIOIOMMUResvRegion, i);
        g_autofree char *s = g_strdup_printf("0x%" PRIx64 ":0x%" PRIx64
                                             ":%u", r->start, r->end,
                                             r->subtype);

        json_array_add_string_element(arr, s);
    }
    *value = qjson_new_array(arr);
    return true;
}

/*
 * A JSON array of strings (QMP, -device JSON), or one string holding the
 * regions separated by commas (the command line: "reserved-regions=
 * 0x1000:0x1fff:0,,0x8000:0x8fff:0", a comma being escaped as ",,").
 */
static bool viommu_prop_set_resv(Object *obj, const Property *prop,
                                 JsonNode *value, Error **errp)
{
    GArray **field = qdev_prop_ptr(obj, prop);
    g_autoptr(GArray) regions =
        g_array_new(false, true, sizeof(VirtIOIOMMUResvRegion));
    g_auto(GStrv) items = NULL;

    if (qjson_is_str(value)) {
        items = g_strsplit(json_node_get_string(value), ",", -1);
    } else if (qjson_is_array(value)) {
        JsonArray *arr = json_node_get_array(value);
        guint n = json_array_get_length(arr);

        items = g_new0(char *, n + 1);
        for (guint i = 0; i < n; i++) {
            JsonNode *e = json_array_get_element(arr, i);

            if (!qjson_is_str(e)) {
                error_setg(errp, "virtio-iommu: reserved-regions: element %u "
                           "is not a string", i);
                return false;
            }
            items[i] = g_strdup(json_node_get_string(e));
        }
    } else {
        error_setg(errp, "Invalid parameter type for '%s', expected: list "
                   "of strings", prop->name);
        return false;
    }
    for (char **it = items; *it; it++) {
        VirtIOIOMMUResvRegion r;

        if (!**it && !it[1] && it == items) {
            break;                  /* "": no regions */
        }
        if (!viommu_resv_parse(*it, &r, errp)) {
            return false;
        }
        g_array_append_val(regions, r);
    }
    if (*field) {
        g_array_unref(*field);
    }
    *field = g_steal_pointer(&regions);
    return true;
}

static void viommu_prop_release_resv(Object *obj, const Property *prop)
{
    GArray **field = qdev_prop_ptr(obj, prop);

    if (*field) {
        g_array_unref(*field);
        *field = NULL;
    }
}

static const PropertyInfo viommu_prop_resv = {
    .type = "list<reserved-region>",
    .description = "reserved regions reported by PROBE, START:END:TYPE "
                   "(TYPE 0 reserved)",
    .get = viommu_prop_get_resv,
    .set = viommu_prop_set_resv,
    .release = viommu_prop_release_resv,
};

/* --- Endpoints and their address spaces --------------------------------------- */

uint16_t viommu_endpoint_id(const VirtIOIOMMUEndpoint *ep)
{
    return PCI_BUILD_BDF(pci_bus_num(ep->bus), ep->devfn);
}

/*
 * A linear scan: endpoints are created at device realize and are few.
 * Before the guest numbers the buses behind bridges two endpoints may
 * share an ID; one whose device is present wins.
 */
VirtIOIOMMUEndpoint *viommu_find_endpoint(VirtIOIOMMU *s, uint32_t id)
{
    VirtIOIOMMUEndpoint *first = NULL;

    if (id > UINT16_MAX) {
        return NULL;
    }
    for (guint i = 0; i < s->endpoints->len; i++) {
        VirtIOIOMMUEndpoint *ep = g_ptr_array_index(s->endpoints, i);

        if (viommu_endpoint_id(ep) != id) {
            continue;
        }
        if (ep->bus->devices[ep->devfn]) {
            return ep;
        }
        first = first ? first : ep;
    }
    return first;
}

/* Identity-mapped (facts H.6): in a bypass domain, or unattached while
 * config.bypass is 1.  Otherwise translated, or blocked if unattached. */
static bool viommu_endpoint_bypasses(const VirtIOIOMMUEndpoint *ep)
{
    return ep->domain ? ep->domain->bypass : ep->viommu->bypass;
}

/* Shows the IOMMU region or the bypass alias, whichever applies now. */
static void viommu_switch_endpoint(VirtIOIOMMUEndpoint *ep)
{
    bool translating = !viommu_endpoint_bypasses(ep);

    if (translating == ep->translating) {
        return;
    }
    memory_region_transaction_begin();
    memory_region_set_enabled(&ep->iommu.parent_obj, translating);
    memory_region_set_enabled(&ep->bypass, !translating);
    memory_region_transaction_commit();
    ep->translating = translating;
}

static void viommu_switch_all(VirtIOIOMMU *s)
{
    memory_region_transaction_begin();
    for (guint i = 0; i < s->endpoints->len; i++) {
        viommu_switch_endpoint(g_ptr_array_index(s->endpoints, i));
    }
    memory_region_transaction_commit();
}

/* --- Notifications ------------------------------------------------------------ */

/* The largest naturally aligned block that starts at iova and ends at or
 * before last, as an address mask. */
static uint64_t viommu_block_mask(uint64_t iova, uint64_t last)
{
    uint64_t span = last - iova;
    unsigned k;

    if (span == UINT64_MAX) {
        return UINT64_MAX;          /* iova 0: the whole space */
    }
    k = 63 - __builtin_clzll(span + 1);
    if (iova) {
        k = MIN(k, (unsigned)__builtin_ctzll(iova));
    }
    return (1ULL << k) - 1;
}

static IOMMUAccessFlags viommu_mapping_perm(const VirtIOIOMMUMapping *m)
{
    return IOMMU_ACCESS_FLAG(m->flags & VIRTIO_IOMMU_MAP_F_READ,
                             m->flags & VIRTIO_IOMMU_MAP_F_WRITE);
}

/*
 * Announces m as MAP or UNMAP on ep's IOMMU region: to notifier n only
 * (replay) or to all of them.  An IOMMUTLBEntry covers a naturally aligned
 * power-of-2 block, so a mapping goes out as the fewest such blocks.  A
 * mapping with neither READ nor WRITE is not announced as MAP (VFIO would
 * read perm NONE as an unmap).
 */
static void viommu_notify_mapping(VirtIOIOMMUEndpoint *ep, IOMMUNotifier *n,
                                  const VirtIOIOMMUMapping *m,
                                  IOMMUNotifierFlag type)
{
    IOMMUAccessFlags perm = viommu_mapping_perm(m);
    uint64_t iova = m->virt_start, phys = m->phys_start;

    if (!n && !(ep->iommu.iommu_notify_flags & type)) {
        return;
    }
    if (type == IOMMU_NOTIFIER_MAP && perm == IOMMU_NONE) {
        return;
    }
    for (;;) {
        uint64_t mask = viommu_block_mask(iova, m->virt_end);
        IOMMUTLBEvent event = {
            .type = type,
            .entry = {
                .target_as = &address_space_memory,
                .iova = iova,
                .translated_addr = phys,
                .addr_mask = mask,
                .perm = type == IOMMU_NOTIFIER_MAP ? perm : IOMMU_NONE,
            },
        };

        if (n) {
            memory_region_notify_iommu_one(n, &event);
        } else {
            memory_region_notify_iommu(&ep->iommu, &event);
        }
        if (m->virt_end - iova == mask) {
            return;
        }
        iova += mask + 1;
        phys += mask + 1;
    }
}

/* To every endpoint of the domain. */
static void viommu_notify_domain(VirtIOIOMMUDomain *d,
                                 const VirtIOIOMMUMapping *m,
                                 IOMMUNotifierFlag type)
{
    for (GList *l = d->endpoints; l; l = l->next) {
        viommu_notify_mapping(l->data, NULL, m, type);
    }
}

typedef struct ViommuNotifyAll {
    VirtIOIOMMUEndpoint *ep;
    IOMMUNotifier *n;           /* NULL: all of ep's notifiers */
    IOMMUNotifierFlag type;
} ViommuNotifyAll;

static gboolean viommu_notify_one_mapping(gpointer key, gpointer value,
                                          gpointer opaque)
{
    ViommuNotifyAll *a = opaque;
    VirtIOIOMMUMapping *m = value;

    if (a->n && m->virt_start > a->n->end) {
        return true;                /* past the notifier's range: stop */
    }
    if (!a->n || m->virt_end >= a->n->start) {
        viommu_notify_mapping(a->ep, a->n, m, a->type);
    }
    return false;
}

/* Every mapping of ep's domain, in address order. */
static void viommu_notify_all(VirtIOIOMMUEndpoint *ep, IOMMUNotifier *n,
                              IOMMUNotifierFlag type)
{
    ViommuNotifyAll a = { .ep = ep, .n = n, .type = type };

    if (ep->domain) {
        g_tree_foreach(ep->domain->mappings, viommu_notify_one_mapping, &a);
    }
}

/* --- Domains and mappings --------------------------------------------------------- */

static gint viommu_mapping_cmp(gconstpointer a, gconstpointer b,
                               gpointer unused)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* The mapping with the greatest virt_start <= addr, NULL if none. */
static VirtIOIOMMUMapping *viommu_mapping_at_or_before(GTree *t,
                                                       uint64_t addr)
{
    GTreeNode *n = g_tree_upper_bound(t, &addr);

    n = n ? g_tree_node_previous(n) : g_tree_node_last(t);
    return n ? g_tree_node_value(n) : NULL;
}

static VirtIOIOMMUMapping *viommu_mapping_lookup(GTree *t, uint64_t addr)
{
    VirtIOIOMMUMapping *m = viommu_mapping_at_or_before(t, addr);

    return m && m->virt_end >= addr ? m : NULL;
}

static bool viommu_mapping_overlaps(GTree *t, uint64_t start, uint64_t end)
{
    VirtIOIOMMUMapping *m = viommu_mapping_at_or_before(t, end);

    return m && m->virt_end >= start;
}

static VirtIOIOMMUDomain *viommu_domain_lookup(VirtIOIOMMU *s, uint32_t id)
{
    return g_hash_table_lookup(s->domains, GUINT_TO_POINTER(id));
}

static VirtIOIOMMUDomain *viommu_domain_new(VirtIOIOMMU *s, uint32_t id,
                                            bool bypass)
{
    VirtIOIOMMUDomain *d = g_new0(VirtIOIOMMUDomain, 1);

    d->id = id;
    d->bypass = bypass;
    d->mappings = g_tree_new_full(viommu_mapping_cmp, NULL, NULL, g_free);
    g_hash_table_insert(s->domains, GUINT_TO_POINTER(id), d);
    return d;
}

static void viommu_domain_free(gpointer data)
{
    VirtIOIOMMUDomain *d = data;

    g_tree_destroy(d->mappings);
    g_list_free(d->endpoints);
    g_free(d);
}

/*
 * Takes ep out of its domain: its notifiers see every mapping unmapped,
 * its address space follows the unattached rule, and a domain left
 * without endpoints is destroyed with its mappings.
 */
static void viommu_detach(VirtIOIOMMUEndpoint *ep)
{
    VirtIOIOMMUDomain *d = ep->domain;

    if (!d) {
        return;
    }
    viommu_notify_all(ep, NULL, IOMMU_NOTIFIER_UNMAP);
    d->endpoints = g_list_remove(d->endpoints, ep);
    ep->domain = NULL;
    viommu_switch_endpoint(ep);
    if (!d->endpoints) {
        g_hash_table_remove(ep->viommu->domains, GUINT_TO_POINTER(d->id));
    }
}

/* ep (unattached) joins d; its notifiers see d's mappings. */
static void viommu_attach(VirtIOIOMMUEndpoint *ep, VirtIOIOMMUDomain *d)
{
    ep->domain = d;
    d->endpoints = g_list_prepend(d->endpoints, ep);
    viommu_switch_endpoint(ep);
    viommu_notify_all(ep, NULL, IOMMU_NOTIFIER_MAP);
}

static const VirtIOIOMMUResvRegion *viommu_resv_array_overlap(GArray *a,
                                                              uint64_t start,
                                                              uint64_t end)
{
    for (guint i = 0; a && i < a->len; i++) {
        const VirtIOIOMMUResvRegion *r =
            &g_array_index(a, VirtIOIOMMUResvRegion, i);

        if (r->start <= end && start <= r->end) {
            return r;
        }
    }
    return NULL;
}

/* A reserved region of the domain's endpoints overlapping [start, end]. */
static const VirtIOIOMMUResvRegion *viommu_resv_overlap(VirtIOIOMMU *s,
                                                        VirtIOIOMMUDomain *d,
                                                        uint64_t start,
                                                        uint64_t end)
{
    const VirtIOIOMMUResvRegion *r = viommu_resv_array_overlap(s->resv,
                                                               start, end);

    for (GList *l = d->endpoints; !r && l; l = l->next) {
        VirtIOIOMMUEndpoint *ep = l->data;

        r = viommu_resv_array_overlap(ep->host_resv, start, end);
    }
    return r;
}

/* --- Fault events (facts H.7) ------------------------------------------------- */

/*
 * Reports a fault in the next eventq buffer.  With none available the
 * event is dropped (and counted): the spec allows it, and DMA must not
 * wait for the driver.  A report is never split across buffers.
 */
static void viommu_report_fault(VirtIOIOMMU *s, uint8_t reason,
                                uint32_t flags, uint32_t endpoint,
                                uint64_t address)
{
    uint8_t ev[VIRTIO_IOMMU_FAULT_SIZE] = { 0 };
    VirtQueueElement *elem;
    size_t len = 0;

    ev[VIRTIO_IOMMU_FAULT_REASON] = reason;
    st32(ev + VIRTIO_IOMMU_FAULT_FLAGS, flags);
    st32(ev + VIRTIO_IOMMU_FAULT_ENDPOINT, endpoint);
    st64(ev + VIRTIO_IOMMU_FAULT_ADDRESS, address);

    elem = virtqueue_pop(s->event_vq, sizeof(*elem));
    if (!elem) {
        s->events_dropped++;
        log_guest_error("virtio-iommu: no event buffer: fault (reason %u) "
                        "of endpoint 0x%x at 0x%" PRIx64 " dropped", reason,
                        endpoint, address);
        return;
    }
    if (elem->in_len >= sizeof(ev)) {
        len = virtqueue_elem_write(elem, 0, ev, sizeof(ev));
    }
    if (len != sizeof(ev)) {
        s->events_dropped++;
        log_guest_error("virtio-iommu: event buffer of %" PRIu64 " bytes "
                        "unusable: fault of endpoint 0x%x dropped",
                        elem->in_len, endpoint);
        len = 0;
    }
    virtqueue_push(s->event_vq, elem, len);
    g_free(elem);
    virtio_notify(VIRTIO_DEVICE(s), s->event_vq);
}

static void viommu_handle_event(VirtIODevice *vdev, VirtQueue *vq)
{
    /* The driver added event buffers: they wait for the next fault. */
}

/* --- IOMMU region --------------------------------------------------------------- */

/* The largest block around addr, at least a granule, inside m and with
 * virt and phys congruent, so that one IOTLB entry covers it. */
static uint64_t viommu_translate_mask(VirtIOIOMMU *s,
                                      const VirtIOIOMMUMapping *m,
                                      uint64_t addr)
{
    uint64_t mask = s->granule - 1;

    while (mask < (UINT64_MAX >> 1)) {
        uint64_t next = mask << 1 | 1, base = addr & ~next;

        if (base < m->virt_start || (base | next) > m->virt_end ||
            ((m->virt_start ^ m->phys_start) & next)) {
            break;
        }
        mask = next;
    }
    return mask;
}

static IOMMUTLBEntry viommu_translate(IOMMUMemoryRegion *iommu, hwaddr addr,
                                      IOMMUAccessFlags flag, MemTxAttrs attrs)
{
    VirtIOIOMMUEndpoint *ep = viommu_ep_of_iommu(iommu);
    VirtIOIOMMU *s = ep->viommu;
    IOMMUTLBEntry entry = {
        .target_as = &address_space_memory,
        .iova = addr & ~(s->granule - 1),
        .addr_mask = s->granule - 1,
        .perm = IOMMU_NONE,
    };
    uint32_t fault_flags = VIRTIO_IOMMU_FAULT_F_ADDRESS |
        (flag & IOMMU_RO ? VIRTIO_IOMMU_FAULT_F_READ : 0) |
        (flag & IOMMU_WO ? VIRTIO_IOMMU_FAULT_F_WRITE : 0);
    VirtIOIOMMUMapping *m;

    if (viommu_endpoint_bypasses(ep)) {
        /* The bypass alias is shown instead; lookups may still come. */
        entry.translated_addr = entry.iova;
        entry.perm = IOMMU_RW;
        return entry;
    }
    if (!ep->domain) {
        if (flag != IOMMU_NONE) {
            viommu_report_fault(s, VIRTIO_IOMMU_FAULT_R_DOMAIN, fault_flags,
                                viommu_endpoint_id(ep), addr);
        }
        return entry;
    }
    m = viommu_mapping_lookup(ep->domain->mappings, addr);
    if (!m || (flag & ~viommu_mapping_perm(m))) {
        if (flag != IOMMU_NONE) {
            viommu_report_fault(s, VIRTIO_IOMMU_FAULT_R_MAPPING, fault_flags,
                                viommu_endpoint_id(ep), addr);
        }
        return entry;
    }
    entry.addr_mask = viommu_translate_mask(s, m, addr);
    entry.iova = addr & ~entry.addr_mask;
    entry.translated_addr = m->phys_start + (entry.iova - m->virt_start);
    entry.perm = viommu_mapping_perm(m);
    return entry;
}

static int viommu_notify_flag_changed(IOMMUMemoryRegion *iommu,
                                      IOMMUNotifierFlag old_flags,
                                      IOMMUNotifierFlag new_flags,
                                      Error **errp)
{
    if (new_flags & IOMMU_NOTIFIER_DEVIOTLB_UNMAP) {
        error_setg(errp, "virtio-iommu: %s: device-IOTLB notifiers are not "
                   "supported", viommu_ep_of_iommu(iommu)->name);
        return -EINVAL;
    }
    return 0;
}

static void viommu_replay(IOMMUMemoryRegion *iommu, IOMMUNotifier *n)
{
    viommu_notify_all(viommu_ep_of_iommu(iommu), n, IOMMU_NOTIFIER_MAP);
}

static uint64_t viommu_get_min_page_size(IOMMUMemoryRegion *iommu)
{
    return viommu_ep_of_iommu(iommu)->viommu->granule;
}

static const IOMMUMemoryRegionOps viommu_iommu_ops = {
    .translate = viommu_translate,
    .notify_flag_changed = viommu_notify_flag_changed,
    .replay = viommu_replay,
    .get_min_page_size = viommu_get_min_page_size,
};

static VirtIOIOMMUEndpoint *viommu_endpoint_new(VirtIOIOMMU *s, PCIBus *bus,
                                                int devfn)
{
    VirtIOIOMMUEndpoint *ep = g_new0(VirtIOIOMMUEndpoint, 1);
    MemoryRegion *sysmem = get_system_memory();
    g_autofree char *iommu_name = NULL, *bypass_name = NULL,
                    *msi_name = NULL;

    ep->viommu = s;
    ep->bus = bus;
    ep->devfn = devfn;
    ep->name = g_strdup_printf("virtio-iommu %s %02x.%x",
                               bus->qbus.name ? bus->qbus.name : "pci",
                               PCI_SLOT(devfn), PCI_FUNC(devfn));
    iommu_name = g_strdup_printf("%s iommu", ep->name);
    bypass_name = g_strdup_printf("%s bypass", ep->name);
    msi_name = g_strdup_printf("%s msi", ep->name);

    memory_region_init(&ep->root, OBJECT(s), ep->name, UINT64_MAX);
    memory_region_init_iommu(&ep->iommu, &viommu_iommu_ops, OBJECT(s),
                             iommu_name, UINT64_MAX);
    memory_region_init_alias(&ep->bypass, OBJECT(s), bypass_name, sysmem, 0,
                             memory_region_size(sysmem));
    memory_region_init_alias(&ep->msi, OBJECT(s), msi_name, sysmem,
                             VIRTIO_IOMMU_MSI_START,
                             VIRTIO_IOMMU_MSI_END - VIRTIO_IOMMU_MSI_START +
                             1);

    memory_region_transaction_begin();
    memory_region_set_enabled(&ep->iommu.parent_obj, false);
    memory_region_add_subregion_overlap(&ep->root, 0, &ep->iommu.parent_obj,
                                        0);
    memory_region_add_subregion_overlap(&ep->root, 0, &ep->bypass, 0);
    memory_region_add_subregion_overlap(&ep->root, VIRTIO_IOMMU_MSI_START,
                                        &ep->msi, 1);
    memory_region_transaction_commit();
    address_space_init(&ep->as, &ep->root, ep->name);
    g_ptr_array_add(s->endpoints, ep);
    viommu_switch_endpoint(ep);
    return ep;
}

static void viommu_endpoint_free(gpointer data)
{
    VirtIOIOMMUEndpoint *ep = data;

    if (ep->hiod) {
        object_unref(OBJECT(ep->hiod));
    }
    if (ep->host_resv) {
        g_array_unref(ep->host_resv);
    }
    address_space_destroy(&ep->as);
    memory_region_finalize(&ep->msi);
    memory_region_finalize(&ep->bypass);
    memory_region_finalize(&ep->iommu.parent_obj);
    memory_region_finalize(&ep->root);
    g_free(ep->name);
    g_free(ep);
}

/* --- Requests (facts H.3, H.4) --------------------------------------------------- */

static uint8_t viommu_req_attach(VirtIOIOMMU *s, const uint8_t *req)
{
    uint32_t domain_id = ld32(req + VIRTIO_IOMMU_ATTACH_DOMAIN);
    uint32_t ep_id = ld32(req + VIRTIO_IOMMU_ATTACH_ENDPOINT);
    uint32_t flags = ld32(req + VIRTIO_IOMMU_ATTACH_FLAGS);
    uint32_t known = virtio_vdev_has_feature(VIRTIO_DEVICE(s),
                                             VIRTIO_IOMMU_F_BYPASS_CONFIG) ?
                     VIRTIO_IOMMU_ATTACH_F_BYPASS : 0;
    bool bypass = flags & VIRTIO_IOMMU_ATTACH_F_BYPASS;
    VirtIOIOMMUEndpoint *ep;
    VirtIOIOMMUDomain *d;

    if (ld32(req + VIRTIO_IOMMU_ATTACH_RESERVED) || (flags & ~known)) {
        return VIRTIO_IOMMU_S_INVAL;
    }
    ep = viommu_find_endpoint(s, ep_id);
    if (!ep) {
        return VIRTIO_IOMMU_S_NOENT;
    }
    d = viommu_domain_lookup(s, domain_id);
    if (d) {
        if (d->bypass != bypass) {
            return VIRTIO_IOMMU_S_INVAL;
        }
        if (ep->domain == d) {
            return VIRTIO_IOMMU_S_OK;
        }
    } else {
        /* Moving the last endpoint of a domain frees its slot. */
        guint live = g_hash_table_size(s->domains) -
                     (ep->domain && !ep->domain->endpoints->next);

        if (live >= s->max_domains) {
            return VIRTIO_IOMMU_S_NOMEM;
        }
    }
    /* In another domain: implicit DETACH first (H.4). */
    viommu_detach(ep);
    if (!d) {
        d = viommu_domain_new(s, domain_id, bypass);
    }
    viommu_attach(ep, d);
    return VIRTIO_IOMMU_S_OK;
}

static uint8_t viommu_req_detach(VirtIOIOMMU *s, const uint8_t *req)
{
    uint32_t domain_id = ld32(req + VIRTIO_IOMMU_DETACH_DOMAIN);
    uint32_t ep_id = ld32(req + VIRTIO_IOMMU_DETACH_ENDPOINT);
    VirtIOIOMMUEndpoint *ep = viommu_find_endpoint(s, ep_id);

    /* The reserved field is ignored (H.4 MUST). */
    if (!ep) {
        return VIRTIO_IOMMU_S_NOENT;
    }
    if (!ep->domain || ep->domain->id != domain_id) {
        return VIRTIO_IOMMU_S_INVAL;
    }
    viommu_detach(ep);
    return VIRTIO_IOMMU_S_OK;
}

static bool viommu_aligned(VirtIOIOMMU *s, uint64_t addr)
{
    return !(addr & (s->granule - 1));
}

static uint8_t viommu_req_map(VirtIOIOMMU *s, const uint8_t *req)
{
    uint32_t domain_id = ld32(req + VIRTIO_IOMMU_MAP_DOMAIN);
    uint64_t start = ld64(req + VIRTIO_IOMMU_MAP_VIRT_START);
    uint64_t end = ld64(req + VIRTIO_IOMMU_MAP_VIRT_END);
    uint64_t phys = ld64(req + VIRTIO_IOMMU_MAP_PHYS_START);
    uint32_t flags = ld32(req + VIRTIO_IOMMU_MAP_FLAGS);
    uint32_t known = VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE |
        (virtio_vdev_has_feature(VIRTIO_DEVICE(s), VIRTIO_IOMMU_F_MMIO) ?
         VIRTIO_IOMMU_MAP_F_MMIO : 0);
    VirtIOIOMMUDomain *d;
    VirtIOIOMMUMapping *m;

    if (flags & ~known) {
        return VIRTIO_IOMMU_S_INVAL;
    }
    d = viommu_domain_lookup(s, domain_id);
    if (!d) {
        return VIRTIO_IOMMU_S_NOENT;
    }
    if (d->bypass) {
        return VIRTIO_IOMMU_S_INVAL;
    }
    /* virt_end + 1 wraps to 0 (aligned) for a map up to 2^64 - 1. */
    if (start > end || end > s->input_end || !viommu_aligned(s, start) ||
        !viommu_aligned(s, end + 1) || !viommu_aligned(s, phys) ||
        end - start > UINT64_MAX - phys) {
        return VIRTIO_IOMMU_S_RANGE;
    }
    if (viommu_mapping_overlaps(d->mappings, start, end) ||
        viommu_resv_overlap(s, d, start, end)) {
        return VIRTIO_IOMMU_S_INVAL;
    }
    if (g_tree_nnodes(d->mappings) >= (gint)MIN(s->max_mappings, G_MAXINT)) {
        return VIRTIO_IOMMU_S_NOMEM;
    }
    m = g_new(VirtIOIOMMUMapping, 1);
    *m = (VirtIOIOMMUMapping) {
        .virt_start = start, .virt_end = end, .phys_start = phys,
        .flags = flags,
    };
    g_tree_insert(d->mappings, &m->virt_start, m);
    viommu_notify_domain(d, m, IOMMU_NOTIFIER_MAP);
    return VIRTIO_IOMMU_S_OK;
}

/*
 * Removes every mapping inside [start, end], atomically: if a mapping
 * straddles either bound the request fails with RANGE and nothing is
 * removed (H.4 and the UNMAP examples).
 */
static uint8_t viommu_req_unmap(VirtIOIOMMU *s, const uint8_t *req)
{
    uint32_t domain_id = ld32(req + VIRTIO_IOMMU_UNMAP_DOMAIN);
    uint64_t start = ld64(req + VIRTIO_IOMMU_UNMAP_VIRT_START);
    uint64_t end = ld64(req + VIRTIO_IOMMU_UNMAP_VIRT_END);
    VirtIOIOMMUDomain *d;
    VirtIOIOMMUMapping *m;
    GTreeNode *node;

    if (ld32(req + VIRTIO_IOMMU_UNMAP_RESERVED)) {
        return VIRTIO_IOMMU_S_INVAL;
    }
    d = viommu_domain_lookup(s, domain_id);
    if (!d) {
        return VIRTIO_IOMMU_S_NOENT;
    }
    if (d->bypass) {
        return VIRTIO_IOMMU_S_INVAL;
    }
    if (start > end) {
        return VIRTIO_IOMMU_S_RANGE;
    }
    m = viommu_mapping_at_or_before(d->mappings, start);
    if (m && m->virt_start < start && m->virt_end >= start) {
        return VIRTIO_IOMMU_S_RANGE;
    }
    m = viommu_mapping_at_or_before(d->mappings, end);
    if (m && m->virt_end > end) {
        return VIRTIO_IOMMU_S_RANGE;
    }
    while ((node = g_tree_lower_bound(d->mappings, &start)) &&
           (m = g_tree_node_value(node))->virt_start <= end) {
        uint64_t key = m->virt_start;

        viommu_notify_domain(d, m, IOMMU_NOTIFIER_UNMAP);
        g_tree_remove(d->mappings, &key);
    }
    return VIRTIO_IOMMU_S_OK;
}

static bool viommu_put_resv(uint8_t *props, size_t *off, uint64_t start,
                            uint64_t end, uint8_t subtype)
{
    uint8_t *p = props + *off;

    if (*off + VIRTIO_IOMMU_RESV_MEM_SIZE > VIRTIO_IOMMU_PROBE_PROPS_SIZE) {
        return false;
    }
    st16(p + VIRTIO_IOMMU_PROP_TYPE, VIRTIO_IOMMU_PROBE_T_RESV_MEM);
    st16(p + VIRTIO_IOMMU_PROP_LENGTH,
         VIRTIO_IOMMU_RESV_MEM_SIZE - VIRTIO_IOMMU_PROP_HEAD_SIZE);
    p[VIRTIO_IOMMU_RESV_SUBTYPE] = subtype;
    st64(p + VIRTIO_IOMMU_RESV_START, start);
    st64(p + VIRTIO_IOMMU_RESV_END, end);
    *off += VIRTIO_IOMMU_RESV_MEM_SIZE;
    return true;
}

/*
 * Reports [start, end] minus the regions of s->resv from index i on (they
 * take priority over host ranges); false once the reply is full.
 */
static bool viommu_put_host_resv(VirtIOIOMMU *s, guint i, uint8_t *props,
                                 size_t *off, uint64_t start, uint64_t end)
{
    for (; i < s->resv->len; i++) {
        const VirtIOIOMMUResvRegion *r =
            &g_array_index(s->resv, VirtIOIOMMUResvRegion, i);

        if (r->start > end || start > r->end) {
            continue;
        }
        if (r->start > start &&
            !viommu_put_host_resv(s, i + 1, props, off, start,
                                  r->start - 1)) {
            return false;
        }
        if (r->end >= end) {
            return true;
        }
        start = r->end + 1;
    }
    return viommu_put_resv(props, off, start, end,
                           VIRTIO_IOMMU_RESV_MEM_T_RESERVED);
}

/*
 * The RESV_MEM properties of ep: the property regions and the MSI window
 * (realize checked they fit), then what the host reserves outside them
 * (cut short if the reply is full).
 */
static void viommu_fill_probe(VirtIOIOMMU *s, VirtIOIOMMUEndpoint *ep,
                              uint8_t *props)
{
    size_t off = 0;

    for (guint i = 0; i < s->resv->len; i++) {
        const VirtIOIOMMUResvRegion *r =
            &g_array_index(s->resv, VirtIOIOMMUResvRegion, i);
        if (!viommu_put_resv(props, &off, r->start, r->end, r->subtype)) {
            g_assert_not_reached();
        }
    }
    for (guint i = 0; ep->host_resv && i < ep->host_resv->len; i++) {
        const VirtIOIOMMUResvRegion *r =
            &g_array_index(ep->host_resv, VirtIOIOMMUResvRegion, i);

        if (!viommu_put_host_resv(s, 0, props, &off, r->start, r->end)) {
            break;
        }
    }
}

/* PROBE: the writable part is properties[probe_size] then the tail. */
static unsigned viommu_req_probe(VirtIOIOMMU *s, VirtQueueElement *elem)
{
    uint8_t req[VIRTIO_IOMMU_PROBE_SIZE];
    uint8_t out[VIRTIO_IOMMU_PROBE_PROPS_SIZE + VIRTIO_IOMMU_TAIL_SIZE] = {
        0
    };
    uint8_t *status = out + VIRTIO_IOMMU_PROBE_PROPS_SIZE +
                      VIRTIO_IOMMU_TAIL_STATUS;
    VirtIOIOMMUEndpoint *ep;

    if (elem->in_len < sizeof(out)) {
        log_guest_error("virtio-iommu: PROBE with %" PRIu64 " writable "
                        "bytes, needs %zu", elem->in_len, sizeof(out));
        return 0;
    }
    if (virtqueue_elem_read(elem, 0, req, sizeof(req)) < sizeof(req)) {
        *status = VIRTIO_IOMMU_S_INVAL;
    } else if (!(ep = viommu_find_endpoint(s,
                                     ld32(req + VIRTIO_IOMMU_PROBE_ENDPOINT)))) {
        *status = VIRTIO_IOMMU_S_NOENT;
    } else {
        viommu_fill_probe(s, ep, out);
        *status = VIRTIO_IOMMU_S_OK;
    }
    return virtqueue_elem_write(elem, 0, out, sizeof(out)) == sizeof(out) ?
           sizeof(out) : 0;
}

/* Handles one request chain; returns the used length (0: unwritten). */
static unsigned viommu_handle_one(VirtIOIOMMU *s, VirtQueueElement *elem)
{
    uint8_t req[VIRTIO_IOMMU_MAP_SIZE];    /* the largest but PROBE's */
    uint8_t tail[VIRTIO_IOMMU_TAIL_SIZE] = { 0 };
    uint8_t (*handler)(VirtIOIOMMU *s, const uint8_t *req);
    size_t size;

    if (virtqueue_elem_read(elem, 0, req, VIRTIO_IOMMU_REQ_HEAD_SIZE) <
        VIRTIO_IOMMU_REQ_HEAD_SIZE) {
        log_guest_error("virtio-iommu: request of %" PRIu64 " readable "
                        "bytes has no head", elem->out_len);
        return 0;
    }
    switch (req[VIRTIO_IOMMU_REQ_TYPE]) {
    case VIRTIO_IOMMU_T_ATTACH:
        handler = viommu_req_attach;
        size = VIRTIO_IOMMU_ATTACH_SIZE;
        break;
    case VIRTIO_IOMMU_T_DETACH:
        handler = viommu_req_detach;
        size = VIRTIO_IOMMU_DETACH_SIZE;
        break;
    case VIRTIO_IOMMU_T_MAP:
        handler = viommu_req_map;
        size = VIRTIO_IOMMU_MAP_SIZE;
        break;
    case VIRTIO_IOMMU_T_UNMAP:
        handler = viommu_req_unmap;
        size = VIRTIO_IOMMU_UNMAP_SIZE;
        break;
    case VIRTIO_IOMMU_T_PROBE:
        if (!virtio_vdev_has_feature(VIRTIO_DEVICE(s), VIRTIO_IOMMU_F_PROBE)) {
            log_guest_error("virtio-iommu: PROBE without F_PROBE");
            return 0;
        }
        return viommu_req_probe(s, elem);
    default:
        log_guest_error("virtio-iommu: unknown request type %u",
                        req[VIRTIO_IOMMU_REQ_TYPE]);
        return 0;
    }
    if (elem->in_len < sizeof(tail)) {
        log_guest_error("virtio-iommu: request type %u with %" PRIu64
                        " writable bytes: no room for the tail",
                        req[VIRTIO_IOMMU_REQ_TYPE], elem->in_len);
        return 0;
    }
    if (virtqueue_elem_read(elem, 0, req, size) < size) {
        log_guest_error("virtio-iommu: request type %u: %" PRIu64 " readable "
                        "bytes, needs %zu", req[VIRTIO_IOMMU_REQ_TYPE],
                        elem->out_len, size);
        tail[VIRTIO_IOMMU_TAIL_STATUS] = VIRTIO_IOMMU_S_INVAL;
    } else {
        tail[VIRTIO_IOMMU_TAIL_STATUS] = handler(s, req);
    }
    return virtqueue_elem_write(elem, 0, tail, sizeof(tail)) == sizeof(tail) ?
           sizeof(tail) : 0;
}

static void viommu_handle_requests(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOIOMMU *s = VIRTIO_IOMMU(vdev);
    VirtQueueElement *elem;
    bool pushed = false;

    while ((elem = virtqueue_pop(vq, sizeof(*elem)))) {
        virtqueue_push(vq, elem, viommu_handle_one(s, elem));
        g_free(elem);
        pushed = true;
    }
    if (pushed) {
        virtio_notify(vdev, vq);
    }
}

/* --- Configuration and features (facts H.1, H.2) ----------------------------------- */

static void viommu_get_config(VirtIODevice *vdev, uint8_t *config)
{
    VirtIOIOMMU *s = VIRTIO_IOMMU(vdev);

    memset(config, 0, VIRTIO_IOMMU_CONFIG_SIZE);
    st64(config + VIRTIO_IOMMU_CFG_PAGE_SIZE_MASK, s->pgsize_mask);
    st64(config + VIRTIO_IOMMU_CFG_INPUT_START, 0);
    st64(config + VIRTIO_IOMMU_CFG_INPUT_END, s->input_end);
    st32(config + VIRTIO_IOMMU_CFG_DOMAIN_START, 0);
    st32(config + VIRTIO_IOMMU_CFG_DOMAIN_END, UINT32_MAX);
    st32(config + VIRTIO_IOMMU_CFG_PROBE_SIZE, VIRTIO_IOMMU_PROBE_PROPS_SIZE);
    config[VIRTIO_IOMMU_CFG_BYPASS] = s->bypass;
}

/* Only bypass is writable: 0 or 1, once BYPASS_CONFIG is negotiated. */
static void viommu_set_config(VirtIODevice *vdev, const uint8_t *config)
{
    VirtIOIOMMU *s = VIRTIO_IOMMU(vdev);
    uint8_t bypass = config[VIRTIO_IOMMU_CFG_BYPASS];

    if (bypass != s->bypass) {
        if (virtio_vdev_has_feature(vdev, VIRTIO_IOMMU_F_BYPASS_CONFIG) &&
            bypass <= 1) {
            s->bypass = bypass;
            viommu_switch_all(s);
        } else {
            log_guest_error("virtio-iommu: config.bypass write of %u "
                            "ignored", bypass);
        }
    }
    viommu_get_config(vdev, vdev->config);
}

static uint64_t viommu_get_features(VirtIODevice *vdev, uint64_t f,
                                    Error **errp)
{
    virtio_add_feature(&f, VIRTIO_IOMMU_F_INPUT_RANGE);
    virtio_add_feature(&f, VIRTIO_IOMMU_F_DOMAIN_RANGE);
    virtio_add_feature(&f, VIRTIO_IOMMU_F_MAP_UNMAP);
    virtio_add_feature(&f, VIRTIO_IOMMU_F_PROBE);
    virtio_add_feature(&f, VIRTIO_IOMMU_F_MMIO);
    virtio_add_feature(&f, VIRTIO_IOMMU_F_BYPASS_CONFIG);
    return f;
}

/* --- Reset ---------------------------------------------------------------------- */

/* Device reset (H.6): every endpoint detached, every domain and mapping
 * gone; config.bypass is kept. */
static void viommu_reset(VirtIODevice *vdev)
{
    VirtIOIOMMU *s = VIRTIO_IOMMU(vdev);

    for (guint i = 0; s->endpoints && i < s->endpoints->len; i++) {
        viommu_detach(g_ptr_array_index(s->endpoints, i));
    }
    assert(!s->domains || !g_hash_table_size(s->domains));
}

/* System reset: config.bypass back to boot-bypass (H.2). */
static void viommu_system_reset(void *opaque)
{
    VirtIOIOMMU *s = opaque;

    s->bypass = s->boot_bypass;
    viommu_switch_all(s);
}

/* --- PCI hook ------------------------------------------------------------------- */

static AddressSpace *viommu_get_address_space(PCIBus *bus, void *opaque,
                                              int devfn)
{
    VirtIOIOMMU *s = opaque;

    if (devfn < 0 || devfn >= PCI_DEVFN_MAX) {
        return NULL;
    }
    /* Our own queues are not behind us. */
    if (pci_get_bus(s->proxy) == bus && s->proxy->devfn == devfn) {
        return &address_space_memory;
    }
    for (guint i = 0; i < s->endpoints->len; i++) {
        VirtIOIOMMUEndpoint *ep = g_ptr_array_index(s->endpoints, i);

        if (ep->bus == bus && ep->devfn == devfn) {
            return &ep->as;
        }
    }
    return &viommu_endpoint_new(s, bus, devfn)->as;
}

/* --- Host IOMMU devices of assigned devices (qemu_behaviour §5) ------------------ */

static VirtIOIOMMUEndpoint *viommu_endpoint_get(VirtIOIOMMU *s, PCIBus *bus,
                                                int devfn)
{
    for (guint i = 0; i < s->endpoints->len; i++) {
        VirtIOIOMMUEndpoint *ep = g_ptr_array_index(s->endpoints, i);

        if (ep->bus == bus && ep->devfn == devfn) {
            return ep;
        }
    }
    return viommu_endpoint_new(s, bus, devfn);
}

/* The complement of the usable ranges over [0, UINT64_MAX], RESERVED. */
static GArray *viommu_invert_ranges(GList *usable)
{
    GArray *a = g_array_new(false, true, sizeof(VirtIOIOMMUResvRegion));
    uint64_t next = 0;
    bool done = false;

    for (GList *l = usable; l && !done; l = l->next) {
        const Range *r = l->data;

        if (r->lob > next) {
            VirtIOIOMMUResvRegion v = {
                .start = next, .end = r->lob - 1,
                .subtype = VIRTIO_IOMMU_RESV_MEM_T_RESERVED,
            };

            g_array_append_val(a, v);
        }
        if (r->upb == UINT64_MAX) {
            done = true;
        } else if (r->upb + 1 > next) {
            next = r->upb + 1;
        }
    }
    if (!done) {
        VirtIOIOMMUResvRegion v = {
            .start = next, .end = UINT64_MAX,
            .subtype = VIRTIO_IOMMU_RESV_MEM_T_RESERVED,
        };

        g_array_append_val(a, v);
    }
    return a;
}

static bool viommu_check_page_size_mask(VirtIOIOMMU *s, HostIOMMUDevice *hiod,
                                        uint64_t new_mask, Error **errp)
{
    MachineState *ms = (MachineState *)object_dynamic_cast(
        qdev_get_machine(), TYPE_MACHINE);
    bool frozen = ms && ms->done;

    if (!(s->pgsize_mask & new_mask)) {
        error_setg(errp, "%s: virtio-iommu reports a page size mask 0x%"
                   PRIx64 " incompatible with currently supported mask 0x%"
                   PRIx64, hiod->name ? hiod->name : "host IOMMU device",
                   new_mask, s->pgsize_mask);
        return false;
    }
    if (frozen) {
        if (!(s->granule & new_mask)) {
            error_setg(errp, "virtio-iommu does not support frozen granule "
                       "0x%" PRIx64, s->granule);
            return false;
        }
        return true;
    }
    s->pgsize_mask &= new_mask;
    s->granule = s->pgsize_mask & -s->pgsize_mask;
    return true;
}

/*
 * The host IOMMU device and its ranges belong to the endpoint the device's
 * DMA goes through: its requester-ID alias (hiod->aliased_bus/devfn),
 * which devices behind one PCIe-to-PCI bridge share.  An endpoint takes one
 * host IOMMU device: the same agent (device) again is a duplicate, another
 * one behind the same alias is refused, as QEMU refuses a second set of
 * host ranges for an endpoint.
 */
static bool viommu_set_iommu_device(PCIBus *bus, void *opaque, int devfn,
                                    struct HostIOMMUDevice *hiod,
                                    Error **errp)
{
    VirtIOIOMMU *s = opaque;
    VirtIOIOMMUEndpoint *ep = viommu_endpoint_get(s, hiod->aliased_bus,
                                                  hiod->aliased_devfn);
    GList *usable;
    uint64_t mask;

    if (ep->hiod && ep->hiod->agent == hiod->agent) {
        error_setg(errp, "Host IOMMU device already exists");
        return false;
    }
    if (ep->hiod || ep->host_resv) {
        error_setg(errp, "virtio-iommu does not support aliased BDF");
        return false;
    }
    usable = host_iommu_device_get_iova_ranges(hiod);
    if (usable) {
        mask = host_iommu_device_get_page_size_mask(hiod);
        if (mask && !viommu_check_page_size_mask(s, hiod, mask, errp)) {
            range_list_free(usable);
            return false;
        }
        ep->host_resv = viommu_invert_ranges(usable);
        range_list_free(usable);
    }
    ep->hiod = hiod;
    object_ref(OBJECT(hiod));
    return true;
}

/* Only called for a device whose set_iommu_device succeeded. */
static void viommu_unset_iommu_device(PCIBus *bus, void *opaque, int devfn)
{
    VirtIOIOMMU *s = opaque;
    PCIBus *alias_bus;
    int alias_devfn;

    pci_bus_iommu_alias(bus, devfn, &alias_bus, &alias_devfn);
    for (guint i = 0; i < s->endpoints->len; i++) {
        VirtIOIOMMUEndpoint *ep = g_ptr_array_index(s->endpoints, i);

        if (ep->bus != alias_bus || ep->devfn != alias_devfn) {
            continue;
        }
        if (ep->host_resv) {
            g_array_unref(ep->host_resv);
            ep->host_resv = NULL;
        }
        if (ep->hiod) {
            object_unref(OBJECT(ep->hiod));
            ep->hiod = NULL;
        }
    }
}

static const PCIIOMMUOps viommu_pci_iommu_ops = {
    .get_address_space = viommu_get_address_space,
    .set_iommu_device = viommu_set_iommu_device,
    .unset_iommu_device = viommu_unset_iommu_device,
};

/* --- Device -------------------------------------------------------------------- */

static uint64_t viommu_granule_size(int mode)
{
    switch (mode) {
    case VIOMMU_GRANULE_4K:
        return 4 * 1024;
    case VIOMMU_GRANULE_8K:
        return 8 * 1024;
    case VIOMMU_GRANULE_16K:
        return 16 * 1024;
    case VIOMMU_GRANULE_64K:
        return 64 * 1024;
    default:
        return sysconf(_SC_PAGESIZE);
    }
}

/* The reserved regions of every endpoint: the property's, then the MSI
 * window (x86: passed through untranslated, H.5). */
static bool viommu_build_resv(VirtIOIOMMU *s, Error **errp)
{
    static const VirtIOIOMMUResvRegion msi = {
        .start = VIRTIO_IOMMU_MSI_START,
        .end = VIRTIO_IOMMU_MSI_END,
        .subtype = VIRTIO_IOMMU_RESV_MEM_T_MSI,
    };
    guint n = s->prop_resv ? s->prop_resv->len : 0;

    for (guint i = 0; i < n; i++) {
        VirtIOIOMMUResvRegion *r =
            &g_array_index(s->prop_resv, VirtIOIOMMUResvRegion, i);

        if (r->start > r->end) {
            error_setg(errp, "virtio-iommu: reserved region %u: start 0x%"
                       PRIx64 " above end 0x%" PRIx64, i, r->start, r->end);
            return false;
        }
        if (r->subtype == VIRTIO_IOMMU_RESV_MEM_T_MSI) {
            error_setg(errp, "virtio-iommu: reserved region %u: only one MSI "
                       "region per endpoint, and q35 reports 0x%llx-0x%llx",
                       i, VIRTIO_IOMMU_MSI_START, VIRTIO_IOMMU_MSI_END);
            return false;
        }
        if (r->subtype != VIRTIO_IOMMU_RESV_MEM_T_RESERVED) {
            error_setg(errp, "virtio-iommu: reserved region %u has an "
                       "invalid type %u", i, r->subtype);
            error_append_hint(errp, "Only type 0 (reserved) is accepted: "
                              "q35 reports the MSI region (type 1)\n");
            return false;
        }
    }
    if ((n + 1) * VIRTIO_IOMMU_RESV_MEM_SIZE > VIRTIO_IOMMU_PROBE_PROPS_SIZE) {
        error_setg(errp, "virtio-iommu: %u reserved regions do not fit the "
                   "%u-byte PROBE reply (at most %u)", n,
                   VIRTIO_IOMMU_PROBE_PROPS_SIZE,
                   VIRTIO_IOMMU_PROBE_PROPS_SIZE /
                   VIRTIO_IOMMU_RESV_MEM_SIZE - 1);
        return false;
    }
    s->resv = g_array_new(false, true, sizeof(VirtIOIOMMUResvRegion));
    if (n) {
        g_array_append_vals(s->resv, s->prop_resv->data, n);
    }
    g_array_append_val(s->resv, msi);
    return true;
}

static bool viommu_realize(VirtIODevice *vdev, Error **errp)
{
    VirtIOIOMMU *s = VIRTIO_IOMMU(vdev);
    DeviceState *transport = virtio_get_transport(vdev);
    PCIBus *root;

    if (!transport || !object_dynamic_cast(OBJECT(transport),
                                           TYPE_PCI_DEVICE)) {
        error_setg(errp, "virtio-iommu: needs the PCI transport "
                   "(-device virtio-iommu-pci)");
        return false;
    }
    s->proxy = PCI_DEVICE(transport);
    root = pci_get_bus(s->proxy);
    while (!pci_bus_is_root(root)) {
        root = pci_get_bus(root->parent_dev);
    }
    if (root->iommu_ops) {
        error_setg(errp, "virtio-iommu: only one vIOMMU per machine is "
                   "supported");
        return false;
    }
    if (s->aw_bits < 32 || s->aw_bits > 64) {
        error_setg(errp, "virtio-iommu: aw-bits must be within [32, 64], "
                   "not %u", s->aw_bits);
        return false;
    }
    if (!s->max_domains || !s->max_mappings) {
        error_setg(errp, "virtio-iommu: x-max-domains and x-max-mappings "
                   "must be at least 1");
        return false;
    }
    if (!viommu_build_resv(s, errp)) {
        return false;
    }
    s->granule = viommu_granule_size(s->granule_mode);
    s->pgsize_mask = ~(s->granule - 1);
    s->input_end = s->aw_bits == 64 ? UINT64_MAX : (1ULL << s->aw_bits) - 1;
    s->bypass = s->boot_bypass;

    virtio_init(vdev, VIRTIO_ID_IOMMU, VIRTIO_IOMMU_CONFIG_SIZE);
    s->req_vq = virtio_add_queue(vdev, VIRTIO_IOMMU_QUEUE_SIZE,
                                 viommu_handle_requests);
    s->event_vq = virtio_add_queue(vdev, VIRTIO_IOMMU_QUEUE_SIZE,
                                   viommu_handle_event);
    s->endpoints = g_ptr_array_new_with_free_func(viommu_endpoint_free);
    s->domains = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                       viommu_domain_free);

    /* The host bridge may go first at machine teardown: keep the bus. */
    s->root_bus = root;
    object_ref(OBJECT(root));
    pci_setup_iommu(root, &viommu_pci_iommu_ops, s);
    qemu_register_reset(viommu_system_reset, s);
    s->reset_registered = true;
    return true;
}

static void viommu_unrealize(VirtIODevice *vdev)
{
    VirtIOIOMMU *s = VIRTIO_IOMMU(vdev);

    if (s->reset_registered) {
        qemu_unregister_reset(viommu_system_reset, s);
        s->reset_registered = false;
    }
    if (s->root_bus) {
        pci_setup_iommu(s->root_bus, NULL, NULL);
        object_unref(OBJECT(s->root_bus));
        s->root_bus = NULL;
    }
    if (s->endpoints) {
        viommu_reset(vdev);
        g_ptr_array_free(s->endpoints, true);
        s->endpoints = NULL;
    }
    if (s->domains) {
        g_hash_table_destroy(s->domains);
        s->domains = NULL;
    }
    if (s->resv) {
        g_array_unref(s->resv);
        s->resv = NULL;
    }
    s->proxy = NULL;
}

static bool viommu_get_events_dropped(Object *obj, ObjectProperty *prop,
                                      JsonNode **value, Error **errp)
{
    *value = qjson_new_uint(VIRTIO_IOMMU(obj)->events_dropped);
    return true;
}

static const Property viommu_props[] = {
    DEFINE_PROP_BOOL("boot-bypass", VirtIOIOMMU, boot_bypass, true),
    DEFINE_PROP("granule", VirtIOIOMMU, granule_mode, viommu_prop_granule,
                int, .set_default = true,
                .defval.i = VIOMMU_GRANULE_HOST),
    DEFINE_PROP_UINT8("aw-bits", VirtIOIOMMU, aw_bits, 64),
    DEFINE_PROP("reserved-regions", VirtIOIOMMU, prop_resv, viommu_prop_resv,
                GArray *),
    DEFINE_PROP_UINT32("x-max-domains", VirtIOIOMMU, max_domains,
                       VIRTIO_IOMMU_MAX_DOMAINS),
    DEFINE_PROP_UINT32("x-max-mappings", VirtIOIOMMU, max_mappings,
                       VIRTIO_IOMMU_MAX_MAPPINGS),
    DEFINE_PROP_END_OF_LIST(),
};

static void viommu_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_CLASS(klass);

    dc->desc = "virtio IOMMU";
    dc->hotpluggable = false;
    device_class_set_props(dc, viommu_props);
    object_class_property_add(klass, "x-events-dropped", "uint64",
                              viommu_get_events_dropped, NULL, NULL, NULL);
    vdc->realize = viommu_realize;
    vdc->unrealize = viommu_unrealize;
    vdc->reset = viommu_reset;
    vdc->get_features = viommu_get_features;
    vdc->get_config = viommu_get_config;
    vdc->set_config = viommu_set_config;
}

static const TypeInfo viommu_types[] = {
    {
        .name = TYPE_VIRTIO_IOMMU,
        .parent = TYPE_VIRTIO_DEVICE,
        .instance_size = sizeof(VirtIOIOMMU),
        .class_init = viommu_class_init,
    },
};

DEFINE_TYPES(viommu_types)
