/*
 * A VT-d "guest" for in-process benches: plain stores into guest RAM build
 * legacy second-level tables, and register accesses drive intel-iommu at
 * 0xfed90000; the machine with an assigned device that the shadowing and
 * nesting benches measure; a clock.  Included by the bench programs only.
 */
#ifndef BENCH_VTD_GUEST_H
#define BENCH_VTD_GUEST_H

#include <stdint.h>
#include <stdlib.h>
#include <glib.h>

#include "hw/boards.h"
#include "qapi/error.h"
#include "qom/object_interfaces.h"
#include "system/memory.h"
#include "system/qdev-monitor.h"
#include "../guest-mem.h"

#define VTD_BASE 0xfed90000ull

/* Page-table pages are bump-allocated from here (vtd_guest_reset). */
static uint64_t vtd_next_pt;

static inline void vtd_guest_reset(uint64_t pt_base)
{
    vtd_next_pt = pt_base;
}

static inline void reg_writel(unsigned off, uint32_t v)
{
    address_space_stl_le(&address_space_memory, VTD_BASE + off, v,
                         MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline void reg_writeq(unsigned off, uint64_t v)
{
    address_space_stq_le(&address_space_memory, VTD_BASE + off, v,
                         MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline uint32_t reg_readl(unsigned off)
{
    return address_space_ldl_le(&address_space_memory, VTD_BASE + off,
                                MEMTXATTRS_UNSPECIFIED, NULL);
}

/* A zeroed 4 KiB table page. */
static inline uint64_t alloc_table(void)
{
    static const uint8_t zero[4096];
    uint64_t gpa = vtd_next_pt;

    vtd_next_pt += 4096;
    address_space_write(&address_space_memory, gpa, MEMTXATTRS_UNSPECIFIED,
                        zero, sizeof(zero));
    return gpa;
}

/* The leaf slot of iova in a levels-deep table, intermediates made R/W. */
static inline uint64_t pte_slot(uint64_t root, int levels, uint64_t iova)
{
    uint64_t table = root;

    for (int level = levels; level > 1; level--) {
        uint64_t slot = table + ((iova >> (12 + 9 * (level - 1))) & 0x1ff) * 8;
        uint64_t pte = gld64(slot);

        if (!(pte & 3)) {
            pte = alloc_table() | 3;
            gst64(slot, pte);
        }
        table = pte & ~0xfffull;
    }
    return table + ((iova >> 12) & 0x1ff) * 8;
}

/* GCMD write of the persistent bits (TE, EAFL, QIE, IRE, CFI) plus bit. */
static inline void gcmd_set(uint32_t bit)
{
    reg_writel(0x18, (reg_readl(0x1c) & 0x96800000u) | bit);
}

/* Monotonic seconds. */
static inline double bench_now_s(void)
{
    return g_get_monotonic_time() / 1e6;
}

/* -object TYPE,id=ID[,PROPS]; a bench cannot go on without it. */
static inline void bench_object_add(const char *type, const char *id,
                                    const char *props)
{
    g_autofree char *text = g_strdup_printf("%s,id=%s%s%s", type, id,
                                            *props ? "," : "", props);
    bool help = false;

    if (!user_creatable_add_from_str(text, &help, &error_abort)) {
        exit(1);
    }
}

/* -device TEXT; a bench cannot go on without it. */
static inline void bench_device_add(const char *text)
{
    bool help = false;

    if (!qdev_device_add_from_str(text, &help, &error_abort)) {
        exit(1);
    }
}

/*
 * q35 with 256 MiB, -device IOMMU (an intel-iommu with its properties),
 * and a simulated host (sim-host h0) whose device 0000:02:00.0 (d0,
 * group 5) is assigned over iommufd fd0 as vfio-pci hostdev0 at 00:04.0;
 * reset.  Page tables are then allocated from pt_base.
 */
static inline void vtd_guest_machine_up(const char *iommu, uint64_t pt_base)
{
    MachineState *ms;

    vtd_guest_reset(pt_base);
    ms = machine_create(machine_class_find("q35"), &error_abort);
    ms->ram_size = 256ull << 20;
    machine_init_board(ms, &error_abort);
    bench_device_add(iommu);
    bench_object_add("sim-host", "h0", "");
    bench_object_add("sim-pci-device", "d0", "sim-host=h0,host=0000:02:00.0,"
                     "iommu-group=5");
    bench_object_add("iommufd", "fd0", "");
    bench_device_add("vfio-pci,host=0000:02:00.0,iommufd=fd0,addr=04.0,"
                     "id=hostdev0");
    ms->done = true;
    machine_reset(ms);
}

#endif
