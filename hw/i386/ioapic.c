/*
 * I/O APIC (Intel 82093AA datasheet; version 0x20 as QEMU's, with the EOI
 * register): 24 input pins (unnamed qdev GPIOs), MMIO at 0xfec00000.  An
 * unmasked pin sends its redirection entry as an MSI-format message, with
 * the requester id IOAPIC_REQUESTER_ID, through apic_msi_deliver_ioapic():
 * an interrupt remapping unit sees it there (an entry in remappable
 * format, VT-d 5.1.5.1 / facts G.6, becomes a remappable message), then
 * it is delivered (KVM: injected, its GSI route updated; qtest: queued).
 *
 * End of interrupt reaches us as a write to the EOI register or, under
 * KVM's split irqchip, from the local APICs (ioapic_eoi_broadcast).
 * Everything runs with the big lock held.
 */
#include "hw/qdev-core.h"
#include "hw/i386/apic-msi.h"
#include "hw/i386/ioapic.h"

#define IOAPIC_MMIO_SIZE        0x1000
#define IOAPIC_VERSION          0x20

/* Direct registers */
#define IOAPIC_IOREGSEL         0x00
#define IOAPIC_IOWIN            0x10
#define IOAPIC_EOI              0x40

/* Indirect registers */
#define IOAPIC_REG_ID           0x00
#define  IOAPIC_ID_SHIFT        24
#define  IOAPIC_ID_MASK         0xf
#define IOAPIC_REG_VER          0x01
#define IOAPIC_REG_ARB          0x02
#define IOAPIC_REG_REDTBL_BASE  0x10

/* Redirection table entry */
#define IOAPIC_RTE_VECTOR       0x00000000000000ffULL
#define IOAPIC_RTE_DELMOD_SHIFT 8
#define IOAPIC_RTE_DELMOD       0x0000000000000700ULL
#define IOAPIC_RTE_DESTMODE     (1ULL << 11)
#define IOAPIC_RTE_DELIVS       (1ULL << 12)
#define IOAPIC_RTE_POLARITY     (1ULL << 13)
#define IOAPIC_RTE_REMOTE_IRR   (1ULL << 14)
#define IOAPIC_RTE_TRIGGER      (1ULL << 15)    /* 1 = level */
#define IOAPIC_RTE_MASKED       (1ULL << 16)
#define IOAPIC_RTE_DEST_SHIFT   56
#define IOAPIC_RTE_RO_BITS      (IOAPIC_RTE_DELIVS | IOAPIC_RTE_REMOTE_IRR)
/* Remappable format (VT-d 5.1.5.1, facts G.6): INDEX[15] in bit 11,
 * INDEX[14:0] in bits 63:49. */
#define IOAPIC_RTE_REMAPPABLE   (1ULL << 48)
#define IOAPIC_RTE_INDEX15      (1ULL << 11)
#define IOAPIC_RTE_INDEX_SHIFT  49

/* Remappable MSI address (VT-d 5.1.2.2): HANDLE[14:0] in 19:5, interrupt
 * format bit 4, SHV bit 3 (0 here), HANDLE[15] in bit 2. */
#define IOAPIC_MSI_HANDLE_SHIFT 5
#define IOAPIC_MSI_REMAPPABLE   (1u << 4)
#define IOAPIC_MSI_HANDLE15     (1u << 2)

typedef struct IOAPICState {
    DeviceState parent_obj;
    MemoryRegion io;
    bool mapped;
    uint8_t id;
    uint8_t ioregsel;
    uint32_t irr;               /* pins with an interrupt to deliver */
    uint32_t line_level;        /* current input levels */
    uint64_t ioredtbl[IOAPIC_NUM_PINS];
} IOAPICState;

DECLARE_INSTANCE_CHECKER(IOAPICState, IOAPIC, TYPE_IOAPIC)

/* The only I/O APIC of the machine, for ioapic_eoi_broadcast(). */
static IOAPICState *ioapic_instance;

static void ioapic_send(unsigned pin, uint64_t entry)
{
    ApicMsi msg = {
        .data = (entry & IOAPIC_RTE_VECTOR) |
                (entry & IOAPIC_RTE_TRIGGER ? 1u << 15 : 0),
        .requester_id = IOAPIC_REQUESTER_ID,
    };

    if (entry & IOAPIC_RTE_REMAPPABLE) {
        uint32_t index = entry >> IOAPIC_RTE_INDEX_SHIFT;

        /* SHV = 0: data is not used for the lookup (facts G.6). */
        msg.addr = APIC_MSI_BASE | IOAPIC_MSI_REMAPPABLE |
                   (uint64_t)index << IOAPIC_MSI_HANDLE_SHIFT |
                   (entry & IOAPIC_RTE_INDEX15 ? IOAPIC_MSI_HANDLE15 : 0);
    } else {
        uint32_t dest = entry >> IOAPIC_RTE_DEST_SHIFT;

        msg.addr = APIC_MSI_BASE | (uint64_t)dest << 12 |
                   (entry & IOAPIC_RTE_DESTMODE ? 1u << 2 : 0);
        msg.data |= entry & IOAPIC_RTE_DELMOD;
    }
    apic_msi_deliver_ioapic(pin, &msg);
}

/*
 * Delivers what irr holds.  An edge interrupt is consumed when sent; a
 * level one stays in irr while the line is high and is sent once until
 * the EOI clears Remote IRR.  A masked entry keeps its interrupt.
 */
static void ioapic_service(IOAPICState *s)
{
    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        uint32_t mask = 1u << pin;
        uint64_t *entry = &s->ioredtbl[pin];

        if (!(s->irr & mask) || (*entry & IOAPIC_RTE_MASKED)) {
            continue;
        }
        if (*entry & IOAPIC_RTE_TRIGGER) {
            if (*entry & IOAPIC_RTE_REMOTE_IRR) {
                continue;
            }
            *entry |= IOAPIC_RTE_REMOTE_IRR;
        } else {
            s->irr &= ~mask;
        }
        ioapic_send(pin, *entry);
    }
}

static void ioapic_set_irq(void *opaque, int pin, int level)
{
    IOAPICState *s = opaque;
    uint32_t mask;
    bool was;

    if (pin < 0 || pin >= IOAPIC_NUM_PINS) {
        return;
    }
    mask = 1u << pin;
    was = s->line_level & mask;
    s->line_level = level ? s->line_level | mask : s->line_level & ~mask;
    if (s->ioredtbl[pin] & IOAPIC_RTE_TRIGGER) {
        s->irr = level ? s->irr | mask : s->irr & ~mask;
    } else if (level && !was) {
        s->irr |= mask;
    }
    ioapic_service(s);
}

/* EOI for vector: Remote IRR of matching level entries clears (9.5). */
static void ioapic_eoi(IOAPICState *s, uint8_t vector)
{
    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        uint64_t *entry = &s->ioredtbl[pin];

        if ((*entry & IOAPIC_RTE_VECTOR) == vector) {
            *entry &= ~IOAPIC_RTE_REMOTE_IRR;
        }
    }
    ioapic_service(s);
}

void ioapic_eoi_broadcast(uint8_t vector)
{
    if (ioapic_instance) {
        ioapic_eoi(ioapic_instance, vector);
    }
}

static uint32_t ioapic_read_indirect(IOAPICState *s)
{
    uint8_t reg = s->ioregsel;

    switch (reg) {
    case IOAPIC_REG_ID:
    case IOAPIC_REG_ARB:
        return (uint32_t)s->id << IOAPIC_ID_SHIFT;
    case IOAPIC_REG_VER:
        return IOAPIC_VERSION | (IOAPIC_NUM_PINS - 1) << 16;
    default:
        if (reg >= IOAPIC_REG_REDTBL_BASE &&
            reg < IOAPIC_REG_REDTBL_BASE + 2 * IOAPIC_NUM_PINS) {
            uint64_t e = s->ioredtbl[(reg - IOAPIC_REG_REDTBL_BASE) / 2];

            return reg & 1 ? e >> 32 : (uint32_t)e;
        }
        return 0;
    }
}

static void ioapic_write_indirect(IOAPICState *s, uint32_t val)
{
    uint8_t reg = s->ioregsel;
    uint64_t *entry, old;

    if (reg == IOAPIC_REG_ID) {
        s->id = (val >> IOAPIC_ID_SHIFT) & IOAPIC_ID_MASK;
        return;
    }
    if (reg < IOAPIC_REG_REDTBL_BASE ||
        reg >= IOAPIC_REG_REDTBL_BASE + 2 * IOAPIC_NUM_PINS) {
        return;     /* VER, ARB and unimplemented registers are RO */
    }
    entry = &s->ioredtbl[(reg - IOAPIC_REG_REDTBL_BASE) / 2];
    old = *entry;
    if (reg & 1) {
        *entry = (old & 0xffffffffULL) | (uint64_t)val << 32;
    } else {
        *entry = (old & ~0xffffffffULL & ~IOAPIC_RTE_RO_BITS) |
                 (val & ~IOAPIC_RTE_RO_BITS) | (old & IOAPIC_RTE_RO_BITS);
    }
    if (!(*entry & IOAPIC_RTE_TRIGGER)) {
        *entry &= ~IOAPIC_RTE_REMOTE_IRR;
    }
    ioapic_service(s);
}

static uint64_t ioapic_mem_read(void *opaque, hwaddr addr, unsigned size)
{
    IOAPICState *s = opaque;

    switch (addr) {
    case IOAPIC_IOREGSEL:
        return s->ioregsel;
    case IOAPIC_IOWIN:
        return size == 4 ? ioapic_read_indirect(s) : 0;
    default:
        return 0;
    }
}

static void ioapic_mem_write(void *opaque, hwaddr addr, uint64_t val,
                             unsigned size)
{
    IOAPICState *s = opaque;

    switch (addr) {
    case IOAPIC_IOREGSEL:
        s->ioregsel = val;
        break;
    case IOAPIC_IOWIN:
        if (size == 4) {
            ioapic_write_indirect(s, val);
        }
        break;
    case IOAPIC_EOI:
        ioapic_eoi(s, val);
        break;
    }
}

static const MemoryRegionOps ioapic_mem_ops = {
    .read = ioapic_mem_read,
    .write = ioapic_mem_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

static void ioapic_reset(DeviceState *dev)
{
    IOAPICState *s = IOAPIC(dev);

    s->id = 0;
    s->ioregsel = 0;
    s->irr = 0;
    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        s->ioredtbl[pin] = IOAPIC_RTE_MASKED;
    }
}

static void ioapic_init(Object *obj)
{
    IOAPICState *s = IOAPIC(obj);

    /* Unnamed inputs: "irq_intercept_in ioapic" hooks these. */
    qdev_init_gpio_in(DEVICE(obj), ioapic_set_irq, IOAPIC_NUM_PINS);
    ioapic_reset(DEVICE(s));
}

static bool ioapic_realize(DeviceState *dev, Error **errp)
{
    IOAPICState *s = IOAPIC(dev);

    memory_region_init_io(&s->io, OBJECT(s), &ioapic_mem_ops, s, "ioapic",
                          IOAPIC_MMIO_SIZE);
    memory_region_add_subregion(get_system_memory(), IOAPIC_BASE, &s->io);
    s->mapped = true;
    ioapic_instance = s;
    return true;
}

static void ioapic_unrealize(DeviceState *dev)
{
    IOAPICState *s = IOAPIC(dev);

    if (s->mapped) {
        memory_region_finalize(&s->io);
        s->mapped = false;
    }
    if (ioapic_instance == s) {
        ioapic_instance = NULL;
    }
}

static void ioapic_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->desc = "I/O APIC";
    dc->user_creatable = false;
    dc->hotpluggable = false;
    dc->realize = ioapic_realize;
    dc->unrealize = ioapic_unrealize;
    dc->reset = ioapic_reset;
}

static const TypeInfo ioapic_types[] = {
    {
        .name = TYPE_IOAPIC,
        .parent = TYPE_DEVICE,
        .instance_size = sizeof(IOAPICState),
        .instance_init = ioapic_init,
        .class_init = ioapic_class_init,
    },
};

DEFINE_TYPES(ioapic_types)
