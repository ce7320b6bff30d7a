/*
 * QOM: typed property helpers (bool, str, enum, integer fields, links) and
 * the typed get/set convenience functions.  The property core (add, find,
 * get, set, parse) and the composition tree are in object.c.
 */
#include <inttypes.h>
#include <string.h>

#include "qom/object.h"
#include "qapi/qjson.h"

/* Typed accessors */

static bool set_node(Object *obj, const char *name, JsonNode *value,
                     Error **errp)
{
    bool ok = object_property_set(obj, name, value, errp);

    json_node_unref(value);
    return ok;
}

bool object_property_set_bool(Object *obj, const char *name, bool value,
                              Error **errp)
{
    return set_node(obj, name, qjson_new_bool(value), errp);
}

bool object_property_set_int(Object *obj, const char *name, int64_t value,
                             Error **errp)
{
    return set_node(obj, name, qjson_new_int(value), errp);
}

bool object_property_set_uint(Object *obj, const char *name, uint64_t value,
                              Error **errp)
{
    return set_node(obj, name, qjson_new_uint(value), errp);
}

bool object_property_set_str(Object *obj, const char *name,
                             const char *value, Error **errp)
{
    return set_node(obj, name, qjson_new_str(value), errp);
}

bool object_property_set_link(Object *obj, const char *name, Object *value,
                              Error **errp)
{
    g_autofree char *path = value ? object_get_canonical_path(value) : NULL;

    return set_node(obj, name, qjson_new_str(path ? path : ""), errp);
}

static JsonNode *get_node(Object *obj, const char *name, Error **errp)
{
    JsonNode *value;

    if (!object_property_get(obj, name, &value, errp)) {
        return NULL;
    }
    return value;
}

bool object_property_get_bool(Object *obj, const char *name, Error **errp)
{
    JsonNode *value = get_node(obj, name, errp);
    bool ret = false;

    if (value && qjson_is_bool(value)) {
        ret = json_node_get_boolean(value);
    } else if (value) {
        error_setg(errp, "Invalid parameter type for '%s', expected: boolean",
                   name);
    }
    if (value) {
        json_node_unref(value);
    }
    return ret;
}

int64_t object_property_get_int(Object *obj, const char *name, Error **errp)
{
    JsonNode *value = get_node(obj, name, errp);
    int64_t ret = -1;

    if (value && qjson_is_int(value)) {
        ret = json_node_get_int(value);
    } else if (value) {
        error_setg(errp, "Invalid parameter type for '%s', expected: integer",
                   name);
    }
    if (value) {
        json_node_unref(value);
    }
    return ret;
}

uint64_t object_property_get_uint(Object *obj, const char *name,
                                  Error **errp)
{
    return (uint64_t)object_property_get_int(obj, name, errp);
}

char *object_property_get_str(Object *obj, const char *name, Error **errp)
{
    JsonNode *value = get_node(obj, name, errp);
    char *ret = NULL;

    if (value && qjson_is_str(value)) {
        ret = g_strdup(json_node_get_string(value));
    } else if (value) {
        error_setg(errp, "Invalid parameter type for '%s', expected: string",
                   name);
    }
    if (value) {
        json_node_unref(value);
    }
    return ret;
}

Object *object_property_get_link(Object *obj, const char *name,
                                 Error **errp)
{
    g_autofree char *path = object_property_get_str(obj, name, errp);

    if (!path || !*path) {
        return NULL;
    }
    return object_resolve_path(path, NULL);
}

/* bool */

typedef struct BoolProperty {
    bool (*get)(Object *, Error **);
    void (*set)(Object *, bool, Error **);
} BoolProperty;

static bool property_get_bool(Object *obj, ObjectProperty *prop,
                              JsonNode **value, Error **errp)
{
    BoolProperty *bp = prop->opaque;
    Error *err = NULL;
    bool v = bp->get(obj, &err);

    if (err) {
        error_propagate(errp, err);
        return false;
    }
    *value = qjson_new_bool(v);
    return true;
}

static bool property_set_bool(Object *obj, ObjectProperty *prop,
                              JsonNode *value, Error **errp)
{
    BoolProperty *bp = prop->opaque;
    Error *err = NULL;

    if (!qjson_is_bool(value)) {
        error_setg(errp, "Invalid parameter type for '%s', expected: boolean",
                   prop->name);
        return false;
    }
    bp->set(obj, json_node_get_boolean(value), &err);
    if (err) {
        error_propagate(errp, err);
        return false;
    }
    return true;
}

static void property_release_opaque(Object *obj, ObjectProperty *prop)
{
    g_free(prop->opaque);
}

ObjectProperty *object_property_add_bool(Object *obj, const char *name,
                                         bool (*get)(Object *, Error **),
                                         void (*set)(Object *, bool,
                                                     Error **))
{
    BoolProperty *bp = g_new0(BoolProperty, 1);

    bp->get = get;
    bp->set = set;
    return object_property_add(obj, name, "bool",
                               get ? property_get_bool : NULL,
                               set ? property_set_bool : NULL,
                               property_release_opaque, bp);
}

ObjectProperty *object_class_property_add_bool(ObjectClass *klass,
                                               const char *name,
                                               bool (*get)(Object *,
                                                           Error **),
                                               void (*set)(Object *, bool,
                                                           Error **))
{
    BoolProperty *bp = g_new0(BoolProperty, 1);

    bp->get = get;
    bp->set = set;
    /* Class properties live as long as the class: never released. */
    return object_class_property_add(klass, name, "bool",
                                     get ? property_get_bool : NULL,
                                     set ? property_set_bool : NULL,
                                     NULL, bp);
}

/* str */

typedef struct StringProperty {
    char *(*get)(Object *, Error **);
    void (*set)(Object *, const char *, Error **);
} StringProperty;

static bool property_get_str(Object *obj, ObjectProperty *prop,
                             JsonNode **value, Error **errp)
{
    StringProperty *sp = prop->opaque;
    Error *err = NULL;
    char *s = sp->get(obj, &err);

    if (err) {
        error_propagate(errp, err);
        return false;
    }
    *value = qjson_new_str(s ? s : "");
    g_free(s);
    return true;
}

static bool property_set_str(Object *obj, ObjectProperty *prop,
                             JsonNode *value, Error **errp)
{
    StringProperty *sp = prop->opaque;
    Error *err = NULL;

    if (!qjson_is_str(value)) {
        error_setg(errp, "Invalid parameter type for '%s', expected: string",
                   prop->name);
        return false;
    }
    sp->set(obj, json_node_get_string(value), &err);
    if (err) {
        error_propagate(errp, err);
        return false;
    }
    return true;
}

ObjectProperty *object_property_add_str(Object *obj, const char *name,
                                        char *(*get)(Object *, Error **),
                                        void (*set)(Object *, const char *,
                                                    Error **))
{
    StringProperty *sp = g_new0(StringProperty, 1);

    sp->get = get;
    sp->set = set;
    return object_property_add(obj, name, "str",
                               get ? property_get_str : NULL,
                               set ? property_set_str : NULL,
                               property_release_opaque, sp);
}

ObjectProperty *object_class_property_add_str(ObjectClass *klass,
                                              const char *name,
                                              char *(*get)(Object *,
                                                           Error **),
                                              void (*set)(Object *,
                                                          const char *,
                                                          Error **))
{
    StringProperty *sp = g_new0(StringProperty, 1);

    sp->get = get;
    sp->set = set;
    return object_class_property_add(klass, name, "str",
                                     get ? property_get_str : NULL,
                                     set ? property_set_str : NULL,
                                     NULL, sp);
}

/* enum */

typedef struct EnumProperty {
    int (*get)(Object *, Error **);
    void (*set)(Object *, int, Error **);
} EnumProperty;

static bool property_get_enum(Object *obj, ObjectProperty *prop,
                              JsonNode **value, Error **errp)
{
    EnumProperty *ep = prop->opaque;
    Error *err = NULL;
    int v = ep->get(obj, &err);

    if (err) {
        error_propagate(errp, err);
        return false;
    }
    if (v < 0 || v >= (int)g_strv_length((char **)prop->enum_values)) {
        error_setg(errp, "Property '%s' has an invalid value", prop->name);
        return false;
    }
    *value = qjson_new_str(prop->enum_values[v]);
    return true;
}

static int enum_lookup(const char *const *values, const char *s)
{
    for (int i = 0; values[i]; i++) {
        if (!strcmp(values[i], s)) {
            return i;
        }
    }
    return -1;
}

static bool property_set_enum(Object *obj, ObjectProperty *prop,
                              JsonNode *value, Error **errp)
{
    EnumProperty *ep = prop->opaque;
    Error *err = NULL;
    int v;

    if (!qjson_is_str(value)) {
        error_setg(errp, "Invalid parameter type for '%s', expected: string",
                   prop->name);
        return false;
    }
    v = enum_lookup(prop->enum_values, json_node_get_string(value));
    if (v < 0) {
        error_setg(errp, "Parameter '%s' does not accept value '%s'",
                   prop->name, json_node_get_string(value));
        return false;
    }
    ep->set(obj, v, &err);
    if (err) {
        error_propagate(errp, err);
        return false;
    }
    return true;
}

ObjectProperty *object_class_property_add_enum(ObjectClass *klass,
                                               const char *name,
                                               const char *typename,
                                               const char *const *enum_values,
                                               int (*get)(Object *,
                                                          Error **),
                                               void (*set)(Object *, int,
                                                           Error **))
{
    EnumProperty *ep = g_new0(EnumProperty, 1);
    ObjectProperty *prop;

    ep->get = get;
    ep->set = set;
    prop = object_class_property_add(klass, name, typename,
                                     get ? property_get_enum : NULL,
                                     set ? property_set_enum : NULL,
                                     NULL, ep);
    prop->enum_values = enum_values;
    return prop;
}

/* Integers backed by an instance field */

typedef struct UintPtrProperty {
    void *ptr;
    unsigned bytes;
} UintPtrProperty;

static bool property_get_uint_ptr(Object *obj, ObjectProperty *prop,
                                  JsonNode **value, Error **errp)
{
    UintPtrProperty *up = prop->opaque;
    uint64_t v = 0;

    switch (up->bytes) {
    case 1: v = *(uint8_t *)up->ptr; break;
    case 2: v = *(uint16_t *)up->ptr; break;
    case 4: v = *(uint32_t *)up->ptr; break;
    default: v = *(uint64_t *)up->ptr; break;
    }
    *value = qjson_new_uint(v);
    return true;
}

static bool property_set_uint_ptr(Object *obj, ObjectProperty *prop,
                                  JsonNode *value, Error **errp)
{
    UintPtrProperty *up = prop->opaque;
    uint64_t v;

    if (!qjson_is_int(value)) {
        error_setg(errp, "Invalid parameter type for '%s', expected: integer",
                   prop->name);
        return false;
    }
    v = (uint64_t)json_node_get_int(value);
    if (up->bytes < 8 && v >> (up->bytes * 8)) {
        error_setg(errp, "Parameter '%s' expects %s", prop->name,
                   prop->type);
        return false;
    }
    switch (up->bytes) {
    case 1: *(uint8_t *)up->ptr = v; break;
    case 2: *(uint16_t *)up->ptr = v; break;
    case 4: *(uint32_t *)up->ptr = v; break;
    default: *(uint64_t *)up->ptr = v; break;
    }
    return true;
}

static ObjectProperty *add_uint_ptr(Object *obj, const char *name,
                                    const char *type, const void *v,
                                    unsigned bytes, ObjectPropertyFlags flags)
{
    UintPtrProperty *up = g_new0(UintPtrProperty, 1);

    up->ptr = (void *)v;
    up->bytes = bytes;
    return object_property_add(obj, name, type,
                               (flags & OBJ_PROP_FLAG_READ) || !flags ?
                               property_get_uint_ptr : NULL,
                               flags & OBJ_PROP_FLAG_WRITE ?
                               property_set_uint_ptr : NULL,
                               property_release_opaque, up);
}

ObjectProperty *object_property_add_uint8_ptr(Object *obj, const char *name,
                                              const uint8_t *v,
                                              ObjectPropertyFlags flags)
{
    return add_uint_ptr(obj, name, "uint8", v, 1, flags);
}

ObjectProperty *object_property_add_uint16_ptr(Object *obj, const char *name,
                                               const uint16_t *v,
                                               ObjectPropertyFlags flags)
{
    return add_uint_ptr(obj, name, "uint16", v, 2, flags);
}

ObjectProperty *object_property_add_uint32_ptr(Object *obj, const char *name,
                                               const uint32_t *v,
                                               ObjectPropertyFlags flags)
{
    return add_uint_ptr(obj, name, "uint32", v, 4, flags);
}

ObjectProperty *object_property_add_uint64_ptr(Object *obj, const char *name,
                                               const uint64_t *v,
                                               ObjectPropertyFlags flags)
{
    return add_uint_ptr(obj, name, "uint64", v, 8, flags);
}

/* Links */

typedef struct LinkProperty {
    Object **targetp;
    bool (*check)(const Object *, const char *, Object *, Error **);
    ObjectPropertyLinkFlags flags;
} LinkProperty;

bool object_property_allow_set_link(const Object *obj, const char *name,
                                    Object *val, Error **errp)
{
    return true;
}

Object *object_resolve_link(const char *name, const char *path,
                            const char *type, Error **errp)
{
    bool ambiguous = false;
    Object *target = object_resolve_path_type(path, type, &ambiguous);

    if (!target) {
        if (ambiguous) {
            error_setg(errp, "Path '%s' is ambiguous", path);
        } else if (object_resolve_path(path, NULL)) {
            error_setg(errp, "Invalid parameter type for '%s', expected: %s",
                       name, type);
        } else {
            error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND,
                      "Device '%s' not found", path);
        }
    }
    return target;
}

static bool property_get_link(Object *obj, ObjectProperty *prop,
                              JsonNode **value, Error **errp)
{
    LinkProperty *lp = prop->opaque;

    if (*lp->targetp) {
        g_autofree char *path = object_get_canonical_path(*lp->targetp);

        *value = qjson_new_str(path ? path : "");
    } else {
        *value = qjson_new_str("");
    }
    return true;
}

static char *link_target_type(const ObjectProperty *prop)
{
    /* "link<T>" -> "T" */
    return g_strndup(prop->type + 5, strlen(prop->type) - 6);
}

static bool property_set_link(Object *obj, ObjectProperty *prop,
                              JsonNode *value, Error **errp)
{
    LinkProperty *lp = prop->opaque;
    g_autofree char *type = link_target_type(prop);
    Object *old = *lp->targetp, *target = NULL;
    const char *path;

    if (!qjson_is_str(value)) {
        error_setg(errp, "Invalid parameter type for '%s', expected: string",
                   prop->name);
        return false;
    }
    path = json_node_get_string(value);
    if (*path && !(target = object_resolve_link(prop->name, path, type,
                                                errp))) {
        return false;
    }
    if (lp->check && !lp->check(obj, prop->name, target, errp)) {
        return false;
    }
    *lp->targetp = target;
    if (lp->flags & OBJ_PROP_LINK_STRONG) {
        if (target) {
            object_ref(target);
        }
        if (old) {
            object_unref(old);
        }
    }
    return true;
}

static void property_release_link(Object *obj, ObjectProperty *prop)
{
    LinkProperty *lp = prop->opaque;

    if ((lp->flags & OBJ_PROP_LINK_STRONG) && *lp->targetp) {
        object_unref(*lp->targetp);
        *lp->targetp = NULL;
    }
    g_free(lp);
}

ObjectProperty *object_property_add_link(Object *obj, const char *name,
                                         const char *type, Object **targetp,
                                         bool (*check)(const Object *obj,
                                                       const char *name,
                                                       Object *val,
                                                       Error **errp),
                                         ObjectPropertyLinkFlags flags)
{
    LinkProperty *lp = g_new0(LinkProperty, 1);
    g_autofree char *full_type = g_strdup_printf("link<%s>", type);

    lp->targetp = targetp;
    lp->check = check;
    lp->flags = flags;
    return object_property_add(obj, name, full_type, property_get_link,
                               check ? property_set_link : NULL,
                               property_release_link, lp);
}

Object *object_link_property_target(ObjectProperty *prop)
{
    /* Only links made here keep their target where paths can follow it. */
    if (prop->get != property_get_link) {
        return NULL;
    }
    return *((LinkProperty *)prop->opaque)->targetp;
}
