/*
 * System reset: handlers run on machine reset (system_reset, guest reset).
 */
#ifndef SYSTEM_RESET_H
#define SYSTEM_RESET_H

typedef void QEMUResetHandler(void *opaque);

void qemu_register_reset(QEMUResetHandler *func, void *opaque);
void qemu_unregister_reset(QEMUResetHandler *func, void *opaque);
/* Runs the handlers, then resets every device on the machine's buses. */
void qemu_devices_reset(void);

#endif
