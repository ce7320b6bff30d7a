/*
 * The simulated host's PCI device model "dma": a conventional PCI function
 * with a register BAR driving a DMA engine, an internal 4 KiB buffer,
 * MSI-X and MSI.  Register map: sim-pci-model-regs.h.
 *
 * This file is the device as the host's bus sees it (raw accesses); what
 * vfio-pci filters or virtualises for its user is in sim-device.c.  INTx
 * (pin A) is a level the model drives into sim_vfio_intx_line() whenever
 * it may change.  The
 * engine runs synchronously inside the register write that starts it; its
 * requests go through the physical IOMMU (sim_iommu_dma), tagged with the
 * programmed PASID, and only while Bus Master Enable is set.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "sim-internal.h"
#include "sim-pci-model-regs.h"

#define MSIX_TABLE_BYTES    (SIM_DMA_MSIX_VECTORS * SIM_DMA_MSIX_ENTRY_SIZE)
#define CFG_COMMAND         0x04
#define CFG_STATUS          0x06
#define CFG_BAR0            0x10
#define CFG_MSIX_CTRL       (SIM_DMA_CFG_MSIX + 2)
#define CFG_MSI(reg)        (SIM_DMA_CFG_MSI + SIM_DMA_MSI_##reg)

/*
 * One device's model state (dev->model), from sim_model_init to
 * sim_model_fini.  BAR2 (MSI-X table and PBA) is a shared anonymous page:
 * sim_model_mmap hands out more mappings of the same memory, so the table
 * may change behind our back; vector state is therefore always read from
 * the page, never cached.
 */
typedef struct SimDmaModel {
    SimDevice *dev;
    uint8_t cfg[SIM_DMA_CFG_SIZE];
    uint8_t cfg_wmask[SIM_DMA_CFG_SIZE];    /* bits a write may change */
    uint8_t cfg_w1c[SIM_DMA_CFG_SIZE];      /* bits a written 1 clears */
    uint8_t *msix;                          /* BAR2, SIM_DMA_MSIX_BAR_SIZE */

    /* engine registers (SIM_DMA_REG_*) */
    uint64_t src, dst, fault_iova, xfer;
    uint32_t len, pasid, irq, status, done_count, err_count, scratch;
    uint8_t buffer[SIM_DMA_BUF_SIZE];

    /*
     * INTx: the STATUS bits (DONE, ERROR) whose interrupt went out as INTx
     * (neither MSI nor MSI-X enabled when raised).  The interrupt is
     * pending while one of them is still set in STATUS and neither MSI
     * nor MSI-X is enabled; the pin is asserted while it is pending and
     * COMMAND.INTX_DISABLE is clear.  intx_level: the pin as last driven.
     */
    uint32_t intx_causes;
    bool intx_level;
} SimDmaModel;

static SimDmaModel *model_of(SimDevice *dev)
{
    return dev->model;
}

static uint64_t get_le(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static void put_le(uint8_t *p, unsigned size, uint64_t v)
{
    for (unsigned i = 0; i < size; i++) {
        p[i] = v >> (8 * i);
    }
}

/* ---- MSI-X (PCI Local Bus 3.0, 6.8.2) ----------------------------------- */

static bool bus_master(const SimDmaModel *m)
{
    return get_le(&m->cfg[CFG_COMMAND], 2) & SIM_DMA_CMD_BME;
}

static uint16_t msix_ctrl(const SimDmaModel *m)
{
    return get_le(&m->cfg[CFG_MSIX_CTRL], 2);
}

static uint8_t *msix_entry(SimDmaModel *m, unsigned v)
{
    return m->msix + SIM_DMA_MSIX_TABLE + v * SIM_DMA_MSIX_ENTRY_SIZE;
}

static bool msix_vector_masked(SimDmaModel *m, unsigned v)
{
    return get_le(msix_entry(m, v) + 12, 4) & SIM_DMA_MSIX_ENTRY_MASKED;
}

static bool msix_pending(SimDmaModel *m, unsigned v)
{
    return m->msix[SIM_DMA_MSIX_PBA + v / 8] & (1u << (v % 8));
}

static void msix_set_pending(SimDmaModel *m, unsigned v, bool on)
{
    uint8_t *p = &m->msix[SIM_DMA_MSIX_PBA + v / 8];

    *p = on ? (*p | (1u << (v % 8))) : (*p & ~(1u << (v % 8)));
}

/* Messages are memory writes: they need MSI-X enabled and bus mastering. */
static bool msix_can_send(const SimDmaModel *m)
{
    return (msix_ctrl(m) & SIM_DMA_MSIX_CTRL_ENABLE) && bus_master(m);
}

static void msix_send(SimDmaModel *m, unsigned v)
{
    const uint8_t *e = msix_entry(m, v);

    sim_vfio_msi_deliver(m->dev, get_le(e, 8), get_le(e + 8, 4));
}

/* Signal vector @v: sent now, or left pending while masked. */
static void msix_raise(SimDmaModel *m, unsigned v)
{
    if (v >= SIM_DMA_MSIX_VECTORS || !msix_can_send(m)) {
        return;
    }
    if ((msix_ctrl(m) & SIM_DMA_MSIX_CTRL_MASKALL) ||
        msix_vector_masked(m, v)) {
        msix_set_pending(m, v, true);
        return;
    }
    msix_send(m, v);
}

/* A pending vector that is no longer masked sends its message. */
static void msix_poll(SimDmaModel *m)
{
    if (!msix_can_send(m) || (msix_ctrl(m) & SIM_DMA_MSIX_CTRL_MASKALL)) {
        return;
    }
    for (unsigned v = 0; v < SIM_DMA_MSIX_VECTORS; v++) {
        if (msix_pending(m, v) && !msix_vector_masked(m, v)) {
            msix_set_pending(m, v, false);
            msix_send(m, v);
        }
    }
}

void sim_model_msix_poll(SimDevice *dev)
{
    msix_poll(model_of(dev));
}

/* Writable bits of byte @off of BAR2: table fields; the PBA is read-only. */
static uint8_t msix_wmask(uint64_t off)
{
    if (off >= SIM_DMA_MSIX_TABLE + MSIX_TABLE_BYTES) {
        return 0;
    }
    switch (off % SIM_DMA_MSIX_ENTRY_SIZE) {
    case 0:
        return 0xfc;            /* message address is dword aligned */
    case 1 ... 11:
        return 0xff;
    case 12:
        return SIM_DMA_MSIX_ENTRY_MASKED;
    default:
        return 0;
    }
}

/* ---- MSI (PCI Local Bus 3.0, 6.8.1) ------------------------------------- */

static uint16_t msi_ctrl(const SimDmaModel *m)
{
    return get_le(&m->cfg[CFG_MSI(CTRL)], 2);
}

/* Vectors the driver enabled (Multiple Message Enable, at most MMC). */
static unsigned msi_enabled_vectors(const SimDmaModel *m)
{
    return 1u << ((msi_ctrl(m) & SIM_DMA_MSI_CTRL_MME_MASK) >>
                  SIM_DMA_MSI_CTRL_MME_SHIFT);
}

static bool msi_can_send(const SimDmaModel *m)
{
    return (msi_ctrl(m) & SIM_DMA_MSI_CTRL_ENABLE) && bus_master(m);
}

static uint32_t msi_bits(const SimDmaModel *m, unsigned reg)
{
    return get_le(&m->cfg[SIM_DMA_CFG_MSI + reg], 4);
}

static void msi_set_pending(SimDmaModel *m, unsigned v, bool on)
{
    uint32_t p = msi_bits(m, SIM_DMA_MSI_PENDING);

    p = on ? p | (1u << v) : p & ~(1u << v);
    put_le(&m->cfg[CFG_MSI(PENDING)], 4, p);
}

/* Multiple messages: the low log2(n) bits of the data name the vector. */
static void msi_send(SimDmaModel *m, unsigned v)
{
    unsigned n = msi_enabled_vectors(m);
    uint32_t data = get_le(&m->cfg[CFG_MSI(DATA)], 2);

    sim_vfio_msi_deliver(m->dev, get_le(&m->cfg[CFG_MSI(ADDR_LO)], 8),
                         (data & ~(n - 1)) | v);
}

/* Signal vector @v: sent now, or pending while masked. */
static void msi_raise(SimDmaModel *m, unsigned v)
{
    if (v >= msi_enabled_vectors(m) || !msi_can_send(m)) {
        return;
    }
    if (msi_bits(m, SIM_DMA_MSI_MASK) & (1u << v)) {
        msi_set_pending(m, v, true);
        return;
    }
    msi_send(m, v);
}

/* A pending vector that is no longer masked sends its message. */
static void msi_poll(SimDmaModel *m)
{
    uint32_t ready;

    if (!msi_can_send(m)) {
        return;
    }
    ready = msi_bits(m, SIM_DMA_MSI_PENDING) & ~msi_bits(m, SIM_DMA_MSI_MASK);
    for (unsigned v = 0; v < msi_enabled_vectors(m); v++) {
        if (ready & (1u << v)) {
            msi_set_pending(m, v, false);
            msi_send(m, v);
        }
    }
}

/* ---- INTx (PCI Local Bus 3.0, 2.2.6, 6.2.2-6.2.3) ----------------------- */

/* A function with MSI or MSI-X enabled must not use its pin (6.8). */
static bool intx_allowed(const SimDmaModel *m)
{
    return !(msix_ctrl(m) & SIM_DMA_MSIX_CTRL_ENABLE) &&
           !(msi_ctrl(m) & SIM_DMA_MSI_CTRL_ENABLE);
}

/*
 * Recompute STATUS.INTX and the pin after anything that may change them:
 * STATUS (an operation, its acknowledgement), COMMAND, MSI or MSI-X
 * enable, reset.  The level is recorded before the host hears of it, so
 * that a nested update (the host touching the device from its handler)
 * sees its own change.
 */
static void intx_update(SimDmaModel *m)
{
    uint16_t st = get_le(&m->cfg[CFG_STATUS], 2) & ~SIM_DMA_CFG_STATUS_INTX;
    bool pending, level;

    m->intx_causes &= m->status;
    pending = m->intx_causes && intx_allowed(m);
    put_le(&m->cfg[CFG_STATUS], 2,
           pending ? st | SIM_DMA_CFG_STATUS_INTX : st);
    level = pending && !(get_le(&m->cfg[CFG_COMMAND], 2) &
                         SIM_DMA_CMD_INTX_DISABLE);
    if (level != m->intx_level) {
        m->intx_level = level;
        sim_vfio_intx_line(m->dev, level);
    }
}

/*
 * The engine's interrupt for STATUS bit @cause: MSI-X while it is
 * enabled, else MSI while it is enabled, else INTx.
 */
static void irq_raise(SimDmaModel *m, uint32_t cause, unsigned v)
{
    if (msix_ctrl(m) & SIM_DMA_MSIX_CTRL_ENABLE) {
        msix_raise(m, v);
    } else if (msi_ctrl(m) & SIM_DMA_MSI_CTRL_ENABLE) {
        msi_raise(m, v);
    } else {
        m->intx_causes |= cause;
        intx_update(m);
    }
}

/* ---- configuration space ------------------------------------------------ */

/* Host physical BAR addresses, unique per BDF (never used for decoding). */
static uint32_t bar_base(const SimDevice *dev)
{
    unsigned dom, bus = 0, slot = 0, fn = 0;

    sscanf(dev->desc.bdf, "%x:%x:%x.%x", &dom, &bus, &slot, &fn);
    return 0x80000000u + ((((bus & 0xff) << 8) | ((slot & 0x1f) << 3) |
                           (fn & 7)) << 14);
}

static void cfg_init(SimDmaModel *m)
{
    const SimDevice *dev = m->dev;
    uint8_t *c = m->cfg, *w = m->cfg_wmask;
    uint32_t base = bar_base(dev);

    put_le(c + 0x00, 2, dev->desc.vendor_id ? dev->desc.vendor_id
                                            : SIM_DMA_VENDOR_ID);
    put_le(c + 0x02, 2, dev->desc.device_id ? dev->desc.device_id
                                            : SIM_DMA_DEVICE_ID);
    put_le(c + CFG_STATUS, 2, 0x0010);              /* capability list */
    c[0x08] = SIM_DMA_REVISION;
    c[0x0a] = SIM_DMA_CLASS & 0xff;
    c[0x0b] = SIM_DMA_CLASS >> 8;
    put_le(c + CFG_BAR0, 4, base);                  /* 32-bit, non-prefetch */
    put_le(c + CFG_BAR0 + 4 * SIM_DMA_BAR_MSIX, 4, base + 0x2000);
    put_le(c + 0x2c, 2, SIM_DMA_SUBSYS_VENDOR_ID);
    put_le(c + 0x2e, 2, SIM_DMA_SUBSYS_ID);
    c[0x34] = SIM_DMA_CFG_MSIX;
    c[SIM_DMA_CFG_INT_PIN] = 1;                     /* INTA */
    c[SIM_DMA_CFG_MSIX] = 0x11;                     /* MSI-X, then MSI */
    c[SIM_DMA_CFG_MSIX + 1] = SIM_DMA_CFG_MSI;
    put_le(c + CFG_MSIX_CTRL, 2, SIM_DMA_MSIX_VECTORS - 1);
    put_le(c + SIM_DMA_CFG_MSIX + 4, 4, SIM_DMA_MSIX_TABLE | SIM_DMA_BAR_MSIX);
    put_le(c + SIM_DMA_CFG_MSIX + 8, 4, SIM_DMA_MSIX_PBA | SIM_DMA_BAR_MSIX);
    c[SIM_DMA_CFG_MSI] = 0x05;                      /* MSI, last in list */
    put_le(c + CFG_MSI(CTRL), 2,
           (SIM_DMA_MSI_MMC << SIM_DMA_MSI_CTRL_MMC_SHIFT) |
           SIM_DMA_MSI_CTRL_64BIT | SIM_DMA_MSI_CTRL_MASKBIT);

    put_le(w + CFG_COMMAND, 2, SIM_DMA_CMD_MEM | SIM_DMA_CMD_BME |
                               SIM_DMA_CMD_SERR | SIM_DMA_CMD_INTX_DISABLE);
    put_le(m->cfg_w1c + CFG_STATUS, 2, 0xf900);     /* error bits */
    put_le(w + CFG_BAR0, 4, ~(uint32_t)(SIM_DMA_REGS_SIZE - 1));
    put_le(w + CFG_BAR0 + 4 * SIM_DMA_BAR_MSIX, 4,
           ~(uint32_t)(SIM_DMA_MSIX_BAR_SIZE - 1));
    w[0x3c] = 0xff;                                 /* interrupt line */
    put_le(w + CFG_MSIX_CTRL, 2, SIM_DMA_MSIX_CTRL_ENABLE |
                                 SIM_DMA_MSIX_CTRL_MASKALL);
    put_le(w + CFG_MSI(CTRL), 2, SIM_DMA_MSI_CTRL_ENABLE |
                                 SIM_DMA_MSI_CTRL_MME_MASK);
    put_le(w + CFG_MSI(ADDR_LO), 4, 0xfffffffcu);
    put_le(w + CFG_MSI(ADDR_HI), 4, 0xffffffffu);
    put_le(w + CFG_MSI(DATA), 2, 0xffff);
    put_le(w + CFG_MSI(MASK), 4, (1u << SIM_DMA_MSI_VECTORS) - 1);
}

static void cfg_write(SimDmaModel *m, uint64_t off, unsigned size,
                      uint64_t val)
{
    for (unsigned i = 0; i < size; i++) {
        unsigned o = off + i;
        uint8_t b = val >> (8 * i);

        m->cfg[o] = (m->cfg[o] & ~m->cfg_wmask[o]) | (b & m->cfg_wmask[o]);
        m->cfg[o] &= ~(b & m->cfg_w1c[o]);
    }
    /* MME above MMC: the function grants what it has */
    if (((msi_ctrl(m) & SIM_DMA_MSI_CTRL_MME_MASK) >>
         SIM_DMA_MSI_CTRL_MME_SHIFT) > SIM_DMA_MSI_MMC) {
        put_le(&m->cfg[CFG_MSI(CTRL)], 2,
               (msi_ctrl(m) & ~SIM_DMA_MSI_CTRL_MME_MASK) |
               (SIM_DMA_MSI_MMC << SIM_DMA_MSI_CTRL_MME_SHIFT));
    }
    /* enabling, unmasking or bus mastering may release pending messages */
    msix_poll(m);
    msi_poll(m);
    intx_update(m);
}

/* ---- the DMA engine ----------------------------------------------------- */

static uint64_t page_left(uint64_t addr)
{
    return SIM_PAGE_SIZE - (addr & (SIM_PAGE_SIZE - 1));
}

/* Is [off, off+len) inside the internal buffer? */
static bool buffer_range_ok(uint64_t off, uint64_t len)
{
    return off <= SIM_DMA_BUF_SIZE && len <= SIM_DMA_BUF_SIZE - off;
}

/* Validate the programmed operation; the PASID to tag with in *pasid. */
static unsigned engine_check(SimDmaModel *m, unsigned op, uint32_t *pasid)
{
    uint32_t p = m->pasid & SIM_DMA_PASID_VALUE_MASK;
    unsigned width = m->dev->pasid_bits;

    if (op > SIM_DMA_OP_FROM_BUFFER) {
        return SIM_DMA_ERR_BAD_OP;
    }
    if (!m->len || m->len > SIM_DMA_MAX_LEN) {
        return SIM_DMA_ERR_BAD_LEN;
    }
    if ((op == SIM_DMA_OP_TO_BUFFER && !buffer_range_ok(m->dst, m->len)) ||
        (op == SIM_DMA_OP_FROM_BUFFER && !buffer_range_ok(m->src, m->len)) ||
        (op != SIM_DMA_OP_FROM_BUFFER && m->src + m->len - 1 < m->src) ||
        (op != SIM_DMA_OP_TO_BUFFER && m->dst + m->len - 1 < m->dst)) {
        return SIM_DMA_ERR_RANGE;
    }
    *pasid = SIM_NO_PASID;
    if (m->pasid & SIM_DMA_PASID_EN) {
        if (!width || !p || p >= (1u << width)) {
            return SIM_DMA_ERR_BAD_PASID;
        }
        *pasid = p;
    }
    return bus_master(m) ? SIM_DMA_ERR_NONE : SIM_DMA_ERR_NO_BME;
}

/*
 * Move LEN bytes page by page (a request never crosses a 4 KiB boundary
 * of the IOVA side), counting XFER.  A refused request stops the engine
 * with FAULT_IOVA set; nothing after it is issued.
 */
static unsigned engine_move(SimDmaModel *m, unsigned op, uint32_t pasid)
{
    uint8_t bounce[SIM_PAGE_SIZE];
    bool src_iova = op != SIM_DMA_OP_FROM_BUFFER;
    bool dst_iova = op != SIM_DMA_OP_TO_BUFFER;

    while (m->xfer < m->len) {
        uint64_t s = m->src + m->xfer, d = m->dst + m->xfer;
        uint64_t n = m->len - m->xfer;
        uint8_t *p = bounce;

        if (src_iova) {
            n = MIN(n, page_left(s));
        }
        if (dst_iova) {
            n = MIN(n, page_left(d));
        }
        if (op == SIM_DMA_OP_TO_BUFFER) {
            p = m->buffer + d;
        } else if (op == SIM_DMA_OP_FROM_BUFFER) {
            p = m->buffer + s;
        }
        if (src_iova && sim_iommu_dma(m->dev, pasid, s, p, n, false)) {
            m->fault_iova = s;
            return SIM_DMA_ERR_FAULT;
        }
        if (dst_iova && sim_iommu_dma(m->dev, pasid, d, p, n, true)) {
            m->fault_iova = d;
            return SIM_DMA_ERR_FAULT;
        }
        m->xfer += n;
    }
    return SIM_DMA_ERR_NONE;
}

/* The reason of the newest fault record, if one was logged since @seq. */
static unsigned fault_reason_since(const SimHost *host, uint64_t seq)
{
    unsigned newest;

    if (host->fault_seq == seq || !host->fault_count) {
        return 0;
    }
    newest = (host->fault_head + host->fault_count - 1) % SIM_FAULT_LOG_SIZE;
    return host->faults[newest].reason & 0xff;
}

static void engine_start(SimDmaModel *m, unsigned op)
{
    uint64_t seq = m->dev->host->fault_seq;
    uint32_t pasid = SIM_NO_PASID;
    unsigned err, reason = 0;

    m->status = 0;
    m->xfer = 0;
    m->fault_iova = 0;
    intx_update(m);             /* a new operation clears the old causes */
    err = engine_check(m, op, &pasid);
    if (err == SIM_DMA_ERR_NONE) {
        err = engine_move(m, op, pasid);
    }
    if (err == SIM_DMA_ERR_FAULT) {
        reason = fault_reason_since(m->dev->host, seq);
    }
    if (err != SIM_DMA_ERR_NONE) {
        m->status = SIM_DMA_STATUS_ERROR | (err << SIM_DMA_STATUS_ERR_SHIFT) |
                    (reason << SIM_DMA_STATUS_FAULT_SHIFT);
        m->err_count++;
        if (m->irq & SIM_DMA_IRQ_ERR_EN) {
            irq_raise(m, SIM_DMA_STATUS_ERROR,
                      (m->irq & SIM_DMA_IRQ_ERR_VEC_MASK) >>
                      SIM_DMA_IRQ_ERR_VEC_SHIFT);
        }
        return;
    }
    m->status = SIM_DMA_STATUS_DONE;
    m->done_count++;
    if (m->irq & SIM_DMA_IRQ_DONE_EN) {
        irq_raise(m, SIM_DMA_STATUS_DONE,
                  m->irq & SIM_DMA_IRQ_DONE_VEC_MASK);
    }
}

/* ---- BAR0 registers ----------------------------------------------------- */

static uint32_t reg_read32(SimDmaModel *m, uint64_t off)
{
    unsigned width = m->dev->pasid_bits;

    switch (off) {
    case SIM_DMA_REG_ID:            return SIM_DMA_ID_VALUE;
    case SIM_DMA_REG_VERSION:       return SIM_DMA_VERSION_VALUE;
    case SIM_DMA_REG_CAPS:
        return width ? SIM_DMA_CAPS_PASID |
                       (width << SIM_DMA_CAPS_PASID_BITS_SHIFT) : 0;
    case SIM_DMA_REG_BUF_SIZE:      return SIM_DMA_BUF_SIZE;
    case SIM_DMA_REG_SRC:           return m->src;
    case SIM_DMA_REG_SRC + 4:       return m->src >> 32;
    case SIM_DMA_REG_DST:           return m->dst;
    case SIM_DMA_REG_DST + 4:       return m->dst >> 32;
    case SIM_DMA_REG_LEN:           return m->len;
    case SIM_DMA_REG_PASID:         return m->pasid;
    case SIM_DMA_REG_IRQ:           return m->irq;
    case SIM_DMA_REG_STATUS:        return m->status;
    case SIM_DMA_REG_FAULT_IOVA:    return m->fault_iova;
    case SIM_DMA_REG_FAULT_IOVA + 4: return m->fault_iova >> 32;
    case SIM_DMA_REG_XFER:          return m->xfer;
    case SIM_DMA_REG_XFER + 4:      return m->xfer >> 32;
    case SIM_DMA_REG_DONE_COUNT:    return m->done_count;
    case SIM_DMA_REG_ERR_COUNT:     return m->err_count;
    case SIM_DMA_REG_SCRATCH:       return m->scratch;
    default:                        return 0;     /* CMD and holes */
    }
}

static void merge32(uint32_t *reg, uint32_t val, uint32_t mask)
{
    *reg = (*reg & ~mask) | (val & mask);
}

static void merge64(uint64_t *reg, bool high, uint32_t val, uint32_t mask)
{
    unsigned shift = high ? 32 : 0;

    *reg = (*reg & ~((uint64_t)mask << shift)) |
           ((uint64_t)(val & mask) << shift);
}

/* Write the bytes of the dword at @off selected by @mask. */
static void reg_write32(SimDmaModel *m, uint64_t off, uint32_t val,
                        uint32_t mask)
{
    uint32_t w1c;

    switch (off) {
    case SIM_DMA_REG_SRC:
    case SIM_DMA_REG_SRC + 4:
        merge64(&m->src, off & 4, val, mask);
        break;
    case SIM_DMA_REG_DST:
    case SIM_DMA_REG_DST + 4:
        merge64(&m->dst, off & 4, val, mask);
        break;
    case SIM_DMA_REG_LEN:
        merge32(&m->len, val, mask);
        break;
    case SIM_DMA_REG_PASID:
        merge32(&m->pasid, val,
                mask & (SIM_DMA_PASID_EN | SIM_DMA_PASID_VALUE_MASK));
        break;
    case SIM_DMA_REG_IRQ:
        merge32(&m->irq, val, mask & (SIM_DMA_IRQ_DONE_VEC_MASK |
                                      SIM_DMA_IRQ_ERR_VEC_MASK |
                                      SIM_DMA_IRQ_DONE_EN |
                                      SIM_DMA_IRQ_ERR_EN));
        break;
    case SIM_DMA_REG_CMD:
        if (val & mask & SIM_DMA_CMD_START) {
            engine_start(m, val & mask & SIM_DMA_CMD_OP_MASK);
        }
        break;
    case SIM_DMA_REG_STATUS:
        w1c = val & mask & (SIM_DMA_STATUS_DONE | SIM_DMA_STATUS_ERROR);
        m->status &= ~w1c;
        if (w1c & SIM_DMA_STATUS_ERROR) {
            m->status &= ~(SIM_DMA_STATUS_ERR_MASK |
                           SIM_DMA_STATUS_FAULT_MASK);
        }
        intx_update(m);         /* the acknowledgement */
        break;
    case SIM_DMA_REG_SCRATCH:
        merge32(&m->scratch, val, mask);
        break;
    default:
        break;                  /* read-only registers and holes */
    }
}

static uint64_t regs_read(SimDmaModel *m, uint64_t off, unsigned size)
{
    unsigned shift = (off & 3) * 8;

    if (size == 8) {
        return reg_read32(m, off) | (uint64_t)reg_read32(m, off + 4) << 32;
    }
    return (reg_read32(m, off & ~3ull) >> shift) &
           (size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1);
}

static void regs_write(SimDmaModel *m, uint64_t off, unsigned size,
                       uint64_t val)
{
    unsigned shift = (off & 3) * 8;
    uint32_t mask = size >= 4 ? 0xffffffffu : ((1u << (size * 8)) - 1);

    if (size == 8) {
        reg_write32(m, off, val, mask);         /* low half first */
        reg_write32(m, off + 4, val >> 32, mask);
        return;
    }
    reg_write32(m, off & ~3ull, (uint32_t)val << shift, mask << shift);
}

/* ---- raw access --------------------------------------------------------- */

int sim_model_region(SimDevice *dev, unsigned index, uint64_t *size,
                     uint32_t *flags)
{
    if (index >= VFIO_PCI_NUM_REGIONS) {
        return -EINVAL;
    }
    *size = 0;
    *flags = 0;
    switch (index) {
    case SIM_DMA_BAR_REGS:
        *size = SIM_DMA_REGS_SIZE;
        *flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
        break;
    case SIM_DMA_BAR_MSIX:
        *size = SIM_DMA_MSIX_BAR_SIZE;
        *flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
                 VFIO_REGION_INFO_FLAG_MMAP;
        break;
    case VFIO_PCI_CONFIG_REGION_INDEX:
        *size = SIM_DMA_CFG_SIZE;
        *flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
        break;
    }
    return 0;
}

/* A naturally aligned access of 1, 2, 4 or 8 bytes inside the region. */
static int access_check(SimDevice *dev, unsigned region, uint64_t off,
                        unsigned size)
{
    uint64_t rsize;
    uint32_t flags;

    if (sim_model_region(dev, region, &rsize, &flags) || !rsize ||
        (size != 1 && size != 2 && size != 4 && size != 8) ||
        off % size || off >= rsize || size > rsize - off) {
        return -EINVAL;
    }
    return 0;
}

int sim_model_read(SimDevice *dev, unsigned region, uint64_t off,
                   unsigned size, uint64_t *val)
{
    SimDmaModel *m = model_of(dev);
    int r = access_check(dev, region, off, size);

    if (r) {
        return r;
    }
    switch (region) {
    case SIM_DMA_BAR_REGS:
        *val = regs_read(m, off, size);
        break;
    case SIM_DMA_BAR_MSIX:
        *val = get_le(m->msix + off, size);
        break;
    default:
        *val = get_le(m->cfg + off, size);
        break;
    }
    return 0;
}

int sim_model_write(SimDevice *dev, unsigned region, uint64_t off,
                    unsigned size, uint64_t val)
{
    SimDmaModel *m = model_of(dev);
    int r = access_check(dev, region, off, size);

    if (r) {
        return r;
    }
    switch (region) {
    case SIM_DMA_BAR_REGS:
        regs_write(m, off, size, val);
        break;
    case SIM_DMA_BAR_MSIX:
        for (unsigned i = 0; i < size; i++) {
            uint8_t wm = msix_wmask(off + i), b = val >> (8 * i);

            m->msix[off + i] = (m->msix[off + i] & ~wm) | (b & wm);
        }
        msix_poll(m);
        break;
    default:
        cfg_write(m, off, size, val);
        break;
    }
    return 0;
}

int sim_model_mmap(SimDevice *dev, unsigned region, uint64_t off,
                   size_t len, int prot, void **out)
{
    SimDmaModel *m = model_of(dev);
    uint64_t span = SIM_ALIGN_UP((uint64_t)len, SIM_PAGE_SIZE);
    void *p;

    if (region != SIM_DMA_BAR_MSIX || !len || (off & (SIM_PAGE_SIZE - 1)) ||
        off >= SIM_DMA_MSIX_BAR_SIZE || span > SIM_DMA_MSIX_BAR_SIZE - off) {
        return -EINVAL;
    }
    /* old size 0 on a shared mapping: a new mapping of the same pages */
    p = mremap(m->msix + off, 0, span, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) {
        return -errno;
    }
    if (prot != (PROT_READ | PROT_WRITE) && mprotect(p, span, prot)) {
        int r = -errno;

        munmap(p, span);
        return r;
    }
    *out = p;
    return 0;
}

void sim_model_reset(SimDevice *dev)
{
    SimDmaModel *m = model_of(dev);

    m->src = m->dst = m->fault_iova = m->xfer = 0;
    m->len = m->pasid = m->status = m->scratch = 0;
    m->done_count = m->err_count = 0;
    m->irq = SIM_DMA_IRQ_RESET;
    memset(m->buffer, 0, sizeof(m->buffer));
    memset(m->msix + SIM_DMA_MSIX_PBA, 0, (SIM_DMA_MSIX_VECTORS + 7) / 8);
    put_le(&m->cfg[CFG_MSI(PENDING)], 4, 0);
    m->intx_causes = 0;
    intx_update(m);             /* deasserts */
}

int sim_model_init(SimDevice *dev)
{
    SimDmaModel *m;
    void *page;

    if (strcmp(dev->desc.model, "dma")) {
        return -EINVAL;
    }
    page = mmap(NULL, SIM_DMA_MSIX_BAR_SIZE, PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        return -ENOMEM;
    }
    m = g_new0(SimDmaModel, 1);
    m->dev = dev;
    m->msix = page;
    cfg_init(m);
    for (unsigned v = 0; v < SIM_DMA_MSIX_VECTORS; v++) {
        put_le(msix_entry(m, v) + 12, 4, SIM_DMA_MSIX_ENTRY_MASKED);
    }
    dev->model = m;
    sim_model_reset(dev);
    return 0;
}

void sim_model_fini(SimDevice *dev)
{
    SimDmaModel *m = model_of(dev);

    if (!m) {
        return;
    }
    munmap(m->msix, SIM_DMA_MSIX_BAR_SIZE);
    g_free(m);
    dev->model = NULL;
}

/* ---- public API: driving the device from tests -------------------------- */

int sim_device_reg_read(SimDevice *dev, unsigned region, uint64_t offset,
                        unsigned size, uint64_t *val)
{
    int r;

    if (!dev || !val) {
        return -EINVAL;
    }
    g_mutex_lock(&dev->host->lock);
    r = sim_model_read(dev, region, offset, size, val);
    g_mutex_unlock(&dev->host->lock);
    return r;
}

int sim_device_reg_write(SimDevice *dev, unsigned region, uint64_t offset,
                         unsigned size, uint64_t val)
{
    int r;

    if (!dev) {
        return -EINVAL;
    }
    g_mutex_lock(&dev->host->lock);
    r = sim_model_write(dev, region, offset, size, val);
    g_mutex_unlock(&dev->host->lock);
    return r;
}

/* Program the engine through BAR0 as a driver would, then read STATUS. */
static uint32_t program_and_start(SimDmaModel *m, SimDmaOp op, uint32_t pasid,
                                  uint64_t src, uint64_t dst, uint64_t len)
{
    regs_write(m, SIM_DMA_REG_SRC, 8, src);
    regs_write(m, SIM_DMA_REG_DST, 8, dst);
    regs_write(m, SIM_DMA_REG_LEN, 4, len);
    regs_write(m, SIM_DMA_REG_PASID, 4,
               pasid == SIM_NO_PASID ? 0 : SIM_DMA_PASID_EN | pasid);
    regs_write(m, SIM_DMA_REG_CMD, 4, SIM_DMA_CMD_START | op);
    return m->status;
}

int sim_device_start_dma(SimDevice *dev, SimDmaOp op, uint32_t pasid,
                         uint64_t src, uint64_t dst, uint64_t len)
{
    uint32_t status;
    unsigned err;

    if (!dev || (unsigned)op > SIM_DMA_FROM_BUFFER || !len ||
        len > SIM_DMA_MAX_LEN || pasid > SIM_DMA_PASID_VALUE_MASK) {
        return -EINVAL;
    }
    g_mutex_lock(&dev->host->lock);
    status = program_and_start(model_of(dev), op, pasid, src, dst, len);
    g_mutex_unlock(&dev->host->lock);
    if (status & SIM_DMA_STATUS_DONE) {
        return 0;
    }
    err = (status & SIM_DMA_STATUS_ERR_MASK) >> SIM_DMA_STATUS_ERR_SHIFT;
    return err == SIM_DMA_ERR_FAULT ? -EFAULT :
           err == SIM_DMA_ERR_NO_BME ? -EIO : -EINVAL;
}

int sim_device_buffer_access(SimDevice *dev, uint64_t offset, void *buf,
                             size_t len, bool write)
{
    SimDmaModel *m;

    if (!dev || (!buf && len) || !buffer_range_ok(offset, len)) {
        return -EINVAL;
    }
    if (!len) {
        return 0;
    }
    g_mutex_lock(&dev->host->lock);
    m = model_of(dev);
    if (write) {
        memcpy(m->buffer + offset, buf, len);
    } else {
        memcpy(buf, m->buffer + offset, len);
    }
    g_mutex_unlock(&dev->host->lock);
    return 0;
}
