/*
 * Reset handlers and the device reset walk.
 */
#include <glib.h>

#include "system/reset.h"
#include "hw/boards.h"

typedef struct ResetEntry {
    QEMUResetHandler *func;
    void *opaque;
} ResetEntry;

static GList *reset_handlers;

void qemu_register_reset(QEMUResetHandler *func, void *opaque)
{
    ResetEntry *re = g_new0(ResetEntry, 1);

    re->func = func;
    re->opaque = opaque;
    reset_handlers = g_list_append(reset_handlers, re);
}

void qemu_unregister_reset(QEMUResetHandler *func, void *opaque)
{
    for (GList *l = reset_handlers; l; l = l->next) {
        ResetEntry *re = l->data;

        if (re->func == func && re->opaque == opaque) {
            reset_handlers = g_list_delete_link(reset_handlers, l);
            g_free(re);
            return;
        }
    }
}

/* Resets every realized device in the tree that is not on a bus (buses
 * reset their own devices through their parent device). */
static int reset_tree_device(Object *obj, void *opaque)
{
    DeviceState *dev = (DeviceState *)object_dynamic_cast(obj, TYPE_DEVICE);

    if (dev && dev->realized && !dev->parent_bus) {
        device_cold_reset(dev);
    }
    return 0;
}

void qemu_devices_reset(void)
{
    Object *machine = qdev_get_machine();
    GList *copy = g_list_copy(reset_handlers);

    for (GList *l = copy; l; l = l->next) {
        ResetEntry *re = l->data;

        re->func(re->opaque);
    }
    g_list_free(copy);
    if (machine) {
        object_child_foreach_recursive(machine, reset_tree_device, NULL);
    }
}
