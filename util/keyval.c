/*
 * Command-line option strings: "key=value,..." into a JSON object.
 */
#include <string.h>
#include <glib.h>

#include "util/keyval.h"

static bool keyval_key_is_valid(const char *key, size_t len)
{
    if (!len) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = key[i];

        if (!g_ascii_isalnum(c) && c != '-' && c != '_' && c != '.') {
            return false;
        }
    }
    return true;
}

/*
 * Reads a value starting at s up to an unescaped ',' or the end; ",,"
 * is a comma.  Returns the value; *next is the start of the next item.
 */
static char *keyval_read_value(const char *s, const char **next)
{
    GString *val = g_string_new(NULL);

    for (;;) {
        if (*s == ',' && s[1] == ',') {
            g_string_append_c(val, ',');
            s += 2;
        } else if (*s == ',' || !*s) {
            break;
        } else {
            g_string_append_c(val, *s++);
        }
    }
    *next = *s ? s + 1 : s;
    return g_string_free(val, false);
}

static bool keyval_is_help(const char *s, size_t len)
{
    return (len == 4 && !strncmp(s, "help", 4)) || (len == 1 && *s == '?');
}

/* Parses params into a new object; duplicates within params are errors. */
static JsonObject *keyval_parse_new(const char *params,
                                    const char *implied_key, bool *help,
                                    Error **errp)
{
    JsonObject *obj = json_object_new();
    const char *s = params;
    bool first = true;

    if (help) {
        *help = false;
    }
    while (*s) {
        /* A key ends at '=' or ','; a lone ",," can only be in a value. */
        size_t len = strcspn(s, "=,");
        g_autofree char *key = NULL;
        char *value;

        if (s[len] != '=' && !(s[len] == ',' && s[len + 1] == ',')) {
            if (help && keyval_is_help(s, len)) {
                *help = true;
                s += len + (s[len] == ',');
                first = false;
                continue;
            }
        }
        if (s[len] == '=') {
            key = g_strndup(s, len);
            if (!keyval_key_is_valid(s, len)) {
                error_setg(errp, "Invalid parameter '%s'", key);
                goto fail;
            }
            value = keyval_read_value(s + len + 1, &s);
        } else if (first && implied_key && len) {
            key = g_strdup(implied_key);
            value = keyval_read_value(s, &s);
        } else {
            key = g_strndup(s, len);
            if (!keyval_key_is_valid(s, len)) {
                error_setg(errp, "Invalid parameter '%s'", key);
            } else {
                error_setg(errp, "Expected '=' after parameter '%s'", key);
            }
            goto fail;
        }
        first = false;
        if (json_object_has_member(obj, key)) {
            g_free(value);
            error_setg(errp, "Parameter '%s' is set more than once", key);
            goto fail;
        }
        json_object_set_string_member(obj, key, value);
        g_free(value);
    }
    return obj;

fail:
    json_object_unref(obj);
    return NULL;
}

JsonObject *keyval_parse(const char *params, const char *implied_key,
                         bool *help, Error **errp)
{
    return keyval_parse_new(params, implied_key, help, errp);
}

bool keyval_parse_into(JsonObject *obj, const char *params,
                       const char *implied_key, bool *help, Error **errp)
{
    JsonObject *parsed = keyval_parse_new(params, implied_key, help, errp);
    JsonObjectIter iter;
    const char *key;
    JsonNode *value;

    if (!parsed) {
        return false;
    }
    json_object_iter_init_ordered(&iter, parsed);
    while (json_object_iter_next_ordered(&iter, &key, &value)) {
        json_object_set_member(obj, key, json_node_copy(value));
    }
    json_object_unref(parsed);
    return true;
}
