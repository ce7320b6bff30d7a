/*
 * pcie-pci-bridge: the PCIe-to-PCI bridge's configuration, its
 * conventional secondary bus, hot-plug onto that bus, and requester-ID
 * aliasing (PCIe-to-PCI/PCI-X Bridge 1.0, 2.3): DMA from every device
 * behind it carries (secondary bus, 00.0), so intel-iommu translates it
 * with the alias's context entry and names the alias in fault records.
 *
 * Topology (firmware numbers the buses depth first):
 *   00:05.0 pcie-root-port rp0        -> bus 1
 *     01:00.0 pcie-pci-bridge br1     -> bus 2: edu 02:03.0, edu 02:04.0
 *   00:06.0 pcie-pci-bridge br0       -> bus 3: edu 03:03.0
 */
#include <string.h>
#include <glib.h>

#include "libqtest.h"
#include "libvtd.h"

#define TOPOLOGY        "-device pcie-root-port,id=rp0,addr=05.0,chassis=1," \
                        "slot=1 -device pcie-pci-bridge,id=br1,bus=rp0 " \
                        "-device edu,bus=br1,addr=03.0 " \
                        "-device edu,bus=br1,addr=04.0 " \
                        "-device pcie-pci-bridge,id=br0,addr=06.0 " \
                        "-device edu,bus=br0,addr=03.0"
#define BR0_DEVFN       (6 << 3)
#define BR1_BUS         2
#define BR0_BUS         3
#define EDU_A           (3 << 3)
#define EDU_B           (4 << 3)
#define ALIAS_SID(bus)  ((bus) << 8)        /* (secondary bus, 00.0) */

#define PCI_COMMAND     0x04
#define PCI_HEADER_TYPE 0x0e
#define PCI_SECONDARY_BUS 0x19
#define PCI_SUBORDINATE_BUS 0x1a
#define PCI_CAP_ID_EXP  0x10
#define PCI_EXP_TYPE_PCI_BRIDGE 0x7

#define DID             3
#define GPA_SRC         0x00300000ULL
#define GPA_DST         0x00400000ULL
#define IOVA_SRC        0x0a000000ULL
#define IOVA_DST        0x0a100000ULL
#define IOVA_UNMAPPED   0x0b000000ULL
#define LEN             256

/* Identity, type 1 header and a PCIe capability of type PCI/PCI-X bridge
 * (QEMU's 1b36:000e); the bus behind holds conventional functions. */
static void check_bridge(QTestState *s, int bus, int devfn, int sec)
{
    uint8_t cap;

    g_assert_cmphex(qpci_config_readl(s, bus, devfn, 0), ==, 0x000e1b36);
    g_assert_cmphex(qpci_config_readw(s, bus, devfn, 0x0a), ==, 0x0604);
    g_assert_cmphex(qpci_config_readb(s, bus, devfn, PCI_HEADER_TYPE), ==,
                    0x01);
    cap = qpci_find_capability(s, bus, devfn, PCI_CAP_ID_EXP);
    g_assert_cmpuint(cap, !=, 0);
    g_assert_cmphex((qpci_config_readw(s, bus, devfn, cap + 2) >> 4) & 0xf,
                    ==, PCI_EXP_TYPE_PCI_BRIDGE);
    g_assert_cmpuint(qpci_config_readb(s, bus, devfn, PCI_SECONDARY_BUS), ==,
                     sec);
    g_assert_cmpuint(qpci_config_readb(s, bus, devfn, PCI_SUBORDINATE_BUS),
                     ==, sec);
}

static void test_config(void)
{
    QTestState *s = qtest_init(TOPOLOGY);

    check_bridge(s, 1, 0, BR1_BUS);
    check_bridge(s, 0, BR0_DEVFN, BR0_BUS);
    /* configuration cycles are forwarded to the conventional buses */
    g_assert_cmphex(qpci_config_readl(s, BR1_BUS, EDU_A, 0), ==, 0x11e81234);
    g_assert_cmphex(qpci_config_readl(s, BR1_BUS, EDU_B, 0), ==, 0x11e81234);
    g_assert_cmphex(qpci_config_readl(s, BR0_BUS, EDU_A, 0), ==, 0x11e81234);
    g_assert_cmphex(qpci_config_readl(s, BR0_BUS, EDU_B, 0), ==, 0xffffffff);
    /* the edu behind is not PCIe: no PCIe capability */
    g_assert_cmpuint(qpci_find_capability(s, BR1_BUS, EDU_A, PCI_CAP_ID_EXP),
                     ==, 0);
    qtest_quit(s);
}

/*
 * Hot-plug onto the bridge's bus works at once (no SHPC: no event), and so
 * does removal; the bridge itself is cold plugged only.
 */
static void test_hotplug(void)
{
    QTestState *s = qtest_init(TOPOLOGY " -device pcie-root-port,id=rp1,"
                               "addr=07.0,chassis=1,slot=2");
    JsonObject *rsp;
    g_autofree char *err = NULL;

    qtest_qmp_device_add(s, "edu", "hp", "\"bus\": \"br0\", "
                         "\"addr\": \"05.0\"");
    g_assert_cmphex(qpci_config_readl(s, BR0_BUS, 5 << 3, 0), ==, 0x11e81234);
    qtest_qmp_device_del(s, "hp");
    g_assert_cmphex(qpci_config_readl(s, BR0_BUS, 5 << 3, 0), ==, 0xffffffff);

    rsp = qtest_qmp(s, "{\"execute\": \"device_add\", \"arguments\": "
                    "{\"driver\": \"pcie-pci-bridge\", \"id\": \"br2\", "
                    "\"bus\": \"rp1\"}}");
    err = qmp_expect_error(rsp, "GenericError");
    g_assert_cmpstr(err, ==,
                    "Device 'pcie-pci-bridge' does not support hotplugging");
    json_object_unref(rsp);
    qtest_quit(s);
}

/* Pattern at GPA_SRC, moved IOVA_SRC -> edu -> IOVA_DST, found at GPA_DST. */
static void check_copy(VTDTest *t, VTDEdu *e, uint8_t seed)
{
    uint8_t in[LEN], out[LEN];

    vtd_fill(in, sizeof(in), seed);
    qtest_memwrite(t->s, GPA_SRC, in, sizeof(in));
    qtest_memset(t->s, GPA_DST, 0, sizeof(out));
    g_assert_true(vtd_edu_read(t, e, IOVA_SRC, LEN));
    g_assert_true(vtd_edu_write(t, e, IOVA_DST, LEN));
    qtest_memread(t->s, GPA_DST, out, sizeof(out));
    g_assert_cmpmem(out, sizeof(out), in, sizeof(in));
}

/*
 * Only the alias (2, 00.0) has a context entry: both edus behind br1 are
 * translated through it, a miss is reported with the alias's SID, and the
 * edu behind br0 (bus 3, no root entry) faults as (3, 00.0).
 */
static void test_vtd_alias(void)
{
    VTDTest t;
    VTDPageTable pt;
    VTDEdu a, b, c;

    vtd_test_start(&t, "", TOPOLOGY);
    vtd_edu_init(&t, &a, BR1_BUS, EDU_A, 0);
    vtd_edu_init(&t, &b, BR1_BUS, EDU_B, 0);
    vtd_edu_init(&t, &c, BR0_BUS, EDU_A, 0);
    vtd_legacy_root_new(&t);
    vtd_pt_init(&t, &pt, 4, false);
    vtd_legacy_map_device(&t, BR1_BUS, 0, pt.root, VTD_AW_48, DID);
    vtd_pt_map(&t, &pt, IOVA_SRC, GPA_SRC, 4096, VTD_SL_R);
    vtd_pt_map(&t, &pt, IOVA_DST, GPA_DST, 4096, VTD_SL_RW);
    vtd_enable_dmar(&t);

    check_copy(&t, &a, 0x11);
    check_copy(&t, &b, 0x22);
    vtd_expect_no_fault(&t);

    g_assert_false(vtd_edu_read(&t, &b, IOVA_UNMAPPED, LEN));
    vtd_expect_one_fault(&t, VTD_FR_READ, ALIAS_SID(BR1_BUS), IOVA_UNMAPPED,
                         false);
    g_assert_false(vtd_edu_read(&t, &c, IOVA_SRC, LEN));
    vtd_expect_one_fault(&t, VTD_FR_ROOT_P, ALIAS_SID(BR0_BUS), IOVA_SRC,
                         false);
    vtd_test_quit(&t);
}

/* A context entry for a device's own requester ID is never used. */
static void test_vtd_own_rid_unused(void)
{
    VTDTest t;
    VTDPageTable pt;
    VTDEdu a;

    vtd_test_start(&t, "", TOPOLOGY);
    vtd_edu_init(&t, &a, BR1_BUS, EDU_A, 0);
    vtd_legacy_root_new(&t);
    vtd_pt_init(&t, &pt, 4, false);
    vtd_legacy_map_device(&t, BR1_BUS, EDU_A, pt.root, VTD_AW_48, DID);
    vtd_pt_map(&t, &pt, IOVA_SRC, GPA_SRC, 4096, VTD_SL_R);
    vtd_enable_dmar(&t);

    g_assert_false(vtd_edu_read(&t, &a, IOVA_SRC, LEN));
    vtd_expect_one_fault(&t, VTD_FR_CTX_P, ALIAS_SID(BR1_BUS), IOVA_SRC,
                         false);
    vtd_test_quit(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pci-bridge/config", test_config);
    g_test_add_func("/pci-bridge/hotplug", test_hotplug);
    g_test_add_func("/pci-bridge/intel-iommu/alias-context",
                    test_vtd_alias);
    g_test_add_func("/pci-bridge/intel-iommu/own-rid-unused",
                    test_vtd_own_rid_unused);
    return g_test_run();
}
