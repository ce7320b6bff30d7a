/*
 * The code generated from tests/qapi-schema/test-schema.json: C types and
 * JSON round trips, input error messages (reference B.3), command
 * dispatch, events and introspection (reference C.5).
 */
#include <string.h>

#include <glib.h>

#include "qapi/error.h"
#include "qapi/qjson.h"
#include "qapi/qmp-dispatch.h"
#include "qapi/qapi-util.h"
#include "qapi/qapi-visit.h"
#include "qapi/qapi-introspect.h"
#include "qapi/test-qapi-commands.h"
#include "qapi/test-qapi-events.h"
#include "qapi/test-qapi-introspect.h"
#include "qapi/test-qapi-visit.h"

/* -- helpers ---------------------------------------------------------------- */

static JsonNode *parse(const char *json)
{
    return qjson_parse(json, &error_abort);
}

/* Compact wire form of node, which is consumed. */
static char *take_str(JsonNode *node)
{
    char *s = qjson_to_string(node, false);

    json_node_unref(node);
    return s;
}

/* Expects *errp to be set with message msg (class GenericError); clears it. */
static void check_error(Error **errp, const char *msg)
{
    g_assert_nonnull(*errp);
    g_assert_cmpstr(error_get_pretty(*errp), ==, msg);
    g_assert_cmpint(error_get_class(*errp), ==, ERROR_CLASS_GENERIC_ERROR);
    error_free(*errp);
    *errp = NULL;
}

/* Round trip of TestStruct: input text -> C -> output text. */
static void struct_round_trip(const char *in, const char *out)
{
    g_autoptr(JsonNode) node = parse(in);
    TestStruct *s = NULL;
    g_autofree char *text = NULL;

    g_assert_true(visit_TestStruct_from_json(node, NULL, &s, &error_abort));
    text = take_str(visit_TestStruct_to_json(s));
    g_assert_cmpstr(text, ==, out);
    qapi_free_TestStruct(s);
}

/* Parsing json as TestStruct fails with msg. */
static void struct_error(const char *json, const char *msg)
{
    static TestStruct sentinel;
    g_autoptr(JsonNode) node = parse(json);
    TestStruct *s = &sentinel;          /* from_json must clear it */
    Error *err = NULL;

    g_assert_false(visit_TestStruct_from_json(node, NULL, &s, &err));
    g_assert_null(s);
    check_error(&err, msg);
}

static void ints_error(const char *json, const char *msg)
{
    g_autoptr(JsonNode) node = parse(json);
    TestInts *t = NULL;
    Error *err = NULL;

    g_assert_false(visit_TestInts_from_json(node, NULL, &t, &err));
    g_assert_null(t);
    check_error(&err, msg);
}

/* -- types and visitors ------------------------------------------------------ */

static void test_struct_full(void)
{
    const char *json =
        "{\"id\": -5, \"tag\": \"t\", \"name\": \"n\", \"count\": 7, "
        "\"flag\": false, \"color\": \"green\", "
        "\"sub\": {\"a\": 1.5, \"b\": [{\"a\": 2}]}, \"list\": [1, 2, 3], "
        "\"extra\": {\"any\": [true, null]}, "
        "\"colors\": [\"red\", \"infrared\"], \"shown\": 9, \"old\": \"o\"}";
    g_autoptr(JsonNode) node = parse(json);
    TestStruct *s = NULL;
    g_autofree char *text = NULL;

    g_assert_true(visit_TestStruct_from_json(node, NULL, &s, &error_abort));
    /* Base members come first and are reachable through the base view. */
    g_assert_cmpint(s->id, ==, -5);
    g_assert_cmpstr(qapi_TestStruct_base(s)->tag, ==, "t");
    g_assert_cmpstr(s->name, ==, "n");
    g_assert_true(s->has_count);
    g_assert_cmpint(s->count, ==, 7);
    g_assert_true(s->has_flag);
    g_assert_false(s->flag);
    g_assert_true(s->has_color);
    g_assert_cmpint(s->color, ==, TC_GREEN);
    g_assert_cmpfloat(s->sub->a, ==, 1.5);
    g_assert_nonnull(s->sub->b);
    g_assert_cmpfloat(s->sub->b->value->a, ==, 2);
    g_assert_null(s->sub->b->next);
    g_assert_cmpint(s->list->value, ==, 1);
    g_assert_cmpint(s->list->next->next->value, ==, 3);
    g_assert_null(s->list->next->next->next);
    g_assert_true(qjson_is_object(s->extra));
    g_assert_cmpint(s->colors->value, ==, TC_RED);
    g_assert_cmpint(s->colors->next->value, ==, TC_INFRARED);
    g_assert_true(s->has_shown);
    g_assert_cmpstr(s->old, ==, "o");

    text = take_str(visit_TestStruct_to_json(s));
    g_assert_cmpstr(text, ==,
        "{\"id\": -5, \"tag\": \"t\", \"name\": \"n\", \"count\": 7, "
        "\"flag\": false, \"color\": \"green\", "
        "\"sub\": {\"a\": 1.5, \"b\": [{\"a\": 2}]}, \"list\": [1, 2, 3], "
        "\"extra\": {\"any\": [true, null]}, "
        "\"colors\": [\"red\", \"infrared\"], \"shown\": 9, \"old\": \"o\"}");
    qapi_free_TestStruct(s);
}

static void test_struct_optional_absent(void)
{
    g_autoptr(JsonNode) node = parse(
        "{\"id\": 1, \"name\": \"x\", \"colors\": []}");
    TestStruct *s = NULL;

    g_assert_true(visit_TestStruct_from_json(node, NULL, &s, &error_abort));
    g_assert_false(s->has_count);
    g_assert_false(s->has_flag);
    g_assert_false(s->has_color);
    g_assert_null(s->tag);
    g_assert_null(s->sub);
    g_assert_null(s->list);
    g_assert_null(s->extra);
    g_assert_null(s->colors);       /* the empty list is NULL */
    qapi_free_TestStruct(s);

    /* Absent optional members stay absent; an empty list is []. */
    struct_round_trip("{\"colors\": [], \"name\": \"x\", \"id\": 1}",
                      "{\"id\": 1, \"name\": \"x\", \"colors\": []}");
}

static void test_struct_built_in_c(void)
{
    /* Built from C: a NULL mandatory str is "", NULL mandatory list []. */
    TestStruct s = { .id = 3, .has_count = true, .count = 0 };
    g_autofree char *text = take_str(visit_TestStruct_to_json(&s));

    g_assert_cmpstr(text, ==,
                    "{\"id\": 3, \"name\": \"\", \"count\": 0, \"colors\": []}");
}

static void test_enum(void)
{
    /* 'prefix' names the constants; the value disabled by 'if' is gone. */
    g_assert_cmpint(TC_RED, ==, 0);
    g_assert_cmpint(TC_INFRARED, ==, 3);
    g_assert_cmpint(TC__MAX, ==, 4);
    g_assert_cmpstr(TestColor_lookup[TC_GREEN], ==, "green");
    g_assert_cmpstr(TestColor_lookup[TC_INFRARED], ==, "infrared");
    g_assert_null(TestColor_lookup[TC__MAX]);
    g_assert_cmpint(qapi_enum_find(TestColor_lookup, "blue"), ==, TC_BLUE);
    g_assert_cmpint(qapi_enum_find(TestColor_lookup, "ultraviolet"), ==, -1);
    g_assert_cmpint(TEST_KIND_NONE, ==, 2);
    g_assert_cmpint(TEST_KIND__MAX, ==, 3);

    Error *err = NULL;
    g_assert_cmpint(qapi_enum_parse(TestColor_lookup, "pink", TC_RED, &err),
                    ==, TC_RED);
    check_error(&err, "Invalid parameter 'pink'");
}

static void test_union(void)
{
    static const char *const round_trips[] = {
        "{\"kind\": \"one\", \"common\": \"c\", \"x\": 1, \"y\": \"s\"}",
        "{\"kind\": \"two\", \"id\": 4, \"z\": true}",
        "{\"kind\": \"none\", \"common\": \"only base\"}",
    };
    g_autoptr(JsonNode) node = parse(round_trips[0]);
    TestUnion *u = NULL;

    g_assert_true(visit_TestUnion_from_json(node, NULL, &u, &error_abort));
    g_assert_cmpint(u->kind, ==, TEST_KIND_ONE);
    g_assert_cmpstr(u->common, ==, "c");
    g_assert_cmpint(u->u.one.x, ==, 1);
    g_assert_cmpstr(u->u.one.y, ==, "s");
    qapi_free_TestUnion(u);

    for (size_t i = 0; i < G_N_ELEMENTS(round_trips); i++) {
        g_autoptr(JsonNode) n = parse(round_trips[i]);
        g_autofree char *text = NULL;

        g_assert_true(visit_TestUnion_from_json(n, NULL, &u, &error_abort));
        text = take_str(visit_TestUnion_to_json(u));
        g_assert_cmpstr(text, ==, round_trips[i]);
        qapi_free_TestUnion(u);
    }
}

static void test_union_errors(void)
{
    static const struct {
        const char *json, *msg;
    } cases[] = {
        { "{\"x\": 1}", "Parameter 'kind' is missing" },
        { "{\"kind\": \"three\"}",
          "Parameter 'kind' does not accept value 'three'" },
        { "{\"kind\": 1}",
          "Invalid parameter type for 'kind', expected: string" },
        { "{\"kind\": \"one\"}", "Parameter 'x' is missing" },
        /* A member of another branch is unexpected. */
        { "{\"kind\": \"two\", \"id\": 1, \"z\": false, \"x\": 1}",
          "Parameter 'x' is unexpected" },
        { "{\"kind\": \"none\", \"y\": \"s\"}", "Parameter 'y' is unexpected" },
        { "{\"kind\": \"two\", \"id\": \"1\", \"z\": false}",
          "Invalid parameter type for 'id', expected: integer" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(JsonNode) node = parse(cases[i].json);
        TestUnion *u = NULL;
        Error *err = NULL;

        g_assert_false(visit_TestUnion_from_json(node, NULL, &u, &err));
        g_assert_null(u);
        check_error(&err, cases[i].msg);
    }
}

static void test_alternate(void)
{
    static const struct {
        const char *json;
        QType type;
    } cases[] = {
        { "42", QTYPE_QNUM },
        { "true", QTYPE_QBOOL },
        { "\"blue\"", QTYPE_QSTRING },
        { "null", QTYPE_QNULL },
        { "{\"a\": 0.25}", QTYPE_QDICT },
        { "[1, 2]", QTYPE_QLIST },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(JsonNode) node = parse(cases[i].json);
        g_autofree char *text = NULL;
        TestAlt *alt = NULL;

        g_assert_true(visit_TestAlt_from_json(node, "alt", &alt,
                                              &error_abort));
        g_assert_cmpint(alt->type, ==, cases[i].type);
        text = take_str(visit_TestAlt_to_json(alt));
        g_assert_cmpstr(text, ==, cases[i].json);
        if (alt->type == QTYPE_QSTRING) {
            g_assert_cmpint(alt->u.e, ==, TC_BLUE);
        } else if (alt->type == QTYPE_QNUM) {
            g_assert_cmpint(alt->u.i, ==, 42);
        } else if (alt->type == QTYPE_QDICT) {
            g_assert_cmpfloat(alt->u.s->a, ==, 0.25);
        }
        qapi_free_TestAlt(alt);
    }
}

static void test_alternate_errors(void)
{
    static const struct {
        const char *json, *msg;
    } cases[] = {
        { "{\"alt\": \"pink\"}",
          "Parameter 'alt' does not accept value 'pink'" },
        { "{\"alt\": 1.5}",
          "Invalid parameter type for 'alt', expected: integer" },
        { "{\"alt\": [1, \"x\"]}",
          "Invalid parameter type for 'alt[1]', expected: integer" },
        { "{\"alt\": 1, \"alts\": [true, {\"b\": 1}]}",
          "Parameter 'alts[1].a' is missing" },
        { "{\"alt\": 1, \"alt2\": 5}",
          "Invalid parameter type for 'alt2', expected: TestAlt2" },
        { "{\"alt\": 1, \"alt2\": {\"x\": 1, \"q\": 2}}",
          "Parameter 'alt2.q' is unexpected" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(JsonNode) node = parse(cases[i].json);
        TestHolder *h = NULL;
        Error *err = NULL;

        g_assert_false(visit_TestHolder_from_json(node, NULL, &h, &err));
        g_assert_null(h);
        check_error(&err, cases[i].msg);
    }
}

static void test_lists(void)
{
    g_autoptr(JsonNode) node = parse("[\"a\", \"b\"]");
    g_autoptr(JsonNode) bad = parse("[\"a\", 2]");
    static strList sentinel;
    g_autofree char *text = NULL;
    strList *list = NULL;
    Error *err = NULL;

    g_assert_true(visit_strList_from_json(node, "l", &list, &error_abort));
    g_assert_cmpstr(list->value, ==, "a");
    g_assert_cmpstr(list->next->value, ==, "b");
    text = take_str(visit_strList_to_json(list));
    g_assert_cmpstr(text, ==, "[\"a\", \"b\"]");
    qapi_free_strList(list);

    list = &sentinel;
    g_assert_false(visit_strList_from_json(bad, "l", &list, &err));
    g_assert_null(list);
    check_error(&err, "Invalid parameter type for 'l[1]', expected: string");

    /* The root of the input has no name. */
    g_assert_false(visit_strList_from_json(bad, NULL, &list, &err));
    check_error(&err, "Invalid parameter type for '[1]', expected: string");

    g_autofree char *empty = take_str(visit_TestInnerList_to_json(NULL));
    g_assert_cmpstr(empty, ==, "[]");
}

static void test_input_errors(void)
{
    struct_error("[]",
                 "Invalid parameter type for '<anonymous>', expected: object");
    struct_error("{\"name\": \"n\", \"colors\": []}",
                 "Parameter 'id' is missing");
    struct_error("{\"id\": 1, \"name\": \"n\", \"colors\": [], \"bogus\": 1}",
                 "Parameter 'bogus' is unexpected");
    /* A member disabled by its 'if' condition does not exist. */
    struct_error("{\"id\": 1, \"name\": \"n\", \"colors\": [], \"hidden\": 1}",
                 "Parameter 'hidden' is unexpected");
    struct_error("{\"id\": 1, \"name\": 1, \"colors\": []}",
                 "Invalid parameter type for 'name', expected: string");
    struct_error("{\"id\": true, \"name\": \"n\", \"colors\": []}",
                 "Invalid parameter type for 'id', expected: integer");
    struct_error("{\"id\": 1.0, \"name\": \"n\", \"colors\": []}",
                 "Invalid parameter type for 'id', expected: integer");
    struct_error("{\"id\": 1, \"name\": \"n\", \"colors\": [], \"flag\": 1}",
                 "Invalid parameter type for 'flag', expected: boolean");
    struct_error("{\"id\": 1, \"name\": \"n\", \"colors\": [], \"sub\": []}",
                 "Invalid parameter type for 'sub', expected: object");
    struct_error("{\"id\": 1, \"name\": \"n\", \"colors\": {}}",
                 "Invalid parameter type for 'colors', expected: array");
    struct_error("{\"id\": 1, \"name\": \"n\", \"colors\": [],"
                 " \"sub\": {\"a\": \"x\"}}",
                 "Invalid parameter type for 'sub.a', expected: number");
    struct_error("{\"id\": 1, \"name\": \"n\", \"colors\": [],"
                 " \"sub\": {\"a\": 1, \"b\": [{\"a\": 1}, {}]}}",
                 "Parameter 'sub.b[1].a' is missing");
    struct_error("{\"id\": 1, \"name\": \"n\", \"colors\": [],"
                 " \"sub\": {\"a\": 1, \"c\": 1}}",
                 "Parameter 'sub.c' is unexpected");
    struct_error("{\"id\": 1, \"name\": \"n\", \"colors\": [\"red\", \"pink\"]}",
                 "Parameter 'colors[1]' does not accept value 'pink'");
    struct_error("{\"id\": 1, \"name\": \"n\", \"colors\": [], "
                 "\"color\": \"ultraviolet\"}",
                 "Parameter 'color' does not accept value 'ultraviolet'");
    ints_error("{\"nul\": 0}",
               "Invalid parameter type for 'nul', expected: null");
    ints_error("{\"num\": \"1\"}",
               "Invalid parameter type for 'num', expected: number");
}

static void test_integer_ranges(void)
{
    static const struct {
        const char *json, *msg;
    } bad[] = {
        { "{\"i8\": 128}", "Parameter 'i8' expects int8" },
        { "{\"i8\": -129}", "Parameter 'i8' expects int8" },
        { "{\"i16\": 32768}", "Parameter 'i16' expects int16" },
        { "{\"i32\": -2147483649}", "Parameter 'i32' expects int32" },
        { "{\"i64\": 9223372036854775808}",
          "Invalid parameter type for 'i64', expected: integer" },
        { "{\"u8\": 256}", "Parameter 'u8' expects uint8" },
        { "{\"u8\": -1}", "Parameter 'u8' expects uint8" },
        { "{\"u16\": 65536}", "Parameter 'u16' expects uint16" },
        { "{\"u32\": 4294967296}", "Parameter 'u32' expects uint32" },
        { "{\"u64\": \"1\"}", "Parameter 'u64' expects uint64" },
        { "{\"u64\": 1.5}", "Parameter 'u64' expects uint64" },
        { "{\"sz\": true}", "Parameter 'sz' expects uint64" },
    };
    const char *good =
        "{\"i8\": -128, \"i16\": 32767, \"i32\": -2147483648, "
        "\"i64\": -9223372036854775808, \"u8\": 255, \"u16\": 65535, "
        "\"u32\": 4294967295, \"u64\": 18446744073709551615, "
        "\"sz\": 9223372036854775808, \"num\": 3, \"nul\": null}";
    g_autoptr(JsonNode) node = parse(good);
    g_autoptr(JsonNode) minus1 = parse("{\"u64\": -1, \"sz\": -2}");
    g_autofree char *text = NULL;
    TestInts *t = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        ints_error(bad[i].json, bad[i].msg);
    }

    g_assert_true(visit_TestInts_from_json(node, NULL, &t, &error_abort));
    g_assert_cmpint(t->i8, ==, INT8_MIN);
    g_assert_cmpint(t->i64, ==, INT64_MIN);
    g_assert_cmpuint(t->u32, ==, UINT32_MAX);
    g_assert_cmpuint(t->u64, ==, UINT64_MAX);
    g_assert_cmpuint(t->sz, ==, 1ull << 63);
    g_assert_cmpfloat(t->num, ==, 3);
    g_assert_true(qjson_is_null(t->nul));
    text = take_str(visit_TestInts_to_json(t));
    g_assert_cmpstr(text, ==,
        "{\"i8\": -128, \"i16\": 32767, \"i32\": -2147483648, "
        "\"i64\": -9223372036854775808, \"u8\": 255, \"u16\": 65535, "
        "\"u32\": 4294967295, \"u64\": 18446744073709551615, "
        "\"sz\": 9223372036854775808, \"num\": 3, \"nul\": null}");
    qapi_free_TestInts(t);

    /* uint64 takes a negative number by its bit pattern, as QEMU does. */
    g_assert_true(visit_TestInts_from_json(minus1, NULL, &t, &error_abort));
    g_assert_cmpuint(t->u64, ==, UINT64_MAX);
    g_assert_cmpuint(t->sz, ==, UINT64_MAX - 1);
    qapi_free_TestInts(t);
}

/* -- commands ---------------------------------------------------------------- */

static ErrorClass fail_class = ERROR_CLASS__MAX;  /* __MAX: do not fail */
static int nothing_calls;

void qmp_test_nothing(Error **errp)
{
    nothing_calls++;
    if (fail_class != ERROR_CLASS__MAX) {
        error_set(errp, fail_class, "test-nothing failed as asked");
    }
}

TestStruct *qmp_test_args(int64_t a, const char *b, bool has_c, bool c,
                          TestInner *d, strList *e, JsonNode *f, bool has_g,
                          TestColor g, Error **errp)
{
    TestStruct *s = g_new0(TestStruct, 1);

    s->id = a;
    s->name = g_strdup(b ? b : "no b");
    s->has_flag = has_c;
    s->flag = c;
    s->has_color = has_g;
    s->color = g;
    if (d) {
        s->sub = g_new0(TestInner, 1);
        s->sub->a = d->a;
    }
    for (strList *l = e; l; l = l->next) {
        s->has_count = true;
        s->count++;
    }
    if (f) {
        s->extra = json_node_copy(f);
    }
    return s;
}

TestInnerList *qmp_test_type_args(int64_t id, const char *tag,
                                  const char *name, bool has_count,
                                  int64_t count, bool has_flag, bool flag,
                                  bool has_color, TestColor color,
                                  TestInner *sub, intList *list,
                                  JsonNode *extra, TestColorList *colors,
                                  bool has_shown, int64_t shown,
                                  const char *old, Error **errp)
{
    TestInnerList *head = NULL;

    /* One element per color, each holding the id. */
    for (TestColorList *l = colors; l; l = l->next) {
        TestInnerList *elem = g_new0(TestInnerList, 1);

        elem->value = g_new0(TestInner, 1);
        elem->value->a = id;
        elem->next = head;
        head = elem;
    }
    return head;
}

/* A copy through JSON, to check the boxed argument and the union output. */
TestUnion *qmp_test_boxed(TestUnion *arg, Error **errp)
{
    g_autoptr(JsonNode) node = visit_TestUnion_to_json(arg);
    TestUnion *copy = NULL;

    visit_TestUnion_from_json(node, NULL, &copy, errp);
    return copy;
}

JsonNode *qmp_test_any_ret(JsonNode *v, Error **errp)
{
    return json_node_copy(v);
}

int64_t qmp_test_int_ret(Error **errp)
{
    return 42;
}

TestHolder *qmp_test_alt(TestHolder *h, Error **errp)
{
    g_autoptr(JsonNode) node = visit_TestHolder_to_json(h);
    TestHolder *copy = NULL;

    visit_TestHolder_from_json(node, NULL, &copy, errp);
    return copy;
}

static int no_reply_calls;

void qmp_test_no_reply(Error **errp)
{
    no_reply_calls++;
}

void qmp_test_oob(Error **errp)
{
}

void qmp_test_deprecated(bool has_arg, int64_t arg, Error **errp)
{
}

TestIncluded *qmp_test_include_cmd(Error **errp)
{
    TestIncluded *t = g_new0(TestIncluded, 1);

    t->v = g_strdup("included");
    return t;
}

TestInts *qmp_test_ints(bool has_i8, int8_t i8, bool has_i16, int16_t i16,
                        bool has_i32, int32_t i32, bool has_i64, int64_t i64,
                        bool has_u8, uint8_t u8, bool has_u16, uint16_t u16,
                        bool has_u32, uint32_t u32, bool has_u64, uint64_t u64,
                        bool has_sz, uint64_t sz, bool has_num, double num,
                        JsonNode *nul, Error **errp)
{
    TestInts *t = g_new0(TestInts, 1);

    t->has_u8 = has_u8;
    t->u8 = u8;
    t->has_u64 = has_u64;
    t->u64 = u64;
    return t;
}

void qmp_test_odd(TestOdd *o, TestUnion2 *u, Error **errp)
{
    if (o->under_score != o->CamelCase || u->n != 1) {
        error_setg(errp, "test-odd: unexpected arguments");
    }
}

/* 'gen': false: registered by hand, any arguments accepted. */
static bool qmp_test_manual(JsonObject *args, JsonNode **ret, Error **errp)
{
    *ret = qjson_new_int(json_object_get_size(args));
    return true;
}

static QmpCommandList *test_commands(void)
{
    static QmpCommandList *cmds;

    if (!cmds) {
        cmds = qmp_command_list_new();
        test_qmp_init_marshal(cmds);
        qmp_register_command(cmds, "test-manual", qmp_test_manual,
                             QCO_NO_OPTIONS);
    }
    return cmds;
}

/* Dispatches request (JSON text) and returns the reply's text or NULL. */
static char *dispatch(const char *request, bool allow_oob)
{
    g_autoptr(JsonNode) req = parse(request);
    JsonObject *rsp = qmp_dispatch(test_commands(), req, allow_oob);

    if (!rsp) {
        return NULL;
    }
    return take_str(qjson_new_object(rsp));
}

static void check_dispatch(const char *request, const char *reply)
{
    g_autofree char *got = dispatch(request, false);

    g_assert_cmpstr(got, ==, reply);
}

static void test_dispatch_success(void)
{
    check_dispatch("{\"execute\": \"test-nothing\"}", "{\"return\": {}}");
    check_dispatch("{\"execute\": \"test-nothing\", \"arguments\": {}, "
                   "\"id\": 1}",
                   "{\"return\": {}, \"id\": 1}");
    /* The id is any JSON value, copied verbatim. */
    check_dispatch("{\"execute\": \"test-int-ret\", "
                   "\"id\": {\"a\": [1, \"x\", null]}}",
                   "{\"return\": 42, \"id\": {\"a\": [1, \"x\", null]}}");
    check_dispatch("{\"id\": 18446744073709551615, "
                   "\"execute\": \"test-int-ret\"}",
                   "{\"return\": 42, \"id\": 18446744073709551615}");
    check_dispatch("{\"execute\": \"test-args\", \"arguments\": "
                   "{\"a\": 1, \"c\": true, \"d\": {\"a\": 2.5}, "
                   "\"e\": [\"x\", \"y\"], \"f\": [null], \"g\": \"blue\"}, "
                   "\"id\": \"s\"}",
                   "{\"return\": {\"id\": 1, \"name\": \"no b\", "
                   "\"count\": 2, \"flag\": true, \"color\": \"blue\", "
                   "\"sub\": {\"a\": 2.5}, \"extra\": [null], "
                   "\"colors\": []}, \"id\": \"s\"}");
    check_dispatch("{\"execute\": \"test-type-args\", \"arguments\": "
                   "{\"id\": 7, \"name\": \"n\", "
                   "\"colors\": [\"red\", \"blue\"]}}",
                   "{\"return\": [{\"a\": 7}, {\"a\": 7}]}");
    check_dispatch("{\"execute\": \"test-boxed\", \"arguments\": "
                   "{\"kind\": \"two\", \"id\": 3, \"z\": true}}",
                   "{\"return\": {\"kind\": \"two\", \"id\": 3, "
                   "\"z\": true}}");
    check_dispatch("{\"execute\": \"test-any-ret\", \"arguments\": "
                   "{\"v\": 18446744073709551615}}",
                   "{\"return\": 18446744073709551615}");
    check_dispatch("{\"execute\": \"test-alt\", \"arguments\": "
                   "{\"h\": {\"alt\": [3], \"alts\": [\"red\", null], "
                   "\"alt2\": {\"x\": 1}}}}",
                   "{\"return\": {\"alt\": [3], \"alts\": [\"red\", null], "
                   "\"alt2\": {\"x\": 1}}}");
    check_dispatch("{\"execute\": \"test-include-cmd\"}",
                   "{\"return\": {\"v\": \"included\"}}");
    check_dispatch("{\"execute\": \"test-ints\", \"arguments\": "
                   "{\"u8\": 200, \"u64\": -1}}",
                   "{\"return\": {\"u8\": 200, "
                   "\"u64\": 18446744073709551615}}");
    check_dispatch("{\"execute\": \"test-odd\", \"arguments\": "
                   "{\"o\": {\"under_score\": 2, \"CamelCase\": 2}, "
                   "\"u\": {\"kind\": \"two\", \"n\": 1}}}",
                   "{\"return\": {}}");
    check_dispatch("{\"execute\": \"test-manual\", \"arguments\": "
                   "{\"x\": 1, \"anything\": 2}}",
                   "{\"return\": 2}");
    check_dispatch("{\"execute\": \"test-deprecated\", \"arguments\": "
                   "{\"arg\": 1}}",
                   "{\"return\": {}}");

    /* success-response false: the command runs, no reply. */
    no_reply_calls = 0;
    g_assert_null(dispatch("{\"execute\": \"test-no-reply\", \"id\": 1}",
                           false));
    g_assert_cmpint(no_reply_calls, ==, 1);
}

static void test_dispatch_errors(void)
{
    check_dispatch("[]",
                   "{\"error\": {\"class\": \"GenericError\", "
                   "\"desc\": \"QMP input must be a JSON object\"}}");
    check_dispatch("{\"id\": 5}",
                   "{\"error\": {\"class\": \"GenericError\", "
                   "\"desc\": \"QMP input lacks member 'execute'\"}, "
                   "\"id\": 5}");
    check_dispatch("{\"execute\": 1, \"id\": 5}",
                   "{\"error\": {\"class\": \"GenericError\", "
                   "\"desc\": \"QMP input member 'execute' must be a "
                   "string\"}, \"id\": 5}");
    check_dispatch("{\"execute\": \"test-nothing\", \"arguments\": []}",
                   "{\"error\": {\"class\": \"GenericError\", "
                   "\"desc\": \"QMP input member 'arguments' must be an "
                   "object\"}}");
    check_dispatch("{\"execute\": \"test-nothing\", \"extra\": 1}",
                   "{\"error\": {\"class\": \"GenericError\", "
                   "\"desc\": \"QMP input member 'extra' is unexpected\"}}");
    /* exec-oob is just an unknown member while OOB is off. */
    check_dispatch("{\"exec-oob\": \"test-oob\"}",
                   "{\"error\": {\"class\": \"GenericError\", "
                   "\"desc\": \"QMP input member 'exec-oob' is "
                   "unexpected\"}}");
    check_dispatch("{\"execute\": \"no-such\", \"id\": [1]}",
                   "{\"error\": {\"class\": \"CommandNotFound\", "
                   "\"desc\": \"The command no-such has not been found\"}, "
                   "\"id\": [1]}");
    /* Commands disabled by 'if' do not exist. */
    check_dispatch("{\"execute\": \"test-disabled\"}",
                   "{\"error\": {\"class\": \"CommandNotFound\", "
                   "\"desc\": \"The command test-disabled has not been "
                   "found\"}}");

    /* Argument checking, at the top level and nested. */
    check_dispatch("{\"execute\": \"test-args\"}",
                   "{\"error\": {\"class\": \"GenericError\", "
                   "\"desc\": \"Parameter 'a' is missing\"}}");
    check_dispatch("{\"execute\": \"test-args\", \"arguments\": "
                   "{\"a\": 1, \"z\": 2}}",
                   "{\"error\": {\"class\": \"GenericError\", "
                   "\"desc\": \"Parameter 'z' is unexpected\"}}");
    check_dispatch("{\"execute\": \"test-nothing\", \"arguments\": "
                   "{\"z\": 2}}",
                   "{\"error\": {\"class\": \"GenericError\", "
                   "\"desc\": \"Parameter 'z' is unexpected\"}}");
    check_dispatch("{\"execute\": \"test-args\", \"arguments\": "
                   "{\"a\": \"1\"}}",
                   "{\"error\": {\"class\": \"GenericError\", "
                   "\"desc\": \"Invalid parameter type for 'a', expected: "
                   "integer\"}}");
    check_dispatch("{\"execute\": \"test-args\", \"arguments\": "
                   "{\"a\": 1, \"d\": {\"a\": 1, \"b\": [{}]}}}",
                   "{\"error\": {\"class\": \"GenericError\", "
                   "\"desc\": \"Parameter 'd.b[0].a' is missing\"}}");
    check_dispatch("{\"execute\": \"test-args\", \"arguments\": "
                   "{\"a\": 1, \"g\": \"pink\"}}",
                   "{\"error\": {\"class\": \"GenericError\", "
                   "\"desc\": \"Parameter 'g' does not accept value "
                   "'pink'\"}}");
    check_dispatch("{\"execute\": \"test-ints\", \"arguments\": "
                   "{\"u16\": -1}}",
                   "{\"error\": {\"class\": \"GenericError\", "
                   "\"desc\": \"Parameter 'u16' expects uint16\"}}");
    check_dispatch("{\"execute\": \"test-boxed\", \"arguments\": "
                   "{\"kind\": \"one\", \"x\": 1, \"z\": true}}",
                   "{\"error\": {\"class\": \"GenericError\", "
                   "\"desc\": \"Parameter 'z' is unexpected\"}}");

    /* The handler's error and its class. */
    fail_class = ERROR_CLASS_DEVICE_NOT_FOUND;
    check_dispatch("{\"execute\": \"test-nothing\", \"id\": \"x\"}",
                   "{\"error\": {\"class\": \"DeviceNotFound\", "
                   "\"desc\": \"test-nothing failed as asked\"}, "
                   "\"id\": \"x\"}");
    fail_class = ERROR_CLASS__MAX;
}

static void test_dispatch_oob_and_disable(void)
{
    g_autofree char *oob_ok = dispatch("{\"exec-oob\": \"test-oob\", "
                                       "\"id\": 1}", true);
    g_autofree char *oob_bad = dispatch("{\"exec-oob\": \"test-nothing\"}",
                                        true);
    g_autofree char *clash = dispatch("{\"execute\": \"test-oob\", "
                                      "\"exec-oob\": \"test-oob\"}", true);
    const QmpCommand *cmd;

    g_assert_cmpstr(oob_ok, ==, "{\"return\": {}, \"id\": 1}");
    g_assert_cmpstr(oob_bad, ==,
                    "{\"error\": {\"class\": \"GenericError\", "
                    "\"desc\": \"The command test-nothing does not support "
                    "OOB\"}}");
    g_assert_cmpstr(clash, ==,
                    "{\"error\": {\"class\": \"GenericError\", "
                    "\"desc\": \"QMP input member 'exec-oob' clashes with "
                    "'execute'\"}}");

    /* Options come from the schema. */
    cmd = qmp_find_command(test_commands(), "test-oob");
    g_assert_cmpint(cmd->options, ==, QCO_ALLOW_OOB | QCO_ALLOW_PRECONFIG);
    cmd = qmp_find_command(test_commands(), "test-no-reply");
    g_assert_cmpint(cmd->options, ==, QCO_NO_SUCCESS_RESP);
    g_assert_null(qmp_find_command(test_commands(), "test-disabled"));

    /* A disabled command is not found, and not run. */
    {
        QmpCommandList *cmds = qmp_command_list_new();
        g_autoptr(JsonNode) req = parse("{\"execute\": \"test-nothing\"}");
        g_autoptr(JsonNode) reply = NULL;

        test_qmp_init_marshal(cmds);
        qmp_disable_command(cmds, "test-nothing");
        nothing_calls = 0;
        reply = qjson_new_object(qmp_dispatch(cmds, req, false));
        g_autofree char *text = qjson_to_string(reply, false);
        g_assert_cmpstr(text, ==,
                        "{\"error\": {\"class\": \"CommandNotFound\", "
                        "\"desc\": \"Command test-nothing has been "
                        "disabled\"}}");
        g_assert_cmpint(nothing_calls, ==, 0);
        qmp_command_list_free(cmds);
    }
}

static void count_command(const QmpCommand *cmd, void *opaque)
{
    GString *names = opaque;

    g_string_append_printf(names, "%s%s", names->len ? " " : "", cmd->name);
}

static void test_registry(void)
{
    QmpCommandList *cmds = qmp_command_list_new();
    g_autoptr(GString) names = g_string_new("");

    /* Registration order is kept; registering again replaces in place. */
    qmp_register_command(cmds, "b", qmp_test_manual, QCO_NO_OPTIONS);
    qmp_register_command(cmds, "a", qmp_test_manual, QCO_NO_OPTIONS);
    qmp_register_command(cmds, "b", qmp_test_manual, QCO_ALLOW_OOB);
    qmp_for_each_command(cmds, count_command, names);
    g_assert_cmpstr(names->str, ==, "b a");
    g_assert_cmpint(qmp_find_command(cmds, "b")->options, ==, QCO_ALLOW_OOB);
    qmp_command_list_free(cmds);

    /* The schema's list has query-qmp-schema, registered by hand. */
    g_assert_nonnull(qmp_find_command(qmp_commands(), "query-qmp-schema"));
    g_assert_true(qmp_commands() == qmp_commands());
}

/* -- events ------------------------------------------------------------------ */

static GPtrArray *events;   /* "NAME data-text" */

static void test_emitter(const char *event, JsonObject *data)
{
    g_autofree char *text = NULL;

    if (data) {
        /* The emitter borrows data. */
        text = take_str(json_node_init_object(json_node_alloc(), data));
    }
    g_ptr_array_add(events, g_strdup_printf("%s %s", event,
                                            text ? text : "-"));
}

static void test_events(void)
{
    TestUnion u = { .kind = TEST_KIND_ONE, .u.one = { .x = 5, .y = "y" } };
    TestBranchOne one = { .x = 1 };

    events = g_ptr_array_new_with_free_func(g_free);
    qapi_event_set_emitter(test_emitter);

    qapi_event_send_test_event_plain();
    qapi_event_send_test_event_args(-1, NULL, true, 255, TC_BLUE);
    qapi_event_send_test_event_args(2, "b", false, 0, TC_RED);
    qapi_event_send_test_event_boxed(&u);
    qapi_event_send_test_event_type(one.x, one.y);

    g_assert_cmpuint(events->len, ==, 5);
    g_assert_cmpstr(events->pdata[0], ==, "TEST_EVENT_PLAIN -");
    g_assert_cmpstr(events->pdata[1], ==,
                    "TEST_EVENT_ARGS {\"a\": -1, \"c\": 255, "
                    "\"color\": \"blue\"}");
    g_assert_cmpstr(events->pdata[2], ==,
                    "TEST_EVENT_ARGS {\"a\": 2, \"b\": \"b\", "
                    "\"color\": \"red\"}");
    g_assert_cmpstr(events->pdata[3], ==,
                    "TEST_EVENT_BOXED {\"kind\": \"one\", \"x\": 5, "
                    "\"y\": \"y\"}");
    g_assert_cmpstr(events->pdata[4], ==, "TEST_EVENT_TYPE {\"x\": 1}");

    /* Without an emitter, events are dropped (and freed). */
    qapi_event_set_emitter(NULL);
    qapi_event_send_test_event_args(1, "x", false, 0, TC_RED);
    g_assert_cmpuint(events->len, ==, 5);
    g_ptr_array_free(events, true);
    events = NULL;
}

/* -- introspection ------------------------------------------------------------ */

static JsonObject *find_entry(JsonArray *schema, const char *name)
{
    for (guint i = 0; i < json_array_get_length(schema); i++) {
        JsonObject *e = json_array_get_object_element(schema, i);

        if (!strcmp(json_object_get_string_member(e, "name"), name)) {
            return e;
        }
    }
    return NULL;
}

static bool is_builtin_or_masked(const char *name)
{
    static const char *const builtins[] = {
        "str", "int", "number", "bool", "null", "any", NULL,
    };

    if (name[0] == '[') {
        return name[strlen(name) - 1] == ']';
    }
    if (qapi_name_in(name, builtins)) {
        return true;
    }
    return strspn(name, "0123456789") == strlen(name);
}

static void test_introspect_shape(void)
{
    g_autoptr(JsonNode) root = parse(test_qapi_introspect_json());
    JsonArray *schema = json_node_get_array(root);
    g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
    JsonObject *nothing, *cmd, *empty, *obj, *member;
    JsonArray *members;
    const char *ret;

    for (guint i = 0; i < json_array_get_length(schema); i++) {
        JsonObject *e = json_array_get_object_element(schema, i);
        const char *name = json_object_get_string_member(e, "name");
        const char *meta = json_object_get_string_member(e, "meta-type");

        /* Names are unique; only commands and events keep theirs. */
        g_assert_false(g_hash_table_contains(names, name));
        g_hash_table_add(names, (char *)name);
        if (strcmp(meta, "command") && strcmp(meta, "event")) {
            g_assert_true(is_builtin_or_masked(name));
        }
        /* allow-oob appears only when true. */
        if (json_object_has_member(e, "allow-oob")) {
            g_assert_cmpstr(name, ==, "test-oob");
            g_assert_true(json_object_get_boolean_member(e, "allow-oob"));
        }
    }

    /* Disabled by 'if', or used by nobody: absent. */
    g_assert_null(find_entry(schema, "test-disabled"));
    g_assert_null(find_entry(schema, "TEST_EVENT_DISABLED"));
    g_assert_null(find_entry(schema, "TestUnused"));
    g_assert_null(find_entry(schema, "TestColor"));
    /* 'gen': false commands are described too. */
    g_assert_nonnull(find_entry(schema, "test-manual"));

    /* No arguments and no return: the member-less object (q_empty). */
    nothing = find_entry(schema, "test-nothing");
    g_assert_cmpstr(json_object_get_string_member(nothing, "meta-type"), ==,
                    "command");
    g_assert_cmpstr(json_object_get_string_member(nothing, "arg-type"), ==,
                    "0");
    g_assert_cmpstr(json_object_get_string_member(nothing, "ret-type"), ==,
                    "0");
    empty = find_entry(schema, "0");
    g_assert_cmpstr(json_object_get_string_member(empty, "meta-type"), ==,
                    "object");
    g_assert_cmpuint(json_array_get_length(
        json_object_get_array_member(empty, "members")), ==, 0);

    /* Masked names in order of first use; builtins and arrays by name. */
    cmd = find_entry(schema, "test-args");
    g_assert_cmpstr(json_object_get_string_member(cmd, "arg-type"), ==, "1");
    g_assert_cmpstr(json_object_get_string_member(cmd, "ret-type"), ==, "2");
    cmd = find_entry(schema, "test-type-args");
    ret = json_object_get_string_member(cmd, "ret-type");
    g_assert_cmpstr(ret, ==, "[3]");
    obj = find_entry(schema, ret);
    g_assert_cmpstr(json_object_get_string_member(obj, "meta-type"), ==,
                    "array");
    g_assert_cmpstr(json_object_get_string_member(obj, "element-type"), ==,
                    "3");
    cmd = find_entry(schema, "test-int-ret");
    g_assert_cmpstr(json_object_get_string_member(cmd, "ret-type"), ==,
                    "int");
    obj = find_entry(schema, "int");
    g_assert_cmpstr(json_object_get_string_member(obj, "json-type"), ==,
                    "int");

    /* Implicit argument type: optional members have "default": null. */
    obj = find_entry(schema, "1");
    members = json_object_get_array_member(obj, "members");
    member = json_array_get_object_element(members, 0);
    g_assert_cmpstr(json_object_get_string_member(member, "name"), ==, "a");
    g_assert_false(json_object_has_member(member, "default"));
    member = json_array_get_object_element(members, 1);
    g_assert_cmpstr(json_object_get_string_member(member, "name"), ==, "b");
    g_assert_true(json_object_get_null_member(member, "default"));

    /* A flat union: base members flattened, tag, one variant per value. */
    cmd = find_entry(schema, "test-boxed");
    obj = find_entry(schema, json_object_get_string_member(cmd, "arg-type"));
    g_assert_cmpstr(json_object_get_string_member(obj, "tag"), ==, "kind");
    g_assert_cmpuint(json_array_get_length(
        json_object_get_array_member(obj, "variants")), ==, 3);
    member = json_array_get_object_element(
        json_object_get_array_member(obj, "variants"), 2);
    g_assert_cmpstr(json_object_get_string_member(member, "case"), ==,
                    "none");
    g_assert_cmpstr(json_object_get_string_member(member, "type"), ==, "0");

    /* Features of a definition, of a member. */
    cmd = find_entry(schema, "test-deprecated");
    g_assert_cmpstr(json_array_get_string_element(
        json_object_get_array_member(cmd, "features"), 0), ==, "deprecated");
    obj = find_entry(schema, json_object_get_string_member(cmd, "arg-type"));
    member = json_array_get_object_element(
        json_object_get_array_member(obj, "members"), 0);
    g_assert_cmpstr(json_array_get_string_element(
        json_object_get_array_member(member, "features"), 0), ==, "unstable");
}

/* The chassis schema's data is valid SchemaInfo, by its own visitor. */
static void test_introspect_chassis(void)
{
    g_autoptr(JsonNode) root = parse(qapi_introspect_json());
    SchemaInfoList *list = NULL;
    bool seen_schema = false, seen_getfd = false, seen_event = false;

    g_assert_true(visit_SchemaInfoList_from_json(root, NULL, &list,
                                                 &error_abort));
    for (SchemaInfoList *l = list; l; l = l->next) {
        SchemaInfo *info = l->value;

        if (info->meta_type == SCHEMA_META_TYPE_COMMAND
            && !strcmp(info->name, "query-qmp-schema")) {
            g_assert_cmpint(info->u.command.ret_type[0], ==, '[');
            seen_schema = true;
        }
        if (!strcmp(info->name, "getfd")) {
            seen_getfd = true;  /* 'if': 'CONFIG_POSIX' */
        }
        if (info->meta_type == SCHEMA_META_TYPE_EVENT
            && !strcmp(info->name, "SHUTDOWN")) {
            seen_event = true;
        }
    }
    g_assert_true(seen_schema);
    g_assert_true(seen_getfd);
    g_assert_true(seen_event);
    qapi_free_SchemaInfoList(list);
}

static void test_query_qmp_schema(void)
{
    g_autoptr(JsonNode) req = parse("{\"execute\": \"query-qmp-schema\"}");
    JsonObject *rsp = qmp_dispatch(qmp_commands(), req, false);
    g_autoptr(JsonNode) reply = qjson_new_object(rsp);
    g_autoptr(JsonNode) expected = parse(qapi_introspect_json());

    g_assert_true(json_object_has_member(rsp, "return"));
    g_assert_true(json_node_equal(json_object_get_member(rsp, "return"),
                                  expected));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qapi/struct/round-trip", test_struct_full);
    g_test_add_func("/qapi/struct/optional-absent",
                    test_struct_optional_absent);
    g_test_add_func("/qapi/struct/from-c", test_struct_built_in_c);
    g_test_add_func("/qapi/enum/prefix-lookup-if", test_enum);
    g_test_add_func("/qapi/union/flat-round-trip", test_union);
    g_test_add_func("/qapi/union/errors", test_union_errors);
    g_test_add_func("/qapi/alternate/by-json-type", test_alternate);
    g_test_add_func("/qapi/alternate/errors", test_alternate_errors);
    g_test_add_func("/qapi/list/paths", test_lists);
    g_test_add_func("/qapi/input/error-messages", test_input_errors);
    g_test_add_func("/qapi/input/integer-ranges", test_integer_ranges);
    g_test_add_func("/qapi/dispatch/success-and-id", test_dispatch_success);
    g_test_add_func("/qapi/dispatch/errors", test_dispatch_errors);
    g_test_add_func("/qapi/dispatch/oob-and-disable",
                    test_dispatch_oob_and_disable);
    g_test_add_func("/qapi/dispatch/registry", test_registry);
    g_test_add_func("/qapi/events/emit", test_events);
    g_test_add_func("/qapi/introspect/shape", test_introspect_shape);
    g_test_add_func("/qapi/introspect/chassis-is-schema-info",
                    test_introspect_chassis);
    g_test_add_func("/qapi/introspect/query-qmp-schema",
                    test_query_qmp_schema);
    return g_test_run();
}
