/*
 * JSON parser, streamer and serializer: QEMU's dialect and wire format.
 */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <glib.h>

#include "qapi/qjson.h"

/* Parses text and serializes it compactly; the result must equal want. */
static void assert_reformat(const char *text, const char *want)
{
    Error *err = NULL;
    JsonNode *n = qjson_parse(text, &err);
    g_autofree char *out = NULL;

    g_assert_null(err);
    g_assert_nonnull(n);
    out = qjson_to_string(n, false);
    g_assert_cmpstr(out, ==, want);
    json_node_unref(n);
}

static void assert_round_trip(const char *text)
{
    assert_reformat(text, text);
}

/* Parsing text fails with "JSON parse error, " followed by detail. */
static void assert_parse_error(const char *text, const char *detail)
{
    Error *err = NULL;
    JsonNode *n = qjson_parse(text, &err);
    g_autofree char *want = g_strconcat("JSON parse error, ", detail, NULL);

    g_assert_null(n);
    g_assert_nonnull(err);
    if (!g_str_has_prefix(error_get_pretty(err), want)) {
        g_error("'%s': got '%s', want '%s'", text, error_get_pretty(err),
                want);
    }
    error_free(err);
}

static void test_round_trip(void)
{
    assert_round_trip("{}");
    assert_round_trip("[]");
    assert_round_trip("{\"return\": {}}");
    assert_round_trip("{\"a\": 1, \"b\": [1, 2]}");
    assert_round_trip("[true, false, null, \"x\", -5, 0]");
    assert_round_trip("{\"z\": 1, \"a\": 2, \"m\": {\"y\": [], \"b\": null}}");
    assert_round_trip("\"str\"");
    assert_round_trip("42");
    assert_reformat(" { \"a\" :1,\"b\":[ 1 ,2 ] } ", "{\"a\": 1, \"b\": [1, 2]}");
}

static void test_member_order(void)
{
    JsonObject *obj = json_object_new();
    g_autofree char *out = NULL;
    JsonNode *n;

    json_object_set_int_member(obj, "zeta", 1);
    json_object_set_int_member(obj, "alpha", 2);
    json_object_set_int_member(obj, "mid", 3);
    n = qjson_new_object(obj);
    out = qjson_to_string(n, false);
    g_assert_cmpstr(out, ==, "{\"zeta\": 1, \"alpha\": 2, \"mid\": 3}");
    json_node_unref(n);
}

static void test_single_quotes(void)
{
    assert_reformat("{'execute': 'qmp_capabilities'}",
                    "{\"execute\": \"qmp_capabilities\"}");
    assert_reformat("'it\\'s'", "\"it's\"");
    assert_reformat("\"it\\'s\"", "\"it's\"");
    assert_reformat("'say \"hi\"'", "\"say \\\"hi\\\"\"");
    assert_reformat("\"a'b\"", "\"a'b\"");
}

static void test_escapes(void)
{
    assert_reformat("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
                    "\"\\\"\\\\/\\b\\f\\n\\r\\t\"");
    assert_reformat("\"\\u0041\\u00e9\"", "\"A\\u00E9\"");
    /* U+1F600 as a surrogate pair, in and out */
    assert_reformat("\"\\ud83d\\ude00\"", "\"\\uD83D\\uDE00\"");
    assert_reformat("\"\xf0\x9f\x98\x80\"", "\"\\uD83D\\uDE00\"");
    assert_reformat("\"\xc3\xa9\xe2\x82\xac\"", "\"\\u00E9\\u20AC\"");
    /* Control characters and DEL leave as \u escapes */
    assert_reformat("\"\\u0001\\u001f\\u007f\"", "\"\\u0001\\u001F\\u007F\"");
}

static void test_nul_char(void)
{
    Error *err = NULL;
    JsonNode *n = qjson_parse("\"a\\u0000b\"", &err);
    g_autofree char *out = NULL;

    g_assert_null(err);
    /* Held as modified UTF-8 so that the C string is not cut short. */
    g_assert_cmpstr(json_node_get_string(n), ==, "a\xc0\x80" "b");
    out = qjson_to_string(n, false);
    g_assert_cmpstr(out, ==, "\"a\\u0000b\"");
    json_node_unref(n);
}

static void test_serialize_utf8(void)
{
    JsonNode *n = qjson_new_str("caf\xc3\xa9 \xf0\x90\x80\x80 / \x01\xff");
    g_autofree char *out = qjson_to_string(n, false);

    /* Invalid UTF-8 (the 0xff) becomes U+FFFD; '/' is not escaped. */
    g_assert_cmpstr(out, ==,
                    "\"caf\\u00E9 \\uD800\\uDC00 / \\u0001\\uFFFD\"");
    json_node_unref(n);
}

static void test_integers(void)
{
    Error *err = NULL;
    JsonNode *n;

    assert_round_trip("9223372036854775807");
    assert_round_trip("-9223372036854775808");
    assert_round_trip("18446744073709551615");
    assert_round_trip("9223372036854775808");

    n = qjson_parse("18446744073709551615", &err);
    g_assert_true(qjson_is_uint_node(n));
    g_assert_true(qjson_is_number(n));
    g_assert_cmpuint((uint64_t)json_node_get_int(n), ==, UINT64_MAX);
    json_node_unref(n);

    n = qjson_parse("9223372036854775807", &err);
    g_assert_true(qjson_is_int(n));
    g_assert_false(qjson_is_uint_node(n));
    json_node_unref(n);

    /* Beyond 64 bits: a double */
    n = qjson_parse("18446744073709551616", &err);
    g_assert_true(JSON_NODE_HOLDS_VALUE(n));
    g_assert_true(json_node_get_value_type(n) == G_TYPE_DOUBLE);
    g_assert_cmpfloat(json_node_get_double(n), ==, 18446744073709551616.0);
    json_node_unref(n);
    n = qjson_parse("-9223372036854775809", &err);
    g_assert_true(json_node_get_value_type(n) == G_TYPE_DOUBLE);
    json_node_unref(n);
    g_assert_null(err);
}

static void test_uint_node(void)
{
    JsonNode *n = qjson_new_uint(UINT64_MAX);
    JsonNode *copy = json_node_copy(n);
    g_autofree char *out = qjson_to_string(n, false);
    g_autofree char *out_copy = qjson_to_string(copy, false);

    g_assert_cmpstr(out, ==, "18446744073709551615");
    g_assert_cmpstr(out_copy, ==, "18446744073709551615");
    g_assert_true(qjson_is_uint_node(copy));
    json_node_unref(n);
    json_node_unref(copy);

    n = qjson_new_int(-1);
    g_free(out);
    out = qjson_to_string(n, false);
    g_assert_cmpstr(out, ==, "-1");
    json_node_unref(n);
}

static void test_doubles(void)
{
    static const double values[] = {
        0.1, 1.5, -2.25, 1e300, 5e-324, 3.141592653589793, 1e20, 100.0,
        0.30000000000000004, -0.0,
    };

    for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
        JsonNode *n = qjson_new_double(values[i]);
        g_autofree char *out = qjson_to_string(n, false);
        JsonNode *back = qjson_parse(out, &error_abort);

        g_assert_true(qjson_is_number(back));
        g_assert_cmpfloat(json_node_get_double(back), ==, values[i]);
        json_node_unref(n);
        json_node_unref(back);
    }
    assert_reformat("1.5e3", "1500");
    assert_reformat("0.1", "0.1");
    assert_reformat("-1E-2", "-0.01");
    assert_parse_error("1e400", "number out of range");
}

static void test_pretty(void)
{
    JsonNode *n = qjson_parse("{\"return\": {}, \"a\": [1, {\"b\": null}], "
                              "\"e\": []}", &error_abort);
    g_autofree char *out = qjson_to_string(n, true);

    g_assert_cmpstr(out, ==,
                    "{\n"
                    "    \"return\": {\n"
                    "    },\n"
                    "    \"a\": [\n"
                    "        1,\n"
                    "        {\n"
                    "            \"b\": null\n"
                    "        }\n"
                    "    ],\n"
                    "    \"e\": [\n"
                    "    ]\n"
                    "}");
    json_node_unref(n);
}

static void test_predicates(void)
{
    JsonNode *n = qjson_parse("{\"i\": 1, \"d\": 1.5, \"b\": true, "
                              "\"s\": \"x\", \"n\": null, \"a\": []}",
                              &error_abort);
    JsonObject *o = json_node_get_object(n);

    g_assert_true(qjson_is_object(n));
    g_assert_true(qjson_is_int(json_object_get_member(o, "i")));
    g_assert_false(qjson_is_int(json_object_get_member(o, "d")));
    g_assert_true(qjson_is_number(json_object_get_member(o, "d")));
    g_assert_true(qjson_is_bool(json_object_get_member(o, "b")));
    g_assert_true(qjson_is_str(json_object_get_member(o, "s")));
    g_assert_true(qjson_is_null(json_object_get_member(o, "n")));
    g_assert_true(qjson_is_array(json_object_get_member(o, "a")));
    g_assert_false(qjson_is_str(NULL));
    json_node_unref(n);
}

static void test_errors(void)
{
    assert_parse_error("", "expecting value");
    assert_parse_error("   ", "expecting value");
    assert_parse_error("{", "premature EOI");
    assert_parse_error("[1, 2", "premature EOI");
    assert_parse_error("\"abc", "premature EOI");
    assert_parse_error("{\"a\": 1, \"a\": 2}", "duplicate key");
    assert_parse_error("tru", "invalid keyword");
    assert_parse_error("[nulll]", "invalid keyword");
    assert_parse_error("\"\\x\"", "invalid escape sequence in string");
    assert_parse_error("\"\\u12\"", "invalid escape sequence in string");
    assert_parse_error("\"\\u12G4\"", "invalid escape sequence in string");
    assert_parse_error("\"\\ud800\"", "unpaired surrogate in string");
    assert_parse_error("\"\\ud800\\u0041\"", "unpaired surrogate in string");
    assert_parse_error("\"\\udc00\"", "unpaired surrogate in string");
    assert_parse_error("\"\xc3\"", "invalid UTF-8 sequence in string");
    assert_parse_error("\"\xc0\xaf\"", "invalid UTF-8 sequence in string");
    assert_parse_error("\"\xed\xa0\x80\"", "invalid UTF-8 sequence in string");
    assert_parse_error("\"\xf4\x90\x80\x80\"",
                       "invalid UTF-8 sequence in string");
    assert_parse_error("{\"a\" 1}", "missing : in object pair");
    assert_parse_error("{\"a\": 1 \"b\": 2}", "expected separator in dict");
    assert_parse_error("[1 2]", "expected separator in array");
    assert_parse_error("{1: 2}", "key is not a string in object");
    assert_parse_error("{\"a\": 1,}", "stray ','");
    assert_parse_error("[1,]", "stray ','");
    assert_parse_error("{\"a\": }", "expecting value");
    assert_parse_error("[,1]", "expecting value");
    assert_parse_error("{]", "key is not a string in object");
    assert_parse_error("]", "expecting value");
    assert_parse_error("01", "invalid number");
    assert_parse_error("1.", "invalid number");
    assert_parse_error("-", "invalid number");
    assert_parse_error("1e", "invalid number");
    assert_parse_error("0x10", "invalid number");
    assert_parse_error("@", "stray '@'");
    assert_parse_error("\"a\nb\"", "invalid character '\\x0a' in string");
    assert_parse_error("1 2", "expecting end of input");
}

/* Streaming */

typedef struct Collected {
    GPtrArray *values;      /* compact JSON text, or "ERR: message" */
} Collected;

static void collect(void *opaque, JsonNode *value, Error *err)
{
    Collected *c = opaque;

    g_assert_true(!value != !err);
    if (err) {
        g_ptr_array_add(c->values,
                        g_strdup_printf("ERR: %s", error_get_pretty(err)));
        error_free(err);
    } else {
        g_ptr_array_add(c->values, qjson_to_string(value, false));
        json_node_unref(value);
    }
}

/* Feeds text in chunks of chunk bytes; returns what was emitted. */
static GPtrArray *stream(const char *text, size_t len, size_t chunk,
                         bool flush)
{
    Collected c = { .values = g_ptr_array_new_with_free_func(g_free) };
    JSONStreamer *s = json_streamer_new(collect, &c);

    for (size_t off = 0; off < len; off += chunk) {
        json_streamer_feed(s, text + off, MIN(chunk, len - off));
    }
    if (flush) {
        json_streamer_flush(s);
    }
    json_streamer_free(s);
    return c.values;
}

static void assert_stream(const char *text, size_t chunk, bool flush,
                          const char *const *want)
{
    g_autoptr(GPtrArray) got = stream(text, strlen(text), chunk, flush);
    guint i;

    for (i = 0; want[i]; i++) {
        if (i >= got->len) {
            g_error("%s: missing output %u '%s'", text, i, want[i]);
        }
        if (g_str_has_prefix(want[i], "ERR")) {
            g_assert_true(g_str_has_prefix(got->pdata[i],
                                           "ERR: JSON parse error, "));
        } else {
            g_assert_cmpstr(got->pdata[i], ==, want[i]);
        }
    }
    if (got->len != i) {
        g_error("%s: extra output '%s'", text, (char *)got->pdata[i]);
    }
}

static void test_stream_chunks(void)
{
    const char *text = "{\"execute\": \"query-status\", \"id\": 'a b'}"
                       "\r\n{'execute':'x','arguments':{'v':[1,-2.5e1,"
                       "true,null,\"\\u00e9\"]}}  ";
    const char *want[] = {
        "{\"execute\": \"query-status\", \"id\": \"a b\"}",
        "{\"execute\": \"x\", \"arguments\": {\"v\": [1, -25, true, null, "
        "\"\\u00E9\"]}}",
        NULL,
    };

    for (size_t chunk = 1; chunk <= strlen(text); chunk++) {
        assert_stream(text, chunk, false, want);
    }
}

static void test_stream_several_per_chunk(void)
{
    const char *want[] = { "{\"a\": 1}", "[2]", "{}", "{\"b\": {}}", NULL };

    assert_stream("{\"a\":1}[2]{}{\"b\":{}}", 4096, false, want);
}

static void test_stream_scalars(void)
{
    const char *want[] = { "42", "\"s\"", "true", "{}", "-7", NULL };

    /* A number or keyword ends at the next byte, or at flush. */
    assert_stream("42 \"s\"true{}-7", 1, true, want);
}

static void test_stream_recovery(void)
{
    const char *after_syntax[] = { "ERR", "{\"execute\": \"x\"}", NULL };
    const char *after_lexical[] = { "ERR", "{\"execute\": \"x\"}", NULL };
    const char *nested[] = { "ERR", "{\"execute\": \"y\"}", NULL };
    const char *stray_closer[] = { "ERR", "{\"a\": 1}", NULL };
    const char *bad_escape[] = { "ERR", "{\"ok\": true}", NULL };

    for (size_t chunk = 1; chunk < 64; chunk += 62) {
        assert_stream("{\"a\": }{\"execute\":\"x\"}", chunk, false,
                      after_syntax);
        assert_stream("{\"a\": @ }{\"execute\":\"x\"}", chunk, false,
                      after_lexical);
        assert_stream("{\"a\": {\"b\": %}, \"c\": 1}\n{\"execute\":\"y\"}",
                      chunk, false, nested);
        assert_stream("{]\n{\"a\":1}", chunk, false, stray_closer);
        assert_stream("}{\"a\":1}", chunk, false, stray_closer);
        assert_stream("{\"a\": \"\\q\"}{\"ok\":true}", chunk, false,
                      bad_escape);
        assert_stream("%p{\"execute\":\"x\"}", chunk, false, after_lexical);
    }
}

static void test_stream_control_reset(void)
{
    const char *want[] = { "ERR", "{\"execute\": \"x\"}", NULL };
    const char *idle[] = { "ERR", "{}", NULL };

    assert_stream("{\"exec\x01{\"execute\":\"x\"}", 1, false, want);
    assert_stream("{\"execute\": \x01{\"execute\":\"x\"}", 1, false, want);
    assert_stream("{\xff{\"execute\":\"x\"}", 1, false, want);
    assert_stream("{'bad \xff{\"execute\":\"x\"}", 1, false, want);
    assert_stream("{'id':'\n{\"execute\":\"x\"}", 1, false, want);
    /* A reset byte while idle is still reported, once. */
    assert_stream("\xff\xff{}", 1, false, idle);
    /* Garbage, then the client's reset byte: one error only. */
    assert_stream("{\"a\": @@@ \x1b{\"execute\":\"x\"}", 1, false, want);
}

static void test_stream_flush(void)
{
    const char *partial[] = { "ERR", NULL };
    const char *none[] = { NULL };
    g_autoptr(GPtrArray) got = NULL;

    assert_stream("{\"a\": [1", 1, true, partial);
    assert_stream("{\"a\": \"xy", 1, true, partial);
    assert_stream("{\"a\": [1", 1, false, none);
    assert_stream("  \r\n", 1, true, none);

    got = stream("{\"a\": 1", 7, 1, true);
    g_assert_cmpuint(got->len, ==, 1);
    g_assert_cmpstr(got->pdata[0], ==, "ERR: JSON parse error, premature EOI");

    /* The streamer is usable after a flush. */
    {
        Collected c = { .values = g_ptr_array_new_with_free_func(g_free) };
        JSONStreamer *s = json_streamer_new(collect, &c);

        json_streamer_feed(s, "[", 1);
        json_streamer_flush(s);
        json_streamer_feed(s, "{}", 2);
        json_streamer_free(s);
        g_assert_cmpuint(c.values->len, ==, 2);
        g_assert_true(g_str_has_prefix(c.values->pdata[0], "ERR: "));
        g_assert_cmpstr(c.values->pdata[1], ==, "{}");
        g_ptr_array_free(c.values, true);
    }
}

static GString *nested_arrays(unsigned depth)
{
    GString *s = g_string_new(NULL);

    for (unsigned i = 0; i < depth; i++) {
        g_string_append_c(s, '[');
    }
    for (unsigned i = 0; i < depth; i++) {
        g_string_append_c(s, ']');
    }
    return s;
}

static void test_limit_nesting(void)
{
    g_autoptr(GString) ok = nested_arrays(1024);
    g_autoptr(GString) deep = nested_arrays(1025);
    g_autoptr(GString) very_deep = nested_arrays(100000);
    g_autoptr(GPtrArray) got = NULL;
    JsonNode *n;

    n = qjson_parse(ok->str, &error_abort);
    g_assert_true(qjson_is_array(n));
    json_node_unref(n);

    assert_parse_error(deep->str, "nesting depth limit exceeded");

    /* One error for the whole value, then the next one parses. */
    g_string_append(very_deep, "{\"x\": 1}");
    got = stream(very_deep->str, very_deep->len, 4096, false);
    g_assert_cmpuint(got->len, ==, 2);
    g_assert_cmpstr(got->pdata[0], ==,
                    "ERR: JSON parse error, nesting depth limit exceeded");
    g_assert_cmpstr(got->pdata[1], ==, "{\"x\": 1}");
}

static void test_limit_tokens(void)
{
    /* 2^21 + 1 tokens: "[" "0" ("," "0")* "]" */
    unsigned elems = (1u << 20) + 1;
    GString *s = g_string_sized_new(elems * 2 + 16);
    g_autoptr(GPtrArray) got = NULL;

    g_string_append_c(s, '[');
    for (unsigned i = 0; i < elems; i++) {
        g_string_append(s, i ? ",0" : "0");
    }
    g_string_append(s, "]{\"x\": 1}");
    got = stream(s->str, s->len, 65536, false);
    g_assert_cmpuint(got->len, ==, 2);
    g_assert_cmpstr(got->pdata[0], ==,
                    "ERR: JSON parse error, token count limit exceeded");
    g_assert_cmpstr(got->pdata[1], ==, "{\"x\": 1}");
    g_string_free(s, true);
}

static void test_limit_size(void)
{
    size_t big = (64u << 20) + 16;
    char *text = g_malloc(big + 32);
    size_t len = 0;
    g_autoptr(GPtrArray) got = NULL;

    text[len++] = '[';
    text[len++] = '"';
    memset(text + len, 'a', big);
    len += big;
    len += sprintf(text + len, "\"]{\"x\": 1}");
    got = stream(text, len, 1 << 20, false);
    g_assert_cmpuint(got->len, ==, 2);
    g_assert_cmpstr(got->pdata[0], ==,
                    "ERR: JSON parse error, value size limit exceeded");
    g_assert_cmpstr(got->pdata[1], ==, "{\"x\": 1}");
    g_free(text);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qjson/round-trip", test_round_trip);
    g_test_add_func("/qjson/serialize/member-order", test_member_order);
    g_test_add_func("/qjson/serialize/utf8-escaping", test_serialize_utf8);
    g_test_add_func("/qjson/serialize/pretty", test_pretty);
    g_test_add_func("/qjson/serialize/uint-node", test_uint_node);
    g_test_add_func("/qjson/parse/single-quotes", test_single_quotes);
    g_test_add_func("/qjson/parse/escapes", test_escapes);
    g_test_add_func("/qjson/parse/nul-char", test_nul_char);
    g_test_add_func("/qjson/parse/integers", test_integers);
    g_test_add_func("/qjson/parse/doubles", test_doubles);
    g_test_add_func("/qjson/parse/predicates", test_predicates);
    g_test_add_func("/qjson/parse/errors", test_errors);
    g_test_add_func("/qjson/stream/chunks", test_stream_chunks);
    g_test_add_func("/qjson/stream/several-per-chunk",
                    test_stream_several_per_chunk);
    g_test_add_func("/qjson/stream/scalars", test_stream_scalars);
    g_test_add_func("/qjson/stream/recovery", test_stream_recovery);
    g_test_add_func("/qjson/stream/control-reset", test_stream_control_reset);
    g_test_add_func("/qjson/stream/flush", test_stream_flush);
    g_test_add_func("/qjson/limits/nesting", test_limit_nesting);
    g_test_add_func("/qjson/limits/tokens", test_limit_tokens);
    g_test_add_func("/qjson/limits/size", test_limit_size);
    return g_test_run();
}
