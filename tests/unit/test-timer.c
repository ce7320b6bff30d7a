/*
 * Virtual clock and timers under manual (qtest) control.
 */
#include <glib.h>

#include "system/timer.h"

typedef struct Hit {
    int id;
    int64_t at;
} Hit;

static GArray *hits;
static QEMUTimer *rearm_timer;

static void record(void *opaque)
{
    Hit h = { GPOINTER_TO_INT(opaque), qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) };

    g_array_append_val(hits, h);
}

static void rearm(void *opaque)
{
    record(opaque);
    if (hits->len < 3) {
        timer_mod(rearm_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + 10);
    }
}

static void test_order_and_deadlines(void)
{
    QEMUTimer *a, *b, *c;

    qemu_clock_set_virtual_manual(true);
    hits = g_array_new(false, false, sizeof(Hit));
    qemu_clock_advance_virtual(1000);
    g_assert_cmpint(qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL), ==, 1000);
    g_assert_cmpint(qemu_clock_next_virtual_deadline(), ==, -1);

    a = timer_new_ns(QEMU_CLOCK_VIRTUAL, record, GINT_TO_POINTER(1));
    b = timer_new_ms(QEMU_CLOCK_VIRTUAL, record, GINT_TO_POINTER(2));
    c = timer_new_ns(QEMU_CLOCK_VIRTUAL, record, GINT_TO_POINTER(3));
    timer_mod(a, 5000);
    timer_mod(b, 1);             /* 1 ms = 1,000,000 ns */
    timer_mod(c, 3000);
    g_assert_true(timer_pending(a));
    g_assert_cmpint(qemu_clock_next_virtual_deadline(), ==, 3000);
    g_assert_cmpint(timer_expire_time_ns(b), ==, 1000000);

    /* Advancing runs expired timers in deadline order, each at its time. */
    qemu_clock_advance_virtual(10000);
    g_assert_cmpint(hits->len, ==, 2);
    g_assert_cmpint(g_array_index(hits, Hit, 0).id, ==, 3);
    g_assert_cmpint(g_array_index(hits, Hit, 0).at, ==, 3000);
    g_assert_cmpint(g_array_index(hits, Hit, 1).id, ==, 1);
    g_assert_cmpint(g_array_index(hits, Hit, 1).at, ==, 5000);
    g_assert_cmpint(qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL), ==, 10000);

    /* A deleted timer never fires; the clock never goes back. */
    timer_del(b);
    g_assert_false(timer_pending(b));
    g_assert_cmpint(qemu_clock_advance_virtual(5), ==, 10000);
    qemu_clock_advance_virtual(2000000);
    g_assert_cmpint(hits->len, ==, 2);

    /* A timer that re-arms itself during the advance runs again. */
    rearm_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, rearm, GINT_TO_POINTER(4));
    timer_mod(rearm_timer, 2000010);
    qemu_clock_advance_virtual(3000000);
    g_assert_cmpint(hits->len, ==, 3);
    g_assert_cmpint(g_array_index(hits, Hit, 2).at, ==, 2000010);
    timer_free(rearm_timer);
    timer_free(a);
    timer_free(b);
    timer_free(c);
    g_array_free(hits, true);
}

static void test_huge_expiry_saturates(void)
{
    QEMUTimer *t = timer_new_ms(QEMU_CLOCK_VIRTUAL, record, NULL);

    timer_mod(t, INT64_MAX / 2);
    g_assert_cmpint(timer_expire_time_ns(t), ==, INT64_MAX);
    timer_free(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/timer/virtual/order-and-deadlines",
                    test_order_and_deadlines);
    g_test_add_func("/timer/virtual/huge-expiry-saturates",
                    test_huge_expiry_saturates);
    return g_test_run();
}
