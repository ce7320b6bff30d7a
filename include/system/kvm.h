/*
 * The KVM accelerator (accel/kvm, docs/kvm.md) and the x86 CPU model
 * given with -cpu.
 *
 * -cpu is parsed and checked under every accelerator (so that a typo is an
 * error everywhere, as in QEMU); only KVM uses it, to filter the CPUID
 * that KVM supports before giving it to each vCPU.
 */
#ifndef SYSTEM_KVM_H
#define SYSTEM_KVM_H

#include <stdbool.h>
#include <stdint.h>

#include "qapi/error.h"

/* True when -accel kvm runs the guest. */
bool kvm_enabled(void);

/* CPUID register of a feature bit. */
typedef enum X86CPUIDReg { X86_EAX, X86_EBX, X86_ECX, X86_EDX } X86CPUIDReg;

typedef enum X86CPUModel {
    X86_CPU_MODEL_HOST,     /* "host" and "max": all KVM supports */
    X86_CPU_MODEL_QEMU64,   /* a small baseline: the default */
} X86CPUModel;

/* Largest number of +feat/-feat switches one -cpu may carry. */
#define X86_CPU_MAX_SWITCHES 64

/* One feature switch: the bit, and whether it is turned on or off. */
typedef struct X86CPUSwitch {
    uint32_t leaf, subleaf;
    X86CPUIDReg reg;
    uint8_t bit;
    bool on;
    const char *name;       /* canonical name, static */
} X86CPUSwitch;

typedef struct X86CPUSpec {
    X86CPUModel model;
    unsigned nr_switches;
    X86CPUSwitch switches[X86_CPU_MAX_SWITCHES];  /* in command-line order */
} X86CPUSpec;

/*
 * Parses "MODEL[,+feat|-feat|feat=on|off]..." (NULL: the default model).
 * Errors in QEMU's words: "unable to find CPU model 'x'", "can't apply
 * global qemu64-x86_64-cpu.x=on: Property 'qemu64-x86_64-cpu.x' not
 * found".
 */
bool x86_cpu_spec_parse(const char *str, X86CPUSpec *spec, Error **errp);

/* A CPUID entry as KVM_GET_SUPPORTED_CPUID returns it. */
typedef struct X86CPUIDEntry {
    uint32_t function, index, flags;
    uint32_t eax, ebx, ecx, edx;
} X86CPUIDEntry;

/*
 * Filters the host-supported CPUID entries in place by spec: the model's
 * baseline mask, then each switch in order.  A switch that turns on a bit
 * the host does not support leaves it off and warns on stderr, as QEMU
 * ("host doesn't support requested feature").
 */
void x86_cpu_filter_cpuid(const X86CPUSpec *spec, X86CPUIDEntry *entries,
                          unsigned nent);
/* Prints the models and the feature names (-cpu help). */
void x86_cpu_print_list(void);

#endif
