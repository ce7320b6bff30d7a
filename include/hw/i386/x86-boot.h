/*
 * x86 direct kernel boot: -kernel, -initrd, -append without firmware.
 *
 * The loader reads the kernel file once at machine creation, checks every
 * header field against the file and guest RAM, and builds an X86BootImage:
 * the bytes to put in guest memory and the CPU state to start from.  At
 * every machine reset the image is written into guest RAM again, after the
 * devices and the ACPI tables (docs/boot.md).
 *
 * Formats, tried in QEMU's order: a file with the Linux "HdrS" setup
 * header is a bzImage (64-bit boot protocol); otherwise a multiboot 1
 * header in the first 8192 bytes makes it a multiboot kernel (ELF32 or
 * a.out kludge); otherwise an ELF with a XEN_ELFNOTE_PHYS32_ENTRY note is a
 * PVH kernel.  Anything else is refused.
 *
 * Low memory used by the loader (all below the reserved [0x9fc00, 1 MiB)):
 *   0x01000  GDT (X86_BOOT_GDT_ADDR), 5 descriptors
 *   0x02000  long-mode page tables: PML4, PDPT, 4 PDs of 2 MiB pages
 *            identity-mapping [0, 4 GiB) (Linux only)
 *   0x08000  Linux boot_params (zero page) or PVH hvm_start_info, its
 *            memmap at 0x8040 and modlist at 0x8100
 *   0x09000  multiboot mmap; 0x9500 multiboot info; 0x9600 boot loader
 *            name; 0x9800 multiboot module structures
 *   0x10000  command lines (X86_BOOT_STRINGS_ADDR), up to 0x20000
 * Kernel segments may not overlap [X86_BOOT_AREA_START, X86_BOOT_AREA_END)
 * nor [0x9fc00, 1 MiB).
 */
#ifndef HW_I386_X86_BOOT_H
#define HW_I386_X86_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "qapi/error.h"

struct MachineState;

#define X86_BOOT_AREA_START     0x1000ULL
#define X86_BOOT_AREA_END       0x20000ULL
#define X86_BOOT_GDT_ADDR       0x1000ULL
#define X86_BOOT_PML4_ADDR      0x2000ULL
#define X86_BOOT_PDPT_ADDR      0x3000ULL
#define X86_BOOT_PD_ADDR        0x4000ULL      /* 4 pages */
#define X86_BOOT_PARAMS_ADDR    0x8000ULL      /* boot_params / start info */
#define X86_BOOT_PVH_MEMMAP     0x8040ULL
#define X86_BOOT_PVH_MODLIST    0x8100ULL
#define X86_BOOT_MB_MMAP_ADDR   0x9000ULL
#define X86_BOOT_MB_INFO_ADDR   0x9500ULL      /* as QEMU */
#define X86_BOOT_MB_NAME_ADDR   0x9600ULL
#define X86_BOOT_MB_MODS_ADDR   0x9800ULL
#define X86_BOOT_MB_MAX_MODS    128
#define X86_BOOT_STRINGS_ADDR   0x10000ULL
#define X86_BOOT_LOW_RAM_END    0x9fc00ULL     /* [this, 1 MiB) reserved */
#define X86_BOOT_HIGH_START     0x100000ULL

/* GDT selectors; one GDT serves every entry mode. */
#define X86_BOOT_SEL_CODE32     0x08           /* flat 32-bit code */
#define X86_BOOT_SEL_CODE64     0x10           /* Linux __BOOT_CS */
#define X86_BOOT_SEL_DATA       0x18           /* Linux __BOOT_DS */
#define X86_BOOT_SEL_TSS        0x20           /* 32-bit TSS, base 0 */
#define X86_BOOT_GDT_ENTRIES    5

typedef enum X86BootMode {
    X86_BOOT_MODE_REAL,     /* no -kernel: the architectural reset state */
    X86_BOOT_MODE_PROT32,   /* multiboot, PVH: flat 32-bit, paging off */
    X86_BOOT_MODE_LONG64,   /* Linux 64-bit entry: long mode, paging on */
} X86BootMode;

/*
 * A segment register in the shape KVM_SET_SREGS takes (struct
 * kvm_segment): limit in bytes (already scaled by g), type the 4-bit
 * descriptor type, s = 1 for code/data, db/l the size bits.
 */
typedef struct X86BootSegment {
    uint64_t base;
    uint32_t limit;
    uint16_t selector;
    uint8_t type, present, dpl, db, s, l, g;
} X86BootSegment;

/*
 * The CPU state at the kernel entry, everything a vCPU needs: load the
 * segments (es, fs, gs and ss equal ds), gdtr, cr0/cr3/cr4/efer, rflags
 * and the general registers given here, all others zero.  The GDT bytes
 * are in guest memory at gdt_base after every reset.
 *
 *   mode    rip                 rax         rbx        rsi
 *   REAL    0xfff0 (cs.base     0           0          0
 *           0xffff0000)
 *   PROT32  multiboot entry     0x2badb002  MBI addr   0
 *   PROT32  PVH phys32 entry    0           start info 0
 *   LONG64  kernel + 0x200      0           0          boot_params
 */
typedef struct X86BootState {
    X86BootMode mode;
    uint64_t rip, rflags;
    uint64_t rax, rbx, rsi;
    uint64_t cr0, cr3, cr4, efer;
    uint64_t gdt_base;
    uint16_t gdt_limit;
    X86BootSegment cs, ds, tr;
} X86BootState;

typedef enum X86BootFormat {
    X86_BOOT_NONE,
    X86_BOOT_MULTIBOOT,
    X86_BOOT_LINUX,
    X86_BOOT_PVH,
} X86BootFormat;

/* What to load and where RAM is (q35: below 4 GiB from 0, the rest at
 * 4 GiB). */
typedef struct X86BootConfig {
    const char *kernel_filename;
    const char *initrd_filename;    /* may be NULL */
    const char *cmdline;            /* -append; NULL means "" */
    uint64_t below_4g_mem_size;
    uint64_t above_4g_mem_size;
} X86BootConfig;

/*
 * How the image reaches guest memory: the machine writes through the
 * system address space, unit tests into a buffer.  Both return false when
 * the range is not (entirely) RAM.
 */
typedef struct X86BootMemOps {
    bool (*write)(void *opaque, uint64_t addr, const void *buf, uint64_t len);
    bool (*read)(void *opaque, uint64_t addr, void *buf, uint64_t len);
    void *opaque;
} X86BootMemOps;

typedef struct X86BootImage X86BootImage;

/* Reads and checks the files; NULL with errp set on any problem. */
X86BootImage *x86_boot_image_load(const X86BootConfig *cfg, Error **errp);
void x86_boot_image_free(X86BootImage *img);
X86BootFormat x86_boot_image_format(const X86BootImage *img);
const X86BootState *x86_boot_image_state(const X86BootImage *img);
/*
 * Writes the whole image, then looks for an ACPI RSDP in [0xe0000,
 * 0x100000) and records its address where the format has a field for it
 * (PVH rsdp_paddr, boot_params acpi_rsdp_addr).  Idempotent.
 */
bool x86_boot_image_write(const X86BootImage *img, const X86BootMemOps *mem);

/*
 * Machine glue.  x86_boot_init() loads ms->kernel_filename (if any) and
 * keeps the image as /machine/x86-boot; x86_boot_reset() writes it into
 * guest memory (call it after device reset and the ACPI tables).
 */
bool x86_boot_init(struct MachineState *ms, uint64_t below_4g_mem_size,
                   uint64_t above_4g_mem_size, Error **errp);
void x86_boot_reset(struct MachineState *ms);
/* The entry state of the loaded kernel; the reset state without -kernel;
 * NULL on a machine without x86 boot (the "none" machine). */
const X86BootState *x86_boot_state(struct MachineState *ms);

#endif
