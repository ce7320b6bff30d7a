/*
 * Number, size and boolean parsing of command-line strings.
 */
#include <errno.h>
#include <stdint.h>
#include <glib.h>

#include "util/cutils.h"

static void assert_i64(const char *s, int base, int want_ret, int64_t want)
{
    int64_t v = 0x5a5a;
    int ret = qemu_strtoi64(s, NULL, base, &v);

    g_assert_cmpint(ret, ==, want_ret);
    if (!ret || ret == -ERANGE) {
        g_assert_cmpint(v, ==, want);
    }
}

static void assert_u64(const char *s, int base, int want_ret, uint64_t want)
{
    uint64_t v = 0x5a5a;
    int ret = qemu_strtou64(s, NULL, base, &v);

    g_assert_cmpint(ret, ==, want_ret);
    if (!ret || ret == -ERANGE) {
        g_assert_cmpuint(v, ==, want);
    }
}

static void test_strtoi64(void)
{
    assert_i64("0", 0, 0, 0);
    assert_i64("42", 0, 0, 42);
    assert_i64("-42", 0, 0, -42);
    assert_i64("0x1f", 0, 0, 31);
    assert_i64("010", 0, 0, 8);
    assert_i64("010", 10, 0, 10);
    assert_i64("ff", 16, 0, 255);
    assert_i64("  7", 0, 0, 7);
    assert_i64("9223372036854775807", 0, 0, INT64_MAX);
    assert_i64("-9223372036854775808", 0, 0, INT64_MIN);
    assert_i64("9223372036854775808", 0, -ERANGE, INT64_MAX);
    assert_i64("-9223372036854775809", 0, -ERANGE, INT64_MIN);
    assert_i64("", 0, -EINVAL, 0);
    assert_i64("x", 0, -EINVAL, 0);
    assert_i64("12x", 0, -EINVAL, 0);
    assert_i64("08", 0, -EINVAL, 0);
    assert_i64("1 ", 0, -EINVAL, 0);
}

static void test_strtoi64_endptr(void)
{
    const char *s = "123abc", *end = NULL;
    int64_t v;

    g_assert_cmpint(qemu_strtoi64(s, &end, 0, &v), ==, 0);
    g_assert_cmpint(v, ==, 123);
    g_assert_true(end == s + 3);

    g_assert_cmpint(qemu_strtoi64("abc", &end, 0, &v), ==, -EINVAL);
    g_assert_cmpstr(end, ==, "abc");
    g_assert_cmpint(v, ==, 0);
}

static void test_strtou64(void)
{
    assert_u64("0", 0, 0, 0);
    assert_u64("18446744073709551615", 0, 0, UINT64_MAX);
    assert_u64("0xffffffffffffffff", 0, 0, UINT64_MAX);
    assert_u64("18446744073709551616", 0, -ERANGE, UINT64_MAX);
    /* A minus sign wraps, as with strtoull() */
    assert_u64("-1", 0, 0, UINT64_MAX);
    assert_u64("-18446744073709551615", 0, 0, 1);
    assert_u64("-18446744073709551616", 0, -ERANGE, UINT64_MAX);
    assert_u64("", 0, -EINVAL, 0);
    assert_u64("1k", 0, -EINVAL, 0);
}

static void assert_sz(const char *s, int want_ret, uint64_t want)
{
    uint64_t v = 0xbaadf00d;
    int ret = qemu_strtosz(s, NULL, &v);

    if (ret != want_ret) {
        g_error("qemu_strtosz(\"%s\") = %d, want %d", s, ret, want_ret);
    }
    g_assert_cmpuint(v, ==, ret ? 0xbaadf00d : want);
}

static void test_strtosz(void)
{
    assert_sz("0", 0, 0);
    assert_sz("12345", 0, 12345);
    assert_sz("1B", 0, 1);
    assert_sz("1b", 0, 1);
    assert_sz("1k", 0, 1024);
    assert_sz("1K", 0, 1024);
    assert_sz("2M", 0, 2 << 20);
    assert_sz("3g", 0, UINT64_C(3) << 30);
    assert_sz("1T", 0, UINT64_C(1) << 40);
    assert_sz("1P", 0, UINT64_C(1) << 50);
    assert_sz("15E", 0, UINT64_C(15) << 60);
    assert_sz("1.5M", 0, 3 << 19);
    assert_sz("0.5k", 0, 512);
    assert_sz("1.1k", 0, 1126);
    assert_sz("0x10", 0, 16);
    assert_sz("0x10M", 0, 16 << 20);
    assert_sz("010", 0, 10);            /* never octal */
    assert_sz("18446744073709551615", 0, UINT64_MAX);
    assert_sz("1.5", -EINVAL, 0);       /* a fraction needs a suffix */
    assert_sz("1.5B", -EINVAL, 0);
    assert_sz("0x1.8M", -EINVAL, 0);
    assert_sz("1.M", -EINVAL, 0);
    assert_sz("", -EINVAL, 0);
    assert_sz("M", -EINVAL, 0);
    assert_sz("-1", -EINVAL, 0);
    assert_sz("1X", -EINVAL, 0);
    assert_sz("1MB", -EINVAL, 0);
    assert_sz("16E", -ERANGE, 0);
    assert_sz("18446744073709551616", -ERANGE, 0);
    assert_sz("16383P", 0, UINT64_C(16383) << 50);
    assert_sz("16384P", -ERANGE, 0);
    assert_sz("15.5E", 0, UINT64_C(31) << 59);
    assert_sz("15.99999999999999999999E", -ERANGE, 0);
}

static void test_strtosz_end(void)
{
    const char *s = "1Mfoo", *end = NULL;
    uint64_t v;

    g_assert_cmpint(qemu_strtosz(s, &end, &v), ==, 0);
    g_assert_cmpuint(v, ==, 1 << 20);
    g_assert_true(end == s + 2);

    g_assert_cmpint(qemu_strtosz("x", &end, &v), ==, -EINVAL);
    g_assert_cmpstr(end, ==, "x");
}

static void test_strtosz_mib(void)
{
    uint64_t v;

    g_assert_cmpint(qemu_strtosz_MiB("512", NULL, &v), ==, 0);
    g_assert_cmpuint(v, ==, UINT64_C(512) << 20);
    g_assert_cmpint(qemu_strtosz_MiB("1G", NULL, &v), ==, 0);
    g_assert_cmpuint(v, ==, UINT64_C(1) << 30);
    g_assert_cmpint(qemu_strtosz_MiB("1.5", NULL, &v), ==, 0);
    g_assert_cmpuint(v, ==, UINT64_C(3) << 19);
    g_assert_cmpint(qemu_strtosz_MiB("4096B", NULL, &v), ==, 0);
    g_assert_cmpuint(v, ==, 4096);
}

static void test_bool_parse(void)
{
    static const char *const yes[] = { "on", "yes", "true", "y" };
    static const char *const no[] = { "off", "no", "false", "n" };
    Error *err = NULL;
    bool b;

    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
        b = false;
        g_assert_true(qapi_bool_parse("p", yes[i], &b, &error_abort));
        g_assert_true(b);
        g_assert_true(qapi_bool_parse("p", no[i], &b, &error_abort));
        g_assert_false(b);
    }
    b = true;
    g_assert_false(qapi_bool_parse("wait", "maybe", &b, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Parameter 'wait' expects 'on' or 'off'");
    g_assert_true(b);
    error_free(err);
    err = NULL;
    g_assert_false(qapi_bool_parse("x", "ON", &b, &err));
    error_free(err);
}

static void check_split(const char *s, const char *const *want, guint n)
{
    g_autoptr(GPtrArray) items = qemu_split_option_list(s);

    g_assert_cmpuint(items->len, ==, n);
    for (guint i = 0; i < n; i++) {
        g_assert_cmpstr(items->pdata[i], ==, want[i]);
    }
}

static void test_split_option_list(void)
{
    static const char *const a[] = { "a,b", "c" };
    static const char *const b[] = { "" };

    check_split("a,,b,c", a, 2);
    check_split("", b, 1);
    check_split("x,,y,,,,", (const char *const[]){ "x,y,," }, 1);
    check_split("x,,,y,,", (const char *const[]){ "x,", "y," }, 2);
    check_split("x,,y,", (const char *const[]){ "x,y", "" }, 2);
    check_split("x,,y,,,", (const char *const[]){ "x,y,", "" }, 2);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cutils/strtoi64/values", test_strtoi64);
    g_test_add_func("/cutils/strtoi64/endptr", test_strtoi64_endptr);
    g_test_add_func("/cutils/strtou64/wraps-negative", test_strtou64);
    g_test_add_func("/cutils/strtosz/suffixes", test_strtosz);
    g_test_add_func("/cutils/strtosz/end", test_strtosz_end);
    g_test_add_func("/cutils/strtosz/default-mib", test_strtosz_mib);
    g_test_add_func("/cutils/bool-parse", test_bool_parse);
    g_test_add_func("/cutils/split-option-list", test_split_option_list);
    return g_test_run();
}
