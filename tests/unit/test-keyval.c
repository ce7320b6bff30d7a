/*
 * Command-line option strings into JSON objects.
 */
#include <glib.h>

#include "util/keyval.h"
#include "qapi/qjson.h"

/* Parses params and compares the object, serialized, with want. */
static void assert_parse(const char *params, const char *implied,
                         const char *want)
{
    JsonObject *obj = keyval_parse(params, implied, NULL, &error_abort);
    JsonNode *n = qjson_new_object(obj);
    g_autofree char *out = qjson_to_string(n, false);

    g_assert_cmpstr(out, ==, want);
    json_node_unref(n);
}

static void assert_parse_error(const char *params, const char *implied,
                               const char *want)
{
    Error *err = NULL;
    bool help = false;

    g_assert_null(keyval_parse(params, implied, &help, &err));
    g_assert_nonnull(err);
    g_assert_cmpstr(error_get_pretty(err), ==, want);
    error_free(err);
}

static void test_basic(void)
{
    assert_parse("edu,addr=03.0,id=x", "driver",
                 "{\"driver\": \"edu\", \"addr\": \"03.0\", \"id\": \"x\"}");
    assert_parse("a=1,b=2", NULL, "{\"a\": \"1\", \"b\": \"2\"}");
    assert_parse("a=1,b=2", "driver", "{\"a\": \"1\", \"b\": \"2\"}");
    assert_parse("", "driver", "{}");
    assert_parse("a=", NULL, "{\"a\": \"\"}");
    assert_parse("a=1,", NULL, "{\"a\": \"1\"}");
    assert_parse("path=/tmp/a=b", NULL, "{\"path\": \"/tmp/a=b\"}");
    assert_parse("x-prop.sub_1=v", NULL, "{\"x-prop.sub_1\": \"v\"}");
}

static void test_escaped_comma(void)
{
    assert_parse("path=a,,b,id=c", NULL,
                 "{\"path\": \"a,b\", \"id\": \"c\"}");
    assert_parse("unix:/tmp/a,,b,server=on", "backend",
                 "{\"backend\": \"unix:/tmp/a,b\", \"server\": \"on\"}");
    assert_parse("a=,,", NULL, "{\"a\": \",\"}");
    assert_parse("a=x,,,,y", NULL, "{\"a\": \"x,,y\"}");
}

static void test_errors(void)
{
    assert_parse_error("edu", NULL, "Expected '=' after parameter 'edu'");
    assert_parse_error("edu,addr", "driver",
                       "Expected '=' after parameter 'addr'");
    assert_parse_error("=1", NULL, "Invalid parameter ''");
    assert_parse_error(",a=1", "driver", "Invalid parameter ''");
    assert_parse_error("a=1,,,=2", NULL, "Invalid parameter ''");
    assert_parse_error("a b=1", NULL, "Invalid parameter 'a b'");
    assert_parse_error("a=1,a=2", NULL,
                       "Parameter 'a' is set more than once");
    assert_parse_error("edu,driver=x", "driver",
                       "Parameter 'driver' is set more than once");
}

static void test_help(void)
{
    bool help = false;
    JsonObject *obj;
    Error *err = NULL;

    obj = keyval_parse("help", "driver", &help, &error_abort);
    g_assert_true(help);
    g_assert_cmpuint(json_object_get_size(obj), ==, 0);
    json_object_unref(obj);

    help = false;
    obj = keyval_parse("edu,?", "driver", &help, &error_abort);
    g_assert_true(help);
    g_assert_cmpstr(json_object_get_string_member(obj, "driver"), ==, "edu");
    json_object_unref(obj);

    /* no help item: *help is cleared, whatever it held */
    help = true;
    obj = keyval_parse("edu,addr=03.0", "driver", &help, &error_abort);
    g_assert_false(help);
    json_object_unref(obj);

    /* Without a help pointer: the implied value, or an error later on */
    obj = keyval_parse("help", "driver", NULL, &error_abort);
    g_assert_cmpstr(json_object_get_string_member(obj, "driver"), ==, "help");
    json_object_unref(obj);
    g_assert_null(keyval_parse("edu,help", "driver", NULL, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Expected '=' after parameter 'help'");
    error_free(err);
}

static void test_parse_into(void)
{
    JsonObject *obj = keyval_parse("q35,accel=tcg", "type", NULL,
                                   &error_abort);
    Error *err = NULL;
    JsonNode *n;
    g_autofree char *out = NULL;

    g_assert_true(keyval_parse_into(obj, "accel=qtest,smm=off", "type",
                                    NULL, &error_abort));
    g_assert_false(keyval_parse_into(obj, "smm=on,smm=off", "type",
                                     NULL, &err));
    error_free(err);
    n = qjson_new_object(obj);
    out = qjson_to_string(n, false);
    g_assert_cmpstr(out, ==,
                    "{\"type\": \"q35\", \"accel\": \"qtest\", "
                    "\"smm\": \"off\"}");
    json_node_unref(n);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/keyval/parse/basic", test_basic);
    g_test_add_func("/keyval/parse/escaped-comma", test_escaped_comma);
    g_test_add_func("/keyval/parse/errors", test_errors);
    g_test_add_func("/keyval/parse/help", test_help);
    g_test_add_func("/keyval/parse-into/merge", test_parse_into);
    return g_test_run();
}
