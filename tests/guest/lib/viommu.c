/*
 * Guest-side virtio-iommu driver; see viommu.h.
 */
#include "viommu.h"

/* Request layouts: byte offsets of the bodies after the 4-byte head
 * (facts H.3); the tail (status + 3 reserved) follows the body. */
#define REQ_ATTACH_SIZE 20
#define REQ_DETACH_SIZE 20
#define REQ_MAP_SIZE 36
#define REQ_UNMAP_SIZE 28
#define REQ_PROBE_SIZE 72
#define TAIL_SIZE 4

#define REPLY_OFFSET 4096       /* the reply page follows the request page */
#define REQUEST_TIMEOUT_MS 2000

static void put8(uint8_t *p, unsigned int off, uint8_t v) { p[off] = v; }
static void put32(uint8_t *p, unsigned int off, uint32_t v)
{
    memcpy(p + off, &v, 4);
}
static void put64(uint8_t *p, unsigned int off, uint64_t v)
{
    memcpy(p + off, &v, 8);
}
static uint16_t get16(const uint8_t *p, unsigned int off)
{
    uint16_t v;

    memcpy(&v, p + off, 2);
    return v;
}
static uint32_t get32(const uint8_t *p, unsigned int off)
{
    uint32_t v;

    memcpy(&v, p + off, 4);
    return v;
}
static uint64_t get64(const uint8_t *p, unsigned int off)
{
    uint64_t v;

    memcpy(&v, p + off, 8);
    return v;
}

static void event_buf_post(struct viommu *v, uint8_t *buf)
{
    struct virtq_buf b = { buf, VIRTIO_IOMMU_FAULT_SIZE, true };

    memset(buf, 0xff, VIRTIO_IOMMU_FAULT_SIZE);
    if (virtq_add(&v->evt, &b, 1) < 0) {
        guest_fail("virtio-iommu: event queue full");
    }
}

bool viommu_init(struct viommu *v, unsigned int index)
{
    uint64_t wanted = BIT(VIRTIO_IOMMU_F_INPUT_RANGE) |
                      BIT(VIRTIO_IOMMU_F_DOMAIN_RANGE) |
                      BIT(VIRTIO_IOMMU_F_MAP_UNMAP) |
                      BIT(VIRTIO_IOMMU_F_PROBE) |
                      BIT(VIRTIO_IOMMU_F_BYPASS_CONFIG);
    struct virtio_dev *dev = &v->dev;

    memset(v, 0, sizeof(*v));
    if (!virtio_pci_find(dev, VIRTIO_ID_IOMMU, index)) {
        return false;
    }
    if (!dev->device) {
        guest_fail("virtio-iommu: no device configuration capability");
    }
    if (!virtio_negotiate(dev, wanted)) {
        guest_fail("virtio-iommu: feature negotiation failed");
    }
    if (!(dev->features & BIT(VIRTIO_IOMMU_F_MAP_UNMAP))) {
        guest_fail("virtio-iommu: MAP_UNMAP not offered (features 0x%llx)",
                   (unsigned long long)virtio_device_features(dev));
    }

    v->page_size_mask = virtio_cfg_read64(dev,
                                          VIRTIO_IOMMU_CFG_PAGE_SIZE_MASK);
    v->input_start = 0;
    v->input_end = ~0ULL;
    if (dev->features & BIT(VIRTIO_IOMMU_F_INPUT_RANGE)) {
        v->input_start = virtio_cfg_read64(dev, VIRTIO_IOMMU_CFG_INPUT_START);
        v->input_end = virtio_cfg_read64(dev, VIRTIO_IOMMU_CFG_INPUT_END);
    }
    v->domain_start = 0;
    v->domain_end = ~0u;
    if (dev->features & BIT(VIRTIO_IOMMU_F_DOMAIN_RANGE)) {
        v->domain_start = virtio_cfg_read32(dev,
                                            VIRTIO_IOMMU_CFG_DOMAIN_START);
        v->domain_end = virtio_cfg_read32(dev, VIRTIO_IOMMU_CFG_DOMAIN_END);
    }
    if (dev->features & BIT(VIRTIO_IOMMU_F_PROBE)) {
        v->probe_size = virtio_cfg_read32(dev, VIRTIO_IOMMU_CFG_PROBE_SIZE);
        if (v->probe_size + TAIL_SIZE > PAGE_SIZE) {
            guest_fail("virtio-iommu: probe_size %u above one page",
                       v->probe_size);
        }
    }

    if (!virtq_setup(&v->req, dev, 0, 64) ||
        !virtq_setup(&v->evt, dev, 1, 64)) {
        guest_fail("virtio-iommu: request or event queue missing");
    }
    v->req_page = pages_alloc(2);
    v->evt_bufs = page_alloc();
    for (unsigned int i = 0; i < VIOMMU_EVENT_BUFS; i++) {
        event_buf_post(v, v->evt_bufs + i * VIRTIO_IOMMU_FAULT_SIZE);
    }
    virtio_driver_ok(dev);
    if (virtio_get_status(dev) & VIRTIO_STATUS_NEEDS_RESET) {
        guest_fail("virtio-iommu: DEVICE_NEEDS_RESET after DRIVER_OK");
    }
    virtq_kick(&v->evt);
    return true;
}

/*
 * Send the request built in req_page (head + body, @req_len bytes) with a
 * writable reply of @reply_len bytes (ending with the tail) and wait for
 * it.  Returns the tail's status, or VIOMMU_NO_REPLY.
 */
static int viommu_submit(struct viommu *v, uint8_t type, uint32_t req_len,
                         uint32_t reply_len)
{
    uint8_t *reply = v->req_page + REPLY_OFFSET;
    struct virtq_buf bufs[2] = {
        { v->req_page, req_len, false },
        { reply, reply_len, true },
    };
    uint32_t id, len;
    int head;

    put8(v->req_page, 0, type);
    memset(reply, 0xff, reply_len);
    head = virtq_add(&v->req, bufs, 2);
    if (head < 0) {
        guest_fail("virtio-iommu: request queue full");
    }
    virtq_kick(&v->req);
    if (!virtq_wait_used(&v->req, &id, &len, REQUEST_TIMEOUT_MS)) {
        printf("virtio-iommu: request type %u: no reply in %u ms\n", type,
               REQUEST_TIMEOUT_MS);
        return VIOMMU_NO_REPLY;
    }
    if (id != (uint32_t)head || len != reply_len) {
        printf("virtio-iommu: request type %u: used id %u len %u, expected "
               "%d and %u\n", type, id, len, head, reply_len);
        return VIOMMU_NO_REPLY;
    }
    return reply[reply_len - TAIL_SIZE];
}

static void req_clear(struct viommu *v, uint32_t len)
{
    memset(v->req_page, 0, len);
}

int viommu_attach(struct viommu *v, uint32_t domain, uint32_t endpoint,
                  uint32_t flags)
{
    req_clear(v, REQ_ATTACH_SIZE);
    put32(v->req_page, 4, domain);
    put32(v->req_page, 8, endpoint);
    put32(v->req_page, 12, flags);
    return viommu_submit(v, VIRTIO_IOMMU_T_ATTACH, REQ_ATTACH_SIZE,
                         TAIL_SIZE);
}

int viommu_detach(struct viommu *v, uint32_t domain, uint32_t endpoint)
{
    req_clear(v, REQ_DETACH_SIZE);
    put32(v->req_page, 4, domain);
    put32(v->req_page, 8, endpoint);
    return viommu_submit(v, VIRTIO_IOMMU_T_DETACH, REQ_DETACH_SIZE,
                         TAIL_SIZE);
}

int viommu_map(struct viommu *v, uint32_t domain, uint64_t virt_start,
               uint64_t virt_end, uint64_t phys_start, uint32_t flags)
{
    req_clear(v, REQ_MAP_SIZE);
    put32(v->req_page, 4, domain);
    put64(v->req_page, 8, virt_start);
    put64(v->req_page, 16, virt_end);
    put64(v->req_page, 24, phys_start);
    put32(v->req_page, 32, flags);
    return viommu_submit(v, VIRTIO_IOMMU_T_MAP, REQ_MAP_SIZE, TAIL_SIZE);
}

int viommu_unmap(struct viommu *v, uint32_t domain, uint64_t virt_start,
                 uint64_t virt_end)
{
    req_clear(v, REQ_UNMAP_SIZE);
    put32(v->req_page, 4, domain);
    put64(v->req_page, 8, virt_start);
    put64(v->req_page, 16, virt_end);
    return viommu_submit(v, VIRTIO_IOMMU_T_UNMAP, REQ_UNMAP_SIZE, TAIL_SIZE);
}

/* Property header: le16 type (11:0, 15:12 reserved), le16 length of the
 * value (facts H.5); RESV_MEM value: subtype, 3 reserved, start, end. */
#define PROP_HDR 4
#define RESV_MEM_LEN 20

int viommu_probe(struct viommu *v, uint32_t endpoint,
                 struct viommu_resv_mem *resv, unsigned int max,
                 unsigned int *n)
{
    const uint8_t *props = v->req_page + REPLY_OFFSET;
    unsigned int off = 0;
    int status;

    *n = 0;
    if (!v->probe_size) {
        guest_fail("virtio-iommu: PROBE not negotiated");
    }
    req_clear(v, REQ_PROBE_SIZE);
    put32(v->req_page, 4, endpoint);
    status = viommu_submit(v, VIRTIO_IOMMU_T_PROBE, REQ_PROBE_SIZE,
                           v->probe_size + TAIL_SIZE);
    if (status != VIRTIO_IOMMU_S_OK) {
        return status;
    }
    while (off + PROP_HDR <= v->probe_size) {
        uint16_t type = get16(props, off);
        uint16_t len = get16(props, off + 2);

        if ((type & 0xfff) == VIRTIO_IOMMU_PROBE_T_NONE) {
            break;
        }
        if (off + PROP_HDR + len > v->probe_size) {
            guest_fail("virtio-iommu: PROBE property at %u (type %u, "
                       "length %u) overruns probe_size %u", off, type, len,
                       v->probe_size);
        }
        if (type == VIRTIO_IOMMU_PROBE_T_RESV_MEM) {
            if (len != RESV_MEM_LEN) {
                guest_fail("virtio-iommu: RESV_MEM property length %u", len);
            }
            if (*n < max) {
                resv[*n].subtype = props[off + PROP_HDR];
                resv[*n].start = get64(props, off + PROP_HDR + 4);
                resv[*n].end = get64(props, off + PROP_HDR + 12);
            }
            (*n)++;
        }
        off += PROP_HDR + len;
    }
    return status;
}

bool viommu_event_pop(struct viommu *v, struct viommu_fault *f)
{
    uint32_t id, len;
    uint8_t *buf;

    if (!virtq_get_used(&v->evt, &id, &len)) {
        return false;
    }
    buf = phys_to_virt(v->evt.desc[id].addr);
    if (len != VIRTIO_IOMMU_FAULT_SIZE) {
        guest_fail("virtio-iommu: fault event of %u bytes", len);
    }
    if (buf[1] || buf[2] || buf[3] || get32(buf, 12)) {
        guest_fail("virtio-iommu: fault event with reserved bytes set");
    }
    f->reason = buf[0];
    f->flags = get32(buf, 4);
    f->endpoint = get32(buf, 8);
    f->address = get64(buf, 16);
    event_buf_post(v, buf);
    virtq_kick(&v->evt);
    return true;
}

bool viommu_event_wait(struct viommu *v, struct viommu_fault *f, uint64_t ms)
{
    uint64_t deadline = timeout_start(ms);

    while (!viommu_event_pop(v, f)) {
        if (timeout_expired(deadline)) {
            return false;
        }
        cpu_relax();
    }
    return true;
}

const char *viommu_status_name(int status)
{
    static const char *const names[] = {
        "OK", "IOERR", "UNSUPP", "DEVERR", "INVAL", "RANGE", "NOENT",
        "FAULT", "NOMEM",
    };

    if (status == VIOMMU_NO_REPLY) {
        return "no reply";
    }
    return status >= 0 && status < (int)ARRAY_SIZE(names) ? names[status] :
           "unknown";
}
