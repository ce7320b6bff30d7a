/*
 * Character devices: socket client and server, partial reads and writes,
 * reconnection, SCM_RIGHTS, the other backends, option errors, teardown.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "chardev/char.h"
#include "qapi/error.h"
#include "qom/object.h"
#include "../test-fds.h"

/* Test frontend: records events ("O", "C") and data ("D") in order. */
typedef struct TestFe {
    GString *log;
    GByteArray *data;
    int room;                   /* can_read answer */
    int max_chunk;              /* largest read delivered */
} TestFe;

static int fe_can_read(void *opaque)
{
    return ((TestFe *)opaque)->room;
}

static void fe_read(void *opaque, const uint8_t *buf, int size)
{
    TestFe *fe = opaque;

    g_byte_array_append(fe->data, buf, size);
    fe->max_chunk = MAX(fe->max_chunk, size);
    if (!g_str_has_suffix(fe->log->str, "D")) {
        g_string_append_c(fe->log, 'D');
    }
}

static void fe_event(void *opaque, ChrEvent ev)
{
    g_string_append_c(((TestFe *)opaque)->log,
                      ev == CHR_EVENT_OPENED ? 'O' : 'C');
}

static void fe_init(TestFe *fe, Chardev *chr)
{
    fe->log = g_string_new(NULL);
    fe->data = g_byte_array_new();
    fe->room = 4096;
    fe->max_chunk = 0;
    g_assert_true(qemu_chr_fe_init(chr, &error_abort));
    qemu_chr_fe_set_handlers(chr, fe_can_read, fe_read, fe_event, fe);
}

static void fe_fini(TestFe *fe, Chardev *chr)
{
    if (chr) {
        qemu_chr_fe_deinit(chr);
    }
    g_string_free(fe->log, true);
    g_byte_array_free(fe->data, true);
}

/* Runs the main loop until cond holds (5 s at most). */
#define WAIT_FOR(cond)                                                  \
    do {                                                                \
        gint64 deadline_ = g_get_monotonic_time() + 5 * G_USEC_PER_SEC; \
        while (!(cond)) {                                               \
            g_assert_cmpint(g_get_monotonic_time(), <, deadline_);      \
            if (!g_main_context_iteration(NULL, FALSE)) {               \
                g_usleep(200);                                          \
            }                                                           \
        }                                                               \
    } while (0)

/* Runs pending main-loop work without waiting. */
static void drain(void)
{
    for (int i = 0; i < 50; i++) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(200);
    }
}

static char *tmp_dir;

static char *tmp_path(const char *name)
{
    return g_build_filename(tmp_dir, name, NULL);
}

static int unix_listen(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    unlink(path);
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(fd, 1), ==, 0);
    return fd;
}

static int unix_connect(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static Chardev *chr_new(const char *backend, const char *id, Error **errp,
                        ...)
{
    g_autoptr(JsonObject) opts = json_object_new();
    va_list ap;
    const char *k;

    json_object_set_string_member(opts, "backend", backend);
    json_object_set_string_member(opts, "id", id);
    va_start(ap, errp);
    while ((k = va_arg(ap, const char *))) {
        json_object_set_string_member(opts, k, va_arg(ap, const char *));
    }
    va_end(ap);
    return qemu_chardev_new_from_opts(opts, errp);
}

static void peer_send(int fd, const char *s)
{
    g_assert_cmpint(send(fd, s, strlen(s), MSG_NOSIGNAL), ==, strlen(s));
}

static char *peer_recv(int fd, size_t len)
{
    char *buf = g_malloc0(len + 1);
    size_t got = 0;

    while (got < len) {
        ssize_t n = recv(fd, buf + got, len - got, 0);

        g_assert_cmpint(n, >, 0);
        got += n;
    }
    return buf;
}

static void assert_data(TestFe *fe, const char *s)
{
    g_assert_cmpmem(fe->data->data, fe->data->len, s, strlen(s));
}

/* Tests */

static void test_client_connect(void)
{
    g_autofree char *path = tmp_path("client.sock");
    int lfd = unix_listen(path);
    Chardev *chr = chr_new("socket", "c0", &error_abort, "path", path, NULL);
    int peer = accept(lfd, NULL, NULL);
    g_autofree char *got = NULL;
    TestFe fe;

    g_assert_cmpint(peer, >=, 0);
    g_assert_true(qemu_chr_fe_is_connected(chr));
    g_assert_true(qemu_chr_find("c0") == chr);
    g_assert_true(object_dynamic_cast(OBJECT(chr), TYPE_CHARDEV_SOCKET));

    /* Bytes sent before the frontend exists arrive after OPENED. */
    peer_send(peer, "early");
    fe_init(&fe, chr);
    g_assert_cmpstr(fe.log->str, ==, "");     /* OPENED is deferred */
    WAIT_FOR(fe.data->len == 5);
    g_assert_cmpstr(fe.log->str, ==, "OD");
    assert_data(&fe, "early");

    g_assert_cmpint(qemu_chr_fe_write_all(chr, (const uint8_t *)"hello", 5),
                    ==, 5);
    got = peer_recv(peer, 5);
    g_assert_cmpstr(got, ==, "hello");

    fe_fini(&fe, chr);
    object_unparent(OBJECT(chr));
    close(peer);
    close(lfd);
}

static void test_client_connect_fails(void)
{
    g_autofree char *path = tmp_path("nobody.sock");
    Error *err = NULL;
    int fds = count_fds();

    g_assert_null(chr_new("socket", "c1", &err, "path", path, NULL));
    g_assert_nonnull(strstr(error_get_pretty(err), "Failed to connect to"));
    g_assert_nonnull(strstr(error_get_pretty(err), path));
    error_free(err);
    g_assert_null(qemu_chr_find("c1"));
    g_assert_cmpint(count_fds(), ==, fds);
}

static void test_client_peer_close(void)
{
    g_autofree char *path = tmp_path("client2.sock");
    int lfd = unix_listen(path);
    Chardev *chr = chr_new("socket", "c2", &error_abort, "path", path, NULL);
    int peer = accept(lfd, NULL, NULL);
    TestFe fe;

    fe_init(&fe, chr);
    WAIT_FOR(!strcmp(fe.log->str, "O"));
    close(peer);
    WAIT_FOR(!strcmp(fe.log->str, "OC"));
    g_assert_false(qemu_chr_fe_is_connected(chr));
    g_assert_cmpint(qemu_chr_fe_write_all(chr, (const uint8_t *)"x", 1),
                    ==, -1);
    /* A client does not reconnect. */
    drain();
    g_assert_cmpstr(fe.log->str, ==, "OC");

    fe_fini(&fe, chr);
    object_unparent(OBJECT(chr));
    close(lfd);
}

static void test_server_reconnect(void)
{
    g_autofree char *path = tmp_path("server.sock");
    Chardev *chr = chr_new("socket", "s0", &error_abort, "path", path,
                           "server", "on", "wait", "off", NULL);
    TestFe fe;
    int c1, c2;
    g_autofree char *got = NULL;

    g_assert_false(qemu_chr_fe_is_connected(chr));
    g_assert_false(object_property_get_bool(OBJECT(chr), "connected",
                                            &error_abort));
    fe_init(&fe, chr);
    drain();
    g_assert_cmpstr(fe.log->str, ==, "");

    c1 = unix_connect(path);
    g_assert_cmpint(c1, >=, 0);
    WAIT_FOR(!strcmp(fe.log->str, "O"));
    g_assert_true(object_property_get_bool(OBJECT(chr), "connected",
                                           &error_abort));
    peer_send(c1, "one");
    WAIT_FOR(fe.data->len == 3);
    close(c1);
    WAIT_FOR(!strcmp(fe.log->str, "ODC"));

    c2 = unix_connect(path);
    g_assert_cmpint(c2, >=, 0);
    WAIT_FOR(!strcmp(fe.log->str, "ODCO"));
    peer_send(c2, "two");
    WAIT_FOR(fe.data->len == 6);
    assert_data(&fe, "onetwo");
    g_assert_cmpint(qemu_chr_fe_write_all(chr, (const uint8_t *)"back", 4),
                    ==, 4);
    got = peer_recv(c2, 4);
    g_assert_cmpstr(got, ==, "back");

    /* The frontend hangs up: the peer sees EOF, the next client comes. */
    qemu_chr_fe_disconnect(chr);
    g_assert_false(qemu_chr_fe_is_connected(chr));
    WAIT_FOR(!strcmp(fe.log->str, "ODCODC"));
    {
        char b;

        g_assert_cmpint(recv(c2, &b, 1, 0), ==, 0);
    }
    close(c2);
    c1 = unix_connect(path);
    WAIT_FOR(!strcmp(fe.log->str, "ODCODCO"));
    close(c1);
    WAIT_FOR(!strcmp(fe.log->str, "ODCODCOC"));

    fe_fini(&fe, chr);
    object_unparent(OBJECT(chr));
    /* The socket file goes with the chardev. */
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}

static gpointer connect_thread(gpointer opaque)
{
    const char *path = opaque;

    for (int i = 0; i < 5000; i++) {
        int fd = unix_connect(path);

        if (fd >= 0) {
            return GINT_TO_POINTER(fd);
        }
        g_usleep(1000);
    }
    return GINT_TO_POINTER(-1);
}

static void test_server_wait(void)
{
    g_autofree char *path = tmp_path("wait.sock");
    GThread *t;
    Chardev *chr;
    int peer;
    TestFe fe;

    /* A stale socket file is replaced. */
    close(unix_listen(path));
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));

    t = g_thread_new("connect", connect_thread, path);
    chr = chr_new("socket", "s1", &error_abort, "path", path,
                  "server", "on", NULL);
    peer = GPOINTER_TO_INT(g_thread_join(t));
    g_assert_cmpint(peer, >=, 0);
    g_assert_true(qemu_chr_fe_is_connected(chr));

    fe_init(&fe, chr);
    WAIT_FOR(!strcmp(fe.log->str, "O"));
    peer_send(peer, "hi");
    WAIT_FOR(fe.data->len == 2);

    fe_fini(&fe, chr);
    object_unparent(OBJECT(chr));
    {
        char b;

        g_assert_cmpint(recv(peer, &b, 1, 0), ==, 0);
    }
    close(peer);
}

static void test_partial_reads(void)
{
    g_autofree char *path = tmp_path("partial.sock");
    int lfd = unix_listen(path);
    Chardev *chr = chr_new("socket", "p0", &error_abort, "path", path, NULL);
    int peer = accept(lfd, NULL, NULL);
    const char *msg = "abcdefghijklmnopqrstuvwxyz";
    TestFe fe;

    fe_init(&fe, chr);
    fe.room = 3;
    WAIT_FOR(!strcmp(fe.log->str, "O"));
    peer_send(peer, msg);
    WAIT_FOR(fe.data->len == strlen(msg));
    assert_data(&fe, msg);
    g_assert_cmpint(fe.max_chunk, <=, 3);

    /* can_read 0 pauses input until accept_input. */
    fe.room = 0;
    peer_send(peer, "more");
    drain();
    g_assert_cmpint(fe.data->len, ==, strlen(msg));
    fe.room = 100;
    qemu_chr_fe_accept_input(chr);
    WAIT_FOR(fe.data->len == strlen(msg) + 4);

    fe_fini(&fe, chr);
    object_unparent(OBJECT(chr));
    close(peer);
    close(lfd);
}

typedef struct Sink {
    int fd;
    size_t total;
    guint32 sum;
} Sink;

static gpointer sink_thread(gpointer opaque)
{
    Sink *s = opaque;
    uint8_t buf[1000];
    ssize_t n;

    /* Slow reader: small reads with pauses force partial writes. */
    while ((n = recv(s->fd, buf, sizeof(buf), 0)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            s->sum = s->sum * 31 + buf[i];
        }
        s->total += n;
        if (s->total % 100000 < 1000) {
            g_usleep(1000);
        }
    }
    return NULL;
}

static void test_large_write(void)
{
    g_autofree char *path = tmp_path("large.sock");
    int lfd = unix_listen(path);
    Chardev *chr = chr_new("socket", "w0", &error_abort, "path", path, NULL);
    Sink sink = { .fd = accept(lfd, NULL, NULL) };
    size_t len = 4 << 20;
    g_autofree uint8_t *buf = g_malloc(len);
    guint32 sum = 0;
    GThread *t;

    for (size_t i = 0; i < len; i++) {
        buf[i] = i * 7 + (i >> 12);
        sum = sum * 31 + buf[i];
    }
    t = g_thread_new("sink", sink_thread, &sink);
    g_assert_cmpint(qemu_chr_fe_write_all(chr, buf, len), ==, len);
    object_unparent(OBJECT(chr));   /* closes: the sink sees EOF */
    g_thread_join(t);
    g_assert_cmpuint(sink.total, ==, len);
    g_assert_cmpuint(sink.sum, ==, sum);
    close(sink.fd);
    close(lfd);
}

static void test_write_peer_gone(void)
{
    g_autofree char *path = tmp_path("gone.sock");
    int lfd = unix_listen(path);
    Chardev *chr = chr_new("socket", "g0", &error_abort, "path", path, NULL);
    int peer = accept(lfd, NULL, NULL);
    TestFe fe;

    fe_init(&fe, chr);
    WAIT_FOR(!strcmp(fe.log->str, "O"));
    /*
     * The main loop does not run before the write, so the write itself
     * finds EPIPE, without SIGPIPE.
     */
    close(peer);
    g_assert_cmpint(qemu_chr_fe_write_all(chr, (const uint8_t *)"x", 1),
                    ==, -1);
    g_assert_false(qemu_chr_fe_is_connected(chr));
    /* CLOSED comes later, never from inside the write. */
    g_assert_cmpstr(fe.log->str, ==, "O");
    WAIT_FOR(!strcmp(fe.log->str, "OC"));

    fe_fini(&fe, chr);
    object_unparent(OBJECT(chr));
    close(lfd);
}

static void send_with_fds(int sock, const char *data, const int *fds, int n)
{
    char control[CMSG_SPACE(sizeof(int) * 16)] = { 0 };
    struct iovec iov = { .iov_base = (void *)data, .iov_len = strlen(data) };
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control,
        .msg_controllen = CMSG_SPACE(sizeof(int) * n),
    };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
    memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
    g_assert_cmpint(sendmsg(sock, &msg, MSG_NOSIGNAL), ==, strlen(data));
}

static void test_scm_rights(void)
{
    g_autofree char *path = tmp_path("fds.sock");
    int lfd = unix_listen(path);
    Chardev *chr = chr_new("socket", "f0", &error_abort, "path", path, NULL);
    int peer = accept(lfd, NULL, NULL);
    int p1[2], p2[2], p3[2], got[4];
    char b;
    TestFe fe;

    g_assert_cmpint(pipe(p1), ==, 0);
    g_assert_cmpint(pipe(p2), ==, 0);
    g_assert_cmpint(pipe(p3), ==, 0);
    fe_init(&fe, chr);
    WAIT_FOR(!strcmp(fe.log->str, "O"));
    g_assert_cmpint(qemu_chr_fe_get_msgfd(chr), ==, -1);

    send_with_fds(peer, "fds", (int[]){ p1[1], p2[1] }, 2);
    close(p1[1]);
    close(p2[1]);
    WAIT_FOR(fe.data->len == 3);
    g_assert_cmpint(qemu_chr_fe_get_msgfds(chr, got, 4), ==, 2);
    g_assert_cmpint(qemu_chr_fe_get_msgfds(chr, got + 2, 2), ==, 0);
    /* got[0] is p1's write end, got[1] p2's. */
    g_assert_cmpint(write(got[0], "1", 1), ==, 1);
    g_assert_cmpint(read(p1[0], &b, 1), ==, 1);
    g_assert_cmpint(b, ==, '1');
    g_assert_cmpint(write(got[1], "2", 1), ==, 1);
    g_assert_cmpint(read(p2[0], &b, 1), ==, 1);
    g_assert_cmpint(b, ==, '2');
    g_assert_cmpint(fcntl(got[0], F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
    close(got[0]);
    close(got[1]);

    /* An fd nobody takes is closed with the connection. */
    send_with_fds(peer, "x", (int[]){ p3[1] }, 1);
    close(p3[1]);
    WAIT_FOR(fe.data->len == 4);
    close(peer);
    WAIT_FOR(!strcmp(fe.log->str, "ODC"));
    g_assert_cmpint(read(p3[0], &b, 1), ==, 0);     /* EOF: all writers gone */

    close(p1[0]);
    close(p2[0]);
    close(p3[0]);
    fe_fini(&fe, chr);
    object_unparent(OBJECT(chr));
    close(lfd);
}

static void test_unparent_closes_all(void)
{
    g_autofree char *spath = tmp_path("gone-server.sock");
    g_autofree char *cpath = tmp_path("gone-client.sock");
    int lfd = unix_listen(cpath);
    int fds = count_fds();
    Chardev *server, *client;
    int c, peer, p[2];
    char b;
    TestFe fe;

    server = chr_new("socket", "u0", &error_abort, "path", spath,
                     "server", "on", "wait", "off", NULL);
    client = chr_new("socket", "u1", &error_abort, "path", cpath, NULL);
    peer = accept(lfd, NULL, NULL);
    c = unix_connect(spath);
    g_assert_cmpint(pipe(p), ==, 0);
    fe_init(&fe, server);
    WAIT_FOR(!strcmp(fe.log->str, "O"));
    /* A queued fd, a frontend, a connection and pending idle work. */
    send_with_fds(c, "z", (int[]){ p[1] }, 1);
    close(p[1]);
    WAIT_FOR(fe.data->len == 1);
    qemu_chr_fe_set_handlers(server, fe_can_read, fe_read, fe_event, &fe);

    /* The frontend keeps a reference, as the monitor does. */
    object_ref(server);
    object_unparent(OBJECT(server));
    object_unparent(OBJECT(client));
    g_assert_null(qemu_chr_find("u0"));
    g_assert_null(qemu_chr_find("u1"));
    g_assert_false(qemu_chr_fe_is_connected(server));
    g_assert_cmpint(qemu_chr_fe_write_all(server, (const uint8_t *)"x", 1),
                    ==, -1);
    g_assert_cmpint(recv(c, &b, 1, 0), ==, 0);
    g_assert_cmpint(recv(peer, &b, 1, 0), ==, 0);
    g_assert_cmpint(read(p[0], &b, 1), ==, 0);
    g_assert_false(g_file_test(spath, G_FILE_TEST_EXISTS));
    drain();
    g_assert_cmpstr(fe.log->str, ==, "OD");     /* no more callbacks */
    fe_fini(&fe, NULL);
    object_unref(server);

    close(c);
    close(peer);
    close(p[0]);
    g_assert_cmpint(count_fds(), ==, fds);
    close(lfd);
}

static void test_file_and_null(void)
{
    g_autofree char *path = tmp_path("out.txt");
    g_autofree char *contents = NULL;
    Chardev *f, *n;

    g_file_set_contents(path, "old contents", -1, NULL);
    f = chr_new("file", "file0", &error_abort, "path", path, NULL);
    g_assert_true(qemu_chr_fe_is_connected(f));
    g_assert_cmpint(qemu_chr_fe_write_all(f, (const uint8_t *)"abc", 3),
                    ==, 3);
    object_unparent(OBJECT(f));
    g_assert_null(qemu_chr_new("file1", "file:", NULL));
    g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
    g_assert_cmpstr(contents, ==, "abc");

    f = chr_new("file", "file2", &error_abort, "path", path,
                "append", "on", NULL);
    g_assert_cmpint(qemu_chr_fe_write_all(f, (const uint8_t *)"def", 3),
                    ==, 3);
    object_unparent(OBJECT(f));
    g_clear_pointer(&contents, g_free);
    g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
    g_assert_cmpstr(contents, ==, "abcdef");

    n = qemu_chr_new("null0", "null", &error_abort);
    g_assert_true(object_dynamic_cast(OBJECT(n), TYPE_CHARDEV_NULL));
    g_assert_true(qemu_chr_fe_is_connected(n));
    g_assert_cmpint(qemu_chr_fe_write_all(n, (const uint8_t *)"zz", 2),
                    ==, 2);
    g_assert_cmpint(qemu_chr_fe_get_msgfd(n), ==, -1);
    object_unparent(OBJECT(n));
}

static void test_stdio_once(void)
{
    Chardev *s = qemu_chr_new("stdio0", "stdio", &error_abort);
    Error *err = NULL;

    g_assert_true(object_dynamic_cast(OBJECT(s), TYPE_CHARDEV_STDIO));
    g_assert_null(qemu_chr_new("stdio1", "stdio", &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "cannot use stdio by multiple character devices");
    error_free(err);
    object_unparent(OBJECT(s));
    s = qemu_chr_new("stdio1", "stdio", &error_abort);
    object_unparent(OBJECT(s));
}

static void assert_opts_error(const char *expect, const char *backend,
                              const char *id, const char *k,
                              const char *v)
{
    Error *err = NULL;

    g_assert_null(chr_new(backend, id, &err, k, v, NULL));
    g_assert_nonnull(err);
    g_assert_cmpstr(error_get_pretty(err), ==, expect);
    error_free(err);
}

static void test_opts_errors(void)
{
    g_autofree char *path = tmp_path("opts.sock");
    Error *err = NULL;
    Chardev *chr;

    assert_opts_error("'bogus' is not a valid char driver name",
                      "bogus", "e0", NULL, NULL);
    assert_opts_error("'' is not a valid char driver name", "", "e0",
                      NULL, NULL);
    assert_opts_error("chardev 'e0': Invalid parameter 'colour'",
                      "socket", "e0", "colour", "red");
    assert_opts_error("chardev 'e0': Invalid parameter 'path'",
                      "null", "e0", "path", "/x");
    assert_opts_error("chardev 'e0': Parameter 'path' is missing",
                      "socket", "e0", NULL, NULL);
    assert_opts_error("chardev 'e0': Parameter 'path' is missing",
                      "file", "e0", NULL, NULL);
    assert_opts_error("Parameter 'id' expects an identifier",
                      "null", "0bad", NULL, NULL);
    g_assert_null(chr_new("socket", "e0", &err, "path", path,
                          "server", "maybe", NULL));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Parameter 'server' expects 'on' or 'off'");
    g_clear_pointer(&err, error_free);

    chr = chr_new("socket", "e1", &error_abort, "path", path,
                  "server", "yes", "wait", "no", NULL);
    g_assert_null(chr_new("null", "e1", &err, NULL));
    g_assert_cmpstr(error_get_pretty(err), ==, "Chardev 'e1' already exists");
    g_clear_pointer(&err, error_free);
    /* The failed attempt left the first one alone. */
    g_assert_true(qemu_chr_find("e1") == chr);
    object_unparent(OBJECT(chr));

    g_assert_null(qemu_chr_new("e2", "tcp:localhost:4444", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "tcp:localhost:4444"));
    g_clear_pointer(&err, error_free);
    g_assert_null(qemu_chr_new("e2", "unix:/tmp/x,wait=off", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "client connect mode"));
    g_clear_pointer(&err, error_free);

    /* One frontend per chardev. */
    chr = qemu_chr_new("e3", "null", &error_abort);
    g_assert_true(qemu_chr_fe_init(chr, &error_abort));
    g_assert_false(qemu_chr_fe_init(chr, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Device 'e3' is in use");
    g_clear_pointer(&err, error_free);
    qemu_chr_fe_deinit(chr);
    g_assert_true(qemu_chr_fe_init(chr, &error_abort));
    qemu_chr_fe_deinit(chr);
    object_unparent(OBJECT(chr));
}

static void test_unix_spec(void)
{
    g_autofree char *path = tmp_path("with,comma.sock");
    g_autofree char *escaped = NULL;
    g_autofree char *spec = NULL;
    Chardev *chr;
    TestFe fe;
    int c;

    {
        g_auto(GStrv) parts = g_strsplit(path, ",", -1);

        escaped = g_strjoinv(",,", parts);
    }
    spec = g_strdup_printf("unix:%s,server=on,wait=off", escaped);
    chr = qemu_chr_new("compat_monitor0", spec, &error_abort);
    g_assert_true(qemu_chr_find("compat_monitor0") == chr);
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
    fe_init(&fe, chr);
    c = unix_connect(path);
    g_assert_cmpint(c, >=, 0);
    WAIT_FOR(!strcmp(fe.log->str, "O"));
    close(c);
    WAIT_FOR(!strcmp(fe.log->str, "OC"));
    fe_fini(&fe, chr);
    object_unparent(OBJECT(chr));
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    tmp_dir = g_dir_make_tmp("test-chardev-XXXXXX", NULL);
    g_assert_nonnull(tmp_dir);
    /* Create the main context's own fds before tests count fds. */
    g_main_context_iteration(NULL, FALSE);

    g_test_add_func("/chardev/socket/client-connect", test_client_connect);
    g_test_add_func("/chardev/socket/client-connect-fails",
                    test_client_connect_fails);
    g_test_add_func("/chardev/socket/client-peer-close-stays-closed",
                    test_client_peer_close);
    g_test_add_func("/chardev/socket/server-reconnect",
                    test_server_reconnect);
    g_test_add_func("/chardev/socket/server-wait", test_server_wait);
    g_test_add_func("/chardev/socket/partial-reads", test_partial_reads);
    g_test_add_func("/chardev/socket/large-write", test_large_write);
    g_test_add_func("/chardev/socket/write-peer-gone-no-sigpipe",
                    test_write_peer_gone);
    g_test_add_func("/chardev/socket/scm-rights", test_scm_rights);
    g_test_add_func("/chardev/unparent-closes-all",
                    test_unparent_closes_all);
    g_test_add_func("/chardev/file-and-null", test_file_and_null);
    g_test_add_func("/chardev/stdio-only-once", test_stdio_once);
    g_test_add_func("/chardev/opts-errors", test_opts_errors);
    g_test_add_func("/chardev/unix-spec", test_unix_spec);

    ret = g_test_run();
    g_rmdir(tmp_dir);
    g_free(tmp_dir);
    return ret;
}
