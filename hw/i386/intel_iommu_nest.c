/*
 * intel-iommu: first-stage translation of assigned devices on iommufd
 * nested HWPTs (x-flts=on; qemu_behaviour §4 "First-stage nesting flow",
 * uapi_facts §2; DESIGN.md data path 3).
 *
 * An iommufd-backed assigned device accepted under x-flts was attached by
 * VFIO to a nest-parent HWPT (its default HWPT) that holds GPA -> host
 * memory: under a scalable root its address space stays on system memory
 * (vtd_nest_keeps_system_view), so VFIO's listener keeps the parent
 * populated and nothing is shadowed.  Instead the guest's RID_PASID entry
 * decides the device's host attachment:
 *
 *   TE=0, no root latched, or a legacy root    the default HWPT
 *   context / PASID structures do not resolve  detached (DMA blocked)
 *   PGTT=001 (first stage)                     a nested HWPT of ours with
 *                                              VT-d stage-1 data (SRE, WPE,
 *                                              EAFE, addr_width 48, the
 *                                              first-stage table pointer)
 *   PGTT=100 (pass-through)                    the default HWPT
 *   PGTT=010/011                               detached, fault 0x5b (the
 *                                              host cannot run them)
 *
 * The entry is read through the context and PASID caches, so a change is
 * seen after the guest invalidates, as on hardware; it is re-evaluated on
 * PASID-cache and context-cache invalidation, SRTP, TE changes and reset.
 * A new nested HWPT replaces the old one in one attach; the old one is
 * then freed.
 *
 * Guest IOTLB invalidations covering a nested device's domain and
 * RID_PASID are forwarded with IOMMU_HWPT_INVALIDATE (VT-d stage-1
 * entries; PASID-wide or domain-wide as the full range, page-selective as
 * 2^AM pages, LEAF with IH).  They are queued per device and sent when the
 * invalidation queue reaches anything but an IOTLB descriptor (a wait, in
 * particular) or runs dry: a guest batch is one ioctl.
 *
 * Failures (beyond QEMU, which only logs them): the host's answers are
 * untrusted.  A failed allocation, attach or invalidation leaves the
 * device detached, its DMA blocked (fail closed: an attachment or cache
 * we cannot vouch for must not translate), frees our nested HWPT, and is
 * recorded as a VT-d fault with reason 0x5b ("invalid PASID entry": the
 * host cannot take this stage-1 configuration), SID = the device's
 * requester id, PP=1 with PV = RID_PASID, address 0, subject to the
 * entry's FPD.  The next PASID-cache (or context-cache) invalidation
 * retries.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "intel_iommu_internal.h"
#include "system/host_iommu_device.h"
#include "system/iommufd.h"

/* More queued invalidation entries per device than this: sent at once. */
#define VTD_NEST_MAX_PENDING    256

typedef enum VTDNestMode {
    VTD_NEST_DEFAULT,           /* on the default (nest-parent) HWPT */
    VTD_NEST_BLOCKED,           /* detached: DMA blocked */
    VTD_NEST_NESTED,            /* on a nested HWPT of ours */
} VTDNestMode;

/* A host attachment: what the guest asks for, or what the device has. */
typedef struct VTDNestBinding {
    VTDNestMode mode;
    bool bad;                   /* BLOCKED for a PGTT the host cannot run */
    struct iommu_hwpt_vtd_s1 s1;    /* NESTED */
    uint16_t did;               /* NESTED: the entry's domain */
    uint32_t pasid;             /* the RID_PASID */
    bool fpd;                   /* FPD governing the entry */
} VTDNestBinding;

/* vas->nest: owned by the address space while a hiod backs it. */
typedef struct VTDNestState {
    VTDNestBinding cur;
    uint32_t hwpt_id;           /* NESTED: our nested HWPT */
    GArray *pending;            /* struct iommu_hwpt_vtd_s1_invalidate */
} VTDNestState;

static HostIOMMUDeviceIOMMUFD *vtd_nest_idev(IntelIOMMUState *s,
                                             VTDAddressSpace *vas)
{
    HostIOMMUDevice *hiod = vtd_find_hiod(s, vas->bus, vas->devfn);

    return hiod ? (HostIOMMUDeviceIOMMUFD *)
                  object_dynamic_cast(OBJECT(hiod),
                                      TYPE_HOST_IOMMU_DEVICE_IOMMUFD)
                : NULL;
}

bool vtd_nest_keeps_system_view(IntelIOMMUState *s, VTDAddressSpace *vas)
{
    return vas->nest && s->root_set && s->root_ttm == VTD_TTM_SCALABLE;
}

/* --- What the guest asks for ----------------------------------------------- */

static void vtd_nest_want(IntelIOMMUState *s, VTDAddressSpace *vas,
                          VTDNestBinding *w)
{
    VTDPASIDCacheEntry pc;
    uint64_t pe2;

    memset(w, 0, sizeof(*w));
    if (!s->dmar_enabled || !s->root_set ||
        s->root_ttm != VTD_TTM_SCALABLE) {
        w->mode = VTD_NEST_DEFAULT;
        return;
    }
    if (vtd_as_get_rid_pasid_entry(s, vas, &pc, &w->fpd)) {
        /* no DMA was refused yet: nothing to record */
        w->mode = VTD_NEST_BLOCKED;
        return;
    }
    w->pasid = pc.pasid;
    pe2 = pc.pe.val[2];
    switch (VTD_PE0_PGTT(pc.pe.val[0])) {
    case VTD_PGTT_FIRST:
        w->mode = VTD_NEST_NESTED;
        w->did = pc.did;
        w->s1.flags = ((pe2 & VTD_PE2_SRE) ? IOMMU_VTD_S1_SRE : 0) |
                      ((pe2 & VTD_PE2_WPE) ? IOMMU_VTD_S1_WPE : 0) |
                      ((pe2 & VTD_PE2_EAFE) ? IOMMU_VTD_S1_EAFE : 0);
        w->s1.pgtbl_addr = pe2 & VTD_ENTRY_ADDR_MASK;
        /* FLPM 00 (the only one accepted): 4 levels, 48 bits */
        w->s1.addr_width = VTD_AW_AGAW(VTD_AW_48BIT);
        return;
    case VTD_PGTT_PT:
        w->mode = VTD_NEST_DEFAULT;
        return;
    default:
        /* second stage / nested: the host walks only the guest's first
         * stage, over our GPA stage 2 */
        w->mode = VTD_NEST_BLOCKED;
        w->bad = true;
        return;
    }
}

static bool vtd_nest_same(const VTDNestBinding *a, const VTDNestBinding *b)
{
    if (a->mode != b->mode || a->bad != b->bad) {
        return false;
    }
    return a->mode != VTD_NEST_NESTED ||
           (a->s1.flags == b->s1.flags &&
            a->s1.pgtbl_addr == b->s1.pgtbl_addr &&
            a->s1.addr_width == b->s1.addr_width);
}

/* --- Making the host follow ---------------------------------------------- */

static void vtd_nest_fault(IntelIOMMUState *s, VTDAddressSpace *vas,
                           const VTDNestBinding *b)
{
    vtd_report_fault(s, VTD_FR_SM_PE_INV, b->fpd, vtd_as_sid(vas), 0, false,
                     true, b->pasid);
}

static void vtd_nest_publish(HostIOMMUDeviceIOMMUFD *idev, VTDNestState *ns)
{
    bool nested = ns->cur.mode == VTD_NEST_NESTED;

    idev->nested_hwpt_id = nested ? ns->hwpt_id : 0;
    idev->first_stage_table = nested ? ns->cur.s1.pgtbl_addr : 0;
}

/*
 * Fail closed after a host failure: detach, free our nested HWPT, record
 * the fault.  @b is the binding the guest asked for.
 */
static void vtd_nest_fail(IntelIOMMUState *s, VTDAddressSpace *vas,
                          HostIOMMUDeviceIOMMUFD *idev,
                          const VTDNestBinding *b, Error *err)
{
    VTDNestState *ns = vas->nest;
    Error *derr = NULL;

    log_guest_error("intel-iommu: %02x:%02x.%x: %s; DMA blocked",
                    pci_bus_num(vas->bus), PCI_SLOT(vas->devfn),
                    PCI_FUNC(vas->devfn), error_get_pretty(err));
    error_free(err);
    if (!host_iommu_device_iommufd_detach_hwpt(idev, &derr)) {
        warn_report("intel-iommu: %s", error_get_pretty(derr));
        error_free(derr);
    }
    if (ns->hwpt_id) {
        iommufd_be_free_id(idev->iommufd, ns->hwpt_id);
        ns->hwpt_id = 0;
    }
    g_array_set_size(ns->pending, 0);
    ns->cur = *b;
    ns->cur.mode = VTD_NEST_BLOCKED;
    ns->cur.bad = false;
    vtd_nest_publish(idev, ns);
    vtd_nest_fault(s, vas, b);
}

/* Attach the device as @w says; true on success. */
static bool vtd_nest_attach(HostIOMMUDeviceIOMMUFD *idev,
                            const VTDNestBinding *w, uint32_t *new_id,
                            Error **errp)
{
    struct iommu_hwpt_vtd_s1 s1 = w->s1;

    *new_id = 0;
    switch (w->mode) {
    case VTD_NEST_DEFAULT:
        return host_iommu_device_iommufd_attach_hwpt(idev, idev->hwpt_id,
                                                     errp);
    case VTD_NEST_BLOCKED:
        return host_iommu_device_iommufd_detach_hwpt(idev, errp);
    case VTD_NEST_NESTED:
        if (!iommufd_be_alloc_hwpt(idev->iommufd, idev->devid, idev->hwpt_id,
                                   0, IOMMU_HWPT_DATA_VTD_S1, sizeof(s1), &s1,
                                   new_id, errp)) {
            return false;
        }
        if (!host_iommu_device_iommufd_attach_hwpt(idev, *new_id, errp)) {
            iommufd_be_free_id(idev->iommufd, *new_id);
            *new_id = 0;
            return false;
        }
        return true;
    }
    return false;
}

static void vtd_nest_sync(IntelIOMMUState *s, VTDAddressSpace *vas)
{
    HostIOMMUDeviceIOMMUFD *idev = vtd_nest_idev(s, vas);
    VTDNestState *ns = vas->nest;
    uint32_t old_id = ns->hwpt_id, new_id;
    VTDNestBinding w;
    Error *err = NULL;

    if (!idev) {
        return;
    }
    vtd_nest_want(s, vas, &w);
    if (vtd_nest_same(&w, &ns->cur)) {
        /* the same tables: a new DID or FPD only changes bookkeeping */
        ns->cur = w;
        return;
    }
    /* queued invalidations were for the attachment that goes */
    g_array_set_size(ns->pending, 0);
    if (!vtd_nest_attach(idev, &w, &new_id, &err)) {
        vtd_nest_fail(s, vas, idev, &w, err);
        return;
    }
    if (old_id) {
        iommufd_be_free_id(idev->iommufd, old_id);
    }
    ns->hwpt_id = new_id;
    ns->cur = w;
    vtd_nest_publish(idev, ns);
    if (w.bad) {
        log_guest_error("intel-iommu: %02x:%02x.%x: a second-stage or "
                        "nested PASID entry cannot be run on the host; DMA "
                        "blocked", pci_bus_num(vas->bus),
                        PCI_SLOT(vas->devfn), PCI_FUNC(vas->devfn));
        vtd_nest_fault(s, vas, &w);
    }
}

static void vtd_nest_sync_one(VTDAddressSpace *vas, void *opaque)
{
    if (vas->nest) {
        vtd_nest_sync(opaque, vas);
    }
}

void vtd_nest_sync_all(IntelIOMMUState *s)
{
    if (s->flts && s->address_spaces) {
        vtd_nest_flush(s);
        vtd_foreach_address_space(s, vtd_nest_sync_one, s);
    }
}

/* --- Devices coming and going -------------------------------------------- */

void vtd_nest_device_added(IntelIOMMUState *s, VTDAddressSpace *vas)
{
    if (!s->flts || vas->nest || !vtd_nest_idev(s, vas)) {
        return;
    }
    vas->nest = g_new0(VTDNestState, 1);
    vas->nest->cur.mode = VTD_NEST_DEFAULT;     /* where VFIO put it */
    vas->nest->pending = g_array_new(false, true,
                                     sizeof(struct iommu_hwpt_vtd_s1_invalidate));
    vtd_switch_address_space(vas);
    vtd_nest_sync(s, vas);
}

void vtd_nest_as_destroy(VTDAddressSpace *vas)
{
    if (vas->nest) {
        g_array_free(vas->nest->pending, true);
        g_free(vas->nest);
        vas->nest = NULL;
    }
}

void vtd_nest_device_removed(IntelIOMMUState *s, VTDAddressSpace *vas)
{
    HostIOMMUDeviceIOMMUFD *idev = vtd_nest_idev(s, vas);
    VTDNestState *ns = vas->nest;
    Error *err = NULL;

    if (!ns) {
        return;
    }
    /* VFIO owns the default HWPT and tears the device down from there;
     * a nested HWPT would keep its parent busy */
    if (idev && ns->cur.mode != VTD_NEST_DEFAULT &&
        !host_iommu_device_iommufd_attach_hwpt(idev, idev->hwpt_id, &err)) {
        warn_report("intel-iommu: %s", error_get_pretty(err));
        error_free(err);
    }
    if (idev && ns->hwpt_id) {
        iommufd_be_free_id(idev->iommufd, ns->hwpt_id);
    }
    if (idev) {
        idev->nested_hwpt_id = 0;
        idev->first_stage_table = 0;
    }
    vtd_nest_as_destroy(vas);
}

static void vtd_nest_remove_one(VTDAddressSpace *vas, void *opaque)
{
    vtd_nest_device_removed(opaque, vas);
}

void vtd_nest_fini(IntelIOMMUState *s)
{
    if (s->address_spaces) {
        vtd_foreach_address_space(s, vtd_nest_remove_one, s);
    }
}

/* --- Invalidation forwarding --------------------------------------------- */

typedef struct VTDNestInval {
    bool all;
    uint16_t did;
    uint32_t pasid;
    struct iommu_hwpt_vtd_s1_invalidate e;
} VTDNestInval;

static void vtd_nest_send(IntelIOMMUState *s, VTDAddressSpace *vas)
{
    HostIOMMUDeviceIOMMUFD *idev = vtd_nest_idev(s, vas);
    VTDNestState *ns = vas->nest;
    uint32_t n = ns->pending->len;
    Error *err = NULL;

    if (!n) {
        return;
    }
    if (idev && ns->cur.mode == VTD_NEST_NESTED &&
        !iommufd_be_invalidate_cache(idev->iommufd, ns->hwpt_id,
                                     IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
                                     sizeof(struct iommu_hwpt_vtd_s1_invalidate),
                                     &n, ns->pending->data, &err)) {
        VTDNestBinding b = ns->cur;

        vtd_nest_fail(s, vas, idev, &b, err);
    }
    g_array_set_size(ns->pending, 0);
}

static void vtd_nest_queue_one(VTDAddressSpace *vas, void *opaque)
{
    const VTDNestInval *inv = opaque;
    VTDNestState *ns = vas->nest;

    if (!ns || ns->cur.mode != VTD_NEST_NESTED ||
        (!inv->all && ns->cur.did != inv->did) ||
        (inv->pasid != VTD_PASID_NONE && ns->cur.pasid != inv->pasid)) {
        return;
    }
    g_array_append_val(ns->pending, inv->e);
    if (ns->pending->len >= VTD_NEST_MAX_PENDING) {
        vtd_nest_send(vas->iommu_state, vas);
    }
}

void vtd_nest_invalidate(IntelIOMMUState *s, bool all, uint16_t did,
                         uint32_t pasid, bool whole, uint64_t addr,
                         unsigned am, bool ih)
{
    VTDNestInval inv = { .all = all, .did = did, .pasid = pasid };

    if (!s->flts) {
        return;
    }
    if (whole) {
        inv.e.addr = 0;
        inv.e.npages = UINT64_MAX;
    } else {
        /* am <= MAMV (18): checked by the caller */
        inv.e.npages = 1ULL << am;
        inv.e.addr = addr & ~((inv.e.npages << VTD_PAGE_SHIFT) - 1);
        inv.e.flags = ih ? IOMMU_VTD_INV_FLAGS_LEAF : 0;
    }
    vtd_foreach_address_space(s, vtd_nest_queue_one, &inv);
}

static void vtd_nest_send_one(VTDAddressSpace *vas, void *opaque)
{
    if (vas->nest) {
        vtd_nest_send(opaque, vas);
    }
}

void vtd_nest_flush(IntelIOMMUState *s)
{
    if (s->flts && s->address_spaces) {
        vtd_foreach_address_space(s, vtd_nest_send_one, s);
    }
}
