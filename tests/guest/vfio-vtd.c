/*
 * vfio-vtd: a guest driver for an assigned device behind intel-iommu in
 * caching mode.  The device is the simulated host's "dma" engine
 * (host/sim/sim-pci-model-regs.h) passed through with -device vfio-pci; its
 * DMA goes through the host's IOMMU, which viommu programs from the guest's
 * VT-d tables when the guest invalidates (CAP.CM).  Proves that
 *   - a copy between two IOVAs lands at the GPA the guest mapped (not at
 *     GPA == IOVA) and the completion MSI-X message reaches the guest's
 *     handler;
 *   - after the guest unmaps the destination and invalidates it (PSI), the
 *     device's DMA faults at that IOVA and nothing lands;
 *   - mapped again elsewhere and invalidated, the DMA follows.
 * Run with: -device intel-iommu,caching-mode=on -object sim-host,id=h
 *   -object sim-pci-device,id=d0,sim-host=h,host=0000:02:00.0,iommu-group=5
 *   -device vfio-pci,host=0000:02:00.0,addr=04.0
 */
#include "vtd.h"
#include "host/sim/sim-pci-model-regs.h"

#define DID 3
#define IOVA_SRC 0x00800000ULL
#define IOVA_DST 0x00a01000ULL
#define LEN 256
#define VEC_DONE 0x41
#define DONE_ENTRY 0             /* MSI-X table entry for completions */
#define IRQ_WAIT_MS 2000

static uint64_t regs;
static volatile int done_irqs;

static void done_handler(struct irq_frame *f, void *opaque)
{
    done_irqs++;
    lapic_eoi();
}

static void sdma_write64(unsigned int off, uint64_t v)
{
    writel(regs + off, (uint32_t)v);
    writel(regs + off + 4, (uint32_t)(v >> 32));
}

/* One copy IOVA @src -> IOVA @dst; returns STATUS. */
static uint32_t sdma_copy(uint64_t src, uint64_t dst, uint32_t len)
{
    writel(regs + SIM_DMA_REG_STATUS,
           SIM_DMA_STATUS_DONE | SIM_DMA_STATUS_ERROR);
    sdma_write64(SIM_DMA_REG_SRC, src);
    sdma_write64(SIM_DMA_REG_DST, dst);
    writel(regs + SIM_DMA_REG_LEN, len);
    writel(regs + SIM_DMA_REG_CMD, SIM_DMA_CMD_START | SIM_DMA_OP_COPY);
    return readl(regs + SIM_DMA_REG_STATUS);
}

static void fill(uint8_t *p, uint8_t seed)
{
    for (unsigned int i = 0; i < LEN; i++) {
        p[i] = (uint8_t)(seed + 3 * i);
    }
}

/* A copy that must land in @dst (and not at GPA == IOVA_DST) and raise a
 * completion interrupt. */
static void copy_lands(uint8_t *src, uint8_t *dst, uint8_t seed)
{
    uint8_t *ident = phys_to_virt(IOVA_DST);
    uint32_t st;

    fill(src, seed);
    memset(dst, 0, LEN);
    memset(ident, 0x5a, LEN);
    done_irqs = 0;
    st = sdma_copy(IOVA_SRC, IOVA_DST, LEN);
    if (st != SIM_DMA_STATUS_DONE) {
        guest_fail("copy 0x%llx -> 0x%llx: STATUS 0x%x (fault IOVA 0x%x)",
                   (unsigned long long)IOVA_SRC, (unsigned long long)IOVA_DST,
                   st, readl(regs + SIM_DMA_REG_FAULT_IOVA));
    }
    for (unsigned int i = 0; i < LEN; i++) {
        if (dst[i] != (uint8_t)(seed + 3 * i)) {
            guest_fail("byte %u at GPA %p is 0x%02x, expected 0x%02x", i,
                       (void *)dst, dst[i], (uint8_t)(seed + 3 * i));
        }
        if (ident[i] != 0x5a) {
            guest_fail("the copy also wrote GPA 0x%llx: not translated",
                       (unsigned long long)IOVA_DST);
        }
    }
    printf("  %u bytes IOVA 0x%llx -> 0x%llx landed at GPA %p\n", LEN,
           (unsigned long long)IOVA_SRC, (unsigned long long)IOVA_DST,
           (void *)dst);
    if (!wait_flag(&done_irqs, IRQ_WAIT_MS)) {
        guest_fail("no completion interrupt (vector 0x%x) after the copy",
                   VEC_DONE);
    }
    printf("  completion MSI-X vector 0x%x handled\n", VEC_DONE);
}

int main(void)
{
    struct vtd v;
    struct vtd_pgtable pt;
    uint8_t *src, *dst, *dst2;
    uint32_t st;
    int bdf;

    printf("vfio-vtd: assigned sim dma device behind intel-iommu "
           "(caching mode)\n");
    bdf = pci_find_device(SIM_DMA_VENDOR_ID, SIM_DMA_DEVICE_ID, 0);
    if (bdf < 0) {
        guest_fail("no sim dma device (1b36:00f2) on the PCI bus");
    }
    pci_enable((uint16_t)bdf);
    regs = pci_bar_addr((uint16_t)bdf, SIM_DMA_BAR_REGS);
    if (!regs || readl(regs + SIM_DMA_REG_ID) != SIM_DMA_ID_VALUE) {
        guest_fail("sim dma at %02x:%02x.%x: BAR0 0x%llx, ID 0x%x",
                   PCI_BUS(bdf), PCI_SLOT(bdf), PCI_FUNC(bdf),
                   (unsigned long long)regs,
                   regs ? readl(regs + SIM_DMA_REG_ID) : 0);
    }
    printf("  sim dma at %02x:%02x.%x, BAR0 0x%llx\n", PCI_BUS(bdf),
           PCI_SLOT(bdf), PCI_FUNC(bdf), (unsigned long long)regs);

    vtd_init(&v);
    if (!(v.cap & VTD_CAP_CM)) {
        guest_fail("CAP.CM is 0: run intel-iommu with caching-mode=on");
    }
    src = page_alloc();
    dst = page_alloc();
    dst2 = page_alloc();
    vtd_set_root_table(&v, false);
    vtd_qi_enable(&v);
    vtd_pgtable_init(&pt, (VTD_CAP_SAGAW(v.cap) & 2) ? 3 : 4, false);
    vtd_map(&pt, IOVA_SRC, virt_to_phys(src), PAGE_SIZE, false);
    vtd_map(&pt, IOVA_DST, virt_to_phys(dst), PAGE_SIZE, true);
    vtd_legacy_attach(&v, (uint16_t)bdf, &pt, DID);
    /* Caching mode: not-present -> present needs invalidations too. */
    vtd_inv_context_device(&v, DID, (uint16_t)bdf);
    vtd_inv_iotlb_domain(&v, DID);
    vtd_enable_translation(&v);
    printf("  translation enabled, DID %u\n", DID);

    irq_register(VEC_DONE, done_handler, NULL);
    if (!pci_msix_setup((uint16_t)bdf, DONE_ENTRY, msi_addr(lapic_id()),
                        msi_data(VEC_DONE))) {
        guest_fail("cannot program MSI-X entry %u", DONE_ENTRY);
    }
    writel(regs + SIM_DMA_REG_IRQ, SIM_DMA_IRQ_DONE_EN | DONE_ENTRY);
    irq_enable();

    copy_lands(src, dst, 1);

    printf("unmap + page-selective invalidation\n");
    vtd_unmap(&pt, IOVA_DST, PAGE_SIZE);
    vtd_inv_iotlb_page(&v, DID, IOVA_DST, 0);
    memset(dst, 0, LEN);
    st = sdma_copy(IOVA_SRC, IOVA_DST, LEN);
    if (!(st & SIM_DMA_STATUS_ERROR) ||
        ((st & SIM_DMA_STATUS_ERR_MASK) >> SIM_DMA_STATUS_ERR_SHIFT) !=
        SIM_DMA_ERR_FAULT) {
        guest_fail("DMA to an unmapped IOVA: STATUS 0x%x, expected a fault",
                   st);
    }
    GUEST_ASSERT_EQ(readl(regs + SIM_DMA_REG_FAULT_IOVA), IOVA_DST);
    GUEST_ASSERT_EQ(dst[0], 0);
    printf("  refused: STATUS 0x%x, fault IOVA 0x%llx\n", st,
           (unsigned long long)IOVA_DST);

    printf("remapped elsewhere\n");
    vtd_map(&pt, IOVA_DST, virt_to_phys(dst2), PAGE_SIZE, true);
    vtd_inv_iotlb_page(&v, DID, IOVA_DST, 0);
    copy_lands(src, dst2, 2);

    vtd_disable_translation(&v);
    guest_pass();
}
