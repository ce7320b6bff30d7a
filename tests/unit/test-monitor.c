/*
 * The QMP monitor over real unix sockets: greeting, negotiation, dispatch
 * errors, id echo, parse-error recovery, events, getfd/closefd with fds
 * passed by SCM_RIGHTS, several monitors, reconnection, teardown.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "chardev/char.h"
#include "monitor/monitor.h"
#include "qapi/error.h"
#include "qapi/qmp-dispatch.h"
#include "qom/object.h"
#include "../test-fds.h"

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, " \
    "\"minor\": 1, \"major\": 0}, \"package\": \"viommu-0.1.0\"}, "   \
    "\"capabilities\": []}}"

static char *tmp_dir;
static int sock_seq;

/* A QMP client: the test's end of the connection. */
typedef struct Client {
    int fd;
    GString *in;        /* received, not yet consumed */
    Chardev *chr;       /* the emulator's end */
    char *path;         /* its listening socket */
} Client;

static void pump(void)
{
    if (!g_main_context_iteration(NULL, FALSE)) {
        g_usleep(200);
    }
}

static int unix_connect(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)),
                    ==, 0);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

/* A server chardev with a monitor, and a client connected to it. */
static void client_start(Client *c, const char *id, bool pretty)
{
    g_autofree char *name = g_strdup_printf("qmp%d.sock", sock_seq++);
    g_autofree char *spec = NULL;

    c->path = g_build_filename(tmp_dir, name, NULL);
    spec = g_strdup_printf("unix:%s,server=on,wait=off", c->path);
    c->chr = qemu_chr_new(id, spec, &error_abort);
    g_assert_true(monitor_new_qmp(c->chr, pretty, &error_abort));
    c->fd = unix_connect(c->path);
    c->in = g_string_new(NULL);
}

static void client_close(Client *c)
{
    close(c->fd);
    c->fd = -1;
    g_string_free(c->in, true);
    g_free(c->path);
}

/* Tears down all monitors and the chardevs of the clients. */
static void finish(Client *clients, int n)
{
    monitor_cleanup();
    for (int i = 0; i < n; i++) {
        if (clients[i].fd >= 0) {
            client_close(&clients[i]);
        }
        object_unparent(OBJECT(clients[i].chr));
    }
}

static void client_send(Client *c, const char *s)
{
    g_assert_cmpint(send(c->fd, s, strlen(s), MSG_NOSIGNAL), ==, strlen(s));
}

static void client_send_fd(Client *c, const char *s, int fd)
{
    char control[CMSG_SPACE(sizeof(int))] = { 0 };
    struct iovec iov = { .iov_base = (void *)s, .iov_len = strlen(s) };
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = control, .msg_controllen = sizeof(control),
    };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    g_assert_cmpint(sendmsg(c->fd, &msg, MSG_NOSIGNAL), ==, strlen(s));
}

/* Reads up to the next CRLF, running the main loop meanwhile. */
static char *client_line(Client *c)
{
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    char *end;

    while (!(end = strstr(c->in->str, "\r\n"))) {
        char buf[4096];
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

        if (n > 0) {
            g_string_append_len(c->in, buf, n);
            continue;
        }
        g_assert_cmpint(n, <, 0);
        g_assert_cmpint(errno, ==, EAGAIN);
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        pump();
    }
    {
        char *line = g_strndup(c->in->str, end - c->in->str);

        g_string_erase(c->in, 0, end + 2 - c->in->str);
        /* Compact output: one line, no bare LF inside. */
        g_assert_null(strchr(line, '\n'));
        return line;
    }
}

/* No more output is pending (after running the main loop a while). */
static void client_assert_quiet(Client *c)
{
    char buf[1];

    for (int i = 0; i < 50; i++) {
        pump();
    }
    g_assert_cmpstr(c->in->str, ==, "");
    g_assert_cmpint(recv(c->fd, buf, 1, MSG_PEEK), ==, -1);
    g_assert_cmpint(errno, ==, EAGAIN);
}

static JsonObject *parse_obj(const char *line)
{
    g_autoptr(GError) gerr = NULL;
    JsonNode *node = json_from_string(line, &gerr);
    JsonObject *obj;

    g_assert_no_error(gerr);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
    obj = json_object_ref(json_node_get_object(node));
    json_node_unref(node);
    return obj;
}

static JsonObject *client_obj(Client *c)
{
    g_autofree char *line = client_line(c);

    return parse_obj(line);
}

static void assert_error(JsonObject *rsp, const char *cls, const char *desc)
{
    JsonObject *err;

    g_assert_true(json_object_has_member(rsp, "error"));
    err = json_object_get_object_member(rsp, "error");
    g_assert_cmpstr(json_object_get_string_member(err, "class"), ==, cls);
    g_assert_cmpstr(json_object_get_string_member(err, "desc"), ==, desc);
}

static void client_expect_error(Client *c, const char *cmd, const char *cls,
                                const char *desc)
{
    g_autoptr(JsonObject) rsp = NULL;

    client_send(c, cmd);
    rsp = client_obj(c);
    assert_error(rsp, cls, desc);
    g_assert_false(json_object_has_member(rsp, "id"));
}

static void client_expect_line(Client *c, const char *expect)
{
    g_autofree char *line = client_line(c);

    g_assert_cmpstr(line, ==, expect);
}

static void client_expect(Client *c, const char *cmd, const char *rsp)
{
    client_send(c, cmd);
    client_expect_line(c, rsp);
}

static void client_negotiate(Client *c)
{
    client_expect_line(c, GREETING);
    client_expect(c, "{\"execute\": \"qmp_capabilities\"}",
                  "{\"return\": {}}");
}

/* Tests */

static void test_greeting(void)
{
    Client c;
    char buf[512];
    ssize_t n;
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    client_start(&c, "mon-greet", false);
    /* Byte-exact: the greeting, then CRLF, then nothing. */
    while ((n = recv(c.fd, buf, sizeof(buf) - 1, 0)) < 0) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        pump();
    }
    buf[n] = 0;
    g_assert_cmpstr(buf, ==, GREETING "\r\n");
    client_assert_quiet(&c);
    finish(&c, 1);
}

static void test_negotiation(void)
{
    Client c;
    g_autofree char *greeting = NULL;

    client_start(&c, "mon-neg", false);
    greeting = client_line(&c);
    g_assert_cmpstr(greeting, ==, GREETING);

    client_expect_error(&c, "{\"execute\": \"query-commands\"}",
                        "CommandNotFound",
                        "Expecting capabilities negotiation with "
                        "'qmp_capabilities'");
    client_expect_error(&c, "{\"execute\": \"no-such-command\"}",
                        "CommandNotFound",
                        "Expecting capabilities negotiation with "
                        "'qmp_capabilities'");
    client_expect_error(&c, "{\"execute\": \"qmp_capabilities\", "
                        "\"arguments\": {\"enable\": [\"oob\"]}}",
                        "GenericError", "Capability oob not available");
    /* Validation still applies before negotiation. */
    client_expect_error(&c, "{\"execute\": \"qmp_capabilities\", "
                        "\"arguments\": {\"enable\": [\"bogus\"]}}",
                        "GenericError",
                        "Parameter 'enable[0]' does not accept value 'bogus'");
    client_expect_error(&c, "{\"exec-oob\": \"qmp_capabilities\"}",
                        "GenericError",
                        "QMP input member 'exec-oob' is unexpected");

    client_expect(&c, "{\"execute\": \"qmp_capabilities\"}",
                  "{\"return\": {}}");
    client_expect_error(&c, "{\"execute\": \"qmp_capabilities\"}",
                        "CommandNotFound",
                        "Capabilities negotiation is already complete, "
                        "command ignored");
    client_expect_error(&c, "{\"execute\": \"no-such-command\"}",
                        "CommandNotFound",
                        "The command no-such-command has not been found");
    client_expect_error(&c, "{\"execute\": \"getfd\"}", "GenericError",
                        "Parameter 'fdname' is missing");
    finish(&c, 1);
}

static void test_id_echo(void)
{
    Client c;

    client_start(&c, "mon-id", false);
    client_expect_line(&c, GREETING);
    client_expect(&c, "{\"execute\": \"qmp_capabilities\", \"id\": 1}",
                  "{\"return\": {}, \"id\": 1}");
    client_expect(&c, "{\"execute\": \"qmp_capabilities\", "
                  "\"id\": \"two\"}",
                  "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
                  "\"Capabilities negotiation is already complete, command "
                  "ignored\"}, \"id\": \"two\"}");
    client_expect(&c, "{\"execute\": \"closefd\", \"arguments\": "
                  "{\"fdname\": \"x\"}, \"id\": {\"a\": [1, null, true]}}",
                  "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                  "\"File descriptor named 'x' not found\"}, "
                  "\"id\": {\"a\": [1, null, true]}}");
    /* An id is copied even when the command is unknown. */
    client_expect(&c, "{\"id\": 3.5, \"execute\": \"nope\"}",
                  "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
                  "\"The command nope has not been found\"}, \"id\": 3.5}");
    finish(&c, 1);
}

static void test_bad_input_recovers(void)
{
    Client c;
    g_autoptr(JsonObject) rsp = NULL;
    g_autofree char *line = NULL;
    JsonObject *err;

    client_start(&c, "mon-bad", false);
    client_negotiate(&c);

    /* A syntax error: an error without id, and the parser resets. */
    client_send(&c, "{\"execute\": }");
    rsp = client_obj(&c);
    g_assert_false(json_object_has_member(rsp, "id"));
    err = json_object_get_object_member(rsp, "error");
    g_assert_cmpstr(json_object_get_string_member(err, "class"), ==,
                    "GenericError");
    g_assert_true(g_str_has_prefix(json_object_get_string_member(err, "desc"),
                                   "JSON parse error, "));
    client_assert_quiet(&c);

    client_expect(&c, "{\"execute\": \"closefd\", \"arguments\": "
                  "{\"fdname\": \"y\"}, \"id\": 7}",
                  "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                  "\"File descriptor named 'y' not found\"}, \"id\": 7}");

    client_expect_error(&c, "[1, 2]", "GenericError",
                        "QMP input must be a JSON object");
    client_expect_error(&c, "{\"arguments\": {}}", "GenericError",
                        "QMP input lacks member 'execute'");
    client_expect_error(&c, "{\"execute\": 1}", "GenericError",
                        "QMP input member 'execute' must be a string");

    /* Split across writes, and two requests in one write. */
    client_send(&c, "{\"execute\": \"qmp_cap");
    client_assert_quiet(&c);
    client_send(&c, "abilities\", \"id\": \"a\"}{\"execute\": "
                "\"qmp_capabilities\", \"id\": \"b\"}");
    line = client_line(&c);
    g_assert_true(g_str_has_suffix(line, "\"id\": \"a\"}"));
    g_free(line);
    line = client_line(&c);
    g_assert_true(g_str_has_suffix(line, "\"id\": \"b\"}"));
    g_clear_pointer(&line, g_free);

    /* A control character resets the parser mid-object. */
    client_send(&c, "{\"execute\": \"x\x01");
    g_clear_pointer(&rsp, json_object_unref);
    rsp = client_obj(&c);
    g_assert_true(json_object_has_member(rsp, "error"));
    client_expect(&c, "{\"execute\": \"qmp_capabilities\", \"id\": 9}",
                  "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
                  "\"Capabilities negotiation is already complete, command "
                  "ignored\"}, \"id\": 9}");
    finish(&c, 1);
}

static void test_query_commands(void)
{
    Client c;
    g_autoptr(JsonObject) rsp = NULL;
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    JsonArray *cmds;

    client_start(&c, "mon-qc", false);
    client_negotiate(&c);
    client_send(&c, "{\"execute\": \"query-commands\"}");
    rsp = client_obj(&c);
    cmds = json_object_get_array_member(rsp, "return");
    for (guint i = 0; i < json_array_get_length(cmds); i++) {
        JsonObject *info = json_array_get_object_element(cmds, i);
        const char *name = json_object_get_string_member(info, "name");

        g_assert_cmpuint(json_object_get_size(info), ==, 1);
        g_assert_false(g_hash_table_contains(seen, name));
        g_hash_table_add(seen, (char *)name);
    }
    g_assert_true(g_hash_table_contains(seen, "qmp_capabilities"));
    g_assert_true(g_hash_table_contains(seen, "query-commands"));
    g_assert_true(g_hash_table_contains(seen, "getfd"));
    g_assert_true(g_hash_table_contains(seen, "closefd"));
    finish(&c, 1);
}

static JsonObject *event_data(int n)
{
    JsonObject *data = json_object_new();

    json_object_set_int_member(data, "n", n);
    return data;
}

static void test_events(void)
{
    Client c;
    g_autoptr(JsonObject) ev = NULL;
    g_autofree char *line = NULL;
    JsonObject *ts;
    gint64 before = g_get_real_time() / G_USEC_PER_SEC;

    client_start(&c, "mon-ev", false);
    line = client_line(&c);
    g_assert_cmpstr(line, ==, GREETING);

    /* Not delivered before negotiation. */
    qapi_event_emit("TEST_EARLY", event_data(1));
    client_assert_quiet(&c);
    client_expect(&c, "{\"execute\": \"qmp_capabilities\"}",
                  "{\"return\": {}}");
    client_assert_quiet(&c);

    qapi_event_emit("TEST_EVENT", event_data(2));
    ev = client_obj(&c);
    g_assert_cmpstr(json_object_get_string_member(ev, "event"), ==,
                    "TEST_EVENT");
    g_assert_cmpint(json_object_get_int_member(
                        json_object_get_object_member(ev, "data"), "n"),
                    ==, 2);
    ts = json_object_get_object_member(ev, "timestamp");
    g_assert_cmpint(json_object_get_int_member(ts, "seconds"), >=, before);
    g_assert_cmpint(json_object_get_int_member(ts, "seconds"), <=,
                    g_get_real_time() / G_USEC_PER_SEC);
    g_assert_cmpint(json_object_get_int_member(ts, "microseconds"), >=, 0);
    g_assert_cmpint(json_object_get_int_member(ts, "microseconds"), <,
                    1000000);
    g_assert_cmpuint(json_object_get_size(ev), ==, 3);

    /* No data: the member is omitted. */
    qapi_event_emit("TEST_NODATA", NULL);
    g_clear_pointer(&ev, json_object_unref);
    ev = client_obj(&c);
    g_assert_cmpstr(json_object_get_string_member(ev, "event"), ==,
                    "TEST_NODATA");
    g_assert_false(json_object_has_member(ev, "data"));
    g_assert_true(json_object_has_member(ev, "timestamp"));
    client_assert_quiet(&c);
    finish(&c, 1);
}

static int pipe_eof(int rfd)
{
    char b;

    return read(rfd, &b, 1) == 0;
}

static void test_getfd_closefd(void)
{
    Client c;
    int p[2], q[2], r[2];
    int fds;

    client_start(&c, "mon-fd", false);
    client_negotiate(&c);
    fds = count_fds();

    client_expect(&c, "{\"execute\": \"getfd\", \"arguments\": "
                  "{\"fdname\": \"f\"}}",
                  "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                  "\"No file descriptor supplied via SCM_RIGHTS\"}}");

    g_assert_cmpint(pipe(p), ==, 0);
    client_send_fd(&c, "{\"execute\": \"getfd\", \"arguments\": "
                   "{\"fdname\": \"f\"}}", p[1]);
    close(p[1]);
    client_expect_line(&c, "{\"return\": {}}");
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    g_assert_cmpint(read(p[0], (char[1]){0}, 1), ==, -1);   /* still open */
    fcntl(p[0], F_SETFL, 0);

    /* A leading digit: refused, and the passed fd is closed. */
    g_assert_cmpint(pipe(q), ==, 0);
    client_send_fd(&c, "{\"execute\": \"getfd\", \"arguments\": "
                   "{\"fdname\": \"9f\"}}", q[1]);
    close(q[1]);
    client_expect_line(&c, "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                    "\"Parameter 'fdname' expects a name not starting "
                    "with a digit\"}}");
    g_assert_true(pipe_eof(q[0]));
    close(q[0]);

    /* Reusing a name closes the old fd. */
    g_assert_cmpint(pipe(r), ==, 0);
    client_send_fd(&c, "{\"execute\": \"getfd\", \"arguments\": "
                   "{\"fdname\": \"f\"}}", r[1]);
    close(r[1]);
    client_expect_line(&c, "{\"return\": {}}");
    g_assert_true(pipe_eof(p[0]));
    close(p[0]);

    /* closefd really closes it. */
    client_expect(&c, "{\"execute\": \"closefd\", \"arguments\": "
                  "{\"fdname\": \"f\"}}", "{\"return\": {}}");
    g_assert_true(pipe_eof(r[0]));
    close(r[0]);
    client_expect(&c, "{\"execute\": \"closefd\", \"arguments\": "
                  "{\"fdname\": \"f\"}}",
                  "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                  "\"File descriptor named 'f' not found\"}}");
    g_assert_cmpint(count_fds(), ==, fds);
    finish(&c, 1);
}

static void test_fd_param(void)
{
    Client c;
    Monitor *mon;
    Error *err = NULL;
    int p[2], fd;

    client_start(&c, "mon-param", false);
    client_negotiate(&c);
    mon = g_list_last(monitor_list())->data;

    g_assert_cmpint(monitor_fd_param(NULL, "5", &error_abort), ==, 5);
    g_assert_cmpint(monitor_fd_param(NULL, "vfio0", &err), ==, -1);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Invalid file descriptor number 'vfio0'");
    g_clear_pointer(&err, error_free);
    g_assert_cmpint(monitor_fd_param(mon, "12x", &err), ==, -1);
    g_clear_pointer(&err, error_free);
    g_assert_cmpint(monitor_fd_param(mon, "vfio0", &err), ==, -1);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "File descriptor named 'vfio0' has not been found");
    g_clear_pointer(&err, error_free);

    g_assert_cmpint(pipe(p), ==, 0);
    client_send_fd(&c, "{\"execute\": \"getfd\", \"arguments\": "
                   "{\"fdname\": \"vfio0\"}}", p[1]);
    close(p[1]);
    client_expect_line(&c, "{\"return\": {}}");
    /* Taking it moves ownership out of the monitor. */
    fd = monitor_fd_param(mon, "vfio0", &error_abort);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(monitor_get_fd(mon, "vfio0", &err), ==, -1);
    g_clear_pointer(&err, error_free);
    client_expect(&c, "{\"execute\": \"closefd\", \"arguments\": "
                  "{\"fdname\": \"vfio0\"}}",
                  "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                  "\"File descriptor named 'vfio0' not found\"}}");
    g_assert_cmpint(write(fd, "k", 1), ==, 1);
    close(fd);
    g_assert_cmpint(read(p[0], (char[1]){0}, 1), ==, 1);
    g_assert_true(pipe_eof(p[0]));
    close(p[0]);
    finish(&c, 1);
}

static void test_several_monitors(void)
{
    Client c[3];
    g_autoptr(JsonObject) ev = NULL;
    g_autofree char *g2 = NULL;
    Error *err = NULL;
    int p[2];

    client_start(&c[0], "mon-a", false);
    client_start(&c[1], "mon-b", false);
    client_start(&c[2], "mon-c", false);
    client_negotiate(&c[0]);
    client_negotiate(&c[1]);
    g2 = client_line(&c[2]);
    g_assert_cmpstr(g2, ==, GREETING);

    /* One frontend per chardev. */
    g_assert_false(monitor_new_qmp(c[0].chr, false, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Device 'mon-a' is in use");
    error_free(err);

    /* Events reach the negotiated monitors only. */
    qapi_event_emit("TEST_ALL", NULL);
    for (int i = 0; i < 2; i++) {
        g_clear_pointer(&ev, json_object_unref);
        ev = client_obj(&c[i]);
        g_assert_cmpstr(json_object_get_string_member(ev, "event"), ==,
                        "TEST_ALL");
    }
    client_assert_quiet(&c[2]);

    /* fd names are per monitor. */
    g_assert_cmpint(pipe(p), ==, 0);
    client_send_fd(&c[0], "{\"execute\": \"getfd\", \"arguments\": "
                   "{\"fdname\": \"shared\"}}", p[1]);
    close(p[1]);
    client_expect_line(&c[0], "{\"return\": {}}");
    client_expect(&c[1], "{\"execute\": \"closefd\", \"arguments\": "
                  "{\"fdname\": \"shared\"}}",
                  "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                  "\"File descriptor named 'shared' not found\"}}");

    /* Negotiation state is per monitor. */
    client_expect(&c[2], "{\"execute\": \"qmp_capabilities\"}",
                  "{\"return\": {}}");
    client_expect(&c[0], "{\"execute\": \"closefd\", \"arguments\": "
                  "{\"fdname\": \"shared\"}}", "{\"return\": {}}");
    g_assert_true(pipe_eof(p[0]));
    close(p[0]);
    finish(c, 3);
}

static void test_reconnect(void)
{
    Client c;
    char b;

    client_start(&c, "mon-re", false);
    client_negotiate(&c);
    close(c.fd);

    /* The server takes the next client; negotiation starts over. */
    c.fd = unix_connect(c.path);
    client_expect_line(&c, GREETING);
    client_expect_error(&c, "{\"execute\": \"query-commands\"}",
                        "CommandNotFound",
                        "Expecting capabilities negotiation with "
                        "'qmp_capabilities'");
    client_expect(&c, "{\"execute\": \"qmp_capabilities\"}",
                  "{\"return\": {}}");

    /* Tearing down the monitor and its chardev hangs up. */
    monitor_cleanup();
    object_unparent(OBJECT(c.chr));
    fcntl(c.fd, F_SETFL, 0);
    g_assert_cmpint(recv(c.fd, &b, 1, 0), ==, 0);
    client_close(&c);
}

static void test_pretty(void)
{
    Client c;
    g_autofree char *greeting = NULL;
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    const char *req = "{\"execute\": \"qmp_capabilities\", \"id\": 1}";

    client_start(&c, "mon-pretty", true);
    client_send(&c, req);
    /* Read until the reply's closing brace and CRLF. */
    while (!strstr(c.in->str, "\"id\": 1\r\n}\r\n")) {
        char buf[4096];
        ssize_t n = recv(c.fd, buf, sizeof(buf), 0);

        if (n > 0) {
            g_string_append_len(c.in, buf, n);
        } else {
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
            pump();
        }
    }
    /* Every newline of the pretty form is a CRLF. */
    for (const char *p = c.in->str; (p = strchr(p, '\n')); p++) {
        g_assert_cmpint(p[-1], ==, '\r');
    }
    g_assert_true(g_str_has_prefix(c.in->str, "{\r\n    \"QMP\": {\r\n"));
    g_string_truncate(c.in, 0);
    finish(&c, 1);
}

static void test_cleanup_closes_fds(void)
{
    Client c;
    int fds = count_fds();
    int p[2], q[2];

    client_start(&c, "mon-clean", false);
    client_negotiate(&c);
    /* One fd held by name, one queued with a request that ignores it. */
    g_assert_cmpint(pipe(p), ==, 0);
    client_send_fd(&c, "{\"execute\": \"getfd\", \"arguments\": "
                   "{\"fdname\": \"kept\"}}", p[1]);
    close(p[1]);
    client_expect_line(&c, "{\"return\": {}}");
    g_assert_cmpint(pipe(q), ==, 0);
    client_send_fd(&c, "{\"execute\": \"query-commands\"}", q[1]);
    close(q[1]);
    g_free(client_line(&c));

    finish(&c, 1);
    g_assert_true(pipe_eof(p[0]));
    g_assert_true(pipe_eof(q[0]));
    close(p[0]);
    close(q[0]);
    g_assert_cmpint(count_fds(), ==, fds);
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    tmp_dir = g_dir_make_tmp("test-monitor-XXXXXX", NULL);
    g_assert_nonnull(tmp_dir);
    qmp_init_marshal(qmp_commands());
    monitor_init_globals();
    g_main_context_iteration(NULL, FALSE);

    g_test_add_func("/monitor/qmp/greeting", test_greeting);
    g_test_add_func("/monitor/qmp/negotiation", test_negotiation);
    g_test_add_func("/monitor/qmp/id-echo", test_id_echo);
    g_test_add_func("/monitor/qmp/bad-input-recovers",
                    test_bad_input_recovers);
    g_test_add_func("/monitor/qmp/query-commands", test_query_commands);
    g_test_add_func("/monitor/qmp/events-after-negotiation", test_events);
    g_test_add_func("/monitor/qmp/getfd-closefd", test_getfd_closefd);
    g_test_add_func("/monitor/qmp/fd-param", test_fd_param);
    g_test_add_func("/monitor/qmp/several-monitors", test_several_monitors);
    g_test_add_func("/monitor/qmp/reconnect", test_reconnect);
    g_test_add_func("/monitor/qmp/pretty-crlf", test_pretty);
    g_test_add_func("/monitor/qmp/cleanup-closes-fds",
                    test_cleanup_closes_fds);

    ret = g_test_run();
    g_rmdir(tmp_dir);
    g_free(tmp_dir);
    return ret;
}
