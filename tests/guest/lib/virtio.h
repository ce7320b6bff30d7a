/*
 * Guest-side modern virtio-pci driver (virtio 1.2, 4.1 and 2.7): capability
 * walk, common configuration, feature negotiation with VERSION_1 and split
 * virtqueues whose used ring is polled (no interrupts).  One driver instance
 * per function; everything lives in pages from page_alloc().
 *
 * Layouts are written from the specification; the device side is
 * hw/virtio/virtio-pci.c (docs/virtio.md).
 */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include "guest.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_MODERN(id) (0x1040 + (id))

/* Device status (2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER 0x02
#define VIRTIO_STATUS_DRIVER_OK 0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

/* Transport feature bits (6) */
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33

/* virtio_pci_cap cfg_type (4.1.4) */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define PCI_CAP_ID_VNDR 0x09

/* struct virtio_pci_common_cfg (4.1.4.3) */
#define VIRTIO_COMMON_DFSELECT 0x00 /* le32 */
#define VIRTIO_COMMON_DF 0x04       /* le32 */
#define VIRTIO_COMMON_GFSELECT 0x08 /* le32 */
#define VIRTIO_COMMON_GF 0x0c       /* le32 */
#define VIRTIO_COMMON_MSIX 0x10     /* le16 */
#define VIRTIO_COMMON_NUMQ 0x12     /* le16 */
#define VIRTIO_COMMON_STATUS 0x14   /* u8 */
#define VIRTIO_COMMON_CFGGEN 0x15   /* u8 */
#define VIRTIO_COMMON_Q_SELECT 0x16 /* le16 */
#define VIRTIO_COMMON_Q_SIZE 0x18   /* le16 */
#define VIRTIO_COMMON_Q_MSIX 0x1a   /* le16 */
#define VIRTIO_COMMON_Q_ENABLE 0x1c /* le16 */
#define VIRTIO_COMMON_Q_NOFF 0x1e   /* le16 */
#define VIRTIO_COMMON_Q_DESC 0x20   /* le64, as two le32 */
#define VIRTIO_COMMON_Q_AVAIL 0x28  /* le64, as two le32 */
#define VIRTIO_COMMON_Q_USED 0x30   /* le64, as two le32 */
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* Split virtqueue layout (2.7) */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} __attribute__((packed));

struct virtq_used_elem {
    uint32_t id;
    uint32_t len;
} __attribute__((packed));

/* A function found on the bus, with its capability windows mapped. */
struct virtio_dev {
    uint16_t bdf;
    uint64_t common;        /* physical addresses inside the BARs */
    uint64_t isr;
    uint64_t device;        /* 0 when the device has no config space */
    uint64_t notify;
    uint32_t notify_mult;
    uint64_t features;      /* negotiated */
};

/*
 * One split virtqueue.  The driver keeps descriptors free-listed; a chain
 * is added, kicked and then reaped from the used ring by polling.
 */
struct virtq {
    struct virtio_dev *dev;
    uint16_t index;
    uint16_t size;
    struct virtq_desc *desc;
    volatile uint16_t *avail;   /* flags, idx, ring[size], used_event */
    volatile uint8_t *used;     /* flags, idx, ring[size], avail_event */
    uint64_t notify_addr;
    uint16_t free_head;
    uint16_t num_free;
    uint16_t avail_idx;         /* next avail index the driver publishes */
    uint16_t last_used;         /* next used index the driver reads */
};

/* One buffer of a chain: device-readable unless @writable. */
struct virtq_buf {
    void *addr;
    uint32_t len;
    bool writable;
};

/*
 * Find the @index-th function with virtio device id @id, enable it (memory
 * decode, bus master), walk its vendor capabilities and reset it.  Fails the
 * test (guest_fail) when a required capability is missing.  Returns false
 * only when no such function exists.
 */
bool virtio_pci_find(struct virtio_dev *dev, uint16_t virtio_id,
                     unsigned int index);

uint8_t virtio_get_status(struct virtio_dev *dev);
void virtio_set_status(struct virtio_dev *dev, uint8_t status);
void virtio_reset(struct virtio_dev *dev);
uint64_t virtio_device_features(struct virtio_dev *dev);

/*
 * ACKNOWLEDGE, DRIVER, then offer (@wanted & device features) | VERSION_1
 * and set FEATURES_OK.  Returns false (with a printed reason) when the
 * device does not offer VERSION_1 or refuses FEATURES_OK.  The accepted set
 * is left in dev->features.
 */
bool virtio_negotiate(struct virtio_dev *dev, uint64_t wanted);
/* Set DRIVER_OK after the queues are set up. */
void virtio_driver_ok(struct virtio_dev *dev);

/* Device configuration space accessors (natural widths). */
uint8_t virtio_cfg_read8(struct virtio_dev *dev, unsigned int off);
uint32_t virtio_cfg_read32(struct virtio_dev *dev, unsigned int off);
uint64_t virtio_cfg_read64(struct virtio_dev *dev, unsigned int off);
void virtio_cfg_write8(struct virtio_dev *dev, unsigned int off, uint8_t v);

/*
 * Allocate and enable queue @index with at most @max_size entries (the
 * device's size if smaller).  No MSI-X vector is assigned: completions are
 * polled.  Returns false if the queue does not exist.
 */
bool virtq_setup(struct virtq *vq, struct virtio_dev *dev, uint16_t index,
                 uint16_t max_size);

/*
 * Publish a chain of @n buffers (readable ones first) on the avail ring
 * without notifying.  Returns the head descriptor index, or -1 if the ring
 * has fewer than @n free descriptors.
 */
int virtq_add(struct virtq *vq, const struct virtq_buf *bufs, unsigned int n);
void virtq_kick(struct virtq *vq);
/*
 * Take the next used element, if any: its head id and used length.
 * Returns false when the used ring holds nothing new.  The chain's
 * descriptors go back to the free list.
 */
bool virtq_get_used(struct virtq *vq, uint32_t *id, uint32_t *len);
/* Poll virtq_get_used() for up to @ms milliseconds. */
bool virtq_wait_used(struct virtq *vq, uint32_t *id, uint32_t *len,
                     uint64_t ms);

#endif /* GUEST_VIRTIO_H */
