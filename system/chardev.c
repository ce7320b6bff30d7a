/*
 * Character devices: the chardev base class and the socket, stdio, file
 * and null backends.
 *
 * The base class owns everything common to the backends: the read watch on
 * fd_in, writing to fd_out, the queue of fds received with SCM_RIGHTS, and
 * delivering connection events to the frontend.  A backend only opens and
 * drops connections.
 *
 * Event delivery is a reconciliation of two flags: be_open (the backend has
 * a connection) and fe_open (the frontend has seen OPENED and no CLOSED
 * since).  chr_sync_events() delivers whatever brings fe_open in line with
 * be_open.  It runs directly from our own main-loop callbacks, and from an
 * idle callback when the change was caused by a call from the frontend, so
 * that a frontend is never re-entered from its own call.  A server socket
 * accepts the next client only once the frontend has seen CLOSED for the
 * previous one, so CLOSED and OPENED can never be merged away.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib-unix.h>

#include "chardev/char.h"
#include "qapi/error.h"
#include "qom/object.h"
#include "util/cutils.h"

/* Received fds kept per connection; more are closed at once. */
#define CHR_MAX_QUEUED_MSGFDS 64
#define CHR_READ_CHUNK 4096

static void chr_update_in_watch(Chardev *chr);

/* Connection events */

static bool chr_has_frontend(Chardev *chr)
{
    return chr->fe_can_read || chr->fe_read || chr->fe_event;
}

static void chr_close_msgfds(Chardev *chr)
{
    while (!g_queue_is_empty(&chr->msgfds)) {
        close(GPOINTER_TO_INT(g_queue_pop_head(&chr->msgfds)));
    }
}

/* Closes the current connection; the frontend learns it from sync_events. */
static void chr_drop_connection(Chardev *chr)
{
    ChardevClass *cc = CHARDEV_GET_CLASS(chr);

    if (!chr->be_open) {
        return;
    }
    chr->be_open = false;
    chr->fe_throttled = false;
    chr_update_in_watch(chr);
    chr_close_msgfds(chr);
    if (cc->disconnect) {
        cc->disconnect(chr);
    }
}

static void chr_sync_events(Chardev *chr)
{
    ChardevClass *cc = CHARDEV_GET_CLASS(chr);

    if (chr->event_idle) {
        g_source_remove(chr->event_idle);
        chr->event_idle = 0;
    }
    if (chr->released) {
        return;
    }
    object_ref(chr);
    if (chr->fe_open && !chr->be_open) {
        chr->fe_open = false;
        if (chr->fe_event) {
            chr->fe_event(chr->fe_opaque, CHR_EVENT_CLOSED);
        }
    }
    if (!chr->released && !chr->be_open && !chr->fe_open && cc->closed) {
        cc->closed(chr);
    }
    if (!chr->released && chr->be_open && !chr->fe_open &&
        chr_has_frontend(chr)) {
        chr->fe_open = true;
        if (chr->fe_event) {
            chr->fe_event(chr->fe_opaque, CHR_EVENT_OPENED);
        }
    }
    chr_update_in_watch(chr);
    object_unref(chr);
}

static gboolean chr_event_idle_cb(void *opaque)
{
    Chardev *chr = opaque;

    chr->event_idle = 0;
    chr_sync_events(chr);
    return G_SOURCE_REMOVE;
}

static void chr_schedule_events(Chardev *chr)
{
    if (!chr->event_idle && !chr->released) {
        chr->event_idle = g_idle_add(chr_event_idle_cb, chr);
    }
}

/* Reading */

static void chr_queue_msgfds(Chardev *chr, struct msghdr *msg)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm;
         cm = CMSG_NXTHDR(msg, cm)) {
        int nfds;
        int *fds;

        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        fds = (int *)CMSG_DATA(cm);
        for (int i = 0; i < nfds; i++) {
            int fd;

            memcpy(&fd, &fds[i], sizeof(fd));
            if (g_queue_get_length(&chr->msgfds) >= CHR_MAX_QUEUED_MSGFDS) {
                close(fd);
            } else {
                g_queue_push_tail(&chr->msgfds, GINT_TO_POINTER(fd));
            }
        }
    }
}

static ssize_t chr_recv_socket(Chardev *chr, uint8_t *buf, size_t len)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * CHR_MAX_MSGFDS_PER_MSG)];
        struct cmsghdr align;
    } control;
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buf,
        .msg_controllen = sizeof(control.buf),
    };
    ssize_t n = recvmsg(chr->fd_in, &msg, MSG_CMSG_CLOEXEC);

    if (n > 0) {
        chr_queue_msgfds(chr, &msg);
    }
    return n;
}

static gboolean chr_in_ready(int fd, GIOCondition cond, void *opaque)
{
    Chardev *chr = opaque;
    uint8_t buf[CHR_READ_CHUNK];
    int room = sizeof(buf);
    ssize_t n;

    if (chr->fe_can_read) {
        room = MIN(chr->fe_can_read(chr->fe_opaque), room);
        if (room <= 0) {
            chr->fe_throttled = true;
            chr_update_in_watch(chr);
            return G_SOURCE_CONTINUE;
        }
    }
    if (chr->fd_is_socket) {
        n = chr_recv_socket(chr, buf, room);
    } else {
        n = read(chr->fd_in, buf, room);
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return G_SOURCE_CONTINUE;
    }
    if (n <= 0) {
        /* EOF or a broken connection (ECONNRESET, EIO): it is over. */
        chr_drop_connection(chr);
        chr_sync_events(chr);
        return G_SOURCE_CONTINUE;
    }
    object_ref(chr);
    chr->fe_read(chr->fe_opaque, buf, n);
    object_unref(chr);
    return G_SOURCE_CONTINUE;
}

static void chr_update_in_watch(Chardev *chr)
{
    bool want = !chr->released && chr->be_open && chr->fe_open &&
                chr->fe_read && chr->fd_in >= 0 && !chr->fe_throttled;

    if (want && !chr->in_watch) {
        chr->in_watch = g_unix_fd_add(chr->fd_in,
                                      G_IO_IN | G_IO_HUP | G_IO_ERR,
                                      chr_in_ready, chr);
    } else if (!want && chr->in_watch) {
        g_source_remove(chr->in_watch);
        chr->in_watch = 0;
    }
}

/* Frontend API */

bool qemu_chr_fe_init(Chardev *chr, Error **errp)
{
    if (chr->fe_attached || chr->released) {
        error_setg(errp, "Device '%s' is in use", chr->label);
        return false;
    }
    chr->fe_attached = true;
    return true;
}

void qemu_chr_fe_deinit(Chardev *chr)
{
    qemu_chr_fe_set_handlers(chr, NULL, NULL, NULL, NULL);
    chr->fe_attached = false;
}

void qemu_chr_fe_set_handlers(Chardev *chr, IOCanReadHandler *can_read,
                              IOReadHandler *read, IOEventHandler *event,
                              void *opaque)
{
    chr->fe_can_read = can_read;
    chr->fe_read = read;
    chr->fe_event = event;
    chr->fe_opaque = opaque;
    /* A new set of handlers has not seen this connection's OPENED yet. */
    chr->fe_open = false;
    chr->fe_throttled = false;
    chr_update_in_watch(chr);
    if (chr_has_frontend(chr)) {
        chr_schedule_events(chr);
    }
}

void qemu_chr_fe_accept_input(Chardev *chr)
{
    chr->fe_throttled = false;
    chr_update_in_watch(chr);
}

static void chr_wait_writable(int fd)
{
    struct pollfd pfd = { .fd = fd, .events = POLLOUT };

    while (poll(&pfd, 1, -1) < 0 && errno == EINTR) {
        /* retry */
    }
}

int qemu_chr_fe_write_all(Chardev *chr, const uint8_t *buf, int len)
{
    int done = 0;

    if (chr->released || len < 0) {
        return -1;
    }
    if (chr->fd_out < 0) {
        return chr->discard_output ? len : -1;
    }
    while (done < len) {
        ssize_t n;

        if (chr->fd_is_socket) {
            n = send(chr->fd_out, buf + done, len - done, MSG_NOSIGNAL);
        } else {
            n = write(chr->fd_out, buf + done, len - done);
        }
        if (n >= 0) {
            done += n;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            chr_wait_writable(chr->fd_out);
        } else if (errno != EINTR) {
            if (chr->fd_is_socket) {
                /* EPIPE, ECONNRESET: the peer is gone. */
                chr_drop_connection(chr);
                chr_schedule_events(chr);
            }
            return -1;
        }
    }
    return len;
}

int qemu_chr_fe_get_msgfds(Chardev *chr, int *fds, int num)
{
    int n = 0;

    while (n < num && !g_queue_is_empty(&chr->msgfds)) {
        fds[n++] = GPOINTER_TO_INT(g_queue_pop_head(&chr->msgfds));
    }
    return n;
}

int qemu_chr_fe_get_msgfd(Chardev *chr)
{
    int fd;

    return qemu_chr_fe_get_msgfds(chr, &fd, 1) == 1 ? fd : -1;
}

bool qemu_chr_fe_is_connected(Chardev *chr)
{
    return chr->be_open;
}

void qemu_chr_fe_disconnect(Chardev *chr)
{
    if (chr->be_open && chr->fd_is_socket) {
        chr_drop_connection(chr);
        chr_schedule_events(chr);
    }
}

/* Lifetime */

/* Closes everything for good; the object may live on for ref holders. */
static void chr_release(Chardev *chr)
{
    ChardevClass *cc = CHARDEV_GET_CLASS(chr);

    if (chr->released) {
        return;
    }
    chr_drop_connection(chr);
    chr->released = true;
    chr_update_in_watch(chr);
    if (chr->event_idle) {
        g_source_remove(chr->event_idle);
        chr->event_idle = 0;
    }
    chr->fe_can_read = NULL;
    chr->fe_read = NULL;
    chr->fe_event = NULL;
    chr->fe_opaque = NULL;
    chr->fe_open = false;
    if (cc->release) {
        cc->release(chr);
    }
}

static void chr_instance_init(Object *obj)
{
    Chardev *chr = CHARDEV(obj);

    chr->fd_in = -1;
    chr->fd_out = -1;
    g_queue_init(&chr->msgfds);
}

static void chr_instance_finalize(Object *obj)
{
    Chardev *chr = CHARDEV(obj);

    chr_release(chr);
    g_free(chr->label);
}

static void chr_unparent(Object *obj)
{
    chr_release(CHARDEV(obj));
}

static void chr_class_init(ObjectClass *klass, const void *data)
{
    klass->unparent = chr_unparent;
}

/* Options */

static bool chr_opt_str(JsonObject *opts, const char *name, const char **value,
                        Error **errp)
{
    JsonNode *node = json_object_get_member(opts, name);

    *value = NULL;
    if (!node) {
        return true;
    }
    if (JSON_NODE_HOLDS_VALUE(node) &&
        json_node_get_value_type(node) == G_TYPE_STRING) {
        *value = json_node_get_string(node);
        return true;
    }
    error_setg(errp, "Invalid parameter type for '%s', expected: string",
               name);
    return false;
}

/* on/off/yes/no/true/false, or a JSON boolean. */
static bool chr_opt_bool(JsonObject *opts, const char *name, bool def,
                         bool *value, Error **errp)
{
    JsonNode *node = json_object_get_member(opts, name);
    const char *s;

    *value = def;
    if (!node) {
        return true;
    }
    if (JSON_NODE_HOLDS_VALUE(node) &&
        json_node_get_value_type(node) == G_TYPE_BOOLEAN) {
        *value = json_node_get_boolean(node);
        return true;
    }
    if (!chr_opt_str(opts, name, &s, errp)) {
        return false;
    }
    if (!strcmp(s, "on") || !strcmp(s, "yes") || !strcmp(s, "true")) {
        *value = true;
    } else if (!strcmp(s, "off") || !strcmp(s, "no") ||
               !strcmp(s, "false")) {
        *value = false;
    } else {
        error_setg(errp, "Parameter '%s' expects 'on' or 'off'", name);
        return false;
    }
    return true;
}

static bool chr_opt_path(Chardev *chr, JsonObject *opts, const char **path,
                         Error **errp)
{
    if (!chr_opt_str(opts, "path", path, errp)) {
        return false;
    }
    if (!*path || !**path) {
        error_setg(errp, "chardev '%s': Parameter 'path' is missing",
                   chr->label);
        return false;
    }
    return true;
}

/* QEMU's identifiers: a letter, then letters, digits, '-', '.', '_'. */
static bool chr_id_wellformed(const char *id)
{
    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (const char *p = id + 1; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p)) {
            return false;
        }
    }
    return true;
}

static bool chr_check_opt_names(ChardevClass *cc, const char *id,
                                JsonObject *opts, Error **errp)
{
    g_autoptr(GList) names = json_object_get_members(opts);

    for (GList *l = names; l; l = l->next) {
        const char *name = l->data;
        bool known = !strcmp(name, "backend") || !strcmp(name, "id");

        for (int i = 0; !known && cc->opt_names && cc->opt_names[i]; i++) {
            known = !strcmp(name, cc->opt_names[i]);
        }
        if (!known) {
            error_setg(errp, "chardev '%s': Invalid parameter '%s'", id, name);
            return false;
        }
    }
    return true;
}

Chardev *qemu_chr_find(const char *id)
{
    Object *obj = object_resolve_path_component(object_get_container("chardevs"),
                                                id);

    return obj ? (Chardev *)object_dynamic_cast(obj, TYPE_CHARDEV) : NULL;
}

Chardev *qemu_chardev_new_from_opts(JsonObject *opts, Error **errp)
{
    Object *container = object_get_container("chardevs");
    const char *backend, *id;
    g_autofree char *typename = NULL;
    ObjectClass *oc;
    Object *obj;
    Chardev *chr;

    if (!chr_opt_str(opts, "backend", &backend, errp) ||
        !chr_opt_str(opts, "id", &id, errp)) {
        return NULL;
    }
    if (!backend) {
        error_setg(errp, "Parameter 'backend' is missing");
        return NULL;
    }
    if (!id) {
        error_setg(errp, "chardev: \"%s\" missing id", backend);
        return NULL;
    }
    if (!chr_id_wellformed(id)) {
        error_setg(errp, "Parameter 'id' expects an identifier");
        return NULL;
    }
    typename = g_strdup_printf("chardev-%s", backend);
    oc = object_class_by_name(typename);
    if (!oc || !object_class_dynamic_cast(oc, TYPE_CHARDEV) ||
        object_class_is_abstract(oc)) {
        error_setg(errp, "'%s' is not a valid char driver name", backend);
        return NULL;
    }
    if (!chr_check_opt_names(CHARDEV_CLASS(oc), id, opts, errp)) {
        return NULL;
    }
    if (object_property_find(container, id)) {
        error_setg(errp, "Chardev '%s' already exists", id);
        return NULL;
    }

    obj = object_new(typename);
    chr = CHARDEV(obj);
    chr->label = g_strdup(id);
    if (!CHARDEV_GET_CLASS(chr)->open(chr, opts, errp)) {
        object_unref(obj);
        return NULL;
    }
    object_property_add_child(container, id, obj);
    object_unref(obj);
    return chr;
}

/*
 * "unix:PATH,k=v,flag": splits at single commas; ",," is a literal comma.
 * A bare "server" means server=on, a bare "nowait" wait=off.
 */
static bool chr_parse_unix_spec(JsonObject *opts, const char *spec,
                                Error **errp)
{
    g_autoptr(GPtrArray) parts = qemu_split_option_list(spec);
    json_object_set_string_member(opts, "path", parts->pdata[0]);
    for (guint i = 1; i < parts->len; i++) {
        const char *part = parts->pdata[i];
        const char *eq = strchr(part, '=');

        if (eq) {
            g_autofree char *key = g_strndup(part, eq - part);

            json_object_set_string_member(opts, key, eq + 1);
        } else if (!strcmp(part, "nowait")) {
            json_object_set_string_member(opts, "wait", "off");
        } else if (*part) {
            json_object_set_string_member(opts, part, "on");
        }
    }
    return true;
}

Chardev *qemu_chr_new(const char *label, const char *spec, Error **errp)
{
    g_autoptr(JsonObject) opts = json_object_new();

    json_object_set_string_member(opts, "id", label);
    if (!strcmp(spec, "stdio") || !strcmp(spec, "null")) {
        json_object_set_string_member(opts, "backend", spec);
    } else if (g_str_has_prefix(spec, "file:")) {
        json_object_set_string_member(opts, "backend", "file");
        json_object_set_string_member(opts, "path", spec + strlen("file:"));
    } else if (g_str_has_prefix(spec, "unix:")) {
        json_object_set_string_member(opts, "backend", "socket");
        if (!chr_parse_unix_spec(opts, spec + strlen("unix:"), errp)) {
            return NULL;
        }
    } else {
        error_setg(errp, "chardev '%s': unknown specification '%s' "
                   "(expected unix:PATH, stdio, file:PATH or null)",
                   label, spec);
        return NULL;
    }
    return qemu_chardev_new_from_opts(opts, errp);
}

/*
 * chardev-socket: a unix stream socket, client or server.
 *
 * A client connects at creation and, once its peer closes, stays closed.
 * A server listens on path (replacing a stale socket file); with wait it
 * blocks at creation until the first client connects.  It serves one
 * client at a time and accepts the next after the frontend has seen the
 * previous one close.
 */

#define SOCKET_CHARDEV(obj) \
    OBJECT_CHECK(SocketChardev, obj, TYPE_CHARDEV_SOCKET)

typedef struct SocketChardev {
    Chardev parent_obj;

    char *path;
    bool server;
    int listen_fd;              /* server only, -1 otherwise */
    guint listen_watch;         /* armed while waiting for a client */
    bool bound;                 /* we created the socket file at path */
    dev_t bound_dev;
    ino_t bound_ino;
} SocketChardev;

static const char *const socket_opt_names[] = {
    "path", "server", "wait", NULL
};

static void socket_set_connection(SocketChardev *s, int fd)
{
    Chardev *chr = &s->parent_obj;
    int flags = fcntl(fd, F_GETFL);

    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    chr->fd_in = fd;
    chr->fd_out = fd;
    chr->be_open = true;
}

static gboolean socket_accept_ready(int fd, GIOCondition cond, void *opaque)
{
    SocketChardev *s = opaque;
    int conn = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);

    if (conn < 0) {
        /* EAGAIN/ECONNABORTED: the client went away; keep listening. */
        return G_SOURCE_CONTINUE;
    }
    g_source_remove(s->listen_watch);
    s->listen_watch = 0;
    socket_set_connection(s, conn);
    chr_sync_events(&s->parent_obj);
    return G_SOURCE_CONTINUE;
}

static void socket_closed(Chardev *chr)
{
    SocketChardev *s = SOCKET_CHARDEV(chr);

    if (s->listen_fd >= 0 && !s->listen_watch && !chr->be_open) {
        s->listen_watch = g_unix_fd_add(s->listen_fd, G_IO_IN,
                                        socket_accept_ready, s);
    }
}

static void socket_disconnect(Chardev *chr)
{
    if (chr->fd_in >= 0) {
        close(chr->fd_in);
    }
    chr->fd_in = -1;
    chr->fd_out = -1;
}

static bool socket_fill_addr(struct sockaddr_un *addr, const char *path,
                             Error **errp)
{
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(addr->sun_path)) {
        error_setg(errp, "UNIX socket path '%s' is too long", path);
        return false;
    }
    strcpy(addr->sun_path, path);
    return true;
}

static bool socket_connect(SocketChardev *s, Error **errp)
{
    struct sockaddr_un addr;
    int fd, ret;

    if (!socket_fill_addr(&addr, s->path, errp)) {
        return false;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Failed to create socket");
        return false;
    }
    do {
        ret = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
    } while (ret < 0 && errno == EINTR);
    if (ret < 0) {
        error_setg_errno(errp, errno, "Failed to connect to '%s'", s->path);
        close(fd);
        return false;
    }
    socket_set_connection(s, fd);
    return true;
}

static bool socket_listen(SocketChardev *s, bool wait, Error **errp)
{
    struct sockaddr_un addr;
    struct stat st;
    int fd;

    if (!socket_fill_addr(&addr, s->path, errp)) {
        return false;
    }
    if (lstat(s->path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        unlink(s->path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Failed to create socket");
        return false;
    }
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        error_setg_errno(errp, errno, "Failed to bind socket to '%s'",
                         s->path);
        close(fd);
        return false;
    }
    s->listen_fd = fd;
    if (stat(s->path, &st) == 0) {
        s->bound = true;
        s->bound_dev = st.st_dev;
        s->bound_ino = st.st_ino;
    }
    if (listen(fd, 1) < 0) {
        error_setg_errno(errp, errno, "Failed to listen on '%s'", s->path);
        return false;
    }
    if (wait) {
        int conn;

        info_report("waiting for connection on: disconnected:unix:%s,"
                    "server=on", s->path);
        do {
            conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        } while (conn < 0 && (errno == EINTR || errno == ECONNABORTED));
        if (conn < 0) {
            error_setg_errno(errp, errno, "Failed to accept on '%s'",
                             s->path);
            return false;
        }
        socket_set_connection(s, conn);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (!s->parent_obj.be_open) {
        socket_closed(&s->parent_obj);
    }
    return true;
}

static bool socket_open(Chardev *chr, JsonObject *opts, Error **errp)
{
    SocketChardev *s = SOCKET_CHARDEV(chr);
    const char *path;
    bool wait;

    chr->fd_is_socket = true;
    if (!chr_opt_path(chr, opts, &path, errp) ||
        !chr_opt_bool(opts, "server", false, &s->server, errp) ||
        !chr_opt_bool(opts, "wait", true, &wait, errp)) {
        return false;
    }
    if (!s->server && json_object_has_member(opts, "wait")) {
        error_setg(errp, "chardev '%s': 'wait' option is incompatible with "
                   "socket in client connect mode", chr->label);
        return false;
    }
    s->path = g_strdup(path);
    return s->server ? socket_listen(s, wait, errp) : socket_connect(s, errp);
}

static void socket_release(Chardev *chr)
{
    SocketChardev *s = SOCKET_CHARDEV(chr);
    struct stat st;

    if (s->listen_watch) {
        g_source_remove(s->listen_watch);
        s->listen_watch = 0;
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        s->listen_fd = -1;
    }
    /* Remove the socket file only if it is still the one we bound. */
    if (s->bound && stat(s->path, &st) == 0 && st.st_dev == s->bound_dev &&
        st.st_ino == s->bound_ino) {
        unlink(s->path);
    }
    s->bound = false;
    g_clear_pointer(&s->path, g_free);
}

static void socket_instance_init(Object *obj)
{
    SOCKET_CHARDEV(obj)->listen_fd = -1;
}

static bool socket_get_connected(Object *obj, Error **errp)
{
    return CHARDEV(obj)->be_open;
}

static void socket_class_init(ObjectClass *klass, const void *data)
{
    ChardevClass *cc = CHARDEV_CLASS(klass);

    object_class_property_add_bool(klass, "connected", socket_get_connected,
                                   NULL);
    object_class_property_set_description(klass, "connected",
                                          "whether a peer is connected");

    cc->opt_names = socket_opt_names;
    cc->open = socket_open;
    cc->disconnect = socket_disconnect;
    cc->closed = socket_closed;
    cc->release = socket_release;
}

/*
 * chardev-stdio: reads stdin, writes stdout.  EOF on stdin closes the
 * input side (CHR_EVENT_CLOSED); output keeps working.  Only one may
 * exist.  fds 0 and 1 are never closed.
 */

static Chardev *stdio_owner;

static bool stdio_open(Chardev *chr, JsonObject *opts, Error **errp)
{
    if (stdio_owner) {
        error_setg(errp, "cannot use stdio by multiple character devices");
        return false;
    }
    stdio_owner = chr;
    chr->fd_in = STDIN_FILENO;
    chr->fd_out = STDOUT_FILENO;
    chr->be_open = true;
    return true;
}

static void stdio_disconnect(Chardev *chr)
{
    chr->fd_in = -1;
}

static void stdio_release(Chardev *chr)
{
    chr->fd_in = -1;
    chr->fd_out = -1;
    if (stdio_owner == chr) {
        stdio_owner = NULL;
    }
}

static void stdio_class_init(ObjectClass *klass, const void *data)
{
    ChardevClass *cc = CHARDEV_CLASS(klass);

    cc->open = stdio_open;
    cc->disconnect = stdio_disconnect;
    cc->release = stdio_release;
}

/* chardev-file: output only, to path (truncated unless append=on). */

static const char *const file_opt_names[] = { "path", "append", NULL };

static bool file_open(Chardev *chr, JsonObject *opts, Error **errp)
{
    const char *path;
    bool append;
    int fd;

    if (!chr_opt_path(chr, opts, &path, errp) ||
        !chr_opt_bool(opts, "append", false, &append, errp)) {
        return false;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC |
              (append ? O_APPEND : O_TRUNC), 0666);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", path);
        return false;
    }
    chr->fd_out = fd;
    chr->be_open = true;
    return true;
}

static void file_release(Chardev *chr)
{
    if (chr->fd_out >= 0) {
        close(chr->fd_out);
        chr->fd_out = -1;
    }
}

static void file_class_init(ObjectClass *klass, const void *data)
{
    ChardevClass *cc = CHARDEV_CLASS(klass);

    cc->opt_names = file_opt_names;
    cc->open = file_open;
    cc->release = file_release;
}

/* chardev-null: always open, discards output, never produces input. */

static bool null_open(Chardev *chr, JsonObject *opts, Error **errp)
{
    chr->discard_output = true;
    chr->be_open = true;
    return true;
}

static void null_class_init(ObjectClass *klass, const void *data)
{
    CHARDEV_CLASS(klass)->open = null_open;
}

static const TypeInfo chardev_types[] = {
    {
        .name = TYPE_CHARDEV,
        .parent = TYPE_OBJECT,
        .instance_size = sizeof(Chardev),
        .instance_init = chr_instance_init,
        .instance_finalize = chr_instance_finalize,
        .abstract = true,
        .class_size = sizeof(ChardevClass),
        .class_init = chr_class_init,
    },
    {
        .name = TYPE_CHARDEV_SOCKET,
        .parent = TYPE_CHARDEV,
        .instance_size = sizeof(SocketChardev),
        .instance_init = socket_instance_init,
        .class_init = socket_class_init,
    },
    {
        .name = TYPE_CHARDEV_STDIO,
        .parent = TYPE_CHARDEV,
        .class_init = stdio_class_init,
    },
    {
        .name = TYPE_CHARDEV_FILE,
        .parent = TYPE_CHARDEV,
        .class_init = file_class_init,
    },
    {
        .name = TYPE_CHARDEV_NULL,
        .parent = TYPE_CHARDEV,
        .class_init = null_class_init,
    },
};

DEFINE_TYPES(chardev_types)
