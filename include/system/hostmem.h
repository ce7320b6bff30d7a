/*
 * Host memory backends: -object memory-backend-ram|memory-backend-memfd.
 *
 * A backend owns a block of host memory of a given size, allocated when
 * the object is completed and released when it is deleted.  The memfd
 * flavour keeps a file descriptor (shareable with another process); the ram
 * flavour is anonymous memory.
 */
#ifndef SYSTEM_HOSTMEM_H
#define SYSTEM_HOSTMEM_H

#include "qom/object.h"

#define TYPE_MEMORY_BACKEND "memory-backend"
#define TYPE_MEMORY_BACKEND_RAM "memory-backend-ram"
#define TYPE_MEMORY_BACKEND_MEMFD "memory-backend-memfd"

typedef struct HostMemoryBackend {
    Object parent_obj;
    uint64_t size;
    bool share;
    bool dump;          /* include in core dumps (MADV_DODUMP) */
    bool merge;         /* let KSM merge pages (MADV_MERGEABLE) */
    void *ptr;          /* mapping, NULL until complete */
    int fd;             /* memfd, or -1 */
    unsigned users;     /* holders that keep object-del from freeing it */
} HostMemoryBackend;

DECLARE_INSTANCE_CHECKER(HostMemoryBackend, MEMORY_BACKEND,
                         TYPE_MEMORY_BACKEND)

#endif
