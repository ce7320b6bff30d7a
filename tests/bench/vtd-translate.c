/*
 * vtd-translate: what a DMA through intel-iommu costs.
 *
 * In process (no qtest round trips in the measurement): a q35 machine with
 * intel-iommu and an edu device; the "guest" builds legacy-mode tables in
 * RAM with plain stores and enables translation through the register file,
 * then the program times 4-byte DMA reads through the device's address
 * space:
 *   - IOTLB hit: the same page over and over;
 *   - walk miss, 3-level (aw 39) and 4-level (aw 48) tables: every read
 *     touches a new IOVA page (all mapped to one physical page), so every
 *     one walks the tables;
 * and page-selective IOTLB invalidations per second submitted through the
 * invalidation queue (batches of 64 descriptors plus a wait descriptor).
 * Prints figures; asserts only that the DMA really translated.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "hw/boards.h"
#include "hw/pci/pci.h"
#include "system/memory.h"
#include "system/qdev-monitor.h"
#include "qapi/qjson.h"
#include "vtd-guest.h"

#define MiB (1ull << 20)

/* Guest-physical layout of the tables and data. */
#define ROOT_GPA    0x100000ull
#define CTX_GPA     0x101000ull
#define PT_GPA      0x200000ull     /* page tables from here */
#define DATA_GPA    0x4000000ull    /* the page every IOVA maps to */
#define QUEUE_GPA   0x3000000ull
#define STATUS_GPA  0x3100000ull
#define NPAGES      32768           /* IOVA pages mapped for the miss runs */

static AddressSpace *machine_with_edu(int aw_bits)
{
    JsonObject *opts = json_object_new();
    Object *edu;
    MachineState *ms;

    ms = machine_create(machine_class_find("q35"), &error_abort);
    ms->ram_size = 256 * MiB;
    machine_init_board(ms, &error_abort);
    json_object_set_string_member(opts, "driver", "intel-iommu");
    json_object_set_int_member(opts, "aw-bits", aw_bits);
    qdev_device_add(opts, false, &error_abort);
    json_object_unref(opts);
    opts = json_object_new();
    json_object_set_string_member(opts, "driver", "edu");
    json_object_set_string_member(opts, "id", "edu");
    json_object_set_string_member(opts, "addr", "03.0");
    qdev_device_add(opts, true, &error_abort);
    json_object_unref(opts);
    ms->done = true;
    machine_reset(ms);
    edu = object_resolve_path("/machine/peripheral/edu", NULL);
    /* Bus mastering on, as a guest would: through CF8/CFC. */
    address_space_stl_le(&address_space_io, 0xcf8,
                         0x80000000u | (3 << 11) | PCI_COMMAND,
                         MEMTXATTRS_UNSPECIFIED, NULL);
    address_space_stw_le(&address_space_io, 0xcfc,
                         PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
                         MEMTXATTRS_UNSPECIFIED, NULL);
    return pci_get_address_space(PCI_DEVICE(edu));
}

static uint64_t build_tables(int levels, int aw_code)
{
    uint64_t slptr = alloc_table();

    gst64(ROOT_GPA, CTX_GPA | 1);                 /* bus 0 */
    /* 00:03.0: present, TT=0, domain 1, AW code. */
    gst64(CTX_GPA + (3 << 3) * 16, slptr | 1);
    gst64(CTX_GPA + (3 << 3) * 16 + 8, (1ull << 8) | aw_code);
    for (uint64_t i = 0; i < NPAGES; i++) {
        gst64(pte_slot(slptr, levels, i << 12), DATA_GPA | 3);
    }
    reg_writeq(0x20, ROOT_GPA);
    gcmd_set(1u << 30);                           /* SRTP */
    gcmd_set(1u << 31);                           /* TE */
    return slptr;
}

static double now_ns(void)
{
    return g_get_monotonic_time() * 1000.0;
}

static void bench_walks(int aw_bits, int levels, int aw_code)
{
    AddressSpace *as;
    uint32_t v = 0, expect = 0xc0ffee00u + aw_bits;
    double t0, t_hit, t_miss;
    const int hits = 200000;

    vtd_guest_reset(PT_GPA);
    as = machine_with_edu(aw_bits);
    build_tables(levels, aw_code);
    address_space_stl_le(&address_space_memory, DATA_GPA, expect,
                         MEMTXATTRS_UNSPECIFIED, NULL);

    /* Warm up, and prove that translation really happens. */
    address_space_read(as, 5 << 12, MEMTXATTRS_UNSPECIFIED, &v, 4);
    g_assert_cmphex(v, ==, expect);

    t0 = now_ns();
    for (int i = 0; i < hits; i++) {
        address_space_read(as, 5 << 12, MEMTXATTRS_UNSPECIFIED, &v, 4);
    }
    t_hit = (now_ns() - t0) / hits;

    /* Every page once: each read misses (the IOTLB is smaller than
     * NPAGES, and pages were never touched). */
    t0 = now_ns();
    for (uint64_t i = 0; i < NPAGES; i++) {
        address_space_read(as, i << 12, MEMTXATTRS_UNSPECIFIED, &v, 4);
    }
    t_miss = (now_ns() - t0) / NPAGES;
    g_assert_cmphex(v, ==, expect);

    if (levels == 3) {
        printf("IOTLB hit (4-byte DMA read):       %8.0f ns per "
               "translation\n", t_hit);
    }
    printf("walk miss, %d-level (aw-bits=%d):   %8.0f ns per translation\n",
           levels, aw_bits, t_miss);
    machine_destroy();
}

static void bench_queue(void)
{
    const int batches = 2000, batch = 64;
    const uint64_t qsize = 256;   /* 128-bit descriptors in one 4 KiB page */
    uint64_t tail = 0;
    double t0, dt;

    vtd_guest_reset(PT_GPA);
    machine_with_edu(48);
    build_tables(4, 2);
    reg_writeq(0x88, 0);                          /* IQT */
    reg_writeq(0x90, QUEUE_GPA);                  /* IQA: 128-bit, 1 page */
    gcmd_set(1u << 26);                           /* QIE */

    t0 = now_ns();
    for (int b = 0; b < batches; b++) {
        for (int i = 0; i < batch; i++) {
            uint64_t slot = QUEUE_GPA + tail * 16;
            /* IOTLB, page-selective in domain 1, one page. */
            gst64(slot, 2 | (3ull << 4) | (1ull << 16));
            gst64(slot + 8, (uint64_t)((b * batch + i) % NPAGES) << 12);
            tail = (tail + 1) % qsize;
        }
        /* Wait: status write of b+1 to STATUS_GPA. */
        gst64(QUEUE_GPA + tail * 16, 5 | (1ull << 5) |
              ((uint64_t)(b + 1) << 32));
        gst64(QUEUE_GPA + tail * 16 + 8, STATUS_GPA);
        tail = (tail + 1) % qsize;
        reg_writeq(0x88, tail << 4);
        if ((uint32_t)gld64(STATUS_GPA) != (uint32_t)(b + 1)) {
            fprintf(stderr, "vtd-translate: queue did not complete (FSTS "
                    "0x%x)\n", reg_readl(0x34));
            exit(1);
        }
    }
    dt = now_ns() - t0;
    printf("page-selective IOTLB invalidations through the queue: %8.0f "
           "per second (%d batches of %d + wait)\n",
           batches * batch / (dt / 1e9), batches, batch);
    machine_destroy();
}

int main(int argc, char **argv)
{
    memory_init_system();
    bench_walks(39, 3, 1);
    bench_walks(48, 4, 2);
    bench_queue();
    return 0;
}
