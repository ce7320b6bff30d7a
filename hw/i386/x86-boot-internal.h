/*
 * Shared by the x86 loaders (x86-boot.c, multiboot.c, linux-boot.c,
 * pvh.c): the image under construction and the helpers every format uses.
 */
#ifndef HW_I386_X86_BOOT_INTERNAL_H
#define HW_I386_X86_BOOT_INTERNAL_H

#include <inttypes.h>
#include <glib.h>

#include "hw/i386/x86-boot.h"

/* E820 types (ACPI 6.5 table 15.6) */
#define E820_RAM                1
#define E820_RESERVED           2

#define X86_BOOT_MAX_E820       4
#define X86_4G                  0x100000000ULL
#define X86_PAGE_SIZE           0x1000ULL
#define X86_PAGE_ALIGN(x)       (((x) + X86_PAGE_SIZE - 1) & ~(X86_PAGE_SIZE - 1))

/* One contiguous piece of guest memory: len bytes of data, then zero_len
 * zero bytes (an ELF segment's bss). */
typedef struct X86BootBlob {
    uint64_t addr;
    uint8_t *data;
    uint64_t len;
    uint64_t zero_len;
} X86BootBlob;

typedef struct X86BootE820 {
    uint64_t addr, size;
    uint32_t type;
} X86BootE820;

struct X86BootImage {
    X86BootFormat format;
    X86BootState state;
    GArray *blobs;                  /* of X86BootBlob */
    /* Where the RSDP address goes once ACPI is written: a u64 field in
     * guest memory, or 0 for none. */
    uint64_t rsdp_field_addr;
    /* Loader inputs the formats read. */
    const X86BootConfig *cfg;
    const uint8_t *file;
    size_t file_size;
    uint64_t strings_next;          /* next free byte of the strings area */
};

/* The file, as the loaders see it. */
static inline uint16_t x86_boot_lduw(const uint8_t *p)
{
    return p[0] | (uint16_t)p[1] << 8;
}

static inline uint32_t x86_boot_ldl(const uint8_t *p)
{
    return x86_boot_lduw(p) | (uint32_t)x86_boot_lduw(p + 2) << 16;
}

static inline uint64_t x86_boot_ldq(const uint8_t *p)
{
    return x86_boot_ldl(p) | (uint64_t)x86_boot_ldl(p + 4) << 32;
}

static inline void x86_boot_stw(uint8_t *p, uint16_t v)
{
    p[0] = v;
    p[1] = v >> 8;
}

static inline void x86_boot_stl(uint8_t *p, uint32_t v)
{
    x86_boot_stw(p, v);
    x86_boot_stw(p + 2, v >> 16);
}

static inline void x86_boot_stq(uint8_t *p, uint64_t v)
{
    x86_boot_stl(p, v);
    x86_boot_stl(p + 4, v >> 32);
}

/*
 * Adds a blob; data is copied.  Checks that [addr, addr + len + zero_len)
 * is guest RAM and, unless it is the loader's own structure (internal),
 * that it stays out of the boot area and the reserved low range.
 */
bool x86_boot_add_blob(X86BootImage *img, const char *what, uint64_t addr,
                       const void *data, uint64_t len, uint64_t zero_len,
                       bool internal, Error **errp);
/* Copies a NUL-terminated string into the strings area; its address. */
bool x86_boot_add_string(X86BootImage *img, const char *s, uint64_t *addr,
                         Error **errp);
/*
 * Reads -initrd and places it page-aligned as high as it fits below max
 * (QEMU's rule), but not below kernel_end.
 */
bool x86_boot_add_initrd(X86BootImage *img, uint64_t max, uint64_t kernel_end,
                         uint64_t *addr, uint64_t *size, Error **errp);
/* The memory map of the shared contract (docs/boot.md); returns count. */
unsigned x86_boot_e820(const X86BootImage *img, X86BootE820 *map);
/* Whether [addr, addr + len) is guest RAM; false on overflow. */
bool x86_boot_range_is_ram(const X86BootImage *img, uint64_t addr,
                           uint64_t len);
/* Flat 32-bit entry state with the common GDT (multiboot, PVH). */
void x86_boot_state_prot32(X86BootState *st, uint32_t entry);
/* Long mode, paging on with cr3 (Linux 64-bit entry). */
void x86_boot_state_long64(X86BootState *st, uint64_t entry, uint64_t cr3);
/* Reads a whole regular file no larger than guest RAM; false with errno
 * set otherwise. */
bool x86_boot_read_file(const X86BootImage *img, const char *path,
                        uint8_t **data, size_t *size);
/* The GDT blob at X86_BOOT_GDT_ADDR. */
bool x86_boot_add_gdt(X86BootImage *img, Error **errp);

/* ELF program headers, normalised for ELF32 and ELF64. */
typedef struct X86BootElfPhdr {
    uint32_t type;
    uint64_t offset, vaddr, paddr, filesz, memsz;
} X86BootElfPhdr;

typedef struct X86BootElf {
    bool is64;
    uint16_t machine;
    uint64_t entry;
    unsigned phnum;
    X86BootElfPhdr *phdrs;          /* g_free() */
} X86BootElf;

#define ELF_PT_LOAD             1
#define ELF_PT_NOTE             4
#define ELF_EM_386              3
#define ELF_EM_X86_64           62

/* Whether the file starts with the ELF magic. */
bool x86_boot_is_elf(const uint8_t *file, size_t size);
/* Parses the ELF header and program headers; every offset and size is
 * checked against the file. */
bool x86_boot_elf_parse(const uint8_t *file, size_t size, X86BootElf *elf,
                        Error **errp);
/* Adds every PT_LOAD segment at its physical address. */
bool x86_boot_elf_load(X86BootImage *img, const X86BootElf *elf,
                       uint64_t *low, uint64_t *high, Error **errp);

/* The formats: each returns false with errp set if the image is bad. */
bool x86_boot_multiboot_find(const uint8_t *file, size_t size);
bool x86_boot_multiboot_load(X86BootImage *img, Error **errp);
bool x86_boot_linux_detect(const uint8_t *file, size_t size);
bool x86_boot_linux_load(X86BootImage *img, Error **errp);
/* 1 found (entry set), 0 no note, -1 malformed (errp set) */
int x86_boot_pvh_find_entry(const uint8_t *file, size_t size,
                            const X86BootElf *elf, uint32_t *entry,
                            Error **errp);
bool x86_boot_pvh_load(X86BootImage *img, const X86BootElf *elf,
                       uint32_t entry, Error **errp);

#endif
