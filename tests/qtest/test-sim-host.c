/*
 * -object sim-host / sim-pci-device from the command line and over QMP:
 * properties read back with qom-get, values refused with a message naming
 * the property, object-del refused while the host still has a device, one
 * simulated host per process, and `-object sim-host,help`.
 */
#include <string.h>
#include <glib.h>

#include "libqtest.h"

#define ARGS "-machine none -object sim-host,id=h0 " \
             "-object sim-pci-device,id=d0,sim-host=h0,host=0000:02:00.0," \
             "iommu-group=5"

/* Runs a command that must fail; returns the error description. */
static char *qmp_error(QTestState *s, const char *cmd)
{
    JsonObject *rsp = qtest_qmp(s, "%s", cmd);
    char *desc = qmp_expect_error(rsp, "GenericError");

    json_object_unref(rsp);
    return desc;
}

static void test_properties(void)
{
    QTestState *s = qtest_init(ARGS);
    g_autofree char *iommu = qtest_qom_get_str(s, "/objects/h0", "iommu");
    g_autofree char *resv = qtest_qom_get_str(s, "/objects/h0", "reserved-regions");
    g_autofree char *root = qtest_qom_get_str(s, "/objects/h0", "root");
    g_autofree char *bdf = qtest_qom_get_str(s, "/objects/d0", "host");
    g_autofree char *link = qtest_qom_get_str(s, "/objects/d0", "sim-host");
    g_autofree char *model = qtest_qom_get_str(s, "/objects/d0", "model");
    g_autofree char *group_node = g_build_filename(root, "dev/vfio/5", NULL);

    g_assert_cmpstr(iommu, ==, "vtd");
    g_assert_cmpint(qtest_qom_get_int(s, "/objects/h0", "aw-bits"), ==, 48);
    g_assert_true(qtest_qom_get_bool(s, "/objects/h0", "nesting"));
    g_assert_true(qtest_qom_get_bool(s, "/objects/h0", "iommufd"));
    g_assert_false(qtest_qom_get_bool(s, "/objects/h0", "erratum-spr17"));
    g_assert_cmpint(qtest_qom_get_int(s, "/objects/h0", "pasid-bits"), ==, 20);
    g_assert_cmpint(qtest_qom_get_int(s, "/objects/h0", "pgsizes"), ==,
                    0x40201000);
    g_assert_cmpint(qtest_qom_get_int(s, "/objects/h0", "dma-entry-limit"), ==,
                    65535);
    g_assert_cmpstr(resv, ==, "0xfee00000-0xfeefffff");
    /* CAP/ECAP derived from the knobs: nonzero for VT-d */
    g_assert_cmpint(qtest_qom_get_int(s, "/objects/h0", "vtd-cap"), !=, 0);
    g_assert_cmpint(qtest_qom_get_int(s, "/objects/h0", "vtd-ecap"), !=, 0);
    /* the private tree exists with the device's group node */
    g_assert_true(g_str_has_prefix(root, "/"));
    g_assert_true(g_file_test(group_node, G_FILE_TEST_EXISTS));

    g_assert_cmpstr(bdf, ==, "0000:02:00.0");
    g_assert_cmpint(qtest_qom_get_int(s, "/objects/d0", "iommu-group"), ==, 5);
    g_assert_cmpstr(link, ==, "/objects/h0");
    g_assert_cmpstr(model, ==, "dma");

    /* fixed once created */
    {
        g_autofree char *e = qmp_error(s, "{\"execute\": \"qom-set\", "
            "\"arguments\": {\"path\": \"/objects/h0\", "
            "\"property\": \"aw-bits\", \"value\": 39}}");

        g_assert_nonnull(strstr(e, "aw-bits"));
        g_assert_nonnull(strstr(e, "cannot be changed"));
    }
    qtest_quit(s);
    /* the host's directory goes with the process */
    g_assert_false(g_file_test(root, G_FILE_TEST_EXISTS));
}

static void test_del_in_use(void)
{
    QTestState *s = qtest_init(ARGS);
    g_autofree char *root = qtest_qom_get_str(s, "/objects/h0", "root");
    int fds = qtest_count_fds(s);
    g_autofree char *e = qmp_error(s, "{\"execute\": \"object-del\", "
                                   "\"arguments\": {\"id\": \"h0\"}}");

    g_assert_nonnull(strstr(e, "in use"));
    /* a device comes and goes without leaking */
    for (int i = 0; i < 20; i++) {
        qtest_qmp_assert_success(s, "{\"execute\": \"object-add\", "
            "\"arguments\": {\"qom-type\": \"sim-pci-device\", \"id\": "
            "\"x%d\", \"sim-host\": \"h0\", \"host\": \"0000:03:00.%d\", "
            "\"iommu-group\": 5}}", i, i % 8);
        qtest_qmp_assert_success(s, "{\"execute\": \"object-del\", "
            "\"arguments\": {\"id\": \"x%d\"}}", i);
    }
    g_assert_cmpint(qtest_count_fds(s), ==, fds);

    qtest_qmp_assert_success(s, "{\"execute\": \"object-del\", "
                             "\"arguments\": {\"id\": \"d0\"}}");
    qtest_qmp_assert_success(s, "{\"execute\": \"object-del\", "
                             "\"arguments\": {\"id\": \"h0\"}}");
    g_assert_false(g_file_test(root, G_FILE_TEST_EXISTS));
    /* a new host may come once the old one is gone */
    qtest_qmp_assert_success(s, "{\"execute\": \"object-add\", "
        "\"arguments\": {\"qom-type\": \"sim-host\", \"id\": \"h1\", "
        "\"iommu\": \"none\", \"iommufd\": false, \"cdev\": false}}");
    qtest_qmp_assert_success(s, "{\"execute\": \"object-del\", "
                             "\"arguments\": {\"id\": \"h1\"}}");
    qtest_quit(s);
}

/* Hostile values: each refused with the object and the property named. */
static void test_bad_values(void)
{
    static const struct {
        const char *members;
        const char *needle;
    } host_cases[] = {
        { "\"aw-bits\": 40", "'aw-bits' must be 39, 48 or 57" },
        { "\"aw-bits\": -1", "parameter 'aw-bits' expects uint32" },
        { "\"iommu\": \"amd\"", "'iommu' must be one of vtd" },
        { "\"iommu\": 3", "type for 'iommu', expected: string" },
        { "\"pasid-bits\": 21", "'pasid-bits' must be 0 to 20" },
        { "\"pgsizes\": 2048", "'pgsizes' must be a bitmap" },
        { "\"pgsizes\": 0", "'pgsizes' must be a bitmap" },
        { "\"reserved-regions\": \"5-1\"", "'reserved-regions' must be" },
        { "\"reserved-regions\": \"1-2,iommu=none\"",
          "'reserved-regions' must be" },
        { "\"nesting\": \"maybe\"", "'nesting', expected: boolean" },
        { "\"root\": \"relative/dir\"", "'root' must be an absolute" },
        { "\"cdev\": true, \"iommufd\": false", "'cdev' must be off" },
    };
    static const struct {
        const char *members;
        const char *needle;
    } dev_cases[] = {
        { "\"host\": \"zz:00.0\"", "'host' must be a PCI address" },
        { "\"host\": \"0000:02:20.0\"", "'host' must be a PCI address" },
        { "\"host\": \"0000:04:00.0\", \"iommu-group\": -2",
          "'iommu-group' must be" },
        { "\"host\": \"0000:04:00.0\", \"model\": \"nic\"",
          "'model' must be a device model" },
        { "\"host\": \"0000:04:00.0\", \"pasid-bits\": 64",
          "'pasid-bits' must be" },
        { "\"host\": \"0000:02:00.0\", \"vendor-id\": 65536",
          "parameter 'vendor-id' expects uint16" },
        { "\"host\": \"02:00.0\"", "already has a device at 02:00.0" },
        { "", "'host' is required" },
    };
    QTestState *s = qtest_init(ARGS);

    for (size_t i = 0; i < G_N_ELEMENTS(host_cases); i++) {
        g_autofree char *cmd = NULL;
        g_autofree char *e = NULL;

        /* h0 exists, so first refuse a valid second host, then hide it */
        cmd = g_strdup_printf("{\"execute\": \"object-add\", \"arguments\": "
                              "{\"qom-type\": \"sim-host\", \"id\": \"bad\", "
                              "%s}}", host_cases[i].members);
        e = qmp_error(s, cmd);
        if (!strstr(e, host_cases[i].needle)) {
            g_test_message("%s: got '%s'", host_cases[i].members, e);
            g_test_fail();
        }
        g_assert_nonnull(strstr(e, "sim-host"));
    }
    for (size_t i = 0; i < G_N_ELEMENTS(dev_cases); i++) {
        g_autofree char *cmd = NULL;
        g_autofree char *e = NULL;

        cmd = g_strdup_printf("{\"execute\": \"object-add\", \"arguments\": "
                              "{\"qom-type\": \"sim-pci-device\", \"id\": "
                              "\"bad\", \"sim-host\": \"h0\"%s%s}}",
                              dev_cases[i].members[0] ? ", " : "",
                              dev_cases[i].members);
        e = qmp_error(s, cmd);
        if (!strstr(e, dev_cases[i].needle)) {
            g_test_message("%s: got '%s'", dev_cases[i].members, e);
            g_test_fail();
        }
    }
    {
        g_autofree char *e = qmp_error(s, "{\"execute\": \"object-add\", "
            "\"arguments\": {\"qom-type\": \"sim-host\", \"id\": \"h2\"}}");

        g_assert_nonnull(strstr(e, "one sim-host per process"));
    }
    {
        g_autofree char *e = qmp_error(s, "{\"execute\": \"object-add\", "
            "\"arguments\": {\"qom-type\": \"sim-pci-device\", \"id\": "
            "\"d9\", \"host\": \"0000:09:00.0\"}}");

        g_assert_nonnull(strstr(e, "'sim-host' is required"));
    }
    {
        /* the failure-injection hook refuses what it cannot parse */
        static const char *const inject[] = {
            "\"hwpt-free:22\"", "\"attach\"", "\"attach:0\"",
            "\"attach:4096\"", "\"attach:22:x\"", "\"attach:22:1:2\"",
            "\"attach:-1\"", "7",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(inject); i++) {
            g_autofree char *cmd = g_strdup_printf(
                "{\"execute\": \"qom-set\", \"arguments\": {\"path\": "
                "\"/objects/h0\", \"property\": \"x-inject\", "
                "\"value\": %s}}", inject[i]);
            g_autofree char *e = qmp_error(s, cmd);

            g_assert_nonnull(strstr(e, "'x-inject'"));
        }
        qtest_qmp_assert_success(s, "{\"execute\": \"qom-set\", "
            "\"arguments\": {\"path\": \"/objects/h0\", \"property\": "
            "\"x-inject\", \"value\": \"hwpt-alloc:22:3\"}}");
        qtest_qmp_assert_success(s, "{\"execute\": \"qom-set\", "
            "\"arguments\": {\"path\": \"/objects/h0\", \"property\": "
            "\"x-inject\", \"value\": \"\"}}");
        /* nr-hwpts is read-only */
        g_autofree char *e = qmp_error(s, "{\"execute\": \"qom-set\", "
            "\"arguments\": {\"path\": \"/objects/h0\", \"property\": "
            "\"nr-hwpts\", \"value\": 3}}");

        g_assert_nonnull(strstr(e, "nr-hwpts"));
        g_assert_cmpint(qtest_qom_get_int(s, "/objects/h0", "nr-hwpts"), ==,
                        0);
    }
    qtest_quit(s);
}

static void test_help(void)
{
    static const char *const host_props[] = {
        "iommu=<SimHostIommu>", "aw-bits=<uint32>", "nesting=<bool>",
        "fs1gp=<bool>", "dirty-tracking=<bool>", "pasid-bits=<uint32>",
        "erratum-spr17=<bool>", "pgsizes=<uint64>", "reserved-regions=<str>",
        "iommufd=<bool>", "cdev=<bool>", "dma-entry-limit=<uint32>",
        "root=<str>",
    };
    static const char *const dev_props[] = {
        "sim-host=<link<sim-host>>", "host=<str>", "iommu-group=<int32>",
        "model=<str>", "vendor-id=<uint16>", "device-id=<uint16>",
        "pasid-bits=<int32>", "dirty-tracking=<bool>",
    };
    int status;
    g_autofree char *host = NULL, *dev = NULL, *types = NULL;
    g_autofree char *err = qtest_run_binary("-object sim-host,help", &status,
                                            &host);

    g_assert_cmpint(status, ==, 0);
    g_assert_cmpstr(err, ==, "");
    g_assert_true(g_str_has_prefix(host, "sim-host options:\n"));
    for (size_t i = 0; i < G_N_ELEMENTS(host_props); i++) {
        g_assert_nonnull(strstr(host, host_props[i]));
    }
    g_assert_nonnull(strstr(host, "Input address width"));
    g_assert_nonnull(strstr(host, "(default: 48)"));
    g_assert_null(strstr(host, "vtd-cap"));     /* read-only */

    g_free(err);
    err = qtest_run_binary("-object sim-pci-device,help", &status, &dev);
    g_assert_cmpint(status, ==, 0);
    g_assert_cmpstr(err, ==, "");
    for (size_t i = 0; i < G_N_ELEMENTS(dev_props); i++) {
        g_assert_nonnull(strstr(dev, dev_props[i]));
    }
    g_free(err);
    err = qtest_run_binary("-object help", &status, &types);
    g_assert_cmpint(status, ==, 0);
    g_assert_cmpstr(err, ==, "");
    g_assert_nonnull(strstr(types, "  sim-host\n"));
    g_assert_nonnull(strstr(types, "  sim-pci-device\n"));
}

/* A device needs its host first on the command line, like any link. */
static void test_cli_errors(void)
{
    qtest_expect_startup_error("-machine none -object sim-pci-device,id=d0,"
                               "sim-host=h0,host=0000:02:00.0",
                               ": -object sim-pci-device,id=d0,sim-host=h0,"
                               "host=0000:02:00.0: Device 'h0' not found\n");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sim-host/properties", test_properties);
    g_test_add_func("/sim-host/object-del-refused-while-in-use",
                    test_del_in_use);
    g_test_add_func("/sim-host/bad-values-named", test_bad_values);
    g_test_add_func("/sim-host/help", test_help);
    g_test_add_func("/sim-host/cli-device-before-host", test_cli_errors);
    return g_test_run();
}
