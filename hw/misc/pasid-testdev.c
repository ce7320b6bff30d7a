/*
 * pasid-testdev: a PCIe test endpoint that issues the DMA edu cannot --
 * PASID-tagged, of a chosen length and direction, started and completed
 * inside one register write -- so that vIOMMU tests can prove what lands
 * in guest memory.  docs/pasid-testdev.md is the user's description; the
 * register map is include/hw/misc/pasid-testdev-regs.h, shared with tests.
 *
 * DMA goes through the device's bus-master address space with the
 * device's requester id and, when asked, a PASID (MemTxAttrs.pasid), so a
 * vIOMMU's translate() sees both; with bus mastering off the PCI core
 * shows nothing there and the DMA fails.  The device checks what the PASID
 * capability's control register permits before issuing anything, as an
 * endpoint must (PCIe Base 4.0, 7.8.8.3): a request it may not send is
 * refused and never reaches the memory core.
 */
#include <inttypes.h>

#include "hw/misc/pasid-testdev-regs.h"
#include "hw/pci/msi.h"
#include "hw/pci/pcie_port.h"
#include "hw/qdev-properties.h"

#define TYPE_PASID_TESTDEV      "pasid-testdev"

/* PCI Express Capability: device/port types this device reports. */
#define PTD_EXP_TYPE_ENDPOINT   0x0     /* behind a port */
#define PTD_EXP_TYPE_RC_END     0x9     /* integrated, on a root bus */

#define PTD_REGS_SIZE           0x1000

typedef struct PasidTestdevState {
    PCIDevice pdev;
    MemoryRegion bar0;          /* container: regs, then buf_mmio */
    MemoryRegion regs;
    MemoryRegion buf_mmio;

    /* Registers (PTD_REG_*); all zero after reset. */
    uint64_t dma_addr;
    uint32_t dma_len;
    uint32_t dma_pasid;
    uint32_t dma_flags;
    uint32_t dma_status;
    uint8_t buf[PTD_BUF_SIZE];

    /*
     * Set from a start until its completion interrupt has been sent.  The
     * DMA or the MSI may land in this device's own BAR; a start written
     * meanwhile is ignored, which bounds the recursion.
     */
    bool in_dma;

    uint8_t pasid_width;        /* property, 1..PTD_PASID_WIDTH_MAX */
} PasidTestdevState;

DECLARE_INSTANCE_CHECKER(PasidTestdevState, PASID_TESTDEV, TYPE_PASID_TESTDEV)

#define ptd_log(s, fmt, ...)                                                 \
    log_guest_error("pasid-testdev %02x:%02x.%x: " fmt,                      \
                    pci_requester_id(&(s)->pdev) >> 8,                       \
                    PCI_SLOT(pci_requester_id(&(s)->pdev)),                  \
                    PCI_FUNC(pci_requester_id(&(s)->pdev)), ##__VA_ARGS__)

/* --- DMA ------------------------------------------------------------------ */

static uint16_t ptd_pasid_ctrl(PasidTestdevState *s)
{
    return pci_get_word(s->pdev.config + PTD_PASID_CAP_OFFSET +
                        PTD_PASID_CTRL);
}

/* Whether the request (a register snapshot) may be issued; logs why not. */
static bool ptd_dma_request_ok(PasidTestdevState *s, uint64_t addr,
                               uint32_t len, uint32_t pasid, uint32_t flags)
{
    uint16_t ctrl = ptd_pasid_ctrl(s);
    bool pasid_valid = pasid & PTD_DMA_PASID_VALID;

    if (len == 0 || len > PTD_DMA_LEN_MAX) {
        ptd_log(s, "DMA length %" PRIu32 " refused (1-%d)", len,
                PTD_DMA_LEN_MAX);
        return false;
    }
    if (addr + (len - 1) < addr) {
        ptd_log(s, "DMA 0x%016" PRIx64 "+0x%" PRIx32 " wraps, refused",
                addr, len);
        return false;
    }
    if (pasid_valid && !(ctrl & PTD_PASID_CTRL_ENABLE)) {
        ptd_log(s, "PASID DMA refused: PASID Enable is clear");
        return false;
    }
    if (pasid_valid && ((pasid & PTD_DMA_PASID_RSVD) ||
                        (pasid & PTD_DMA_PASID_MASK) >> s->pasid_width)) {
        ptd_log(s, "PASID 0x%" PRIx32 " refused: wider than %u bits",
                pasid & ~PTD_DMA_PASID_VALID, s->pasid_width);
        return false;
    }
    /* The privileged attribute travels in the PASID prefix only. */
    if ((flags & PTD_DMA_FLAG_PRIV) &&
        (!pasid_valid || !(ctrl & PTD_PASID_CTRL_PRIV))) {
        ptd_log(s, "privileged DMA refused: %s",
                pasid_valid ? "Privileged Mode Enable is clear" :
                              "no PASID");
        return false;
    }
    return true;
}

/*
 * Performs the transfer; returns the memory core's result.  Both
 * directions go through a bounce buffer: a failed read leaves the device
 * buffer as it was, and a DMA aimed at the device's own buffer window
 * never copies between overlapping bytes.
 */
static MemTxResult ptd_dma_transfer(PasidTestdevState *s, uint64_t addr,
                                    uint32_t len, uint32_t pasid,
                                    uint32_t flags)
{
    MemTxAttrs attrs = { .requester_id = pci_requester_id(&s->pdev) };
    AddressSpace *as = pci_get_address_space(&s->pdev);
    uint8_t bounce[PTD_BUF_SIZE];
    MemTxResult r;

    /* PTD_DMA_FLAG_PRIV: MemTxAttrs carries no privileged attribute. */
    if (pasid & PTD_DMA_PASID_VALID) {
        attrs.pasid_valid = 1;
        attrs.pasid = pasid & PTD_DMA_PASID_MASK;
    }
    if (flags & PTD_DMA_FLAG_TO_MEM) {
        memcpy(bounce, s->buf, len);
        r = address_space_rw(as, addr, attrs, bounce, len, true);
    } else {
        r = address_space_rw(as, addr, attrs, bounce, len, false);
        if (r == MEMTX_OK) {
            memcpy(s->buf, bounce, len);
        }
    }
    if (r != MEMTX_OK) {
        ptd_log(s, "DMA %s 0x%016" PRIx64 "+0x%" PRIx32 "%s failed "
                "(MemTxResult 0x%x)",
                flags & PTD_DMA_FLAG_TO_MEM ? "write to" : "read from",
                addr, len, attrs.pasid_valid ? " with PASID" : "", r);
    }
    return r;
}

/* DMA_CMD.START: the whole transfer happens here, synchronously. */
static void ptd_dma_start(PasidTestdevState *s)
{
    /* Snapshot: a DMA into the register window may change them. */
    uint64_t addr = s->dma_addr;
    uint32_t len = s->dma_len, pasid = s->dma_pasid, flags = s->dma_flags;
    MemTxResult r;

    if (s->in_dma) {
        ptd_log(s, "start while a DMA is in progress, ignored");
        return;
    }
    s->in_dma = true;
    if (!ptd_dma_request_ok(s, addr, len, pasid, flags)) {
        s->dma_status = PTD_DMA_STATUS_DONE | PTD_DMA_STATUS_REFUSED;
    } else {
        r = ptd_dma_transfer(s, addr, len, pasid, flags);
        s->dma_status = PTD_DMA_STATUS_DONE |
                        (r != MEMTX_OK ? PTD_DMA_STATUS_ERROR : 0) |
                        ((r << PTD_DMA_STATUS_RESULT_SHIFT) &
                         PTD_DMA_STATUS_RESULT_MASK);
    }
    if (flags & PTD_DMA_FLAG_MSI) {
        msi_notify(&s->pdev, 0);
    }
    s->in_dma = false;
}

/* --- BAR0: registers ------------------------------------------------------ */

static uint64_t ptd_regs_read(void *opaque, hwaddr addr, unsigned size)
{
    PasidTestdevState *s = opaque;

    switch (addr) {
    case PTD_REG_ID:
        return PTD_ID_VALUE;
    case PTD_REG_DMA_ADDR:
        return (uint32_t)s->dma_addr;
    case PTD_REG_DMA_ADDR_HI:
        return s->dma_addr >> 32;
    case PTD_REG_DMA_LEN:
        return s->dma_len;
    case PTD_REG_DMA_PASID:
        return s->dma_pasid;
    case PTD_REG_DMA_FLAGS:
        return s->dma_flags;
    case PTD_REG_DMA_STATUS:
        return s->dma_status;
    default:
        return 0;
    }
}

static void ptd_regs_write(void *opaque, hwaddr addr, uint64_t val,
                           unsigned size)
{
    PasidTestdevState *s = opaque;

    switch (addr) {
    case PTD_REG_DMA_ADDR:
        s->dma_addr = (s->dma_addr & ~0xffffffffULL) | (uint32_t)val;
        break;
    case PTD_REG_DMA_ADDR_HI:
        s->dma_addr = (s->dma_addr & 0xffffffffULL) | val << 32;
        break;
    case PTD_REG_DMA_LEN:
        s->dma_len = val;
        break;
    case PTD_REG_DMA_PASID:
        s->dma_pasid = val;
        break;
    case PTD_REG_DMA_FLAGS:
        s->dma_flags = val & PTD_DMA_FLAGS_ALL;
        break;
    case PTD_REG_DMA_CMD:
        if (val & PTD_DMA_CMD_START) {
            ptd_dma_start(s);
        }
        break;
    }
}

/* Dword registers; a qword access becomes two, low address first. */
static const MemoryRegionOps ptd_regs_ops = {
    .read = ptd_regs_read,
    .write = ptd_regs_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 4, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

/* --- BAR0: device buffer -------------------------------------------------- */

/* addr + size <= PTD_BUF_SIZE: the access is valid and naturally aligned. */
static uint64_t ptd_buf_read(void *opaque, hwaddr addr, unsigned size)
{
    PasidTestdevState *s = opaque;
    uint64_t val = 0;

    for (unsigned i = 0; i < size; i++) {
        val |= (uint64_t)s->buf[addr + i] << (8 * i);
    }
    return val;
}

static void ptd_buf_write(void *opaque, hwaddr addr, uint64_t val,
                          unsigned size)
{
    PasidTestdevState *s = opaque;

    for (unsigned i = 0; i < size; i++) {
        s->buf[addr + i] = val >> (8 * i);
    }
}

static const MemoryRegionOps ptd_buf_ops = {
    .read = ptd_buf_read,
    .write = ptd_buf_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

/* --- Configuration space -------------------------------------------------- */

/*
 * PCI Express Capability v2 (PCIe Base 4.0, 7.5.3).  On a root bus the
 * function is a Root Complex Integrated Endpoint, which has no link
 * registers; behind a port it is an endpoint with a x1 2.5 GT/s link.
 */
static bool ptd_init_exp_cap(PasidTestdevState *s, Error **errp)
{
    PCIDevice *d = &s->pdev;
    bool integrated = pci_bus_is_root(pci_get_bus(d));
    uint8_t *c, *w, *w1c;
    int cap;

    cap = pci_add_capability(d, PCI_CAP_ID_EXP, 0, PCI_EXP_VER2_SIZEOF, errp);
    if (cap < 0) {
        return false;
    }
    c = d->config + cap;
    w = d->wmask + cap;
    w1c = d->w1cmask + cap;
    pci_set_word(c + PCI_EXP_FLAGS, PCI_EXP_FLAGS_VER2 |
                 (integrated ? PTD_EXP_TYPE_RC_END : PTD_EXP_TYPE_ENDPOINT) <<
                 PCI_EXP_FLAGS_TYPE_SHIFT);
    pci_set_long(c + PCI_EXP_DEVCAP, PCI_EXP_DEVCAP_RBER);
    pci_set_word(w + PCI_EXP_DEVCTL, 0x70ff);
    pci_set_word(w1c + PCI_EXP_DEVSTA, 0x000f);
    if (!integrated) {
        pci_set_long(c + PCI_EXP_LNKCAP, PCI_EXP_LNKCAP_SLS_2_5GB |
                     PCI_EXP_LNKCAP_MLW_X1);
        pci_set_word(w + PCI_EXP_LNKCTL, 0x00c3);
        pci_set_word(c + PCI_EXP_LNKSTA, PCI_EXP_LNKSTA_CLS_2_5GB |
                     PCI_EXP_LNKSTA_NLW_X1);
        pci_set_long(c + PCI_EXP_LNKCAP2, PCI_EXP_LNKCAP2_SLS_2_5GB);
    }
    pci_set_word(w + PCI_EXP_DEVCTL2, 0x001f);
    return true;
}

/*
 * PASID Extended Capability (PCIe Base 4.0, 7.8.8), the only extended
 * capability: its next pointer is 0.  The control bits are plain config
 * state, read at each DMA start; reset clears them.
 */
static void ptd_init_pasid_cap(PasidTestdevState *s)
{
    PCIDevice *d = &s->pdev;
    unsigned off = PTD_PASID_CAP_OFFSET;

    pci_set_long(d->config + off, PTD_PASID_EXT_CAP_ID |
                 PTD_PASID_CAP_VERSION << 16);
    pci_set_word(d->config + off + PTD_PASID_CAP,
                 PTD_PASID_CAP_EXEC | PTD_PASID_CAP_PRIV |
                 s->pasid_width << PTD_PASID_CAP_WIDTH_SHIFT);
    memset(d->cmask + off, 0xff, PTD_PASID_CTRL);
    pci_set_word(d->wmask + off + PTD_PASID_CTRL,
                 PTD_PASID_CTRL_ENABLE | PTD_PASID_CTRL_EXEC |
                 PTD_PASID_CTRL_PRIV);
}

/* --- Device --------------------------------------------------------------- */

static bool ptd_realize(PCIDevice *pdev, Error **errp)
{
    PasidTestdevState *s = PASID_TESTDEV(pdev);

    if (s->pasid_width < 1 || s->pasid_width > PTD_PASID_WIDTH_MAX) {
        error_setg(errp, "pasid-testdev: pasid-width %u out of range (1-%d)",
                   s->pasid_width, PTD_PASID_WIDTH_MAX);
        return false;
    }
    if (!msi_init(pdev, 0, 1, true, false, errp) ||
        !ptd_init_exp_cap(s, errp)) {
        return false;
    }
    ptd_init_pasid_cap(s);

    memory_region_init(&s->bar0, OBJECT(s), "pasid-testdev-bar0",
                       PTD_BAR0_SIZE);
    memory_region_init_io(&s->regs, OBJECT(s), &ptd_regs_ops, s,
                          "pasid-testdev-regs", PTD_REGS_SIZE);
    memory_region_init_io(&s->buf_mmio, OBJECT(s), &ptd_buf_ops, s,
                          "pasid-testdev-buf", PTD_BUF_SIZE);
    memory_region_add_subregion(&s->bar0, 0, &s->regs);
    memory_region_add_subregion(&s->bar0, PTD_BUF_OFFSET, &s->buf_mmio);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->bar0);
    return true;
}

static void ptd_exit(PCIDevice *pdev)
{
    PasidTestdevState *s = PASID_TESTDEV(pdev);

    msi_uninit(pdev);
    memory_region_finalize(&s->regs);
    memory_region_finalize(&s->buf_mmio);
    memory_region_finalize(&s->bar0);
}

/* Config space (PASID control included) was restored by the PCI core. */
static void ptd_reset(PCIDevice *pdev)
{
    PasidTestdevState *s = PASID_TESTDEV(pdev);

    s->dma_addr = 0;
    s->dma_len = s->dma_pasid = s->dma_flags = s->dma_status = 0;
    memset(s->buf, 0, sizeof(s->buf));
}

static const Property ptd_props[] = {
    DEFINE_PROP_UINT8("pasid-width", PasidTestdevState, pasid_width,
                      PTD_PASID_WIDTH_DEFAULT),
    DEFINE_PROP_END_OF_LIST(),
};

static void ptd_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *pc = PCI_DEVICE_CLASS(klass);

    dc->desc = "PCI test device issuing PASID-tagged DMA";
    dc->category = DEVICE_CATEGORY_MISC;
    dc->user_creatable = true;
    dc->hotpluggable = true;
    device_class_set_props(dc, ptd_props);
    pc->realize = ptd_realize;
    pc->exit = ptd_exit;
    pc->reset = ptd_reset;
    pc->vendor_id = PTD_PCI_VENDOR_ID;
    pc->device_id = PTD_PCI_DEVICE_ID;
    pc->revision = PTD_PCI_REVISION;
    pc->class_id = PTD_PCI_CLASS;
    pc->is_express = true;
}

static const TypeInfo ptd_types[] = {
    {
        .name = TYPE_PASID_TESTDEV,
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(PasidTestdevState),
        .class_init = ptd_class_init,
    },
};

DEFINE_TYPES(ptd_types)
