/*
 * Device creation and removal from the command line and QMP.
 */
#include <stdio.h>
#include <string.h>

#include "system/qdev-monitor.h"
#include "hw/boards.h"
#include "hw/qdev-properties.h"
#include "qom/object_interfaces.h"
#include "qapi/qjson.h"
#include "qapi/qapi-commands.h"
#include "qapi/qapi-events.h"
#include "util/keyval.h"

static const char *const category_names[DEVICE_CATEGORY__MAX] = {
    [DEVICE_CATEGORY_MISC] = "Misc devices",
    [DEVICE_CATEGORY_BRIDGE] = "Controller/Bridge/Hub devices",
    [DEVICE_CATEGORY_NETWORK] = "Network devices",
    [DEVICE_CATEGORY_STORAGE] = "Storage devices",
    [DEVICE_CATEGORY_INPUT] = "Input devices",
    [DEVICE_CATEGORY_DISPLAY] = "Display devices",
    [DEVICE_CATEGORY_SOUND] = "Sound devices",
    [DEVICE_CATEGORY_CPU] = "CPU devices",
    [DEVICE_CATEGORY_WATCHDOG] = "Watchdog devices",
    [DEVICE_CATEGORY_USB] = "USB devices",
};

static void print_device_list(void)
{
    GSList *list = object_class_get_list(TYPE_DEVICE, false);

    for (int cat = 0; cat < DEVICE_CATEGORY__MAX; cat++) {
        bool header = false;

        for (GSList *l = list; l; l = l->next) {
            DeviceClass *dc = l->data;

            if (dc->category != cat || !dc->user_creatable) {
                continue;
            }
            if (!header) {
                printf("%s%s:\n", cat ? "\n" : "", category_names[cat]);
                header = true;
            }
            printf("name \"%s\"", object_class_get_name(l->data));
            if (dc->bus_type) {
                printf(", bus %s", dc->bus_type);
            }
            if (dc->desc) {
                printf(", desc \"%s\"", dc->desc);
            }
            printf("\n");
        }
    }
    g_slist_free(list);
}

static DeviceClass *device_class_check(const char *driver, Error **errp)
{
    ObjectClass *oc = object_class_by_name(driver);
    DeviceClass *dc;

    if (!oc || !object_class_dynamic_cast(oc, TYPE_DEVICE)) {
        error_setg(errp, "'%s' is not a valid device model name", driver);
        return NULL;
    }
    if (object_class_is_abstract(oc)) {
        error_setg(errp, "Parameter 'driver' expects a non-abstract device "
                   "type");
        return NULL;
    }
    dc = (DeviceClass *)object_class_dynamic_cast(oc, TYPE_DEVICE);
    if (!dc->user_creatable) {
        error_setg(errp, "Parameter 'driver' expects a pluggable device "
                   "type");
        return NULL;
    }
    return dc;
}

bool qdev_device_help(const char *optarg, bool *help)
{
    JsonObject *opts = keyval_parse(optarg, "driver", help, NULL);
    const char *driver;
    bool printed = false;

    if (!opts) {
        *help = false;
        return false;
    }
    driver = json_object_has_member(opts, "driver") ?
             json_object_get_string_member(opts, "driver") : NULL;
    if ((*help && !driver) ||
        (driver && (!strcmp(driver, "help") || !strcmp(driver, "?")))) {
        print_device_list();
        printed = *help = true;
    } else if (*help && driver) {
        Error *err = NULL;

        if (device_class_check(driver, &err)) {
            type_print_properties(driver);
        } else {
            error_report_err(err);
        }
        printed = true;
    }
    json_object_unref(opts);
    return printed;
}

typedef struct BusSearch {
    const char *type;
    const char *name;
    BusState *found;
} BusSearch;

static int find_bus_cb(Object *obj, void *opaque)
{
    BusSearch *s = opaque;
    BusState *bus = (BusState *)object_dynamic_cast(obj, TYPE_BUS);
    BusClass *bc;

    if (!bus || s->found) {
        return 0;
    }
    if (s->name && strcmp(bus->name, s->name)) {
        return 0;
    }
    if (s->type && !object_dynamic_cast(obj, s->type)) {
        return 0;
    }
    bc = BUS_GET_CLASS(bus);
    if (!s->name && bc->max_dev && bus->num_children >= bc->max_dev) {
        return 0;
    }
    s->found = bus;
    return 1;
}

static BusState *find_bus(const char *path, const char *type, Error **errp)
{
    BusSearch s = { .type = NULL, .name = NULL };
    Object *machine = qdev_get_machine();

    if (!machine) {
        error_setg(errp, "No machine");
        return NULL;
    }
    if (path) {
        Object *obj = path[0] == '/' ? object_resolve_path(path, NULL) : NULL;

        if (obj && object_dynamic_cast(obj, TYPE_BUS)) {
            return BUS(obj);
        }
        s.name = path;
        object_child_foreach_recursive(machine, find_bus_cb, &s);
        if (!s.found) {
            error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND,
                      "Bus '%s' not found", path);
        }
        return s.found;
    }
    if (object_dynamic_cast(machine, TYPE_MACHINE)) {
        MachineClass *mc = MACHINE_GET_CLASS(machine);

        if (mc->default_bus) {
            BusState *bus = mc->default_bus(MACHINE(machine), type);

            if (bus) {
                return bus;
            }
        }
    }
    s.type = type;
    object_child_foreach_recursive(machine, find_bus_cb, &s);
    if (!s.found) {
        error_setg(errp, "No '%s' bus found for device", type);
    }
    return s.found;
}

DeviceState *qdev_device_add(JsonObject *opts, bool from_cli, Error **errp)
{
    MachineState *ms = current_machine_get();
    JsonNode *driver_node = json_object_get_member(opts, "driver");
    JsonNode *bus_node = json_object_get_member(opts, "bus");
    JsonNode *id_node = json_object_get_member(opts, "id");
    const char *driver, *id = NULL;
    JsonObject *props;
    GList *members;
    DeviceClass *dc;
    BusState *bus = NULL;
    DeviceState *dev;
    Object *parent;
    bool ok;

    if (!driver_node) {
        error_setg(errp, "Parameter 'driver' is missing");
        return NULL;
    }
    if (!qjson_is_str(driver_node)) {
        error_setg(errp, "Invalid parameter type for 'driver', expected: "
                   "string");
        return NULL;
    }
    if (bus_node && !qjson_is_str(bus_node)) {
        error_setg(errp, "Invalid parameter type for 'bus', expected: "
                   "string");
        return NULL;
    }
    if (id_node && !qjson_is_str(id_node)) {
        error_setg(errp, "Invalid parameter type for 'id', expected: string");
        return NULL;
    }
    driver = json_node_get_string(driver_node);
    dc = device_class_check(driver, errp);
    if (!dc) {
        return NULL;
    }
    if (id_node) {
        id = json_node_get_string(id_node);
        if (!id_wellformed(id)) {
            error_setg(errp, "Parameter 'id' expects an identifier");
            error_append_hint(errp, "Identifiers consist of letters, digits, "
                              "'-', '.', '_', starting with a letter.\n");
            return NULL;
        }
        if (object_resolve_path_component(
                container_get(qdev_get_machine_or_root(), "peripheral"), id)) {
            error_setg(errp, "Duplicate device ID '%s'", id);
            return NULL;
        }
    }
    if (bus_node) {
        bus = find_bus(json_node_get_string(bus_node), NULL, errp);
        if (!bus) {
            return NULL;
        }
        if (!dc->bus_type || !object_dynamic_cast(OBJECT(bus), dc->bus_type)) {
            error_setg(errp, "Device '%s' can't go on %s bus", driver,
                       object_get_typename(OBJECT(bus)));
            return NULL;
        }
    } else if (dc->bus_type) {
        bus = find_bus(NULL, dc->bus_type, errp);
        if (!bus) {
            error_prepend(errp, "%s: ", driver);
            return NULL;
        }
    }
    if (ms && ms->done) {
        if (bus && !qbus_is_hotpluggable(bus)) {
            error_setg(errp, "Bus '%s' does not support hotplugging",
                       bus->name);
            return NULL;
        }
        if (!dc->hotpluggable) {
            error_setg(errp, "Device '%s' does not support hotplugging",
                       driver);
            return NULL;
        }
    }

    dev = qdev_new(driver);
    dev->id = g_strdup(id);
    dev->hotplugged = ms && ms->done;
    props = json_object_new();
    members = json_object_get_members(opts);
    for (GList *l = members; l; l = l->next) {
        if (strcmp(l->data, "driver") && strcmp(l->data, "bus") &&
            strcmp(l->data, "id")) {
            json_object_set_member(props, l->data,
                json_node_copy(json_object_get_member(opts, l->data)));
        }
    }
    g_list_free(members);
    ok = object_set_props_from_json(OBJECT(dev), props, from_cli, errp);
    json_object_unref(props);
    if (!ok) {
        object_unref(dev);
        return NULL;
    }
    parent = container_get(qdev_get_machine_or_root(),
                           id ? "peripheral" : "peripheral-anon");
    object_property_add_child(parent, id ? id : "device[*]", OBJECT(dev));
    object_unref(dev);
    if (!qdev_realize(dev, bus, errp)) {
        object_unparent(OBJECT(dev));
        return NULL;
    }
    return dev;
}

bool qdev_device_add_from_str(const char *optarg, bool *help, Error **errp)
{
    JsonObject *opts = keyval_parse(optarg, "driver", help, errp);
    bool ok;

    if (!opts) {
        return false;
    }
    if (*help) {
        json_object_unref(opts);
        return qdev_device_help(optarg, help);
    }
    ok = qdev_device_add(opts, true, errp) != NULL;
    json_object_unref(opts);
    return ok;
}

void qdev_unplug_finish(DeviceState *dev)
{
    HotplugHandler *h = qdev_get_hotplug_handler(dev);
    g_autofree char *path = object_get_canonical_path(OBJECT(dev));
    g_autofree char *id = g_strdup(dev->id);

    if (h) {
        hotplug_handler_unplug(h, dev, NULL);
    }
    object_unparent(OBJECT(dev));
    qapi_event_send_device_deleted(id, path);
}

/* QMP */

static bool qmp_device_add_cmd(JsonObject *args, JsonNode **ret,
                               Error **errp)
{
    return qdev_device_add(args, false, errp) != NULL;
}

static bool qmp_object_add_cmd(JsonObject *args, JsonNode **ret,
                               Error **errp)
{
    return user_creatable_add_json(args, errp);
}

void qmp_register_builtin_commands(QmpCommandList *cmds)
{
    qmp_register_command(cmds, "device_add", qmp_device_add_cmd,
                         QCO_NO_OPTIONS);
    qmp_register_command(cmds, "object-add", qmp_object_add_cmd,
                         QCO_NO_OPTIONS);
}

static DeviceState *find_device(const char *id, Error **errp)
{
    Object *peripheral = container_get(qdev_get_machine_or_root(),
                                       "peripheral");
    Object *obj = object_resolve_path_component(peripheral, id);

    if (!obj && id[0] == '/') {
        obj = object_resolve_path(id, NULL);
    }
    if (!obj || !object_dynamic_cast(obj, TYPE_DEVICE)) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found",
                  id);
        return NULL;
    }
    return DEVICE(obj);
}

void qmp_device_del(const char *id, Error **errp)
{
    DeviceState *dev = find_device(id, errp);
    DeviceClass *dc;
    HotplugHandler *h;
    Error *err = NULL;

    if (!dev) {
        return;
    }
    if (dev->pending_deletion) {
        error_setg(errp, "Device %s is already in the process of unplug", id);
        return;
    }
    dc = DEVICE_GET_CLASS(dev);
    if (!dc->hotpluggable) {
        error_setg(errp, "Device '%s' does not support hotplugging",
                   object_get_typename(OBJECT(dev)));
        return;
    }
    if (dev->parent_bus && !qbus_is_hotpluggable(dev->parent_bus)) {
        error_setg(errp, "Bus '%s' does not support hotplugging",
                   dev->parent_bus->name);
        return;
    }
    h = qdev_get_hotplug_handler(dev);
    if (!h) {
        error_setg(errp, "Device '%s' does not support hotplugging",
                   object_get_typename(OBJECT(dev)));
        return;
    }
    dev->pending_deletion = true;
    object_ref(dev);
    if (!hotplug_handler_unplug_request(h, dev, &err)) {
        dev->pending_deletion = false;
        error_propagate(errp, err);
    }
    object_unref(dev);
}

static bool prop_is_internal(ObjectProperty *prop)
{
    static const char *const hidden[] = {
        "type", "realized", "hotpluggable", "hotplugged", "parent_bus", NULL
    };

    if (object_property_is_child(prop)) {
        return true;
    }
    for (int i = 0; hidden[i]; i++) {
        if (!strcmp(prop->name, hidden[i])) {
            return true;
        }
    }
    return g_str_has_prefix(prop->name, "legacy-");
}

ObjectPropertyInfoList *qmp_device_list_properties(const char *typename,
                                                   Error **errp)
{
    ObjectClass *oc = object_class_by_name(typename);
    ObjectPropertyInfoList *head = NULL, **tail = &head;
    Object *obj;
    GSList *props;

    if (!oc || !object_class_dynamic_cast(oc, TYPE_DEVICE)) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND,
                  "Device '%s' not found", typename);
        return NULL;
    }
    if (object_class_is_abstract(oc)) {
        error_setg(errp, "Parameter 'typename' expects a non-abstract device "
                   "type");
        return NULL;
    }
    obj = object_new_with_class(oc);
    props = object_property_list_sorted(obj);
    for (GSList *l = props; l; l = l->next) {
        ObjectProperty *prop = l->data;
        ObjectPropertyInfo *info;

        if (prop_is_internal(prop)) {
            continue;
        }
        info = g_new0(ObjectPropertyInfo, 1);
        info->name = g_strdup(prop->name);
        info->type = g_strdup(prop->type);
        info->description = g_strdup(prop->description);
        info->default_value = prop->defval ? json_node_copy(prop->defval)
                                           : NULL;
        *tail = g_new0(ObjectPropertyInfoList, 1);
        (*tail)->value = info;
        tail = &(*tail)->next;
    }
    g_slist_free(props);
    object_unref(obj);
    return head;
}
