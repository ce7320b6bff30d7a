/*
 * fw_cfg over port I/O (control_boot_facts E, docs/platform.md):
 * signature, ID, the x86 machine items (NB_CPUS, MAX_CPUS, RAM_SIZE
 * = -m, etc/e820), the file directory, selector semantics (offset reset,
 * past-the-end and invalid keys read 0, data writes ignored, reset), and
 * the DMA interface.
 */
#include <string.h>
#include <glib.h>

#include "libqtest.h"

#define FW_PORT_SEL     0x510
#define FW_PORT_DATA    0x511
#define FW_PORT_DMA     0x514

#define FW_SIGNATURE    0x00
#define FW_ID           0x01
#define FW_RAM_SIZE     0x03
#define FW_NB_CPUS      0x05
#define FW_MAX_CPUS     0x0f
#define FW_FILE_DIR     0x19
#define FW_IRQ0_OVERRIDE 0x8002

#define DMA_CTL_ERROR   0x01
#define DMA_CTL_READ    0x02
#define DMA_CTL_SKIP    0x04
#define DMA_CTL_SELECT  0x08
#define DMA_CTL_WRITE   0x10

#define DESC_ADDR       0x10000
#define BUF_ADDR        0x20000

static void fw_select(QTestState *s, uint16_t key)
{
    qtest_outw(s, FW_PORT_SEL, key);
}

static void fw_read(QTestState *s, void *buf, size_t len)
{
    uint8_t *p = buf;

    for (size_t i = 0; i < len; i++) {
        p[i] = qtest_inb(s, FW_PORT_DATA);
    }
}

static uint64_t fw_read_le(QTestState *s, uint16_t key, size_t len)
{
    uint8_t b[8];
    uint64_t v = 0;

    fw_select(s, key);
    fw_read(s, b, len);
    for (size_t i = 0; i < len; i++) {
        v |= (uint64_t)b[i] << (8 * i);
    }
    return v;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* The selector and size of file name from FILE_DIR; false if absent. */
static bool fw_find_file(QTestState *s, const char *name, uint16_t *sel,
                         uint32_t *size)
{
    uint8_t cnt[4], e[64];
    uint32_t n;
    char prev[57] = "";
    bool found = false;

    fw_select(s, FW_FILE_DIR);
    fw_read(s, cnt, 4);
    n = be32(cnt);
    g_assert_cmpuint(n, >=, 1);
    g_assert_cmpuint(n, <=, 0x20);
    for (uint32_t i = 0; i < n; i++) {
        char fname[57] = { 0 };

        fw_read(s, e, sizeof(e));
        memcpy(fname, e + 8, 56);
        /* Sorted by name, selectors from 0x20 in that order, reserved 0. */
        g_assert_cmpint(strcmp(prev, fname), <, 0);
        g_assert_cmphex(e[4] << 8 | e[5], ==, 0x20 + i);
        g_assert_cmphex(e[6] | e[7], ==, 0);
        strcpy(prev, fname);
        if (!strcmp(fname, name)) {
            *sel = e[4] << 8 | e[5];
            *size = be32(e);
            found = true;
        }
    }
    return found;
}

static void test_signature_id(void)
{
    QTestState *s = qtest_init("-M q35");
    char sig[5] = { 0 };

    fw_select(s, FW_SIGNATURE);
    fw_read(s, sig, 4);
    g_assert_cmpstr(sig, ==, "QEMU");
    /* Traditional interface and DMA. */
    g_assert_cmphex(fw_read_le(s, FW_ID, 4), ==, 3);
    g_assert_cmphex(fw_read_le(s, FW_IRQ0_OVERRIDE, 4), ==, 1);
    /* The DMA register reads "QEMU CFG" in port order. */
    g_assert_cmphex(qtest_inl(s, FW_PORT_DMA), ==, 0x554d4551);
    g_assert_cmphex(qtest_inl(s, FW_PORT_DMA + 4), ==, 0x47464320);
    qtest_quit(s);
}

static void test_machine_items(void)
{
    QTestState *s = qtest_init("-M q35 -m 256");

    g_assert_cmpuint(fw_read_le(s, FW_NB_CPUS, 2), ==, 1);
    g_assert_cmpuint(fw_read_le(s, FW_MAX_CPUS, 2), ==, 1);
    g_assert_cmphex(fw_read_le(s, FW_RAM_SIZE, 8), ==, 256ull << 20);
    qtest_quit(s);

    s = qtest_init("-M q35 -m 3G -smp 2,maxcpus=4");
    g_assert_cmpuint(fw_read_le(s, FW_NB_CPUS, 2), ==, 2);
    g_assert_cmpuint(fw_read_le(s, FW_MAX_CPUS, 2), ==, 4);
    g_assert_cmphex(fw_read_le(s, FW_RAM_SIZE, 8), ==, 3ull << 30);
    qtest_quit(s);
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static void test_file_dir_e820(void)
{
    /* 3 GiB: 2 GiB below 4 GiB, 1 GiB above (q35 split). */
    QTestState *s = qtest_init("-M q35 -m 3G");
    uint16_t sel;
    uint32_t size;
    uint8_t e820[40];

    g_assert_true(fw_find_file(s, "etc/e820", &sel, &size));
    g_assert_false(fw_find_file(s, "etc/no-such-file", &sel, &size));
    g_assert_true(fw_find_file(s, "etc/e820", &sel, &size));
    g_assert_cmpuint(size, ==, 40);
    fw_select(s, sel);
    fw_read(s, e820, sizeof(e820));
    g_assert_cmphex(le64(e820), ==, 0);
    g_assert_cmphex(le64(e820 + 8), ==, 2ull << 30);
    g_assert_cmphex(e820[16], ==, 1);
    g_assert_cmphex(le64(e820 + 20), ==, 4ull << 30);
    g_assert_cmphex(le64(e820 + 28), ==, 1ull << 30);
    g_assert_cmphex(e820[36], ==, 1);
    /* Past the end: zeros. */
    g_assert_cmphex(qtest_inb(s, FW_PORT_DATA), ==, 0);
    qtest_quit(s);
}

static void test_selector(void)
{
    QTestState *s = qtest_init("-M q35");
    char b[4];

    fw_select(s, FW_SIGNATURE);
    fw_read(s, b, 2);
    g_assert_cmpmem(b, 2, "QE", 2);
    /* Data writes are ignored and do not move the offset. */
    qtest_outb(s, FW_PORT_DATA, 0x55);
    fw_read(s, b, 2);
    g_assert_cmpmem(b, 2, "MU", 2);
    g_assert_cmphex(qtest_inb(s, FW_PORT_DATA), ==, 0);    /* past end */
    /* Selecting again starts over; a byte read of 0x510 reads data. */
    fw_select(s, FW_SIGNATURE);
    g_assert_cmphex(qtest_inb(s, FW_PORT_SEL), ==, 'Q');
    g_assert_cmphex(qtest_inb(s, FW_PORT_DATA), ==, 'E');
    /* An out-of-range key selects nothing: data reads 0. */
    fw_select(s, 0x3fff);
    g_assert_cmphex(qtest_inb(s, FW_PORT_DATA), ==, 0);
    /* The legacy write-channel bit is ignored. */
    fw_select(s, 0x4000 | FW_SIGNATURE);
    g_assert_cmphex(qtest_inb(s, FW_PORT_DATA), ==, 'Q');

    /* system_reset selects the signature again. */
    fw_select(s, FW_ID);
    qtest_inb(s, FW_PORT_DATA);
    qtest_qmp_assert_success(s, "{\"execute\": \"system_reset\"}");
    qtest_qmp_eventwait(s, "RESET");
    g_assert_cmphex(qtest_inb(s, FW_PORT_DATA), ==, 'Q');
    qtest_quit(s);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

/* Runs one DMA descriptor; returns the control word written back. */
static uint32_t fw_dma(QTestState *s, uint32_t control, uint32_t len,
                       uint64_t addr)
{
    uint8_t d[16];

    put_be32(d, control);
    put_be32(d + 4, len);
    put_be32(d + 8, addr >> 32);
    put_be32(d + 12, addr);
    qtest_memwrite(s, DESC_ADDR, d, sizeof(d));
    /* The guest stores big-endian values: byte-swapped outl. */
    qtest_outl(s, FW_PORT_DMA, 0);
    qtest_outl(s, FW_PORT_DMA + 4, __builtin_bswap32(DESC_ADDR));
    qtest_memread(s, DESC_ADDR, d, 4);
    return be32(d);
}

static void test_dma(void)
{
    QTestState *s = qtest_init("-M q35 -m 128");
    uint8_t buf[12];

    /* Select + read past the end: the rest is zero-filled. */
    qtest_memset(s, BUF_ADDR, 0xaa, sizeof(buf));
    g_assert_cmphex(fw_dma(s, FW_SIGNATURE << 16 | DMA_CTL_SELECT |
                           DMA_CTL_READ, 8, BUF_ADDR), ==, 0);
    qtest_memread(s, BUF_ADDR, buf, sizeof(buf));
    g_assert_cmpmem(buf, 8, "QEMU\0\0\0\0", 8);
    g_assert_cmphex(buf[8], ==, 0xaa);

    /* Skip then read, continuing at the offset. */
    g_assert_cmphex(fw_dma(s, FW_RAM_SIZE << 16 | DMA_CTL_SELECT |
                           DMA_CTL_SKIP, 3, 0), ==, 0);
    g_assert_cmphex(fw_dma(s, DMA_CTL_READ, 1, BUF_ADDR), ==, 0);
    g_assert_cmphex(qtest_readb(s, BUF_ADDR), ==, (128u << 20) >> 24);
    /* The port interface continues from the DMA offset. */
    g_assert_cmphex(qtest_inb(s, FW_PORT_DATA), ==, 0);

    /* Items are read-only: a write sets the error bit. */
    g_assert_cmphex(fw_dma(s, FW_SIGNATURE << 16 | DMA_CTL_SELECT |
                           DMA_CTL_WRITE, 4, BUF_ADDR), ==, DMA_CTL_ERROR);
    /* A buffer outside RAM is an error too, not a crash. */
    g_assert_cmphex(fw_dma(s, FW_SIGNATURE << 16 | DMA_CTL_SELECT |
                           DMA_CTL_READ, 4, 0xfff00000000ull), ==,
                    DMA_CTL_ERROR);
    qtest_quit(s);
}

static void test_qom(void)
{
    QTestState *s = qtest_init("-M q35");
    JsonObject *rsp = qtest_qmp(s, "{\"execute\": \"qom-get\", \"arguments\":"
                                " {\"path\": \"/machine/fw_cfg\", "
                                "\"property\": \"dma_enabled\"}}");

    g_assert_true(json_node_get_boolean(qmp_expect_return(rsp)));
    json_object_unref(rsp);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/fw-cfg/signature-id", test_signature_id);
    g_test_add_func("/fw-cfg/machine-items", test_machine_items);
    g_test_add_func("/fw-cfg/file-dir/e820", test_file_dir_e820);
    g_test_add_func("/fw-cfg/selector", test_selector);
    g_test_add_func("/fw-cfg/dma", test_dma);
    g_test_add_func("/fw-cfg/qom", test_qom);
    return g_test_run();
}
