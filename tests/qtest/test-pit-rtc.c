/*
 * PIT 8254 and MC146818 RTC on the virtual clock (docs/platform.md).
 * PIT: mode 2 counts down with clock_step and drives IRQ 0 on I/O APIC
 * pin 2 (a rising edge once per period), mode 0 terminal count, counter
 * latch and read-back status, channel 2 gate and OUT through port 0x61
 * (the delay-loop calibration pattern).  RTC: the time is the host's,
 * in BCD and 24-hour format at reset, UIP before each update, setting the
 * time under B.SET with rollover, binary and 12-hour formats, the
 * periodic interrupt on pin 8 acknowledged by reading C, and the CMOS
 * memory-size bytes.
 */
#include <string.h>
#include <time.h>
#include <glib.h>

#include "libqtest.h"

#define PIT_CH0         0x40
#define PIT_CH2         0x42
#define PIT_CMD         0x43
#define PORT61          0x61
#define PIT_FREQ        1193182ull
#define IOAPIC_PIN_PIT  2

#define RTC_INDEX       0x70
#define RTC_DATA        0x71
#define IOAPIC_PIN_RTC  8

/* Virtual ns of PIT tick t after a load at time 0 (rounded up). */
static int64_t pit_tick_ns(uint64_t t)
{
    return (t * 1000000000ull + PIT_FREQ - 1) / PIT_FREQ;
}

/* LSB then MSB (two statements: the order of the reads matters). */
static uint16_t pit_read_word(QTestState *s, int ch)
{
    uint16_t v = qtest_inb(s, PIT_CH0 + ch);

    return v | qtest_inb(s, PIT_CH0 + ch) << 8;
}

static uint16_t pit_latch_read(QTestState *s, int ch)
{
    qtest_outb(s, PIT_CMD, ch << 6);            /* counter latch */
    return pit_read_word(s, ch);
}

static void test_pit_mode2(void)
{
    QTestState *s = qtest_init("-M q35");

    qtest_irq_intercept_in(s, "ioapic");
    g_assert_false(qtest_get_irq(s, IOAPIC_PIN_PIT));
    /* Channel 0, LSB then MSB, mode 2, count 1000, at virtual time 0. */
    qtest_outb(s, PIT_CMD, 0x34);
    qtest_outb(s, PIT_CH0, 1000 & 0xff);
    qtest_outb(s, PIT_CH0, 1000 >> 8);
    g_assert_true(qtest_get_irq(s, IOAPIC_PIN_PIT));    /* OUT high */
    g_assert_false(qtest_get_irq(s, 0));                /* not pin 0 */
    g_assert_cmpuint(pit_latch_read(s, 0), ==, 1000);

    qtest_clock_step(s, pit_tick_ns(100));
    g_assert_cmpuint(pit_latch_read(s, 0), ==, 900);
    /* Unlatched word reads: LSB then MSB of the live count. */
    qtest_clock_step(s, pit_tick_ns(400) - pit_tick_ns(100));
    g_assert_cmpuint(pit_read_word(s, 0),
                     ==, 600);

    /* OUT drops for the tick at count 1 ... */
    g_assert_cmpint(qtest_clock_step_next(s), ==, pit_tick_ns(999));
    g_assert_false(qtest_get_irq(s, IOAPIC_PIN_PIT));
    g_assert_cmpuint(pit_latch_read(s, 0), ==, 1);
    /* ... and rises at the reload: the interrupt, once per 1000 ticks. */
    g_assert_cmpint(qtest_clock_step_next(s), ==, pit_tick_ns(1000));
    g_assert_true(qtest_get_irq(s, IOAPIC_PIN_PIT));
    g_assert_cmpuint(pit_latch_read(s, 0), ==, 1000);
    g_assert_cmpint(qtest_clock_step_next(s), ==, pit_tick_ns(1999));
    g_assert_cmpint(qtest_clock_step_next(s), ==, pit_tick_ns(2000));
    g_assert_true(qtest_get_irq(s, IOAPIC_PIN_PIT));

    /* Read-back: status (OUT, access, mode) then the count. */
    qtest_clock_step(s, pit_tick_ns(2010) - pit_tick_ns(2000));
    qtest_outb(s, PIT_CMD, 0xc2);
    g_assert_cmphex(qtest_inb(s, PIT_CH0), ==, 0x80 | 0x30 | (2 << 1));
    g_assert_cmpuint(pit_read_word(s, 0),
                     ==, 990);
    qtest_quit(s);
}

static void test_pit_mode0(void)
{
    QTestState *s = qtest_init("-M q35");

    qtest_irq_intercept_in(s, "ioapic");
    /* Mode 0: OUT low after the mode write, high at terminal count. */
    qtest_outb(s, PIT_CMD, 0x30);
    g_assert_false(qtest_get_irq(s, IOAPIC_PIN_PIT));
    qtest_outb(s, PIT_CH0, 100);
    qtest_outb(s, PIT_CH0, 0);
    qtest_clock_step(s, pit_tick_ns(50));
    g_assert_false(qtest_get_irq(s, IOAPIC_PIN_PIT));
    g_assert_cmpuint(pit_latch_read(s, 0), ==, 50);
    g_assert_cmpint(qtest_clock_step_next(s), ==, pit_tick_ns(100));
    g_assert_true(qtest_get_irq(s, IOAPIC_PIN_PIT));
    /* It stays high; the count wraps on. */
    qtest_clock_step(s, pit_tick_ns(110) - pit_tick_ns(100));
    g_assert_true(qtest_get_irq(s, IOAPIC_PIN_PIT));
    g_assert_cmpuint(pit_latch_read(s, 0), ==, 0x10000 - 10);
    /* Latching twice keeps the first value until it is read. */
    qtest_outb(s, PIT_CMD, 0x00);
    qtest_clock_step(s, pit_tick_ns(5));
    qtest_outb(s, PIT_CMD, 0x00);
    g_assert_cmpuint(pit_read_word(s, 0), ==,
                     0x10000 - 10);
    qtest_quit(s);
}

/* Linux's and kvm-unit-tests' way to time 1 ms: channel 2 in mode 0. */
static void test_pit_channel2_gate(void)
{
    QTestState *s = qtest_init("-M q35");
    uint16_t latch = 1193;              /* ~1 ms */

    g_assert_cmphex(qtest_inb(s, PORT61) & 0x03, ==, 0);
    qtest_outb(s, PORT61, (qtest_inb(s, PORT61) & ~0x02) | 0x01);
    g_assert_cmphex(qtest_inb(s, PORT61) & 0x01, ==, 0x01);
    qtest_outb(s, PIT_CMD, 0xb0);       /* channel 2, LSB/MSB, mode 0 */
    qtest_outb(s, PIT_CH2, latch & 0xff);
    qtest_outb(s, PIT_CH2, latch >> 8);
    g_assert_cmphex(qtest_inb(s, PORT61) & 0x20, ==, 0);
    qtest_clock_step(s, 999 * 1000);
    g_assert_cmphex(qtest_inb(s, PORT61) & 0x20, ==, 0);
    g_assert_cmpuint(pit_latch_read(s, 2), <, 5);
    qtest_clock_step(s, 1000);
    g_assert_cmphex(qtest_inb(s, PORT61) & 0x20, ==, 0x20);

    /* Mode 2 on channel 2 restarts on a rising gate edge. */
    qtest_outb(s, PIT_CMD, 0xb4);
    qtest_outb(s, PIT_CH2, 0x00);
    qtest_outb(s, PIT_CH2, 0x10);       /* 0x1000 */
    qtest_clock_step(s, pit_tick_ns(0x800));
    g_assert_cmpuint(pit_latch_read(s, 2), <=, 0x800);
    qtest_outb(s, PORT61, 0x00);
    qtest_outb(s, PORT61, 0x01);
    g_assert_cmpuint(pit_latch_read(s, 2), ==, 0x1000);
    /* Channel 2 never touches IRQ 0. */
    qtest_quit(s);
}

/* --- RTC ---------------------------------------------------------------------- */

static uint8_t cmos_read(QTestState *s, uint8_t reg)
{
    qtest_outb(s, RTC_INDEX, reg);
    return qtest_inb(s, RTC_DATA);
}

static void cmos_write(QTestState *s, uint8_t reg, uint8_t val)
{
    qtest_outb(s, RTC_INDEX, reg);
    qtest_outb(s, RTC_DATA, val);
}

static int bcd(uint8_t v)
{
    g_assert_cmpuint(v & 0x0f, <=, 9);
    g_assert_cmpuint(v >> 4, <=, 9);
    return (v >> 4) * 10 + (v & 0x0f);
}

static void test_rtc_time(void)
{
    QTestState *s = qtest_init("-M q35");
    time_t host = time(NULL), rtc;
    struct tm tm = { 0 };
    int sec0;

    g_assert_cmphex(cmos_read(s, 0x0a), ==, 0x26);
    g_assert_cmphex(cmos_read(s, 0x0b), ==, 0x02);  /* 24 h, BCD */
    g_assert_cmphex(cmos_read(s, 0x0c), ==, 0);
    g_assert_cmphex(cmos_read(s, 0x0d), ==, 0x80);
    tm.tm_sec = bcd(cmos_read(s, 0x00));
    tm.tm_min = bcd(cmos_read(s, 0x02));
    tm.tm_hour = bcd(cmos_read(s, 0x04));
    tm.tm_mday = bcd(cmos_read(s, 0x07));
    tm.tm_mon = bcd(cmos_read(s, 0x08)) - 1;
    tm.tm_year = bcd(cmos_read(s, 0x32)) * 100 + bcd(cmos_read(s, 0x09)) -
                 1900;
    g_assert_cmpint(tm.tm_sec, <, 60);
    g_assert_cmpint(tm.tm_min, <, 60);
    g_assert_cmpint(tm.tm_hour, <, 24);
    rtc = timegm(&tm);
    /* The host's UTC time when the machine started. */
    g_assert_cmpint(rtc, >=, host - 60);
    g_assert_cmpint(rtc, <=, host + 60);
    g_assert_cmpint(bcd(cmos_read(s, 0x06)), ==, tm.tm_wday + 1);

    /* The virtual clock moves it: UIP in the last 244 us of a second. */
    sec0 = bcd(cmos_read(s, 0x00));
    qtest_clock_step(s, 1000000000 - 300000);
    g_assert_cmphex(cmos_read(s, 0x0a) & 0x80, ==, 0);
    qtest_clock_step(s, 100000);
    g_assert_cmphex(cmos_read(s, 0x0a) & 0x80, ==, 0x80);
    g_assert_cmpint(bcd(cmos_read(s, 0x00)), ==, sec0);
    qtest_clock_step(s, 200000);
    g_assert_cmphex(cmos_read(s, 0x0a) & 0x80, ==, 0);
    g_assert_cmpint(bcd(cmos_read(s, 0x00)), ==, (sec0 + 1) % 60);
    qtest_quit(s);
}

static void test_rtc_set_formats(void)
{
    QTestState *s = qtest_init("-M q35");

    /* Set 1999-12-31 23:59:58 with the clock stopped. */
    cmos_write(s, 0x0b, 0x82);
    cmos_write(s, 0x00, 0x58);
    cmos_write(s, 0x02, 0x59);
    cmos_write(s, 0x04, 0x23);
    cmos_write(s, 0x07, 0x31);
    cmos_write(s, 0x08, 0x12);
    cmos_write(s, 0x09, 0x99);
    cmos_write(s, 0x32, 0x19);
    qtest_clock_step(s, 5ll * 1000000000);          /* stopped: no change */
    g_assert_cmphex(cmos_read(s, 0x00), ==, 0x58);
    g_assert_cmphex(cmos_read(s, 0x0a) & 0x80, ==, 0);  /* no UIP */
    cmos_write(s, 0x0b, 0x02);
    qtest_clock_step(s, 2ll * 1000000000);
    /* Rolled over into 2000-01-01 00:00:00, a Saturday. */
    g_assert_cmphex(cmos_read(s, 0x00), ==, 0x00);
    g_assert_cmphex(cmos_read(s, 0x02), ==, 0x00);
    g_assert_cmphex(cmos_read(s, 0x04), ==, 0x00);
    g_assert_cmphex(cmos_read(s, 0x07), ==, 0x01);
    g_assert_cmphex(cmos_read(s, 0x08), ==, 0x01);
    g_assert_cmphex(cmos_read(s, 0x09), ==, 0x00);
    g_assert_cmphex(cmos_read(s, 0x32), ==, 0x20);
    g_assert_cmphex(cmos_read(s, 0x06), ==, 0x07);

    /* 12-hour BCD: midnight is 12 AM. */
    cmos_write(s, 0x0b, 0x00);
    g_assert_cmphex(cmos_read(s, 0x04), ==, 0x12);
    cmos_write(s, 0x04, 0x81);                      /* 1 PM */
    cmos_write(s, 0x0b, 0x02);
    g_assert_cmphex(cmos_read(s, 0x04), ==, 0x13);
    /* Binary 24-hour. */
    cmos_write(s, 0x0b, 0x06);
    g_assert_cmphex(cmos_read(s, 0x04), ==, 13);
    g_assert_cmphex(cmos_read(s, 0x32), ==, 20);
    cmos_write(s, 0x02, 45);
    g_assert_cmphex(cmos_read(s, 0x02), ==, 45);
    /* 12-hour binary: 1 PM = 0x81. */
    cmos_write(s, 0x0b, 0x04);
    g_assert_cmphex(cmos_read(s, 0x04), ==, 0x81);
    qtest_quit(s);
}

static void test_rtc_periodic(void)
{
    QTestState *s = qtest_init("-M q35");

    qtest_irq_intercept_in(s, "ioapic");
    cmos_write(s, 0x0a, 0x2f);                      /* rate 15: 2 Hz */
    cmos_write(s, 0x0b, 0x42);                      /* PIE */
    qtest_clock_step(s, 499 * 1000 * 1000);
    g_assert_false(qtest_get_irq(s, IOAPIC_PIN_RTC));
    g_assert_cmpint(qtest_clock_step_next(s), ==, 500 * 1000 * 1000);
    g_assert_true(qtest_get_irq(s, IOAPIC_PIN_RTC));
    /* Reading C reports IRQF|PF, clears it and drops the line. */
    g_assert_cmphex(cmos_read(s, 0x0c), ==, 0xc0);
    g_assert_false(qtest_get_irq(s, IOAPIC_PIN_RTC));
    g_assert_cmphex(cmos_read(s, 0x0c), ==, 0);
    g_assert_cmpint(qtest_clock_step_next(s), ==, 1000 * 1000 * 1000);
    g_assert_true(qtest_get_irq(s, IOAPIC_PIN_RTC));

    /* 1024 Hz (rate 6, the reset rate). */
    cmos_write(s, 0x0a, 0x26);
    cmos_read(s, 0x0c);
    g_assert_cmpint(qtest_clock_step_next(s), ==,
                    1000 * 1000 * 1000 + 976563);
    g_assert_true(qtest_get_irq(s, IOAPIC_PIN_RTC));
    /* PIE off: no more periodic interrupts. */
    cmos_write(s, 0x0b, 0x02);
    cmos_read(s, 0x0c);
    qtest_clock_step(s, 10 * 1000 * 1000);
    g_assert_false(qtest_get_irq(s, IOAPIC_PIN_RTC));
    g_assert_cmphex(cmos_read(s, 0x0c), ==, 0);

    /* Update-ended interrupt once a second. */
    cmos_write(s, 0x0b, 0x12);
    qtest_clock_step_next(s);
    g_assert_true(qtest_get_irq(s, IOAPIC_PIN_RTC));
    g_assert_cmphex(cmos_read(s, 0x0c), ==, 0x90);
    qtest_quit(s);
}

static void test_rtc_cmos(void)
{
    QTestState *s = qtest_init("-M q35 -m 3G");

    /* Base memory 640 KiB; KiB above 1 MiB capped at 0xffff. */
    g_assert_cmphex(cmos_read(s, 0x15) | cmos_read(s, 0x16) << 8, ==, 640);
    g_assert_cmphex(cmos_read(s, 0x30) | cmos_read(s, 0x31) << 8, ==,
                    0xffff);
    /* 2 GiB below 4 GiB: (2G - 16M) / 64K; 1 GiB above: 1G / 64K. */
    g_assert_cmphex(cmos_read(s, 0x34) | cmos_read(s, 0x35) << 8, ==,
                    0x7f00);
    g_assert_cmphex(cmos_read(s, 0x5b) | cmos_read(s, 0x5c) << 8 |
                    cmos_read(s, 0x5d) << 16, ==, 0x4000);
    g_assert_cmphex(cmos_read(s, 0x5f), ==, 0);
    /* Plain RAM bytes; bit 7 of the index (NMI mask) is not an address. */
    cmos_write(s, 0x40, 0xa5);
    g_assert_cmphex(cmos_read(s, 0x40), ==, 0xa5);
    g_assert_cmphex(cmos_read(s, 0x80 | 0x40), ==, 0xa5);
    qtest_quit(s);

    s = qtest_init("-M q35 -m 64");
    g_assert_cmphex(cmos_read(s, 0x30) | cmos_read(s, 0x31) << 8, ==,
                    63 * 1024);
    g_assert_cmphex(cmos_read(s, 0x34) | cmos_read(s, 0x35) << 8, ==,
                    (48 << 20) >> 16);
    g_assert_cmphex(cmos_read(s, 0x5b), ==, 0);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pit/mode2/countdown-irq0", test_pit_mode2);
    g_test_add_func("/pit/mode0/terminal-count", test_pit_mode0);
    g_test_add_func("/pit/channel2/gate-port61", test_pit_channel2_gate);
    g_test_add_func("/rtc/time/host-bcd-uip", test_rtc_time);
    g_test_add_func("/rtc/time/set-and-formats", test_rtc_set_formats);
    g_test_add_func("/rtc/irq/periodic-update", test_rtc_periodic);
    g_test_add_func("/rtc/cmos/memory-size", test_rtc_cmos);
    return g_test_run();
}
