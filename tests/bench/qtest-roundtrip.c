/*
 * qtest-roundtrip: how fast a test can talk to the emulator.
 *
 * Prints the time from exec to the QMP greeting (start-up latency, what
 * every qtest pays once) and qtest round trips per second for readl and
 * writel on guest RAM and on an MMIO register (edu's liveness register),
 * the cost a register-level test pays per access.  Figures, not checks.
 *
 * Usage: qtest-roundtrip [BINARY]   (default: $QTEST_QEMU_BINARY)
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "libqtest.h"

#define STARTS 10
#define ITERATIONS 20000

static double now_s(void)
{
    return g_get_monotonic_time() / 1e6;
}

static void bench_startup(void)
{
    double total = 0, best = 1e9;

    for (int i = 0; i < STARTS; i++) {
        double t0 = now_s(), dt;
        QTestState *qts = qtest_init("-M q35");

        dt = now_s() - t0;
        total += dt;
        best = dt < best ? dt : best;
        qtest_quit(qts);
    }
    printf("exec to QMP negotiated (qtest_init, q35): mean %.2f ms, "
           "best %.2f ms over %d starts\n", total / STARTS * 1e3, best * 1e3,
           STARTS);
}

static void bench_roundtrips(const char *what, QTestState *qts,
                             uint64_t addr)
{
    double t0 = now_s(), dt;

    for (int i = 0; i < ITERATIONS; i++) {
        qtest_writel(qts, addr, i);
        (void)qtest_readl(qts, addr);
    }
    dt = now_s() - t0;
    printf("%-28s %9.0f round trips/s (%d writel+readl pairs, "
           "%.2f us per access)\n", what, 2 * ITERATIONS / dt, ITERATIONS,
           dt / (2 * ITERATIONS) * 1e6);
}

int main(int argc, char **argv)
{
    QTestState *qts;
    uint32_t bar0;

    if (argc > 1) {
        g_setenv("QTEST_QEMU_BINARY", argv[1], true);
    }
    if (!g_getenv("QTEST_QEMU_BINARY")) {
        fprintf(stderr, "usage: %s BINARY (or set QTEST_QEMU_BINARY)\n",
                argv[0]);
        return 2;
    }
    bench_startup();
    qts = qtest_init("-M q35 -device edu,addr=03.0");
    bench_roundtrips("guest RAM (0x100000):", qts, 0x100000);
    qpci_device_enable(qts, 0, 3 << 3);
    bar0 = qpci_config_readl(qts, 0, 3 << 3, 0x10) & ~0xfu;
    bench_roundtrips("edu MMIO liveness reg:", qts, bar0 + 4);
    qtest_quit(qts);
    return 0;
}
