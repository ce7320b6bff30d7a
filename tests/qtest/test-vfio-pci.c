/*
 * -device vfio-pci on a simulated host (-object sim-host, a "dma" device,
 * host/sim/sim-pci-model-regs.h), as a guest driver sees it: config
 * space through CF8/CFC, the register BAR (trapped), DMA started through
 * it landing in guest RAM, the completion arriving as the MSI-X message
 * the guest programmed; behind intel-iommu (caching mode) and
 * virtio-iommu, DMA lands where the guest mapped it and faults once the
 * guest unmapped it.  Both backends: the legacy container and iommufd.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>

#include "libqtest.h"
#include "libvtd.h"
#include "libvirtio.h"
#include "../../host/sim/sim-pci-model-regs.h"

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
#define CMD_MEM_BME     0x6
#define MSI_ADDR        0xfee00000ULL
#define MSI_DATA(v)     (0x4100u + (v))

typedef enum Backend { LEGACY, IOMMUFD } Backend;

static const char *backend_args(Backend b)
{
    return b == LEGACY ? LEGACY_DEV : IOMMUFD_DEV;
}

/* The guest's view of the assigned device. */
typedef struct Dev {
    QTestState *s;
    uint64_t bar0, bar2;
} Dev;

static uint32_t reg_read(Dev *d, unsigned off)
{
    return qtest_readl(d->s, d->bar0 + off);
}

static void reg_write(Dev *d, unsigned off, uint32_t v)
{
    qtest_writel(d->s, d->bar0 + off, v);
}

/* The firmware's BARs; memory decode and bus mastering on. */
static void dev_init(Dev *d, QTestState *s)
{
    d->s = s;
    d->bar0 = qpci_config_readl(s, 0, VFIO_DEVFN, 0x10) & ~0xfu;
    d->bar2 = qpci_config_readl(s, 0, VFIO_DEVFN, 0x18) & ~0xfu;
    g_assert_cmphex(d->bar0, !=, 0);
    g_assert_cmphex(d->bar2, !=, 0);
    qpci_config_writew(s, 0, VFIO_DEVFN, PCI_COMMAND, CMD_MEM_BME);
}

/* MSI-X on, vectors 0 and 1 unmasked with MSI_DATA(v). */
static void dev_msix_on(Dev *d)
{
    uint8_t cap = qpci_find_capability(d->s, 0, VFIO_DEVFN, 0x11);

    g_assert_cmpuint(cap, ==, SIM_DMA_CFG_MSIX);
    for (unsigned v = 0; v < 2; v++) {
        uint64_t e = d->bar2 + SIM_DMA_MSIX_TABLE + 16 * v;

        qtest_writel(d->s, e + 0, MSI_ADDR);
        qtest_writel(d->s, e + 4, 0);
        qtest_writel(d->s, e + 8, MSI_DATA(v));
        qtest_writel(d->s, e + 12, 0);
    }
    qpci_config_writew(d->s, 0, VFIO_DEVFN, cap + 2, 0x8000);
    qtest_msi_clear(d->s);
}

/*
 * A copy of len bytes IOVA src -> IOVA dst by the device; returns
 * STATUS (DONE or ERROR with codes).
 */
static uint32_t dev_copy(Dev *d, uint64_t src, uint64_t dst, uint32_t len)
{
    reg_write(d, SIM_DMA_REG_STATUS,
              SIM_DMA_STATUS_DONE | SIM_DMA_STATUS_ERROR);
    reg_write(d, SIM_DMA_REG_SRC, src);
    reg_write(d, SIM_DMA_REG_SRC + 4, src >> 32);
    reg_write(d, SIM_DMA_REG_DST, dst);
    reg_write(d, SIM_DMA_REG_DST + 4, dst >> 32);
    reg_write(d, SIM_DMA_REG_LEN, len);
    reg_write(d, SIM_DMA_REG_CMD, SIM_DMA_CMD_START | SIM_DMA_OP_COPY);
    return reg_read(d, SIM_DMA_REG_STATUS);
}

static void fill(uint8_t *buf, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = seed + 7 * i;
    }
}

/*
 * Guest pattern at gpa_src, device copy IOVA src -> IOVA dst; true when
 * the copy completed and the bytes are at gpa_dst.
 */
static bool copy_lands(Dev *d, uint64_t src, uint64_t gpa_src, uint64_t dst,
                       uint64_t gpa_dst, uint8_t seed)
{
    uint8_t pat[256], got[256];
    uint32_t st;

    fill(pat, sizeof(pat), seed);
    qtest_memwrite(d->s, gpa_src, pat, sizeof(pat));
    qtest_memset(d->s, gpa_dst, 0, sizeof(got));
    st = dev_copy(d, src, dst, sizeof(pat));
    qtest_memread(d->s, gpa_dst, got, sizeof(got));
    return st == SIM_DMA_STATUS_DONE && !memcmp(pat, got, sizeof(got));
}

/* The next MSI the machine saw, asserting it is @data. */
static void expect_msi(QTestState *s, uint32_t data)
{
    uint64_t addr;
    uint32_t got;

    g_assert_true(qtest_msi_pop(s, &addr, &got));
    g_assert_cmphex(addr, ==, MSI_ADDR);
    g_assert_cmphex(got, ==, data);
}

/* ------------------------------------------------------------------------
 * No vIOMMU
 * ------------------------------------------------------------------------ */

static void test_config_and_bar(gconstpointer opaque)
{
    Backend b = GPOINTER_TO_INT(opaque);
    QTestState *s = qtest_initf("-M q35 " SIM_ARGS "%s", backend_args(b));
    Dev d;

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
    /* no INTx pin, MSI-X the only capability */
    g_assert_cmpuint(qpci_config_readb(s, 0, VFIO_DEVFN, 0x3d), ==, 0);
    g_assert_cmpuint(qpci_find_capability(s, 0, VFIO_DEVFN, 0x11), ==,
                     SIM_DMA_CFG_MSIX);
    g_assert_cmpuint(qpci_find_capability(s, 0, VFIO_DEVFN, 0x05), ==, 0);
    /* BAR sizes are the device's */
    g_assert_cmphex(qpci_bar_map(s, 0, VFIO_DEVFN, 0, 0xe0000000), ==,
                    SIM_DMA_REGS_SIZE);
    g_assert_cmphex(qpci_bar_map(s, 0, VFIO_DEVFN, 2, 0xe0001000), ==,
                    SIM_DMA_MSIX_BAR_SIZE);

    dev_init(&d, s);
    g_assert_cmphex(reg_read(&d, SIM_DMA_REG_ID), ==, SIM_DMA_ID_VALUE);
    g_assert_cmphex(reg_read(&d, SIM_DMA_REG_VERSION), ==,
                    SIM_DMA_VERSION_VALUE);
    g_assert_cmpuint(reg_read(&d, SIM_DMA_REG_BUF_SIZE), ==,
                     SIM_DMA_BUF_SIZE);
    reg_write(&d, SIM_DMA_REG_SCRATCH, 0xdeadbeef);
    g_assert_cmphex(reg_read(&d, SIM_DMA_REG_SCRATCH), ==, 0xdeadbeef);
    g_assert_cmphex(qtest_readw(s, d.bar0 + SIM_DMA_REG_SCRATCH + 2), ==,
                    0xdead);
    qtest_quit(s);
}

static void test_dma_no_viommu(gconstpointer opaque)
{
    Backend b = GPOINTER_TO_INT(opaque);
    QTestState *s = qtest_initf("-M q35 -m 128M " SIM_ARGS "%s",
                                backend_args(b));
    Dev d;

    dev_init(&d, s);
    dev_msix_on(&d);
    /* IOVA = guest-physical address */
    g_assert_true(copy_lands(&d, 0x100000, 0x100000, 0x200000, 0x200000,
                             1));
    g_assert_cmpuint(reg_read(&d, SIM_DMA_REG_DONE_COUNT), ==, 1);
    expect_msi(s, MSI_DATA(0));

    /* a masked vector is pending in the guest's PBA, sent on unmask */
    qtest_writel(s, d.bar2 + SIM_DMA_MSIX_TABLE + 12, 1);
    g_assert_true(copy_lands(&d, 0x100000, 0x100000, 0x200000, 0x200000,
                             2));
    g_assert_false(qtest_msi_pop(s, &(uint64_t){ 0 }, &(uint32_t){ 0 }));
    g_assert_cmphex(qtest_readl(s, d.bar2 + SIM_DMA_MSIX_PBA), ==, 1);
    qtest_writel(s, d.bar2 + SIM_DMA_MSIX_TABLE + 12, 0);
    expect_msi(s, MSI_DATA(0));
    g_assert_cmphex(qtest_readl(s, d.bar2 + SIM_DMA_MSIX_PBA), ==, 0);

    /* beyond guest RAM nothing is mapped: the device faults */
    g_assert_cmphex(dev_copy(&d, 0x100000, 0x40000000, 16) &
                    (SIM_DMA_STATUS_ERROR | SIM_DMA_STATUS_ERR_MASK), ==,
                    SIM_DMA_STATUS_ERROR |
                    (SIM_DMA_ERR_FAULT << SIM_DMA_STATUS_ERR_SHIFT));
    expect_msi(s, MSI_DATA(1));

    /* bus mastering off: the device issues nothing */
    qpci_config_writew(s, 0, VFIO_DEVFN, PCI_COMMAND, 0x2);
    g_assert_cmphex(dev_copy(&d, 0x100000, 0x200000, 16) &
                    SIM_DMA_STATUS_ERR_MASK, ==,
                    SIM_DMA_ERR_NO_BME << SIM_DMA_STATUS_ERR_SHIFT);
    qtest_quit(s);
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
    Dev d;

    dev_init(&d, s);
    dev_msix_on(&d);
    g_assert_true(copy_lands(&d, 0x100000, 0x100000, 0x200000, 0x200000,
                             1));
    expect_msi(s, MSI_DATA(0));
    g_assert_cmpuint(reg_read(&d, SIM_DMA_REG_DONE_COUNT), ==, 1);

    qtest_qmp_assert_success(s, "{\"execute\": \"system_reset\"}");
    qtest_qmp_eventwait(s, "RESET");
    g_assert_cmpuint(reg_read(&d, SIM_DMA_REG_DONE_COUNT), ==, 0);
    g_assert_cmphex(qpci_config_readw(s, 0, VFIO_DEVFN, PCI_COMMAND) &
                    0x4, ==, 0);
    g_assert_cmphex(qpci_config_readw(s, 0, VFIO_DEVFN,
                                      SIM_DMA_CFG_MSIX + 2) & 0x8000, ==, 0);
    g_assert_cmphex(dev_copy(&d, 0x100000, 0x200000, 16) &
                    SIM_DMA_STATUS_ERR_MASK, ==,
                    SIM_DMA_ERR_NO_BME << SIM_DMA_STATUS_ERR_SHIFT);
    g_assert_false(qtest_msi_pop(s, &(uint64_t){ 0 }, &(uint32_t){ 0 }));

    dev_init(&d, s);
    dev_msix_on(&d);
    g_assert_true(copy_lands(&d, 0x100000, 0x100000, 0x200000, 0x200000,
                             2));
    expect_msi(s, MSI_DATA(0));
    qtest_quit(s);
}

/* ------------------------------------------------------------------------
 * Behind intel-iommu, caching mode: shadowing
 * ------------------------------------------------------------------------ */

#define DID             3
#define GPA_SRC         0x100000ULL
#define GPA_DST         0x200000ULL
#define GPA_DST2        0x300000ULL
#define IOVA_SRC        0x10000000ULL
#define IOVA_DST        0x10002000ULL

/* STATUS after a copy the host IOMMU refused. */
#define STATUS_FAULT    (SIM_DMA_STATUS_ERROR | \
                         (SIM_DMA_ERR_FAULT << SIM_DMA_STATUS_ERR_SHIFT))

static uint32_t fault_status(Dev *d, uint64_t src, uint64_t dst)
{
    return dev_copy(d, src, dst, 16) &
           (SIM_DMA_STATUS_DONE | SIM_DMA_STATUS_ERROR |
            SIM_DMA_STATUS_ERR_MASK);
}

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
    Dev d;

    vtd_test_start(&t, scalable ? ",caching-mode=on,x-scalable-mode=on" :
                                  ",caching-mode=on", extra);
    dev_init(&d, t.s);
    dev_msix_on(&d);
    vtd_qi_setup(&t, scalable, 0);
    g_assert_true(copy_lands(&d, GPA_SRC, GPA_SRC, GPA_DST, GPA_DST, 1));
    expect_msi(t.s, MSI_DATA(0));

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

    g_assert_true(copy_lands(&d, IOVA_SRC, GPA_SRC, IOVA_DST, GPA_DST2, 2));
    expect_msi(t.s, MSI_DATA(0));
    /* guest-physical addresses are no longer IOVAs */
    g_assert_cmphex(fault_status(&d, GPA_SRC, GPA_DST), ==, STATUS_FAULT);
    g_assert_cmphex((reg_read(&d, SIM_DMA_REG_STATUS) &
                     SIM_DMA_STATUS_FAULT_MASK), !=, 0);
    expect_msi(t.s, MSI_DATA(1));

    /* unmapped in the guest and invalidated: gone on the host */
    vtd_pt_unmap(&t, &pt, IOVA_DST, 1);
    psi(&t, IOVA_DST);
    g_assert_cmphex(fault_status(&d, IOVA_SRC, IOVA_DST), ==, STATUS_FAULT);
    g_assert_cmphex(reg_read(&d, SIM_DMA_REG_FAULT_IOVA), ==, IOVA_DST);
    expect_msi(t.s, MSI_DATA(1));

    /* mapped again elsewhere: DMA follows */
    vtd_pt_map(&t, &pt, IOVA_DST, GPA_DST, 4096, VTD_SL_RW);
    psi(&t, IOVA_DST);
    g_assert_true(copy_lands(&d, IOVA_SRC, GPA_SRC, IOVA_DST, GPA_DST, 3));

    /* remapping off: identity again */
    vtd_disable_dmar(&t);
    g_assert_true(copy_lands(&d, GPA_SRC, GPA_SRC, GPA_DST2, GPA_DST2, 4));
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
#define VIOMMU_F        (VIRTIO_BIT(VIRTIO_F_VERSION_1) | 0x7f)
#define VIOMMU_T_ATTACH 1
#define VIOMMU_T_DETACH 2
#define VIOMMU_T_MAP    3
#define VIOMMU_T_UNMAP  4
#define VIOMMU_MAP_RW   3

typedef struct Viommu {
    QVirtioDev d;
    QVirtQueue *req, *ev;
} Viommu;

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = v >> (8 * i);
    }
}

/* One request of len bytes; returns the status in the tail. */
static uint8_t viommu_req(Viommu *v, const uint8_t *req, uint32_t len)
{
    uint64_t rd = qvirtio_alloc(&v->d, len, 8);
    uint64_t wr = qvirtio_alloc(&v->d, 4, 8);
    QVirtioBuf bufs[2] = { { rd, len, false }, { wr, 4, true } };
    uint8_t tail[4];
    uint16_t head;

    qtest_memwrite(v->d.s, rd, req, len);
    head = qvirtqueue_add_chain(v->req, bufs, 2);
    qvirtqueue_kick(v->req);
    g_assert_cmpuint(qvirtqueue_wait_used(v->req, head), ==, 4);
    qtest_memread(v->d.s, wr, tail, sizeof(tail));
    return tail[0];
}

static uint8_t viommu_attach(Viommu *v, bool detach)
{
    uint8_t r[20] = { detach ? VIOMMU_T_DETACH : VIOMMU_T_ATTACH };

    put_le(r + 4, VIOMMU_DOMAIN, 4);
    put_le(r + 8, VIOMMU_EP, 4);
    return viommu_req(v, r, sizeof(r));
}

static uint8_t viommu_map(Viommu *v, uint64_t iova, uint64_t gpa)
{
    uint8_t r[36] = { VIOMMU_T_MAP };

    put_le(r + 4, VIOMMU_DOMAIN, 4);
    put_le(r + 8, iova, 8);
    put_le(r + 16, iova + 4095, 8);
    put_le(r + 24, gpa, 8);
    put_le(r + 32, VIOMMU_MAP_RW, 4);
    return viommu_req(v, r, sizeof(r));
}

static uint8_t viommu_unmap(Viommu *v, uint64_t iova)
{
    uint8_t r[28] = { VIOMMU_T_UNMAP };

    put_le(r + 4, VIOMMU_DOMAIN, 4);
    put_le(r + 8, iova, 8);
    put_le(r + 16, iova + 4095, 8);
    return viommu_req(v, r, sizeof(r));
}

static void test_virtio_iommu(gconstpointer opaque)
{
    Backend b = GPOINTER_TO_INT(opaque);
    QTestState *s = qtest_initf("-M q35 -m 256M -device virtio-iommu-pci,"
                                "addr=03.0 " SIM_ARGS "%s", backend_args(b));
    Viommu v = { 0 };
    Dev d;

    qvirtio_pci_init(&v.d, s, 0, VIOMMU_DEVFN, VIRTIO_ALLOC, VIRTIO_ALLOC);
    qvirtio_start(&v.d, VIOMMU_F & qvirtio_get_features(&v.d));
    v.req = qvirtqueue_setup(&v.d, 0, 0, VIRTIO_MSI_NO_VECTOR);
    v.ev = qvirtqueue_setup(&v.d, 1, 0, VIRTIO_MSI_NO_VECTOR);
    qvirtio_set_driver_ok(&v.d);
    dev_init(&d, s);
    dev_msix_on(&d);

    /* unattached, boot bypass: identity */
    g_assert_true(copy_lands(&d, GPA_SRC, GPA_SRC, GPA_DST, GPA_DST, 1));
    expect_msi(s, MSI_DATA(0));

    g_assert_cmpuint(viommu_attach(&v, false), ==, 0);
    g_assert_cmphex(fault_status(&d, GPA_SRC, GPA_DST), ==, STATUS_FAULT);
    g_assert_cmpuint(viommu_map(&v, IOVA_SRC, GPA_SRC), ==, 0);
    g_assert_cmpuint(viommu_map(&v, IOVA_DST, GPA_DST2), ==, 0);
    g_assert_true(copy_lands(&d, IOVA_SRC, GPA_SRC, IOVA_DST, GPA_DST2, 2));

    g_assert_cmpuint(viommu_unmap(&v, IOVA_DST), ==, 0);
    g_assert_cmphex(fault_status(&d, IOVA_SRC, IOVA_DST), ==, STATUS_FAULT);
    g_assert_cmphex(reg_read(&d, SIM_DMA_REG_FAULT_IOVA), ==, IOVA_DST);

    /* detached: boot bypass applies again */
    g_assert_cmpuint(viommu_attach(&v, true), ==, 0);
    g_assert_true(copy_lands(&d, GPA_SRC, GPA_SRC, GPA_DST, GPA_DST, 3));
    g_free(v.req);
    g_free(v.ev);
    qtest_quit(s);
}

/* ------------------------------------------------------------------------
 * Hotplug, introspection, and unwinding: nothing left behind
 * ------------------------------------------------------------------------ */

#define RP_ARGS         "-device pcie-root-port,id=rp0,addr=05.0," \
                        "chassis=1,slot=1 "

static JsonNode *qom_get(QTestState *s, const char *path, const char *prop)
{
    JsonObject *rsp = qtest_qmp(s, "{\"execute\": \"qom-get\", "
                                "\"arguments\": {\"path\": \"%s\", "
                                "\"property\": \"%s\"}}", path, prop);
    JsonNode *ret = json_node_copy(qmp_expect_return(rsp));

    json_object_unref(rsp);
    return ret;
}

static int64_t qom_get_int(QTestState *s, const char *path, const char *prop)
{
    g_autoptr(JsonNode) n = qom_get(s, path, prop);

    return json_node_get_int(n);
}

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
            g_autoptr(JsonNode) n = qom_get(s, hiod, "name");

            g_assert_cmpstr(json_node_get_string(n), ==, HOST_BDF);
        }
        if (b == IOMMUFD) {
            g_assert_cmpint(qom_get_int(s, "/objects/fd0", "users"), ==, 1);
            g_assert_cmpint(qom_get_int(s, hiod, "devid"), >, 0);
        }
        qtest_qmp_device_del(s, "v0");
        if (fds < 0) {
            fds = qtest_count_fds(s);   /* after a warm-up cycle */
        }
        g_assert_cmpint(qtest_count_fds(s), ==, fds);
    }
    if (b == IOMMUFD) {
        g_assert_cmpint(qom_get_int(s, "/objects/fd0", "users"), ==, 0);
        object_del(s, "fd0");
    }
    object_del(s, "d0");
    object_del(s, "h");
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
        g_assert_cmpint(qom_get_int(t.s, "/objects/fd0", "users"), ==, 0);
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
    g_assert_cmpint(qom_get_int(s, "/objects/fd0", "users"), ==, 0);

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
    g_autoptr(JsonNode) root = qom_get(s, "/objects/h", "root");
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
    name = qom_get(s, "/machine/peripheral/v0/host-iommu-device", "name");
    g_assert_true(g_str_has_prefix(json_node_get_string(name), "VFIO_FD"));
    g_assert_cmpint(qom_get_int(s, "/objects/fd0", "users"), ==, 1);

    qtest_qmp_device_del(s, "v0");
    object_del(s, "fd0");
    g_assert_cmpint(qtest_count_fds(s), ==, fds);
    object_del(s, "d0");
    object_del(s, "h");
    qtest_quit(s);
}

/* Runs the binary to completion; returns stderr, *status the exit code. */
static char *run_binary(const char *args, int *status)
{
    const char *bin = g_getenv("QTEST_QEMU_BINARY");
    g_autofree char *cmdline = g_strdup_printf("%s %s", bin, args);
    g_auto(GStrv) argv = g_strsplit(cmdline, " ", 0);
    g_autoptr(GError) gerr = NULL;
    g_autofree char *out = NULL;
    char *err = NULL;
    int wstatus = 0;

    g_assert_nonnull(bin);
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, &wstatus, &gerr));
    g_assert_no_error(gerr);
    *status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
    return err;
}

/* Start-up refusals name the device and the reason, and exit 1. */
static void test_cli_errors(void)
{
    static const struct {
        const char *args, *msg;
    } cases[] = {
        { "-device vfio-pci", "vfio-pci: No provided host device" },
        { "-device vfio-pci,host=02:00.9",
          "vfio-pci: property 'host': '02:00.9' is not a PCI address" },
        { SIM_ARGS "-device vfio-pci,host=0000:03:00.0",
          "vfio 0000:03:00.0: no iommu_group found: No such file" },
        { SIM_ARGS "-device vfio-pci,fd=0", "needs iommufd=" },
        { "-object sim-host,id=h,iommufd=off,cdev=off "
          "-object sim-pci-device,id=d0,sim-host=h,host=" HOST_BDF " "
          "-object iommufd,id=fd0 "
          "-device vfio-pci,host=" HOST_BDF ",iommufd=fd0",
          "vfio " HOST_BDF ": iommufd 'fd0': /dev/iommu opening failed: "
          "No such file or directory" },
        { SIM_ARGS "-device vfio-pci,host=" HOST_BDF " "
          "-device vfio-pci,host=" HOST_BDF,
          "vfio " HOST_BDF ": device is already attached" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *args = g_strdup_printf("-M q35 -display none "
                                                "-accel qtest %s",
                                                cases[i].args);
        int status;
        g_autofree char *err = run_binary(args, &status);

        if (status != 1 || !strstr(err, cases[i].msg)) {
            g_error("'%s': exit %d, '%s' lacks '%s'", cases[i].args, status,
                    err, cases[i].msg);
        }
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
