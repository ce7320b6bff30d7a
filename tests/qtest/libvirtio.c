/*
 * libvirtio: test-side virtio-pci driver.  See libvirtio.h.
 */
#include <string.h>
#include <glib.h>

#include "libvirtio.h"

/* PCI configuration space (PCI Local Bus 3.0, 6.1, 6.7, 6.8.2) */
#define PCI_VENDOR_ID           0x00
#define PCI_STATUS              0x06
#define  PCI_STATUS_CAP_LIST    0x10
#define PCI_HEADER_TYPE         0x0e
#define PCI_BASE_ADDRESS_0      0x10
#define  PCI_BAR_IO             0x1
#define  PCI_BAR_MEM_TYPE_MASK  0x6
#define  PCI_BAR_MEM_TYPE_64    0x4
#define PCI_CAPABILITY_LIST     0x34
#define PCI_CAP_ID_VNDR         0x09
#define PCI_CAP_ID_MSIX         0x11
#define PCI_MSIX_FLAGS          0x02
#define  PCI_MSIX_FLAGS_QSIZE   0x07ff
#define  PCI_MSIX_FLAGS_MASKALL 0x4000
#define  PCI_MSIX_FLAGS_ENABLE  0x8000
#define PCI_MSIX_TABLE          0x04
#define  PCI_MSIX_BIR           0x7

/* struct virtio_pci_cap (4.1.4) */
#define VCAP_CFG_TYPE           3
#define VCAP_BAR                4
#define VCAP_OFFSET             8
#define VCAP_LENGTH             12
#define VCAP_NOTIFY_MULT        16

/* Split ring (2.7) */
#define VRING_AVAIL_IDX         2
#define VRING_AVAIL_RING        4
#define VRING_USED_IDX          2
#define VRING_USED_RING         4

/* Polls of the used ring before giving up (the device is synchronous). */
#define USED_POLL_LIMIT         16

/* --- Discovery ---------------------------------------------------------------- */

static bool is_virtio(QTestState *s, int bus, int devfn, uint16_t device_id)
{
    uint32_t id = qpci_config_readl(s, bus, devfn, PCI_VENDOR_ID);

    return id == ((uint32_t)(VIRTIO_PCI_DEVICE_ID_MODERN + device_id) << 16 |
                  VIRTIO_PCI_VENDOR_ID);
}

bool qvirtio_pci_find(QTestState *s, uint16_t device_id, int nth, int *bus,
                      int *devfn)
{
    for (int b = 0; b < 16; b++) {
        /* Behind a root port only slot 0 exists. */
        int slots = b ? 1 : 32;

        for (int slot = 0; slot < slots; slot++) {
            int f0 = slot << 3;
            int nfn;

            if (qpci_config_readw(s, b, f0, PCI_VENDOR_ID) == 0xffff) {
                continue;
            }
            nfn = qpci_config_readb(s, b, f0, PCI_HEADER_TYPE) & 0x80 ? 8 : 1;
            for (int fn = 0; fn < nfn; fn++) {
                if (is_virtio(s, b, f0 | fn, device_id) && nth-- == 0) {
                    *bus = b;
                    *devfn = f0 | fn;
                    return true;
                }
            }
        }
    }
    return false;
}

/* The address the firmware gave BAR bar (64-bit BARs included). */
static uint64_t bar_addr(QVirtioDev *d, int bar)
{
    uint8_t off = PCI_BASE_ADDRESS_0 + 4 * bar;
    uint32_t lo = qpci_config_readl(d->s, d->bus, d->devfn, off);
    uint64_t addr;

    g_assert_cmpint(bar, <, 6);
    g_assert_false(lo & PCI_BAR_IO);
    addr = lo & ~0xfu;
    if ((lo & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64) {
        addr |= (uint64_t)qpci_config_readl(d->s, d->bus, d->devfn,
                                            off + 4) << 32;
    }
    g_assert_cmphex(addr, !=, 0);
    return addr;
}

/* Records the first capability of each cfg_type (4.1.4.1: the driver
 * uses the first one it can). */
static void take_vendor_cap(QVirtioDev *d, uint8_t pos)
{
    QTestState *s = d->s;
    uint8_t type = qpci_config_readb(s, d->bus, d->devfn, pos + VCAP_CFG_TYPE);
    uint8_t bar = qpci_config_readb(s, d->bus, d->devfn, pos + VCAP_BAR);
    uint32_t off = qpci_config_readl(s, d->bus, d->devfn, pos + VCAP_OFFSET);
    uint32_t len = qpci_config_readl(s, d->bus, d->devfn, pos + VCAP_LENGTH);
    uint8_t *cap;
    uint64_t *addr;
    uint32_t *plen;

    switch (type) {
    case VIRTIO_PCI_CAP_COMMON_CFG:
        cap = &d->common_cap, addr = &d->common, plen = &d->common_len;
        break;
    case VIRTIO_PCI_CAP_NOTIFY_CFG:
        cap = &d->notify_cap, addr = &d->notify, plen = &d->notify_len;
        break;
    case VIRTIO_PCI_CAP_ISR_CFG:
        cap = &d->isr_cap, addr = &d->isr, plen = &d->isr_len;
        break;
    case VIRTIO_PCI_CAP_DEVICE_CFG:
        cap = &d->device_cap, addr = &d->device, plen = &d->device_len;
        break;
    case VIRTIO_PCI_CAP_PCI_CFG:
        if (!d->pci_cfg_cap) {
            d->pci_cfg_cap = pos;
        }
        return;
    default:
        return;
    }
    if (*cap) {
        return;
    }
    *cap = pos;
    *addr = bar_addr(d, bar) + off;
    *plen = len;
    if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
        d->notify_off_multiplier = qpci_config_readl(s, d->bus, d->devfn,
                                                     pos + VCAP_NOTIFY_MULT);
    }
}

void qvirtio_pci_init(QVirtioDev *d, QTestState *s, int bus, int devfn,
                      uint64_t alloc_start, uint64_t alloc_size)
{
    unsigned guard = 0;

    memset(d, 0, sizeof(*d));
    d->s = s;
    d->bus = bus;
    d->devfn = devfn;
    d->device_id = qpci_config_readw(s, bus, devfn, 2) -
                   VIRTIO_PCI_DEVICE_ID_MODERN;
    d->alloc_next = alloc_start;
    d->alloc_end = alloc_start + alloc_size;
    qpci_device_enable(s, bus, devfn);

    g_assert_true(qpci_config_readw(s, bus, devfn, PCI_STATUS) &
                  PCI_STATUS_CAP_LIST);
    for (uint8_t pos = qpci_config_readb(s, bus, devfn, PCI_CAPABILITY_LIST);
         pos; pos = qpci_config_readb(s, bus, devfn, pos + 1)) {
        uint8_t id = qpci_config_readb(s, bus, devfn, pos);

        g_assert_cmpuint(++guard, <, 48);
        if (id == PCI_CAP_ID_VNDR) {
            take_vendor_cap(d, pos);
        } else if (id == PCI_CAP_ID_MSIX) {
            uint32_t table = qpci_config_readl(s, bus, devfn,
                                               pos + PCI_MSIX_TABLE);

            d->msix_cap = pos;
            d->msix_entries = (qpci_config_readw(s, bus, devfn,
                                                 pos + PCI_MSIX_FLAGS) &
                               PCI_MSIX_FLAGS_QSIZE) + 1;
            d->msix_table = bar_addr(d, table & PCI_MSIX_BIR) +
                            (table & ~PCI_MSIX_BIR);
        }
    }
    g_assert_cmpuint(d->common_cap, !=, 0);
    g_assert_cmpuint(d->notify_cap, !=, 0);
    g_assert_cmpuint(d->isr_cap, !=, 0);
}

void qvirtio_pci_init_by_id(QVirtioDev *d, QTestState *s, uint16_t device_id,
                            uint64_t alloc_start, uint64_t alloc_size)
{
    int bus, devfn;

    g_assert_true(qvirtio_pci_find(s, device_id, 0, &bus, &devfn));
    qvirtio_pci_init(d, s, bus, devfn, alloc_start, alloc_size);
}

uint64_t qvirtio_alloc(QVirtioDev *d, uint64_t size, uint64_t align)
{
    uint64_t addr = (d->alloc_next + align - 1) & ~(align - 1);

    g_assert_cmphex(addr + size, <=, d->alloc_end);
    d->alloc_next = addr + size;
    qtest_memset(d->s, addr, 0, size);
    return addr;
}

/* --- Common configuration ------------------------------------------------------ */

uint8_t qvirtio_common_readb(QVirtioDev *d, unsigned off)
{
    return qtest_readb(d->s, d->common + off);
}

uint16_t qvirtio_common_readw(QVirtioDev *d, unsigned off)
{
    return qtest_readw(d->s, d->common + off);
}

uint32_t qvirtio_common_readl(QVirtioDev *d, unsigned off)
{
    return qtest_readl(d->s, d->common + off);
}

void qvirtio_common_writeb(QVirtioDev *d, unsigned off, uint8_t v)
{
    qtest_writeb(d->s, d->common + off, v);
}

void qvirtio_common_writew(QVirtioDev *d, unsigned off, uint16_t v)
{
    qtest_writew(d->s, d->common + off, v);
}

void qvirtio_common_writel(QVirtioDev *d, unsigned off, uint32_t v)
{
    qtest_writel(d->s, d->common + off, v);
}

uint8_t qvirtio_get_status(QVirtioDev *d)
{
    return qvirtio_common_readb(d, VIRTIO_PCI_COMMON_STATUS);
}

void qvirtio_set_status(QVirtioDev *d, uint8_t status)
{
    qvirtio_common_writeb(d, VIRTIO_PCI_COMMON_STATUS, status);
}

void qvirtio_reset(QVirtioDev *d)
{
    qvirtio_set_status(d, 0);
    g_assert_cmphex(qvirtio_get_status(d), ==, 0);
    d->features = 0;
}

uint64_t qvirtio_get_features(QVirtioDev *d)
{
    uint64_t f;

    qvirtio_common_writel(d, VIRTIO_PCI_COMMON_DFSELECT, 0);
    f = qvirtio_common_readl(d, VIRTIO_PCI_COMMON_DF);
    qvirtio_common_writel(d, VIRTIO_PCI_COMMON_DFSELECT, 1);
    f |= (uint64_t)qvirtio_common_readl(d, VIRTIO_PCI_COMMON_DF) << 32;
    return f;
}

void qvirtio_write_driver_features(QVirtioDev *d, uint64_t features)
{
    qvirtio_common_writel(d, VIRTIO_PCI_COMMON_GFSELECT, 0);
    qvirtio_common_writel(d, VIRTIO_PCI_COMMON_GF, features);
    qvirtio_common_writel(d, VIRTIO_PCI_COMMON_GFSELECT, 1);
    qvirtio_common_writel(d, VIRTIO_PCI_COMMON_GF, features >> 32);
}

/* 3.1.1 "Driver Requirements: Device Initialization", steps 1-6. */
bool qvirtio_negotiate(QVirtioDev *d, uint64_t features)
{
    uint8_t st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

    qvirtio_reset(d);
    qvirtio_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    qvirtio_set_status(d, st);
    qvirtio_write_driver_features(d, features);
    qvirtio_set_status(d, st | VIRTIO_CONFIG_S_FEATURES_OK);
    if (!(qvirtio_get_status(d) & VIRTIO_CONFIG_S_FEATURES_OK)) {
        return false;
    }
    d->features = features;
    return true;
}

void qvirtio_set_driver_ok(QVirtioDev *d)
{
    qvirtio_set_status(d, qvirtio_get_status(d) | VIRTIO_CONFIG_S_DRIVER_OK);
}

void qvirtio_start(QVirtioDev *d, uint64_t features)
{
    g_assert_true(qvirtio_negotiate(d, features));
}

/* --- Device configuration and ISR ------------------------------------------- */

uint8_t qvirtio_config_generation(QVirtioDev *d)
{
    return qvirtio_common_readb(d, VIRTIO_PCI_COMMON_CFGGENERATION);
}

/* 4.1.4.3.2 / 2.5.1: re-read while config_generation changes. */
static uint64_t config_read(QVirtioDev *d, unsigned off, unsigned size)
{
    for (int i = 0; i < 16; i++) {
        uint8_t gen = qvirtio_config_generation(d);
        uint64_t v;

        switch (size) {
        case 1:
            v = qtest_readb(d->s, d->device + off);
            break;
        case 2:
            v = qtest_readw(d->s, d->device + off);
            break;
        case 4:
            v = qtest_readl(d->s, d->device + off);
            break;
        default:
            v = qtest_readl(d->s, d->device + off) |
                (uint64_t)qtest_readl(d->s, d->device + off + 4) << 32;
            break;
        }
        if (qvirtio_config_generation(d) == gen) {
            return v;
        }
    }
    g_assert_not_reached();
}

uint8_t qvirtio_config_readb(QVirtioDev *d, unsigned off)
{
    return config_read(d, off, 1);
}

uint16_t qvirtio_config_readw(QVirtioDev *d, unsigned off)
{
    return config_read(d, off, 2);
}

uint32_t qvirtio_config_readl(QVirtioDev *d, unsigned off)
{
    return config_read(d, off, 4);
}

uint64_t qvirtio_config_readq(QVirtioDev *d, unsigned off)
{
    return config_read(d, off, 8);
}

void qvirtio_config_writeb(QVirtioDev *d, unsigned off, uint8_t v)
{
    qtest_writeb(d->s, d->device + off, v);
}

void qvirtio_config_writew(QVirtioDev *d, unsigned off, uint16_t v)
{
    qtest_writew(d->s, d->device + off, v);
}

void qvirtio_config_writel(QVirtioDev *d, unsigned off, uint32_t v)
{
    qtest_writel(d->s, d->device + off, v);
}

uint8_t qvirtio_isr_read(QVirtioDev *d)
{
    return qtest_readb(d->s, d->isr);
}

/* --- MSI-X ------------------------------------------------------------------------ */

static void msix_set_flags(QVirtioDev *d, uint16_t set, uint16_t clear)
{
    uint8_t off = d->msix_cap + PCI_MSIX_FLAGS;
    uint16_t f = qpci_config_readw(d->s, d->bus, d->devfn, off);

    g_assert_cmpuint(d->msix_cap, !=, 0);
    qpci_config_writew(d->s, d->bus, d->devfn, off, (f & ~clear) | set);
}

void qvirtio_msix_enable(QVirtioDev *d)
{
    msix_set_flags(d, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL);
}

void qvirtio_msix_disable(QVirtioDev *d)
{
    msix_set_flags(d, 0, PCI_MSIX_FLAGS_ENABLE);
}

void qvirtio_msix_setup_vector(QVirtioDev *d, uint16_t v)
{
    uint64_t e = d->msix_table + 16ULL * v;

    g_assert_cmpuint(v, <, d->msix_entries);
    qtest_writel(d->s, e + 0, (uint32_t)QVIRTIO_MSI_ADDR);
    qtest_writel(d->s, e + 4, QVIRTIO_MSI_ADDR >> 32);
    qtest_writel(d->s, e + 8, QVIRTIO_MSI_DATA(v));
    qtest_writel(d->s, e + 12, 0);
}

void qvirtio_msix_mask_vector(QVirtioDev *d, uint16_t v, bool masked)
{
    g_assert_cmpuint(v, <, d->msix_entries);
    qtest_writel(d->s, d->msix_table + 16ULL * v + 12, masked);
}

uint16_t qvirtio_set_config_vector(QVirtioDev *d, uint16_t v)
{
    qvirtio_common_writew(d, VIRTIO_PCI_COMMON_MSIX, v);
    return qvirtio_common_readw(d, VIRTIO_PCI_COMMON_MSIX);
}

/* --- Virtqueues ----------------------------------------------------------------- */

void qvirtqueue_select(QVirtioDev *d, unsigned index)
{
    qvirtio_common_writew(d, VIRTIO_PCI_COMMON_Q_SELECT, index);
}

uint16_t qvirtqueue_max_size(QVirtioDev *d, unsigned index)
{
    qvirtqueue_select(d, index);
    return qvirtio_common_readw(d, VIRTIO_PCI_COMMON_Q_SIZE);
}

static void write_q64(QVirtioDev *d, unsigned lo, uint64_t v)
{
    qvirtio_common_writel(d, lo, v);
    qvirtio_common_writel(d, lo + 4, v >> 32);
}

QVirtQueue *qvirtqueue_setup(QVirtioDev *d, unsigned index, unsigned size,
                             uint16_t vector)
{
    QVirtQueue *vq = g_new0(QVirtQueue, 1);
    uint16_t max = qvirtqueue_max_size(d, index);
    uint16_t noff;

    g_assert_cmpuint(max, !=, 0);
    vq->d = d;
    vq->index = index;
    vq->size = size ? size : max;
    qvirtio_common_writew(d, VIRTIO_PCI_COMMON_Q_SIZE, vq->size);
    g_assert_cmpuint(qvirtio_common_readw(d, VIRTIO_PCI_COMMON_Q_SIZE), ==,
                     vq->size);
    /* 2.7: alignment 16 / 2 / 4. */
    vq->desc = qvirtio_alloc(d, 16ULL * vq->size, 16);
    vq->avail = qvirtio_alloc(d, 6 + 2ULL * vq->size, 4);
    vq->used = qvirtio_alloc(d, 6 + 8ULL * vq->size, 4);
    write_q64(d, VIRTIO_PCI_COMMON_Q_DESCLO, vq->desc);
    write_q64(d, VIRTIO_PCI_COMMON_Q_AVAILLO, vq->avail);
    write_q64(d, VIRTIO_PCI_COMMON_Q_USEDLO, vq->used);
    qvirtio_common_writew(d, VIRTIO_PCI_COMMON_Q_MSIX, vector);
    vq->vector = qvirtio_common_readw(d, VIRTIO_PCI_COMMON_Q_MSIX);
    noff = qvirtio_common_readw(d, VIRTIO_PCI_COMMON_Q_NOFF);
    vq->notify_addr = d->notify + (uint64_t)noff * d->notify_off_multiplier;
    qvirtio_common_writew(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
    g_assert_cmpuint(qvirtio_common_readw(d, VIRTIO_PCI_COMMON_Q_ENABLE), ==,
                     1);
    return vq;
}

void qvirtio_write_desc(QTestState *s, uint64_t table, unsigned i,
                        uint64_t addr, uint32_t len, uint16_t flags,
                        uint16_t next)
{
    uint8_t b[16];

    for (int k = 0; k < 8; k++) {
        b[k] = addr >> (8 * k);
    }
    for (int k = 0; k < 4; k++) {
        b[8 + k] = len >> (8 * k);
    }
    b[12] = flags;
    b[13] = flags >> 8;
    b[14] = next;
    b[15] = next >> 8;
    qtest_memwrite(s, table + 16ULL * i, b, sizeof(b));
}

void qvirtqueue_write_desc(QVirtQueue *vq, unsigned i, uint64_t addr,
                           uint32_t len, uint16_t flags, uint16_t next)
{
    qvirtio_write_desc(vq->d->s, vq->desc, i, addr, len, flags, next);
}

void qvirtqueue_publish(QVirtQueue *vq, uint16_t head)
{
    QTestState *s = vq->d->s;

    qtest_writew(s, vq->avail + VRING_AVAIL_RING +
                    2ULL * (vq->avail_idx % vq->size), head);
    vq->avail_idx++;
    qtest_writew(s, vq->avail + VRING_AVAIL_IDX, vq->avail_idx);
}

void qvirtqueue_set_avail_idx(QVirtQueue *vq, uint16_t idx)
{
    vq->avail_idx = idx;
    qtest_writew(vq->d->s, vq->avail + VRING_AVAIL_IDX, idx);
}

void qvirtqueue_set_avail_flags(QVirtQueue *vq, uint16_t flags)
{
    qtest_writew(vq->d->s, vq->avail, flags);
}

void qvirtqueue_set_used_event(QVirtQueue *vq, uint16_t idx)
{
    qtest_writew(vq->d->s, vq->avail + VRING_AVAIL_RING + 2ULL * vq->size,
                 idx);
}

uint16_t qvirtqueue_get_avail_event(QVirtQueue *vq)
{
    return qtest_readw(vq->d->s, vq->used + VRING_USED_RING +
                                 8ULL * vq->size);
}

uint16_t qvirtqueue_get_used_idx(QVirtQueue *vq)
{
    return qtest_readw(vq->d->s, vq->used + VRING_USED_IDX);
}

uint16_t qvirtqueue_add_chain(QVirtQueue *vq, const QVirtioBuf *bufs,
                              unsigned n)
{
    uint16_t head = vq->free_head;

    g_assert_cmpuint(n, >=, 1);
    g_assert_cmpuint(n, <=, vq->size);
    for (unsigned i = 0; i < n; i++) {
        unsigned idx = (head + i) % vq->size;
        uint16_t flags = (bufs[i].write ? VRING_DESC_F_WRITE : 0) |
                         (i + 1 < n ? VRING_DESC_F_NEXT : 0);

        qvirtqueue_write_desc(vq, idx, bufs[i].addr, bufs[i].len, flags,
                              (head + i + 1) % vq->size);
    }
    vq->free_head = (head + n) % vq->size;
    qvirtqueue_publish(vq, head);
    return head;
}

uint16_t qvirtqueue_add_indirect(QVirtQueue *vq, const QVirtioBuf *bufs,
                                 unsigned n)
{
    uint64_t table = qvirtio_alloc(vq->d, 16ULL * n, 16);
    uint16_t head = vq->free_head;

    g_assert_cmpuint(n, >=, 1);
    for (unsigned i = 0; i < n; i++) {
        uint16_t flags = (bufs[i].write ? VRING_DESC_F_WRITE : 0) |
                         (i + 1 < n ? VRING_DESC_F_NEXT : 0);

        qvirtio_write_desc(vq->d->s, table, i, bufs[i].addr, bufs[i].len,
                           flags, i + 1);
    }
    qvirtqueue_write_desc(vq, head, table, 16 * n, VRING_DESC_F_INDIRECT, 0);
    vq->free_head = (head + 1) % vq->size;
    qvirtqueue_publish(vq, head);
    return head;
}

void qvirtqueue_kick(QVirtQueue *vq)
{
    qtest_writew(vq->d->s, vq->notify_addr, vq->index);
}

bool qvirtqueue_get_used(QVirtQueue *vq, uint32_t *id, uint32_t *len)
{
    QTestState *s = vq->d->s;
    uint64_t e;

    if (qvirtqueue_get_used_idx(vq) == vq->last_used_idx) {
        return false;
    }
    e = vq->used + VRING_USED_RING + 8ULL * (vq->last_used_idx % vq->size);
    if (id) {
        *id = qtest_readl(s, e);
    }
    if (len) {
        *len = qtest_readl(s, e + 4);
    }
    vq->last_used_idx++;
    return true;
}

uint32_t qvirtqueue_wait_used(QVirtQueue *vq, uint16_t head)
{
    uint32_t id, len;

    for (int i = 0; i < USED_POLL_LIMIT; i++) {
        if (qvirtqueue_get_used(vq, &id, &len)) {
            g_assert_cmpuint(id, ==, head);
            return len;
        }
    }
    g_error("virtqueue %u: no used entry for head %u", vq->index, head);
}

/* --- virtio-iommu driver ---------------------------------------------------- */

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = v >> (8 * i);
    }
}

void qvirtio_iommu_start(QVirtioIommu *v, QTestState *s, int devfn,
                         uint64_t alloc_start, uint64_t alloc_size)
{
    uint64_t features = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_IOMMU_F_ALL;

    qvirtio_pci_init(&v->d, s, 0, devfn, alloc_start, alloc_size);
    g_assert_cmpuint(v->d.device_id, ==, VIRTIO_ID_IOMMU);
    qvirtio_start(&v->d, features & qvirtio_get_features(&v->d));
    v->req = qvirtqueue_setup(&v->d, 0, 0, VIRTIO_MSI_NO_VECTOR);
    v->ev = qvirtqueue_setup(&v->d, 1, 0, VIRTIO_MSI_NO_VECTOR);
    qvirtio_set_driver_ok(&v->d);
}

void qvirtio_iommu_stop(QVirtioIommu *v)
{
    g_free(v->req);
    g_free(v->ev);
    v->req = v->ev = NULL;
}

uint32_t qvirtio_iommu_request(QVirtioIommu *v, const void *req,
                               uint32_t len, void *reply,
                               uint32_t reply_len)
{
    uint64_t rd = qvirtio_alloc(&v->d, len, 8);
    uint64_t wr = qvirtio_alloc(&v->d, reply_len, 8);
    QVirtioBuf bufs[2] = { { rd, len, false }, { wr, reply_len, true } };
    uint16_t head;
    uint32_t used;

    qtest_memwrite(v->d.s, rd, req, len);
    qtest_memset(v->d.s, wr, 0xee, reply_len);
    head = qvirtqueue_add_chain(v->req, bufs, 2);
    qvirtqueue_kick(v->req);
    used = qvirtqueue_wait_used(v->req, head);
    qtest_memread(v->d.s, wr, reply, reply_len);
    return used;
}

/* A request whose reply is the 4-byte tail: the status. */
static uint8_t qvirtio_iommu_status_req(QVirtioIommu *v, const uint8_t *req,
                                        uint32_t len)
{
    uint8_t tail[4];

    g_assert_cmpuint(qvirtio_iommu_request(v, req, len, tail, sizeof(tail)),
                     ==, sizeof(tail));
    g_assert_cmphex(tail[1] | tail[2] | tail[3], ==, 0);
    return tail[0];
}

static uint8_t qvirtio_iommu_attach_detach(QVirtioIommu *v, uint8_t type,
                                           uint32_t domain, uint32_t ep)
{
    uint8_t r[20] = { type };

    put_le(r + 4, domain, 4);
    put_le(r + 8, ep, 4);
    return qvirtio_iommu_status_req(v, r, sizeof(r));
}

uint8_t qvirtio_iommu_attach(QVirtioIommu *v, uint32_t domain, uint32_t ep)
{
    return qvirtio_iommu_attach_detach(v, VIRTIO_IOMMU_T_ATTACH, domain, ep);
}

uint8_t qvirtio_iommu_detach(QVirtioIommu *v, uint32_t domain, uint32_t ep)
{
    return qvirtio_iommu_attach_detach(v, VIRTIO_IOMMU_T_DETACH, domain, ep);
}

uint8_t qvirtio_iommu_map(QVirtioIommu *v, uint32_t domain, uint64_t start,
                          uint64_t end, uint64_t phys, uint32_t flags)
{
    uint8_t r[36] = { VIRTIO_IOMMU_T_MAP };

    put_le(r + 4, domain, 4);
    put_le(r + 8, start, 8);
    put_le(r + 16, end, 8);
    put_le(r + 24, phys, 8);
    put_le(r + 32, flags, 4);
    return qvirtio_iommu_status_req(v, r, sizeof(r));
}

uint8_t qvirtio_iommu_unmap(QVirtioIommu *v, uint32_t domain,
                            uint64_t start, uint64_t end)
{
    uint8_t r[28] = { VIRTIO_IOMMU_T_UNMAP };

    put_le(r + 4, domain, 4);
    put_le(r + 8, start, 8);
    put_le(r + 16, end, 8);
    return qvirtio_iommu_status_req(v, r, sizeof(r));
}
