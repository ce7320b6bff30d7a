/*
 * QMP commands on the object tree: qom-list, qom-get, qom-set,
 * qom-list-types, qom-list-properties, object-del.
 */
#include <string.h>

#include "qom/object_interfaces.h"
#include "qapi/qjson.h"
#include "qapi/qapi-commands.h"

static Object *resolve_path_err(const char *path, Error **errp)
{
    bool ambiguous = false;
    Object *obj = object_resolve_path(path, &ambiguous);

    if (!obj) {
        if (ambiguous) {
            error_setg(errp, "Path '%s' is ambiguous", path);
        } else {
            error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND,
                      "Device '%s' not found", path);
        }
    }
    return obj;
}

static ObjectPropertyInfo *property_info(ObjectProperty *prop, bool defaults)
{
    ObjectPropertyInfo *info = g_new0(ObjectPropertyInfo, 1);

    info->name = g_strdup(prop->name);
    info->type = g_strdup(prop->type);
    info->description = g_strdup(prop->description);
    if (defaults && prop->defval) {
        info->default_value = json_node_copy(prop->defval);
    }
    return info;
}

static void list_append(ObjectPropertyInfoList ***tail,
                        ObjectPropertyInfo *info)
{
    ObjectPropertyInfoList *node = g_new0(ObjectPropertyInfoList, 1);

    node->value = info;
    **tail = node;
    *tail = &node->next;
}

ObjectPropertyInfoList *qmp_qom_list(const char *path, Error **errp)
{
    Object *obj = resolve_path_err(path, errp);
    ObjectPropertyInfoList *head = NULL, **tail = &head;
    GSList *props;
    ObjectPropertyInfo *type_info;

    if (!obj) {
        return NULL;
    }
    /* QEMU lists the "type" property first, then the others. */
    type_info = g_new0(ObjectPropertyInfo, 1);
    type_info->name = g_strdup("type");
    type_info->type = g_strdup("string");
    list_append(&tail, type_info);
    props = object_property_list_sorted(obj);
    for (GSList *l = props; l; l = l->next) {
        ObjectProperty *prop = l->data;

        if (!strcmp(prop->name, "type")) {
            continue;
        }
        list_append(&tail, property_info(prop, false));
    }
    g_slist_free(props);
    return head;
}

JsonNode *qmp_qom_get(const char *path, const char *property, Error **errp)
{
    Object *obj = resolve_path_err(path, errp);
    JsonNode *value = NULL;

    if (!obj) {
        return NULL;
    }
    if (!strcmp(property, "type") && !object_property_find(obj, "type")) {
        return qjson_new_str(object_get_typename(obj));
    }
    object_property_get(obj, property, &value, errp);
    return value;
}

void qmp_qom_set(const char *path, const char *property, JsonNode *value,
                 Error **errp)
{
    Object *obj = resolve_path_err(path, errp);

    if (obj) {
        object_property_set(obj, property, value, errp);
    }
}

ObjectTypeInfoList *qmp_qom_list_types(const char *implements,
                                       bool has_abstract, bool abstract,
                                       Error **errp)
{
    GSList *list = object_class_get_list(implements,
                                         has_abstract && abstract);
    ObjectTypeInfoList *head = NULL, **tail = &head;

    for (GSList *l = list; l; l = l->next) {
        ObjectClass *klass = l->data;
        ObjectClass *parent = object_class_get_parent(klass);
        ObjectTypeInfo *info = g_new0(ObjectTypeInfo, 1);
        ObjectTypeInfoList *node = g_new0(ObjectTypeInfoList, 1);

        info->name = g_strdup(object_class_get_name(klass));
        if (object_class_is_abstract(klass)) {
            info->has_abstract = true;
            info->abstract = true;
        }
        info->parent = parent ? g_strdup(object_class_get_name(parent))
                              : NULL;
        node->value = info;
        *tail = node;
        tail = &node->next;
    }
    g_slist_free(list);
    return head;
}

ObjectPropertyInfoList *qmp_qom_list_properties(const char *typename,
                                                Error **errp)
{
    ObjectClass *klass = object_class_by_name(typename);
    ObjectPropertyInfoList *head = NULL, **tail = &head;
    Object *obj;
    GSList *props;

    if (!klass) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND,
                  "Class '%s' not found", typename);
        return NULL;
    }
    if (object_class_is_abstract(klass)) {
        /* An abstract class has only its class properties to show. */
        ObjectPropertyIterator iter;
        ObjectProperty *prop;

        object_class_property_iter_init(&iter, klass);
        while ((prop = object_property_iter_next(&iter))) {
            list_append(&tail, property_info(prop, true));
        }
        return head;
    }
    obj = object_new_with_class(klass);
    props = object_property_list_sorted(obj);
    for (GSList *l = props; l; l = l->next) {
        ObjectProperty *prop = l->data;

        if (object_property_is_child(prop)) {
            continue;
        }
        list_append(&tail, property_info(prop, true));
    }
    g_slist_free(props);
    object_unref(obj);
    return head;
}

void qmp_object_del(const char *id, Error **errp)
{
    user_creatable_del(id, errp);
}
