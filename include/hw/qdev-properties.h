/*
 * Static device properties: configuration fields of a device's state
 * struct, declared in a table and exposed as QOM class properties.  They
 * can be set only before the device is realized.
 */
#ifndef HW_QDEV_PROPERTIES_H
#define HW_QDEV_PROPERTIES_H

#include <stddef.h>
#include "hw/qdev-core.h"
#include "qapi/qapi-types.h"

typedef struct PropertyInfo {
    const char *type;          /* QOM property type name */
    const char *description;
    const char *const *enum_table;  /* NULL-terminated, enum types only */
    bool (*get)(Object *obj, const Property *prop, JsonNode **value,
                Error **errp);
    bool (*set)(Object *obj, const Property *prop, JsonNode *value,
                Error **errp);
    void (*set_default)(Object *obj, const Property *prop);
    JsonNode *(*default_json)(const Property *prop);
    void (*release)(Object *obj, const Property *prop);
} PropertyInfo;

struct Property {
    const char *name;
    const PropertyInfo *info;
    ptrdiff_t offset;
    bool set_default;
    union {
        int64_t i;
        uint64_t u;
    } defval;
    const char *link_type;     /* link properties: the target type */
    const char *description;
};

extern const PropertyInfo qdev_prop_bool;
extern const PropertyInfo qdev_prop_uint8;
extern const PropertyInfo qdev_prop_uint16;
extern const PropertyInfo qdev_prop_uint32;
extern const PropertyInfo qdev_prop_uint64;
extern const PropertyInfo qdev_prop_int32;
extern const PropertyInfo qdev_prop_int64;
extern const PropertyInfo qdev_prop_size;
extern const PropertyInfo qdev_prop_string;
extern const PropertyInfo qdev_prop_on_off_auto;
extern const PropertyInfo qdev_prop_link;

#define DEFINE_PROP(_name, _state, _field, _prop, _type, ...) {      \
        .name = (_name),                                            \
        .info = &(_prop),                                           \
        .offset = offsetof(_state, _field) +                        \
            0 * sizeof(((_state *)0)->_field == (_type)0),          \
        __VA_ARGS__                                                 \
    }

#define DEFINE_PROP_BOOL(_n, _s, _f, _d) \
    DEFINE_PROP(_n, _s, _f, qdev_prop_bool, bool, \
                .set_default = true, .defval.u = (bool)(_d))
#define DEFINE_PROP_UINT8(_n, _s, _f, _d) \
    DEFINE_PROP(_n, _s, _f, qdev_prop_uint8, uint8_t, \
                .set_default = true, .defval.u = (_d))
#define DEFINE_PROP_UINT16(_n, _s, _f, _d) \
    DEFINE_PROP(_n, _s, _f, qdev_prop_uint16, uint16_t, \
                .set_default = true, .defval.u = (_d))
#define DEFINE_PROP_UINT32(_n, _s, _f, _d) \
    DEFINE_PROP(_n, _s, _f, qdev_prop_uint32, uint32_t, \
                .set_default = true, .defval.u = (_d))
#define DEFINE_PROP_UINT64(_n, _s, _f, _d) \
    DEFINE_PROP(_n, _s, _f, qdev_prop_uint64, uint64_t, \
                .set_default = true, .defval.u = (_d))
#define DEFINE_PROP_INT32(_n, _s, _f, _d) \
    DEFINE_PROP(_n, _s, _f, qdev_prop_int32, int32_t, \
                .set_default = true, .defval.i = (_d))
#define DEFINE_PROP_INT64(_n, _s, _f, _d) \
    DEFINE_PROP(_n, _s, _f, qdev_prop_int64, int64_t, \
                .set_default = true, .defval.i = (_d))
#define DEFINE_PROP_SIZE(_n, _s, _f, _d) \
    DEFINE_PROP(_n, _s, _f, qdev_prop_size, uint64_t, \
                .set_default = true, .defval.u = (_d))
#define DEFINE_PROP_STRING(_n, _s, _f) \
    DEFINE_PROP(_n, _s, _f, qdev_prop_string, char *)
#define DEFINE_PROP_ON_OFF_AUTO(_n, _s, _f, _d) \
    DEFINE_PROP(_n, _s, _f, qdev_prop_on_off_auto, OnOffAuto, \
                .set_default = true, .defval.i = (_d))
/* A link<type> property; the field is a pointer to the target object. */
#define DEFINE_PROP_LINK(_n, _s, _f, _type, _ptr_type) \
    DEFINE_PROP(_n, _s, _f, qdev_prop_link, _ptr_type, .link_type = (_type))
#define DEFINE_PROP_END_OF_LIST() { .name = NULL }

/* props: terminated by DEFINE_PROP_END_OF_LIST(); must outlive the class */
void device_class_set_props(DeviceClass *dc, const Property *props);

/* Field address of prop inside obj. */
static inline void *qdev_prop_ptr(Object *obj, const Property *prop)
{
    return (char *)obj + prop->offset;
}

/* The error for a property set after realize. */
void qdev_prop_set_after_realize(DeviceState *dev, const char *name,
                                 Error **errp);
/* false (with errp) if dev is realized: static properties are frozen. */
bool qdev_prop_allow_set(Object *obj, const Property *prop, Error **errp);

/* Integer input: any JSON integer, range-checked; errors as QAPI's. */
bool qdev_prop_get_int_input(const Property *prop, JsonNode *value,
                             int64_t min, int64_t max, int64_t *out,
                             Error **errp);
bool qdev_prop_get_uint_input(const Property *prop, JsonNode *value,
                              uint64_t max, uint64_t *out, Error **errp);

#endif
