/*
 * The host's side of a simulated VFIO device's interrupts (uapi_facts.md
 * §4.3; the kernel's vfio_pci_intrs.c): VFIO_DEVICE_SET_IRQS for INTx
 * (automasked, level), MSI and MSI-X (eventfds per vector, one type at a
 * time) and REQ, and the eventfds signalled when the model's messages
 * arrive or its INTx pin rises.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sim-vfio-dev.h"

/* ---- interrupts: the host's side ---------------------------------------- */

/* Our own reference to the eventfd @fd: -EBADF, -EINVAL if not an eventfd. */
static int eventfd_dup(int fd)
{
    char link[48], target[64];
    ssize_t n;
    int r;

    if (fd < 0 || fcntl(fd, F_GETFD) < 0) {
        return -EBADF;
    }
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, target, sizeof(target) - 1);
    if (n < 0) {
        return -EBADF;
    }
    target[n] = '\0';
    if (strcmp(target, "anon_inode:[eventfd]")) {
        return -EINVAL;
    }
    r = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    return r < 0 ? -errno : r;
}

void sim_eventfd_drop(int *efd)
{
    if (*efd >= 0) {
        close(*efd);
        *efd = -1;
    }
}

bool sim_eventfd_signal(int efd)
{
    uint64_t one = 1;

    return efd >= 0 && write(efd, &one, sizeof(one)) == sizeof(one);
}

static bool is_msix(const SimVfioDev *vd)
{
    return vd->irq_type == VFIO_PCI_MSIX_IRQ_INDEX;
}

/* The eventfds and vector count of the enabled type (irq_type >= 0). */
static int *vector_efds(SimVfioDev *vd)
{
    return is_msix(vd) ? vd->msix_efd : vd->msi_efd;
}

static unsigned vector_count(const SimVfioDev *vd)
{
    return is_msix(vd) ? vd->msix_count : vd->msi_nvec;
}

static void vector_signal(SimVfioDev *vd, unsigned v)
{
    if (sim_eventfd_signal(vector_efds(vd)[v]) && is_msix(vd)) {
        vd->msix_fired[v]++;
    }
}

void sim_vfio_msi_deliver(SimDevice *dev, uint64_t addr, uint32_t data)
{
    SimVfioDev *vd = vfio_of(dev);
    uint32_t v = data - HOST_MSI_DATA(0);

    if (vd && (vd->irq_type == VFIO_PCI_MSI_IRQ_INDEX || is_msix(vd)) &&
        addr == HOST_MSI_ADDR && v < vector_count(vd)) {
        vector_signal(vd, v);
    }
}

/* ---- INTx (vfio_pci_intrs.c) -------------------------------------------- */

static bool is_intx(const SimVfioDev *vd)
{
    return vd->irq_type == VFIO_PCI_INTX_IRQ_INDEX;
}

/* vfio_send_intx_eventfd: nothing while the user disabled INTx. */
static void intx_signal(SimVfioDev *vd)
{
    if (is_intx(vd) && !vd->intx_vdisable) {
        sim_eventfd_signal(vd->intx_efd);
    }
}

/* vfio_intx_handler: the pin is high and we are not masked: mask, signal. */
static void intx_fire(SimVfioDev *vd)
{
    if (is_intx(vd) && vd->intx_line && !vd->intx_masked) {
        vd->intx_masked = true;
        intx_signal(vd);
    }
}

static void intx_mask(SimVfioDev *vd)
{
    if (is_intx(vd)) {
        vd->intx_masked = true;
    }
}

/*
 * vfio_pci_intx_unmask_handler: a line still asserted fires again at once
 * (and stays masked); otherwise the next assertion fires.
 */
static void intx_unmask(SimVfioDev *vd)
{
    if (!is_intx(vd) || !vd->intx_masked || vd->intx_vdisable) {
        return;
    }
    vd->intx_masked = false;
    intx_fire(vd);
}

/*
 * The unmask eventfd (the kernel's virqfd).  The kernel reacts to a write
 * at once; the simulation has no thread of its own, so it looks when it
 * next runs for the device: any ioctl, pread or pwrite of one of its
 * device files, or the device driving its pin.
 */
void sim_vfio_intx_poll_unmask(SimVfioDev *vd)
{
    struct pollfd p = { .fd = vd->intx_unmask_efd, .events = POLLIN };
    uint64_t n;

    if (vd->intx_unmask_efd >= 0 && poll(&p, 1, 0) == 1 &&
        (p.revents & POLLIN) &&
        read(vd->intx_unmask_efd, &n, sizeof(n)) == sizeof(n)) {
        intx_unmask(vd);
    }
}

void sim_vfio_intx_line(SimDevice *dev, bool level)
{
    SimVfioDev *vd = vfio_of(dev);

    if (!vd) {
        return;
    }
    sim_vfio_intx_poll_unmask(vd);
    vd->intx_line = level;
    intx_fire(vd);
}

/* vfio_intx_disable: eventfds released, unmasked, the type free. */
static void intx_disable(SimVfioDev *vd)
{
    sim_eventfd_drop(&vd->intx_efd);
    sim_eventfd_drop(&vd->intx_unmask_efd);
    vd->intx_masked = false;
    vd->irq_type = -1;
}

/*
 * vfio_pci_set_intx_trigger: DATA_NONE with count 0 disables; an eventfd
 * enables (or replaces the one in use; -1 disables); DATA_NONE/BOOL
 * signal it (loopback).  Refused while MSI or MSI-X is enabled.
 */
int sim_vfio_intx_trigger(SimVfioDev *vd, const struct vfio_irq_set *hdr,
                          const uint8_t *data)
{
    int32_t fd;
    int efd;

    if (is_intx(vd) && !hdr->count &&
        (hdr->flags & VFIO_IRQ_SET_DATA_NONE)) {
        intx_disable(vd);
        return 0;
    }
    if ((!is_intx(vd) && vd->irq_type >= 0) || hdr->start ||
        hdr->count != 1) {
        return -EINVAL;
    }
    if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD) {
        memcpy(&fd, data, sizeof(fd));
        if (fd < 0) {
            if (is_intx(vd)) {
                intx_disable(vd);
            }
            return 0;
        }
        efd = eventfd_dup(fd);
        if (efd < 0) {
            return efd;
        }
        sim_eventfd_drop(&vd->intx_efd);
        vd->intx_efd = efd;
        if (!is_intx(vd)) {
            vd->irq_type = VFIO_PCI_INTX_IRQ_INDEX;
            vd->intx_masked = vd->intx_vdisable;
            intx_fire(vd);      /* a level already high fires now */
        }
        return 0;
    }
    if (!is_intx(vd)) {
        return -EINVAL;
    }
    if ((hdr->flags & VFIO_IRQ_SET_DATA_NONE) || data[0]) {
        intx_signal(vd);
    }
    return 0;
}

/*
 * vfio_pci_set_intx_mask/unmask: INTx enabled, start 0, count 1.  MASK
 * with an eventfd is ENOTTY (the kernel has none); UNMASK with one
 * registers it (fd < 0: drops it).
 */
int sim_vfio_intx_mask_unmask(SimVfioDev *vd, const struct vfio_irq_set *hdr,
                              const uint8_t *data)
{
    bool unmask = hdr->flags & VFIO_IRQ_SET_ACTION_UNMASK;
    int32_t fd;
    int efd;

    if (!is_intx(vd) || hdr->start || hdr->count != 1) {
        return -EINVAL;
    }
    if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD) {
        if (!unmask) {
            return -ENOTTY;
        }
        memcpy(&fd, data, sizeof(fd));
        if (fd < 0) {
            sim_eventfd_drop(&vd->intx_unmask_efd);
            return 0;
        }
        efd = eventfd_dup(fd);
        if (efd < 0) {
            return efd;
        }
        sim_eventfd_drop(&vd->intx_unmask_efd);
        vd->intx_unmask_efd = efd;
        return 0;
    }
    if ((hdr->flags & VFIO_IRQ_SET_DATA_NONE) || data[0]) {
        if (unmask) {
            intx_unmask(vd);
        } else {
            intx_mask(vd);
        }
    }
    return 0;
}

/* The user's COMMAND.INTX_DISABLE changed: mask or unmask (virq_disabled). */
void sim_vfio_intx_set_vdisable(SimVfioDev *vd, bool disable)
{
    if (disable == vd->intx_vdisable) {
        return;
    }
    if (disable) {
        intx_mask(vd);
        vd->intx_vdisable = true;
    } else {
        vd->intx_vdisable = false;
        intx_unmask(vd);
    }
}

static void msix_entry_write(SimVfioDev *vd, unsigned v, unsigned field,
                             unsigned size, uint64_t val)
{
    sim_model_write(vd->dev, vd->msix_bar,
                    vd->msix_table + v * MSIX_ENTRY_SIZE + field, size, val);
}

static void msix_mask_all(SimVfioDev *vd)
{
    for (unsigned v = 0; v < vd->msix_count; v++) {
        msix_entry_write(vd, v, 12, 4, MSIX_ENTRY_MASKED);
    }
}

/* MSI registers after the address move with its size (6.8.1). */
unsigned sim_vfio_msi_data_off(const SimVfioDev *vd)
{
    return vd->msi_cap + (vd->msi_64 ? 0x0c : 0x08);
}

static unsigned msi_mask_off(const SimVfioDev *vd)
{
    return vd->msi_cap + (vd->msi_64 ? 0x10 : 0x0c);
}

static bool msi_maskable(SimVfioDev *vd)
{
    return cfg_read(vd->dev, vd->msi_cap + MSI_CTRL, 2) & MSI_CTRL_MASKBIT;
}

/* Set or clear the device's mask bits @bits (unmasking sends pending). */
static void msi_mask(SimVfioDev *vd, uint32_t bits, bool masked)
{
    uint32_t cur;

    if (!msi_maskable(vd)) {
        return;
    }
    cur = cfg_read(vd->dev, msi_mask_off(vd), 4);
    cfg_write(vd->dev, msi_mask_off(vd), 4, masked ? cur | bits : cur & ~bits);
}

/* log2 of the power of two that holds @n vectors (Multiple Message). */
unsigned sim_vfio_msi_log2(unsigned n)
{
    unsigned l = 0;

    while ((1u << l) < n) {
        l++;
    }
    return l;
}

static void vector_mask(SimVfioDev *vd, unsigned v, bool masked)
{
    if (is_msix(vd)) {
        msix_entry_write(vd, v, 12, 4, masked ? MSIX_ENTRY_MASKED : 0);
    } else {
        msi_mask(vd, 1u << v, masked);
    }
}

/* Bind vector @v to eventfd @fd (< 0: release it and mask the vector). */
static int vector_set(SimVfioDev *vd, unsigned v, int fd)
{
    int *efds = vector_efds(vd);
    int efd;

    if (v >= vector_count(vd)) {
        return -EINVAL;
    }
    if (fd < 0) {
        vector_mask(vd, v, true);
        sim_eventfd_drop(&efds[v]);
        return 0;
    }
    efd = eventfd_dup(fd);
    if (efd < 0) {
        return efd;
    }
    sim_eventfd_drop(&efds[v]);
    efds[v] = efd;
    if (is_msix(vd)) {
        msix_entry_write(vd, v, 0, 8, HOST_MSI_ADDR);
        msix_entry_write(vd, v, 8, 4, HOST_MSI_DATA(v));
    }
    vector_mask(vd, v, false);      /* unmask: pending ones fire */
    return 0;
}

static void msix_enable(SimVfioDev *vd)
{
    msix_mask_all(vd);
    cfg_write(vd->dev, vd->msix_cap + 2, 2, MSIX_CTRL_ENABLE);
    vd->irq_type = VFIO_PCI_MSIX_IRQ_INDEX;
}

/*
 * MSI with @nvec vectors (the kernel's pci_alloc_irq_vectors): the host's
 * message in the capability, every vector masked until it is bound, and
 * Multiple Message Enable rounded up to a power of two.
 */
static void msi_enable(SimVfioDev *vd, unsigned nvec)
{
    SimDevice *dev = vd->dev;
    unsigned cap = vd->msi_cap;
    uint16_t ctrl = cfg_read(dev, cap + MSI_CTRL, 2);

    vd->irq_type = VFIO_PCI_MSI_IRQ_INDEX;
    vd->msi_nvec = nvec;
    msi_mask(vd, vd->msi_count < 32 ? (1u << vd->msi_count) - 1 : ~0u, true);
    cfg_write(dev, cap + MSI_ADDR_LO, 4, (uint32_t)HOST_MSI_ADDR);
    if (vd->msi_64) {
        cfg_write(dev, cap + MSI_ADDR_LO + 4, 4, HOST_MSI_ADDR >> 32);
    }
    cfg_write(dev, sim_vfio_msi_data_off(vd), 2, HOST_MSI_DATA(0));
    ctrl &= ~MSI_CTRL_MME;
    cfg_write(dev, cap + MSI_CTRL, 2,
              ctrl | MSI_CTRL_ENABLE | sim_vfio_msi_log2(nvec) << 4);
}

/* The enabled type off on the device, its eventfds dropped. */
void sim_vfio_irq_disable(SimVfioDev *vd)
{
    unsigned n;

    if (vd->irq_type < 0) {
        return;
    }
    if (is_intx(vd)) {
        intx_disable(vd);
        return;
    }
    n = vector_count(vd);
    for (unsigned v = 0; v < n; v++) {
        vector_mask(vd, v, true);
        sim_eventfd_drop(&vector_efds(vd)[v]);
    }
    if (is_msix(vd)) {
        cfg_write(vd->dev, vd->msix_cap + 2, 2, 0);
    } else {
        cfg_write(vd->dev, vd->msi_cap + MSI_CTRL, 2,
                  cfg_read(vd->dev, vd->msi_cap + MSI_CTRL, 2) &
                  ~(MSI_CTRL_ENABLE | MSI_CTRL_MME));
        vd->msi_nvec = 0;
        vd->vmsi_ctrl &= ~MSI_CTRL_ENABLE;
    }
    vd->irq_type = -1;
}

/* A block of eventfds; on failure the vectors set so far are released. */
static int vector_set_block(SimVfioDev *vd, unsigned start, unsigned count,
                            const int32_t *fds)
{
    for (unsigned i = 0; i < count; i++) {
        int r = vector_set(vd, start + i, fds[i]);

        if (r) {
            while (i--) {
                vector_set(vd, start + i, -1);
            }
            return r;
        }
    }
    return 0;
}

/*
 * MSI and MSI-X ACTION_TRIGGER (vfio_pci_set_msi_trigger): DATA_NONE with
 * count 0 disables; DATA_EVENTFD enables (start + count vectors) and
 * binds; DATA_NONE/BOOL signal bound vectors.  Only one interrupt type at
 * a time: the other one enabled is EINVAL.
 */
int sim_vfio_msi_trigger(SimVfioDev *vd, const struct vfio_irq_set *hdr,
                         const uint8_t *data)
{
    bool on = vd->irq_type == (int)hdr->index;
    int32_t fds[MAX(SIM_VFIO_MAX_MSIX, SIM_VFIO_MAX_MSI)];
    int r;

    if (on && !hdr->count && (hdr->flags & VFIO_IRQ_SET_DATA_NONE)) {
        sim_vfio_irq_disable(vd);
        return 0;
    }
    if (!on && vd->irq_type >= 0) {
        return -EINVAL;
    }
    if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD) {
        if (!on && !hdr->count) {
            return -EINVAL;         /* enabling zero vectors */
        }
        memcpy(fds, data, hdr->count * sizeof(int32_t));
        if (!on && hdr->index == VFIO_PCI_MSIX_IRQ_INDEX) {
            msix_enable(vd);
        } else if (!on) {
            msi_enable(vd, hdr->start + hdr->count);
        }
        r = vector_set_block(vd, hdr->start, hdr->count, fds);
        if (r && !on) {
            sim_vfio_irq_disable(vd);
        }
        return r;
    }
    if (!on) {
        return -EINVAL;
    }
    /* DATA_NONE / DATA_BOOL: loopback signalling of assigned vectors */
    for (unsigned i = 0; i < hdr->count; i++) {
        if (hdr->start + i < vector_count(vd) &&
            ((hdr->flags & VFIO_IRQ_SET_DATA_NONE) || data[i])) {
            vector_signal(vd, hdr->start + i);
        }
    }
    return 0;
}

/* The single REQ eventfd (vfio_pci_set_ctx_trigger_single rules). */
int sim_vfio_req_trigger(SimVfioDev *vd, const struct vfio_irq_set *hdr,
                         const uint8_t *data)
{
    int32_t fd;
    int efd;

    if (hdr->start || hdr->count > 1) {
        return -EINVAL;
    }
    if (hdr->flags & VFIO_IRQ_SET_DATA_NONE) {
        if (vd->req_efd < 0) {
            return -EINVAL;
        }
        if (hdr->count) {
            sim_eventfd_signal(vd->req_efd);
        } else {
            sim_eventfd_drop(&vd->req_efd);
        }
        return 0;
    }
    if (!hdr->count) {
        return -EINVAL;
    }
    if (hdr->flags & VFIO_IRQ_SET_DATA_BOOL) {
        if (data[0]) {
            sim_eventfd_signal(vd->req_efd);
        }
        return 0;
    }
    memcpy(&fd, data, sizeof(fd));
    if (fd == -1) {
        sim_eventfd_drop(&vd->req_efd);
    } else if (fd >= 0) {
        efd = eventfd_dup(fd);
        if (efd < 0) {
            return efd;
        }
        sim_eventfd_drop(&vd->req_efd);
        vd->req_efd = efd;
    }
    return 0;
}

unsigned sim_vfio_irq_count(SimVfioDev *vd, unsigned index)
{
    SimDevice *dev = vd->dev;

    switch (index) {
    case VFIO_PCI_INTX_IRQ_INDEX:
        return cfg_read(dev, PCI_INT_PIN, 1) ? 1 : 0;
    case VFIO_PCI_MSI_IRQ_INDEX:
        return vd->msi_cap ? vd->msi_count : 0;
    case VFIO_PCI_MSIX_IRQ_INDEX:
        return vd->msix_cap ? vd->msix_count : 0;
    case VFIO_PCI_ERR_IRQ_INDEX:
        return find_cap(dev, PCI_CAP_ID_EXP) ? 1 : 0;
    case VFIO_PCI_REQ_IRQ_INDEX:
        return 1;
    default:
        return 0;
    }
}
