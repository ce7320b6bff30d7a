/*
 * libviommu-sim, iommufd uAPI: the checklist of uapi_facts.md §5.2 and §5.3
 * that applies, driven through the public API (sim_open/sim_ioctl) as a VMM
 * drives /dev/iommu.  Binding and attaching a device are the VFIO cdev's
 * job; these tests call its iommufd entry points directly, which is what
 * VFIO_DEVICE_BIND_IOMMUFD/ATTACH/DETACH do.
 */
#include <sys/socket.h>

#include "sim-test-common.h"

/* ---- description and knobs ---------------------------------------------- */

static void test_desc_parse(void)
{
    SimHostDesc d;
    SimDeviceDesc dd;
    SimHost *h;
    uint64_t cap, ecap;

    sim_host_desc_init(&d);
    g_assert_cmpint(d.aw_bits, ==, 48);
    g_assert_cmpuint(d.n_reserved, ==, 1);
    g_assert_cmphex(d.reserved[0].start, ==, MSI_START);
    g_assert_cmpint(sim_host_desc_parse(&d, "iommu=smmuv3,aw-bits=39,"
                    "pgsizes=4K:2M,reserved=0x1000-0x1fff:0x8000-0x8fff,"
                    "dma-entry-limit=7,nesting=off,pasid-bits=0"), ==, 0);
    g_assert_cmpint(d.iommu, ==, SIM_IOMMU_SMMUV3);
    g_assert_cmpint(d.aw_bits, ==, 39);
    g_assert_cmphex(d.pgsizes, ==, 0x201000);
    g_assert_cmpuint(d.n_reserved, ==, 2);
    g_assert_cmphex(d.reserved[1].last, ==, 0x8fff);
    g_assert_cmpuint(d.dma_entry_limit, ==, 7);
    g_assert_false(d.nesting);
    g_assert_cmpint(sim_host_desc_parse(&d, "reserved=none"), ==, 0);
    g_assert_cmpuint(d.n_reserved, ==, 0);
    g_assert_cmpint(sim_host_desc_parse(&d, "bogus=1"), ==, -EINVAL);
    g_assert_cmpint(sim_host_desc_parse(&d, "nesting=maybe"), ==, -EINVAL);
    g_assert_cmpint(sim_host_desc_parse(&d, "reserved=5-4"), ==, -EINVAL);
    g_assert_cmpint(sim_host_desc_parse(&d, "aw-bits"), ==, -EINVAL);
    g_assert_cmpint(sim_host_desc_parse(&d, "a=1;device:bdf=0:0.0"), ==,
                    -EINVAL);

    sim_device_desc_init(&dd);
    g_assert_cmpint(sim_device_desc_parse(&dd, "bdf=0000:03:00.1,group=9,"
                                          "dirty=off,pasid-bits=8"), ==, 0);
    g_assert_cmpint(dd.group, ==, 9);
    g_assert_false(dd.dirty);

    /* invalid hosts are refused */
    g_assert_cmpint(sim_host_new_from_string("aw-bits=40", &h), ==, -EINVAL);
    g_assert_cmpint(sim_host_new_from_string("pgsizes=2M", &h), ==, -EINVAL);
    g_assert_cmpint(sim_host_new_from_string("iommufd=off,cdev=on", &h), ==,
                    -EINVAL);
    g_assert_cmpint(sim_host_new_from_string(";device:bdf=zz", &h), ==,
                    -EINVAL);
    g_assert_cmpint(sim_host_new_from_string(";device:bdf=00:01.0;"
                    "device:bdf=0000:00:01.0", &h), ==, -EEXIST);

    /* CAP/ECAP follow the knobs (VT-d 11.4.2/11.4.3) */
    g_assert_cmpint(sim_host_new_from_string("aw-bits=57,fs1gp=off,"
                    "pasid-bits=16,dirty-tracking=off", &h), ==, 0);
    g_assert_cmpint(sim_host_vtd_regs(h, &cap, &ecap), ==, 0);
    g_assert_cmphex((cap >> 8) & 0x1f, ==, 0xe);           /* SAGAW 39/48/57 */
    g_assert_cmpuint((cap >> 16) & 0x3f, ==, 56);          /* MGAW */
    g_assert_false(cap & (1ull << 56));                    /* FL1GP */
    g_assert_true(cap & (1ull << 60));                     /* FL5LP */
    g_assert_true(cap & (1ull << 34));                     /* 2M */
    g_assert_true(ecap & (1ull << 26));                    /* NEST */
    g_assert_cmpuint((ecap >> 35) & 0x1f, ==, 15);         /* PSS */
    g_assert_true(ecap & (1ull << 40));                    /* PASID */
    g_assert_false(ecap & (1ull << 45));                   /* SLADS */
    sim_host_free(h);
    g_assert_cmpint(sim_host_new_from_string("aw-bits=39,nesting=off,"
                    "pasid-bits=0,pgsizes=4K", &h), ==, 0);
    sim_host_vtd_regs(h, &cap, &ecap);
    g_assert_cmphex((cap >> 8) & 0x1f, ==, 0x2);
    g_assert_false(cap & (3ull << 34));
    g_assert_false(cap & (1ull << 60));
    g_assert_false(ecap & ((1ull << 26) | (1ull << 40)));
    sim_host_free(h);
}

/* ---- files and fds ------------------------------------------------------ */

static void test_fs_fds(void)
{
    int before = count_fds();
    char path[600];
    Fx fx;
    int dupfd, rawfd, sv[2];
    uint32_t id;

    fx_setup(&fx);
    g_assert_cmpint(sim_claims_path(fx.h, "/dev/iommu"), ==, 1);
    g_assert_cmpint(sim_claims_path(fx.h, "/dev//vfio/../iommu"), ==, 1);
    g_assert_cmpint(sim_claims_path(fx.h, "/dev/null"), ==, 0);
    g_assert_cmpint(sim_claims_path(fx.h, "/etc/passwd"), ==, 0);
    g_assert_cmpint(sim_fd_lookup(fx.h, fx.fd), ==, 1);
    g_assert_cmpint(sim_fd_lookup(fx.h, 0), ==, 0);
    {
        struct stat st;

        g_assert_cmpint(sim_stat(fx.h, "/dev/iommu", &st), ==, 0);
        g_assert_true(S_ISCHR(st.st_mode));
        g_assert_cmpint(sim_fstat(fx.h, fx.fd, &st), ==, 0);
        g_assert_true(S_ISCHR(st.st_mode));
    }

    /* a dup shares the open file: an IOAS made through one is seen by both */
    id = ioas_alloc(&fx);
    dupfd = dup(fx.fd);
    g_assert_cmpint(sim_fd_lookup(fx.h, dupfd), ==, 1);
    g_assert_cmpint(sim_close(fx.h, fx.fd), ==, 0);
    fx.fd = dupfd;
    g_assert_cmpint(destroy(&fx, id), ==, 0);

    /* and so does a copy received over SCM_RIGHTS */
    id = ioas_alloc(&fx);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    {
        char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, c = 'x';
        struct iovec iov = { &c, 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = cbuf,
                              .msg_controllen = sizeof(cbuf) };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fx.fd, sizeof(int));
        g_assert_cmpint(sendmsg(sv[0], &msg, 0), ==, 1);
        g_assert_cmpint(recvmsg(sv[1], &msg, 0), ==, 1);
        cm = CMSG_FIRSTHDR(&msg);
        memcpy(&dupfd, CMSG_DATA(cm), sizeof(int));
    }
    close(sv[0]);
    close(sv[1]);
    g_assert_cmpint(sim_close(fx.h, fx.fd), ==, 0);
    fx.fd = dupfd;
    g_assert_cmpint(destroy(&fx, id), ==, 0);

    /* the last close releases the context: a new open starts empty */
    g_assert_cmpint(sim_close(fx.h, fx.fd), ==, 0);
    fx.fd = sim_open(fx.h, "/dev/iommu", O_RDWR, 0);
    g_assert_cmpint(ioas_alloc(&fx), ==, 1);

    /* the node file itself, opened in the private tree by a manager */
    snprintf(path, sizeof(path), "%s/dev/iommu", sim_host_root(fx.h));
    rawfd = open(path, O_RDWR);
    g_assert_cmpint(sim_fd_lookup(fx.h, rawfd), ==, 1);
    {
        struct iommu_ioas_alloc a = { .size = sizeof(a) };

        g_assert_cmpint(sim_ioctl(fx.h, rawfd, IOMMU_IOAS_ALLOC, &a), ==, 0);
        g_assert_cmpint(a.out_ioas_id, ==, 1);     /* its own context */
    }
    g_assert_cmpint(sim_close(fx.h, rawfd), ==, 0);
    g_assert_cmpint(sim_close(fx.h, 0), ==, -EBADF);
    fx_close(&fx);
    g_assert_cmpint(count_fds(), ==, before);
}

static void test_fs_legacy_only(void)
{
    SimHost *h;
    char **names;
    int n;

    g_assert_cmpint(sim_host_new_from_string("iommufd=off,cdev=off", &h), ==,
                    0);
    g_assert_cmpint(sim_claims_path(h, "/dev/iommu"), ==, 1);
    g_assert_cmpint(sim_open(h, "/dev/iommu", O_RDWR, 0), ==, -ENOENT);
    g_assert_cmpint(sim_access(h, "/dev/iommu", F_OK), ==, -ENOENT);
    n = sim_listdir(h, "/dev/vfio", &names);
    g_assert_cmpint(n, >=, 0);
    sim_strv_free(names);
    sim_host_free(h);
}

/* ---- common ioctl rules (§1.1, checklist #1, #2) ------------------------ */

static void test_ioctl_common(void)
{
    struct {
        struct iommu_ioas_alloc a;
        uint8_t extra[8];
    } big = { { .size = sizeof(struct iommu_ioas_alloc) + 8 } };
    struct iommu_ioas_alloc a = { .size = sizeof(a) - 1 };
    Fx fx;

    fx_setup(&fx);
    g_assert_cmpint(destroy(&fx, 0), ==, ENOENT);
    g_assert_cmpint(ioc(&fx, IOMMU_DESTROY, NULL), ==, EFAULT);
    g_assert_cmpint(ioc(&fx, _IO(IOMMUFD_TYPE, 0x7f), &a), ==, ENOTTY);
    g_assert_cmpint(ioc(&fx, _IO(IOMMUFD_TYPE, 0xff), &a), ==, ENOTTY);
    g_assert_cmpint(ioc(&fx, _IOW(IOMMUFD_TYPE, 0x81, int), &a), ==, ENOTTY);
    g_assert_cmpint(ioc(&fx, IOMMU_IOAS_ALLOC, &a), ==, EINVAL);
    g_assert_cmpint(ioc(&fx, IOMMU_IOAS_ALLOC, &big), ==, 0);   /* zero tail */
    g_assert_cmpint(big.a.out_ioas_id, ==, 1);
    big.extra[3] = 1;
    g_assert_cmpint(ioc(&fx, IOMMU_IOAS_ALLOC, &big), ==, E2BIG);
    a.size = sizeof(a);
    a.flags = 1;
    g_assert_cmpint(ioc(&fx, IOMMU_IOAS_ALLOC, &a), ==, EOPNOTSUPP);
    /* ids: lowest free, reused after destroy */
    g_assert_cmpint(ioas_alloc(&fx), ==, 2);
    g_assert_cmpint(ioas_alloc(&fx), ==, 3);
    g_assert_cmpint(destroy(&fx, 2), ==, 0);
    g_assert_cmpint(destroy(&fx, 2), ==, ENOENT);
    g_assert_cmpint(ioas_alloc(&fx), ==, 2);
    /* unimplemented objects */
    {
        struct iommu_viommu_alloc v = { .size = sizeof(v) };
        g_assert_cmpint(ioc(&fx, IOMMU_VIOMMU_ALLOC, &v), ==, EOPNOTSUPP);
    }
    fx_close(&fx);
}

/* ---- IOAS map/unmap (§5.2 #4-#9, #19, #20) ------------------------------ */

static void test_ioas_map_unmap(void)
{
    uint64_t base = 0x100000, out, iova;
    uint32_t ioas, pt;
    Fx fx;

    fx_setup(&fx);
    ioas = ioas_alloc(&fx);
    /* #5: unmap on an empty IOAS */
    for (int i = 0; i < 4; i++) {
        g_assert_cmpint(unmap(&fx, ioas, i * P, P, NULL), ==, ENOENT);
    }
    /* #8: unmap-all succeeds, twice, even when empty */
    g_assert_cmpint(unmap(&fx, ioas, 0, UINT64_MAX, &out), ==, 0);
    g_assert_cmpint(out, ==, 0);
    /* #6: no split */
    g_assert_cmpint(map_fixed(&fx, ioas, base + 16 * P, fx.buf, 2 * P), ==, 0);
    g_assert_cmpint(unmap(&fx, ioas, base + 16 * P, P, NULL), ==, ENOENT);
    g_assert_cmpint(unmap(&fx, ioas, base + 17 * P, P, NULL), ==, ENOENT);
    /* #7: overlaps are EEXIST */
    g_assert_cmpint(map_fixed(&fx, ioas, base + 16 * P, fx.buf, P), ==, EEXIST);
    g_assert_cmpint(map_fixed(&fx, ioas, base + 17 * P, fx.buf, P), ==, EEXIST);
    g_assert_cmpint(map_fixed(&fx, ioas, base + 15 * P, fx.buf, 2 * P), ==,
                    EEXIST);
    g_assert_cmpint(map_fixed(&fx, ioas, base + 15 * P, fx.buf, 3 * P), ==,
                    EEXIST);
    g_assert_cmpint(map_fixed(&fx, ioas, base + 16 * P, fx.buf, 2 * P), ==,
                    EEXIST);
    g_assert_cmpint(unmap(&fx, ioas, 0, UINT64_MAX, &out), ==, 0);
    g_assert_cmpint(out, ==, 2 * P);
    g_assert_cmpint(unmap(&fx, ioas, 0, UINT64_MAX, &out), ==, 0);
    g_assert_cmpint(out, ==, 0);
    /* #9: whole areas and holes in one request */
    for (int i = 0; i < 4; i++) {
        g_assert_cmpint(map_fixed(&fx, ioas, base + i * 16 * P, fx.buf,
                                  8 * P), ==, 0);
    }
    g_assert_cmpint(unmap(&fx, ioas, base - 4 * P, 8 * P, NULL), ==, ENOENT);
    g_assert_cmpint(unmap(&fx, ioas, base - 4 * P, 3 * 16 * P + 8 * P + 4 * P,
                          &out), ==, 0);
    g_assert_cmpint(out, ==, 32 * P);

    /* argument rules of IOAS_MAP (§1.5) */
    iova = base;
    g_assert_cmpint(map(&fx, ioas, 1u << 5 | FIXED_RW, &iova, fx.buf, P), ==,
                    EOPNOTSUPP);
    g_assert_cmpint(map(&fx, ioas, IOMMU_IOAS_MAP_FIXED_IOVA, &iova, fx.buf,
                        P), ==, EINVAL);
    g_assert_cmpint(map_fixed(&fx, ioas, base, fx.buf, 0), ==, EINVAL);
    g_assert_cmpint(map_fixed(&fx, ioas, base, fx.buf, UINT64_MAX), ==,
                    EOVERFLOW);
    g_assert_cmpint(map_fixed(&fx, ioas, UINT64_MAX, fx.buf, P), ==, EOVERFLOW);
    g_assert_cmpint(map_fixed(&fx, ioas, UINT64_MAX - P + 1, fx.buf, 2 * P),
                    ==, EOVERFLOW);
    g_assert_cmpint(map_fixed(&fx, 99, base, fx.buf, P), ==, ENOENT);
    g_assert_cmpint(unmap(&fx, ioas, base, 0, NULL), ==, EINVAL);
    g_assert_cmpint(unmap(&fx, ioas, 1, UINT64_MAX, NULL), ==, EOVERFLOW);
    g_assert_cmpint(unmap(&fx, 99, base, P, NULL), ==, ENOENT);

    /* #19: no domain: any length; with one: page granular */
    g_assert_cmpint(map_fixed(&fx, ioas, base + 1, fx.buf + 1, 3), ==, 0);
    g_assert_cmpint(unmap(&fx, ioas, base + 1, 3, NULL), ==, 0);
    bind_dev(&fx, fx.dev);
    pt = ioas;
    g_assert_cmpint(attach(&fx, fx.dev, SIM_NO_PASID, &pt), ==, 0);
    g_assert_cmpint(pt, !=, ioas);
    g_assert_cmpint(map_fixed(&fx, ioas, base, fx.buf, P / 2), ==, EINVAL);
    g_assert_cmpint(map_fixed(&fx, ioas, base + 1, fx.buf, P), ==, EINVAL);
    /* the MSI window is reserved now: EINVAL for a fixed map inside it */
    g_assert_cmpint(map_fixed(&fx, ioas, MSI_START, fx.buf, P), ==, EINVAL);
    /* above the 48-bit aperture too */
    g_assert_cmpint(map_fixed(&fx, ioas, 1ull << 48, fx.buf, P), ==, EINVAL);
    /* #20: user memory must exist once a domain pins it */
    {
        void *hole = mmap(NULL, 2 * P, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        munmap((uint8_t *)hole + P, P);
        g_assert_cmpint(map_fixed(&fx, ioas, base, hole, 2 * P), ==, EFAULT);
        munmap(hole, P);
        g_assert_cmpint(map_fixed(&fx, ioas, base, hole, P), ==, EFAULT);
    }
    /* #4: mappings do not block destroy, a device does */
    g_assert_cmpint(map_fixed(&fx, ioas, base, fx.buf, P), ==, 0);
    g_assert_cmpint(destroy(&fx, ioas), ==, EBUSY);
    g_assert_cmpint(destroy(&fx, pt), ==, EBUSY);
    g_assert_cmpint(detach(&fx, fx.dev, SIM_NO_PASID), ==, 0);
    g_assert_cmpint(destroy(&fx, pt), ==, ENOENT);     /* auto HWPT gone */
    g_assert_cmpint(destroy(&fx, ioas), ==, 0);
    unbind(&fx, fx.dev);
    fx_close(&fx);
}

static void test_ioas_limit(void)
{
    Fx fx;
    uint32_t ioas;

    fx_open(&fx, "dma-entry-limit=3");
    ioas = ioas_alloc(&fx);
    for (int i = 0; i < 3; i++) {
        g_assert_cmpint(map_fixed(&fx, ioas, (i + 1) * P, fx.buf, P), ==, 0);
    }
    g_assert_cmpint(map_fixed(&fx, ioas, 8 * P, fx.buf, P), ==, ENOMEM);
    g_assert_cmpint(unmap(&fx, ioas, P, P, NULL), ==, 0);
    g_assert_cmpint(map_fixed(&fx, ioas, 8 * P, fx.buf, P), ==, 0);
    fx_close(&fx);
}

/* ---- IOVA ranges, allowed ranges, automatic IOVA (#10-#15) -------------- */

static int iova_ranges(Fx *fx, uint32_t ioas, struct iommu_iova_range *r,
                       uint32_t *num, uint64_t *align)
{
    struct iommu_ioas_iova_ranges c = {
        .size = sizeof(c), .ioas_id = ioas, .num_iovas = *num,
        .allowed_iovas = (uintptr_t)r,
    };
    int e = ioc(fx, IOMMU_IOAS_IOVA_RANGES, &c);

    *num = c.num_iovas;
    *align = c.out_iova_alignment;
    return e;
}

static int allow(Fx *fx, uint32_t ioas, struct iommu_iova_range *r,
                 uint32_t n)
{
    struct iommu_ioas_allow_iovas c = {
        .size = sizeof(c), .ioas_id = ioas, .num_iovas = n,
        .allowed_iovas = (uintptr_t)r,
    };

    return ioc(fx, IOMMU_IOAS_ALLOW_IOVAS, &c);
}

static void test_ioas_ranges(void)
{
    struct iommu_iova_range r[4];
    uint64_t align, iova;
    uint32_t ioas, num, pt;
    Fx fx;

    fx_setup(&fx);
    ioas = ioas_alloc(&fx);
    /* #13 without a domain: everything, alignment 1 */
    num = 4;
    g_assert_cmpint(iova_ranges(&fx, ioas, r, &num, &align), ==, 0);
    g_assert_cmpint(num, ==, 1);
    g_assert_cmphex(r[0].start, ==, 0);
    g_assert_cmphex(r[0].last, ==, UINT64_MAX);
    g_assert_cmpint(align, ==, 1);
    /* #14 */
    memset(r, 0xaa, sizeof(r));
    num = 0;
    g_assert_cmpint(iova_ranges(&fx, ioas, r, &num, &align), ==, EMSGSIZE);
    g_assert_cmpint(num, ==, 1);
    g_assert_cmphex(r[0].start, ==, 0xaaaaaaaaaaaaaaaaull);
    {
        struct iommu_ioas_iova_ranges c = { .size = sizeof(c),
                                            .ioas_id = ioas, .__reserved = 1 };
        g_assert_cmpint(ioc(&fx, IOMMU_IOAS_IOVA_RANGES, &c), ==, EOPNOTSUPP);
    }
    /* with a domain: the aperture and the device's MSI window (#13, #15) */
    bind_dev(&fx, fx.dev);
    pt = ioas;
    g_assert_cmpint(attach(&fx, fx.dev, SIM_NO_PASID, &pt), ==, 0);
    num = 1;
    memset(r, 0xaa, sizeof(r));
    g_assert_cmpint(iova_ranges(&fx, ioas, r, &num, &align), ==, EMSGSIZE);
    g_assert_cmpint(num, ==, 2);
    g_assert_cmphex(r[0].last, ==, MSI_START - 1);
    g_assert_cmphex(r[1].start, ==, 0xaaaaaaaaaaaaaaaaull);
    num = 4;
    g_assert_cmpint(iova_ranges(&fx, ioas, r, &num, &align), ==, 0);
    g_assert_cmphex(r[1].start, ==, MSI_LAST + 1);
    g_assert_cmphex(r[1].last, ==, (1ull << 48) - 1);
    g_assert_cmpint(align, ==, P);

    /* #11: allowed ranges */
    r[0] = (struct iommu_iova_range){ 0x10000000, 0xffffffff };
    g_assert_cmpint(allow(&fx, ioas, r, 1), ==, EADDRINUSE);
    r[0] = (struct iommu_iova_range){ 0x10000, 0x1ffff };
    r[1] = (struct iommu_iova_range){ 0x18000, 0x2ffff };
    g_assert_cmpint(allow(&fx, ioas, r, 2), ==, EINVAL);
    r[1] = (struct iommu_iova_range){ 0x40000, 0x40000 };
    g_assert_cmpint(allow(&fx, ioas, r, 2), ==, EINVAL);
    r[1] = (struct iommu_iova_range){ 0x40000, 0x7ffff };
    g_assert_cmpint(allow(&fx, ioas, r, 2), ==, 0);
    /* #10: automatic IOVAs land inside, aligned to the length */
    iova = 0;
    g_assert_cmpint(map(&fx, ioas, RW, &iova, fx.buf, 4 * P), ==, 0);
    g_assert_cmphex(iova, ==, 0x10000);
    g_assert_cmpint(map(&fx, ioas, RW, &iova, fx.buf, 16 * P), ==, 0);
    g_assert_cmphex(iova, ==, 0x40000);
    g_assert_cmpint(map(&fx, ioas, RW, &iova, fx.buf, 64 * P), ==, ENOSPC);
    r[0] = (struct iommu_iova_range){ 0x10000, 0x1ffff };
    g_assert_cmpint(allow(&fx, ioas, NULL, 0), ==, 0);      /* clears */
    g_assert_cmpint(map(&fx, ioas, RW, &iova, fx.buf, 64 * P), ==, 0);
    g_assert_cmphex(iova % (64 * P), ==, 0);
    g_assert_cmphex(iova, >=, P);
    /* lowest set bit of the user VA bounds the alignment */
    g_assert_cmpint(map(&fx, ioas, RW, &iova, fx.buf + P, 64 * P), ==, 0);
    g_assert_cmphex(iova % P, ==, 0);
    g_assert_cmpint(map(&fx, ioas, RW, &iova, fx.buf + 1, P), ==, EINVAL);
    g_assert_cmpint(detach(&fx, fx.dev, SIM_NO_PASID), ==, 0);
    /* without a domain, sub-page maps keep the user VA's page offset */
    g_assert_cmpint(map(&fx, ioas, RW, &iova, fx.buf + 0x124, 0x10), ==, 0);
    g_assert_cmphex(iova % P, ==, 0x124);
    /* #12 (through ALLOW_IOVAS): nothing fits → ENOSPC */
    g_assert_cmpint(unmap(&fx, ioas, 0, UINT64_MAX, NULL), ==, 0);
    r[0] = (struct iommu_iova_range){ 0x10000, 0x13fff };
    g_assert_cmpint(allow(&fx, ioas, r, 1), ==, 0);
    g_assert_cmpint(map(&fx, ioas, RW, &iova, fx.buf, 0x5000), ==, ENOSPC);
    g_assert_cmpint(map(&fx, ioas, RW, &iova, fx.buf, UINT64_MAX / 2), ==,
                    EOVERFLOW);
    /* a device whose reserved region hits an allowed range cannot attach */
    r[0] = (struct iommu_iova_range){ 0xfe000000, 0xfeffffff };
    g_assert_cmpint(allow(&fx, ioas, r, 1), ==, 0);
    pt = ioas;
    g_assert_cmpint(attach(&fx, fx.dev, SIM_NO_PASID, &pt), ==, EADDRINUSE);
    unbind(&fx, fx.dev);
    fx_close(&fx);
}

/* ---- IOAS_COPY (#16, #17) ----------------------------------------------- */

static int copy(Fx *fx, uint32_t flags, uint32_t dst, uint64_t *dst_iova,
                uint32_t src, uint64_t src_iova, uint64_t len)
{
    struct iommu_ioas_copy c = {
        .size = sizeof(c), .flags = flags, .dst_ioas_id = dst,
        .src_ioas_id = src, .length = len, .dst_iova = *dst_iova,
        .src_iova = src_iova,
    };
    int r = ioc(fx, IOMMU_IOAS_COPY, &c);

    *dst_iova = c.dst_iova;
    return r;
}

static void test_ioas_copy(void)
{
    uint32_t a, b, pt;
    uint64_t iova, dst;
    uint8_t v;
    Fx fx;

    fx_setup(&fx);
    a = ioas_alloc(&fx);
    b = ioas_alloc(&fx);
    iova = 0x100000;
    g_assert_cmpint(map_fixed(&fx, a, iova, fx.buf, 4 * P), ==, 0);
    g_assert_cmpint(map_fixed(&fx, a, iova + 4 * P, fx.buf + 8 * P, 4 * P), ==,
                    0);
    /* inside one IOAS, and to another with an automatic destination */
    dst = 0x800000;
    g_assert_cmpint(copy(&fx, FIXED_RW, a, &dst, a, iova, 8 * P), ==, 0);
    dst = 0;
    g_assert_cmpint(copy(&fx, RW, b, &dst, a, iova + P, 6 * P), ==, 0);
    g_assert_cmphex(dst, !=, 0);
    /* one destination area per source piece: a piece unmaps alone */
    g_assert_cmpint(unmap(&fx, b, dst, 3 * P, NULL), ==, 0);
    g_assert_cmpint(unmap(&fx, b, dst + 3 * P, 3 * P, NULL), ==, 0);
    /* #17: every byte must be covered */
    for (uint64_t s = iova - 2 * P; s < iova + 9 * P; s += 511) {
        bool inside = s >= iova && s + P <= iova + 8 * P;

        dst = 0;
        g_assert_cmpint(copy(&fx, RW, b, &dst, a, s, P), ==,
                        inside ? 0 : ENOENT);
        if (inside) {
            g_assert_cmpint(unmap(&fx, b, dst, P, NULL), ==, 0);
        }
    }
    g_assert_cmpint(copy(&fx, RW, b, &dst, a, iova, 0), ==, EINVAL);
    g_assert_cmpint(copy(&fx, 0, b, &dst, a, iova, P), ==, EINVAL);
    g_assert_cmpint(copy(&fx, 1 << 7, b, &dst, a, iova, P), ==, EOPNOTSUPP);
    g_assert_cmpint(copy(&fx, RW, b, &dst, a, UINT64_MAX, P), ==, EOVERFLOW);
    g_assert_cmpint(copy(&fx, RW, 77, &dst, a, iova, P), ==, ENOENT);
    g_assert_cmpint(copy(&fx, RW, b, &dst, 77, iova, P), ==, ENOENT);
    /* a write right needs a writable source */
    dst = 0x300000;
    g_assert_cmpint(map(&fx, a, IOMMU_IOAS_MAP_FIXED_IOVA |
                        IOMMU_IOAS_MAP_READABLE, &dst, fx.buf, P), ==, 0);
    g_assert_cmpint(copy(&fx, RW, b, &dst, a, 0x300000, P), ==, EPERM);
    /* the copy shares memory: DMA through b lands in a's pages */
    bind_dev(&fx, fx.dev);
    pt = b;
    g_assert_cmpint(attach(&fx, fx.dev, SIM_NO_PASID, &pt), ==, 0);
    dst = 0x500000;
    g_assert_cmpint(copy(&fx, FIXED_RW, b, &dst, a, iova + 2 * P, P), ==, 0);
#ifndef SIM_TEST_VIA_LIBC           /* DMA by the library's back door */
    v = 0x5c;
    g_assert_cmpint(sim_device_dma(fx.dev, SIM_NO_PASID, 0x500010, &v, 1,
                                   true), ==, 0);
    g_assert_cmpint(fx.buf[2 * P + 0x10], ==, 0x5c);
#else
    (void)v;
#endif
    unbind(&fx, fx.dev);
    fx_close(&fx);
}

/* ---- options (#3, #18) and MAP_FILE (#21) ------------------------------- */

static int option(Fx *fx, uint32_t id, uint16_t op, uint32_t obj,
                  uint64_t *val)
{
    struct iommu_option o = { .size = sizeof(o), .option_id = id, .op = op,
                              .object_id = obj, .val64 = *val };
    int r = ioc(fx, IOMMU_OPTION, &o);

    *val = o.val64;
    return r;
}

static void test_ioas_option(void)
{
    uint64_t v, iova, align;
    uint32_t ioas, num = 0;
    struct iommu_iova_range r;
    Fx fx;

    fx_setup(&fx);
    ioas = ioas_alloc(&fx);
    v = 5;
    g_assert_cmpint(option(&fx, IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_GET,
                           0, &v), ==, 0);
    g_assert_cmpint(v, ==, 0);
    v = 1;
    g_assert_cmpint(option(&fx, IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_SET,
                           0, &v), ==, 0);
    v = 2;
    g_assert_cmpint(option(&fx, IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_SET,
                           0, &v), ==, EINVAL);
    g_assert_cmpint(option(&fx, IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_GET,
                           ioas, &v), ==, EOPNOTSUPP);
    g_assert_cmpint(option(&fx, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET,
                           0, &v), ==, ENOENT);
    g_assert_cmpint(option(&fx, 7, IOMMU_OPTION_OP_GET, 0, &v), ==,
                    EOPNOTSUPP);
    g_assert_cmpint(option(&fx, IOMMU_OPTION_HUGE_PAGES, 9, ioas, &v), ==,
                    EOPNOTSUPP);
    g_assert_cmpint(option(&fx, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET,
                           ioas, &v), ==, 0);
    g_assert_cmpint(v, ==, 1);
    v = 2;
    g_assert_cmpint(option(&fx, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET,
                           ioas, &v), ==, EINVAL);
    /* #18: a misaligned area blocks HUGE_PAGES=0 */
    g_assert_cmpint(map_fixed(&fx, ioas, 0x10001, fx.buf + 1, 7), ==, 0);
    v = 0;
    g_assert_cmpint(option(&fx, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET,
                           ioas, &v), ==, EADDRINUSE);
    g_assert_cmpint(unmap(&fx, ioas, 0x10001, 7, NULL), ==, 0);
    g_assert_cmpint(option(&fx, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET,
                           ioas, &v), ==, 0);
    g_assert_cmpint(map_fixed(&fx, ioas, 0x10001, fx.buf + 1, 7), ==, EINVAL);
    g_assert_cmpint(iova_ranges(&fx, ioas, &r, &num, &align), ==, EMSGSIZE);
    g_assert_cmpint(align, ==, P);

    /* MAP_FILE of a memfd (§1.5) */
    {
        int mfd = memfd_create("t", MFD_CLOEXEC);
        struct iommu_ioas_map_file m = {
            .size = sizeof(m), .flags = FIXED_RW, .ioas_id = ioas, .fd = mfd,
            .start = P, .length = 2 * P, .iova = 0x200000,
        };

        g_assert_cmpint(ftruncate(mfd, 2 * P), ==, 0);
        g_assert_cmpint(ioc(&fx, IOMMU_IOAS_MAP_FILE, &m), ==, EINVAL);
        g_assert_cmpint(ftruncate(mfd, 4 * P), ==, 0);
        g_assert_cmpint(ioc(&fx, IOMMU_IOAS_MAP_FILE, &m), ==, 0);
        m.fd = -1;
        g_assert_cmpint(ioc(&fx, IOMMU_IOAS_MAP_FILE, &m), ==, EBADF);
        close(mfd);
        iova = 0x200000;
        g_assert_cmpint(unmap(&fx, ioas, iova, 2 * P, NULL), ==, 0);
    }
    {
        struct iommu_ioas_change_process c = { .size = sizeof(c) };

        g_assert_cmpint(ioc(&fx, IOMMU_IOAS_CHANGE_PROCESS, &c), ==, 0);
        g_assert_cmpint(map_fixed(&fx, ioas, 0x10000, fx.buf, P), ==, 0);
        g_assert_cmpint(ioc(&fx, IOMMU_IOAS_CHANGE_PROCESS, &c), ==, EINVAL);
    }
    fx_close(&fx);
}

/* ---- HWPT allocation (#28-#31, #34) -------------------------------------- */

static void test_hwpt_alloc(void)
{
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = 0x200000, .addr_width = 48 };
    uint32_t ioas, ioas2, devid, parent, plain, n1, n2, pt, auto1;
    uint8_t data[64] = { 0 };
    Fx fx;

    fx_setup(&fx);
    ioas = ioas_alloc(&fx);
    devid = bind_dev(&fx, fx.dev);
    g_assert_cmpint(destroy(&fx, devid), ==, EBUSY);  /* held by VFIO */
    /* #28 */
    g_assert_cmpint(hwpt_alloc(&fx, 0, ioas, ioas, 0, NULL, 0, NULL), ==,
                    ENOENT);
    g_assert_cmpint(hwpt_alloc(&fx, 0, 0, ioas, 0, NULL, 0, NULL), ==, ENOENT);
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, devid, 0, NULL, 0, NULL), ==,
                    EINVAL);
    g_assert_cmpint(hwpt_alloc(&fx, IOMMU_HWPT_ALLOC_NEST_PARENT |
                               IOMMU_HWPT_FAULT_ID_VALID, devid, ioas, 0,
                               NULL, 0, NULL), ==, EOPNOTSUPP);
    g_assert_cmpint(hwpt_alloc(&fx, 1u << 31, devid, ioas, 0, NULL, 0, NULL),
                    ==, EOPNOTSUPP);
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, ioas, IOMMU_HWPT_DATA_NONE, data,
                               8, NULL), ==, EINVAL);
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, ioas, IOMMU_HWPT_DATA_VTD_S1,
                               data, 0, NULL), ==, EINVAL);
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, ioas, IOMMU_HWPT_DATA_VTD_S1,
                               &s1, sizeof(s1), NULL), ==, EOPNOTSUPP);
    /* #31 */
    {
        struct iommu_hwpt_alloc a = {
            .size = sizeof(a), .flags = IOMMU_HWPT_FAULT_ID_VALID,
            .dev_id = devid, .pt_id = ioas, .fault_id = UINT32_MAX,
        };
        g_assert_cmpint(ioc(&fx, IOMMU_HWPT_ALLOC, &a), ==, ENOENT);
        a.flags |= 1u << 31;
        g_assert_cmpint(ioc(&fx, IOMMU_HWPT_ALLOC, &a), ==, EOPNOTSUPP);
    }
    g_assert_cmpint(hwpt_alloc(&fx, IOMMU_HWPT_ALLOC_NEST_PARENT, devid, ioas,
                               0, NULL, 0, &parent), ==, 0);
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, ioas, 0, NULL, 0, &plain), ==, 0);
    /* #29 */
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, parent, IOMMU_HWPT_DATA_NONE,
                               &s1, sizeof(s1), NULL), ==, EINVAL);
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, parent, 0xdead, &s1, sizeof(s1),
                               NULL), ==, EOPNOTSUPP);
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, parent, IOMMU_HWPT_DATA_VTD_S1,
                               &s1, sizeof(s1) - 1, NULL), ==, EINVAL);
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, parent, IOMMU_HWPT_DATA_VTD_S1,
                               NULL, sizeof(s1), NULL), ==, EFAULT);
    g_assert_cmpint(hwpt_alloc(&fx, IOMMU_HWPT_ALLOC_NEST_PARENT, devid,
                               parent, IOMMU_HWPT_DATA_VTD_S1, &s1,
                               sizeof(s1), NULL), ==, EOPNOTSUPP);
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, plain, IOMMU_HWPT_DATA_VTD_S1,
                               &s1, sizeof(s1), NULL), ==, EINVAL);
    memcpy(data, &s1, sizeof(s1));
    data[sizeof(s1) + 3] = 1;
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, parent, IOMMU_HWPT_DATA_VTD_S1,
                               data, sizeof(s1) + 8, NULL), ==, E2BIG);
    s1.flags = 1u << 9;
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, parent, IOMMU_HWPT_DATA_VTD_S1,
                               &s1, sizeof(s1), NULL), ==, EOPNOTSUPP);
    s1.flags = 0;
    s1.addr_width = 39;
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, parent, IOMMU_HWPT_DATA_VTD_S1,
                               &s1, sizeof(s1), NULL), ==, EINVAL);
    s1.addr_width = 57;         /* 57-bit needs a 57-bit host */
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, parent, IOMMU_HWPT_DATA_VTD_S1,
                               &s1, sizeof(s1), NULL), ==, EINVAL);
    s1.addr_width = 48;
    s1.pgtbl_addr = 0x200800;
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, parent, IOMMU_HWPT_DATA_VTD_S1,
                               &s1, sizeof(s1), NULL), ==, EINVAL);
    s1.pgtbl_addr = 0x200000;
    /* #30 */
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, parent, IOMMU_HWPT_DATA_VTD_S1,
                               &s1, sizeof(s1), &n1), ==, 0);
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, parent, IOMMU_HWPT_DATA_VTD_S1,
                               &s1, sizeof(s1), &n2), ==, 0);
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, n1, IOMMU_HWPT_DATA_VTD_S1,
                               &s1, sizeof(s1), NULL), ==, EINVAL);
    g_assert_cmpint(destroy(&fx, parent), ==, EBUSY);
    pt = n1;
    g_assert_cmpint(attach(&fx, fx.dev, SIM_NO_PASID, &pt), ==, 0);
    g_assert_cmpint(pt, ==, n1);
    g_assert_cmpint(destroy(&fx, n1), ==, EBUSY);
    pt = n2;
    g_assert_cmpint(attach(&fx, fx.dev, SIM_NO_PASID, &pt), ==, 0);
    g_assert_cmpint(destroy(&fx, n1), ==, 0);
    g_assert_cmpint(attach(&fx, fx.dev, SIM_NO_PASID, &pt), ==, 0);  /* same */
    /* #34: replacing an IOAS attachment frees the automatic HWPT */
    ioas2 = ioas_alloc(&fx);
    auto1 = ioas;
    g_assert_cmpint(attach(&fx, fx.dev, SIM_NO_PASID, &auto1), ==, 0);
    pt = ioas2;
    g_assert_cmpint(attach(&fx, fx.dev, SIM_NO_PASID, &pt), ==, 0);
    g_assert_cmpint(destroy(&fx, auto1), ==, ENOENT);
    /* a failed replace keeps the old attachment */
    pt = 12345;
    g_assert_cmpint(attach(&fx, fx.dev, SIM_NO_PASID, &pt), ==, ENOENT);
    g_assert_cmpint(destroy(&fx, ioas2), ==, EBUSY);
    unbind(&fx, fx.dev);
    g_assert_cmpint(destroy(&fx, ioas2), ==, 0);
    g_assert_cmpint(destroy(&fx, n2), ==, 0);
    g_assert_cmpint(destroy(&fx, parent), ==, 0);
    fx_close(&fx);

#ifndef SIM_TEST_VIA_LIBC           /* one host per process there */
    /* nesting needs the knob (and VT-d) */
    fx_open(&fx, "nesting=off;device:bdf=0000:02:00.0");
    ioas = ioas_alloc(&fx);
    devid = bind_dev(&fx, fx.dev);
    g_assert_cmpint(hwpt_alloc(&fx, IOMMU_HWPT_ALLOC_NEST_PARENT, devid, ioas,
                               0, NULL, 0, NULL), ==, EOPNOTSUPP);
    unbind(&fx, fx.dev);
    fx_close(&fx);
#endif
}

/*
 * An SMMUv3 host with nesting=on allocates a NEST_PARENT paging domain
 * (as arm-smmu-v3 does: stage 2 for nesting), but nested domains with VT-d
 * stage-1 data are not its format; with nesting=off the NEST_PARENT flag
 * itself is refused.  One host per test (the libc variant allows no more).
 */
static void test_hwpt_smmuv3_nest_parent(void)
{
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = 0x200000, .addr_width = 48 };
    uint32_t ioas, devid, parent = 0;
    Fx fx;

    fx_open(&fx, "iommu=smmuv3,nesting=on;device:bdf=0000:02:00.0");
    ioas = ioas_alloc(&fx);
    devid = bind_dev(&fx, fx.dev);
    g_assert_cmpint(hwpt_alloc(&fx, IOMMU_HWPT_ALLOC_NEST_PARENT, devid, ioas,
                               0, NULL, 0, &parent), ==, 0);
    g_assert_cmpuint(parent, !=, 0);
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, parent, IOMMU_HWPT_DATA_VTD_S1,
                               &s1, sizeof(s1), NULL), ==, EOPNOTSUPP);
    g_assert_cmpint(destroy(&fx, parent), ==, 0);
    unbind(&fx, fx.dev);
    fx_close(&fx);
}

static void test_hwpt_smmuv3_no_nesting(void)
{
    uint32_t ioas, devid, plain = 0;
    Fx fx;

    fx_open(&fx, "iommu=smmuv3,nesting=off;device:bdf=0000:02:00.0");
    ioas = ioas_alloc(&fx);
    devid = bind_dev(&fx, fx.dev);
    g_assert_cmpint(hwpt_alloc(&fx, IOMMU_HWPT_ALLOC_NEST_PARENT, devid, ioas,
                               0, NULL, 0, NULL), ==, EOPNOTSUPP);
    g_assert_cmpint(hwpt_alloc(&fx, 0, devid, ioas, 0, NULL, 0, &plain), ==,
                    0);
    g_assert_cmpint(destroy(&fx, plain), ==, 0);
    unbind(&fx, fx.dev);
    fx_close(&fx);
}

/* ---- GET_HW_INFO (#37) -------------------------------------------------- */

static int hw_info(Fx *fx, uint32_t devid, uint32_t flags, uint32_t in_type,
                   void *data, uint32_t len, struct iommu_hw_info *out)
{
    struct iommu_hw_info i = {
        .size = sizeof(i), .flags = flags, .dev_id = devid, .data_len = len,
        .data_uptr = (uintptr_t)data, .in_data_type = in_type,
    };
    int r = ioc(fx, IOMMU_GET_HW_INFO, &i);

    if (out) {
        *out = i;
    }
    return r;
}

static void test_hw_info(void)
{
    struct iommu_hw_info out;
    struct iommu_hw_info_vtd *vtd;
    uint8_t buf[64];
    uint64_t cap, ecap;
    uint32_t devid;
    Fx fx;

    fx_open(&fx, "erratum-spr17=on;device:bdf=0000:02:00.0;"
                 "device:bdf=0000:03:00.0,pasid-bits=8,dirty=off");
    devid = bind_dev(&fx, fx.dev);
    sim_host_vtd_regs(fx.h, &cap, &ecap);
    g_assert_cmpint(hw_info(&fx, devid, 0, 0, NULL, 0, &out), ==, 0);
    g_assert_cmpint(out.out_data_type, ==, IOMMU_HW_INFO_TYPE_INTEL_VTD);
    g_assert_cmpint(out.data_len, ==, sizeof(struct iommu_hw_info_vtd));
    g_assert_cmpint(out.out_max_pasid_log2, ==, 20);
    g_assert_cmphex(out.out_capabilities, ==, IOMMU_HW_CAP_DIRTY_TRACKING);
    memset(buf, 0xaa, sizeof(buf));
    g_assert_cmpint(hw_info(&fx, devid, 0, 0, buf, sizeof(buf), &out), ==, 0);
    vtd = (struct iommu_hw_info_vtd *)buf;
    g_assert_cmphex(vtd->cap_reg, ==, cap);
    g_assert_cmphex(vtd->ecap_reg, ==, ecap);
    g_assert_cmphex(vtd->flags, ==, IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17);
    for (size_t i = sizeof(*vtd); i < sizeof(buf); i++) {
        g_assert_cmpint(buf[i], ==, 0);         /* tail zeroed */
    }
    memset(buf, 0xaa, sizeof(buf));
    g_assert_cmpint(hw_info(&fx, devid, 0, 0, buf, 8, &out), ==, 0);
    g_assert_cmpint(out.data_len, ==, sizeof(*vtd));
    g_assert_cmpint(buf[8], ==, 0xaa);          /* partial */
    g_assert_cmpint(hw_info(&fx, devid, IOMMU_HW_INFO_FLAG_INPUT_TYPE,
                            IOMMU_HW_INFO_TYPE_ARM_SMMUV3, buf, 8, NULL), ==,
                    EOPNOTSUPP);
    g_assert_cmpint(hw_info(&fx, devid, IOMMU_HW_INFO_FLAG_INPUT_TYPE,
                            IOMMU_HW_INFO_TYPE_INTEL_VTD, buf, 8, NULL), ==, 0);
    g_assert_cmpint(hw_info(&fx, devid, 2, 0, NULL, 0, NULL), ==, EOPNOTSUPP);
    g_assert_cmpint(hw_info(&fx, 99, 0, 0, NULL, 0, NULL), ==, ENOENT);
    g_assert_cmpint(hw_info(&fx, devid, 0, 0, NULL, 8, NULL), ==, EFAULT);
    {
        struct iommu_hw_info i = { .size = 32, .dev_id = devid };
        g_assert_cmpint(ioc(&fx, IOMMU_GET_HW_INFO, &i), ==, 0); /* min 32 */
        i.size = 31;
        g_assert_cmpint(ioc(&fx, IOMMU_GET_HW_INFO, &i), ==, EINVAL);
        i.size = sizeof(i);
        i.__reserved[1] = 1;
        g_assert_cmpint(ioc(&fx, IOMMU_GET_HW_INFO, &i), ==, EOPNOTSUPP);
    }
    /* per device: PASID width and dirty support */
    devid = bind_dev(&fx, sim_host_find_device(fx.h, "0000:03:00.0"));
    g_assert_cmpint(hw_info(&fx, devid, 0, 0, NULL, 0, &out), ==, 0);
    g_assert_cmpint(out.out_max_pasid_log2, ==, 8);
    g_assert_cmphex(out.out_capabilities, ==, 0);
    /* SPR17: no read-only mapping on a nest parent's IOAS */
    {
        uint32_t ioas = ioas_alloc(&fx), parent;
        uint64_t iova = 0x10000;

        g_assert_cmpint(hwpt_alloc(&fx, IOMMU_HWPT_ALLOC_NEST_PARENT,
                                   devid, ioas, 0, NULL, 0, &parent), ==, 0);
        g_assert_cmpint(map(&fx, ioas, IOMMU_IOAS_MAP_FIXED_IOVA |
                            IOMMU_IOAS_MAP_READABLE, &iova, fx.buf, P), ==,
                        EINVAL);
        g_assert_cmpint(map_fixed(&fx, ioas, iova, fx.buf, P), ==, 0);
    }
    fx_close(&fx);

#ifndef SIM_TEST_VIA_LIBC           /* one host per process there */
    fx_open(&fx, "iommu=smmuv3;device:bdf=0000:02:00.0");
    devid = bind_dev(&fx, fx.dev);
    g_assert_cmpint(hw_info(&fx, devid, 0, 0, buf, sizeof(buf), &out), ==, 0);
    g_assert_cmpint(out.out_data_type, ==, IOMMU_HW_INFO_TYPE_ARM_SMMUV3);
    g_assert_cmpint(out.data_len, ==, sizeof(struct iommu_hw_info_arm_smmuv3));
    fx_close(&fx);

    fx_open(&fx, "iommu=none;device:bdf=0000:02:00.0");
    devid = bind_dev(&fx, fx.dev);
    g_assert_cmpint(hw_info(&fx, devid, 0, 0, buf, sizeof(buf), &out), ==, 0);
    g_assert_cmpint(out.out_data_type, ==, IOMMU_HW_INFO_TYPE_NONE);
    g_assert_cmpint(out.data_len, ==, 0);
    g_assert_cmpint(out.out_max_pasid_log2, ==, 0);
    g_assert_cmphex(out.out_capabilities, ==, 0);
    fx_close(&fx);
#endif
}

/* ---- PASID attachments (#43) -------------------------------------------- */

static void test_pasid(void)
{
    uint32_t ioas, devid, pasid_hwpt, pt;
    SimDevice *mate, *nopasid;
    uint8_t v = 0x11;
    Fx fx;

    fx_open(&fx, "iommu=vtd;device:bdf=0000:02:00.0,group=5;"
                 "device:bdf=0000:02:00.1,group=5;"
                 "device:bdf=0000:04:00.0,pasid-bits=0");
    mate = sim_host_find_device(fx.h, "0000:02:00.1");
    nopasid = sim_host_find_device(fx.h, "0000:04:00.0");
    ioas = ioas_alloc(&fx);
    g_assert_cmpint(map_fixed(&fx, ioas, 0x100000, fx.buf, P), ==, 0);
    devid = bind_dev(&fx, fx.dev);
    g_assert_cmpint(hwpt_alloc(&fx, IOMMU_HWPT_ALLOC_PASID, devid, ioas, 0,
                               NULL, 0, &pasid_hwpt), ==, 0);
    g_assert_cmpint(detach(&fx, fx.dev, 7), ==, 0);     /* never attached */
    pt = ioas;
    g_assert_cmpint(attach(&fx, fx.dev, 7, &pt), ==, EINVAL);
    pt = pasid_hwpt;
    g_assert_cmpint(attach(&fx, fx.dev, 1u << 20, &pt), ==, EINVAL);
    g_assert_cmpint(attach(&fx, fx.dev, 7, &pt), ==, 0);
    /* PASID 7 translates, PASID 8 and the RID are blocked */
    g_assert_cmpint(sim_device_dma(fx.dev, 7, 0x100000, &v, 1, true), ==, 0);
    g_assert_cmpint(fx.buf[0], ==, 0x11);
    g_assert_cmpint(sim_device_dma(fx.dev, 8, 0x100000, &v, 1, true), ==,
                    -EFAULT);
    g_assert_cmpint(last_fault(&fx, 1).pasid, ==, 8);
    g_assert_cmpint(sim_device_dma(fx.dev, SIM_NO_PASID, 0x100000, &v, 1,
                                   true), ==, -EFAULT);
    last_fault(&fx, 1);
    /* the RID cannot take a non-PASID domain while a PASID is attached */
    pt = ioas;
    g_assert_cmpint(attach(&fx, fx.dev, SIM_NO_PASID, &pt), ==, EINVAL);
    pt = pasid_hwpt;
    g_assert_cmpint(attach(&fx, fx.dev, SIM_NO_PASID, &pt), ==, 0);
    g_assert_cmpint(destroy(&fx, pasid_hwpt), ==, EBUSY);
    /* one domain per group: the group-mate must agree */
    bind_dev(&fx, mate);
    pt = ioas;
    g_assert_cmpint(attach(&fx, mate, SIM_NO_PASID, &pt), ==, EINVAL);
    pt = pasid_hwpt;
    g_assert_cmpint(attach(&fx, mate, SIM_NO_PASID, &pt), ==, 0);
    /* and the reverse rule: RID on a non-PASID domain, then a PASID */
    g_assert_cmpint(detach(&fx, fx.dev, 7), ==, 0);
    g_assert_cmpint(detach(&fx, fx.dev, SIM_NO_PASID), ==, 0);
    g_assert_cmpint(detach(&fx, mate, SIM_NO_PASID), ==, 0);
    pt = ioas;
    g_assert_cmpint(attach(&fx, fx.dev, SIM_NO_PASID, &pt), ==, 0);
    pt = pasid_hwpt;
    g_assert_cmpint(attach(&fx, fx.dev, 7, &pt), ==, EINVAL);
    /* one DMA owner per group: another context cannot bind the mate */
    {
        int fd2 = sim_open(fx.h, "/dev/iommu", O_RDWR, 0);
        SimIommufdCtx *ictx2;
        uint32_t id2;

        g_mutex_lock(&fx.h->lock);
        ictx2 = sim_iommufd_from_file(sim_file_from_fd(fx.h, fd2));
        sim_iommufd_unbind(mate);
        g_assert_cmpint(sim_iommufd_bind(ictx2, mate, &id2), ==, -EBUSY);
        g_assert_cmpint(sim_iommufd_bind(ictx2, fx.dev, &id2), ==, -EINVAL);
        g_mutex_unlock(&fx.h->lock);
        g_assert_cmpint(sim_close(fx.h, fd2), ==, 0);
    }
    /* a device without PASID */
    bind_dev(&fx, nopasid);
    g_assert_cmpint(attach(&fx, nopasid, 1, &pt), ==, EINVAL);
    fx_close(&fx);

    /* a host without PASID support */
    fx_open(&fx, "pasid-bits=0;device:bdf=0000:02:00.0");
    ioas = ioas_alloc(&fx);
    devid = bind_dev(&fx, fx.dev);
    g_assert_cmpint(hwpt_alloc(&fx, IOMMU_HWPT_ALLOC_PASID, devid, ioas, 0,
                               NULL, 0, NULL), ==, EOPNOTSUPP);
    fx_close(&fx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sim/iommufd/desc/parse-and-vtd-regs", test_desc_parse);
    g_test_add_func("/sim/iommufd/fs/fds-dup-scm-rights-release", test_fs_fds);
    g_test_add_func("/sim/iommufd/fs/legacy-only-has-no-dev-iommu",
                    test_fs_legacy_only);
    g_test_add_func("/sim/iommufd/ioctl/size-e2big-enotty-ids",
                    test_ioctl_common);
    g_test_add_func("/sim/iommufd/ioas/map-unmap-no-split", test_ioas_map_unmap);
    g_test_add_func("/sim/iommufd/ioas/dma-entry-limit", test_ioas_limit);
    g_test_add_func("/sim/iommufd/ioas/iova-ranges-allow-auto",
                    test_ioas_ranges);
    g_test_add_func("/sim/iommufd/ioas/copy", test_ioas_copy);
    g_test_add_func("/sim/iommufd/ioas/option-map-file", test_ioas_option);
    g_test_add_func("/sim/iommufd/hwpt/alloc-nested-replace", test_hwpt_alloc);
    g_test_add_func("/sim/iommufd/hwpt/smmuv3-nest-parent",
                    test_hwpt_smmuv3_nest_parent);
    g_test_add_func("/sim/iommufd/hwpt/smmuv3-nesting-off",
                    test_hwpt_smmuv3_no_nesting);
    g_test_add_func("/sim/iommufd/hwpt/get-hw-info", test_hw_info);
    g_test_add_func("/sim/iommufd/hwpt/pasid-attach-rules", test_pasid);
    return g_test_run();
}
