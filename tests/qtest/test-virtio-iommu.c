/*
 * virtio-iommu-pci (virtio 1.2, 5.13; facts H): identity, features and
 * configuration; ATTACH/DETACH and moves; MAP/UNMAP with the spec's UNMAP
 * examples and every error status; global and per-domain bypass; PROBE
 * reserved regions; edu DMA through the IOMMU landing at the mapped
 * address, and faulting onto the event queue when unmapped; malformed
 * chains and requests, after which the device still works.
 *
 * The test is the driver (tests/qtest/libvirtio.h).  Layouts are written
 * here from the specification, independently of the device's header.
 */
#include <string.h>
#include <glib.h>

#include "libvirtio.h"

#define VIOMMU_DEVFN    (4 << 3)
#define EDU_DEVFN       (3 << 3)
#define EDU_EP          EDU_DEVFN           /* endpoint ID = BDF, bus 0 */
#define EDU2_DEVFN      (5 << 3)
#define EDU3_DEVFN      (6 << 3)
#define ALLOC_BASE      0x1000000ULL
#define ALLOC_SIZE      0x1000000ULL
#define PHYS            0x4000000ULL        /* mapping targets */
#define PAGE            0x1000ULL

/* edu (docs/edu.md) */
#define PCI_COMMAND             0x04
#define  PCI_COMMAND_MEMORY     0x2
#define  PCI_COMMAND_MASTER     0x4
#define PCI_CLASS_DEVICE        0x0a
#define PCI_BASE_ADDRESS_0      0x10
#define PCI_CAP_ID_MSI          0x05
#define EDU_DMA_SRC     0x80
#define EDU_DMA_DST     0x88
#define EDU_DMA_CNT     0x90
#define EDU_DMA_CMD     0x98
#define  EDU_DMA_RUN    0x1
#define  EDU_DMA_TO_RAM 0x2
#define  EDU_DMA_ERROR  0x80000000u
#define EDU_BUF         0x40000

/* Features (H.1) */
#define F_INPUT_RANGE   0
#define F_DOMAIN_RANGE  1
#define F_MAP_UNMAP     2
#define F_BYPASS        3
#define F_PROBE         4
#define F_MMIO          5
#define F_BYPASS_CONFIG 6
#define F_DEVICE        (VIRTIO_BIT(F_INPUT_RANGE) | \
                         VIRTIO_BIT(F_DOMAIN_RANGE) | \
                         VIRTIO_BIT(F_MAP_UNMAP) | VIRTIO_BIT(F_PROBE) | \
                         VIRTIO_BIT(F_MMIO) | VIRTIO_BIT(F_BYPASS_CONFIG))
#define F_ALL           (VIRTIO_BIT(VIRTIO_F_VERSION_1) | \
                         VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC) | F_DEVICE)

/* Config (H.2) */
#define CFG_PAGE_SIZE_MASK  0
#define CFG_INPUT_START     8
#define CFG_INPUT_END       16
#define CFG_DOMAIN_START    24
#define CFG_DOMAIN_END      28
#define CFG_PROBE_SIZE      32
#define CFG_BYPASS          36

/* Requests (H.3) */
#define T_ATTACH        1
#define T_DETACH        2
#define T_MAP           3
#define T_UNMAP         4
#define T_PROBE         5
#define ATTACH_F_BYPASS 1
#define MAP_F_READ      1
#define MAP_F_WRITE     2
#define MAP_F_MMIO      4
#define MAP_F_RW        (MAP_F_READ | MAP_F_WRITE)
#define S_OK            0
#define S_UNSUPP        2
#define S_INVAL         4
#define S_RANGE         5
#define S_NOENT         6
#define S_NOMEM         8
#define PROBE_SIZE      512
#define NO_REPLY        0xff    /* used length 0: the tail was not written */

/* Fault event (H.7) */
#define FAULT_R_DOMAIN  1
#define FAULT_R_MAPPING 2
#define FAULT_F_READ    0x1
#define FAULT_F_WRITE   0x2
#define FAULT_F_ADDRESS 0x100

#define EVENT_BUFS      8

typedef struct Viommu {
    QTestState *s;
    QVirtioDev d;
    QVirtQueue *req;
    QVirtQueue *ev;
    uint64_t edu_bar;
} Viommu;

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = v >> (8 * i);
    }
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, v);
    put32(p + 4, v >> 32);
}

static uint32_t get32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* --- Driver ------------------------------------------------------------------ */

/* Adds a writable buffer of len bytes to the event queue. */
static void event_buf_add(Viommu *v, uint32_t len)
{
    QVirtioBuf b = { qvirtio_alloc(&v->d, len, 8), len, true };

    qvirtqueue_add_chain(v->ev, &b, 1);
    qvirtqueue_kick(v->ev);
}

/* Resets and drives the device to DRIVER_OK with features; event queue
 * pre-filled with nbufs buffers. */
static void viommu_setup(Viommu *v, uint64_t features, unsigned nbufs)
{
    g_free(v->req);
    g_free(v->ev);
    qvirtio_pci_init(&v->d, v->s, 0, VIOMMU_DEVFN, ALLOC_BASE, ALLOC_SIZE);
    qvirtio_start(&v->d, features);
    v->req = qvirtqueue_setup(&v->d, 0, 0, VIRTIO_MSI_NO_VECTOR);
    v->ev = qvirtqueue_setup(&v->d, 1, 0, VIRTIO_MSI_NO_VECTOR);
    qvirtio_set_driver_ok(&v->d);
    for (unsigned i = 0; i < nbufs; i++) {
        event_buf_add(v, 24);
    }
}

/* opts: extra virtio-iommu-pci properties; more: extra arguments. */
static Viommu *viommu_start_full(const char *opts, const char *more,
                                 uint64_t features)
{
    Viommu *v = g_new0(Viommu, 1);

    v->s = qtest_initf("-M q35 -m 256M -device edu,addr=03.0 "
                       "-device virtio-iommu-pci,id=viommu,addr=04.0%s %s",
                       opts, more);
    viommu_setup(v, features, EVENT_BUFS);
    v->edu_bar = qpci_config_readl(v->s, 0, EDU_DEVFN, PCI_BASE_ADDRESS_0) &
                 ~0xfu;
    qpci_config_writew(v->s, 0, EDU_DEVFN, PCI_COMMAND,
                       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    return v;
}

static Viommu *viommu_start(const char *opts)
{
    return viommu_start_full(opts, "", F_ALL);
}

static void viommu_stop(Viommu *v)
{
    qtest_quit(v->s);
    g_free(v->req);
    g_free(v->ev);
    g_free(v);
}

/*
 * Sends a request: bufs readable bytes (split into chunks of at most
 * split bytes, 0 = one buffer), then a writable reply of wlen bytes.
 * Returns the used length; reply (wlen bytes) is read back.
 */
static uint32_t send_raw(Viommu *v, const void *req, uint32_t len,
                         uint32_t split, uint8_t *reply, uint32_t wlen)
{
    QVirtioBuf bufs[16];
    unsigned n = 0;
    uint64_t rd = len ? qvirtio_alloc(&v->d, len, 8) : 0;
    uint64_t wr = wlen ? qvirtio_alloc(&v->d, wlen, 8) : 0;
    uint32_t used;
    uint16_t head;

    if (len) {
        qtest_memwrite(v->s, rd, req, len);
    }
    for (uint32_t off = 0; off < len; n++) {
        uint32_t chunk = split ? MIN(split, len - off) : len - off;

        g_assert_cmpuint(n, <, 15);
        bufs[n] = (QVirtioBuf) { rd + off, chunk, false };
        off += chunk;
    }
    if (wlen) {
        qtest_memset(v->s, wr, 0xee, wlen);
        bufs[n++] = (QVirtioBuf) { wr, wlen, true };
    }
    head = qvirtqueue_add_chain(v->req, bufs, n);
    qvirtqueue_kick(v->req);
    used = qvirtqueue_wait_used(v->req, head);
    if (reply) {
        qtest_memread(v->s, wr, reply, wlen);
    }
    return used;
}

/* A well-formed request with a 4-byte tail: its status, or NO_REPLY
 * when the device returned the chain unwritten. */
static uint8_t send_req(Viommu *v, const uint8_t *req, uint32_t len)
{
    uint8_t tail[4];
    uint32_t used = send_raw(v, req, len, 0, tail, sizeof(tail));

    if (!used) {
        return NO_REPLY;
    }
    g_assert_cmpuint(used, ==, 4);
    g_assert_cmphex(tail[1] | tail[2] | tail[3], ==, 0);
    return tail[0];
}

static uint8_t attach_full(Viommu *v, uint32_t dom, uint32_t ep,
                           uint32_t flags, uint32_t reserved)
{
    uint8_t r[20] = { T_ATTACH };

    put32(r + 4, dom);
    put32(r + 8, ep);
    put32(r + 12, flags);
    put32(r + 16, reserved);
    return send_req(v, r, sizeof(r));
}

static uint8_t attach(Viommu *v, uint32_t dom, uint32_t ep)
{
    return attach_full(v, dom, ep, 0, 0);
}

static uint8_t detach(Viommu *v, uint32_t dom, uint32_t ep)
{
    uint8_t r[20] = { T_DETACH };

    put32(r + 4, dom);
    put32(r + 8, ep);
    memset(r + 12, 0xa5, 8);        /* reserved: ignored */
    return send_req(v, r, sizeof(r));
}

static uint8_t map(Viommu *v, uint32_t dom, uint64_t start, uint64_t end,
                   uint64_t phys, uint32_t flags)
{
    uint8_t r[36] = { T_MAP };

    put32(r + 4, dom);
    put64(r + 8, start);
    put64(r + 16, end);
    put64(r + 24, phys);
    put32(r + 32, flags);
    return send_req(v, r, sizeof(r));
}

static uint8_t unmap_full(Viommu *v, uint32_t dom, uint64_t start,
                          uint64_t end, uint32_t reserved)
{
    uint8_t r[28] = { T_UNMAP };

    put32(r + 4, dom);
    put64(r + 8, start);
    put64(r + 16, end);
    put32(r + 24, reserved);
    return send_req(v, r, sizeof(r));
}

static uint8_t unmap(Viommu *v, uint32_t dom, uint64_t start, uint64_t end)
{
    return unmap_full(v, dom, start, end, 0);
}

/* Pages: map of pages [a, b] in page units, as the spec's examples. */
static uint8_t map_pages(Viommu *v, uint32_t dom, uint64_t a, uint64_t b)
{
    return map(v, dom, a * PAGE, (b + 1) * PAGE - 1, PHYS + a * PAGE,
               MAP_F_RW);
}

static uint8_t unmap_pages(Viommu *v, uint32_t dom, uint64_t a, uint64_t b)
{
    return unmap(v, dom, a * PAGE, (b + 1) * PAGE - 1);
}

/* PROBE: returns the used length; props (PROBE_SIZE) and *status. */
static uint32_t probe(Viommu *v, uint32_t ep, uint8_t *props,
                      uint8_t *status)
{
    uint8_t r[72] = { T_PROBE };
    uint8_t reply[PROBE_SIZE + 4];
    uint32_t used;

    put32(r + 4, ep);
    used = send_raw(v, r, sizeof(r), 0, reply, sizeof(reply));
    memcpy(props, reply, PROBE_SIZE);
    *status = reply[PROBE_SIZE];
    return used;
}

/* The next fault event: false if none was delivered. */
static bool fault_pop(Viommu *v, uint8_t ev[24])
{
    uint32_t id, len;
    uint64_t desc;

    if (!qvirtqueue_get_used(v->ev, &id, &len)) {
        return false;
    }
    g_assert_cmpuint(len, ==, 24);
    desc = v->ev->desc + 16ULL * id;
    qtest_memread(v->s, qtest_readq(v->s, desc), ev, 24);
    return true;
}

static void assert_fault(Viommu *v, uint8_t reason, uint32_t flags,
                         uint32_t ep, uint64_t addr)
{
    uint8_t ev[24];

    g_assert_true(fault_pop(v, ev));
    g_assert_cmpuint(ev[0], ==, reason);
    g_assert_cmphex(ev[1] | ev[2] | ev[3], ==, 0);
    g_assert_cmphex(get32(ev + 4), ==, flags);
    g_assert_cmphex(get32(ev + 8), ==, ep);
    g_assert_cmphex(get32(ev + 12), ==, 0);
    g_assert_cmphex(get64(ev + 16), ==, addr);
}

static void assert_no_fault(Viommu *v)
{
    uint8_t ev[24];

    g_assert_false(fault_pop(v, ev));
}

static uint64_t events_dropped(Viommu *v)
{
    JsonObject *rsp = qtest_qmp(v->s, "{'execute': 'qom-get', 'arguments': "
                                "{'path': '/machine/peripheral/viommu/"
                                "virtio-backend', "
                                "'property': 'x-events-dropped'}}");
    uint64_t n = json_node_get_int(qmp_expect_return(rsp));

    json_object_unref(rsp);
    return n;
}

/* --- edu DMA ------------------------------------------------------------------ */

/* One edu transfer (100 ms timer); true if it completed without error. */
static bool edu_dma(Viommu *v, uint64_t src, uint64_t dst, uint32_t cnt,
                    bool to_ram)
{
    uint32_t cmd;

    qtest_writeq(v->s, v->edu_bar + EDU_DMA_SRC, src);
    qtest_writeq(v->s, v->edu_bar + EDU_DMA_DST, dst);
    qtest_writeq(v->s, v->edu_bar + EDU_DMA_CNT, cnt);
    qtest_writel(v->s, v->edu_bar + EDU_DMA_CMD,
                 EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0));
    qtest_clock_step_next(v->s);
    cmd = qtest_readl(v->s, v->edu_bar + EDU_DMA_CMD);
    g_assert_cmphex(cmd & EDU_DMA_RUN, ==, 0);
    return !(cmd & EDU_DMA_ERROR);
}

/* RAM (iova) -> edu buffer -> RAM (iova2): the device reads then writes. */
static bool edu_read(Viommu *v, uint64_t iova)
{
    return edu_dma(v, iova, EDU_BUF, 64, false);
}

static bool edu_write(Viommu *v, uint64_t iova)
{
    return edu_dma(v, EDU_BUF, iova, 64, true);
}

static void fill(Viommu *v, uint64_t gpa, uint8_t seed)
{
    uint8_t b[64];

    for (size_t i = 0; i < sizeof(b); i++) {
        b[i] = seed + i * 3;
    }
    qtest_memwrite(v->s, gpa, b, sizeof(b));
}

static void assert_filled(Viommu *v, uint64_t gpa, uint8_t seed)
{
    uint8_t b[64];

    qtest_memread(v->s, gpa, b, sizeof(b));
    for (size_t i = 0; i < sizeof(b); i++) {
        g_assert_cmphex(b[i], ==, (uint8_t)(seed + i * 3));
    }
}

/* --- Tests -------------------------------------------------------------------- */

static void test_identity(void)
{
    Viommu *v = viommu_start("");
    QTestState *s = v->s;

    g_assert_cmphex(qpci_config_readw(s, 0, VIOMMU_DEVFN, 0), ==, 0x1af4);
    g_assert_cmphex(qpci_config_readw(s, 0, VIOMMU_DEVFN, 2), ==, 0x1057);
    g_assert_cmphex(qpci_config_readw(s, 0, VIOMMU_DEVFN, PCI_CLASS_DEVICE),
                    ==, 0x0880);
    g_assert_cmpuint(v->d.device_id, ==, VIRTIO_ID_IOMMU);
    /* VERSION_1 and the device bits of H.1; never legacy BYPASS. */
    g_assert_cmphex(qvirtio_get_features(&v->d) & (F_ALL | VIRTIO_BIT(F_BYPASS)),
                    ==, F_ALL);
    g_assert_true(qvirtio_get_features(&v->d) & VIRTIO_BIT(VIRTIO_F_VERSION_1));
    g_assert_false(qvirtio_negotiate(&v->d, F_ALL | VIRTIO_BIT(F_BYPASS)));
    viommu_stop(v);
}

static void test_config_default(void)
{
    Viommu *v = viommu_start("");
    QVirtioDev *d = &v->d;

    g_assert_cmphex(qvirtio_config_readq(d, CFG_PAGE_SIZE_MASK), ==,
                    ~0xfffULL);
    g_assert_cmphex(qvirtio_config_readq(d, CFG_INPUT_START), ==, 0);
    g_assert_cmphex(qvirtio_config_readq(d, CFG_INPUT_END), ==, UINT64_MAX);
    g_assert_cmphex(qvirtio_config_readl(d, CFG_DOMAIN_START), ==, 0);
    g_assert_cmphex(qvirtio_config_readl(d, CFG_DOMAIN_END), ==, UINT32_MAX);
    g_assert_cmpuint(qvirtio_config_readl(d, CFG_PROBE_SIZE), ==, PROBE_SIZE);
    g_assert_cmpuint(qvirtio_config_readb(d, CFG_BYPASS), ==, 1);
    g_assert_cmpuint(qvirtio_config_readb(d, 37), ==, 0);
    g_assert_cmpuint(qvirtio_config_readw(d, 38), ==, 0);

    /* Read-only fields ignore writes. */
    qvirtio_config_writel(d, CFG_PAGE_SIZE_MASK, 0);
    qvirtio_config_writel(d, CFG_PROBE_SIZE, 4);
    qvirtio_config_writeb(d, 37, 0x55);
    g_assert_cmphex(qvirtio_config_readq(d, CFG_PAGE_SIZE_MASK), ==,
                    ~0xfffULL);
    g_assert_cmpuint(qvirtio_config_readl(d, CFG_PROBE_SIZE), ==, PROBE_SIZE);
    g_assert_cmpuint(qvirtio_config_readb(d, 37), ==, 0);
    viommu_stop(v);
}

static void test_config_props(void)
{
    Viommu *v = viommu_start(",granule=64k,aw-bits=48,boot-bypass=off");
    QVirtioDev *d = &v->d;

    g_assert_cmphex(qvirtio_config_readq(d, CFG_PAGE_SIZE_MASK), ==,
                    ~0xffffULL);
    g_assert_cmphex(qvirtio_config_readq(d, CFG_INPUT_END), ==,
                    (1ULL << 48) - 1);
    g_assert_cmpuint(qvirtio_config_readb(d, CFG_BYPASS), ==, 0);
    viommu_stop(v);

    v = viommu_start(",granule=16k,aw-bits=32");
    g_assert_cmphex(qvirtio_config_readq(&v->d, CFG_PAGE_SIZE_MASK), ==,
                    ~0x3fffULL);
    g_assert_cmphex(qvirtio_config_readq(&v->d, CFG_INPUT_END), ==,
                    UINT32_MAX);
    viommu_stop(v);
}

/*
 * config.bypass: writable (0/1) with BYPASS_CONFIG negotiated, kept over
 * a device reset, back to boot-bypass on system reset (H.2).
 */
static void test_config_bypass(void)
{
    Viommu *v = viommu_start("");
    QVirtioDev *d = &v->d;

    qvirtio_config_writeb(d, CFG_BYPASS, 0);
    g_assert_cmpuint(qvirtio_config_readb(d, CFG_BYPASS), ==, 0);
    qvirtio_config_writeb(d, CFG_BYPASS, 2);
    g_assert_cmpuint(qvirtio_config_readb(d, CFG_BYPASS), ==, 0);

    /* Device reset keeps it; without BYPASS_CONFIG it is read-only. */
    viommu_setup(v, F_ALL & ~VIRTIO_BIT(F_BYPASS_CONFIG), 0);
    g_assert_cmpuint(qvirtio_config_readb(d, CFG_BYPASS), ==, 0);
    qvirtio_config_writeb(d, CFG_BYPASS, 1);
    g_assert_cmpuint(qvirtio_config_readb(d, CFG_BYPASS), ==, 0);

    qtest_qmp_assert_success(v->s, "{\"execute\": \"system_reset\"}");
    viommu_setup(v, F_ALL, 0);
    g_assert_cmpuint(qvirtio_config_readb(d, CFG_BYPASS), ==, 1);
    viommu_stop(v);
}

static void test_attach_detach(void)
{
    Viommu *v = viommu_start("");

    g_assert_cmpuint(attach(v, 1, EDU_EP), ==, S_OK);
    g_assert_cmpuint(attach(v, 1, EDU_EP), ==, S_OK);     /* again: no-op */
    g_assert_cmpuint(map_pages(v, 1, 0, 0), ==, S_OK);

    /* Attaching to another domain moves it; domain 1, now empty, is
     * destroyed with its mapping. */
    g_assert_cmpuint(attach(v, 2, EDU_EP), ==, S_OK);
    g_assert_cmpuint(map_pages(v, 1, 0, 0), ==, S_NOENT);
    g_assert_cmpuint(detach(v, 1, EDU_EP), ==, S_INVAL);
    g_assert_cmpuint(map_pages(v, 2, 0, 0), ==, S_OK);

    /* DETACH (reserved bytes ignored) destroys domain 2 as well. */
    g_assert_cmpuint(detach(v, 2, EDU_EP), ==, S_OK);
    g_assert_cmpuint(detach(v, 2, EDU_EP), ==, S_INVAL);
    g_assert_cmpuint(unmap_pages(v, 2, 0, 0), ==, S_NOENT);

    /* Unknown endpoints: nothing at 05.0, the IOMMU itself, > 16 bits. */
    g_assert_cmpuint(attach(v, 1, 5 << 3), ==, S_NOENT);
    g_assert_cmpuint(attach(v, 1, VIOMMU_DEVFN), ==, S_NOENT);
    g_assert_cmpuint(attach(v, 1, 0x10000 | EDU_EP), ==, S_NOENT);
    g_assert_cmpuint(detach(v, 1, 5 << 3), ==, S_NOENT);

    /* Reserved field and unknown flags: INVAL (MUST). */
    g_assert_cmpuint(attach_full(v, 1, EDU_EP, 0, 1), ==, S_INVAL);
    g_assert_cmpuint(attach_full(v, 1, EDU_EP, 0, 0x80000000u), ==, S_INVAL);
    g_assert_cmpuint(attach_full(v, 1, EDU_EP, 2, 0), ==, S_INVAL);
    g_assert_cmpuint(map_pages(v, 1, 0, 0), ==, S_NOENT);

    /* The BYPASS flag must match an existing domain's type. */
    g_assert_cmpuint(attach(v, 3, EDU_EP), ==, S_OK);
    g_assert_cmpuint(attach_full(v, 3, EDU_EP, ATTACH_F_BYPASS, 0), ==,
                     S_INVAL);
    g_assert_cmpuint(attach_full(v, 4, EDU_EP, ATTACH_F_BYPASS, 0), ==, S_OK);
    g_assert_cmpuint(attach(v, 4, EDU_EP), ==, S_INVAL);

    /* Without BYPASS_CONFIG the flag is unknown. */
    viommu_setup(v, F_ALL & ~VIRTIO_BIT(F_BYPASS_CONFIG), 0);
    g_assert_cmpuint(attach_full(v, 5, EDU_EP, ATTACH_F_BYPASS, 0), ==,
                     S_INVAL);
    g_assert_cmpuint(attach(v, 5, EDU_EP), ==, S_OK);
    viommu_stop(v);
}

/* Domains are bounded: beyond x-max-domains ATTACH answers NOMEM. */
static void test_domain_limit(void)
{
    Viommu *v = viommu_start_full(",x-max-domains=2",
                                  "-device edu,addr=05.0 "
                                  "-device edu,addr=06.0", F_ALL);

    g_assert_cmpuint(attach(v, 10, EDU_EP), ==, S_OK);
    g_assert_cmpuint(attach(v, 11, EDU2_DEVFN), ==, S_OK);
    g_assert_cmpuint(attach(v, 12, EDU3_DEVFN), ==, S_NOMEM);
    g_assert_cmpuint(attach(v, 11, EDU3_DEVFN), ==, S_OK);   /* shared */
    /* Moving a domain's last endpoint frees its slot. */
    g_assert_cmpuint(attach(v, 12, EDU_EP), ==, S_OK);
    g_assert_cmpuint(map_pages(v, 10, 0, 0), ==, S_NOENT);
    viommu_stop(v);
}

static void test_map_errors(void)
{
    Viommu *v = viommu_start(",aw-bits=48,x-max-mappings=4,"
                             "reserved-regions=0x8000000:0x80fffff:0");

    g_assert_cmpuint(map_pages(v, 1, 0, 0), ==, S_NOENT);
    g_assert_cmpuint(unmap_pages(v, 1, 0, 0), ==, S_NOENT);
    g_assert_cmpuint(attach(v, 1, EDU_EP), ==, S_OK);

    /* Alignment to the 4 KiB granule: start, end + 1, phys. */
    g_assert_cmpuint(map(v, 1, 0x800, 0x1fff, PHYS, MAP_F_RW), ==, S_RANGE);
    g_assert_cmpuint(map(v, 1, 0x1000, 0x1ffe, PHYS, MAP_F_RW), ==, S_RANGE);
    g_assert_cmpuint(map(v, 1, 0x1000, 0x1fff, PHYS + 8, MAP_F_RW), ==,
                     S_RANGE);
    /* Inverted, beyond the input range (aw-bits 48), phys wrapping. */
    g_assert_cmpuint(map(v, 1, 0x2000, 0x0fff, PHYS, MAP_F_RW), ==, S_RANGE);
    g_assert_cmpuint(map(v, 1, 1ULL << 48, (1ULL << 48) + 0xfff, PHYS,
                         MAP_F_RW), ==, S_RANGE);
    g_assert_cmpuint(map(v, 1, 0, 0x1fff, UINT64_MAX - 0xfff, MAP_F_RW), ==,
                     S_RANGE);
    /* Unknown flags; MMIO needs F_MMIO. */
    g_assert_cmpuint(map(v, 1, 0, 0xfff, PHYS, 8), ==, S_INVAL);
    g_assert_cmpuint(map(v, 1, 0, 0xfff, PHYS, MAP_F_RW | MAP_F_MMIO), ==,
                     S_OK);
    /* Overlap with a mapping, with a reserved region, with the MSI one. */
    g_assert_cmpuint(map(v, 1, 0, 0x1fff, PHYS, MAP_F_RW), ==, S_INVAL);
    g_assert_cmpuint(map(v, 1, 0x80ff000, 0x8100fff, PHYS, MAP_F_RW), ==,
                     S_INVAL);
    g_assert_cmpuint(map(v, 1, 0xfe000000, 0xfeffffff, PHYS, MAP_F_RW), ==,
                     S_INVAL);
    /* x-max-mappings=4: the fifth is NOMEM, then room again. */
    g_assert_cmpuint(map_pages(v, 1, 1, 1), ==, S_OK);
    g_assert_cmpuint(map_pages(v, 1, 2, 2), ==, S_OK);
    g_assert_cmpuint(map_pages(v, 1, 3, 3), ==, S_OK);
    g_assert_cmpuint(map_pages(v, 1, 4, 4), ==, S_NOMEM);
    g_assert_cmpuint(unmap_pages(v, 1, 3, 3), ==, S_OK);
    g_assert_cmpuint(map_pages(v, 1, 4, 4), ==, S_OK);
    /* UNMAP: reserved field, inverted range. */
    g_assert_cmpuint(unmap_full(v, 1, 0, 0xfff, 1), ==, S_INVAL);
    g_assert_cmpuint(map_pages(v, 1, 0, 0), ==, S_INVAL);  /* still there */
    g_assert_cmpuint(unmap(v, 1, 0x2000, 0x1000), ==, S_RANGE);
    /* A bypass domain takes no MAP/UNMAP. */
    g_assert_cmpuint(attach_full(v, 2, EDU_EP, ATTACH_F_BYPASS, 0), ==, S_OK);
    g_assert_cmpuint(map_pages(v, 2, 0, 0), ==, S_INVAL);
    g_assert_cmpuint(unmap_pages(v, 2, 0, 0), ==, S_INVAL);

    viommu_setup(v, F_ALL & ~VIRTIO_BIT(F_MMIO), 0);
    g_assert_cmpuint(attach(v, 1, EDU_EP), ==, S_OK);
    g_assert_cmpuint(map(v, 1, 0, 0xfff, PHYS, MAP_F_RW | MAP_F_MMIO), ==,
                     S_INVAL);
    viommu_stop(v);
}

/* The spec's UNMAP examples, in 4 KiB pages, each in a fresh domain. */
static void test_unmap_examples(void)
{
    Viommu *v = viommu_start("");
    uint32_t dom = 100;

    /* unmap(0, 4) on an empty domain -> OK */
    g_assert_cmpuint(attach(v, ++dom, EDU_EP), ==, S_OK);
    g_assert_cmpuint(unmap_pages(v, dom, 0, 4), ==, S_OK);

    /* map(0, 9); unmap(0, 9) -> removed */
    g_assert_cmpuint(attach(v, ++dom, EDU_EP), ==, S_OK);
    g_assert_cmpuint(map_pages(v, dom, 0, 9), ==, S_OK);
    g_assert_cmpuint(unmap_pages(v, dom, 0, 9), ==, S_OK);
    g_assert_cmpuint(map_pages(v, dom, 0, 9), ==, S_OK);

    /* map(0, 4) + map(5, 9); unmap(0, 9) -> both removed */
    g_assert_cmpuint(attach(v, ++dom, EDU_EP), ==, S_OK);
    g_assert_cmpuint(map_pages(v, dom, 0, 4), ==, S_OK);
    g_assert_cmpuint(map_pages(v, dom, 5, 9), ==, S_OK);
    g_assert_cmpuint(unmap_pages(v, dom, 0, 9), ==, S_OK);
    g_assert_cmpuint(map_pages(v, dom, 0, 9), ==, S_OK);

    /* map(0, 9); unmap(0, 4) -> RANGE, nothing removed */
    g_assert_cmpuint(attach(v, ++dom, EDU_EP), ==, S_OK);
    g_assert_cmpuint(map_pages(v, dom, 0, 9), ==, S_OK);
    g_assert_cmpuint(unmap_pages(v, dom, 0, 4), ==, S_RANGE);
    g_assert_cmpuint(map_pages(v, dom, 0, 0), ==, S_INVAL);
    g_assert_cmpuint(map_pages(v, dom, 9, 9), ==, S_INVAL);

    /* map(0, 4) + map(5, 9); unmap(0, 4) -> first only */
    g_assert_cmpuint(attach(v, ++dom, EDU_EP), ==, S_OK);
    g_assert_cmpuint(map_pages(v, dom, 0, 4), ==, S_OK);
    g_assert_cmpuint(map_pages(v, dom, 5, 9), ==, S_OK);
    g_assert_cmpuint(unmap_pages(v, dom, 0, 4), ==, S_OK);
    g_assert_cmpuint(map_pages(v, dom, 0, 4), ==, S_OK);
    g_assert_cmpuint(map_pages(v, dom, 5, 5), ==, S_INVAL);

    /* map(0, 4); unmap(0, 9) -> removed */
    g_assert_cmpuint(attach(v, ++dom, EDU_EP), ==, S_OK);
    g_assert_cmpuint(map_pages(v, dom, 0, 4), ==, S_OK);
    g_assert_cmpuint(unmap_pages(v, dom, 0, 9), ==, S_OK);
    g_assert_cmpuint(map_pages(v, dom, 0, 4), ==, S_OK);

    /* map(0, 4) + map(10, 14); unmap(0, 14) -> both removed */
    g_assert_cmpuint(attach(v, ++dom, EDU_EP), ==, S_OK);
    g_assert_cmpuint(map_pages(v, dom, 0, 4), ==, S_OK);
    g_assert_cmpuint(map_pages(v, dom, 10, 14), ==, S_OK);
    g_assert_cmpuint(unmap_pages(v, dom, 0, 14), ==, S_OK);
    g_assert_cmpuint(map_pages(v, dom, 0, 14), ==, S_OK);

    /* A split at the end is refused as well, atomically: map(0, 4) +
     * map(5, 9); unmap(0, 7) removes neither. */
    g_assert_cmpuint(attach(v, ++dom, EDU_EP), ==, S_OK);
    g_assert_cmpuint(map_pages(v, dom, 0, 4), ==, S_OK);
    g_assert_cmpuint(map_pages(v, dom, 5, 9), ==, S_OK);
    g_assert_cmpuint(unmap_pages(v, dom, 0, 7), ==, S_RANGE);
    g_assert_cmpuint(map_pages(v, dom, 0, 0), ==, S_INVAL);
    g_assert_cmpuint(map_pages(v, dom, 9, 9), ==, S_INVAL);

    /* The whole input range at once. */
    g_assert_cmpuint(attach(v, ++dom, EDU_EP), ==, S_OK);
    g_assert_cmpuint(map(v, dom, 0, 0xfedfffff, 0, MAP_F_RW), ==, S_OK);
    g_assert_cmpuint(map(v, dom, 0xfef00000, UINT64_MAX, 0xfef00000,
                         MAP_F_READ), ==, S_OK);
    g_assert_cmpuint(unmap(v, dom, 0, UINT64_MAX), ==, S_OK);
    g_assert_cmpuint(map_pages(v, dom, 0, 0), ==, S_OK);
    viommu_stop(v);
}

/* edu's DMA lands where the mapping says; unmapped accesses fault. */
static void test_dma(void)
{
    Viommu *v = viommu_start("");
    uint64_t iova = 0x100000, phys_in = PHYS, phys_out = PHYS + 0x10000;

    g_assert_cmpuint(attach(v, 1, EDU_EP), ==, S_OK);
    g_assert_cmpuint(map(v, 1, iova, iova + 0xfff, phys_in, MAP_F_READ), ==,
                     S_OK);
    g_assert_cmpuint(map(v, 1, iova + 0x1000, iova + 0x1fff, phys_out,
                         MAP_F_WRITE), ==, S_OK);

    /* Read from iova -> phys_in; write to iova + 4K -> phys_out. */
    fill(v, phys_in + 0x40, 0x11);
    g_assert_true(edu_read(v, iova + 0x40));
    g_assert_true(edu_write(v, iova + 0x1000 + 0x80));
    assert_filled(v, phys_out + 0x80, 0x11);
    assert_no_fault(v);

    /* Permission: no write through a READ mapping. */
    g_assert_false(edu_write(v, iova + 0x40));
    assert_fault(v, FAULT_R_MAPPING, FAULT_F_WRITE | FAULT_F_ADDRESS, EDU_EP,
                 iova + 0x40);
    /* A miss, read and write. */
    g_assert_false(edu_read(v, 0x200000));
    assert_fault(v, FAULT_R_MAPPING, FAULT_F_READ | FAULT_F_ADDRESS, EDU_EP,
                 0x200000);
    g_assert_false(edu_write(v, 0x300010));
    assert_fault(v, FAULT_R_MAPPING, FAULT_F_WRITE | FAULT_F_ADDRESS, EDU_EP,
                 0x300010);

    /* After UNMAP the address faults; after MAP elsewhere it lands
     * there. */
    g_assert_cmpuint(unmap(v, 1, iova + 0x1000, iova + 0x1fff), ==, S_OK);
    g_assert_false(edu_write(v, iova + 0x1000));
    assert_fault(v, FAULT_R_MAPPING, FAULT_F_WRITE | FAULT_F_ADDRESS, EDU_EP,
                 iova + 0x1000);
    g_assert_cmpuint(map(v, 1, iova + 0x1000, iova + 0x1fff, PHYS + 0x20000,
                         MAP_F_RW), ==, S_OK);
    g_assert_true(edu_write(v, iova + 0x1000));
    assert_filled(v, PHYS + 0x20000, 0x11);
    assert_no_fault(v);

    /* A large mapping: DMA in its middle. */
    g_assert_cmpuint(map(v, 1, 0x4000000, 0x7ffffff, 0x8000000, MAP_F_RW),
                     ==, S_OK);
    g_assert_true(edu_write(v, 0x5234000));
    assert_filled(v, 0x9234000, 0x11);
    viommu_stop(v);
}

/* MSIs are never translated (RESV_MEM MSI): edu's MSI reaches the APIC
 * window while edu sits in a domain without any mapping. */
static void test_msi_passthrough(void)
{
    Viommu *v = viommu_start(",boot-bypass=off");
    uint8_t msi = qpci_find_capability(v->s, 0, EDU_DEVFN, PCI_CAP_ID_MSI);
    uint64_t addr;
    uint32_t data;

    g_assert_cmpuint(attach(v, 1, EDU_EP), ==, S_OK);
    qpci_config_writel(v->s, 0, EDU_DEVFN, msi + 4, 0xfee00000);
    qpci_config_writel(v->s, 0, EDU_DEVFN, msi + 8, 0);
    qpci_config_writew(v->s, 0, EDU_DEVFN, msi + 0xc, 0x4071);
    qpci_config_writew(v->s, 0, EDU_DEVFN, msi + 2, 0x0081);
    qtest_msi_clear(v->s);
    qtest_writel(v->s, v->edu_bar + 0x60, 1);     /* raise */
    g_assert_true(qtest_msi_pop(v->s, &addr, &data));
    g_assert_cmphex(addr, ==, 0xfee00000);
    g_assert_cmphex(data, ==, 0x4071);
    assert_no_fault(v);
    viommu_stop(v);
}

/*
 * Bypass (H.6): unattached endpoints pass through while config.bypass is
 * 1 and are blocked (DOMAIN fault) while it is 0; a domain attached with
 * ATTACH_F_BYPASS is identity-mapped whatever config.bypass says.
 */
static void test_bypass(void)
{
    Viommu *v = viommu_start("");

    fill(v, PHYS, 0x22);
    g_assert_true(edu_read(v, PHYS));
    g_assert_true(edu_write(v, PHYS + 0x1000));
    assert_filled(v, PHYS + 0x1000, 0x22);

    qvirtio_config_writeb(&v->d, CFG_BYPASS, 0);
    g_assert_false(edu_read(v, PHYS));
    assert_fault(v, FAULT_R_DOMAIN, FAULT_F_READ | FAULT_F_ADDRESS, EDU_EP,
                 PHYS);

    /* Per domain. */
    g_assert_cmpuint(attach_full(v, 7, EDU_EP, ATTACH_F_BYPASS, 0), ==, S_OK);
    g_assert_true(edu_write(v, PHYS + 0x2000));
    assert_filled(v, PHYS + 0x2000, 0x22);
    /* Moved to a translated domain: mapped only. */
    g_assert_cmpuint(attach(v, 8, EDU_EP), ==, S_OK);
    g_assert_false(edu_write(v, PHYS + 0x3000));
    assert_fault(v, FAULT_R_MAPPING, FAULT_F_WRITE | FAULT_F_ADDRESS, EDU_EP,
                 PHYS + 0x3000);
    /* Detached: blocked again, then bypass again with config.bypass 1. */
    g_assert_cmpuint(detach(v, 8, EDU_EP), ==, S_OK);
    g_assert_false(edu_write(v, PHYS + 0x3000));
    assert_fault(v, FAULT_R_DOMAIN, FAULT_F_WRITE | FAULT_F_ADDRESS, EDU_EP,
                 PHYS + 0x3000);
    qvirtio_config_writeb(&v->d, CFG_BYPASS, 1);
    g_assert_true(edu_write(v, PHYS + 0x3000));
    assert_filled(v, PHYS + 0x3000, 0x22);
    assert_no_fault(v);
    viommu_stop(v);

    /* boot-bypass=off: blocked from the start, even before the driver. */
    v = viommu_start(",boot-bypass=off");
    g_assert_false(edu_read(v, PHYS));
    assert_fault(v, FAULT_R_DOMAIN, FAULT_F_READ | FAULT_F_ADDRESS, EDU_EP,
                 PHYS);
    viommu_stop(v);
}

/* Without an event buffer a fault is dropped and counted. */
static void test_fault_drop(void)
{
    Viommu *v = viommu_start("");
    uint8_t ev[24];

    g_assert_cmpuint(attach(v, 1, EDU_EP), ==, S_OK);
    for (int i = 0; i < EVENT_BUFS; i++) {
        g_assert_false(edu_read(v, 0x10000 * (i + 1)));
    }
    for (int i = 0; i < EVENT_BUFS; i++) {
        assert_fault(v, FAULT_R_MAPPING, FAULT_F_READ | FAULT_F_ADDRESS,
                     EDU_EP, 0x10000 * (i + 1));
    }
    g_assert_cmpuint(events_dropped(v), ==, 0);
    g_assert_false(edu_read(v, 0x900000));
    g_assert_false(fault_pop(v, ev));
    g_assert_cmpuint(events_dropped(v), ==, 1);
    /* A buffer too small for an event is returned empty. */
    event_buf_add(v, 16);
    g_assert_false(edu_read(v, 0x900000));
    g_assert_cmpuint(events_dropped(v), ==, 2);
    {
        uint32_t len;

        g_assert_true(qvirtqueue_get_used(v->ev, NULL, &len));
        g_assert_cmpuint(len, ==, 0);
    }
    event_buf_add(v, 24);
    g_assert_false(edu_read(v, 0xa00000));
    assert_fault(v, FAULT_R_MAPPING, FAULT_F_READ | FAULT_F_ADDRESS, EDU_EP,
                 0xa00000);
    viommu_stop(v);
}

static void assert_resv_prop(const uint8_t *p, uint8_t subtype,
                             uint64_t start, uint64_t end)
{
    g_assert_cmphex(p[0] | p[1] << 8, ==, 1);          /* RESV_MEM */
    g_assert_cmphex(p[2] | p[3] << 8, ==, 20);
    g_assert_cmpuint(p[4], ==, subtype);
    g_assert_cmphex(p[5] | p[6] | p[7], ==, 0);
    g_assert_cmphex(get64(p + 8), ==, start);
    g_assert_cmphex(get64(p + 16), ==, end);
}

static void assert_zero(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        g_assert_cmphex(p[i], ==, 0);
    }
}

static void test_probe(void)
{
    Viommu *v = viommu_start("");
    uint8_t props[PROBE_SIZE], status, r[72] = { T_PROBE };
    uint8_t reply[PROBE_SIZE];

    g_assert_cmpuint(probe(v, EDU_EP, props, &status), ==, PROBE_SIZE + 4);
    g_assert_cmpuint(status, ==, S_OK);
    assert_resv_prop(props, 1, 0xfee00000, 0xfeefffff);
    assert_zero(props + 24, PROBE_SIZE - 24);

    g_assert_cmpuint(probe(v, 5 << 3, props, &status), ==, PROBE_SIZE + 4);
    g_assert_cmpuint(status, ==, S_NOENT);
    assert_zero(props, PROBE_SIZE);

    /* Writable part too short for properties + tail: unwritten. */
    put32(r + 4, EDU_EP);
    g_assert_cmpuint(send_raw(v, r, sizeof(r), 0, reply, 4), ==, 0);
    g_assert_cmpuint(send_raw(v, r, sizeof(r), 0, reply, PROBE_SIZE), ==, 0);
    /* Readable part too short: INVAL. */
    {
        uint8_t full[PROBE_SIZE + 4];

        g_assert_cmpuint(send_raw(v, r, 40, 0, full, sizeof(full)), ==,
                         PROBE_SIZE + 4);
        g_assert_cmpuint(full[PROBE_SIZE], ==, S_INVAL);
    }

    /* Without F_PROBE: unwritten. */
    viommu_setup(v, F_ALL & ~VIRTIO_BIT(F_PROBE), 0);
    g_assert_cmpuint(probe(v, EDU_EP, props, &status), ==, 0);
    viommu_stop(v);

    v = viommu_start(",reserved-regions=0x10000:0x1ffff:0,,"
                     "0xa0000000:0xafffffff:0");
    g_assert_cmpuint(probe(v, EDU_EP, props, &status), ==, PROBE_SIZE + 4);
    g_assert_cmpuint(status, ==, S_OK);
    assert_resv_prop(props, 0, 0x10000, 0x1ffff);
    assert_resv_prop(props + 24, 0, 0xa0000000, 0xafffffff);
    assert_resv_prop(props + 48, 1, 0xfee00000, 0xfeefffff);
    assert_zero(props + 72, PROBE_SIZE - 72);
    /* A reserved (subtype 0) region faults even in a domain mapping
     * everything around it. */
    g_assert_cmpuint(attach(v, 1, EDU_EP), ==, S_OK);
    g_assert_cmpuint(map(v, 1, 0x10000, 0x10fff, PHYS, MAP_F_RW), ==,
                     S_INVAL);
    g_assert_false(edu_read(v, 0x10000));
    assert_fault(v, FAULT_R_MAPPING, FAULT_F_READ | FAULT_F_ADDRESS, EDU_EP,
                 0x10000);
    viommu_stop(v);
}

/* The reserved-regions property over QMP: a list of strings. */
static void test_resv_qom(void)
{
    Viommu *v = viommu_start(",reserved-regions=0x10000:0x1ffff:0");
    JsonObject *rsp = qtest_qmp(v->s, "{'execute': 'qom-get', 'arguments': "
                                "{'path': '/machine/peripheral/viommu', "
                                "'property': 'reserved-regions'}}");
    JsonArray *arr = json_node_get_array(qmp_expect_return(rsp));

    g_assert_cmpuint(json_array_get_length(arr), ==, 1);
    g_assert_cmpstr(json_array_get_string_element(arr, 0), ==,
                    "0x10000:0x1ffff:0");
    json_object_unref(rsp);
    viommu_stop(v);
}

/* Command-line errors: one line naming the reason. */
static void test_cli_errors(void)
{
    static const struct {
        const char *opts;
        const char *msg;
    } cases[] = {
        { "virtio-iommu-pci,aw-bits=31", "aw-bits must be within [32, 64]" },
        { "virtio-iommu-pci,granule=2k", "expects 4k, 8k, 16k, 64k or host" },
        { "virtio-iommu-pci,reserved-regions=0x10:0x20", "START:END:TYPE" },
        { "virtio-iommu-pci,reserved-regions=0x20:0x10:0", "above end" },
        { "virtio-iommu-pci,reserved-regions=0x10:0x20:1", "only one MSI" },
        { "virtio-iommu-pci,reserved-regions=0x10:0x20:7", "invalid type 7\n"
          "Only type 0 (reserved) is accepted: q35 reports the MSI region "
          "(type 1)" },
        { "intel-iommu -device virtio-iommu-pci", "only one vIOMMU" },
        { "virtio-iommu-pci -device intel-iommu", "only one vIOMMU" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *args = g_strdup_printf("-M q35 -device %s",
                                                cases[i].opts);

        qtest_expect_startup_error(args, cases[i].msg);
    }
}

/* Cold plug only: device_add is refused, even on a hot-pluggable port. */
static void test_no_hotplug(void)
{
    QTestState *s = qtest_init("-M q35 -device pcie-root-port,id=rp,"
                               "chassis=1");
    JsonObject *rsp = qtest_qmp(s, "{'execute': 'device_add', 'arguments': "
                                "{'driver': 'virtio-iommu-pci', "
                                "'bus': 'rp'}}");
    g_autofree char *desc = qmp_expect_error(rsp, "GenericError");

    g_assert_nonnull(strstr(desc, "does not support hotplugging"));
    json_object_unref(rsp);
    qtest_quit(s);
}

/*
 * Malformed chains and requests: each gets its documented answer and the
 * device keeps working.
 */
static void test_malformed(void)
{
    Viommu *v = viommu_start("");
    uint8_t req[20] = { T_ATTACH }, tail[8];
    uint8_t big[64] = { T_ATTACH };

    put32(req + 8, EDU_EP);
    put32(req + 4, 1);

    /* Unknown types (0, 6, 0xff): returned unwritten. */
    for (unsigned t = 0; t < 3; t++) {
        uint8_t r[40] = { (uint8_t[]){ 0, 6, 0xff }[t] };

        g_assert_cmpuint(send_raw(v, r, sizeof(r), 0, tail, 4), ==, 0);
        g_assert_cmphex(tail[0], ==, 0xee);
    }
    /* No head, no tail room, a tail of 3 bytes. */
    g_assert_cmpuint(send_raw(v, req, 2, 0, tail, 4), ==, 0);
    g_assert_cmpuint(send_raw(v, NULL, 0, 0, tail, 4), ==, 0);
    g_assert_cmpuint(send_raw(v, req, sizeof(req), 0, NULL, 0), ==, 0);
    g_assert_cmpuint(send_raw(v, req, sizeof(req), 0, tail, 3), ==, 0);
    /* Body too short: INVAL. */
    g_assert_cmpuint(send_raw(v, req, 12, 0, tail, 4), ==, 4);
    g_assert_cmpuint(tail[0], ==, S_INVAL);
    g_assert_cmpuint(map_pages(v, 1, 0, 0), ==, S_NOENT);
    /* Longer than needed (readable and writable): fine. */
    memcpy(big, req, sizeof(req));
    g_assert_cmpuint(send_raw(v, big, sizeof(big), 0, tail, 8), ==, 4);
    g_assert_cmpuint(tail[0], ==, S_OK);
    g_assert_cmpuint(detach(v, 1, EDU_EP), ==, S_OK);
    /* Split over many buffers, one byte each for the head. */
    g_assert_cmpuint(send_raw(v, req, sizeof(req), 3, tail, 4), ==, 4);
    g_assert_cmpuint(tail[0], ==, S_OK);
    /* Indirect. */
    {
        uint64_t rd = qvirtio_alloc(&v->d, 36, 8), wr = qvirtio_alloc(&v->d,
                                                                     4, 8);
        uint8_t m[36] = { T_MAP };
        QVirtioBuf b[2] = { { rd, 36, false }, { wr, 4, true } };
        uint16_t head;

        put32(m + 4, 1);
        put64(m + 16, 0xfff);
        put64(m + 24, PHYS);
        put32(m + 32, MAP_F_RW);
        qtest_memwrite(v->s, rd, m, sizeof(m));
        head = qvirtqueue_add_indirect(v->req, b, 2);
        qvirtqueue_kick(v->req);
        g_assert_cmpuint(qvirtqueue_wait_used(v->req, head), ==, 4);
        g_assert_cmpuint(qtest_readb(v->s, wr), ==, S_OK);
    }
    /* Several requests in one kick, processed in order. */
    {
        uint8_t a[36] = { T_MAP }, u[28] = { T_UNMAP };
        uint64_t rd1 = qvirtio_alloc(&v->d, 36, 8);
        uint64_t rd2 = qvirtio_alloc(&v->d, 28, 8);
        uint64_t wr = qvirtio_alloc(&v->d, 8, 8);
        QVirtioBuf c1[2] = { { rd1, 36, false }, { wr, 4, true } };
        QVirtioBuf c2[2] = { { rd2, 28, false }, { wr + 4, 4, true } };
        uint16_t h1, h2;

        put32(a + 4, 1);
        put64(a + 8, 0x1000);
        put64(a + 16, 0x1fff);
        put64(a + 24, PHYS);
        put32(a + 32, MAP_F_RW);
        put32(u + 4, 1);
        put64(u + 8, 0x1000);
        put64(u + 16, 0x1fff);
        qtest_memwrite(v->s, rd1, a, sizeof(a));
        qtest_memwrite(v->s, rd2, u, sizeof(u));
        h1 = qvirtqueue_add_chain(v->req, c1, 2);
        h2 = qvirtqueue_add_chain(v->req, c2, 2);
        qvirtqueue_kick(v->req);
        g_assert_cmpuint(qvirtqueue_wait_used(v->req, h1), ==, 4);
        g_assert_cmpuint(qvirtqueue_wait_used(v->req, h2), ==, 4);
        g_assert_cmpuint(qtest_readb(v->s, wr), ==, S_OK);
        g_assert_cmpuint(qtest_readb(v->s, wr + 4), ==, S_OK);
    }
    g_assert_cmpuint(map_pages(v, 1, 1, 1), ==, S_OK);

    /* A descriptor the device cannot reach breaks the device
     * (DEVICE_NEEDS_RESET, virtio core); after a reset it works, with
     * every domain gone. */
    {
        QVirtioBuf b[2] = { { 1ULL << 40, 20, false },
                            { qvirtio_alloc(&v->d, 4, 4), 4, true } };

        qvirtqueue_add_chain(v->req, b, 2);
        qvirtqueue_kick(v->req);
        g_assert_true(qvirtio_get_status(&v->d) &
                      VIRTIO_CONFIG_S_NEEDS_RESET);
    }
    viommu_setup(v, F_ALL, 0);
    g_assert_cmpuint(map_pages(v, 1, 0, 0), ==, S_NOENT);
    g_assert_cmpuint(attach(v, 1, EDU_EP), ==, S_OK);
    g_assert_cmpuint(map_pages(v, 1, 0, 0), ==, S_OK);
    viommu_stop(v);
}

/* Device reset: every domain and mapping is gone, bypass applies again. */
static void test_reset(void)
{
    Viommu *v = viommu_start("");

    g_assert_cmpuint(attach(v, 1, EDU_EP), ==, S_OK);
    g_assert_cmpuint(map_pages(v, 1, 0, 0), ==, S_OK);
    g_assert_false(edu_read(v, PHYS));
    assert_fault(v, FAULT_R_MAPPING, FAULT_F_READ | FAULT_F_ADDRESS, EDU_EP,
                 PHYS);
    viommu_setup(v, F_ALL, EVENT_BUFS);
    g_assert_cmpuint(map_pages(v, 1, 0, 0), ==, S_NOENT);
    g_assert_true(edu_read(v, PHYS));          /* unattached: bypass */
    g_assert_cmpuint(attach(v, 1, EDU_EP), ==, S_OK);
    g_assert_cmpuint(map_pages(v, 1, 0, 0), ==, S_OK);

    /* System reset as well. */
    qtest_qmp_assert_success(v->s, "{\"execute\": \"system_reset\"}");
    viommu_setup(v, F_ALL, EVENT_BUFS);
    g_assert_cmpuint(map_pages(v, 1, 0, 0), ==, S_NOENT);
    viommu_stop(v);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-iommu/config/identity-and-features",
                    test_identity);
    g_test_add_func("/virtio-iommu/config/default", test_config_default);
    g_test_add_func("/virtio-iommu/config/properties", test_config_props);
    g_test_add_func("/virtio-iommu/config/bypass", test_config_bypass);
    g_test_add_func("/virtio-iommu/config/cli-errors", test_cli_errors);
    g_test_add_func("/virtio-iommu/config/no-hotplug", test_no_hotplug);
    g_test_add_func("/virtio-iommu/config/reserved-regions-qom",
                   test_resv_qom);
    g_test_add_func("/virtio-iommu/attach/attach-detach-move",
                   test_attach_detach);
    g_test_add_func("/virtio-iommu/attach/domain-limit", test_domain_limit);
    g_test_add_func("/virtio-iommu/map/errors", test_map_errors);
    g_test_add_func("/virtio-iommu/map/unmap-examples", test_unmap_examples);
    g_test_add_func("/virtio-iommu/probe/reserved-regions", test_probe);
    g_test_add_func("/virtio-iommu/dma/translate-and-fault", test_dma);
    g_test_add_func("/virtio-iommu/dma/msi-passthrough", test_msi_passthrough);
    g_test_add_func("/virtio-iommu/dma/bypass", test_bypass);
    g_test_add_func("/virtio-iommu/dma/fault-drop", test_fault_drop);
    g_test_add_func("/virtio-iommu/robustness/malformed-requests",
                    test_malformed);
    g_test_add_func("/virtio-iommu/reset/domains-gone-bypass-again",
                    test_reset);
    return g_test_run();
}
