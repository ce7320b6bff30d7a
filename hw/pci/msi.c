/*
 * MSI (PCI Local Bus 3.0, 6.8.1): capability registers, masking and
 * delivery as a DMA write through the device's bus-master address space.
 */
#include <assert.h>

#include "hw/pci/msi.h"

static uint16_t msi_flags(const PCIDevice *dev)
{
    return pci_get_word(dev->config + dev->msi_cap + PCI_MSI_FLAGS);
}

static bool msi_is_64(const PCIDevice *dev)
{
    return msi_flags(dev) & PCI_MSI_FLAGS_64BIT;
}

static unsigned msi_data_off(const PCIDevice *dev)
{
    return dev->msi_cap + (msi_is_64(dev) ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32);
}

static unsigned msi_mask_off(const PCIDevice *dev)
{
    return dev->msi_cap + (msi_is_64(dev) ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
}

static unsigned msi_pending_off(const PCIDevice *dev)
{
    return dev->msi_cap + (msi_is_64(dev) ? PCI_MSI_PENDING_64 :
                                            PCI_MSI_PENDING_32);
}

static unsigned msi_cap_size(uint16_t flags)
{
    bool is64 = flags & PCI_MSI_FLAGS_64BIT;

    if (flags & PCI_MSI_FLAGS_MASKBIT) {
        return is64 ? 0x18 : 0x14;
    }
    return is64 ? 0x0e : 0x0a;
}

/* Vectors the device can raise (Multiple Message Capable). */
static unsigned msi_nr_vectors_capable(const PCIDevice *dev)
{
    return 1u << ((msi_flags(dev) & PCI_MSI_FLAGS_QMASK) >> 1);
}

bool msi_init(PCIDevice *dev, uint8_t offset, unsigned int nr_vectors,
              bool msi64bit, bool msi_per_vector_mask, Error **errp)
{
    uint16_t flags;
    int cap;

    assert(nr_vectors >= 1 && nr_vectors <= PCI_MSI_VECTORS_MAX &&
           !(nr_vectors & (nr_vectors - 1)));
    flags = __builtin_ctz(nr_vectors) << 1;    /* Multiple Message Capable */
    if (msi64bit) {
        flags |= PCI_MSI_FLAGS_64BIT;
    }
    if (msi_per_vector_mask) {
        flags |= PCI_MSI_FLAGS_MASKBIT;
    }
    cap = pci_add_capability(dev, PCI_CAP_ID_MSI, offset, msi_cap_size(flags),
                             errp);
    if (cap < 0) {
        return false;
    }
    dev->msi_cap = cap;
    pci_set_word(dev->config + cap + PCI_MSI_FLAGS, flags);
    pci_set_word(dev->wmask + cap + PCI_MSI_FLAGS,
                 PCI_MSI_FLAGS_QSIZE | PCI_MSI_FLAGS_ENABLE);
    pci_set_long(dev->wmask + cap + PCI_MSI_ADDRESS_LO, 0xfffffffc);
    if (msi64bit) {
        pci_set_long(dev->wmask + cap + PCI_MSI_ADDRESS_HI, 0xffffffff);
    }
    pci_set_word(dev->wmask + msi_data_off(dev), 0xffff);
    if (msi_per_vector_mask) {
        pci_set_long(dev->wmask + msi_mask_off(dev),
                     0xffffffffu >> (PCI_MSI_VECTORS_MAX - nr_vectors));
    }
    return true;
}

void msi_uninit(PCIDevice *dev)
{
    /* The capability stays in config space until the device goes. */
    dev->msi_cap = 0;
}

bool msi_present(const PCIDevice *dev)
{
    return dev->msi_cap != 0;
}

bool msi_enabled(const PCIDevice *dev)
{
    return msi_present(dev) && (msi_flags(dev) & PCI_MSI_FLAGS_ENABLE);
}

unsigned int msi_nr_vectors_allocated(const PCIDevice *dev)
{
    return 1u << ((msi_flags(dev) & PCI_MSI_FLAGS_QSIZE) >> 4);
}

MSIMessage msi_get_message(PCIDevice *dev, unsigned int vector)
{
    unsigned nr = msi_nr_vectors_allocated(dev);
    MSIMessage msg;

    msg.address = pci_get_long(dev->config + dev->msi_cap +
                               PCI_MSI_ADDRESS_LO);
    if (msi_is_64(dev)) {
        msg.address |= (uint64_t)pci_get_long(dev->config + dev->msi_cap +
                                              PCI_MSI_ADDRESS_HI) << 32;
    }
    /* Multiple Message Enable: the low log2(nr) data bits carry the vector. */
    msg.data = pci_get_word(dev->config + msi_data_off(dev));
    msg.data = (msg.data & ~(nr - 1)) | (vector & (nr - 1));
    return msg;
}

static bool msi_is_masked(const PCIDevice *dev, unsigned int vector)
{
    if (!(msi_flags(dev) & PCI_MSI_FLAGS_MASKBIT)) {
        return false;
    }
    return pci_get_long(dev->config + msi_mask_off(dev)) & (1u << vector);
}

static void msi_set_pending(PCIDevice *dev, unsigned int vector, bool set)
{
    uint32_t pending = pci_get_long(dev->config + msi_pending_off(dev));

    pending = set ? pending | (1u << vector) : pending & ~(1u << vector);
    pci_set_long(dev->config + msi_pending_off(dev), pending);
}

void msi_send_message(PCIDevice *dev, MSIMessage msg)
{
    MemTxAttrs attrs = { .requester_id = pci_requester_id(dev) };

    address_space_stl_le(pci_get_address_space(dev), msg.address, msg.data,
                         attrs, NULL);
}

void msi_notify(PCIDevice *dev, unsigned int vector)
{
    if (!msi_enabled(dev) || vector >= msi_nr_vectors_capable(dev)) {
        return;
    }
    if (msi_is_masked(dev, vector)) {
        msi_set_pending(dev, vector, true);
        return;
    }
    msi_send_message(dev, msi_get_message(dev, vector));
}

void msi_write_config(PCIDevice *dev, uint32_t addr, uint32_t val, int len)
{
    unsigned cap = dev->msi_cap;
    uint16_t flags;
    unsigned mmc, mme, nr;

    if (!cap || !pci_ranges_overlap(addr, len, cap,
                                    msi_cap_size(msi_flags(dev)))) {
        return;
    }
    flags = msi_flags(dev);
    /* A guest may ask for more vectors than offered: grant what exists. */
    mmc = (flags & PCI_MSI_FLAGS_QMASK) >> 1;
    mme = (flags & PCI_MSI_FLAGS_QSIZE) >> 4;
    if (mme > mmc) {
        flags = (flags & ~PCI_MSI_FLAGS_QSIZE) | (mmc << 4);
        pci_set_word(dev->config + cap + PCI_MSI_FLAGS, flags);
    }
    if (!(flags & PCI_MSI_FLAGS_ENABLE)) {
        return;
    }
    /* With MSI on, the function must not use INTx (6.8.1.3). */
    pci_device_deassert_intx(dev);
    if (!(flags & PCI_MSI_FLAGS_MASKBIT)) {
        return;
    }
    nr = msi_nr_vectors_allocated(dev);
    for (unsigned v = 0; v < nr; v++) {
        uint32_t pending = pci_get_long(dev->config + msi_pending_off(dev));

        if ((pending & (1u << v)) && !msi_is_masked(dev, v)) {
            msi_set_pending(dev, v, false);
            msi_send_message(dev, msi_get_message(dev, v));
        }
    }
}
