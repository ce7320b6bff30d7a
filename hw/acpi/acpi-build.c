/*
 * ACPI table building blocks: little-endian appenders, the table header
 * and checksums.  See include/hw/acpi/acpi-build.h.
 */
#include <string.h>

#include "hw/acpi/acpi-build.h"

void acpi_append_u8(GByteArray *b, uint8_t v)
{
    g_byte_array_append(b, &v, 1);
}

void acpi_append_u16(GByteArray *b, uint16_t v)
{
    uint8_t le[2] = { v, v >> 8 };

    g_byte_array_append(b, le, sizeof(le));
}

void acpi_append_u32(GByteArray *b, uint32_t v)
{
    acpi_append_u16(b, v);
    acpi_append_u16(b, v >> 16);
}

void acpi_append_u64(GByteArray *b, uint64_t v)
{
    acpi_append_u32(b, v);
    acpi_append_u32(b, v >> 32);
}

void acpi_append_bytes(GByteArray *b, const void *data, size_t len)
{
    g_byte_array_append(b, data, len);
}

void acpi_append_zeros(GByteArray *b, size_t len)
{
    size_t old = b->len;

    g_byte_array_set_size(b, old + len);
    memset(b->data + old, 0, len);
}

void acpi_append_text(GByteArray *b, const char *str, size_t width)
{
    size_t len = strlen(str);

    for (size_t i = 0; i < width; i++) {
        acpi_append_u8(b, i < len ? str[i] : ' ');
    }
}

void acpi_align(GByteArray *b, size_t align)
{
    acpi_append_zeros(b, (align - b->len % align) % align);
}

void acpi_set_u8(GByteArray *b, size_t off, uint8_t v)
{
    g_assert(off < b->len);
    b->data[off] = v;
}

void acpi_set_u32(GByteArray *b, size_t off, uint32_t v)
{
    g_assert(off + 4 <= b->len);
    for (int i = 0; i < 4; i++) {
        b->data[off + i] = v >> (8 * i);
    }
}

void acpi_set_u64(GByteArray *b, size_t off, uint64_t v)
{
    acpi_set_u32(b, off, v);
    acpi_set_u32(b, off + 4, v >> 32);
}

uint8_t acpi_checksum(const uint8_t *data, size_t len)
{
    uint8_t sum = 0;

    for (size_t i = 0; i < len; i++) {
        sum += data[i];
    }
    return -sum;
}

size_t acpi_table_begin(GByteArray *b, const char *sig, uint8_t rev)
{
    size_t table = b->len;

    g_assert(strlen(sig) == 4);
    acpi_append_bytes(b, sig, 4);
    acpi_append_u32(b, 0);                      /* length: table_end */
    acpi_append_u8(b, rev);
    acpi_append_u8(b, 0);                       /* checksum: table_end */
    acpi_append_text(b, ACPI_OEM_ID, 6);
    acpi_append_text(b, ACPI_OEM_TABLE_ID, 8);
    acpi_append_u32(b, ACPI_OEM_REVISION);
    acpi_append_text(b, ACPI_CREATOR_ID, 4);
    acpi_append_u32(b, ACPI_CREATOR_REVISION);
    return table;
}

void acpi_table_end(GByteArray *b, size_t table)
{
    size_t len = b->len - table;

    acpi_set_u32(b, table + ACPI_HDR_LENGTH, len);
    acpi_set_u8(b, table + ACPI_HDR_CHECKSUM, 0);
    acpi_set_u8(b, table + ACPI_HDR_CHECKSUM,
                acpi_checksum(b->data + table, len));
}

void acpi_append_gas(GByteArray *b, uint8_t space, uint8_t bit_width,
                     uint8_t bit_offset, uint8_t access_size, uint64_t addr)
{
    acpi_append_u8(b, space);
    acpi_append_u8(b, bit_width);
    acpi_append_u8(b, bit_offset);
    acpi_append_u8(b, access_size);
    acpi_append_u64(b, addr);
}
