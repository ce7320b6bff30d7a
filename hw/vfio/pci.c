/*
 * vfio-pci: a host PCI function assigned to the guest through VFIO
 * (qemu_behaviour.md §3, §8; uapi_facts.md §3-§4.3; docs/vfio.md).
 *
 *   -device vfio-pci,host=BDF|sysfsdev=PATH[,iommufd=ID][,fd=N|NAME]
 *
 * Realize, in the reference's order: attach to a container for the
 * device's DMA address space (creating the host IOMMU device), read the
 * device's configuration space and set up the BARs, hand the host IOMMU
 * device to the vIOMMU (pci_device_set_iommu_device; a refusal fails
 * realize with "vfio BDF: Failed to set vIOMMU: ..."), then the
 * capabilities (MSI-X) and interrupts.  Any failure unwinds everything
 * done so far (vfio_pci_teardown, also the unrealize path): no mapping,
 * eventfd, device fd, group, container or object is left behind.
 *
 * Configuration space (first 256 bytes) is virtualised a bit at a time
 * (vdev->emulated): the header (ids, command, BARs, ROM, capability
 * pointer, interrupt line/pin), the MSI and MSI-X capabilities and every
 * capability's link byte come from pdev->config; everything else is read
 * from the device's config region.  Every write but those to the MSI
 * capability also goes to the device (the host kernel virtualises what
 * it must), so COMMAND.BME gates the device's DMA and COMMAND.MEM its
 * decoding.  No expansion ROM; the MSI-X table and PBA are emulated over
 * the BAR holding them.
 *
 * BARs: a trapped region (pread/pwrite on the BAR's region of the device
 * fd) with, where the region allows mmap, the mmapped areas on top as
 * ram-device regions.
 *
 * MSI-X and MSI: when the guest enables one, each of its vectors (every
 * MSI-X vector; the MSI vectors Multiple Message Enable grants) gets an
 * eventfd bound with VFIO_DEVICE_SET_IRQS; the main loop turns a signal
 * into msix_notify() or msi_notify() on this device, so the message goes
 * through the guest's table or capability, masking, and the vIOMMU's
 * interrupt remapping, as the device's own write would.  The host serves
 * one type at a time, as the guest must use them.
 *
 * INTx (QEMU's vfio_intx_*): the device's pin, when the host can signal
 * it, is the guest's; while neither MSI nor MSI-X is enabled the host's
 * INTx is bound to an eventfd.  The host masks INTx each time it fires
 * (level-triggered, automasked); a signal asserts our pin with
 * pci_set_irq() (so the IOAPIC and interrupt remapping see it as any
 * device's), and turns the BAR mmaps off so the guest's accesses trap.
 * The next trapped BAR access is the EOI: the pin drops and the host
 * unmasks (an interrupt still pending there fires again).  The mmaps come
 * back once the pin has stayed low for x-intx-mmap-timeout-ms of virtual
 * time.
 */
#include <errno.h>
#include <glib-unix.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "hw/vfio/vfio-device.h"
#include "host/hostos.h"
#include "monitor/monitor.h"
#include "system/timer.h"

#define TYPE_VFIO_PCI           "vfio-pci"

/* Configuration space the guest sees: the conventional 256 bytes. */
#define VFIO_PCI_CONFIG_SIZE    PCI_CONFIG_SPACE_SIZE
/* More capabilities than fit in 192 bytes: the chain loops. */
#define VFIO_PCI_MAX_CAPS       48

typedef struct VFIOPCIDevice VFIOPCIDevice;

/* One mmapped area of a BAR. */
typedef struct VFIOMmap {
    MemoryRegion mr;
    void *ptr;
    uint64_t offset, size;
} VFIOMmap;

typedef struct VFIOBAR {
    VFIOPCIDevice *vdev;
    unsigned nr;
    uint64_t size;              /* 0: not implemented */
    uint64_t fd_offset;         /* of the region in the device fd */
    uint8_t type;               /* PCI_BASE_ADDRESS_* bits */
    bool mr_ready;
    MemoryRegion mr;            /* trapped; the mmaps are subregions */
    VFIOMmap *mmaps;
    unsigned nr_mmaps;
} VFIOBAR;

/* A vector of the interrupt type enabled on the host. */
typedef struct VFIOMSIVector {
    VFIOPCIDevice *vdev;
    unsigned nr;
    int efd;
    guint watch;
} VFIOMSIVector;

struct VFIOPCIDevice {
    PCIDevice pdev;
    VFIODevice vbasedev;

    /* Properties */
    char *host;
    char *sysfsdev;
    IOMMUFDBackend *iommufd;
    bool no_mmap;

    uint64_t config_offset;     /* of the config region in the device fd */
    uint32_t dev_bars[PCI_NUM_REGIONS]; /* the device's BAR registers */
    /* bits of config space served from pdev->config, not the device */
    uint8_t emulated[VFIO_PCI_CONFIG_SIZE];
    VFIOBAR bars[PCI_NUM_REGIONS];

    /* MSI-X and MSI, as the device's capabilities describe them */
    uint8_t msix_cap;           /* 0: none exposed */
    unsigned msix_entries;
    uint8_t msi_cap;            /* 0: none exposed */
    uint8_t msi_cap_size;
    /* the host's vectors: irq_index's, non-NULL while enabled there */
    unsigned irq_index;         /* VFIO_PCI_MSI_IRQ_INDEX or ..._MSIX_... */
    VFIOMSIVector *vectors;
    unsigned nr_vectors;

    /* INTx */
    uint8_t intx_pin;           /* 1-4 (INTA-D) exposed; 0: none */
    uint32_t intx_mmap_timeout; /* ms; x-intx-mmap-timeout-ms, 0: never */
    bool intx_enabled;          /* intx_efd bound on the host */
    bool intx_pending;          /* pin asserted, waiting for the EOI */
    int intx_efd;
    guint intx_watch;
    QEMUTimer *intx_mmap_timer; /* brings the mmaps back; NULL: no pin */

    bool hiod_child;            /* hiod is our child "host-iommu-device" */
    bool iommu_set;             /* the vIOMMU accepted the hiod */
};

DECLARE_INSTANCE_CHECKER(VFIOPCIDevice, VFIO_PCI, TYPE_VFIO_PCI)

static const char *vdev_name(VFIOPCIDevice *vdev)
{
    return vdev->vbasedev.name ? vdev->vbasedev.name : TYPE_VFIO_PCI;
}

static void vfio_intx_eoi(VFIOPCIDevice *vdev);

/* ------------------------------------------------------------------------
 * BARs: trapped accesses
 * ------------------------------------------------------------------------ */

static MemTxResult vfio_bar_read(void *opaque, hwaddr addr, uint64_t *data,
                                 unsigned size, MemTxAttrs attrs)
{
    VFIOBAR *bar = opaque;
    VFIOPCIDevice *vdev = bar->vdev;
    uint8_t buf[8] = { 0 };
    uint64_t val = 0;

    if (hostos_pread(vdev->vbasedev.fd, buf, size,
                     bar->fd_offset + addr) != (ssize_t)size) {
        log_guest_error("vfio %s: BAR%u read of %u bytes at 0x%" HWADDR_PRIx
                        " failed: %s", vdev_name(vdev), bar->nr, size, addr,
                        strerror(errno));
        *data = size == 8 ? UINT64_MAX : (1ULL << (8 * size)) - 1;
    } else {
        for (unsigned i = 0; i < size; i++) {
            val |= (uint64_t)buf[i] << (8 * i);
        }
        *data = val;
    }
    vfio_intx_eoi(vdev);
    return MEMTX_OK;
}

static MemTxResult vfio_bar_write(void *opaque, hwaddr addr, uint64_t data,
                                  unsigned size, MemTxAttrs attrs)
{
    VFIOBAR *bar = opaque;
    VFIOPCIDevice *vdev = bar->vdev;
    uint8_t buf[8];

    for (unsigned i = 0; i < size; i++) {
        buf[i] = data >> (8 * i);
    }
    if (hostos_pwrite(vdev->vbasedev.fd, buf, size,
                      bar->fd_offset + addr) != (ssize_t)size) {
        log_guest_error("vfio %s: BAR%u write of %u bytes at 0x%"
                        HWADDR_PRIx " failed: %s", vdev_name(vdev), bar->nr,
                        size, addr, strerror(errno));
    }
    vfio_intx_eoi(vdev);
    return MEMTX_OK;
}

static const MemoryRegionOps vfio_bar_ops = {
    .read_with_attrs = vfio_bar_read,
    .write_with_attrs = vfio_bar_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

/* ------------------------------------------------------------------------
 * BARs: set-up
 * ------------------------------------------------------------------------ */

/*
 * The areas of a BAR that may be mmapped: the sparse-mmap capability's
 * (each checked to lie in the BAR), else the whole BAR.  Areas smaller
 * than a page or misaligned are left to the trapped path.
 */
static void vfio_bar_mmap_areas(VFIOBAR *bar, struct vfio_region_info *info,
                                GArray *areas)
{
    const struct vfio_region_info_cap_sparse_mmap *sparse;
    uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);

    sparse = (const void *)vfio_info_find_cap(info, info->argsz,
                                              info->cap_offset,
                                              VFIO_REGION_INFO_CAP_SPARSE_MMAP,
                                              sizeof(*sparse));
    if (!sparse) {
        if (!(bar->size & (pg - 1))) {
            g_array_append_val(areas, ((VFIOMmap){ .offset = 0,
                                                   .size = bar->size }));
        }
        return;
    }
    if ((const char *)&sparse->areas[MIN(sparse->nr_areas, 64u)] >
        (const char *)info + info->argsz) {
        return;                 /* a cap longer than its buffer: bogus */
    }
    for (uint32_t i = 0; i < MIN(sparse->nr_areas, 64u); i++) {
        uint64_t off = sparse->areas[i].offset, sz = sparse->areas[i].size;

        if (!sz || off > bar->size || sz > bar->size - off ||
            (off | sz) & (pg - 1)) {
            continue;
        }
        g_array_append_val(areas, ((VFIOMmap){ .offset = off, .size = sz }));
    }
}

static void vfio_bar_mmap(VFIOPCIDevice *vdev, VFIOBAR *bar,
                          struct vfio_region_info *info)
{
    g_autoptr(GArray) areas = g_array_new(false, false, sizeof(VFIOMmap));
    int prot = ((info->flags & VFIO_REGION_INFO_FLAG_READ) ? PROT_READ : 0) |
               ((info->flags & VFIO_REGION_INFO_FLAG_WRITE) ? PROT_WRITE : 0);

    vfio_bar_mmap_areas(bar, info, areas);
    bar->mmaps = g_new0(VFIOMmap, areas->len);
    for (guint i = 0; i < areas->len; i++) {
        VFIOMmap *m = &bar->mmaps[bar->nr_mmaps];
        g_autofree char *name = NULL;

        *m = g_array_index(areas, VFIOMmap, i);
        m->ptr = hostos_mmap(NULL, m->size, prot, MAP_SHARED,
                             vdev->vbasedev.fd, info->offset + m->offset);
        if (m->ptr == MAP_FAILED) {
            warn_report("vfio %s: BAR%u mmap of 0x%" PRIx64 "+0x%" PRIx64
                        " failed (%s); accesses are trapped instead",
                        vdev_name(vdev), bar->nr, m->offset, m->size,
                        strerror(errno));
            continue;
        }
        name = g_strdup_printf("vfio %s BAR%u mmap[%u]", vdev_name(vdev),
                               bar->nr, bar->nr_mmaps);
        memory_region_init_ram_device_ptr(&m->mr, OBJECT(vdev), name, m->size,
                                          m->ptr);
        memory_region_add_subregion(&bar->mr, m->offset, &m->mr);
        bar->nr_mmaps++;
    }
}

/* Reads and checks BAR @nr; *skip: it is 64-bit, the next index is its
 * upper half. */
static bool vfio_bar_setup(VFIOPCIDevice *vdev, unsigned nr, bool *skip,
                           Error **errp)
{
    VFIOBAR *bar = &vdev->bars[nr];
    uint32_t reg = vdev->dev_bars[nr];
    g_autofree struct vfio_region_info *info = NULL;
    g_autofree char *name = NULL;
    bool io = reg & PCI_BASE_ADDRESS_SPACE_IO;

    *skip = false;
    info = vfio_device_get_region_info(&vdev->vbasedev, nr, errp);
    if (!info) {
        return false;
    }
    bar->vdev = vdev;
    bar->nr = nr;
    if (!info->size) {
        return true;
    }
    bar->size = info->size;
    bar->fd_offset = info->offset;
    if (io) {
        bar->type = PCI_BASE_ADDRESS_SPACE_IO;
    } else {
        bar->type = reg & (PCI_BASE_ADDRESS_MEM_TYPE_64 |
                           PCI_BASE_ADDRESS_MEM_PREFETCH);
        if (reg & 0x2) {
            error_setg(errp, "BAR%u has the reserved memory type 01", nr);
            return false;
        }
    }
    if ((bar->type & PCI_BASE_ADDRESS_MEM_TYPE_64) && nr == PCI_NUM_REGIONS - 1) {
        error_setg(errp, "BAR%u is 64-bit but the last BAR", nr);
        return false;
    }
    if (bar->size & (bar->size - 1) || bar->size < (io ? 4 : 16) ||
        bar->size > (io ? 0x10000ULL :
                     (bar->type & PCI_BASE_ADDRESS_MEM_TYPE_64) ? 1ULL << 40 :
                     1ULL << 31)) {
        error_setg(errp, "BAR%u: unsupported size 0x%" PRIx64, nr, bar->size);
        return false;
    }
    *skip = bar->type & PCI_BASE_ADDRESS_MEM_TYPE_64;

    name = g_strdup_printf("vfio %s BAR%u", vdev_name(vdev), nr);
    memory_region_init_io(&bar->mr, OBJECT(vdev), &vfio_bar_ops, bar, name,
                          bar->size);
    bar->mr_ready = true;
    if (!io && !vdev->no_mmap && (info->flags & VFIO_REGION_INFO_FLAG_MMAP)) {
        vfio_bar_mmap(vdev, bar, info);
    }
    pci_register_bar(&vdev->pdev, nr, bar->type, &bar->mr);
    return true;
}

static void vfio_bars_teardown(VFIOPCIDevice *vdev)
{
    for (unsigned i = 0; i < PCI_NUM_REGIONS; i++) {
        VFIOBAR *bar = &vdev->bars[i];

        for (unsigned j = 0; j < bar->nr_mmaps; j++) {
            memory_region_finalize(&bar->mmaps[j].mr);
            hostos_munmap(bar->mmaps[j].ptr, bar->mmaps[j].size);
        }
        g_free(bar->mmaps);
        bar->mmaps = NULL;
        bar->nr_mmaps = 0;
        if (bar->mr_ready) {
            memory_region_finalize(&bar->mr);
            bar->mr_ready = false;
        }
        bar->size = 0;
    }
}

/* ------------------------------------------------------------------------
 * MSI-X and MSI on the host
 * ------------------------------------------------------------------------ */

static const char *vfio_irq_name(unsigned index)
{
    return index == VFIO_PCI_MSIX_IRQ_INDEX ? "MSI-X" : "MSI";
}

static gboolean vfio_vector_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    VFIOMSIVector *v = opaque;
    VFIOPCIDevice *vdev = v->vdev;
    uint64_t count;

    /* non-blocking: nothing to read means someone else drained it */
    if (read(fd, &count, sizeof(count)) != sizeof(count)) {
        return G_SOURCE_CONTINUE;
    }
    if (vdev->irq_index == VFIO_PCI_MSIX_IRQ_INDEX) {
        msix_notify(&vdev->pdev, v->nr);
    } else {
        msi_notify(&vdev->pdev, v->nr);
    }
    return G_SOURCE_CONTINUE;
}

static void vfio_vectors_free(VFIOPCIDevice *vdev)
{
    for (unsigned i = 0; i < vdev->nr_vectors; i++) {
        VFIOMSIVector *v = &vdev->vectors[i];

        if (v->watch) {
            g_source_remove(v->watch);
        }
        if (v->efd >= 0) {
            close(v->efd);
        }
    }
    g_free(vdev->vectors);
    vdev->vectors = NULL;
    vdev->nr_vectors = 0;
}

/* Releases the host's vectors of type @index, if that type is enabled. */
static void vfio_vectors_disable(VFIOPCIDevice *vdev, unsigned index)
{
    struct vfio_irq_set set = {
        .argsz = sizeof(set),
        .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
        .index = index,
    };

    if (!vdev->vectors || vdev->irq_index != index) {
        return;
    }
    if (hostos_ioctl(vdev->vbasedev.fd, VFIO_DEVICE_SET_IRQS, &set) < 0) {
        warn_report("vfio %s: failed to disable %s: %s", vdev_name(vdev),
                    vfio_irq_name(index), strerror(errno));
    }
    vfio_vectors_free(vdev);
}

/*
 * Binds an eventfd to each of @n vectors of type @index; the guest's
 * table or capability decides delivery.  A failure leaves nothing bound.
 */
static void vfio_vectors_enable(VFIOPCIDevice *vdev, unsigned index,
                                unsigned n)
{
    g_autofree struct vfio_irq_set *set =
        g_malloc0(sizeof(*set) + n * sizeof(int32_t));
    int32_t *fds = (int32_t *)set->data;

    if (vdev->vectors) {
        /* the host serves one type at a time (and so must the guest) */
        log_guest_error("vfio %s: %s enabled while %s is in use; ignored",
                        vdev_name(vdev), vfio_irq_name(index),
                        vfio_irq_name(vdev->irq_index));
        return;
    }
    vdev->irq_index = index;
    vdev->vectors = g_new0(VFIOMSIVector, n);
    for (unsigned i = 0; i < n; i++) {
        VFIOMSIVector *v = &vdev->vectors[i];

        v->vdev = vdev;
        v->nr = i;
        v->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        vdev->nr_vectors++;
        if (v->efd < 0) {
            error_report("vfio %s: %s vector %u: eventfd: %s",
                         vdev_name(vdev), vfio_irq_name(index), i,
                         strerror(errno));
            vfio_vectors_free(vdev);
            return;
        }
        fds[i] = v->efd;
    }
    set->argsz = sizeof(*set) + n * sizeof(int32_t);
    set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
    set->index = index;
    set->start = 0;
    set->count = n;
    if (hostos_ioctl(vdev->vbasedev.fd, VFIO_DEVICE_SET_IRQS, set) < 0) {
        error_report("vfio %s: failed to enable %s: %s", vdev_name(vdev),
                     vfio_irq_name(index), strerror(errno));
        vfio_vectors_free(vdev);
        return;
    }
    /* ahead of other sources: a completion is seen before the next
     * request is read */
    for (unsigned i = 0; i < n; i++) {
        VFIOMSIVector *v = &vdev->vectors[i];

        v->watch = g_unix_fd_add_full(G_PRIORITY_HIGH, v->efd, G_IO_IN,
                                      vfio_vector_ready, v, NULL);
    }
}

/* Whatever type is enabled on the host, off. */
static void vfio_vectors_disable_all(VFIOPCIDevice *vdev)
{
    vfio_vectors_disable(vdev, vdev->irq_index);
}

/* ------------------------------------------------------------------------
 * INTx
 * ------------------------------------------------------------------------ */

/* One SET_IRQS on the INTx index: @flags, count @count, an optional fd. */
static int vfio_intx_set(VFIOPCIDevice *vdev, uint32_t flags, uint32_t count,
                         int fd)
{
    struct {
        struct vfio_irq_set hdr;
        int32_t fd;
    } set = {
        .hdr = {
            .argsz = sizeof(set.hdr) +
                     (flags & VFIO_IRQ_SET_DATA_EVENTFD ? sizeof(int32_t) : 0),
            .flags = flags,
            .index = VFIO_PCI_INTX_IRQ_INDEX,
            .count = count,
        },
        .fd = fd,
    };

    return hostos_ioctl(vdev->vbasedev.fd, VFIO_DEVICE_SET_IRQS, &set);
}

static void vfio_mmaps_set_enabled(VFIOPCIDevice *vdev, bool enabled)
{
    for (unsigned i = 0; i < PCI_NUM_REGIONS; i++) {
        for (unsigned j = 0; j < vdev->bars[i].nr_mmaps; j++) {
            memory_region_set_enabled(&vdev->bars[i].mmaps[j].mr, enabled);
        }
    }
}

static void vfio_intx_mmap_timer_arm(VFIOPCIDevice *vdev)
{
    if (vdev->intx_mmap_timeout) {
        timer_mod(vdev->intx_mmap_timer,
                  qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) +
                  vdev->intx_mmap_timeout);
    }
}

/* The pin stayed low for the timeout: accesses go to the mmaps again. */
static void vfio_intx_mmap_timeout(void *opaque)
{
    VFIOPCIDevice *vdev = opaque;

    if (vdev->intx_pending) {
        vfio_intx_mmap_timer_arm(vdev);
        return;
    }
    vfio_mmaps_set_enabled(vdev, true);
}

/* The host's INTx fired (and is masked there until our EOI). */
static gboolean vfio_intx_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    VFIOPCIDevice *vdev = opaque;
    uint64_t count;

    if (read(fd, &count, sizeof(count)) != sizeof(count)) {
        return G_SOURCE_CONTINUE;
    }
    vdev->intx_pending = true;
    pci_irq_assert(&vdev->pdev);
    vfio_mmaps_set_enabled(vdev, false);
    vfio_intx_mmap_timer_arm(vdev);
    return G_SOURCE_CONTINUE;
}

/*
 * The guest touched a trapped BAR: take it as the end of its interrupt
 * handler (QEMU's vfio_pci_intx_eoi).  The pin drops and the host
 * unmasks; if the device still asserts, the host fires again.
 */
static void vfio_intx_eoi(VFIOPCIDevice *vdev)
{
    if (!vdev->intx_pending) {
        return;
    }
    vdev->intx_pending = false;
    pci_irq_deassert(&vdev->pdev);
    if (vfio_intx_set(vdev, VFIO_IRQ_SET_DATA_NONE |
                      VFIO_IRQ_SET_ACTION_UNMASK, 1, -1) < 0) {
        warn_report("vfio %s: failed to unmask INTx: %s", vdev_name(vdev),
                    strerror(errno));
    }
}

/* INTx on the host with an eventfd (a pin, and MSI and MSI-X off). */
static void vfio_intx_enable(VFIOPCIDevice *vdev)
{
    int efd;

    if (!vdev->intx_pin || vdev->intx_enabled || vdev->vectors ||
        vdev->vbasedev.fd < 0) {
        return;
    }
    efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) {
        error_report("vfio %s: INTx: eventfd: %s", vdev_name(vdev),
                     strerror(errno));
        return;
    }
    if (vfio_intx_set(vdev, VFIO_IRQ_SET_DATA_EVENTFD |
                      VFIO_IRQ_SET_ACTION_TRIGGER, 1, efd) < 0) {
        error_report("vfio %s: failed to enable INTx: %s", vdev_name(vdev),
                     strerror(errno));
        close(efd);
        return;
    }
    vdev->intx_efd = efd;
    vdev->intx_watch = g_unix_fd_add_full(G_PRIORITY_HIGH, efd, G_IO_IN,
                                          vfio_intx_ready, vdev, NULL);
    vdev->intx_enabled = true;
}

/* INTx off on the host, our pin low, the mmaps back. */
static void vfio_intx_disable(VFIOPCIDevice *vdev)
{
    if (!vdev->intx_enabled) {
        return;
    }
    timer_del(vdev->intx_mmap_timer);
    if (vfio_intx_set(vdev, VFIO_IRQ_SET_DATA_NONE |
                      VFIO_IRQ_SET_ACTION_TRIGGER, 0, -1) < 0) {
        warn_report("vfio %s: failed to disable INTx: %s", vdev_name(vdev),
                    strerror(errno));
    }
    g_source_remove(vdev->intx_watch);
    vdev->intx_watch = 0;
    close(vdev->intx_efd);
    vdev->intx_efd = -1;
    vdev->intx_enabled = false;
    vdev->intx_pending = false;
    pci_irq_deassert(&vdev->pdev);
    vfio_mmaps_set_enabled(vdev, true);
}

/*
 * The interrupt pin the guest sees: the device's, when the host offers
 * an INTx it can signal with an eventfd; else none.
 */
static void vfio_intx_setup(VFIOPCIDevice *vdev, uint8_t pin)
{
    struct vfio_irq_info irq;
    Error *err = NULL;

    vdev->intx_pin = 0;
    if (!pin) {
        return;
    }
    if (pin > PCI_NUM_PINS) {
        warn_report("vfio %s: interrupt pin %u is not INTA-INTD; no INTx",
                    vdev_name(vdev), pin);
        return;
    }
    if (!vfio_device_get_irq_info(&vdev->vbasedev, VFIO_PCI_INTX_IRQ_INDEX,
                                  &irq, &err)) {
        warn_report_err(err);
        return;
    }
    if (!(irq.flags & VFIO_IRQ_INFO_EVENTFD) || !irq.count) {
        return;
    }
    vdev->intx_pin = pin;
    vdev->pdev.config[PCI_INTERRUPT_PIN] = pin;
    vdev->intx_mmap_timer = timer_new_ms(QEMU_CLOCK_VIRTUAL,
                                         vfio_intx_mmap_timeout, vdev);
}

/* ------------------------------------------------------------------------
 * Configuration space
 * ------------------------------------------------------------------------ */

static uint32_t vfio_pci_read_config(PCIDevice *pdev, uint32_t addr, int len)
{
    VFIOPCIDevice *vdev = VFIO_PCI(pdev);
    uint32_t emu = pci_default_read_config(pdev, addr, len);
    uint8_t buf[4] = { 0xff, 0xff, 0xff, 0xff };
    uint32_t val = 0;
    bool need_dev = false;

    if (addr >= VFIO_PCI_CONFIG_SIZE || len < 1 || len > 4 ||
        addr + len > VFIO_PCI_CONFIG_SIZE) {
        return emu;
    }
    for (int i = 0; i < len; i++) {
        need_dev |= vdev->emulated[addr + i] != 0xff;
    }
    if (need_dev && hostos_pread(vdev->vbasedev.fd, buf, len,
                                 vdev->config_offset + addr) != len) {
        log_guest_error("vfio %s: config read of %d bytes at 0x%" PRIx32
                        " failed", vdev_name(vdev), len, addr);
        memset(buf, 0xff, sizeof(buf));
    }
    for (int i = 0; i < len; i++) {
        uint8_t m = vdev->emulated[addr + i];
        uint8_t b = ((emu >> (8 * i)) & m) | (buf[i] & ~m);

        val |= (uint32_t)b << (8 * i);
    }
    return val;
}

static void vfio_pci_write_config(PCIDevice *pdev, uint32_t addr,
                                  uint32_t val, int len)
{
    VFIOPCIDevice *vdev = VFIO_PCI(pdev);
    bool msix_was = msix_enabled(pdev), msi_was = msi_enabled(pdev);
    unsigned msi_lo = vdev->msi_cap, msi_hi = msi_lo + vdev->msi_cap_size;
    uint8_t buf[4];

    if (addr >= VFIO_PCI_CONFIG_SIZE || len < 1 || len > 4 ||
        addr + len > VFIO_PCI_CONFIG_SIZE) {
        return;
    }
    /*
     * Everything reaches the device, the host filters what it owns; but
     * the MSI capability is ours alone: the host's MSI state follows
     * SET_IRQS, and masking is emulated (pending bits the guest can see).
     */
    for (int i = 0; i < len; i++) {
        buf[i] = val >> (8 * i);
    }
    for (int i = 0; i < len; ) {
        int n = 0;

        while (i + n < len && !(addr + i + n >= msi_lo &&
                                addr + i + n < msi_hi)) {
            n++;
        }
        if (n && hostos_pwrite(vdev->vbasedev.fd, buf + i, n,
                               vdev->config_offset + addr + i) != n) {
            log_guest_error("vfio %s: config write of %d bytes at 0x%"
                            PRIx32 " failed", vdev_name(vdev), n, addr + i);
        }
        i += n + 1;             /* past the run and one MSI byte */
    }
    pci_default_write_config(pdev, addr, val, len);

    /* the host serves INTx only while neither MSI nor MSI-X is on */
    if (msix_present(pdev) && msix_was != msix_enabled(pdev)) {
        if (msix_enabled(pdev)) {
            vfio_intx_disable(vdev);
            vfio_vectors_enable(vdev, VFIO_PCI_MSIX_IRQ_INDEX,
                                vdev->msix_entries);
        } else {
            vfio_vectors_disable(vdev, VFIO_PCI_MSIX_IRQ_INDEX);
        }
    }
    if (msi_present(pdev) && msi_was != msi_enabled(pdev)) {
        if (msi_enabled(pdev)) {
            vfio_intx_disable(vdev);
            vfio_vectors_enable(vdev, VFIO_PCI_MSI_IRQ_INDEX,
                                msi_nr_vectors_allocated(pdev));
        } else {
            vfio_vectors_disable(vdev, VFIO_PCI_MSI_IRQ_INDEX);
        }
    }
    vfio_intx_enable(vdev);     /* when no vectors are left on the host */
}

/* Reads the device's config region into pdev->config (256 bytes). */
static bool vfio_config_read_all(VFIOPCIDevice *vdev, Error **errp)
{
    g_autofree struct vfio_region_info *info = NULL;
    ssize_t n;

    info = vfio_device_get_region_info(&vdev->vbasedev,
                                       VFIO_PCI_CONFIG_REGION_INDEX, errp);
    if (!info) {
        return false;
    }
    if (info->size < VFIO_PCI_CONFIG_SIZE) {
        error_setg(errp, "config region of %" PRIu64 " bytes",
                   (uint64_t)info->size);
        return false;
    }
    vdev->config_offset = info->offset;
    n = hostos_pread(vdev->vbasedev.fd, vdev->pdev.config,
                     VFIO_PCI_CONFIG_SIZE, info->offset);
    if (n != VFIO_PCI_CONFIG_SIZE) {
        error_setg_errno(errp, n < 0 ? errno : EIO,
                         "failed to read device config space");
        return false;
    }
    return true;
}

/*
 * The header as the guest sees it: the device's ids, our BARs, no ROM,
 * the device's interrupt pin (vfio_intx_setup), no BIST; everything in
 * it emulated except STATUS (the device's, but for the capability-list
 * bit).
 */
static bool vfio_config_header(VFIOPCIDevice *vdev, Error **errp)
{
    PCIDevice *pdev = &vdev->pdev;
    uint8_t *c = pdev->config;
    uint8_t dev[PCI_CONFIG_HEADER_SIZE];

    memcpy(dev, c, sizeof(dev));
    if (pci_get_word(dev + PCI_VENDOR_ID) == 0xffff) {
        error_setg(errp, "device does not respond (vendor id 0xffff)");
        return false;
    }
    if ((dev[PCI_HEADER_TYPE] & 0x7f) != PCI_HEADER_TYPE_NORMAL) {
        error_setg(errp, "only type 0 (normal) PCI functions can be "
                   "assigned (header type 0x%02x)", dev[PCI_HEADER_TYPE]);
        return false;
    }
    memset(c, 0, VFIO_PCI_CONFIG_SIZE);
    memcpy(c + PCI_VENDOR_ID, dev + PCI_VENDOR_ID, 4);
    memcpy(c + PCI_REVISION_ID, dev + PCI_REVISION_ID, 4);
    memcpy(c + PCI_SUBSYSTEM_VENDOR_ID, dev + PCI_SUBSYSTEM_VENDOR_ID, 4);
    c[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL |
                         (pdev->multifunction ?
                          PCI_HEADER_TYPE_MULTI_FUNCTION : 0);
    /* the BARs' type bits, for vfio_bar_setup(); ours start at 0 */
    for (unsigned i = 0; i < PCI_NUM_REGIONS; i++) {
        vdev->dev_bars[i] = pci_get_long(dev + PCI_BASE_ADDRESS_0 + 4 * i);
    }
    c[PCI_CAPABILITY_LIST] = dev[PCI_CAPABILITY_LIST];
    vfio_intx_setup(vdev, dev[PCI_INTERRUPT_PIN]);

    memset(vdev->emulated, 0, sizeof(vdev->emulated));
    memset(vdev->emulated, 0xff, PCI_CONFIG_HEADER_SIZE);
    vdev->emulated[PCI_STATUS] = PCI_STATUS_CAP_LIST;
    vdev->emulated[PCI_STATUS + 1] = 0;
    return true;
}

/* A capability of the device's chain. */
typedef struct VFIOCap {
    uint8_t id, off, size;
} VFIOCap;

static gint vfio_cap_cmp(gconstpointer a, gconstpointer b)
{
    return ((const VFIOCap *)a)->off - ((const VFIOCap *)b)->off;
}

/*
 * The device's capability chain, checked: each offset in the
 * device-specific area, dword-aligned, seen once.  Sizes reach to the
 * next capability (or the end).  NULL with *errp on a malformed chain.
 */
static GArray *vfio_config_caps(VFIOPCIDevice *vdev, uint8_t first,
                                Error **errp)
{
    GArray *caps = g_array_new(false, false, sizeof(VFIOCap));
    g_autoptr(GArray) sorted = NULL;
    uint8_t seen[VFIO_PCI_CONFIG_SIZE] = { 0 };
    uint8_t off = first & ~3;
    uint8_t dev[2];

    while (off) {
        if (off < PCI_CONFIG_HEADER_SIZE || seen[off] ||
            caps->len == VFIO_PCI_MAX_CAPS) {
            error_setg(errp, "malformed capability list (at 0x%02x)", off);
            g_array_free(caps, true);
            return NULL;
        }
        seen[off] = 1;
        if (hostos_pread(vdev->vbasedev.fd, dev, 2,
                         vdev->config_offset + off) != 2) {
            error_setg(errp, "reading the capability at 0x%02x failed", off);
            g_array_free(caps, true);
            return NULL;
        }
        g_array_append_val(caps, ((VFIOCap){ .id = dev[0], .off = off }));
        off = dev[1] & ~3;
    }
    sorted = g_array_copy(caps);
    g_array_sort(sorted, vfio_cap_cmp);
    for (guint i = 0; i < caps->len; i++) {
        VFIOCap *cap = &g_array_index(caps, VFIOCap, i);
        unsigned end = VFIO_PCI_CONFIG_SIZE;

        for (guint j = 0; j < sorted->len; j++) {
            VFIOCap *s = &g_array_index(sorted, VFIOCap, j);

            if (s->off > cap->off) {
                end = s->off;
                break;
            }
        }
        cap->size = MIN(end - cap->off, 0xffu);
    }
    return caps;
}

/*
 * MSI-X as the device describes it, checked against its BARs and the
 * vectors the host can signal; the capability is exposed only then.
 */
static bool vfio_msix_check(VFIOPCIDevice *vdev, uint8_t off, uint8_t size,
                            Error **errp)
{
    struct vfio_irq_info irq;
    uint8_t raw[PCI_MSIX_CAP_SIZE];
    uint32_t table, pba;
    unsigned n, tbir, pbir;

    if (size < PCI_MSIX_CAP_SIZE) {
        error_setg(errp, "MSI-X capability at 0x%02x is cut short", off);
        return false;
    }
    if (hostos_pread(vdev->vbasedev.fd, raw, sizeof(raw),
                     vdev->config_offset + off) != sizeof(raw)) {
        error_setg_errno(errp, errno, "reading the MSI-X capability");
        return false;
    }
    n = (pci_get_word(raw + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_QSIZE) + 1;
    table = pci_get_long(raw + PCI_MSIX_TABLE);
    pba = pci_get_long(raw + PCI_MSIX_PBA);
    tbir = table & PCI_MSIX_FLAGS_BIRMASK;
    pbir = pba & PCI_MSIX_FLAGS_BIRMASK;
    for (unsigned bir = tbir;; bir = pbir) {
        VFIOBAR *bar = bir < PCI_NUM_REGIONS ? &vdev->bars[bir] : NULL;

        if (!bar || !bar->size || (bar->type & PCI_BASE_ADDRESS_SPACE_IO)) {
            error_setg(errp, "MSI-X table or PBA in BAR%u, which is not a "
                       "memory BAR", bir);
            return false;
        }
        if (bir == pbir) {
            break;
        }
    }
    if (!vfio_device_get_irq_info(&vdev->vbasedev, VFIO_PCI_MSIX_IRQ_INDEX,
                                  &irq, errp)) {
        return false;
    }
    if (!(irq.flags & VFIO_IRQ_INFO_EVENTFD) || !irq.count) {
        warn_report("vfio %s: the host cannot signal MSI-X; capability "
                    "hidden", vdev_name(vdev));
        return true;
    }
    vdev->msix_entries = MIN(n, irq.count);
    vdev->msix_cap = off;
    return msix_init(&vdev->pdev, vdev->msix_entries, &vdev->bars[tbir].mr,
                     tbir, table & ~PCI_MSIX_FLAGS_BIRMASK,
                     &vdev->bars[pbir].mr, pbir,
                     pba & ~PCI_MSIX_FLAGS_BIRMASK, off, errp);
}

/* Bytes of an MSI capability with these flags (PCI Local Bus 3.0, 6.8.1). */
static uint8_t vfio_msi_cap_size(uint16_t flags)
{
    uint8_t size = flags & PCI_MSI_FLAGS_64BIT ? 0x0e : 0x0a;

    return flags & PCI_MSI_FLAGS_MASKBIT ? size + 0x0a : size;
}

/*
 * MSI as the device describes it (64-bit or not, per-vector masking or
 * not), with at most the vectors the host can signal, a power of two:
 * emulated by msi_init (QEMU's vfio_msi_setup), exposed only then.
 */
static bool vfio_msi_check(VFIOPCIDevice *vdev, uint8_t off, uint8_t size,
                           Error **errp)
{
    struct vfio_irq_info irq;
    uint8_t raw[4];
    uint16_t flags;
    unsigned n;

    if (hostos_pread(vdev->vbasedev.fd, raw, sizeof(raw),
                     vdev->config_offset + off) != sizeof(raw)) {
        error_setg_errno(errp, errno, "reading the MSI capability");
        return false;
    }
    flags = pci_get_word(raw + PCI_MSI_FLAGS);
    if (size < vfio_msi_cap_size(flags)) {
        error_setg(errp, "MSI capability at 0x%02x is cut short", off);
        return false;
    }
    if (!vfio_device_get_irq_info(&vdev->vbasedev, VFIO_PCI_MSI_IRQ_INDEX,
                                  &irq, errp)) {
        return false;
    }
    if (!(irq.flags & VFIO_IRQ_INFO_EVENTFD) || !irq.count) {
        warn_report("vfio %s: the host cannot signal MSI; capability "
                    "hidden", vdev_name(vdev));
        return true;
    }
    /* Multiple Message Capable 6 and 7 are reserved: 32 at most */
    n = 1u << MIN((flags & PCI_MSI_FLAGS_QMASK) >> 1, 5u);
    while (n > irq.count) {
        n >>= 1;
    }
    vdev->msi_cap = off;
    vdev->msi_cap_size = vfio_msi_cap_size(flags);
    return msi_init(&vdev->pdev, off, n, flags & PCI_MSI_FLAGS_64BIT,
                    flags & PCI_MSI_FLAGS_MASKBIT, errp);
}

/*
 * Rebuilds the capability list in pdev->config, in the device's order:
 * MSI-X and MSI emulated, the others passed through (only their link
 * byte is ours).
 */
static bool vfio_config_capabilities(VFIOPCIDevice *vdev, Error **errp)
{
    PCIDevice *pdev = &vdev->pdev;
    g_autoptr(GArray) caps = vfio_config_caps(vdev,
                                              pdev->config[PCI_CAPABILITY_LIST],
                                              errp);

    if (!caps) {
        return false;
    }
    pdev->config[PCI_CAPABILITY_LIST] = 0;
    pci_set_word(pdev->config + PCI_STATUS, 0);
    /* added at the head: the last first keeps the device's order */
    for (guint i = caps->len; i > 0; i--) {
        VFIOCap *cap = &g_array_index(caps, VFIOCap, i - 1);

        if (cap->id == PCI_CAP_ID_MSIX && !vdev->msix_cap) {
            if (!vfio_msix_check(vdev, cap->off, cap->size, errp)) {
                return false;
            }
            if (vdev->msix_cap) {
                memset(vdev->emulated + cap->off, 0xff, PCI_MSIX_CAP_SIZE);
                continue;
            }
        }
        if (cap->id == PCI_CAP_ID_MSI && !vdev->msi_cap) {
            if (!vfio_msi_check(vdev, cap->off, cap->size, errp)) {
                return false;
            }
            if (vdev->msi_cap) {
                memset(vdev->emulated + cap->off, 0xff, vdev->msi_cap_size);
                continue;
            }
        }
        if (cap->id == PCI_CAP_ID_MSIX || cap->id == PCI_CAP_ID_MSI) {
            /* hidden: reads 0, not in the list */
            memset(vdev->emulated + cap->off, 0xff, cap->size);
            continue;
        }
        if (cap->size < 2 ||
            pci_add_capability(pdev, cap->id, cap->off, cap->size,
                               errp) < 0) {
            error_prepend(errp, "capability 0x%02x at 0x%02x: ", cap->id,
                          cap->off);
            return false;
        }
        vdev->emulated[cap->off + PCI_CAP_LIST_ID] = 0xff;
        vdev->emulated[cap->off + PCI_CAP_LIST_NEXT] = 0xff;
    }
    return true;
}

/* ------------------------------------------------------------------------
 * Realize, unrealize, reset
 * ------------------------------------------------------------------------ */

/* Undoes whatever realize did, in reverse; also the unrealize path. */
static void vfio_pci_teardown(VFIOPCIDevice *vdev)
{
    PCIDevice *pdev = &vdev->pdev;
    VFIODevice *vbasedev = &vdev->vbasedev;

    vfio_intx_disable(vdev);
    timer_free(vdev->intx_mmap_timer);
    vdev->intx_mmap_timer = NULL;
    vdev->intx_pin = 0;
    vfio_vectors_disable_all(vdev);
    msix_uninit(pdev);
    vdev->msix_cap = 0;
    vdev->msix_entries = 0;
    msi_uninit(pdev);
    vdev->msi_cap = 0;
    vdev->msi_cap_size = 0;
    if (vdev->iommu_set) {
        pci_device_unset_iommu_device(pdev);
        vdev->iommu_set = false;
    }
    if (vdev->hiod_child) {
        object_unparent(OBJECT(vbasedev->hiod));
        vdev->hiod_child = false;
    }
    vfio_bars_teardown(vdev);
    if (vbasedev->fd >= 0) {
        vfio_device_detach(vbasedev);
    }
    g_free(vbasedev->sysfsdev);
    vbasedev->sysfsdev = NULL;
    g_free(vbasedev->name);
    vbasedev->name = NULL;
}

/* "DDDD:BB:DD.F" or "BB:DD.F" -> the canonical lower-case form. */
static char *vfio_parse_bdf(const char *s)
{
    unsigned dom = 0, bus, dev, fn;
    char tail;

    if (sscanf(s, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) != 4 &&
        (dom = 0, sscanf(s, "%x:%x.%x%c", &bus, &dev, &fn, &tail) != 3)) {
        return NULL;
    }
    if (strspn(s, "0123456789abcdefABCDEF:.") != strlen(s) ||
        dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7) {
        return NULL;
    }
    return g_strdup_printf("%04x:%02x:%02x.%x", dom, bus, dev, fn);
}

/* Names the device and its sysfs directory from the properties. */
static bool vfio_pci_name(VFIOPCIDevice *vdev, Error **errp)
{
    VFIODevice *vbasedev = &vdev->vbasedev;

    if (vdev->sysfsdev) {
        g_autofree char *base = g_path_get_basename(vdev->sysfsdev);

        if (!*vdev->sysfsdev || !strcmp(base, "/") || !strcmp(base, ".")) {
            error_setg(errp, "vfio-pci: bad sysfsdev '%s'", vdev->sysfsdev);
            return false;
        }
        vbasedev->sysfsdev = g_strdup(vdev->sysfsdev);
        vbasedev->name = g_steal_pointer(&base);
    } else if (vdev->host) {
        vbasedev->name = vfio_parse_bdf(vdev->host);
        if (!vbasedev->name) {
            error_setg(errp, "vfio-pci: property 'host': '%s' is not a PCI "
                       "address (DDDD:BB:DD.F)", vdev->host);
            return false;
        }
        vbasedev->sysfsdev = g_strdup_printf("/sys/bus/pci/devices/%s",
                                             vbasedev->name);
    } else if (vbasedev->passed_fd >= 0) {
        vbasedev->name = g_strdup_printf("VFIO_FD%d", vbasedev->passed_fd);
    } else {
        error_setg(errp, "vfio-pci: No provided host device");
        error_append_hint(errp, "Use -device vfio-pci,host=DDDD:BB:DD.F or "
                          "-device vfio-pci,sysfsdev=PATH_TO_DEVICE\n");
        return false;
    }
    return true;
}

static bool vfio_pci_setup(VFIOPCIDevice *vdev, Error **errp)
{
    PCIDevice *pdev = &vdev->pdev;
    VFIODevice *vbasedev = &vdev->vbasedev;
    Error *err = NULL;
    bool skip = false;

    vbasedev->iommufd = vdev->iommufd;
    vbasedev->owner = vdev;
    /* 1. the container, and the host IOMMU device with it */
    if (!vfio_device_attach(vbasedev, pci_device_iommu_address_space(pdev),
                            pci_device_get_viommu_flags(pdev), errp)) {
        return false;
    }
    if (!(vbasedev->info.flags & VFIO_DEVICE_FLAGS_PCI) ||
        vbasedev->info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
        error_setg(&err, "not a PCI device (flags 0x%x, %u regions)",
                   vbasedev->info.flags, vbasedev->info.num_regions);
        goto fail;
    }
    /* 2. configuration space and BARs */
    if (!vfio_config_read_all(vdev, &err) || !vfio_config_header(vdev, &err)) {
        goto fail;
    }
    for (unsigned i = 0; i < PCI_NUM_REGIONS; i++) {
        if (skip) {
            skip = false;
            continue;
        }
        if (!vfio_bar_setup(vdev, i, &skip, &err)) {
            goto fail;
        }
    }
    object_property_add_child(OBJECT(vdev), "host-iommu-device",
                              OBJECT(vbasedev->hiod));
    vdev->hiod_child = true;
    /* 3. the vIOMMU's verdict */
    if (!pci_device_set_iommu_device(pdev, vbasedev->hiod, &err)) {
        error_prepend(&err, "Failed to set vIOMMU: ");
        goto fail;
    }
    vdev->iommu_set = true;
    /* 4. capabilities; 5. interrupts: MSI or MSI-X when the guest
     * enables it */
    if (!vfio_config_capabilities(vdev, &err)) {
        goto fail;
    }
    vfio_intx_enable(vdev);
    return true;

fail:
    error_prepend(&err, "vfio %s: ", vdev_name(vdev));
    error_propagate(errp, err);
    return false;
}

static bool vfio_pci_realize(PCIDevice *pdev, Error **errp)
{
    VFIOPCIDevice *vdev = VFIO_PCI(pdev);

    if (!vfio_pci_name(vdev, errp) || !vfio_pci_setup(vdev, errp)) {
        vfio_pci_teardown(vdev);
        return false;
    }
    return true;
}

static void vfio_pci_exit(PCIDevice *pdev)
{
    vfio_pci_teardown(VFIO_PCI(pdev));
}

/*
 * After the core restored config space: the host side follows, MSI,
 * MSI-X and INTx off, a function reset, the restored COMMAND (no
 * decoding, no bus mastering) written to the device, and INTx on again.
 */
static void vfio_pci_reset(PCIDevice *pdev)
{
    VFIOPCIDevice *vdev = VFIO_PCI(pdev);
    VFIODevice *vbasedev = &vdev->vbasedev;
    uint8_t cmd[2];

    if (vbasedev->fd < 0) {
        return;
    }
    vfio_intx_disable(vdev);
    vfio_vectors_disable_all(vdev);
    if ((vbasedev->info.flags & VFIO_DEVICE_FLAGS_RESET) &&
        hostos_ioctl(vbasedev->fd, VFIO_DEVICE_RESET, NULL) < 0) {
        warn_report("vfio %s: VFIO_DEVICE_RESET failed: %s", vdev_name(vdev),
                    strerror(errno));
    }
    memcpy(cmd, pdev->config + PCI_COMMAND, 2);
    if (hostos_pwrite(vbasedev->fd, cmd, 2,
                      vdev->config_offset + PCI_COMMAND) != 2) {
        warn_report("vfio %s: restoring COMMAND failed: %s", vdev_name(vdev),
                    strerror(errno));
    }
    vfio_intx_enable(vdev);
}

/* ------------------------------------------------------------------------
 * Properties and type
 * ------------------------------------------------------------------------ */

/*
 * fd=: an open VFIO device cdev.  A getfd name is handed over by the
 * monitor; a number is duplicated (the caller keeps its own).  Ours is
 * closed by the device (detach, or finalize if never realized).
 */
static void vfio_pci_set_fd(Object *obj, const char *str, Error **errp)
{
    VFIOPCIDevice *vdev = VFIO_PCI(obj);
    Monitor *mon = monitor_cur();
    Error *err = NULL;
    struct stat st;
    int fd;

    if (DEVICE(obj)->realized) {
        qdev_prop_set_after_realize(DEVICE(obj), "fd", errp);
        return;
    }
    fd = monitor_fd_param(mon, str, &err);
    if (fd < 0) {
        error_prepend(&err, "vfio-pci: property 'fd': ");
        error_propagate(errp, err);
        return;
    }
    if (!mon || g_ascii_isdigit(str[0])) {
        if (hostos_fstat(fd, &st) < 0 || (fd = hostos_dup(fd)) < 0) {
            error_setg_errno(errp, errno, "vfio-pci: property 'fd': file "
                             "descriptor %s is not usable", str);
            return;
        }
    }
    if (vdev->vbasedev.passed_fd >= 0) {
        hostos_close(vdev->vbasedev.passed_fd);
    }
    vdev->vbasedev.passed_fd = fd;
}

static void vfio_pci_instance_init(Object *obj)
{
    vfio_device_init(&VFIO_PCI(obj)->vbasedev);
    VFIO_PCI(obj)->intx_efd = -1;
}

static void vfio_pci_instance_finalize(Object *obj)
{
    VFIOPCIDevice *vdev = VFIO_PCI(obj);

    if (vdev->vbasedev.passed_fd >= 0) {
        hostos_close(vdev->vbasedev.passed_fd);
        vdev->vbasedev.passed_fd = -1;
    }
}

static bool vfio_pci_get_iommu_accepted(Object *obj, Error **errp)
{
    return VFIO_PCI(obj)->iommu_set;
}

static const Property vfio_pci_props[] = {
    DEFINE_PROP_STRING("host", VFIOPCIDevice, host),
    DEFINE_PROP_STRING("sysfsdev", VFIOPCIDevice, sysfsdev),
    DEFINE_PROP_LINK("iommufd", VFIOPCIDevice, iommufd, TYPE_IOMMUFD_BACKEND,
                     IOMMUFDBackend *),
    DEFINE_PROP_BOOL("x-no-mmap", VFIOPCIDevice, no_mmap, false),
    DEFINE_PROP_UINT32("x-intx-mmap-timeout-ms", VFIOPCIDevice,
                       intx_mmap_timeout, 1100),
    DEFINE_PROP_END_OF_LIST(),
};

static void vfio_pci_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *pc = PCI_DEVICE_CLASS(klass);
    ObjectProperty *prop;

    dc->desc = "VFIO-based PCI device assignment";
    dc->category = DEVICE_CATEGORY_MISC;
    dc->hotpluggable = true;
    device_class_set_props(dc, vfio_pci_props);
    prop = object_class_property_add_str(klass, "fd", NULL, vfio_pci_set_fd);
    prop->description = g_strdup("An open VFIO device cdev: a number, or a "
                                 "name passed with getfd (needs iommufd=)");
    prop = object_class_property_add_bool(klass, "x-iommu-accepted",
                                          vfio_pci_get_iommu_accepted, NULL);
    prop->description = g_strdup("Read-only: the vIOMMU (or the absence "
                                 "of one) accepted the host IOMMU device");
    object_class_property_set_description(klass, "host",
        "Host PCI address [domain:]<bus:slot.function> of assigned device");
    object_class_property_set_description(klass, "sysfsdev",
        "Host sysfs path of assigned device");
    object_class_property_set_description(klass, "iommufd",
        "Set host IOMMUFD backend device");
    object_class_property_set_description(klass, "x-no-mmap",
        "Disable MMAP for device. Allows to trace MMIO accesses (slow)");
    object_class_property_set_description(klass, "x-intx-mmap-timeout-ms",
        "When EOI is not provided by KVM/QEMU, wait time (milliseconds) to "
        "re-enable device direct access after INTx (DEBUG)");
    pc->realize = vfio_pci_realize;
    pc->exit = vfio_pci_exit;
    pc->reset = vfio_pci_reset;
    pc->config_read = vfio_pci_read_config;
    pc->config_write = vfio_pci_write_config;
}

static const TypeInfo vfio_pci_types[] = {
    {
        .name = TYPE_VFIO_PCI,
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(VFIOPCIDevice),
        .instance_init = vfio_pci_instance_init,
        .instance_finalize = vfio_pci_instance_finalize,
        .class_init = vfio_pci_class_init,
    },
};

DEFINE_TYPES(vfio_pci_types)
