/*
 * MSI capability (PCI Local Bus 3.0, 6.8.1).
 *
 * A message is a DMA write of the 16-bit message data to the message
 * address through the device's bus-master address space, with the
 * device's requester id: with no vIOMMU it reaches the APIC MSI window;
 * a vIOMMU's interrupt-remapping window can intercept it.  It therefore
 * needs COMMAND.BME, as on hardware.
 */
#ifndef HW_PCI_MSI_H
#define HW_PCI_MSI_H

#include "hw/pci/pci.h"

/* Capability layout, offsets from the capability */
#define PCI_MSI_FLAGS           0x02
#define  PCI_MSI_FLAGS_ENABLE   0x0001
#define  PCI_MSI_FLAGS_QMASK    0x000e  /* Multiple Message Capable */
#define  PCI_MSI_FLAGS_QSIZE    0x0070  /* Multiple Message Enable */
#define  PCI_MSI_FLAGS_64BIT    0x0080
#define  PCI_MSI_FLAGS_MASKBIT  0x0100  /* per-vector masking */
#define PCI_MSI_ADDRESS_LO      0x04
#define PCI_MSI_ADDRESS_HI      0x08    /* 64-bit only */
#define PCI_MSI_DATA_32         0x08
#define PCI_MSI_DATA_64         0x0c
#define PCI_MSI_MASK_32         0x0c
#define PCI_MSI_MASK_64         0x10
#define PCI_MSI_PENDING_32      0x10
#define PCI_MSI_PENDING_64      0x14

#define PCI_MSI_VECTORS_MAX     32

typedef struct MSIMessage {
    uint64_t address;
    uint32_t data;
} MSIMessage;

/*
 * Adds an MSI capability at offset (0: first free) for nr_vectors (a power
 * of two, 1..32) vectors.  false with errp if it does not fit.
 */
bool msi_init(PCIDevice *dev, uint8_t offset, unsigned int nr_vectors,
              bool msi64bit, bool msi_per_vector_mask, Error **errp);
void msi_uninit(PCIDevice *dev);
bool msi_present(const PCIDevice *dev);
bool msi_enabled(const PCIDevice *dev);
/* The number of vectors the guest enabled (1 << MME). */
unsigned int msi_nr_vectors_allocated(const PCIDevice *dev);
MSIMessage msi_get_message(PCIDevice *dev, unsigned int vector);
/* Sends vector, or sets its pending bit while it is masked. */
void msi_notify(PCIDevice *dev, unsigned int vector);
/* Writes msg through the device's bus-master address space. */
void msi_send_message(PCIDevice *dev, MSIMessage msg);
/* Called by pci_default_write_config for every config write. */
void msi_write_config(PCIDevice *dev, uint32_t addr, uint32_t val, int len);

#endif
