/*
 * Memory API: flattening, listeners, the data path and IOMMU regions.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "system/memory.h"

#define PAGE 0x1000

#define CONTAINER_OF(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))

/* Name of the region the flat view of as shows at addr. */
static const char *name_at(AddressSpace *as, hwaddr addr)
{
    const FlatView *fv = as->current_map;
    unsigned i = flatview_find(fv, addr);

    if (i == fv->nr || fv->ranges[i].start > addr) {
        return "unassigned";
    }
    return fv->ranges[i].mr->name;
}

static void init_ram(MemoryRegion *mr, const char *name, uint64_t size)
{
    g_assert_true(memory_region_init_ram(mr, NULL, name, size,
                                         &error_abort));
}

/* --- A logging MMIO device ----------------------------------------------- */

typedef struct TestDev {
    MemoryRegion mr;
    uint8_t regs[16];
    GString *log;           /* "r<size>@<addr>;" "w<size>@<addr>=<val>;" */
    bool refuse_writes;
} TestDev;

static uint64_t dev_read(void *opaque, hwaddr addr, unsigned size)
{
    TestDev *d = opaque;
    uint64_t v = 0;
    unsigned i;

    g_string_append_printf(d->log, "r%u@%" PRIx64 ";", size, addr);
    for (i = 0; i < size; i++) {
        v |= (uint64_t)d->regs[(addr + i) % 16] << (8 * i);
    }
    return v;
}

static void dev_write(void *opaque, hwaddr addr, uint64_t v, unsigned size)
{
    TestDev *d = opaque;
    unsigned i;

    g_string_append_printf(d->log, "w%u@%" PRIx64 "=%" PRIx64 ";",
                           size, addr, v);
    for (i = 0; i < size; i++) {
        d->regs[(addr + i) % 16] = v >> (8 * i);
    }
}

static bool dev_accepts(void *opaque, hwaddr addr, unsigned size,
                        bool is_write, MemTxAttrs attrs)
{
    TestDev *d = opaque;

    return !(is_write && d->refuse_writes);
}

/* Byte registers behind a 1..4-byte bus. */
static const MemoryRegionOps split_ops = {
    .read = dev_read,
    .write = dev_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .impl.max_access_size = 1,
};

/* 32-bit registers, any access size and alignment allowed. */
static const MemoryRegionOps widen_ops = {
    .read = dev_read,
    .write = dev_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 4, .unaligned = true },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

/* Aligned 32-bit accesses only. */
static const MemoryRegionOps strict_ops = {
    .read = dev_read,
    .write = dev_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 4, .max_access_size = 4,
               .accepts = dev_accepts },
};

static void dev_init(TestDev *d, const MemoryRegionOps *ops)
{
    unsigned i;

    memset(d, 0, sizeof(*d));
    for (i = 0; i < 16; i++) {
        d->regs[i] = i;
    }
    d->log = g_string_new("");
    memory_region_init_io(&d->mr, NULL, ops, d, "dev", 16);
}

static void dev_finalize(TestDev *d)
{
    memory_region_finalize(&d->mr);
    g_string_free(d->log, true);
}

/* A root container with one device at 0x100. */
typedef struct DevSpace {
    MemoryRegion root;
    AddressSpace as;
    TestDev dev;
} DevSpace;

static void dev_space_init(DevSpace *s, const MemoryRegionOps *ops)
{
    memory_region_init(&s->root, NULL, "root", 0x10000);
    address_space_init(&s->as, &s->root, "test");
    dev_init(&s->dev, ops);
    memory_region_add_subregion(&s->root, 0x100, &s->dev.mr);
}

static void dev_space_destroy(DevSpace *s)
{
    address_space_destroy(&s->as);
    dev_finalize(&s->dev);
    memory_region_finalize(&s->root);
}

/* --- RAM and flattening -------------------------------------------------- */

static void test_ram_read_write(void)
{
    MemoryRegion root, ram;
    AddressSpace as;
    uint8_t buf[16], *host;
    MemTxResult r;

    memory_region_init(&root, NULL, "root", UINT64_MAX);
    address_space_init(&as, &root, "test");
    init_ram(&ram, "ram", 0x2000);
    memory_region_add_subregion(&root, 0x1000, &ram);
    host = memory_region_get_ram_ptr(&ram);
    g_assert_nonnull(host);
    g_assert_true(memory_region_is_ram(&ram));
    g_assert_cmpuint(memory_region_size(&ram), ==, 0x2000);
    g_assert_cmpstr(memory_region_name(&ram), ==, "ram");
    g_assert_cmpuint((uintptr_t)host % 4096, ==, 0);
    g_assert_cmpuint(host[0x1fff], ==, 0);

    memcpy(buf, "0123456789abcdef", 16);
    r = address_space_write(&as, 0x1100, MEMTXATTRS_UNSPECIFIED, buf, 16);
    g_assert_cmpuint(r, ==, MEMTX_OK);
    g_assert_cmpmem(host + 0x100, 16, buf, 16);

    /* The last 8 bytes fall off the end of RAM into nothing. */
    memset(buf, 0xaa, sizeof(buf));
    r = address_space_read(&as, 0x2ff8, MEMTXATTRS_UNSPECIFIED, buf, 16);
    g_assert_cmpuint(r, ==, MEMTX_DECODE_ERROR);
    g_assert_cmpmem(buf, 8, host + 0x1ff8, 8);
    g_assert_cmpmem(buf + 8, 8, "\0\0\0\0\0\0\0\0", 8);

    address_space_destroy(&as);
    memory_region_finalize(&ram);
    memory_region_finalize(&root);
}

static void test_flatview_overlap_priority(void)
{
    MemoryRegion root, low, high, a, b, under;
    AddressSpace as;
    const FlatView *fv;

    memory_region_init(&root, NULL, "root", 0x10000);
    address_space_init(&as, &root, "test");
    init_ram(&high, "high", 0x1000);
    init_ram(&low, "low", 0x4000);
    /* Added first, still wins: priority, not order. */
    memory_region_add_subregion_overlap(&root, 0x1000, &high, 1);
    memory_region_add_subregion(&root, 0, &low);

    fv = as.current_map;
    g_assert_cmpuint(fv->nr, ==, 3);
    g_assert_true(fv->ranges[0].mr == &low);
    g_assert_cmphex(fv->ranges[0].start, ==, 0);
    g_assert_cmphex(fv->ranges[0].last, ==, 0xfff);
    g_assert_true(fv->ranges[1].mr == &high);
    g_assert_cmphex(fv->ranges[1].start, ==, 0x1000);
    g_assert_cmphex(fv->ranges[1].offset_in_region, ==, 0);
    g_assert_true(fv->ranges[2].mr == &low);
    g_assert_cmphex(fv->ranges[2].start, ==, 0x2000);
    g_assert_cmphex(fv->ranges[2].last, ==, 0x3fff);
    g_assert_cmphex(fv->ranges[2].offset_in_region, ==, 0x2000);

    address_space_stl_le(&as, 0x1004, 0x11223344, MEMTXATTRS_UNSPECIFIED,
                         NULL);
    g_assert_cmphex(*(uint32_t *)((uint8_t *)high.ram_ptr + 4), ==,
                    0x11223344);
    g_assert_cmphex(*(uint32_t *)((uint8_t *)low.ram_ptr + 0x1004), ==, 0);

    /* Equal priority: the one added last wins. */
    init_ram(&a, "a", 0x1000);
    init_ram(&b, "b", 0x1000);
    memory_region_add_subregion(&root, 0x8000, &a);
    memory_region_add_subregion(&root, 0x8000, &b);
    g_assert_cmpstr(name_at(&as, 0x8800), ==, "b");

    /* Lower priority shows only where nothing else does. */
    init_ram(&under, "under", 0x6000);
    memory_region_add_subregion_overlap(&root, 0x3000, &under, -1);
    g_assert_cmpstr(name_at(&as, 0x3fff), ==, "low");
    g_assert_cmpstr(name_at(&as, 0x4000), ==, "under");
    g_assert_cmpstr(name_at(&as, 0x8000), ==, "b");
    g_assert_cmpstr(name_at(&as, 0x9000), ==, "unassigned");

    address_space_destroy(&as);
    memory_region_finalize(&under);
    memory_region_finalize(&a);
    memory_region_finalize(&b);
    memory_region_finalize(&low);
    memory_region_finalize(&high);
    memory_region_finalize(&root);
}

static void test_alias_offset(void)
{
    MemoryRegion root, ram, win, tail;
    AddressSpace as;
    uint8_t *host;

    memory_region_init(&root, NULL, "root", 0x100000);
    address_space_init(&as, &root, "test");
    init_ram(&ram, "ram", 0x4000);
    host = ram.ram_ptr;
    memory_region_init_alias(&win, NULL, "win", &ram, 0x1000, 0x1000);
    memory_region_add_subregion(&root, 0x10000, &win);

    address_space_stl_le(&as, 0x10010, 0xcafef00d, MEMTXATTRS_UNSPECIFIED,
                         NULL);
    g_assert_cmphex(*(uint32_t *)(host + 0x1010), ==, 0xcafef00d);
    g_assert_cmpstr(name_at(&as, 0x10000), ==, "ram");
    g_assert_cmpstr(name_at(&as, 0x11000), ==, "unassigned");

    memory_region_set_alias_offset(&win, 0x2000);
    host[0x2010] = 0x5a;
    g_assert_cmphex(address_space_ldub(&as, 0x10010, MEMTXATTRS_UNSPECIFIED,
                                       NULL), ==, 0x5a);
    g_assert_true(memory_region_get_ram_ptr(&win) == host + 0x2000);

    /* A window reaching past the end of its target shows what exists. */
    memory_region_init_alias(&tail, NULL, "tail", &ram, 0x3000, 0x2000);
    memory_region_add_subregion(&root, 0x20000, &tail);
    g_assert_cmpstr(name_at(&as, 0x20fff), ==, "ram");
    g_assert_cmpstr(name_at(&as, 0x21000), ==, "unassigned");

    address_space_destroy(&as);
    memory_region_finalize(&tail);
    memory_region_finalize(&win);
    memory_region_finalize(&ram);
    memory_region_finalize(&root);
}

static void test_region_enable_disable(void)
{
    MemoryRegion root, bg, fg;
    AddressSpace as;

    memory_region_init(&root, NULL, "root", 0x10000);
    address_space_init(&as, &root, "test");
    init_ram(&bg, "bg", 0x2000);
    init_ram(&fg, "fg", 0x1000);
    memory_region_add_subregion(&root, 0, &bg);
    memory_region_add_subregion_overlap(&root, 0, &fg, 1);
    g_assert_cmpstr(name_at(&as, 0), ==, "fg");

    memory_region_set_enabled(&fg, false);
    g_assert_cmpstr(name_at(&as, 0), ==, "bg");
    memory_region_set_enabled(&fg, true);
    g_assert_cmpstr(name_at(&as, 0), ==, "fg");

    memory_region_set_address(&fg, 0x1000);
    g_assert_cmpstr(name_at(&as, 0), ==, "bg");
    g_assert_cmpstr(name_at(&as, 0x1000), ==, "fg");

    memory_region_del_subregion(&root, &fg);
    g_assert_cmpstr(name_at(&as, 0x1000), ==, "bg");
    g_assert_null(fg.container);

    /* A disabled root shows nothing. */
    memory_region_set_enabled(&root, false);
    g_assert_cmpuint(as.current_map->nr, ==, 0);
    memory_region_set_enabled(&root, true);

    address_space_destroy(&as);
    memory_region_finalize(&fg);
    memory_region_finalize(&bg);
    memory_region_finalize(&root);
}

static void test_flatview_nested(void)
{
    MemoryRegion root, c1, c2, ram, big, top;
    AddressSpace as;
    TestDev dev;
    const FlatView *fv;

    memory_region_init(&root, NULL, "root", UINT64_MAX);
    address_space_init(&as, &root, "test");
    memory_region_init(&c1, NULL, "c1", 0x10000);
    memory_region_init(&c2, NULL, "c2", 0x800);
    init_ram(&ram, "ram", 0x100);
    memory_region_add_subregion(&c2, 0x7c0, &ram);
    memory_region_add_subregion(&c1, 0x1000, &c2);
    memory_region_add_subregion(&root, 0x100000, &c1);

    /* Offsets add up; c2 clips ram to its first 0x40 bytes. */
    fv = as.current_map;
    g_assert_cmpuint(fv->nr, ==, 1);
    g_assert_cmphex(fv->ranges[0].start, ==, 0x1017c0);
    g_assert_cmphex(fv->ranges[0].last, ==, 0x1017ff);
    g_assert_cmphex(fv->ranges[0].offset_in_region, ==, 0);

    /* An I/O window inside RAM: RAM shows around it. */
    init_ram(&big, "big", 0x3000);
    dev_init(&dev, &split_ops);
    memory_region_add_subregion(&big, 0x1000, &dev.mr);
    memory_region_add_subregion(&root, 0x200000, &big);
    g_assert_cmpstr(name_at(&as, 0x200fff), ==, "big");
    g_assert_cmpstr(name_at(&as, 0x201000), ==, "dev");
    g_assert_cmpstr(name_at(&as, 0x201010), ==, "big");
    g_assert_cmphex(address_space_ldub(&as, 0x201003, MEMTXATTRS_UNSPECIFIED,
                                       NULL), ==, 3);

    /* A region reaching past 2^64 is clipped there. */
    init_ram(&top, "top", 0x2000);
    memory_region_add_subregion(&root, HWADDR_MAX - 0xfff, &top);
    g_assert_cmpstr(name_at(&as, HWADDR_MAX), ==, "top");
    address_space_stb(&as, HWADDR_MAX, 0x77, MEMTXATTRS_UNSPECIFIED, NULL);
    g_assert_cmphex(((uint8_t *)top.ram_ptr)[0xfff], ==, 0x77);

    /* Finalizing a mapped container unmaps it and its children. */
    address_space_destroy(&as);
    memory_region_finalize(&top);
    memory_region_finalize(&c1);
    g_assert_null(c2.container);
    memory_region_finalize(&c2);
    memory_region_finalize(&ram);
    memory_region_finalize(&big);
    dev_finalize(&dev);
    memory_region_finalize(&root);
}

/* --- I/O regions --------------------------------------------------------- */

static void test_mmio_split(void)
{
    DevSpace s;
    MemTxResult r;

    dev_space_init(&s, &split_ops);
    g_assert_cmphex(address_space_ldl_le(&s.as, 0x104,
                                         MEMTXATTRS_UNSPECIFIED, &r),
                    ==, 0x07060504);
    g_assert_cmpuint(r, ==, MEMTX_OK);
    g_assert_cmpstr(s.dev.log->str, ==, "r1@4;r1@5;r1@6;r1@7;");

    g_string_truncate(s.dev.log, 0);
    address_space_stl_le(&s.as, 0x108, 0xaabbccdd, MEMTXATTRS_UNSPECIFIED,
                         &r);
    g_assert_cmpuint(r, ==, MEMTX_OK);
    g_assert_cmpstr(s.dev.log->str, ==, "w1@8=dd;w1@9=cc;w1@a=bb;w1@b=aa;");
    dev_space_destroy(&s);
}

static void test_mmio_widen(void)
{
    DevSpace s;
    MemTxResult r;

    dev_space_init(&s, &widen_ops);
    g_assert_cmphex(address_space_ldub(&s.as, 0x102, MEMTXATTRS_UNSPECIFIED,
                                       &r), ==, 2);
    g_assert_cmpstr(s.dev.log->str, ==, "r4@0;");

    /* Narrow writes reach the device widened with zero bytes. */
    g_string_truncate(s.dev.log, 0);
    address_space_stb(&s.as, 0x101, 0x5a, MEMTXATTRS_UNSPECIFIED, &r);
    g_assert_cmpstr(s.dev.log->str, ==, "w4@0=5a00;");

    /* Unaligned for the device: two aligned 32-bit accesses. */
    g_string_truncate(s.dev.log, 0);
    g_assert_cmphex(address_space_lduw_le(&s.as, 0x107,
                                          MEMTXATTRS_UNSPECIFIED, &r),
                    ==, 0x0807);
    g_assert_cmpuint(r, ==, MEMTX_OK);
    g_assert_cmpstr(s.dev.log->str, ==, "r4@4;r4@8;");
    dev_space_destroy(&s);
}

static void test_mmio_reject(void)
{
    DevSpace s;
    MemTxResult r;
    uint8_t buf[8];

    dev_space_init(&s, &strict_ops);
    g_assert_cmphex(address_space_ldub(&s.as, 0x100, MEMTXATTRS_UNSPECIFIED,
                                       &r), ==, 0);
    g_assert_cmpuint(r, ==, MEMTX_DECODE_ERROR);
    g_assert_cmphex(address_space_ldl_le(&s.as, 0x102,
                                         MEMTXATTRS_UNSPECIFIED, &r), ==, 0);
    g_assert_cmpuint(r, ==, MEMTX_DECODE_ERROR);
    /* Typed accesses are one access: 8 bytes is too wide. */
    g_assert_cmphex(address_space_ldq_le(&s.as, 0x100,
                                         MEMTXATTRS_UNSPECIFIED, &r), ==, 0);
    g_assert_cmpuint(r, ==, MEMTX_DECODE_ERROR);
    g_assert_cmpstr(s.dev.log->str, ==, "");

    g_assert_cmphex(address_space_ldl_le(&s.as, 0x104,
                                         MEMTXATTRS_UNSPECIFIED, &r),
                    ==, 0x07060504);
    g_assert_cmpuint(r, ==, MEMTX_OK);

    /* accepts() refuses: dropped. */
    s.dev.refuse_writes = true;
    address_space_stl_le(&s.as, 0x104, 0xffffffff, MEMTXATTRS_UNSPECIFIED,
                         &r);
    g_assert_cmpuint(r, ==, MEMTX_DECODE_ERROR);
    g_assert_cmphex(s.dev.regs[4], ==, 4);
    g_assert_false(address_space_access_valid(&s.as, 0x104, 4, true,
                                              MEMTXATTRS_UNSPECIFIED));
    g_assert_true(address_space_access_valid(&s.as, 0x104, 4, false,
                                             MEMTXATTRS_UNSPECIFIED));

    /* A buffer is split into the widest valid accesses. */
    g_string_truncate(s.dev.log, 0);
    r = address_space_read(&s.as, 0x100, MEMTXATTRS_UNSPECIFIED, buf, 8);
    g_assert_cmpuint(r, ==, MEMTX_OK);
    g_assert_cmpstr(s.dev.log->str, ==, "r4@0;r4@4;");
    g_assert_cmpmem(buf, 8, "\0\1\2\3\4\5\6\7", 8);
    dev_space_destroy(&s);
}

/* --- Listeners ----------------------------------------------------------- */

typedef struct TestListener {
    MemoryListener l;
    const char *tag;
    GString *log;
} TestListener;

static void tl_begin(MemoryListener *l)
{
    TestListener *t = CONTAINER_OF(l, TestListener, l);

    g_string_append_printf(t->log, "%s:begin;", t->tag);
}

static void tl_commit(MemoryListener *l)
{
    TestListener *t = CONTAINER_OF(l, TestListener, l);

    g_string_append_printf(t->log, "%s:commit;", t->tag);
}

static void tl_section(MemoryListener *l, MemoryRegionSection *s,
                       const char *what)
{
    TestListener *t = CONTAINER_OF(l, TestListener, l);

    g_string_append_printf(t->log, "%s:%s %s %" PRIx64 "+%" PRIx64
                           "@%" PRIx64 ";", t->tag, what, s->mr->name,
                           s->offset_within_address_space, s->size,
                           s->offset_within_region);
}

static void tl_add(MemoryListener *l, MemoryRegionSection *s)
{
    tl_section(l, s, "add");
}

static void tl_del(MemoryListener *l, MemoryRegionSection *s)
{
    tl_section(l, s, "del");
}

static void tl_init(TestListener *t, const char *tag, unsigned priority,
                    GString *log)
{
    *t = (TestListener) {
        .l = {
            .begin = tl_begin,
            .commit = tl_commit,
            .region_add = tl_add,
            .region_del = tl_del,
            .priority = priority,
            .name = tag,
        },
        .tag = tag,
        .log = log,
    };
}

#define ASSERT_LOG(log, expected)                       \
    do {                                                \
        g_assert_cmpstr((log)->str, ==, (expected));    \
        g_string_truncate((log), 0);                    \
    } while (0)

static void test_listener_add_del(void)
{
    MemoryRegion root, r1, r2, r3, other_root, other;
    AddressSpace as, other_as;
    TestListener a, b;
    GString *log = g_string_new("");

    memory_region_init(&root, NULL, "root", 0x10000);
    address_space_init(&as, &root, "test");
    init_ram(&r1, "r1", 0x1000);
    init_ram(&r2, "r2", 0x1000);
    init_ram(&r3, "r3", 0x1000);
    memory_region_add_subregion(&root, 0x1000, &r1);

    /* Registration replays what exists; b registered first, runs second. */
    tl_init(&a, "A", 10, log);
    tl_init(&b, "B", 20, log);
    memory_listener_register(&b.l, &as);
    ASSERT_LOG(log, "B:begin;B:add r1 1000+1000@0;B:commit;");
    memory_listener_register(&a.l, &as);
    ASSERT_LOG(log, "A:begin;A:add r1 1000+1000@0;A:commit;");

    memory_region_add_subregion(&root, 0x3000, &r2);
    ASSERT_LOG(log, "A:begin;B:begin;A:add r2 3000+1000@0;"
                    "B:add r2 3000+1000@0;A:commit;B:commit;");

    /* A move is a del (descending priority) plus an add (ascending). */
    memory_region_set_address(&r2, 0x5000);
    ASSERT_LOG(log, "A:begin;B:begin;B:del r2 3000+1000@0;"
                    "A:del r2 3000+1000@0;A:add r2 5000+1000@0;"
                    "B:add r2 5000+1000@0;A:commit;B:commit;");

    /* One transaction, one begin/commit; all dels before adds. */
    memory_region_transaction_begin();
    memory_region_add_subregion(&root, 0x8000, &r3);
    memory_region_del_subregion(&root, &r1);
    memory_region_transaction_commit();
    ASSERT_LOG(log, "A:begin;B:begin;B:del r1 1000+1000@0;"
                    "A:del r1 1000+1000@0;A:add r3 8000+1000@0;"
                    "B:add r3 8000+1000@0;A:commit;B:commit;");

    /* Partly covered: the old section goes, its visible parts come. */
    memory_region_add_subregion_overlap(&root, 0x8800, &r1, 1);
    ASSERT_LOG(log, "A:begin;B:begin;B:del r3 8000+1000@0;"
                    "A:del r3 8000+1000@0;A:add r3 8000+800@0;"
                    "B:add r3 8000+800@0;A:add r1 8800+1000@0;"
                    "B:add r1 8800+1000@0;A:commit;B:commit;");
    memory_region_del_subregion(&root, &r1);
    g_string_truncate(log, 0);

    /* No change, or a change in another address space: nothing. */
    memory_region_set_enabled(&r2, true);
    memory_region_init(&other_root, NULL, "other-root", 0x10000);
    address_space_init(&other_as, &other_root, "other");
    init_ram(&other, "other", 0x1000);
    memory_region_add_subregion(&other_root, 0, &other);
    ASSERT_LOG(log, "");

    /* Removed and put back in one transaction: the view is unchanged. */
    memory_region_transaction_begin();
    memory_region_del_subregion(&root, &r2);
    memory_region_add_subregion(&root, 0x5000, &r2);
    memory_region_transaction_commit();
    ASSERT_LOG(log, "");

    memory_listener_unregister(&a.l);
    ASSERT_LOG(log, "A:begin;A:del r2 5000+1000@0;A:del r3 8000+1000@0;"
                    "A:commit;");
    g_assert_null(a.l.address_space);
    memory_listener_unregister(&a.l);
    ASSERT_LOG(log, "");

    /* Destroying the space takes the remaining listeners off. */
    address_space_destroy(&as);
    ASSERT_LOG(log, "B:begin;B:del r2 5000+1000@0;B:del r3 8000+1000@0;"
                    "B:commit;");
    g_assert_null(b.l.address_space);

    address_space_destroy(&other_as);
    memory_region_finalize(&other);
    memory_region_finalize(&other_root);
    memory_region_finalize(&r1);
    memory_region_finalize(&r2);
    memory_region_finalize(&r3);
    memory_region_finalize(&root);
    g_string_free(log, true);
}

/* --- Data path ----------------------------------------------------------- */

static void test_unassigned_memory_vs_io(void)
{
    MemTxResult r;

    memory_init_system();
    g_assert_true(address_space_memory.root == get_system_memory());
    g_assert_true(address_space_io.root == get_system_io());
    g_assert_cmpuint(memory_region_size(get_system_io()), ==, 65536);

    g_assert_cmphex(address_space_ldl_le(&address_space_memory, 0xdead0000,
                                         MEMTXATTRS_UNSPECIFIED, &r), ==, 0);
    g_assert_cmpuint(r, ==, MEMTX_DECODE_ERROR);
    g_assert_cmphex(address_space_ldl_le(&address_space_io, 0x1234,
                                         MEMTXATTRS_UNSPECIFIED, &r),
                    ==, 0xffffffff);
    g_assert_cmpuint(r, ==, MEMTX_DECODE_ERROR);
    address_space_stb(&address_space_io, 0x80, 1, MEMTXATTRS_UNSPECIFIED, &r);
    g_assert_cmpuint(r, ==, MEMTX_DECODE_ERROR);
}

static void test_typed_le(void)
{
    MemoryRegion root, r1, r2;
    AddressSpace as;
    MemTxAttrs attrs = MEMTXATTRS_UNSPECIFIED;
    uint8_t *h1, *h2;
    MemTxResult r;

    memory_region_init(&root, NULL, "root", 0x10000);
    address_space_init(&as, &root, "test");
    init_ram(&r1, "r1", 0x1000);
    init_ram(&r2, "r2", 0x1000);
    memory_region_add_subregion(&root, 0, &r1);
    memory_region_add_subregion(&root, 0x1000, &r2);
    h1 = r1.ram_ptr;
    h2 = r2.ram_ptr;

    address_space_stq_le(&as, 0x10, 0x0102030405060708ULL, attrs, &r);
    g_assert_cmpuint(r, ==, MEMTX_OK);
    g_assert_cmpmem(h1 + 0x10, 8, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
    g_assert_cmphex(address_space_ldl_le(&as, 0x14, attrs, &r), ==,
                    0x01020304);
    g_assert_cmphex(address_space_lduw_le(&as, 0x11, attrs, &r), ==, 0x0607);
    g_assert_cmphex(address_space_ldub(&as, 0x17, attrs, &r), ==, 0x01);
    address_space_stw_le(&as, 0x20, 0xbeef, attrs, &r);
    address_space_stb(&as, 0x22, 0x7f, attrs, &r);
    g_assert_cmpmem(h1 + 0x20, 3, "\xef\xbe\x7f", 3);

    /* Across two sections. */
    address_space_stl_le(&as, 0xffe, 0xa1b2c3d4, attrs, &r);
    g_assert_cmpuint(r, ==, MEMTX_OK);
    g_assert_cmpmem(h1 + 0xffe, 2, "\xd4\xc3", 2);
    g_assert_cmpmem(h2, 2, "\xb2\xa1", 2);
    g_assert_cmphex(address_space_ldl_le(&as, 0xffe, attrs, &r), ==,
                    0xa1b2c3d4);
    g_assert_cmphex(address_space_ldq_le(&as, 0xffc, attrs, &r), ==,
                    0x0000a1b2c3d40000ULL);

    /* Read-only RAM: writes dropped. */
    memory_region_set_readonly(&r2, true);
    address_space_stb(&as, 0x1000, 0, attrs, &r);
    g_assert_cmpuint(r, ==, MEMTX_DECODE_ERROR);
    g_assert_cmphex(h2[0], ==, 0xb2);

    address_space_destroy(&as);
    memory_region_finalize(&r1);
    memory_region_finalize(&r2);
    memory_region_finalize(&root);
}

static void test_map(void)
{
    MemoryRegion root, ram, ram2, rom;
    AddressSpace as;
    TestDev dev;
    MemTxAttrs attrs = MEMTXATTRS_UNSPECIFIED;
    hwaddr len;
    void *p;

    memory_region_init(&root, NULL, "root", 0x100000);
    address_space_init(&as, &root, "test");
    init_ram(&ram, "ram", 0x2000);
    init_ram(&ram2, "ram2", 0x1000);
    init_ram(&rom, "rom", 0x1000);
    memory_region_set_readonly(&rom, true);
    dev_init(&dev, &split_ops);
    memory_region_add_subregion(&root, 0x10000, &ram);
    memory_region_add_subregion(&root, 0x12000, &dev.mr);
    memory_region_add_subregion(&root, 0x20000, &rom);
    memory_region_add_subregion(&root, 0x21000, &ram2);

    len = 0x100;
    p = address_space_map(&as, 0x10010, &len, true, attrs);
    g_assert_true(p == (uint8_t *)ram.ram_ptr + 0x10);
    g_assert_cmphex(len, ==, 0x100);
    address_space_unmap(&as, p, len, true, len);

    /* RAM then I/O: no pointer. */
    len = 0x200;
    g_assert_null(address_space_map(&as, 0x11f00, &len, false, attrs));
    g_assert_cmphex(len, ==, 0);

    /* Two RAM regions, even if adjacent in host memory: no pointer. */
    len = 0x200;
    g_assert_null(address_space_map(&as, 0x20f00, &len, false, attrs));
    len = 0x100;
    g_assert_nonnull(address_space_map(&as, 0x20f00, &len, false, attrs));
    len = 0x100;
    g_assert_null(address_space_map(&as, 0x20f00, &len, true, attrs));
    len = 0x100;
    g_assert_null(address_space_map(&as, 0x30000, &len, false, attrs));

    address_space_destroy(&as);
    memory_region_finalize(&ram);
    memory_region_finalize(&ram2);
    memory_region_finalize(&rom);
    dev_finalize(&dev);
    memory_region_finalize(&root);
}

/* --- A test IOMMU: a table of 4 KiB page mappings ------------------------ */

typedef struct TestMapping {
    hwaddr iova, gpa;
    IOMMUAccessFlags perm;
} TestMapping;

typedef struct TestIOMMU {
    IOMMUMemoryRegion iommu;
    AddressSpace *target;
    TestMapping map[16];
    unsigned nr;
    unsigned translate_calls;
    IOMMUAccessFlags last_flag;
    MemTxAttrs last_attrs;
    bool allow_map;         /* else MAP notifiers are refused */
    IOMMUNotifierFlag seen_old, seen_new;
} TestIOMMU;

static IOMMUTLBEntry test_iommu_translate(IOMMUMemoryRegion *iommu,
                                          hwaddr addr, IOMMUAccessFlags flag,
                                          MemTxAttrs attrs)
{
    TestIOMMU *t = CONTAINER_OF(iommu, TestIOMMU, iommu);
    IOMMUTLBEntry e = {
        .target_as = t->target,
        .iova = addr & ~(hwaddr)(PAGE - 1),
        .addr_mask = PAGE - 1,
        .perm = IOMMU_NONE,
    };
    unsigned i;

    t->translate_calls++;
    t->last_flag = flag;
    t->last_attrs = attrs;
    for (i = 0; i < t->nr; i++) {
        if (t->map[i].iova == e.iova) {
            e.translated_addr = t->map[i].gpa;
            e.perm = t->map[i].perm;
        }
    }
    return e;
}

static int test_iommu_flag_changed(IOMMUMemoryRegion *iommu,
                                   IOMMUNotifierFlag old_flags,
                                   IOMMUNotifierFlag new_flags, Error **errp)
{
    TestIOMMU *t = CONTAINER_OF(iommu, TestIOMMU, iommu);

    if ((new_flags & IOMMU_NOTIFIER_MAP) && !t->allow_map) {
        error_setg(errp, "test-iommu: MAP notifiers need caching mode");
        return -EINVAL;
    }
    t->seen_old = old_flags;
    t->seen_new = new_flags;
    return 0;
}

static const IOMMUMemoryRegionOps test_iommu_ops = {
    .translate = test_iommu_translate,
    .notify_flag_changed = test_iommu_flag_changed,
};

static void test_iommu_init(TestIOMMU *t, AddressSpace *target)
{
    memset(t, 0, sizeof(*t));
    t->target = target;
    t->allow_map = true;
    memory_region_init_iommu(&t->iommu, &test_iommu_ops, NULL, "test-iommu",
                             UINT64_MAX);
}

/* Changes the table and notifies, as a vIOMMU does on invalidation. */
static void test_iommu_map(TestIOMMU *t, hwaddr iova, hwaddr gpa,
                           IOMMUAccessFlags perm)
{
    IOMMUTLBEvent ev = {
        .type = IOMMU_NOTIFIER_MAP,
        .entry = { .target_as = t->target, .iova = iova,
                   .translated_addr = gpa, .addr_mask = PAGE - 1,
                   .perm = perm },
    };

    g_assert_cmpuint(t->nr, <, G_N_ELEMENTS(t->map));
    t->map[t->nr++] = (TestMapping) { iova, gpa, perm };
    memory_region_notify_iommu(&t->iommu, &ev);
}

static void test_iommu_unmap(TestIOMMU *t, hwaddr iova)
{
    IOMMUTLBEvent ev = {
        .type = IOMMU_NOTIFIER_UNMAP,
        .entry = { .target_as = t->target, .iova = iova,
                   .addr_mask = PAGE - 1, .perm = IOMMU_NONE },
    };
    unsigned i;

    for (i = 0; i < t->nr; i++) {
        if (t->map[i].iova == iova) {
            t->map[i] = t->map[--t->nr];
            break;
        }
    }
    memory_region_notify_iommu(&t->iommu, &ev);
}

/* Guest RAM at 0 in "sys", a device address space behind a TestIOMMU. */
typedef struct IOMMUSetup {
    MemoryRegion sys_root, ram;
    AddressSpace sys;
    TestIOMMU t;
    AddressSpace dev;
    uint8_t *host;
} IOMMUSetup;

static void iommu_setup(IOMMUSetup *s)
{
    memory_region_init(&s->sys_root, NULL, "sys", UINT64_MAX);
    address_space_init(&s->sys, &s->sys_root, "sys");
    init_ram(&s->ram, "ram", 0x10000);
    memory_region_add_subregion(&s->sys_root, 0, &s->ram);
    s->host = s->ram.ram_ptr;
    test_iommu_init(&s->t, &s->sys);
    address_space_init(&s->dev, &s->t.iommu.parent_obj, "dev-as");
}

static void iommu_teardown(IOMMUSetup *s)
{
    address_space_destroy(&s->dev);
    memory_region_finalize(&s->t.iommu.parent_obj);
    address_space_destroy(&s->sys);
    memory_region_finalize(&s->ram);
    memory_region_finalize(&s->sys_root);
}

static void test_iommu_data_path(void)
{
    IOMMUSetup s;
    MemTxAttrs attrs = { .requester_id = 0x0108, .pasid = 5,
                         .pasid_valid = 1 };
    MemTxResult r;
    hwaddr xlat, len = 0x100;
    IOMMUAccessFlags perm = IOMMU_RW;
    void *p;

    iommu_setup(&s);
    g_assert_true(memory_region_is_iommu(&s.t.iommu.parent_obj));
    g_assert_true(memory_region_get_iommu(&s.t.iommu.parent_obj) ==
                  &s.t.iommu);
    test_iommu_map(&s.t, 0x1000, 0x5000, perm);

    address_space_stl_le(&s.dev, 0x1010, 0xfeedface, attrs, &r);
    g_assert_cmpuint(r, ==, MEMTX_OK);
    g_assert_cmphex(*(uint32_t *)(s.host + 0x5010), ==, 0xfeedface);
    /* translate() saw who asked and what for. */
    g_assert_cmpuint(s.t.last_flag, ==, IOMMU_WO);
    g_assert_cmphex(s.t.last_attrs.requester_id, ==, 0x0108);
    g_assert_true(s.t.last_attrs.pasid_valid);
    g_assert_cmpuint(s.t.last_attrs.pasid, ==, 5);

    g_assert_cmphex(address_space_ldl_le(&s.dev, 0x1010, attrs, &r), ==,
                    0xfeedface);
    g_assert_cmpuint(s.t.last_flag, ==, IOMMU_RO);

    g_assert_true(address_space_translate(&s.dev, 0x1010, &xlat, &len, false,
                                          attrs) == &s.ram);
    g_assert_cmphex(xlat, ==, 0x5010);
    g_assert_cmphex(len, ==, 0x100);

    len = 0x100;
    p = address_space_map(&s.dev, 0x1f00, &len, true, attrs);
    g_assert_true(p == s.host + 0x5f00);
    g_assert_cmphex(len, ==, 0x100);
    /* Into an unmapped page; then into one contiguous in host memory. */
    len = 0x100;
    g_assert_null(address_space_map(&s.dev, 0x1f80, &len, true, attrs));
    test_iommu_map(&s.t, 0x2000, 0x6000, perm);
    len = 0x100;
    g_assert_true(address_space_map(&s.dev, 0x1f80, &len, true, attrs) ==
                  s.host + 0x5f80);

    /* Nothing mapped: the access fails whole, zero-filled. */
    g_assert_cmphex(address_space_ldl_le(&s.dev, 0x9000, attrs, &r), ==, 0);
    g_assert_cmpuint(r, ==, MEMTX_ACCESS_ERROR);
    iommu_teardown(&s);
}

static void test_iommu_permissions(void)
{
    IOMMUSetup s;
    MemTxAttrs attrs = MEMTXATTRS_UNSPECIFIED;
    uint8_t buf[8];
    MemTxResult r;

    iommu_setup(&s);
    test_iommu_map(&s.t, 0x0, 0x2000, IOMMU_RW);
    test_iommu_map(&s.t, 0x1000, 0x3000, IOMMU_RO);
    test_iommu_map(&s.t, 0x2000, 0x4000, IOMMU_WO);
    memset(s.host + 0x3000, 0x11, PAGE);

    address_space_stl_le(&s.dev, 0x1000, 0xdeadbeef, attrs, &r);
    g_assert_cmpuint(r, ==, MEMTX_ACCESS_ERROR);
    g_assert_cmphex(*(uint32_t *)(s.host + 0x3000), ==, 0x11111111);
    g_assert_cmphex(address_space_ldl_le(&s.dev, 0x1000, attrs, &r), ==,
                    0x11111111);
    g_assert_cmpuint(r, ==, MEMTX_OK);

    /* Write-only: reads fail zero-filled. */
    memset(buf, 0xaa, sizeof(buf));
    r = address_space_read(&s.dev, 0x2000, attrs, buf, 8);
    g_assert_cmpuint(r, ==, MEMTX_ACCESS_ERROR);
    g_assert_cmpmem(buf, 8, "\0\0\0\0\0\0\0\0", 8);

    /* RW page then RO page: the first part lands, the rest does not. */
    memcpy(buf, "ABCDEFGH", 8);
    r = address_space_write(&s.dev, 0xffc, attrs, buf, 8);
    g_assert_cmpuint(r, ==, MEMTX_ACCESS_ERROR);
    g_assert_cmpmem(s.host + 0x2ffc, 4, "ABCD", 4);
    g_assert_cmpmem(s.host + 0x3000, 4, "\x11\x11\x11\x11", 4);

    g_assert_true(address_space_access_valid(&s.dev, 0x0, 0x2000, false,
                                             attrs));
    g_assert_false(address_space_access_valid(&s.dev, 0x0, 0x2000, true,
                                              attrs));
    iommu_teardown(&s);
}

static void test_iommu_page_split(void)
{
    IOMMUSetup s;
    MemTxAttrs attrs = MEMTXATTRS_UNSPECIFIED;
    MemTxResult r;

    iommu_setup(&s);
    test_iommu_map(&s.t, 0x0, 0x8000, IOMMU_RW);
    test_iommu_map(&s.t, 0x1000, 0x3000, IOMMU_RW);

    address_space_stq_le(&s.dev, 0xffc, 0x1122334455667788ULL, attrs, &r);
    g_assert_cmpuint(r, ==, MEMTX_OK);
    g_assert_cmpmem(s.host + 0x8ffc, 4, "\x88\x77\x66\x55", 4);
    g_assert_cmpmem(s.host + 0x3000, 4, "\x44\x33\x22\x11", 4);
    g_assert_cmphex(address_space_ldq_le(&s.dev, 0xffc, attrs, &r), ==,
                    0x1122334455667788ULL);
    iommu_teardown(&s);
}

typedef struct TestNotifier {
    IOMMUNotifier n;
    GString *log;
} TestNotifier;

static void tn_notify(IOMMUNotifier *n, IOMMUTLBEntry *e)
{
    TestNotifier *tn = CONTAINER_OF(n, TestNotifier, n);

    if (e->perm == IOMMU_NONE) {
        g_string_append_printf(tn->log, "unmap %" PRIx64 "/%" PRIx64 ";",
                               e->iova, e->addr_mask);
    } else {
        g_string_append_printf(tn->log, "map %" PRIx64 "->%" PRIx64
                               "/%" PRIx64 " %d;", e->iova,
                               e->translated_addr, e->addr_mask, e->perm);
    }
}

static void tn_init(TestNotifier *tn, IOMMUNotifierFlag flags, hwaddr start,
                    hwaddr end)
{
    iommu_notifier_init(&tn->n, tn_notify, flags, start, end);
    tn->log = g_string_new("");
}

static void test_iommu_notifiers(void)
{
    IOMMUSetup s;
    TestNotifier a, b;
    MemoryRegion *mr;
    IOMMUTLBEvent all = {
        .type = IOMMU_NOTIFIER_UNMAP,
        .entry = { .iova = 0, .addr_mask = 0x1ffff, .perm = IOMMU_NONE },
    };

    iommu_setup(&s);
    mr = &s.t.iommu.parent_obj;
    tn_init(&a, IOMMU_NOTIFIER_IOTLB_EVENTS, 0, 0xffff);
    tn_init(&b, IOMMU_NOTIFIER_UNMAP, 0x10000, 0x1ffff);
    g_assert_true(memory_region_register_iommu_notifier(mr, &a.n,
                                                        &error_abort));
    g_assert_true(memory_region_register_iommu_notifier(mr, &b.n,
                                                        &error_abort));
    g_assert_cmpuint(s.t.iommu.iommu_notify_flags, ==,
                     IOMMU_NOTIFIER_IOTLB_EVENTS);

    test_iommu_map(&s.t, 0x1000, 0x5000, IOMMU_RO);
    test_iommu_map(&s.t, 0x10000, 0x6000, IOMMU_RW);
    test_iommu_unmap(&s.t, 0x10000);
    test_iommu_unmap(&s.t, 0x1000);
    ASSERT_LOG(a.log, "map 1000->5000/fff 1;unmap 1000/fff;");
    ASSERT_LOG(b.log, "unmap 10000/fff;");

    memory_region_notify_iommu(&s.t.iommu, &all);
    ASSERT_LOG(a.log, "unmap 0/1ffff;");
    ASSERT_LOG(b.log, "unmap 0/1ffff;");

    memory_region_unmap_iommu_notifier_range(&b.n);
    ASSERT_LOG(b.log, "unmap 10000/ffff;");

    memory_region_unregister_iommu_notifier(mr, &a.n);
    g_assert_cmpuint(s.t.iommu.iommu_notify_flags, ==, IOMMU_NOTIFIER_UNMAP);
    g_assert_cmpuint(s.t.seen_old, ==, IOMMU_NOTIFIER_IOTLB_EVENTS);
    g_assert_cmpuint(s.t.seen_new, ==, IOMMU_NOTIFIER_UNMAP);
    test_iommu_map(&s.t, 0x2000, 0x7000, IOMMU_RW);
    test_iommu_unmap(&s.t, 0x2000);
    ASSERT_LOG(a.log, "");
    memory_region_unregister_iommu_notifier(mr, &b.n);
    g_assert_cmpuint(s.t.iommu.iommu_notify_flags, ==, IOMMU_NOTIFIER_NONE);

    g_string_free(a.log, true);
    g_string_free(b.log, true);
    iommu_teardown(&s);
}

static void test_iommu_replay(void)
{
    IOMMUSetup s;
    TestNotifier tn, whole;

    iommu_setup(&s);
    test_iommu_map(&s.t, 0x0, 0x2000, IOMMU_RW);
    test_iommu_map(&s.t, 0x3000, 0x4000, IOMMU_RO);
    test_iommu_map(&s.t, 0x20000, 0x5000, IOMMU_RW);
    g_assert_cmpuint(memory_region_iommu_get_min_page_size(&s.t.iommu), ==,
                     4096);

    tn_init(&tn, IOMMU_NOTIFIER_IOTLB_EVENTS, 0, 0xffff);
    g_assert_true(memory_region_register_iommu_notifier(
                      &s.t.iommu.parent_obj, &tn.n, &error_abort));
    s.t.translate_calls = 0;
    memory_region_iommu_replay(&s.t.iommu, &tn.n);
    ASSERT_LOG(tn.log, "map 0->2000/fff 3;map 3000->4000/fff 1;");
    g_assert_cmpuint(s.t.translate_calls, ==, 16);
    g_assert_cmpuint(s.t.last_flag, ==, IOMMU_NONE);

    /* 2^52 pages: refused rather than walked. */
    tn_init(&whole, IOMMU_NOTIFIER_MAP, 0, HWADDR_MAX);
    s.t.translate_calls = 0;
    memory_region_iommu_replay(&s.t.iommu, &whole.n);
    g_assert_cmpuint(s.t.translate_calls, ==, 0);
    ASSERT_LOG(whole.log, "");

    memory_region_unregister_iommu_notifier(&s.t.iommu.parent_obj, &tn.n);
    g_string_free(tn.log, true);
    g_string_free(whole.log, true);
    iommu_teardown(&s);
}

static void test_iommu_flag_refused(void)
{
    IOMMUSetup s;
    TestNotifier map, unmap;
    MemoryRegion *mr;
    Error *err = NULL;

    iommu_setup(&s);
    mr = &s.t.iommu.parent_obj;
    s.t.allow_map = false;
    tn_init(&map, IOMMU_NOTIFIER_IOTLB_EVENTS, 0, HWADDR_MAX);
    g_assert_false(memory_region_register_iommu_notifier(mr, &map.n, &err));
    g_assert_nonnull(err);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "test-iommu: MAP notifiers need caching mode");
    error_free(err);
    g_assert_null(s.t.iommu.iommu_notify);
    g_assert_cmpuint(s.t.iommu.iommu_notify_flags, ==, IOMMU_NOTIFIER_NONE);

    tn_init(&unmap, IOMMU_NOTIFIER_UNMAP, 0, HWADDR_MAX);
    g_assert_true(memory_region_register_iommu_notifier(mr, &unmap.n,
                                                        &error_abort));
    g_assert_cmpuint(s.t.seen_old, ==, IOMMU_NOTIFIER_NONE);
    g_assert_cmpuint(s.t.seen_new, ==, IOMMU_NOTIFIER_UNMAP);
    memory_region_unregister_iommu_notifier(mr, &unmap.n);
    g_assert_cmpuint(s.t.seen_old, ==, IOMMU_NOTIFIER_UNMAP);
    g_assert_cmpuint(s.t.seen_new, ==, IOMMU_NOTIFIER_NONE);

    g_string_free(map.log, true);
    g_string_free(unmap.log, true);
    iommu_teardown(&s);
}

static void test_iommu_loop_bounded(void)
{
    IOMMUSetup s;
    MemTxResult r;

    iommu_setup(&s);
    /* The IOMMU translates into its own address space. */
    s.t.target = &s.dev;
    test_iommu_map(&s.t, 0x0, 0x0, IOMMU_RW);
    s.t.translate_calls = 0;
    g_assert_cmphex(address_space_ldl_le(&s.dev, 0x10,
                                         MEMTXATTRS_UNSPECIFIED, &r), ==, 0);
    g_assert_cmpuint(r, ==, MEMTX_ACCESS_ERROR);
    g_assert_cmpuint(s.t.translate_calls, ==, 8);
    iommu_teardown(&s);
}

static void test_iommu_nested(void)
{
    IOMMUSetup s;
    TestIOMMU outer;
    AddressSpace outer_as;
    MemTxResult r;

    iommu_setup(&s);
    /* outer -> s.dev (inner IOMMU) -> sys */
    test_iommu_init(&outer, &s.dev);
    address_space_init(&outer_as, &outer.iommu.parent_obj, "outer");
    test_iommu_map(&outer, 0x1000, 0x2000, IOMMU_RW);
    test_iommu_map(&s.t, 0x2000, 0x3000, IOMMU_RO);
    s.host[0x3004] = 0x42;
    g_assert_cmphex(address_space_ldub(&outer_as, 0x1004,
                                       MEMTXATTRS_UNSPECIFIED, &r), ==, 0x42);
    g_assert_cmpuint(r, ==, MEMTX_OK);
    address_space_stb(&outer_as, 0x1004, 0, MEMTXATTRS_UNSPECIFIED, &r);
    g_assert_cmpuint(r, ==, MEMTX_ACCESS_ERROR);
    g_assert_cmphex(s.host[0x3004], ==, 0x42);

    address_space_destroy(&outer_as);
    memory_region_finalize(&outer.iommu.parent_obj);
    iommu_teardown(&s);
}

/*
 * What VFIO does: a listener on the device address space sees the IOMMU
 * section, registers a notifier over it and replays.
 */
typedef struct ShadowListener {
    MemoryListener l;
    TestNotifier tn;
    MemoryRegion *iommu_mr;
    uint64_t section_size;
} ShadowListener;

static void shadow_add(MemoryListener *l, MemoryRegionSection *s)
{
    ShadowListener *sl = CONTAINER_OF(l, ShadowListener, l);
    IOMMUMemoryRegion *iommu = memory_region_get_iommu(s->mr);

    g_assert_nonnull(iommu);
    g_assert_null(sl->iommu_mr);
    sl->iommu_mr = s->mr;
    sl->section_size = s->size;
    tn_init(&sl->tn, IOMMU_NOTIFIER_IOTLB_EVENTS, s->offset_within_region,
            s->offset_within_region + 0xffff);
    g_assert_true(memory_region_register_iommu_notifier(s->mr, &sl->tn.n,
                                                        &error_abort));
    memory_region_iommu_replay(iommu, &sl->tn.n);
}

static void shadow_del(MemoryListener *l, MemoryRegionSection *s)
{
    ShadowListener *sl = CONTAINER_OF(l, ShadowListener, l);

    g_assert_true(s->mr == sl->iommu_mr);
    memory_region_unregister_iommu_notifier(s->mr, &sl->tn.n);
    sl->iommu_mr = NULL;
}

static void test_iommu_listener_shadow(void)
{
    IOMMUSetup s;
    ShadowListener sl = {
        .l = { .region_add = shadow_add, .region_del = shadow_del,
               .name = "shadow" },
    };

    iommu_setup(&s);
    test_iommu_map(&s.t, 0x4000, 0x8000, IOMMU_RW);
    memory_listener_register(&sl.l, &s.dev);
    g_assert_true(sl.iommu_mr == &s.t.iommu.parent_obj);
    g_assert_cmphex(sl.section_size, ==, UINT64_MAX);
    ASSERT_LOG(sl.tn.log, "map 4000->8000/fff 3;");
    test_iommu_unmap(&s.t, 0x4000);
    ASSERT_LOG(sl.tn.log, "unmap 4000/fff;");

    memory_listener_unregister(&sl.l);
    g_assert_null(sl.iommu_mr);
    g_assert_null(s.t.iommu.iommu_notify);
    g_string_free(sl.tn.log, true);
    iommu_teardown(&s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/memory/ram/read-write", test_ram_read_write);
    g_test_add_func("/memory/flatview/overlap-priority",
                    test_flatview_overlap_priority);
    g_test_add_func("/memory/flatview/alias-offset", test_alias_offset);
    g_test_add_func("/memory/flatview/enable-disable",
                    test_region_enable_disable);
    g_test_add_func("/memory/flatview/nested-containers",
                    test_flatview_nested);
    g_test_add_func("/memory/mmio/split-wide-access", test_mmio_split);
    g_test_add_func("/memory/mmio/widen-narrow-access", test_mmio_widen);
    g_test_add_func("/memory/mmio/reject-invalid-access", test_mmio_reject);
    g_test_add_func("/memory/listener/exact-add-del", test_listener_add_del);
    g_test_add_func("/memory/data/unassigned-memory-vs-io",
                    test_unassigned_memory_vs_io);
    g_test_add_func("/memory/data/typed-le", test_typed_le);
    g_test_add_func("/memory/data/map-direct", test_map);
    g_test_add_func("/memory/iommu/translate-on-data-path",
                    test_iommu_data_path);
    g_test_add_func("/memory/iommu/permissions-enforced",
                    test_iommu_permissions);
    g_test_add_func("/memory/iommu/split-per-page", test_iommu_page_split);
    g_test_add_func("/memory/iommu/notifier-range-and-flags",
                    test_iommu_notifiers);
    g_test_add_func("/memory/iommu/replay-announces-mappings",
                    test_iommu_replay);
    g_test_add_func("/memory/iommu/flag-change-refused",
                    test_iommu_flag_refused);
    g_test_add_func("/memory/iommu/loop-bounded", test_iommu_loop_bounded);
    g_test_add_func("/memory/iommu/nested", test_iommu_nested);
    g_test_add_func("/memory/iommu/listener-shadows-mappings",
                    test_iommu_listener_shadow);
    return g_test_run();
}
