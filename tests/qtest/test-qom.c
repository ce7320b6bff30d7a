/*
 * The QOM tree and type system over QMP (control_boot_facts B.5, B.7):
 * qom-list/get/set, partial paths, type and property introspection, and
 * user-creatable objects that come and go without leaking.
 */
#include <string.h>
#include <glib.h>

#include "libqtest.h"

#define ARGS "-machine none"
#define TEST_OBJECT "memory-backend-memfd"

static void assert_error(JsonObject *rsp, const char *cls, const char *desc)
{
    g_autofree char *got = qmp_expect_error(rsp, cls);

    g_assert_cmpstr(got, ==, desc);
    json_object_unref(rsp);
}

static JsonNode *take_return(JsonObject *rsp)
{
    JsonNode *ret = json_node_copy(qmp_expect_return(rsp));

    json_object_unref(rsp);
    return ret;
}

/* name -> type of every property of path (a new table). */
static GHashTable *qom_list(QTestState *s, const char *path)
{
    g_autoptr(JsonNode) ret = take_return(qtest_qmp(
        s, "{\"execute\": \"qom-list\", \"arguments\": {\"path\": \"%s\"}}",
        path));
    JsonArray *arr = json_node_get_array(ret);
    GHashTable *props = g_hash_table_new_full(g_str_hash, g_str_equal,
                                              g_free, g_free);

    g_assert_nonnull(arr);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *p = json_array_get_object_element(arr, i);
        const char *name = json_object_get_string_member(p, "name");
        const char *type = json_object_get_string_member(p, "type");

        g_assert_nonnull(name);
        g_assert_nonnull(type);
        g_assert_false(g_hash_table_contains(props, name));
        g_hash_table_insert(props, g_strdup(name), g_strdup(type));
    }
    return props;
}

/* name -> JsonObject of qom-list-types (a new table). */
static GHashTable *list_types(QTestState *s, const char *implements,
                              bool abstract)
{
    g_autofree char *impl = implements ?
        g_strdup_printf("\"implements\": \"%s\", ", implements) :
        g_strdup("");
    g_autoptr(JsonNode) ret = take_return(qtest_qmp(
        s, "{\"execute\": \"qom-list-types\", \"arguments\": "
        "{%s\"abstract\": %s}}", impl, abstract ? "true" : "false"));
    JsonArray *arr = json_node_get_array(ret);
    GHashTable *types = g_hash_table_new_full(g_str_hash, g_str_equal,
                                              g_free,
                                              (GDestroyNotify)
                                              json_object_unref);

    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *t = json_array_get_object_element(arr, i);
        const char *name = json_object_get_string_member(t, "name");

        g_assert_nonnull(name);
        g_hash_table_insert(types, g_strdup(name), json_object_ref(t));
    }
    return types;
}

static bool type_exists(QTestState *s, const char *name)
{
    g_autoptr(GHashTable) types = list_types(s, NULL, false);

    return g_hash_table_contains(types, name);
}

/* name -> JsonObject of (device|qom)-list-properties (a new table). */
static GHashTable *list_props(QTestState *s, const char *cmd,
                              const char *type)
{
    g_autoptr(JsonNode) ret = take_return(qtest_qmp(
        s, "{\"execute\": \"%s\", \"arguments\": {\"typename\": \"%s\"}}",
        cmd, type));
    JsonArray *arr = json_node_get_array(ret);
    GHashTable *props = g_hash_table_new_full(g_str_hash, g_str_equal,
                                              g_free,
                                              (GDestroyNotify)
                                              json_object_unref);

    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *p = json_array_get_object_element(arr, i);

        g_assert_nonnull(json_object_get_string_member(p, "name"));
        g_assert_nonnull(json_object_get_string_member(p, "type"));
        g_hash_table_insert(props,
                            g_strdup(json_object_get_string_member(p,
                                                                   "name")),
                            json_object_ref(p));
    }
    return props;
}

static void test_list_machine(void)
{
    QTestState *s = qtest_init(ARGS);
    g_autoptr(GHashTable) props = qom_list(s, "/machine");
    g_autoptr(GHashTable) root = qom_list(s, "/");

    g_assert_cmpstr(g_hash_table_lookup(props, "type"), ==, "string");
    g_assert_cmpstr(g_hash_table_lookup(props, "peripheral"), ==,
                    "child<container>");
    g_assert_cmpstr(g_hash_table_lookup(props, "peripheral-anon"), ==,
                    "child<container>");
    g_assert_cmpstr(g_hash_table_lookup(props, "unattached"), ==,
                    "child<container>");
    g_assert_true(g_str_has_prefix(g_hash_table_lookup(root, "machine"),
                                   "child<"));
    g_assert_cmpstr(g_hash_table_lookup(root, "objects"), ==,
                    "child<container>");
    g_assert_cmpstr(g_hash_table_lookup(root, "chardevs"), ==,
                    "child<container>");
    assert_error(qtest_qmp(s, "{\"execute\": \"qom-list\", \"arguments\": "
                           "{\"path\": \"/machine/nosuch\"}}"),
                 "DeviceNotFound", "Device '/machine/nosuch' not found");
    qtest_quit(s);
}

static void test_get(void)
{
    QTestState *s = qtest_init(ARGS);
    g_autofree char *type = qtest_qom_get_str(s, "/machine", "type");
    g_autofree char *child = qtest_qom_get_str(s, "/machine", "peripheral");
    g_autofree char *desc = NULL;
    g_autofree char *chr_type = NULL;

    g_assert_cmpstr(type, ==, "none-machine");
    /* A child property reads as the child's path. */
    g_assert_cmpstr(child, ==, "/machine/peripheral");
    chr_type = qtest_qom_get_str(s, "/chardevs/char0", "type");
    g_assert_cmpstr(chr_type, ==, "chardev-socket");

    desc = g_strdup_printf("Property '%s.nosuch' not found", type);
    assert_error(qtest_qmp(s, "{\"execute\": \"qom-get\", \"arguments\": "
                           "{\"path\": \"/machine\", \"property\": "
                           "\"nosuch\"}}"),
                 "GenericError", desc);
    assert_error(qtest_qmp(s, "{\"execute\": \"qom-get\", \"arguments\": "
                           "{\"path\": \"/nosuch\", \"property\": "
                           "\"type\"}}"),
                 "DeviceNotFound", "Device '/nosuch' not found");
    qtest_quit(s);
}

static void test_set(void)
{
    QTestState *s = qtest_init(ARGS);
    g_autofree char *type = qtest_qom_get_str(s, "/machine", "type");
    g_autofree char *desc = g_strdup_printf("Property '%s.type' is not "
                                            "writable", type);

    assert_error(qtest_qmp(s, "{\"execute\": \"qom-set\", \"arguments\": "
                           "{\"path\": \"/machine\", \"property\": \"type\", "
                           "\"value\": \"x\"}}"),
                 "GenericError", desc);
    g_clear_pointer(&type, g_free);
    type = qtest_qom_get_str(s, "/machine", "type");
    g_assert_cmpstr(type, ==, "none-machine");

    g_assert_true(type_exists(s, TEST_OBJECT));
    qtest_qmp_assert_success(s, "{\"execute\": \"object-add\", "
                             "\"arguments\": {\"qom-type\": \"" TEST_OBJECT
                             "\", \"id\": \"t0\", \"size\": 65536}}");
    /* "dump" may change at run time (partial path, too). */
    qtest_qmp_assert_success(s, "{\"execute\": \"qom-set\", \"arguments\": "
                             "{\"path\": \"/objects/t0\", \"property\": "
                             "\"dump\", \"value\": false}}");
    qtest_qmp_assert_success(s, "{\"execute\": \"qom-set\", \"arguments\": "
                             "{\"path\": \"t0\", \"property\": "
                             "\"merge\", \"value\": false}}");
    {
        g_autoptr(JsonNode) dump = qtest_qom_get(s, "/objects/t0", "dump");
        g_autoptr(JsonNode) merge = qtest_qom_get(s, "/objects/t0", "merge");

        g_assert_false(json_node_get_boolean(dump));
        g_assert_false(json_node_get_boolean(merge));
    }
    /* A value of the wrong type is refused and changes nothing. */
    {
        JsonObject *rsp = qtest_qmp(s, "{\"execute\": \"qom-set\", "
                                    "\"arguments\": {\"path\": "
                                    "\"/objects/t0\", \"property\": "
                                    "\"dump\", \"value\": \"many\"}}");
        g_autofree char *err = qmp_expect_error(rsp, "GenericError");
        g_autoptr(JsonNode) dump = qtest_qom_get(s, "/objects/t0", "dump");

        json_object_unref(rsp);
        g_assert_cmpstr(err, ==, "Invalid parameter type for 'dump', "
                        "expected: boolean");
        g_assert_false(json_node_get_boolean(dump));
    }
    /* size is fixed once the memory exists. */
    {
        JsonObject *rsp = qtest_qmp(s, "{\"execute\": \"qom-set\", "
                                    "\"arguments\": {\"path\": "
                                    "\"/objects/t0\", \"property\": "
                                    "\"size\", \"value\": 4096}}");
        g_autofree char *err = qmp_expect_error(rsp, "GenericError");
        g_autoptr(JsonNode) size = qtest_qom_get(s, "/objects/t0", "size");

        json_object_unref(rsp);
        g_assert_cmpint(json_node_get_int(size), ==, 65536);
    }
    qtest_quit(s);
}

static void test_partial_path(void)
{
    QTestState *s = qtest_init(ARGS " -chardev null,id=peripheral");
    g_autoptr(GHashTable) full = qom_list(s, "/machine/unattached");
    g_autoptr(GHashTable) partial = qom_list(s, "unattached");

    g_assert_cmpint(g_hash_table_size(full), ==, g_hash_table_size(partial));
    g_assert_true(g_hash_table_contains(partial, "type"));
    /* /machine/peripheral and /chardevs/peripheral both end so. */
    assert_error(qtest_qmp(s, "{\"execute\": \"qom-list\", \"arguments\": "
                           "{\"path\": \"peripheral\"}}"),
                 "GenericError", "Path 'peripheral' is ambiguous");
    assert_error(qtest_qmp(s, "{\"execute\": \"qom-get\", \"arguments\": "
                           "{\"path\": \"peripheral\", \"property\": "
                           "\"type\"}}"),
                 "GenericError", "Path 'peripheral' is ambiguous");
    /* A longer suffix is unique again. */
    {
        g_autofree char *t1 = qtest_qom_get_str(s, "machine/peripheral", "type");
        g_autofree char *t2 = qtest_qom_get_str(s, "chardevs/peripheral", "type");

        g_assert_cmpstr(t1, ==, "container");
        g_assert_cmpstr(t2, ==, "chardev-null");
    }
    assert_error(qtest_qmp(s, "{\"execute\": \"qom-list\", \"arguments\": "
                           "{\"path\": \"nosuch\"}}"),
                 "DeviceNotFound", "Device 'nosuch' not found");
    qtest_quit(s);
}

static void test_list_types(void)
{
    QTestState *s = qtest_init(ARGS);
    g_autoptr(GHashTable) accels = list_types(s, "accel", false);
    g_autoptr(GHashTable) devices = list_types(s, "device", false);
    g_autoptr(GHashTable) devices_abs = list_types(s, "device", true);
    g_autoptr(GHashTable) all = list_types(s, NULL, false);
    JsonObject *t;
    GHashTableIter it;

    t = g_hash_table_lookup(accels, "qtest-accel");
    g_assert_nonnull(t);
    g_assert_false(json_object_has_member(t, "abstract"));
    g_assert_cmpstr(json_object_get_string_member_with_default(t, "parent",
                                                               NULL),
                    ==, "accel");
    g_assert_false(g_hash_table_contains(accels, "accel"));

    /* "abstract" appears only when true, and only when asked for. */
    g_hash_table_iter_init(&it, devices);
    while (g_hash_table_iter_next(&it, NULL, (void **)&t)) {
        g_assert_false(json_object_has_member(t, "abstract"));
        g_assert_true(g_hash_table_contains(devices_abs,
                          json_object_get_string_member(t, "name")));
    }
    t = g_hash_table_lookup(devices_abs, "device");
    g_assert_nonnull(t);
    g_assert_true(json_object_get_boolean_member(t, "abstract"));
    g_assert_false(g_hash_table_contains(devices, "device"));
    g_assert_false(g_hash_table_contains(devices, "qtest-accel"));
    g_assert_true(g_hash_table_contains(all, "qtest-accel"));
    g_assert_true(g_hash_table_contains(all, "container"));
    g_assert_true(g_hash_table_contains(all, "none-machine"));
    qtest_quit(s);
}

static void test_device_list_properties(void)
{
    static const char *const hidden[] = {
        "type", "realized", "hotpluggable", "hotplugged", "parent_bus",
    };
    QTestState *s = qtest_init(ARGS);
    g_autoptr(GHashTable) props = NULL;
    g_autoptr(GHashTable) qom_props = NULL;
    JsonObject *p;

    assert_error(qtest_qmp(s, "{\"execute\": \"device-list-properties\", "
                           "\"arguments\": {\"typename\": \"nosuch\"}}"),
                 "DeviceNotFound", "Device 'nosuch' not found");
    if (!type_exists(s, "edu")) {
        qtest_quit(s);
        g_test_skip("no edu device in this binary");
        return;
    }
    props = list_props(s, "device-list-properties", "edu");
    p = g_hash_table_lookup(props, "dma_mask");
    g_assert_nonnull(p);
    g_assert_cmpstr(json_object_get_string_member(p, "type"), ==, "uint64");
    g_assert_true(json_object_has_member(p, "default-value"));
    g_assert_cmpint(json_object_get_int_member(p, "default-value"), ==,
                    268435455);
    for (size_t i = 0; i < G_N_ELEMENTS(hidden); i++) {
        g_assert_false(g_hash_table_contains(props, hidden[i]));
    }
    /* qom-list-properties shows them all. */
    qom_props = list_props(s, "qom-list-properties", "edu");
    g_assert_true(g_hash_table_contains(qom_props, "dma_mask"));
    g_assert_true(g_hash_table_contains(qom_props, "realized"));
    qtest_quit(s);
}

static void test_object_add_del(void)
{
    QTestState *s = qtest_init(ARGS);
    g_autoptr(GHashTable) objs = NULL;
    g_autofree char *str = NULL;
    g_autoptr(JsonNode) num = NULL;

    g_assert_true(type_exists(s, TEST_OBJECT));
    qtest_qmp_assert_success(s, "{\"execute\": \"object-add\", "
                             "\"arguments\": {\"qom-type\": \"" TEST_OBJECT
                             "\", \"id\": \"obj1\", \"size\": 1048576, "
                             "\"dump\": false}}");
    objs = qom_list(s, "/objects");
    g_assert_cmpstr(g_hash_table_lookup(objs, "obj1"), ==,
                    "child<" TEST_OBJECT ">");
    str = qtest_qom_get_str(s, "/objects/obj1", "type");
    g_assert_cmpstr(str, ==, TEST_OBJECT);
    num = qtest_qom_get(s, "/objects/obj1", "size");
    g_assert_cmpint(json_node_get_int(num), ==, 1048576);
    /* A bad value fails object-add and leaves nothing behind. */
    assert_error(qtest_qmp(s, "{\"execute\": \"object-add\", \"arguments\": "
                           "{\"qom-type\": \"" TEST_OBJECT "\", \"id\": "
                           "\"obj3\", \"size\": 0}}"),
                 "GenericError",
                 "property 'size' of " TEST_OBJECT " doesn't take value '0'");
    g_clear_pointer(&objs, g_hash_table_unref);
    objs = qom_list(s, "/objects");
    g_assert_false(g_hash_table_contains(objs, "obj3"));

    /* The same id twice, an unknown type, a missing id. */
    {
        JsonObject *rsp = qtest_qmp(s, "{\"execute\": \"object-add\", "
                                    "\"arguments\": {\"qom-type\": \""
                                    TEST_OBJECT "\", \"id\": \"obj1\"}}");

        g_assert_true(qmp_rsp_is_err(rsp));
        json_object_unref(rsp);
    }
    {
        JsonObject *rsp = qtest_qmp(s, "{\"execute\": \"object-add\", "
                                    "\"arguments\": {\"qom-type\": "
                                    "\"nosuch\", \"id\": \"obj2\"}}");

        g_assert_true(qmp_rsp_is_err(rsp));
        json_object_unref(rsp);
    }
    assert_error(qtest_qmp(s, "{\"execute\": \"object-add\", \"arguments\": "
                           "{\"qom-type\": \"" TEST_OBJECT "\"}}"),
                 "GenericError", "Parameter 'id' is missing");

    qtest_qmp_assert_success(s, "{\"execute\": \"object-del\", "
                             "\"arguments\": {\"id\": \"obj1\"}}");
    g_clear_pointer(&objs, g_hash_table_unref);
    objs = qom_list(s, "/objects");
    g_assert_false(g_hash_table_contains(objs, "obj1"));
    {
        JsonObject *rsp = qtest_qmp(s, "{\"execute\": \"object-del\", "
                                    "\"arguments\": {\"id\": \"obj1\"}}");

        g_assert_true(qmp_rsp_is_err(rsp));
        json_object_unref(rsp);
    }
    qtest_quit(s);
}

static void test_object_cycles(void)
{
    QTestState *s = qtest_init(ARGS);
    g_autoptr(GHashTable) before = NULL;
    g_autoptr(GHashTable) after = NULL;
    int fds;

    g_assert_true(type_exists(s, TEST_OBJECT));
    before = qom_list(s, "/objects");
    fds = qtest_count_fds(s);
    for (int i = 0; i < 100; i++) {
        qtest_qmp_assert_success(s, "{\"execute\": \"object-add\", "
                                 "\"arguments\": {\"qom-type\": \""
                                 TEST_OBJECT "\", \"id\": \"c%d\", "
                                 "\"size\": %d}}", i % 3, 4096 * (i + 1));
        /* The memfd is open while the object lives... */
        g_assert_cmpint(qtest_count_fds(s), ==, fds + 1);
        qtest_qmp_assert_success(s, "{\"execute\": \"object-del\", "
                                 "\"arguments\": {\"id\": \"c%d\"}}", i % 3);
    }
    /* ...and closed by object-del. */
    after = qom_list(s, "/objects");
    g_assert_cmpint(g_hash_table_size(after), ==, g_hash_table_size(before));
    g_assert_cmpint(qtest_count_fds(s), ==, fds);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qom/list-machine", test_list_machine);
    g_test_add_func("/qom/get-type-and-child", test_get);
    g_test_add_func("/qom/set", test_set);
    g_test_add_func("/qom/partial-path-and-ambiguity", test_partial_path);
    g_test_add_func("/qom/list-types", test_list_types);
    g_test_add_func("/qom/device-list-properties-edu",
                    test_device_list_properties);
    g_test_add_func("/qom/object-add-del", test_object_add_del);
    g_test_add_func("/qom/object-add-del-100-cycles-leak-nothing",
                    test_object_cycles);
    return g_test_run();
}
