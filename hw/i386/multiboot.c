/*
 * Multiboot 1 (Multiboot Specification 0.6.96, control_boot_facts G):
 * the OS image header, ELF32 or a.out-kludge loading, modules from
 * -initrd, and the information structure a firmware-less loader gives.
 *
 * "ELF32-wrapped 64-bit programs" (kvm-unit-tests' .flat files: an ELF64
 * objcopied to elf32-i386 whose 32-bit entry stub enters long mode itself)
 * need nothing special: their segments are loaded like any ELF32's.
 */
#include <errno.h>
#include <string.h>

#include "util/cutils.h"
#include "x86-boot-internal.h"

/* OS image header (spec 3.1.1) */
#define MB_MAGIC                0x1badb002
#define MB_SEARCH               8192
#define MB_FLAG_PAGE_ALIGN      (1u << 0)
#define MB_FLAG_MEMORY          (1u << 1)
#define MB_FLAG_VIDEO           (1u << 2)
#define MB_FLAG_AOUT_KLUDGE     (1u << 16)
#define MB_FLAGS_KNOWN          (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY | \
                                 MB_FLAG_VIDEO)
#define MB_HDR_HEADER_ADDR      12
#define MB_HDR_LOAD_ADDR        16
#define MB_HDR_LOAD_END_ADDR    20
#define MB_HDR_BSS_END_ADDR     24
#define MB_HDR_ENTRY_ADDR       28
#define MB_HDR_AOUT_SIZE        32

/* Information structure (spec 3.3) */
#define MB_BOOTLOADER_MAGIC     0x2badb002
#define MBI_FLAGS               0
#define MBI_MEM_LOWER           4
#define MBI_MEM_UPPER           8
#define MBI_BOOT_DEVICE         12
#define MBI_CMDLINE             16
#define MBI_MODS_COUNT          20
#define MBI_MODS_ADDR           24
#define MBI_MMAP_LENGTH         44
#define MBI_MMAP_ADDR           48
#define MBI_BOOT_LOADER_NAME    64
#define MBI_SIZE                88
#define MBI_FLAG_MEMORY         (1u << 0)
#define MBI_FLAG_BOOT_DEVICE    (1u << 1)
#define MBI_FLAG_CMDLINE        (1u << 2)
#define MBI_FLAG_MODS           (1u << 3)
#define MBI_FLAG_MMAP           (1u << 6)
#define MBI_FLAG_LOADER_NAME    (1u << 9)
#define MBI_BOOT_DEVICE_NONE    0x8000ffff      /* as QEMU */
#define MB_MOD_SIZE             16
#define MB_MMAP_ENTRY_SIZE      20              /* excludes the size field */
#define MB_LOADER_NAME          "viommu"

/* Offset of a valid header, or -1. */
static long multiboot_header_offset(const uint8_t *file, size_t size)
{
    size_t end = MIN(size, (size_t)MB_SEARCH);

    for (size_t off = 0; off + 12 <= end; off += 4) {
        uint32_t magic = x86_boot_ldl(file + off);
        uint32_t flags = x86_boot_ldl(file + off + 4);
        uint32_t sum = x86_boot_ldl(file + off + 8);

        if (magic == MB_MAGIC && (uint32_t)(magic + flags + sum) == 0) {
            return off;
        }
    }
    return -1;
}

bool x86_boot_multiboot_find(const uint8_t *file, size_t size)
{
    return multiboot_header_offset(file, size) >= 0;
}

/* The a.out kludge (spec 3.1.3): the address fields say what to load. */
static bool multiboot_load_aout(X86BootImage *img, size_t hdr,
                                uint32_t *entry, uint64_t *end, Error **errp)
{
    const uint8_t *h = img->file + hdr;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr;
    uint64_t text_offset, load_size, mem_size;

    if (hdr + MB_HDR_AOUT_SIZE > MIN(img->file_size, (size_t)MB_SEARCH)) {
        error_setg(errp, "multiboot header address fields are truncated");
        return false;
    }
    header_addr = x86_boot_ldl(h + MB_HDR_HEADER_ADDR);
    load_addr = x86_boot_ldl(h + MB_HDR_LOAD_ADDR);
    load_end_addr = x86_boot_ldl(h + MB_HDR_LOAD_END_ADDR);
    bss_end_addr = x86_boot_ldl(h + MB_HDR_BSS_END_ADDR);
    *entry = x86_boot_ldl(h + MB_HDR_ENTRY_ADDR);

    if (header_addr < load_addr) {
        error_setg(errp, "invalid load_addr address");
        return false;
    }
    if (header_addr - load_addr > hdr) {
        error_setg(errp, "invalid header_addr address");
        return false;
    }
    text_offset = hdr - (header_addr - load_addr);
    if (load_end_addr) {
        if (load_end_addr < load_addr) {
            error_setg(errp, "invalid load_end_addr address");
            return false;
        }
        load_size = load_end_addr - load_addr;
    } else {
        load_size = img->file_size - text_offset;
    }
    if (load_size > img->file_size - text_offset) {
        error_setg(errp, "load_end_addr 0x%x is beyond the end of the file",
                   load_end_addr);
        return false;
    }
    if (bss_end_addr) {
        if (bss_end_addr < load_addr + load_size) {
            error_setg(errp, "invalid bss_end_addr address");
            return false;
        }
        mem_size = bss_end_addr - load_addr;
    } else {
        mem_size = load_size;
    }
    if (!x86_boot_add_blob(img, "multiboot kernel", load_addr,
                           img->file + text_offset, load_size,
                           mem_size - load_size, false, errp)) {
        return false;
    }
    *end = load_addr + mem_size;
    return true;
}

static bool multiboot_load_elf(X86BootImage *img, uint32_t *entry,
                               uint64_t *end, Error **errp)
{
    X86BootElf elf;
    uint64_t low;
    bool ok = false;

    if (!x86_boot_is_elf(img->file, img->file_size)) {
        error_setg(errp, "multiboot kernel is not ELF and its header has no "
                   "address fields (flag 16)");
        return false;
    }
    if (!x86_boot_elf_parse(img->file, img->file_size, &elf, errp)) {
        return false;
    }
    if (elf.is64) {
        error_setg(errp, "Cannot load x86-64 image, give a 32bit one.");
    } else if (elf.machine != ELF_EM_386) {
        error_setg(errp, "multiboot ELF machine %u is not i386 (3)",
                   elf.machine);
    } else if (x86_boot_elf_load(img, &elf, &low, end, errp)) {
        /* A virtual entry point becomes physical through its segment. */
        *entry = elf.entry;
        for (unsigned i = 0; i < elf.phnum; i++) {
            const X86BootElfPhdr *ph = &elf.phdrs[i];

            if (ph->type == ELF_PT_LOAD && elf.entry >= ph->vaddr &&
                elf.entry - ph->vaddr < ph->memsz) {
                *entry = elf.entry - ph->vaddr + ph->paddr;
                break;
            }
        }
        ok = true;
    }
    g_free(elf.phdrs);
    return ok;
}

/*
 * -initrd "file1 args,file2 args": comma-separated, ",," is a literal
 * comma (qemu_split_option_list); each entry's text is its cmdline, the
 * file name ends at the first space (QEMU's syntax).
 */
static bool multiboot_add_modules(X86BootImage *img, uint64_t kernel_end,
                                  uint32_t *count, Error **errp)
{
    g_autoptr(GPtrArray) mods = qemu_split_option_list(
        img->cfg->initrd_filename);
    uint64_t next = X86_PAGE_ALIGN(kernel_end);
    uint8_t entries[X86_BOOT_MB_MAX_MODS * MB_MOD_SIZE] = { 0 };

    if (mods->len > X86_BOOT_MB_MAX_MODS) {
        error_setg(errp, "too many multiboot modules (%u > %d)", mods->len,
                   X86_BOOT_MB_MAX_MODS);
        return false;
    }
    for (guint i = 0; i < mods->len; i++) {
        const char *arg = mods->pdata[i];
        g_autofree char *path = g_strndup(arg, strcspn(arg, " "));
        g_autofree char *what = NULL;
        g_autofree uint8_t *data = NULL;
        uint8_t *e = entries + i * MB_MOD_SIZE;
        uint64_t str;
        size_t size;
        bool ok;

        if (!*path) {
            error_setg(errp, "multiboot module %u has no file name", i);
            return false;
        }
        if (!x86_boot_read_file(img, path, &data, &size)) {
            error_setg(errp, "could not load multiboot module '%s': %s",
                       path, g_strerror(errno));
            return false;
        }
        if (next > X86_4G || size > X86_4G - next) {
            error_setg(errp, "multiboot module '%s' does not fit below 4 GiB",
                       path);
            return false;
        }
        what = g_strdup_printf("multiboot module '%s'", path);
        ok = x86_boot_add_blob(img, what, next, data, size, 0, false, errp) &&
             x86_boot_add_string(img, arg, &str, errp);
        if (!ok) {
            return false;
        }
        x86_boot_stl(e, next);
        x86_boot_stl(e + 4, next + size);
        x86_boot_stl(e + 8, str);
        next = X86_PAGE_ALIGN(next + size);
    }
    *count = mods->len;
    return !mods->len ||
           x86_boot_add_blob(img, "multiboot module list",
                             X86_BOOT_MB_MODS_ADDR, entries,
                             mods->len * MB_MOD_SIZE, 0, true, errp);
}

static bool multiboot_add_info(X86BootImage *img, uint32_t mods_count,
                               Error **errp)
{
    X86BootE820 map[X86_BOOT_MAX_E820];
    unsigned n = x86_boot_e820(img, map);
    uint8_t mmap[X86_BOOT_MAX_E820 * (MB_MMAP_ENTRY_SIZE + 4)];
    uint8_t mbi[MBI_SIZE] = { 0 };
    uint64_t below = img->cfg->below_4g_mem_size;
    g_autofree char *cmdline = g_strdup_printf("%s %s",
        img->cfg->kernel_filename, img->cfg->cmdline ? img->cfg->cmdline : "");
    uint64_t cmdline_addr;

    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = mmap + i * (MB_MMAP_ENTRY_SIZE + 4);

        x86_boot_stl(e, MB_MMAP_ENTRY_SIZE);
        x86_boot_stq(e + 4, map[i].addr);
        x86_boot_stq(e + 12, map[i].size);
        x86_boot_stl(e + 20, map[i].type);
    }
    if (!x86_boot_add_string(img, cmdline, &cmdline_addr, errp)) {
        return false;
    }
    x86_boot_stl(mbi + MBI_FLAGS, MBI_FLAG_MEMORY | MBI_FLAG_BOOT_DEVICE |
                 MBI_FLAG_CMDLINE | MBI_FLAG_MODS | MBI_FLAG_MMAP |
                 MBI_FLAG_LOADER_NAME);
    x86_boot_stl(mbi + MBI_MEM_LOWER, X86_BOOT_LOW_RAM_END / 1024);
    x86_boot_stl(mbi + MBI_MEM_UPPER, below > X86_BOOT_HIGH_START ?
                 (below - X86_BOOT_HIGH_START) / 1024 : 0);
    x86_boot_stl(mbi + MBI_BOOT_DEVICE, MBI_BOOT_DEVICE_NONE);
    x86_boot_stl(mbi + MBI_CMDLINE, cmdline_addr);
    x86_boot_stl(mbi + MBI_MODS_COUNT, mods_count);
    x86_boot_stl(mbi + MBI_MODS_ADDR, X86_BOOT_MB_MODS_ADDR);
    x86_boot_stl(mbi + MBI_MMAP_LENGTH, n * (MB_MMAP_ENTRY_SIZE + 4));
    x86_boot_stl(mbi + MBI_MMAP_ADDR, X86_BOOT_MB_MMAP_ADDR);
    x86_boot_stl(mbi + MBI_BOOT_LOADER_NAME, X86_BOOT_MB_NAME_ADDR);
    return x86_boot_add_blob(img, "multiboot memory map",
                             X86_BOOT_MB_MMAP_ADDR, mmap,
                             n * (MB_MMAP_ENTRY_SIZE + 4), 0, true, errp) &&
           x86_boot_add_blob(img, "multiboot boot loader name",
                             X86_BOOT_MB_NAME_ADDR, MB_LOADER_NAME,
                             sizeof(MB_LOADER_NAME), 0, true, errp) &&
           x86_boot_add_blob(img, "multiboot information",
                             X86_BOOT_MB_INFO_ADDR, mbi, sizeof(mbi), 0,
                             true, errp);
}

bool x86_boot_multiboot_load(X86BootImage *img, Error **errp)
{
    long hdr = multiboot_header_offset(img->file, img->file_size);
    uint32_t flags, entry, mods_count = 0;
    uint64_t end;
    bool ok;

    g_assert(hdr >= 0);
    flags = x86_boot_ldl(img->file + hdr + 4);
    if (flags & 0xffff & ~MB_FLAGS_KNOWN) {
        error_setg(errp, "multiboot header flags 0x%x ask for features this "
                   "loader does not have", flags & 0xffff & ~MB_FLAGS_KNOWN);
        return false;
    }
    if (flags & MB_FLAG_VIDEO) {
        warn_report("multiboot knows VBE. we don't.");
    }
    if (flags & MB_FLAG_AOUT_KLUDGE) {
        ok = multiboot_load_aout(img, hdr, &entry, &end, errp);
    } else {
        ok = multiboot_load_elf(img, &entry, &end, errp);
    }
    if (!ok) {
        return false;
    }
    if (img->cfg->initrd_filename &&
        !multiboot_add_modules(img, end, &mods_count, errp)) {
        return false;
    }
    if (!multiboot_add_info(img, mods_count, errp)) {
        return false;
    }
    x86_boot_state_prot32(&img->state, entry);
    img->state.rax = MB_BOOTLOADER_MAGIC;
    img->state.rbx = X86_BOOT_MB_INFO_ADDR;
    return true;
}
