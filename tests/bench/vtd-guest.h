/*
 * A VT-d "guest" for in-process benches: plain stores into guest RAM build
 * legacy second-level tables, and register accesses drive intel-iommu at
 * 0xfed90000.  Included by the bench programs only.
 */
#ifndef BENCH_VTD_GUEST_H
#define BENCH_VTD_GUEST_H

#include <stdint.h>

#include "system/memory.h"

#define VTD_BASE 0xfed90000ull

/* Page-table pages are bump-allocated from here (vtd_guest_reset). */
static uint64_t vtd_next_pt;

static inline void vtd_guest_reset(uint64_t pt_base)
{
    vtd_next_pt = pt_base;
}

static inline void gst64(uint64_t gpa, uint64_t v)
{
    address_space_stq_le(&address_space_memory, gpa, v,
                         MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline uint64_t gld64(uint64_t gpa)
{
    return address_space_ldq_le(&address_space_memory, gpa,
                                MEMTXATTRS_UNSPECIFIED, NULL);
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

#endif
