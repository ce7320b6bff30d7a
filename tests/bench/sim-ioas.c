/*
 * Raw map+unmap pairs per second on a simulated host, through the host-OS
 * layer as viommu's VFIO code calls it: IOMMU_IOAS_MAP + IOMMU_IOAS_UNMAP
 * on an IOAS with a device attached, and VFIO_IOMMU_MAP_DMA +
 * VFIO_IOMMU_UNMAP_DMA on a type1v2 container, at 4 KiB, 2 MiB and 1 GiB.
 * These are the ceilings the shadowing path is measured against.
 *
 *   build/tests/bench/sim-ioas [seconds-per-figure]   (default 0.5)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>

#include "host/hostos.h"
#include "viommu-sim.h"
#include "linux-iommufd.h"
#include "linux-vfio.h"

#define BDF         "0000:02:00.0"
#define GROUP       5
#define IOVA_BASE   (1ull << 32)
#define SZ_4K       (1ull << 12)
#define SZ_2M       (1ull << 21)
#define SZ_1G       (1ull << 30)

static double seconds = 0.5;

static void die(const char *what)
{
    fprintf(stderr, "sim-ioas: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int xopen(const char *path)
{
    int fd = hostos_open(path, O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        die(path);
    }
    return fd;
}

static void xioctl(int fd, unsigned long req, void *arg, const char *what)
{
    if (hostos_ioctl(fd, req, arg) < 0) {
        die(what);
    }
}

/* Runs @pair until the time is up; returns pairs per second. */
static double measure(bool (*pair)(void *opaque), void *opaque)
{
    int64_t start = g_get_monotonic_time(), now;
    uint64_t n = 0;

    do {
        for (int i = 0; i < 64; i++) {
            if (!pair(opaque)) {
                die("map/unmap pair");
            }
        }
        n += 64;
        now = g_get_monotonic_time();
    } while (now - start < seconds * G_USEC_PER_SEC);
    return n * (double)G_USEC_PER_SEC / (now - start);
}

typedef struct Pair {
    int fd;
    uint32_t ioas;
    uint64_t uva, size;
} Pair;

static bool ioas_pair(void *opaque)
{
    Pair *p = opaque;
    struct iommu_ioas_map map = {
        .size = sizeof(map), .ioas_id = p->ioas,
        .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
                 IOMMU_IOAS_MAP_WRITEABLE,
        .user_va = p->uva, .length = p->size, .iova = IOVA_BASE,
    };
    struct iommu_ioas_unmap unmap = {
        .size = sizeof(unmap), .ioas_id = p->ioas,
        .iova = IOVA_BASE, .length = p->size,
    };

    return hostos_ioctl(p->fd, IOMMU_IOAS_MAP, &map) == 0 &&
           hostos_ioctl(p->fd, IOMMU_IOAS_UNMAP, &unmap) == 0 &&
           unmap.length == p->size;
}

static bool type1_pair(void *opaque)
{
    Pair *p = opaque;
    struct vfio_iommu_type1_dma_map map = {
        .argsz = sizeof(map),
        .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
        .vaddr = p->uva, .iova = IOVA_BASE, .size = p->size,
    };
    struct vfio_iommu_type1_dma_unmap unmap = {
        .argsz = sizeof(unmap), .iova = IOVA_BASE, .size = p->size,
    };

    return hostos_ioctl(p->fd, VFIO_IOMMU_MAP_DMA, &map) == 0 &&
           hostos_ioctl(p->fd, VFIO_IOMMU_UNMAP_DMA, &unmap) == 0 &&
           unmap.size == p->size;
}

static const uint64_t sizes[] = { SZ_4K, SZ_2M, SZ_1G };
static const char *const size_names[] = { "4K", "2M", "1G" };

/* The device's cdev, found as a VMM finds it: sysfs vfio-dev/. */
static int open_cdev(void)
{
    char **names = NULL;
    g_autofree char *path = NULL;
    int fd;

    if (hostos_listdir("/sys/bus/pci/devices/" BDF "/vfio-dev", &names) < 1) {
        die("vfio-dev");
    }
    path = g_strdup_printf("/dev/vfio/devices/%s", names[0]);
    g_strfreev(names);
    fd = xopen(path);
    return fd;
}

static void bench_iommufd(uint64_t uva)
{
    int iommufd = xopen("/dev/iommu");
    int dev = open_cdev();
    struct vfio_device_bind_iommufd bind = {
        .argsz = sizeof(bind), .iommufd = iommufd,
    };
    struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
    struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
    Pair p = { .fd = iommufd, .uva = uva };

    xioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &bind, "BIND_IOMMUFD");
    xioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc, "IOAS_ALLOC");
    attach.pt_id = alloc.out_ioas_id;
    xioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach, "ATTACH");
    p.ioas = alloc.out_ioas_id;
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        p.size = sizes[i];
        printf("IOMMU_IOAS_MAP+UNMAP          %s: %10.0f pairs/s\n",
               size_names[i], measure(ioas_pair, &p));
    }
    hostos_close(dev);
    hostos_close(iommufd);
}

static void bench_type1(uint64_t uva)
{
    int container = xopen("/dev/vfio/vfio");
    int group = xopen("/dev/vfio/" G_STRINGIFY(GROUP));
    Pair p = { .fd = container, .uva = uva };

    xioctl(group, VFIO_GROUP_SET_CONTAINER, &container, "SET_CONTAINER");
    xioctl(container, VFIO_SET_IOMMU, (void *)(uintptr_t)VFIO_TYPE1v2_IOMMU,
           "SET_IOMMU");
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        p.size = sizes[i];
        printf("VFIO_IOMMU_MAP_DMA+UNMAP_DMA  %s: %10.0f pairs/s\n",
               size_names[i], measure(type1_pair, &p));
    }
    hostos_close(group);
    hostos_close(container);
}

int main(int argc, char **argv)
{
    SimHost *host;
    SimHostDesc desc;
    SimDeviceDesc dd;
    void *buf;
    uint64_t uva;

    if (argc > 1) {
        seconds = g_ascii_strtod(argv[1], NULL);
        if (!(seconds > 0 && seconds < 3600)) {
            fprintf(stderr, "usage: %s [seconds-per-figure]\n", argv[0]);
            return 2;
        }
    }
    sim_host_desc_init(&desc);
    sim_device_desc_init(&dd);
    g_strlcpy(dd.bdf, BDF, sizeof(dd.bdf));
    dd.group = GROUP;
    errno = -sim_host_new(&desc, &host);
    if (errno || (errno = -sim_host_add_device(host, &dd, NULL)) ||
        (errno = -hostos_set_sim(host))) {
        die("simulated host");
    }
    /* 1 GiB of address space at a 1 GiB boundary; never touched */
    buf = mmap(NULL, 2 * SZ_1G, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (buf == MAP_FAILED) {
        die("mmap");
    }
    uva = ((uintptr_t)buf + SZ_1G - 1) & ~(SZ_1G - 1);

    printf("sim-ioas: map+unmap pairs per second through the host-OS "
           "layer (%.1f s each)\n", seconds);
    bench_iommufd(uva);
    bench_type1(uva);

    munmap(buf, 2 * SZ_1G);
    hostos_clear_sim(host);
    sim_host_free(host);
    return 0;
}
