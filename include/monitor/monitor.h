/*
 * The QMP monitor.
 *
 * Each monitor serves one chardev.  A connection starts with the greeting
 * and in capabilities negotiation, where only qmp_capabilities runs; after
 * it, every command of the schema.  Requests are dispatched one at a time,
 * in order, from the main loop; the reply is written before the next
 * request is read (viommu does not offer out-of-band execution).  Events
 * go to every monitor whose connection has completed negotiation.
 */
#ifndef MONITOR_MONITOR_H
#define MONITOR_MONITOR_H

#include <stdbool.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include "chardev/char.h"
#include "qapi/error.h"
#include "qapi/qjson.h"
#include "qapi/qmp-dispatch.h"

/*
 * Monitor state.  The fields are private to monitor/.
 *
 * Lifetime: a monitor holds a reference on its chardev and is freed by
 * monitor_cleanup().  The fd table survives reconnection, as in QEMU.
 */
typedef struct Monitor {
    Chardev *chr;
    bool pretty;
    /* qmp_commands() once negotiated, else the negotiation-only list. */
    const QmpCommandList *commands;
    JSONStreamer *parser;       /* NULL while no connection is open */
    GHashTable *fds;            /* getfd name -> fd (int in a pointer) */
} Monitor;

/* Builds the negotiation command list and installs the event emitter. */
void monitor_init_globals(void);
/* Frees every monitor (closing its fds) and detaches from the chardevs. */
void monitor_cleanup(void);

/*
 * Serves QMP on chr (-mon chardev=X,mode=control[,pretty=on], -qmp).
 * Fails if chr already has a frontend.
 */
bool monitor_new_qmp(Chardev *chr, bool pretty, Error **errp);

/* The monitor whose command is running, or NULL outside dispatch. */
Monitor *monitor_cur(void);

/* The numbers of VIOMMU_VERSION ("0.1.0"). */
void viommu_version_triple(int *major, int *minor, int *micro);

/*
 * fds passed with getfd.  monitor_get_fd removes the named fd from mon's
 * table and hands it to the caller.  monitor_fd_param accepts a number
 * (that fd, for the command line; mon may be NULL) or, with a monitor, a
 * getfd name as for monitor_get_fd.  Both return -1 with errp set on
 * failure.
 */
int monitor_get_fd(Monitor *mon, const char *fdname, Error **errp);
int monitor_fd_param(Monitor *mon, const char *fdname, Error **errp);

/*
 * monitor/ internals shared between its files; not for use elsewhere.
 */
GList *monitor_list(void);              /* Monitor *, in creation order */
void monitor_list_add(Monitor *mon);
void monitor_qmp_init_globals(void);
void monitor_qmp_free(Monitor *mon);
bool monitor_is_negotiated(const Monitor *mon);
void monitor_set_negotiated(Monitor *mon);
/* Writes msg as one line (CRLF-terminated); msg stays the caller's. */
void monitor_qmp_send(Monitor *mon, JsonObject *msg);
void monitor_fds_init(Monitor *mon);
void monitor_fds_cleanup(Monitor *mon);

#endif
