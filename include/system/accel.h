/*
 * Accelerators: what runs the guest.  "qtest": no CPU, a test drives the
 * machine over the qtest protocol.  (KVM comes later.)
 *
 * Accelerators are QOM types named "<name>-accel" so that
 * qom-list-types {"implements": "accel"} finds them, as libqtest expects.
 */
#ifndef SYSTEM_ACCEL_H
#define SYSTEM_ACCEL_H

#include "qom/object.h"

#define TYPE_ACCEL "accel"
#define ACCEL_CLASS_SUFFIX "-accel"

struct MachineState;

typedef struct AccelClass {
    ObjectClass parent_class;
    const char *name;
    bool (*available)(void);
    /*
     * qtest_spec/qtest_log are the -qtest/-qtest-log values (NULL when
     * absent); an accelerator other than qtest refuses a qtest_spec.
     */
    bool (*init_machine)(struct MachineState *ms, const char *qtest_spec,
                         const char *qtest_log, Error **errp);
    void (*cleanup)(void);
} AccelClass;

DECLARE_CLASS_CHECKERS(AccelClass, ACCEL, TYPE_ACCEL)

bool accel_init(const char *name, struct MachineState *ms,
                const char *qtest_spec, const char *qtest_log, Error **errp);
void accel_cleanup(void);
void accel_print_list(void);
const char *current_accel_name(void);
bool qtest_enabled(void);

#endif
