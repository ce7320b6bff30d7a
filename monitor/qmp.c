/*
 * The QMP protocol on one chardev (reference B.1-B.3).
 *
 * Every connection begins with the greeting and in capabilities
 * negotiation: mon->commands is then a list holding only qmp_capabilities,
 * whose handler switches it to qmp_commands().  Input goes through a
 * JSONStreamer; each complete value is dispatched at once and its reply
 * written before the next value is looked at, so replies come in order.
 * A parse error gets an error reply without id; the connection stays up.
 */
#include <string.h>

#include "monitor/monitor.h"
#include "qapi/qjson.h"
#include "qapi/qmp-dispatch.h"

/* Bytes taken from the chardev per read. */
#define QMP_READ_CHUNK 4096

static QmpCommandList *qmp_cap_negotiation_commands;
static Monitor *cur_mon;

Monitor *monitor_cur(void)
{
    return cur_mon;
}

bool monitor_is_negotiated(const Monitor *mon)
{
    return mon->parser && mon->commands == qmp_commands();
}

void monitor_set_negotiated(Monitor *mon)
{
    mon->commands = qmp_commands();
}

void monitor_qmp_init_globals(void)
{
    const QmpCommand *cap;

    if (qmp_cap_negotiation_commands) {
        return;
    }
    cap = qmp_find_command(qmp_commands(), "qmp_capabilities");
    g_assert(cap);
    qmp_cap_negotiation_commands = qmp_command_list_new();
    qmp_register_command(qmp_cap_negotiation_commands, "qmp_capabilities",
                         cap->fn, cap->options);
}

void monitor_qmp_send(Monitor *mon, JsonObject *msg)
{
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), msg);
    g_autofree char *json = qjson_to_string(node, mon->pretty);
    GString *line = g_string_sized_new(strlen(json) + 2);

    /* QEMU's monitor turns every newline (pretty output) into CRLF. */
    for (const char *p = json; *p; p++) {
        if (*p == '\n') {
            g_string_append_c(line, '\r');
        }
        g_string_append_c(line, *p);
    }
    g_string_append(line, "\r\n");
    qemu_chr_fe_write_all(mon->chr, (const uint8_t *)line->str, line->len);
    g_string_free(line, true);
}

static void monitor_qmp_send_greeting(Monitor *mon)
{
    g_autoptr(JsonObject) greeting = json_object_new();
    JsonObject *qmp = json_object_new();
    JsonObject *version = json_object_new();
    JsonObject *qemu = json_object_new();
    int major, minor, micro;

    viommu_version_triple(&major, &minor, &micro);
    json_object_set_int_member(qemu, "micro", micro);
    json_object_set_int_member(qemu, "minor", minor);
    json_object_set_int_member(qemu, "major", major);
    json_object_set_object_member(version, "qemu", qemu);
    json_object_set_string_member(version, "package",
                                  "viommu-" VIOMMU_VERSION);
    json_object_set_object_member(qmp, "version", version);
    /* No "oob": every command runs in the main loop. */
    json_object_set_array_member(qmp, "capabilities", json_array_new());
    json_object_set_object_member(greeting, "QMP", qmp);
    monitor_qmp_send(mon, greeting);
}

/* During negotiation every other command is "not found", said helpfully. */
static void monitor_qmp_fix_negotiation_error(JsonObject *rsp)
{
    JsonObject *error;
    const char *cls;

    if (!json_object_has_member(rsp, "error")) {
        return;
    }
    error = json_object_get_object_member(rsp, "error");
    cls = error ? json_object_get_string_member_with_default(error, "class",
                                                             NULL) : NULL;
    if (!g_strcmp0(cls, error_class_name(ERROR_CLASS_COMMAND_NOT_FOUND))) {
        json_object_set_string_member(error, "desc",
                                      "Expecting capabilities negotiation "
                                      "with 'qmp_capabilities'");
    }
}

static void monitor_qmp_dispatch(Monitor *mon, JsonNode *req)
{
    const QmpCommandList *cmds = mon->commands;
    JsonObject *rsp;

    g_assert(!cur_mon);
    cur_mon = mon;
    rsp = qmp_dispatch(cmds, req, false);
    cur_mon = NULL;
    if (!rsp) {
        return;
    }
    if (cmds == qmp_cap_negotiation_commands) {
        monitor_qmp_fix_negotiation_error(rsp);
    }
    monitor_qmp_send(mon, rsp);
    json_object_unref(rsp);
}

static void monitor_qmp_emit(void *opaque, JsonNode *value, Error *err)
{
    Monitor *mon = opaque;

    if (err) {
        JsonObject *rsp = qmp_error_response(err, NULL);

        monitor_qmp_send(mon, rsp);
        json_object_unref(rsp);
        error_free(err);
    }
    if (value) {
        monitor_qmp_dispatch(mon, value);
        json_node_unref(value);
    }
}

/* A fresh connection: a new parser, negotiation again. */
static void monitor_qmp_reset(Monitor *mon, bool open)
{
    g_clear_pointer(&mon->parser, json_streamer_free);
    mon->commands = qmp_cap_negotiation_commands;
    if (open) {
        mon->parser = json_streamer_new(monitor_qmp_emit, mon);
    }
}

static int monitor_qmp_can_read(void *opaque)
{
    return QMP_READ_CHUNK;
}

static void monitor_qmp_read(void *opaque, const uint8_t *buf, int size)
{
    Monitor *mon = opaque;

    if (mon->parser) {
        json_streamer_feed(mon->parser, (const char *)buf, size);
    }
}

static void monitor_qmp_event(void *opaque, ChrEvent ev)
{
    Monitor *mon = opaque;

    switch (ev) {
    case CHR_EVENT_OPENED:
        monitor_qmp_reset(mon, true);
        monitor_qmp_send_greeting(mon);
        break;
    case CHR_EVENT_CLOSED:
        monitor_qmp_reset(mon, false);
        break;
    }
}

bool monitor_new_qmp(Chardev *chr, bool pretty, Error **errp)
{
    Monitor *mon;

    /* monitor_init_globals() must have run. */
    g_assert(qmp_cap_negotiation_commands);
    if (!qemu_chr_fe_init(chr, errp)) {
        return false;
    }
    mon = g_new0(Monitor, 1);
    mon->chr = CHARDEV(object_ref(chr));
    mon->pretty = pretty;
    mon->commands = qmp_cap_negotiation_commands;
    monitor_fds_init(mon);
    monitor_list_add(mon);
    qemu_chr_fe_set_handlers(chr, monitor_qmp_can_read, monitor_qmp_read,
                             monitor_qmp_event, mon);
    return true;
}

void monitor_qmp_free(Monitor *mon)
{
    qemu_chr_fe_deinit(mon->chr);
    object_unref(mon->chr);
    g_clear_pointer(&mon->parser, json_streamer_free);
    monitor_fds_cleanup(mon);
    g_free(mon);
}
