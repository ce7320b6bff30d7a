/*
 * The x86 ACPI tables viommu writes into guest memory at every machine
 * reset, in place of firmware: RSDP -> XSDT (and RSDT) -> FADT -> DSDT,
 * MADT, MCFG, and DMAR / VIOT when an intel-iommu / virtio-iommu-pci
 * exists.  Everything lives in [ACPI_X86_REGION_BASE, ACPI_X86_REGION_END),
 * the RSDP first, at the region base (a 16-byte boundary inside the BIOS
 * area 0xE0000-0xFFFFF that guests scan).  See docs/acpi.md.
 */
#ifndef HW_ACPI_ACPI_X86_H
#define HW_ACPI_ACPI_X86_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "qapi/error.h"

#define ACPI_X86_REGION_BASE    0xe0000ULL
#define ACPI_X86_REGION_END     0x100000ULL

/* What the machine tells the builder; the vIOMMUs are found through QOM. */
typedef struct X86AcpiConfig {
    unsigned cpus;              /* APIC ids 0..cpus-1, enabled */
    unsigned max_cpus;          /* APIC ids up to max_cpus-1, online capable */
    uint64_t ecam_base;         /* MCFG: ECAM of segment 0, buses 0..end */
    uint8_t ecam_bus_end;
    /* PCI0 _CRS windows, inclusive ends (0 size: left out) */
    uint32_t pci_mem32_base, pci_mem32_last;
    uint64_t pci_mem64_base, pci_mem64_last;
} X86AcpiConfig;

/* Builds the region's contents for guest address ACPI_X86_REGION_BASE;
 * NULL with errp set if they do not fit. */
GByteArray *acpi_build_x86(const X86AcpiConfig *cfg, Error **errp);
/* Builds and writes them into guest memory, zeroing the rest of the
 * region so that no stale table survives a reset. */
bool acpi_setup_x86(const X86AcpiConfig *cfg, Error **errp);

#endif
