/*
 * ACPI tables written by the machine at reset (docs/acpi.md): the test
 * reads [0xE0000, 0x100000) through qtest as a guest without firmware
 * would, finds the RSDP by scanning 16-byte boundaries, checks every
 * checksum and length, walks XSDT and RSDT, and compares the MADT, MCFG,
 * DMAR and VIOT contents with what the devices really are: the I/O APIC
 * ID register, the ECAM window, the VT-d CAP/ECAP registers and the
 * virtio-iommu PCI address from query-pci.  -smp errors run the binary.
 */
#include <string.h>
#include <glib.h>

#include "libqtest.h"

#define REGION_BASE     0xe0000u
#define REGION_SIZE     0x20000u
#define HDR_SIZE        36
#define MAX_TABLES      16

#define IOAPIC_BASE     0xfec00000u
#define VTD_BASE        0xfed90000u
#define VTD_CAP         0x08
#define VTD_ECAP        0x10
#define ECAM_BASE       0xb0000000u

typedef struct Table {
    char sig[5];
    uint32_t addr;
    uint32_t len;
    const uint8_t *p;           /* into Acpi.mem */
} Table;

typedef struct Acpi {
    QTestState *s;
    uint8_t mem[REGION_SIZE];
    uint32_t rsdp;              /* guest address */
    Table tables[MAX_TABLES];   /* XSDT entries, then DSDT */
    int n;
} Acpi;

static uint16_t le16(const uint8_t *p)
{
    return p[0] | p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
    return le16(p) | (uint32_t)le16(p + 2) << 16;
}

static uint64_t le64(const uint8_t *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
    uint8_t s = 0;

    while (len--) {
        s += *p++;
    }
    return s;
}

/* The bytes at guest address addr, len of them inside the region. */
static const uint8_t *at(Acpi *a, uint64_t addr, uint64_t len)
{
    g_assert_cmpuint(addr, >=, REGION_BASE);
    g_assert_cmpuint(addr + len, <=, REGION_BASE + REGION_SIZE);
    return a->mem + (addr - REGION_BASE);
}

/* A table at addr: inside the region, length >= header, checksum 0. */
static Table check_table(Acpi *a, uint64_t addr)
{
    Table t = { .addr = addr };
    const uint8_t *h = at(a, addr, HDR_SIZE);

    memcpy(t.sig, h, 4);
    t.len = le32(h + 4);
    g_assert_cmpuint(t.len, >=, HDR_SIZE);
    t.p = at(a, addr, t.len);
    g_assert_cmpuint(sum(t.p, t.len), ==, 0);
    g_assert_cmpmem(t.p + 10, 6, "VIOMMU", 6);
    g_assert_cmpmem(t.p + 16, 8, "VIOMMUPC", 8);
    return t;
}

static void read_region(Acpi *a)
{
    qtest_memread(a->s, REGION_BASE, a->mem, REGION_SIZE);
}

/*
 * As a guest: the first "RSD PTR " on a 16-byte boundary with a valid
 * checksum; then XSDT (and the RSDT, which must list the same tables)
 * and the DSDT through the FADT.
 */
static void parse(Acpi *a)
{
    const uint8_t *r = NULL;
    Table xsdt, rsdt;
    int entries;

    a->n = 0;
    for (uint32_t off = 0; off + 36 <= REGION_SIZE; off += 16) {
        if (!memcmp(a->mem + off, "RSD PTR ", 8) &&
            sum(a->mem + off, 20) == 0) {
            r = a->mem + off;
            a->rsdp = REGION_BASE + off;
            break;
        }
    }
    g_assert_nonnull(r);
    g_assert_cmpuint(r[15], ==, 2);                 /* revision */
    g_assert_cmpuint(le32(r + 20), ==, 36);         /* length */
    g_assert_cmpuint(sum(r, 36), ==, 0);            /* extended checksum */

    xsdt = check_table(a, le64(r + 24));
    g_assert_cmpmem(xsdt.sig, 4, "XSDT", 4);
    rsdt = check_table(a, le32(r + 16));
    g_assert_cmpmem(rsdt.sig, 4, "RSDT", 4);
    entries = (xsdt.len - HDR_SIZE) / 8;
    g_assert_cmpuint(xsdt.len, ==, HDR_SIZE + 8 * entries);
    g_assert_cmpuint(rsdt.len, ==, HDR_SIZE + 4 * entries);
    g_assert_cmpint(entries, <, MAX_TABLES - 1);
    for (int i = 0; i < entries; i++) {
        uint64_t addr = le64(xsdt.p + HDR_SIZE + 8 * i);

        g_assert_cmpuint(le32(rsdt.p + HDR_SIZE + 4 * i), ==, addr);
        a->tables[a->n++] = check_table(a, addr);
    }
}

static const Table *find(Acpi *a, const char *sig)
{
    const Table *found = NULL;

    for (int i = 0; i < a->n; i++) {
        if (!memcmp(a->tables[i].sig, sig, 4)) {
            g_assert_null(found);                   /* listed once */
            found = &a->tables[i];
        }
    }
    return found;
}

/* FADT -> DSDT, added to the list for the overlap check. */
static const Table *dsdt(Acpi *a)
{
    const Table *fadt = find(a, "FACP");
    uint64_t x_dsdt;

    g_assert_nonnull(fadt);
    g_assert_cmpuint(fadt->len, ==, 276);
    g_assert_cmpuint(fadt->p[8], ==, 6);            /* revision */
    x_dsdt = le64(fadt->p + 140);
    g_assert_cmpuint(le32(fadt->p + 40), ==, x_dsdt);
    g_assert_true(le32(fadt->p + 112) & (1u << 20)); /* HW_REDUCED_ACPI */
    a->tables[a->n] = check_table(a, x_dsdt);
    g_assert_cmpmem(a->tables[a->n].sig, 4, "DSDT", 4);
    return &a->tables[a->n++];
}

/* RSDP, XSDT, RSDT and every table: disjoint and inside the region. */
static void check_no_overlap(Acpi *a)
{
    const uint8_t *r = at(a, a->rsdp, 36);
    uint64_t start[MAX_TABLES + 3], end[MAX_TABLES + 3];
    int n = 0;

    start[n] = a->rsdp;
    end[n++] = a->rsdp + 36;
    start[n] = le64(r + 24);
    end[n] = start[n] + le32(at(a, start[n], HDR_SIZE) + 4);
    n++;
    start[n] = le32(r + 16);
    end[n] = start[n] + le32(at(a, start[n], HDR_SIZE) + 4);
    n++;
    for (int i = 0; i < a->n; i++) {
        start[n] = a->tables[i].addr;
        end[n++] = a->tables[i].addr + a->tables[i].len;
    }
    for (int i = 0; i < n; i++) {
        g_assert_cmpuint(start[i], >=, REGION_BASE);
        g_assert_cmpuint(end[i], <=, REGION_BASE + REGION_SIZE);
        for (int j = i + 1; j < n; j++) {
            g_assert_true(end[i] <= start[j] || end[j] <= start[i]);
        }
    }
}

static void acpi_start(Acpi *a, const char *args)
{
    memset(a, 0, sizeof(*a));
    a->s = qtest_init(args);
    read_region(a);
    parse(a);
    dsdt(a);
    check_no_overlap(a);
}

static Acpi *acpi_new(const char *args)
{
    Acpi *a = g_new0(Acpi, 1);

    acpi_start(a, args);
    return a;
}

static void acpi_free(Acpi *a)
{
    qtest_quit(a->s);
    g_free(a);
}

static bool contains(const Table *t, const void *needle, size_t len)
{
    return memmem(t->p, t->len, needle, len) != NULL;
}

/* AML PkgLength at p: the length it encodes (counting itself). */
static uint32_t pkglength(const uint8_t *p, uint32_t *bytes)
{
    uint32_t n = (p[0] >> 6) + 1, len;

    if (n == 1) {
        *bytes = 1;
        return p[0] & 0x3f;
    }
    len = p[0] & 0xf;
    for (uint32_t i = 1; i < n; i++) {
        len |= (uint32_t)p[i] << (4 + 8 * (i - 1));
    }
    *bytes = n;
    return len;
}

/*
 * The DSDT's structure: Scope(\_SB) spanning the rest of the table, with
 * Device(PCI0) then Device(DRAC) filling it exactly; PCI0's _CRS buffer
 * is a list of resource descriptors ending with the end tag at its end.
 */
static void check_dsdt_aml(const Table *d)
{
    const uint8_t *p = d->p + HDR_SIZE, *end = d->p + d->len;
    const uint8_t *crs, *res, *buf_end;
    uint32_t n, len;

    g_assert_cmpuint(p[0], ==, 0x10);               /* ScopeOp */
    len = pkglength(p + 1, &n);
    g_assert_true(p + 1 + len == end);
    p += 1 + n;
    g_assert_cmpmem(p, 5, "\\_SB_", 5);
    p += 5;
    g_assert_cmpuint(p[0], ==, 0x5b);               /* DeviceOp */
    g_assert_cmpuint(p[1], ==, 0x82);
    len = pkglength(p + 2, &n);
    g_assert_cmpmem(p + 2 + n, 4, "PCI0", 4);
    g_assert_cmpuint(len, >, 63);                   /* a multi-byte one */
    p += 2 + len;
    g_assert_true(p < end);
    g_assert_cmpuint(p[0], ==, 0x5b);
    g_assert_cmpuint(p[1], ==, 0x82);
    len = pkglength(p + 2, &n);
    g_assert_cmpmem(p + 2 + n, 4, "DRAC", 4);
    g_assert_true(p + 2 + len == end);

    crs = memmem(d->p, d->len, "_CRS", 4);
    g_assert_nonnull(crs);
    g_assert_cmpuint(crs[4], ==, 0x11);             /* BufferOp */
    len = pkglength(crs + 5, &n);
    buf_end = crs + 5 + len;
    res = crs + 5 + n;
    if (res[0] == 0x0a) {                           /* ByteConst size */
        g_assert_true(res + 2 + res[1] == buf_end);
        res += 2;
    } else {
        g_assert_cmpuint(res[0], ==, 0x0b);         /* WordConst size */
        g_assert_true(res + 3 + le16(res + 1) == buf_end);
        res += 3;
    }
    g_assert_cmpuint(res[0], ==, 0x88);             /* WordBusNumber */
    g_assert_cmpuint(res[3], ==, 2);
    g_assert_cmpuint(le16(res + 8), ==, 0);
    g_assert_cmpuint(le16(res + 10), ==, 255);
    while (res[0] != 0x79) {                        /* end tag */
        if (res[0] == 0x87) {                       /* DWord memory */
            g_assert_cmphex(le32(res + 10), ==, 0xc0000000);
            g_assert_cmphex(le32(res + 14), ==, 0xfebfffff);
        }
        res += res[0] & 0x80 ? 3 + le16(res + 1) : 1 + (res[0] & 7);
        g_assert_true(res < buf_end);
    }
    g_assert_true(res + 2 == buf_end);
}

static void test_default_tables(void)
{
    Acpi *a = acpi_new("-M q35");
    const Table *d = &a->tables[a->n - 1];
    /* EisaId("PNP0A08") as an AML DWordConst, and the names */
    static const uint8_t pnp0a08[] = { 0x0c, 0x41, 0xd0, 0x0a, 0x08 };

    g_assert_cmpuint(a->rsdp, ==, REGION_BASE);
    g_assert_cmpint(a->n, ==, 4);                   /* 3 listed + DSDT */
    g_assert_nonnull(find(a, "APIC"));
    g_assert_nonnull(find(a, "MCFG"));
    g_assert_null(find(a, "DMAR"));
    g_assert_null(find(a, "VIOT"));
    g_assert_true(contains(d, "_SB_", 4));
    g_assert_true(contains(d, "PCI0", 4));
    g_assert_true(contains(d, pnp0a08, sizeof(pnp0a08)));
    g_assert_true(contains(d, "_BBN", 4));
    g_assert_true(contains(d, "_SEG", 4));
    check_dsdt_aml(d);
    acpi_free(a);
}

/* Local APIC entries: count, ids, how many enabled; I/O APIC and ISOs. */
static void check_madt(Acpi *a, unsigned cpus, unsigned max_cpus)
{
    const Table *m = find(a, "APIC");
    unsigned lapics = 0, enabled = 0, ioapics = 0, isos = 0;
    uint32_t ioapic_id;

    g_assert_nonnull(m);
    g_assert_cmpuint(le32(m->p + 36), ==, 0xfee00000);
    /* The ID register of the I/O APIC, as a guest reads it */
    qtest_writel(a->s, IOAPIC_BASE, 0);
    ioapic_id = qtest_readl(a->s, IOAPIC_BASE + 0x10) >> 24;

    for (uint32_t off = 44; off < m->len; off += m->p[off + 1]) {
        const uint8_t *e = m->p + off;

        g_assert_cmpuint(e[1], >=, 2);
        g_assert_cmpuint(off + e[1], <=, m->len);
        switch (e[0]) {
        case 0:                                     /* local APIC */
            g_assert_cmpuint(e[1], ==, 8);
            g_assert_cmpuint(e[2], ==, lapics);     /* uid */
            g_assert_cmpuint(e[3], ==, lapics);     /* APIC id */
            if (le32(e + 4) & 1) {
                g_assert_cmpuint(lapics, <, cpus);
                enabled++;
            } else {
                g_assert_cmpuint(le32(e + 4), ==, 2);   /* online capable */
            }
            lapics++;
            break;
        case 1:                                     /* I/O APIC */
            g_assert_cmpuint(e[1], ==, 12);
            g_assert_cmpuint(e[2], ==, ioapic_id);
            g_assert_cmpuint(le32(e + 4), ==, IOAPIC_BASE);
            g_assert_cmpuint(le32(e + 8), ==, 0);
            ioapics++;
            break;
        case 2:                                     /* source override */
            g_assert_cmpuint(e[1], ==, 10);
            g_assert_cmpuint(e[2], ==, 0);
            if (e[3] == 0) {
                g_assert_cmpuint(le32(e + 4), ==, 2);
                g_assert_cmpuint(le16(e + 8), ==, 0);
            } else {
                g_assert_cmpuint(e[3], ==, 9);
                g_assert_cmpuint(le32(e + 4), ==, 9);
                g_assert_cmpuint(le16(e + 8), ==, 0xd);  /* level, high */
            }
            isos++;
            break;
        }
    }
    g_assert_cmpuint(lapics, ==, max_cpus);
    g_assert_cmpuint(enabled, ==, cpus);
    g_assert_cmpuint(ioapics, ==, 1);
    g_assert_cmpuint(isos, ==, 2);
}

static void test_madt_smp1(void)
{
    Acpi *a = acpi_new("-M q35");

    check_madt(a, 1, 1);
    acpi_free(a);
}

static void test_madt_smp4(void)
{
    Acpi *a = acpi_new("-M q35 -smp 4");

    check_madt(a, 4, 4);
    acpi_free(a);
}

static void test_madt_maxcpus(void)
{
    Acpi *a = acpi_new("-M q35 -smp cpus=2,maxcpus=4");

    check_madt(a, 2, 4);
    acpi_free(a);
}

static void test_madt_topology(void)
{
    Acpi *a = acpi_new("-M q35 -smp sockets=2,cores=3,threads=2");

    check_madt(a, 12, 12);
    acpi_free(a);
}

static void test_madt_max(void)
{
    Acpi *a = acpi_new("-M q35 -smp 255");

    check_madt(a, 255, 255);
    acpi_free(a);
}

/* MCFG: the ECAM window, which really answers: 00:00.0 is the MCH. */
static void test_mcfg(void)
{
    Acpi *a = acpi_new("-M q35");
    const Table *m = find(a, "MCFG");
    const uint8_t *e;
    uint64_t base;

    g_assert_nonnull(m);
    g_assert_cmpuint(m->len, ==, 44 + 16);
    e = m->p + 44;
    base = le64(e);
    g_assert_cmpuint(base, ==, ECAM_BASE);
    g_assert_cmpuint(le16(e + 8), ==, 0);           /* segment */
    g_assert_cmpuint(e[10], ==, 0);
    g_assert_cmpuint(e[11], ==, 255);
    g_assert_cmphex(qtest_readl(a->s, base), ==, 0x29c08086);
    acpi_free(a);
}

/*
 * DMAR for intel-iommu with props: HAW, flags as the VT-d registers at
 * the DRHD base say (CAP.MGAW, ECAP.IR/EIM), INCLUDE_PCI_ALL, and the
 * I/O APIC scope (its MADT id; source 00:1e.0 as docs/pci.md gives).
 */
static void check_dmar(const char *props, unsigned aw, bool ir, bool eim,
                       bool atsr)
{
    g_autofree char *args = g_strdup_printf("-M q35 -device intel-iommu%s",
                                            props);
    Acpi *a = acpi_new(args);
    const Table *d = find(a, "DMAR");
    const Table *madt = find(a, "APIC");
    const uint8_t *drhd, *scope;
    uint64_t cap, ecap;
    uint8_t flags;
    uint32_t off;

    g_assert_nonnull(d);
    g_assert_null(find(a, "VIOT"));
    g_assert_cmpuint(d->p[8], ==, 1);
    g_assert_cmpuint(d->p[36], ==, aw - 1);
    flags = d->p[37];
    g_assert_cmpuint(flags, ==, (ir ? 1 : 0) | (ir && !eim ? 2 : 0));

    drhd = d->p + 48;
    g_assert_cmpuint(le16(drhd), ==, 0);            /* DRHD */
    g_assert_cmpuint(le16(drhd + 2), ==, 24);
    g_assert_cmpuint(drhd[4], ==, 1);               /* INCLUDE_PCI_ALL */
    g_assert_cmpuint(drhd[5], ==, 0);
    g_assert_cmpuint(le16(drhd + 6), ==, 0);
    g_assert_cmphex(le64(drhd + 8), ==, VTD_BASE);
    cap = qtest_readq(a->s, le64(drhd + 8) + VTD_CAP);
    ecap = qtest_readq(a->s, le64(drhd + 8) + VTD_ECAP);
    g_assert_cmpuint(((cap >> 16) & 0x3f) + 1, ==, d->p[36] + 1);
    g_assert_cmpuint(!!(ecap & (1u << 3)), ==, !!(flags & 1));
    if (flags & 1) {
        g_assert_cmpuint(!!(ecap & (1u << 4)), ==, !(flags & 2));
    }

    scope = drhd + 16;
    g_assert_cmpuint(scope[0], ==, 3);              /* IOAPIC */
    g_assert_cmpuint(scope[1], ==, 8);
    g_assert_cmpuint(scope[4], ==, madt->p[44 + 8 + 2]); /* MADT IOAPIC id */
    g_assert_cmpuint(scope[5], ==, 0);              /* bus */
    g_assert_cmpuint(scope[6], ==, 0x1e);           /* device */
    g_assert_cmpuint(scope[7], ==, 0);              /* function */

    off = 48 + 24;
    if (atsr) {
        const uint8_t *t = d->p + off;

        g_assert_cmpuint(le16(t), ==, 2);
        g_assert_cmpuint(le16(t + 2), ==, 8);
        g_assert_cmpuint(t[4], ==, 1);              /* ALL_PORTS */
        g_assert_cmpuint(le16(t + 6), ==, 0);
        off += 8;
    }
    g_assert_cmpuint(d->len, ==, off);
    acpi_free(a);
}

static void test_dmar_default(void)
{
    check_dmar("", 48, true, true, false);
}

static void test_dmar_intremap_off(void)
{
    check_dmar(",intremap=off", 48, false, false, false);
}

static void test_dmar_eim_off(void)
{
    check_dmar(",intremap=on,eim=off", 48, true, false, false);
}

static void test_dmar_aw39(void)
{
    check_dmar(",aw-bits=39,intremap=on", 39, true, true, false);
}

static void test_dmar_atsr(void)
{
    check_dmar(",device-iotlb=on", 48, true, true, true);
}

/* query-pci: bus and devfn of the function with qdev id. */
static bool find_pci(JsonArray *devices, const char *id, int *bus,
                     int *devfn)
{
    for (guint i = 0; i < json_array_get_length(devices); i++) {
        JsonObject *d = json_array_get_object_element(devices, i);

        if (json_object_has_member(d, "qdev_id") &&
            !strcmp(json_object_get_string_member(d, "qdev_id"), id)) {
            *bus = json_object_get_int_member(d, "bus");
            *devfn = json_object_get_int_member(d, "slot") << 3 |
                     json_object_get_int_member(d, "function");
            return true;
        }
        if (json_object_has_member(d, "pci_bridge")) {
            JsonObject *br = json_object_get_object_member(d, "pci_bridge");

            if (json_object_has_member(br, "devices") &&
                find_pci(json_object_get_array_member(br, "devices"), id,
                         bus, devfn)) {
                return true;
            }
        }
    }
    return false;
}

static void check_viot(const char *args)
{
    Acpi *a = acpi_new(args);
    const Table *v = find(a, "VIOT");
    JsonObject *rsp = qtest_qmp(a->s, "{\"execute\": \"query-pci\"}");
    JsonArray *buses = json_node_get_array(qmp_expect_return(rsp));
    const uint8_t *n;
    int bus = -1, devfn = -1;

    g_assert_true(find_pci(json_object_get_array_member(
        json_array_get_object_element(buses, 0), "devices"), "viommu",
        &bus, &devfn));
    json_object_unref(rsp);
    /* The PCI function really is the virtio-iommu (1af4:1057). */
    g_assert_cmphex(qpci_config_readl(a->s, bus, devfn, 0), ==, 0x10571af4);

    g_assert_nonnull(v);
    g_assert_null(find(a, "DMAR"));
    g_assert_cmpuint(v->p[8], ==, 0);
    g_assert_cmpuint(le16(v->p + 36), ==, 2);       /* nodes */
    g_assert_cmpuint(le16(v->p + 38), ==, 48);
    g_assert_cmpuint(v->len, ==, 48 + 16 + 24);

    n = v->p + 48;                                  /* virtio-pci IOMMU */
    g_assert_cmpuint(n[0], ==, 3);
    g_assert_cmpuint(le16(n + 2), ==, 16);
    g_assert_cmpuint(le16(n + 4), ==, 0);
    g_assert_cmphex(le16(n + 6), ==, bus << 8 | devfn);

    n = v->p + 64;                                  /* PCI range */
    g_assert_cmpuint(n[0], ==, 1);
    g_assert_cmpuint(le16(n + 2), ==, 24);
    g_assert_cmpuint(le32(n + 4), ==, 0);           /* endpoint = BDF */
    g_assert_cmpuint(le16(n + 8), ==, 0);
    g_assert_cmpuint(le16(n + 10), ==, 0);
    g_assert_cmphex(le16(n + 12), ==, 0);
    g_assert_cmphex(le16(n + 14), ==, 0xffff);
    g_assert_cmpuint(le16(n + 16), ==, 48);         /* output node */
    acpi_free(a);
}

static void test_viot_root_bus(void)
{
    check_viot("-M q35 -device virtio-iommu-pci,id=viommu,addr=05.0");
}

static void test_viot_behind_root_port(void)
{
    check_viot("-M q35 -device pcie-root-port,id=rp0,addr=04.0 "
               "-device virtio-iommu-pci,id=viommu,bus=rp0");
}

/* A guest overwrote the region: system_reset writes the same bytes. */
static void test_reset_rewrites(void)
{
    Acpi *a = acpi_new("-M q35 -smp 3 -device intel-iommu,intremap=on");
    g_autofree uint8_t *before = g_memdup2(a->mem, REGION_SIZE);

    qtest_memset(a->s, REGION_BASE, 0xa5, REGION_SIZE);
    read_region(a);
    g_assert_cmpuint(a->mem[0], ==, 0xa5);
    qtest_qmp_assert_success(a->s, "{\"execute\": \"system_reset\"}");
    qtest_qmp_eventwait(a->s, "RESET");
    read_region(a);
    g_assert_cmpmem(a->mem, REGION_SIZE, before, REGION_SIZE);
    acpi_free(a);
}

/*
 * -smp is checked before the qtest socket is opened, so one that cannot be
 * opened makes a wrongly accepted -smp exit 1 at once, with a message that
 * is not msg, rather than run until qtest_run_binary()'s timeout.
 */
static void expect_smp_error(const char *args, const char *msg)
{
    g_autofree char *full = g_strconcat(args, " -qtest unix:/nonexistent/"
                                        "test-acpi.sock", NULL);

    qtest_expect_startup_error(full, msg);
}

static void test_smp_errors(void)
{
    expect_smp_error("-M q35 -smp 256",
                     "-smp: Invalid SMP CPUs 256. The max CPUs supported "
                     "by machine 'q35' is 255");
    expect_smp_error("-M q35 -smp 2,maxcpus=300",
                     "Invalid SMP CPUs 300. The max CPUs supported by "
                     "machine 'q35' is 255");
    expect_smp_error("-M none -smp 2",
                     "Invalid SMP CPUs 2. The max CPUs supported by "
                     "machine 'none' is 1");
    expect_smp_error("-M q35 -smp 4,maxcpus=2",
                     "maxcpus must be equal to or greater than smp");
    expect_smp_error("-M q35 -smp 4,sockets=3,cores=2,maxcpus=8",
                     "product of the hierarchy must match maxcpus");
    expect_smp_error("-M q35 -smp 0",
                     "CPU topology parameters must be greater than zero");
    expect_smp_error("-M q35 -smp four",
                     "Parameter 'cpus' expects an integer");
    expect_smp_error("-M q35 -smp -1", "expects an integer");
    expect_smp_error("-M q35 -smp 99999999999999999999",
                     "expects an integer");
    expect_smp_error("-M q35 -smp sockets=4294967296,cores=4294967296,"
                     "threads=4294967296", "more than 2^64 CPUs");
    expect_smp_error("-M q35 -smp 2,nodes=1", "Invalid parameter 'nodes'");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/acpi/tables/default", test_default_tables);
    g_test_add_func("/acpi/madt/smp-1", test_madt_smp1);
    g_test_add_func("/acpi/madt/smp-4", test_madt_smp4);
    g_test_add_func("/acpi/madt/maxcpus-online-capable", test_madt_maxcpus);
    g_test_add_func("/acpi/madt/topology", test_madt_topology);
    g_test_add_func("/acpi/madt/smp-255", test_madt_max);
    g_test_add_func("/acpi/mcfg/ecam", test_mcfg);
    g_test_add_func("/acpi/dmar/default", test_dmar_default);
    g_test_add_func("/acpi/dmar/intremap-off", test_dmar_intremap_off);
    g_test_add_func("/acpi/dmar/eim-off-x2apic-opt-out", test_dmar_eim_off);
    g_test_add_func("/acpi/dmar/aw-bits-39", test_dmar_aw39);
    g_test_add_func("/acpi/dmar/device-iotlb-atsr", test_dmar_atsr);
    g_test_add_func("/acpi/viot/root-bus", test_viot_root_bus);
    g_test_add_func("/acpi/viot/behind-root-port",
                    test_viot_behind_root_port);
    g_test_add_func("/acpi/reset/rewritten-identically", test_reset_rewrites);
    g_test_add_func("/acpi/smp/errors", test_smp_errors);
    return g_test_run();
}
