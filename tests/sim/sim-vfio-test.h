/*
 * Helpers shared by the libviommu-sim VFIO tests (test-sim-vfio.c,
 * test-sim-vfio-irq.c): a VMM's legacy container/group/device flow on a
 * host with one "dma" device (0000:02:00.0, group 7), type1 map/unmap,
 * device access through the fd (regions, config, the engine in BAR0),
 * SET_IRQS and eventfds.  Driven through the public API as a VMM drives
 * the kernel; with -DSIM_TEST_VIA_LIBC the same calls become system calls
 * (sim-test-libc.h).  A failing call returns -errno, as sim_ioctl does.
 */
#ifndef SIM_VFIO_TEST_H
#define SIM_VFIO_TEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim-internal.h"
#include "sim-pci-model-regs.h"
#include "../test-fds.h"
#ifdef SIM_TEST_VIA_LIBC
#include "sim-test-libc.h"
#endif

#define P           4096ull
#define BDF         "0000:02:00.0"
#define GROUP       7
#define HOST_TEXT   ";device:bdf=" BDF ",group=7"
#define IOVA        0x100000ull
#define CFG         VFIO_PCI_CONFIG_REGION_INDEX

/* Page-aligned test memory that the device reads and writes. */
typedef struct Mem {
    uint8_t *p;
    size_t size;
} Mem;

static inline void mem_alloc(Mem *m, size_t size)
{
    m->size = size;
    m->p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_assert_true(m->p != MAP_FAILED);
    memset(m->p, 0, size);
}

static inline void mem_free(Mem *m)
{
    munmap(m->p, m->size);
}

static inline uint64_t uva(const Mem *m, size_t off)
{
    return (uintptr_t)m->p + off;
}

#define OK(expr)        g_assert_cmpint((expr), ==, 0)
#define ERR(expr, e)    g_assert_cmpint((expr), ==, -(e))
#define EQ(a, b)        g_assert_cmpint((int64_t)(a), ==, (int64_t)(b))

/* ioctl returning -errno, as sim_ioctl does */
#define IOC(h, fd, req, arg) sim_ioctl((h), (fd), (req), (void *)(arg))
#define IOCV(h, fd, req, val) sim_ioctl((h), (fd), (req), \
                                        (void *)(uintptr_t)(val))

static inline SimHost *host_new(const char *text)
{
    SimHost *h = NULL;

    OK(sim_host_new_from_string(text, &h));
    return h;
}

static inline int group_open(SimHost *h, int group)
{
    g_autofree char *path = g_strdup_printf("/dev/vfio/%d", group);

    return sim_open(h, path, O_RDWR | O_CLOEXEC, 0);
}

/* ---- a VMM's legacy flow ------------------------------------------------ */

typedef struct Legacy {
    SimHost *h;
    SimDevice *dev;
    int c, g, fd;           /* container, group, device */
} Legacy;

static inline void legacy_up(Legacy *l, const char *text, int iommu_type)
{
    int c;

    l->h = host_new(text);
    l->dev = sim_host_find_device(l->h, BDF);
    g_assert_nonnull(l->dev);
    l->c = sim_open(l->h, "/dev/vfio/vfio", O_RDWR, 0);
    g_assert_cmpint(l->c, >=, 0);
    l->g = group_open(l->h, GROUP);
    g_assert_cmpint(l->g, >=, 0);
    c = l->c;
    OK(IOC(l->h, l->g, VFIO_GROUP_SET_CONTAINER, &c));
    OK(IOCV(l->h, l->c, VFIO_SET_IOMMU, iommu_type));
    l->fd = IOC(l->h, l->g, VFIO_GROUP_GET_DEVICE_FD, BDF);
    g_assert_cmpint(l->fd, >=, 0);
}

static inline void legacy_down(Legacy *l)
{
    if (l->fd >= 0) {
        OK(sim_close(l->h, l->fd));
    }
    OK(sim_close(l->h, l->g));
    OK(sim_close(l->h, l->c));
    sim_host_free(l->h);
}

static inline int dma_map(SimHost *h, int c, uint64_t vaddr, uint64_t iova,
                          uint64_t size, uint32_t flags)
{
    struct vfio_iommu_type1_dma_map map = {
        .argsz = sizeof(map), .flags = flags, .vaddr = vaddr, .iova = iova,
        .size = size,
    };

    return IOC(h, c, VFIO_IOMMU_MAP_DMA, &map);
}

#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

/* Returns -errno, or the bytes unmapped. */
static inline int64_t dma_unmap(SimHost *h, int c, uint64_t iova,
                                uint64_t size, uint32_t flags)
{
    struct vfio_iommu_type1_dma_unmap u = {
        .argsz = sizeof(u), .flags = flags, .iova = iova, .size = size,
    };
    int r = IOC(h, c, VFIO_IOMMU_UNMAP_DMA, &u);

    return r ? r : (int64_t)u.size;
}

/* ---- device access through its fd --------------------------------------- */

static inline struct vfio_region_info region(SimHost *h, int fd,
                                             unsigned index)
{
    struct vfio_region_info ri = { .argsz = sizeof(ri), .index = index };

    OK(IOC(h, fd, VFIO_DEVICE_GET_REGION_INFO, &ri));
    return ri;
}

static inline uint64_t rd(SimHost *h, int fd, unsigned index, uint64_t off,
                          unsigned size)
{
    uint64_t v = 0;

    EQ(sim_pread(h, fd, &v, size, region(h, fd, index).offset + off), size);
    return v;
}

static inline void wr(SimHost *h, int fd, unsigned index, uint64_t off,
                      unsigned size, uint64_t v)
{
    EQ(sim_pwrite(h, fd, &v, size, region(h, fd, index).offset + off), size);
}

static inline void bus_master(SimHost *h, int fd, bool on)
{
    uint64_t cmd = rd(h, fd, CFG, 4, 2);

    cmd = on ? cmd | SIM_DMA_CMD_BME : cmd & ~SIM_DMA_CMD_BME;
    wr(h, fd, CFG, 4, 2, cmd);
}

/* Program the engine through BAR0 as a driver does; returns STATUS. */
static inline uint32_t engine(SimHost *h, int fd, unsigned op, uint32_t pasid,
                              uint64_t src, uint64_t dst, uint32_t len)
{
    unsigned b = SIM_DMA_BAR_REGS;

    wr(h, fd, b, SIM_DMA_REG_SRC, 8, src);
    wr(h, fd, b, SIM_DMA_REG_DST, 8, dst);
    wr(h, fd, b, SIM_DMA_REG_LEN, 4, len);
    wr(h, fd, b, SIM_DMA_REG_PASID, 4, pasid ? SIM_DMA_PASID_EN | pasid : 0);
    wr(h, fd, b, SIM_DMA_REG_CMD, 4, SIM_DMA_CMD_START | op);
    return rd(h, fd, b, SIM_DMA_REG_STATUS, 4);
}

static inline unsigned status_err(uint32_t status)
{
    return (status & SIM_DMA_STATUS_ERR_MASK) >> SIM_DMA_STATUS_ERR_SHIFT;
}

static inline unsigned status_fault(uint32_t status)
{
    return (status & SIM_DMA_STATUS_FAULT_MASK) >> SIM_DMA_STATUS_FAULT_SHIFT;
}

static inline int set_irqs(SimHost *h, int fd, unsigned index, uint32_t flags,
                           unsigned start, unsigned count, const void *data,
                           size_t dsize)
{
    struct {
        struct vfio_irq_set s;
        uint8_t data[128];
    } a = { .s = { .argsz = sizeof(a.s) + dsize, .flags = flags,
                   .index = index, .start = start, .count = count } };

    g_assert_cmpuint(dsize, <=, sizeof(a.data));
    if (dsize) {
        memcpy(a.data, data, dsize);
    }
    return IOC(h, fd, VFIO_DEVICE_SET_IRQS, &a);
}

static inline int msix_eventfds(SimHost *h, int fd, unsigned start,
                                unsigned count, const int32_t *fds)
{
    return set_irqs(h, fd, VFIO_PCI_MSIX_IRQ_INDEX,
                    VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
                    start, count, fds, count * sizeof(int32_t));
}

/* An eventfd's counter (reading resets it), 0 when nothing was signalled. */
static inline uint64_t efd_take(int efd)
{
    uint64_t v = 0;

    return read(efd, &v, sizeof(v)) == sizeof(v) ? v : 0;
}

static inline void drain_faults(SimHost *h)
{
    SimFaultRecord rec[8];

    while (sim_fault_log_read(h, rec, G_N_ELEMENTS(rec)) > 0) {
    }
}

#endif /* SIM_VFIO_TEST_H */
