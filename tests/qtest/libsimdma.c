/*
 * libsimdma: driving the simulated "dma" device behind vfio-pci from a
 * qtest.  See libsimdma.h.
 */
#include <string.h>
#include <glib.h>

#include "libsimdma.h"

#define PCI_COMMAND             0x04
#define PCI_BAR0                0x10
#define PCI_BAR2                0x18
#define MSI_CAP_ID              0x05
#define MSIX_CAP_ID             0x11

void simdma_init(SimDma *d, QTestState *s, int bus, int devfn)
{
    d->s = s;
    d->bus = bus;
    d->devfn = devfn;
    g_assert_cmphex(qpci_config_readw(s, bus, devfn, 0), ==,
                    SIM_DMA_VENDOR_ID);
    d->bar0 = qpci_config_readl(s, bus, devfn, PCI_BAR0) & ~0xfu;
    d->bar2 = qpci_config_readl(s, bus, devfn, PCI_BAR2) & ~0xfu;
    g_assert_cmphex(d->bar0, !=, 0);
    g_assert_cmphex(d->bar2, !=, 0);
    qpci_config_writew(s, bus, devfn, PCI_COMMAND,
                       SIM_DMA_CMD_MEM | SIM_DMA_CMD_BME);
    g_assert_cmphex(simdma_readl(d, SIM_DMA_REG_ID), ==, SIM_DMA_ID_VALUE);
}

uint32_t simdma_readl(SimDma *d, unsigned off)
{
    return qtest_readl(d->s, d->bar0 + off);
}

void simdma_writel(SimDma *d, unsigned off, uint32_t v)
{
    qtest_writel(d->s, d->bar0 + off, v);
}

uint64_t simdma_readq(SimDma *d, unsigned off)
{
    return simdma_readl(d, off) | (uint64_t)simdma_readl(d, off + 4) << 32;
}

static void simdma_writeq(SimDma *d, unsigned off, uint64_t v)
{
    simdma_writel(d, off, v);
    simdma_writel(d, off + 4, v >> 32);
}

void simdma_msix_on(SimDma *d, unsigned n, uint64_t addr, uint32_t data)
{
    uint8_t cap = qpci_find_capability(d->s, d->bus, d->devfn, MSIX_CAP_ID);

    g_assert_cmpuint(cap, ==, SIM_DMA_CFG_MSIX);
    g_assert_cmpuint(n, <=, SIM_DMA_MSIX_VECTORS);
    for (unsigned v = 0; v < n; v++) {
        uint64_t e = d->bar2 + SIM_DMA_MSIX_TABLE +
                     SIM_DMA_MSIX_ENTRY_SIZE * v;

        qtest_writel(d->s, e + 0, addr);
        qtest_writel(d->s, e + 4, addr >> 32);
        qtest_writel(d->s, e + 8, data + v);
        qtest_writel(d->s, e + 12, 0);
    }
    qpci_config_writew(d->s, d->bus, d->devfn, cap + 2,
                       SIM_DMA_MSIX_CTRL_ENABLE);
    qtest_msi_clear(d->s);
}

void simdma_msi_on(SimDma *d, uint64_t addr, uint16_t data, unsigned mme)
{
    uint8_t cap = qpci_find_capability(d->s, d->bus, d->devfn, MSI_CAP_ID);

    g_assert_cmpuint(cap, ==, SIM_DMA_CFG_MSI);
    g_assert_cmpuint(mme, <=, SIM_DMA_MSI_MMC);
    qpci_config_writel(d->s, d->bus, d->devfn, cap + SIM_DMA_MSI_ADDR_LO,
                       addr);
    qpci_config_writel(d->s, d->bus, d->devfn, cap + SIM_DMA_MSI_ADDR_HI,
                       addr >> 32);
    qpci_config_writew(d->s, d->bus, d->devfn, cap + SIM_DMA_MSI_DATA, data);
    qpci_config_writel(d->s, d->bus, d->devfn, cap + SIM_DMA_MSI_MASK, 0);
    qpci_config_writew(d->s, d->bus, d->devfn, cap + SIM_DMA_MSI_CTRL,
                       SIM_DMA_MSI_CTRL_ENABLE |
                       mme << SIM_DMA_MSI_CTRL_MME_SHIFT);
    qtest_msi_clear(d->s);
}

void simdma_irq_vectors(SimDma *d, unsigned done, unsigned err)
{
    g_assert_cmpuint(done, <=, SIM_DMA_IRQ_DONE_VEC_MASK);
    g_assert_cmpuint(err, <=, SIM_DMA_IRQ_ERR_VEC_MASK >>
                              SIM_DMA_IRQ_ERR_VEC_SHIFT);
    simdma_writel(d, SIM_DMA_REG_IRQ,
                  SIM_DMA_IRQ_DONE_EN | SIM_DMA_IRQ_ERR_EN |
                  err << SIM_DMA_IRQ_ERR_VEC_SHIFT | done);
}

uint32_t simdma_run(SimDma *d, unsigned op, uint64_t src, uint64_t dst,
                    uint32_t len)
{
    simdma_writel(d, SIM_DMA_REG_STATUS,
                  SIM_DMA_STATUS_DONE | SIM_DMA_STATUS_ERROR);
    simdma_writeq(d, SIM_DMA_REG_SRC, src);
    simdma_writeq(d, SIM_DMA_REG_DST, dst);
    simdma_writel(d, SIM_DMA_REG_LEN, len);
    simdma_writel(d, SIM_DMA_REG_CMD,
                  SIM_DMA_CMD_START | (op & SIM_DMA_CMD_OP_MASK));
    return simdma_readl(d, SIM_DMA_REG_STATUS);
}

uint32_t simdma_copy(SimDma *d, uint64_t src, uint64_t dst, uint32_t len)
{
    return simdma_run(d, SIM_DMA_OP_COPY, src, dst, len);
}

uint32_t simdma_read_iova(SimDma *d, uint64_t iova, uint32_t len)
{
    return simdma_run(d, SIM_DMA_OP_TO_BUFFER, iova, 0, len);
}

uint32_t simdma_write_iova(SimDma *d, uint64_t iova, uint32_t len)
{
    return simdma_run(d, SIM_DMA_OP_FROM_BUFFER, 0, iova, len);
}

void simdma_set_pasid(SimDma *d, uint32_t pasid, bool enable)
{
    simdma_writel(d, SIM_DMA_REG_PASID,
                  (pasid & SIM_DMA_PASID_VALUE_MASK) |
                  (enable ? SIM_DMA_PASID_EN : 0));
}

unsigned simdma_status_error(uint32_t status)
{
    return (status & SIM_DMA_STATUS_ERR_MASK) >> SIM_DMA_STATUS_ERR_SHIFT;
}

unsigned simdma_status_fault(uint32_t status)
{
    return (status & SIM_DMA_STATUS_FAULT_MASK) >> SIM_DMA_STATUS_FAULT_SHIFT;
}

uint32_t simdma_status_result(uint32_t status)
{
    return status & (SIM_DMA_STATUS_DONE | SIM_DMA_STATUS_ERROR |
                     SIM_DMA_STATUS_ERR_MASK);
}

uint64_t simdma_fault_iova(SimDma *d)
{
    return simdma_readq(d, SIM_DMA_REG_FAULT_IOVA);
}

bool simdma_copy_lands(SimDma *d, uint64_t src, uint64_t gpa_src,
                       uint64_t dst, uint64_t gpa_dst, uint32_t len,
                       uint8_t seed)
{
    uint8_t pat[4096], got[4096];
    uint32_t st;

    g_assert_cmpuint(len, >, 0);
    g_assert_cmpuint(len, <=, sizeof(pat));
    for (uint32_t i = 0; i < len; i++) {
        pat[i] = seed + 7 * i;
    }
    qtest_memwrite(d->s, gpa_src, pat, len);
    qtest_memset(d->s, gpa_dst, 0, len);
    st = simdma_copy(d, src, dst, len);
    qtest_memread(d->s, gpa_dst, got, len);
    return st == SIM_DMA_STATUS_DONE && !memcmp(pat, got, len);
}
