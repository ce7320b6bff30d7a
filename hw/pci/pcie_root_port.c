/*
 * The PCIe root port "pcie-root-port" with its hot-pluggable slot (PCIe
 * Base 4.0, 6.7 and 7.5.3).  The bridge part is hw/pci/pci_bridge.c.  See
 * include/hw/pci/pcie_port.h.
 */
#include "hw/pci/pcie_port.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "system/qdev-monitor.h"

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

/* The root-port part of the PCIe capability: slot and root registers. */
static void rp_init_exp_cap(PCIERootPort *rp)
{
    PCIDevice *d = PCI_DEVICE(rp);
    unsigned cap = rp->exp_cap;
    uint8_t *c = d->config + cap, *w = d->wmask + cap, *w1c = d->w1cmask + cap;

    pci_set_word(c + PCI_EXP_FLAGS,
                 pci_get_word(c + PCI_EXP_FLAGS) | PCI_EXP_FLAGS_SLOT);
    pci_set_long(c + PCI_EXP_LNKCAP,
                 pci_get_long(c + PCI_EXP_LNKCAP) | PCI_EXP_LNKCAP_DLLLARC);
    pci_set_long(c + PCI_EXP_SLTCAP, PCI_EXP_SLTCAP_ABP | PCI_EXP_SLTCAP_PCP |
                 PCI_EXP_SLTCAP_AIP | PCI_EXP_SLTCAP_PIP |
                 PCI_EXP_SLTCAP_HPS | PCI_EXP_SLTCAP_HPC |
                 (uint32_t)rp->slot << PCI_EXP_SLTCAP_PSN_SHIFT);
    pci_set_word(c + PCI_EXP_SLTCTL, RP_AIC_OFF | RP_PIC_OFF);
    pci_set_word(w + PCI_EXP_SLTCTL, 0x1fff);
    pci_set_word(w1c + PCI_EXP_SLTSTA, RP_HOTPLUG_EVENTS);
    pci_set_word(w + PCI_EXP_RTCTL, 0x000f);
    pci_set_long(w1c + PCI_EXP_RTSTA, 0x00010000);
}

static bool rp_realize(PCIDevice *d, Error **errp)
{
    PCIERootPort *rp = PCIE_ROOT_PORT(d);
    PCIBridge *br = PCI_BRIDGE(d);
    int cap;

    pci_bridge_initfn(d, TYPE_PCIE_BUS);
    d->config[PCI_INTERRUPT_PIN] = 1;
    cap = pcie_cap_init(d, PCI_EXP_TYPE_ROOT_PORT, rp->port, errp);
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
