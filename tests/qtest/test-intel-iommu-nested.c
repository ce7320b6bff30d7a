/*
 * intel-iommu first-stage nesting on iommufd nested HWPTs (x-flts=on with
 * an iommufd vfio-pci device on the simulated host), as the guest driver
 * sees it: the device is attached to the nesting parent (GPA -> host
 * memory, no shadowing); a first-stage PASID entry becomes a nested HWPT
 * whose first stage the simulated host IOMMU walks in guest memory
 * through the parent; guest PASID-based IOTLB invalidations are forwarded
 * (the host caches first-stage results until then); pass-through, an
 * invalid entry, TE off, a new root, context-cache invalidation and
 * system_reset move the device between the nested HWPT, the default HWPT
 * and no attachment; a failing host call is a VT-d fault; nothing leaks.
 *
 * Every check is on bytes the device moved in guest memory, the device's
 * status, fault records, or QMP replies (query-host-iommu-devices, the
 * simulated host's nr-hwpts).
 */
#include <string.h>
#include <glib.h>

#include "libqtest.h"
#include "libsimdma.h"
#include "libvtd.h"

#define HOST_BDF        "0000:02:00.0"
#define VFIO_DEVFN      (4 << 3)
#define VFIO_SID        VFIO_DEVFN      /* bus 0 */
#define EDU_DEVFN       (3 << 3)
#define HOST            "/objects/h"
#define HIOD            "/machine/peripheral/vfio0/host-iommu-device"
#define VTD_FLTS        ",caching-mode=on,x-scalable-mode=on,x-flts=on"
#define SIM_ARGS        "-object sim-host,id=h%s " \
                        "-object sim-pci-device,id=d0,sim-host=h," \
                        "host=" HOST_BDF ",iommu-group=5 " \
                        "-object iommufd,id=fd0 " \
                        "-device vfio-pci,host=" HOST_BDF ",iommufd=fd0," \
                        "id=vfio0,addr=04.0 "
#define EDU_ARGS        "-device edu,addr=03.0,dma_mask=0xffffffffffffffff "

#define DID             5
#define OTHER_DID       7
#define EDU_DID         6

/* Guest RAM (128 MiB; libvtd's tables live at 64-112 MiB). */
#define GPA_SRC         0x00100000ULL
#define GPA_DST         0x00200000ULL
#define GPA_DST2        0x00300000ULL
#define GPA_DST3        0x00400000ULL
#define GPA_B           0x00500000ULL   /* 8 pages, then GPA_C */
#define GPA_C           0x00600000ULL
/* IOVAs above guest RAM: the nesting parent (GPA) has nothing there. */
#define IOVA_SRC        0x10000000ULL
#define IOVA_DST        0x10002000ULL
#define IOVA_B          0x10100000ULL
#define IOVA_NO_RAM     0x10200000ULL   /* maps to a GPA above RAM */
#define GPA_NO_RAM      0x20000000ULL
#define LEN             256

/* Fault event message the guest programs (FEDATA/FEADDR). */
#define FE_ADDR         0xfee01000u
#define FE_DATA         0x4077u

/*
 * Fault reason of every failed host call and of entries the host cannot
 * run (hw/i386/intel_iommu_nest.c): invalid PASID entry [SPT.4], with
 * PP=1, PASID = RID_PASID, address 0.
 */
#define FR_ALLOC        0x5b
#define FR_ATTACH       0x5b
#define FR_INVAL        0x5b

typedef struct Nest {
    VTDTest t;
    SimDma d;
    VTDPageTable pt, pt2;       /* two first-stage tables */
    uint64_t dir;               /* the device's PASID directory */
    uint64_t pe[8];             /* its RID_PASID entry as last written */
} Nest;

/* --- QMP --------------------------------------------------------------- */

static int64_t nr_hwpts(Nest *n)
{
    return qtest_qom_get_int(n->t.s, HOST, "nr-hwpts");
}

/* Makes the simulated host's next calls of one kind fail ("" clears). */
static void inject(Nest *n, const char *what)
{
    qtest_qmp_assert_success(n->t.s, "{\"execute\": \"qom-set\", "
                             "\"arguments\": {\"path\": \"" HOST "\", "
                             "\"property\": \"x-inject\", "
                             "\"value\": \"%s\"}}", what);
}

/* The query-host-iommu-devices entry of the assigned device. */
static JsonObject *hiod_info(Nest *n)
{
    JsonObject *rsp = qtest_qmp(n->t.s, "{\"execute\": "
                                "\"query-host-iommu-devices\"}");
    JsonArray *a = json_node_get_array(qmp_expect_return(rsp));
    JsonObject *found = NULL;

    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);

        if (!strcmp(json_object_get_string_member(o, "name"), HOST_BDF)) {
            g_assert_null(found);
            found = json_object_ref(o);
        }
    }
    g_assert_nonnull(found);
    json_object_unref(rsp);
    return found;
}

/*
 * query-host-iommu-devices shows the device on its default HWPT only
 * (fs_table 0), or also on a nested HWPT over first-stage table fs_table.
 */
static void check_query(Nest *n, uint64_t fs_table)
{
    JsonObject *o = hiod_info(n);
    int64_t def = json_object_get_int_member(o, "hwpt-id");

    g_assert_cmpint(def, >, 0);
    g_assert_cmpint(def, ==, qtest_qom_get_int(n->t.s, HIOD, "hwpt-id"));
    if (fs_table) {
        g_assert_true(json_object_has_member(o, "nested-hwpt-id"));
        g_assert_cmpint(json_object_get_int_member(o, "nested-hwpt-id"), >,
                        0);
        g_assert_cmpint(json_object_get_int_member(o, "nested-hwpt-id"), !=,
                        def);
        g_assert_true(json_object_has_member(o, "first-stage-table"));
        g_assert_cmphex(json_object_get_int_member(o, "first-stage-table"),
                        ==, fs_table);
    } else {
        g_assert_false(json_object_has_member(o, "nested-hwpt-id"));
        g_assert_false(json_object_has_member(o, "first-stage-table"));
    }
    json_object_unref(o);
}

/* --- Guest driver --------------------------------------------------------- */

/*
 * The machine with the assigned device (and extra), the invalidation
 * queue (256-bit descriptors, as scalable mode needs), fault events
 * unmasked to FE_ADDR/FE_DATA.  Before the guest turns remapping on, the
 * device is on the default HWPT: its DMA addresses are guest-physical.
 * Then: two first-stage tables (pt maps IOVA_SRC -> GPA_SRC and IOVA_DST
 * -> GPA_DST2; pt2 maps IOVA_SRC -> GPA_SRC and IOVA_DST -> GPA_DST3), an
 * empty scalable root, TE on.
 */
static void start(Nest *n, const char *host_opts, const char *extra)
{
    g_autofree char *args = g_strdup_printf(SIM_ARGS "%s", host_opts, extra);

    memset(n, 0, sizeof(*n));
    vtd_test_start(&n->t, VTD_FLTS, args);
    g_assert_true(n->t.ecap & VTD_ECAP_FLTS);
    simdma_init(&n->d, n->t.s, 0, VFIO_DEVFN);
    vtd_qi_setup(&n->t, true, 0);
    vtd_writel(&n->t, VTD_REG_FEDATA, FE_DATA);
    vtd_writel(&n->t, VTD_REG_FEADDR, FE_ADDR);
    vtd_writel(&n->t, VTD_REG_FECTL, 0);
    g_assert_true(simdma_copy_lands(&n->d, GPA_SRC, GPA_SRC, GPA_DST,
                                    GPA_DST, LEN, 1));

    vtd_pt_init(&n->t, &n->pt, 4, true);
    vtd_pt_map(&n->t, &n->pt, IOVA_SRC, GPA_SRC, 4096, VTD_FL_PRW_US);
    vtd_pt_map(&n->t, &n->pt, IOVA_DST, GPA_DST2, 4096, VTD_FL_PRW_US);
    vtd_pt_init(&n->t, &n->pt2, 4, true);
    vtd_pt_map(&n->t, &n->pt2, IOVA_SRC, GPA_SRC, 4096, VTD_FL_PRW_US);
    vtd_pt_map(&n->t, &n->pt2, IOVA_DST, GPA_DST3, 4096, VTD_FL_PRW_US);
    vtd_sm_root_new(&n->t);
    vtd_invalidate_all(&n->t);
    vtd_enable_dmar(&n->t);
    qtest_msi_clear(n->t.s);
}

static void submit(Nest *n, VTDQIDesc d)
{
    g_assert_true(vtd_qi_submit_wait(&n->t, &d, 1));
}

/* PASID-selective PASID-cache invalidation of RID_PASID in did. */
static void pc_inval(Nest *n, uint16_t did)
{
    submit(n, vtd_qi_desc_pc(1, did, 0));
}

/* Page-selective PASID-based IOTLB invalidation, PASID 0. */
static void piotlb_page(Nest *n, uint16_t did, uint64_t iova, unsigned am,
                        bool ih)
{
    submit(n, vtd_qi_desc_piotlb(3, did, 0, iova, am, ih));
}

/* PASID-selective PASID-based IOTLB invalidation, PASID 0. */
static void piotlb_pasid(Nest *n, uint16_t did)
{
    submit(n, vtd_qi_desc_piotlb(2, did, 0, 0, 0, false));
}

/*
 * Writes the device's RID_PASID entry (the context entry and directory
 * the first time) without invalidating anything.
 */
static void write_pe(Nest *n, unsigned pgtt, uint64_t fs_table)
{
    vtd_pe_build(n->pe, pgtt, DID, pgtt == VTD_PGTT_PT ? VTD_AW_48 : 0, 0,
                 fs_table, 0);
    if (!n->dir) {
        n->dir = vtd_sm_map_device(&n->t, 0, VFIO_DEVFN, 0, n->pe);
    } else {
        vtd_sm_set_pasid_entry(&n->t, n->dir, 0, n->pe);
    }
}

/* First-stage entry for table fs_table, then the PASID-cache invalidation. */
static void bind(Nest *n, uint64_t fs_table)
{
    write_pe(n, VTD_PGTT_FIRST, fs_table);
    pc_inval(n, DID);
}

/* The entry not present (P=0), then the PASID-cache invalidation. */
static void unbind(Nest *n)
{
    qtest_writeq(n->t.s, vtd_sm_pasid_entry_addr(&n->t, n->dir, 0), 0);
    pc_inval(n, DID);
}

static uint32_t copy_result(Nest *n, uint64_t src, uint64_t dst)
{
    return simdma_status_result(simdma_copy(&n->d, src, dst, 16));
}

/* The device's copy through IOVA_SRC -> IOVA_DST lands at gpa_dst. */
static bool iova_copy_lands(Nest *n, uint64_t gpa_dst, uint8_t seed)
{
    return simdma_copy_lands(&n->d, IOVA_SRC, GPA_SRC, IOVA_DST, gpa_dst,
                             LEN, seed);
}

/* The device's copy GPA_SRC -> GPA_DST (the default HWPT) lands. */
static bool gpa_copy_lands(Nest *n, uint8_t seed)
{
    return simdma_copy_lands(&n->d, GPA_SRC, GPA_SRC, GPA_DST, GPA_DST, LEN,
                             seed);
}

static void expect_host_fault(Nest *n, uint64_t src, uint64_t dst)
{
    g_assert_cmphex(copy_result(n, src, dst), ==, SIMDMA_STATUS_FAULT);
}

/* Device on its default HWPT: GPAs work, IOVAs above RAM do not. */
static void expect_default_hwpt(Nest *n, uint8_t seed)
{
    g_assert_true(gpa_copy_lands(n, seed));
    expect_host_fault(n, IOVA_SRC, IOVA_DST);
    g_assert_cmphex(simdma_fault_iova(&n->d), ==, IOVA_SRC);
}

/* Device attached to nothing: every request is blocked. */
static void expect_detached(Nest *n)
{
    expect_host_fault(n, GPA_SRC, GPA_DST);
    expect_host_fault(n, IOVA_SRC, IOVA_DST);
}

static bool zero_at(Nest *n, uint64_t gpa)
{
    uint8_t buf[LEN], zero[LEN] = { 0 };

    qtest_memread(n->t.s, gpa, buf, sizeof(buf));
    return !memcmp(buf, zero, sizeof(buf));
}

/*
 * Exactly one fault record, of reason fr for the assigned device, and the
 * fault event MSI; clears it.
 */
static void expect_nest_fault(Nest *n, uint8_t fr)
{
    VTDFault f = { 0 }, r;
    unsigned nrec = 0;
    uint64_t addr;
    uint32_t data;

    g_assert_cmphex(vtd_fsts(&n->t) & VTD_FSTS_PPF, ==, VTD_FSTS_PPF);
    for (unsigned i = 0; i < vtd_num_fault_records(&n->t); i++) {
        if (vtd_read_fault(&n->t, i, &r)) {
            f = r;
            nrec++;
            vtd_clear_fault(&n->t, i);
        }
    }
    g_assert_cmpuint(nrec, ==, 1);
    g_assert_cmphex(f.fr, ==, fr);
    g_assert_cmphex(f.sid, ==, VFIO_SID);
    g_assert_true(f.pp);
    g_assert_cmpuint(f.pasid, ==, 0);
    g_assert_cmphex(f.addr, ==, 0);
    g_assert_false(f.is_write);
    g_assert_cmphex(vtd_fsts(&n->t) & VTD_FSTS_PPF, ==, 0);
    g_assert_true(qtest_msi_pop(n->t.s, &addr, &data));
    g_assert_cmphex(addr, ==, FE_ADDR);
    g_assert_cmphex(data, ==, FE_DATA);
    g_assert_false(qtest_msi_pop(n->t.s, &addr, &data));
}

static void expect_no_fault(Nest *n)
{
    uint64_t addr;
    uint32_t data;

    vtd_expect_no_fault(&n->t);
    g_assert_false(qtest_msi_pop(n->t.s, &addr, &data));
}

static uint64_t fs_entry(Nest *n, VTDPageTable *pt, uint64_t iova, int lvl)
{
    return qtest_readq(n->t.s, vtd_pt_entry_addr(&n->t, pt, iova, lvl));
}

/* --- Tests --------------------------------------------------------------- */

/*
 * The PASID-cache invalidation of a first-stage entry attaches the device
 * to a nested HWPT: its DMA is translated by the guest's table, walked in
 * guest memory by the host (A/D set there), output through the parent.
 */
static void test_fs_walk(void)
{
    Nest n;

    start(&n, "", "");
    expect_detached(&n);    /* TE on, no context entry */
    bind(&n, n.pt.root);
    expect_no_fault(&n);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 2));
    for (int level = 4; level >= 1; level--) {
        g_assert_true(fs_entry(&n, &n.pt, IOVA_SRC, level) & VTD_FL_A);
    }
    g_assert_false(fs_entry(&n, &n.pt, IOVA_SRC, 1) & VTD_FL_D);
    g_assert_true(fs_entry(&n, &n.pt, IOVA_DST, 1) & VTD_FL_D);
    g_assert_false(fs_entry(&n, &n.pt2, IOVA_DST, 1) & VTD_FL_A);
    /*
     * A page the guest maps now is used without any invalidation: the
     * host walks the guest's table (a not-present result is never
     * cached); a shadowed device would fault until the guest invalidated.
     */
    vtd_pt_map(&n.t, &n.pt, IOVA_DST + 0x2000, GPA_DST3, 4096,
               VTD_FL_PRW_US);
    g_assert_true(simdma_copy_lands(&n.d, IOVA_SRC, GPA_SRC,
                                    IOVA_DST + 0x2000, GPA_DST3, LEN, 9));
    qtest_memset(n.t.s, GPA_DST3, 0, LEN);

    /* what the first stage does not map faults, GPAs included */
    expect_host_fault(&n, GPA_SRC, GPA_DST);
    g_assert_cmphex(simdma_fault_iova(&n.d), ==, GPA_SRC);
    g_assert_cmpuint(simdma_status_fault(simdma_readl(&n.d,
                                                      SIM_DMA_REG_STATUS)),
                     !=, 0);
    /* a first-stage output the parent does not map faults */
    vtd_pt_map(&n.t, &n.pt, IOVA_NO_RAM, GPA_NO_RAM, 4096, VTD_FL_PRW_US);
    expect_host_fault(&n, IOVA_SRC, IOVA_NO_RAM);
    g_assert_cmphex(simdma_fault_iova(&n.d), ==, IOVA_NO_RAM);
    /* a read-only first-stage page refuses the device's writes */
    vtd_pt_map(&n.t, &n.pt, IOVA_DST + 0x1000, GPA_DST3, 4096,
               VTD_FL_P | VTD_FL_US);
    expect_host_fault(&n, IOVA_SRC, IOVA_DST + 0x1000);
    g_assert_true(zero_at(&n, GPA_DST3));
    /* and the translation that worked still works */
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 3));
    vtd_test_quit(&n.t);
}

enum { INV_PAGE, INV_PAGE_IH, INV_PAGE_AM, INV_PASID, INV_IOTLB_PAGE,
       INV_IOTLB_DOMAIN };

/*
 * A guest edit of a first-stage leaf is not seen by the device (the host
 * IOMMU cached the walk) until the guest invalidates it; invalidations of
 * another page or another domain do not reach it; after the forwarded
 * invalidation DMA follows the new entry, and an unmap faults.
 */
static void test_stale_until_forwarded(gconstpointer opaque)
{
    int kind = GPOINTER_TO_INT(opaque);
    Nest n;

    start(&n, "", "");
    bind(&n, n.pt.root);
    check_query(&n, n.pt.root);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 4));
    vtd_pt_map(&n.t, &n.pt, IOVA_DST, GPA_DST3, 4096, VTD_FL_PRW_US);
    qtest_memset(n.t.s, GPA_DST3, 0, LEN);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 5));
    g_assert_true(zero_at(&n, GPA_DST3));

    piotlb_page(&n, DID, IOVA_SRC, 0, false);
    piotlb_page(&n, OTHER_DID, IOVA_DST, 0, false);
    piotlb_pasid(&n, OTHER_DID);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 6));
    g_assert_true(zero_at(&n, GPA_DST3));

    switch (kind) {
    case INV_PAGE:
        piotlb_page(&n, DID, IOVA_DST, 0, false);
        break;
    case INV_PAGE_IH:
        piotlb_page(&n, DID, IOVA_DST, 0, true);
        break;
    case INV_PAGE_AM:       /* 2 pages from IOVA_DST (2-page aligned) */
        piotlb_page(&n, DID, IOVA_DST, 1, false);
        break;
    case INV_PASID:
        piotlb_pasid(&n, DID);
        break;
    case INV_IOTLB_PAGE:    /* scalable: every first-stage entry of DID */
        submit(&n, vtd_qi_desc_iotlb_page(DID, IOVA_SRC, 0, false));
        break;
    case INV_IOTLB_DOMAIN:
        submit(&n, vtd_qi_desc_iotlb_domain(DID));
        break;
    }
    qtest_memset(n.t.s, GPA_DST2, 0, LEN);
    g_assert_true(iova_copy_lands(&n, GPA_DST3, 7));
    g_assert_true(zero_at(&n, GPA_DST2));
    expect_no_fault(&n);

    vtd_pt_unmap(&n.t, &n.pt, IOVA_DST, 1);
    g_assert_true(iova_copy_lands(&n, GPA_DST3, 8));    /* still cached */
    piotlb_page(&n, DID, IOVA_DST, 0, kind == INV_PAGE_IH);
    expect_host_fault(&n, IOVA_SRC, IOVA_DST);
    g_assert_cmphex(simdma_fault_iova(&n.d), ==, IOVA_DST);
    vtd_test_quit(&n.t);
}

/*
 * A batch as a guest issues it, one doorbell: a page-selective descriptor
 * per edited page (one of them for another domain) and a wait; each
 * forwarded page follows its new entry, the other stays stale until a
 * 2^3-page invalidation covers it.
 */
static void test_batched(void)
{
    VTDQIDesc batch[8];
    Nest n;

    start(&n, "", "");
    vtd_pt_map_range(&n.t, &n.pt, IOVA_B, GPA_B, 8 * 4096, VTD_FL_PRW_US);
    bind(&n, n.pt.root);
    for (int i = 0; i < 8; i++) {
        g_assert_true(simdma_copy_lands(&n.d, IOVA_SRC, GPA_SRC,
                                        IOVA_B + i * 4096, GPA_B + i * 4096,
                                        LEN, 10 + i));
    }
    vtd_pt_map_range(&n.t, &n.pt, IOVA_B, GPA_C, 8 * 4096, VTD_FL_PRW_US);
    for (int i = 0; i < 8; i++) {
        batch[i] = vtd_qi_desc_piotlb(3, i == 5 ? OTHER_DID : DID, 0,
                                      IOVA_B + i * 4096, 0, true);
    }
    g_assert_true(vtd_qi_submit_wait(&n.t, batch, 8));
    qtest_memset(n.t.s, GPA_B, 0, 8 * 4096);
    for (int i = 0; i < 8; i++) {
        uint64_t now = (i == 5 ? GPA_B : GPA_C) + i * 4096;
        uint64_t other = (i == 5 ? GPA_C : GPA_B) + i * 4096;

        g_assert_true(simdma_copy_lands(&n.d, IOVA_SRC, GPA_SRC,
                                        IOVA_B + i * 4096, now, LEN, 20 + i));
        g_assert_true(zero_at(&n, other));
    }
    piotlb_page(&n, DID, IOVA_B, 3, true);
    g_assert_true(simdma_copy_lands(&n.d, IOVA_SRC, GPA_SRC,
                                    IOVA_B + 5 * 4096, GPA_C + 5 * 4096,
                                    LEN, 30));
    expect_no_fault(&n);
    vtd_test_quit(&n.t);
}

/*
 * PGTT pass-through attaches the default HWPT (GPAs; nothing shadowed at
 * the IOVAs); first stage again allocates a nested HWPT; a new table
 * pointer replaces it, the previous one freed.
 */
static void test_pt_switch(void)
{
    Nest n;
    int64_t base;

    start(&n, "", "");
    base = nr_hwpts(&n);
    bind(&n, n.pt.root);
    g_assert_cmpint(nr_hwpts(&n), ==, base + 1);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 40));

    write_pe(&n, VTD_PGTT_PT, 0);
    pc_inval(&n, DID);
    expect_default_hwpt(&n, 41);
    g_assert_cmpint(nr_hwpts(&n), ==, base);
    check_query(&n, 0);

    bind(&n, n.pt2.root);
    g_assert_true(iova_copy_lands(&n, GPA_DST3, 42));
    expect_host_fault(&n, GPA_SRC, GPA_DST);
    g_assert_cmpint(nr_hwpts(&n), ==, base + 1);

    bind(&n, n.pt.root);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 43));
    g_assert_cmpint(nr_hwpts(&n), ==, base + 1);
    check_query(&n, n.pt.root);
    expect_no_fault(&n);
    vtd_test_quit(&n.t);
}

/* P=0 and the PASID-cache invalidation: detached; present again: back. */
static void test_detach_on_entry_inval(void)
{
    Nest n;
    int64_t base;

    start(&n, "", "");
    base = nr_hwpts(&n);
    bind(&n, n.pt.root);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 50));
    unbind(&n);
    expect_detached(&n);
    g_assert_cmpint(nr_hwpts(&n), ==, base);
    check_query(&n, 0);

    bind(&n, n.pt.root);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 51));
    check_query(&n, n.pt.root);
    expect_no_fault(&n);
    vtd_test_quit(&n.t);
}

/*
 * TE off re-attaches the default HWPT (bound or detached before); TE on
 * re-reads the entry and attaches the nested HWPT again.
 */
static void test_te_off(void)
{
    Nest n;
    int64_t base;

    start(&n, "", "");
    base = nr_hwpts(&n);
    bind(&n, n.pt.root);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 60));
    vtd_disable_dmar(&n.t);
    expect_default_hwpt(&n, 61);
    g_assert_cmpint(nr_hwpts(&n), ==, base);
    check_query(&n, 0);

    vtd_enable_dmar(&n.t);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 62));
    check_query(&n, n.pt.root);

    unbind(&n);
    expect_detached(&n);
    vtd_disable_dmar(&n.t);
    expect_default_hwpt(&n, 63);
    expect_no_fault(&n);
    vtd_test_quit(&n.t);
}

/*
 * SRTP to a root without the device: detached; back to the first root:
 * the nested HWPT again.  No invalidation in between (the latch itself
 * re-evaluates).
 */
static void test_srtp_change(void)
{
    Nest n;
    uint64_t root;

    start(&n, "", "");
    root = n.t.root;
    bind(&n, n.pt.root);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 70));
    vtd_sm_root_new(&n.t);
    expect_detached(&n);
    check_query(&n, 0);
    vtd_set_root(&n.t, root, VTD_TTM_SCALABLE);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 71));
    check_query(&n, n.pt.root);
    expect_no_fault(&n);
    vtd_test_quit(&n.t);
}

/*
 * A legacy root (TTM 00) with TE on: the device is back on its default
 * HWPT, the nested HWPT freed, and its legacy second-level table is
 * shadowed into it (caching mode) as for any assigned device; the
 * scalable root again: nested.
 */
static void test_legacy_root(void)
{
    VTDPageTable sl;
    Nest n;
    uint64_t root;
    int64_t base;

    start(&n, "", "");
    root = n.t.root;
    base = nr_hwpts(&n);
    bind(&n, n.pt.root);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 75));

    vtd_legacy_root_new(&n.t);
    vtd_pt_init(&n.t, &sl, 4, false);
    vtd_pt_map(&n.t, &sl, IOVA_SRC, GPA_SRC, 4096, VTD_SL_RW);
    vtd_pt_map(&n.t, &sl, IOVA_DST, GPA_DST3, 4096, VTD_SL_RW);
    vtd_legacy_map_device(&n.t, 0, VFIO_DEVFN, sl.root, VTD_AW_48, DID);
    vtd_invalidate_all(&n.t);
    check_query(&n, 0);
    g_assert_cmpint(nr_hwpts(&n), ==, base);
    g_assert_true(iova_copy_lands(&n, GPA_DST3, 76));
    expect_host_fault(&n, GPA_SRC, GPA_DST);

    vtd_set_root(&n.t, root, VTD_TTM_SCALABLE);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 77));
    check_query(&n, n.pt.root);
    g_assert_cmpint(nr_hwpts(&n), ==, base + 1);
    expect_no_fault(&n);
    vtd_test_quit(&n.t);
}

/*
 * The context entry moved to another PASID directory whose entry points
 * at the other table: after the device-selective context-cache
 * invalidation, DMA follows the new table.
 */
static void test_context_cache_rebinds(void)
{
    Nest n;
    uint64_t pe[8];
    int64_t base;

    start(&n, "", "");
    base = nr_hwpts(&n);
    bind(&n, n.pt.root);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 80));
    vtd_pe_build(pe, VTD_PGTT_FIRST, DID, 0, 0, n.pt2.root, 0);
    n.dir = vtd_sm_map_device(&n.t, 0, VFIO_DEVFN, 0, pe);
    submit(&n, vtd_qi_desc_cc_device(DID, VFIO_SID, 0));
    qtest_memset(n.t.s, GPA_DST2, 0, LEN);
    g_assert_true(iova_copy_lands(&n, GPA_DST3, 81));
    g_assert_true(zero_at(&n, GPA_DST2));
    check_query(&n, n.pt2.root);
    g_assert_cmpint(nr_hwpts(&n), ==, base + 1);

    /* context not present: detached */
    vtd_sm_set_context(&n.t, 0, VFIO_DEVFN, 0, 0);
    submit(&n, vtd_qi_desc_cc_global());
    expect_detached(&n);
    g_assert_cmpint(nr_hwpts(&n), ==, base);
    expect_no_fault(&n);
    vtd_test_quit(&n.t);
}

/* system_reset: the default HWPT; the guest can bind again after it. */
static void test_system_reset(void)
{
    Nest n;
    int64_t base, def;
    JsonObject *o;

    start(&n, "", "");
    base = nr_hwpts(&n);
    o = hiod_info(&n);
    def = json_object_get_int_member(o, "hwpt-id");
    json_object_unref(o);
    bind(&n, n.pt.root);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 90));

    qtest_qmp_assert_success(n.t.s, "{\"execute\": \"system_reset\"}");
    qtest_qmp_eventwait(n.t.s, "RESET");
    vtd_test_reset_state(&n.t);
    g_assert_cmphex(vtd_readl(&n.t, VTD_REG_GSTS) & VTD_GSTS_TES, ==, 0);
    simdma_init(&n.d, n.t.s, 0, VFIO_DEVFN);
    expect_default_hwpt(&n, 91);
    g_assert_cmpint(nr_hwpts(&n), ==, base);
    check_query(&n, 0);
    o = hiod_info(&n);
    g_assert_cmpint(json_object_get_int_member(o, "hwpt-id"), ==, def);
    json_object_unref(o);

    /* a fresh guest driver: tables, queue, TE, entry */
    vtd_qi_setup(&n.t, true, 0);
    vtd_pt_init(&n.t, &n.pt, 4, true);
    vtd_pt_map(&n.t, &n.pt, IOVA_SRC, GPA_SRC, 4096, VTD_FL_PRW_US);
    vtd_pt_map(&n.t, &n.pt, IOVA_DST, GPA_DST3, 4096, VTD_FL_PRW_US);
    vtd_sm_root_new(&n.t);
    vtd_invalidate_all(&n.t);
    vtd_enable_dmar(&n.t);
    n.dir = 0;
    bind(&n, n.pt.root);
    g_assert_true(iova_copy_lands(&n, GPA_DST3, 92));
    g_assert_cmpint(nr_hwpts(&n), ==, base + 1);
    vtd_test_quit(&n.t);
}

/* nested-hwpt-id and first-stage-table only while nested. */
static void test_query(void)
{
    Nest n;
    JsonObject *o;
    int64_t def;

    start(&n, "", "");
    check_query(&n, 0);
    o = hiod_info(&n);
    def = json_object_get_int_member(o, "hwpt-id");
    json_object_unref(o);

    bind(&n, n.pt.root);
    check_query(&n, n.pt.root);
    bind(&n, n.pt2.root);
    check_query(&n, n.pt2.root);
    o = hiod_info(&n);
    g_assert_cmpint(json_object_get_int_member(o, "hwpt-id"), ==, def);
    json_object_unref(o);
    write_pe(&n, VTD_PGTT_PT, 0);
    pc_inval(&n, DID);
    check_query(&n, 0);
    vtd_test_quit(&n.t);
}

/*
 * A failing HWPT allocation is a fault record for the device plus the
 * fault event, leaves the device detached and no HWPT behind; each
 * PASID-cache invalidation retries.
 */
static void test_failure_alloc(void)
{
    Nest n;
    int64_t base;

    start(&n, "", "");
    base = nr_hwpts(&n);
    inject(&n, "hwpt-alloc:12:2");
    bind(&n, n.pt.root);
    expect_nest_fault(&n, FR_ALLOC);
    g_assert_cmpint(nr_hwpts(&n), ==, base);
    check_query(&n, 0);
    expect_detached(&n);
    pc_inval(&n, DID);      /* the second failure */
    expect_nest_fault(&n, FR_ALLOC);
    expect_detached(&n);

    pc_inval(&n, DID);      /* the injection was used up */
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 100));
    check_query(&n, n.pt.root);
    expect_no_fault(&n);
    vtd_test_quit(&n.t);
}

/*
 * A failing attach: a fault, the allocated HWPT freed, DMA blocked (fail
 * closed); the next PASID-cache invalidation retries.  A failing replace
 * (to the other table) does the same to a bound device.
 */
static void test_failure_attach(void)
{
    Nest n;
    int64_t base;

    start(&n, "", "");
    base = nr_hwpts(&n);
    inject(&n, "attach:22");
    bind(&n, n.pt.root);
    expect_nest_fault(&n, FR_ATTACH);
    g_assert_cmpint(nr_hwpts(&n), ==, base);
    check_query(&n, 0);
    expect_detached(&n);

    pc_inval(&n, DID);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 110));
    check_query(&n, n.pt.root);
    expect_no_fault(&n);

    inject(&n, "attach:22");
    bind(&n, n.pt2.root);
    expect_nest_fault(&n, FR_ATTACH);
    g_assert_cmpint(nr_hwpts(&n), ==, base);
    expect_detached(&n);
    pc_inval(&n, DID);
    g_assert_true(iova_copy_lands(&n, GPA_DST3, 111));
    g_assert_cmpint(nr_hwpts(&n), ==, base + 1);
    expect_no_fault(&n);
    vtd_test_quit(&n.t);
}

/*
 * A failing forwarded invalidation: a fault for the device, the queue
 * still completes, the device is detached (its host cache cannot be
 * vouched for) and its HWPT freed; the next PASID-cache invalidation
 * binds it again, to a fresh walk of the edited table.
 */
static void test_failure_invalidate(void)
{
    Nest n;
    int64_t base;

    start(&n, "", "");
    base = nr_hwpts(&n);
    bind(&n, n.pt.root);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 120));
    vtd_pt_map(&n.t, &n.pt, IOVA_DST, GPA_DST3, 4096, VTD_FL_PRW_US);
    inject(&n, "hwpt-invalidate:5");
    piotlb_page(&n, DID, IOVA_DST, 0, false);
    expect_nest_fault(&n, FR_INVAL);
    expect_detached(&n);
    g_assert_cmpint(nr_hwpts(&n), ==, base);
    check_query(&n, 0);
    pc_inval(&n, DID);
    g_assert_true(iova_copy_lands(&n, GPA_DST3, 121));
    expect_no_fault(&n);
    vtd_test_quit(&n.t);
}

/*
 * Entries the host cannot run (second stage, nested) are faults for the
 * device, which is detached; with FPD set in the entry the fault is not
 * recorded, the device detached all the same.
 */
static void test_unsupported_pgtt(void)
{
    VTDPageTable sl;
    Nest n;

    start(&n, "", "");
    bind(&n, n.pt.root);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 160));
    vtd_pt_init(&n.t, &sl, 4, false);
    vtd_pt_map(&n.t, &sl, IOVA_SRC, GPA_SRC, 4096, VTD_SL_RW);
    vtd_pe_build(n.pe, VTD_PGTT_SECOND, DID, VTD_AW_48, sl.root, 0, 0);
    vtd_sm_set_pasid_entry(&n.t, n.dir, 0, n.pe);
    pc_inval(&n, DID);
    expect_nest_fault(&n, FR_ALLOC);
    expect_detached(&n);
    check_query(&n, 0);

    bind(&n, n.pt.root);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 161));
    vtd_pe_build(n.pe, VTD_PGTT_NESTED, DID, VTD_AW_48, sl.root, n.pt.root,
                 0);
    n.pe[0] |= VTD_PE_FPD;
    vtd_sm_set_pasid_entry(&n.t, n.dir, 0, n.pe);
    pc_inval(&n, DID);
    expect_no_fault(&n);
    expect_detached(&n);
    vtd_test_quit(&n.t);
}

/*
 * 100 cycles of bind, replace and unbind: DMA right each time, and then
 * as many HWPTs and fds as before.
 */
static void test_no_leak(void)
{
    Nest n;
    int64_t base;
    int fds;

    start(&n, "", "");
    base = nr_hwpts(&n);
    fds = qtest_count_fds(n.t.s);
    for (int i = 0; i < 100; i++) {
        bind(&n, n.pt.root);
        g_assert_cmpint(nr_hwpts(&n), ==, base + 1);
        bind(&n, n.pt2.root);
        if (i % 25 == 0) {
            g_assert_true(iova_copy_lands(&n, GPA_DST3, i));
        }
        unbind(&n);
        g_assert_cmpint(nr_hwpts(&n), ==, base);
    }
    g_assert_cmpint(qtest_count_fds(n.t.s), ==, fds);
    bind(&n, n.pt.root);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 130));
    expect_no_fault(&n);
    vtd_test_quit(&n.t);
}

/*
 * Hotplug under a first-stage entry the guest already installed: the
 * device is bound when accepted; unplug frees the nested HWPT and VFIO
 * its default HWPT; 3 cycles leave the host and the fds as they were.
 */
static void test_hotplug(void)
{
    VTDPageTable pt;
    uint64_t pe[8];
    VTDTest t;
    int fds = -1;

    vtd_test_start(&t, VTD_FLTS, "-device pcie-root-port,id=rp0,addr=05.0,"
                   "chassis=1,slot=1 -object sim-host,id=h "
                   "-object sim-pci-device,id=d0,sim-host=h,host=" HOST_BDF
                   ",iommu-group=5 -object iommufd,id=fd0");
    vtd_qi_setup(&t, true, 0);
    vtd_pt_init(&t, &pt, 4, true);
    vtd_pt_map(&t, &pt, IOVA_SRC, GPA_SRC, 4096, VTD_FL_PRW_US);
    vtd_sm_root_new(&t);
    vtd_pe_build(pe, VTD_PGTT_FIRST, DID, 0, 0, pt.root, 0);
    vtd_sm_map_device(&t, 1, 0, 0, pe);         /* 01:00.0 behind rp0 */
    vtd_invalidate_all(&t);
    vtd_enable_dmar(&t);
    g_assert_cmpint(qtest_qom_get_int(t.s, HOST, "nr-hwpts"), ==, 0);

    for (int i = 0; i < 3; i++) {
        JsonObject *o;
        Nest n = { .t = t };

        qtest_qmp_assert_success(t.s, "{\"execute\": \"device_add\", "
                                 "\"arguments\": {\"driver\": "
                                 "\"vfio-pci\", \"id\": \"vfio0\", "
                                 "\"bus\": \"rp0\", \"host\": \""
                                 HOST_BDF "\", \"iommufd\": \"fd0\"}}");
        g_assert_cmphex(qpci_config_readw(t.s, 1, 0, 0), ==,
                        SIM_DMA_VENDOR_ID);
        g_assert_cmpint(qtest_qom_get_int(t.s, HOST, "nr-hwpts"), ==, 2);
        check_query(&n, pt.root);
        o = hiod_info(&n);
        g_assert_cmpint(json_object_get_int_member(o, "devid"), >, 0);
        json_object_unref(o);
        qtest_qmp_device_del(t.s, "vfio0");
        g_assert_cmpint(qtest_qom_get_int(t.s, HOST, "nr-hwpts"), ==, 0);
        if (fds < 0) {
            fds = qtest_count_fds(t.s);
        }
        g_assert_cmpint(qtest_count_fds(t.s), ==, fds);
    }
    vtd_expect_no_fault(&t);
    vtd_test_quit(&t);
}

/*
 * Under a legacy root the nested device is shadowed into its nest
 * parent's IOAS; its IOVA_SRC page is mapped read-only there.  On a host
 * without the erratum the read-only page is mapped and the copy reading
 * it lands; on an SPR17 host the quirk keeps it out of the nest parent,
 * so the read faults in the host while the read-write page still works.
 */
static void spr17_read_only(Nest *n, bool erratum, uint8_t seed)
{
    VTDPageTable sl;

    vtd_legacy_root_new(&n->t);
    vtd_pt_init(&n->t, &sl, 4, false);
    vtd_pt_map(&n->t, &sl, IOVA_SRC, GPA_SRC, 4096, VTD_SL_R);
    vtd_pt_map(&n->t, &sl, IOVA_DST, GPA_DST3, 4096, VTD_SL_RW);
    vtd_pt_map(&n->t, &sl, IOVA_DST + 4096, GPA_SRC, 4096, VTD_SL_RW);
    vtd_legacy_map_device(&n->t, 0, VFIO_DEVFN, sl.root, VTD_AW_48, DID);
    vtd_invalidate_all(&n->t);
    if (!erratum) {
        g_assert_true(iova_copy_lands(n, GPA_DST3, seed));
        return;
    }
    expect_host_fault(n, IOVA_SRC, IOVA_DST);
    g_assert_cmphex(simdma_fault_iova(&n->d), ==, IOVA_SRC);
    g_assert_true(simdma_copy_lands(&n->d, IOVA_DST + 4096, GPA_SRC,
                                    IOVA_DST, GPA_DST3, LEN, seed));
}

/*
 * A host with the SPR17 erratum (read-only mappings refused on an IOAS
 * with a nesting parent): the machine starts, DMA through the default
 * HWPT and through the nested HWPT works, and read-only ranges stay out
 * of the nest parent (compared with a host without the erratum).
 */
static void test_spr17(void)
{
    Nest n;

    start(&n, ",erratum-spr17=on", "");
    bind(&n, n.pt.root);
    check_query(&n, n.pt.root);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 140));
    vtd_disable_dmar(&n.t);
    expect_default_hwpt(&n, 141);
    expect_no_fault(&n);
    vtd_enable_dmar(&n.t);
    spr17_read_only(&n, true, 142);
    expect_no_fault(&n);
    vtd_test_quit(&n.t);

    start(&n, "", "");
    spr17_read_only(&n, false, 143);
    expect_no_fault(&n);
    vtd_test_quit(&n.t);
}

/*
 * An emulated device next to the nested one keeps the emulated first
 * stage: its DMA is translated by intel-iommu (A/D set), its faults are
 * VT-d fault records, and neither device disturbs the other.
 */
static void test_emulated_alongside(void)
{
    Nest n;
    VTDEdu e;
    VTDPageTable ept;
    uint64_t pe[8];
    uint8_t pat[64], got[64];
    VTDFault f;

    start(&n, "", EDU_ARGS);
    vtd_edu_init(&n.t, &e, 0, EDU_DEVFN, 0);
    vtd_pt_init(&n.t, &ept, 4, true);
    vtd_pt_map(&n.t, &ept, IOVA_SRC, GPA_DST3, 4096, VTD_FL_PRW_US);
    vtd_pe_build(pe, VTD_PGTT_FIRST, EDU_DID, 0, 0, ept.root, 0);
    vtd_sm_map_device(&n.t, 0, EDU_DEVFN, 0, pe);
    pc_inval(&n, EDU_DID);
    bind(&n, n.pt.root);
    check_query(&n, n.pt.root);

    vtd_fill(pat, sizeof(pat), 0x51);
    qtest_memwrite(n.t.s, GPA_DST3, pat, sizeof(pat));
    g_assert_true(vtd_edu_read(&n.t, &e, IOVA_SRC, sizeof(pat)));
    g_assert_true(fs_entry(&n, &ept, IOVA_SRC, 1) & VTD_FL_A);
    qtest_memset(n.t.s, GPA_DST3, 0, sizeof(pat));
    g_assert_true(vtd_edu_write(&n.t, &e, IOVA_SRC, sizeof(pat)));
    qtest_memread(n.t.s, GPA_DST3, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), pat, sizeof(pat));
    g_assert_true(fs_entry(&n, &ept, IOVA_SRC, 1) & VTD_FL_D);

    /* the same IOVAs mean the nested device's own table */
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 150));
    expect_no_fault(&n);

    /* an unmapped IOVA: a VT-d fault record for edu (first stage, P=0) */
    g_assert_false(vtd_edu_read(&n.t, &e, IOVA_DST, 64));
    g_assert_true(vtd_read_fault(&n.t, VTD_FSTS_FRI(vtd_fsts(&n.t)), &f));
    g_assert_cmphex(f.fr, ==, 0x71);
    g_assert_cmphex(f.sid, ==, EDU_DEVFN);
    vtd_clear_all_faults(&n.t);
    g_assert_true(iova_copy_lands(&n, GPA_DST2, 151));
    vtd_test_quit(&n.t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/intel-iommu/nested/fs-walk-through-nest-parent",
                    test_fs_walk);
    g_test_add_data_func("/intel-iommu/nested/stale-until-piotlb-forwarded/"
                         "page", GINT_TO_POINTER(INV_PAGE),
                         test_stale_until_forwarded);
    g_test_add_data_func("/intel-iommu/nested/stale-until-piotlb-forwarded/"
                         "page-ih", GINT_TO_POINTER(INV_PAGE_IH),
                         test_stale_until_forwarded);
    g_test_add_data_func("/intel-iommu/nested/stale-until-piotlb-forwarded/"
                         "page-am", GINT_TO_POINTER(INV_PAGE_AM),
                         test_stale_until_forwarded);
    g_test_add_data_func("/intel-iommu/nested/stale-until-piotlb-forwarded/"
                         "pasid", GINT_TO_POINTER(INV_PASID),
                         test_stale_until_forwarded);
    g_test_add_data_func("/intel-iommu/nested/stale-until-piotlb-forwarded/"
                         "iotlb-page", GINT_TO_POINTER(INV_IOTLB_PAGE),
                         test_stale_until_forwarded);
    g_test_add_data_func("/intel-iommu/nested/stale-until-piotlb-forwarded/"
                         "iotlb-domain", GINT_TO_POINTER(INV_IOTLB_DOMAIN),
                         test_stale_until_forwarded);
    g_test_add_func("/intel-iommu/nested/batched-invalidations",
                    test_batched);
    g_test_add_func("/intel-iommu/nested/pt-switch", test_pt_switch);
    g_test_add_func("/intel-iommu/nested/detach-on-entry-invalidation",
                    test_detach_on_entry_inval);
    g_test_add_func("/intel-iommu/nested/te-off-reattaches-default",
                    test_te_off);
    g_test_add_func("/intel-iommu/nested/srtp-change", test_srtp_change);
    g_test_add_func("/intel-iommu/nested/legacy-root-default-hwpt",
                    test_legacy_root);
    g_test_add_func("/intel-iommu/nested/context-cache-inval-rebinds",
                    test_context_cache_rebinds);
    g_test_add_func("/intel-iommu/nested/system-reset-default",
                    test_system_reset);
    g_test_add_func("/intel-iommu/nested/query-shows-nested", test_query);
    g_test_add_func("/intel-iommu/nested/failure-alloc-faults",
                    test_failure_alloc);
    g_test_add_func("/intel-iommu/nested/failure-attach-faults",
                    test_failure_attach);
    g_test_add_func("/intel-iommu/nested/failure-invalidate-faults",
                    test_failure_invalidate);
    g_test_add_func("/intel-iommu/nested/unsupported-pgtt-faults",
                    test_unsupported_pgtt);
    g_test_add_func("/intel-iommu/nested/no-leak-100-cycles", test_no_leak);
    g_test_add_func("/intel-iommu/nested/hotplug-binds-unplug-frees",
                    test_hotplug);
    g_test_add_func("/intel-iommu/nested/spr17-quirk", test_spr17);
    g_test_add_func("/intel-iommu/nested/emulated-alongside",
                    test_emulated_alongside);
    return g_test_run();
}
