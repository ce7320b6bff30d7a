/*
 * virtio core: devices, the virtio bus and split virtqueues (virtio 1.2).
 *
 * Shape (as in QEMU): a virtio device (TYPE_VIRTIO_DEVICE subclass, e.g.
 * "virtio-rng", "virtio-iommu") is a qdev device plugged into a
 * "virtio-bus" that its transport provides.  viommu has one transport,
 * virtio-pci (include/hw/virtio/virtio-pci.h): a PCI proxy device such as
 * "virtio-iommu-pci" creates its backend device as QOM child
 * "virtio-backend" in instance_init and realizes it on the proxy's own
 * virtio bus (one device per bus) during the proxy's realize.  The device
 * never sees PCI; it reaches the transport only through VirtioBusClass
 * (interrupts, DMA address space and attributes).
 *
 * Life cycle of a device model:
 *   realize (VirtioDeviceClass.realize): virtio_init(vdev, id, config_size),
 *     then virtio_add_queue() for every queue;
 *   the transport reads device_id, config_len and the queues, and offers
 *     get_features(transport features) as the device features;
 *   the driver negotiates, sets up queues and sets DRIVER_OK; a kick calls
 *     the queue's handle_output, which pops elements, reads/writes their
 *     buffers, pushes them and notifies the driver;
 *   reset (driver writes status 0, or system reset): VirtioDeviceClass.reset
 *     (the device drops the elements it holds), then the core resets status,
 *     features and every queue;
 *   unrealize (VirtioDeviceClass.unrealize): the device frees its own
 *     state; the core then calls virtio_cleanup(vdev) itself.
 *
 * Guest input is hostile.  Every ring index, descriptor address, length,
 * flag combination and chain shape is validated when an element is popped;
 * a violation calls virtio_error(): the device is marked broken
 * (DEVICE_NEEDS_RESET in device_status, config interrupt), pops return
 * NULL and kicks are ignored until the driver resets the device.  Nothing
 * a driver does aborts the emulator.
 *
 * Buffers are never host pointers: a VirtQueueElement holds guest (bus)
 * addresses, and virtqueue_elem_read()/virtqueue_elem_write() copy through
 * the transport's DMA address space (for virtio-pci the proxy's bus-master
 * address space, so bus mastering and any vIOMMU in front of the device
 * apply to every access, ring accesses included).
 *
 * Threading: main loop thread / big lock, like all device models.
 */
#ifndef HW_VIRTIO_VIRTIO_H
#define HW_VIRTIO_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/qdev-core.h"
#include "system/memory.h"

#define TYPE_VIRTIO_DEVICE      "virtio-device"
#define TYPE_VIRTIO_BUS         "virtio-bus"

/* --- Device IDs (virtio 1.2, 5 "Device Types") --------------------------- */
#define VIRTIO_ID_NET           1
#define VIRTIO_ID_BLOCK         2
#define VIRTIO_ID_CONSOLE       3
#define VIRTIO_ID_RNG           4
#define VIRTIO_ID_IOMMU         23

/* --- Device status (2.1 "Device Status Field") ---------------------------- */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE     1
#define VIRTIO_CONFIG_S_DRIVER          2
#define VIRTIO_CONFIG_S_DRIVER_OK       4
#define VIRTIO_CONFIG_S_FEATURES_OK     8
#define VIRTIO_CONFIG_S_NEEDS_RESET     0x40
#define VIRTIO_CONFIG_S_FAILED          0x80

/* --- Reserved feature bits (6 "Reserved Feature Bits") -------------------- */
#define VIRTIO_RING_F_INDIRECT_DESC     28
#define VIRTIO_RING_F_EVENT_IDX         29
#define VIRTIO_F_VERSION_1              32
#define VIRTIO_F_ACCESS_PLATFORM        33
#define VIRTIO_F_RING_PACKED            34
#define VIRTIO_F_IN_ORDER               35
#define VIRTIO_F_NOTIFICATION_DATA      38
#define VIRTIO_F_RING_RESET             40
/* Device-type feature bits are 0-23 (and 50-127). */
#define VIRTIO_DEVICE_FEATURES_END      24

/* ISR status (4.1.4.5 "ISR status capability") */
#define VIRTIO_ISR_QUEUE                0x1
#define VIRTIO_ISR_CONFIG               0x2

/* "No vector" for config_msix_vector / queue_msix_vector (4.1.4.3). */
#define VIRTIO_MSI_NO_VECTOR            0xffff

/* --- Split virtqueue layout (2.7 "Split Virtqueues") ---------------------- */
/* 2.7.5 "The Virtqueue Descriptor Table": 16 bytes, alignment 16. */
#define VRING_DESC_SIZE                 16
#define VRING_DESC_ADDR                 0   /* le64 */
#define VRING_DESC_LEN                  8   /* le32 */
#define VRING_DESC_FLAGS                12  /* le16 */
#define VRING_DESC_NEXT                 14  /* le16 */
#define  VRING_DESC_F_NEXT              1
#define  VRING_DESC_F_WRITE             2
#define  VRING_DESC_F_INDIRECT          4
#define VRING_DESC_ALIGN                16
/* 2.7.6 "The Virtqueue Available Ring": alignment 2. */
#define VRING_AVAIL_FLAGS               0   /* le16 */
#define  VRING_AVAIL_F_NO_INTERRUPT     1
#define VRING_AVAIL_IDX                 2   /* le16 */
#define VRING_AVAIL_RING                4   /* le16 ring[size], then
                                             * le16 used_event */
#define VRING_AVAIL_ALIGN               2
/* 2.7.8 "The Virtqueue Used Ring": alignment 4. */
#define VRING_USED_FLAGS                0   /* le16 */
#define  VRING_USED_F_NO_NOTIFY         1
#define VRING_USED_IDX                  2   /* le16 */
#define VRING_USED_RING                 4   /* {le32 id, le32 len}[size],
                                             * then le16 avail_event */
#define VRING_USED_ELEM_SIZE            8
#define VRING_USED_ALIGN                4

/* Limits of this implementation. */
#define VIRTIO_QUEUE_MAX                64      /* queues per device */
#define VIRTQUEUE_MAX_SIZE              1024    /* max queue size; also the
                                                 * most buffers per element */

typedef struct VirtIODevice VirtIODevice;
typedef struct VirtioDeviceClass VirtioDeviceClass;
typedef struct VirtQueue VirtQueue;
typedef struct VirtioBusState VirtioBusState;
typedef struct VirtioBusClass VirtioBusClass;

/* Called when the driver kicks the queue (device is DRIVER_OK, not broken). */
typedef void (*VirtIOHandleOutput)(VirtIODevice *vdev, VirtQueue *vq);

/* --- Elements -------------------------------------------------------------- */

/* One buffer of a chain: a guest (bus) address and a length > 0. */
typedef struct VirtQueueBuf {
    hwaddr addr;
    uint32_t len;
} VirtQueueBuf;

/*
 * A popped descriptor chain.  out = device-readable buffers (driver ->
 * device), in = device-writable buffers (device -> driver), each in chain
 * order.  Allocated by virtqueue_pop() as one block (the caller's struct,
 * which embeds this one first, then the two arrays): release it with
 * g_free() after push or detach.
 */
typedef struct VirtQueueElement {
    VirtIODevice *vdev;         /* whose DMA address space the bufs are in */
    unsigned int index;         /* head descriptor index: the used id */
    unsigned int ndescs;        /* descriptors walked (indirect included) */
    unsigned int out_num;
    unsigned int in_num;
    uint64_t out_len;           /* sum of out_sg lengths (< 2^32) */
    uint64_t in_len;            /* sum of in_sg lengths (< 2^32) */
    VirtQueueBuf *out_sg;
    VirtQueueBuf *in_sg;
} VirtQueueElement;

/* --- Virtqueues ------------------------------------------------------------ */

/*
 * Virtqueue state.  The transport writes the driver-visible configuration
 * (num, vector, desc/avail/used while !enabled) and calls
 * virtio_queue_enable() / virtio_queue_reset(); the rest is the core's.
 * Devices use the functions below, not the fields.
 */
struct VirtQueue {
    VirtIODevice *vdev;
    uint16_t index;
    uint16_t max_num;           /* 0: queue does not exist */
    uint16_t num;               /* current size, power of 2, <= max_num */
    uint16_t vector;            /* MSI-X vector or VIRTIO_MSI_NO_VECTOR */
    bool enabled;               /* queue_enable: rings validated, in use */
    bool reset;                 /* queue_reset reads 1 until re-enabled */
    hwaddr desc, avail, used;   /* guest (bus) addresses of the rings */

    uint16_t last_avail_idx;    /* next avail entry the device takes */
    uint16_t used_idx;          /* shadow of used->idx */
    uint16_t signalled_used;    /* used idx at the last interrupt */
    bool signalled_used_valid;
    unsigned int inuse;         /* popped, not yet pushed or detached */
    VirtIOHandleOutput handle_output;
};

/* --- Devices --------------------------------------------------------------- */

/*
 * The device.  status, features, config and queues are the core's and the
 * transport's; a device model reads guest_features through
 * virtio_vdev_has_feature() and its config through get_config/set_config.
 */
struct VirtIODevice {
    DeviceState parent_obj;

    uint16_t device_id;         /* VIRTIO_ID_*, set by virtio_init() */
    uint8_t status;             /* device_status as the driver reads it */
    uint8_t isr;                /* VIRTIO_ISR_* pending (INTx mode) */
    uint8_t generation;         /* config_generation */
    uint16_t config_vector;     /* MSI-X vector for config changes */
    uint64_t host_features;     /* offered; fixed once plugged */
    uint64_t driver_features;   /* written by the driver, not yet accepted */
    uint64_t guest_features;    /* accepted at FEATURES_OK */
    size_t config_len;
    uint8_t *config;            /* config_len bytes, device-specific layout */
    VirtQueue *vq;              /* VIRTIO_QUEUE_MAX entries */
    AddressSpace *dma_as;       /* the transport's, set when plugged */
    bool broken;                /* virtio_error() until reset */
    /*
     * > 0 while the core does DMA for the device or the transport runs
     * one of its register handlers.  The transport refuses register
     * accesses that arrive meanwhile: they can only be the device's own
     * DMA (or a handler's) aimed at its registers, and would re-enter it.
     */
    unsigned int busy;
};

struct VirtioDeviceClass {
    DeviceClass parent_class;

    /* Required.  Calls virtio_init() and virtio_add_queue(). */
    bool (*realize)(VirtIODevice *vdev, Error **errp);
    /* Optional: frees device state (the core calls virtio_cleanup()
     * afterwards, and also when realize fails). */
    void (*unrealize)(VirtIODevice *vdev);
    /*
     * Device part of a reset (status 0 or system reset), before the core
     * resets status and queues: drop held elements (g_free, no push) and
     * device state.  Optional.
     */
    void (*reset)(VirtIODevice *vdev);
    /*
     * Required.  features: what the transport offers (VERSION_1,
     * INDIRECT_DESC, EVENT_IDX, RING_RESET...); returns the full set the
     * device offers (add device bits, clear what it cannot do).
     */
    uint64_t (*get_features)(VirtIODevice *vdev, uint64_t features,
                             Error **errp);
    /* Optional: false refuses FEATURES_OK for driver_features. */
    bool (*validate_features)(VirtIODevice *vdev);
    /* Optional: guest_features were just accepted (FEATURES_OK). */
    void (*set_features)(VirtIODevice *vdev, uint64_t val);
    /* Optional: fill config (config_len bytes) before a driver read. */
    void (*get_config)(VirtIODevice *vdev, uint8_t *config);
    /* Optional: config after a driver write; the device keeps or fixes
     * fields (write it back to vdev->config for read-only fields). */
    void (*set_config)(VirtIODevice *vdev, const uint8_t *config);
    /* Optional: device_status changed to val (after the core's checks). */
    void (*set_status)(VirtIODevice *vdev, uint8_t val);
    /* Optional: queue n was reset (RING_RESET): drop its held elements. */
    void (*queue_reset)(VirtIODevice *vdev, uint32_t n);
};

DECLARE_OBJ_CHECKERS(VirtIODevice, VirtioDeviceClass, VIRTIO_DEVICE,
                     TYPE_VIRTIO_DEVICE)

/* --- The virtio bus ---------------------------------------------------------- */

/*
 * A transport's bus (one device).  The transport subclasses
 * TYPE_VIRTIO_BUS and fills the class hooks; the device's parent bus is
 * one of these, and the bus's parent device is the transport (proxy).
 */
struct VirtioBusState {
    BusState parent_obj;
};

struct VirtioBusClass {
    BusClass parent_class;
    /* Raise the interrupt for vector (config or queue); vdev->isr was
     * updated first.  Required. */
    void (*notify)(DeviceState *proxy, uint16_t vector);
    /* DMA address space and attributes (requester id) of the device. */
    AddressSpace *(*get_dma_as)(DeviceState *proxy);
    MemTxAttrs (*get_dma_attrs)(DeviceState *proxy);
};

DECLARE_OBJ_CHECKERS(VirtioBusState, VirtioBusClass, VIRTIO_BUS,
                     TYPE_VIRTIO_BUS)

/* The transport device (proxy) vdev is plugged into, NULL if unplugged. */
DeviceState *virtio_get_transport(VirtIODevice *vdev);

/* --- Device model API -------------------------------------------------------- */

/* In realize: device id and config space size (zeroed). */
void virtio_init(VirtIODevice *vdev, uint16_t device_id, size_t config_size);
/* Frees config and queues; idempotent (the core calls it at unrealize). */
void virtio_cleanup(VirtIODevice *vdev);

/*
 * Adds the next queue (index = number of queues so far) with maximum size
 * queue_size (power of 2, <= VIRTQUEUE_MAX_SIZE).  Aborts on a programming
 * error (too many queues, bad size).
 */
VirtQueue *virtio_add_queue(VirtIODevice *vdev, int queue_size,
                            VirtIOHandleOutput handle_output);
VirtQueue *virtio_get_queue(VirtIODevice *vdev, unsigned int n);
unsigned int virtio_get_queue_index(VirtQueue *vq);
unsigned int virtio_get_num_queues(VirtIODevice *vdev);

/* The driver enabled the queue and the device is DRIVER_OK, not broken. */
bool virtio_queue_ready(VirtQueue *vq);
/* No available buffer (also true when not ready). */
bool virtio_queue_empty(VirtQueue *vq);

/*
 * Takes the next available chain and returns it in a g_malloc'd block of
 * sz bytes (sz >= sizeof(VirtQueueElement); the element is at offset 0)
 * plus its buffer arrays.  NULL when the queue is empty, not ready, or the
 * chain is invalid (then virtio_error() was called).
 */
void *virtqueue_pop(VirtQueue *vq, size_t sz);
/*
 * Returns elem to the driver as used, with len bytes written to its in
 * buffers (clamped to in_len).  Does not interrupt: call virtio_notify().
 * The caller still frees elem.
 */
void virtqueue_push(VirtQueue *vq, const VirtQueueElement *elem,
                    unsigned int len);
/* Forgets elem without returning it (reset, or the device gives up). */
void virtqueue_detach_element(VirtQueue *vq, const VirtQueueElement *elem,
                              unsigned int len);
/* Puts the last popped elem back: the next pop returns the same chain. */
void virtqueue_unpop(VirtQueue *vq, const VirtQueueElement *elem,
                     unsigned int len);

/*
 * Copy between buf and the element's out (readable) / in (writable)
 * buffers, starting offset bytes into them.  Return the bytes copied:
 * less than len when the buffers end or a DMA access fails.
 */
size_t virtqueue_elem_read(const VirtQueueElement *elem, size_t offset,
                           void *buf, size_t len);
size_t virtqueue_elem_write(const VirtQueueElement *elem, size_t offset,
                            const void *buf, size_t len);

/*
 * Interrupts the driver for vq if it wants one: with EVENT_IDX by
 * used_event, otherwise unless avail->flags has NO_INTERRUPT.
 */
void virtio_notify(VirtIODevice *vdev, VirtQueue *vq);
static inline void virtqueue_notify(VirtIODevice *vdev, VirtQueue *vq)
{
    virtio_notify(vdev, vq);
}
/* The config space changed: bumps config_generation, config interrupt. */
void virtio_notify_config(VirtIODevice *vdev);

/*
 * The driver broke the protocol: logs (rate limited) "<type>: <message>",
 * marks the device broken, sets DEVICE_NEEDS_RESET and sends a config
 * interrupt.  The device stops processing until reset.  Never aborts.
 */
void virtio_error(VirtIODevice *vdev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline bool virtio_has_feature(uint64_t features, unsigned int bit)
{
    return bit < 64 && (features & (1ULL << bit));
}

static inline void virtio_add_feature(uint64_t *features, unsigned int bit)
{
    *features |= 1ULL << bit;
}

static inline void virtio_clear_feature(uint64_t *features, unsigned int bit)
{
    *features &= ~(1ULL << bit);
}

/* Negotiated (accepted at FEATURES_OK) feature. */
static inline bool virtio_vdev_has_feature(const VirtIODevice *vdev,
                                           unsigned int bit)
{
    return virtio_has_feature(vdev->guest_features, bit);
}

/* --- Transport API (virtio-pci) ---------------------------------------------- */

/* Device reset: VirtioDeviceClass.reset, then status, features, queues,
 * ISR and vectors back to their initial values. */
void virtio_reset(VirtIODevice *vdev);
/*
 * A driver write of device_status.  0 resets.  Setting FEATURES_OK accepts
 * driver_features only if they are a subset of host_features, include
 * VERSION_1 and pass validate_features; otherwise the bit stays clear.
 * NEEDS_RESET is kept (the driver cannot clear it but by reset).
 */
void virtio_set_status(VirtIODevice *vdev, uint8_t val);
/* Device config access for the driver: size 1, 2 or 4, little endian;
 * out of range reads all-ones, writes are dropped. */
uint32_t virtio_config_read(VirtIODevice *vdev, uint32_t addr, unsigned size);
void virtio_config_write(VirtIODevice *vdev, uint32_t addr, uint32_t val,
                         unsigned size);
/* queue_size write: power of 2 in [1, max_num], queue disabled. */
bool virtio_queue_set_num(VirtQueue *vq, unsigned int num);
/* queue_enable write of 1: checks ring alignment (virtio_error if bad). */
void virtio_queue_enable(VirtIODevice *vdev, unsigned int n);
/* queue_reset write of 1 (RING_RESET): the queue back to its defaults. */
void virtio_queue_reset(VirtIODevice *vdev, unsigned int n);
/* The driver kicked queue n: runs its handler if the queue is ready. */
void virtio_queue_notify(VirtIODevice *vdev, unsigned int n);

#endif
