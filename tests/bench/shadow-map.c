/*
 * shadow-map: how fast guest mappings reach the host IOMMU by shadowing.
 *
 * In process: q35 + intel-iommu (caching-mode=on) + a vfio-pci device over
 * iommufd on a simulated host.  The "guest" maps pages in its second-level
 * table and announces each with a page-selective IOTLB invalidation
 * (register based); the vIOMMU turns it into a MAP notification and the
 * VFIO container into IOMMU_IOAS_MAP on the simulated host.  Printed:
 *   - 4K: one invalidation per 4 KiB page;
 *   - 2M runs: 512 contiguous, aligned pages then one invalidation with
 *     AM=9, which arrives as one 2 MiB host mapping;
 * and, measured in the same run, the simulated host's raw IOAS_MAP rate
 * (map+unmap pairs straight through the host-OS layer), the ceiling.
 * Figures only: that the shadowed mappings are right (DMA lands, unmaps
 * fault) is proven by tests/qtest/test-vfio-pci.c.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/mman.h>

#include "host/hostos.h"
#include "hw/boards.h"
#include "hw/pci/pci.h"
#include "linux-iommufd.h"
#include "qapi/qjson.h"
#include "qom/object_interfaces.h"
#include "system/memory.h"
#include "system/qdev-monitor.h"
#include "vtd-guest.h"

#define VFIO_DEVFN (4 << 3)
#define ROOT_GPA 0x100000ull
#define CTX_GPA  0x101000ull
#define PT_GPA   0x200000ull     /* page tables from here (bump allocated) */
#define DATA_GPA 0x4000000ull    /* 64 MiB: what the IOVAs map to */
#define IOVA_4K  0x100000000ull
#define IOVA_2M  0x200000000ull

/* Page-selective IOTLB invalidation of 2^am pages at iova, domain 1. */
static void invalidate(uint64_t iova, unsigned am)
{
    reg_writeq(0xf0, iova | am);
    reg_writeq(0xf8, (1ull << 63) | (3ull << 60) | (1ull << 32));
}

static double raw_ioas_map_rate(void)
{
    const uint64_t size = 4096;
    void *buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
    int fd = hostos_open("/dev/iommu", O_RDWR);
    double t0, dt;
    int n = 0;

    if (fd < 0 || hostos_ioctl(fd, IOMMU_IOAS_ALLOC, &alloc) < 0) {
        fprintf(stderr, "shadow-map: cannot open the simulated /dev/iommu\n");
        exit(1);
    }
    t0 = bench_now_s();
    do {
        struct iommu_ioas_map map = {
            .size = sizeof(map), .ioas_id = alloc.out_ioas_id,
            .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
                     IOMMU_IOAS_MAP_WRITEABLE,
            .user_va = (uintptr_t)buf, .length = size, .iova = 0x10000000,
        };
        struct iommu_ioas_unmap unmap = {
            .size = sizeof(unmap), .ioas_id = alloc.out_ioas_id,
            .iova = 0x10000000, .length = size,
        };

        if (hostos_ioctl(fd, IOMMU_IOAS_MAP, &map) < 0 ||
            hostos_ioctl(fd, IOMMU_IOAS_UNMAP, &unmap) < 0) {
            fprintf(stderr, "shadow-map: raw map/unmap failed\n");
            exit(1);
        }
        n++;
        dt = bench_now_s() - t0;
    } while (dt < 0.5);
    hostos_close(fd);
    munmap(buf, size);
    return n / dt;
}

int main(int argc, char **argv)
{
    const int pages = 8192, runs = 16;
    uint64_t slptr;
    double t0, rate4k, rate2m;

    memory_init_system();
    vtd_guest_machine_up("intel-iommu,caching-mode=on", PT_GPA);

    /* Legacy tables: 00:04.0 in domain 1, 4-level, nothing mapped yet. */
    slptr = alloc_table();
    gst64(ROOT_GPA, CTX_GPA | 1);
    gst64(CTX_GPA + VFIO_DEVFN * 16, slptr | 1);
    gst64(CTX_GPA + VFIO_DEVFN * 16 + 8, (1ull << 8) | 2);
    reg_writeq(0x20, ROOT_GPA);
    gcmd_set(1u << 30);
    gcmd_set(1u << 31);
    if (!(reg_readl(0x1c) & (1u << 31))) {
        fprintf(stderr, "shadow-map: translation did not turn on\n");
        return 1;
    }

    t0 = bench_now_s();
    for (int i = 0; i < pages; i++) {
        uint64_t iova = IOVA_4K + ((uint64_t)i << 12);
        uint64_t gpa = DATA_GPA + ((uint64_t)(i % 4096) << 12);

        gst64(pte_slot(slptr, 4, iova), gpa | 3);
        invalidate(iova, 0);
    }
    rate4k = pages / (bench_now_s() - t0);

    t0 = bench_now_s();
    for (int r = 0; r < runs; r++) {
        uint64_t base = IOVA_2M + ((uint64_t)r << 21);

        for (int i = 0; i < 512; i++) {
            gst64(pte_slot(slptr, 4, base + ((uint64_t)i << 12)),
                  (DATA_GPA + ((uint64_t)(r % 16) << 21) +
                   ((uint64_t)i << 12)) | 3);
        }
        invalidate(base, 9);
    }
    rate2m = runs / (bench_now_s() - t0);

    printf("guest page-selective invalidations -> host IOAS_MAP, 4K:      "
           "%9.0f per second (%d pages)\n", rate4k, pages);
    printf("guest 2M runs (512 PTEs + 1 invalidation, AM=9) -> host maps: "
           "%9.0f runs per second = %.0f MiB/s mapped (%d runs)\n",
           rate2m, rate2m * 2, runs);
    printf("raw simulated-host IOAS_MAP+UNMAP (same run, 4K):               "
           "%9.0f pairs per second\n", raw_ioas_map_rate());
    machine_destroy();
    return 0;
}
