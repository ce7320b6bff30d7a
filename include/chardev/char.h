/*
 * Character devices: byte streams between the emulator and the outside
 * world (QMP, qtest, serial ports).
 *
 * A chardev is a QOM object living at /chardevs/<id>.  The backend
 * (socket, stdio, file, null) owns the host side: file descriptors, the
 * listening socket, the main-loop sources.  At most one frontend (the
 * monitor, qtest, a UART) is attached; it receives bytes and connection
 * events through the handlers it sets.
 *
 * Events: a backend is "open" while it has a connection (sockets) or at all
 * times (stdio until EOF on stdin, file, null).  The frontend sees
 * CHR_EVENT_OPENED once per connection, before any byte of it, and
 * CHR_EVENT_CLOSED when the connection goes away.  Events are never
 * delivered from inside a call the frontend makes into this API (writes,
 * set_handlers, disconnect); those are deferred to an idle callback, so a
 * frontend may tear down its state from its event handler safely.
 *
 * Everything runs in the main loop thread (GLib's default main context).
 */
#ifndef CHARDEV_CHAR_H
#define CHARDEV_CHAR_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include "qapi/error.h"
#include "qom/object.h"

#define TYPE_CHARDEV "chardev"
#define TYPE_CHARDEV_SOCKET "chardev-socket"
#define TYPE_CHARDEV_STDIO "chardev-stdio"
#define TYPE_CHARDEV_FILE "chardev-file"
#define TYPE_CHARDEV_NULL "chardev-null"

/* Most file descriptors kept from one SCM_RIGHTS message. */
#define CHR_MAX_MSGFDS_PER_MSG 16

typedef enum ChrEvent {
    CHR_EVENT_OPENED,
    CHR_EVENT_CLOSED,
} ChrEvent;

typedef int IOCanReadHandler(void *opaque);
typedef void IOReadHandler(void *opaque, const uint8_t *buf, int size);
typedef void IOEventHandler(void *opaque, ChrEvent ev);

typedef struct Chardev Chardev;
typedef struct ChardevClass ChardevClass;

/*
 * Instance state.  Fields are private to system/chardev.c.
 *
 * Invariants: fd_in/fd_out are -1 when there is no connection; in_watch
 * is non-zero only while the connection is open, a frontend is attached,
 * it has seen OPENED and is not throttled; msgfds holds only fds received
 * on the current connection and is emptied when it closes.
 */
struct Chardev {
    Object parent_obj;

    char *label;                /* the id, also the name in /chardevs */
    int fd_in;                  /* read side, -1 if none */
    int fd_out;                 /* write side, -1 if none */
    bool fd_is_socket;          /* use recvmsg/send (SCM_RIGHTS, no SIGPIPE) */
    bool be_open;               /* the backend has a live connection */
    bool discard_output;        /* null: writes succeed and go nowhere */
    bool released;              /* unparented: closed for good */
    GQueue msgfds;              /* int fds received with SCM_RIGHTS */

    /* Frontend. */
    bool fe_attached;           /* claimed with qemu_chr_fe_init() */
    IOCanReadHandler *fe_can_read;
    IOReadHandler *fe_read;
    IOEventHandler *fe_event;
    void *fe_opaque;
    bool fe_open;               /* the frontend has seen OPENED, not CLOSED */
    bool fe_throttled;          /* can_read said 0: wait for accept_input */

    guint in_watch;             /* reading the connection */
    guint event_idle;           /* deferred event delivery */
};

struct ChardevClass {
    ObjectClass parent_class;

    /* Option names the backend accepts besides "backend" and "id". */
    const char *const *opt_names;
    /* Parses opts (already checked against opt_names) and opens. */
    bool (*open)(Chardev *chr, JsonObject *opts, Error **errp);
    /*
     * Drops the current connection (fds already detached by the caller
     * are not touched).  The backend decides whether another one may come.
     */
    void (*disconnect)(Chardev *chr);
    /* Called once the frontend has seen CLOSED (server: listen again). */
    void (*closed)(Chardev *chr);
    /* Releases everything the backend holds; may run more than once. */
    void (*release)(Chardev *chr);
};

DECLARE_OBJ_CHECKERS(Chardev, ChardevClass, CHARDEV, TYPE_CHARDEV)

/*
 * -chardev BACKEND,id=ID,...  opts: the keyval object, all values strings
 * ("backend", "id", then backend options; booleans on/off/yes/no/
 * true/false):
 *   socket: path=P [server=on|off (off: a client that connects now)]
 *           [wait=on|off (server only, default on: block until a client
 *           connects)]
 *   stdio, null: no options
 *   file:   path=P [append=on|off]
 * The chardev is added to /chardevs/ID, which owns it; the returned
 * pointer is borrowed.
 */
Chardev *qemu_chardev_new_from_opts(JsonObject *opts, Error **errp);

/*
 * The shorthand specs of -qmp, -qtest, -serial, -monitor:
 * unix:PATH[,server=on|off][,wait=on|off] (a ",," in PATH is a comma),
 * stdio, file:PATH, null.  The label becomes the id ("compat_monitor0",
 * "qtest", "serial0").  "none" is not a chardev: callers handle it.
 */
Chardev *qemu_chr_new(const char *label, const char *spec, Error **errp);

/* /chardevs/<id>, or NULL. */
Chardev *qemu_chr_find(const char *id);

/*
 * Frontend API.
 *
 * qemu_chr_fe_init claims the chardev for one frontend ("Device 'ID' is in
 * use" if already claimed); qemu_chr_fe_deinit drops the handlers and the
 * claim.
 */
bool qemu_chr_fe_init(Chardev *chr, Error **errp);
void qemu_chr_fe_deinit(Chardev *chr);

/*
 * Installs the handlers (all NULL: detach).  If the backend is open, the
 * frontend gets CHR_EVENT_OPENED from an idle callback.
 */
void qemu_chr_fe_set_handlers(Chardev *chr, IOCanReadHandler *can_read,
                              IOReadHandler *read, IOEventHandler *event,
                              void *opaque);
/* After can_read returned 0: the frontend can take input again. */
void qemu_chr_fe_accept_input(Chardev *chr);

/*
 * Writes all of buf, waiting for the peer when it is slow.  Returns len,
 * or -1 when there is no connection or it broke (then the connection is
 * closed and the frontend gets CHR_EVENT_CLOSED from an idle callback).
 */
int qemu_chr_fe_write_all(Chardev *chr, const uint8_t *buf, int len);

/*
 * Takes up to num fds received with SCM_RIGHTS on the current connection,
 * oldest first; the caller owns them.  Returns how many were taken.
 */
int qemu_chr_fe_get_msgfds(Chardev *chr, int *fds, int num);
/* One fd, or -1 when none is queued. */
int qemu_chr_fe_get_msgfd(Chardev *chr);

bool qemu_chr_fe_is_connected(Chardev *chr);
/* Drops the current connection (sockets); a server accepts the next. */
void qemu_chr_fe_disconnect(Chardev *chr);

#endif
