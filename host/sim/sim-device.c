/*
 * What vfio-pci does for one device of the simulated host: device files
 * (from VFIO_GROUP_GET_DEVICE_FD, or an open of the cdev
 * /dev/vfio/devices/vfioX) and their ioctls (uapi_facts.md §3, §4.2-4.3),
 * region access by pread/pwrite/mmap with the config-space virtualisation
 * a VMM relies on, and the host's side of interrupts: eventfds signalled
 * when the model's MSI or MSI-X messages arrive or its INTx pin rises.
 *
 * Region i lives at device-file offset i << 40, as vfio-pci places it;
 * users must take it from VFIO_DEVICE_GET_REGION_INFO.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim-vfio-dev.h"

#define REGION_SHIFT        40
#define REGION_MASK         ((1ull << REGION_SHIFT) - 1)

/*
 * One open device file (the kernel's vfio_device_file).  From
 * GET_DEVICE_FD: vg set (a reference on the group state), access at once.
 * From a cdev open: vg NULL, access after VFIO_DEVICE_BIND_IOMMUFD.
 * Counted in SimVfioDev.files until its release.
 */
typedef struct SimVfioDevFile {
    SimDevice *dev;
    SimVfioGroup *vg;
    bool access;            /* the device is opened through this file */
} SimVfioDevFile;

static void msi_geometry(SimVfioDev *vd)
{
    SimDevice *dev = vd->dev;
    unsigned cap = find_cap(dev, PCI_CAP_ID_MSI);
    uint16_t ctrl = cap ? cfg_read(dev, cap + MSI_CTRL, 2) : 0;

    vd->msi_cap = cap;
    vd->msi_64 = ctrl & MSI_CTRL_64BIT;
    vd->msi_count = MIN(1u << ((ctrl & MSI_CTRL_MMC) >> 1), SIM_VFIO_MAX_MSI);
}

static void msix_geometry(SimVfioDev *vd)
{
    SimDevice *dev = vd->dev;
    unsigned cap = find_cap(dev, PCI_CAP_ID_MSIX);
    uint32_t table, pba;

    vd->msix_cap = cap;
    if (!cap) {
        return;
    }
    table = cfg_read(dev, cap + 4, 4);
    pba = cfg_read(dev, cap + 8, 4);
    vd->msix_count = MIN((cfg_read(dev, cap + 2, 2) & MSIX_CTRL_QSIZE) + 1,
                         SIM_VFIO_MAX_MSIX);
    vd->msix_bar = table & 7;
    vd->msix_table = table & ~7u;
    vd->pba_bar = pba & 7;
    vd->pba = pba & ~7u;
}

/* ---- device open/close (vfio-pci enable/disable) ------------------------ */

/* What vfio-pci virtualises starts from the device's values at open. */
static void vconfig_init(SimVfioDev *vd)
{
    for (unsigned i = 0; i < 6; i++) {
        vd->vbar[i] = cfg_read(vd->dev, PCI_BAR0 + 4 * i, 4);
    }
    vd->vbar[6] = cfg_read(vd->dev, PCI_ROM, 4);
    vd->vmsix_ctrl = 0;
    vd->vmsi_ctrl = 0;
    vd->vmsi_addr = 0;
    vd->vmsi_data = 0;
    vd->intx_vdisable = cfg_read(vd->dev, PCI_COMMAND, 2) &
                        PCI_COMMAND_INTX_DISABLE;
}

/* First open: reset the function and enable memory decoding. */
static void device_enable(SimVfioDev *vd)
{
    sim_model_reset(vd->dev);
    cfg_write(vd->dev, PCI_COMMAND, 2,
              cfg_read(vd->dev, PCI_COMMAND, 2) | PCI_COMMAND_MEMORY);
    vconfig_init(vd);
}

/* Last close: stop DMA, tear interrupts down, reset the function. */
static void device_disable(SimVfioDev *vd)
{
    cfg_write(vd->dev, PCI_COMMAND, 2,
              cfg_read(vd->dev, PCI_COMMAND, 2) & ~PCI_COMMAND_MASTER);
    sim_vfio_irq_disable(vd);
    sim_eventfd_drop(&vd->req_efd);
    sim_model_reset(vd->dev);
}

static void device_open(SimVfioDev *vd)
{
    if (vd->open_count++ == 0) {
        device_enable(vd);
    }
}

static void device_close(SimVfioDev *vd)
{
    if (--vd->open_count == 0) {
        device_disable(vd);
    }
}

/* ---- config space as the user sees it ----------------------------------- */

/*
 * MSI as vfio-pci virtualises it: the flags' ENABLE and MME bits, the
 * address and the data are the user's (the device holds the host's
 * message; ENABLE follows SET_IRQS); mask and pending bits are the
 * device's.  @r is the offset in the capability.
 */
static bool in_vmsi(const SimVfioDev *vd, unsigned o)
{
    return vd->msi_cap && o >= vd->msi_cap + MSI_CTRL &&
           o < sim_vfio_msi_data_off(vd) + 2;
}

static uint8_t vmsi_byte(const SimVfioDev *vd, unsigned r, uint8_t phys)
{
    unsigned data = sim_vfio_msi_data_off(vd) - vd->msi_cap;

    if (r == MSI_CTRL) {
        return (phys & ~(MSI_CTRL_ENABLE | MSI_CTRL_MME)) | vd->vmsi_ctrl;
    }
    if (r == MSI_CTRL + 1) {
        return phys;
    }
    if (r >= data) {
        return vd->vmsi_data >> (8 * (r - data));
    }
    return vd->vmsi_addr >> (8 * (r - MSI_ADDR_LO));
}

static void vmsi_write_byte(SimVfioDev *vd, unsigned r, uint8_t b)
{
    unsigned data = sim_vfio_msi_data_off(vd) - vd->msi_cap;
    unsigned qmax = sim_vfio_msi_log2(vd->msi_nvec);
    unsigned shift;

    if (r == MSI_CTRL) {
        b &= MSI_CTRL_ENABLE | MSI_CTRL_MME;
        if (vd->irq_type != VFIO_PCI_MSI_IRQ_INDEX) {
            b &= ~MSI_CTRL_ENABLE;      /* enabled through SET_IRQS only */
        }
        if (((b & MSI_CTRL_MME) >> 4) > qmax) {
            b = (b & ~MSI_CTRL_MME) | qmax << 4;
        }
        vd->vmsi_ctrl = b;
    } else if (r >= data) {
        shift = 8 * (r - data);
        vd->vmsi_data = (vd->vmsi_data & ~(0xffu << shift)) | b << shift;
    } else if (r > MSI_CTRL + 1) {
        shift = 8 * (r - MSI_ADDR_LO);
        if (r == MSI_ADDR_LO) {
            b &= 0xfc;                  /* dword aligned */
        }
        vd->vmsi_addr = (vd->vmsi_addr & ~(0xffull << shift)) |
                        (uint64_t)b << shift;
    }
}

/* Byte @o of the user's view, @phys being the device's byte. */
static uint8_t vconfig_byte(SimVfioDev *vd, unsigned o, uint8_t phys)
{
    if (o >= PCI_BAR0 && o < PCI_BAR0 + 24) {
        return vd->vbar[(o - PCI_BAR0) / 4] >> (8 * (o % 4));
    }
    if (o >= PCI_ROM && o < PCI_ROM + 4) {
        return vd->vbar[6] >> (8 * (o - PCI_ROM));
    }
    if (vd->msix_cap && o == vd->msix_cap + 3) {
        return (phys & 0x3f) | ((vd->vmsix_ctrl >> 8) & 0xc0);
    }
    if (o == PCI_COMMAND + 1) {
        return (phys & ~(PCI_COMMAND_INTX_DISABLE >> 8)) |
               (vd->intx_vdisable ? PCI_COMMAND_INTX_DISABLE >> 8 : 0);
    }
    if (in_vmsi(vd, o)) {
        return vmsi_byte(vd, o - vd->msi_cap, phys);
    }
    return phys;
}

/* A BAR as written, reduced to what a BAR of its size can hold. */
static void vbar_fixup(SimVfioDev *vd, unsigned i)
{
    uint64_t size = 0;
    uint32_t flags, low = 0;

    if (i < 6) {
        sim_model_region(vd->dev, i, &size, &flags);
        low = cfg_read(vd->dev, PCI_BAR0 + 4 * i, 4) & 0xf;
    }
    vd->vbar[i] = size ? (vd->vbar[i] & ~(uint32_t)(size - 1) & ~0xfu) | low
                       : 0;
}

static void vconfig_write_byte(SimVfioDev *vd, unsigned o, uint8_t b)
{
    unsigned i;

    if ((o >= PCI_BAR0 && o < PCI_BAR0 + 24) ||
        (o >= PCI_ROM && o < PCI_ROM + 4)) {
        i = o < PCI_ROM ? (o - PCI_BAR0) / 4 : 6;
        vd->vbar[i] &= ~(0xffu << (8 * (o % 4)));
        vd->vbar[i] |= (uint32_t)b << (8 * (o % 4));
        vbar_fixup(vd, i);
    } else if (vd->msix_cap && o == vd->msix_cap + 3) {
        vd->vmsix_ctrl = (b & 0xc0) << 8;
    } else if (o == PCI_COMMAND + 1) {
        /* INTX_DISABLE is the user's; the device's bit is the host's */
        uint8_t phys = cfg_read(vd->dev, o, 1);
        uint8_t bit = PCI_COMMAND_INTX_DISABLE >> 8;

        cfg_write(vd->dev, o, 1, (b & ~bit) | (phys & bit));
        sim_vfio_intx_set_vdisable(vd, b & bit);
    } else if (in_vmsi(vd, o)) {
        vmsi_write_byte(vd, o - vd->msi_cap, b);
    } else {
        cfg_write(vd->dev, o, 1, b);
    }
}

/* ---- region access ------------------------------------------------------ */

/* Inside the MSI-X table, which the host owns (reads 0xff, writes dropped). */
static bool in_msix_table(SimVfioDev *vd, unsigned index, uint64_t off)
{
    return vd->msix_cap && index == vd->msix_bar && off >= vd->msix_table &&
           off < vd->msix_table + (uint64_t)vd->msix_count * MSIX_ENTRY_SIZE;
}

static void region_read(SimVfioDev *vd, unsigned index, uint64_t off,
                        unsigned size, uint8_t *out)
{
    uint64_t v = 0;

    if (in_msix_table(vd, index, off)) {
        memset(out, 0xff, size);
        return;
    }
    sim_model_read(vd->dev, index, off, size, &v);
    if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
        for (unsigned i = 0; i < size; i++) {
            out[i] = vconfig_byte(vd, off + i, v >> (8 * i));
        }
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        out[i] = v >> (8 * i);
    }
}

static void region_write(SimVfioDev *vd, unsigned index, uint64_t off,
                         unsigned size, const uint8_t *in)
{
    uint64_t v = 0;

    if (in_msix_table(vd, index, off)) {
        return;
    }
    if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
        for (unsigned i = 0; i < size; i++) {
            vconfig_write_byte(vd, off + i, in[i]);
        }
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)in[i] << (8 * i);
    }
    sim_model_write(vd->dev, index, off, size, v);
}

/* The largest naturally aligned access at @off within @left bytes. */
static unsigned access_size(uint64_t off, uint64_t left, unsigned max)
{
    for (unsigned s = max; s > 1; s /= 2) {
        if (!(off % s) && left >= s) {
            return s;
        }
    }
    return 1;
}

/*
 * pread/pwrite on a device file: one region, clipped at its end, split
 * into naturally aligned accesses (at most 4 bytes in config space).
 */
static ssize_t region_rw(SimVfioDevFile *df, void *ubuf, size_t count,
                         off_t pos, bool write)
{
    SimVfioDev *vd = vfio_of(df->dev);
    unsigned index = (uint64_t)pos >> REGION_SHIFT;
    uint64_t off = pos & REGION_MASK, size = 0, done = 0;
    unsigned max = index == VFIO_PCI_CONFIG_REGION_INDEX ? 4 : 8;
    uint8_t bounce[SIM_PAGE_SIZE];
    uint32_t flags;

    if (!df->access || pos < 0 || index >= VFIO_PCI_NUM_REGIONS ||
        index == VFIO_PCI_VGA_REGION_INDEX ||
        (index == VFIO_PCI_ROM_REGION_INDEX && write)) {
        return -EINVAL;
    }
    sim_vfio_intx_poll_unmask(vd);
    sim_model_region(df->dev, index, &size, &flags);
    if (off >= size) {
        return -EINVAL;
    }
    count = MIN(count, size - off);
    while (done < count) {
        uint64_t n = MIN(count - done, sizeof(bounce));
        uint64_t uptr = (uintptr_t)ubuf + done;
        int r = write ? sim_copy_from_user(df->dev->host, bounce, uptr, n) : 0;

        for (uint64_t i = 0; !r && i < n; ) {
            unsigned s = access_size(off + done + i, n - i, max);

            if (write) {
                region_write(vd, index, off + done + i, s, bounce + i);
            } else {
                region_read(vd, index, off + done + i, s, bounce + i);
            }
            i += s;
        }
        if (!r && !write) {
            r = sim_copy_to_user(df->dev->host, uptr, bounce, n);
        }
        if (r) {
            return done ? (ssize_t)done : r;
        }
        done += n;
    }
    return done;
}

static ssize_t devfile_pread(SimFile *f, void *buf, size_t n, off_t off)
{
    return region_rw(f->priv, buf, n, off, false);
}

static ssize_t devfile_pwrite(SimFile *f, const void *buf, size_t n,
                              off_t off)
{
    return region_rw(f->priv, (void *)buf, n, off, true);
}

static int devfile_mmap(SimFile *f, size_t len, int prot, int flags,
                        off_t off, void **out)
{
    SimVfioDevFile *df = f->priv;
    unsigned index = (uint64_t)off >> REGION_SHIFT;
    uint64_t size;
    uint32_t rflags = 0;

    if (!df->access || off < 0 || index >= VFIO_PCI_ROM_REGION_INDEX ||
        ((flags & MAP_TYPE) != MAP_SHARED &&
         (flags & MAP_TYPE) != MAP_SHARED_VALIDATE)) {
        return -EINVAL;
    }
    sim_model_region(df->dev, index, &size, &rflags);
    if (!(rflags & VFIO_REGION_INFO_FLAG_MMAP)) {
        return -EINVAL;
    }
    return sim_model_mmap(df->dev, index, off & REGION_MASK, len, prot, out);
}

/* ---- device ioctls ------------------------------------------------------ */

static int ioctl_get_info(SimVfioDevFile *df, uint64_t uptr)
{
    const size_t minsz = SIM_OFFSETOFEND(struct vfio_device_info, num_irqs);
    struct vfio_device_info info;
    int r = sim_copy_from_user(df->dev->host, &info, uptr, minsz);

    if (r) {
        return r;
    }
    if (info.argsz < minsz) {
        return -EINVAL;
    }
    info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
    info.num_regions = VFIO_PCI_NUM_REGIONS;
    info.num_irqs = VFIO_PCI_NUM_IRQS;
    return sim_copy_to_user(df->dev->host, uptr, &info, minsz);
}

static int ioctl_region_info(SimVfioDevFile *df, uint64_t uptr)
{
    const size_t minsz = SIM_OFFSETOFEND(struct vfio_region_info, offset);
    const struct vfio_info_cap_header mappable = {
        .id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, .version = 1,
    };
    SimVfioDev *vd = vfio_of(df->dev);
    struct vfio_region_info info;
    uint64_t size;
    uint32_t flags;
    int r = sim_copy_from_user(df->dev->host, &info, uptr, minsz);

    if (r) {
        return r;
    }
    if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_REGIONS ||
        info.index == VFIO_PCI_VGA_REGION_INDEX) {
        return -EINVAL;
    }
    sim_model_region(df->dev, info.index, &size, &flags);
    if (info.index == VFIO_PCI_ROM_REGION_INDEX) {
        flags = size ? VFIO_REGION_INFO_FLAG_READ : 0;
    }
    info.offset = (uint64_t)info.index << REGION_SHIFT;
    info.size = size;
    info.flags = size ? flags : 0;
    info.cap_offset = 0;
    if (size && (flags & VFIO_REGION_INFO_FLAG_MMAP) && vd->msix_cap &&
        info.index == vd->msix_bar) {
        info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
        if (info.argsz < sizeof(info) + sizeof(mappable)) {
            info.argsz = sizeof(info) + sizeof(mappable);
        } else {
            r = sim_copy_to_user(df->dev->host, uptr + sizeof(info),
                                 &mappable, sizeof(mappable));
            if (r) {
                return r;
            }
            info.cap_offset = sizeof(info);
        }
    }
    return sim_copy_to_user(df->dev->host, uptr, &info, minsz);
}

static int ioctl_irq_info(SimVfioDevFile *df, uint64_t uptr)
{
    const size_t minsz = SIM_OFFSETOFEND(struct vfio_irq_info, count);
    SimVfioDev *vd = vfio_of(df->dev);
    struct vfio_irq_info info;
    int r = sim_copy_from_user(df->dev->host, &info, uptr, minsz);

    if (r) {
        return r;
    }
    if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS ||
        (info.index == VFIO_PCI_ERR_IRQ_INDEX &&
         !sim_vfio_irq_count(vd, info.index))) {
        return -EINVAL;
    }
    info.flags = VFIO_IRQ_INFO_EVENTFD;
    info.count = sim_vfio_irq_count(vd, info.index);
    if (info.index == VFIO_PCI_INTX_IRQ_INDEX) {
        info.flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
    } else if (info.index != VFIO_PCI_MSIX_IRQ_INDEX) {
        info.flags |= VFIO_IRQ_INFO_NORESIZE;   /* MSI-X grows dynamically */
    }
    return sim_copy_to_user(df->dev->host, uptr, &info, minsz);
}

/* vfio_set_irqs_validate_and_prepare: the header against @max vectors. */
static int irq_set_validate(const struct vfio_irq_set *hdr, unsigned max,
                            size_t *data_size)
{
    const size_t minsz = SIM_OFFSETOFEND(struct vfio_irq_set, count);
    size_t unit;

    if (hdr->argsz < minsz || hdr->index >= VFIO_PCI_NUM_IRQS ||
        hdr->count >= UINT32_MAX - hdr->start ||
        (hdr->flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK |
                        VFIO_IRQ_SET_ACTION_TYPE_MASK))) {
        return -EINVAL;
    }
    switch (hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
    case VFIO_IRQ_SET_DATA_NONE:
        unit = 0;
        break;
    case VFIO_IRQ_SET_DATA_BOOL:
        unit = sizeof(uint8_t);
        break;
    case VFIO_IRQ_SET_DATA_EVENTFD:
        unit = sizeof(int32_t);
        break;
    default:
        return -EINVAL;
    }
    if (hdr->start >= max || hdr->start + hdr->count > max ||
        (unit && hdr->argsz - minsz < (uint64_t)hdr->count * unit)) {
        return -EINVAL;
    }
    *data_size = hdr->count * unit;
    return 0;
}

static int ioctl_set_irqs(SimVfioDevFile *df, uint64_t uptr)
{
    const size_t minsz = SIM_OFFSETOFEND(struct vfio_irq_set, count);
    SimVfioDev *vd = vfio_of(df->dev);
    uint8_t data[SIM_VFIO_MAX_MSIX * sizeof(int32_t)];
    struct vfio_irq_set hdr;
    size_t dsize = 0;
    int r = sim_copy_from_user(df->dev->host, &hdr, uptr, minsz);

    if (!r) {
        r = irq_set_validate(&hdr, sim_vfio_irq_count(vd, hdr.index), &dsize);
    }
    if (!r && dsize > sizeof(data)) {
        r = -EINVAL;        /* more vectors than the host serves */
    }
    if (!r && dsize) {
        r = sim_copy_from_user(df->dev->host, data, uptr + minsz, dsize);
    }
    if (r) {
        return r;
    }
    if (hdr.index == VFIO_PCI_INTX_IRQ_INDEX) {
        switch (hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) {
        case VFIO_IRQ_SET_ACTION_TRIGGER:
            return sim_vfio_intx_trigger(vd, &hdr, data);
        case VFIO_IRQ_SET_ACTION_MASK:
        case VFIO_IRQ_SET_ACTION_UNMASK:
            return sim_vfio_intx_mask_unmask(vd, &hdr, data);
        default:
            return -ENOTTY;
        }
    }
    if ((hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) !=
        VFIO_IRQ_SET_ACTION_TRIGGER) {
        return -ENOTTY;     /* MSI, MSI-X, ERR and REQ have no mask action */
    }
    switch (hdr.index) {
    case VFIO_PCI_MSI_IRQ_INDEX:
    case VFIO_PCI_MSIX_IRQ_INDEX:
        return sim_vfio_msi_trigger(vd, &hdr, data);
    case VFIO_PCI_REQ_IRQ_INDEX:
        return sim_vfio_req_trigger(vd, &hdr, data);
    default:
        return -ENOTTY;
    }
}

static int ioctl_feature(SimVfioDevFile *df, uint64_t uptr)
{
    const size_t minsz = SIM_OFFSETOFEND(struct vfio_device_feature, flags);
    const uint32_t known = VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_GET |
                           VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_PROBE;
    struct vfio_device_feature feat;
    int r = sim_copy_from_user(df->dev->host, &feat, uptr, minsz);

    if (r) {
        return r;
    }
    if (feat.argsz < minsz || (feat.flags & ~known) ||
        (!(feat.flags & VFIO_DEVICE_FEATURE_PROBE) &&
         (feat.flags & VFIO_DEVICE_FEATURE_SET) &&
         (feat.flags & VFIO_DEVICE_FEATURE_GET))) {
        return -EINVAL;
    }
    return -ENOTTY;         /* no migration, tokens, low power or dma-buf */
}

/* ---- cdev: iommufd binding ---------------------------------------------- */

static bool group_has_open_file(SimGroup *group)
{
    return group->vfio != NULL;
}

static int iommufd_from_fd(SimHost *host, int fd, SimIommufdCtx **out)
{
    SimFile *f;

    if (fcntl(fd, F_GETFD) < 0) {
        return -EBADF;
    }
    f = sim_file_from_fd(host, fd);
    *out = f ? sim_iommufd_from_file(f) : NULL;
    return *out ? 0 : -EBADFD;
}

static int cdev_bind(SimVfioDevFile *df, uint64_t uptr)
{
    const size_t minsz = SIM_OFFSETOFEND(struct vfio_device_bind_iommufd,
                                         out_devid);
    SimDevice *dev = df->dev;
    SimVfioDev *vd = vfio_of(dev);
    struct vfio_device_bind_iommufd bind;
    SimIommufdCtx *ictx;
    uint32_t argsz, devid;
    int r = sim_copy_from_user(dev->host, &argsz, uptr, sizeof(argsz));

    if (r) {
        return r;
    }
    if (argsz < minsz) {
        return -EINVAL;
    }
    r = sim_copy_struct_from_user(dev->host, &bind, sizeof(bind), uptr,
                                  argsz);
    if (r) {
        return r;
    }
    if (bind.iommufd < 0 || (bind.flags & ~VFIO_DEVICE_BIND_FLAG_TOKEN) ||
        df->vg) {
        return -EINVAL;
    }
    if (group_has_open_file(dev->group)) {
        return -EBUSY;          /* the group interface holds the group */
    }
    /* bound twice; a VF token offered to a device that is not a VF */
    if (df->access || (bind.flags & VFIO_DEVICE_BIND_FLAG_TOKEN)) {
        return -EINVAL;
    }
    r = iommufd_from_fd(dev->host, bind.iommufd, &ictx);
    if (r) {
        return r;
    }
    if (vd->open_count) {
        return -EINVAL;         /* opened through another cdev file */
    }
    r = sim_iommufd_bind(ictx, dev, &devid);
    if (r) {
        return r;
    }
    r = sim_copy_to_user(dev->host, uptr + offsetof(typeof(bind), out_devid),
                         &devid, sizeof(devid));
    if (r) {
        sim_iommufd_unbind(dev);
        return r;
    }
    df->access = true;
    vd->cdev_bound = true;
    device_open(vd);
    return 0;
}

static int cdev_attach(SimVfioDevFile *df, uint64_t uptr)
{
    const size_t minsz = SIM_OFFSETOFEND(struct vfio_device_attach_iommufd_pt,
                                         pt_id);
    struct vfio_device_attach_iommufd_pt at = { 0 };
    SimHost *host = df->dev->host;
    uint32_t pasid = SIM_NO_PASID;
    int r = sim_copy_from_user(host, &at, uptr, minsz);

    if (r) {
        return r;
    }
    if (at.argsz < minsz || (at.flags & ~VFIO_DEVICE_ATTACH_PASID)) {
        return -EINVAL;
    }
    if (at.flags & VFIO_DEVICE_ATTACH_PASID) {
        if (at.argsz < sizeof(at)) {
            return -EINVAL;
        }
        r = sim_copy_from_user(host, &at.pasid, uptr + minsz,
                               sizeof(at.pasid));
        if (r) {
            return r;
        }
        pasid = at.pasid;
    }
    r = sim_iommufd_attach(df->dev, pasid, &at.pt_id);
    if (r) {
        return r;
    }
    r = sim_copy_to_user(host, uptr + offsetof(typeof(at), pt_id), &at.pt_id,
                         sizeof(at.pt_id));
    if (r) {
        sim_iommufd_detach(df->dev, pasid);
    }
    return r;
}

static int cdev_detach(SimVfioDevFile *df, uint64_t uptr)
{
    const size_t minsz = SIM_OFFSETOFEND(struct vfio_device_detach_iommufd_pt,
                                         flags);
    struct vfio_device_detach_iommufd_pt de = { 0 };
    SimHost *host = df->dev->host;
    int r = sim_copy_from_user(host, &de, uptr, minsz);

    if (r) {
        return r;
    }
    if (de.argsz < minsz || (de.flags & ~VFIO_DEVICE_DETACH_PASID)) {
        return -EINVAL;
    }
    if (de.flags & VFIO_DEVICE_DETACH_PASID) {
        if (de.argsz < sizeof(de)) {
            return -EINVAL;
        }
        r = sim_copy_from_user(host, &de.pasid, uptr + minsz,
                               sizeof(de.pasid));
        if (r) {
            return r;
        }
        return sim_iommufd_detach(df->dev, de.pasid);
    }
    return sim_iommufd_detach(df->dev, SIM_NO_PASID);
}

static int devfile_ioctl(SimFile *f, unsigned long request, void *arg)
{
    SimVfioDevFile *df = f->priv;
    uint64_t uptr = (uintptr_t)arg;

    if (request == VFIO_DEVICE_BIND_IOMMUFD) {
        return cdev_bind(df, uptr);
    }
    if (!df->access) {
        return -EINVAL;
    }
    sim_vfio_intx_poll_unmask(vfio_of(df->dev));
    if (!df->vg && request == VFIO_DEVICE_ATTACH_IOMMUFD_PT) {
        return cdev_attach(df, uptr);
    }
    if (!df->vg && request == VFIO_DEVICE_DETACH_IOMMUFD_PT) {
        return cdev_detach(df, uptr);
    }
    switch (request) {
    case VFIO_DEVICE_GET_INFO:
        return ioctl_get_info(df, uptr);
    case VFIO_DEVICE_GET_REGION_INFO:
        return ioctl_region_info(df, uptr);
    case VFIO_DEVICE_GET_IRQ_INFO:
        return ioctl_irq_info(df, uptr);
    case VFIO_DEVICE_SET_IRQS:
        return ioctl_set_irqs(df, uptr);
    case VFIO_DEVICE_RESET:
        sim_model_reset(df->dev);   /* config and MSI-X are restored */
        return 0;
    case VFIO_DEVICE_FEATURE:
        return ioctl_feature(df, uptr);
    default:
        return -ENOTTY;
    }
}

/* ---- device files ------------------------------------------------------- */

static SimVfioDevFile *devfile_new(SimDevice *dev, SimVfioGroup *vg)
{
    SimVfioDevFile *df = g_new0(SimVfioDevFile, 1);

    df->dev = dev;
    df->vg = vg;
    df->access = vg != NULL;
    vfio_of(dev)->files++;
    return df;
}

/* Open of /dev/vfio/devices/vfioX: no access before BIND_IOMMUFD. */
static int cdev_open(SimFile *f)
{
    SimDevice *dev = f->node ? f->node->priv : NULL;

    if (!dev || strcmp(vfio_of(dev)->driver, "vfio-pci")) {
        return -ENODEV;
    }
    f->priv = devfile_new(dev, NULL);
    return 0;
}

static void devfile_release(SimFile *f)
{
    SimVfioDevFile *df = f->priv;
    SimVfioDev *vd;

    if (!df) {
        return;
    }
    vd = vfio_of(df->dev);
    if (df->access) {
        device_close(vd);
        if (!df->vg) {
            sim_iommufd_unbind(df->dev);
            vd->cdev_bound = false;
        }
    }
    if (df->vg) {
        df->vg->device_fds--;
        sim_vfio_group_put(df->vg);
    }
    vd->files--;
    g_free(df);
}

const SimFileOps sim_vfio_device_fops = {
    .name = "vfio-device",
    .open = cdev_open,
    .release = devfile_release,
    .ioctl = devfile_ioctl,
    .pread = devfile_pread,
    .pwrite = devfile_pwrite,
    .mmap = devfile_mmap,
};

int sim_vfio_device_open_from_group(SimDevice *dev, SimVfioGroup *vg)
{
    SimVfioDevFile *df = devfile_new(dev, vg);
    int fd = sim_file_new_anon(dev->host, &sim_vfio_device_fops, df, true);

    if (fd < 0) {
        vfio_of(dev)->files--;
        g_free(df);
        return fd;
    }
    vg->refs++;
    vg->device_fds++;
    device_open(vfio_of(dev));
    return fd;
}

/* ---- lifecycle ---------------------------------------------------------- */

int sim_vfio_device_init(SimDevice *dev)
{
    SimVfioDev *vd = g_new0(SimVfioDev, 1);

    vd->dev = dev;
    g_strlcpy(vd->driver, "vfio-pci", sizeof(vd->driver));
    vd->cdev_index = -1;
    vd->irq_type = -1;
    vd->req_efd = -1;
    vd->intx_efd = -1;
    vd->intx_unmask_efd = -1;
    for (unsigned v = 0; v < SIM_VFIO_MAX_MSIX; v++) {
        vd->msix_efd[v] = -1;
    }
    for (unsigned v = 0; v < SIM_VFIO_MAX_MSI; v++) {
        vd->msi_efd[v] = -1;
    }
    dev->vfio = vd;
    msix_geometry(vd);
    msi_geometry(vd);
    vconfig_init(vd);
    /* a device joining a group that sits in a type1 container */
    dev->legacy_s2 = sim_vfio_group_s2(dev->group);
    return 0;
}

static const char kernel_dma_owner[] = "kernel DMA API";

void sim_vfio_device_fini(SimDevice *dev)
{
    SimVfioDev *vd = vfio_of(dev);

    if (!vd) {
        return;
    }
    if (vd->kernel_claim) {
        sim_group_unclaim(dev->group, kernel_dma_owner);
    }
    sim_vfio_irq_disable(vd);
    sim_eventfd_drop(&vd->req_efd);
    dev->legacy_s2 = NULL;
    g_free(vd);
    dev->vfio = NULL;
}

bool sim_vfio_device_busy(SimDevice *dev)
{
    SimVfioDev *vd = vfio_of(dev);

    return (vd && vd->files) || group_has_open_file(dev->group);
}

/* ---- public API --------------------------------------------------------- */

static bool driver_name_ok(const char *name)
{
    size_t n = strnlen(name, sizeof(((SimVfioDev *)0)->driver));

    if (n >= sizeof(((SimVfioDev *)0)->driver)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!g_ascii_isalnum(name[i]) && name[i] != '-' && name[i] != '_') {
            return false;
        }
    }
    return true;
}

static int set_driver(SimDevice *dev, const char *driver)
{
    SimVfioDev *vd = vfio_of(dev);
    bool kernel = driver[0] && strcmp(driver, "vfio-pci");
    char old[sizeof(vd->driver)];
    int r;

    if (!strcmp(driver, vd->driver)) {
        return 0;
    }
    if (vd->files) {
        sim_eventfd_signal(vd->req_efd);    /* "please release the device" */
        return -EBUSY;
    }
    if (kernel && !vd->kernel_claim) {
        r = sim_group_claim(dev->group, kernel_dma_owner);
        if (r) {
            return r;       /* the group's DMA belongs to a user */
        }
    } else if (!kernel && vd->kernel_claim) {
        sim_group_unclaim(dev->group, kernel_dma_owner);
    }
    vd->kernel_claim = kernel;
    g_strlcpy(old, vd->driver, sizeof(old));
    g_strlcpy(vd->driver, driver, sizeof(vd->driver));
    return sim_files_driver_changed(dev->host, dev, old);
}

int sim_device_set_driver(SimDevice *dev, const char *driver)
{
    int r;

    if (!dev || !driver || !driver_name_ok(driver)) {
        return -EINVAL;
    }
    g_mutex_lock(&dev->host->lock);
    r = set_driver(dev, driver);
    g_mutex_unlock(&dev->host->lock);
    return r;
}

int sim_device_msix_read(SimDevice *dev, unsigned vector, SimMsixVector *out)
{
    SimVfioDev *vd;
    uint64_t addr = 0, data = 0, ctrl = 0, pba = 0;
    uint64_t base;
    int r = -EINVAL;

    if (!dev || !out) {
        return -EINVAL;
    }
    g_mutex_lock(&dev->host->lock);
    vd = vfio_of(dev);
    if (vd->msix_cap && vector < vd->msix_count) {
        sim_model_msix_poll(dev);       /* unmasked through an mmap */
        base = vd->msix_table + (uint64_t)vector * MSIX_ENTRY_SIZE;
        sim_model_read(dev, vd->msix_bar, base, 8, &addr);
        sim_model_read(dev, vd->msix_bar, base + 8, 4, &data);
        sim_model_read(dev, vd->msix_bar, base + 12, 4, &ctrl);
        sim_model_read(dev, vd->pba_bar, vd->pba + vector / 64 * 8, 8, &pba);
        out->addr = addr;
        out->data = data;
        out->masked = (ctrl & MSIX_ENTRY_MASKED) ||
                      (cfg_read(dev, vd->msix_cap + 2, 2) & MSIX_CTRL_MASKALL);
        out->pending = (pba >> (vector % 64)) & 1;
        out->fired = vd->msix_fired[vector];
        r = 0;
    }
    g_mutex_unlock(&dev->host->lock);
    return r;
}
