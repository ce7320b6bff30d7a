/*
 * Machines: the object at /machine that builds the board.
 *
 * A machine type "NAME-machine" is selected with -machine NAME (or its
 * alias).  init() creates RAM, buses and on-board devices; -device
 * devices are created after it.
 */
#ifndef HW_BOARDS_H
#define HW_BOARDS_H

#include "hw/qdev-core.h"

#define TYPE_MACHINE "machine"
#define TYPE_MACHINE_SUFFIX "-machine"

struct MemoryRegion;

typedef struct MachineState {
    Object parent_obj;
    uint64_t ram_size;
    struct MemoryRegion *ram;  /* all guest RAM, one host allocation */
    unsigned smp_cpus;         /* -smp cpus: CPUs present at start (>= 1) */
    unsigned smp_max_cpus;     /* -smp maxcpus: possible CPUs (>= smp_cpus) */
    char *accel;               /* "qtest", "kvm", ... */
    /* -kernel, -initrd, -append (QEMU's names); NULL when absent.  The
     * strings belong to the command line (system/vl.c), which outlives the
     * machine.  On x86 they are loaded at every reset (docs/boot.md). */
    const char *kernel_filename;
    const char *initrd_filename;
    const char *kernel_cmdline;
    /* -cpu (include/system/kvm.h syntax, checked at start-up); NULL: the
     * default model.  Belongs to the command line, as the above. */
    const char *cpu_model;
    bool done;                 /* start-up finished: later plugs are hotplug */
} MachineState;

typedef struct MachineClass {
    ObjectClass parent_class;
    const char *name;          /* -machine NAME */
    const char *alias;
    const char *desc;
    bool is_default;
    int max_cpus;
    uint64_t default_ram_size;
    /* The bus -device puts devices of this type on when bus= is absent. */
    const char *default_bus_type;
    bool (*init)(MachineState *ms, Error **errp);
    void (*reset)(MachineState *ms);
    HotplugHandler *(*get_hotplug_handler)(MachineState *ms,
                                           DeviceState *dev);
    /* The bus new user devices of bus_type go on by default. */
    BusState *(*default_bus)(MachineState *ms, const char *bus_type);
} MachineClass;

DECLARE_OBJ_CHECKERS(MachineState, MachineClass, MACHINE, TYPE_MACHINE)

/* /machine, or NULL before it exists. */
Object *qdev_get_machine(void);
/* /machine, or the root when there is no machine (unit tests). */
Object *qdev_get_machine_or_root(void);
MachineState *current_machine_get(void);
/* By name or alias; NULL if unknown. */
MachineClass *machine_class_find(const char *name);
MachineClass *machine_class_default(void);
/* Creates the machine at /machine (not yet initialised). */
MachineState *machine_create(MachineClass *mc, Error **errp);
bool machine_init_board(MachineState *ms, Error **errp);
/* Resets the machine and every device on it. */
void machine_reset(MachineState *ms);
void machine_print_list(void);
/* Called at exit: tears the machine down. */
void machine_destroy(void);

#endif
