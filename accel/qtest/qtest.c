/*
 * The qtest accelerator and the qtest protocol server.
 *
 * Under "-accel qtest" no guest CPU runs: a test plays the guest over a
 * line protocol on the -qtest chardev (control_boot_facts A.3-A.5), and the
 * virtual clock moves only when the test steps it.  The server speaks the
 * protocol of QEMU's libqtest byte for byte; where QEMU asserts on a
 * malformed request, we reply "FAIL <reason>" and carry on, because the
 * request comes from outside the process.  viommu extensions (msi_pop,
 * msi_clear) are described in docs/qtest.md.
 *
 * Everything runs in the main loop thread.  One server per process; its
 * state lives in `qts` from init_machine to cleanup.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "chardev/char.h"
#include "hw/boards.h"
#include "hw/i386/apic-msi.h"
#include "hw/irq.h"
#include "hw/qdev-core.h"
#include "qapi/error.h"
#include "qom/object.h"
#include "system/accel.h"
#include "system/memory.h"
#include "system/runstate.h"
#include "system/timer.h"

/* Largest buffer a read/b64read/write/b64write may move. */
#define QTEST_MAX_BUF (16u * 1024 * 1024)
/* Largest memset (done in chunks, no buffer of that size). */
#define QTEST_MAX_MEMSET (1ull << 30)
#define QTEST_MEMSET_CHUNK (64u * 1024)
/* A request line may carry a full write of QTEST_MAX_BUF in hex. */
#define QTEST_MAX_LINE (2 * QTEST_MAX_BUF + 4096)
/* IRQ numbers reported to the client: 0..QTEST_MAX_IRQ-1 (A.4). */
#define QTEST_MAX_IRQ 256

/* An output GPIO we re-routed through the interception handler. */
typedef struct QTestOutIntercept {
    qemu_irq *slot;             /* the device's output field */
    qemu_irq orig;              /* what it was wired to (may be NULL) */
    qemu_irq irq;               /* ours, stored in *slot */
} QTestOutIntercept;

/*
 * Server state.
 *
 * Invariants: intercept_dev, when set, holds a reference so that the
 * GPIO lists we patched outlive us; out_intercepts is non-empty only for
 * an irq_intercept_out device.  inbuf holds the incomplete line of the
 * current connection; while `discarding`, the line being received is
 * over QTEST_MAX_LINE and is dropped up to its newline.
 */
typedef struct QTestServer {
    Chardev *chr;               /* borrowed from /chardevs; NULL: no server */
    FILE *log;                  /* NULL: no log */
    bool log_owned;             /* we opened it: fclose at cleanup */
    gint64 start_us;            /* monotonic time of the last OPENED */
    GString *inbuf;
    size_t scanned;             /* inbuf bytes known to hold no newline */
    bool discarding;
    DeviceState *intercept_dev;
    GPtrArray *out_intercepts;  /* QTestOutIntercept * */
    bool irq_levels[QTEST_MAX_IRQ];
} QTestServer;

static QTestServer *qts;

/* --- Output and log ------------------------------------------------------ */

static void qtest_log_prefix(QTestServer *s, char kind)
{
    gint64 us = g_get_monotonic_time() - s->start_us;

    fprintf(s->log, "[%c +%" PRId64 ".%06" PRId64 "]", kind,
            us / G_USEC_PER_SEC, us % G_USEC_PER_SEC);
}

/* Sends one line (without its "\n"), logged as [S +t]. */
static void G_GNUC_PRINTF(2, 3) qtest_send(QTestServer *s, const char *fmt,
                                           ...)
{
    g_autoptr(GString) line = g_string_new(NULL);
    va_list ap;

    va_start(ap, fmt);
    g_string_vprintf(line, fmt, ap);
    va_end(ap);
    if (s->log) {
        qtest_log_prefix(s, 'S');
        fprintf(s->log, " %s\n", line->str);
    }
    g_string_append_c(line, '\n');
    /* A broken connection reports itself with CHR_EVENT_CLOSED. */
    qemu_chr_fe_write_all(s->chr, (const uint8_t *)line->str, line->len);
}

/* --- Argument parsing ---------------------------------------------------- */

/* Like strtoull(str, ..., 0) over the whole word; false if it is not one. */
static bool qtest_parse_u64(const char *str, uint64_t *val)
{
    char *end;

    if (!*str || g_ascii_isspace(*str)) {
        return false;
    }
    errno = 0;
    *val = strtoull(str, &end, 0);
    return !errno && *end == '\0';
}

static bool qtest_parse_i64(const char *str, int64_t *val)
{
    char *end;

    if (!*str || g_ascii_isspace(*str)) {
        return false;
    }
    errno = 0;
    *val = strtoll(str, &end, 0);
    return !errno && *end == '\0';
}

static bool qtest_parse_int(const char *str, int *val)
{
    int64_t v;

    if (!qtest_parse_i64(str, &v) || v < INT_MIN || v > INT_MAX) {
        return false;
    }
    *val = v;
    return true;
}

static bool qtest_arg_u64(QTestServer *s, const char *what, const char *str,
                          uint64_t *val)
{
    if (!qtest_parse_u64(str, val)) {
        qtest_send(s, "FAIL invalid %s '%s'", what, str);
        return false;
    }
    return true;
}

static bool qtest_arg_port(QTestServer *s, const char *str, uint64_t *port)
{
    if (!qtest_arg_u64(s, "port", str, port)) {
        return false;
    }
    if (*port > 0xffff) {
        qtest_send(s, "FAIL port %s out of range (0-0xffff)", str);
        return false;
    }
    return true;
}

/*
 * ADDR SIZE of a bulk access: size in [min_size, max_size] and the range
 * must not wrap around the end of the address space.
 */
static bool qtest_arg_range(QTestServer *s, char **words, uint64_t min_size,
                            uint64_t max_size, uint64_t *addr,
                            uint64_t *size)
{
    if (!qtest_arg_u64(s, "address", words[1], addr) ||
        !qtest_arg_u64(s, "size", words[2], size)) {
        return false;
    }
    if (*size < min_size || *size > max_size) {
        qtest_send(s, "FAIL size %s out of range (%" PRIu64 "-%" PRIu64 ")",
                   words[2], min_size, max_size);
        return false;
    }
    if (*size && *addr + (*size - 1) < *addr) {
        qtest_send(s, "FAIL range at %s of size %s wraps around", words[1],
                   words[2]);
        return false;
    }
    return true;
}

static DeviceState *qtest_arg_device(QTestServer *s, const char *path)
{
    Object *obj = object_resolve_path(path, NULL);
    Object *dev = obj ? object_dynamic_cast(obj, TYPE_DEVICE) : NULL;

    if (!dev) {
        qtest_send(s, "FAIL Unknown device");
        return NULL;
    }
    return (DeviceState *)dev;
}

/* --- IRQ interception ---------------------------------------------------- */

static void qtest_irq_report(int n, int level)
{
    QTestServer *s = qts;
    bool high = level != 0;

    if (!s || !s->chr || n < 0 || n >= QTEST_MAX_IRQ ||
        s->irq_levels[n] == high) {
        return;
    }
    s->irq_levels[n] = high;
    qtest_send(s, "IRQ %s %d", high ? "raise" : "lower", n);
}

/* Handler of an intercepted input line; opaque is the line itself. */
static void qtest_irq_in_handler(void *opaque, int n, int level)
{
    qemu_irq_call_original(opaque, level);
    qtest_irq_report(n, level);
}

static void qtest_irq_out_handler(void *opaque, int n, int level)
{
    QTestOutIntercept *o = opaque;

    qemu_set_irq(o->orig, level);
    qtest_irq_report(n, level);
}

static void qtest_out_intercept_free(void *p)
{
    QTestOutIntercept *o = p;

    /* Put the wiring back unless the device re-wired the line since. */
    if (*o->slot == o->irq) {
        *o->slot = o->orig;
    }
    qemu_free_irq(o->irq);
    g_free(o);
}

static bool qtest_intercept_out_list(QTestServer *s, NamedGPIOList *ngl)
{
    for (int i = 0; i < ngl->num_out; i++) {
        QTestOutIntercept *o = g_new0(QTestOutIntercept, 1);

        o->slot = ngl->out[i];
        o->orig = *o->slot;
        o->irq = qemu_allocate_irq(qtest_irq_out_handler, o, i);
        *o->slot = o->irq;
        g_ptr_array_add(s->out_intercepts, o);
    }
    return ngl->num_out > 0;
}

static bool qtest_intercept_in_list(NamedGPIOList *ngl)
{
    for (int i = 0; i < ngl->num_in; i++) {
        qemu_irq_intercept(ngl->in[i], qtest_irq_in_handler, ngl->in[i]);
    }
    return ngl->num_in > 0;
}

/* irq_intercept_in QOMPATH | irq_intercept_out QOMPATH [NAME] */
static void qtest_cmd_irq_intercept(QTestServer *s, char **words, int n)
{
    bool out = !strcmp(words[0], "irq_intercept_out");
    const char *name = n > 2 ? words[2] : NULL;
    DeviceState *dev = qtest_arg_device(s, words[1]);
    bool installed = false;

    if (!dev) {
        return;
    }
    if (name && !out) {
        qtest_send(s, "FAIL Interception of named in-GPIOs not yet "
                   "supported");
        return;
    }
    if (s->intercept_dev) {
        if (s->intercept_dev == dev) {
            qtest_send(s, "OK");
        } else {
            qtest_send(s, "FAIL IRQ intercept already enabled");
        }
        return;
    }
    if (out) {
        NamedGPIOList *ngl = qdev_get_named_gpio_list(dev, name);

        installed = ngl && qtest_intercept_out_list(s, ngl);
    } else {
        for (GSList *l = dev->gpios; l; l = l->next) {
            installed |= qtest_intercept_in_list(l->data);
        }
    }
    if (!installed) {
        qtest_send(s, "FAIL No intercepts installed");
        return;
    }
    s->intercept_dev = dev;
    object_ref(dev);
    qtest_send(s, "OK");
}

/* set_irq_in QOMPATH NAME NUM LEVEL */
static void qtest_cmd_set_irq_in(QTestServer *s, char **words, int n)
{
    const char *name = words[2];
    NamedGPIOList *ngl;
    DeviceState *dev;
    int num, level;

    dev = qtest_arg_device(s, words[1]);
    if (!dev) {
        return;
    }
    if (!qtest_parse_int(words[3], &num)) {
        qtest_send(s, "FAIL invalid GPIO number '%s'", words[3]);
        return;
    }
    if (!qtest_parse_int(words[4], &level)) {
        qtest_send(s, "FAIL invalid level '%s'", words[4]);
        return;
    }
    ngl = qdev_get_named_gpio_list(dev, strcmp(name, "unnamed-gpio-in") ?
                                        name : NULL);
    if (!ngl || ngl->num_in == 0) {
        qtest_send(s, "FAIL Unknown GPIO list '%s'", name);
        return;
    }
    if (num < 0 || num >= ngl->num_in) {
        qtest_send(s, "FAIL GPIO %d out of range (0-%d)", num,
                   ngl->num_in - 1);
        return;
    }
    qemu_set_irq(ngl->in[num], level);
    qtest_send(s, "OK");
}

/* --- Port and memory access ---------------------------------------------- */

/* outb/outw/outl PORT VALUE */
static void qtest_cmd_out(QTestServer *s, char **words, int n)
{
    AddressSpace *as = &address_space_io;
    uint64_t port, val;

    if (!qtest_arg_port(s, words[1], &port) ||
        !qtest_arg_u64(s, "value", words[2], &val)) {
        return;
    }
    switch (words[0][3]) {
    case 'b':
        address_space_stb(as, port, val, MEMTXATTRS_UNSPECIFIED, NULL);
        break;
    case 'w':
        address_space_stw_le(as, port, val, MEMTXATTRS_UNSPECIFIED, NULL);
        break;
    default:
        address_space_stl_le(as, port, val, MEMTXATTRS_UNSPECIFIED, NULL);
        break;
    }
    qtest_send(s, "OK");
}

/* inb/inw/inl PORT */
static void qtest_cmd_in(QTestServer *s, char **words, int n)
{
    AddressSpace *as = &address_space_io;
    uint64_t port;
    uint32_t val;

    if (!qtest_arg_port(s, words[1], &port)) {
        return;
    }
    switch (words[0][2]) {
    case 'b':
        val = address_space_ldub(as, port, MEMTXATTRS_UNSPECIFIED, NULL);
        break;
    case 'w':
        val = address_space_lduw_le(as, port, MEMTXATTRS_UNSPECIFIED, NULL);
        break;
    default:
        val = address_space_ldl_le(as, port, MEMTXATTRS_UNSPECIFIED, NULL);
        break;
    }
    qtest_send(s, "OK 0x%04" PRIx32, val);
}

/* writeb/w/l/q ADDR VALUE */
static void qtest_cmd_write_n(QTestServer *s, char **words, int n)
{
    AddressSpace *as = &address_space_memory;
    uint64_t addr, val;

    if (!qtest_arg_u64(s, "address", words[1], &addr) ||
        !qtest_arg_u64(s, "value", words[2], &val)) {
        return;
    }
    switch (words[0][5]) {
    case 'b':
        address_space_stb(as, addr, val, MEMTXATTRS_UNSPECIFIED, NULL);
        break;
    case 'w':
        address_space_stw_le(as, addr, val, MEMTXATTRS_UNSPECIFIED, NULL);
        break;
    case 'l':
        address_space_stl_le(as, addr, val, MEMTXATTRS_UNSPECIFIED, NULL);
        break;
    default:
        address_space_stq_le(as, addr, val, MEMTXATTRS_UNSPECIFIED, NULL);
        break;
    }
    qtest_send(s, "OK");
}

/* readb/w/l/q ADDR */
static void qtest_cmd_read_n(QTestServer *s, char **words, int n)
{
    AddressSpace *as = &address_space_memory;
    uint64_t addr, val;

    if (!qtest_arg_u64(s, "address", words[1], &addr)) {
        return;
    }
    switch (words[0][4]) {
    case 'b':
        val = address_space_ldub(as, addr, MEMTXATTRS_UNSPECIFIED, NULL);
        break;
    case 'w':
        val = address_space_lduw_le(as, addr, MEMTXATTRS_UNSPECIFIED, NULL);
        break;
    case 'l':
        val = address_space_ldl_le(as, addr, MEMTXATTRS_UNSPECIFIED, NULL);
        break;
    default:
        val = address_space_ldq_le(as, addr, MEMTXATTRS_UNSPECIFIED, NULL);
        break;
    }
    qtest_send(s, "OK 0x%016" PRIx64, val);
}

/* read ADDR SIZE: OK 0x<hex>;  b64read ADDR SIZE: OK <base64> */
static void qtest_cmd_read_buf(QTestServer *s, char **words, int n)
{
    uint64_t addr, size;
    g_autofree uint8_t *buf = NULL;

    if (!qtest_arg_range(s, words, 1, QTEST_MAX_BUF, &addr, &size)) {
        return;
    }
    buf = g_malloc(size);
    address_space_read(&address_space_memory, addr, MEMTXATTRS_UNSPECIFIED,
                       buf, size);
    if (words[0][0] == 'b') {
        g_autofree char *b64 = g_base64_encode(buf, size);

        qtest_send(s, "OK %s", b64);
    } else {
        static const char digits[] = "0123456789abcdef";
        g_autofree char *hex = g_malloc(2 * size + 1);

        for (uint64_t i = 0; i < size; i++) {
            hex[2 * i] = digits[buf[i] >> 4];
            hex[2 * i + 1] = digits[buf[i] & 0xf];
        }
        hex[2 * size] = '\0';
        qtest_send(s, "OK 0x%s", hex);
    }
}

/*
 * write ADDR SIZE 0xHEX.  As in QEMU, the first two characters of HEX are
 * skipped unchecked, byte i comes from characters 2+2i and 3+2i, and bytes
 * without both digits are zero.  Unlike QEMU, a non-hex digit is refused.
 */
static void qtest_cmd_write_buf(QTestServer *s, char **words, int n)
{
    const char *hex = words[3];
    size_t hex_len = strlen(hex);
    uint64_t addr, size;
    g_autofree uint8_t *buf = NULL;

    if (!qtest_arg_range(s, words, 1, QTEST_MAX_BUF, &addr, &size)) {
        return;
    }
    if (hex_len < 3) {
        qtest_send(s, "ERR invalid argument size");
        return;
    }
    buf = g_malloc0(size);
    for (uint64_t i = 0; i < size && 2 * i + 4 <= hex_len; i++) {
        int hi = g_ascii_xdigit_value(hex[2 * i + 2]);
        int lo = g_ascii_xdigit_value(hex[2 * i + 3]);

        if (hi < 0 || lo < 0) {
            qtest_send(s, "FAIL invalid hex data");
            return;
        }
        buf[i] = hi << 4 | lo;
    }
    address_space_write(&address_space_memory, addr, MEMTXATTRS_UNSPECIFIED,
                        buf, size);
    qtest_send(s, "OK");
}

/*
 * b64write ADDR SIZE B64.  When the decoded length differs from SIZE,
 * QEMU writes SIZE bytes anyway; we write the bytes we have, at most SIZE.
 */
static void qtest_cmd_b64write(QTestServer *s, char **words, int n)
{
    uint64_t addr, size;
    g_autofree uint8_t *data = NULL;
    gsize len = 0;

    if (!qtest_arg_range(s, words, 1, QTEST_MAX_BUF, &addr, &size)) {
        return;
    }
    if (strlen(words[3]) < 3) {
        qtest_send(s, "ERR invalid argument size");
        return;
    }
    data = g_base64_decode(words[3], &len);
    address_space_write(&address_space_memory, addr, MEMTXATTRS_UNSPECIFIED,
                        data, MIN((uint64_t)len, size));
    qtest_send(s, "OK");
}

/* memset ADDR SIZE VALUE; SIZE 0 does nothing. */
static void qtest_cmd_memset(QTestServer *s, char **words, int n)
{
    uint64_t addr, size, val;
    g_autofree uint8_t *chunk = NULL;

    if (!qtest_arg_range(s, words, 0, QTEST_MAX_MEMSET, &addr, &size) ||
        !qtest_arg_u64(s, "value", words[3], &val)) {
        return;
    }
    if (size == 0) {
        qtest_send(s, "OK");
        return;
    }
    chunk = g_malloc(MIN(size, QTEST_MEMSET_CHUNK));
    memset(chunk, val & 0xff, MIN(size, QTEST_MEMSET_CHUNK));
    for (uint64_t done = 0; done < size; done += QTEST_MEMSET_CHUNK) {
        address_space_write(&address_space_memory, addr + done,
                            MEMTXATTRS_UNSPECIFIED, chunk,
                            MIN(size - done, QTEST_MEMSET_CHUNK));
    }
    qtest_send(s, "OK");
}

/* --- Clock --------------------------------------------------------------- */

/* clock_step [NS] */
static void qtest_cmd_clock_step(QTestServer *s, char **words, int n)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    int64_t dest, step;

    if (n < 2) {
        dest = qemu_clock_next_virtual_deadline();
        if (dest < 0) {
            qtest_send(s, "FAIL cannot advance clock to the next deadline "
                       "because there is no pending deadline");
            return;
        }
        dest = MAX(dest, now);
    } else {
        if (!qtest_parse_i64(words[1], &step)) {
            qtest_send(s, "FAIL invalid time step '%s'", words[1]);
            return;
        }
        if (step <= 0) {
            qtest_send(s, "FAIL could not advance time");
            return;
        }
        dest = step > INT64_MAX - now ? INT64_MAX : now + step;
    }
    dest = qemu_clock_advance_virtual(dest);
    if (n >= 2 && dest == now) {
        qtest_send(s, "FAIL could not advance time");
        return;
    }
    qtest_send(s, "OK %" PRId64, dest);
}

/* clock_set NS: forward only; FAIL <current> when NS was not reached. */
static void qtest_cmd_clock_set(QTestServer *s, char **words, int n)
{
    int64_t ns, now;

    if (!qtest_parse_i64(words[1], &ns)) {
        qtest_send(s, "FAIL invalid time '%s'", words[1]);
        return;
    }
    now = qemu_clock_advance_virtual(MAX(ns,
                                 qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL)));
    if (now != ns) {
        qtest_send(s, "FAIL %" PRId64, now);
        return;
    }
    qtest_send(s, "OK %" PRId64, now);
}

/* --- Miscellaneous ------------------------------------------------------- */

static void qtest_cmd_endianness(QTestServer *s, char **words, int n)
{
    qtest_send(s, "OK little");
}

/* viommu has no loadable modules. */
static void qtest_cmd_module_load(QTestServer *s, char **words, int n)
{
    qtest_send(s, "FAIL");
}

/* msi_pop: OK 0x<addr:16> 0x<data:8> | OK none  (viommu extension) */
static void qtest_cmd_msi_pop(QTestServer *s, char **words, int n)
{
    ApicMsi msg;

    if (!apic_msi_pop(&msg)) {
        qtest_send(s, "OK none");
        return;
    }
    qtest_send(s, "OK 0x%016" PRIx64 " 0x%08" PRIx32, msg.addr, msg.data);
}

static void qtest_cmd_msi_clear(QTestServer *s, char **words, int n)
{
    apic_msi_clear();
    qtest_send(s, "OK");
}

/* --- Dispatch ------------------------------------------------------------ */

typedef struct QTestCommand {
    const char *name;
    int min_args, max_args;     /* words after the command */
    const char *usage;
    void (*fn)(QTestServer *s, char **words, int nwords);
} QTestCommand;

static const QTestCommand qtest_commands[] = {
    { "endianness", 0, 0, "endianness", qtest_cmd_endianness },
    { "outb", 2, 2, "outb PORT VALUE", qtest_cmd_out },
    { "outw", 2, 2, "outw PORT VALUE", qtest_cmd_out },
    { "outl", 2, 2, "outl PORT VALUE", qtest_cmd_out },
    { "inb", 1, 1, "inb PORT", qtest_cmd_in },
    { "inw", 1, 1, "inw PORT", qtest_cmd_in },
    { "inl", 1, 1, "inl PORT", qtest_cmd_in },
    { "writeb", 2, 2, "writeb ADDR VALUE", qtest_cmd_write_n },
    { "writew", 2, 2, "writew ADDR VALUE", qtest_cmd_write_n },
    { "writel", 2, 2, "writel ADDR VALUE", qtest_cmd_write_n },
    { "writeq", 2, 2, "writeq ADDR VALUE", qtest_cmd_write_n },
    { "readb", 1, 1, "readb ADDR", qtest_cmd_read_n },
    { "readw", 1, 1, "readw ADDR", qtest_cmd_read_n },
    { "readl", 1, 1, "readl ADDR", qtest_cmd_read_n },
    { "readq", 1, 1, "readq ADDR", qtest_cmd_read_n },
    { "read", 2, 2, "read ADDR SIZE", qtest_cmd_read_buf },
    { "b64read", 2, 2, "b64read ADDR SIZE", qtest_cmd_read_buf },
    { "write", 3, 3, "write ADDR SIZE 0xDATA", qtest_cmd_write_buf },
    { "b64write", 3, 3, "b64write ADDR SIZE B64DATA", qtest_cmd_b64write },
    { "memset", 3, 3, "memset ADDR SIZE VALUE", qtest_cmd_memset },
    { "clock_step", 0, 1, "clock_step [NS]", qtest_cmd_clock_step },
    { "clock_set", 1, 1, "clock_set NS", qtest_cmd_clock_set },
    { "irq_intercept_in", 1, 2, "irq_intercept_in QOMPATH",
      qtest_cmd_irq_intercept },
    { "irq_intercept_out", 1, 2, "irq_intercept_out QOMPATH [NAME]",
      qtest_cmd_irq_intercept },
    { "set_irq_in", 4, 4, "set_irq_in QOMPATH NAME NUM LEVEL",
      qtest_cmd_set_irq_in },
    { "module_load", 2, 2, "module_load PREFIX LIBNAME",
      qtest_cmd_module_load },
    { "msi_pop", 0, 0, "msi_pop", qtest_cmd_msi_pop },
    { "msi_clear", 0, 0, "msi_clear", qtest_cmd_msi_clear },
};

static void qtest_process_line(QTestServer *s, char *line)
{
    g_autoptr(GPtrArray) words = g_ptr_array_new();
    char *save = NULL;
    int n;

    for (char *w = strtok_r(line, " \t\r", &save); w;
         w = strtok_r(NULL, " \t\r", &save)) {
        g_ptr_array_add(words, w);
    }
    n = words->len;
    if (n == 0) {
        return;                 /* a blank line gets no reply */
    }
    g_ptr_array_add(words, NULL);
    if (s->log) {
        qtest_log_prefix(s, 'R');
        for (int i = 0; i < n; i++) {
            fprintf(s->log, " %s", (char *)words->pdata[i]);
        }
        fputc('\n', s->log);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(qtest_commands); i++) {
        const QTestCommand *c = &qtest_commands[i];

        if (strcmp(c->name, words->pdata[0])) {
            continue;
        }
        if (n - 1 < c->min_args || n - 1 > c->max_args) {
            qtest_send(s, "FAIL usage: %s", c->usage);
            return;
        }
        c->fn(s, (char **)words->pdata, n);
        return;
    }
    qtest_send(s, "FAIL Unknown command '%s'", (char *)words->pdata[0]);
}

/*
 * Consumes complete lines from inbuf.  A line longer than QTEST_MAX_LINE
 * is dropped as it arrives and answered with one FAIL at its newline.
 */
static void qtest_process_inbuf(QTestServer *s)
{
    for (;;) {
        char *start = s->inbuf->str;
        char *nl = memchr(start + s->scanned, '\n',
                          s->inbuf->len - s->scanned);
        size_t line_len;

        if (!nl) {
            s->scanned = s->inbuf->len;
            if (s->discarding || s->inbuf->len > QTEST_MAX_LINE) {
                s->discarding = true;
                g_string_truncate(s->inbuf, 0);
                s->scanned = 0;
            }
            return;
        }
        line_len = nl - start;
        *nl = '\0';
        if (s->discarding) {
            s->discarding = false;
            qtest_send(s, "FAIL line too long (limit %u bytes)",
                       (unsigned)QTEST_MAX_LINE);
        } else {
            /* NULs in the line end it early: harmless. */
            qtest_process_line(s, start);
        }
        g_string_erase(s->inbuf, 0, line_len + 1);
        s->scanned = 0;
    }
}

static void qtest_read(void *opaque, const uint8_t *buf, int size)
{
    QTestServer *s = opaque;

    g_string_append_len(s->inbuf, (const char *)buf, size);
    qtest_process_inbuf(s);
}

static void qtest_event(void *opaque, ChrEvent event)
{
    QTestServer *s = opaque;

    switch (event) {
    case CHR_EVENT_OPENED:
        s->start_us = g_get_monotonic_time();
        g_string_truncate(s->inbuf, 0);
        s->scanned = 0;
        s->discarding = false;
        memset(s->irq_levels, 0, sizeof(s->irq_levels));
        if (s->log) {
            fprintf(s->log, "[I 0.000000] OPENED\n");
        }
        break;
    case CHR_EVENT_CLOSED:
        if (s->log) {
            qtest_log_prefix(s, 'I');
            fprintf(s->log, " CLOSED\n");
        }
        /* The test went away: so do we (see docs/qtest.md). */
        qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_UI);
        break;
    }
}

/* --- The accelerator ----------------------------------------------------- */

static bool qtest_open_log(QTestServer *s, const char *path, Error **errp)
{
    if (!path) {
        s->log = stderr;
        return true;
    }
    if (!strcmp(path, "none")) {
        return true;
    }
    s->log = fopen(path, "w");
    if (!s->log) {
        error_setg_errno(errp, errno, "cannot open qtest log '%s'", path);
        return false;
    }
    s->log_owned = true;
    /* Whole lines, so a test can read the log while we run. */
    setvbuf(s->log, NULL, _IOLBF, 0);
    return true;
}

static void qtest_server_free(QTestServer *s)
{
    if (s->chr) {
        qemu_chr_fe_deinit(s->chr);
    }
    if (s->out_intercepts) {
        g_ptr_array_free(s->out_intercepts, true);
    }
    if (s->intercept_dev) {
        object_unref(s->intercept_dev);
    }
    if (s->log_owned) {
        fclose(s->log);
    }
    if (s->inbuf) {
        g_string_free(s->inbuf, true);
    }
    g_free(s);
}

static bool qtest_server_init(const char *spec, const char *log_path,
                              Error **errp)
{
    QTestServer *s = g_new0(QTestServer, 1);
    Chardev *chr;

    s->inbuf = g_string_new(NULL);
    s->out_intercepts = g_ptr_array_new_with_free_func(
        qtest_out_intercept_free);
    s->start_us = g_get_monotonic_time();
    if (!qtest_open_log(s, log_path, errp)) {
        qtest_server_free(s);
        return false;
    }
    chr = qemu_chr_new("qtest", spec, errp);
    if (!chr) {
        qtest_server_free(s);
        return false;
    }
    if (!qemu_chr_fe_init(chr, errp)) {
        qtest_server_free(s);
        return false;
    }
    s->chr = chr;
    qemu_chr_fe_set_handlers(chr, NULL, qtest_read, qtest_event, s);
    qts = s;
    return true;
}

static bool qtest_init_machine(MachineState *ms, const char *qtest_spec,
                               const char *qtest_log, Error **errp)
{
    qemu_clock_set_virtual_manual(true);
    if (!qtest_spec || !strcmp(qtest_spec, "none")) {
        return true;
    }
    return qtest_server_init(qtest_spec, qtest_log, errp);
}

static void qtest_accel_cleanup(void)
{
    if (qts) {
        qtest_server_free(qts);
        qts = NULL;
    }
}

static void qtest_accel_class_init(ObjectClass *klass, const void *data)
{
    AccelClass *ac = ACCEL_CLASS(klass);

    ac->name = "qtest";
    ac->init_machine = qtest_init_machine;
    ac->cleanup = qtest_accel_cleanup;
}

static const TypeInfo qtest_accel_types[] = {
    {
        .name = "qtest" ACCEL_CLASS_SUFFIX,
        .parent = TYPE_ACCEL,
        .class_init = qtest_accel_class_init,
    },
};

DEFINE_TYPES(qtest_accel_types)
