/*
 * PCIe hot-plug through pcie-root-port: device_add/device_del on its
 * secondary bus, the slot registers, the errors QEMU users know, and
 * add/del cycles that leak nothing.
 */
#include <string.h>
#include <glib.h>

#include "libqtest.h"

#define RP_DEVFN        (4 << 3)
#define RP_ARGS         "-M q35 -device pcie-root-port,id=rp0,addr=04.0," \
                        "chassis=1,slot=1"

#define PCI_VENDOR_ID           0x00
#define PCI_COMMAND             0x04
#define  PCI_COMMAND_MEMORY     0x2
#define PCI_BASE_ADDRESS_0      0x10
#define PCI_PRIMARY_BUS         0x18
#define PCI_SECONDARY_BUS       0x19
#define PCI_SUBORDINATE_BUS     0x1a
#define PCI_MEMORY_BASE         0x20
#define PCI_MEMORY_LIMIT        0x22
#define PCI_CAP_ID_EXP          0x10
#define PCI_EXP_SLTCAP          0x14
#define PCI_EXP_SLTCTL          0x18
#define  PCI_EXP_SLTCTL_ABPE    0x0001
#define  PCI_EXP_SLTCTL_HPIE    0x0020
#define  PCI_EXP_SLTCTL_PCC     0x0400
#define PCI_EXP_SLTSTA          0x1a
#define  PCI_EXP_SLTSTA_ABP     0x0001
#define  PCI_EXP_SLTSTA_PDC     0x0008
#define  PCI_EXP_SLTSTA_PDS     0x0040
#define PCI_EXP_LNKSTA          0x12
#define  PCI_EXP_LNKSTA_DLLLA   0x2000

static void assert_qmp_error(JsonObject *rsp, const char *desc)
{
    g_autofree char *got = qmp_expect_error(rsp, "GenericError");

    g_assert_cmpstr(got, ==, desc);
    json_object_unref(rsp);
}

static JsonObject *device_add(QTestState *s, const char *args)
{
    return qtest_qmp(s, "{\"execute\": \"device_add\", \"arguments\": {%s}}",
                     args);
}

static uint16_t slot_status(QTestState *s, uint8_t exp)
{
    return qpci_config_readw(s, 0, RP_DEVFN, exp + PCI_EXP_SLTSTA);
}

static void test_add_del(void)
{
    QTestState *s = qtest_init(RP_ARGS);
    uint8_t exp = qpci_find_capability(s, 0, RP_DEVFN, PCI_CAP_ID_EXP);
    uint32_t win;
    JsonObject *ev, *data;

    /* Firmware numbered the bus behind the port and gave it a window. */
    g_assert_cmphex(qpci_config_readb(s, 0, RP_DEVFN, PCI_PRIMARY_BUS), ==, 0);
    g_assert_cmphex(qpci_config_readb(s, 0, RP_DEVFN, PCI_SECONDARY_BUS), ==,
                    1);
    g_assert_cmphex(qpci_config_readb(s, 0, RP_DEVFN, PCI_SUBORDINATE_BUS),
                    ==, 1);
    g_assert_cmphex(qpci_config_readl(s, 0, RP_DEVFN, exp + PCI_EXP_SLTCAP) >>
                    19, ==, 1);
    g_assert_cmphex(slot_status(s, exp) & PCI_EXP_SLTSTA_PDS, ==, 0);
    g_assert_cmphex(qpci_config_readl(s, 1, 0, PCI_VENDOR_ID), ==, 0xffffffff);

    qtest_qmp_device_add(s, "edu", "e1", "\"bus\": \"rp0\"");
    g_assert_cmphex(qpci_config_readl(s, 1, 0, PCI_VENDOR_ID), ==, 0x11e81234);
    g_assert_cmphex(qtest_readl(s, 0xb0000000 + (1 << 20)), ==, 0x11e81234);
    g_assert_cmphex(slot_status(s, exp) &
                    (PCI_EXP_SLTSTA_PDS | PCI_EXP_SLTSTA_PDC), ==,
                    PCI_EXP_SLTSTA_PDS | PCI_EXP_SLTSTA_PDC);
    g_assert_cmphex(qpci_config_readw(s, 0, RP_DEVFN, exp + PCI_EXP_LNKSTA) &
                    PCI_EXP_LNKSTA_DLLLA, ==, PCI_EXP_LNKSTA_DLLLA);

    /* The guest places the new BAR in the port's window and uses it. */
    win = (uint32_t)qpci_config_readw(s, 0, RP_DEVFN, PCI_MEMORY_BASE) << 16;
    g_assert_cmphex(win, !=, 0);
    g_assert_cmphex(((uint32_t)qpci_config_readw(s, 0, RP_DEVFN,
                                                 PCI_MEMORY_LIMIT) << 16 |
                     0xfffff) - win + 1, >=, 1 << 20);
    qpci_config_writel(s, 1, 0, PCI_BASE_ADDRESS_0, win);
    qpci_config_writew(s, 1, 0, PCI_COMMAND, PCI_COMMAND_MEMORY);
    g_assert_cmphex(qtest_readl(s, win), ==, 0x010000ed);
    /* Outside the window the bridge forwards nothing. */
    qpci_config_writel(s, 1, 0, PCI_BASE_ADDRESS_0, 0xe0000000);
    g_assert_cmphex(qtest_readl(s, 0xe0000000), ==, 0);
    qpci_config_writel(s, 1, 0, PCI_BASE_ADDRESS_0, win);
    /* Nor with the port's memory decode off. */
    qpci_config_writew(s, 0, RP_DEVFN, PCI_COMMAND, 0);
    g_assert_cmphex(qtest_readl(s, win), ==, 0);
    qpci_config_writew(s, 0, RP_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY);
    g_assert_cmphex(qtest_readl(s, win), ==, 0x010000ed);

    qtest_qmp_assert_success(s, "{\"execute\": \"device_del\", "
                             "\"arguments\": {\"id\": \"e1\"}}");
    ev = qtest_qmp_eventwait_ref(s, "DEVICE_DELETED");
    data = json_object_get_object_member(ev, "data");
    g_assert_cmpstr(json_object_get_string_member(data, "device"), ==, "e1");
    g_assert_cmpstr(json_object_get_string_member(data, "path"), ==,
                    "/machine/peripheral/e1");
    json_object_unref(ev);
    g_assert_cmphex(qpci_config_readl(s, 1, 0, PCI_VENDOR_ID), ==, 0xffffffff);
    g_assert_cmphex(qtest_readl(s, win), ==, 0);
    g_assert_cmphex(slot_status(s, exp) & PCI_EXP_SLTSTA_PDS, ==, 0);
    qtest_quit(s);
}

static void test_root_bus_refused(void)
{
    QTestState *s = qtest_init(RP_ARGS " -device edu,id=cold");

    assert_qmp_error(device_add(s, "\"driver\": \"edu\", \"id\": \"x\""),
                     "Bus 'pcie.0' does not support hotplugging");
    assert_qmp_error(device_add(s, "\"driver\": \"edu\", \"id\": \"x\", "
                                "\"bus\": \"pcie.0\""),
                     "Bus 'pcie.0' does not support hotplugging");
    assert_qmp_error(qtest_qmp(s, "{\"execute\": \"device_del\", "
                               "\"arguments\": {\"id\": \"cold\"}}"),
                     "Bus 'pcie.0' does not support hotplugging");
    assert_qmp_error(qtest_qmp(s, "{\"execute\": \"device_del\", "
                               "\"arguments\": {\"id\": \"rp0\"}}"),
                     "Device 'pcie-root-port' does not support hotplugging");
    qtest_quit(s);
}

static void test_errors(void)
{
    QTestState *s = qtest_init(RP_ARGS);

    qtest_qmp_device_add(s, "edu", "e1", "\"bus\": \"rp0\"");
    assert_qmp_error(device_add(s, "\"driver\": \"edu\", \"id\": \"e1\", "
                                "\"bus\": \"rp0\""),
                     "Duplicate device ID 'e1'");
    assert_qmp_error(device_add(s, "\"driver\": \"edu\", \"id\": \"rp0\", "
                                "\"bus\": \"rp0\""),
                     "Duplicate device ID 'rp0'");
    assert_qmp_error(device_add(s, "\"driver\": \"edu\", \"id\": \"e2\", "
                                "\"bus\": \"rp0\", \"addr\": \"00.0\""),
                     "PCI: slot 0 function 0 not available for edu, in use "
                     "by edu,id=e1");
    assert_qmp_error(device_add(s, "\"driver\": \"edu\", \"id\": \"e2\", "
                                "\"bus\": \"rp0\""),
                     "PCI: no slot/function available for edu, all in use "
                     "or reserved");
    assert_qmp_error(device_add(s, "\"driver\": \"edu\", \"id\": \"e2\", "
                                "\"bus\": \"rp0\", \"addr\": \"01.0\""),
                     "PCI: slot 1 is not valid for edu, parent device only "
                     "allows plugging into slot 0.");
    assert_qmp_error(device_add(s, "\"driver\": \"edu\", \"id\": \"e2\", "
                                "\"bus\": \"rp0\", \"addr\": \"zz\""),
                     "Property 'edu.addr' doesn't take value 'zz'");
    /* Failed adds leave nothing behind; the slot still works. */
    qtest_qmp_device_del(s, "e1");
    qtest_qmp_device_add(s, "edu", "e2", "\"bus\": \"rp0\", \"addr\": 0");
    g_assert_cmphex(qpci_config_readl(s, 1, 0, PCI_VENDOR_ID), ==, 0x11e81234);
    qtest_qmp_device_del(s, "e2");
    qtest_quit(s);
}

static gint cmp_str_ptr(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *qom_list_names(QTestState *s, const char *path)
{
    JsonObject *rsp = qtest_qmp(s, "{\"execute\": \"qom-list\", "
                                "\"arguments\": {\"path\": \"%s\"}}", path);
    JsonArray *arr = json_node_get_array(qmp_expect_return(rsp));
    GPtrArray *names = g_ptr_array_new();
    char *joined;

    for (guint i = 0; i < json_array_get_length(arr); i++) {
        g_ptr_array_add(names, (char *)json_object_get_string_member(
            json_array_get_object_element(arr, i), "name"));
    }
    g_ptr_array_sort(names, cmp_str_ptr);
    g_ptr_array_add(names, NULL);
    joined = g_strjoinv(",", (char **)names->pdata);
    g_ptr_array_free(names, true);
    json_object_unref(rsp);
    return joined;
}

static void test_cycles(void)
{
    QTestState *s = qtest_init(RP_ARGS);
    g_autofree char *periph = NULL, *anon = NULL, *rp = NULL;
    int fds;

    /* One warm-up cycle, so lazily made things exist before counting. */
    qtest_qmp_device_add(s, "edu", "e1", "\"bus\": \"rp0\"");
    qtest_qmp_device_del(s, "e1");
    fds = qtest_count_fds(s);
    periph = qom_list_names(s, "/machine/peripheral");
    anon = qom_list_names(s, "/machine/peripheral-anon");
    rp = qom_list_names(s, "/machine/peripheral/rp0/rp0");

    for (int i = 0; i < 100; i++) {
        qtest_qmp_device_add(s, "edu", "e1", "\"bus\": \"rp0\"");
        g_assert_cmphex(qpci_config_readl(s, 1, 0, PCI_VENDOR_ID), ==,
                        0x11e81234);
        qtest_qmp_device_del(s, "e1");
    }
    g_assert_cmphex(qpci_config_readl(s, 1, 0, PCI_VENDOR_ID), ==, 0xffffffff);
    g_assert_cmpint(qtest_count_fds(s), ==, fds);
    {
        g_autofree char *p2 = qom_list_names(s, "/machine/peripheral");
        g_autofree char *a2 = qom_list_names(s, "/machine/peripheral-anon");
        g_autofree char *r2 = qom_list_names(s,
                                             "/machine/peripheral/rp0/rp0");

        g_assert_cmpstr(p2, ==, periph);
        g_assert_cmpstr(a2, ==, anon);
        g_assert_cmpstr(r2, ==, rp);
    }
    qtest_quit(s);
}

/* With pciehp's interrupts enabled, removal waits for the guest. */
static void test_guest_unplug(void)
{
    QTestState *s = qtest_init(RP_ARGS);
    uint8_t exp = qpci_find_capability(s, 0, RP_DEVFN, PCI_CAP_ID_EXP);
    uint16_t ctl;
    JsonObject *ev;

    qtest_qmp_device_add(s, "edu", "e1", "\"bus\": \"rp0\"");
    ctl = qpci_config_readw(s, 0, RP_DEVFN, exp + PCI_EXP_SLTCTL);
    g_assert_cmphex(ctl & PCI_EXP_SLTCTL_PCC, ==, 0);
    ctl |= PCI_EXP_SLTCTL_HPIE | PCI_EXP_SLTCTL_ABPE;
    qpci_config_writew(s, 0, RP_DEVFN, exp + PCI_EXP_SLTCTL, ctl);
    qpci_config_writew(s, 0, RP_DEVFN, exp + PCI_EXP_SLTSTA, 0xffff);
    g_assert_cmphex(slot_status(s, exp) & ~PCI_EXP_SLTSTA_PDS, ==, 0);

    qtest_qmp_assert_success(s, "{\"execute\": \"device_del\", "
                             "\"arguments\": {\"id\": \"e1\"}}");
    g_assert_null(qtest_qmp_event_ref(s, "DEVICE_DELETED"));
    g_assert_cmphex(slot_status(s, exp) & PCI_EXP_SLTSTA_ABP, ==,
                    PCI_EXP_SLTSTA_ABP);
    g_assert_cmphex(qpci_config_readl(s, 1, 0, PCI_VENDOR_ID), ==, 0x11e81234);
    assert_qmp_error(qtest_qmp(s, "{\"execute\": \"device_del\", "
                               "\"arguments\": {\"id\": \"e1\"}}"),
                     "Device e1 is already in the process of unplug");

    /* pciehp powers the slot off: the device goes. */
    qpci_config_writew(s, 0, RP_DEVFN, exp + PCI_EXP_SLTSTA,
                       PCI_EXP_SLTSTA_ABP);
    qpci_config_writew(s, 0, RP_DEVFN, exp + PCI_EXP_SLTCTL,
                       ctl | PCI_EXP_SLTCTL_PCC);
    ev = qtest_qmp_eventwait_ref(s, "DEVICE_DELETED");
    json_object_unref(ev);
    g_assert_cmphex(qpci_config_readl(s, 1, 0, PCI_VENDOR_ID), ==, 0xffffffff);
    g_assert_cmphex(slot_status(s, exp) & PCI_EXP_SLTSTA_PDS, ==, 0);
    qtest_quit(s);
}

/* A device behind the port does DMA and MSI like one on the root bus. */
static void test_dma_behind_port(void)
{
    QTestState *s = qtest_init(RP_ARGS);
    uint32_t win;
    uint8_t msi, pattern[64], out[64];
    uint64_t addr;
    uint32_t data;

    qtest_qmp_device_add(s, "edu", "e1", "\"bus\": \"rp0\"");
    win = (uint32_t)qpci_config_readw(s, 0, RP_DEVFN, PCI_MEMORY_BASE) << 16;
    qpci_config_writel(s, 1, 0, PCI_BASE_ADDRESS_0, win);
    qpci_device_enable(s, 1, 0);

    for (size_t i = 0; i < sizeof(pattern); i++) {
        pattern[i] = i ^ 0xa5;
    }
    qtest_memwrite(s, 0x100000, pattern, sizeof(pattern));
    qtest_writeq(s, win + 0x80, 0x100000);
    qtest_writeq(s, win + 0x88, 0x40000);
    qtest_writeq(s, win + 0x90, sizeof(pattern));
    qtest_writel(s, win + 0x98, 1);
    qtest_clock_step_next(s);
    qtest_writeq(s, win + 0x80, 0x40000);
    qtest_writeq(s, win + 0x88, 0x180000);
    qtest_writel(s, win + 0x98, 3);
    qtest_clock_step_next(s);
    g_assert_cmphex(qtest_readl(s, win + 0x98), ==, 2);
    qtest_memread(s, 0x180000, out, sizeof(out));
    g_assert_cmpmem(out, sizeof(out), pattern, sizeof(pattern));

    msi = qpci_find_capability(s, 1, 0, 0x05);
    qpci_config_writel(s, 1, 0, msi + 4, 0xfee00000);
    qpci_config_writew(s, 1, 0, msi + 0xc, 0x42);
    qpci_config_writew(s, 1, 0, msi + 2, 0x81);
    qtest_writel(s, win + 0x60, 1);
    g_assert_true(qtest_msi_pop(s, &addr, &data));
    g_assert_cmphex(data, ==, 0x42);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/q35/hotplug/root-port/add-del", test_add_del);
    g_test_add_func("/q35/hotplug/root-bus-refused", test_root_bus_refused);
    g_test_add_func("/q35/hotplug/errors", test_errors);
    g_test_add_func("/q35/hotplug/100-cycles-leak-nothing", test_cycles);
    g_test_add_func("/q35/hotplug/guest-completes-unplug", test_guest_unplug);
    g_test_add_func("/q35/hotplug/dma-behind-root-port", test_dma_behind_port);
    return g_test_run();
}
