/*
 * -kernel, -initrd and -append on q35 under -accel qtest: the loaded
 * image and its boot structures are in guest memory after start and again
 * after system_reset (docs/boot.md); bad options stop start-up with one
 * error line.
 */
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "libqtest.h"

#define MB_LOAD         0x400000
#define MB_TEXT         0x100
#define MB_BSS          0x2000
#define MB_INFO         0x9500
#define GDT             0x1000
#define PVH_LOAD        0x800000
#define PVH_START_INFO  0x8000

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

static char *tmpfile_with(const void *data, size_t len)
{
    g_autoptr(GError) err = NULL;
    char *path = NULL;
    int fd = g_file_open_tmp("kernel-load-XXXXXX", &path, &err);

    g_assert_no_error(err);
    g_assert_cmpint(write(fd, data, len), ==, len);
    close(fd);
    return path;
}

/*
 * An ELF32 file with one PT_LOAD segment at paddr (text bytes, then bss)
 * and optionally a PT_NOTE segment.
 */
static uint8_t *elf32(uint32_t paddr, const uint8_t *text, uint32_t len,
                      uint32_t bss, const uint8_t *note, uint32_t note_len,
                      size_t *size)
{
    const uint32_t text_off = 0x80, note_off = text_off + len;
    uint8_t *f;

    *size = note_off + note_len;
    f = g_malloc0(*size);
    memcpy(f, "\x7f" "ELF\x01\x01\x01", 7);
    wr16(f + 16, 2);
    wr16(f + 18, 3);                    /* EM_386 */
    wr32(f + 20, 1);
    wr32(f + 24, paddr);                /* entry: the start of the text */
    wr32(f + 28, 52);
    wr16(f + 40, 52);
    wr16(f + 42, 32);
    wr16(f + 44, note ? 2 : 1);
    wr32(f + 52, 1);                    /* PT_LOAD */
    wr32(f + 56, text_off);
    wr32(f + 60, paddr);
    wr32(f + 64, paddr);
    wr32(f + 68, len);
    wr32(f + 72, len + bss);
    memcpy(f + text_off, text, len);
    if (note) {
        wr32(f + 84, 4);                /* PT_NOTE */
        wr32(f + 88, note_off);
        wr32(f + 100, note_len);
        wr32(f + 104, note_len);
        memcpy(f + note_off, note, note_len);
    }
    return f;
}

/* A multiboot kernel whose text starts with the header. */
static char *multiboot_kernel(uint8_t *text)
{
    g_autofree uint8_t *f = NULL;
    size_t size;

    for (unsigned i = 0; i < MB_TEXT; i++) {
        text[i] = i * 13 + 1;
    }
    wr32(text, 0x1badb002);
    wr32(text + 4, 0x2);
    wr32(text + 8, -(0x1badb002u + 0x2));
    f = elf32(MB_LOAD, text, MB_TEXT, MB_BSS, NULL, 0, &size);
    return tmpfile_with(f, size);
}

static char *read_string(QTestState *s, uint64_t addr)
{
    GString *str = g_string_new(NULL);

    for (uint8_t c; (c = qtest_readb(s, addr)) && str->len < 4096; addr++) {
        g_string_append_c(str, c);
    }
    return g_string_free(str, false);
}

/* Everything a multiboot kernel finds at entry. */
static void check_multiboot(QTestState *s, const uint8_t *text,
                            const char *kernel, const char *module,
                            const char *mod_data, size_t mod_len)
{
    uint8_t got[MB_TEXT];
    g_autofree char *cmdline = NULL, *want = NULL, *mod_str = NULL;
    g_autofree uint8_t *mod = g_malloc(mod_len);
    uint32_t mods;

    qtest_memread(s, MB_LOAD, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), text, MB_TEXT);
    for (uint32_t a = MB_LOAD + MB_TEXT; a < MB_LOAD + MB_TEXT + MB_BSS;
         a += 0x400) {
        g_assert_cmphex(qtest_readl(s, a), ==, 0);
    }
    g_assert_cmphex(qtest_readl(s, MB_INFO), ==, 0x24f);
    g_assert_cmpuint(qtest_readl(s, MB_INFO + 4), ==, 639);
    g_assert_cmpuint(qtest_readl(s, MB_INFO + 8), ==, (128 - 1) * 1024);
    cmdline = read_string(s, qtest_readl(s, MB_INFO + 16));
    want = g_strdup_printf("%s console=ttyS0", kernel);
    g_assert_cmpstr(cmdline, ==, want);
    g_assert_cmpuint(qtest_readl(s, MB_INFO + 20), ==, 1);
    mods = qtest_readl(s, MB_INFO + 24);
    g_assert_cmphex(qtest_readl(s, mods), ==, MB_LOAD + 0x3000);
    g_assert_cmphex(qtest_readl(s, mods + 4), ==, MB_LOAD + 0x3000 + mod_len);
    mod_str = read_string(s, qtest_readl(s, mods + 8));
    g_assert_cmpstr(mod_str, ==, module);
    qtest_memread(s, MB_LOAD + 0x3000, mod, mod_len);
    g_assert_cmpmem(mod, mod_len, mod_data, mod_len);
    /* mmap: 4 entries of the contract for 128 MiB, the first at 0. */
    g_assert_cmpuint(qtest_readl(s, MB_INFO + 44), ==, 3 * 24);
    g_assert_cmpuint(qtest_readq(s, qtest_readl(s, MB_INFO + 48) + 52), ==,
                     0x100000);
    g_assert_cmpuint(qtest_readq(s, qtest_readl(s, MB_INFO + 48) + 60), ==,
                     128 * 1024 * 1024 - 0x100000);
    g_assert_cmphex(qtest_readq(s, GDT + 8), ==, 0x00cf9b000000ffffULL);
}

/* The image is in guest memory at start, and again after system_reset
 * over a guest that overwrote all of it. */
static void test_multiboot_reset(void)
{
    uint8_t text[MB_TEXT];
    const char mod_data[] = "KEY=VALUE\n";
    g_autofree char *kernel = multiboot_kernel(text);
    g_autofree char *mod = tmpfile_with(mod_data, sizeof(mod_data) - 1);
    g_autofree char *mod_str = g_strdup_printf("%s envfile", mod);
    QTestState *s;

    /* Through "sh -c": the quotes keep the module's argument with it. */
    s = qtest_initf("-M q35 -m 128 -kernel %s -append console=ttyS0 "
                    "-initrd '%s'", kernel, mod_str);
    check_multiboot(s, text, kernel, mod_str, mod_data, sizeof(mod_data) - 1);

    qtest_memset(s, MB_LOAD, 0x5a, 0x4000);
    qtest_memset(s, 0x1000, 0x5a, 0x1f000);
    g_assert_cmphex(qtest_readl(s, MB_INFO), ==, 0x5a5a5a5a);
    qtest_qmp_assert_success(s, "{\"execute\": \"system_reset\"}");
    qtest_qmp_eventwait(s, "RESET");
    check_multiboot(s, text, kernel, mod_str, mod_data, sizeof(mod_data) - 1);
    qtest_quit(s);
    unlink(kernel);
    unlink(mod);
}

/* PVH: the start info points at the RSDP of the ACPI tables written
 * before the kernel at reset. */
static void test_pvh_rsdp(void)
{
    uint8_t text[64] = { 0xf4 }, note[20] = { 0 };
    g_autofree uint8_t *f = NULL;
    g_autofree char *kernel = NULL, *cmdline = NULL;
    uint64_t rsdp;
    char sig[8];
    size_t size;
    QTestState *s;

    wr32(note, 4);                      /* namesz */
    wr32(note + 4, 4);                  /* descsz */
    wr32(note + 8, 18);                 /* XEN_ELFNOTE_PHYS32_ENTRY */
    memcpy(note + 12, "Xen", 4);
    wr32(note + 16, PVH_LOAD);
    f = elf32(PVH_LOAD, text, sizeof(text), 0, note, sizeof(note), &size);
    kernel = tmpfile_with(f, size);
    s = qtest_initf("-M q35 -kernel %s -append root=/dev/vda", kernel);
    g_assert_cmphex(qtest_readl(s, PVH_START_INFO), ==, 0x336ec578);
    g_assert_cmpuint(qtest_readl(s, PVH_START_INFO + 4), ==, 1);
    cmdline = read_string(s, qtest_readq(s, PVH_START_INFO + 24));
    g_assert_cmpstr(cmdline, ==, "root=/dev/vda");
    g_assert_cmphex(qtest_readb(s, PVH_LOAD), ==, 0xf4);
    rsdp = qtest_readq(s, PVH_START_INFO + 32);
    g_assert_cmphex(rsdp, >=, 0xe0000);
    g_assert_cmphex(rsdp, <, 0x100000);
    qtest_memread(s, rsdp, sig, sizeof(sig));
    g_assert_cmpmem(sig, sizeof(sig), "RSD PTR ", 8);
    qtest_quit(s);
    unlink(kernel);
}

static void test_startup_errors(void)
{
    const uint8_t junk[1024] = { 1, 2, 3, 4 };
    uint8_t text[MB_TEXT];
    g_autofree char *bad = tmpfile_with(junk, sizeof(junk));
    g_autofree char *kernel = multiboot_kernel(text);
    g_autofree char *args = NULL, *msg = NULL;

    qtest_expect_startup_error("-M q35 -initrd /tmp/whatever",
                               ": -initrd only allowed with -kernel option");
    qtest_expect_startup_error("-M q35 -append console=ttyS0",
                               ": -append only allowed with -kernel option");
    qtest_expect_startup_error("-M q35 -kernel /nonexistent/vmlinuz",
                               ": could not load kernel "
                               "'/nonexistent/vmlinuz': No such file or "
                               "directory");
    args = g_strdup_printf("-M q35 -kernel %s", bad);
    msg = g_strdup_printf("could not load kernel '%s': not a multiboot, PVH "
                          "ELF or Linux bzImage kernel", bad);
    qtest_expect_startup_error(args, msg);
    g_free(args);
    g_free(msg);
    args = g_strdup_printf("-M q35 -kernel %s -initrd /nonexistent/mod",
                           kernel);
    msg = g_strdup_printf("could not load kernel '%s': could not load "
                          "multiboot module '/nonexistent/mod': No such file "
                          "or directory", kernel);
    qtest_expect_startup_error(args, msg);
    unlink(bad);
    unlink(kernel);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kernel-load/multiboot/loaded-and-reloaded-at-reset",
                    test_multiboot_reset);
    g_test_add_func("/kernel-load/pvh/start-info-rsdp", test_pvh_rsdp);
    g_test_add_func("/kernel-load/startup-errors", test_startup_errors);
    return g_test_run();
}
