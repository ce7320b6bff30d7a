/*
 * PCI-to-PCI bridge core (PCI-PCI Bridge 1.2) and the PCIe root port
 * "pcie-root-port" with its hot-pluggable slot (PCIe Base 4.0, 6.7 and
 * 7.5.3).  See include/hw/pci/pci_bus.h and pcie_port.h.
 */
#include "hw/pci/pcie_port.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "system/qdev-monitor.h"

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

    br->bus_name = id ? g_strdup(id) : g_strdup_printf("pcie.%u", ++anon_buses);
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

/* --- PCIe root port ------------------------------------------------------------ */

#define RP_HOTPLUG_EVENTS (PCI_EXP_SLTSTA_ABP | PCI_EXP_SLTSTA_PFD | \
                           PCI_EXP_SLTSTA_MRLSC | PCI_EXP_SLTSTA_PDC | \
                           PCI_EXP_SLTSTA_CC | PCI_EXP_SLTSTA_DLLSC)
#define RP_PIC_ON   0x0100
#define RP_PIC_OFF  0x0300
#define RP_AIC_OFF  0x00c0

bool pcie_is_downstream_port(PCIDevice *dev)
{
    return object_dynamic_cast(OBJECT(dev), TYPE_PCIE_ROOT_PORT) != NULL;
}

static uint8_t *rp_exp(PCIERootPort *rp)
{
    return PCI_DEVICE(rp)->config + rp->exp_cap;
}

static void rp_set_word_bits(uint8_t *p, uint16_t clear, uint16_t set)
{
    pci_set_word(p, (pci_get_word(p) & ~clear) | set);
}

/*
 * The hot-plug interrupt (6.7.3.4): asserted while HPIE is set and an
 * enabled event is pending.  With MSI-X a message goes out on the rising
 * edge; otherwise INTx follows the level.
 */
static void rp_hotplug_event_update(PCIERootPort *rp)
{
    PCIDevice *d = PCI_DEVICE(rp);
    uint16_t ctl = pci_get_word(rp_exp(rp) + PCI_EXP_SLTCTL);
    uint16_t sta = pci_get_word(rp_exp(rp) + PCI_EXP_SLTSTA);
    uint16_t enabled = (ctl & (PCI_EXP_SLTCTL_ABPE | PCI_EXP_SLTCTL_PFDE |
                               PCI_EXP_SLTCTL_MRLSCE | PCI_EXP_SLTCTL_PDCE |
                               PCI_EXP_SLTCTL_CCIE)) |
                       (ctl & PCI_EXP_SLTCTL_DLLSCE ? PCI_EXP_SLTSTA_DLLSC : 0);
    bool notify = (ctl & PCI_EXP_SLTCTL_HPIE) &&
                  (sta & enabled & RP_HOTPLUG_EVENTS);

    if (notify == rp->hpev_notified) {
        return;
    }
    rp->hpev_notified = notify;
    if (msix_enabled(d)) {
        if (notify) {
            msix_notify(d, 0);
        }
    } else {
        pci_set_irq(d, notify);
    }
}

static void rp_slot_event(PCIERootPort *rp, uint16_t events)
{
    rp_set_word_bits(rp_exp(rp) + PCI_EXP_SLTSTA, 0, events);
    rp_hotplug_event_update(rp);
}

/* Presence and link state follow what is on the secondary bus. */
static void rp_update_presence(PCIERootPort *rp, bool present)
{
    uint8_t *exp = rp_exp(rp);

    rp_set_word_bits(exp + PCI_EXP_SLTSTA, PCI_EXP_SLTSTA_PDS,
                     present ? PCI_EXP_SLTSTA_PDS : 0);
    rp_set_word_bits(exp + PCI_EXP_LNKSTA, PCI_EXP_LNKSTA_DLLLA,
                     present ? PCI_EXP_LNKSTA_DLLLA : 0);
    rp_set_word_bits(exp + PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_PIC,
                     present ? RP_PIC_ON : RP_PIC_OFF);
}

/* The guest powered the slot off: every function in it goes. */
static void rp_finish_unplug(PCIERootPort *rp)
{
    BusState *bus = &PCI_BRIDGE(rp)->sec_bus->qbus;
    GList *devs = g_list_copy(bus->children);

    rp->unplug_pending = false;
    for (GList *l = devs; l; l = l->next) {
        object_ref(l->data);
    }
    for (GList *l = devs; l; l = l->next) {
        DeviceState *dev = l->data;

        if (dev->parent_bus == bus) {
            qdev_unplug_finish(dev);
        }
        object_unref(dev);
    }
    g_list_free(devs);
}

static void rp_write_config(PCIDevice *d, uint32_t addr, uint32_t val,
                            int len)
{
    PCIERootPort *rp = PCIE_ROOT_PORT(d);
    uint32_t sltctl = rp->exp_cap + PCI_EXP_SLTCTL;
    uint16_t old_ctl = pci_get_word(d->config + sltctl);
    uint16_t new_ctl;

    pci_bridge_write_config(d, addr, val, len);
    if (pci_ranges_overlap(addr, len, sltctl, 2)) {
        new_ctl = pci_get_word(d->config + sltctl);
        /* Commands complete at once (no NCCS: the guest waits for CC). */
        rp_set_word_bits(rp_exp(rp) + PCI_EXP_SLTSTA, 0, PCI_EXP_SLTSTA_CC);
        if (rp->unplug_pending && (new_ctl & ~old_ctl & PCI_EXP_SLTCTL_PCC)) {
            rp_finish_unplug(rp);
        }
    }
    if (pci_ranges_overlap(addr, len, sltctl, 4)) {
        rp_hotplug_event_update(rp);
    }
}

static void rp_init_exp_cap(PCIERootPort *rp)
{
    PCIDevice *d = PCI_DEVICE(rp);
    unsigned cap = rp->exp_cap;
    uint8_t *c = d->config + cap, *w = d->wmask + cap, *w1c = d->w1cmask + cap;

    pci_set_word(c + PCI_EXP_FLAGS, PCI_EXP_FLAGS_VER2 |
                 PCI_EXP_TYPE_ROOT_PORT << PCI_EXP_FLAGS_TYPE_SHIFT |
                 PCI_EXP_FLAGS_SLOT);
    pci_set_long(c + PCI_EXP_DEVCAP, PCI_EXP_DEVCAP_RBER);
    pci_set_word(w + PCI_EXP_DEVCTL, 0x70ff);
    pci_set_word(w1c + PCI_EXP_DEVSTA, 0x000f);
    pci_set_long(c + PCI_EXP_LNKCAP, PCI_EXP_LNKCAP_SLS_2_5GB |
                 PCI_EXP_LNKCAP_MLW_X1 | PCI_EXP_LNKCAP_DLLLARC |
                 (uint32_t)rp->port << PCI_EXP_LNKCAP_PN_SHIFT);
    pci_set_word(w + PCI_EXP_LNKCTL, 0x00c3);
    pci_set_word(c + PCI_EXP_LNKSTA, PCI_EXP_LNKSTA_CLS_2_5GB |
                 PCI_EXP_LNKSTA_NLW_X1);
    pci_set_long(c + PCI_EXP_SLTCAP, PCI_EXP_SLTCAP_ABP | PCI_EXP_SLTCAP_PCP |
                 PCI_EXP_SLTCAP_AIP | PCI_EXP_SLTCAP_PIP |
                 PCI_EXP_SLTCAP_HPS | PCI_EXP_SLTCAP_HPC |
                 (uint32_t)rp->slot << PCI_EXP_SLTCAP_PSN_SHIFT);
    pci_set_word(c + PCI_EXP_SLTCTL, RP_AIC_OFF | RP_PIC_OFF);
    pci_set_word(w + PCI_EXP_SLTCTL, 0x1fff);
    pci_set_word(w1c + PCI_EXP_SLTSTA, RP_HOTPLUG_EVENTS);
    pci_set_word(w + PCI_EXP_RTCTL, 0x000f);
    pci_set_long(w1c + PCI_EXP_RTSTA, 0x00010000);
    pci_set_word(w + PCI_EXP_DEVCTL2, 0x001f);
    pci_set_long(c + PCI_EXP_LNKCAP2, PCI_EXP_LNKCAP2_SLS_2_5GB);
    pci_set_word(c + PCI_EXP_LNKCTL2, 0x0001);
    pci_set_word(w + PCI_EXP_LNKCTL2, 0x000f);
}

static bool rp_realize(PCIDevice *d, Error **errp)
{
    PCIERootPort *rp = PCIE_ROOT_PORT(d);
    PCIBridge *br = PCI_BRIDGE(d);
    int cap;

    pci_bridge_initfn(d, TYPE_PCIE_BUS);
    d->config[PCI_INTERRUPT_PIN] = 1;
    cap = pci_add_capability(d, PCI_CAP_ID_EXP, 0, PCI_EXP_VER2_SIZEOF, errp);
    if (cap < 0) {
        pci_bridge_exitfn(d);
        return false;
    }
    rp->exp_cap = cap;
    rp_init_exp_cap(rp);
    if (!msix_init_exclusive_bar(d, 1, 0, errp)) {
        pci_bridge_exitfn(d);
        return false;
    }
    qbus_set_hotplug_handler(&br->sec_bus->qbus, OBJECT(d));
    return true;
}

static void rp_exit(PCIDevice *d)
{
    msix_uninit(d);
    pci_bridge_exitfn(d);
}

static void rp_reset(PCIDevice *d)
{
    PCIERootPort *rp = PCIE_ROOT_PORT(d);

    pci_bridge_reset(d);
    rp->hpev_notified = false;
    rp_update_presence(rp, PCI_BRIDGE(d)->sec_bus->qbus.num_children > 0);
    /* An unplug the guest never completed is announced again. */
    if (rp->unplug_pending) {
        rp_set_word_bits(rp_exp(rp) + PCI_EXP_SLTSTA, 0, PCI_EXP_SLTSTA_ABP);
    }
}

/* --- Hot-plug handler of the secondary bus ----------------------------------- */

static bool rp_plug(HotplugHandler *h, DeviceState *dev, Error **errp)
{
    PCIERootPort *rp = PCIE_ROOT_PORT(h);

    rp_update_presence(rp, true);
    if (dev->hotplugged) {
        rp_slot_event(rp, PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_DLLSC);
    }
    return true;
}

static bool rp_unplug_request(HotplugHandler *h, DeviceState *dev,
                              Error **errp)
{
    PCIERootPort *rp = PCIE_ROOT_PORT(h);
    uint16_t ctl = pci_get_word(rp_exp(rp) + PCI_EXP_SLTCTL);

    /* No guest driver listening (qtest, or before pciehp loads): remove
     * the device now rather than wait forever. */
    if (!(ctl & PCI_EXP_SLTCTL_HPIE) || !(ctl & PCI_EXP_SLTCTL_ABPE)) {
        qdev_unplug_finish(dev);
        return true;
    }
    rp->unplug_pending = true;
    rp_slot_event(rp, PCI_EXP_SLTSTA_ABP);
    return true;
}

static bool rp_unplug(HotplugHandler *h, DeviceState *dev, Error **errp)
{
    PCIERootPort *rp = PCIE_ROOT_PORT(h);
    BusState *bus = &PCI_BRIDGE(rp)->sec_bus->qbus;

    /* dev is still on the bus: the slot empties when it is the last. */
    if (bus->num_children <= 1) {
        rp->unplug_pending = false;
        rp_update_presence(rp, false);
        rp_slot_event(rp, PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_DLLSC);
    }
    return true;
}

static const Property rp_props[] = {
    DEFINE_PROP_UINT8("chassis", PCIERootPort, chassis, 0),
    DEFINE_PROP_UINT16("slot", PCIERootPort, slot, 0),
    DEFINE_PROP_UINT8("port", PCIERootPort, port, 0),
    DEFINE_PROP_END_OF_LIST(),
};

static void rp_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *pc = PCI_DEVICE_CLASS(klass);
    HotplugHandlerClass *hc =
        (HotplugHandlerClass *)object_class_dynamic_cast(klass,
                                                         TYPE_HOTPLUG_HANDLER);

    dc->desc = "PCI Express Root Port";
    dc->category = DEVICE_CATEGORY_BRIDGE;
    dc->hotpluggable = false;
    device_class_set_props(dc, rp_props);
    pc->realize = rp_realize;
    pc->exit = rp_exit;
    pc->reset = rp_reset;
    pc->config_write = rp_write_config;
    pc->vendor_id = PCI_VENDOR_ID_REDHAT;
    pc->device_id = PCI_DEVICE_ID_REDHAT_PCIE_RP;
    pc->class_id = PCI_CLASS_BRIDGE_PCI;
    pc->is_bridge = true;
    pc->is_express = true;
    hc->plug = rp_plug;
    hc->unplug_request = rp_unplug_request;
    hc->unplug = rp_unplug;
}

static const TypeInfo rp_types[] = {
    {
        .name = TYPE_PCI_BRIDGE,
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(PCIBridge),
        .abstract = true,
    },
    {
        .name = TYPE_PCIE_ROOT_PORT,
        .parent = TYPE_PCI_BRIDGE,
        .instance_size = sizeof(PCIERootPort),
        .class_init = rp_class_init,
        .interfaces = (const InterfaceInfo[]) {
            { TYPE_HOTPLUG_HANDLER },
            { NULL },
        },
    },
};

DEFINE_TYPES(rp_types)
