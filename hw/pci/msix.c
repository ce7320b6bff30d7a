/*
 * MSI-X (PCI Local Bus 3.0, 6.8.2): the vector table and pending bit
 * array as MMIO, function and per-vector masking, delivery as a DMA write
 * through the device's bus-master address space.
 */
#include <assert.h>

#include "hw/pci/msix.h"

static uint16_t msix_flags(const PCIDevice *dev)
{
    return pci_get_word(dev->config + dev->msix_cap + PCI_MSIX_FLAGS);
}

static uint8_t *msix_entry(PCIDevice *dev, unsigned int vector)
{
    return dev->msix_table + vector * PCI_MSIX_ENTRY_SIZE;
}

bool msix_present(const PCIDevice *dev)
{
    return dev->msix_cap != 0;
}

bool msix_enabled(const PCIDevice *dev)
{
    return msix_present(dev) && (msix_flags(dev) & PCI_MSIX_FLAGS_ENABLE);
}

bool msix_is_masked(PCIDevice *dev, unsigned int vector)
{
    return dev->msix_function_masked ||
           (pci_get_long(msix_entry(dev, vector) +
                         PCI_MSIX_ENTRY_VECTOR_CTRL) &
            PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

bool msix_is_pending(PCIDevice *dev, unsigned int vector)
{
    return dev->msix_pba[vector / 8] & (1u << (vector % 8));
}

static void msix_set_pending(PCIDevice *dev, unsigned int vector, bool set)
{
    uint8_t bit = 1u << (vector % 8);

    if (set) {
        dev->msix_pba[vector / 8] |= bit;
    } else {
        dev->msix_pba[vector / 8] &= ~bit;
    }
}

MSIMessage msix_get_message(PCIDevice *dev, unsigned int vector)
{
    uint8_t *e = msix_entry(dev, vector);
    MSIMessage msg = {
        .address = pci_get_quad(e + PCI_MSIX_ENTRY_LOWER_ADDR),
        .data = pci_get_long(e + PCI_MSIX_ENTRY_DATA),
    };

    return msg;
}

void msix_notify(PCIDevice *dev, unsigned int vector)
{
    if (!msix_enabled(dev) || vector >= dev->msix_entries_nr) {
        return;
    }
    if (msix_is_masked(dev, vector)) {
        msix_set_pending(dev, vector, true);
        return;
    }
    msi_send_message(dev, msix_get_message(dev, vector));
}

/* A vector that becomes unmasked with its pending bit set fires now. */
static void msix_handle_mask_update(PCIDevice *dev, unsigned int vector,
                                    bool was_masked)
{
    if (was_masked && !msix_is_masked(dev, vector) &&
        msix_is_pending(dev, vector)) {
        msix_set_pending(dev, vector, false);
        msi_send_message(dev, msix_get_message(dev, vector));
    }
}

static void msix_update_function_masked(PCIDevice *dev)
{
    uint16_t flags = msix_flags(dev);

    dev->msix_function_masked = !(flags & PCI_MSIX_FLAGS_ENABLE) ||
                                (flags & PCI_MSIX_FLAGS_MASKALL);
}

void msix_write_config(PCIDevice *dev, uint32_t addr, uint32_t val, int len)
{
    unsigned flags_off = dev->msix_cap + PCI_MSIX_FLAGS;
    bool was_masked;

    if (!dev->msix_cap || !pci_ranges_overlap(addr, len, flags_off, 2)) {
        return;
    }
    was_masked = dev->msix_function_masked;
    msix_update_function_masked(dev);
    if (!msix_enabled(dev)) {
        return;
    }
    /* With MSI-X on, the function must not use INTx (6.8.2). */
    pci_device_deassert_intx(dev);
    if (was_masked && !dev->msix_function_masked) {
        for (unsigned v = 0; v < dev->msix_entries_nr; v++) {
            msix_handle_mask_update(dev, v, true);
        }
    }
}

static uint64_t msix_table_read(void *opaque, hwaddr addr, unsigned size)
{
    PCIDevice *dev = opaque;

    return pci_get_long(dev->msix_table + addr);
}

static void msix_table_write(void *opaque, hwaddr addr, uint64_t val,
                             unsigned size)
{
    PCIDevice *dev = opaque;
    unsigned vector = addr / PCI_MSIX_ENTRY_SIZE;
    bool was_masked = msix_is_masked(dev, vector);

    if (addr % PCI_MSIX_ENTRY_SIZE == PCI_MSIX_ENTRY_VECTOR_CTRL) {
        val &= PCI_MSIX_ENTRY_CTRL_MASKBIT;    /* bits 31:1 reserved */
    }
    pci_set_long(dev->msix_table + addr, val);
    msix_handle_mask_update(dev, vector, was_masked);
}

static const MemoryRegionOps msix_table_mmio_ops = {
    .read = msix_table_read,
    .write = msix_table_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 4, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static uint64_t msix_pba_read(void *opaque, hwaddr addr, unsigned size)
{
    PCIDevice *dev = opaque;

    return pci_get_long(dev->msix_pba + addr);
}

static void msix_pba_write(void *opaque, hwaddr addr, uint64_t val,
                           unsigned size)
{
    /* The PBA is read-only. */
}

static const MemoryRegionOps msix_pba_mmio_ops = {
    .read = msix_pba_read,
    .write = msix_pba_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 4, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static unsigned msix_pba_size(unsigned nentries)
{
    return (nentries + 63) / 64 * 8;
}

static void msix_mask_all(PCIDevice *dev)
{
    for (unsigned v = 0; v < dev->msix_entries_nr; v++) {
        pci_set_long(msix_entry(dev, v) + PCI_MSIX_ENTRY_VECTOR_CTRL,
                     PCI_MSIX_ENTRY_CTRL_MASKBIT);
    }
}

bool msix_init(PCIDevice *dev, unsigned short nentries,
               MemoryRegion *table_bar, uint8_t table_bar_nr,
               unsigned table_offset, MemoryRegion *pba_bar,
               uint8_t pba_bar_nr, unsigned pba_offset, uint8_t cap_pos,
               Error **errp)
{
    const char *name = object_get_typename(OBJECT(dev));
    unsigned table_size = nentries * PCI_MSIX_ENTRY_SIZE;
    unsigned pba_size = msix_pba_size(nentries);
    int cap;

    assert(table_bar_nr < PCI_NUM_REGIONS && pba_bar_nr < PCI_NUM_REGIONS);
    if (nentries < 1 || nentries > PCI_MSIX_VECTORS_MAX) {
        error_setg(errp, "%s: MSI-X: %u vectors, must be 1-%d", name,
                   nentries, PCI_MSIX_VECTORS_MAX);
        return false;
    }
    if ((table_offset | pba_offset) & PCI_MSIX_FLAGS_BIRMASK ||
        (uint64_t)table_offset + table_size > memory_region_size(table_bar) ||
        (uint64_t)pba_offset + pba_size > memory_region_size(pba_bar) ||
        (table_bar_nr == pba_bar_nr &&
         table_offset < pba_offset + pba_size &&
         pba_offset < table_offset + table_size)) {
        error_setg(errp, "%s: MSI-X: table or PBA misplaced in its BAR",
                   name);
        return false;
    }
    cap = pci_add_capability(dev, PCI_CAP_ID_MSIX, cap_pos, PCI_MSIX_CAP_SIZE,
                             errp);
    if (cap < 0) {
        return false;
    }
    dev->msix_cap = cap;
    dev->msix_entries_nr = nentries;
    dev->msix_function_masked = true;
    pci_set_word(dev->config + cap + PCI_MSIX_FLAGS, nentries - 1);
    pci_set_long(dev->config + cap + PCI_MSIX_TABLE,
                 table_offset | table_bar_nr);
    pci_set_long(dev->config + cap + PCI_MSIX_PBA, pba_offset | pba_bar_nr);
    pci_set_word(dev->wmask + cap + PCI_MSIX_FLAGS,
                 PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);

    dev->msix_table = g_malloc0(table_size);
    dev->msix_pba = g_malloc0(pba_size);
    msix_mask_all(dev);
    memory_region_init_io(&dev->msix_table_mmio, OBJECT(dev),
                          &msix_table_mmio_ops, dev, "msix-table", table_size);
    memory_region_add_subregion(table_bar, table_offset,
                                &dev->msix_table_mmio);
    memory_region_init_io(&dev->msix_pba_mmio, OBJECT(dev),
                          &msix_pba_mmio_ops, dev, "msix-pba", pba_size);
    memory_region_add_subregion(pba_bar, pba_offset, &dev->msix_pba_mmio);
    dev->msix_table_bar = table_bar;
    dev->msix_pba_bar = pba_bar;
    return true;
}

bool msix_init_exclusive_bar(PCIDevice *dev, unsigned short nentries,
                             uint8_t bar_nr, Error **errp)
{
    uint64_t need = MAX(nentries * PCI_MSIX_ENTRY_SIZE,
                        msix_pba_size(nentries));
    uint64_t bar_size = 4096;

    /* Table in the lower half, PBA in the upper half. */
    while (bar_size < 2 * need) {
        bar_size <<= 1;
    }
    memory_region_init(&dev->msix_exclusive_bar, OBJECT(dev), "msix-bar",
                       bar_size);
    if (!msix_init(dev, nentries, &dev->msix_exclusive_bar, bar_nr, 0,
                   &dev->msix_exclusive_bar, bar_nr, bar_size / 2, 0, errp)) {
        memory_region_finalize(&dev->msix_exclusive_bar);
        return false;
    }
    pci_register_bar(dev, bar_nr, PCI_BASE_ADDRESS_SPACE_MEMORY,
                     &dev->msix_exclusive_bar);
    dev->msix_exclusive = true;
    return true;
}

void msix_uninit(PCIDevice *dev)
{
    if (!dev->msix_cap) {
        return;
    }
    memory_region_finalize(&dev->msix_table_mmio);
    memory_region_finalize(&dev->msix_pba_mmio);
    g_free(dev->msix_table);
    g_free(dev->msix_pba);
    dev->msix_table = dev->msix_pba = NULL;
    if (dev->msix_exclusive) {
        memory_region_finalize(&dev->msix_exclusive_bar);
        dev->msix_exclusive = false;
    }
    dev->msix_cap = 0;
    dev->msix_entries_nr = 0;
}

void msix_reset(PCIDevice *dev)
{
    if (!dev->msix_cap) {
        return;
    }
    memset(dev->msix_table, 0, dev->msix_entries_nr * PCI_MSIX_ENTRY_SIZE);
    memset(dev->msix_pba, 0, msix_pba_size(dev->msix_entries_nr));
    msix_mask_all(dev);
    msix_update_function_masked(dev);
}
