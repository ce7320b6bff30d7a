/*
 * intel-iommu: interrupt remapping (VT-d 5.1, 9.10, 6.5.2.7; facts G, F.5,
 * E.3).
 *
 * Every write without PASID that a device behind the IOMMU makes into
 * 0xfee00000-0xfeefffff arrives here (vtd_ir_msi_write, from the "ir"
 * region of its address space).  With GSTS.IRES clear it goes on to the
 * local APIC window unchanged.  With IRES set it is decoded as an
 * interrupt request (G.4), remapped through the interrupt remapping table
 * latched by SIRTP (G.1, G.2), checked against the requester (G.3), and
 * the resulting message is handed to apic_msi_deliver(); or it is blocked
 * and an interrupt-remapping fault is recorded (F.5).  The decision order
 * is facts G.5.  The IOAPIC (and KVM routes) reach the same logic through
 * vtd_interrupt_remap_msi(), with sid_known=false when the message has no
 * requester id to validate.
 *
 * Interrupt entry cache (G.7): present, valid IRTEs are cached by index
 * and used, even after the guest changed them in memory, until an IEC
 * invalidation covers them (global, index-selective, or implicitly SIRTP,
 * an IRE change or reset).  Non-present and invalid entries are never
 * cached, so a guest may fill an entry after enabling remapping without
 * invalidating.
 *
 * Everything runs in the main loop thread (or under the big lock).
 */
#include <inttypes.h>

#include "hw/i386/apic-msi.h"
#include "intel_iommu_internal.h"

/* Index covered by an IRTE handle: address bits 19:5 plus bit 2 (G.4). */
#define VTD_MSI_HANDLE(addr)    (VTD_MSI_ADDR_HANDLE(addr) | \
                                 ((addr) & VTD_MSI_ADDR_HANDLE15 ? 0x8000 : 0))
#define VTD_MSI_DATA_SUBHANDLE  0x0000ffffu
#define VTD_MSI_DATA_RSVD       0xffff0000u     /* with SHV: 0x20 */

/* Output message (facts G.5 last row; Intel SDM 3, 11.11). */
#define VTD_MSI_OUT_DEST_SHIFT  12              /* address 19:12 */
#define VTD_MSI_OUT_RH          (1u << 3)
#define VTD_MSI_OUT_DM          (1u << 2)
#define VTD_MSI_OUT_DLM_SHIFT   8               /* data 10:8 */
#define VTD_MSI_OUT_LEVEL       (1u << 14)      /* asserted */
#define VTD_MSI_OUT_TM          (1u << 15)

/* One IRTE as read from guest memory (qword 0, qword 1). */
typedef struct VTDIRTE {
    uint64_t lo;
    uint64_t hi;
} VTDIRTE;

/*
 * Owned by IntelIOMMUState.ir, created at realize, freed at unrealize.
 * iec maps GUINT_TO_POINTER(index) -> VTDIRTE * (owned by the table); an
 * entry is there only if it was present and valid under the IRTA latched
 * when it was read (SIRTP empties the table).  At most intr_size entries.
 */
typedef struct VTDIRState {
    GHashTable *iec;
} VTDIRState;

/* What remapping decided for one request. */
typedef struct VTDIRResult {
    VTDFaultReason fr;          /* VTD_FR_RESERVED: not blocked */
    bool fpd;                   /* FPD of the IRTE that faulted */
    uint32_t index;             /* interrupt index (may exceed 16 bits) */
} VTDIRResult;

/* --- Interrupt entry cache (G.7) ------------------------------------------ */

static void vtd_iec_flush(IntelIOMMUState *s)
{
    g_hash_table_remove_all(s->ir->iec);
}

/*
 * Index-selective (E.3): IM gives the low index bits ignored in the
 * compare, so 2^IM entries from IIDX aligned down.  The range check on IM
 * (<= ECAP.MHMV = 15, else IQE) is the descriptor decoder's; any value is
 * safe here, and the loop is bounded by 2^15 removals.
 */
void vtd_iec_invalidate(IntelIOMMUState *s, bool global, uint32_t index,
                        uint32_t mask)
{
    uint32_t first;

    if (global || mask >= 16) {
        vtd_iec_flush(s);
        return;
    }
    first = index & 0xffff & ~((1u << mask) - 1);
    for (uint32_t i = 0; i < 1u << mask; i++) {
        g_hash_table_remove(s->ir->iec, GUINT_TO_POINTER(first + i));
    }
}

/* --- Register side: SIRTP, IRE (facts A.2, G.1) ---------------------------- */

void vtd_ir_handle_sirtp(IntelIOMMUState *s)
{
    uint64_t irta = vtd_get_quad(s, DMAR_IRTA_REG);

    s->intr_root = irta & VTD_IRTA_ADDR_MASK;
    s->intr_size = 2u << (irta & VTD_IRTA_S_MASK);
    /* EIME is reserved without ECAP.EIM: ignored, xAPIC mode. */
    s->intr_eime = s->eim_supported && (irta & VTD_IRTA_EIME);
    if ((irta & VTD_IRTA_EIME) && !s->eim_supported) {
        log_guest_error("intel-iommu: IRTA.EIME set without ECAP.EIM, "
                        "ignored");
    }
    /*
     * Without CAP.ESIRTPS software follows SIRTP with a global IEC
     * invalidation; entries read from the old table must not outlive it
     * in any case (QEMU also flushes here).
     */
    vtd_iec_flush(s);
}

/*
 * The cache is only consulted while IRES=1; dropping it on every change
 * means an entry edited while remapping was off is read afresh, which a
 * guest following the spec (invalidate after edits) cannot tell apart.
 */
void vtd_ir_handle_ire(IntelIOMMUState *s, bool en)
{
    vtd_iec_flush(s);
}

/* --- Remapping (G.2, G.3, G.5) --------------------------------------------- */

/* The fault is the caller's to record; *fpd stays false before the IRTE
 * has been read. */
static VTDFaultReason vtd_irte_read(IntelIOMMUState *s, uint32_t index,
                                    VTDIRTE *irte, bool *fpd)
{
    uint64_t haw_rsvd = VTD_HAW_RSVD(s->aw_bits);
    uint64_t addr, rsvd;
    uint8_t buf[VTD_IRTE_SIZE];
    VTDIRTE *cached = g_hash_table_lookup(s->ir->iec,
                                          GUINT_TO_POINTER(index));

    if (cached) {
        *irte = *cached;
        return VTD_FR_RESERVED;
    }
    /* index < intr_size <= 2^16 and the base is checked first: no wrap. */
    addr = s->intr_root + (uint64_t)index * VTD_IRTE_SIZE;
    if ((s->intr_root & haw_rsvd) || ((addr + VTD_IRTE_SIZE - 1) & haw_rsvd)) {
        return VTD_FR_IR_INDEX_OVER;        /* IRTE above HAW (F.5) */
    }
    if (address_space_read(&address_space_memory, addr,
                           MEMTXATTRS_UNSPECIFIED, buf, sizeof(buf)) !=
        MEMTX_OK) {
        return VTD_FR_IR_ROOT_INVAL;
    }
    irte->lo = irte->hi = 0;
    for (int i = 0; i < 8; i++) {
        irte->lo |= (uint64_t)buf[i] << (8 * i);
        irte->hi |= (uint64_t)buf[8 + i] << (8 * i);
    }
    *fpd = irte->lo & VTD_IRTE_FPD;
    if (!(irte->lo & VTD_IRTE_P)) {
        return VTD_FR_IR_ENTRY_P;
    }
    rsvd = s->intr_eime ? VTD_IRTE_LO_RSVD_X2APIC : VTD_IRTE_LO_RSVD_XAPIC;
    /* Posted format (IM=1) needs CAP.PI, which is never advertised. */
    if ((irte->lo & (rsvd | VTD_IRTE_IM)) || (irte->hi & VTD_IRTE_HI_RSVD)) {
        return VTD_FR_IR_IRTE_RSVD;
    }
    g_hash_table_insert(s->ir->iec, GUINT_TO_POINTER(index),
                        g_memdup2(irte, sizeof(*irte)));
    return VTD_FR_RESERVED;
}

/* Source-id validation (G.3). */
static bool vtd_irte_sid_ok(const VTDIRTE *irte, uint16_t sid)
{
    /* SQ: function bits of the SID ignored in the compare. */
    static const uint16_t sq_mask[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };
    uint16_t want = VTD_IRTE_SID(irte->hi);
    uint8_t bus = sid >> 8;

    switch (VTD_IRTE_SVT(irte->hi)) {
    case VTD_SVT_NONE:
        return true;
    case VTD_SVT_ALL:
        return !((sid ^ want) & sq_mask[VTD_IRTE_SQ(irte->hi)]);
    case VTD_SVT_BUS:       /* SID[15:8] start bus, SID[7:0] end bus */
        return bus >= (want >> 8) && bus <= (want & 0xff);
    default:                /* reserved: a validation failure */
        return false;
    }
}

/*
 * The output message (G.5 last row).  In x2APIC mode the 32-bit
 * destination is split as KVM's x2APIC API and QEMU do: bits 7:0 in
 * address 19:12, bits 31:8 in address 63:40.
 */
static void vtd_irte_to_msi(IntelIOMMUState *s, const VTDIRTE *irte,
                            uint64_t *addr, uint32_t *data)
{
    uint32_t dest = s->intr_eime ? VTD_IRTE_DST(irte->lo)
                                 : VTD_IRTE_DST_XAPIC(irte->lo);

    *addr = VTD_INTERRUPT_ADDR_FIRST |
            (uint64_t)(dest & 0xff) << VTD_MSI_OUT_DEST_SHIFT |
            (uint64_t)(dest & 0xffffff00) << 32 |
            (irte->lo & VTD_IRTE_RH ? VTD_MSI_OUT_RH : 0) |
            (irte->lo & VTD_IRTE_DM ? VTD_MSI_OUT_DM : 0);
    *data = VTD_IRTE_VECTOR(irte->lo) |
            VTD_IRTE_DLM(irte->lo) << VTD_MSI_OUT_DLM_SHIFT |
            VTD_MSI_OUT_LEVEL |
            (irte->lo & VTD_IRTE_TM ? VTD_MSI_OUT_TM : 0);
}

/*
 * The decision flow of facts G.5 with IRES=1.  On success *out_* hold the
 * message to deliver; otherwise res says which fault and for which index.
 */
static void vtd_ir_remap(IntelIOMMUState *s, uint64_t addr, uint32_t data,
                         uint16_t sid, bool sid_known, VTDIRResult *res,
                         uint64_t *out_addr, uint32_t *out_data)
{
    VTDIRTE irte;

    *res = (VTDIRResult){ .fr = VTD_FR_RESERVED };
    /* Only the IOAPIC/KVM entry can be outside the window (QEMU: 0x20). */
    if (addr < VTD_INTERRUPT_ADDR_FIRST || addr > VTD_INTERRUPT_ADDR_LAST) {
        res->fr = VTD_FR_IR_REQ_RSVD;
        return;
    }
    if (!(addr & VTD_MSI_ADDR_REMAPPABLE)) {
        /* Compatibility format: CFIS lets it through, never with EIME. */
        if (s->intr_eime ||
            !(vtd_get_long(s, DMAR_GSTS_REG) & VTD_GSTS_CFIS)) {
            res->fr = VTD_FR_IR_REQ_COMPAT;
            return;
        }
        *out_addr = addr;
        *out_data = data;
        return;
    }
    res->index = VTD_MSI_HANDLE(addr);
    if (addr & VTD_MSI_ADDR_SHV) {
        if (data & VTD_MSI_DATA_RSVD) {
            res->fr = VTD_FR_IR_REQ_RSVD;
            return;
        }
        res->index += data & VTD_MSI_DATA_SUBHANDLE;
    }
    if (res->index >= s->intr_size) {
        res->fr = VTD_FR_IR_INDEX_OVER;
        return;
    }
    res->fr = vtd_irte_read(s, res->index, &irte, &res->fpd);
    if (res->fr != VTD_FR_RESERVED) {
        return;
    }
    res->fpd = irte.lo & VTD_IRTE_FPD;
    if (sid_known && !vtd_irte_sid_ok(&irte, sid)) {
        res->fr = VTD_FR_IR_SID_ERR;
        return;
    }
    /*
     * Without SHV (the IOAPIC's form, G.6) data carries the RTE's vector
     * and trigger mode, which should match the IRTE; hardware uses the
     * IRTE's, as does QEMU, which only warns.
     */
    vtd_irte_to_msi(s, &irte, out_addr, out_data);
}

bool vtd_interrupt_remap_msi(IntelIOMMUState *s, uint64_t addr,
                             uint32_t data, uint16_t sid, bool sid_known,
                             uint64_t *out_addr, uint32_t *out_data)
{
    VTDIRResult res;

    if (!s->intr_enabled) {
        *out_addr = addr;
        *out_data = data;
        return true;
    }
    vtd_ir_remap(s, addr, data, sid, sid_known, &res, out_addr, out_data);
    if (res.fr == VTD_FR_RESERVED) {
        return true;
    }
    /* FI holds 16 bits; an index past 0xffff (handle + subhandle) is
     * recorded truncated, it faulted 0x21 anyway. */
    vtd_report_ir_fault(s, res.fr, res.fpd, sid, (uint16_t)res.index);
    return false;
}

/*
 * Interrupt requests are DWORD writes (VT-d 3.14); other writes without
 * PASID into the window are unsupported requests: dropped, no fault.
 * With IRE=0 the write goes on to the APIC window exactly as made.
 */
MemTxResult vtd_ir_msi_write(IntelIOMMUState *s, VTDAddressSpace *vas,
                             hwaddr addr, uint64_t val, unsigned size,
                             MemTxAttrs attrs)
{
    uint16_t sid = vas ? vtd_as_sid(vas) : attrs.requester_id;
    bool sid_known = vas || !attrs.unspecified;
    ApicMsi msg = { .requester_id = sid };

    if (!s->intr_enabled) {
        uint8_t buf[8];

        size = MIN(size, sizeof(buf));
        for (unsigned i = 0; i < size; i++) {
            buf[i] = val >> (8 * i);
        }
        return address_space_write(&address_space_memory, addr, attrs, buf,
                                   size);
    }
    if (size != 4 || (addr & 3)) {
        log_guest_error("intel-iommu: %u-byte write to 0x%" PRIx64
                        " from %04x is not an interrupt request, dropped",
                        size, (uint64_t)addr, sid);
        return MEMTX_ERROR;
    }
    if (!vtd_interrupt_remap_msi(s, addr, (uint32_t)val, sid, sid_known,
                                 &msg.addr, &msg.data)) {
        return MEMTX_ERROR;
    }
    apic_msi_deliver(&msg);
    return MEMTX_OK;
}

/*
 * The I/O APIC's messages (apic_msi_deliver_ioapic): remapped like a
 * device's, their source id (IOAPIC_REQUESTER_ID, the DMAR's IOAPIC scope)
 * checked against the IRTE.
 */
static bool vtd_ir_ioapic_remap(void *opaque, ApicMsi *msg)
{
    return vtd_interrupt_remap_msi(opaque, msg->addr, msg->data,
                                   msg->requester_id, true, &msg->addr,
                                   &msg->data);
}

/* --- Lifetime --------------------------------------------------------------- */

void vtd_ir_init(IntelIOMMUState *s)
{
    s->ir = g_new0(VTDIRState, 1);
    s->ir->iec = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                       g_free);
    apic_msi_set_ioapic_remapper(vtd_ir_ioapic_remap, s);
}

void vtd_ir_fini(IntelIOMMUState *s)
{
    apic_msi_clear_ioapic_remapper(vtd_ir_ioapic_remap, s);
    if (s->ir) {
        g_hash_table_destroy(s->ir->iec);
        g_clear_pointer(&s->ir, g_free);
    }
}

/* The registers and intr_* fields are reset by intel_iommu.c. */
void vtd_ir_reset(IntelIOMMUState *s)
{
    vtd_iec_flush(s);
}
