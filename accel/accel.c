/*
 * Accelerator selection.
 */
#include <stdio.h>
#include <string.h>

#include "system/accel.h"
#include "hw/boards.h"

static AccelClass *current_accel;

static AccelClass *accel_find(const char *name)
{
    g_autofree char *type = g_strconcat(name, ACCEL_CLASS_SUFFIX, NULL);
    ObjectClass *klass = object_class_by_name(type);

    return klass ? (AccelClass *)object_class_dynamic_cast(klass, TYPE_ACCEL)
                 : NULL;
}

void accel_print_list(void)
{
    GSList *list = object_class_get_list(TYPE_ACCEL, false);

    printf("Accelerators supported in viommu binary:\n");
    for (GSList *l = list; l; l = l->next) {
        printf("%s\n", ((AccelClass *)l->data)->name);
    }
    g_slist_free(list);
}

bool accel_init(const char *name, MachineState *ms, const char *qtest_spec,
                const char *qtest_log, Error **errp)
{
    AccelClass *ac = accel_find(name);

    if (!ac) {
        error_setg(errp, "invalid accelerator %s", name);
        return false;
    }
    if (ac->available && !ac->available()) {
        error_setg(errp, "accelerator %s is not available on this host",
                   name);
        return false;
    }
    if (qtest_spec && strcmp(name, "qtest")) {
        error_setg(errp, "-qtest needs -accel qtest");
        return false;
    }
    if (ac->init_machine && !ac->init_machine(ms, qtest_spec, qtest_log,
                                              errp)) {
        return false;
    }
    current_accel = ac;
    g_free(ms->accel);
    ms->accel = g_strdup(name);
    return true;
}

void accel_cleanup(void)
{
    if (current_accel && current_accel->cleanup) {
        current_accel->cleanup();
    }
    current_accel = NULL;
}

const char *current_accel_name(void)
{
    return current_accel ? current_accel->name : NULL;
}

bool qtest_enabled(void)
{
    return current_accel && !strcmp(current_accel->name, "qtest");
}

static const TypeInfo accel_types[] = {
    {
        .name = TYPE_ACCEL,
        .parent = TYPE_OBJECT,
        .abstract = true,
        .class_size = sizeof(AccelClass),
    },
};

DEFINE_TYPES(accel_types)
