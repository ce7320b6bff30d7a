/*
 * VFIO containers: what keeps an assigned device's host I/O page tables
 * in step with the guest (DESIGN.md, "Data flow" paths 2 and 3).
 *
 * A container is one host DMA context (a legacy type1 container, or an
 * iommufd IOAS) serving every assigned device whose DMA goes through one
 * guest address space (pci_device_iommu_address_space()).  Its memory
 * listener on that address space maps what the devices may reach:
 *
 *   - RAM sections: IOVA = guest address, host VA = the RAM's pointer;
 *   - IOMMU sections (a vIOMMU translates): an IOMMUNotifier (MAP|UNMAP)
 *     on the region, replayed at once; each MAP becomes a host map of the
 *     IOVA to the host VA of the guest page it names, each UNMAP a host
 *     unmap (shadowing);
 *   - nothing else: MMIO, the x86 interrupt window 0xfee00000-0xfeefffff,
 *     other devices' BARs (ram-device regions: no peer-to-peer DMA), and
 *     anything outside the host's usable IOVA ranges.
 *
 * The container keeps a record of every host mapping it made (IOVA, size,
 * host VA, read-only), so that an unmap request is turned into host
 * unmaps of whole mappings (type1 v2 refuses to split one; the parts of a
 * mapping outside the request are mapped again), a map over an existing
 * mapping replaces it, and a repeated identical map is a no-op.
 *
 * The backends (container-legacy.c, iommufd.c) provide dma_map/dma_unmap
 * and own the container's lifetime.  Everything runs in the main loop.
 */
#ifndef HW_VFIO_VFIO_CONTAINER_H
#define HW_VFIO_VFIO_CONTAINER_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "system/memory.h"

#ifndef container_of
/* The structure of type @type whose member @member is at @ptr. */
#define container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))
#endif

typedef struct VFIOContainer VFIOContainer;
typedef struct VFIODevice VFIODevice;

typedef struct VFIOContainerOps {
    const char *name;           /* "legacy", "iommufd": for messages */
    /* One host mapping; 0 or a negative errno with *errp set. */
    int (*dma_map)(VFIOContainer *c, hwaddr iova, uint64_t size,
                   void *vaddr, bool readonly, Error **errp);
    /*
     * Host unmap of [iova, iova + size): whole mappings, maybe several;
     * size 0 (with iova 0) unmaps everything.
     */
    int (*dma_unmap)(VFIOContainer *c, hwaddr iova, uint64_t size,
                     Error **errp);
} VFIOContainerOps;

/*
 * Embedded in the backend's container.  Invariants: @mappings mirrors the
 * host mappings exactly (none overlap); @listening while the listener is
 * registered on @as; @devices is empty only while the container is being
 * created or destroyed.
 */
struct VFIOContainer {
    const VFIOContainerOps *ops;
    AddressSpace *as;
    MemoryListener listener;
    bool listening;
    /* Set while the listener replays at registration: failures are
     * collected in @error instead of reported. */
    bool collecting;
    Error *error;
    GList *iova_ranges;         /* Range *, usable IOVAs; NULL: unknown */
    uint64_t pgsizes;           /* supported page sizes; 4 KiB minimum */
    GTree *mappings;            /* hwaddr iova -> VFIOMapping * */
    GSList *giommus;            /* VFIOGuestIOMMU * */
    GSList *devices;            /* VFIODevice * */
};

/* One host mapping the container made. */
typedef struct VFIOMapping {
    hwaddr iova;
    uint64_t size;
    void *vaddr;
    bool readonly;
} VFIOMapping;

/* Initialises the base (no listener yet). */
void vfio_container_init(VFIOContainer *c, const VFIOContainerOps *ops,
                         AddressSpace *as);
/* Unregisters the listener (unmapping everything) and frees the base. */
void vfio_container_destroy(VFIOContainer *c);

/*
 * Registers the listener on c->as: the current sections are mapped (and
 * IOMMU regions replayed) at once.  false with *errp if any of that
 * failed; the listener is then unregistered again and nothing stays
 * mapped.
 */
bool vfio_container_listen(VFIOContainer *c, Error **errp);
void vfio_container_unlisten(VFIOContainer *c);

/* Replaces the usable IOVA ranges (takes ownership of @ranges). */
void vfio_container_set_ranges(VFIOContainer *c, GList *ranges,
                               uint64_t pgsizes);

/*
 * Host map of [iova, iova + size) to vaddr, recorded; mappings it
 * overlaps are removed first.  Returns 0 or a negative errno (*errp set).
 */
int vfio_container_map(VFIOContainer *c, hwaddr iova, uint64_t size,
                       void *vaddr, bool readonly, Error **errp);
/* Removes every host mapping in [first, last] (inclusive). */
int vfio_container_unmap(VFIOContainer *c, hwaddr first, hwaddr last,
                         Error **errp);
/* Number of host mappings and bytes mapped (tests, introspection). */
unsigned vfio_container_nr_mappings(VFIOContainer *c);

#endif
