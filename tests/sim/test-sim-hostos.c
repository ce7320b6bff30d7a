/*
 * The host-OS layer driven exactly as a VMM drives a Linux kernel, on a
 * simulated host made by the sim-host / sim-pci-device objects, in process:
 * pass-through without a simulated host, the objects' lifetime rules, the
 * simulated tree (sysfs discovery, nodes, a legacy-only host), and the
 * legacy container/group/type1 flow ending in device DMA (started through
 * the register BAR) landing in test memory, with the errno checklist of
 * uapi_facts.md §4.4.  The iommufd side is test-sim-hostos-iommufd.c.
 *
 * Every test starts and ends with the same set of open fds.
 */
#include "hostos-test.h"

/* ------------------------------------------------------------------------
 * Pass-through: no simulated host
 * ------------------------------------------------------------------------ */

static void test_passthrough(void)
{
    int fds = count_fds();
    g_autofree char *dir = g_dir_make_tmp("hostos-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "b", NULL);
    g_autofree char *file2 = g_build_filename(dir, "a", NULL);
    g_autofree char *link = g_build_filename(dir, "l", NULL);
    char buf[16] = { 0 }, **names = NULL;
    struct stat st;
    int fd, copy, p[2], avail = 0;
    void *map;

    g_assert_false(hostos_is_simulated());
    g_assert_cmpstr(hostos_root(), ==, "/");
    g_assert_null(hostos_get_sim());

    /* these machines have no iommufd: the real kernel's answer */
    if (access("/dev/iommu", F_OK) == 0) {
        g_test_message("this machine has /dev/iommu; skipping ENOENT check");
    } else {
        errno = 0;
        g_assert_cmpint(hostos_open("/dev/iommu", O_RDWR), ==, -1);
        g_assert_cmpint(errno, ==, ENOENT);
    }

    fd = hostos_open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(hostos_pwrite(fd, "hello", 5, 4096), ==, 5);
    g_assert_cmpint(hostos_pread(fd, buf, 5, 4096), ==, 5);
    g_assert_cmpstr(buf, ==, "hello");
    g_assert_cmpint(hostos_fstat(fd, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 4101);
    copy = hostos_dup(fd);
    g_assert_cmpint(copy, >=, 0);
    g_assert_cmpint(fcntl(copy, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
    map = hostos_mmap(NULL, 8192, PROT_READ, MAP_SHARED, copy, 0);
    g_assert_true(map != MAP_FAILED);
    g_assert_cmpmem((char *)map + 4096, 5, "hello", 5);
    g_assert_cmpint(hostos_munmap(map, 8192), ==, 0);
    g_assert_cmpint(hostos_close(copy), ==, 0);
    g_assert_cmpint(hostos_close(fd), ==, 0);
    errno = 0;
    g_assert_cmpint(hostos_close(fd), ==, -1);
    g_assert_cmpint(errno, ==, EBADF);

    g_assert_cmpint(close(hostos_open(file2, O_RDWR | O_CREAT, 0600)), ==, 0);
    g_assert_cmpint(symlink("../x/iommu_group", link), ==, 0);
    g_assert_cmpint(hostos_readlink(link, buf, sizeof(buf)), ==, 16);
    g_assert_cmpmem(buf, 16, "../x/iommu_group", 16);
    g_assert_cmpint(hostos_lstat(link, &st), ==, 0);
    g_assert_true(S_ISLNK(st.st_mode));
    g_assert_cmpint(hostos_stat(file, &st), ==, 0);
    g_assert_true(S_ISREG(st.st_mode));
    g_assert_cmpint(hostos_access(file, R_OK | W_OK), ==, 0);
    g_assert_cmpint(hostos_listdir(dir, &names), ==, 3);
    g_assert_cmpstr(names[0], ==, "a");
    g_assert_cmpstr(names[1], ==, "b");
    g_assert_cmpstr(names[2], ==, "l");
    g_assert_null(names[3]);
    g_strfreev(names);
    errno = 0;
    g_assert_cmpint(hostos_listdir("/nonexistent-hostos", &names), ==, -1);
    g_assert_cmpint(errno, ==, ENOENT);

    /* ioctl reaches the kernel with its errno */
    g_assert_cmpint(pipe(p), ==, 0);
    g_assert_cmpint(write(p[1], "abc", 3), ==, 3);
    g_assert_cmpint(hostos_ioctl(p[0], FIONREAD, &avail), ==, 0);
    g_assert_cmpint(avail, ==, 3);
    IOCTL_ERR(ENOTTY, p[0], VFIO_GET_API_VERSION, NULL);
    close(p[0]);
    close(p[1]);

    unlink(link);
    unlink(file);
    unlink(file2);
    rmdir(dir);
    g_assert_cmpint(count_fds(), ==, fds);
}

/* ------------------------------------------------------------------------
 * The objects: one host per process, deletion refused while in use
 * ------------------------------------------------------------------------ */

static void test_objects(void)
{
    int fds = count_fds();
    Object *h0;
    g_autofree char *e1 = NULL;
    g_autofree char *e2 = NULL;
    g_autofree char *root = NULL;
    Error *err = NULL;
    int group, container, copy;

    host_up("\"aw-bits\": 39, \"pasid-bits\": 0", false);
    h0 = object_resolve_path_component(object_get_objects_root(), "h0");
    g_assert_cmpint(object_property_get_uint(h0, "aw-bits", &error_abort),
                    ==, 39);
    root = object_property_get_str(h0, "root", &error_abort);
    g_assert_cmpstr(root, ==, hostos_root());

    e1 = add_object_error("sim-host", "h1", "");
    g_assert_nonnull(strstr(e1, "one sim-host per process"));
    e2 = add_object_error("sim-pci-device", "d2",
                          "\"sim-host\": \"h0\", \"host\": \"02:00.0\"");
    g_assert_nonnull(strstr(e2, "already has a device"));

    /* the group node open: neither the device nor the host may go */
    group = xopen("/dev/vfio/5");
    container = xopen("/dev/vfio/vfio");
    copy = hostos_dup(container);
    g_assert_cmpuint(hostos_sim_users(), ==, 3);
    g_assert_false(user_creatable_del("d0", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "in use"));
    error_free(err);
    err = NULL;
    g_assert_false(user_creatable_del("h0", &err));
    error_free(err);
    err = NULL;
    hostos_close(group);
    del_object("d0");
    /* the container alone still pins the host */
    g_assert_false(user_creatable_del("h0", &err));
    error_free(err);
    hostos_close(copy);
    hostos_close(container);
    g_assert_cmpuint(hostos_sim_users(), ==, 0);
    del_object("h0");
    g_assert_false(hostos_is_simulated());
    g_assert_false(g_file_test(root, G_FILE_TEST_EXISTS));
    g_assert_cmpint(count_fds(), ==, fds);
}

/* ------------------------------------------------------------------------
 * The tree: sysfs discovery and device nodes
 * ------------------------------------------------------------------------ */

static void test_tree(void)
{
    int fds = count_fds();
    char **names = NULL;
    char link[256];
    struct stat st;
    ssize_t n;
    g_autofree char *real = NULL;
    int fd;

    host_up("", true);
    g_assert_cmpint(hostos_listdir("/sys/bus/pci/devices", &names), >=, 2);
    g_assert_true(g_strv_contains((const char *const *)names, BDF0));
    g_assert_true(g_strv_contains((const char *const *)names, BDF1));
    g_strfreev(names);

    n = hostos_readlink("/sys/bus/pci/devices/" BDF0 "/iommu_group", link,
                        sizeof(link) - 1);
    g_assert_cmpint(n, >, 0);
    link[n] = '\0';
    g_assert_cmpstr(strrchr(link, '/'), ==, "/5");

    g_assert_cmpint(hostos_stat("/dev/vfio/5", &st), ==, 0);
    g_assert_true(S_ISCHR(st.st_mode));
    g_assert_cmpint(hostos_stat("/dev/vfio/vfio", &st), ==, 0);
    g_assert_true(S_ISCHR(st.st_mode));
    g_assert_cmpint(hostos_stat("/dev/iommu", &st), ==, 0);
    g_assert_true(S_ISCHR(st.st_mode));
    g_assert_cmpint(hostos_access("/dev/vfio/5", R_OK | W_OK), ==, 0);
    errno = 0;
    g_assert_cmpint(hostos_open("/dev/vfio/6", O_RDWR), ==, -1);
    g_assert_cmpint(errno, ==, ENOENT);

    /* the cdev named in sysfs exists */
    g_assert_cmpint(hostos_listdir("/sys/bus/pci/devices/" BDF0 "/vfio-dev",
                                   &names), ==, 1);
    g_assert_true(g_str_has_prefix(names[0], "vfio"));
    real = g_strdup_printf("/dev/vfio/devices/%s", names[0]);
    g_strfreev(names);
    g_assert_cmpint(hostos_stat(real, &st), ==, 0);
    g_assert_true(S_ISCHR(st.st_mode));

    /* a path the host does not claim still reaches the real system */
    fd = hostos_open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(hostos_fstat(fd, &st), ==, 0);
    hostos_close(fd);
    g_assert_cmpint(hostos_stat("/", &st), ==, 0);

    host_down();
    g_assert_cmpint(count_fds(), ==, fds);
}

/* A host without iommufd: the group interface only. */
static void test_legacy_only_host(void)
{
    int fds = count_fds();
    char **names = NULL;
    struct stat st;
    int container;

    host_up("\"iommufd\": false, \"cdev\": false", false);
    errno = 0;
    g_assert_cmpint(hostos_open("/dev/iommu", O_RDWR), ==, -1);
    g_assert_cmpint(errno, ==, ENOENT);
    errno = 0;
    g_assert_cmpint(hostos_stat("/dev/vfio/devices", &st), ==, -1);
    g_assert_cmpint(errno, ==, ENOENT);
    g_assert_cmpint(hostos_listdir("/sys/bus/pci/devices/" BDF0, &names),
                    >, 0);
    g_assert_false(g_strv_contains((const char *const *)names, "vfio-dev"));
    g_assert_true(g_strv_contains((const char *const *)names, "iommu_group"));
    g_strfreev(names);
    container = xopen("/dev/vfio/vfio");
    g_assert_cmpint(hostos_ioctl(container, VFIO_CHECK_EXTENSION,
                                 INT_ARG(VFIO_TYPE1v2_IOMMU)), ==, 1);
    hostos_close(container);
    host_down();
    g_assert_cmpint(count_fds(), ==, fds);
}

/* ------------------------------------------------------------------------
 * Legacy VFIO: container, group, type1
 * ------------------------------------------------------------------------ */

typedef struct Legacy {
    int container, group;
} Legacy;

/* The VMM's legacy set-up: returns with the type1v2 IOMMU set. */
static void legacy_up(Legacy *l)
{
    struct vfio_group_status status = { .argsz = sizeof(status) };
    char link[256];
    ssize_t n;
    g_autofree char *group_path = NULL;

    l->container = xopen("/dev/vfio/vfio");
    g_assert_cmpint(hostos_ioctl(l->container, VFIO_GET_API_VERSION, NULL),
                    ==, VFIO_API_VERSION);
    g_assert_cmpint(hostos_ioctl(l->container, VFIO_CHECK_EXTENSION,
                                 INT_ARG(VFIO_TYPE1v2_IOMMU)), ==, 1);
    g_assert_cmpint(hostos_ioctl(l->container, VFIO_CHECK_EXTENSION,
                                 INT_ARG(VFIO_TYPE1_NESTING_IOMMU)), ==, 0);

    n = hostos_readlink("/sys/bus/pci/devices/" BDF0 "/iommu_group", link,
                        sizeof(link) - 1);
    g_assert_cmpint(n, >, 0);
    link[n] = '\0';
    group_path = g_strdup_printf("/dev/vfio/%s", strrchr(link, '/') + 1);
    l->group = xopen(group_path);

    IOCTL_OK(l->group, VFIO_GROUP_GET_STATUS, &status);
    g_assert_true(status.flags & VFIO_GROUP_FLAGS_VIABLE);
    g_assert_false(status.flags & VFIO_GROUP_FLAGS_CONTAINER_SET);
    IOCTL_OK(l->group, VFIO_GROUP_SET_CONTAINER, &l->container);
    IOCTL_OK(l->group, VFIO_GROUP_GET_STATUS, &status);
    g_assert_true(status.flags & VFIO_GROUP_FLAGS_CONTAINER_SET);
    IOCTL_OK(l->container, VFIO_SET_IOMMU, INT_ARG(VFIO_TYPE1v2_IOMMU));
}

static void legacy_down(Legacy *l)
{
    g_assert_cmpint(hostos_close(l->group), ==, 0);
    g_assert_cmpint(hostos_close(l->container), ==, 0);
}

/* A capability of a VFIO info buffer by id, NULL if absent. */
static const struct vfio_info_cap_header *find_cap(const void *info,
                                                   size_t size,
                                                   uint32_t first,
                                                   uint16_t id)
{
    uint32_t off = first;

    for (int hops = 0; off && hops < 32; hops++) {
        const struct vfio_info_cap_header *h;

        g_assert_cmpuint(off + sizeof(*h), <=, size);
        h = (const void *)((const char *)info + off);
        if (h->id == id) {
            return h;
        }
        off = h->next;
    }
    return NULL;
}

/* IOMMU_GET_INFO as QEMU does it: ask, grow to argsz, ask again. */
static struct vfio_iommu_type1_info *legacy_info(int container)
{
    struct vfio_iommu_type1_info *info = g_malloc0(sizeof(*info));

    info->argsz = sizeof(*info);
    IOCTL_OK(container, VFIO_IOMMU_GET_INFO, info);
    g_assert_true(info->flags & VFIO_IOMMU_INFO_PGSIZES);
    g_assert_true(info->flags & VFIO_IOMMU_INFO_CAPS);
    g_assert_cmpuint(info->cap_offset, ==, 0);
    g_assert_cmpuint(info->argsz, >, sizeof(*info));
    info = g_realloc(info, info->argsz);
    IOCTL_OK(container, VFIO_IOMMU_GET_INFO, info);
    g_assert_cmpuint(info->cap_offset, >=, sizeof(*info));
    return info;
}

static uint32_t legacy_dma_avail(int container)
{
    g_autofree struct vfio_iommu_type1_info *info = legacy_info(container);
    const struct vfio_iommu_type1_info_dma_avail *avail = (const void *)
        find_cap(info, info->argsz, info->cap_offset,
                 VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);

    g_assert_nonnull(avail);
    return avail->avail;
}

static int legacy_map(int container, uint64_t vaddr, uint64_t iova,
                      uint64_t size, uint32_t flags)
{
    struct vfio_iommu_type1_dma_map map = {
        .argsz = sizeof(map), .flags = flags,
        .vaddr = vaddr, .iova = iova, .size = size,
    };

    return hostos_ioctl(container, VFIO_IOMMU_MAP_DMA, &map);
}

/* UNMAP_DMA; returns the bytes unmapped, or -errno. */
static int64_t legacy_unmap(int container, uint64_t iova, uint64_t size,
                            uint32_t flags)
{
    struct vfio_iommu_type1_dma_unmap unmap = {
        .argsz = sizeof(unmap), .flags = flags, .iova = iova, .size = size,
    };

    if (hostos_ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap) < 0) {
        return -errno;
    }
    return unmap.size;
}

#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

static void test_legacy_flow(void)
{
    int fds = count_fds();
    g_autofree struct vfio_iommu_type1_info *info = NULL;
    const struct vfio_iommu_type1_info_cap_iova_range *ranges;
    const uint64_t top = (1ull << 48) - 1;
    TestMem mem;
    Legacy l;
    Dev d;
    int efd;
    SimFaultRecord rec;

    host_up("", false);
    mem_alloc(&mem, 64 * 1024);
    legacy_up(&l);

    /* usable IOVA: the aperture minus the MSI window, from the cap chain */
    info = legacy_info(l.container);
    g_assert_true(info->iova_pgsizes & PAGE);
    ranges = (const void *)find_cap(info, info->argsz, info->cap_offset,
                                    VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
    g_assert_nonnull(ranges);
    g_assert_cmpuint(ranges->nr_iovas, ==, 2);
    g_assert_cmpuint(ranges->iova_ranges[0].start, ==, 0);
    g_assert_cmpuint(ranges->iova_ranges[0].end, ==, MSI_LO - 1);
    g_assert_cmpuint(ranges->iova_ranges[1].start, ==, MSI_HI + 1);
    g_assert_cmpuint(ranges->iova_ranges[1].end, ==, top);
    g_assert_cmpuint(legacy_dma_avail(l.container), ==, 65535);

    g_assert_cmpint(legacy_map(l.container, uva(&mem, 0), 0x100000,
                               mem.size, RW), ==, 0);
    g_assert_cmpuint(legacy_dma_avail(l.container), ==, 65534);

    {
        int fd = hostos_ioctl(l.group, VFIO_GROUP_GET_DEVICE_FD, BDF0);

        g_assert_cmpint(fd, >=, 0);
        dev_init(&d, fd);
    }
    dev_enable_bus_master(&d);
    efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    dev_set_msix(&d, efd);

    /* device DMA lands in the test buffer, and the vector fires */
    memset(mem.p, 0x5a, 256);
    g_assert_true(dev_copy(&d, SIM_NO_PASID, 0x100000, 0x108000, 256));
    g_assert_cmpuint(mem.p[0x8000], ==, 0x5a);
    g_assert_cmpuint(mem.p[0x8000 + 255], ==, 0x5a);
    g_assert_cmpuint(mem.p[0x8000 + 256], ==, 0);
    g_assert_cmpuint(eventfd_count(efd), ==, 1);

    /* an unmapped IOVA faults, logged by the physical IOMMU */
    drain_faults();
    g_assert_false(dev_copy(&d, SIM_NO_PASID, 0x100000, 0x900000, 16));
    rec = pop_fault();
    g_assert_cmpint(rec.reason, ==, SIM_FAULT_S2_UNMAPPED);
    g_assert_cmpuint(rec.iova, ==, 0x900000);
    g_assert_cmpstr(rec.bdf, ==, BDF0);
    g_assert_true(rec.write);

    g_assert_cmpint(legacy_unmap(l.container, 0x100000, mem.size, 0), ==,
                    mem.size);
    g_assert_false(dev_copy(&d, SIM_NO_PASID, 0x100000, 0x108000, 16));
    drain_faults();

    g_assert_cmpint(hostos_close(d.fd), ==, 0);
    g_assert_cmpint(close(efd), ==, 0);
    legacy_down(&l);
    mem_free(&mem);
    host_down();
    g_assert_cmpint(count_fds(), ==, fds);
}

/* A device fd and an mmap of its MSI-X BAR keep the objects in place. */
static void test_legacy_device_fd_and_mmap(void)
{
    int fds = count_fds();
    struct vfio_region_info msix = {
        .argsz = sizeof(msix), .index = SIM_DMA_BAR_MSIX,
    };
    Error *err = NULL;
    Legacy l;
    int dev;
    uint8_t *bar;

    host_up("", false);
    legacy_up(&l);
    dev = hostos_ioctl(l.group, VFIO_GROUP_GET_DEVICE_FD, BDF0);
    g_assert_cmpint(dev, >=, 0);
    IOCTL_OK(dev, VFIO_DEVICE_GET_REGION_INFO, &msix);
    g_assert_true(msix.flags & VFIO_REGION_INFO_FLAG_MMAP);
    bar = hostos_mmap(NULL, msix.size, PROT_READ | PROT_WRITE, MAP_SHARED,
                      dev, msix.offset);
    g_assert_true(bar != MAP_FAILED);
    /* container, group, device fd, mapping */
    g_assert_cmpuint(hostos_sim_users(), ==, 4);

    /* the library owns the mapping: whole or nothing */
    errno = 0;
    g_assert_cmpint(hostos_munmap(bar, msix.size + PAGE), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    /* the PBA reads through the mapping: nothing pending */
    g_assert_cmpuint(bar[SIM_DMA_MSIX_PBA], ==, 0);

    hostos_close(l.group);
    hostos_close(l.container);
    g_assert_false(user_creatable_del("d0", &err));
    error_free(err);
    err = NULL;
    g_assert_false(user_creatable_del("h0", &err));
    error_free(err);
    err = NULL;
    hostos_close(dev);
    /* the mapping alone still pins the host */
    g_assert_false(user_creatable_del("h0", &err));
    error_free(err);
    g_assert_cmpint(hostos_munmap(bar, msix.size), ==, 0);
    g_assert_cmpuint(hostos_sim_users(), ==, 0);
    host_down();
    g_assert_cmpint(count_fds(), ==, fds);
}

/* uapi_facts.md §4.4: native type1 MAP/UNMAP semantics. */
static void test_legacy_errno(void)
{
    int fds = count_fds();
    TestMem mem;
    Legacy l;
    struct vfio_iommu_type1_dma_map small = { .argsz = 8 };
    const int64_t einval = -EINVAL;

    host_up("", false);
    mem_alloc(&mem, 64 * 1024);
    legacy_up(&l);

    /* flags, sizes and alignment */
    errno = 0;
    g_assert_cmpint(legacy_map(l.container, uva(&mem, 0), 0x100000, PAGE, 0),
                    ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_cmpint(legacy_map(l.container, uva(&mem, 0), 0x100000, 0, RW),
                    ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_cmpint(legacy_map(l.container, uva(&mem, 0), 0x100800, PAGE,
                               RW), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_cmpint(legacy_map(l.container, uva(&mem, 0x800), 0x100000,
                               PAGE, RW), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    IOCTL_ERR(EINVAL, l.container, VFIO_IOMMU_MAP_DMA, &small);
    /* outside the usable ranges: the MSI window, past the aperture */
    g_assert_cmpint(legacy_map(l.container, uva(&mem, 0), MSI_LO, PAGE, RW),
                    ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_cmpint(legacy_map(l.container, uva(&mem, 0), 1ull << 48, PAGE,
                               RW), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);

    /* overlap is EEXIST; a v2 unmap never bisects a mapping */
    g_assert_cmpint(legacy_map(l.container, uva(&mem, 0), 0x200000,
                               2 * PAGE, RW), ==, 0);
    g_assert_cmpint(legacy_map(l.container, uva(&mem, 0), 0x201000, PAGE,
                               RW), ==, -1);
    g_assert_cmpint(errno, ==, EEXIST);
    g_assert_cmpint(legacy_unmap(l.container, 0x201000, PAGE, 0), ==,
                    einval);
    g_assert_cmpint(legacy_unmap(l.container, 0x200000, PAGE, 0), ==,
                    einval);
    /* nothing in range: success, size 0 */
    g_assert_cmpint(legacy_unmap(l.container, 0x400000, PAGE, 0), ==, 0);
    g_assert_cmpint(legacy_unmap(l.container, 0x200000, 0, 0), ==, einval);
    g_assert_cmpint(legacy_unmap(l.container, 0x200800, PAGE, 0), ==,
                    einval);

    /* UNMAP_ALL takes iova = size = 0 only */
    g_assert_cmpint(legacy_map(l.container, uva(&mem, 0), 0x300000, PAGE,
                               RW), ==, 0);
    g_assert_cmpint(legacy_unmap(l.container, 0x200000, 0,
                                 VFIO_DMA_UNMAP_FLAG_ALL), ==, einval);
    g_assert_cmpint(legacy_unmap(l.container, 0, 0,
                                 VFIO_DMA_UNMAP_FLAG_ALL), ==, 3 * PAGE);
    g_assert_cmpuint(legacy_dma_avail(l.container), ==, 65535);

    legacy_down(&l);
    host_down();

    /* the DMA mapping limit: ENOSPC once exhausted */
    host_up("\"dma-entry-limit\": 2", false);
    legacy_up(&l);
    g_assert_cmpuint(legacy_dma_avail(l.container), ==, 2);
    g_assert_cmpint(legacy_map(l.container, uva(&mem, 0), 0x100000, PAGE,
                               RW), ==, 0);
    g_assert_cmpint(legacy_map(l.container, uva(&mem, 0), 0x110000, PAGE,
                               RW), ==, 0);
    g_assert_cmpint(legacy_map(l.container, uva(&mem, 0), 0x120000, PAGE,
                               RW), ==, -1);
    g_assert_cmpint(errno, ==, ENOSPC);
    g_assert_cmpuint(legacy_dma_avail(l.container), ==, 0);
    legacy_down(&l);
    host_down();

    mem_free(&mem);
    g_assert_cmpint(count_fds(), ==, fds);
}

/* Group semantics: one container per group, devices of a shared group. */
static void test_legacy_groups(void)
{
    int fds = count_fds();
    struct vfio_group_status status = { .argsz = sizeof(status) };
    Legacy l;
    int dev0, dev1, other;

    host_up("", true);
    legacy_up(&l);

    /* a group node is opened once at a time */
    errno = 0;
    g_assert_cmpint(hostos_open("/dev/vfio/5", O_RDWR), ==, -1);
    g_assert_cmpint(errno, ==, EBUSY);

    /* both devices of the group come through it */
    dev0 = hostos_ioctl(l.group, VFIO_GROUP_GET_DEVICE_FD, BDF0);
    dev1 = hostos_ioctl(l.group, VFIO_GROUP_GET_DEVICE_FD, BDF1);
    g_assert_cmpint(dev0, >=, 0);
    g_assert_cmpint(dev1, >=, 0);
    g_assert_cmpint(dev0, !=, dev1);
    IOCTL_ERR(ENODEV, l.group, VFIO_GROUP_GET_DEVICE_FD, "0000:09:00.0");

    /* the container cannot go while device fds are open */
    IOCTL_ERR(EBUSY, l.group, VFIO_GROUP_UNSET_CONTAINER, NULL);
    hostos_close(dev0);
    hostos_close(dev1);

    /* a group that has a container cannot be set again (kernel: EINVAL) */
    other = xopen("/dev/vfio/vfio");
    IOCTL_ERR(EINVAL, l.group, VFIO_GROUP_SET_CONTAINER, &other);
    hostos_close(other);

    IOCTL_OK(l.group, VFIO_GROUP_UNSET_CONTAINER, NULL);
    IOCTL_OK(l.group, VFIO_GROUP_GET_STATUS, &status);
    g_assert_true(status.flags & VFIO_GROUP_FLAGS_VIABLE);
    g_assert_false(status.flags & VFIO_GROUP_FLAGS_CONTAINER_SET);
    /* no container, no device */
    errno = 0;
    g_assert_cmpint(hostos_ioctl(l.group, VFIO_GROUP_GET_DEVICE_FD, BDF0),
                    ==, -1);
    g_assert_cmpint(errno, !=, 0);

    legacy_down(&l);
    host_down();
    g_assert_cmpint(count_fds(), ==, fds);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sim/hostos/pass-through", test_passthrough);
    g_test_add_func("/sim/hostos/objects-one-host-busy-while-open",
                    test_objects);
    g_test_add_func("/sim/hostos/tree-sysfs-and-nodes", test_tree);
    g_test_add_func("/sim/hostos/legacy-only-host", test_legacy_only_host);
    g_test_add_func("/sim/hostos/legacy/flow-dma-msix", test_legacy_flow);
    g_test_add_func("/sim/hostos/legacy/device-fd-and-mmap-pin-the-host",
                    test_legacy_device_fd_and_mmap);
    g_test_add_func("/sim/hostos/legacy/type1-errno", test_legacy_errno);
    g_test_add_func("/sim/hostos/legacy/groups", test_legacy_groups);
    return g_test_run();
}
