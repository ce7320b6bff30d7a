/*
 * intel-iommu caching mode, in process: the MAP/UNMAP notifications a
 * VFIO container would receive.  A q35 machine with intel-iommu and edu
 * is built in this process; the test plays the guest (tables written into
 * guest RAM, registers and queue descriptors written through
 * address_space_memory) and an IOMMU notifier on edu's IOMMU region
 * records what it is told.  Each test asserts the exact sequence of
 * events: kind, iova, translated address, mask and permission.
 */
#include <glib.h>
#include <string.h>

#include "hw/boards.h"
#include "hw/i386/apic-msi.h"
#include "hw/i386/intel_iommu_internal.h"
#include "hw/pci/pci_host.h"
#include "iommu-notify-rec.h"
#include "../guest-mem.h"

#define MiB             (1ull << 20)
#define EDU_DEVFN       (3 << 3)
#define EDU_SID         EDU_DEVFN
#define DID             5
#define TOP48           ((1ull << 48) - 1)

/* Guest RAM: tables from TABLES, mapping targets from TARGETS. */
#define TABLES          (16 * MiB)
#define TARGETS         (32 * MiB)

static MachineState *ms;
static IntelIOMMUState *iommu;
static PCIDevice *edu;
static uint64_t alloc_next;
static uint64_t root_table;

/* --- Guest memory and registers ------------------------------------------- */

static uint64_t galloc(void)
{
    static const uint8_t zero[4096];
    uint64_t p = alloc_next;

    alloc_next += 4096;
    g_assert_cmphex(alloc_next, <=, TARGETS);
    address_space_write(&address_space_memory, p, MEMTXATTRS_UNSPECIFIED,
                        zero, sizeof(zero));
    return p;
}

static void reg_wl(unsigned off, uint32_t v)
{
    address_space_stl_le(&address_space_memory, VTD_MMIO_BASE + off, v,
                         MEMTXATTRS_UNSPECIFIED, NULL);
}

static void reg_wq(unsigned off, uint64_t v)
{
    address_space_stq_le(&address_space_memory, VTD_MMIO_BASE + off, v,
                         MEMTXATTRS_UNSPECIFIED, NULL);
}

static uint64_t reg_rq(unsigned off)
{
    return address_space_ldq_le(&address_space_memory, VTD_MMIO_BASE + off,
                                MEMTXATTRS_UNSPECIFIED, NULL);
}

static uint32_t reg_rl(unsigned off)
{
    return address_space_ldl_le(&address_space_memory, VTD_MMIO_BASE + off,
                                MEMTXATTRS_UNSPECIFIED, NULL);
}

/* GCMD protocol: persistent shadow with bit flipped (facts A.2). */
static void gcmd(uint32_t bit, bool on)
{
    uint32_t sts = reg_rl(DMAR_GSTS_REG) &
                   (VTD_GSTS_TES | VTD_GSTS_QIES | VTD_GSTS_IRES);

    reg_wl(DMAR_GCMD_REG, on ? sts | bit : sts & ~bit);
}

/* --- Machine --------------------------------------------------------------- */

static void machine_up(const char *iommu_props)
{
    Object *parent;
    DeviceState *dev;
    g_auto(GStrv) props = g_strsplit(iommu_props, ",", -1);

    ms = machine_create(machine_class_find("q35"), &error_abort);
    ms->ram_size = 128 * MiB;
    g_assert_true(machine_init_board(ms, &error_abort));
    parent = container_get(OBJECT(ms), "peripheral");

    dev = qdev_new(TYPE_INTEL_IOMMU_DEVICE);
    for (char **p = props; *p && **p; p++) {
        g_auto(GStrv) kv = g_strsplit(*p, "=", 2);

        g_assert_true(object_property_parse(OBJECT(dev), kv[0], kv[1],
                                            &error_abort));
    }
    object_property_add_child(parent, "iommu", OBJECT(dev));
    object_unref(dev);
    g_assert_true(qdev_realize(dev, NULL, &error_abort));
    iommu = INTEL_IOMMU_DEVICE(dev);

    dev = qdev_new("edu");
    g_assert_true(object_property_parse(OBJECT(dev), "addr", "03.0",
                                        &error_abort));
    object_property_add_child(parent, "edu", OBJECT(dev));
    object_unref(dev);
    g_assert_true(qdev_realize(dev, &PCI_HOST_BRIDGE(
        object_resolve_path("/machine/q35", NULL))->bus->qbus, &error_abort));
    edu = PCI_DEVICE(dev);
    alloc_next = TABLES;
}

/* Devices before the machine, so that the IOMMU is unrealized while the
 * PCI bus it hooks still exists. */
static void machine_down(void)
{
    qdev_unplug_and_unparent(DEVICE(edu));
    qdev_unplug_and_unparent(DEVICE(iommu));
    machine_destroy();
    apic_msi_clear();
    ms = NULL;
    iommu = NULL;
    edu = NULL;
}

static VTDAddressSpace *edu_vas(void)
{
    VTDAddressSpace *vas = vtd_find_address_space(iommu, EDU_SID);

    g_assert_nonnull(vas);
    return vas;
}

/* --- Guest tables (facts C) -------------------------------------------- */

static uint64_t legacy_root(void)
{
    root_table = galloc();
    reg_wq(DMAR_RTADDR_REG, root_table);
    gcmd(VTD_GCMD_SRTP, true);
    return root_table;
}

static uint64_t legacy_context_addr(uint8_t devfn)
{
    uint64_t re = gld64(root_table);

    if (!(re & 1)) {
        re = galloc() | 1;
        gst64(root_table, re);
    }
    return (re & ~0xfffull) + devfn * 16;
}

static void legacy_context(uint8_t devfn, uint64_t slptptr, uint16_t did)
{
    uint64_t ce = legacy_context_addr(devfn);

    gst64(ce + 8, VTD_AW_48BIT | (uint64_t)did << 8);
    gst64(ce, slptptr | VTD_CONTEXT_LO_P);
}

/* The slot of iova at level in a 4-level table, creating tables above. */
static uint64_t pt_slot(uint64_t root, uint64_t iova, int level)
{
    uint64_t table = root;

    for (int l = 4; l > level; l--) {
        uint64_t ea = table + VTD_LEVEL_INDEX(iova, l) * 8, pte = gld64(ea);

        if (!(pte & VTD_SL_RW_MASK)) {
            pte = galloc() | VTD_SL_R | VTD_SL_W;
            gst64(ea, pte);
        }
        table = pte & VTD_ENTRY_ADDR_MASK;
    }
    return table + VTD_LEVEL_INDEX(iova, level) * 8;
}

static void pt_map(uint64_t root, uint64_t iova, uint64_t gpa, uint64_t len,
                   uint64_t perm)
{
    for (uint64_t off = 0; off < len; off += 4096) {
        gst64(pt_slot(root, iova + off, 1), (gpa + off) | perm);
    }
}

static void pt_map_2m(uint64_t root, uint64_t iova, uint64_t gpa,
                      uint64_t perm)
{
    gst64(pt_slot(root, iova, 2), gpa | perm | VTD_SL_PS);
}

static void pt_unmap(uint64_t root, uint64_t iova)
{
    gst64(pt_slot(root, iova, 1), 0);
}

/* Legacy root, a 4-level table for edu in domain DID, remapping on. */
static uint64_t setup_legacy(void)
{
    uint64_t pt = galloc();

    legacy_root();
    legacy_context(EDU_DEVFN, pt, DID);
    gcmd(VTD_GCMD_TE, true);
    g_assert_true(reg_rl(DMAR_GSTS_REG) & VTD_GSTS_TES);
    return pt;
}

/* --- Invalidation: queue and registers ------------------------------------ */

static uint64_t iq_base;
static unsigned iq_tail, iq_entries;
static bool iq_wide;

static void qi_setup(bool wide)
{
    iq_base = galloc();
    iq_wide = wide;
    iq_entries = wide ? 128 : 256;
    iq_tail = 0;
    reg_wq(DMAR_IQT_REG, 0);
    reg_wq(DMAR_IQA_REG, iq_base | (wide ? VTD_IQA_DW : 0));
    gcmd(VTD_GCMD_QIE, true);
    g_assert_true(reg_rl(DMAR_GSTS_REG) & VTD_GSTS_QIES);
}

static void qi(uint64_t qw0, uint64_t qw1)
{
    unsigned size = iq_wide ? 32 : 16;
    uint64_t slot = iq_base + iq_tail * size;

    gst64(slot, qw0);
    gst64(slot + 8, qw1);
    if (iq_wide) {
        gst64(slot + 16, 0);
        gst64(slot + 24, 0);
    }
    iq_tail = (iq_tail + 1) % iq_entries;
    reg_wq(DMAR_IQT_REG, (uint64_t)iq_tail * size);
    g_assert_cmphex(reg_rq(DMAR_IQH_REG), ==, (uint64_t)iq_tail * size);
    g_assert_cmphex(reg_rl(DMAR_FSTS_REG) & VTD_FSTS_IQE, ==, 0);
}

static void qi_psi(uint16_t did, uint64_t addr, unsigned am)
{
    qi(VTD_QI_TYPE_IOTLB | VTD_TLB_PAGE << 4 | (uint64_t)did << 16,
       addr | am);
}

static void qi_dsi(uint16_t did)
{
    qi(VTD_QI_TYPE_IOTLB | VTD_TLB_DOMAIN << 4 | (uint64_t)did << 16, 0);
}

static void qi_iotlb_global(void)
{
    qi(VTD_QI_TYPE_IOTLB | VTD_TLB_GLOBAL << 4, 0);
}

static void qi_cc(unsigned g, uint16_t did, uint16_t sid, unsigned fm)
{
    qi(VTD_QI_TYPE_CC | g << 4 | (uint64_t)did << 16 | (uint64_t)sid << 32 |
       (uint64_t)fm << 48, 0);
}

static void qi_piotlb(unsigned g, uint16_t did, uint32_t pasid,
                      uint64_t addr, unsigned am)
{
    qi(VTD_QI_TYPE_P_IOTLB | g << 4 | (uint64_t)did << 16 |
       (uint64_t)pasid << 32, addr | am);
}

static void qi_pc(unsigned g, uint16_t did, uint32_t pasid)
{
    qi(VTD_QI_TYPE_PC | g << 4 | (uint64_t)did << 16 | (uint64_t)pasid << 32,
       0);
}

/* Register-based (facts E.7): the high dword acts. */
static void reg_iotlb(unsigned g, uint16_t did, uint64_t iva)
{
    reg_wq(DMAR_IVA_REG, iva);
    reg_wq(DMAR_IOTLB_REG, VTD_TLB_IVT | (uint64_t)g << VTD_TLB_IIRG_SHIFT |
           (uint64_t)did << VTD_TLB_DID_SHIFT);
    g_assert_cmphex(reg_rq(DMAR_IOTLB_REG) >> VTD_TLB_IAIG_SHIFT & 3, ==, g);
}

static void reg_cc(unsigned g, uint16_t did, uint16_t sid, unsigned fm)
{
    reg_wq(DMAR_CCMD_REG, VTD_CCMD_ICC | (uint64_t)g << VTD_CCMD_CIRG_SHIFT |
           (uint64_t)fm << VTD_CCMD_FM_SHIFT |
           (uint64_t)sid << VTD_CCMD_SID_SHIFT | did);
    g_assert_cmphex(reg_rq(DMAR_CCMD_REG) >> VTD_CCMD_CAIG_SHIFT & 3, ==, g);
}

/* --- Recording notifier ---------------------------------------------------- */

static bool rec_try_register(Rec *r, IOMMUNotifierFlag flags, hwaddr start,
                             hwaddr end, Error **errp)
{
    return rec_try_register_on(r, &edu_vas()->iommu, flags, start, end,
                               errp);
}

static void rec_register(Rec *r, IOMMUNotifierFlag flags)
{
    rec_register_on(r, &edu_vas()->iommu, flags);
}

#define U(iova, size)             { 'U', iova, 0, size, IOMMU_NONE }

/* --- Tests ------------------------------------------------------------------- */

/*
 * Replay on register announces the current tables as the largest
 * naturally aligned chunks (iova and output both aligned).
 */
static void test_replay_chunks(void)
{
    uint64_t pt;
    Rec r, r2;

    machine_up("caching-mode=on");
    g_assert_true(reg_rq(DMAR_CAP_REG) & VTD_CAP_CM);
    pt = setup_legacy();
    /* 512 contiguous 4K pages, 2M aligned on both sides: one 2M entry. */
    pt_map(pt, 0x200000, TARGETS, 2 * MiB, VTD_SL_R | VTD_SL_W);
    /* 2M + 4K contiguous: one 2M and one 4K. */
    pt_map(pt, 0x600000, TARGETS + 4 * MiB, 2 * MiB + 4096,
           VTD_SL_R | VTD_SL_W);
    /* A 2M large page, read-only. */
    pt_map_2m(pt, 0x40000000, TARGETS + 8 * MiB, VTD_SL_R);
    /* Three pages from an odd page: 4K, then 8K. */
    pt_map(pt, 0x1000, TARGETS + 12 * MiB + 0x1000, 3 * 4096, VTD_SL_W);
    /* Contiguous IOVA, but output not contiguous: two entries. */
    pt_map(pt, 0x10000, TARGETS + 13 * MiB, 4096, VTD_SL_R | VTD_SL_W);
    pt_map(pt, 0x11000, TARGETS + 14 * MiB, 4096, VTD_SL_R | VTD_SL_W);

    rec_register(&r, IOMMU_NOTIFIER_IOTLB_EVENTS);
    EXPECT(&r,
           M(0x1000, TARGETS + 12 * MiB + 0x1000, 0x1000, IOMMU_WO),
           M(0x2000, TARGETS + 12 * MiB + 0x2000, 0x2000, IOMMU_WO),
           M(0x10000, TARGETS + 13 * MiB, 0x1000, IOMMU_RW),
           M(0x11000, TARGETS + 14 * MiB, 0x1000, IOMMU_RW),
           M(0x200000, TARGETS, 2 * MiB, IOMMU_RW),
           M(0x600000, TARGETS + 4 * MiB, 2 * MiB, IOMMU_RW),
           M(0x800000, TARGETS + 6 * MiB, 0x1000, IOMMU_RW),
           M(0x40000000, TARGETS + 8 * MiB, 2 * MiB, IOMMU_RO));

    /*
     * A second container gets what the first was told (the shadow), not
     * an uninvalidated table change; then both see the difference.
     */
    pt_map(pt, 0x10000, TARGETS + 15 * MiB, 4096, VTD_SL_R | VTD_SL_W);
    rec_register(&r2, IOMMU_NOTIFIER_IOTLB_EVENTS);
    g_assert_cmpuint(r2.ev->len, ==, 8);
    g_assert_cmphex(g_array_index(r2.ev, Ev, 2).addr, ==, TARGETS + 13 * MiB);
    g_array_set_size(r2.ev, 0);
    EXPECT_NONE(&r);
    qi_setup(false);
    qi_psi(DID, 0x10000, 0);
    EXPECT(&r, U(0x10000, 0x1000),
           M(0x10000, TARGETS + 15 * MiB, 0x1000, IOMMU_RW));
    EXPECT(&r2, U(0x10000, 0x1000),
           M(0x10000, TARGETS + 15 * MiB, 0x1000, IOMMU_RW));
    rec_unregister(&r2);
    rec_unregister(&r);
    machine_down();
}

/*
 * Page-selective invalidation announces its range only, once the guest
 * invalidates; another page or another domain changes nothing.
 */
static void test_psi(void)
{
    uint64_t pt, a = TARGETS, b = TARGETS + MiB;
    Rec r;

    machine_up("caching-mode=on");
    pt = setup_legacy();
    qi_setup(false);
    rec_register(&r, IOMMU_NOTIFIER_IOTLB_EVENTS);
    EXPECT_NONE(&r);

    pt_map(pt, 0x5000, a, 4096, VTD_SL_R | VTD_SL_W);
    EXPECT_NONE(&r);                    /* not invalidated yet */
    qi_psi(DID, 0x5000, 0);
    EXPECT(&r, M(0x5000, a, 0x1000, IOMMU_RW));
    qi_psi(DID, 0x5000, 0);             /* nothing changed */
    EXPECT_NONE(&r);

    pt_map(pt, 0x5000, b, 4096, VTD_SL_R);
    qi_psi(DID, 0x6000, 0);             /* another page */
    qi_psi(DID + 1, 0x5000, 0);         /* another domain */
    qi_dsi(DID + 1);
    EXPECT_NONE(&r);
    gcmd(VTD_GCMD_QIE, false);          /* now register-based */
    reg_iotlb(VTD_TLB_PAGE, DID + 1, 0x5000);
    EXPECT_NONE(&r);
    reg_iotlb(VTD_TLB_PAGE, DID, 0x5000);
    EXPECT(&r, U(0x5000, 0x1000), M(0x5000, b, 0x1000, IOMMU_RO));

    pt_unmap(pt, 0x5000);
    reg_iotlb(VTD_TLB_PAGE, DID, 0x4000 | 1);   /* AM 1: 0x4000-0x5fff */
    EXPECT(&r, U(0x5000, 0x1000));
    rec_unregister(&r);
    machine_down();
}

/* An AM range maps as one chunk; a change inside it unmaps the whole
 * chunk (an UNMAP never bisects a mapping) and maps the pieces. */
static void test_psi_am_split(void)
{
    uint64_t pt, a = TARGETS, b = TARGETS + MiB;
    Rec r;

    machine_up("caching-mode=on");
    pt = setup_legacy();
    qi_setup(false);
    rec_register(&r, IOMMU_NOTIFIER_IOTLB_EVENTS);
    pt_map(pt, 0x10000, a, 0x10000, VTD_SL_R | VTD_SL_W);
    qi_psi(DID, 0x10000, 4);
    EXPECT(&r, M(0x10000, a, 0x10000, IOMMU_RW));

    pt_map(pt, 0x11000, b, 4096, VTD_SL_R | VTD_SL_W);
    qi_psi(DID, 0x11000, 0);
    EXPECT(&r, U(0x10000, 0x10000),
           M(0x10000, a, 0x1000, IOMMU_RW),
           M(0x11000, b, 0x1000, IOMMU_RW),
           M(0x12000, a + 0x2000, 0x2000, IOMMU_RW),
           M(0x14000, a + 0x4000, 0x4000, IOMMU_RW),
           M(0x18000, a + 0x8000, 0x8000, IOMMU_RW));
    rec_unregister(&r);
    machine_down();
}

/* A 2M page replaced by a table of 4K pages, one of them elsewhere. */
static void test_large_page_split(void)
{
    uint64_t pt, a = TARGETS, c = TARGETS + 4 * MiB, l1;
    Rec r;

    machine_up("caching-mode=on");
    pt = setup_legacy();
    qi_setup(false);
    rec_register(&r, IOMMU_NOTIFIER_IOTLB_EVENTS);
    pt_map_2m(pt, 0x200000, a, VTD_SL_R | VTD_SL_W);
    qi_psi(DID, 0x200000, 9);
    EXPECT(&r, M(0x200000, a, 2 * MiB, IOMMU_RW));

    l1 = galloc();
    for (unsigned i = 0; i < 512; i++) {
        gst64(l1 + 8 * i, (i == 5 ? c : a + i * 4096) | VTD_SL_R | VTD_SL_W);
    }
    gst64(pt_slot(pt, 0x200000, 2), l1 | VTD_SL_R | VTD_SL_W);
    qi_psi(DID, 0x205000, 0);
    EXPECT(&r, U(0x200000, 2 * MiB),
           M(0x200000, a, 0x4000, IOMMU_RW),
           M(0x204000, a + 0x4000, 0x1000, IOMMU_RW),
           M(0x205000, c, 0x1000, IOMMU_RW),
           M(0x206000, a + 0x6000, 0x2000, IOMMU_RW),
           M(0x208000, a + 0x8000, 0x8000, IOMMU_RW),
           M(0x210000, a + 0x10000, 0x10000, IOMMU_RW),
           M(0x220000, a + 0x20000, 0x20000, IOMMU_RW),
           M(0x240000, a + 0x40000, 0x40000, IOMMU_RW),
           M(0x280000, a + 0x80000, 0x80000, IOMMU_RW),
           M(0x300000, a + 0x100000, 0x100000, IOMMU_RW));
    rec_unregister(&r);
    machine_down();
}

/*
 * Domain-selective and global invalidation re-walk the whole device;
 * pages announced one by one and now contiguous are not re-announced
 * (no UNMAP window for a device doing DMA).
 */
static void test_dsi_global(void)
{
    uint64_t pt, a = TARGETS, b = TARGETS + 4 * MiB;
    Rec r;

    machine_up("caching-mode=on");
    pt = setup_legacy();
    qi_setup(false);
    rec_register(&r, IOMMU_NOTIFIER_IOTLB_EVENTS);
    pt_map(pt, 0x200000, a, 0x4000, VTD_SL_R | VTD_SL_W);
    for (unsigned i = 0; i < 4; i++) {
        qi_psi(DID, 0x200000 + i * 0x1000, 0);
    }
    EXPECT(&r, M(0x200000, a, 0x1000, IOMMU_RW),
           M(0x201000, a + 0x1000, 0x1000, IOMMU_RW),
           M(0x202000, a + 0x2000, 0x1000, IOMMU_RW),
           M(0x203000, a + 0x3000, 0x1000, IOMMU_RW));
    qi_dsi(DID);
    qi_iotlb_global();
    EXPECT_NONE(&r);

    /* Two changes; a PSI picks up one, a DSI of the domain the other. */
    pt_map(pt, 0x201000, b, 4096, VTD_SL_R);
    pt_map(pt, 0x900000, b + 0x10000, 4096, VTD_SL_R | VTD_SL_W);
    qi_dsi(DID + 1);
    EXPECT_NONE(&r);
    qi_psi(DID, 0x201000, 0);
    EXPECT(&r, U(0x201000, 0x1000), M(0x201000, b, 0x1000, IOMMU_RO));
    qi_dsi(DID);
    EXPECT(&r, M(0x900000, b + 0x10000, 0x1000, IOMMU_RW));

    /* Global (register-based) sees an unmap anywhere. */
    pt_unmap(pt, 0x203000);
    gcmd(VTD_GCMD_QIE, false);
    reg_iotlb(VTD_TLB_GLOBAL, 0, 0);
    EXPECT(&r, U(0x203000, 0x1000));
    reg_iotlb(VTD_TLB_DOMAIN, DID, 0);
    EXPECT_NONE(&r);
    rec_unregister(&r);
    machine_down();
}

/*
 * A context entry change is seen once the context cache is invalidated
 * for the device (any granularity that covers it), and not before.
 */
static void test_context_change(void)
{
    uint64_t pt, pt2, a = TARGETS, b = TARGETS + MiB, ce;
    Rec r;

    machine_up("caching-mode=on");
    pt = setup_legacy();
    qi_setup(false);
    rec_register(&r, IOMMU_NOTIFIER_IOTLB_EVENTS);
    pt_map(pt, 0x1000, a, 4096, VTD_SL_R | VTD_SL_W);
    qi_psi(DID, 0x1000, 0);
    EXPECT(&r, M(0x1000, a, 0x1000, IOMMU_RW));

    /* New table: 0x1000 elsewhere, 0x2000 new.  Context still cached. */
    pt2 = galloc();
    pt_map(pt2, 0x1000, b, 4096, VTD_SL_R | VTD_SL_W);
    pt_map(pt2, 0x2000, b + 0x1000, 4096, VTD_SL_R);
    legacy_context(EDU_DEVFN, pt2, DID);
    qi_dsi(DID);                        /* IOTLB only: context cached */
    qi_cc(VTD_CC_DEVICE, DID, EDU_SID + 8, 0);     /* another device */
    qi_cc(VTD_CC_DOMAIN, DID + 1, 0, 0);           /* another domain */
    EXPECT_NONE(&r);
    qi_cc(VTD_CC_DEVICE, DID, EDU_SID | 7, 3);     /* FM 3: function 7 */
    EXPECT(&r, U(0x1000, 0x1000),
           M(0x1000, b, 0x1000, IOMMU_RW),
           M(0x2000, b + 0x1000, 0x1000, IOMMU_RO));

    /* Context not present: everything goes. */
    ce = legacy_context_addr(EDU_DEVFN);
    gst64(ce, 0);
    qi_cc(VTD_CC_GLOBAL, 0, 0, 0);
    EXPECT(&r, U(0x1000, 0x1000), U(0x2000, 0x1000));

    /* Back, in another domain: a domain-selective invalidation of the new
     * domain finds it (the cache had nothing for it). */
    legacy_context(EDU_DEVFN, pt, DID + 2);
    gcmd(VTD_GCMD_QIE, false);
    reg_cc(VTD_CC_DOMAIN, DID + 2, 0, 0);
    EXPECT(&r, M(0x1000, a, 0x1000, IOMMU_RW));
    /* And a domain-selective one of the old domain after moving back. */
    legacy_context(EDU_DEVFN, pt2, DID);
    reg_cc(VTD_CC_DOMAIN, DID, 0, 0);
    EXPECT_NONE(&r);                    /* cached context is DID + 2 */
    reg_cc(VTD_CC_DOMAIN, DID + 2, 0, 0);
    EXPECT(&r, U(0x1000, 0x1000),
           M(0x1000, b, 0x1000, IOMMU_RW),
           M(0x2000, b + 0x1000, 0x1000, IOMMU_RO));
    rec_unregister(&r);
    machine_down();
}

/* TE off/on, a new root (SRTP) and system reset. */
static void test_te_srtp_reset(void)
{
    uint64_t pt, a = TARGETS;
    Rec r;

    machine_up("caching-mode=on");
    pt = setup_legacy();
    pt_map(pt, 0x1000, a, 4096, VTD_SL_R | VTD_SL_W);
    pt_map_2m(pt, 0x200000, a + 2 * MiB, VTD_SL_R);
    rec_register(&r, IOMMU_NOTIFIER_IOTLB_EVENTS);
    EXPECT(&r, M(0x1000, a, 0x1000, IOMMU_RW),
           M(0x200000, a + 2 * MiB, 2 * MiB, IOMMU_RO));

    gcmd(VTD_GCMD_TE, false);
    EXPECT(&r, U(0x1000, 0x1000), U(0x200000, 2 * MiB));
    gcmd(VTD_GCMD_TE, true);
    EXPECT(&r, M(0x1000, a, 0x1000, IOMMU_RW),
           M(0x200000, a + 2 * MiB, 2 * MiB, IOMMU_RO));

    legacy_root();                      /* empty: no context */
    EXPECT(&r, U(0x1000, 0x1000), U(0x200000, 2 * MiB));

    machine_reset(ms);
    EXPECT(&r, U(0, TOP48 + 1));
    rec_unregister(&r);
    machine_down();
}

/*
 * Without caching mode a MAP notifier is refused (QEMU's message);
 * UNMAP-only notifiers (device-IOTLB style) get invalidated ranges.
 */
static void test_cm_off(void)
{
    Error *err = NULL;
    uint64_t pt;
    Rec r;

    machine_up("caching-mode=off");
    g_assert_false(reg_rq(DMAR_CAP_REG) & VTD_CAP_CM);
    pt = setup_legacy();
    g_assert_false(rec_try_register(&r, IOMMU_NOTIFIER_IOTLB_EVENTS, 0,
                                    UINT64_MAX, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(error_get_pretty(err), "requires caching mode"));
    error_free(err);

    rec_register(&r, IOMMU_NOTIFIER_UNMAP);
    qi_setup(false);
    pt_map(pt, 0x7000, TARGETS, 4096, VTD_SL_R);
    qi_psi(DID, 0x6000, 1);
    EXPECT(&r, U(0x6000, 0x2000));
    qi_dsi(DID + 1);                    /* not edu's domain */
    EXPECT_NONE(&r);
    qi_dsi(DID);
    EXPECT(&r, U(0, TOP48 + 1));
    rec_unregister(&r);
    machine_down();
}

/* A notifier covering part of the space sees the events that touch it. */
static void test_notifier_range(void)
{
    uint64_t pt;
    Rec r;

    machine_up("caching-mode=on");
    pt = setup_legacy();
    pt_map(pt, 0x1000, TARGETS, 4096, VTD_SL_R | VTD_SL_W);
    pt_map(pt, 0x400000, TARGETS + MiB, 4096, VTD_SL_R | VTD_SL_W);
    g_assert_true(rec_try_register(&r, IOMMU_NOTIFIER_IOTLB_EVENTS,
                                   0x200000, 0x5fffff, &error_abort));
    memory_region_iommu_replay(&edu_vas()->iommu, &r.n);
    EXPECT(&r, M(0x400000, TARGETS + MiB, 0x1000, IOMMU_RW));
    qi_setup(false);
    pt_unmap(pt, 0x1000);
    pt_unmap(pt, 0x400000);
    qi_iotlb_global();
    EXPECT(&r, U(0x400000, 0x1000));
    rec_unregister(&r);
    machine_down();
}

/*
 * Scalable mode, second stage behind RID_PASID: a PASID-based
 * page-selective invalidation does not touch second-stage entries, a
 * PASID-wide one does; a PASID-cache invalidation picks up a new PASID
 * entry.
 */
static void test_scalable(void)
{
    uint64_t pt, pt2, dir, ptab, a = TARGETS, b = TARGETS + MiB;
    uint64_t root, ctx;
    Rec r;

    machine_up("caching-mode=on,x-scalable-mode=on");
    root = galloc();
    ctx = galloc();
    dir = galloc();
    ptab = galloc();
    pt = galloc();
    pt2 = galloc();
    gst64(root, ctx | VTD_SM_ROOT_LO_LP);
    gst64(ctx + EDU_DEVFN * 32 + 8, 0);                  /* RID_PASID 0 */
    gst64(ctx + EDU_DEVFN * 32, dir | VTD_SM_CONTEXT_0_P);
    gst64(dir, ptab | VTD_PASID_DIR_P);
    gst64(ptab + 8, DID);
    gst64(ptab, pt | VTD_PE0_P | (uint64_t)VTD_AW_48BIT << VTD_PE0_AW_SHIFT |
       (uint64_t)VTD_PGTT_SECOND << VTD_PE0_PGTT_SHIFT);
    reg_wq(DMAR_RTADDR_REG, root | (uint64_t)VTD_TTM_SCALABLE <<
           VTD_RTADDR_TTM_SHIFT);
    gcmd(VTD_GCMD_SRTP, true);
    gcmd(VTD_GCMD_TE, true);
    qi_setup(true);
    rec_register(&r, IOMMU_NOTIFIER_IOTLB_EVENTS);

    pt_map(pt, 0x3000, a, 4096, VTD_SL_R | VTD_SL_W);
    qi_psi(DID, 0x3000, 0);
    EXPECT(&r, M(0x3000, a, 0x1000, IOMMU_RW));
    pt_map(pt, 0x3000, b, 4096, VTD_SL_R | VTD_SL_W);
    qi_piotlb(VTD_QI_PIOTLB_G_PAGE, DID, 0, 0x3000, 0); /* first stage only */
    qi_piotlb(VTD_QI_PIOTLB_G_PASID, DID, 1, 0, 0);      /* other PASID */
    EXPECT_NONE(&r);
    qi_piotlb(VTD_QI_PIOTLB_G_PASID, DID, 0, 0, 0);
    EXPECT(&r, U(0x3000, 0x1000), M(0x3000, b, 0x1000, IOMMU_RW));

    /* The PASID entry now points at another table. */
    pt_map(pt2, 0x8000, a, 4096, VTD_SL_R);
    gst64(ptab, pt2 | VTD_PE0_P | (uint64_t)VTD_AW_48BIT << VTD_PE0_AW_SHIFT |
       (uint64_t)VTD_PGTT_SECOND << VTD_PE0_PGTT_SHIFT);
    qi_iotlb_global();                  /* PASID entry still cached */
    qi_pc(VTD_QI_PC_G_PASID, DID, 1);
    qi_pc(VTD_QI_PC_G_DOMAIN, DID + 1, 0);
    EXPECT_NONE(&r);
    qi_pc(VTD_QI_PC_G_PASID, DID, 0);
    EXPECT(&r, U(0x3000, 0x1000), M(0x8000, a, 0x1000, IOMMU_RO));

    /* Pass-through: nothing to shadow. */
    gst64(ptab, VTD_PE0_P | (uint64_t)VTD_PGTT_PT << VTD_PE0_PGTT_SHIFT);
    qi_pc(VTD_QI_PC_G_GLOBAL, 0, 0);
    EXPECT(&r, U(0x8000, 0x1000));
    rec_unregister(&r);
    machine_down();
}

/* Device-TLB invalidation reaches DEVIOTLB_UNMAP notifiers (ATS size
 * encoding: S=1, ADDR 0x...7000 -> 2^4 pages). */
static void test_deviotlb(void)
{
    Rec r;

    machine_up("caching-mode=on,device-iotlb=on");
    setup_legacy();
    qi_setup(false);
    rec_register(&r, IOMMU_NOTIFIER_DEVIOTLB_UNMAP);
    qi(VTD_QI_TYPE_DEVTLB | (uint64_t)EDU_SID << 32, 0x5000);
    EXPECT(&r, U(0x5000, 0x1000));
    qi(VTD_QI_TYPE_DEVTLB | (uint64_t)EDU_SID << 32,
       0x40007000 | VTD_QI_DEVTLB_S);
    EXPECT(&r, U(0x40000000, 0x10000));
    rec_unregister(&r);
    machine_down();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vtd-notify/replay/largest-chunks", test_replay_chunks);
    g_test_add_func("/vtd-notify/psi/range-only", test_psi);
    g_test_add_func("/vtd-notify/psi/am-range-split", test_psi_am_split);
    g_test_add_func("/vtd-notify/psi/large-page-split",
                    test_large_page_split);
    g_test_add_func("/vtd-notify/dsi-global/rewalk-no-churn",
                    test_dsi_global);
    g_test_add_func("/vtd-notify/context-change", test_context_change);
    g_test_add_func("/vtd-notify/te-srtp-reset", test_te_srtp_reset);
    g_test_add_func("/vtd-notify/cm-off/map-refused-unmap-ok", test_cm_off);
    g_test_add_func("/vtd-notify/notifier-range", test_notifier_range);
    g_test_add_func("/vtd-notify/scalable/pasid-and-pc", test_scalable);
    g_test_add_func("/vtd-notify/device-iotlb", test_deviotlb);
    return g_test_run();
}
