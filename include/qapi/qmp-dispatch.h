/*
 * QMP command registry and dispatch.
 *
 * The QAPI generator emits, for every command NAME in the schema that does
 * not say 'gen': false, a marshaller qmp_marshal_NAME() that unpacks the
 * arguments, calls the hand-written qmp_NAME() and packs the result; and
 * qmp_init_marshal(), which registers all of them.  Commands with
 * 'gen': false are registered by hand with the same QmpCommandFunc shape.
 */
#ifndef QAPI_QMP_DISPATCH_H
#define QAPI_QMP_DISPATCH_H

#include <stdbool.h>
#include <json-glib/json-glib.h>

#include "qapi/error.h"

/*
 * args: the "arguments" object (an empty object when absent), borrowed.
 * *ret: set to the return value on success (NULL means {}), owned by the
 * caller.  Returns false with errp set on failure.
 */
typedef bool QmpCommandFunc(JsonObject *args, JsonNode **ret, Error **errp);

typedef enum QmpCommandOptions {
    QCO_NO_OPTIONS = 0,
    QCO_NO_SUCCESS_RESP = 1 << 0,
    QCO_ALLOW_OOB = 1 << 1,
    QCO_ALLOW_PRECONFIG = 1 << 2,
} QmpCommandOptions;

typedef struct QmpCommand {
    const char *name;
    QmpCommandFunc *fn;
    QmpCommandOptions options;
    bool enabled;
} QmpCommand;

typedef struct QmpCommandList QmpCommandList;

QmpCommandList *qmp_command_list_new(void);
void qmp_command_list_free(QmpCommandList *cmds);
void qmp_register_command(QmpCommandList *cmds, const char *name,
                          QmpCommandFunc *fn, QmpCommandOptions options);
const QmpCommand *qmp_find_command(const QmpCommandList *cmds,
                                   const char *name);
void qmp_disable_command(QmpCommandList *cmds, const char *name);
/* In registration order. */
void qmp_for_each_command(const QmpCommandList *cmds,
                          void (*fn)(const QmpCommand *cmd, void *opaque),
                          void *opaque);

/*
 * The commands of the schema: created on first use, filled by
 * qmp_init_marshal() plus query-qmp-schema.  Other 'gen': false commands
 * are registered into it by hand.
 */
QmpCommandList *qmp_commands(void);
void qmp_init_marshal(QmpCommandList *cmds);   /* generated */

/*
 * Validates one request object and runs it (reference B.2/B.3): input not
 * an object, unexpected or mistyped top-level members, missing "execute",
 * unknown command, OOB misuse.  Returns the response object ({"return": ..}
 * or {"error": {"class", "desc"}}) with "id" copied from the request, or
 * NULL for a command that sends no success response.
 */
JsonObject *qmp_dispatch(const QmpCommandList *cmds, JsonNode *request,
                         bool allow_oob);

/*
 * Builds {"error": {"class": ..., "desc": ...}} (plus "id" if given).
 * err and id are borrowed (id is copied).
 */
JsonObject *qmp_error_response(Error *err, JsonNode *id);

/*
 * Events.  The generated qapi_event_send_NAME() functions build the data
 * object and call qapi_event_emit(); the monitor installs the emitter that
 * adds the timestamp and broadcasts to negotiated QMP monitors.  Without
 * one (unit tests), events are dropped.
 */
typedef void QapiEventEmitter(const char *event, JsonObject *data);
void qapi_event_set_emitter(QapiEventEmitter *fn);
/*
 * Takes ownership of data (may be NULL for events without data); the
 * emitter only borrows it.
 */
void qapi_event_emit(const char *event, JsonObject *data);

#endif
