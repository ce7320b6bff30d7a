/*
 * The machine object and the "none" machine.
 */
#include <stdio.h>
#include <string.h>

#include "hw/boards.h"
#include "system/memory.h"
#include "system/reset.h"

static MachineState *current_machine;

Object *qdev_get_machine(void)
{
    return object_resolve_path_component(object_get_root(), "machine");
}

Object *qdev_get_machine_or_root(void)
{
    Object *machine = qdev_get_machine();

    return machine ? machine : object_get_root();
}

MachineState *current_machine_get(void)
{
    return current_machine;
}

MachineClass *machine_class_find(const char *name)
{
    GSList *list = object_class_get_list(TYPE_MACHINE, false);
    MachineClass *found = NULL;

    for (GSList *l = list; l; l = l->next) {
        MachineClass *mc = l->data;

        if (!strcmp(mc->name, name) || (mc->alias && !strcmp(mc->alias, name))) {
            found = mc;
            break;
        }
    }
    g_slist_free(list);
    return found;
}

MachineClass *machine_class_default(void)
{
    GSList *list = object_class_get_list(TYPE_MACHINE, false);
    MachineClass *found = NULL;

    for (GSList *l = list; l; l = l->next) {
        if (((MachineClass *)l->data)->is_default) {
            found = l->data;
        }
    }
    g_slist_free(list);
    return found;
}

void machine_print_list(void)
{
    GSList *list = object_class_get_list(TYPE_MACHINE, false);

    printf("Supported machines are:\n");
    for (GSList *l = list; l; l = l->next) {
        MachineClass *mc = l->data;

        if (mc->alias) {
            printf("%-20s %s (alias of %s)\n", mc->alias, mc->desc, mc->name);
        }
        printf("%-20s %s%s\n", mc->name, mc->desc,
               mc->is_default ? " (default)" : "");
    }
    g_slist_free(list);
}

MachineState *machine_create(MachineClass *mc, Error **errp)
{
    MachineState *ms = MACHINE(object_new_with_class(OBJECT_CLASS(mc)));

    object_property_add_child(object_get_root(), "machine", OBJECT(ms));
    object_unref(ms);
    container_get(OBJECT(ms), "peripheral");
    container_get(OBJECT(ms), "peripheral-anon");
    container_get(OBJECT(ms), "unattached");
    current_machine = ms;
    return ms;
}

bool machine_init_board(MachineState *ms, Error **errp)
{
    MachineClass *mc = MACHINE_GET_CLASS(ms);

    if (!ms->ram_size) {
        ms->ram_size = mc->default_ram_size;
    }
    return mc->init ? mc->init(ms, errp) : true;
}

void machine_reset(MachineState *ms)
{
    MachineClass *mc = MACHINE_GET_CLASS(ms);

    if (mc->reset) {
        mc->reset(ms);
    }
    qemu_devices_reset();
}

void machine_destroy(void)
{
    Object *machine = qdev_get_machine();

    if (machine) {
        object_unparent(machine);
    }
    current_machine = NULL;
}

static void machine_finalize(Object *obj)
{
    MachineState *ms = MACHINE(obj);

    if (ms->ram) {
        memory_region_del_subregion(get_system_memory(), ms->ram);
        memory_region_finalize(ms->ram);
        g_free(ms->ram);
    }
    g_free(ms->accel);
}

static char *machine_get_type(Object *obj, Error **errp)
{
    return g_strdup(object_get_typename(obj));
}

static void machine_class_init(ObjectClass *klass, const void *data)
{
    MachineClass *mc = (MachineClass *)klass;

    mc->max_cpus = 1;
    object_class_property_add_str(klass, "type", machine_get_type, NULL);
}

/* "none": no board at all; RAM at 0 if -m is given. */
static bool none_init(MachineState *ms, Error **errp)
{
    if (ms->ram_size) {
        ms->ram = g_new0(MemoryRegion, 1);
        if (!memory_region_init_ram(ms->ram, OBJECT(ms), "ram", ms->ram_size,
                                    errp)) {
            g_free(ms->ram);
            ms->ram = NULL;
            return false;
        }
        memory_region_add_subregion(get_system_memory(), 0, ms->ram);
    }
    return true;
}

static void none_class_init(ObjectClass *klass, const void *data)
{
    MachineClass *mc = (MachineClass *)klass;

    mc->name = "none";
    mc->desc = "empty machine";
    mc->init = none_init;
}

static const TypeInfo machine_types[] = {
    {
        .name = TYPE_MACHINE,
        .parent = TYPE_OBJECT,
        .instance_size = sizeof(MachineState),
        .instance_finalize = machine_finalize,
        .abstract = true,
        .class_size = sizeof(MachineClass),
        .class_init = machine_class_init,
    },
    {
        .name = "none" TYPE_MACHINE_SUFFIX,
        .parent = TYPE_MACHINE,
        .class_init = none_class_init,
    },
};

DEFINE_TYPES(machine_types)
