/*
 * -cpu: the CPU model and its feature switches, and the CPUID filter that
 * applies them to what KVM supports (include/system/kvm.h, docs/kvm.md).
 *
 * Feature names are QEMU's (target/i386 feature_word_info), with its
 * aliases; '_' and '-' are the same character in a name, as in QEMU.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "system/kvm.h"

typedef struct X86FeatureName {
    const char *name;
    const char *alias;      /* NULL or a second accepted name */
    uint32_t leaf, subleaf;
    X86CPUIDReg reg;
    uint8_t bit;
} X86FeatureName;

/* Intel SDM 2, CPUID; AMD APM 3, E.4.2 for leaf 0x80000001. */
static const X86FeatureName x86_features[] = {
    { "fpu", NULL, 1, 0, X86_EDX, 0 },
    { "vme", NULL, 1, 0, X86_EDX, 1 },
    { "de", NULL, 1, 0, X86_EDX, 2 },
    { "pse", NULL, 1, 0, X86_EDX, 3 },
    { "tsc", NULL, 1, 0, X86_EDX, 4 },
    { "msr", NULL, 1, 0, X86_EDX, 5 },
    { "pae", NULL, 1, 0, X86_EDX, 6 },
    { "mce", NULL, 1, 0, X86_EDX, 7 },
    { "cx8", NULL, 1, 0, X86_EDX, 8 },
    { "apic", NULL, 1, 0, X86_EDX, 9 },
    { "sep", NULL, 1, 0, X86_EDX, 11 },
    { "mtrr", NULL, 1, 0, X86_EDX, 12 },
    { "pge", NULL, 1, 0, X86_EDX, 13 },
    { "mca", NULL, 1, 0, X86_EDX, 14 },
    { "cmov", NULL, 1, 0, X86_EDX, 15 },
    { "pat", NULL, 1, 0, X86_EDX, 16 },
    { "pse36", NULL, 1, 0, X86_EDX, 17 },
    { "clflush", NULL, 1, 0, X86_EDX, 19 },
    { "mmx", NULL, 1, 0, X86_EDX, 23 },
    { "fxsr", NULL, 1, 0, X86_EDX, 24 },
    { "sse", NULL, 1, 0, X86_EDX, 25 },
    { "sse2", NULL, 1, 0, X86_EDX, 26 },
    { "ss", NULL, 1, 0, X86_EDX, 27 },
    { "ht", NULL, 1, 0, X86_EDX, 28 },
    { "pni", "sse3", 1, 0, X86_ECX, 0 },
    { "pclmulqdq", "pclmuldq", 1, 0, X86_ECX, 1 },
    { "monitor", NULL, 1, 0, X86_ECX, 3 },
    { "vmx", NULL, 1, 0, X86_ECX, 5 },
    { "ssse3", NULL, 1, 0, X86_ECX, 9 },
    { "fma", NULL, 1, 0, X86_ECX, 12 },
    { "cx16", NULL, 1, 0, X86_ECX, 13 },
    { "pcid", NULL, 1, 0, X86_ECX, 17 },
    { "sse4.1", "sse4-1", 1, 0, X86_ECX, 19 },
    { "sse4.2", "sse4-2", 1, 0, X86_ECX, 20 },
    { "x2apic", NULL, 1, 0, X86_ECX, 21 },
    { "movbe", NULL, 1, 0, X86_ECX, 22 },
    { "popcnt", NULL, 1, 0, X86_ECX, 23 },
    { "tsc-deadline", NULL, 1, 0, X86_ECX, 24 },
    { "aes", NULL, 1, 0, X86_ECX, 25 },
    { "xsave", NULL, 1, 0, X86_ECX, 26 },
    { "avx", NULL, 1, 0, X86_ECX, 28 },
    { "f16c", NULL, 1, 0, X86_ECX, 29 },
    { "rdrand", NULL, 1, 0, X86_ECX, 30 },
    { "hypervisor", NULL, 1, 0, X86_ECX, 31 },
    { "fsgsbase", NULL, 7, 0, X86_EBX, 0 },
    { "bmi1", NULL, 7, 0, X86_EBX, 3 },
    { "hle", NULL, 7, 0, X86_EBX, 4 },
    { "avx2", NULL, 7, 0, X86_EBX, 5 },
    { "smep", NULL, 7, 0, X86_EBX, 7 },
    { "bmi2", NULL, 7, 0, X86_EBX, 8 },
    { "erms", NULL, 7, 0, X86_EBX, 9 },
    { "invpcid", NULL, 7, 0, X86_EBX, 10 },
    { "rtm", NULL, 7, 0, X86_EBX, 11 },
    { "avx512f", NULL, 7, 0, X86_EBX, 16 },
    { "rdseed", NULL, 7, 0, X86_EBX, 18 },
    { "adx", NULL, 7, 0, X86_EBX, 19 },
    { "smap", NULL, 7, 0, X86_EBX, 20 },
    { "clflushopt", NULL, 7, 0, X86_EBX, 23 },
    { "clwb", NULL, 7, 0, X86_EBX, 24 },
    { "sha-ni", NULL, 7, 0, X86_EBX, 29 },
    { "umip", NULL, 7, 0, X86_ECX, 2 },
    { "pku", NULL, 7, 0, X86_ECX, 3 },
    { "la57", NULL, 7, 0, X86_ECX, 16 },
    { "rdpid", NULL, 7, 0, X86_ECX, 22 },
    { "syscall", NULL, 0x80000001, 0, X86_EDX, 11 },
    { "nx", "xd", 0x80000001, 0, X86_EDX, 20 },
    { "pdpe1gb", NULL, 0x80000001, 0, X86_EDX, 26 },
    { "rdtscp", NULL, 0x80000001, 0, X86_EDX, 27 },
    { "lm", "i64", 0x80000001, 0, X86_EDX, 29 },
    { "lahf-lm", NULL, 0x80000001, 0, X86_ECX, 0 },
    { "svm", NULL, 0x80000001, 0, X86_ECX, 2 },
    { "abm", NULL, 0x80000001, 0, X86_ECX, 5 },
    { "sse4a", NULL, 0x80000001, 0, X86_ECX, 6 },
    { "3dnowprefetch", NULL, 0x80000001, 0, X86_ECX, 8 },
};

/*
 * The qemu64 baseline (QEMU's qemu64 definition plus x2apic, which QEMU
 * turns on for every model under KVM).  A register not listed here keeps
 * what the host supports; these are replaced by host & mask.
 */
typedef struct X86BaselineMask {
    uint32_t leaf;
    X86CPUIDReg reg;
    uint32_t mask;
} X86BaselineMask;

#define BIT(n) (1u << (n))
static const X86BaselineMask qemu64_masks[] = {
    /* fpu de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36
     * clflush mmx fxsr sse sse2 */
    { 1, X86_EDX, BIT(0) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) |
                  BIT(7) | BIT(8) | BIT(9) | BIT(11) | BIT(12) | BIT(13) |
                  BIT(14) | BIT(15) | BIT(16) | BIT(17) | BIT(19) |
                  BIT(23) | BIT(24) | BIT(25) | BIT(26) },
    /* pni cx16 x2apic hypervisor */
    { 1, X86_ECX, BIT(0) | BIT(13) | BIT(21) | BIT(31) },
    { 7, X86_EBX, 0 },
    { 7, X86_ECX, 0 },
    { 7, X86_EDX, 0 },
    /* syscall nx lm */
    { 0x80000001, X86_EDX, BIT(11) | BIT(20) | BIT(29) },
    /* lahf-lm svm */
    { 0x80000001, X86_ECX, BIT(0) | BIT(2) },
};

static const char *const x86_reg_names[] = { "EAX", "EBX", "ECX", "EDX" };

/* Names compare with '_' and '-' equal, as QEMU does. */
static bool x86_feature_name_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char ca = *a == '_' ? '-' : *a, cb = *b == '_' ? '-' : *b;

        if (ca != cb) {
            return false;
        }
    }
    return *a == *b;
}

static const X86FeatureName *x86_feature_find(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(x86_features); i++) {
        const X86FeatureName *f = &x86_features[i];

        if (x86_feature_name_eq(name, f->name) ||
            (f->alias && x86_feature_name_eq(name, f->alias))) {
            return f;
        }
    }
    return NULL;
}

static bool x86_parse_bool(const char *val, bool *on)
{
    if (!strcmp(val, "on") || !strcmp(val, "true") || !strcmp(val, "yes")) {
        *on = true;
        return true;
    }
    if (!strcmp(val, "off") || !strcmp(val, "false") || !strcmp(val, "no")) {
        *on = false;
        return true;
    }
    return false;
}

bool x86_cpu_spec_parse(const char *str, X86CPUSpec *spec, Error **errp)
{
    g_auto(GStrv) parts = NULL;
    const char *model_name;

    memset(spec, 0, sizeof(*spec));
    spec->model = X86_CPU_MODEL_QEMU64;
    if (!str) {
        return true;
    }
    parts = g_strsplit(str, ",", -1);
    model_name = parts[0];
    if (!strcmp(model_name, "host") || !strcmp(model_name, "max")) {
        spec->model = X86_CPU_MODEL_HOST;
    } else if (!strcmp(model_name, "qemu64")) {
        spec->model = X86_CPU_MODEL_QEMU64;
    } else {
        error_setg(errp, "unable to find CPU model '%s'", model_name);
        return false;
    }
    for (unsigned i = 1; parts[i]; i++) {
        const char *item = parts[i];
        g_autofree char *name = NULL;
        const char *val = "on";
        const X86FeatureName *f;
        X86CPUSwitch *sw;
        bool on;

        if (!*item) {
            continue;
        }
        if (item[0] == '+' || item[0] == '-') {
            name = g_strdup(item + 1);
            val = item[0] == '+' ? "on" : "off";
        } else {
            const char *eq = strchr(item, '=');

            name = eq ? g_strndup(item, eq - item) : g_strdup(item);
            val = eq ? eq + 1 : "on";
        }
        f = x86_feature_find(name);
        if (!f) {
            error_setg(errp, "can't apply global %s-x86_64-cpu.%s=%s: "
                       "Property '%s-x86_64-cpu.%s' not found", model_name,
                       name, val, model_name, name);
            return false;
        }
        if (!x86_parse_bool(val, &on)) {
            error_setg(errp, "can't apply global %s-x86_64-cpu.%s=%s: "
                       "Parameter '%s' expects 'on' or 'off'", model_name,
                       name, val, f->name);
            return false;
        }
        if (spec->nr_switches == X86_CPU_MAX_SWITCHES) {
            error_setg(errp, "-cpu %s: more than %d feature switches", str,
                       X86_CPU_MAX_SWITCHES);
            return false;
        }
        sw = &spec->switches[spec->nr_switches++];
        *sw = (X86CPUSwitch){
            .leaf = f->leaf, .subleaf = f->subleaf, .reg = f->reg,
            .bit = f->bit, .on = on, .name = f->name,
        };
    }
    return true;
}

static uint32_t *x86_entry_reg(X86CPUIDEntry *e, X86CPUIDReg reg)
{
    switch (reg) {
    case X86_EAX:
        return &e->eax;
    case X86_EBX:
        return &e->ebx;
    case X86_ECX:
        return &e->ecx;
    default:
        return &e->edx;
    }
}

static X86CPUIDEntry *x86_entry_find(X86CPUIDEntry *entries, unsigned nent,
                                     uint32_t leaf, uint32_t subleaf)
{
    for (unsigned i = 0; i < nent; i++) {
        if (entries[i].function == leaf && entries[i].index == subleaf) {
            return &entries[i];
        }
    }
    return NULL;
}

void x86_cpu_filter_cpuid(const X86CPUSpec *spec, X86CPUIDEntry *entries,
                          unsigned nent)
{
    /* What the host offers, before the model narrows it. */
    g_autofree X86CPUIDEntry *host = g_memdup2(entries,
                                               nent * sizeof(*entries));

    if (spec->model == X86_CPU_MODEL_QEMU64) {
        for (size_t i = 0; i < G_N_ELEMENTS(qemu64_masks); i++) {
            const X86BaselineMask *m = &qemu64_masks[i];
            X86CPUIDEntry *e = x86_entry_find(entries, nent, m->leaf, 0);

            if (e) {
                *x86_entry_reg(e, m->reg) &= m->mask;
            }
        }
    }
    for (unsigned i = 0; i < spec->nr_switches; i++) {
        const X86CPUSwitch *sw = &spec->switches[i];
        X86CPUIDEntry *e = x86_entry_find(entries, nent, sw->leaf,
                                          sw->subleaf);
        X86CPUIDEntry *h = x86_entry_find(host, nent, sw->leaf, sw->subleaf);
        uint32_t bit = 1u << sw->bit;

        if (!sw->on) {
            if (e) {
                *x86_entry_reg(e, sw->reg) &= ~bit;
            }
        } else if (e && h && (*x86_entry_reg(h, sw->reg) & bit)) {
            *x86_entry_reg(e, sw->reg) |= bit;
        } else {
            fprintf(stderr, "warning: host doesn't support requested "
                    "feature: CPUID.%02XH:%s.%s [bit %u]\n", sw->leaf,
                    x86_reg_names[sw->reg], sw->name, sw->bit);
        }
    }
}

void x86_cpu_print_list(void)
{
    printf("Available CPUs:\n");
    printf("x86 host                  all features KVM supports\n");
    printf("x86 max                   same as host\n");
    printf("x86 qemu64                QEMU Virtual CPU version 2.5+ "
           "(default)\n");
    printf("\nRecognized CPUID flags:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(x86_features); i++) {
        printf("  %s%s%s\n", x86_features[i].name,
               x86_features[i].alias ? " " : "",
               x86_features[i].alias ? x86_features[i].alias : "");
    }
}
