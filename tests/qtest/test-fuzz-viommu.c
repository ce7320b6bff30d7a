/*
 * fuzz-viommu: a hostile guest against the vIOMMU paths of an assigned
 * device (vfio-pci on the simulated host): intel-iommu first-stage
 * nesting on iommufd, caching-mode shadowing (legacy and scalable second
 * stage, iommufd and the legacy container), virtio-iommu, and interrupt
 * remapping of the device's MSI/MSI-X.
 *
 * The guest writes random tables and entries (pointers anywhere: RAM,
 * MMIO, beyond RAM), random registers, random invalidation descriptors
 * and virtio-iommu requests, makes the device DMA at random IOVAs, makes
 * the simulated host fail calls (x-inject), resets the machine and plugs
 * a second device.  After every batch the process must answer qtest and
 * QMP; at the end, after system_reset, a correct driver must get DMA to
 * land where it mapped it: the machine recovered.
 *
 * Deterministic: each case has a fixed seed, printed in the TAP output;
 * FUZZ_VIOMMU_SEED=N overrides it to replay or explore, FUZZ_VIOMMU_OPS=N
 * sets the operations per batch (250).
 */
#include <string.h>
#include <glib.h>

#include "libqtest.h"
#include "libsimdma.h"
#include "libvirtio.h"
#include "libvtd.h"

#define HOST_BDF        "0000:02:00.0"
#define HOST_BDF2       "0000:02:01.0"
#define VFIO_DEVFN      (4 << 3)
#define VFIO_SID        VFIO_DEVFN      /* bus 0: also the virtio-iommu EP */
#define HOST            "/objects/h"
/* The assigned device at 04.0; a second host function for hotplug on rp0. */
#define SIM_ARGS        "-object sim-host,id=h " \
                        "-object sim-pci-device,id=d0,sim-host=h," \
                        "host=" HOST_BDF ",iommu-group=5 " \
                        "-object sim-pci-device,id=d1,sim-host=h," \
                        "host=" HOST_BDF2 ",iommu-group=6 " \
                        "-device pcie-root-port,id=rp0,addr=05.0," \
                        "chassis=1,slot=1 "
#define IOMMUFD_DEV     "-object iommufd,id=fd0 " \
                        "-device vfio-pci,host=" HOST_BDF ",iommufd=fd0," \
                        "id=vfio0,addr=04.0 "
#define LEGACY_DEV      "-device vfio-pci,host=" HOST_BDF ",id=vfio0," \
                        "addr=04.0 "

#define DID             5
#define GPA_SRC         0x00100000ULL
#define GPA_DST         0x00200000ULL
#define GPA_DST2        0x00300000ULL
#define IOVA_SRC        0x10000000ULL
#define IOVA_DST        0x10002000ULL
#define IOVA_MMIO       0x10004000ULL   /* mapped to the IOMMU's registers */
#define IOVA_NO_RAM     0x10006000ULL   /* mapped above guest RAM */
#define IOVA_BAR        0x10008000ULL   /* mapped to the device's own BAR0 */
#define RAM_SIZE        0x08000000ULL   /* -m 128M (libvtd) */
#define LEN             256

#define MSI_ADDR        0xfee00000ULL
#define MSI_OUT_LEVEL   (1u << 14)
#define IRTE_P          (1ULL << 0)
#define IRTE_V(v)       ((uint64_t)(v) << 16)
#define IRTE_DST(id)    ((uint64_t)(id) << 40)
#define RMSI_ADDR(h)    (MSI_ADDR | 1ULL << 4 | 1ULL << 3 | (uint64_t)(h) << 5)

#define BATCHES         10
#define OPS_PER_BATCH   250

/*
 * What the random DMA did, printed per case: a fuzz whose DMA never
 * completes, or never faults, is not reaching the translation paths.
 */
static unsigned dma_done, dma_fault, dma_other;
/* The assigned device's BAR0 (guest-physical): DMA to its own registers. */
static uint64_t dev_bar0;

/* --- Randomness ----------------------------------------------------------- */

static guint32 fuzz_seed(guint32 fixed)
{
    const char *env = g_getenv("FUZZ_VIOMMU_SEED");
    guint32 seed = env ? (guint32)g_ascii_strtoull(env, NULL, 0) : fixed;

    g_test_message("seed 0x%x (replay: FUZZ_VIOMMU_SEED=0x%x)", seed, seed);
    return seed;
}

/* Operations per batch; FUZZ_VIOMMU_OPS=N runs longer to explore. */
static int ops_per_batch(void)
{
    const char *env = g_getenv("FUZZ_VIOMMU_OPS");

    return env ? (int)g_ascii_strtoull(env, NULL, 0) : OPS_PER_BATCH;
}

static unsigned rnd(GRand *r, unsigned n)
{
    return g_rand_int_range(r, 0, n);
}

static uint64_t rnd64(GRand *r)
{
    return (uint64_t)g_rand_int(r) << 32 | g_rand_int(r);
}

/* A value worth trying where an address or a length goes. */
static uint64_t rnd_addr(GRand *r)
{
    static const uint64_t interesting[] = {
        0, 0x1000, GPA_SRC, GPA_DST, IOVA_SRC, IOVA_DST, IOVA_MMIO,
        IOVA_NO_RAM, VTD_ALLOC_BASE, RAM_SIZE - 0x1000, RAM_SIZE,
        0xfec00000, VTD_BASE, MSI_ADDR, 0xfffff000, 0x100000000ULL,
        1ULL << 39, 1ULL << 48, 1ULL << 57, 0x7ffffffff000ULL,
        0xfffffffffffff000ULL, ~0ULL,
    };

    switch (rnd(r, 6)) {
    case 0:
        return rnd64(r);
    case 1:
        return interesting[rnd(r, G_N_ELEMENTS(interesting))];
    case 2:
        return interesting[rnd(r, G_N_ELEMENTS(interesting))] +
               (int64_t)rnd(r, 0x2000) - 0x1000;
    case 3:
        return (uint64_t)rnd(r, RAM_SIZE >> 12) << 12;
    case 4:
        return g_rand_int(r);
    default:
        return IOVA_SRC + ((uint64_t)rnd(r, 8) << 12) + rnd(r, 2) * 0xff8;
    }
}

/* Inside the IOMMU's own register file: DMA or MSIs that program it. */
static uint64_t rnd_vtd_reg(GRand *r)
{
    static const unsigned regs[] = {
        VTD_REG_GCMD, VTD_REG_RTADDR, VTD_REG_IQT, VTD_REG_IQA,
        VTD_REG_FECTL, VTD_REG_FSTS, VTD_REG_IRTA, VTD_REG_CCMD,
    };

    return VTD_BASE + (rnd(r, 2) ? regs[rnd(r, G_N_ELEMENTS(regs))] :
                       rnd(r, 0x1000) & ~3u);
}

/* A value with few bits, many bits or one bit flipped from old. */
static uint64_t rnd_bits(GRand *r, uint64_t old)
{
    switch (rnd(r, 5)) {
    case 0:
        return rnd64(r);
    case 1:
        return old ^ 1ULL << rnd(r, 64);
    case 2:
        return old ^ (1ULL << rnd(r, 64) | 1ULL << rnd(r, 64));
    case 3:
        return (rnd_addr(r) & ~0xfffULL) | (old & 0xfff);
    default:
        return rnd(r, 4) ? 0 : ~0ULL;
    }
}

static void dma_stats_reset(void)
{
    dma_done = dma_fault = dma_other = 0;
}

/* The fuzz reached both a working translation and a refused one. */
static void dma_stats_check(void)
{
    g_test_message("dma: %u done, %u faulted, %u refused otherwise",
                   dma_done, dma_fault, dma_other);
    g_assert_cmpuint(dma_done, >, 0);
    g_assert_cmpuint(dma_fault, >, 0);
}

/* --- Common checks -------------------------------------------------------- */

static void system_reset(QTestState *s)
{
    qtest_qmp_assert_success(s, "{\"execute\": \"system_reset\"}");
    qtest_qmp_eventwait(s, "RESET");
}

/* Random host failures: OP:ERRNO[:COUNT], sometimes malformed. */
static void fuzz_inject(QTestState *s, GRand *r)
{
    static const char *const ops[] = {
        "hwpt-alloc", "attach", "hwpt-invalidate", "map", "bogus", "",
    };
    g_autofree char *what = NULL;
    JsonObject *rsp;

    switch (rnd(r, 4)) {
    case 0:
        what = g_strdup("");
        break;
    case 1:
        what = g_strdup_printf("%s:%d", ops[rnd(r, G_N_ELEMENTS(ops))],
                               (int)rnd(r, 5000) - 10);
        break;
    default:
        what = g_strdup_printf("%s:%u:%u", ops[rnd(r, 3)],
                               1 + rnd(r, 40), rnd(r, 4));
        break;
    }
    rsp = qtest_qmp(s, "{\"execute\": \"qom-set\", \"arguments\": "
                    "{\"path\": \"" HOST "\", \"property\": \"x-inject\", "
                    "\"value\": \"%s\"}}", what);
    g_assert_true(json_object_has_member(rsp, "return") ||
                  json_object_has_member(rsp, "error"));
    json_object_unref(rsp);
}

static void clear_inject(QTestState *s)
{
    qtest_qmp_assert_success(s, "{\"execute\": \"qom-set\", \"arguments\": "
                             "{\"path\": \"" HOST "\", \"property\": "
                             "\"x-inject\", \"value\": \"\"}}");
}

/*
 * Plugs the second host function on rp0 (it may be refused: the error is
 * then a clean GenericError) or unplugs it.
 */
static void fuzz_hotplug(QTestState *s, bool iommufd, bool *plugged)
{
    JsonObject *rsp;

    if (*plugged) {
        qtest_qmp_device_del(s, "vfio1");
        *plugged = false;
        return;
    }
    rsp = qtest_qmp(s, "{\"execute\": \"device_add\", \"arguments\": "
                    "{\"driver\": \"vfio-pci\", \"id\": \"vfio1\", "
                    "\"bus\": \"rp0\", \"host\": \"" HOST_BDF2 "\"%s}}",
                    iommufd ? ", \"iommufd\": \"fd0\"" : "");
    if (qmp_rsp_is_err(rsp)) {
        g_free(qmp_expect_error(rsp, "GenericError"));
    } else {
        *plugged = true;
    }
    json_object_unref(rsp);
}

/* simdma_init(), remembering where BAR0 is. */
static void dev_init(SimDma *d, QTestState *s)
{
    simdma_init(d, s, 0, VFIO_DEVFN);
    dev_bar0 = d->bar0;
}

/* Mostly where a correct driver would map, sometimes anywhere. */
static uint64_t dma_addr(GRand *r, uint64_t (*anywhere)(GRand *r))
{
    static const uint64_t hot[] = {
        IOVA_SRC, IOVA_DST, GPA_SRC, GPA_DST, GPA_DST2, IOVA_MMIO,
        IOVA_NO_RAM, IOVA_BAR, IOVA_BAR + SIM_DMA_REG_CMD,
    };

    if (rnd(r, 2)) {
        return hot[rnd(r, G_N_ELEMENTS(hot))] + rnd(r, 0x100);
    }
    if (!rnd(r, 8)) {
        return dev_bar0 + rnd(r, 0x100);
    }
    return anywhere(r);
}

/* An offset in the device's buffer, or past its end. */
static uint64_t buf_off(GRand *r)
{
    return rnd(r, 4) ? rnd(r, SIM_DMA_BUF_SIZE) : rnd64(r);
}

/*
 * One DMA of the assigned device: random operation, addresses, length
 * and PASID tag.  Any STATUS is legal; the machine must survive.
 */
static void fuzz_dma(SimDma *d, GRand *r, uint64_t (*anywhere)(GRand *r))
{
    static const uint32_t lens[] = {
        0, 1, 8, 4095, 4096, 4097, 0x10000, SIM_DMA_MAX_LEN,
        SIM_DMA_MAX_LEN + 1, 0xffffffff,
    };
    unsigned op = rnd(r, 16) ? rnd(r, 3) : 3;
    uint64_t src = op == SIM_DMA_OP_FROM_BUFFER ? buf_off(r) :
                   dma_addr(r, anywhere);
    uint64_t dst = op == SIM_DMA_OP_TO_BUFFER ? buf_off(r) :
                   dma_addr(r, anywhere);
    uint32_t len;
    uint32_t st;

    switch (rnd(r, 4)) {
    case 0:
    case 1:
        len = 1 + rnd(r, 256);
        break;
    case 2:
        len = 1 + rnd(r, 4096);
        break;
    default:
        len = lens[rnd(r, G_N_ELEMENTS(lens))];
        break;
    }
    if (!rnd(r, 8)) {
        /* untagged, a PASID the guest may have set up, or any */
        simdma_writel(d, SIM_DMA_REG_PASID, rnd(r, 2) ? 0 : rnd(r, 2) ?
                      SIM_DMA_PASID_EN | rnd(r, 4) : g_rand_int(r));
    }
    st = simdma_run(d, op, src, dst, len);
    if (st == SIM_DMA_STATUS_DONE) {
        dma_done++;
    } else if (simdma_status_error(st) == SIM_DMA_ERR_FAULT) {
        simdma_fault_iova(d);
        dma_fault++;
    } else {
        dma_other++;
    }
}

/* --- intel-iommu ---------------------------------------------------------- */

typedef enum VtdMode {
    NESTED,             /* x-scalable-mode, x-flts: first stage on the host */
    LEGACY_SL,          /* legacy tables, caching mode: shadowed */
    SCALABLE_SL,        /* scalable second stage, caching mode: shadowed */
    IR,                 /* interrupt remapping of MSI / MSI-X */
} VtdMode;

typedef struct VtdCase {
    const char *path;
    VtdMode mode;
    bool iommufd;
    guint32 seed;
} VtdCase;

typedef struct VtdFuzz {
    VTDTest t;
    SimDma d;
    GRand *r;
    const VtdCase *c;
    bool plugged;
    VTDPageTable pt;
    uint64_t irt;
    /* Guest addresses of live structure qwords the guest scribbles on. */
    uint64_t targets[96];
    unsigned ntargets;
    int64_t hwpts0;             /* host HWPTs and fds of the fresh machine */
    int fds0;
} VtdFuzz;

static void add_target(VtdFuzz *f, uint64_t addr, unsigned qwords)
{
    for (unsigned i = 0; i < qwords && addr; i++) {
        g_assert_cmpuint(f->ntargets, <, G_N_ELEMENTS(f->targets));
        f->targets[f->ntargets++] = addr + 8 * i;
    }
}

static bool scalable(VtdFuzz *f)
{
    return f->c->mode == NESTED || f->c->mode == SCALABLE_SL;
}

/* GCMD without checking GSTS (the guest may have broken anything). */
static void raw_gcmd(VtdFuzz *f, uint32_t bit, bool on)
{
    uint32_t sts = vtd_readl(&f->t, VTD_REG_GSTS) & VTD_GSTS_PERSISTENT;

    vtd_writel(&f->t, VTD_REG_GCMD, on ? sts | bit : sts & ~bit);
}

/* Descriptors at our tail, one doorbell; nothing checked. */
static void raw_qi(VtdFuzz *f, const VTDQIDesc *desc, unsigned n)
{
    VTDTest *t = &f->t;
    unsigned size = t->iq_dw ? 32 : 16;

    for (unsigned i = 0; i < n; i++) {
        uint64_t slot = t->iq + (uint64_t)t->iq_tail * size;

        for (unsigned w = 0; w < size / 8; w++) {
            qtest_writeq(t->s, slot + 8 * w, desc[i].qw[w]);
        }
        t->iq_tail = (t->iq_tail + 1) % t->iq_entries;
    }
    vtd_writeq(t, VTD_REG_IQT, (uint64_t)t->iq_tail * size);
}

static void raw_invalidate_all(VtdFuzz *f)
{
    VTDQIDesc d[3] = {
        vtd_qi_desc_cc_global(), vtd_qi_desc_iotlb_global(),
        vtd_qi_desc_pc(3, 0, 0),
    };

    raw_qi(f, d, scalable(f) ? 3 : 2);
}

/*
 * A correct driver's state, from scratch and without assertions (the
 * registers may hold anything): faults cleared, a queue, the device's
 * tables, TE on; each structure qword goes on the target list.
 */
static void vtd_build(VtdFuzz *f)
{
    VTDTest *t = &f->t;
    unsigned levels = f->c->mode == NESTED ? 4 : 3;
    bool fs = f->c->mode == NESTED;
    uint64_t leaf = fs ? VTD_FL_PRW_US : VTD_SL_RW;
    uint64_t root, pe[8];

    vtd_test_reset_state(t);
    f->ntargets = 0;
    raw_gcmd(f, VTD_GCMD_QIE, false);
    vtd_clear_all_faults(t);
    vtd_writel(t, VTD_REG_FEADDR, MSI_ADDR);
    vtd_writel(t, VTD_REG_FEUADDR, 0);
    vtd_writel(t, VTD_REG_IEADDR, MSI_ADDR);
    vtd_writel(t, VTD_REG_IEUADDR, 0);
    vtd_writel(t, VTD_REG_FECTL, 0);
    vtd_writel(t, VTD_REG_IECTL, 0);
    t->iq = vtd_alloc(t, 4096, 4096);
    t->iq_dw = scalable(f);
    t->iq_entries = 4096 / (t->iq_dw ? 32 : 16);
    t->iq_status = vtd_alloc(t, 4096, 4096);
    vtd_writeq(t, VTD_REG_IQT, 0);
    vtd_writeq(t, VTD_REG_IQA, t->iq | (t->iq_dw ? 1ULL << 11 : 0));
    raw_gcmd(f, VTD_GCMD_QIE, true);
    add_target(f, t->iq, 8);

    vtd_pt_init(t, &f->pt, levels, fs);
    vtd_pt_map(t, &f->pt, IOVA_SRC, GPA_SRC, 4096, leaf);
    vtd_pt_map(t, &f->pt, IOVA_DST, GPA_DST2, 4096, leaf);
    vtd_pt_map(t, &f->pt, IOVA_MMIO, VTD_BASE, 4096, leaf);
    vtd_pt_map(t, &f->pt, IOVA_NO_RAM, 0x200000000ULL, 4096, leaf);
    vtd_pt_map(t, &f->pt, IOVA_BAR, f->d.bar0, 4096, leaf);
    for (int l = levels; l >= 1; l--) {
        add_target(f, vtd_pt_entry_addr(t, &f->pt, IOVA_SRC, l), 1);
        add_target(f, vtd_pt_entry_addr(t, &f->pt, IOVA_DST, l), 1);
    }

    root = vtd_alloc_page(t);
    vtd_writeq(t, VTD_REG_RTADDR, root |
               (uint64_t)(scalable(f) ? VTD_TTM_SCALABLE : 0) << 10);
    raw_gcmd(f, VTD_GCMD_SRTP, true);
    t->root = root;
    t->scalable = scalable(f);
    if (scalable(f)) {
        uint64_t dir;

        vtd_pe_build(pe, fs ? VTD_PGTT_FIRST : VTD_PGTT_SECOND, DID,
                     fs ? 0 : VTD_AW_39, fs ? 0 : f->pt.root,
                     fs ? f->pt.root : 0, 0);
        dir = vtd_sm_map_device(t, 0, VFIO_DEVFN, 0, pe);
        add_target(f, dir, 1);
        add_target(f, vtd_sm_pasid_entry_addr(t, dir, 0), 8);
    } else {
        vtd_legacy_map_device(t, 0, VFIO_DEVFN, f->pt.root, VTD_AW_39, DID);
    }
    add_target(f, vtd_root_entry_addr(t, 0), 2);
    add_target(f, vtd_context_entry_addr(t, 0, VFIO_DEVFN),
               scalable(f) ? 4 : 2);

    if (f->c->mode == IR) {
        f->irt = vtd_alloc(t, 16 * 256, 4096);
        for (unsigned i = 0; i < 16; i++) {
            qtest_writeq(t->s, f->irt + 16 * i,
                         IRTE_P | IRTE_V(0x40 + i) | IRTE_DST(i));
        }
        add_target(f, f->irt, 8);
        vtd_writeq(t, VTD_REG_IRTA, f->irt | 7);
        raw_gcmd(f, VTD_GCMD_SIRTP, true);
        raw_gcmd(f, VTD_GCMD_IRE, true);
    }
    raw_invalidate_all(f);
    raw_gcmd(f, VTD_GCMD_TE, true);
}

/* A qword of a live structure gets a random value. */
static void fuzz_target(VtdFuzz *f)
{
    GRand *r = f->r;
    uint64_t a = f->targets[rnd(r, f->ntargets)];
    uint64_t old = qtest_readq(f->t.s, a), v;

    if (!rnd(r, 8)) {
        /* a present large or leaf page anywhere, any permissions */
        v = (rnd_addr(r) & ~0xfffULL) | rnd(r, 8) | VTD_SL_PS |
            (rnd(r, 4) ? 0 : rnd64(r) & 0xfff0000000000f00ULL);
    } else if (!rnd(r, 4)) {
        /* a pointer to another live structure, random low bits */
        v = (f->targets[rnd(r, f->ntargets)] & ~0xfffULL) | (old & 0xfff);
        v ^= rnd(r, 2) ? 1ULL << rnd(r, 12) : 0;
    } else {
        v = rnd_bits(r, old);
    }
    qtest_writeq(f->t.s, a, v);
}

/*
 * A random PASID-table entry for a random PASID, written where the
 * context entry's directory (as the guest left it) points, then a
 * PASID-cache and maybe a PASID-based IOTLB invalidation.
 */
static void fuzz_pasid_entry(VtdFuzz *f)
{
    GRand *r = f->r;
    QTestState *s = f->t.s;
    uint32_t pasid = rnd(r, 3) ? 0 : rnd(r, 256);
    uint64_t ce = vtd_context_entry_addr(&f->t, 0, VFIO_DEVFN);
    uint64_t pe[8], dir, pde;
    VTDQIDesc d[2];

    vtd_pe_build(pe, rnd(r, 8), rnd(r, 2) ? DID : rnd(r, 0x10000),
                 rnd(r, 8), rnd(r, 2) ? f->pt.root : rnd_addr(r),
                 rnd(r, 2) ? f->pt.root : rnd_addr(r),
                 rnd(r, 2) ? 0 : rnd64(r) & 0x3c);
    if (!rnd(r, 3)) {
        pe[rnd(r, 8)] ^= 1ULL << rnd(r, 64);  /* reserved bits, fields */
    }
    dir = ce && ce < RAM_SIZE ? qtest_readq(s, ce) & ~0xfffULL : 0;
    if (dir && dir < RAM_SIZE - 4096) {
        pde = qtest_readq(s, dir + 8 * (pasid >> 6));
        if ((pde & VTD_PDIR_P) && (pde & ~0xfffULL) < RAM_SIZE - 4096) {
            qtest_memwrite(s, (pde & ~0xfffULL) + 64 * (pasid & 63), pe,
                           sizeof(pe));
        }
    }
    d[0] = vtd_qi_desc_pc(rnd(r, 4), rnd(r, 2) ? DID : rnd(r, 0x10000),
                          pasid);
    d[1] = vtd_qi_desc_piotlb(rnd(r, 4), DID, pasid, rnd_addr(r),
                              rnd(r, 64), rnd(r, 2));
    raw_qi(f, d, 1 + rnd(r, 2));
}

/* A register of the file, written (or read) with a random value. */
static void fuzz_register(VtdFuzz *f)
{
    static const unsigned regs[] = {
        VTD_REG_GCMD, VTD_REG_RTADDR, VTD_REG_CCMD, VTD_REG_FSTS,
        VTD_REG_FECTL, VTD_REG_FEDATA, VTD_REG_FEADDR, VTD_REG_FEUADDR,
        VTD_REG_PMEN, VTD_REG_IQH, VTD_REG_IQT, VTD_REG_IQA, VTD_REG_ICS,
        VTD_REG_IECTL, VTD_REG_IEDATA, VTD_REG_IEADDR, VTD_REG_IQERCD,
        VTD_REG_IRTA, VTD_REG_IVA, VTD_REG_IOTLB, VTD_REG_FRCD0,
        VTD_REG_FRCD0 + 8, VTD_REG_CAP, VTD_REG_VER,
    };
    static const uint32_t gcmd_bits[] = {
        VTD_GCMD_TE, VTD_GCMD_SRTP, VTD_GCMD_QIE, VTD_GCMD_IRE,
        VTD_GCMD_SIRTP, VTD_GCMD_CFI, VTD_GCMD_WBF,
    };
    GRand *r = f->r;
    VTDTest *t = &f->t;
    unsigned off;

    switch (rnd(r, 6)) {
    case 0:         /* GCMD bits a driver uses, on or off */
        raw_gcmd(f, gcmd_bits[rnd(r, G_N_ELEMENTS(gcmd_bits))], rnd(r, 2));
        return;
    case 1:         /* any offset, any width, read or write */
        off = rnd(r, 0x1000);
        switch (rnd(r, 8)) {
        case 0:
            qtest_writeb(t->s, VTD_BASE + off, g_rand_int(r));
            return;
        case 1:
            qtest_writew(t->s, VTD_BASE + off, g_rand_int(r));
            return;
        case 2:
            qtest_readb(t->s, VTD_BASE + off);
            return;
        case 3:
            qtest_readq(t->s, VTD_BASE + (off & ~7u));
            return;
        default:
            qtest_writel(t->s, VTD_BASE + (off & ~3u), g_rand_int(r));
            return;
        }
    case 2:         /* event messages into our own registers */
        if (rnd(r, 3)) {
            vtd_writel(t, rnd(r, 2) ? VTD_REG_FEADDR : VTD_REG_IEADDR,
                       rnd_vtd_reg(r));
            vtd_writel(t, rnd(r, 2) ? VTD_REG_FEDATA : VTD_REG_IEDATA,
                       rnd(r, 2) ? VTD_GCMD_TE | VTD_GCMD_QIE :
                       g_rand_int(r));
            vtd_writel(t, VTD_REG_FECTL, 0);
            vtd_writel(t, VTD_REG_IECTL, 0);
            return;
        }
        /* the root table anywhere, latched */
        vtd_writeq(t, VTD_REG_RTADDR, rnd_bits(r, t->root |
                   (scalable(f) ? 1ULL << 10 : 0)));
        raw_gcmd(f, VTD_GCMD_SRTP, true);
        return;
    case 3:         /* the queue anywhere, of any size and width */
        if (rnd(r, 2)) {
            vtd_writeq(t, VTD_REG_IQA, rnd_bits(r, t->iq |
                       (t->iq_dw ? 1ULL << 11 : 0)));
        } else {
            vtd_writeq(t, VTD_REG_IQT, rnd(r, 2) ? rnd64(r) :
                       (uint64_t)rnd(r, 0x10000) << 4);
        }
        return;
    default:
        off = regs[rnd(r, G_N_ELEMENTS(regs))];
        if (off == VTD_REG_IVA || off == VTD_REG_IOTLB) {
            off += VTD_ECAP_IRO(t->ecap) * 16 - VTD_REG_IVA;
        } else if (off >= VTD_REG_FRCD0 && off < VTD_REG_FRCD0 + 16) {
            off += VTD_CAP_FRO(t->cap) * 16 - VTD_REG_FRCD0;
        }
        if (rnd(r, 2)) {
            vtd_writel(t, off, rnd_bits(r, vtd_readl(t, off)));
        } else {
            vtd_writeq(t, off & ~7u, rnd_bits(r, vtd_readq(t, off & ~7u)));
        }
        return;
    }
}

/* 1-4 descriptors of any type with random fields, plus maybe a wait. */
static void fuzz_qi(VtdFuzz *f)
{
    GRand *r = f->r;
    VTDQIDesc d[5];
    unsigned n = 1 + rnd(r, 4);

    for (unsigned i = 0; i < n; i++) {
        switch (rnd(r, 10)) {
        case 0:
            d[i] = vtd_qi_desc_cc_device(rnd(r, 2) ? DID : g_rand_int(r),
                                         rnd(r, 2) ? VFIO_SID : g_rand_int(r),
                                         rnd(r, 4));
            d[i].qw[0] ^= (uint64_t)rnd(r, 4) << 4;   /* granularity */
            break;
        case 1:
            d[i] = vtd_qi_desc_iotlb_page(rnd(r, 2) ? DID : g_rand_int(r),
                                          rnd_addr(r), rnd(r, 64), rnd(r, 2));
            d[i].qw[0] ^= (uint64_t)rnd(r, 4) << 4;
            break;
        case 2:
            d[i] = vtd_qi_desc_pc(rnd(r, 4), rnd(r, 2) ? DID : g_rand_int(r),
                                  g_rand_int(r));
            break;
        case 3:
            d[i] = vtd_qi_desc_piotlb(rnd(r, 4), DID,
                                      rnd(r, 2) ? 0 : g_rand_int(r),
                                      rnd_addr(r), rnd(r, 64), rnd(r, 2));
            break;
        case 4:
            d[i] = vtd_qi_desc_iec(rnd(r, 2), g_rand_int(r), rnd(r, 32));
            break;
        case 5:     /* wait: status anywhere (our registers, the queue
                     * itself), any flags */
            d[i] = vtd_qi_desc_wait(g_rand_int(r), rnd(r, 2) ?
                                    f->t.iq_status : rnd(r, 3) ?
                                    rnd_addr(r) : rnd(r, 2) ?
                                    rnd_vtd_reg(r) :
                                    f->t.iq + rnd(r, 4096),
                                    (uint64_t)rnd(r, 16) << 4);
            break;
        case 6:
            d[i] = rnd(r, 2) ? vtd_qi_desc_cc_global() :
                               vtd_qi_desc_iotlb_global();
            break;
        default:    /* any type, any bits */
            for (unsigned w = 0; w < 4; w++) {
                d[i].qw[w] = rnd(r, 3) ? rnd64(r) : 0;
            }
            d[i].qw[0] = (d[i].qw[0] & ~0xfULL) | rnd(r, 16);
            if (rnd(r, 2)) {
                d[i].qw[0] &= ~(0x7ULL << 9);   /* type[6:4] 0 */
            }
            break;
        }
    }
    if (rnd(r, 2)) {
        d[n++] = vtd_qi_desc_wait(1, f->t.iq_status,
                                  VTD_QI_WAIT_SW | VTD_QI_WAIT_FN);
    }
    raw_qi(f, d, n);
}

/* MSI-X table entry, MSI capability or the engine's vectors: random. */
static void fuzz_msi(VtdFuzz *f)
{
    GRand *r = f->r;
    SimDma *d = &f->d;
    QTestState *s = f->t.s;
    uint64_t e = d->bar2 + SIM_DMA_MSIX_TABLE +
                 SIM_DMA_MSIX_ENTRY_SIZE * rnd(r, SIM_DMA_MSIX_VECTORS);
    uint64_t addr;

    switch (rnd(r, 4)) {
    case 0:
        addr = rnd(r, 2) ? RMSI_ADDR(rnd(r, 20)) | (rnd(r, 2) << 2) :
               rnd(r, 2) ? MSI_ADDR | (uint64_t)rnd(r, 256) << 12 :
               rnd(r, 2) ? rnd_vtd_reg(r) : rnd_addr(r);
        qtest_writel(s, e, addr);
        qtest_writel(s, e + 4, addr >> 32);
        qtest_writel(s, e + 8, rnd(r, 2) ? rnd(r, 8) : g_rand_int(r));
        qtest_writel(s, e + 12, rnd(r, 4) ? 0 : g_rand_int(r));
        return;
    case 1:         /* anywhere in the MSI-X BAR page, PBA included */
        qtest_writel(s, d->bar2 + (rnd(r, 0x1000) & ~3u), g_rand_int(r));
        return;
    case 2:
        if (rnd(r, 2)) {
            qpci_config_writew(s, 0, VFIO_DEVFN, SIM_DMA_CFG_MSIX + 2,
                               rnd(r, 2) ? SIM_DMA_MSIX_CTRL_ENABLE :
                               g_rand_int(r));
        } else {
            unsigned off = SIM_DMA_CFG_MSI +
                           rnd(r, SIM_DMA_MSI_CAP_SIZE / 2) * 2;

            qpci_config_writew(s, 0, VFIO_DEVFN, off,
                               off == SIM_DMA_CFG_MSI + SIM_DMA_MSI_CTRL &&
                               rnd(r, 2) ? 1 | rnd(r, 4) << 4 :
                               g_rand_int(r));
        }
        return;
    default:
        simdma_writel(d, SIM_DMA_REG_IRQ, rnd(r, 2) ? g_rand_int(r) :
                      SIM_DMA_IRQ_DONE_EN | SIM_DMA_IRQ_ERR_EN |
                      rnd(r, 10) << SIM_DMA_IRQ_ERR_VEC_SHIFT | rnd(r, 10));
        return;
    }
}

/* One random guest action; weights depend on the mode. */
static void vtd_op(VtdFuzz *f)
{
    GRand *r = f->r;
    unsigned op = rnd(r, 100);

    if (f->c->mode == IR && op < 35) {
        if (op < 15) {
            fuzz_msi(f);
        } else if (op < 28) {
            uint64_t a = f->irt + 16 * (rnd(r, 3) ? rnd(r, 20) : rnd(r, 256));

            qtest_writeq(f->t.s, a, rnd(r, 3) ? IRTE_P | rnd64(r) :
                         rnd_bits(r, qtest_readq(f->t.s, a)));
            qtest_writeq(f->t.s, a + 8, rnd(r, 2) ? 0 : rnd64(r));
        } else {
            VTDQIDesc d = vtd_qi_desc_iec(rnd(r, 2), rnd(r, 32), rnd(r, 6));

            raw_qi(f, &d, 1);
        }
        return;
    }
    if (op < 20) {
        fuzz_target(f);
        if (rnd(r, 2)) {
            raw_invalidate_all(f);
        }
    } else if (op < 28 && scalable(f)) {
        fuzz_pasid_entry(f);
    } else if (op < 45) {
        fuzz_register(f);
    } else if (op < 62) {
        fuzz_qi(f);
    } else if (op < 90) {
        fuzz_dma(&f->d, r, rnd_addr);
    } else if (op < 94) {
        fuzz_inject(f->t.s, r);
    } else if (op < 98) {
        vtd_build(f);       /* a driver starting over: deeper paths again */
    } else if (op < 99) {
        fuzz_hotplug(f->t.s, f->c->iommufd, &f->plugged);
    } else {
        system_reset(f->t.s);
        dev_init(&f->d, f->t.s);
        vtd_build(f);
    }
}

/* After system_reset, a correct driver's DMA lands where it mapped. */
static void vtd_recovered(VtdFuzz *f)
{
    VTDTest *t = &f->t;
    VtdMode mode = f->c->mode;
    bool fs = mode == NESTED;
    uint64_t pe[8];

    clear_inject(t->s);
    system_reset(t->s);
    vtd_test_reset_state(t);
    g_assert_cmphex(vtd_readl(t, VTD_REG_GSTS) & VTD_GSTS_TES, ==, 0);
    vtd_expect_no_fault(t);
    /* nothing the fuzz did is left on the host */
    g_assert_cmpint(qtest_qom_get_int(t->s, HOST, "nr-hwpts"), ==,
                    f->hwpts0);
    g_assert_cmpint(qtest_count_fds(t->s), ==, f->fds0);
    simdma_init(&f->d, t->s, 0, VFIO_DEVFN);
    simdma_writel(&f->d, SIM_DMA_REG_PASID, 0);
    /* before remapping: guest-physical */
    g_assert_true(simdma_copy_lands(&f->d, GPA_SRC, GPA_SRC, GPA_DST,
                                    GPA_DST, LEN, 1));

    if (mode == IR) {
        uint64_t irt = vtd_alloc(t, 16 * 256, 4096), addr;
        uint32_t data;

        qtest_writeq(t->s, irt + 16 * 8, IRTE_P | IRTE_V(0x52) | IRTE_DST(3));
        qtest_writeq(t->s, irt + 16 * 8 + 8, 0);
        vtd_writeq(t, VTD_REG_IRTA, irt | 7);
        vtd_gcmd(t, VTD_GCMD_SIRTP, true);
        vtd_gcmd(t, VTD_GCMD_IRE, true);
        simdma_msi_on(&f->d, RMSI_ADDR(8), 0, 0);
        simdma_irq_vectors(&f->d, 0, 0);
        g_assert_true(simdma_copy_lands(&f->d, GPA_SRC, GPA_SRC, GPA_DST2,
                                        GPA_DST2, LEN, 2));
        g_assert_true(qtest_msi_pop(t->s, &addr, &data));
        g_assert_cmphex(addr, ==, MSI_ADDR | 3 << 12);
        g_assert_cmphex(data, ==, 0x52 | MSI_OUT_LEVEL);
        vtd_expect_no_fault(t);
        return;
    }

    vtd_qi_setup(t, mode != LEGACY_SL, 0);
    vtd_pt_init(t, &f->pt, fs ? 4 : 3, fs);
    vtd_pt_map(t, &f->pt, IOVA_SRC, GPA_SRC, 4096,
               fs ? VTD_FL_PRW_US : VTD_SL_RW);
    vtd_pt_map(t, &f->pt, IOVA_DST, GPA_DST2, 4096,
               fs ? VTD_FL_PRW_US : VTD_SL_RW);
    if (mode == LEGACY_SL) {
        vtd_legacy_root_new(t);
        vtd_legacy_map_device(t, 0, VFIO_DEVFN, f->pt.root, VTD_AW_39, DID);
    } else {
        vtd_sm_root_new(t);
        vtd_pe_build(pe, fs ? VTD_PGTT_FIRST : VTD_PGTT_SECOND, DID,
                     fs ? 0 : VTD_AW_39, fs ? 0 : f->pt.root,
                     fs ? f->pt.root : 0, 0);
        vtd_sm_map_device(t, 0, VFIO_DEVFN, 0, pe);
    }
    vtd_invalidate_all(t);
    vtd_enable_dmar(t);
    g_assert_true(simdma_copy_lands(&f->d, IOVA_SRC, GPA_SRC, IOVA_DST,
                                    GPA_DST2, LEN, 3));
    /* and what the guest did not map faults on the host */
    g_assert_cmphex(simdma_status_result(simdma_copy(&f->d, GPA_SRC, GPA_DST,
                                                     16)), ==,
                    SIMDMA_STATUS_FAULT);
    vtd_expect_no_fault(t);
}

static void test_vtd(gconstpointer opaque)
{
    const VtdCase *c = opaque;
    static const char *const opts[] = {
        [NESTED] = ",caching-mode=on,x-scalable-mode=on,x-flts=on",
        [LEGACY_SL] = ",caching-mode=on",
        [SCALABLE_SL] = ",caching-mode=on,x-scalable-mode=on",
        [IR] = ",caching-mode=on,intremap=on",
    };
    g_autofree char *extra = g_strdup_printf(SIM_ARGS "%s",
                                             c->iommufd ? IOMMUFD_DEV :
                                                          LEGACY_DEV);
    VtdFuzz f = { .c = c };

    f.r = g_rand_new_with_seed(fuzz_seed(c->seed));
    vtd_test_start(&f.t, opts[c->mode], extra);
    f.hwpts0 = qtest_qom_get_int(f.t.s, HOST, "nr-hwpts");
    f.fds0 = qtest_count_fds(f.t.s);
    dev_init(&f.d, f.t.s);
    if (c->mode == IR) {
        simdma_msix_on(&f.d, SIM_DMA_MSIX_VECTORS, RMSI_ADDR(0), 0);
    }
    vtd_build(&f);
    dma_stats_reset();
    for (int b = 0; b < BATCHES; b++) {
        for (int i = 0; i < ops_per_batch(); i++) {
            vtd_op(&f);
        }
        qtest_msi_clear(f.t.s);
        qtest_assert_alive(f.t.s);
        g_test_message("batch %d: nr-hwpts %" G_GINT64_FORMAT, b,
                       qtest_qom_get_int(f.t.s, HOST, "nr-hwpts"));
    }
    dma_stats_check();
    if (f.plugged) {
        fuzz_hotplug(f.t.s, c->iommufd, &f.plugged);
    }
    vtd_recovered(&f);
    g_rand_free(f.r);
    vtd_test_quit(&f.t);
}

/*
 * Found by the fuzz: an event message the guest points at the IOMMU's
 * own control register.  Unmasking a pending event sends the message; a
 * message that writes ECTL with IM=0 must find IP already clear (the
 * message has gone), not send itself again: the emulator overflowed its
 * stack.  Both event kinds: the fault event (pending by a queue error)
 * and the invalidation-completion event (pending by a wait with IF).
 */
static void test_event_to_own_ectl(void)
{
    VTDQIDesc wait = vtd_qi_desc_wait(0, 0, VTD_QI_WAIT_IF);
    VTDQIDesc bad = { .qw = { 0 } };            /* type 0: IQE */
    uint64_t addr;
    uint32_t data;
    VTDTest t;

    vtd_test_start(&t, "", "");
    vtd_qi_setup(&t, false, 0);

    vtd_writel(&t, VTD_REG_IECTL, VTD_ECTL_IM);
    vtd_qi_submit(&t, &wait, 1);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_IECTL), ==,
                    VTD_ECTL_IM | VTD_ECTL_IP);
    vtd_writel(&t, VTD_REG_IEDATA, 0);
    vtd_writel(&t, VTD_REG_IEADDR, VTD_BASE + VTD_REG_IECTL);
    vtd_writel(&t, VTD_REG_IECTL, 0);
    qtest_assert_alive(t.s);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_IECTL), ==, 0);

    vtd_writel(&t, VTD_REG_FECTL, VTD_ECTL_IM);
    vtd_qi_submit(&t, &bad, 1);
    g_assert_cmphex(vtd_fsts(&t) & VTD_FSTS_IQE, ==, VTD_FSTS_IQE);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_FECTL), ==,
                    VTD_ECTL_IM | VTD_ECTL_IP);
    vtd_writel(&t, VTD_REG_FEDATA, 0);
    vtd_writel(&t, VTD_REG_FEADDR, VTD_BASE + VTD_REG_FECTL);
    vtd_writel(&t, VTD_REG_FECTL, 0);
    qtest_assert_alive(t.s);
    g_assert_cmphex(vtd_readl(&t, VTD_REG_FECTL), ==, 0);
    /* the messages went to the register, not to an interrupt */
    g_assert_false(qtest_msi_pop(t.s, &addr, &data));
    vtd_test_quit(&t);
}

/* --- virtio-iommu --------------------------------------------------------- */

#define VIOMMU_DEVFN    (3 << 3)
#define VIRTIO_ALLOC    0x01000000ULL   /* 16 MiB: rings and requests */
#define VIRTIO_SIZE     0x01000000ULL
#define CFG_BYPASS      36
#define T_ATTACH        1
#define T_DETACH        2
#define T_MAP           3
#define T_UNMAP         4
#define T_PROBE         5

typedef struct ViommuFuzz {
    QTestState *s;
    QVirtioIommu v;
    SimDma d;
    GRand *r;
    uint64_t alloc_mark;        /* requests are allocated from here */
    bool iommufd;
    bool plugged;
} ViommuFuzz;

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = v >> (8 * i);
    }
}

/* Guest RAM the rings live in is never a DMA target of the fuzz. */
static bool hits_rings(uint64_t a, uint64_t size)
{
    uint64_t end = a + size;

    return end < a || (a < VIRTIO_ALLOC + VIRTIO_SIZE &&
                       end >= VIRTIO_ALLOC);
}

static uint64_t viommu_dma_addr(GRand *r)
{
    uint64_t a = rnd_addr(r);

    return hits_rings(a, SIM_DMA_MAX_LEN + 1ULL) ? a + 0x40000000ULL : a;
}

static uint32_t viommu_domain(GRand *r)
{
    static const uint32_t doms[] = { 0, 1, 2, 3, 0xffff, 0xffffffff };

    return rnd(r, 4) ? doms[rnd(r, 4)] : rnd(r, 2) ?
           doms[rnd(r, G_N_ELEMENTS(doms))] : g_rand_int(r);
}

static uint32_t viommu_ep(GRand *r)
{
    static const uint32_t eps[] = {
        VFIO_SID, VIOMMU_DEVFN, 0x100 /* rp0's slot */, 0, 0xffffffff,
    };

    return rnd(r, 3) ? VFIO_SID : rnd(r, 2) ? eps[rnd(r, G_N_ELEMENTS(eps))] :
           g_rand_int(r);
}

/* One request of random type, length and fields; any reply is legal. */
static void fuzz_viommu_req(ViommuFuzz *f)
{
    static const unsigned good_len[] = { 20, 20, 20, 36, 28, 20 };
    GRand *r = f->r;
    uint8_t req[96] = { 0 }, reply[600];
    unsigned type = rnd(r, 8) ? 1 + rnd(r, 5) : g_rand_int(r) & 0xff;
    unsigned len, reply_len;
    uint64_t start = rnd_addr(r), end, phys;

    req[0] = type;
    if (!rnd(r, 8)) {
        put_le(req + 1, g_rand_int(r), 3);      /* reserved */
    }
    put_le(req + 4, viommu_domain(r), 4);
    switch (rnd(r, 4)) {
    case 0:
        end = start - 1 - rnd(r, 0x2000);       /* wrap-around */
        break;
    case 1:
        end = rnd(r, 2) ? ~0ULL : rnd_addr(r);
        break;
    default:                                    /* overlaps nearby */
        start = IOVA_SRC + ((uint64_t)rnd(r, 16) << 12) +
                (rnd(r, 4) ? 0 : rnd(r, 0x1000));
        end = start + ((uint64_t)rnd(r, 4) << 12) + 0xfff -
              (rnd(r, 4) ? 0 : rnd(r, 0x1000));
        break;
    }
    phys = rnd(r, 2) ? GPA_SRC + ((uint64_t)rnd(r, 16) << 12) :
           rnd(r, 4) ? rnd_addr(r) : f->d.bar0;  /* peer-to-peer to itself */
    if (!rnd(r, 12)) {
        /* identity over a huge range, all of RAM, or everything */
        start = rnd(r, 2) ? 0 : (uint64_t)rnd(r, 0x10000) << 12;
        end = rnd(r, 2) ? ~0ULL : start + (rnd64(r) >> rnd(r, 64));
        phys = start;
    } else if (hits_rings(phys, end - start + 1)) {
        phys = 0x100000000ULL;
        if (hits_rings(phys, end - start + 1)) {
            end = start + 0xfff;
        }
    }
    switch (type) {
    case T_ATTACH:
    case T_DETACH:
        put_le(req + 8, viommu_ep(r), 4);
        put_le(req + 12, rnd(r, 3) ? 0 : rnd(r, 2) ? 1 : g_rand_int(r), 4);
        break;
    case T_PROBE:
        put_le(req + 8, viommu_ep(r), 4);
        break;
    case T_MAP:
        put_le(req + 8, start, 8);
        put_le(req + 16, end, 8);
        put_le(req + 24, phys, 8);
        put_le(req + 32, rnd(r, 2) ? 3 : rnd(r, 2) ? rnd(r, 8) :
               g_rand_int(r), 4);
        break;
    default:
        put_le(req + 8, start, 8);
        put_le(req + 16, end, 8);
        break;
    }
    len = type < G_N_ELEMENTS(good_len) ? good_len[type] : 20;
    if (!rnd(r, 5)) {
        len = 1 + rnd(r, sizeof(req));
    }
    reply_len = type == T_PROBE && rnd(r, 2) ? 512 + 4 :
                rnd(r, 5) ? 4 : 1 + rnd(r, sizeof(reply));
    g_assert_cmpuint(qvirtio_iommu_request(&f->v, req, len, reply,
                                           reply_len), <=, reply_len);
    f->v.d.alloc_next = f->alloc_mark;
}

static void viommu_start(ViommuFuzz *f);

/*
 * A chain whose buffers are not guest RAM: the request read from, or the
 * reply written to, the device's own registers (notify: the reply kicks
 * the queue being served; device config: it sets bypass; common config:
 * it may reset the device), the assigned device's BAR, or nothing.  The
 * device may return the chain or drop it after a reset; if nothing comes
 * back the driver starts over, as a guest would.
 */
static void fuzz_viommu_mmio_chain(ViommuFuzz *f)
{
    GRand *r = f->r;
    QVirtioDev *vd = &f->v.d;
    const uint64_t mmio[] = {
        vd->notify, vd->device, vd->device + CFG_BYPASS, vd->isr,
        vd->common + rnd(r, 0x38), f->d.bar0, f->d.bar2, MSI_ADDR,
        0x100000000ULL,
    };
    uint8_t req[20] = { T_ATTACH };
    uint64_t ram = qvirtio_alloc(vd, 64, 8);
    QVirtioBuf b[2];

    if (!rnd(r, 4)) {
        /* an event buffer there: the next fault report lands in it */
        b[0] = (QVirtioBuf) { mmio[rnd(r, G_N_ELEMENTS(mmio))],
                              rnd(r, 2) ? 24 : 1 + rnd(r, 32), true };
        qvirtqueue_add_chain(f->v.ev, b, 1);
        qvirtqueue_kick(f->v.ev);
        f->alloc_mark = vd->alloc_next;     /* the device keeps it */
        return;
    }
    put_le(req + 4, viommu_domain(r), 4);
    put_le(req + 8, viommu_ep(r), 4);
    qtest_memwrite(f->s, ram, req, sizeof(req));
    b[0] = (QVirtioBuf) { rnd(r, 2) ? ram : mmio[rnd(r, G_N_ELEMENTS(mmio))],
                          rnd(r, 2) ? 20 : 1 + rnd(r, 64), false };
    b[1] = (QVirtioBuf) { rnd(r, 3) ? mmio[rnd(r, G_N_ELEMENTS(mmio))] :
                          ram + 32, rnd(r, 2) ? 4 : 1 + rnd(r, 16), true };
    qvirtqueue_add_chain(f->v.req, b, 2);
    qvirtqueue_kick(f->v.req);
    if (!qvirtqueue_get_used(f->v.req, NULL, NULL)) {
        qvirtio_iommu_stop(&f->v);
        viommu_start(f);
        return;
    }
    f->v.d.alloc_next = f->alloc_mark;
}

static void viommu_start(ViommuFuzz *f)
{
    qvirtio_iommu_start(&f->v, f->s, VIOMMU_DEVFN, VIRTIO_ALLOC,
                        VIRTIO_SIZE);
    /* event buffers: faults of the random DMA are reported */
    for (int i = 0; i < 8; i++) {
        QVirtioBuf b = { qvirtio_alloc(&f->v.d, 64, 8), 64, true };

        qvirtqueue_add_chain(f->v.ev, &b, 1);
    }
    qvirtqueue_kick(f->v.ev);
    f->alloc_mark = f->v.d.alloc_next;
}

static void viommu_op(ViommuFuzz *f)
{
    GRand *r = f->r;
    unsigned op = rnd(r, 100);

    if (op < 45) {
        fuzz_viommu_req(f);
    } else if (op < 50) {
        fuzz_viommu_mmio_chain(f);
    } else if (op < 56) {
        qvirtio_config_writeb(&f->v.d, CFG_BYPASS, rnd(r, 2) ? rnd(r, 2) :
                              g_rand_int(r));
    } else if (op < 59) {
        unsigned off = rnd(r, 40);

        if (rnd(r, 2)) {
            qvirtio_config_writel(&f->v.d, off & ~3u, g_rand_int(r));
        } else {
            qvirtio_config_readb(&f->v.d, off);
        }
    } else if (op < 92) {
        fuzz_dma(&f->d, r, viommu_dma_addr);
    } else if (op < 96) {
        fuzz_inject(f->s, r);
    } else if (op < 98) {
        fuzz_hotplug(f->s, f->iommufd, &f->plugged);
    } else {
        system_reset(f->s);
        qvirtio_iommu_stop(&f->v);
        viommu_start(f);
        dev_init(&f->d, f->s);
    }
}

/* opaque: the seed; odd seeds use the legacy container. */
static void test_viommu(gconstpointer opaque)
{
    guint32 seed = GPOINTER_TO_UINT(opaque);
    ViommuFuzz f = { .iommufd = !(seed & 1) };
    int64_t hwpts0;
    int fds0;

    f.r = g_rand_new_with_seed(fuzz_seed(seed));
    f.s = qtest_initf("-M q35 -m 256M -device virtio-iommu-pci,addr=03.0 "
                      SIM_ARGS "%s", f.iommufd ? IOMMUFD_DEV : LEGACY_DEV);
    hwpts0 = qtest_qom_get_int(f.s, HOST, "nr-hwpts");
    fds0 = qtest_count_fds(f.s);
    viommu_start(&f);
    dev_init(&f.d, f.s);
    dma_stats_reset();
    for (int b = 0; b < BATCHES; b++) {
        for (int i = 0; i < ops_per_batch(); i++) {
            viommu_op(&f);
        }
        qtest_assert_alive(f.s);
    }
    dma_stats_check();
    if (f.plugged) {
        fuzz_hotplug(f.s, f.iommufd, &f.plugged);
    }

    /* recovered: reset, a driver maps two pages, DMA lands */
    clear_inject(f.s);
    system_reset(f.s);
    g_assert_cmpint(qtest_qom_get_int(f.s, HOST, "nr-hwpts"), ==, hwpts0);
    g_assert_cmpint(qtest_count_fds(f.s), ==, fds0);
    qvirtio_iommu_stop(&f.v);
    viommu_start(&f);
    dev_init(&f.d, f.s);
    simdma_writel(&f.d, SIM_DMA_REG_PASID, 0);
    g_assert_cmpuint(qvirtio_iommu_attach(&f.v, 1, VFIO_SID), ==, 0);
    g_assert_cmphex(simdma_status_result(simdma_copy(&f.d, GPA_SRC, GPA_DST,
                                                     16)), ==,
                    SIMDMA_STATUS_FAULT);
    g_assert_cmpuint(qvirtio_iommu_map(&f.v, 1, IOVA_SRC, IOVA_SRC + 0xfff,
                                       GPA_SRC, 3), ==, 0);
    g_assert_cmpuint(qvirtio_iommu_map(&f.v, 1, IOVA_DST, IOVA_DST + 0xfff,
                                       GPA_DST2, 3), ==, 0);
    g_assert_true(simdma_copy_lands(&f.d, IOVA_SRC, GPA_SRC, IOVA_DST,
                                    GPA_DST2, LEN, 4));
    qvirtio_iommu_stop(&f.v);
    g_rand_free(f.r);
    qtest_quit(f.s);
}

static const VtdCase vtd_cases[] = {
    { "/fuzz-viommu/intel-iommu/nested/iommufd", NESTED, true, 0x4e57 },
    { "/fuzz-viommu/intel-iommu/legacy/iommufd", LEGACY_SL, true, 0x1e6a },
    { "/fuzz-viommu/intel-iommu/legacy/container", LEGACY_SL, false, 0x1e6b },
    { "/fuzz-viommu/intel-iommu/scalable-sl/iommufd", SCALABLE_SL, true,
      0x5c51 },
    { "/fuzz-viommu/intel-iommu/scalable-sl/container", SCALABLE_SL, false,
      0x5c52 },
    { "/fuzz-viommu/intel-iommu/ir/iommufd", IR, true, 0x1a7 },
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (unsigned i = 0; i < G_N_ELEMENTS(vtd_cases); i++) {
        g_test_add_data_func(vtd_cases[i].path, &vtd_cases[i], test_vtd);
    }
    g_test_add_func("/fuzz-viommu/intel-iommu/event-msi-to-own-ectl",
                    test_event_to_own_ectl);
    g_test_add_data_func("/fuzz-viommu/virtio-iommu/iommufd",
                         GUINT_TO_POINTER(0x7106), test_viommu);
    g_test_add_data_func("/fuzz-viommu/virtio-iommu/container",
                         GUINT_TO_POINTER(0x7107), test_viommu);
    return g_test_run();
}
