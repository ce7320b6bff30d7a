/*
 * Linux bzImage, 64-bit boot protocol (Documentation/arch/x86/boot.rst,
 * zero-page.rst; control_boot_facts H.1-H.3): boot_params built from
 * scratch with the file's setup header, the protected-mode kernel at
 * 1 MiB, the initrd at the top of low RAM, and long mode with the low
 * 4 GiB identity-mapped at the 64-bit entry (load address + 0x200).
 */
#include <string.h>

#include "x86-boot-internal.h"

/* Setup header, at these offsets in the file and in boot_params */
#define LX_SETUP_SECTS          0x1f1
#define LX_VID_MODE             0x1fa
#define LX_JUMP                 0x200       /* byte 0x201: header length */
#define LX_HEADER               0x202
#define  LX_HDRS                0x53726448  /* "HdrS" */
#define LX_VERSION              0x206
#define LX_TYPE_OF_LOADER       0x210
#define  LX_LOADER_QEMU         0xb0        /* QEMU's loader ID */
#define LX_LOADFLAGS            0x211
#define  LX_LOADED_HIGH         0x01
#define LX_RAMDISK_IMAGE        0x218
#define LX_RAMDISK_SIZE         0x21c
#define LX_CMD_LINE_PTR         0x228
#define LX_INITRD_ADDR_MAX      0x22c
#define LX_XLOADFLAGS           0x236
#define  LX_XLF_KERNEL_64       0x01
#define  LX_XLF_CAN_BE_LOADED_ABOVE_4G 0x02
#define LX_CMDLINE_SIZE         0x238
#define LX_HARDWARE_SUBARCH     0x23c
#define LX_INIT_SIZE            0x260
#define LX_SETUP_HEADER_MAX     0x290       /* end of struct setup_header */

/* boot_params only */
#define BP_ACPI_RSDP_ADDR       0x070
#define BP_E820_ENTRIES         0x1e8
#define BP_E820_TABLE           0x2d0
#define BP_SIZE                 0x1000

#define LX_LOAD_ADDR            X86_BOOT_HIGH_START
#define LX_ENTRY64_OFFSET       0x200

/* Page table entries (SDM vol. 3 4.5) */
#define PTE_P                   0x1ULL
#define PTE_RW                  0x2ULL
#define PTE_PS                  0x80ULL

bool x86_boot_linux_detect(const uint8_t *file, size_t size)
{
    return size >= LX_HEADER + 4 && x86_boot_ldl(file + LX_HEADER) == LX_HDRS;
}

/* PML4 -> PDPT -> 4 PDs of 2 MiB pages: [0, 4 GiB) identity-mapped. */
static bool linux_add_page_tables(X86BootImage *img, Error **errp)
{
    g_autofree uint8_t *pt = g_malloc0(X86_BOOT_PD_ADDR + 4 * X86_PAGE_SIZE -
                                       X86_BOOT_PML4_ADDR);
    uint8_t *pml4 = pt;
    uint8_t *pdpt = pt + (X86_BOOT_PDPT_ADDR - X86_BOOT_PML4_ADDR);
    uint8_t *pd = pt + (X86_BOOT_PD_ADDR - X86_BOOT_PML4_ADDR);

    x86_boot_stq(pml4, X86_BOOT_PDPT_ADDR | PTE_P | PTE_RW);
    for (unsigned i = 0; i < 4; i++) {
        x86_boot_stq(pdpt + i * 8, (X86_BOOT_PD_ADDR + i * X86_PAGE_SIZE) |
                     PTE_P | PTE_RW);
    }
    for (unsigned i = 0; i < 4 * 512; i++) {
        x86_boot_stq(pd + i * 8, ((uint64_t)i << 21) | PTE_P | PTE_RW |
                     PTE_PS);
    }
    return x86_boot_add_blob(img, "page tables", X86_BOOT_PML4_ADDR, pt,
                             X86_BOOT_PD_ADDR + 4 * X86_PAGE_SIZE -
                             X86_BOOT_PML4_ADDR, 0, true, errp);
}

/* QEMU's limit: initrd_addr_max, or 4 GiB with
 * XLF_CAN_BE_LOADED_ABOVE_4G, and RAM below 4 GiB. */
static uint64_t linux_initrd_max(const X86BootImage *img, const uint8_t *bp)
{
    uint16_t version = x86_boot_lduw(bp + LX_VERSION);
    uint64_t max = 0x37ffffff;

    if (version >= 0x20c &&
        (x86_boot_lduw(bp + LX_XLOADFLAGS) & LX_XLF_CAN_BE_LOADED_ABOVE_4G)) {
        max = 0xffffffff;
    } else if (version >= 0x203) {
        max = x86_boot_ldl(bp + LX_INITRD_ADDR_MAX);
    }
    return MIN(max, img->cfg->below_4g_mem_size - 1);
}

bool x86_boot_linux_load(X86BootImage *img, Error **errp)
{
    const uint8_t *file = img->file;
    uint8_t bp[BP_SIZE] = { 0 };
    X86BootE820 map[X86_BOOT_MAX_E820];
    const char *cmdline = img->cfg->cmdline ? img->cfg->cmdline : "";
    uint16_t version = x86_boot_lduw(file + LX_VERSION);
    uint64_t setup_size, hdr_end, kernel_end, cmdline_addr;
    uint64_t initrd_addr = 0, initrd_size = 0;
    uint32_t cmdline_size;
    unsigned setup_sects, n;

    if (img->file_size < LX_VERSION + 2 || version < 0x20c) {
        error_setg(errp, "Linux boot protocol %u.%02u is too old: the 64-bit "
                   "entry needs 2.12 or later", version >> 8, version & 0xff);
        return false;
    }
    hdr_end = LX_HEADER + file[LX_JUMP + 1];
    setup_sects = file[LX_SETUP_SECTS] ? file[LX_SETUP_SECTS] : 4;
    setup_size = (setup_sects + 1) * 512ULL;
    if (hdr_end > LX_SETUP_HEADER_MAX || hdr_end > img->file_size ||
        hdr_end < LX_CMDLINE_SIZE + 4) {
        error_setg(errp, "Linux setup header end 0x%" PRIx64 " is invalid",
                   hdr_end);
        return false;
    }
    if (setup_size >= img->file_size) {
        error_setg(errp, "truncated bzImage: the protected-mode code at "
                   "0x%" PRIx64 " is beyond the end of the file", setup_size);
        return false;
    }
    memcpy(bp + LX_SETUP_SECTS, file + LX_SETUP_SECTS,
           hdr_end - LX_SETUP_SECTS);
    if (!(bp[LX_LOADFLAGS] & LX_LOADED_HIGH)) {
        error_setg(errp, "not a bzImage: loadflags LOADED_HIGH is clear");
        return false;
    }
    if (!(x86_boot_lduw(bp + LX_XLOADFLAGS) & LX_XLF_KERNEL_64)) {
        error_setg(errp, "the kernel has no 64-bit entry point (xloadflags "
                   "XLF_KERNEL_64 is clear)");
        return false;
    }
    cmdline_size = x86_boot_ldl(bp + LX_CMDLINE_SIZE);
    if (strlen(cmdline) > cmdline_size) {
        error_setg(errp, "kernel command line too long (%zu > cmdline_size "
                   "%u)", strlen(cmdline), cmdline_size);
        return false;
    }

    /* The protected-mode kernel, then the memory it needs to run. */
    if (!x86_boot_add_blob(img, "Linux kernel", LX_LOAD_ADDR,
                           file + setup_size, img->file_size - setup_size, 0,
                           false, errp)) {
        return false;
    }
    kernel_end = LX_LOAD_ADDR + MAX(img->file_size - setup_size,
                                    (uint64_t)x86_boot_ldl(bp + LX_INIT_SIZE));
    if (kernel_end > img->cfg->below_4g_mem_size) {
        error_setg(errp, "the kernel needs RAM up to 0x%" PRIx64 " (init_size)"
                   " but RAM below 4 GiB ends at 0x%" PRIx64, kernel_end,
                   img->cfg->below_4g_mem_size);
        return false;
    }
    if (img->cfg->initrd_filename &&
        !x86_boot_add_initrd(img, linux_initrd_max(img, bp), kernel_end,
                             &initrd_addr, &initrd_size, errp)) {
        return false;
    }
    if (!x86_boot_add_string(img, cmdline, &cmdline_addr, errp)) {
        return false;
    }

    x86_boot_stw(bp + LX_VID_MODE, 0xffff);
    bp[LX_TYPE_OF_LOADER] = LX_LOADER_QEMU;
    x86_boot_stl(bp + LX_CMD_LINE_PTR, cmdline_addr);
    x86_boot_stl(bp + LX_RAMDISK_IMAGE, initrd_addr);
    x86_boot_stl(bp + LX_RAMDISK_SIZE, initrd_size);
    x86_boot_stl(bp + LX_HARDWARE_SUBARCH, 0);
    n = x86_boot_e820(img, map);
    bp[BP_E820_ENTRIES] = n;
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = bp + BP_E820_TABLE + i * 20;

        x86_boot_stq(e, map[i].addr);
        x86_boot_stq(e + 8, map[i].size);
        x86_boot_stl(e + 16, map[i].type);
    }
    if (!x86_boot_add_blob(img, "boot_params", X86_BOOT_PARAMS_ADDR, bp,
                           sizeof(bp), 0, true, errp) ||
        !linux_add_page_tables(img, errp)) {
        return false;
    }
    img->rsdp_field_addr = X86_BOOT_PARAMS_ADDR + BP_ACPI_RSDP_ADDR;
    x86_boot_state_long64(&img->state, LX_LOAD_ADDR + LX_ENTRY64_OFFSET,
                          X86_BOOT_PML4_ADDR);
    img->state.rsi = X86_BOOT_PARAMS_ADDR;
    return true;
}
