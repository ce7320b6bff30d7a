/*
 * ACPI table building: a byte buffer (GByteArray) with little-endian
 * appenders, the common table header and checksums, and the subset of AML
 * that viommu's DSDT needs.  Tables are built at an offset inside one blob
 * that is later copied to guest memory; pointers between tables are
 * written once the blob's guest address is known.  See docs/acpi.md.
 */
#ifndef HW_ACPI_ACPI_BUILD_H
#define HW_ACPI_ACPI_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>

/* Identity written into every table header (docs/acpi.md). */
#define ACPI_OEM_ID             "VIOMMU"        /* 6 bytes */
#define ACPI_OEM_TABLE_ID       "VIOMMUPC"      /* 8 bytes */
#define ACPI_OEM_REVISION       1
#define ACPI_CREATOR_ID         "VIOM"          /* 4 bytes */
#define ACPI_CREATOR_REVISION   1

/* System description table header (ACPI 6.5, 5.2.6) */
#define ACPI_HDR_SIGNATURE      0
#define ACPI_HDR_LENGTH         4
#define ACPI_HDR_REVISION       8
#define ACPI_HDR_CHECKSUM       9
#define ACPI_HDR_OEM_ID         10
#define ACPI_HDR_OEM_TABLE_ID   16
#define ACPI_HDR_SIZE           36

/* Generic Address Structure (5.2.3.2): 12 bytes */
#define ACPI_GAS_SIZE           12
#define ACPI_GAS_SYSTEM_MEMORY  0
#define ACPI_GAS_SYSTEM_IO      1

void acpi_append_u8(GByteArray *b, uint8_t v);
void acpi_append_u16(GByteArray *b, uint16_t v);
void acpi_append_u32(GByteArray *b, uint32_t v);
void acpi_append_u64(GByteArray *b, uint64_t v);
void acpi_append_bytes(GByteArray *b, const void *data, size_t len);
void acpi_append_zeros(GByteArray *b, size_t len);
/* A fixed-width text field: str padded with spaces to width, not NUL
 * terminated. */
void acpi_append_text(GByteArray *b, const char *str, size_t width);
/* Zero-pads b to a multiple of align. */
void acpi_align(GByteArray *b, size_t align);

/* Overwrite bytes already appended (off + size <= b->len). */
void acpi_set_u8(GByteArray *b, size_t off, uint8_t v);
void acpi_set_u32(GByteArray *b, size_t off, uint32_t v);
void acpi_set_u64(GByteArray *b, size_t off, uint64_t v);

/* The byte that makes data[0..len) sum to zero once added. */
uint8_t acpi_checksum(const uint8_t *data, size_t len);

/*
 * Appends a table header (length and checksum still 0) for signature sig
 * and revision rev; returns the table's offset in b.  acpi_table_end()
 * sets the length from everything appended since and the checksum.
 */
size_t acpi_table_begin(GByteArray *b, const char *sig, uint8_t rev);
void acpi_table_end(GByteArray *b, size_t table);

/* Generic Address Structure: space, register bit width and offset,
 * access size (1 byte .. 4 qword, 0 undefined), address. */
void acpi_append_gas(GByteArray *b, uint8_t space, uint8_t bit_width,
                     uint8_t bit_offset, uint8_t access_size, uint64_t addr);

/* --- AML (ACPI 6.5, 20.2) ----------------------------------------------------
 *
 * Terms are appended to a GByteArray.  Names are one name segment of up
 * to four characters ("PCI0", "_HID"), padded with '_', optionally
 * preceded by '\' (the root).  Objects with a body (Scope, Device, Buffer)
 * take the body as a finished GByteArray and free it.
 */

/* A table with an AML body (DSDT, SSDT): header, then aml. */
void aml_append_table(GByteArray *b, const char *sig, uint8_t rev,
                      GByteArray *aml);
void aml_append_integer(GByteArray *b, uint64_t v);
void aml_append_name_string(GByteArray *b, const char *name);
/* Name(name, Integer) */
void aml_append_name_int(GByteArray *b, const char *name, uint64_t v);
/* Name(name, EisaId(id)); id is "ABC1234" (three letters, four hex). */
void aml_append_name_eisaid(GByteArray *b, const char *name, const char *id);
/* Name(name, Buffer) with body the buffer's bytes; body is freed. */
void aml_append_name_buffer(GByteArray *b, const char *name,
                            GByteArray *body);
/* Scope(name) { body } and Device(name) { body }; body is freed. */
void aml_append_scope(GByteArray *b, const char *name, GByteArray *body);
void aml_append_device(GByteArray *b, const char *name, GByteArray *body);
/* The 32-bit value of an EISA id ("PNP0A08" -> 0x080ad041). */
uint32_t aml_eisaid(const char *id);

/* Resource descriptors (6.4) for a ResourceTemplate buffer body. */
#define AML_RES_MEMORY          0
#define AML_RES_IO              1
#define AML_RES_BUS             2
void aml_res_io(GByteArray *b, uint16_t base, uint8_t len);
void aml_res_memory32_fixed(GByteArray *b, uint32_t base, uint32_t len);
/* A producer window [min, max] of type AML_RES_* (min and max fixed). */
void aml_res_word(GByteArray *b, uint8_t type, uint16_t min, uint16_t max);
void aml_res_dword(GByteArray *b, uint8_t type, uint32_t min, uint32_t max);
void aml_res_qword(GByteArray *b, uint8_t type, uint64_t min, uint64_t max);
/* The end tag; the template is complete after it. */
void aml_res_end(GByteArray *b);

#endif
