/*
 * Main loop, clocks and timers.
 *
 * Timers live in one list per clock, sorted by expiry.  A GSource on the
 * default main context wakes the loop at the earliest deadline of the
 * clocks that move by themselves (the virtual clock does not when qtest
 * drives it).
 */
#include <glib.h>
#include <glib-unix.h>
#include <pthread.h>

#include "system/main-loop.h"
#include "system/timer.h"

struct QEMUTimer {
    QEMUClockType type;
    int scale;
    QEMUTimerCB *cb;
    void *opaque;
    int64_t expire_ns;         /* valid while pending */
    bool pending;
};

typedef struct QEMUClock {
    GList *timers;             /* pending QEMUTimer *, by expire_ns */
} QEMUClock;

static QEMUClock clocks[QEMU_CLOCK_MAX];

static bool virtual_manual;
static int64_t virtual_manual_ns;
/* Automatic mode: virtual = host monotonic - offset, frozen when stopped. */
static int64_t virtual_offset_ns;
static bool virtual_enabled = true;
static int64_t virtual_frozen_ns;
/* The virtual clock starts at 0 the first time it is read. */
static bool virtual_started;

static int64_t host_monotonic_ns(void)
{
    return g_get_monotonic_time() * 1000;
}

int64_t qemu_clock_get_ns(QEMUClockType type)
{
    if (type == QEMU_CLOCK_REALTIME) {
        return host_monotonic_ns();
    }
    if (virtual_manual) {
        return virtual_manual_ns;
    }
    if (!virtual_started) {
        virtual_started = true;
        virtual_offset_ns = host_monotonic_ns();
    }
    if (!virtual_enabled) {
        return virtual_frozen_ns;
    }
    return host_monotonic_ns() - virtual_offset_ns;
}

void qemu_clock_virtual_enable(bool enable)
{
    if (virtual_manual || enable == virtual_enabled) {
        return;
    }
    if (enable) {
        virtual_offset_ns = host_monotonic_ns() - virtual_frozen_ns;
    } else {
        virtual_frozen_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    }
    virtual_enabled = enable;
}

void qemu_clock_set_virtual_manual(bool manual)
{
    if (manual == virtual_manual) {
        return;
    }
    if (manual) {
        virtual_manual_ns = virtual_started ?
                            qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) : 0;
        virtual_started = true;
    } else {
        virtual_offset_ns = host_monotonic_ns() - virtual_manual_ns;
    }
    virtual_manual = manual;
}

bool qemu_clock_virtual_is_manual(void)
{
    return virtual_manual;
}

QEMUTimer *timer_new(QEMUClockType type, int scale, QEMUTimerCB *cb,
                     void *opaque)
{
    QEMUTimer *t = g_new0(QEMUTimer, 1);

    t->type = type;
    t->scale = scale;
    t->cb = cb;
    t->opaque = opaque;
    return t;
}

void timer_del(QEMUTimer *t)
{
    if (t && t->pending) {
        clocks[t->type].timers = g_list_remove(clocks[t->type].timers, t);
        t->pending = false;
    }
}

void timer_free(QEMUTimer *t)
{
    if (t) {
        timer_del(t);
        g_free(t);
    }
}

static gint timer_cmp(gconstpointer a, gconstpointer b)
{
    const QEMUTimer *ta = a, *tb = b;

    return ta->expire_ns < tb->expire_ns ? -1 : ta->expire_ns > tb->expire_ns;
}

void timer_mod(QEMUTimer *t, int64_t expire_time)
{
    int64_t ns;

    timer_del(t);
    /* Saturate instead of overflowing on absurd expiry times. */
    if (expire_time > INT64_MAX / t->scale) {
        ns = INT64_MAX;
    } else if (expire_time < 0) {
        ns = 0;
    } else {
        ns = expire_time * t->scale;
    }
    t->expire_ns = ns;
    t->pending = true;
    clocks[t->type].timers = g_list_insert_sorted(clocks[t->type].timers, t,
                                                  timer_cmp);
    main_loop_notify();
}

bool timer_pending(QEMUTimer *t)
{
    return t && t->pending;
}

int64_t timer_expire_time_ns(QEMUTimer *t)
{
    return timer_pending(t) ? t->expire_ns : -1;
}

static int64_t clock_next_deadline(QEMUClockType type)
{
    GList *first = clocks[type].timers;

    return first ? ((QEMUTimer *)first->data)->expire_ns : -1;
}

int64_t qemu_clock_next_virtual_deadline(void)
{
    return clock_next_deadline(QEMU_CLOCK_VIRTUAL);
}

/* Runs one expired timer of the clock, if any. */
static bool clock_run_one(QEMUClockType type, int64_t now)
{
    GList *first = clocks[type].timers;
    QEMUTimer *t;

    if (!first || ((QEMUTimer *)first->data)->expire_ns > now) {
        return false;
    }
    t = first->data;
    clocks[type].timers = g_list_delete_link(clocks[type].timers, first);
    t->pending = false;
    t->cb(t->opaque);
    return true;
}

bool qemu_clock_run_timers(QEMUClockType type)
{
    bool ran = false;
    /* Bound the work: a timer re-arming itself in the past runs once. */
    unsigned budget = 10000;

    while (budget-- && clock_run_one(type, qemu_clock_get_ns(type))) {
        ran = true;
    }
    return ran;
}

int64_t qemu_clock_advance_virtual(int64_t dest)
{
    int64_t deadline;

    if (dest < virtual_manual_ns) {
        return virtual_manual_ns;
    }
    while ((deadline = qemu_clock_next_virtual_deadline()) >= 0 &&
           deadline <= dest) {
        if (deadline > virtual_manual_ns) {
            virtual_manual_ns = deadline;
        }
        clock_run_one(QEMU_CLOCK_VIRTUAL, virtual_manual_ns);
    }
    virtual_manual_ns = dest;
    return virtual_manual_ns;
}

/* The timer source */

static int64_t timers_timeout_ns(void)
{
    int64_t timeout = -1;

    for (int type = 0; type < QEMU_CLOCK_MAX; type++) {
        int64_t deadline, delta;

        if (type == QEMU_CLOCK_VIRTUAL && (virtual_manual || !virtual_enabled)) {
            continue;
        }
        deadline = clock_next_deadline(type);
        if (deadline < 0) {
            continue;
        }
        delta = deadline - qemu_clock_get_ns(type);
        if (delta < 0) {
            delta = 0;
        }
        if (timeout < 0 || delta < timeout) {
            timeout = delta;
        }
    }
    return timeout;
}

static gboolean timer_source_prepare(GSource *source, gint *timeout)
{
    int64_t ns = timers_timeout_ns();

    if (ns < 0) {
        *timeout = -1;
        return FALSE;
    }
    /* Round up to whole milliseconds so we never spin early. */
    *timeout = ns > (int64_t)G_MAXINT * SCALE_MS ? G_MAXINT :
               (gint)((ns + SCALE_MS - 1) / SCALE_MS);
    return ns == 0;
}

static gboolean timer_source_check(GSource *source)
{
    return timers_timeout_ns() == 0;
}

static gboolean timer_source_dispatch(GSource *source, GSourceFunc cb,
                                      gpointer data)
{
    qemu_clock_run_timers(QEMU_CLOCK_REALTIME);
    if (!virtual_manual && virtual_enabled) {
        qemu_clock_run_timers(QEMU_CLOCK_VIRTUAL);
    }
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_source_funcs = {
    .prepare = timer_source_prepare,
    .check = timer_source_check,
    .dispatch = timer_source_dispatch,
};

static GSource *timer_source;

static pthread_mutex_t bql = PTHREAD_MUTEX_INITIALIZER;
static __thread bool bql_held;

/*
 * The default context's poll: the thread that dispatches holds the big
 * lock, and drops it only while it waits, so that vCPU threads can run
 * device code meanwhile.
 */
static gint main_loop_poll(GPollFD *fds, guint nfds, gint timeout)
{
    bool locked = bql_held;
    gint ret;

    if (locked) {
        bql_unlock();
    }
    ret = g_poll(fds, nfds, timeout);
    if (locked) {
        bql_lock();
    }
    return ret;
}

void main_loop_init(void)
{
    if (!timer_source) {
        timer_source = g_source_new(&timer_source_funcs, sizeof(GSource));
        g_source_attach(timer_source, NULL);
        g_main_context_set_poll_func(NULL, main_loop_poll);
    }
}

void main_loop_notify(void)
{
    g_main_context_wakeup(NULL);
}

void bql_lock(void)
{
    pthread_mutex_lock(&bql);
    bql_held = true;
}

void bql_unlock(void)
{
    bql_held = false;
    pthread_mutex_unlock(&bql);
}

bool bql_locked(void)
{
    return bql_held;
}

void bql_cond_wait(pthread_cond_t *cond)
{
    bql_held = false;
    pthread_cond_wait(cond, &bql);
    bql_held = true;
}

void main_loop_wait(bool blocking)
{
    main_loop_init();
    g_main_context_iteration(NULL, blocking);
}
