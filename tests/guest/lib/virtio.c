/*
 * Guest-side modern virtio-pci driver; see virtio.h.
 */
#include "virtio.h"

/* virtio_pci_cap (4.1.4) */
#define CAP_CFG_TYPE 3
#define CAP_BAR 4
#define CAP_OFFSET 8
#define CAP_LENGTH 12
#define CAP_NOTIFY_MULT 16

/* Split ring (2.7.6, 2.7.8) */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_IDX 2
#define VIRTQ_USED_RING 4

/* The largest queue this driver builds: one page of descriptors. */
#define VIRTQ_MAX_SIZE 256

static uint64_t cap_window(uint16_t bdf, uint8_t cap)
{
    uint8_t bar = pci_cfg_read8(bdf, cap + CAP_BAR);
    uint64_t base;

    if (bar > 5 || pci_bar_is_io(bdf, bar)) {
        guest_fail("virtio %02x:%02x.%x: capability at 0x%x names BAR %u",
                   PCI_BUS(bdf), PCI_SLOT(bdf), PCI_FUNC(bdf), cap, bar);
    }
    base = pci_bar_addr(bdf, bar);
    if (!base) {
        guest_fail("virtio %02x:%02x.%x: BAR %u is not assigned",
                   PCI_BUS(bdf), PCI_SLOT(bdf), PCI_FUNC(bdf), bar);
    }
    return base + pci_cfg_read32(bdf, cap + CAP_OFFSET);
}

bool virtio_pci_find(struct virtio_dev *dev, uint16_t virtio_id,
                     unsigned int index)
{
    int bdf = pci_find_device(VIRTIO_PCI_VENDOR,
                              VIRTIO_PCI_DEVICE_MODERN(virtio_id), index);
    uint8_t cap;
    unsigned int guard = 0;

    if (bdf < 0) {
        return false;
    }
    memset(dev, 0, sizeof(*dev));
    dev->bdf = bdf;
    pci_enable(bdf);

    cap = pci_cfg_read16(bdf, PCI_STATUS) & PCI_STATUS_CAP_LIST ?
          pci_cfg_read8(bdf, PCI_CAPABILITY_LIST) & 0xfc : 0;
    /* 48 capabilities fit in the 192 bytes after the header: a loop. */
    while (cap && guard++ < 48) {
        if (pci_cfg_read8(bdf, cap) == PCI_CAP_ID_VNDR) {
            switch (pci_cfg_read8(bdf, cap + CAP_CFG_TYPE)) {
            case VIRTIO_PCI_CAP_COMMON_CFG:
                dev->common = dev->common ? dev->common : cap_window(bdf, cap);
                break;
            case VIRTIO_PCI_CAP_ISR_CFG:
                dev->isr = dev->isr ? dev->isr : cap_window(bdf, cap);
                break;
            case VIRTIO_PCI_CAP_DEVICE_CFG:
                dev->device = dev->device ? dev->device : cap_window(bdf, cap);
                break;
            case VIRTIO_PCI_CAP_NOTIFY_CFG:
                if (!dev->notify) {
                    dev->notify = cap_window(bdf, cap);
                    dev->notify_mult =
                        pci_cfg_read32(bdf, cap + CAP_NOTIFY_MULT);
                }
                break;
            }
        }
        cap = pci_cfg_read8(bdf, cap + 1) & 0xfc;
    }
    if (!dev->common || !dev->isr || !dev->notify) {
        guest_fail("virtio %02x:%02x.%x: missing capability (common %s, "
                   "isr %s, notify %s)", PCI_BUS(bdf), PCI_SLOT(bdf),
                   PCI_FUNC(bdf), dev->common ? "ok" : "none",
                   dev->isr ? "ok" : "none", dev->notify ? "ok" : "none");
    }
    virtio_reset(dev);
    return true;
}

uint8_t virtio_get_status(struct virtio_dev *dev)
{
    return readb(dev->common + VIRTIO_COMMON_STATUS);
}

void virtio_set_status(struct virtio_dev *dev, uint8_t status)
{
    writeb(dev->common + VIRTIO_COMMON_STATUS, status);
}

/* 4.1.4.3.2: after writing 0 the driver waits until status reads 0. */
void virtio_reset(struct virtio_dev *dev)
{
    uint64_t deadline = timeout_start(1000);

    virtio_set_status(dev, 0);
    while (virtio_get_status(dev)) {
        if (timeout_expired(deadline)) {
            guest_fail("virtio %02x:%02x.%x: reset does not complete",
                       PCI_BUS(dev->bdf), PCI_SLOT(dev->bdf),
                       PCI_FUNC(dev->bdf));
        }
        cpu_relax();
    }
    dev->features = 0;
}

uint64_t virtio_device_features(struct virtio_dev *dev)
{
    uint64_t lo, hi;

    writel(dev->common + VIRTIO_COMMON_DFSELECT, 0);
    lo = readl(dev->common + VIRTIO_COMMON_DF);
    writel(dev->common + VIRTIO_COMMON_DFSELECT, 1);
    hi = readl(dev->common + VIRTIO_COMMON_DF);
    return hi << 32 | lo;
}

bool virtio_negotiate(struct virtio_dev *dev, uint64_t wanted)
{
    uint64_t offered = virtio_device_features(dev);
    uint64_t features;

    virtio_set_status(dev, VIRTIO_STATUS_ACKNOWLEDGE);
    virtio_set_status(dev, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    if (!(offered & BIT(VIRTIO_F_VERSION_1))) {
        printf("virtio: device features 0x%llx lack VERSION_1\n",
               (unsigned long long)offered);
        return false;
    }
    features = (offered & wanted) | BIT(VIRTIO_F_VERSION_1);
    writel(dev->common + VIRTIO_COMMON_GFSELECT, 0);
    writel(dev->common + VIRTIO_COMMON_GF, (uint32_t)features);
    writel(dev->common + VIRTIO_COMMON_GFSELECT, 1);
    writel(dev->common + VIRTIO_COMMON_GF, (uint32_t)(features >> 32));
    virtio_set_status(dev, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                      VIRTIO_STATUS_FEATURES_OK);
    if (!(virtio_get_status(dev) & VIRTIO_STATUS_FEATURES_OK)) {
        printf("virtio: device refused features 0x%llx\n",
               (unsigned long long)features);
        return false;
    }
    dev->features = features;
    return true;
}

void virtio_driver_ok(struct virtio_dev *dev)
{
    virtio_set_status(dev, virtio_get_status(dev) | VIRTIO_STATUS_DRIVER_OK);
}

uint8_t virtio_cfg_read8(struct virtio_dev *dev, unsigned int off)
{
    return readb(dev->device + off);
}

uint32_t virtio_cfg_read32(struct virtio_dev *dev, unsigned int off)
{
    return readl(dev->device + off);
}

/* A 64-bit field is read as two halves, retried while config_generation
 * moves (4.1.4.3.1). */
uint64_t virtio_cfg_read64(struct virtio_dev *dev, unsigned int off)
{
    uint8_t gen;
    uint64_t v;

    do {
        gen = readb(dev->common + VIRTIO_COMMON_CFGGEN);
        v = readl(dev->device + off) |
            (uint64_t)readl(dev->device + off + 4) << 32;
    } while (gen != readb(dev->common + VIRTIO_COMMON_CFGGEN));
    return v;
}

void virtio_cfg_write8(struct virtio_dev *dev, unsigned int off, uint8_t v)
{
    writeb(dev->device + off, v);
}

static void write64_split(uint64_t addr, uint64_t v)
{
    writel(addr, (uint32_t)v);
    writel(addr + 4, (uint32_t)(v >> 32));
}

bool virtq_setup(struct virtq *vq, struct virtio_dev *dev, uint16_t index,
                 uint16_t max_size)
{
    uint64_t c = dev->common;
    uint16_t size;

    writew(c + VIRTIO_COMMON_Q_SELECT, index);
    size = readw(c + VIRTIO_COMMON_Q_SIZE);
    if (!size) {
        return false;
    }
    if (max_size > VIRTQ_MAX_SIZE) {
        max_size = VIRTQ_MAX_SIZE;
    }
    /* Queue sizes are powers of two: halve down to the limit. */
    while (size > max_size) {
        size >>= 1;
    }

    memset(vq, 0, sizeof(*vq));
    vq->dev = dev;
    vq->index = index;
    vq->size = size;
    vq->desc = page_alloc();
    vq->avail = page_alloc();
    vq->used = page_alloc();
    for (uint16_t i = 0; i < size; i++) {
        vq->desc[i].next = i + 1;
    }
    vq->num_free = size;
    /* Completions are polled: ask the device not to interrupt. */
    vq->avail[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;

    writew(c + VIRTIO_COMMON_Q_SIZE, size);
    writew(c + VIRTIO_COMMON_Q_MSIX, VIRTIO_MSI_NO_VECTOR);
    write64_split(c + VIRTIO_COMMON_Q_DESC, virt_to_phys(vq->desc));
    write64_split(c + VIRTIO_COMMON_Q_AVAIL, virt_to_phys((void *)vq->avail));
    write64_split(c + VIRTIO_COMMON_Q_USED, virt_to_phys((void *)vq->used));
    vq->notify_addr = dev->notify +
        (uint64_t)readw(c + VIRTIO_COMMON_Q_NOFF) * dev->notify_mult;
    mb();
    writew(c + VIRTIO_COMMON_Q_ENABLE, 1);
    return readw(c + VIRTIO_COMMON_Q_ENABLE) == 1;
}

int virtq_add(struct virtq *vq, const struct virtq_buf *bufs, unsigned int n)
{
    uint16_t head = vq->free_head, i = head, last = head;

    if (!n || n > vq->num_free) {
        return -1;
    }
    for (unsigned int k = 0; k < n; k++) {
        struct virtq_desc *d = &vq->desc[i];

        d->addr = virt_to_phys(bufs[k].addr);
        d->len = bufs[k].len;
        d->flags = (bufs[k].writable ? VIRTQ_DESC_F_WRITE : 0) |
                   (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
        last = i;
        i = d->next;
    }
    vq->free_head = vq->desc[last].next;
    vq->num_free -= n;

    vq->avail[2 + vq->avail_idx % vq->size] = head;
    mb();                       /* ring entry before the index (2.7.13) */
    vq->avail_idx++;
    vq->avail[1] = vq->avail_idx;
    mb();
    return head;
}

void virtq_kick(struct virtq *vq)
{
    writew(vq->notify_addr, vq->index);
}

bool virtq_get_used(struct virtq *vq, uint32_t *id, uint32_t *len)
{
    volatile uint16_t *used_idx = (volatile uint16_t *)(vq->used +
                                                        VIRTQ_USED_IDX);
    volatile struct virtq_used_elem *e;
    uint16_t i, n = 1;

    if (*used_idx == vq->last_used) {
        return false;
    }
    mb();                       /* index before the entry it covers */
    e = (volatile struct virtq_used_elem *)(vq->used + VIRTQ_USED_RING) +
        vq->last_used % vq->size;
    if (e->id >= vq->size) {
        guest_fail("virtq %u: used id %u beyond queue size %u", vq->index,
                   e->id, vq->size);
    }
    *id = e->id;
    *len = e->len;
    vq->last_used++;

    /* Give the chain back: walk it to its last descriptor. */
    for (i = *id; vq->desc[i].flags & VIRTQ_DESC_F_NEXT; i = vq->desc[i].next) {
        if (++n > vq->size) {
            guest_fail("virtq %u: chain at %u loops", vq->index, *id);
        }
    }
    vq->desc[i].next = vq->free_head;
    vq->free_head = *id;
    vq->num_free += n;
    return true;
}

bool virtq_wait_used(struct virtq *vq, uint32_t *id, uint32_t *len,
                     uint64_t ms)
{
    uint64_t deadline = timeout_start(ms);

    while (!virtq_get_used(vq, id, len)) {
        if (timeout_expired(deadline)) {
            return false;
        }
        cpu_relax();
    }
    return true;
}
