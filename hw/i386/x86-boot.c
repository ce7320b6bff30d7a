/*
 * x86 direct kernel boot: format detection, the image (blobs written at
 * every reset), the shared memory map, GDT and ELF program headers, and
 * the machine glue.  The formats are in multiboot.c, linux-boot.c and
 * pvh.c; docs/boot.md describes the result.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hw/boards.h"
#include "system/memory.h"
#include "x86-boot-internal.h"

#define TYPE_X86_BOOT           "x86-boot"
#define ACPI_SCAN_START         0xe0000ULL
#define ACPI_SCAN_END           0x100000ULL

/* --- The image --------------------------------------------------------------- */

bool x86_boot_range_is_ram(const X86BootImage *img, uint64_t addr,
                           uint64_t len)
{
    uint64_t below = img->cfg->below_4g_mem_size;
    uint64_t above = img->cfg->above_4g_mem_size;

    if (len > UINT64_MAX - addr) {
        return false;
    }
    if (addr + len <= below) {
        return true;
    }
    return addr >= X86_4G && addr - X86_4G <= above &&
           len <= above - (addr - X86_4G);
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
                           uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

bool x86_boot_add_blob(X86BootImage *img, const char *what, uint64_t addr,
                       const void *data, uint64_t len, uint64_t zero_len,
                       bool internal, Error **errp)
{
    X86BootBlob blob = { .addr = addr, .len = len, .zero_len = zero_len };
    uint64_t total = len + zero_len;

    if (total < len || !x86_boot_range_is_ram(img, addr, total)) {
        error_setg(errp, "%s [0x%" PRIx64 ", +0x%" PRIx64 ") is outside "
                   "guest RAM", what, addr, total);
        return false;
    }
    if (!internal &&
        (ranges_overlap(addr, total, X86_BOOT_AREA_START,
                        X86_BOOT_AREA_END - X86_BOOT_AREA_START) ||
         ranges_overlap(addr, total, X86_BOOT_LOW_RAM_END,
                        X86_BOOT_HIGH_START - X86_BOOT_LOW_RAM_END))) {
        error_setg(errp, "%s [0x%" PRIx64 ", +0x%" PRIx64 ") overlaps the "
                   "loader's boot area [0x%llx, 0x%llx) or the reserved "
                   "[0x%llx, 0x%llx)", what, addr, total, X86_BOOT_AREA_START,
                   X86_BOOT_AREA_END, X86_BOOT_LOW_RAM_END,
                   X86_BOOT_HIGH_START);
        return false;
    }
    blob.data = g_memdup2(data, len);
    g_array_append_val(img->blobs, blob);
    return true;
}

bool x86_boot_add_string(X86BootImage *img, const char *s, uint64_t *addr,
                         Error **errp)
{
    size_t len = strlen(s) + 1;

    if (len > X86_BOOT_AREA_END - img->strings_next) {
        error_setg(errp, "command lines too long: more than %llu bytes",
                   X86_BOOT_AREA_END - X86_BOOT_STRINGS_ADDR);
        return false;
    }
    *addr = img->strings_next;
    img->strings_next += len;
    return x86_boot_add_blob(img, "command line", *addr, s, len, 0, true,
                             errp);
}

bool x86_boot_add_initrd(X86BootImage *img, uint64_t max, uint64_t kernel_end,
                         uint64_t *addr, uint64_t *size, Error **errp)
{
    const char *path = img->cfg->initrd_filename;
    g_autofree uint8_t *data = NULL;
    size_t len;

    if (!x86_boot_read_file(img, path, &data, &len)) {
        error_setg(errp, "could not load initial ram disk '%s': %s", path,
                   g_strerror(errno));
        return false;
    }
    if (len > max || ((max - len) & ~(X86_PAGE_SIZE - 1)) < kernel_end) {
        error_setg(errp, "initrd '%s' (0x%zx bytes) is too large to fit "
                   "between the kernel end 0x%" PRIx64 " and 0x%" PRIx64,
                   path, len, kernel_end, max);
        return false;
    }
    *addr = (max - len) & ~(X86_PAGE_SIZE - 1);
    *size = len;
    return x86_boot_add_blob(img, "initrd", *addr, data, len, 0, false, errp);
}

unsigned x86_boot_e820(const X86BootImage *img, X86BootE820 *map)
{
    uint64_t below = img->cfg->below_4g_mem_size;
    uint64_t above = img->cfg->above_4g_mem_size;
    unsigned n = 0;

    map[n++] = (X86BootE820){ 0, X86_BOOT_LOW_RAM_END, E820_RAM };
    map[n++] = (X86BootE820){ X86_BOOT_LOW_RAM_END,
                              X86_BOOT_HIGH_START - X86_BOOT_LOW_RAM_END,
                              E820_RESERVED };
    if (below > X86_BOOT_HIGH_START) {
        map[n++] = (X86BootE820){ X86_BOOT_HIGH_START,
                                  below - X86_BOOT_HIGH_START, E820_RAM };
    }
    if (above) {
        map[n++] = (X86BootE820){ X86_4G, above, E820_RAM };
    }
    return n;
}

/* --- GDT and entry states ----------------------------------------------------- */

/* A flat segment descriptor (Intel SDM vol. 3 3.4.5), limit 4 GiB. */
static uint64_t gdt_flat(uint8_t type, bool l, bool db)
{
    return 0xffffULL | 0xfULL << 48 |           /* limit 0xfffff, G = 1 */
           (uint64_t)(type | 0x90) << 40 |      /* type, S = 1, P = 1 */
           (uint64_t)l << 53 | (uint64_t)db << 54 | 1ULL << 55;
}

bool x86_boot_add_gdt(X86BootImage *img, Error **errp)
{
    uint64_t gdt[X86_BOOT_GDT_ENTRIES] = {
        [X86_BOOT_SEL_CODE32 / 8] = gdt_flat(0xb, false, true),
        [X86_BOOT_SEL_CODE64 / 8] = gdt_flat(0xb, true, false),
        [X86_BOOT_SEL_DATA / 8] = gdt_flat(0x3, false, true),
        /* busy 32-bit TSS, base 0, limit 0x67, P = 1 */
        [X86_BOOT_SEL_TSS / 8] = 0x67ULL | 0x8bULL << 40,
    };
    uint8_t bytes[sizeof(gdt)];

    for (unsigned i = 0; i < X86_BOOT_GDT_ENTRIES; i++) {
        x86_boot_stq(bytes + i * 8, gdt[i]);
    }
    img->state.gdt_base = X86_BOOT_GDT_ADDR;
    img->state.gdt_limit = sizeof(gdt) - 1;
    return x86_boot_add_blob(img, "GDT", X86_BOOT_GDT_ADDR, bytes,
                             sizeof(bytes), 0, true, errp);
}

static X86BootSegment seg_flat(uint16_t sel, uint8_t type, bool l, bool db)
{
    return (X86BootSegment){
        .base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
        .present = 1, .dpl = 0, .db = db, .s = 1, .l = l, .g = 1,
    };
}

static X86BootSegment seg_tss(void)
{
    return (X86BootSegment){
        .base = 0, .limit = 0x67, .selector = X86_BOOT_SEL_TSS, .type = 0xb,
        .present = 1,
    };
}

void x86_boot_state_prot32(X86BootState *st, uint32_t entry)
{
    st->mode = X86_BOOT_MODE_PROT32;
    st->rip = entry;
    st->rflags = 0x2;
    st->cr0 = 0x1;                          /* PE */
    st->cs = seg_flat(X86_BOOT_SEL_CODE32, 0xb, false, true);
    st->ds = seg_flat(X86_BOOT_SEL_DATA, 0x3, false, true);
    st->tr = seg_tss();
}

/* Linux's entry uses the same GDT with __BOOT_CS/__BOOT_DS. */
void x86_boot_state_long64(X86BootState *st, uint64_t entry, uint64_t cr3)
{
    st->mode = X86_BOOT_MODE_LONG64;
    st->rip = entry;
    st->rflags = 0x2;
    st->cr0 = 0x80000001;                   /* PG, PE */
    st->cr3 = cr3;
    st->cr4 = 0x20;                         /* PAE */
    st->efer = 0x500;                       /* LMA, LME */
    st->cs = seg_flat(X86_BOOT_SEL_CODE64, 0xb, true, false);
    st->ds = seg_flat(X86_BOOT_SEL_DATA, 0x3, false, true);
    st->tr = seg_tss();
}

/* The architectural reset state (SDM vol. 3 9.1.1). */
static void state_reset(X86BootState *st)
{
    *st = (X86BootState){
        .mode = X86_BOOT_MODE_REAL,
        .rip = 0xfff0,
        .rflags = 0x2,
        .cr0 = 0x60000010,
        .gdt_limit = 0xffff,
        .cs = { .base = 0xffff0000, .limit = 0xffff, .selector = 0xf000,
                .type = 0xb, .present = 1, .s = 1 },
        .ds = { .limit = 0xffff, .type = 0x3, .present = 1, .s = 1 },
        .tr = { .limit = 0xffff, .type = 0xb, .present = 1 },
    };
}

/* --- ELF ------------------------------------------------------------------------ */

#define EI_CLASS                4
#define EI_DATA                 5
#define ELFCLASS32              1
#define ELFCLASS64              2
#define ELFDATA2LSB             1

bool x86_boot_is_elf(const uint8_t *file, size_t size)
{
    return size >= 4 && !memcmp(file, "\x7f" "ELF", 4);
}

bool x86_boot_elf_parse(const uint8_t *file, size_t size, X86BootElf *elf,
                        Error **errp)
{
    size_t ehsize, phentsize_min;
    uint64_t phoff;
    unsigned phentsize;

    memset(elf, 0, sizeof(*elf));
    if (size < 16 || !x86_boot_is_elf(file, size) ||
        (file[EI_CLASS] != ELFCLASS32 && file[EI_CLASS] != ELFCLASS64) ||
        file[EI_DATA] != ELFDATA2LSB) {
        error_setg(errp, "not a little-endian ELF file");
        return false;
    }
    elf->is64 = file[EI_CLASS] == ELFCLASS64;
    ehsize = elf->is64 ? 64 : 52;
    phentsize_min = elf->is64 ? 56 : 32;
    if (size < ehsize) {
        error_setg(errp, "truncated ELF header");
        return false;
    }
    elf->machine = x86_boot_lduw(file + 18);
    if (elf->is64) {
        elf->entry = x86_boot_ldq(file + 24);
        phoff = x86_boot_ldq(file + 32);
        phentsize = x86_boot_lduw(file + 54);
        elf->phnum = x86_boot_lduw(file + 56);
    } else {
        elf->entry = x86_boot_ldl(file + 24);
        phoff = x86_boot_ldl(file + 28);
        phentsize = x86_boot_lduw(file + 42);
        elf->phnum = x86_boot_lduw(file + 44);
    }
    if (!elf->phnum) {
        error_setg(errp, "ELF file has no program headers");
        return false;
    }
    if (phentsize < phentsize_min) {
        error_setg(errp, "ELF program header size %u is below %zu",
                   phentsize, phentsize_min);
        return false;
    }
    if (phoff > size ||
        (uint64_t)phentsize * elf->phnum > size - phoff) {
        error_setg(errp, "ELF program headers (offset 0x%" PRIx64 ", %u x "
                   "%u bytes) are beyond the end of the file", phoff,
                   elf->phnum, phentsize);
        return false;
    }
    elf->phdrs = g_new0(X86BootElfPhdr, elf->phnum);
    for (unsigned i = 0; i < elf->phnum; i++) {
        const uint8_t *p = file + phoff + (uint64_t)i * phentsize;
        X86BootElfPhdr *ph = &elf->phdrs[i];

        ph->type = x86_boot_ldl(p);
        if (elf->is64) {
            ph->offset = x86_boot_ldq(p + 8);
            ph->vaddr = x86_boot_ldq(p + 16);
            ph->paddr = x86_boot_ldq(p + 24);
            ph->filesz = x86_boot_ldq(p + 32);
            ph->memsz = x86_boot_ldq(p + 40);
        } else {
            ph->offset = x86_boot_ldl(p + 4);
            ph->vaddr = x86_boot_ldl(p + 8);
            ph->paddr = x86_boot_ldl(p + 12);
            ph->filesz = x86_boot_ldl(p + 16);
            ph->memsz = x86_boot_ldl(p + 20);
        }
        if ((ph->type == ELF_PT_LOAD || ph->type == ELF_PT_NOTE) &&
            (ph->offset > size || ph->filesz > size - ph->offset)) {
            error_setg(errp, "ELF segment %u (offset 0x%" PRIx64 ", size "
                       "0x%" PRIx64 ") is beyond the end of the file", i,
                       ph->offset, ph->filesz);
            g_free(elf->phdrs);
            elf->phdrs = NULL;
            return false;
        }
    }
    return true;
}

bool x86_boot_elf_load(X86BootImage *img, const X86BootElf *elf,
                       uint64_t *low, uint64_t *high, Error **errp)
{
    *low = UINT64_MAX;
    *high = 0;
    for (unsigned i = 0; i < elf->phnum; i++) {
        const X86BootElfPhdr *ph = &elf->phdrs[i];
        g_autofree char *what = NULL;

        if (ph->type != ELF_PT_LOAD || !ph->memsz) {
            continue;
        }
        if (ph->memsz < ph->filesz) {
            error_setg(errp, "ELF segment %u: memory size 0x%" PRIx64
                       " is below its file size 0x%" PRIx64, i, ph->memsz,
                       ph->filesz);
            return false;
        }
        what = g_strdup_printf("ELF segment %u", i);
        if (!x86_boot_add_blob(img, what, ph->paddr, img->file + ph->offset,
                               ph->filesz, ph->memsz - ph->filesz, false,
                               errp)) {
            return false;
        }
        *low = MIN(*low, ph->paddr);
        *high = MAX(*high, ph->paddr + ph->memsz);
    }
    if (*high == 0) {
        error_setg(errp, "ELF file has no loadable segment");
        return false;
    }
    return true;
}

/* --- Load and write ------------------------------------------------------------- */

bool x86_boot_read_file(const X86BootImage *img, const char *path,
                        uint8_t **data, size_t *size)
{
    uint64_t limit = img->cfg->below_4g_mem_size + img->cfg->above_4g_mem_size;
    struct stat st;
    uint8_t *buf;
    size_t done = 0;
    int fd, saved;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    if (fstat(fd, &st) < 0) {
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        goto fail;
    }
    if ((uint64_t)st.st_size > limit) {
        errno = EFBIG;              /* cannot fit in guest RAM */
        goto fail;
    }
    buf = g_malloc(st.st_size ? st.st_size : 1);
    while (done < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + done, st.st_size - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            saved = n ? errno : EIO;
            g_free(buf);
            close(fd);
            errno = saved;
            return false;
        }
        done += n;
    }
    close(fd);
    *data = buf;
    *size = done;
    return true;

fail:
    saved = errno;
    close(fd);
    errno = saved;
    return false;
}

void x86_boot_image_free(X86BootImage *img)
{
    if (!img) {
        return;
    }
    for (guint i = 0; i < img->blobs->len; i++) {
        g_free(g_array_index(img->blobs, X86BootBlob, i).data);
    }
    g_array_free(img->blobs, true);
    g_free(img);
}

static bool image_load_format(X86BootImage *img, Error **errp)
{
    X86BootElf elf;
    uint32_t entry;
    int found;
    bool ok;

    /* QEMU's order: HdrS, then a multiboot header, then a PVH note. */
    if (x86_boot_linux_detect(img->file, img->file_size)) {
        img->format = X86_BOOT_LINUX;
        return x86_boot_linux_load(img, errp);
    }
    if (x86_boot_multiboot_find(img->file, img->file_size)) {
        img->format = X86_BOOT_MULTIBOOT;
        return x86_boot_multiboot_load(img, errp);
    }
    if (!x86_boot_is_elf(img->file, img->file_size)) {
        error_setg(errp, "not a multiboot, PVH ELF or Linux bzImage kernel");
        return false;
    }
    if (!x86_boot_elf_parse(img->file, img->file_size, &elf, errp)) {
        return false;
    }
    found = x86_boot_pvh_find_entry(img->file, img->file_size, &elf, &entry,
                                    errp);
    if (found == 0) {
        error_setg(errp, "Error loading uncompressed kernel without PVH ELF "
                   "Note");
    }
    ok = found > 0;
    if (ok) {
        img->format = X86_BOOT_PVH;
        ok = x86_boot_pvh_load(img, &elf, entry, errp);
    }
    g_free(elf.phdrs);
    return ok;
}

X86BootImage *x86_boot_image_load(const X86BootConfig *cfg, Error **errp)
{
    X86BootImage *img = g_new0(X86BootImage, 1);
    uint8_t *file = NULL;
    size_t size = 0;
    bool ok;

    img->blobs = g_array_new(false, true, sizeof(X86BootBlob));
    img->cfg = cfg;
    img->strings_next = X86_BOOT_STRINGS_ADDR;
    state_reset(&img->state);
    if (!x86_boot_read_file(img, cfg->kernel_filename, &file, &size)) {
        error_setg(errp, "could not load kernel '%s': %s",
                   cfg->kernel_filename, g_strerror(errno));
        x86_boot_image_free(img);
        return NULL;
    }
    img->file = file;
    img->file_size = size;
    ok = image_load_format(img, errp) && x86_boot_add_gdt(img, errp);
    /* The file was copied into blobs; the inputs are not kept. */
    g_free(file);
    img->file = NULL;
    img->file_size = 0;
    img->cfg = NULL;
    if (!ok) {
        error_prepend(errp, "could not load kernel '%s': ",
                      cfg->kernel_filename);
        x86_boot_image_free(img);
        return NULL;
    }
    return img;
}

X86BootFormat x86_boot_image_format(const X86BootImage *img)
{
    return img->format;
}

const X86BootState *x86_boot_image_state(const X86BootImage *img)
{
    return &img->state;
}

/* The RSDP: "RSD PTR " on a 16-byte boundary with a valid ACPI 1.0
 * checksum over its first 20 bytes (ACPI 6.5 5.2.5). */
static uint64_t find_rsdp(const X86BootMemOps *mem)
{
    g_autofree uint8_t *area = g_malloc(ACPI_SCAN_END - ACPI_SCAN_START);

    if (!mem->read(mem->opaque, ACPI_SCAN_START, area,
                   ACPI_SCAN_END - ACPI_SCAN_START)) {
        return 0;
    }
    for (uint64_t off = 0; off + 20 <= ACPI_SCAN_END - ACPI_SCAN_START;
         off += 16) {
        uint8_t sum = 0;

        if (memcmp(area + off, "RSD PTR ", 8)) {
            continue;
        }
        for (int i = 0; i < 20; i++) {
            sum += area[off + i];
        }
        if (!sum) {
            return ACPI_SCAN_START + off;
        }
    }
    return 0;
}

bool x86_boot_image_write(const X86BootImage *img, const X86BootMemOps *mem)
{
    static const uint8_t zeros[4096];
    bool ok = true;

    for (guint i = 0; i < img->blobs->len; i++) {
        const X86BootBlob *b = &g_array_index(img->blobs, X86BootBlob, i);
        uint64_t addr = b->addr + b->len;

        ok &= mem->write(mem->opaque, b->addr, b->data, b->len);
        for (uint64_t left = b->zero_len; left; ) {
            uint64_t n = MIN(left, sizeof(zeros));

            ok &= mem->write(mem->opaque, addr, zeros, n);
            addr += n;
            left -= n;
        }
    }
    if (img->rsdp_field_addr) {
        uint8_t field[8];

        x86_boot_stq(field, find_rsdp(mem));
        ok &= mem->write(mem->opaque, img->rsdp_field_addr, field, 8);
    }
    return ok;
}

/* --- Machine glue ---------------------------------------------------------------- */

typedef struct X86Boot {
    Object parent_obj;
    X86BootImage *img;
    X86BootState reset_state;       /* without -kernel */
} X86Boot;

DECLARE_INSTANCE_CHECKER(X86Boot, X86_BOOT, TYPE_X86_BOOT)

static bool sysmem_write(void *opaque, uint64_t addr, const void *buf,
                         uint64_t len)
{
    return address_space_write(&address_space_memory, addr,
                               MEMTXATTRS_UNSPECIFIED, buf, len) == MEMTX_OK;
}

static bool sysmem_read(void *opaque, uint64_t addr, void *buf, uint64_t len)
{
    return address_space_read(&address_space_memory, addr,
                              MEMTXATTRS_UNSPECIFIED, buf, len) == MEMTX_OK;
}

static X86Boot *x86_boot_find(MachineState *ms)
{
    Object *obj = object_resolve_path_component(OBJECT(ms), TYPE_X86_BOOT);

    return obj ? X86_BOOT(obj) : NULL;
}

bool x86_boot_init(MachineState *ms, uint64_t below_4g_mem_size,
                   uint64_t above_4g_mem_size, Error **errp)
{
    X86BootConfig cfg = {
        .kernel_filename = ms->kernel_filename,
        .initrd_filename = ms->initrd_filename,
        .cmdline = ms->kernel_cmdline,
        .below_4g_mem_size = below_4g_mem_size,
        .above_4g_mem_size = above_4g_mem_size,
    };
    X86BootImage *img = NULL;
    X86Boot *boot;

    if (ms->kernel_filename) {
        img = x86_boot_image_load(&cfg, errp);
        if (!img) {
            return false;
        }
    }
    boot = X86_BOOT(object_new(TYPE_X86_BOOT));
    boot->img = img;
    object_property_add_child(OBJECT(ms), TYPE_X86_BOOT, OBJECT(boot));
    object_unref(OBJECT(boot));
    return true;
}

void x86_boot_reset(MachineState *ms)
{
    X86Boot *boot = x86_boot_find(ms);
    X86BootMemOps mem = { .write = sysmem_write, .read = sysmem_read };

    if (boot && boot->img && !x86_boot_image_write(boot->img, &mem)) {
        /* Checked against the RAM layout at load time: not reachable
         * unless the memory map changed under us. */
        error_report("x86-boot: the kernel image could not be written to "
                     "guest RAM");
    }
}

const X86BootState *x86_boot_state(MachineState *ms)
{
    X86Boot *boot = x86_boot_find(ms);

    if (!boot) {
        return NULL;
    }
    return boot->img ? &boot->img->state : &boot->reset_state;
}

static void x86_boot_instance_init(Object *obj)
{
    state_reset(&X86_BOOT(obj)->reset_state);
}

static void x86_boot_instance_finalize(Object *obj)
{
    x86_boot_image_free(X86_BOOT(obj)->img);
}

static const TypeInfo x86_boot_types[] = {
    {
        .name = TYPE_X86_BOOT,
        .parent = TYPE_OBJECT,
        .instance_size = sizeof(X86Boot),
        .instance_init = x86_boot_instance_init,
        .instance_finalize = x86_boot_instance_finalize,
    },
};

DEFINE_TYPES(x86_boot_types)
