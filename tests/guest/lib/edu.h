/*
 * The edu PCI device from a guest program (control_boot_facts D, docs/edu.md):
 * DMA between guest memory (an IOVA behind a vIOMMU) and its 4 KiB buffer
 * at device addresses 0x40000-0x40fff.  viommu's edu sets bit 31 of the
 * command register when a transfer was refused or faulted.
 */
#ifndef GUEST_EDU_H
#define GUEST_EDU_H

#include "guest.h"

#define EDU_VENDOR_ID 0x1234
#define EDU_DEVICE_ID 0x11e8
#define EDU_REG_ID 0x00
#define EDU_ID_MAGIC 0xed          /* low byte of the ID register */
#define EDU_REG_DMA_SRC 0x80
#define EDU_REG_DMA_DST 0x88
#define EDU_REG_DMA_CNT 0x90
#define EDU_REG_DMA_CMD 0x98
#define EDU_DMA_RUN 0x1u
#define EDU_DMA_TO_RAM 0x2u
#define EDU_DMA_ERROR BIT(31)
#define EDU_BUF 0x40000ULL
#define EDU_DMA_TIMEOUT_MS 2000

struct edu {
    uint16_t bdf;
    uint64_t bar;
};

/* Find the first edu, enable it (memory, bus master) and check its ID. */
static inline void edu_init(struct edu *e)
{
    int bdf = pci_find_device(EDU_VENDOR_ID, EDU_DEVICE_ID, 0);

    if (bdf < 0) {
        guest_fail("no edu device (1234:11e8) on the PCI bus");
    }
    e->bdf = (uint16_t)bdf;
    pci_enable(e->bdf);
    e->bar = pci_bar_addr(e->bdf, 0);
    if (!e->bar || (readl(e->bar + EDU_REG_ID) & 0xff) != EDU_ID_MAGIC) {
        guest_fail("edu %02x:%02x.%x: BAR0 0x%llx, ID 0x%x", PCI_BUS(bdf),
                   PCI_SLOT(bdf), PCI_FUNC(bdf), (unsigned long long)e->bar,
                   e->bar ? readl(e->bar + EDU_REG_ID) : 0);
    }
    printf("edu at %02x:%02x.%x, BAR0 0x%llx\n", PCI_BUS(bdf), PCI_SLOT(bdf),
           PCI_FUNC(bdf), (unsigned long long)e->bar);
}

/*
 * Run one transfer of @cnt bytes; @to_ram: buffer offset @buf_off -> @iova,
 * else @iova -> buffer.  Returns true if it completed without the error bit.
 */
static inline bool edu_dma(struct edu *e, bool to_ram, uint64_t iova,
                           uint32_t buf_off, uint32_t cnt)
{
    uint32_t cmd;

    writeq(e->bar + EDU_REG_DMA_SRC, to_ram ? EDU_BUF + buf_off : iova);
    writeq(e->bar + EDU_REG_DMA_DST, to_ram ? iova : EDU_BUF + buf_off);
    writeq(e->bar + EDU_REG_DMA_CNT, cnt);
    writel(e->bar + EDU_REG_DMA_CMD,
           EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0));
    if (!poll_mmio32(e->bar + EDU_REG_DMA_CMD, EDU_DMA_RUN, 0,
                     EDU_DMA_TIMEOUT_MS, &cmd)) {
        guest_fail("edu DMA did not complete (CMD 0x%x)", cmd);
    }
    return !(cmd & EDU_DMA_ERROR);
}

/*
 * Copy @len bytes IOVA @iova_src -> device buffer -> IOVA @iova_dst and
 * check that the pattern read from @src (the page @iova_src translates to)
 * lands in @dst (the page @iova_dst translates to).  When translation is
 * on, the RAM at the untranslated addresses (GPA == IOVA) holds a
 * sentinel that must survive: the device really went through the IOMMU.
 */
static inline void edu_check_copy(struct edu *e, uint64_t iova_src,
                                  uint8_t *src, uint64_t iova_dst,
                                  uint8_t *dst, uint32_t len, uint8_t seed)
{
    uint8_t *ident = phys_to_virt(iova_dst);
    bool check_ident = (uint64_t)dst != iova_dst;

    for (uint32_t i = 0; i < len; i++) {
        src[i] = (uint8_t)(seed + 7 * i);
    }
    memset(dst, 0, len);
    if (check_ident) {
        memset(ident, 0x5a, len);
    }
    if (!edu_dma(e, false, iova_src, 0, len)) {
        guest_fail("edu DMA read from IOVA 0x%llx failed",
                   (unsigned long long)iova_src);
    }
    if (!edu_dma(e, true, iova_dst, 0, len)) {
        guest_fail("edu DMA write to IOVA 0x%llx failed",
                   (unsigned long long)iova_dst);
    }
    for (uint32_t i = 0; i < len; i++) {
        if (dst[i] != (uint8_t)(seed + 7 * i)) {
            guest_fail("byte %u at GPA 0x%llx (IOVA 0x%llx) is 0x%02x, "
                       "expected 0x%02x", i, (unsigned long long)(uint64_t)dst,
                       (unsigned long long)iova_dst, dst[i],
                       (uint8_t)(seed + 7 * i));
        }
        if (check_ident && ident[i] != 0x5a) {
            guest_fail("DMA to IOVA 0x%llx also wrote GPA 0x%llx: not "
                       "translated", (unsigned long long)iova_dst,
                       (unsigned long long)iova_dst);
        }
    }
    printf("  %u bytes IOVA 0x%llx -> 0x%llx landed at GPA 0x%llx\n", len,
           (unsigned long long)iova_src, (unsigned long long)iova_dst,
           (unsigned long long)(uint64_t)dst);
}

#endif /* GUEST_EDU_H */
