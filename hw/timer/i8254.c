/*
 * Intel 8254 programmable interval timer ("isa-pit", ports 0x40-0x43,
 * ISA IRQ 0) and the NMI status / speaker port 0x61 as far as it concerns
 * the PIT: bit 0 is channel 2's gate, bit 1 the speaker enable (stored),
 * bit 4 the refresh toggle (flips every 15 us), bit 5 channel 2's OUT.
 *
 * The counters run at 1.193182 MHz of the virtual clock (qtest moves it
 * with clock_step): a counter's value and OUT are computed from the time
 * its count was loaded, and channel 0 keeps a timer for the next OUT
 * transition, where it drives IRQ 0 to OUT's level (a rising edge is an
 * interrupt: in mode 2 OUT drops for the tick at count 1 and rises at
 * the reload, once per period).  Modes 0-5, counter latch, read-back (count and status) and
 * the LSB/MSB/word access modes are implemented; BCD counting is not (the
 * BCD bit is stored and reported in the status only).
 *
 * viommu has no firmware, so at reset no count is loaded: every channel
 * is in mode 0 with OUT low and no timer runs until the guest programs
 * one (a BIOS would start channel 0 in mode 3 at 18.2 Hz).
 *
 * Gate: channels 0 and 1 are always gated on; channel 2's gate follows
 * port 0x61 bit 0.  A rising gate edge restarts the count in modes 1, 2,
 * 3 and 5; in modes 0 and 4 the gate does not stop counting (as QEMU).
 */
#include "hw/isa/isa.h"
#include "hw/qdev-properties.h"
#include "system/timer.h"

#define TYPE_I8254          "isa-pit"
#define PIT_FREQ            1193182
#define PIT_NUM_CHANNELS    3
#define PIT_SPEAKER_PORT    0x61
#define PIT_REFRESH_NS      15000

/* Control word (port base + 3) */
#define PIT_CW_CHANNEL(v)   (((v) >> 6) & 3)
#define PIT_CW_READBACK     3
#define PIT_CW_ACCESS(v)    (((v) >> 4) & 3)
#define  PIT_ACCESS_LATCH   0
#define  PIT_ACCESS_LSB     1
#define  PIT_ACCESS_MSB     2
#define  PIT_ACCESS_WORD    3
#define PIT_CW_MODE(v)      (((v) >> 1) & 7)
#define PIT_CW_BCD          0x01
/* Read-back command: bits active low for count/status, channel mask */
#define PIT_RB_NO_COUNT     0x20
#define PIT_RB_NO_STATUS    0x10
#define PIT_RB_CHANNEL(i)   (2 << (i))

/* Port 0x61 */
#define SPK_GATE2           0x01
#define SPK_DATA_ON         0x02
#define SPK_REFRESH         0x10
#define SPK_OUT2            0x20

/* Byte sequencing of a channel's read or write. */
typedef enum PITByteState {
    PIT_RW_LSB = PIT_ACCESS_LSB,
    PIT_RW_MSB = PIT_ACCESS_MSB,
    PIT_RW_WORD0 = PIT_ACCESS_WORD,     /* word: low byte next */
    PIT_RW_WORD1,                       /* word: high byte next */
} PITByteState;

typedef struct PITChannel {
    uint32_t count;                 /* loaded count, 1..0x10000; 0: none */
    int64_t load_time;              /* virtual ns when it was loaded */
    uint16_t latched_count;
    uint8_t count_latched;          /* 0 or the PITByteState to read it */
    bool status_latched;
    uint8_t status;
    uint8_t read_state, write_state;
    uint8_t write_latch;            /* low byte of a word write */
    uint8_t rw_mode;                /* access field of the control word */
    uint8_t mode;
    bool bcd;
    bool gate;
    QEMUTimer *irq_timer;           /* channel 0 only */
} PITChannel;

typedef struct PITState {
    ISADevice parent_obj;
    uint32_t iobase;
    PITChannel ch[PIT_NUM_CHANNELS];
    bool speaker_data_on;
    qemu_irq irq;
    MemoryRegion io;
    MemoryRegion speaker_io;
    bool io_inited;
} PITState;

DECLARE_INSTANCE_CHECKER(PITState, I8254, TYPE_I8254)

static int64_t pit_now(void)
{
    return qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
}

/* Whole PIT ticks since the count was loaded. */
static uint64_t pit_ticks(PITChannel *c, int64_t now)
{
    return (unsigned __int128)(now - c->load_time) * PIT_FREQ /
           NANOSECONDS_PER_SECOND;
}

/* Virtual time of tick t after the load (rounded up to whole ns). */
static int64_t pit_tick_time(PITChannel *c, uint64_t t)
{
    return c->load_time + (int64_t)(((unsigned __int128)t *
                                     NANOSECONDS_PER_SECOND + PIT_FREQ - 1) /
                                    PIT_FREQ);
}

static uint16_t pit_get_count(PITChannel *c, int64_t now)
{
    uint64_t d;

    if (!c->count) {
        return 0;
    }
    d = pit_ticks(c, now);
    switch (c->mode) {
    case 0:
    case 1:
    case 4:
    case 5:
        return (c->count - d) & 0xffff;
    case 3:
        /* Square wave: counts down by two, twice per period. */
        return c->count - ((2 * d) % c->count);
    default:
        return c->count - (d % c->count);
    }
}

static bool pit_get_out(PITChannel *c, int64_t now)
{
    uint64_t d;

    if (!c->count) {
        return c->mode != 0;        /* OUT after a mode write */
    }
    d = pit_ticks(c, now);
    switch (c->mode) {
    case 0:
        return d >= c->count;
    case 1:
        return d < c->count;
    case 2:
        /* High, low for the one tick at count 1, then reload. */
        return d % c->count != c->count - 1;
    case 3:
        return d % c->count < (c->count + 1) / 2;
    default:    /* 4, 5: one strobe at terminal count */
        return d == c->count;
    }
}

/* Time of OUT's next change after now, or -1 if it stays. */
static int64_t pit_next_transition(PITChannel *c, int64_t now)
{
    uint64_t d, base, next;

    if (!c->count) {
        return -1;
    }
    d = pit_ticks(c, now);
    switch (c->mode) {
    case 0:
    case 1:
        if (d >= c->count) {
            return -1;
        }
        next = c->count;
        break;
    case 2:
        base = d / c->count * c->count;
        next = d - base < c->count - 1 ? base + c->count - 1 :
                                         base + c->count;
        break;
    case 3:
        base = d / c->count * c->count;
        next = d - base < (c->count + 1) / 2 ? base + (c->count + 1) / 2 :
                                               base + c->count;
        break;
    default:
        if (d < c->count) {
            next = c->count;
        } else if (d == c->count) {
            next = c->count + 1;
        } else {
            return -1;
        }
        break;
    }
    return pit_tick_time(c, next);
}

/* Channel 0: drive IRQ 0 to OUT at time now and arm the next change. */
static void pit_irq_update(PITState *s, int64_t now)
{
    PITChannel *c = &s->ch[0];
    int64_t next = pit_next_transition(c, now);

    isa_irq_set(s->irq, pit_get_out(c, now));
    if (next >= 0) {
        timer_mod(c->irq_timer, next);
    } else {
        timer_del(c->irq_timer);
    }
}

static void pit_irq_timer(void *opaque)
{
    PITState *s = opaque;

    pit_irq_update(s, pit_now());
}

static void pit_load_count(PITState *s, PITChannel *c, uint32_t val)
{
    c->count = val ? val : 0x10000;
    c->load_time = pit_now();
    if (c == &s->ch[0]) {
        pit_irq_update(s, c->load_time);
    }
}

static void pit_set_gate(PITState *s, PITChannel *c, bool gate)
{
    if (gate && !c->gate && c->count &&
        (c->mode == 1 || c->mode == 2 || c->mode == 3 || c->mode == 5)) {
        /* A rising edge restarts the count. */
        c->load_time = pit_now();
        if (c == &s->ch[0]) {
            pit_irq_update(s, c->load_time);
        }
    }
    c->gate = gate;
}

static void pit_latch_count(PITChannel *c)
{
    if (!c->count_latched) {
        c->latched_count = pit_get_count(c, pit_now());
        c->count_latched = c->rw_mode;
    }
}

static void pit_latch_status(PITChannel *c)
{
    if (!c->status_latched) {
        c->status = (pit_get_out(c, pit_now()) << 7) |
                    (c->count ? 0 : 0x40) |          /* null count */
                    (c->rw_mode << 4) | (c->mode << 1) | c->bcd;
        c->status_latched = true;
    }
}

static void pit_write_control(PITState *s, uint8_t val)
{
    unsigned channel = PIT_CW_CHANNEL(val);
    PITChannel *c;

    if (channel == PIT_CW_READBACK) {
        for (int i = 0; i < PIT_NUM_CHANNELS; i++) {
            if (!(val & PIT_RB_CHANNEL(i))) {
                continue;
            }
            if (!(val & PIT_RB_NO_COUNT)) {
                pit_latch_count(&s->ch[i]);
            }
            if (!(val & PIT_RB_NO_STATUS)) {
                pit_latch_status(&s->ch[i]);
            }
        }
        return;
    }
    c = &s->ch[channel];
    if (PIT_CW_ACCESS(val) == PIT_ACCESS_LATCH) {
        pit_latch_count(c);
        return;
    }
    c->rw_mode = PIT_CW_ACCESS(val);
    c->read_state = c->write_state = c->rw_mode;
    c->mode = PIT_CW_MODE(val);
    if (c->mode > 5) {
        c->mode -= 4;               /* 6, 7 are aliases of 2, 3 */
    }
    c->bcd = val & PIT_CW_BCD;
    /* Writing the mode stops the count until a new one is loaded. */
    c->count = 0;
    if (c == &s->ch[0]) {
        pit_irq_update(s, pit_now());
    }
}

static void pit_write_counter(PITState *s, PITChannel *c, uint8_t val)
{
    switch (c->write_state) {
    case PIT_RW_LSB:
        pit_load_count(s, c, val);
        break;
    case PIT_RW_MSB:
        pit_load_count(s, c, (uint32_t)val << 8);
        break;
    case PIT_RW_WORD0:
        c->write_latch = val;
        c->write_state = PIT_RW_WORD1;
        break;
    default:
        pit_load_count(s, c, c->write_latch | (uint32_t)val << 8);
        c->write_state = PIT_RW_WORD0;
        break;
    }
}

static uint8_t pit_read_counter(PITChannel *c)
{
    uint16_t count;
    uint8_t ret;

    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    if (c->count_latched) {
        switch (c->count_latched) {
        case PIT_RW_MSB:
            ret = c->latched_count >> 8;
            c->count_latched = 0;
            break;
        case PIT_RW_WORD0:
            ret = c->latched_count & 0xff;
            c->count_latched = PIT_RW_MSB;
            break;
        default:                    /* LSB */
            ret = c->latched_count & 0xff;
            c->count_latched = 0;
            break;
        }
        return ret;
    }
    count = pit_get_count(c, pit_now());
    switch (c->read_state) {
    case PIT_RW_MSB:
        return count >> 8;
    case PIT_RW_WORD0:
        c->read_state = PIT_RW_WORD1;
        return count & 0xff;
    case PIT_RW_WORD1:
        c->read_state = PIT_RW_WORD0;
        return count >> 8;
    default:
        return count & 0xff;
    }
}

static uint64_t pit_ioport_read(void *opaque, hwaddr addr, unsigned size)
{
    PITState *s = opaque;

    if (addr == 3) {
        return 0;                   /* the control word is write-only */
    }
    return pit_read_counter(&s->ch[addr]);
}

static void pit_ioport_write(void *opaque, hwaddr addr, uint64_t val,
                             unsigned size)
{
    PITState *s = opaque;

    if (addr == 3) {
        pit_write_control(s, val);
    } else {
        pit_write_counter(s, &s->ch[addr], val);
    }
}

static const MemoryRegionOps pit_io_ops = {
    .read = pit_ioport_read,
    .write = pit_ioport_write,
    .valid.min_access_size = 1,
    .valid.max_access_size = 1,
    .impl.min_access_size = 1,
    .impl.max_access_size = 1,
};

static uint64_t pit_speaker_read(void *opaque, hwaddr addr, unsigned size)
{
    PITState *s = opaque;
    PITChannel *c2 = &s->ch[2];
    int64_t now = pit_now();
    uint8_t v = 0;

    v |= c2->gate ? SPK_GATE2 : 0;
    v |= s->speaker_data_on ? SPK_DATA_ON : 0;
    v |= (now / PIT_REFRESH_NS) & 1 ? SPK_REFRESH : 0;
    v |= pit_get_out(c2, now) ? SPK_OUT2 : 0;
    return v;
}

static void pit_speaker_write(void *opaque, hwaddr addr, uint64_t val,
                              unsigned size)
{
    PITState *s = opaque;

    s->speaker_data_on = val & SPK_DATA_ON;
    pit_set_gate(s, &s->ch[2], val & SPK_GATE2);
}

static const MemoryRegionOps pit_speaker_ops = {
    .read = pit_speaker_read,
    .write = pit_speaker_write,
    .valid.min_access_size = 1,
    .valid.max_access_size = 1,
    .impl.min_access_size = 1,
    .impl.max_access_size = 1,
};

static void pit_reset(DeviceState *dev)
{
    PITState *s = I8254(dev);

    for (int i = 0; i < PIT_NUM_CHANNELS; i++) {
        PITChannel *c = &s->ch[i];
        QEMUTimer *t = c->irq_timer;

        *c = (PITChannel){
            .irq_timer = t,
            .rw_mode = PIT_ACCESS_WORD,
            .read_state = PIT_RW_WORD0,
            .write_state = PIT_RW_WORD0,
            .gate = i != 2,
        };
    }
    s->speaker_data_on = false;
    timer_del(s->ch[0].irq_timer);
    isa_irq_set(s->irq, 0);
}

static bool pit_realize(DeviceState *dev, Error **errp)
{
    PITState *s = I8254(dev);
    ISADevice *isa = ISA_DEVICE(dev);

    if (!isa_get_irq(isa, 0, &s->irq, errp)) {
        return false;
    }
    memory_region_init_io(&s->io, OBJECT(dev), &pit_io_ops, s, "pit", 4);
    memory_region_init_io(&s->speaker_io, OBJECT(dev), &pit_speaker_ops, s,
                          "pit-port61", 1);
    s->io_inited = true;
    if (!isa_register_ioport(isa, &s->io, s->iobase, errp) ||
        !isa_register_ioport(isa, &s->speaker_io, PIT_SPEAKER_PORT, errp)) {
        memory_region_finalize(&s->io);
        memory_region_finalize(&s->speaker_io);
        s->io_inited = false;
        return false;
    }
    s->ch[0].irq_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, pit_irq_timer, s);
    return true;
}

static void pit_unrealize(DeviceState *dev)
{
    PITState *s = I8254(dev);

    timer_free(s->ch[0].irq_timer);
    s->ch[0].irq_timer = NULL;
    if (s->io_inited) {
        memory_region_finalize(&s->io);
        memory_region_finalize(&s->speaker_io);
        s->io_inited = false;
    }
}

static const Property pit_props[] = {
    DEFINE_PROP_UINT32("iobase", PITState, iobase, 0x40),
    DEFINE_PROP_END_OF_LIST(),
};

static void pit_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->desc = "8254 interval timer";
    dc->user_creatable = false;
    dc->realize = pit_realize;
    dc->unrealize = pit_unrealize;
    dc->reset = pit_reset;
    device_class_set_props(dc, pit_props);
}

static const TypeInfo pit_types[] = {
    {
        .name = TYPE_I8254,
        .parent = TYPE_ISA_DEVICE,
        .instance_size = sizeof(PITState),
        .class_init = pit_class_init,
    },
};

DEFINE_TYPES(pit_types)
