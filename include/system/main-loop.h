/*
 * The main loop: GLib's default main context, plus the timer source.
 */
#ifndef SYSTEM_MAIN_LOOP_H
#define SYSTEM_MAIN_LOOP_H

#include <pthread.h>
#include <stdbool.h>

/* Installs the timer GSource on the default context (idempotent). */
void main_loop_init(void);
/* One iteration; blocks for events when blocking is true. */
void main_loop_wait(bool blocking);
/* Wakes a blocked main_loop_wait() (callable from any thread). */
void main_loop_notify(void);

/*
 * The big lock: device code, timers and QMP run with it held.  The main
 * thread takes it at start-up (system/vl.c) and keeps it, except while
 * main_loop_wait() polls; vCPU threads take it around each exit they hand
 * to device code, never while the guest runs.
 */
void bql_lock(void);
void bql_unlock(void);
bool bql_locked(void);
/* pthread_cond_wait() on the big lock, which the caller holds. */
void bql_cond_wait(pthread_cond_t *cond);

#endif
