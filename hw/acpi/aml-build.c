/*
 * The subset of AML (ACPI 6.5, chapter 20) that viommu's DSDT uses:
 * integers, single-segment names, Name, Scope, Device, Buffer and the
 * resource descriptors of a ResourceTemplate (6.4).
 */
#include <string.h>

#include "hw/acpi/acpi-build.h"

#define AML_ZERO_OP             0x00
#define AML_ONE_OP              0x01
#define AML_BYTE_PREFIX         0x0a
#define AML_WORD_PREFIX         0x0b
#define AML_DWORD_PREFIX        0x0c
#define AML_QWORD_PREFIX        0x0e
#define AML_NAME_OP             0x08
#define AML_SCOPE_OP            0x10
#define AML_BUFFER_OP           0x11
#define AML_EXT_OP_PREFIX       0x5b
#define AML_DEVICE_OP           0x82            /* after the prefix */
#define AML_ROOT_CHAR           '\\'

/* Resource descriptor tags (6.4.2, 6.4.3) */
#define AML_RES_TAG_IO          0x47            /* small, 7 bytes of body */
#define AML_RES_TAG_END         0x79            /* small, 1 byte of body */
#define AML_RES_TAG_MEM32_FIXED 0x86
#define AML_RES_TAG_DWORD       0x87
#define AML_RES_TAG_WORD        0x88
#define AML_RES_TAG_QWORD       0x8a
/* Address space descriptor general flags: producer, positive decode,
 * minimum and maximum fixed. */
#define AML_RES_FLAGS_WINDOW    0x0c
/* Type-specific flags: memory read-write non-cacheable; I/O entire range */
#define AML_RES_MEM_RW          0x01
#define AML_RES_IO_ENTIRE       0x03

void aml_append_integer(GByteArray *b, uint64_t v)
{
    if (v == 0) {
        acpi_append_u8(b, AML_ZERO_OP);
    } else if (v == 1) {
        acpi_append_u8(b, AML_ONE_OP);
    } else if (v <= UINT8_MAX) {
        acpi_append_u8(b, AML_BYTE_PREFIX);
        acpi_append_u8(b, v);
    } else if (v <= UINT16_MAX) {
        acpi_append_u8(b, AML_WORD_PREFIX);
        acpi_append_u16(b, v);
    } else if (v <= UINT32_MAX) {
        acpi_append_u8(b, AML_DWORD_PREFIX);
        acpi_append_u32(b, v);
    } else {
        acpi_append_u8(b, AML_QWORD_PREFIX);
        acpi_append_u64(b, v);
    }
}

/* Names are ours (constants in the table builders), never input. */
void aml_append_name_string(GByteArray *b, const char *name)
{
    size_t len;

    if (*name == AML_ROOT_CHAR) {
        acpi_append_u8(b, AML_ROOT_CHAR);
        name++;
    }
    len = strlen(name);
    g_assert(len >= 1 && len <= 4 && !strchr(name, '.'));
    acpi_append_bytes(b, name, len);
    for (; len < 4; len++) {
        acpi_append_u8(b, '_');
    }
}

/*
 * PkgLength (20.2.4) counts itself: one byte up to 63, else a lead byte
 * with the byte count in bits 7:6 and the low nibble, then 8 bits each.
 */
static void aml_append_pkglength(GByteArray *b, size_t body_len)
{
    size_t n, total;

    if (body_len + 1 <= 0x3f) {
        acpi_append_u8(b, body_len + 1);
        return;
    }
    for (n = 2; n < 4; n++) {
        if (body_len + n < (1u << (4 + 8 * (n - 1)))) {
            break;
        }
    }
    total = body_len + n;
    g_assert(total < (1u << 28));
    acpi_append_u8(b, (n - 1) << 6 | (total & 0xf));
    for (size_t i = 1; i < n; i++) {
        acpi_append_u8(b, total >> (4 + 8 * (i - 1)));
    }
}

/* Opcode bytes, PkgLength, NameString, body (freed). */
static void aml_append_named_block(GByteArray *b, const uint8_t *op,
                                   size_t op_len, const char *name,
                                   GByteArray *body)
{
    g_autoptr(GByteArray) inner = g_byte_array_new();

    aml_append_name_string(inner, name);
    acpi_append_bytes(inner, body->data, body->len);
    g_byte_array_unref(body);
    acpi_append_bytes(b, op, op_len);
    aml_append_pkglength(b, inner->len);
    acpi_append_bytes(b, inner->data, inner->len);
}

void aml_append_scope(GByteArray *b, const char *name, GByteArray *body)
{
    static const uint8_t op[] = { AML_SCOPE_OP };

    aml_append_named_block(b, op, sizeof(op), name, body);
}

void aml_append_device(GByteArray *b, const char *name, GByteArray *body)
{
    static const uint8_t op[] = { AML_EXT_OP_PREFIX, AML_DEVICE_OP };

    aml_append_named_block(b, op, sizeof(op), name, body);
}

void aml_append_name_int(GByteArray *b, const char *name, uint64_t v)
{
    acpi_append_u8(b, AML_NAME_OP);
    aml_append_name_string(b, name);
    aml_append_integer(b, v);
}

/*
 * EISA id (19.6.35): three letters in 5 bits each, then four hex digits,
 * stored so that the bytes in memory read letters-high, letters-low,
 * product-high, product-low.
 */
uint32_t aml_eisaid(const char *id)
{
    uint16_t vendor, product;

    g_assert(strlen(id) == 7);
    vendor = (id[0] - 0x40) << 10 | (id[1] - 0x40) << 5 | (id[2] - 0x40);
    product = g_ascii_strtoull(id + 3, NULL, 16);
    return (uint32_t)(vendor >> 8) | (vendor & 0xff) << 8 |
           (uint32_t)(product >> 8) << 16 | (uint32_t)(product & 0xff) << 24;
}

void aml_append_name_eisaid(GByteArray *b, const char *name, const char *id)
{
    acpi_append_u8(b, AML_NAME_OP);
    aml_append_name_string(b, name);
    acpi_append_u8(b, AML_DWORD_PREFIX);        /* always 4 bytes */
    acpi_append_u32(b, aml_eisaid(id));
}

void aml_append_name_buffer(GByteArray *b, const char *name,
                            GByteArray *body)
{
    g_autoptr(GByteArray) inner = g_byte_array_new();

    aml_append_integer(inner, body->len);       /* BufferSize */
    acpi_append_bytes(inner, body->data, body->len);
    g_byte_array_unref(body);
    acpi_append_u8(b, AML_NAME_OP);
    aml_append_name_string(b, name);
    acpi_append_u8(b, AML_BUFFER_OP);
    aml_append_pkglength(b, inner->len);
    acpi_append_bytes(b, inner->data, inner->len);
}

void aml_append_table(GByteArray *b, const char *sig, uint8_t rev,
                      GByteArray *aml)
{
    size_t table = acpi_table_begin(b, sig, rev);

    acpi_append_bytes(b, aml->data, aml->len);
    g_byte_array_unref(aml);
    acpi_table_end(b, table);
}

/* --- Resource descriptors --------------------------------------------------- */

/* I/O port descriptor (6.4.2.5), 16-bit decode, fixed at base. */
void aml_res_io(GByteArray *b, uint16_t base, uint8_t len)
{
    acpi_append_u8(b, AML_RES_TAG_IO);
    acpi_append_u8(b, 1);                       /* decodes 16 bits */
    acpi_append_u16(b, base);                   /* minimum */
    acpi_append_u16(b, base);                   /* maximum */
    acpi_append_u8(b, 1);                       /* alignment */
    acpi_append_u8(b, len);
}

/* 32-bit fixed memory range descriptor (6.4.3.4), read-write. */
void aml_res_memory32_fixed(GByteArray *b, uint32_t base, uint32_t len)
{
    acpi_append_u8(b, AML_RES_TAG_MEM32_FIXED);
    acpi_append_u16(b, 9);
    acpi_append_u8(b, 1);                       /* read-write */
    acpi_append_u32(b, base);
    acpi_append_u32(b, len);
}

static uint8_t aml_res_type_flags(uint8_t type)
{
    return type == AML_RES_MEMORY ? AML_RES_MEM_RW :
           type == AML_RES_IO ? AML_RES_IO_ENTIRE : 0;
}

/* A little-endian value of width bytes. */
static void aml_append_le(GByteArray *b, unsigned width, uint64_t v)
{
    for (unsigned i = 0; i < width; i++) {
        acpi_append_u8(b, v >> (8 * i));
    }
}

/*
 * Address space descriptors (6.4.3.5.1-3): tag, length, type, flags,
 * then granularity, min, max, translation, length, each width bytes.
 */
static void aml_res_addr(GByteArray *b, uint8_t tag, unsigned width,
                         uint8_t type, uint64_t min, uint64_t max)
{
    acpi_append_u8(b, tag);
    acpi_append_u16(b, 3 + 5 * width);
    acpi_append_u8(b, type);
    acpi_append_u8(b, AML_RES_FLAGS_WINDOW);
    acpi_append_u8(b, aml_res_type_flags(type));
    aml_append_le(b, width, 0);
    aml_append_le(b, width, min);
    aml_append_le(b, width, max);
    aml_append_le(b, width, 0);
    aml_append_le(b, width, max - min + 1);
}

void aml_res_word(GByteArray *b, uint8_t type, uint16_t min, uint16_t max)
{
    aml_res_addr(b, AML_RES_TAG_WORD, 2, type, min, max);
}

void aml_res_dword(GByteArray *b, uint8_t type, uint32_t min, uint32_t max)
{
    aml_res_addr(b, AML_RES_TAG_DWORD, 4, type, min, max);
}

void aml_res_qword(GByteArray *b, uint8_t type, uint64_t min, uint64_t max)
{
    aml_res_addr(b, AML_RES_TAG_QWORD, 8, type, min, max);
}

/* End tag (6.4.2.9); checksum 0 means "treat as correct". */
void aml_res_end(GByteArray *b)
{
    acpi_append_u8(b, AML_RES_TAG_END);
    acpi_append_u8(b, 0);
}
