/*
 * /dev/iommu: the iommufd context of each open, ioctl dispatch with the
 * kernel's extensible-struct rules (uapi_facts.md §1.1), IOMMU_DESTROY, and
 * the device bind/attach/detach paths used by the VFIO cdev ioctls.
 */
#include <errno.h>
#include <string.h>

#include "sim-internal.h"

#define OFFSETOFEND(type, field) \
    (offsetof(type, field) + sizeof(((type *)0)->field))

/* ---- context ------------------------------------------------------------ */

static SimIommufdCtx *ctx_new(SimHost *host)
{
    SimIommufdCtx *ictx = g_new0(SimIommufdCtx, 1);

    ictx->host = host;
    ictx->refs = 1;
    sim_idt_init(&ictx->objs);
    return ictx;
}

/*
 * Destroy every object.  No device is bound any more (each holds a context
 * reference), so every remaining `users` reference comes from another
 * object: destroying unused ones repeatedly empties the table.
 */
static void ctx_put(SimIommufdCtx *ictx)
{
    if (--ictx->refs) {
        return;
    }
    ictx->vfio_ioas = NULL;
    while (ictx->objs.count) {
        bool progress = false;

        for (uint32_t id = 1; id < ictx->objs.size; id++) {
            SimObj *obj = ictx->objs.slot[id];

            if (obj && !obj->users) {
                sim_obj_destroy(obj);
                progress = true;
            }
        }
        g_assert(progress);
    }
    sim_idt_fini(&ictx->objs);
    g_free(ictx);
}

static int iommufd_open(SimFile *f)
{
    f->priv = ctx_new(f->host);
    return 0;
}

static void iommufd_release(SimFile *f)
{
    ctx_put(f->priv);
}

SimIommufdCtx *sim_iommufd_from_file(SimFile *f)
{
    return f && f->ops == &sim_iommufd_fops ? f->priv : NULL;
}

int sim_ucmd_respond(SimUcmd *u, size_t ksize)
{
    return sim_copy_to_user(u->ictx->host, u->uptr, u->cmd,
                            MIN((size_t)u->user_size, ksize));
}

/* ---- ioctls without a better home -------------------------------------- */

static int ioctl_destroy(SimUcmd *u)
{
    struct iommu_destroy *cmd = u->cmd;
    SimObj *obj = sim_idt_find(&u->ictx->objs, cmd->id, SIM_OBJ_ANY);

    if (!obj) {
        return -ENOENT;
    }
    return sim_obj_destroy(obj);
}

/* Commands of objects the simulated IOMMUs do not offer. */
static int ioctl_unsupported(SimUcmd *u)
{
    return -EOPNOTSUPP;
}

typedef struct SimIoctlDef {
    uint32_t min_size;      /* offsetofend of the last mandatory field */
    uint32_t size;          /* sizeof the struct we know */
    int (*fn)(SimUcmd *u);
} SimIoctlDef;

#define IOCTL_DEF(nr, type, last, handler) \
    [nr - IOMMUFD_CMD_BASE] = { OFFSETOFEND(struct type, last), \
                                sizeof(struct type), handler }

static const SimIoctlDef ioctl_defs[] = {
    IOCTL_DEF(IOMMUFD_CMD_DESTROY, iommu_destroy, id, ioctl_destroy),
    IOCTL_DEF(IOMMUFD_CMD_IOAS_ALLOC, iommu_ioas_alloc, out_ioas_id,
              sim_ioctl_ioas_alloc),
    IOCTL_DEF(IOMMUFD_CMD_IOAS_ALLOW_IOVAS, iommu_ioas_allow_iovas,
              allowed_iovas, sim_ioctl_ioas_allow_iovas),
    IOCTL_DEF(IOMMUFD_CMD_IOAS_COPY, iommu_ioas_copy, src_iova,
              sim_ioctl_ioas_copy),
    IOCTL_DEF(IOMMUFD_CMD_IOAS_IOVA_RANGES, iommu_ioas_iova_ranges,
              out_iova_alignment, sim_ioctl_ioas_iova_ranges),
    IOCTL_DEF(IOMMUFD_CMD_IOAS_MAP, iommu_ioas_map, iova, sim_ioctl_ioas_map),
    IOCTL_DEF(IOMMUFD_CMD_IOAS_UNMAP, iommu_ioas_unmap, length,
              sim_ioctl_ioas_unmap),
    IOCTL_DEF(IOMMUFD_CMD_OPTION, iommu_option, val64, sim_ioctl_option),
    IOCTL_DEF(IOMMUFD_CMD_VFIO_IOAS, iommu_vfio_ioas, __reserved,
              sim_ioctl_vfio_ioas),
    IOCTL_DEF(IOMMUFD_CMD_HWPT_ALLOC, iommu_hwpt_alloc, __reserved,
              sim_ioctl_hwpt_alloc),
    IOCTL_DEF(IOMMUFD_CMD_GET_HW_INFO, iommu_hw_info, __reserved,
              sim_ioctl_get_hw_info),
    IOCTL_DEF(IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING,
              iommu_hwpt_set_dirty_tracking, __reserved,
              sim_ioctl_hwpt_set_dirty),
    IOCTL_DEF(IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP, iommu_hwpt_get_dirty_bitmap,
              data, sim_ioctl_hwpt_get_dirty),
    IOCTL_DEF(IOMMUFD_CMD_HWPT_INVALIDATE, iommu_hwpt_invalidate, __reserved,
              sim_ioctl_hwpt_invalidate),
    IOCTL_DEF(IOMMUFD_CMD_FAULT_QUEUE_ALLOC, iommu_fault_alloc, out_fault_fd,
              ioctl_unsupported),
    IOCTL_DEF(IOMMUFD_CMD_IOAS_MAP_FILE, iommu_ioas_map_file, iova,
              sim_ioctl_ioas_map_file),
    IOCTL_DEF(IOMMUFD_CMD_VIOMMU_ALLOC, iommu_viommu_alloc, out_viommu_id,
              ioctl_unsupported),
    IOCTL_DEF(IOMMUFD_CMD_VDEVICE_ALLOC, iommu_vdevice_alloc, virt_id,
              ioctl_unsupported),
    IOCTL_DEF(IOMMUFD_CMD_IOAS_CHANGE_PROCESS, iommu_ioas_change_process,
              __reserved, sim_ioctl_ioas_change_process),
};

/* The biggest struct of the table: the kernel copy lives on the stack. */
#define SIM_IOCTL_MAX_SIZE 64
_Static_assert(sizeof(struct iommu_hwpt_alloc) <= SIM_IOCTL_MAX_SIZE, "");
_Static_assert(sizeof(struct iommu_hw_info) <= SIM_IOCTL_MAX_SIZE, "");

static int iommufd_ioctl(SimFile *f, unsigned long request, void *arg)
{
    SimIommufdCtx *ictx = f->priv;
    unsigned nr = _IOC_NR(request);
    const SimIoctlDef *def;
    uint64_t buf[SIM_IOCTL_MAX_SIZE / 8];
    SimUcmd u = { .ictx = ictx, .uptr = (uintptr_t)arg, .cmd = buf };
    int r;

    /* below the base or past the table: the VFIO compat ioctls, absent */
    if (nr < IOMMUFD_CMD_BASE ||
        nr - IOMMUFD_CMD_BASE >= G_N_ELEMENTS(ioctl_defs)) {
        return -ENOTTY;
    }
    def = &ioctl_defs[nr - IOMMUFD_CMD_BASE];
    if (!def->fn || request != _IO(IOMMUFD_TYPE, nr)) {
        return -ENOTTY;
    }
    r = sim_copy_from_user(ictx->host, &u.user_size, u.uptr,
                           sizeof(u.user_size));
    if (r) {
        return r;
    }
    if (u.user_size < def->min_size) {
        return -EINVAL;
    }
    r = sim_copy_struct_from_user(ictx->host, buf, def->size, u.uptr,
                                  u.user_size);
    if (r) {
        return r;
    }
    return def->fn(&u);
}

const SimFileOps sim_iommufd_fops = {
    .name = "iommufd",
    .open = iommufd_open,
    .release = iommufd_release,
    .ioctl = iommufd_ioctl,
};

/* ---- device binding ----------------------------------------------------- */

int sim_iommufd_bind(SimIommufdCtx *ictx, SimDevice *dev, uint32_t *out_devid)
{
    SimIdev *idev;
    int r;

    if (dev->idev) {
        return -EINVAL;
    }
    r = sim_group_claim(dev->group, ictx);
    if (r) {
        return r;
    }
    idev = g_new0(SimIdev, 1);
    idev->obj.type = SIM_OBJ_DEVICE;
    idev->obj.ictx = ictx;
    r = sim_idt_alloc(&ictx->objs, &idev->obj);
    if (r) {
        sim_group_unclaim(dev->group, ictx);
        g_free(idev);
        return r;
    }
    idev->obj.users = 1;            /* the binding */
    idev->dev = dev;
    idev->resv_ioas = g_hash_table_new(g_direct_hash, g_direct_equal);
    dev->idev = idev;
    ictx->refs++;
    *out_devid = idev->obj.id;
    return 0;
}

static SimHwpt *attached(SimDevice *dev, uint32_t pasid)
{
    if (pasid == SIM_NO_PASID) {
        return dev->rid_hwpt;
    }
    return dev->pasid_hwpt ? g_hash_table_lookup(dev->pasid_hwpt,
                                                 GUINT_TO_POINTER(pasid))
                           : NULL;
}

static void set_attached(SimDevice *dev, uint32_t pasid, SimHwpt *hwpt)
{
    if (pasid == SIM_NO_PASID) {
        dev->rid_hwpt = hwpt;
        return;
    }
    if (!dev->pasid_hwpt) {
        dev->pasid_hwpt = g_hash_table_new(g_direct_hash, g_direct_equal);
    }
    if (hwpt) {
        g_hash_table_insert(dev->pasid_hwpt, GUINT_TO_POINTER(pasid), hwpt);
    } else {
        g_hash_table_remove(dev->pasid_hwpt, GUINT_TO_POINTER(pasid));
    }
}

static bool any_pasid_attached(SimDevice *dev)
{
    return dev->pasid_hwpt && g_hash_table_size(dev->pasid_hwpt);
}

/* Is @ioas the stage 2 of any current attachment of @dev? */
static bool uses_ioas(SimDevice *dev, SimIoas *ioas)
{
    GHashTableIter it;
    SimHwpt *h;

    if (dev->rid_hwpt && sim_hwpt_stage2(dev->rid_hwpt)->ioas == ioas) {
        return true;
    }
    if (dev->pasid_hwpt) {
        g_hash_table_iter_init(&it, dev->pasid_hwpt);
        while (g_hash_table_iter_next(&it, NULL, (gpointer *)&h)) {
            if (sim_hwpt_stage2(h)->ioas == ioas) {
                return true;
            }
        }
    }
    return false;
}

/* Drop the device's reserved ranges from IOASes it no longer uses. */
static void resv_sync(SimIdev *idev)
{
    GHashTableIter it;
    SimIoas *ioas;

    g_hash_table_iter_init(&it, idev->resv_ioas);
    while (g_hash_table_iter_next(&it, (gpointer *)&ioas, NULL)) {
        if (!uses_ioas(idev->dev, ioas)) {
            sim_ioas_unreserve(ioas, idev);
            g_hash_table_iter_remove(&it);
        }
    }
}

/* The device's reserved regions (the host's knob) enter @ioas. */
static int resv_enforce(SimIdev *idev, SimIoas *ioas)
{
    const SimHostDesc *d = &idev->dev->host->desc;

    if (g_hash_table_contains(idev->resv_ioas, ioas)) {
        return 0;
    }
    for (unsigned i = 0; i < d->n_reserved; i++) {
        int r = sim_ioas_reserve(ioas, d->reserved[i].start,
                                 d->reserved[i].last, idev);
        if (r) {
            sim_ioas_unreserve(ioas, idev);
            return r;
        }
    }
    g_hash_table_add(idev->resv_ioas, ioas);
    return 0;
}

/* Rules an attachment must meet (uapi_facts.md §2 PASID rule, §5.3 #35/43). */
static int attach_check(SimDevice *dev, uint32_t pasid, SimHwpt *hwpt)
{
    SimHwpt *s2 = sim_hwpt_stage2(hwpt);
    bool pasid_ok = hwpt->flags & IOMMU_HWPT_ALLOC_PASID;

    if ((s2->flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) && !dev->dirty) {
        return -EINVAL;
    }
    if (pasid != SIM_NO_PASID) {
        if (!pasid_ok ||
            (dev->rid_hwpt && !(dev->rid_hwpt->flags & IOMMU_HWPT_ALLOC_PASID))) {
            return -EINVAL;
        }
        return 0;
    }
    if (any_pasid_attached(dev) && !pasid_ok) {
        return -EINVAL;
    }
    /* one domain per group: the group-mates' RID must agree */
    for (unsigned i = 0; i < dev->group->devices->len; i++) {
        SimDevice *mate = g_ptr_array_index(dev->group->devices, i);

        if (mate != dev && mate->rid_hwpt && mate->rid_hwpt != hwpt) {
            return -EINVAL;
        }
    }
    return 0;
}

/* Drop one attachment reference; an unused automatic HWPT goes away. */
static void hwpt_detached(SimHwpt *hwpt)
{
    hwpt->attached--;
    sim_obj_put(&hwpt->obj);
    if (hwpt->auto_domain && !hwpt->obj.users) {
        sim_obj_destroy(&hwpt->obj);
    }
}

/* Attach or replace; on failure the old attachment stays. */
static int do_attach(SimDevice *dev, uint32_t pasid, SimHwpt *hwpt)
{
    SimHwpt *old = attached(dev, pasid);
    int r;

    if (old == hwpt) {
        return 0;
    }
    r = attach_check(dev, pasid, hwpt);
    if (!r) {
        r = resv_enforce(dev->idev, sim_hwpt_stage2(hwpt)->ioas);
    }
    if (r) {
        resv_sync(dev->idev);
        return r;
    }
    sim_obj_get(&hwpt->obj);
    hwpt->attached++;
    set_attached(dev, pasid, hwpt);
    if (old) {
        hwpt_detached(old);
    }
    resv_sync(dev->idev);
    return 0;
}

/* An automatic paging HWPT of @ioas for @dev: reuse one, or make one. */
static int attach_ioas(SimDevice *dev, uint32_t pasid, SimIoas *ioas,
                       uint32_t *pt_id)
{
    SimHwpt *hwpt = NULL;
    int r;

    if (pasid != SIM_NO_PASID) {
        return -EINVAL;     /* automatic domains are not PASID-capable */
    }
    for (GList *l = ioas->hwpts; l; l = l->next) {
        SimHwpt *h = l->data;

        if (h->auto_domain && !attach_check(dev, pasid, h)) {
            hwpt = h;
            break;
        }
    }
    if (hwpt) {
        r = do_attach(dev, pasid, hwpt);
    } else {
        hwpt = sim_hwpt_paging_new(ioas, dev, 0, true, &r);
        if (!hwpt) {
            return r;
        }
        r = do_attach(dev, pasid, hwpt);
        if (r) {
            sim_obj_destroy(&hwpt->obj);
        }
    }
    if (!r) {
        *pt_id = hwpt->obj.id;
    }
    return r;
}

int sim_iommufd_attach(SimDevice *dev, uint32_t pasid, uint32_t *pt_id)
{
    SimIdev *idev = dev->idev;
    SimObj *obj;
    int r;

    if (!idev) {
        return -EINVAL;
    }
    if (pasid != SIM_NO_PASID &&
        (!dev->pasid_bits || pasid >= (1u << dev->pasid_bits))) {
        return -EINVAL;
    }
    r = sim_inject_take(dev->host, SIM_INJECT_ATTACH);
    if (r) {
        return r;
    }
    obj = sim_idt_find(&idev->obj.ictx->objs, *pt_id, SIM_OBJ_ANY);
    if (!obj) {
        return -ENOENT;
    }
    switch (obj->type) {
    case SIM_OBJ_IOAS:
        return attach_ioas(dev, pasid, SIM_CONTAINER_OF(obj, SimIoas, obj),
                           pt_id);
    case SIM_OBJ_HWPT_PAGING:
    case SIM_OBJ_HWPT_NESTED:
        r = do_attach(dev, pasid, SIM_CONTAINER_OF(obj, SimHwpt, obj));
        return r;
    default:
        return -EINVAL;
    }
}

int sim_iommufd_detach(SimDevice *dev, uint32_t pasid)
{
    SimHwpt *old;

    if (!dev->idev) {
        return -EINVAL;
    }
    old = attached(dev, pasid);
    if (!old) {
        return 0;
    }
    set_attached(dev, pasid, NULL);
    hwpt_detached(old);
    resv_sync(dev->idev);
    return 0;
}

void sim_iommufd_unbind(SimDevice *dev)
{
    SimIdev *idev = dev->idev;
    SimIommufdCtx *ictx;

    if (!idev) {
        return;
    }
    ictx = idev->obj.ictx;
    while (any_pasid_attached(dev)) {
        GHashTableIter it;
        gpointer pasid;

        g_hash_table_iter_init(&it, dev->pasid_hwpt);
        g_hash_table_iter_next(&it, &pasid, NULL);
        sim_iommufd_detach(dev, GPOINTER_TO_UINT(pasid));
    }
    sim_iommufd_detach(dev, SIM_NO_PASID);
    g_assert(g_hash_table_size(idev->resv_ioas) == 0);
    g_hash_table_destroy(idev->resv_ioas);
    sim_group_unclaim(dev->group, ictx);
    sim_idt_remove(&ictx->objs, &idev->obj);
    dev->idev = NULL;
    g_free(idev);
    ctx_put(ictx);
}
