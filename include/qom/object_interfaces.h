/*
 * User-creatable objects: -object TYPE,id=ID,... and object-add/object-del.
 *
 * A type that implements TYPE_USER_CREATABLE can be created by the user.
 * It lives at /objects/<id>.  complete() runs once all properties are set
 * (a backend opens its files there); can_be_deleted() lets an object in use
 * refuse object-del.
 */
#ifndef QOM_OBJECT_INTERFACES_H
#define QOM_OBJECT_INTERFACES_H

#include "qom/object.h"

#define TYPE_USER_CREATABLE "user-creatable"

typedef struct UserCreatable UserCreatable;   /* opaque: cast of Object */

typedef struct UserCreatableClass {
    InterfaceClass parent_class;
    bool (*complete)(UserCreatable *uc, Error **errp);
    bool (*can_be_deleted)(UserCreatable *uc);
} UserCreatableClass;

#define USER_CREATABLE(obj) \
    INTERFACE_CHECK(UserCreatable, (obj), TYPE_USER_CREATABLE)
#define USER_CREATABLE_GET_CLASS(obj) \
    OBJECT_GET_CLASS(UserCreatableClass, (obj), TYPE_USER_CREATABLE)

/* An identifier: a letter, then letters, digits, '-', '.', '_'. */
bool id_wellformed(const char *id);

bool user_creatable_complete(UserCreatable *uc, Error **errp);
bool user_creatable_can_be_deleted(UserCreatable *uc);

/*
 * Creates an object of type with the given properties, completes it and
 * adds it at /objects/<id>.  props are JSON values, or strings to be parsed
 * when from_cli.  Returns the object (the tree holds the reference) or NULL.
 */
Object *user_creatable_add_type(const char *type, const char *id,
                                JsonObject *props, bool from_cli,
                                Error **errp);
/*
 * -object: "TYPE,id=ID,prop=value,...".  "-object help" lists the types,
 * "-object TYPE,help" the type's properties; *help_printed tells the caller
 * to exit.
 */
bool user_creatable_add_from_str(const char *optarg, bool *help_printed,
                                 Error **errp);
/* object-add: a flat object {"qom-type": T, "id": I, props...}. */
bool user_creatable_add_json(JsonObject *args, Error **errp);
bool user_creatable_del(const char *id, Error **errp);
/* Deletes all user-created objects (at exit). */
void user_creatable_cleanup(void);

/* Prints the properties of a type in "-device T,help" format. */
void type_print_properties(const char *type);

#endif
