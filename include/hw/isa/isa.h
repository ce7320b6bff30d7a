/*
 * The ISA bus behind the q35 ICH9 LPC bridge (00:1f.0).
 *
 * ISA devices decode port I/O in the machine's I/O space and drive ISA IRQ
 * lines 0-15.  On q35 the LPC routes ISA IRQ n to I/O APIC pin n, except
 * IRQ 0 (the PIT), which goes to pin 2 as the ACPI MADT interrupt source
 * override says (control_boot_facts F.4/F.6); there is no 8259 here.
 *
 * The bus ("isa.0", type "ISA") is its own hot-plug handler so that
 * device_add can put a device such as isa-debug-exit on it at run time;
 * only device types that say they are hot-pluggable can go there.
 */
#ifndef HW_ISA_ISA_H
#define HW_ISA_ISA_H

#include "hw/qdev-core.h"
#include "system/memory.h"

#define TYPE_ISA_BUS     "ISA"
#define TYPE_ISA_DEVICE  "isa-device"

#define ISA_NUM_IRQS     16

typedef struct ISABus {
    BusState parent_obj;
    MemoryRegion *address_space_io;     /* where ports are decoded */
    qemu_irq irqs[ISA_NUM_IRQS];        /* NULL: line not connected */
} ISABus;

typedef struct ISADevice {
    DeviceState parent_obj;
} ISADevice;

DECLARE_INSTANCE_CHECKER(ISABus, ISA_BUS, TYPE_ISA_BUS)
DECLARE_INSTANCE_CHECKER(ISADevice, ISA_DEVICE, TYPE_ISA_DEVICE)

/* Creates the bus "isa.0" under dev, decoding ports in io. */
ISABus *isa_bus_new(DeviceState *dev, MemoryRegion *io);
/* Connects ISA IRQ n of the bus to irqs[n] (NULL leaves it open). */
void isa_bus_connect_irqs(ISABus *bus, const qemu_irq *irqs);

/* The bus dev sits on (dev must be realized or being realized on one). */
ISABus *isa_device_bus(ISADevice *dev);
/*
 * ISA IRQ line isairq (0-15) of dev's bus; false with errp if isairq is
 * out of range.  A line the machine left open yields NULL, which
 * qemu_set_irq() must not be given: use isa_irq_set().
 */
bool isa_get_irq(ISADevice *dev, uint32_t isairq, qemu_irq *irq,
                 Error **errp);
/* Sets an IRQ got from isa_get_irq(); an open line (NULL) is ignored. */
void isa_irq_set(qemu_irq irq, int level);
/*
 * Maps mr at port start of the bus's I/O space; false with errp if
 * [start, start + size) does not fit in the 64 KiB port space.  The
 * region is unmapped by memory_region_finalize().
 */
bool isa_register_ioport(ISADevice *dev, MemoryRegion *mr, uint32_t start,
                         Error **errp);

#endif
