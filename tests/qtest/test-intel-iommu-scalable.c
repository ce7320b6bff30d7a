/*
 * intel-iommu scalable mode (facts D): scalable root/context entries, the
 * PASID directory and table, every PGTT (second stage, first stage with
 * its permission and accessed/dirty rules, nested, pass-through),
 * RID_PASID, the upper half of a root entry, PASID-tagged DMA from
 * pasid-testdev, and the scalable-mode fault reasons the model raises.
 */
#include <string.h>
#include <glib.h>

#include "libvtd.h"
#include "../../include/hw/misc/pasid-testdev-regs.h"

#define EDU_DEVFN       (3 << 3)
#define EDU_SID         EDU_DEVFN
#define PTD_DEVFN       (4 << 3)
#define PTD_SID         PTD_DEVFN
#define EDU_OPTS        "-device edu,addr=03.0,dma_mask=0xffffffffffffffff"
#define PTD_OPTS        " -device pasid-testdev,addr=04.0"
#define ECAM            0xb0000000ULL
#define DID             9
#define IOVA            0x0a000000ULL
#define IOVA2           0x0a200000ULL
#define GPA             0x00300000ULL
#define GPA2            0x00400000ULL
#define UNASSIGNED      0x7f0000000000ULL
#define LEN             128

typedef struct SM {
    VTDTest t;
    VTDEdu e;
    uint64_t ptd_bar;
    VTDPageTable pt;            /* first or second stage */
    VTDPageTable sl;            /* nested: second stage */
    uint64_t pe[8];
    uint64_t dir;
} SM;

static void start(SM *m, const char *opts, bool ptd)
{
    g_autofree char *all = g_strdup_printf(",x-scalable-mode=on%s", opts);

    memset(m, 0, sizeof(*m));
    vtd_test_start(&m->t, all, ptd ? EDU_OPTS PTD_OPTS : EDU_OPTS);
    vtd_edu_init(&m->t, &m->e, 0, EDU_DEVFN, 0);
    if (ptd) {
        m->ptd_bar = qpci_config_readl(m->t.s, 0, PTD_DEVFN, 0x10) & ~0xfu;
        qpci_config_writew(m->t.s, 0, PTD_DEVFN, 0x04, 0x6);
        qtest_writew(m->t.s, ECAM + (PTD_DEVFN << 12) + PTD_PASID_CAP_OFFSET +
                     PTD_PASID_CTRL, PTD_PASID_CTRL_ENABLE);
    }
    vtd_sm_root_new(&m->t);
}

/* The device's RID_PASID (0) entry: pe, under a fresh directory. */
static void map_edu(SM *m)
{
    m->dir = vtd_sm_map_device(&m->t, 0, EDU_DEVFN, 0, m->pe);
    vtd_enable_dmar(&m->t);
}

static void fill_src(SM *m, uint64_t gpa, uint8_t seed, uint8_t *buf)
{
    vtd_fill(buf, LEN, seed);
    qtest_memwrite(m->t.s, gpa, buf, LEN);
}

/* src_iova -> edu -> dst_iova; checks gpa_dst got the pattern. */
static void check_copy(SM *m, uint64_t src_iova, uint64_t gpa_src,
                       uint64_t dst_iova, uint64_t gpa_dst, uint8_t seed)
{
    uint8_t in[LEN], out[LEN];

    fill_src(m, gpa_src, seed, in);
    qtest_memset(m->t.s, gpa_dst, 0, LEN);
    g_assert_true(vtd_edu_read(&m->t, &m->e, src_iova, LEN));
    g_assert_true(vtd_edu_write(&m->t, &m->e, dst_iova, LEN));
    qtest_memread(m->t.s, gpa_dst, out, LEN);
    g_assert_cmpmem(out, LEN, in, LEN);
}

static void expect_read_fault(SM *m, uint64_t iova, uint8_t fr)
{
    g_assert_false(vtd_edu_read(&m->t, &m->e, iova, LEN));
    vtd_expect_one_fault(&m->t, fr, EDU_SID, iova, false);
}

static void expect_write_fault(SM *m, uint64_t iova, uint8_t fr)
{
    g_assert_false(vtd_edu_write(&m->t, &m->e, iova, LEN));
    vtd_expect_one_fault(&m->t, fr, EDU_SID, iova, true);
}

/* pasid-testdev: one DMA; pasid < 0 for none.  Returns DMA_STATUS. */
static uint32_t ptd_dma(SM *m, uint64_t iova, int64_t pasid, bool to_mem)
{
    qtest_writeq(m->t.s, m->ptd_bar + PTD_REG_DMA_ADDR, iova);
    qtest_writel(m->t.s, m->ptd_bar + PTD_REG_DMA_LEN, LEN);
    qtest_writel(m->t.s, m->ptd_bar + PTD_REG_DMA_PASID,
                 pasid < 0 ? 0 : PTD_DMA_PASID_VALID | (uint32_t)pasid);
    qtest_writel(m->t.s, m->ptd_bar + PTD_REG_DMA_FLAGS,
                 to_mem ? PTD_DMA_FLAG_TO_MEM : 0);
    qtest_writel(m->t.s, m->ptd_bar + PTD_REG_DMA_CMD, PTD_DMA_CMD_START);
    return qtest_readl(m->t.s, m->ptd_bar + PTD_REG_DMA_STATUS);
}

/* pasid-testdev writes a pattern through iova/pasid; true if gpa got it. */
static bool ptd_write_lands(SM *m, uint64_t iova, int64_t pasid,
                            uint64_t gpa, uint8_t seed)
{
    uint8_t in[LEN], out[LEN];

    vtd_fill(in, LEN, seed);
    qtest_memwrite(m->t.s, m->ptd_bar + PTD_BUF_OFFSET, in, LEN);
    qtest_memset(m->t.s, gpa, 0, LEN);
    if (ptd_dma(m, iova, pasid, true) != PTD_DMA_STATUS_DONE) {
        return false;
    }
    qtest_memread(m->t.s, gpa, out, LEN);
    return !memcmp(in, out, LEN);
}

/* --- Second stage ---------------------------------------------------------- */

static void test_second_stage(int levels)
{
    SM m;

    start(&m, "", false);
    vtd_pt_init(&m.t, &m.pt, levels, false);
    vtd_pt_map(&m.t, &m.pt, IOVA, GPA, 4096, VTD_SL_R);
    vtd_pt_map(&m.t, &m.pt, IOVA2, 0x00200000, 2 << 20, VTD_SL_RW);
    vtd_pt_map(&m.t, &m.pt, 0x40000000, 0, 1 << 30, VTD_SL_RW);
    vtd_pe_build(m.pe, VTD_PGTT_SECOND, DID,
                 levels == 3 ? VTD_AW_39 : VTD_AW_48, m.pt.root, 0, 0);
    map_edu(&m);
    check_copy(&m, IOVA, GPA, IOVA2 + 0x1000, 0x00201000, 0x11);
    check_copy(&m, IOVA, GPA, 0x40000000 + GPA2, GPA2, 0x12);
    /* Scalable codes for second-stage faults. */
    expect_write_fault(&m, IOVA, 0x85);
    expect_read_fault(&m, IOVA + 0x1000, 0x86);
    expect_read_fault(&m, 1ULL << (levels == 3 ? 39 : 48), 0x83);
    vtd_pt_map(&m.t, &m.pt, IOVA + 0x2000, GPA, 4096,
               VTD_SL_RW | 1ULL << 62);
    expect_read_fault(&m, IOVA + 0x2000, 0x7a);
    {
        uint64_t far = levels == 3 ? 0x80000000 : 0x8000000000ULL;

        qtest_writeq(m.t.s, vtd_pt_entry_addr(&m.t, &m.pt, far, levels),
                     UNASSIGNED | VTD_SL_RW);
        expect_read_fault(&m, far, 0x78);
    }
    vtd_test_quit(&m.t);
}

static void test_second_stage_3(void)
{
    test_second_stage(3);
}

static void test_second_stage_4(void)
{
    test_second_stage(4);
}

/* --- First stage ----------------------------------------------------------- */

static void start_fl(SM *m, const char *opts)
{
    g_autofree char *all = g_strdup_printf(",x-flts=on%s", opts);

    start(m, all, false);
    vtd_pt_init(&m->t, &m->pt, 4, true);
    vtd_pe_build(m->pe, VTD_PGTT_FIRST, DID, 0, 0, m->pt.root, 0);
}

static uint64_t fl_entry(SM *m, uint64_t iova, int level)
{
    return qtest_readq(m->t.s, vtd_pt_entry_addr(&m->t, &m->pt, iova, level));
}

static void test_first_stage(void)
{
    SM m;

    start_fl(&m, "");
    vtd_pt_map(&m.t, &m.pt, IOVA, GPA, 4096, VTD_FL_PRW_US);
    vtd_pt_map(&m.t, &m.pt, IOVA2, GPA2, 4096, VTD_FL_PRW_US);
    map_edu(&m);
    g_assert_true(vtd_edu_read(&m.t, &m.e, IOVA, LEN));
    /* A on every level, D only where written. */
    for (int level = 4; level >= 1; level--) {
        g_assert_true(fl_entry(&m, IOVA, level) & VTD_FL_A);
    }
    g_assert_false(fl_entry(&m, IOVA, 1) & VTD_FL_D);
    g_assert_false(fl_entry(&m, IOVA2, 1) & VTD_FL_A);
    check_copy(&m, IOVA, GPA, IOVA2, GPA2, 0x21);
    g_assert_true(fl_entry(&m, IOVA2, 1) & VTD_FL_D);
    g_assert_false(fl_entry(&m, IOVA, 1) & VTD_FL_D);

    /* A write hit on a translation cached by a read still sets D. */
    g_assert_true(vtd_edu_write(&m.t, &m.e, IOVA, LEN));
    g_assert_true(fl_entry(&m, IOVA, 1) & VTD_FL_D);
    vtd_expect_no_fault(&m.t);
    vtd_test_quit(&m.t);
}

static void test_first_stage_large(void)
{
    SM m;

    start_fl(&m, "");
    g_assert_true(m.t.cap & VTD_CAP_FL1GP);
    vtd_pt_map(&m.t, &m.pt, IOVA2, 0x00200000, 2 << 20, VTD_FL_PRW_US);
    vtd_pt_map(&m.t, &m.pt, 0x40000000, 0, 1 << 30, VTD_FL_PRW_US);
    map_edu(&m);
    check_copy(&m, IOVA2 + 0x100000, GPA, 0x40000000 + GPA2, GPA2, 0x22);
    g_assert_true(fl_entry(&m, 0x40000000, 3) & VTD_FL_D);
    vtd_test_quit(&m.t);

    /* fs1gp=off: PS in a PDPTE is reserved. */
    start_fl(&m, ",fs1gp=off");
    g_assert_false(m.t.cap & VTD_CAP_FL1GP);
    vtd_pt_map(&m.t, &m.pt, 0x40000000, 0, 1 << 30, VTD_FL_PRW_US);
    map_edu(&m);
    expect_read_fault(&m, 0x40000000, 0x72);
    vtd_test_quit(&m.t);
}

/* First-stage permissions and the fault reasons of D.3. */
static void test_first_stage_faults(void)
{
    SM m;
    uint64_t e;

    start_fl(&m, "");
    vtd_pt_map(&m.t, &m.pt, IOVA, GPA, 4096, VTD_FL_P | VTD_FL_US);
    vtd_pt_map(&m.t, &m.pt, IOVA + 0x1000, GPA, 4096,
               VTD_FL_P | VTD_FL_RW);                  /* supervisor */
    vtd_pt_map(&m.t, &m.pt, IOVA + 0x2000, GPA, 4096,
               VTD_FL_PRW_US | VTD_FL_XD);             /* NXE=0 */
    vtd_pt_map(&m.t, &m.pt, IOVA + 0x3000, GPA | 1ULL << 49, 4096,
               VTD_FL_PRW_US);
    map_edu(&m);
    g_assert_true(vtd_edu_read(&m.t, &m.e, IOVA, LEN));
    expect_write_fault(&m, IOVA, 0x85);
    expect_read_fault(&m, IOVA + 0x1000, 0x81);
    expect_read_fault(&m, IOVA + 0x2000, 0x72);
    expect_read_fault(&m, IOVA + 0x3000, 0x72);
    expect_read_fault(&m, IOVA + 0x4000, 0x71);
    expect_read_fault(&m, 0x0000800000000000ULL, 0x80);   /* non-canonical */
    /* A lower table that cannot be read; then the root itself. */
    e = vtd_pt_entry_addr(&m.t, &m.pt, 1ULL << 39, 4);
    qtest_writeq(m.t.s, e, UNASSIGNED | VTD_FL_PRW_US);
    expect_read_fault(&m, 1ULL << 39, 0x70);
    /* The upper canonical half is translated (here: not present). */
    expect_read_fault(&m, 0xffff800000000000ULL, 0x71);
    /* Output on the interrupt window. */
    vtd_pt_map(&m.t, &m.pt, IOVA + 0x5000, 0xfee00000, 4096, VTD_FL_PRW_US);
    expect_read_fault(&m, IOVA + 0x5000, 0x87);
    vtd_test_quit(&m.t);

    start_fl(&m, "");
    m.pe[2] = UNASSIGNED;                              /* FLPTPTR */
    map_edu(&m);
    expect_read_fault(&m, IOVA, 0x73);
    vtd_test_quit(&m.t);

    /* NXE=1: XD is allowed (no execute requests here). */
    start_fl(&m, "");
    m.pe[2] |= VTD_PE2_NXE;
    vtd_pt_map(&m.t, &m.pt, IOVA, GPA, 4096, VTD_FL_PRW_US | VTD_FL_XD);
    map_edu(&m);
    g_assert_true(vtd_edu_read(&m.t, &m.e, IOVA, LEN));
    vtd_test_quit(&m.t);
}

/* --- Nested ---------------------------------------------------------------- */

/*
 * First stage IOVA -> "GPA" 0x50000000 (no RAM there), second stage
 * 0x50000000 -> GPA.  The first-stage tables are guest-physical too: the
 * second stage maps the table area 1:1 (a 1G page over RAM).
 */
#define NEST_GPA        0x50000000ULL

static void start_nested(SM *m, uint64_t table_perm)
{
    start_fl(m, "");
    g_assert_true(m->t.ecap & VTD_ECAP_NEST);
    vtd_pt_init(&m->t, &m->sl, 4, false);
    vtd_pt_map(&m->t, &m->sl, 0, 0, 1 << 30, table_perm);
    vtd_pt_map(&m->t, &m->sl, NEST_GPA, GPA, 4096, VTD_SL_RW);
    vtd_pt_map(&m->t, &m->sl, NEST_GPA + 0x1000, GPA2, 4096, VTD_SL_R);
    vtd_pt_map(&m->t, &m->pt, IOVA, NEST_GPA, 4096, VTD_FL_PRW_US);
    vtd_pt_map(&m->t, &m->pt, IOVA2, NEST_GPA + 0x1000, 4096, VTD_FL_PRW_US);
    vtd_pe_build(m->pe, VTD_PGTT_NESTED, DID, VTD_AW_48, m->sl.root,
                 m->pt.root, 0);
    map_edu(m);
}

static void test_nested(void)
{
    SM m;

    start_nested(&m, VTD_SL_RW);
    check_copy(&m, IOVA2, GPA2, IOVA, GPA, 0x31);
    g_assert_true(fl_entry(&m, IOVA, 1) & VTD_FL_D);
    /* The second stage is read-only there: the intersection denies. */
    expect_write_fault(&m, IOVA2, 0x85);
    /* A first-stage output the second stage does not map. */
    vtd_pt_map(&m.t, &m.pt, IOVA + 0x2000, NEST_GPA + 0x2000, 4096,
               VTD_FL_PRW_US);
    expect_read_fault(&m, IOVA + 0x2000, 0x86);
    vtd_test_quit(&m.t);

    /* The first-stage tables are write-only in the second stage: reading
     * the root table fails 0x75. */
    start_nested(&m, VTD_SL_W);
    expect_read_fault(&m, IOVA, 0x75);
    vtd_test_quit(&m.t);

    /* Read-only: the walk works, but setting A needs write: 0x77. */
    start_nested(&m, VTD_SL_R);
    expect_read_fault(&m, IOVA, 0x77);
    vtd_test_quit(&m.t);
}

/* --- Pass-through, RID_PASID, upper devfns --------------------------------- */

static void test_pass_through(void)
{
    SM m;

    start(&m, "", false);
    vtd_pe_build(m.pe, VTD_PGTT_PT, DID, 0, 0, 0, 0);
    map_edu(&m);
    check_copy(&m, GPA, GPA, GPA2, GPA2, 0x41);
    vtd_test_quit(&m.t);

    start(&m, ",pt=off", false);
    vtd_pe_build(m.pe, VTD_PGTT_PT, DID, 0, 0, 0, 0);
    map_edu(&m);
    expect_read_fault(&m, GPA, 0x5b);
    vtd_test_quit(&m.t);
}

/* Requests without PASID use the context's RID_PASID entry. */
static void test_rid_pasid(void)
{
    SM m;
    uint64_t pe0[8];
    VTDPageTable other;

    start(&m, "", false);
    vtd_pt_init(&m.t, &m.pt, 4, false);
    vtd_pt_map(&m.t, &m.pt, IOVA, GPA, 4096, VTD_SL_RW);
    vtd_pt_map(&m.t, &m.pt, IOVA2, GPA2, 4096, VTD_SL_RW);
    vtd_pe_build(m.pe, VTD_PGTT_SECOND, DID, VTD_AW_48, m.pt.root, 0, 0);
    m.dir = vtd_sm_map_device(&m.t, 0, EDU_DEVFN, 0x1234, m.pe);
    /* PASID 0 maps the same IOVA elsewhere: it must not be used. */
    vtd_pt_init(&m.t, &other, 4, false);
    vtd_pt_map(&m.t, &other, IOVA2, GPA, 4096, VTD_SL_RW);
    vtd_pe_build(pe0, VTD_PGTT_SECOND, DID + 1, VTD_AW_48, other.root, 0, 0);
    vtd_sm_set_pasid_entry(&m.t, m.dir, 0, pe0);
    vtd_enable_dmar(&m.t);
    check_copy(&m, IOVA, GPA, IOVA2, GPA2, 0x51);
    vtd_test_quit(&m.t);
}

/* devfn >= 0x80: the upper half of the root entry (UP/UCTP). */
static void test_upper_devfn(void)
{
    SM m;
    VTDEdu e;
    uint8_t in[LEN], out[LEN];

    memset(&m, 0, sizeof(m));
    vtd_test_start(&m.t, ",x-scalable-mode=on", "-device edu,addr=11.0");
    vtd_edu_init(&m.t, &e, 0, 0x88, 0);
    vtd_sm_root_new(&m.t);
    vtd_pe_build(m.pe, VTD_PGTT_PT, DID, 0, 0, 0, 0);
    vtd_enable_dmar(&m.t);
    g_assert_false(vtd_edu_read(&m.t, &e, GPA, LEN));
    vtd_expect_one_fault(&m.t, 0x39, 0x88, GPA, false);
    vtd_sm_map_device(&m.t, 0, 0x88, 0, m.pe);
    g_assert_cmphex(qtest_readq(m.t.s, vtd_root_entry_addr(&m.t, 0)), ==, 0);
    fill_src(&m, GPA, 0x61, in);
    g_assert_true(vtd_edu_read(&m.t, &e, GPA, LEN));
    g_assert_true(vtd_edu_write(&m.t, &e, GPA2, LEN));
    qtest_memread(m.t.s, GPA2, out, LEN);
    g_assert_cmpmem(out, LEN, in, LEN);
    vtd_test_quit(&m.t);
}

/* --- PASID-tagged DMA (pasid-testdev) --------------------------------------- */

static void start_ptd(SM *m, const char *opts)
{
    VTDPageTable pt5;
    uint64_t pe5[8];

    start(m, opts, true);
    /* RID_PASID 0: second stage IOVA -> GPA. */
    vtd_pt_init(&m->t, &m->pt, 4, false);
    vtd_pt_map(&m->t, &m->pt, IOVA, GPA, 4096, VTD_SL_RW);
    vtd_pe_build(m->pe, VTD_PGTT_SECOND, DID, VTD_AW_48, m->pt.root, 0, 0);
    m->dir = vtd_sm_map_device(&m->t, 0, PTD_DEVFN, 0, m->pe);
    /* PASID 5: the same IOVA -> GPA2, another domain. */
    vtd_pt_init(&m->t, &pt5, 4, false);
    vtd_pt_map(&m->t, &pt5, IOVA, GPA2, 4096, VTD_SL_RW);
    vtd_pe_build(pe5, VTD_PGTT_SECOND, DID + 1, VTD_AW_48, pt5.root, 0, 0);
    vtd_sm_set_pasid_entry(&m->t, m->dir, 5, pe5);
    vtd_enable_dmar(&m->t);
}

static void test_pasid_dma(void)
{
    SM m;
    VTDFault rec;

    start_ptd(&m, ",x-pasid-mode=on");
    g_assert_true(m.t.ecap & VTD_ECAP_PASID);
    g_assert_true(ptd_write_lands(&m, IOVA, -1, GPA, 0x71));
    g_assert_true(ptd_write_lands(&m, IOVA, 5, GPA2, 0x72));
    g_assert_true(ptd_write_lands(&m, IOVA, 0, GPA, 0x73));
    /* PASID 6 has no entry: 0x59 with the PASID in the record. */
    g_assert_cmphex(ptd_dma(&m, IOVA, 6, true), ==,
                    PTD_DMA_STATUS_DONE | PTD_DMA_STATUS_ERROR |
                    PTD_MEMTX_ACCESS_ERROR << PTD_DMA_STATUS_RESULT_SHIFT);
    rec = vtd_expect_one_fault(&m.t, 0x59, PTD_SID, IOVA, true);
    g_assert_true(rec.pp);
    g_assert_cmphex(rec.pasid, ==, 6);
    /* PASID 128 and above: beyond PDTS 0 (128 directory entries). */
    g_assert_cmphex(ptd_dma(&m, IOVA, 128 << 6, false) & PTD_DMA_STATUS_ERROR,
                    ==, PTD_DMA_STATUS_ERROR);
    rec = vtd_expect_one_fault(&m.t, 0x46, PTD_SID, IOVA, false);
    g_assert_cmphex(rec.pasid, ==, 128 << 6);
    /* A PASID-tagged write into 0xfeexxxxx is DMA, translated. */
    g_assert_cmphex(ptd_dma(&m, 0xfee00000, 5, true) & PTD_DMA_STATUS_ERROR,
                    ==, PTD_DMA_STATUS_ERROR);
    rec = vtd_expect_one_fault(&m.t, 0x85, PTD_SID, 0xfee00000, true);
    g_assert_true(rec.pp);
    vtd_test_quit(&m.t);
}

/* Requests with PASID need PASIDE in the context (0x45), and scalable
 * mode (0x31 with a legacy root table). */
static void test_pasid_faults(void)
{
    SM m;
    uint64_t ce;

    start_ptd(&m, ",x-pasid-mode=on");
    ce = vtd_context_entry_addr(&m.t, 0, PTD_DEVFN);
    qtest_writeq(m.t.s, ce, qtest_readq(m.t.s, ce) & ~VTD_SMCTX_PASIDE);
    vtd_set_root(&m.t, m.t.root, VTD_TTM_SCALABLE);
    g_assert_false(ptd_write_lands(&m, IOVA, 5, GPA2, 0x74));
    vtd_expect_one_fault(&m.t, 0x45, PTD_SID, IOVA, true);
    g_assert_true(ptd_write_lands(&m, IOVA, -1, GPA, 0x75));
    vtd_test_quit(&m.t);

    /* Without x-pasid-mode a PASID-tagged request is refused too. */
    start_ptd(&m, "");
    g_assert_false(ptd_write_lands(&m, IOVA, 5, GPA2, 0x76));
    vtd_expect_one_fault(&m.t, 0x45, PTD_SID, IOVA, true);
    vtd_test_quit(&m.t);

    start_ptd(&m, ",x-pasid-mode=on");
    vtd_legacy_root_new(&m.t);
    g_assert_false(ptd_write_lands(&m, IOVA, 5, GPA2, 0x77));
    vtd_expect_one_fault(&m.t, 0x31, PTD_SID, IOVA, true);
    vtd_test_quit(&m.t);
}

/* --- Scalable-mode structure faults ------------------------------------------- */

static void test_structure_faults(void)
{
    SM m;
    uint64_t re, ce, de, pea;

    start(&m, "", false);
    vtd_pe_build(m.pe, VTD_PGTT_PT, DID, 0, 0, 0, 0);
    map_edu(&m);
    re = vtd_root_entry_addr(&m.t, 0);
    ce = vtd_context_entry_addr(&m.t, 0, EDU_DEVFN);
    de = m.dir;
    pea = vtd_sm_pasid_entry_addr(&m.t, m.dir, 0);
    g_assert_true(vtd_edu_read(&m.t, &m.e, GPA, LEN));

#define FLUSH() vtd_set_root(&m.t, m.t.root, VTD_TTM_SCALABLE)
#define POKE(a, v) do { qtest_writeq(m.t.s, (a), (v)); FLUSH(); } while (0)
    /* PASID entry: reserved, bad PGTT, not present, unreadable. */
    POKE(pea + 24, 1);
    expect_read_fault(&m, GPA, 0x5a);
    POKE(pea + 24, 0);
    POKE(pea, VTD_PE_P | VTD_PE_PGTT(5));
    expect_read_fault(&m, GPA, 0x5b);
    POKE(pea, VTD_PE_P | VTD_PE_PGTT(VTD_PGTT_FIRST));   /* no FLTS */
    expect_read_fault(&m, GPA, 0x5b);
    POKE(pea, VTD_PE_P | VTD_PE_PGTT(VTD_PGTT_SECOND) | VTD_PE_AW(3));
    expect_read_fault(&m, GPA, 0x5b);
    POKE(pea, VTD_PE_PGTT(VTD_PGTT_PT));
    expect_read_fault(&m, GPA, 0x59);
    POKE(pea, VTD_PE_PGTT(VTD_PGTT_PT) | VTD_PE_FPD);    /* suppressed */
    g_assert_false(vtd_edu_read(&m.t, &m.e, GPA, LEN));
    vtd_expect_no_fault(&m.t);
    POKE(pea, VTD_PE_P | VTD_PE_PGTT(VTD_PGTT_PT));
    POKE(de, UNASSIGNED | VTD_PDIR_P);
    expect_read_fault(&m, GPA, 0x58);
    /* Directory: reserved, not present, unreadable (FPD honoured). */
    POKE(de, (pea & ~0xfffULL) | VTD_PDIR_P | 0x4);
    expect_read_fault(&m, GPA, 0x52);
    POKE(de, 0);
    expect_read_fault(&m, GPA, 0x51);
    POKE(de, VTD_PDIR_FPD);
    g_assert_false(vtd_edu_read(&m.t, &m.e, GPA, LEN));
    vtd_expect_no_fault(&m.t);
    POKE(de, (pea & ~0xfffULL) | VTD_PDIR_P);
    POKE(ce, UNASSIGNED | VTD_SMCTX_P);
    expect_read_fault(&m, GPA, 0x50);
    /* Context: reserved, DTE without ECAP.DT, not present, unreadable. */
    POKE(ce, de | VTD_SMCTX_P | 0x20);
    expect_read_fault(&m, GPA, 0x42);
    POKE(ce + 16, 1);
    POKE(ce, de | VTD_SMCTX_P);
    expect_read_fault(&m, GPA, 0x42);
    POKE(ce + 16, 0);
    POKE(ce, de | VTD_SMCTX_P | VTD_SMCTX_DTE);
    expect_read_fault(&m, GPA, 0x43);
    POKE(ce, de);
    expect_read_fault(&m, GPA, 0x41);
    POKE(ce, de | VTD_SMCTX_FPD);
    g_assert_false(vtd_edu_read(&m.t, &m.e, GPA, LEN));
    vtd_expect_no_fault(&m.t);
    POKE(ce, de | VTD_SMCTX_P);
    g_assert_true(vtd_edu_read(&m.t, &m.e, GPA, LEN));
    /* Root: reserved, LP clear, unreadable, and the TTM. */
    {
        uint64_t lctp = qtest_readq(m.t.s, re);

        POKE(re, lctp | 0x2);
        expect_read_fault(&m, GPA, 0x3a);
        POKE(re, 0);
        expect_read_fault(&m, GPA, 0x39);
        POKE(re, UNASSIGNED | 1);
        expect_read_fault(&m, GPA, 0x40);
        POKE(re, lctp);
    }
    {
        uint64_t root = m.t.root;

        vtd_set_root(&m.t, UNASSIGNED, VTD_TTM_SCALABLE);
        expect_read_fault(&m, GPA, 0x38);
        vtd_set_root(&m.t, root, 2);
        expect_read_fault(&m, GPA, 0x30);
        vtd_set_root(&m.t, root, 3);
        expect_read_fault(&m, GPA, 0x30);
        vtd_set_root(&m.t, root, VTD_TTM_SCALABLE);
    }
    g_assert_true(vtd_edu_read(&m.t, &m.e, GPA, LEN));
#undef POKE
#undef FLUSH
    vtd_test_quit(&m.t);
}

/* TTM=01 on an IOMMU without scalable mode: 0x30. */
static void test_ttm_without_smts(void)
{
    VTDTest t;
    VTDEdu e;

    vtd_test_start(&t, "", EDU_OPTS);
    vtd_edu_init(&t, &e, 0, EDU_DEVFN, 0);
    vtd_set_root(&t, vtd_alloc_page(&t), VTD_TTM_SCALABLE);
    vtd_enable_dmar(&t);
    g_assert_false(vtd_edu_read(&t, &e, GPA, LEN));
    vtd_expect_one_fault(&t, 0x30, EDU_SID, GPA, false);
    vtd_test_quit(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/intel-iommu/scalable/second-stage-3-level",
                    test_second_stage_3);
    g_test_add_func("/intel-iommu/scalable/second-stage-4-level",
                    test_second_stage_4);
    g_test_add_func("/intel-iommu/scalable/first-stage", test_first_stage);
    g_test_add_func("/intel-iommu/scalable/first-stage-large",
                    test_first_stage_large);
    g_test_add_func("/intel-iommu/scalable/first-stage-faults",
                    test_first_stage_faults);
    g_test_add_func("/intel-iommu/scalable/nested", test_nested);
    g_test_add_func("/intel-iommu/scalable/pass-through", test_pass_through);
    g_test_add_func("/intel-iommu/scalable/rid-pasid", test_rid_pasid);
    g_test_add_func("/intel-iommu/scalable/upper-devfn", test_upper_devfn);
    g_test_add_func("/intel-iommu/scalable/pasid-dma", test_pasid_dma);
    g_test_add_func("/intel-iommu/scalable/pasid-faults", test_pasid_faults);
    g_test_add_func("/intel-iommu/scalable/structure-faults",
                    test_structure_faults);
    g_test_add_func("/intel-iommu/scalable/ttm-without-smts",
                    test_ttm_without_smts);
    return g_test_run();
}
