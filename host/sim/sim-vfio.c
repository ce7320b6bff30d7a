/*
 * Legacy VFIO of the simulated host: the container (/dev/vfio/vfio), IOMMU
 * groups (/dev/vfio/<N>) and the type1 IOMMU backend with its mappings
 * (uapi_facts.md §4.1, §4.2, §4.4; the kernel's vfio container/group code
 * and vfio_iommu_type1 are the behaviour followed, errno for errno).
 *
 * Ownership: a group in a container is claimed for DMA by that container
 * (sim_group_claim), which excludes iommufd binds of its devices and kernel
 * drivers, as the kernel's DMA-owner claim does.  While the container has
 * its IOMMU set, every device of its groups translates through the
 * container's mappings (SimDevice.legacy_s2).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "sim-internal.h"

/*
 * One open of /dev/vfio/vfio.  refs = the open file + one per attached
 * group; freed at 0.  The IOMMU (SET_IOMMU) exists while at least one group
 * is attached: detaching the last group drops it with every mapping, as
 * the kernel releases the iommu driver data.
 */
struct SimContainer {
    SimHost *host;
    unsigned refs;
    GList *groups;          /* SimVfioGroup *, attached */
    int iommu_type;         /* 0: none; VFIO_TYPE1_IOMMU or TYPE1v2 */
    SimItree areas;         /* SimArea, disjoint: the type1 mappings */
    uint32_t n_areas;       /* bounded by desc.dma_entry_limit (ENOSPC) */
};

/* ---- containers --------------------------------------------------------- */

static void container_drop_mappings(SimContainer *c)
{
    SimItreeNode *n;

    while ((n = sim_itree_first(&c->areas))) {
        sim_itree_remove(&c->areas, n);
        sim_area_free(SIM_CONTAINER_OF(n, SimArea, node));
    }
    c->n_areas = 0;
}

static void container_put(SimContainer *c)
{
    if (--c->refs) {
        return;
    }
    g_assert(!c->groups);
    container_drop_mappings(c);
    g_free(c);
}

/* Point every device of @vg's group at the container's mappings, or not. */
static void group_set_s2(SimVfioGroup *vg, const SimItree *s2)
{
    GPtrArray *devs = vg->group->devices;

    for (unsigned i = 0; i < devs->len; i++) {
        ((SimDevice *)g_ptr_array_index(devs, i))->legacy_s2 = s2;
    }
}

const SimItree *sim_vfio_group_s2(SimGroup *group)
{
    SimVfioGroup *vg = group->vfio;

    return vg && vg->container && vg->container->iommu_type
           ? &vg->container->areas : NULL;
}

static int container_attach_group(SimContainer *c, SimVfioGroup *vg)
{
    int r = sim_group_claim(vg->group, c);

    if (r) {
        return r;
    }
    c->groups = g_list_append(c->groups, vg);
    c->refs++;
    vg->container = c;
    if (c->iommu_type) {
        group_set_s2(vg, &c->areas);
    }
    return 0;
}

static void container_detach_group(SimVfioGroup *vg)
{
    SimContainer *c = vg->container;

    group_set_s2(vg, NULL);
    sim_group_unclaim(vg->group, c);
    c->groups = g_list_remove(c->groups, vg);
    vg->container = NULL;
    if (!c->groups) {
        container_drop_mappings(c);     /* the IOMMU leaves with it */
        c->iommu_type = 0;
    }
    container_put(c);
}

/* ---- type1: IOVA ranges ------------------------------------------------- */

/*
 * The usable IOVA ranges, sorted: the aperture [0, 2^aw - 1] minus the
 * reserved regions every device of the host has (the MSI window on x86).
 * @out holds SIM_MAX_RESERVED + 1 entries: each region splits one at most.
 */
static unsigned iova_ranges(const SimHost *host, SimIovaRange *out)
{
    SimIovaRange tmp[SIM_MAX_RESERVED + 1];
    unsigned n = 1;

    out[0].start = 0;
    out[0].last = (1ull << host->desc.aw_bits) - 1;     /* aw <= 57 */
    for (unsigned i = 0; i < host->desc.n_reserved; i++) {
        const SimIovaRange *r = &host->desc.reserved[i];
        unsigned m = 0;

        for (unsigned j = 0; j < n; j++) {
            SimIovaRange cur = out[j];

            if (r->last < cur.start || r->start > cur.last) {
                tmp[m++] = cur;
                continue;
            }
            if (cur.start < r->start) {
                tmp[m++] = (SimIovaRange){ cur.start, r->start - 1 };
            }
            if (r->last < cur.last) {
                tmp[m++] = (SimIovaRange){ r->last + 1, cur.last };
            }
        }
        memcpy(out, tmp, m * sizeof(*out));
        n = m;
    }
    return n;
}

static bool iova_range_valid(const SimHost *host, uint64_t start,
                             uint64_t last)
{
    SimIovaRange r[SIM_MAX_RESERVED + 1];
    unsigned n = iova_ranges(host, r);

    for (unsigned i = 0; i < n; i++) {
        if (start >= r[i].start && last <= r[i].last) {
            return true;
        }
    }
    return false;
}

static uint64_t min_pgsize(const SimHost *host)
{
    return host->desc.pgsizes & -host->desc.pgsizes;
}

/* ---- type1: ioctls ------------------------------------------------------ */

static int type1_get_info(SimContainer *c, uint64_t uptr)
{
    const size_t minsz = SIM_OFFSETOFEND(struct vfio_iommu_type1_info,
                                         iova_pgsizes);
    const size_t capsz = SIM_OFFSETOFEND(struct vfio_iommu_type1_info,
                                         cap_offset);
    struct {
        struct vfio_iommu_type1_info_dma_avail avail;
        uint32_t pad;
        struct vfio_iommu_type1_info_cap_iova_range ranges;
        struct vfio_iova_range range[SIM_MAX_RESERVED + 1];
    } caps;
    SimIovaRange r[SIM_MAX_RESERVED + 1];
    struct vfio_iommu_type1_info info;
    unsigned n = iova_ranges(c->host, r);
    size_t caps_size = offsetof(typeof(caps), range) + n * sizeof(r[0]);
    size_t outsz = minsz;
    int ret = sim_copy_from_user(c->host, &info, uptr, minsz);

    if (ret) {
        return ret;
    }
    if (info.argsz < minsz) {
        return -EINVAL;
    }
    if (info.argsz >= capsz) {
        outsz = capsz;
        info.cap_offset = 0;
    }
    info.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
    info.iova_pgsizes = c->host->desc.pgsizes;

    /* chain: DMA_AVAIL, then IOVA_RANGE; `next` counts from the buffer */
    memset(&caps, 0, sizeof(caps));
    caps.avail.header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL;
    caps.avail.header.version = 1;
    caps.avail.header.next = sizeof(info) + offsetof(typeof(caps), ranges);
    caps.avail.avail = c->host->desc.dma_entry_limit - c->n_areas;
    caps.ranges.header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
    caps.ranges.header.version = 1;
    caps.ranges.nr_iovas = n;
    for (unsigned i = 0; i < n; i++) {
        caps.range[i].start = r[i].start;
        caps.range[i].end = r[i].last;
    }
    if (info.argsz < sizeof(info) + caps_size) {
        info.argsz = sizeof(info) + caps_size;
    } else {
        ret = sim_copy_to_user(c->host, uptr + sizeof(info), &caps,
                               caps_size);
        if (ret) {
            return ret;
        }
        info.cap_offset = sizeof(info);
    }
    return sim_copy_to_user(c->host, uptr, &info, outsz);
}

static int type1_map(SimContainer *c, uint64_t uptr)
{
    const size_t minsz = SIM_OFFSETOFEND(struct vfio_iommu_type1_dma_map,
                                         size);
    const uint32_t rw = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
    struct vfio_iommu_type1_dma_map map;
    uint64_t mask = min_pgsize(c->host) - 1, last;
    SimArea *area;
    int prot = 0;
    int r = sim_copy_from_user(c->host, &map, uptr, minsz);

    if (r) {
        return r;
    }
    /* VADDR (UPDATE_VADDR) is not offered: CHECK_EXTENSION says 0 */
    if (map.argsz < minsz || (map.flags & ~rw) || !(map.flags & rw)) {
        return -EINVAL;
    }
    prot |= (map.flags & VFIO_DMA_MAP_FLAG_READ) ? SIM_PROT_READ : 0;
    prot |= (map.flags & VFIO_DMA_MAP_FLAG_WRITE) ? SIM_PROT_WRITE : 0;
    if (!map.size || ((map.size | map.iova | map.vaddr) & mask) ||
        map.iova + map.size - 1 < map.iova ||
        map.vaddr + map.size - 1 < map.vaddr) {
        return -EINVAL;
    }
    last = map.iova + map.size - 1;
    if (sim_itree_first_overlap(&c->areas, map.iova, last)) {
        return -EEXIST;
    }
    if (c->n_areas >= c->host->desc.dma_entry_limit) {
        return -ENOSPC;
    }
    if (!iova_range_valid(c->host, map.iova, last)) {
        return -EINVAL;
    }
    r = sim_user_range_check(map.vaddr, map.size);    /* pinning */
    if (r) {
        return r;
    }
    area = sim_area_new(map.iova, map.size, map.vaddr, prot, NULL);
    sim_itree_insert(&c->areas, &area->node);
    c->n_areas++;
    return 0;
}

/*
 * Which areas an unmap of [iova, last] removes.  v2 refuses to split a
 * mapping (EINVAL); v1 removes each mapping whose first IOVA is in the
 * range, whole, and stops at one that starts before it.
 */
static int type1_unmap_collect(SimContainer *c, uint64_t iova, uint64_t last,
                               GPtrArray *out)
{
    SimItreeNode *n;

    if (c->iommu_type == VFIO_TYPE1v2_IOMMU) {
        n = sim_itree_first_overlap(&c->areas, iova, iova);
        if (n && n->start != iova) {
            return -EINVAL;
        }
        n = sim_itree_first_overlap(&c->areas, last, last);
        if (n && n->last != last) {
            return -EINVAL;
        }
    }
    for (n = sim_itree_first_overlap(&c->areas, iova, last); n;
         n = sim_itree_next_overlap(n, iova, last)) {
        if (c->iommu_type == VFIO_TYPE1_IOMMU && n->start < iova) {
            break;
        }
        g_ptr_array_add(out, n);
    }
    return 0;
}

static int type1_unmap(SimContainer *c, uint64_t uptr)
{
    const size_t minsz = SIM_OFFSETOFEND(struct vfio_iommu_type1_dma_unmap,
                                         size);
    struct vfio_iommu_type1_dma_unmap unmap;
    uint64_t mask = min_pgsize(c->host) - 1, last, unmapped = 0;
    g_autoptr(GPtrArray) victims = NULL;
    int r = sim_copy_from_user(c->host, &unmap, uptr, minsz);

    if (r) {
        return r;
    }
    /* no dirty tracking started (GET_DIRTY_BITMAP) and no VADDR support */
    if (unmap.argsz < minsz || (unmap.flags & ~VFIO_DMA_UNMAP_FLAG_ALL)) {
        return -EINVAL;
    }
    if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
        if (unmap.iova || unmap.size) {
            return -EINVAL;
        }
        last = UINT64_MAX;
    } else {
        if (!unmap.size || ((unmap.size | unmap.iova) & mask) ||
            unmap.iova + unmap.size - 1 < unmap.iova) {
            return -EINVAL;
        }
        last = unmap.iova + unmap.size - 1;
    }
    victims = g_ptr_array_new();
    r = type1_unmap_collect(c, unmap.iova, last, victims);
    if (r) {
        return r;
    }
    for (unsigned i = 0; i < victims->len; i++) {
        SimItreeNode *n = g_ptr_array_index(victims, i);

        unmapped += n->last - n->start + 1;
        sim_itree_remove(&c->areas, n);
        sim_area_free(SIM_CONTAINER_OF(n, SimArea, node));
        c->n_areas--;
    }
    unmap.size = unmapped;
    return sim_copy_to_user(c->host, uptr, &unmap, minsz);
}

/* ---- container file ----------------------------------------------------- */

static int check_extension(SimContainer *c, unsigned long ext)
{
    switch (ext) {
    case VFIO_TYPE1_IOMMU:
    case VFIO_TYPE1v2_IOMMU:
    case VFIO_UNMAP_ALL:
        return 1;
    case VFIO_DMA_CC_IOMMU:
        return c->iommu_type ? 1 : 0;   /* needs a domain to ask */
    default:
        return 0;       /* SPAPR, NOIOMMU, UPDATE_VADDR, nesting */
    }
}

static int set_iommu(SimContainer *c, unsigned long type)
{
    if (!c->groups || c->iommu_type) {
        return -EINVAL;
    }
    if (type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU) {
        return -ENODEV;     /* no backend offers it */
    }
    c->iommu_type = type;
    for (GList *l = c->groups; l; l = l->next) {
        group_set_s2(l->data, &c->areas);
    }
    return 0;
}

static int container_open(SimFile *f)
{
    SimContainer *c = g_new0(SimContainer, 1);

    c->host = f->host;
    c->refs = 1;
    sim_itree_init(&c->areas);
    f->priv = c;
    return 0;
}

static void container_release(SimFile *f)
{
    if (f->priv) {
        container_put(f->priv);
    }
}

static int container_ioctl(SimFile *f, unsigned long request, void *arg)
{
    SimContainer *c = f->priv;
    uint64_t uptr = (uintptr_t)arg;

    switch (request) {
    case VFIO_GET_API_VERSION:
        return VFIO_API_VERSION;
    case VFIO_CHECK_EXTENSION:
        return check_extension(c, uptr);
    case VFIO_SET_IOMMU:
        return set_iommu(c, uptr);
    }
    if (!c->iommu_type) {
        return -EINVAL;     /* nothing to pass the ioctl to */
    }
    switch (request) {
    case VFIO_IOMMU_GET_INFO:
        return type1_get_info(c, uptr);
    case VFIO_IOMMU_MAP_DMA:
        return type1_map(c, uptr);
    case VFIO_IOMMU_UNMAP_DMA:
        return type1_unmap(c, uptr);
    default:
        return -ENOTTY;
    }
}

const SimFileOps sim_vfio_container_fops = {
    .name = "vfio-container",
    .open = container_open,
    .release = container_release,
    .ioctl = container_ioctl,
};

/* ---- group file --------------------------------------------------------- */

static bool group_has_vfio_device(SimGroup *group, bool cdev_bound)
{
    for (unsigned i = 0; i < group->devices->len; i++) {
        SimVfioDev *vd = ((SimDevice *)g_ptr_array_index(group->devices,
                                                         i))->vfio;

        if (vd && (cdev_bound ? vd->cdev_bound
                              : !strcmp(vd->driver, "vfio-pci"))) {
            return true;
        }
    }
    return false;
}

void sim_vfio_group_put(SimVfioGroup *vg)
{
    if (--vg->refs) {
        return;
    }
    if (vg->container) {
        container_detach_group(vg);
    }
    vg->group->vfio = NULL;
    g_free(vg);
}

static int group_open(SimFile *f)
{
    SimGroup *group = f->node ? f->node->priv : NULL;
    SimVfioGroup *vg;

    if (!group || !group_has_vfio_device(group, false)) {
        return -ENODEV;
    }
    /* one opener at a time; not while a device is bound through its cdev */
    if (group->vfio || group_has_vfio_device(group, true)) {
        return -EBUSY;
    }
    vg = g_new0(SimVfioGroup, 1);
    vg->group = group;
    vg->refs = 1;
    group->vfio = vg;
    f->priv = vg;
    return 0;
}

static void group_release(SimFile *f)
{
    if (f->priv) {
        sim_vfio_group_put(f->priv);
    }
}

static int group_get_status(SimVfioGroup *vg, uint64_t uptr)
{
    struct vfio_group_status st;
    int r = sim_copy_from_user(vg->group->host, &st, uptr, sizeof(st));

    if (r) {
        return r;
    }
    if (st.argsz < sizeof(st)) {
        return -EINVAL;
    }
    st.flags = 0;
    if (vg->container) {
        st.flags = VFIO_GROUP_FLAGS_CONTAINER_SET | VFIO_GROUP_FLAGS_VIABLE;
    } else if (!vg->group->owner) {
        st.flags = VFIO_GROUP_FLAGS_VIABLE;
    }
    return sim_copy_to_user(vg->group->host, uptr, &st, sizeof(st));
}

static int group_set_container(SimVfioGroup *vg, uint64_t uptr)
{
    SimHost *host = vg->group->host;
    int32_t fd;
    SimFile *cf;
    int r = sim_copy_from_user(host, &fd, uptr, sizeof(fd));

    if (r) {
        return r;
    }
    if (fd < 0 || fcntl(fd, F_GETFD) < 0) {
        return -EBADF;
    }
    if (vg->container) {
        return -EINVAL;
    }
    cf = sim_file_from_fd(host, fd);
    if (!cf || cf->ops != &sim_vfio_container_fops) {
        return -EBADFD;     /* an iommufd as container is not simulated */
    }
    return container_attach_group(cf->priv, vg);
}

/* VFIO_GROUP_GET_DEVICE_FD: "<bdf>", nothing after it but options. */
static int group_get_device_fd(SimVfioGroup *vg, uint64_t uptr)
{
    SimHost *host = vg->group->host;
    GPtrArray *devs = vg->group->devices;
    char name[SIM_PAGE_SIZE];
    size_t len = 0;

    /* strndup_user(arg, PAGE_SIZE): page by page, up to the NUL */
    while (len < sizeof(name)) {
        uint64_t in_page = (uptr + len) & (SIM_PAGE_SIZE - 1);
        size_t chunk = MIN(sizeof(name) - len, SIM_PAGE_SIZE - in_page);
        int r = sim_copy_from_user(host, name + len, uptr + len, chunk);

        if (r) {
            return r;
        }
        if (memchr(name + len, '\0', chunk)) {
            break;
        }
        len += chunk;
    }
    if (len == sizeof(name)) {
        return -EINVAL;
    }
    for (unsigned i = 0; i < devs->len; i++) {
        SimDevice *dev = g_ptr_array_index(devs, i);
        size_t n = strlen(dev->desc.bdf);

        if (strcmp(((SimVfioDev *)dev->vfio)->driver, "vfio-pci") ||
            strncmp(name, dev->desc.bdf, n) ||
            (name[n] && name[n] != ' ')) {
            continue;
        }
        if (name[n]) {
            return -EINVAL;     /* vf_token=: this device is no VF */
        }
        if (!vg->container || !vg->container->iommu_type) {
            return -EINVAL;
        }
        return sim_vfio_device_open_from_group(dev, vg);
    }
    return -ENODEV;
}

static int group_ioctl(SimFile *f, unsigned long request, void *arg)
{
    SimVfioGroup *vg = f->priv;
    uint64_t uptr = (uintptr_t)arg;

    switch (request) {
    case VFIO_GROUP_GET_STATUS:
        return group_get_status(vg, uptr);
    case VFIO_GROUP_SET_CONTAINER:
        return group_set_container(vg, uptr);
    case VFIO_GROUP_UNSET_CONTAINER:
        if (!vg->container) {
            return -EINVAL;
        }
        if (vg->device_fds) {
            return -EBUSY;
        }
        container_detach_group(vg);
        return 0;
    case VFIO_GROUP_GET_DEVICE_FD:
        return group_get_device_fd(vg, uptr);
    default:
        return -ENOTTY;
    }
}

const SimFileOps sim_vfio_group_fops = {
    .name = "vfio-group",
    .open = group_open,
    .release = group_release,
    .ioctl = group_ioctl,
};

/* ---- host --------------------------------------------------------------- */

int sim_vfio_host_init(SimHost *host)
{
    host->vfio = g_new0(SimVfioHost, 1);
    return 0;
}

void sim_vfio_host_fini(SimHost *host)
{
    g_free(host->vfio);
    host->vfio = NULL;
}
