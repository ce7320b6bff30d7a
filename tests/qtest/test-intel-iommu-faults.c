/*
 * intel-iommu fault reporting (facts A.4, F): every legacy DMA fault
 * reason the model can raise, with the record's contents; FPD
 * suppression; the recording ring (collapsing by requester, FRI, PFO);
 * and the fault event MSI with its mask/pending logic.
 *
 * Not raised: 0xd (no requests are translation requests: there is no ATS
 * in the DMA path).  Scalable-mode reasons are in
 * test-intel-iommu-scalable, interrupt-remapping reasons in
 * test-intel-iommu-ir.
 */
#include <string.h>
#include <glib.h>

#include "libvtd.h"

#define EDU_DEVFN       (3 << 3)
#define EDU_SID         EDU_DEVFN
#define EDU_OPTS        "-device edu,addr=03.0,dma_mask=0xffffffffffffffff"
#define DID             7
#define IOVA            0x0a000000ULL
#define GPA             0x00300000ULL
#define UNASSIGNED      0x7f0000000000ULL   /* no RAM, no MMIO */

typedef struct Fixture {
    VTDTest t;
    VTDEdu e;
    VTDPageTable pt;
    uint64_t ce;                /* context entry address */
} Fixture;

/* Legacy root, a 3-level table with IOVA -> GPA mapped rw, TE on. */
static void start(Fixture *f, const char *opts, const char *extra)
{
    vtd_test_start(&f->t, opts ? opts : "", extra ? extra : EDU_OPTS);
    vtd_edu_init(&f->t, &f->e, 0, EDU_DEVFN, 0);
    vtd_legacy_root_new(&f->t);
    vtd_pt_init(&f->t, &f->pt, 3, false);
    vtd_pt_map(&f->t, &f->pt, IOVA, GPA, 4096, VTD_SL_RW);
    f->ce = vtd_legacy_map_device(&f->t, 0, EDU_DEVFN, f->pt.root, VTD_AW_39,
                                  DID);
    vtd_enable_dmar(&f->t);
}

/* A read (edu: memory -> buffer) at iova fails with fr. */
static void expect_read_fault(Fixture *f, uint64_t iova, uint8_t fr)
{
    g_assert_false(vtd_edu_read(&f->t, &f->e, iova, 64));
    vtd_expect_one_fault(&f->t, fr, EDU_SID, iova, false);
}

static void expect_write_fault(Fixture *f, uint64_t iova, uint8_t fr)
{
    g_assert_false(vtd_edu_write(&f->t, &f->e, iova, 64));
    vtd_expect_one_fault(&f->t, fr, EDU_SID, iova, true);
}

static void set_context(Fixture *f, uint64_t lo, uint64_t hi)
{
    vtd_legacy_set_context(&f->t, 0, EDU_DEVFN, lo, hi);
    /* Present entries are cached: make the change visible. */
    vtd_set_root(&f->t, f->t.root, VTD_TTM_LEGACY);
}

static void test_root_not_present(void)
{
    Fixture f;
    VTDFault rec;

    start(&f, NULL, NULL);
    qtest_writeq(f.t.s, vtd_root_entry_addr(&f.t, 0), 0);
    vtd_set_root(&f.t, f.t.root, VTD_TTM_LEGACY);
    g_assert_false(vtd_edu_read(&f.t, &f.e, IOVA + 0x345, 64));
    rec = vtd_expect_one_fault(&f.t, VTD_FR_ROOT_P, EDU_SID, IOVA, false);
    /* The record: page address, untranslated request, no PASID. */
    g_assert_cmphex(rec.addr, ==, IOVA);
    g_assert_cmpuint(rec.at, ==, 0);
    g_assert_false(rec.pp);
    vtd_test_quit(&f.t);
}

static void test_context_not_present(void)
{
    Fixture f;

    start(&f, NULL, NULL);
    set_context(&f, 0, 0);
    expect_write_fault(&f, IOVA, VTD_FR_CTX_P);
    vtd_test_quit(&f.t);
}

static void test_context_invalid(void)
{
    Fixture f;
    uint64_t lo;

    start(&f, NULL, NULL);
    lo = f.pt.root | VTD_CTX_P;
    /* AW 3 (57-bit) is not in SAGAW. */
    set_context(&f, lo, VTD_CTX_HI(3, DID));
    expect_read_fault(&f, IOVA, VTD_FR_CTX_INV);
    /* TT 3 is reserved. */
    set_context(&f, lo | VTD_CTX_TT(3), VTD_CTX_HI(VTD_AW_39, DID));
    expect_read_fault(&f, IOVA, VTD_FR_CTX_INV);
    /* TT 1 without ECAP.DT. */
    set_context(&f, lo | VTD_CTX_TT(VTD_TT_DEV_IOTLB),
                VTD_CTX_HI(VTD_AW_39, DID));
    expect_read_fault(&f, IOVA, VTD_FR_CTX_INV);
    /* The top table cannot be read. */
    set_context(&f, UNASSIGNED | VTD_CTX_P, VTD_CTX_HI(VTD_AW_39, DID));
    expect_read_fault(&f, IOVA, VTD_FR_CTX_INV);
    vtd_test_quit(&f.t);

    /* TT 2 without ECAP.PT (pt=off). */
    start(&f, ",pt=off", NULL);
    g_assert_false(f.t.ecap & VTD_ECAP_PT);
    set_context(&f, VTD_CTX_TT(VTD_TT_PASS_THROUGH) | VTD_CTX_P,
                VTD_CTX_HI(VTD_AW_39, DID));
    expect_read_fault(&f, IOVA, VTD_FR_CTX_INV);
    vtd_test_quit(&f.t);
}

static void test_address_beyond_mgaw(void)
{
    Fixture f;

    start(&f, ",aw-bits=39", NULL);
    g_assert_cmpuint(VTD_CAP_MGAW(f.t.cap), ==, 39);
    expect_read_fault(&f, 1ULL << 39, VTD_FR_ADDR_MGAW);
    vtd_test_quit(&f.t);
}

static void test_write_denied(void)
{
    Fixture f;

    start(&f, NULL, NULL);
    vtd_pt_map(&f.t, &f.pt, IOVA + 0x1000, GPA, 4096, VTD_SL_R);
    g_assert_true(vtd_edu_read(&f.t, &f.e, IOVA + 0x1000, 64));
    qtest_memset(f.t.s, GPA, 0x5a, 64);
    expect_write_fault(&f, IOVA + 0x1000, VTD_FR_WRITE);
    g_assert_cmphex(qtest_readq(f.t.s, GPA), ==, 0x5a5a5a5a5a5a5a5aULL);
    /* W missing in an upper level denies too (AND over levels). */
    qtest_writeq(f.t.s, vtd_pt_entry_addr(&f.t, &f.pt, IOVA, 3),
                 (qtest_readq(f.t.s, vtd_pt_entry_addr(&f.t, &f.pt, IOVA, 3))
                  & ~VTD_SL_W));
    expect_write_fault(&f, IOVA + 0x5000, VTD_FR_WRITE);
    vtd_test_quit(&f.t);
}

static void test_read_denied(void)
{
    Fixture f;

    start(&f, NULL, NULL);
    vtd_pt_map(&f.t, &f.pt, IOVA + 0x1000, GPA, 4096, VTD_SL_W);
    g_assert_true(vtd_edu_write(&f.t, &f.e, IOVA + 0x1000, 64));
    expect_read_fault(&f, IOVA + 0x1000, VTD_FR_READ);
    /* A zero (not-present) entry fails the permission check too. */
    expect_read_fault(&f, IOVA + 0x2000, VTD_FR_READ);
    vtd_test_quit(&f.t);
}

static void test_paging_entry_read(void)
{
    Fixture f;

    start(&f, NULL, NULL);
    /* The level-2 table lives where nothing answers. */
    qtest_writeq(f.t.s, vtd_pt_entry_addr(&f.t, &f.pt, 1ULL << 30, 3),
                 UNASSIGNED | VTD_SL_RW);
    expect_read_fault(&f, 1ULL << 30, VTD_FR_PTE_READ);
    vtd_test_quit(&f.t);
}

static void test_root_table_read(void)
{
    Fixture f;

    start(&f, NULL, NULL);
    vtd_set_root(&f.t, UNASSIGNED, VTD_TTM_LEGACY);
    expect_read_fault(&f, IOVA, VTD_FR_ROOT_READ);
    vtd_test_quit(&f.t);
}

static void test_context_table_read(void)
{
    Fixture f;

    start(&f, NULL, NULL);
    qtest_writeq(f.t.s, vtd_root_entry_addr(&f.t, 0), UNASSIGNED | 1);
    vtd_set_root(&f.t, f.t.root, VTD_TTM_LEGACY);
    expect_read_fault(&f, IOVA, VTD_FR_CTX_READ);
    vtd_test_quit(&f.t);
}

static void test_root_reserved(void)
{
    Fixture f;
    uint64_t re;

    start(&f, NULL, NULL);
    re = vtd_root_entry_addr(&f.t, 0);
    qtest_writeq(f.t.s, re, qtest_readq(f.t.s, re) | 0x2);
    vtd_set_root(&f.t, f.t.root, VTD_TTM_LEGACY);
    expect_read_fault(&f, IOVA, VTD_FR_ROOT_RSVD);
    qtest_writeq(f.t.s, re, qtest_readq(f.t.s, re) & ~0x2ULL);
    qtest_writeq(f.t.s, re + 8, 1);     /* the upper qword is reserved */
    expect_read_fault(&f, IOVA, VTD_FR_ROOT_RSVD);
    vtd_test_quit(&f.t);
}

static void test_context_reserved(void)
{
    Fixture f;
    uint64_t lo;

    start(&f, NULL, NULL);
    lo = f.pt.root | VTD_CTX_P;
    set_context(&f, lo | 0x10, VTD_CTX_HI(VTD_AW_39, DID));
    expect_read_fault(&f, IOVA, VTD_FR_CTX_RSVD);
    set_context(&f, lo, VTD_CTX_HI(VTD_AW_39, DID) | 0x80);
    expect_read_fault(&f, IOVA, VTD_FR_CTX_RSVD);
    set_context(&f, lo, VTD_CTX_HI(VTD_AW_39, DID) | 1ULL << 30);
    expect_read_fault(&f, IOVA, VTD_FR_CTX_RSVD);
    /* An address at or above aw-bits (48). */
    set_context(&f, lo | 1ULL << 50, VTD_CTX_HI(VTD_AW_39, DID));
    expect_read_fault(&f, IOVA, VTD_FR_CTX_RSVD);
    vtd_test_quit(&f.t);
}

static void test_pte_reserved(void)
{
    Fixture f;
    uint64_t pte;

    start(&f, NULL, NULL);
    /* SNP without ECAP.SC, at the leaf. */
    vtd_pt_map(&f.t, &f.pt, IOVA + 0x1000, GPA, 4096, VTD_SL_RW | VTD_SL_SNP);
    expect_read_fault(&f, IOVA + 0x1000, VTD_FR_PTE_RSVD);
    /* A 2M leaf with address bits 20:12 set. */
    vtd_pt_map(&f.t, &f.pt, 0x20000000, 0, 2 << 20, VTD_SL_RW);
    pte = vtd_pt_entry_addr(&f.t, &f.pt, 0x20000000, 2);
    qtest_writeq(f.t.s, pte, qtest_readq(f.t.s, pte) | 0x1000);
    expect_read_fault(&f, 0x20000000, VTD_FR_PTE_RSVD);
    /* An address above aw-bits in the leaf. */
    vtd_pt_map(&f.t, &f.pt, IOVA + 0x2000, GPA | 1ULL << 50, 4096,
               VTD_SL_RW);
    expect_read_fault(&f, IOVA + 0x2000, VTD_FR_PTE_RSVD);
    /* TM (bit 62) is reserved unless stale-tm. */
    vtd_pt_map(&f.t, &f.pt, IOVA + 0x3000, GPA, 4096,
               VTD_SL_RW | 1ULL << 62);
    expect_read_fault(&f, IOVA + 0x3000, VTD_FR_PTE_RSVD);
    vtd_test_quit(&f.t);

    start(&f, ",stale-tm=on,snoop-control=on", NULL);
    vtd_pt_map(&f.t, &f.pt, IOVA + 0x3000, GPA, 4096,
               VTD_SL_RW | VTD_SL_SNP | 1ULL << 62);
    g_assert_true(vtd_edu_read(&f.t, &f.e, IOVA + 0x3000, 64));
    vtd_expect_no_fault(&f.t);
    vtd_test_quit(&f.t);
}

static void test_interrupt_address(void)
{
    Fixture f;

    start(&f, NULL, NULL);
    vtd_pt_map(&f.t, &f.pt, IOVA + 0x1000, 0xfee00000, 4096, VTD_SL_RW);
    expect_read_fault(&f, IOVA + 0x1000, VTD_FR_INTR_ADDR);
    /* A 2M page at 0xfee00000: its 0xfeexxxxx half faults, the other
     * half is translated (and finds nothing there, without a fault). */
    vtd_pt_map(&f.t, &f.pt, 0x20000000, 0xfee00000, 2 << 20, VTD_SL_RW);
    expect_read_fault(&f, 0x20000000 + 0x10000, VTD_FR_INTR_ADDR);
    g_assert_false(vtd_edu_read(&f.t, &f.e, 0x20000000 + 0x100000, 64));
    vtd_expect_no_fault(&f.t);
    vtd_test_quit(&f.t);
}

/* FPD=1 in the context suppresses qualified faults only (facts F.3). */
static void test_fpd(void)
{
    Fixture f;
    uint64_t lo;

    start(&f, NULL, NULL);
    lo = f.pt.root | VTD_CTX_P | VTD_CTX_FPD;
    set_context(&f, lo, VTD_CTX_HI(VTD_AW_39, DID));
    g_assert_false(vtd_edu_read(&f.t, &f.e, IOVA + 0x1000, 64));
    vtd_expect_no_fault(&f.t);
    /* Honoured when P=0 too. */
    set_context(&f, VTD_CTX_FPD, 0);
    g_assert_false(vtd_edu_read(&f.t, &f.e, IOVA, 64));
    vtd_expect_no_fault(&f.t);
    /* Reserved bits in the context: the FPD cannot be trusted. */
    set_context(&f, lo | 0x10, VTD_CTX_HI(VTD_AW_39, DID));
    expect_read_fault(&f, IOVA, VTD_FR_CTX_RSVD);
    vtd_test_quit(&f.t);
}

#define NDEV 5

/* Five edus at 03.0-07.0, each with its own context on one table. */
static void start_many(Fixture *f, VTDEdu *e)
{
    g_autofree char *extra = NULL;
    GString *args = g_string_new("");

    for (int i = 0; i < NDEV; i++) {
        g_string_append_printf(args, "-device edu,addr=%02x.0 ", 3 + i);
    }
    extra = g_string_free(args, false);
    vtd_test_start(&f->t, "", extra);
    vtd_legacy_root_new(&f->t);
    vtd_pt_init(&f->t, &f->pt, 3, false);
    vtd_pt_map(&f->t, &f->pt, IOVA, GPA, 4096, VTD_SL_RW);
    for (int i = 0; i < NDEV; i++) {
        vtd_edu_init(&f->t, &e[i], 0, (3 + i) << 3, 0);
        vtd_legacy_map_device(&f->t, 0, (3 + i) << 3, f->pt.root, VTD_AW_39,
                              DID);
    }
    vtd_enable_dmar(&f->t);
}

/* One pending record per requester; FRI names the first pending one; the
 * ring wraps; with every record pending the next fault sets PFO, and
 * nothing is recorded while PFO is set. */
static void test_recording_ring(void)
{
    Fixture f;
    VTDEdu e[NDEV];
    VTDFault rec;
    unsigned nfr;

    start_many(&f, e);
    nfr = vtd_num_fault_records(&f.t);
    g_assert_cmpuint(nfr, ==, 4);

    /* Same requester twice: one record. */
    g_assert_false(vtd_edu_read(&f.t, &e[0], IOVA + 0x1000, 64));
    g_assert_false(vtd_edu_read(&f.t, &e[0], IOVA + 0x2000, 64));
    g_assert_true(vtd_read_fault(&f.t, 0, &rec));
    g_assert_cmphex(rec.addr, ==, IOVA + 0x1000);
    g_assert_false(vtd_read_fault(&f.t, 1, &rec));
    g_assert_cmphex(vtd_fsts(&f.t), ==, VTD_FSTS_PPF);

    /* Three more requesters fill the ring: records 1-3. */
    for (int i = 1; i < 4; i++) {
        g_assert_false(vtd_edu_write(&f.t, &e[i], IOVA + 0x1000 * (i + 1),
                                     64));
        g_assert_true(vtd_read_fault(&f.t, i, &rec));
        g_assert_cmphex(rec.sid, ==, (3 + i) << 3);
        g_assert_true(rec.is_write);
    }
    g_assert_cmphex(vtd_fsts(&f.t), ==, VTD_FSTS_PPF);   /* FRI 0 */

    /* The fifth: record 0 is still pending, so PFO. */
    g_assert_false(vtd_edu_read(&f.t, &e[4], IOVA + 0x9000, 64));
    g_assert_cmphex(vtd_fsts(&f.t), ==, VTD_FSTS_PPF | VTD_FSTS_PFO);

    /* Clearing record 0 moves FRI to 1; PFO still drops faults. */
    vtd_clear_fault(&f.t, 0);
    g_assert_cmphex(vtd_fsts(&f.t), ==,
                    VTD_FSTS_PPF | VTD_FSTS_PFO | 1 << 8);
    g_assert_false(vtd_edu_read(&f.t, &e[4], IOVA + 0x9000, 64));
    g_assert_false(vtd_read_fault(&f.t, 0, &rec));

    /* Clear PFO: the next fault goes to record 0 (the ring wrapped). */
    vtd_fsts_clear(&f.t, VTD_FSTS_PFO);
    g_assert_false(vtd_edu_read(&f.t, &e[4], IOVA + 0x9000, 64));
    g_assert_true(vtd_read_fault(&f.t, 0, &rec));
    g_assert_cmphex(rec.sid, ==, 7 << 3);
    g_assert_cmphex(rec.fr, ==, VTD_FR_READ);
    g_assert_cmphex(vtd_fsts(&f.t), ==, VTD_FSTS_PPF | 1 << 8);

    for (unsigned i = 0; i < nfr; i++) {
        vtd_clear_fault(&f.t, i);
    }
    g_assert_cmphex(vtd_fsts(&f.t) & VTD_FSTS_PPF, ==, 0);
    vtd_test_quit(&f.t);
}

/* TE=0 puts the next record back to 0 (as QEMU). */
static void test_te_off_resets_index(void)
{
    Fixture f;
    VTDEdu e[NDEV];
    VTDFault rec;

    start_many(&f, e);
    g_assert_false(vtd_edu_read(&f.t, &e[0], IOVA + 0x1000, 64));
    vtd_clear_fault(&f.t, 0);
    vtd_disable_dmar(&f.t);
    vtd_enable_dmar(&f.t);
    g_assert_false(vtd_edu_read(&f.t, &e[1], IOVA + 0x1000, 64));
    g_assert_true(vtd_read_fault(&f.t, 0, &rec));
    g_assert_cmphex(rec.sid, ==, 4 << 3);
    vtd_test_quit(&f.t);
}

static void set_fault_event(Fixture *f, uint32_t data, uint32_t addr)
{
    vtd_writel(&f->t, VTD_REG_FEDATA, data);
    vtd_writel(&f->t, VTD_REG_FEADDR, addr);
}

/* IM=0: one MSI when the first fault becomes pending, none while faults
 * are pending, one again once everything was cleared (facts A.4). */
static void test_event_msi(void)
{
    Fixture f;
    VTDEdu e[NDEV];
    uint64_t addr;
    uint32_t data;

    start_many(&f, e);
    set_fault_event(&f, 0x4055, 0xfee02000);
    vtd_writel(&f.t, VTD_REG_FECTL, 0);
    g_assert_false(qtest_msi_pop(f.t.s, &addr, &data));

    g_assert_false(vtd_edu_read(&f.t, &e[0], IOVA + 0x1000, 64));
    g_assert_true(qtest_msi_pop(f.t.s, &addr, &data));
    g_assert_cmphex(addr, ==, 0xfee02000);
    g_assert_cmphex(data, ==, 0x4055);
    g_assert_cmphex(vtd_readl(&f.t, VTD_REG_FECTL), ==, 0);

    g_assert_false(vtd_edu_read(&f.t, &e[1], IOVA + 0x1000, 64));
    g_assert_false(qtest_msi_pop(f.t.s, &addr, &data));

    vtd_clear_fault(&f.t, 0);
    g_assert_false(vtd_edu_read(&f.t, &e[2], IOVA + 0x1000, 64));
    g_assert_false(qtest_msi_pop(f.t.s, &addr, &data));   /* 1 pending */

    vtd_clear_fault(&f.t, 1);
    vtd_clear_fault(&f.t, 2);
    g_assert_cmphex(vtd_fsts(&f.t) & VTD_FSTS_PPF, ==, 0);
    g_assert_false(vtd_edu_read(&f.t, &e[3], IOVA + 0x1000, 64));
    g_assert_true(qtest_msi_pop(f.t.s, &addr, &data));
    g_assert_cmphex(data, ==, 0x4055);
    vtd_test_quit(&f.t);
}

/* IM=1: the event sets IP instead; clearing IM sends it and clears IP;
 * IP also clears when software clears every pending status. */
static void test_event_masked(void)
{
    Fixture f;
    VTDEdu e[NDEV];
    uint64_t addr;
    uint32_t data;

    start_many(&f, e);
    set_fault_event(&f, 0x4066, 0xfee03000);
    g_assert_cmphex(vtd_readl(&f.t, VTD_REG_FECTL), ==, VTD_ECTL_IM);

    g_assert_false(vtd_edu_read(&f.t, &e[0], IOVA + 0x1000, 64));
    g_assert_false(qtest_msi_pop(f.t.s, &addr, &data));
    g_assert_cmphex(vtd_readl(&f.t, VTD_REG_FECTL), ==,
                    VTD_ECTL_IM | VTD_ECTL_IP);
    /* IP is read-only. */
    vtd_writel(&f.t, VTD_REG_FECTL, VTD_ECTL_IM);
    g_assert_cmphex(vtd_readl(&f.t, VTD_REG_FECTL), ==,
                    VTD_ECTL_IM | VTD_ECTL_IP);
    vtd_writel(&f.t, VTD_REG_FECTL, 0);
    g_assert_true(qtest_msi_pop(f.t.s, &addr, &data));
    g_assert_cmphex(addr, ==, 0xfee03000);
    g_assert_cmphex(data, ==, 0x4066);
    g_assert_cmphex(vtd_readl(&f.t, VTD_REG_FECTL), ==, 0);

    /* Masked again: pending, then serviced by clearing the record. */
    vtd_writel(&f.t, VTD_REG_FECTL, VTD_ECTL_IM);
    vtd_clear_fault(&f.t, 0);
    g_assert_false(vtd_edu_read(&f.t, &e[1], IOVA + 0x1000, 64));
    g_assert_cmphex(vtd_readl(&f.t, VTD_REG_FECTL), ==,
                    VTD_ECTL_IM | VTD_ECTL_IP);
    vtd_clear_fault(&f.t, 1);
    g_assert_cmphex(vtd_readl(&f.t, VTD_REG_FECTL), ==, VTD_ECTL_IM);
    vtd_writel(&f.t, VTD_REG_FECTL, 0);
    g_assert_false(qtest_msi_pop(f.t.s, &addr, &data));
    vtd_test_quit(&f.t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/intel-iommu/faults/0x1-root-not-present",
                    test_root_not_present);
    g_test_add_func("/intel-iommu/faults/0x2-context-not-present",
                    test_context_not_present);
    g_test_add_func("/intel-iommu/faults/0x3-context-invalid",
                    test_context_invalid);
    g_test_add_func("/intel-iommu/faults/0x4-address-beyond-mgaw",
                    test_address_beyond_mgaw);
    g_test_add_func("/intel-iommu/faults/0x5-write-denied",
                    test_write_denied);
    g_test_add_func("/intel-iommu/faults/0x6-read-denied", test_read_denied);
    g_test_add_func("/intel-iommu/faults/0x7-paging-entry-read",
                    test_paging_entry_read);
    g_test_add_func("/intel-iommu/faults/0x8-root-table-read",
                    test_root_table_read);
    g_test_add_func("/intel-iommu/faults/0x9-context-table-read",
                    test_context_table_read);
    g_test_add_func("/intel-iommu/faults/0xa-root-reserved",
                    test_root_reserved);
    g_test_add_func("/intel-iommu/faults/0xb-context-reserved",
                    test_context_reserved);
    g_test_add_func("/intel-iommu/faults/0xc-pte-reserved", test_pte_reserved);
    g_test_add_func("/intel-iommu/faults/0xe-interrupt-address",
                    test_interrupt_address);
    g_test_add_func("/intel-iommu/faults/fpd", test_fpd);
    g_test_add_func("/intel-iommu/faults/recording-ring",
                    test_recording_ring);
    g_test_add_func("/intel-iommu/faults/te-off-resets-index",
                    test_te_off_resets_index);
    g_test_add_func("/intel-iommu/faults/event-msi", test_event_msi);
    g_test_add_func("/intel-iommu/faults/event-masked", test_event_masked);
    return g_test_run();
}
