/*
 * intel-iommu register file (facts A, B; qemu_behaviour §4): reset
 * values, CAP/ECAP per property, configuration errors, write masks,
 * access sizes and undefined offsets, the GCMD/GSTS protocol, and
 * system_reset.
 */
#include <string.h>
#include <glib.h>

#include "libvtd.h"

#define EDU_DEVFN       (3 << 3)

/* CAP of the default configuration (aw-bits 48), facts B. */
static uint64_t default_cap(unsigned aw)
{
    return 6 |                          /* ND: 64K domains */
           (aw == 48 ? 3ULL : 1ULL) << 9 |  /* SAGAW 39 (+48) */
           (uint64_t)(aw - 1) << 16 |   /* MGAW */
           0x22ULL << 24 |              /* FRO */
           3ULL << 34 |                 /* SLLPS 2M, 1G */
           1ULL << 39 |                 /* PSI */
           3ULL << 40 |                 /* NFR: 4 records */
           18ULL << 48 |                /* MAMV */
           3ULL << 54 |                 /* DWD, DRD */
           1ULL << 63;                  /* ESRTPS */
}

/* ECAP of the default configuration: QI, IR, EIM, PT, IRO, MHMV. */
#define DEFAULT_ECAP    (VTD_ECAP_QI | VTD_ECAP_IR | VTD_ECAP_EIM | \
                         VTD_ECAP_PT | 0xfULL << 8 | 15ULL << 20)

static void test_reset_values(void)
{
    VTDTest t;
    static const unsigned zero32[] = {
        VTD_REG_GCMD, VTD_REG_GSTS, VTD_REG_FSTS, VTD_REG_FEDATA,
        VTD_REG_FEADDR, VTD_REG_FEUADDR, VTD_REG_PMEN, VTD_REG_ICS,
        VTD_REG_IEDATA, VTD_REG_IEADDR, VTD_REG_IEUADDR,
    };
    static const unsigned zero64[] = {
        VTD_REG_RTADDR, VTD_REG_CCMD, VTD_REG_IQH, VTD_REG_IQT, VTD_REG_IQA,
        VTD_REG_IQERCD, VTD_REG_IRTA, VTD_REG_IVA, VTD_REG_IOTLB,
    };

    vtd_test_start(&t, "", NULL);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_VER), ==, 0x10);
    g_assert_cmphex(t.cap, ==, default_cap(48));
    g_assert_cmphex(t.ecap, ==, DEFAULT_ECAP);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_FECTL), ==, VTD_ECTL_IM);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_IECTL), ==, VTD_ECTL_IM);
    for (size_t i = 0; i < G_N_ELEMENTS(zero32); i++) {
        g_assert_cmphex(vtd_readl(&t, zero32[i]), ==, 0);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(zero64); i++) {
        g_assert_cmphex(vtd_readq(&t, zero64[i]), ==, 0);
    }
    /* IVA/IOTLB where ECAP.IRO says, records where CAP.FRO says. */
    g_assert_cmpuint(VTD_ECAP_IRO(t.ecap) * 16, ==, VTD_REG_IVA);
    g_assert_cmpuint(vtd_frcd_offset(&t, 0), ==, VTD_REG_FRCD0);
    for (unsigned i = 0; i < vtd_num_fault_records(&t); i++) {
        g_assert_cmphex(vtd_readq(&t, vtd_frcd_offset(&t, i)), ==, 0);
        g_assert_cmphex(vtd_readq(&t, vtd_frcd_offset(&t, i) + 8), ==, 0);
    }
    vtd_test_quit(&t);
}

typedef struct CapCase {
    const char *opts;
    uint64_t cap_set, cap_clear;
    uint64_t ecap_set, ecap_clear;
} CapCase;

static void test_cap_ecap(void)
{
    static const CapCase cases[] = {
        { ",caching-mode=on", VTD_CAP_CM, 0, 0, 0 },
        { ",aw-bits=39", 0, 0, 0, 0 },
        { ",x-scalable-mode=on", 0, 0,
          VTD_ECAP_SMTS | VTD_ECAP_SLTS | VTD_ECAP_SRS, 0 },
        { ",scalable-mode=on", 0, 0,
          VTD_ECAP_SMTS | VTD_ECAP_SLTS | VTD_ECAP_SRS, 0 },
        { ",x-scalable-mode=on,x-flts=on", VTD_CAP_FL1GP, 0,
          VTD_ECAP_SMTS | VTD_ECAP_FLTS | VTD_ECAP_SLTS | VTD_ECAP_NEST, 0 },
        { ",x-scalable-mode=on,x-flts=on,fs1gp=off", 0, VTD_CAP_FL1GP,
          VTD_ECAP_SMTS | VTD_ECAP_FLTS | VTD_ECAP_SLTS | VTD_ECAP_NEST, 0 },
        { ",x-scalable-mode=on,x-pasid-mode=on", 0, 0,
          VTD_ECAP_SMTS | VTD_ECAP_SLTS | VTD_ECAP_SRS | VTD_ECAP_PASID |
          19ULL << 35 | VTD_ECAP_RPS, 0 },
        { ",intremap=off", 0, 0, 0,
          VTD_ECAP_IR | VTD_ECAP_EIM | 15ULL << 20 },
        { ",eim=off", 0, 0, 0, VTD_ECAP_EIM },
        { ",device-iotlb=on", 0, 0, VTD_ECAP_DT, 0 },
        { ",pt=off", 0, 0, 0, VTD_ECAP_PT },
        { ",snoop-control=on", 0, 0, VTD_ECAP_SC, 0 },
        { ",dma-drain=off", 0, VTD_CAP_DWD | VTD_CAP_DRD, 0, 0 },
        { ",dma-translation=off", 0, 0x1fULL << 8, 0, 0 },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        const CapCase *c = &cases[i];
        unsigned aw = strstr(c->opts, "aw-bits=39") ? 39 : 48;
        VTDTest t;

        g_test_message("%s", c->opts);
        vtd_test_start(&t, c->opts, NULL);
        g_assert_cmphex(t.cap, ==,
                        (default_cap(aw) | c->cap_set) & ~c->cap_clear);
        g_assert_cmphex(t.ecap, ==,
                        (DEFAULT_ECAP | c->ecap_set) & ~c->ecap_clear);
        vtd_test_quit(&t);
    }
}

static void test_invalid_config(void)
{
    static const struct {
        const char *args, *needle;
    } cases[] = {
        { "-M q35 -device intel-iommu,x-flts=on",
          "intel-iommu: x-flts=on requires x-scalable-mode=on" },
        { "-M q35 -device intel-iommu,aw-bits=40",
          "intel-iommu: aw-bits must be 39 or 48, not 40" },
        { "-M q35 -device intel-iommu,x-scalable-mode=on,x-flts=on,aw-bits=39",
          "intel-iommu: aw-bits must be 48 with x-flts=on" },
        { "-M q35 -device intel-iommu,x-pasid-mode=on",
          "intel-iommu: x-pasid-mode=on requires x-scalable-mode=on" },
        { "-M q35 -device intel-iommu,x-scalable-mode=on,dma-drain=off",
          "intel-iommu: x-scalable-mode=on requires dma-drain=on" },
        { "-M q35 -device intel-iommu,intremap=off,eim=on",
          "intel-iommu: eim=on requires intremap=on" },
        { "-M q35 -device intel-iommu -device intel-iommu",
          "intel-iommu: only one vIOMMU per machine is supported" },
        { "-M none -device intel-iommu",
          "intel-iommu: needs a machine with one PCI host bridge" },
    };

    /* The binary fails to start with one line on stderr naming the
     * reason. */
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        qtest_expect_startup_error(cases[i].args, cases[i].needle);
    }
}

static void test_not_hotpluggable(void)
{
    VTDTest t;
    JsonObject *rsp;
    g_autofree char *desc = NULL;

    vtd_test_start(&t, "", NULL);
    rsp = qtest_qmp(t.s, "{'execute': 'device_add', 'arguments': "
                    "{'driver': 'intel-iommu', 'id': 'second'}}");
    desc = qmp_expect_error(rsp, "GenericError");
    json_object_unref(rsp);
    g_test_message("%s", desc);
    vtd_test_quit(&t);
}

/* Writes all-ones, reads back what the masks let through (facts A.5). */
static void test_write_masks(void)
{
    static const struct {
        unsigned off, size;
        uint64_t expect;
    } cases[] = {
        { VTD_REG_VER, 4, 0x10 },
        { VTD_REG_GCMD, 4, 0 },                 /* write-only, and acts */
        { VTD_REG_RTADDR, 8, 0xfffffffffffffc00ULL },
        { VTD_REG_IQA, 8, 0xfffffffffffff807ULL },
        { VTD_REG_FEDATA, 4, 0xffff },
        { VTD_REG_FEADDR, 4, 0xfffffffc },
        { VTD_REG_FEUADDR, 4, 0xffffffff },     /* EIM advertised */
        { VTD_REG_PMEN, 4, 0 },
        { VTD_REG_IQA, 8, 0xfffffffffffff807ULL },
        { VTD_REG_IEDATA, 4, 0xffffffff },
        { VTD_REG_IEADDR, 4, 0xfffffffc },
        { VTD_REG_IEUADDR, 4, 0xffffffff },
        { VTD_REG_IQERCD, 8, 0 },
        { VTD_REG_IRTA, 8, 0xfffffffffffff80fULL },
        { VTD_REG_IVA, 8, 0 },                  /* write-only */
        { 0xc0, 8, 0 },                         /* page requests: absent */
        { 0x100, 4, 0 },                        /* undefined */
        { 0xffc, 4, 0 },
    };
    VTDTest t;

    vtd_test_start(&t, "", NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_message("offset 0x%x", cases[i].off);
        if (cases[i].size == 8) {
            vtd_writeq(&t, cases[i].off, ~0ULL);
            g_assert_cmphex(vtd_readq(&t, cases[i].off), ==, cases[i].expect);
        } else {
            vtd_writel(&t, cases[i].off, ~0u);
            g_assert_cmphex(vtd_readl(&t, cases[i].off), ==, cases[i].expect);
        }
    }
    /* CCMD/IOTLB without ICC/IVT: stored, 33:16 of CCMD write-only. */
    vtd_writeq(&t, VTD_REG_CCMD, ~0ULL >> 1);
    g_assert_cmphex(vtd_readq(&t, VTD_REG_CCMD), ==, 0x600000000000ffffULL);
    vtd_writeq(&t, VTD_REG_IOTLB, ~0ULL >> 1);
    g_assert_cmphex(vtd_readq(&t, VTD_REG_IOTLB), ==, 0x3003ffff00000000ULL);
    /* CAP/ECAP are read-only. */
    vtd_writeq(&t, VTD_REG_CAP, 0);
    vtd_writeq(&t, VTD_REG_ECAP, 0);
    g_assert_cmphex(vtd_readq(&t, VTD_REG_CAP), ==, t.cap);
    g_assert_cmphex(vtd_readq(&t, VTD_REG_ECAP), ==, t.ecap);
    /* FECTL: IM writable, IP read-only. */
    vtd_writel(&t, VTD_REG_FECTL, 0);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_FECTL), ==, 0);
    vtd_writel(&t, VTD_REG_FECTL, ~0u);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_FECTL), ==, VTD_ECTL_IM);
    /* Without EIM the upper address registers are read-only 0. */
    vtd_test_quit(&t);

    vtd_test_start(&t, ",eim=off", NULL);
    vtd_writel(&t, VTD_REG_FEUADDR, ~0u);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_FEUADDR), ==, 0);
    vtd_test_quit(&t);
}

/*
 * Accesses other than aligned 4/8 bytes read 0 and are ignored; an
 * 8-byte access covers two 32-bit registers (Xen writes FEADDR so); no
 * offset of the 4 KiB page does harm.
 */
static void test_access_sizes(void)
{
    VTDTest t;

    vtd_test_start(&t, "", NULL);
    g_assert_cmphex(qtest_readb(t.s, VTD_BASE + VTD_REG_VER), ==, 0);
    g_assert_cmphex(qtest_readw(t.s, VTD_BASE + VTD_REG_VER), ==, 0);
    qtest_writeb(t.s, VTD_BASE + VTD_REG_FEDATA, 0x12);
    qtest_writew(t.s, VTD_BASE + VTD_REG_FEDATA, 0x1234);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_FEDATA), ==, 0);
    /* Misaligned dword and qword. */
    qtest_writel(t.s, VTD_BASE + VTD_REG_FEDATA + 2, 0xffffffff);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_FEDATA), ==, 0);
    qtest_writeq(t.s, VTD_BASE + VTD_REG_RTADDR + 4, ~0ULL);
    g_assert_cmphex(vtd_readq(&t, VTD_REG_RTADDR), ==, 0);
    g_assert_cmphex(qtest_readq(t.s, VTD_BASE + VTD_REG_CAP + 4), ==, 0);

    /* A qword over FEADDR:FEUADDR, and over FECTL:FEDATA. */
    vtd_writeq(&t, VTD_REG_FEADDR, 0x00000001fee01004ULL);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_FEADDR), ==, 0xfee01004);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_FEUADDR), ==, 1);
    vtd_writeq(&t, VTD_REG_FECTL, 0x0000405500000000ULL);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_FECTL), ==, 0);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_FEDATA), ==, 0x4055);
    /* A 32-bit half of a 64-bit register. */
    vtd_writel(&t, VTD_REG_RTADDR + 4, 0x12);
    vtd_writel(&t, VTD_REG_RTADDR, 0x3000);
    g_assert_cmphex(vtd_readq(&t, VTD_REG_RTADDR), ==, 0x1200003000ULL);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_RTADDR + 4), ==, 0x12);

    /* Undefined offsets, all of them: 0, and no effect. */
    for (unsigned off = 0x100; off < 0x1000; off += 4) {
        if (off >= VTD_REG_FRCD0 && off < VTD_REG_FRCD0 + 0x40) {
            continue;
        }
        vtd_writel(&t, off, 0xffffffff);
        g_assert_cmphex(vtd_readl(&t, off), ==, 0);
    }
    /* Everything, every size: the device survives and still answers. */
    for (unsigned off = 0; off < 0x1000; off += 4) {
        qtest_writeb(t.s, VTD_BASE + off + 1, 0xff);
        qtest_writew(t.s, VTD_BASE + off + 2, 0xffff);
        qtest_writel(t.s, VTD_BASE + off, off == VTD_REG_GCMD ? 0 : ~0u);
        qtest_readq(t.s, VTD_BASE + off);
    }
    g_assert_cmphex(vtd_readl(&t, VTD_REG_VER), ==, 0x10);
    g_assert_cmphex(vtd_readq(&t, VTD_REG_CAP), ==, t.cap);
    vtd_test_quit(&t);
}

/* GCMD/GSTS (facts A.2). */
static void test_gcmd(void)
{
    VTDTest t;
    uint64_t root;

    vtd_test_start(&t, "", NULL);
    root = vtd_alloc_page(&t);
    vtd_writeq(&t, VTD_REG_RTADDR, root);
    vtd_writel(&t, VTD_REG_GCMD, VTD_GCMD_SRTP);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_GSTS), ==, VTD_GSTS_RTPS);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_GCMD), ==, 0);

    /* A minimal guest writes GSTS | bit: SRTP is re-issued, harmless. */
    vtd_writel(&t, VTD_REG_GCMD, vtd_readl(&t, VTD_REG_GSTS) | VTD_GCMD_TE);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_GSTS), ==,
                    VTD_GSTS_RTPS | VTD_GSTS_TES);
    vtd_gcmd(&t, VTD_GCMD_QIE, true);
    vtd_gcmd(&t, VTD_GCMD_IRE, true);
    vtd_gcmd(&t, VTD_GCMD_CFI, true);
    vtd_gcmd(&t, VTD_GCMD_SIRTP, true);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_GSTS), ==,
                    VTD_GSTS_RTPS | VTD_GSTS_TES | VTD_GSTS_QIES |
                    VTD_GSTS_IRES | VTD_GSTS_IRTPS | VTD_GSTS_CFIS);
    /* Persistent bits follow GCMD, one-shot status bits stay. */
    vtd_gcmd(&t, VTD_GCMD_TE, false);
    vtd_gcmd(&t, VTD_GCMD_CFI, false);
    vtd_gcmd(&t, VTD_GCMD_IRE, false);
    vtd_gcmd(&t, VTD_GCMD_QIE, false);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_GSTS), ==,
                    VTD_GSTS_RTPS | VTD_GSTS_IRTPS);
    /* Bits below 23 are ignored. */
    vtd_writel(&t, VTD_REG_GCMD, 0x007fffff);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_GSTS), ==,
                    VTD_GSTS_RTPS | VTD_GSTS_IRTPS);
    vtd_test_quit(&t);

    /* Without interrupt remapping IRE, SIRTP and CFI do nothing. */
    vtd_test_start(&t, ",intremap=off", NULL);
    vtd_writel(&t, VTD_REG_GCMD,
               VTD_GCMD_IRE | VTD_GCMD_SIRTP | VTD_GCMD_CFI);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_GSTS), ==, 0);
    vtd_writeq(&t, VTD_REG_IRTA, ~0ULL);
    g_assert_cmphex(vtd_readq(&t, VTD_REG_IRTA), ==, 0);
    vtd_test_quit(&t);
}

/* system_reset puts every register back and forgets the tables. */
static void test_system_reset(void)
{
    VTDTest t;
    VTDEdu e;
    VTDPageTable pt;
    uint8_t pattern[64], out[64];

    vtd_test_start(&t, "", "-device edu,addr=03.0");
    vtd_edu_init(&t, &e, 0, EDU_DEVFN, 0);
    vtd_legacy_root_new(&t);
    vtd_pt_init(&t, &pt, 3, false);
    vtd_pt_map(&t, &pt, 0x0a000000, 0x300000, 4096, VTD_SL_RW);
    vtd_legacy_map_device(&t, 0, EDU_DEVFN, pt.root, VTD_AW_39, 1);
    vtd_enable_dmar(&t);
    vtd_writel(&t, VTD_REG_FEDATA, 0x1234);
    vtd_writel(&t, VTD_REG_FECTL, 0);
    vtd_writeq(&t, VTD_REG_IRTA, 0x5000f);
    vtd_writeq(&t, VTD_REG_IQA, 0x6000);
    g_assert_false(vtd_edu_read(&t, &e, 0x0b000000, 64));   /* a fault */
    g_assert_cmphex(vtd_fsts(&t), ==, VTD_FSTS_PPF);

    qtest_qmp_assert_success(t.s, "{'execute': 'system_reset'}");
    qtest_qmp_eventwait(t.s, "RESET");
    g_assert_cmphex(vtd_readl(&t, VTD_REG_GSTS), ==, 0);
    g_assert_cmphex(vtd_readq(&t, VTD_REG_RTADDR), ==, 0);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_FSTS), ==, 0);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_FECTL), ==, VTD_ECTL_IM);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_FEDATA), ==, 0);
    g_assert_cmphex(vtd_readq(&t, VTD_REG_IRTA), ==, 0);
    g_assert_cmphex(vtd_readq(&t, VTD_REG_IQA), ==, 0);
    g_assert_cmphex(vtd_readq(&t, VTD_REG_CAP), ==, t.cap);
    g_assert_cmphex(vtd_readq(&t, vtd_frcd_offset(&t, 0) + 8), ==, 0);

    /* Untranslated again: the DMA lands at the guest-physical address. */
    vtd_edu_init(&t, &e, 0, EDU_DEVFN, 0);
    vtd_fill(pattern, sizeof(pattern), 0x3c);
    qtest_memwrite(t.s, 0x200000, pattern, sizeof(pattern));
    g_assert_true(vtd_edu_read(&t, &e, 0x200000, 64));
    g_assert_true(vtd_edu_write(&t, &e, 0x210000, 64));
    qtest_memread(t.s, 0x210000, out, sizeof(out));
    g_assert_cmpmem(out, sizeof(out), pattern, sizeof(pattern));

    /* The old root is forgotten: TE on with a fresh root faults. */
    vtd_test_reset_state(&t);
    vtd_legacy_root_new(&t);
    vtd_enable_dmar(&t);
    g_assert_false(vtd_edu_read(&t, &e, 0x0a000000, 64));
    vtd_expect_one_fault(&t, VTD_FR_ROOT_P, EDU_DEVFN, 0x0a000000, false);
    vtd_test_quit(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/intel-iommu/regs/reset-values", test_reset_values);
    g_test_add_func("/intel-iommu/regs/cap-ecap", test_cap_ecap);
    g_test_add_func("/intel-iommu/regs/invalid-config", test_invalid_config);
    g_test_add_func("/intel-iommu/regs/not-hotpluggable",
                    test_not_hotpluggable);
    g_test_add_func("/intel-iommu/regs/write-masks", test_write_masks);
    g_test_add_func("/intel-iommu/regs/access-sizes", test_access_sizes);
    g_test_add_func("/intel-iommu/regs/gcmd", test_gcmd);
    g_test_add_func("/intel-iommu/regs/system-reset", test_system_reset);
    return g_test_run();
}
