/*
 * qdev: devices, buses, GPIOs and the hotplug-handler interface.
 */
#include <stdio.h>
#include <string.h>

#include "hw/qdev-core.h"
#include "hw/boards.h"
#include "qapi/qjson.h"

/* Hotplug handler interface */

bool hotplug_handler_pre_plug(HotplugHandler *h, DeviceState *dev,
                              Error **errp)
{
    HotplugHandlerClass *hc = HOTPLUG_HANDLER_GET_CLASS(h);

    return hc->pre_plug ? hc->pre_plug(h, dev, errp) : true;
}

bool hotplug_handler_plug(HotplugHandler *h, DeviceState *dev, Error **errp)
{
    HotplugHandlerClass *hc = HOTPLUG_HANDLER_GET_CLASS(h);

    return hc->plug ? hc->plug(h, dev, errp) : true;
}

bool hotplug_handler_unplug_request(HotplugHandler *h, DeviceState *dev,
                                    Error **errp)
{
    HotplugHandlerClass *hc = HOTPLUG_HANDLER_GET_CLASS(h);

    if (!hc->unplug_request) {
        error_setg(errp, "Device '%s' does not support unplugging",
                   object_get_typename(OBJECT(dev)));
        return false;
    }
    return hc->unplug_request(h, dev, errp);
}

bool hotplug_handler_unplug(HotplugHandler *h, DeviceState *dev,
                            Error **errp)
{
    HotplugHandlerClass *hc = HOTPLUG_HANDLER_GET_CLASS(h);

    return hc->unplug ? hc->unplug(h, dev, errp) : true;
}

/* Buses */

static void bus_add_child(BusState *bus, DeviceState *dev)
{
    bus->children = g_list_append(bus->children, dev);
    bus->num_children++;
    object_ref(dev);
    dev->parent_bus = bus;
    object_ref(bus);
}

static void bus_remove_child(BusState *bus, DeviceState *dev)
{
    GList *link = g_list_find(bus->children, dev);

    if (!link) {
        return;
    }
    bus->children = g_list_delete_link(bus->children, link);
    bus->num_children--;
    dev->parent_bus = NULL;
    object_unref(bus);
    object_unref(dev);
}

BusState *qbus_new(const char *type, DeviceState *parent, const char *name)
{
    BusState *bus = BUS(object_new(type));

    bus->parent = parent;
    bus->name = g_strdup(name);
    if (parent) {
        parent->child_buses = g_slist_append(parent->child_buses, bus);
        object_property_add_child(OBJECT(parent), name, OBJECT(bus));
        object_unref(bus);
    }
    return bus;
}

void qbus_set_hotplug_handler(BusState *bus, Object *handler)
{
    bus->hotplug_handler = handler;
}

bool qbus_is_hotpluggable(BusState *bus)
{
    return bus->hotplug_handler != NULL;
}

void qbus_reset_all(BusState *bus)
{
    for (GList *l = bus->children; l; l = l->next) {
        device_cold_reset(l->data);
    }
}

int qbus_walk(BusState *bus, int (*fn)(BusState *bus, void *opaque),
              void *opaque)
{
    int ret = fn(bus, opaque);

    for (GList *l = bus->children; l && !ret; l = l->next) {
        DeviceState *dev = l->data;

        for (GSList *b = dev->child_buses; b && !ret; b = b->next) {
            ret = qbus_walk(b->data, fn, opaque);
        }
    }
    return ret;
}

static void bus_finalize(Object *obj)
{
    BusState *bus = BUS(obj);

    g_free(bus->name);
}

/* Devices */

DeviceState *qdev_new(const char *type)
{
    return DEVICE(object_new(type));
}

const char *qdev_get_id(DeviceState *dev)
{
    return dev->id;
}

BusState *qdev_get_parent_bus(DeviceState *dev)
{
    return dev->parent_bus;
}

char *qdev_get_dev_path(DeviceState *dev)
{
    BusClass *bc;

    if (!dev->parent_bus) {
        return g_strdup(object_get_typename(OBJECT(dev)));
    }
    bc = BUS_GET_CLASS(dev->parent_bus);
    return bc->get_dev_path ? bc->get_dev_path(dev) :
                              g_strdup(object_get_typename(OBJECT(dev)));
}

HotplugHandler *qdev_get_hotplug_handler(DeviceState *dev)
{
    Object *machine = qdev_get_machine();
    MachineClass *mc;

    if (machine && object_dynamic_cast(machine, TYPE_MACHINE)) {
        mc = MACHINE_GET_CLASS(machine);
        if (mc->get_hotplug_handler) {
            HotplugHandler *h = mc->get_hotplug_handler(MACHINE(machine),
                                                        dev);
            if (h) {
                return h;
            }
        }
    }
    if (dev->parent_bus && dev->parent_bus->hotplug_handler) {
        return HOTPLUG_HANDLER(dev->parent_bus->hotplug_handler);
    }
    return NULL;
}

DeviceState *qdev_find_recursive(BusState *bus, const char *id)
{
    for (GList *l = bus->children; l; l = l->next) {
        DeviceState *dev = l->data;

        if (dev->id && !strcmp(dev->id, id)) {
            return dev;
        }
        for (GSList *b = dev->child_buses; b; b = b->next) {
            DeviceState *found = qdev_find_recursive(b->data, id);

            if (found) {
                return found;
            }
        }
    }
    return NULL;
}

static void device_reset_one(DeviceState *dev)
{
    DeviceClass *dc = DEVICE_GET_CLASS(dev);

    if (dc->reset) {
        dc->reset(dev);
    }
}

void device_cold_reset(DeviceState *dev)
{
    /* Children first, as a bus reset reaches the leaves before the
     * bridge that forwards it. */
    for (GSList *b = dev->child_buses; b; b = b->next) {
        qbus_reset_all(b->data);
    }
    device_reset_one(dev);
}

static bool device_set_realized(DeviceState *dev, bool value, Error **errp)
{
    DeviceClass *dc = DEVICE_GET_CLASS(dev);
    HotplugHandler *hotplug_ctrl;

    if (value == dev->realized) {
        return true;
    }
    if (!value) {
        for (GSList *b = dev->child_buses; b; b = b->next) {
            BusState *bus = b->data;

            /* Unrealize the children in reverse plug order. */
            for (GList *l = g_list_last(bus->children); l; l = l->prev) {
                qdev_unrealize(l->data);
            }
        }
        if (dc->unrealize) {
            dc->unrealize(dev);
        }
        dev->realized = false;
        return true;
    }

    hotplug_ctrl = qdev_get_hotplug_handler(dev);
    if (hotplug_ctrl && !hotplug_handler_pre_plug(hotplug_ctrl, dev, errp)) {
        return false;
    }
    if (dc->realize && !dc->realize(dev, errp)) {
        return false;
    }
    dev->realized = true;
    if (hotplug_ctrl && !hotplug_handler_plug(hotplug_ctrl, dev, errp)) {
        if (dc->unrealize) {
            dc->unrealize(dev);
        }
        dev->realized = false;
        return false;
    }
    if (dev->hotplugged) {
        /* A hotplugged device starts in its reset state. */
        device_cold_reset(dev);
    }
    return true;
}

bool qdev_realize(DeviceState *dev, BusState *bus, Error **errp)
{
    DeviceClass *dc = DEVICE_GET_CLASS(dev);
    bool added_to_tree = false;

    if (bus) {
        BusClass *bc = BUS_GET_CLASS(bus);

        if (bc->max_dev && bus->num_children >= bc->max_dev) {
            error_setg(errp, "Bus '%s' is full", bus->name);
            return false;
        }
        if (bc->check_address && !bc->check_address(bus, dev, errp)) {
            return false;
        }
        bus_add_child(bus, dev);
    } else if (dc->bus_type) {
        error_setg(errp, "Device '%s' needs a bus of type %s",
                   object_get_typename(OBJECT(dev)), dc->bus_type);
        return false;
    }
    if (!OBJECT(dev)->parent) {
        Object *unattached = container_get(qdev_get_machine_or_root(),
                                           "unattached");

        object_property_add_child(unattached, "device[*]", OBJECT(dev));
        added_to_tree = true;
    }
    if (!device_set_realized(dev, true, errp)) {
        if (added_to_tree) {
            object_unparent(OBJECT(dev));
        }
        if (bus) {
            bus_remove_child(bus, dev);
        }
        return false;
    }
    return true;
}

bool qdev_realize_and_unref(DeviceState *dev, BusState *bus, Error **errp)
{
    bool ok = qdev_realize(dev, bus, errp);

    object_unref(dev);
    return ok;
}

void qdev_unrealize(DeviceState *dev)
{
    device_set_realized(dev, false, NULL);
}

static void device_unparent(Object *obj)
{
    DeviceState *dev = DEVICE(obj);

    qdev_unrealize(dev);
    while (dev->child_buses) {
        BusState *bus = dev->child_buses->data;

        dev->child_buses = g_slist_remove(dev->child_buses, bus);
        while (bus->children) {
            DeviceState *child = bus->children->data;

            object_ref(child);
            object_unparent(OBJECT(child));
            /* Unparenting removes it from the bus; make sure. */
            bus_remove_child(bus, child);
            object_unref(child);
        }
        object_unparent(OBJECT(bus));
    }
    if (dev->parent_bus) {
        bus_remove_child(dev->parent_bus, dev);
    }
}

void qdev_unplug_and_unparent(DeviceState *dev)
{
    object_unparent(OBJECT(dev));
}

/* GPIOs */

static NamedGPIOList *gpio_list_get(DeviceState *dev, const char *name,
                                    bool create)
{
    for (GSList *l = dev->gpios; l; l = l->next) {
        NamedGPIOList *ngl = l->data;

        if (g_strcmp0(ngl->name, name) == 0) {
            return ngl;
        }
    }
    if (create) {
        NamedGPIOList *ngl = g_new0(NamedGPIOList, 1);

        ngl->name = g_strdup(name);
        dev->gpios = g_slist_append(dev->gpios, ngl);
        return ngl;
    }
    return NULL;
}

NamedGPIOList *qdev_get_named_gpio_list(DeviceState *dev, const char *name)
{
    return gpio_list_get(dev, name, false);
}

void qdev_init_gpio_in_named(DeviceState *dev, qemu_irq_handler handler,
                             const char *name, int n)
{
    NamedGPIOList *ngl = gpio_list_get(dev, name, true);

    ngl->in = g_renew(qemu_irq, ngl->in, ngl->num_in + n);
    for (int i = 0; i < n; i++) {
        ngl->in[ngl->num_in + i] = qemu_allocate_irq(handler, dev,
                                                     ngl->num_in + i);
    }
    ngl->num_in += n;
}

void qdev_init_gpio_in(DeviceState *dev, qemu_irq_handler handler, int n)
{
    qdev_init_gpio_in_named(dev, handler, NULL, n);
}

void qdev_init_gpio_out_named(DeviceState *dev, qemu_irq *pins,
                              const char *name, int n)
{
    NamedGPIOList *ngl = gpio_list_get(dev, name, true);

    ngl->out = g_renew(qemu_irq *, ngl->out, ngl->num_out + n);
    for (int i = 0; i < n; i++) {
        ngl->out[ngl->num_out + i] = &pins[i];
    }
    ngl->num_out += n;
}

void qdev_init_gpio_out(DeviceState *dev, qemu_irq *pins, int n)
{
    qdev_init_gpio_out_named(dev, pins, NULL, n);
}

qemu_irq qdev_get_gpio_in_named(DeviceState *dev, const char *name, int n)
{
    NamedGPIOList *ngl = gpio_list_get(dev, name, false);

    if (!ngl || n < 0 || n >= ngl->num_in) {
        fprintf(stderr, "qdev: %s has no input GPIO %s[%d]\n",
                object_get_typename(OBJECT(dev)), name ? name : "", n);
        abort();
    }
    return ngl->in[n];
}

qemu_irq qdev_get_gpio_in(DeviceState *dev, int n)
{
    return qdev_get_gpio_in_named(dev, NULL, n);
}

void qdev_connect_gpio_out_named(DeviceState *dev, const char *name, int n,
                                 qemu_irq irq)
{
    NamedGPIOList *ngl = gpio_list_get(dev, name, false);

    if (!ngl || n < 0 || n >= ngl->num_out) {
        fprintf(stderr, "qdev: %s has no output GPIO %s[%d]\n",
                object_get_typename(OBJECT(dev)), name ? name : "", n);
        abort();
    }
    *ngl->out[n] = irq;
}

void qdev_connect_gpio_out(DeviceState *dev, int n, qemu_irq irq)
{
    qdev_connect_gpio_out_named(dev, NULL, n, irq);
}

static void gpio_lists_free(DeviceState *dev)
{
    for (GSList *l = dev->gpios; l; l = l->next) {
        NamedGPIOList *ngl = l->data;

        for (int i = 0; i < ngl->num_in; i++) {
            qemu_free_irq(ngl->in[i]);
        }
        g_free(ngl->in);
        g_free(ngl->out);
        g_free(ngl->name);
        g_free(ngl);
    }
    g_slist_free(dev->gpios);
    dev->gpios = NULL;
}

/* QOM glue */

static bool device_get_realized(Object *obj, Error **errp)
{
    return DEVICE(obj)->realized;
}

static void device_set_realized_prop(Object *obj, bool value, Error **errp)
{
    DeviceState *dev = DEVICE(obj);

    if (value && !dev->parent_bus && DEVICE_GET_CLASS(dev)->bus_type) {
        error_setg(errp, "Device '%s' is not plugged into a bus",
                   object_get_typename(obj));
        return;
    }
    device_set_realized(dev, value, errp);
}

static bool device_get_hotplugged(Object *obj, Error **errp)
{
    return DEVICE(obj)->hotplugged;
}

static bool device_get_hotpluggable(Object *obj, Error **errp)
{
    DeviceState *dev = DEVICE(obj);
    DeviceClass *dc = DEVICE_GET_CLASS(dev);

    return dc->hotpluggable &&
           (!dev->parent_bus || qbus_is_hotpluggable(dev->parent_bus));
}

static char *device_get_parent_bus(Object *obj, Error **errp)
{
    DeviceState *dev = DEVICE(obj);

    return dev->parent_bus ? object_get_canonical_path(OBJECT(dev->parent_bus))
                           : g_strdup("");
}

static void device_finalize(Object *obj)
{
    DeviceState *dev = DEVICE(obj);

    gpio_lists_free(dev);
    g_slist_free(dev->child_buses);
    g_free(dev->id);
}

static void device_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = (DeviceClass *)klass;

    klass->unparent = device_unparent;
    dc->user_creatable = true;
    dc->hotpluggable = true;
    object_class_property_add_bool(klass, "realized", device_get_realized,
                                   device_set_realized_prop);
    object_class_property_add_bool(klass, "hotpluggable",
                                   device_get_hotpluggable, NULL);
    object_class_property_add_bool(klass, "hotplugged",
                                   device_get_hotplugged, NULL);
    object_class_property_add_str(klass, "parent_bus",
                                  device_get_parent_bus, NULL);
}

static bool bus_get_realized(Object *obj, Error **errp)
{
    BusState *bus = BUS(obj);

    return !bus->parent || bus->parent->realized;
}

static void bus_class_init(ObjectClass *klass, const void *data)
{
    object_class_property_add_bool(klass, "realized", bus_get_realized, NULL);
}

static const TypeInfo qdev_types[] = {
    {
        .name = TYPE_DEVICE,
        .parent = TYPE_OBJECT,
        .instance_size = sizeof(DeviceState),
        .instance_finalize = device_finalize,
        .abstract = true,
        .class_size = sizeof(DeviceClass),
        .class_init = device_class_init,
    },
    {
        .name = TYPE_BUS,
        .parent = TYPE_OBJECT,
        .instance_size = sizeof(BusState),
        .instance_finalize = bus_finalize,
        .abstract = true,
        .class_size = sizeof(BusClass),
        .class_init = bus_class_init,
    },
    {
        .name = TYPE_HOTPLUG_HANDLER,
        .parent = TYPE_INTERFACE,
        .class_size = sizeof(HotplugHandlerClass),
    },
};

DEFINE_TYPES(qdev_types)
