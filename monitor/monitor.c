/*
 * Monitor core: the list of monitors, start-up and teardown, and event
 * broadcast.  The QMP protocol itself is in qmp.c.
 */
#include <stdio.h>

#include "monitor/monitor.h"
#include "qapi/qmp-dispatch.h"

static GList *monitors;         /* Monitor *, in creation order */

GList *monitor_list(void)
{
    return monitors;
}

void monitor_list_add(Monitor *mon)
{
    monitors = g_list_append(monitors, mon);
}

void viommu_version_triple(int *major, int *minor, int *micro)
{
    *major = *minor = *micro = 0;
    /* Missing trailing numbers stay 0. */
    sscanf(VIOMMU_VERSION, "%d.%d.%d", major, minor, micro);
}

static JsonObject *monitor_timestamp(void)
{
    gint64 now = g_get_real_time();
    JsonObject *ts = json_object_new();

    json_object_set_int_member(ts, "seconds", now / G_USEC_PER_SEC);
    json_object_set_int_member(ts, "microseconds", now % G_USEC_PER_SEC);
    return ts;
}

/*
 * The QAPI event emitter: {"event", "data"?, "timestamp"} to every
 * monitor past negotiation.  data is borrowed.
 */
static void monitor_qapi_event_emit(const char *event, JsonObject *data)
{
    g_autoptr(JsonObject) msg = json_object_new();

    json_object_set_string_member(msg, "event", event);
    if (data) {
        json_object_set_object_member(msg, "data", json_object_ref(data));
    }
    json_object_set_object_member(msg, "timestamp", monitor_timestamp());
    for (GList *l = monitors; l; l = l->next) {
        Monitor *mon = l->data;

        if (monitor_is_negotiated(mon)) {
            monitor_qmp_send(mon, msg);
        }
    }
}

void monitor_init_globals(void)
{
    monitor_qmp_init_globals();
    qapi_event_set_emitter(monitor_qapi_event_emit);
}

void monitor_cleanup(void)
{
    GList *list = monitors;

    monitors = NULL;
    g_list_free_full(list, (GDestroyNotify)monitor_qmp_free);
}
