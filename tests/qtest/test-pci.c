/*
 * q35 PCI: configuration mechanism #1 and ECAM (control_boot_facts F.5),
 * the MCH and LPC (F.6), BAR sizing and decode, capabilities, MSI and
 * MSI-X masking, INTx routing to the I/O APIC, and query-pci.
 */
#include <string.h>
#include <glib.h>

#include "libqtest.h"

#define ECAM_BASE       0xb0000000ull
#define EDU_DEVFN       (3 << 3)        /* -device edu,addr=03.0 */
#define RP_DEVFN        (4 << 3)        /* -device pcie-root-port,addr=04.0 */
#define MCH_DEVFN       0
#define LPC_DEVFN       (31 << 3)

#define PCI_VENDOR_ID           0x00
#define PCI_COMMAND             0x04
#define  PCI_COMMAND_IO         0x1
#define  PCI_COMMAND_MEMORY     0x2
#define  PCI_COMMAND_MASTER     0x4
#define  PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS              0x06
#define  PCI_STATUS_INTERRUPT   0x08
#define  PCI_STATUS_CAP_LIST    0x10
#define PCI_REVISION_ID         0x08
#define PCI_CLASS_DEVICE        0x0a
#define PCI_HEADER_TYPE         0x0e
#define PCI_BASE_ADDRESS_0      0x10
#define PCI_SECONDARY_BUS       0x19
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_CAPABILITY_LIST     0x34
#define PCI_INTERRUPT_LINE      0x3c
#define PCI_INTERRUPT_PIN       0x3d
#define PCI_CAP_ID_MSI          0x05
#define PCI_CAP_ID_EXP          0x10
#define PCI_CAP_ID_MSIX         0x11
#define MCH_PCIEXBAR            0x60

#define PCI_EXP_FLAGS           0x02
#define PCI_EXP_SLTCTL          0x18
#define  PCI_EXP_SLTCTL_PDCE    0x0008
#define  PCI_EXP_SLTCTL_HPIE    0x0020
#define PCI_EXP_SLTSTA          0x1a
#define  PCI_EXP_SLTSTA_PDC     0x0008
#define  PCI_EXP_SLTSTA_PDS     0x0040

#define PCI_MSIX_FLAGS          0x02
#define  PCI_MSIX_FLAGS_MASKALL 0x4000
#define  PCI_MSIX_FLAGS_ENABLE  0x8000
#define PCI_MSIX_TABLE          0x04
#define PCI_MSIX_PBA            0x08

#define EDU_REG_ID              0x00
#define EDU_REG_IRQ_RAISE       0x60
#define EDU_REG_IRQ_ACK         0x64

#define GSI_PIRQ_E              20

static uint64_t ecam_addr(int bus, int devfn, int off)
{
    return ECAM_BASE + ((uint64_t)bus << 20 | devfn << 12 | off);
}

static uint32_t bar0_addr(QTestState *s, int bus, int devfn)
{
    return qpci_config_readl(s, bus, devfn, PCI_BASE_ADDRESS_0) & ~0xfu;
}

static void test_cf8_latch(void)
{
    QTestState *s = qtest_init("-M q35 -device edu,addr=03.0");

    /* Only dword writes latch; reads return the latch. */
    qtest_outl(s, 0xcf8, 0x80000000);
    g_assert_cmphex(qtest_inl(s, 0xcf8), ==, 0x80000000);
    qtest_outb(s, 0xcf8, 0x12);
    qtest_outw(s, 0xcf8, 0x3456);
    g_assert_cmphex(qtest_inl(s, 0xcf8), ==, 0x80000000);
    g_assert_cmphex(qtest_inl(s, 0xcfc), ==, 0x29c08086);

    /* The low bits of CF8 are kept and ORed with the data port's. */
    qtest_outl(s, 0xcf8, 0x80000002);
    g_assert_cmphex(qtest_inl(s, 0xcf8), ==, 0x80000002);
    g_assert_cmphex(qtest_inb(s, 0xcfc), ==, 0xc0);
    g_assert_cmphex(qtest_inw(s, 0xcfc), ==, 0x29c0);
    qtest_outl(s, 0xcf8, 0x80000000);
    g_assert_cmphex(qtest_inb(s, 0xcfd), ==, 0x80);
    g_assert_cmphex(qtest_inb(s, 0xcfe), ==, 0xc0);
    g_assert_cmphex(qtest_inw(s, 0xcfe), ==, 0x29c0);

    /* Enable clear: reads all-ones, writes dropped. */
    qtest_outl(s, 0xcf8, EDU_DEVFN << 8 | PCI_INTERRUPT_LINE);
    g_assert_cmphex(qtest_inl(s, 0xcfc), ==, 0xffffffff);
    qtest_outb(s, 0xcfc, 0x55);
    g_assert_cmphex(qpci_config_readb(s, 0, EDU_DEVFN, PCI_INTERRUPT_LINE),
                    !=, 0x55);
    qtest_quit(s);
}

static void test_missing_devices(void)
{
    QTestState *s = qtest_init("-M q35 -device edu,addr=03.0");

    g_assert_cmphex(qpci_config_readl(s, 0, 5 << 3, 0), ==, 0xffffffff);
    g_assert_cmphex(qpci_config_readw(s, 0, 5 << 3, 2), ==, 0xffff);
    g_assert_cmphex(qpci_config_readb(s, 0, 5 << 3, 0), ==, 0xff);
    g_assert_cmphex(qpci_config_readl(s, 0, EDU_DEVFN | 1, 0), ==,
                    0xffffffff);
    g_assert_cmphex(qpci_config_readl(s, 7, 0, 0), ==, 0xffffffff);
    /* Writes to nothing are dropped without harm. */
    qpci_config_writel(s, 0, 5 << 3, PCI_COMMAND, 0x7);
    qpci_config_writel(s, 9, 0, PCI_COMMAND, 0x7);
    g_assert_cmphex(qtest_readl(s, ecam_addr(0, 5 << 3, 0)), ==, 0xffffffff);
    g_assert_cmphex(qtest_readl(s, ecam_addr(9, 0, 0)), ==, 0xffffffff);
    qtest_quit(s);
}

static void assert_child(QTestState *s, const char *path, const char *name,
                         const char *type)
{
    JsonObject *rsp = qtest_qmp(s, "{\"execute\": \"qom-list\", "
                                "\"arguments\": {\"path\": \"%s\"}}", path);
    JsonArray *arr = json_node_get_array(qmp_expect_return(rsp));
    bool found = false;

    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *p = json_array_get_object_element(arr, i);

        if (!strcmp(json_object_get_string_member(p, "name"), name)) {
            g_assert_cmpstr(json_object_get_string_member(p, "type"), ==,
                            type);
            found = true;
        }
    }
    g_assert_true(found);
    json_object_unref(rsp);
}

static void test_mch_lpc(void)
{
    QTestState *s = qtest_init("-M q35");

    g_assert_cmphex(qpci_config_readl(s, 0, MCH_DEVFN, PCI_VENDOR_ID), ==,
                    0x29c08086);
    g_assert_cmphex(qpci_config_readb(s, 0, MCH_DEVFN, PCI_REVISION_ID), ==,
                    0);
    g_assert_cmphex(qpci_config_readw(s, 0, MCH_DEVFN, PCI_CLASS_DEVICE), ==,
                    0x0600);
    g_assert_cmphex(qpci_config_readb(s, 0, MCH_DEVFN, PCI_HEADER_TYPE), ==,
                    0);
    g_assert_cmphex(qpci_config_readl(s, 0, MCH_DEVFN,
                                      PCI_SUBSYSTEM_VENDOR_ID), ==,
                    0x11001af4);
    /* Firmware duty: ECAM on at 0xb0000000, 256 MiB. */
    g_assert_cmphex(qpci_config_readl(s, 0, MCH_DEVFN, MCH_PCIEXBAR), ==,
                    0xb0000001);

    g_assert_cmphex(qpci_config_readl(s, 0, LPC_DEVFN, PCI_VENDOR_ID), ==,
                    0x29188086);
    g_assert_cmphex(qpci_config_readb(s, 0, LPC_DEVFN, PCI_REVISION_ID), ==,
                    2);
    g_assert_cmphex(qpci_config_readw(s, 0, LPC_DEVFN, PCI_CLASS_DEVICE), ==,
                    0x0601);
    g_assert_cmphex(qpci_config_readb(s, 0, LPC_DEVFN, PCI_HEADER_TYPE), ==,
                    0x80);
    /* PIRQ routing registers: reset 0x80, writable bits 0x8f. */
    g_assert_cmphex(qpci_config_readl(s, 0, LPC_DEVFN, 0x60), ==, 0x80808080);
    qpci_config_writeb(s, 0, LPC_DEVFN, 0x68, 0xff);
    g_assert_cmphex(qpci_config_readb(s, 0, LPC_DEVFN, 0x68), ==, 0x8f);

    assert_child(s, "/machine", "q35", "child<q35-pcihost>");
    assert_child(s, "/machine/q35", "mch", "child<mch>");
    assert_child(s, "/machine/q35", "ioapic", "child<ioapic>");
    assert_child(s, "/machine/q35", "pcie.0", "child<PCIE>");
    qtest_quit(s);
}

static void test_bar_sizing(void)
{
    QTestState *s = qtest_init("-M q35 -device edu,addr=03.0");
    uint32_t bar = bar0_addr(s, 0, EDU_DEVFN);
    uint16_t cmd = qpci_config_readw(s, 0, EDU_DEVFN, PCI_COMMAND);

    /* Firmware placed it in the 32-bit hole and enabled decode only. */
    g_assert_cmphex(bar, >=, 0xc0000000);
    g_assert_cmphex(bar, <, 0xfec00000);
    g_assert_cmphex(bar & 0xfffff, ==, 0);
    g_assert_cmphex(cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), ==,
                    PCI_COMMAND_MEMORY);
    g_assert_cmphex(qtest_readl(s, bar + EDU_REG_ID), ==, 0x010000ed);

    /* Decode off: gone. */
    qpci_config_writew(s, 0, EDU_DEVFN, PCI_COMMAND, 0);
    g_assert_cmphex(qtest_readl(s, bar + EDU_REG_ID), ==, 0);

    /* Sizing: 1 MiB, 32-bit, non-prefetchable memory. */
    qpci_config_writel(s, 0, EDU_DEVFN, PCI_BASE_ADDRESS_0, 0xffffffff);
    g_assert_cmphex(qpci_config_readl(s, 0, EDU_DEVFN, PCI_BASE_ADDRESS_0),
                    ==, 0xfff00000);
    for (int i = 1; i < 6; i++) {
        qpci_config_writel(s, 0, EDU_DEVFN, PCI_BASE_ADDRESS_0 + 4 * i,
                           0xffffffff);
        g_assert_cmphex(qpci_config_readl(s, 0, EDU_DEVFN,
                                          PCI_BASE_ADDRESS_0 + 4 * i), ==, 0);
    }

    /* Placed while decode is off: still nothing until it is on. */
    qpci_config_writel(s, 0, EDU_DEVFN, PCI_BASE_ADDRESS_0, 0xe0000000);
    g_assert_cmphex(qtest_readl(s, 0xe0000000), ==, 0);
    qpci_config_writew(s, 0, EDU_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY);
    g_assert_cmphex(qtest_readl(s, 0xe0000000), ==, 0x010000ed);
    g_assert_cmphex(qtest_readl(s, bar), ==, 0);

    /* Moving it while decode is on remaps it. */
    qpci_config_writel(s, 0, EDU_DEVFN, PCI_BASE_ADDRESS_0, 0xe0100000);
    g_assert_cmphex(qtest_readl(s, 0xe0000000), ==, 0);
    g_assert_cmphex(qtest_readl(s, 0xe0100000), ==, 0x010000ed);

    /* The libqtest helper agrees. */
    g_assert_cmphex(qpci_bar_map(s, 0, EDU_DEVFN, 0, 0xe0200000), ==,
                    0x100000);
    g_assert_cmphex(qtest_readl(s, 0xe0200000), ==, 0x010000ed);

    /* system_reset: firmware places it again. */
    qtest_qmp_assert_success(s, "{\"execute\": \"system_reset\"}");
    qtest_qmp_eventwait(s, "RESET");
    g_assert_cmphex(bar0_addr(s, 0, EDU_DEVFN), ==, bar);
    g_assert_cmphex(qtest_readl(s, bar + EDU_REG_ID), ==, 0x010000ed);
    g_assert_cmphex(qtest_readl(s, 0xe0200000), ==, 0);
    qtest_quit(s);
}

static void test_ecam(void)
{
    QTestState *s = qtest_init("-M q35 -device edu,addr=03.0 "
                               "-device pcie-root-port,id=rp0,addr=04.0");
    static const int devfns[] = { MCH_DEVFN, EDU_DEVFN, RP_DEVFN, LPC_DEVFN };

    for (size_t i = 0; i < G_N_ELEMENTS(devfns); i++) {
        for (int off = 0; off < 0x100; off += 4) {
            g_assert_cmphex(qtest_readl(s, ecam_addr(0, devfns[i], off)), ==,
                            qpci_config_readl(s, 0, devfns[i], off));
        }
    }
    g_assert_cmphex(qtest_readw(s, ecam_addr(0, EDU_DEVFN, 2)), ==, 0x11e8);
    g_assert_cmphex(qtest_readb(s, ecam_addr(0, EDU_DEVFN, 0x08)), ==, 0x10);

    /* Extended space: a PCIe function has it (empty list), edu does not. */
    g_assert_cmphex(qtest_readl(s, ecam_addr(0, RP_DEVFN, 0x100)), ==, 0);
    g_assert_cmphex(qtest_readl(s, ecam_addr(0, EDU_DEVFN, 0x100)), ==,
                    0xffffffff);

    /* Writes through ECAM land in the same registers. */
    qtest_writeb(s, ecam_addr(0, EDU_DEVFN, PCI_INTERRUPT_LINE), 0x5a);
    g_assert_cmphex(qpci_config_readb(s, 0, EDU_DEVFN, PCI_INTERRUPT_LINE),
                    ==, 0x5a);

    /* PCIEXBAR: disabled, then moved to 0xe0000000 with 64 MiB. */
    qpci_config_writel(s, 0, MCH_DEVFN, MCH_PCIEXBAR, 0xb0000000);
    g_assert_cmphex(qtest_readl(s, ecam_addr(0, 0, 0)), ==, 0);
    qpci_config_writel(s, 0, MCH_DEVFN, MCH_PCIEXBAR, 0xe0000005);
    g_assert_cmphex(qtest_readl(s, 0xe0000000), ==, 0x29c08086);
    g_assert_cmphex(qtest_readl(s, 0xe0000000 + (EDU_DEVFN << 12)), ==,
                    0x11e81234);
    qpci_config_writel(s, 0, MCH_DEVFN, MCH_PCIEXBAR, 0xb0000001);
    g_assert_cmphex(qtest_readl(s, 0xe0000000), ==, 0);
    g_assert_cmphex(qtest_readl(s, ecam_addr(0, 0, 0)), ==, 0x29c08086);
    qtest_quit(s);
}

static void test_capabilities(void)
{
    QTestState *s = qtest_init("-M q35 -device edu,addr=03.0 "
                               "-device pcie-root-port,id=rp0,addr=04.0");
    uint8_t msi, exp, msix;

    /* edu: MSI only, at 0x40, 64-bit, 1 vector, no masking. */
    g_assert_cmphex(qpci_config_readw(s, 0, EDU_DEVFN, PCI_STATUS) &
                    PCI_STATUS_CAP_LIST, ==, PCI_STATUS_CAP_LIST);
    g_assert_cmphex(qpci_config_readb(s, 0, EDU_DEVFN, PCI_CAPABILITY_LIST),
                    ==, 0x40);
    g_assert_cmphex(qpci_config_readw(s, 0, EDU_DEVFN, 0x40), ==,
                    PCI_CAP_ID_MSI);
    msi = qpci_find_capability(s, 0, EDU_DEVFN, PCI_CAP_ID_MSI);
    g_assert_cmphex(msi, ==, 0x40);
    g_assert_cmphex(qpci_find_capability(s, 0, EDU_DEVFN, PCI_CAP_ID_MSIX),
                    ==, 0);
    g_assert_cmphex(qpci_config_readw(s, 0, EDU_DEVFN, msi + 2), ==, 0x0080);
    /* Enable and QSIZE are writable; QSIZE is held to what is offered. */
    qpci_config_writew(s, 0, EDU_DEVFN, msi + 2, 0xffff);
    g_assert_cmphex(qpci_config_readw(s, 0, EDU_DEVFN, msi + 2), ==, 0x0081);
    qpci_config_writew(s, 0, EDU_DEVFN, msi + 2, 0);
    g_assert_cmphex(qpci_config_readw(s, 0, EDU_DEVFN, msi + 2), ==, 0x0080);
    qpci_config_writel(s, 0, EDU_DEVFN, msi + 4, 0xffffffff);
    g_assert_cmphex(qpci_config_readl(s, 0, EDU_DEVFN, msi + 4), ==,
                    0xfffffffc);
    qpci_config_writel(s, 0, EDU_DEVFN, msi + 0xc, 0xffffffff);
    g_assert_cmphex(qpci_config_readl(s, 0, EDU_DEVFN, msi + 0xc), ==,
                    0x0000ffff);
    /* Read-only bytes stay put. */
    qpci_config_writel(s, 0, EDU_DEVFN, PCI_VENDOR_ID, 0);
    qpci_config_writeb(s, 0, EDU_DEVFN, PCI_CAPABILITY_LIST, 0x80);
    qpci_config_writeb(s, 0, EDU_DEVFN, msi + 1, 0x80);
    g_assert_cmphex(qpci_config_readl(s, 0, EDU_DEVFN, PCI_VENDOR_ID), ==,
                    0x11e81234);
    g_assert_cmphex(qpci_config_readb(s, 0, EDU_DEVFN, PCI_CAPABILITY_LIST),
                    ==, 0x40);
    g_assert_cmphex(qpci_config_readb(s, 0, EDU_DEVFN, msi + 1), ==, 0);
    /* Unimplemented registers read zero and ignore writes. */
    qpci_config_writel(s, 0, EDU_DEVFN, 0x80, 0xffffffff);
    g_assert_cmphex(qpci_config_readl(s, 0, EDU_DEVFN, 0x80), ==, 0);

    /* Root port: PCIe (root port, slot) and MSI-X, nothing else. */
    exp = qpci_find_capability(s, 0, RP_DEVFN, PCI_CAP_ID_EXP);
    msix = qpci_find_capability(s, 0, RP_DEVFN, PCI_CAP_ID_MSIX);
    g_assert_cmphex(exp, !=, 0);
    g_assert_cmphex(msix, !=, 0);
    g_assert_cmphex(qpci_find_capability(s, 0, RP_DEVFN, PCI_CAP_ID_MSI), ==,
                    0);
    g_assert_cmphex(qpci_config_readw(s, 0, RP_DEVFN, exp + PCI_EXP_FLAGS),
                    ==, 0x0142);
    g_assert_cmphex(qpci_config_readw(s, 0, RP_DEVFN, msix + PCI_MSIX_FLAGS),
                    ==, 0);     /* one vector, disabled */
    g_assert_cmphex(qpci_config_readb(s, 0, RP_DEVFN, PCI_HEADER_TYPE), ==, 1);
    g_assert_cmphex(qpci_config_readl(s, 0, RP_DEVFN, PCI_VENDOR_ID), ==,
                    0x000c1b36);
    g_assert_cmphex(qpci_config_readw(s, 0, RP_DEVFN, PCI_CLASS_DEVICE), ==,
                    0x0604);
    qtest_quit(s);
}

static void test_msi(void)
{
    QTestState *s = qtest_init("-M q35 -device edu,addr=03.0");
    uint32_t bar = bar0_addr(s, 0, EDU_DEVFN);
    uint8_t msi = qpci_find_capability(s, 0, EDU_DEVFN, PCI_CAP_ID_MSI);
    uint64_t addr;
    uint32_t data;

    qpci_config_writel(s, 0, EDU_DEVFN, msi + 4, 0xfee01000);
    qpci_config_writel(s, 0, EDU_DEVFN, msi + 8, 0);
    qpci_config_writew(s, 0, EDU_DEVFN, msi + 0xc, 0x4041);
    qpci_config_writew(s, 0, EDU_DEVFN, msi + 2, 0x0081);

    /* An MSI is a memory write: without bus mastering it goes nowhere. */
    qtest_writel(s, bar + EDU_REG_IRQ_RAISE, 1);
    g_assert_false(qtest_msi_pop(s, &addr, &data));
    qtest_writel(s, bar + EDU_REG_IRQ_ACK, 1);

    qpci_device_enable(s, 0, EDU_DEVFN);
    qtest_writel(s, bar + EDU_REG_IRQ_RAISE, 1);
    g_assert_true(qtest_msi_pop(s, &addr, &data));
    g_assert_cmphex(addr, ==, 0xfee01000);
    g_assert_cmphex(data, ==, 0x4041);
    g_assert_false(qtest_msi_pop(s, &addr, &data));
    qtest_quit(s);
}

/* MSI-X of the root port, driven by its hot-plug interrupt. */
static void test_msix_masking(void)
{
    QTestState *s = qtest_init("-M q35 "
                               "-device pcie-root-port,id=rp0,addr=04.0");
    uint8_t msix = qpci_find_capability(s, 0, RP_DEVFN, PCI_CAP_ID_MSIX);
    uint8_t exp = qpci_find_capability(s, 0, RP_DEVFN, PCI_CAP_ID_EXP);
    uint32_t table = qpci_config_readl(s, 0, RP_DEVFN, msix + PCI_MSIX_TABLE);
    uint32_t pba = qpci_config_readl(s, 0, RP_DEVFN, msix + PCI_MSIX_PBA);
    uint32_t bar = bar0_addr(s, 0, RP_DEVFN);
    uint64_t entry = bar + (table & ~7u), pba_addr = bar + (pba & ~7u);
    uint16_t sta;
    uint64_t addr;
    uint32_t data;

    g_assert_cmphex(table & 7, ==, 0);
    g_assert_cmphex(pba & 7, ==, 0);
    g_assert_cmphex(bar, !=, 0);
    /* Reset state: every vector masked, nothing pending. */
    g_assert_cmphex(qtest_readl(s, entry + 12), ==, 1);
    g_assert_cmphex(qtest_readl(s, pba_addr), ==, 0);
    /* The PBA is read-only; reserved vector-control bits read zero. */
    qtest_writel(s, pba_addr, 0xffffffff);
    g_assert_cmphex(qtest_readl(s, pba_addr), ==, 0);
    qtest_writel(s, entry + 12, 0xfffffffe);
    g_assert_cmphex(qtest_readl(s, entry + 12), ==, 0);
    qtest_writel(s, entry + 12, 1);

    qtest_writel(s, entry, 0xfee00000);
    qtest_writel(s, entry + 4, 0);
    qtest_writel(s, entry + 8, 0x41);
    g_assert_cmphex(qtest_readq(s, entry), ==, 0xfee00000);
    qpci_device_enable(s, 0, RP_DEVFN);
    qpci_config_writew(s, 0, RP_DEVFN, msix + PCI_MSIX_FLAGS,
                       PCI_MSIX_FLAGS_ENABLE);
    qpci_config_writew(s, 0, RP_DEVFN, exp + PCI_EXP_SLTCTL,
                       PCI_EXP_SLTCTL_HPIE | PCI_EXP_SLTCTL_PDCE);

    /* Vector masked: the hot-plug event leaves a pending bit. */
    qtest_qmp_device_add(s, "edu", "e1", "\"bus\": \"rp0\"");
    sta = qpci_config_readw(s, 0, RP_DEVFN, exp + PCI_EXP_SLTSTA);
    g_assert_cmphex(sta & (PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_PDS), ==,
                    PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_PDS);
    g_assert_false(qtest_msi_pop(s, &addr, &data));
    g_assert_cmphex(qtest_readl(s, pba_addr), ==, 1);

    /* Unmasking delivers it and clears the pending bit. */
    qtest_writel(s, entry + 12, 0);
    g_assert_true(qtest_msi_pop(s, &addr, &data));
    g_assert_cmphex(addr, ==, 0xfee00000);
    g_assert_cmphex(data, ==, 0x41);
    g_assert_cmphex(qtest_readl(s, pba_addr), ==, 0);

    /* Function mask: pending until cleared. */
    qpci_config_writew(s, 0, RP_DEVFN, exp + PCI_EXP_SLTSTA,
                       PCI_EXP_SLTSTA_PDC);
    qpci_config_writew(s, 0, RP_DEVFN, msix + PCI_MSIX_FLAGS,
                       PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    qtest_qmp_device_del(s, "e1");
    g_assert_false(qtest_msi_pop(s, &addr, &data));
    g_assert_cmphex(qtest_readl(s, pba_addr), ==, 1);
    qpci_config_writew(s, 0, RP_DEVFN, msix + PCI_MSIX_FLAGS,
                       PCI_MSIX_FLAGS_ENABLE);
    g_assert_true(qtest_msi_pop(s, &addr, &data));
    g_assert_cmphex(data, ==, 0x41);
    g_assert_cmphex(qtest_readl(s, pba_addr), ==, 0);
    g_assert_false(qtest_msi_pop(s, &addr, &data));
    qtest_quit(s);
}

static void test_intx(void)
{
    QTestState *s = qtest_init("-M q35 -device edu,addr=03.0 "
                               "-device edu,addr=04.0 "
                               "-device pcie-root-port,id=rp0,addr=05.0 "
                               "-device edu,bus=rp0");
    uint32_t bar = bar0_addr(s, 0, EDU_DEVFN);
    uint32_t bar4 = bar0_addr(s, 0, 4 << 3);
    int gsi = GSI_PIRQ_E + (3 + 0) % 4;     /* slot 3, INTA -> PIRQH */

    /* Firmware wrote the GSI of each pin into the interrupt line. */
    g_assert_cmpuint(qpci_config_readb(s, 0, EDU_DEVFN, PCI_INTERRUPT_PIN),
                     ==, 1);
    g_assert_cmpuint(qpci_config_readb(s, 0, EDU_DEVFN, PCI_INTERRUPT_LINE),
                     ==, gsi);
    g_assert_cmpuint(qpci_config_readb(s, 0, 4 << 3, PCI_INTERRUPT_LINE), ==,
                     GSI_PIRQ_E);
    /* Behind the root port at slot 5: swizzle to INTA at 05.0 -> PIRQF. */
    g_assert_cmpuint(qpci_config_readb(s, 1, 0, PCI_INTERRUPT_LINE), ==,
                     GSI_PIRQ_E + 1);

    qtest_irq_intercept_in(s, "ioapic");
    g_assert_false(qtest_get_irq(s, gsi));
    qtest_writel(s, bar + EDU_REG_IRQ_RAISE, 1);
    g_assert_true(qtest_get_irq(s, gsi));
    g_assert_cmphex(qpci_config_readw(s, 0, EDU_DEVFN, PCI_STATUS) &
                    PCI_STATUS_INTERRUPT, ==, PCI_STATUS_INTERRUPT);

    /* INTx disable masks the line but not the status bit. */
    qpci_config_writew(s, 0, EDU_DEVFN, PCI_COMMAND,
                       PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
    g_assert_false(qtest_get_irq(s, gsi));
    g_assert_cmphex(qpci_config_readw(s, 0, EDU_DEVFN, PCI_STATUS) &
                    PCI_STATUS_INTERRUPT, ==, PCI_STATUS_INTERRUPT);
    qpci_config_writew(s, 0, EDU_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY);
    g_assert_true(qtest_get_irq(s, gsi));

    /* Two devices on one PIRQ: the line is the OR of both. */
    qtest_writel(s, bar4 + EDU_REG_IRQ_RAISE, 1);
    g_assert_true(qtest_get_irq(s, GSI_PIRQ_E));
    qtest_writel(s, bar + EDU_REG_IRQ_ACK, 1);
    g_assert_false(qtest_get_irq(s, gsi));
    g_assert_cmphex(qpci_config_readw(s, 0, EDU_DEVFN, PCI_STATUS) &
                    PCI_STATUS_INTERRUPT, ==, 0);
    g_assert_true(qtest_get_irq(s, GSI_PIRQ_E));

    /* A device behind the root port. */
    qpci_config_writew(s, 0, 5 << 3, PCI_COMMAND, PCI_COMMAND_MEMORY);
    qtest_writel(s, bar0_addr(s, 1, 0) + EDU_REG_IRQ_RAISE, 1);
    g_assert_true(qtest_get_irq(s, GSI_PIRQ_E + 1));
    qtest_writel(s, bar0_addr(s, 1, 0) + EDU_REG_IRQ_ACK, 1);
    g_assert_false(qtest_get_irq(s, GSI_PIRQ_E + 1));

    /* Reset deasserts what was asserted. */
    qtest_qmp_assert_success(s, "{\"execute\": \"system_reset\"}");
    qtest_qmp_eventwait(s, "RESET");
    g_assert_false(qtest_get_irq(s, GSI_PIRQ_E));
    qtest_quit(s);
}

/* The I/O APIC turns an unmasked pin into an MSI-format message. */
static void test_ioapic_message(void)
{
    QTestState *s = qtest_init("-M q35 -device edu,addr=03.0");
    uint32_t bar = bar0_addr(s, 0, EDU_DEVFN);
    int gsi = GSI_PIRQ_E + 3;
    uint64_t addr;
    uint32_t data;

    g_assert_cmphex(qtest_readl(s, 0xfec00000), ==, 0);
    qtest_writel(s, 0xfec00000, 0x01);
    g_assert_cmphex(qtest_readl(s, 0xfec00010), ==, 0x00170020);
    /* Level-triggered, vector 0x51, destination 2, unmasked. */
    qtest_writel(s, 0xfec00000, 0x10 + 2 * gsi + 1);
    qtest_writel(s, 0xfec00010, 0x02000000);
    qtest_writel(s, 0xfec00000, 0x10 + 2 * gsi);
    qtest_writel(s, 0xfec00010, 0x00008051);
    qtest_writel(s, bar + EDU_REG_IRQ_RAISE, 1);
    g_assert_true(qtest_msi_pop(s, &addr, &data));
    g_assert_cmphex(addr, ==, 0xfee02000);
    g_assert_cmphex(data, ==, 0x8051);
    /* Remote IRR holds off a second message until the EOI. */
    g_assert_cmphex(qtest_readl(s, 0xfec00010) & (1 << 14), ==, 1 << 14);
    qtest_writel(s, bar + EDU_REG_IRQ_RAISE, 2);
    g_assert_false(qtest_msi_pop(s, &addr, &data));
    qtest_writel(s, 0xfec00040, 0x51);
    g_assert_true(qtest_msi_pop(s, &addr, &data));
    qtest_writel(s, bar + EDU_REG_IRQ_ACK, 3);
    qtest_writel(s, 0xfec00040, 0x51);
    g_assert_false(qtest_msi_pop(s, &addr, &data));
    qtest_quit(s);
}

static JsonObject *find_device(JsonArray *devices, int slot, int function)
{
    for (guint i = 0; i < json_array_get_length(devices); i++) {
        JsonObject *d = json_array_get_object_element(devices, i);

        if (json_object_get_int_member(d, "slot") == slot &&
            json_object_get_int_member(d, "function") == function) {
            return d;
        }
    }
    return NULL;
}

static void test_query_pci(void)
{
    QTestState *s = qtest_init("-M q35 -device edu,addr=03.0,id=e "
                               "-device pcie-root-port,id=rp0,addr=04.0 "
                               "-device edu,bus=rp0,id=e2");
    JsonObject *rsp = qtest_qmp(s, "{\"execute\": \"query-pci\"}");
    JsonArray *buses = json_node_get_array(qmp_expect_return(rsp));
    JsonObject *bus0, *mch, *edu, *rp, *region, *bridge, *businfo, *e2;
    JsonArray *devices, *regions;
    uint32_t bar = bar0_addr(s, 0, EDU_DEVFN);

    g_assert_cmpuint(json_array_get_length(buses), ==, 1);
    bus0 = json_array_get_object_element(buses, 0);
    g_assert_cmpint(json_object_get_int_member(bus0, "bus"), ==, 0);
    devices = json_object_get_array_member(bus0, "devices");
    g_assert_cmpuint(json_array_get_length(devices), ==, 4);

    mch = find_device(devices, 0, 0);
    g_assert_nonnull(mch);
    g_assert_cmpint(json_object_get_int_member(
        json_object_get_object_member(mch, "id"), "vendor"), ==, 0x8086);
    g_assert_cmpstr(json_object_get_string_member(
        json_object_get_object_member(mch, "class_info"), "desc"), ==,
        "Host bridge");
    g_assert_cmpstr(json_object_get_string_member(mch, "qdev_id"), ==, "");
    g_assert_false(json_object_has_member(mch, "irq"));

    edu = find_device(devices, 3, 0);
    g_assert_nonnull(edu);
    g_assert_cmpstr(json_object_get_string_member(edu, "qdev_id"), ==, "e");
    g_assert_cmpint(json_object_get_int_member(edu, "irq_pin"), ==, 1);
    g_assert_cmpint(json_object_get_int_member(edu, "irq"), ==, 23);
    g_assert_cmpint(json_object_get_int_member(
        json_object_get_object_member(edu, "class_info"), "class"), ==, 0xff);
    g_assert_cmpint(json_object_get_int_member(
        json_object_get_object_member(edu, "id"), "device"), ==, 0x11e8);
    g_assert_cmpint(json_object_get_int_member(
        json_object_get_object_member(edu, "id"), "subsystem-vendor"), ==,
        0x1af4);
    regions = json_object_get_array_member(edu, "regions");
    g_assert_cmpuint(json_array_get_length(regions), ==, 1);
    region = json_array_get_object_element(regions, 0);
    g_assert_cmpint(json_object_get_int_member(region, "bar"), ==, 0);
    g_assert_cmpstr(json_object_get_string_member(region, "type"), ==,
                    "memory");
    g_assert_cmpint(json_object_get_int_member(region, "address"), ==, bar);
    g_assert_cmpint(json_object_get_int_member(region, "size"), ==, 1 << 20);
    g_assert_false(json_object_get_boolean_member(region, "prefetch"));
    g_assert_false(json_object_get_boolean_member(region, "mem_type_64"));

    rp = find_device(devices, 4, 0);
    g_assert_nonnull(rp);
    g_assert_false(json_object_has_member(
        json_object_get_object_member(rp, "id"), "subsystem"));
    bridge = json_object_get_object_member(rp, "pci_bridge");
    g_assert_nonnull(bridge);
    businfo = json_object_get_object_member(bridge, "bus");
    g_assert_cmpint(json_object_get_int_member(businfo, "number"), ==, 0);
    g_assert_cmpint(json_object_get_int_member(businfo, "secondary"), ==, 1);
    g_assert_cmpint(json_object_get_int_member(businfo, "subordinate"), ==, 1);
    e2 = json_array_get_object_element(
        json_object_get_array_member(bridge, "devices"), 0);
    g_assert_cmpstr(json_object_get_string_member(e2, "qdev_id"), ==, "e2");
    g_assert_cmpint(json_object_get_int_member(e2, "bus"), ==, 1);
    /* The device's BAR is inside the bridge's memory window. */
    region = json_array_get_object_element(
        json_object_get_array_member(e2, "regions"), 0);
    g_assert_cmpint(json_object_get_int_member(region, "address"), >=,
                    json_object_get_int_member(json_object_get_object_member(
                        businfo, "memory_range"), "base"));
    g_assert_cmpint(json_object_get_int_member(region, "address") + (1 << 20),
                    <=, json_object_get_int_member(json_object_get_object_member(
                        businfo, "memory_range"), "limit") + 1);

    json_object_unref(rsp);

    /* Unmapped BARs read -1. */
    qpci_config_writew(s, 0, EDU_DEVFN, PCI_COMMAND, 0);
    rsp = qtest_qmp(s, "{\"execute\": \"query-pci\"}");
    buses = json_node_get_array(qmp_expect_return(rsp));
    edu = find_device(json_object_get_array_member(
        json_array_get_object_element(buses, 0), "devices"), 3, 0);
    region = json_array_get_object_element(
        json_object_get_array_member(edu, "regions"), 0);
    g_assert_cmpint(json_object_get_int_member(region, "address"), ==, -1);
    json_object_unref(rsp);
    qtest_quit(s);
}

static void test_placement(void)
{
    QTestState *s = qtest_init("-M q35 -device edu -device edu "
                               "-device edu,addr=0x1e");

    /* No addr: the first free slots after the MCH. */
    g_assert_cmphex(qpci_config_readl(s, 0, 1 << 3, 0), ==, 0x11e81234);
    g_assert_cmphex(qpci_config_readl(s, 0, 2 << 3, 0), ==, 0x11e81234);
    g_assert_cmphex(qpci_config_readl(s, 0, 0x1e << 3, 0), ==, 0x11e81234);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/q35/pci/cf8-latch", test_cf8_latch);
    g_test_add_func("/q35/pci/missing-device-all-ones", test_missing_devices);
    g_test_add_func("/q35/pci/mch-lpc-ids", test_mch_lpc);
    g_test_add_func("/q35/pci/bar-sizing", test_bar_sizing);
    g_test_add_func("/q35/pci/ecam", test_ecam);
    g_test_add_func("/q35/pci/capabilities", test_capabilities);
    g_test_add_func("/q35/pci/msi", test_msi);
    g_test_add_func("/q35/pci/msix-masking", test_msix_masking);
    g_test_add_func("/q35/pci/intx-routing", test_intx);
    g_test_add_func("/q35/pci/ioapic-message", test_ioapic_message);
    g_test_add_func("/q35/pci/query-pci", test_query_pci);
    g_test_add_func("/q35/pci/placement", test_placement);
    return g_test_run();
}
