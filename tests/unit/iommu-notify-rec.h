/*
 * A recording IOMMU notifier for in-process tests of vIOMMU notifications
 * (test-vtd-notify.c, test-virtio-iommu-notify.c): it registers like a VFIO
 * container (notifier, then replay) and records every MAP/UNMAP so a test
 * can assert the exact sequence.
 */
#ifndef TESTS_IOMMU_NOTIFY_REC_H
#define TESTS_IOMMU_NOTIFY_REC_H

#include <glib.h>
#include <inttypes.h>

#include "system/memory.h"

typedef struct Ev {
    char kind;                  /* 'M' map, 'U' unmap */
    uint64_t iova, addr, size;
    IOMMUAccessFlags perm;
} Ev;

typedef struct Rec {
    IOMMUNotifier n;
    IOMMUMemoryRegion *iommu;
    GArray *ev;                 /* Ev */
} Rec;

static void rec_notify(IOMMUNotifier *n, IOMMUTLBEntry *e)
{
    Rec *r = (Rec *)n;
    Ev ev = {
        .kind = e->perm == IOMMU_NONE ? 'U' : 'M',
        .iova = e->iova,
        .addr = e->translated_addr,
        .size = e->addr_mask + 1,
        .perm = e->perm,
    };

    g_assert_true(e->target_as == &address_space_memory);
    g_assert_cmphex(e->iova & e->addr_mask, ==, 0);
    g_assert_cmphex(e->addr_mask & (e->addr_mask + 1), ==, 0);
    g_array_append_val(r->ev, ev);
}

static G_GNUC_UNUSED bool rec_try_register_on(Rec *r,
                                              IOMMUMemoryRegion *iommu,
                                              IOMMUNotifierFlag flags,
                                              hwaddr start, hwaddr end,
                                              Error **errp)
{
    r->ev = g_array_new(false, false, sizeof(Ev));
    r->iommu = iommu;
    iommu_notifier_init(&r->n, rec_notify, flags, start, end);
    if (!memory_region_register_iommu_notifier(&iommu->parent_obj, &r->n,
                                               errp)) {
        g_array_free(r->ev, true);
        r->ev = NULL;
        return false;
    }
    return true;
}

/* Registers like a VFIO container: the notifier, then a replay. */
static G_GNUC_UNUSED void rec_register_on(Rec *r, IOMMUMemoryRegion *iommu,
                                          IOMMUNotifierFlag flags)
{
    g_assert_true(rec_try_register_on(r, iommu, flags, 0, UINT64_MAX,
                                      &error_abort));
    if (flags & IOMMU_NOTIFIER_MAP) {
        memory_region_iommu_replay(iommu, &r->n);
    }
}

static G_GNUC_UNUSED void rec_unregister(Rec *r)
{
    memory_region_unregister_iommu_notifier(&r->iommu->parent_obj, &r->n);
    g_array_free(r->ev, true);
}

#define M(iova, addr, size, perm) { 'M', iova, addr, size, perm }

static G_GNUC_UNUSED void expect_events(Rec *r, const Ev *want, unsigned n,
                                        const char *where)
{
    for (unsigned i = 0; i < MAX(n, r->ev->len); i++) {
        const Ev *got = i < r->ev->len ? &g_array_index(r->ev, Ev, i) : NULL;

        if (!got || i >= n || got->kind != want[i].kind ||
            got->iova != want[i].iova || got->addr != want[i].addr ||
            got->size != want[i].size || got->perm != want[i].perm) {
            for (unsigned j = 0; j < r->ev->len; j++) {
                got = &g_array_index(r->ev, Ev, j);
                g_printerr("  got %c iova 0x%" PRIx64 " -> 0x%" PRIx64
                           " size 0x%" PRIx64 " perm %d\n", got->kind,
                           got->iova, got->addr, got->size, got->perm);
            }
            g_error("%s: event %u differs (%u expected, %u received)",
                    where, i, n, r->ev->len);
        }
    }
    g_array_set_size(r->ev, 0);
}

#define EXPECT(r, ...) do {                                         \
        const Ev want_[] = { __VA_ARGS__ };                         \
        expect_events(r, want_, G_N_ELEMENTS(want_), G_STRLOC);     \
    } while (0)
#define EXPECT_NONE(r) expect_events(r, NULL, 0, G_STRLOC)

#endif
