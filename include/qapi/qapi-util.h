/*
 * Run-time support of the code generated from the QAPI schema: the
 * visitors of the built-in types, enum tables, and the helpers that give
 * JSON input errors QEMU's wording (reference B.3).
 *
 * Built-in type visitors follow the convention of the generated ones (see
 * the generated qapi-visit.h):
 *
 *   bool visit_T_from_json(JsonNode *node, const char *name, CT *out,
 *                          Error **errp);
 *   JsonNode *visit_T_to_json(CT value);
 *
 * name is the path of the value in the input ("a.b", "a[0]"; NULL for the
 * root), used in error messages.  On failure *out is left alone.
 */
#ifndef QAPI_QAPI_UTIL_H
#define QAPI_QAPI_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <json-glib/json-glib.h>

#include "qapi/error.h"

/* The JSON type of a value, as alternates tell their branches apart. */
typedef enum QType {
    QTYPE_NONE,
    QTYPE_QNULL,
    QTYPE_QNUM,
    QTYPE_QSTRING,
    QTYPE_QDICT,
    QTYPE_QLIST,
    QTYPE_QBOOL,
    QTYPE__MAX,
} QType;

QType qapi_json_qtype(JsonNode *node);

/* -- error paths and messages ------------------------------------------- */

/* "name.member" ("member" when name is NULL); g_free() the result. */
char *qapi_path(const char *name, const char *member);
/* "name[index]"; g_free() the result. */
char *qapi_path_index(const char *name, unsigned index);

/* Parameter 'name.member' is missing */
void qapi_error_missing(Error **errp, const char *name, const char *member);
/* Invalid parameter type for 'name', expected: <expected> */
void qapi_error_type(Error **errp, const char *name, const char *expected);
/* Checks that node has JSON type want, else a qapi_error_type() error. */
bool qapi_check_qtype(JsonNode *node, const char *name, QType want,
                      Error **errp);

/* Whether key is in the NULL-terminated names. */
bool qapi_name_in(const char *key, const char *const names[]);
/*
 * Fails with "Parameter 'name.key' is unexpected" for the first member key
 * of o for which knows(obj, key) is false.
 */
bool qapi_check_unexpected(JsonObject *o, const char *name,
                           bool (*knows)(const void *obj, const char *key),
                           const void *obj, Error **errp);
/* The same for an object that must have no members at all. */
bool qapi_check_no_members(JsonObject *o, const char *name, Error **errp);

/* -- enums ----------------------------------------------------------------- */

/* The index of s in the NULL-terminated lookup table, or -1. */
int qapi_enum_find(const char *const lookup[], const char *s);
/* Like qapi_enum_find(); s == NULL gives def; unknown: "Invalid parameter 's'". */
int qapi_enum_parse(const char *const lookup[], const char *s, int def,
                    Error **errp);
/* A string node naming a value of lookup, else QEMU's error messages. */
bool qapi_enum_from_json(JsonNode *node, const char *name,
                         const char *const lookup[], int *out, Error **errp);
JsonNode *qapi_enum_to_json(const char *const lookup[], int max, int value);

/* -- built-in types -------------------------------------------------------- */

bool visit_str_from_json(JsonNode *node, const char *name, char **out,
                         Error **errp);
bool visit_number_from_json(JsonNode *node, const char *name, double *out,
                            Error **errp);
bool visit_int_from_json(JsonNode *node, const char *name, int64_t *out,
                         Error **errp);
bool visit_int8_from_json(JsonNode *node, const char *name, int8_t *out,
                          Error **errp);
bool visit_int16_from_json(JsonNode *node, const char *name, int16_t *out,
                           Error **errp);
bool visit_int32_from_json(JsonNode *node, const char *name, int32_t *out,
                           Error **errp);
bool visit_int64_from_json(JsonNode *node, const char *name, int64_t *out,
                           Error **errp);
/*
 * Unsigned: any integer is taken by its 64-bit pattern (QEMU accepts -1
 * for uint64), then range-checked for the narrower types.
 */
bool visit_uint8_from_json(JsonNode *node, const char *name, uint8_t *out,
                           Error **errp);
bool visit_uint16_from_json(JsonNode *node, const char *name, uint16_t *out,
                            Error **errp);
bool visit_uint32_from_json(JsonNode *node, const char *name, uint32_t *out,
                            Error **errp);
bool visit_uint64_from_json(JsonNode *node, const char *name, uint64_t *out,
                            Error **errp);
bool visit_size_from_json(JsonNode *node, const char *name, uint64_t *out,
                          Error **errp);
bool visit_bool_from_json(JsonNode *node, const char *name, bool *out,
                          Error **errp);
/* null is held as a JSON null node. */
bool visit_null_from_json(JsonNode *node, const char *name, JsonNode **out,
                          Error **errp);
/* Takes a copy of node (sharing its containers). */
bool visit_any_from_json(JsonNode *node, const char *name, JsonNode **out,
                         Error **errp);

/* str NULL gives "" (as QEMU); any NULL gives null. */
JsonNode *visit_str_to_json(const char *value);
JsonNode *visit_number_to_json(double value);
JsonNode *visit_int_to_json(int64_t value);
JsonNode *visit_int8_to_json(int8_t value);
JsonNode *visit_int16_to_json(int16_t value);
JsonNode *visit_int32_to_json(int32_t value);
JsonNode *visit_int64_to_json(int64_t value);
JsonNode *visit_uint8_to_json(uint8_t value);
JsonNode *visit_uint16_to_json(uint16_t value);
JsonNode *visit_uint32_to_json(uint32_t value);
JsonNode *visit_uint64_to_json(uint64_t value);
JsonNode *visit_size_to_json(uint64_t value);
JsonNode *visit_bool_to_json(bool value);
JsonNode *visit_null_to_json(const JsonNode *value);
JsonNode *visit_any_to_json(const JsonNode *value);

/* Frees an any or null value (NULL is fine). */
void qapi_free_any(JsonNode *node);

#endif
