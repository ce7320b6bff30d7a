/*
 * query-host-iommu-devices (qapi/host-iommu.json): an empty list without
 * assigned devices; with a legacy and an iommufd vfio-pci device, behind
 * intel-iommu (caching mode) and behind no vIOMMU, every field checked
 * against the simulated host's knobs; the host IOMMU devices seen with
 * qom-list/qom-get; the command in query-qmp-schema.
 */
#include <string.h>
#include <glib.h>

#include "libqtest.h"

/* Reserved: the MSI window and 4-8 GiB; pgsizes 4K|2M. */
#define RESV            "0xfee00000-0xfeefffff:0x100000000-0x1ffffffff"
#define PGSIZES         ((1ULL << 12) | (1ULL << 21))
#define SIM_ARGS        "-object sim-host,id=h0,aw-bits=57,pgsizes=0x201000," \
                        "reserved-regions=" RESV " " \
                        "-object sim-pci-device,id=d0,sim-host=h0," \
                        "host=0000:02:00.0,iommu-group=5 " \
                        "-object sim-pci-device,id=d1,sim-host=h0," \
                        "host=0000:03:00.0,iommu-group=6 " \
                        "-object iommufd,id=fd0 " \
                        "-device vfio-pci,host=0000:02:00.0,addr=04.0," \
                        "id=legacy0 " \
                        "-device vfio-pci,host=0000:03:00.0,addr=05.0," \
                        "id=fd_dev0,iommufd=fd0 "

static JsonNode *qmp_return(QTestState *s, const char *cmd)
{
    JsonObject *rsp = qtest_qmp(s, "%s", cmd);
    JsonNode *ret = json_node_copy(qmp_expect_return(rsp));

    json_object_unref(rsp);
    return ret;
}

static JsonObject *find_dev(JsonArray *a, const char *name)
{
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);

        if (!strcmp(json_object_get_string_member(o, "name"), name)) {
            return o;
        }
    }
    g_assert_not_reached();
}

static void check_ranges(JsonObject *o)
{
    static const uint64_t want[][2] = {
        { 0, 0xfedfffffULL },
        { 0xfef00000ULL, 0xffffffffULL },
        { 0x200000000ULL, (1ULL << 57) - 1 },
    };
    JsonArray *r = json_object_get_array_member(o, "iova-ranges");

    g_assert_cmpuint(json_array_get_length(r), ==, G_N_ELEMENTS(want));
    for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
        JsonObject *e = json_array_get_object_element(r, i);

        g_assert_cmphex(json_object_get_int_member(e, "start"), ==,
                        want[i][0]);
        g_assert_cmphex(json_object_get_int_member(e, "end"), ==,
                        want[i][1]);
    }
}

static void check_devices(QTestState *s, bool viommu)
{
    g_autoptr(JsonNode) ret =
        qmp_return(s, "{\"execute\": \"query-host-iommu-devices\"}");
    JsonArray *a = json_node_get_array(ret);
    JsonObject *l, *f;
    const char *lpath = "/machine/peripheral/legacy0/host-iommu-device";
    const char *fpath = "/machine/peripheral/fd_dev0/host-iommu-device";

    g_assert_cmpuint(json_array_get_length(a), ==, 2);
    l = find_dev(a, "0000:02:00.0");
    f = find_dev(a, "0000:03:00.0");

    /* legacy: no GET_HW_INFO, so no type, caps or VT-d registers */
    g_assert_cmpstr(json_object_get_string_member(l, "qom-path"), ==, lpath);
    g_assert_cmpstr(json_object_get_string_member(l, "agent"), ==,
                    "/machine/peripheral/legacy0");
    g_assert_cmpstr(json_object_get_string_member(l, "agent-id"), ==,
                    "legacy0");
    g_assert_cmpstr(json_object_get_string_member(l, "backend"), ==,
                    "legacy");
    g_assert_cmpstr(json_object_get_string_member(l, "iommu-type"), ==,
                    "none");
    g_assert_cmpint(json_object_get_int_member(l, "aw-bits"), ==, 57);
    g_assert_cmpint(json_object_get_int_member(l, "hw-caps"), ==, 0);
    g_assert_false(json_object_has_member(l, "vtd-cap"));
    g_assert_false(json_object_has_member(l, "vtd-ecap"));
    check_ranges(l);
    /* type1 reports the host's page sizes */
    g_assert_cmphex(json_object_get_int_member(l, "page-size-mask"), ==,
                    PGSIZES);
    g_assert_true(json_object_get_boolean_member(l, "accepted"));
    g_assert_false(json_object_has_member(l, "devid"));
    g_assert_false(json_object_has_member(l, "hwpt-id"));
    g_assert_false(json_object_has_member(l, "ioas-id"));

    /* iommufd: the VT-d registers are the sim host's */
    g_assert_cmpstr(json_object_get_string_member(f, "qom-path"), ==, fpath);
    g_assert_cmpstr(json_object_get_string_member(f, "agent-id"), ==,
                    "fd_dev0");
    g_assert_cmpstr(json_object_get_string_member(f, "backend"), ==,
                    "iommufd");
    g_assert_cmpstr(json_object_get_string_member(f, "iommu-type"), ==,
                    "intel-vtd");
    g_assert_cmpint(json_object_get_int_member(f, "aw-bits"), ==, 57);
    g_assert_cmphex(json_object_get_int_member(f, "vtd-cap"), ==,
                    (uint64_t)qtest_qom_get_int(s, "/objects/h0", "vtd-cap"));
    g_assert_cmphex(json_object_get_int_member(f, "vtd-ecap"), ==,
                    (uint64_t)qtest_qom_get_int(s, "/objects/h0", "vtd-ecap"));
    g_assert_cmphex(json_object_get_int_member(f, "hw-caps"), ==,
                    (uint64_t)qtest_qom_get_int(s, fpath, "hw-caps"));
    check_ranges(f);
    /* iommufd reports its IOVA alignment: the smallest page size */
    g_assert_cmphex(json_object_get_int_member(f, "page-size-mask"), ==,
                    1ULL << 12);
    g_assert_true(json_object_get_boolean_member(f, "accepted"));
    g_assert_cmpint(json_object_get_int_member(f, "devid"), ==,
                    (uint64_t)qtest_qom_get_int(s, fpath, "devid"));
    g_assert_cmpint(json_object_get_int_member(f, "devid"), >, 0);
    g_assert_cmpint(json_object_get_int_member(f, "hwpt-id"), ==,
                    (uint64_t)qtest_qom_get_int(s, fpath, "hwpt-id"));
    g_assert_cmpint(json_object_get_int_member(f, "hwpt-id"), >, 0);
    /* the IOAS: a third object of the same iommufd, not the HWPT */
    g_assert_cmpint(json_object_get_int_member(f, "ioas-id"), ==,
                    (uint64_t)qtest_qom_get_int(s, fpath, "ioas-id"));
    g_assert_cmpint(json_object_get_int_member(f, "ioas-id"), >, 0);
    g_assert_cmpint(json_object_get_int_member(f, "ioas-id"), !=,
                    json_object_get_int_member(f, "hwpt-id"));
    g_assert_cmpint(json_object_get_int_member(f, "ioas-id"), !=,
                    json_object_get_int_member(f, "devid"));

    for (int i = 0; i < 2; i++) {
        JsonObject *o = i ? f : l;

        g_autoptr(JsonNode) acc = qtest_qom_get(
            s, json_object_get_string_member(o, "agent"), "x-iommu-accepted");

        g_assert_true(json_node_get_boolean(acc));
        if (viommu) {
            g_autoptr(JsonNode) t = qtest_qom_get(
                s, json_object_get_string_member(o, "viommu"), "type");

            g_assert_cmpstr(json_node_get_string(t), ==, "intel-iommu");
        } else {
            g_assert_false(json_object_has_member(o, "viommu"));
        }
    }
}

/* qom-list of a host IOMMU device shows its properties; qom-get agrees. */
static void check_qom(QTestState *s)
{
    const char *lpath = "/machine/peripheral/legacy0/host-iommu-device";
    g_autofree char *cmd = g_strdup_printf(
        "{\"execute\": \"qom-list\", \"arguments\": {\"path\": \"%s\"}}",
        lpath);
    g_autoptr(JsonNode) ret = qmp_return(s, cmd);
    JsonArray *a = json_node_get_array(ret);
    static const char *const want[] = {
        "name", "iommu-type", "hw-caps", "vtd-cap", "vtd-ecap",
        "page-size-mask", "iova-ranges", "aw-bits", "nesting", "pasid-bits",
    };
    g_autoptr(JsonNode) name = NULL, ranges = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
        bool found = false;

        for (guint j = 0; j < json_array_get_length(a); j++) {
            JsonObject *p = json_array_get_object_element(a, j);

            found |= !strcmp(json_object_get_string_member(p, "name"),
                             want[i]);
        }
        g_assert_true(found);
    }
    name = qtest_qom_get(s, lpath, "name");
    g_assert_cmpstr(json_node_get_string(name), ==, "0000:02:00.0");
    g_assert_cmpuint((uint64_t)qtest_qom_get_int(s, lpath, "aw-bits"), ==, 57);
    g_assert_cmphex((uint64_t)qtest_qom_get_int(s, lpath, "page-size-mask"), ==, PGSIZES);
    ranges = qtest_qom_get(s, lpath, "iova-ranges");
    g_assert_nonnull(strstr(json_node_get_string(ranges), "0x200000000"));
}

static void test_empty(void)
{
    QTestState *s = qtest_init("-M q35 -device intel-iommu");
    g_autoptr(JsonNode) ret =
        qmp_return(s, "{\"execute\": \"query-host-iommu-devices\"}");

    g_assert_cmpuint(json_array_get_length(json_node_get_array(ret)), ==, 0);
    qtest_quit(s);
}

static void test_viommu(void)
{
    QTestState *s = qtest_init("-M q35 -device intel-iommu,caching-mode=on "
                               SIM_ARGS);

    check_devices(s, true);
    check_qom(s);
    qtest_quit(s);
}

static void test_no_viommu(void)
{
    QTestState *s = qtest_init("-M q35 " SIM_ARGS);

    check_devices(s, false);
    check_qom(s);
    qtest_quit(s);
}

static void test_schema(void)
{
    QTestState *s = qtest_init("-M none");
    g_autoptr(JsonNode) ret =
        qmp_return(s, "{\"execute\": \"query-qmp-schema\"}");
    JsonArray *a = json_node_get_array(ret);
    bool found = false;

    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);

        if (!strcmp(json_object_get_string_member(o, "meta-type"),
                    "command") &&
            !strcmp(json_object_get_string_member(o, "name"),
                    "query-host-iommu-devices")) {
            found = true;
        }
    }
    g_assert_true(found);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/query-hiod/empty", test_empty);
    g_test_add_func("/query-hiod/intel-iommu", test_viommu);
    g_test_add_func("/query-hiod/no-viommu", test_no_viommu);
    g_test_add_func("/query-hiod/schema", test_schema);
    return g_test_run();
}
