/*
 * libvtd: test-side helpers for intel-iommu qtests (see libvtd.h).
 */
#include <string.h>
#include <glib.h>

#include "libvtd.h"

#define PCI_COMMAND             0x04
#define  PCI_COMMAND_MEMORY     0x2
#define  PCI_COMMAND_MASTER     0x4

/* edu registers (control_boot_facts D.2) */
#define EDU_DMA_SRC             0x80
#define EDU_DMA_DST             0x88
#define EDU_DMA_CNT             0x90
#define EDU_DMA_CMD             0x98
#define  EDU_DMA_RUN            0x1
#define  EDU_DMA_TO_RAM         0x2
#define  EDU_DMA_ERROR          0x80000000u
#define EDU_DMA_DELAY_NS        (100 * 1000 * 1000)

/* --- Machine ---------------------------------------------------------------- */

void vtd_test_init(VTDTest *t, QTestState *s)
{
    memset(t, 0, sizeof(*t));
    t->s = s;
    t->alloc_next = VTD_ALLOC_BASE;
    t->cap = vtd_readq(t, VTD_REG_CAP);
    t->ecap = vtd_readq(t, VTD_REG_ECAP);
}

void vtd_test_start(VTDTest *t, const char *iommu_opts, const char *extra)
{
    QTestState *s = qtest_initf("-M q35 -m 128M -device intel-iommu%s %s",
                                iommu_opts ? iommu_opts : "",
                                extra ? extra : "");

    vtd_test_init(t, s);
}

void vtd_test_quit(VTDTest *t)
{
    qtest_quit(t->s);
    t->s = NULL;
}

void vtd_test_reset_state(VTDTest *t)
{
    vtd_test_init(t, t->s);
}

uint64_t vtd_alloc(VTDTest *t, uint64_t size, uint64_t align)
{
    uint64_t addr = (t->alloc_next + align - 1) & ~(align - 1);

    g_assert_cmphex(addr + size, <=, VTD_ALLOC_END);
    t->alloc_next = addr + size;
    qtest_memset(t->s, addr, 0, size);
    return addr;
}

uint64_t vtd_alloc_page(VTDTest *t)
{
    return vtd_alloc(t, 4096, 4096);
}

/* --- Registers ---------------------------------------------------------------- */

uint32_t vtd_readl(VTDTest *t, unsigned off)
{
    return qtest_readl(t->s, VTD_BASE + off);
}

uint64_t vtd_readq(VTDTest *t, unsigned off)
{
    return qtest_readq(t->s, VTD_BASE + off);
}

void vtd_writel(VTDTest *t, unsigned off, uint32_t v)
{
    qtest_writel(t->s, VTD_BASE + off, v);
}

void vtd_writeq(VTDTest *t, unsigned off, uint64_t v)
{
    qtest_writeq(t->s, VTD_BASE + off, v);
}

void vtd_gcmd(VTDTest *t, uint32_t bit, bool on)
{
    uint32_t sts = vtd_readl(t, VTD_REG_GSTS) & VTD_GSTS_PERSISTENT;
    uint32_t cmd = on ? sts | bit : sts & ~bit;

    vtd_writel(t, VTD_REG_GCMD, cmd);
    sts = vtd_readl(t, VTD_REG_GSTS);
    switch (bit) {
    case VTD_GCMD_SRTP:
        g_assert_true(sts & VTD_GSTS_RTPS);
        break;
    case VTD_GCMD_SIRTP:
        g_assert_true(sts & VTD_GSTS_IRTPS);
        break;
    default:                    /* persistent: GSTS has the same bit */
        g_assert_cmphex(sts & bit, ==, on ? bit : 0);
        break;
    }
}

void vtd_set_root(VTDTest *t, uint64_t root, unsigned ttm)
{
    vtd_writeq(t, VTD_REG_RTADDR, root | (uint64_t)ttm << 10);
    vtd_gcmd(t, VTD_GCMD_SRTP, true);
    t->root = root;
    t->scalable = ttm == VTD_TTM_SCALABLE;
}

void vtd_enable_dmar(VTDTest *t)
{
    vtd_gcmd(t, VTD_GCMD_TE, true);
}

void vtd_disable_dmar(VTDTest *t)
{
    vtd_gcmd(t, VTD_GCMD_TE, false);
}

/* --- Legacy tables -------------------------------------------------------------- */

uint64_t vtd_legacy_root_new(VTDTest *t)
{
    uint64_t root = vtd_alloc_page(t);

    vtd_set_root(t, root, VTD_TTM_LEGACY);
    return root;
}

uint64_t vtd_root_entry_addr(VTDTest *t, uint8_t bus)
{
    return t->root + bus * 16;
}

uint64_t vtd_context_entry_addr(VTDTest *t, uint8_t bus, uint8_t devfn)
{
    uint64_t re = vtd_root_entry_addr(t, bus);
    uint64_t lo;

    if (t->scalable) {
        lo = qtest_readq(t->s, re + (devfn >= 0x80 ? 8 : 0));
        return (lo & 1) ? (lo & ~0xfffULL) + (devfn & 0x7f) * 32 : 0;
    }
    lo = qtest_readq(t->s, re);
    return (lo & 1) ? (lo & ~0xfffULL) + devfn * 16 : 0;
}

uint64_t vtd_legacy_set_context(VTDTest *t, uint8_t bus, uint8_t devfn,
                                uint64_t lo, uint64_t hi)
{
    uint64_t re = vtd_root_entry_addr(t, bus), ce;

    g_assert_true(t->root && !t->scalable);
    if (!(qtest_readq(t->s, re) & 1)) {
        qtest_writeq(t->s, re, vtd_alloc_page(t) | 1);
        qtest_writeq(t->s, re + 8, 0);
    }
    ce = vtd_context_entry_addr(t, bus, devfn);
    qtest_writeq(t->s, ce + 8, hi);
    qtest_writeq(t->s, ce, lo);
    return ce;
}

uint64_t vtd_legacy_map_device(VTDTest *t, uint8_t bus, uint8_t devfn,
                               uint64_t slptptr, unsigned aw, uint16_t did)
{
    return vtd_legacy_set_context(t, bus, devfn,
                                  slptptr | VTD_CTX_TT(VTD_TT_MULTI_LEVEL) |
                                  VTD_CTX_P, VTD_CTX_HI(aw, did));
}

/* --- Page tables ------------------------------------------------------------------ */

void vtd_pt_init(VTDTest *t, VTDPageTable *pt, int levels, bool first_stage)
{
    g_assert_true(levels >= 2 && levels <= 5);
    pt->root = vtd_alloc_page(t);
    pt->levels = levels;
    pt->first_stage = first_stage;
}

static unsigned vtd_pt_index(uint64_t iova, int level)
{
    return (iova >> (12 + 9 * (level - 1))) & 0x1ff;
}

static uint64_t vtd_pt_table_flags(VTDPageTable *pt)
{
    return pt->first_stage ? VTD_FL_PRW_US : VTD_SL_RW;
}

static bool vtd_pt_present(VTDPageTable *pt, uint64_t pte)
{
    return pt->first_stage ? (pte & VTD_FL_P) : (pte & VTD_SL_RW);
}

/* The entry at level for iova, creating tables above it if create. */
static uint64_t vtd_pt_walk(VTDTest *t, VTDPageTable *pt, uint64_t iova,
                            int level, bool create)
{
    uint64_t table = pt->root;

    for (int l = pt->levels; l > level; l--) {
        uint64_t ea = table + vtd_pt_index(iova, l) * 8;
        uint64_t pte = qtest_readq(t->s, ea);

        if (!vtd_pt_present(pt, pte)) {
            if (!create) {
                return 0;
            }
            pte = vtd_alloc_page(t) | vtd_pt_table_flags(pt);
            qtest_writeq(t->s, ea, pte);
        }
        table = pte & 0x000ffffffffff000ULL;
    }
    return table + vtd_pt_index(iova, level) * 8;
}

uint64_t vtd_pt_entry_addr(VTDTest *t, VTDPageTable *pt, uint64_t iova,
                           int level)
{
    return vtd_pt_walk(t, pt, iova, level, false);
}

void vtd_pt_map(VTDTest *t, VTDPageTable *pt, uint64_t iova, uint64_t gpa,
                uint64_t size, uint64_t flags)
{
    int level = size == (1ULL << 30) ? 3 : size == (2ULL << 20) ? 2 : 1;

    g_assert_true(size == 4096 || level > 1);
    g_assert_cmphex(iova & (size - 1), ==, 0);
    g_assert_cmphex(gpa & (size - 1), ==, 0);
    qtest_writeq(t->s, vtd_pt_walk(t, pt, iova, level, true),
                 gpa | flags | (level > 1 ? VTD_SL_PS : 0));
}

void vtd_pt_map_range(VTDTest *t, VTDPageTable *pt, uint64_t iova,
                      uint64_t gpa, uint64_t len, uint64_t flags)
{
    for (uint64_t off = 0; off < len; off += 4096) {
        vtd_pt_map(t, pt, iova + off, gpa + off, 4096, flags);
    }
}

void vtd_pt_unmap(VTDTest *t, VTDPageTable *pt, uint64_t iova, int level)
{
    uint64_t ea = vtd_pt_entry_addr(t, pt, iova, level);

    g_assert_cmphex(ea, !=, 0);
    qtest_writeq(t->s, ea, 0);
}

/* --- Scalable tables -------------------------------------------------------------- */

uint64_t vtd_sm_root_new(VTDTest *t)
{
    uint64_t root = vtd_alloc_page(t);

    vtd_set_root(t, root, VTD_TTM_SCALABLE);
    return root;
}

uint64_t vtd_sm_set_context(VTDTest *t, uint8_t bus, uint8_t devfn,
                            uint64_t qw0, uint64_t qw1)
{
    uint64_t half = vtd_root_entry_addr(t, bus) + (devfn >= 0x80 ? 8 : 0);
    uint64_t ce;

    g_assert_true(t->root && t->scalable);
    if (!(qtest_readq(t->s, half) & 1)) {
        qtest_writeq(t->s, half, vtd_alloc_page(t) | 1);
    }
    ce = vtd_context_entry_addr(t, bus, devfn);
    qtest_writeq(t->s, ce + 24, 0);
    qtest_writeq(t->s, ce + 16, 0);
    qtest_writeq(t->s, ce + 8, qw1);
    qtest_writeq(t->s, ce, qw0);
    return ce;
}

uint64_t vtd_sm_pasid_entry_addr(VTDTest *t, uint64_t dir, uint32_t pasid)
{
    uint64_t de = qtest_readq(t->s, dir + (pasid >> 6) * 8);

    return (de & 1) ? (de & ~0xfffULL) + (pasid & 0x3f) * 64 : 0;
}

uint64_t vtd_sm_set_pasid_entry(VTDTest *t, uint64_t dir, uint32_t pasid,
                                const uint64_t pe[8])
{
    uint64_t dea = dir + (pasid >> 6) * 8, pea;

    if (!(qtest_readq(t->s, dea) & 1)) {
        qtest_writeq(t->s, dea, vtd_alloc_page(t) | VTD_PDIR_P);
    }
    pea = vtd_sm_pasid_entry_addr(t, dir, pasid);
    for (int i = 7; i >= 0; i--) {
        qtest_writeq(t->s, pea + 8 * i, pe[i]);
    }
    return pea;
}

void vtd_pe_build(uint64_t pe[8], unsigned pgtt, uint16_t did, unsigned aw,
                  uint64_t slptptr, uint64_t flptptr, uint64_t flags2)
{
    memset(pe, 0, 8 * sizeof(pe[0]));
    pe[0] = VTD_PE_P | VTD_PE_AW(aw) | VTD_PE_PGTT(pgtt) | slptptr;
    pe[1] = did;
    pe[2] = flptptr | flags2;
}

uint64_t vtd_sm_map_device(VTDTest *t, uint8_t bus, uint8_t devfn,
                           uint32_t rid_pasid, const uint64_t pe[8])
{
    /* PDTS 0: 2^7 directory entries, one page is plenty. */
    uint64_t dir = vtd_alloc_page(t);

    vtd_sm_set_pasid_entry(t, dir, rid_pasid, pe);
    vtd_sm_set_context(t, bus, devfn,
                       dir | VTD_SMCTX_PDTS(0) | VTD_SMCTX_PASIDE |
                       VTD_SMCTX_P, rid_pasid);
    return dir;
}

/* --- Faults ------------------------------------------------------------------------ */

unsigned vtd_num_fault_records(VTDTest *t)
{
    return VTD_CAP_NFR(t->cap) + 1;
}

unsigned vtd_frcd_offset(VTDTest *t, unsigned i)
{
    return VTD_CAP_FRO(t->cap) * 16 + 16 * i;
}

bool vtd_read_fault(VTDTest *t, unsigned i, VTDFault *out)
{
    unsigned off = vtd_frcd_offset(t, i);
    uint64_t lo = vtd_readq(t, off), hi = vtd_readq(t, off + 8);

    memset(out, 0, sizeof(*out));
    out->f = hi >> 63;
    out->fr = (hi >> 32) & 0xff;
    out->sid = hi & 0xffff;
    out->addr = lo & ~0xfffULL;
    out->ir_index = lo >> 48;
    out->is_write = !((hi >> 62) & 1);
    out->pp = (hi >> 31) & 1;
    out->pasid = (hi >> 40) & 0xfffff;
    out->at = (hi >> 60) & 3;
    return out->f;
}

void vtd_clear_fault(VTDTest *t, unsigned i)
{
    vtd_writel(t, vtd_frcd_offset(t, i) + 12, 0x80000000u);
}

uint32_t vtd_fsts(VTDTest *t)
{
    return vtd_readl(t, VTD_REG_FSTS);
}

void vtd_fsts_clear(VTDTest *t, uint32_t bits)
{
    vtd_writel(t, VTD_REG_FSTS, bits);
}

void vtd_clear_all_faults(VTDTest *t)
{
    for (unsigned i = 0; i < vtd_num_fault_records(t); i++) {
        vtd_clear_fault(t, i);
    }
    vtd_fsts_clear(t, VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE |
                   VTD_FSTS_ITE);
}

VTDFault vtd_expect_one_fault(VTDTest *t, uint8_t fr, uint16_t sid,
                              uint64_t addr, bool is_write)
{
    uint32_t fsts = vtd_fsts(t);
    VTDFault f = { 0 }, other;
    unsigned n = 0, idx = VTD_FSTS_FRI(fsts);

    g_assert_cmphex(fsts & VTD_FSTS_PPF, ==, VTD_FSTS_PPF);
    for (unsigned i = 0; i < vtd_num_fault_records(t); i++) {
        if (vtd_read_fault(t, i, &other)) {
            n++;
            g_assert_cmpuint(i, ==, idx);
            f = other;
        }
    }
    g_assert_cmpuint(n, ==, 1);
    g_assert_cmphex(f.fr, ==, fr);
    g_assert_cmphex(f.sid, ==, sid);
    g_assert_cmphex(f.addr, ==, addr & ~0xfffULL);
    g_assert_cmpint(f.is_write, ==, is_write);
    vtd_clear_fault(t, idx);
    g_assert_cmphex(vtd_fsts(t) & VTD_FSTS_PPF, ==, 0);
    return f;
}

void vtd_expect_no_fault(VTDTest *t)
{
    VTDFault f;

    g_assert_cmphex(vtd_fsts(t) & VTD_FSTS_PPF, ==, 0);
    for (unsigned i = 0; i < vtd_num_fault_records(t); i++) {
        g_assert_false(vtd_read_fault(t, i, &f));
    }
}

/* --- Queued invalidation -------------------------------------------------------------- */

static unsigned vtd_qi_desc_size(VTDTest *t)
{
    return t->iq_dw ? 32 : 16;
}

void vtd_qi_setup(VTDTest *t, bool dw256, unsigned qs)
{
    uint64_t size = 4096ULL << qs;

    t->iq = vtd_alloc(t, size, 4096);
    t->iq_dw = dw256;
    t->iq_entries = size / vtd_qi_desc_size(t);
    t->iq_tail = 0;
    t->iq_status = vtd_alloc(t, 4096, 4096);
    vtd_writeq(t, VTD_REG_IQT, 0);
    vtd_writeq(t, VTD_REG_IQA, t->iq | (dw256 ? 1ULL << 11 : 0) | qs);
    vtd_gcmd(t, VTD_GCMD_QIE, true);
}

void vtd_qi_submit(VTDTest *t, const VTDQIDesc *desc, unsigned n)
{
    unsigned words = t->iq_dw ? 4 : 2;

    g_assert_cmpuint(t->iq_entries, >, 0);
    for (unsigned i = 0; i < n; i++) {
        uint64_t slot = t->iq + t->iq_tail * vtd_qi_desc_size(t);

        for (unsigned w = 0; w < words; w++) {
            qtest_writeq(t->s, slot + 8 * w, desc[i].qw[w]);
        }
        t->iq_tail = (t->iq_tail + 1) % t->iq_entries;
    }
    vtd_writeq(t, VTD_REG_IQT, (uint64_t)t->iq_tail * vtd_qi_desc_size(t));
}

bool vtd_qi_submit_wait(VTDTest *t, const VTDQIDesc *desc, unsigned n)
{
    g_autofree VTDQIDesc *all = g_new0(VTDQIDesc, n + 1);
    uint32_t seq = ++t->iq_status_seq;

    memcpy(all, desc, n * sizeof(*desc));
    qtest_writel(t->s, t->iq_status, 0);
    all[n] = vtd_qi_desc_wait(seq, t->iq_status,
                              VTD_QI_WAIT_SW | VTD_QI_WAIT_FN);
    vtd_qi_submit(t, all, n + 1);
    return qtest_readl(t->s, t->iq_status) == seq;
}

uint64_t vtd_qi_head(VTDTest *t)
{
    return vtd_readq(t, VTD_REG_IQH);
}

uint64_t vtd_qi_tail(VTDTest *t)
{
    return vtd_readq(t, VTD_REG_IQT);
}

VTDQIDesc vtd_qi_desc_wait(uint32_t sdata, uint64_t saddr, uint64_t flags)
{
    return (VTDQIDesc) {
        .qw = { VTD_QI_WAIT | flags | (uint64_t)sdata << 32, saddr },
    };
}

VTDQIDesc vtd_qi_desc_cc_global(void)
{
    return (VTDQIDesc) { .qw = { VTD_QI_CC | 1 << 4 } };
}

VTDQIDesc vtd_qi_desc_cc_domain(uint16_t did)
{
    return (VTDQIDesc) { .qw = { VTD_QI_CC | 2 << 4 | (uint64_t)did << 16 } };
}

VTDQIDesc vtd_qi_desc_cc_device(uint16_t did, uint16_t sid, unsigned fm)
{
    return (VTDQIDesc) {
        .qw = { VTD_QI_CC | 3 << 4 | (uint64_t)did << 16 |
                (uint64_t)sid << 32 | (uint64_t)(fm & 3) << 48 },
    };
}

VTDQIDesc vtd_qi_desc_iotlb_global(void)
{
    return (VTDQIDesc) { .qw = { VTD_QI_IOTLB | 1 << 4 } };
}

VTDQIDesc vtd_qi_desc_iotlb_domain(uint16_t did)
{
    return (VTDQIDesc) {
        .qw = { VTD_QI_IOTLB | 2 << 4 | (uint64_t)did << 16 },
    };
}

VTDQIDesc vtd_qi_desc_iotlb_page(uint16_t did, uint64_t addr, unsigned am,
                                 bool ih)
{
    return (VTDQIDesc) {
        .qw = { VTD_QI_IOTLB | 3 << 4 | (uint64_t)did << 16,
                (addr & ~0xfffULL) | (ih ? 1 << 6 : 0) | (am & 0x3f) },
    };
}

VTDQIDesc vtd_qi_desc_pc(unsigned g, uint16_t did, uint32_t pasid)
{
    return (VTDQIDesc) {
        .qw = { VTD_QI_PC | (uint64_t)(g & 3) << 4 | (uint64_t)did << 16 |
                (uint64_t)(pasid & 0xfffff) << 32 },
    };
}

VTDQIDesc vtd_qi_desc_piotlb(unsigned g, uint16_t did, uint32_t pasid,
                             uint64_t addr, unsigned am, bool ih)
{
    return (VTDQIDesc) {
        .qw = { VTD_QI_PIOTLB | (uint64_t)(g & 3) << 4 |
                (uint64_t)did << 16 | (uint64_t)(pasid & 0xfffff) << 32,
                (addr & ~0xfffULL) | (ih ? 1 << 6 : 0) | (am & 0x3f) },
    };
}

VTDQIDesc vtd_qi_desc_iec(bool global, uint16_t index, unsigned im)
{
    return (VTDQIDesc) {
        .qw = { VTD_QI_IEC | (global ? 0 : 1 << 4) |
                (uint64_t)(im & 0x1f) << 27 | (uint64_t)index << 32 },
    };
}

void vtd_reg_cc_global(VTDTest *t)
{
    vtd_writeq(t, VTD_REG_CCMD, VTD_CCMD_ICC | VTD_CCMD_CIRG(VTD_INV_GLOBAL));
    g_assert_cmphex(vtd_readq(t, VTD_REG_CCMD) & VTD_CCMD_ICC, ==, 0);
}

void vtd_reg_iotlb_global(VTDTest *t)
{
    unsigned off = VTD_ECAP_IRO(t->ecap) * 16 + 8;

    vtd_writeq(t, off, VTD_TLB_IVT | VTD_TLB_IIRG(VTD_INV_GLOBAL));
    g_assert_cmphex(vtd_readq(t, off) & VTD_TLB_IVT, ==, 0);
}

void vtd_invalidate_all(VTDTest *t)
{
    if (vtd_readl(t, VTD_REG_GSTS) & VTD_GSTS_QIES) {
        VTDQIDesc d[3] = {
            vtd_qi_desc_cc_global(),
            vtd_qi_desc_iotlb_global(),
            vtd_qi_desc_pc(3, 0, 0),
        };

        g_assert_true(vtd_qi_submit_wait(t, d, t->iq_dw ? 3 : 2));
        return;
    }
    vtd_reg_cc_global(t);
    vtd_reg_iotlb_global(t);
}

/* --- edu ------------------------------------------------------------------------------ */

void vtd_edu_init(VTDTest *t, VTDEdu *e, int bus, int devfn, uint64_t bar)
{
    e->bus = bus;
    e->devfn = devfn;
    if (bar) {
        qpci_bar_map(t->s, bus, devfn, 0, bar);
    } else {
        bar = qpci_config_readl(t->s, bus, devfn, 0x10) & ~0xfu;
        g_assert_cmphex(bar, !=, 0);
    }
    e->bar = bar;
    qpci_config_writew(t->s, bus, devfn, PCI_COMMAND,
                       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

uint32_t vtd_edu_dma(VTDTest *t, VTDEdu *e, uint64_t iova, uint64_t buf_off,
                     uint64_t len, bool to_ram)
{
    uint64_t dev = VTD_EDU_BUF + buf_off;

    qtest_writeq(t->s, e->bar + EDU_DMA_SRC, to_ram ? dev : iova);
    qtest_writeq(t->s, e->bar + EDU_DMA_DST, to_ram ? iova : dev);
    qtest_writeq(t->s, e->bar + EDU_DMA_CNT, len);
    qtest_writel(t->s, e->bar + EDU_DMA_CMD,
                 EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0));
    qtest_clock_step(t->s, EDU_DMA_DELAY_NS);
    return qtest_readl(t->s, e->bar + EDU_DMA_CMD);
}

bool vtd_edu_read(VTDTest *t, VTDEdu *e, uint64_t iova, uint64_t len)
{
    return !(vtd_edu_dma(t, e, iova, 0, len, false) & EDU_DMA_ERROR);
}

bool vtd_edu_write(VTDTest *t, VTDEdu *e, uint64_t iova, uint64_t len)
{
    return !(vtd_edu_dma(t, e, iova, 0, len, true) & EDU_DMA_ERROR);
}

void vtd_fill(void *buf, size_t len, uint8_t seed)
{
    uint8_t *p = buf;

    for (size_t i = 0; i < len; i++) {
        p[i] = seed + 7 * i;
    }
}
