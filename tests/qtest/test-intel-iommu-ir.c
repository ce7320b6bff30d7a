/*
 * intel-iommu interrupt remapping (VT-d 5.1, 9.10; facts G, F.5, E.3).
 *
 * The test plays the guest: it builds an interrupt remapping table in
 * guest RAM, latches it with SIRTP, enables IRE, and makes devices behind
 * the IOMMU send interrupt requests:
 *   - edu (00:03.0, SID 0x0018) through its MSI capability, the path of a
 *     real device's MSI;
 *   - pasid-testdev (00:04.0, SID 0x0020) with a DMA write of chosen
 *     length and data into 0xfeexxxxx, to forge any request (reserved
 *     data bits, odd sizes).
 * What reaches the local APIC is popped with qtest_msi_pop(); blocked
 * requests leave a fault record (FI[63:48] = index, SID, FR) that the test
 * reads back.  The output message format is facts G.5, last row:
 *   address 0xfee00000 | dest[7:0] << 12 | dest[31:8] << 40 | RH << 3 |
 *           DM << 2
 *   data    vector | DLM << 8 | 1 << 14 (level asserted) | TM << 15
 */
#include <string.h>
#include <glib.h>

#include "libqtest.h"
#include "libvtd.h"
#include "../../include/hw/misc/pasid-testdev-regs.h"

#define EDU_DEVFN               (3 << 3)
#define EDU_SID                 0x0018
#define PTD_DEVFN               (4 << 3)
#define PTD_SID                 0x0020
#define DEVICES                 " -device edu,addr=03.0" \
                                " -device pasid-testdev,addr=04.0"

#define PCI_BASE_ADDRESS_0      0x10
#define PCI_CAP_ID_MSI          0x05
#define PCI_MSI_FLAGS_ENABLE    0x0001
#define EDU_REG_IRQ_RAISE       0x60
#define EDU_REG_IRQ_ACK         0x64
#define PTD_BUF                 0x1000      /* device buffer in BAR0 */

/* IRTE (facts G.2) */
#define IRTE_P                  (1ULL << 0)
#define IRTE_FPD                (1ULL << 1)
#define IRTE_DM                 (1ULL << 2)
#define IRTE_RH                 (1ULL << 3)
#define IRTE_TM                 (1ULL << 4)
#define IRTE_DLM(m)             ((uint64_t)(m) << 5)
#define IRTE_IM                 (1ULL << 15)
#define IRTE_V(v)               ((uint64_t)(v) << 16)
#define IRTE_DST_XAPIC(id)      ((uint64_t)(id) << 40)
#define IRTE_DST_X2APIC(id)     ((uint64_t)(id) << 32)
#define IRTE_SID(sid)           ((uint64_t)(sid))
#define IRTE_SQ(q)              ((uint64_t)(q) << 16)
#define IRTE_SVT(t)             ((uint64_t)(t) << 18)
#define DLM_FIXED               0
#define DLM_LOWPRI              1
#define DLM_NMI                 4

/* IRTA (facts G.1) */
#define IRTA_EIME               (1ULL << 11)

/* Interrupt request (facts G.4) and delivered message (G.5) */
#define MSI_BASE                0xfee00000ULL
#define MSI_REMAPPABLE          (1ULL << 4)
#define MSI_SHV                 (1ULL << 3)
#define MSI_OUT_RH              (1ULL << 3)
#define MSI_OUT_DM              (1ULL << 2)
#define MSI_OUT_LEVEL           (1u << 14)
#define MSI_OUT_TM              (1u << 15)

/* IR fault reasons (facts F.5) */
enum {
    FR_REQ_RSVD = 0x20, FR_INDEX_OVER = 0x21, FR_NOT_PRESENT = 0x22,
    FR_READ = 0x23, FR_IRTE_RSVD = 0x24, FR_COMPAT = 0x25, FR_SID = 0x26,
};

/* FRCD high qword (facts F.1) */
#define FRCD_HI_F               (1ULL << 63)
#define FRCD_HI_T               (1ULL << 62)
#define FRCD_HI_AT              (3ULL << 60)
#define FRCD_HI_PV              (0xfffffULL << 40)
#define FRCD_HI_PP              (1ULL << 31)

typedef struct IRTest {
    VTDTest t;
    QTestState *s;
    uint64_t edu_bar, ptd_bar;
    uint64_t irt;               /* interrupt remapping table */
} IRTest;

/* --- Machine and devices ---------------------------------------------------- */

static void devices_init(IRTest *c)
{
    qpci_device_enable(c->s, 0, EDU_DEVFN);
    qpci_device_enable(c->s, 0, PTD_DEVFN);
    c->edu_bar = qpci_config_readl(c->s, 0, EDU_DEVFN, PCI_BASE_ADDRESS_0) &
                 ~0xfULL;
    c->ptd_bar = qpci_config_readl(c->s, 0, PTD_DEVFN, PCI_BASE_ADDRESS_0) &
                 ~0xfULL;
    g_assert_cmphex(c->edu_bar, !=, 0);
    g_assert_cmphex(c->ptd_bar, !=, 0);
    qtest_msi_clear(c->s);
}

/* iommu_opts: "" or ",prop=value..." */
static void ir_start(IRTest *c, const char *iommu_opts)
{
    memset(c, 0, sizeof(*c));
    vtd_test_start(&c->t, iommu_opts, DEVICES);
    c->s = c->t.s;
    devices_init(c);
}

static void ir_quit(IRTest *c)
{
    vtd_test_quit(&c->t);
}

/* A table of 2^(s_bits+1) entries, latched, then IRE=1. */
static void ir_enable(IRTest *c, unsigned s_bits, bool eime)
{
    c->irt = vtd_alloc(&c->t, 16ULL << (s_bits + 1), 4096);
    vtd_writeq(&c->t, VTD_REG_IRTA, c->irt | (eime ? IRTA_EIME : 0) | s_bits);
    vtd_gcmd(&c->t, VTD_GCMD_SIRTP, true);
    vtd_gcmd(&c->t, VTD_GCMD_IRE, true);
}

static void irte_set(IRTest *c, unsigned index, uint64_t lo, uint64_t hi)
{
    qtest_writeq(c->s, c->irt + 16ULL * index, lo);
    qtest_writeq(c->s, c->irt + 16ULL * index + 8, hi);
}

/* A present, fixed, edge, physical IRTE for xAPIC id apic. */
static uint64_t irte_basic(uint8_t vector, uint8_t apic)
{
    return IRTE_P | IRTE_V(vector) | IRTE_DST_XAPIC(apic);
}

/* Address of a remappable request for handle (facts G.4). */
static uint64_t rmsi_addr(uint16_t handle, bool shv)
{
    return MSI_BASE | MSI_REMAPPABLE | (shv ? MSI_SHV : 0) |
           (uint64_t)(handle & 0x7fff) << 5 | (uint64_t)(handle >> 15) << 2;
}

/* Programs edu's MSI capability (64-bit address, 16-bit data). */
static void edu_msi_config(IRTest *c, uint64_t addr, uint16_t data)
{
    uint8_t cap = qpci_find_capability(c->s, 0, EDU_DEVFN, PCI_CAP_ID_MSI);

    g_assert_cmpuint(cap, !=, 0);
    qpci_config_writel(c->s, 0, EDU_DEVFN, cap + 4, (uint32_t)addr);
    qpci_config_writel(c->s, 0, EDU_DEVFN, cap + 8, addr >> 32);
    qpci_config_writew(c->s, 0, EDU_DEVFN, cap + 0xc, data);
    qpci_config_writew(c->s, 0, EDU_DEVFN, cap + 2, PCI_MSI_FLAGS_ENABLE);
}

/* edu raises (one MSI) and the interrupt is acknowledged. */
static void edu_fire(IRTest *c)
{
    qtest_writel(c->s, c->edu_bar + EDU_REG_IRQ_RAISE, 1);
    qtest_writel(c->s, c->edu_bar + EDU_REG_IRQ_ACK, 1);
}

/* pasid-testdev writes len bytes of val at addr; returns DMA_STATUS. */
static uint32_t ptd_write(IRTest *c, uint64_t addr, uint64_t val,
                          uint32_t len)
{
    qtest_writeq(c->s, c->ptd_bar + PTD_BUF, val);
    qtest_writeq(c->s, c->ptd_bar + PTD_REG_DMA_ADDR, addr);
    qtest_writel(c->s, c->ptd_bar + PTD_REG_DMA_LEN, len);
    qtest_writel(c->s, c->ptd_bar + PTD_REG_DMA_PASID, 0);
    qtest_writel(c->s, c->ptd_bar + PTD_REG_DMA_FLAGS, PTD_DMA_FLAG_TO_MEM);
    qtest_writel(c->s, c->ptd_bar + PTD_REG_DMA_CMD, PTD_DMA_CMD_START);
    return qtest_readl(c->s, c->ptd_bar + PTD_REG_DMA_STATUS);
}

/* A 4-byte interrupt request from pasid-testdev that must go through. */
static void ptd_msi(IRTest *c, uint64_t addr, uint32_t data)
{
    g_assert_cmphex(ptd_write(c, addr, data, 4), ==, PTD_DMA_STATUS_DONE);
}

/* ... that must be blocked (the IOMMU fails the write). */
static void ptd_msi_blocked(IRTest *c, uint64_t addr, uint32_t data)
{
    uint32_t st = ptd_write(c, addr, data, 4);

    g_assert_cmphex(st & (PTD_DMA_STATUS_DONE | PTD_DMA_STATUS_ERROR), ==,
                    PTD_DMA_STATUS_DONE | PTD_DMA_STATUS_ERROR);
}

/* --- Observations -------------------------------------------------------------- */

static void expect_msi(IRTest *c, uint64_t addr, uint32_t data)
{
    uint64_t got_addr;
    uint32_t got_data;

    g_assert_true(qtest_msi_pop(c->s, &got_addr, &got_data));
    g_assert_cmphex(got_addr, ==, addr);
    g_assert_cmphex(got_data, ==, data);
}

static void expect_no_msi(IRTest *c)
{
    uint64_t addr;
    uint32_t data;

    g_assert_false(qtest_msi_pop(c->s, &addr, &data));
}

/* The message an xAPIC-mode IRTE turns into (G.5). */
static uint32_t msi_out_data(uint8_t vector, unsigned dlm, bool level)
{
    return vector | dlm << 8 | MSI_OUT_LEVEL | (level ? MSI_OUT_TM : 0);
}

/*
 * Exactly one fault record is pending, the interrupt-remapping fault fr
 * of requester sid at index: FI[63:48] = index, FI[47:12] = 0, no
 * T/AT/PASID.  Clears it.
 */
static void expect_ir_fault(IRTest *c, uint8_t fr, uint16_t sid,
                            uint16_t index)
{
    uint32_t fsts = vtd_fsts(&c->t);
    unsigned fri = VTD_FSTS_FRI(fsts), pending = 0;
    uint64_t lo, hi;

    g_assert_cmphex(fsts & VTD_FSTS_PPF, ==, VTD_FSTS_PPF);
    for (unsigned i = 0; i < vtd_num_fault_records(&c->t); i++) {
        VTDFault f;

        pending += vtd_read_fault(&c->t, i, &f);
    }
    g_assert_cmpuint(pending, ==, 1);
    lo = vtd_readq(&c->t, vtd_frcd_offset(&c->t, fri));
    hi = vtd_readq(&c->t, vtd_frcd_offset(&c->t, fri) + 8);
    g_assert_cmphex(lo, ==, (uint64_t)index << 48);
    g_assert_cmphex(hi & 0xffff, ==, sid);
    g_assert_cmphex((hi >> 32) & 0xff, ==, fr);
    g_assert_cmphex(hi & (FRCD_HI_F | FRCD_HI_T | FRCD_HI_AT | FRCD_HI_PV |
                          FRCD_HI_PP), ==, FRCD_HI_F);
    vtd_clear_all_faults(&c->t);
    vtd_expect_no_fault(&c->t);
}

static void iec_global(IRTest *c)
{
    VTDQIDesc d = vtd_qi_desc_iec(true, 0, 0);

    g_assert_true(vtd_qi_submit_wait(&c->t, &d, 1));
}

static void iec_index(IRTest *c, uint16_t index, unsigned im)
{
    VTDQIDesc d = vtd_qi_desc_iec(false, index, im);

    g_assert_true(vtd_qi_submit_wait(&c->t, &d, 1));
}

/* --- Delivery -------------------------------------------------------------------- */

/* edu's MSI through a remapped entry, SHV=1 with sub-handle 0 (Linux). */
static void test_remappable_xapic(void)
{
    IRTest c;

    ir_start(&c, ",intremap=on");
    g_assert_cmphex(c.t.ecap & VTD_ECAP_IR, ==, VTD_ECAP_IR);
    ir_enable(&c, 7, false);

    irte_set(&c, 5, irte_basic(0x41, 3), 0);
    edu_msi_config(&c, rmsi_addr(5, true), 0);
    edu_fire(&c);
    expect_msi(&c, MSI_BASE | 3 << 12, msi_out_data(0x41, DLM_FIXED, false));

    /* Every field of the entry lands in the message. */
    irte_set(&c, 6, IRTE_P | IRTE_DM | IRTE_RH | IRTE_TM |
             IRTE_DLM(DLM_LOWPRI) | IRTE_V(0xec) | IRTE_DST_XAPIC(0xa5), 0);
    edu_msi_config(&c, rmsi_addr(6, true), 0);
    edu_fire(&c);
    expect_msi(&c, MSI_BASE | 0xa5 << 12 | MSI_OUT_RH | MSI_OUT_DM,
               msi_out_data(0xec, DLM_LOWPRI, true));

    irte_set(&c, 7, irte_basic(0x02, 0) | IRTE_DLM(DLM_NMI), 0);
    ptd_msi(&c, rmsi_addr(7, true), 0);
    expect_msi(&c, MSI_BASE, msi_out_data(0x02, DLM_NMI, false));
    expect_no_msi(&c);
    vtd_expect_no_fault(&c.t);
    ir_quit(&c);
}

/*
 * SHV=0: the handle alone is the index and data is ignored; SHV=1: handle
 * plus sub-handle (data[15:0]); address bit 2 is HANDLE[15].
 */
static void test_handles(void)
{
    IRTest c;

    ir_start(&c, "");
    ir_enable(&c, 15, false);               /* 65536 entries */
    irte_set(&c, 7, irte_basic(0x47, 1), 0);
    irte_set(&c, 9, irte_basic(0x49, 1), 0);
    irte_set(&c, 0x8001, irte_basic(0x81, 2), 0);
    irte_set(&c, 0xffff, irte_basic(0xff, 4), 0);

    edu_msi_config(&c, rmsi_addr(7, false), 0x1234);
    edu_fire(&c);
    expect_msi(&c, MSI_BASE | 1 << 12, msi_out_data(0x47, 0, false));

    edu_msi_config(&c, rmsi_addr(4, true), 5);  /* 4 + 5 */
    edu_fire(&c);
    expect_msi(&c, MSI_BASE | 1 << 12, msi_out_data(0x49, 0, false));

    ptd_msi(&c, rmsi_addr(0x8001, false), 0xffffffff);
    expect_msi(&c, MSI_BASE | 2 << 12, msi_out_data(0x81, 0, false));
    ptd_msi(&c, rmsi_addr(0x8000, true), 1);
    expect_msi(&c, MSI_BASE | 2 << 12, msi_out_data(0x81, 0, false));
    ptd_msi(&c, rmsi_addr(0xff00, true), 0xff);
    expect_msi(&c, MSI_BASE | 4 << 12, msi_out_data(0xff, 0, false));
    expect_no_msi(&c);
    vtd_expect_no_fault(&c.t);
    ir_quit(&c);
}

/* Compatibility format: passes unchanged with CFIS, else fault 0x25. */
static void test_compat(void)
{
    IRTest c;
    uint64_t compat = MSI_BASE | 0x01 << 12;

    ir_start(&c, "");
    ir_enable(&c, 3, false);
    edu_msi_config(&c, compat, 0x0031);

    edu_fire(&c);
    expect_no_msi(&c);
    expect_ir_fault(&c, FR_COMPAT, EDU_SID, 0);

    vtd_gcmd(&c.t, VTD_GCMD_CFI, true);
    edu_fire(&c);
    expect_msi(&c, compat, 0x0031);
    ptd_msi(&c, compat | 0xc, 0x4032);      /* RH, DM: untouched */
    expect_msi(&c, compat | 0xc, 0x4032);
    vtd_expect_no_fault(&c.t);

    vtd_gcmd(&c.t, VTD_GCMD_CFI, false);
    ptd_msi_blocked(&c, compat, 0x0031);
    expect_no_msi(&c);
    expect_ir_fault(&c, FR_COMPAT, PTD_SID, 0);
    ir_quit(&c);
}

/*
 * x2APIC mode (IRTA.EIME, needs ECAP.EIM): a 32-bit destination, split
 * in the delivered message as dest[7:0] in address 19:12 and dest[31:8]
 * in address 63:40 (KVM's x2APIC API, as QEMU); compatibility requests
 * are blocked whatever CFIS says.
 */
static void test_x2apic(void)
{
    IRTest c;

    ir_start(&c, ",intremap=on,eim=on");
    g_assert_cmphex(c.t.ecap & VTD_ECAP_EIM, ==, VTD_ECAP_EIM);
    ir_enable(&c, 3, true);
    vtd_gcmd(&c.t, VTD_GCMD_CFI, true);

    irte_set(&c, 1, IRTE_P | IRTE_V(0x51) | IRTE_DST_X2APIC(0x12345678), 0);
    edu_msi_config(&c, rmsi_addr(1, true), 0);
    edu_fire(&c);
    expect_msi(&c, MSI_BASE | 0x78 << 12 | 0x123456ULL << 40,
               msi_out_data(0x51, 0, false));

    /* DST bits that are reserved in xAPIC mode are a destination here. */
    irte_set(&c, 2, IRTE_P | IRTE_V(0x52) | IRTE_DM |
             IRTE_DST_X2APIC(0xffff00ff), 0);
    ptd_msi(&c, rmsi_addr(2, true), 0);
    expect_msi(&c, MSI_BASE | 0xff << 12 | 0xffff00ULL << 40 | MSI_OUT_DM,
               msi_out_data(0x52, 0, false));

    /* ... but 31:24 of qword 0 stay reserved. */
    irte_set(&c, 3, IRTE_P | IRTE_V(0x53) | 1ULL << 24, 0);
    ptd_msi_blocked(&c, rmsi_addr(3, true), 0);
    expect_ir_fault(&c, FR_IRTE_RSVD, PTD_SID, 3);

    ptd_msi_blocked(&c, MSI_BASE | 0x01 << 12, 0x0031);
    expect_ir_fault(&c, FR_COMPAT, PTD_SID, 0);
    expect_no_msi(&c);
    ir_quit(&c);
}

/* Without ECAP.EIM, IRTA.EIME is ignored: xAPIC mode. */
static void test_eime_without_eim(void)
{
    IRTest c;

    ir_start(&c, ",eim=off");
    g_assert_cmphex(c.t.ecap & VTD_ECAP_EIM, ==, 0);
    ir_enable(&c, 3, true);
    irte_set(&c, 1, irte_basic(0x61, 0x22), 0);
    ptd_msi(&c, rmsi_addr(1, true), 0);
    expect_msi(&c, MSI_BASE | 0x22 << 12, msi_out_data(0x61, 0, false));
    /* xAPIC reserved destination bits (39:32) are checked. */
    irte_set(&c, 2, irte_basic(0x62, 0x22) | IRTE_DST_X2APIC(1), 0);
    ptd_msi_blocked(&c, rmsi_addr(2, true), 0);
    expect_ir_fault(&c, FR_IRTE_RSVD, PTD_SID, 2);
    ir_quit(&c);
}

/* --- Faults (facts F.5, G.5) ------------------------------------------------------- */

static void test_fault_req_rsvd(void)
{
    IRTest c;

    ir_start(&c, "");
    ir_enable(&c, 3, false);
    /* FPD of the entry does not matter: 0x20 is not qualified. */
    irte_set(&c, 2, irte_basic(0x30, 0) | IRTE_FPD, 0);
    ptd_msi_blocked(&c, rmsi_addr(2, true), 0x10000);
    expect_ir_fault(&c, FR_REQ_RSVD, PTD_SID, 2);
    /* data[31:16] are reserved only with SHV. */
    irte_set(&c, 2, irte_basic(0x30, 0), 0);
    ptd_msi(&c, rmsi_addr(2, false), 0xffff0000);
    expect_msi(&c, MSI_BASE, msi_out_data(0x30, 0, false));
    ir_quit(&c);
}

static void test_fault_index(void)
{
    IRTest c;

    ir_start(&c, "");
    ir_enable(&c, 0, false);                /* 2 entries */
    irte_set(&c, 1, irte_basic(0x31, 0), 0);
    ptd_msi(&c, rmsi_addr(1, true), 0);
    expect_msi(&c, MSI_BASE, msi_out_data(0x31, 0, false));
    ptd_msi_blocked(&c, rmsi_addr(2, false), 0);
    expect_ir_fault(&c, FR_INDEX_OVER, PTD_SID, 2);
    ptd_msi_blocked(&c, rmsi_addr(1, true), 1);
    expect_ir_fault(&c, FR_INDEX_OVER, PTD_SID, 2);
    /* handle + sub-handle past 16 bits: recorded truncated. */
    ptd_msi_blocked(&c, rmsi_addr(0xffff, true), 3);
    expect_ir_fault(&c, FR_INDEX_OVER, PTD_SID, 2);
    expect_no_msi(&c);
    ir_quit(&c);

    /* A table above the host address width (aw-bits 39). */
    ir_start(&c, ",aw-bits=39");
    vtd_writeq(&c.t, VTD_REG_IRTA, 1ULL << 39 | 3);
    vtd_gcmd(&c.t, VTD_GCMD_SIRTP, true);
    vtd_gcmd(&c.t, VTD_GCMD_IRE, true);
    ptd_msi_blocked(&c, rmsi_addr(5, true), 0);
    expect_ir_fault(&c, FR_INDEX_OVER, PTD_SID, 5);
    ir_quit(&c);
}

static void test_fault_not_present(void)
{
    IRTest c;

    ir_start(&c, "");
    ir_enable(&c, 3, false);
    irte_set(&c, 4, irte_basic(0x34, 0) & ~IRTE_P, 0);
    ptd_msi_blocked(&c, rmsi_addr(4, true), 0);
    expect_ir_fault(&c, FR_NOT_PRESENT, PTD_SID, 4);
    edu_msi_config(&c, rmsi_addr(4, false), 0);
    edu_fire(&c);
    expect_ir_fault(&c, FR_NOT_PRESENT, EDU_SID, 4);
    /* FPD suppresses the record; the interrupt is still dropped. */
    irte_set(&c, 4, IRTE_FPD, 0);
    ptd_msi_blocked(&c, rmsi_addr(4, true), 0);
    vtd_expect_no_fault(&c.t);
    expect_no_msi(&c);
    ir_quit(&c);
}

static void test_fault_read(void)
{
    IRTest c;

    ir_start(&c, "");
    /* Nothing is there (128 MiB of RAM), well below 2^48. */
    vtd_writeq(&c.t, VTD_REG_IRTA, 0x7f0000000000ULL | 3);
    vtd_gcmd(&c.t, VTD_GCMD_SIRTP, true);
    vtd_gcmd(&c.t, VTD_GCMD_IRE, true);
    ptd_msi_blocked(&c, rmsi_addr(3, true), 0);
    expect_ir_fault(&c, FR_READ, PTD_SID, 3);
    expect_no_msi(&c);
    ir_quit(&c);
}

static void test_fault_irte_rsvd(void)
{
    static const uint64_t bad[][2] = {
        { 1ULL << 12, 0 },                  /* 14:12 */
        { 1ULL << 31, 0 },                  /* 31:24 */
        { 1ULL << 32, 0 },                  /* DST 39:32 in xAPIC mode */
        { 1ULL << 63, 0 },                  /* DST 63:48 in xAPIC mode */
        { IRTE_IM, 0 },                     /* posted, no CAP.PI */
        { 0, 1ULL << 20 },                  /* 127:84 */
        { 0, 1ULL << 63 },
    };
    IRTest c;

    ir_start(&c, "");
    ir_enable(&c, 3, false);
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        irte_set(&c, 6, irte_basic(0x36, 0) | bad[i][0], bad[i][1]);
        ptd_msi_blocked(&c, rmsi_addr(6, true), 0);
        expect_ir_fault(&c, FR_IRTE_RSVD, PTD_SID, 6);
        irte_set(&c, 6, irte_basic(0x36, 0) | bad[i][0] | IRTE_FPD,
                 bad[i][1]);
        ptd_msi_blocked(&c, rmsi_addr(6, true), 0);
        vtd_expect_no_fault(&c.t);
    }
    expect_no_msi(&c);
    ir_quit(&c);
}

/* SVT=01: requester SID against IRTE.SID under each SQ mask (G.3). */
static void test_sid_svt_all(void)
{
    static const struct {
        unsigned sq;
        uint16_t pass, fail;        /* IRTE.SID values for edu (0x0018) */
    } cases[] = {
        { 0, 0x0018, 0x0019 },      /* all 16 bits */
        { 1, 0x001c, 0x001a },      /* ignore bit 2 */
        { 2, 0x001e, 0x0019 },      /* ignore bits 2:1 */
        { 3, 0x001f, 0x0020 },      /* ignore bits 2:0 */
    };
    IRTest c;

    ir_start(&c, "");
    vtd_qi_setup(&c.t, false, 0);
    ir_enable(&c, 3, false);
    edu_msi_config(&c, rmsi_addr(2, false), 0);
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        irte_set(&c, 2, irte_basic(0x40 + i, 0),
                 IRTE_SVT(1) | IRTE_SQ(cases[i].sq) |
                 IRTE_SID(cases[i].pass));
        iec_global(&c);
        edu_fire(&c);
        expect_msi(&c, MSI_BASE, msi_out_data(0x40 + i, 0, false));

        irte_set(&c, 2, irte_basic(0x40 + i, 0),
                 IRTE_SVT(1) | IRTE_SQ(cases[i].sq) |
                 IRTE_SID(cases[i].fail));
        iec_global(&c);
        edu_fire(&c);
        expect_no_msi(&c);
        expect_ir_fault(&c, FR_SID, EDU_SID, 2);

        /* Qualified: FPD=1 drops it silently. */
        irte_set(&c, 2, irte_basic(0x40 + i, 0) | IRTE_FPD,
                 IRTE_SVT(1) | IRTE_SQ(cases[i].sq) |
                 IRTE_SID(cases[i].fail));
        iec_global(&c);
        edu_fire(&c);
        expect_no_msi(&c);
        vtd_expect_no_fault(&c.t);
    }
    ir_quit(&c);
}

/* SVT=10: the requester's bus within [SID[15:8], SID[7:0]]; SVT=11 fails. */
static void test_sid_svt_bus(void)
{
    IRTest c;

    ir_start(&c, "");
    ir_enable(&c, 3, false);
    irte_set(&c, 1, irte_basic(0x71, 0), IRTE_SVT(2) | IRTE_SID(0x0000));
    irte_set(&c, 2, irte_basic(0x72, 0), IRTE_SVT(2) | IRTE_SID(0x0005));
    irte_set(&c, 3, irte_basic(0x73, 0), IRTE_SVT(2) | IRTE_SID(0x0102));
    irte_set(&c, 4, irte_basic(0x74, 0),
             IRTE_SVT(3) | IRTE_SID(PTD_SID));
    ptd_msi(&c, rmsi_addr(1, true), 0);
    expect_msi(&c, MSI_BASE, msi_out_data(0x71, 0, false));
    ptd_msi(&c, rmsi_addr(2, true), 0);
    expect_msi(&c, MSI_BASE, msi_out_data(0x72, 0, false));
    ptd_msi_blocked(&c, rmsi_addr(3, true), 0);
    expect_ir_fault(&c, FR_SID, PTD_SID, 3);
    ptd_msi_blocked(&c, rmsi_addr(4, true), 0);
    expect_ir_fault(&c, FR_SID, PTD_SID, 4);
    expect_no_msi(&c);
    ir_quit(&c);
}

/* The fault event (FEADDR/FEDATA) is an MSI of the IOMMU itself, never
 * remapped (here CFIS=0 would block it). */
static void test_fault_event(void)
{
    IRTest c;

    ir_start(&c, "");
    ir_enable(&c, 2, false);               /* 8 entries */
    vtd_writel(&c.t, VTD_REG_FEDATA, 0x0055);
    vtd_writel(&c.t, VTD_REG_FEADDR, 0xfee0f000);
    vtd_writel(&c.t, VTD_REG_FECTL, 0);
    ptd_msi_blocked(&c, rmsi_addr(9, true), 0);
    expect_msi(&c, 0xfee0f000, 0x0055);
    expect_no_msi(&c);
    expect_ir_fault(&c, FR_INDEX_OVER, PTD_SID, 9);
    ir_quit(&c);
}

/* Writes other than a DWORD are not interrupt requests: no fault. */
static void test_not_dword(void)
{
    IRTest c;
    uint32_t st;

    ir_start(&c, "");
    ir_enable(&c, 3, false);
    irte_set(&c, 1, irte_basic(0x21, 0), 0);
    st = ptd_write(&c, rmsi_addr(1, true), 0, 2);
    g_assert_cmphex(st & PTD_DMA_STATUS_ERROR, ==, PTD_DMA_STATUS_ERROR);
    st = ptd_write(&c, rmsi_addr(1, true), 0, 8);
    g_assert_cmphex(st & PTD_DMA_STATUS_ERROR, ==, PTD_DMA_STATUS_ERROR);
    expect_no_msi(&c);
    vtd_expect_no_fault(&c.t);
    ir_quit(&c);
}

/* --- Interrupt entry cache (G.7, E.3) ------------------------------------------------ */

/* A cached entry is used, stale, until a global IEC invalidation. */
static void test_iec_global(void)
{
    IRTest c;

    ir_start(&c, "");
    vtd_qi_setup(&c.t, false, 0);
    ir_enable(&c, 3, false);
    irte_set(&c, 3, irte_basic(0x41, 1), 0);
    ptd_msi(&c, rmsi_addr(3, true), 0);
    expect_msi(&c, MSI_BASE | 1 << 12, msi_out_data(0x41, 0, false));

    irte_set(&c, 3, irte_basic(0x42, 2), 0);
    ptd_msi(&c, rmsi_addr(3, true), 0);
    expect_msi(&c, MSI_BASE | 1 << 12, msi_out_data(0x41, 0, false));
    /* Even a now non-present entry is served from the cache. */
    irte_set(&c, 3, 0, 0);
    ptd_msi(&c, rmsi_addr(3, true), 0);
    expect_msi(&c, MSI_BASE | 1 << 12, msi_out_data(0x41, 0, false));

    iec_global(&c);
    ptd_msi_blocked(&c, rmsi_addr(3, true), 0);
    expect_ir_fault(&c, FR_NOT_PRESENT, PTD_SID, 3);
    irte_set(&c, 3, irte_basic(0x42, 2), 0);
    ptd_msi(&c, rmsi_addr(3, true), 0);
    expect_msi(&c, MSI_BASE | 2 << 12, msi_out_data(0x42, 0, false));
    ir_quit(&c);
}

/* Index-selective: 2^IM entries from IIDX (aligned down), no others. */
static void test_iec_index(void)
{
    IRTest c;

    ir_start(&c, "");
    vtd_qi_setup(&c.t, false, 0);
    ir_enable(&c, 7, false);
    for (unsigned i = 4; i < 8; i++) {
        irte_set(&c, i, irte_basic(0x10 + i, 0), 0);
        ptd_msi(&c, rmsi_addr(i, true), 0);
        expect_msi(&c, MSI_BASE, msi_out_data(0x10 + i, 0, false));
        irte_set(&c, i, irte_basic(0x20 + i, 0), 0);
    }

    iec_index(&c, 5, 0);                    /* 5 only */
    for (unsigned i = 4; i < 8; i++) {
        ptd_msi(&c, rmsi_addr(i, true), 0);
        expect_msi(&c, MSI_BASE,
                   msi_out_data((i == 5 ? 0x20 : 0x10) + i, 0, false));
    }
    iec_index(&c, 7, 1);                    /* 6 and 7 */
    for (unsigned i = 4; i < 8; i++) {
        ptd_msi(&c, rmsi_addr(i, true), 0);
        expect_msi(&c, MSI_BASE,
                   msi_out_data((i == 4 ? 0x10 : 0x20) + i, 0, false));
    }
    iec_index(&c, 0, 3);                    /* 0-7 */
    ptd_msi(&c, rmsi_addr(4, true), 0);
    expect_msi(&c, MSI_BASE, msi_out_data(0x24, 0, false));
    expect_no_msi(&c);
    ir_quit(&c);
}

/*
 * Non-present and invalid entries are not cached: a guest may fill an
 * entry after the fault without invalidating (minimal guests do).
 */
static void test_iec_not_present_uncached(void)
{
    IRTest c;

    ir_start(&c, "");
    ir_enable(&c, 3, false);
    ptd_msi_blocked(&c, rmsi_addr(2, true), 0);
    expect_ir_fault(&c, FR_NOT_PRESENT, PTD_SID, 2);
    irte_set(&c, 2, irte_basic(0x45, 0) | 1ULL << 13, 0);
    ptd_msi_blocked(&c, rmsi_addr(2, true), 0);
    expect_ir_fault(&c, FR_IRTE_RSVD, PTD_SID, 2);
    irte_set(&c, 2, irte_basic(0x45, 0), 0);
    ptd_msi(&c, rmsi_addr(2, true), 0);
    expect_msi(&c, MSI_BASE, msi_out_data(0x45, 0, false));
    ir_quit(&c);
}

/* SIRTP drops what was cached from the previous table. */
static void test_iec_sirtp(void)
{
    IRTest c;
    uint64_t old;

    ir_start(&c, "");
    ir_enable(&c, 3, false);
    irte_set(&c, 1, irte_basic(0x51, 0), 0);
    ptd_msi(&c, rmsi_addr(1, true), 0);
    expect_msi(&c, MSI_BASE, msi_out_data(0x51, 0, false));
    old = c.irt;
    c.irt = vtd_alloc(&c.t, 16 * 16, 4096);
    irte_set(&c, 1, irte_basic(0x52, 0), 0);
    vtd_writeq(&c.t, VTD_REG_IRTA, c.irt | 3);
    vtd_gcmd(&c.t, VTD_GCMD_SIRTP, true);
    ptd_msi(&c, rmsi_addr(1, true), 0);
    expect_msi(&c, MSI_BASE, msi_out_data(0x52, 0, false));
    g_assert_cmphex(old, !=, c.irt);
    ir_quit(&c);
}

/* --- Enable, translation, reset ----------------------------------------------------- */

/* IRE=0: every write goes to the APIC window as made, no fault. */
static void test_ire_off(void)
{
    IRTest c;

    ir_start(&c, "");
    edu_msi_config(&c, rmsi_addr(3, false), 0x0007);
    edu_fire(&c);
    expect_msi(&c, rmsi_addr(3, false), 0x0007);

    ir_enable(&c, 3, false);
    irte_set(&c, 3, irte_basic(0x43, 0), 0);
    edu_fire(&c);
    expect_msi(&c, MSI_BASE, msi_out_data(0x43, 0, false));
    vtd_gcmd(&c.t, VTD_GCMD_IRE, false);
    edu_fire(&c);
    expect_msi(&c, rmsi_addr(3, false), 0x0007);
    ptd_msi(&c, MSI_BASE | 0x01 << 12, 0x0031);
    expect_msi(&c, MSI_BASE | 0x01 << 12, 0x0031);
    expect_no_msi(&c);
    vtd_expect_no_fault(&c.t);
    ir_quit(&c);
}

/*
 * IR works the same with DMA remapping on (TE=1) or off, and does not
 * depend on the device's context: edu has none here, so its DMA faults
 * while its interrupts are remapped.
 */
static void test_independent_of_te(void)
{
    IRTest c;

    ir_start(&c, "");
    ir_enable(&c, 3, false);
    irte_set(&c, 1, irte_basic(0x61, 0), 0);
    edu_msi_config(&c, rmsi_addr(1, true), 0);
    vtd_legacy_root_new(&c.t);
    vtd_enable_dmar(&c.t);
    edu_fire(&c);
    expect_msi(&c, MSI_BASE, msi_out_data(0x61, 0, false));
    vtd_expect_no_fault(&c.t);

    /* IRE off with TE on: the window is still not translated. */
    vtd_gcmd(&c.t, VTD_GCMD_IRE, false);
    edu_fire(&c);
    expect_msi(&c, rmsi_addr(1, true), 0);
    vtd_expect_no_fault(&c.t);

    vtd_gcmd(&c.t, VTD_GCMD_IRE, true);
    vtd_disable_dmar(&c.t);
    edu_fire(&c);
    expect_msi(&c, MSI_BASE, msi_out_data(0x61, 0, false));
    expect_no_msi(&c);
    ir_quit(&c);
}

/* system_reset: IRE, CFI, the latched table and IRTA are gone. */
static void test_reset(void)
{
    IRTest c;

    ir_start(&c, "");
    ir_enable(&c, 3, false);
    vtd_gcmd(&c.t, VTD_GCMD_CFI, true);
    irte_set(&c, 1, irte_basic(0x61, 0), 0);
    ptd_msi(&c, rmsi_addr(1, true), 0);
    expect_msi(&c, MSI_BASE, msi_out_data(0x61, 0, false));

    qtest_qmp_assert_success(c.s, "{\"execute\": \"system_reset\"}");
    vtd_test_reset_state(&c.t);
    devices_init(&c);
    g_assert_cmphex(vtd_readl(&c.t, VTD_REG_GSTS) &
                    (VTD_GSTS_IRES | VTD_GSTS_IRTPS | VTD_GSTS_CFIS), ==, 0);
    g_assert_cmphex(vtd_readq(&c.t, VTD_REG_IRTA), ==, 0);
    ptd_msi(&c, rmsi_addr(1, true), 0);
    expect_msi(&c, rmsi_addr(1, true), 0);

    /* IRE without SIRTP: no table latched, every index is out of range. */
    vtd_gcmd(&c.t, VTD_GCMD_IRE, true);
    ptd_msi_blocked(&c, rmsi_addr(0, true), 0);
    expect_ir_fault(&c, FR_INDEX_OVER, PTD_SID, 0);
    expect_no_msi(&c);
    ir_quit(&c);
}

/* --- Properties ---------------------------------------------------------------------- */

/* intremap=off: no ECAP.IR/EIM, IRE cannot be set, MSIs untouched;
 * auto means on for both (docs/intel-iommu.md, Properties). */
static void test_intremap_off(void)
{
    IRTest c;

    ir_start(&c, ",intremap=off");
    g_assert_cmphex(c.t.ecap & (VTD_ECAP_IR | VTD_ECAP_EIM), ==, 0);
    vtd_writel(&c.t, VTD_REG_GCMD, VTD_GCMD_IRE);
    g_assert_cmphex(vtd_readl(&c.t, VTD_REG_GSTS) & VTD_GSTS_IRES, ==, 0);
    ptd_msi(&c, rmsi_addr(1, true), 0);
    expect_msi(&c, rmsi_addr(1, true), 0);
    vtd_expect_no_fault(&c.t);
    ir_quit(&c);

    /* The defaults (auto) offer both. */
    ir_start(&c, "");
    g_assert_cmphex(c.t.ecap & (VTD_ECAP_IR | VTD_ECAP_EIM), ==,
                    VTD_ECAP_IR | VTD_ECAP_EIM);
    ir_quit(&c);
}

/* eim=on needs interrupt remapping: start-up fails, naming both. */
static void test_eim_needs_intremap(void)
{
    qtest_expect_startup_error("-M q35 -display none -device "
                               "intel-iommu,intremap=off,eim=on -accel qtest",
                               "intel-iommu: eim=on requires intremap=on");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/intel-iommu/ir/remappable-xapic", test_remappable_xapic);
    g_test_add_func("/intel-iommu/ir/handles-shv", test_handles);
    g_test_add_func("/intel-iommu/ir/compat-cfis", test_compat);
    g_test_add_func("/intel-iommu/ir/x2apic-eime", test_x2apic);
    g_test_add_func("/intel-iommu/ir/eime-without-eim",
                    test_eime_without_eim);
    g_test_add_func("/intel-iommu/ir/fault/req-rsvd-0x20",
                    test_fault_req_rsvd);
    g_test_add_func("/intel-iommu/ir/fault/index-0x21", test_fault_index);
    g_test_add_func("/intel-iommu/ir/fault/not-present-0x22",
                    test_fault_not_present);
    g_test_add_func("/intel-iommu/ir/fault/read-0x23", test_fault_read);
    g_test_add_func("/intel-iommu/ir/fault/irte-rsvd-0x24",
                    test_fault_irte_rsvd);
    g_test_add_func("/intel-iommu/ir/fault/sid-svt01-sq", test_sid_svt_all);
    g_test_add_func("/intel-iommu/ir/fault/sid-svt10-bus", test_sid_svt_bus);
    g_test_add_func("/intel-iommu/ir/fault/event-msi", test_fault_event);
    g_test_add_func("/intel-iommu/ir/not-dword", test_not_dword);
    g_test_add_func("/intel-iommu/ir/iec/stale-until-global",
                    test_iec_global);
    g_test_add_func("/intel-iommu/ir/iec/stale-until-index",
                    test_iec_index);
    g_test_add_func("/intel-iommu/ir/iec/not-present-uncached",
                    test_iec_not_present_uncached);
    g_test_add_func("/intel-iommu/ir/iec/sirtp-drops", test_iec_sirtp);
    g_test_add_func("/intel-iommu/ir/ire-off-unchanged", test_ire_off);
    g_test_add_func("/intel-iommu/ir/independent-of-te",
                    test_independent_of_te);
    g_test_add_func("/intel-iommu/ir/reset", test_reset);
    g_test_add_func("/intel-iommu/ir/prop/intremap-off", test_intremap_off);
    g_test_add_func("/intel-iommu/ir/prop/eim-needs-intremap",
                    test_eim_needs_intremap);
    return g_test_run();
}
