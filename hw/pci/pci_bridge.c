/*
 * The PCI-to-PCI bridge core (PCI-PCI Bridge 1.2) shared by the bridge
 * models (pcie-root-port, pcie-pci-bridge): secondary bus, type 1
 * header, forwarding windows, Secondary Bus Reset; and the PCI Express
 * capability part they have in common (PCIe Base 4.0, 7.5.3).  See
 * include/hw/pci/pci_bus.h and pcie_port.h.
 */
#include "hw/pci/pcie_port.h"

/* --- Bridge core ------------------------------------------------------------- */

PCIBus *pci_bridge_get_sec_bus(PCIDevice *dev)
{
    PCIBridge *br = (PCIBridge *)object_dynamic_cast(OBJECT(dev),
                                                     TYPE_PCI_BRIDGE);

    return br ? br->sec_bus : NULL;
}

void pci_bridge_get_io_window(PCIDevice *d, pcibus_t *base, pcibus_t *limit)
{
    uint8_t *c = d->config;

    *base = (pcibus_t)(c[PCI_IO_BASE] & PCI_IO_RANGE_MASK) << 8 |
            (pcibus_t)pci_get_word(c + PCI_IO_BASE_UPPER16) << 16;
    *limit = (pcibus_t)(c[PCI_IO_LIMIT] & PCI_IO_RANGE_MASK) << 8 |
             (pcibus_t)pci_get_word(c + PCI_IO_LIMIT_UPPER16) << 16 | 0xfff;
}

void pci_bridge_get_mem_window(PCIDevice *d, pcibus_t *base, pcibus_t *limit)
{
    uint8_t *c = d->config;

    *base = (pcibus_t)(pci_get_word(c + PCI_MEMORY_BASE) &
                       PCI_MEMORY_RANGE_MASK) << 16;
    *limit = (pcibus_t)(pci_get_word(c + PCI_MEMORY_LIMIT) &
                        PCI_MEMORY_RANGE_MASK) << 16 | 0xfffff;
}

void pci_bridge_get_pref_window(PCIDevice *d, pcibus_t *base,
                                pcibus_t *limit)
{
    uint8_t *c = d->config;

    *base = (pcibus_t)(pci_get_word(c + PCI_PREF_MEMORY_BASE) &
                       PCI_PREF_RANGE_MASK) << 16 |
            (pcibus_t)pci_get_long(c + PCI_PREF_BASE_UPPER32) << 32;
    *limit = (pcibus_t)(pci_get_word(c + PCI_PREF_MEMORY_LIMIT) &
                        PCI_PREF_RANGE_MASK) << 16 |
             (pcibus_t)pci_get_long(c + PCI_PREF_LIMIT_UPPER32) << 32 |
             0xfffff;
}

/*
 * (Re)maps one forwarding window: an alias of the secondary space shown
 * at the same addresses in the parent bus's space, while decode of that
 * kind is enabled and base <= limit.
 */
static void pci_bridge_map_window(PCIBridge *br, MemoryRegion *alias,
                                  bool *mapped, const char *name,
                                  MemoryRegion *sec_space,
                                  MemoryRegion *parent_space, bool enabled,
                                  pcibus_t base, pcibus_t limit)
{
    if (*mapped) {
        memory_region_finalize(alias);
        *mapped = false;
    }
    limit = MIN(limit, memory_region_size(sec_space) - 1);
    if (!enabled || base > limit) {
        return;
    }
    memory_region_init_alias(alias, OBJECT(br), name, sec_space, base,
                             limit - base + 1);
    memory_region_add_subregion_overlap(parent_space, base, alias, 1);
    *mapped = true;
}

static void pci_bridge_update_mappings(PCIBridge *br)
{
    PCIDevice *d = &br->parent_obj;
    PCIBus *parent = pci_get_bus(d);
    uint16_t cmd = pci_get_word(d->config + PCI_COMMAND);
    PCIBridgeWindows *w = &br->windows;
    pcibus_t base, limit;

    pci_bridge_get_io_window(d, &base, &limit);
    pci_bridge_map_window(br, &w->alias_io, &w->io_mapped, "pci_bridge_io",
                          &br->sec_io, parent->address_space_io,
                          cmd & PCI_COMMAND_IO, base, limit);
    pci_bridge_get_mem_window(d, &base, &limit);
    pci_bridge_map_window(br, &w->alias_mem, &w->mem_mapped,
                          "pci_bridge_mem", &br->sec_mem,
                          parent->address_space_mem,
                          cmd & PCI_COMMAND_MEMORY, base, limit);
    pci_bridge_get_pref_window(d, &base, &limit);
    pci_bridge_map_window(br, &w->alias_pref, &w->pref_mapped,
                          "pci_bridge_pref_mem", &br->sec_mem,
                          parent->address_space_mem,
                          cmd & PCI_COMMAND_MEMORY, base, limit);
}

void pci_bridge_write_config(PCIDevice *d, uint32_t addr, uint32_t val,
                             int len)
{
    PCIBridge *br = PCI_BRIDGE(d);
    uint16_t oldctl = pci_get_word(d->config + PCI_BRIDGE_CONTROL);
    uint16_t newctl;

    pci_default_write_config(d, addr, val, len);
    if (pci_ranges_overlap(addr, len, PCI_COMMAND, 2) ||
        pci_ranges_overlap(addr, len, PCI_IO_BASE, 2) ||
        pci_ranges_overlap(addr, len, PCI_MEMORY_BASE,
                       PCI_IO_LIMIT_UPPER16 + 2 - PCI_MEMORY_BASE)) {
        pci_bridge_update_mappings(br);
    }
    newctl = pci_get_word(d->config + PCI_BRIDGE_CONTROL);
    /* Secondary Bus Reset: a hot reset on its 0 -> 1 edge. */
    if (~oldctl & newctl & PCI_BRIDGE_CTL_BUS_RESET) {
        qbus_reset_all(&br->sec_bus->qbus);
    }
}

void pci_bridge_reset(PCIDevice *d)
{
    pci_bridge_update_mappings(PCI_BRIDGE(d));
}

void pci_bridge_initfn(PCIDevice *d, const char *bus_type)
{
    static unsigned anon_buses;
    PCIBridge *br = PCI_BRIDGE(d);
    const char *id = d->qdev.id;
    uint8_t *c = d->config;

    /* Without an id, QEMU's automatic names: "pci.N" or "pcie.N". */
    br->bus_name = id ? g_strdup(id) :
                   g_strdup_printf("%s.%u", strcmp(bus_type, TYPE_PCIE_BUS) ?
                                   "pci" : "pcie", ++anon_buses);
    memory_region_init(&br->sec_mem, OBJECT(d), "pci_bridge_pci", UINT64_MAX);
    memory_region_init(&br->sec_io, OBJECT(d), "pci_bridge_io", 0x10000);
    br->sec_bus = PCI_BUS(qbus_new(bus_type, DEVICE(d), br->bus_name));
    br->sec_bus->parent_dev = d;
    br->sec_bus->address_space_mem = &br->sec_mem;
    br->sec_bus->address_space_io = &br->sec_io;
    br->sec_bus->map_irq = pci_swizzle_map_irq_fn;

    /* 32-bit I/O and 64-bit prefetchable decoding (read-only low bits). */
    c[PCI_IO_BASE] = c[PCI_IO_LIMIT] = PCI_IO_RANGE_TYPE_32;
    pci_set_word(c + PCI_PREF_MEMORY_BASE, PCI_PREF_RANGE_TYPE_64);
    pci_set_word(c + PCI_PREF_MEMORY_LIMIT, PCI_PREF_RANGE_TYPE_64);

    memset(d->wmask + PCI_PRIMARY_BUS, 0xff, 4);    /* bus numbers, latency */
    d->wmask[PCI_IO_BASE] = d->wmask[PCI_IO_LIMIT] = PCI_IO_RANGE_MASK;
    pci_set_word(d->wmask + PCI_MEMORY_BASE, PCI_MEMORY_RANGE_MASK);
    pci_set_word(d->wmask + PCI_MEMORY_LIMIT, PCI_MEMORY_RANGE_MASK);
    pci_set_word(d->wmask + PCI_PREF_MEMORY_BASE, PCI_PREF_RANGE_MASK);
    pci_set_word(d->wmask + PCI_PREF_MEMORY_LIMIT, PCI_PREF_RANGE_MASK);
    pci_set_long(d->wmask + PCI_PREF_BASE_UPPER32, 0xffffffff);
    pci_set_long(d->wmask + PCI_PREF_LIMIT_UPPER32, 0xffffffff);
    pci_set_word(d->wmask + PCI_IO_BASE_UPPER16, 0xffff);
    pci_set_word(d->wmask + PCI_IO_LIMIT_UPPER16, 0xffff);
    pci_set_word(d->wmask + PCI_BRIDGE_CONTROL,
                 PCI_BRIDGE_CTL_PARITY | PCI_BRIDGE_CTL_SERR |
                 PCI_BRIDGE_CTL_ISA | PCI_BRIDGE_CTL_VGA |
                 PCI_BRIDGE_CTL_MASTER_ABORT | PCI_BRIDGE_CTL_BUS_RESET);
    pci_set_word(d->w1cmask + PCI_SEC_STATUS,
                 PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT |
                 PCI_STATUS_REC_TARGET_ABORT | PCI_STATUS_REC_MASTER_ABORT |
                 PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY);
}

void pci_bridge_exitfn(PCIDevice *d)
{
    PCIBridge *br = PCI_BRIDGE(d);
    PCIBridgeWindows *w = &br->windows;

    pci_bridge_map_window(br, &w->alias_io, &w->io_mapped, NULL, &br->sec_io,
                          NULL, false, 1, 0);
    pci_bridge_map_window(br, &w->alias_mem, &w->mem_mapped, NULL,
                          &br->sec_mem, NULL, false, 1, 0);
    pci_bridge_map_window(br, &w->alias_pref, &w->pref_mapped, NULL,
                          &br->sec_mem, NULL, false, 1, 0);
    /* The devices behind are unrealized, their BARs gone from these. */
    memory_region_finalize(&br->sec_mem);
    memory_region_finalize(&br->sec_io);
    g_free(br->bus_name);
    br->bus_name = NULL;
}

/* --- PCI Express capability --------------------------------------------------- */

int pcie_cap_init(PCIDevice *d, uint8_t type, uint8_t port, Error **errp)
{
    int cap = pci_add_capability(d, PCI_CAP_ID_EXP, 0, PCI_EXP_VER2_SIZEOF,
                                 errp);
    uint8_t *c, *w, *w1c;

    if (cap < 0) {
        return -1;
    }
    c = d->config + cap;
    w = d->wmask + cap;
    w1c = d->w1cmask + cap;
    pci_set_word(c + PCI_EXP_FLAGS, PCI_EXP_FLAGS_VER2 |
                 type << PCI_EXP_FLAGS_TYPE_SHIFT);
    pci_set_long(c + PCI_EXP_DEVCAP, PCI_EXP_DEVCAP_RBER);
    pci_set_word(w + PCI_EXP_DEVCTL, 0x70ff);
    pci_set_word(w1c + PCI_EXP_DEVSTA, 0x000f);
    pci_set_long(c + PCI_EXP_LNKCAP, PCI_EXP_LNKCAP_SLS_2_5GB |
                 PCI_EXP_LNKCAP_MLW_X1 |
                 (uint32_t)port << PCI_EXP_LNKCAP_PN_SHIFT);
    pci_set_word(w + PCI_EXP_LNKCTL, 0x00c3);
    pci_set_word(c + PCI_EXP_LNKSTA, PCI_EXP_LNKSTA_CLS_2_5GB |
                 PCI_EXP_LNKSTA_NLW_X1);
    pci_set_word(w + PCI_EXP_DEVCTL2, 0x001f);
    pci_set_long(c + PCI_EXP_LNKCAP2, PCI_EXP_LNKCAP2_SLS_2_5GB);
    pci_set_word(c + PCI_EXP_LNKCTL2, 0x0001);
    pci_set_word(w + PCI_EXP_LNKCTL2, 0x000f);
    return cap;
}

int pcie_cap_get_type(PCIDevice *d)
{
    uint8_t cap = pci_is_express(d) ? pci_find_capability(d, PCI_CAP_ID_EXP)
                                    : 0;

    if (!cap) {
        return -1;
    }
    return (pci_get_word(d->config + cap + PCI_EXP_FLAGS) >>
            PCI_EXP_FLAGS_TYPE_SHIFT) & 0xf;
}

static const TypeInfo pci_bridge_types[] = {
    {
        .name = TYPE_PCI_BRIDGE,
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(PCIBridge),
        .abstract = true,
    },
};

DEFINE_TYPES(pci_bridge_types)
