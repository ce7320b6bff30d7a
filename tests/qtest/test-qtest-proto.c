/*
 * The qtest protocol as the server speaks it (control_boot_facts A.3-A.5):
 * exact reply formats, what happens on malformed requests (a FAIL or the
 * reference's ERR, and the session goes on), the clock, IRQ interception,
 * the MSI extension and the log file.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "libqtest.h"

/* -machine none with RAM at 0: nothing else answers in either space. */
#define NONE_ARGS "-machine none -m 16M"
#define RAM_TOP 0x1000000ull

static bool have_q35;
static bool have_edu;

/* Sends cmd and asserts the reply is exactly expect. */
static void check(QTestState *s, const char *cmd, const char *expect)
{
    g_autofree char *rsp = qtest_raw_cmd(s, "%s", cmd);

    if (strcmp(rsp, expect)) {
        g_test_message("command: %s", cmd);
    }
    g_assert_cmpstr(rsp, ==, expect);
}

/* Sends cmd and asserts the reply starts with prefix. */
static void check_prefix(QTestState *s, const char *cmd, const char *prefix)
{
    g_autofree char *rsp = qtest_raw_cmd(s, "%s", cmd);

    if (!g_str_has_prefix(rsp, prefix)) {
        g_test_message("command: %.100s reply: %.200s", cmd, rsp);
    }
    g_assert_true(g_str_has_prefix(rsp, prefix));
}

/* The next reply line, for requests sent with qtest_send_raw(). */
static void expect_line(QTestState *s, const char *expect)
{
    g_autofree char *rsp = qtest_raw_read_line(s);

    g_assert_cmpstr(rsp, ==, expect);
}

/* The session still answers. */
static void check_alive(QTestState *s)
{
    check(s, "endianness", "OK little");
}

static void test_reply_formats(void)
{
    QTestState *s = qtest_init(NONE_ARGS);

    check(s, "endianness", "OK little");
    check(s, "writeq 0x100 0x1122334455667788", "OK");
    check(s, "readq 0x100", "OK 0x1122334455667788");
    check(s, "readl 0x100", "OK 0x0000000055667788");
    check(s, "readw 0x100", "OK 0x0000000000007788");
    check(s, "readb 0x100", "OK 0x0000000000000088");
    check(s, "readb 0x107", "OK 0x0000000000000011");
    check(s, "writel 0x108 0xcafe", "OK");
    check(s, "writew 0x10c 0x1234", "OK");
    check(s, "writeb 0x10e 0x5a", "OK");
    check(s, "readq 0x108", "OK 0x005a12340000cafe");
    /* Values wider than the access are truncated to it. */
    check(s, "writeb 0x110 0x1ff", "OK");
    check(s, "readb 0x110", "OK 0x00000000000000ff");

    /* Unassigned memory reads 0 and drops writes. */
    check(s, "writel 0x40000000 0x12345678", "OK");
    check(s, "readl 0x40000000", "OK 0x0000000000000000");
    check(s, "readq 0xfffffffffffffff8", "OK 0x0000000000000000");

    /* Unassigned ports read all-ones; in replies are at least 4 digits. */
    check(s, "outb 0x1234 0x12", "OK");
    check(s, "outw 0x1234 0x1234", "OK");
    check(s, "outl 0x1234 0x12345678", "OK");
    check(s, "inb 0x1234", "OK 0x00ff");
    check(s, "inw 0x1234", "OK 0xffff");
    check(s, "inl 0x1234", "OK 0xffffffff");
    check(s, "inb 0xffff", "OK 0x00ff");

    /* Numbers: 0x hex, leading 0 octal, otherwise decimal. */
    check(s, "writeb 8 0x21", "OK");
    check(s, "writeb 9 042", "OK");
    check(s, "writeb 10 42", "OK");
    check(s, "readb 010", "OK 0x0000000000000021");
    check(s, "readb 0x9", "OK 0x0000000000000022");
    check(s, "readb 0xa", "OK 0x000000000000002a");
    /* Extra spaces between words are tolerated. */
    check(s, "writeb  0x20   0x77 ", "OK");
    check(s, "  readb 0x20", "OK 0x0000000000000077");
    qtest_quit(s);
}

static void test_bulk_round_trip(void)
{
    QTestState *s = qtest_init(NONE_ARGS);
    uint8_t pattern[300], back[300];

    check(s, "write 0x200 4 0xdeadbeef", "OK");
    check(s, "read 0x200 4", "OK 0xdeadbeef");
    check(s, "readl 0x200", "OK 0x00000000efbeadde");
    check(s, "b64read 0x200 4", "OK 3q2+7w==");
    check(s, "b64write 0x300 3 AQID", "OK");
    check(s, "read 0x300 3", "OK 0x010203");
    check(s, "read 0x300 1", "OK 0x01");
    /* Upper-case hex is accepted; bytes without digits are zero. */
    check(s, "write 0x400 4 0xAB", "OK");
    check(s, "read 0x400 4", "OK 0xab000000");
    /* Data longer than SIZE: the extra is ignored. */
    check(s, "write 0x410 2 0x11223344", "OK");
    check(s, "read 0x410 4", "OK 0x11220000");

    check(s, "memset 0x500 16 0x1ab", "OK");
    check(s, "read 0x4ff 18", "OK 0x00abababababababababababababababab00");
    check(s, "memset 0x500 0 0x11", "OK");
    check(s, "readb 0x500", "OK 0x00000000000000ab");

    /* Through the libqtest helpers, across the end of RAM. */
    for (size_t i = 0; i < sizeof(pattern); i++) {
        pattern[i] = i * 7 + 3;
    }
    qtest_memwrite(s, 0x1000, pattern, sizeof(pattern));
    qtest_memread(s, 0x1000, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));
    qtest_bufwrite(s, 0x2001, pattern, sizeof(pattern));
    qtest_bufread(s, 0x2001, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));
    qtest_memwrite(s, RAM_TOP - 2, pattern, 4);
    qtest_memread(s, RAM_TOP - 2, back, 4);
    g_assert_cmpmem(back, 2, pattern, 2);
    g_assert_cmpint(back[2], ==, 0);
    g_assert_cmpint(back[3], ==, 0);
    qtest_memset(s, 0x3000, 0x5c, 100);
    g_assert_cmpint(qtest_readb(s, 0x3000 + 99), ==, 0x5c);
    g_assert_cmpint(qtest_readb(s, 0x3000 + 100), ==, 0);
    qtest_writeq(s, 0x3100, 0x0123456789abcdefull);
    g_assert_cmphex(qtest_readq(s, 0x3100), ==, 0x0123456789abcdefull);
    g_assert_cmphex(qtest_readl(s, 0x3104), ==, 0x01234567);
    g_assert_cmphex(qtest_readw(s, 0x3100), ==, 0xcdef);
    qtest_quit(s);
}

static void test_clock(void)
{
    QTestState *s = qtest_init(NONE_ARGS);

    check(s, "clock_step", "FAIL cannot advance clock to the next deadline "
          "because there is no pending deadline");
    check(s, "clock_step 100", "OK 100");
    check(s, "clock_step 0x10", "OK 116");
    check(s, "clock_step 0", "FAIL could not advance time");
    check(s, "clock_step -5", "FAIL could not advance time");
    check(s, "clock_set 1000", "OK 1000");
    check(s, "clock_set 1000", "OK 1000");
    /* Backwards: refused, the reply says where the clock is. */
    check(s, "clock_set 500", "FAIL 1000");
    check(s, "clock_set 5000000000", "OK 5000000000");
    g_assert_cmpint(qtest_clock_step(s, 10), ==, 5000000010ll);
    g_assert_cmpint(qtest_clock_set(s, 6000000000ll), ==, 6000000000ll);
    check_prefix(s, "clock_step abc", "FAIL ");
    check_prefix(s, "clock_set", "FAIL ");
    check_prefix(s, "clock_set 12x", "FAIL ");
    check(s, "clock_set 6000000000", "OK 6000000000");
    qtest_quit(s);
}

static void test_unknown_and_misc(void)
{
    QTestState *s = qtest_init(NONE_ARGS);

    check(s, "foo", "FAIL Unknown command 'foo'");
    check(s, "foo bar baz", "FAIL Unknown command 'foo'");
    check(s, "READB 0x0", "FAIL Unknown command 'READB'");
    check(s, "rtas get-time-of-day 0 0 0 0", "FAIL Unknown command 'rtas'");
    check(s, "module_load accel tcg-x86_64", "FAIL");
    check(s, "msi_clear", "OK");
    check(s, "msi_pop", "OK none");
    check_alive(s);
    qtest_quit(s);
}

static void test_malformed(void)
{
    static const char *const bad[] = {
        "outb", "outb 0x80", "outb 0x10000 1", "outw 0x10000 1",
        "outl 65536 1", "outb xyz 1", "outb 0x80 zz", "outb 0x80 1 2",
        "inb", "inb 0x10000", "inb -", "inw 0x1g", "inl 99999999999999999999",
        "readb", "readb 12abc", "readq 0x", "readl 0x1 0x2",
        "writeb 0x0", "writeb 0x0 hello", "writeq 0x0 0x10000000000000000",
        "read", "read 0x0", "read 0x0 0", "read 0x0 0x1000001",
        "read 0x0 0xffffffffffffffff", "read 0xffffffffffffffff 2",
        "read abc 4", "b64read 0x0 0", "b64read 0x0 99999999999",
        "write 0x0 4", "write 0x0 0 0x00", "write 0x0 0x1000001 0x00",
        "write 0x0 4 0xzz112233", "write q 4 0x00",
        "b64write 0x0 4", "b64write 0x0 0x1000001 AAAA",
        "memset 0x0 16", "memset 0x0 16 q", "memset 0x0 0x40000001 0",
        "memset 0xfffffffffffffff0 0x20 0",
        "clock_step 1 2", "clock_set 1 2",
        "irq_intercept_in", "irq_intercept_out",
        "irq_intercept_in /nonexistent", "irq_intercept_out /machine",
        "irq_intercept_in a b c", "set_irq_in", "set_irq_in /machine",
        "set_irq_in /nonexistent unnamed-gpio-in 0 1",
        "set_irq_in /x unnamed-gpio-in zero 1",
        "set_irq_in /x unnamed-gpio-in 0 high",
        "module_load", "msi_pop now", "endianness big",
    };
    QTestState *s = qtest_init(NONE_ARGS);

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        check_prefix(s, bad[i], "FAIL");
    }
    check(s, "irq_intercept_in /nonexistent", "FAIL Unknown device");
    check(s, "irq_intercept_out /machine", "FAIL Unknown device");
    check(s, "set_irq_in /nonexistent unnamed-gpio-in 0 1",
          "FAIL Unknown device");
    /* The reference's ERR for data too short to hold "0x" and a digit. */
    check(s, "write 0x0 4 0x", "ERR invalid argument size");
    check(s, "write 0x0 4 1", "ERR invalid argument size");
    check(s, "b64write 0x0 4 AQ", "ERR invalid argument size");
    /* Nothing was written by the refused requests. */
    check(s, "read 0x0 8", "OK 0x0000000000000000");
    check_alive(s);
    qtest_quit(s);
}

static void test_framing(void)
{
    QTestState *s = qtest_init(NONE_ARGS);
    g_autoptr(GString) word = g_string_new(NULL);
    g_autofree char *expect = NULL;
    g_autofree char *junk = NULL;
    size_t junk_len = 33 * 1024 * 1024;

    /* Blank lines get no reply: the next reply is endianness's. */
    qtest_send_raw(s, "\n\n   \n\t\n", 7);
    check_alive(s);

    /* Several requests in one write, one split over two writes. */
    qtest_send_raw(s, "writeb 0x30 0x1\nreadb 0x30\nread",
                   strlen("writeb 0x30 0x1\nreadb 0x30\nread"));
    qtest_send_raw(s, "b 0x31\n", 7);
    expect_line(s, "OK");
    expect_line(s, "OK 0x0000000000000001");
    expect_line(s, "OK 0x0000000000000000");
    check_alive(s);

    /* CRLF line ends work too. */
    qtest_send_raw(s, "readb 0x30\r\n", 12);
    expect_line(s, "OK 0x0000000000000001");
    check_alive(s);

    /* A long unknown word is echoed whole. */
    for (int i = 0; i < 100000; i++) {
        g_string_append_c(word, 'a' + i % 26);
    }
    expect = g_strdup_printf("FAIL Unknown command '%s'", word->str);
    check(s, word->str, expect);

    /* A line beyond the server's limit is refused as a whole. */
    junk = g_malloc(junk_len);
    memset(junk, 'x', junk_len);
    qtest_send_raw(s, junk, junk_len);
    check_prefix(s, "", "FAIL line too long");
    check_alive(s);
    qtest_quit(s);
}

static void test_large_transfer(void)
{
    QTestState *s = qtest_init(NONE_ARGS);
    size_t size = 4 * 1024 * 1024;
    g_autofree uint8_t *data = g_malloc(size);
    g_autofree uint8_t *back = g_malloc(size);

    for (size_t i = 0; i < size; i++) {
        data[i] = g_random_int();
    }
    qtest_memwrite(s, 0x100000, data, size);
    qtest_bufread(s, 0x100000, back, size);
    g_assert_true(memcmp(data, back, size) == 0);
    qtest_memset(s, 0, 0, RAM_TOP);
    qtest_memread(s, 0x100000, back, size);
    for (size_t i = 0; i < size; i++) {
        g_assert_cmpint(back[i], ==, 0);
    }
    qtest_quit(s);
}

static void test_irq_intercept(void)
{
    QTestState *s;

    if (!have_q35) {
        g_test_skip("no q35 machine in this binary");
        return;
    }
    s = qtest_init("-M q35");
    check(s, "irq_intercept_in nosuchdevice", "FAIL Unknown device");
    check(s, "irq_intercept_in ioapic foo",
          "FAIL Interception of named in-GPIOs not yet supported");
    check(s, "irq_intercept_out ioapic no-such-gpio-list",
          "FAIL No intercepts installed");
    check(s, "set_irq_in ioapic no-such-list 0 1", "FAIL Unknown GPIO list "
          "'no-such-list'");
    check_prefix(s, "set_irq_in ioapic unnamed-gpio-in 100000 1", "FAIL ");

    check(s, "irq_intercept_in ioapic", "OK");
    /* The same device again is fine; another one is not. */
    check(s, "irq_intercept_in /machine/q35/ioapic", "OK");
    check(s, "irq_intercept_in /machine/q35",
          "FAIL IRQ intercept already enabled");

    g_assert_false(qtest_get_irq(s, 5));
    check(s, "set_irq_in ioapic unnamed-gpio-in 5 1", "OK");
    g_assert_true(qtest_get_irq(s, 5));
    g_assert_false(qtest_get_irq(s, 4));
    /* Only changes are reported; raising twice is one raise. */
    check(s, "set_irq_in ioapic unnamed-gpio-in 5 1", "OK");
    g_assert_true(qtest_get_irq(s, 5));
    check(s, "set_irq_in /machine/q35/ioapic unnamed-gpio-in 5 0", "OK");
    g_assert_false(qtest_get_irq(s, 5));
    check(s, "set_irq_in ioapic unnamed-gpio-in 0x17 -1", "OK");
    g_assert_true(qtest_get_irq(s, 23));
    qtest_quit(s);
}

/* The canonical path of the first device of type under /machine/unattached. */
static char *find_unattached(QTestState *s, const char *type)
{
    g_autofree char *child = g_strdup_printf("child<%s>", type);
    JsonObject *rsp = qtest_qmp(s, "{\"execute\": \"qom-list\", "
                                "\"arguments\": {\"path\": "
                                "\"/machine/unattached\"}}");
    JsonArray *arr = json_node_get_array(qmp_expect_return(rsp));
    char *path = NULL;

    for (guint i = 0; i < json_array_get_length(arr) && !path; i++) {
        JsonObject *p = json_array_get_object_element(arr, i);

        if (!g_strcmp0(json_object_get_string_member(p, "type"), child)) {
            path = g_strdup_printf("/machine/unattached/%s",
                                   json_object_get_string_member(p, "name"));
        }
    }
    json_object_unref(rsp);
    return path;
}

/*
 * Output interception: the ICH9 LPC's "pirq" lines carry PCI INTx to the
 * IOAPIC.  An edu device asserting INTx shows up as one of them.
 */
static void test_irq_intercept_out(void)
{
    const uint64_t bar = 0xfe000000;
    const int devfn = 4 << 3;
    g_autofree char *lpc = NULL;
    g_autofree char *cmd = NULL;
    QTestState *s;
    int high = -1;

    if (!have_q35 || !have_edu) {
        g_test_skip("needs the q35 machine and the edu device");
        return;
    }
    s = qtest_init("-M q35 -device edu,addr=04.0");
    lpc = find_unattached(s, "ich9-lpc");
    g_assert_nonnull(lpc);
    cmd = g_strdup_printf("irq_intercept_out %s", lpc);
    check(s, cmd, "FAIL No intercepts installed");
    g_free(cmd);
    cmd = g_strdup_printf("irq_intercept_out %s pirq", lpc);
    check(s, cmd, "OK");

    qpci_bar_map(s, 0, devfn, 0, bar);
    qpci_device_enable(s, 0, devfn);
    qtest_writel(s, bar + 0x60, 1);             /* edu: raise, INTx */
    for (int i = 0; i < 8; i++) {
        if (qtest_get_irq(s, i)) {
            g_assert_cmpint(high, ==, -1);
            high = i;
        }
    }
    g_assert_cmpint(high, >=, 0);
    qtest_writel(s, bar + 0x64, 1);             /* edu: acknowledge */
    g_assert_false(qtest_get_irq(s, high));
    qtest_quit(s);
}

/* A 32-bit write into the APIC window is an MSI the test can pop. */
static void test_msi(void)
{
    QTestState *s;
    uint64_t addr;
    uint32_t data;

    if (!have_q35) {
        g_test_skip("no q35 machine in this binary");
        return;
    }
    s = qtest_init("-M q35");
    check(s, "msi_pop", "OK none");
    check(s, "writel 0xfee01004 0x4041", "OK");
    check(s, "writel 0xfee00000 0x30", "OK");
    check(s, "msi_pop", "OK 0x00000000fee01004 0x00004041");
    g_assert_true(qtest_msi_pop(s, &addr, &data));
    g_assert_cmphex(addr, ==, 0xfee00000);
    g_assert_cmphex(data, ==, 0x30);
    g_assert_false(qtest_msi_pop(s, &addr, &data));
    qtest_writel(s, 0xfee00000, 1);
    qtest_msi_clear(s);
    check(s, "msi_pop", "OK none");
    qtest_quit(s);
}

static void test_log_file(void)
{
    g_autofree char *path = g_strdup_printf("%s/qtest-log-%d.txt",
                                            g_get_tmp_dir(), getpid());
    g_autofree char *args = g_strdup_printf(NONE_ARGS " -qtest-log %s",
                                            path);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    QTestState *s = qtest_init(args);
    g_autoptr(GRegex) req = g_regex_new("^\\[R \\+[0-9]+\\.[0-9]{6}\\] "
                                        "(.*)$", 0, 0, NULL);
    g_autoptr(GRegex) rsp = g_regex_new("^\\[S \\+[0-9]+\\.[0-9]{6}\\] "
                                        "(.*)$", 0, 0, NULL);
    g_autoptr(GRegex) closed = g_regex_new("^\\[I \\+[0-9]+\\.[0-9]{6}\\] "
                                           "CLOSED$", 0, 0, NULL);
    const char *expect[][2] = {
        { "endianness", "OK little" },
        { "writeb 0x10 0x5", "OK" },
        { "readb 0x10", "OK 0x0000000000000005" },
        { "nope", "FAIL Unknown command 'nope'" },
    };
    int i;

    check(s, "writeb 0x10 0x5", "OK");
    check(s, "readb  0x10", "OK 0x0000000000000005");
    check(s, "nope", "FAIL Unknown command 'nope'");
    qtest_quit(s);

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_unlink(path);
    lines = g_strsplit(text, "\n", 0);
    g_assert_cmpstr(lines[0], ==, "[I 0.000000] OPENED");
    for (i = 0; i < (int)G_N_ELEMENTS(expect); i++) {
        g_autoptr(GMatchInfo) m1 = NULL;
        g_autoptr(GMatchInfo) m2 = NULL;
        g_autofree char *w1 = NULL;
        g_autofree char *w2 = NULL;

        g_assert_nonnull(lines[1 + 2 * i]);
        g_assert_nonnull(lines[2 + 2 * i]);
        g_assert_true(g_regex_match(req, lines[1 + 2 * i], 0, &m1));
        w1 = g_match_info_fetch(m1, 1);
        g_assert_cmpstr(w1, ==, expect[i][0]);
        g_assert_true(g_regex_match(rsp, lines[2 + 2 * i], 0, &m2));
        w2 = g_match_info_fetch(m2, 1);
        g_assert_cmpstr(w2, ==, expect[i][1]);
    }
    /* A CLOSED line, if the emulator logged one before SIGTERM ended it. */
    if (lines[1 + 2 * i] && *lines[1 + 2 * i]) {
        g_assert_true(g_regex_match(closed, lines[1 + 2 * i], 0, NULL));
    }
}

/* The test hanging up ends the emulator, cleanly. */
static void test_disconnect_exits(void)
{
    QTestState *s = qtest_init(NONE_ARGS);
    JsonObject *ev, *data;
    int st;

    qtest_disconnect(s);
    ev = qtest_qmp_eventwait_ref(s, "SHUTDOWN");
    data = json_object_get_object_member(ev, "data");
    g_assert_false(json_object_get_boolean_member(data, "guest"));
    g_assert_cmpstr(json_object_get_string_member(data, "reason"), ==,
                    "host-ui");
    json_object_unref(ev);
    st = qtest_wait_exit(s);
    g_assert_true(WIFEXITED(st));
    g_assert_cmpint(WEXITSTATUS(st), ==, 0);
    qtest_quit(s);
}

/*
 * Whether the binary has a machine named (or aliased) name; *edu tells
 * whether it has the edu device.
 */
static bool machine_available(const char *name, bool *edu)
{
    QTestState *s = qtest_init("-machine none");
    JsonObject *types = qtest_qmp(s, "{\"execute\": \"device-list-"
                                  "properties\", \"arguments\": "
                                  "{\"typename\": \"edu\"}}");
    JsonObject *rsp = qtest_qmp(s, "{\"execute\": \"query-machines\"}");
    JsonNode *ret = qmp_rsp_is_err(rsp) ? NULL : qmp_expect_return(rsp);
    bool found = false;

    if (ret && JSON_NODE_HOLDS_ARRAY(ret)) {
        JsonArray *arr = json_node_get_array(ret);

        for (guint i = 0; i < json_array_get_length(arr); i++) {
            JsonObject *m = json_array_get_object_element(arr, i);

            found |= !g_strcmp0(json_object_get_string_member_with_default(
                                    m, "name", NULL), name) ||
                     !g_strcmp0(json_object_get_string_member_with_default(
                                    m, "alias", NULL), name);
        }
    }
    *edu = !qmp_rsp_is_err(types);
    json_object_unref(types);
    json_object_unref(rsp);
    qtest_quit(s);
    return found;
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    have_q35 = machine_available("q35", &have_edu);
    g_test_add_func("/qtest-proto/reply-formats", test_reply_formats);
    g_test_add_func("/qtest-proto/bulk-round-trip", test_bulk_round_trip);
    g_test_add_func("/qtest-proto/clock", test_clock);
    g_test_add_func("/qtest-proto/unknown-and-misc", test_unknown_and_misc);
    g_test_add_func("/qtest-proto/malformed-requests-fail", test_malformed);
    g_test_add_func("/qtest-proto/framing", test_framing);
    g_test_add_func("/qtest-proto/large-transfer", test_large_transfer);
    g_test_add_func("/qtest-proto/irq-intercept", test_irq_intercept);
    g_test_add_func("/qtest-proto/irq-intercept-out", test_irq_intercept_out);
    g_test_add_func("/qtest-proto/msi-extension", test_msi);
    g_test_add_func("/qtest-proto/log-file", test_log_file);
    g_test_add_func("/qtest-proto/disconnect-exits-0", test_disconnect_exits);
    return g_test_run();
}
