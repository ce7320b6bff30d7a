/*
 * virtio-rng: the entropy device (virtio 1.2, 5.4), device id 4, and its
 * PCI proxy "virtio-rng-pci".
 *
 * One queue (requestq, 8 entries).  Every request is a chain of
 * device-writable buffers; the device fills them with bytes from the
 * host's getrandom(2) (at most 64 KiB per request) and returns the count
 * as the used length.  Readable buffers in a request are ignored.
 *
 * Rate limit as QEMU's: at most max-bytes bytes per period milliseconds
 * of virtual time.  A period starts with the first byte delivered; once
 * its quota is spent, requests wait in the ring until it ends.  QEMU's
 * rng backend objects (rng=) are not modelled: the host kernel's pool is
 * the source.
 */
#include <errno.h>
#include <sys/random.h>

#include "hw/qdev-properties.h"
#include "hw/virtio/virtio-pci.h"
#include "system/timer.h"

#define TYPE_VIRTIO_RNG         "virtio-rng-device"
#define TYPE_VIRTIO_RNG_PCI     "virtio-rng-pci"

#define VIRTIO_RNG_QUEUE_SIZE   8
#define VIRTIO_RNG_MAX_REQUEST  (64 * 1024)

typedef struct VirtIORNG {
    VirtIODevice parent_obj;
    VirtQueue *vq;
    QEMUTimer *period_timer;    /* pending while a period runs */
    uint64_t quota_remaining;   /* bytes left in the current period */

    /* Properties */
    uint64_t max_bytes;         /* "max-bytes" */
    uint32_t period_ms;         /* "period" */
} VirtIORNG;

DECLARE_INSTANCE_CHECKER(VirtIORNG, VIRTIO_RNG, TYPE_VIRTIO_RNG)

/* Fills buf from the host's entropy pool; false if it cannot. */
static bool virtio_rng_fill(uint8_t *buf, size_t len)
{
    while (len) {
        ssize_t n = getrandom(buf, len, 0);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            warn_report("virtio-rng: getrandom: %s", g_strerror(errno));
            return false;
        }
        buf += n;
        len -= n;
    }
    return true;
}

static void virtio_rng_process(VirtIORNG *rng)
{
    VirtQueueElement *elem;
    bool pushed = false;

    while (rng->quota_remaining &&
           (elem = virtqueue_pop(rng->vq, sizeof(*elem)))) {
        size_t want = MIN(MIN(elem->in_len, VIRTIO_RNG_MAX_REQUEST),
                          rng->quota_remaining);
        size_t done = 0;
        uint8_t buf[4096];

        while (done < want) {
            size_t n = MIN(sizeof(buf), want - done), w;

            if (!virtio_rng_fill(buf, n)) {
                break;
            }
            w = virtqueue_elem_write(elem, done, buf, n);
            done += w;
            if (w < n) {
                break;
            }
        }
        if (done && !timer_pending(rng->period_timer)) {
            timer_mod(rng->period_timer,
                      qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) + rng->period_ms);
        }
        rng->quota_remaining -= done;
        virtqueue_push(rng->vq, elem, done);
        g_free(elem);
        pushed = true;
    }
    if (pushed) {
        virtio_notify(VIRTIO_DEVICE(rng), rng->vq);
    }
}

static void virtio_rng_handle_request(VirtIODevice *vdev, VirtQueue *vq)
{
    virtio_rng_process(VIRTIO_RNG(vdev));
}

/* A period ended: a new quota, and the requests that waited for it. */
static void virtio_rng_period_end(void *opaque)
{
    VirtIORNG *rng = opaque;

    rng->quota_remaining = rng->max_bytes;
    virtio_rng_process(rng);
}

static bool virtio_rng_realize(VirtIODevice *vdev, Error **errp)
{
    VirtIORNG *rng = VIRTIO_RNG(vdev);

    if (!rng->period_ms) {
        error_setg(errp, "'period' parameter expects a positive integer");
        return false;
    }
    if (!rng->max_bytes || rng->max_bytes > INT64_MAX) {
        error_setg(errp, "'max-bytes' parameter must be positive, and less "
                   "than 2^63");
        return false;
    }
    virtio_init(vdev, VIRTIO_ID_RNG, 0);
    rng->vq = virtio_add_queue(vdev, VIRTIO_RNG_QUEUE_SIZE,
                               virtio_rng_handle_request);
    rng->quota_remaining = rng->max_bytes;
    rng->period_timer = timer_new_ms(QEMU_CLOCK_VIRTUAL,
                                     virtio_rng_period_end, rng);
    return true;
}

static void virtio_rng_unrealize(VirtIODevice *vdev)
{
    VirtIORNG *rng = VIRTIO_RNG(vdev);

    timer_free(rng->period_timer);
    rng->period_timer = NULL;
}

static uint64_t virtio_rng_get_features(VirtIODevice *vdev, uint64_t f,
                                        Error **errp)
{
    return f;   /* no device feature bits (5.4.3) */
}

static const Property virtio_rng_props[] = {
    DEFINE_PROP_UINT64("max-bytes", VirtIORNG, max_bytes, INT64_MAX),
    DEFINE_PROP_UINT32("period", VirtIORNG, period_ms, 1 << 16),
    DEFINE_PROP_END_OF_LIST(),
};

static void virtio_rng_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_CLASS(klass);

    dc->desc = "virtio entropy device";
    device_class_set_props(dc, virtio_rng_props);
    vdc->realize = virtio_rng_realize;
    vdc->unrealize = virtio_rng_unrealize;
    vdc->get_features = virtio_rng_get_features;
}

static void virtio_rng_pci_instance_init(Object *obj)
{
    virtio_pci_init_backend(VIRTIO_PCI(obj), TYPE_VIRTIO_RNG);
}

static void virtio_rng_pci_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->desc = "virtio entropy device (PCI)";
    PCI_DEVICE_CLASS(klass)->class_id = PCI_CLASS_OTHERS;
    virtio_pci_class_forward_props(klass, TYPE_VIRTIO_RNG);
}

static const TypeInfo virtio_rng_types[] = {
    {
        .name = TYPE_VIRTIO_RNG,
        .parent = TYPE_VIRTIO_DEVICE,
        .instance_size = sizeof(VirtIORNG),
        .class_init = virtio_rng_class_init,
    },
    {
        .name = TYPE_VIRTIO_RNG_PCI,
        .parent = TYPE_VIRTIO_PCI,
        .instance_init = virtio_rng_pci_instance_init,
        .class_init = virtio_rng_pci_class_init,
    },
};

DEFINE_TYPES(virtio_rng_types)
