/*
 * intel-iommu caching mode, as a guest sees it (the MAP/UNMAP
 * notifications themselves are in-process: tests/unit/test-vtd-notify.c).
 * CAP.CM follows the property; a guest following the caching-mode
 * protocol (invalidate after making anything present, Linux style: a
 * context entry with a device-selective context-cache and a
 * domain-selective IOTLB invalidation, a mapping with a page-selective
 * one) gets its DMA where it mapped it, and an unmap followed by its
 * invalidation faults.
 */
#include <string.h>
#include <glib.h>

#include "libvtd.h"
#include "../../include/hw/misc/pasid-testdev-regs.h"

#define PTD_DEVFN       (3 << 3)
#define PTD_SID         PTD_DEVFN
#define PCI_COMMAND     0x04
#define DID             1
#define GPA             0x00500000ULL
#define IOVA            0x10002000ULL
#define LEN             32

typedef struct Fixture {
    VTDTest t;
    uint64_t bar;
} Fixture;

static void start(Fixture *f, const char *opts, const char *extra)
{
    vtd_test_start(&f->t, opts, extra);
    f->bar = qpci_config_readl(f->t.s, 0, PTD_DEVFN, 0x10) & ~0xfu;
    qpci_config_writew(f->t.s, 0, PTD_DEVFN, PCI_COMMAND, 0x6);
}

/* DMA-writes a pattern to iova; true when it landed at gpa. */
static bool dma_to(Fixture *f, uint64_t iova, uint64_t gpa, uint8_t seed)
{
    uint8_t pat[LEN], got[LEN];

    vtd_fill(pat, sizeof(pat), seed);
    qtest_memwrite(f->t.s, f->bar + PTD_BUF_OFFSET, pat, sizeof(pat));
    qtest_memset(f->t.s, gpa, 0, LEN);
    qtest_writeq(f->t.s, f->bar + PTD_REG_DMA_ADDR, iova);
    qtest_writel(f->t.s, f->bar + PTD_REG_DMA_LEN, LEN);
    qtest_writel(f->t.s, f->bar + PTD_REG_DMA_PASID, 0);
    qtest_writel(f->t.s, f->bar + PTD_REG_DMA_FLAGS, PTD_DMA_FLAG_TO_MEM);
    qtest_writel(f->t.s, f->bar + PTD_REG_DMA_CMD, PTD_DMA_CMD_START);
    if (qtest_readl(f->t.s, f->bar + PTD_REG_DMA_STATUS) !=
        PTD_DMA_STATUS_DONE) {
        return false;
    }
    qtest_memread(f->t.s, gpa, got, sizeof(got));
    return !memcmp(got, pat, LEN);
}

static void test_cap(void)
{
    Fixture f;
    JsonObject *rsp;

    start(&f, ",id=iommu,caching-mode=on",
          "-device pasid-testdev,addr=03.0");
    g_assert_true(f.t.cap & VTD_CAP_CM);
    rsp = qtest_qmp(f.t.s, "{'execute': 'qom-get', 'arguments': "
                    "{'path': '/machine/peripheral/iommu', "
                    "'property': 'caching-mode'}}");
    g_assert_true(json_node_get_boolean(qmp_expect_return(rsp)));
    json_object_unref(rsp);
    vtd_test_quit(&f.t);

    start(&f, "", "-device pasid-testdev,addr=03.0");
    g_assert_false(f.t.cap & VTD_CAP_CM);
    vtd_test_quit(&f.t);
}

/*
 * The caching-mode protocol, queued (128- or 256-bit) or register-based:
 * remapping on over an empty root, then the context entry made present
 * and invalidated, then mappings added and removed with page-selective
 * invalidations.
 */
static void check_protocol(const char *opts, bool qi, bool dw256)
{
    VTDQIDesc cc = vtd_qi_desc_cc_device(DID, PTD_SID, 0);
    VTDQIDesc dsi = vtd_qi_desc_iotlb_domain(DID);
    VTDQIDesc psi = vtd_qi_desc_iotlb_page(DID, IOVA, 0, false);
    VTDPageTable pt;
    Fixture f;

    start(&f, opts, "-device pasid-testdev,addr=03.0");
    if (qi) {
        vtd_qi_setup(&f.t, dw256, 0);
    }
    vtd_legacy_root_new(&f.t);
    vtd_enable_dmar(&f.t);
    g_assert_false(dma_to(&f, IOVA, GPA, 1));      /* root not present */
    vtd_expect_one_fault(&f.t, 0x1, PTD_SID, IOVA, true);

    vtd_pt_init(&f.t, &pt, 3, false);
    vtd_legacy_map_device(&f.t, 0, PTD_DEVFN, pt.root, VTD_AW_39, DID);
    if (qi) {
        VTDQIDesc d[2] = { cc, dsi };

        g_assert_true(vtd_qi_submit_wait(&f.t, d, 2));
    } else {
        vtd_writeq(&f.t, VTD_REG_CCMD, VTD_CCMD_ICC |
                   VTD_CCMD_CIRG(VTD_INV_DEVICE) | VTD_CCMD_SID(PTD_SID) |
                   DID);
        vtd_writeq(&f.t, VTD_REG_IOTLB, VTD_TLB_IVT |
                   VTD_TLB_IIRG(VTD_INV_DOMAIN) | VTD_TLB_DID(DID));
    }

    vtd_pt_map(&f.t, &pt, IOVA, GPA, 4096, VTD_SL_RW);
    if (qi) {
        g_assert_true(vtd_qi_submit_wait(&f.t, &psi, 1));
    } else {
        vtd_writeq(&f.t, VTD_REG_IVA, IOVA);
        vtd_writeq(&f.t, VTD_REG_IOTLB, VTD_TLB_IVT |
                   VTD_TLB_IIRG(VTD_INV_PAGE) | VTD_TLB_DID(DID));
    }
    g_assert_true(dma_to(&f, IOVA + 0x40, GPA + 0x40, 2));
    vtd_expect_no_fault(&f.t);

    vtd_pt_unmap(&f.t, &pt, IOVA, 1);
    if (qi) {
        g_assert_true(vtd_qi_submit_wait(&f.t, &psi, 1));
    } else {
        vtd_writeq(&f.t, VTD_REG_IOTLB, VTD_TLB_IVT |
                   VTD_TLB_IIRG(VTD_INV_PAGE) | VTD_TLB_DID(DID));
    }
    g_assert_false(dma_to(&f, IOVA, GPA, 3));
    vtd_expect_one_fault(&f.t, 0x5, PTD_SID, IOVA, true);
    vtd_test_quit(&f.t);
}

static void test_protocol_qi(void)
{
    check_protocol(",caching-mode=on", true, false);
}

static void test_protocol_qi256(void)
{
    check_protocol(",caching-mode=on,x-scalable-mode=on", true, true);
}

static void test_protocol_reg(void)
{
    check_protocol(",caching-mode=on", false, false);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/intel-iommu/cm/cap-follows-property", test_cap);
    g_test_add_func("/intel-iommu/cm/protocol/qi", test_protocol_qi);
    g_test_add_func("/intel-iommu/cm/protocol/qi-256", test_protocol_qi256);
    g_test_add_func("/intel-iommu/cm/protocol/reg", test_protocol_reg);
    return g_test_run();
}
