/*
 * QOM: the object model.
 *
 * Types are registered at start-up from TypeInfo descriptions.  A type has
 * one parent type (or none, for "object" and "interface"), may be abstract,
 * and may implement interfaces.  The first time a type is used its class is
 * built: the parent's class is copied into the beginning of the new class
 * struct, then the class_init functions run from the root down.
 *
 * Objects are reference counted.  object_new() returns an object with one
 * reference owned by the caller.  object_property_add_child() takes another
 * reference for the parent; object_unparent() drops it.  When the count
 * reaches zero, the properties are released first (children unparented,
 * links dropped, class-property instance data freed), then
 * instance_finalize runs from the most derived type up, then the memory is
 * freed — as in QEMU.  A finalizer that needs a linked object must hold
 * its own reference to it.
 *
 * Properties are named, typed accessors.  Values cross the property
 * interface as JSON (JsonNode, see qapi/qjson.h) so that the command line,
 * QMP and introspection all see the same thing.
 *
 * The composition tree: every object may have child<> properties; the
 * root object is "/" and holds "machine", "objects", "chardevs".  An
 * object's canonical path is the chain of child property names from the
 * root.
 */
#ifndef QOM_OBJECT_H
#define QOM_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include "qapi/error.h"

#define TYPE_OBJECT "object"
#define TYPE_INTERFACE "interface"

typedef struct TypeImpl TypeImpl;
typedef struct ObjectClass ObjectClass;
typedef struct Object Object;
typedef struct ObjectProperty ObjectProperty;
typedef struct InterfaceClass InterfaceClass;

typedef bool ObjectPropertyGet(Object *obj, ObjectProperty *prop,
                               JsonNode **value, Error **errp);
typedef bool ObjectPropertySet(Object *obj, ObjectProperty *prop,
                               JsonNode *value, Error **errp);
typedef void ObjectPropertyRelease(Object *obj, ObjectProperty *prop);
/* Sets the property's default value on a new instance. */
typedef void ObjectPropertyInit(Object *obj, ObjectProperty *prop);

struct ObjectProperty {
    char *name;
    char *type;             /* "bool", "uint32", "str", "child<T>", ... */
    char *description;
    ObjectPropertyGet *get;
    ObjectPropertySet *set;
    ObjectPropertyRelease *release;
    ObjectPropertyInit *init;
    void *opaque;
    JsonNode *defval;       /* shown by device-list-properties; may be NULL */
    const char *const *enum_values; /* NULL-terminated, for enum types */
    bool is_class_prop;
};

struct ObjectClass {
    TypeImpl *type;
    GSList *interfaces;         /* InterfaceClass * */
    GHashTable *properties;     /* name -> ObjectProperty *, this class only */
    /* Detaches the object from whatever holds it (qdev: unrealize). */
    void (*unparent)(Object *obj);
};

struct Object {
    ObjectClass *klass;
    GHashTable *properties;     /* name -> ObjectProperty *, instance only */
    uint32_t ref;
    Object *parent;             /* composition-tree parent, or NULL */
};

struct InterfaceClass {
    ObjectClass parent_class;
    ObjectClass *concrete_class;  /* the class implementing the interface */
    TypeImpl *interface_type;
};

typedef struct InterfaceInfo {
    const char *type;
} InterfaceInfo;

typedef struct TypeInfo {
    const char *name;
    const char *parent;
    size_t instance_size;       /* 0: inherit the parent's */
    void (*instance_init)(Object *obj);
    void (*instance_post_init)(Object *obj);
    void (*instance_finalize)(Object *obj);
    bool abstract;
    size_t class_size;          /* 0: inherit the parent's */
    void (*class_init)(ObjectClass *klass, const void *data);
    void (*class_base_init)(ObjectClass *klass, const void *data);
    const void *class_data;
    const InterfaceInfo *interfaces;  /* terminated by { NULL } */
} TypeInfo;

/* Registration runs from constructors, before main(). */
TypeImpl *type_register_static(const TypeInfo *info);
void type_register_static_array(const TypeInfo *infos, int nr);

#define type_init(function)                                          \
    static void __attribute__((constructor)) do_qom_##function(void) \
    {                                                                \
        function();                                                  \
    }

#define DEFINE_TYPES(type_array)                                     \
    static void do_qom_register_##type_array(void)                  \
    {                                                                \
        type_register_static_array(type_array,                       \
                                   G_N_ELEMENTS(type_array));        \
    }                                                                \
    type_init(do_qom_register_##type_array)

/* Casts.  A failed checked cast is a programming error and aborts. */
#define OBJECT(obj) ((Object *)(obj))
#define OBJECT_CLASS(klass) ((ObjectClass *)(klass))

Object *object_dynamic_cast(Object *obj, const char *typename);
Object *object_dynamic_cast_assert(Object *obj, const char *typename,
                                   const char *file, int line,
                                   const char *func);
ObjectClass *object_class_dynamic_cast(ObjectClass *klass,
                                       const char *typename);
ObjectClass *object_class_dynamic_cast_assert(ObjectClass *klass,
                                              const char *typename,
                                              const char *file, int line,
                                              const char *func);

#define OBJECT_CHECK(type, obj, name) \
    ((type *)object_dynamic_cast_assert(OBJECT(obj), (name), \
                                        __FILE__, __LINE__, __func__))
#define OBJECT_CLASS_CHECK(class_type, klass, name) \
    ((class_type *)object_class_dynamic_cast_assert(OBJECT_CLASS(klass), \
                                        (name), __FILE__, __LINE__, __func__))
#define OBJECT_GET_CLASS(class_type, obj, name) \
    OBJECT_CLASS_CHECK(class_type, object_get_class(OBJECT(obj)), name)

/*
 * Declares the usual cast helpers for a type:
 *   FOO(obj), FOO_CLASS(klass), FOO_GET_CLASS(obj)
 */
#define DECLARE_INSTANCE_CHECKER(InstanceType, OBJ_NAME, TYPENAME) \
    static inline G_GNUC_UNUSED InstanceType *OBJ_NAME(const void *obj) \
    { return OBJECT_CHECK(InstanceType, obj, TYPENAME); }
#define DECLARE_CLASS_CHECKERS(ClassType, OBJ_NAME, TYPENAME) \
    static inline G_GNUC_UNUSED ClassType *OBJ_NAME##_GET_CLASS(const void *obj) \
    { return OBJECT_GET_CLASS(ClassType, obj, TYPENAME); } \
    static inline G_GNUC_UNUSED ClassType *OBJ_NAME##_CLASS(const void *klass) \
    { return OBJECT_CLASS_CHECK(ClassType, klass, TYPENAME); }
#define DECLARE_OBJ_CHECKERS(InstanceType, ClassType, OBJ_NAME, TYPENAME) \
    DECLARE_INSTANCE_CHECKER(InstanceType, OBJ_NAME, TYPENAME) \
    DECLARE_CLASS_CHECKERS(ClassType, OBJ_NAME, TYPENAME)

#define INTERFACE_CHECK(interface, obj, name) \
    ((interface *)object_dynamic_cast_assert(OBJECT((obj)), (name), \
                                             __FILE__, __LINE__, __func__))

/* Types and classes */
ObjectClass *object_class_by_name(const char *typename);
const char *object_class_get_name(ObjectClass *klass);
ObjectClass *object_class_get_parent(ObjectClass *klass);
bool object_class_is_abstract(ObjectClass *klass);
/* Classes that are (or implement) implements_type, sorted by name. */
GSList *object_class_get_list(const char *implements_type,
                              bool include_abstract);
ObjectClass *object_get_class(Object *obj);
const char *object_get_typename(const Object *obj);

/* Lifetime */
Object *object_new(const char *typename);
Object *object_new_with_class(ObjectClass *klass);
Object *object_ref(void *obj);
void object_unref(void *obj);

/* Properties */
ObjectProperty *object_property_add(Object *obj, const char *name,
                                    const char *type,
                                    ObjectPropertyGet *get,
                                    ObjectPropertySet *set,
                                    ObjectPropertyRelease *release,
                                    void *opaque);
ObjectProperty *object_class_property_add(ObjectClass *klass,
                                          const char *name,
                                          const char *type,
                                          ObjectPropertyGet *get,
                                          ObjectPropertySet *set,
                                          ObjectPropertyRelease *release,
                                          void *opaque);
void object_property_set_description(Object *obj, const char *name,
                                     const char *description);
void object_class_property_set_description(ObjectClass *klass,
                                           const char *name,
                                           const char *description);
void object_property_del(Object *obj, const char *name);
ObjectProperty *object_property_find(Object *obj, const char *name);
ObjectProperty *object_property_find_err(Object *obj, const char *name,
                                         Error **errp);
ObjectProperty *object_class_property_find(ObjectClass *klass,
                                           const char *name);

typedef struct ObjectPropertyIterator {
    ObjectClass *nextclass;
    GHashTableIter iter;
} ObjectPropertyIterator;
void object_property_iter_init(ObjectPropertyIterator *iter, Object *obj);
void object_class_property_iter_init(ObjectPropertyIterator *iter,
                                     ObjectClass *klass);
ObjectProperty *object_property_iter_next(ObjectPropertyIterator *iter);
/* All properties of obj (instance first, then classes), sorted by name. */
GSList *object_property_list_sorted(Object *obj);

bool object_property_get(Object *obj, const char *name, JsonNode **value,
                         Error **errp);
bool object_property_set(Object *obj, const char *name, JsonNode *value,
                         Error **errp);
/*
 * Sets a property from its command-line spelling ("on", "0x1000", "4k"),
 * converting by the property type; types that have no command-line form
 * are refused.
 */
bool object_property_parse(Object *obj, const char *name, const char *str,
                           Error **errp);
/*
 * Sets properties from a JSON object of name -> value.  With from_cli,
 * string values are parsed as by object_property_parse().
 */
bool object_set_props_from_json(Object *obj, JsonObject *props,
                                bool from_cli, Error **errp);

bool object_property_set_bool(Object *obj, const char *name, bool value,
                              Error **errp);
bool object_property_get_bool(Object *obj, const char *name, Error **errp);
bool object_property_set_int(Object *obj, const char *name, int64_t value,
                             Error **errp);
int64_t object_property_get_int(Object *obj, const char *name, Error **errp);
bool object_property_set_uint(Object *obj, const char *name, uint64_t value,
                              Error **errp);
uint64_t object_property_get_uint(Object *obj, const char *name,
                                  Error **errp);
bool object_property_set_str(Object *obj, const char *name,
                             const char *value, Error **errp);
char *object_property_get_str(Object *obj, const char *name, Error **errp);
bool object_property_set_link(Object *obj, const char *name, Object *value,
                              Error **errp);
Object *object_property_get_link(Object *obj, const char *name,
                                 Error **errp);

/* Typed property helpers.  get/set may be NULL for read/write-only. */
ObjectProperty *object_property_add_bool(Object *obj, const char *name,
                                         bool (*get)(Object *, Error **),
                                         void (*set)(Object *, bool,
                                                     Error **));
ObjectProperty *object_class_property_add_bool(ObjectClass *klass,
                                               const char *name,
                                               bool (*get)(Object *,
                                                           Error **),
                                               void (*set)(Object *, bool,
                                                           Error **));
ObjectProperty *object_property_add_str(Object *obj, const char *name,
                                        char *(*get)(Object *, Error **),
                                        void (*set)(Object *, const char *,
                                                    Error **));
ObjectProperty *object_class_property_add_str(ObjectClass *klass,
                                              const char *name,
                                              char *(*get)(Object *,
                                                           Error **),
                                              void (*set)(Object *,
                                                          const char *,
                                                          Error **));
/* enum_values: NULL-terminated; the int passed is an index into it. */
ObjectProperty *object_class_property_add_enum(ObjectClass *klass,
                                               const char *name,
                                               const char *typename,
                                               const char *const *enum_values,
                                               int (*get)(Object *,
                                                          Error **),
                                               void (*set)(Object *, int,
                                                           Error **));

typedef enum ObjectPropertyFlags {
    OBJ_PROP_FLAG_READ = 1 << 0,
    OBJ_PROP_FLAG_WRITE = 1 << 1,
    OBJ_PROP_FLAG_READWRITE = OBJ_PROP_FLAG_READ | OBJ_PROP_FLAG_WRITE,
} ObjectPropertyFlags;

/* Integer properties backed by a field of the instance (read-only by
 * default, as in QEMU; pass OBJ_PROP_FLAG_READWRITE to make them settable).
 */
ObjectProperty *object_property_add_uint8_ptr(Object *obj, const char *name,
                                              const uint8_t *v,
                                              ObjectPropertyFlags flags);
ObjectProperty *object_property_add_uint16_ptr(Object *obj, const char *name,
                                               const uint16_t *v,
                                               ObjectPropertyFlags flags);
ObjectProperty *object_property_add_uint32_ptr(Object *obj, const char *name,
                                               const uint32_t *v,
                                               ObjectPropertyFlags flags);
ObjectProperty *object_property_add_uint64_ptr(Object *obj, const char *name,
                                               const uint64_t *v,
                                               ObjectPropertyFlags flags);

/*
 * link<type> properties.  *targetp holds a reference to the target.
 * check may refuse a new target (NULL: any object of the type, and only
 * while OBJ_PROP_LINK_STRONG... see object_property_allow_set_link).
 */
typedef enum ObjectPropertyLinkFlags {
    OBJ_PROP_LINK_STRONG = 1 << 0, /* holds a reference on the target */
} ObjectPropertyLinkFlags;
ObjectProperty *object_property_add_link(Object *obj, const char *name,
                                         const char *type, Object **targetp,
                                         bool (*check)(const Object *obj,
                                                       const char *name,
                                                       Object *val,
                                                       Error **errp),
                                         ObjectPropertyLinkFlags flags);
/*
 * Resolves the target of link property name: path must name an object of
 * type.  Errors say why not (ambiguous, wrong type, DeviceNotFound).
 */
Object *object_resolve_link(const char *name, const char *path,
                            const char *type, Error **errp);
/* The target of a link made by object_property_add_link(), else NULL. */
Object *object_link_property_target(ObjectProperty *prop);
bool object_property_allow_set_link(const Object *obj, const char *name,
                                    Object *val, Error **errp);

/* Composition tree */
ObjectProperty *object_property_add_child(Object *obj, const char *name,
                                          Object *child);
/* Removes obj from its parent (dropping the parent's reference). */
void object_unparent(Object *obj);
Object *object_get_root(void);
Object *object_get_objects_root(void);
Object *object_get_container(const char *name); /* /<name>, created on use */
Object *container_get(Object *root, const char *path);
char *object_get_canonical_path(const Object *obj);
const char *object_get_canonical_path_component(const Object *obj);
/*
 * Resolves an absolute path ("/machine/peripheral/x") or a partial one
 * ("x", "q35/ioapic"): a partial path matches any object whose canonical
 * path ends with it; *ambiguous is set when several do.
 */
Object *object_resolve_path(const char *path, bool *ambiguous);
Object *object_resolve_path_type(const char *path, const char *typename,
                                 bool *ambiguous);
Object *object_resolve_path_component(Object *parent, const char *part);
int object_child_foreach(Object *obj,
                         int (*fn)(Object *child, void *opaque),
                         void *opaque);
int object_child_foreach_recursive(Object *obj,
                                   int (*fn)(Object *child, void *opaque),
                                   void *opaque);
bool object_property_is_child(const ObjectProperty *prop);
bool object_property_is_link(const ObjectProperty *prop);

/* Interface "container": a plain object that only holds children. */
#define TYPE_CONTAINER "container"

#endif
