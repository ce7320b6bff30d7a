/*
 * viommu-requests: what a virtio-iommu MAP/UNMAP costs.
 *
 * In process (no qtest round trips in the measurement): a q35 machine with
 * virtio-iommu-pci and an edu device; the program is the driver (virtio
 * core calls for status and queue set-up, descriptors and requests in
 * guest RAM) and times MAP+UNMAP request pairs through the request queue:
 * batches of 128 chains (64 MAP, 64 UNMAP, each 4 KiB, one domain with
 * edu attached) per kick.  Measured without a notifier, then with a
 * MAP/UNMAP notifier on edu's region (what a VFIO container adds).  Also
 * a 4-byte DMA read through a mapping.  Prints figures; asserts only that
 * every request succeeded and the DMA really translated.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "hw/boards.h"
#include "hw/virtio/virtio-iommu.h"
#include "hw/virtio/virtio-pci.h"
#include "qapi/qjson.h"
#include "system/qdev-monitor.h"
#include "../guest-mem.h"

#define MiB         (1ull << 20)
#define QSIZE       256                 /* descriptors, 128 chains */
#define PAIRS       (QSIZE / 4)         /* MAP+UNMAP pairs per kick */
#define RING_GPA    0x100000ull
#define REQ_GPA     0x200000ull         /* 64 bytes per chain */
#define DATA_GPA    0x4000000ull
#define IOVA_BASE   0x10000000ull
#define DOMAIN      1

static VirtIODevice *vdev;
static uint16_t avail_idx, used_idx;

#define DESC        RING_GPA
#define AVAIL       (RING_GPA + 16 * QSIZE)
#define USED        (RING_GPA + 0x2000)

static void add_device(const char *driver, const char *id, const char *addr)
{
    JsonObject *opts = json_object_new();

    json_object_set_string_member(opts, "driver", driver);
    json_object_set_string_member(opts, "id", id);
    json_object_set_string_member(opts, "addr", addr);
    qdev_device_add(opts, true, &error_abort);
    json_object_unref(opts);
}

/* Machine, devices, DRIVER_OK with the request queue at RING_GPA. */
static void machine_up(void)
{
    MachineState *ms = machine_create(machine_class_find("q35"),
                                      &error_abort);
    VirtIOPCIProxy *proxy;
    VirtQueue *vq;
    uint8_t st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

    ms->ram_size = 256 * MiB;
    machine_init_board(ms, &error_abort);
    add_device(TYPE_VIRTIO_IOMMU_PCI, "viommu", "04.0");
    add_device("edu", "edu", "03.0");
    ms->done = true;
    machine_reset(ms);
    proxy = VIRTIO_PCI(object_resolve_path("/machine/peripheral/viommu",
                                           NULL));
    vdev = proxy->vdev;
    pci_host_config_write_common(&proxy->pci_dev, PCI_COMMAND,
                                 pci_config_size(&proxy->pci_dev),
                                 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    pci_host_config_write_common(PCI_DEVICE(object_resolve_path(
                                     "/machine/peripheral/edu", NULL)),
                                 PCI_COMMAND, PCI_CONFIG_SPACE_SIZE,
                                 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    virtio_set_status(vdev, st);
    vdev->driver_features = vdev->host_features;
    st |= VIRTIO_CONFIG_S_FEATURES_OK;
    virtio_set_status(vdev, st);
    vq = virtio_get_queue(vdev, VIRTIO_IOMMU_REQUESTQ);
    virtio_queue_set_num(vq, QSIZE);
    vq->desc = DESC;
    vq->avail = AVAIL;
    vq->used = USED;
    virtio_queue_enable(vdev, VIRTIO_IOMMU_REQUESTQ);
    virtio_set_status(vdev, st | VIRTIO_CONFIG_S_DRIVER_OK);
    avail_idx = used_idx = 0;
}

/* Chain c: descriptors 2c (readable, len) and 2c + 1 (tail). */
static void write_chain(unsigned c, const uint8_t *req, uint32_t len)
{
    uint64_t rd = REQ_GPA + 64 * c, d = DESC + 32 * c;

    address_space_write(&address_space_memory, rd, MEMTXATTRS_UNSPECIFIED,
                        req, len);
    gst64(d, rd);
    gst32(d + 8, len);
    gst16(d + 12, VRING_DESC_F_NEXT);
    gst16(d + 14, 2 * c + 1);
    gst64(d + 16, rd + 60);
    gst32(d + 24, 4);
    gst16(d + 28, VRING_DESC_F_WRITE);
}

/* Publishes chains [first, first + n) and kicks; all must succeed. */
static void submit(unsigned first, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        gst16(AVAIL + 4 + 2 * (avail_idx++ % QSIZE), 2 * (first + i));
    }
    gst16(AVAIL + 2, avail_idx);
    virtio_queue_notify(vdev, VIRTIO_IOMMU_REQUESTQ);
    used_idx += n;
    if ((uint16_t)gld32(USED + 2) != used_idx ||
        (gld32(REQ_GPA + 64 * (first + n - 1) + 60) & 0xff)) {
        fprintf(stderr, "viommu-requests: request failed\n");
        exit(1);
    }
}

/* Chains 0..2*PAIRS-1: MAP i, UNMAP i alternating. */
static void write_requests(void)
{
    uint8_t a[VIRTIO_IOMMU_ATTACH_SIZE] = { VIRTIO_IOMMU_T_ATTACH };

    pci_set_long(a + VIRTIO_IOMMU_ATTACH_DOMAIN, DOMAIN);
    pci_set_long(a + VIRTIO_IOMMU_ATTACH_ENDPOINT, 3 << 3);
    write_chain(0, a, sizeof(a));
    submit(0, 1);
    for (unsigned i = 0; i < PAIRS; i++) {
        uint8_t m[VIRTIO_IOMMU_MAP_SIZE] = { VIRTIO_IOMMU_T_MAP };
        uint8_t u[VIRTIO_IOMMU_UNMAP_SIZE] = { VIRTIO_IOMMU_T_UNMAP };
        uint64_t iova = IOVA_BASE + i * 0x1000ull;

        pci_set_long(m + VIRTIO_IOMMU_MAP_DOMAIN, DOMAIN);
        pci_set_quad(m + VIRTIO_IOMMU_MAP_VIRT_START, iova);
        pci_set_quad(m + VIRTIO_IOMMU_MAP_VIRT_END, iova + 0xfff);
        pci_set_quad(m + VIRTIO_IOMMU_MAP_PHYS_START, DATA_GPA);
        pci_set_long(m + VIRTIO_IOMMU_MAP_FLAGS, VIRTIO_IOMMU_MAP_F_READ |
                     VIRTIO_IOMMU_MAP_F_WRITE);
        pci_set_long(u + VIRTIO_IOMMU_UNMAP_DOMAIN, DOMAIN);
        pci_set_quad(u + VIRTIO_IOMMU_UNMAP_VIRT_START, iova);
        pci_set_quad(u + VIRTIO_IOMMU_UNMAP_VIRT_END, iova + 0xfff);
        write_chain(2 * i, m, sizeof(m));
        write_chain(2 * i + 1, u, sizeof(u));
    }
}

static double now_s(void)
{
    return g_get_monotonic_time() / 1e6;
}

typedef struct Listener {
    IOMMUNotifier n;
    uint64_t count;
} Listener;

static void notified(IOMMUNotifier *n, IOMMUTLBEntry *e)
{
    ((Listener *)n)->count++;
}

static void bench_pairs(const char *what)
{
    const int batches = 4000;
    double t0 = now_s(), dt;

    for (int b = 0; b < batches; b++) {
        submit(0, 2 * PAIRS);
    }
    dt = now_s() - t0;
    printf("MAP+UNMAP request pairs through the virtqueue%s: %10.0f per "
           "second (%d kicks of %d pairs)\n", what,
           batches * (double)PAIRS / dt, batches, PAIRS);
}

int main(int argc, char **argv)
{
    VirtIOIOMMU *s;
    VirtIOIOMMUEndpoint *ep;
    Listener listener = { 0 };
    AddressSpace *as;
    uint32_t v = 0, expect = 0xfeedf00d;
    const int reads = 1000000;
    double t0;

    memory_init_system();
    machine_up();
    s = VIRTIO_IOMMU(vdev);
    write_requests();
    bench_pairs("");

    ep = viommu_find_endpoint(s, 3 << 3);
    iommu_notifier_init(&listener.n, notified, IOMMU_NOTIFIER_IOTLB_EVENTS,
                        0, UINT64_MAX);
    memory_region_register_iommu_notifier(&ep->iommu.parent_obj, &listener.n,
                                          &error_abort);
    bench_pairs(", with a notifier");
    memory_region_unregister_iommu_notifier(&ep->iommu.parent_obj,
                                            &listener.n);
    if (listener.count != 4000ull * 2 * PAIRS) {
        fprintf(stderr, "viommu-requests: %" PRIu64 " notifications\n",
                listener.count);
        return 1;
    }

    /* A DMA read through a live mapping (MAP 0 stays). */
    submit(0, 1);
    as = pci_get_address_space(PCI_DEVICE(object_resolve_path(
                                   "/machine/peripheral/edu", NULL)));
    address_space_stl_le(&address_space_memory, DATA_GPA, expect,
                         MEMTXATTRS_UNSPECIFIED, NULL);
    address_space_read(as, IOVA_BASE, MEMTXATTRS_UNSPECIFIED, &v, 4);
    if (v != expect) {
        fprintf(stderr, "viommu-requests: DMA read 0x%x\n", v);
        return 1;
    }
    t0 = now_s();
    for (int i = 0; i < reads; i++) {
        address_space_read(as, IOVA_BASE, MEMTXATTRS_UNSPECIFIED, &v, 4);
    }
    printf("4-byte DMA read through a mapping: "
           "%6.0f ns per translation\n",
           (now_s() - t0) * 1e9 / reads);
    machine_destroy();
    return 0;
}
