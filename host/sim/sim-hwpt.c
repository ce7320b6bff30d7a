/*
 * HWPTs: paging (stage 2 = an IOAS; NEST_PARENT, DIRTY_TRACKING, PASID)
 * and nested (VT-d first stage over a nest parent), their allocation,
 * invalidation and dirty tracking ioctls, and GET_HW_INFO with the VT-d
 * CAP/ECAP the knobs describe.  errno rules: uapi_facts.md §1.5, §5.3.
 */
#include <errno.h>
#include <string.h>

#include "sim-internal.h"

#define HWPT_ALLOC_FLAGS (IOMMU_HWPT_ALLOC_NEST_PARENT | \
                          IOMMU_HWPT_ALLOC_DIRTY_TRACKING | \
                          IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID)
#define VTD_S1_FLAGS (IOMMU_VTD_S1_SRE | IOMMU_VTD_S1_EAFE | IOMMU_VTD_S1_WPE)
#define INVALIDATE_MAX_ENTRIES (1u << 19)

/* ---- capabilities ------------------------------------------------------- */

/* VT-d spec 11.4.2 (CAP) / 11.4.3 (ECAP); field table: facts section B. */
void sim_vtd_regs_compute(const SimHostDesc *d, uint64_t *cap, uint64_t *ecap)
{
    uint64_t sagaw = 1ull << 1;                     /* 39-bit, 3-level */
    uint64_t c = 0, e = 0;

    if (d->aw_bits >= 48) {
        sagaw |= 1ull << 2;                         /* 48-bit, 4-level */
    }
    if (d->aw_bits >= 57) {
        sagaw |= 1ull << 3;                         /* 57-bit, 5-level */
    }
    c |= 6;                                         /* ND: 64K domains */
    c |= sagaw << 8;
    c |= (uint64_t)(d->aw_bits - 1) << 16;          /* MGAW */
    c |= 1ull << 22;                                /* ZLR */
    c |= 0x40ull << 24;                             /* FRO: 0x400 */
    c |= (d->pgsizes & (1ull << 21)) ? 1ull << 34 : 0;  /* SLLPS 2M */
    c |= (d->pgsizes & (1ull << 30)) ? 1ull << 35 : 0;  /* SLLPS 1G */
    c |= 1ull << 39;                                /* PSI */
    c |= 7ull << 40;                                /* NFR: 8 records */
    c |= 18ull << 48;                               /* MAMV */
    c |= (1ull << 54) | (1ull << 55);               /* DWD, DRD */
    c |= d->fs1gp ? 1ull << 56 : 0;                 /* FL1GP */
    c |= d->aw_bits == 57 ? 1ull << 60 : 0;         /* FL5LP */

    e |= (1ull << 0) | (1ull << 1) | (1ull << 2);   /* C, QI, DT */
    e |= (1ull << 3) | (1ull << 4);                 /* IR, EIM */
    e |= (1ull << 6) | (1ull << 7);                 /* PT, SC */
    e |= 0x50ull << 8;                              /* IRO: 0x500 */
    e |= 0xfull << 20;                              /* MHMV */
    e |= d->nesting ? 1ull << 26 : 0;               /* NEST */
    e |= 1ull << 31;                                /* SRS */
    e |= 1ull << 34;                                /* EAFS */
    if (d->pasid_bits) {
        e |= (uint64_t)(d->pasid_bits - 1) << 35;   /* PSS */
        e |= 1ull << 40;                            /* PASID */
    }
    e |= 1ull << 43;                                /* SMTS */
    e |= d->dirty_tracking ? 1ull << 45 : 0;        /* SLADS */
    e |= (1ull << 46) | (1ull << 47);               /* SLTS, FLTS */
    e |= (1ull << 48) | (1ull << 49);               /* SMPWCS, RPS */
    *cap = c;
    *ecap = e;
}

/* The fields of IDR0..5 an SMMUv3 user may read (facts §2), minimal. */
static void smmuv3_info(const SimHostDesc *d, struct iommu_hw_info_arm_smmuv3 *i)
{
    memset(i, 0, sizeof(*i));
    i->idr[0] = (1u << 27) | (1u << 26) | (1u << 19) | (1u << 12) | (2u << 2);
    i->idr[1] = 16 | (d->pasid_bits << 6);          /* SIDSIZE, SSIDSIZE */
    i->idr[3] = 1u << 10;                           /* RIL */
    i->idr[5] = (1u << 4) | (1u << 5) | (1u << 6) | 5;  /* GRAN*, OAS 48 */
}

static bool host_dirty_capable(const SimHost *host, const SimDevice *dev)
{
    return host->desc.iommu != SIM_IOMMU_NONE && host->desc.dirty_tracking &&
           dev->dirty;
}

/*
 * Whether a paging domain may be a nest parent: VT-d with nesting, and
 * SMMUv3 with stage 2 + nesting (arm-smmu-v3 allocates nest parents too,
 * though only VT-d stage-1 data is simulated for the nested domains).
 */
static bool host_nest_parent(const SimHost *host)
{
    return host->desc.iommu != SIM_IOMMU_NONE && host->desc.nesting;
}

/* Whether nested domains with VT-d stage-1 data can be allocated. */
static bool host_nesting_vtd(const SimHost *host)
{
    return host->desc.iommu == SIM_IOMMU_VTD && host->desc.nesting;
}

/* ---- objects ------------------------------------------------------------ */

static SimHwpt *hwpt_find(SimIommufdCtx *ictx, uint32_t id, SimObjType type)
{
    SimObj *obj = sim_idt_find(&ictx->objs, id, type);

    if (!obj || (obj->type != SIM_OBJ_HWPT_PAGING &&
                 obj->type != SIM_OBJ_HWPT_NESTED)) {
        return NULL;
    }
    return SIM_CONTAINER_OF(obj, SimHwpt, obj);
}

SimHwpt *sim_hwpt_stage2(SimHwpt *hwpt)
{
    return hwpt->parent ? hwpt->parent : hwpt;
}

SimHwpt *sim_hwpt_paging_new(SimIoas *ioas, SimDevice *dev, uint32_t flags,
                             bool auto_domain, int *err)
{
    SimHost *host = ioas->obj.ictx->host;
    uint64_t aperture_end = host->desc.aw_bits >= 64 ? UINT64_MAX
                            : (1ull << host->desc.aw_bits) - 1;
    bool nest_parent = flags & IOMMU_HWPT_ALLOC_NEST_PARENT;
    SimHwpt *hwpt;
    int r;

    if (((flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) &&
         !host_dirty_capable(host, dev)) ||
        (nest_parent && !host_nest_parent(host)) ||
        ((flags & IOMMU_HWPT_ALLOC_PASID) && !host->desc.pasid_bits)) {
        *err = -EOPNOTSUPP;
        return NULL;
    }
    /* the domain's geometry must hold every area */
    if (aperture_end != UINT64_MAX &&
        sim_itree_first_overlap(&ioas->areas, aperture_end + 1, UINT64_MAX)) {
        *err = -EINVAL;
        return NULL;
    }
    r = sim_ioas_domain_check(ioas, nest_parent && host->desc.erratum_spr17);
    if (r) {
        *err = r;
        return NULL;
    }
    hwpt = g_new0(SimHwpt, 1);
    hwpt->obj.type = SIM_OBJ_HWPT_PAGING;
    hwpt->obj.ictx = ioas->obj.ictx;
    r = aperture_end == UINT64_MAX ? 0
        : sim_ioas_reserve(ioas, aperture_end + 1, UINT64_MAX, hwpt);
    if (!r) {
        r = sim_idt_alloc(&ioas->obj.ictx->objs, &hwpt->obj);
        if (r) {
            sim_ioas_unreserve(ioas, hwpt);
        }
    }
    if (r) {
        g_free(hwpt);
        *err = r;
        return NULL;
    }
    hwpt->flags = flags;
    hwpt->auto_domain = auto_domain;
    hwpt->ioas = ioas;
    hwpt->dirty = g_hash_table_new(g_direct_hash, g_direct_equal);
    host->nr_hwpts++;
    sim_obj_get(&ioas->obj);
    ioas->hwpts = g_list_prepend(ioas->hwpts, hwpt);
    return hwpt;
}

static SimHwpt *hwpt_nested_new(SimHwpt *parent, uint32_t flags,
                                const struct iommu_hwpt_vtd_s1 *s1, int *err)
{
    SimHwpt *hwpt = g_new0(SimHwpt, 1);

    hwpt->obj.type = SIM_OBJ_HWPT_NESTED;
    hwpt->obj.ictx = parent->obj.ictx;
    *err = sim_idt_alloc(&parent->obj.ictx->objs, &hwpt->obj);
    if (*err) {
        g_free(hwpt);
        return NULL;
    }
    hwpt->flags = flags;
    hwpt->parent = parent;
    hwpt->s1 = *s1;
    parent->obj.ictx->host->nr_hwpts++;
    sim_obj_get(&parent->obj);
    return hwpt;
}

void sim_hwpt_free(SimHwpt *hwpt)
{
    hwpt->obj.ictx->host->nr_hwpts--;
    if (hwpt->parent) {
        sim_iotlb_free(hwpt);
        sim_obj_put(&hwpt->parent->obj);
    } else {
        hwpt->ioas->hwpts = g_list_remove(hwpt->ioas->hwpts, hwpt);
        sim_ioas_unreserve(hwpt->ioas, hwpt);
        sim_obj_put(&hwpt->ioas->obj);
        g_hash_table_destroy(hwpt->dirty);
    }
    g_free(hwpt);
}

/* ---- IOMMU_HWPT_ALLOC --------------------------------------------------- */

/* The VT-d stage-1 data of a nested HWPT: copied, then checked. */
static int vtd_s1_get(SimUcmd *u, const struct iommu_hwpt_alloc *cmd,
                      struct iommu_hwpt_vtd_s1 *s1)
{
    const SimHostDesc *d = &u->ictx->host->desc;
    int r;

    if (!host_nesting_vtd(u->ictx->host) ||
        cmd->data_type != IOMMU_HWPT_DATA_VTD_S1) {
        return -EOPNOTSUPP;
    }
    if (cmd->data_len < sizeof(*s1)) {
        return -EINVAL;
    }
    r = sim_copy_struct_from_user(u->ictx->host, s1, sizeof(*s1),
                                  cmd->data_uptr, cmd->data_len);
    if (r) {
        return r;
    }
    if ((s1->flags & ~(uint64_t)VTD_S1_FLAGS) || s1->__reserved) {
        return -EOPNOTSUPP;
    }
    if ((s1->addr_width != 48 && s1->addr_width != 57) ||
        (s1->addr_width == 57 && d->aw_bits < 57) ||
        (s1->pgtbl_addr & (SIM_PAGE_SIZE - 1)) ||
        (s1->pgtbl_addr >> d->aw_bits)) {
        return -EINVAL;
    }
    return 0;
}

static int alloc_nested(SimUcmd *u, struct iommu_hwpt_alloc *cmd,
                        SimHwpt *parent, SimHwpt **out)
{
    struct iommu_hwpt_vtd_s1 s1;
    int r;

    if (cmd->flags & ~(IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID)) {
        return -EOPNOTSUPP;
    }
    if (parent->auto_domain ||
        !(parent->flags & IOMMU_HWPT_ALLOC_NEST_PARENT)) {
        return -EINVAL;
    }
    r = vtd_s1_get(u, cmd, &s1);
    if (r) {
        return r;
    }
    if ((cmd->flags & IOMMU_HWPT_ALLOC_PASID) &&
        !u->ictx->host->desc.pasid_bits) {
        return -EOPNOTSUPP;
    }
    *out = hwpt_nested_new(parent, cmd->flags & ~IOMMU_HWPT_FAULT_ID_VALID,
                           &s1, &r);
    return r;
}

int sim_ioctl_hwpt_alloc(SimUcmd *u)
{
    struct iommu_hwpt_alloc *cmd = u->cmd;
    SimHwpt *hwpt = NULL;
    SimObj *dev_obj, *pt;
    int r;

    r = sim_inject_take(u->ictx->host, SIM_INJECT_HWPT_ALLOC);
    if (r) {
        return r;
    }
    if ((cmd->flags & ~HWPT_ALLOC_FLAGS) || cmd->__reserved ||
        cmd->__reserved2) {
        return -EOPNOTSUPP;
    }
    if ((cmd->data_type == IOMMU_HWPT_DATA_NONE && cmd->data_len) ||
        (cmd->data_type != IOMMU_HWPT_DATA_NONE && !cmd->data_len)) {
        return -EINVAL;
    }
    dev_obj = sim_idt_find(&u->ictx->objs, cmd->dev_id, SIM_OBJ_DEVICE);
    if (!dev_obj) {
        return -ENOENT;
    }
    pt = sim_idt_find(&u->ictx->objs, cmd->pt_id, SIM_OBJ_ANY);
    if (!pt) {
        return -ENOENT;
    }
    switch (pt->type) {
    case SIM_OBJ_IOAS:
        if ((cmd->flags & IOMMU_HWPT_FAULT_ID_VALID) &&
            (cmd->flags & IOMMU_HWPT_ALLOC_NEST_PARENT)) {
            return -EOPNOTSUPP;
        }
        if (cmd->data_type != IOMMU_HWPT_DATA_NONE) {
            return -EOPNOTSUPP;
        }
        hwpt = sim_hwpt_paging_new(SIM_CONTAINER_OF(pt, SimIoas, obj),
                                   SIM_CONTAINER_OF(dev_obj, SimIdev, obj)->dev,
                                   cmd->flags & ~IOMMU_HWPT_FAULT_ID_VALID,
                                   false, &r);
        break;
    case SIM_OBJ_HWPT_PAGING:
        r = alloc_nested(u, cmd, SIM_CONTAINER_OF(pt, SimHwpt, obj), &hwpt);
        break;
    default:
        return -EINVAL;
    }
    if (!hwpt) {
        return r;
    }
    /* no FAULT objects exist here: any fault_id is unknown */
    if (cmd->flags & IOMMU_HWPT_FAULT_ID_VALID) {
        sim_obj_destroy(&hwpt->obj);
        return -ENOENT;
    }
    cmd->out_hwpt_id = hwpt->obj.id;
    r = sim_ucmd_respond(u, sizeof(*cmd));
    if (r) {
        sim_obj_destroy(&hwpt->obj);
    }
    return r;
}

/* ---- IOMMU_GET_HW_INFO -------------------------------------------------- */

/* Write @len bytes of @data to a buffer of @buf_len, zero-filling the rest. */
static int copy_info(SimHost *host, uint64_t uptr, uint32_t buf_len,
                     const void *data, uint32_t len)
{
    static const uint8_t zeros[256];
    uint32_t n = MIN(buf_len, len);
    int r = sim_copy_to_user(host, uptr, data, n);

    while (!r && n < buf_len) {
        uint32_t chunk = MIN((uint32_t)sizeof(zeros), buf_len - n);

        r = sim_copy_to_user(host, uptr + n, zeros, chunk);
        n += chunk;
    }
    return r;
}

int sim_ioctl_get_hw_info(SimUcmd *u)
{
    struct iommu_hw_info *cmd = u->cmd;
    SimHost *host = u->ictx->host;
    struct iommu_hw_info_vtd vtd = { 0 };
    struct iommu_hw_info_arm_smmuv3 smmu;
    const void *data = NULL;
    uint32_t type = IOMMU_HW_INFO_TYPE_NONE, len = 0;
    SimObj *obj;
    SimDevice *dev;
    int r;

    if ((cmd->flags & ~IOMMU_HW_INFO_FLAG_INPUT_TYPE) ||
        cmd->__reserved[0] || cmd->__reserved[1] || cmd->__reserved[2]) {
        return -EOPNOTSUPP;
    }
    obj = sim_idt_find(&u->ictx->objs, cmd->dev_id, SIM_OBJ_DEVICE);
    if (!obj) {
        return -ENOENT;
    }
    dev = SIM_CONTAINER_OF(obj, SimIdev, obj)->dev;
    if (host->desc.iommu == SIM_IOMMU_VTD) {
        type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
        vtd.flags = host->desc.erratum_spr17
                    ? IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 : 0;
        vtd.cap_reg = host->vtd_cap;
        vtd.ecap_reg = host->vtd_ecap;
        data = &vtd;
        len = sizeof(vtd);
    } else if (host->desc.iommu == SIM_IOMMU_SMMUV3) {
        type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
        smmuv3_info(&host->desc, &smmu);
        data = &smmu;
        len = sizeof(smmu);
    }
    if ((cmd->flags & IOMMU_HW_INFO_FLAG_INPUT_TYPE) &&
        cmd->in_data_type != IOMMU_HW_INFO_TYPE_DEFAULT &&
        cmd->in_data_type != type) {
        return -EOPNOTSUPP;
    }
    if (cmd->data_len) {
        r = copy_info(host, cmd->data_uptr, cmd->data_len, data, len);
        if (r) {
            return r;
        }
    }
    cmd->data_len = len;
    cmd->out_data_type = type;
    cmd->out_max_pasid_log2 = dev->pasid_bits;
    cmd->out_capabilities = host_dirty_capable(host, dev)
                            ? IOMMU_HW_CAP_DIRTY_TRACKING : 0;
    return sim_ucmd_respond(u, sizeof(*cmd));
}

/* ---- dirty tracking ----------------------------------------------------- */

void sim_ioas_dirty_forget(SimIoas *ioas, uint64_t start, uint64_t last)
{
    for (GList *l = ioas->hwpts; l; l = l->next) {
        SimHwpt *h = l->data;
        GHashTableIter it;
        gpointer pfn;

        g_hash_table_iter_init(&it, h->dirty);
        while (g_hash_table_iter_next(&it, &pfn, NULL)) {
            uint64_t addr = (uint64_t)GPOINTER_TO_SIZE(pfn) << SIM_PAGE_SHIFT;

            if (addr >= start && addr <= last) {
                g_hash_table_iter_remove(&it);
            }
        }
    }
}

int sim_ioctl_hwpt_set_dirty(SimUcmd *u)
{
    struct iommu_hwpt_set_dirty_tracking *cmd = u->cmd;
    SimHwpt *hwpt;

    if ((cmd->flags & ~IOMMU_HWPT_DIRTY_TRACKING_ENABLE) || cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    hwpt = hwpt_find(u->ictx, cmd->hwpt_id, SIM_OBJ_HWPT_PAGING);
    if (!hwpt) {
        return -ENOENT;
    }
    if (!(hwpt->flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING)) {
        return -EOPNOTSUPP;
    }
    if (cmd->flags & IOMMU_HWPT_DIRTY_TRACKING_ENABLE) {
        if (!hwpt->dirty_enabled) {
            g_hash_table_remove_all(hwpt->dirty);
        }
        hwpt->dirty_enabled = true;
    } else {
        hwpt->dirty_enabled = false;
    }
    return 0;
}

/* OR the bits [first, last] into the user bitmap at @data. */
static int bitmap_set(SimHost *host, uint64_t data, uint64_t first,
                      uint64_t last)
{
    for (uint64_t bit = first; bit <= last; ) {
        uint64_t byte_end = (bit | 7) < last ? (bit | 7) : last;
        uint8_t b;
        int r = sim_copy_from_user(host, &b, data + bit / 8, 1);

        if (r) {
            return r;
        }
        for (uint64_t i = bit; i <= byte_end; i++) {
            b |= 1u << (i % 8);
        }
        r = sim_copy_to_user(host, data + bit / 8, &b, 1);
        if (r) {
            return r;
        }
        bit = byte_end + 1;
    }
    return 0;
}

/* Check GET_DIRTY_BITMAP's range (uapi_facts.md §1.5). */
static int dirty_range_check(const SimHwpt *hwpt,
                             const struct iommu_hwpt_get_dirty_bitmap *cmd,
                             uint64_t *last)
{
    uint64_t align = sim_ioas_alignment(hwpt->ioas), ps = cmd->page_size;

    if (!cmd->length) {
        return -EINVAL;
    }
    if (__builtin_add_overflow(cmd->iova, cmd->length - 1, last)) {
        return -EOVERFLOW;
    }
    if ((cmd->iova & (align - 1)) || ((*last + 1) & (align - 1))) {
        return -EINVAL;
    }
    if (!ps || (ps & (ps - 1))) {
        return -EINVAL;
    }
    if ((cmd->iova & (ps - 1)) || ((*last + 1) & (ps - 1))) {
        return -EINVAL;
    }
    return cmd->data ? 0 : -EFAULT;
}

int sim_ioctl_hwpt_get_dirty(SimUcmd *u)
{
    struct iommu_hwpt_get_dirty_bitmap *cmd = u->cmd;
    GHashTableIter it;
    SimHwpt *hwpt;
    uint64_t last;
    gpointer pfn;
    int r;

    if ((cmd->flags & ~IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) ||
        cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    hwpt = hwpt_find(u->ictx, cmd->hwpt_id, SIM_OBJ_HWPT_PAGING);
    if (!hwpt) {
        return -ENOENT;
    }
    if (!(hwpt->flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING)) {
        return -EOPNOTSUPP;
    }
    r = dirty_range_check(hwpt, cmd, &last);
    if (r) {
        return r;
    }
    /* bit i covers [iova + i * page_size, +page_size) */
    g_hash_table_iter_init(&it, hwpt->dirty);
    while (g_hash_table_iter_next(&it, &pfn, NULL)) {
        uint64_t s = (uint64_t)GPOINTER_TO_SIZE(pfn) << SIM_PAGE_SHIFT;
        uint64_t l = s + SIM_PAGE_SIZE - 1;

        if (l < cmd->iova || s > last) {
            continue;
        }
        s = MAX(s, cmd->iova);
        l = MIN(l, last);
        r = bitmap_set(u->ictx->host, cmd->data, (s - cmd->iova) / cmd->page_size,
                       (l - cmd->iova) / cmd->page_size);
        if (r) {
            return r;
        }
        if (!(cmd->flags & IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR)) {
            g_hash_table_iter_remove(&it);
        }
    }
    return 0;
}

/* ---- IOMMU_HWPT_INVALIDATE ---------------------------------------------- */

/* One VT-d stage-1 invalidation entry (the IOTLB keeps nothing else). */
static int vtd_invalidate_one(SimHwpt *hwpt,
                              const struct iommu_hwpt_vtd_s1_invalidate *e)
{
    uint64_t bytes, last;

    if ((e->flags & ~IOMMU_VTD_INV_FLAGS_LEAF) || e->__reserved) {
        return -EOPNOTSUPP;
    }
    if (e->addr & (SIM_PAGE_SIZE - 1)) {
        return -EINVAL;
    }
    if (e->addr == 0 && e->npages == UINT64_MAX) {
        sim_iotlb_flush(hwpt, 0, UINT64_MAX);
        return 0;
    }
    if (!e->npages ||
        __builtin_mul_overflow(e->npages, SIM_PAGE_SIZE, &bytes) ||
        __builtin_add_overflow(e->addr, bytes - 1, &last)) {
        return -EINVAL;
    }
    sim_iotlb_flush(hwpt, e->addr, last);
    return 0;
}

int sim_ioctl_hwpt_invalidate(SimUcmd *u)
{
    struct iommu_hwpt_invalidate *cmd = u->cmd;
    struct iommu_hwpt_vtd_s1_invalidate e;
    uint32_t done = 0;
    SimObj *obj;
    int r = 0;

    if (cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    if (cmd->entry_num && (!cmd->data_uptr || !cmd->entry_len)) {
        return -EINVAL;
    }
    if (cmd->entry_len > SIM_PAGE_SIZE ||
        cmd->entry_num > INVALIDATE_MAX_ENTRIES) {
        return -EINVAL;
    }
    /* from here on, entry_num reports the entries handled (0 on failure) */
    obj = sim_idt_find(&u->ictx->objs, cmd->hwpt_id, SIM_OBJ_ANY);
    r = sim_inject_take(u->ictx->host, SIM_INJECT_HWPT_INVALIDATE);
    if (r) {
        /* an injected failure: nothing handled */
    } else if (!obj) {
        r = -ENOENT;
    } else if (obj->type != SIM_OBJ_HWPT_NESTED ||
               cmd->data_type != IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 ||
               (cmd->entry_num && cmd->entry_len < sizeof(e))) {
        r = -EINVAL;
    }
    for (; !r && done < cmd->entry_num; done += !r) {
        r = sim_copy_struct_from_user(u->ictx->host, &e, sizeof(e),
                                      cmd->data_uptr +
                                      (uint64_t)done * cmd->entry_len,
                                      cmd->entry_len);
        if (!r) {
            r = vtd_invalidate_one(SIM_CONTAINER_OF(obj, SimHwpt, obj), &e);
        }
    }
    cmd->entry_num = done;
    if (sim_ucmd_respond(u, sizeof(*cmd)) && !r) {
        r = -EFAULT;
    }
    return r;
}
