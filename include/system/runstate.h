/*
 * Run state, shutdown and reset requests.
 *
 * Requests are recorded and acted on by the main loop (never from inside
 * the device code that asks), as in QEMU: a device handler that requests a
 * reset must not see the machine reset under its feet.
 */
#ifndef SYSTEM_RUNSTATE_H
#define SYSTEM_RUNSTATE_H

#include <stdbool.h>
#include "qapi/qapi-types.h"

RunState runstate_get(void);
void runstate_set(RunState state);
bool runstate_is_running(void);

void vm_start(void);
void vm_stop(RunState state);

/*
 * Called after the run state changed between running and not running
 * (vm_start, vm_stop), with the big lock held: the accelerator resumes or
 * pauses its vCPUs there.  vm_stop returns once they are paused.
 */
typedef void VMChangeStateHandler(void *opaque, bool running,
                                  RunState state);
void qemu_add_vm_change_state_handler(VMChangeStateHandler *cb,
                                      void *opaque);
void qemu_del_vm_change_state_handler(VMChangeStateHandler *cb,
                                      void *opaque);

/* Resets the machine now and emits RESET unless cause is NONE. */
void qemu_system_reset(ShutdownCause cause);

void qemu_system_reset_request(ShutdownCause cause);
void qemu_system_shutdown_request(ShutdownCause cause);
/* A guest-requested exit with a process exit status (isa-debug-exit). */
void qemu_system_shutdown_request_with_code(ShutdownCause cause,
                                            int exit_code);
/* A signal asked us to terminate. */
void qemu_system_killed(int signal, int pid);

/*
 * Handles pending requests; returns true when the process should exit,
 * with the exit status in *status.
 */
bool main_loop_should_exit(int *status);

#endif
