/*
 * -object iommufd from the command line and over QMP: nothing is opened
 * until a device uses it, object-del of an unused backend, an fd passed
 * with getfd is consumed by the object and closed when it is deleted,
 * bad fd values refused with a message naming the object and the
 * property (exit 1 on the command line), and `-object iommufd,help`.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <glib.h>

#include "libqtest.h"

#define ARGS "-machine none -object sim-host,id=h0 -object iommufd,id=i0"

/* Runs a command that must fail; returns the error description. */
static char *qmp_error(QTestState *s, const char *fmt, const char *arg)
{
    g_autofree char *cmd = g_strdup_printf(fmt, arg);
    JsonObject *rsp = qtest_qmp(s, "%s", cmd);
    char *desc = qmp_expect_error(rsp, "GenericError");

    json_object_unref(rsp);
    return desc;
}

static void object_add_iommufd(QTestState *s, const char *id,
                               const char *fd)
{
    if (fd) {
        qtest_qmp_assert_success(s, "{\"execute\": \"object-add\", "
            "\"arguments\": {\"qom-type\": \"iommufd\", \"id\": \"%s\", "
            "\"fd\": \"%s\"}}", id, fd);
    } else {
        qtest_qmp_assert_success(s, "{\"execute\": \"object-add\", "
            "\"arguments\": {\"qom-type\": \"iommufd\", \"id\": \"%s\"}}",
            id);
    }
}

static void object_del(QTestState *s, const char *id)
{
    qtest_qmp_assert_success(s, "{\"execute\": \"object-del\", "
                             "\"arguments\": {\"id\": \"%s\"}}", id);
}

static void test_unused(void)
{
    QTestState *s = qtest_init(ARGS);
    int fds = qtest_count_fds(s);
    JsonObject *rsp;
    JsonArray *props;
    bool has_fd = false, has_users = false;

    rsp = qtest_qmp(s, "{\"execute\": \"qom-get\", \"arguments\": "
                    "{\"path\": \"/objects/i0\", \"property\": \"users\"}}");
    g_assert_cmpint(json_node_get_int(qmp_expect_return(rsp)), ==, 0);
    json_object_unref(rsp);
    rsp = qtest_qmp(s, "{\"execute\": \"qom-list\", \"arguments\": "
                    "{\"path\": \"/objects/i0\"}}");
    props = json_node_get_array(qmp_expect_return(rsp));
    for (guint i = 0; i < json_array_get_length(props); i++) {
        JsonObject *p = json_array_get_object_element(props, i);
        const char *name = json_object_get_string_member(p, "name");

        has_fd |= !strcmp(name, "fd") &&
                  !strcmp(json_object_get_string_member(p, "type"), "str");
        has_users |= !strcmp(name, "users");
    }
    json_object_unref(rsp);
    g_assert_true(has_fd);
    g_assert_true(has_users);

    /* unused: deletable, and /dev/iommu was never opened */
    object_del(s, "i0");
    for (int i = 0; i < 20; i++) {
        g_autofree char *id = g_strdup_printf("x%d", i);

        object_add_iommufd(s, id, NULL);
        object_del(s, id);
    }
    g_assert_cmpint(qtest_count_fds(s), ==, fds);
    qtest_quit(s);
}

static void test_getfd(void)
{
    QTestState *s = qtest_init(ARGS);
    int fds = qtest_count_fds(s);
    g_autofree char *e = NULL;
    JsonObject *rsp;
    char byte;
    int p[2];

    g_assert_cmpint(pipe2(p, O_CLOEXEC | O_NONBLOCK), ==, 0);
    /* the backend only keeps the fd until a device uses it: any fd does */
    rsp = qtest_qmp_fds(s, &p[1], 1, "{\"execute\": \"getfd\", "
                        "\"arguments\": {\"fdname\": \"ifd\"}}");
    qmp_expect_return(rsp);
    json_object_unref(rsp);
    g_assert_cmpint(close(p[1]), ==, 0);
    object_add_iommufd(s, "i1", "ifd");
    g_assert_cmpint(qtest_count_fds(s), ==, fds + 1);

    /* the name is consumed: not in the monitor any more */
    e = qmp_error(s, "{\"execute\": \"object-add\", \"arguments\": "
                  "{\"qom-type\": \"iommufd\", \"id\": \"i2\", "
                  "\"fd\": \"%s\"}}", "ifd");
    g_assert_cmpstr(e, ==, "iommufd: property 'fd': File descriptor named "
                    "'ifd' has not been found");
    g_free(e);
    e = qmp_error(s, "{\"execute\": \"closefd\", \"arguments\": "
                  "{\"fdname\": \"%s\"}}", "ifd");
    g_free(e);

    /* held, not closed, while the object lives */
    g_assert_cmpint(read(p[0], &byte, 1), ==, -1);
    g_assert_cmpint(errno, ==, EAGAIN);
    /* the write end's last copy goes with the object: EOF */
    object_del(s, "i1");
    g_assert_cmpint(read(p[0], &byte, 1), ==, 0);
    g_assert_cmpint(qtest_count_fds(s), ==, fds);
    close(p[0]);

    /* from QMP, a number must be an fd the process has */
    e = qmp_error(s, "{\"execute\": \"object-add\", \"arguments\": "
                  "{\"qom-type\": \"iommufd\", \"id\": \"i3\", "
                  "\"fd\": \"%s\"}}", "99999");
    g_assert_cmpstr(e, ==, "iommufd: property 'fd': file descriptor 99999 is "
                    "not usable: Bad file descriptor");
    g_free(e);
    e = qmp_error(s, "{\"execute\": \"object-add\", \"arguments\": "
                  "{\"qom-type\": \"iommufd\", \"id\": \"i3\", "
                  "\"fd\": %s}}", "7");
    g_assert_nonnull(strstr(e, "'fd', expected: string"));
    g_free(e);
    /* fixed once created */
    e = qmp_error(s, "{\"execute\": \"qom-set\", \"arguments\": "
                  "{\"path\": \"/objects/i0\", \"property\": \"fd\", "
                  "\"value\": \"%s\"}}", "ifd");
    g_assert_cmpstr(e, ==, "iommufd 'i0': property 'fd' cannot be changed "
                    "once the object is created");
    g_assert_cmpint(qtest_count_fds(s), ==, fds);
    qtest_quit(s);
}

static void test_help(void)
{
    g_autofree char *out = NULL, *types = NULL;
    int status;
    g_autofree char *err = qtest_run_binary("-object iommufd,help", &status,
                                            &out);
    g_autofree char *err2 = NULL;

    g_assert_cmpint(status, ==, 0);
    g_assert_cmpstr(err, ==, "");
    g_assert_true(g_str_has_prefix(out, "iommufd options:\n"));
    g_assert_nonnull(strstr(out, "  fd=<str>"));
    g_assert_nonnull(strstr(out, "getfd"));
    g_assert_null(strstr(out, "users"));        /* read-only */
    err2 = qtest_run_binary("-object help", &status, &types);
    g_assert_cmpint(status, ==, 0);
    g_assert_cmpstr(err2, ==, "");
    g_assert_nonnull(strstr(types, "  iommufd\n"));
    /* host IOMMU devices are made by VFIO, not by users */
    g_assert_null(strstr(types, "host-iommu-device"));
}

static void test_cli_bad_fd(void)
{
    static const struct {
        const char *fd;
        const char *msg;
    } cases[] = {
        { "abc", "iommufd: property 'fd': Invalid file descriptor number "
                 "'abc'" },
        { "-3", "iommufd: property 'fd': Invalid file descriptor number "
                "'-3'" },
        { "99999", "iommufd: property 'fd': file descriptor 99999 is not "
                   "usable: Bad file descriptor" },
        { "4294967296", "iommufd: property 'fd': Invalid file descriptor "
                        "number '4294967296'" },
    };

    /* The line names the option, then the object and the reason. */
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *args = g_strdup_printf("-machine none -object "
                                                "iommufd,id=i0,fd=%s",
                                                cases[i].fd);
        g_autofree char *msg = g_strdup_printf(": -object iommufd,id=i0,"
                                               "fd=%s: %s\n", cases[i].fd,
                                               cases[i].msg);

        qtest_expect_startup_error(args, msg);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/iommufd-object/unused-deletable-opens-nothing",
                    test_unused);
    g_test_add_func("/iommufd-object/getfd-consumed-closed-on-delete",
                    test_getfd);
    g_test_add_func("/iommufd-object/help", test_help);
    g_test_add_func("/iommufd-object/cli-bad-fd-exit-1", test_cli_bad_fd);
    return g_test_run();
}
