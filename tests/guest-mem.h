/*
 * Shared by the in-process test and bench programs (tests/unit,
 * tests/bench) that play the guest without qtest: little-endian accesses
 * to guest-physical memory through the machine's address_space_memory, as
 * a CPU would make them (unassigned addresses read all-ones, writes there
 * are dropped).
 */
#ifndef TESTS_GUEST_MEM_H
#define TESTS_GUEST_MEM_H

#include <stdint.h>

#include "system/memory.h"

static inline void gst16(uint64_t gpa, uint16_t v)
{
    address_space_stw_le(&address_space_memory, gpa, v,
                         MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline void gst32(uint64_t gpa, uint32_t v)
{
    address_space_stl_le(&address_space_memory, gpa, v,
                         MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline void gst64(uint64_t gpa, uint64_t v)
{
    address_space_stq_le(&address_space_memory, gpa, v,
                         MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline uint16_t gld16(uint64_t gpa)
{
    return address_space_lduw_le(&address_space_memory, gpa,
                                 MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline uint32_t gld32(uint64_t gpa)
{
    return address_space_ldl_le(&address_space_memory, gpa,
                                MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline uint64_t gld64(uint64_t gpa)
{
    return address_space_ldq_le(&address_space_memory, gpa,
                                MEMTXATTRS_UNSPECIFIED, NULL);
}

#endif /* TESTS_GUEST_MEM_H */
