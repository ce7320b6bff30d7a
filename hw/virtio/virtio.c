/*
 * virtio core (virtio 1.2): the virtio bus, device status and feature
 * negotiation, and split virtqueues (2.7) with every guest-controlled
 * index, address, length and chain shape validated.  See
 * include/hw/virtio/virtio.h for the model.
 */
#include <inttypes.h>
#include <stdarg.h>

#include <assert.h>

#include "hw/virtio/virtio.h"

/* Little-endian field of n bytes (rings are little endian, 2.7). */
static uint64_t le_get(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static void le_put(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = v >> (8 * i);
    }
}

/* --- The bus and the transport ---------------------------------------------- */

DeviceState *virtio_get_transport(VirtIODevice *vdev)
{
    BusState *bus = DEVICE(vdev)->parent_bus;

    return bus ? bus->parent : NULL;
}

static VirtioBusClass *virtio_bus_class(VirtIODevice *vdev)
{
    BusState *bus = DEVICE(vdev)->parent_bus;

    return bus ? VIRTIO_BUS_GET_CLASS(bus) : NULL;
}

static MemTxAttrs virtio_dma_attrs(VirtIODevice *vdev)
{
    VirtioBusClass *bc = virtio_bus_class(vdev);

    return bc && bc->get_dma_attrs ? bc->get_dma_attrs(virtio_get_transport(vdev))
                                   : MEMTXATTRS_UNSPECIFIED;
}

/* DMA marks the device busy: see VirtIODevice.busy. */
static MemTxResult virtio_dma_rw(VirtIODevice *vdev, hwaddr addr, void *buf,
                                 hwaddr len, bool is_write)
{
    MemTxResult r;

    if (!vdev->dma_as) {
        return MEMTX_DECODE_ERROR;
    }
    vdev->busy++;
    r = address_space_rw(vdev->dma_as, addr, virtio_dma_attrs(vdev), buf,
                         len, is_write);
    vdev->busy--;
    return r;
}

/* [addr, addr + len) is accessible to the device for the given direction. */
static bool virtio_dma_valid(VirtIODevice *vdev, hwaddr addr, uint64_t len,
                             bool is_write)
{
    bool ok;

    if (!vdev->dma_as || !len || addr + len - 1 < addr) {
        return false;
    }
    vdev->busy++;
    ok = address_space_access_valid(vdev->dma_as, addr, len, is_write,
                                    virtio_dma_attrs(vdev));
    vdev->busy--;
    return ok;
}

static void virtio_transport_notify(VirtIODevice *vdev, uint16_t vector)
{
    VirtioBusClass *bc = virtio_bus_class(vdev);

    if (bc && bc->notify) {
        bc->notify(virtio_get_transport(vdev), vector);
    }
}

/* --- Errors, interrupts, config ----------------------------------------------- */

void virtio_error(VirtIODevice *vdev, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    log_guest_error("%s: %s", object_get_typename(OBJECT(vdev)), msg);

    /* 2.1.2: the device sets DEVICE_NEEDS_RESET and notifies the driver. */
    vdev->broken = true;
    vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
    virtio_notify_config(vdev);
}

void virtio_notify_config(VirtIODevice *vdev)
{
    vdev->generation++;
    /* 2.1.2, 4.1.5.3: no notifications before DRIVER_OK. */
    if (!(vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
        return;
    }
    vdev->isr |= VIRTIO_ISR_CONFIG;
    virtio_transport_notify(vdev, vdev->config_vector);
}

uint32_t virtio_config_read(VirtIODevice *vdev, uint32_t addr, unsigned size)
{
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_GET_CLASS(vdev);

    if (size > 4 || addr > vdev->config_len || size > vdev->config_len - addr) {
        return ~0u;
    }
    if (vdc->get_config) {
        vdc->get_config(vdev, vdev->config);
    }
    return le_get(vdev->config + addr, size);
}

void virtio_config_write(VirtIODevice *vdev, uint32_t addr, uint32_t val,
                         unsigned size)
{
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_GET_CLASS(vdev);

    if (size > 4 || addr > vdev->config_len || size > vdev->config_len - addr) {
        return;
    }
    le_put(vdev->config + addr, val, size);
    if (vdc->set_config) {
        vdc->set_config(vdev, vdev->config);
    }
}

/* --- Status and features (2.1, 2.2, 3.1.1) ------------------------------------ */

/* FEATURES_OK: the driver's subset is accepted, or refused with a log. */
static bool virtio_accept_features(VirtIODevice *vdev)
{
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_GET_CLASS(vdev);
    uint64_t f = vdev->driver_features;
    const char *name = object_get_typename(OBJECT(vdev));

    if (f & ~vdev->host_features) {
        log_guest_error("%s: driver accepted features 0x%" PRIx64
                        " that were not offered (0x%" PRIx64 "): FEATURES_OK "
                        "refused", name, f & ~vdev->host_features,
                        vdev->host_features);
        return false;
    }
    if (!virtio_has_feature(f, VIRTIO_F_VERSION_1)) {
        log_guest_error("%s: driver did not accept VIRTIO_F_VERSION_1 "
                        "(modern device): FEATURES_OK refused", name);
        return false;
    }
    vdev->guest_features = f;
    if (vdc->validate_features && !vdc->validate_features(vdev)) {
        log_guest_error("%s: features 0x%" PRIx64 " refused by the device",
                        name, f);
        vdev->guest_features = 0;
        return false;
    }
    if (vdc->set_features) {
        vdc->set_features(vdev, f);
    }
    return true;
}

void virtio_set_status(VirtIODevice *vdev, uint8_t val)
{
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_GET_CLASS(vdev);
    uint8_t old = vdev->status;

    if (val == 0) {
        virtio_reset(vdev);
        return;
    }
    /* Features are fixed once FEATURES_OK has been accepted. */
    if ((val & VIRTIO_CONFIG_S_FEATURES_OK) &&
        !(old & VIRTIO_CONFIG_S_FEATURES_OK) &&
        !virtio_accept_features(vdev)) {
        val &= ~VIRTIO_CONFIG_S_FEATURES_OK;
    }
    /* Only a reset clears DEVICE_NEEDS_RESET; the driver cannot set it. */
    val = (val & ~VIRTIO_CONFIG_S_NEEDS_RESET) |
          (old & VIRTIO_CONFIG_S_NEEDS_RESET);
    vdev->status = val;
    if (vdc->set_status) {
        vdc->set_status(vdev, val);
    }
}

static void virtio_queue_reset_state(VirtQueue *vq)
{
    vq->num = vq->max_num;
    vq->vector = VIRTIO_MSI_NO_VECTOR;
    vq->enabled = false;
    vq->reset = false;
    vq->desc = vq->avail = vq->used = 0;
    vq->last_avail_idx = 0;
    vq->used_idx = 0;
    vq->signalled_used = 0;
    vq->signalled_used_valid = false;
    vq->inuse = 0;
}

void virtio_reset(VirtIODevice *vdev)
{
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_GET_CLASS(vdev);

    if (vdc->reset) {
        vdc->reset(vdev);
    }
    vdev->status = 0;
    vdev->isr = 0;
    vdev->driver_features = 0;
    vdev->guest_features = 0;
    vdev->config_vector = VIRTIO_MSI_NO_VECTOR;
    vdev->broken = false;
    for (unsigned i = 0; vdev->vq && i < VIRTIO_QUEUE_MAX; i++) {
        virtio_queue_reset_state(&vdev->vq[i]);
    }
}

/* --- Queues: set-up --------------------------------------------------------- */

void virtio_init(VirtIODevice *vdev, uint16_t device_id, size_t config_size)
{
    vdev->device_id = device_id;
    vdev->config_len = config_size;
    vdev->config = g_malloc0(config_size ? config_size : 1);
    vdev->vq = g_new0(VirtQueue, VIRTIO_QUEUE_MAX);
    for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++) {
        vdev->vq[i].vdev = vdev;
        vdev->vq[i].index = i;
        vdev->vq[i].vector = VIRTIO_MSI_NO_VECTOR;
    }
    vdev->config_vector = VIRTIO_MSI_NO_VECTOR;
}

void virtio_cleanup(VirtIODevice *vdev)
{
    g_free(vdev->config);
    g_free(vdev->vq);
    vdev->config = NULL;
    vdev->vq = NULL;
    vdev->config_len = 0;
}

VirtQueue *virtio_add_queue(VirtIODevice *vdev, int queue_size,
                            VirtIOHandleOutput handle_output)
{
    unsigned i = virtio_get_num_queues(vdev);
    VirtQueue *vq;

    assert(vdev->vq && i < VIRTIO_QUEUE_MAX);
    assert(queue_size > 0 && queue_size <= VIRTQUEUE_MAX_SIZE &&
           !(queue_size & (queue_size - 1)));
    vq = &vdev->vq[i];
    vq->max_num = vq->num = queue_size;
    vq->handle_output = handle_output;
    return vq;
}

VirtQueue *virtio_get_queue(VirtIODevice *vdev, unsigned int n)
{
    return vdev->vq && n < VIRTIO_QUEUE_MAX ? &vdev->vq[n] : NULL;
}

unsigned int virtio_get_queue_index(VirtQueue *vq)
{
    return vq->index;
}

unsigned int virtio_get_num_queues(VirtIODevice *vdev)
{
    unsigned n = 0;

    while (vdev->vq && n < VIRTIO_QUEUE_MAX && vdev->vq[n].max_num) {
        n++;
    }
    return n;
}

bool virtio_queue_set_num(VirtQueue *vq, unsigned int num)
{
    /* 2.7: the size of a split queue is a power of 2. */
    if (vq->enabled || !vq->max_num || !num || num > vq->max_num ||
        (num & (num - 1))) {
        return false;
    }
    vq->num = num;
    return true;
}

/* Sizes of the three parts (2.7), with the event index fields. */
static uint64_t vring_desc_size(unsigned num)
{
    return (uint64_t)VRING_DESC_SIZE * num;
}

static uint64_t vring_avail_size(unsigned num)
{
    return VRING_AVAIL_RING + 2ULL * num + 2;
}

static uint64_t vring_used_size(unsigned num)
{
    return VRING_USED_RING + (uint64_t)VRING_USED_ELEM_SIZE * num + 2;
}

void virtio_queue_enable(VirtIODevice *vdev, unsigned int n)
{
    VirtQueue *vq = virtio_get_queue(vdev, n);

    if (!vq || !vq->max_num || vq->enabled) {
        return;
    }
    /* 2.7 "Virtqueue alignment"; then the rings must be reachable. */
    if (vq->desc % VRING_DESC_ALIGN || vq->avail % VRING_AVAIL_ALIGN ||
        vq->used % VRING_USED_ALIGN) {
        virtio_error(vdev, "queue %u: misaligned rings (desc 0x%" HWADDR_PRIx
                     ", driver 0x%" HWADDR_PRIx ", device 0x%" HWADDR_PRIx
                     ")", n, vq->desc, vq->avail, vq->used);
        return;
    }
    if (!virtio_dma_valid(vdev, vq->desc, vring_desc_size(vq->num), false) ||
        !virtio_dma_valid(vdev, vq->avail, vring_avail_size(vq->num), false) ||
        !virtio_dma_valid(vdev, vq->used, vring_used_size(vq->num), true)) {
        virtio_error(vdev, "queue %u: rings not accessible (desc 0x%"
                     HWADDR_PRIx ", driver 0x%" HWADDR_PRIx ", device 0x%"
                     HWADDR_PRIx ", size %u)", n, vq->desc, vq->avail,
                     vq->used, vq->num);
        return;
    }
    vq->enabled = true;
    vq->reset = false;
}

void virtio_queue_reset(VirtIODevice *vdev, unsigned int n)
{
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_GET_CLASS(vdev);
    VirtQueue *vq = virtio_get_queue(vdev, n);

    if (!vq || !vq->max_num) {
        return;
    }
    if (vdc->queue_reset) {
        vdc->queue_reset(vdev, n);
    }
    virtio_queue_reset_state(vq);
    vq->reset = true;
}

bool virtio_queue_ready(VirtQueue *vq)
{
    VirtIODevice *vdev = vq->vdev;

    return vq->enabled && (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
           !vdev->broken;
}

void virtio_queue_notify(VirtIODevice *vdev, unsigned int n)
{
    VirtQueue *vq = virtio_get_queue(vdev, n);

    if (!vq || !vq->max_num) {
        log_guest_error("%s: notification for queue %u, which does not "
                        "exist", object_get_typename(OBJECT(vdev)), n);
        return;
    }
    /* 2.1.2 / 3.1.1: nothing is consumed before DRIVER_OK or once broken. */
    if (virtio_queue_ready(vq) && vq->handle_output) {
        vq->handle_output(vdev, vq);
    }
}

/* --- Ring accesses ------------------------------------------------------------ */

/* A failed ring access is the driver's fault (it gave the address). */
static bool vring_lduw(VirtQueue *vq, hwaddr addr, uint16_t *val)
{
    uint8_t b[2];

    if (virtio_dma_rw(vq->vdev, addr, b, 2, false) != MEMTX_OK) {
        virtio_error(vq->vdev, "queue %u: cannot read ring at 0x%" HWADDR_PRIx,
                     vq->index, addr);
        return false;
    }
    *val = le_get(b, 2);
    return true;
}

static bool vring_stw(VirtQueue *vq, hwaddr addr, uint16_t val)
{
    uint8_t b[2];

    le_put(b, val, 2);
    if (virtio_dma_rw(vq->vdev, addr, b, 2, true) != MEMTX_OK) {
        virtio_error(vq->vdev, "queue %u: cannot write ring at 0x%"
                     HWADDR_PRIx, vq->index, addr);
        return false;
    }
    return true;
}

static bool vring_avail_idx(VirtQueue *vq, uint16_t *idx)
{
    return vring_lduw(vq, vq->avail + VRING_AVAIL_IDX, idx);
}

/* EVENT_IDX (2.7.10): avail_event tells the driver when to kick next. */
static void vring_set_avail_event(VirtQueue *vq)
{
    if (virtio_vdev_has_feature(vq->vdev, VIRTIO_RING_F_EVENT_IDX)) {
        vring_stw(vq, vq->used + VRING_USED_RING +
                      (hwaddr)VRING_USED_ELEM_SIZE * vq->num,
                  vq->last_avail_idx);
    }
}

typedef struct VRingDesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} VRingDesc;

static bool vring_read_desc(VirtQueue *vq, hwaddr table, unsigned i,
                            VRingDesc *d)
{
    uint8_t b[VRING_DESC_SIZE];
    hwaddr addr = table + (hwaddr)i * VRING_DESC_SIZE;

    if (virtio_dma_rw(vq->vdev, addr, b, sizeof(b), false) != MEMTX_OK) {
        virtio_error(vq->vdev, "queue %u: cannot read descriptor %u at 0x%"
                     HWADDR_PRIx, vq->index, i, addr);
        return false;
    }
    d->addr = le_get(b + VRING_DESC_ADDR, 8);
    d->len = le_get(b + VRING_DESC_LEN, 4);
    d->flags = le_get(b + VRING_DESC_FLAGS, 2);
    d->next = le_get(b + VRING_DESC_NEXT, 2);
    return true;
}

/* --- Popping a chain (2.7.5, 2.7.13) ---------------------------------------- */

/*
 * The buffers of one chain while it is walked: out buffers first, then in
 * buffers (a readable buffer after a writable one is refused), so one
 * array holds both.
 */
typedef struct ChainWalk {
    VirtQueueBuf bufs[VIRTQUEUE_MAX_SIZE];
    unsigned nbufs, out_num, in_num, ndescs;
    uint64_t out_len, in_len;
} ChainWalk;

static bool chain_add_buf(VirtQueue *vq, ChainWalk *w, const VRingDesc *d,
                          unsigned i)
{
    VirtIODevice *vdev = vq->vdev;
    bool is_write = d->flags & VRING_DESC_F_WRITE;
    uint64_t *total = is_write ? &w->in_len : &w->out_len;

    if (!d->len) {
        virtio_error(vdev, "queue %u: zero-length buffer in descriptor %u",
                     vq->index, i);
        return false;
    }
    if (d->addr + d->len - 1 < d->addr) {
        virtio_error(vdev, "queue %u: descriptor %u buffer 0x%" PRIx64
                     "+0x%x wraps around", vq->index, i, d->addr, d->len);
        return false;
    }
    if (!is_write && w->in_num) {
        virtio_error(vdev, "queue %u: device-readable descriptor %u after a "
                     "device-writable one", vq->index, i);
        return false;
    }
    if (w->nbufs >= VIRTQUEUE_MAX_SIZE) {
        virtio_error(vdev, "queue %u: chain of more than %u buffers",
                     vq->index, VIRTQUEUE_MAX_SIZE);
        return false;
    }
    /* Used lengths are 32-bit: a chain direction holds less than 4 GiB. */
    if (*total + d->len > UINT32_MAX) {
        virtio_error(vdev, "queue %u: chain of 4 GiB or more", vq->index);
        return false;
    }
    if (!virtio_dma_valid(vdev, d->addr, d->len, is_write)) {
        virtio_error(vdev, "queue %u: descriptor %u buffer 0x%" PRIx64
                     "+0x%x is not %s", vq->index, i, d->addr, d->len,
                     is_write ? "writable" : "readable");
        return false;
    }
    w->bufs[w->nbufs].addr = d->addr;
    w->bufs[w->nbufs].len = d->len;
    w->nbufs++;
    *total += d->len;
    if (is_write) {
        w->in_num++;
    } else {
        w->out_num++;
    }
    return true;
}

/*
 * Walks the chain at head.  The direct table has vq->num entries; a
 * descriptor with INDIRECT (2.7.5.3) switches to its table, where the
 * chain starts at entry 0 and ends.  In either table a chain longer than
 * the table revisits an entry: a loop.
 */
static bool chain_walk(VirtQueue *vq, unsigned head, ChainWalk *w)
{
    VirtIODevice *vdev = vq->vdev;
    hwaddr table = vq->desc;
    unsigned max = vq->num, walked = 0, i = head;
    bool indirect = false;
    VRingDesc d;

    for (;;) {
        if (i >= max) {
            virtio_error(vdev, "queue %u: descriptor index %u out of range "
                         "(%s table of %u)", vq->index, i,
                         indirect ? "indirect" : "queue", max);
            return false;
        }
        if (++walked > max) {
            virtio_error(vdev, "queue %u: descriptor chain at %u loops "
                         "(more than %u descriptors)", vq->index, head, max);
            return false;
        }
        if (!vring_read_desc(vq, table, i, &d)) {
            return false;
        }
        w->ndescs++;
        if (d.flags & VRING_DESC_F_INDIRECT) {
            if (indirect) {
                virtio_error(vdev, "queue %u: indirect descriptor inside an "
                             "indirect table", vq->index);
                return false;
            }
            if (!virtio_vdev_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC)) {
                virtio_error(vdev, "queue %u: indirect descriptor without "
                             "VIRTIO_RING_F_INDIRECT_DESC", vq->index);
                return false;
            }
            if (d.flags & VRING_DESC_F_NEXT) {
                virtio_error(vdev, "queue %u: descriptor %u has both INDIRECT "
                             "and NEXT", vq->index, i);
                return false;
            }
            if (!d.len || d.len % VRING_DESC_SIZE ||
                d.len / VRING_DESC_SIZE > VIRTQUEUE_MAX_SIZE) {
                virtio_error(vdev, "queue %u: indirect table length 0x%x is "
                             "not 1-%u descriptors", vq->index, d.len,
                             VIRTQUEUE_MAX_SIZE);
                return false;
            }
            table = d.addr;
            max = d.len / VRING_DESC_SIZE;
            indirect = true;
            walked = 0;
            i = 0;
            continue;
        }
        if (!chain_add_buf(vq, w, &d, i)) {
            return false;
        }
        if (!(d.flags & VRING_DESC_F_NEXT)) {
            return true;
        }
        i = d.next;
    }
}

static VirtQueueElement *elem_new(size_t sz, const ChainWalk *w,
                                  VirtIODevice *vdev, unsigned head)
{
    size_t arrays = (sz + 7) & ~(size_t)7;
    VirtQueueElement *elem = g_malloc0(arrays +
                                       w->nbufs * sizeof(VirtQueueBuf));
    VirtQueueBuf *bufs = (VirtQueueBuf *)((char *)elem + arrays);

    memcpy(bufs, w->bufs, w->nbufs * sizeof(VirtQueueBuf));
    elem->vdev = vdev;
    elem->index = head;
    elem->ndescs = w->ndescs;
    elem->out_num = w->out_num;
    elem->in_num = w->in_num;
    elem->out_len = w->out_len;
    elem->in_len = w->in_len;
    elem->out_sg = bufs;
    elem->in_sg = bufs + w->out_num;
    return elem;
}

void *virtqueue_pop(VirtQueue *vq, size_t sz)
{
    VirtIODevice *vdev = vq->vdev;
    g_autofree ChainWalk *w = NULL;
    uint16_t avail_idx, head;

    assert(sz >= sizeof(VirtQueueElement));
    if (!virtio_queue_ready(vq) || !vring_avail_idx(vq, &avail_idx)) {
        return NULL;
    }
    if (avail_idx == vq->last_avail_idx) {
        vring_set_avail_event(vq);
        return NULL;
    }
    if ((uint16_t)(avail_idx - vq->last_avail_idx) > vq->num) {
        virtio_error(vdev, "queue %u: avail idx %u is more than %u ahead of "
                     "%u", vq->index, avail_idx, vq->num, vq->last_avail_idx);
        return NULL;
    }
    if (vq->inuse >= vq->num) {
        virtio_error(vdev, "queue %u: more than %u buffers in flight",
                     vq->index, vq->num);
        return NULL;
    }
    /* Read the ring entry only after the index that published it. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (!vring_lduw(vq, vq->avail + VRING_AVAIL_RING +
                        2 * (hwaddr)(vq->last_avail_idx % vq->num), &head)) {
        return NULL;
    }
    if (head >= vq->num) {
        virtio_error(vdev, "queue %u: avail ring entry %u: head %u out of "
                     "range (queue size %u)", vq->index, vq->last_avail_idx,
                     head, vq->num);
        return NULL;
    }
    /* Not zeroed: only the counters need it (bufs is 16 KiB). */
    w = g_new(ChainWalk, 1);
    w->nbufs = w->out_num = w->in_num = w->ndescs = 0;
    w->out_len = w->in_len = 0;
    if (!chain_walk(vq, head, w)) {
        return NULL;
    }
    vq->last_avail_idx++;
    vq->inuse++;
    vring_set_avail_event(vq);
    return elem_new(sz, w, vdev, head);
}

void virtqueue_unpop(VirtQueue *vq, const VirtQueueElement *elem,
                     unsigned int len)
{
    if (vq->inuse) {
        vq->inuse--;
        vq->last_avail_idx--;
    }
}

void virtqueue_detach_element(VirtQueue *vq, const VirtQueueElement *elem,
                              unsigned int len)
{
    if (vq->inuse) {
        vq->inuse--;
    }
}

void virtqueue_push(VirtQueue *vq, const VirtQueueElement *elem,
                    unsigned int len)
{
    VirtIODevice *vdev = vq->vdev;
    hwaddr slot;
    uint8_t b[VRING_USED_ELEM_SIZE];

    if (vq->inuse) {
        vq->inuse--;
    }
    /* After a reset or an error the element belongs to no ring. */
    if (!vq->enabled || vdev->broken) {
        return;
    }
    /* A device model bug, but the driver must never be told more. */
    if (len > elem->in_len) {
        warn_report("%s: queue %u: used length %u clamped to %" PRIu64,
                    object_get_typename(OBJECT(vdev)), vq->index, len,
                    elem->in_len);
        len = elem->in_len;
    }
    slot = vq->used + VRING_USED_RING +
           (hwaddr)VRING_USED_ELEM_SIZE * (vq->used_idx % vq->num);
    le_put(b, elem->index, 4);
    le_put(b + 4, len, 4);
    if (virtio_dma_rw(vdev, slot, b, sizeof(b), true) != MEMTX_OK) {
        virtio_error(vdev, "queue %u: cannot write used ring at 0x%"
                     HWADDR_PRIx, vq->index, slot);
        return;
    }
    /* The entry is visible before the index that publishes it. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    if (vring_stw(vq, vq->used + VRING_USED_IDX, vq->used_idx + 1)) {
        vq->used_idx++;
    }
}

bool virtio_queue_empty(VirtQueue *vq)
{
    uint16_t idx;

    if (!virtio_queue_ready(vq) || !vring_avail_idx(vq, &idx)) {
        return true;
    }
    return idx == vq->last_avail_idx;
}

/* --- Element buffers ------------------------------------------------------------ */

static size_t elem_copy(const VirtQueueElement *elem, const VirtQueueBuf *sg,
                        unsigned num, size_t offset, void *buf, size_t len,
                        bool is_write)
{
    size_t done = 0;

    for (unsigned i = 0; i < num && done < len; i++) {
        size_t n;

        if (offset >= sg[i].len) {
            offset -= sg[i].len;
            continue;
        }
        n = MIN(sg[i].len - offset, len - done);
        if (virtio_dma_rw(elem->vdev, sg[i].addr + offset, (char *)buf + done,
                          n, is_write) != MEMTX_OK) {
            break;
        }
        done += n;
        offset = 0;
    }
    return done;
}

size_t virtqueue_elem_read(const VirtQueueElement *elem, size_t offset,
                           void *buf, size_t len)
{
    return elem_copy(elem, elem->out_sg, elem->out_num, offset, buf, len,
                     false);
}

size_t virtqueue_elem_write(const VirtQueueElement *elem, size_t offset,
                            const void *buf, size_t len)
{
    return elem_copy(elem, elem->in_sg, elem->in_num, offset, (void *)buf,
                     len, true);
}

/* --- Used buffer notifications (2.7.7, 2.7.10) --------------------------------- */

static bool virtio_should_notify(VirtQueue *vq)
{
    uint16_t old = vq->signalled_used, new = vq->used_idx, v;
    bool valid = vq->signalled_used_valid;

    /* The used index is written before the driver's suppression is read. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!virtio_vdev_has_feature(vq->vdev, VIRTIO_RING_F_EVENT_IDX)) {
        return vring_lduw(vq, vq->avail + VRING_AVAIL_FLAGS, &v) &&
               !(v & VRING_AVAIL_F_NO_INTERRUPT);
    }
    vq->signalled_used = new;
    vq->signalled_used_valid = true;
    if (!valid) {
        return true;
    }
    /* used_event follows the avail ring; notify if it lies in (old, new]. */
    if (!vring_lduw(vq, vq->avail + VRING_AVAIL_RING + 2 * (hwaddr)vq->num,
                    &v)) {
        return false;
    }
    return (uint16_t)(new - v - 1) < (uint16_t)(new - old);
}

void virtio_notify(VirtIODevice *vdev, VirtQueue *vq)
{
    if (!virtio_queue_ready(vq) || !virtio_should_notify(vq)) {
        return;
    }
    vdev->isr |= VIRTIO_ISR_QUEUE;
    virtio_transport_notify(vdev, vq->vector);
}

/* --- QOM ------------------------------------------------------------------------- */

static bool virtio_device_realize(DeviceState *dev, Error **errp)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_GET_CLASS(vdev);
    VirtioBusClass *bc = virtio_bus_class(vdev);

    if (!vdc->realize || !vdc->get_features) {
        error_setg(errp, "%s: not a complete virtio device model",
                   object_get_typename(OBJECT(dev)));
        return false;
    }
    if (!vdc->realize(vdev, errp)) {
        virtio_cleanup(vdev);
        return false;
    }
    assert(vdev->vq);   /* realize called virtio_init() */
    vdev->dma_as = bc && bc->get_dma_as ?
                   bc->get_dma_as(virtio_get_transport(vdev)) : NULL;
    virtio_reset(vdev);
    return true;
}

static void virtio_device_unrealize(DeviceState *dev)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_GET_CLASS(vdev);

    if (vdc->unrealize) {
        vdc->unrealize(vdev);
    }
    virtio_cleanup(vdev);
    vdev->dma_as = NULL;
}

static void virtio_device_reset(DeviceState *dev)
{
    virtio_reset(VIRTIO_DEVICE(dev));
}

static void virtio_device_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = virtio_device_realize;
    dc->unrealize = virtio_device_unrealize;
    dc->reset = virtio_device_reset;
    dc->bus_type = TYPE_VIRTIO_BUS;
    /* Created by their PCI proxy ("-device virtio-rng-pci"). */
    dc->user_creatable = false;
}

static void virtio_bus_class_init(ObjectClass *klass, const void *data)
{
    BUS_CLASS(klass)->max_dev = 1;
}

static const TypeInfo virtio_types[] = {
    {
        .name = TYPE_VIRTIO_DEVICE,
        .parent = TYPE_DEVICE,
        .instance_size = sizeof(VirtIODevice),
        .abstract = true,
        .class_size = sizeof(VirtioDeviceClass),
        .class_init = virtio_device_class_init,
    },
    {
        .name = TYPE_VIRTIO_BUS,
        .parent = TYPE_BUS,
        .instance_size = sizeof(VirtioBusState),
        .abstract = true,
        .class_size = sizeof(VirtioBusClass),
        .class_init = virtio_bus_class_init,
    },
};

DEFINE_TYPES(virtio_types)
