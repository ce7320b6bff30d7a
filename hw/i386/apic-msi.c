/*
 * The local APIC MSI window (0xfee00000-0xfeefffff): 32-bit writes are
 * messages, queued for qtest or handed to a delivery hook (KVM).  See
 * include/hw/i386/apic-msi.h.
 *
 * Everything here runs with the big lock held.
 */
#include "hw/i386/apic-msi.h"

static MemoryRegion apic_msi_mr;
static bool apic_msi_mapped;

/* Ring of queued messages: queue[(head + i) % LEN] for i < count. */
static ApicMsi queue[APIC_MSI_QUEUE_LEN];
static unsigned queue_head, queue_count;
static unsigned queue_dropped;

static ApicMsiDeliverFn *deliver_fn;
static void *deliver_opaque;

static ApicMsiRemapFn *ioapic_remap_fn;
static void *ioapic_remap_opaque;
static ApicMsiRouteFn *ioapic_route_fn;
static void *ioapic_route_opaque;

void apic_msi_deliver(const ApicMsi *msg)
{
    if (deliver_fn) {
        deliver_fn(deliver_opaque, msg);
        return;
    }
    if (queue_count == APIC_MSI_QUEUE_LEN) {
        queue_head = (queue_head + 1) % APIC_MSI_QUEUE_LEN;
        queue_count--;
        queue_dropped++;
    }
    queue[(queue_head + queue_count) % APIC_MSI_QUEUE_LEN] = *msg;
    queue_count++;
}

void apic_msi_set_ioapic_remapper(ApicMsiRemapFn *fn, void *opaque)
{
    ioapic_remap_fn = fn;
    ioapic_remap_opaque = opaque;
}

void apic_msi_clear_ioapic_remapper(ApicMsiRemapFn *fn, void *opaque)
{
    if (ioapic_remap_fn == fn && ioapic_remap_opaque == opaque) {
        ioapic_remap_fn = NULL;
        ioapic_remap_opaque = NULL;
    }
}

void apic_msi_set_ioapic_route_hook(ApicMsiRouteFn *fn, void *opaque)
{
    ioapic_route_fn = fn;
    ioapic_route_opaque = opaque;
}

void apic_msi_deliver_ioapic(unsigned pin, const ApicMsi *msg)
{
    ApicMsi out = *msg;

    if (ioapic_remap_fn && !ioapic_remap_fn(ioapic_remap_opaque, &out)) {
        return;
    }
    if (ioapic_route_fn) {
        ioapic_route_fn(ioapic_route_opaque, pin, &out);
    }
    apic_msi_deliver(&out);
}

bool apic_msi_pop(ApicMsi *out)
{
    if (!queue_count) {
        return false;
    }
    *out = queue[queue_head];
    queue_head = (queue_head + 1) % APIC_MSI_QUEUE_LEN;
    queue_count--;
    return true;
}

void apic_msi_clear(void)
{
    queue_head = queue_count = 0;
}

unsigned apic_msi_dropped(void)
{
    return queue_dropped;
}

void apic_msi_set_delivery(ApicMsiDeliverFn *fn, void *opaque)
{
    deliver_fn = fn;
    deliver_opaque = opaque;
}

static MemTxResult apic_msi_read(void *opaque, hwaddr addr, uint64_t *data,
                                 unsigned size, MemTxAttrs attrs)
{
    *data = 0;
    return MEMTX_OK;
}

/* Only a dword write is a message (Intel SDM 3, 11.11); others vanish. */
static MemTxResult apic_msi_write(void *opaque, hwaddr addr, uint64_t data,
                                  unsigned size, MemTxAttrs attrs)
{
    if (size == 4) {
        ApicMsi msg = {
            .addr = APIC_MSI_BASE + addr,
            .data = (uint32_t)data,
            .requester_id = attrs.requester_id,
        };

        apic_msi_deliver(&msg);
    }
    return MEMTX_OK;
}

static const MemoryRegionOps apic_msi_ops = {
    .read_with_attrs = apic_msi_read,
    .write_with_attrs = apic_msi_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
};

void apic_msi_init(void)
{
    if (apic_msi_mapped) {
        return;
    }
    memory_region_init_io(&apic_msi_mr, NULL, &apic_msi_ops, NULL,
                          "apic-msi", APIC_MSI_SIZE);
    memory_region_add_subregion(get_system_memory(), APIC_MSI_BASE,
                                &apic_msi_mr);
    apic_msi_mapped = true;
}

void apic_msi_cleanup(void)
{
    if (apic_msi_mapped) {
        memory_region_finalize(&apic_msi_mr);
        apic_msi_mapped = false;
    }
    apic_msi_clear();
    queue_dropped = 0;
}
