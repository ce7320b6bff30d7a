/*
 * The host-OS layer driven as a VMM drives iommufd on a Linux kernel, on a
 * simulated host made by the sim-host / sim-pci-device objects: the cdev
 * flow ending in device DMA landing in test memory, GET_HW_INFO derived
 * from the host's knobs, the errno checklist of uapi_facts.md §5 for what
 * is simulated, nested HWPTs that stay stale until invalidated, dirty
 * bitmaps, fd passing of a node of the private tree, and concurrent
 * callers.
 *
 * Every test starts and ends with the same set of open fds.
 */
#include "hostos-test.h"

/* ------------------------------------------------------------------------
 * iommufd: the cdev flow
 * ------------------------------------------------------------------------ */

typedef struct Ifd {
    int iommufd;
    int cdev;
    uint32_t devid;
    uint32_t ioas;
    Dev dev;
} Ifd;

static int open_cdev(const char *bdf)
{
    g_autofree char *dir = g_strdup_printf("/sys/bus/pci/devices/%s/vfio-dev",
                                           bdf);
    g_autofree char *node = NULL;
    char **names = NULL;

    g_assert_cmpint(hostos_listdir(dir, &names), ==, 1);
    node = g_strdup_printf("/dev/vfio/devices/%s", names[0]);
    g_strfreev(names);
    return xopen(node);
}

static uint32_t ioas_alloc(int iommufd)
{
    struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };

    IOCTL_OK(iommufd, IOMMU_IOAS_ALLOC, &alloc);
    g_assert_cmpuint(alloc.out_ioas_id, !=, 0);
    return alloc.out_ioas_id;
}

/* Attach the device's RID to @pt_id; returns the HWPT attached. */
static uint32_t dev_attach(int cdev, uint32_t pt_id)
{
    struct vfio_device_attach_iommufd_pt at = {
        .argsz = sizeof(at), .pt_id = pt_id,
    };

    IOCTL_OK(cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at);
    return at.pt_id;
}

/* Open, bind, and attach to a new IOAS. */
static void ifd_up(Ifd *f)
{
    struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };

    f->iommufd = xopen("/dev/iommu");
    f->cdev = open_cdev(BDF0);
    bind.iommufd = f->iommufd;
    IOCTL_OK(f->cdev, VFIO_DEVICE_BIND_IOMMUFD, &bind);
    g_assert_cmpuint(bind.out_devid, !=, 0);
    f->devid = bind.out_devid;
    f->ioas = ioas_alloc(f->iommufd);
    dev_init(&f->dev, f->cdev);
    dev_enable_bus_master(&f->dev);
}

static void ifd_down(Ifd *f)
{
    g_assert_cmpint(hostos_close(f->cdev), ==, 0);
    g_assert_cmpint(hostos_close(f->iommufd), ==, 0);
}

static int ioas_map(int iommufd, uint32_t ioas, uint64_t vaddr, uint64_t iova,
                    uint64_t len)
{
    struct iommu_ioas_map map = {
        .size = sizeof(map), .ioas_id = ioas,
        .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
                 IOMMU_IOAS_MAP_WRITEABLE,
        .user_va = vaddr, .length = len, .iova = iova,
    };

    return hostos_ioctl(iommufd, IOMMU_IOAS_MAP, &map);
}

/* IOAS_UNMAP; the bytes unmapped, or -errno. */
static int64_t ioas_unmap(int iommufd, uint32_t ioas, uint64_t iova,
                          uint64_t len)
{
    struct iommu_ioas_unmap unmap = {
        .size = sizeof(unmap), .ioas_id = ioas, .iova = iova, .length = len,
    };

    if (hostos_ioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap) < 0) {
        return -errno;
    }
    return unmap.length;
}

static int destroy(int iommufd, uint32_t id)
{
    struct iommu_destroy d = { .size = sizeof(d), .id = id };

    return hostos_ioctl(iommufd, IOMMU_DESTROY, &d);
}

static void test_iommufd_flow(void)
{
    int fds = count_fds();
    struct iommu_iova_range r[4];
    struct iommu_ioas_iova_ranges ranges = {
        .size = sizeof(ranges), .num_iovas = 4,
        .allowed_iovas = (uintptr_t)r,
    };
    TestMem mem;
    Ifd f;
    uint32_t hwpt;
    int efd;

    host_up("", false);
    mem_alloc(&mem, 64 * 1024);
    ifd_up(&f);

    hwpt = dev_attach(f.cdev, f.ioas);
    g_assert_cmpuint(hwpt, !=, f.ioas);
    ranges.ioas_id = f.ioas;
    IOCTL_OK(f.iommufd, IOMMU_IOAS_IOVA_RANGES, &ranges);
    g_assert_cmpuint(ranges.num_iovas, ==, 2);
    g_assert_cmpuint(r[0].start, ==, 0);
    g_assert_cmpuint(r[0].last, ==, MSI_LO - 1);
    g_assert_cmpuint(r[1].start, ==, MSI_HI + 1);
    g_assert_cmpuint(r[1].last, ==, (1ull << 48) - 1);
    g_assert_cmpuint(ranges.out_iova_alignment, ==, PAGE);

    g_assert_cmpint(ioas_map(f.iommufd, f.ioas, uva(&mem, 0), 0x100000,
                             mem.size), ==, 0);
    efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    dev_set_msix(&f.dev, efd);
    memset(mem.p, 0xa5, 512);
    g_assert_true(dev_copy(&f.dev, SIM_NO_PASID, 0x100000, 0x10c000, 512));
    g_assert_cmpuint(mem.p[0xc000], ==, 0xa5);
    g_assert_cmpuint(mem.p[0xc000 + 511], ==, 0xa5);
    g_assert_cmpuint(mem.p[0xc000 + 512], ==, 0);
    g_assert_cmpuint(eventfd_count(efd), ==, 1);

    /* an IOAS with a device attached cannot be destroyed */
    errno = 0;
    g_assert_cmpint(destroy(f.iommufd, f.ioas), ==, -1);
    g_assert_cmpint(errno, ==, EBUSY);

    g_assert_cmpint(ioas_unmap(f.iommufd, f.ioas, 0x100000, mem.size), ==,
                    mem.size);
    drain_faults();
    g_assert_false(dev_copy(&f.dev, SIM_NO_PASID, 0x100000, 0x10c000, 16));
    g_assert_cmpint(pop_fault().reason, ==, SIM_FAULT_S2_UNMAPPED);

    /* closing the cdev unbinds: the IOAS is free again */
    g_assert_cmpint(hostos_close(f.cdev), ==, 0);
    g_assert_cmpint(destroy(f.iommufd, f.ioas), ==, 0);
    g_assert_cmpint(hostos_close(f.iommufd), ==, 0);
    g_assert_cmpint(close(efd), ==, 0);
    mem_free(&mem);
    host_down();
    g_assert_cmpint(count_fds(), ==, fds);
}

/* GET_HW_INFO reports the VT-d CAP/ECAP the knobs describe (VT-d 11.4.2/3). */
static void check_hw_info(const char *host_json, unsigned aw, bool fs1gp,
                          bool nesting, unsigned pasid_bits, bool dirty,
                          bool spr17)
{
    struct iommu_hw_info_vtd vtd;
    struct iommu_hw_info info = {
        .size = sizeof(info), .data_len = sizeof(vtd),
        .data_uptr = (uintptr_t)&vtd,
    };
    Object *h0;
    Ifd f;
    uint64_t sagaw;

    host_up(host_json, false);
    h0 = object_resolve_path_component(object_get_objects_root(), "h0");
    ifd_up(&f);
    info.dev_id = f.devid;
    memset(&vtd, 0xff, sizeof(vtd));
    IOCTL_OK(f.iommufd, IOMMU_GET_HW_INFO, &info);
    g_assert_cmpuint(info.out_data_type, ==, IOMMU_HW_INFO_TYPE_INTEL_VTD);
    g_assert_cmpuint(info.data_len, ==, sizeof(vtd));
    g_assert_cmpuint(vtd.cap_reg, ==,
                     object_property_get_uint(h0, "vtd-cap", &error_abort));
    g_assert_cmpuint(vtd.ecap_reg, ==,
                     object_property_get_uint(h0, "vtd-ecap", &error_abort));
    g_assert_cmpuint(!!(vtd.flags & IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17),
                     ==, spr17);

    g_assert_cmpuint((vtd.cap_reg >> 16) & 0x3f, ==, aw - 1);   /* MGAW */
    sagaw = (vtd.cap_reg >> 8) & 0x1f;
    g_assert_cmpuint(sagaw >> 1 & 1, ==, 1);                     /* 39-bit */
    g_assert_cmpuint(sagaw >> 2 & 1, ==, aw >= 48);
    g_assert_cmpuint(sagaw >> 3 & 1, ==, aw >= 57);
    g_assert_cmpuint(vtd.cap_reg >> 56 & 1, ==, fs1gp);          /* FS1GP */
    g_assert_cmpuint(vtd.cap_reg >> 60 & 1, ==, aw == 57);       /* FS5LP */
    g_assert_cmpuint(vtd.ecap_reg >> 26 & 1, ==, nesting);       /* NEST */
    g_assert_cmpuint(vtd.ecap_reg >> 40 & 1, ==, pasid_bits > 0);/* PASID */
    if (pasid_bits) {
        g_assert_cmpuint(vtd.ecap_reg >> 35 & 0x1f, ==, pasid_bits - 1);
    }
    g_assert_cmpuint(vtd.ecap_reg >> 45 & 1, ==, dirty);         /* SLADS */
    g_assert_cmpuint(info.out_max_pasid_log2, ==, pasid_bits);
    g_assert_cmpuint(!!(info.out_capabilities & IOMMU_HW_CAP_DIRTY_TRACKING),
                     ==, dirty);

    /* data_len 0: only type and capabilities */
    info.data_len = 0;
    IOCTL_OK(f.iommufd, IOMMU_GET_HW_INFO, &info);
    g_assert_cmpuint(info.data_len, ==, sizeof(vtd));
    g_assert_cmpuint(info.out_data_type, ==, IOMMU_HW_INFO_TYPE_INTEL_VTD);

    ifd_down(&f);
    host_down();
}

static void test_iommufd_hw_info(void)
{
    int fds = count_fds();

    check_hw_info("", 48, true, true, 20, true, false);
    check_hw_info("\"aw-bits\": 39, \"fs1gp\": false, \"nesting\": false, "
                  "\"pasid-bits\": 0, \"dirty-tracking\": false, "
                  "\"erratum-spr17\": true", 39, false, false, 0, false, true);
    check_hw_info("\"aw-bits\": 57, \"pasid-bits\": 8", 57, true, true, 8,
                  true, false);
    g_assert_cmpint(count_fds(), ==, fds);
}

/* uapi_facts.md §5.2/§5.3: the common ioctl rules and IOAS semantics. */
static void test_iommufd_errno(void)
{
    int fds = count_fds();
    TestMem mem;
    Ifd f;
    uint32_t ioas2;
    struct {
        struct iommu_ioas_alloc a;
        uint32_t extra;
    } big = { .a = { .size = sizeof(big) } };
    struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) - 1 };
    struct iommu_iova_range r[2];
    struct iommu_ioas_iova_ranges ranges = { .size = sizeof(ranges) };
    struct iommu_hwpt_alloc ha = { .size = sizeof(ha) };
    struct iommu_ioas_map map = { .size = sizeof(map) };
    const int64_t enoent = -ENOENT;

    host_up("", false);
    mem_alloc(&mem, 64 * 1024);
    ifd_up(&f);

    /* #1: ids, pointers, numbers */
    errno = 0;
    g_assert_cmpint(destroy(f.iommufd, 0), ==, -1);
    g_assert_cmpint(errno, ==, ENOENT);
    IOCTL_ERR(EFAULT, f.iommufd, IOMMU_DESTROY, NULL);
    IOCTL_ERR(ENOTTY, f.iommufd, _IO(IOMMUFD_TYPE, 0x7f), &alloc);
    /* #2: size below the minimum, non-zero tail, zero tail */
    IOCTL_ERR(EINVAL, f.iommufd, IOMMU_IOAS_ALLOC, &alloc);
    big.extra = 1;
    IOCTL_ERR(E2BIG, f.iommufd, IOMMU_IOAS_ALLOC, &big);
    big.extra = 0;
    IOCTL_OK(f.iommufd, IOMMU_IOAS_ALLOC, &big);
    ioas2 = big.a.out_ioas_id;
    alloc = (struct iommu_ioas_alloc){ .size = sizeof(alloc), .flags = 1 };
    IOCTL_ERR(EOPNOTSUPP, f.iommufd, IOMMU_IOAS_ALLOC, &alloc);

    /* #13/#14: no domain → one range, everything; EMSGSIZE when short */
    ranges.ioas_id = ioas2;
    IOCTL_ERR(EMSGSIZE, f.iommufd, IOMMU_IOAS_IOVA_RANGES, &ranges);
    g_assert_cmpuint(ranges.num_iovas, ==, 1);
    ranges.num_iovas = 2;
    ranges.allowed_iovas = (uintptr_t)r;
    IOCTL_OK(f.iommufd, IOMMU_IOAS_IOVA_RANGES, &ranges);
    g_assert_cmpuint(ranges.num_iovas, ==, 1);
    g_assert_cmpuint(r[0].start, ==, 0);
    g_assert_cmpuint(r[0].last, ==, UINT64_MAX);
    g_assert_cmpuint(ranges.out_iova_alignment, ==, 1);

    /* map flags */
    map.ioas_id = ioas2;
    map.user_va = uva(&mem, 0);
    map.length = PAGE;
    map.iova = 0x100000;
    map.flags = IOMMU_IOAS_MAP_FIXED_IOVA;
    IOCTL_ERR(EINVAL, f.iommufd, IOMMU_IOAS_MAP, &map);
    map.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | 1u << 8;
    IOCTL_ERR(EOPNOTSUPP, f.iommufd, IOMMU_IOAS_MAP, &map);

    /* #5-#8: no splitting, no replacing, empty unmap */
    g_assert_cmpint(ioas_unmap(f.iommufd, ioas2, 0x100000, PAGE), ==,
                    enoent);
    g_assert_cmpint(ioas_map(f.iommufd, ioas2, uva(&mem, 0), 16 * PAGE,
                             2 * PAGE), ==, 0);
    g_assert_cmpint(ioas_unmap(f.iommufd, ioas2, 16 * PAGE, PAGE), ==,
                    enoent);
    g_assert_cmpint(ioas_unmap(f.iommufd, ioas2, 17 * PAGE, PAGE), ==,
                    enoent);
    for (int i = 0; i < 5; i++) {
        static const uint64_t at[5][2] = {
            { 16, 1 }, { 17, 1 }, { 15, 2 }, { 15, 3 }, { 16, 2 },
        };

        errno = 0;
        g_assert_cmpint(ioas_map(f.iommufd, ioas2, uva(&mem, 0),
                                 at[i][0] * PAGE, at[i][1] * PAGE), ==, -1);
        g_assert_cmpint(errno, ==, EEXIST);
    }
    g_assert_cmpint(ioas_unmap(f.iommufd, ioas2, 0, UINT64_MAX), ==,
                    2 * PAGE);
    g_assert_cmpint(ioas_unmap(f.iommufd, ioas2, 0, UINT64_MAX), ==, 0);

    /* #28: HWPT_ALLOC ids and flags */
    ha.dev_id = f.ioas;
    ha.pt_id = f.ioas;
    IOCTL_ERR(ENOENT, f.iommufd, IOMMU_HWPT_ALLOC, &ha);
    ha.dev_id = f.devid;
    ha.pt_id = f.devid;
    IOCTL_ERR(EINVAL, f.iommufd, IOMMU_HWPT_ALLOC, &ha);
    ha.pt_id = f.ioas;
    ha.flags = ~(uint32_t)IOMMU_HWPT_ALLOC_NEST_PARENT;
    IOCTL_ERR(EOPNOTSUPP, f.iommufd, IOMMU_HWPT_ALLOC, &ha);

    g_assert_cmpint(destroy(f.iommufd, ioas2), ==, 0);
    g_assert_cmpint(destroy(f.iommufd, ioas2), ==, -1);
    g_assert_cmpint(errno, ==, ENOENT);
    ifd_down(&f);
    mem_free(&mem);
    host_down();
    g_assert_cmpint(count_fds(), ==, fds);
}

/* ------------------------------------------------------------------------
 * Nesting: a VT-d first-stage table in test memory
 * ------------------------------------------------------------------------ */

/*
 * Test memory at GPA (= stage-2 IOVA) 0x100000:
 *   +0x0000 PML4, +0x1000 PDPT, +0x2000 PD, +0x3000 PT,
 *   +0x4000 page A, +0x5000 page B, +0x6000 source page S.
 * First stage: IOVA 0x40000000 → A (later B), 0x40001000 → S.
 */
#define GPA_BASE    0x100000ull
#define S1_IOVA     0x40000000ull
#define PTE_P       (1ull << 0)
#define PTE_RW      (1ull << 1)
#define PTE_US      (1ull << 2)
#define PTE_A       (1ull << 5)
#define PTE_D       (1ull << 6)
#define PTE_DIR     (PTE_P | PTE_RW | PTE_US | PTE_A)
#define PTE_LEAF    (PTE_DIR | PTE_D)

static void s1_build(TestMem *m)
{
    uint64_t *pml4 = (uint64_t *)(m->p + 0x0000);
    uint64_t *pdpt = (uint64_t *)(m->p + 0x1000);
    uint64_t *pd = (uint64_t *)(m->p + 0x2000);
    uint64_t *pt = (uint64_t *)(m->p + 0x3000);

    pml4[(S1_IOVA >> 39) & 511] = (GPA_BASE + 0x1000) | PTE_DIR;
    pdpt[(S1_IOVA >> 30) & 511] = (GPA_BASE + 0x2000) | PTE_DIR;
    pd[(S1_IOVA >> 21) & 511] = (GPA_BASE + 0x3000) | PTE_DIR;
    pt[(S1_IOVA >> 12) & 511] = (GPA_BASE + 0x4000) | PTE_LEAF;
    pt[((S1_IOVA >> 12) & 511) + 1] = (GPA_BASE + 0x6000) | PTE_LEAF;
}

static int hwpt_alloc(int iommufd, uint32_t flags, uint32_t dev_id,
                      uint32_t pt_id, uint32_t type, void *data,
                      uint32_t len, uint32_t *out)
{
    struct iommu_hwpt_alloc ha = {
        .size = sizeof(ha), .flags = flags, .dev_id = dev_id,
        .pt_id = pt_id, .data_type = type, .data_len = len,
        .data_uptr = (uintptr_t)data,
    };
    int r = hostos_ioctl(iommufd, IOMMU_HWPT_ALLOC, &ha);

    *out = ha.out_hwpt_id;
    return r;
}

static int invalidate(int iommufd, uint32_t hwpt, uint64_t addr,
                      uint64_t npages, uint32_t *done)
{
    struct iommu_hwpt_vtd_s1_invalidate e = { .addr = addr,
                                              .npages = npages };
    struct iommu_hwpt_invalidate inv = {
        .size = sizeof(inv), .hwpt_id = hwpt, .data_uptr = (uintptr_t)&e,
        .data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
        .entry_len = sizeof(e), .entry_num = 1,
    };
    int r = hostos_ioctl(iommufd, IOMMU_HWPT_INVALIDATE, &inv);

    *done = inv.entry_num;
    return r;
}

static void test_nested_stale_until_invalidated(void)
{
    int fds = count_fds();
    struct iommu_hwpt_vtd_s1 s1 = {
        .pgtbl_addr = GPA_BASE, .addr_width = 48,
    };
    uint64_t *pt;
    TestMem mem;
    Ifd f;
    uint32_t parent, nested, nested2, done, bad;

    host_up("", false);
    mem_alloc(&mem, 64 * 1024);
    ifd_up(&f);
    s1_build(&mem);
    pt = (uint64_t *)(mem.p + 0x3000);
    g_assert_cmpint(ioas_map(f.iommufd, f.ioas, uva(&mem, 0), GPA_BASE,
                             mem.size), ==, 0);

    /* §5.3 #28/#29 on the way */
    g_assert_cmpint(hwpt_alloc(f.iommufd, IOMMU_HWPT_ALLOC_NEST_PARENT,
                               f.devid, f.ioas, IOMMU_HWPT_DATA_NONE, NULL, 0,
                               &parent), ==, 0);
    /* type NONE with data is EINVAL; without, a nested HWPT is unsupported */
    g_assert_cmpint(hwpt_alloc(f.iommufd, 0, f.devid, parent,
                               IOMMU_HWPT_DATA_NONE, &s1, sizeof(s1), &bad),
                    ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_cmpint(hwpt_alloc(f.iommufd, 0, f.devid, parent,
                               IOMMU_HWPT_DATA_NONE, NULL, 0, &bad), ==, -1);
    g_assert_cmpint(errno, ==, EOPNOTSUPP);
    g_assert_cmpint(hwpt_alloc(f.iommufd, 0, f.devid, parent,
                               IOMMU_HWPT_DATA_VTD_S1, NULL, sizeof(s1),
                               &bad), ==, -1);
    g_assert_cmpint(errno, ==, EFAULT);
    g_assert_cmpint(hwpt_alloc(f.iommufd, 0, f.devid, parent, 0xdead, &s1,
                               sizeof(s1), &bad), ==, -1);
    g_assert_cmpint(errno, ==, EOPNOTSUPP);
    g_assert_cmpint(hwpt_alloc(f.iommufd, 0, f.devid, parent,
                               IOMMU_HWPT_DATA_VTD_S1, &s1, 8, &bad), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_cmpint(hwpt_alloc(f.iommufd, IOMMU_HWPT_ALLOC_NEST_PARENT,
                               f.devid, parent, IOMMU_HWPT_DATA_VTD_S1, &s1,
                               sizeof(s1), &bad), ==, -1);
    g_assert_cmpint(errno, ==, EOPNOTSUPP);

    g_assert_cmpint(hwpt_alloc(f.iommufd, 0, f.devid, parent,
                               IOMMU_HWPT_DATA_VTD_S1, &s1, sizeof(s1),
                               &nested), ==, 0);
    /* nested on nested, and a parent made without NEST_PARENT */
    g_assert_cmpint(hwpt_alloc(f.iommufd, 0, f.devid, nested,
                               IOMMU_HWPT_DATA_VTD_S1, &s1, sizeof(s1),
                               &bad), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_cmpuint(dev_attach(f.cdev, nested), ==, nested);

    /* DMA through stage 1 then stage 2 */
    memset(mem.p + 0x6000, 0x11, 64);
    g_assert_true(dev_copy(&f.dev, SIM_NO_PASID, S1_IOVA + 0x1000, S1_IOVA,
                           64));
    g_assert_cmpuint(mem.p[0x4000], ==, 0x11);

    /* retarget the leaf: the IOTLB still holds the old translation */
    pt[(S1_IOVA >> 12) & 511] = (GPA_BASE + 0x5000) | PTE_LEAF;
    memset(mem.p + 0x6000, 0x22, 64);
    g_assert_true(dev_copy(&f.dev, SIM_NO_PASID, S1_IOVA + 0x1000, S1_IOVA,
                           64));
    g_assert_cmpuint(mem.p[0x4000], ==, 0x22);
    g_assert_cmpuint(mem.p[0x5000], ==, 0);

    /* §5.3 #32: the parent is not invalidated this way */
    g_assert_cmpint(invalidate(f.iommufd, parent, S1_IOVA, 1, &done), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_cmpuint(done, ==, 0);
    g_assert_cmpint(invalidate(f.iommufd, nested, S1_IOVA, 1, &done), ==, 0);
    g_assert_cmpuint(done, ==, 1);

    memset(mem.p + 0x6000, 0x33, 64);
    g_assert_true(dev_copy(&f.dev, SIM_NO_PASID, S1_IOVA + 0x1000, S1_IOVA,
                           64));
    g_assert_cmpuint(mem.p[0x5000], ==, 0x33);
    g_assert_cmpuint(mem.p[0x4000], ==, 0x22);

    /* a non-present leaf faults once invalidated */
    pt[(S1_IOVA >> 12) & 511] = 0;
    g_assert_cmpint(invalidate(f.iommufd, nested, 0, UINT64_MAX, &done), ==,
                    0);
    drain_faults();
    g_assert_false(dev_copy(&f.dev, SIM_NO_PASID, S1_IOVA + 0x1000, S1_IOVA,
                            64));
    g_assert_cmpint(pop_fault().reason, ==, SIM_FAULT_S1_NOT_PRESENT);

    /* §5.3 #30: parent and attached HWPTs are busy */
    g_assert_cmpint(hwpt_alloc(f.iommufd, 0, f.devid, parent,
                               IOMMU_HWPT_DATA_VTD_S1, &s1, sizeof(s1),
                               &nested2), ==, 0);
    g_assert_cmpint(destroy(f.iommufd, parent), ==, -1);
    g_assert_cmpint(errno, ==, EBUSY);
    g_assert_cmpint(destroy(f.iommufd, nested), ==, -1);
    g_assert_cmpint(errno, ==, EBUSY);
    g_assert_cmpuint(dev_attach(f.cdev, nested2), ==, nested2);
    g_assert_cmpint(destroy(f.iommufd, nested), ==, 0);
    g_assert_cmpuint(dev_attach(f.cdev, f.ioas), !=, 0);
    g_assert_cmpint(destroy(f.iommufd, nested2), ==, 0);
    g_assert_cmpint(destroy(f.iommufd, parent), ==, 0);

    ifd_down(&f);
    mem_free(&mem);
    host_down();
    g_assert_cmpint(count_fds(), ==, fds);
}

/* ------------------------------------------------------------------------
 * Dirty tracking
 * ------------------------------------------------------------------------ */

static uint64_t dirty_bitmap(int iommufd, uint32_t hwpt, uint64_t iova,
                             uint64_t len, uint32_t flags)
{
    uint64_t bits = 0;
    struct iommu_hwpt_get_dirty_bitmap get = {
        .size = sizeof(get), .hwpt_id = hwpt, .flags = flags,
        .iova = iova, .length = len, .page_size = PAGE,
        .data = (uintptr_t)&bits,
    };

    IOCTL_OK(iommufd, IOMMU_HWPT_GET_DIRTY_BITMAP, &get);
    return bits;
}

static void test_dirty_bitmap(void)
{
    int fds = count_fds();
    struct iommu_hwpt_set_dirty_tracking set = {
        .size = sizeof(set), .flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
    };
    const uint64_t base = 0x200000;
    TestMem mem;
    Ifd f;
    uint32_t hwpt;

    host_up("", false);
    mem_alloc(&mem, 16 * PAGE);
    ifd_up(&f);
    g_assert_cmpint(hwpt_alloc(f.iommufd, IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
                               f.devid, f.ioas, IOMMU_HWPT_DATA_NONE, NULL, 0,
                               &hwpt), ==, 0);
    g_assert_cmpuint(dev_attach(f.cdev, hwpt), ==, hwpt);
    g_assert_cmpint(ioas_map(f.iommufd, f.ioas, uva(&mem, 0), base,
                             mem.size), ==, 0);
    set.hwpt_id = hwpt;
    IOCTL_OK(f.iommufd, IOMMU_HWPT_SET_DIRTY_TRACKING, &set);

    /* reads of page 0 do not dirty it; writes to pages 1 and 5 do */
    g_assert_true(dev_copy(&f.dev, SIM_NO_PASID, base, base + PAGE, 64));
    g_assert_true(dev_copy(&f.dev, SIM_NO_PASID, base, base + 5 * PAGE + 8,
                           64));
    g_assert_cmphex(dirty_bitmap(f.iommufd, hwpt, base, mem.size,
                                 IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR), ==,
                    (1u << 1) | (1u << 5));
    g_assert_cmphex(dirty_bitmap(f.iommufd, hwpt, base, mem.size, 0), ==,
                    (1u << 1) | (1u << 5));
    g_assert_cmphex(dirty_bitmap(f.iommufd, hwpt, base, mem.size, 0), ==, 0);
    /* counted from the request's IOVA */
    g_assert_true(dev_copy(&f.dev, SIM_NO_PASID, base, base + 9 * PAGE, 8));
    g_assert_cmphex(dirty_bitmap(f.iommufd, hwpt, base + 8 * PAGE, 8 * PAGE,
                                 0), ==, 1u << 1);

    g_assert_cmpuint(dev_attach(f.cdev, f.ioas), !=, 0);
    g_assert_cmpint(destroy(f.iommufd, hwpt), ==, 0);
    ifd_down(&f);
    mem_free(&mem);
    host_down();
    g_assert_cmpint(count_fds(), ==, fds);
}

/* ------------------------------------------------------------------------
 * fd passing: a node of the private tree opened by another process
 * ------------------------------------------------------------------------ */

static void send_fd(int sock, int fd)
{
    char byte = 'f';
    struct iovec iov = { &byte, 1 };
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = u.buf, .msg_controllen = sizeof(u.buf),
    };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    if (sendmsg(sock, &msg, 0) != 1) {
        _exit(2);
    }
}

static int recv_fd(int sock)
{
    char byte;
    struct iovec iov = { &byte, 1 };
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = u.buf, .msg_controllen = sizeof(u.buf),
    };
    struct cmsghdr *c;
    int fd = -1;

    g_assert_cmpint(recvmsg(sock, &msg, MSG_CMSG_CLOEXEC), ==, 1);
    c = CMSG_FIRSTHDR(&msg);
    g_assert_nonnull(c);
    g_assert_cmpint(c->cmsg_type, ==, SCM_RIGHTS);
    memcpy(&fd, CMSG_DATA(c), sizeof(int));
    return fd;
}

static void test_fd_passing(void)
{
    int fds = count_fds();
    g_autofree char *node = NULL;
    int sv[2], fd, status;
    struct stat st;
    pid_t pid;

    host_up("", false);
    node = g_build_filename(hostos_root(), "dev/iommu", NULL);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                    ==, 0);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        /* a management process: the real open(2) of the private path */
        int nfd = open(node, O_RDWR);

        if (nfd < 0) {
            _exit(1);
        }
        send_fd(sv[1], nfd);
        _exit(0);
    }
    fd = recv_fd(sv[0]);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(sv[0]);
    close(sv[1]);

    /* served by the simulated host like one opened through the layer */
    g_assert_cmpint(hostos_fstat(fd, &st), ==, 0);
    g_assert_true(S_ISCHR(st.st_mode));
    {
        int copy = hostos_dup(fd);
        struct iommu_destroy d = { .size = sizeof(d), .id = ioas_alloc(fd) };

        /* the copy shares the open file: the same IOAS is there */
        IOCTL_OK(copy, IOMMU_DESTROY, &d);
        hostos_close(copy);
    }
    g_assert_cmpint(hostos_close(fd), ==, 0);
    host_down();
    g_assert_cmpint(count_fds(), ==, fds);
}

/* ------------------------------------------------------------------------
 * Threads: vCPU-like callers map and unmap concurrently
 * ------------------------------------------------------------------------ */

typedef struct ThreadArg {
    int iommufd;
    uint32_t ioas;
    uint64_t uva, iova;
    int errors;
} ThreadArg;

static void *map_unmap_thread(void *opaque)
{
    ThreadArg *a = opaque;

    for (int i = 0; i < 500; i++) {
        if (ioas_map(a->iommufd, a->ioas, a->uva, a->iova, PAGE) < 0 ||
            ioas_unmap(a->iommufd, a->ioas, a->iova, PAGE) != PAGE) {
            a->errors++;
        }
    }
    return NULL;
}

static void test_threads(void)
{
    int fds = count_fds();
    pthread_t th[4];
    ThreadArg args[4];
    TestMem mem;
    Ifd f;

    host_up("", false);
    mem_alloc(&mem, 4 * PAGE);
    ifd_up(&f);
    dev_attach(f.cdev, f.ioas);
    for (int i = 0; i < 4; i++) {
        args[i] = (ThreadArg){ f.iommufd, f.ioas, uva(&mem, i * PAGE),
                               0x100000 + i * 0x10000, 0 };
        g_assert_cmpint(pthread_create(&th[i], NULL, map_unmap_thread,
                                       &args[i]), ==, 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        g_assert_cmpint(args[i].errors, ==, 0);
    }
    ifd_down(&f);
    mem_free(&mem);
    host_down();
    g_assert_cmpint(count_fds(), ==, fds);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sim/hostos/iommufd/flow-dma-msix", test_iommufd_flow);
    g_test_add_func("/sim/hostos/iommufd/hw-info-from-knobs",
                    test_iommufd_hw_info);
    g_test_add_func("/sim/hostos/iommufd/errno", test_iommufd_errno);
    g_test_add_func("/sim/hostos/iommufd/nested-stale-until-invalidated",
                    test_nested_stale_until_invalidated);
    g_test_add_func("/sim/hostos/iommufd/dirty-bitmap", test_dirty_bitmap);
    g_test_add_func("/sim/hostos/fd-passing", test_fd_passing);
    g_test_add_func("/sim/hostos/threads", test_threads);
    return g_test_run();
}
