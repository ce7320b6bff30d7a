/*
 * pci_device_set_iommu_device() in process: what no command line can
 * reach.  A q35 machine with a vIOMMU, edu at 00:03.0 and two edus behind
 * a pcie-pci-bridge (br0 at 00:06.0, edus at 03.0 and 04.0 of its bus);
 * the host IOMMU devices are a minimal subclass defined here, reporting
 * 48-bit usable IOVAs and 4 KiB pages.
 *
 * Proves: the requester-ID alias stored in the hiod; a second hiod for
 * the same device refused by intel-iommu ("Host IOMMU device already
 * exist") and virtio-iommu ("Host IOMMU device already exists"), accepted
 * again after unset; virtio-iommu puts the host ranges on the aliased
 * endpoint and refuses a second device behind the same alias.
 */
#include <glib.h>
#include <string.h>

#include "hw/boards.h"
#include "hw/i386/apic-msi.h"
#include "hw/i386/intel_iommu_internal.h"
#include "hw/pci/pci_host.h"
#include "hw/pci/pcie_port.h"
#include "hw/virtio/virtio-iommu.h"
#include "hw/virtio/virtio-pci.h"
#include "system/host_iommu_device.h"

#define MiB             (1ull << 20)
#define TYPE_TEST_HIOD  "test-host-iommu-device"
#define HOST_TOP        ((1ull << 48) - 1)

static MachineState *ms;
static DeviceState *viommu_dev;
static PCIDevice *edu, *br, *edu_a, *edu_b;

/* --- The test host IOMMU device -------------------------------------- */

static bool test_hiod_realize(HostIOMMUDevice *hiod, void *agent,
                              Error **errp)
{
    hiod->agent = agent;
    hiod->name = g_strdup(object_get_canonical_path_component(agent));
    return true;
}

static int test_hiod_get_cap(HostIOMMUDevice *hiod, int cap, Error **errp)
{
    return cap == HOST_IOMMU_DEVICE_CAP_AW_BITS ? 48 : 0;
}

static GList *test_hiod_get_iova_ranges(HostIOMMUDevice *hiod)
{
    return g_list_append(NULL, range_new(0, HOST_TOP));
}

static uint64_t test_hiod_get_page_size_mask(HostIOMMUDevice *hiod)
{
    return 0x1000;
}

static void test_hiod_class_init(ObjectClass *oc, const void *data)
{
    HostIOMMUDeviceClass *hc = HOST_IOMMU_DEVICE_CLASS(oc);

    hc->realize = test_hiod_realize;
    hc->get_cap = test_hiod_get_cap;
    hc->get_iova_ranges = test_hiod_get_iova_ranges;
    hc->get_page_size_mask = test_hiod_get_page_size_mask;
}

static const TypeInfo test_hiod_type = {
    .name = TYPE_TEST_HIOD,
    .parent = TYPE_HOST_IOMMU_DEVICE,
    .instance_size = sizeof(HostIOMMUDevice),
    .class_init = test_hiod_class_init,
};

/* A host IOMMU device whose agent is dev, as VFIO's is its device. */
static HostIOMMUDevice *hiod_new(PCIDevice *dev)
{
    return host_iommu_device_create(TYPE_TEST_HIOD, dev, &error_abort);
}

/* --- Machine ---------------------------------------------------------- */

static DeviceState *add_dev(const char *type, const char *name,
                            const char *props, BusState *bus)
{
    Object *parent = container_get(OBJECT(ms), "peripheral");
    DeviceState *dev = qdev_new(type);
    g_auto(GStrv) kv = g_strsplit(props, ",", -1);

    for (char **p = kv; *p && **p; p++) {
        g_auto(GStrv) pair = g_strsplit(*p, "=", 2);

        g_assert_true(object_property_parse(OBJECT(dev), pair[0], pair[1],
                                            &error_abort));
    }
    object_property_add_child(parent, name, OBJECT(dev));
    object_unref(dev);
    g_assert_true(qdev_realize(dev, bus, &error_abort));
    return dev;
}

static void machine_up(const char *viommu_type, const char *viommu_props)
{
    BusState *root;

    ms = machine_create(machine_class_find("q35"), &error_abort);
    ms->ram_size = 128 * MiB;
    g_assert_true(machine_init_board(ms, &error_abort));
    root = &PCI_HOST_BRIDGE(object_resolve_path("/machine/q35",
                                                NULL))->bus->qbus;
    viommu_dev = add_dev(viommu_type, "viommu", viommu_props,
                         strcmp(viommu_type, TYPE_INTEL_IOMMU_DEVICE) ?
                         root : NULL);
    edu = PCI_DEVICE(add_dev("edu", "edu", "addr=03.0", root));
    br = PCI_DEVICE(add_dev(TYPE_PCIE_PCI_BRIDGE, "br0", "addr=06.0", root));
    edu_a = PCI_DEVICE(add_dev("edu", "edu-a", "addr=03.0",
                               &pci_bridge_get_sec_bus(br)->qbus));
    edu_b = PCI_DEVICE(add_dev("edu", "edu-b", "addr=04.0",
                               &pci_bridge_get_sec_bus(br)->qbus));
}

/* Devices before the machine, the vIOMMU last: it unhooks a live bus. */
static void machine_down(void)
{
    qdev_unplug_and_unparent(DEVICE(edu_b));
    qdev_unplug_and_unparent(DEVICE(edu_a));
    qdev_unplug_and_unparent(DEVICE(br));
    qdev_unplug_and_unparent(DEVICE(edu));
    qdev_unplug_and_unparent(viommu_dev);
    machine_destroy();
    apic_msi_clear();
    ms = NULL;
    viommu_dev = NULL;
    edu = br = edu_a = edu_b = NULL;
}

/* Set twice with two hiods: the second refused with msg, set after unset. */
static void check_duplicate(const char *msg)
{
    HostIOMMUDevice *h1 = hiod_new(edu), *h2 = hiod_new(edu);
    Error *err = NULL;

    g_assert_true(pci_device_set_iommu_device(edu, h1, &error_abort));
    g_assert_false(pci_device_set_iommu_device(edu, h2, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, msg);
    error_free(err);
    pci_device_unset_iommu_device(edu);
    g_assert_true(pci_device_set_iommu_device(edu, h2, &error_abort));
    pci_device_unset_iommu_device(edu);
    object_unref(h1);
    object_unref(h2);
}

/* --- intel-iommu ------------------------------------------------------ */

static void test_vtd_duplicate(void)
{
    machine_up(TYPE_INTEL_IOMMU_DEVICE, "caching-mode=on");
    check_duplicate("Host IOMMU device already exist");
    machine_down();
}

/*
 * The alias the PCI core stores: the device's own (bus, devfn) on PCIe,
 * (bridge's secondary bus, 00.0) behind the PCIe-to-PCI bridge.
 */
static void test_vtd_alias_fields(void)
{
    HostIOMMUDevice *h = NULL, *ha = NULL;

    machine_up(TYPE_INTEL_IOMMU_DEVICE, "caching-mode=on");
    h = hiod_new(edu);
    ha = hiod_new(edu_b);
    g_assert_true(pci_device_set_iommu_device(edu, h, &error_abort));
    g_assert_true(h->aliased_bus == pci_get_bus(edu));
    g_assert_cmpint(h->aliased_devfn, ==, PCI_DEVFN(3, 0));
    g_assert_true(pci_device_set_iommu_device(edu_b, ha, &error_abort));
    g_assert_true(ha->aliased_bus == pci_bridge_get_sec_bus(br));
    g_assert_cmpint(ha->aliased_devfn, ==, 0);
    /* both edus behind the bridge DMA through the alias's address space */
    g_assert_true(pci_device_iommu_address_space(edu_a) ==
                  pci_device_iommu_address_space(edu_b));
    g_assert_true(pci_device_iommu_address_space(edu_a) !=
                  pci_device_iommu_address_space(edu));
    pci_device_unset_iommu_device(edu_b);
    pci_device_unset_iommu_device(edu);
    object_unref(h);
    object_unref(ha);
    machine_down();
}

/* --- virtio-iommu ----------------------------------------------------- */

static VirtIOIOMMU *viommu(void)
{
    return VIRTIO_IOMMU(VIRTIO_PCI(viommu_dev)->vdev);
}

static VirtIOIOMMUEndpoint *endpoint(PCIBus *bus, int devfn)
{
    GPtrArray *eps = viommu()->endpoints;

    for (guint i = 0; i < eps->len; i++) {
        VirtIOIOMMUEndpoint *ep = g_ptr_array_index(eps, i);

        if (ep->bus == bus && ep->devfn == devfn) {
            return ep;
        }
    }
    return NULL;
}

static void test_virtio_duplicate(void)
{
    machine_up(TYPE_VIRTIO_IOMMU_PCI, "addr=04.0");
    check_duplicate("Host IOMMU device already exists");
    machine_down();
}

/*
 * edu-a's host ranges go to the alias endpoint (bus of br0, 00.0); edu-b,
 * behind the same alias, is refused until edu-a's hiod is unset.  No
 * endpoint is made for the devices' own requester IDs.
 */
static void test_virtio_aliased(void)
{
    PCIBus *sec;
    HostIOMMUDevice *ha, *hb;
    VirtIOIOMMUEndpoint *ep;
    Error *err = NULL;

    machine_up(TYPE_VIRTIO_IOMMU_PCI, "addr=04.0");
    sec = pci_bridge_get_sec_bus(br);
    ha = hiod_new(edu_a);
    hb = hiod_new(edu_b);
    ep = endpoint(sec, 0);
    g_assert_nonnull(ep);
    g_assert_null(ep->host_resv);

    g_assert_true(pci_device_set_iommu_device(edu_a, ha, &error_abort));
    g_assert_nonnull(ep->host_resv);
    g_assert_cmpuint(ep->host_resv->len, ==, 1);
    g_assert_cmphex(g_array_index(ep->host_resv, VirtIOIOMMUResvRegion,
                                  0).start, ==, HOST_TOP + 1);
    g_assert_null(endpoint(sec, PCI_DEVFN(3, 0)));

    g_assert_false(pci_device_set_iommu_device(edu_b, hb, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "virtio-iommu does not support aliased BDF");
    error_free(err);
    g_assert_true(ep->hiod == ha);

    pci_device_unset_iommu_device(edu_a);
    g_assert_null(ep->host_resv);
    g_assert_null(ep->hiod);
    g_assert_true(pci_device_set_iommu_device(edu_b, hb, &error_abort));
    g_assert_nonnull(ep->host_resv);
    g_assert_null(endpoint(sec, PCI_DEVFN(4, 0)));
    pci_device_unset_iommu_device(edu_b);
    g_assert_null(ep->host_resv);
    object_unref(ha);
    object_unref(hb);
    machine_down();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    type_register_static(&test_hiod_type);
    g_test_add_func("/pci-hiod/intel-iommu/duplicate", test_vtd_duplicate);
    g_test_add_func("/pci-hiod/intel-iommu/alias-fields",
                    test_vtd_alias_fields);
    g_test_add_func("/pci-hiod/virtio-iommu/duplicate",
                    test_virtio_duplicate);
    g_test_add_func("/pci-hiod/virtio-iommu/aliased-bdf",
                    test_virtio_aliased);
    return g_test_run();
}
