/*
 * Run-time support of the generated QAPI code: built-in type visitors,
 * enum lookup, and input error messages worded as QEMU's QObject input
 * visitor words them (reference B.3).
 */
#include <inttypes.h>
#include <string.h>

#include "qapi/qapi-util.h"
#include "qapi/qjson.h"

QType qapi_json_qtype(JsonNode *node)
{
    switch (json_node_get_node_type(node)) {
    case JSON_NODE_OBJECT:
        return QTYPE_QDICT;
    case JSON_NODE_ARRAY:
        return QTYPE_QLIST;
    case JSON_NODE_NULL:
        return QTYPE_QNULL;
    case JSON_NODE_VALUE:
        break;
    }
    if (qjson_is_number(node)) {
        return QTYPE_QNUM;
    }
    if (qjson_is_str(node)) {
        return QTYPE_QSTRING;
    }
    if (qjson_is_bool(node)) {
        return QTYPE_QBOOL;
    }
    return QTYPE_NONE;
}

/* -- paths and messages ----------------------------------------------------- */

/* QEMU names the root of the input "<anonymous>". */
static const char *path_name(const char *name)
{
    return name ? name : "<anonymous>";
}

char *qapi_path(const char *name, const char *member)
{
    return name ? g_strdup_printf("%s.%s", name, member) : g_strdup(member);
}

char *qapi_path_index(const char *name, unsigned index)
{
    return g_strdup_printf("%s[%u]", name ? name : "", index);
}

void qapi_error_missing(Error **errp, const char *name, const char *member)
{
    g_autofree char *path = qapi_path(name, member);

    error_setg(errp, "Parameter '%s' is missing", path);
}

void qapi_error_type(Error **errp, const char *name, const char *expected)
{
    error_setg(errp, "Invalid parameter type for '%s', expected: %s",
               path_name(name), expected);
}

/* "Parameter 'p' expects uint8" */
static void error_expects(Error **errp, const char *name, const char *what)
{
    error_setg(errp, "Parameter '%s' expects %s", path_name(name), what);
}

static const char *const qtype_expected[QTYPE__MAX] = {
    [QTYPE_QNULL] = "null",
    [QTYPE_QNUM] = "number",
    [QTYPE_QSTRING] = "string",
    [QTYPE_QDICT] = "object",
    [QTYPE_QLIST] = "array",
    [QTYPE_QBOOL] = "boolean",
};

bool qapi_check_qtype(JsonNode *node, const char *name, QType want,
                      Error **errp)
{
    if (qapi_json_qtype(node) != want) {
        qapi_error_type(errp, name, qtype_expected[want]);
        return false;
    }
    return true;
}

bool qapi_name_in(const char *key, const char *const names[])
{
    for (; *names; names++) {
        if (!strcmp(key, *names)) {
            return true;
        }
    }
    return false;
}

bool qapi_check_unexpected(JsonObject *o, const char *name,
                           bool (*knows)(const void *obj, const char *key),
                           const void *obj, Error **errp)
{
    g_autoptr(GList) keys = json_object_get_members(o);

    for (GList *l = keys; l; l = l->next) {
        if (!knows || !knows(obj, l->data)) {
            g_autofree char *path = qapi_path(name, l->data);

            error_setg(errp, "Parameter '%s' is unexpected", path);
            return false;
        }
    }
    return true;
}

bool qapi_check_no_members(JsonObject *o, const char *name, Error **errp)
{
    return qapi_check_unexpected(o, name, NULL, NULL, errp);
}

/* -- enums ------------------------------------------------------------------- */

int qapi_enum_find(const char *const lookup[], const char *s)
{
    for (int i = 0; lookup[i]; i++) {
        if (!strcmp(lookup[i], s)) {
            return i;
        }
    }
    return -1;
}

int qapi_enum_parse(const char *const lookup[], const char *s, int def,
                    Error **errp)
{
    int i;

    if (!s) {
        return def;
    }
    i = qapi_enum_find(lookup, s);
    if (i < 0) {
        error_setg(errp, "Invalid parameter '%s'", s);
        return def;
    }
    return i;
}

bool qapi_enum_from_json(JsonNode *node, const char *name,
                         const char *const lookup[], int *out, Error **errp)
{
    const char *s;
    int i;

    if (!qapi_check_qtype(node, name, QTYPE_QSTRING, errp)) {
        return false;
    }
    s = json_node_get_string(node);
    i = qapi_enum_find(lookup, s);
    if (i < 0) {
        error_setg(errp, "Parameter '%s' does not accept value '%s'",
                   path_name(name), s);
        return false;
    }
    *out = i;
    return true;
}

JsonNode *qapi_enum_to_json(const char *const lookup[], int max, int value)
{
    g_assert(value >= 0 && value < max);
    return qjson_new_str(lookup[value]);
}

/* -- built-in types ------------------------------------------------------------ */

bool visit_str_from_json(JsonNode *node, const char *name, char **out,
                         Error **errp)
{
    if (!qapi_check_qtype(node, name, QTYPE_QSTRING, errp)) {
        return false;
    }
    *out = g_strdup(json_node_get_string(node));
    return true;
}

bool visit_number_from_json(JsonNode *node, const char *name, double *out,
                            Error **errp)
{
    if (!qjson_is_number(node)) {
        qapi_error_type(errp, name, "number");
        return false;
    }
    if (qjson_is_uint_node(node)) {
        *out = (double)(uint64_t)json_node_get_int(node);
    } else if (qjson_is_int(node)) {
        *out = (double)json_node_get_int(node);
    } else {
        *out = json_node_get_double(node);
    }
    return true;
}

/*
 * A signed integer: an integer literal within int64 (an unsigned node
 * above INT64_MAX is not), then within [min, max] for the narrow types.
 */
static bool get_int(JsonNode *node, const char *name, int64_t min,
                    int64_t max, const char *type, int64_t *out, Error **errp)
{
    int64_t v;

    if (!qjson_is_int(node)
        || (qjson_is_uint_node(node) && json_node_get_int(node) < 0)) {
        qapi_error_type(errp, name, "integer");
        return false;
    }
    v = json_node_get_int(node);
    if (v < min || v > max) {
        error_expects(errp, name, type);
        return false;
    }
    *out = v;
    return true;
}

/*
 * An unsigned integer: any integer literal, by its 64-bit pattern (QEMU
 * accepts negative values for uint64), then at most max.
 */
static bool get_uint(JsonNode *node, const char *name, uint64_t max,
                     const char *type, uint64_t *out, Error **errp)
{
    uint64_t v;

    if (!qjson_is_int(node)) {
        error_expects(errp, name, "uint64");
        return false;
    }
    v = (uint64_t)json_node_get_int(node);
    if (v > max) {
        error_expects(errp, name, type);
        return false;
    }
    *out = v;
    return true;
}

#define DEFINE_INT_VISITORS(T, CT, MIN, MAX)                                 \
bool visit_##T##_from_json(JsonNode *node, const char *name, CT *out,       \
                           Error **errp)                                     \
{                                                                            \
    int64_t v;                                                               \
                                                                             \
    if (!get_int(node, name, MIN, MAX, #T, &v, errp)) {                      \
        return false;                                                        \
    }                                                                        \
    *out = (CT)v;                                                            \
    return true;                                                             \
}                                                                            \
                                                                             \
JsonNode *visit_##T##_to_json(CT value)                                      \
{                                                                            \
    return qjson_new_int(value);                                             \
}

#define DEFINE_UINT_VISITORS(T, CT, MAX)                                     \
bool visit_##T##_from_json(JsonNode *node, const char *name, CT *out,       \
                           Error **errp)                                     \
{                                                                            \
    uint64_t v;                                                              \
                                                                             \
    if (!get_uint(node, name, MAX, #T, &v, errp)) {                          \
        return false;                                                        \
    }                                                                        \
    *out = (CT)v;                                                            \
    return true;                                                             \
}                                                                            \
                                                                             \
JsonNode *visit_##T##_to_json(CT value)                                      \
{                                                                            \
    return qjson_new_uint(value);                                            \
}

DEFINE_INT_VISITORS(int, int64_t, INT64_MIN, INT64_MAX)
DEFINE_INT_VISITORS(int8, int8_t, INT8_MIN, INT8_MAX)
DEFINE_INT_VISITORS(int16, int16_t, INT16_MIN, INT16_MAX)
DEFINE_INT_VISITORS(int32, int32_t, INT32_MIN, INT32_MAX)
DEFINE_INT_VISITORS(int64, int64_t, INT64_MIN, INT64_MAX)
DEFINE_UINT_VISITORS(uint8, uint8_t, UINT8_MAX)
DEFINE_UINT_VISITORS(uint16, uint16_t, UINT16_MAX)
DEFINE_UINT_VISITORS(uint32, uint32_t, UINT32_MAX)
DEFINE_UINT_VISITORS(uint64, uint64_t, UINT64_MAX)
/* size is uint64 under another name, QEMU's messages included. */
DEFINE_UINT_VISITORS(size, uint64_t, UINT64_MAX)

bool visit_bool_from_json(JsonNode *node, const char *name, bool *out,
                          Error **errp)
{
    if (!qapi_check_qtype(node, name, QTYPE_QBOOL, errp)) {
        return false;
    }
    *out = json_node_get_boolean(node);
    return true;
}

bool visit_null_from_json(JsonNode *node, const char *name, JsonNode **out,
                          Error **errp)
{
    if (!qapi_check_qtype(node, name, QTYPE_QNULL, errp)) {
        return false;
    }
    *out = qjson_new_null();
    return true;
}

bool visit_any_from_json(JsonNode *node, const char *name, JsonNode **out,
                         Error **errp)
{
    /* json_node_copy() keeps the seal that marks unsigned integers. */
    *out = json_node_copy(node);
    return true;
}

JsonNode *visit_str_to_json(const char *value)
{
    return qjson_new_str(value ? value : "");
}

JsonNode *visit_number_to_json(double value)
{
    return qjson_new_double(value);
}

JsonNode *visit_bool_to_json(bool value)
{
    return qjson_new_bool(value);
}

JsonNode *visit_null_to_json(const JsonNode *value)
{
    return qjson_new_null();
}

JsonNode *visit_any_to_json(const JsonNode *value)
{
    return value ? json_node_copy((JsonNode *)value) : qjson_new_null();
}

void qapi_free_any(JsonNode *node)
{
    if (node) {
        json_node_unref(node);
    }
}
