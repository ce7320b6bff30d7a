/*
 * PCI core: buses, device placement, configuration space, BARs, INTx,
 * bus-master DMA and the vIOMMU hook.  See include/hw/pci/pci.h for the
 * model and its invariants.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>

#include <assert.h>

#include "hw/pci/pci_bus.h"
#include "hw/pci/pcie_port.h"
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "qapi/qjson.h"
#include "system/host_iommu_device.h"

/* --- Buses ------------------------------------------------------------------ */

PCIBus *pci_get_bus(const PCIDevice *dev)
{
    return PCI_BUS(dev->qdev.parent_bus);
}

bool pci_bus_is_root(PCIBus *bus)
{
    return !bus->parent_dev;
}

bool pci_bus_is_express(PCIBus *bus)
{
    return object_dynamic_cast(OBJECT(bus), TYPE_PCIE_BUS) != NULL;
}

int pci_bus_num(PCIBus *bus)
{
    return bus->parent_dev ? bus->parent_dev->config[PCI_SECONDARY_BUS] : 0;
}

PCIBus *pci_root_bus_new(DeviceState *parent, const char *name,
                         MemoryRegion *mem, MemoryRegion *io,
                         const char *typename)
{
    PCIBus *bus = PCI_BUS(qbus_new(typename, parent, name));

    bus->address_space_mem = mem;
    bus->address_space_io = io;
    return bus;
}

void pci_bus_irqs(PCIBus *bus, pci_set_irq_fn set_irq, void *irq_opaque,
                  int nirq)
{
    bus->set_irq = set_irq;
    bus->irq_opaque = irq_opaque;
    bus->nirq = nirq;
    g_free(bus->irq_count);
    bus->irq_count = g_new0(int, nirq);
}

void pci_bus_map_irqs(PCIBus *bus, pci_map_irq_fn map_irq)
{
    bus->map_irq = map_irq;
}

/*
 * The bus numbered bus_num at or below bus: a bridge forwards type 1
 * cycles for [secondary, subordinate] (PCI-PCI Bridge 1.2, 3.2.5.3).
 */
static PCIBus *pci_find_bus_nr(PCIBus *bus, int bus_num)
{
    if (pci_bus_num(bus) == bus_num) {
        return bus;
    }
    for (int devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
        PCIDevice *d = bus->devices[devfn];
        PCIBus *sec = d ? pci_bridge_get_sec_bus(d) : NULL;

        if (sec && d->config[PCI_SECONDARY_BUS] != 0 &&
            bus_num >= d->config[PCI_SECONDARY_BUS] &&
            bus_num <= d->config[PCI_SUBORDINATE_BUS]) {
            return pci_find_bus_nr(sec, bus_num);
        }
    }
    return NULL;
}

PCIDevice *pci_find_device(PCIBus *root, int bus_num, uint8_t devfn)
{
    PCIBus *bus = pci_find_bus_nr(root, bus_num);

    if (!bus) {
        return NULL;
    }
    /* Enumeration looks at functions 1-7 only when function 0 exists. */
    if (PCI_FUNC(devfn) && !bus->devices[PCI_DEVFN(PCI_SLOT(devfn), 0)]) {
        return NULL;
    }
    return bus->devices[devfn];
}

void pci_for_each_device_under_bus(PCIBus *bus,
                                   void (*fn)(PCIBus *bus, PCIDevice *dev,
                                              void *opaque),
                                   void *opaque)
{
    for (int devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
        PCIDevice *d = bus->devices[devfn];
        PCIBus *sec;

        if (!d) {
            continue;
        }
        fn(bus, d, opaque);
        sec = pci_bridge_get_sec_bus(d);
        if (sec) {
            pci_for_each_device_under_bus(sec, fn, opaque);
        }
    }
}

static char *pcibus_get_dev_path(DeviceState *dev)
{
    PCIDevice *d = PCI_DEVICE(dev);

    return g_strdup_printf("%02x.%x", PCI_SLOT(d->devfn), PCI_FUNC(d->devfn));
}

static void pci_bus_finalize(Object *obj)
{
    g_free(PCI_BUS(obj)->irq_count);
}

static void pci_bus_class_init(ObjectClass *klass, const void *data)
{
    BusClass *bc = BUS_CLASS(klass);

    bc->get_dev_path = pcibus_get_dev_path;
}

/* --- The "addr" property: "SS.F", "SS" (hex) or a devfn number ------------- */

static bool parse_pci_devfn(const char *s, int32_t *devfn)
{
    char *end;
    unsigned long slot, fn = 0;

    if (!isxdigit((unsigned char)s[0])) {
        return false;
    }
    slot = strtoul(s, &end, 16);
    if (*end == '.') {
        const char *f = end + 1;

        if (!isxdigit((unsigned char)f[0])) {
            return false;
        }
        fn = strtoul(f, &end, 16);
    }
    if (*end || slot >= PCI_SLOT_MAX || fn >= PCI_FUNC_MAX) {
        return false;
    }
    *devfn = PCI_DEVFN(slot, fn);
    return true;
}

static bool prop_get_pci_devfn(Object *obj, const Property *prop,
                               JsonNode **value, Error **errp)
{
    *value = qjson_new_int(*(int32_t *)qdev_prop_ptr(obj, prop));
    return true;
}

static bool prop_set_pci_devfn(Object *obj, const Property *prop,
                               JsonNode *value, Error **errp)
{
    int32_t *ptr = qdev_prop_ptr(obj, prop);

    if (qjson_is_int(value)) {
        int64_t v = json_node_get_int(value);

        if (qjson_is_uint_node(value) || v < -1 || v >= PCI_DEVFN_MAX) {
            error_setg(errp, "Property '%s.%s' doesn't take value %" PRId64,
                       object_get_typename(obj), prop->name, v);
            return false;
        }
        *ptr = v;
        return true;
    }
    if (!qjson_is_str(value)) {
        error_setg(errp, "Invalid parameter type for '%s', expected: string",
                   prop->name);
        return false;
    }
    if (!parse_pci_devfn(json_node_get_string(value), ptr)) {
        error_setg(errp, "Property '%s.%s' doesn't take value '%s'",
                   object_get_typename(obj), prop->name,
                   json_node_get_string(value));
        return false;
    }
    return true;
}

static void prop_default_pci_devfn(Object *obj, const Property *prop)
{
    *(int32_t *)qdev_prop_ptr(obj, prop) = prop->defval.i;
}

static JsonNode *prop_default_json_pci_devfn(const Property *prop)
{
    return qjson_new_int(prop->defval.i);
}

static const PropertyInfo qdev_prop_pci_devfn = {
    .type = "pci-devfn",
    .description = "Slot and optional function number, example: 06.0 or 06",
    .get = prop_get_pci_devfn,
    .set = prop_set_pci_devfn,
    .set_default = prop_default_pci_devfn,
    .default_json = prop_default_json_pci_devfn,
};

static const Property pci_props[] = {
    DEFINE_PROP("addr", PCIDevice, devfn, qdev_prop_pci_devfn, int32_t,
                .set_default = true, .defval.i = -1),
    DEFINE_PROP_BOOL("multifunction", PCIDevice, multifunction, false),
    DEFINE_PROP_END_OF_LIST(),
};

/* --- Configuration space ------------------------------------------------------ */

uint32_t pci_config_size(const PCIDevice *dev)
{
    return dev->config_size;
}

bool pci_is_express(const PCIDevice *dev)
{
    return dev->config_size == PCIE_CONFIG_SPACE_SIZE;
}

static bool pci_irq_disabled(PCIDevice *d)
{
    return pci_get_word(d->config + PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;
}

static void pci_init_header(PCIDevice *d, PCIDeviceClass *pc)
{
    uint8_t *c = d->config;

    pci_set_word(c + PCI_VENDOR_ID, pc->vendor_id);
    pci_set_word(c + PCI_DEVICE_ID, pc->device_id);
    c[PCI_REVISION_ID] = pc->revision;
    pci_set_word(c + PCI_CLASS_DEVICE, pc->class_id);
    c[PCI_HEADER_TYPE] = (pc->is_bridge ? PCI_HEADER_TYPE_BRIDGE :
                                          PCI_HEADER_TYPE_NORMAL) |
                         (d->multifunction ? PCI_HEADER_TYPE_MULTI_FUNCTION :
                                             0);
    if (!pc->is_bridge) {
        pci_set_word(c + PCI_SUBSYSTEM_VENDOR_ID,
                     pc->subsystem_vendor_id ? pc->subsystem_vendor_id :
                     PCI_SUBVENDOR_ID_REDHAT_QUMRANET);
        pci_set_word(c + PCI_SUBSYSTEM_ID,
                     pc->subsystem_id ? pc->subsystem_id :
                     PCI_SUBDEVICE_ID_QEMU);
    }

    pci_set_word(d->wmask + PCI_COMMAND,
                 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                 PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
                 PCI_COMMAND_INTX_DISABLE);
    d->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    d->wmask[PCI_INTERRUPT_LINE] = 0xff;
    pci_set_word(d->w1cmask + PCI_STATUS,
                 PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT |
                 PCI_STATUS_REC_TARGET_ABORT | PCI_STATUS_REC_MASTER_ABORT |
                 PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY);

    pci_set_word(d->cmask + PCI_VENDOR_ID, 0xffff);
    pci_set_word(d->cmask + PCI_DEVICE_ID, 0xffff);
    d->cmask[PCI_REVISION_ID] = 0xff;
    d->cmask[PCI_CLASS_PROG] = 0xff;
    pci_set_word(d->cmask + PCI_CLASS_DEVICE, 0xffff);
    d->cmask[PCI_HEADER_TYPE] = 0xff;
    pci_set_word(d->cmask + PCI_STATUS, PCI_STATUS_CAP_LIST);
    d->cmask[PCI_CAPABILITY_LIST] = 0xff;
    d->cmask[PCI_INTERRUPT_PIN] = 0xff;
}

uint32_t pci_default_read_config(PCIDevice *d, uint32_t addr, int len)
{
    uint32_t val = 0;

    if (addr >= d->config_size) {
        return ~0u;
    }
    len = MIN((uint32_t)len, d->config_size - addr);
    for (int i = 0; i < len && i < 4; i++) {
        val |= (uint32_t)d->config[addr + i] << (8 * i);
    }
    return val;
}

static pcibus_t pci_bar_address(PCIDevice *d, int n, uint8_t type,
                                pcibus_t size)
{
    uint16_t cmd = pci_get_word(d->config + PCI_COMMAND);
    int off = PCI_BASE_ADDRESS_0 + 4 * n;
    pcibus_t addr, last;

    if (type & PCI_BASE_ADDRESS_SPACE_IO) {
        if (!(cmd & PCI_COMMAND_IO)) {
            return PCI_BAR_UNMAPPED;
        }
        addr = pci_get_long(d->config + off) & ~(size - 1);
        last = addr + size - 1;
        if (addr == 0 || last > 0xffff) {
            return PCI_BAR_UNMAPPED;
        }
        return addr;
    }
    if (!(cmd & PCI_COMMAND_MEMORY)) {
        return PCI_BAR_UNMAPPED;
    }
    addr = (type & PCI_BASE_ADDRESS_MEM_TYPE_64) ?
           pci_get_quad(d->config + off) : pci_get_long(d->config + off);
    addr &= ~(size - 1);
    last = addr + size - 1;
    /*
     * 0 and a range ending at the top are what sizing (writing all-ones)
     * leaves behind; neither is a real placement.
     */
    if (addr == 0 || last < addr || last == PCI_BAR_UNMAPPED) {
        return PCI_BAR_UNMAPPED;
    }
    if (!(type & PCI_BASE_ADDRESS_MEM_TYPE_64) && last >= UINT32_MAX) {
        return PCI_BAR_UNMAPPED;
    }
    return addr;
}

static void pci_update_mappings(PCIDevice *d)
{
    memory_region_transaction_begin();
    for (int i = 0; i < PCI_NUM_REGIONS; i++) {
        PCIIORegion *r = &d->io_regions[i];
        pcibus_t addr;

        if (!r->size) {
            continue;
        }
        addr = pci_bar_address(d, i, r->type, r->size);
        if (addr == r->addr) {
            continue;
        }
        if (r->addr != PCI_BAR_UNMAPPED) {
            memory_region_del_subregion(r->address_space, r->memory);
        }
        r->addr = addr;
        if (addr != PCI_BAR_UNMAPPED) {
            memory_region_add_subregion_overlap(r->address_space, addr,
                                                r->memory, 1);
        }
    }
    memory_region_transaction_commit();
}

static void pci_change_irq_level(PCIDevice *d, int pin, int change);

static void pci_update_irq_disabled(PCIDevice *d, bool was_disabled)
{
    bool disabled = pci_irq_disabled(d);

    if (disabled == was_disabled) {
        return;
    }
    for (int pin = 0; pin < PCI_NUM_PINS; pin++) {
        if (d->irq_state & (1 << pin)) {
            pci_change_irq_level(d, pin, disabled ? -1 : 1);
        }
    }
}

static void pci_update_bus_master(PCIDevice *d)
{
    if (d->bus_master_ready) {
        memory_region_set_enabled(&d->bus_master_enable_region,
                                  pci_get_word(d->config + PCI_COMMAND) &
                                  PCI_COMMAND_MASTER);
    }
}

void pci_default_write_config(PCIDevice *d, uint32_t addr, uint32_t val_in,
                              int len)
{
    bool was_irq_disabled = pci_irq_disabled(d);
    uint32_t val = val_in;

    if (addr >= d->config_size) {
        return;
    }
    len = MIN((uint32_t)len, MIN(4u, d->config_size - addr));
    for (int i = 0; i < len; i++, val >>= 8) {
        uint8_t wmask = d->wmask[addr + i];
        uint8_t w1cmask = d->w1cmask[addr + i];

        d->config[addr + i] = (d->config[addr + i] & ~wmask) | (val & wmask);
        d->config[addr + i] &= ~(val & w1cmask);
    }
    if (pci_ranges_overlap(addr, len, PCI_BASE_ADDRESS_0, 4 * PCI_NUM_REGIONS) ||
        pci_ranges_overlap(addr, len, PCI_COMMAND, 2)) {
        pci_update_mappings(d);
    }
    if (pci_ranges_overlap(addr, len, PCI_COMMAND, 2)) {
        pci_update_irq_disabled(d, was_irq_disabled);
        pci_update_bus_master(d);
    }
    msi_write_config(d, addr, val_in, len);
    msix_write_config(d, addr, val_in, len);
}

uint32_t pci_host_config_read_common(PCIDevice *dev, uint32_t addr,
                                     uint32_t limit, uint32_t len)
{
    limit = MIN(limit, dev->config_size);
    if (addr >= limit) {
        return ~0u;
    }
    return PCI_DEVICE_GET_CLASS(dev)->config_read(dev, addr,
                                                  MIN(len, limit - addr));
}

void pci_host_config_write_common(PCIDevice *dev, uint32_t addr,
                                  uint32_t limit, uint32_t val, uint32_t len)
{
    limit = MIN(limit, dev->config_size);
    if (addr >= limit) {
        return;
    }
    PCI_DEVICE_GET_CLASS(dev)->config_write(dev, addr, val,
                                            MIN(len, limit - addr));
}

/* --- Capabilities ------------------------------------------------------------ */

static uint8_t pci_find_space(PCIDevice *d, uint8_t size)
{
    for (unsigned off = PCI_CONFIG_HEADER_SIZE;
         off + size <= PCI_CONFIG_SPACE_SIZE; off += 4) {
        unsigned i;

        for (i = 0; i < size && !d->used[off + i]; i++) {
        }
        if (i == size) {
            return off;
        }
    }
    return 0;
}

/* The capability whose bytes include offset, for error messages. */
static uint8_t pci_find_capability_at(PCIDevice *d, uint8_t offset)
{
    uint8_t found = 0;
    unsigned guard = 0;

    for (uint8_t p = d->config[PCI_CAPABILITY_LIST]; p && guard < 64;
         p = d->config[p + PCI_CAP_LIST_NEXT], guard++) {
        if (p <= offset && p > found) {
            found = p;
        }
    }
    return found;
}

int pci_add_capability(PCIDevice *d, uint8_t cap_id, uint8_t offset,
                       uint8_t size, Error **errp)
{
    const char *name = object_get_typename(OBJECT(d));

    assert(size >= 2);
    if (!offset) {
        offset = pci_find_space(d, size);
        if (!offset) {
            error_setg(errp, "%s: no room in configuration space for "
                       "capability 0x%x (%u bytes)", name, cap_id, size);
            return -1;
        }
    } else {
        if (offset < PCI_CONFIG_HEADER_SIZE ||
            offset + size > PCI_CONFIG_SPACE_SIZE) {
            error_setg(errp, "%s: capability 0x%x at 0x%x is outside the "
                       "device-specific configuration space", name, cap_id,
                       offset);
            return -1;
        }
        for (unsigned i = 0; i < size; i++) {
            if (d->used[offset + i]) {
                uint8_t other = pci_find_capability_at(d, offset + i);

                error_setg(errp, "%s: capability 0x%x at 0x%x overlaps "
                           "capability 0x%x at 0x%x", name, cap_id, offset,
                           d->config[other], other);
                return -1;
            }
        }
    }
    d->config[offset + PCI_CAP_LIST_ID] = cap_id;
    d->config[offset + PCI_CAP_LIST_NEXT] = d->config[PCI_CAPABILITY_LIST];
    d->config[PCI_CAPABILITY_LIST] = offset;
    pci_set_word(d->config + PCI_STATUS,
                 pci_get_word(d->config + PCI_STATUS) | PCI_STATUS_CAP_LIST);
    memset(d->used + offset, 0xff, MIN((unsigned)((size + 3) & ~3),
                                       PCI_CONFIG_SPACE_SIZE - offset));
    memset(d->wmask + offset, 0, size);
    memset(d->w1cmask + offset, 0, size);
    memset(d->cmask + offset, 0xff, size);
    return offset;
}

uint8_t pci_find_capability(PCIDevice *d, uint8_t cap_id)
{
    unsigned guard = 0;

    if (!(pci_get_word(d->config + PCI_STATUS) & PCI_STATUS_CAP_LIST)) {
        return 0;
    }
    for (uint8_t p = d->config[PCI_CAPABILITY_LIST]; p && guard < 64;
         p = d->config[p + PCI_CAP_LIST_NEXT], guard++) {
        if (d->config[p + PCI_CAP_LIST_ID] == cap_id) {
            return p;
        }
    }
    return 0;
}

/* --- BARs ---------------------------------------------------------------------- */

void pci_register_bar(PCIDevice *d, int n, uint8_t type, MemoryRegion *mr)
{
    PCIBus *bus = pci_get_bus(d);
    PCIIORegion *r;
    pcibus_t size = memory_region_size(mr);
    bool io = type & PCI_BASE_ADDRESS_SPACE_IO;
    bool is64 = !io && (type & PCI_BASE_ADDRESS_MEM_TYPE_64);
    int off = PCI_BASE_ADDRESS_0 + 4 * n;
    uint64_t wmask;

    assert(n >= 0 && n < (PCI_DEVICE_GET_CLASS(d)->is_bridge ? 2 :
                          PCI_NUM_REGIONS));
    assert(!is64 || n + 1 < PCI_NUM_REGIONS);
    assert(size >= (io ? 4 : 16) && !(size & (size - 1)));
    r = &d->io_regions[n];
    assert(!r->size);
    r->addr = PCI_BAR_UNMAPPED;
    r->size = size;
    r->type = type;
    r->memory = mr;
    r->address_space = io ? bus->address_space_io : bus->address_space_mem;

    wmask = ~(size - 1) & (io ? PCI_BASE_ADDRESS_IO_MASK :
                                PCI_BASE_ADDRESS_MEM_MASK);
    pci_set_long(d->config + off, type);
    pci_set_long(d->cmask + off, io ? 0x3 : 0xf);
    if (is64) {
        pci_set_quad(d->wmask + off, wmask);
    } else {
        pci_set_long(d->wmask + off, (uint32_t)wmask);
    }
}

pcibus_t pci_get_bar_addr(PCIDevice *d, int n)
{
    return n >= 0 && n < PCI_NUM_REGIONS ? d->io_regions[n].addr :
                                           PCI_BAR_UNMAPPED;
}

static void pci_unmap_bars(PCIDevice *d)
{
    memory_region_transaction_begin();
    for (int i = 0; i < PCI_NUM_REGIONS; i++) {
        PCIIORegion *r = &d->io_regions[i];

        if (r->size && r->addr != PCI_BAR_UNMAPPED) {
            memory_region_del_subregion(r->address_space, r->memory);
            r->addr = PCI_BAR_UNMAPPED;
        }
    }
    memory_region_transaction_commit();
}

/* --- INTx ------------------------------------------------------------------------ */

int pci_swizzle_map_irq_fn(PCIDevice *dev, int pin)
{
    return (pin + PCI_SLOT(dev->devfn)) % PCI_NUM_PINS;
}

/* Follows pin up to the root bus; NULL if the root has no routing. */
static PCIBus *pci_route_to_root(PCIDevice *d, int *pin)
{
    for (;;) {
        PCIBus *bus = pci_get_bus(d);

        if (bus->map_irq) {
            *pin = bus->map_irq(d, *pin);
        }
        if (pci_bus_is_root(bus)) {
            return bus->set_irq && *pin >= 0 && *pin < bus->nirq ? bus : NULL;
        }
        d = bus->parent_dev;
    }
}

int pci_bus_route_intx(PCIDevice *dev, int pin)
{
    return pci_route_to_root(dev, &pin) ? pin : -1;
}

static void pci_change_irq_level(PCIDevice *d, int pin, int change)
{
    PCIBus *root = pci_route_to_root(d, &pin);

    if (!root) {
        return;
    }
    /* Counts restart when the routing is (re)installed (pci_bus_irqs);
     * a device that asserted before that may deassert after. */
    root->irq_count[pin] = MAX(root->irq_count[pin] + change, 0);
    root->set_irq(root->irq_opaque, pin, root->irq_count[pin] != 0);
}

static void pci_irq_handler(PCIDevice *d, int pin, int level)
{
    int change = !!level - ((d->irq_state >> pin) & 1);
    uint16_t status;

    if (!change) {
        return;
    }
    d->irq_state ^= 1 << pin;
    status = pci_get_word(d->config + PCI_STATUS) & ~PCI_STATUS_INTERRUPT;
    pci_set_word(d->config + PCI_STATUS,
                 status | (d->irq_state ? PCI_STATUS_INTERRUPT : 0));
    if (pci_irq_disabled(d)) {
        return;
    }
    pci_change_irq_level(d, pin, change);
}

void pci_set_irq(PCIDevice *dev, int level)
{
    int pin = dev->config[PCI_INTERRUPT_PIN] - 1;

    if (pin >= 0 && pin < PCI_NUM_PINS) {
        pci_irq_handler(dev, pin, level);
    }
}

void pci_device_deassert_intx(PCIDevice *dev)
{
    for (int pin = 0; pin < PCI_NUM_PINS; pin++) {
        pci_irq_handler(dev, pin, 0);
    }
}

/* --- DMA and the vIOMMU hook -------------------------------------------------- */

/*
 * The requester ID the IOMMU sees for a function at (bus, devfn).  PCIe
 * carries each function's own ID, but a conventional bus does not: the
 * bridge above it issues the transactions.  Going up to the root, at
 * every conventional bus the alias becomes (that bus, 00.0) when its
 * bridge is a PCIe-to-PCI bridge (PCIe-to-PCI/PCI-X Bridge 1.0, 2.3), else
 * the bridge's own ID (what bare-metal root complexes do with a plain PCI
 * bridge, and what Linux assumes); the topmost one wins.
 */
void pci_bus_iommu_alias(PCIBus *bus, int devfn, PCIBus **alias_bus,
                         int *alias_devfn)
{
    *alias_bus = bus;
    *alias_devfn = devfn;
    for (; bus->parent_dev; bus = pci_get_bus(bus->parent_dev)) {
        PCIDevice *br = bus->parent_dev;

        if (pci_bus_is_express(bus)) {
            continue;
        }
        if (pcie_cap_get_type(br) == PCI_EXP_TYPE_PCI_BRIDGE) {
            *alias_bus = bus;
            *alias_devfn = PCI_DEVFN(0, 0);
        } else {
            *alias_bus = pci_get_bus(br);
            *alias_devfn = br->devfn;
        }
    }
}

void pci_device_iommu_alias(PCIDevice *dev, PCIBus **alias_bus,
                            int *alias_devfn)
{
    pci_bus_iommu_alias(pci_get_bus(dev), dev->devfn, alias_bus, alias_devfn);
}

uint16_t pci_requester_id(PCIDevice *dev)
{
    PCIBus *bus;
    int devfn;

    pci_device_iommu_alias(dev, &bus, &devfn);
    return PCI_BUILD_BDF(pci_bus_num(bus), devfn);
}

/* The bus whose PCIIOMMUOps govern dev's DMA, or NULL. */
static PCIBus *pci_iommu_bus(PCIDevice *dev)
{
    PCIBus *bus = pci_get_bus(dev);

    while (!bus->iommu_ops && bus->parent_dev) {
        bus = pci_get_bus(bus->parent_dev);
    }
    return bus->iommu_ops ? bus : NULL;
}

/* The vIOMMU's address space of dev's requester ID (its alias). */
static AddressSpace *pci_resolve_dma_as(PCIDevice *dev)
{
    PCIBus *ib = pci_iommu_bus(dev);
    AddressSpace *as = NULL;

    if (ib) {
        PCIBus *bus;
        int devfn;

        pci_device_iommu_alias(dev, &bus, &devfn);
        as = ib->iommu_ops->get_address_space(bus, ib->iommu_opaque, devfn);
    }
    return as ? as : &address_space_memory;
}

static void pci_bus_master_alias_init(PCIDevice *d, AddressSpace *as,
                                      bool enabled)
{
    memory_region_init_alias(&d->bus_master_enable_region, OBJECT(d),
                             "bus master", as->root, 0,
                             memory_region_size(as->root));
    memory_region_set_enabled(&d->bus_master_enable_region, enabled);
    memory_region_add_subregion(&d->bus_master_container, 0,
                                &d->bus_master_enable_region);
    d->dma_as = as;
}

static void pci_init_bus_master(PCIDevice *d)
{
    g_autofree char *name = g_strdup_printf("%s %02x.%x",
                                            object_get_typename(OBJECT(d)),
                                            PCI_SLOT(d->devfn),
                                            PCI_FUNC(d->devfn));

    memory_region_init(&d->bus_master_container, OBJECT(d),
                       "bus master container", UINT64_MAX);
    pci_bus_master_alias_init(d, pci_resolve_dma_as(d), false);
    address_space_init(&d->bus_master_as, &d->bus_master_container, name);
    d->bus_master_ready = true;
}

static void pci_fini_bus_master(PCIDevice *d)
{
    if (!d->bus_master_ready) {
        return;
    }
    d->bus_master_ready = false;
    address_space_destroy(&d->bus_master_as);
    memory_region_finalize(&d->bus_master_enable_region);
    memory_region_finalize(&d->bus_master_container);
    d->dma_as = NULL;
}

/* Points the bus-master alias at the (possibly new) vIOMMU address space. */
static void pci_update_dma_as(PCIBus *bus, PCIDevice *d, void *opaque)
{
    AddressSpace *as;
    bool enabled;

    if (!d->bus_master_ready) {
        return;
    }
    as = pci_resolve_dma_as(d);
    if (as == d->dma_as) {
        return;
    }
    enabled = d->bus_master_enable_region.enabled;
    memory_region_finalize(&d->bus_master_enable_region);
    pci_bus_master_alias_init(d, as, enabled);
}

void pci_setup_iommu(PCIBus *bus, const PCIIOMMUOps *ops, void *opaque)
{
    assert(!ops || ops->get_address_space);
    bus->iommu_ops = ops;
    bus->iommu_opaque = opaque;
    pci_for_each_device_under_bus(bus, pci_update_dma_as, NULL);
}

bool pci_device_set_iommu_device(PCIDevice *dev, struct HostIOMMUDevice *hiod,
                                 Error **errp)
{
    PCIBus *ib = pci_iommu_bus(dev);

    if (ib && ib->iommu_ops->set_iommu_device) {
        if (hiod) {             /* NULL only from hook unit tests */
            pci_device_iommu_alias(dev, &hiod->aliased_bus,
                                   &hiod->aliased_devfn);
        }
        return ib->iommu_ops->set_iommu_device(pci_get_bus(dev),
                                               ib->iommu_opaque, dev->devfn,
                                               hiod, errp);
    }
    return true;
}

void pci_device_unset_iommu_device(PCIDevice *dev)
{
    PCIBus *ib = pci_iommu_bus(dev);

    if (ib && ib->iommu_ops->unset_iommu_device) {
        ib->iommu_ops->unset_iommu_device(pci_get_bus(dev), ib->iommu_opaque,
                                          dev->devfn);
    }
}

uint64_t pci_device_get_viommu_flags(PCIDevice *dev)
{
    PCIBus *ib = pci_iommu_bus(dev);

    if (ib && ib->iommu_ops->get_viommu_flags) {
        return ib->iommu_ops->get_viommu_flags(ib->iommu_opaque);
    }
    return 0;
}

uint64_t pci_device_get_host_iommu_quirks(PCIDevice *dev, uint32_t type,
                                          void *caps, uint32_t size)
{
    PCIBus *ib = pci_iommu_bus(dev);

    if (ib && ib->iommu_ops->get_host_iommu_quirks) {
        return ib->iommu_ops->get_host_iommu_quirks(type, caps, size);
    }
    return 0;
}

AddressSpace *pci_get_address_space(PCIDevice *dev)
{
    return &dev->bus_master_as;
}

AddressSpace *pci_device_iommu_address_space(PCIDevice *dev)
{
    return dev->dma_as ? dev->dma_as : pci_resolve_dma_as(dev);
}

MemTxResult pci_dma_rw(PCIDevice *dev, dma_addr_t addr, void *buf,
                       dma_addr_t len, DMADirection dir)
{
    MemTxAttrs attrs = { .requester_id = pci_requester_id(dev) };

    return address_space_rw(&dev->bus_master_as, addr, attrs, buf, len,
                            dir == DMA_DIRECTION_FROM_DEVICE);
}

MemTxResult pci_dma_read(PCIDevice *dev, dma_addr_t addr, void *buf,
                         dma_addr_t len)
{
    return pci_dma_rw(dev, addr, buf, len, DMA_DIRECTION_TO_DEVICE);
}

MemTxResult pci_dma_write(PCIDevice *dev, dma_addr_t addr, const void *buf,
                          dma_addr_t len)
{
    return pci_dma_rw(dev, addr, (void *)buf, len, DMA_DIRECTION_FROM_DEVICE);
}

/* --- Realize, unrealize, reset ------------------------------------------------ */

static void pci_in_use_error(PCIBus *bus, int devfn, const char *name,
                             Error **errp)
{
    PCIDevice *o = bus->devices[devfn];
    const char *id = o->qdev.id;

    error_setg(errp, "PCI: slot %d function %d not available for %s, "
               "in use by %s%s%s", PCI_SLOT(devfn), PCI_FUNC(devfn), name,
               object_get_typename(OBJECT(o)), id ? ",id=" : "",
               id ? id : "");
}

/*
 * Picks and checks the device's devfn on bus: the requested one, or the
 * first free slot (function 0).  Behind a PCIe downstream port only slot 0
 * exists.  A single-function device owns its whole slot.
 */
static bool pci_place_device(PCIDevice *d, PCIBus *bus, Error **errp)
{
    const char *name = object_get_typename(OBJECT(d));
    bool slot0_only = bus->parent_dev &&
                      pcie_is_downstream_port(bus->parent_dev);
    int devfn = d->devfn;
    int slot;

    if (devfn < 0) {
        for (devfn = 0; devfn < PCI_DEVFN_MAX; devfn += PCI_FUNC_MAX) {
            if (slot0_only && PCI_SLOT(devfn)) {
                devfn = PCI_DEVFN_MAX;
                break;
            }
            if (!bus->devices[devfn]) {
                break;
            }
        }
        if (devfn >= PCI_DEVFN_MAX) {
            error_setg(errp, "PCI: no slot/function available for %s, all in "
                       "use or reserved", name);
            return false;
        }
    } else if (slot0_only && PCI_SLOT(devfn)) {
        error_setg(errp, "PCI: slot %d is not valid for %s, parent device "
                   "only allows plugging into slot 0.", PCI_SLOT(devfn), name);
        return false;
    } else if (bus->devices[devfn]) {
        pci_in_use_error(bus, devfn, name, errp);
        return false;
    }

    slot = PCI_SLOT(devfn);
    if (PCI_FUNC(devfn) == 0 && !d->multifunction) {
        for (int fn = 1; fn < PCI_FUNC_MAX; fn++) {
            if (bus->devices[PCI_DEVFN(slot, fn)]) {
                error_setg(errp, "PCI: %x.0 indicates single function, but "
                           "%x.%x is already populated.", slot, slot, fn);
                return false;
            }
        }
    }
    if (PCI_FUNC(devfn)) {
        PCIDevice *f0 = bus->devices[PCI_DEVFN(slot, 0)];

        if (f0 && !f0->multifunction) {
            error_setg(errp, "PCI: single function device can't be populated "
                       "in function %x.%x", slot, PCI_FUNC(devfn));
            return false;
        }
    }
    d->devfn = devfn;
    return true;
}

/* The model's invariants on the masks (see pci.h). */
static void pci_check_masks(PCIDevice *d)
{
    for (uint32_t i = 0; i < d->config_size; i++) {
        assert(!(d->wmask[i] & d->w1cmask[i]));
    }
}

static bool pci_qdev_realize(DeviceState *qdev, Error **errp)
{
    PCIDevice *d = PCI_DEVICE(qdev);
    PCIDeviceClass *pc = PCI_DEVICE_GET_CLASS(d);
    PCIBus *bus = pci_get_bus(d);

    if (!pci_place_device(d, bus, errp)) {
        return false;
    }
    /* A device may be realized again after an unrealize: start clean. */
    memset(d->config, 0, sizeof(d->config));
    memset(d->wmask, 0, sizeof(d->wmask));
    memset(d->w1cmask, 0, sizeof(d->w1cmask));
    memset(d->cmask, 0, sizeof(d->cmask));
    memset(d->used, 0, sizeof(d->used));
    d->irq_state = 0;
    d->config_size = pc->is_express ? PCIE_CONFIG_SPACE_SIZE :
                                      PCI_CONFIG_SPACE_SIZE;
    for (int i = 0; i < PCI_NUM_REGIONS; i++) {
        d->io_regions[i].addr = PCI_BAR_UNMAPPED;
    }
    pci_init_header(d, pc);
    bus->devices[d->devfn] = d;
    pci_init_bus_master(d);
    if (pc->realize && !pc->realize(d, errp)) {
        pci_unmap_bars(d);
        pci_fini_bus_master(d);
        bus->devices[d->devfn] = NULL;
        return false;
    }
    pci_check_masks(d);
    memcpy(d->config_reset, d->config, sizeof(d->config));
    return true;
}

static void pci_qdev_unrealize(DeviceState *qdev)
{
    PCIDevice *d = PCI_DEVICE(qdev);
    PCIDeviceClass *pc = PCI_DEVICE_GET_CLASS(d);
    PCIBus *bus = pci_get_bus(d);

    pci_device_deassert_intx(d);
    pci_unmap_bars(d);
    if (pc->exit) {
        pc->exit(d);
    }
    pci_fini_bus_master(d);
    memset(d->io_regions, 0, sizeof(d->io_regions));
    if (bus->devices[d->devfn] == d) {
        bus->devices[d->devfn] = NULL;
    }
}

void pci_device_reset(PCIDevice *d)
{
    PCIDeviceClass *pc = PCI_DEVICE_GET_CLASS(d);

    pci_device_deassert_intx(d);
    memcpy(d->config, d->config_reset, d->config_size);
    pci_update_mappings(d);
    pci_update_bus_master(d);
    if (d->msix_cap) {
        msix_reset(d);
    }
    if (pc->reset) {
        pc->reset(d);
    }
}

static void pci_qdev_reset(DeviceState *qdev)
{
    pci_device_reset(PCI_DEVICE(qdev));
}

static void pci_device_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *pc = PCI_DEVICE_CLASS(klass);

    dc->realize = pci_qdev_realize;
    dc->unrealize = pci_qdev_unrealize;
    dc->reset = pci_qdev_reset;
    dc->bus_type = TYPE_PCI_BUS;
    device_class_set_props(dc, pci_props);
    pc->config_read = pci_default_read_config;
    pc->config_write = pci_default_write_config;
}

static const TypeInfo pci_types[] = {
    {
        .name = TYPE_PCI_BUS,
        .parent = TYPE_BUS,
        .instance_size = sizeof(PCIBus),
        .instance_finalize = pci_bus_finalize,
        .class_init = pci_bus_class_init,
    },
    {
        .name = TYPE_PCIE_BUS,
        .parent = TYPE_PCI_BUS,
    },
    {
        .name = TYPE_PCI_DEVICE,
        .parent = TYPE_DEVICE,
        .instance_size = sizeof(PCIDevice),
        .abstract = true,
        .class_size = sizeof(PCIDeviceClass),
        .class_init = pci_device_class_init,
    },
};

DEFINE_TYPES(pci_types)
