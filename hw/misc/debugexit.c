/*
 * isa-debug-exit (control_boot_facts F.1): a write of V to its ports ends
 * the emulator with exit status (V << 1) | 1, the way test guests report a
 * result.  The write only requests a guest shutdown carrying that status;
 * the main loop then emits SHUTDOWN, tears the machine down (chardevs
 * flushed and closed) and main() returns the status.  Reads return 0.
 *
 * Properties: iobase (default 0x501), iosize (default 2; 1, 2 or 4).
 * Any access width that fits the window is accepted.
 */
#include "hw/isa/isa.h"
#include "hw/qdev-properties.h"
#include "system/runstate.h"

#define TYPE_ISA_DEBUG_EXIT_DEVICE "isa-debug-exit"

typedef struct ISADebugExitState {
    ISADevice parent_obj;
    uint32_t iobase;
    uint32_t iosize;
    MemoryRegion io;
    bool io_inited;
} ISADebugExitState;

DECLARE_INSTANCE_CHECKER(ISADebugExitState, ISA_DEBUG_EXIT_DEVICE,
                         TYPE_ISA_DEBUG_EXIT_DEVICE)

static uint64_t debug_exit_read(void *opaque, hwaddr addr, unsigned size)
{
    return 0;
}

static void debug_exit_write(void *opaque, hwaddr addr, uint64_t val,
                             unsigned size)
{
    /* The OS keeps the low 8 bits of the status, as with QEMU. */
    qemu_system_shutdown_request_with_code(SHUTDOWN_CAUSE_GUEST_SHUTDOWN,
                                           (int)((val << 1) | 1));
}

static const MemoryRegionOps debug_exit_ops = {
    .read = debug_exit_read,
    .write = debug_exit_write,
    .valid.min_access_size = 1,
    .valid.max_access_size = 4,
    .valid.unaligned = true,
    .impl.min_access_size = 1,
    .impl.max_access_size = 4,
    .impl.unaligned = true,
};

static bool debug_exit_realize(DeviceState *dev, Error **errp)
{
    ISADebugExitState *s = ISA_DEBUG_EXIT_DEVICE(dev);

    if (s->iosize != 1 && s->iosize != 2 && s->iosize != 4) {
        error_setg(errp, "%s: iosize %u is not 1, 2 or 4",
                   TYPE_ISA_DEBUG_EXIT_DEVICE, s->iosize);
        return false;
    }
    memory_region_init_io(&s->io, OBJECT(dev), &debug_exit_ops, s,
                          "isa-debug-exit", s->iosize);
    s->io_inited = true;
    if (!isa_register_ioport(ISA_DEVICE(dev), &s->io, s->iobase, errp)) {
        memory_region_finalize(&s->io);
        s->io_inited = false;
        return false;
    }
    return true;
}

static void debug_exit_unrealize(DeviceState *dev)
{
    ISADebugExitState *s = ISA_DEBUG_EXIT_DEVICE(dev);

    if (s->io_inited) {
        memory_region_finalize(&s->io);
        s->io_inited = false;
    }
}

static const Property debug_exit_props[] = {
    DEFINE_PROP_UINT32("iobase", ISADebugExitState, iobase, 0x501),
    DEFINE_PROP_UINT32("iosize", ISADebugExitState, iosize, 0x02),
    DEFINE_PROP_END_OF_LIST(),
};

static void debug_exit_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->desc = "ISA debug exit device";
    dc->category = DEVICE_CATEGORY_MISC;
    dc->realize = debug_exit_realize;
    dc->unrealize = debug_exit_unrealize;
    /* Unlike QEMU, also with device_add: tests plug it when they need it. */
    dc->hotpluggable = true;
    device_class_set_props(dc, debug_exit_props);
}

static const TypeInfo debug_exit_types[] = {
    {
        .name = TYPE_ISA_DEBUG_EXIT_DEVICE,
        .parent = TYPE_ISA_DEVICE,
        .instance_size = sizeof(ISADebugExitState),
        .class_init = debug_exit_class_init,
    },
};

DEFINE_TYPES(debug_exit_types)
