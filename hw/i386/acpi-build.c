/*
 * The x86 ACPI tables (include/hw/acpi/acpi-x86.h, docs/acpi.md).
 *
 * One blob is built for the guest address ACPI_X86_REGION_BASE: the RSDP
 * at offset 0, then DSDT, FADT, MADT, MCFG, DMAR and VIOT (each on a
 * 16-byte boundary), then the XSDT and RSDT that list them.  The vIOMMUs
 * do not know about ACPI: they are found through QOM and described from
 * their properties and PCI addresses.
 */
#include <string.h>

#include "hw/acpi/acpi-build.h"
#include "hw/acpi/acpi-x86.h"
#include "hw/boards.h"
#include "hw/i386/intel_iommu.h"
#include "hw/i386/ioapic.h"
#include "hw/pci/pci.h"
#include "system/memory.h"

/* Platform facts (control_boot_facts F.4); hw/i386/ioapic.c and
 * intel_iommu.c place the devices there. */
#define X86_LAPIC_BASE          0xfee00000u
#define X86_IOAPIC_BASE         IOAPIC_BASE
#define X86_IOAPIC_ID           0       /* its ID register after reset */
#define X86_SCI_IRQ             9
#define X86_XAPIC_MAX_CPUS      255     /* APIC id 0xff is broadcast */

#define ACPI_TABLE_ALIGN        16

/* RSDP (ACPI 6.5, 5.2.5.3), revision 2 */
#define RSDP_CHECKSUM           8       /* over the first 20 bytes */
#define RSDP_REVISION           15
#define RSDP_RSDT_ADDRESS       16
#define RSDP_LENGTH             20
#define RSDP_XSDT_ADDRESS       24
#define RSDP_EXT_CHECKSUM       32      /* over all 36 bytes */
#define RSDP_SIZE               36
#define RSDP_V1_SIZE            20

/* FADT (5.2.9), revision 6.5: 276 bytes */
#define FADT_REVISION           6
#define FADT_MINOR_REVISION     5
#define FADT_SIZE               276
#define FADT_F_WBINVD           (1u << 0)
#define FADT_F_PROC_C1          (1u << 2)
#define FADT_F_PWR_BUTTON       (1u << 4)       /* no fixed power button */
#define FADT_F_SLP_BUTTON       (1u << 5)       /* no fixed sleep button */
#define FADT_F_HW_REDUCED_ACPI  (1u << 20)
#define FADT_BOOT_LEGACY_DEVICES (1u << 0)

/* MADT (5.2.12), revision 5 */
#define MADT_REVISION           5
#define MADT_PCAT_COMPAT        1u
#define MADT_LOCAL_APIC         0
#define MADT_IO_APIC            1
#define MADT_INT_SRC_OVERRIDE   2
#define MADT_LOCAL_APIC_NMI     4
#define MADT_LAPIC_ENABLED      (1u << 0)
#define MADT_LAPIC_ONLINE_CAPABLE (1u << 1)
#define MADT_ISO_ACTIVE_HIGH    0x1
#define MADT_ISO_LEVEL          0xc
#define MADT_NMI_ALL_CPUS       0xff

/* DMAR (VT-d 8.1, facts I.1) */
#define DMAR_REVISION           1
#define DMAR_F_INTR_REMAP       (1u << 0)
#define DMAR_F_X2APIC_OPT_OUT   (1u << 1)
#define DMAR_TYPE_DRHD          0
#define DMAR_TYPE_ATSR          2
#define DMAR_DRHD_INCLUDE_PCI_ALL 1u
#define DMAR_ATSR_ALL_PORTS     1u
#define DMAR_SCOPE_IOAPIC       3

/* VIOT (facts I.2) */
#define VIOT_REVISION           0
#define VIOT_NODE_OFFSET        48
#define VIOT_NODE_PCI_RANGE     1
#define VIOT_NODE_VIRTIO_PCI    3

typedef struct AcpiBlob {
    GByteArray *b;
    GArray *tables;             /* uint32_t offsets of the listed tables */
} AcpiBlob;

static uint32_t blob_addr(size_t off)
{
    return ACPI_X86_REGION_BASE + off;
}

static size_t blob_table_begin(AcpiBlob *blob, const char *sig, uint8_t rev)
{
    acpi_align(blob->b, ACPI_TABLE_ALIGN);
    return acpi_table_begin(blob->b, sig, rev);
}

/* Ends a table and lists it in the XSDT/RSDT. */
static void blob_table_end(AcpiBlob *blob, size_t table)
{
    uint32_t off = table;

    acpi_table_end(blob->b, table);
    g_array_append_val(blob->tables, off);
}

/*
 * DSDT: \_SB.PCI0, the PCIe host bridge of segment 0 with its bus range
 * and windows, and \_SB.DRAC, a motherboard resource reserving the ECAM
 * window (Linux uses MCFG only where one is reserved).
 */
static size_t build_dsdt(AcpiBlob *blob, const X86AcpiConfig *cfg)
{
    GByteArray *sb = g_byte_array_new();
    GByteArray *pci0 = g_byte_array_new();
    GByteArray *crs = g_byte_array_new();
    GByteArray *drac = g_byte_array_new();
    GByteArray *drac_crs = g_byte_array_new();
    GByteArray *aml = g_byte_array_new();
    size_t table;

    aml_res_word(crs, AML_RES_BUS, 0, cfg->ecam_bus_end);
    aml_res_io(crs, 0xcf8, 8);
    aml_res_word(crs, AML_RES_IO, 0x0000, 0x0cf7);
    aml_res_word(crs, AML_RES_IO, 0x0d00, 0xffff);
    if (cfg->pci_mem32_last > cfg->pci_mem32_base) {
        aml_res_dword(crs, AML_RES_MEMORY, cfg->pci_mem32_base,
                      cfg->pci_mem32_last);
    }
    if (cfg->pci_mem64_last > cfg->pci_mem64_base) {
        aml_res_qword(crs, AML_RES_MEMORY, cfg->pci_mem64_base,
                      cfg->pci_mem64_last);
    }
    aml_res_end(crs);

    aml_append_name_eisaid(pci0, "_HID", "PNP0A08");
    aml_append_name_eisaid(pci0, "_CID", "PNP0A03");
    aml_append_name_int(pci0, "_ADR", 0);
    aml_append_name_int(pci0, "_UID", 0);
    aml_append_name_int(pci0, "_SEG", 0);
    aml_append_name_int(pci0, "_BBN", 0);
    aml_append_name_buffer(pci0, "_CRS", crs);
    aml_append_device(sb, "PCI0", pci0);

    aml_res_memory32_fixed(drac_crs, cfg->ecam_base,
                           (uint32_t)(cfg->ecam_bus_end + 1) << 20);
    aml_res_end(drac_crs);
    aml_append_name_eisaid(drac, "_HID", "PNP0C01");
    aml_append_name_buffer(drac, "_CRS", drac_crs);
    aml_append_device(sb, "DRAC", drac);

    aml_append_scope(aml, "\\_SB", sb);

    acpi_align(blob->b, ACPI_TABLE_ALIGN);
    table = blob->b->len;
    aml_append_table(blob->b, "DSDT", 2, aml);
    return table;
}

/*
 * FADT for a hardware-reduced platform (ACPI 6.5, 4.1): no PM1/GPE
 * blocks, no SMI command port, no FACS.  DSDT and X_DSDT both hold the
 * DSDT (as QEMU does; minimal guests read the 32-bit field).
 */
static void build_fadt(AcpiBlob *blob, size_t dsdt)
{
    GByteArray *b = blob->b;
    size_t table = blob_table_begin(blob, "FACP", FADT_REVISION);

    acpi_append_u32(b, 0);                      /* FIRMWARE_CTRL */
    acpi_append_u32(b, blob_addr(dsdt));        /* DSDT */
    acpi_append_u8(b, 0);                       /* reserved */
    acpi_append_u8(b, 0);                       /* Preferred_PM_Profile */
    acpi_append_u16(b, X86_SCI_IRQ);            /* SCI_INT */
    acpi_append_u32(b, 0);                      /* SMI_CMD: none */
    acpi_append_zeros(b, 4);                    /* ACPI_EN/DIS, S4BIOS, PSTATE */
    acpi_append_zeros(b, 8 * 4);                /* PM1a_EVT .. GPE1_BLK */
    acpi_append_zeros(b, 8);                    /* block lengths, GPE1_BASE, CST */
    acpi_append_u16(b, 0x0fff);                 /* P_LVL2_LAT: no C2 */
    acpi_append_u16(b, 0x0fff);                 /* P_LVL3_LAT: no C3 */
    acpi_append_zeros(b, 4);                    /* FLUSH_SIZE/STRIDE */
    acpi_append_zeros(b, 5);                    /* DUTY_*, alarms, CENTURY */
    acpi_append_u16(b, FADT_BOOT_LEGACY_DEVICES); /* IAPC_BOOT_ARCH */
    acpi_append_u8(b, 0);                       /* reserved */
    acpi_append_u32(b, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_PWR_BUTTON |
                       FADT_F_SLP_BUTTON | FADT_F_HW_REDUCED_ACPI);
    acpi_append_gas(b, 0, 0, 0, 0, 0);          /* RESET_REG: none */
    acpi_append_u8(b, 0);                       /* RESET_VALUE */
    acpi_append_u16(b, 0);                      /* ARM_BOOT_ARCH */
    acpi_append_u8(b, FADT_MINOR_REVISION);
    acpi_append_u64(b, 0);                      /* X_FIRMWARE_CTRL */
    acpi_append_u64(b, blob_addr(dsdt));        /* X_DSDT */
    acpi_append_zeros(b, 10 * ACPI_GAS_SIZE);   /* X_PM*, X_GPE*, SLEEP_* */
    acpi_append_u64(b, 0);                      /* hypervisor vendor */
    g_assert(b->len - table == FADT_SIZE);
    blob_table_end(blob, table);
}

/*
 * MADT: a local APIC per possible CPU (APIC id = processor uid = index),
 * the I/O APIC with GSI base 0, and QEMU's overrides: ISA IRQ 0 is GSI 2,
 * IRQ 9 (the SCI) is level, active high.  LINT1 of every CPU is NMI.
 */
static void build_madt(AcpiBlob *blob, const X86AcpiConfig *cfg)
{
    GByteArray *b = blob->b;
    size_t table = blob_table_begin(blob, "APIC", MADT_REVISION);

    acpi_append_u32(b, X86_LAPIC_BASE);
    acpi_append_u32(b, MADT_PCAT_COMPAT);
    for (unsigned i = 0; i < cfg->max_cpus; i++) {
        acpi_append_u8(b, MADT_LOCAL_APIC);
        acpi_append_u8(b, 8);
        acpi_append_u8(b, i);                   /* ACPI processor uid */
        acpi_append_u8(b, i);                   /* APIC id */
        acpi_append_u32(b, i < cfg->cpus ? MADT_LAPIC_ENABLED :
                                           MADT_LAPIC_ONLINE_CAPABLE);
    }

    acpi_append_u8(b, MADT_IO_APIC);
    acpi_append_u8(b, 12);
    acpi_append_u8(b, X86_IOAPIC_ID);
    acpi_append_u8(b, 0);
    acpi_append_u32(b, X86_IOAPIC_BASE);
    acpi_append_u32(b, 0);                      /* GSI base */

    acpi_append_u8(b, MADT_INT_SRC_OVERRIDE);
    acpi_append_u8(b, 10);
    acpi_append_u8(b, 0);                       /* ISA */
    acpi_append_u8(b, 0);                       /* IRQ 0 */
    acpi_append_u32(b, 2);                      /* GSI 2 */
    acpi_append_u16(b, 0);                      /* conforms to the bus */

    acpi_append_u8(b, MADT_INT_SRC_OVERRIDE);
    acpi_append_u8(b, 10);
    acpi_append_u8(b, 0);
    acpi_append_u8(b, X86_SCI_IRQ);
    acpi_append_u32(b, X86_SCI_IRQ);
    acpi_append_u16(b, MADT_ISO_ACTIVE_HIGH | MADT_ISO_LEVEL);

    acpi_append_u8(b, MADT_LOCAL_APIC_NMI);
    acpi_append_u8(b, 6);
    acpi_append_u8(b, MADT_NMI_ALL_CPUS);
    acpi_append_u16(b, 0);                      /* conforms */
    acpi_append_u8(b, 1);                       /* LINT1 */
    blob_table_end(blob, table);
}

/* MCFG (PCI Firmware 3.3, 4.1.2): one ECAM allocation, segment 0. */
static void build_mcfg(AcpiBlob *blob, const X86AcpiConfig *cfg)
{
    GByteArray *b = blob->b;
    size_t table = blob_table_begin(blob, "MCFG", 1);

    acpi_append_zeros(b, 8);
    acpi_append_u64(b, cfg->ecam_base);
    acpi_append_u16(b, 0);                      /* segment */
    acpi_append_u8(b, 0);                       /* start bus */
    acpi_append_u8(b, cfg->ecam_bus_end);
    acpi_append_u32(b, 0);
    blob_table_end(blob, table);
}

/* An OnOffAuto property of obj is not "off"; auto counts as on, as
 * intel-iommu resolves it (no in-kernel irqchip constraint). */
static bool prop_not_off(Object *obj, const char *name)
{
    g_autofree char *v = object_property_get_str(obj, name, NULL);

    return !v || strcmp(v, "off");
}

/*
 * DMAR (facts I.1): one DRHD covering all of segment 0 at the VT-d
 * register page, with the I/O APIC's scope so that the OS knows the
 * source id of its interrupts; an ATSR for all root ports when the
 * IOMMU has a device IOTLB.
 */
static void build_dmar(AcpiBlob *blob, Object *vtd)
{
    GByteArray *b = blob->b;
    uint8_t aw = object_property_get_uint(vtd, "aw-bits", &error_abort);
    bool ir = prop_not_off(vtd, "intremap");
    bool eim = ir && prop_not_off(vtd, "eim");
    uint8_t flags = 0;
    size_t table = blob_table_begin(blob, "DMAR", DMAR_REVISION);

    if (ir) {
        flags |= DMAR_F_INTR_REMAP;
        if (!eim) {
            flags |= DMAR_F_X2APIC_OPT_OUT;
        }
    }
    acpi_append_u8(b, aw - 1);                  /* host address width */
    acpi_append_u8(b, flags);
    acpi_append_zeros(b, 10);

    acpi_append_u16(b, DMAR_TYPE_DRHD);
    acpi_append_u16(b, 16 + 8);
    acpi_append_u8(b, DMAR_DRHD_INCLUDE_PCI_ALL);
    acpi_append_u8(b, 0);                       /* size: 2^0 pages */
    acpi_append_u16(b, 0);                      /* segment */
    acpi_append_u64(b, Q35_HOST_BRIDGE_IOMMU_ADDR);
    acpi_append_u8(b, DMAR_SCOPE_IOAPIC);
    acpi_append_u8(b, 8);
    acpi_append_u16(b, 0);
    acpi_append_u8(b, X86_IOAPIC_ID);           /* enumeration id */
    acpi_append_u8(b, IOAPIC_REQUESTER_BUS);    /* start bus */
    acpi_append_u8(b, PCI_SLOT(IOAPIC_REQUESTER_DEVFN));
    acpi_append_u8(b, PCI_FUNC(IOAPIC_REQUESTER_DEVFN));

    if (object_property_get_bool(vtd, "device-iotlb", &error_abort)) {
        acpi_append_u16(b, DMAR_TYPE_ATSR);
        acpi_append_u16(b, 8);
        acpi_append_u8(b, DMAR_ATSR_ALL_PORTS);
        acpi_append_u8(b, 0);
        acpi_append_u16(b, 0);                  /* segment */
    }
    blob_table_end(blob, table);
}

/*
 * VIOT (facts I.2): the virtio-iommu PCI function, then one PCI range
 * node sending every BDF of segment 0 to it with endpoint id = BDF, the
 * id virtio-iommu uses.  The whole segment is covered, not only the buses
 * that exist now, so that hot-plugged bridges are translated too; the
 * IOMMU never translates itself.
 */
static void build_viot(AcpiBlob *blob, PCIDevice *viommu)
{
    GByteArray *b = blob->b;
    uint16_t bdf = PCI_BUILD_BDF(pci_bus_num(pci_get_bus(viommu)),
                                 viommu->devfn);
    size_t table = blob_table_begin(blob, "VIOT", VIOT_REVISION);

    acpi_append_u16(b, 2);                      /* node count */
    acpi_append_u16(b, VIOT_NODE_OFFSET);
    acpi_append_zeros(b, 8);

    g_assert(b->len - table == VIOT_NODE_OFFSET);
    acpi_append_u8(b, VIOT_NODE_VIRTIO_PCI);
    acpi_append_u8(b, 0);
    acpi_append_u16(b, 16);
    acpi_append_u16(b, 0);                      /* segment */
    acpi_append_u16(b, bdf);
    acpi_append_zeros(b, 8);

    acpi_append_u8(b, VIOT_NODE_PCI_RANGE);
    acpi_append_u8(b, 0);
    acpi_append_u16(b, 24);
    acpi_append_u32(b, 0);                      /* endpoint start */
    acpi_append_u16(b, 0);                      /* segment start, end */
    acpi_append_u16(b, 0);
    acpi_append_u16(b, 0x0000);                 /* BDF start, end */
    acpi_append_u16(b, 0xffff);
    acpi_append_u16(b, VIOT_NODE_OFFSET);       /* output node */
    acpi_append_zeros(b, 6);
    blob_table_end(blob, table);
}

/* XSDT (64-bit entries) and RSDT (32-bit) list the same tables. */
static size_t build_sdt(AcpiBlob *blob, const char *sig, bool wide)
{
    GByteArray *b = blob->b;
    size_t table;

    acpi_align(b, ACPI_TABLE_ALIGN);
    table = acpi_table_begin(b, sig, 1);
    for (guint i = 0; i < blob->tables->len; i++) {
        uint32_t addr = blob_addr(g_array_index(blob->tables, uint32_t, i));

        if (wide) {
            acpi_append_u64(b, addr);
        } else {
            acpi_append_u32(b, addr);
        }
    }
    acpi_table_end(b, table);
    return table;
}

static void build_rsdp(GByteArray *b)
{
    acpi_append_bytes(b, "RSD PTR ", 8);
    acpi_append_u8(b, 0);                       /* checksum */
    acpi_append_text(b, ACPI_OEM_ID, 6);
    acpi_append_u8(b, 2);                       /* revision: ACPI 2.0+ */
    acpi_append_u32(b, 0);                      /* RSDT: below */
    acpi_append_u32(b, RSDP_SIZE);
    acpi_append_u64(b, 0);                      /* XSDT: below */
    acpi_append_u8(b, 0);                       /* extended checksum */
    acpi_append_zeros(b, 3);
}

static void fill_rsdp(GByteArray *b, size_t xsdt, size_t rsdt)
{
    acpi_set_u32(b, RSDP_RSDT_ADDRESS, blob_addr(rsdt));
    acpi_set_u64(b, RSDP_XSDT_ADDRESS, blob_addr(xsdt));
    acpi_set_u8(b, RSDP_CHECKSUM, acpi_checksum(b->data, RSDP_V1_SIZE));
    acpi_set_u8(b, RSDP_EXT_CHECKSUM, acpi_checksum(b->data, RSDP_SIZE));
}

typedef struct FindOne {
    const char *type;
    Object *found;
} FindOne;

static int find_one_cb(Object *obj, void *opaque)
{
    FindOne *f = opaque;

    if (object_dynamic_cast(obj, f->type) &&
        DEVICE(obj)->realized) {
        f->found = obj;
        return 1;
    }
    return 0;
}

/* The realized device of type on the machine; each vIOMMU refuses a
 * second instance at realize. */
static Object *find_one(const char *type)
{
    FindOne f = { .type = type };

    object_child_foreach_recursive(qdev_get_machine_or_root(), find_one_cb,
                                   &f);
    return f.found;
}

GByteArray *acpi_build_x86(const X86AcpiConfig *cfg, Error **errp)
{
    Object *vtd = find_one("intel-iommu");
    Object *viommu = find_one("virtio-iommu-pci");
    AcpiBlob blob;
    size_t dsdt, xsdt, rsdt;

    if (cfg->max_cpus > X86_XAPIC_MAX_CPUS) {
        error_setg(errp, "ACPI tables: %u CPUs do not fit the MADT's xAPIC "
                   "entries (at most %u)", cfg->max_cpus, X86_XAPIC_MAX_CPUS);
        return NULL;
    }
    blob.b = g_byte_array_new();
    blob.tables = g_array_new(false, false, sizeof(uint32_t));
    build_rsdp(blob.b);
    dsdt = build_dsdt(&blob, cfg);
    build_fadt(&blob, dsdt);
    build_madt(&blob, cfg);
    build_mcfg(&blob, cfg);
    if (vtd) {
        build_dmar(&blob, vtd);
    }
    if (viommu) {
        build_viot(&blob, PCI_DEVICE(viommu));
    }
    xsdt = build_sdt(&blob, "XSDT", true);
    rsdt = build_sdt(&blob, "RSDT", false);
    fill_rsdp(blob.b, xsdt, rsdt);
    g_array_free(blob.tables, true);

    if (blob.b->len > ACPI_X86_REGION_END - ACPI_X86_REGION_BASE) {
        error_setg(errp, "ACPI tables of %u bytes do not fit in "
                   "[0x%llx, 0x%llx)", blob.b->len, ACPI_X86_REGION_BASE,
                   ACPI_X86_REGION_END);
        g_byte_array_unref(blob.b);
        return NULL;
    }
    return blob.b;
}

bool acpi_setup_x86(const X86AcpiConfig *cfg, Error **errp)
{
    g_autoptr(GByteArray) b = acpi_build_x86(cfg, errp);
    size_t region = ACPI_X86_REGION_END - ACPI_X86_REGION_BASE;
    g_autofree uint8_t *image = NULL;

    if (!b) {
        return false;
    }
    image = g_malloc0(region);
    memcpy(image, b->data, b->len);
    if (address_space_write(&address_space_memory, ACPI_X86_REGION_BASE,
                            MEMTXATTRS_UNSPECIFIED, image, region)
        != MEMTX_OK) {
        error_setg(errp, "ACPI tables: no RAM at [0x%llx, 0x%llx)",
                   ACPI_X86_REGION_BASE, ACPI_X86_REGION_END);
        return false;
    }
    return true;
}
