/*
 * libviommu-sim, the simulated physical IOMMU: DMA through paging and
 * nested HWPTs (a VT-d first-stage table built in test memory), IOTLB
 * entries stale until IOMMU_HWPT_INVALIDATE, dirty bits, the fault log,
 * teardown without leaks, and the interval tree under the IOAS.
 */
#include "sim-test-common.h"

/* ---- DMA through a paging HWPT ------------------------------------------ */

static void test_dma_paging(void)
{
    uint8_t out[3 * 4096], in[16] = "hello, device";
    SimFaultRecord f;
    uint32_t ioas, pt;
    uint64_t iova = 0x100000;
    Fx fx;

    fx_setup(&fx);
    ioas = ioas_alloc(&fx);
    g_assert_cmpint(map_fixed(&fx, ioas, iova, fx.buf, 2 * P), ==, 0);
    iova = 0x100000 + 2 * P;
    g_assert_cmpint(map(&fx, ioas, IOMMU_IOAS_MAP_FIXED_IOVA |
                        IOMMU_IOAS_MAP_READABLE, &iova, fx.buf + 8 * P, P),
                    ==, 0);
    bind_dev(&fx, fx.dev);
    /* bound but attached to nothing: blocked */
    g_assert_cmpint(sim_device_dma(fx.dev, SIM_NO_PASID, 0x100000, in, 4,
                                   true), ==, -EFAULT);
    f = last_fault(&fx, 1);
    g_assert_cmpint(f.reason, ==, SIM_FAULT_BLOCKED);
    g_assert_cmpstr(f.bdf, ==, "0000:02:00.0");
    pt = ioas;
    g_assert_cmpint(attach(&fx, fx.dev, SIM_NO_PASID, &pt), ==, 0);
    /* a write across two areas' pages lands in user memory */
    g_assert_cmpint(sim_device_dma(fx.dev, SIM_NO_PASID, 0x100000 + P - 5, in,
                                   sizeof(in), true), ==, 0);
    g_assert_cmpmem(fx.buf + P - 5, sizeof(in), in, sizeof(in));
    /* a read spanning into the read-only area */
    fx.buf[8 * P] = 0x77;
    g_assert_cmpint(sim_device_dma(fx.dev, SIM_NO_PASID, 0x100000, out,
                                   3 * P, false), ==, 0);
    g_assert_cmpint(out[2 * P], ==, 0x77);
    /* writing the read-only area, and an unmapped IOVA, fault */
    g_assert_cmpint(sim_device_dma(fx.dev, SIM_NO_PASID, 0x100000 + 2 * P, in,
                                   1, true), ==, -EFAULT);
    f = last_fault(&fx, 1);
    g_assert_cmpint(f.reason, ==, SIM_FAULT_S2_PERM);
    g_assert_cmphex(f.iova, ==, 0x100000 + 2 * P);
    g_assert_true(f.write);
    g_assert_cmpint(f.hwpt_id, ==, pt);
    g_assert_cmpint(sim_device_dma(fx.dev, SIM_NO_PASID, 0x900000, out, 1,
                                   false), ==, -EFAULT);
    f = last_fault(&fx, 1);
    g_assert_cmpint(f.reason, ==, SIM_FAULT_S2_UNMAPPED);
    /* after unmap the IOVA is gone at once */
    g_assert_cmpint(unmap(&fx, ioas, 0x100000, 2 * P, NULL), ==, 0);
    g_assert_cmpint(sim_device_dma(fx.dev, SIM_NO_PASID, 0x100000, out, 1,
                                   false), ==, -EFAULT);
    last_fault(&fx, 1);
    g_assert_cmpint(sim_device_dma(fx.dev, SIM_NO_PASID, 0, out, 0, false),
                    ==, 0);
    unbind(&fx, fx.dev);
    fx_close(&fx);
}

/* ---- nested: VT-d first stage over stage 2 ------------------------------- */

#define RAM_GPA     0x200000ull
#define RAM_SIZE    (8ull << 20)
#define FS_P        1ull
#define FS_RW       2ull
#define FS_US       4ull
#define FS_A        (1ull << 5)
#define FS_D        (1ull << 6)
#define FS_PS       (1ull << 7)
#define PML4        0x200000ull
#define PDPT        0x201000ull
#define PD          0x202000ull
#define PT          0x203000ull
#define PAGE_A      0x210000ull
#define PAGE_B      0x211000ull
#define PAGE_2M     0x400000ull

typedef struct Nested {
    Fx fx;
    uint8_t *ram;
    uint32_t ioas, devid, parent, nested;
} Nested;

static uint64_t *gpa_ptr(Nested *n, uint64_t gpa)
{
    return (uint64_t *)(n->ram + (gpa - RAM_GPA));
}

static void nested_setup(Nested *n, const char *text)
{
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = PML4, .addr_width = 48 };
    uint32_t pt;

    fx_open(&n->fx, text);
    n->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_assert(n->ram != MAP_FAILED);
    n->ioas = ioas_alloc(&n->fx);
    g_assert_cmpint(map_fixed(&n->fx, n->ioas, RAM_GPA, n->ram, RAM_SIZE), ==,
                    0);
    n->devid = bind_dev(&n->fx, n->fx.dev);
    g_assert_cmpint(hwpt_alloc(&n->fx, IOMMU_HWPT_ALLOC_NEST_PARENT, n->devid,
                               n->ioas, 0, NULL, 0, &n->parent), ==, 0);
    /* IOVA 0x40000000: PML4[0] → PDPT[1] → PD[0] → PT[0..3]; PD[1] 2 MiB */
    *gpa_ptr(n, PML4) = PDPT | FS_P | FS_RW | FS_US;
    *gpa_ptr(n, PDPT + 8) = PD | FS_P | FS_RW | FS_US;
    *gpa_ptr(n, PDPT + 3 * 8) = 0x40000000ull | FS_P | FS_RW | FS_US | FS_PS;
    *gpa_ptr(n, PD) = PT | FS_P | FS_RW | FS_US;
    *gpa_ptr(n, PD + 8) = PAGE_2M | FS_P | FS_RW | FS_US | FS_PS;
    *gpa_ptr(n, PT) = PAGE_A | FS_P | FS_RW | FS_US;
    *gpa_ptr(n, PT + 8) = PAGE_B | FS_P | FS_US;             /* read-only */
    *gpa_ptr(n, PT + 16) = PAGE_A | FS_P | FS_RW;            /* supervisor */
    g_assert_cmpint(hwpt_alloc(&n->fx, 0, n->devid, n->parent,
                               IOMMU_HWPT_DATA_VTD_S1, &s1, sizeof(s1),
                               &n->nested), ==, 0);
    pt = n->nested;
    g_assert_cmpint(attach(&n->fx, n->fx.dev, SIM_NO_PASID, &pt), ==, 0);
}

static void nested_teardown(Nested *n)
{
    unbind(&n->fx, n->fx.dev);
    fx_close(&n->fx);
    munmap(n->ram, RAM_SIZE);
}

static int invalidate(Fx *fx, uint32_t hwpt, void *entries, uint32_t len,
                      uint32_t *num)
{
    struct iommu_hwpt_invalidate c = {
        .size = sizeof(c), .hwpt_id = hwpt, .data_uptr = (uintptr_t)entries,
        .data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, .entry_len = len,
        .entry_num = *num,
    };
    int r = ioc(fx, IOMMU_HWPT_INVALIDATE, &c);

    *num = c.entry_num;
    return r;
}

static void test_dma_nested(void)
{
    struct iommu_hwpt_vtd_s1_invalidate inv = { .addr = 0x40000000, .npages = 1 };
    uint8_t v[4] = "abc", r8;
    SimFaultRecord f;
    uint32_t num;
    Nested n;

    nested_setup(&n, "iommu=vtd;device:bdf=0000:02:00.0");
    /* a write walks stage 1 (tables read through stage 2) and lands */
    g_assert_cmpint(sim_device_dma(n.fx.dev, SIM_NO_PASID, 0x40000010, v, 3,
                                   true), ==, 0);
    g_assert_cmpmem(gpa_ptr(&n, PAGE_A + 0x10), 3, "abc", 3);
    /* hardware set A on the path and D on the leaf */
    g_assert_true(*gpa_ptr(&n, PML4) & FS_A);
    g_assert_true(*gpa_ptr(&n, PD) & FS_A);
    g_assert_cmphex(*gpa_ptr(&n, PT) & (FS_A | FS_D), ==, FS_A | FS_D);
    /* a 2 MiB leaf */
    ((uint8_t *)gpa_ptr(&n, PAGE_2M))[0x1005] = 0x42;
    g_assert_cmpint(sim_device_dma(n.fx.dev, SIM_NO_PASID, 0x40201005, &r8, 1,
                                   false), ==, 0);
    g_assert_cmpint(r8, ==, 0x42);

    /* the guest moves the page: the IOTLB keeps the old translation ... */
    *gpa_ptr(&n, PT) = PAGE_B | FS_P | FS_RW | FS_US;
    g_assert_cmpint(sim_device_dma(n.fx.dev, SIM_NO_PASID, 0x40000020, v, 3,
                                   true), ==, 0);
    g_assert_cmpmem(gpa_ptr(&n, PAGE_A + 0x20), 3, "abc", 3);
    g_assert_cmpint(*(uint8_t *)gpa_ptr(&n, PAGE_B + 0x20), ==, 0);
    /* ... an invalidation of another page changes nothing ... */
    inv.addr = 0x40005000;
    num = 1;
    g_assert_cmpint(invalidate(&n.fx, n.nested, &inv, sizeof(inv), &num), ==,
                    0);
    g_assert_cmpint(sim_device_dma(n.fx.dev, SIM_NO_PASID, 0x40000024, v, 3,
                                   true), ==, 0);
    g_assert_cmpmem(gpa_ptr(&n, PAGE_A + 0x24), 3, "abc", 3);
    /* ... until HWPT_INVALIDATE covers it */
    inv.addr = 0x40000000;
    g_assert_cmpint(invalidate(&n.fx, n.nested, &inv, sizeof(inv), &num), ==,
                    0);
    g_assert_cmpint(num, ==, 1);
    g_assert_cmpint(sim_device_dma(n.fx.dev, SIM_NO_PASID, 0x40000030, v, 3,
                                   true), ==, 0);
    g_assert_cmpmem(gpa_ptr(&n, PAGE_B + 0x30), 3, "abc", 3);
    g_assert_cmpint(sim_fault_log_read(n.fx.h, &f, 1), ==, 0);

    /* first-stage faults carry the VT-d reason */
    g_assert_cmpint(sim_device_dma(n.fx.dev, SIM_NO_PASID, 0x40001000, &r8, 1,
                                   false), ==, 0);
    g_assert_cmpint(sim_device_dma(n.fx.dev, SIM_NO_PASID, 0x40001000, v, 1,
                                   true), ==, -EFAULT);
    f = last_fault(&n.fx, 1);
    g_assert_cmpint(f.reason, ==, SIM_FAULT_S1_WRITE);
    g_assert_cmphex(f.vtd_reason, ==, 0x85);
    g_assert_cmpint(f.hwpt_id, ==, n.nested);
    g_assert_cmpint(sim_device_dma(n.fx.dev, SIM_NO_PASID, 0x40002000, &r8, 1,
                                   false), ==, -EFAULT);
    g_assert_cmphex(last_fault(&n.fx, 1).vtd_reason, ==, 0x81);
    g_assert_cmpint(sim_device_dma(n.fx.dev, SIM_NO_PASID, 0x40003000, &r8, 1,
                                   false), ==, -EFAULT);
    f = last_fault(&n.fx, 1);
    g_assert_cmphex(f.vtd_reason, ==, 0x71);
    g_assert_cmphex(f.addr, ==, PT + 3 * 8);
    g_assert_cmpint(sim_device_dma(n.fx.dev, SIM_NO_PASID, 1ull << 47, &r8, 1,
                                   false), ==, -EFAULT);
    g_assert_cmphex(last_fault(&n.fx, 1).vtd_reason, ==, 0x80);
    /* not-present results are never cached */
    *gpa_ptr(&n, PT + 3 * 8) = PAGE_A | FS_P | FS_RW | FS_US;
    g_assert_cmpint(sim_device_dma(n.fx.dev, SIM_NO_PASID, 0x40003010, &r8, 1,
                                   false), ==, 0);
    g_assert_cmpint(r8, ==, 'a');
    /* a 1 GiB leaf whose output is outside stage 2 */
    g_assert_cmpint(sim_device_dma(n.fx.dev, SIM_NO_PASID, 0xc0000040, &r8, 1,
                                   false), ==, -EFAULT);
    f = last_fault(&n.fx, 1);
    g_assert_cmpint(f.reason, ==, SIM_FAULT_S2_UNMAPPED);
    g_assert_cmphex(f.addr, ==, 0x40000040);
    /* stage 2 is never stale: unmapping guest RAM stops cached stage 1 */
    g_assert_cmpint(destroy(&n.fx, n.parent), ==, EBUSY);
    g_assert_cmpint(destroy(&n.fx, n.nested), ==, EBUSY);
    g_assert_cmpint(unmap(&n.fx, n.ioas, RAM_GPA, RAM_SIZE, NULL), ==, 0);
    g_assert_cmpint(sim_device_dma(n.fx.dev, SIM_NO_PASID, 0x40000030, &r8, 1,
                                   false), ==, -EFAULT);
    g_assert_cmpint(last_fault(&n.fx, 1).reason, ==, SIM_FAULT_S2_UNMAPPED);
    nested_teardown(&n);

    /* without first-stage 1G pages, PS in a PDPTE is reserved */
    nested_setup(&n, "fs1gp=off;device:bdf=0000:02:00.0");
    g_assert_cmpint(sim_device_dma(n.fx.dev, SIM_NO_PASID, 0xc0000040, &r8, 1,
                                   false), ==, -EFAULT);
    g_assert_cmphex(last_fault(&n.fx, 1).vtd_reason, ==, 0x72);
    nested_teardown(&n);
}

/* ---- HWPT_INVALIDATE argument rules (#32, #33) -------------------------- */

static void test_invalidate_errors(void)
{
    struct iommu_hwpt_vtd_s1_invalidate e[3] = {
        { .addr = 0x40000000, .npages = 1 },
        { .addr = 0x40001000, .npages = 1 },
        { .addr = 0x40002000, .npages = 1 },
    };
    struct {
        struct iommu_hwpt_vtd_s1_invalidate e;
        uint64_t extra;
    } big = { { .addr = 0, .npages = UINT64_MAX }, 0 };
    uint32_t num;
    Nested n;

    nested_setup(&n, "iommu=vtd;device:bdf=0000:02:00.0");
    num = 1;
    g_assert_cmpint(invalidate(&n.fx, n.parent, e, sizeof(e[0]), &num), ==,
                    EINVAL);
    g_assert_cmpint(num, ==, 0);
    num = 1;
    g_assert_cmpint(invalidate(&n.fx, 4242, e, sizeof(e[0]), &num), ==, ENOENT);
    num = 0;
    g_assert_cmpint(invalidate(&n.fx, n.nested, NULL, 0, &num), ==, 0);
    {
        struct iommu_hwpt_invalidate c = {
            .size = sizeof(c), .hwpt_id = n.nested, .data_type = 9,
        };
        g_assert_cmpint(ioc(&n.fx, IOMMU_HWPT_INVALIDATE, &c), ==, EINVAL);
        c.data_type = 0;
        c.__reserved = 1;
        g_assert_cmpint(ioc(&n.fx, IOMMU_HWPT_INVALIDATE, &c), ==, EOPNOTSUPP);
    }
    num = 1;
    g_assert_cmpint(invalidate(&n.fx, n.nested, e, 0, &num), ==, EINVAL);
    num = 1;
    g_assert_cmpint(invalidate(&n.fx, n.nested, e, 1, &num), ==, EINVAL);
    num = 1;
    g_assert_cmpint(invalidate(&n.fx, n.nested, e, P + 1, &num), ==, EINVAL);
    num = (1u << 19) + 1;
    g_assert_cmpint(invalidate(&n.fx, n.nested, e, sizeof(e[0]), &num), ==,
                    EINVAL);
    num = 1;
    g_assert_cmpint(invalidate(&n.fx, n.nested, NULL, sizeof(e[0]), &num), ==,
                    EINVAL);
    /* a bigger entry is fine with a zero tail, E2BIG otherwise */
    num = 1;
    g_assert_cmpint(invalidate(&n.fx, n.nested, &big, sizeof(big), &num), ==,
                    0);
    big.extra = 1;
    g_assert_cmpint(invalidate(&n.fx, n.nested, &big, sizeof(big), &num), ==,
                    E2BIG);
    /* #33: entries run in order; entry_num out counts the handled ones */
    e[1].flags = 0xffffffff;
    num = 3;
    g_assert_cmpint(invalidate(&n.fx, n.nested, e, sizeof(e[0]), &num), ==,
                    EOPNOTSUPP);
    g_assert_cmpint(num, ==, 1);
    e[1].flags = 0;
    e[1].addr = 0x40001800;
    num = 3;
    g_assert_cmpint(invalidate(&n.fx, n.nested, e, sizeof(e[0]), &num), ==,
                    EINVAL);
    g_assert_cmpint(num, ==, 1);
    e[1].addr = 0x40001000;
    e[1].npages = 0;
    num = 3;
    g_assert_cmpint(invalidate(&n.fx, n.nested, e, sizeof(e[0]), &num), ==,
                    EINVAL);
    e[1].npages = 1;
    e[2].__reserved = 1;
    num = 3;
    g_assert_cmpint(invalidate(&n.fx, n.nested, e, sizeof(e[0]), &num), ==,
                    EOPNOTSUPP);
    g_assert_cmpint(num, ==, 2);
    nested_teardown(&n);
}

/* ---- dirty tracking (#35, #36) ------------------------------------------ */

static int set_dirty(Fx *fx, uint32_t hwpt, uint32_t flags)
{
    struct iommu_hwpt_set_dirty_tracking c = {
        .size = sizeof(c), .flags = flags, .hwpt_id = hwpt,
    };

    return ioc(fx, IOMMU_HWPT_SET_DIRTY_TRACKING, &c);
}

static int get_dirty(Fx *fx, uint32_t hwpt, uint32_t flags, uint64_t iova,
                     uint64_t len, uint64_t page, void *data)
{
    struct iommu_hwpt_get_dirty_bitmap c = {
        .size = sizeof(c), .hwpt_id = hwpt, .flags = flags, .iova = iova,
        .length = len, .page_size = page, .data = (uintptr_t)data,
    };

    return ioc(fx, IOMMU_HWPT_GET_DIRTY_BITMAP, &c);
}

static void test_dirty(void)
{
    const uint64_t base = 0x400000;
    uint32_t ioas, devid, nodirty_id, hwpt, plain, pt;
    SimDevice *nodirty;
    uint8_t *bitmap, v = 1;
    Fx fx;

    fx_open(&fx, "iommu=vtd;device:bdf=0000:02:00.0;"
                 "device:bdf=0000:03:00.0,dirty=off");
    nodirty = sim_host_find_device(fx.h, "0000:03:00.0");
    ioas = ioas_alloc(&fx);
    g_assert_cmpint(map_fixed(&fx, ioas, base, fx.buf, BUF_PAGES * P), ==, 0);
    devid = bind_dev(&fx, fx.dev);
    nodirty_id = bind_dev(&fx, nodirty);
    /* #35 */
    g_assert_cmpint(hwpt_alloc(&fx, IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
                               nodirty_id, ioas, 0, NULL, 0, NULL), ==,
                    EOPNOTSUPP);
    g_assert_cmpint(hwpt_alloc(&fx, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, devid,
                               ioas, 0, NULL, 0, &hwpt), ==, 0);
    pt = hwpt;
    g_assert_cmpint(attach(&fx, nodirty, SIM_NO_PASID, &pt), ==, EINVAL);
    g_assert_cmpint(attach(&fx, fx.dev, SIM_NO_PASID, &pt), ==, 0);
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, ioas, 0, NULL, 0, &plain), ==, 0);
    g_assert_cmpint(set_dirty(&fx, plain, 1), ==, EOPNOTSUPP);
    g_assert_cmpint(set_dirty(&fx, hwpt, 2), ==, EOPNOTSUPP);
    g_assert_cmpint(set_dirty(&fx, 999, 1), ==, ENOENT);

    /* writes before tracking are not recorded */
    g_assert_cmpint(sim_device_dma(fx.dev, SIM_NO_PASID, base, &v, 1, true),
                    ==, 0);
    g_assert_cmpint(set_dirty(&fx, hwpt, IOMMU_HWPT_DIRTY_TRACKING_ENABLE), ==,
                    0);
    g_assert_cmpint(sim_device_dma(fx.dev, SIM_NO_PASID, base + 5 * P + 7, &v,
                                   1, true), ==, 0);
    g_assert_cmpint(sim_device_dma(fx.dev, SIM_NO_PASID, base + 9 * P - 1,
                                   fx.buf, 2, true), ==, 0);   /* 8 and 9 */
    g_assert_cmpint(sim_device_dma(fx.dev, SIM_NO_PASID, base + 20 * P, &v, 1,
                                   false), ==, 0);              /* a read */
    /* #36: an unaligned bitmap buffer */
    bitmap = fx.buf + P + 0xff1;
    memset(bitmap, 0, 16);
    g_assert_cmpint(get_dirty(&fx, hwpt, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR,
                              base, BUF_PAGES * P, P, bitmap), ==, 0);
    g_assert_cmphex(bitmap[0], ==, 1 << 5);
    g_assert_cmphex(bitmap[1], ==, 0x3);
    g_assert_cmphex(bitmap[2], ==, 0);
    memset(bitmap, 0, 16);
    /* NO_CLEAR kept them; at 2x page size bits merge */
    g_assert_cmpint(get_dirty(&fx, hwpt, 0, base, BUF_PAGES * P, 2 * P,
                              bitmap), ==, 0);
    g_assert_cmphex(bitmap[0], ==, (1 << 2) | (1 << 4));
    memset(bitmap, 0, 16);
    g_assert_cmpint(get_dirty(&fx, hwpt, 0, base, BUF_PAGES * P, P, bitmap),
                    ==, 0);
    g_assert_cmphex(bitmap[0] | bitmap[1], ==, 0);      /* cleared */
    /* range rules */
    g_assert_cmpint(get_dirty(&fx, hwpt, 0, base + 1, P, P, bitmap), ==,
                    EINVAL);
    g_assert_cmpint(get_dirty(&fx, hwpt, 0, base, P, 0, bitmap), ==, EINVAL);
    g_assert_cmpint(get_dirty(&fx, hwpt, 0, base, P, 2 * P, bitmap), ==,
                    EINVAL);
    g_assert_cmpint(get_dirty(&fx, hwpt, 0, UINT64_MAX - P + 1, 2 * P, P,
                              bitmap), ==, EOVERFLOW);
    g_assert_cmpint(get_dirty(&fx, hwpt, 4, base, P, P, bitmap), ==,
                    EOPNOTSUPP);
    g_assert_cmpint(get_dirty(&fx, plain, 0, base, P, P, bitmap), ==,
                    EOPNOTSUPP);
    /* re-enabling clears old bits; disabled tracking records nothing */
    g_assert_cmpint(sim_device_dma(fx.dev, SIM_NO_PASID, base, &v, 1, true),
                    ==, 0);
    g_assert_cmpint(set_dirty(&fx, hwpt, 0), ==, 0);
    g_assert_cmpint(sim_device_dma(fx.dev, SIM_NO_PASID, base + P, &v, 1,
                                   true), ==, 0);
    g_assert_cmpint(set_dirty(&fx, hwpt, IOMMU_HWPT_DIRTY_TRACKING_ENABLE), ==,
                    0);
    memset(bitmap, 0, 16);
    g_assert_cmpint(get_dirty(&fx, hwpt, 0, base, BUF_PAGES * P, P, bitmap),
                    ==, 0);
    g_assert_cmphex(bitmap[0], ==, 0);
    fx_close(&fx);
}

/* ---- fault log, teardown ------------------------------------------------- */

static void test_fault_log(void)
{
    SimFaultRecord recs[SIM_FAULT_LOG_SIZE + 8];
    uint8_t v;
    Fx fx;
    int n;

    fx_setup(&fx);
    for (int i = 0; i < SIM_FAULT_LOG_SIZE + 10; i++) {
        g_assert_cmpint(sim_device_dma(fx.dev, SIM_NO_PASID, i * P, &v, 1,
                                       false), ==, -EFAULT);
    }
    g_assert_cmpint(sim_fault_log_read(fx.h, recs, 3), ==, 3);
    g_assert_cmpint(recs[0].seq, ==, 11);               /* oldest dropped */
    g_assert_cmphex(recs[0].iova, ==, 10 * P);
    n = sim_fault_log_read(fx.h, recs, G_N_ELEMENTS(recs));
    g_assert_cmpint(n, ==, SIM_FAULT_LOG_SIZE - 3);
    g_assert_cmpint(recs[n - 1].seq, ==, SIM_FAULT_LOG_SIZE + 10);
    g_assert_cmpint(sim_fault_log_read(fx.h, recs, 4), ==, 0);
    g_assert_cmpint(sim_fault_log_read(fx.h, NULL, 4), ==, -EINVAL);
    fx_close(&fx);
}

/* A bound device keeps its context after /dev/iommu closes (the kernel's
 * file reference); everything goes with the last user, no fd left over. */
static void test_teardown(void)
{
    int before = count_fds();
    uint32_t ioas, pt;
    uint8_t v = 9;
    Fx fx;

    fx_setup(&fx);
    ioas = ioas_alloc(&fx);
    g_assert_cmpint(map_fixed(&fx, ioas, 0x100000, fx.buf, P), ==, 0);
    bind_dev(&fx, fx.dev);
    pt = ioas;
    g_assert_cmpint(attach(&fx, fx.dev, SIM_NO_PASID, &pt), ==, 0);
    g_assert_cmpint(sim_close(fx.h, fx.fd), ==, 0);
    fx.fd = -1;
    g_assert_cmpint(sim_device_dma(fx.dev, SIM_NO_PASID, 0x100000, &v, 1,
                                   true), ==, 0);
    g_assert_cmpint(fx.buf[0], ==, 9);
    g_assert_cmpint(sim_host_remove_device(fx.h, fx.dev), ==, -EBUSY);
    unbind(&fx, fx.dev);
    g_assert_cmpint(sim_device_dma(fx.dev, SIM_NO_PASID, 0x100000, &v, 1,
                                   true), ==, -EFAULT);
    g_assert_cmpint(sim_host_remove_device(fx.h, fx.dev), ==, 0);
    g_assert_null(sim_host_find_device(fx.h, "0000:02:00.0"));
    fx_close(&fx);
    g_assert_cmpint(count_fds(), ==, before);
}

/* ---- the interval tree against a brute-force model ---------------------- */

static int itree_check(SimItreeNode *n, uint64_t *max_last)
{
    int hl, hr;
    uint64_t ml = 0, mr = 0;

    if (!n) {
        *max_last = 0;
        return 0;
    }
    hl = itree_check(n->left, &ml);
    hr = itree_check(n->right, &mr);
    g_assert_cmpint(abs(hl - hr), <=, 1);
    g_assert_cmpint(n->height, ==, 1 + MAX(hl, hr));
    g_assert_true(!n->left || n->left->parent == n);
    g_assert_true(!n->right || n->right->parent == n);
    g_assert_true(!n->left || n->left->start <= n->start);
    g_assert_true(!n->right || n->right->start >= n->start);
    *max_last = MAX(n->last, MAX(n->left ? ml : 0, n->right ? mr : 0));
    g_assert_cmphex(n->subtree_last, ==, *max_last);
    return n->height;
}

static void test_itree(void)
{
    enum { N = 400 };
    SimItreeNode nodes[N];
    bool in[N] = { false };
    GRand *rnd = g_rand_new_with_seed(42);
    SimItree t;
    uint64_t ml;

    sim_itree_init(&t);
    for (int step = 0; step < 20000; step++) {
        int i = g_rand_int_range(rnd, 0, N);

        if (in[i]) {
            sim_itree_remove(&t, &nodes[i]);
            in[i] = false;
        } else {
            nodes[i].start = g_rand_int_range(rnd, 0, 10000);
            nodes[i].last = nodes[i].start + g_rand_int_range(rnd, 0, 300);
            sim_itree_insert(&t, &nodes[i]);
            in[i] = true;
        }
        if (step % 97 == 0) {
            uint64_t qs = g_rand_int_range(rnd, 0, 10400), ql;
            unsigned expect = 0, got = 0;
            uint64_t prev = 0;

            ql = qs + g_rand_int_range(rnd, 0, 500);
            itree_check(t.root, &ml);
            for (int j = 0; j < N; j++) {
                expect += in[j] && nodes[j].start <= ql && nodes[j].last >= qs;
            }
            for (SimItreeNode *n = sim_itree_first_overlap(&t, qs, ql); n;
                 n = sim_itree_next_overlap(n, qs, ql)) {
                g_assert_true(n->start <= ql && n->last >= qs);
                g_assert_cmpuint(n->start, >=, prev);
                prev = n->start;
                got++;
            }
            g_assert_cmpuint(got, ==, expect);
        }
    }
    g_assert_cmpuint(t.count, ==, (size_t)({
        int c = 0;
        for (int j = 0; j < N; j++) {
            c += in[j];
        }
        c;
    }));
    g_rand_free(rnd);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sim/iommu/dma/paging", test_dma_paging);
    g_test_add_func("/sim/iommu/dma/nested-stale-until-invalidate",
                    test_dma_nested);
    g_test_add_func("/sim/iommu/hwpt/invalidate-errors",
                    test_invalidate_errors);
    g_test_add_func("/sim/iommu/hwpt/dirty-bitmap", test_dirty);
    g_test_add_func("/sim/iommu/fault-log/overflow", test_fault_log);
    g_test_add_func("/sim/iommu/teardown/no-leaks", test_teardown);
    g_test_add_func("/sim/itree/random-vs-model", test_itree);
    return g_test_run();
}
