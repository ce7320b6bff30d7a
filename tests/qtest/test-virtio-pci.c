/*
 * virtio-pci transport and virtio core, driven through virtio-rng-pci
 * (virtio 1.2, 4.1 and 2.7): identity and capability layout, feature
 * negotiation, status and reset, queue set-up, request round trips,
 * MSI-X and INTx/ISR interrupts, EVENT_IDX, indirect descriptors, queue
 * reset, the PCI_CFG window, and malformed rings (DEVICE_NEEDS_RESET,
 * then recovery after a reset).
 */
#include <string.h>
#include <glib.h>

#include "libvirtio.h"
#include "libvtd.h"

#define RNG_DEVFN       (4 << 3)
#define ALLOC_BASE      0x1000000ULL
#define ALLOC_SIZE      0x1000000ULL
#define BUF             0x3000000ULL        /* data buffers */
#define UNASSIGNED      (1ULL << 40)        /* nothing mapped there */

#define PCI_COMMAND             0x04
#define  PCI_COMMAND_MEMORY     0x2
#define  PCI_COMMAND_MASTER     0x4
#define PCI_REVISION_ID         0x08
#define PCI_CLASS_DEVICE        0x0a
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_INTERRUPT_LINE      0x3c
#define PCI_INTERRUPT_PIN       0x3d

#define F_BASE          VIRTIO_BIT(VIRTIO_F_VERSION_1)
#define F_ALL           (F_BASE | VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC) | \
                         VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX) | \
                         VIRTIO_BIT(VIRTIO_F_RING_RESET))

static QTestState *rng_start(QVirtioDev *d, const char *opts)
{
    QTestState *s = qtest_initf("-M q35 -m 128M "
                                "-device virtio-rng-pci,addr=04.0%s", opts);

    qvirtio_pci_init(d, s, 0, RNG_DEVFN, ALLOC_BASE, ALLOC_SIZE);
    return s;
}

/* Negotiated, queue 0 set up with vector, DRIVER_OK. */
static QVirtQueue *rng_ready(QVirtioDev *d, uint64_t features,
                             uint16_t vector)
{
    QVirtQueue *vq;

    qvirtio_start(d, features);
    vq = qvirtqueue_setup(d, 0, 0, vector);
    qvirtio_set_driver_ok(d);
    return vq;
}

static bool all_zero(QTestState *s, uint64_t addr, size_t len)
{
    g_autofree uint8_t *b = g_malloc(len);

    qtest_memread(s, addr, b, len);
    for (size_t i = 0; i < len; i++) {
        if (b[i]) {
            return false;
        }
    }
    return true;
}

/* One writable buffer; returns the used length. */
static uint32_t rng_request(QVirtQueue *vq, uint64_t addr, uint32_t len)
{
    QVirtioBuf b = { addr, len, true };
    uint16_t head = qvirtqueue_add_chain(vq, &b, 1);

    qvirtqueue_kick(vq);
    return qvirtqueue_wait_used(vq, head);
}

static void assert_no_msi(QTestState *s)
{
    uint64_t addr;
    uint32_t data;

    g_assert_false(qtest_msi_pop(s, &addr, &data));
}

static void assert_msi(QTestState *s, uint16_t vector)
{
    uint64_t addr;
    uint32_t data;

    g_assert_true(qtest_msi_pop(s, &addr, &data));
    g_assert_cmphex(addr, ==, QVIRTIO_MSI_ADDR);
    g_assert_cmphex(data, ==, QVIRTIO_MSI_DATA(vector));
}

/* --- Identity and layout ------------------------------------------------------- */

static void test_ids_caps(void)
{
    QVirtioDev d;
    QTestState *s = rng_start(&d, "");
    uint32_t bar4 = qpci_config_readl(s, 0, RNG_DEVFN, 0x10 + 4 * 4);
    uint64_t base = d.common;

    g_assert_cmphex(qpci_config_readl(s, 0, RNG_DEVFN, 0), ==, 0x10441af4);
    g_assert_cmphex(qpci_config_readb(s, 0, RNG_DEVFN, PCI_REVISION_ID), ==, 1);
    g_assert_cmphex(qpci_config_readw(s, 0, RNG_DEVFN, PCI_CLASS_DEVICE), ==,
                    0x00ff);
    g_assert_cmphex(qpci_config_readl(s, 0, RNG_DEVFN,
                                      PCI_SUBSYSTEM_VENDOR_ID), ==,
                    0x11001af4);
    g_assert_cmphex(qpci_config_readb(s, 0, RNG_DEVFN, PCI_INTERRUPT_PIN), ==,
                    1);
    /* BAR 4: 64-bit prefetchable memory, 16 KiB. */
    g_assert_cmphex(bar4 & 0xf, ==, 0xc);
    g_assert_cmphex(qpci_bar_map(s, 0, RNG_DEVFN, 4, base), ==, 0x4000);
    g_assert_cmpuint(d.device_id, ==, VIRTIO_ID_RNG);

    /* Structures in BAR 4 at 0 / 0x1000 / 0x3000; rng has no config. */
    g_assert_cmphex(d.isr, ==, base + 0x1000);
    g_assert_cmphex(d.notify, ==, base + 0x3000);
    g_assert_cmpuint(d.common_len, >=, 0x3c);
    g_assert_cmpuint(d.isr_len, >=, 1);
    g_assert_cmpuint(d.notify_off_multiplier, ==, 4);
    g_assert_cmpuint(d.device_cap, ==, 0);
    g_assert_cmpuint(d.pci_cfg_cap, !=, 0);
    g_assert_cmpuint(qpci_config_readb(s, 0, RNG_DEVFN, d.pci_cfg_cap + 2), ==,
                     20);
    g_assert_cmpuint(qpci_config_readb(s, 0, RNG_DEVFN, d.notify_cap + 2), ==,
                     20);
    g_assert_cmpuint(qpci_config_readb(s, 0, RNG_DEVFN, d.common_cap + 2), ==,
                     16);

    /* MSI-X: queues + 1 vectors, table in BAR 1. */
    g_assert_cmpuint(d.msix_cap, !=, 0);
    g_assert_cmpuint(d.msix_entries, ==, 2);
    g_assert_cmphex(qpci_config_readl(s, 0, RNG_DEVFN, d.msix_cap + 4) & 7, ==,
                    1);

    /* One queue of 8, notify offset 0; nothing else. */
    g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_NUMQ), ==, 1);
    g_assert_cmpuint(qvirtqueue_max_size(&d, 0), ==, 8);
    g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_NOFF), ==,
                     0);
    g_assert_cmphex(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_MSIX), ==,
                    VIRTIO_MSI_NO_VECTOR);
    g_assert_cmpuint(qvirtqueue_max_size(&d, 1), ==, 0);
    g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_ENABLE), ==,
                     0);
    g_assert_cmphex(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_MSIX), ==,
                    VIRTIO_MSI_NO_VECTOR);
    g_assert_cmphex(qvirtio_get_status(&d), ==, 0);
    qtest_quit(s);
}

static void test_no_msix(void)
{
    QVirtioDev d;
    QTestState *s = rng_start(&d, ",vectors=0");

    g_assert_cmpuint(d.msix_cap, ==, 0);
    g_assert_cmphex(qvirtio_set_config_vector(&d, 0), ==,
                    VIRTIO_MSI_NO_VECTOR);
    qtest_quit(s);
}

static void test_behind_root_port(void)
{
    QTestState *s = qtest_init("-M q35 -m 128M "
                               "-device pcie-root-port,id=rp0,addr=05.0 "
                               "-device virtio-rng-pci,bus=rp0");
    QVirtioDev d;
    QVirtQueue *vq;
    int bus, devfn;

    g_assert_true(qvirtio_pci_find(s, VIRTIO_ID_RNG, 0, &bus, &devfn));
    g_assert_cmpint(bus, ==, 1);
    g_assert_cmpint(devfn, ==, 0);
    qvirtio_pci_init(&d, s, bus, devfn, ALLOC_BASE, ALLOC_SIZE);
    vq = rng_ready(&d, F_BASE, VIRTIO_MSI_NO_VECTOR);
    g_assert_cmpuint(rng_request(vq, BUF, 256), ==, 256);
    g_assert_false(all_zero(s, BUF, 256));
    g_free(vq);
    qtest_quit(s);
}

/* --- Features, status, reset ------------------------------------------------- */

static void test_feature_negotiation(void)
{
    QVirtioDev d;
    QTestState *s = rng_start(&d, "");

    g_assert_cmphex(qvirtio_get_features(&d), ==, F_ALL);
    qvirtio_common_writel(&d, VIRTIO_PCI_COMMON_DFSELECT, 2);
    g_assert_cmphex(qvirtio_common_readl(&d, VIRTIO_PCI_COMMON_DF), ==, 0);

    g_assert_true(qvirtio_negotiate(&d, F_BASE |
                                    VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX)));
    g_assert_cmphex(qvirtio_get_status(&d), ==,
                    VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                    VIRTIO_CONFIG_S_FEATURES_OK);
    /* The accepted set reads back and is frozen after FEATURES_OK. */
    qvirtio_write_driver_features(&d, F_ALL);
    qvirtio_common_writel(&d, VIRTIO_PCI_COMMON_GFSELECT, 0);
    g_assert_cmphex(qvirtio_common_readl(&d, VIRTIO_PCI_COMMON_GF), ==,
                    VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX));
    qvirtio_common_writel(&d, VIRTIO_PCI_COMMON_GFSELECT, 1);
    g_assert_cmphex(qvirtio_common_readl(&d, VIRTIO_PCI_COMMON_GF), ==, 1);

    /* Transport features can be turned off. */
    qtest_quit(s);
    s = rng_start(&d, ",event_idx=off,indirect_desc=off,queue_reset=off");
    g_assert_cmphex(qvirtio_get_features(&d), ==, F_BASE);
    qtest_quit(s);
}

static void test_features_ok_refused(void)
{
    QVirtioDev d;
    QTestState *s = rng_start(&d, "");
    static const uint64_t bad[] = {
        0,                                          /* no VERSION_1 */
        VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC),
        F_BASE | VIRTIO_BIT(5),                     /* not offered */
        F_BASE | VIRTIO_BIT(63),
    };

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_test_message("features 0x%" G_GINT64_MODIFIER "x", bad[i]);
        g_assert_false(qvirtio_negotiate(&d, bad[i]));
        g_assert_cmphex(qvirtio_get_status(&d), ==,
                        VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    }
    /* The driver may try again after a reset. */
    g_assert_true(qvirtio_negotiate(&d, F_BASE));
    qtest_quit(s);
}

static void test_status_reset(void)
{
    QVirtioDev d;
    QTestState *s = rng_start(&d, "");
    QVirtQueue *vq;

    /* The driver cannot set DEVICE_NEEDS_RESET. */
    qvirtio_set_status(&d, VIRTIO_CONFIG_S_NEEDS_RESET |
                       VIRTIO_CONFIG_S_ACKNOWLEDGE);
    g_assert_cmphex(qvirtio_get_status(&d), ==, VIRTIO_CONFIG_S_ACKNOWLEDGE);

    qvirtio_msix_enable(&d);
    vq = rng_ready(&d, F_ALL, 1);
    g_assert_cmphex(qvirtio_set_config_vector(&d, 0), ==, 0);
    g_assert_cmpuint(vq->vector, ==, 1);
    qvirtio_common_writew(&d, VIRTIO_PCI_COMMON_Q_SELECT, 0);
    g_assert_cmpuint(rng_request(vq, BUF, 16), ==, 16);

    /* Writing 0 resets the device, its queues and vectors. */
    qvirtio_reset(&d);
    qvirtqueue_select(&d, 0);
    g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_ENABLE), ==,
                     0);
    g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_SIZE), ==, 8);
    g_assert_cmphex(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_MSIX), ==,
                    VIRTIO_MSI_NO_VECTOR);
    g_assert_cmphex(qvirtio_common_readl(&d, VIRTIO_PCI_COMMON_Q_DESCLO), ==,
                    0);
    g_assert_cmphex(qvirtio_common_readl(&d, VIRTIO_PCI_COMMON_Q_USEDLO), ==,
                    0);
    g_assert_cmphex(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_MSIX), ==,
                    VIRTIO_MSI_NO_VECTOR);
    qvirtio_common_writel(&d, VIRTIO_PCI_COMMON_GFSELECT, 1);
    g_assert_cmphex(qvirtio_common_readl(&d, VIRTIO_PCI_COMMON_GF), ==, 0);
    g_free(vq);

    /* A fresh start works (the used ring starts at 0 again). */
    vq = rng_ready(&d, F_BASE, VIRTIO_MSI_NO_VECTOR);
    g_assert_cmpuint(rng_request(vq, BUF, 16), ==, 16);
    g_assert_cmpuint(qvirtqueue_get_used_idx(vq), ==, 1);
    g_free(vq);

    /* system_reset too. */
    qtest_qmp_assert_success(s, "{\"execute\": \"system_reset\"}");
    qtest_qmp_eventwait(s, "RESET");
    g_assert_cmphex(qvirtio_get_status(&d), ==, 0);
    qvirtqueue_select(&d, 0);
    g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_ENABLE), ==,
                     0);
    qtest_quit(s);
}

/* --- Queues ------------------------------------------------------------------ */

static void test_queue_setup(void)
{
    QVirtioDev d;
    QTestState *s = rng_start(&d, "");
    static const uint16_t bad_sizes[] = { 0, 3, 6, 16, 0xffff };
    uint64_t desc;
    QVirtQueue *vq;

    qvirtio_start(&d, F_BASE);
    qvirtqueue_select(&d, 0);
    for (size_t i = 0; i < G_N_ELEMENTS(bad_sizes); i++) {
        qvirtio_common_writew(&d, VIRTIO_PCI_COMMON_Q_SIZE, bad_sizes[i]);
        g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_SIZE),
                         ==, 8);
    }
    qvirtio_common_writew(&d, VIRTIO_PCI_COMMON_Q_SIZE, 2);
    g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_SIZE), ==, 2);

    /* A queue that does not exist: reads 0, writes are dropped. */
    qvirtqueue_select(&d, 7);
    qvirtio_common_writew(&d, VIRTIO_PCI_COMMON_Q_SIZE, 4);
    qvirtio_common_writew(&d, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
    g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_SIZE), ==, 0);
    g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_ENABLE), ==,
                     0);

    /* 64-bit fields: two 32-bit halves. */
    vq = qvirtqueue_setup(&d, 0, 4, VIRTIO_MSI_NO_VECTOR);
    g_assert_cmpuint(vq->size, ==, 4);
    g_assert_cmphex(qvirtio_common_readl(&d, VIRTIO_PCI_COMMON_Q_DESCLO), ==,
                    (uint32_t)vq->desc);
    g_assert_cmphex(qvirtio_common_readl(&d, VIRTIO_PCI_COMMON_Q_AVAILLO), ==,
                    (uint32_t)vq->avail);
    g_assert_cmphex(qvirtio_common_readl(&d, VIRTIO_PCI_COMMON_Q_USEDLO), ==,
                    (uint32_t)vq->used);

    /* Once enabled, the queue's layout is frozen. */
    desc = vq->desc;
    qvirtio_common_writew(&d, VIRTIO_PCI_COMMON_Q_SIZE, 8);
    qvirtio_common_writel(&d, VIRTIO_PCI_COMMON_Q_DESCLO, 0x123400);
    g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_SIZE), ==, 4);
    g_assert_cmphex(qvirtio_common_readl(&d, VIRTIO_PCI_COMMON_Q_DESCLO), ==,
                    (uint32_t)desc);
    /* Writing 0 to queue_enable is ignored. */
    qvirtio_common_writew(&d, VIRTIO_PCI_COMMON_Q_ENABLE, 0);
    g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_ENABLE), ==,
                     1);

    /* A 4-entry ring wraps: 10 requests in a row. */
    qvirtio_set_driver_ok(&d);
    for (int i = 0; i < 10; i++) {
        g_assert_cmpuint(rng_request(vq, BUF + 0x100 * i, 0x40), ==, 0x40);
    }
    g_assert_cmpuint(qvirtqueue_get_used_idx(vq), ==, 10);
    g_free(vq);
    qtest_quit(s);
}

/* The driver kicks before DRIVER_OK: nothing is consumed until it is set. */
static void test_no_processing_before_driver_ok(void)
{
    QVirtioDev d;
    QTestState *s = rng_start(&d, "");
    QVirtioBuf b = { BUF, 32, true };
    QVirtQueue *vq;
    uint16_t head;

    qvirtio_start(&d, F_BASE);
    vq = qvirtqueue_setup(&d, 0, 0, VIRTIO_MSI_NO_VECTOR);
    head = qvirtqueue_add_chain(vq, &b, 1);
    qvirtqueue_kick(vq);
    g_assert_false(qvirtqueue_get_used(vq, NULL, NULL));
    qvirtio_set_driver_ok(&d);
    qvirtqueue_kick(vq);
    g_assert_cmpuint(qvirtqueue_wait_used(vq, head), ==, 32);
    g_free(vq);
    qtest_quit(s);
}

static void test_misaligned_ring(void)
{
    QVirtioDev d;
    QTestState *s = rng_start(&d, "");

    qvirtio_start(&d, F_BASE);
    qvirtqueue_select(&d, 0);
    qvirtio_common_writel(&d, VIRTIO_PCI_COMMON_Q_DESCLO, BUF + 8);
    qvirtio_common_writel(&d, VIRTIO_PCI_COMMON_Q_AVAILLO, BUF + 0x1000);
    qvirtio_common_writel(&d, VIRTIO_PCI_COMMON_Q_USEDLO, BUF + 0x2000);
    qvirtio_common_writew(&d, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
    g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_ENABLE), ==,
                     0);
    g_assert_cmphex(qvirtio_get_status(&d) & VIRTIO_CONFIG_S_NEEDS_RESET, ==,
                    VIRTIO_CONFIG_S_NEEDS_RESET);
    /* Rings outside memory are refused too. */
    qvirtio_start(&d, F_BASE);
    qvirtqueue_select(&d, 0);
    qvirtio_common_writel(&d, VIRTIO_PCI_COMMON_Q_DESCLO, 0);
    qvirtio_common_writel(&d, VIRTIO_PCI_COMMON_Q_DESCHI, UNASSIGNED >> 32);
    qvirtio_common_writew(&d, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
    g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_ENABLE), ==,
                     0);
    g_assert_cmphex(qvirtio_get_status(&d) & VIRTIO_CONFIG_S_NEEDS_RESET, ==,
                    VIRTIO_CONFIG_S_NEEDS_RESET);
    qtest_quit(s);
}

static void test_queue_reset(void)
{
    QVirtioDev d;
    QTestState *s = rng_start(&d, "");
    QVirtQueue *vq;

    /* Without RING_RESET negotiated, queue_reset is ignored. */
    vq = rng_ready(&d, F_BASE, VIRTIO_MSI_NO_VECTOR);
    qvirtqueue_select(&d, 0);
    qvirtio_common_writew(&d, VIRTIO_PCI_COMMON_Q_RESET, 1);
    g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_RESET), ==, 0);
    g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_ENABLE), ==,
                     1);
    g_free(vq);

    qvirtio_msix_enable(&d);
    vq = rng_ready(&d, F_BASE | VIRTIO_BIT(VIRTIO_F_RING_RESET), 1);
    g_assert_cmpuint(rng_request(vq, BUF, 8), ==, 8);
    qvirtqueue_select(&d, 0);
    qvirtio_common_writew(&d, VIRTIO_PCI_COMMON_Q_RESET, 1);
    g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_RESET), ==, 1);
    g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_ENABLE), ==,
                     0);
    g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_SIZE), ==, 8);
    g_assert_cmphex(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_MSIX), ==,
                    VIRTIO_MSI_NO_VECTOR);
    g_assert_cmphex(qvirtio_common_readl(&d, VIRTIO_PCI_COMMON_Q_DESCLO), ==,
                    0);
    /* The device stays DRIVER_OK; a new ring for the queue starts at 0. */
    g_assert_cmphex(qvirtio_get_status(&d) & VIRTIO_CONFIG_S_DRIVER_OK, ==,
                    VIRTIO_CONFIG_S_DRIVER_OK);
    g_free(vq);
    vq = qvirtqueue_setup(&d, 0, 0, VIRTIO_MSI_NO_VECTOR);
    g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_RESET), ==, 0);
    g_assert_cmpuint(rng_request(vq, BUF, 8), ==, 8);
    g_assert_cmpuint(qvirtqueue_get_used_idx(vq), ==, 1);
    g_free(vq);
    qtest_quit(s);
}

/* --- Requests ------------------------------------------------------------------ */

static void test_round_trip(void)
{
    QVirtioDev d;
    QTestState *s = rng_start(&d, "");
    QVirtQueue *vq = rng_ready(&d, F_BASE, VIRTIO_MSI_NO_VECTOR);
    uint8_t ro[64], back[64];
    uint16_t head;

    g_assert_cmpuint(rng_request(vq, BUF, 64), ==, 64);
    g_assert_false(all_zero(s, BUF, 64));
    /* Only the buffer is written. */
    g_assert_true(all_zero(s, BUF + 64, 64));

    /* Two writable buffers: both filled, used length is the sum. */
    {
        QVirtioBuf b[2] = { { BUF + 0x1000, 32, true },
                            { BUF + 0x2000, 100, true } };

        head = qvirtqueue_add_chain(vq, b, 2);
        qvirtqueue_kick(vq);
        g_assert_cmpuint(qvirtqueue_wait_used(vq, head), ==, 132);
        g_assert_false(all_zero(s, BUF + 0x1000, 32));
        g_assert_false(all_zero(s, BUF + 0x2000, 100));
        g_assert_true(all_zero(s, BUF + 0x2000 + 100, 64));
    }

    /* A readable buffer first: left alone, not counted. */
    memset(ro, 0x5a, sizeof(ro));
    qtest_memwrite(s, BUF + 0x3000, ro, sizeof(ro));
    {
        QVirtioBuf b[2] = { { BUF + 0x3000, 64, false },
                            { BUF + 0x4000, 16, true } };

        head = qvirtqueue_add_chain(vq, b, 2);
        qvirtqueue_kick(vq);
        g_assert_cmpuint(qvirtqueue_wait_used(vq, head), ==, 16);
    }
    qtest_memread(s, BUF + 0x3000, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), ro, sizeof(ro));

    /* At most 64 KiB per request. */
    g_assert_cmpuint(rng_request(vq, BUF + 0x10000, 0x30000), ==, 0x10000);
    g_assert_true(all_zero(s, BUF + 0x20000, 0x100));

    /* Several requests, one kick. */
    {
        QVirtioBuf b = { BUF + 0x40000, 8, true };
        uint32_t id, len;

        for (int i = 0; i < 3; i++) {
            qvirtqueue_add_chain(vq, &b, 1);
        }
        qvirtqueue_kick(vq);
        for (int i = 0; i < 3; i++) {
            g_assert_true(qvirtqueue_get_used(vq, &id, &len));
            g_assert_cmpuint(len, ==, 8);
        }
        g_assert_false(qvirtqueue_get_used(vq, &id, &len));
    }
    g_free(vq);
    qtest_quit(s);
}

static void test_indirect(void)
{
    QVirtioDev d;
    QTestState *s = rng_start(&d, "");
    QVirtQueue *vq = rng_ready(&d, F_BASE |
                               VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC),
                               VIRTIO_MSI_NO_VECTOR);
    QVirtioBuf b[3] = { { BUF, 16, true }, { BUF + 0x100, 48, true },
                        { BUF + 0x200, 64, true } };
    uint16_t head = qvirtqueue_add_indirect(vq, b, 3);

    qvirtqueue_kick(vq);
    g_assert_cmpuint(qvirtqueue_wait_used(vq, head), ==, 128);
    g_assert_false(all_zero(s, BUF + 0x100, 48));
    g_assert_false(all_zero(s, BUF + 0x200, 64));
    g_free(vq);

    /* Not negotiated: an indirect descriptor is an error. */
    vq = rng_ready(&d, F_BASE, VIRTIO_MSI_NO_VECTOR);
    qvirtqueue_add_indirect(vq, b, 1);
    qvirtqueue_kick(vq);
    g_assert_false(qvirtqueue_get_used(vq, NULL, NULL));
    g_assert_cmphex(qvirtio_get_status(&d) & VIRTIO_CONFIG_S_NEEDS_RESET, ==,
                    VIRTIO_CONFIG_S_NEEDS_RESET);
    g_free(vq);
    qtest_quit(s);
}

/* --- Interrupts -------------------------------------------------------------------- */

static void test_msix_vectors(void)
{
    QVirtioDev d;
    QTestState *s = rng_start(&d, "");
    QVirtQueue *vq;

    qvirtio_msix_enable(&d);
    qvirtio_msix_setup_vector(&d, 0);
    qvirtio_msix_setup_vector(&d, 1);
    vq = rng_ready(&d, F_BASE, 1);
    g_assert_cmphex(vq->vector, ==, 1);
    /* A vector beyond the table is not mapped. */
    g_assert_cmphex(qvirtio_set_config_vector(&d, 2), ==,
                    VIRTIO_MSI_NO_VECTOR);
    g_assert_cmphex(qvirtio_set_config_vector(&d, 0), ==, 0);

    g_assert_cmpuint(rng_request(vq, BUF, 8), ==, 8);
    assert_msi(s, 1);
    assert_no_msi(s);

    /* Masked: pending until unmasked. */
    qvirtio_msix_mask_vector(&d, 1, true);
    g_assert_cmpuint(rng_request(vq, BUF, 8), ==, 8);
    assert_no_msi(s);
    qvirtio_msix_mask_vector(&d, 1, false);
    assert_msi(s, 1);

    /* NO_VECTOR: no message. */
    qvirtqueue_select(&d, 0);
    qvirtio_common_writew(&d, VIRTIO_PCI_COMMON_Q_MSIX, VIRTIO_MSI_NO_VECTOR);
    g_assert_cmpuint(rng_request(vq, BUF, 8), ==, 8);
    assert_no_msi(s);

    /* NO_INTERRUPT suppresses the queue interrupt. */
    qvirtio_common_writew(&d, VIRTIO_PCI_COMMON_Q_MSIX, 1);
    qvirtqueue_set_avail_flags(vq, VRING_AVAIL_F_NO_INTERRUPT);
    g_assert_cmpuint(rng_request(vq, BUF, 8), ==, 8);
    assert_no_msi(s);
    qvirtqueue_set_avail_flags(vq, 0);

    /* A config change (here DEVICE_NEEDS_RESET) uses the config vector. */
    qvirtqueue_publish(vq, 200);
    qvirtqueue_kick(vq);
    assert_msi(s, 0);
    assert_no_msi(s);
    g_free(vq);
    qtest_quit(s);
}

static void test_intx_isr(void)
{
    QVirtioDev d;
    QTestState *s = rng_start(&d, "");
    int gsi = qpci_config_readb(s, 0, RNG_DEVFN, PCI_INTERRUPT_LINE);
    QVirtQueue *vq;

    g_assert_cmpint(gsi, ==, 20);      /* slot 4, INTA -> PIRQE */
    qtest_irq_intercept_in(s, "ioapic");
    vq = rng_ready(&d, F_BASE, VIRTIO_MSI_NO_VECTOR);
    g_assert_false(qtest_get_irq(s, gsi));

    g_assert_cmpuint(rng_request(vq, BUF, 8), ==, 8);
    g_assert_true(qtest_get_irq(s, gsi));
    g_assert_cmphex(qvirtio_isr_read(&d), ==, 1);    /* read clears */
    g_assert_false(qtest_get_irq(s, gsi));
    g_assert_cmphex(qvirtio_isr_read(&d), ==, 0);

    qvirtqueue_set_avail_flags(vq, VRING_AVAIL_F_NO_INTERRUPT);
    g_assert_cmpuint(rng_request(vq, BUF, 8), ==, 8);
    g_assert_false(qtest_get_irq(s, gsi));
    g_assert_cmphex(qvirtio_isr_read(&d), ==, 0);
    qvirtqueue_set_avail_flags(vq, 0);

    /* Config change: ISR bit 1. */
    qvirtqueue_publish(vq, 200);
    qvirtqueue_kick(vq);
    g_assert_true(qtest_get_irq(s, gsi));
    g_assert_cmphex(qvirtio_isr_read(&d) & 2, ==, 2);
    g_assert_false(qtest_get_irq(s, gsi));

    /* A reset drops the line too. */
    g_free(vq);
    vq = rng_ready(&d, F_BASE, VIRTIO_MSI_NO_VECTOR);
    g_assert_cmpuint(rng_request(vq, BUF, 8), ==, 8);
    g_assert_true(qtest_get_irq(s, gsi));
    qvirtio_reset(&d);
    g_assert_false(qtest_get_irq(s, gsi));
    g_free(vq);
    qtest_quit(s);
}

static void test_event_idx(void)
{
    QVirtioDev d;
    QTestState *s = rng_start(&d, "");
    QVirtQueue *vq;

    qvirtio_msix_enable(&d);
    qvirtio_msix_setup_vector(&d, 0);
    vq = rng_ready(&d, F_BASE | VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX), 0);

    /* The first used buffer always interrupts. */
    g_assert_cmpuint(rng_request(vq, BUF, 8), ==, 8);
    assert_msi(s, 0);
    /* avail_event: the device wants a kick for the next entry. */
    g_assert_cmpuint(qvirtqueue_get_avail_event(vq), ==, 1);

    /* used_event 10: no interrupt for used idx 2..10 ... */
    qvirtqueue_set_used_event(vq, 10);
    g_assert_cmpuint(rng_request(vq, BUF, 8), ==, 8);
    assert_no_msi(s);
    /* ... used_event 2 was passed by entry 3: interrupt. */
    qvirtqueue_set_used_event(vq, 2);
    g_assert_cmpuint(rng_request(vq, BUF, 8), ==, 8);
    assert_msi(s, 0);
    g_assert_cmpuint(qvirtqueue_get_avail_event(vq), ==, 3);
    /* NO_INTERRUPT has no meaning with EVENT_IDX. */
    qvirtqueue_set_avail_flags(vq, VRING_AVAIL_F_NO_INTERRUPT);
    qvirtqueue_set_used_event(vq, 3);
    g_assert_cmpuint(rng_request(vq, BUF, 8), ==, 8);
    assert_msi(s, 0);
    g_free(vq);
    qtest_quit(s);
}

/* --- Other access paths ------------------------------------------------------------ */

/* 4.1.4.9: common cfg through the PCI_CFG window in config space. */
static void test_pci_cfg_access(void)
{
    QVirtioDev d;
    QTestState *s = rng_start(&d, "");
    uint8_t cap = d.pci_cfg_cap;

    qpci_config_writeb(s, 0, RNG_DEVFN, cap + 4, 4);           /* bar */
    qpci_config_writel(s, 0, RNG_DEVFN, cap + 8,
                       VIRTIO_PCI_COMMON_NUMQ);                 /* offset */
    qpci_config_writel(s, 0, RNG_DEVFN, cap + 12, 2);          /* length */
    g_assert_cmphex(qpci_config_readw(s, 0, RNG_DEVFN, cap + 16), ==, 1);

    qpci_config_writel(s, 0, RNG_DEVFN, cap + 8, VIRTIO_PCI_COMMON_STATUS);
    qpci_config_writel(s, 0, RNG_DEVFN, cap + 12, 1);
    qpci_config_writeb(s, 0, RNG_DEVFN, cap + 16,
                       VIRTIO_CONFIG_S_ACKNOWLEDGE);
    g_assert_cmphex(qvirtio_get_status(&d), ==, VIRTIO_CONFIG_S_ACKNOWLEDGE);

    /* A length that is not 1, 2 or 4 does nothing. */
    qpci_config_writel(s, 0, RNG_DEVFN, cap + 12, 3);
    qpci_config_writel(s, 0, RNG_DEVFN, cap + 16, 0);
    g_assert_cmphex(qvirtio_get_status(&d), ==, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    /* Works with memory decode off (its purpose). */
    qpci_config_writew(s, 0, RNG_DEVFN, PCI_COMMAND, PCI_COMMAND_MASTER);
    qpci_config_writel(s, 0, RNG_DEVFN, cap + 12, 1);
    qpci_config_writeb(s, 0, RNG_DEVFN, cap + 16, 0);
    g_assert_cmphex(qpci_config_readb(s, 0, RNG_DEVFN, cap + 16), ==, 0);
    qpci_config_writew(s, 0, RNG_DEVFN, PCI_COMMAND,
                       PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY);
    g_assert_cmphex(qvirtio_get_status(&d), ==, 0);
    qtest_quit(s);
}

/* Without bus mastering the device cannot read its rings. */
static void test_bus_master_off(void)
{
    QVirtioDev d;
    QTestState *s = rng_start(&d, "");
    QVirtQueue *vq = rng_ready(&d, F_BASE, VIRTIO_MSI_NO_VECTOR);
    QVirtioBuf b = { BUF, 8, true };
    uint16_t head;

    qpci_config_writew(s, 0, RNG_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY);
    head = qvirtqueue_add_chain(vq, &b, 1);
    qvirtqueue_kick(vq);
    g_assert_cmphex(qvirtio_get_status(&d) & VIRTIO_CONFIG_S_NEEDS_RESET, ==,
                    VIRTIO_CONFIG_S_NEEDS_RESET);
    qpci_config_writew(s, 0, RNG_DEVFN, PCI_COMMAND,
                       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    g_assert_false(qvirtqueue_get_used(vq, NULL, NULL));
    (void)head;
    g_free(vq);
    qtest_quit(s);
}

/*
 * A used ring placed over the device's own common configuration: the used
 * entry's id would land on driver_feature_select and its length on
 * driver_feature, a register write from inside the device's own DMA (with
 * the notify register instead, a re-entrant kick).  The transport refuses
 * such accesses; the device stays consistent and works after a reset.
 */
static void test_dma_to_own_registers(void)
{
    QVirtioDev d;
    QTestState *s = rng_start(&d, "");
    uint64_t desc, avail;
    QVirtQueue *vq;

    qvirtio_start(&d, F_BASE);
    qvirtio_common_writel(&d, VIRTIO_PCI_COMMON_GFSELECT, 0);
    qvirtqueue_select(&d, 0);
    desc = qvirtio_alloc(&d, 16 * 8, 16);
    avail = qvirtio_alloc(&d, 6 + 2 * 8, 4);
    qvirtio_write_desc(s, desc, 5, BUF, 8, VRING_DESC_F_WRITE, 0);
    qvirtio_common_writel(&d, VIRTIO_PCI_COMMON_Q_DESCLO, desc);
    qvirtio_common_writel(&d, VIRTIO_PCI_COMMON_Q_AVAILLO, avail);
    /* used->ring[0] = { id, len } at common cfg 0x08 / 0x0c. */
    qvirtio_common_writel(&d, VIRTIO_PCI_COMMON_Q_USEDLO, d.common + 4);
    qvirtio_common_writel(&d, VIRTIO_PCI_COMMON_Q_USEDHI, d.common >> 32);
    qvirtio_common_writew(&d, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
    g_assert_cmpuint(qvirtio_common_readw(&d, VIRTIO_PCI_COMMON_Q_ENABLE), ==,
                     1);
    qvirtio_set_driver_ok(&d);
    qtest_writew(s, avail + 4, 5);          /* ring[0] = head 5 */
    qtest_writew(s, avail + 2, 1);          /* idx */
    qtest_writew(s, d.notify, 0);
    g_assert_false(all_zero(s, BUF, 8));
    g_assert_cmphex(qvirtio_common_readl(&d, VIRTIO_PCI_COMMON_GFSELECT), ==,
                    0);
    g_assert_cmphex(qvirtio_get_status(&d) & VIRTIO_CONFIG_S_NEEDS_RESET, ==,
                    0);

    vq = rng_ready(&d, F_BASE, VIRTIO_MSI_NO_VECTOR);
    g_assert_cmpuint(rng_request(vq, BUF + 0x100, 8), ==, 8);
    g_assert_cmpuint(qvirtqueue_get_used_idx(vq), ==, 1);
    g_free(vq);
    qtest_quit(s);
}

/*
 * DMA and a vIOMMU (intel-iommu, remapping on, 3-level table for the
 * device): with iommu_platform=on ring and buffer addresses are IOVAs;
 * with it off they are guest-physical and bypass the IOMMU.
 */
#define VTD_DID         7
#define IOVA_BUF        0x0a000000ULL       /* beyond RAM: only mapped */

static void start_vtd(VTDTest *t, QVirtioDev *d, VTDPageTable *pt,
                      const char *opts)
{
    g_autofree char *extra =
        g_strdup_printf("-device virtio-rng-pci,addr=04.0%s", opts);

    vtd_test_start(t, "", extra);
    qvirtio_pci_init(d, t->s, 0, RNG_DEVFN, ALLOC_BASE, 0x10000);
    vtd_legacy_root_new(t);
    vtd_pt_init(t, pt, 3, false);
    vtd_legacy_map_device(t, 0, RNG_DEVFN, pt->root, VTD_AW_39, VTD_DID);
    vtd_enable_dmar(t);
}

static void test_iommu_platform_on(void)
{
    VTDTest t;
    VTDPageTable pt;
    QVirtioDev d;
    QVirtQueue *vq;
    QVirtioBuf b = { BUF, 8, true };

    start_vtd(&t, &d, &pt, ",iommu_platform=on");
    g_assert_cmphex(qvirtio_get_features(&d), ==,
                    F_ALL | VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM));
    /* Rings identity-mapped; the data buffer at IOVA_BUF -> BUF. */
    vtd_pt_map_range(&t, &pt, ALLOC_BASE, ALLOC_BASE, 0x10000, VTD_SL_RW);
    vtd_pt_map(&t, &pt, IOVA_BUF, BUF, 4096, VTD_SL_RW);
    vq = rng_ready(&d, F_BASE | VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM),
                   VIRTIO_MSI_NO_VECTOR);
    g_assert_cmpuint(rng_request(vq, IOVA_BUF, 64), ==, 64);
    g_assert_false(all_zero(t.s, BUF, 64));

    /* A guest-physical address is not mapped: the device gives up. */
    qvirtqueue_add_chain(vq, &b, 1);
    qvirtqueue_kick(vq);
    g_assert_false(qvirtqueue_get_used(vq, NULL, NULL));
    g_assert_cmphex(qvirtio_get_status(&d) & VIRTIO_CONFIG_S_NEEDS_RESET, ==,
                    VIRTIO_CONFIG_S_NEEDS_RESET);
    g_free(vq);
    vtd_test_quit(&t);
}

static void test_iommu_platform_off(void)
{
    VTDTest t;
    VTDPageTable pt;
    QVirtioDev d;
    QVirtQueue *vq;

    /* Nothing mapped for the device, yet its DMA works. */
    start_vtd(&t, &d, &pt, "");
    g_assert_cmphex(qvirtio_get_features(&d), ==, F_ALL);
    vq = rng_ready(&d, F_BASE, VIRTIO_MSI_NO_VECTOR);
    g_assert_cmpuint(rng_request(vq, BUF, 64), ==, 64);
    g_assert_false(all_zero(t.s, BUF, 64));
    g_free(vq);
    vtd_test_quit(&t);
}

/* --- Malformed rings ---------------------------------------------------------------- */

typedef struct BadRing {
    const char *name;
    uint64_t features;          /* beyond VERSION_1 */
    /* Writes the malformed chain (and publishes it) on an 8-entry queue. */
    void (*build)(QVirtQueue *vq);
} BadRing;

static void bad_loop(QVirtQueue *vq)
{
    qvirtqueue_write_desc(vq, 0, BUF, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
                          1);
    qvirtqueue_write_desc(vq, 1, BUF, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
                          0);
    qvirtqueue_publish(vq, 0);
}

static void bad_head_index(QVirtQueue *vq)
{
    qvirtqueue_publish(vq, 8);
}

static void bad_next_index(QVirtQueue *vq)
{
    qvirtqueue_write_desc(vq, 0, BUF, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
                          99);
    qvirtqueue_publish(vq, 0);
}

static void bad_unassigned(QVirtQueue *vq)
{
    qvirtqueue_write_desc(vq, 0, UNASSIGNED, 8, VRING_DESC_F_WRITE, 0);
    qvirtqueue_publish(vq, 0);
}

static void bad_wraps(QVirtQueue *vq)
{
    qvirtqueue_write_desc(vq, 0, 0xfffffffffffff000ULL, 0x2000,
                          VRING_DESC_F_WRITE, 0);
    qvirtqueue_publish(vq, 0);
}

static void bad_zero_len(QVirtQueue *vq)
{
    qvirtqueue_write_desc(vq, 0, BUF, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
                          1);
    qvirtqueue_write_desc(vq, 1, BUF + 8, 0, VRING_DESC_F_WRITE, 0);
    qvirtqueue_publish(vq, 0);
}

static void bad_readable_after_writable(QVirtQueue *vq)
{
    qvirtqueue_write_desc(vq, 0, BUF, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
                          1);
    qvirtqueue_write_desc(vq, 1, BUF + 8, 8, 0, 0);
    qvirtqueue_publish(vq, 0);
}

static void bad_avail_idx(QVirtQueue *vq)
{
    qvirtqueue_write_desc(vq, 0, BUF, 8, VRING_DESC_F_WRITE, 0);
    qvirtqueue_set_avail_idx(vq, 9);
}

/* Indirect tables, built at BUF + 0x1000. */
static void bad_indirect_nested(QVirtQueue *vq)
{
    QTestState *s = vq->d->s;

    qvirtio_write_desc(s, BUF + 0x1000, 0, BUF + 0x2000, 16,
                       VRING_DESC_F_INDIRECT, 0);
    qvirtio_write_desc(s, BUF + 0x2000, 0, BUF, 8, VRING_DESC_F_WRITE, 0);
    qvirtqueue_write_desc(vq, 0, BUF + 0x1000, 16, VRING_DESC_F_INDIRECT, 0);
    qvirtqueue_publish(vq, 0);
}

static void bad_indirect_next(QVirtQueue *vq)
{
    qvirtio_write_desc(vq->d->s, BUF + 0x1000, 0, BUF, 8, VRING_DESC_F_WRITE,
                       0);
    qvirtqueue_write_desc(vq, 0, BUF + 0x1000, 16,
                          VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
    qvirtqueue_write_desc(vq, 1, BUF, 8, VRING_DESC_F_WRITE, 0);
    qvirtqueue_publish(vq, 0);
}

static void bad_indirect_len(QVirtQueue *vq)
{
    qvirtio_write_desc(vq->d->s, BUF + 0x1000, 0, BUF, 8, VRING_DESC_F_WRITE,
                       0);
    qvirtqueue_write_desc(vq, 0, BUF + 0x1000, 24, VRING_DESC_F_INDIRECT, 0);
    qvirtqueue_publish(vq, 0);
}

static void bad_indirect_huge(QVirtQueue *vq)
{
    qvirtqueue_write_desc(vq, 0, BUF + 0x1000, 16 * 2048,
                          VRING_DESC_F_INDIRECT, 0);
    qvirtqueue_publish(vq, 0);
}

static void bad_indirect_loop(QVirtQueue *vq)
{
    QTestState *s = vq->d->s;

    qvirtio_write_desc(s, BUF + 0x1000, 0, BUF, 8,
                       VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
    qvirtio_write_desc(s, BUF + 0x1000, 1, BUF, 8,
                       VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);
    qvirtqueue_write_desc(vq, 0, BUF + 0x1000, 32, VRING_DESC_F_INDIRECT, 0);
    qvirtqueue_publish(vq, 0);
}

static void bad_indirect_unassigned(QVirtQueue *vq)
{
    qvirtqueue_write_desc(vq, 0, UNASSIGNED, 32, VRING_DESC_F_INDIRECT, 0);
    qvirtqueue_publish(vq, 0);
}

static void bad_indirect_next_index(QVirtQueue *vq)
{
    qvirtio_write_desc(vq->d->s, BUF + 0x1000, 0, BUF, 8,
                       VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
    qvirtqueue_write_desc(vq, 0, BUF + 0x1000, 32, VRING_DESC_F_INDIRECT, 0);
    qvirtqueue_publish(vq, 0);
}

#define F_IND VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC)

static const BadRing bad_rings[] = {
    { "loop", 0, bad_loop },
    { "head-index-out-of-range", 0, bad_head_index },
    { "next-index-out-of-range", 0, bad_next_index },
    { "address-unassigned", 0, bad_unassigned },
    { "address-wraps", 0, bad_wraps },
    { "zero-length", 0, bad_zero_len },
    { "readable-after-writable", 0, bad_readable_after_writable },
    { "avail-idx-too-far", 0, bad_avail_idx },
    { "indirect-in-indirect", F_IND, bad_indirect_nested },
    { "indirect-with-next", F_IND, bad_indirect_next },
    { "indirect-length-not-multiple-of-16", F_IND, bad_indirect_len },
    { "indirect-table-too-big", F_IND, bad_indirect_huge },
    { "indirect-loop", F_IND, bad_indirect_loop },
    { "indirect-table-unassigned", F_IND, bad_indirect_unassigned },
    { "indirect-next-index-out-of-range", F_IND, bad_indirect_next_index },
};

/*
 * The malformed chain sets DEVICE_NEEDS_RESET with a config interrupt and
 * returns nothing; the device ignores kicks until reset, then works.
 */
static void test_malformed(const void *opaque)
{
    const BadRing *bad = opaque;
    QVirtioDev d;
    QTestState *s = rng_start(&d, "");
    QVirtioBuf good = { BUF + 0x8000, 8, true };
    QVirtQueue *vq;

    qvirtio_msix_enable(&d);
    qvirtio_msix_setup_vector(&d, 0);
    qvirtio_msix_setup_vector(&d, 1);
    vq = rng_ready(&d, F_BASE | bad->features, 1);
    g_assert_cmphex(qvirtio_set_config_vector(&d, 0), ==, 0);

    bad->build(vq);
    qvirtqueue_kick(vq);
    g_assert_false(qvirtqueue_get_used(vq, NULL, NULL));
    g_assert_cmphex(qvirtio_get_status(&d), ==,
                    VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                    VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK |
                    VIRTIO_CONFIG_S_NEEDS_RESET);
    assert_msi(s, 0);
    assert_no_msi(s);

    /* Broken: a good request is not processed. */
    qvirtqueue_set_avail_idx(vq, 0);
    qvirtqueue_add_chain(vq, &good, 1);
    qvirtqueue_kick(vq);
    g_assert_false(qvirtqueue_get_used(vq, NULL, NULL));
    g_assert_true(all_zero(s, good.addr, good.len));
    g_free(vq);

    /* Reset clears the condition; the next request works. */
    vq = rng_ready(&d, F_BASE | bad->features, 1);
    g_assert_cmphex(qvirtio_get_status(&d) & VIRTIO_CONFIG_S_NEEDS_RESET, ==,
                    0);
    g_assert_cmpuint(rng_request(vq, good.addr, good.len), ==, good.len);
    g_assert_false(all_zero(s, good.addr, good.len));
    assert_msi(s, 1);
    g_free(vq);
    qtest_quit(s);
}

/* --- Backend properties ------------------------------------------------------ */

/*
 * The backend's properties are the proxy's (max-bytes, period); the rate
 * limit holds requests until the period ends.
 */
static void test_rate_limit(void)
{
    QVirtioDev d;
    QTestState *s = rng_start(&d, ",id=rng0,max-bytes=16,period=1000");
    QVirtioBuf b = { BUF + 0x100, 64, true };
    JsonObject *rsp;
    QVirtQueue *vq;
    uint16_t head;

    rsp = qtest_qmp(s, "{\"execute\": \"qom-get\", \"arguments\": "
                    "{\"path\": \"rng0\", \"property\": \"max-bytes\"}}");
    g_assert_cmpint(json_node_get_int(qmp_expect_return(rsp)), ==, 16);
    json_object_unref(rsp);
    rsp = qtest_qmp(s, "{\"execute\": \"qom-set\", \"arguments\": "
                    "{\"path\": \"rng0\", \"property\": \"period\", "
                    "\"value\": 5}}");
    g_free(qmp_expect_error(rsp, "GenericError"));
    json_object_unref(rsp);

    vq = rng_ready(&d, F_BASE, VIRTIO_MSI_NO_VECTOR);
    g_assert_cmpuint(rng_request(vq, BUF, 64), ==, 16);
    head = qvirtqueue_add_chain(vq, &b, 1);
    qvirtqueue_kick(vq);
    g_assert_false(qvirtqueue_get_used(vq, NULL, NULL));
    qtest_clock_step(s, 999 * 1000 * 1000);
    g_assert_false(qvirtqueue_get_used(vq, NULL, NULL));
    qtest_clock_step(s, 1000 * 1000);
    g_assert_cmpuint(qvirtqueue_wait_used(vq, head), ==, 16);
    g_assert_false(all_zero(s, b.addr, 16));
    g_assert_true(all_zero(s, b.addr + 16, 48));
    g_free(vq);
    qtest_quit(s);
}

/* A backend that fails to realize leaves nothing behind. */
static void test_realize_failure(void)
{
    QTestState *s = qtest_init("-M q35 -m 128M "
                               "-device pcie-root-port,id=rp0,addr=05.0");
    JsonObject *rsp;
    g_autofree char *err = NULL;
    int bus, devfn;

    rsp = qtest_qmp(s, "{\"execute\": \"device_add\", \"arguments\": "
                    "{\"driver\": \"virtio-rng-pci\", \"bus\": \"rp0\", "
                    "\"id\": \"r\", \"period\": 0}}");
    err = qmp_expect_error(rsp, "GenericError");
    g_assert_cmpstr(err, ==, "'period' parameter expects a positive integer");
    json_object_unref(rsp);
    g_assert_false(qvirtio_pci_find(s, VIRTIO_ID_RNG, 0, &bus, &devfn));
    qtest_qmp_device_add(s, "virtio-rng-pci", "r", "\"bus\": \"rp0\"");
    g_assert_true(qvirtio_pci_find(s, VIRTIO_ID_RNG, 0, &bus, &devfn));
    qtest_quit(s);
}

/* --- Hot plug ------------------------------------------------------------------- */

static void test_hotplug_cycles(void)
{
    QTestState *s = qtest_init("-M q35 -m 128M "
                               "-device pcie-root-port,id=rp0,addr=05.0");
    int fds = qtest_count_fds(s);

    for (int i = 0; i < 3; i++) {
        int bus, devfn;

        qtest_qmp_device_add(s, "virtio-rng-pci", "rng1",
                             "\"bus\": \"rp0\", \"vectors\": 3");
        g_assert_true(qvirtio_pci_find(s, VIRTIO_ID_RNG, 0, &bus, &devfn));
        g_assert_cmpint(bus, ==, 1);
        qtest_qmp_device_del(s, "rng1");
        g_assert_false(qvirtio_pci_find(s, VIRTIO_ID_RNG, 0, &bus, &devfn));
    }
    g_assert_cmpint(qtest_count_fds(s), ==, fds);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-pci/ids-and-caps", test_ids_caps);
    g_test_add_func("/virtio-pci/msix/vectors-0-means-no-msix", test_no_msix);
    g_test_add_func("/virtio-pci/behind-root-port", test_behind_root_port);
    g_test_add_func("/virtio-pci/common-cfg/feature-negotiation",
                    test_feature_negotiation);
    g_test_add_func("/virtio-pci/common-cfg/features-ok-refused",
                    test_features_ok_refused);
    g_test_add_func("/virtio-pci/common-cfg/status-and-reset",
                    test_status_reset);
    g_test_add_func("/virtio-pci/queue/setup", test_queue_setup);
    g_test_add_func("/virtio-pci/queue/no-processing-before-driver-ok",
                    test_no_processing_before_driver_ok);
    g_test_add_func("/virtio-pci/queue/bad-ring-address", test_misaligned_ring);
    g_test_add_func("/virtio-pci/queue/queue-reset", test_queue_reset);
    g_test_add_func("/virtio-pci/rng/round-trip", test_round_trip);
    g_test_add_func("/virtio-pci/rng/indirect", test_indirect);
    g_test_add_func("/virtio-pci/msix/queue-and-config-vectors",
                    test_msix_vectors);
    g_test_add_func("/virtio-pci/intx/isr", test_intx_isr);
    g_test_add_func("/virtio-pci/event-idx", test_event_idx);
    g_test_add_func("/virtio-pci/pci-cfg-access", test_pci_cfg_access);
    g_test_add_func("/virtio-pci/dma/bus-master-off", test_bus_master_off);
    g_test_add_func("/virtio-pci/dma/own-registers-not-reentered",
                    test_dma_to_own_registers);
    g_test_add_func("/virtio-pci/dma/iommu-platform-on-translated",
                    test_iommu_platform_on);
    g_test_add_func("/virtio-pci/dma/iommu-platform-off-bypasses",
                    test_iommu_platform_off);
    for (size_t i = 0; i < G_N_ELEMENTS(bad_rings); i++) {
        g_autofree char *path = g_strdup_printf("/virtio-pci/malformed/%s",
                                                bad_rings[i].name);

        g_test_add_data_func(path, &bad_rings[i], test_malformed);
    }
    g_test_add_func("/virtio-pci/rng/rate-limit-backend-props",
                    test_rate_limit);
    g_test_add_func("/virtio-pci/realize-failure", test_realize_failure);
    g_test_add_func("/virtio-pci/hotplug/add-del-cycles", test_hotplug_cycles);
    return g_test_run();
}
