/*
 * intel-iommu: primary fault logging and event interrupts (VT-d 7.4, 7.5;
 * facts A.4, F.1-F.3).
 *
 * The fault recording registers form a ring of VTD_FRCD_NUM records;
 * next_frcd is where the next fault goes.  FSTS.PPF is the OR of the
 * records' F bits and FSTS.FRI the first pending record.  A fault event is
 * raised only when a status bit goes 0 -> 1 while nothing else is pending,
 * so a driver that has not yet serviced earlier faults gets no new
 * interrupt (A.4).  The event message is a DMA write of the IOMMU itself
 * into system memory: never translated, never interrupt-remapped.
 */
#include <inttypes.h>

#include "intel_iommu_internal.h"

/* Status bits that make a fault event "pending" (A.4). */
#define VTD_FSTS_PENDING    (VTD_FSTS_PFO | VTD_FSTS_PPF | VTD_FSTS_IQE | \
                             VTD_FSTS_ICE | VTD_FSTS_ITE)

/* --- Event interrupts (A.4) ------------------------------------------------ */

void vtd_generate_event_msi(IntelIOMMUState *s, unsigned data_reg,
                            unsigned addr_reg, unsigned uaddr_reg)
{
    uint64_t addr = vtd_get_long(s, addr_reg);
    uint32_t data = vtd_get_long(s, data_reg);

    if (s->eim_supported) {
        addr |= (uint64_t)vtd_get_long(s, uaddr_reg) << 32;
    }
    address_space_stl_le(&address_space_memory, addr, data,
                         MEMTXATTRS_UNSPECIFIED, NULL);
}

void vtd_event_raise(IntelIOMMUState *s, unsigned ctl_reg, unsigned data_reg,
                     unsigned addr_reg, unsigned uaddr_reg)
{
    if (vtd_get_long(s, ctl_reg) & VTD_ECTL_IM) {
        vtd_set_clear_mask_long(s, ctl_reg, 0, VTD_ECTL_IP);
        return;
    }
    vtd_generate_event_msi(s, data_reg, addr_reg, uaddr_reg);
    vtd_set_clear_mask_long(s, ctl_reg, VTD_ECTL_IP, 0);
}

void vtd_event_unmask(IntelIOMMUState *s, unsigned ctl_reg, unsigned data_reg,
                      unsigned addr_reg, unsigned uaddr_reg)
{
    uint32_t ctl = vtd_get_long(s, ctl_reg);

    if (!(ctl & VTD_ECTL_IM) && (ctl & VTD_ECTL_IP)) {
        /*
         * IP clears as the message goes out.  The guest may point the
         * message at this very register: its write must find nothing
         * pending, or the message would re-send itself forever.
         */
        vtd_set_clear_mask_long(s, ctl_reg, VTD_ECTL_IP, 0);
        vtd_generate_event_msi(s, data_reg, addr_reg, uaddr_reg);
    }
}

static void vtd_fault_event(IntelIOMMUState *s)
{
    vtd_event_raise(s, DMAR_FECTL_REG, DMAR_FEDATA_REG, DMAR_FEADDR_REG,
                    DMAR_FEUADDR_REG);
}

void vtd_fectl_write(IntelIOMMUState *s)
{
    vtd_event_unmask(s, DMAR_FECTL_REG, DMAR_FEDATA_REG, DMAR_FEADDR_REG,
                     DMAR_FEUADDR_REG);
}

/* --- Status ------------------------------------------------------------------ */

void vtd_set_fault_status(IntelIOMMUState *s, uint32_t fsts_bits)
{
    uint32_t fsts = vtd_get_long(s, DMAR_FSTS_REG);

    vtd_set_long(s, DMAR_FSTS_REG, fsts | fsts_bits);
    if (!(fsts & VTD_FSTS_PENDING) && (fsts_bits & VTD_FSTS_PENDING)) {
        vtd_fault_event(s);
    }
}

static bool vtd_frcd_pending(IntelIOMMUState *s, unsigned i)
{
    return vtd_get_quad(s, DMAR_FRCD_REG(i) + 8) & VTD_FRCD_HI_F;
}

void vtd_fault_status_update(IntelIOMMUState *s)
{
    uint32_t fsts = vtd_get_long(s, DMAR_FSTS_REG);
    unsigned fri = (fsts & VTD_FSTS_FRI_MASK) >> VTD_FSTS_FRI_SHIFT;
    bool ppf = false;

    /* FRI follows the first pending record, scanning from the old one. */
    for (unsigned n = 0; n < VTD_FRCD_NUM; n++) {
        unsigned i = (fri + n) % VTD_FRCD_NUM;

        if (vtd_frcd_pending(s, i)) {
            ppf = true;
            fri = i;
            break;
        }
    }
    fsts &= ~(VTD_FSTS_PPF | VTD_FSTS_FRI_MASK);
    fsts |= (ppf ? VTD_FSTS_PPF : 0) | (fri % VTD_FRCD_NUM) << VTD_FSTS_FRI_SHIFT;
    vtd_set_long(s, DMAR_FSTS_REG, fsts);
    if (!(fsts & VTD_FSTS_PENDING)) {
        vtd_set_clear_mask_long(s, DMAR_FECTL_REG, VTD_ECTL_IP, 0);
    }
}

/* --- Recording (F.3) ------------------------------------------------------------ */

/*
 * Reasons a set FPD cannot suppress: the structure holding the FPD was not
 * (validly) read.  QEMU's list (0x1, 0x8-0xB, 0x50, 0x58) plus the
 * scalable-mode root and context equivalents; for interrupts 0x20, 0x21,
 * 0x23 and 0x25 (facts F.3).
 */
bool vtd_fault_is_qualified(VTDFaultReason fr)
{
    switch (fr) {
    case VTD_FR_ROOT_ENTRY_P:
    case VTD_FR_ROOT_TABLE_INV:
    case VTD_FR_CONTEXT_TABLE_INV:
    case VTD_FR_ROOT_ENTRY_RSVD:
    case VTD_FR_CONTEXT_ENTRY_RSVD:
    case VTD_FR_RTADDR_INV_TTM:
    case VTD_FR_RTA_PASID_TTM0:
    case VTD_FR_SM_ROOT_READ:
    case VTD_FR_SM_ROOT_NOT_PRESENT:
    case VTD_FR_SM_ROOT_RSVD:
    case VTD_FR_SM_CTX_READ:
    case VTD_FR_SM_CTX_RSVD:
    case VTD_FR_SM_PD_READ:
    case VTD_FR_SM_PE_READ:
    case VTD_FR_IR_REQ_RSVD:
    case VTD_FR_IR_INDEX_OVER:
    case VTD_FR_IR_ROOT_INVAL:
    case VTD_FR_IR_REQ_COMPAT:
        return false;
    default:
        return true;
    }
}

static void vtd_record_fault(IntelIOMMUState *s, uint16_t sid, uint64_t lo,
                             uint64_t hi)
{
    uint32_t fsts = vtd_get_long(s, DMAR_FSTS_REG);
    unsigned idx = s->next_frcd % VTD_FRCD_NUM;

    if (fsts & VTD_FSTS_PFO) {
        log_guest_error("intel-iommu: fault overflow pending, fault of "
                        "%04x dropped", sid);
        return;
    }
    /* QEMU compresses: one pending record per requester. */
    for (unsigned i = 0; i < VTD_FRCD_NUM; i++) {
        if (vtd_frcd_pending(s, i) &&
            (vtd_get_quad(s, DMAR_FRCD_REG(i) + 8) & VTD_FRCD_HI_SID_MASK) ==
            sid) {
            return;
        }
    }
    if (vtd_frcd_pending(s, idx)) {
        log_guest_error("intel-iommu: fault recording registers full, "
                        "fault of %04x dropped (PFO)", sid);
        vtd_set_fault_status(s, VTD_FSTS_PFO);
        return;
    }
    vtd_set_quad(s, DMAR_FRCD_REG(idx), lo);
    vtd_set_quad(s, DMAR_FRCD_REG(idx) + 8, hi | VTD_FRCD_HI_F);
    s->next_frcd = (idx + 1) % VTD_FRCD_NUM;
    if (!(fsts & VTD_FSTS_PPF)) {
        fsts = (fsts & ~VTD_FSTS_FRI_MASK) | idx << VTD_FSTS_FRI_SHIFT;
        vtd_set_long(s, DMAR_FSTS_REG, fsts);
        vtd_set_fault_status(s, VTD_FSTS_PPF);
    }
}

void vtd_report_fault(IntelIOMMUState *s, VTDFaultReason fr, bool is_fpd_set,
                      uint16_t sid, uint64_t addr, bool is_write,
                      bool pasid_present, uint32_t pasid)
{
    uint64_t hi = sid | (uint64_t)fr << VTD_FRCD_HI_FR_SHIFT;

    if (is_fpd_set && vtd_fault_is_qualified(fr)) {
        return;
    }
    log_guest_error("intel-iommu: DMA fault 0x%x, sid %04x, %s 0x%016"
                    PRIx64 "%s", fr, sid, is_write ? "write" : "read", addr,
                    pasid_present ? " (with PASID)" : "");
    if (!is_write) {
        hi |= VTD_FRCD_HI_T;
    }
    if (pasid_present) {
        hi |= VTD_FRCD_HI_PP |
              ((uint64_t)(pasid & VTD_PASID_MAX) << VTD_FRCD_HI_PV_SHIFT);
    }
    vtd_record_fault(s, sid, addr & VTD_FRCD_LO_FI_MASK, hi);
}

void vtd_report_ir_fault(IntelIOMMUState *s, VTDFaultReason fr,
                         bool is_fpd_set, uint16_t sid, uint16_t index)
{
    if (is_fpd_set && vtd_fault_is_qualified(fr)) {
        return;
    }
    log_guest_error("intel-iommu: interrupt fault 0x%x, sid %04x, index %u",
                    fr, sid, index);
    vtd_record_fault(s, sid, (uint64_t)index << VTD_FRCD_LO_IR_INDEX_SHIFT,
                     sid | (uint64_t)fr << VTD_FRCD_HI_FR_SHIFT);
}
