/*
 * Static device properties.
 */
#include <inttypes.h>
#include <string.h>

#include "hw/qdev-properties.h"
#include "qapi/qjson.h"

void qdev_prop_set_after_realize(DeviceState *dev, const char *name,
                                 Error **errp)
{
    if (dev->id) {
        error_setg(errp, "Attempt to set property '%s' on device '%s' "
                   "(type '%s') after it was realized", name, dev->id,
                   object_get_typename(OBJECT(dev)));
    } else {
        error_setg(errp, "Attempt to set property '%s' on anonymous device "
                   "(type '%s') after it was realized", name,
                   object_get_typename(OBJECT(dev)));
    }
}

bool qdev_prop_allow_set(Object *obj, const Property *prop, Error **errp)
{
    DeviceState *dev = (DeviceState *)object_dynamic_cast(obj, TYPE_DEVICE);

    if (dev && dev->realized) {
        qdev_prop_set_after_realize(dev, prop->name, errp);
        return false;
    }
    return true;
}

bool qdev_prop_get_int_input(const Property *prop, JsonNode *value,
                             int64_t min, int64_t max, int64_t *out,
                             Error **errp)
{
    int64_t v;

    if (!qjson_is_int(value) || qjson_is_uint_node(value)) {
        if (qjson_is_uint_node(value)) {
            error_setg(errp, "Parameter '%s' expects %s", prop->name,
                       prop->info->type);
        } else {
            error_setg(errp, "Invalid parameter type for '%s', expected: "
                       "integer", prop->name);
        }
        return false;
    }
    v = json_node_get_int(value);
    if (v < min || v > max) {
        error_setg(errp, "Parameter '%s' expects %s", prop->name,
                   prop->info->type);
        return false;
    }
    *out = v;
    return true;
}

bool qdev_prop_get_uint_input(const Property *prop, JsonNode *value,
                              uint64_t max, uint64_t *out, Error **errp)
{
    uint64_t v;

    if (!qjson_is_int(value)) {
        error_setg(errp, "Invalid parameter type for '%s', expected: integer",
                   prop->name);
        return false;
    }
    /* Negative numbers wrap, as QAPI's uint64 input does. */
    v = (uint64_t)json_node_get_int(value);
    if (v > max) {
        error_setg(errp, "Parameter '%s' expects %s", prop->name,
                   prop->info->type);
        return false;
    }
    *out = v;
    return true;
}

/* bool */

static bool prop_get_bool(Object *obj, const Property *prop,
                          JsonNode **value, Error **errp)
{
    *value = qjson_new_bool(*(bool *)qdev_prop_ptr(obj, prop));
    return true;
}

static bool prop_set_bool(Object *obj, const Property *prop,
                          JsonNode *value, Error **errp)
{
    if (!qjson_is_bool(value)) {
        error_setg(errp, "Invalid parameter type for '%s', expected: boolean",
                   prop->name);
        return false;
    }
    *(bool *)qdev_prop_ptr(obj, prop) = json_node_get_boolean(value);
    return true;
}

static void prop_default_bool(Object *obj, const Property *prop)
{
    *(bool *)qdev_prop_ptr(obj, prop) = prop->defval.u;
}

static JsonNode *prop_default_json_bool(const Property *prop)
{
    return qjson_new_bool(prop->defval.u);
}

const PropertyInfo qdev_prop_bool = {
    .type = "bool",
    .get = prop_get_bool,
    .set = prop_set_bool,
    .set_default = prop_default_bool,
    .default_json = prop_default_json_bool,
};

/* Unsigned integers */

static uint64_t uint_field_get(Object *obj, const Property *prop,
                               unsigned bytes)
{
    void *p = qdev_prop_ptr(obj, prop);

    switch (bytes) {
    case 1: return *(uint8_t *)p;
    case 2: return *(uint16_t *)p;
    case 4: return *(uint32_t *)p;
    default: return *(uint64_t *)p;
    }
}

static void uint_field_set(Object *obj, const Property *prop, unsigned bytes,
                           uint64_t v)
{
    void *p = qdev_prop_ptr(obj, prop);

    switch (bytes) {
    case 1: *(uint8_t *)p = v; break;
    case 2: *(uint16_t *)p = v; break;
    case 4: *(uint32_t *)p = v; break;
    default: *(uint64_t *)p = v; break;
    }
}

#define DEFINE_UINT_PROP(bits, typename)                                    \
static bool prop_get_u##bits(Object *obj, const Property *prop,            \
                             JsonNode **value, Error **errp)               \
{                                                                          \
    *value = qjson_new_uint(uint_field_get(obj, prop, bits / 8));          \
    return true;                                                           \
}                                                                          \
static bool prop_set_u##bits(Object *obj, const Property *prop,            \
                             JsonNode *value, Error **errp)                \
{                                                                          \
    uint64_t v;                                                            \
                                                                           \
    if (!qdev_prop_get_uint_input(prop, value,                             \
                                  bits == 64 ? UINT64_MAX :                \
                                  (UINT64_C(1) << (bits & 63)) - 1,        \
                                  &v, errp)) {                             \
        return false;                                                      \
    }                                                                      \
    uint_field_set(obj, prop, bits / 8, v);                                \
    return true;                                                           \
}                                                                          \
static void prop_default_u##bits(Object *obj, const Property *prop)        \
{                                                                          \
    uint_field_set(obj, prop, bits / 8, prop->defval.u);                   \
}                                                                          \
static JsonNode *prop_default_json_u##bits(const Property *prop)           \
{                                                                          \
    return qjson_new_uint(prop->defval.u);                                 \
}                                                                          \
const PropertyInfo qdev_prop_##typename = {                                \
    .type = #typename,                                                     \
    .get = prop_get_u##bits,                                               \
    .set = prop_set_u##bits,                                               \
    .set_default = prop_default_u##bits,                                   \
    .default_json = prop_default_json_u##bits,                             \
};

DEFINE_UINT_PROP(8, uint8)
DEFINE_UINT_PROP(16, uint16)
DEFINE_UINT_PROP(32, uint32)
DEFINE_UINT_PROP(64, uint64)

const PropertyInfo qdev_prop_size = {
    .type = "size",
    .get = prop_get_u64,
    .set = prop_set_u64,
    .set_default = prop_default_u64,
    .default_json = prop_default_json_u64,
};

/* Signed integers */

static bool prop_get_i32(Object *obj, const Property *prop, JsonNode **value,
                         Error **errp)
{
    *value = qjson_new_int(*(int32_t *)qdev_prop_ptr(obj, prop));
    return true;
}

static bool prop_set_i32(Object *obj, const Property *prop, JsonNode *value,
                         Error **errp)
{
    int64_t v;

    if (!qdev_prop_get_int_input(prop, value, INT32_MIN, INT32_MAX, &v,
                                 errp)) {
        return false;
    }
    *(int32_t *)qdev_prop_ptr(obj, prop) = v;
    return true;
}

static void prop_default_i32(Object *obj, const Property *prop)
{
    *(int32_t *)qdev_prop_ptr(obj, prop) = prop->defval.i;
}

static JsonNode *prop_default_json_int(const Property *prop)
{
    return qjson_new_int(prop->defval.i);
}

const PropertyInfo qdev_prop_int32 = {
    .type = "int32",
    .get = prop_get_i32,
    .set = prop_set_i32,
    .set_default = prop_default_i32,
    .default_json = prop_default_json_int,
};

static bool prop_get_i64(Object *obj, const Property *prop, JsonNode **value,
                         Error **errp)
{
    *value = qjson_new_int(*(int64_t *)qdev_prop_ptr(obj, prop));
    return true;
}

static bool prop_set_i64(Object *obj, const Property *prop, JsonNode *value,
                         Error **errp)
{
    int64_t v;

    if (!qdev_prop_get_int_input(prop, value, INT64_MIN, INT64_MAX, &v,
                                 errp)) {
        return false;
    }
    *(int64_t *)qdev_prop_ptr(obj, prop) = v;
    return true;
}

static void prop_default_i64(Object *obj, const Property *prop)
{
    *(int64_t *)qdev_prop_ptr(obj, prop) = prop->defval.i;
}

const PropertyInfo qdev_prop_int64 = {
    .type = "int64",
    .get = prop_get_i64,
    .set = prop_set_i64,
    .set_default = prop_default_i64,
    .default_json = prop_default_json_int,
};

/* Strings */

static bool prop_get_string(Object *obj, const Property *prop,
                            JsonNode **value, Error **errp)
{
    char *s = *(char **)qdev_prop_ptr(obj, prop);

    *value = s ? qjson_new_str(s) : qjson_new_null();
    return true;
}

static bool prop_set_string(Object *obj, const Property *prop,
                            JsonNode *value, Error **errp)
{
    char **p = qdev_prop_ptr(obj, prop);

    if (!qjson_is_str(value)) {
        error_setg(errp, "Invalid parameter type for '%s', expected: string",
                   prop->name);
        return false;
    }
    g_free(*p);
    *p = g_strdup(json_node_get_string(value));
    return true;
}

static void prop_release_string(Object *obj, const Property *prop)
{
    char **p = qdev_prop_ptr(obj, prop);

    g_free(*p);
    *p = NULL;
}

const PropertyInfo qdev_prop_string = {
    .type = "str",
    .get = prop_get_string,
    .set = prop_set_string,
    .release = prop_release_string,
};

/* OnOffAuto */

static const char *const on_off_auto_table[] = { "auto", "on", "off", NULL };

static bool prop_get_enum(Object *obj, const Property *prop,
                          JsonNode **value, Error **errp)
{
    int v = *(int *)qdev_prop_ptr(obj, prop);

    *value = qjson_new_str(prop->info->enum_table[v]);
    return true;
}

static bool prop_set_enum(Object *obj, const Property *prop,
                          JsonNode *value, Error **errp)
{
    const char *s;

    if (!qjson_is_str(value)) {
        error_setg(errp, "Invalid parameter type for '%s', expected: string",
                   prop->name);
        return false;
    }
    s = json_node_get_string(value);
    for (int i = 0; prop->info->enum_table[i]; i++) {
        if (!strcmp(prop->info->enum_table[i], s)) {
            *(int *)qdev_prop_ptr(obj, prop) = i;
            return true;
        }
    }
    error_setg(errp, "Parameter '%s' does not accept value '%s'",
               prop->name, s);
    return false;
}

static void prop_default_enum(Object *obj, const Property *prop)
{
    *(int *)qdev_prop_ptr(obj, prop) = prop->defval.i;
}

static JsonNode *prop_default_json_enum(const Property *prop)
{
    return qjson_new_str(prop->info->enum_table[prop->defval.i]);
}

const PropertyInfo qdev_prop_on_off_auto = {
    .type = "OnOffAuto",
    .description = "on/off/auto",
    .enum_table = on_off_auto_table,
    .get = prop_get_enum,
    .set = prop_set_enum,
    .set_default = prop_default_enum,
    .default_json = prop_default_json_enum,
};

/* Links: the field holds a strong reference to the target. */

static bool prop_get_link(Object *obj, const Property *prop,
                          JsonNode **value, Error **errp)
{
    Object *target = *(Object **)qdev_prop_ptr(obj, prop);
    g_autofree char *path = target ? object_get_canonical_path(target) : NULL;

    *value = qjson_new_str(path ? path : "");
    return true;
}

static bool prop_set_link(Object *obj, const Property *prop,
                          JsonNode *value, Error **errp)
{
    Object **p = qdev_prop_ptr(obj, prop);
    Object *target = NULL;
    const char *path;

    if (!qjson_is_str(value)) {
        error_setg(errp, "Invalid parameter type for '%s', expected: string",
                   prop->name);
        return false;
    }
    path = json_node_get_string(value);
    if (*path) {
        target = object_resolve_link(prop->name, path, prop->link_type,
                                     errp);
        if (!target) {
            return false;
        }
        object_ref(target);
    }
    object_unref(*p);
    *p = target;
    return true;
}

static void prop_release_link(Object *obj, const Property *prop)
{
    Object **p = qdev_prop_ptr(obj, prop);

    object_unref(*p);
    *p = NULL;
}

const PropertyInfo qdev_prop_link = {
    .type = "link",
    .get = prop_get_link,
    .set = prop_set_link,
    .release = prop_release_link,
};

/* Class registration */

static bool field_prop_get(Object *obj, ObjectProperty *op, JsonNode **value,
                           Error **errp)
{
    const Property *prop = op->opaque;

    return prop->info->get(obj, prop, value, errp);
}

static bool field_prop_set(Object *obj, ObjectProperty *op, JsonNode *value,
                           Error **errp)
{
    const Property *prop = op->opaque;

    if (!qdev_prop_allow_set(obj, prop, errp)) {
        return false;
    }
    return prop->info->set(obj, prop, value, errp);
}

static void field_prop_init(Object *obj, ObjectProperty *op)
{
    const Property *prop = op->opaque;

    if (prop->set_default && prop->info->set_default) {
        prop->info->set_default(obj, prop);
    }
}

static void field_prop_release(Object *obj, ObjectProperty *op)
{
    const Property *prop = op->opaque;

    if (prop->info->release) {
        prop->info->release(obj, prop);
    }
}

void device_class_set_props(DeviceClass *dc, const Property *props)
{
    ObjectClass *klass = OBJECT_CLASS(dc);

    dc->props = props;
    for (const Property *prop = props; prop->name; prop++) {
        g_autofree char *type = prop->link_type ?
            g_strdup_printf("link<%s>", prop->link_type) :
            g_strdup(prop->info->type);
        ObjectProperty *op;

        op = object_class_property_add(klass, prop->name, type,
                                       prop->info->get ? field_prop_get : NULL,
                                       prop->info->set ? field_prop_set : NULL,
                                       field_prop_release, (void *)prop);
        op->init = field_prop_init;
        op->enum_values = prop->info->enum_table;
        if (prop->set_default && prop->info->default_json) {
            op->defval = prop->info->default_json(prop);
        }
        if (prop->description || prop->info->description) {
            op->description = g_strdup(prop->description ?
                                       prop->description :
                                       prop->info->description);
        }
    }
}
