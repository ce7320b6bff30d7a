/*
 * The vIOMMU side of set/unset_iommu_device: what intel-iommu and
 * virtio-iommu accept and refuse of the host IOMMU device behind a
 * vfio-pci on the simulated host (qemu_behaviour §4, §5).  Every check is
 * made at cold plug (exit 1 with the message) and at hotplug (the
 * device_add error, twice, and nothing left behind: same fd count, no
 * device, query-host-iommu-devices unchanged, the sim-pci-device and an
 * iommufd backend without other users deletable).
 */
#include <string.h>
#include <unistd.h>
#include <glib.h>

#include "libqtest.h"
#include "libvirtio.h"

#define HOST_BDF        "0000:02:00.0"
#define VFIO_DEVFN      (4 << 3)
#define SIM_DEV         "-object sim-pci-device,id=d0,sim-host=h," \
                        "host=" HOST_BDF ",iommu-group=5 "
#define LEGACY_DEV      "-device vfio-pci,host=" HOST_BDF ",addr=04.0," \
                        "id=vfio0 "
#define IOMMUFD_DEV     "-object iommufd,id=fd0 " \
                        "-device vfio-pci,host=" HOST_BDF ",addr=04.0," \
                        "id=vfio0,iommufd=fd0 "
#define RP_ARGS         "-device pcie-root-port,id=rp0,addr=05.0," \
                        "chassis=1,slot=1 "
/* A PCIe-to-PCI bridge; with rp0 its bus is 2, the alias of devices on it
 * 02:00.0. */
#define BR_ARGS         "-device pcie-pci-bridge,id=br0,addr=06.0 "
#define BR_ALIAS_EP     0x0200
/* A second host device, for two devices behind one alias. */
#define HOST_BDF2       "0000:02:01.0"
#define SIM_DEV2        "-object sim-pci-device,id=d1,sim-host=h," \
                        "host=" HOST_BDF2 ",iommu-group=6 "
#define REFUSED         "vfio " HOST_BDF ": Failed to set vIOMMU: "
#define REFUSED2        "vfio " HOST_BDF2 ": Failed to set vIOMMU: "
#define ALIASED         "virtio-iommu does not support aliased BDF"

/* Arguments of a start-up that must fail (qtest_expect_startup_error). */
#define COLD            "-M q35 "

/* device_add of vfio-pci id v0 for host on bus; NULL on success, else
 * the error. */
static char *hotplug_on(QTestState *s, const char *bus, const char *host,
                        bool iommufd)
{
    JsonObject *rsp = qtest_qmp(s, "{\"execute\": \"device_add\", "
                                "\"arguments\": {\"driver\": \"vfio-pci\", "
                                "\"id\": \"v0\", \"bus\": \"%s\", "
                                "\"host\": \"%s\"%s}}", bus, host,
                                iommufd ? ", \"iommufd\": \"fd0\"" : "");
    char *err = NULL;

    if (qmp_rsp_is_err(rsp)) {
        err = qmp_expect_error(rsp, "GenericError");
    }
    json_object_unref(rsp);
    return err;
}

/* HOST_BDF on rp0. */
static char *hotplug(QTestState *s, bool iommufd)
{
    return hotplug_on(s, "rp0", HOST_BDF, iommufd);
}

/* query-host-iommu-devices' reply, as JSON text. */
static char *query_hiods(QTestState *s)
{
    JsonObject *rsp = qtest_qmp(s, "{\"execute\": "
                                "\"query-host-iommu-devices\"}");
    char *text = json_to_string(qmp_expect_return(rsp), false);

    json_object_unref(rsp);
    return text;
}

static bool object_del(QTestState *s, const char *id)
{
    JsonObject *rsp = qtest_qmp(s, "{\"execute\": \"object-del\", "
                                "\"arguments\": {\"id\": \"%s\"}}", id);
    bool ok = !qmp_rsp_is_err(rsp);

    json_object_unref(rsp);
    return ok;
}

/* Whether /machine/peripheral has a child named name. */
static bool peripheral_has(QTestState *s, const char *name)
{
    JsonObject *rsp = qtest_qmp(s, "{\"execute\": \"qom-list\", "
                                "\"arguments\": {\"path\": "
                                "\"/machine/peripheral\"}}");
    JsonArray *a = json_node_get_array(qmp_expect_return(rsp));
    bool found = false;

    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);

        if (!strcmp(json_object_get_string_member(o, "name"), name)) {
            found = true;
        }
    }
    json_object_unref(rsp);
    return found;
}

/*
 * A refused hotplug of host (sim-pci-device sim_id) on bus, twice: the
 * error, and the process as it was.  Afterwards nothing holds the
 * sim-pci-device: it can be deleted.
 */
static void expect_hotplug_refused_on(QTestState *s, const char *bus,
                                      const char *host, const char *sim_id,
                                      bool iommufd, const char *msg)
{
    g_autofree char *prefix = g_strdup_printf("vfio %s: Failed to set "
                                              "vIOMMU: ", host);
    g_autofree char *hiods = query_hiods(s);
    int fds = qtest_count_fds(s);

    for (int i = 0; i < 2; i++) {
        g_autofree char *err = hotplug_on(s, bus, host, iommufd);
        g_autofree char *after = NULL;

        g_assert_nonnull(err);
        if (!g_str_has_prefix(err, prefix) || !strstr(err, msg)) {
            g_error("hotplug error '%s' lacks '%s%s'", err, prefix, msg);
        }
        g_assert_cmpint(qtest_count_fds(s), ==, fds);
        g_assert_false(peripheral_has(s, "v0"));
        after = query_hiods(s);
        g_assert_cmpstr(after, ==, hiods);
    }
    g_assert_true(object_del(s, sim_id));
}

static void expect_hotplug_refused(QTestState *s, bool iommufd,
                                   const char *msg)
{
    expect_hotplug_refused_on(s, "rp0", HOST_BDF, "d0", iommufd, msg);
}

/* --- intel-iommu ---------------------------------------------------------- */

#define VTD             "-device intel-iommu,"
#define VTD_FLTS        VTD "caching-mode=on,x-scalable-mode=on,x-flts=on"

static void test_vtd_cold_refusals(void)
{
    static const struct {
        const char *args, *msg;
    } cases[] = {
        { VTD "caching-mode=off -object sim-host,id=h " SIM_DEV LEGACY_DEV,
          REFUSED "Device assignment is not allowed without enabling "
          "caching-mode=on for Intel IOMMU." },
        { VTD "caching-mode=off -object sim-host,id=h " SIM_DEV IOMMUFD_DEV,
          REFUSED "Device assignment is not allowed without enabling "
          "caching-mode=on for Intel IOMMU." },
        { VTD "caching-mode=on,aw-bits=48 -object sim-host,id=h,aw-bits=39 "
          SIM_DEV LEGACY_DEV, REFUSED "aw-bits 48 > host aw-bits 39" },
        { VTD "caching-mode=on,aw-bits=48 -object sim-host,id=h,aw-bits=39 "
          SIM_DEV IOMMUFD_DEV, REFUSED "aw-bits 48 > host aw-bits 39" },
        { VTD_FLTS " -object sim-host,id=h " SIM_DEV LEGACY_DEV,
          REFUSED "Need IOMMUFD backend when x-flts=on" },
        /* an SMMUv3 that can nest gets its nest parent, then is refused */
        { VTD_FLTS " -object sim-host,id=h,iommu=smmuv3 " SIM_DEV IOMMUFD_DEV,
          REFUSED "Incompatible host platform IOMMU type 2" },
        /* a host that cannot nest: VFIO's NEST_PARENT allocation fails */
        { VTD_FLTS " -object sim-host,id=h,nesting=off " SIM_DEV IOMMUFD_DEV,
          "vfio " HOST_BDF ": IOMMU_HWPT_ALLOC (dev_id 1, pt_id 2, flags 0x1, "
          "data_type 0) failed: Operation not supported" },
        { VTD_FLTS ",fs1gp=on -object sim-host,id=h,fs1gp=off "
          SIM_DEV IOMMUFD_DEV,
          REFUSED "First stage 1GB large page is unsupported by host IOMMU" },
        /* a host that passes every other x-flts check, behind a bridge */
        { VTD_FLTS " -object sim-host,id=h,aw-bits=48,fs1gp=on " SIM_DEV
          BR_ARGS "-object iommufd,id=fd0 -device vfio-pci,host=" HOST_BDF
          ",bus=br0,addr=04.0,iommufd=fd0",
          REFUSED "Host device downstream to a PCI bridge is unsupported "
          "when x-flts=on" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *args = g_strconcat(COLD, cases[i].args, NULL);

        qtest_expect_startup_error(args, cases[i].msg);
    }
}

/*
 * The cold refusals again, at hotplug: vIOMMU and sim-host options, the
 * bus (rp0, or br0 behind the PCIe-to-PCI bridge), the backend.  With
 * iommufd the backend has no user afterwards.
 */
static void test_vtd_hotplug_refused(void)
{
    static const struct {
        const char *viommu, *host, *bus;
        bool iommufd;
        const char *msg;
    } cases[] = {
        { VTD "caching-mode=off", "", "rp0", false,
          "Device assignment is not allowed without enabling "
          "caching-mode=on for Intel IOMMU." },
        { VTD "caching-mode=off", "", "rp0", true,
          "Device assignment is not allowed without enabling "
          "caching-mode=on for Intel IOMMU." },
        { VTD "caching-mode=on,aw-bits=48", ",aw-bits=39", "rp0", false,
          "aw-bits 48 > host aw-bits 39" },
        { VTD "caching-mode=on,aw-bits=48", ",aw-bits=39", "rp0", true,
          "aw-bits 48 > host aw-bits 39" },
        { VTD_FLTS, "", "rp0", false,
          "Need IOMMUFD backend when x-flts=on" },
        { VTD_FLTS, ",iommu=smmuv3", "rp0", true,
          "Incompatible host platform IOMMU type 2" },
        { VTD_FLTS ",fs1gp=on", ",fs1gp=off", "rp0", true,
          "First stage 1GB large page is unsupported by host IOMMU" },
        { VTD_FLTS, ",aw-bits=48,fs1gp=on", "br0", true,
          "Host device downstream to a PCI bridge is unsupported when "
          "x-flts=on" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        QTestState *s = qtest_initf("-M q35 %s " RP_ARGS BR_ARGS
                                    "-object sim-host,id=h%s " SIM_DEV "%s",
                                    cases[i].viommu, cases[i].host,
                                    cases[i].iommufd ?
                                    "-object iommufd,id=fd0" : "");

        expect_hotplug_refused_on(s, cases[i].bus, HOST_BDF, "d0",
                                  cases[i].iommufd, cases[i].msg);
        if (cases[i].iommufd) {
            g_assert_true(object_del(s, "fd0"));
        }
        qtest_quit(s);
    }
}

/* Compatible hosts: accepted, and hotplug/unplug cycles leave nothing. */
static void test_vtd_accepted(void)
{
    QTestState *s = qtest_initf("-M q35 " VTD_FLTS " " RP_ARGS
                                "-object sim-host,id=h,aw-bits=48,fs1gp=on "
                                SIM_DEV "-object iommufd,id=fd0");
    int fds = -1;

    for (int i = 0; i < 3; i++) {
        g_autofree char *err = hotplug(s, true);

        g_assert_null(err);
        g_assert_true(peripheral_has(s, "v0"));
        qtest_qmp_device_del(s, "v0");
        g_assert_false(peripheral_has(s, "v0"));
        if (fds < 0) {
            fds = qtest_count_fds(s);
        }
        g_assert_cmpint(qtest_count_fds(s), ==, fds);
    }
    qtest_quit(s);

    s = qtest_initf("-M q35 " VTD "caching-mode=on -object sim-host,id=h "
                    SIM_DEV LEGACY_DEV);
    g_assert_true(peripheral_has(s, "vfio0"));
    qtest_quit(s);

    /* without x-flts a device behind a PCIe-to-PCI bridge is accepted */
    s = qtest_initf("-M q35 " VTD "caching-mode=on " RP_ARGS BR_ARGS
                    "-object sim-host,id=h " SIM_DEV "-object iommufd,id=fd0");
    fds = -1;
    for (int i = 0; i < 2; i++) {
        g_autofree char *err = hotplug_on(s, "br0", HOST_BDF, i == 1);

        g_assert_null(err);
        g_assert_true(peripheral_has(s, "v0"));
        qtest_qmp_device_del(s, "v0");
        g_assert_false(peripheral_has(s, "v0"));
        if (fds < 0) {
            fds = qtest_count_fds(s);
        }
        g_assert_cmpint(qtest_count_fds(s), ==, fds);
    }
    g_assert_true(object_del(s, "d0"));
    qtest_quit(s);
}

/* --- virtio-iommu ------------------------------------------------------- */

#define VIOMMU_DEVFN    (3 << 3)
#define VIOMMU          "-device virtio-iommu-pci,addr=03.0"
#define VIRTIO_ALLOC    0x1000000ULL
#define CFG_PGSIZE_MASK 0
#define PROBE_SIZE      512
#define DOMAIN          1
#define RESV_START      0x10000000ULL
#define RESV_END        0x100fffffULL

static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static void viommu_start(QVirtioIommu *v, QTestState *s)
{
    qvirtio_iommu_start(v, s, VIOMMU_DEVFN, VIRTIO_ALLOC, VIRTIO_ALLOC);
}

static uint8_t viommu_attach(QVirtioIommu *v)
{
    return qvirtio_iommu_attach(v, DOMAIN, VFIO_DEVFN);
}

/* The page at iova -> gpa, read/write; the status. */
static uint8_t viommu_map(QVirtioIommu *v, uint64_t iova, uint64_t gpa)
{
    return qvirtio_iommu_map(v, DOMAIN, iova, iova + 4095, gpa,
                             VIRTIO_IOMMU_MAP_F_READ |
                             VIRTIO_IOMMU_MAP_F_WRITE);
}

/* Whether PROBE of ep reports [start, end] of the given subtype. */
static bool probe_has(QVirtioIommu *v, uint32_t ep, uint8_t subtype,
                      uint64_t start, uint64_t end)
{
    uint8_t r[72] = { VIRTIO_IOMMU_T_PROBE };
    uint8_t reply[PROBE_SIZE + 4];

    for (unsigned i = 0; i < 4; i++) {
        r[4 + i] = ep >> (8 * i);
    }

    g_assert_cmpuint(qvirtio_iommu_request(v, r, sizeof(r), reply,
                                           sizeof(reply)), ==,
                     sizeof(reply));
    g_assert_cmpuint(reply[PROBE_SIZE], ==, 0);
    for (size_t off = 0; off + 24 <= PROBE_SIZE; off += 24) {
        const uint8_t *p = reply + off;

        if (get_le(p, 2) != 1) {      /* RESV_MEM */
            break;
        }
        if (p[4] == subtype && get_le(p + 8, 8) == start &&
            get_le(p + 16, 8) == end) {
            return true;
        }
    }
    return false;
}

/*
 * The host's reserved regions and the end of its address space are
 * RESERVED regions of the assigned endpoint; MAP over them is INVAL;
 * the host's MSI window stays the MSI region; other maps work.
 */
static void test_virtio_probe_host_resv(gconstpointer opaque)
{
    bool iommufd = GPOINTER_TO_INT(opaque);
    QTestState *s = qtest_initf("-M q35 -m 256M " VIOMMU " -object sim-host,"
                                "id=h,aw-bits=48,reserved-regions=0x10000000-"
                                "0x100fffff:0xfee00000-0xfeefffff "
                                SIM_DEV "%s",
                                iommufd ? IOMMUFD_DEV : LEGACY_DEV);
    QVirtioIommu v = { 0 };

    viommu_start(&v, s);
    g_assert_true(probe_has(&v, VFIO_DEVFN, 0, RESV_START, RESV_END));
    g_assert_true(probe_has(&v, VFIO_DEVFN, 0, 1ULL << 48, UINT64_MAX));
    g_assert_true(probe_has(&v, VFIO_DEVFN, 1, 0xfee00000, 0xfeefffff));
    g_assert_false(probe_has(&v, VFIO_DEVFN, 0, 0xfee00000, 0xfeefffff));
    /* an emulated endpoint (the host bridge) has no host regions */
    g_assert_false(probe_has(&v, 0, 0, RESV_START, RESV_END));

    g_assert_cmpuint(viommu_attach(&v), ==, 0);
    g_assert_cmpuint(viommu_map(&v, RESV_START + 0x1000, 0x100000), ==,
                     VIRTIO_IOMMU_S_INVAL);
    g_assert_cmpuint(viommu_map(&v, 0x20000000, 0x100000), ==, 0);
    qvirtio_iommu_stop(&v);
    qtest_quit(s);
}

static void test_virtio_cold(void)
{
    QTestState *s;
    QVirtioIommu v = { 0 };

    /* no common page size */
    qtest_expect_startup_error(COLD VIOMMU ",granule=64k -object sim-host,"
                               "id=h,pgsizes=0x1000 " SIM_DEV LEGACY_DEV,
                               REFUSED HOST_BDF ": virtio-iommu reports a "
                               "page size mask 0x1000 incompatible with "
                               "currently supported mask "
                               "0xffffffffffff0000");
    /* before machine init the mask is narrowed to the host's (4k, 2M) */
    s = qtest_initf("-M q35 " VIOMMU ",granule=8k -object sim-host,id=h,"
                    "pgsizes=0x201000 " SIM_DEV LEGACY_DEV);
    viommu_start(&v, s);
    g_assert_cmphex(qvirtio_config_readq(&v.d, CFG_PGSIZE_MASK), ==,
                    0x200000);
    qvirtio_iommu_stop(&v);
    qtest_quit(s);
}

/*
 * Hotplug after machine init: the granule (64k) is frozen.  The legacy
 * container reports the host's page sizes (4k, 2M: they meet the mask
 * but lack the granule); iommufd reports only its IOVA alignment (4k:
 * they do not even meet the mask).
 */
static void test_virtio_hotplug_frozen(gconstpointer opaque)
{
    bool iommufd = GPOINTER_TO_INT(opaque);
    QTestState *s = qtest_initf("-M q35 " VIOMMU ",granule=64k " RP_ARGS
                                "-object sim-host,id=h,pgsizes=0x201000 "
                                SIM_DEV "%s",
                                iommufd ? "-object iommufd,id=fd0" : "");

    expect_hotplug_refused(s, iommufd, iommufd ?
                           HOST_BDF ": virtio-iommu reports a page size mask "
                           "0x1000 incompatible with currently supported "
                           "mask 0xffffffffffff0000" :
                           "virtio-iommu does not support frozen granule "
                           "0x10000");
    qtest_quit(s);

    /* a host with the granule: accepted, and unplug frees its ranges */
    s = qtest_initf("-M q35 " VIOMMU ",granule=%s " RP_ARGS
                    "-object sim-host,id=h,pgsizes=0x211000 " SIM_DEV "%s",
                    iommufd ? "4k" : "64k",
                    iommufd ? "-object iommufd,id=fd0" : "");
    for (int i = 0; i < 2; i++) {
        g_autofree char *err = hotplug(s, iommufd);

        g_assert_null(err);
        g_assert_true(peripheral_has(s, "v0"));
        qtest_qmp_device_del(s, "v0");
        g_assert_false(peripheral_has(s, "v0"));
    }
    qtest_quit(s);
}

/* No common page size, at hotplug: the mask check refuses first. */
static void test_virtio_hotplug_page_size(gconstpointer opaque)
{
    bool iommufd = GPOINTER_TO_INT(opaque);
    QTestState *s = qtest_initf("-M q35 " VIOMMU ",granule=64k " RP_ARGS
                                "-object sim-host,id=h,pgsizes=0x1000 "
                                SIM_DEV "%s",
                                iommufd ? "-object iommufd,id=fd0" : "");

    expect_hotplug_refused(s, iommufd, HOST_BDF ": virtio-iommu reports a "
                           "page size mask 0x1000 incompatible with "
                           "currently supported mask 0xffffffffffff0000");
    if (iommufd) {
        g_assert_true(object_del(s, "fd0"));
    }
    qtest_quit(s);
}

#define ALIASED_HOST    "-object sim-host,id=h,aw-bits=48,reserved-regions=" \
                        "0x10000000-0x100fffff " SIM_DEV SIM_DEV2 RP_ARGS \
                        BR_ARGS
#define ALIASED_FIRST   "-device vfio-pci,host=" HOST_BDF ",bus=br0," \
                        "addr=03.0,id=vfio0"

/*
 * Two assigned devices behind one PCIe-to-PCI bridge share the alias
 * 02:00.0: the first one's host ranges are the alias endpoint's reserved
 * regions; the second is refused, at cold plug and at hotplug.
 */
static void test_virtio_aliased(gconstpointer opaque)
{
    bool iommufd = GPOINTER_TO_INT(opaque);
    const char *fd = iommufd ? "-object iommufd,id=fd0 " : "";
    const char *fd_prop = iommufd ? ",iommufd=fd0" : "";
    QTestState *s;
    QVirtioIommu v = { 0 };
    g_autofree char *cold = g_strdup_printf(
        COLD VIOMMU " %s" ALIASED_HOST ALIASED_FIRST "%s -device vfio-pci,"
        "host=" HOST_BDF2 ",bus=br0,addr=04.0%s", fd, fd_prop, fd_prop);

    qtest_expect_startup_error(cold, REFUSED2 ALIASED);

    s = qtest_initf("-M q35 " VIOMMU " %s" ALIASED_HOST ALIASED_FIRST "%s",
                    fd, fd_prop);
    viommu_start(&v, s);
    g_assert_true(probe_has(&v, BR_ALIAS_EP, 0, RESV_START, RESV_END));
    g_assert_true(probe_has(&v, BR_ALIAS_EP, 0, 1ULL << 48, UINT64_MAX));
    expect_hotplug_refused_on(s, "br0", HOST_BDF2, "d1", iommufd, ALIASED);
    /* the first device's ranges are still there */
    g_assert_true(probe_has(&v, BR_ALIAS_EP, 0, RESV_START, RESV_END));
    qvirtio_iommu_stop(&v);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/viommu-hiod/intel-iommu/cold-refusals",
                    test_vtd_cold_refusals);
    g_test_add_func("/viommu-hiod/intel-iommu/hotplug-refusals",
                    test_vtd_hotplug_refused);
    g_test_add_func("/viommu-hiod/intel-iommu/accepted", test_vtd_accepted);
    g_test_add_data_func("/viommu-hiod/virtio-iommu/legacy/probe-host-resv",
                         GINT_TO_POINTER(false), test_virtio_probe_host_resv);
    g_test_add_data_func("/viommu-hiod/virtio-iommu/iommufd/probe-host-resv",
                         GINT_TO_POINTER(true), test_virtio_probe_host_resv);
    g_test_add_func("/viommu-hiod/virtio-iommu/cold-page-size",
                    test_virtio_cold);
    g_test_add_data_func("/viommu-hiod/virtio-iommu/legacy/hotplug-frozen",
                         GINT_TO_POINTER(false), test_virtio_hotplug_frozen);
    g_test_add_data_func("/viommu-hiod/virtio-iommu/iommufd/hotplug-frozen",
                         GINT_TO_POINTER(true), test_virtio_hotplug_frozen);
    g_test_add_data_func("/viommu-hiod/virtio-iommu/legacy/hotplug-page-size",
                         GINT_TO_POINTER(false),
                         test_virtio_hotplug_page_size);
    g_test_add_data_func("/viommu-hiod/virtio-iommu/iommufd/hotplug-page-size",
                         GINT_TO_POINTER(true),
                         test_virtio_hotplug_page_size);
    g_test_add_data_func("/viommu-hiod/virtio-iommu/legacy/aliased-bdf",
                         GINT_TO_POINTER(false), test_virtio_aliased);
    g_test_add_data_func("/viommu-hiod/virtio-iommu/iommufd/aliased-bdf",
                         GINT_TO_POINTER(true), test_virtio_aliased);
    return g_test_run();
}
