/*
 * isa-serial: a 16550A UART on the ISA bus.
 *
 * Properties as in QEMU: index (COM port number 0-3, default: the lowest
 * one no other isa-serial uses), iobase and irq (default: the standard
 * ones of that index: 0x3f8/4, 0x2f8/3, 0x3e8/4, 0x2e8/3), chardev (the id
 * of a chardev; none: output is dropped and nothing is received).
 */
#include "hw/char/serial.h"
#include "hw/isa/isa.h"
#include "hw/qdev-properties.h"

#define TYPE_ISA_SERIAL "isa-serial"
#define ISA_SERIAL_UNSET UINT32_MAX

static const uint16_t isa_serial_io[SERIAL_MAX_PORTS] = {
    0x3f8, 0x2f8, 0x3e8, 0x2e8
};
static const uint8_t isa_serial_irq[SERIAL_MAX_PORTS] = { 4, 3, 4, 3 };

typedef struct ISASerialState {
    ISADevice parent_obj;
    uint32_t index;
    uint32_t iobase;
    uint32_t isairq;
    char *chardev;
    SerialState state;
    bool core_realized;
} ISASerialState;

DECLARE_INSTANCE_CHECKER(ISASerialState, ISA_SERIAL, TYPE_ISA_SERIAL)

/* The lowest index no realized isa-serial on the bus has taken. */
static uint32_t isa_serial_free_index(ISABus *bus, ISASerialState *self)
{
    uint32_t used = 0;

    for (GList *l = BUS(bus)->children; l; l = l->next) {
        ISASerialState *o =
            (ISASerialState *)object_dynamic_cast(l->data, TYPE_ISA_SERIAL);

        if (o && o != self && DEVICE(o)->realized &&
            o->index < SERIAL_MAX_PORTS) {
            used |= 1u << o->index;
        }
    }
    for (uint32_t i = 0; i < SERIAL_MAX_PORTS; i++) {
        if (!(used & (1u << i))) {
            return i;
        }
    }
    return SERIAL_MAX_PORTS;
}

static bool isa_serial_realize(DeviceState *dev, Error **errp)
{
    ISASerialState *isa = ISA_SERIAL(dev);
    SerialState *s = &isa->state;
    Chardev *chr = NULL;

    if (isa->index == ISA_SERIAL_UNSET) {
        isa->index = isa_serial_free_index(isa_device_bus(ISA_DEVICE(dev)),
                                           isa);
    }
    if (isa->index >= SERIAL_MAX_PORTS) {
        error_setg(errp, "isa-serial: index %u is not a COM port (max %d)",
                   isa->index, SERIAL_MAX_PORTS - 1);
        return false;
    }
    if (isa->iobase == ISA_SERIAL_UNSET) {
        isa->iobase = isa_serial_io[isa->index];
    }
    if (isa->isairq == ISA_SERIAL_UNSET) {
        isa->isairq = isa_serial_irq[isa->index];
    }
    if (!isa_get_irq(ISA_DEVICE(dev), isa->isairq, &s->irq, errp)) {
        return false;
    }
    if (isa->chardev) {
        chr = qemu_chr_find(isa->chardev);
        if (!chr) {
            error_setg(errp, "isa-serial: chardev '%s' not found",
                       isa->chardev);
            return false;
        }
    }
    if (!serial_realize_core(s, OBJECT(dev), chr, errp)) {
        return false;
    }
    isa->core_realized = true;
    if (!isa_register_ioport(ISA_DEVICE(dev), &s->io, isa->iobase, errp)) {
        serial_exit_core(s);
        isa->core_realized = false;
        return false;
    }
    return true;
}

static void isa_serial_unrealize(DeviceState *dev)
{
    ISASerialState *isa = ISA_SERIAL(dev);

    if (isa->core_realized) {
        serial_exit_core(&isa->state);
        isa->core_realized = false;
    }
}

static void isa_serial_reset(DeviceState *dev)
{
    serial_reset(&ISA_SERIAL(dev)->state);
}

static const Property isa_serial_props[] = {
    DEFINE_PROP_UINT32("index", ISASerialState, index, ISA_SERIAL_UNSET),
    DEFINE_PROP_UINT32("iobase", ISASerialState, iobase, ISA_SERIAL_UNSET),
    DEFINE_PROP_UINT32("irq", ISASerialState, isairq, ISA_SERIAL_UNSET),
    DEFINE_PROP_STRING("chardev", ISASerialState, chardev),
    DEFINE_PROP_END_OF_LIST(),
};

static void isa_serial_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->desc = "16550A UART on the ISA bus";
    dc->category = DEVICE_CATEGORY_INPUT;
    dc->realize = isa_serial_realize;
    dc->unrealize = isa_serial_unrealize;
    dc->reset = isa_serial_reset;
    device_class_set_props(dc, isa_serial_props);
}

static const TypeInfo isa_serial_types[] = {
    {
        .name = TYPE_ISA_SERIAL,
        .parent = TYPE_ISA_DEVICE,
        .instance_size = sizeof(ISASerialState),
        .class_init = isa_serial_class_init,
    },
};

DEFINE_TYPES(isa_serial_types)
