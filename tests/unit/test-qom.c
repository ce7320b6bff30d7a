/*
 * QOM unit tests: types, classes, interfaces, casts, reference counting,
 * properties and the composition tree.
 */
#include <glib.h>
#include <string.h>

#include "qom/object.h"
#include "qom/object_interfaces.h"
#include "qapi/qjson.h"

/* A small hierarchy: animal (abstract) <- dog <- puppy; dog implements
 * "barker". */

#define TYPE_ANIMAL "test-animal"
#define TYPE_DOG "test-dog"
#define TYPE_PUPPY "test-puppy"
#define TYPE_BARKER "test-barker"
#define TYPE_THING "test-thing"

typedef struct Animal {
    Object parent_obj;
    int legs;
    bool init_ran;
    int *finalized;       /* counter in the test */
} Animal;

typedef struct AnimalClass {
    ObjectClass parent_class;
    const char *(*sound)(Animal *a);
    int class_inits;
} AnimalClass;

typedef struct Dog {
    Animal parent_obj;
    char *name;
    uint32_t weight;
    bool happy;
    Object *friend;
    int order[3];
    int norder;
} Dog;

typedef struct BarkerClass {
    InterfaceClass parent_class;
    int (*bark_count)(Object *obj);
} BarkerClass;

static int animal_class_init_count;
static int dog_class_init_count;

static const char *animal_sound(Animal *a)
{
    return "...";
}

static const char *dog_sound(Animal *a)
{
    return "woof";
}

static const char *puppy_sound(Animal *a)
{
    return "yip";
}

static int dog_bark_count(Object *obj)
{
    return 2;
}

static int puppy_bark_count(Object *obj)
{
    return 5;
}

static void animal_init(Object *obj)
{
    Animal *a = (Animal *)obj;

    a->init_ran = true;
    a->legs = 4;
}

static void animal_finalize(Object *obj)
{
    Animal *a = (Animal *)obj;

    if (a->finalized) {
        (*a->finalized)++;
    }
}

static char *dog_get_name(Object *obj, Error **errp)
{
    return g_strdup(((Dog *)obj)->name);
}

static void dog_set_name(Object *obj, const char *value, Error **errp)
{
    if (!*value) {
        error_setg(errp, "a dog needs a name");
        return;
    }
    g_free(((Dog *)obj)->name);
    ((Dog *)obj)->name = g_strdup(value);
}

static bool dog_get_happy(Object *obj, Error **errp)
{
    return ((Dog *)obj)->happy;
}

static void dog_set_happy(Object *obj, bool value, Error **errp)
{
    ((Dog *)obj)->happy = value;
}

static bool dog_check_friend(const Object *obj, const char *name, Object *val,
                             Error **errp)
{
    if (val == obj) {
        error_setg(errp, "a dog is not its own friend");
        return false;
    }
    return true;
}

static void dog_init(Object *obj)
{
    Dog *d = (Dog *)obj;

    /* Parent instance_init ran first. */
    g_assert_true(((Animal *)obj)->init_ran);
    d->order[d->norder++] = 1;
    object_property_add_str(obj, "name", dog_get_name, dog_set_name);
    object_property_add_bool(obj, "happy", dog_get_happy, dog_set_happy);
    object_property_add_uint32_ptr(obj, "weight", &d->weight,
                                   OBJ_PROP_FLAG_READWRITE);
    object_property_add_link(obj, "friend", TYPE_DOG, &d->friend,
                             dog_check_friend, OBJ_PROP_LINK_STRONG);
}

static void dog_post_init(Object *obj)
{
    Dog *d = (Dog *)obj;

    d->order[d->norder++] = 2;
}

static void dog_finalize(Object *obj)
{
    g_free(((Dog *)obj)->name);
}

static void animal_class_init(ObjectClass *oc, const void *data)
{
    ((AnimalClass *)oc)->sound = animal_sound;
    animal_class_init_count++;
}

static void dog_class_init(ObjectClass *oc, const void *data)
{
    BarkerClass *bc = (BarkerClass *)object_class_dynamic_cast(oc,
                                                               TYPE_BARKER);

    g_assert_nonnull(bc);
    ((AnimalClass *)oc)->sound = dog_sound;
    bc->bark_count = dog_bark_count;
    dog_class_init_count++;
}

static void puppy_class_init(ObjectClass *oc, const void *data)
{
    BarkerClass *bc = (BarkerClass *)object_class_dynamic_cast(oc,
                                                               TYPE_BARKER);

    /* Inherited from dog until overridden here. */
    g_assert_true(bc->bark_count == dog_bark_count);
    ((AnimalClass *)oc)->sound = puppy_sound;
    bc->bark_count = puppy_bark_count;
}

static const TypeInfo test_types[] = {
    {
        .name = TYPE_BARKER,
        .parent = TYPE_INTERFACE,
        .class_size = sizeof(BarkerClass),
    },
    {
        .name = TYPE_ANIMAL,
        .parent = TYPE_OBJECT,
        .instance_size = sizeof(Animal),
        .instance_init = animal_init,
        .instance_finalize = animal_finalize,
        .class_size = sizeof(AnimalClass),
        .class_init = animal_class_init,
        .abstract = true,
    },
    {
        .name = TYPE_DOG,
        .parent = TYPE_ANIMAL,
        .instance_size = sizeof(Dog),
        .instance_init = dog_init,
        .instance_post_init = dog_post_init,
        .instance_finalize = dog_finalize,
        .class_init = dog_class_init,
        .interfaces = (const InterfaceInfo[]) {
            { TYPE_BARKER },
            { NULL }
        },
    },
    {
        .name = TYPE_PUPPY,
        .parent = TYPE_DOG,
        .class_init = puppy_class_init,
    },
    {
        .name = TYPE_THING,
        .parent = TYPE_OBJECT,
        .interfaces = (const InterfaceInfo[]) {
            { TYPE_USER_CREATABLE },
            { NULL }
        },
    },
};

DEFINE_TYPES(test_types)

static void test_class_hierarchy(void)
{
    ObjectClass *dog = object_class_by_name(TYPE_DOG);
    ObjectClass *puppy = object_class_by_name(TYPE_PUPPY);

    g_assert_nonnull(dog);
    g_assert_null(object_class_by_name("no-such-type"));
    g_assert_cmpstr(object_class_get_name(object_class_get_parent(puppy)), ==,
                    TYPE_DOG);
    g_assert_true(object_class_is_abstract(object_class_by_name(TYPE_ANIMAL)));
    g_assert_false(object_class_is_abstract(dog));
    /* Interfaces are abstract too. */
    g_assert_true(object_class_is_abstract(object_class_by_name(TYPE_BARKER)));
    g_assert_true(object_class_dynamic_cast(puppy, TYPE_ANIMAL) == puppy);
    g_assert_null(object_class_dynamic_cast(dog, TYPE_PUPPY));
    g_assert_cmpstr(((AnimalClass *)dog)->sound(NULL), ==, "woof");
    g_assert_cmpstr(((AnimalClass *)puppy)->sound(NULL), ==, "yip");
    /* Each class_init runs once, the parent's before the child's. */
    object_class_by_name(TYPE_DOG);
    g_assert_cmpint(dog_class_init_count, ==, 1);
    g_assert_cmpint(animal_class_init_count, >=, 1);
}

static void test_interfaces(void)
{
    Object *dog = object_new(TYPE_DOG);
    Object *puppy = object_new(TYPE_PUPPY);
    BarkerClass *bc;

    g_assert_true(object_dynamic_cast(dog, TYPE_BARKER) == dog);
    bc = (BarkerClass *)object_class_dynamic_cast(object_get_class(dog),
                                                  TYPE_BARKER);
    g_assert_cmpint(bc->bark_count(dog), ==, 2);
    bc = (BarkerClass *)object_class_dynamic_cast(object_get_class(puppy),
                                                  TYPE_BARKER);
    g_assert_cmpint(bc->bark_count(puppy), ==, 5);
    /* The interface class leads back to the class implementing it. */
    g_assert_true(bc->parent_class.concrete_class == object_get_class(puppy));
    g_assert_null(object_dynamic_cast(dog, TYPE_USER_CREATABLE));
    object_unref(dog);
    object_unref(puppy);
}

static void test_casts(void)
{
    if (g_test_subprocess()) {
        Object *dog = object_new(TYPE_DOG);

        /* A checked cast to an unrelated type is a programming error. */
        OBJECT_CHECK(Object, dog, TYPE_THING);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*is not an instance of type test-thing*");
}

static void test_init_order_and_refcount(void)
{
    int finalized = 0;
    Object *obj = object_new(TYPE_PUPPY);
    Dog *d = (Dog *)obj;

    ((Animal *)obj)->finalized = &finalized;
    g_assert_cmpint(d->norder, ==, 2);
    g_assert_cmpint(d->order[0], ==, 1);
    g_assert_cmpint(d->order[1], ==, 2);
    g_assert_cmpint(((Animal *)obj)->legs, ==, 4);
    object_ref(obj);
    object_unref(obj);
    g_assert_cmpint(finalized, ==, 0);
    object_unref(obj);
    g_assert_cmpint(finalized, ==, 1);
}

static void test_properties(void)
{
    Object *obj = object_new(TYPE_DOG);
    Error *err = NULL;
    char *s;

    g_assert_true(object_property_set_str(obj, "name", "rex", &error_abort));
    s = object_property_get_str(obj, "name", &error_abort);
    g_assert_cmpstr(s, ==, "rex");
    g_free(s);
    /* The setter's own error comes through. */
    g_assert_false(object_property_set_str(obj, "name", "", &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "a dog needs a name");
    error_free(err);
    err = NULL;
    /* Type errors use QAPI's wording. */
    g_assert_false(object_property_set_int(obj, "happy", 3, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Invalid parameter type for 'happy', expected: boolean");
    error_free(err);
    err = NULL;
    g_assert_false(object_property_set_bool(obj, "nope", true, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Property 'test-dog.nope' not found");
    error_free(err);
    err = NULL;
    /* Command-line spellings. */
    g_assert_true(object_property_parse(obj, "happy", "on", &error_abort));
    g_assert_true(object_property_get_bool(obj, "happy", &error_abort));
    g_assert_true(object_property_parse(obj, "weight", "0x20", &error_abort));
    g_assert_cmpuint(object_property_get_uint(obj, "weight", &error_abort),
                     ==, 32);
    g_assert_false(object_property_parse(obj, "weight", "0x100000000", &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Parameter 'weight' expects "
                    "uint32");
    error_free(err);
    err = NULL;
    g_assert_false(object_property_parse(obj, "happy", "maybe", &err));
    g_assert_nonnull(err);
    error_free(err);
    object_unref(obj);
}

static void test_tree_and_links(void)
{
    Object *root = object_get_root();
    Object *kennel = container_get(root, "kennel");
    Object *a = object_new(TYPE_DOG), *b = object_new(TYPE_PUPPY);
    Error *err = NULL;
    bool ambiguous = false;
    char *path;
    int finalized = 0;

    ((Animal *)b)->finalized = &finalized;
    object_property_add_child(kennel, "a", a);
    object_property_add_child(kennel, "b", b);
    object_unref(a);
    object_unref(b);

    path = object_get_canonical_path(b);
    g_assert_cmpstr(path, ==, "/kennel/b");
    g_free(path);
    g_assert_true(object_resolve_path("/kennel/a", NULL) == a);
    g_assert_true(object_resolve_path("kennel/b", &ambiguous) == b);
    g_assert_false(ambiguous);
    /* A partial path that matches in two places is ambiguous. */
    {
        Object *other = container_get(root, "shelter");
        Object *c = object_new(TYPE_DOG);

        object_property_add_child(other, "a", c);
        object_unref(c);
        g_assert_null(object_resolve_path("a", &ambiguous));
        g_assert_true(ambiguous);
        g_assert_true(object_resolve_path("shelter/a", &ambiguous) == c);
        g_assert_false(ambiguous);
        object_unparent(other);
    }

    /* A link holds the target and is followed in paths. */
    g_assert_true(object_property_set_link(a, "friend", b, &error_abort));
    g_assert_true(object_resolve_path("/kennel/a/friend", NULL) == b);
    path = object_property_get_str(a, "friend", &error_abort);
    g_assert_cmpstr(path, ==, "/kennel/b");
    g_free(path);
    g_assert_false(object_property_set_link(a, "friend", a, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "a dog is not its own friend");
    error_free(err);
    err = NULL;
    g_assert_false(object_property_set_str(a, "friend", "/nowhere", &err));
    g_assert_cmpint(error_get_class(err), ==, ERROR_CLASS_DEVICE_NOT_FOUND);
    error_free(err);
    err = NULL;

    /* b survives unparenting while a's link holds it. */
    object_unparent(b);
    g_assert_cmpint(finalized, ==, 0);
    g_assert_null(object_resolve_path("/kennel/b", NULL));
    g_assert_true(object_property_set_str(a, "friend", "", &error_abort));
    g_assert_cmpint(finalized, ==, 1);

    /* Auto-numbered children. */
    for (int i = 0; i < 3; i++) {
        Object *c = object_new(TYPE_DOG);

        object_property_add_child(kennel, "pup[*]", c);
        object_unref(c);
    }
    g_assert_nonnull(object_resolve_path("/kennel/pup[2]", NULL));
    object_unparent(kennel);
}

static void test_user_creatable(void)
{
    Error *err = NULL;
    Object *obj;
    bool help;

    obj = user_creatable_add_type(TYPE_THING, "t1", NULL, false,
                                  &error_abort);
    g_assert_true(object_resolve_path("/objects/t1", NULL) == obj);
    g_assert_null(user_creatable_add_type(TYPE_THING, "t1", NULL, false,
                                          &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "duplicate"));
    error_free(err);
    err = NULL;
    g_assert_null(user_creatable_add_type(TYPE_THING, "1bad", NULL, false,
                                          &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Parameter 'id' expects an identifier");
    error_free(err);
    err = NULL;
    g_assert_null(user_creatable_add_type(TYPE_DOG, "d", NULL, false, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "object type 'test-dog' isn't supported by object-add");
    error_free(err);
    err = NULL;
    g_assert_true(user_creatable_del("t1", &error_abort));
    g_assert_false(user_creatable_del("t1", &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "object 't1' not found");
    error_free(err);
    err = NULL;

    g_assert_true(user_creatable_add_from_str("memory-backend-ram,id=m0,"
                                              "size=1M", &help,
                                              &error_abort));
    g_assert_cmpuint(object_property_get_uint(
                         object_resolve_path("/objects/m0", NULL), "size",
                         &error_abort), ==, 1 << 20);
    g_assert_false(user_creatable_add_from_str("memory-backend-ram,id=m1,"
                                               "size=0", &help, &err));
    g_assert_nonnull(err);
    error_free(err);
    g_assert_null(object_resolve_path("/objects/m1", NULL));
    g_assert_true(user_creatable_del("m0", &error_abort));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qom/class/hierarchy", test_class_hierarchy);
    g_test_add_func("/qom/interfaces", test_interfaces);
    g_test_add_func("/qom/casts", test_casts);
    g_test_add_func("/qom/init-order-and-refcount",
                    test_init_order_and_refcount);
    g_test_add_func("/qom/properties", test_properties);
    g_test_add_func("/qom/tree-and-links", test_tree_and_links);
    g_test_add_func("/qom/user-creatable", test_user_creatable);
    return g_test_run();
}
