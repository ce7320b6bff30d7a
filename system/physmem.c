/*
 * The data path of address spaces: reads, writes, typed loads and stores,
 * direct mapping of RAM, and the IOMMU translation walk.  Also the
 * machine's two global address spaces.
 */
#include <assert.h>
#include <string.h>

#include <glib.h>

#include "system/memory.h"

AddressSpace address_space_memory;
AddressSpace address_space_io;
static MemoryRegion system_memory;
static MemoryRegion system_io;

void memory_init_system(void)
{
    static bool done;

    if (done) {
        return;
    }
    done = true;
    memory_region_init(&system_memory, NULL, "system", UINT64_MAX);
    memory_region_init(&system_io, NULL, "io", 65536);
    address_space_init(&address_space_memory, &system_memory, "memory");
    address_space_init(&address_space_io, &system_io, "I/O");
    address_space_io.unassigned_ones = true;
}

MemoryRegion *get_system_memory(void)
{
    memory_init_system();
    return &system_memory;
}

MemoryRegion *get_system_io(void)
{
    memory_init_system();
    return &system_io;
}

/* Bound on IOMMU-behind-IOMMU translation, which also stops loops. */
#define IOMMU_MAX_DEPTH 8

/*
 * Where one piece of an access goes.  mr is a RAM, RAM device or I/O
 * region, or NULL with fault set: MEMTX_DECODE_ERROR for an unassigned
 * piece (in address space as), MEMTX_ACCESS_ERROR when an IOMMU denied the
 * access (the rest of the access then fails, whatever len says).
 */
typedef struct Xlat {
    MemoryRegion *mr;
    hwaddr xlat;            /* offset in mr */
    hwaddr len;             /* bytes in mr and in one IOMMU page */
    bool readonly;
    AddressSpace *as;
    MemTxResult fault;
} Xlat;

/* len clipped to rem + 1 bytes; len 0 stays 0, rem + 1 may be 2^64. */
static hwaddr clip_len(hwaddr len, hwaddr rem)
{
    return len == 0 || len - 1 <= rem ? len : rem + 1;
}

/*
 * Resolves addr in as, following IOMMU regions into their target address
 * spaces.  A piece never crosses a section or an IOMMU page.
 */
static void translate(AddressSpace *as, hwaddr addr, hwaddr len,
                      bool is_write, MemTxAttrs attrs, Xlat *x)
{
    unsigned depth;

    memset(x, 0, sizeof(*x));
    for (depth = 0;; depth++) {
        const FlatView *fv = as->current_map;
        unsigned i = fv ? flatview_find(fv, addr) : 0;
        const FlatRange *fr = fv && i < fv->nr ? &fv->ranges[i] : NULL;
        IOMMUMemoryRegion *iommu;
        IOMMUTLBEntry entry;
        hwaddr off;

        x->as = as;
        if (!fr || fr->start > addr) {
            x->len = fr ? clip_len(len, fr->start - addr - 1) : len;
            x->fault = MEMTX_DECODE_ERROR;
            return;
        }
        len = clip_len(len, fr->last - addr);
        off = fr->offset_in_region + (addr - fr->start);
        if (fr->mr->kind != MR_KIND_IOMMU) {
            x->mr = fr->mr;
            x->xlat = off;
            x->len = len;
            x->readonly = fr->readonly;
            return;
        }
        x->len = len;
        iommu = memory_region_get_iommu(fr->mr);
        if (depth == IOMMU_MAX_DEPTH) {
            log_guest_error("%s: IOMMU translation of 0x%" HWADDR_PRIx
                            " nested deeper than %d", as->name, addr,
                            IOMMU_MAX_DEPTH);
            x->fault = MEMTX_ACCESS_ERROR;
            return;
        }
        entry = iommu->iommu_ops->translate(iommu, off,
                                            is_write ? IOMMU_WO : IOMMU_RO,
                                            attrs);
        if (!(entry.perm & (is_write ? IOMMU_WO : IOMMU_RO)) ||
            !entry.target_as) {
            x->fault = MEMTX_ACCESS_ERROR;
            return;
        }
        len = clip_len(len, (off | entry.addr_mask) - off);
        addr = (entry.translated_addr & ~entry.addr_mask) |
               (off & entry.addr_mask);
        as = entry.target_as;
    }
}

static uint64_t ldn_le(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;
    unsigned i;

    for (i = 0; i < size; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static void stn_le(uint8_t *p, unsigned size, uint64_t v)
{
    unsigned i;

    for (i = 0; i < size; i++) {
        p[i] = v >> (8 * i);
    }
}

/* Largest power of two <= max (max >= 1). */
static unsigned pow2_floor(hwaddr max)
{
    unsigned size = 8;

    while (size > max) {
        size >>= 1;
    }
    return size;
}

/* The largest access to an I/O region that valid allows at off. */
static unsigned io_access_size(MemoryRegion *mr, hwaddr off, hwaddr len)
{
    const MemoryRegionOps *ops = mr->ops;
    hwaddr max = ops && ops->valid.max_access_size ?
                 ops->valid.max_access_size : 4;

    if ((!ops || !ops->valid.unaligned) && off) {
        max = MIN(max, off & -off);
    }
    return pow2_floor(MIN(max, len));
}

/*
 * Device memory is read and written with naturally aligned accesses of at
 * most 8 bytes, never with memcpy's choice of widths.
 */
static void ram_device_copy(uint8_t *dev, uint8_t *buf, hwaddr len,
                            bool is_write)
{
    while (len) {
        uintptr_t align = (uintptr_t)dev & -(uintptr_t)dev;
        unsigned size = pow2_floor(MIN(len, align ? align : 8));
        uint64_t v = 0;

        if (is_write) {
            memcpy(&v, buf, size);
        }
        switch (size) {
        case 8:
            if (is_write) {
                *(volatile uint64_t *)dev = v;
            } else {
                v = *(volatile uint64_t *)dev;
            }
            break;
        case 4:
            if (is_write) {
                *(volatile uint32_t *)dev = v;
            } else {
                v = *(volatile uint32_t *)dev;
            }
            break;
        case 2:
            if (is_write) {
                *(volatile uint16_t *)dev = v;
            } else {
                v = *(volatile uint16_t *)dev;
            }
            break;
        default:
            if (is_write) {
                *(volatile uint8_t *)dev = v;
            } else {
                v = *(volatile uint8_t *)dev;
            }
            break;
        }
        if (!is_write) {
            memcpy(buf, &v, size);
        }
        dev += size;
        buf += size;
        len -= size;
    }
}

/*
 * Performs one piece that translate() resolved (not an IOMMU denial).  An
 * I/O piece is one access of x->len bytes, which the caller chose.
 */
static MemTxResult access_piece(const Xlat *x, MemTxAttrs attrs, uint8_t *buf,
                                bool is_write)
{
    uint8_t *ram;
    uint64_t v;
    MemTxResult res;

    if (!x->mr) {
        if (!is_write) {
            memset(buf, x->as->unassigned_ones ? 0xff : 0, x->len);
        }
        return MEMTX_DECODE_ERROR;
    }
    switch (x->mr->kind) {
    case MR_KIND_RAM:
    case MR_KIND_RAM_DEVICE:
        if (is_write && x->readonly) {
            return MEMTX_DECODE_ERROR;
        }
        ram = (uint8_t *)x->mr->ram_ptr + x->xlat;
        if (x->mr->kind == MR_KIND_RAM_DEVICE) {
            ram_device_copy(ram, buf, x->len, is_write);
        } else if (is_write) {
            memcpy(ram, buf, x->len);
        } else {
            memcpy(buf, ram, x->len);
        }
        return MEMTX_OK;
    case MR_KIND_IO:
        if (is_write) {
            return memory_region_dispatch_write(x->mr, x->xlat,
                                                ldn_le(buf, x->len), x->len,
                                                attrs);
        }
        res = memory_region_dispatch_read(x->mr, x->xlat, &v, x->len, attrs);
        stn_le(buf, x->len, v);
        return res;
    default:
        g_assert_not_reached();
    }
}

MemTxResult address_space_rw(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
                             void *buf, hwaddr len, bool is_write)
{
    uint8_t *p = buf;
    MemTxResult res = MEMTX_OK;

    while (len > 0) {
        Xlat x;

        translate(as, addr, len, is_write, attrs, &x);
        if (x.fault == MEMTX_ACCESS_ERROR) {
            if (!is_write) {
                memset(p, 0, len);
            }
            return res | MEMTX_ACCESS_ERROR;
        }
        /*
         * One I/O access per round: the device may change the topology,
         * so the next access is translated afresh.
         */
        if (x.mr && x.mr->kind == MR_KIND_IO) {
            x.len = io_access_size(x.mr, x.xlat, x.len);
        }
        res |= access_piece(&x, attrs, p, is_write);
        p += x.len;
        addr += x.len;
        len -= x.len;
    }
    return res;
}

MemTxResult address_space_read(AddressSpace *as, hwaddr addr,
                               MemTxAttrs attrs, void *buf, hwaddr len)
{
    return address_space_rw(as, addr, attrs, buf, len, false);
}

MemTxResult address_space_write(AddressSpace *as, hwaddr addr,
                                MemTxAttrs attrs, const void *buf,
                                hwaddr len)
{
    /* Not written through: is_write only reads buf. */
    return address_space_rw(as, addr, attrs, (void *)buf, len, true);
}

bool address_space_access_valid(AddressSpace *as, hwaddr addr, hwaddr len,
                                bool is_write, MemTxAttrs attrs)
{
    while (len > 0) {
        Xlat x;

        translate(as, addr, len, is_write, attrs, &x);
        if (!x.mr || (is_write && x.readonly)) {
            return false;
        }
        if (x.mr->kind == MR_KIND_IO) {
            x.len = io_access_size(x.mr, x.xlat, x.len);
            if (!memory_region_access_valid(x.mr, x.xlat, x.len, is_write,
                                            attrs)) {
                return false;
            }
        }
        addr += x.len;
        len -= x.len;
    }
    return true;
}

MemoryRegion *address_space_translate(AddressSpace *as, hwaddr addr,
                                      hwaddr *xlat, hwaddr *len,
                                      bool is_write, MemTxAttrs attrs)
{
    Xlat x;

    translate(as, addr, *len, is_write, attrs, &x);
    *xlat = x.xlat;
    *len = x.len;
    return x.mr;
}

void *address_space_map(AddressSpace *as, hwaddr addr, hwaddr *plen,
                        bool is_write, MemTxAttrs attrs)
{
    hwaddr len = *plen, done = 0;
    MemoryRegion *mr = NULL;
    hwaddr start = 0;

    /* Pieces (IOMMU pages) must continue one another in one RAM region. */
    while (done < len) {
        Xlat x;

        translate(as, addr + done, len - done, is_write, attrs, &x);
        if (!x.mr || x.mr->kind != MR_KIND_RAM || (is_write && x.readonly) ||
            (mr && (x.mr != mr || x.xlat != start + done))) {
            *plen = 0;
            return NULL;
        }
        if (!mr) {
            mr = x.mr;
            start = x.xlat;
        }
        done += x.len;
    }
    if (!mr) {
        *plen = 0;
        return NULL;
    }
    return (uint8_t *)mr->ram_ptr + start;
}

void address_space_unmap(AddressSpace *as, void *buffer, hwaddr len,
                         bool is_write, hwaddr access_len)
{
    /* Nothing to release or write back: map never bounces. */
}

/*
 * A typed access: one access of size bytes when it lands in one I/O
 * region, otherwise through address_space_rw().
 */
static MemTxResult typed_access(AddressSpace *as, hwaddr addr,
                                MemTxAttrs attrs, uint64_t *val,
                                unsigned size, bool is_write)
{
    uint8_t buf[8];
    MemTxResult res;
    Xlat x;

    if (is_write) {
        stn_le(buf, size, *val);
    }
    translate(as, addr, size, is_write, attrs, &x);
    if (x.fault == MEMTX_ACCESS_ERROR) {
        memset(buf, 0, size);
        res = MEMTX_ACCESS_ERROR;
    } else if (x.len < size) {
        res = address_space_rw(as, addr, attrs, buf, size, is_write);
    } else {
        res = access_piece(&x, attrs, buf, is_write);
    }
    if (!is_write) {
        *val = ldn_le(buf, size);
    }
    return res;
}

static uint64_t typed_load(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
                           unsigned size, MemTxResult *result)
{
    uint64_t val = 0;
    MemTxResult res = typed_access(as, addr, attrs, &val, size, false);

    if (result) {
        *result = res;
    }
    return val;
}

static void typed_store(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
                        uint64_t val, unsigned size, MemTxResult *result)
{
    MemTxResult res = typed_access(as, addr, attrs, &val, size, true);

    if (result) {
        *result = res;
    }
}

uint8_t address_space_ldub(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
                           MemTxResult *result)
{
    return typed_load(as, addr, attrs, 1, result);
}

uint16_t address_space_lduw_le(AddressSpace *as, hwaddr addr,
                               MemTxAttrs attrs, MemTxResult *result)
{
    return typed_load(as, addr, attrs, 2, result);
}

uint32_t address_space_ldl_le(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
                              MemTxResult *result)
{
    return typed_load(as, addr, attrs, 4, result);
}

uint64_t address_space_ldq_le(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
                              MemTxResult *result)
{
    return typed_load(as, addr, attrs, 8, result);
}

void address_space_stb(AddressSpace *as, hwaddr addr, uint8_t val,
                       MemTxAttrs attrs, MemTxResult *result)
{
    typed_store(as, addr, attrs, val, 1, result);
}

void address_space_stw_le(AddressSpace *as, hwaddr addr, uint16_t val,
                          MemTxAttrs attrs, MemTxResult *result)
{
    typed_store(as, addr, attrs, val, 2, result);
}

void address_space_stl_le(AddressSpace *as, hwaddr addr, uint32_t val,
                          MemTxAttrs attrs, MemTxResult *result)
{
    typed_store(as, addr, attrs, val, 4, result);
}

void address_space_stq_le(AddressSpace *as, hwaddr addr, uint64_t val,
                          MemTxAttrs attrs, MemTxResult *result)
{
    typed_store(as, addr, attrs, val, 8, result);
}
