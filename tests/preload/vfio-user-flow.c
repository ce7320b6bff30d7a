/*
 * A VFIO user-space driver in miniature: plain system calls, the Linux
 * VFIO/iommufd uAPI and the register map of the simulated "dma" device,
 * nothing else (no viommu, no libviommu-sim, no GLib).  Run under
 * libviommu-sim-preload.so with VIOMMU_SIM describing a host, it proves the
 * preload serves an unmodified program:
 *
 *   legacy   container, group, type1 maps, device fd, regions, MSI-X
 *            eventfds, DMA into this process's buffer, DMA fault after unmap
 *   iommufd  cdev bind, IOAS, GET_HW_INFO, nest-parent HWPT, attach, map,
 *            DMA; a nested HWPT on a stage-1 table built here, stale until
 *            IOMMU_HWPT_INVALIDATE; detach, destroy
 *
 * Everything is discovered as a real program discovers it: the group from
 * the iommu_group link in sysfs, the cdev from vfio-dev/ and its dev file;
 * first the device, its group and nodes are found by listing directories
 * (readdir, scandir, fdopendir), as DPDK and libvirt do.
 * Without VFIO (no /dev/vfio/vfio) it says so and exits 77 (skip).
 *
 * Usage: vfio-user-flow [-d BDF] [legacy|iommufd|all]    (default: all)
 * Output is TAP; any failure prints "not ok", "Bail out!" and exits 1.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "linux-vfio.h"
#include "linux-iommufd.h"
#include "sim-pci-model-regs.h"

#define PAGE        4096ull
#define IOVA        0x100000ull
#define CFG         VFIO_PCI_CONFIG_REGION_INDEX
#define SYSDEV      "/sys/bus/pci/devices/"

static unsigned n_tests;

/* ---- TAP ----------------------------------------------------------------- */

static void bail(const char *fmt, va_list ap)
{
    printf("not ok %u - ", ++n_tests);
    vprintf(fmt, ap);
    printf("\nBail out!\n");
    fflush(stdout);
    exit(1);
}

/* One TAP line: "ok N - what", or "not ok" and exit. */
static void check(bool cond, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (!cond) {
        bail(fmt, ap);
    }
    printf("ok %u - ", ++n_tests);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

/* A failed step, with errno. */
static void fail(const char *fmt, ...)
{
    char msg[512];
    int err = errno;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    printf("not ok %u - %s: %s (errno %d)\nBail out!\n", ++n_tests, msg,
           strerror(err), err);
    fflush(stdout);
    exit(1);
}

/* ioctl that must succeed; returns its (non-negative) value. */
static int xioctl(int fd, unsigned long req, void *arg, const char *what)
{
    int r = ioctl(fd, req, arg);

    if (r < 0) {
        fail("%s", what);
    }
    return r;
}

static int xopen(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        fail("open %s", path);
    }
    return fd;
}

static void xclose(int fd, const char *what)
{
    if (close(fd) < 0) {
        fail("close %s", what);
    }
}

/* The first line of a small text file (sysfs attribute), without newline. */
static void read_line(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        fail("open %s", path);
    }
    n = read(fd, buf, size - 1);
    if (n < 0) {
        fail("read %s", path);
    }
    close(fd);
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
}

/* Open fds of this process: each flow ends with the count it started with. */
static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    if (!d) {
        fail("opendir /proc/self/fd");
    }
    while (readdir(d)) {
        n++;
    }
    closedir(d);
    return n;
}

/* Anonymous page-aligned memory the device reads and writes. */
static uint8_t *mem_alloc(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED) {
        fail("mmap %zu bytes", size);
    }
    return p;
}

/* ---- discovery (sysfs, /dev) -------------------------------------------- */

/* The IOMMU group of @bdf: the basename of its iommu_group link. */
static int find_group(const char *bdf)
{
    char path[256], link[256];
    const char *base;
    ssize_t n;

    snprintf(path, sizeof(path), SYSDEV "%s/iommu_group", bdf);
    n = readlink(path, link, sizeof(link) - 1);
    if (n <= 0) {
        fail("readlink %s", path);
    }
    link[n] = '\0';
    base = strrchr(link, '/');
    base = base ? base + 1 : link;
    check(strstr(link, "iommu_groups/") != NULL && *base,
          "iommu_group of %s -> %s (group %s)", bdf, link, base);
    return atoi(base);
}

/*
 * The cdev of @bdf, as the kernel documents it: the one vfioX entry of
 * <sysfs>/vfio-dev, whose dev file gives major:minor, checked against
 * stat of /dev/vfio/devices/vfioX.  Writes the node path to @node.
 */
static void find_cdev(const char *bdf, char *node, size_t size)
{
    char dir[256], devf[640], text[32], name[256] = "";
    struct dirent *de;
    struct stat st;
    unsigned maj, min;
    DIR *d;

    snprintf(dir, sizeof(dir), SYSDEV "%s/vfio-dev", bdf);
    d = opendir(dir);
    if (!d) {
        fail("opendir %s", dir);
    }
    while ((de = readdir(d))) {
        if (!strncmp(de->d_name, "vfio", 4)) {
            snprintf(name, sizeof(name), "%s", de->d_name);
        }
    }
    closedir(d);
    check(name[0] != '\0', "%s lists the device's cdev %s", dir, name);
    snprintf(devf, sizeof(devf), "%s/%s/dev", dir, name);
    read_line(devf, text, sizeof(text));
    check(sscanf(text, "%u:%u", &maj, &min) == 2, "%s is %s", devf, text);
    snprintf(node, size, "/dev/vfio/devices/%s", name);
    if (stat(node, &st) < 0) {
        fail("stat %s", node);
    }
    check(S_ISCHR(st.st_mode) && st.st_rdev == makedev(maj, min),
          "%s is a character device %u:%u", node, major(st.st_rdev),
          minor(st.st_rdev));
}

/* ---- discovery by listing (DPDK, libvirt) ------------------------------- */

/* What a listing of a directory shows of one name. */
typedef struct Listing {
    unsigned entries;           /* all entries, "." and ".." included */
    unsigned dots;              /* "." and ".." seen */
    bool found;
    unsigned char type;         /* d_type of the name, if found */
} Listing;

/* Read @d to its end, looking for @name. */
static Listing list_read(DIR *d, const char *name)
{
    Listing l = { 0 };
    struct dirent *de;

    while ((de = readdir(d))) {
        l.entries++;
        l.dots += !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
        if (!strcmp(de->d_name, name)) {
            l.found = true;
            l.type = de->d_type;
        }
    }
    return l;
}

static Listing list_dir(const char *dir, const char *name)
{
    DIR *d = opendir(dir);
    Listing l;

    if (!d) {
        fail("opendir %s", dir);
    }
    l = list_read(d, name);
    closedir(d);
    return l;
}

/* @name is listed in @dir with d_type @type, "." and ".." once each. */
static void check_listed(const char *dir, const char *name,
                         unsigned char type, const char *what)
{
    Listing l = list_dir(dir, name);

    check(l.found && l.type == type && l.dots == 2,
          "readdir %s lists %s (%s, d_type %u) and . .. once", dir, name,
          what, l.type);
}

/* @name is listed in @dir exactly if stat finds @dir/@name. */
static void check_listed_iff_exists(const char *dir, const char *name,
                                    unsigned char type)
{
    char path[512];
    struct stat st;
    bool exists;
    Listing l = list_dir(dir, name);

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    exists = lstat(path, &st) == 0;
    check(l.found == exists && (!exists || l.type == type),
          "readdir %s %s %s, as lstat says", dir,
          l.found ? "lists" : "does not list", name);
}

static int name_is_pci(const struct dirent *de)
{
    return de->d_name[0] != '.';
}

/*
 * The device found as DPDK and libvirt find devices: by listing
 * /sys/bus/pci/devices, the IOMMU groups, /dev/vfio, /sys/class/vfio-dev;
 * parents the simulation does not own (/dev, /sys/devices) show the real
 * entries and the simulated ones.  readdir, scandir, rewinddir,
 * telldir/seekdir, dirfd and fdopendir, and no fd left behind.
 */
static void discover_by_listing(const char *bdf)
{
    char path[256], link[256], group[16], parent[64];
    int fds = count_fds(), fd, n, bdf_at = -1;
    struct dirent **list;
    struct dirent *de;
    struct stat st;
    Listing l, again;
    bool cdev = stat("/dev/vfio/devices", &st) == 0;
    long pos;
    DIR *d;

    check_listed("/sys/bus/pci/devices", bdf, DT_LNK, "the device link");
    snprintf(path, sizeof(path), SYSDEV "%s", bdf);
    check(stat(path, &st) == 0 && S_ISDIR(st.st_mode),
          "%s resolves to a directory", path);
    snprintf(group, sizeof(group), "%d", find_group(bdf));
    check_listed("/sys/kernel/iommu_groups", group, DT_DIR, "the group");
    snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%s/devices",
             group);
    check_listed(path, bdf, DT_LNK, "the group's device");
    check_listed("/dev/vfio", "vfio", DT_CHR, "the container");
    check_listed("/dev/vfio", group, DT_CHR, "the group node");
    check_listed_iff_exists("/dev/vfio", "devices", DT_DIR);
    if (cdev) {
        check_listed("/sys/class/vfio-dev", "vfio0", DT_LNK, "the cdev");
    }

    /* merged with the real directory: both kinds of entry */
    check_listed("/dev", "vfio", DT_DIR, "simulated");
    check_listed("/dev", "null", DT_CHR, "real");
    check_listed_iff_exists("/dev", "iommu", DT_CHR);
    check_listed_iff_exists("/sys/class", "vfio-dev", DT_DIR);
    /* a parent only the simulation has: listed, and stat finds it */
    snprintf(path, sizeof(path), SYSDEV "%s", bdf);
    n = readlink(path, link, sizeof(link) - 1);
    link[n > 0 ? n : 0] = '\0';
    check(sscanf(link, "../../../devices/%63[^/]/", parent) == 1,
          "%s -> %s", path, link);
    check_listed("/sys/devices", parent, DT_DIR, "the device's root bus");
    snprintf(path, sizeof(path), "/sys/devices/%s", parent);
    check(stat(path, &st) == 0 && S_ISDIR(st.st_mode),
          "stat %s is a directory", path);

    /* scandir, as DPDK's PCI scan */
    n = scandir("/sys/bus/pci/devices", &list, name_is_pci, alphasort);
    if (n < 0) {
        fail("scandir /sys/bus/pci/devices");
    }
    for (int i = 0; i < n; i++) {
        if (!strcmp(list[i]->d_name, bdf)) {
            bdf_at = i;
        }
    }
    check(bdf_at >= 0 && list[bdf_at]->d_type == DT_LNK &&
          (n < 2 || strcmp(list[0]->d_name, list[n - 1]->d_name) < 0),
          "scandir /sys/bus/pci/devices: %d sorted entries, %s a link", n,
          bdf);
    for (int i = 0; i < n; i++) {
        free(list[i]);
    }
    free(list);

    /* one stream: rewinddir, telldir/seekdir, dirfd */
    d = opendir("/sys/bus/pci/devices");
    if (!d) {
        fail("opendir /sys/bus/pci/devices");
    }
    l = list_read(d, bdf);
    rewinddir(d);
    again = list_read(d, bdf);
    check(l.found && again.found && again.entries == l.entries,
          "rewinddir lists the same %u entries again", l.entries);
    rewinddir(d);
    de = readdir(d);
    pos = telldir(d);
    de = readdir(d);
    snprintf(path, sizeof(path), "%s", de ? de->d_name : "");
    seekdir(d, pos);
    de = readdir(d);
    check(de && !strcmp(de->d_name, path),
          "seekdir to telldir's value reads '%s' again", path);
    check(fstat(dirfd(d), &st) == 0 && S_ISDIR(st.st_mode),
          "fstat(dirfd()) is a directory");
    closedir(d);

    /* fdopendir of an O_DIRECTORY fd */
    fd = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        fail("fdopendir /dev");
    }
    check(dirfd(d) == fd, "dirfd of fdopendir(fd) is fd");
    l = list_read(d, "vfio");
    check(l.found && l.type == DT_DIR && l.dots == 2,
          "fdopendir(open(\"/dev\")) lists the simulated vfio");
    closedir(d);

    check(count_fds() == fds, "listing leaves no fd open (%d)", fds);
}

/* ---- the device: regions and the DMA engine ------------------------------ */

typedef struct Dev {
    int fd;
    uint64_t off[VFIO_PCI_NUM_REGIONS];     /* region offsets in the fd */
    uint64_t size[VFIO_PCI_NUM_REGIONS];
} Dev;

static void dev_regions(Dev *d)
{
    for (unsigned i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
        struct vfio_region_info ri = { .argsz = sizeof(ri), .index = i };

        if (i == VFIO_PCI_VGA_REGION_INDEX) {
            continue;           /* not a VGA device: EINVAL */
        }
        xioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &ri, "GET_REGION_INFO");
        d->off[i] = ri.offset;
        d->size[i] = ri.size;
    }
}

static uint64_t rd(Dev *d, unsigned region, uint64_t off, unsigned size)
{
    uint64_t v = 0;

    if (pread(d->fd, &v, size, d->off[region] + off) != (ssize_t)size) {
        fail("pread region %u offset 0x%llx", region,
             (unsigned long long)off);
    }
    return v;
}

static void wr(Dev *d, unsigned region, uint64_t off, unsigned size,
               uint64_t v)
{
    if (pwrite(d->fd, &v, size, d->off[region] + off) != (ssize_t)size) {
        fail("pwrite region %u offset 0x%llx", region,
             (unsigned long long)off);
    }
}

/* Device identity through the config region, against sysfs. */
static void dev_identify(Dev *d, const char *bdf)
{
    char path[256], vendor[32], device[32];
    uint64_t id = rd(d, CFG, 0, 4);

    snprintf(path, sizeof(path), SYSDEV "%s/vendor", bdf);
    read_line(path, vendor, sizeof(vendor));
    snprintf(path, sizeof(path), SYSDEV "%s/device", bdf);
    read_line(path, device, sizeof(device));
    check((id & 0xffff) == SIM_DMA_VENDOR_ID && (id >> 16) == SIM_DMA_DEVICE_ID
          && strtoul(vendor, NULL, 16) == SIM_DMA_VENDOR_ID
          && strtoul(device, NULL, 16) == SIM_DMA_DEVICE_ID,
          "config space reads %04llx:%04llx, sysfs says %s:%s",
          (unsigned long long)(id & 0xffff), (unsigned long long)(id >> 16),
          vendor, device);
    check(rd(d, SIM_DMA_BAR_REGS, SIM_DMA_REG_ID, 4) == SIM_DMA_ID_VALUE,
          "BAR0 ID register reads \"SDMA\"");
}

static void dev_bus_master(Dev *d)
{
    uint64_t cmd = rd(d, CFG, 4, 2);

    wr(d, CFG, 4, 2, cmd | SIM_DMA_CMD_BME);
    check(rd(d, CFG, 4, 2) & SIM_DMA_CMD_BME,
          "bus mastering enabled through config pwrite");
}

/* Bind @n eventfds to MSI-X vectors 0..n-1 (VFIO_DEVICE_SET_IRQS). */
static void dev_msix(Dev *d, const int32_t *efd, unsigned n)
{
    struct {
        struct vfio_irq_set s;
        int32_t fds[4];
    } a = { .s = { .argsz = sizeof(a.s) + n * sizeof(int32_t),
                   .flags = VFIO_IRQ_SET_DATA_EVENTFD |
                            VFIO_IRQ_SET_ACTION_TRIGGER,
                   .index = VFIO_PCI_MSIX_IRQ_INDEX, .start = 0, .count = n } };
    struct vfio_irq_info ii = { .argsz = sizeof(ii),
                                .index = VFIO_PCI_MSIX_IRQ_INDEX };

    xioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii, "GET_IRQ_INFO MSI-X");
    check(ii.count >= n && (ii.flags & VFIO_IRQ_INFO_EVENTFD),
          "MSI-X has %u vectors with eventfd signalling", ii.count);
    memcpy(a.fds, efd, n * sizeof(int32_t));
    xioctl(d->fd, VFIO_DEVICE_SET_IRQS, &a, "SET_IRQS MSI-X eventfds");
}

static void dev_msix_off(Dev *d)
{
    struct vfio_irq_set s = {
        .argsz = sizeof(s),
        .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
        .index = VFIO_PCI_MSIX_IRQ_INDEX, .start = 0, .count = 0,
    };

    xioctl(d->fd, VFIO_DEVICE_SET_IRQS, &s, "SET_IRQS MSI-X disable");
}

/* Program the engine through BAR0 as a driver does; returns STATUS. */
static uint32_t dev_dma(Dev *d, unsigned op, uint64_t src, uint64_t dst,
                        uint32_t len)
{
    unsigned b = SIM_DMA_BAR_REGS;
    uint32_t st;

    wr(d, b, SIM_DMA_REG_SRC, 8, src);
    wr(d, b, SIM_DMA_REG_DST, 8, dst);
    wr(d, b, SIM_DMA_REG_LEN, 4, len);
    wr(d, b, SIM_DMA_REG_PASID, 4, 0);
    wr(d, b, SIM_DMA_REG_CMD, 4, SIM_DMA_CMD_START | op);
    st = rd(d, b, SIM_DMA_REG_STATUS, 4);
    /* clear DONE/ERROR for the next operation (W1C) */
    wr(d, b, SIM_DMA_REG_STATUS, 4, SIM_DMA_STATUS_DONE | SIM_DMA_STATUS_ERROR);
    return st;
}

static unsigned status_err(uint32_t st)
{
    return (st & SIM_DMA_STATUS_ERR_MASK) >> SIM_DMA_STATUS_ERR_SHIFT;
}

/* An eventfd's counter (read resets it); 0 if nothing was signalled. */
static uint64_t efd_take(int efd)
{
    uint64_t v = 0;

    return read(efd, &v, sizeof(v)) == sizeof(v) ? v : 0;
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t)(seed + i * 13);
    }
}

/* ---- legacy: container, group, type1 ------------------------------------- */

static const struct vfio_info_cap_header *find_cap(const void *buf,
                                                   uint32_t off, size_t size,
                                                   uint16_t id)
{
    for (unsigned hops = 0; off && off + 8 <= size && hops < 16; hops++) {
        const struct vfio_info_cap_header *h =
            (const void *)((const uint8_t *)buf + off);

        if (h->id == id) {
            return h;
        }
        off = h->next;
    }
    return NULL;
}

/* IOMMU_GET_INFO, growing the buffer to the argsz it asks for. */
static void type1_iova_ok(int container, uint64_t iova, uint64_t len)
{
    struct vfio_iommu_type1_info *info = calloc(1, sizeof(*info));
    const struct vfio_iommu_type1_info_cap_iova_range *r;
    uint32_t argsz = sizeof(*info);
    bool inside = false;

    if (!info) {
        fail("calloc");
    }
    info->argsz = argsz;
    xioctl(container, VFIO_IOMMU_GET_INFO, info, "IOMMU_GET_INFO");
    if (info->argsz > argsz) {
        argsz = info->argsz;
        free(info);
        /* the kernel's answer sizes the buffer, within reason */
        check(argsz <= 65536, "IOMMU_GET_INFO asks for %u bytes", argsz);
        info = calloc(1, argsz);
        if (!info) {
            fail("calloc");
        }
        info->argsz = argsz;
        xioctl(container, VFIO_IOMMU_GET_INFO, info, "IOMMU_GET_INFO (caps)");
    }
    check((info->flags & VFIO_IOMMU_INFO_PGSIZES) &&
          (info->iova_pgsizes & PAGE),
          "IOMMU_GET_INFO: page sizes 0x%llx",
          (unsigned long long)info->iova_pgsizes);
    r = (const void *)find_cap(info, info->cap_offset, argsz,
                               VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
    check(r && r->nr_iovas > 0, "IOMMU_GET_INFO: IOVA range capability");
    for (uint32_t i = 0; i < r->nr_iovas; i++) {
        if ((const uint8_t *)&r->iova_ranges[i + 1] >
            (const uint8_t *)info + argsz) {
            break;
        }
        if (r->iova_ranges[i].start <= iova &&
            iova + len - 1 <= r->iova_ranges[i].end) {
            inside = true;
        }
    }
    check(inside, "IOVA 0x%llx is in one of %u usable ranges",
          (unsigned long long)iova, r->nr_iovas);
    free(info);
}

static void legacy_flow(const char *bdf)
{
    struct vfio_group_status gs = { .argsz = sizeof(gs) };
    struct vfio_device_info di = { .argsz = sizeof(di) };
    struct vfio_iommu_type1_dma_map map = {
        .argsz = sizeof(map), .vaddr = 0, .iova = IOVA, .size = 4 * PAGE,
        .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
    };
    struct vfio_iommu_type1_dma_unmap unmap = {
        .argsz = sizeof(unmap), .iova = IOVA, .size = 4 * PAGE,
    };
    int32_t efd[2];
    char path[64];
    uint8_t *buf, before[64];
    uint32_t st;
    int fds = count_fds();
    int container, group, gnum;
    Dev d = { 0 };

    printf("# legacy VFIO flow on %s\n", bdf);
    container = xopen("/dev/vfio/vfio");
    check(ioctl(container, VFIO_GET_API_VERSION) == VFIO_API_VERSION,
          "VFIO_GET_API_VERSION");
    check(ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) == 1,
          "VFIO_CHECK_EXTENSION(TYPE1v2)");
    {
        /* copies made with dup() and fcntl(F_DUPFD_CLOEXEC) are served too */
        int c2 = dup(container);
        int c3 = fcntl(container, F_DUPFD_CLOEXEC, 100);

        check(c2 >= 0 && c3 >= 100 &&
              ioctl(c2, VFIO_GET_API_VERSION) == VFIO_API_VERSION &&
              ioctl(c3, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) == 1,
              "dup() and fcntl(F_DUPFD_CLOEXEC) copies of the container");
        check((fcntl(c3, F_GETFD) & FD_CLOEXEC) != 0, "the copy is CLOEXEC");
        xclose(c2, "container copy");
        xclose(c3, "container copy");
    }

    gnum = find_group(bdf);
    snprintf(path, sizeof(path), "/dev/vfio/%d", gnum);
    group = xopen(path);
    xioctl(group, VFIO_GROUP_GET_STATUS, &gs, "GROUP_GET_STATUS");
    check(gs.flags == VFIO_GROUP_FLAGS_VIABLE, "group %d is viable", gnum);
    xioctl(group, VFIO_GROUP_SET_CONTAINER, &container, "SET_CONTAINER");
    xioctl(container, VFIO_SET_IOMMU, (void *)(uintptr_t)VFIO_TYPE1v2_IOMMU,
           "SET_IOMMU(TYPE1v2)");
    xioctl(group, VFIO_GROUP_GET_STATUS, &gs, "GROUP_GET_STATUS");
    check(gs.flags & VFIO_GROUP_FLAGS_CONTAINER_SET,
          "group in the container, type1v2 set");
    type1_iova_ok(container, IOVA, 4 * PAGE);

    buf = mem_alloc(4 * PAGE);
    map.vaddr = (uintptr_t)buf;
    xioctl(container, VFIO_IOMMU_MAP_DMA, &map, "MAP_DMA");
    check(ioctl(container, VFIO_IOMMU_MAP_DMA, &map) < 0 && errno == EEXIST,
          "MAP_DMA 4 pages at IOVA 0x%llx (again: EEXIST)",
          (unsigned long long)IOVA);

    d.fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
    if (d.fd < 0) {
        fail("GROUP_GET_DEVICE_FD %s", bdf);
    }
    xioctl(d.fd, VFIO_DEVICE_GET_INFO, &di, "DEVICE_GET_INFO");
    check((di.flags & VFIO_DEVICE_FLAGS_PCI) &&
          di.num_regions >= VFIO_PCI_NUM_REGIONS &&
          di.num_irqs >= VFIO_PCI_NUM_IRQS,
          "device fd: PCI, %u regions, %u IRQ indexes", di.num_regions,
          di.num_irqs);
    dev_regions(&d);
    check(d.size[CFG] >= 256 && d.size[SIM_DMA_BAR_REGS] >= SIM_DMA_REGS_SIZE
          && d.size[SIM_DMA_BAR_MSIX] >= SIM_DMA_MSIX_BAR_SIZE,
          "regions: config %llu, BAR0 %llu, MSI-X BAR %llu bytes",
          (unsigned long long)d.size[CFG],
          (unsigned long long)d.size[SIM_DMA_BAR_REGS],
          (unsigned long long)d.size[SIM_DMA_BAR_MSIX]);
    dev_identify(&d, bdf);
    dev_bus_master(&d);

    efd[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    efd[1] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd[0] < 0 || efd[1] < 0) {
        fail("eventfd");
    }
    dev_msix(&d, efd, 2);
    /* the MSI-X table, mapped: the host programmed an x86 MSI address */
    {
        void *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, d.fd,
                       d.off[SIM_DMA_BAR_MSIX]);
        uint32_t addr;

        if (p == MAP_FAILED) {
            fail("mmap of the MSI-X BAR");
        }
        addr = ((volatile uint32_t *)p)[SIM_DMA_MSIX_TABLE / 4];
        check((addr & 0xfff00000) == 0xfee00000,
              "mmap of the MSI-X BAR: vector 0 address 0x%08x", addr);
        if (munmap(p, PAGE) < 0) {
            fail("munmap of the MSI-X BAR");
        }
    }

    /* IOVA -> IOVA: the bytes land in this program's buffer */
    fill(buf, PAGE, 1);
    st = dev_dma(&d, SIM_DMA_OP_COPY, IOVA + 16, IOVA + PAGE + 32, 1000);
    check(st == SIM_DMA_STATUS_DONE && !memcmp(buf + PAGE + 32, buf + 16, 1000)
          && buf[PAGE + 31] == 0 && buf[PAGE + 1032] == 0,
          "DMA copy IOVA->IOVA: 1000 bytes in the buffer (status 0x%x)", st);
    check(efd_take(efd[0]) == 1 && efd_take(efd[1]) == 0,
          "completion MSI-X vector 0 signalled the eventfd once");
    /* IOVA -> the device's buffer -> IOVA */
    st = dev_dma(&d, SIM_DMA_OP_TO_BUFFER, IOVA + 100, 0, 64);
    check(st == SIM_DMA_STATUS_DONE, "DMA read into the device buffer");
    st = dev_dma(&d, SIM_DMA_OP_FROM_BUFFER, 0, IOVA + 2 * PAGE, 64);
    check(st == SIM_DMA_STATUS_DONE && !memcmp(buf + 2 * PAGE, buf + 100, 64),
          "DMA write from the device buffer lands in the buffer");
    check(efd_take(efd[0]) == 2, "two more completion interrupts");

    /* unmapped: the IOMMU refuses, the error vector fires */
    xioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap, "UNMAP_DMA");
    check(unmap.size == 4 * PAGE, "UNMAP_DMA removed %llu bytes",
          (unsigned long long)unmap.size);
    memcpy(before, buf + 3 * PAGE, sizeof(before));
    wr(&d, SIM_DMA_BAR_REGS, SIM_DMA_REG_STATUS, 4, SIM_DMA_STATUS_ERROR);
    wr(&d, SIM_DMA_BAR_REGS, SIM_DMA_REG_SRC, 8, 0);
    wr(&d, SIM_DMA_BAR_REGS, SIM_DMA_REG_DST, 8, IOVA + 3 * PAGE);
    wr(&d, SIM_DMA_BAR_REGS, SIM_DMA_REG_LEN, 4, 64);
    wr(&d, SIM_DMA_BAR_REGS, SIM_DMA_REG_CMD, 4,
       SIM_DMA_CMD_START | SIM_DMA_OP_FROM_BUFFER);
    st = rd(&d, SIM_DMA_BAR_REGS, SIM_DMA_REG_STATUS, 4);
    check((st & SIM_DMA_STATUS_ERROR) && status_err(st) == SIM_DMA_ERR_FAULT &&
          rd(&d, SIM_DMA_BAR_REGS, SIM_DMA_REG_FAULT_IOVA, 8) ==
          IOVA + 3 * PAGE && !memcmp(before, buf + 3 * PAGE, sizeof(before)),
          "DMA after UNMAP_DMA faults (status 0x%x), buffer untouched", st);
    check(efd_take(efd[1]) == 1 && efd_take(efd[0]) == 0,
          "error MSI-X vector 1 signalled");

    dev_msix_off(&d);
    xclose(d.fd, "device fd");
    xioctl(group, VFIO_GROUP_UNSET_CONTAINER, NULL, "UNSET_CONTAINER");
    xclose(group, "group");
    xclose(container, "container");
    close(efd[0]);
    close(efd[1]);
    munmap(buf, 4 * PAGE);
    check(count_fds() == fds, "legacy flow closed every fd it opened");
    /* the group was released: it opens again (one opener at a time) */
    group = xopen(path);
    /* an fd dup2()ed over the group fd closes it: the group is free again */
    container = xopen("/dev/null");
    check(dup2(container, group) == group, "dup2 over the group fd");
    xclose(group, "/dev/null copy");
    xclose(container, "/dev/null");
    group = xopen(path);
    check(group >= 0, "group opens again after dup2 replaced its fd");
    xclose(group, "group");
}

/* ---- iommufd: cdev, IOAS, HWPTs, nesting --------------------------------- */

/*
 * Guest memory at GPA_BASE (mapped in the IOAS): a 4-level first-stage
 * table at +0 (PML4, PDPT, PD, PT), then pages A +0x4000, B +0x5000,
 * S +0x6000, T +0x7000.  Stage 1 maps S1_IOVA -> A (later B) and
 * S1_IOVA + 0x1000 -> S (VT-d first-stage entries: P, R/W, U/S, A, D).
 */
#define GPA_BASE    0x200000ull
#define GPA_SIZE    0x10000ull
#define S1_IOVA     0x40000000ull
#define PTE_P       (1ull << 0)
#define PTE_RW      (1ull << 1)
#define PTE_US      (1ull << 2)
#define PTE_A       (1ull << 5)
#define PTE_D       (1ull << 6)
#define PTE_DIR     (PTE_P | PTE_RW | PTE_US | PTE_A)
#define PTE_LEAF    (PTE_DIR | PTE_D)
#define VTD_ECAP_NEST (1ull << 26)

static void s1_build(uint8_t *gmem)
{
    uint64_t *pml4 = (uint64_t *)gmem;
    uint64_t *pdpt = (uint64_t *)(gmem + 0x1000);
    uint64_t *pd = (uint64_t *)(gmem + 0x2000);
    uint64_t *pt = (uint64_t *)(gmem + 0x3000);

    pml4[(S1_IOVA >> 39) & 511] = (GPA_BASE + 0x1000) | PTE_DIR;
    pdpt[(S1_IOVA >> 30) & 511] = (GPA_BASE + 0x2000) | PTE_DIR;
    pd[(S1_IOVA >> 21) & 511] = (GPA_BASE + 0x3000) | PTE_DIR;
    pt[(S1_IOVA >> 12) & 511] = (GPA_BASE + 0x4000) | PTE_LEAF;
    pt[((S1_IOVA >> 12) & 511) + 1] = (GPA_BASE + 0x6000) | PTE_LEAF;
}

static uint32_t hwpt_alloc(int ifd, uint32_t flags, uint32_t devid,
                           uint32_t pt, uint32_t type, void *data,
                           uint32_t len, const char *what)
{
    struct iommu_hwpt_alloc a = {
        .size = sizeof(a), .flags = flags, .dev_id = devid, .pt_id = pt,
        .data_type = type, .data_len = len, .data_uptr = (uintptr_t)data,
    };

    xioctl(ifd, IOMMU_HWPT_ALLOC, &a, what);
    check(a.out_hwpt_id != 0, "%s: HWPT %u", what, a.out_hwpt_id);
    return a.out_hwpt_id;
}

static void attach(int cdev, uint32_t pt)
{
    struct vfio_device_attach_iommufd_pt a = {
        .argsz = sizeof(a), .pt_id = pt,
    };

    xioctl(cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a, "ATTACH_IOMMUFD_PT");
    check(a.pt_id == pt, "ATTACH_IOMMUFD_PT to HWPT %u", pt);
}

static void destroy(int ifd, uint32_t id)
{
    struct iommu_destroy d = { .size = sizeof(d), .id = id };

    xioctl(ifd, IOMMU_DESTROY, &d, "IOMMU_DESTROY");
}

/* The VT-d CAP register as sysfs shows it: <dev>/iommu/intel-iommu/cap. */
static uint64_t sysfs_vtd_cap(const char *bdf)
{
    char path[256], text[64];

    snprintf(path, sizeof(path), SYSDEV "%s/iommu/intel-iommu/cap", bdf);
    read_line(path, text, sizeof(text));
    return strtoull(text, NULL, 16);
}

static void iommufd_flow(const char *bdf)
{
    struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
    struct vfio_device_detach_iommufd_pt det = { .argsz = sizeof(det) };
    struct iommu_ioas_alloc ia = { .size = sizeof(ia) };
    struct iommu_hw_info_vtd vtd = { 0 };
    struct iommu_hw_info hi = { .size = sizeof(hi) };
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = GPA_BASE, .addr_width = 48 };
    struct iommu_hwpt_vtd_s1_invalidate inv_e = { .addr = S1_IOVA,
                                                  .npages = 1 };
    struct iommu_hwpt_invalidate inv = {
        .size = sizeof(inv), .data_uptr = (uintptr_t)&inv_e,
        .data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
        .entry_len = sizeof(inv_e), .entry_num = 1,
    };
    struct iommu_ioas_map map = {
        .size = sizeof(map),
        .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
                 IOMMU_IOAS_MAP_WRITEABLE,
        .length = GPA_SIZE, .iova = GPA_BASE,
    };
    uint64_t *pt;
    int32_t efd[2];
    char node[128];
    uint8_t *g;
    uint32_t ioas, parent, nested, st;
    int fds = count_fds();
    int ifd;
    Dev d = { 0 };

    printf("# iommufd flow on %s\n", bdf);
    find_cdev(bdf, node, sizeof(node));
    d.fd = xopen(node);
    ifd = xopen("/dev/iommu");
    bind.iommufd = ifd;
    xioctl(d.fd, VFIO_DEVICE_BIND_IOMMUFD, &bind, "BIND_IOMMUFD");
    check(bind.out_devid != 0, "BIND_IOMMUFD: device object %u",
          bind.out_devid);
    xioctl(ifd, IOMMU_IOAS_ALLOC, &ia, "IOAS_ALLOC");
    ioas = ia.out_ioas_id;
    check(ioas != 0, "IOAS_ALLOC: IOAS %u", ioas);

    hi.dev_id = bind.out_devid;
    hi.data_len = sizeof(vtd);
    hi.data_uptr = (uintptr_t)&vtd;
    xioctl(ifd, IOMMU_GET_HW_INFO, &hi, "GET_HW_INFO");
    check(hi.out_data_type == IOMMU_HW_INFO_TYPE_INTEL_VTD &&
          (vtd.ecap_reg & VTD_ECAP_NEST),
          "GET_HW_INFO: VT-d, cap 0x%llx ecap 0x%llx (nesting)",
          (unsigned long long)vtd.cap_reg, (unsigned long long)vtd.ecap_reg);
    check(sysfs_vtd_cap(bdf) == vtd.cap_reg,
          "sysfs intel-iommu/cap agrees with GET_HW_INFO");

    parent = hwpt_alloc(ifd, IOMMU_HWPT_ALLOC_NEST_PARENT, bind.out_devid,
                        ioas, IOMMU_HWPT_DATA_NONE, NULL, 0,
                        "HWPT_ALLOC(NEST_PARENT)");
    attach(d.fd, parent);
    dev_regions(&d);
    dev_identify(&d, bdf);
    dev_bus_master(&d);
    efd[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    efd[1] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd[0] < 0 || efd[1] < 0) {
        fail("eventfd");
    }
    dev_msix(&d, efd, 2);

    g = mem_alloc(GPA_SIZE);
    map.user_va = (uintptr_t)g;
    map.ioas_id = ioas;
    xioctl(ifd, IOMMU_IOAS_MAP, &map, "IOAS_MAP");
    check(map.iova == GPA_BASE, "IOAS_MAP 64 KiB of guest memory at 0x%llx",
          (unsigned long long)GPA_BASE);

    /* stage 2 only */
    fill(g + 0x6000, 256, 7);
    st = dev_dma(&d, SIM_DMA_OP_COPY, GPA_BASE + 0x6000, GPA_BASE + 0x7000,
                 256);
    check(st == SIM_DMA_STATUS_DONE && !memcmp(g + 0x7000, g + 0x6000, 256),
          "DMA through the nest parent (stage 2) lands in memory");
    check(efd_take(efd[0]) == 1, "completion interrupt through the eventfd");

    /* stage 1 on top */
    s1_build(g);
    nested = hwpt_alloc(ifd, 0, bind.out_devid, parent, IOMMU_HWPT_DATA_VTD_S1,
                        &s1, sizeof(s1), "HWPT_ALLOC(VTD_S1 nested)");
    attach(d.fd, nested);
    pt = (uint64_t *)(g + 0x3000);
    memset(g + 0x6000, 0x11, 64);
    st = dev_dma(&d, SIM_DMA_OP_COPY, S1_IOVA + 0x1000, S1_IOVA, 64);
    check(st == SIM_DMA_STATUS_DONE && g[0x4000] == 0x11 && g[0x403f] == 0x11,
          "DMA through stage 1 + stage 2: IOVA 0x%llx -> page A",
          (unsigned long long)S1_IOVA);

    /* retarget the leaf to page B: stale until invalidated */
    pt[(S1_IOVA >> 12) & 511] = (GPA_BASE + 0x5000) | PTE_LEAF;
    memset(g + 0x6000, 0x22, 64);
    st = dev_dma(&d, SIM_DMA_OP_COPY, S1_IOVA + 0x1000, S1_IOVA, 64);
    check(st == SIM_DMA_STATUS_DONE && g[0x4000] == 0x22 && g[0x5000] == 0,
          "edited stage-1 leaf: the device still uses the old translation");
    inv.hwpt_id = nested;
    xioctl(ifd, IOMMU_HWPT_INVALIDATE, &inv, "HWPT_INVALIDATE");
    check(inv.entry_num == 1, "HWPT_INVALIDATE handled 1 VT-d S1 entry");
    memset(g + 0x6000, 0x33, 64);
    st = dev_dma(&d, SIM_DMA_OP_COPY, S1_IOVA + 0x1000, S1_IOVA, 64);
    check(st == SIM_DMA_STATUS_DONE && g[0x5000] == 0x33 && g[0x4000] == 0x22,
          "after invalidation the new translation: page B written");
    check(efd_take(efd[0]) == 3 && efd_take(efd[1]) == 0,
          "three completion interrupts, no error interrupt");

    /* detached: blocked */
    xioctl(d.fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &det, "DETACH_IOMMUFD_PT");
    memset(g + 0x6000, 0x44, 64);
    st = dev_dma(&d, SIM_DMA_OP_COPY, S1_IOVA + 0x1000, S1_IOVA, 64);
    check(status_err(st) == SIM_DMA_ERR_FAULT && g[0x5000] == 0x33,
          "after DETACH the device's DMA is blocked (status 0x%x)", st);
    check(efd_take(efd[1]) == 1, "error interrupt through the eventfd");

    dev_msix_off(&d);
    destroy(ifd, nested);
    destroy(ifd, parent);
    destroy(ifd, ioas);
    {
        struct iommu_destroy again = { .size = sizeof(again), .id = ioas };

        check(ioctl(ifd, IOMMU_DESTROY, &again) < 0 && errno == ENOENT,
              "IOMMU_DESTROY nested HWPT, parent HWPT, IOAS (again: ENOENT)");
    }
    xclose(d.fd, "cdev");
    xclose(ifd, "/dev/iommu");
    close(efd[0]);
    close(efd[1]);
    munmap(g, GPA_SIZE);
    check(count_fds() == fds, "iommufd flow closed every fd it opened");
    /* the binding went with the cdev: it binds again */
    d.fd = xopen(node);
    ifd = xopen("/dev/iommu");
    bind.iommufd = ifd;
    xioctl(d.fd, VFIO_DEVICE_BIND_IOMMUFD, &bind, "BIND_IOMMUFD again");
    xclose(d.fd, "cdev");
    xclose(ifd, "/dev/iommu");
    check(true, "after close the device binds to a new iommufd");
}

int main(int argc, char **argv)
{
    const char *bdf = "0000:02:00.0";
    const char *which = "all";
    char path[256];
    struct stat st;
    int opt;

    setvbuf(stdout, NULL, _IOLBF, 0);
    while ((opt = getopt(argc, argv, "d:")) != -1) {
        if (opt == 'd') {
            bdf = optarg;
        } else {
            fprintf(stderr, "usage: %s [-d BDF] [legacy|iommufd|all]\n",
                    argv[0]);
            return 2;
        }
    }
    if (optind < argc) {
        which = argv[optind];
    }
    if (strcmp(which, "legacy") && strcmp(which, "iommufd") &&
        strcmp(which, "all")) {
        fprintf(stderr, "%s: unknown flow '%s' (legacy, iommufd or all)\n",
                argv[0], which);
        return 2;
    }

    if (stat("/dev/vfio/vfio", &st) < 0) {
        printf("1..0 # SKIP no /dev/vfio/vfio: this machine has no VFIO "
               "(run under libviommu-sim-preload.so with VIOMMU_SIM set)\n");
        fprintf(stderr, "vfio-user-flow: no /dev/vfio/vfio: %s\n",
                strerror(errno));
        return 77;
    }
    snprintf(path, sizeof(path), SYSDEV "%s", bdf);
    if (stat(path, &st) < 0) {
        printf("1..0 # SKIP no PCI device %s\n", bdf);
        fprintf(stderr, "vfio-user-flow: no %s: %s\n", path, strerror(errno));
        return 77;
    }

    discover_by_listing(bdf);
    if (strcmp(which, "iommufd")) {
        legacy_flow(bdf);
    }
    if (strcmp(which, "legacy")) {
        if (stat("/dev/iommu", &st) < 0) {
            printf("ok %u - iommufd flow # SKIP no /dev/iommu\n", ++n_tests);
        } else {
            iommufd_flow(bdf);
        }
    }
    printf("1..%u\n", n_tests);
    return 0;
}
