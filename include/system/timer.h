/*
 * Clocks and timers.
 *
 * QEMU_CLOCK_VIRTUAL is device time.  Under the qtest accelerator it starts
 * at 0 and moves only when the test says so (clock_step/clock_set), so
 * timed device behaviour is deterministic; otherwise it follows the host's
 * monotonic clock while the machine runs.  QEMU_CLOCK_REALTIME always
 * follows the host.  Timers of both run from the main loop.
 */
#ifndef SYSTEM_TIMER_H
#define SYSTEM_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define NANOSECONDS_PER_SECOND 1000000000LL
#define SCALE_MS 1000000
#define SCALE_US 1000
#define SCALE_NS 1

typedef enum QEMUClockType {
    QEMU_CLOCK_REALTIME,
    QEMU_CLOCK_VIRTUAL,
    QEMU_CLOCK_MAX,
} QEMUClockType;

typedef void QEMUTimerCB(void *opaque);
typedef struct QEMUTimer QEMUTimer;

int64_t qemu_clock_get_ns(QEMUClockType type);
static inline int64_t qemu_clock_get_ms(QEMUClockType type)
{
    return qemu_clock_get_ns(type) / SCALE_MS;
}

/* scale: SCALE_NS, SCALE_US or SCALE_MS; expire times are in that unit. */
QEMUTimer *timer_new(QEMUClockType type, int scale, QEMUTimerCB *cb,
                     void *opaque);
static inline QEMUTimer *timer_new_ns(QEMUClockType type, QEMUTimerCB *cb,
                                      void *opaque)
{
    return timer_new(type, SCALE_NS, cb, opaque);
}
static inline QEMUTimer *timer_new_ms(QEMUClockType type, QEMUTimerCB *cb,
                                      void *opaque)
{
    return timer_new(type, SCALE_MS, cb, opaque);
}
void timer_mod(QEMUTimer *t, int64_t expire_time);
void timer_del(QEMUTimer *t);
void timer_free(QEMUTimer *t);   /* also deletes it; NULL is fine */
bool timer_pending(QEMUTimer *t);
int64_t timer_expire_time_ns(QEMUTimer *t);  /* -1 if not pending */

/*
 * Virtual clock control for qtest.  With manual mode on, the virtual clock
 * moves only through qemu_clock_advance_virtual().
 */
void qemu_clock_set_virtual_manual(bool manual);
bool qemu_clock_virtual_is_manual(void);
/* Next pending virtual-clock deadline in ns, or -1 if none. */
int64_t qemu_clock_next_virtual_deadline(void);
/*
 * Moves the virtual clock to dest (never backwards), running every timer
 * that expires on the way in deadline order, each with the clock set to
 * its deadline.  Returns the new clock value.
 */
int64_t qemu_clock_advance_virtual(int64_t dest);
/* Runs expired timers of a clock; returns true if any ran. */
bool qemu_clock_run_timers(QEMUClockType type);
/* Pause/resume the virtual clock in automatic mode (stop/cont). */
void qemu_clock_virtual_enable(bool enable);

#endif
