/*
 * QMP commands about the monitor itself: qmp_capabilities and
 * query-commands.
 */
#include "monitor/monitor.h"
#include "qapi/qapi-commands.h"
#include "qapi/qmp-dispatch.h"

/*
 * viommu offers no capability: "oob" needs a monitor I/O thread, and all
 * commands run in the main loop.
 */
void qmp_qmp_capabilities(QMPCapabilityList *enable, Error **errp)
{
    Monitor *mon = monitor_cur();

    if (!mon) {
        return;
    }
    if (monitor_is_negotiated(mon)) {
        error_set(errp, ERROR_CLASS_COMMAND_NOT_FOUND,
                  "Capabilities negotiation is already complete, command "
                  "ignored");
        return;
    }
    if (enable) {
        /* Nothing is offered, so any requested capability is refused. */
        error_setg(errp, "Capability %s not available",
                   QMPCapability_lookup[enable->value]);
        return;
    }
    monitor_set_negotiated(mon);
}

static void query_commands_add(const QmpCommand *cmd, void *opaque)
{
    CommandInfoList ***tail = opaque;
    CommandInfoList *node;

    if (!cmd->enabled) {
        return;
    }
    node = g_new0(CommandInfoList, 1);
    node->value = g_new0(CommandInfo, 1);
    node->value->name = g_strdup(cmd->name);
    **tail = node;
    *tail = &node->next;
}

CommandInfoList *qmp_query_commands(Error **errp)
{
    CommandInfoList *list = NULL;
    CommandInfoList **tail = &list;

    /* qmp_capabilities is part of the schema, so it is listed here too. */
    qmp_for_each_command(qmp_commands(), query_commands_add, &tail);
    return list;
}
