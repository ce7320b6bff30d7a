/*
 * The local APIC MSI window: device writes to 0xfee00000-0xfeefffff.
 *
 * Messages go to the delivery hook when an accelerator installed one (KVM
 * injects them), else into a bounded queue that qtest reads ("msi_pop").
 */
#include <string.h>

#include "hw/i386/apic-msi.h"

static MemoryRegion apic_msi_mr;
static bool apic_msi_mapped;

static ApicMsi queue[APIC_MSI_QUEUE_LEN];
static unsigned queue_head, queue_len, queue_dropped;

static ApicMsiDeliverFn *deliver_fn;
static void *deliver_opaque;

void apic_msi_set_delivery(ApicMsiDeliverFn *fn, void *opaque)
{
    deliver_fn = fn;
    deliver_opaque = opaque;
}

void apic_msi_deliver(const ApicMsi *msg)
{
    if (deliver_fn) {
        deliver_fn(deliver_opaque, msg);
        return;
    }
    if (queue_len == APIC_MSI_QUEUE_LEN) {
        /* Full: drop the oldest, keep the newest. */
        queue_head = (queue_head + 1) % APIC_MSI_QUEUE_LEN;
        queue_len--;
        queue_dropped++;
    }
    queue[(queue_head + queue_len) % APIC_MSI_QUEUE_LEN] = *msg;
    queue_len++;
}

bool apic_msi_pop(ApicMsi *out)
{
    if (!queue_len) {
        return false;
    }
    *out = queue[queue_head];
    queue_head = (queue_head + 1) % APIC_MSI_QUEUE_LEN;
    queue_len--;
    return true;
}

void apic_msi_clear(void)
{
    queue_head = queue_len = queue_dropped = 0;
}

unsigned apic_msi_dropped(void)
{
    return queue_dropped;
}

static MemTxResult apic_msi_read(void *opaque, hwaddr addr, uint64_t *data,
                                 unsigned size, MemTxAttrs attrs)
{
    *data = 0;
    return MEMTX_OK;
}

static MemTxResult apic_msi_write(void *opaque, hwaddr addr, uint64_t data,
                                  unsigned size, MemTxAttrs attrs)
{
    ApicMsi msg = {
        .addr = APIC_MSI_BASE + addr,
        .data = (uint32_t)data,
        .requester_id = attrs.requester_id,
    };

    /* An MSI is a dword write; anything else is not a message. */
    if (size != 4) {
        log_guest_error("apic-msi: %u-byte write at 0x%" HWADDR_PRIx
                        " ignored", size, msg.addr);
        return MEMTX_OK;
    }
    apic_msi_deliver(&msg);
    return MEMTX_OK;
}

static const MemoryRegionOps apic_msi_ops = {
    .read_with_attrs = apic_msi_read,
    .write_with_attrs = apic_msi_write,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

void apic_msi_init(void)
{
    if (apic_msi_mapped) {
        return;
    }
    memory_region_init_io(&apic_msi_mr, NULL, &apic_msi_ops, NULL,
                          "apic-msi", APIC_MSI_SIZE);
    /* Above RAM and PCI windows that may overlap it. */
    memory_region_add_subregion_overlap(get_system_memory(), APIC_MSI_BASE,
                                        &apic_msi_mr, 4096);
    apic_msi_mapped = true;
}

void apic_msi_cleanup(void)
{
    if (apic_msi_mapped) {
        memory_region_del_subregion(get_system_memory(), &apic_msi_mr);
        memory_region_finalize(&apic_msi_mr);
        apic_msi_mapped = false;
    }
    apic_msi_clear();
}
