/*
 * PCI host bridges: configuration mechanism #1, ECAM, and the PCI part of
 * the firmware viommu does not have (bus numbering, BAR and window
 * assignment, interrupt line).  See include/hw/pci/pci_host.h.
 */
#include <inttypes.h>

#include "hw/pci/pci_host.h"

/* --- CONFIG_ADDRESS / CONFIG_DATA ------------------------------------------ */

static uint64_t pci_host_conf_read(void *opaque, hwaddr addr, unsigned size)
{
    PCIHostState *h = opaque;

    return h->config_reg >> (8 * addr);
}

static void pci_host_conf_write(void *opaque, hwaddr addr, uint64_t val,
                                unsigned size)
{
    PCIHostState *h = opaque;

    /* Only a full dword write latches (0xcf9 is another register). */
    if (addr == 0 && size == 4) {
        h->config_reg = val;
    }
}

static const MemoryRegionOps pci_host_conf_ops = {
    .read = pci_host_conf_read,
    .write = pci_host_conf_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 4, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 4, .unaligned = true },
};

/* The function CONFIG_ADDRESS selects, or NULL (then all-ones). */
static PCIDevice *pci_host_selected(PCIHostState *h)
{
    uint32_t cr = h->config_reg;

    if (!(cr & PCI_CONFIG_ENABLE)) {
        return NULL;
    }
    return pci_find_device(h->bus, (cr >> 16) & 0xff, (cr >> 8) & 0xff);
}

static uint64_t pci_host_data_read(void *opaque, hwaddr addr, unsigned size)
{
    PCIHostState *h = opaque;
    PCIDevice *d = pci_host_selected(h);

    if (!d) {
        return ~0ull;
    }
    return pci_host_config_read_common(d, (h->config_reg | addr) & 0xff,
                                       PCI_CONFIG_SPACE_SIZE, size);
}

static void pci_host_data_write(void *opaque, hwaddr addr, uint64_t val,
                                unsigned size)
{
    PCIHostState *h = opaque;
    PCIDevice *d = pci_host_selected(h);

    if (d) {
        pci_host_config_write_common(d, (h->config_reg | addr) & 0xff,
                                     PCI_CONFIG_SPACE_SIZE, val, size);
    }
}

static const MemoryRegionOps pci_host_data_ops = {
    .read = pci_host_data_read,
    .write = pci_host_data_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 4, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 4, .unaligned = true },
};

void pci_host_conf_register(PCIHostState *h)
{
    memory_region_init_io(&h->conf_mem, OBJECT(h), &pci_host_conf_ops, h,
                          "pci-conf-idx", 4);
    memory_region_init_io(&h->data_mem, OBJECT(h), &pci_host_data_ops, h,
                          "pci-conf-data", 4);
    memory_region_add_subregion(get_system_io(), PCI_HOST_CONFIG_ADDR,
                                &h->conf_mem);
    memory_region_add_subregion(get_system_io(), PCI_HOST_CONFIG_DATA,
                                &h->data_mem);
    h->conf_mapped = true;
}

void pci_host_conf_unregister(PCIHostState *h)
{
    if (h->conf_mapped) {
        memory_region_finalize(&h->conf_mem);
        memory_region_finalize(&h->data_mem);
        h->conf_mapped = false;
    }
}

/* --- ECAM ------------------------------------------------------------------------ */

static PCIDevice *pcie_mmcfg_device(PCIHostState *h, hwaddr addr)
{
    return pci_find_device(h->bus, (addr >> 20) & 0xff, (addr >> 12) & 0xff);
}

static uint64_t pcie_mmcfg_read(void *opaque, hwaddr addr, unsigned size)
{
    PCIDevice *d = pcie_mmcfg_device(opaque, addr);

    if (!d) {
        return ~0ull;
    }
    return pci_host_config_read_common(d, addr & 0xfff,
                                       PCIE_CONFIG_SPACE_SIZE, size);
}

static void pcie_mmcfg_write(void *opaque, hwaddr addr, uint64_t val,
                             unsigned size)
{
    PCIDevice *d = pcie_mmcfg_device(opaque, addr);

    if (d) {
        pci_host_config_write_common(d, addr & 0xfff, PCIE_CONFIG_SPACE_SIZE,
                                     val, size);
    }
}

static const MemoryRegionOps pcie_mmcfg_ops = {
    .read = pcie_mmcfg_read,
    .write = pcie_mmcfg_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

void pcie_host_mmcfg_update(PCIHostState *h, bool enable, hwaddr base,
                            uint64_t size)
{
    if (enable && h->mmcfg_size == size && h->mmcfg_base == base) {
        return;
    }
    if (h->mmcfg_size) {
        memory_region_finalize(&h->mmcfg);
        h->mmcfg_size = 0;
    }
    if (!enable) {
        return;
    }
    memory_region_init_io(&h->mmcfg, OBJECT(h), &pcie_mmcfg_ops, h,
                          "pcie-mmcfg-mmio", size);
    /* Above the PCI hole it sits in. */
    memory_region_add_subregion_overlap(get_system_memory(), base, &h->mmcfg,
                                        1);
    h->mmcfg_base = base;
    h->mmcfg_size = size;
}

/* --- Firmware duties ----------------------------------------------------------- */

#define FW_MEM_WINDOW_GRAN      0x100000ull   /* bridge memory windows: 1 MiB */
#define FW_IO_WINDOW_GRAN       0x1000ull     /* bridge I/O windows: 4 KiB */
/* Memory kept in every bridge window for devices hot-plugged later. */
#define FW_MEM_HOTPLUG_RESERVE  0x200000ull

typedef struct FwItem {
    PCIDevice *dev;
    int bar;                /* BAR index, or -1 for a bridge window */
    pcibus_t size, align;
} FwItem;

typedef struct FwCtx {
    const PCIFirmwareLayout *layout;
    pcibus_t mem64_next;
} FwCtx;

static void fw_write(PCIDevice *d, uint32_t addr, uint32_t val, int len)
{
    PCI_DEVICE_GET_CLASS(d)->config_write(d, addr, val, len);
}

static pcibus_t round_up(pcibus_t v, pcibus_t align)
{
    return (v + align - 1) & ~(align - 1);
}

static bool fw_bar_is_io(const PCIIORegion *r)
{
    return r->type & PCI_BASE_ADDRESS_SPACE_IO;
}

static pcibus_t fw_bus_need(PCIBus *bus, bool io, pcibus_t *align);

static gint fw_item_cmp(gconstpointer a, gconstpointer b)
{
    const FwItem *x = a, *y = b;

    if (x->align != y->align) {
        return x->align > y->align ? -1 : 1;
    }
    if (x->dev->devfn != y->dev->devfn) {
        return x->dev->devfn - y->dev->devfn;
    }
    return x->bar - y->bar;
}

/* What bus asks of its window of one kind, largest alignment first. */
static GArray *fw_collect(PCIBus *bus, bool io)
{
    GArray *items = g_array_new(false, false, sizeof(FwItem));

    for (int devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
        PCIDevice *d = bus->devices[devfn];
        PCIBus *sec;

        if (!d) {
            continue;
        }
        for (int i = 0; i < PCI_NUM_REGIONS; i++) {
            PCIIORegion *r = &d->io_regions[i];

            if (r->size && fw_bar_is_io(r) == io) {
                FwItem it = { d, i, r->size, r->size };

                g_array_append_val(items, it);
            }
        }
        sec = pci_bridge_get_sec_bus(d);
        if (sec) {
            pcibus_t gran = io ? FW_IO_WINDOW_GRAN : FW_MEM_WINDOW_GRAN;
            pcibus_t align, need = fw_bus_need(sec, io, &align);

            if (!io) {
                need = MAX(need, FW_MEM_HOTPLUG_RESERVE);
            }
            if (need) {
                FwItem it = { d, -1, round_up(need, gran), MAX(align, gran) };

                g_array_append_val(items, it);
            }
        }
    }
    g_array_sort(items, fw_item_cmp);
    return items;
}

static pcibus_t fw_bus_need(PCIBus *bus, bool io, pcibus_t *align)
{
    GArray *items = fw_collect(bus, io);
    pcibus_t total = 0;

    *align = 1;
    for (guint i = 0; i < items->len; i++) {
        FwItem *it = &g_array_index(items, FwItem, i);

        total = round_up(total, it->align) + it->size;
        *align = MAX(*align, it->align);
    }
    g_array_free(items, true);
    return total;
}

static void fw_set_bar(PCIDevice *d, int bar, pcibus_t addr)
{
    int off = PCI_BASE_ADDRESS_0 + 4 * bar;

    fw_write(d, off, (uint32_t)addr, 4);
    if (!fw_bar_is_io(&d->io_regions[bar]) &&
        (d->io_regions[bar].type & PCI_BASE_ADDRESS_MEM_TYPE_64)) {
        fw_write(d, off + 4, addr >> 32, 4);
    }
}

static void fw_set_window(PCIDevice *d, bool io, pcibus_t base,
                          pcibus_t limit)
{
    if (io) {
        fw_write(d, PCI_IO_BASE, (base >> 8) & PCI_IO_RANGE_MASK, 1);
        fw_write(d, PCI_IO_LIMIT, (limit >> 8) & PCI_IO_RANGE_MASK, 1);
        fw_write(d, PCI_IO_BASE_UPPER16, base >> 16, 2);
        fw_write(d, PCI_IO_LIMIT_UPPER16, limit >> 16, 2);
    } else {
        fw_write(d, PCI_MEMORY_BASE, (base >> 16) & PCI_MEMORY_RANGE_MASK, 2);
        fw_write(d, PCI_MEMORY_LIMIT, (limit >> 16) & PCI_MEMORY_RANGE_MASK,
                 2);
    }
}

/* Windows start closed (base above limit); the prefetchable one stays so:
 * prefetchable BARs behind a bridge go in its memory window. */
static void fw_close_windows(PCIDevice *d)
{
    fw_write(d, PCI_IO_BASE, PCI_IO_RANGE_MASK, 1);
    fw_write(d, PCI_IO_LIMIT, 0, 1);
    fw_write(d, PCI_IO_BASE_UPPER16, 0, 2);
    fw_write(d, PCI_IO_LIMIT_UPPER16, 0, 2);
    fw_write(d, PCI_MEMORY_BASE, PCI_MEMORY_RANGE_MASK, 2);
    fw_write(d, PCI_MEMORY_LIMIT, 0, 2);
    fw_write(d, PCI_PREF_MEMORY_BASE, PCI_PREF_RANGE_MASK, 2);
    fw_write(d, PCI_PREF_MEMORY_LIMIT, 0, 2);
    fw_write(d, PCI_PREF_BASE_UPPER32, 0, 4);
    fw_write(d, PCI_PREF_LIMIT_UPPER32, 0, 4);
}

static void fw_bus_assign(FwCtx *ctx, PCIBus *bus, bool io, pcibus_t base,
                          pcibus_t end)
{
    GArray *items = fw_collect(bus, io);
    pcibus_t next = base;

    for (guint i = 0; i < items->len; i++) {
        FwItem *it = &g_array_index(items, FwItem, i);
        pcibus_t addr = round_up(next, it->align);

        if (addr < next || addr + it->size > end) {
            PCIIORegion *r = it->bar >= 0 ? &it->dev->io_regions[it->bar] :
                                            NULL;

            /* A 64-bit BAR of the root bus may go above 4 GiB. */
            if (r && pci_bus_is_root(bus) &&
                (r->type & PCI_BASE_ADDRESS_MEM_TYPE_64) && !fw_bar_is_io(r)) {
                addr = round_up(ctx->mem64_next, it->align);
                if (addr + it->size <= ctx->layout->mem64_end) {
                    ctx->mem64_next = addr + it->size;
                    fw_set_bar(it->dev, it->bar, addr);
                    continue;
                }
            }
            warn_report("PCI: no room for %s %02x.%x %s %d (0x%" PRIx64
                        " bytes); left unassigned",
                        object_get_typename(OBJECT(it->dev)),
                        PCI_SLOT(it->dev->devfn), PCI_FUNC(it->dev->devfn),
                        it->bar >= 0 ? "BAR" : "bridge window", it->bar,
                        it->size);
            continue;
        }
        next = addr + it->size;
        if (it->bar >= 0) {
            fw_set_bar(it->dev, it->bar, addr);
        } else {
            fw_set_window(it->dev, io, addr, addr + it->size - 1);
            fw_bus_assign(ctx, pci_bridge_get_sec_bus(it->dev), io, addr,
                          addr + it->size);
        }
    }
    g_array_free(items, true);
}

/* Numbers the buses behind bus (numbered bus_num); returns the highest. */
static int fw_number_buses(PCIBus *bus, int bus_num)
{
    int last = bus_num;

    for (int devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
        PCIDevice *d = bus->devices[devfn];
        PCIBus *sec = d ? pci_bridge_get_sec_bus(d) : NULL;

        if (!sec) {
            continue;
        }
        if (last >= 0xff) {
            warn_report("PCI: out of bus numbers for %s %02x.%x",
                        object_get_typename(OBJECT(d)), PCI_SLOT(devfn),
                        PCI_FUNC(devfn));
            continue;
        }
        fw_close_windows(d);
        fw_write(d, PCI_PRIMARY_BUS, bus_num, 1);
        fw_write(d, PCI_SECONDARY_BUS, last + 1, 1);
        fw_write(d, PCI_SUBORDINATE_BUS, 0xff, 1);
        last = fw_number_buses(sec, last + 1);
        fw_write(d, PCI_SUBORDINATE_BUS, last, 1);
    }
    return last;
}

static void fw_enable_device(PCIBus *bus, PCIDevice *d, void *opaque)
{
    const PCIFirmwareLayout *layout = opaque;
    uint16_t cmd = pci_get_word(d->config + PCI_COMMAND);
    uint8_t pin = d->config[PCI_INTERRUPT_PIN];
    PCIBus *sec = pci_bridge_get_sec_bus(d);

    if (pin >= 1 && pin <= PCI_NUM_PINS) {
        int irq = pci_bus_route_intx(d, pin - 1);

        if (irq >= 0) {
            fw_write(d, PCI_INTERRUPT_LINE, layout->irq_base + irq, 1);
        }
    }
    for (int i = 0; i < PCI_NUM_REGIONS; i++) {
        PCIIORegion *r = &d->io_regions[i];
        const uint8_t *bar = d->config + PCI_BASE_ADDRESS_0 + 4 * i;
        uint64_t val = (r->type & PCI_BASE_ADDRESS_MEM_TYPE_64) &&
                       !fw_bar_is_io(r) ? pci_get_quad(bar) : pci_get_long(bar);

        /* Assigned BARs are non-zero; an unassigned one stays off. */
        if (r->size && (val & ~(uint64_t)0xf)) {
            cmd |= fw_bar_is_io(r) ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
        }
    }
    if (sec) {
        pcibus_t base, limit;

        pci_bridge_get_io_window(d, &base, &limit);
        if (base <= limit) {
            cmd |= PCI_COMMAND_IO;
        }
        pci_bridge_get_mem_window(d, &base, &limit);
        if (base <= limit) {
            cmd |= PCI_COMMAND_MEMORY;
        }
    }
    fw_write(d, PCI_COMMAND, cmd, 2);
}

void pci_firmware_setup(PCIBus *root, const PCIFirmwareLayout *layout)
{
    FwCtx ctx = { .layout = layout, .mem64_next = layout->mem64_base };

    fw_number_buses(root, pci_bus_num(root));
    fw_bus_assign(&ctx, root, true, layout->io_base, layout->io_end);
    fw_bus_assign(&ctx, root, false, layout->mem32_base, layout->mem32_end);
    pci_for_each_device_under_bus(root, fw_enable_device, (void *)layout);
}

static const TypeInfo pci_host_types[] = {
    {
        .name = TYPE_PCI_HOST_BRIDGE,
        .parent = TYPE_DEVICE,
        .instance_size = sizeof(PCIHostState),
        .abstract = true,
    },
};

DEFINE_TYPES(pci_host_types)
