/*
 * MSI-X capability (PCI Local Bus 3.0, 6.8.2).
 *
 * The vector table (16 bytes per entry: address lo/hi, data, vector
 * control) and the pending bit array live in BARs.  A vector is masked by
 * its vector-control bit or by the function mask; msix_notify() on a
 * masked vector sets its pending bit instead, and unmasking delivers it.
 * At reset every vector is masked and nothing is pending.
 */
#ifndef HW_PCI_MSIX_H
#define HW_PCI_MSIX_H

#include "hw/pci/msi.h"

/* Capability layout */
#define PCI_MSIX_FLAGS          0x02
#define  PCI_MSIX_FLAGS_QSIZE   0x07ff  /* table size - 1 */
#define  PCI_MSIX_FLAGS_MASKALL 0x4000
#define  PCI_MSIX_FLAGS_ENABLE  0x8000
#define PCI_MSIX_TABLE          0x04    /* offset | BIR */
#define PCI_MSIX_PBA            0x08
#define  PCI_MSIX_FLAGS_BIRMASK 0x7
#define PCI_MSIX_CAP_SIZE       12

/* Table entry */
#define PCI_MSIX_ENTRY_SIZE         16
#define PCI_MSIX_ENTRY_LOWER_ADDR   0x0
#define PCI_MSIX_ENTRY_UPPER_ADDR   0x4
#define PCI_MSIX_ENTRY_DATA         0x8
#define PCI_MSIX_ENTRY_VECTOR_CTRL  0xc
#define  PCI_MSIX_ENTRY_CTRL_MASKBIT 0x1

#define PCI_MSIX_VECTORS_MAX    2048

/*
 * Adds an MSI-X capability at cap_pos (0: first free) for nentries
 * vectors, with the table at table_offset in table_bar (BAR table_bar_nr)
 * and the PBA at pba_offset in pba_bar.  The table and PBA regions become
 * subregions of those BAR regions; the caller registers the BARs.
 */
bool msix_init(PCIDevice *dev, unsigned short nentries,
               MemoryRegion *table_bar, uint8_t table_bar_nr,
               unsigned table_offset, MemoryRegion *pba_bar,
               uint8_t pba_bar_nr, unsigned pba_offset, uint8_t cap_pos,
               Error **errp);
/* Table and PBA alone in BAR bar_nr (4 KiB or more, 32-bit memory). */
bool msix_init_exclusive_bar(PCIDevice *dev, unsigned short nentries,
                             uint8_t bar_nr, Error **errp);
void msix_uninit(PCIDevice *dev);
bool msix_present(const PCIDevice *dev);
bool msix_enabled(const PCIDevice *dev);
bool msix_is_masked(PCIDevice *dev, unsigned int vector);
bool msix_is_pending(PCIDevice *dev, unsigned int vector);
MSIMessage msix_get_message(PCIDevice *dev, unsigned int vector);
void msix_notify(PCIDevice *dev, unsigned int vector);
/* Masks every vector and clears the PBA (device reset). */
void msix_reset(PCIDevice *dev);
/* Called by pci_default_write_config for every config write. */
void msix_write_config(PCIDevice *dev, uint32_t addr, uint32_t val, int len);

#endif
