/*
 * The q35 I/O APIC (hw/i386/ioapic.c): what the rest of the machine needs
 * to know about it.
 */
#ifndef HW_I386_IOAPIC_H
#define HW_I386_IOAPIC_H

#include <stdint.h>

#define TYPE_IOAPIC             "ioapic"
#define IOAPIC_BASE             0xfec00000ULL
#define IOAPIC_NUM_PINS         24
/*
 * Requester id of the I/O APIC's messages: 00:1e.0, as in QEMU.  The DMAR
 * (hw/i386/acpi-build.c) announces it in the IOAPIC device scope; an
 * interrupt remapping unit checks IRTE source ids against it.
 */
#define IOAPIC_REQUESTER_ID     0x00f0
#define IOAPIC_REQUESTER_BUS    (IOAPIC_REQUESTER_ID >> 8)
#define IOAPIC_REQUESTER_DEVFN  (IOAPIC_REQUESTER_ID & 0xff)

/*
 * A local APIC signalled the EOI of a level-triggered vector (KVM's split
 * irqchip: KVM_EXIT_IOAPIC_EOI): Remote IRR clears in every entry with
 * that vector, and a line still high is sent again (82093AA 3.2.4).
 */
void ioapic_eoi_broadcast(uint8_t vector);

#endif
