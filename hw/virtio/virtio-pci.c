/*
 * virtio-pci: the modern PCI transport (virtio 1.2, 4.1), non-transitional.
 * Register map and proxy structure in include/hw/virtio/virtio-pci.h;
 * transport behaviour in docs/virtio.md.
 */
#include <inttypes.h>

#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "hw/virtio/virtio-pci.h"

/* Little-endian field of n bytes. */
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

static const char *proxy_name(VirtIOPCIProxy *proxy)
{
    return object_get_typename(OBJECT(proxy));
}

/* --- Bus hooks: interrupts and DMA ------------------------------------------- */

/*
 * 4.1.5.4: with MSI-X enabled the event's vector fires (none for
 * NO_VECTOR); otherwise INTx is held while the ISR has a bit set.
 */
static void virtio_pci_notify(DeviceState *d, uint16_t vector)
{
    VirtIOPCIProxy *proxy = VIRTIO_PCI(d);
    PCIDevice *pdev = &proxy->pci_dev;

    if (msix_enabled(pdev)) {
        if (vector != VIRTIO_MSI_NO_VECTOR) {
            msix_notify(pdev, vector);
        }
        return;
    }
    pci_set_irq(pdev, proxy->vdev->isr != 0);
}

static AddressSpace *virtio_pci_get_dma_as(DeviceState *d)
{
    VirtIOPCIProxy *proxy = VIRTIO_PCI(d);

    return proxy->iommu_platform ? pci_get_address_space(&proxy->pci_dev)
                                 : &proxy->bypass_as;
}

static void virtio_pci_update_bypass(VirtIOPCIProxy *proxy)
{
    if (proxy->bypass_ready) {
        memory_region_set_enabled(&proxy->bypass_bm,
                                  pci_get_word(proxy->pci_dev.config +
                                               PCI_COMMAND) &
                                  PCI_COMMAND_MASTER);
    }
}

static void virtio_pci_init_bypass(VirtIOPCIProxy *proxy)
{
    Object *owner = OBJECT(proxy);
    MemoryRegion *sysmem = get_system_memory();
    g_autofree char *name = g_strdup_printf("%s bypass", proxy_name(proxy));

    memory_region_init(&proxy->bypass_root, owner, "virtio-pci-bypass",
                       UINT64_MAX);
    memory_region_init_alias(&proxy->bypass_bm, owner,
                             "virtio-pci-bypass-bus-master", sysmem, 0,
                             memory_region_size(sysmem));
    memory_region_set_enabled(&proxy->bypass_bm, false);
    memory_region_add_subregion(&proxy->bypass_root, 0, &proxy->bypass_bm);
    address_space_init(&proxy->bypass_as, &proxy->bypass_root, name);
    proxy->bypass_ready = true;
    virtio_pci_update_bypass(proxy);
}

static MemTxAttrs virtio_pci_get_dma_attrs(DeviceState *d)
{
    MemTxAttrs attrs = { .requester_id = pci_requester_id(PCI_DEVICE(d)) };

    return attrs;
}

/* --- Re-entrancy ----------------------------------------------------------------- */

/*
 * Register accesses with side effects (writes, the ISR read) are refused
 * while the device is busy (VirtIODevice.busy): they come from its own DMA
 * aimed at its own registers, which would re-enter a handler half way.
 */
static bool proxy_enter(VirtIOPCIProxy *proxy, const char *region,
                        hwaddr addr)
{
    VirtIODevice *vdev = proxy->vdev;

    if (vdev->busy) {
        log_guest_error("%s: %s access at 0x%" HWADDR_PRIx " by the "
                        "device's own DMA refused", proxy_name(proxy), region,
                        addr);
        return false;
    }
    vdev->busy++;
    return true;
}

static void proxy_leave(VirtIOPCIProxy *proxy)
{
    proxy->vdev->busy--;
}

/* --- Common configuration (4.1.4.3) -------------------------------------------- */

static VirtQueue *proxy_selected_queue(VirtIOPCIProxy *proxy)
{
    VirtQueue *vq = virtio_get_queue(proxy->vdev, proxy->queue_select);

    return vq && vq->max_num ? vq : NULL;
}

/* A vector the device can use, else NO_VECTOR (4.1.5.1.2). */
static uint16_t proxy_vector(VirtIOPCIProxy *proxy, uint16_t v)
{
    PCIDevice *pdev = &proxy->pci_dev;

    return msix_present(pdev) && v < pdev->msix_entries_nr ?
           v : VIRTIO_MSI_NO_VECTOR;
}

/* The structure as the driver reads it (reads have no side effects). */
static void virtio_pci_common_image(VirtIOPCIProxy *proxy,
                                    uint8_t img[VIRTIO_PCI_COMMON_SIZE])
{
    VirtIODevice *vdev = proxy->vdev;
    VirtQueue *vq = proxy_selected_queue(proxy);
    uint64_t df = proxy->dfselect < 2 ?
                  vdev->host_features >> (32 * proxy->dfselect) : 0;
    uint64_t gf = proxy->gfselect < 2 ?
                  vdev->driver_features >> (32 * proxy->gfselect) : 0;

    memset(img, 0, VIRTIO_PCI_COMMON_SIZE);
    le_put(img + VIRTIO_PCI_COMMON_DFSELECT, proxy->dfselect, 4);
    le_put(img + VIRTIO_PCI_COMMON_DF, df, 4);
    le_put(img + VIRTIO_PCI_COMMON_GFSELECT, proxy->gfselect, 4);
    le_put(img + VIRTIO_PCI_COMMON_GF, gf, 4);
    le_put(img + VIRTIO_PCI_COMMON_MSIX, vdev->config_vector, 2);
    le_put(img + VIRTIO_PCI_COMMON_NUMQ, virtio_get_num_queues(vdev), 2);
    img[VIRTIO_PCI_COMMON_STATUS] = vdev->status;
    img[VIRTIO_PCI_COMMON_CFGGENERATION] = vdev->generation;
    le_put(img + VIRTIO_PCI_COMMON_Q_SELECT, proxy->queue_select, 2);
    /* A queue that does not exist reads size 0 and no vector. */
    le_put(img + VIRTIO_PCI_COMMON_Q_MSIX, VIRTIO_MSI_NO_VECTOR, 2);
    if (!vq) {
        return;
    }
    le_put(img + VIRTIO_PCI_COMMON_Q_SIZE, vq->num, 2);
    le_put(img + VIRTIO_PCI_COMMON_Q_MSIX, vq->vector, 2);
    le_put(img + VIRTIO_PCI_COMMON_Q_ENABLE, vq->enabled, 2);
    le_put(img + VIRTIO_PCI_COMMON_Q_NOFF, vq->index, 2);
    le_put(img + VIRTIO_PCI_COMMON_Q_DESCLO, vq->desc, 8);
    le_put(img + VIRTIO_PCI_COMMON_Q_AVAILLO, vq->avail, 8);
    le_put(img + VIRTIO_PCI_COMMON_Q_USEDLO, vq->used, 8);
    le_put(img + VIRTIO_PCI_COMMON_Q_RESET, vq->reset, 2);
}

static uint64_t virtio_pci_common_read(void *opaque, hwaddr addr,
                                       unsigned size)
{
    uint8_t img[VIRTIO_PCI_COMMON_SIZE];

    if (addr + size > VIRTIO_PCI_COMMON_SIZE) {
        return 0;
    }
    virtio_pci_common_image(opaque, img);
    return le_get(img + addr, size);
}

/* Replaces half (0 low, 1 high) of a 64-bit value. */
static void set_half(uint64_t *v, unsigned half, uint32_t val)
{
    *v = half ? (*v & 0xffffffffULL) | (uint64_t)val << 32
              : (*v & ~0xffffffffULL) | val;
}

static void virtio_pci_set_status(VirtIOPCIProxy *proxy, uint8_t val)
{
    virtio_set_status(proxy->vdev, val);
    if (val == 0) {
        /* Device reset (4.1.4.3.1): selectors too; the ISR is clear. */
        proxy->dfselect = proxy->gfselect = 0;
        proxy->queue_select = 0;
        pci_set_irq(&proxy->pci_dev, 0);
    }
}

/* Queue fields other than queue_msix_vector freeze once it is enabled. */
static bool proxy_queue_writable(VirtIOPCIProxy *proxy, VirtQueue *vq,
                                 hwaddr addr)
{
    if (vq->enabled && addr != VIRTIO_PCI_COMMON_Q_MSIX) {
        log_guest_error("%s: common cfg write 0x%" HWADDR_PRIx " to enabled "
                        "queue %u ignored", proxy_name(proxy), addr,
                        vq->index);
        return false;
    }
    return true;
}

static void virtio_pci_queue_write(VirtIOPCIProxy *proxy, hwaddr addr,
                                   uint32_t val)
{
    VirtIODevice *vdev = proxy->vdev;
    VirtQueue *vq = proxy_selected_queue(proxy);

    if (!vq) {
        log_guest_error("%s: common cfg write 0x%" HWADDR_PRIx " for queue "
                        "%u, which does not exist", proxy_name(proxy), addr,
                        proxy->queue_select);
        return;
    }
    if (addr == VIRTIO_PCI_COMMON_Q_RESET) {
        if (val == 1 && virtio_vdev_has_feature(vdev, VIRTIO_F_RING_RESET)) {
            virtio_queue_reset(vdev, vq->index);
        }
        return;
    }
    if (!proxy_queue_writable(proxy, vq, addr)) {
        return;
    }
    switch (addr) {
    case VIRTIO_PCI_COMMON_Q_SIZE:
        if (!virtio_queue_set_num(vq, val)) {
            log_guest_error("%s: queue %u size %u refused (power of 2, 1-%u)",
                            proxy_name(proxy), vq->index, val, vq->max_num);
        }
        break;
    case VIRTIO_PCI_COMMON_Q_MSIX:
        vq->vector = proxy_vector(proxy, val);
        break;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        /* Writing 0 is not allowed (4.1.4.3.2); queue_reset disables. */
        if (val == 1) {
            virtio_queue_enable(vdev, vq->index);
        }
        break;
    case VIRTIO_PCI_COMMON_Q_DESCLO:
    case VIRTIO_PCI_COMMON_Q_DESCHI:
        set_half(&vq->desc, addr == VIRTIO_PCI_COMMON_Q_DESCHI, val);
        break;
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
        set_half(&vq->avail, addr == VIRTIO_PCI_COMMON_Q_AVAILHI, val);
        break;
    case VIRTIO_PCI_COMMON_Q_USEDLO:
    case VIRTIO_PCI_COMMON_Q_USEDHI:
        set_half(&vq->used, addr == VIRTIO_PCI_COMMON_Q_USEDHI, val);
        break;
    }
}

/* The width of the writable field at addr (64-bit fields: 32-bit halves),
 * 0 if none starts there. */
static unsigned common_field_width(hwaddr addr)
{
    switch (addr) {
    case VIRTIO_PCI_COMMON_DFSELECT:
    case VIRTIO_PCI_COMMON_GFSELECT:
    case VIRTIO_PCI_COMMON_GF:
    case VIRTIO_PCI_COMMON_Q_DESCLO:
    case VIRTIO_PCI_COMMON_Q_DESCHI:
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
    case VIRTIO_PCI_COMMON_Q_USEDLO:
    case VIRTIO_PCI_COMMON_Q_USEDHI:
        return 4;
    case VIRTIO_PCI_COMMON_MSIX:
    case VIRTIO_PCI_COMMON_Q_SELECT:
    case VIRTIO_PCI_COMMON_Q_SIZE:
    case VIRTIO_PCI_COMMON_Q_MSIX:
    case VIRTIO_PCI_COMMON_Q_ENABLE:
    case VIRTIO_PCI_COMMON_Q_RESET:
        return 2;
    case VIRTIO_PCI_COMMON_STATUS:
        return 1;
    default:
        return 0;
    }
}

/*
 * 4.1.3.1: the driver accesses each field with its natural width; other
 * writes (and writes to read-only fields) are dropped.
 */
static void virtio_pci_common_write(void *opaque, hwaddr addr, uint64_t val,
                                    unsigned size)
{
    VirtIOPCIProxy *proxy = opaque;
    VirtIODevice *vdev = proxy->vdev;

    if (common_field_width(addr) != size) {
        log_guest_error("%s: common cfg write of %u bytes at 0x%" HWADDR_PRIx
                        " ignored", proxy_name(proxy), size, addr);
        return;
    }
    if (!proxy_enter(proxy, "common cfg", addr)) {
        return;
    }
    switch (addr) {
    case VIRTIO_PCI_COMMON_DFSELECT:
        proxy->dfselect = val;
        break;
    case VIRTIO_PCI_COMMON_GFSELECT:
        proxy->gfselect = val;
        break;
    case VIRTIO_PCI_COMMON_GF:
        /* Features are fixed after FEATURES_OK (3.1.1). */
        if (proxy->gfselect < 2 &&
            !(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
            set_half(&vdev->driver_features, proxy->gfselect, val);
        }
        break;
    case VIRTIO_PCI_COMMON_MSIX:
        vdev->config_vector = proxy_vector(proxy, val);
        break;
    case VIRTIO_PCI_COMMON_STATUS:
        virtio_pci_set_status(proxy, val);
        break;
    case VIRTIO_PCI_COMMON_Q_SELECT:
        proxy->queue_select = val;
        break;
    default:
        virtio_pci_queue_write(proxy, addr, val);
        break;
    }
    proxy_leave(proxy);
}

static const MemoryRegionOps virtio_pci_common_ops = {
    .read = virtio_pci_common_read,
    .write = virtio_pci_common_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

/* --- ISR, device configuration, notifications (4.1.4.4-4.1.4.6) -------------- */

/* Reading the ISR clears it and deasserts INTx. */
static uint64_t virtio_pci_isr_read(void *opaque, hwaddr addr, unsigned size)
{
    VirtIOPCIProxy *proxy = opaque;
    uint8_t isr = proxy->vdev->isr;

    if (addr || !proxy_enter(proxy, "ISR", addr)) {
        return 0;
    }
    proxy->vdev->isr = 0;
    pci_set_irq(&proxy->pci_dev, 0);
    proxy_leave(proxy);
    return isr;
}

static void virtio_pci_isr_write(void *opaque, hwaddr addr, uint64_t val,
                                 unsigned size)
{
}

static const MemoryRegionOps virtio_pci_isr_ops = {
    .read = virtio_pci_isr_read,
    .write = virtio_pci_isr_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

static uint64_t virtio_pci_device_read(void *opaque, hwaddr addr,
                                       unsigned size)
{
    VirtIOPCIProxy *proxy = opaque;

    return virtio_config_read(proxy->vdev, addr, size);
}

static void virtio_pci_device_write(void *opaque, hwaddr addr, uint64_t val,
                                    unsigned size)
{
    VirtIOPCIProxy *proxy = opaque;

    if (proxy_enter(proxy, "device cfg", addr)) {
        virtio_config_write(proxy->vdev, addr, val, size);
        proxy_leave(proxy);
    }
}

static const MemoryRegionOps virtio_pci_device_ops = {
    .read = virtio_pci_device_read,
    .write = virtio_pci_device_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

static uint64_t virtio_pci_notify_read(void *opaque, hwaddr addr,
                                       unsigned size)
{
    return 0;
}

/* Queue n's address is n * notify_off_multiplier; the value is ignored
 * (VIRTIO_F_NOTIFICATION_DATA is not offered). */
static void virtio_pci_notify_write(void *opaque, hwaddr addr, uint64_t val,
                                    unsigned size)
{
    VirtIOPCIProxy *proxy = opaque;

    if (proxy_enter(proxy, "notify", addr)) {
        virtio_queue_notify(proxy->vdev, addr / VIRTIO_PCI_NOTIFY_MULTIPLIER);
        proxy_leave(proxy);
    }
}

static const MemoryRegionOps virtio_pci_notify_ops = {
    .read = virtio_pci_notify_read,
    .write = virtio_pci_notify_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

/* --- PCI configuration access capability (4.1.4.9) --------------------------- */

/*
 * An access through pci_cfg_data: cap.bar must be the modern BAR and
 * cap.length 1, 2 or 4 with cap.offset aligned to it, inside one of the
 * structures.  Anything else is not performed (reads give 0).
 */
static bool virtio_pci_cfg_access(VirtIOPCIProxy *proxy, uint32_t *val,
                                  bool is_write)
{
    uint8_t *cap = proxy->pci_dev.config + proxy->pci_cfg_cap;
    uint32_t off = le_get(cap + VIRTIO_PCI_CAP_OFFSET, 4);
    uint32_t len = le_get(cap + VIRTIO_PCI_CAP_LENGTH, 4);
    MemoryRegion *regions[] = { &proxy->common, &proxy->isr, &proxy->device,
                                &proxy->notify };
    MemoryRegion *mr;
    uint64_t v;

    if (cap[VIRTIO_PCI_CAP_BAR] != VIRTIO_PCI_MODERN_BAR ||
        (len != 1 && len != 2 && len != 4) || off % len ||
        off >= VIRTIO_PCI_MODERN_BAR_SIZE) {
        return false;
    }
    mr = regions[off / VIRTIO_PCI_REGION_SIZE];
    off %= VIRTIO_PCI_REGION_SIZE;
    if (is_write) {
        v = *val & (0xffffffffu >> (32 - 8 * len));
        return memory_region_dispatch_write(mr, off, v, len,
                                            MEMTXATTRS_UNSPECIFIED) ==
               MEMTX_OK;
    }
    if (memory_region_dispatch_read(mr, off, &v, len,
                                    MEMTXATTRS_UNSPECIFIED) != MEMTX_OK) {
        return false;
    }
    *val = v;
    return true;
}

static bool pci_cfg_data_touched(VirtIOPCIProxy *proxy, uint32_t addr,
                                 int len)
{
    return proxy->pci_cfg_cap &&
           pci_ranges_overlap(addr, len,
                              proxy->pci_cfg_cap + VIRTIO_PCI_CFG_CAP_DATA, 4);
}

static uint32_t virtio_pci_config_read(PCIDevice *pdev, uint32_t addr,
                                       int len)
{
    VirtIOPCIProxy *proxy = VIRTIO_PCI(pdev);

    if (pci_cfg_data_touched(proxy, addr, len)) {
        uint8_t *data = pdev->config + proxy->pci_cfg_cap +
                        VIRTIO_PCI_CFG_CAP_DATA;
        uint32_t v = 0;

        virtio_pci_cfg_access(proxy, &v, false);
        le_put(data, v, 4);
    }
    return pci_default_read_config(pdev, addr, len);
}

static void virtio_pci_config_write(PCIDevice *pdev, uint32_t addr,
                                    uint32_t val, int len)
{
    VirtIOPCIProxy *proxy = VIRTIO_PCI(pdev);

    pci_default_write_config(pdev, addr, val, len);
    if (pci_ranges_overlap(addr, len, PCI_COMMAND, 2)) {
        virtio_pci_update_bypass(proxy);
    }
    if (pci_cfg_data_touched(proxy, addr, len)) {
        uint8_t *cap = pdev->config + proxy->pci_cfg_cap;
        uint32_t v = le_get(cap + VIRTIO_PCI_CFG_CAP_DATA, 4);

        if (!virtio_pci_cfg_access(proxy, &v, true)) {
            log_guest_error("%s: PCI_CFG write through bar %u offset 0x%x "
                            "length %u ignored", proxy_name(proxy),
                            cap[VIRTIO_PCI_CAP_BAR],
                            (uint32_t)le_get(cap + VIRTIO_PCI_CAP_OFFSET, 4),
                            (uint32_t)le_get(cap + VIRTIO_PCI_CAP_LENGTH, 4));
        }
    }
}

/* --- Realize ---------------------------------------------------------------------- */

/* Adds a vendor capability describing [offset, offset + length) of bar. */
static int virtio_pci_add_cap(PCIDevice *pdev, uint8_t cfg_type,
                              uint8_t cap_len, uint8_t bar, uint32_t offset,
                              uint32_t length, Error **errp)
{
    int pos = pci_add_capability(pdev, PCI_CAP_ID_VNDR, 0, cap_len, errp);
    uint8_t *c;

    if (pos < 0) {
        return pos;
    }
    c = pdev->config + pos;
    c[VIRTIO_PCI_CAP_LEN] = cap_len;
    c[VIRTIO_PCI_CAP_CFG_TYPE] = cfg_type;
    c[VIRTIO_PCI_CAP_BAR] = bar;
    le_put(c + VIRTIO_PCI_CAP_OFFSET, offset, 4);
    le_put(c + VIRTIO_PCI_CAP_LENGTH, length, 4);
    return pos;
}

static bool virtio_pci_add_caps(VirtIOPCIProxy *proxy, Error **errp)
{
    PCIDevice *pdev = &proxy->pci_dev;
    uint8_t bar = VIRTIO_PCI_MODERN_BAR;
    int pos;

    if (virtio_pci_add_cap(pdev, VIRTIO_PCI_CAP_COMMON_CFG,
                           VIRTIO_PCI_CAP_SIZE, bar, VIRTIO_PCI_COMMON_OFFSET,
                           VIRTIO_PCI_REGION_SIZE, errp) < 0 ||
        virtio_pci_add_cap(pdev, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_CAP_SIZE,
                           bar, VIRTIO_PCI_ISR_OFFSET, VIRTIO_PCI_REGION_SIZE,
                           errp) < 0) {
        return false;
    }
    if (proxy->vdev->config_len &&
        virtio_pci_add_cap(pdev, VIRTIO_PCI_CAP_DEVICE_CFG,
                           VIRTIO_PCI_CAP_SIZE, bar, VIRTIO_PCI_DEVICE_OFFSET,
                           proxy->vdev->config_len, errp) < 0) {
        return false;
    }
    pos = virtio_pci_add_cap(pdev, VIRTIO_PCI_CAP_NOTIFY_CFG,
                             VIRTIO_PCI_NOTIFY_CAP_SIZE, bar,
                             VIRTIO_PCI_NOTIFY_OFFSET, VIRTIO_PCI_REGION_SIZE,
                             errp);
    if (pos < 0) {
        return false;
    }
    le_put(pdev->config + pos + VIRTIO_PCI_NOTIFY_CAP_MULT,
           VIRTIO_PCI_NOTIFY_MULTIPLIER, 4);
    /* PCI_CFG: bar, offset, length and data are the driver's to write. */
    pos = virtio_pci_add_cap(pdev, VIRTIO_PCI_CAP_PCI_CFG,
                             VIRTIO_PCI_CFG_CAP_SIZE, 0, 0, 0, errp);
    if (pos < 0) {
        return false;
    }
    pdev->wmask[pos + VIRTIO_PCI_CAP_BAR] = 0xff;
    memset(pdev->wmask + pos + VIRTIO_PCI_CAP_OFFSET, 0xff, 12);
    proxy->pci_cfg_cap = pos;
    return true;
}

static void virtio_pci_init_regions(VirtIOPCIProxy *proxy)
{
    Object *owner = OBJECT(proxy);
    struct {
        MemoryRegion *mr;
        const MemoryRegionOps *ops;
        const char *name;
        hwaddr offset;
    } r[] = {
        { &proxy->common, &virtio_pci_common_ops, "virtio-pci-common",
          VIRTIO_PCI_COMMON_OFFSET },
        { &proxy->isr, &virtio_pci_isr_ops, "virtio-pci-isr",
          VIRTIO_PCI_ISR_OFFSET },
        { &proxy->device, &virtio_pci_device_ops, "virtio-pci-device",
          VIRTIO_PCI_DEVICE_OFFSET },
        { &proxy->notify, &virtio_pci_notify_ops, "virtio-pci-notify",
          VIRTIO_PCI_NOTIFY_OFFSET },
    };

    memory_region_init(&proxy->modern_bar, owner, "virtio-pci",
                       VIRTIO_PCI_MODERN_BAR_SIZE);
    for (size_t i = 0; i < G_N_ELEMENTS(r); i++) {
        memory_region_init_io(r[i].mr, owner, r[i].ops, proxy, r[i].name,
                              VIRTIO_PCI_REGION_SIZE);
        memory_region_add_subregion(&proxy->modern_bar, r[i].offset, r[i].mr);
    }
    proxy->regions_ready = true;
}

/* Undoes the transport part of realize (the backend is unrealized by qdev
 * before the proxy, or by realize's error path). */
static void virtio_pci_teardown(VirtIOPCIProxy *proxy)
{
    msix_uninit(&proxy->pci_dev);
    if (proxy->regions_ready) {
        memory_region_finalize(&proxy->common);
        memory_region_finalize(&proxy->isr);
        memory_region_finalize(&proxy->device);
        memory_region_finalize(&proxy->notify);
        memory_region_finalize(&proxy->modern_bar);
        proxy->regions_ready = false;
    }
    if (proxy->bypass_ready) {
        address_space_destroy(&proxy->bypass_as);
        memory_region_finalize(&proxy->bypass_bm);
        memory_region_finalize(&proxy->bypass_root);
        proxy->bypass_ready = false;
    }
    proxy->pci_cfg_cap = 0;
}

/* What the transport offers; the device adds its own bits. */
static uint64_t virtio_pci_transport_features(VirtIOPCIProxy *proxy)
{
    uint64_t f = 0;

    virtio_add_feature(&f, VIRTIO_F_VERSION_1);
    if (proxy->indirect_desc) {
        virtio_add_feature(&f, VIRTIO_RING_F_INDIRECT_DESC);
    }
    if (proxy->event_idx) {
        virtio_add_feature(&f, VIRTIO_RING_F_EVENT_IDX);
    }
    if (proxy->queue_reset) {
        virtio_add_feature(&f, VIRTIO_F_RING_RESET);
    }
    if (proxy->iommu_platform) {
        virtio_add_feature(&f, VIRTIO_F_ACCESS_PLATFORM);
    }
    return f;
}

/* The transport's part once the backend is realized. */
static bool virtio_pci_plug(VirtIOPCIProxy *proxy, Error **errp)
{
    PCIDevice *pdev = &proxy->pci_dev;
    VirtIODevice *vdev = proxy->vdev;
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_GET_CLASS(vdev);
    unsigned nq = virtio_get_num_queues(vdev);
    uint32_t nvec = proxy->nvectors == UINT32_MAX ? nq + 1 : proxy->nvectors;
    Error *err = NULL;

    vdev->host_features = vdc->get_features(vdev,
                                            virtio_pci_transport_features(proxy),
                                            &err);
    if (err) {
        error_propagate(errp, err);
        return false;
    }
    if (!virtio_has_feature(vdev->host_features, VIRTIO_F_VERSION_1)) {
        error_setg(errp, "%s: the device does not offer VIRTIO_F_VERSION_1, "
                   "which the modern transport needs", proxy_name(proxy));
        return false;
    }
    if (vdev->config_len > VIRTIO_PCI_REGION_SIZE ||
        nq * VIRTIO_PCI_NOTIFY_MULTIPLIER > VIRTIO_PCI_REGION_SIZE) {
        error_setg(errp, "%s: config space (%zu bytes) or queues (%u) do not "
                   "fit the transport", proxy_name(proxy), vdev->config_len,
                   nq);
        return false;
    }
    if (nvec > PCI_MSIX_VECTORS_MAX) {
        error_setg(errp, "%s: vectors=%u: at most %d MSI-X vectors",
                   proxy_name(proxy), nvec, PCI_MSIX_VECTORS_MAX);
        return false;
    }

    pci_set_word(pdev->config + PCI_DEVICE_ID,
                 VIRTIO_PCI_DEVICE_ID_MODERN + vdev->device_id);
    pdev->config[PCI_REVISION_ID] = VIRTIO_PCI_REVISION_MODERN;
    pdev->config[PCI_INTERRUPT_PIN] = 1;

    virtio_pci_init_regions(proxy);
    pci_register_bar(pdev, VIRTIO_PCI_MODERN_BAR,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH, &proxy->modern_bar);
    if (nvec && !msix_init_exclusive_bar(pdev, nvec, VIRTIO_PCI_MSIX_BAR,
                                         errp)) {
        return false;
    }
    return virtio_pci_add_caps(proxy, errp);
}

static bool virtio_pci_realize(PCIDevice *pdev, Error **errp)
{
    VirtIOPCIProxy *proxy = VIRTIO_PCI(pdev);
    VirtioPCIClass *vpc = VIRTIO_PCI_GET_CLASS(proxy);

    if (!proxy->vdev) {
        error_setg(errp, "%s: no virtio backend", proxy_name(proxy));
        return false;
    }
    if (vpc->realize && !vpc->realize(proxy, errp)) {
        return false;
    }
    /* The backend takes its DMA address space when it is realized. */
    if (!proxy->iommu_platform) {
        virtio_pci_init_bypass(proxy);
    }
    if (!qdev_realize(DEVICE(proxy->vdev), BUS(proxy->bus), errp)) {
        virtio_pci_teardown(proxy);
        return false;
    }
    if (!virtio_pci_plug(proxy, errp)) {
        qdev_unrealize(DEVICE(proxy->vdev));
        virtio_pci_teardown(proxy);
        return false;
    }
    return true;
}

static void virtio_pci_exit(PCIDevice *pdev)
{
    virtio_pci_teardown(VIRTIO_PCI(pdev));
}

/*
 * The PCI core restored config space and MSI-X; a bus or system reset has
 * already reset the backend (children first), a direct function reset
 * has not: reset it here too (idempotent).
 */
static void virtio_pci_reset(PCIDevice *pdev)
{
    VirtIOPCIProxy *proxy = VIRTIO_PCI(pdev);

    if (proxy->vdev && DEVICE(proxy->vdev)->realized) {
        virtio_reset(proxy->vdev);
    }
    proxy->dfselect = proxy->gfselect = 0;
    proxy->queue_select = 0;
    virtio_pci_update_bypass(proxy);
}

/* --- Concrete proxies --------------------------------------------------------- */

void virtio_pci_init_backend(VirtIOPCIProxy *proxy, const char *vdev_type)
{
    Object *vdev = object_new(vdev_type);

    object_property_add_child(OBJECT(proxy), "virtio-backend", vdev);
    object_unref(vdev);
    proxy->vdev = VIRTIO_DEVICE(vdev);
}

static bool forward_prop_get(Object *obj, ObjectProperty *prop,
                             JsonNode **value, Error **errp)
{
    return object_property_get(OBJECT(VIRTIO_PCI(obj)->vdev), prop->name,
                               value, errp);
}

static bool forward_prop_set(Object *obj, ObjectProperty *prop,
                             JsonNode *value, Error **errp)
{
    return object_property_set(OBJECT(VIRTIO_PCI(obj)->vdev), prop->name,
                               value, errp);
}

void virtio_pci_class_forward_props(ObjectClass *klass, const char *vdev_type)
{
    ObjectClass *vklass = object_class_by_name(vdev_type);
    const Property *props = DEVICE_CLASS(vklass)->props;

    for (const Property *p = props; p && p->name; p++) {
        ObjectProperty *src = object_class_property_find(vklass, p->name);
        ObjectProperty *op;

        op = object_class_property_add(klass, p->name, src->type,
                                       src->get ? forward_prop_get : NULL,
                                       src->set ? forward_prop_set : NULL,
                                       NULL, NULL);
        op->description = g_strdup(src->description);
        op->defval = src->defval ? json_node_copy(src->defval) : NULL;
        op->enum_values = src->enum_values;
    }
}

/* --- QOM ------------------------------------------------------------------------- */

static void virtio_pci_instance_init(Object *obj)
{
    VirtIOPCIProxy *proxy = VIRTIO_PCI(obj);

    proxy->bus = VIRTIO_BUS(qbus_new(TYPE_VIRTIO_PCI_BUS, DEVICE(obj),
                                     "virtio-bus"));
}

static const Property virtio_pci_props[] = {
    DEFINE_PROP_UINT32("vectors", VirtIOPCIProxy, nvectors, UINT32_MAX),
    DEFINE_PROP_BOOL("event_idx", VirtIOPCIProxy, event_idx, true),
    DEFINE_PROP_BOOL("indirect_desc", VirtIOPCIProxy, indirect_desc, true),
    DEFINE_PROP_BOOL("queue_reset", VirtIOPCIProxy, queue_reset, true),
    DEFINE_PROP_BOOL("iommu_platform", VirtIOPCIProxy, iommu_platform, false),
    DEFINE_PROP_END_OF_LIST(),
};

static void virtio_pci_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *pc = PCI_DEVICE_CLASS(klass);

    device_class_set_props(dc, virtio_pci_props);
    pc->realize = virtio_pci_realize;
    pc->exit = virtio_pci_exit;
    pc->reset = virtio_pci_reset;
    pc->config_read = virtio_pci_config_read;
    pc->config_write = virtio_pci_config_write;
    pc->vendor_id = VIRTIO_PCI_VENDOR_ID;
    pc->device_id = VIRTIO_PCI_DEVICE_ID_MODERN;
    pc->revision = VIRTIO_PCI_REVISION_MODERN;
    pc->class_id = PCI_CLASS_OTHERS;
}

static void virtio_pci_bus_class_init(ObjectClass *klass, const void *data)
{
    VirtioBusClass *bc = VIRTIO_BUS_CLASS(klass);

    bc->notify = virtio_pci_notify;
    bc->get_dma_as = virtio_pci_get_dma_as;
    bc->get_dma_attrs = virtio_pci_get_dma_attrs;
}

static const TypeInfo virtio_pci_types[] = {
    {
        .name = TYPE_VIRTIO_PCI,
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(VirtIOPCIProxy),
        .instance_init = virtio_pci_instance_init,
        .abstract = true,
        .class_size = sizeof(VirtioPCIClass),
        .class_init = virtio_pci_class_init,
    },
    {
        .name = TYPE_VIRTIO_PCI_BUS,
        .parent = TYPE_VIRTIO_BUS,
        .class_init = virtio_pci_bus_class_init,
    },
};

DEFINE_TYPES(virtio_pci_types)
