/*
 * edu (control_boot_facts D; viommu's differences in docs/edu.md): ids,
 * registers and access sizes, factorial with and without interrupts, DMA
 * with its timer, bus mastering, bounds and dma_mask.
 */
#include <string.h>
#include <glib.h>

#include "libqtest.h"

#define EDU_DEVFN       (3 << 3)
#define RAM_SIZE        (128u << 20)
#define GSI_EDU         23              /* slot 3 INTA -> PIRQH */

#define PCI_VENDOR_ID           0x00
#define PCI_COMMAND             0x04
#define  PCI_COMMAND_MEMORY     0x2
#define  PCI_COMMAND_MASTER     0x4
#define PCI_REVISION_ID         0x08
#define PCI_CLASS_PROG          0x09
#define PCI_CLASS_DEVICE        0x0a
#define PCI_BASE_ADDRESS_0      0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_INTERRUPT_PIN       0x3d
#define PCI_CAP_ID_MSI          0x05

#define REG_ID          0x00
#define REG_LIVENESS    0x04
#define REG_FACT        0x08
#define REG_STATUS      0x20
#define  STATUS_COMPUTING 0x01
#define  STATUS_IRQFACT 0x80
#define REG_IRQ_STATUS  0x24
#define REG_IRQ_RAISE   0x60
#define REG_IRQ_ACK     0x64
#define REG_DMA_SRC     0x80
#define REG_DMA_DST     0x88
#define REG_DMA_CNT     0x90
#define REG_DMA_CMD     0x98
#define  DMA_RUN        0x1
#define  DMA_TO_RAM     0x2
#define  DMA_IRQ        0x4
#define  DMA_ERROR      0x80000000u
#define DMA_BUF         0x40000
#define DMA_BUF_SIZE    4096

typedef struct Edu {
    QTestState *s;
    uint64_t bar;
} Edu;

/* opts: more edu properties (",dma_mask=..."), or "". */
static Edu edu_start(const char *opts)
{
    Edu e;

    e.s = qtest_initf("-M q35 -m 128M -device edu,addr=03.0%s", opts);
    e.bar = qpci_config_readl(e.s, 0, EDU_DEVFN, PCI_BASE_ADDRESS_0) & ~0xfu;
    g_assert_cmphex(e.bar, !=, 0);
    return e;
}

static uint32_t rd(Edu *e, unsigned reg)
{
    return qtest_readl(e->s, e->bar + reg);
}

static void wr(Edu *e, unsigned reg, uint32_t v)
{
    qtest_writel(e->s, e->bar + reg, v);
}

static void set_bus_master(Edu *e, bool on)
{
    qpci_config_writew(e->s, 0, EDU_DEVFN, PCI_COMMAND,
                       PCI_COMMAND_MEMORY | (on ? PCI_COMMAND_MASTER : 0));
}

static void enable_msi(Edu *e, uint32_t data)
{
    uint8_t msi = qpci_find_capability(e->s, 0, EDU_DEVFN, PCI_CAP_ID_MSI);

    qpci_config_writel(e->s, 0, EDU_DEVFN, msi + 4, 0xfee00000);
    qpci_config_writel(e->s, 0, EDU_DEVFN, msi + 8, 0);
    qpci_config_writew(e->s, 0, EDU_DEVFN, msi + 0xc, data);
    qpci_config_writew(e->s, 0, EDU_DEVFN, msi + 2, 0x0081);
}

/* Starts a transfer and runs the 100 ms timer; returns the command reg. */
static uint32_t dma_run(Edu *e, uint64_t src, uint64_t dst, uint64_t cnt,
                        uint32_t cmd)
{
    qtest_writeq(e->s, e->bar + REG_DMA_SRC, src);
    qtest_writeq(e->s, e->bar + REG_DMA_DST, dst);
    qtest_writeq(e->s, e->bar + REG_DMA_CNT, cnt);
    wr(e, REG_DMA_CMD, cmd | DMA_RUN);
    g_assert_cmphex(rd(e, REG_DMA_CMD) & DMA_RUN, ==, DMA_RUN);
    qtest_clock_step(e->s, 99 * 1000 * 1000);
    g_assert_cmphex(rd(e, REG_DMA_CMD) & DMA_RUN, ==, DMA_RUN);
    qtest_clock_step_next(e->s);
    cmd = rd(e, REG_DMA_CMD);
    g_assert_cmphex(cmd & DMA_RUN, ==, 0);
    return cmd;
}

static void fill(uint8_t *buf, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = seed + i * 7;
    }
}

static void test_ids(void)
{
    Edu e = edu_start("");
    QTestState *s = e.s;
    uint8_t msi;

    g_assert_cmphex(qpci_config_readl(s, 0, EDU_DEVFN, PCI_VENDOR_ID), ==,
                    0x11e81234);
    g_assert_cmphex(qpci_config_readb(s, 0, EDU_DEVFN, PCI_REVISION_ID), ==,
                    0x10);
    g_assert_cmphex(qpci_config_readw(s, 0, EDU_DEVFN, PCI_CLASS_DEVICE), ==,
                    0x00ff);
    g_assert_cmphex(qpci_config_readb(s, 0, EDU_DEVFN, PCI_CLASS_PROG), ==, 0);
    g_assert_cmphex(qpci_config_readl(s, 0, EDU_DEVFN,
                                      PCI_SUBSYSTEM_VENDOR_ID), ==, 0x11001af4);
    g_assert_cmphex(qpci_config_readb(s, 0, EDU_DEVFN, PCI_INTERRUPT_PIN), ==,
                    1);
    msi = qpci_find_capability(s, 0, EDU_DEVFN, PCI_CAP_ID_MSI);
    g_assert_cmphex(msi, ==, 0x40);
    g_assert_cmphex(qpci_config_readw(s, 0, EDU_DEVFN, msi + 2), ==, 0x0080);
    g_assert_cmphex(qpci_bar_map(s, 0, EDU_DEVFN, 0, e.bar), ==, 1 << 20);
    g_assert_cmphex(rd(&e, REG_ID), ==, 0x010000ed);
    qtest_quit(s);
}

static void test_liveness(void)
{
    Edu e = edu_start("");

    g_assert_cmphex(rd(&e, REG_LIVENESS), ==, 0);
    wr(&e, REG_LIVENESS, 0x12345678);
    g_assert_cmphex(rd(&e, REG_LIVENESS), ==, 0xedcba987);
    wr(&e, REG_LIVENESS, 0);
    g_assert_cmphex(rd(&e, REG_LIVENESS), ==, 0xffffffff);
    /* The ID is read-only. */
    wr(&e, REG_ID, 0);
    g_assert_cmphex(rd(&e, REG_ID), ==, 0x010000ed);
    qtest_quit(e.s);
}

static uint32_t factorial(Edu *e, uint32_t n)
{
    wr(e, REG_FACT, n);
    g_assert_cmphex(rd(e, REG_STATUS) & STATUS_COMPUTING, ==,
                    STATUS_COMPUTING);
    qtest_clock_step(e->s, 1);
    g_assert_cmphex(rd(e, REG_STATUS) & STATUS_COMPUTING, ==, 0);
    return rd(e, REG_FACT);
}

static void test_factorial(void)
{
    Edu e = edu_start("");

    g_assert_cmpuint(factorial(&e, 0), ==, 1);
    g_assert_cmpuint(factorial(&e, 1), ==, 1);
    g_assert_cmpuint(factorial(&e, 5), ==, 120);
    g_assert_cmpuint(factorial(&e, 12), ==, 479001600);
    g_assert_cmpuint(factorial(&e, 13), ==, 1932053504);  /* mod 2^32 */
    g_assert_cmpuint(factorial(&e, 33), ==, 2147483648u);
    g_assert_cmpuint(factorial(&e, 34), ==, 0);
    g_assert_cmpuint(factorial(&e, 0xffffffff), ==, 0);

    /* A write while computing is ignored. */
    wr(&e, REG_FACT, 4);
    wr(&e, REG_FACT, 6);
    g_assert_cmpuint(rd(&e, REG_FACT), ==, 4);
    qtest_clock_step(e.s, 1);
    g_assert_cmpuint(rd(&e, REG_FACT), ==, 24);
    /* No interrupt without status bit 7. */
    g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, 0);
    /* Bit 0 of the status is read-only. */
    wr(&e, REG_STATUS, STATUS_COMPUTING);
    g_assert_cmphex(rd(&e, REG_STATUS), ==, 0);
    qtest_quit(e.s);
}

static void test_factorial_msi(void)
{
    Edu e = edu_start("");
    uint64_t addr;
    uint32_t data;

    set_bus_master(&e, true);
    enable_msi(&e, 0x4061);
    wr(&e, REG_STATUS, STATUS_IRQFACT);
    g_assert_cmphex(rd(&e, REG_STATUS), ==, STATUS_IRQFACT);
    g_assert_cmpuint(factorial(&e, 3), ==, 6);
    g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, 1);
    g_assert_true(qtest_msi_pop(e.s, &addr, &data));
    g_assert_cmphex(addr, ==, 0xfee00000);
    g_assert_cmphex(data, ==, 0x4061);
    g_assert_false(qtest_msi_pop(e.s, &addr, &data));
    wr(&e, REG_IRQ_ACK, 1);
    g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, 0);

    /* Every raise sends a message, even with irq_status already set. */
    wr(&e, REG_IRQ_RAISE, 0x10);
    wr(&e, REG_IRQ_RAISE, 0x20);
    g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, 0x30);
    g_assert_true(qtest_msi_pop(e.s, &addr, &data));
    g_assert_true(qtest_msi_pop(e.s, &addr, &data));
    g_assert_false(qtest_msi_pop(e.s, &addr, &data));
    qtest_quit(e.s);
}

static void test_factorial_intx(void)
{
    Edu e = edu_start("");

    qtest_irq_intercept_in(e.s, "ioapic");
    wr(&e, REG_STATUS, STATUS_IRQFACT);
    wr(&e, REG_FACT, 3);
    g_assert_false(qtest_get_irq(e.s, GSI_EDU));
    qtest_clock_step(e.s, 1);
    g_assert_true(qtest_get_irq(e.s, GSI_EDU));
    g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, 1);
    wr(&e, REG_IRQ_RAISE, 0x4);
    wr(&e, REG_IRQ_ACK, 1);
    g_assert_true(qtest_get_irq(e.s, GSI_EDU));
    wr(&e, REG_IRQ_ACK, 0x4);
    g_assert_false(qtest_get_irq(e.s, GSI_EDU));
    qtest_quit(e.s);
}

static void test_dma_round_trip(void)
{
    Edu e = edu_start("");
    uint8_t pattern[256], out[256];
    uint32_t cmd;

    fill(pattern, sizeof(pattern), 0x11);
    qtest_memwrite(e.s, 0x100000, pattern, sizeof(pattern));
    set_bus_master(&e, true);

    cmd = dma_run(&e, 0x100000, DMA_BUF + 0x80, sizeof(pattern), 0);
    g_assert_cmphex(cmd, ==, 0);
    cmd = dma_run(&e, DMA_BUF + 0x80, 0x200000, sizeof(pattern), DMA_TO_RAM);
    g_assert_cmphex(cmd, ==, DMA_TO_RAM);
    qtest_memread(e.s, 0x200000, out, sizeof(out));
    g_assert_cmpmem(out, sizeof(out), pattern, sizeof(pattern));

    /* The whole buffer, last byte included. */
    {
        uint8_t big[DMA_BUF_SIZE], back[DMA_BUF_SIZE];

        fill(big, sizeof(big), 0x5a);
        qtest_memwrite(e.s, 0x300000, big, sizeof(big));
        g_assert_cmphex(dma_run(&e, 0x300000, DMA_BUF, sizeof(big), 0), ==, 0);
        g_assert_cmphex(dma_run(&e, DMA_BUF, 0x400000, sizeof(big),
                                DMA_TO_RAM), ==, DMA_TO_RAM);
        qtest_memread(e.s, 0x400000, back, sizeof(back));
        g_assert_cmpmem(back, sizeof(back), big, sizeof(big));
    }
    qtest_quit(e.s);
}

static void test_dma_irq(void)
{
    Edu e = edu_start("");

    qtest_irq_intercept_in(e.s, "ioapic");
    set_bus_master(&e, true);
    dma_run(&e, 0x100000, DMA_BUF, 16, DMA_IRQ);
    g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, 0x100);
    g_assert_true(qtest_get_irq(e.s, GSI_EDU));
    wr(&e, REG_IRQ_ACK, 0x100);
    g_assert_false(qtest_get_irq(e.s, GSI_EDU));
    qtest_quit(e.s);
}

static void test_dma_no_bus_master(void)
{
    Edu e = edu_start("");
    uint8_t pattern[64], ones[64], zero[64] = { 0 }, out[64];
    uint32_t cmd;

    fill(pattern, sizeof(pattern), 0x33);
    memset(ones, 0xff, sizeof(ones));
    qtest_memwrite(e.s, 0x100000, pattern, sizeof(pattern));
    qtest_memwrite(e.s, 0x200000, ones, sizeof(ones));

    /* Bus mastering off (the firmware leaves it so): both directions fail. */
    cmd = dma_run(&e, DMA_BUF, 0x200000, sizeof(pattern), DMA_TO_RAM);
    g_assert_cmphex(cmd, ==, DMA_ERROR | DMA_TO_RAM);
    qtest_memread(e.s, 0x200000, out, sizeof(out));
    g_assert_cmpmem(out, sizeof(out), ones, sizeof(ones));
    cmd = dma_run(&e, 0x100000, DMA_BUF, sizeof(pattern), 0);
    g_assert_cmphex(cmd, ==, DMA_ERROR);

    /* The failed read left the buffer as it was (zero). */
    set_bus_master(&e, true);
    cmd = dma_run(&e, DMA_BUF, 0x200000, sizeof(pattern), DMA_TO_RAM);
    g_assert_cmphex(cmd, ==, DMA_TO_RAM);     /* error cleared by start */
    qtest_memread(e.s, 0x200000, out, sizeof(out));
    g_assert_cmpmem(out, sizeof(out), zero, sizeof(zero));
    qtest_quit(e.s);
}

static void test_dma_refused(void)
{
    Edu e = edu_start("");
    static uint8_t p[DMA_BUF_SIZE], q[DMA_BUF_SIZE], out[DMA_BUF_SIZE],
                   zero[DMA_BUF_SIZE];
    static const struct {
        uint64_t src, dst, cnt;
        uint32_t dir;
    } bad[] = {
        { 0x100000, DMA_BUF + 0xf00, 0x200, 0 },           /* past the end */
        { 0x100000, DMA_BUF - 0x100, 0x200, 0 },           /* before it */
        { DMA_BUF + 0x10, 0x200000, DMA_BUF_SIZE, DMA_TO_RAM },
        { 0x100000, DMA_BUF, 0, 0 },                       /* count 0 */
        { 0x100000, DMA_BUF, DMA_BUF_SIZE + 1, 0 },        /* too big */
        { DMA_BUF, 0x200000, 0xffffffffffffffffull, DMA_TO_RAM },
        { 0x100000, 0xffffffffffffff00ull, 0x200, 0 },     /* wraps */
        { 0x0ff00000, DMA_BUF, 0x100, 0 },                 /* beyond RAM */
        { DMA_BUF, RAM_SIZE - 0x800, 0x1000, DMA_TO_RAM }, /* across the end */
    };

    /* The buffer holds p; RAM holds q where the bad reads look. */
    fill(p, sizeof(p), 0x77);
    fill(q, sizeof(q), 0x19);
    qtest_memwrite(e.s, 0x100000, p, sizeof(p));
    set_bus_master(&e, true);
    g_assert_cmphex(dma_run(&e, 0x100000, DMA_BUF, DMA_BUF_SIZE, 0), ==, 0);
    qtest_memwrite(e.s, 0x100000, q, sizeof(q));

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        uint32_t cmd = dma_run(&e, bad[i].src, bad[i].dst, bad[i].cnt,
                               bad[i].dir);

        g_test_message("case %zu", i);
        g_assert_cmphex(cmd, ==, DMA_ERROR | bad[i].dir);
    }
    /* Nothing reached the buffer, nor RAM. */
    qtest_memread(e.s, 0x200000, out, sizeof(out));
    g_assert_cmpmem(out, sizeof(out), zero, sizeof(zero));
    qtest_memread(e.s, RAM_SIZE - 0x800, out, 0x800);
    g_assert_cmpmem(out, 0x800, zero, 0x800);
    g_assert_cmphex(dma_run(&e, DMA_BUF, 0x200000, DMA_BUF_SIZE, DMA_TO_RAM),
                    ==, DMA_TO_RAM);
    qtest_memread(e.s, 0x200000, out, sizeof(out));
    g_assert_cmpmem(out, sizeof(out), p, sizeof(p));
    qtest_quit(e.s);
}

static void test_dma_mask(void)
{
    Edu e = edu_start("");
    QTestState *s2;
    uint8_t pattern[32], out[32];

    /* Default mask 0x0fffffff: 0x10100000 lands at 0x00100000. */
    fill(pattern, sizeof(pattern), 0x21);
    qtest_memwrite(e.s, 0x300000, pattern, sizeof(pattern));
    set_bus_master(&e, true);
    dma_run(&e, 0x300000, DMA_BUF, sizeof(pattern), 0);
    g_assert_cmphex(dma_run(&e, DMA_BUF, 0x10100000, sizeof(pattern),
                            DMA_TO_RAM), ==, DMA_TO_RAM);
    qtest_memread(e.s, 0x100000, out, sizeof(out));
    g_assert_cmpmem(out, sizeof(out), pattern, sizeof(pattern));
    qtest_quit(e.s);

    /* dma_mask=0xfffff: 0x12345000 lands at 0x45000. */
    e = edu_start(",dma_mask=0xfffff");
    s2 = e.s;
    qtest_memwrite(s2, 0x300000 & 0xfffff, pattern, sizeof(pattern));
    set_bus_master(&e, true);
    dma_run(&e, 0x12300000, DMA_BUF, sizeof(pattern), 0);
    g_assert_cmphex(dma_run(&e, DMA_BUF, 0x12345000, sizeof(pattern),
                            DMA_TO_RAM), ==, DMA_TO_RAM);
    qtest_memread(s2, 0x45000, out, sizeof(out));
    g_assert_cmpmem(out, sizeof(out), pattern, sizeof(pattern));
    qtest_quit(s2);
}

static void test_dma_busy(void)
{
    Edu e = edu_start("");

    set_bus_master(&e, true);
    qtest_writeq(e.s, e.bar + REG_DMA_SRC, 0x100000);
    qtest_writeq(e.s, e.bar + REG_DMA_DST, DMA_BUF);
    qtest_writeq(e.s, e.bar + REG_DMA_CNT, 8);
    /* A command without bit 0 is ignored entirely. */
    wr(&e, REG_DMA_CMD, DMA_IRQ);
    g_assert_cmphex(rd(&e, REG_DMA_CMD), ==, 0);
    wr(&e, REG_DMA_CMD, DMA_RUN);
    /* While busy, 0x80-0x98 ignore writes. */
    qtest_writeq(e.s, e.bar + REG_DMA_SRC, 0x555000);
    qtest_writeq(e.s, e.bar + REG_DMA_DST, 0x666000);
    qtest_writeq(e.s, e.bar + REG_DMA_CNT, 16);
    wr(&e, REG_DMA_CMD, DMA_RUN | DMA_TO_RAM | DMA_IRQ);
    g_assert_cmphex(qtest_readq(e.s, e.bar + REG_DMA_SRC), ==, 0x100000);
    g_assert_cmphex(qtest_readq(e.s, e.bar + REG_DMA_DST), ==, DMA_BUF);
    g_assert_cmphex(qtest_readq(e.s, e.bar + REG_DMA_CNT), ==, 8);
    g_assert_cmphex(qtest_readq(e.s, e.bar + REG_DMA_CMD), ==, DMA_RUN);
    qtest_clock_step_next(e.s);
    g_assert_cmphex(rd(&e, REG_DMA_CMD), ==, 0);
    g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, 0);
    qtest_writeq(e.s, e.bar + REG_DMA_SRC, 0x555000);
    g_assert_cmphex(qtest_readq(e.s, e.bar + REG_DMA_SRC), ==, 0x555000);
    qtest_quit(e.s);
}

static void test_access_sizes(void)
{
    Edu e = edu_start("");
    QTestState *s = e.s;
    static const unsigned unlisted[] = {
        0x0c, 0x10, 0x1c, 0x28, 0x60, 0x64, 0x7c, 0x84, 0x8c, 0x94, 0x9c,
        0xa0, 0x1000, 0xffffc,
    };

    /* Below 0x80: dword only.  8-byte reads give all-ones. */
    g_assert_cmphex(qtest_readq(s, e.bar + REG_ID), ==, ~0ull);
    qtest_writeq(s, e.bar + REG_LIVENESS, 0x1111111122222222ull);
    g_assert_cmphex(rd(&e, REG_LIVENESS), ==, 0);
    /* 1- and 2-byte accesses are refused by the memory core. */
    g_assert_cmphex(qtest_readb(s, e.bar + REG_ID), ==, 0);
    g_assert_cmphex(qtest_readw(s, e.bar + REG_ID), ==, 0);
    qtest_writew(s, e.bar + REG_LIVENESS, 0x1234);
    g_assert_cmphex(rd(&e, REG_LIVENESS), ==, 0);

    /* From 0x80: dword and qword; a dword write zero-extends. */
    qtest_writeq(s, e.bar + REG_DMA_DST, 0xffffffffffffffffull);
    g_assert_cmphex(qtest_readq(s, e.bar + REG_DMA_DST), ==, ~0ull);
    qtest_writel(s, e.bar + REG_DMA_DST, 0x1234);
    g_assert_cmphex(qtest_readq(s, e.bar + REG_DMA_DST), ==, 0x1234);
    qtest_writeq(s, e.bar + REG_DMA_SRC, 0x123456789abcdef0ull);
    g_assert_cmphex(rd(&e, REG_DMA_SRC), ==, 0x9abcdef0);

    for (size_t i = 0; i < G_N_ELEMENTS(unlisted); i++) {
        g_assert_cmphex(rd(&e, unlisted[i]), ==, 0xffffffff);
    }
    g_assert_cmphex(qtest_readq(s, e.bar + 0xa0), ==, ~0ull);
    qtest_quit(s);
}

static void test_reset(void)
{
    Edu e = edu_start("");

    wr(&e, REG_LIVENESS, 1);
    wr(&e, REG_STATUS, STATUS_IRQFACT);
    wr(&e, REG_IRQ_RAISE, 0x8);
    qtest_qmp_assert_success(e.s, "{\"execute\": \"system_reset\"}");
    qtest_qmp_eventwait(e.s, "RESET");
    g_assert_cmphex(rd(&e, REG_LIVENESS), ==, 0);
    g_assert_cmphex(rd(&e, REG_STATUS), ==, 0);
    g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, 0);
    qtest_quit(e.s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/edu/ids", test_ids);
    g_test_add_func("/edu/liveness", test_liveness);
    g_test_add_func("/edu/factorial/poll", test_factorial);
    g_test_add_func("/edu/factorial/msi", test_factorial_msi);
    g_test_add_func("/edu/factorial/intx", test_factorial_intx);
    g_test_add_func("/edu/dma/round-trip", test_dma_round_trip);
    g_test_add_func("/edu/dma/irq", test_dma_irq);
    g_test_add_func("/edu/dma/no-bus-master", test_dma_no_bus_master);
    g_test_add_func("/edu/dma/refused", test_dma_refused);
    g_test_add_func("/edu/dma/mask", test_dma_mask);
    g_test_add_func("/edu/dma/busy-ignores-writes", test_dma_busy);
    g_test_add_func("/edu/access-sizes", test_access_sizes);
    g_test_add_func("/edu/reset", test_reset);
    return g_test_run();
}
