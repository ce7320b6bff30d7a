/*
 * The local APIC MSI window (0xfee00000-0xfeefffff) as seen by devices.
 *
 * A DMA write of a 32-bit value into this window is an MSI.  The window is
 * a region of system memory created by the PC machines; what happens to a
 * message depends on the accelerator: with KVM it is injected into the
 * guest (a delivery hook is installed), under qtest it is queued so that a
 * test can observe it with the qtest command "msi_pop" (see
 * docs/qtest.md).  The queue is bounded; when full the oldest message is
 * dropped and counted.
 */
#ifndef HW_I386_APIC_MSI_H
#define HW_I386_APIC_MSI_H

#include <stdbool.h>
#include <stdint.h>

#include "system/memory.h"

#define APIC_MSI_BASE 0xfee00000ULL
#define APIC_MSI_SIZE 0x100000ULL
#define APIC_MSI_QUEUE_LEN 1024

typedef struct ApicMsi {
    uint64_t addr;           /* full address: APIC_MSI_BASE + offset */
    uint32_t data;
    uint16_t requester_id;   /* from MemTxAttrs */
} ApicMsi;

typedef void ApicMsiDeliverFn(void *opaque, const ApicMsi *msg);

/* Creates the window in system memory (idempotent). */
void apic_msi_init(void);
void apic_msi_cleanup(void);
/* Replaces queueing by direct delivery (KVM); NULL restores queueing. */
void apic_msi_set_delivery(ApicMsiDeliverFn *fn, void *opaque);
/* Delivers a message as if a device had written it (used by the IOAPIC
 * and by interrupt remapping). */
void apic_msi_deliver(const ApicMsi *msg);

/*
 * The I/O APIC's path.  Its messages do not go through a DMA address
 * space, so an interrupt remapping unit registers itself here to see them
 * (intel-iommu: from realize to unrealize).  The remapper rewrites *msg
 * in place, or returns false when it blocks the message (having recorded
 * its fault).  Without a remapper messages pass unchanged.
 */
typedef bool ApicMsiRemapFn(void *opaque, ApicMsi *msg);
void apic_msi_set_ioapic_remapper(ApicMsiRemapFn *fn, void *opaque);
/* Unregisters fn if it is the current remapper. */
void apic_msi_clear_ioapic_remapper(ApicMsiRemapFn *fn, void *opaque);

/*
 * Sends the message of I/O APIC pin `pin` (remapped as above) and
 * delivers it.  With KVM the delivered message also becomes the pin's GSI
 * route, from which KVM learns the level-triggered vectors whose EOI it
 * must report (split irqchip).
 */
void apic_msi_deliver_ioapic(unsigned pin, const ApicMsi *msg);
typedef void ApicMsiRouteFn(void *opaque, unsigned pin, const ApicMsi *msg);
/* Installed by KVM next to the delivery hook; NULL removes it. */
void apic_msi_set_ioapic_route_hook(ApicMsiRouteFn *fn, void *opaque);
/* Oldest queued message; false when the queue is empty. */
bool apic_msi_pop(ApicMsi *out);
void apic_msi_clear(void);
unsigned apic_msi_dropped(void);

#endif
