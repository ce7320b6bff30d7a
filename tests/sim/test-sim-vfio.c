/*
 * libviommu-sim, VFIO side: the legacy container/group/type1 checklist
 * (uapi_facts.md §4), device region/IRQ info and config space, the cdev
 * with iommufd (§3), the "dma" PCI model's DMA through type1 and IOAS
 * mappings (bytes checked in test memory), the simulated tree, fd
 * passing, driver binding and lifetimes.  Driven through the public API
 * as a VMM drives the kernel.  The device's interrupts (SET_IRQS with
 * INTx, MSI, MSI-X) are in test-sim-vfio-irq.c; the helpers both use are
 * in sim-vfio-test.h.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "sim-vfio-test.h"

/* ---- legacy container / group ------------------------------------------- */

static void test_legacy_container_group(void)
{
    int fds = count_fds();
    SimHost *h = host_new(HOST_TEXT);
    struct vfio_group_status st = { .argsz = sizeof(st) };
    int c, g, g2, dev, bad;

    c = sim_open(h, "/dev/vfio/vfio", O_RDWR, 0);
    g_assert_cmpint(c, >=, 0);
    EQ(IOCV(h, c, VFIO_GET_API_VERSION, 0), VFIO_API_VERSION);
    EQ(IOCV(h, c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU), 1);
    EQ(IOCV(h, c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 1);
    EQ(IOCV(h, c, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL), 1);
    OK(IOCV(h, c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU));
    OK(IOCV(h, c, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU));
    OK(IOCV(h, c, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR));
    OK(IOCV(h, c, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU));
    /* no group yet: SET_IOMMU and everything type1 are EINVAL */
    ERR(IOCV(h, c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), EINVAL);
    ERR(dma_map(h, c, 0x1000, 0, P, RW), EINVAL);

    g = group_open(h, GROUP);
    g_assert_cmpint(g, >=, 0);
    ERR(group_open(h, GROUP), EBUSY);     /* one opener */
    ERR(group_open(h, 99), ENOENT);
    st.argsz = 4;
    ERR(IOC(h, g, VFIO_GROUP_GET_STATUS, &st), EINVAL);
    st.argsz = sizeof(st);
    OK(IOC(h, g, VFIO_GROUP_GET_STATUS, &st));
    EQ(st.flags, VFIO_GROUP_FLAGS_VIABLE);
    ERR(IOC(h, g, VFIO_GROUP_GET_STATUS, NULL), EFAULT);
    ERR(IOCV(h, g, VFIO_GROUP_UNSET_CONTAINER, 0), EINVAL);
    ERR(IOC(h, g, VFIO_GROUP_GET_DEVICE_FD, BDF), EINVAL);

    bad = -1;
    ERR(IOC(h, g, VFIO_GROUP_SET_CONTAINER, &bad), EBADF);
    bad = 999;
    ERR(IOC(h, g, VFIO_GROUP_SET_CONTAINER, &bad), EBADF);
    ERR(IOC(h, g, VFIO_GROUP_SET_CONTAINER, &g), EBADFD);
    ERR(IOC(h, g, VFIO_GROUP_SET_CONTAINER, NULL), EFAULT);
    OK(IOC(h, g, VFIO_GROUP_SET_CONTAINER, &c));
    ERR(IOC(h, g, VFIO_GROUP_SET_CONTAINER, &c), EINVAL);
    OK(IOC(h, g, VFIO_GROUP_GET_STATUS, &st));
    EQ(st.flags, VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET);
    /* a container without an IOMMU hands out no device */
    ERR(IOC(h, g, VFIO_GROUP_GET_DEVICE_FD, BDF), EINVAL);
    ERR(IOCV(h, c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_IOMMU), ENODEV);
    OK(IOCV(h, c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
    ERR(IOCV(h, c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), EINVAL);
    EQ(IOCV(h, c, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU), 1);
    ERR(IOCV(h, c, VFIO_IOMMU_ENABLE, 0), ENOTTY);

    ERR(IOC(h, g, VFIO_GROUP_GET_DEVICE_FD, "0000:02:00.1"), ENODEV);
    ERR(IOC(h, g, VFIO_GROUP_GET_DEVICE_FD, "0000:02:00.0x"), ENODEV);
    ERR(IOC(h, g, VFIO_GROUP_GET_DEVICE_FD,
            BDF " vf_token=2ab74924-c335-45f4-9b16-8569e5b08258"), EINVAL);
    ERR(IOC(h, g, VFIO_GROUP_GET_DEVICE_FD, NULL), EFAULT);
    dev = IOC(h, g, VFIO_GROUP_GET_DEVICE_FD, BDF);
    g_assert_cmpint(dev, >=, 0);
    g_assert_true(fcntl(dev, F_GETFD) & FD_CLOEXEC);
    EQ(sim_fd_lookup(h, dev), 1);
    /* the legacy path may open a device more than once */
    g2 = IOC(h, g, VFIO_GROUP_GET_DEVICE_FD, BDF);
    g_assert_cmpint(g2, >=, 0);
#ifndef SIM_TEST_VIA_LIBC           /* no system call removes a device */
    ERR(sim_host_remove_device(h, sim_host_find_device(h, BDF)), EBUSY);
#endif

    /* device fds pin the container; they also outlive a closed group fd */
    ERR(IOCV(h, g, VFIO_GROUP_UNSET_CONTAINER, 0), EBUSY);
    OK(sim_close(h, g));
    ERR(group_open(h, GROUP), EBUSY);
    OK(dma_map(h, c, (uintptr_t)&bad & ~(P - 1), IOVA, P, RW));
    OK(sim_close(h, dev));
    OK(sim_close(h, g2));

    /* the last group leaving drops the IOMMU and its mappings */
    g = group_open(h, GROUP);
    g_assert_cmpint(g, >=, 0);
    OK(IOC(h, g, VFIO_GROUP_GET_STATUS, &st));
    EQ(st.flags, VFIO_GROUP_FLAGS_VIABLE);
    ERR(dma_map(h, c, 0x1000, 0, P, RW), EINVAL);
    OK(IOC(h, g, VFIO_GROUP_SET_CONTAINER, &c));
    OK(IOCV(h, c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
    OK(dma_unmap(h, c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL));
    OK(IOCV(h, g, VFIO_GROUP_UNSET_CONTAINER, 0));
    ERR(IOCV(h, g, 0x3b7f, 0), ENOTTY);

    OK(sim_close(h, g));
    OK(sim_close(h, c));
    OK(sim_host_remove_device(h, sim_host_find_device(h, BDF)));
    sim_host_free(h);
    EQ(count_fds(), fds);
}

/* Find capability @id in a VFIO info buffer's chain. */
static const struct vfio_info_cap_header *find_info_cap(const void *buf,
                                                       uint32_t first,
                                                       uint16_t id)
{
    for (uint32_t off = first, hops = 0; off && hops < 16; hops++) {
        const struct vfio_info_cap_header *hdr =
            (const void *)((const uint8_t *)buf + off);

        if (hdr->id == id) {
            return hdr;
        }
        off = hdr->next;
    }
    return NULL;
}

static void test_type1_info(void)
{
    union {
        struct vfio_iommu_type1_info info;
        uint8_t raw[512];
    } b;
    const struct vfio_iommu_type1_info_cap_iova_range *ranges;
    const struct vfio_iommu_type1_info_dma_avail *avail;
    Legacy l;
    Mem m;

    legacy_up(&l, "dma-entry-limit=100" HOST_TEXT, VFIO_TYPE1v2_IOMMU);
    mem_alloc(&m, 4 * P);
    OK(dma_map(l.h, l.c, uva(&m, 0), IOVA, 4 * P, RW));

    /* argsz below the minimum */
    memset(&b, 0, sizeof(b));
    b.info.argsz = 15;
    ERR(IOC(l.h, l.c, VFIO_IOMMU_GET_INFO, &b), EINVAL);
    /* the pre-cap_offset size: cap_offset is not written */
    memset(&b, 0xaa, sizeof(b));
    b.info.argsz = 16;
    OK(IOC(l.h, l.c, VFIO_IOMMU_GET_INFO, &b));
    g_assert_true(b.info.flags & VFIO_IOMMU_INFO_PGSIZES);
    EQ(b.info.iova_pgsizes, P | (2ull << 20) | (1ull << 30));
    EQ(b.info.cap_offset, 0xaaaaaaaa);
    /* too small for the chain: argsz says how much is needed */
    memset(&b, 0, sizeof(b));
    b.info.argsz = sizeof(b.info);
    OK(IOC(l.h, l.c, VFIO_IOMMU_GET_INFO, &b));
    g_assert_true(b.info.flags & VFIO_IOMMU_INFO_CAPS);
    EQ(b.info.cap_offset, 0);
    g_assert_cmpuint(b.info.argsz, >, sizeof(b.info));
    g_assert_cmpuint(b.info.argsz, <=, sizeof(b));
    /* retry with what it asked for */
    OK(IOC(l.h, l.c, VFIO_IOMMU_GET_INFO, &b));
    EQ(b.info.cap_offset, sizeof(b.info));

    avail = (const void *)find_info_cap(&b, b.info.cap_offset,
                                        VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
    g_assert_nonnull(avail);
    EQ(avail->header.version, 1);
    EQ(avail->avail, 99);
    ranges = (const void *)find_info_cap(&b, b.info.cap_offset,
                                         VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
    g_assert_nonnull(ranges);
    EQ(ranges->nr_iovas, 2);      /* the MSI window out */
    EQ(ranges->iova_ranges[0].start, 0);
    EQ(ranges->iova_ranges[0].end, 0xfedfffff);
    EQ(ranges->iova_ranges[1].start, 0xfef00000);
    EQ(ranges->iova_ranges[1].end, (1ull << 48) - 1);
    legacy_down(&l);
    mem_free(&m);
}

static void test_type1_map_unmap(void)
{
    Legacy l;
    Mem m, gone;
    int c;

    legacy_up(&l, "dma-entry-limit=4" HOST_TEXT, VFIO_TYPE1v2_IOMMU);
    c = l.c;
    mem_alloc(&m, 16 * P);
    mem_alloc(&gone, P);
    mem_free(&gone);

    /* §4.4: argument checks */
    ERR(dma_map(l.h, c, uva(&m, 0), IOVA, P, 0), EINVAL);
    ERR(dma_map(l.h, c, uva(&m, 0), IOVA, P, RW | VFIO_DMA_MAP_FLAG_VADDR),
        EINVAL);
    ERR(dma_map(l.h, c, uva(&m, 0), IOVA, P, 1u << 7), EINVAL);
    ERR(dma_map(l.h, c, uva(&m, 0), IOVA, 0, RW), EINVAL);
    ERR(dma_map(l.h, c, uva(&m, 0), IOVA + 1, P, RW), EINVAL);
    ERR(dma_map(l.h, c, uva(&m, 1), IOVA, P, RW), EINVAL);
    ERR(dma_map(l.h, c, uva(&m, 0), IOVA, P + 1, RW), EINVAL);
    ERR(dma_map(l.h, c, uva(&m, 0), -P, 2 * P, RW), EINVAL);
    /* outside the usable ranges: the MSI window, beyond 48 bits */
    ERR(dma_map(l.h, c, uva(&m, 0), 0xfee00000, P, RW), EINVAL);
    ERR(dma_map(l.h, c, uva(&m, 0), 0xfedff000, 2 * P, RW), EINVAL);
    ERR(dma_map(l.h, c, uva(&m, 0), 1ull << 48, P, RW), EINVAL);
    /* memory that is not there cannot be pinned */
    ERR(dma_map(l.h, c, uva(&gone, 0), IOVA, P, RW), EFAULT);

    OK(dma_map(l.h, c, uva(&m, 0), IOVA, 2 * P, VFIO_DMA_MAP_FLAG_READ));
    /* an existing IOVA is never replaced */
    ERR(dma_map(l.h, c, uva(&m, 0), IOVA + P, P, RW), EEXIST);
    ERR(dma_map(l.h, c, uva(&m, 0), IOVA - P, 2 * P, RW), EEXIST);
    /* v2 never splits: a range cutting a mapping at either end */
    ERR(dma_unmap(l.h, c, IOVA, P, 0), EINVAL);
    ERR(dma_unmap(l.h, c, IOVA + P, P, 0), EINVAL);
    ERR(dma_unmap(l.h, c, IOVA - P, 2 * P, 0), EINVAL);
    /* unmap checks: alignment, size, wrap, flags */
    ERR(dma_unmap(l.h, c, IOVA + 1, P, 0), EINVAL);
    ERR(dma_unmap(l.h, c, IOVA, 0, 0), EINVAL);
    ERR(dma_unmap(l.h, c, -P, 2 * P, 0), EINVAL);
    ERR(dma_unmap(l.h, c, IOVA, 2 * P, VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP),
        EINVAL);
    ERR(dma_unmap(l.h, c, IOVA, 2 * P, 1u << 9), EINVAL);
    ERR(dma_unmap(l.h, c, IOVA, 0, VFIO_DMA_UNMAP_FLAG_ALL), EINVAL);
    ERR(dma_unmap(l.h, c, 0, P, VFIO_DMA_UNMAP_FLAG_ALL), EINVAL);
    /* nothing mapped there: success, size 0 */
    OK(dma_unmap(l.h, c, 0x40000000, 16 * P, 0));

    /* the entry limit (dma_entry_limit) */
    OK(dma_map(l.h, c, uva(&m, 0), IOVA + 4 * P, P, RW));
    OK(dma_map(l.h, c, uva(&m, 0), IOVA + 8 * P, 2 * P, RW));
    OK(dma_map(l.h, c, uva(&m, 0), IOVA + 12 * P, P, RW));
    ERR(dma_map(l.h, c, uva(&m, 0), IOVA + 16 * P, P, RW), ENOSPC);

    /* a range over whole mappings and holes removes them all */
    EQ(dma_unmap(l.h, c, IOVA, 11 * P, 0), 5 * P);
    OK(dma_map(l.h, c, uva(&m, 0), IOVA + 16 * P, P, RW));
    EQ(dma_unmap(l.h, c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL), 2 * P);
    OK(dma_unmap(l.h, c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL));
    legacy_down(&l);
    mem_free(&m);
}

static void test_type1v1_unmap(void)
{
    Legacy l;
    Mem m;

    legacy_up(&l, HOST_TEXT, VFIO_TYPE1_IOMMU);
    mem_alloc(&m, 8 * P);
    OK(dma_map(l.h, l.c, uva(&m, 0), IOVA, 4 * P, RW));
    /* v1: a request starting inside a mapping unmaps nothing */
    OK(dma_unmap(l.h, l.c, IOVA + P, P, 0));
    /* one covering its first IOVA removes all of it */
    EQ(dma_unmap(l.h, l.c, IOVA, P, 0), 4 * P);
    OK(dma_unmap(l.h, l.c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL));
    legacy_down(&l);
    mem_free(&m);
}

/* ---- device info, config space, regions --------------------------------- */

static void test_device_info(void)
{
    struct vfio_device_info di = { .argsz = sizeof(di) };
    struct vfio_irq_info ii = { .argsz = sizeof(ii) };
    struct vfio_region_info ri;
    union {
        struct vfio_region_info ri;
        uint8_t raw[64];
    } b;
    Legacy l;

    legacy_up(&l, HOST_TEXT, VFIO_TYPE1v2_IOMMU);
    OK(IOC(l.h, l.fd, VFIO_DEVICE_GET_INFO, &di));
    EQ(di.flags, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET);
    EQ(di.num_regions, VFIO_PCI_NUM_REGIONS);
    EQ(di.num_irqs, VFIO_PCI_NUM_IRQS);
    di.argsz = 15;
    ERR(IOC(l.h, l.fd, VFIO_DEVICE_GET_INFO, &di), EINVAL);

    /* BAR0: the register file, trapped (no MMAP) */
    ri = region(l.h, l.fd, SIM_DMA_BAR_REGS);
    EQ(ri.flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
    EQ(ri.size, SIM_DMA_REGS_SIZE);
    EQ(ri.offset, 0ull << 40);
    /* BAR1, ROM: not implemented */
    ri = region(l.h, l.fd, 1);
    EQ(ri.size, 0);
    EQ(ri.flags, 0);
    ri = region(l.h, l.fd, VFIO_PCI_ROM_REGION_INDEX);
    EQ(ri.size, 0);
    ri = region(l.h, l.fd, CFG);
    EQ(ri.size, SIM_DMA_CFG_SIZE);
    EQ(ri.offset, 7ull << 40);
    /* BAR2: MSI-X, mmappable, with the MSIX_MAPPABLE capability */
    memset(&b, 0, sizeof(b));
    b.ri.argsz = sizeof(b.ri);
    b.ri.index = SIM_DMA_BAR_MSIX;
    OK(IOC(l.h, l.fd, VFIO_DEVICE_GET_REGION_INFO, &b));
    EQ(b.ri.flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
       VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS);
    EQ(b.ri.cap_offset, 0);
    EQ(b.ri.argsz, sizeof(b.ri) + 8);
    OK(IOC(l.h, l.fd, VFIO_DEVICE_GET_REGION_INFO, &b));
    EQ(b.ri.cap_offset, sizeof(b.ri));
    g_assert_nonnull(find_info_cap(&b, b.ri.cap_offset,
                                   VFIO_REGION_INFO_CAP_MSIX_MAPPABLE));
    /* VGA (not a VGA device), past the end, short argsz */
    ri = (struct vfio_region_info){ .argsz = sizeof(ri),
                                    .index = VFIO_PCI_VGA_REGION_INDEX };
    ERR(IOC(l.h, l.fd, VFIO_DEVICE_GET_REGION_INFO, &ri), EINVAL);
    ri.index = VFIO_PCI_NUM_REGIONS;
    ERR(IOC(l.h, l.fd, VFIO_DEVICE_GET_REGION_INFO, &ri), EINVAL);
    ri.index = 0;
    ri.argsz = 31;
    ERR(IOC(l.h, l.fd, VFIO_DEVICE_GET_REGION_INFO, &ri), EINVAL);

    /* IRQs: INTx (pin A), 4 MSI, 8 MSI-X, no AER (not PCIe), one REQ */
    ii.index = VFIO_PCI_INTX_IRQ_INDEX;
    OK(IOC(l.h, l.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
    EQ(ii.count, 1);
    EQ(ii.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
       VFIO_IRQ_INFO_AUTOMASKED);
    ii.index = VFIO_PCI_MSI_IRQ_INDEX;
    OK(IOC(l.h, l.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
    EQ(ii.count, SIM_DMA_MSI_VECTORS);
    EQ(ii.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE);
    ii.index = VFIO_PCI_MSIX_IRQ_INDEX;
    OK(IOC(l.h, l.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
    EQ(ii.count, SIM_DMA_MSIX_VECTORS);
    EQ(ii.flags, VFIO_IRQ_INFO_EVENTFD);
    ii.index = VFIO_PCI_ERR_IRQ_INDEX;
    ERR(IOC(l.h, l.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii), EINVAL);
    ii.index = VFIO_PCI_REQ_IRQ_INDEX;
    OK(IOC(l.h, l.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
    EQ(ii.count, 1);
    EQ(ii.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE);
    ii.index = VFIO_PCI_NUM_IRQS;
    ERR(IOC(l.h, l.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii), EINVAL);
    ii.index = 0;
    ii.argsz = 15;
    ERR(IOC(l.h, l.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii), EINVAL);
    /* features: validated, none offered */
    {
        struct vfio_device_feature f = {
            .argsz = sizeof(f),
            .flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET,
        };

        ERR(IOC(l.h, l.fd, VFIO_DEVICE_FEATURE, &f), EINVAL);
        f.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_BUS_MASTER;
        ERR(IOC(l.h, l.fd, VFIO_DEVICE_FEATURE, &f), ENOTTY);
    }
    ERR(IOCV(l.h, l.fd, 0x3b7f, 0), ENOTTY);
    legacy_down(&l);
}

static void test_device_config(void)
{
    uint64_t phys, off;
    uint8_t buf[16];
    Legacy l;

    legacy_up(&l, HOST_TEXT, VFIO_TYPE1v2_IOMMU);
    EQ(rd(l.h, l.fd, CFG, 0, 4), SIM_DMA_VENDOR_ID | SIM_DMA_DEVICE_ID << 16);
    EQ(rd(l.h, l.fd, CFG, 0x0a, 2), SIM_DMA_CLASS);
    /* vfio-pci enabled memory decoding at open; bus mastering is ours */
    g_assert_true(rd(l.h, l.fd, CFG, 4, 2) & SIM_DMA_CMD_MEM);
    g_assert_false(rd(l.h, l.fd, CFG, 4, 2) & SIM_DMA_CMD_BME);
    bus_master(l.h, l.fd, true);
    OK(sim_device_reg_read(l.dev, CFG, 4, 2, &phys));
    g_assert_true(phys & SIM_DMA_CMD_BME);

    /* BAR sizing is virtualised: the device's BAR does not move */
    OK(sim_device_reg_read(l.dev, CFG, 0x10, 4, &phys));
    wr(l.h, l.fd, CFG, 0x10, 4, 0xffffffff);
    EQ(rd(l.h, l.fd, CFG, 0x10, 4), (uint32_t)~(SIM_DMA_REGS_SIZE - 1));
    EQ(rd(l.h, l.fd, CFG, 0x14, 4), 0);   /* no BAR1 */
    wr(l.h, l.fd, CFG, 0x14, 4, 0xffffffff);
    EQ(rd(l.h, l.fd, CFG, 0x14, 4), 0);
    wr(l.h, l.fd, CFG, 0x10, 4, 0xc0001000);
    EQ(rd(l.h, l.fd, CFG, 0x10, 4), 0xc0001000);
    {
        uint64_t now;

        sim_device_reg_read(l.dev, CFG, 0x10, 4, &now);
        EQ(now, phys);
    }
    /* MSI-X enable/mask-all as written, not applied to the device */
    wr(l.h, l.fd, CFG, SIM_DMA_CFG_MSIX + 2, 2, SIM_DMA_MSIX_CTRL_ENABLE);
    EQ(rd(l.h, l.fd, CFG, SIM_DMA_CFG_MSIX + 2, 2),
       SIM_DMA_MSIX_CTRL_ENABLE | (SIM_DMA_MSIX_VECTORS - 1));
    sim_device_reg_read(l.dev, CFG, SIM_DMA_CFG_MSIX + 2, 2, &phys);
    g_assert_false(phys & SIM_DMA_MSIX_CTRL_ENABLE);
    /* identity is read-only */
    wr(l.h, l.fd, CFG, 0, 2, 0x1234);
    EQ(rd(l.h, l.fd, CFG, 0, 2), SIM_DMA_VENDOR_ID);

    /* access at the end is clipped; past the end or a bad region is EINVAL */
    off = region(l.h, l.fd, CFG).offset;
    EQ(sim_pread(l.h, l.fd, buf, 16, off + 252), 4);
    ERR(sim_pread(l.h, l.fd, buf, 4, off + 256), EINVAL);
    ERR(sim_pread(l.h, l.fd, buf, 4, 1ull << 40), EINVAL);
    ERR(sim_pread(l.h, l.fd, buf, 4, 8ull << 40), EINVAL);
    ERR(sim_pread(l.h, l.fd, buf, 4, 9ull << 40), EINVAL);
    ERR(sim_pwrite(l.h, l.fd, buf, 4,
                   (uint64_t)VFIO_PCI_ROM_REGION_INDEX << 40), EINVAL);
    ERR(sim_pread(l.h, l.fd, NULL, 4, off), EFAULT);
    OK(sim_pread(l.h, l.fd, buf, 0, off));
    /* BAR0 byte-wise reads give the same ID */
    for (unsigned i = 0; i < 4; i++) {
        buf[i] = rd(l.h, l.fd, SIM_DMA_BAR_REGS, SIM_DMA_REG_ID + i, 1);
    }
    OK(memcmp(buf, &(uint32_t){ SIM_DMA_ID_VALUE }, 4));
    legacy_down(&l);
}

/* ---- DMA and interrupts through type1 ----------------------------------- */

static void test_legacy_dma(void)
{
    int32_t efd[2] = { eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC),
                       eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) };
    SimFaultRecord rec;
    uint32_t st;
    uint8_t chunk[64];
    Legacy l;
    Mem m;

    legacy_up(&l, HOST_TEXT, VFIO_TYPE1v2_IOMMU);
    mem_alloc(&m, 8 * P);
    OK(dma_map(l.h, l.c, uva(&m, 0), IOVA, 2 * P, RW));
    OK(dma_map(l.h, l.c, uva(&m, 2 * P), IOVA + 2 * P, 2 * P, RW));
    OK(dma_map(l.h, l.c, uva(&m, 4 * P), IOVA + 4 * P, P,
               VFIO_DMA_MAP_FLAG_READ));
    OK(msix_eventfds(l.h, l.fd, 0, 2, efd));

    /* bus mastering off: nothing is issued, the error vector fires */
    memset(m.p, 0x5a, 3 * P);
    st = engine(l.h, l.fd, SIM_DMA_OP_COPY, 0, IOVA, IOVA + 2 * P, 16);
    EQ(status_err(st), SIM_DMA_ERR_NO_BME);
    EQ(m.p[2 * P], 0x5a);
    EQ(efd_take(efd[1]), 0);      /* MSI needs BME too */

    bus_master(l.h, l.fd, true);
    /* IOVA -> IOVA across page boundaries */
    for (unsigned i = 0; i < 2 * P; i++) {
        m.p[i] = i * 7;
    }
    memset(m.p + 2 * P, 0, 2 * P);
    st = engine(l.h, l.fd, SIM_DMA_OP_COPY, 0, IOVA + 100,
                IOVA + 2 * P + 50, P + 300);
    EQ(st, SIM_DMA_STATUS_DONE);
    OK(memcmp(m.p + 2 * P + 50, m.p + 100, P + 300));
    EQ(m.p[2 * P + 49], 0);
    EQ(rd(l.h, l.fd, 0, SIM_DMA_REG_XFER, 8), P + 300);
    EQ(efd_take(efd[0]), 1);
    EQ(efd_take(efd[1]), 0);

    /* IOVA -> buffer -> IOVA */
    st = engine(l.h, l.fd, SIM_DMA_OP_TO_BUFFER, 0, IOVA + 8, 64, 64);
    EQ(st, SIM_DMA_STATUS_DONE);
    OK(sim_device_buffer_access(l.dev, 64, chunk, 64, false));
    OK(memcmp(chunk, m.p + 8, 64));
    st = engine(l.h, l.fd, SIM_DMA_OP_FROM_BUFFER, 0, 64, IOVA + 3 * P,
                64);
    EQ(st, SIM_DMA_STATUS_DONE);
    OK(memcmp(m.p + 3 * P, m.p + 8, 64));
    EQ(efd_take(efd[0]), 2);

    /* a write to a read-only mapping: S2 permission fault, error vector */
    drain_faults(l.h);
    st = engine(l.h, l.fd, SIM_DMA_OP_FROM_BUFFER, 0, 0, IOVA + 4 * P, 8);
    EQ(status_err(st), SIM_DMA_ERR_FAULT);
    EQ(status_fault(st), SIM_FAULT_S2_PERM);
    EQ(rd(l.h, l.fd, 0, SIM_DMA_REG_FAULT_IOVA, 8), IOVA + 4 * P);
    EQ(efd_take(efd[1]), 1);
    EQ(sim_fault_log_read(l.h, &rec, 1), 1);
    g_assert_cmpstr(rec.bdf, ==, BDF);
    g_assert_true(rec.write);
    /* W1C clears the error and its codes */
    wr(l.h, l.fd, 0, SIM_DMA_REG_STATUS, 4, SIM_DMA_STATUS_ERROR);
    EQ(rd(l.h, l.fd, 0, SIM_DMA_REG_STATUS, 4), 0);

    /* a copy running into an unmapped page stops there */
    EQ(dma_unmap(l.h, l.c, IOVA + 2 * P, 2 * P, 0), 2 * P);
    st = engine(l.h, l.fd, SIM_DMA_OP_COPY, 0, IOVA, IOVA + P + 2048,
                4096);
    EQ(status_err(st), SIM_DMA_ERR_FAULT);
    EQ(status_fault(st), SIM_FAULT_S2_UNMAPPED);
    EQ(rd(l.h, l.fd, 0, SIM_DMA_REG_XFER, 8), 2048);
    EQ(rd(l.h, l.fd, 0, SIM_DMA_REG_FAULT_IOVA, 8), IOVA + 2 * P);
    EQ(efd_take(efd[1]), 1);
    drain_faults(l.h);

    /* the public engine entry point agrees */
    OK(sim_device_start_dma(l.dev, SIM_DMA_COPY, 0, IOVA, IOVA + P, 16));
    ERR(sim_device_start_dma(l.dev, SIM_DMA_COPY, 0, IOVA,
                             IOVA + 2 * P, 16), EFAULT);
    ERR(sim_device_start_dma(l.dev, SIM_DMA_TO_BUFFER, 0, IOVA,
                             4090, 16), EINVAL);
    ERR(sim_device_start_dma(l.dev, 3, SIM_NO_PASID, 0, 0, 1), EINVAL);
    ERR(sim_device_start_dma(l.dev, SIM_DMA_COPY, 0, 0, 0, 0), EINVAL);
    /* a device of this host has PASID support; legacy type1 serves no PASID */
    ERR(sim_device_start_dma(l.dev, SIM_DMA_COPY, 1u << 20, IOVA, IOVA + P,
                             16), EINVAL);
    ERR(sim_device_start_dma(l.dev, SIM_DMA_COPY, 5, IOVA, IOVA + P, 16),
        EFAULT);
    drain_faults(l.h);
    bus_master(l.h, l.fd, false);
    ERR(sim_device_start_dma(l.dev, SIM_DMA_COPY, 0, IOVA, IOVA + P, 16), EIO);

    /* closing the device clears bus mastering and tears interrupts down */
    bus_master(l.h, l.fd, true);
    OK(sim_close(l.h, l.fd));
    l.fd = -1;
    efd_take(efd[0]);
    ERR(sim_device_start_dma(l.dev, SIM_DMA_COPY, 0, IOVA, IOVA + P, 16), EIO);
    legacy_down(&l);
    close(efd[0]);
    close(efd[1]);
    mem_free(&m);
}

/* ---- the model without VFIO: raw registers and errors ------------------ */

static void test_model_raw(void)
{
    SimHost *h = host_new("pasid-bits=20;device:bdf=" BDF ",pasid-bits=8");
    SimDevice *dev = sim_host_find_device(h, BDF);
    uint64_t v;
    uint8_t b[8];

    OK(sim_device_reg_read(dev, 0, SIM_DMA_REG_ID, 4, &v));
    EQ(v, SIM_DMA_ID_VALUE);
    OK(sim_device_reg_read(dev, 0, SIM_DMA_REG_CAPS, 4, &v));
    EQ(v, SIM_DMA_CAPS_PASID | (8 << SIM_DMA_CAPS_PASID_BITS_SHIFT));
    ERR(sim_device_reg_read(dev, 1, 0, 4, &v), EINVAL);
    ERR(sim_device_reg_read(dev, 6, 0, 4, &v), EINVAL);
    ERR(sim_device_reg_read(dev, 99, 0, 4, &v), EINVAL);
    ERR(sim_device_reg_read(dev, 0, 2, 4, &v), EINVAL);
    ERR(sim_device_reg_read(dev, 0, 0, 3, &v), EINVAL);
    ERR(sim_device_reg_read(dev, 0, 0x1000, 4, &v), EINVAL);
    ERR(sim_device_reg_read(dev, 7, 0xfc, 8, &v), EINVAL);
    ERR(sim_device_reg_read(dev, 0, 0, 4, NULL), EINVAL);
    ERR(sim_device_reg_read(NULL, 0, 0, 4, &v), EINVAL);
    /* a 64-bit register as one access and as halves */
    OK(sim_device_reg_write(dev, 0, SIM_DMA_REG_SRC, 8,
                            0x1122334455667788ull));
    sim_device_reg_read(dev, 0, SIM_DMA_REG_SRC + 4, 4, &v);
    EQ(v, 0x11223344);
    sim_device_reg_write(dev, 0, SIM_DMA_REG_SRC + 1, 1, 0xaa);
    sim_device_reg_read(dev, 0, SIM_DMA_REG_SRC, 8, &v);
    EQ(v, 0x112233445566aa88ull);
    /* PASID width 8: PASID 256 is refused before anything is issued */
    sim_device_reg_write(dev, 7, 4, 2, SIM_DMA_CMD_BME);
    ERR(sim_device_start_dma(dev, SIM_DMA_COPY, 256, 0, P, 8), EINVAL);
    sim_device_reg_read(dev, 0, SIM_DMA_REG_STATUS, 4, &v);
    EQ(status_err(v), SIM_DMA_ERR_BAD_PASID);
    /* attached to nothing: blocked */
    ERR(sim_device_start_dma(dev, SIM_DMA_COPY, 255, 0, P, 8), EFAULT);
    sim_device_reg_read(dev, 0, SIM_DMA_REG_STATUS, 4, &v);
    EQ(status_fault(v), SIM_FAULT_BLOCKED);
    /* op 3, length 0 and beyond the limit, a wrapping IOVA */
    sim_device_reg_write(dev, 0, SIM_DMA_REG_CMD, 4, SIM_DMA_CMD_START | 3);
    sim_device_reg_read(dev, 0, SIM_DMA_REG_STATUS, 4, &v);
    EQ(status_err(v), SIM_DMA_ERR_BAD_OP);
    sim_device_reg_write(dev, 0, SIM_DMA_REG_LEN, 4, SIM_DMA_MAX_LEN + 1);
    sim_device_reg_write(dev, 0, SIM_DMA_REG_CMD, 4, SIM_DMA_CMD_START);
    sim_device_reg_read(dev, 0, SIM_DMA_REG_STATUS, 4, &v);
    EQ(status_err(v), SIM_DMA_ERR_BAD_LEN);
    ERR(sim_device_start_dma(dev, SIM_DMA_COPY, 0, -8ull, 0, 16), EINVAL);
    sim_device_reg_read(dev, 0, SIM_DMA_REG_STATUS, 4, &v);
    EQ(status_err(v), SIM_DMA_ERR_RANGE);
    OK(sim_device_reg_read(dev, 0, SIM_DMA_REG_ERR_COUNT, 4, &v));
    EQ(v, 5);
    /* buffer bounds */
    ERR(sim_device_buffer_access(dev, 4092, b, 8, false), EINVAL);
    ERR(sim_device_buffer_access(dev, -1ull, b, 2, false), EINVAL);
    OK(sim_device_buffer_access(dev, 4096, b, 0, false));
    drain_faults(h);
    sim_host_free(h);
}

/* ---- cdev with iommufd -------------------------------------------------- */

static uint32_t ioas_alloc(SimHost *h, int ifd)
{
    struct iommu_ioas_alloc a = { .size = sizeof(a) };

    OK(IOC(h, ifd, IOMMU_IOAS_ALLOC, &a));
    return a.out_ioas_id;
}

static void ioas_map(SimHost *h, int ifd, uint32_t ioas, uint64_t va,
                     uint64_t iova, uint64_t len)
{
    struct iommu_ioas_map m = {
        .size = sizeof(m), .ioas_id = ioas, .user_va = va, .length = len,
        .iova = iova,
        .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
                 IOMMU_IOAS_MAP_WRITEABLE,
    };

    OK(IOC(h, ifd, IOMMU_IOAS_MAP, &m));
}

static uint32_t hwpt_alloc(SimHost *h, int ifd, uint32_t devid, uint32_t pt,
                           uint32_t flags)
{
    struct iommu_hwpt_alloc a = {
        .size = sizeof(a), .flags = flags, .dev_id = devid, .pt_id = pt,
    };

    OK(IOC(h, ifd, IOMMU_HWPT_ALLOC, &a));
    return a.out_hwpt_id;
}

static int cdev_bind(SimHost *h, int cdev, int ifd, uint32_t *devid)
{
    struct vfio_device_bind_iommufd b = {
        .argsz = sizeof(b), .iommufd = ifd,
    };
    int r = IOC(h, cdev, VFIO_DEVICE_BIND_IOMMUFD, &b);

    if (!r && devid) {
        *devid = b.out_devid;
    }
    return r;
}

static int attach(SimHost *h, int cdev, uint32_t *pt, int64_t pasid)
{
    struct vfio_device_attach_iommufd_pt a = {
        .argsz = sizeof(a), .pt_id = *pt,
        .flags = pasid >= 0 ? VFIO_DEVICE_ATTACH_PASID : 0,
        .pasid = pasid >= 0 ? pasid : 0,
    };
    int r = IOC(h, cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);

    *pt = a.pt_id;
    return r;
}

static int detach(SimHost *h, int cdev, int64_t pasid)
{
    struct vfio_device_detach_iommufd_pt d = {
        .argsz = sizeof(d),
        .flags = pasid >= 0 ? VFIO_DEVICE_DETACH_PASID : 0,
        .pasid = pasid >= 0 ? pasid : 0,
    };

    return IOC(h, cdev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d);
}

/* The cdev path of @bdf as a VMM finds it: <sysfs>/vfio-dev/vfioX. */
static char *cdev_path(SimHost *h, const char *bdf, dev_t *rdev)
{
    g_autofree char *dir = g_strdup_printf("/sys/bus/pci/devices/%s/vfio-dev",
                                           bdf);
    g_autofree char *devf = NULL, *real = NULL, *text = NULL;
    char buf[600];
    char **names = NULL;
    unsigned maj, min;
    char *path;

    EQ(sim_listdir(h, dir, &names), 1);
    devf = g_strdup_printf("%s/%s/dev", dir, names[0]);
    OK(sim_translate_path(h, devf, buf, sizeof(buf)));
    g_assert_true(g_file_get_contents(buf, &text, NULL, NULL));
    EQ(sscanf(text, "%u:%u", &maj, &min), 2);
    *rdev = makedev(maj, min);
    path = g_strdup_printf("/dev/vfio/devices/%s", names[0]);
    sim_strv_free(names);
    return path;
}

static void test_cdev(void)
{
    int fds = count_fds();
    SimHost *h = host_new("pasid-bits=20;device:bdf=" BDF ",group=7");
    SimDevice *dev = sim_host_find_device(h, BDF);
    struct vfio_device_info di = { .argsz = sizeof(di) };
    uint32_t devid = 0, ioas_a, ioas_b, hwpt_a, hwpt_b, pt;
    g_autofree char *path = NULL;
    int ifd, cdev, cdev2, c;
    struct stat st;
    dev_t rdev;
    uint8_t byte = 0;
    Mem ma, mb;

    path = cdev_path(h, BDF, &rdev);
    OK(sim_stat(h, path, &st));
    g_assert_true(S_ISCHR(st.st_mode));
    EQ(st.st_rdev, rdev);
    EQ(major(rdev), SIM_VFIO_CDEV_MAJOR);
    ifd = sim_open(h, "/dev/iommu", O_RDWR, 0);
    cdev = sim_open(h, path, O_RDWR, 0);
    g_assert_cmpint(cdev, >=, 0);
    c = sim_open(h, "/dev/vfio/vfio", O_RDWR, 0);

    /* nothing but BIND before BIND */
    ERR(IOC(h, cdev, VFIO_DEVICE_GET_INFO, &di), EINVAL);
    ERR(sim_pread(h, cdev, &byte, 1, 7ull << 40), EINVAL);
    pt = 1;
    ERR(attach(h, cdev, &pt, -1), EINVAL);
    /* BIND argument checks (§3.2) */
    {
        struct {
            struct vfio_device_bind_iommufd b;
            uint32_t tail;
        } x = { .b = { .argsz = 15, .iommufd = ifd } };

        ERR(IOC(h, cdev, VFIO_DEVICE_BIND_IOMMUFD, &x), EINVAL);
        x.b.argsz = sizeof(x);
        x.tail = 1;
        ERR(IOC(h, cdev, VFIO_DEVICE_BIND_IOMMUFD, &x), E2BIG);
        x.tail = 0;
        x.b.flags = 2;
        ERR(IOC(h, cdev, VFIO_DEVICE_BIND_IOMMUFD, &x), EINVAL);
        x.b.flags = VFIO_DEVICE_BIND_FLAG_TOKEN;    /* not a VF */
        ERR(IOC(h, cdev, VFIO_DEVICE_BIND_IOMMUFD, &x), EINVAL);
    }
    ERR(IOC(h, cdev, VFIO_DEVICE_BIND_IOMMUFD, NULL), EFAULT);
    ERR(cdev_bind(h, cdev, -1, NULL), EINVAL);
    ERR(cdev_bind(h, cdev, 1000, NULL), EBADF);
    ERR(cdev_bind(h, cdev, c, NULL), EBADFD);
    OK(cdev_bind(h, cdev, ifd, &devid));
    g_assert_cmpuint(devid, >, 0);
    ERR(cdev_bind(h, cdev, ifd, NULL), EINVAL);    /* twice */
    /* a second cdev file of the device cannot bind it again */
    cdev2 = sim_open(h, path, O_RDWR, 0);
    ERR(cdev_bind(h, cdev2, ifd, NULL), EINVAL);
    OK(sim_close(h, cdev2));
    /* the group interface is shut while a cdev is bound */
    ERR(group_open(h, GROUP), EBUSY);
    OK(IOC(h, cdev, VFIO_DEVICE_GET_INFO, &di));

    /* IOAS A: RID traffic; IOAS B: PASID 5.  Same IOVA, different memory */
    mem_alloc(&ma, 2 * P);
    mem_alloc(&mb, 2 * P);
    ioas_a = ioas_alloc(h, ifd);
    ioas_b = ioas_alloc(h, ifd);
    ioas_map(h, ifd, ioas_a, uva(&ma, 0), IOVA, 2 * P);
    ioas_map(h, ifd, ioas_b, uva(&mb, 0), IOVA, 2 * P);

    {
        struct vfio_device_attach_iommufd_pt a = {
            .argsz = 11, .pt_id = ioas_a,
        };

        ERR(IOC(h, cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a), EINVAL);
        a.argsz = 12;
        a.flags = 2;
        ERR(IOC(h, cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a), EINVAL);
        a.flags = VFIO_DEVICE_ATTACH_PASID;         /* argsz without pasid */
        ERR(IOC(h, cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a), EINVAL);
    }
    /* an IOAS attaches through an automatic HWPT, whose id comes back */
    pt = ioas_a;
    OK(attach(h, cdev, &pt, -1));
    g_assert_cmpuint(pt, !=, ioas_a);
    pt = 999;
    ERR(attach(h, cdev, &pt, -1), ENOENT);

    bus_master(h, cdev, true);
    memset(ma.p, 0x11, P);
    EQ(engine(h, cdev, SIM_DMA_OP_COPY, 0, IOVA, IOVA + P, P),
       SIM_DMA_STATUS_DONE);
    EQ(ma.p[P + P - 1], 0x11);
    EQ(mb.p[P], 0);

    /* PASID domains: RID and PASID 5 on PASID-capable HWPTs */
    hwpt_a = hwpt_alloc(h, ifd, devid, ioas_a, IOMMU_HWPT_ALLOC_PASID);
    hwpt_b = hwpt_alloc(h, ifd, devid, ioas_b, IOMMU_HWPT_ALLOC_PASID);
    pt = hwpt_a;
    OK(attach(h, cdev, &pt, -1));       /* replace */
    EQ(pt, hwpt_a);
    pt = hwpt_b;
    OK(attach(h, cdev, &pt, 5));
    EQ(pt, hwpt_b);

    OK(sim_device_buffer_access(dev, 0, &(uint8_t){ 0xbb }, 1, true));
    EQ(engine(h, cdev, SIM_DMA_OP_FROM_BUFFER, 5, 0, IOVA, 1),
       SIM_DMA_STATUS_DONE);
    EQ(mb.p[0], 0xbb);
    EQ(ma.p[0], 0x11);
    EQ(engine(h, cdev, SIM_DMA_OP_FROM_BUFFER, 0, 0, IOVA, 1),
       SIM_DMA_STATUS_DONE);
    EQ(ma.p[0], 0xbb);
    /* another PASID is attached to nothing */
    drain_faults(h);
    EQ(status_fault(engine(h, cdev, SIM_DMA_OP_FROM_BUFFER, 6, 0, IOVA, 1)),
       SIM_FAULT_BLOCKED);

    /* DETACH checks, then PASID 5 and the RID are blocked */
    {
        struct vfio_device_detach_iommufd_pt d = { .argsz = 7 };

        ERR(IOC(h, cdev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d), EINVAL);
        d.argsz = 8;
        d.flags = 4;
        ERR(IOC(h, cdev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d), EINVAL);
        d.flags = VFIO_DEVICE_DETACH_PASID;
        ERR(IOC(h, cdev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d), EINVAL);
    }
    OK(detach(h, cdev, 5));
    EQ(status_err(engine(h, cdev, SIM_DMA_OP_FROM_BUFFER, 5, 0, IOVA, 1)),
       SIM_DMA_ERR_FAULT);
    OK(detach(h, cdev, -1));
    EQ(status_fault(engine(h, cdev, SIM_DMA_OP_FROM_BUFFER, 0, 0, IOVA, 1)),
       SIM_FAULT_BLOCKED);
    drain_faults(h);

    /* the device cannot go while bound; closing the cdev unbinds */
    ERR(sim_host_remove_device(h, dev), EBUSY);
    OK(sim_close(h, cdev));
    cdev = group_open(h, GROUP);
    g_assert_cmpint(cdev, >=, 0);
    OK(sim_close(h, cdev));
    OK(sim_close(h, c));
    OK(sim_close(h, ifd));
    OK(sim_host_remove_device(h, dev));
    sim_host_free(h);
    mem_free(&ma);
    mem_free(&mb);
    EQ(count_fds(), fds);
}

static void test_cdev_group_exclusion(void)
{
    uint32_t pt = 1;
    Legacy l;
    g_autofree char *path = NULL;
    dev_t rdev;
    int ifd, cdev;

    legacy_up(&l, HOST_TEXT, VFIO_TYPE1v2_IOMMU);
    ifd = sim_open(l.h, "/dev/iommu", O_RDWR, 0);
    /* cdev ioctls on a group-path fd */
    ERR(cdev_bind(l.h, l.fd, ifd, NULL), EINVAL);
    ERR(attach(l.h, l.fd, &pt, -1), ENOTTY);
    ERR(detach(l.h, l.fd, -1), ENOTTY);
    /* a cdev of a device whose group is open through the group interface */
    path = cdev_path(l.h, BDF, &rdev);
    cdev = sim_open(l.h, path, O_RDWR, 0);
    g_assert_cmpint(cdev, >=, 0);
    ERR(cdev_bind(l.h, cdev, ifd, NULL), EBUSY);
    OK(sim_close(l.h, cdev));
    OK(sim_close(l.h, ifd));
    legacy_down(&l);
}

/* ---- the tree ----------------------------------------------------------- */

static char *read_text(SimHost *h, const char *path)
{
    char buf[600];
    char *text = NULL;

    OK(sim_translate_path(h, path, buf, sizeof(buf)));
    g_assert_true(g_file_get_contents(buf, &text, NULL, NULL));
    return text;
}

#define SYSDEV "/sys/bus/pci/devices/" BDF

static void test_tree(void)
{
    SimHost *h = host_new("dma-entry-limit=77;device:bdf=" BDF ",group=7;"
                          "device:bdf=0000:02:00.1,group=7,vendor=0x8086,"
                          "device=0x1234");
    g_autofree char *t1 = NULL, *t2 = NULL, *t3 = NULL, *t4 = NULL;
    g_autofree char *t5 = NULL;
    char link[256];
    char **names = NULL;
    struct stat st;
    ssize_t n;

    /* the group of a device: the basename of its iommu_group link */
    n = sim_readlink(h, SYSDEV "/iommu_group", link, sizeof(link) - 1);
    g_assert_cmpint(n, >, 0);
    link[n] = '\0';
    g_assert_cmpstr(link, ==, "../../../kernel/iommu_groups/7");
    OK(sim_stat(h, SYSDEV "/iommu_group", &st));
    g_assert_true(S_ISDIR(st.st_mode));
    n = sim_readlink(h, SYSDEV "/driver", link, sizeof(link) - 1);
    link[MAX(n, 0)] = '\0';
    g_assert_cmpstr(link, ==, "../../../bus/pci/drivers/vfio-pci");

    t1 = read_text(h, SYSDEV "/vendor");
    t2 = read_text(h, SYSDEV "/device");
    t3 = read_text(h, SYSDEV "/class");
    t4 = read_text(h, "/sys/bus/pci/devices/0000:02:00.1/vendor");
    t5 = read_text(h, "/sys/module/vfio_iommu_type1/parameters/"
                      "dma_entry_limit");
    g_assert_cmpstr(t1, ==, "0x1b36\n");
    g_assert_cmpstr(t2, ==, "0x00f2\n");
    g_assert_cmpstr(t3, ==, "0x00ff00\n");
    g_assert_cmpstr(t4, ==, "0x8086\n");
    g_assert_cmpstr(t5, ==, "77\n");

    EQ(sim_listdir(h, "/sys/kernel/iommu_groups/7/devices", &names), 2);
    g_assert_cmpstr(names[0], ==, BDF);
    g_assert_cmpstr(names[1], ==, "0000:02:00.1");
    sim_strv_free(names);
    EQ(sim_listdir(h, "/dev/vfio", &names), 3);
    g_assert_cmpstr(names[0], ==, "7");
    g_assert_cmpstr(names[1], ==, "devices");
    g_assert_cmpstr(names[2], ==, "vfio");
    sim_strv_free(names);
    EQ(sim_listdir(h, "/dev/vfio/devices", &names), 2);
    sim_strv_free(names);
    EQ(sim_listdir(h, "/sys/bus/pci/devices", &names), 2);
    sim_strv_free(names);

    OK(sim_stat(h, "/dev/vfio/7", &st));
    g_assert_true(S_ISCHR(st.st_mode));
    EQ(st.st_rdev, makedev(SIM_VFIO_GROUP_MAJOR, 7));
    OK(sim_stat(h, "/dev/vfio/vfio", &st));
    EQ(st.st_rdev, makedev(10, 196));
    OK(sim_stat(h, "/sys/class/vfio-dev/vfio0/dev", &st));
    n = sim_readlink(h, "/dev/char/511:0", link, sizeof(link) - 1);
    g_assert_cmpint(n, >, 0);
    link[n] = '\0';
    g_assert_cmpstr(link, ==, "../vfio/devices/vfio0");
    OK(sim_stat(h, "/dev/char/511:1", &st));
    EQ(st.st_rdev, makedev(511, 1));
    OK(sim_access(h, "/sys/devices/virtual/iommu/dmar0/intel-iommu/cap",
                  R_OK));

    /* removing a device removes its entries; the group goes with the last */
    OK(sim_host_remove_device(h, sim_host_find_device(h, BDF)));
    ERR(sim_stat(h, SYSDEV, &st), ENOENT);
    ERR(sim_stat(h, "/dev/vfio/devices/vfio0", &st), ENOENT);
    OK(sim_stat(h, "/dev/vfio/7", &st));
    OK(sim_host_remove_device(h, sim_host_find_device(h, "0000:02:00.1")));
    ERR(sim_stat(h, "/dev/vfio/7", &st), ENOENT);
    ERR(sim_stat(h, "/sys/kernel/iommu_groups/7", &st), ENOENT);
    /* the cdev number is reused */
    {
        SimDeviceDesc d;

        sim_device_desc_init(&d);
        g_strlcpy(d.bdf, "0000:05:00.0", sizeof(d.bdf));
        OK(sim_host_add_device(h, &d, NULL));
        OK(sim_stat(h, "/dev/vfio/devices/vfio0", &st));
    }
    sim_host_free(h);
}

static void test_legacy_only_tree(void)
{
    SimHost *h = host_new("iommufd=off,cdev=off,iommu=none;device:bdf=" BDF);
    struct stat st;
    char **names = NULL;

    ERR(sim_stat(h, "/dev/iommu", &st), ENOENT);
    ERR(sim_stat(h, "/dev/vfio/devices", &st), ENOENT);
    ERR(sim_listdir(h, SYSDEV "/vfio-dev", &names), ENOENT);
    OK(sim_stat(h, SYSDEV "/iommu_group", &st));
    EQ(sim_listdir(h, "/dev/vfio", &names), 2);
    sim_strv_free(names);
    sim_host_free(h);
}

/* ---- fd passing --------------------------------------------------------- */

static void send_fd(int sock, int fd)
{
    char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
    char byte = 'f';
    struct iovec iov = { &byte, 1 };
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = cbuf, .msg_controllen = sizeof(cbuf),
    };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    EQ(sendmsg(sock, &msg, 0), 1);
}

static int recv_fd(int sock)
{
    char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
    char byte;
    struct iovec iov = { &byte, 1 };
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = cbuf, .msg_controllen = sizeof(cbuf),
    };
    int fd;

    EQ(recvmsg(sock, &msg, 0), 1);
    memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(int));
    return fd;
}

static void test_fd_passing(void)
{
    int fds = count_fds();
    SimHost *h = host_new(HOST_TEXT);
    struct vfio_group_status st = { .argsz = sizeof(st) };
    struct vfio_device_info di = { .argsz = sizeof(di) };
    g_autofree char *path = NULL;
    char real[600];
    int sv[2], g, got, got2, c, ifd, raw;
    dev_t rdev;

    /* a manager opens the group and passes it; the VMM gets a new fd */
    OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    g = group_open(h, GROUP);
    send_fd(sv[0], g);
    got = recv_fd(sv[1]);
    g_assert_cmpint(got, !=, g);
    EQ(sim_fd_lookup(h, got), 1);
    OK(sim_close(h, g));        /* the manager's copy */
    OK(IOC(h, got, VFIO_GROUP_GET_STATUS, &st));
    EQ(st.flags, VFIO_GROUP_FLAGS_VIABLE);
    /* the same open file: still one opener */
    ERR(group_open(h, GROUP), EBUSY);
    /* (an fd in flight is in no fd table: receive before closing) */
    c = sim_open(h, "/dev/vfio/vfio", O_RDWR, 0);
    send_fd(sv[0], c);
    got2 = recv_fd(sv[1]);
    OK(sim_close(h, c));
    c = got2;
    OK(IOC(h, got, VFIO_GROUP_SET_CONTAINER, &c));
    OK(IOCV(h, c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
    OK(sim_close(h, got));
    OK(sim_close(h, c));

    /* a cdev node opened directly in the private tree (as libvirt would) */
    path = cdev_path(h, BDF, &rdev);
    OK(sim_translate_path(h, path, real, sizeof(real)));
    raw = open(real, O_RDWR | O_CLOEXEC);
    g_assert_cmpint(raw, >=, 0);
    send_fd(sv[0], raw);
    close(raw);
    raw = recv_fd(sv[1]);
    EQ(sim_fd_lookup(h, raw), 1);
    ifd = sim_open(h, "/dev/iommu", O_RDWR, 0);
    send_fd(sv[0], ifd);
    got2 = recv_fd(sv[1]);
    OK(sim_close(h, ifd));
    ifd = got2;
    OK(cdev_bind(h, raw, ifd, NULL));
    OK(IOC(h, raw, VFIO_DEVICE_GET_INFO, &di));
    EQ(di.num_regions, VFIO_PCI_NUM_REGIONS);
    OK(sim_close(h, raw));
    OK(sim_close(h, ifd));

    close(sv[0]);
    close(sv[1]);
    OK(sim_host_remove_device(h, sim_host_find_device(h, BDF)));
    sim_host_free(h);
    EQ(count_fds(), fds);
}

/* ---- driver binding and viability --------------------------------------- */

static void test_driver_viability(void)
{
    SimHost *h = host_new(HOST_TEXT ";device:bdf=0000:02:00.1,group=7");
    SimDevice *d0 = sim_host_find_device(h, BDF);
    SimDevice *d1 = sim_host_find_device(h, "0000:02:00.1");
    struct vfio_group_status st = { .argsz = sizeof(st) };
    int32_t req = eventfd(0, EFD_NONBLOCK);
    char link[256];
    struct stat sb;
    int g, c, dev;
    ssize_t n;

    ERR(sim_device_set_driver(d1, "bad name"), EINVAL);
    ERR(sim_device_set_driver(d1, NULL), EINVAL);
    /* a kernel driver on one device: the group is not viable */
    OK(sim_device_set_driver(d1, "e1000e"));
    n = sim_readlink(h, "/sys/bus/pci/devices/0000:02:00.1/driver", link,
                     sizeof(link) - 1);
    link[MAX(n, 0)] = '\0';
    g_assert_cmpstr(link, ==, "../../../bus/pci/drivers/e1000e");
    ERR(sim_stat(h, "/dev/vfio/devices/vfio1", &sb), ENOENT);
    g = group_open(h, GROUP);
    g_assert_cmpint(g, >=, 0);
    OK(IOC(h, g, VFIO_GROUP_GET_STATUS, &st));
    EQ(st.flags, 0);
    c = sim_open(h, "/dev/vfio/vfio", O_RDWR, 0);
    ERR(IOC(h, g, VFIO_GROUP_SET_CONTAINER, &c), EBUSY);
    /* unbound devices do not break viability */
    OK(sim_device_set_driver(d1, ""));
    OK(IOC(h, g, VFIO_GROUP_GET_STATUS, &st));
    EQ(st.flags, VFIO_GROUP_FLAGS_VIABLE);
    OK(IOC(h, g, VFIO_GROUP_SET_CONTAINER, &c));
    OK(IOCV(h, c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
    /* ... but they are no VFIO devices */
    ERR(IOC(h, g, VFIO_GROUP_GET_DEVICE_FD, "0000:02:00.1"), ENODEV);
    /* a kernel driver cannot take a device of a user-owned group */
    ERR(sim_device_set_driver(d1, "e1000e"), EBUSY);
    OK(sim_device_set_driver(d1, "vfio-pci"));
    /* an open device is asked to be released, and stays */
    dev = IOC(h, g, VFIO_GROUP_GET_DEVICE_FD, BDF);
    g_assert_cmpint(dev, >=, 0);
    OK(set_irqs(h, dev, VFIO_PCI_REQ_IRQ_INDEX, VFIO_IRQ_SET_DATA_EVENTFD |
                VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &req, 4));
    ERR(sim_device_set_driver(d0, ""), EBUSY);
    EQ(efd_take(req), 1);
    OK(sim_close(h, dev));
    OK(sim_close(h, g));
    OK(sim_close(h, c));
    /* no device on vfio-pci: no group node */
    OK(sim_device_set_driver(d0, ""));
    OK(sim_device_set_driver(d1, ""));
    ERR(sim_stat(h, "/dev/vfio/7", &sb), ENOENT);
    OK(sim_device_set_driver(d1, "vfio-pci"));
    OK(sim_stat(h, "/dev/vfio/7", &sb));
    sim_host_free(h);
    close(req);
}

/* Freeing a host with everything open leaks nothing (ASan checks memory). */
static void test_free_while_open(void)
{
    int fds = count_fds();
    int32_t efd = eventfd(0, EFD_NONBLOCK);
    g_autofree char *path = NULL;
    void *p = NULL;
    Legacy l;
    dev_t rdev;
    int ifd, cdev;
    Mem m;

    legacy_up(&l, HOST_TEXT ";device:bdf=0000:03:00.0,group=8", 3);
    mem_alloc(&m, P);
    OK(dma_map(l.h, l.c, uva(&m, 0), IOVA, P, RW));
    OK(msix_eventfds(l.h, l.fd, 0, 1, &efd));
    OK(sim_mmap(l.h, NULL, P, PROT_READ, MAP_SHARED, l.fd,
                region(l.h, l.fd, 2).offset, &p));
    path = cdev_path(l.h, "0000:03:00.0", &rdev);
    ifd = sim_open(l.h, "/dev/iommu", O_RDWR, 0);
    cdev = sim_open(l.h, path, O_RDWR, 0);
    OK(cdev_bind(l.h, cdev, ifd, NULL));
    sim_host_free(l.h);
    close(l.fd);
    close(l.g);
    close(l.c);
    close(ifd);
    close(cdev);
    close(efd);
    mem_free(&m);
    EQ(count_fds(), fds);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sim/vfio/legacy/container-group-errno",
                    test_legacy_container_group);
    g_test_add_func("/sim/vfio/legacy/type1-info-caps", test_type1_info);
    g_test_add_func("/sim/vfio/legacy/type1-map-unmap-v2-no-split",
                    test_type1_map_unmap);
    g_test_add_func("/sim/vfio/legacy/type1v1-unmap-first-iova",
                    test_type1v1_unmap);
    g_test_add_func("/sim/vfio/legacy/dma-bytes-faults-msix",
                    test_legacy_dma);
    g_test_add_func("/sim/vfio/device/region-irq-info", test_device_info);
    g_test_add_func("/sim/vfio/device/config-virtualised",
                    test_device_config);
    g_test_add_func("/sim/vfio/model/raw-registers-and-errors",
                    test_model_raw);
    g_test_add_func("/sim/vfio/cdev/bind-attach-pasid-dma", test_cdev);
    g_test_add_func("/sim/vfio/cdev/excluded-by-group-path",
                    test_cdev_group_exclusion);
    g_test_add_func("/sim/vfio/files/tree-links-ids-nodes", test_tree);
    g_test_add_func("/sim/vfio/files/legacy-only-host", test_legacy_only_tree);
    g_test_add_func("/sim/vfio/files/fd-passing-scm-rights", test_fd_passing);
    g_test_add_func("/sim/vfio/driver/viability-and-release-request",
                    test_driver_viability);
    g_test_add_func("/sim/vfio/lifetime/free-host-while-open",
                    test_free_while_open);
    return g_test_run();
}
