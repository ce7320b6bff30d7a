/*
 * pasid-testdev (docs/pasid-testdev.md) without a vIOMMU: identity and
 * capabilities, registers and access sizes, DMA in both directions and of
 * every length landing at the guest-physical address, the PASID and
 * privileged-mode rules of the PASID capability, failures the memory core
 * reports, MSI on completion, reset and hot-plug.  That the PASID reaches
 * a vIOMMU is tested with the vIOMMUs.
 */
#include <string.h>
#include <glib.h>

#include "libqtest.h"
#include "../../include/hw/misc/pasid-testdev-regs.h"

#define PTD_DEVFN       (3 << 3)
#define RAM_SIZE        (128u << 20)
#define ECAM_BASE       0xb0000000ull
#define RP_ARGS         "-M q35 -device pcie-root-port,id=rp0,addr=04.0," \
                        "chassis=1,slot=1"

#define PCI_VENDOR_ID           0x00
#define PCI_COMMAND             0x04
#define  PCI_COMMAND_MEMORY     0x2
#define  PCI_COMMAND_MASTER     0x4
#define PCI_STATUS              0x06
#define  PCI_STATUS_CAP_LIST    0x10
#define PCI_REVISION_ID         0x08
#define PCI_CLASS_PROG          0x09
#define PCI_CLASS_DEVICE        0x0a
#define PCI_HEADER_TYPE         0x0e
#define PCI_BASE_ADDRESS_0      0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_INTERRUPT_PIN       0x3d
#define PCI_CAP_ID_MSI          0x05
#define PCI_CAP_ID_EXP          0x10
#define PCI_MSI_FLAGS           0x02
#define PCI_EXP_FLAGS           0x02
#define  PCI_EXP_FLAGS_TYPE     0x00f0
#define  PCI_EXP_TYPE_ENDPOINT  0x0
#define  PCI_EXP_TYPE_RC_END    0x9
#define PCI_EXP_LNKCAP          0x0c

#define ST_DONE         PTD_DMA_STATUS_DONE
#define ST_REFUSED      (PTD_DMA_STATUS_DONE | PTD_DMA_STATUS_REFUSED)
#define ST_FAILED(res)  (PTD_DMA_STATUS_DONE | PTD_DMA_STATUS_ERROR | \
                         (res) << PTD_DMA_STATUS_RESULT_SHIFT)

typedef struct Ptd {
    QTestState *s;
    uint64_t bar;
} Ptd;

/* opts: more pasid-testdev properties (",pasid-width=8"), or "". */
static Ptd ptd_start(const char *opts)
{
    Ptd p;

    p.s = qtest_initf("-M q35 -m 128M -device pasid-testdev,addr=03.0%s",
                      opts);
    p.bar = qpci_config_readl(p.s, 0, PTD_DEVFN, PCI_BASE_ADDRESS_0) & ~0xfu;
    g_assert_cmphex(p.bar, !=, 0);
    return p;
}

static uint64_t ecam(int bus, int devfn, int off)
{
    return ECAM_BASE + ((uint64_t)bus << 20 | devfn << 12 | off);
}

static uint32_t rd(Ptd *p, unsigned reg)
{
    return qtest_readl(p->s, p->bar + reg);
}

static void wr(Ptd *p, unsigned reg, uint32_t v)
{
    qtest_writel(p->s, p->bar + reg, v);
}

static void set_bus_master(Ptd *p, bool on)
{
    qpci_config_writew(p->s, 0, PTD_DEVFN, PCI_COMMAND,
                       PCI_COMMAND_MEMORY | (on ? PCI_COMMAND_MASTER : 0));
}

/* PASID control through ECAM: config space from 0x100 has no other way. */
static void set_pasid_ctrl(Ptd *p, uint16_t ctrl)
{
    qtest_writew(p->s, ecam(0, PTD_DEVFN, PTD_PASID_CAP_OFFSET +
                            PTD_PASID_CTRL), ctrl);
}

static uint16_t pasid_ctrl(Ptd *p)
{
    return qtest_readw(p->s, ecam(0, PTD_DEVFN, PTD_PASID_CAP_OFFSET +
                                  PTD_PASID_CTRL));
}

static void enable_msi(Ptd *p, uint64_t addr, uint16_t data)
{
    uint8_t msi = qpci_find_capability(p->s, 0, PTD_DEVFN, PCI_CAP_ID_MSI);

    qpci_config_writel(p->s, 0, PTD_DEVFN, msi + 4, (uint32_t)addr);
    qpci_config_writel(p->s, 0, PTD_DEVFN, msi + 8, addr >> 32);
    qpci_config_writew(p->s, 0, PTD_DEVFN, msi + 0xc, data);
    qpci_config_writew(p->s, 0, PTD_DEVFN, msi + 2, 0x0081);
}

/* Programs and starts one DMA; it is complete on return.  The status. */
static uint32_t dma(Ptd *p, uint64_t addr, uint32_t len, uint32_t pasid,
                    uint32_t flags)
{
    qtest_writeq(p->s, p->bar + PTD_REG_DMA_ADDR, addr);
    wr(p, PTD_REG_DMA_LEN, len);
    wr(p, PTD_REG_DMA_PASID, pasid);
    wr(p, PTD_REG_DMA_FLAGS, flags);
    wr(p, PTD_REG_DMA_CMD, PTD_DMA_CMD_START);
    return rd(p, PTD_REG_DMA_STATUS);
}

static void fill(uint8_t *buf, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = seed + i * 7 + (i >> 8);
    }
}

static void buf_write(Ptd *p, const uint8_t *data, size_t len)
{
    qtest_memwrite(p->s, p->bar + PTD_BUF_OFFSET, data, len);
}

static void buf_read(Ptd *p, uint8_t *data, size_t len)
{
    qtest_memread(p->s, p->bar + PTD_BUF_OFFSET, data, len);
}

static void assert_ram(Ptd *p, uint64_t addr, const uint8_t *want, size_t len)
{
    g_autofree uint8_t *got = g_malloc(len);

    qtest_memread(p->s, addr, got, len);
    g_assert_cmpmem(got, len, want, len);
}

static void assert_ram_zero(Ptd *p, uint64_t addr, size_t len)
{
    g_autofree uint8_t *zero = g_malloc0(len);

    assert_ram(p, addr, zero, len);
}

static void assert_buf(Ptd *p, const uint8_t *want, size_t len)
{
    g_autofree uint8_t *got = g_malloc(len);

    buf_read(p, got, len);
    g_assert_cmpmem(got, len, want, len);
}

/* --- Identity and configuration space ------------------------------------- */

static void test_ids(void)
{
    Ptd p = ptd_start("");
    QTestState *s = p.s;

    g_assert_cmphex(qpci_config_readw(s, 0, PTD_DEVFN, PCI_VENDOR_ID), ==,
                    PTD_PCI_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(s, 0, PTD_DEVFN, 2), ==,
                    PTD_PCI_DEVICE_ID);
    g_assert_cmphex(qpci_config_readl(s, 0, PTD_DEVFN, 0), ==, 0x00f11b36);
    g_assert_cmphex(qpci_config_readb(s, 0, PTD_DEVFN, PCI_REVISION_ID), ==,
                    PTD_PCI_REVISION);
    g_assert_cmphex(qpci_config_readw(s, 0, PTD_DEVFN, PCI_CLASS_DEVICE), ==,
                    0x00ff);
    g_assert_cmphex(qpci_config_readb(s, 0, PTD_DEVFN, PCI_CLASS_PROG), ==, 0);
    g_assert_cmphex(qpci_config_readb(s, 0, PTD_DEVFN, PCI_HEADER_TYPE), ==, 0);
    g_assert_cmphex(qpci_config_readl(s, 0, PTD_DEVFN,
                                      PCI_SUBSYSTEM_VENDOR_ID), ==, 0x11001af4);
    g_assert_cmphex(qpci_config_readb(s, 0, PTD_DEVFN, PCI_INTERRUPT_PIN), ==,
                    0);
    /* Firmware enabled memory decode only; BAR0 is 8 KiB, 32-bit. */
    g_assert_cmphex(qpci_config_readw(s, 0, PTD_DEVFN, PCI_COMMAND), ==,
                    PCI_COMMAND_MEMORY);
    g_assert_cmphex(qpci_config_readl(s, 0, PTD_DEVFN, PCI_BASE_ADDRESS_0) &
                    0xf, ==, 0);
    g_assert_cmphex(qpci_bar_map(s, 0, PTD_DEVFN, 0, p.bar), ==,
                    PTD_BAR0_SIZE);
    g_assert_cmphex(rd(&p, PTD_REG_ID), ==, PTD_ID_VALUE);
    qtest_quit(s);
}

static void test_caps(void)
{
    Ptd p = ptd_start("");
    QTestState *s = p.s;
    uint64_t pasid = ecam(0, PTD_DEVFN, PTD_PASID_CAP_OFFSET);
    uint8_t msi, exp;

    g_assert_cmphex(qpci_config_readw(s, 0, PTD_DEVFN, PCI_STATUS) &
                    PCI_STATUS_CAP_LIST, ==, PCI_STATUS_CAP_LIST);
    msi = qpci_find_capability(s, 0, PTD_DEVFN, PCI_CAP_ID_MSI);
    g_assert_cmphex(msi, !=, 0);
    /* 64-bit, one vector, no per-vector masking, disabled. */
    g_assert_cmphex(qpci_config_readw(s, 0, PTD_DEVFN, msi + PCI_MSI_FLAGS),
                    ==, 0x0080);

    /* On the root bus: a Root Complex Integrated Endpoint, no link. */
    exp = qpci_find_capability(s, 0, PTD_DEVFN, PCI_CAP_ID_EXP);
    g_assert_cmphex(exp, !=, 0);
    g_assert_cmphex(qpci_config_readw(s, 0, PTD_DEVFN, exp + PCI_EXP_FLAGS),
                    ==, PCI_EXP_TYPE_RC_END << 4 | 2);
    g_assert_cmphex(qpci_config_readl(s, 0, PTD_DEVFN, exp + PCI_EXP_LNKCAP),
                    ==, 0);

    /* The PASID extended capability, alone in the extended space. */
    g_assert_cmphex(qtest_readl(s, ecam(0, PTD_DEVFN, 0)), ==, 0x00f11b36);
    g_assert_cmphex(qtest_readl(s, pasid), ==, 0x0001001b);
    g_assert_cmphex(PTD_EXT_CAP_ID(qtest_readl(s, pasid)), ==,
                    PTD_PASID_EXT_CAP_ID);
    g_assert_cmphex(PTD_EXT_CAP_VER(qtest_readl(s, pasid)), ==, 1);
    g_assert_cmphex(PTD_EXT_CAP_NEXT(qtest_readl(s, pasid)), ==, 0);
    g_assert_cmphex(qtest_readw(s, pasid + PTD_PASID_CAP), ==,
                    20 << PTD_PASID_CAP_WIDTH_SHIFT | PTD_PASID_CAP_EXEC |
                    PTD_PASID_CAP_PRIV);
    g_assert_cmphex(qtest_readw(s, pasid + PTD_PASID_CTRL), ==, 0);
    g_assert_cmphex(qtest_readl(s, pasid + PTD_PASID_CAP_SIZEOF), ==, 0);
    g_assert_cmphex(qtest_readl(s, ecam(0, PTD_DEVFN, 0xffc)), ==, 0);

    /* Control: the three enables are writable, nothing else. */
    qtest_writel(s, pasid + PTD_PASID_CAP, 0xffffffff);
    g_assert_cmphex(qtest_readl(s, pasid + PTD_PASID_CAP), ==,
                    (uint32_t)(PTD_PASID_CTRL_ENABLE | PTD_PASID_CTRL_EXEC |
                               PTD_PASID_CTRL_PRIV) << 16 |
                    20 << PTD_PASID_CAP_WIDTH_SHIFT | PTD_PASID_CAP_EXEC |
                    PTD_PASID_CAP_PRIV);
    set_pasid_ctrl(&p, PTD_PASID_CTRL_ENABLE);
    g_assert_cmphex(pasid_ctrl(&p), ==, PTD_PASID_CTRL_ENABLE);
    qtest_writel(s, pasid, 0);
    g_assert_cmphex(qtest_readl(s, pasid), ==, 0x0001001b);
    qtest_quit(s);

    /* pasid-width shows in Max PASID Width. */
    p = ptd_start(",pasid-width=5");
    g_assert_cmphex(qtest_readw(p.s, ecam(0, PTD_DEVFN, PTD_PASID_CAP_OFFSET +
                                          PTD_PASID_CAP)), ==,
                    5 << PTD_PASID_CAP_WIDTH_SHIFT | PTD_PASID_CAP_EXEC |
                    PTD_PASID_CAP_PRIV);
    qtest_quit(p.s);
}

static void assert_qmp_error(JsonObject *rsp, const char *desc)
{
    g_autofree char *got = qmp_expect_error(rsp, "GenericError");

    g_assert_cmpstr(got, ==, desc);
    json_object_unref(rsp);
}

static void test_pasid_width_invalid(void)
{
    QTestState *s = qtest_init(RP_ARGS);

    assert_qmp_error(qtest_qmp(s, "{\"execute\": \"device_add\", "
                               "\"arguments\": {\"driver\": \"pasid-testdev\","
                               " \"bus\": \"rp0\", \"pasid-width\": 0}}"),
                     "pasid-testdev: pasid-width 0 out of range (1-20)");
    assert_qmp_error(qtest_qmp(s, "{\"execute\": \"device_add\", "
                               "\"arguments\": {\"driver\": \"pasid-testdev\","
                               " \"bus\": \"rp0\", \"pasid-width\": 21}}"),
                     "pasid-testdev: pasid-width 21 out of range (1-20)");
    qtest_quit(s);
}

/* Behind a root port: an endpoint with a link; add/del cycles. */
static void test_hotplug(void)
{
    QTestState *s = qtest_init(RP_ARGS);

    for (int i = 0; i < 2; i++) {
        uint8_t exp;

        qtest_qmp_device_add(s, "pasid-testdev", "p1",
                             "\"bus\": \"rp0\", \"pasid-width\": 16");
        g_assert_cmphex(qtest_readl(s, ecam(1, 0, 0)), ==, 0x00f11b36);
        exp = qpci_find_capability(s, 1, 0, PCI_CAP_ID_EXP);
        g_assert_cmphex(qpci_config_readw(s, 1, 0, exp + PCI_EXP_FLAGS) &
                        PCI_EXP_FLAGS_TYPE, ==, PCI_EXP_TYPE_ENDPOINT << 4);
        g_assert_cmphex(qpci_config_readl(s, 1, 0, exp + PCI_EXP_LNKCAP), !=,
                        0);
        g_assert_cmphex(qtest_readl(s, ecam(1, 0, PTD_PASID_CAP_OFFSET)), ==,
                        0x0001001b);
        g_assert_cmphex(qtest_readw(s, ecam(1, 0, PTD_PASID_CAP_OFFSET +
                                            PTD_PASID_CAP)) &
                        PTD_PASID_CAP_WIDTH_MASK, ==,
                        16 << PTD_PASID_CAP_WIDTH_SHIFT);
        qtest_qmp_device_del(s, "p1");
        g_assert_cmphex(qtest_readl(s, ecam(1, 0, 0)), ==, 0xffffffff);
    }
    qtest_quit(s);
}

/* --- Registers ------------------------------------------------------------ */

static void test_registers(void)
{
    Ptd p = ptd_start("");
    QTestState *s = p.s;
    static const unsigned unlisted[] = {
        0x04, 0x24, 0x28, 0x100, 0x800, 0xffc,
    };

    /* DMA_ADDR: one qword or two dwords. */
    qtest_writeq(s, p.bar + PTD_REG_DMA_ADDR, 0x123456789abcdef0ull);
    g_assert_cmphex(qtest_readq(s, p.bar + PTD_REG_DMA_ADDR), ==,
                    0x123456789abcdef0ull);
    g_assert_cmphex(rd(&p, PTD_REG_DMA_ADDR), ==, 0x9abcdef0);
    g_assert_cmphex(rd(&p, PTD_REG_DMA_ADDR_HI), ==, 0x12345678);
    wr(&p, PTD_REG_DMA_ADDR_HI, 0xfedcba98);
    wr(&p, PTD_REG_DMA_ADDR, 0x76543210);
    g_assert_cmphex(qtest_readq(s, p.bar + PTD_REG_DMA_ADDR), ==,
                    0xfedcba9876543210ull);

    /* LEN and PASID keep what was written, even values DMA refuses. */
    wr(&p, PTD_REG_DMA_LEN, 0xffffffff);
    g_assert_cmphex(rd(&p, PTD_REG_DMA_LEN), ==, 0xffffffff);
    wr(&p, PTD_REG_DMA_PASID, 0xfff12345);
    g_assert_cmphex(rd(&p, PTD_REG_DMA_PASID), ==, 0xfff12345);
    /* A qword at 0x10 is LEN then PASID. */
    qtest_writeq(s, p.bar + PTD_REG_DMA_LEN, 0x8000000700000100ull);
    g_assert_cmphex(rd(&p, PTD_REG_DMA_LEN), ==, 0x100);
    g_assert_cmphex(rd(&p, PTD_REG_DMA_PASID), ==, 0x80000007);
    /* FLAGS keeps its defined bits. */
    wr(&p, PTD_REG_DMA_FLAGS, 0xffffffff);
    g_assert_cmphex(rd(&p, PTD_REG_DMA_FLAGS), ==, PTD_DMA_FLAGS_ALL);
    /* CMD reads 0; STATUS and ID are read-only; no DMA yet. */
    g_assert_cmphex(rd(&p, PTD_REG_DMA_CMD), ==, 0);
    g_assert_cmphex(rd(&p, PTD_REG_DMA_STATUS), ==, 0);
    wr(&p, PTD_REG_DMA_STATUS, 0xffffffff);
    g_assert_cmphex(rd(&p, PTD_REG_DMA_STATUS), ==, 0);
    wr(&p, PTD_REG_ID, 0);
    g_assert_cmphex(rd(&p, PTD_REG_ID), ==, PTD_ID_VALUE);
    /* A CMD write without START does nothing. */
    wr(&p, PTD_REG_DMA_CMD, 0xfffffffe);
    g_assert_cmphex(rd(&p, PTD_REG_DMA_STATUS), ==, 0);

    /* Unlisted offsets read 0 and ignore writes. */
    for (size_t i = 0; i < G_N_ELEMENTS(unlisted); i++) {
        wr(&p, unlisted[i], 0xa5a5a5a5);
        g_assert_cmphex(rd(&p, unlisted[i]), ==, 0);
    }
    g_assert_cmphex(qtest_readq(s, p.bar + 0xff8), ==, 0);

    /* 1- and 2-byte register accesses are refused by the memory core. */
    g_assert_cmphex(qtest_readb(s, p.bar + PTD_REG_ID), ==, 0);
    g_assert_cmphex(qtest_readw(s, p.bar + PTD_REG_ID + 2), ==, 0);
    qtest_writeb(s, p.bar + PTD_REG_DMA_LEN, 0x55);
    qtest_writew(s, p.bar + PTD_REG_DMA_LEN + 2, 0x5555);
    g_assert_cmphex(rd(&p, PTD_REG_DMA_LEN), ==, 0x100);
    qtest_quit(s);
}

static void test_buffer_window(void)
{
    Ptd p = ptd_start("");
    QTestState *s = p.s;
    uint64_t b = p.bar + PTD_BUF_OFFSET;
    uint8_t pattern[PTD_BUF_SIZE];

    g_assert_cmphex(qtest_readq(s, b), ==, 0);
    qtest_writeb(s, b + 1, 0x11);
    qtest_writew(s, b + 2, 0x3322);
    qtest_writel(s, b + 4, 0x77665544);
    g_assert_cmphex(qtest_readq(s, b), ==, 0x7766554433221100ull);
    qtest_writeq(s, b + PTD_BUF_SIZE - 8, 0x0123456789abcdefull);
    g_assert_cmphex(qtest_readl(s, b + PTD_BUF_SIZE - 4), ==, 0x01234567);
    g_assert_cmphex(qtest_readb(s, b + PTD_BUF_SIZE - 1), ==, 0x01);

    fill(pattern, sizeof(pattern), 0x42);
    buf_write(&p, pattern, sizeof(pattern));
    assert_buf(&p, pattern, sizeof(pattern));
    qtest_quit(s);
}

/* --- DMA ------------------------------------------------------------------ */

static void test_dma_write_to_ram(void)
{
    Ptd p = ptd_start("");
    uint8_t pattern[PTD_BUF_SIZE];

    fill(pattern, sizeof(pattern), 0x10);
    buf_write(&p, pattern, sizeof(pattern));
    set_bus_master(&p, true);

    /* Odd address and length; the bytes around are untouched. */
    g_assert_cmphex(dma(&p, 0x123457, 777, 0, PTD_DMA_FLAG_TO_MEM), ==,
                    ST_DONE);
    assert_ram(&p, 0x123457, pattern, 777);
    assert_ram_zero(&p, 0x123000, 0x457);
    assert_ram_zero(&p, 0x123457 + 777, 0x100);

    /* The whole buffer, to the last byte of RAM. */
    g_assert_cmphex(dma(&p, RAM_SIZE - PTD_BUF_SIZE, PTD_BUF_SIZE, 0,
                        PTD_DMA_FLAG_TO_MEM), ==, ST_DONE);
    assert_ram(&p, RAM_SIZE - PTD_BUF_SIZE, pattern, PTD_BUF_SIZE);
    /* The buffer itself is unchanged by a write. */
    assert_buf(&p, pattern, sizeof(pattern));
    qtest_quit(p.s);
}

static void test_dma_read_from_ram(void)
{
    Ptd p = ptd_start("");
    uint8_t pattern[PTD_BUF_SIZE], want[PTD_BUF_SIZE] = { 0 };

    fill(pattern, sizeof(pattern), 0x99);
    qtest_memwrite(p.s, 0x200000, pattern, sizeof(pattern));
    set_bus_master(&p, true);

    /* A read fills the buffer from offset 0 and leaves the rest. */
    g_assert_cmphex(dma(&p, 0x200003, 100, 0, 0), ==, ST_DONE);
    memcpy(want, pattern + 3, 100);
    assert_buf(&p, want, sizeof(want));

    g_assert_cmphex(dma(&p, 0x200000, PTD_BUF_SIZE, 0, 0), ==, ST_DONE);
    assert_buf(&p, pattern, sizeof(pattern));
    qtest_quit(p.s);
}

/* Round trips of every awkward length, at addresses of every alignment. */
static void test_dma_sizes(void)
{
    static const uint32_t lens[] = { 1, 2, 3, 4, 7, 8, 9, 255, 4095, 4096 };
    Ptd p = ptd_start("");
    uint8_t pattern[PTD_BUF_SIZE];

    set_bus_master(&p, true);
    for (size_t i = 0; i < G_N_ELEMENTS(lens); i++) {
        uint64_t src = 0x300000 + i * 0x2000 + i;
        uint64_t dst = 0x400000 + i * 0x2000 + 2 * i + 1;

        g_test_message("length %u", lens[i]);
        fill(pattern, lens[i], i);
        qtest_memwrite(p.s, src, pattern, lens[i]);
        g_assert_cmphex(dma(&p, src, lens[i], 0, 0), ==, ST_DONE);
        g_assert_cmphex(dma(&p, dst, lens[i], 0, PTD_DMA_FLAG_TO_MEM), ==,
                        ST_DONE);
        assert_ram(&p, dst, pattern, lens[i]);
        assert_ram_zero(&p, dst + lens[i], 16);
        assert_ram_zero(&p, dst - 1, 1);
    }
    qtest_quit(p.s);
}

static void test_dma_bad_length(void)
{
    static const struct {
        uint64_t addr;
        uint32_t len;
    } bad[] = {
        { 0x100000, 0 },
        { 0x100000, PTD_DMA_LEN_MAX + 1 },
        { 0x100000, 0xffffffff },
        { 0xffffffffffffff00ull, 0x101 },    /* wraps past 2^64 */
    };
    Ptd p = ptd_start("");
    uint8_t pattern[PTD_BUF_SIZE];

    fill(pattern, sizeof(pattern), 0x5a);
    buf_write(&p, pattern, sizeof(pattern));
    set_bus_master(&p, true);
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_test_message("case %zu", i);
        g_assert_cmphex(dma(&p, bad[i].addr, bad[i].len, 0,
                            PTD_DMA_FLAG_TO_MEM), ==, ST_REFUSED);
        g_assert_cmphex(dma(&p, bad[i].addr, bad[i].len, 0, 0), ==,
                        ST_REFUSED);
    }
    assert_ram_zero(&p, 0x100000, 2 * PTD_BUF_SIZE);
    assert_buf(&p, pattern, sizeof(pattern));
    /* The last 256 bytes below 2^64 are fine (and unassigned). */
    g_assert_cmphex(dma(&p, 0xffffffffffffff00ull, 0x100, 0, 0), ==,
                    ST_FAILED(PTD_MEMTX_DECODE_ERROR));
    qtest_quit(p.s);
}

static void test_dma_pasid_needs_enable(void)
{
    Ptd p = ptd_start("");
    uint8_t pattern[64];
    uint32_t pasid = PTD_DMA_PASID_VALID | 0x1234;

    fill(pattern, sizeof(pattern), 0x31);
    buf_write(&p, pattern, sizeof(pattern));
    set_bus_master(&p, true);

    g_assert_cmphex(dma(&p, 0x100000, 64, pasid, PTD_DMA_FLAG_TO_MEM), ==,
                    ST_REFUSED);
    g_assert_cmphex(dma(&p, 0x100000, 64, pasid, 0), ==, ST_REFUSED);
    assert_ram_zero(&p, 0x100000, 64);
    /* Execute/Privileged enables are not PASID Enable. */
    set_pasid_ctrl(&p, PTD_PASID_CTRL_EXEC | PTD_PASID_CTRL_PRIV);
    g_assert_cmphex(dma(&p, 0x100000, 64, pasid, PTD_DMA_FLAG_TO_MEM), ==,
                    ST_REFUSED);
    assert_ram_zero(&p, 0x100000, 64);

    /* Enabled: without a vIOMMU the PASID changes nothing visible. */
    set_pasid_ctrl(&p, PTD_PASID_CTRL_ENABLE);
    g_assert_cmphex(dma(&p, 0x100000, 64, pasid, PTD_DMA_FLAG_TO_MEM), ==,
                    ST_DONE);
    assert_ram(&p, 0x100000, pattern, 64);
    /* PASID bits without the valid bit: plain DMA, enable or not. */
    set_pasid_ctrl(&p, 0);
    g_assert_cmphex(dma(&p, 0x100100, 64, 0x1234, PTD_DMA_FLAG_TO_MEM), ==,
                    ST_DONE);
    assert_ram(&p, 0x100100, pattern, 64);
    qtest_quit(p.s);
}

static void test_dma_pasid_width(void)
{
    Ptd p = ptd_start(",pasid-width=8");
    QTestState *s2;

    set_bus_master(&p, true);
    set_pasid_ctrl(&p, PTD_PASID_CTRL_ENABLE);
    g_assert_cmphex(dma(&p, 0x100000, 8, PTD_DMA_PASID_VALID | 0, 0), ==,
                    ST_DONE);
    g_assert_cmphex(dma(&p, 0x100000, 8, PTD_DMA_PASID_VALID | 0xff, 0), ==,
                    ST_DONE);
    g_assert_cmphex(dma(&p, 0x100000, 8, PTD_DMA_PASID_VALID | 0x100, 0), ==,
                    ST_REFUSED);
    g_assert_cmphex(dma(&p, 0x100000, 8, PTD_DMA_PASID_VALID | 0xfffff, 0),
                    ==, ST_REFUSED);
    /* Without the valid bit the value is not looked at. */
    g_assert_cmphex(dma(&p, 0x100000, 8, 0x7fffffff, 0), ==, ST_DONE);
    qtest_quit(p.s);

    /* Default width 20: every 20-bit PASID; bits 30:20 are reserved. */
    p = ptd_start("");
    s2 = p.s;
    set_bus_master(&p, true);
    set_pasid_ctrl(&p, PTD_PASID_CTRL_ENABLE);
    g_assert_cmphex(dma(&p, 0x100000, 8, PTD_DMA_PASID_VALID | 0xfffff, 0),
                    ==, ST_DONE);
    g_assert_cmphex(dma(&p, 0x100000, 8, PTD_DMA_PASID_VALID | 0x100000, 0),
                    ==, ST_REFUSED);
    g_assert_cmphex(dma(&p, 0x100000, 8, PTD_DMA_PASID_VALID | 0x40000001,
                        0), ==, ST_REFUSED);
    qtest_quit(s2);
}

static void test_dma_privileged(void)
{
    Ptd p = ptd_start("");
    uint32_t pasid = PTD_DMA_PASID_VALID | 5;
    uint32_t flags = PTD_DMA_FLAG_PRIV | PTD_DMA_FLAG_TO_MEM;
    uint8_t pattern[16];

    fill(pattern, sizeof(pattern), 0x77);
    buf_write(&p, pattern, sizeof(pattern));
    set_bus_master(&p, true);
    /* Needs a PASID, PASID Enable and Privileged Mode Enable. */
    g_assert_cmphex(dma(&p, 0x100000, 16, 0, flags), ==, ST_REFUSED);
    set_pasid_ctrl(&p, PTD_PASID_CTRL_ENABLE);
    g_assert_cmphex(dma(&p, 0x100000, 16, pasid, flags), ==, ST_REFUSED);
    set_pasid_ctrl(&p, PTD_PASID_CTRL_ENABLE | PTD_PASID_CTRL_PRIV);
    g_assert_cmphex(dma(&p, 0x100000, 16, 0, flags), ==, ST_REFUSED);
    assert_ram_zero(&p, 0x100000, 16);
    g_assert_cmphex(dma(&p, 0x100000, 16, pasid, flags), ==, ST_DONE);
    assert_ram(&p, 0x100000, pattern, 16);
    qtest_quit(p.s);
}

static void test_dma_no_bus_master(void)
{
    Ptd p = ptd_start("");
    uint8_t pattern[256], ram[256];

    fill(pattern, sizeof(pattern), 0x21);
    fill(ram, sizeof(ram), 0xc4);
    buf_write(&p, pattern, sizeof(pattern));
    qtest_memwrite(p.s, 0x100000, ram, sizeof(ram));

    /* With BME clear the bus-master space is empty: a decode error. */
    g_assert_cmphex(dma(&p, 0x200000, 256, 0, PTD_DMA_FLAG_TO_MEM), ==,
                    ST_FAILED(PTD_MEMTX_DECODE_ERROR));
    assert_ram_zero(&p, 0x200000, 256);
    g_assert_cmphex(dma(&p, 0x100000, 256, 0, 0), ==,
                    ST_FAILED(PTD_MEMTX_DECODE_ERROR));
    assert_buf(&p, pattern, sizeof(pattern));

    /* The same requests work once bus mastering is on. */
    set_bus_master(&p, true);
    g_assert_cmphex(dma(&p, 0x200000, 256, 0, PTD_DMA_FLAG_TO_MEM), ==,
                    ST_DONE);
    assert_ram(&p, 0x200000, pattern, 256);
    g_assert_cmphex(dma(&p, 0x100000, 256, 0, 0), ==, ST_DONE);
    assert_buf(&p, ram, sizeof(ram));
    qtest_quit(p.s);
}

static void test_dma_unassigned(void)
{
    /* The PCI hole above RAM, far above everything, and 2^48. */
    static const uint64_t holes[] = {
        0x10000000, 0xa0000000, 0x10000000000ull, 1ull << 48,
    };
    Ptd p = ptd_start("");
    uint8_t pattern[PTD_BUF_SIZE], half[PTD_BUF_SIZE / 2] = { 0 };

    fill(pattern, sizeof(pattern), 0x3c);
    buf_write(&p, pattern, sizeof(pattern));
    set_bus_master(&p, true);
    for (size_t i = 0; i < G_N_ELEMENTS(holes); i++) {
        g_test_message("addr 0x%" G_GINT64_MODIFIER "x", holes[i]);
        g_assert_cmphex(dma(&p, holes[i], 64, 0, PTD_DMA_FLAG_TO_MEM), ==,
                        ST_FAILED(PTD_MEMTX_DECODE_ERROR));
        g_assert_cmphex(dma(&p, holes[i], 64, 0, 0), ==,
                        ST_FAILED(PTD_MEMTX_DECODE_ERROR));
    }
    assert_buf(&p, pattern, sizeof(pattern));

    /*
     * Across the end of RAM: the write fails but the RAM part is written;
     * the read fails and leaves the buffer as it was.
     */
    g_assert_cmphex(dma(&p, RAM_SIZE - sizeof(half), PTD_BUF_SIZE, 0,
                        PTD_DMA_FLAG_TO_MEM), ==,
                    ST_FAILED(PTD_MEMTX_DECODE_ERROR));
    assert_ram(&p, RAM_SIZE - sizeof(half), pattern, sizeof(half));
    qtest_memwrite(p.s, RAM_SIZE - sizeof(half), half, sizeof(half));
    g_assert_cmphex(dma(&p, RAM_SIZE - sizeof(half), PTD_BUF_SIZE, 0, 0), ==,
                    ST_FAILED(PTD_MEMTX_DECODE_ERROR));
    assert_buf(&p, pattern, sizeof(pattern));
    qtest_quit(p.s);
}

/*
 * DMA into the device's own BAR: a start written by the DMA (or by the
 * completion MSI) while one runs is ignored; a copy onto the buffer
 * window goes through the bounce buffer.
 */
static void test_dma_self(void)
{
    Ptd p = ptd_start("");
    uint8_t pattern[64], want[64 + 16], cmd[4] = { PTD_DMA_CMD_START };
    uint64_t addr;
    uint32_t data;

    set_bus_master(&p, true);
    fill(pattern, sizeof(pattern), 0x0e);
    buf_write(&p, pattern, sizeof(pattern));

    g_assert_cmphex(dma(&p, p.bar + PTD_BUF_OFFSET + 16, 64, 0,
                        PTD_DMA_FLAG_TO_MEM), ==, ST_DONE);
    memcpy(want, pattern, 16);
    memcpy(want + 16, pattern, 64);
    assert_buf(&p, want, sizeof(want));

    /* The buffer's first dword is START; written onto DMA_CMD. */
    buf_write(&p, cmd, sizeof(cmd));
    g_assert_cmphex(dma(&p, p.bar + PTD_REG_DMA_CMD, 4, 0,
                        PTD_DMA_FLAG_TO_MEM), ==, ST_DONE);
    /* The MSI message aimed at DMA_CMD with data START. */
    enable_msi(&p, p.bar + PTD_REG_DMA_CMD, PTD_DMA_CMD_START);
    g_assert_cmphex(dma(&p, 0x100000, 4, 0, PTD_DMA_FLAG_MSI), ==, ST_DONE);
    g_assert_false(qtest_msi_pop(p.s, &addr, &data));
    qtest_quit(p.s);
}

static void test_msi(void)
{
    Ptd p = ptd_start("");
    uint64_t addr;
    uint32_t data;

    set_bus_master(&p, true);
    /* MSI disabled: nothing is sent, and nothing else (no INTx pin). */
    g_assert_cmphex(dma(&p, 0x100000, 4, 0, PTD_DMA_FLAG_MSI), ==, ST_DONE);
    g_assert_false(qtest_msi_pop(p.s, &addr, &data));

    enable_msi(&p, 0xfee00000, 0x4062);
    g_assert_cmphex(dma(&p, 0x100000, 4, 0, PTD_DMA_FLAG_MSI), ==, ST_DONE);
    g_assert_true(qtest_msi_pop(p.s, &addr, &data));
    g_assert_cmphex(addr, ==, 0xfee00000);
    g_assert_cmphex(data, ==, 0x4062);
    g_assert_false(qtest_msi_pop(p.s, &addr, &data));
    /* Without the flag: no message. */
    g_assert_cmphex(dma(&p, 0x100000, 4, 0, 0), ==, ST_DONE);
    g_assert_false(qtest_msi_pop(p.s, &addr, &data));
    /* Refused and failed DMAs complete too. */
    g_assert_cmphex(dma(&p, 0x100000, 0, 0, PTD_DMA_FLAG_MSI), ==,
                    ST_REFUSED);
    g_assert_true(qtest_msi_pop(p.s, &addr, &data));
    g_assert_cmphex(dma(&p, 0x10000000, 4, 0, PTD_DMA_FLAG_MSI), ==,
                    ST_FAILED(PTD_MEMTX_DECODE_ERROR));
    g_assert_true(qtest_msi_pop(p.s, &addr, &data));
    g_assert_cmphex(data, ==, 0x4062);
    g_assert_false(qtest_msi_pop(p.s, &addr, &data));
    qtest_quit(p.s);
}

static void test_reset(void)
{
    Ptd p = ptd_start("");
    uint8_t pattern[PTD_BUF_SIZE];
    uint64_t addr;
    uint32_t data;

    fill(pattern, sizeof(pattern), 0x66);
    buf_write(&p, pattern, sizeof(pattern));
    set_bus_master(&p, true);
    set_pasid_ctrl(&p, PTD_PASID_CTRL_ENABLE | PTD_PASID_CTRL_EXEC |
                   PTD_PASID_CTRL_PRIV);
    enable_msi(&p, 0xfee00000, 0x41);
    g_assert_cmphex(dma(&p, 0x100000, 16, PTD_DMA_PASID_VALID | 9,
                        PTD_DMA_FLAG_TO_MEM | PTD_DMA_FLAG_MSI |
                        PTD_DMA_FLAG_PRIV), ==, ST_DONE);
    g_assert_true(qtest_msi_pop(p.s, &addr, &data));

    qtest_qmp_assert_success(p.s, "{\"execute\": \"system_reset\"}");
    qtest_qmp_eventwait(p.s, "RESET");
    g_assert_cmphex(qpci_config_readl(p.s, 0, PTD_DEVFN, PCI_BASE_ADDRESS_0) &
                    ~0xfu, ==, p.bar);
    g_assert_cmphex(qtest_readq(p.s, p.bar + PTD_REG_DMA_ADDR), ==, 0);
    g_assert_cmphex(rd(&p, PTD_REG_DMA_LEN), ==, 0);
    g_assert_cmphex(rd(&p, PTD_REG_DMA_PASID), ==, 0);
    g_assert_cmphex(rd(&p, PTD_REG_DMA_FLAGS), ==, 0);
    g_assert_cmphex(rd(&p, PTD_REG_DMA_STATUS), ==, 0);
    g_assert_cmphex(pasid_ctrl(&p), ==, 0);
    memset(pattern, 0, sizeof(pattern));
    assert_buf(&p, pattern, sizeof(pattern));
    g_assert_cmphex(qpci_config_readw(p.s, 0, PTD_DEVFN, PCI_COMMAND) &
                    PCI_COMMAND_MASTER, ==, 0);

    /* PASID DMA is refused again until the guest re-enables it. */
    set_bus_master(&p, true);
    g_assert_cmphex(dma(&p, 0x100000, 16, PTD_DMA_PASID_VALID | 9, 0), ==,
                    ST_REFUSED);
    qtest_quit(p.s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pasid-testdev/ids", test_ids);
    g_test_add_func("/pasid-testdev/caps", test_caps);
    g_test_add_func("/pasid-testdev/pasid-width-invalid",
                    test_pasid_width_invalid);
    g_test_add_func("/pasid-testdev/hotplug", test_hotplug);
    g_test_add_func("/pasid-testdev/registers", test_registers);
    g_test_add_func("/pasid-testdev/buffer-window", test_buffer_window);
    g_test_add_func("/pasid-testdev/dma/write-to-ram", test_dma_write_to_ram);
    g_test_add_func("/pasid-testdev/dma/read-from-ram",
                    test_dma_read_from_ram);
    g_test_add_func("/pasid-testdev/dma/sizes", test_dma_sizes);
    g_test_add_func("/pasid-testdev/dma/bad-length", test_dma_bad_length);
    g_test_add_func("/pasid-testdev/dma/pasid-needs-enable",
                    test_dma_pasid_needs_enable);
    g_test_add_func("/pasid-testdev/dma/pasid-width", test_dma_pasid_width);
    g_test_add_func("/pasid-testdev/dma/privileged", test_dma_privileged);
    g_test_add_func("/pasid-testdev/dma/no-bus-master",
                    test_dma_no_bus_master);
    g_test_add_func("/pasid-testdev/dma/unassigned", test_dma_unassigned);
    g_test_add_func("/pasid-testdev/dma/self", test_dma_self);
    g_test_add_func("/pasid-testdev/dma/msi", test_msi);
    g_test_add_func("/pasid-testdev/reset", test_reset);
    return g_test_run();
}
