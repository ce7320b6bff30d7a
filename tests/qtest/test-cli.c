/*
 * The command line: -version, -help and the help of -device/-machine/
 * -accel/-object, and start-up errors (exit status 1 with one line on
 * stderr that names the culprit).  The binary is run directly, without
 * the qtest or QMP sockets.
 */
#include <string.h>
#include <sys/wait.h>
#include <glib.h>

#include "libqtest.h"

typedef struct Run {
    char *out;
    char *err;
    int status;                 /* exit status; -1 if killed */
} Run;

static void run_clear(Run *r)
{
    g_free(r->out);
    g_free(r->err);
}

/* Runs the binary with args (space-separated, no quoting needed). */
static void run(Run *r, const char *args)
{
    const char *bin = g_getenv("QTEST_QEMU_BINARY");
    g_autofree char *cmdline = NULL;
    g_auto(GStrv) argv = NULL;
    g_autoptr(GError) err = NULL;
    int wstatus = 0;

    g_assert_nonnull(bin);
    cmdline = g_strdup_printf("%s %s", bin, args);
    argv = g_strsplit_set(cmdline, " ", 0);
    memset(r, 0, sizeof(*r));
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &r->out, &r->err, &wstatus, &err));
    g_assert_no_error(err);
    r->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
}

static int count_lines(const char *text)
{
    int n = 0;

    for (const char *p = text; *p; p++) {
        n += *p == '\n';
    }
    return n;
}

/* Runs args; expects exit 1 and one stderr line containing each needle. */
static void expect_failure(const char *args, const char *const *needles)
{
    Run r;

    run(&r, args);
    if (r.status != 1 || count_lines(r.err) != 1) {
        g_test_message("args: %s\nstatus %d, stderr:\n%s", args, r.status,
                       r.err);
    }
    g_assert_cmpint(r.status, ==, 1);
    g_assert_cmpint(count_lines(r.err), ==, 1);
    for (; *needles; needles++) {
        if (!strstr(r.err, *needles)) {
            g_test_message("args: %s\nstderr lacks '%s':\n%s", args,
                           *needles, r.err);
            g_assert_not_reached();
        }
    }
    run_clear(&r);
}

/* Runs args; expects exit 0 and returns stdout. */
static char *expect_output(const char *args)
{
    Run r;
    char *out;

    run(&r, args);
    if (r.status != 0) {
        g_test_message("args: %s\nstatus %d, stderr:\n%s", args, r.status,
                       r.err);
    }
    g_assert_cmpint(r.status, ==, 0);
    out = g_steal_pointer(&r.out);
    run_clear(&r);
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
    expect_failure("-nosuchoption", (const char *const[]){ "-nosuchoption",
                                                          NULL });
    /* An option that needs an argument, given none. */
    expect_failure("-machine", (const char *const[]){ "-machine", NULL });
}

static void test_startup_errors(void)
{
    expect_failure("-machine none -accel qtest -display none "
                   "-device nosuchdev",
                   (const char *const[]){ "'nosuchdev' is not a valid "
                                          "device model name", NULL });
    expect_failure("-machine nosuchmachine -accel qtest -display none",
                   (const char *const[]){ "nosuchmachine", NULL });
    expect_failure("-machine none -accel nosuchaccel -display none",
                   (const char *const[]){ "nosuchaccel", NULL });
    expect_failure("-machine none -accel qtest -display none "
                   "-object nosuchtype,id=o1",
                   (const char *const[]){ "nosuchtype", NULL });
    expect_failure("-machine none -accel qtest -display none "
                   "-chardev null",
                   (const char *const[]){ "id", NULL });
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
    expect_failure("-M q35 -accel qtest -display none "
                   "-device edu,nosuchprop=1",
                   (const char *const[]){ "nosuchprop", NULL });
    expect_failure("-M q35 -accel qtest -display none "
                   "-device edu,dma_mask=lots",
                   (const char *const[]){ "dma_mask", NULL });
    expect_failure("-M q35 -accel qtest -display none "
                   "-device edu,id=a -device edu,id=a",
                   (const char *const[]){ "Duplicate device ID 'a'", NULL });
}

static void test_object_errors(void)
{
    g_autofree char *objects = expect_output("-object help");

    if (!strstr(objects, "x-test-object")) {
        g_test_skip("no x-test-object type in this binary");
        return;
    }
    expect_failure("-machine none -accel qtest -display none "
                   "-object x-test-object",
                   (const char *const[]){ "Parameter 'id' is missing",
                                          NULL });
    expect_failure("-machine none -accel qtest -display none "
                   "-object x-test-object,id=o1,nosuchprop=1",
                   (const char *const[]){ "nosuchprop", NULL });
}

static void test_device_help(void)
{
    g_autofree char *out = expect_output("-device help");
    g_autofree char *edu = expect_output("-device edu,help");

    assert_contains(out, "name \"edu\", bus PCI");
    assert_contains(edu, "dma_mask=<uint64>");
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
}

static void test_object_help(void)
{
    g_autofree char *out = expect_output("-object help");

    g_assert_cmpstr(out, !=, "");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cli/version", test_version);
    g_test_add_func("/cli/help-lists-options", test_help);
    g_test_add_func("/cli/unknown-option-exits-1", test_bad_option);
    g_test_add_func("/cli/startup-errors-exit-1", test_startup_errors);
    g_test_add_func("/cli/device-errors-exit-1", test_device_errors);
    g_test_add_func("/cli/object-errors-exit-1", test_object_errors);
    g_test_add_func("/cli/device-help", test_device_help);
    g_test_add_func("/cli/machine-help", test_machine_help);
    g_test_add_func("/cli/accel-help", test_accel_help);
    g_test_add_func("/cli/object-help", test_object_help);
    return g_test_run();
}
