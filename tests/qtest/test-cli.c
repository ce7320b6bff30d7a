/*
 * The command line: -version, -help and the help of -device/-machine/
 * -accel/-object, and start-up errors (exit status 1 with one line on
 * stderr that names the culprit).  The binary is run directly, without
 * the qtest or QMP sockets.
 */
#include <string.h>
#include <glib.h>

#include "libqtest.h"

/* Runs args; expects exit 0 and nothing on stderr, and returns stdout. */
static char *expect_output(const char *args)
{
    char *out = NULL;
    int status;
    g_autofree char *err = qtest_run_binary(args, &status, &out);

    if (status != 0 || *err) {
        g_test_message("args: %s\nstatus %d, stderr:\n%s", args, status,
                       err);
    }
    g_assert_cmpint(status, ==, 0);
    g_assert_cmpstr(err, ==, "");
    return out;
}

static void assert_contains(const char *text, const char *needle)
{
    if (!strstr(text, needle)) {
        g_test_message("output lacks '%s':\n%s", needle, text);
        g_assert_not_reached();
    }
}

/* A line of text that is exactly word, or starts with word and a space. */
static bool has_line_starting(const char *text, const char *word)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", 0);
    size_t len = strlen(word);

    for (char **l = lines; *l; l++) {
        const char *p = *l + strspn(*l, " ");

        if (!strncmp(p, word, len) && (p[len] == '\0' || p[len] == ' ')) {
            return true;
        }
    }
    return false;
}

static void test_version(void)
{
    g_autofree char *out = expect_output("-version");

    g_assert_true(g_regex_match_simple("^viommu version [0-9]+\\.[0-9]+\\."
                                       "[0-9]+\n$", out, 0, 0));
}

static void test_help(void)
{
    static const char *const options[] = {
        "-accel", "-machine", "-device", "-object", "-chardev", "-mon",
        "-qmp", "-qtest", "-qtest-log", "-display", "-audio", "-run-with",
        "-nodefaults", "-S", "-m", "-version", "-help",
    };
    g_autofree char *out = expect_output("-help");

    for (size_t i = 0; i < G_N_ELEMENTS(options); i++) {
        g_autofree char *re = g_strdup_printf("(^|[\\s\\[])%s([\\s,=\\]]|$)",
                                              options[i]);

        if (!g_regex_match_simple(re, out, G_REGEX_MULTILINE, 0)) {
            g_test_message("-help does not mention %s", options[i]);
            g_assert_not_reached();
        }
    }
}

static void test_bad_option(void)
{
    qtest_expect_startup_error("-nosuchoption", "-nosuchoption");
    /* An option that needs an argument, given none. */
    qtest_expect_startup_error("-machine", "-machine");
}

static void test_startup_errors(void)
{
    qtest_expect_startup_error("-machine none -accel qtest -display none "
                               "-device nosuchdev",
                               "'nosuchdev' is not a valid device model "
                               "name");
    qtest_expect_startup_error("-machine nosuchmachine -accel qtest "
                               "-display none", "nosuchmachine");
    qtest_expect_startup_error("-machine none -accel nosuchaccel "
                               "-display none", "nosuchaccel");
    qtest_expect_startup_error("-machine none,accel=qtest -accel qtest",
                               "The -accel and \"-machine accel=\" options "
                               "are incompatible");
    qtest_expect_startup_error("-machine none -accel qtest -display none "
                               "-object nosuchtype,id=o1", "nosuchtype");
    qtest_expect_startup_error("-machine none -accel qtest -display none "
                               "-chardev null", "id");
}

static void test_device_errors(void)
{
    g_autofree char *devices = expect_output("-device help");
    g_autofree char *machines = expect_output("-machine help");

    if (!strstr(devices, "name \"edu\"") || !has_line_starting(machines,
                                                               "q35")) {
        g_test_skip("needs the q35 machine and the edu device");
        return;
    }
    qtest_expect_startup_error("-M q35 -accel qtest -display none "
                               "-device edu,nosuchprop=1", "nosuchprop");
    qtest_expect_startup_error("-M q35 -accel qtest -display none "
                               "-device edu,dma_mask=lots", "dma_mask");
    qtest_expect_startup_error("-M q35 -accel qtest -display none "
                               "-device edu,id=a -device edu,id=a",
                               "Duplicate device ID 'a'");
}

static void test_object_errors(void)
{
    g_autofree char *objects = expect_output("-object help");

    if (!strstr(objects, "x-test-object")) {
        g_test_skip("no x-test-object type in this binary");
        return;
    }
    qtest_expect_startup_error("-machine none -accel qtest -display none "
                               "-object x-test-object",
                               "Parameter 'id' is missing");
    qtest_expect_startup_error("-machine none -accel qtest -display none "
                               "-object x-test-object,id=o1,nosuchprop=1",
                               "nosuchprop");
}

static void test_device_help(void)
{
    g_autofree char *out = expect_output("-device help");
    g_autofree char *edu = expect_output("-device edu,help");

    g_autofree char *vfio = expect_output("-device vfio-pci,help");

    assert_contains(out, "name \"edu\", bus PCI");
    assert_contains(out, "name \"pcie-pci-bridge\", bus PCI");
    assert_contains(out, "name \"isa-debug-exit\", bus ISA");
    assert_contains(edu, "dma_mask=<uint64>");
    /* assigned devices: QEMU's property names, each described */
    assert_contains(vfio, "host=<str>             - Host PCI address");
    assert_contains(vfio, "sysfsdev=<str>         - Host sysfs path");
    assert_contains(vfio, "iommufd=<link<iommufd>> - Set host IOMMUFD");
    assert_contains(vfio, "x-intx-mmap-timeout-ms=<uint32> - ");
    assert_contains(vfio, "(default: 1100)");
}

static void test_machine_help(void)
{
    g_autofree char *out = expect_output("-machine help");

    g_assert_true(has_line_starting(out, "q35"));
    g_assert_true(has_line_starting(out, "none"));
}

static void test_accel_help(void)
{
    g_autofree char *out = expect_output("-accel help");

    g_assert_true(has_line_starting(out, "qtest"));
    g_assert_true(has_line_starting(out, "kvm"));
}

static void test_object_help(void)
{
    g_autofree char *out = expect_output("-object help");

    g_assert_cmpstr(out, !=, "");
}

/*
 * An accelerator that cannot start is reported and the next one of the
 * list tried, for -accel given twice and for -machine accel=A:B; the last
 * failure is fatal.  (The qtest socket cannot be opened, so each run ends
 * right after choosing its accelerator.)
 */
static void test_accel_fallback(void)
{
    static const char *const lists[] = {
        "-machine none -accel nosuch -accel qtest",
        "-machine none,accel=nosuch:qtest",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(lists); i++) {
        g_autofree char *args = g_strdup_printf(
            "%s -qtest unix:/nonexistent/test-cli.sock", lists[i]);
        int status;
        g_autofree char *err = qtest_run_binary(args, &status, NULL);

        g_assert_cmpint(status, ==, 1);
        g_assert_nonnull(strstr(err, "invalid accelerator nosuch\n"));
        g_assert_nonnull(strstr(err, "falling back to qtest\n"));
        /* qtest was initialised: it tried its socket */
        g_assert_nonnull(strstr(err, "/nonexistent/test-cli.sock"));
    }
    {
        int status;
        g_autofree char *err = qtest_run_binary(
            "-machine none,accel=nosuch:other", &status, NULL);

        g_assert_cmpint(status, ==, 1);
        g_assert_true(g_str_has_suffix(err, "falling back to other\n"
                                       "viommu-system-x86_64: invalid "
                                       "accelerator other\n"));
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cli/version", test_version);
    g_test_add_func("/cli/help-lists-options", test_help);
    g_test_add_func("/cli/unknown-option-exits-1", test_bad_option);
    g_test_add_func("/cli/startup-errors-exit-1", test_startup_errors);
    g_test_add_func("/cli/accel-fallback", test_accel_fallback);
    g_test_add_func("/cli/device-errors-exit-1", test_device_errors);
    g_test_add_func("/cli/object-errors-exit-1", test_object_errors);
    g_test_add_func("/cli/device-help", test_device_help);
    g_test_add_func("/cli/machine-help", test_machine_help);
    g_test_add_func("/cli/accel-help", test_accel_help);
    g_test_add_func("/cli/object-help", test_object_help);
    return g_test_run();
}
