/*
 * The main loop: GLib's default main context, plus the timer source.
 */
#ifndef SYSTEM_MAIN_LOOP_H
#define SYSTEM_MAIN_LOOP_H

#include <stdbool.h>

/* Installs the timer GSource on the default context (idempotent). */
void main_loop_init(void);
/* One iteration; blocks for events when blocking is true. */
void main_loop_wait(bool blocking);
/* Wakes a blocked main_loop_wait() (callable from any thread). */
void main_loop_notify(void);

/*
 * The big lock: held by the main loop while it dispatches, and by vCPU
 * threads around device emulation.
 */
void bql_lock(void);
void bql_unlock(void);
bool bql_locked(void);

#endif
