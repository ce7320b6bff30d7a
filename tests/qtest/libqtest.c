/*
 * libqtest: the test side of the qtest and QMP protocols.
 *
 * Start-up follows QEMU's libqtest (control_boot_facts A.2): the test
 * listens on two unix sockets, spawns the emulator through "sh -c exec",
 * and the emulator connects to both as a client.  Any protocol failure
 * aborts the test with a message saying what went wrong; the emulators
 * this process started are killed first (also when a g_assert fails), so
 * that no orphan outlives a failed test.
 *
 * QMP: every line from the emulator is one JSON object ending in CRLF.
 * Events are queued as they arrive; replies that arrive while the test
 * waits for an event are queued too, so nothing is lost whatever order
 * the emulator sends them in.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>

#include "libqtest.h"

/* QEMU's libqtest waits this long for each connection. */
#define QTEST_CONNECT_TIMEOUT_S 50
#define QTEST_QUIT_TIMEOUT_S 30
/* qtest_run_binary(): a run still going after this long is killed. */
#define QTEST_RUN_TIMEOUT_S 30
#define QTEST_MAX_IRQ 256
/* Emulators alive at once that the abort handler knows about. */
#define QTEST_MAX_CHILDREN 32

struct QTestState {
    pid_t pid;
    bool exited;                /* reaped; wstatus is valid */
    int wstatus;
    int expected_status;
    int qtest_fd;
    int qmp_fd;
    GString *qtest_rx;          /* received, not yet consumed */
    GString *qmp_rx;
    GQueue events;              /* JsonObject *, oldest first */
    GQueue replies;             /* JsonObject *, received while waiting */
    bool irq_level[QTEST_MAX_IRQ];
};

static volatile pid_t live_children[QTEST_MAX_CHILDREN];
static int sock_seq;
/* Socket files of a start-up in progress, removed if it fails. */
static char *pending_sockets[2];

static void G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN qtest_fatal(const char *fmt,
                                                            ...)
{
    va_list ap;

    fprintf(stderr, "libqtest: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    for (int i = 0; i < 2; i++) {
        if (pending_sockets[i]) {
            unlink(pending_sockets[i]);
        }
    }
    abort();
}

/* --- Child bookkeeping and the abort handler ----------------------------- */

static void kill_live_children(void)
{
    for (int i = 0; i < QTEST_MAX_CHILDREN; i++) {
        if (live_children[i] > 0) {
            kill(live_children[i], SIGKILL);
        }
    }
}

static void sigabrt_handler(int sig)
{
    kill_live_children();
    /* SA_RESETHAND restored the default action: die as intended. */
    raise(sig);
}

static void child_register(pid_t pid)
{
    static bool handler_installed;

    if (!handler_installed) {
        struct sigaction sa = {
            .sa_handler = sigabrt_handler,
            .sa_flags = SA_RESETHAND,
        };

        sigemptyset(&sa.sa_mask);
        sigaction(SIGABRT, &sa, NULL);
        handler_installed = true;
    }
    for (int i = 0; i < QTEST_MAX_CHILDREN; i++) {
        if (live_children[i] <= 0) {
            live_children[i] = pid;
            return;
        }
    }
}

static void child_unregister(pid_t pid)
{
    for (int i = 0; i < QTEST_MAX_CHILDREN; i++) {
        if (live_children[i] == pid) {
            live_children[i] = 0;
        }
    }
}

/* Reaps the child if it has exited; true if it has. */
static bool qtest_child_exited(QTestState *s)
{
    if (!s->exited) {
        pid_t r = waitpid(s->pid, &s->wstatus, WNOHANG);

        if (r == s->pid) {
            s->exited = true;
            child_unregister(s->pid);
        }
    }
    return s->exited;
}

static char *wait_status_str(int wstatus)
{
    if (WIFEXITED(wstatus)) {
        return g_strdup_printf("exit status %d", WEXITSTATUS(wstatus));
    }
    if (WIFSIGNALED(wstatus)) {
        return g_strdup_printf("killed by signal %d (%s)", WTERMSIG(wstatus),
                               strsignal(WTERMSIG(wstatus)));
    }
    return g_strdup_printf("wait status 0x%x", wstatus);
}

/* --- Sockets ------------------------------------------------------------- */

static void fill_sockaddr(struct sockaddr_un *addr, const char *path)
{
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(addr->sun_path)) {
        qtest_fatal("socket path too long: %s", path);
    }
    strcpy(addr->sun_path, path);
}

static int socket_listen(const char *path)
{
    struct sockaddr_un addr;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        qtest_fatal("socket: %s", strerror(errno));
    }
    fill_sockaddr(&addr, path);
    unlink(path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(fd, 1) < 0) {
        qtest_fatal("cannot listen on %s: %s", path, strerror(errno));
    }
    return fd;
}

int qtest_socket_client(const char *path)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    struct sockaddr_un addr;

    fill_sockaddr(&addr, path);
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0) {
            qtest_fatal("socket: %s", strerror(errno));
        }
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
            return fd;
        }
        close(fd);
        /* The emulator may not have created its socket yet. */
        if ((errno != ENOENT && errno != ECONNREFUSED) ||
            g_get_monotonic_time() > deadline) {
            qtest_fatal("cannot connect to %s: %s", path, strerror(errno));
        }
        g_usleep(10 * 1000);
    }
}

/* Accepts the emulator's connection, noticing if it died instead. */
static int socket_accept(QTestState *s, int listen_fd, const char *what)
{
    gint64 deadline = g_get_monotonic_time() +
                      QTEST_CONNECT_TIMEOUT_S * G_USEC_PER_SEC;

    for (;;) {
        struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
        int r = poll(&pfd, 1, 100);

        if (r > 0) {
            int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

            if (fd >= 0) {
                return fd;
            }
            if (errno != EINTR && errno != EAGAIN) {
                qtest_fatal("accept (%s): %s", what, strerror(errno));
            }
        }
        if (qtest_child_exited(s)) {
            g_autofree char *st = wait_status_str(s->wstatus);

            qtest_fatal("the emulator exited (%s) before connecting to the "
                        "%s socket; see its messages above", st, what);
        }
        if (g_get_monotonic_time() > deadline) {
            qtest_fatal("the emulator did not connect to the %s socket "
                        "within %d s", what, QTEST_CONNECT_TIMEOUT_S);
        }
    }
}

static void send_all(int fd, const char *buf, size_t len, const char *what)
{
    while (len) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            qtest_fatal("%s: send failed: %s", what,
                        n < 0 ? strerror(errno) : "nothing written");
        }
        buf += n;
        len -= n;
    }
}

/*
 * Reads more bytes into rx: 1 when some arrived, 0 when none did within
 * timeout_ms (-1: wait forever).  End of file is fatal, unless eof_ok:
 * then it returns -1.
 */
static int recv_more(QTestState *s, int fd, GString *rx, int timeout_ms,
                     bool eof_ok, const char *what)
{
    char buf[65536];
    ssize_t n;

    if (timeout_ms >= 0) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };

        if (poll(&pfd, 1, timeout_ms) <= 0) {
            return 0;
        }
    }
    do {
        n = recv(fd, buf, sizeof(buf), 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        g_autofree char *st = NULL;

        if (eof_ok) {
            return -1;
        }
        /* Give the emulator a moment to finish dying, for the message. */
        for (int i = 0; i < 50 && !qtest_child_exited(s); i++) {
            g_usleep(10 * 1000);
        }
        st = s->exited ? wait_status_str(s->wstatus) : g_strdup("running");
        qtest_fatal("%s connection closed by the emulator (%s)", what, st);
    }
    g_string_append_len(rx, buf, n);
    return 1;
}

/* The next "\n"-terminated line of rx, without the "\n", or NULL. */
static char *take_line(GString *rx)
{
    char *nl = memchr(rx->str, '\n', rx->len);
    char *line;

    if (!nl) {
        return NULL;
    }
    line = g_strndup(rx->str, nl - rx->str);
    g_string_erase(rx, 0, nl - rx->str + 1);
    return line;
}

/* --- Start and stop ------------------------------------------------------ */

static QTestState *qtest_spawn(const char *extra_args, bool qmp_handshake)
{
    const char *bin = getenv("QTEST_QEMU_BINARY");
    const char *log = getenv("QTEST_LOG") ? "/dev/fd/2" : "/dev/null";
    QTestState *s;
    g_autofree char *qtest_path = NULL;
    g_autofree char *qmp_path = NULL;
    g_autofree char *cmd = NULL;
    int qtest_listen, qmp_listen, seq;

    if (!bin) {
        qtest_fatal("set QTEST_QEMU_BINARY to the emulator binary");
    }
    seq = g_atomic_int_add(&sock_seq, 1);
    qtest_path = g_strdup_printf("%s/qtest-%d-%d.sock", g_get_tmp_dir(),
                                 getpid(), seq);
    qmp_path = g_strdup_printf("%s/qtest-%d-%d.qmp", g_get_tmp_dir(),
                               getpid(), seq);
    pending_sockets[0] = qtest_path;
    pending_sockets[1] = qmp_path;
    qtest_listen = socket_listen(qtest_path);
    qmp_listen = socket_listen(qmp_path);
    cmd = g_strdup_printf("exec %s -qtest unix:%s -qtest-log %s "
                          "-chardev socket,path=%s,id=char0 "
                          "-mon chardev=char0,mode=control "
                          "-display none -audio none "
                          "-run-with exit-with-parent=on %s -accel qtest",
                          bin, qtest_path, log, qmp_path,
                          extra_args ? extra_args : "");
    if (getenv("QTEST_LOG")) {
        fprintf(stderr, "libqtest: starting %s\n", cmd);
    }

    s = g_new0(QTestState, 1);
    s->qtest_rx = g_string_new(NULL);
    s->qmp_rx = g_string_new(NULL);
    g_queue_init(&s->events);
    g_queue_init(&s->replies);
    s->pid = fork();
    if (s->pid < 0) {
        qtest_fatal("fork: %s", strerror(errno));
    }
    if (s->pid == 0) {
        execlp("sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    child_register(s->pid);

    s->qtest_fd = socket_accept(s, qtest_listen, "qtest");
    s->qmp_fd = socket_accept(s, qmp_listen, "QMP");
    close(qtest_listen);
    close(qmp_listen);
    unlink(qtest_path);
    unlink(qmp_path);
    pending_sockets[0] = pending_sockets[1] = NULL;

    {
        g_autofree char *rsp = qtest_raw_cmd(s, "endianness");

        if (strcmp(rsp, "OK little") && strcmp(rsp, "OK big")) {
            qtest_fatal("unexpected reply to endianness: '%s'", rsp);
        }
    }
    if (qmp_handshake) {
        g_autofree char *greeting = qtest_qmp_read_line(s);
        JsonObject *rsp;

        if (!strstr(greeting, "\"QMP\"")) {
            qtest_fatal("no QMP greeting: '%s'", greeting);
        }
        rsp = qtest_qmp(s, "{\"execute\": \"qmp_capabilities\"}");
        qmp_expect_return(rsp);
        json_object_unref(rsp);
    }
    return s;
}

QTestState *qtest_init(const char *extra_args)
{
    return qtest_spawn(extra_args, true);
}

QTestState *qtest_init_without_qmp_handshake(const char *extra_args)
{
    return qtest_spawn(extra_args, false);
}

QTestState *qtest_initf(const char *fmt, ...)
{
    g_autofree char *args = NULL;
    va_list ap;

    va_start(ap, fmt);
    args = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return qtest_init(args);
}

void qtest_set_expected_status(QTestState *s, int status)
{
    s->expected_status = status;
}

pid_t qtest_pid(QTestState *s)
{
    return s->pid;
}

void qtest_disconnect(QTestState *s)
{
    if (s->qtest_fd >= 0) {
        close(s->qtest_fd);
        s->qtest_fd = -1;
    }
}

/* Waits up to timeout_s for the child to exit; false if it did not. */
static bool qtest_reap(QTestState *s, int timeout_s)
{
    gint64 deadline = g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC;

    while (!qtest_child_exited(s)) {
        if (g_get_monotonic_time() > deadline) {
            return false;
        }
        g_usleep(5 * 1000);
    }
    return true;
}

int qtest_wait_exit(QTestState *s)
{
    if (!qtest_reap(s, QTEST_QUIT_TIMEOUT_S)) {
        qtest_fatal("the emulator (pid %d) did not exit within %d s",
                    s->pid, QTEST_QUIT_TIMEOUT_S);
    }
    return s->wstatus;
}

static void qtest_free(QTestState *s)
{
    JsonObject *o;

    if (s->qtest_fd >= 0) {
        close(s->qtest_fd);
    }
    close(s->qmp_fd);
    while ((o = g_queue_pop_head(&s->events))) {
        json_object_unref(o);
    }
    while ((o = g_queue_pop_head(&s->replies))) {
        json_object_unref(o);
    }
    g_string_free(s->qtest_rx, true);
    g_string_free(s->qmp_rx, true);
    g_free(s);
}

void qtest_quit(QTestState *s)
{
    bool reaped_before = s->exited;

    if (!s->exited) {
        kill(s->pid, SIGTERM);
        if (!qtest_reap(s, QTEST_QUIT_TIMEOUT_S)) {
            kill(s->pid, SIGKILL);
            qtest_reap(s, QTEST_QUIT_TIMEOUT_S);
            qtest_fatal("the emulator (pid %d) ignored SIGTERM for %d s",
                        s->pid, QTEST_QUIT_TIMEOUT_S);
        }
    }
    /* After qtest_wait_exit() the caller has the status and judged it. */
    if (!reaped_before &&
        (!WIFEXITED(s->wstatus) ||
         WEXITSTATUS(s->wstatus) != s->expected_status)) {
        g_autofree char *st = wait_status_str(s->wstatus);

        qtest_fatal("the emulator ended with %s, expected exit status %d",
                    st, s->expected_status);
    }
    qtest_free(s);
}

/* --- Runs to completion ------------------------------------------------- */

/* In the child, before exec: the alarm survives exec and kills the
 * emulator (SIGALRM's default action) if it is still running then. */
static void run_binary_child_setup(gpointer timeout_s)
{
    alarm(GPOINTER_TO_UINT(timeout_s));
}

char *qtest_run_binary(const char *args, int *status, char **out)
{
    const char *bin = getenv("QTEST_QEMU_BINARY");
    g_auto(GStrv) words = g_strsplit(args, " ", 0);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) gerr = NULL;
    g_autofree char *stdout_text = NULL;
    char *stderr_text = NULL;
    int wstatus = 0;

    if (!bin) {
        qtest_fatal("set QTEST_QEMU_BINARY to the emulator binary");
    }
    g_ptr_array_add(argv, (char *)bin);
    for (char **w = words; *w; w++) {
        if (**w) {
            g_ptr_array_add(argv, *w);
        }
    }
    g_ptr_array_add(argv, NULL);
    if (getenv("QTEST_LOG")) {
        fprintf(stderr, "libqtest: running %s %s\n", bin, args);
    }
    /* Both outputs are captured: an inherited stdout would mix with TAP. */
    if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT,
                      run_binary_child_setup,
                      GUINT_TO_POINTER(QTEST_RUN_TIMEOUT_S), &stdout_text,
                      &stderr_text, &wstatus, &gerr)) {
        qtest_fatal("cannot run %s: %s", bin, gerr->message);
    }
    if (WIFEXITED(wstatus)) {
        *status = WEXITSTATUS(wstatus);
    } else {
        g_autofree char *st = wait_status_str(wstatus);

        g_test_message("%s %s: %s%s", bin, args, st,
                       WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGALRM ?
                       " (still running after the timeout)" : "");
        *status = -1;
    }
    if (out) {
        *out = g_steal_pointer(&stdout_text);
    }
    return stderr_text;
}

/*
 * Whether msg starts on the first line of err and err ends with the line
 * msg ends in: an error line, and hint lines only where msg has them.
 */
static bool startup_error_is(const char *err, const char *msg)
{
    const char *p = strstr(err, msg);
    const char *rest;

    if (!p || memchr(err, '\n', p - err)) {
        return false;
    }
    rest = p + strlen(msg);
    if (rest > err && rest[-1] == '\n') {
        return !*rest;
    }
    p = strchr(rest, '\n');
    return p && !p[1];
}

void qtest_expect_startup_error(const char *args, const char *msg)
{
    int status;
    g_autofree char *err = qtest_run_binary(args, &status, NULL);

    if (status != 1 || !startup_error_is(err, msg)) {
        g_error("'%s': expected exit status 1 and stderr one line with "
                "'%s'; got exit status %d and stderr:\n%s", args, msg,
                status, err);
    }
}

int qtest_count_fds(QTestState *s)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/fd", s->pid);
    DIR *d = opendir(path);
    struct dirent *e;
    int n = 0;

    if (!d) {
        qtest_fatal("cannot open %s: %s", path, strerror(errno));
    }
    while ((e = readdir(d))) {
        if (e->d_name[0] != '.') {
            n++;
        }
    }
    closedir(d);
    return n;
}

/* --- QMP ----------------------------------------------------------------- */

void qtest_qmp_send_raw(QTestState *s, const char *buf, size_t len)
{
    send_all(s->qmp_fd, buf, len, "QMP");
}

static void qtest_qmp_vsend(QTestState *s, const char *fmt, va_list ap)
{
    g_autofree char *cmd = g_strdup_vprintf(fmt, ap);

    if (getenv("QTEST_LOG")) {
        fprintf(stderr, "libqtest: QMP> %s\n", cmd);
    }
    qtest_qmp_send_raw(s, cmd, strlen(cmd));
}

void qtest_qmp_send(QTestState *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    qtest_qmp_vsend(s, fmt, ap);
    va_end(ap);
}

char *qtest_qmp_read_line(QTestState *s)
{
    char *line;

    while (!(line = take_line(s->qmp_rx))) {
        recv_more(s, s->qmp_fd, s->qmp_rx, -1, false, "QMP");
    }
    if (!g_str_has_suffix(line, "\r")) {
        qtest_fatal("QMP line not terminated by CRLF: '%s'", line);
    }
    line[strlen(line) - 1] = '\0';
    if (getenv("QTEST_LOG")) {
        fprintf(stderr, "libqtest: QMP< %s\n", line);
    }
    return line;
}

static JsonObject *parse_object(const char *line)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) err = NULL;
    JsonNode *root;

    if (!json_parser_load_from_data(parser, line, -1, &err)) {
        qtest_fatal("QMP sent invalid JSON (%s): '%s'", err->message, line);
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        qtest_fatal("QMP sent a non-object: '%s'", line);
    }
    return json_object_ref(json_node_get_object(root));
}

/* The next message from the wire, whatever it is. */
static JsonObject *qmp_read_message(QTestState *s)
{
    g_autofree char *line = qtest_qmp_read_line(s);

    return parse_object(line);
}

static bool is_event(JsonObject *o)
{
    return json_object_has_member(o, "event");
}

JsonObject *qtest_qmp_receive(QTestState *s)
{
    JsonObject *o = g_queue_pop_head(&s->replies);

    while (!o) {
        o = qmp_read_message(s);
        if (is_event(o)) {
            g_queue_push_tail(&s->events, o);
            o = NULL;
        }
    }
    return o;
}

JsonObject *qtest_qmp(QTestState *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    qtest_qmp_vsend(s, fmt, ap);
    va_end(ap);
    return qtest_qmp_receive(s);
}

JsonObject *qtest_qmp_fds(QTestState *s, const int *fds, size_t nfds,
                          const char *fmt, ...)
{
    g_autofree char *cmd = NULL;
    g_autofree char *control = NULL;
    size_t control_len = CMSG_SPACE(nfds * sizeof(int));
    struct iovec iov;
    struct msghdr msg = { 0 };
    va_list ap;
    ssize_t n;

    va_start(ap, fmt);
    cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    iov.iov_base = cmd;
    iov.iov_len = strlen(cmd);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (nfds) {
        struct cmsghdr *cm;

        control = g_malloc0(control_len);
        msg.msg_control = control;
        msg.msg_controllen = control_len;
        cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
    }
    /* The fds travel with the first byte; the rest may follow. */
    do {
        n = sendmsg(s->qmp_fd, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        qtest_fatal("QMP: sendmsg failed: %s", strerror(errno));
    }
    if ((size_t)n < iov.iov_len) {
        qtest_qmp_send_raw(s, cmd + n, iov.iov_len - n);
    }
    return qtest_qmp_receive(s);
}

static bool event_matches(JsonObject *o, const char *event)
{
    return !g_strcmp0(json_object_get_string_member_with_default(
                          o, "event", NULL), event);
}

/* Removes and returns the first queued event named event, or NULL. */
static JsonObject *take_queued_event(QTestState *s, const char *event)
{
    for (GList *l = s->events.head; l; l = l->next) {
        JsonObject *o = l->data;

        if (event_matches(o, event)) {
            g_queue_delete_link(&s->events, l);
            return o;
        }
    }
    return NULL;
}

/* Reads one message, queueing it as an event or a reply. */
static void qmp_queue_one(QTestState *s)
{
    JsonObject *o = qmp_read_message(s);

    g_queue_push_tail(is_event(o) ? &s->events : &s->replies, o);
}

JsonObject *qtest_qmp_eventwait_ref(QTestState *s, const char *event)
{
    JsonObject *o;

    while (!(o = take_queued_event(s, event))) {
        qmp_queue_one(s);
    }
    return o;
}

void qtest_qmp_eventwait(QTestState *s, const char *event)
{
    json_object_unref(qtest_qmp_eventwait_ref(s, event));
}

JsonObject *qtest_qmp_event_ref(QTestState *s, const char *event)
{
    /*
     * Take in whatever complete messages are already waiting; the
     * emulator may have gone away meanwhile (after quit, say).
     */
    for (;;) {
        if (!memchr(s->qmp_rx->str, '\n', s->qmp_rx->len) &&
            recv_more(s, s->qmp_fd, s->qmp_rx, 0, true, "QMP") <= 0) {
            break;
        }
        if (memchr(s->qmp_rx->str, '\n', s->qmp_rx->len)) {
            qmp_queue_one(s);
        }
    }
    return take_queued_event(s, event);
}

bool qmp_rsp_is_err(JsonObject *rsp)
{
    return rsp && json_object_has_member(rsp, "error");
}

static char *rsp_to_string(JsonObject *rsp)
{
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), rsp);

    return json_to_string(node, false);
}

char *qmp_expect_error(JsonObject *rsp, const char *cls)
{
    JsonObject *err;
    const char *got_cls, *desc;

    if (!qmp_rsp_is_err(rsp)) {
        g_autofree char *str = rsp_to_string(rsp);

        qtest_fatal("expected a QMP error of class %s, got %s", cls, str);
    }
    err = json_object_get_object_member(rsp, "error");
    got_cls = err ? json_object_get_string_member_with_default(err, "class",
                                                               NULL) : NULL;
    desc = err ? json_object_get_string_member_with_default(err, "desc",
                                                            NULL) : NULL;
    if (!desc || g_strcmp0(got_cls, cls)) {
        g_autofree char *str = rsp_to_string(rsp);

        qtest_fatal("expected a QMP error of class %s, got %s", cls, str);
    }
    return g_strdup(desc);
}

JsonNode *qmp_expect_return(JsonObject *rsp)
{
    if (!rsp || !json_object_has_member(rsp, "return")) {
        g_autofree char *str = rsp ? rsp_to_string(rsp) : g_strdup("NULL");

        qtest_fatal("expected a QMP success, got %s", str);
    }
    return json_object_get_member(rsp, "return");
}

JsonNode *qtest_qom_get(QTestState *s, const char *path, const char *prop)
{
    JsonObject *rsp = qtest_qmp(s, "{\"execute\": \"qom-get\", "
                                "\"arguments\": {\"path\": \"%s\", "
                                "\"property\": \"%s\"}}", path, prop);
    JsonNode *ret = json_node_copy(qmp_expect_return(rsp));

    json_object_unref(rsp);
    return ret;
}

int64_t qtest_qom_get_int(QTestState *s, const char *path, const char *prop)
{
    g_autoptr(JsonNode) n = qtest_qom_get(s, path, prop);

    g_assert_true(json_node_get_value_type(n) == G_TYPE_INT64);
    return json_node_get_int(n);
}

bool qtest_qom_get_bool(QTestState *s, const char *path, const char *prop)
{
    g_autoptr(JsonNode) n = qtest_qom_get(s, path, prop);

    g_assert_true(json_node_get_value_type(n) == G_TYPE_BOOLEAN);
    return json_node_get_boolean(n);
}

char *qtest_qom_get_str(QTestState *s, const char *path, const char *prop)
{
    g_autoptr(JsonNode) n = qtest_qom_get(s, path, prop);

    g_assert_true(json_node_get_value_type(n) == G_TYPE_STRING);
    return g_strdup(json_node_get_string(n));
}

void qtest_assert_alive(QTestState *s)
{
    g_autofree char *reply = qtest_raw_cmd(s, "endianness");
    JsonObject *rsp;

    g_assert_cmpstr(reply, ==, "OK little");
    rsp = qtest_qmp(s, "{\"execute\": \"query-status\"}");
    g_assert_false(qmp_rsp_is_err(rsp));
    json_object_unref(rsp);
}

void qtest_qmp_assert_success(QTestState *s, const char *fmt, ...)
{
    JsonObject *rsp;
    va_list ap;

    va_start(ap, fmt);
    qtest_qmp_vsend(s, fmt, ap);
    va_end(ap);
    rsp = qtest_qmp_receive(s);
    qmp_expect_return(rsp);
    json_object_unref(rsp);
}

void qtest_qmp_device_add(QTestState *s, const char *driver, const char *id,
                          const char *extra_json_members)
{
    g_autofree char *id_member = id ?
        g_strdup_printf(", \"id\": \"%s\"", id) : g_strdup("");
    bool extra = extra_json_members && *extra_json_members;

    qtest_qmp_assert_success(s, "{\"execute\": \"device_add\", "
                             "\"arguments\": {\"driver\": \"%s\"%s%s%s}}",
                             driver, id_member, extra ? ", " : "",
                             extra ? extra_json_members : "");
}

void qtest_qmp_device_del(QTestState *s, const char *id)
{
    qtest_qmp_assert_success(s, "{\"execute\": \"device_del\", "
                             "\"arguments\": {\"id\": \"%s\"}}", id);
    for (;;) {
        JsonObject *ev = qtest_qmp_eventwait_ref(s, "DEVICE_DELETED");
        JsonObject *data = json_object_get_object_member(ev, "data");
        bool match = data && !g_strcmp0(
            json_object_get_string_member_with_default(data, "device", NULL),
            id);

        json_object_unref(ev);
        if (match) {
            return;
        }
    }
}

/* --- qtest protocol ------------------------------------------------------ */

void qtest_send_raw(QTestState *s, const char *buf, size_t len)
{
    send_all(s->qtest_fd, buf, len, "qtest");
}

/* Records "IRQ raise N" / "IRQ lower N"; false if line is not one. */
static bool qtest_handle_irq_line(QTestState *s, const char *line)
{
    char dir[8];
    int n;

    if (strncmp(line, "IRQ ", 4)) {
        return false;
    }
    if (sscanf(line, "IRQ %7s %d", dir, &n) != 2 || n < 0 ||
        n >= QTEST_MAX_IRQ ||
        (strcmp(dir, "raise") && strcmp(dir, "lower"))) {
        qtest_fatal("malformed qtest IRQ line: '%s'", line);
    }
    s->irq_level[n] = !strcmp(dir, "raise");
    return true;
}

/* The next reply line, consuming the IRQ lines before it. */
static char *qtest_read_reply(QTestState *s)
{
    for (;;) {
        char *line = take_line(s->qtest_rx);

        if (!line) {
            recv_more(s, s->qtest_fd, s->qtest_rx, -1, false, "qtest");
            continue;
        }
        if (!qtest_handle_irq_line(s, line)) {
            return line;
        }
        g_free(line);
    }
}

char *qtest_raw_read_line(QTestState *s)
{
    return qtest_read_reply(s);
}

char *qtest_raw_cmd(QTestState *s, const char *fmt, ...)
{
    g_autoptr(GString) cmd = g_string_new(NULL);
    va_list ap;

    va_start(ap, fmt);
    g_string_vprintf(cmd, fmt, ap);
    va_end(ap);
    g_string_append_c(cmd, '\n');
    qtest_send_raw(s, cmd->str, cmd->len);
    return qtest_read_reply(s);
}

/* Sends a command that must succeed; returns the words of the reply. */
static char ** G_GNUC_PRINTF(2, 3) qtest_rsp(QTestState *s,
                                             const char *fmt, ...)
{
    g_autoptr(GString) cmd = g_string_new(NULL);
    g_autofree char *line = NULL;
    va_list ap;

    va_start(ap, fmt);
    g_string_vprintf(cmd, fmt, ap);
    va_end(ap);
    g_string_append_c(cmd, '\n');
    qtest_send_raw(s, cmd->str, cmd->len);
    line = qtest_read_reply(s);
    if (strcmp(line, "OK") && !g_str_has_prefix(line, "OK ")) {
        g_strchomp(cmd->str);
        qtest_fatal("qtest command '%.200s' failed: %s", cmd->str, line);
    }
    return g_strsplit(line, " ", 0);
}

static void qtest_ok(QTestState *s, char **words)
{
    g_strfreev(words);
}

static uint64_t qtest_rsp_u64(char **words)
{
    uint64_t v;
    char *end;

    if (!words[1]) {
        qtest_fatal("qtest reply without a value");
    }
    errno = 0;
    v = strtoull(words[1], &end, 0);
    if (errno || *end) {
        qtest_fatal("qtest reply with a bad number '%s'", words[1]);
    }
    g_strfreev(words);
    return v;
}

uint8_t qtest_readb(QTestState *s, uint64_t addr)
{
    return qtest_rsp_u64(qtest_rsp(s, "readb 0x%" PRIx64, addr));
}

uint16_t qtest_readw(QTestState *s, uint64_t addr)
{
    return qtest_rsp_u64(qtest_rsp(s, "readw 0x%" PRIx64, addr));
}

uint32_t qtest_readl(QTestState *s, uint64_t addr)
{
    return qtest_rsp_u64(qtest_rsp(s, "readl 0x%" PRIx64, addr));
}

uint64_t qtest_readq(QTestState *s, uint64_t addr)
{
    return qtest_rsp_u64(qtest_rsp(s, "readq 0x%" PRIx64, addr));
}

void qtest_writeb(QTestState *s, uint64_t addr, uint8_t value)
{
    qtest_ok(s, qtest_rsp(s, "writeb 0x%" PRIx64 " 0x%x", addr, value));
}

void qtest_writew(QTestState *s, uint64_t addr, uint16_t value)
{
    qtest_ok(s, qtest_rsp(s, "writew 0x%" PRIx64 " 0x%x", addr, value));
}

void qtest_writel(QTestState *s, uint64_t addr, uint32_t value)
{
    qtest_ok(s, qtest_rsp(s, "writel 0x%" PRIx64 " 0x%x", addr, value));
}

void qtest_writeq(QTestState *s, uint64_t addr, uint64_t value)
{
    qtest_ok(s, qtest_rsp(s, "writeq 0x%" PRIx64 " 0x%" PRIx64, addr,
                          value));
}

void qtest_memread(QTestState *s, uint64_t addr, void *data, size_t size)
{
    uint8_t *out = data;
    char **words;
    const char *hex;

    if (!size) {
        return;
    }
    words = qtest_rsp(s, "read 0x%" PRIx64 " 0x%zx", addr, size);
    hex = words[1];
    if (!hex || strlen(hex) != 2 + 2 * size || strncmp(hex, "0x", 2)) {
        qtest_fatal("bad reply to read of %zu bytes: '%.64s'", size,
                    hex ? hex : "");
    }
    for (size_t i = 0; i < size; i++) {
        int hi = g_ascii_xdigit_value(hex[2 + 2 * i]);
        int lo = g_ascii_xdigit_value(hex[3 + 2 * i]);

        if (hi < 0 || lo < 0) {
            qtest_fatal("bad hex in reply to read");
        }
        out[i] = hi << 4 | lo;
    }
    g_strfreev(words);
}

void qtest_memwrite(QTestState *s, uint64_t addr, const void *data,
                    size_t size)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *in = data;
    g_autofree char *hex = NULL;

    if (!size) {
        return;
    }
    hex = g_malloc(2 * size + 1);
    for (size_t i = 0; i < size; i++) {
        hex[2 * i] = digits[in[i] >> 4];
        hex[2 * i + 1] = digits[in[i] & 0xf];
    }
    hex[2 * size] = '\0';
    qtest_ok(s, qtest_rsp(s, "write 0x%" PRIx64 " 0x%zx 0x%s", addr, size,
                          hex));
}

void qtest_bufread(QTestState *s, uint64_t addr, void *data, size_t size)
{
    char **words;
    g_autofree uint8_t *bytes = NULL;
    gsize len = 0;

    if (!size) {
        return;
    }
    words = qtest_rsp(s, "b64read 0x%" PRIx64 " 0x%zx", addr, size);
    if (!words[1]) {
        qtest_fatal("b64read reply without data");
    }
    bytes = g_base64_decode(words[1], &len);
    if (len != size) {
        qtest_fatal("b64read returned %zu bytes, expected %zu", (size_t)len,
                    size);
    }
    memcpy(data, bytes, size);
    g_strfreev(words);
}

void qtest_bufwrite(QTestState *s, uint64_t addr, const void *data,
                    size_t size)
{
    g_autofree char *b64 = NULL;

    if (!size) {
        return;
    }
    b64 = g_base64_encode(data, size);
    qtest_ok(s, qtest_rsp(s, "b64write 0x%" PRIx64 " 0x%zx %s", addr, size,
                          b64));
}

void qtest_memset(QTestState *s, uint64_t addr, uint8_t pattern,
                  size_t size)
{
    if (!size) {
        return;
    }
    qtest_ok(s, qtest_rsp(s, "memset 0x%" PRIx64 " 0x%zx 0x%02x", addr, size,
                          pattern));
}

uint8_t qtest_inb(QTestState *s, uint16_t port)
{
    return qtest_rsp_u64(qtest_rsp(s, "inb 0x%x", port));
}

uint16_t qtest_inw(QTestState *s, uint16_t port)
{
    return qtest_rsp_u64(qtest_rsp(s, "inw 0x%x", port));
}

uint32_t qtest_inl(QTestState *s, uint16_t port)
{
    return qtest_rsp_u64(qtest_rsp(s, "inl 0x%x", port));
}

void qtest_outb(QTestState *s, uint16_t port, uint8_t value)
{
    qtest_ok(s, qtest_rsp(s, "outb 0x%x 0x%x", port, value));
}

void qtest_outw(QTestState *s, uint16_t port, uint16_t value)
{
    qtest_ok(s, qtest_rsp(s, "outw 0x%x 0x%x", port, value));
}

void qtest_outl(QTestState *s, uint16_t port, uint32_t value)
{
    qtest_ok(s, qtest_rsp(s, "outl 0x%x 0x%x", port, value));
}

int64_t qtest_clock_step(QTestState *s, int64_t step)
{
    return qtest_rsp_u64(qtest_rsp(s, "clock_step %" PRId64, step));
}

int64_t qtest_clock_step_next(QTestState *s)
{
    return qtest_rsp_u64(qtest_rsp(s, "clock_step"));
}

int64_t qtest_clock_set(QTestState *s, int64_t val)
{
    return qtest_rsp_u64(qtest_rsp(s, "clock_set %" PRId64, val));
}

void qtest_irq_intercept_in(QTestState *s, const char *qom_path)
{
    qtest_ok(s, qtest_rsp(s, "irq_intercept_in %s", qom_path));
}

void qtest_irq_intercept_out(QTestState *s, const char *qom_path)
{
    qtest_ok(s, qtest_rsp(s, "irq_intercept_out %s", qom_path));
}

bool qtest_get_irq(QTestState *s, int num)
{
    if (num < 0 || num >= QTEST_MAX_IRQ) {
        qtest_fatal("IRQ %d out of range", num);
    }
    /* A round trip, so that IRQ lines sent before it have arrived. */
    qtest_inb(s, 0);
    return s->irq_level[num];
}

bool qtest_msi_pop(QTestState *s, uint64_t *addr, uint32_t *data)
{
    char **words = qtest_rsp(s, "msi_pop");
    bool got = false;

    if (words[1] && !strcmp(words[1], "none") && !words[2]) {
        got = false;
    } else if (words[1] && words[2] && !words[3]) {
        char *end1, *end2;
        uint64_t a = strtoull(words[1], &end1, 16);
        uint64_t d = strtoull(words[2], &end2, 16);

        if (*end1 || *end2 || d > UINT32_MAX) {
            qtest_fatal("bad msi_pop reply");
        }
        *addr = a;
        *data = d;
        got = true;
    } else {
        qtest_fatal("bad msi_pop reply");
    }
    g_strfreev(words);
    return got;
}

void qtest_msi_clear(QTestState *s)
{
    qtest_ok(s, qtest_rsp(s, "msi_clear"));
}

/* --- PCI configuration through CF8/CFC ----------------------------------- */

#define PCI_CONFIG_ADDR 0xcf8
#define PCI_CONFIG_DATA 0xcfc

static void qpci_select(QTestState *s, int bus, int devfn, uint8_t off)
{
    qtest_outl(s, PCI_CONFIG_ADDR, 0x80000000u | (bus & 0xff) << 16 |
                                   (devfn & 0xff) << 8 | (off & 0xfc));
}

uint8_t qpci_config_readb(QTestState *s, int bus, int devfn, uint8_t off)
{
    qpci_select(s, bus, devfn, off);
    return qtest_inb(s, PCI_CONFIG_DATA + (off & 3));
}

uint16_t qpci_config_readw(QTestState *s, int bus, int devfn, uint8_t off)
{
    qpci_select(s, bus, devfn, off);
    return qtest_inw(s, PCI_CONFIG_DATA + (off & 2));
}

uint32_t qpci_config_readl(QTestState *s, int bus, int devfn, uint8_t off)
{
    qpci_select(s, bus, devfn, off);
    return qtest_inl(s, PCI_CONFIG_DATA);
}

void qpci_config_writeb(QTestState *s, int bus, int devfn, uint8_t off,
                        uint8_t v)
{
    qpci_select(s, bus, devfn, off);
    qtest_outb(s, PCI_CONFIG_DATA + (off & 3), v);
}

void qpci_config_writew(QTestState *s, int bus, int devfn, uint8_t off,
                        uint16_t v)
{
    qpci_select(s, bus, devfn, off);
    qtest_outw(s, PCI_CONFIG_DATA + (off & 2), v);
}

void qpci_config_writel(QTestState *s, int bus, int devfn, uint8_t off,
                        uint32_t v)
{
    qpci_select(s, bus, devfn, off);
    qtest_outl(s, PCI_CONFIG_DATA, v);
}

#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_BASE_ADDRESS_0 0x10
#define PCI_BAR_IO 0x1
#define PCI_BAR_MEM_TYPE_64 0x4
#define PCI_CAPABILITY_LIST 0x34

uint64_t qpci_bar_map(QTestState *s, int bus, int devfn, int bar,
                      uint64_t addr)
{
    uint8_t off = PCI_BASE_ADDRESS_0 + 4 * bar;
    uint32_t orig, lo;
    uint64_t mask;

    if (bar < 0 || bar > 5) {
        qtest_fatal("BAR %d out of range", bar);
    }
    orig = qpci_config_readl(s, bus, devfn, off);
    qpci_config_writel(s, bus, devfn, off, 0xffffffff);
    lo = qpci_config_readl(s, bus, devfn, off);
    if (orig & PCI_BAR_IO) {
        mask = lo & ~0x3u;
        /* 16-bit I/O decoders read the upper half as zero. */
        if (mask && !(mask & 0xffff0000)) {
            mask |= 0xffff0000;
        }
        mask |= 0xffffffff00000000ull;
    } else if (orig & PCI_BAR_MEM_TYPE_64) {
        qpci_config_writel(s, bus, devfn, off + 4, 0xffffffff);
        mask = (uint64_t)qpci_config_readl(s, bus, devfn, off + 4) << 32 |
               (lo & ~0xfu);
        qpci_config_writel(s, bus, devfn, off + 4, addr >> 32);
    } else {
        mask = 0xffffffff00000000ull | (lo & ~0xfu);
    }
    qpci_config_writel(s, bus, devfn, off, addr);
    if (mask == 0xffffffff00000000ull || !mask) {
        return 0;               /* no BAR there */
    }
    return ~mask + 1;
}

void qpci_device_enable(QTestState *s, int bus, int devfn)
{
    uint16_t cmd = qpci_config_readw(s, bus, devfn, PCI_COMMAND);

    qpci_config_writew(s, bus, devfn, PCI_COMMAND,
                       cmd | PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
                       PCI_COMMAND_MASTER);
}

uint8_t qpci_find_capability(QTestState *s, int bus, int devfn,
                             uint8_t cap_id)
{
    uint8_t ptr;

    if (!(qpci_config_readw(s, bus, devfn, PCI_STATUS) &
          PCI_STATUS_CAP_LIST)) {
        return 0;
    }
    ptr = qpci_config_readb(s, bus, devfn, PCI_CAPABILITY_LIST) & ~3;
    /* 48 capabilities fit in config space: a longer chain is a loop. */
    for (int i = 0; ptr >= 0x40 && i < 48; i++) {
        if (qpci_config_readb(s, bus, devfn, ptr) == cap_id) {
            return ptr;
        }
        ptr = qpci_config_readb(s, bus, devfn, ptr + 1) & ~3;
    }
    return 0;
}
