/*
 * The x86 loaders (hw/i386/x86-boot.c, multiboot.c, linux-boot.c, pvh.c):
 * images built here are loaded from temp files into a RAM buffer through
 * X86BootMemOps; the test reads back what a kernel would find: the
 * multiboot information, boot_params, hvm_start_info, page tables, GDT and
 * the entry state, and the error of every malformed image.
 */
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "hw/i386/x86-boot.h"

#define MiB                 (1024ULL * 1024)
#define RAM_BELOW           (16 * MiB)
#define RAM_ABOVE           (2 * MiB)
#define G4                  0x100000000ULL
#define FILL                0xaa

/* --- Guest RAM: [0, below) and [4 GiB, 4 GiB + above) ---------------------- */

typedef struct Guest {
    uint8_t *low, *high;
    uint64_t below, above;
} Guest;

static uint8_t *guest_ptr(Guest *g, uint64_t addr, uint64_t len)
{
    if (addr <= g->below && len <= g->below - addr) {
        return g->low + addr;
    }
    if (addr >= G4 && addr - G4 <= g->above && len <= g->above - (addr - G4)) {
        return g->high + (addr - G4);
    }
    return NULL;
}

static bool guest_write(void *opaque, uint64_t addr, const void *buf,
                        uint64_t len)
{
    uint8_t *p = guest_ptr(opaque, addr, len);

    if (p) {
        memcpy(p, buf, len);
    }
    return p;
}

static bool guest_read(void *opaque, uint64_t addr, void *buf, uint64_t len)
{
    uint8_t *p = guest_ptr(opaque, addr, len);

    if (p) {
        memcpy(buf, p, len);
    }
    return p;
}

static void guest_init(Guest *g, uint64_t below, uint64_t above)
{
    g->below = below;
    g->above = above;
    g->low = g_malloc(below);
    g->high = above ? g_malloc(above) : NULL;
    memset(g->low, FILL, below);
    if (above) {
        memset(g->high, FILL, above);
    }
}

static void guest_free(Guest *g)
{
    g_free(g->low);
    g_free(g->high);
}

static uint32_t rd32(Guest *g, uint64_t a)
{
    uint8_t *p = guest_ptr(g, a, 4);

    g_assert_nonnull(p);
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(Guest *g, uint64_t a)
{
    return rd32(g, a) | (uint64_t)rd32(g, a + 4) << 32;
}

static const char *rdstr(Guest *g, uint64_t a)
{
    const char *s = (const char *)guest_ptr(g, a, 1);

    g_assert_nonnull(s);
    g_assert_nonnull(memchr(s, 0, g->below - a));
    return s;
}

/* --- Files ---------------------------------------------------------------------- */

static char *tmpfile_with(const void *data, size_t len)
{
    g_autoptr(GError) err = NULL;
    char *path = NULL;
    int fd = g_file_open_tmp("x86-boot-XXXXXX", &path, &err);

    g_assert_no_error(err);
    g_assert_cmpint(write(fd, data, len), ==, len);
    close(fd);
    return path;
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = v;
    p[1] = v >> 8;
}

static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, v);
    wr16(p + 2, v >> 16);
}

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, v);
    wr32(p + 4, v >> 32);
}

static uint64_t ld(const uint8_t *p, unsigned bytes)
{
    uint64_t v = 0;

    while (bytes--) {
        v = v << 8 | p[bytes];
    }
    return v;
}

/* File offset of segment i of an ELF file made by build_elf(). */
static uint64_t seg_offset(const uint8_t *f, unsigned i)
{
    return f[4] == 2 ? ld(f + 64 + i * 56 + 8, 8) : ld(f + 52 + i * 32 + 4, 4);
}

/* A multiboot header (magic, flags, checksum) at p. */
static void put_mb_header(uint8_t *p, uint32_t flags)
{
    wr32(p, 0x1badb002);
    wr32(p + 4, flags);
    wr32(p + 8, -(0x1badb002u + flags));
}

typedef struct Seg {
    uint32_t type;
    uint64_t paddr, vaddr;
    const uint8_t *data;
    uint64_t filesz, memsz;
} Seg;

/*
 * An ELF file: header, program headers, then each segment's bytes, 16-byte
 * aligned.  The caller frees it.
 */
static uint8_t *build_elf(bool is64, uint16_t machine, uint64_t entry,
                          const Seg *segs, unsigned n, size_t *size)
{
    size_t eh = is64 ? 64 : 52, ph = is64 ? 56 : 32;
    size_t off = (eh + ph * n + 15) & ~15, total = off;
    uint8_t *f;

    for (unsigned i = 0; i < n; i++) {
        total += (segs[i].filesz + 15) & ~15;
    }
    f = g_malloc0(total);
    memcpy(f, "\x7f" "ELF", 4);
    f[4] = is64 ? 2 : 1;
    f[5] = 1;
    f[6] = 1;
    wr16(f + 16, 2);                    /* ET_EXEC */
    wr16(f + 18, machine);
    wr32(f + 20, 1);
    if (is64) {
        wr64(f + 24, entry);
        wr64(f + 32, eh);
        wr16(f + 52, eh);
        wr16(f + 54, ph);
        wr16(f + 56, n);
    } else {
        wr32(f + 24, entry);
        wr32(f + 28, eh);
        wr16(f + 40, eh);
        wr16(f + 42, ph);
        wr16(f + 44, n);
    }
    for (unsigned i = 0; i < n; i++) {
        uint8_t *p = f + eh + i * ph;

        wr32(p, segs[i].type);
        if (is64) {
            wr64(p + 8, off);
            wr64(p + 16, segs[i].vaddr);
            wr64(p + 24, segs[i].paddr);
            wr64(p + 32, segs[i].filesz);
            wr64(p + 40, segs[i].memsz);
        } else {
            wr32(p + 4, off);
            wr32(p + 8, segs[i].vaddr);
            wr32(p + 12, segs[i].paddr);
            wr32(p + 16, segs[i].filesz);
            wr32(p + 20, segs[i].memsz);
        }
        memcpy(f + off, segs[i].data, segs[i].filesz);
        off += (segs[i].filesz + 15) & ~15;
    }
    *size = total;
    return f;
}

/* --- Loading ---------------------------------------------------------------------- */

typedef struct Boot {
    Guest g;
    X86BootImage *img;
    char *kernel;
} Boot;

/* Loads (expects success) and writes the image into fresh guest RAM. */
static void boot_load(Boot *b, const uint8_t *file, size_t size,
                      const char *initrd, const char *cmdline,
                      uint64_t above)
{
    X86BootConfig cfg = {
        .initrd_filename = initrd, .cmdline = cmdline,
        .below_4g_mem_size = RAM_BELOW, .above_4g_mem_size = above,
    };
    X86BootMemOps mem = { guest_write, guest_read, &b->g };
    Error *err = NULL;

    b->kernel = tmpfile_with(file, size);
    cfg.kernel_filename = b->kernel;
    guest_init(&b->g, RAM_BELOW, above);
    b->img = x86_boot_image_load(&cfg, &err);
    if (err) {
        g_test_message("load failed: %s", error_get_pretty(err));
    }
    g_assert_null(err);
    g_assert_nonnull(b->img);
    g_assert_true(x86_boot_image_write(b->img, &mem));
}

static void boot_free(Boot *b)
{
    x86_boot_image_free(b->img);
    unlink(b->kernel);
    g_free(b->kernel);
    guest_free(&b->g);
}

/* Loads and expects the error to contain needle. */
static void expect_error(const uint8_t *file, size_t size, const char *initrd,
                         const char *cmdline, const char *needle)
{
    g_autofree char *path = tmpfile_with(file, size);
    X86BootConfig cfg = {
        .kernel_filename = path, .initrd_filename = initrd,
        .cmdline = cmdline, .below_4g_mem_size = RAM_BELOW,
    };
    Error *err = NULL;

    g_assert_null(x86_boot_image_load(&cfg, &err));
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), needle) ||
        !strstr(error_get_pretty(err), "could not load kernel")) {
        g_test_message("error '%s' lacks '%s'", error_get_pretty(err),
                       needle);
        g_assert_not_reached();
    }
    error_free(err);
    unlink(path);
}

/* The memory map of the contract: low RAM, reserved to 1 MiB, RAM up to
 * the top below 4 GiB, RAM above 4 GiB; nothing else. */
static void check_map(const uint64_t (*e)[3], unsigned n, uint64_t above)
{
    g_assert_cmpuint(n, ==, above ? 4 : 3);
    g_assert_cmpuint(e[0][0], ==, 0);
    g_assert_cmpuint(e[0][1], ==, 0x9fc00);
    g_assert_cmpuint(e[0][2], ==, 1);
    g_assert_cmpuint(e[1][0], ==, 0x9fc00);
    g_assert_cmpuint(e[1][1], ==, 0x100000 - 0x9fc00);
    g_assert_cmpuint(e[1][2], ==, 2);
    g_assert_cmpuint(e[2][0], ==, 0x100000);
    g_assert_cmpuint(e[2][1], ==, RAM_BELOW - 0x100000);
    g_assert_cmpuint(e[2][2], ==, 1);
    if (above) {
        g_assert_cmpuint(e[3][0], ==, G4);
        g_assert_cmpuint(e[3][1], ==, above);
        g_assert_cmpuint(e[3][2], ==, 1);
    }
}

/* The GDT every mode uses, as descriptors. */
static void check_gdt(Guest *g, const X86BootState *st)
{
    g_assert_cmpuint(st->gdt_base, ==, 0x1000);
    g_assert_cmpuint(st->gdt_limit, ==, 5 * 8 - 1);
    g_assert_cmpuint(rd64(g, 0x1000), ==, 0);
    g_assert_cmphex(rd64(g, 0x1008), ==, 0x00cf9b000000ffffULL);
    g_assert_cmphex(rd64(g, 0x1010), ==, 0x00af9b000000ffffULL);
    g_assert_cmphex(rd64(g, 0x1018), ==, 0x00cf93000000ffffULL);
    g_assert_cmphex(rd64(g, 0x1020), ==, 0x00008b0000000067ULL);
}

static void check_prot32(const X86BootState *st, uint32_t entry)
{
    g_assert_cmpint(st->mode, ==, X86_BOOT_MODE_PROT32);
    g_assert_cmphex(st->rip, ==, entry);
    g_assert_cmphex(st->cr0, ==, 1);
    g_assert_cmphex(st->cr4, ==, 0);
    g_assert_cmphex(st->efer, ==, 0);
    g_assert_cmphex(st->rflags & 0x200, ==, 0);   /* IF = 0 */
    g_assert_cmphex(st->cs.selector, ==, 0x08);
    g_assert_cmphex(st->cs.limit, ==, 0xffffffff);
    g_assert_cmpuint(st->cs.base, ==, 0);
    g_assert_cmpuint(st->cs.db, ==, 1);
    g_assert_cmpuint(st->cs.l, ==, 0);
    g_assert_cmphex(st->ds.selector, ==, 0x18);
    g_assert_cmphex(st->ds.limit, ==, 0xffffffff);
    g_assert_cmphex(st->tr.limit, ==, 0x67);
    g_assert_cmphex(st->tr.type, ==, 0xb);
}

/* --- Multiboot ------------------------------------------------------------------------- */

#define MB_LOAD         0x400000
#define MB_ENTRY        (MB_LOAD + 0x10)

static uint8_t *mb_elf32(size_t *size, uint32_t mb_flags, bool good_sum)
{
    uint8_t text[64];
    Seg seg = { 1, MB_LOAD, MB_LOAD, text, sizeof(text), sizeof(text) + 256 };

    for (unsigned i = 0; i < sizeof(text); i++) {
        text[i] = 0x90 + i;
    }
    put_mb_header(text, mb_flags);
    if (!good_sum) {
        wr32(text + 8, 0x12345678);
    }
    return build_elf(false, 3, MB_ENTRY, &seg, 1, size);
}

/* Multiboot info at EBX: fields, cmdline, modules, mmap, loader name. */
static void test_multiboot_elf32(void)
{
    const char m1[] = "module one", m2[] = "second module, bigger\n";
    g_autofree char *p1 = tmpfile_with(m1, sizeof(m1) - 1);
    g_autofree char *p2 = tmpfile_with(m2, sizeof(m2) - 1);
    g_autofree char *initrd = g_strdup_printf("%s arg a,,b,%s", p1, p2);
    g_autofree char *cmd = NULL, *s1 = NULL;
    uint64_t map[4][3];
    const X86BootState *st;
    size_t size;
    g_autofree uint8_t *f = mb_elf32(&size, 0x3, true);
    uint32_t mbi, mmap, mods, n;
    Boot b;

    boot_load(&b, f, size, initrd, "console=ttyS0 x=1", RAM_ABOVE);
    g_assert_cmpint(x86_boot_image_format(b.img), ==, X86_BOOT_MULTIBOOT);
    st = x86_boot_image_state(b.img);
    check_prot32(st, MB_ENTRY);
    g_assert_cmphex(st->rax, ==, 0x2badb002);
    g_assert_cmphex(st->rbx, ==, 0x9500);
    check_gdt(&b.g, st);

    /* The segment, then its bss zeroed. */
    g_assert_cmpmem(guest_ptr(&b.g, MB_LOAD, 64), 64, f + seg_offset(f, 0),
                    64);
    for (unsigned i = 64; i < 64 + 256; i++) {
        g_assert_cmphex(b.g.low[MB_LOAD + i], ==, 0);
    }
    g_assert_cmphex(b.g.low[MB_LOAD + 64 + 256], ==, FILL);

    mbi = st->rbx;
    g_assert_cmphex(rd32(&b.g, mbi), ==, 0x24f);
    g_assert_cmpuint(rd32(&b.g, mbi + 4), ==, 639);
    g_assert_cmpuint(rd32(&b.g, mbi + 8), ==, (RAM_BELOW - MiB) / 1024);
    g_assert_cmphex(rd32(&b.g, mbi + 12), ==, 0x8000ffff);
    cmd = g_strdup_printf("%s console=ttyS0 x=1", b.kernel);
    g_assert_cmpstr(rdstr(&b.g, rd32(&b.g, mbi + 16)), ==, cmd);
    g_assert_cmpstr(rdstr(&b.g, rd32(&b.g, mbi + 64)), ==, "viommu");

    /* Modules: page-aligned after the image, ",," a literal comma. */
    g_assert_cmpuint(rd32(&b.g, mbi + 20), ==, 2);
    mods = rd32(&b.g, mbi + 24);
    g_assert_cmphex(rd32(&b.g, mods), ==, MB_LOAD + 0x1000);
    g_assert_cmphex(rd32(&b.g, mods + 4), ==, MB_LOAD + 0x1000 + strlen(m1));
    g_assert_cmpmem(guest_ptr(&b.g, MB_LOAD + 0x1000, strlen(m1)),
                    strlen(m1), m1, strlen(m1));
    s1 = g_strdup_printf("%s arg a,b", p1);
    g_assert_cmpstr(rdstr(&b.g, rd32(&b.g, mods + 8)), ==, s1);
    g_assert_cmphex(rd32(&b.g, mods + 12), ==, 0);
    g_assert_cmphex(rd32(&b.g, mods + 16), ==, MB_LOAD + 0x2000);
    g_assert_cmphex(rd32(&b.g, mods + 20), ==, MB_LOAD + 0x2000 + strlen(m2));
    g_assert_cmpmem(guest_ptr(&b.g, MB_LOAD + 0x2000, strlen(m2)),
                    strlen(m2), m2, strlen(m2));
    g_assert_cmpstr(rdstr(&b.g, rd32(&b.g, mods + 24)), ==, p2);

    /* mmap: 24-byte records with size 20 */
    n = rd32(&b.g, mbi + 44) / 24;
    g_assert_cmpuint(rd32(&b.g, mbi + 44) % 24, ==, 0);
    mmap = rd32(&b.g, mbi + 48);
    g_assert_cmpuint(n, <=, 4);
    for (unsigned i = 0; i < n; i++) {
        g_assert_cmpuint(rd32(&b.g, mmap + i * 24), ==, 20);
        map[i][0] = rd64(&b.g, mmap + i * 24 + 4);
        map[i][1] = rd64(&b.g, mmap + i * 24 + 12);
        map[i][2] = rd32(&b.g, mmap + i * 24 + 20);
    }
    check_map((const uint64_t (*)[3])map, n, RAM_ABOVE);

    /* Nothing was written into the reserved [0x9fc00, 1 MiB). */
    for (uint64_t a = 0x9fc00; a < 0x100000; a++) {
        g_assert_cmphex(b.g.low[a], ==, FILL);
    }
    boot_free(&b);
    unlink(p1);
    unlink(p2);
}

/* No -append: the cmdline is "<path> " as QEMU builds it; no modules. */
static void test_multiboot_no_append(void)
{
    size_t size;
    g_autofree uint8_t *f = mb_elf32(&size, 0x0, true);
    g_autofree char *cmd = NULL;
    Boot b;

    boot_load(&b, f, size, NULL, NULL, 0);
    cmd = g_strdup_printf("%s ", b.kernel);
    g_assert_cmpstr(rdstr(&b.g, rd32(&b.g, 0x9500 + 16)), ==, cmd);
    g_assert_cmpuint(rd32(&b.g, 0x9500 + 20), ==, 0);
    g_assert_cmpuint(rd32(&b.g, 0x9500 + 44), ==, 3 * 24);
    boot_free(&b);
}

/*
 * An ELF32 (EM_386) file wrapping 64-bit code, as kvm-unit-tests' .flat:
 * a 32-bit stub segment and a 64-bit segment linked at a virtual address
 * different from its load address; the virtual entry becomes physical.
 */
static void test_multiboot_elf32_wrapped64(void)
{
    uint8_t stub[32] = { 0 }, code64[48];
    Seg segs[2] = {
        { 1, MB_LOAD, MB_LOAD, stub, sizeof(stub), sizeof(stub) },
        { 1, MB_LOAD + 0x10000, 0xc0010000, code64, sizeof(code64), 0x2000 },
    };
    g_autofree uint8_t *f = NULL;
    size_t size;
    Boot b;

    put_mb_header(stub, 0x2);
    stub[12] = 0xea;                /* ljmp into the 64-bit code segment */
    for (unsigned i = 0; i < sizeof(code64); i++) {
        code64[i] = i & 1 ? 0x48 : 0x0f;   /* REX.W-prefixed bytes */
    }
    f = build_elf(false, 3, 0xc0010008, segs, 2, &size);
    boot_load(&b, f, size, NULL, "-v", 0);
    check_prot32(x86_boot_image_state(b.img), MB_LOAD + 0x10008);
    g_assert_cmpmem(guest_ptr(&b.g, MB_LOAD, 32), 32, stub, 32);
    g_assert_cmpmem(guest_ptr(&b.g, MB_LOAD + 0x10000, 48), 48, code64, 48);
    g_assert_cmphex(b.g.low[MB_LOAD + 0x10000 + 0x1fff], ==, 0);
    g_assert_cmphex(b.g.low[MB_LOAD + 0x10000 + 0x2000], ==, FILL);
    boot_free(&b);
}

/* The a.out kludge: flag 16, the header's address fields place the file. */
static void test_multiboot_aout(void)
{
    uint8_t f[0x200];
    const uint32_t load = 0x200000, hdr_off = 0x40;
    Boot b;

    for (unsigned i = 0; i < sizeof(f); i++) {
        f[i] = i * 7;
    }
    put_mb_header(f + hdr_off, 0x10002);
    wr32(f + hdr_off + 12, load + 0x20 + hdr_off); /* header_addr */
    wr32(f + hdr_off + 16, load + 0x20);           /* load_addr: skip 0x20 */
    wr32(f + hdr_off + 20, load + 0x20 + 0x100);   /* load_end_addr */
    wr32(f + hdr_off + 24, load + 0x20 + 0x1000);  /* bss_end_addr */
    wr32(f + hdr_off + 28, load + 0x80);           /* entry */
    boot_load(&b, f, sizeof(f), NULL, NULL, 0);
    check_prot32(x86_boot_image_state(b.img), load + 0x80);
    /* File bytes [0, 0x100) land at load_addr, then bss up to bss_end. */
    g_assert_cmpmem(guest_ptr(&b.g, load + 0x20, 0x100), 0x100, f, 0x100);
    for (unsigned i = 0x100; i < 0x1000; i++) {
        g_assert_cmphex(b.g.low[load + 0x20 + i], ==, 0);
    }
    g_assert_cmphex(b.g.low[load + 0x20 + 0x1000], ==, FILL);
    boot_free(&b);
}

static void test_multiboot_rejects(void)
{
    uint8_t text[64] = { 0 };
    Seg seg = { 1, MB_LOAD, MB_LOAD, text, sizeof(text), sizeof(text) };
    size_t size;
    uint8_t *f;

    /* A bad checksum is no multiboot header: then no PVH note either. */
    f = mb_elf32(&size, 0, false);
    expect_error(f, size, NULL, NULL,
                 "Error loading uncompressed kernel without PVH ELF Note");
    g_free(f);

    /* Program headers beyond the end of the file (a truncated ELF). */
    f = mb_elf32(&size, 0, true);
    wr16(f + 44, 200);
    expect_error(f, size, NULL, NULL, "are beyond the end of the file");
    g_free(f);

    /* A segment whose bytes are beyond the end of the file. */
    f = mb_elf32(&size, 0, true);
    wr32(f + 52 + 16, 0x10000);     /* p_filesz */
    wr32(f + 52 + 20, 0x10000);
    expect_error(f, size, NULL, NULL, "segment 0 (offset 0x60, size 0x10000) "
                 "is beyond the end of the file");
    g_free(f);

    /* A segment beyond RAM, one on the loader's area, one in 0x9fc00+. */
    f = mb_elf32(&size, 0, true);
    wr32(f + 52 + 12, RAM_BELOW - 0x20);
    expect_error(f, size, NULL, NULL, "is outside guest RAM");
    wr32(f + 52 + 12, 0x8000);
    expect_error(f, size, NULL, NULL, "overlaps the loader's boot area");
    wr32(f + 52 + 12, 0xf0000);
    expect_error(f, size, NULL, NULL, "overlaps the loader's boot area");
    wr32(f + 52 + 12, 0xffffffc0);  /* wraps past 4 GiB */
    expect_error(f, size, NULL, NULL, "is outside guest RAM");
    g_free(f);

    /* ELF64 is refused as QEMU does. */
    put_mb_header(text, 0);
    f = build_elf(true, 62, MB_LOAD, &seg, 1, &size);
    expect_error(f, size, NULL, NULL,
                 "Cannot load x86-64 image, give a 32bit one.");
    g_free(f);

    /* Required flags this loader does not know. */
    f = mb_elf32(&size, 0x8, true);
    expect_error(f, size, NULL, NULL, "multiboot header flags 0x8");
    g_free(f);

    /* A missing module file. */
    f = mb_elf32(&size, 0, true);
    expect_error(f, size, "/nonexistent/mod arg", NULL,
                 "could not load multiboot module '/nonexistent/mod': No such "
                 "file or directory");
    expect_error(f, size, "", NULL, "module 0 has no file name");
    g_free(f);
}

static void test_multiboot_aout_rejects(void)
{
    uint8_t f[0x100] = { 0 };

    put_mb_header(f, 0x10000);
    wr32(f + 12, 0x100000);         /* header_addr below load_addr */
    wr32(f + 16, 0x200000);
    expect_error(f, sizeof(f), NULL, NULL, "invalid load_addr address");
    wr32(f + 12, 0x200010);         /* header 0x10 past load: offset < 0 */
    expect_error(f, sizeof(f), NULL, NULL, "invalid header_addr address");
    wr32(f + 12, 0x200000);
    wr32(f + 20, 0x200000 + 0x1000);
    expect_error(f, sizeof(f), NULL, NULL,
                 "load_end_addr 0x201000 is beyond the end of the file");
    wr32(f + 20, 0x1000);
    expect_error(f, sizeof(f), NULL, NULL, "invalid load_end_addr address");
    wr32(f + 20, 0);
    wr32(f + 24, 0x200010);
    expect_error(f, sizeof(f), NULL, NULL, "invalid bss_end_addr address");
    /* The header without its address fields at the end of the file. */
    expect_error(f, 0x14, NULL, NULL, "address fields are truncated");
}

/* --- Linux bzImage -------------------------------------------------------------------- */

#define LX_SETUP_SECTS  4
#define LX_PAYLOAD      0x3000
#define LX_HDR_END      0x268

static uint8_t *bzimage(size_t *size, uint16_t version, uint16_t xloadflags)
{
    size_t setup = (LX_SETUP_SECTS + 1) * 512;
    uint8_t *f = g_malloc0(setup + LX_PAYLOAD);

    for (size_t i = 0; i < setup + LX_PAYLOAD; i++) {
        f[i] = i % 251;
    }
    f[0x1f1] = LX_SETUP_SECTS;
    wr16(f + 0x1fa, 0);             /* vid_mode: the loader sets it */
    f[0x200] = 0xeb;
    f[0x201] = LX_HDR_END - 0x202;
    memcpy(f + 0x202, "HdrS", 4);
    wr16(f + 0x206, version);
    f[0x210] = 0;                   /* type_of_loader */
    f[0x211] = 0x01;                /* LOADED_HIGH */
    wr32(f + 0x214, 0x100000);
    wr32(f + 0x218, 0);
    wr32(f + 0x21c, 0);
    wr32(f + 0x228, 0);
    wr32(f + 0x22c, 0x7fffffff);    /* initrd_addr_max */
    wr32(f + 0x230, 0x200000);      /* kernel_alignment */
    f[0x234] = 1;
    wr16(f + 0x236, xloadflags);
    wr32(f + 0x238, 64);            /* cmdline_size */
    wr32(f + 0x23c, 0x12345678);    /* hardware_subarch: set to 0 */
    wr64(f + 0x258, 0x1000000);     /* pref_address */
    wr32(f + 0x260, 0x400000);      /* init_size */
    *size = setup + LX_PAYLOAD;
    return f;
}

/* A valid ACPI 1.0 RSDP at addr in guest RAM. */
static void put_rsdp(Guest *g, uint64_t addr)
{
    uint8_t *p = guest_ptr(g, addr, 20), sum = 0;

    memset(p, 0, 20);
    memcpy(p, "RSD PTR ", 8);
    memcpy(p + 9, "VIOMMU", 6);
    for (int i = 0; i < 20; i++) {
        sum += p[i];
    }
    p[8] = -sum;
}

/* Walks the 4-level tables like the MMU; returns the physical address. */
static uint64_t walk(Guest *g, uint64_t cr3, uint64_t va)
{
    uint64_t pml4e = rd64(g, cr3 + ((va >> 39) & 511) * 8);
    uint64_t pdpte, pde;

    g_assert_cmphex(pml4e & 3, ==, 3);
    pdpte = rd64(g, (pml4e & ~0xfffULL) + ((va >> 30) & 511) * 8);
    g_assert_cmphex(pdpte & 3, ==, 3);
    g_assert_cmphex(pdpte & 0x80, ==, 0);
    pde = rd64(g, (pdpte & ~0xfffULL) + ((va >> 21) & 511) * 8);
    g_assert_cmphex(pde & 0x83, ==, 0x83);  /* P, RW, 2 MiB page */
    return (pde & ~0x1fffffULL) + (va & 0x1fffff);
}

/* boot_params, page tables, GDT and the 64-bit entry state. */
static void test_linux_bzimage(void)
{
    const char rd[] = "initramfs contents";
    g_autofree char *initrd = tmpfile_with(rd, sizeof(rd) - 1);
    const size_t setup = (LX_SETUP_SECTS + 1) * 512;
    size_t size;
    g_autofree uint8_t *f = bzimage(&size, 0x20f, 0x1);
    X86BootMemOps mem;
    const X86BootState *st;
    const uint8_t *bp;
    uint64_t map[4][3], rd_addr;
    Boot b;

    boot_load(&b, f, size, initrd, "console=ttyS0 root=/dev/ram", RAM_ABOVE);
    g_assert_cmpint(x86_boot_image_format(b.img), ==, X86_BOOT_LINUX);
    st = x86_boot_image_state(b.img);
    g_assert_cmpint(st->mode, ==, X86_BOOT_MODE_LONG64);
    g_assert_cmphex(st->rip, ==, 0x100200);
    g_assert_cmphex(st->rsi, ==, 0x8000);
    g_assert_cmphex(st->cr0, ==, 0x80000001);
    g_assert_cmphex(st->cr3, ==, 0x2000);
    g_assert_cmphex(st->cr4, ==, 0x20);
    g_assert_cmphex(st->efer, ==, 0x500);
    g_assert_cmphex(st->cs.selector, ==, 0x10);
    g_assert_cmpuint(st->cs.l, ==, 1);
    g_assert_cmpuint(st->cs.db, ==, 0);
    g_assert_cmphex(st->ds.selector, ==, 0x18);
    check_gdt(&b.g, st);

    /* The protected-mode code at 1 MiB. */
    g_assert_cmpmem(guest_ptr(&b.g, 0x100000, LX_PAYLOAD), LX_PAYLOAD,
                    f + setup, LX_PAYLOAD);

    /* boot_params: zero, then the setup header, then the loader's fields. */
    bp = guest_ptr(&b.g, st->rsi, 4096);
    for (unsigned i = 0; i < 0x1f1; i++) {
        if (i < 0x70 || i >= 0x78) {    /* acpi_rsdp_addr: below */
            g_assert_cmphex(bp[i], ==, i == 0x1e8 ? 4 : 0);
        }
    }
    g_assert_cmphex(bp[0x1f1], ==, LX_SETUP_SECTS);
    g_assert_cmpmem(bp + 0x202, 4, "HdrS", 4);
    g_assert_cmphex(rd32(&b.g, 0x8000 + 0x206) & 0xffff, ==, 0x20f);
    g_assert_cmphex(bp[0x211], ==, 0x01);
    g_assert_cmpmem(bp + 0x22c, 0x10, f + 0x22c, 0x10);
    g_assert_cmpmem(bp + 0x240, 0x28, f + 0x240, 0x28);
    g_assert_cmphex(rd32(&b.g, 0x8000 + 0x1fa) & 0xffff, ==, 0xffff);
    g_assert_cmphex(bp[0x210], ==, 0xb0);          /* type_of_loader */
    g_assert_cmphex(rd32(&b.g, 0x8000 + 0x23c), ==, 0);
    for (unsigned i = LX_HDR_END; i < 0x2d0; i++) {
        g_assert_cmphex(bp[i], ==, 0);             /* past the header */
    }
    g_assert_cmpstr(rdstr(&b.g, rd32(&b.g, 0x8000 + 0x228)), ==,
                    "console=ttyS0 root=/dev/ram");
    g_assert_cmphex(rd32(&b.g, 0x8000 + 0xc8), ==, 0);

    /* The initrd: page-aligned, at the top of RAM below 4 GiB. */
    rd_addr = rd32(&b.g, 0x8000 + 0x218);
    g_assert_cmphex(rd_addr & 0xfff, ==, 0);
    g_assert_cmphex(rd_addr, ==, (RAM_BELOW - 1 - (sizeof(rd) - 1)) & ~0xfffULL);
    g_assert_cmpuint(rd32(&b.g, 0x8000 + 0x21c), ==, sizeof(rd) - 1);
    g_assert_cmpmem(guest_ptr(&b.g, rd_addr, sizeof(rd) - 1), sizeof(rd) - 1,
                    rd, sizeof(rd) - 1);

    /* e820 */
    g_assert_cmpuint(bp[0x1e8], ==, 4);
    for (unsigned i = 0; i < 4; i++) {
        map[i][0] = rd64(&b.g, 0x8000 + 0x2d0 + i * 20);
        map[i][1] = rd64(&b.g, 0x8000 + 0x2d0 + i * 20 + 8);
        map[i][2] = rd32(&b.g, 0x8000 + 0x2d0 + i * 20 + 16);
    }
    check_map((const uint64_t (*)[3])map, 4, RAM_ABOVE);

    /* No RSDP in guest memory: acpi_rsdp_addr 0; with one, its address,
     * found again at the next write. */
    g_assert_cmphex(rd64(&b.g, 0x8000 + 0x70), ==, 0);
    put_rsdp(&b.g, 0xf5a30);
    mem = (X86BootMemOps){ guest_write, guest_read, &b.g };
    g_assert_true(x86_boot_image_write(b.img, &mem));
    g_assert_cmphex(rd64(&b.g, 0x8000 + 0x70), ==, 0xf5a30);

    /* Identity map of [0, 4 GiB) in 2 MiB pages. */
    g_assert_cmphex(walk(&b.g, st->cr3, 0), ==, 0);
    g_assert_cmphex(walk(&b.g, st->cr3, 0x100200), ==, 0x100200);
    g_assert_cmphex(walk(&b.g, st->cr3, 0x8000), ==, 0x8000);
    g_assert_cmphex(walk(&b.g, st->cr3, 0x12345678), ==, 0x12345678);
    g_assert_cmphex(walk(&b.g, st->cr3, 0xc0000000), ==, 0xc0000000);
    g_assert_cmphex(walk(&b.g, st->cr3, 0xfffff123), ==, 0xfffff123);
    g_assert_cmphex(rd64(&b.g, st->cr3 + 8), ==, 0);   /* nothing above */
    boot_free(&b);
    unlink(initrd);
}

/* The image is rewritten whole at every write (every reset). */
static void test_linux_rewrite(void)
{
    size_t size;
    g_autofree uint8_t *f = bzimage(&size, 0x20c, 0x1);
    g_autofree uint8_t *copy = NULL;
    X86BootMemOps mem;
    Boot b;

    boot_load(&b, f, size, NULL, NULL, 0);
    g_assert_cmpstr(rdstr(&b.g, rd32(&b.g, 0x8000 + 0x228)), ==, "");
    copy = g_memdup2(b.g.low, RAM_BELOW);
    /* The guest scribbles over GDT, page tables, boot_params, cmdline and
     * kernel; the next reset restores every byte. */
    memset(b.g.low + 0x1000, 0x55, 0x28);
    memset(b.g.low + 0x2000, 0x55, 0x7000);
    memset(b.g.low + 0x10000, 0x55, 1);
    memset(b.g.low + 0x100000, 0x55, LX_PAYLOAD);
    mem = (X86BootMemOps){ guest_write, guest_read, &b.g };
    g_assert_true(x86_boot_image_write(b.img, &mem));
    g_assert_cmpmem(b.g.low, RAM_BELOW, copy, RAM_BELOW);
    boot_free(&b);
}

static void test_linux_rejects(void)
{
    size_t size;
    uint8_t *f;
    const char big[] = "0123456789abcdef";
    g_autofree char *cmd = g_strnfill(65, 'x');
    g_autofree char *initrd = tmpfile_with(big, sizeof(big));

    f = bzimage(&size, 0x20b, 0x1);
    expect_error(f, size, NULL, NULL, "Linux boot protocol 2.11 is too old: "
                 "the 64-bit entry needs 2.12 or later");
    g_free(f);

    f = bzimage(&size, 0x20f, 0x0);
    expect_error(f, size, NULL, NULL, "XLF_KERNEL_64 is clear");
    g_free(f);

    f = bzimage(&size, 0x20f, 0x1);
    f[0x211] = 0;
    expect_error(f, size, NULL, NULL, "LOADED_HIGH is clear");
    f[0x211] = 1;
    expect_error(f, size, NULL, cmd,
                 "kernel command line too long (65 > cmdline_size 64)");
    wr32(f + 0x260, RAM_BELOW);     /* init_size past the end of RAM */
    expect_error(f, size, NULL, NULL, "(init_size) but RAM below 4 GiB ends");
    wr32(f + 0x260, 0x400000);
    wr32(f + 0x22c, 0x500000);      /* initrd_addr_max inside the kernel */
    expect_error(f, size, initrd, NULL, "is too large to fit between the "
                 "kernel end 0x500000");
    expect_error(f, size, "/nonexistent/initrd", NULL, "could not load "
                 "initial ram disk '/nonexistent/initrd': No such file or "
                 "directory");
    expect_error(f, 0x400, NULL, NULL, "truncated bzImage");
    f[0x201] = 0xff;                /* header longer than setup_header */
    expect_error(f, size, NULL, NULL, "setup header end 0x301 is invalid");
    g_free(f);
    unlink(initrd);
}

/* --- PVH -------------------------------------------------------------------------------- */

#define PVH_LOAD        0x800000
#define PVH_ENTRY       0x800040

/* A note: namesz, descsz, type, name (padded), desc (padded). */
static size_t put_note(uint8_t *p, const char *name, uint32_t type,
                       const void *desc, uint32_t descsz)
{
    uint32_t namesz = strlen(name) + 1;
    size_t off = 12;

    wr32(p, namesz);
    wr32(p + 4, descsz);
    wr32(p + 8, type);
    memcpy(p + off, name, namesz);
    off += (namesz + 3) & ~3;
    memcpy(p + off, desc, descsz);
    return off + ((descsz + 3) & ~3);
}

static uint8_t *pvh_elf(size_t *size, bool is64, bool with_note)
{
    uint8_t text[256], notes[64] = { 0 }, entry[4], gnu[8] = { 1, 2, 3 };
    size_t nlen;
    Seg segs[2];

    for (unsigned i = 0; i < sizeof(text); i++) {
        text[i] = 0xc3 ^ i;
    }
    wr32(entry, PVH_ENTRY);
    nlen = put_note(notes, "GNU", 3, gnu, sizeof(gnu));
    if (with_note) {
        nlen += put_note(notes + nlen, "Xen", 18, entry, 4);
    }
    segs[0] = (Seg){ 1, PVH_LOAD, 0xffffffff81000000ULL, text, sizeof(text),
                     0x1000 };
    segs[1] = (Seg){ 4, 0, 0, notes, nlen, nlen };
    return build_elf(is64, is64 ? 62 : 3, 0xffffffff81000000ULL, segs, 2,
                     size);
}

/* hvm_start_info at EBX: magic, version, cmdline, modlist, memmap, RSDP. */
static void test_pvh(void)
{
    const char rd[] = "pvh initrd";
    g_autofree char *initrd = tmpfile_with(rd, sizeof(rd) - 1);
    size_t size;
    g_autofree uint8_t *f = pvh_elf(&size, true, true);
    const X86BootState *st;
    uint64_t si, mods, mm, map[4][3];
    Boot b;

    /* The RSDP is found where the ACPI tables were written before. */
    boot_load(&b, f, size, initrd, "root=/dev/vda", 0);
    g_assert_cmphex(rd64(&b.g, 0x8000 + 32), ==, 0);
    put_rsdp(&b.g, 0xe0040);
    {
        X86BootMemOps mem = { guest_write, guest_read, &b.g };

        g_assert_true(x86_boot_image_write(b.img, &mem));
    }
    g_assert_cmpint(x86_boot_image_format(b.img), ==, X86_BOOT_PVH);
    st = x86_boot_image_state(b.img);
    check_prot32(st, PVH_ENTRY);
    g_assert_cmphex(st->rbx, ==, 0x8000);
    check_gdt(&b.g, st);
    g_assert_cmpmem(guest_ptr(&b.g, PVH_LOAD, 256), 256, f + seg_offset(f, 0),
                    256);
    g_assert_cmphex(b.g.low[PVH_LOAD + 0xfff], ==, 0);

    si = st->rbx;
    g_assert_cmphex(rd32(&b.g, si), ==, 0x336ec578);
    g_assert_cmpuint(rd32(&b.g, si + 4), ==, 1);
    g_assert_cmpuint(rd32(&b.g, si + 8), ==, 0);
    g_assert_cmpuint(rd32(&b.g, si + 12), ==, 1);
    g_assert_cmpstr(rdstr(&b.g, rd64(&b.g, si + 24)), ==, "root=/dev/vda");
    g_assert_cmphex(rd64(&b.g, si + 32), ==, 0xe0040);
    mods = rd64(&b.g, si + 16);
    g_assert_cmphex(rd64(&b.g, mods) & 0xfff, ==, 0);
    g_assert_cmpuint(rd64(&b.g, mods + 8), ==, sizeof(rd) - 1);
    g_assert_cmpuint(rd64(&b.g, mods + 16), ==, 0);
    g_assert_cmpmem(guest_ptr(&b.g, rd64(&b.g, mods), sizeof(rd) - 1),
                    sizeof(rd) - 1, rd, sizeof(rd) - 1);
    mm = rd64(&b.g, si + 40);
    g_assert_cmpuint(rd32(&b.g, si + 48), ==, 3);
    for (unsigned i = 0; i < 3; i++) {
        map[i][0] = rd64(&b.g, mm + i * 24);
        map[i][1] = rd64(&b.g, mm + i * 24 + 8);
        map[i][2] = rd32(&b.g, mm + i * 24 + 16);
        g_assert_cmpuint(rd32(&b.g, mm + i * 24 + 20), ==, 0);
    }
    check_map((const uint64_t (*)[3])map, 3, 0);
    boot_free(&b);
    unlink(initrd);
}

/* ELF32 PVH (an i386 kernel), no initrd, no RSDP: zeros. */
static void test_pvh_elf32(void)
{
    size_t size;
    g_autofree uint8_t *f = pvh_elf(&size, false, true);
    Boot b;

    boot_load(&b, f, size, NULL, NULL, 0);
    check_prot32(x86_boot_image_state(b.img), PVH_ENTRY);
    g_assert_cmpuint(rd32(&b.g, 0x8000 + 12), ==, 0);
    g_assert_cmphex(rd64(&b.g, 0x8000 + 16), ==, 0);
    g_assert_cmphex(rd64(&b.g, 0x8000 + 32), ==, 0);
    g_assert_cmpstr(rdstr(&b.g, rd64(&b.g, 0x8000 + 24)), ==, "");
    boot_free(&b);
}

static void test_pvh_rejects(void)
{
    size_t size;
    uint8_t *f = pvh_elf(&size, true, false);
    const uint8_t junk[600] = { 1, 2, 3 };

    expect_error(f, size, NULL, NULL,
                 "Error loading uncompressed kernel without PVH ELF Note");
    g_free(f);

    /* A note whose descriptor runs past its segment. */
    f = pvh_elf(&size, true, true);
    wr32(f + seg_offset(f, 1) + 4, 0x1000);    /* the GNU note's descsz */
    expect_error(f, size, NULL, NULL, "malformed ELF note");
    g_free(f);

    expect_error(junk, sizeof(junk), NULL, NULL,
                 "not a multiboot, PVH ELF or Linux bzImage kernel");
}

static void test_missing_files(void)
{
    X86BootConfig cfg = {
        .kernel_filename = "/nonexistent/kernel",
        .below_4g_mem_size = RAM_BELOW,
    };
    Error *err = NULL;

    g_assert_null(x86_boot_image_load(&cfg, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "could not load kernel "
                    "'/nonexistent/kernel': No such file or directory");
    error_free(err);
    err = NULL;

    cfg.kernel_filename = "/";
    g_assert_null(x86_boot_image_load(&cfg, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "could not load kernel '/': Is a directory");
    error_free(err);
}

/*
 * Header bytes of every kind of image, mutated: each load either fails
 * with an error or gives an image whose every byte lands in guest RAM.
 */
static void test_mutated_headers(void)
{
    g_autoptr(GRand) rand = g_rand_new_with_seed(0x8086);
    uint8_t *images[5];
    size_t sizes[5];
    Guest g;
    X86BootMemOps mem = { guest_write, guest_read, &g };
    unsigned loaded = 0, refused = 0;

    images[0] = mb_elf32(&sizes[0], 0x3, true);
    images[1] = bzimage(&sizes[1], 0x20f, 0x3);
    images[2] = pvh_elf(&sizes[2], true, true);
    images[3] = pvh_elf(&sizes[3], false, true);
    images[4] = g_malloc0(0x200);
    sizes[4] = 0x200;
    put_mb_header(images[4] + 0x40, 0x10002);
    wr32(images[4] + 0x40 + 12, 0x200040);
    wr32(images[4] + 0x40 + 16, 0x200000);
    wr32(images[4] + 0x40 + 28, 0x200000);
    guest_init(&g, RAM_BELOW, RAM_ABOVE);
    for (unsigned i = 0; i < 200 * G_N_ELEMENTS(images); i++) {
        unsigned which = i % G_N_ELEMENTS(images);
        g_autofree uint8_t *f = g_memdup2(images[which], sizes[which]);
        g_autofree char *path = NULL;
        unsigned flips = g_rand_int_range(rand, 1, 5);
        X86BootConfig cfg = {
            .below_4g_mem_size = RAM_BELOW, .above_4g_mem_size = RAM_ABOVE,
        };
        Error *err = NULL;
        X86BootImage *img;

        for (unsigned j = 0; j < flips; j++) {
            size_t off = g_rand_int_range(rand, 0, MIN(sizes[which], 0x300));

            f[off] = g_rand_int_range(rand, 0, 256);
        }
        path = tmpfile_with(f, sizes[which]);
        cfg.kernel_filename = path;
        img = x86_boot_image_load(&cfg, &err);
        g_assert_true(!img != !err);
        if (img) {
            g_assert_true(x86_boot_image_write(img, &mem));
            x86_boot_image_free(img);
            loaded++;
        } else {
            error_free(err);
            refused++;
        }
        unlink(path);
    }
    g_test_message("%u mutated images loaded, %u refused", loaded, refused);
    g_assert_cmpuint(loaded, >, 0);
    g_assert_cmpuint(refused, >, 0);
    for (unsigned i = 0; i < G_N_ELEMENTS(images); i++) {
        g_free(images[i]);
    }
    guest_free(&g);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/x86-boot/multiboot/elf32-info", test_multiboot_elf32);
    g_test_add_func("/x86-boot/multiboot/no-append", test_multiboot_no_append);
    g_test_add_func("/x86-boot/multiboot/elf32-wrapped-64bit",
                    test_multiboot_elf32_wrapped64);
    g_test_add_func("/x86-boot/multiboot/aout-kludge", test_multiboot_aout);
    g_test_add_func("/x86-boot/multiboot/rejects", test_multiboot_rejects);
    g_test_add_func("/x86-boot/multiboot/aout-rejects",
                    test_multiboot_aout_rejects);
    g_test_add_func("/x86-boot/linux/bzimage-64bit", test_linux_bzimage);
    g_test_add_func("/x86-boot/linux/rewritten-at-every-write",
                    test_linux_rewrite);
    g_test_add_func("/x86-boot/linux/rejects", test_linux_rejects);
    g_test_add_func("/x86-boot/pvh/elf64-start-info", test_pvh);
    g_test_add_func("/x86-boot/pvh/elf32", test_pvh_elf32);
    g_test_add_func("/x86-boot/pvh/rejects", test_pvh_rejects);
    g_test_add_func("/x86-boot/missing-files", test_missing_files);
    g_test_add_func("/x86-boot/mutated-headers", test_mutated_headers);
    return g_test_run();
}
