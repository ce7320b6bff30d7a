/*
 * vtd-dma-legacy: edu DMA through intel-iommu legacy-mode second-level
 * tables, driven by the guest itself (facts C).  Proves that
 *   - the bytes of a DMA land at the GPA the guest's tables translate the
 *     IOVA to (and not at GPA == IOVA);
 *   - a write to an unmapped IOVA, a write to a read-only mapping and a read
 *     of an unmapped IOVA are refused and recorded as fault records with
 *     reason 0x5 / 0x5 / 0x6, the edu's SID and the page address;
 *   - the fault event (FEADDR/FEDATA) and the invalidation-completion event
 *     (a wait descriptor with IF, IEADDR/IEDATA) arrive as interrupts;
 *   - after an unmap and a page-selective IOTLB invalidation, the IOVA
 *     faults; mapped again elsewhere, DMA follows the new mapping;
 *   - after the context entry is cleared and the device's context-cache
 *     entry invalidated, DMA faults with 0x2 (context not present).
 * Run with: -device intel-iommu -device edu
 */
#include "edu.h"
#include "vtd.h"

#define DID 1
#define IOVA_SRC 0x00800000ULL      /* read-only mapping */
#define IOVA_DST 0x00a01000ULL
#define IOVA_UNMAPPED 0x00c00000ULL
#define LEN 512
#define VEC_FAULT 0x50
#define VEC_INV 0x51
#define IRQ_WAIT_MS 1000

static volatile int fault_irqs, inv_irqs;

static void fault_handler(struct irq_frame *f, void *opaque)
{
    fault_irqs++;
    lapic_eoi();
}

static void inv_handler(struct irq_frame *f, void *opaque)
{
    inv_irqs++;
    lapic_eoi();
}

int main(void)
{
    struct vtd v;
    struct vtd_pgtable pt;
    struct edu e;
    uint8_t *src, *dst, *dst2;
    unsigned int levels;

    printf("vtd-dma-legacy: edu DMA through legacy second-level tables\n");
    edu_init(&e);
    vtd_init(&v);
    levels = (VTD_CAP_SAGAW(v.cap) & 2) ? 3 : 4;
    printf("  %u-level second-level table, DID %u\n", levels, DID);

    src = page_alloc();
    dst = page_alloc();
    dst2 = page_alloc();
    vtd_set_root_table(&v, false);
    vtd_qi_enable(&v);
    vtd_pgtable_init(&pt, levels, false);
    vtd_map(&pt, IOVA_SRC, virt_to_phys(src), PAGE_SIZE, false);
    vtd_map(&pt, IOVA_DST, virt_to_phys(dst), PAGE_SIZE, true);
    vtd_legacy_attach(&v, e.bdf, &pt, DID);
    vtd_inv_context_global(&v);
    vtd_inv_iotlb_global(&v);
    vtd_enable_translation(&v);
    printf("  translation enabled (GSTS 0x%x)\n",
           vtd_read32(&v, VTD_REG_GSTS));

    edu_check_copy(&e, IOVA_SRC, src, IOVA_DST, dst, LEN, 1);

    printf("write to an unmapped IOVA, with the fault event unmasked\n");
    irq_register(VEC_FAULT, fault_handler, NULL);
    vtd_fault_irq(&v, msi_addr(lapic_id()), msi_data(VEC_FAULT));
    irq_enable();
    memset(phys_to_virt(IOVA_UNMAPPED), 0x5a, 16);
    GUEST_ASSERT(!edu_dma(&e, true, IOVA_UNMAPPED, 0, 16));
    GUEST_ASSERT_EQ(*(uint8_t *)phys_to_virt(IOVA_UNMAPPED), 0x5a);
    if (!wait_flag(&fault_irqs, IRQ_WAIT_MS)) {
        guest_fail("no fault event interrupt (FSTS 0x%x FECTL 0x%x)",
                   vtd_fsts(&v), vtd_read32(&v, VTD_REG_FECTL));
    }
    printf("  fault event vector 0x%x taken\n", VEC_FAULT);
    vtd_expect_dma_fault(&v, e.bdf, IOVA_UNMAPPED, VTD_FR_WRITE, false);
    vtd_write32(&v, VTD_REG_FECTL, VTD_ECTL_IM);

    printf("write to a read-only mapping\n");
    memset(src, 0x11, 16);
    GUEST_ASSERT(!edu_dma(&e, true, IOVA_SRC, 0, 16));
    GUEST_ASSERT_EQ(src[0], 0x11);
    vtd_expect_dma_fault(&v, e.bdf, IOVA_SRC, VTD_FR_WRITE, false);

    printf("read of an unmapped IOVA\n");
    GUEST_ASSERT(!edu_dma(&e, false, IOVA_UNMAPPED + 0x2000, 0, 16));
    vtd_expect_dma_fault(&v, e.bdf, IOVA_UNMAPPED + 0x2000, VTD_FR_READ,
                         true);
    GUEST_ASSERT(!(vtd_fsts(&v) & VTD_FSTS_PPF));

    printf("invalidation wait descriptor with a completion interrupt\n");
    irq_register(VEC_INV, inv_handler, NULL);
    vtd_qi_completion_irq(&v, msi_addr(lapic_id()), msi_data(VEC_INV));
    vtd_qi_wait_irq(&v);
    if (!wait_flag(&inv_irqs, IRQ_WAIT_MS)) {
        guest_fail("no invalidation completion interrupt (ICS 0x%x)",
                   vtd_read32(&v, VTD_REG_ICS));
    }
    GUEST_ASSERT_EQ(vtd_read32(&v, VTD_REG_ICS) & VTD_ICS_IWC, VTD_ICS_IWC);
    printf("  completion event vector 0x%x taken, ICS.IWC set\n", VEC_INV);

    printf("unmap + page-selective invalidation\n");
    vtd_unmap(&pt, IOVA_DST, PAGE_SIZE);
    vtd_inv_iotlb_page(&v, DID, IOVA_DST, 0);
    GUEST_ASSERT(!edu_dma(&e, true, IOVA_DST, 0, 16));
    vtd_expect_dma_fault(&v, e.bdf, IOVA_DST, VTD_FR_WRITE, false);

    printf("remapped elsewhere\n");
    vtd_map(&pt, IOVA_DST, virt_to_phys(dst2), PAGE_SIZE, true);
    vtd_inv_iotlb_page(&v, DID, IOVA_DST, 0);
    edu_check_copy(&e, IOVA_SRC, src, IOVA_DST, dst2, LEN, 2);

    printf("context entry cleared + device-selective invalidation\n");
    vtd_legacy_detach(&v, e.bdf);
    vtd_inv_context_device(&v, DID, e.bdf);
    vtd_inv_iotlb_domain(&v, DID);
    GUEST_ASSERT(!edu_dma(&e, true, IOVA_DST, 0, 16));
    vtd_expect_dma_fault(&v, e.bdf, IOVA_DST, VTD_FR_CTX_NOT_PRESENT, false);

    vtd_disable_translation(&v);
    guest_pass();
}
