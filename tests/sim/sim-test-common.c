/* Helpers of the libviommu-sim library tests (see sim-test-common.h). */
#include "sim-test-common.h"

/* 0 or the positive errno, so that tests read like the selftest. */
int ioc(Fx *fx, unsigned long req, void *arg)
{
    int r = sim_ioctl(fx->h, fx->fd, req, arg);

    return r < 0 ? -r : 0;
}

void fx_open(Fx *fx, const char *text)
{
    memset(fx, 0, sizeof(*fx));
    g_assert_cmpint(sim_host_new_from_string(text, &fx->h), ==, 0);
    fx->dev = sim_host_find_device(fx->h, "0000:02:00.0");
    fx->fd = sim_open(fx->h, "/dev/iommu", O_RDWR | O_CLOEXEC, 0);
    g_assert_cmpint(fx->fd, >=, 0);
    fx->map_len = BUF_PAGES * P + (2u << 20);
    fx->map = mmap(NULL, fx->map_len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_assert(fx->map != MAP_FAILED);
    fx->buf = (uint8_t *)SIM_ALIGN_UP((uintptr_t)fx->map, 2u << 20);
}

void fx_setup(Fx *fx)
{
    fx_open(fx, "iommu=vtd;device:bdf=0000:02:00.0,group=5");
}

void fx_close(Fx *fx)
{
#ifdef SIM_TEST_VIA_LIBC
    for (unsigned i = 0; i < G_N_ELEMENTS(fx->cdev); i++) {
        if (fx->cdev[i].dev) {
            unbind(fx, fx->cdev[i].dev);
        }
    }
#endif
    if (fx->fd >= 0) {
        g_assert_cmpint(sim_close(fx->h, fx->fd), ==, 0);
    }
    sim_host_free(fx->h);
    munmap(fx->map, fx->map_len);
}

uint32_t ioas_alloc(Fx *fx)
{
    struct iommu_ioas_alloc a = { .size = sizeof(a) };

    g_assert_cmpint(ioc(fx, IOMMU_IOAS_ALLOC, &a), ==, 0);
    return a.out_ioas_id;
}

int destroy(Fx *fx, uint32_t id)
{
    struct iommu_destroy d = { .size = sizeof(d), .id = id };

    return ioc(fx, IOMMU_DESTROY, &d);
}

int map(Fx *fx, uint32_t ioas, uint32_t flags, uint64_t *iova,
               const void *va, uint64_t len)
{
    struct iommu_ioas_map m = {
        .size = sizeof(m), .flags = flags, .ioas_id = ioas,
        .user_va = (uintptr_t)va, .length = len, .iova = *iova,
    };
    int r = ioc(fx, IOMMU_IOAS_MAP, &m);

    *iova = m.iova;
    return r;
}

int map_fixed(Fx *fx, uint32_t ioas, uint64_t iova, const void *va,
                     uint64_t len)
{
    return map(fx, ioas, FIXED_RW, &iova, va, len);
}

int unmap(Fx *fx, uint32_t ioas, uint64_t iova, uint64_t len,
                 uint64_t *out)
{
    struct iommu_ioas_unmap u = {
        .size = sizeof(u), .ioas_id = ioas, .iova = iova, .length = len,
    };
    int r = ioc(fx, IOMMU_IOAS_UNMAP, &u);

    if (out) {
        *out = u.length;
    }
    return r;
}

#ifndef SIM_TEST_VIA_LIBC
/* What VFIO_DEVICE_BIND_IOMMUFD / ATTACH / DETACH do on the iommufd side. */
uint32_t bind_dev(Fx *fx, SimDevice *dev)
{
    SimIommufdCtx *ictx;
    uint32_t devid = 0;

    g_mutex_lock(&fx->h->lock);
    ictx = sim_iommufd_from_file(sim_file_from_fd(fx->h, fx->fd));
    g_assert_nonnull(ictx);
    g_assert_cmpint(sim_iommufd_bind(ictx, dev, &devid), ==, 0);
    g_mutex_unlock(&fx->h->lock);
    return devid;
}

int attach(Fx *fx, SimDevice *dev, uint32_t pasid, uint32_t *pt_id)
{
    int r;

    g_mutex_lock(&fx->h->lock);
    r = sim_iommufd_attach(dev, pasid, pt_id);
    g_mutex_unlock(&fx->h->lock);
    return -r;
}

int detach(Fx *fx, SimDevice *dev, uint32_t pasid)
{
    int r;

    g_mutex_lock(&fx->h->lock);
    r = sim_iommufd_detach(dev, pasid);
    g_mutex_unlock(&fx->h->lock);
    return -r;
}

void unbind(Fx *fx, SimDevice *dev)
{
    g_mutex_lock(&fx->h->lock);
    sim_iommufd_unbind(dev);
    g_mutex_unlock(&fx->h->lock);
}

#else
/*
 * Through the preload: the VFIO cdev ioctls themselves.  The cdev is found
 * as a VMM finds it (<sysfs>/vfio-dev/vfioX) and kept open while bound.
 */
static int cdev_fd(Fx *fx, SimDevice *dev)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(fx->cdev); i++) {
        if (fx->cdev[i].dev == dev) {
            return fx->cdev[i].fd;
        }
    }
    g_error("device %s is not bound", sim_device_bdf(dev));
}

uint32_t bind_dev(Fx *fx, SimDevice *dev)
{
    g_autofree char *dir = g_strdup_printf("/sys/bus/pci/devices/%s/vfio-dev",
                                           sim_device_bdf(dev));
    g_autofree char *node = NULL;
    struct vfio_device_bind_iommufd b = {
        .argsz = sizeof(b), .iommufd = fx->fd,
    };
    char **names = NULL;
    unsigned i = 0;

    g_assert_cmpint(sim_listdir(fx->h, dir, &names), ==, 1);
    node = g_strdup_printf("/dev/vfio/devices/%s", names[0]);
    sim_strv_free(names);
    while (i < G_N_ELEMENTS(fx->cdev) && fx->cdev[i].dev) {
        i++;
    }
    g_assert_cmpuint(i, <, G_N_ELEMENTS(fx->cdev));
    fx->cdev[i].fd = sim_open(fx->h, node, O_RDWR | O_CLOEXEC, 0);
    g_assert_cmpint(fx->cdev[i].fd, >=, 0);
    fx->cdev[i].dev = dev;
    g_assert_cmpint(sim_ioctl(fx->h, fx->cdev[i].fd, VFIO_DEVICE_BIND_IOMMUFD,
                              &b), ==, 0);
    return b.out_devid;
}

int attach(Fx *fx, SimDevice *dev, uint32_t pasid, uint32_t *pt_id)
{
    struct vfio_device_attach_iommufd_pt a = {
        .argsz = sizeof(a), .pt_id = *pt_id, .pasid = pasid,
        .flags = pasid != SIM_NO_PASID ? VFIO_DEVICE_ATTACH_PASID : 0,
    };
    int r = sim_ioctl(fx->h, cdev_fd(fx, dev), VFIO_DEVICE_ATTACH_IOMMUFD_PT,
                      &a);

    if (!r) {
        *pt_id = a.pt_id;
    }
    return -r;
}

int detach(Fx *fx, SimDevice *dev, uint32_t pasid)
{
    struct vfio_device_detach_iommufd_pt d = {
        .argsz = sizeof(d), .pasid = pasid,
        .flags = pasid != SIM_NO_PASID ? VFIO_DEVICE_DETACH_PASID : 0,
    };

    return -sim_ioctl(fx->h, cdev_fd(fx, dev), VFIO_DEVICE_DETACH_IOMMUFD_PT,
                      &d);
}

/* Closing the cdev unbinds the device. */
void unbind(Fx *fx, SimDevice *dev)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(fx->cdev); i++) {
        if (fx->cdev[i].dev == dev) {
            g_assert_cmpint(sim_close(fx->h, fx->cdev[i].fd), ==, 0);
            fx->cdev[i].dev = NULL;
            return;
        }
    }
}

int sim_test_libc_hosts;

/* A run in which no test made a host ran no test (a -p typo): fail it. */
static void libc_check_ran(void)
{
    if (!sim_test_libc_hosts) {
        fprintf(stderr, "SIM_TEST_VIA_LIBC: no test case ran\n");
        _exit(1);
    }
}

static void __attribute__((constructor)) libc_check_at_exit(void)
{
    atexit(libc_check_ran);
}

#endif

int hwpt_alloc(Fx *fx, uint32_t flags, uint32_t dev_id, uint32_t pt_id,
                      uint32_t data_type, void *data, uint32_t data_len,
                      uint32_t *out)
{
    struct iommu_hwpt_alloc a = {
        .size = sizeof(a), .flags = flags, .dev_id = dev_id, .pt_id = pt_id,
        .data_type = data_type, .data_len = data_len,
        .data_uptr = (uintptr_t)data,
    };
    int r = ioc(fx, IOMMU_HWPT_ALLOC, &a);

    if (out) {
        *out = a.out_hwpt_id;
    }
    return r;
}

SimFaultRecord last_fault(Fx *fx, int expect_count)
{
    SimFaultRecord recs[SIM_FAULT_LOG_SIZE];
    int n = sim_fault_log_read(fx->h, recs, SIM_FAULT_LOG_SIZE);

    g_assert_cmpint(n, ==, expect_count);
    return recs[n > 0 ? n - 1 : 0];
}
