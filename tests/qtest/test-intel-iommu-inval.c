/*
 * intel-iommu invalidation (facts E): a cached translation stays in use
 * until the guest invalidates it at a granularity that covers it, and not
 * after; register-based and queued invalidation; wait descriptors with
 * status write and completion interrupt (facts A.4); queue errors (IQE
 * with each IQEI the model can produce, IQH left on the bad descriptor,
 * resume after IQE is cleared and IQT rewritten) and device-TLB time-outs
 * (ITE); 128- and 256-bit queues.
 *
 * Staleness is proved with pasid-testdev DMA (synchronous): the test maps
 * an IOVA to page A, DMAs (filling the IOTLB), points the entry at page B
 * without invalidating, and checks which page the next DMA writes.
 */
#include <string.h>
#include <glib.h>

#include "libvtd.h"
#include "../../include/hw/misc/pasid-testdev-regs.h"

#define PTD_DEVFN       (3 << 3)
#define PTD_SID         PTD_DEVFN
#define PTD_OPTS        "-device pasid-testdev,addr=03.0"
#define ECAM_BASE       0xb0000000ULL
#define PCI_COMMAND     0x04
#define DID             5
#define PASID           5

#define GPA_A           0x00300000ULL
#define GPA_B           0x00400000ULL
#define IOVA            0x0a003000ULL
#define LEN             64

#define IEADDR          0xfee01000u
#define IEDATA          0x52u
#define FEADDR          0xfee02000u
#define FEDATA          0x61u

typedef struct Fixture {
    VTDTest t;
    uint64_t bar;
    VTDPageTable pt;
    uint64_t status;            /* page of wait status words */
    uint8_t seed;
} Fixture;

/* --- Machine, pasid-testdev DMA ------------------------------------------ */

static void start(Fixture *f, const char *opts)
{
    memset(f, 0, sizeof(*f));
    vtd_test_start(&f->t, opts, PTD_OPTS);
    f->bar = qpci_config_readl(f->t.s, 0, PTD_DEVFN, 0x10) & ~0xfu;
    g_assert_cmphex(f->bar, !=, 0);
    qpci_config_writew(f->t.s, 0, PTD_DEVFN, PCI_COMMAND, 0x6);
    f->status = vtd_alloc_page(&f->t);
}

/* Legacy root; a 4-level table for pasid-testdev in DID; TE=1. */
static void start_legacy(Fixture *f, const char *opts)
{
    start(f, opts);
    vtd_legacy_root_new(&f->t);
    vtd_pt_init(&f->t, &f->pt, 4, false);
    vtd_legacy_map_device(&f->t, 0, PTD_DEVFN, f->pt.root, VTD_AW_48, DID);
    vtd_enable_dmar(&f->t);
}

/*
 * DMA-writes a fresh pattern to iova (PASID-tagged with pasid_reg !=
 * 0); returns 'A' or 'B' for the page it landed in, 'F' for a failed
 * DMA (the fault is cleared).
 */
static char dma_lands(Fixture *f, uint64_t iova, uint32_t pasid_reg)
{
    uint8_t pat[LEN], a[LEN], b[LEN];
    uint32_t st;

    vtd_fill(pat, sizeof(pat), ++f->seed);
    qtest_memwrite(f->t.s, f->bar + PTD_BUF_OFFSET, pat, sizeof(pat));
    qtest_memset(f->t.s, GPA_A + (iova & 0xfff), 0, LEN);
    qtest_memset(f->t.s, GPA_B + (iova & 0xfff), 0, LEN);
    qtest_writeq(f->t.s, f->bar + PTD_REG_DMA_ADDR, iova);
    qtest_writel(f->t.s, f->bar + PTD_REG_DMA_LEN, LEN);
    qtest_writel(f->t.s, f->bar + PTD_REG_DMA_PASID, pasid_reg);
    qtest_writel(f->t.s, f->bar + PTD_REG_DMA_FLAGS, PTD_DMA_FLAG_TO_MEM);
    qtest_writel(f->t.s, f->bar + PTD_REG_DMA_CMD, PTD_DMA_CMD_START);
    st = qtest_readl(f->t.s, f->bar + PTD_REG_DMA_STATUS);
    if (st != PTD_DMA_STATUS_DONE) {
        vtd_clear_all_faults(&f->t);
        return 'F';
    }
    qtest_memread(f->t.s, GPA_A + (iova & 0xfff), a, LEN);
    qtest_memread(f->t.s, GPA_B + (iova & 0xfff), b, LEN);
    if (!memcmp(a, pat, LEN)) {
        return 'A';
    }
    return !memcmp(b, pat, LEN) ? 'B' : '?';
}

static char lands(Fixture *f, uint64_t iova)
{
    return dma_lands(f, iova, 0);
}

/* Points the leaf of IOVA at gpa (no invalidation). */
static void remap(Fixture *f, VTDPageTable *pt, uint64_t iova, uint64_t gpa)
{
    vtd_pt_map(&f->t, pt, iova, gpa, 4096,
               pt->first_stage ? VTD_FL_PRW_US : VTD_SL_RW);
}

/* --- Invalidation helpers -------------------------------------------------- */

static void qi_ok(Fixture *f, VTDQIDesc d)
{
    g_assert_true(vtd_qi_submit_wait(&f->t, &d, 1));
}

static void reg_iotlb(Fixture *f, unsigned g, uint16_t did, uint64_t addr,
                      unsigned am)
{
    uint64_t v;

    vtd_writeq(&f->t, VTD_REG_IVA, addr | am);
    vtd_writeq(&f->t, VTD_REG_IOTLB, VTD_TLB_IVT | VTD_TLB_IIRG(g) |
               VTD_TLB_DID(did));
    v = vtd_readq(&f->t, VTD_REG_IOTLB);
    g_assert_cmphex(v & VTD_TLB_IVT, ==, 0);
    g_assert_cmpuint(VTD_TLB_IAIG(v), ==, g);
}

static void reg_cc(Fixture *f, unsigned g, uint16_t did, uint16_t sid,
                   unsigned fm)
{
    uint64_t v;

    vtd_writeq(&f->t, VTD_REG_CCMD, VTD_CCMD_ICC | VTD_CCMD_CIRG(g) |
               VTD_CCMD_FM(fm) | VTD_CCMD_SID(sid) | did);
    v = vtd_readq(&f->t, VTD_REG_CCMD);
    g_assert_cmphex(v & VTD_CCMD_ICC, ==, 0);
    g_assert_cmpuint(VTD_CCMD_CAIG(v), ==, g);
}

/* IOTLB invalidation, queued or through the registers. */
static void inv_iotlb(Fixture *f, bool qi, unsigned g, uint16_t did,
                      uint64_t addr, unsigned am)
{
    if (!qi) {
        reg_iotlb(f, g, did, addr, am);
    } else if (g == VTD_INV_GLOBAL) {
        qi_ok(f, vtd_qi_desc_iotlb_global());
    } else if (g == VTD_INV_DOMAIN) {
        qi_ok(f, vtd_qi_desc_iotlb_domain(did));
    } else {
        qi_ok(f, vtd_qi_desc_iotlb_page(did, addr, am, false));
    }
}

static void inv_cc(Fixture *f, bool qi, unsigned g, uint16_t did,
                   uint16_t sid, unsigned fm)
{
    if (!qi) {
        reg_cc(f, g, did, sid, fm);
    } else if (g == VTD_INV_GLOBAL) {
        qi_ok(f, vtd_qi_desc_cc_global());
    } else if (g == VTD_INV_DOMAIN) {
        qi_ok(f, vtd_qi_desc_cc_domain(did));
    } else {
        qi_ok(f, vtd_qi_desc_cc_device(did, sid, fm));
    }
}

/* --- IOTLB granularities ------------------------------------------------- */

/*
 * Stale until invalidated at granularity g (queued or register-based);
 * invalidations that do not cover the entry keep it.
 */
static void check_iotlb_stale(bool qi, unsigned g)
{
    Fixture f;

    start_legacy(&f, "");
    if (qi) {
        vtd_qi_setup(&f.t, false, 0);
    }
    remap(&f, &f.pt, IOVA, GPA_A);
    g_assert_cmpint(lands(&f, IOVA), ==, 'A');
    remap(&f, &f.pt, IOVA, GPA_B);
    g_assert_cmpint(lands(&f, IOVA), ==, 'A');      /* cached */

    /* Wrong granularity: another domain, another page, AM range that
     * stops short, the context cache. */
    inv_iotlb(&f, qi, VTD_INV_DOMAIN, DID + 1, 0, 0);
    inv_iotlb(&f, qi, VTD_INV_PAGE, DID, IOVA + 0x1000, 0);
    inv_iotlb(&f, qi, VTD_INV_PAGE, DID, IOVA - 0x3000, 1);
    inv_iotlb(&f, qi, VTD_INV_PAGE, DID + 1, IOVA, 0);
    inv_cc(&f, qi, VTD_INV_GLOBAL, 0, 0, 0);
    g_assert_cmpint(lands(&f, IOVA), ==, 'A');

    switch (g) {
    case VTD_INV_GLOBAL:
        inv_iotlb(&f, qi, g, 0, 0, 0);
        break;
    case VTD_INV_DOMAIN:
        inv_iotlb(&f, qi, g, DID, 0, 0);
        break;
    default:                    /* AM 2: 0x0a000000-0x0a003fff */
        inv_iotlb(&f, qi, g, DID, IOVA - 0x3000, 2);
        break;
    }
    g_assert_cmpint(lands(&f, IOVA), ==, 'B');
    vtd_expect_no_fault(&f.t);
    vtd_test_quit(&f.t);
}

static void test_iotlb_global_reg(void)
{
    check_iotlb_stale(false, VTD_INV_GLOBAL);
}

static void test_iotlb_global_qi(void)
{
    check_iotlb_stale(true, VTD_INV_GLOBAL);
}

static void test_iotlb_domain_reg(void)
{
    check_iotlb_stale(false, VTD_INV_DOMAIN);
}

static void test_iotlb_domain_qi(void)
{
    check_iotlb_stale(true, VTD_INV_DOMAIN);
}

static void test_iotlb_page_reg(void)
{
    check_iotlb_stale(false, VTD_INV_PAGE);
}

static void test_iotlb_page_qi(void)
{
    check_iotlb_stale(true, VTD_INV_PAGE);
}

/* A 256-bit queue works in legacy mode too (ECAP.SMTS: Linux uses it). */
static void test_iotlb_page_qi256(void)
{
    Fixture f;

    start_legacy(&f, ",x-scalable-mode=on");
    vtd_qi_setup(&f.t, true, 1);
    remap(&f, &f.pt, IOVA, GPA_A);
    g_assert_cmpint(lands(&f, IOVA), ==, 'A');
    remap(&f, &f.pt, IOVA, GPA_B);
    inv_iotlb(&f, true, VTD_INV_PAGE, DID, IOVA + 0x1000, 0);
    g_assert_cmpint(lands(&f, IOVA), ==, 'A');
    inv_iotlb(&f, true, VTD_INV_PAGE, DID, IOVA, 0);
    g_assert_cmpint(lands(&f, IOVA), ==, 'B');
    vtd_test_quit(&f.t);
}

/* An unmapped page keeps working until invalidated, then faults. */
static void test_iotlb_unmap(void)
{
    Fixture f;

    start_legacy(&f, "");
    remap(&f, &f.pt, IOVA, GPA_A);
    g_assert_cmpint(lands(&f, IOVA), ==, 'A');
    vtd_pt_unmap(&f.t, &f.pt, IOVA, 1);
    g_assert_cmpint(lands(&f, IOVA), ==, 'A');
    reg_iotlb(&f, VTD_INV_PAGE, DID, IOVA, 0);
    g_assert_cmpint(lands(&f, IOVA), ==, 'F');
    vtd_test_quit(&f.t);
}

/* --- Context cache ------------------------------------------------------- */

/*
 * The context entry moves the device to another table (IOVA -> B); an
 * IOTLB flush alone keeps the cached context (so the old table), until a
 * context-cache invalidation covering the device.
 */
static void check_context_stale(bool qi, unsigned g, unsigned fm)
{
    VTDPageTable pt2;
    Fixture f;

    start_legacy(&f, "");
    if (qi) {
        vtd_qi_setup(&f.t, false, 0);
    }
    remap(&f, &f.pt, IOVA, GPA_A);
    g_assert_cmpint(lands(&f, IOVA), ==, 'A');
    vtd_pt_init(&f.t, &pt2, 4, false);
    remap(&f, &pt2, IOVA, GPA_B);
    vtd_legacy_map_device(&f.t, 0, PTD_DEVFN, pt2.root, VTD_AW_48, DID);
    inv_iotlb(&f, qi, VTD_INV_GLOBAL, 0, 0, 0);
    g_assert_cmpint(lands(&f, IOVA), ==, 'A');

    inv_cc(&f, qi, VTD_INV_DEVICE, DID, PTD_SID + 8, 0);  /* next slot */
    inv_cc(&f, qi, VTD_INV_DEVICE, DID, PTD_SID + 1, 0);  /* function 1 */
    inv_cc(&f, qi, VTD_INV_DOMAIN, DID + 1, 0, 0);
    inv_iotlb(&f, qi, VTD_INV_GLOBAL, 0, 0, 0);
    g_assert_cmpint(lands(&f, IOVA), ==, 'A');

    inv_cc(&f, qi, g, DID, PTD_SID | (fm ? 7 : 0), fm);
    inv_iotlb(&f, qi, VTD_INV_DOMAIN, DID, 0, 0);
    g_assert_cmpint(lands(&f, IOVA), ==, 'B');
    vtd_expect_no_fault(&f.t);
    vtd_test_quit(&f.t);
}

static void test_cc_device_reg(void)
{
    check_context_stale(false, VTD_INV_DEVICE, 0);
}

static void test_cc_device_fm_qi(void)
{
    check_context_stale(true, VTD_INV_DEVICE, 3);
}

static void test_cc_domain_reg(void)
{
    check_context_stale(false, VTD_INV_DOMAIN, 0);
}

static void test_cc_domain_qi(void)
{
    check_context_stale(true, VTD_INV_DOMAIN, 0);
}

static void test_cc_global_reg(void)
{
    check_context_stale(false, VTD_INV_GLOBAL, 0);
}

static void test_cc_global_qi(void)
{
    check_context_stale(true, VTD_INV_GLOBAL, 0);
}

/* --- Scalable mode: PASID-based IOTLB and PASID cache --------------------- */

#define PASID_REG(p)    (PTD_DMA_PASID_VALID | (p))

/*
 * Scalable root; pasid-testdev's context with PASIDE, RID_PASID 0 in
 * pass-through, PASID 5 first-stage (f->pt) in DID; PASID enabled in the
 * device; 256-bit queue.  Returns the PASID directory.
 */
static uint64_t start_pasid(Fixture *f)
{
    uint64_t pe[8], dir;

    start(f, ",x-scalable-mode=on,x-flts=on,x-pasid-mode=on");
    qtest_writew(f->t.s, ECAM_BASE + (PTD_DEVFN << 12) +
                 PTD_PASID_CAP_OFFSET + PTD_PASID_CTRL, PTD_PASID_CTRL_ENABLE);
    vtd_sm_root_new(&f->t);
    vtd_pt_init(&f->t, &f->pt, 4, true);
    vtd_pe_build(pe, VTD_PGTT_PT, DID, 0, 0, 0, 0);
    dir = vtd_sm_map_device(&f->t, 0, PTD_DEVFN, 0, pe);
    vtd_pe_build(pe, VTD_PGTT_FIRST, DID, 0, 0, f->pt.root, 0);
    vtd_sm_set_pasid_entry(&f->t, dir, PASID, pe);
    vtd_enable_dmar(&f->t);
    vtd_qi_setup(&f->t, true, 0);
    return dir;
}

static void test_piotlb(void)
{
    Fixture f;

    start_pasid(&f);
    remap(&f, &f.pt, IOVA, GPA_A);
    g_assert_cmpint(dma_lands(&f, IOVA, PASID_REG(PASID)), ==, 'A');
    remap(&f, &f.pt, IOVA, GPA_B);
    qi_ok(&f, vtd_qi_desc_piotlb(3, DID, PASID, IOVA + 0x1000, 0, false));
    qi_ok(&f, vtd_qi_desc_piotlb(3, DID + 1, PASID, IOVA, 0, false));
    qi_ok(&f, vtd_qi_desc_piotlb(3, DID, PASID + 1, IOVA, 0, false));
    qi_ok(&f, vtd_qi_desc_piotlb(2, DID, PASID + 1, 0, 0, false));
    qi_ok(&f, vtd_qi_desc_iotlb_domain(DID + 1));
    g_assert_cmpint(dma_lands(&f, IOVA, PASID_REG(PASID)), ==, 'A');
    /* Page-selective, AM 2 covering it. */
    qi_ok(&f, vtd_qi_desc_piotlb(3, DID, PASID, IOVA - 0x3000, 2, false));
    g_assert_cmpint(dma_lands(&f, IOVA, PASID_REG(PASID)), ==, 'B');

    /* PASID-wide. */
    remap(&f, &f.pt, IOVA, GPA_A);
    g_assert_cmpint(dma_lands(&f, IOVA, PASID_REG(PASID)), ==, 'B');
    qi_ok(&f, vtd_qi_desc_piotlb(2, DID, PASID, 0, 0, false));
    g_assert_cmpint(dma_lands(&f, IOVA, PASID_REG(PASID)), ==, 'A');

    /* An IOTLB page-selective invalidation of the domain drops every
     * first-stage entry of it, whatever the page (facts E.4). */
    remap(&f, &f.pt, IOVA, GPA_B);
    g_assert_cmpint(dma_lands(&f, IOVA, PASID_REG(PASID)), ==, 'A');
    qi_ok(&f, vtd_qi_desc_iotlb_page(DID, 0x7000000, 0, false));
    g_assert_cmpint(dma_lands(&f, IOVA, PASID_REG(PASID)), ==, 'B');
    vtd_expect_no_fault(&f.t);
    vtd_test_quit(&f.t);
}

/* A changed PASID entry is seen after a PASID-cache invalidation that
 * covers it (plus the IOTLB flush a driver does), not before. */
static void check_pasid_cache(unsigned g)
{
    VTDPageTable pt2;
    uint64_t pe[8], dir;
    Fixture f;

    dir = start_pasid(&f);
    remap(&f, &f.pt, IOVA, GPA_A);
    g_assert_cmpint(dma_lands(&f, IOVA, PASID_REG(PASID)), ==, 'A');
    vtd_pt_init(&f.t, &pt2, 4, true);
    remap(&f, &pt2, IOVA, GPA_B);
    vtd_pe_build(pe, VTD_PGTT_FIRST, DID, 0, 0, pt2.root, 0);
    vtd_sm_set_pasid_entry(&f.t, dir, PASID, pe);

    qi_ok(&f, vtd_qi_desc_piotlb(2, DID, PASID, 0, 0, false));
    g_assert_cmpint(dma_lands(&f, IOVA, PASID_REG(PASID)), ==, 'A');
    qi_ok(&f, vtd_qi_desc_pc(1, DID, PASID + 1));
    qi_ok(&f, vtd_qi_desc_pc(0, DID + 1, 0));
    qi_ok(&f, vtd_qi_desc_piotlb(2, DID, PASID, 0, 0, false));
    g_assert_cmpint(dma_lands(&f, IOVA, PASID_REG(PASID)), ==, 'A');

    qi_ok(&f, vtd_qi_desc_pc(g, DID, PASID));
    qi_ok(&f, vtd_qi_desc_piotlb(2, DID, PASID, 0, 0, false));
    g_assert_cmpint(dma_lands(&f, IOVA, PASID_REG(PASID)), ==, 'B');
    vtd_expect_no_fault(&f.t);
    vtd_test_quit(&f.t);
}

static void test_pc_pasid(void)
{
    check_pasid_cache(1);
}

static void test_pc_domain(void)
{
    check_pasid_cache(0);
}

static void test_pc_global(void)
{
    check_pasid_cache(3);
}

/* --- Wait descriptor ---------------------------------------------------- */

static void test_wait_status(void)
{
    Fixture f;
    VTDQIDesc d[3];

    start(&f, "");
    vtd_qi_setup(&f.t, false, 0);
    qtest_writeq(f.t.s, f.status, 0);
    d[0] = vtd_qi_desc_wait(0x11111111, f.status, VTD_QI_WAIT_SW);
    d[1] = vtd_qi_desc_wait(0x22222222, f.status + 4,
                            VTD_QI_WAIT_SW | VTD_QI_WAIT_FN);
    d[2] = vtd_qi_desc_wait(0, 0, 0);   /* a fence: nothing to do */
    vtd_qi_submit(&f.t, d, 3);
    g_assert_cmphex(qtest_readq(f.t.s, f.status), ==, 0x2222222211111111ULL);
    g_assert_cmphex(vtd_qi_head(&f.t), ==, vtd_qi_tail(&f.t));
    g_assert_cmphex(vtd_qi_head(&f.t), ==, 3 * 16);
    g_assert_cmphex(vtd_fsts(&f.t), ==, 0);
    /* No completion event without IF. */
    g_assert_cmphex(vtd_readl(&f.t, VTD_REG_ICS), ==, 0);
    vtd_test_quit(&f.t);
}

static void submit_if(Fixture *f, uint64_t flags)
{
    VTDQIDesc d = vtd_qi_desc_wait(0x5a5a, f->status, VTD_QI_WAIT_IF | flags);

    vtd_qi_submit(&f->t, &d, 1);
}

static void expect_msi(Fixture *f, uint64_t addr, uint32_t data)
{
    uint64_t a;
    uint32_t d;

    g_assert_true(qtest_msi_pop(f->t.s, &a, &d));
    g_assert_cmphex(a, ==, addr);
    g_assert_cmphex(d, ==, data);
}

static void expect_no_msi(Fixture *f)
{
    uint64_t a;
    uint32_t d;

    g_assert_false(qtest_msi_pop(f->t.s, &a, &d));
}

/* IF: ICS.IWC and the completion event (facts A.4). */
static void test_wait_interrupt(void)
{
    Fixture f;

    start(&f, "");
    vtd_qi_setup(&f.t, false, 0);
    g_assert_cmphex(vtd_readl(&f.t, VTD_REG_IECTL), ==, VTD_ECTL_IM);
    vtd_writel(&f.t, VTD_REG_IEDATA, IEDATA);
    vtd_writel(&f.t, VTD_REG_IEADDR, IEADDR);
    vtd_writel(&f.t, VTD_REG_IECTL, 0);
    qtest_msi_clear(f.t.s);

    /* Unmasked: the message goes at once, IP stays clear. */
    submit_if(&f, VTD_QI_WAIT_SW);
    g_assert_cmphex(qtest_readl(f.t.s, f.status), ==, 0x5a5a);
    g_assert_cmphex(vtd_readl(&f.t, VTD_REG_ICS), ==, 1);
    expect_msi(&f, IEADDR, IEDATA);
    expect_no_msi(&f);
    g_assert_cmphex(vtd_readl(&f.t, VTD_REG_IECTL), ==, 0);

    /* IWC still set: no new event. */
    submit_if(&f, 0);
    expect_no_msi(&f);
    vtd_writel(&f.t, VTD_REG_ICS, 1);           /* W1C */
    g_assert_cmphex(vtd_readl(&f.t, VTD_REG_ICS), ==, 0);
    submit_if(&f, 0);
    expect_msi(&f, IEADDR, IEDATA);

    /* Masked: IP instead; unmasking sends it and clears IP. */
    vtd_writel(&f.t, VTD_REG_ICS, 1);
    vtd_writel(&f.t, VTD_REG_IECTL, VTD_ECTL_IM);
    submit_if(&f, 0);
    expect_no_msi(&f);
    g_assert_cmphex(vtd_readl(&f.t, VTD_REG_IECTL), ==,
                    VTD_ECTL_IM | VTD_ECTL_IP);
    vtd_writel(&f.t, VTD_REG_IECTL, 0);
    expect_msi(&f, IEADDR, IEDATA);
    g_assert_cmphex(vtd_readl(&f.t, VTD_REG_IECTL), ==, 0);

    /* Masked, then IWC cleared: IP goes too, unmasking sends nothing. */
    vtd_writel(&f.t, VTD_REG_ICS, 1);
    vtd_writel(&f.t, VTD_REG_IECTL, VTD_ECTL_IM);
    submit_if(&f, 0);
    g_assert_cmphex(vtd_readl(&f.t, VTD_REG_IECTL), ==,
                    VTD_ECTL_IM | VTD_ECTL_IP);
    vtd_writel(&f.t, VTD_REG_ICS, 1);
    g_assert_cmphex(vtd_readl(&f.t, VTD_REG_IECTL), ==, VTD_ECTL_IM);
    vtd_writel(&f.t, VTD_REG_IECTL, 0);
    expect_no_msi(&f);
    g_assert_cmphex(vtd_fsts(&f.t), ==, 0);
    vtd_test_quit(&f.t);
}

/* --- Queue errors (facts E.5, E.6) ---------------------------------------- */

static unsigned desc_size(Fixture *f)
{
    return f->t.iq_dw ? 32 : 16;
}

static void write_slot(Fixture *f, unsigned idx, VTDQIDesc d)
{
    for (unsigned w = 0; w < (f->t.iq_dw ? 4u : 2u); w++) {
        qtest_writeq(f->t.s, f->t.iq + idx * desc_size(f) + 8 * w, d.qw[w]);
    }
}

static unsigned iqei(Fixture *f)
{
    return vtd_readq(&f->t, VTD_REG_IQERCD) & 0xf;
}

/*
 * Submits wait(1), bad, wait(2): the first status is written, IQE with
 * IQEI want, IQH on the bad descriptor, the second wait not done.  Then
 * as Linux does: the bad slot is overwritten with a wait(3), IQE
 * cleared, IQT rewritten; everything completes.
 */
static void check_bad_desc(Fixture *f, VTDQIDesc bad, unsigned want)
{
    unsigned first = f->t.iq_tail;
    VTDQIDesc d[3] = {
        vtd_qi_desc_wait(1, f->status, VTD_QI_WAIT_SW),
        bad,
        vtd_qi_desc_wait(2, f->status + 4, VTD_QI_WAIT_SW),
    };

    qtest_writeq(f->t.s, f->status, 0);
    qtest_writel(f->t.s, f->status + 8, 0);
    vtd_qi_submit(&f->t, d, 3);
    g_assert_cmphex(qtest_readq(f->t.s, f->status), ==, 1);
    g_assert_cmphex(vtd_fsts(&f->t) & VTD_FSTS_IQE, ==, VTD_FSTS_IQE);
    g_assert_cmpuint(iqei(f), ==, want);
    g_assert_cmphex(vtd_qi_head(&f->t), ==,
                    (uint64_t)((first + 1) % f->t.iq_entries) * desc_size(f));

    /* A doorbell while IQE is set does nothing. */
    vtd_writeq(&f->t, VTD_REG_IQT, vtd_qi_tail(&f->t));
    g_assert_cmphex(vtd_qi_head(&f->t), ==,
                    (uint64_t)((first + 1) % f->t.iq_entries) * desc_size(f));

    write_slot(f, (first + 1) % f->t.iq_entries,
               vtd_qi_desc_wait(3, f->status + 8, VTD_QI_WAIT_SW));
    vtd_fsts_clear(&f->t, VTD_FSTS_IQE);
    vtd_writeq(&f->t, VTD_REG_IQT, vtd_qi_tail(&f->t));
    g_assert_cmphex(vtd_fsts(&f->t), ==, 0);
    g_assert_cmphex(vtd_qi_head(&f->t), ==, vtd_qi_tail(&f->t));
    g_assert_cmphex(qtest_readq(f->t.s, f->status), ==, 0x200000001ULL);
    g_assert_cmphex(qtest_readl(f->t.s, f->status + 8), ==, 3);
}

static VTDQIDesc raw(uint64_t qw0, uint64_t qw1)
{
    return (VTDQIDesc) { .qw = { qw0, qw1 } };
}

/* IQEI 3: types the model does not implement. */
static void test_iqe_type(void)
{
    Fixture f;

    start(&f, "");
    vtd_qi_setup(&f.t, false, 0);
    check_bad_desc(&f, raw(0, 0), 3);                   /* type 0 */
    check_bad_desc(&f, raw(VTD_QI_WAIT | 1 << 9, 0), 3);   /* type 0x15 */
    check_bad_desc(&f, raw(9, 0), 3);                   /* no ECAP.PRS */
    check_bad_desc(&f, raw(0xf, 0), 3);
    /* Device-TLB without ECAP.DT. */
    g_assert_false(f.t.ecap & VTD_ECAP_DT);
    check_bad_desc(&f, raw(VTD_QI_DEVTLB | (uint64_t)PTD_SID << 32, 0), 3);
    vtd_test_quit(&f.t);
}

/* IQEI 4: reserved fields and values, each descriptor type. */
static void test_iqe_reserved(void)
{
    VTDQIDesc d;
    Fixture f;

    start(&f, ",device-iotlb=on");
    vtd_qi_setup(&f.t, false, 0);
    d = vtd_qi_desc_cc_global();
    d.qw[0] |= 1 << 6;
    check_bad_desc(&f, d, 4);
    check_bad_desc(&f, raw(VTD_QI_CC, 0), 4);           /* G 0 */
    d = vtd_qi_desc_cc_global();
    d.qw[1] = 1;
    check_bad_desc(&f, d, 4);
    check_bad_desc(&f, raw(VTD_QI_IOTLB, 0), 4);        /* G 0 */
    check_bad_desc(&f, vtd_qi_desc_iotlb_page(DID, 0, 19, false), 4);
    d = vtd_qi_desc_iotlb_page(DID, 0, 0, false);
    d.qw[1] |= 1 << 7;
    check_bad_desc(&f, d, 4);
    check_bad_desc(&f, vtd_qi_desc_wait(0, f.status, 1 << 8), 4);
    check_bad_desc(&f, vtd_qi_desc_wait(0, f.status + 1, VTD_QI_WAIT_SW), 4);
    check_bad_desc(&f, vtd_qi_desc_wait(0, f.status, 1 << 7), 4); /* PD */
    check_bad_desc(&f, vtd_qi_desc_iec(false, 0, 16), 4); /* IM > MHMV */
    d = vtd_qi_desc_iec(true, 0, 0);
    d.qw[0] |= 1 << 5;
    check_bad_desc(&f, d, 4);
    check_bad_desc(&f, raw(VTD_QI_DEVTLB | 1 << 4 | (uint64_t)PTD_SID << 32,
                           0), 4);
    check_bad_desc(&f, raw(VTD_QI_DEVTLB | (uint64_t)PTD_SID << 32, 2), 4);
    vtd_test_quit(&f.t);
}

/* IQEI 4 in a 256-bit queue: unused words of 128-bit formats, G values of
 * the PASID-based types. */
static void test_iqe_reserved_256(void)
{
    VTDQIDesc d;
    Fixture f;

    start(&f, ",x-scalable-mode=on");
    vtd_qi_setup(&f.t, true, 0);
    d = vtd_qi_desc_wait(0, f.status + 12, VTD_QI_WAIT_SW);
    d.qw[2] = 1;
    check_bad_desc(&f, d, 4);
    d = vtd_qi_desc_iotlb_global();
    d.qw[3] = 1ULL << 63;
    check_bad_desc(&f, d, 4);
    check_bad_desc(&f, vtd_qi_desc_pc(2, DID, 0), 4);
    check_bad_desc(&f, vtd_qi_desc_piotlb(1, DID, 0, 0, 0, false), 4);
    check_bad_desc(&f, vtd_qi_desc_piotlb(3, DID, 0, 0, 19, false), 4);
    d = vtd_qi_desc_pc(3, 0, 0);
    d.qw[1] = 1;
    check_bad_desc(&f, d, 4);
    vtd_test_quit(&f.t);
}

/* IQEI 1: tail beyond the queue; IQH stays, the fault event is raised;
 * resume once IQE is clear and IQT valid. */
static void test_iqe_tail_beyond(void)
{
    VTDQIDesc d = vtd_qi_desc_wait(7, 0, VTD_QI_WAIT_SW);
    Fixture f;

    start(&f, "");
    vtd_qi_setup(&f.t, false, 0);                       /* 256 entries */
    vtd_writel(&f.t, VTD_REG_FEDATA, FEDATA);
    vtd_writel(&f.t, VTD_REG_FEADDR, FEADDR);
    vtd_writel(&f.t, VTD_REG_FECTL, 0);
    qtest_msi_clear(f.t.s);
    d.qw[1] = f.status;
    write_slot(&f, 0, d);
    vtd_writeq(&f.t, VTD_REG_IQT, 256 * 16);
    g_assert_cmphex(vtd_fsts(&f.t), ==, VTD_FSTS_IQE);
    g_assert_cmpuint(iqei(&f), ==, 1);
    g_assert_cmphex(vtd_qi_head(&f.t), ==, 0);
    g_assert_cmphex(qtest_readl(f.t.s, f.status), ==, 0);
    expect_msi(&f, FEADDR, FEDATA);

    vtd_fsts_clear(&f.t, VTD_FSTS_IQE);
    vtd_writeq(&f.t, VTD_REG_IQT, 16);
    g_assert_cmphex(vtd_fsts(&f.t), ==, 0);
    g_assert_cmphex(vtd_qi_head(&f.t), ==, 16);
    g_assert_cmphex(qtest_readl(f.t.s, f.status), ==, 7);
    vtd_test_quit(&f.t);
}

/* IQEI 2: the queue is where nothing answers. */
static void test_iqe_fetch(void)
{
    Fixture f;

    start(&f, "");
    vtd_writeq(&f.t, VTD_REG_IQT, 0);
    vtd_writeq(&f.t, VTD_REG_IQA, 0x7ffffff00000ULL);
    vtd_gcmd(&f.t, VTD_GCMD_QIE, true);
    vtd_writeq(&f.t, VTD_REG_IQT, 16);
    g_assert_cmphex(vtd_fsts(&f.t), ==, VTD_FSTS_IQE);
    g_assert_cmpuint(iqei(&f), ==, 2);
    g_assert_cmphex(vtd_qi_head(&f.t), ==, 0);
    vtd_test_quit(&f.t);
}

/* IQEI 5: descriptor width.  256-bit needs ECAP.SMTS; a 256-bit type
 * cannot sit in a 128-bit slot; a scalable root needs 256-bit. */
static void test_iqe_width(void)
{
    VTDQIDesc d = vtd_qi_desc_wait(1, 0, VTD_QI_WAIT_SW);
    Fixture f;

    start(&f, "");
    g_assert_false(f.t.ecap & VTD_ECAP_SMTS);
    vtd_qi_setup(&f.t, true, 0);
    d.qw[1] = f.status;
    vtd_qi_submit(&f.t, &d, 1);
    g_assert_cmphex(vtd_fsts(&f.t), ==, VTD_FSTS_IQE);
    g_assert_cmpuint(iqei(&f), ==, 5);
    g_assert_cmphex(vtd_qi_head(&f.t), ==, 0);
    g_assert_cmphex(qtest_readl(f.t.s, f.status), ==, 0);
    vtd_test_quit(&f.t);

    start(&f, ",x-scalable-mode=on");
    vtd_qi_setup(&f.t, false, 0);
    check_bad_desc(&f, vtd_qi_desc_pc(3, 0, 0), 5);
    check_bad_desc(&f, vtd_qi_desc_piotlb(2, DID, 0, 0, 0, false), 5);
    /* 128-bit descriptors once the root table is scalable. */
    vtd_sm_root_new(&f.t);
    d.qw[1] = f.status + 12;
    vtd_qi_submit(&f.t, &d, 1);
    g_assert_cmphex(vtd_fsts(&f.t), ==, VTD_FSTS_IQE);
    g_assert_cmpuint(iqei(&f), ==, 5);
    vtd_test_quit(&f.t);
}

/* IQEI 6: with 256-bit descriptors IQT bit 4 must be 0. */
static void test_iqe_tail_align(void)
{
    Fixture f;

    start(&f, ",x-scalable-mode=on");
    vtd_qi_setup(&f.t, true, 0);
    vtd_writeq(&f.t, VTD_REG_IQT, 0x10);
    g_assert_cmphex(vtd_fsts(&f.t), ==, VTD_FSTS_IQE);
    g_assert_cmpuint(iqei(&f), ==, 6);
    g_assert_cmphex(vtd_qi_head(&f.t), ==, 0);
    vtd_fsts_clear(&f.t, VTD_FSTS_IQE);
    vtd_writeq(&f.t, VTD_REG_IQT, 0);
    g_assert_cmphex(vtd_fsts(&f.t), ==, 0);
    vtd_test_quit(&f.t);
}

/* IQEI 7: a reserved TTM latched in the root. */
static void test_iqe_ttm(void)
{
    VTDQIDesc d = vtd_qi_desc_wait(9, 0, VTD_QI_WAIT_SW);
    Fixture f;

    start(&f, "");
    vtd_qi_setup(&f.t, false, 0);
    vtd_set_root(&f.t, vtd_alloc_page(&f.t), 2);
    d.qw[1] = f.status;
    vtd_qi_submit(&f.t, &d, 1);
    g_assert_cmphex(vtd_fsts(&f.t), ==, VTD_FSTS_IQE);
    g_assert_cmpuint(iqei(&f), ==, 7);
    g_assert_cmphex(vtd_qi_head(&f.t), ==, 0);
    vtd_legacy_root_new(&f.t);
    vtd_fsts_clear(&f.t, VTD_FSTS_IQE);
    vtd_writeq(&f.t, VTD_REG_IQT, vtd_qi_tail(&f.t));
    g_assert_cmphex(vtd_qi_head(&f.t), ==, 16);
    g_assert_cmphex(qtest_readl(f.t.s, f.status), ==, 9);
    vtd_test_quit(&f.t);
}

/*
 * Device-TLB invalidation (ECAP.DT): to a present function it completes;
 * to a requester id with nothing behind it, it times out: ITE with
 * ITESID, everything pending aborted (the wait after it is not done),
 * nothing runs until ITE is cleared.
 */
static void test_ite(void)
{
    uint16_t absent = 0x0500;           /* bus 5 does not exist */
    VTDQIDesc d[2] = {
        raw(VTD_QI_DEVTLB | (uint64_t)absent << 32, 0x1000),
        vtd_qi_desc_wait(1, 0, VTD_QI_WAIT_SW),
    };
    VTDQIDesc ok = raw(VTD_QI_DEVTLB | (uint64_t)PTD_SID << 32, 0x1000);
    Fixture f;

    start(&f, ",device-iotlb=on");
    g_assert_true(f.t.ecap & VTD_ECAP_DT);
    vtd_qi_setup(&f.t, false, 0);
    g_assert_true(vtd_qi_submit_wait(&f.t, &ok, 1));

    d[1].qw[1] = f.status + 16;
    vtd_qi_submit(&f.t, d, 2);
    g_assert_cmphex(vtd_fsts(&f.t), ==, VTD_FSTS_ITE);
    g_assert_cmphex(vtd_readq(&f.t, VTD_REG_IQERCD) >> 32 & 0xffff, ==,
                    absent);
    g_assert_cmphex(qtest_readl(f.t.s, f.status + 16), ==, 0);
    g_assert_cmphex(vtd_qi_head(&f.t), ==, vtd_qi_tail(&f.t));

    /* Nothing runs while ITE is set. */
    d[1].qw[0] = vtd_qi_desc_wait(2, 0, 0).qw[0] | VTD_QI_WAIT_SW;
    vtd_qi_submit(&f.t, &d[1], 1);
    g_assert_cmphex(qtest_readl(f.t.s, f.status + 16), ==, 0);
    vtd_fsts_clear(&f.t, VTD_FSTS_ITE);
    vtd_writeq(&f.t, VTD_REG_IQT, vtd_qi_tail(&f.t));
    g_assert_cmphex(qtest_readl(f.t.s, f.status + 16), ==, 2);
    g_assert_cmphex(vtd_fsts(&f.t), ==, 0);
    vtd_test_quit(&f.t);
}

/* --- Queue enable/disable and bounds --------------------------------------- */

/* QIE with IQT already non-zero processes at once (Windows does this);
 * disabling clears IQH. */
static void test_enable_with_tail(void)
{
    Fixture f;

    start(&f, "");
    f.t.iq = vtd_alloc_page(&f.t);
    f.t.iq_entries = 256;
    write_slot(&f, 0, vtd_qi_desc_wait(1, f.status, VTD_QI_WAIT_SW));
    write_slot(&f, 1, vtd_qi_desc_wait(2, f.status + 4, VTD_QI_WAIT_SW));
    vtd_writeq(&f.t, VTD_REG_IQA, f.t.iq);
    vtd_writeq(&f.t, VTD_REG_IQT, 2 * 16);
    g_assert_cmphex(qtest_readq(f.t.s, f.status), ==, 0);
    vtd_gcmd(&f.t, VTD_GCMD_QIE, true);
    g_assert_cmphex(qtest_readq(f.t.s, f.status), ==, 0x200000001ULL);
    g_assert_cmphex(vtd_qi_head(&f.t), ==, 2 * 16);
    vtd_gcmd(&f.t, VTD_GCMD_QIE, false);
    g_assert_cmphex(vtd_qi_head(&f.t), ==, 0);
    vtd_test_quit(&f.t);
}

/*
 * A hostile queue: every wait's status write moves IQT two entries past
 * itself, so the queue never drains.  A doorbell processes at most a
 * bounded number of descriptors and returns; the machine stays alive and
 * the queue can be turned off.
 */
static void test_bounded(void)
{
    Fixture f;

    start(&f, "");
    vtd_qi_setup(&f.t, false, 0);
    for (unsigned i = 0; i < 256; i++) {
        write_slot(&f, i, vtd_qi_desc_wait(((i + 2) % 256) * 16,
                                           VTD_BASE + VTD_REG_IQT,
                                           VTD_QI_WAIT_SW));
    }
    vtd_writeq(&f.t, VTD_REG_IQT, 16);
    g_assert_cmphex(vtd_qi_head(&f.t), !=, vtd_qi_tail(&f.t));
    g_assert_cmphex(vtd_fsts(&f.t), ==, 0);
    vtd_writeq(&f.t, VTD_REG_IQT, vtd_qi_tail(&f.t));   /* more rounds */
    g_assert_cmphex(vtd_readl(&f.t, VTD_REG_VER), ==, 0x10);
    vtd_gcmd(&f.t, VTD_GCMD_QIE, false);
    g_assert_cmphex(vtd_qi_head(&f.t), ==, 0);
    vtd_test_quit(&f.t);
}

/* --- Register-based invalidation reporting (facts E.7) ------------------- */

static void test_reg_reporting(void)
{
    Fixture f;
    uint64_t v;

    start(&f, "");
    vtd_legacy_root_new(&f.t);
    reg_cc(&f, VTD_INV_GLOBAL, 0, 0, 0);
    reg_cc(&f, VTD_INV_DOMAIN, DID, 0, 0);
    reg_cc(&f, VTD_INV_DEVICE, DID, PTD_SID, 2);
    reg_iotlb(&f, VTD_INV_GLOBAL, 0, 0, 0);
    reg_iotlb(&f, VTD_INV_DOMAIN, DID, 0, 0);
    reg_iotlb(&f, VTD_INV_PAGE, DID, IOVA, 18);

    /* Not performed: CIRG/IIRG 0, AM above MAMV: CAIG/IAIG 0. */
    vtd_writeq(&f.t, VTD_REG_CCMD, VTD_CCMD_ICC);
    v = vtd_readq(&f.t, VTD_REG_CCMD);
    g_assert_cmphex(v & VTD_CCMD_ICC, ==, 0);
    g_assert_cmpuint(VTD_CCMD_CAIG(v), ==, 0);
    vtd_writeq(&f.t, VTD_REG_IOTLB, VTD_TLB_IVT);
    v = vtd_readq(&f.t, VTD_REG_IOTLB);
    g_assert_cmphex(v & VTD_TLB_IVT, ==, 0);
    g_assert_cmpuint(VTD_TLB_IAIG(v), ==, 0);
    g_assert_cmpuint(VTD_CAP_MAMV(f.t.cap), ==, 18);
    vtd_writeq(&f.t, VTD_REG_IVA, IOVA | 19);
    vtd_writeq(&f.t, VTD_REG_IOTLB, VTD_TLB_IVT | VTD_TLB_IIRG(VTD_INV_PAGE));
    g_assert_cmpuint(VTD_TLB_IAIG(vtd_readq(&f.t, VTD_REG_IOTLB)), ==, 0);

    /* With QIE=1 the registers are not used. */
    vtd_qi_setup(&f.t, false, 0);
    vtd_writeq(&f.t, VTD_REG_CCMD, VTD_CCMD_ICC |
               VTD_CCMD_CIRG(VTD_INV_GLOBAL));
    v = vtd_readq(&f.t, VTD_REG_CCMD);
    g_assert_cmphex(v & VTD_CCMD_ICC, ==, 0);
    g_assert_cmpuint(VTD_CCMD_CAIG(v), ==, 0);
    vtd_writeq(&f.t, VTD_REG_IOTLB, VTD_TLB_IVT |
               VTD_TLB_IIRG(VTD_INV_GLOBAL));
    g_assert_cmpuint(VTD_TLB_IAIG(vtd_readq(&f.t, VTD_REG_IOTLB)), ==, 0);
    vtd_test_quit(&f.t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/intel-iommu/inval/iotlb/global/reg",
                    test_iotlb_global_reg);
    g_test_add_func("/intel-iommu/inval/iotlb/global/qi",
                    test_iotlb_global_qi);
    g_test_add_func("/intel-iommu/inval/iotlb/domain/reg",
                    test_iotlb_domain_reg);
    g_test_add_func("/intel-iommu/inval/iotlb/domain/qi",
                    test_iotlb_domain_qi);
    g_test_add_func("/intel-iommu/inval/iotlb/page-am/reg",
                    test_iotlb_page_reg);
    g_test_add_func("/intel-iommu/inval/iotlb/page-am/qi",
                    test_iotlb_page_qi);
    g_test_add_func("/intel-iommu/inval/iotlb/page/qi-256",
                    test_iotlb_page_qi256);
    g_test_add_func("/intel-iommu/inval/iotlb/unmap-faults-after-psi",
                    test_iotlb_unmap);
    g_test_add_func("/intel-iommu/inval/context/device/reg",
                    test_cc_device_reg);
    g_test_add_func("/intel-iommu/inval/context/device-fm/qi",
                    test_cc_device_fm_qi);
    g_test_add_func("/intel-iommu/inval/context/domain/reg",
                    test_cc_domain_reg);
    g_test_add_func("/intel-iommu/inval/context/domain/qi",
                    test_cc_domain_qi);
    g_test_add_func("/intel-iommu/inval/context/global/reg",
                    test_cc_global_reg);
    g_test_add_func("/intel-iommu/inval/context/global/qi",
                    test_cc_global_qi);
    g_test_add_func("/intel-iommu/inval/pasid/piotlb", test_piotlb);
    g_test_add_func("/intel-iommu/inval/pasid/pc-pasid", test_pc_pasid);
    g_test_add_func("/intel-iommu/inval/pasid/pc-domain", test_pc_domain);
    g_test_add_func("/intel-iommu/inval/pasid/pc-global", test_pc_global);
    g_test_add_func("/intel-iommu/inval/qi/wait-status", test_wait_status);
    g_test_add_func("/intel-iommu/inval/qi/wait-interrupt",
                    test_wait_interrupt);
    g_test_add_func("/intel-iommu/inval/qi/iqe-tail-beyond",
                    test_iqe_tail_beyond);
    g_test_add_func("/intel-iommu/inval/qi/iqe-fetch", test_iqe_fetch);
    g_test_add_func("/intel-iommu/inval/qi/iqe-type", test_iqe_type);
    g_test_add_func("/intel-iommu/inval/qi/iqe-reserved", test_iqe_reserved);
    g_test_add_func("/intel-iommu/inval/qi/iqe-reserved-256",
                    test_iqe_reserved_256);
    g_test_add_func("/intel-iommu/inval/qi/iqe-width", test_iqe_width);
    g_test_add_func("/intel-iommu/inval/qi/iqe-tail-align",
                    test_iqe_tail_align);
    g_test_add_func("/intel-iommu/inval/qi/iqe-ttm", test_iqe_ttm);
    g_test_add_func("/intel-iommu/inval/qi/ite", test_ite);
    g_test_add_func("/intel-iommu/inval/qi/enable-with-tail",
                    test_enable_with_tail);
    g_test_add_func("/intel-iommu/inval/qi/bounded", test_bounded);
    g_test_add_func("/intel-iommu/inval/reg/reporting", test_reg_reporting);
    return g_test_run();
}
