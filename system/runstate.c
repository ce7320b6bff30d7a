/*
 * Run state and the shutdown/reset request machinery.
 */
#include <stdio.h>
#include <glib.h>
#include <unistd.h>

#include "system/runstate.h"
#include "system/main-loop.h"
#include "system/timer.h"
#include "hw/boards.h"
#include "qapi/qapi-commands.h"
#include "qapi/qapi-events.h"

static RunState current_run_state = RUN_STATE_PRELAUNCH;
static ShutdownCause shutdown_requested;
static ShutdownCause reset_requested;
static int shutdown_exit_code;
static bool shutdown_has_code;
static int killed_signal;

RunState runstate_get(void)
{
    return current_run_state;
}

void runstate_set(RunState state)
{
    current_run_state = state;
}

bool runstate_is_running(void)
{
    return current_run_state == RUN_STATE_RUNNING;
}

typedef struct VMChangeStateEntry {
    VMChangeStateHandler *cb;
    void *opaque;
} VMChangeStateEntry;

static GList *vm_change_state_handlers;

void qemu_add_vm_change_state_handler(VMChangeStateHandler *cb, void *opaque)
{
    VMChangeStateEntry *e = g_new0(VMChangeStateEntry, 1);

    e->cb = cb;
    e->opaque = opaque;
    vm_change_state_handlers = g_list_append(vm_change_state_handlers, e);
}

void qemu_del_vm_change_state_handler(VMChangeStateHandler *cb, void *opaque)
{
    for (GList *l = vm_change_state_handlers; l; l = l->next) {
        VMChangeStateEntry *e = l->data;

        if (e->cb == cb && e->opaque == opaque) {
            vm_change_state_handlers =
                g_list_delete_link(vm_change_state_handlers, l);
            g_free(e);
            return;
        }
    }
}

static void vm_state_notify(bool running, RunState state)
{
    for (GList *l = vm_change_state_handlers; l; l = l->next) {
        VMChangeStateEntry *e = l->data;

        e->cb(e->opaque, running, state);
    }
}

void vm_start(void)
{
    if (runstate_is_running()) {
        return;
    }
    qemu_clock_virtual_enable(true);
    runstate_set(RUN_STATE_RUNNING);
    vm_state_notify(true, RUN_STATE_RUNNING);
    qapi_event_send_resume();
}

void vm_stop(RunState state)
{
    if (runstate_is_running()) {
        qemu_clock_virtual_enable(false);
        runstate_set(state);
        vm_state_notify(false, state);
        qapi_event_send_stop();
    } else {
        runstate_set(state);
    }
}

static bool cause_is_guest(ShutdownCause cause)
{
    return cause == SHUTDOWN_CAUSE_GUEST_SHUTDOWN ||
           cause == SHUTDOWN_CAUSE_GUEST_RESET ||
           cause == SHUTDOWN_CAUSE_GUEST_PANIC;
}

void qemu_system_reset(ShutdownCause cause)
{
    MachineState *ms = current_machine_get();

    if (ms) {
        machine_reset(ms);
    }
    if (cause != SHUTDOWN_CAUSE_NONE) {
        qapi_event_send_reset(cause_is_guest(cause), cause);
    }
}

void qemu_system_reset_request(ShutdownCause cause)
{
    reset_requested = cause;
    main_loop_notify();
}

void qemu_system_shutdown_request(ShutdownCause cause)
{
    shutdown_requested = cause;
    main_loop_notify();
}

void qemu_system_shutdown_request_with_code(ShutdownCause cause,
                                            int exit_code)
{
    shutdown_exit_code = exit_code;
    shutdown_has_code = true;
    qemu_system_shutdown_request(cause);
}

void qemu_system_killed(int signal, int pid)
{
    killed_signal = signal;
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_SIGNAL);
}

bool main_loop_should_exit(int *status)
{
    if (shutdown_requested != SHUTDOWN_CAUSE_NONE) {
        ShutdownCause cause = shutdown_requested;

        if (killed_signal) {
            fprintf(stderr, "viommu-system-x86_64: terminating on signal "
                    "%d\n", killed_signal);
        }
        qapi_event_send_shutdown(cause_is_guest(cause), cause);
        vm_stop(RUN_STATE_SHUTDOWN);
        *status = shutdown_has_code ? shutdown_exit_code : 0;
        return true;
    }
    if (reset_requested != SHUTDOWN_CAUSE_NONE) {
        ShutdownCause cause = reset_requested;

        reset_requested = SHUTDOWN_CAUSE_NONE;
        qemu_system_reset(cause);
    }
    return false;
}

/* QMP */

StatusInfo *qmp_query_status(Error **errp)
{
    StatusInfo *info = g_new0(StatusInfo, 1);

    info->running = runstate_is_running();
    info->status = current_run_state;
    return info;
}

void qmp_stop(Error **errp)
{
    vm_stop(RUN_STATE_PAUSED);
}

void qmp_cont(Error **errp)
{
    if (current_run_state == RUN_STATE_SHUTDOWN) {
        error_setg(errp, "Resetting the Virtual Machine is required");
        return;
    }
    vm_start();
}

void qmp_system_reset(Error **errp)
{
    qemu_system_reset_request(SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET);
}

void qmp_quit(Error **errp)
{
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_QMP_QUIT);
}
