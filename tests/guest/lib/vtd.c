/*
 * Guest VT-d driver: see vtd.h.  Section letters refer to
 * vtd_virtio_iommu_facts.md; numbers to the VT-d specification 3.x.
 */
#include "vtd.h"

#define VTD_POLL_MS 1000

/* DMAR remapping structure: type 0 = DRHD, base at offset 8 (facts I.1). */
#define DMAR_STRUCT_OFFSET 48
#define DMAR_TYPE_DRHD 0

/* Invalidation descriptor types and fields (facts E.2, E.3). */
#define QI_CC 1
#define QI_IOTLB 2
#define QI_IEC 4
#define QI_WAIT 5
#define QI_PIOTLB 6
#define QI_PC 7
#define QI_G(g) ((uint64_t)(g) << 4)
#define QI_DID(d) ((uint64_t)(d) << 16)
#define QI_SID(s) ((uint64_t)(s) << 32)
#define QI_PASID(p) ((uint64_t)((p) & 0xfffff) << 32)
#define QI_IOTLB_DW BIT(6)
#define QI_IOTLB_DR BIT(7)
#define QI_WAIT_IF BIT(4)
#define QI_WAIT_SW BIT(5)
#define QI_WAIT_FN BIT(6)
#define IQA_DW BIT(11)

/* Register-based invalidation (facts E.7). */
#define CCMD_ICC BIT(63)
#define CCMD_CIRG(g) ((uint64_t)(g) << 61)
#define IOTLB_IVT BIT(63)
#define IOTLB_IIRG(g) ((uint64_t)(g) << 60)
#define IOTLB_DR BIT(49)
#define IOTLB_DW BIT(48)
#define IOTLB_DID(d) ((uint64_t)(d) << 32)
#define CAP_DWD BIT(54)
#define CAP_DRD BIT(55)

#define RTADDR_TTM_SCALABLE (1ULL << 10)
#define IRTA_EIME BIT(11)

/* ---- registers ----------------------------------------------------------- */

uint32_t vtd_read32(struct vtd *v, unsigned int off)
{
    return readl(v->base + off);
}

uint64_t vtd_read64(struct vtd *v, unsigned int off)
{
    return readq(v->base + off);
}

void vtd_write32(struct vtd *v, unsigned int off, uint32_t val)
{
    writel(v->base + off, val);
}

void vtd_write64(struct vtd *v, unsigned int off, uint64_t val)
{
    writeq(v->base + off, val);
}

static uint64_t dmar_drhd_base(void)
{
    const struct acpi_header *t = acpi_find_table("DMAR");
    uint64_t p, end;

    if (!t) {
        return 0;
    }
    p = (uint64_t)t + DMAR_STRUCT_OFFSET;
    end = (uint64_t)t + t->length;
    while (p + 4 <= end) {
        uint16_t type = *(const uint16_t *)p;
        uint16_t len = *(const uint16_t *)(p + 2);

        if (len < 4 || p + len > end) {
            break;
        }
        if (type == DMAR_TYPE_DRHD && len >= 16) {
            return *(const uint64_t *)(p + 8);
        }
        p += len;
    }
    return 0;
}

void vtd_init(struct vtd *v)
{
    uint32_t ver;

    memset(v, 0, sizeof(*v));
    v->base = dmar_drhd_base();
    if (!v->base) {
        printf("vtd: no DMAR DRHD, trying 0x%llx\n",
               (unsigned long long)VTD_DEFAULT_BASE);
        v->base = VTD_DEFAULT_BASE;
    }
    ver = vtd_read32(v, VTD_REG_VER);
    if (ver == 0 || ver == 0xffffffffu) {
        guest_fail("vtd: no remapping unit at 0x%llx (VER 0x%x)",
                   (unsigned long long)v->base, ver);
    }
    v->cap = vtd_read64(v, VTD_REG_CAP);
    v->ecap = vtd_read64(v, VTD_REG_ECAP);
    v->frcd = VTD_CAP_FRO(v->cap) * 16;
    v->nfr = VTD_CAP_NFR(v->cap) + 1;
    v->iotlb_reg = VTD_ECAP_IRO(v->ecap) * 16 + 8;
    printf("vtd: unit at 0x%llx VER 0x%x CAP 0x%llx ECAP 0x%llx\n",
           (unsigned long long)v->base, ver, (unsigned long long)v->cap,
           (unsigned long long)v->ecap);
}

static void wait_gsts(struct vtd *v, uint32_t bit, bool on, const char *what)
{
    uint32_t gsts;

    if (!poll_mmio32(v->base + VTD_REG_GSTS, bit, on ? bit : 0, VTD_POLL_MS,
                     &gsts)) {
        guest_fail("vtd: %s: GSTS 0x%x did not follow GCMD", what, gsts);
    }
}

void vtd_gcmd_set(struct vtd *v, uint32_t bit, bool on)
{
    if (on) {
        v->gcmd |= bit;
    } else {
        v->gcmd &= ~bit;
    }
    vtd_write32(v, VTD_REG_GCMD, v->gcmd);
    wait_gsts(v, bit, on, on ? "enable" : "disable");
}

void vtd_gcmd_oneshot(struct vtd *v, uint32_t bit)
{
    vtd_write32(v, VTD_REG_GCMD, v->gcmd | bit);
    wait_gsts(v, bit, true, "one-shot command");
}

/* ---- root tables --------------------------------------------------------- */

void vtd_set_root_table(struct vtd *v, bool scalable)
{
    if (scalable && !(v->ecap & VTD_ECAP_SMTS)) {
        guest_fail("vtd: scalable mode requested but ECAP.SMTS is 0");
    }
    v->scalable = scalable;
    v->root = page_alloc();
    vtd_write64(v, VTD_REG_RTADDR, virt_to_phys(v->root) |
                (scalable ? RTADDR_TTM_SCALABLE : 0));
    vtd_gcmd_oneshot(v, VTD_GCMD_SRTP);
}

void vtd_enable_translation(struct vtd *v)
{
    vtd_gcmd_set(v, VTD_GCMD_TE, true);
}

void vtd_disable_translation(struct vtd *v)
{
    vtd_gcmd_set(v, VTD_GCMD_TE, false);
}

/* ---- page tables (facts C.3, D.3) --------------------------------------- */

void vtd_pgtable_init(struct vtd_pgtable *pt, unsigned int levels,
                      bool first_stage)
{
    if (levels < 3 || levels > 4 || (first_stage && levels != 4)) {
        guest_fail("vtd: unsupported page table (%u levels%s)", levels,
                   first_stage ? ", first stage" : "");
    }
    pt->root = page_alloc();
    pt->levels = levels;
    pt->first_stage = first_stage;
}

static uint64_t table_bits(const struct vtd_pgtable *pt)
{
    return pt->first_stage ? VTD_FL_P | VTD_FL_RW | VTD_FL_US
                           : VTD_SL_R | VTD_SL_W;
}

/* The leaf slot for @iova, allocating intermediate tables on the way. */
static uint64_t *leaf_slot(struct vtd_pgtable *pt, uint64_t iova, bool alloc)
{
    uint64_t *table = pt->root;

    for (unsigned int level = pt->levels; level > 1; level--) {
        unsigned int idx = (iova >> (12 + 9 * (level - 1))) & 0x1ff;
        uint64_t e = table[idx];

        if (!(e & table_bits(pt) & 3)) {
            uint64_t *next;

            if (!alloc) {
                return NULL;
            }
            next = page_alloc();
            e = virt_to_phys(next) | table_bits(pt);
            table[idx] = e;
        }
        table = phys_to_virt(e & 0x000ffffffffff000ULL);
    }
    return &table[(iova >> 12) & 0x1ff];
}

void vtd_map(struct vtd_pgtable *pt, uint64_t iova, uint64_t pa,
             uint64_t size, bool write)
{
    uint64_t bits;

    if (pt->first_stage) {
        bits = VTD_FL_P | VTD_FL_US | (write ? VTD_FL_RW : 0);
    } else {
        bits = VTD_SL_R | (write ? VTD_SL_W : 0);
    }
    for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
        *leaf_slot(pt, iova + off, true) = ((pa + off) & ~0xfffULL) | bits;
    }
    mb();
}

void vtd_unmap(struct vtd_pgtable *pt, uint64_t iova, uint64_t size)
{
    for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
        uint64_t *slot = leaf_slot(pt, iova + off, false);

        if (slot) {
            *slot = 0;
        }
    }
    mb();
}

/* ---- legacy mode (facts C.1) -------------------------------------------- */

static uint64_t *context_table(struct vtd *v, unsigned int bus, bool upper)
{
    uint64_t *re;

    if (!v->root) {
        guest_fail("vtd: no root table (call vtd_set_root_table)");
    }
    re = &v->root[bus * 2 + (upper ? 1 : 0)];
    if (!(*re & 1)) {
        *re = virt_to_phys(page_alloc()) | 1;
    }
    return phys_to_virt(*re & ~0xfffULL);
}

void vtd_legacy_attach(struct vtd *v, uint16_t bdf, struct vtd_pgtable *pt,
                       uint16_t did)
{
    uint64_t *ce = context_table(v, PCI_BUS(bdf), false) + 2 * (bdf & 0xff);

    if (pt->first_stage) {
        guest_fail("vtd: legacy mode has no first stage");
    }
    ce[1] = (pt->levels - 2) | ((uint64_t)did << 8);
    barrier();
    ce[0] = virt_to_phys(pt->root) | 1;     /* P, TT=00 */
    mb();
}

void vtd_legacy_detach(struct vtd *v, uint16_t bdf)
{
    uint64_t *ce = context_table(v, PCI_BUS(bdf), false) + 2 * (bdf & 0xff);

    ce[0] = 0;
    ce[1] = 0;
    mb();
}

/* ---- scalable mode (facts D) -------------------------------------------- */

#define SM_CTX_P BIT(0)
#define SM_CTX_PASIDE BIT(3)
#define PASID_TABLE_ENTRIES 64

/* The 32-byte scalable context entry of @bdf. */
static uint64_t *sm_context(struct vtd *v, uint16_t bdf)
{
    uint8_t devfn = bdf & 0xff;

    return context_table(v, PCI_BUS(bdf), devfn >= 0x80) +
           4 * (devfn & 0x7f);
}

void vtd_sm_attach(struct vtd *v, uint16_t bdf, uint32_t rid_pasid)
{
    uint64_t *ce = sm_context(v, bdf);

    if (!(ce[0] & SM_CTX_P)) {
        uint64_t *dir = page_alloc();    /* PDTS 0: 128 entries */

        ce[1] = rid_pasid & 0xfffff;
        ce[2] = 0;
        ce[3] = 0;
        barrier();
        ce[0] = virt_to_phys(dir) | SM_CTX_PASIDE | SM_CTX_P;
    } else {
        ce[1] = rid_pasid & 0xfffff;
    }
    mb();
}

/* The 64-byte PASID entry (8 qwords), allocating its PASID table. */
static uint64_t *pasid_entry(struct vtd *v, uint16_t bdf, uint32_t pasid)
{
    uint64_t *ce = sm_context(v, bdf);
    uint64_t *dir, *de;

    if (!(ce[0] & SM_CTX_P)) {
        guest_fail("vtd: %02x:%02x.%x has no scalable context entry",
                   PCI_BUS(bdf), PCI_SLOT(bdf), PCI_FUNC(bdf));
    }
    if ((pasid >> 6) >= 128) {
        guest_fail("vtd: PASID 0x%x beyond the directory", pasid);
    }
    dir = phys_to_virt(ce[0] & ~0xfffULL);
    de = &dir[pasid >> 6];
    if (!(*de & 1)) {
        *de = virt_to_phys(page_alloc()) | 1;
    }
    return (uint64_t *)phys_to_virt(*de & ~0xfffULL) +
           8 * (pasid % PASID_TABLE_ENTRIES);
}

void vtd_sm_set_pasid(struct vtd *v, uint16_t bdf, uint32_t pasid,
                      struct vtd_pgtable *pt, uint16_t did)
{
    uint64_t *pe = pasid_entry(v, bdf, pasid);
    uint64_t aw = pt->first_stage ? 2 : pt->levels - 2;
    uint64_t qw0;

    for (int i = 1; i < 8; i++) {
        pe[i] = 0;
    }
    pe[1] = did;
    if (pt->first_stage) {
        pe[2] = virt_to_phys(pt->root);  /* FLPTPTR, FLPM 00, SRE 0 */
        qw0 = (uint64_t)VTD_PGTT_FIRST << 6;
    } else {
        qw0 = virt_to_phys(pt->root) | (uint64_t)VTD_PGTT_SECOND << 6;
    }
    barrier();
    pe[0] = qw0 | (aw << 2) | 1;
    mb();
}

void vtd_sm_clear_pasid(struct vtd *v, uint16_t bdf, uint32_t pasid)
{
    uint64_t *pe = pasid_entry(v, bdf, pasid);

    pe[0] = 0;
    mb();
}

/* ---- invalidation (facts E) --------------------------------------------- */

void vtd_qi_enable(struct vtd *v)
{
    if (!(v->ecap & VTD_ECAP_QI)) {
        guest_fail("vtd: ECAP.QI is 0");
    }
    v->iq = page_alloc();
    v->iq_wide = (v->ecap & VTD_ECAP_SMTS) != 0;
    v->iq_entries = v->iq_wide ? 128 : 256;
    v->iq_tail = 0;
    v->wait_status = page_alloc();
    vtd_write64(v, VTD_REG_IQT, 0);
    vtd_write64(v, VTD_REG_IQA, virt_to_phys(v->iq) |
                (v->iq_wide ? IQA_DW : 0));    /* QS 0: one page */
    vtd_gcmd_set(v, VTD_GCMD_QIE, true);
}

static void qi_put(struct vtd *v, uint64_t qw0, uint64_t qw1)
{
    unsigned int words = v->iq_wide ? 4 : 2;
    uint64_t *slot = v->iq + (uint64_t)v->iq_tail * words;

    slot[0] = qw0;
    slot[1] = qw1;
    if (v->iq_wide) {
        slot[2] = 0;
        slot[3] = 0;
    }
    v->iq_tail = (v->iq_tail + 1) % v->iq_entries;
}

void vtd_qi_queue(struct vtd *v, uint64_t qw0, uint64_t qw1)
{
    if (!v->iq) {
        guest_fail("vtd: queued invalidation is not enabled");
    }
    qi_put(v, qw0, qw1);
}

static void qi_doorbell(struct vtd *v)
{
    mb();
    vtd_write64(v, VTD_REG_IQT,
                (uint64_t)v->iq_tail << (v->iq_wide ? 5 : 4));
}

void vtd_qi_sync(struct vtd *v)
{
    uint32_t seq = ++v->wait_seq;
    uint64_t deadline = timeout_start(VTD_POLL_MS);

    vtd_qi_queue(v, QI_WAIT | QI_WAIT_SW | QI_WAIT_FN | ((uint64_t)seq << 32),
                 virt_to_phys((const void *)v->wait_status));
    qi_doorbell(v);
    while (*v->wait_status != seq) {
        uint32_t fsts = vtd_fsts(v);

        if (fsts & (VTD_FSTS_IQE | VTD_FSTS_ITE | VTD_FSTS_ICE)) {
            guest_fail("vtd: invalidation queue error: FSTS 0x%x IQERCD "
                       "0x%llx IQH 0x%llx IQT 0x%llx", fsts,
                       (unsigned long long)vtd_read64(v, VTD_REG_IQERCD),
                       (unsigned long long)vtd_read64(v, VTD_REG_IQH),
                       (unsigned long long)vtd_read64(v, VTD_REG_IQT));
        }
        if (timeout_expired(deadline)) {
            guest_fail("vtd: wait descriptor %u never completed (IQH 0x%llx "
                       "IQT 0x%llx)", seq,
                       (unsigned long long)vtd_read64(v, VTD_REG_IQH),
                       (unsigned long long)vtd_read64(v, VTD_REG_IQT));
        }
        cpu_relax();
    }
}

void vtd_qi_wait_irq(struct vtd *v)
{
    vtd_qi_queue(v, QI_WAIT | QI_WAIT_IF, 0);
    qi_doorbell(v);
}

void vtd_qi_completion_irq(struct vtd *v, uint64_t addr, uint32_t data)
{
    vtd_write32(v, VTD_REG_IEDATA, data);
    vtd_write32(v, VTD_REG_IEADDR, (uint32_t)addr);
    vtd_write32(v, VTD_REG_ICS, VTD_ICS_IWC);
    vtd_write32(v, VTD_REG_IECTL, 0);
}

/* Register-based context/IOTLB invalidation when QI is off (facts E.7). */
static void reg_ccmd(struct vtd *v, uint64_t cmd)
{
    uint64_t deadline = timeout_start(VTD_POLL_MS);

    vtd_write64(v, VTD_REG_CCMD, cmd | CCMD_ICC);
    while (vtd_read64(v, VTD_REG_CCMD) & CCMD_ICC) {
        if (timeout_expired(deadline)) {
            guest_fail("vtd: CCMD.ICC stuck");
        }
        cpu_relax();
    }
}

static void reg_iotlb(struct vtd *v, uint64_t cmd)
{
    uint64_t deadline = timeout_start(VTD_POLL_MS);

    cmd |= (v->cap & CAP_DRD ? IOTLB_DR : 0) |
           (v->cap & CAP_DWD ? IOTLB_DW : 0);
    vtd_write64(v, v->iotlb_reg, cmd | IOTLB_IVT);
    while (vtd_read64(v, v->iotlb_reg) & IOTLB_IVT) {
        if (timeout_expired(deadline)) {
            guest_fail("vtd: IOTLB.IVT stuck");
        }
        cpu_relax();
    }
}

static uint64_t qi_iotlb_drain(struct vtd *v)
{
    return (v->cap & CAP_DRD ? QI_IOTLB_DR : 0) |
           (v->cap & CAP_DWD ? QI_IOTLB_DW : 0);
}

void vtd_inv_context_global(struct vtd *v)
{
    if (!v->iq) {
        reg_ccmd(v, CCMD_CIRG(1));
        return;
    }
    vtd_qi_queue(v, QI_CC | QI_G(1), 0);
    vtd_qi_sync(v);
}

void vtd_inv_context_device(struct vtd *v, uint16_t did, uint16_t sid)
{
    if (!v->iq) {
        reg_ccmd(v, CCMD_CIRG(3) | ((uint64_t)sid << 16) | did);
        return;
    }
    vtd_qi_queue(v, QI_CC | QI_G(3) | QI_DID(did) | QI_SID(sid), 0);
    vtd_qi_sync(v);
}

void vtd_inv_iotlb_global(struct vtd *v)
{
    if (!v->iq) {
        reg_iotlb(v, IOTLB_IIRG(1));
        return;
    }
    vtd_qi_queue(v, QI_IOTLB | QI_G(1) | qi_iotlb_drain(v), 0);
    vtd_qi_sync(v);
}

void vtd_inv_iotlb_domain(struct vtd *v, uint16_t did)
{
    if (!v->iq) {
        reg_iotlb(v, IOTLB_IIRG(2) | IOTLB_DID(did));
        return;
    }
    vtd_qi_queue(v, QI_IOTLB | QI_G(2) | QI_DID(did) | qi_iotlb_drain(v), 0);
    vtd_qi_sync(v);
}

void vtd_inv_iotlb_page(struct vtd *v, uint16_t did, uint64_t addr,
                        unsigned int am)
{
    uint64_t va = (addr & ~0xfffULL) | (am & 0x3f);

    if (!v->iq) {
        vtd_write64(v, v->iotlb_reg - 8, va);
        reg_iotlb(v, IOTLB_IIRG(3) | IOTLB_DID(did));
        return;
    }
    vtd_qi_queue(v, QI_IOTLB | QI_G(3) | QI_DID(did) | qi_iotlb_drain(v), va);
    vtd_qi_sync(v);
}

void vtd_inv_pasid_cache(struct vtd *v, uint16_t did, uint32_t pasid)
{
    vtd_qi_queue(v, QI_PC | QI_G(1) | QI_DID(did) | QI_PASID(pasid), 0);
    vtd_qi_sync(v);
}

void vtd_inv_piotlb(struct vtd *v, uint16_t did, uint32_t pasid)
{
    vtd_qi_queue(v, QI_PIOTLB | QI_G(2) | QI_DID(did) | QI_PASID(pasid), 0);
    vtd_qi_sync(v);
}

void vtd_inv_iec_global(struct vtd *v)
{
    vtd_qi_queue(v, QI_IEC, 0);
    vtd_qi_sync(v);
}

void vtd_inv_iec_index(struct vtd *v, uint16_t index, unsigned int im)
{
    vtd_qi_queue(v, QI_IEC | QI_G(1) | ((uint64_t)(im & 0x1f) << 27) |
                 ((uint64_t)index << 32), 0);
    vtd_qi_sync(v);
}

/* ---- faults (facts F) --------------------------------------------------- */

uint32_t vtd_fsts(struct vtd *v)
{
    return vtd_read32(v, VTD_REG_FSTS);
}

bool vtd_fault_read(struct vtd *v, unsigned int i, struct vtd_fault *f)
{
    uint64_t lo, hi;

    if (i >= v->nfr) {
        return false;
    }
    lo = vtd_read64(v, v->frcd + 16 * i);
    hi = vtd_read64(v, v->frcd + 16 * i + 8);
    if (!(hi & BIT(63))) {
        return false;
    }
    f->addr = lo & ~0xfffULL;
    f->sid = (uint16_t)hi;
    f->pasid_present = (hi >> 31) & 1;
    f->reason = (uint8_t)(hi >> 32);
    f->pasid = (hi >> 40) & 0xfffff;
    f->read = (hi >> 62) & 1;
    return true;
}

bool vtd_fault_pop(struct vtd *v, struct vtd_fault *f)
{
    uint32_t fsts = vtd_fsts(v);
    unsigned int i;

    if (!(fsts & VTD_FSTS_PPF)) {
        return false;
    }
    i = VTD_FSTS_FRI(fsts) % v->nfr;
    for (unsigned int n = 0; n < v->nfr; n++, i = (i + 1) % v->nfr) {
        if (vtd_fault_read(v, i, f)) {
            vtd_write32(v, v->frcd + 16 * i + 12, 0x80000000u);  /* F */
            vtd_write32(v, VTD_REG_FSTS, VTD_FSTS_PFO);
            return true;
        }
    }
    return false;
}

void vtd_expect_dma_fault(struct vtd *v, uint16_t sid, uint64_t addr,
                          uint8_t reason, bool read)
{
    struct vtd_fault f;

    if (!vtd_fault_pop(v, &f)) {
        guest_fail("vtd: no fault recorded for IOVA 0x%llx (FSTS 0x%x)",
                   (unsigned long long)addr, vtd_fsts(v));
    }
    printf("  fault record: reason 0x%x, %s, addr 0x%llx, SID %02x:%02x.%x\n",
           f.reason, f.read ? "read" : "write", (unsigned long long)f.addr,
           PCI_BUS(f.sid), PCI_SLOT(f.sid), PCI_FUNC(f.sid));
    if (f.reason != reason || f.sid != sid ||
        f.addr != (addr & ~0xfffULL) || f.read != read) {
        guest_fail("vtd: expected fault reason 0x%x %s at 0x%llx from SID "
                   "0x%04x", reason, read ? "read" : "write",
                   (unsigned long long)addr, sid);
    }
}

void vtd_fault_clear_all(struct vtd *v)
{
    for (unsigned int i = 0; i < v->nfr; i++) {
        vtd_write32(v, v->frcd + 16 * i + 12, 0x80000000u);
    }
    vtd_write32(v, VTD_REG_FSTS, VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE |
                VTD_FSTS_ITE);
}

void vtd_fault_irq(struct vtd *v, uint64_t addr, uint32_t data)
{
    vtd_write32(v, VTD_REG_FEDATA, data);
    vtd_write32(v, VTD_REG_FEADDR, (uint32_t)addr);
    vtd_write32(v, VTD_REG_FECTL, 0);
}

/* ---- interrupt remapping (facts G) -------------------------------------- */

void vtd_ir_enable(struct vtd *v, unsigned int s, bool x2apic,
                   bool allow_compat)
{
    unsigned int pages;

    if (!(v->ecap & VTD_ECAP_IR)) {
        guest_fail("vtd: ECAP.IR is 0");
    }
    if (s > 15 || (x2apic && !(v->ecap & VTD_ECAP_EIM))) {
        guest_fail("vtd: bad IR table size %u or no EIM", s);
    }
    v->irt_entries = 1u << (s + 1);
    pages = (v->irt_entries * 16 + PAGE_SIZE - 1) / PAGE_SIZE;
    v->irt = pages_alloc(pages);
    vtd_write64(v, VTD_REG_IRTA, virt_to_phys(v->irt) | s |
                (x2apic ? IRTA_EIME : 0));
    vtd_gcmd_oneshot(v, VTD_GCMD_SIRTP);
    vtd_inv_iec_global(v);
    vtd_gcmd_set(v, VTD_GCMD_IRE, true);
    if (allow_compat) {
        vtd_gcmd_set(v, VTD_GCMD_CFI, true);
    }
}

void vtd_ir_disable(struct vtd *v)
{
    if (v->gcmd & VTD_GCMD_CFI) {
        vtd_gcmd_set(v, VTD_GCMD_CFI, false);
    }
    vtd_gcmd_set(v, VTD_GCMD_IRE, false);
}

static uint64_t *irte_slot(struct vtd *v, unsigned int index)
{
    if (!v->irt || index >= v->irt_entries) {
        guest_fail("vtd: IRTE index %u outside the table (%u entries)",
                   index, v->irt_entries);
    }
    return v->irt + 2 * index;
}

void vtd_irte_set(struct vtd *v, unsigned int index, const struct vtd_irte *e)
{
    uint64_t *slot = irte_slot(v, index);
    bool was_present = slot[0] & 1;
    bool eime = vtd_read64(v, VTD_REG_IRTA) & IRTA_EIME;
    uint64_t lo;

    lo = 1 | (e->fpd ? VTD_IRTE_FPD : 0) | (e->level ? VTD_IRTE_LEVEL : 0) |
         ((uint64_t)e->vector << 16) |
         (eime ? (uint64_t)e->dest << 32 : (uint64_t)(e->dest & 0xff) << 40);
    slot[0] &= ~1ULL;               /* not present while we rewrite it */
    barrier();
    slot[1] = e->sid | ((uint64_t)(e->sq & 3) << 16) |
              ((uint64_t)(e->svt & 3) << 18);
    barrier();
    slot[0] = lo;
    mb();
    if (was_present) {
        vtd_inv_iec_index(v, (uint16_t)index, 0);
    }
}

void vtd_irte_clear(struct vtd *v, unsigned int index)
{
    uint64_t *slot = irte_slot(v, index);

    slot[0] = 0;
    slot[1] = 0;
    mb();
    vtd_inv_iec_index(v, (uint16_t)index, 0);
}
