/* ACPI table lookup: RSDP in 0xE0000-0xFFFFF, then the XSDT (or RSDT). */
#include "guest.h"

struct rsdp {
    char signature[8];
    uint8_t checksum;
    char oem_id[6];
    uint8_t revision;
    uint32_t rsdt;
    uint32_t length;
    uint64_t xsdt;
    uint8_t ext_checksum;
    uint8_t reserved[3];
} __attribute__((packed));

static bool checksum_ok(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint8_t sum = 0;

    for (size_t i = 0; i < n; i++) {
        sum += b[i];
    }
    return sum == 0;
}

static const struct rsdp *find_rsdp(void)
{
    for (uint64_t a = 0xe0000; a < 0x100000; a += 16) {
        const struct rsdp *r = (const void *)a;

        if (!memcmp(r->signature, "RSD PTR ", 8) && checksum_ok(r, 20)) {
            return r;
        }
    }
    return NULL;
}

const struct acpi_header *acpi_find_table(const char *sig)
{
    const struct rsdp *r = find_rsdp();
    const struct acpi_header *sdt;
    bool x;
    unsigned int n, width;

    if (!r) {
        return NULL;
    }
    x = r->revision >= 2 && r->xsdt;
    sdt = (const void *)(x ? r->xsdt : (uint64_t)r->rsdt);
    if (!sdt || sdt->length < sizeof(*sdt) || sdt->length > 0x10000 ||
        !checksum_ok(sdt, sdt->length)) {
        return NULL;
    }
    width = x ? 8 : 4;
    n = (sdt->length - sizeof(*sdt)) / width;
    for (unsigned int i = 0; i < n; i++) {
        const uint8_t *e = (const uint8_t *)(sdt + 1) + i * width;
        uint64_t a = 0;
        const struct acpi_header *t;

        memcpy(&a, e, width);
        t = (const void *)a;
        if (a && a < (1ULL << 32) && !memcmp(t->signature, sig, 4)) {
            return t;
        }
    }
    return NULL;
}
