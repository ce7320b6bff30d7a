/*
 * The iommufd backend object and the host IOMMU device class tree, in
 * process, on a simulated host made by the sim-host / sim-pci-device
 * objects (VT-d, nesting, dirty tracking):
 *
 * - `-object iommufd`: /dev/iommu opened on the first connect and closed
 *   on the last disconnect, an fd given by number (duplicated; the
 *   original stays the caller's), object-del refused while in use, and
 *   every operation (IOAS, HWPT, hw-info, invalidation, dirty tracking)
 *   with the errors QEMU users know;
 * - host IOMMU devices: the abstract types cannot be instantiated, a
 *   test-only subclass realized from fixed data answers every get_cap key,
 *   the legacy-vfio class, and the iommufd-vfio class realized from a
 *   device bound through its cdev by hand, attaching it to HWPTs.
 *
 * Every test starts and ends with the same set of open fds.
 */
#include "hostos-test.h"
#include "system/host_iommu_device.h"
#include "system/iommufd.h"

#define IOVA_BASE   0x100000ull

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static IOMMUFDBackend *backend(const char *id)
{
    Object *obj = object_resolve_path_component(object_get_objects_root(),
                                                id);

    g_assert_nonnull(obj);
    return IOMMUFD_BACKEND(obj);
}

static bool fd_is_open(int fd)
{
    g_autofree char *path = g_strdup_printf("/proc/self/fd/%d", fd);

    return fd >= 0 && g_file_test(path, G_FILE_TEST_EXISTS);
}

/* Checks *@errp's message contains @needle, then frees and clears it. */
static void expect_error(Error **errp, const char *needle)
{
    g_assert_nonnull(*errp);
    if (!strstr(error_get_pretty(*errp), needle)) {
        g_error("error '%s' does not contain '%s'", error_get_pretty(*errp),
                needle);
    }
    error_free(*errp);
    *errp = NULL;
}

static char *del_error(const char *id)
{
    Error *err = NULL;
    char *msg;

    g_assert_false(user_creatable_del(id, &err));
    msg = g_strdup(error_get_pretty(err));
    error_free(err);
    return msg;
}

/* The device's cdev, opened and bound to @be's fd by hand. */
typedef struct Bound {
    int cdev;
    uint32_t devid;
    Dev dev;
} Bound;

static void bind_cdev(IOMMUFDBackend *be, Bound *b)
{
    g_autofree char *node = NULL;
    struct vfio_device_bind_iommufd bind = {
        .argsz = sizeof(bind), .iommufd = be->fd,
    };
    char **names = NULL;

    g_assert_cmpint(hostos_listdir("/sys/bus/pci/devices/" BDF0 "/vfio-dev",
                                   &names), ==, 1);
    node = g_strdup_printf("/dev/vfio/devices/%s", names[0]);
    g_strfreev(names);
    b->cdev = xopen(node);
    IOCTL_OK(b->cdev, VFIO_DEVICE_BIND_IOMMUFD, &bind);
    g_assert_cmpuint(bind.out_devid, !=, 0);
    b->devid = bind.out_devid;
    dev_init(&b->dev, b->cdev);
    dev_enable_bus_master(&b->dev);
}

static uint32_t attach_pt(Bound *b, uint32_t pt_id)
{
    struct vfio_device_attach_iommufd_pt at = {
        .argsz = sizeof(at), .pt_id = pt_id,
    };

    IOCTL_OK(b->cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at);
    return at.pt_id;
}

/* ------------------------------------------------------------------------
 * The backend object
 * ------------------------------------------------------------------------ */

static void test_connect_refcount(void)
{
    int fds = count_fds();
    IOMMUFDBackend *be;
    g_autofree char *msg = NULL;
    Error *err = NULL;
    int fd, base, opened;

    host_up("", false);
    base = count_fds();
    add_object("iommufd", "i0", "");
    be = backend("i0");
    /* nothing is open until a user comes */
    g_assert_cmpint(be->fd, ==, -1);
    g_assert_cmpint(count_fds(), ==, base);
    g_assert_false(iommufd_be_alloc_ioas(be, &(uint32_t){ 0 }, &err));
    expect_error(&err, "iommufd 'i0': IOMMU_IOAS_ALLOC: not connected");

    g_assert_true(iommufd_be_connect(be, &error_abort));
    fd = be->fd;
    g_assert_true(fd_is_open(fd));
    opened = count_fds();
    g_assert_cmpint(opened, >, base);
    g_assert_true(iommufd_be_connect(be, &error_abort));
    g_assert_cmpint(be->fd, ==, fd);
    g_assert_cmpint(count_fds(), ==, opened);
    g_assert_cmpuint(object_property_get_uint(OBJECT(be), "users",
                                              &error_abort), ==, 2);

    msg = del_error("i0");
    g_assert_cmpstr(msg, ==, "object 'i0' is in use, can not be deleted");
    iommufd_be_disconnect(be);
    g_assert_true(fd_is_open(fd));
    g_assert_false(user_creatable_can_be_deleted(USER_CREATABLE(be)));
    iommufd_be_disconnect(be);
    /* the last user gone: closed */
    g_assert_cmpint(be->fd, ==, -1);
    g_assert_false(fd_is_open(fd));
    g_assert_cmpint(count_fds(), ==, base);

    /* and reopened by the next */
    g_assert_true(iommufd_be_connect(be, &error_abort));
    g_assert_true(fd_is_open(be->fd));
    iommufd_be_disconnect(be);
    del_object("i0");
    host_down();
    g_assert_cmpint(count_fds(), ==, fds);
}

static void test_connect_no_iommufd(void)
{
    int fds = count_fds();
    Error *err = NULL;

    host_up("\"iommufd\": false, \"cdev\": false", false);
    add_object("iommufd", "i0", "");
    g_assert_false(iommufd_be_connect(backend("i0"), &err));
    expect_error(&err, "iommufd 'i0': /dev/iommu opening failed: No such "
                 "file or directory");
    g_assert_cmpuint(backend("i0")->users, ==, 0);
    del_object("i0");
    host_down();
    g_assert_cmpint(count_fds(), ==, fds);
}

static void test_fd_by_number(void)
{
    int fds = count_fds();
    g_autofree char *json = NULL;
    g_autofree char *msg = NULL;
    struct iommu_destroy destroy = { .size = sizeof(destroy) };
    IOMMUFDBackend *be;
    Error *err = NULL;
    uint32_t ioas;
    int mine, base;

    host_up("", false);
    /* a management tool's fd: the backend keeps a copy */
    mine = xopen("/dev/iommu");
    base = count_fds();
    json = g_strdup_printf("\"fd\": \"%d\"", mine);
    add_object("iommufd", "i0", json);
    be = backend("i0");
    g_assert_cmpint(be->fd, >=, 0);
    g_assert_cmpint(be->fd, !=, mine);
    g_assert_cmpint(count_fds(), ==, base + 1);

    /* the same open file: an IOAS made through one is seen by the other */
    g_assert_true(iommufd_be_connect(be, &error_abort));
    g_assert_true(iommufd_be_alloc_ioas(be, &ioas, &error_abort));
    destroy.id = ioas;
    IOCTL_OK(mine, IOMMU_DESTROY, &destroy);
    iommufd_be_disconnect(be);
    /* a passed fd survives its last user: it cannot be reopened */
    g_assert_true(fd_is_open(be->fd));

    /* fixed once created */
    json = (g_free(json), g_strdup_printf("%d", mine));
    g_assert_false(object_property_set_str(OBJECT(be), "fd", json, &err));
    expect_error(&err, "iommufd 'i0': property 'fd' cannot be changed once "
                 "the object is created");

    /* deleting the object closes its copy; ours stays ours */
    del_object("i0");
    g_assert_true(fd_is_open(mine));
    g_assert_cmpint(count_fds(), ==, base);
    g_assert_cmpint(hostos_close(mine), ==, 0);

    /* bad values, named */
    msg = add_object_error("iommufd", "i1", "\"fd\": \"abc\"");
    g_assert_cmpstr(msg, ==, "iommufd: property 'fd': Invalid file "
                    "descriptor number 'abc'");
    g_free(msg);
    msg = add_object_error("iommufd", "i1", "\"fd\": \"-1\"");
    g_assert_nonnull(strstr(msg, "Invalid file descriptor number '-1'"));
    g_free(msg);
    msg = add_object_error("iommufd", "i1", "\"fd\": \"99999\"");
    g_assert_cmpstr(msg, ==, "iommufd: property 'fd': file descriptor 99999 "
                    "is not usable: Bad file descriptor");
    g_free(msg);
    msg = add_object_error("iommufd", "i1", "\"fd\": 3");
    g_assert_nonnull(strstr(msg, "expected: string"));
    g_assert_null(object_resolve_path_component(object_get_objects_root(),
                                                "i1"));
    host_down();
    g_assert_cmpint(count_fds(), ==, fds);
}

static void test_ioas_map_unmap(void)
{
    int fds = count_fds();
    IOMMUFDBackend *be;
    GList *ranges = NULL;
    uint64_t align = 0;
    Error *err = NULL;
    TestMem mem;
    uint32_t ioas;
    int memfd;

    host_up("", false);
    mem_alloc(&mem, 16 * PAGE);
    add_object("iommufd", "i0", "");
    be = backend("i0");
    g_assert_true(iommufd_be_connect(be, &error_abort));
    g_assert_true(iommufd_be_alloc_ioas(be, &ioas, &error_abort));

    /* no domain yet: everything usable, no alignment */
    g_assert_true(iommufd_be_get_iova_ranges(be, ioas, &ranges, &align,
                                             &error_abort));
    g_assert_cmpuint(g_list_length(ranges), ==, 1);
    g_assert_cmphex(((Range *)ranges->data)->lob, ==, 0);
    g_assert_cmphex(((Range *)ranges->data)->upb, ==, UINT64_MAX);
    g_assert_cmpuint(align, ==, 1);
    range_list_free(ranges);

    g_assert_cmpint(iommufd_be_map_dma(be, ioas, IOVA_BASE, mem.size, mem.p,
                                       false, &error_abort), ==, 0);
    g_assert_cmpint(iommufd_be_map_dma(be, ioas, IOVA_BASE, PAGE, mem.p,
                                       true, &err), ==, -EEXIST);
    expect_error(&err, "IOMMU_IOAS_MAP (ioas 1, iova 0x100000, size 0x1000, "
                 "read-only) failed: File exists");

    /* ENOENT is success: nothing there, or an area only partly covered */
    g_assert_cmpint(iommufd_be_unmap_dma(be, ioas, IOVA_BASE, PAGE,
                                         &error_abort), ==, 0);
    g_assert_cmpint(iommufd_be_unmap_dma(be, ioas, 0x40000000, PAGE,
                                         &error_abort), ==, 0);
    /* ... so the area is still there */
    g_assert_cmpint(iommufd_be_map_dma(be, ioas, IOVA_BASE, PAGE, mem.p,
                                       false, NULL), ==, -EEXIST);
    g_assert_cmpint(iommufd_be_unmap_dma(be, ioas, IOVA_BASE, mem.size,
                                         &error_abort), ==, 0);
    g_assert_cmpint(iommufd_be_map_dma(be, ioas, IOVA_BASE, PAGE, mem.p,
                                       false, &error_abort), ==, 0);
    /* other errors are errors */
    g_assert_cmpint(iommufd_be_unmap_dma(be, ioas, IOVA_BASE, 0, &err), ==,
                    -EINVAL);
    expect_error(&err, "IOMMU_IOAS_UNMAP (ioas 1, iova 0x100000, size 0x0) "
                 "failed: Invalid argument");

    /* a file's pages */
    memfd = memfd_create("iommufd-test", MFD_CLOEXEC);
    g_assert_cmpint(memfd, >=, 0);
    g_assert_cmpint(ftruncate(memfd, 4 * PAGE), ==, 0);
    g_assert_cmpint(iommufd_be_map_file_dma(be, ioas, 0x200000, 2 * PAGE,
                                            memfd, PAGE, false,
                                            &error_abort), ==, 0);
    g_assert_cmpint(iommufd_be_map_file_dma(be, ioas, 0x300000, 2 * PAGE,
                                            memfd, 3 * PAGE, true, &err), ==,
                    -EINVAL);
    expect_error(&err, "IOMMU_IOAS_MAP_FILE (ioas 1, iova 0x300000, size "
                 "0x2000, fd");
    g_assert_cmpint(close(memfd), ==, 0);

    /* UINT64_MAX unmaps everything, and again on an empty IOAS */
    g_assert_cmpint(iommufd_be_unmap_dma(be, ioas, 0, UINT64_MAX,
                                         &error_abort), ==, 0);
    g_assert_cmpint(iommufd_be_map_dma(be, ioas, IOVA_BASE, PAGE, mem.p,
                                       false, &error_abort), ==, 0);
    g_assert_cmpint(iommufd_be_map_dma(be, ioas, 0x200000, PAGE, mem.p,
                                       false, &error_abort), ==, 0);
    g_assert_cmpint(iommufd_be_unmap_dma(be, ioas, 0, UINT64_MAX,
                                         &error_abort), ==, 0);
    g_assert_cmpint(iommufd_be_unmap_dma(be, ioas, 0, UINT64_MAX,
                                         &error_abort), ==, 0);

    iommufd_be_free_id(be, ioas);
    g_assert_false(iommufd_be_get_iova_ranges(be, ioas, &ranges, &align,
                                              &err));
    g_assert_null(ranges);
    expect_error(&err, "IOMMU_IOAS_IOVA_RANGES (ioas 1) failed: No such file "
                 "or directory");
    iommufd_be_disconnect(be);
    del_object("i0");
    mem_free(&mem);
    host_down();
    g_assert_cmpint(count_fds(), ==, fds);
}

/* EFAULT on a mapping: the P2P warning QEMU users know. */
static void test_map_efault_warns(void)
{
    if (g_test_subprocess()) {
        IOMMUFDBackend *be;
        Error *err = NULL;
        uint32_t ioas;
        void *gone;
        Bound b;

        host_up("", false);
        add_object("iommufd", "i0", "");
        be = backend("i0");
        g_assert_true(iommufd_be_connect(be, &error_abort));
        bind_cdev(be, &b);
        g_assert_true(iommufd_be_alloc_ioas(be, &ioas, &error_abort));
        attach_pt(&b, ioas);    /* with a domain, pages are pinned at map */
        gone = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                    0);
        g_assert_true(gone != MAP_FAILED);
        munmap(gone, PAGE);
        g_assert_cmpint(iommufd_be_map_dma(be, ioas, IOVA_BASE, PAGE, gone,
                                           false, &err), ==, -EFAULT);
        expect_error(&err, "failed: Bad address");
        g_assert_cmpint(hostos_close(b.cdev), ==, 0);
        iommufd_be_free_id(be, ioas);
        iommufd_be_disconnect(be);
        del_object("i0");
        host_down();
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("*IOMMU_IOAS_MAP failed: Bad address, "
                              "PCI BAR?*");
}

static void test_hw_info_hwpt_nesting(void)
{
    int fds = count_fds();
    Object *h0;
    IOMMUFDBackend *be;
    struct iommu_hw_info_vtd vtd;
    struct iommu_hwpt_vtd_s1 s1 = {
        .pgtbl_addr = IOVA_BASE, .addr_width = 48,
    };
    struct iommu_hwpt_vtd_s1_invalidate inv[2] = {
        { .addr = 0, .npages = UINT64_MAX },
        { .addr = 0x40000000, .npages = 1, .flags = IOMMU_VTD_INV_FLAGS_LEAF },
    };
    uint64_t caps = 0;
    uint8_t pasid = 0;
    uint32_t type = 0, ioas, parent, nested, n;
    g_autofree char *msg = NULL;
    Error *err = NULL;
    TestMem mem;
    Bound b;

    host_up("", false);
    h0 = object_resolve_path_component(object_get_objects_root(), "h0");
    mem_alloc(&mem, 16 * PAGE);
    add_object("iommufd", "i0", "");
    be = backend("i0");
    g_assert_true(iommufd_be_connect(be, &error_abort));
    bind_cdev(be, &b);

    /* the VT-d capabilities the host's knobs imply */
    memset(&vtd, 0xff, sizeof(vtd));
    g_assert_true(iommufd_be_get_device_info(be, b.devid, &type, &vtd,
                                             sizeof(vtd), &caps, &pasid,
                                             &error_abort));
    g_assert_cmpuint(type, ==, IOMMU_HW_INFO_TYPE_INTEL_VTD);
    g_assert_cmphex(vtd.cap_reg, ==,
                    object_property_get_uint(h0, "vtd-cap", &error_abort));
    g_assert_cmphex(vtd.ecap_reg, ==,
                    object_property_get_uint(h0, "vtd-ecap", &error_abort));
    g_assert_cmphex(vtd.flags, ==, 0);
    g_assert_true(caps & IOMMU_HW_CAP_DIRTY_TRACKING);
    g_assert_cmpuint(pasid, ==, 20);
    g_assert_false(iommufd_be_get_device_info(be, 999, &type, NULL, 0, NULL,
                                              NULL, &err));
    expect_error(&err, "IOMMU_GET_HW_INFO (dev_id 999) failed: No such file "
                 "or directory");

    /* a nest parent on the IOAS, a VT-d stage-1 HWPT on it */
    g_assert_true(iommufd_be_alloc_ioas(be, &ioas, &error_abort));
    g_assert_cmpint(iommufd_be_map_dma(be, ioas, IOVA_BASE, mem.size, mem.p,
                                       false, &error_abort), ==, 0);
    g_assert_true(iommufd_be_alloc_hwpt(be, b.devid, ioas,
                                        IOMMU_HWPT_ALLOC_NEST_PARENT,
                                        IOMMU_HWPT_DATA_NONE, 0, NULL,
                                        &parent, &error_abort));
    g_assert_true(iommufd_be_alloc_hwpt(be, b.devid, parent, 0,
                                        IOMMU_HWPT_DATA_VTD_S1, sizeof(s1),
                                        &s1, &nested, &error_abort));
    g_assert_cmpuint(nested, !=, parent);
    g_assert_false(iommufd_be_alloc_hwpt(be, b.devid, nested, 0,
                                         IOMMU_HWPT_DATA_VTD_S1, sizeof(s1),
                                         &s1, &n, &err));
    msg = g_strdup_printf("IOMMU_HWPT_ALLOC (dev_id %u, pt_id %u, flags 0x0, "
                          "data_type 1) failed: Invalid argument", b.devid,
                          nested);
    expect_error(&err, msg);
    g_assert_cmpuint(attach_pt(&b, nested), ==, nested);

    /* invalidation: all entries processed, or the count of those that were */
    n = 2;
    g_assert_true(iommufd_be_invalidate_cache(be, nested,
                      IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, sizeof(inv[0]), &n,
                      inv, &error_abort));
    g_assert_cmpuint(n, ==, 2);
    inv[1].flags = 1u << 7;     /* unknown flag: the second is refused */
    n = 2;
    g_assert_false(iommufd_be_invalidate_cache(be, nested,
                       IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, sizeof(inv[0]), &n,
                       inv, &err));
    g_assert_cmpuint(n, ==, 1);
    msg = (g_free(msg), g_strdup_printf("IOMMU_HWPT_INVALIDATE (id %u) "
                                        "failed: total 2 entries, processed "
                                        "1 entries: Operation not supported",
                                        nested));
    expect_error(&err, msg);
    n = 1;
    g_assert_false(iommufd_be_invalidate_cache(be, parent,
                       IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, sizeof(inv[0]), &n,
                       inv, &err));
    g_assert_cmpuint(n, ==, 0);
    expect_error(&err, "processed 0 entries: Invalid argument");

    /* freeing: a busy id only warns */
    iommufd_be_free_id(be, parent);
    g_assert_cmpuint(attach_pt(&b, ioas), !=, 0);
    iommufd_be_free_id(be, nested);
    iommufd_be_free_id(be, parent);
    g_assert_cmpint(hostos_close(b.cdev), ==, 0);
    iommufd_be_free_id(be, ioas);
    iommufd_be_disconnect(be);
    del_object("i0");
    mem_free(&mem);
    host_down();
    g_assert_cmpint(count_fds(), ==, fds);
}

static void test_dirty_tracking(void)
{
    int fds = count_fds();
    IOMMUFDBackend *be;
    uint64_t bits[1] = { 0 };
    g_autofree char *msg = NULL;
    Error *err = NULL;
    uint32_t ioas, hwpt, plain;
    TestMem mem;
    Bound b;

    host_up("", false);
    mem_alloc(&mem, 16 * PAGE);
    add_object("iommufd", "i0", "");
    be = backend("i0");
    g_assert_true(iommufd_be_connect(be, &error_abort));
    bind_cdev(be, &b);
    g_assert_true(iommufd_be_alloc_ioas(be, &ioas, &error_abort));
    g_assert_true(iommufd_be_alloc_hwpt(be, b.devid, ioas,
                                        IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
                                        IOMMU_HWPT_DATA_NONE, 0, NULL, &hwpt,
                                        &error_abort));
    g_assert_cmpuint(attach_pt(&b, hwpt), ==, hwpt);
    g_assert_cmpint(iommufd_be_map_dma(be, ioas, IOVA_BASE, mem.size, mem.p,
                                       false, &error_abort), ==, 0);
    g_assert_true(iommufd_be_set_dirty_tracking(be, hwpt, true,
                                                &error_abort));

    /* the device writes pages 2 and 7 */
    g_assert_true(dev_copy(&b.dev, SIM_NO_PASID, IOVA_BASE,
                           IOVA_BASE + 2 * PAGE, 64));
    g_assert_true(dev_copy(&b.dev, SIM_NO_PASID, IOVA_BASE,
                           IOVA_BASE + 7 * PAGE, 64));
    g_assert_true(iommufd_be_get_dirty_bitmap(be, hwpt, IOVA_BASE, mem.size,
                      PAGE, bits, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR,
                      &error_abort));
    g_assert_cmphex(bits[0], ==, (1u << 2) | (1u << 7));
    bits[0] = 0;
    g_assert_true(iommufd_be_get_dirty_bitmap(be, hwpt, IOVA_BASE, mem.size,
                                              PAGE, bits, 0, &error_abort));
    g_assert_cmphex(bits[0], ==, (1u << 2) | (1u << 7));
    bits[0] = 0;
    g_assert_true(iommufd_be_get_dirty_bitmap(be, hwpt, IOVA_BASE, mem.size,
                                              PAGE, bits, 0, &error_abort));
    g_assert_cmphex(bits[0], ==, 0);
    g_assert_false(iommufd_be_get_dirty_bitmap(be, hwpt, IOVA_BASE + 1,
                                               PAGE, PAGE, bits, 0, &err));
    msg = g_strdup_printf("IOMMU_HWPT_GET_DIRTY_BITMAP (hwpt_id %u, iova "
                          "0x100001, size 0x1000) failed: Invalid argument",
                          hwpt);
    expect_error(&err, msg);
    g_assert_true(iommufd_be_set_dirty_tracking(be, hwpt, false,
                                                &error_abort));

    /* a HWPT made without DIRTY_TRACKING cannot track */
    g_assert_true(iommufd_be_alloc_hwpt(be, b.devid, ioas, 0,
                                        IOMMU_HWPT_DATA_NONE, 0, NULL,
                                        &plain, &error_abort));
    g_assert_false(iommufd_be_set_dirty_tracking(be, plain, true, &err));
    msg = (g_free(msg), g_strdup_printf("IOMMU_HWPT_SET_DIRTY_TRACKING "
                                        "(hwpt_id %u, start) failed", plain));
    expect_error(&err, msg);

    g_assert_cmpint(hostos_close(b.cdev), ==, 0);
    iommufd_be_free_id(be, plain);
    iommufd_be_free_id(be, hwpt);
    iommufd_be_free_id(be, ioas);
    iommufd_be_disconnect(be);
    del_object("i0");
    mem_free(&mem);
    host_down();
    g_assert_cmpint(count_fds(), ==, fds);
}

/* ------------------------------------------------------------------------
 * Host IOMMU devices: a test-only class realized from fixed data
 * ------------------------------------------------------------------------ */

#define TYPE_TEST_HIOD "test-host-iommu-device"
#define TYPE_TEST_HIOD_BARE "test-host-iommu-device-bare"

/* realize's agent for TYPE_TEST_HIOD */
typedef struct TestHiodData {
    const char *name;
    HostIOMMUDeviceCaps caps;
    GList *ranges;
    uint64_t pgsizes;
} TestHiodData;

typedef struct TestHiod {
    HostIOMMUDeviceIOMMUFD parent_obj;
    GList *ranges;
    uint64_t pgsizes;
} TestHiod;

DECLARE_INSTANCE_CHECKER(TestHiod, TEST_HIOD, TYPE_TEST_HIOD)

static bool test_hiod_realize(HostIOMMUDevice *hiod, void *agent,
                              Error **errp)
{
    TestHiodData *d = agent;

    hiod->name = g_strdup(d->name);
    hiod->agent = d;
    hiod->caps = d->caps;
    TEST_HIOD(hiod)->ranges = range_list_copy(d->ranges);
    TEST_HIOD(hiod)->pgsizes = d->pgsizes;
    return true;
}

static GList *test_hiod_get_iova_ranges(HostIOMMUDevice *hiod)
{
    return range_list_copy(TEST_HIOD(hiod)->ranges);
}

static uint64_t test_hiod_get_page_size_mask(HostIOMMUDevice *hiod)
{
    return TEST_HIOD(hiod)->pgsizes;
}

static void test_hiod_finalize(Object *obj)
{
    range_list_free(TEST_HIOD(obj)->ranges);
}

static void test_hiod_class_init(ObjectClass *klass, const void *data)
{
    HostIOMMUDeviceClass *hiodc = HOST_IOMMU_DEVICE_CLASS(klass);

    hiodc->realize = test_hiod_realize;
    hiodc->get_iova_ranges = test_hiod_get_iova_ranges;
    hiodc->get_page_size_mask = test_hiod_get_page_size_mask;
}

/* Only realize: the vIOMMU-facing wrappers must cope. */
static bool test_hiod_bare_realize(HostIOMMUDevice *hiod, void *agent,
                                   Error **errp)
{
    if (agent) {
        error_setg(errp, "bare: refused");
        return false;
    }
    return true;
}

static void test_hiod_bare_class_init(ObjectClass *klass, const void *data)
{
    HOST_IOMMU_DEVICE_CLASS(klass)->realize = test_hiod_bare_realize;
}

static const TypeInfo test_hiod_types[] = {
    {
        .name = TYPE_TEST_HIOD,
        .parent = TYPE_HOST_IOMMU_DEVICE_IOMMUFD,
        .instance_size = sizeof(TestHiod),
        .instance_finalize = test_hiod_finalize,
        .class_init = test_hiod_class_init,
    },
    {
        .name = TYPE_TEST_HIOD_BARE,
        .parent = TYPE_HOST_IOMMU_DEVICE,
        .class_init = test_hiod_bare_class_init,
    },
};

DEFINE_TYPES(test_hiod_types)

/* VT-d 11.4.2 / 11.4.3 bits the keys read */
#define CAP_FS1GP   (1ull << 56)
#define ECAP_NEST   (1ull << 26)

static int cap(HostIOMMUDevice *hiod, int key)
{
    return host_iommu_device_get_cap(hiod, key, &error_abort);
}

static void test_hiod_abstract(void)
{
    static const char *const abstract[] = {
        TYPE_HOST_IOMMU_DEVICE, TYPE_HOST_IOMMU_DEVICE_IOMMUFD,
    };
    g_autofree char *msg = NULL;
    Error *err = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(abstract); i++) {
        ObjectClass *k = object_class_by_name(abstract[i]);

        g_assert_nonnull(k);
        g_assert_true(object_class_is_abstract(k));
        g_assert_null(host_iommu_device_create(abstract[i], NULL, &err));
        expect_error(&err, "is abstract");
    }
    g_assert_false(object_class_is_abstract(
        object_class_by_name(TYPE_HOST_IOMMU_DEVICE_LEGACY_VFIO)));
    g_assert_false(object_class_is_abstract(
        object_class_by_name(TYPE_HOST_IOMMU_DEVICE_IOMMUFD_VFIO)));
    g_assert_null(host_iommu_device_create("iommufd", NULL, &err));
    expect_error(&err, "'iommufd' is not a host IOMMU device type");
    g_assert_null(host_iommu_device_create("no-such-type", NULL, &err));
    expect_error(&err, "'no-such-type' is not a host IOMMU device type");
    /* not user-creatable either */
    msg = add_object_error(TYPE_HOST_IOMMU_DEVICE_IOMMUFD_VFIO, "x", "");
    g_assert_nonnull(strstr(msg, "isn't supported by object-add"));

    /* and QOM itself refuses */
    if (g_test_subprocess()) {
        object_new(TYPE_HOST_IOMMU_DEVICE_IOMMUFD);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*cannot instantiate abstract type "
                              "'host-iommu-device-iommufd'*");
}

static void test_hiod_caps(void)
{
    GList *ranges = g_list_append(g_list_append(NULL,
                                  range_new(0, 0xfedfffff)),
                                  range_new(0xfef00000, (1ull << 48) - 1));
    TestHiodData d = {
        .name = "0000:02:00.0",
        .caps = {
            .type = IOMMU_HW_INFO_TYPE_INTEL_VTD,
            .hw_caps = IOMMU_HW_CAP_DIRTY_TRACKING |
                       IOMMU_HW_CAP_PCI_PASID_EXEC,
            .max_pasid_log2 = 20,
            .vendor_caps.vtd = {
                .flags = IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17,
                .cap_reg = CAP_FS1GP, .ecap_reg = ECAP_NEST,
            },
        },
        .ranges = ranges,
        .pgsizes = 0x40201000,
    };
    HostIOMMUDevice *hiod;
    GList *r1, *r2;
    PasidInfo pi;
    Error *err = NULL;
    g_autofree char *str = NULL;

    hiod = host_iommu_device_create(TYPE_TEST_HIOD, &d, &error_abort);
    g_assert_true(hiod->agent == &d);
    g_assert_cmpstr(hiod->name, ==, "0000:02:00.0");
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_IOMMU_TYPE), ==,
                    IOMMU_HW_INFO_TYPE_INTEL_VTD);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_AW_BITS), ==, 48);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_NESTING), ==, 1);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_FS1GP), ==, 1);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_DIRTY_TRACKING), ==, 1);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_PASID_BITS), ==, 20);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_ERRATA), ==,
                    HOST_IOMMU_DEVICE_ERRATA_VTD_SPR17);
    g_assert_cmpint(host_iommu_device_get_cap(hiod, 63, &err), <, 0);
    expect_error(&err, "0000:02:00.0: unsupported capability 3f");
    g_assert_cmpint(host_iommu_device_get_cap(hiod, -1, &err), <, 0);
    expect_error(&err, "unsupported capability");

    /* a deep copy each time, independent of the realize data */
    r1 = host_iommu_device_get_iova_ranges(hiod);
    r2 = host_iommu_device_get_iova_ranges(hiod);
    g_assert_cmpuint(g_list_length(r1), ==, 2);
    g_assert_true(r1->data != r2->data && r1->data != ranges->data);
    ((Range *)r1->data)->upb = 0;
    range_list_free(r1);
    g_assert_cmphex(((Range *)r2->data)->upb, ==, 0xfedfffff);
    g_assert_cmphex(((Range *)r2->next->data)->lob, ==, 0xfef00000);
    range_list_free(r2);
    g_assert_cmphex(host_iommu_device_get_page_size_mask(hiod), ==,
                    0x40201000);
    g_assert_true(host_iommu_device_get_pasid_info(hiod, &pi));
    g_assert_true(pi.exec_perm);
    g_assert_false(pi.priv_mod);
    g_assert_cmpuint(pi.max_pasid_log2, ==, 20);

    /* the same through QOM properties */
    g_assert_cmpuint(object_property_get_uint(OBJECT(hiod), "aw-bits",
                                              &error_abort), ==, 48);
    g_assert_true(object_property_get_bool(OBJECT(hiod), "nesting",
                                           &error_abort));
    g_assert_cmpuint(object_property_get_uint(OBJECT(hiod), "vtd-cap",
                                              &error_abort), ==, CAP_FS1GP);
    g_assert_cmpuint(object_property_get_uint(OBJECT(hiod), "errata",
                                              &error_abort), ==, 1);
    str = object_property_get_str(OBJECT(hiod), "iova-ranges", &error_abort);
    g_assert_cmpstr(str, ==, "0x0-0xfedfffff:0xfef00000-0xffffffffffff");
    /* a second realize is refused */
    g_assert_false(host_iommu_device_realize(hiod, &d, &err));
    expect_error(&err, "0000:02:00.0: host IOMMU device already realized");
    object_unref(hiod);

    /* no ranges: 64 bits; a 39-bit host; no PASID; SMMUv3 nesting */
    d.ranges = NULL;
    d.caps.max_pasid_log2 = 0;
    d.caps.hw_caps = 0;
    d.caps.vendor_caps.vtd = (struct iommu_hw_info_vtd){ 0 };
    hiod = host_iommu_device_create(TYPE_TEST_HIOD, &d, &error_abort);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_AW_BITS), ==,
                    HOST_IOMMU_DEVICE_CAP_AW_BITS_MAX);
    g_assert_null(host_iommu_device_get_iova_ranges(hiod));
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_NESTING), ==, 0);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_FS1GP), ==, 0);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_DIRTY_TRACKING), ==, 0);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_PASID_BITS), ==, 0);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_ERRATA), ==, 0);
    g_assert_false(host_iommu_device_get_pasid_info(hiod, &pi));
    str = (g_free(str), object_property_get_str(OBJECT(hiod), "iova-ranges",
                                                &error_abort));
    g_assert_cmpstr(str, ==, "");
    object_unref(hiod);

    d.ranges = g_list_append(NULL, range_new(0, (1ull << 39) - 1));
    d.caps.type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
    d.caps.vendor_caps.smmuv3.idr[0] = 0x3;     /* S1P | S2P */
    d.caps.vendor_caps.smmuv3.flags = 1;        /* not a VT-d erratum */
    hiod = host_iommu_device_create(TYPE_TEST_HIOD, &d, &error_abort);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_AW_BITS), ==, 39);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_IOMMU_TYPE), ==,
                    IOMMU_HW_INFO_TYPE_ARM_SMMUV3);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_NESTING), ==, 1);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_ERRATA), ==, 0);
    object_unref(hiod);
    range_list_free(d.ranges);
    range_list_free(ranges);
}

static void test_hiod_bare(void)
{
    HostIOMMUDevice *hiod;
    PasidInfo pi;
    Error *err = NULL;
    int agent = 1;

    g_assert_null(host_iommu_device_create(TYPE_TEST_HIOD_BARE, &agent,
                                           &err));
    expect_error(&err, "bare: refused");
    hiod = HOST_IOMMU_DEVICE(object_new(TYPE_TEST_HIOD_BARE));
    /* not realized yet: nothing to answer */
    g_assert_null(host_iommu_device_get_iova_ranges(hiod));
    g_assert_true(host_iommu_device_realize(hiod, NULL, &error_abort));
    g_assert_cmpstr(hiod->name, ==, TYPE_TEST_HIOD_BARE);
    g_assert_cmpint(host_iommu_device_get_cap(hiod,
                        HOST_IOMMU_DEVICE_CAP_AW_BITS, &err), <, 0);
    expect_error(&err, ".get_cap() not implemented");
    g_assert_null(host_iommu_device_get_iova_ranges(hiod));
    g_assert_cmpuint(host_iommu_device_get_page_size_mask(hiod), ==, 0);
    g_assert_false(host_iommu_device_get_pasid_info(hiod, &pi));
    object_property_get_uint(OBJECT(hiod), "aw-bits", &err);
    expect_error(&err, ".get_cap() not implemented");
    object_unref(hiod);

    /* an unrealized iommufd device answers nothing either */
    hiod = HOST_IOMMU_DEVICE(object_new(TYPE_TEST_HIOD));
    g_assert_cmpint(host_iommu_device_get_cap(hiod,
                        HOST_IOMMU_DEVICE_CAP_IOMMU_TYPE, &err), <, 0);
    expect_error(&err, "not realized");
    g_assert_false(host_iommu_device_iommufd_attach_hwpt(
                       HOST_IOMMU_DEVICE_IOMMUFD(hiod), 1, &err));
    expect_error(&err, ".attach_hwpt() not implemented");
    g_assert_false(host_iommu_device_iommufd_detach_hwpt(
                       HOST_IOMMU_DEVICE_IOMMUFD(hiod), &err));
    expect_error(&err, ".detach_hwpt() not implemented");
    object_unref(hiod);
}

/* ------------------------------------------------------------------------
 * The VFIO classes
 * ------------------------------------------------------------------------ */

static void test_hiod_legacy_vfio(void)
{
    GList *ranges = g_list_append(g_list_append(NULL,
                                  range_new(0, 0xfedfffff)),
                                  range_new(0xfef00000, (1ull << 39) - 1));
    HostIOMMUDeviceVFIOInfo info = {
        .agent = &ranges, .name = "0000:03:00.0", .iova_ranges = ranges,
        .pgsizes = 0x1000, .devfd = -1,
    };
    HostIOMMUDevice *hiod;
    Error *err = NULL;
    GList *copy;

    hiod = host_iommu_device_create(TYPE_HOST_IOMMU_DEVICE_LEGACY_VFIO,
                                    &info, &error_abort);
    g_assert_true(hiod->agent == &ranges);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_AW_BITS), ==, 39);
    for (int key = HOST_IOMMU_DEVICE_CAP_NESTING;
         key <= HOST_IOMMU_DEVICE_CAP_ERRATA; key++) {
        g_assert_cmpint(cap(hiod, key), ==, 0);
    }
    /* type1 reports no IOMMU type: QEMU's answer */
    g_assert_cmpint(host_iommu_device_get_cap(hiod,
                        HOST_IOMMU_DEVICE_CAP_IOMMU_TYPE, &err), ==, -EINVAL);
    expect_error(&err, "0000:03:00.0: unsupported capability 0");
    g_assert_cmpuint(host_iommu_device_get_page_size_mask(hiod), ==, 0x1000);
    copy = host_iommu_device_get_iova_ranges(hiod);
    g_assert_cmpuint(g_list_length(copy), ==, 2);
    g_assert_true(copy->data != ranges->data);
    range_list_free(copy);
    g_assert_cmpuint(object_property_get_uint(OBJECT(hiod), "iommu-type",
                                              &error_abort), ==, 0);
    object_unref(hiod);

    /* no ranges, no page sizes: 64 bits, the host page */
    info.iova_ranges = NULL;
    info.pgsizes = 0;
    hiod = host_iommu_device_create(TYPE_HOST_IOMMU_DEVICE_LEGACY_VFIO,
                                    &info, &error_abort);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_AW_BITS), ==, 64);
    g_assert_cmpuint(host_iommu_device_get_page_size_mask(hiod), ==,
                     (uint64_t)sysconf(_SC_PAGESIZE));
    object_unref(hiod);

    /* hostile ranges: reversed, overlapping; and no name */
    info.iova_ranges = g_list_reverse(ranges);
    g_assert_null(host_iommu_device_create(TYPE_HOST_IOMMU_DEVICE_LEGACY_VFIO,
                                           &info, &err));
    expect_error(&err, "0000:03:00.0: invalid host IOVA range "
                 "0x0-0xfedfffff");
    ranges = g_list_reverse(info.iova_ranges);
    ((Range *)ranges->data)->lob = 0x2000;
    ((Range *)ranges->data)->upb = 0x1000;
    info.iova_ranges = ranges;
    g_assert_null(host_iommu_device_create(TYPE_HOST_IOMMU_DEVICE_LEGACY_VFIO,
                                           &info, &err));
    expect_error(&err, "invalid host IOVA range 0x2000-0x1000");
    info.name = NULL;
    g_assert_null(host_iommu_device_create(TYPE_HOST_IOMMU_DEVICE_LEGACY_VFIO,
                                           &info, &err));
    expect_error(&err, "realize needs a VFIO device name");
    g_assert_null(host_iommu_device_create(TYPE_HOST_IOMMU_DEVICE_LEGACY_VFIO,
                                           NULL, &err));
    expect_error(&err, "realize needs a VFIO device name");
    range_list_free(ranges);
}

/*
 * iommufd-vfio on a device bound by hand, as the VFIO container will do
 * it: caps from GET_HW_INFO, ranges from the IOAS, and the HWPT calls
 * moving the device's DMA between HWPTs.
 */
static void check_iommufd_vfio(const char *host_json, bool spr17)
{
    Object *h0;
    IOMMUFDBackend *be;
    HostIOMMUDevice *hiod;
    HostIOMMUDeviceIOMMUFD *idev;
    HostIOMMUDeviceVFIOInfo info = { .name = BDF0 };
    g_autofree char *path = NULL, *str = NULL;
    Error *err = NULL;
    uint32_t ioas, parent, hwpt;
    TestMem mem;
    Bound b;

    host_up(host_json, false);
    h0 = object_resolve_path_component(object_get_objects_root(), "h0");
    mem_alloc(&mem, 16 * PAGE);
    add_object("iommufd", "i0", "");
    be = backend("i0");
    g_assert_true(iommufd_be_connect(be, &error_abort));
    bind_cdev(be, &b);
    g_assert_true(iommufd_be_alloc_ioas(be, &ioas, &error_abort));
    g_assert_true(iommufd_be_alloc_hwpt(be, b.devid, ioas,
                                        IOMMU_HWPT_ALLOC_NEST_PARENT,
                                        IOMMU_HWPT_DATA_NONE, 0, NULL,
                                        &parent, &error_abort));
    g_assert_cmpuint(attach_pt(&b, parent), ==, parent);
    g_assert_cmpint(iommufd_be_map_dma(be, ioas, IOVA_BASE, mem.size, mem.p,
                                       false, &error_abort), ==, 0);
    g_assert_true(iommufd_be_get_iova_ranges(be, ioas, &info.iova_ranges,
                                             &info.pgsizes, &error_abort));
    g_assert_cmpuint(g_list_length(info.iova_ranges), ==, 2);
    g_assert_cmpuint(info.pgsizes, ==, PAGE);

    /* what realize refuses */
    info.iommufd = be;
    info.devfd = -1;
    info.devid = b.devid;
    g_assert_null(host_iommu_device_create(TYPE_HOST_IOMMU_DEVICE_IOMMUFD_VFIO,
                                           &info, &err));
    expect_error(&err, BDF0 ": realize needs the VFIO device fd");
    info.devfd = b.cdev;
    info.devid = 0;
    g_assert_null(host_iommu_device_create(TYPE_HOST_IOMMU_DEVICE_IOMMUFD_VFIO,
                                           &info, &err));
    expect_error(&err, BDF0 ": no iommufd device id");
    info.devid = 77;
    g_assert_null(host_iommu_device_create(TYPE_HOST_IOMMU_DEVICE_IOMMUFD_VFIO,
                                           &info, &err));
    expect_error(&err, BDF0 ": IOMMU_GET_HW_INFO (dev_id 77) failed");

    info.devid = b.devid;
    info.hwpt_id = parent;
    hiod = host_iommu_device_create(TYPE_HOST_IOMMU_DEVICE_IOMMUFD_VFIO,
                                    &info, &error_abort);
    range_list_free(info.iova_ranges);
    idev = HOST_IOMMU_DEVICE_IOMMUFD(hiod);
    g_assert_true(idev->iommufd == be);
    g_assert_cmpuint(idev->devid, ==, b.devid);
    g_assert_cmpuint(idev->hwpt_id, ==, parent);

    /* the capabilities the knobs imply */
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_IOMMU_TYPE), ==,
                    IOMMU_HW_INFO_TYPE_INTEL_VTD);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_AW_BITS), ==, 48);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_NESTING), ==, 1);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_FS1GP), ==, 1);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_DIRTY_TRACKING), ==, 1);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_PASID_BITS), ==, 20);
    g_assert_cmpint(cap(hiod, HOST_IOMMU_DEVICE_CAP_ERRATA), ==,
                    spr17 ? HOST_IOMMU_DEVICE_ERRATA_VTD_SPR17 : 0);
    g_assert_cmphex(hiod->caps.vendor_caps.vtd.ecap_reg, ==,
                    object_property_get_uint(h0, "vtd-ecap", &error_abort));
    g_assert_cmphex(host_iommu_device_get_page_size_mask(hiod), ==, PAGE);

    /* introspection, once the agent makes it a child */
    object_property_add_child(OBJECT(h0), "hiod", OBJECT(hiod));
    path = object_get_canonical_path(OBJECT(hiod));
    g_assert_cmpstr(path, ==, "/objects/h0/hiod");
    g_assert_cmpuint(object_property_get_uint(OBJECT(hiod), "devid",
                                              &error_abort), ==, b.devid);
    g_assert_cmpuint(object_property_get_uint(OBJECT(hiod), "hwpt-id",
                                              &error_abort), ==, parent);
    str = object_property_get_str(OBJECT(hiod), "iommufd", &error_abort);
    g_assert_cmpstr(str, ==, "/objects/i0");
    str = (g_free(str), object_property_get_str(OBJECT(hiod), "name",
                                                &error_abort));
    g_assert_cmpstr(str, ==, BDF0);
    str = (g_free(str), object_property_get_str(OBJECT(hiod), "iova-ranges",
                                                &error_abort));
    g_assert_cmpstr(str, ==, "0x0-0xfedfffff:0xfef00000-0xffffffffffff");
    g_assert_false(object_property_set_uint(OBJECT(hiod), "devid", 5, &err));
    expect_error(&err, "devid");
    object_unparent(OBJECT(hiod));

    /* detach blocks the device's DMA; attach restores it */
    g_assert_true(dev_copy(&b.dev, SIM_NO_PASID, IOVA_BASE,
                           IOVA_BASE + PAGE, 64));
    g_assert_true(host_iommu_device_iommufd_detach_hwpt(idev, &error_abort));
    drain_faults();
    g_assert_false(dev_copy(&b.dev, SIM_NO_PASID, IOVA_BASE,
                            IOVA_BASE + PAGE, 64));
    g_assert_cmpint(pop_fault().reason, ==, SIM_FAULT_BLOCKED);
    g_assert_true(iommufd_be_alloc_hwpt(be, b.devid, ioas, 0,
                                        IOMMU_HWPT_DATA_NONE, 0, NULL, &hwpt,
                                        &error_abort));
    g_assert_true(host_iommu_device_iommufd_attach_hwpt(idev, hwpt,
                                                        &error_abort));
    g_assert_true(dev_copy(&b.dev, SIM_NO_PASID, IOVA_BASE,
                           IOVA_BASE + PAGE, 64));
    g_assert_false(host_iommu_device_iommufd_attach_hwpt(idev, 999, &err));
    expect_error(&err, BDF0 ": VFIO_DEVICE_ATTACH_IOMMUFD_PT (pt_id 999) "
                 "failed: No such file or directory");
    g_assert_true(host_iommu_device_iommufd_attach_hwpt(idev, parent,
                                                        &error_abort));

    /* the hiod holds the backend: deletable (no user), freed with it */
    g_assert_cmpint(hostos_close(b.cdev), ==, 0);
    iommufd_be_free_id(be, hwpt);
    iommufd_be_free_id(be, parent);
    iommufd_be_free_id(be, ioas);
    iommufd_be_disconnect(be);
    object_ref(be);
    del_object("i0");
    g_assert_cmpuint(OBJECT(be)->ref, ==, 2);
    object_unref(be);
    object_unref(hiod);
    mem_free(&mem);
    host_down();
}

static void test_hiod_iommufd_vfio(void)
{
    int fds = count_fds();

    check_iommufd_vfio("", false);
    check_iommufd_vfio("\"erratum-spr17\": true", true);
    g_assert_cmpint(count_fds(), ==, fds);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/iommufd-backend/connect-opens-lazily-closes-last",
                    test_connect_refcount);
    g_test_add_func("/iommufd-backend/connect-without-dev-iommu",
                    test_connect_no_iommufd);
    g_test_add_func("/iommufd-backend/fd-by-number", test_fd_by_number);
    g_test_add_func("/iommufd-backend/ioas-map-unmap-enoent-is-success",
                    test_ioas_map_unmap);
    g_test_add_func("/iommufd-backend/map-efault-warns-pci-bar",
                    test_map_efault_warns);
    g_test_add_func("/iommufd-backend/hw-info-hwpt-nesting-invalidate",
                    test_hw_info_hwpt_nesting);
    g_test_add_func("/iommufd-backend/dirty-tracking", test_dirty_tracking);
    g_test_add_func("/host-iommu-device/abstract-types", test_hiod_abstract);
    g_test_add_func("/host-iommu-device/caps-from-fixed-data",
                    test_hiod_caps);
    g_test_add_func("/host-iommu-device/class-without-hooks",
                    test_hiod_bare);
    g_test_add_func("/host-iommu-device/legacy-vfio", test_hiod_legacy_vfio);
    g_test_add_func("/host-iommu-device/iommufd-vfio-bound-by-hand",
                    test_hiod_iommufd_vfio);
    return g_test_run();
}
