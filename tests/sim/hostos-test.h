/*
 * Helpers shared by the host-OS layer tests (test-sim-hostos*.c): the
 * objects as a VMM's command line would make them, fd counting, test
 * memory, and the simulated "dma" device driven through its VFIO device fd
 * (register BAR by pread/pwrite, MSI-X by SET_IRQS), as a driver would.
 * Static functions in a header: each test program includes it once.
 */
#ifndef HOSTOS_TEST_H
#define HOSTOS_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "host/hostos.h"
#include "qom/object_interfaces.h"
#include "qapi/qjson.h"
#include "viommu-sim.h"
#include "linux-iommufd.h"
#include "linux-vfio.h"
#include "sim-pci-model-regs.h"
#include "../test-fds.h"

#define BDF0        "0000:02:00.0"
#define BDF1        "0000:02:00.1"
#define GROUP       5
#define PAGE        4096ull
#define MSI_LO      0xfee00000ull
#define MSI_HI      0xfeefffffull
#define MSIX_DONE   0       /* the engine's completion vector at reset */

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* -object TYPE,id=ID,<json members>; returns the object. */
static inline Object *add_object(const char *type, const char *id,
                                 const char *json)
{
    g_autofree char *text = g_strdup_printf("{%s}", json);
    JsonNode *props = qjson_parse(text, &error_abort);
    Object *obj = user_creatable_add_type(type, id,
                                          json_node_get_object(props), false,
                                          &error_abort);

    json_node_unref(props);
    return obj;
}

/* The same, expected to fail; returns the message. */
static inline char *add_object_error(const char *type, const char *id,
                                     const char *json)
{
    g_autofree char *text = g_strdup_printf("{%s}", json);
    JsonNode *props = qjson_parse(text, &error_abort);
    Error *err = NULL;
    char *msg;

    g_assert_null(user_creatable_add_type(type, id,
                                          json_node_get_object(props), false,
                                          &err));
    g_assert_nonnull(err);
    msg = g_strdup(error_get_pretty(err));
    error_free(err);
    json_node_unref(props);
    return msg;
}

static inline void del_object(const char *id)
{
    g_assert_true(user_creatable_del(id, &error_abort));
}

/* A host "h0" with @host_json and devices d0 (BDF0) [d1 (BDF1)] in GROUP. */
static inline void host_up(const char *host_json, bool two_devices)
{
    add_object("sim-host", "h0", host_json);
    add_object("sim-pci-device", "d0",
               "\"sim-host\": \"h0\", \"host\": \"" BDF0 "\", "
               "\"iommu-group\": 5");
    if (two_devices) {
        add_object("sim-pci-device", "d1",
                   "\"sim-host\": \"h0\", \"host\": \"" BDF1 "\", "
                   "\"iommu-group\": 5");
    }
    g_assert_true(hostos_is_simulated());
}

static inline void host_down(void)
{
    Object *objs = object_get_objects_root();

    if (object_resolve_path_component(objs, "d1")) {
        del_object("d1");
    }
    del_object("d0");
    del_object("h0");
    g_assert_false(hostos_is_simulated());
}

static inline int xopen(const char *path)
{
    int fd = hostos_open(path, O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        g_error("open %s: %s", path, strerror(errno));
    }
    return fd;
}

#define IOCTL_OK(fd, req, arg) \
    g_assert_cmpint(hostos_ioctl((fd), (req), (arg)), >=, 0)
#define IOCTL_ERR(e, fd, req, arg) do {                         \
        errno = 0;                                              \
        g_assert_cmpint(hostos_ioctl((fd), (req), (arg)), ==, -1); \
        g_assert_cmpstr(strerror(errno), ==, strerror(e));      \
    } while (0)
#define INT_ARG(v) ((void *)(uintptr_t)(v))

/* Anonymous test memory, 2 MiB aligned so huge mappings are possible. */
typedef struct TestMem {
    void *raw;
    uint8_t *p;
    size_t size;
} TestMem;

static inline void mem_alloc(TestMem *m, size_t size)
{
    size_t span = size + (2u << 20);

    m->raw = mmap(NULL, span, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_assert_true(m->raw != MAP_FAILED);
    m->p = (uint8_t *)(((uintptr_t)m->raw + (2u << 20) - 1) &
                       ~(uintptr_t)((2u << 20) - 1));
    m->size = size;
    memset(m->p, 0, size);
}

static inline void mem_free(TestMem *m)
{
    munmap(m->raw, m->size + (2u << 20));
}

static inline uint64_t uva(const TestMem *m, size_t off)
{
    return (uintptr_t)m->p + off;
}

/* ------------------------------------------------------------------------
 * The device, driven through its VFIO device fd
 * ------------------------------------------------------------------------ */

typedef struct Dev {
    int fd;
    uint64_t bar_off;       /* region_info.offset of the register BAR */
} Dev;

static inline uint32_t reg_read_at(int fd, uint64_t off)
{
    uint32_t val = 0;

    g_assert_cmpint(hostos_pread(fd, &val, 4, off), ==, 4);
    return val;
}

static inline void dev_init(Dev *d, int fd)
{
    struct vfio_device_info info = { .argsz = sizeof(info) };
    struct vfio_region_info reg = {
        .argsz = sizeof(reg), .index = SIM_DMA_BAR_REGS,
    };

    d->fd = fd;
    IOCTL_OK(fd, VFIO_DEVICE_GET_INFO, &info);
    g_assert_true(info.flags & VFIO_DEVICE_FLAGS_PCI);
    g_assert_cmpuint(info.num_regions, >=, VFIO_PCI_NUM_REGIONS);
    g_assert_cmpuint(info.num_irqs, ==, VFIO_PCI_NUM_IRQS);
    IOCTL_OK(fd, VFIO_DEVICE_GET_REGION_INFO, &reg);
    g_assert_true(reg.flags & VFIO_REGION_INFO_FLAG_READ);
    g_assert_true(reg.flags & VFIO_REGION_INFO_FLAG_WRITE);
    g_assert_cmpuint(reg.size, ==, SIM_DMA_REGS_SIZE);
    g_assert_cmpuint(reg_read_at(fd, reg.offset + SIM_DMA_REG_ID), ==,
                     SIM_DMA_ID_VALUE);
    d->bar_off = reg.offset;
}

static inline void reg_write(Dev *d, uint64_t off, uint64_t val,
                             unsigned size)
{
    g_assert_cmpint(hostos_pwrite(d->fd, &val, size, d->bar_off + off), ==,
                    size);
}

static inline uint64_t reg_read(Dev *d, uint64_t off, unsigned size)
{
    uint64_t val = 0;

    g_assert_cmpint(hostos_pread(d->fd, &val, size, d->bar_off + off), ==,
                    size);
    return val;
}

/* Bus master enable in the config space, as a driver must. */
static inline void dev_enable_bus_master(Dev *d)
{
    struct vfio_region_info cfg = {
        .argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX,
    };
    uint16_t cmd;

    IOCTL_OK(d->fd, VFIO_DEVICE_GET_REGION_INFO, &cfg);
    g_assert_cmpint(hostos_pread(d->fd, &cmd, 2, cfg.offset + 4), ==, 2);
    cmd |= SIM_DMA_CMD_MEM | SIM_DMA_CMD_BME;
    g_assert_cmpint(hostos_pwrite(d->fd, &cmd, 2, cfg.offset + 4), ==, 2);
}

/*
 * One DMA COPY by the device's engine from IOVA @src to IOVA @dst, started
 * through the register BAR; returns true if it completed, false on a DMA
 * fault.
 */
static inline bool dev_copy(Dev *d, uint32_t pasid, uint64_t src,
                            uint64_t dst, uint64_t len)
{
    uint64_t status;

    reg_write(d, SIM_DMA_REG_STATUS, SIM_DMA_STATUS_DONE |
              SIM_DMA_STATUS_ERROR, 4);
    reg_write(d, SIM_DMA_REG_SRC, src, 8);
    reg_write(d, SIM_DMA_REG_DST, dst, 8);
    reg_write(d, SIM_DMA_REG_LEN, len, 4);
    reg_write(d, SIM_DMA_REG_PASID, pasid == SIM_NO_PASID ? 0 :
              pasid | SIM_DMA_PASID_EN, 4);
    reg_write(d, SIM_DMA_REG_CMD, SIM_DMA_CMD_START | SIM_DMA_OP_COPY, 4);
    /* the engine completes synchronously */
    status = reg_read(d, SIM_DMA_REG_STATUS, 4);
    if (status & SIM_DMA_STATUS_ERROR) {
        g_assert_cmpuint((status & SIM_DMA_STATUS_ERR_MASK) >>
                         SIM_DMA_STATUS_ERR_SHIFT, ==, SIM_DMA_ERR_FAULT);
        return false;
    }
    g_assert_true(status & SIM_DMA_STATUS_DONE);
    g_assert_cmpuint(reg_read(d, SIM_DMA_REG_XFER, 8), ==, len);
    return true;
}

/* The MSI-X completion vector signals @efd. */
static inline void dev_set_msix(Dev *d, int efd)
{
    char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
    struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
    struct vfio_irq_info info = {
        .argsz = sizeof(info), .index = VFIO_PCI_MSIX_IRQ_INDEX,
    };
    int32_t fd = efd;

    IOCTL_OK(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &info);
    g_assert_true(info.flags & VFIO_IRQ_INFO_EVENTFD);
    g_assert_cmpuint(info.count, >, MSIX_DONE);
    *set = (struct vfio_irq_set){
        .argsz = sizeof(buf), .index = VFIO_PCI_MSIX_IRQ_INDEX,
        .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
        .start = MSIX_DONE, .count = 1,
    };
    memcpy(set->data, &fd, sizeof(fd));
    IOCTL_OK(d->fd, VFIO_DEVICE_SET_IRQS, set);
}

static inline uint64_t eventfd_count(int efd)
{
    uint64_t n = 0;

    if (read(efd, &n, sizeof(n)) != sizeof(n)) {
        return 0;
    }
    return n;
}

/* The next fault record, which must exist. */
static inline SimFaultRecord pop_fault(void)
{
    SimFaultRecord rec;

    g_assert_cmpint(sim_fault_log_read(hostos_get_sim(), &rec, 1), ==, 1);
    return rec;
}

static inline void drain_faults(void)
{
    SimFaultRecord rec[16];

    while (sim_fault_log_read(hostos_get_sim(), rec, 16) > 0) {
    }
}

#endif
