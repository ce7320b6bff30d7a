/*
 * The memory API: regions, address spaces, listeners and IOMMU regions.
 *
 * A MemoryRegion is a plain struct embedded in the device that owns it.  It
 * is one of: a container (holds subregions only), RAM (host memory), an I/O
 * region (callbacks in MemoryRegionOps), an alias (a window onto part of
 * another region) or an IOMMU region (translates, see IOMMUMemoryRegion).
 * Any region except an alias may hold subregions; a subregion has an address
 * inside its container and a priority: where subregions overlap the higher
 * priority wins, and among equal priorities the one added last.  RAM, I/O
 * and IOMMU regions show through where none of their subregions do.
 *
 * An AddressSpace is a root region plus its flat view: the sorted,
 * non-overlapping list of the terminal regions (RAM, I/O, IOMMU) visible
 * from the root, aliases resolved.  Every topology change recomputes the
 * view of every address space when the outermost transaction commits, and
 * tells the address space's MemoryListeners which sections went away and
 * which appeared.
 *
 * Threading: everything here runs in the main loop thread, or with the big
 * lock held.  Nothing is reference counted: a region must be removed from
 * its container (and no longer be an address space root or alias target)
 * before memory_region_finalize(), and its owner must outlive it.
 */
#ifndef SYSTEM_MEMORY_H
#define SYSTEM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>

#include "qapi/error.h"
#include "qom/object.h"

typedef uint64_t hwaddr;
#define HWADDR_PRIx PRIx64
#define HWADDR_MAX UINT64_MAX

/* Result of a memory transaction: a bit mask, MEMTX_OK when empty. */
typedef uint32_t MemTxResult;
#define MEMTX_OK 0
#define MEMTX_ERROR (1U << 0)         /* device reported an error */
#define MEMTX_DECODE_ERROR (1U << 1)  /* nothing there, or access refused */
#define MEMTX_ACCESS_ERROR (1U << 2)  /* an IOMMU denied the access */

/*
 * Who issues a transaction.  DMA from a PCI device carries its requester
 * id (bus << 8 | devfn) and, for PASID-tagged DMA, pasid with pasid_valid;
 * a vIOMMU's translate() sees them.
 */
typedef struct MemTxAttrs {
    unsigned int unspecified : 1;  /* issuer unknown (CPU, debug access) */
    unsigned int secure : 1;       /* unused on x86 */
    unsigned int pasid_valid : 1;
    uint16_t requester_id;
    uint32_t pasid;
} MemTxAttrs;

#define MEMTXATTRS_UNSPECIFIED ((MemTxAttrs){ .unspecified = 1 })

typedef struct MemoryRegion MemoryRegion;
typedef struct MemoryRegionOps MemoryRegionOps;
typedef struct MemoryRegionSection MemoryRegionSection;
typedef struct MemoryListener MemoryListener;
typedef struct AddressSpace AddressSpace;
typedef struct FlatView FlatView;
typedef struct IOMMUMemoryRegion IOMMUMemoryRegion;
typedef struct IOMMUMemoryRegionOps IOMMUMemoryRegionOps;
typedef struct IOMMUNotifier IOMMUNotifier;

/* Byte order of an I/O region's values; x86 only knows little endian. */
enum device_endian {
    DEVICE_NATIVE_ENDIAN,
    DEVICE_LITTLE_ENDIAN,
};

/*
 * Callbacks of an I/O region.  addr is the offset in the region, size is
 * 1, 2, 4 or 8, values are little endian.  The *_with_attrs variants, when
 * set, are used instead of read/write.  A missing read handler reads 0, a
 * missing write handler drops the write.
 *
 * valid: the accesses a guest may make.  An access with a size outside
 * [min_access_size, max_access_size], misaligned without unaligned, or
 * refused by accepts() fails with MEMTX_DECODE_ERROR: reads return 0 and
 * writes are dropped.  address_space_rw() splits a buffer into the largest
 * valid accesses; the typed loads and stores make exactly one access.
 *
 * impl: the accesses the callbacks handle.  The core turns a valid access
 * into impl-sized ones: wider accesses are split, narrower ones widened
 * (reads keep the requested bytes, writes pass zeros in the other bytes);
 * without impl.unaligned each callback access is aligned to its size.
 *
 * A zero min/max access size means 1/4.
 */
struct MemoryRegionOps {
    uint64_t (*read)(void *opaque, hwaddr addr, unsigned size);
    void (*write)(void *opaque, hwaddr addr, uint64_t data, unsigned size);
    MemTxResult (*read_with_attrs)(void *opaque, hwaddr addr, uint64_t *data,
                                   unsigned size, MemTxAttrs attrs);
    MemTxResult (*write_with_attrs)(void *opaque, hwaddr addr, uint64_t data,
                                    unsigned size, MemTxAttrs attrs);
    enum device_endian endianness;
    struct {
        unsigned min_access_size;
        unsigned max_access_size;
        bool unaligned;
        bool (*accepts)(void *opaque, hwaddr addr, unsigned size,
                        bool is_write, MemTxAttrs attrs);
    } valid;
    struct {
        unsigned min_access_size;
        unsigned max_access_size;
        bool unaligned;
    } impl;
};

typedef enum MemoryRegionKind {
    MR_KIND_CONTAINER,
    MR_KIND_RAM,         /* ram_ptr; accessed with memcpy */
    MR_KIND_RAM_DEVICE,  /* ram_ptr onto device memory (a VFIO BAR mmap):
                          * accessed with aligned loads/stores of <= 8 bytes */
    MR_KIND_IO,
    MR_KIND_ALIAS,
    MR_KIND_IOMMU,       /* embedded in an IOMMUMemoryRegion */
} MemoryRegionKind;

/*
 * A region.  Initialised by one memory_region_init*() and released by
 * memory_region_finalize(); the memory itself belongs to the caller.
 *
 * Invariants: a region is in at most one container (container != NULL
 * exactly while mapped); an alias has no subregions; subregions is sorted
 * by descending priority, and among equal priorities newest first, which
 * is the order the flattening lets them win.
 */
struct MemoryRegion {
    Object *owner;              /* not referenced; names/identifies only */
    char *name;                 /* owned */
    uint64_t size;              /* UINT64_MAX stands for 2^64 */
    MemoryRegionKind kind;
    bool enabled;               /* true after init */
    bool readonly;              /* RAM: writes are dropped */
    bool ram_mmapped;           /* ram_ptr came from mmap() in init_ram */

    void *ram_ptr;              /* RAM, RAM_DEVICE */
    const MemoryRegionOps *ops; /* IO; NULL refuses every access */
    void *opaque;               /* IO: passed to ops */
    MemoryRegion *alias;        /* ALIAS: the region it shows */
    hwaddr alias_offset;        /* ALIAS: offset of the window in alias */
    unsigned alias_count;       /* aliases whose target is this region */

    MemoryRegion *container;    /* NULL while unmapped */
    hwaddr addr;                /* offset in container */
    int priority;
    MemoryRegion *subregions;   /* first child, see invariants */
    MemoryRegion *next_sibling; /* next child of container */
};

/*
 * A contiguous piece of an address space backed by one terminal region
 * (never an alias or container).  Passed to listeners; valid during the
 * callback only (copy what must be kept).
 */
struct MemoryRegionSection {
    MemoryRegion *mr;
    FlatView *fv;                       /* the view the section belongs to */
    hwaddr offset_within_region;
    hwaddr offset_within_address_space;
    uint64_t size;                      /* UINT64_MAX stands for 2^64 */
    bool readonly;
};

/*
 * Observer of one address space's flat view.  On a change: begin(), then
 * region_del() for each section that went away (listeners by descending
 * priority), region_add() for each that appeared (ascending priority),
 * commit().  A section that moved or changed size is a del plus an add.
 * begin/commit are sent only when the view changed.  All callbacks are
 * optional.  The listener is linked into the address space from
 * memory_listener_register() to memory_listener_unregister() (or
 * address_space_destroy()) and must stay allocated for that time.
 */
struct MemoryListener {
    void (*begin)(MemoryListener *listener);
    void (*commit)(MemoryListener *listener);
    void (*region_add)(MemoryListener *listener, MemoryRegionSection *section);
    void (*region_del)(MemoryListener *listener, MemoryRegionSection *section);
    unsigned priority;
    const char *name;

    /* private */
    AddressSpace *address_space;        /* NULL while unregistered */
    MemoryListener *next;               /* in address_space, by priority */
};

/*
 * Flat view internals, shared by system/memory.c and system/physmem.c.
 * ranges is sorted by start, ranges do not overlap, none is empty.
 * A view is immutable; a topology change builds a new one.
 */
typedef struct FlatRange {
    MemoryRegion *mr;           /* terminal region */
    hwaddr offset_in_region;    /* of start */
    hwaddr start, last;         /* inclusive, in the address space */
    bool readonly;
} FlatRange;

struct FlatView {
    FlatRange *ranges;
    unsigned nr, nr_allocated;
};

/* Index of the first range with last >= addr, fv->nr if none. */
unsigned flatview_find(const FlatView *fv, hwaddr addr);

/*
 * An address space: the view from root.  Initialised by
 * address_space_init(), released by address_space_destroy().  current_map
 * is replaced on every topology change that affects it.
 */
struct AddressSpace {
    char *name;                 /* owned */
    MemoryRegion *root;
    FlatView *current_map;      /* owned; NULL before init */
    bool unassigned_ones;       /* unassigned reads return all-ones (I/O) */
    MemoryListener *listeners;  /* ascending priority */
    AddressSpace *next;         /* in the list of all address spaces */
};

/* --- IOMMU --------------------------------------------------------------- */

typedef enum IOMMUAccessFlags {
    IOMMU_NONE = 0,
    IOMMU_RO = 1,
    IOMMU_WO = 2,
    IOMMU_RW = 3,
} IOMMUAccessFlags;

#define IOMMU_ACCESS_FLAG(r, w) (((r) ? IOMMU_RO : 0) | ((w) ? IOMMU_WO : 0))

/*
 * One translation: [iova, iova + addr_mask] maps to
 * [translated_addr, translated_addr + addr_mask] in target_as with perm.
 * addr_mask is a page size minus one and iova is aligned to it.
 */
typedef struct IOMMUTLBEntry {
    AddressSpace *target_as;
    hwaddr iova;
    hwaddr translated_addr;
    hwaddr addr_mask;
    IOMMUAccessFlags perm;
} IOMMUTLBEntry;

typedef enum IOMMUNotifierFlag {
    IOMMU_NOTIFIER_NONE = 0,
    IOMMU_NOTIFIER_UNMAP = 0x1,
    IOMMU_NOTIFIER_MAP = 0x2,
    IOMMU_NOTIFIER_DEVIOTLB_UNMAP = 0x4,
} IOMMUNotifierFlag;

#define IOMMU_NOTIFIER_IOTLB_EVENTS (IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP)
#define IOMMU_NOTIFIER_ALL \
    (IOMMU_NOTIFIER_IOTLB_EVENTS | IOMMU_NOTIFIER_DEVIOTLB_UNMAP)

/* A MAP carries the new mapping; an UNMAP has perm IOMMU_NONE. */
typedef struct IOMMUTLBEvent {
    IOMMUNotifierFlag type;
    IOMMUTLBEntry entry;
} IOMMUTLBEvent;

typedef void (*IOMMUNotify)(IOMMUNotifier *n, IOMMUTLBEntry *entry);

/*
 * A subscriber to an IOMMU region's mapping changes in [start, end]
 * (inclusive, offsets in the region).  Embedded by the subscriber (a VFIO
 * container); linked into the region from
 * memory_region_register_iommu_notifier() to
 * memory_region_unregister_iommu_notifier().  An event's entry may extend
 * beyond [start, end]; the notifier clips it.
 */
struct IOMMUNotifier {
    IOMMUNotify notify;
    IOMMUNotifierFlag notifier_flags;
    hwaddr start;
    hwaddr end;
    IOMMUNotifier *next;        /* private: in the region's list */
};

void iommu_notifier_init(IOMMUNotifier *n, IOMMUNotify fn,
                         IOMMUNotifierFlag flags, hwaddr start, hwaddr end);

struct IOMMUMemoryRegionOps {
    /*
     * Translates one address (an offset in the region).  flag is the
     * access needed (IOMMU_RO read, IOMMU_WO write); IOMMU_NONE is a
     * lookup that must not raise a fault (replay, map).  attrs carries the
     * requester id and PASID.  The result's perm is IOMMU_NONE when
     * nothing is mapped; addr_mask is still a page mask.
     */
    IOMMUTLBEntry (*translate)(IOMMUMemoryRegion *iommu, hwaddr addr,
                               IOMMUAccessFlags flag, MemTxAttrs attrs);
    /*
     * Optional.  The union of the notifiers' flags changes from old to
     * new; returns 0, or a negative errno with errp set to refuse (a new
     * notifier is then not registered).  Refusals of a reduction are
     * ignored.
     */
    int (*notify_flag_changed)(IOMMUMemoryRegion *iommu,
                               IOMMUNotifierFlag old_flags,
                               IOMMUNotifierFlag new_flags, Error **errp);
    /* Optional: announce every current mapping in n's range as MAP. */
    void (*replay)(IOMMUMemoryRegion *iommu, IOMMUNotifier *n);
    /* Optional: the smallest page size, 4 KiB when absent. */
    uint64_t (*get_min_page_size)(IOMMUMemoryRegion *iommu);
};

/*
 * An IOMMU region: DMA that lands on it is translated.  Embedded by a
 * vIOMMU, one per device address space, usually as that address space's
 * root.  iommu_notify lists the registered notifiers;
 * iommu_notify_flags is always the union of their flags.
 */
struct IOMMUMemoryRegion {
    MemoryRegion parent_obj;
    const IOMMUMemoryRegionOps *iommu_ops;
    IOMMUNotifier *iommu_notify;
    IOMMUNotifierFlag iommu_notify_flags;
};

/* --- Regions ------------------------------------------------------------- */

void memory_region_init(MemoryRegion *mr, Object *owner, const char *name,
                        uint64_t size);
void memory_region_init_io(MemoryRegion *mr, Object *owner,
                           const MemoryRegionOps *ops, void *opaque,
                           const char *name, uint64_t size);
/* Page-aligned, zeroed, private anonymous memory. */
bool memory_region_init_ram(MemoryRegion *mr, Object *owner,
                            const char *name, uint64_t size, Error **errp);
/* ptr belongs to the caller and must outlive the region. */
void memory_region_init_ram_ptr(MemoryRegion *mr, Object *owner,
                                const char *name, uint64_t size, void *ptr);
void memory_region_init_ram_device_ptr(MemoryRegion *mr, Object *owner,
                                       const char *name, uint64_t size,
                                       void *ptr);
/* Shows [offset, offset + size) of orig; orig must outlive the alias. */
void memory_region_init_alias(MemoryRegion *mr, Object *owner,
                              const char *name, MemoryRegion *orig,
                              hwaddr offset, uint64_t size);
void memory_region_init_iommu(IOMMUMemoryRegion *iommu_mr,
                              const IOMMUMemoryRegionOps *ops, Object *owner,
                              const char *name, uint64_t size);
/*
 * Removes mr from its container and its subregions from it, then frees
 * what init allocated (RAM is unmapped).  mr must not be an alias target,
 * an address space root or hold IOMMU notifiers, and no transaction may be
 * open (the views must drop mr at once).
 */
void memory_region_finalize(MemoryRegion *mr);

void memory_region_add_subregion(MemoryRegion *mr, hwaddr offset,
                                 MemoryRegion *subregion);
void memory_region_add_subregion_overlap(MemoryRegion *mr, hwaddr offset,
                                         MemoryRegion *subregion,
                                         int priority);
void memory_region_del_subregion(MemoryRegion *mr, MemoryRegion *subregion);
void memory_region_set_enabled(MemoryRegion *mr, bool enabled);
void memory_region_set_address(MemoryRegion *mr, hwaddr addr);
void memory_region_set_alias_offset(MemoryRegion *mr, hwaddr offset);
void memory_region_set_readonly(MemoryRegion *mr, bool readonly);

const char *memory_region_name(const MemoryRegion *mr);
uint64_t memory_region_size(const MemoryRegion *mr);
bool memory_region_is_ram(const MemoryRegion *mr);
bool memory_region_is_ram_device(const MemoryRegion *mr);
bool memory_region_is_iommu(MemoryRegion *mr);
/* The IOMMU region mr is or aliases, NULL if none. */
IOMMUMemoryRegion *memory_region_get_iommu(MemoryRegion *mr);
/* Host address of offset 0 of RAM (through aliases), NULL if not RAM. */
void *memory_region_get_ram_ptr(MemoryRegion *mr);

/*
 * Topology changes between begin and the matching commit are applied at
 * the outermost commit.  Nestable; a change outside any transaction is
 * applied at once.
 */
void memory_region_transaction_begin(void);
void memory_region_transaction_commit(void);

/*
 * One access to an I/O region at offset addr, with the valid/impl rules of
 * MemoryRegionOps.  For the data path; device code uses address spaces.
 */
bool memory_region_access_valid(MemoryRegion *mr, hwaddr addr, unsigned size,
                                bool is_write, MemTxAttrs attrs);
MemTxResult memory_region_dispatch_read(MemoryRegion *mr, hwaddr addr,
                                        uint64_t *data, unsigned size,
                                        MemTxAttrs attrs);
MemTxResult memory_region_dispatch_write(MemoryRegion *mr, hwaddr addr,
                                         uint64_t data, unsigned size,
                                         MemTxAttrs attrs);

/* --- IOMMU regions and notifiers ----------------------------------------- */

/* Registers n on mr (an IOMMU region or an alias of one). */
bool memory_region_register_iommu_notifier(MemoryRegion *mr, IOMMUNotifier *n,
                                           Error **errp);
void memory_region_unregister_iommu_notifier(MemoryRegion *mr,
                                             IOMMUNotifier *n);
/* Delivers event to every notifier whose range and flags match. */
void memory_region_notify_iommu(IOMMUMemoryRegion *iommu_mr,
                                IOMMUTLBEvent *event);
void memory_region_notify_iommu_one(IOMMUNotifier *n, IOMMUTLBEvent *event);
/* Sends one UNMAP for n's whole range (vIOMMU reset). */
void memory_region_unmap_iommu_notifier_range(IOMMUNotifier *n);
/*
 * Announces the current mappings in n's range to n.  Without a replay op,
 * walks translate() in steps of the minimum page size; ranges of more
 * than 2^32 pages are refused with a warning.
 */
void memory_region_iommu_replay(IOMMUMemoryRegion *iommu_mr, IOMMUNotifier *n);
uint64_t memory_region_iommu_get_min_page_size(IOMMUMemoryRegion *iommu_mr);

/* --- Listeners ----------------------------------------------------------- */

/* Replays the current sections as region_add, inside begin/commit. */
void memory_listener_register(MemoryListener *listener, AddressSpace *as);
/* Sends region_del for every section, inside begin/commit. */
void memory_listener_unregister(MemoryListener *listener);

/* --- Address spaces ------------------------------------------------------ */

void address_space_init(AddressSpace *as, MemoryRegion *root,
                        const char *name);
/* Listeners still registered receive region_del for all and are detached. */
void address_space_destroy(AddressSpace *as);

/* The machine's memory and I/O port spaces (the latter 64 KiB). */
extern AddressSpace address_space_memory;
extern AddressSpace address_space_io;
/* Creates the two above; idempotent, also run by get_system_*(). */
void memory_init_system(void);
MemoryRegion *get_system_memory(void);
MemoryRegion *get_system_io(void);

/*
 * Reads or writes len bytes at addr, splitting at section and IOMMU page
 * boundaries.  Unassigned bytes read as 0 (all-ones in the I/O space) and
 * give MEMTX_DECODE_ERROR.  An IOMMU denial fails the rest of the access
 * with MEMTX_ACCESS_ERROR, reads zero-filled, writes not performed; so
 * does a chain of more than 8 nested IOMMUs (an IOMMU loop).  The result
 * is the OR of every piece's result.
 */
MemTxResult address_space_rw(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
                             void *buf, hwaddr len, bool is_write);
MemTxResult address_space_read(AddressSpace *as, hwaddr addr,
                               MemTxAttrs attrs, void *buf, hwaddr len);
MemTxResult address_space_write(AddressSpace *as, hwaddr addr,
                                MemTxAttrs attrs, const void *buf,
                                hwaddr len);
/* Whether the whole range is accessible: mapped, permitted, valid sizes. */
bool address_space_access_valid(AddressSpace *as, hwaddr addr, hwaddr len,
                                bool is_write, MemTxAttrs attrs);

/*
 * The terminal region at addr after IOMMU translation, with *xlat the
 * offset in it and *len reduced to the bytes that stay in it (and in one
 * IOMMU page).  NULL when nothing is mapped or an IOMMU denies the access.
 */
MemoryRegion *address_space_translate(AddressSpace *as, hwaddr addr,
                                      hwaddr *xlat, hwaddr *len,
                                      bool is_write, MemTxAttrs attrs);

/*
 * A host pointer to [addr, addr + *plen) when the whole range is one
 * stretch of one RAM region (through IOMMU pages too); otherwise NULL with
 * *plen set to 0.  No bounce buffer.  Release with address_space_unmap().
 */
void *address_space_map(AddressSpace *as, hwaddr addr, hwaddr *plen,
                        bool is_write, MemTxAttrs attrs);
void address_space_unmap(AddressSpace *as, void *buffer, hwaddr len,
                         bool is_write, hwaddr access_len);

/*
 * Typed accesses, little endian.  An access inside one I/O region is one
 * access of that size; result (may be NULL) receives the MemTxResult.
 */
uint8_t address_space_ldub(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
                           MemTxResult *result);
uint16_t address_space_lduw_le(AddressSpace *as, hwaddr addr,
                               MemTxAttrs attrs, MemTxResult *result);
uint32_t address_space_ldl_le(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
                              MemTxResult *result);
uint64_t address_space_ldq_le(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
                              MemTxResult *result);
void address_space_stb(AddressSpace *as, hwaddr addr, uint8_t val,
                       MemTxAttrs attrs, MemTxResult *result);
void address_space_stw_le(AddressSpace *as, hwaddr addr, uint16_t val,
                          MemTxAttrs attrs, MemTxResult *result);
void address_space_stl_le(AddressSpace *as, hwaddr addr, uint32_t val,
                          MemTxAttrs attrs, MemTxResult *result);
void address_space_stq_le(AddressSpace *as, hwaddr addr, uint64_t val,
                          MemTxAttrs attrs, MemTxResult *result);

#endif
