/*
 * PVH direct boot (xen docs/misc/pvh.pandoc; control_boot_facts H.4): an
 * ELF kernel with a XEN_ELFNOTE_PHYS32_ENTRY note is entered in flat
 * 32-bit protected mode with EBX = hvm_start_info.
 */
#include <string.h>

#include "x86-boot-internal.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* struct hvm_start_info (xen include/public/arch-x86/hvm/start_info.h) */
#define HVM_START_MAGIC         0x336ec578
#define HVM_SI_MAGIC            0
#define HVM_SI_VERSION          4
#define HVM_SI_FLAGS            8
#define HVM_SI_NR_MODULES       12
#define HVM_SI_MODLIST_PADDR    16
#define HVM_SI_CMDLINE_PADDR    24
#define HVM_SI_RSDP_PADDR       32
#define HVM_SI_MEMMAP_PADDR     40
#define HVM_SI_MEMMAP_ENTRIES   48
#define HVM_SI_SIZE             56
#define HVM_MODLIST_ENTRY_SIZE  32
#define HVM_MEMMAP_ENTRY_SIZE   24

static uint64_t note_align(uint64_t n)
{
    return (n + 3) & ~3ULL;
}

/* Walks one PT_NOTE segment: 1 found, 0 not there, -1 malformed. */
static int pvh_scan_notes(const uint8_t *p, uint64_t len, bool is64,
                          uint32_t *entry, Error **errp)
{
    uint64_t off = 0;

    while (len - off >= 12) {
        uint32_t namesz = x86_boot_ldl(p + off);
        uint32_t descsz = x86_boot_ldl(p + off + 4);
        uint32_t type = x86_boot_ldl(p + off + 8);
        uint64_t name = off + 12;
        uint64_t desc = name + note_align(namesz);

        if (desc > len || descsz > len - desc) {
            error_setg(errp, "malformed ELF note at segment offset 0x%"
                       PRIx64, off);
            return -1;
        }
        if (namesz == 4 && !memcmp(p + name, "Xen", 4) &&
            type == XEN_ELFNOTE_PHYS32_ENTRY) {
            uint64_t value;

            if (descsz == 4) {
                value = x86_boot_ldl(p + desc);
            } else if (descsz == 8 && is64) {
                value = x86_boot_ldq(p + desc);
            } else {
                error_setg(errp, "PVH entry note has a %u-byte value",
                           descsz);
                return -1;
            }
            if (value > UINT32_MAX) {
                error_setg(errp, "PVH entry point 0x%" PRIx64 " is above "
                           "4 GiB", value);
                return -1;
            }
            *entry = value;
            return 1;
        }
        if (note_align(descsz) > len - desc) {
            break;
        }
        off = desc + note_align(descsz);
    }
    return 0;
}

int x86_boot_pvh_find_entry(const uint8_t *file, size_t size,
                            const X86BootElf *elf, uint32_t *entry,
                            Error **errp)
{
    for (unsigned i = 0; i < elf->phnum; i++) {
        const X86BootElfPhdr *ph = &elf->phdrs[i];
        int ret;

        /* x86_boot_elf_parse() checked the segment against the file. */
        if (ph->type != ELF_PT_NOTE) {
            continue;
        }
        ret = pvh_scan_notes(file + ph->offset, ph->filesz, elf->is64,
                             entry, errp);
        if (ret) {
            return ret;
        }
    }
    return 0;
}

bool x86_boot_pvh_load(X86BootImage *img, const X86BootElf *elf,
                       uint32_t entry, Error **errp)
{
    uint8_t si[HVM_SI_SIZE] = { 0 };
    uint8_t modlist[HVM_MODLIST_ENTRY_SIZE] = { 0 };
    uint8_t memmap[X86_BOOT_MAX_E820 * HVM_MEMMAP_ENTRY_SIZE] = { 0 };
    X86BootE820 map[X86_BOOT_MAX_E820];
    uint64_t low, high, cmdline_addr, initrd_addr, initrd_size;
    unsigned n;

    if (elf->machine != ELF_EM_386 && elf->machine != ELF_EM_X86_64) {
        error_setg(errp, "PVH ELF machine %u is not x86", elf->machine);
        return false;
    }
    if (!x86_boot_elf_load(img, elf, &low, &high, errp)) {
        return false;
    }
    if (img->cfg->initrd_filename) {
        /* Module 0, at the top of RAM below 4 GiB. */
        if (!x86_boot_add_initrd(img, img->cfg->below_4g_mem_size, high,
                                 &initrd_addr, &initrd_size, errp)) {
            return false;
        }
        x86_boot_stq(modlist, initrd_addr);
        x86_boot_stq(modlist + 8, initrd_size);
        if (!x86_boot_add_blob(img, "PVH module list", X86_BOOT_PVH_MODLIST,
                               modlist, sizeof(modlist), 0, true, errp)) {
            return false;
        }
        x86_boot_stl(si + HVM_SI_NR_MODULES, 1);
        x86_boot_stq(si + HVM_SI_MODLIST_PADDR, X86_BOOT_PVH_MODLIST);
    }
    if (!x86_boot_add_string(img, img->cfg->cmdline ? img->cfg->cmdline : "",
                             &cmdline_addr, errp)) {
        return false;
    }
    n = x86_boot_e820(img, map);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = memmap + i * HVM_MEMMAP_ENTRY_SIZE;

        x86_boot_stq(e, map[i].addr);
        x86_boot_stq(e + 8, map[i].size);
        x86_boot_stl(e + 16, map[i].type);
    }
    x86_boot_stl(si + HVM_SI_MAGIC, HVM_START_MAGIC);
    x86_boot_stl(si + HVM_SI_VERSION, 1);
    x86_boot_stq(si + HVM_SI_CMDLINE_PADDR, cmdline_addr);
    x86_boot_stq(si + HVM_SI_MEMMAP_PADDR, X86_BOOT_PVH_MEMMAP);
    x86_boot_stl(si + HVM_SI_MEMMAP_ENTRIES, n);
    if (!x86_boot_add_blob(img, "PVH start info", X86_BOOT_PARAMS_ADDR, si,
                           sizeof(si), 0, true, errp) ||
        !x86_boot_add_blob(img, "PVH memory map", X86_BOOT_PVH_MEMMAP, memmap,
                           n * HVM_MEMMAP_ENTRY_SIZE, 0, true, errp)) {
        return false;
    }
    img->rsdp_field_addr = X86_BOOT_PARAMS_ADDR + HVM_SI_RSDP_PADDR;
    x86_boot_state_prot32(&img->state, entry);
    img->state.rbx = X86_BOOT_PARAMS_ADDR;
    return true;
}
