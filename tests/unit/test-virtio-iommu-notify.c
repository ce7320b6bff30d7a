/*
 * virtio-iommu, in process: the MAP/UNMAP notifications a VFIO container
 * would receive, replay, and what translate() answers.  A q35 machine with
 * virtio-iommu-pci and two edu functions is built in this process; the
 * test plays the transport and the driver (virtio core calls for status
 * and queue set-up, rings and requests written into guest RAM, kicks with
 * virtio_queue_notify()), and IOMMU notifiers on the edu endpoints'
 * regions record what they are told.  Each test asserts the exact
 * sequence of events: kind, iova, translated address, size, permission.
 */
#include <glib.h>
#include <string.h>

#include "hw/boards.h"
#include "hw/i386/apic-msi.h"
#include "hw/pci/pci_host.h"
#include "hw/virtio/virtio-iommu.h"
#include "hw/virtio/virtio-pci.h"
#include "iommu-notify-rec.h"
#include "../guest-mem.h"

#define MiB             (1ull << 20)
#define EDU_DEVFN       (3 << 3)
#define EDU2_DEVFN      (5 << 3)
#define RINGS           (1 * MiB)       /* requestq, then eventq */
#define BUFS            (2 * MiB)       /* request and reply buffers */
#define QSIZE           64

static MachineState *ms;
static VirtIOPCIProxy *proxy;
static VirtIODevice *vdev;
static VirtIOIOMMU *viommu;
static PCIDevice *edu, *edu2;

/* --- Guest memory ---------------------------------------------------------- */

/* --- Machine ---------------------------------------------------------------- */

static DeviceState *add_pci(const char *type, const char *addr)
{
    Object *parent = container_get(OBJECT(ms), "peripheral");
    DeviceState *dev = qdev_new(type);
    PCIHostState *host = PCI_HOST_BRIDGE(object_resolve_path("/machine/q35",
                                                             NULL));

    g_assert_true(object_property_parse(OBJECT(dev), "addr", addr,
                                        &error_abort));
    object_property_add_child(parent, addr, OBJECT(dev));
    object_unref(dev);
    g_assert_true(qdev_realize(dev, &host->bus->qbus, &error_abort));
    return dev;
}

static void machine_up(void)
{
    ms = machine_create(machine_class_find("q35"), &error_abort);
    ms->ram_size = 128 * MiB;
    g_assert_true(machine_init_board(ms, &error_abort));
    edu = PCI_DEVICE(add_pci("edu", "03.0"));
    proxy = VIRTIO_PCI(add_pci(TYPE_VIRTIO_IOMMU_PCI, "04.0"));
    edu2 = PCI_DEVICE(add_pci("edu", "05.0"));   /* realized after us */
    vdev = proxy->vdev;
    viommu = VIRTIO_IOMMU(vdev);
}

/* Devices before the machine: the IOMMU unhooks a bus that still exists. */
static void machine_down(void)
{
    qdev_unplug_and_unparent(DEVICE(edu2));
    qdev_unplug_and_unparent(DEVICE(edu));
    qdev_unplug_and_unparent(DEVICE(proxy));
    machine_destroy();
    apic_msi_clear();
    ms = NULL;
    proxy = NULL;
    vdev = NULL;
    viommu = NULL;
    edu = edu2 = NULL;
}

static VirtIOIOMMUEndpoint *ep_of(PCIDevice *dev)
{
    VirtIOIOMMUEndpoint *ep = viommu_find_endpoint(viommu,
                                                   pci_requester_id(dev));

    g_assert_nonnull(ep);
    return ep;
}

/* --- Driver (the transport's and the guest's part) ----------------------------- */

typedef struct Ring {
    unsigned index;
    uint64_t desc, avail, used;
    uint16_t avail_idx, used_idx;
} Ring;

static Ring reqq, evq;

static void ring_setup(Ring *r, unsigned index, uint64_t base)
{
    VirtQueue *vq = virtio_get_queue(vdev, index);
    static const uint8_t zero[0x2000];

    *r = (Ring) { .index = index, .desc = base,
                  .avail = base + 16 * QSIZE, .used = base + 0x1000 };
    address_space_write(&address_space_memory, base, MEMTXATTRS_UNSPECIFIED,
                        zero, sizeof(zero));
    g_assert_true(virtio_queue_set_num(vq, QSIZE));
    vq->desc = r->desc;
    vq->avail = r->avail;
    vq->used = r->used;
    virtio_queue_enable(vdev, index);
    g_assert_true(vq->enabled);
}

/* Reset, negotiate everything offered, both queues, DRIVER_OK. */
static void driver_up(void)
{
    uint8_t st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

    pci_host_config_write_common(&proxy->pci_dev, PCI_COMMAND,
                                 pci_config_size(&proxy->pci_dev),
                                 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    virtio_set_status(vdev, 0);
    virtio_set_status(vdev, st);
    vdev->driver_features = vdev->host_features;
    st |= VIRTIO_CONFIG_S_FEATURES_OK;
    virtio_set_status(vdev, st);
    g_assert_true(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK);
    ring_setup(&reqq, VIRTIO_IOMMU_REQUESTQ, RINGS);
    ring_setup(&evq, VIRTIO_IOMMU_EVENTQ, RINGS + 0x2000);
    virtio_set_status(vdev, st | VIRTIO_CONFIG_S_DRIVER_OK);
}

static void ring_publish(Ring *r, uint16_t head)
{
    gst16(r->avail + 4 + 2 * (r->avail_idx % QSIZE), head);
    gst16(r->avail + 2, ++r->avail_idx);
}

/* One request, two descriptors; returns the tail's status. */
static uint8_t request(const uint8_t *req, uint32_t len)
{
    uint16_t d = (reqq.avail_idx * 2) % QSIZE;
    uint64_t rd = BUFS + d * 64, wr = rd + 60;

    g_assert_cmpuint(len, <=, 56);
    address_space_write(&address_space_memory, rd, MEMTXATTRS_UNSPECIFIED,
                        req, len);
    gst64(reqq.desc + 16 * d, rd);
    gst32(reqq.desc + 16 * d + 8, len);
    gst16(reqq.desc + 16 * d + 12, VRING_DESC_F_NEXT);
    gst16(reqq.desc + 16 * d + 14, d + 1);
    gst64(reqq.desc + 16 * (d + 1), wr);
    gst32(reqq.desc + 16 * (d + 1) + 8, 4);
    gst16(reqq.desc + 16 * (d + 1) + 12, VRING_DESC_F_WRITE);
    ring_publish(&reqq, d);
    virtio_queue_notify(vdev, VIRTIO_IOMMU_REQUESTQ);
    g_assert_cmpuint(gld16(reqq.used + 2), ==, ++reqq.used_idx);
    g_assert_cmpuint(gld32(reqq.used + 4 + 8 * ((reqq.used_idx - 1) % QSIZE) +
                          4), ==, 4);
    return gld32(wr) & 0xff;
}

static uint8_t attach(uint32_t dom, PCIDevice *dev)
{
    uint8_t r[VIRTIO_IOMMU_ATTACH_SIZE] = { VIRTIO_IOMMU_T_ATTACH };

    pci_set_long(r + VIRTIO_IOMMU_ATTACH_DOMAIN, dom);
    pci_set_long(r + VIRTIO_IOMMU_ATTACH_ENDPOINT, pci_requester_id(dev));
    return request(r, sizeof(r));
}

static uint8_t detach(uint32_t dom, PCIDevice *dev)
{
    uint8_t r[VIRTIO_IOMMU_DETACH_SIZE] = { VIRTIO_IOMMU_T_DETACH };

    pci_set_long(r + VIRTIO_IOMMU_DETACH_DOMAIN, dom);
    pci_set_long(r + VIRTIO_IOMMU_DETACH_ENDPOINT, pci_requester_id(dev));
    return request(r, sizeof(r));
}

static uint8_t map(uint32_t dom, uint64_t start, uint64_t end, uint64_t phys,
                   uint32_t flags)
{
    uint8_t r[VIRTIO_IOMMU_MAP_SIZE] = { VIRTIO_IOMMU_T_MAP };

    pci_set_long(r + VIRTIO_IOMMU_MAP_DOMAIN, dom);
    pci_set_quad(r + VIRTIO_IOMMU_MAP_VIRT_START, start);
    pci_set_quad(r + VIRTIO_IOMMU_MAP_VIRT_END, end);
    pci_set_quad(r + VIRTIO_IOMMU_MAP_PHYS_START, phys);
    pci_set_long(r + VIRTIO_IOMMU_MAP_FLAGS, flags);
    return request(r, sizeof(r));
}

static uint8_t unmap(uint32_t dom, uint64_t start, uint64_t end)
{
    uint8_t r[VIRTIO_IOMMU_UNMAP_SIZE] = { VIRTIO_IOMMU_T_UNMAP };

    pci_set_long(r + VIRTIO_IOMMU_UNMAP_DOMAIN, dom);
    pci_set_quad(r + VIRTIO_IOMMU_UNMAP_VIRT_START, start);
    pci_set_quad(r + VIRTIO_IOMMU_UNMAP_VIRT_END, end);
    return request(r, sizeof(r));
}

#define RW      (VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE)
#define RO      VIRTIO_IOMMU_MAP_F_READ

/* --- Recording notifier ------------------------------------------------------- */

static bool rec_try_register(Rec *r, PCIDevice *dev, IOMMUNotifierFlag flags,
                             hwaddr start, hwaddr end, Error **errp)
{
    return rec_try_register_on(r, &ep_of(dev)->iommu, flags, start, end,
                               errp);
}

static void rec_register(Rec *r, PCIDevice *dev, IOMMUNotifierFlag flags)
{
    rec_register_on(r, &ep_of(dev)->iommu, flags);
}

#define U(iova, addr, size)       { 'U', iova, addr, size, IOMMU_NONE }

/* --- Tests --------------------------------------------------------------------- */

/*
 * MAP and UNMAP requests reach the notifiers of the domain's endpoint as
 * the fewest naturally aligned blocks; UNMAP in address order.
 */
static void test_map_unmap(void)
{
    Rec r;

    machine_up();
    driver_up();
    g_assert_cmpuint(attach(1, edu), ==, VIRTIO_IOMMU_S_OK);
    rec_register(&r, edu, IOMMU_NOTIFIER_IOTLB_EVENTS);
    EXPECT_NONE(&r);

    g_assert_cmpuint(map(1, 0x10000, 0x1ffff, 0x200000, RW), ==,
                     VIRTIO_IOMMU_S_OK);
    EXPECT(&r, M(0x10000, 0x200000, 0x10000, IOMMU_RW));
    /* 5 pages from 0x3000: 4K at 0x3000, then 16K at 0x4000. */
    g_assert_cmpuint(map(1, 0x3000, 0x7fff, 0x403000, RO), ==,
                     VIRTIO_IOMMU_S_OK);
    EXPECT(&r, M(0x3000, 0x403000, 0x1000, IOMMU_RO),
               M(0x4000, 0x404000, 0x4000, IOMMU_RO));
    /* Refused requests notify nothing. */
    g_assert_cmpuint(map(1, 0x4000, 0x4fff, 0, RW), ==,
                     VIRTIO_IOMMU_S_INVAL);
    g_assert_cmpuint(unmap(1, 0x4000, 0x4fff), ==, VIRTIO_IOMMU_S_RANGE);
    EXPECT_NONE(&r);

    g_assert_cmpuint(unmap(1, 0, 0xfffff), ==, VIRTIO_IOMMU_S_OK);
    EXPECT(&r, U(0x3000, 0x403000, 0x1000), U(0x4000, 0x404000, 0x4000),
               U(0x10000, 0x200000, 0x10000));

    /* The whole 64-bit space but the MSI window, in two mappings. */
    g_assert_cmpuint(map(1, 0, 0xfedfffff, 0, RW), ==, VIRTIO_IOMMU_S_OK);
    g_array_set_size(r.ev, 0);
    /* 1M at 0xfef00000, 16M at 0xff000000, then 2^32 .. 2^63. */
    g_assert_cmpuint(map(1, 0xfef00000, UINT64_MAX, 0xfef00000, RW), ==,
                     VIRTIO_IOMMU_S_OK);
    g_assert_cmpuint(r.ev->len, ==, 2 + 32);
    g_assert_cmphex(g_array_index(r.ev, Ev, 33).iova, ==, 1ULL << 63);
    g_assert_cmphex(g_array_index(r.ev, Ev, 33).size, ==, 1ULL << 63);
    g_array_set_size(r.ev, 0);
    rec_unregister(&r);
    machine_down();
}

/*
 * ATTACH replays the domain's mappings to the new endpoint; moving it
 * unmaps the old domain's; DETACH unmaps everything; MAPs reach every
 * endpoint of the domain.
 */
static void test_attach_move_detach(void)
{
    Rec r1, r2;

    machine_up();
    driver_up();
    rec_register(&r1, edu, IOMMU_NOTIFIER_IOTLB_EVENTS);
    rec_register(&r2, edu2, IOMMU_NOTIFIER_IOTLB_EVENTS);
    g_assert_cmpuint(attach(1, edu), ==, VIRTIO_IOMMU_S_OK);
    g_assert_cmpuint(map(1, 0x1000, 0x1fff, 0x501000, RW), ==,
                     VIRTIO_IOMMU_S_OK);
    EXPECT(&r1, M(0x1000, 0x501000, 0x1000, IOMMU_RW));
    EXPECT_NONE(&r2);

    g_assert_cmpuint(attach(1, edu2), ==, VIRTIO_IOMMU_S_OK);
    EXPECT_NONE(&r1);
    EXPECT(&r2, M(0x1000, 0x501000, 0x1000, IOMMU_RW));
    g_assert_cmpuint(map(1, 0x8000, 0xffff, 0x608000, RO), ==,
                     VIRTIO_IOMMU_S_OK);
    EXPECT(&r1, M(0x8000, 0x608000, 0x8000, IOMMU_RO));
    EXPECT(&r2, M(0x8000, 0x608000, 0x8000, IOMMU_RO));

    /* edu2 moves to domain 2: it loses domain 1's mappings. */
    g_assert_cmpuint(attach(2, edu2), ==, VIRTIO_IOMMU_S_OK);
    EXPECT_NONE(&r1);
    EXPECT(&r2, U(0x1000, 0x501000, 0x1000), U(0x8000, 0x608000, 0x8000));
    g_assert_cmpuint(map(2, 0x1000, 0x1fff, 0x701000, RW), ==,
                     VIRTIO_IOMMU_S_OK);
    EXPECT_NONE(&r1);
    EXPECT(&r2, M(0x1000, 0x701000, 0x1000, IOMMU_RW));

    /* edu joins domain 2: domain 1 is destroyed, edu sees the swap. */
    g_assert_cmpuint(attach(2, edu), ==, VIRTIO_IOMMU_S_OK);
    EXPECT(&r1, U(0x1000, 0x501000, 0x1000), U(0x8000, 0x608000, 0x8000),
                M(0x1000, 0x701000, 0x1000, IOMMU_RW));
    g_assert_cmpuint(map(1, 0, 0xfff, 0, RW), ==, VIRTIO_IOMMU_S_NOENT);

    g_assert_cmpuint(detach(2, edu), ==, VIRTIO_IOMMU_S_OK);
    EXPECT(&r1, U(0x1000, 0x701000, 0x1000));
    EXPECT_NONE(&r2);
    rec_unregister(&r1);
    rec_unregister(&r2);
    machine_down();
}

/* replay() announces the current mappings in the notifier's range only,
 * and nothing for an unattached endpoint. */
static void test_replay(void)
{
    Rec r;

    machine_up();
    driver_up();
    g_assert_true(rec_try_register(&r, edu, IOMMU_NOTIFIER_MAP, 0,
                                   UINT64_MAX, &error_abort));
    memory_region_iommu_replay(&ep_of(edu)->iommu, &r.n);
    EXPECT_NONE(&r);
    rec_unregister(&r);

    g_assert_cmpuint(attach(3, edu), ==, VIRTIO_IOMMU_S_OK);
    g_assert_cmpuint(map(3, 0x0, 0x2fff, 0x100000, RW), ==,
                     VIRTIO_IOMMU_S_OK);
    g_assert_cmpuint(map(3, 0x10000, 0x1ffff, 0x300000, RO), ==,
                     VIRTIO_IOMMU_S_OK);
    g_assert_cmpuint(map(3, 0x40000, 0x40fff, 0x400000, RW), ==,
                     VIRTIO_IOMMU_S_OK);

    rec_register(&r, edu, IOMMU_NOTIFIER_MAP);
    EXPECT(&r, M(0x0, 0x100000, 0x2000, IOMMU_RW),
               M(0x2000, 0x102000, 0x1000, IOMMU_RW),
               M(0x10000, 0x300000, 0x10000, IOMMU_RO),
               M(0x40000, 0x400000, 0x1000, IOMMU_RW));
    /* MAP-only: UNMAPs are not delivered. */
    g_assert_cmpuint(unmap(3, 0x40000, 0x40fff), ==, VIRTIO_IOMMU_S_OK);
    EXPECT_NONE(&r);
    rec_unregister(&r);

    g_assert_true(rec_try_register(&r, edu, IOMMU_NOTIFIER_MAP, 0x18000,
                                   0x3ffff, &error_abort));
    memory_region_iommu_replay(&ep_of(edu)->iommu, &r.n);
    EXPECT(&r, M(0x10000, 0x300000, 0x10000, IOMMU_RO));
    rec_unregister(&r);
    machine_down();
}

/* Device reset: every mapping is unmapped; the domains are gone. */
static void test_reset(void)
{
    Rec r;

    machine_up();
    driver_up();
    g_assert_cmpuint(attach(1, edu), ==, VIRTIO_IOMMU_S_OK);
    g_assert_cmpuint(map(1, 0x1000, 0x2fff, 0x1000, RW), ==,
                     VIRTIO_IOMMU_S_OK);
    rec_register(&r, edu, IOMMU_NOTIFIER_IOTLB_EVENTS);
    EXPECT(&r, M(0x1000, 0x1000, 0x1000, IOMMU_RW),
               M(0x2000, 0x2000, 0x1000, IOMMU_RW));
    virtio_set_status(vdev, 0);
    EXPECT(&r, U(0x1000, 0x1000, 0x1000), U(0x2000, 0x2000, 0x1000));
    g_assert_null(ep_of(edu)->domain);
    g_assert_cmpuint(g_hash_table_size(viommu->domains), ==, 0);
    rec_unregister(&r);
    machine_down();
}

/* Device-IOTLB notifiers are refused. */
static void test_flags_refused(void)
{
    Rec r;
    Error *err = NULL;

    machine_up();
    g_assert_false(rec_try_register(&r, edu, IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0,
                                    UINT64_MAX, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "device-IOTLB"));
    error_free(err);
    machine_down();
}

/*
 * translate() through edu's DMA address space: mapped addresses land at
 * the mapping's target (largest block with congruent virt/phys), the MSI
 * window is never translated, the IOMMU's own DMA is not behind it.
 */
static void test_translate(void)
{
    AddressSpace *as;
    MemoryRegion *mr;
    hwaddr xlat, len;

    machine_up();
    driver_up();
    as = pci_device_iommu_address_space(edu);
    g_assert_true(as == &ep_of(edu)->as);
    g_assert_true(pci_device_iommu_address_space(&proxy->pci_dev) ==
                  &address_space_memory);

    /* Unattached with bypass 1: identity. */
    len = 0x100;
    mr = address_space_translate(as, 0x123456, &xlat, &len, false,
                                 MEMTXATTRS_UNSPECIFIED);
    g_assert_true(mr == ms->ram);
    g_assert_cmphex(xlat, ==, 0x123456);

    g_assert_cmpuint(attach(1, edu), ==, VIRTIO_IOMMU_S_OK);
    g_assert_cmpuint(map(1, 0x100000, 0x1fffff, 0x2100000, RW), ==,
                     VIRTIO_IOMMU_S_OK);
    len = 0x200000;
    mr = address_space_translate(as, 0x180010, &xlat, &len, true,
                                 MEMTXATTRS_UNSPECIFIED);
    g_assert_true(mr == ms->ram);
    g_assert_cmphex(xlat, ==, 0x2180010);
    g_assert_cmphex(len, ==, 0x200000 - 0x180010);  /* to the block end */
    len = 4;
    g_assert_null(address_space_translate(as, 0x200000, &xlat, &len, false,
                                          MEMTXATTRS_UNSPECIFIED));
    /* A fault was queued nowhere (no event buffers) and counted. */
    g_assert_cmpuint(viommu->events_dropped, ==, 1);
    len = 4;
    mr = address_space_translate(as, 0xfee00000, &xlat, &len, true,
                                 MEMTXATTRS_UNSPECIFIED);
    g_assert_nonnull(mr);
    g_assert_false(memory_region_is_iommu(mr));
    g_assert_cmphex(xlat, ==, 0);
    machine_down();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-iommu-notify/map-unmap", test_map_unmap);
    g_test_add_func("/virtio-iommu-notify/attach-move-detach",
                    test_attach_move_detach);
    g_test_add_func("/virtio-iommu-notify/replay", test_replay);
    g_test_add_func("/virtio-iommu-notify/device-reset", test_reset);
    g_test_add_func("/virtio-iommu-notify/deviotlb-refused",
                    test_flags_refused);
    g_test_add_func("/virtio-iommu-notify/translate", test_translate);
    return g_test_run();
}
