/*
 * The ISA bus (include/hw/isa/isa.h): port I/O and IRQ lines 0-15 for the
 * legacy devices behind the ICH9 LPC bridge.
 */
#include "hw/isa/isa.h"
#include "system/qdev-monitor.h"

#define ISA_IO_SPACE_SIZE 0x10000

ISABus *isa_bus_new(DeviceState *dev, MemoryRegion *io)
{
    ISABus *bus = ISA_BUS(qbus_new(TYPE_ISA_BUS, dev, "isa.0"));

    bus->address_space_io = io;
    qbus_set_hotplug_handler(BUS(bus), OBJECT(bus));
    return bus;
}

void isa_bus_connect_irqs(ISABus *bus, const qemu_irq *irqs)
{
    for (int i = 0; i < ISA_NUM_IRQS; i++) {
        bus->irqs[i] = irqs[i];
    }
}

ISABus *isa_device_bus(ISADevice *dev)
{
    return ISA_BUS(DEVICE(dev)->parent_bus);
}

bool isa_get_irq(ISADevice *dev, uint32_t isairq, qemu_irq *irq,
                 Error **errp)
{
    if (isairq >= ISA_NUM_IRQS) {
        error_setg(errp, "%s: irq %u is not an ISA IRQ (0-%d)",
                   object_get_typename(OBJECT(dev)), isairq,
                   ISA_NUM_IRQS - 1);
        return false;
    }
    *irq = isa_device_bus(dev)->irqs[isairq];
    return true;
}

void isa_irq_set(qemu_irq irq, int level)
{
    if (irq) {
        qemu_set_irq(irq, level);
    }
}

bool isa_register_ioport(ISADevice *dev, MemoryRegion *mr, uint32_t start,
                         Error **errp)
{
    uint64_t size = memory_region_size(mr);

    if (start >= ISA_IO_SPACE_SIZE || size > ISA_IO_SPACE_SIZE - start) {
        error_setg(errp, "%s: I/O ports 0x%x-0x%" PRIx64 " are outside the "
                   "port space (0-0xffff)", object_get_typename(OBJECT(dev)),
                   start, start + size - 1);
        return false;
    }
    memory_region_add_subregion(isa_device_bus(dev)->address_space_io,
                                start, mr);
    return true;
}

/* Hot-plug: no controller and no guest handshake, as on a real LPC. */
static bool isa_bus_unplug_request(HotplugHandler *h, DeviceState *dev,
                                   Error **errp)
{
    qdev_unplug_finish(dev);
    return true;
}

static void isa_bus_class_init(ObjectClass *klass, const void *data)
{
    HotplugHandlerClass *hc =
        (HotplugHandlerClass *)object_class_dynamic_cast(klass,
                                                         TYPE_HOTPLUG_HANDLER);

    hc->unplug_request = isa_bus_unplug_request;
}

static void isa_device_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->bus_type = TYPE_ISA_BUS;
    dc->hotpluggable = false;
}

static const TypeInfo isa_bus_types[] = {
    {
        .name = TYPE_ISA_BUS,
        .parent = TYPE_BUS,
        .instance_size = sizeof(ISABus),
        .class_init = isa_bus_class_init,
        .interfaces = (const InterfaceInfo[]) {
            { TYPE_HOTPLUG_HANDLER },
            { NULL },
        },
    },
    {
        .name = TYPE_ISA_DEVICE,
        .parent = TYPE_DEVICE,
        .instance_size = sizeof(ISADevice),
        .abstract = true,
        .class_init = isa_device_class_init,
    },
};

DEFINE_TYPES(isa_bus_types)
