/*
 * intel-iommu legacy mode (facts C): edu DMA through root/context tables
 * and 3- and 4-level second-level tables, large pages, pass-through, TE
 * off, the CM=0 rule (not-present -> present needs no invalidation), the
 * caches keeping a translation until they are flushed, interrupt messages
 * that bypass translation, and a device behind a root port.
 *
 * Each test proves a translation by the bytes edu moves: it reads a
 * pattern through one IOVA into its buffer and writes it back through
 * another, then the test looks at guest-physical memory.
 */
#include <string.h>
#include <glib.h>

#include "libvtd.h"

#define EDU_DEVFN       (3 << 3)
#define EDU_SID         EDU_DEVFN
#define EDU_BAR         0xe0000000ULL
#define EDU_OPTS        "-device edu,addr=03.0,dma_mask=0xffffffffffffffff"
#define DID             5

#define GPA_SRC         0x00300000ULL
#define GPA_DST         0x00400000ULL
#define GPA_OTHER       0x00500000ULL
#define IOVA_SRC        0x0a000000ULL   /* beyond RAM: only mapped */
#define IOVA_DST        0x0a100000ULL
#define LEN             256

typedef struct Fixture {
    VTDTest t;
    VTDEdu e;
    VTDPageTable pt;
} Fixture;

static void start(Fixture *f, const char *opts, const char *extra, int bus,
                  int devfn)
{
    vtd_test_start(&f->t, opts, extra);
    vtd_edu_init(&f->t, &f->e, bus, devfn, EDU_BAR);
}

/* Legacy root, a levels-deep table for the device, remapping on. */
static void start_legacy(Fixture *f, int levels)
{
    start(f, "", EDU_OPTS, 0, EDU_DEVFN);
    vtd_legacy_root_new(&f->t);
    vtd_pt_init(&f->t, &f->pt, levels, false);
    vtd_legacy_map_device(&f->t, 0, EDU_DEVFN, f->pt.root,
                          levels == 3 ? VTD_AW_39 : VTD_AW_48, DID);
    vtd_enable_dmar(&f->t);
}

/* Writes a pattern at gpa_src, moves it src_iova -> edu -> dst_iova and
 * checks it arrived at gpa_dst. */
static void check_copy(Fixture *f, uint64_t src_iova, uint64_t gpa_src,
                       uint64_t dst_iova, uint64_t gpa_dst, uint8_t seed)
{
    uint8_t in[LEN], out[LEN];

    vtd_fill(in, sizeof(in), seed);
    qtest_memwrite(f->t.s, gpa_src, in, sizeof(in));
    qtest_memset(f->t.s, gpa_dst, 0, sizeof(out));
    g_assert_true(vtd_edu_read(&f->t, &f->e, src_iova, LEN));
    g_assert_true(vtd_edu_write(&f->t, &f->e, dst_iova, LEN));
    qtest_memread(f->t.s, gpa_dst, out, sizeof(out));
    g_assert_cmpmem(out, sizeof(out), in, sizeof(in));
}

static void test_levels_4k(int levels)
{
    Fixture f;

    start_legacy(&f, levels);
    vtd_pt_map(&f.t, &f.pt, IOVA_SRC, GPA_SRC, 4096, VTD_SL_R);
    vtd_pt_map(&f.t, &f.pt, IOVA_DST, GPA_DST, 4096, VTD_SL_RW);
    check_copy(&f, IOVA_SRC, GPA_SRC, IOVA_DST, GPA_DST, 0x11);
    /* An offset inside the page keeps its low bits. */
    check_copy(&f, IOVA_SRC + 0x123, GPA_SRC + 0x123, IOVA_DST + 0xe00,
               GPA_DST + 0xe00, 0x22);
    vtd_expect_no_fault(&f.t);
    vtd_test_quit(&f.t);
}

static void test_3level_4k(void)
{
    test_levels_4k(3);
}

static void test_4level_4k(void)
{
    test_levels_4k(4);
}

/* 2M pages at level 2 and 1G pages at level 3 (CAP.SLLPS). */
static void test_large_pages(int levels)
{
    Fixture f;

    start_legacy(&f, levels);
    g_assert_true(f.t.cap & VTD_CAP_SLLPS_2M);
    g_assert_true(f.t.cap & VTD_CAP_SLLPS_1G);
    vtd_pt_map(&f.t, &f.pt, 0x0a000000, 0x00200000, 2 << 20, VTD_SL_RW);
    vtd_pt_map(&f.t, &f.pt, 0x40000000, 0, 1 << 30, VTD_SL_RW);
    check_copy(&f, 0x0a000000 + 0x101234, 0x00301234,
               0x40000000 + 0x456780, 0x00456780, 0x33);
    vtd_expect_no_fault(&f.t);
    vtd_test_quit(&f.t);
}

static void test_3level_large(void)
{
    test_large_pages(3);
}

static void test_4level_large(void)
{
    test_large_pages(4);
}

/* TT=2: output = input, without page tables (ECAP.PT). */
static void test_pass_through(void)
{
    Fixture f;

    start(&f, "", EDU_OPTS, 0, EDU_DEVFN);
    g_assert_true(f.t.ecap & VTD_ECAP_PT);
    vtd_legacy_root_new(&f.t);
    vtd_legacy_set_context(&f.t, 0, EDU_DEVFN,
                           VTD_CTX_TT(VTD_TT_PASS_THROUGH) | VTD_CTX_P,
                           VTD_CTX_HI(VTD_AW_48, DID));
    vtd_enable_dmar(&f.t);
    check_copy(&f, GPA_SRC, GPA_SRC, GPA_DST, GPA_DST, 0x44);
    vtd_expect_no_fault(&f.t);
    vtd_test_quit(&f.t);
}

/* TE=0: DMA is not translated, whatever the tables say. */
static void test_te_off(void)
{
    Fixture f;

    start(&f, "", EDU_OPTS, 0, EDU_DEVFN);
    check_copy(&f, GPA_SRC, GPA_SRC, GPA_DST, GPA_DST, 0x55);
    vtd_legacy_root_new(&f.t);          /* a root with nothing present */
    check_copy(&f, GPA_SRC, GPA_SRC, GPA_DST, GPA_DST, 0x56);
    vtd_enable_dmar(&f.t);
    g_assert_false(vtd_edu_read(&f.t, &f.e, GPA_SRC, LEN));
    vtd_expect_one_fault(&f.t, VTD_FR_ROOT_P, EDU_SID, GPA_SRC, false);
    vtd_disable_dmar(&f.t);
    check_copy(&f, GPA_SRC, GPA_SRC, GPA_DST, GPA_DST, 0x57);
    vtd_test_quit(&f.t);
}

/*
 * CM=0 (facts J): a guest may fill a root, context or page-table entry
 * after enabling remapping and use it without invalidating, because
 * not-present results are never cached.
 */
static void test_not_present_to_present(void)
{
    Fixture f;
    uint64_t root_lo;

    start(&f, "", EDU_OPTS, 0, EDU_DEVFN);
    vtd_legacy_root_new(&f.t);
    vtd_pt_init(&f.t, &f.pt, 3, false);
    vtd_legacy_map_device(&f.t, 0, EDU_DEVFN, f.pt.root, VTD_AW_39, DID);
    /* Hide the root entry, then enable remapping. */
    root_lo = qtest_readq(f.t.s, vtd_root_entry_addr(&f.t, 0));
    qtest_writeq(f.t.s, vtd_root_entry_addr(&f.t, 0), 0);
    vtd_enable_dmar(&f.t);

    g_assert_false(vtd_edu_read(&f.t, &f.e, IOVA_SRC, LEN));
    vtd_expect_one_fault(&f.t, VTD_FR_ROOT_P, EDU_SID, IOVA_SRC, false);
    qtest_writeq(f.t.s, vtd_root_entry_addr(&f.t, 0), root_lo);

    g_assert_false(vtd_edu_read(&f.t, &f.e, IOVA_SRC, LEN));
    vtd_expect_one_fault(&f.t, VTD_FR_READ, EDU_SID, IOVA_SRC, false);
    vtd_pt_map(&f.t, &f.pt, IOVA_SRC, GPA_SRC, 4096, VTD_SL_R);
    vtd_pt_map(&f.t, &f.pt, IOVA_DST, GPA_DST, 4096, VTD_SL_RW);
    check_copy(&f, IOVA_SRC, GPA_SRC, IOVA_DST, GPA_DST, 0x66);
    vtd_test_quit(&f.t);
}

/*
 * A present translation is cached: changing the PTE or the context entry
 * changes nothing until the caches are flushed; SRTP flushes them all
 * (CAP.ESRTPS), and so does a TE change.
 */
static void test_stale_until_flushed(void)
{
    Fixture f;
    uint8_t buf[LEN], out[LEN];
    uint64_t ce;

    start_legacy(&f, 3);
    g_assert_true(f.t.cap & VTD_CAP_ESRTPS);
    vtd_pt_map(&f.t, &f.pt, IOVA_DST, GPA_DST, 4096, VTD_SL_RW);
    vtd_fill(buf, sizeof(buf), 0x77);
    qtest_memwrite(f.t.s, GPA_SRC, buf, sizeof(buf));
    vtd_pt_map(&f.t, &f.pt, IOVA_SRC, GPA_SRC, 4096, VTD_SL_R);
    g_assert_true(vtd_edu_read(&f.t, &f.e, IOVA_SRC, LEN));

    /* Re-point the destination page after it was used once. */
    g_assert_true(vtd_edu_write(&f.t, &f.e, IOVA_DST, LEN));
    qtest_memset(f.t.s, GPA_DST, 0, LEN);
    vtd_pt_map(&f.t, &f.pt, IOVA_DST, GPA_OTHER, 4096, VTD_SL_RW);
    g_assert_true(vtd_edu_write(&f.t, &f.e, IOVA_DST, LEN));
    qtest_memread(f.t.s, GPA_DST, out, sizeof(out));
    g_assert_cmpmem(out, sizeof(out), buf, sizeof(buf));

    /* Take the context away: the cached context is still used. */
    ce = vtd_context_entry_addr(&f.t, 0, EDU_DEVFN);
    qtest_writeq(f.t.s, ce, 0);
    qtest_memset(f.t.s, GPA_DST, 0, LEN);
    g_assert_true(vtd_edu_write(&f.t, &f.e, IOVA_DST, LEN));
    qtest_memread(f.t.s, GPA_DST, out, sizeof(out));
    g_assert_cmpmem(out, sizeof(out), buf, sizeof(buf));
    vtd_expect_no_fault(&f.t);

    /* SRTP drops every cache: the context is gone now. */
    vtd_set_root(&f.t, f.t.root, VTD_TTM_LEGACY);
    g_assert_false(vtd_edu_write(&f.t, &f.e, IOVA_DST, LEN));
    vtd_expect_one_fault(&f.t, VTD_FR_CTX_P, EDU_SID, IOVA_DST, true);

    /* Back, with the new PTE: a TE cycle flushes too. */
    vtd_legacy_map_device(&f.t, 0, EDU_DEVFN, f.pt.root, VTD_AW_39, DID);
    g_assert_true(vtd_edu_write(&f.t, &f.e, IOVA_DST, LEN));
    qtest_memread(f.t.s, GPA_OTHER, out, sizeof(out));
    g_assert_cmpmem(out, sizeof(out), buf, sizeof(buf));
    vtd_pt_map(&f.t, &f.pt, IOVA_DST, GPA_DST, 4096, VTD_SL_RW);
    vtd_disable_dmar(&f.t);
    vtd_enable_dmar(&f.t);
    qtest_memset(f.t.s, GPA_DST, 0, LEN);
    g_assert_true(vtd_edu_write(&f.t, &f.e, IOVA_DST, LEN));
    qtest_memread(f.t.s, GPA_DST, out, sizeof(out));
    g_assert_cmpmem(out, sizeof(out), buf, sizeof(buf));
    vtd_test_quit(&f.t);
}

/* Large IOVAs: 2^39 and above are beyond a 3-level table (fault 0x4),
 * and beyond aw-bits for any table. */
static void test_address_width(void)
{
    Fixture f;

    start_legacy(&f, 4);
    vtd_pt_map(&f.t, &f.pt, 1ULL << 40, GPA_SRC, 4096, VTD_SL_RW);
    vtd_pt_map(&f.t, &f.pt, (1ULL << 47) + 0x1000, GPA_DST, 4096, VTD_SL_RW);
    check_copy(&f, 1ULL << 40, GPA_SRC, (1ULL << 47) + 0x1000, GPA_DST, 0x12);
    g_assert_false(vtd_edu_read(&f.t, &f.e, 1ULL << 48, LEN));
    vtd_expect_one_fault(&f.t, VTD_FR_ADDR_MGAW, EDU_SID, 1ULL << 48, false);
    g_assert_false(vtd_edu_read(&f.t, &f.e, ~0ULL << 12, LEN));
    vtd_expect_one_fault(&f.t, VTD_FR_ADDR_MGAW, EDU_SID, ~0ULL << 12, false);
    vtd_test_quit(&f.t);

    start_legacy(&f, 3);
    g_assert_false(vtd_edu_read(&f.t, &f.e, 1ULL << 39, LEN));
    vtd_expect_one_fault(&f.t, VTD_FR_ADDR_MGAW, EDU_SID, 1ULL << 39, false);
    vtd_test_quit(&f.t);
}

/* Interrupt messages (writes to 0xfeexxxxx) are not translated. */
static void test_msi_not_translated(void)
{
    Fixture f;
    uint8_t msi;
    uint64_t addr;
    uint32_t data;

    start_legacy(&f, 3);
    msi = qpci_find_capability(f.t.s, 0, EDU_DEVFN, 0x05);
    qpci_config_writel(f.t.s, 0, EDU_DEVFN, msi + 4, 0xfee01000);
    qpci_config_writel(f.t.s, 0, EDU_DEVFN, msi + 8, 0);
    qpci_config_writew(f.t.s, 0, EDU_DEVFN, msi + 0xc, 0x4031);
    qpci_config_writew(f.t.s, 0, EDU_DEVFN, msi + 2, 0x0081);
    qtest_writel(f.t.s, EDU_BAR + 0x60, 1);      /* raise */
    g_assert_true(qtest_msi_pop(f.t.s, &addr, &data));
    g_assert_cmphex(addr, ==, 0xfee01000);
    g_assert_cmphex(data, ==, 0x4031);
    vtd_expect_no_fault(&f.t);
    vtd_test_quit(&f.t);
}

/* A device behind a root port: bus 1, its own root entry, SID 01:00.0. */
static void test_behind_root_port(void)
{
    Fixture f;
    uint8_t sec;

    start(&f, "", "-device pcie-root-port,id=rp,addr=04.0,chassis=1 "
          "-device edu,bus=rp,addr=00.0,dma_mask=0xffffffffffffffff", 0, 0);
    sec = qpci_config_readb(f.t.s, 0, 4 << 3, 0x19);
    g_assert_cmpuint(sec, ==, 1);
    vtd_edu_init(&f.t, &f.e, sec, 0, 0);
    vtd_legacy_root_new(&f.t);
    vtd_pt_init(&f.t, &f.pt, 3, false);
    vtd_pt_map(&f.t, &f.pt, IOVA_SRC, GPA_SRC, 4096, VTD_SL_R);
    vtd_pt_map(&f.t, &f.pt, IOVA_DST, GPA_DST, 4096, VTD_SL_RW);
    vtd_enable_dmar(&f.t);
    /* Nothing for bus 1 yet: its root entry is not present. */
    g_assert_false(vtd_edu_read(&f.t, &f.e, IOVA_SRC, LEN));
    vtd_expect_one_fault(&f.t, VTD_FR_ROOT_P, 0x0100, IOVA_SRC, false);
    vtd_legacy_map_device(&f.t, sec, 0, f.pt.root, VTD_AW_39, DID);
    check_copy(&f, IOVA_SRC, GPA_SRC, IOVA_DST, GPA_DST, 0x99);
    vtd_test_quit(&f.t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/intel-iommu/legacy/3-level-4k", test_3level_4k);
    g_test_add_func("/intel-iommu/legacy/4-level-4k", test_4level_4k);
    g_test_add_func("/intel-iommu/legacy/3-level-2m-1g", test_3level_large);
    g_test_add_func("/intel-iommu/legacy/4-level-2m-1g", test_4level_large);
    g_test_add_func("/intel-iommu/legacy/pass-through", test_pass_through);
    g_test_add_func("/intel-iommu/legacy/te-off", test_te_off);
    g_test_add_func("/intel-iommu/legacy/not-present-to-present",
                    test_not_present_to_present);
    g_test_add_func("/intel-iommu/legacy/stale-until-flushed",
                    test_stale_until_flushed);
    g_test_add_func("/intel-iommu/legacy/address-width", test_address_width);
    g_test_add_func("/intel-iommu/legacy/msi-not-translated",
                    test_msi_not_translated);
    g_test_add_func("/intel-iommu/legacy/behind-root-port",
                    test_behind_root_port);
    return g_test_run();
}
