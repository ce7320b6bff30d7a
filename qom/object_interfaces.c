/*
 * User-creatable objects.
 */
#include <stdio.h>
#include <string.h>

#include "qom/object_interfaces.h"
#include "qapi/qjson.h"
#include "util/keyval.h"

bool id_wellformed(const char *id)
{
    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (const char *p = id + 1; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p)) {
            return false;
        }
    }
    return true;
}

bool user_creatable_complete(UserCreatable *uc, Error **errp)
{
    UserCreatableClass *ucc = USER_CREATABLE_GET_CLASS(uc);

    return ucc->complete ? ucc->complete(uc, errp) : true;
}

bool user_creatable_can_be_deleted(UserCreatable *uc)
{
    UserCreatableClass *ucc = USER_CREATABLE_GET_CLASS(uc);

    return ucc->can_be_deleted ? ucc->can_be_deleted(uc) : true;
}

static ObjectClass *user_creatable_class(const char *type, Error **errp)
{
    ObjectClass *klass = object_class_by_name(type);

    if (!klass) {
        error_setg(errp, "invalid object type: %s", type);
        return NULL;
    }
    if (!object_class_dynamic_cast(klass, TYPE_USER_CREATABLE)) {
        error_setg(errp, "object type '%s' isn't supported by object-add",
                   type);
        return NULL;
    }
    if (object_class_is_abstract(klass)) {
        error_setg(errp, "object type '%s' is abstract", type);
        return NULL;
    }
    return klass;
}

Object *user_creatable_add_type(const char *type, const char *id,
                                JsonObject *props, bool from_cli,
                                Error **errp)
{
    ObjectClass *klass = user_creatable_class(type, errp);
    Object *obj;

    if (!klass) {
        return NULL;
    }
    if (!id_wellformed(id)) {
        error_setg(errp, "Parameter 'id' expects an identifier");
        error_append_hint(errp, "Identifiers consist of letters, digits, "
                          "'-', '.', '_', starting with a letter.\n");
        return NULL;
    }
    if (object_resolve_path_component(object_get_objects_root(), id)) {
        error_setg(errp, "attempt to add duplicate property '%s' to object "
                   "(type 'container')", id);
        return NULL;
    }
    obj = object_new_with_class(klass);
    if (props && !object_set_props_from_json(obj, props, from_cli, errp)) {
        object_unref(obj);
        return NULL;
    }
    object_property_add_child(object_get_objects_root(), id, obj);
    if (!user_creatable_complete(USER_CREATABLE(obj), errp)) {
        object_unparent(obj);
        object_unref(obj);
        return NULL;
    }
    object_unref(obj);
    return obj;
}

static void print_object_types(void)
{
    GSList *list = object_class_get_list(TYPE_USER_CREATABLE, false);

    printf("List of user creatable objects:\n");
    for (GSList *l = list; l; l = l->next) {
        printf("  %s\n", object_class_get_name(l->data));
    }
    g_slist_free(list);
}

static void print_prop(ObjectProperty *prop, void *unused)
{
    GString *line = g_string_new(NULL);

    g_string_append_printf(line, "  %s=<%s>", prop->name, prop->type);
    if (prop->description || prop->defval) {
        while (line->len < 24) {
            g_string_append_c(line, ' ');
        }
        g_string_append_printf(line, " - %s", prop->description ?
                               prop->description : "");
        if (prop->defval) {
            g_autofree char *d = qjson_to_string(prop->defval, false);

            g_string_append_printf(line, "%s(default: %s)",
                                   prop->description ? " " : "", d);
        }
    }
    printf("%s\n", line->str);
    g_string_free(line, true);
}

/* Properties users set: not children, not read-only, not internal ones. */
static bool prop_is_settable(ObjectProperty *prop)
{
    return prop->set && !object_property_is_child(prop) &&
           strcmp(prop->name, "type") && strcmp(prop->name, "realized") &&
           strcmp(prop->name, "hotplugged") && strcmp(prop->name, "parent_bus");
}

void type_print_properties(const char *type)
{
    ObjectClass *klass = object_class_by_name(type);
    Object *obj;
    GSList *props;

    if (!klass || object_class_is_abstract(klass)) {
        return;
    }
    obj = object_new_with_class(klass);
    props = object_property_list_sorted(obj);
    printf("%s options:\n", type);
    for (GSList *l = props; l; l = l->next) {
        if (prop_is_settable(l->data)) {
            print_prop(l->data, NULL);
        }
    }
    g_slist_free(props);
    object_unref(obj);
}

bool user_creatable_add_from_str(const char *optarg, bool *help_printed,
                                 Error **errp)
{
    bool help = false;
    JsonObject *props = keyval_parse(optarg, "qom-type", &help, errp);
    const char *type, *id;
    bool ok = false;

    *help_printed = false;
    if (!props) {
        return false;
    }
    type = json_object_has_member(props, "qom-type") ?
           json_object_get_string_member(props, "qom-type") : NULL;
    if (help && (!type || !strcmp(type, "help"))) {
        print_object_types();
        *help_printed = true;
        ok = true;
        goto out;
    }
    if (!type) {
        error_setg(errp, "Parameter 'qom-type' is missing");
        goto out;
    }
    if (help) {
        if (user_creatable_class(type, errp)) {
            type_print_properties(type);
            *help_printed = true;
            ok = true;
        }
        goto out;
    }
    if (!json_object_has_member(props, "id")) {
        error_setg(errp, "Parameter 'id' is missing");
        goto out;
    }
    id = json_object_get_string_member(props, "id");
    {
        g_autofree char *type_copy = g_strdup(type);
        g_autofree char *id_copy = g_strdup(id);

        json_object_remove_member(props, "qom-type");
        json_object_remove_member(props, "id");
        ok = user_creatable_add_type(type_copy, id_copy, props, true,
                                     errp) != NULL;
    }
out:
    json_object_unref(props);
    return ok;
}

bool user_creatable_add_json(JsonObject *args, Error **errp)
{
    JsonObject *props = json_object_new();
    GList *members = json_object_get_members(args);
    JsonNode *type = json_object_get_member(args, "qom-type");
    JsonNode *id = json_object_get_member(args, "id");
    bool ok = false;

    if (!type) {
        error_setg(errp, "Parameter 'qom-type' is missing");
        goto out;
    }
    if (!qjson_is_str(type)) {
        error_setg(errp, "Invalid parameter type for 'qom-type', expected: "
                   "string");
        goto out;
    }
    if (!id) {
        error_setg(errp, "Parameter 'id' is missing");
        goto out;
    }
    if (!qjson_is_str(id)) {
        error_setg(errp, "Invalid parameter type for 'id', expected: string");
        goto out;
    }
    for (GList *l = members; l; l = l->next) {
        if (strcmp(l->data, "qom-type") && strcmp(l->data, "id")) {
            json_object_set_member(props, l->data,
                json_node_copy(json_object_get_member(args, l->data)));
        }
    }
    ok = user_creatable_add_type(json_node_get_string(type),
                                 json_node_get_string(id), props, false,
                                 errp) != NULL;
out:
    g_list_free(members);
    json_object_unref(props);
    return ok;
}

bool user_creatable_del(const char *id, Error **errp)
{
    Object *obj = object_resolve_path_component(object_get_objects_root(),
                                                id);

    if (!obj) {
        error_setg(errp, "object '%s' not found", id);
        return false;
    }
    if (!object_dynamic_cast(obj, TYPE_USER_CREATABLE) ||
        !user_creatable_can_be_deleted(USER_CREATABLE(obj))) {
        error_setg(errp, "object '%s' is in use, can not be deleted", id);
        return false;
    }
    object_unparent(obj);
    return true;
}

static int cleanup_one(Object *obj, void *opaque)
{
    object_unparent(obj);
    return 0;
}

void user_creatable_cleanup(void)
{
    object_child_foreach(object_get_objects_root(), cleanup_one, NULL);
}

static const TypeInfo uc_types[] = {
    {
        .name = TYPE_USER_CREATABLE,
        .parent = TYPE_INTERFACE,
        .class_size = sizeof(UserCreatableClass),
    },
};

DEFINE_TYPES(uc_types)
