/*
 * Private to the simulated VFIO device (sim-device.c: files, regions,
 * ioctls; sim-device-irq.c: the host's side of interrupts): the PCI
 * configuration constants both use, config-space access to the model, and
 * the interrupt entry points.
 */
#ifndef SIM_VFIO_DEV_H
#define SIM_VFIO_DEV_H

#include "sim-internal.h"

/* PCI configuration space (PCI Local Bus 3.0, 6.1, 6.7, 6.8.2) */
#define PCI_COMMAND         0x04
#define PCI_COMMAND_MEMORY  0x0002
#define PCI_COMMAND_MASTER  0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS          0x06
#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_BAR0            0x10
#define PCI_ROM             0x30
#define PCI_CAP_PTR         0x34
#define PCI_INT_PIN         0x3d
#define PCI_CAP_ID_MSI      0x05
#define PCI_CAP_ID_EXP      0x10
#define PCI_CAP_ID_MSIX     0x11
#define MSIX_CTRL_ENABLE    0x8000
#define MSIX_CTRL_MASKALL   0x4000
#define MSIX_CTRL_QSIZE     0x07ff
#define MSIX_ENTRY_SIZE     16
#define MSIX_ENTRY_MASKED   1
#define MSI_CTRL            0x02        /* offsets in the MSI capability */
#define MSI_CTRL_ENABLE     0x0001
#define MSI_CTRL_MMC        0x000e
#define MSI_CTRL_MME        0x0070
#define MSI_CTRL_64BIT      0x0080
#define MSI_CTRL_MASKBIT    0x0100
#define MSI_ADDR_LO         0x04

/*
 * The message the host programs into vector v of a device it enables:
 * the x86 interrupt window, one data value per vector, so that an arriving
 * message names its vector (a message the host did not program is lost).
 * For MSI, HOST_MSI_DATA(0) is the base data: its low 5 bits are 0, so
 * the function's multiple-message data (base | v) is HOST_MSI_DATA(v).
 */
#define HOST_MSI_ADDR       0xfee00000ull
#define HOST_MSI_DATA(v)    (0x4100u + (v))

static inline SimVfioDev *vfio_of(SimDevice *dev)
{
    return dev->vfio;
}

/* ---- config space helpers ----------------------------------------------- */

static inline uint64_t cfg_read(SimDevice *dev, unsigned off, unsigned size)
{
    uint64_t v = 0;

    sim_model_read(dev, VFIO_PCI_CONFIG_REGION_INDEX, off, size, &v);
    return v;
}

static inline void cfg_write(SimDevice *dev, unsigned off, unsigned size,
                             uint64_t val)
{
    sim_model_write(dev, VFIO_PCI_CONFIG_REGION_INDEX, off, size, val);
}

/* Offset of capability @id in the capability list, 0 if absent. */
static inline unsigned find_cap(SimDevice *dev, uint8_t id)
{
    unsigned ptr;

    if (!(cfg_read(dev, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST)) {
        return 0;
    }
    ptr = cfg_read(dev, PCI_CAP_PTR, 1) & 0xfc;
    for (unsigned hops = 0; ptr >= 0x40 && hops < 48; hops++) {
        if (cfg_read(dev, ptr, 1) == id) {
            return ptr;
        }
        ptr = cfg_read(dev, ptr + 1, 1) & 0xfc;
    }
    return 0;
}

/* ---- interrupts (sim-device-irq.c) --------------------------------------- */

void sim_eventfd_drop(int *efd);
bool sim_eventfd_signal(int efd);
int sim_vfio_intx_mask_unmask(SimVfioDev *vd, const struct vfio_irq_set *hdr,
                              const uint8_t *data);
void sim_vfio_intx_poll_unmask(SimVfioDev *vd);
void sim_vfio_intx_set_vdisable(SimVfioDev *vd, bool disable);
int sim_vfio_intx_trigger(SimVfioDev *vd, const struct vfio_irq_set *hdr,
                          const uint8_t *data);
unsigned sim_vfio_irq_count(SimVfioDev *vd, unsigned index);
void sim_vfio_irq_disable(SimVfioDev *vd);
unsigned sim_vfio_msi_data_off(const SimVfioDev *vd);
unsigned sim_vfio_msi_log2(unsigned n);
int sim_vfio_msi_trigger(SimVfioDev *vd, const struct vfio_irq_set *hdr,
                         const uint8_t *data);
int sim_vfio_req_trigger(SimVfioDev *vd, const struct vfio_irq_set *hdr,
                         const uint8_t *data);

#endif /* SIM_VFIO_DEV_H */
