/*
 * isa-debug-exit (control_boot_facts F.1, docs/platform.md): a write of V
 * ends the emulator with exit status (V << 1) | 1 through the normal
 * shutdown path (SHUTDOWN on QMP first), iobase/iosize decide which ports
 * do it, reads return 0, and device_add can plug it at run time.
 */
#include <string.h>
#include <sys/wait.h>
#include <glib.h>

#include "libqtest.h"

/* Waits for SHUTDOWN (guest-shutdown), then for the exit; the status. */
static int expect_guest_exit(QTestState *s)
{
    JsonObject *ev = qtest_qmp_eventwait_ref(s, "SHUTDOWN");
    JsonObject *data = json_object_get_object_member(ev, "data");
    int wstatus;

    g_assert_nonnull(data);
    g_assert_true(json_object_get_boolean_member(data, "guest"));
    g_assert_cmpstr(json_object_get_string_member(data, "reason"), ==,
                    "guest-shutdown");
    json_object_unref(ev);
    wstatus = qtest_wait_exit(s);
    g_assert_true(WIFEXITED(wstatus));
    qtest_quit(s);
    return WEXITSTATUS(wstatus);
}

static void test_status(void)
{
    static const uint32_t values[] = { 0, 1, 0x10, 0x3f, 0x7f, 0x12345680 };

    for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
        QTestState *s = qtest_init("-M q35 -nodefaults "
                                   "-device isa-debug-exit,iobase=0xf4,"
                                   "iosize=0x4");

        qtest_outl(s, 0xf4, values[i]);
        g_assert_cmpint(expect_guest_exit(s), ==,
                        ((values[i] << 1) | 1) & 0xff);
    }
}

static void test_defaults(void)
{
    QTestState *s = qtest_init("-M q35 -device isa-debug-exit");

    /* Reads are harmless and return 0; 0x503 is past the default 2 ports. */
    g_assert_cmphex(qtest_inb(s, 0x501), ==, 0);
    g_assert_cmphex(qtest_inw(s, 0x501), ==, 0);
    qtest_outb(s, 0x503, 9);
    g_assert_cmphex(qtest_inb(s, 0x501), ==, 0);   /* still running */
    qtest_outb(s, 0x502, 3);
    g_assert_cmpint(expect_guest_exit(s), ==, 7);
}

static void test_iosize(void)
{
    QTestState *s = qtest_init("-M q35 -device isa-debug-exit,iobase=0x600,"
                               "iosize=1");

    qtest_outb(s, 0x601, 1);                        /* not ours */
    qtest_outb(s, 0x5ff, 1);
    g_assert_cmphex(qtest_inb(s, 0x601), ==, 0xff); /* unassigned port */
    g_assert_cmphex(qtest_inb(s, 0x600), ==, 0);
    qtest_outb(s, 0x600, 0x21);
    g_assert_cmpint(expect_guest_exit(s), ==, 0x43);
}

static void test_device_add(void)
{
    QTestState *s = qtest_init("-M q35");
    JsonObject *rsp;
    g_autofree char *desc = NULL;

    qtest_outb(s, 0x700, 1);                        /* nothing there yet */
    rsp = qtest_qmp(s, "{\"execute\": \"device_add\", \"arguments\": "
                    "{\"driver\": \"isa-debug-exit\", \"iobase\": 1792, "
                    "\"iosize\": 3}}");
    desc = qmp_expect_error(rsp, "GenericError");
    g_assert_nonnull(strstr(desc, "iosize 3"));
    json_object_unref(rsp);
    g_free(g_steal_pointer(&desc));
    rsp = qtest_qmp(s, "{\"execute\": \"device_add\", \"arguments\": "
                    "{\"driver\": \"isa-debug-exit\", \"iobase\": 65535, "
                    "\"iosize\": 4}}");
    desc = qmp_expect_error(rsp, "GenericError");
    g_assert_nonnull(strstr(desc, "outside the port space"));
    json_object_unref(rsp);

    qtest_qmp_device_add(s, "isa-debug-exit", "exit0",
                         "\"iobase\": 1792, \"iosize\": 1");
    qtest_outb(s, 0x700, 2);
    g_assert_cmpint(expect_guest_exit(s), ==, 5);
}

static void test_device_del(void)
{
    QTestState *s = qtest_init("-M q35 -device isa-debug-exit,id=dx");

    qtest_qmp_device_del(s, "dx");
    qtest_outb(s, 0x501, 1);                        /* gone: no exit */
    g_assert_cmphex(qtest_inb(s, 0x501), ==, 0xff);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/debugexit/status", test_status);
    g_test_add_func("/debugexit/defaults", test_defaults);
    g_test_add_func("/debugexit/iosize", test_iosize);
    g_test_add_func("/debugexit/device-add", test_device_add);
    g_test_add_func("/debugexit/device-del", test_device_del);
    return g_test_run();
}
