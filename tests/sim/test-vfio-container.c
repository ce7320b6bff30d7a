/*
 * VFIO containers in process, on a simulated host (sim-host objects):
 * what a container maps from an address space and keeps in step with it,
 * how devices share containers and HWPTs, the NEST_PARENT HWPT a vIOMMU
 * asks for, the mapping record (split unmaps, replacing maps), and that
 * detaching the last device leaves no fd, mapping or backend user.  The
 * device's own DMA engine, driven through its device fd, shows what the
 * host IOMMU really maps.
 */
#include "hostos-test.h"
#include "hw/vfio/vfio-device.h"
#include "system/iommufd.h"

#define RAM_BASE    0x100000ull
#define RAM_SIZE    (64 * 1024)

typedef struct Space {
    MemoryRegion root, ram, ram2;
    AddressSpace as;
} Space;

static void space_init(Space *s)
{
    memory_region_init(&s->root, NULL, "root", UINT64_MAX);
    g_assert_true(memory_region_init_ram(&s->ram, NULL, "ram", RAM_SIZE,
                                         &error_abort));
    memory_region_add_subregion(&s->root, RAM_BASE, &s->ram);
    address_space_init(&s->as, &s->root, "test-dma");
}

static void space_destroy(Space *s)
{
    address_space_destroy(&s->as);
    memory_region_finalize(&s->ram);
    memory_region_finalize(&s->root);
}

static uint8_t *ram(Space *s, uint64_t gpa)
{
    return (uint8_t *)memory_region_get_ram_ptr(&s->ram) + (gpa - RAM_BASE);
}

static void vdev_init(VFIODevice *v, const char *bdf, IOMMUFDBackend *be)
{
    memset(v, 0, sizeof(*v));
    vfio_device_init(v);
    v->name = g_strdup(bdf);
    v->sysfsdev = g_strdup_printf("/sys/bus/pci/devices/%s", bdf);
    v->iommufd = be;
}

static void vdev_attach(VFIODevice *v, Space *s, uint64_t flags)
{
    g_assert_true(vfio_device_attach(v, &s->as, flags, &error_abort));
    g_assert_cmpint(v->fd, >=, 0);
    g_assert_nonnull(v->hiod);
}

static void vdev_free(VFIODevice *v)
{
    vfio_device_detach(v);
    g_assert_cmpint(v->fd, ==, -1);
    g_assert_null(v->container);
    g_free(v->name);
    g_free(v->sysfsdev);
}

/* The device engine copies 64 bytes IOVA src -> dst; true if it did. */
static bool copy(VFIODevice *v, uint64_t src, uint64_t dst)
{
    Dev d;
    bool ok;

    dev_init(&d, v->fd);
    dev_enable_bus_master(&d);
    ok = dev_copy(&d, SIM_NO_PASID, src, dst, 64);
    drain_faults();
    return ok;
}

static bool copy_lands(Space *s, VFIODevice *v, uint64_t src, uint64_t dst,
                       uint8_t seed)
{
    for (int i = 0; i < 64; i++) {
        ram(s, src)[i] = seed + i;
        ram(s, dst)[i] = 0;
    }
    return copy(v, src, dst) && !memcmp(ram(s, src), ram(s, dst), 64);
}

static IOMMUFDBackend *backend_new(void)
{
    return IOMMUFD_BACKEND(add_object("iommufd", "fd0", ""));
}

/* ------------------------------------------------------------------------
 * Legacy
 * ------------------------------------------------------------------------ */

/*
 * Two devices of one group share group and container; the listener maps
 * RAM as it appears and unmaps it as it goes; the last detach releases
 * everything.
 */
static void test_legacy_shared_and_listener(void)
{
    int fds = count_fds();
    VFIODevice a, b;
    Space s;

    host_up("", true);
    space_init(&s);
    vdev_init(&a, BDF0, NULL);
    vdev_init(&b, BDF1, NULL);
    vdev_attach(&a, &s, 0);
    vdev_attach(&b, &s, 0);
    g_assert_true(a.container == b.container);
    g_assert_true(a.group == b.group);
    g_assert_cmpuint(vfio_container_nr_mappings(a.container), ==, 1);
    g_assert_true(object_dynamic_cast(OBJECT(a.hiod),
                                      TYPE_HOST_IOMMU_DEVICE_LEGACY_VFIO));
    g_assert_true(copy_lands(&s, &a, RAM_BASE, RAM_BASE + 0x8000, 1));

    /* RAM added later is mapped, removed RAM unmapped */
    g_assert_true(memory_region_init_ram(&s.ram2, NULL, "ram2", 0x2000,
                                         &error_abort));
    memory_region_add_subregion(&s.root, 0x400000, &s.ram2);
    g_assert_cmpuint(vfio_container_nr_mappings(a.container), ==, 2);
    g_assert_true(copy(&b, RAM_BASE, 0x400000));
    memory_region_del_subregion(&s.root, &s.ram2);
    memory_region_finalize(&s.ram2);
    g_assert_cmpuint(vfio_container_nr_mappings(a.container), ==, 1);
    g_assert_false(copy(&b, RAM_BASE, 0x400000));

    vdev_free(&a);
    g_assert_true(copy_lands(&s, &b, RAM_BASE, RAM_BASE + 0x100, 2));
    vdev_free(&b);
    g_assert_cmpuint(hostos_sim_users(), ==, 0);
    space_destroy(&s);
    host_down();
    g_assert_cmpint(count_fds(), ==, fds);
}

/*
 * The mapping record: an unmap inside a mapping removes the host mapping
 * and maps the rest again; a map over mappings replaces them; the same
 * map twice is one.
 */
static void test_record_split_and_replace(void)
{
    int fds = count_fds();
    uint64_t m = 0x200000;
    VFIOContainer *c;
    VFIODevice a;
    Space s;

    host_up("", false);
    space_init(&s);
    vdev_init(&a, BDF0, NULL);
    vdev_attach(&a, &s, 0);
    c = a.container;
    g_assert_cmpint(vfio_container_map(c, m, 4 * PAGE, ram(&s, RAM_BASE),
                                       false, &error_abort), ==, 0);
    g_assert_cmpint(vfio_container_map(c, m, 4 * PAGE, ram(&s, RAM_BASE),
                                       false, &error_abort), ==, 0);
    g_assert_cmpuint(vfio_container_nr_mappings(c), ==, 2);
    g_assert_true(copy(&a, m + PAGE, m + 3 * PAGE));

    /* page 1 out: pages 0 and 2-3 stay */
    g_assert_cmpint(vfio_container_unmap(c, m + PAGE, m + 2 * PAGE - 1,
                                         &error_abort), ==, 0);
    g_assert_cmpuint(vfio_container_nr_mappings(c), ==, 3);
    g_assert_false(copy(&a, m + PAGE, m + 3 * PAGE));
    g_assert_true(copy(&a, m, m + 2 * PAGE));
    g_assert_true(copy(&a, m + 3 * PAGE, m));

    /* a map over pages 0-2 replaces what was there */
    g_assert_cmpint(vfio_container_map(c, m, 3 * PAGE, ram(&s, RAM_BASE),
                                       true, &error_abort), ==, 0);
    g_assert_cmpuint(vfio_container_nr_mappings(c), ==, 3);
    g_assert_true(copy(&a, m + PAGE, RAM_BASE + 0x1000));
    g_assert_false(copy(&a, RAM_BASE, m + PAGE));        /* read-only */
    g_assert_true(copy(&a, RAM_BASE, m + 3 * PAGE));

    vdev_free(&a);
    space_destroy(&s);
    host_down();
    g_assert_cmpint(count_fds(), ==, fds);
}

/* ------------------------------------------------------------------------
 * iommufd
 * ------------------------------------------------------------------------ */

/* Whether @hwpt can parent a VT-d stage-1 nested HWPT for @v. */
static bool is_nest_parent(IOMMUFDBackend *be, VFIODevice *v, uint32_t hwpt)
{
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = 0x1000, .addr_width = 48 };
    Error *err = NULL;
    uint32_t nested;

    if (!iommufd_be_alloc_hwpt(be, v->devid, hwpt, 0, IOMMU_HWPT_DATA_VTD_S1,
                               sizeof(s1), &s1, &nested, &err)) {
        error_free(err);
        return false;
    }
    iommufd_be_free_id(be, nested);
    return true;
}

/*
 * Without flags: the automatic HWPT of the IOAS, shared.  With
 * WANT_NESTING_PARENT (another address space, so another container): a
 * NEST_PARENT HWPT, the hiod's default HWPT, reused by the next device.
 */
static void test_iommufd_hwpts(void)
{
    int fds = count_fds();
    IOMMUFDBackend *be;
    VFIODevice a, b;
    Space s, t;
    uint32_t hwpt;

    host_up("", true);
    be = backend_new();
    space_init(&s);
    space_init(&t);

    vdev_init(&a, BDF0, be);
    vdev_attach(&a, &s, 0);
    hwpt = HOST_IOMMU_DEVICE_IOMMUFD(a.hiod)->hwpt_id;
    g_assert_false(is_nest_parent(be, &a, hwpt));
    g_assert_true(copy_lands(&s, &a, RAM_BASE, RAM_BASE + 0x8000, 3));
    vdev_free(&a);
    g_assert_cmpuint(be->users, ==, 0);

    vdev_init(&a, BDF0, be);
    vdev_init(&b, BDF1, be);
    vdev_attach(&a, &t, VIOMMU_FLAG_WANT_NESTING_PARENT);
    vdev_attach(&b, &t, VIOMMU_FLAG_WANT_NESTING_PARENT);
    g_assert_true(a.container == b.container);
    hwpt = HOST_IOMMU_DEVICE_IOMMUFD(a.hiod)->hwpt_id;
    g_assert_cmpuint(HOST_IOMMU_DEVICE_IOMMUFD(b.hiod)->hwpt_id, ==, hwpt);
    g_assert_true(is_nest_parent(be, &a, hwpt));
    /* the parent holds the guest's memory (stage 2) */
    g_assert_true(copy_lands(&t, &b, RAM_BASE, RAM_BASE + 0x100, 4));
    g_assert_cmpuint(be->users, ==, 2);
    vdev_free(&a);
    vdev_free(&b);
    g_assert_cmpuint(be->users, ==, 0);
    g_assert_cmpint(be->fd, ==, -1);

    space_destroy(&s);
    space_destroy(&t);
    del_object("fd0");
    g_assert_cmpuint(hostos_sim_users(), ==, 0);
    host_down();
    g_assert_cmpint(count_fds(), ==, fds);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vfio-container/legacy/shared-group-and-listener",
                    test_legacy_shared_and_listener);
    g_test_add_func("/vfio-container/record/split-and-replace",
                    test_record_split_and_replace);
    g_test_add_func("/vfio-container/iommufd/hwpts-and-nest-parent",
                    test_iommufd_hwpts);
    return g_test_run();
}
