/*
 * MC146818 RTC and CMOS RAM ("mc146818rtc"; include/hw/rtc/mc146818rtc.h).
 *
 * Ports: iobase (0x70) takes the register index (bit 7, the NMI mask, is
 * kept but has no effect), iobase + 1 reads and writes the register.
 *
 * The clock: the guest's time is base_sec + whole seconds of virtual time
 * since base_ns.  It starts at the host's UTC time when the device is
 * realized and runs with the virtual clock (qtest moves it with
 * clock_step), so reads are consistent with the other devices' time.  The
 * time registers (0-9 and the century byte 0x32) are computed when read,
 * in BCD or binary (register B bit 2) and 12 or 24 hours (bit 1; 12-hour
 * mode sets bit 7 of the hour for PM).  A write to a time register changes
 * that field at once, keeping the phase within the second; while B.SET
 * is 1 the clock is stopped and resumes from the written time when SET is
 * cleared.  The divider bits of register A are stored, not modelled.
 *
 * Register A bit 7 (UIP) reads 1 in the last 244 us before each update
 * (second boundary) while SET is 0, so a guest that waits for UIP to drop
 * has at least 244 us to read a stable time.
 *
 * Interrupts (register C: IRQF, PF, AF, UF; reading C clears it and
 * lowers IRQ 8): the periodic interrupt at the rate of register A bits
 * 3-0 (32768 >> (rate - 1) Hz, rates 1 and 2 as 8 and 9), update-ended
 * once a second and the alarm (registers 1, 3, 5; values 0xc0-0xff match
 * anything) on the virtual clock.  As in QEMU, the timers run only while
 * the matching enable bit of register B is set, so PF, UF and AF are only
 * seen with PIE, UIE or AIE on.
 */
#include <assert.h>
#include <string.h>
#include <time.h>

#include "hw/qdev-properties.h"
#include "hw/rtc/mc146818rtc.h"
#include "system/timer.h"

#define RTC_SECONDS         0x00
#define RTC_SECONDS_ALARM   0x01
#define RTC_MINUTES         0x02
#define RTC_MINUTES_ALARM   0x03
#define RTC_HOURS           0x04
#define RTC_HOURS_ALARM     0x05
#define RTC_DAY_OF_WEEK     0x06
#define RTC_DAY_OF_MONTH    0x07
#define RTC_MONTH           0x08
#define RTC_YEAR            0x09
#define RTC_REG_A           0x0a
#define RTC_REG_B           0x0b
#define RTC_REG_C           0x0c
#define RTC_REG_D           0x0d
#define RTC_CENTURY         0x32

#define REG_A_UIP           0x80
#define REG_A_RATE          0x0f
#define REG_A_RESET         0x26    /* 32768 Hz divider, 1024 Hz rate */
#define REG_B_SET           0x80
#define REG_B_PIE           0x40
#define REG_B_AIE           0x20
#define REG_B_UIE           0x10
#define REG_B_SQWE          0x08
#define REG_B_DM            0x04    /* binary (not BCD) */
#define REG_B_24H           0x02
#define REG_C_IRQF          0x80
#define REG_C_PF            0x40
#define REG_C_AF            0x20
#define REG_C_UF            0x10
#define REG_D_VRT           0x80

#define RTC_HOUR_PM         0x80
#define RTC_ALARM_DONT_CARE 0xc0
#define RTC_UIP_NS          244000
#define RTC_BASE_FREQ       32768

typedef struct RTCState {
    ISADevice parent_obj;
    uint32_t iobase;
    uint32_t isairq;
    int32_t base_year;
    uint8_t cmos[RTC_CMOS_SIZE];    /* RAM, alarms and registers A-D */
    uint8_t index;
    int64_t base_sec;               /* guest time (UTC) at base_ns */
    int64_t base_ns;                /* virtual clock */
    struct tm stopped_tm;           /* the fields while B.SET is 1 */
    qemu_irq irq;
    QEMUTimer *periodic_timer;
    QEMUTimer *update_timer;
    MemoryRegion io;
    bool io_inited;
} RTCState;

DECLARE_INSTANCE_CHECKER(RTCState, MC146818_RTC, TYPE_MC146818_RTC)

static int64_t rtc_now_ns(void)
{
    return qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
}

static bool rtc_stopped(RTCState *s)
{
    return s->cmos[RTC_REG_B] & REG_B_SET;
}

/* The running clock's time (not meaningful while stopped). */
static int64_t rtc_get_sec(RTCState *s)
{
    return s->base_sec + (rtc_now_ns() - s->base_ns) / NANOSECONDS_PER_SECOND;
}

/* Sets the running clock, keeping the phase within the current second. */
static void rtc_set_sec(RTCState *s, int64_t sec)
{
    int64_t now = rtc_now_ns();

    s->base_ns = now - (now - s->base_ns) % NANOSECONDS_PER_SECOND;
    s->base_sec = sec;
}

/* --- Register encoding --------------------------------------------------- */

static uint8_t rtc_to_reg(RTCState *s, int v)
{
    if (s->cmos[RTC_REG_B] & REG_B_DM) {
        return v;
    }
    return ((v / 10) << 4) | (v % 10);
}

static int rtc_from_reg(RTCState *s, uint8_t v)
{
    if (s->cmos[RTC_REG_B] & REG_B_DM) {
        return v;
    }
    return (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t rtc_hour_to_reg(RTCState *s, int hour)
{
    if (s->cmos[RTC_REG_B] & REG_B_24H) {
        return rtc_to_reg(s, hour);
    }
    return rtc_to_reg(s, hour % 12 ? hour % 12 : 12) |
           (hour >= 12 ? RTC_HOUR_PM : 0);
}

static int rtc_hour_from_reg(RTCState *s, uint8_t v)
{
    int hour;

    if (s->cmos[RTC_REG_B] & REG_B_24H) {
        return rtc_from_reg(s, v);
    }
    hour = rtc_from_reg(s, v & ~RTC_HOUR_PM) % 12;
    return (v & RTC_HOUR_PM) ? hour + 12 : hour;
}

/*
 * While stopped the fields are kept as written (a guest sets them one at
 * a time, so 31 may precede the month that makes it valid); only the day
 * of the week is derived.
 */
static void rtc_get_tm(RTCState *s, struct tm *tm)
{
    time_t t;

    if (rtc_stopped(s)) {
        struct tm norm = s->stopped_tm;

        *tm = s->stopped_tm;
        timegm(&norm);
        tm->tm_wday = norm.tm_wday;
        return;
    }
    t = rtc_get_sec(s);
    gmtime_r(&t, tm);
}

/* The encoded value of time register addr now. */
static uint8_t rtc_read_time_reg(RTCState *s, int addr)
{
    struct tm tm;
    int year;

    rtc_get_tm(s, &tm);
    year = tm.tm_year + 1900 - s->base_year;
    switch (addr) {
    case RTC_SECONDS:
        return rtc_to_reg(s, tm.tm_sec);
    case RTC_MINUTES:
        return rtc_to_reg(s, tm.tm_min);
    case RTC_HOURS:
        return rtc_hour_to_reg(s, tm.tm_hour);
    case RTC_DAY_OF_WEEK:
        return rtc_to_reg(s, tm.tm_wday + 1);
    case RTC_DAY_OF_MONTH:
        return rtc_to_reg(s, tm.tm_mday);
    case RTC_MONTH:
        return rtc_to_reg(s, tm.tm_mon + 1);
    case RTC_YEAR:
        return rtc_to_reg(s, ((year % 100) + 100) % 100);
    default:    /* RTC_CENTURY */
        return rtc_to_reg(s, year >= 0 ? year / 100 : 0);
    }
}

static void rtc_write_time_reg(RTCState *s, int addr, uint8_t val)
{
    struct tm tm;
    int year, v;

    rtc_get_tm(s, &tm);
    year = tm.tm_year + 1900 - s->base_year;
    v = addr == RTC_HOURS ? rtc_hour_from_reg(s, val) : rtc_from_reg(s, val);
    switch (addr) {
    case RTC_SECONDS:
        tm.tm_sec = v;
        break;
    case RTC_MINUTES:
        tm.tm_min = v;
        break;
    case RTC_HOURS:
        tm.tm_hour = v;
        break;
    case RTC_DAY_OF_WEEK:
        return;                     /* derived from the date */
    case RTC_DAY_OF_MONTH:
        tm.tm_mday = v;
        break;
    case RTC_MONTH:
        tm.tm_mon = v - 1;
        break;
    case RTC_YEAR:
        year = year / 100 * 100 + v;
        break;
    default:    /* RTC_CENTURY */
        year = v * 100 + year % 100;
        break;
    }
    tm.tm_year = year + s->base_year - 1900;
    if (rtc_stopped(s)) {
        s->stopped_tm = tm;
        return;
    }
    /* Out-of-range fields (a guest's choice) normalise like mktime. */
    rtc_set_sec(s, timegm(&tm));
}

/* --- Interrupts --------------------------------------------------------- */

static void rtc_raise(RTCState *s, uint8_t flags)
{
    uint8_t enabled = 0;

    s->cmos[RTC_REG_C] |= flags;
    enabled |= (s->cmos[RTC_REG_B] & REG_B_PIE) ? REG_C_PF : 0;
    enabled |= (s->cmos[RTC_REG_B] & REG_B_AIE) ? REG_C_AF : 0;
    enabled |= (s->cmos[RTC_REG_B] & REG_B_UIE) ? REG_C_UF : 0;
    if (s->cmos[RTC_REG_C] & enabled) {
        s->cmos[RTC_REG_C] |= REG_C_IRQF;
        isa_irq_set(s->irq, 1);
    }
}

/* Period in 32768 Hz ticks, 0 for none. */
static uint32_t rtc_periodic_ticks(RTCState *s)
{
    unsigned rate = s->cmos[RTC_REG_A] & REG_A_RATE;

    if (!rate) {
        return 0;
    }
    if (rate <= 2) {
        rate += 7;
    }
    return 1u << (rate - 1);
}

static int64_t rtc_ticks_to_ns(uint64_t ticks)
{
    return (int64_t)(((unsigned __int128)ticks * NANOSECONDS_PER_SECOND +
                      RTC_BASE_FREQ - 1) / RTC_BASE_FREQ);
}

/* Arms the periodic timer for the next multiple of the period. */
static void rtc_periodic_update(RTCState *s)
{
    uint32_t period = rtc_periodic_ticks(s);
    uint64_t ticks;

    if (!period || !(s->cmos[RTC_REG_B] & REG_B_PIE)) {
        timer_del(s->periodic_timer);
        return;
    }
    ticks = (unsigned __int128)rtc_now_ns() * RTC_BASE_FREQ /
            NANOSECONDS_PER_SECOND;
    timer_mod(s->periodic_timer, rtc_ticks_to_ns((ticks / period + 1) *
                                                 period));
}

static void rtc_periodic_timer(void *opaque)
{
    RTCState *s = opaque;

    rtc_raise(s, REG_C_PF);
    rtc_periodic_update(s);
}

/* Arms the update timer for the next second boundary if it is needed. */
static void rtc_update_update(RTCState *s)
{
    int64_t now = rtc_now_ns();

    if (rtc_stopped(s) ||
        !(s->cmos[RTC_REG_B] & (REG_B_UIE | REG_B_AIE))) {
        timer_del(s->update_timer);
        return;
    }
    timer_mod(s->update_timer, now + NANOSECONDS_PER_SECOND -
              (now - s->base_ns) % NANOSECONDS_PER_SECOND);
}

static bool rtc_alarm_field_matches(RTCState *s, int alarm, int time)
{
    uint8_t a = s->cmos[alarm];

    return a >= RTC_ALARM_DONT_CARE || a == rtc_read_time_reg(s, time);
}

static void rtc_update_timer(void *opaque)
{
    RTCState *s = opaque;
    uint8_t flags = REG_C_UF;

    if (rtc_alarm_field_matches(s, RTC_SECONDS_ALARM, RTC_SECONDS) &&
        rtc_alarm_field_matches(s, RTC_MINUTES_ALARM, RTC_MINUTES) &&
        rtc_alarm_field_matches(s, RTC_HOURS_ALARM, RTC_HOURS)) {
        flags |= REG_C_AF;
    }
    rtc_raise(s, flags);
    rtc_update_update(s);
}

/* --- Registers ---------------------------------------------------------- */

static bool rtc_update_in_progress(RTCState *s)
{
    int64_t phase;

    if (rtc_stopped(s)) {
        return false;
    }
    phase = (rtc_now_ns() - s->base_ns) % NANOSECONDS_PER_SECOND;
    return phase >= NANOSECONDS_PER_SECOND - RTC_UIP_NS;
}

static uint8_t rtc_read_reg(RTCState *s, int addr)
{
    uint8_t ret;

    switch (addr) {
    case RTC_SECONDS:
    case RTC_MINUTES:
    case RTC_HOURS:
    case RTC_DAY_OF_WEEK:
    case RTC_DAY_OF_MONTH:
    case RTC_MONTH:
    case RTC_YEAR:
    case RTC_CENTURY:
        return rtc_read_time_reg(s, addr);
    case RTC_REG_A:
        return (s->cmos[RTC_REG_A] & ~REG_A_UIP) |
               (rtc_update_in_progress(s) ? REG_A_UIP : 0);
    case RTC_REG_C:
        ret = s->cmos[RTC_REG_C];
        s->cmos[RTC_REG_C] = 0;
        isa_irq_set(s->irq, 0);
        return ret;
    case RTC_REG_D:
        return REG_D_VRT;
    default:
        return s->cmos[addr];
    }
}

static void rtc_write_reg_b(RTCState *s, uint8_t val)
{
    bool was_stopped = rtc_stopped(s);

    if ((val & REG_B_SET) && !was_stopped) {
        time_t t = rtc_get_sec(s);

        gmtime_r(&t, &s->stopped_tm);
        val &= ~REG_B_UIE;          /* SET clears UIE (datasheet) */
    }
    if (!(val & REG_B_SET) && was_stopped) {
        /* Runs again from the written time, a whole second from now. */
        s->base_sec = timegm(&s->stopped_tm);
        s->base_ns = rtc_now_ns();
    }
    /* The format bits take effect at once: the time is kept in seconds. */
    s->cmos[RTC_REG_B] = val;
    rtc_periodic_update(s);
    rtc_update_update(s);
}

static void rtc_write_reg(RTCState *s, int addr, uint8_t val)
{
    switch (addr) {
    case RTC_SECONDS:
    case RTC_MINUTES:
    case RTC_HOURS:
    case RTC_DAY_OF_WEEK:
    case RTC_DAY_OF_MONTH:
    case RTC_MONTH:
    case RTC_YEAR:
    case RTC_CENTURY:
        rtc_write_time_reg(s, addr, val);
        rtc_update_update(s);
        break;
    case RTC_REG_A:
        s->cmos[RTC_REG_A] = val & ~REG_A_UIP;
        rtc_periodic_update(s);
        break;
    case RTC_REG_B:
        rtc_write_reg_b(s, val);
        break;
    case RTC_REG_C:
    case RTC_REG_D:
        break;                      /* read-only */
    default:
        s->cmos[addr] = val;
        break;
    }
}

static uint64_t rtc_ioport_read(void *opaque, hwaddr addr, unsigned size)
{
    RTCState *s = opaque;

    if (addr == 0) {
        return 0xff;                /* the index port is write-only */
    }
    return rtc_read_reg(s, s->index);
}

static void rtc_ioport_write(void *opaque, hwaddr addr, uint64_t val,
                             unsigned size)
{
    RTCState *s = opaque;

    if (addr == 0) {
        s->index = val & (RTC_CMOS_SIZE - 1);
    } else {
        rtc_write_reg(s, s->index, val);
    }
}

static const MemoryRegionOps rtc_io_ops = {
    .read = rtc_ioport_read,
    .write = rtc_ioport_write,
    .valid.min_access_size = 1,
    .valid.max_access_size = 1,
    .impl.min_access_size = 1,
    .impl.max_access_size = 1,
};

/* --- C API ---------------------------------------------------------------- */

void mc146818rtc_set_cmos_data(ISADevice *rtc, int addr, uint8_t val)
{
    RTCState *s = MC146818_RTC(rtc);

    assert(addr >= 0 && addr < RTC_CMOS_SIZE);
    s->cmos[addr] = val;
}

void rtc_cmos_set_pc_memory(ISADevice *rtc, uint64_t below_4g,
                            uint64_t above_4g, unsigned cpus)
{
    uint64_t ext_kib = below_4g > (1 << 20) ?
                       (below_4g >> 10) - 1024 : 0;
    uint64_t above_16m = below_4g > (16 << 20) ?
                         (below_4g - (16 << 20)) >> 16 : 0;
    uint64_t high = above_4g >> 16;

    ext_kib = MIN(ext_kib, 0xffff);
    above_16m = MIN(above_16m, 0xffff);
    mc146818rtc_set_cmos_data(rtc, 0x15, 640 & 0xff);
    mc146818rtc_set_cmos_data(rtc, 0x16, 640 >> 8);
    mc146818rtc_set_cmos_data(rtc, 0x17, ext_kib);
    mc146818rtc_set_cmos_data(rtc, 0x18, ext_kib >> 8);
    mc146818rtc_set_cmos_data(rtc, 0x30, ext_kib);
    mc146818rtc_set_cmos_data(rtc, 0x31, ext_kib >> 8);
    mc146818rtc_set_cmos_data(rtc, 0x34, above_16m);
    mc146818rtc_set_cmos_data(rtc, 0x35, above_16m >> 8);
    mc146818rtc_set_cmos_data(rtc, 0x5b, high);
    mc146818rtc_set_cmos_data(rtc, 0x5c, high >> 8);
    mc146818rtc_set_cmos_data(rtc, 0x5d, high >> 16);
    mc146818rtc_set_cmos_data(rtc, 0x5f, cpus ? cpus - 1 : 0);
}

/* --- Device ------------------------------------------------------------ */

static void rtc_reset(DeviceState *dev)
{
    RTCState *s = MC146818_RTC(dev);

    /* The clock and the CMOS RAM survive a reset; the interrupts do not. */
    s->cmos[RTC_REG_B] &= ~(REG_B_PIE | REG_B_AIE | REG_B_UIE | REG_B_SQWE);
    s->cmos[RTC_REG_C] = 0;
    isa_irq_set(s->irq, 0);
    rtc_periodic_update(s);
    rtc_update_update(s);
}

static bool rtc_realize(DeviceState *dev, Error **errp)
{
    RTCState *s = MC146818_RTC(dev);
    ISADevice *isa = ISA_DEVICE(dev);

    if (!isa_get_irq(isa, s->isairq, &s->irq, errp)) {
        return false;
    }
    memory_region_init_io(&s->io, OBJECT(dev), &rtc_io_ops, s, "rtc", 2);
    s->io_inited = true;
    if (!isa_register_ioport(isa, &s->io, s->iobase, errp)) {
        memory_region_finalize(&s->io);
        s->io_inited = false;
        return false;
    }
    s->cmos[RTC_REG_A] = REG_A_RESET;
    s->cmos[RTC_REG_B] = REG_B_24H;
    s->cmos[RTC_REG_D] = REG_D_VRT;
    s->base_sec = time(NULL);
    s->base_ns = rtc_now_ns();
    s->periodic_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, rtc_periodic_timer,
                                     s);
    s->update_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, rtc_update_timer, s);
    return true;
}

static void rtc_unrealize(DeviceState *dev)
{
    RTCState *s = MC146818_RTC(dev);

    timer_free(s->periodic_timer);
    timer_free(s->update_timer);
    s->periodic_timer = s->update_timer = NULL;
    if (s->io_inited) {
        memory_region_finalize(&s->io);
        s->io_inited = false;
    }
}

static const Property rtc_props[] = {
    DEFINE_PROP_INT32("base_year", RTCState, base_year, 0),
    DEFINE_PROP_UINT32("iobase", RTCState, iobase, 0x70),
    DEFINE_PROP_UINT32("irq", RTCState, isairq, 8),
    DEFINE_PROP_END_OF_LIST(),
};

static void rtc_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->desc = "MC146818 real-time clock and CMOS";
    dc->user_creatable = false;
    dc->realize = rtc_realize;
    dc->unrealize = rtc_unrealize;
    dc->reset = rtc_reset;
    device_class_set_props(dc, rtc_props);
}

static const TypeInfo rtc_types[] = {
    {
        .name = TYPE_MC146818_RTC,
        .parent = TYPE_ISA_DEVICE,
        .instance_size = sizeof(RTCState),
        .class_init = rtc_class_init,
    },
};

DEFINE_TYPES(rtc_types)
