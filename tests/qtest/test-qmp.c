/*
 * QMP as a client sees it (control_boot_facts B): greeting, framing,
 * negotiation and dispatch errors with their exact texts, id echo,
 * introspection consistency, run state and its events, quitting, fd
 * passing with SCM_RIGHTS, and several monitors at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "libqtest.h"

#define ARGS "-machine none"

static JsonNode *parse(const char *json)
{
    g_autoptr(GError) err = NULL;
    JsonNode *node = json_from_string(json, &err);

    g_assert_no_error(err);
    return node;
}

static JsonObject *parse_obj(const char *json)
{
    g_autoptr(JsonNode) node = parse(json);

    g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
    return json_object_ref(json_node_get_object(node));
}

/* Asserts rsp is an error of class cls with exactly desc; frees rsp. */
static void assert_error(JsonObject *rsp, const char *cls, const char *desc)
{
    g_autofree char *got = qmp_expect_error(rsp, cls);

    g_assert_cmpstr(got, ==, desc);
    json_object_unref(rsp);
}

static void assert_ok(JsonObject *rsp)
{
    qmp_expect_return(rsp);
    json_object_unref(rsp);
}

/* Asserts success; returns a new reference to the "return" value. */
static JsonNode *take_return(JsonObject *rsp)
{
    JsonNode *ret = json_node_copy(qmp_expect_return(rsp));

    json_object_unref(rsp);
    return ret;
}

static void assert_event_data(JsonObject *ev, bool guest, const char *reason)
{
    JsonObject *data = json_object_get_object_member(ev, "data");
    JsonObject *ts = json_object_get_object_member(ev, "timestamp");

    g_assert_nonnull(data);
    g_assert_true(json_object_get_boolean_member(data, "guest") == guest);
    g_assert_cmpstr(json_object_get_string_member(data, "reason"), ==,
                    reason);
    g_assert_nonnull(ts);
    g_assert_true(json_object_has_member(ts, "seconds"));
    g_assert_true(json_object_has_member(ts, "microseconds"));
}

static char *query_status(QTestState *s, bool *running)
{
    g_autoptr(JsonNode) ret =
        take_return(qtest_qmp(s, "{\"execute\": \"query-status\"}"));
    JsonObject *o = json_node_get_object(ret);

    *running = json_object_get_boolean_member(o, "running");
    return g_strdup(json_object_get_string_member(o, "status"));
}

static void assert_status(QTestState *s, const char *status, bool running)
{
    bool got_running;
    g_autofree char *got = query_status(s, &got_running);

    g_assert_cmpstr(got, ==, status);
    g_assert_true(got_running == running);
}

/* --- Greeting, framing, negotiation -------------------------------------- */

static void check_version_object(JsonObject *v)
{
    JsonObject *qemu = json_object_get_object_member(v, "qemu");

    g_assert_nonnull(qemu);
    for (int i = 0; i < 3; i++) {
        const char *k = (const char *[]){ "major", "minor", "micro" }[i];
        JsonNode *n = json_object_get_member(qemu, k);

        g_assert_nonnull(n);
        g_assert_true(json_node_get_value_type(n) == G_TYPE_INT64);
        g_assert_cmpint(json_node_get_int(n), >=, 0);
    }
    g_assert_cmpint(json_object_get_size(qemu), ==, 3);
    g_assert_nonnull(json_object_get_member(v, "package"));
    g_assert_true(json_node_get_value_type(
                      json_object_get_member(v, "package")) == G_TYPE_STRING);
}

static void test_greeting(void)
{
    QTestState *s = qtest_init_without_qmp_handshake(ARGS);
    g_autofree char *line = qtest_qmp_read_line(s);
    g_autoptr(JsonObject) greeting = parse_obj(line);
    JsonObject *qmp = json_object_get_object_member(greeting, "QMP");
    JsonArray *caps;
    g_autoptr(JsonNode) ver = NULL;

    g_assert_cmpint(json_object_get_size(greeting), ==, 1);
    g_assert_nonnull(qmp);
    check_version_object(json_object_get_object_member(qmp, "version"));
    caps = json_object_get_array_member(qmp, "capabilities");
    g_assert_nonnull(caps);
    g_assert_cmpint(json_array_get_length(caps), ==, 0);

    /* Compact form: ": " after keys, ", " between members. */
    g_assert_true(g_str_has_prefix(line, "{\"QMP\": {"));
    g_assert_nonnull(strstr(line, "\"capabilities\": []"));

    qtest_qmp_assert_success(s, "{\"execute\": \"qmp_capabilities\"}");
    /* query-version says what the greeting said. */
    ver = take_return(qtest_qmp(s, "{\"execute\": \"query-version\"}"));
    check_version_object(json_node_get_object(ver));
    g_assert_true(json_node_equal(
        ver, json_object_get_member(qmp, "version")));
    qtest_quit(s);
}

static void test_negotiation(void)
{
    QTestState *s = qtest_init_without_qmp_handshake(ARGS);
    g_autofree char *greeting = qtest_qmp_read_line(s);

    assert_error(qtest_qmp(s, "{\"execute\": \"query-version\"}"),
                 "CommandNotFound",
                 "Expecting capabilities negotiation with "
                 "'qmp_capabilities'");
    assert_error(qtest_qmp(s, "{\"execute\": \"qmp_capabilities\", "
                           "\"arguments\": {\"enable\": [\"oob\"]}}"),
                 "GenericError", "Capability oob not available");
    /* Still negotiating after the refusal. */
    assert_error(qtest_qmp(s, "{\"execute\": \"query-status\"}"),
                 "CommandNotFound",
                 "Expecting capabilities negotiation with "
                 "'qmp_capabilities'");
    qtest_qmp_assert_success(s, "{\"execute\": \"qmp_capabilities\", "
                             "\"arguments\": {\"enable\": []}}");
    assert_error(qtest_qmp(s, "{\"execute\": \"qmp_capabilities\"}"),
                 "CommandNotFound",
                 "Capabilities negotiation is already complete, command "
                 "ignored");
    assert_status(s, "running", true);
    qtest_quit(s);
}

static void test_framing(void)
{
    QTestState *s = qtest_init(ARGS);
    static const char *const pieces[] = {
        "  {\"exec", "ute\":\n \"query-status\",", " \"id\": \"x\"}\n",
    };
    const char *two = "{\"execute\": \"query-status\", \"id\": 1}"
                      "{\"execute\": \"query-version\", \"id\": 2}";
    g_autofree char *l1 = NULL;
    g_autofree char *l2 = NULL;
    g_autofree char *l3 = NULL;
    g_autoptr(JsonObject) r1 = NULL;
    g_autoptr(JsonObject) r2 = NULL;
    g_autoptr(JsonObject) r3 = NULL;

    /* Two objects in one write: two replies, in order. */
    qtest_qmp_send_raw(s, two, strlen(two));
    l1 = qtest_qmp_read_line(s);
    l2 = qtest_qmp_read_line(s);
    r1 = parse_obj(l1);
    r2 = parse_obj(l2);
    g_assert_cmpint(json_object_get_int_member(r1, "id"), ==, 1);
    g_assert_true(json_object_has_member(
        json_object_get_object_member(r1, "return"), "status"));
    g_assert_cmpint(json_object_get_int_member(r2, "id"), ==, 2);
    /* One object over several writes, with whitespace and newlines. */
    for (size_t i = 0; i < G_N_ELEMENTS(pieces); i++) {
        qtest_qmp_send_raw(s, pieces[i], strlen(pieces[i]));
        g_usleep(20 * 1000);
    }
    l3 = qtest_qmp_read_line(s);
    r3 = parse_obj(l3);
    g_assert_cmpstr(json_object_get_string_member(r3, "id"), ==, "x");
    qtest_quit(s);
}

static void test_id_echo(void)
{
    static const char *const ids[] = {
        "\"str\"", "0", "-17", "1.5", "true", "false", "null", "[]",
        "[1, \"two\", [3], {\"four\": 4}]", "{}",
        "{\"a\": {\"b\": [null, false]}, \"c\": \"\\u00e9\"}",
        "18446744073709551615",
    };
    QTestState *s = qtest_init(ARGS);

    for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
        g_autoptr(JsonNode) id = parse(ids[i]);
        JsonObject *rsp = qtest_qmp(s, "{\"execute\": \"query-status\", "
                                    "\"id\": %s}", ids[i]);
        JsonObject *err;

        qmp_expect_return(rsp);
        g_assert_true(json_object_has_member(rsp, "id"));
        if (!json_node_equal(json_object_get_member(rsp, "id"), id)) {
            g_test_message("id %s not echoed", ids[i]);
            g_assert_not_reached();
        }
        json_object_unref(rsp);

        /* Errors echo the id too. */
        rsp = qtest_qmp(s, "{\"execute\": \"no-such-command\", \"id\": %s}",
                        ids[i]);
        err = json_object_get_object_member(rsp, "error");
        g_assert_nonnull(err);
        g_assert_true(json_node_equal(json_object_get_member(rsp, "id"),
                                      id));
        json_object_unref(rsp);
    }
    /* A large unsigned id comes back as written, not as -1. */
    {
        const char *cmd = "{\"execute\": \"query-status\", "
                          "\"id\": 18446744073709551615}";
        g_autofree char *line = NULL;

        qtest_qmp_send_raw(s, cmd, strlen(cmd));
        line = qtest_qmp_read_line(s);
        g_assert_nonnull(strstr(line, "\"id\": 18446744073709551615"));
    }
    /* No id in, no id out. */
    {
        JsonObject *rsp = qtest_qmp(s, "{\"execute\": \"query-status\"}");

        g_assert_false(json_object_has_member(rsp, "id"));
        json_object_unref(rsp);
    }
    qtest_quit(s);
}

static void test_bad_input(void)
{
    QTestState *s = qtest_init(ARGS);
    JsonObject *rsp;
    g_autofree char *desc = NULL;

    /* Not JSON: an error without id, and the connection goes on. */
    rsp = qtest_qmp(s, "{\"execute\": \"query-status\", \"id\": 1,}");
    desc = qmp_expect_error(rsp, "GenericError");
    g_assert_true(g_str_has_prefix(desc, "JSON parse error, "));
    g_assert_false(json_object_has_member(rsp, "id"));
    json_object_unref(rsp);
    g_clear_pointer(&desc, g_free);
    rsp = qtest_qmp(s, "{\"execute\" \"query-status\"}");
    desc = qmp_expect_error(rsp, "GenericError");
    g_assert_true(g_str_has_prefix(desc, "JSON parse error, "));
    json_object_unref(rsp);
    /* The parser resynchronises: a good command works. */
    assert_status(s, "running", true);

    /* Not an object. */
    assert_error(qtest_qmp(s, "[1, 2]"), "GenericError",
                 "QMP input must be a JSON object");
    assert_error(qtest_qmp(s, "\"query-status\""), "GenericError",
                 "QMP input must be a JSON object");
    assert_error(qtest_qmp(s, "42\n"), "GenericError",
                 "QMP input must be a JSON object");

    /* Malformed requests. */
    assert_error(qtest_qmp(s, "{}"), "GenericError",
                 "QMP input lacks member 'execute'");
    assert_error(qtest_qmp(s, "{\"id\": 3}"), "GenericError",
                 "QMP input lacks member 'execute'");
    assert_error(qtest_qmp(s, "{\"execute\": \"query-status\", "
                           "\"foo\": 1}"),
                 "GenericError", "QMP input member 'foo' is unexpected");
    assert_error(qtest_qmp(s, "{\"exec-oob\": \"query-status\"}"),
                 "GenericError", "QMP input member 'exec-oob' is unexpected");
    assert_error(qtest_qmp(s, "{\"execute\": 1}"), "GenericError",
                 "QMP input member 'execute' must be a string");
    assert_error(qtest_qmp(s, "{\"execute\": \"query-status\", "
                           "\"arguments\": []}"),
                 "GenericError",
                 "QMP input member 'arguments' must be an object");

    /* Unknown command and argument checking. */
    assert_error(qtest_qmp(s, "{\"execute\": \"no-such-command\"}"),
                 "CommandNotFound",
                 "The command no-such-command has not been found");
    assert_error(qtest_qmp(s, "{\"execute\": \"qom-get\", \"arguments\": "
                           "{\"path\": \"/machine\"}}"),
                 "GenericError", "Parameter 'property' is missing");
    assert_error(qtest_qmp(s, "{\"execute\": \"query-status\", "
                           "\"arguments\": {\"x\": 1}}"),
                 "GenericError", "Parameter 'x' is unexpected");
    assert_error(qtest_qmp(s, "{\"execute\": \"qom-list\", \"arguments\": "
                           "{\"path\": 1}}"),
                 "GenericError",
                 "Invalid parameter type for 'path', expected: string");
    assert_error(qtest_qmp(s, "{\"execute\": \"qom-list-types\", "
                           "\"arguments\": {\"abstract\": \"yes\"}}"),
                 "GenericError",
                 "Invalid parameter type for 'abstract', expected: boolean");
    assert_error(qtest_qmp(s, "{\"execute\": \"closefd\", \"arguments\": "
                           "{\"fdname\": {}}}"),
                 "GenericError",
                 "Invalid parameter type for 'fdname', expected: string");
    assert_status(s, "running", true);
    qtest_quit(s);
}

/* --- Introspection ------------------------------------------------------- */

static GHashTable *command_names(QTestState *s)
{
    g_autoptr(JsonNode) ret =
        take_return(qtest_qmp(s, "{\"execute\": \"query-commands\"}"));
    JsonArray *arr = json_node_get_array(ret);
    GHashTable *names = g_hash_table_new_full(g_str_hash, g_str_equal,
                                              g_free, NULL);

    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *c = json_array_get_object_element(arr, i);
        const char *name = json_object_get_string_member(c, "name");

        g_assert_nonnull(name);
        g_assert_false(g_hash_table_contains(names, name));
        g_hash_table_add(names, g_strdup(name));
    }
    return names;
}

static bool is_masked_name(const char *name)
{
    if (!*name) {
        return false;
    }
    for (const char *p = name; *p; p++) {
        if (!g_ascii_isdigit(*p)) {
            return false;
        }
    }
    return true;
}

/* Asserts that the member "key" of o names an entry of the schema. */
static void assert_refers(GHashTable *entries, JsonObject *o, const char *key,
                          const char *owner)
{
    const char *ref = json_object_get_string_member_with_default(o, key,
                                                                 NULL);

    if (!ref || !g_hash_table_contains(entries, ref)) {
        g_test_message("%s: %s '%s' is not in the schema", owner, key,
                       ref ? ref : "(missing)");
        g_assert_not_reached();
    }
}

static void test_schema(void)
{
    static const char *const builtin_json_types[] = {
        "string", "number", "int", "boolean", "null", "object", "array",
        "value",
    };
    static const char *const events[] = {
        "SHUTDOWN", "RESET", "STOP", "RESUME", "DEVICE_DELETED",
    };
    QTestState *s = qtest_init(ARGS);
    g_autoptr(GHashTable) commands = command_names(s);
    g_autoptr(JsonNode) schema =
        take_return(qtest_qmp(s, "{\"execute\": \"query-qmp-schema\"}"));
    JsonArray *arr = json_node_get_array(schema);
    g_autoptr(GHashTable) entries = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) schema_cmds = g_hash_table_new(g_str_hash,
                                                         g_str_equal);
    GHashTableIter it;
    const char *name;

    g_assert_true(g_hash_table_contains(commands, "qmp_capabilities"));
    g_assert_true(g_hash_table_contains(commands, "query-commands"));
    g_assert_true(g_hash_table_contains(commands, "query-qmp-schema"));

    /* Pass 1: names, unique. */
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *e = json_array_get_object_element(arr, i);

        g_assert_nonnull(e);
        name = json_object_get_string_member_with_default(e, "name", NULL);
        g_assert_nonnull(name);
        if (g_hash_table_contains(entries, name)) {
            g_test_message("duplicate schema entry '%s'", name);
            g_assert_not_reached();
        }
        g_hash_table_insert(entries, (char *)name, e);
    }

    /* Pass 2: shapes and references. */
    g_hash_table_iter_init(&it, entries);
    while (g_hash_table_iter_next(&it, (void **)&name, NULL)) {
        JsonObject *e = g_hash_table_lookup(entries, name);
        const char *meta = json_object_get_string_member_with_default(
            e, "meta-type", "");

        if (!strcmp(meta, "command")) {
            g_assert_false(is_masked_name(name));
            assert_refers(entries, e, "arg-type", name);
            assert_refers(entries, e, "ret-type", name);
            if (json_object_has_member(e, "allow-oob")) {
                g_assert_true(json_object_get_boolean_member(e,
                                                             "allow-oob"));
            }
            g_hash_table_add(schema_cmds, (char *)name);
        } else if (!strcmp(meta, "event")) {
            g_assert_false(is_masked_name(name));
            assert_refers(entries, e, "arg-type", name);
        } else if (!strcmp(meta, "builtin")) {
            const char *jt = json_object_get_string_member_with_default(
                e, "json-type", "");
            bool ok = false;

            for (size_t i = 0; i < G_N_ELEMENTS(builtin_json_types); i++) {
                ok |= !strcmp(jt, builtin_json_types[i]);
            }
            g_assert_true(ok);
        } else if (!strcmp(meta, "array")) {
            g_autofree char *expect = NULL;

            assert_refers(entries, e, "element-type", name);
            expect = g_strdup_printf("[%s]", json_object_get_string_member(
                                                 e, "element-type"));
            g_assert_cmpstr(name, ==, expect);
        } else if (!strcmp(meta, "enum")) {
            JsonArray *members = json_object_get_array_member(e, "members");

            g_assert_true(is_masked_name(name));
            g_assert_nonnull(members);
            for (guint i = 0; i < json_array_get_length(members); i++) {
                JsonObject *m = json_array_get_object_element(members, i);

                g_assert_nonnull(json_object_get_string_member(m, "name"));
            }
        } else if (!strcmp(meta, "object")) {
            JsonArray *members = json_object_get_array_member(e, "members");

            g_assert_true(is_masked_name(name));
            g_assert_nonnull(members);
            for (guint i = 0; i < json_array_get_length(members); i++) {
                JsonObject *m = json_array_get_object_element(members, i);

                g_assert_nonnull(json_object_get_string_member(m, "name"));
                assert_refers(entries, m, "type", name);
                if (json_object_has_member(m, "default")) {
                    g_assert_true(json_object_get_null_member(m, "default"));
                }
            }
            if (json_object_has_member(e, "variants")) {
                JsonArray *v = json_object_get_array_member(e, "variants");

                g_assert_nonnull(json_object_get_string_member(e, "tag"));
                for (guint i = 0; i < json_array_get_length(v); i++) {
                    JsonObject *m = json_array_get_object_element(v, i);

                    g_assert_nonnull(json_object_get_string_member(m,
                                                                   "case"));
                    assert_refers(entries, m, "type", name);
                }
            }
        } else if (!strcmp(meta, "alternate")) {
            JsonArray *members = json_object_get_array_member(e, "members");

            g_assert_true(is_masked_name(name));
            g_assert_nonnull(members);
            for (guint i = 0; i < json_array_get_length(members); i++) {
                assert_refers(entries,
                              json_array_get_object_element(members, i),
                              "type", name);
            }
        } else {
            g_test_message("entry '%s' has meta-type '%s'", name, meta);
            g_assert_not_reached();
        }
    }

    /* query-commands and the schema's commands are the same set. */
    g_hash_table_iter_init(&it, commands);
    while (g_hash_table_iter_next(&it, (void **)&name, NULL)) {
        if (!g_hash_table_contains(schema_cmds, name)) {
            g_test_message("command '%s' missing from the schema", name);
            g_assert_not_reached();
        }
    }
    g_hash_table_iter_init(&it, schema_cmds);
    while (g_hash_table_iter_next(&it, (void **)&name, NULL)) {
        if (!g_hash_table_contains(commands, name)) {
            g_test_message("schema command '%s' missing from "
                           "query-commands", name);
            g_assert_not_reached();
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(events); i++) {
        JsonObject *e = g_hash_table_lookup(entries, events[i]);

        g_assert_nonnull(e);
        g_assert_cmpstr(json_object_get_string_member(e, "meta-type"), ==,
                        "event");
    }
    qtest_quit(s);
}

/* --- Run state, reset, quit ---------------------------------------------- */

static void test_run_state(void)
{
    QTestState *s = qtest_init(ARGS " -S");
    JsonObject *ev;

    assert_status(s, "prelaunch", false);
    qtest_qmp_assert_success(s, "{\"execute\": \"cont\"}");
    qtest_qmp_eventwait(s, "RESUME");
    assert_status(s, "running", true);
    qtest_qmp_assert_success(s, "{\"execute\": \"stop\"}");
    qtest_qmp_eventwait(s, "STOP");
    assert_status(s, "paused", false);
    qtest_qmp_assert_success(s, "{\"execute\": \"cont\"}");
    qtest_qmp_eventwait(s, "RESUME");
    assert_status(s, "running", true);

    qtest_qmp_assert_success(s, "{\"execute\": \"system_reset\"}");
    ev = qtest_qmp_eventwait_ref(s, "RESET");
    assert_event_data(ev, false, "host-qmp-system-reset");
    json_object_unref(ev);
    assert_status(s, "running", true);
    qtest_quit(s);
}

static void test_quit(void)
{
    QTestState *s = qtest_init(ARGS);
    JsonObject *ev;
    int st;

    qtest_qmp_assert_success(s, "{\"execute\": \"quit\"}");
    ev = qtest_qmp_eventwait_ref(s, "SHUTDOWN");
    assert_event_data(ev, false, "host-qmp-quit");
    json_object_unref(ev);
    st = qtest_wait_exit(s);
    g_assert_true(WIFEXITED(st));
    g_assert_cmpint(WEXITSTATUS(st), ==, 0);
    /* One SHUTDOWN only; looking again on a closed connection is fine. */
    g_assert_null(qtest_qmp_event_ref(s, "SHUTDOWN"));
    qtest_quit(s);
}

static void test_sigterm(void)
{
    QTestState *s = qtest_init(ARGS);
    JsonObject *ev;
    int st;

    g_assert_cmpint(kill(qtest_pid(s), SIGTERM), ==, 0);
    ev = qtest_qmp_eventwait_ref(s, "SHUTDOWN");
    assert_event_data(ev, false, "host-signal");
    json_object_unref(ev);
    st = qtest_wait_exit(s);
    g_assert_true(WIFEXITED(st));
    g_assert_cmpint(WEXITSTATUS(st), ==, 0);
    qtest_quit(s);

    /* And the plain libqtest way, which asserts exit status 0. */
    qtest_quit(qtest_init(ARGS));
}

/* --- fd passing ---------------------------------------------------------- */

/* Whether fd (a pipe's read end) reports EOF within timeout_ms. */
static bool pipe_sees_eof(int fd, int timeout_ms)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    char c;

    if (poll(&pfd, 1, timeout_ms) <= 0) {
        return false;
    }
    return read(fd, &c, 1) == 0;
}

static void test_getfd(void)
{
    QTestState *s = qtest_init(ARGS);
    int base = qtest_count_fds(s);
    int p[2];

    /* The emulator takes the write end; ours goes away. */
    g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
    assert_ok(qtest_qmp_fds(s, &p[1], 1, "{\"execute\": \"getfd\", "
                                    "\"arguments\": {\"fdname\": \"fd0\"}}"));
    close(p[1]);
    g_assert_cmpint(qtest_count_fds(s), ==, base + 1);
    g_assert_false(pipe_sees_eof(p[0], 100));

    /* closefd closes it: the read end now sees EOF. */
    qtest_qmp_assert_success(s, "{\"execute\": \"closefd\", \"arguments\": "
                             "{\"fdname\": \"fd0\"}}");
    g_assert_true(pipe_sees_eof(p[0], 5000));
    close(p[0]);
    g_assert_cmpint(qtest_count_fds(s), ==, base);

    /* A second closefd of the same name finds nothing. */
    assert_error(qtest_qmp(s, "{\"execute\": \"closefd\", \"arguments\": "
                           "{\"fdname\": \"fd0\"}}"),
                 "GenericError", "File descriptor named 'fd0' not found");
    assert_error(qtest_qmp(s, "{\"execute\": \"closefd\", \"arguments\": "
                           "{\"fdname\": \"nope\"}}"),
                 "GenericError", "File descriptor named 'nope' not found");

    /* getfd without an fd. */
    assert_error(qtest_qmp(s, "{\"execute\": \"getfd\", \"arguments\": "
                           "{\"fdname\": \"fd1\"}}"),
                 "GenericError", "No file descriptor supplied via SCM_RIGHTS");

    /* A name starting with a digit: refused, the fd is not kept. */
    g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
    assert_error(qtest_qmp_fds(s, &p[1], 1, "{\"execute\": \"getfd\", "
                               "\"arguments\": {\"fdname\": \"1abc\"}}"),
                 "GenericError",
                 "Parameter 'fdname' expects a name not starting with a "
                 "digit");
    close(p[1]);
    g_assert_true(pipe_sees_eof(p[0], 5000));
    close(p[0]);
    g_assert_cmpint(qtest_count_fds(s), ==, base);

    /* Reusing a name replaces (and closes) the old fd. */
    g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
    assert_ok(qtest_qmp_fds(s, &p[1], 1, "{\"execute\": \"getfd\", "
                                    "\"arguments\": {\"fdname\": \"fd2\"}}"));
    close(p[1]);
    {
        int q[2];

        g_assert_cmpint(pipe2(q, O_CLOEXEC), ==, 0);
        assert_ok(qtest_qmp_fds(s, &q[1], 1, "{\"execute\": "
                                        "\"getfd\", \"arguments\": "
                                        "{\"fdname\": \"fd2\"}}"));
        close(q[1]);
        g_assert_true(pipe_sees_eof(p[0], 5000));
        g_assert_false(pipe_sees_eof(q[0], 100));
        qtest_qmp_assert_success(s, "{\"execute\": \"closefd\", "
                                 "\"arguments\": {\"fdname\": \"fd2\"}}");
        g_assert_true(pipe_sees_eof(q[0], 5000));
        close(q[0]);
    }
    close(p[0]);
    g_assert_cmpint(qtest_count_fds(s), ==, base);
    qtest_quit(s);
}

/* --- Several monitors ---------------------------------------------------- */

typedef struct RawClient {
    int fd;
    GString *rx;
} RawClient;

static JsonObject *raw_read(RawClient *c)
{
    char *nl;

    while (!(nl = strstr(c->rx->str, "\r\n"))) {
        char buf[4096];
        struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
        ssize_t n;

        g_assert_cmpint(poll(&pfd, 1, 30000), ==, 1);
        n = recv(c->fd, buf, sizeof(buf), 0);
        g_assert_cmpint(n, >, 0);
        g_string_append_len(c->rx, buf, n);
    }
    {
        g_autofree char *line = g_strndup(c->rx->str, nl - c->rx->str);

        g_string_erase(c->rx, 0, nl + 2 - c->rx->str);
        return parse_obj(line);
    }
}

static void raw_send(RawClient *c, const char *cmd)
{
    g_assert_cmpint(send(c->fd, cmd, strlen(cmd), MSG_NOSIGNAL), ==,
                    strlen(cmd));
}

/* The next message that is not an event. */
static JsonObject *raw_reply(RawClient *c)
{
    for (;;) {
        JsonObject *o = raw_read(c);

        if (!json_object_has_member(o, "event")) {
            return o;
        }
        json_object_unref(o);
    }
}

static void test_multiple_monitors(void)
{
    g_autofree char *path = g_strdup_printf("%s/qtest-qmp2-%d.sock",
                                            g_get_tmp_dir(), getpid());
    g_autofree char *args = g_strdup_printf(ARGS " -qmp unix:%s,server=on,"
                                            "wait=off", path);
    QTestState *s = qtest_init(args);
    RawClient c = { .fd = qtest_socket_client(path),
                    .rx = g_string_new(NULL) };
    JsonObject *o;

    o = raw_read(&c);
    g_assert_true(json_object_has_member(o, "QMP"));
    json_object_unref(o);
    /* Each monitor negotiates for itself. */
    raw_send(&c, "{\"execute\": \"query-status\"}");
    assert_error(raw_reply(&c), "CommandNotFound",
                 "Expecting capabilities negotiation with "
                 "'qmp_capabilities'");
    raw_send(&c, "{\"execute\": \"qmp_capabilities\"}");
    assert_ok(raw_reply(&c));
    assert_status(s, "running", true);

    /* A stop on the second is seen on the first, and its event on both. */
    raw_send(&c, "{\"execute\": \"stop\", \"id\": \"m2\"}");
    o = raw_reply(&c);
    qmp_expect_return(o);
    g_assert_cmpstr(json_object_get_string_member(o, "id"), ==, "m2");
    json_object_unref(o);
    qtest_qmp_eventwait(s, "STOP");
    assert_status(s, "paused", false);
    qtest_qmp_assert_success(s, "{\"execute\": \"cont\"}");
    for (;;) {
        o = raw_read(&c);
        if (!g_strcmp0(json_object_get_string_member_with_default(
                           o, "event", NULL), "RESUME")) {
            json_object_unref(o);
            break;
        }
        json_object_unref(o);
    }
    close(c.fd);
    g_string_free(c.rx, true);
    /* The first monitor does not mind the second going away. */
    assert_status(s, "running", true);
    qtest_quit(s);
    g_unlink(path);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp/greeting", test_greeting);
    g_test_add_func("/qmp/negotiation", test_negotiation);
    g_test_add_func("/qmp/framing", test_framing);
    g_test_add_func("/qmp/id-echo", test_id_echo);
    g_test_add_func("/qmp/bad-input-errors", test_bad_input);
    g_test_add_func("/qmp/schema-matches-commands", test_schema);
    g_test_add_func("/qmp/run-state-and-reset", test_run_state);
    g_test_add_func("/qmp/quit-exits-0", test_quit);
    g_test_add_func("/qmp/sigterm-exits-0", test_sigterm);
    g_test_add_func("/qmp/getfd-closefd", test_getfd);
    g_test_add_func("/qmp/multiple-monitors", test_multiple_monitors);
    return g_test_run();
}
