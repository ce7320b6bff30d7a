/*
 * -device vfio-pci on a simulated host (-object sim-host, a "dma" device,
 * host/sim/sim-pci-model-regs.h), as a guest driver sees it: config
 * space through CF8/CFC, the register BAR (trapped), DMA started through
 * it landing in guest RAM, the completion arriving as the MSI-X or MSI
 * message the guest programmed; behind intel-iommu (caching mode) and
 * virtio-iommu, DMA lands where the guest mapped it and faults once the
 * guest unmapped it.  Both backends: the legacy container and iommufd.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>

#include "libqtest.h"
#include "libsimdma.h"
#include "libvtd.h"
#include "libvirtio.h"

#define HOST_BDF        "0000:02:00.0"
#define VFIO_DEVFN      (4 << 3)
#define SIM_ARGS        "-object sim-host,id=h " \
                        "-object sim-pci-device,id=d0,sim-host=h," \
                        "host=" HOST_BDF ",iommu-group=5 "
#define LEGACY_DEV      "-device vfio-pci,host=" HOST_BDF ",addr=04.0," \
                        "id=vfio0 "
#define IOMMUFD_DEV     "-object iommufd,id=fd0 " \
                        "-device vfio-pci,host=" HOST_BDF ",addr=04.0," \
                        "id=vfio0,iommufd=fd0 "

#define PCI_COMMAND     0x04
#define PCI_STATUS      0x06
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN  0x3d
#define PCI_COMMAND_INTX_DISABLE 0x400
#define MSI_ADDR        0xfee00000ULL
#define MSI_DATA(v)     (0x4100u + (v))

/* Guest RAM; with no vIOMMU (or a bypass) GPAs are the device's IOVAs. */
#define GPA_SRC         0x100000ULL
#define GPA_DST         0x200000ULL
#define GPA_DST2        0x300000ULL
#define LEN             256     /* bytes of each copy that must land */

typedef enum Backend { LEGACY, IOMMUFD } Backend;

static const char *backend_args(Backend b)
{
    return b == LEGACY ? LEGACY_DEV : IOMMUFD_DEV;
}

/* The guest's MSI capability (emulated by vfio-pci). */
#define MSI_CAP(reg)    (SIM_DMA_CFG_MSI + SIM_DMA_MSI_##reg)
#define MSI_MME(n)      ((n) << SIM_DMA_MSI_CTRL_MME_SHIFT)   /* log2 */

/* The next MSI the machine saw, asserting it is @data. */
static void expect_msi(QTestState *s, uint32_t data)
{
    uint64_t addr;
    uint32_t got;

    g_assert_true(qtest_msi_pop(s, &addr, &got));
    g_assert_cmphex(addr, ==, MSI_ADDR);
    g_assert_cmphex(got, ==, data);
}

/*
 * The guest driver brings the device up: BARs, MSI-X (vectors 0 and 1
 * with MSI_DATA(v)), then a copy GPA_SRC -> GPA_DST (the IOVAs are
 * guest-physical: no vIOMMU, remapping off or a bypass) lands and
 * completes on vector 0.
 */
static void dev_up(SimDma *d, QTestState *s, uint8_t seed)
{
    simdma_init(d, s, 0, VFIO_DEVFN);
    simdma_msix_on(d, 2, MSI_ADDR, MSI_DATA(0));
    g_assert_true(simdma_copy_lands(d, GPA_SRC, GPA_SRC, GPA_DST, GPA_DST,
                                    LEN, seed));
    expect_msi(s, MSI_DATA(0));
}

/* ------------------------------------------------------------------------
 * No vIOMMU
 * ------------------------------------------------------------------------ */

static void test_config_and_bar(gconstpointer opaque)
{
    Backend b = GPOINTER_TO_INT(opaque);
    QTestState *s = qtest_initf("-M q35 " SIM_ARGS "%s", backend_args(b));
    SimDma d;

    g_assert_cmphex(qpci_config_readw(s, 0, VFIO_DEVFN, 0), ==,
                    SIM_DMA_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(s, 0, VFIO_DEVFN, 2), ==,
                    SIM_DMA_DEVICE_ID);
    g_assert_cmphex(qpci_config_readb(s, 0, VFIO_DEVFN, 8), ==,
                    SIM_DMA_REVISION);
    g_assert_cmphex(qpci_config_readw(s, 0, VFIO_DEVFN, 0x0a), ==,
                    SIM_DMA_CLASS);
    g_assert_cmphex(qpci_config_readw(s, 0, VFIO_DEVFN, 0x2c), ==,
                    SIM_DMA_SUBSYS_VENDOR_ID);
    /* INTA; MSI-X, then MSI (64-bit, maskable, 4 vectors) */
    g_assert_cmpuint(qpci_config_readb(s, 0, VFIO_DEVFN, 0x3d), ==, 1);
    g_assert_cmpuint(qpci_config_readb(s, 0, VFIO_DEVFN, 0x34), ==,
                     SIM_DMA_CFG_MSIX);
    g_assert_cmphex(qpci_config_readw(s, 0, VFIO_DEVFN, SIM_DMA_CFG_MSIX), ==,
                    SIM_DMA_CFG_MSI << 8 | 0x11);
    g_assert_cmphex(qpci_config_readw(s, 0, VFIO_DEVFN, SIM_DMA_CFG_MSI), ==,
                    0x05);
    g_assert_cmphex(qpci_config_readw(s, 0, VFIO_DEVFN, MSI_CAP(CTRL)), ==,
                    SIM_DMA_MSI_CTRL_64BIT | SIM_DMA_MSI_CTRL_MASKBIT |
                    SIM_DMA_MSI_MMC << SIM_DMA_MSI_CTRL_MMC_SHIFT);
    /* the capability is the guest's: written and read back, not the host's */
    qpci_config_writel(s, 0, VFIO_DEVFN, MSI_CAP(ADDR_LO), 0xfee0300f);
    qpci_config_writew(s, 0, VFIO_DEVFN, MSI_CAP(DATA), 0x4123);
    qpci_config_writel(s, 0, VFIO_DEVFN, MSI_CAP(MASK), 0xffffffff);
    g_assert_cmphex(qpci_config_readl(s, 0, VFIO_DEVFN, MSI_CAP(ADDR_LO)), ==,
                    0xfee0300c);
    g_assert_cmphex(qpci_config_readw(s, 0, VFIO_DEVFN, MSI_CAP(DATA)), ==,
                    0x4123);
    g_assert_cmphex(qpci_config_readl(s, 0, VFIO_DEVFN, MSI_CAP(MASK)), ==,
                    0xf);
    /* BAR sizes are the device's */
    g_assert_cmphex(qpci_bar_map(s, 0, VFIO_DEVFN, 0, 0xe0000000), ==,
                    SIM_DMA_REGS_SIZE);
    g_assert_cmphex(qpci_bar_map(s, 0, VFIO_DEVFN, 2, 0xe0001000), ==,
                    SIM_DMA_MSIX_BAR_SIZE);

    simdma_init(&d, s, 0, VFIO_DEVFN);
    g_assert_cmphex(simdma_readl(&d, SIM_DMA_REG_ID), ==, SIM_DMA_ID_VALUE);
    g_assert_cmphex(simdma_readl(&d, SIM_DMA_REG_VERSION), ==,
                    SIM_DMA_VERSION_VALUE);
    g_assert_cmpuint(simdma_readl(&d, SIM_DMA_REG_BUF_SIZE), ==,
                     SIM_DMA_BUF_SIZE);
    simdma_writel(&d, SIM_DMA_REG_SCRATCH, 0xdeadbeef);
    g_assert_cmphex(simdma_readl(&d, SIM_DMA_REG_SCRATCH), ==, 0xdeadbeef);
    g_assert_cmphex(qtest_readw(s, d.bar0 + SIM_DMA_REG_SCRATCH + 2), ==,
                    0xdead);
    qtest_quit(s);
}

static void test_dma_no_viommu(gconstpointer opaque)
{
    Backend b = GPOINTER_TO_INT(opaque);
    QTestState *s = qtest_initf("-M q35 -m 128M " SIM_ARGS "%s",
                                backend_args(b));
    SimDma d;

    /* IOVA = guest-physical address */
    dev_up(&d, s, 1);
    g_assert_cmpuint(simdma_readl(&d, SIM_DMA_REG_DONE_COUNT), ==, 1);

    /* a masked vector is pending in the guest's PBA, sent on unmask */
    qtest_writel(s, d.bar2 + SIM_DMA_MSIX_TABLE + 12, 1);
    g_assert_true(simdma_copy_lands(&d, GPA_SRC, GPA_SRC, GPA_DST, GPA_DST,
                                    LEN, 2));
    g_assert_false(qtest_msi_pop(s, &(uint64_t){ 0 }, &(uint32_t){ 0 }));
    g_assert_cmphex(qtest_readl(s, d.bar2 + SIM_DMA_MSIX_PBA), ==, 1);
    qtest_writel(s, d.bar2 + SIM_DMA_MSIX_TABLE + 12, 0);
    expect_msi(s, MSI_DATA(0));
    g_assert_cmphex(qtest_readl(s, d.bar2 + SIM_DMA_MSIX_PBA), ==, 0);

    /* beyond guest RAM nothing is mapped: the device faults */
    g_assert_cmphex(simdma_copy(&d, GPA_SRC, 0x40000000, 16) &
                    (SIM_DMA_STATUS_ERROR | SIM_DMA_STATUS_ERR_MASK), ==,
                    SIMDMA_STATUS_FAULT);
    expect_msi(s, MSI_DATA(1));

    /* bus mastering off: the device issues nothing */
    qpci_config_writew(s, 0, VFIO_DEVFN, PCI_COMMAND, 0x2);
    g_assert_cmpuint(simdma_status_error(simdma_copy(&d, GPA_SRC, GPA_DST,
                                                     16)), ==,
                     SIM_DMA_ERR_NO_BME);
    qtest_quit(s);
}

/*
 * The GSI q35 routes pin @pin (INTA = 0) of a device at root-bus slot
 * @slot (0-24) to: PIRQ[(slot + pin) % 4 + 4], PIRQ A-H = GSI 16-23
 * (docs/pci.md, "INTx routing").
 */
static int q35_intx_gsi(int slot, int pin)
{
    return 16 + (slot + pin) % 4 + 4;
}

static bool intx_status(QTestState *s)
{
    return qpci_config_readw(s, 0, VFIO_DEVFN, PCI_STATUS) &
           SIM_DMA_CFG_STATUS_INTX;
}

/* The driver's acknowledgement: DONE/ERROR written 1 to clear. */
static void intx_ack(SimDma *d)
{
    simdma_writel(d, SIM_DMA_REG_STATUS,
                  SIM_DMA_STATUS_DONE | SIM_DMA_STATUS_ERROR);
}

/*
 * BAR2 past the MSI-X table and PBA, where the device implements nothing:
 * a trapped write is dropped (the sim host drops what the model does not
 * implement), a write through the mmap stays in the shared page.  So a
 * value written there reads back only while the BAR mmaps are enabled.
 */
#define BAR2_SPARE      0x400

static bool bar2_mmapped(SimDma *d, uint32_t probe)
{
    qtest_writel(d->s, d->bar2 + BAR2_SPARE, probe);
    return qtest_readl(d->s, d->bar2 + BAR2_SPARE) == probe;
}

/*
 * INTx without MSI or MSI-X: the engine's interrupt is the device's pin
 * INTA, delivered through the host's INTx eventfd to vfio-pci's pin and
 * on to the IOAPIC input q35 routes it to.  Every trapped BAR access is
 * an EOI: the pin drops and the host unmasks, and fires again while the
 * device still asserts; the driver's acknowledgement (STATUS W1C) ends it.
 */
static void test_dma_intx(gconstpointer opaque)
{
    Backend b = GPOINTER_TO_INT(opaque);
    QTestState *s = qtest_initf("-M q35 -m 128M " SIM_ARGS "%s",
                                backend_args(b));
    int gsi = q35_intx_gsi(VFIO_DEVFN >> 3, 0);
    uint8_t msix = SIM_DMA_CFG_MSIX + 2;
    SimDma d;

    g_assert_cmpuint(qpci_config_readb(s, 0, VFIO_DEVFN, PCI_INTERRUPT_PIN),
                     ==, 1);
    g_assert_cmpuint(qpci_config_readb(s, 0, VFIO_DEVFN, PCI_INTERRUPT_LINE),
                     ==, gsi);
    qtest_irq_intercept_in(s, "ioapic");
    simdma_init(&d, s, 0, VFIO_DEVFN);
    g_assert_false(qtest_get_irq(s, gsi));
    g_assert_false(intx_status(s));
    g_assert_true(bar2_mmapped(&d, 0x5a5a5a5a));

    /* a completion raises the pin; STATUS.INTX says so */
    g_assert_true(simdma_copy_lands(&d, GPA_SRC, GPA_SRC, GPA_DST, GPA_DST,
                                    LEN, 1));
    g_assert_true(qtest_get_irq(s, gsi));
    g_assert_true(intx_status(s));
    /* an access that does not acknowledge: EOI, the host fires again */
    g_assert_cmpuint(simdma_readl(&d, SIM_DMA_REG_DONE_COUNT), ==, 1);
    g_assert_true(qtest_get_irq(s, gsi));
    /* while it is raised the BAR mmaps are off: BAR2 accesses trap too */
    g_assert_false(bar2_mmapped(&d, 0x11111111));
    /* past the mmap timeout, still raised: still off */
    qtest_clock_step(s, 2000 * 1000 * 1000LL);
    g_assert_true(qtest_get_irq(s, gsi));
    g_assert_false(bar2_mmapped(&d, 0x22222222));
    /* the driver acknowledges: the pin drops and stays low */
    intx_ack(&d);
    g_assert_false(qtest_get_irq(s, gsi));
    g_assert_false(intx_status(s));
    g_assert_cmpuint(simdma_readl(&d, SIM_DMA_REG_DONE_COUNT), ==, 1);
    g_assert_false(qtest_get_irq(s, gsi));
    /* the mmaps come back once the pin stayed low for 1100 ms */
    g_assert_false(bar2_mmapped(&d, 0x33333333));
    qtest_clock_step(s, 1000 * 1000 * 1000LL);
    g_assert_false(bar2_mmapped(&d, 0x44444444));
    qtest_clock_step(s, 200 * 1000 * 1000LL);
    g_assert_true(bar2_mmapped(&d, 0x55555555));

    /* a second completion raises it again, and so does a failure */
    g_assert_cmphex(simdma_copy(&d, GPA_SRC, GPA_DST2, LEN), ==,
                    SIM_DMA_STATUS_DONE);
    g_assert_true(qtest_get_irq(s, gsi));
    intx_ack(&d);
    g_assert_false(qtest_get_irq(s, gsi));
    g_assert_cmpuint(simdma_status_error(simdma_copy(&d, GPA_SRC, 0x40000000,
                                                     16)), ==,
                     SIM_DMA_ERR_FAULT);
    g_assert_true(qtest_get_irq(s, gsi));
    intx_ack(&d);
    g_assert_false(qtest_get_irq(s, gsi));

    /* COMMAND.INTX_DISABLE blocks the pin; STATUS.INTX shows it anyway */
    qpci_config_writew(s, 0, VFIO_DEVFN, PCI_COMMAND,
                       SIM_DMA_CMD_MEM | SIM_DMA_CMD_BME |
                       PCI_COMMAND_INTX_DISABLE);
    g_assert_cmphex(simdma_copy(&d, GPA_SRC, GPA_DST, LEN), ==,
                    SIM_DMA_STATUS_DONE);
    g_assert_false(qtest_get_irq(s, gsi));
    g_assert_true(intx_status(s));
    /* enabled again, the interrupt still pending is delivered */
    qpci_config_writew(s, 0, VFIO_DEVFN, PCI_COMMAND,
                       SIM_DMA_CMD_MEM | SIM_DMA_CMD_BME);
    g_assert_true(qtest_get_irq(s, gsi));
    intx_ack(&d);
    g_assert_false(qtest_get_irq(s, gsi));

    /* MSI-X on: no INTx, the completion is the MSI-X message */
    simdma_msix_on(&d, 2, MSI_ADDR, MSI_DATA(0));
    g_assert_cmphex(simdma_copy(&d, GPA_SRC, GPA_DST, LEN), ==,
                    SIM_DMA_STATUS_DONE);
    expect_msi(s, MSI_DATA(0));
    g_assert_false(qtest_get_irq(s, gsi));
    g_assert_false(intx_status(s));
    /* MSI-X off: INTx again, and no message */
    qpci_config_writew(s, 0, VFIO_DEVFN, msix, 0);
    g_assert_cmphex(simdma_copy(&d, GPA_SRC, GPA_DST, LEN), ==,
                    SIM_DMA_STATUS_DONE);
    g_assert_true(qtest_get_irq(s, gsi));
    g_assert_false(qtest_msi_pop(s, &(uint64_t){ 0 }, &(uint32_t){ 0 }));
    intx_ack(&d);
    g_assert_false(qtest_get_irq(s, gsi));

    /* system_reset with the pin asserted leaves it low; INTx works after */
    g_assert_cmphex(simdma_copy(&d, GPA_SRC, GPA_DST, LEN), ==,
                    SIM_DMA_STATUS_DONE);
    g_assert_true(qtest_get_irq(s, gsi));
    qtest_qmp_assert_success(s, "{\"execute\": \"system_reset\"}");
    qtest_qmp_eventwait(s, "RESET");
    g_assert_false(qtest_get_irq(s, gsi));
    g_assert_false(intx_status(s));
    simdma_init(&d, s, 0, VFIO_DEVFN);
    g_assert_false(qtest_get_irq(s, gsi));
    g_assert_cmphex(simdma_copy(&d, GPA_SRC, GPA_DST, LEN), ==,
                    SIM_DMA_STATUS_DONE);
    g_assert_true(qtest_get_irq(s, gsi));
    intx_ack(&d);
    g_assert_false(qtest_get_irq(s, gsi));
    qtest_quit(s);
}

/*
 * Plain MSI with 4 vectors: the completion on vector 2 is the guest's
 * address with data | 2, the error on vector 1; a masked vector is
 * pending in the guest's capability and sent on unmask; MSI off stops
 * delivery and releases the host's vectors (MSI-X can take over), and so
 * does system_reset.
 */
static void test_dma_msi(gconstpointer opaque)
{
    Backend b = GPOINTER_TO_INT(opaque);
    QTestState *s = qtest_initf("-M q35 -m 128M " SIM_ARGS "%s",
                                backend_args(b));
    SimDma d;

    simdma_init(&d, s, 0, VFIO_DEVFN);
    simdma_msi_on(&d, MSI_ADDR, MSI_DATA(0), 2);
    simdma_irq_vectors(&d, 2, 1);
    g_assert_true(simdma_copy_lands(&d, GPA_SRC, GPA_SRC, GPA_DST, GPA_DST,
                                    LEN, 1));
    expect_msi(s, MSI_DATA(0) | 2);
    g_assert_false(qtest_msi_pop(s, &(uint64_t){ 0 }, &(uint32_t){ 0 }));
    /* the error vector */
    g_assert_cmpuint(simdma_status_error(simdma_copy(&d, GPA_SRC, 0x40000000,
                                                     16)), ==,
                     SIM_DMA_ERR_FAULT);
    expect_msi(s, MSI_DATA(0) | 1);

    /* vector 2 masked: held, pending bit set; sent on unmask */
    qpci_config_writel(s, 0, VFIO_DEVFN, MSI_CAP(MASK), 1u << 2);
    g_assert_true(simdma_copy_lands(&d, GPA_SRC, GPA_SRC, GPA_DST, GPA_DST,
                                    LEN, 2));
    g_assert_false(qtest_msi_pop(s, &(uint64_t){ 0 }, &(uint32_t){ 0 }));
    g_assert_cmphex(qpci_config_readl(s, 0, VFIO_DEVFN, MSI_CAP(PENDING)),
                    ==, 1u << 2);
    qpci_config_writel(s, 0, VFIO_DEVFN, MSI_CAP(MASK), 0);
    expect_msi(s, MSI_DATA(0) | 2);
    g_assert_cmphex(qpci_config_readl(s, 0, VFIO_DEVFN, MSI_CAP(PENDING)),
                    ==, 0);
    g_assert_cmpuint(simdma_readl(&d, SIM_DMA_REG_DONE_COUNT), ==, 2);

    /* MSI off: nothing is delivered */
    qpci_config_writew(s, 0, VFIO_DEVFN, MSI_CAP(CTRL), 0);
    g_assert_true(simdma_copy_lands(&d, GPA_SRC, GPA_SRC, GPA_DST, GPA_DST,
                                    LEN, 3));
    g_assert_false(qtest_msi_pop(s, &(uint64_t){ 0 }, &(uint32_t){ 0 }));

    /* the host's MSI vectors are released: MSI-X works in their place */
    simdma_irq_vectors(&d, 0, 1);
    simdma_msix_on(&d, 2, MSI_ADDR, MSI_DATA(0));
    g_assert_true(simdma_copy_lands(&d, GPA_SRC, GPA_SRC, GPA_DST, GPA_DST,
                                    LEN, 4));
    expect_msi(s, MSI_DATA(0));

    /* MSI on again, then system_reset: off, and its host vectors freed */
    qpci_config_writew(s, 0, VFIO_DEVFN, SIM_DMA_CFG_MSIX + 2, 0);
    simdma_msi_on(&d, MSI_ADDR, MSI_DATA(0), 2);
    qtest_qmp_assert_success(s, "{\"execute\": \"system_reset\"}");
    qtest_qmp_eventwait(s, "RESET");
    g_assert_cmphex(qpci_config_readw(s, 0, VFIO_DEVFN, MSI_CAP(CTRL)) &
                    SIM_DMA_MSI_CTRL_ENABLE, ==, 0);
    dev_up(&d, s, 5);
    qtest_quit(s);
}

/* ------------------------------------------------------------------------
 * Behind intel-iommu with interrupt remapping: MSI is remapped
 * ------------------------------------------------------------------------ */

#define IRTE_P          (1ULL << 0)
#define IRTE_V(v)       ((uint64_t)(v) << 16)
#define IRTE_DST(id)    ((uint64_t)(id) << 40)     /* xAPIC destination */
#define RMSI_ADDR(h)    (MSI_ADDR | 1ULL << 4 | 1ULL << 3 | (uint64_t)(h) << 5)
#define MSI_OUT_LEVEL   (1u << 14)

/*
 * A remappable request with SHV=1: the IRTE index is the handle plus the
 * sub-handle, which the MSI data's low bits (the vector) make distinct
 * per vector (VT-d 5.1.2.2).  Handle 8, vectors 0..3 -> IRTEs 8..11.
 */
static void test_vtd_msi_remapped(gconstpointer opaque)
{
    Backend b = GPOINTER_TO_INT(opaque);
    g_autofree char *extra = g_strdup_printf(SIM_ARGS "%s", backend_args(b));
    uint64_t irt;
    VTDTest t;
    SimDma d;

    vtd_test_start(&t, ",caching-mode=on,intremap=on", extra);
    g_assert_cmphex(t.ecap & VTD_ECAP_IR, ==, VTD_ECAP_IR);
    irt = vtd_alloc(&t, 16 * 256, 4096);
    for (unsigned v = 0; v < 4; v++) {
        qtest_writeq(t.s, irt + 16 * (8 + v),
                     IRTE_P | IRTE_V(0x50 + v) | IRTE_DST(v + 1));
        qtest_writeq(t.s, irt + 16 * (8 + v) + 8, 0);
    }
    vtd_writeq(&t, VTD_REG_IRTA, irt | 7);          /* 256 entries */
    vtd_gcmd(&t, VTD_GCMD_SIRTP, true);
    vtd_gcmd(&t, VTD_GCMD_IRE, true);

    simdma_init(&d, t.s, 0, VFIO_DEVFN);
    simdma_msi_on(&d, RMSI_ADDR(8), 0, 2);
    simdma_irq_vectors(&d, 2, 1);
    g_assert_true(simdma_copy_lands(&d, GPA_SRC, GPA_SRC, GPA_DST, GPA_DST,
                                    LEN, 1));
    {
        uint64_t addr;
        uint32_t data;

        g_assert_true(qtest_msi_pop(t.s, &addr, &data));
        g_assert_cmphex(addr, ==, MSI_ADDR | 3 << 12);
        g_assert_cmphex(data, ==, 0x52 | MSI_OUT_LEVEL);
    }
    vtd_expect_no_fault(&t);
    vtd_test_quit(&t);
}

/*
 * system_reset: the function is reset on the host (engine counters back to
 * 0), MSI-X is off, bus mastering is off until the guest enables it, and
 * then the device works as before.
 */
static void test_reset(gconstpointer opaque)
{
    Backend b = GPOINTER_TO_INT(opaque);
    QTestState *s = qtest_initf("-M q35 -m 128M " SIM_ARGS "%s",
                                backend_args(b));
    SimDma d;

    dev_up(&d, s, 1);
    g_assert_cmpuint(simdma_readl(&d, SIM_DMA_REG_DONE_COUNT), ==, 1);

    qtest_qmp_assert_success(s, "{\"execute\": \"system_reset\"}");
    qtest_qmp_eventwait(s, "RESET");
    g_assert_cmpuint(simdma_readl(&d, SIM_DMA_REG_DONE_COUNT), ==, 0);
    g_assert_cmphex(qpci_config_readw(s, 0, VFIO_DEVFN, PCI_COMMAND) &
                    0x4, ==, 0);
    g_assert_cmphex(qpci_config_readw(s, 0, VFIO_DEVFN,
                                      SIM_DMA_CFG_MSIX + 2) & 0x8000, ==, 0);
    g_assert_cmpuint(simdma_status_error(simdma_copy(&d, GPA_SRC, GPA_DST,
                                                     16)), ==,
                     SIM_DMA_ERR_NO_BME);
    g_assert_false(qtest_msi_pop(s, &(uint64_t){ 0 }, &(uint32_t){ 0 }));

    dev_up(&d, s, 2);
    qtest_quit(s);
}

/* ------------------------------------------------------------------------
 * Behind intel-iommu, caching mode: shadowing
 * ------------------------------------------------------------------------ */

#define DID             3
#define IOVA_SRC        0x10000000ULL
#define IOVA_DST        0x10002000ULL

static void psi(VTDTest *t, uint64_t iova)
{
    VTDQIDesc desc = vtd_qi_desc_iotlb_page(DID, iova, 0, false);

    g_assert_true(vtd_qi_submit_wait(t, &desc, 1));
}

/*
 * A guest driver on the assigned device: identity before remapping is on,
 * then its second-level table (legacy or scalable second stage) decides:
 * DMA lands at the translated address, an unmapped IOVA faults on the
 * host, a remapped one lands at the new address.
 */
static void check_vtd(Backend b, bool scalable)
{
    g_autofree char *extra = g_strdup_printf(SIM_ARGS "%s", backend_args(b));
    VTDPageTable pt;
    VTDTest t;
    SimDma d;

    vtd_test_start(&t, scalable ? ",caching-mode=on,x-scalable-mode=on" :
                                  ",caching-mode=on", extra);
    dev_up(&d, t.s, 1);
    vtd_qi_setup(&t, scalable, 0);

    vtd_pt_init(&t, &pt, 3, false);
    if (scalable) {
        uint64_t pe[8];

        vtd_sm_root_new(&t);
        vtd_pe_build(pe, VTD_PGTT_SECOND, DID, VTD_AW_39, pt.root, 0, 0);
        vtd_sm_map_device(&t, 0, VFIO_DEVFN, 0, pe);
    } else {
        vtd_legacy_root_new(&t);
        vtd_legacy_map_device(&t, 0, VFIO_DEVFN, pt.root, VTD_AW_39, DID);
    }
    vtd_pt_map(&t, &pt, IOVA_SRC, GPA_SRC, 4096, VTD_SL_RW);
    vtd_pt_map(&t, &pt, IOVA_DST, GPA_DST2, 4096, VTD_SL_RW);
    vtd_invalidate_all(&t);
    vtd_enable_dmar(&t);

    g_assert_true(simdma_copy_lands(&d, IOVA_SRC, GPA_SRC, IOVA_DST, GPA_DST2,
                                    LEN, 2));
    expect_msi(t.s, MSI_DATA(0));
    /* guest-physical addresses are no longer IOVAs */
    g_assert_cmphex(simdma_status_result(simdma_copy(&d, GPA_SRC, GPA_DST,
                                                     16)), ==,
                    SIMDMA_STATUS_FAULT);
    g_assert_cmpuint(simdma_status_fault(simdma_readl(&d, SIM_DMA_REG_STATUS)),
                     !=, 0);
    expect_msi(t.s, MSI_DATA(1));

    /* unmapped in the guest and invalidated: gone on the host */
    vtd_pt_unmap(&t, &pt, IOVA_DST, 1);
    psi(&t, IOVA_DST);
    g_assert_cmphex(simdma_status_result(simdma_copy(&d, IOVA_SRC, IOVA_DST,
                                                     16)), ==,
                    SIMDMA_STATUS_FAULT);
    g_assert_cmphex(simdma_fault_iova(&d), ==, IOVA_DST);
    expect_msi(t.s, MSI_DATA(1));

    /* mapped again elsewhere: DMA follows */
    vtd_pt_map(&t, &pt, IOVA_DST, GPA_DST, 4096, VTD_SL_RW);
    psi(&t, IOVA_DST);
    g_assert_true(simdma_copy_lands(&d, IOVA_SRC, GPA_SRC, IOVA_DST, GPA_DST,
                                    LEN, 3));

    /* remapping off: identity again */
    vtd_disable_dmar(&t);
    g_assert_true(simdma_copy_lands(&d, GPA_SRC, GPA_SRC, GPA_DST2, GPA_DST2,
                                    LEN, 4));
    vtd_test_quit(&t);
}

static void test_vtd_legacy(gconstpointer opaque)
{
    check_vtd(GPOINTER_TO_INT(opaque), false);
}

static void test_vtd_scalable(gconstpointer opaque)
{
    check_vtd(GPOINTER_TO_INT(opaque), true);
}

/* ------------------------------------------------------------------------
 * Behind virtio-iommu: shadowing of MAP/UNMAP requests
 * ------------------------------------------------------------------------ */

#define VIOMMU_DEVFN    (3 << 3)
#define VIRTIO_ALLOC    0x1000000ULL
#define VIOMMU_EP       VFIO_DEVFN      /* endpoint = BDF on bus 0 */
#define VIOMMU_DOMAIN   1
#define VIOMMU_MAP_RW   (VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE)

/* The page at iova -> gpa in VIOMMU_DOMAIN; the status. */
static uint8_t viommu_map(QVirtioIommu *v, uint64_t iova, uint64_t gpa)
{
    return qvirtio_iommu_map(v, VIOMMU_DOMAIN, iova, iova + 4095, gpa,
                             VIOMMU_MAP_RW);
}

static void test_virtio_iommu(gconstpointer opaque)
{
    Backend b = GPOINTER_TO_INT(opaque);
    QTestState *s = qtest_initf("-M q35 -m 256M -device virtio-iommu-pci,"
                                "addr=03.0 " SIM_ARGS "%s", backend_args(b));
    QVirtioIommu v = { 0 };
    SimDma d;

    qvirtio_iommu_start(&v, s, VIOMMU_DEVFN, VIRTIO_ALLOC, VIRTIO_ALLOC);

    /* unattached, boot bypass: identity */
    dev_up(&d, s, 1);

    g_assert_cmpuint(qvirtio_iommu_attach(&v, VIOMMU_DOMAIN,
                                          VIOMMU_EP), ==, 0);
    g_assert_cmphex(simdma_status_result(simdma_copy(&d, GPA_SRC, GPA_DST,
                                                     16)), ==,
                    SIMDMA_STATUS_FAULT);
    g_assert_cmpuint(viommu_map(&v, IOVA_SRC, GPA_SRC), ==, 0);
    g_assert_cmpuint(viommu_map(&v, IOVA_DST, GPA_DST2), ==, 0);
    g_assert_true(simdma_copy_lands(&d, IOVA_SRC, GPA_SRC, IOVA_DST, GPA_DST2,
                                    LEN, 2));

    g_assert_cmpuint(qvirtio_iommu_unmap(&v, VIOMMU_DOMAIN, IOVA_DST,
                                         IOVA_DST + 4095), ==, 0);
    g_assert_cmphex(simdma_status_result(simdma_copy(&d, IOVA_SRC, IOVA_DST,
                                                     16)), ==,
                    SIMDMA_STATUS_FAULT);
    g_assert_cmphex(simdma_fault_iova(&d), ==, IOVA_DST);

    /* detached: boot bypass applies again */
    g_assert_cmpuint(qvirtio_iommu_detach(&v, VIOMMU_DOMAIN,
                                          VIOMMU_EP), ==, 0);
    g_assert_true(simdma_copy_lands(&d, GPA_SRC, GPA_SRC, GPA_DST, GPA_DST,
                                    LEN, 3));
    qvirtio_iommu_stop(&v);
    qtest_quit(s);
}

/* ------------------------------------------------------------------------
 * Hotplug, introspection, and unwinding: nothing left behind
 * ------------------------------------------------------------------------ */

#define RP_ARGS         "-device pcie-root-port,id=rp0,addr=05.0," \
                        "chassis=1,slot=1 "

/* device_add of vfio-pci id v0 on rp0; NULL on success, else the error. */
static char *hotplug(QTestState *s, Backend b)
{
    JsonObject *rsp = qtest_qmp(s, "{\"execute\": \"device_add\", "
                                "\"arguments\": {\"driver\": \"vfio-pci\", "
                                "\"id\": \"v0\", \"bus\": \"rp0\", "
                                "\"host\": \"" HOST_BDF "\"%s}}",
                                b == IOMMUFD ? ", \"iommufd\": \"fd0\"" : "");
    char *err = NULL;

    if (qmp_rsp_is_err(rsp)) {
        err = qmp_expect_error(rsp, "GenericError");
    }
    json_object_unref(rsp);
    return err;
}

static void object_del(QTestState *s, const char *id)
{
    qtest_qmp_assert_success(s, "{\"execute\": \"object-del\", "
                             "\"arguments\": {\"id\": \"%s\"}}", id);
}

/*
 * Plug and unplug cycles: the device works each time, and afterwards
 * the process has the fds it had, the backend no user, and the simulated
 * host can be deleted (no group, device fd or mapping is still open).
 */
static const char *const hotplug_viommus[] = {
    "", "-device intel-iommu,caching-mode=on ", "-device virtio-iommu-pci ",
};

#define HOTPLUG_CASE(backend, viommu) GINT_TO_POINTER((backend) | (viommu) << 4)
#define HOTPLUG_CYCLES 100

static void test_hotplug_cycles(gconstpointer opaque)
{
    Backend b = GPOINTER_TO_INT(opaque) & 0xf;
    const char *viommu = hotplug_viommus[GPOINTER_TO_INT(opaque) >> 4];
    QTestState *s = qtest_initf("-M q35 %s" RP_ARGS SIM_ARGS "%s", viommu,
                                b == IOMMUFD ? "-object iommufd,id=fd0" : "");
    const char *hiod = "/machine/peripheral/v0/host-iommu-device";
    int fds = -1;

    for (int i = 0; i < HOTPLUG_CYCLES; i++) {
        g_autofree char *err = hotplug(s, b);
        g_autofree char *name = NULL;

        g_assert_null(err);
        g_assert_cmphex(qpci_config_readl(s, 1, 0, 0), ==,
                        SIM_DMA_DEVICE_ID << 16 | SIM_DMA_VENDOR_ID);
        {
            g_autoptr(JsonNode) n = qtest_qom_get(s, hiod, "name");

            g_assert_cmpstr(json_node_get_string(n), ==, HOST_BDF);
        }
        if (b == IOMMUFD) {
            g_assert_cmpint(qtest_qom_get_int(s, "/objects/fd0", "users"), ==, 1);
            g_assert_cmpint(qtest_qom_get_int(s, hiod, "devid"), >, 0);
        }
        qtest_qmp_device_del(s, "v0");
        if (fds < 0) {
            fds = qtest_count_fds(s);   /* after a warm-up cycle */
        }
        g_assert_cmpint(qtest_count_fds(s), ==, fds);
    }
    if (b == IOMMUFD) {
        g_assert_cmpint(qtest_qom_get_int(s, "/objects/fd0", "users"), ==, 0);
        object_del(s, "fd0");
    }
    object_del(s, "d0");
    object_del(s, "h");
    qtest_quit(s);
}

/*
 * Unplugged with MSI enabled: the host's vectors (one eventfd each) are
 * released with the device.
 */
static void test_unplug_msi(gconstpointer opaque)
{
    Backend b = GPOINTER_TO_INT(opaque);
    QTestState *s = qtest_initf("-M q35 " RP_ARGS SIM_ARGS "%s",
                                b == IOMMUFD ? "-object iommufd,id=fd0" : "");
    int fds = -1;

    for (int i = 0; i < 2; i++) {
        g_autofree char *err = hotplug(s, b);
        int plugged;

        g_assert_null(err);
        plugged = qtest_count_fds(s);
        qpci_config_writew(s, 1, 0, MSI_CAP(CTRL),
                           SIM_DMA_MSI_CTRL_ENABLE | MSI_MME(2));
        /* 4 eventfds (the simulated host holds its own references too) */
        g_assert_cmpint(qtest_count_fds(s), >=, plugged + 4);
        qtest_qmp_device_del(s, "v0");
        if (fds < 0) {
            fds = qtest_count_fds(s);   /* after a warm-up cycle */
        }
        g_assert_cmpint(qtest_count_fds(s), ==, fds);
    }
    qtest_quit(s);
}

/*
 * A realize that fails late (the container exists, the group or cdev is
 * open, the listener registered) unwinds all of it: with remapping on and
 * no caching mode, intel-iommu refuses the container's MAP notifier.
 */
static void test_unwind_no_caching_mode(gconstpointer opaque)
{
    Backend b = GPOINTER_TO_INT(opaque);
    g_autofree char *extra = g_strdup_printf(RP_ARGS SIM_ARGS "%s",
                                             b == IOMMUFD ?
                                             "-object iommufd,id=fd0" : "");
    VTDTest t;
    int fds;

    vtd_test_start(&t, "", extra);
    vtd_legacy_root_new(&t);
    vtd_enable_dmar(&t);
    fds = qtest_count_fds(t.s);
    for (int i = 0; i < 2; i++) {
        g_autofree char *err = hotplug(t.s, b);

        g_assert_nonnull(err);
        g_assert_true(g_str_has_prefix(err, "vfio " HOST_BDF ": "));
        g_assert_nonnull(strstr(err, "requires caching mode"));
        g_assert_cmpint(qtest_count_fds(t.s), ==, fds);
    }
    if (b == IOMMUFD) {
        g_assert_cmpint(qtest_qom_get_int(t.s, "/objects/fd0", "users"), ==, 0);
        object_del(t.s, "fd0");
    }
    object_del(t.s, "d0");
    object_del(t.s, "h");
    vtd_test_quit(&t);
}

/*
 * The group held by a legacy container: an iommufd device_add of the
 * same function fails at BIND and leaves nothing; once the legacy device
 * is gone, iommufd takes it.
 */
static void test_unwind_group_busy(void)
{
    QTestState *s = qtest_initf("-M q35 " RP_ARGS SIM_ARGS
                                "-object iommufd,id=fd0 "
                                "-device pcie-root-port,id=rp1,addr=06.0,"
                                "chassis=2,slot=2 "
                                "-device vfio-pci,host=" HOST_BDF
                                ",bus=rp1,id=vfio0");
    int fds = qtest_count_fds(s);
    g_autofree char *err = hotplug(s, IOMMUFD);
    g_autofree char *again = NULL;

    g_assert_nonnull(err);
    g_assert_true(g_str_has_prefix(err, "vfio " HOST_BDF ": error binding "
                                   "to iommufd: "));
    g_assert_cmpint(qtest_count_fds(s), ==, fds);
    g_assert_cmpint(qtest_qom_get_int(s, "/objects/fd0", "users"), ==, 0);

    qtest_qmp_device_del(s, "vfio0");
    again = hotplug(s, IOMMUFD);
    g_assert_null(again);
    g_assert_cmphex(qpci_config_readw(s, 1, 0, 0), ==, SIM_DMA_VENDOR_ID);
    qtest_qmp_device_del(s, "v0");
    qtest_quit(s);
}

/* ------------------------------------------------------------------------
 * fd passing: /dev/iommu and the device cdev through getfd
 * ------------------------------------------------------------------------ */

static void getfd(QTestState *s, int fd, const char *name)
{
    JsonObject *rsp = qtest_qmp_fds(s, &fd, 1, "{\"execute\": \"getfd\", "
                                    "\"arguments\": {\"fdname\": \"%s\"}}",
                                    name);

    qmp_expect_return(rsp);
    json_object_unref(rsp);
}

/* The cdev node of the simulated device, as a management tool finds it. */
static char *cdev_path(const char *root)
{
    g_autofree char *dir = g_build_filename(root, "sys/bus/pci/devices",
                                            HOST_BDF, "vfio-dev", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    g_assert_nonnull(d);
    name = g_dir_read_name(d);
    g_assert_nonnull(name);
    return g_build_filename(root, "dev/vfio/devices", name, NULL);
}

/*
 * The management tool opens /dev/iommu and the cdev and passes them; the
 * device works on them, and everything passed is closed once the device
 * and the backend are deleted.
 */
static void test_fd_passing(void)
{
    QTestState *s = qtest_initf("-M q35 " RP_ARGS SIM_ARGS);
    g_autoptr(JsonNode) root = qtest_qom_get(s, "/objects/h", "root");
    g_autofree char *iommu = g_build_filename(json_node_get_string(root),
                                              "dev/iommu", NULL);
    g_autofree char *cdev = cdev_path(json_node_get_string(root));
    int fds = qtest_count_fds(s);
    int ifd = open(iommu, O_RDWR | O_CLOEXEC);
    int dfd = open(cdev, O_RDWR | O_CLOEXEC);
    g_autoptr(JsonNode) name = NULL;

    g_assert_cmpint(ifd, >=, 0);
    g_assert_cmpint(dfd, >=, 0);
    getfd(s, ifd, "iommu0");
    getfd(s, dfd, "dev0");
    close(ifd);
    close(dfd);
    qtest_qmp_assert_success(s, "{\"execute\": \"object-add\", \"arguments\":"
                             " {\"qom-type\": \"iommufd\", \"id\": \"fd0\", "
                             "\"fd\": \"iommu0\"}}");
    qtest_qmp_assert_success(s, "{\"execute\": \"device_add\", \"arguments\":"
                             " {\"driver\": \"vfio-pci\", \"id\": \"v0\", "
                             "\"bus\": \"rp0\", \"iommufd\": \"fd0\", "
                             "\"fd\": \"dev0\"}}");
    g_assert_cmphex(qpci_config_readw(s, 1, 0, 0), ==, SIM_DMA_VENDOR_ID);
    name = qtest_qom_get(s, "/machine/peripheral/v0/host-iommu-device", "name");
    g_assert_true(g_str_has_prefix(json_node_get_string(name), "VFIO_FD"));
    g_assert_cmpint(qtest_qom_get_int(s, "/objects/fd0", "users"), ==, 1);

    qtest_qmp_device_del(s, "v0");
    object_del(s, "fd0");
    g_assert_cmpint(qtest_count_fds(s), ==, fds);
    object_del(s, "d0");
    object_del(s, "h");
    qtest_quit(s);
}

/* Start-up refusals name the device and the reason, and exit 1. */
#define Q35             "-M q35 "

static void test_cli_errors(void)
{
    static const struct {
        const char *args, *msg;
    } cases[] = {
        { Q35 "-device vfio-pci", "vfio-pci: No provided host device\n"
          "Use -device vfio-pci,host=DDDD:BB:DD.F or -device vfio-pci,"
          "sysfsdev=PATH_TO_DEVICE" },
        { Q35 "-device vfio-pci,host=02:00.9",
          "vfio-pci: property 'host': '02:00.9' is not a PCI address" },
        { Q35 SIM_ARGS "-device vfio-pci,host=0000:03:00.0",
          "vfio 0000:03:00.0: no iommu_group found: No such file" },
        { Q35 SIM_ARGS "-device vfio-pci,fd=0", "needs iommufd=" },
        { Q35 "-object sim-host,id=h,iommufd=off,cdev=off "
          "-object sim-pci-device,id=d0,sim-host=h,host=" HOST_BDF " "
          "-object iommufd,id=fd0 "
          "-device vfio-pci,host=" HOST_BDF ",iommufd=fd0",
          "vfio " HOST_BDF ": iommufd 'fd0': /dev/iommu opening failed: "
          "No such file or directory" },
        { Q35 SIM_ARGS "-device vfio-pci,host=" HOST_BDF " "
          "-device vfio-pci,host=" HOST_BDF,
          "vfio " HOST_BDF ": device is already attached" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        qtest_expect_startup_error(cases[i].args, cases[i].msg);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/vfio-pci/legacy/config-and-bar",
                         GINT_TO_POINTER(LEGACY), test_config_and_bar);
    g_test_add_data_func("/vfio-pci/iommufd/config-and-bar",
                         GINT_TO_POINTER(IOMMUFD), test_config_and_bar);
    g_test_add_data_func("/vfio-pci/legacy/no-viommu/dma-lands-msix",
                         GINT_TO_POINTER(LEGACY), test_dma_no_viommu);
    g_test_add_data_func("/vfio-pci/iommufd/no-viommu/dma-lands-msix",
                         GINT_TO_POINTER(IOMMUFD), test_dma_no_viommu);
    g_test_add_data_func("/vfio-pci/legacy/no-viommu/dma-lands-msi",
                         GINT_TO_POINTER(LEGACY), test_dma_msi);
    g_test_add_data_func("/vfio-pci/iommufd/no-viommu/dma-lands-msi",
                         GINT_TO_POINTER(IOMMUFD), test_dma_msi);
    g_test_add_data_func("/vfio-pci/legacy/no-viommu/dma-intx",
                         GINT_TO_POINTER(LEGACY), test_dma_intx);
    g_test_add_data_func("/vfio-pci/iommufd/no-viommu/dma-intx",
                         GINT_TO_POINTER(IOMMUFD), test_dma_intx);
    g_test_add_data_func("/vfio-pci/legacy/intel-iommu/ir/msi-remapped",
                         GINT_TO_POINTER(LEGACY), test_vtd_msi_remapped);
    g_test_add_data_func("/vfio-pci/iommufd/intel-iommu/ir/msi-remapped",
                         GINT_TO_POINTER(IOMMUFD), test_vtd_msi_remapped);
    g_test_add_data_func("/vfio-pci/legacy/reset",
                         GINT_TO_POINTER(LEGACY), test_reset);
    g_test_add_data_func("/vfio-pci/iommufd/reset",
                         GINT_TO_POINTER(IOMMUFD), test_reset);
    g_test_add_data_func("/vfio-pci/legacy/intel-iommu/legacy/shadow",
                         GINT_TO_POINTER(LEGACY), test_vtd_legacy);
    g_test_add_data_func("/vfio-pci/iommufd/intel-iommu/legacy/shadow",
                         GINT_TO_POINTER(IOMMUFD), test_vtd_legacy);
    g_test_add_data_func("/vfio-pci/legacy/intel-iommu/scalable-ss/shadow",
                         GINT_TO_POINTER(LEGACY), test_vtd_scalable);
    g_test_add_data_func("/vfio-pci/iommufd/intel-iommu/scalable-ss/shadow",
                         GINT_TO_POINTER(IOMMUFD), test_vtd_scalable);
    g_test_add_data_func("/vfio-pci/legacy/virtio-iommu/shadow",
                         GINT_TO_POINTER(LEGACY), test_virtio_iommu);
    g_test_add_data_func("/vfio-pci/iommufd/virtio-iommu/shadow",
                         GINT_TO_POINTER(IOMMUFD), test_virtio_iommu);
    g_test_add_data_func("/vfio-pci/legacy/hotplug/cycles-leave-nothing",
                         HOTPLUG_CASE(LEGACY, 0), test_hotplug_cycles);
    g_test_add_data_func("/vfio-pci/iommufd/hotplug/cycles-leave-nothing",
                         HOTPLUG_CASE(IOMMUFD, 0), test_hotplug_cycles);
    g_test_add_data_func("/vfio-pci/legacy/intel-iommu/hotplug/"
                         "cycles-leave-nothing",
                         HOTPLUG_CASE(LEGACY, 1), test_hotplug_cycles);
    g_test_add_data_func("/vfio-pci/iommufd/intel-iommu/hotplug/"
                         "cycles-leave-nothing",
                         HOTPLUG_CASE(IOMMUFD, 1), test_hotplug_cycles);
    g_test_add_data_func("/vfio-pci/legacy/virtio-iommu/hotplug/"
                         "cycles-leave-nothing",
                         HOTPLUG_CASE(LEGACY, 2), test_hotplug_cycles);
    g_test_add_data_func("/vfio-pci/iommufd/virtio-iommu/hotplug/"
                         "cycles-leave-nothing",
                         HOTPLUG_CASE(IOMMUFD, 2), test_hotplug_cycles);
    g_test_add_data_func("/vfio-pci/legacy/hotplug/unplug-with-msi-on",
                         GINT_TO_POINTER(LEGACY), test_unplug_msi);
    g_test_add_data_func("/vfio-pci/iommufd/hotplug/unplug-with-msi-on",
                         GINT_TO_POINTER(IOMMUFD), test_unplug_msi);
    g_test_add_data_func("/vfio-pci/legacy/unwind/no-caching-mode",
                         GINT_TO_POINTER(LEGACY), test_unwind_no_caching_mode);
    g_test_add_data_func("/vfio-pci/iommufd/unwind/no-caching-mode",
                         GINT_TO_POINTER(IOMMUFD),
                         test_unwind_no_caching_mode);
    g_test_add_func("/vfio-pci/iommufd/unwind/group-busy",
                    test_unwind_group_busy);
    g_test_add_func("/vfio-pci/iommufd/fd-passing/getfd",
                    test_fd_passing);
    g_test_add_func("/vfio-pci/cli/errors", test_cli_errors);
    return g_test_run();
}
