/*
 * Command line and start-up.
 *
 * Options are collected first, then acted on in a fixed order, as QEMU
 * does: chardevs and monitors (so that a management client can talk to us
 * as early as possible), user-creatable objects, the accelerator, the
 * machine, -device devices, reset, and the main loop.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <glib-unix.h>

#include "qapi/error.h"
#include "qapi/qmp-dispatch.h"
#include "qom/object_interfaces.h"
#include "hw/boards.h"
#include "chardev/char.h"
#include "hw/char/serial.h"
#include "monitor/monitor.h"
#include "system/accel.h"
#include "system/kvm.h"
#include "system/main-loop.h"
#include "system/memory.h"
#include "system/qdev-monitor.h"
#include "system/runstate.h"
#include "system/system.h"
#include "util/cutils.h"
#include "util/keyval.h"

typedef enum OptArg { NO_ARG, HAS_ARG } OptArg;

typedef struct Options {
    GPtrArray *chardevs;    /* -chardev strings */
    GPtrArray *serials;     /* -serial specs */
    GPtrArray *mons;        /* -mon strings */
    GPtrArray *qmps;        /* -qmp / -qmp-pretty specs, "P:" prefix = pretty */
    GPtrArray *objects;
    GPtrArray *devices;
    GPtrArray *machine_opts;
    GPtrArray *accels;      /* -accel names, tried in order */
    char *mem;
    char *qtest;
    char *qtest_log;
    char *name;
    char *log_mask;
    char *smp;              /* -smp */
    char *kernel;           /* -kernel, -initrd, -append: lent to the machine */
    char *initrd;
    char *append;
    char *cpu;              /* -cpu: lent to the machine */
    bool start_paused;
    bool nodefaults;
    bool exit_with_parent;
} Options;

static const char *const help_text =
"usage: viommu-system-x86_64 [options]\n"
"\n"
"viommu: an x86 machine emulator for IOMMU virtualization\n"
"\n"
"Standard options:\n"
"-h or -help             display this help and exit\n"
"-version                display version information and exit\n"
"-machine [type=]name[,prop=value[,...]]\n"
"                        selects the machine ('-machine help' for a list);\n"
"                        accel=A[:B...] selects the accelerator (qtest, kvm),\n"
"                        falling back to the next on failure\n"
"-M name                 same as -machine name\n"
"-accel qtest|kvm        select the accelerator ('-accel help' for a list);\n"
"                        kvm runs the guest on /dev/kvm and needs -kernel;\n"
"                        given twice or more: tried in order\n"
"-m [size=]megs[,...]    guest RAM size (default unit MiB; suffixes k M G T)\n"
"-smp [cpus=]n[,maxcpus=cpus][,sockets=s][,dies=d][,cores=c][,threads=t]\n"
"                        CPUs present at start and possible (default 1);\n"
"                        the ACPI MADT lists them\n"
"-cpu model[,+feat][,-feat][,feat=on|off]\n"
"                        CPU model under KVM: host, max (= host) or qemu64\n"
"                        (default); feature switches ('-cpu help' lists them)\n"
"-name string            set the name of the guest\n"
"-object TYPE,id=ID[,prop=value...]\n"
"                        create a user-creatable object ('-object help',\n"
"                        '-object TYPE,help')\n"
"-device driver[,prop[=value][,...]]\n"
"                        add a device ('-device help', '-device DRIVER,help')\n"
"-nodefaults             don't create default devices\n"
"-S                      freeze the machine at start-up (use 'cont')\n"
"\n"
"Boot options:\n"
"-kernel bzImage         boot a kernel without firmware: multiboot 1 ELF\n"
"                        (or a.out kludge), Linux bzImage or PVH ELF\n"
"-append cmdline         use 'cmdline' as the kernel command line\n"
"-initrd file            use 'file' as the initial ram disk (multiboot:\n"
"                        'file1 args,file2 args' loads modules)\n"
"\n"
"Display options:\n"
"-display none           no display (the only one viommu has)\n"
"-nographic              no display; accepted for compatibility\n"
"\n"
"Character devices and monitors:\n"
"-chardev socket,id=id,path=path[,server=on|off][,wait=on|off]\n"
"-chardev stdio,id=id | file,id=id,path=path | null,id=id\n"
"-mon chardev=id,mode=control[,pretty=on|off]\n"
"                        a QMP monitor on a chardev\n"
"-qmp dev                a QMP monitor on dev (unix:path[,server=on,wait=off]\n"
"                        or stdio)\n"
"-qmp-pretty dev         the same, with pretty-printed JSON\n"
"-serial dev             the next COM port (COM1 0x3f8 IRQ4, COM2 0x2f8\n"
"                        IRQ3, ...; at most 4) on dev: stdio, file:path,\n"
"                        unix:path[,server=on|off][,wait=on|off], null,\n"
"                        chardev:id or none (no port); without -serial\n"
"                        the machine has no serial port\n"
"\n"
"Testing:\n"
"-qtest dev              the qtest protocol on dev (unix:path is a client\n"
"                        socket, as libqtest expects)\n"
"-qtest-log file         log qtest traffic to file ('none': off;\n"
"                        default: stderr)\n"
"-d item1,...            log items: guest_errors, unimp\n"
"-run-with exit-with-parent=on\n"
"                        exit when the parent process exits\n"
"-audio none             accepted for compatibility\n";

static void usage_exit(void)
{
    fputs(help_text, stdout);
    exit(0);
}

static void version_exit(void)
{
    printf("viommu version " VIOMMU_VERSION "\n");
    exit(0);
}

static G_NORETURN void option_error(const char *opt, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

static G_NORETURN void option_error(const char *opt, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    error_report("%s: %s", opt, msg);
    g_free(msg);
    exit(1);
}

static void fatal_err(Error *err)
{
    error_report_err(err);
    exit(1);
}

static const struct {
    const char *name;
    OptArg arg;
} option_table[] = {
    { "h", NO_ARG }, { "help", NO_ARG }, { "version", NO_ARG },
    { "machine", HAS_ARG }, { "M", HAS_ARG }, { "accel", HAS_ARG },
    { "m", HAS_ARG }, { "name", HAS_ARG }, { "object", HAS_ARG },
    { "device", HAS_ARG }, { "nodefaults", NO_ARG }, { "S", NO_ARG },
    { "display", HAS_ARG }, { "nographic", NO_ARG },
    { "chardev", HAS_ARG }, { "serial", HAS_ARG }, { "mon", HAS_ARG }, { "qmp", HAS_ARG },
    { "qmp-pretty", HAS_ARG }, { "qtest", HAS_ARG },
    { "qtest-log", HAS_ARG }, { "d", HAS_ARG }, { "run-with", HAS_ARG },
    { "audio", HAS_ARG }, { "trace", HAS_ARG }, { "smp", HAS_ARG },
    { "kernel", HAS_ARG }, { "initrd", HAS_ARG }, { "append", HAS_ARG },
    { "cpu", HAS_ARG },
};

static int option_lookup(const char *name, OptArg *arg)
{
    for (size_t i = 0; i < G_N_ELEMENTS(option_table); i++) {
        if (!strcmp(option_table[i].name, name)) {
            *arg = option_table[i].arg;
            return i;
        }
    }
    return -1;
}

static void parse_options(int argc, char **argv, Options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *raw = argv[i], *name, *arg = NULL;
        OptArg kind;

        if (raw[0] != '-' || !raw[1]) {
            /* QEMU takes a bare word as the disk image; we have no disks. */
            option_error(raw, "no disk images are supported");
        }
        name = raw[1] == '-' ? raw + 2 : raw + 1;
        if (option_lookup(name, &kind) < 0) {
            option_error(raw, "invalid option");
        }
        if (kind == HAS_ARG) {
            if (i + 1 >= argc) {
                option_error(raw, "requires an argument");
            }
            arg = argv[++i];
        }

        if (!strcmp(name, "h") || !strcmp(name, "help")) {
            usage_exit();
        } else if (!strcmp(name, "version")) {
            version_exit();
        } else if (!strcmp(name, "machine") || !strcmp(name, "M")) {
            g_ptr_array_add(o->machine_opts, g_strdup(arg));
        } else if (!strcmp(name, "accel")) {
            g_ptr_array_add(o->accels, g_strdup(arg));
        } else if (!strcmp(name, "m")) {
            g_free(o->mem);
            o->mem = g_strdup(arg);
        } else if (!strcmp(name, "smp")) {
            g_free(o->smp);
            o->smp = g_strdup(arg);
        } else if (!strcmp(name, "name")) {
            g_free(o->name);
            o->name = g_strdup(arg);
        } else if (!strcmp(name, "object")) {
            g_ptr_array_add(o->objects, g_strdup(arg));
        } else if (!strcmp(name, "device")) {
            g_ptr_array_add(o->devices, g_strdup(arg));
        } else if (!strcmp(name, "nodefaults")) {
            o->nodefaults = true;
        } else if (!strcmp(name, "S")) {
            o->start_paused = true;
        } else if (!strcmp(name, "display")) {
            if (strcmp(arg, "none") && !g_str_has_prefix(arg, "none,")) {
                option_error(raw, "display '%s' is not available "
                             "(only 'none')", arg);
            }
        } else if (!strcmp(name, "nographic")) {
            /* No display exists anyway. */
        } else if (!strcmp(name, "chardev")) {
            g_ptr_array_add(o->chardevs, g_strdup(arg));
        } else if (!strcmp(name, "serial")) {
            g_ptr_array_add(o->serials, g_strdup(arg));
        } else if (!strcmp(name, "mon")) {
            g_ptr_array_add(o->mons, g_strdup(arg));
        } else if (!strcmp(name, "qmp")) {
            g_ptr_array_add(o->qmps, g_strconcat("C:", arg, NULL));
        } else if (!strcmp(name, "qmp-pretty")) {
            g_ptr_array_add(o->qmps, g_strconcat("P:", arg, NULL));
        } else if (!strcmp(name, "qtest")) {
            g_free(o->qtest);
            o->qtest = g_strdup(arg);
        } else if (!strcmp(name, "qtest-log")) {
            g_free(o->qtest_log);
            o->qtest_log = g_strdup(arg);
        } else if (!strcmp(name, "d")) {
            g_free(o->log_mask);
            o->log_mask = g_strdup(arg);
        } else if (!strcmp(name, "run-with")) {
            if (!strcmp(arg, "exit-with-parent=on")) {
                o->exit_with_parent = true;
            } else if (strcmp(arg, "exit-with-parent=off")) {
                option_error(raw, "unsupported value '%s'", arg);
            }
        } else if (!strcmp(name, "audio")) {
            if (strcmp(arg, "none") && !g_str_has_prefix(arg, "none,") &&
                !g_str_has_prefix(arg, "driver=none")) {
                option_error(raw, "audio backend '%s' is not available", arg);
            }
        } else if (!strcmp(name, "trace")) {
            /* Tracing is not implemented; accepted for libqtest. */
        } else if (!strcmp(name, "cpu")) {
            g_free(o->cpu);
            o->cpu = g_strdup(arg);
        } else if (!strcmp(name, "kernel")) {
            g_free(o->kernel);
            o->kernel = g_strdup(arg);
        } else if (!strcmp(name, "initrd")) {
            g_free(o->initrd);
            o->initrd = g_strdup(arg);
        } else if (!strcmp(name, "append")) {
            g_free(o->append);
            o->append = g_strdup(arg);
        }
    }
}

static void create_chardevs(Options *o)
{
    for (guint i = 0; i < o->chardevs->len; i++) {
        Error *err = NULL;
        JsonObject *opts = keyval_parse(o->chardevs->pdata[i], "backend",
                                        NULL, &err);

        if (!opts || !qemu_chardev_new_from_opts(opts, &err)) {
            error_prepend(&err, "-chardev %s: ",
                          (char *)o->chardevs->pdata[i]);
            if (opts) {
                json_object_unref(opts);
            }
            fatal_err(err);
        }
        json_object_unref(opts);
    }
}

/*
 * -serial: one chardev "serialN" per port, in order (QEMU's rules: "none"
 * takes no port, "chardev:ID" uses an existing chardev); the machine
 * puts a UART on each (serial_hd()).
 */
static void create_serials(Options *o)
{
    unsigned ports = 0;

    for (guint i = 0; i < o->serials->len; i++) {
        const char *spec = o->serials->pdata[i];
        g_autofree char *label = NULL;
        Error *err = NULL;
        Chardev *chr;

        if (!strcmp(spec, "none")) {
            continue;
        }
        if (g_str_has_prefix(spec, "chardev:")) {
            chr = qemu_chr_find(spec + strlen("chardev:"));
            if (!chr) {
                option_error("-serial", "chardev \"%s\" not found",
                             spec + strlen("chardev:"));
            }
        } else {
            label = g_strdup_printf("serial%u", ports);
            chr = qemu_chr_new(label, spec, &err);
        }
        if (!chr || !serial_hd_add(chr, &err)) {
            error_prepend(&err, "-serial %s: ", spec);
            fatal_err(err);
        }
        ports++;
    }
}

static void create_monitors(Options *o)
{
    Error *err = NULL;

    for (guint i = 0; i < o->qmps->len; i++) {
        const char *spec = (const char *)o->qmps->pdata[i] + 2;
        bool pretty = ((char *)o->qmps->pdata[i])[0] == 'P';
        g_autofree char *label = g_strdup_printf("compat_monitor%u", i);
        Chardev *chr = qemu_chr_new(label, spec, &err);

        if (!chr || !monitor_new_qmp(chr, pretty, &err)) {
            error_prepend(&err, "-qmp %s: ", spec);
            fatal_err(err);
        }
    }
    for (guint i = 0; i < o->mons->len; i++) {
        const char *arg = o->mons->pdata[i];
        JsonObject *opts = keyval_parse(arg, "chardev", NULL, &err);
        const char *id, *mode = "readline";
        bool pretty = false;
        Chardev *chr;

        if (!opts) {
            error_prepend(&err, "-mon %s: ", arg);
            fatal_err(err);
        }
        if (!json_object_has_member(opts, "chardev")) {
            option_error("-mon", "Parameter 'chardev' is missing");
        }
        id = json_object_get_string_member(opts, "chardev");
        if (json_object_has_member(opts, "mode")) {
            mode = json_object_get_string_member(opts, "mode");
        }
        if (strcmp(mode, "control")) {
            option_error("-mon", "mode '%s' is not supported: viommu has "
                         "only QMP monitors (mode=control)", mode);
        }
        if (json_object_has_member(opts, "pretty") &&
            !qapi_bool_parse("pretty",
                             json_object_get_string_member(opts, "pretty"),
                             &pretty, &err)) {
            fatal_err(err);
        }
        chr = qemu_chr_find(id);
        if (!chr) {
            option_error("-mon", "chardev \"%s\" not found", id);
        }
        if (!monitor_new_qmp(chr, pretty, &err)) {
            fatal_err(err);
        }
        json_object_unref(opts);
    }
}

static void create_objects(Options *o)
{
    for (guint i = 0; i < o->objects->len; i++) {
        Error *err = NULL;
        bool help = false;

        if (!user_creatable_add_from_str(o->objects->pdata[i], &help, &err)) {
            error_prepend(&err, "-object %s: ", (char *)o->objects->pdata[i]);
            fatal_err(err);
        }
        if (help) {
            exit(0);
        }
    }
}

/*
 * -machine [type=]NAME[,accel=A][,prop=value...]: several -machine options
 * merge, later ones winning, as in QEMU.
 */
static JsonObject *machine_options(Options *o)
{
    JsonObject *merged = json_object_new();

    for (guint i = 0; i < o->machine_opts->len; i++) {
        Error *err = NULL;
        bool help = false;
        JsonObject *opts = keyval_parse(o->machine_opts->pdata[i], "type",
                                        &help, &err);
        GList *members;

        if (!opts) {
            error_prepend(&err, "-machine %s: ",
                          (char *)o->machine_opts->pdata[i]);
            fatal_err(err);
        }
        if (help) {
            machine_print_list();
            exit(0);
        }
        members = json_object_get_members(opts);
        for (GList *l = members; l; l = l->next) {
            json_object_set_member(merged, l->data,
                json_node_copy(json_object_get_member(opts, l->data)));
        }
        g_list_free(members);
        json_object_unref(opts);
    }
    return merged;
}

static uint64_t parse_mem(const char *arg)
{
    Error *err = NULL;
    JsonObject *opts = keyval_parse(arg, "size", NULL, &err);
    const char *size;
    uint64_t bytes;
    int ret;

    if (!opts) {
        fatal_err(err);
    }
    if (!json_object_has_member(opts, "size")) {
        option_error("-m", "missing 'size' option value");
    }
    size = json_object_get_string_member(opts, "size");
    /* A bare number is MiB, as in QEMU. */
    ret = qemu_strtosz_MiB(size, NULL, &bytes);
    json_object_unref(opts);
    if (ret < 0 || bytes == 0) {
        option_error("-m", "Parameter 'size' expects a non-negative number "
                     "below 2^64");
    }
    if (bytes & 0x1fffff) {
        /* Keep RAM a multiple of 2 MiB so large pages can back it. */
        bytes = (bytes + 0x1fffff) & ~(uint64_t)0x1fffff;
    }
    if (bytes > (UINT64_C(1) << 40)) {
        option_error("-m", "ram size too large");
    }
    return bytes;
}

/*
 * -smp [cpus=]N[,maxcpus=M][,sockets=S][,dies=D][,cores=C][,threads=T],
 * with QEMU's rules: a missing cpus is maxcpus (or the topology product),
 * a missing maxcpus is the product (or cpus), missing sockets fill up to
 * maxcpus, other missing levels are 1; the product must equal maxcpus.
 * No vCPU exists yet: the counts are what the machine describes (MADT).
 */
static uint64_t smp_mul(uint64_t a, uint64_t b)
{
    uint64_t r;

    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static void parse_smp(const char *arg, MachineState *ms, MachineClass *mc)
{
    enum { CPUS, MAXCPUS, SOCKETS, DIES, CORES, THREADS, NKEYS };
    static const char *const keys[NKEYS] = {
        "cpus", "maxcpus", "sockets", "dies", "cores", "threads",
    };
    uint64_t v[NKEYS] = { 0 };
    bool has[NKEYS] = { false };
    Error *err = NULL;
    JsonObject *opts = keyval_parse(arg, "cpus", NULL, &err);
    GList *members;
    uint64_t below_sockets;

    if (!opts) {
        error_prepend(&err, "-smp %s: ", arg);
        fatal_err(err);
    }
    members = json_object_get_members(opts);
    for (GList *l = members; l; l = l->next) {
        const char *key = l->data, *val;
        int64_t n;
        int k = 0;

        while (k < NKEYS && strcmp(keys[k], key)) {
            k++;
        }
        if (k == NKEYS) {
            option_error("-smp", "Invalid parameter '%s'", key);
        }
        val = json_object_get_string_member(opts, key);
        if (qemu_strtoi64(val, NULL, 10, &n) < 0 || n < 0) {
            option_error("-smp", "Parameter '%s' expects an integer", key);
        }
        if (n == 0) {
            option_error("-smp", "Invalid CPU topology: CPU topology "
                         "parameters must be greater than zero");
        }
        v[k] = n;
        has[k] = true;
    }
    g_list_free(members);
    json_object_unref(opts);

    for (int k = DIES; k < NKEYS; k++) {
        v[k] = has[k] ? v[k] : 1;
    }
    below_sockets = smp_mul(smp_mul(v[DIES], v[CORES]), v[THREADS]);
    if (!has[MAXCPUS]) {
        v[MAXCPUS] = has[SOCKETS] ? smp_mul(v[SOCKETS], below_sockets) :
                     has[CPUS] ? v[CPUS] : below_sockets;
    }
    if (!has[CPUS]) {
        v[CPUS] = v[MAXCPUS];
    }
    if (!has[SOCKETS]) {
        v[SOCKETS] = v[MAXCPUS] / below_sockets +
                     !!(v[MAXCPUS] % below_sockets);
    }
    if (v[MAXCPUS] == UINT64_MAX) {             /* a product overflowed */
        option_error("-smp", "Invalid CPU topology: more than 2^64 CPUs");
    }
    if (smp_mul(v[SOCKETS], below_sockets) != v[MAXCPUS]) {
        option_error("-smp", "Invalid CPU topology: product of the hierarchy "
                     "must match maxcpus: sockets (%" PRIu64 ") * dies (%"
                     PRIu64 ") * cores (%" PRIu64 ") * threads (%" PRIu64
                     ") != maxcpus (%" PRIu64 ")", v[SOCKETS], v[DIES],
                     v[CORES], v[THREADS], v[MAXCPUS]);
    }
    if (v[MAXCPUS] < v[CPUS]) {
        option_error("-smp", "Invalid CPU topology: maxcpus must be equal to "
                     "or greater than smp: maxcpus (%" PRIu64 ") < smp_cpus (%"
                     PRIu64 ")", v[MAXCPUS], v[CPUS]);
    }
    if (v[MAXCPUS] > (uint64_t)mc->max_cpus) {
        option_error("-smp", "Invalid SMP CPUs %" PRIu64 ". The max CPUs "
                     "supported by machine '%s' is %d", v[MAXCPUS], mc->name,
                     mc->max_cpus);
    }
    ms->smp_cpus = v[CPUS];
    ms->smp_max_cpus = v[MAXCPUS];
}

static MachineState *create_machine(Options *o, const char **accel)
{
    JsonObject *opts = machine_options(o);
    MachineClass *mc;
    MachineState *ms;
    Error *err = NULL;
    GList *members;

    if (json_object_has_member(opts, "type")) {
        const char *type = json_object_get_string_member(opts, "type");

        if (!strcmp(type, "help") || !strcmp(type, "?")) {
            machine_print_list();
            exit(0);
        }
        mc = machine_class_find(type);
        if (!mc) {
            option_error("-machine", "unsupported machine type: \"%s\"", type);
        }
    } else {
        mc = machine_class_default();
        if (!mc) {
            option_error("-machine", "No machine specified, and there is no "
                         "default");
        }
    }
    if (json_object_has_member(opts, "accel")) {
        *accel = g_strdup(json_object_get_string_member(opts, "accel"));
    }
    ms = machine_create(mc, &error_abort);
    if (o->mem) {
        ms->ram_size = parse_mem(o->mem);
    }
    ms->smp_cpus = ms->smp_max_cpus = 1;
    if (o->smp) {
        parse_smp(o->smp, ms, mc);
    }
    members = json_object_get_members(opts);
    for (GList *l = members; l; l = l->next) {
        const char *key = l->data;

        if (!strcmp(key, "type") || !strcmp(key, "accel")) {
            continue;
        }
        if (!object_property_parse(OBJECT(ms), key,
                                   json_object_get_string_member(opts, key),
                                   &err)) {
            error_prepend(&err, "-machine: ");
            fatal_err(err);
        }
    }
    g_list_free(members);
    json_object_unref(opts);
    return ms;
}

static void create_devices(Options *o)
{
    for (guint i = 0; i < o->devices->len; i++) {
        Error *err = NULL;
        bool help = false;

        if (!qdev_device_add_from_str(o->devices->pdata[i], &help, &err)) {
            error_prepend(&err, "-device %s: ", (char *)o->devices->pdata[i]);
            fatal_err(err);
        }
        if (help) {
            exit(0);
        }
    }
}

static gboolean on_sigterm(gpointer data)
{
    qemu_system_killed(GPOINTER_TO_INT(data), 0);
    return G_SOURCE_CONTINUE;
}

static void options_free(Options *o)
{
    g_ptr_array_free(o->chardevs, true);
    g_ptr_array_free(o->serials, true);
    g_ptr_array_free(o->mons, true);
    g_ptr_array_free(o->qmps, true);
    g_ptr_array_free(o->objects, true);
    g_ptr_array_free(o->devices, true);
    g_ptr_array_free(o->machine_opts, true);
    g_ptr_array_free(o->accels, true);
    g_free(o->mem);
    g_free(o->qtest);
    g_free(o->qtest_log);
    g_free(o->name);
    g_free(o->log_mask);
    g_free(o->smp);
    g_free(o->kernel);
    g_free(o->cpu);
    g_free(o->initrd);
    g_free(o->append);
}

/*
 * The accelerator: the -accel options in order, or -machine accel=A[:B...],
 * or qtest.  As in QEMU, one that fails to initialise is reported and the
 * next one tried ("falling back to B"); the last failure is fatal.
 */
static void init_accel(Options *o, MachineState *ms, const char *machine_accel)
{
    g_auto(GStrv) names = NULL;
    Error *err = NULL;

    if (o->accels->len && machine_accel) {
        error_report("The -accel and \"-machine accel=\" options are "
                     "incompatible");
        exit(1);
    }
    if (o->accels->len) {
        names = g_new0(char *, o->accels->len + 1);
        for (guint i = 0; i < o->accels->len; i++) {
            names[i] = g_strdup(o->accels->pdata[i]);
        }
    } else {
        names = g_strsplit(machine_accel ? machine_accel : "qtest", ":", 0);
    }
    for (guint i = 0; names[i]; i++) {
        if (accel_init(names[i], ms, o->qtest, o->qtest_log, &err)) {
            return;
        }
        if (!names[i + 1]) {
            fatal_err(err);
        }
        error_report_err(err);
        err = NULL;
        error_report("falling back to %s", names[i + 1]);
    }
    error_report("No accelerator selected");
    exit(1);
}

int viommu_main(int argc, char **argv)
{
    Options o = {
        .chardevs = g_ptr_array_new_with_free_func(g_free),
        .serials = g_ptr_array_new_with_free_func(g_free),
        .mons = g_ptr_array_new_with_free_func(g_free),
        .qmps = g_ptr_array_new_with_free_func(g_free),
        .objects = g_ptr_array_new_with_free_func(g_free),
        .devices = g_ptr_array_new_with_free_func(g_free),
        .machine_opts = g_ptr_array_new_with_free_func(g_free),
        .accels = g_ptr_array_new_with_free_func(g_free),
    };
    const char *machine_accel = NULL;
    MachineState *ms;
    Error *err = NULL;
    int status;

    error_set_progname(argv[0]);
    signal(SIGPIPE, SIG_IGN);
    parse_options(argc, argv, &o);
    if (o.log_mask) {
        log_set_mask(o.log_mask);
    }
    if (o.exit_with_parent) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
    }

    main_loop_init();
    /* Ours until exit, except while the main loop polls (vCPU threads). */
    bql_lock();
    memory_init_system();
    /* The containers QMP clients expect to exist from the start. */
    object_get_objects_root();
    object_get_container("chardevs");
    qmp_init_marshal(qmp_commands());
    qmp_register_builtin_commands(qmp_commands());
    monitor_init_globals();
    g_unix_signal_add(SIGTERM, on_sigterm, GINT_TO_POINTER(SIGTERM));
    g_unix_signal_add(SIGINT, on_sigterm, GINT_TO_POINTER(SIGINT));
    g_unix_signal_add(SIGHUP, on_sigterm, GINT_TO_POINTER(SIGHUP));

    /* "help" queries need no chardevs or machine. */
    for (guint i = 0; i < o.devices->len; i++) {
        bool help = false;

        if (qdev_device_help(o.devices->pdata[i], &help) && help) {
            exit(0);
        }
    }
    for (guint i = 0; i < o.accels->len; i++) {
        const char *a = o.accels->pdata[i];

        if (!strcmp(a, "help") || !strcmp(a, "?")) {
            accel_print_list();
            exit(0);
        }
    }

    create_chardevs(&o);
    create_serials(&o);
    create_monitors(&o);
    create_objects(&o);

    if (o.cpu && (!strcmp(o.cpu, "help") || !strcmp(o.cpu, "?"))) {
        x86_cpu_print_list();
        exit(0);
    }
    if (o.cpu) {
        X86CPUSpec cpu_spec;

        if (!x86_cpu_spec_parse(o.cpu, &cpu_spec, &err)) {
            fatal_err(err);
        }
    }

    ms = create_machine(&o, &machine_accel);
    /* QEMU's checks and messages; the files are read by the board. */
    if (!o.kernel && o.initrd) {
        error_report("-initrd only allowed with -kernel option");
        exit(1);
    }
    if (!o.kernel && o.append) {
        error_report("-append only allowed with -kernel option");
        exit(1);
    }
    ms->kernel_filename = o.kernel;
    ms->initrd_filename = o.initrd;
    ms->kernel_cmdline = o.append;
    ms->cpu_model = o.cpu;
    init_accel(&o, ms, machine_accel);
    if (!machine_init_board(ms, &err)) {
        fatal_err(err);
    }
    create_devices(&o);
    ms->done = true;
    qemu_system_reset(SHUTDOWN_CAUSE_NONE);
    if (o.start_paused) {
        runstate_set(RUN_STATE_PRELAUNCH);
    } else {
        vm_start();
    }

    while (!main_loop_should_exit(&status)) {
        main_loop_wait(true);
    }

    accel_cleanup();
    monitor_cleanup();
    machine_destroy();
    user_creatable_cleanup();
    options_free(&o);
    g_free((char *)machine_accel);
    return status;
}
