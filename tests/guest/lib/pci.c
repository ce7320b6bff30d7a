/*
 * PCI configuration access through CF8/CFC (control_boot_facts F.5), device
 * lookup, BARs (as assigned at reset, F.7), capabilities, MSI and MSI-X.
 */
#include "guest.h"

#define PCI_CONFIG_ADDR 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define PCI_HEADER_BRIDGE 0x01
#define PCI_HEADER_MULTI 0x80

#define MSIX_CTRL 2
#define MSIX_TABLE 4
#define MSIX_CTRL_ENABLE BIT(15)
#define MSIX_CTRL_MASKALL BIT(14)
#define MSIX_ENTRY_SIZE 16
#define MSI_CTRL 2
#define MSI_CTRL_ENABLE BIT(0)
#define MSI_CTRL_64BIT BIT(7)
#define MSI_CTRL_MASKBIT BIT(8)

static void cf8(uint16_t bdf, uint16_t off)
{
    outl(PCI_CONFIG_ADDR, 0x80000000u | ((uint32_t)bdf << 8) | (off & 0xfc));
}

uint8_t pci_cfg_read8(uint16_t bdf, uint16_t off)
{
    cf8(bdf, off);
    return inb(PCI_CONFIG_DATA + (off & 3));
}

uint16_t pci_cfg_read16(uint16_t bdf, uint16_t off)
{
    cf8(bdf, off);
    return inw(PCI_CONFIG_DATA + (off & 2));
}

uint32_t pci_cfg_read32(uint16_t bdf, uint16_t off)
{
    cf8(bdf, off);
    return inl(PCI_CONFIG_DATA);
}

void pci_cfg_write8(uint16_t bdf, uint16_t off, uint8_t v)
{
    cf8(bdf, off);
    outb(PCI_CONFIG_DATA + (off & 3), v);
}

void pci_cfg_write16(uint16_t bdf, uint16_t off, uint16_t v)
{
    cf8(bdf, off);
    outw(PCI_CONFIG_DATA + (off & 2), v);
}

void pci_cfg_write32(uint16_t bdf, uint16_t off, uint32_t v)
{
    cf8(bdf, off);
    outl(PCI_CONFIG_DATA, v);
}

/* Depth-first over bus @bus and the buses behind its bridges. */
static int find_on_bus(unsigned int bus, uint16_t vendor, uint16_t device,
                       unsigned int *index, unsigned int depth)
{
    if (depth > 32) {
        return -1;
    }
    for (unsigned int dev = 0; dev < 32; dev++) {
        for (unsigned int fn = 0; fn < 8; fn++) {
            uint16_t bdf = PCI_BDF(bus, dev, fn);
            uint32_t id = pci_cfg_read32(bdf, PCI_VENDOR_ID);
            uint8_t hdr;
            int r;

            if ((id & 0xffff) == 0xffff) {
                if (fn == 0) {
                    break;
                }
                continue;
            }
            hdr = pci_cfg_read8(bdf, PCI_HEADER_TYPE);
            if ((id & 0xffff) == vendor && (id >> 16) == device &&
                (*index)-- == 0) {
                return bdf;
            }
            if ((hdr & 0x7f) == PCI_HEADER_BRIDGE) {
                unsigned int sec = pci_cfg_read8(bdf, PCI_SECONDARY_BUS);

                if (sec > bus) {
                    r = find_on_bus(sec, vendor, device, index, depth + 1);
                    if (r >= 0) {
                        return r;
                    }
                }
            }
            if (fn == 0 && !(hdr & PCI_HEADER_MULTI)) {
                break;
            }
        }
    }
    return -1;
}

int pci_find_device(uint16_t vendor, uint16_t device, unsigned int index)
{
    return find_on_bus(0, vendor, device, &index, 0);
}

bool pci_bar_is_io(uint16_t bdf, unsigned int bar)
{
    return pci_cfg_read32(bdf, PCI_BAR0 + 4 * bar) & 1;
}

uint64_t pci_bar_addr(uint16_t bdf, unsigned int bar)
{
    uint32_t lo;

    if (bar > 5) {
        return 0;
    }
    lo = pci_cfg_read32(bdf, PCI_BAR0 + 4 * bar);
    if (lo & 1) {
        return lo & ~3u;
    }
    if ((lo & 6) == 4 && bar < 5) {
        return (lo & ~0xfULL) |
               (uint64_t)pci_cfg_read32(bdf, PCI_BAR0 + 4 * (bar + 1)) << 32;
    }
    return lo & ~0xfu;
}

void pci_enable(uint16_t bdf)
{
    uint16_t cmd = pci_cfg_read16(bdf, PCI_COMMAND);

    pci_cfg_write16(bdf, PCI_COMMAND, cmd | PCI_COMMAND_IO |
                    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

uint8_t pci_find_cap(uint16_t bdf, uint8_t cap_id)
{
    uint8_t pos;

    if (!(pci_cfg_read16(bdf, PCI_STATUS) & PCI_STATUS_CAP_LIST)) {
        return 0;
    }
    pos = pci_cfg_read8(bdf, PCI_CAPABILITY_LIST) & 0xfc;
    for (int n = 0; pos >= 0x40 && n < 48; n++) {
        if (pci_cfg_read8(bdf, pos) == cap_id) {
            return pos;
        }
        pos = pci_cfg_read8(bdf, pos + 1) & 0xfc;
    }
    return 0;
}

bool pci_msix_setup(uint16_t bdf, unsigned int entry, uint64_t addr,
                    uint32_t data)
{
    uint8_t cap = pci_find_cap(bdf, PCI_CAP_ID_MSIX);
    uint16_t ctrl;
    uint32_t table;
    uint64_t base, e;

    if (!cap) {
        return false;
    }
    ctrl = pci_cfg_read16(bdf, cap + MSIX_CTRL);
    if (entry > (ctrl & 0x7ffu)) {
        return false;
    }
    table = pci_cfg_read32(bdf, cap + MSIX_TABLE);
    base = pci_bar_addr(bdf, table & 7);
    if (!base) {
        return false;
    }
    /* Enable with the function masked, program the entry, then unmask. */
    pci_cfg_write16(bdf, cap + MSIX_CTRL, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
    e = base + (table & ~7u) + (uint64_t)entry * MSIX_ENTRY_SIZE;
    writel(e + 0, (uint32_t)addr);
    writel(e + 4, (uint32_t)(addr >> 32));
    writel(e + 8, data);
    writel(e + 12, 0);
    pci_cfg_write16(bdf, cap + MSIX_CTRL, MSIX_CTRL_ENABLE);
    return true;
}

bool pci_msi_setup(uint16_t bdf, uint64_t addr, uint32_t data)
{
    uint8_t cap = pci_find_cap(bdf, PCI_CAP_ID_MSI);
    uint16_t ctrl;
    uint8_t data_off;

    if (!cap) {
        return false;
    }
    ctrl = pci_cfg_read16(bdf, cap + MSI_CTRL);
    pci_cfg_write32(bdf, cap + 4, (uint32_t)addr);
    if (ctrl & MSI_CTRL_64BIT) {
        pci_cfg_write32(bdf, cap + 8, (uint32_t)(addr >> 32));
        data_off = 12;
    } else {
        data_off = 8;
    }
    pci_cfg_write16(bdf, cap + data_off, (uint16_t)data);
    if (ctrl & MSI_CTRL_MASKBIT) {
        pci_cfg_write32(bdf, cap + data_off + 4, 0);
    }
    /* One vector (MME 0), enabled. */
    pci_cfg_write16(bdf, cap + MSI_CTRL, (ctrl & ~0x70u) | MSI_CTRL_ENABLE);
    return true;
}
