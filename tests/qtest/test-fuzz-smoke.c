/*
 * fuzz-smoke: random and malformed input on every channel must get an
 * error (or be ignored) and never crash the emulator.
 *
 * Deterministic: each case seeds its own PRNG, so a failure replays.  After
 * every burst the emulator must still answer both protocols correctly.
 */
#include <glib.h>
#include <string.h>

#include "libqtest.h"

#define ARGS "-M q35 -device edu,addr=03.0"

static const char *const qtest_words[] = {
    "readb", "readw", "readl", "readq", "writeb", "writew", "writel",
    "writeq", "read", "write", "b64read", "b64write", "memset", "inb",
    "inw", "inl", "outb", "outw", "outl", "clock_step", "clock_set",
    "irq_intercept_in", "irq_intercept_out", "set_irq_in", "msi_pop",
    "endianness", "bogus",
};

static const char *const number_words[] = {
    "0", "1", "0x", "0x0", "-1", "0xffffffffffffffff", "99999999999999999999",
    "0x10000", "0xcf8", "0xcfc", "0xfee00000", "0xfed90000", "0xc0000000",
    "0xb0000000", "4096", "0x1000000000", "abc", "0x40000", "010", "",
};

/* Random qtest command lines built from the protocol's own words. */
static void test_qtest_words(void)
{
    QTestState *s = qtest_init(ARGS);
    GRand *rand = g_rand_new_with_seed(0x71e57);

    for (int burst = 0; burst < 20; burst++) {
        for (int i = 0; i < 100; i++) {
            GString *line = g_string_new(
                qtest_words[g_rand_int_range(rand, 0,
                                             G_N_ELEMENTS(qtest_words))]);
            int nargs = g_rand_int_range(rand, 0, 5);
            g_autofree char *reply = NULL;

            /* Writes stay out of low RAM's first page and the devices'
             * reset-sensitive registers would be fair game too: any
             * value is legal guest behaviour. */
            for (int a = 0; a < nargs; a++) {
                g_string_append_printf(line, " %s",
                    number_words[g_rand_int_range(rand, 0,
                                                  G_N_ELEMENTS(number_words))]);
            }
            /* clock_set/clock_step only move forward and are bounded by
             * the numbers above; irq commands take paths. */
            if (g_str_has_prefix(line->str, "irq_") ||
                g_str_has_prefix(line->str, "set_irq_in")) {
                g_string_append(line, " /machine/nosuch");
            }
            reply = qtest_raw_cmd(s, "%s", line->str);
            g_assert_true(g_str_has_prefix(reply, "OK") ||
                          g_str_has_prefix(reply, "FAIL") ||
                          g_str_has_prefix(reply, "ERR"));
            g_string_free(line, true);
        }
        qtest_assert_alive(s);
    }
    g_rand_free(rand);
    qtest_quit(s);
}

/* Random bytes and broken JSON on QMP: errors, never a crash. */
static void test_qmp_garbage(void)
{
    static const char *const fragments[] = {
        "{", "}", "[", "]", "\"", "'", ":", ",", "\\", "\\u12", "\\ud800",
        "execute", "\"execute\"", "\"arguments\"", "\"id\"", "null", "true",
        "1e999", "-", "0x10", "\"qom-list\"", "{\"path\": 1}", "\x01", "\xff",
        "\xc3\x28", " ", "\n",
    };
    QTestState *s = qtest_init(ARGS);
    GRand *rand = g_rand_new_with_seed(0x9e7);

    for (int burst = 0; burst < 30; burst++) {
        GString *junk = g_string_new(NULL);
        int n = g_rand_int_range(rand, 1, 40);

        for (int i = 0; i < n; i++) {
            g_string_append(junk, fragments[g_rand_int_range(
                rand, 0, G_N_ELEMENTS(fragments))]);
        }
        /* Close whatever was left open so the stream resynchronises. */
        g_string_append(junk, "\x01\n");
        qtest_qmp_send_raw(s, junk->str, junk->len);
        g_string_free(junk, true);
        /* Drain replies until a marker command answers. */
        {
            static const char mark[] =
                "{\"execute\": \"query-status\", \"id\": \"mark\"}";

            qtest_qmp_send_raw(s, mark, strlen(mark));
        }
        for (;;) {
            g_autofree char *line = qtest_qmp_read_line(s);

            g_assert_nonnull(line);
            if (strstr(line, "\"mark\"")) {
                g_assert_nonnull(strstr(line, "\"return\""));
                break;
            }
            g_assert_nonnull(strstr(line, "\"error\""));
        }
    }
    qtest_assert_alive(s);
    g_rand_free(rand);
    qtest_quit(s);
}

/* Well-formed commands with arguments of the wrong shape. */
static void test_qmp_bad_arguments(void)
{
    static const char *const commands[] = {
        "qom-list", "qom-get", "qom-set", "device_add", "device_del",
        "object-add", "object-del", "getfd", "closefd", "qom-list-types",
        "device-list-properties", "qom-list-properties", "query-pci",
    };
    static const char *const values[] = {
        "1", "-1", "\"\"", "\"/\"", "\"edu\"", "null", "[]", "{}", "true",
        "\"/machine/peripheral-anon\"", "\"memory-backend-memfd\"",
        "18446744073709551615", "\"a,b\"", "\"0\"",
    };
    static const char *const keys[] = {
        "path", "property", "value", "driver", "id", "qom-type", "size",
        "fdname", "typename", "bus", "addr", "dma_mask", "implements",
    };
    QTestState *s = qtest_init(ARGS);
    GRand *rand = g_rand_new_with_seed(0xa59);

    for (int i = 0; i < 400; i++) {
        GString *cmd = g_string_new(NULL);
        int nargs = g_rand_int_range(rand, 0, 4);
        JsonObject *rsp;

        g_string_append_printf(cmd, "{\"execute\": \"%s\", \"arguments\": {",
            commands[g_rand_int_range(rand, 0, G_N_ELEMENTS(commands))]);
        for (int a = 0; a < nargs; a++) {
            g_string_append_printf(cmd, "%s\"%s\": %s", a ? ", " : "",
                keys[g_rand_int_range(rand, 0, G_N_ELEMENTS(keys))],
                values[g_rand_int_range(rand, 0, G_N_ELEMENTS(values))]);
        }
        g_string_append(cmd, "}}");
        rsp = qtest_qmp(s, "%s", cmd->str);
        g_assert_true(json_object_has_member(rsp, "return") ||
                      json_object_has_member(rsp, "error"));
        json_object_unref(rsp);
        g_string_free(cmd, true);
    }
    qtest_assert_alive(s);
    g_rand_free(rand);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/fuzz-smoke/qtest/random-commands", test_qtest_words);
    g_test_add_func("/fuzz-smoke/qmp/garbage-bytes", test_qmp_garbage);
    g_test_add_func("/fuzz-smoke/qmp/bad-arguments", test_qmp_bad_arguments);
    return g_test_run();
}
