/*
 * QOM: types, classes, objects, properties and the composition tree.
 *
 * Types are registered from constructors and never unregistered; a type's
 * class is built on first use and lives until exit.  All of this runs on the
 * main-loop thread (or under the big lock), so nothing here is locked.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qom/object.h"
#include "qapi/qjson.h"
#include "util/cutils.h"

struct TypeImpl {
    const char *name;
    const char *parent;
    TypeImpl *parent_type;
    size_t class_size;
    size_t instance_size;
    void (*class_init)(ObjectClass *klass, const void *data);
    void (*class_base_init)(ObjectClass *klass, const void *data);
    const void *class_data;
    void (*instance_init)(Object *obj);
    void (*instance_post_init)(Object *obj);
    void (*instance_finalize)(Object *obj);
    bool abstract;
    GPtrArray *interfaces;      /* const char * names */
    ObjectClass *klass;         /* built by type_initialize() */
};

static GHashTable *type_table;  /* name -> TypeImpl * */

static GHashTable *type_table_get(void)
{
    if (!type_table) {
        type_table = g_hash_table_new(g_str_hash, g_str_equal);
    }
    return type_table;
}

TypeImpl *type_register_static(const TypeInfo *info)
{
    TypeImpl *ti;

    if (g_hash_table_lookup(type_table_get(), info->name)) {
        fprintf(stderr, "QOM: type '%s' registered twice\n", info->name);
        abort();
    }
    ti = g_new0(TypeImpl, 1);
    ti->name = info->name;
    ti->parent = info->parent;
    ti->class_size = info->class_size;
    ti->instance_size = info->instance_size;
    ti->class_init = info->class_init;
    ti->class_base_init = info->class_base_init;
    ti->class_data = info->class_data;
    ti->instance_init = info->instance_init;
    ti->instance_post_init = info->instance_post_init;
    ti->instance_finalize = info->instance_finalize;
    /* Interfaces are never instantiated. */
    ti->abstract = info->abstract ||
                   (info->parent && !strcmp(info->parent, TYPE_INTERFACE));
    ti->interfaces = g_ptr_array_new();
    for (const InterfaceInfo *ii = info->interfaces; ii && ii->type; ii++) {
        g_ptr_array_add(ti->interfaces, (gpointer)ii->type);
    }
    g_hash_table_insert(type_table_get(), (gpointer)ti->name, ti);
    return ti;
}

void type_register_static_array(const TypeInfo *infos, int nr)
{
    for (int i = 0; i < nr; i++) {
        type_register_static(&infos[i]);
    }
}

static TypeImpl *type_get_by_name(const char *name)
{
    return name ? g_hash_table_lookup(type_table_get(), name) : NULL;
}

static TypeImpl *type_get_parent(TypeImpl *ti)
{
    if (ti->parent && !ti->parent_type) {
        ti->parent_type = type_get_by_name(ti->parent);
        if (!ti->parent_type) {
            fprintf(stderr, "QOM: type '%s' has unknown parent '%s'\n",
                    ti->name, ti->parent);
            abort();
        }
    }
    return ti->parent_type;
}

static bool type_is_ancestor(TypeImpl *ti, TypeImpl *ancestor)
{
    for (; ti; ti = type_get_parent(ti)) {
        if (ti == ancestor) {
            return true;
        }
    }
    return false;
}

static size_t type_class_size(TypeImpl *ti)
{
    for (; ti; ti = type_get_parent(ti)) {
        if (ti->class_size) {
            return ti->class_size;
        }
    }
    return sizeof(ObjectClass);
}

static size_t type_instance_size(TypeImpl *ti)
{
    for (; ti; ti = type_get_parent(ti)) {
        if (ti->instance_size) {
            return ti->instance_size;
        }
    }
    return 0;
}

static void type_initialize(TypeImpl *ti);

static InterfaceClass *interface_class_new(TypeImpl *iface,
                                           const InterfaceClass *from,
                                           ObjectClass *concrete)
{
    size_t size;
    InterfaceClass *ic;

    type_initialize(iface);
    size = type_class_size(iface);
    ic = g_malloc0(size);
    memcpy(ic, from ? (const void *)from : (const void *)iface->klass, size);
    ic->parent_class.type = iface;
    ic->parent_class.interfaces = NULL;
    ic->parent_class.properties = g_hash_table_new(g_str_hash, g_str_equal);
    ic->concrete_class = concrete;
    ic->interface_type = iface;
    return ic;
}

static bool class_has_interface(ObjectClass *klass, TypeImpl *iface)
{
    for (GSList *l = klass->interfaces; l; l = l->next) {
        InterfaceClass *ic = l->data;

        if (type_is_ancestor(ic->interface_type, iface)) {
            return true;
        }
    }
    return false;
}

/*
 * Builds ti's class: a copy of the parent's class (so overridden methods are
 * inherited), a private copy of every interface class the parent
 * implements, new interface classes for ti's own interfaces, then the
 * class_base_init hooks of the ancestors and ti's own class_init.
 */
static void type_initialize(TypeImpl *ti)
{
    TypeImpl *parent;
    size_t size;

    if (ti->klass) {
        return;
    }
    parent = type_get_parent(ti);
    size = type_class_size(ti);
    ti->klass = g_malloc0(size);
    if (parent) {
        type_initialize(parent);
        memcpy(ti->klass, parent->klass, type_class_size(parent));
        ti->klass->interfaces = NULL;
        for (GSList *l = parent->klass->interfaces; l; l = l->next) {
            InterfaceClass *pic = l->data;

            ti->klass->interfaces =
                g_slist_append(ti->klass->interfaces,
                               interface_class_new(pic->interface_type, pic,
                                                   ti->klass));
        }
    }
    ti->klass->type = ti;
    ti->klass->properties = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < ti->interfaces->len; i++) {
        TypeImpl *iface = type_get_by_name(ti->interfaces->pdata[i]);

        if (!iface) {
            fprintf(stderr, "QOM: type '%s' implements unknown interface "
                    "'%s'\n", ti->name, (char *)ti->interfaces->pdata[i]);
            abort();
        }
        if (class_has_interface(ti->klass, iface)) {
            continue;
        }
        ti->klass->interfaces =
            g_slist_append(ti->klass->interfaces,
                           interface_class_new(iface, NULL, ti->klass));
    }
    for (TypeImpl *p = parent; p; p = type_get_parent(p)) {
        if (p->class_base_init) {
            p->class_base_init(ti->klass, ti->class_data);
        }
    }
    if (ti->class_init) {
        ti->class_init(ti->klass, ti->class_data);
    }
}

/* Classes */

ObjectClass *object_class_by_name(const char *typename)
{
    TypeImpl *ti = type_get_by_name(typename);

    if (!ti) {
        return NULL;
    }
    type_initialize(ti);
    return ti->klass;
}

const char *object_class_get_name(ObjectClass *klass)
{
    return klass->type->name;
}

ObjectClass *object_class_get_parent(ObjectClass *klass)
{
    TypeImpl *parent = type_get_parent(klass->type);

    if (!parent) {
        return NULL;
    }
    type_initialize(parent);
    return parent->klass;
}

bool object_class_is_abstract(ObjectClass *klass)
{
    return klass->type->abstract;
}

ObjectClass *object_class_dynamic_cast(ObjectClass *klass,
                                       const char *typename)
{
    TypeImpl *target;
    ObjectClass *found = NULL;

    if (!klass) {
        return NULL;
    }
    if (!strcmp(klass->type->name, typename)) {
        return klass;
    }
    target = type_get_by_name(typename);
    if (!target) {
        return NULL;
    }
    if (type_is_ancestor(klass->type, target)) {
        return klass;
    }
    /* An interface class of this class, or of the concrete class behind
     * an interface class. */
    if (type_is_ancestor(klass->type, type_get_by_name(TYPE_INTERFACE)) &&
        ((InterfaceClass *)klass)->concrete_class) {
        klass = ((InterfaceClass *)klass)->concrete_class;
        if (type_is_ancestor(klass->type, target)) {
            return klass;
        }
    }
    for (GSList *l = klass->interfaces; l; l = l->next) {
        InterfaceClass *ic = l->data;

        if (type_is_ancestor(ic->interface_type, target)) {
            found = &ic->parent_class;
            break;
        }
    }
    return found;
}

ObjectClass *object_class_dynamic_cast_assert(ObjectClass *klass,
                                              const char *typename,
                                              const char *file, int line,
                                              const char *func)
{
    ObjectClass *ret;

    if (!klass) {
        return NULL;
    }
    ret = object_class_dynamic_cast(klass, typename);
    if (!ret) {
        fprintf(stderr, "%s:%d:%s: Object class %s is not an instance of "
                "type %s\n", file, line, func, klass->type->name, typename);
        abort();
    }
    return ret;
}

static gint class_name_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(object_class_get_name((ObjectClass *)a),
                  object_class_get_name((ObjectClass *)b));
}

GSList *object_class_get_list(const char *implements_type,
                              bool include_abstract)
{
    GSList *list = NULL;
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, type_table_get());
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        TypeImpl *ti = value;

        type_initialize(ti);
        if (!include_abstract && ti->abstract) {
            continue;
        }
        if (implements_type &&
            !object_class_dynamic_cast(ti->klass, implements_type)) {
            continue;
        }
        list = g_slist_prepend(list, ti->klass);
    }
    return g_slist_sort(list, class_name_cmp);
}

ObjectClass *object_get_class(Object *obj)
{
    return obj->klass;
}

const char *object_get_typename(const Object *obj)
{
    return obj->klass->type->name;
}

Object *object_dynamic_cast(Object *obj, const char *typename)
{
    if (obj && object_class_dynamic_cast(obj->klass, typename)) {
        return obj;
    }
    return NULL;
}

Object *object_dynamic_cast_assert(Object *obj, const char *typename,
                                   const char *file, int line,
                                   const char *func)
{
    if (obj && !object_dynamic_cast(obj, typename)) {
        fprintf(stderr, "%s:%d:%s: Object %p is not an instance of type "
                "%s (it is a %s)\n", file, line, func, (void *)obj, typename,
                object_get_typename(obj));
        abort();
    }
    return obj;
}

/* Properties */

static void object_property_free(ObjectProperty *prop)
{
    g_free(prop->name);
    g_free(prop->type);
    g_free(prop->description);
    if (prop->defval) {
        json_node_unref(prop->defval);
    }
    g_free(prop);
}

ObjectProperty *object_class_property_find(ObjectClass *klass,
                                           const char *name)
{
    for (; klass; klass = object_class_get_parent(klass)) {
        ObjectProperty *prop = g_hash_table_lookup(klass->properties, name);

        if (prop) {
            return prop;
        }
    }
    return NULL;
}

ObjectProperty *object_property_find(Object *obj, const char *name)
{
    ObjectProperty *prop = g_hash_table_lookup(obj->properties, name);

    return prop ? prop : object_class_property_find(obj->klass, name);
}

ObjectProperty *object_property_find_err(Object *obj, const char *name,
                                         Error **errp)
{
    ObjectProperty *prop = object_property_find(obj, name);

    if (!prop) {
        error_setg(errp, "Property '%s.%s' not found",
                   object_get_typename(obj), name);
    }
    return prop;
}

static ObjectProperty *property_new(const char *name, const char *type,
                                    ObjectPropertyGet *get,
                                    ObjectPropertySet *set,
                                    ObjectPropertyRelease *release,
                                    void *opaque)
{
    ObjectProperty *prop = g_new0(ObjectProperty, 1);

    prop->name = g_strdup(name);
    prop->type = g_strdup(type);
    prop->get = get;
    prop->set = set;
    prop->release = release;
    prop->opaque = opaque;
    return prop;
}

/*
 * A name ending in "[*]" is a pattern: the first free "name[N]" is used.
 * A duplicate name is a programming error, except where the caller
 * checked first (object-add checks ids before adding the child).
 */
ObjectProperty *object_property_add(Object *obj, const char *name,
                                    const char *type,
                                    ObjectPropertyGet *get,
                                    ObjectPropertySet *set,
                                    ObjectPropertyRelease *release,
                                    void *opaque)
{
    ObjectProperty *prop;
    size_t len = strlen(name);

    if (len >= 3 && !strcmp(name + len - 3, "[*]")) {
        g_autofree char *base = g_strndup(name, len - 3);

        for (unsigned i = 0;; i++) {
            g_autofree char *full = g_strdup_printf("%s[%u]", base, i);

            if (!object_property_find(obj, full)) {
                return object_property_add(obj, full, type, get, set,
                                           release, opaque);
            }
        }
    }
    if (object_property_find(obj, name)) {
        fprintf(stderr, "QOM: attempt to add duplicate property '%s' to "
                "object (type '%s')\n", name, object_get_typename(obj));
        abort();
    }
    prop = property_new(name, type, get, set, release, opaque);
    g_hash_table_insert(obj->properties, prop->name, prop);
    return prop;
}

ObjectProperty *object_class_property_add(ObjectClass *klass,
                                          const char *name,
                                          const char *type,
                                          ObjectPropertyGet *get,
                                          ObjectPropertySet *set,
                                          ObjectPropertyRelease *release,
                                          void *opaque)
{
    ObjectProperty *prop;

    if (object_class_property_find(klass, name)) {
        fprintf(stderr, "QOM: attempt to add duplicate property '%s' to "
                "class '%s'\n", name, object_class_get_name(klass));
        abort();
    }
    prop = property_new(name, type, get, set, release, opaque);
    prop->is_class_prop = true;
    g_hash_table_insert(klass->properties, prop->name, prop);
    return prop;
}

void object_property_set_description(Object *obj, const char *name,
                                     const char *description)
{
    ObjectProperty *prop = object_property_find(obj, name);

    if (prop) {
        g_free(prop->description);
        prop->description = g_strdup(description);
    }
}

void object_class_property_set_description(ObjectClass *klass,
                                           const char *name,
                                           const char *description)
{
    ObjectProperty *prop = g_hash_table_lookup(klass->properties, name);

    if (prop) {
        g_free(prop->description);
        prop->description = g_strdup(description);
    }
}

void object_property_del(Object *obj, const char *name)
{
    ObjectProperty *prop = g_hash_table_lookup(obj->properties, name);

    if (!prop) {
        return;
    }
    /* Unlink first: release may look the object's properties up. */
    g_hash_table_steal(obj->properties, name);
    if (prop->release) {
        prop->release(obj, prop);
    }
    object_property_free(prop);
}

void object_property_iter_init(ObjectPropertyIterator *iter, Object *obj)
{
    g_hash_table_iter_init(&iter->iter, obj->properties);
    iter->nextclass = obj->klass;
}

void object_class_property_iter_init(ObjectPropertyIterator *iter,
                                     ObjectClass *klass)
{
    g_hash_table_iter_init(&iter->iter, klass->properties);
    iter->nextclass = object_class_get_parent(klass);
}

ObjectProperty *object_property_iter_next(ObjectPropertyIterator *iter)
{
    gpointer value;

    while (!g_hash_table_iter_next(&iter->iter, NULL, &value)) {
        if (!iter->nextclass) {
            return NULL;
        }
        g_hash_table_iter_init(&iter->iter, iter->nextclass->properties);
        iter->nextclass = object_class_get_parent(iter->nextclass);
    }
    return value;
}

static gint prop_name_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(((const ObjectProperty *)a)->name,
                  ((const ObjectProperty *)b)->name);
}

GSList *object_property_list_sorted(Object *obj)
{
    ObjectPropertyIterator iter;
    ObjectProperty *prop;
    GSList *list = NULL;

    object_property_iter_init(&iter, obj);
    while ((prop = object_property_iter_next(&iter))) {
        list = g_slist_prepend(list, prop);
    }
    return g_slist_sort(list, prop_name_cmp);
}

bool object_property_get(Object *obj, const char *name, JsonNode **value,
                         Error **errp)
{
    ObjectProperty *prop = object_property_find_err(obj, name, errp);

    *value = NULL;
    if (!prop) {
        return false;
    }
    if (!prop->get) {
        error_setg(errp, "Property '%s.%s' is not readable",
                   object_get_typename(obj), name);
        return false;
    }
    return prop->get(obj, prop, value, errp);
}

bool object_property_set(Object *obj, const char *name, JsonNode *value,
                         Error **errp)
{
    ObjectProperty *prop = object_property_find_err(obj, name, errp);

    if (!prop) {
        return false;
    }
    if (!prop->set) {
        error_setg(errp, "Property '%s.%s' is not writable",
                   object_get_typename(obj), name);
        return false;
    }
    return prop->set(obj, prop, value, errp);
}

static bool prop_type_is(const ObjectProperty *prop, const char *prefix)
{
    return g_str_has_prefix(prop->type, prefix);
}

/* Converts a command-line string to the JSON value the property takes. */
static JsonNode *property_parse_value(ObjectProperty *prop, const char *str,
                                      Error **errp)
{
    const char *t = prop->type;

    if (!strcmp(t, "bool")) {
        bool b;

        if (!qapi_bool_parse(prop->name, str, &b, errp)) {
            return NULL;
        }
        return qjson_new_bool(b);
    }
    if (!strcmp(t, "size")) {
        uint64_t v;

        if (qemu_strtosz(str, NULL, &v) < 0) {
            error_setg(errp, "Parameter '%s' expects a non-negative number "
                       "below 2^64", prop->name);
            error_append_hint(errp, "Optional suffix k, M, G, T, P or E "
                              "means kilo-, mega-, giga-, tera-, peta-\n"
                              "and exabytes, respectively.\n");
            return NULL;
        }
        return qjson_new_uint(v);
    }
    if (g_str_has_prefix(t, "uint")) {
        uint64_t v;

        if (qemu_strtou64(str, NULL, 0, &v) < 0) {
            error_setg(errp, "Parameter '%s' expects %s", prop->name, t);
            return NULL;
        }
        return qjson_new_uint(v);
    }
    if (!strcmp(t, "int") || g_str_has_prefix(t, "int")) {
        int64_t v;

        if (qemu_strtoi64(str, NULL, 0, &v) < 0) {
            error_setg(errp, "Parameter '%s' expects %s", prop->name, t);
            return NULL;
        }
        return qjson_new_int(v);
    }
    /* str, enums, links, and custom types whose setter parses strings. */
    return qjson_new_str(str);
}

bool object_property_parse(Object *obj, const char *name, const char *str,
                           Error **errp)
{
    ObjectProperty *prop = object_property_find_err(obj, name, errp);
    JsonNode *value;
    bool ok;

    if (!prop) {
        return false;
    }
    if (object_property_is_child(prop)) {
        error_setg(errp, "Property '%s.%s' can't be set",
                   object_get_typename(obj), name);
        return false;
    }
    value = property_parse_value(prop, str, errp);
    if (!value) {
        return false;
    }
    ok = object_property_set(obj, name, value, errp);
    json_node_unref(value);
    return ok;
}

bool object_set_props_from_json(Object *obj, JsonObject *props,
                                bool from_cli, Error **errp)
{
    GList *members = json_object_get_members(props);
    bool ok = true;

    for (GList *l = members; l && ok; l = l->next) {
        const char *name = l->data;
        JsonNode *value = json_object_get_member(props, name);

        if (from_cli && qjson_is_str(value)) {
            ok = object_property_parse(obj, name, json_node_get_string(value),
                                       errp);
        } else {
            ok = object_property_set(obj, name, value, errp);
        }
    }
    g_list_free(members);
    return ok;
}

/* Children */

bool object_property_is_child(const ObjectProperty *prop)
{
    return prop_type_is(prop, "child<");
}

bool object_property_is_link(const ObjectProperty *prop)
{
    return prop_type_is(prop, "link<");
}

static bool property_get_child(Object *obj, ObjectProperty *prop,
                               JsonNode **value, Error **errp)
{
    g_autofree char *path = object_get_canonical_path(prop->opaque);

    *value = qjson_new_str(path ? path : "");
    return true;
}

static void property_release_child(Object *obj, ObjectProperty *prop)
{
    Object *child = prop->opaque;

    if (child->klass->unparent) {
        child->klass->unparent(child);
    }
    child->parent = NULL;
    object_unref(child);
}

ObjectProperty *object_property_add_child(Object *obj, const char *name,
                                          Object *child)
{
    g_autofree char *type = g_strdup_printf("child<%s>",
                                            object_get_typename(child));
    ObjectProperty *prop;

    if (child->parent) {
        fprintf(stderr, "QOM: object '%s' already has a parent\n",
                object_get_canonical_path_component(child));
        abort();
    }
    prop = object_property_add(obj, name, type, property_get_child, NULL,
                               property_release_child, child);
    object_ref(child);
    child->parent = obj;
    return prop;
}

static ObjectProperty *child_property_of(Object *parent, const Object *child)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, parent->properties);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        ObjectProperty *prop = value;

        if (object_property_is_child(prop) && prop->opaque == child) {
            return prop;
        }
    }
    return NULL;
}

void object_unparent(Object *obj)
{
    ObjectProperty *prop;

    if (!obj->parent) {
        return;
    }
    prop = child_property_of(obj->parent, obj);
    if (prop) {
        object_property_del(obj->parent, prop->name);
    }
}

const char *object_get_canonical_path_component(const Object *obj)
{
    ObjectProperty *prop;

    if (!obj->parent) {
        return NULL;
    }
    prop = child_property_of(obj->parent, obj);
    return prop ? prop->name : NULL;
}

char *object_get_canonical_path(const Object *obj)
{
    Object *root = object_get_root();
    GString *path = g_string_new(NULL);
    GPtrArray *parts = g_ptr_array_new();

    if (obj == root) {
        g_ptr_array_free(parts, true);
        g_string_append_c(path, '/');
        return g_string_free(path, false);
    }
    for (; obj != root; obj = obj->parent) {
        const char *part = object_get_canonical_path_component(obj);

        if (!part) {
            /* Not (or no longer) in the tree. */
            g_ptr_array_free(parts, true);
            g_string_free(path, true);
            return NULL;
        }
        g_ptr_array_add(parts, (gpointer)part);
    }
    for (guint i = parts->len; i > 0; i--) {
        g_string_append_printf(path, "/%s", (char *)parts->pdata[i - 1]);
    }
    g_ptr_array_free(parts, true);
    return g_string_free(path, false);
}

int object_child_foreach(Object *obj, int (*fn)(Object *child, void *opaque),
                         void *opaque)
{
    GHashTableIter it;
    gpointer value;
    GSList *children = NULL;
    int ret = 0;

    /* Collect first: fn may add or remove children. */
    g_hash_table_iter_init(&it, obj->properties);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        ObjectProperty *prop = value;

        if (object_property_is_child(prop)) {
            children = g_slist_prepend(children, object_ref(prop->opaque));
        }
    }
    children = g_slist_reverse(children);
    for (GSList *l = children; l; l = l->next) {
        if (!ret) {
            ret = fn(l->data, opaque);
        }
        object_unref(l->data);
    }
    g_slist_free(children);
    return ret;
}

typedef struct RecursiveForeach {
    int (*fn)(Object *child, void *opaque);
    void *opaque;
} RecursiveForeach;

static int child_foreach_recursive_cb(Object *child, void *opaque)
{
    RecursiveForeach *rf = opaque;
    int ret = rf->fn(child, rf->opaque);

    return ret ? ret : object_child_foreach(child, child_foreach_recursive_cb,
                                            rf);
}

int object_child_foreach_recursive(Object *obj,
                                   int (*fn)(Object *child, void *opaque),
                                   void *opaque)
{
    RecursiveForeach rf = { fn, opaque };

    return object_child_foreach(obj, child_foreach_recursive_cb, &rf);
}

Object *object_resolve_path_component(Object *parent, const char *part)
{
    ObjectProperty *prop = object_property_find(parent, part);

    if (!prop) {
        return NULL;
    }
    if (object_property_is_child(prop)) {
        return prop->opaque;
    }
    if (object_property_is_link(prop)) {
        return object_link_property_target(prop);
    }
    return NULL;
}

static Object *resolve_abs(Object *obj, char **parts, const char *typename)
{
    for (; *parts && obj; parts++) {
        if (**parts) {
            obj = object_resolve_path_component(obj, *parts);
        }
    }
    if (obj && typename && !object_dynamic_cast(obj, typename)) {
        return NULL;
    }
    return obj;
}

static Object *resolve_partial(Object *parent, char **parts,
                               const char *typename, bool *ambiguous)
{
    Object *found = resolve_abs(parent, parts, typename);
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, parent->properties);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        ObjectProperty *prop = value;
        Object *match;

        if (!object_property_is_child(prop)) {
            continue;
        }
        match = resolve_partial(prop->opaque, parts, typename, ambiguous);
        if (*ambiguous) {
            return NULL;
        }
        if (match) {
            if (found && found != match) {
                *ambiguous = true;
                return NULL;
            }
            found = match;
        }
    }
    return found;
}

Object *object_resolve_path_type(const char *path, const char *typename,
                                 bool *ambiguous)
{
    g_auto(GStrv) parts = g_strsplit(path, "/", -1);
    bool dummy = false;
    Object *obj;

    if (!ambiguous) {
        ambiguous = &dummy;
    }
    *ambiguous = false;
    if (!*path) {
        return NULL;
    }
    if (path[0] == '/') {
        return resolve_abs(object_get_root(), parts + 1, typename);
    }
    obj = resolve_partial(object_get_root(), parts, typename, ambiguous);
    return *ambiguous ? NULL : obj;
}

Object *object_resolve_path(const char *path, bool *ambiguous)
{
    return object_resolve_path_type(path, TYPE_OBJECT, ambiguous);
}

/* Lifetime */

static void object_init_with_type(Object *obj, TypeImpl *ti)
{
    TypeImpl *parent = type_get_parent(ti);

    if (parent) {
        object_init_with_type(obj, parent);
    }
    if (ti->instance_init) {
        ti->instance_init(obj);
    }
}

static void object_post_init_with_type(Object *obj, TypeImpl *ti)
{
    TypeImpl *parent = type_get_parent(ti);

    if (parent) {
        object_post_init_with_type(obj, parent);
    }
    if (ti->instance_post_init) {
        ti->instance_post_init(obj);
    }
}

static void object_class_property_init_all(Object *obj)
{
    ObjectPropertyIterator iter;
    ObjectProperty *prop;

    object_class_property_iter_init(&iter, obj->klass);
    while ((prop = object_property_iter_next(&iter))) {
        if (prop->init) {
            prop->init(obj, prop);
        }
    }
}

Object *object_new_with_class(ObjectClass *klass)
{
    TypeImpl *ti = klass->type;
    Object *obj;
    size_t size = type_instance_size(ti);

    if (ti->abstract || size < sizeof(Object)) {
        fprintf(stderr, "QOM: cannot instantiate %s type '%s'\n",
                ti->abstract ? "abstract" : "interface", ti->name);
        abort();
    }
    obj = g_malloc0(size);
    obj->klass = klass;
    obj->ref = 1;
    obj->properties = g_hash_table_new(g_str_hash, g_str_equal);
    object_class_property_init_all(obj);
    object_init_with_type(obj, ti);
    object_post_init_with_type(obj, ti);
    return obj;
}

Object *object_new(const char *typename)
{
    ObjectClass *klass = object_class_by_name(typename);

    if (!klass) {
        fprintf(stderr, "QOM: unknown type '%s'\n", typename);
        abort();
    }
    return object_new_with_class(klass);
}

Object *object_ref(void *opaque)
{
    Object *obj = opaque;

    if (obj) {
        obj->ref++;
    }
    return obj;
}

static void object_property_del_all(Object *obj)
{
    bool released;

    /* Releasing a property may add or remove others: loop until empty. */
    do {
        GHashTableIter it;
        gpointer key;

        released = false;
        g_hash_table_iter_init(&it, obj->properties);
        if (g_hash_table_iter_next(&it, &key, NULL)) {
            g_autofree char *name = g_strdup(key);

            object_property_del(obj, name);
            released = true;
        }
    } while (released);
}

static void object_finalize(Object *obj)
{
    ObjectPropertyIterator iter;
    ObjectProperty *prop;

    object_property_del_all(obj);
    /* Class properties may own per-instance data (string fields). */
    object_class_property_iter_init(&iter, obj->klass);
    while ((prop = object_property_iter_next(&iter))) {
        if (prop->release) {
            prop->release(obj, prop);
        }
    }
    for (TypeImpl *ti = obj->klass->type; ti; ti = type_get_parent(ti)) {
        if (ti->instance_finalize) {
            ti->instance_finalize(obj);
        }
    }
    g_hash_table_destroy(obj->properties);
    g_free(obj);
}

void object_unref(void *opaque)
{
    Object *obj = opaque;

    if (!obj) {
        return;
    }
    if (obj->ref == 0) {
        fprintf(stderr, "QOM: unref of a dead object\n");
        abort();
    }
    if (--obj->ref == 0) {
        object_finalize(obj);
    }
}

/* The root and containers */

static const TypeInfo object_types[] = {
    {
        .name = TYPE_OBJECT,
        .instance_size = sizeof(Object),
        .class_size = sizeof(ObjectClass),
        .abstract = true,
    },
    {
        .name = TYPE_INTERFACE,
        .class_size = sizeof(InterfaceClass),
        .abstract = true,
    },
    {
        .name = TYPE_CONTAINER,
        .parent = TYPE_OBJECT,
    },
};

DEFINE_TYPES(object_types)

static Object *root_object;

Object *object_get_root(void)
{
    if (!root_object) {
        root_object = object_new(TYPE_CONTAINER);
    }
    return root_object;
}

Object *container_get(Object *root, const char *path)
{
    g_auto(GStrv) parts = g_strsplit(path, "/", -1);
    Object *obj = root;

    for (char **p = parts; *p; p++) {
        Object *child;

        if (!**p) {
            continue;
        }
        child = object_resolve_path_component(obj, *p);
        if (!child) {
            child = object_new(TYPE_CONTAINER);
            object_property_add_child(obj, *p, child);
            object_unref(child);
        }
        obj = child;
    }
    return obj;
}

Object *object_get_container(const char *name)
{
    return container_get(object_get_root(), name);
}

Object *object_get_objects_root(void)
{
    return object_get_container("objects");
}
