/*
 * edu: QEMU's educational PCI device (docs/specs/edu.rst there; reference
 * control_boot_facts D), written for viommu.  Its DMA goes through
 * pci_dma_read/write, so behind a vIOMMU it is translated.
 *
 * Differences from QEMU, all in docs/edu.md: the factorial is computed by
 * a virtual-clock timer due at once (no thread: under qtest it completes
 * at the next clock step); a DMA that is out of bounds (device window
 * [0x40000, 0x41000), count 0 or above 4096, RAM range outside guest RAM
 * when no vIOMMU translates) is refused rather than performed; and bit 31
 * of the DMA command register reports a refused or failed transfer.
 */
#include <inttypes.h>

#include "hw/pci/msi.h"
#include "hw/qdev-properties.h"
#include "system/timer.h"

#define TYPE_EDU                "edu"

/* BAR0 registers (reference D.2) */
#define EDU_REG_ID              0x00
#define  EDU_ID                 0x010000edu    /* 1.0, 0xed */
#define EDU_REG_LIVENESS        0x04
#define EDU_REG_FACTORIAL       0x08
#define EDU_REG_STATUS          0x20
#define  EDU_STATUS_COMPUTING   0x01
#define  EDU_STATUS_IRQFACT     0x80
#define EDU_REG_IRQ_STATUS      0x24
#define EDU_REG_IRQ_RAISE       0x60
#define EDU_REG_IRQ_ACK         0x64
#define EDU_REG_DMA_SRC         0x80
#define EDU_REG_DMA_DST         0x88
#define EDU_REG_DMA_CNT         0x90
#define EDU_REG_DMA_CMD         0x98
#define  EDU_DMA_RUN            0x1ULL
#define  EDU_DMA_DIR_TO_RAM     0x2ULL         /* 0: RAM -> device buffer */
#define  EDU_DMA_IRQ            0x4ULL
#define  EDU_DMA_ERROR          (1ULL << 31)   /* viommu: refused/failed */
#define EDU_REG_64BIT_START     0x80           /* 8-byte access from here */

#define EDU_MMIO_SIZE           (1 << 20)
#define EDU_FACT_IRQ            0x00000001
#define EDU_DMA_IRQ_VALUE       0x00000100
#define EDU_DMA_START           0x40000        /* device-side buffer */
#define EDU_DMA_SIZE            4096
#define EDU_DMA_DELAY_MS        100
#define EDU_DMA_MASK_DEFAULT    ((1ULL << 28) - 1)

typedef struct EduState {
    PCIDevice pdev;
    MemoryRegion mmio;
    QEMUTimer *fact_timer;
    QEMUTimer *dma_timer;

    uint32_t addr4;             /* liveness: ~ of the last write */
    uint32_t fact;
    uint32_t status;
    uint32_t irq_status;
    struct {
        uint64_t src, dst, cnt, cmd;
    } dma;
    uint8_t dma_buf[EDU_DMA_SIZE];

    uint64_t dma_mask;          /* property */
} EduState;

DECLARE_INSTANCE_CHECKER(EduState, EDU, TYPE_EDU)

/* --- Interrupts ------------------------------------------------------------- */

/* Every raise sends an MSI; INTx is a level held while irq_status != 0. */
static void edu_raise_irq(EduState *edu, uint32_t val)
{
    edu->irq_status |= val;
    if (edu->irq_status) {
        if (msi_enabled(&edu->pdev)) {
            msi_notify(&edu->pdev, 0);
        } else {
            pci_set_irq(&edu->pdev, 1);
        }
    }
}

static void edu_lower_irq(EduState *edu, uint32_t val)
{
    edu->irq_status &= ~val;
    if (!edu->irq_status && !msi_enabled(&edu->pdev)) {
        pci_set_irq(&edu->pdev, 0);
    }
}

/* --- Factorial ------------------------------------------------------------------ */

static void edu_fact_done(void *opaque)
{
    EduState *edu = opaque;
    uint32_t n = edu->fact, ret = 1;

    /* n! mod 2^32 is 0 from 34! on (it has 32 factors of two). */
    if (n >= 34) {
        ret = 0;
    } else {
        for (uint32_t i = 2; i <= n; i++) {
            ret *= i;
        }
    }
    edu->fact = ret;
    edu->status &= ~EDU_STATUS_COMPUTING;
    if (edu->status & EDU_STATUS_IRQFACT) {
        edu_raise_irq(edu, EDU_FACT_IRQ);
    }
}

/* --- DMA ---------------------------------------------------------------------- */

static uint64_t edu_clamp_addr(EduState *edu, uint64_t addr)
{
    uint64_t res = addr & edu->dma_mask;

    if (res != addr) {
        log_guest_error("edu: clamping DMA 0x%016" PRIx64 " to 0x%016" PRIx64,
                        addr, res);
    }
    return res;
}

/* Whether [addr, addr + len) is guest RAM in system memory. */
static bool edu_range_is_ram(uint64_t addr, uint64_t len, bool is_write)
{
    while (len) {
        hwaddr xlat, l = len;
        MemoryRegion *mr = address_space_translate(&address_space_memory,
                                                   addr, &xlat, &l, is_write,
                                                   MEMTXATTRS_UNSPECIFIED);

        if (!mr || !memory_region_is_ram(mr) || !l) {
            return false;
        }
        addr += l;
        len -= l;
    }
    return true;
}

/*
 * The checks a transfer must pass before anything moves.  The RAM check
 * applies when no vIOMMU translates the device's DMA: with one, the
 * address is an IOVA and the vIOMMU decides (its faults come back as a
 * failed transaction).
 */
static bool edu_dma_check(EduState *edu, uint64_t dev_addr, uint64_t ram,
                          uint64_t cnt, bool to_ram)
{
    if (cnt == 0 || cnt > EDU_DMA_SIZE) {
        log_guest_error("edu: DMA count 0x%" PRIx64 " refused (1-%d)", cnt,
                        EDU_DMA_SIZE);
        return false;
    }
    if (dev_addr < EDU_DMA_START ||
        dev_addr - EDU_DMA_START > EDU_DMA_SIZE - cnt) {
        log_guest_error("edu: DMA range 0x%016" PRIx64 "-0x%016" PRIx64
                        " out of the buffer (0x%x-0x%x), refused", dev_addr,
                        dev_addr + cnt - 1, EDU_DMA_START,
                        EDU_DMA_START + EDU_DMA_SIZE - 1);
        return false;
    }
    if (pci_device_iommu_address_space(&edu->pdev) == &address_space_memory &&
        (ram + cnt < ram || !edu_range_is_ram(ram, cnt, to_ram))) {
        log_guest_error("edu: DMA to 0x%016" PRIx64 "+0x%" PRIx64
                        " is not guest RAM, refused", ram, cnt);
        return false;
    }
    return true;
}

static bool edu_dma_transfer(EduState *edu)
{
    bool to_ram = edu->dma.cmd & EDU_DMA_DIR_TO_RAM;
    uint64_t dev_addr = to_ram ? edu->dma.src : edu->dma.dst;
    uint64_t ram = edu_clamp_addr(edu, to_ram ? edu->dma.dst : edu->dma.src);
    uint64_t cnt = edu->dma.cnt;
    uint8_t tmp[EDU_DMA_SIZE];
    MemTxResult r;

    if (!edu_dma_check(edu, dev_addr, ram, cnt, to_ram)) {
        return false;
    }
    if (to_ram) {
        r = pci_dma_write(&edu->pdev, ram,
                          edu->dma_buf + (dev_addr - EDU_DMA_START), cnt);
    } else {
        /* Through a bounce buffer: a failed read changes nothing. */
        r = pci_dma_read(&edu->pdev, ram, tmp, cnt);
        if (r == MEMTX_OK) {
            memcpy(edu->dma_buf + (dev_addr - EDU_DMA_START), tmp, cnt);
        }
    }
    if (r != MEMTX_OK) {
        log_guest_error("edu: DMA %s 0x%016" PRIx64 "+0x%" PRIx64
                        " failed (MemTxResult 0x%x)",
                        to_ram ? "write to" : "read from", ram, cnt, r);
        return false;
    }
    return true;
}

static void edu_dma_timer(void *opaque)
{
    EduState *edu = opaque;

    if (!(edu->dma.cmd & EDU_DMA_RUN)) {
        return;
    }
    if (!edu_dma_transfer(edu)) {
        edu->dma.cmd |= EDU_DMA_ERROR;
    }
    edu->dma.cmd &= ~EDU_DMA_RUN;
    if (edu->dma.cmd & EDU_DMA_IRQ) {
        edu_raise_irq(edu, EDU_DMA_IRQ_VALUE);
    }
}

/* --- BAR0 ------------------------------------------------------------------------ */

/* Below 0x80 only dword accesses work; from 0x80 dword and qword. */
static bool edu_access_ok(hwaddr addr, unsigned size)
{
    return size == 4 || (size == 8 && addr >= EDU_REG_64BIT_START);
}

static uint64_t edu_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    EduState *edu = opaque;

    if (!edu_access_ok(addr, size)) {
        return ~0ULL;
    }
    switch (addr) {
    case EDU_REG_ID:
        return EDU_ID;
    case EDU_REG_LIVENESS:
        return edu->addr4;
    case EDU_REG_FACTORIAL:
        return edu->fact;
    case EDU_REG_STATUS:
        return edu->status;
    case EDU_REG_IRQ_STATUS:
        return edu->irq_status;
    case EDU_REG_DMA_SRC:
        return edu->dma.src;
    case EDU_REG_DMA_DST:
        return edu->dma.dst;
    case EDU_REG_DMA_CNT:
        return edu->dma.cnt;
    case EDU_REG_DMA_CMD:
        return edu->dma.cmd;
    default:
        return ~0ULL;
    }
}

static void edu_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                           unsigned size)
{
    EduState *edu = opaque;
    bool dma_busy = edu->dma.cmd & EDU_DMA_RUN;

    if (!edu_access_ok(addr, size)) {
        return;
    }
    switch (addr) {
    case EDU_REG_LIVENESS:
        edu->addr4 = ~val;
        break;
    case EDU_REG_FACTORIAL:
        if (edu->status & EDU_STATUS_COMPUTING) {
            break;
        }
        edu->fact = val;
        edu->status |= EDU_STATUS_COMPUTING;
        timer_mod(edu->fact_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
        break;
    case EDU_REG_STATUS:
        edu->status = (edu->status & ~EDU_STATUS_IRQFACT) |
                      (val & EDU_STATUS_IRQFACT);
        break;
    case EDU_REG_IRQ_RAISE:
        edu_raise_irq(edu, val);
        break;
    case EDU_REG_IRQ_ACK:
        edu_lower_irq(edu, val);
        break;
    case EDU_REG_DMA_SRC:
        if (!dma_busy) {
            edu->dma.src = val;
        }
        break;
    case EDU_REG_DMA_DST:
        if (!dma_busy) {
            edu->dma.dst = val;
        }
        break;
    case EDU_REG_DMA_CNT:
        if (!dma_busy) {
            edu->dma.cnt = val;
        }
        break;
    case EDU_REG_DMA_CMD:
        if (!(val & EDU_DMA_RUN) || dma_busy) {
            break;
        }
        edu->dma.cmd = val & ~EDU_DMA_ERROR;
        timer_mod(edu->dma_timer,
                  qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) + EDU_DMA_DELAY_MS);
        break;
    }
}

static const MemoryRegionOps edu_mmio_ops = {
    .read = edu_mmio_read,
    .write = edu_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 4, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 8 },
};

/* --- Device ---------------------------------------------------------------------- */

static bool edu_realize(PCIDevice *pdev, Error **errp)
{
    EduState *edu = EDU(pdev);

    pdev->config[PCI_INTERRUPT_PIN] = 1;
    if (!msi_init(pdev, 0, 1, true, false, errp)) {
        return false;
    }
    edu->fact_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, edu_fact_done, edu);
    edu->dma_timer = timer_new_ms(QEMU_CLOCK_VIRTUAL, edu_dma_timer, edu);
    memory_region_init_io(&edu->mmio, OBJECT(edu), &edu_mmio_ops, edu,
                          "edu-mmio", EDU_MMIO_SIZE);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &edu->mmio);
    return true;
}

static void edu_exit(PCIDevice *pdev)
{
    EduState *edu = EDU(pdev);

    timer_free(edu->fact_timer);
    timer_free(edu->dma_timer);
    edu->fact_timer = edu->dma_timer = NULL;
    msi_uninit(pdev);
    memory_region_finalize(&edu->mmio);
}

/* QEMU's edu keeps its registers across reset; viommu's starts clean. */
static void edu_reset(PCIDevice *pdev)
{
    EduState *edu = EDU(pdev);

    timer_del(edu->fact_timer);
    timer_del(edu->dma_timer);
    edu->addr4 = edu->fact = edu->status = edu->irq_status = 0;
    memset(&edu->dma, 0, sizeof(edu->dma));
    memset(edu->dma_buf, 0, sizeof(edu->dma_buf));
}

static const Property edu_props[] = {
    DEFINE_PROP_UINT64("dma_mask", EduState, dma_mask, EDU_DMA_MASK_DEFAULT),
    DEFINE_PROP_END_OF_LIST(),
};

static void edu_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *pc = PCI_DEVICE_CLASS(klass);

    dc->desc = "QEMU educational PCI device";
    dc->category = DEVICE_CATEGORY_MISC;
    device_class_set_props(dc, edu_props);
    pc->realize = edu_realize;
    pc->exit = edu_exit;
    pc->reset = edu_reset;
    pc->vendor_id = PCI_VENDOR_ID_QEMU;
    pc->device_id = PCI_DEVICE_ID_QEMU_EDU;
    pc->revision = 0x10;
    pc->class_id = PCI_CLASS_OTHERS;
}

static const TypeInfo edu_types[] = {
    {
        .name = TYPE_EDU,
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(EduState),
        .class_init = edu_class_init,
    },
};

DEFINE_TYPES(edu_types)
