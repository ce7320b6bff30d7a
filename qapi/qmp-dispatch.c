/*
 * QMP command registry, request dispatch and the event hook.
 *
 * A command list keeps its commands in registration order (query-commands
 * lists them that way) and indexes them by name.  The list owns the
 * QmpCommand records and their names.
 */
#include <string.h>

#include "qapi/qmp-dispatch.h"
#include "qapi/qapi-introspect.h"
#include "qapi/qapi-util.h"
#include "qapi/qjson.h"

struct QmpCommandList {
    GPtrArray *order;       /* QmpCommand *, owned */
    GHashTable *by_name;    /* name -> QmpCommand *, borrowed from order */
};

static void qmp_command_free(gpointer p)
{
    QmpCommand *cmd = p;

    g_free((char *)cmd->name);
    g_free(cmd);
}

QmpCommandList *qmp_command_list_new(void)
{
    QmpCommandList *cmds = g_new0(QmpCommandList, 1);

    cmds->order = g_ptr_array_new_with_free_func(qmp_command_free);
    cmds->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    return cmds;
}

void qmp_command_list_free(QmpCommandList *cmds)
{
    if (!cmds) {
        return;
    }
    g_hash_table_destroy(cmds->by_name);
    g_ptr_array_free(cmds->order, true);
    g_free(cmds);
}

/*
 * Registering a name again replaces the function and options in place, so
 * that running qmp_init_marshal() on an already filled list is harmless.
 */
void qmp_register_command(QmpCommandList *cmds, const char *name,
                          QmpCommandFunc *fn, QmpCommandOptions options)
{
    QmpCommand *cmd = g_hash_table_lookup(cmds->by_name, name);

    if (!cmd) {
        cmd = g_new0(QmpCommand, 1);
        cmd->name = g_strdup(name);
        g_ptr_array_add(cmds->order, cmd);
        g_hash_table_insert(cmds->by_name, (char *)cmd->name, cmd);
    }
    cmd->fn = fn;
    cmd->options = options;
    cmd->enabled = true;
}

const QmpCommand *qmp_find_command(const QmpCommandList *cmds,
                                   const char *name)
{
    return g_hash_table_lookup(cmds->by_name, name);
}

void qmp_disable_command(QmpCommandList *cmds, const char *name)
{
    QmpCommand *cmd = g_hash_table_lookup(cmds->by_name, name);

    if (cmd) {
        cmd->enabled = false;
    }
}

void qmp_for_each_command(const QmpCommandList *cmds,
                          void (*fn)(const QmpCommand *cmd, void *opaque),
                          void *opaque)
{
    for (guint i = 0; i < cmds->order->len; i++) {
        fn(g_ptr_array_index(cmds->order, i), opaque);
    }
}

/* query-qmp-schema ('gen': false): the generated introspection data. */
static bool qmp_query_qmp_schema(JsonObject *args, JsonNode **ret,
                                 Error **errp)
{
    if (!qapi_check_no_members(args, NULL, errp)) {
        return false;
    }
    *ret = qjson_parse(qapi_introspect_json(), errp);
    return *ret != NULL;
}

QmpCommandList *qmp_commands(void)
{
    static QmpCommandList *cmds;

    if (!cmds) {
        cmds = qmp_command_list_new();
        qmp_init_marshal(cmds);
        qmp_register_command(cmds, "query-qmp-schema", qmp_query_qmp_schema,
                             QCO_ALLOW_PRECONFIG);
    }
    return cmds;
}

/* -- dispatch --------------------------------------------------------------- */

JsonObject *qmp_error_response(Error *err, JsonNode *id)
{
    JsonObject *rsp = json_object_new();
    JsonObject *error = json_object_new();

    json_object_set_string_member(error, "class",
                                  error_class_name(error_get_class(err)));
    json_object_set_string_member(error, "desc", error_get_pretty(err));
    json_object_set_object_member(rsp, "error", error);
    if (id) {
        json_object_set_member(rsp, "id", json_node_copy(id));
    }
    return rsp;
}

/*
 * Checks the members of a request (reference B.3) and returns the command
 * name; *oob tells whether it came as "exec-oob".
 */
static const char *qmp_check_request(JsonObject *req, bool allow_oob,
                                     bool *oob, Error **errp)
{
    g_autoptr(GList) keys = json_object_get_members(req);
    const char *exec_key = NULL;

    for (GList *l = keys; l; l = l->next) {
        const char *key = l->data;
        JsonNode *val = json_object_get_member(req, key);

        if (!strcmp(key, "execute")
            || (allow_oob && !strcmp(key, "exec-oob"))) {
            if (!qjson_is_str(val)) {
                error_setg(errp, "QMP input member '%s' must be a string",
                           key);
                return NULL;
            }
            if (exec_key) {
                error_setg(errp, "QMP input member '%s' clashes with '%s'",
                           key, exec_key);
                return NULL;
            }
            exec_key = key;
        } else if (!strcmp(key, "arguments")) {
            if (!qjson_is_object(val)) {
                error_setg(errp,
                           "QMP input member 'arguments' must be an object");
                return NULL;
            }
        } else if (strcmp(key, "id")) {
            error_setg(errp, "QMP input member '%s' is unexpected", key);
            return NULL;
        }
    }
    if (!exec_key) {
        error_setg(errp, "QMP input lacks member 'execute'");
        return NULL;
    }
    *oob = !strcmp(exec_key, "exec-oob");
    return json_object_get_string_member(req, exec_key);
}

static bool qmp_run(const QmpCommandList *cmds, JsonObject *req,
                    bool allow_oob, const QmpCommand **cmdp, JsonNode **ret,
                    Error **errp)
{
    const QmpCommand *cmd;
    g_autoptr(JsonObject) empty = NULL;
    JsonObject *args;
    const char *name;
    bool oob;

    name = qmp_check_request(req, allow_oob, &oob, errp);
    if (!name) {
        return false;
    }
    cmd = qmp_find_command(cmds, name);
    if (!cmd) {
        error_set(errp, ERROR_CLASS_COMMAND_NOT_FOUND,
                  "The command %s has not been found", name);
        return false;
    }
    if (!cmd->enabled) {
        error_set(errp, ERROR_CLASS_COMMAND_NOT_FOUND,
                  "Command %s has been disabled", name);
        return false;
    }
    if (oob && !(cmd->options & QCO_ALLOW_OOB)) {
        error_setg(errp, "The command %s does not support OOB", name);
        return false;
    }
    *cmdp = cmd;
    if (json_object_has_member(req, "arguments")) {
        args = json_object_get_object_member(req, "arguments");
    } else {
        args = empty = json_object_new();
    }
    return cmd->fn(args, ret, errp);
}

JsonObject *qmp_dispatch(const QmpCommandList *cmds, JsonNode *request,
                         bool allow_oob)
{
    const QmpCommand *cmd = NULL;
    JsonNode *ret = NULL;
    JsonNode *id = NULL;
    Error *err = NULL;
    JsonObject *rsp;

    if (!qjson_is_object(request)) {
        error_setg(&err, "QMP input must be a JSON object");
    } else {
        JsonObject *req = json_node_get_object(request);

        id = json_object_get_member(req, "id");
        qmp_run(cmds, req, allow_oob, &cmd, &ret, &err);
    }
    if (err) {
        rsp = qmp_error_response(err, id);
        error_free(err);
        if (ret) {
            json_node_unref(ret);
        }
        return rsp;
    }
    if (cmd->options & QCO_NO_SUCCESS_RESP) {
        if (ret) {
            json_node_unref(ret);
        }
        return NULL;
    }
    rsp = json_object_new();
    json_object_set_member(rsp, "return",
                           ret ? ret : qjson_new_object(json_object_new()));
    if (id) {
        json_object_set_member(rsp, "id", json_node_copy(id));
    }
    return rsp;
}

/* -- events ---------------------------------------------------------------- */

static QapiEventEmitter *event_emitter;

void qapi_event_set_emitter(QapiEventEmitter *fn)
{
    event_emitter = fn;
}

void qapi_event_emit(const char *event, JsonObject *data)
{
    if (event_emitter) {
        event_emitter(event, data);
    }
    if (data) {
        json_object_unref(data);
    }
}
