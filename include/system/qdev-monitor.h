/*
 * -device, device_add, device_del and device help.
 */
#ifndef SYSTEM_QDEV_MONITOR_H
#define SYSTEM_QDEV_MONITOR_H

#include "hw/qdev-core.h"
#include "qapi/qmp-dispatch.h"

/*
 * Creates, plugs and realizes a device from {"driver": ..., "bus"?: ...,
 * "id"?: ..., props...}.  With from_cli, property values are strings in
 * command-line syntax.  The machine holds the only reference.
 */
DeviceState *qdev_device_add(JsonObject *opts, bool from_cli, Error **errp);
/* -device DRIVER,... ; help requests print and set *help. */
bool qdev_device_add_from_str(const char *optarg, bool *help, Error **errp);
/* Prints help for "-device help" / "-device T,help"; true if it did. */
bool qdev_device_help(const char *optarg, bool *help);

/*
 * Completes an unplug: runs the hotplug handler's unplug, emits
 * DEVICE_DELETED and removes the device.  Called by a hotplug handler's
 * unplug_request (synchronous unplug) or later when the guest has
 * released the device.
 */
void qdev_unplug_finish(DeviceState *dev);

/* Registers device_add and object-add, whose arguments are free-form. */
void qmp_register_builtin_commands(QmpCommandList *cmds);

#endif
