/*
 * libvirtio: a test-side virtio-pci driver for qtests (virtio 1.2, modern
 * PCI transport, split virtqueues).
 *
 * The test plays the guest driver: it finds the function, reads the BARs
 * the firmware assigned, walks the vendor capabilities, resets and
 * negotiates, lays out split virtqueues in guest RAM (a bump allocator
 * over an area the test names), programs MSI-X vectors whose messages go
 * to 0xfee00000 with a data value per vector (pop them with
 * qtest_msi_pop), adds descriptor chains, kicks and reads the used ring.
 * Raw helpers build malformed rings for robustness tests.
 *
 * The device processes a kick synchronously (no clock needed): after
 * qvirtqueue_kick() the used ring is already updated.
 *
 * Constants are written here from the specification, independently of
 * include/hw/virtio/, so the tests check the model against the spec.
 * Every helper asserts on a protocol failure.
 */
#ifndef LIBVIRTIO_H
#define LIBVIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "libqtest.h"

/* --- Spec constants ------------------------------------------------------- */
#define VIRTIO_PCI_VENDOR_ID            0x1af4
#define VIRTIO_PCI_DEVICE_ID_MODERN     0x1040  /* + device id (4.1.2) */
#define VIRTIO_ID_RNG                   4
#define VIRTIO_ID_IOMMU                 23

/* 2.1 Device status */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE     1
#define VIRTIO_CONFIG_S_DRIVER          2
#define VIRTIO_CONFIG_S_DRIVER_OK       4
#define VIRTIO_CONFIG_S_FEATURES_OK     8
#define VIRTIO_CONFIG_S_NEEDS_RESET     0x40
#define VIRTIO_CONFIG_S_FAILED          0x80

/* 6 Reserved feature bits */
#define VIRTIO_RING_F_INDIRECT_DESC     28
#define VIRTIO_RING_F_EVENT_IDX         29
#define VIRTIO_F_VERSION_1              32
#define VIRTIO_F_ACCESS_PLATFORM        33
#define VIRTIO_F_RING_RESET             40
#define VIRTIO_BIT(b)                   (1ULL << (b))

#define VIRTIO_MSI_NO_VECTOR            0xffff

/* 2.7 split virtqueue */
#define VRING_DESC_F_NEXT               1
#define VRING_DESC_F_WRITE              2
#define VRING_DESC_F_INDIRECT           4
#define VRING_AVAIL_F_NO_INTERRUPT      1

/* 4.1.4 capabilities */
#define VIRTIO_PCI_CAP_COMMON_CFG       1
#define VIRTIO_PCI_CAP_NOTIFY_CFG       2
#define VIRTIO_PCI_CAP_ISR_CFG          3
#define VIRTIO_PCI_CAP_DEVICE_CFG       4
#define VIRTIO_PCI_CAP_PCI_CFG          5

/* 4.1.4.3 common configuration */
#define VIRTIO_PCI_COMMON_DFSELECT      0x00
#define VIRTIO_PCI_COMMON_DF            0x04
#define VIRTIO_PCI_COMMON_GFSELECT      0x08
#define VIRTIO_PCI_COMMON_GF            0x0c
#define VIRTIO_PCI_COMMON_MSIX          0x10
#define VIRTIO_PCI_COMMON_NUMQ          0x12
#define VIRTIO_PCI_COMMON_STATUS        0x14
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15
#define VIRTIO_PCI_COMMON_Q_SELECT      0x16
#define VIRTIO_PCI_COMMON_Q_SIZE        0x18
#define VIRTIO_PCI_COMMON_Q_MSIX        0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE      0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF        0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO      0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI      0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO     0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI     0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO      0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI      0x34
#define VIRTIO_PCI_COMMON_Q_NDATA       0x38
#define VIRTIO_PCI_COMMON_Q_RESET       0x3a

/* MSI messages the helpers program: vector v -> data QVIRTIO_MSI_DATA(v). */
#define QVIRTIO_MSI_ADDR                0xfee00000ULL
#define QVIRTIO_MSI_DATA(v)             (0x4000u + (v))

/* --- Device ------------------------------------------------------------------ */

typedef struct QVirtioDev {
    QTestState *s;
    int bus, devfn;
    uint16_t device_id;         /* virtio device id (PCI id - 0x1040) */

    /* Config-space offsets of the capabilities (0: absent). */
    uint8_t common_cap, notify_cap, isr_cap, device_cap, pci_cfg_cap;
    uint8_t msix_cap;

    /* Guest-physical addresses of the structures. */
    uint64_t common, notify, isr, device;
    uint32_t common_len, notify_len, isr_len, device_len;
    uint32_t notify_off_multiplier;
    uint64_t msix_table;        /* 0 without MSI-X */
    unsigned msix_entries;

    uint64_t features;          /* accepted at the last negotiation */

    /* Guest-RAM bump allocator. */
    uint64_t alloc_next, alloc_end;
} QVirtioDev;

/*
 * Finds the nth (from 0) virtio-pci function with that virtio device id on
 * buses 0-15; false if none.  Fills bus/devfn only.
 */
bool qvirtio_pci_find(QTestState *s, uint16_t device_id, int nth,
                      int *bus, int *devfn);
/*
 * Prepares d for the function at bus/devfn: reads the BARs the firmware
 * assigned, enables memory decode and bus mastering, walks the vendor
 * capabilities (asserting COMMON, NOTIFY, ISR are present) and MSI-X.
 * Guest allocations come from [alloc_start, alloc_start + alloc_size).
 */
void qvirtio_pci_init(QVirtioDev *d, QTestState *s, int bus, int devfn,
                      uint64_t alloc_start, uint64_t alloc_size);
/* qvirtio_pci_find (nth 0, asserting) + qvirtio_pci_init. */
void qvirtio_pci_init_by_id(QVirtioDev *d, QTestState *s, uint16_t device_id,
                            uint64_t alloc_start, uint64_t alloc_size);

/* Zeroed guest memory, aligned (power of 2). */
uint64_t qvirtio_alloc(QVirtioDev *d, uint64_t size, uint64_t align);

/* Common configuration registers. */
uint8_t qvirtio_common_readb(QVirtioDev *d, unsigned off);
uint16_t qvirtio_common_readw(QVirtioDev *d, unsigned off);
uint32_t qvirtio_common_readl(QVirtioDev *d, unsigned off);
void qvirtio_common_writeb(QVirtioDev *d, unsigned off, uint8_t v);
void qvirtio_common_writew(QVirtioDev *d, unsigned off, uint16_t v);
void qvirtio_common_writel(QVirtioDev *d, unsigned off, uint32_t v);

uint8_t qvirtio_get_status(QVirtioDev *d);
void qvirtio_set_status(QVirtioDev *d, uint8_t status);
/* Writes 0 and asserts the device reads back 0. */
void qvirtio_reset(QVirtioDev *d);
/* The 64 offered feature bits. */
uint64_t qvirtio_get_features(QVirtioDev *d);
/* Writes the 64 driver feature bits. */
void qvirtio_write_driver_features(QVirtioDev *d, uint64_t features);
/*
 * reset, ACKNOWLEDGE | DRIVER, driver features, FEATURES_OK; returns
 * whether FEATURES_OK reads back set (d->features = features if so).
 */
bool qvirtio_negotiate(QVirtioDev *d, uint64_t features);
/* Sets DRIVER_OK on top of the current status. */
void qvirtio_set_driver_ok(QVirtioDev *d);
/* negotiate (asserting success); DRIVER_OK is left to the caller. */
void qvirtio_start(QVirtioDev *d, uint64_t features);

/* Device configuration, generation-checked reads (retries on a change). */
uint8_t qvirtio_config_readb(QVirtioDev *d, unsigned off);
uint16_t qvirtio_config_readw(QVirtioDev *d, unsigned off);
uint32_t qvirtio_config_readl(QVirtioDev *d, unsigned off);
uint64_t qvirtio_config_readq(QVirtioDev *d, unsigned off);
void qvirtio_config_writeb(QVirtioDev *d, unsigned off, uint8_t v);
void qvirtio_config_writew(QVirtioDev *d, unsigned off, uint16_t v);
void qvirtio_config_writel(QVirtioDev *d, unsigned off, uint32_t v);
uint8_t qvirtio_config_generation(QVirtioDev *d);

/* ISR status (reading clears it). */
uint8_t qvirtio_isr_read(QVirtioDev *d);

/* MSI-X: enable the function, program table entry v with
 * QVIRTIO_MSI_ADDR / QVIRTIO_MSI_DATA(v), unmasked. */
void qvirtio_msix_enable(QVirtioDev *d);
void qvirtio_msix_disable(QVirtioDev *d);
void qvirtio_msix_setup_vector(QVirtioDev *d, uint16_t v);
void qvirtio_msix_mask_vector(QVirtioDev *d, uint16_t v, bool masked);
/* Writes config_msix_vector; returns what the device reads back. */
uint16_t qvirtio_set_config_vector(QVirtioDev *d, uint16_t v);

/* --- Virtqueues ------------------------------------------------------------ */

typedef struct QVirtQueue {
    QVirtioDev *d;
    unsigned index;
    unsigned size;
    uint64_t desc, avail, used;     /* guest addresses */
    uint64_t notify_addr;
    uint16_t avail_idx;             /* driver's next avail idx */
    uint16_t last_used_idx;         /* next used entry to consume */
    uint16_t free_head;             /* next descriptor slot (wraps) */
    uint16_t vector;                /* as read back */
} QVirtQueue;

/* One buffer of a chain. */
typedef struct QVirtioBuf {
    uint64_t addr;
    uint32_t len;
    bool write;                     /* device-writable */
} QVirtioBuf;

/*
 * Sets up queue index: size (0 = the device's maximum), rings allocated
 * and zeroed, MSI-X vector (VIRTIO_MSI_NO_VECTOR for none), enabled.
 * Returns a g_malloc'd queue (g_free it).
 */
QVirtQueue *qvirtqueue_setup(QVirtioDev *d, unsigned index, unsigned size,
                             uint16_t vector);
/* Maximum size the device offers for queue index. */
uint16_t qvirtqueue_max_size(QVirtioDev *d, unsigned index);
/* Writes queue_select. */
void qvirtqueue_select(QVirtioDev *d, unsigned index);

/*
 * Writes n descriptors chained with NEXT starting at vq->free_head
 * (wrapping), flags WRITE per buf, publishes the head in the avail ring
 * and returns it.  n <= vq->size.
 */
uint16_t qvirtqueue_add_chain(QVirtQueue *vq, const QVirtioBuf *bufs,
                              unsigned n);
/*
 * Writes the n bufs as an indirect table (allocated in guest RAM), one
 * descriptor with INDIRECT pointing at it, publishes it; returns the head.
 */
uint16_t qvirtqueue_add_indirect(QVirtQueue *vq, const QVirtioBuf *bufs,
                                 unsigned n);
/* Notifies the device of queue vq (writes the notify address). */
void qvirtqueue_kick(QVirtQueue *vq);
/*
 * Consumes the next used entry if the device produced one: true with
 * id/len (either may be NULL).
 */
bool qvirtqueue_get_used(QVirtQueue *vq, uint32_t *id, uint32_t *len);
/* Polls (bounded, asserting) until a used entry arrives; returns len and
 * asserts its id is head. */
uint32_t qvirtqueue_wait_used(QVirtQueue *vq, uint16_t head);

/* --- Raw ring access (malformed input) ------------------------------------- */

/* Writes descriptor i of a table at table (vq->desc or an indirect one). */
void qvirtio_write_desc(QTestState *s, uint64_t table, unsigned i,
                        uint64_t addr, uint32_t len, uint16_t flags,
                        uint16_t next);
/* Descriptor i of vq's table. */
void qvirtqueue_write_desc(QVirtQueue *vq, unsigned i, uint64_t addr,
                           uint32_t len, uint16_t flags, uint16_t next);
/* Puts head in the avail ring at avail_idx and increments avail_idx
 * (head is not checked: any value may be published). */
void qvirtqueue_publish(QVirtQueue *vq, uint16_t head);
/* Writes avail->idx as is (vq->avail_idx is set to it). */
void qvirtqueue_set_avail_idx(QVirtQueue *vq, uint16_t idx);
void qvirtqueue_set_avail_flags(QVirtQueue *vq, uint16_t flags);
/* EVENT_IDX: used_event (after the avail ring), avail_event (after the
 * used ring). */
void qvirtqueue_set_used_event(QVirtQueue *vq, uint16_t idx);
uint16_t qvirtqueue_get_avail_event(QVirtQueue *vq);
/* used->idx as the device left it. */
uint16_t qvirtqueue_get_used_idx(QVirtQueue *vq);

/* --- virtio-iommu driver (5.13) -------------------------------------------- */

/* 5.13.3 feature bits 0-6 (INPUT_RANGE ... BYPASS_CONFIG) */
#define VIRTIO_IOMMU_F_ALL              0x7fULL
/* 5.13.6 request types and status */
#define VIRTIO_IOMMU_T_ATTACH           1
#define VIRTIO_IOMMU_T_DETACH           2
#define VIRTIO_IOMMU_T_MAP              3
#define VIRTIO_IOMMU_T_UNMAP            4
#define VIRTIO_IOMMU_T_PROBE            5
#define VIRTIO_IOMMU_S_OK               0
#define VIRTIO_IOMMU_S_INVAL            4
/* 5.13.6.6 MAP flags */
#define VIRTIO_IOMMU_MAP_F_READ         1
#define VIRTIO_IOMMU_MAP_F_WRITE        2

/* A driver of virtio-iommu: its request and event queues. */
typedef struct QVirtioIommu {
    QVirtioDev d;
    QVirtQueue *req, *ev;
} QVirtioIommu;

/*
 * Drives the virtio-iommu-pci function at bus 0, devfn to DRIVER_OK with
 * VERSION_1 and every device feature it offers; requestq and eventq set up
 * without MSI-X vectors (the eventq gets no buffers).  Guest allocations
 * as for qvirtio_pci_init().
 */
void qvirtio_iommu_start(QVirtioIommu *v, QTestState *s, int devfn,
                         uint64_t alloc_start, uint64_t alloc_size);
/* Frees the queues (the device is left as it is). */
void qvirtio_iommu_stop(QVirtioIommu *v);
/*
 * One request: len bytes readable, then reply_len bytes writable (filled
 * with 0xee first), which are read back into reply.  Returns the used
 * length.
 */
uint32_t qvirtio_iommu_request(QVirtioIommu *v, const void *req,
                               uint32_t len, void *reply,
                               uint32_t reply_len);
/*
 * ATTACH, DETACH, MAP [start, end] -> phys, UNMAP [start, end], flags and
 * reserved fields 0 (MAP: flags as given): each asserts the device wrote
 * the 4-byte tail with its reserved bytes 0, and returns the status.
 */
uint8_t qvirtio_iommu_attach(QVirtioIommu *v, uint32_t domain, uint32_t ep);
uint8_t qvirtio_iommu_detach(QVirtioIommu *v, uint32_t domain, uint32_t ep);
uint8_t qvirtio_iommu_map(QVirtioIommu *v, uint32_t domain, uint64_t start,
                          uint64_t end, uint64_t phys, uint32_t flags);
uint8_t qvirtio_iommu_unmap(QVirtioIommu *v, uint32_t domain,
                            uint64_t start, uint64_t end);

#endif
