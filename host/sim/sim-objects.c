/*
 * iommufd objects: explicit ids and `users` references.
 *
 * The id table hands out the lowest free id >= 1, as the kernel's xarray
 * allocation does, so ids of destroyed objects come back.  An object is
 * destroyed only when nothing uses it (users == 0): IOMMU_DESTROY gets
 * EBUSY otherwise.
 */
#include <errno.h>

#include "sim-internal.h"

void sim_idt_init(SimIdTable *t)
{
    t->slot = NULL;
    t->size = 0;
    t->count = 0;
    t->lowest_free = 1;
}

void sim_idt_fini(SimIdTable *t)
{
    g_assert(t->count == 0);
    g_free(t->slot);
    t->slot = NULL;
    t->size = 0;
}

int sim_idt_alloc(SimIdTable *t, SimObj *obj)
{
    uint32_t id;

    if (t->count >= SIM_MAX_OBJECTS) {
        return -ENOMEM;
    }
    for (id = t->lowest_free; id < t->size && t->slot[id]; id++) {
        /* find the lowest free slot at or above the hint */
    }
    if (id >= t->size) {
        uint32_t nsize = t->size ? t->size * 2 : 64;

        t->slot = g_renew(SimObj *, t->slot, nsize);
        memset(t->slot + t->size, 0, (nsize - t->size) * sizeof(SimObj *));
        t->size = nsize;
    }
    t->slot[id] = obj;
    t->count++;
    t->lowest_free = id + 1;
    obj->id = id;
    return 0;
}

void sim_idt_remove(SimIdTable *t, SimObj *obj)
{
    g_assert(obj->id > 0 && obj->id < t->size && t->slot[obj->id] == obj);
    t->slot[obj->id] = NULL;
    t->count--;
    if (obj->id < t->lowest_free) {
        t->lowest_free = obj->id;
    }
    obj->id = 0;
}

SimObj *sim_idt_find(const SimIdTable *t, uint32_t id, SimObjType type)
{
    SimObj *obj;

    if (id == 0 || id >= t->size) {
        return NULL;
    }
    obj = t->slot[id];
    if (!obj || (type != SIM_OBJ_ANY && obj->type != type)) {
        return NULL;
    }
    return obj;
}

void sim_obj_get(SimObj *obj)
{
    obj->users++;
}

void sim_obj_put(SimObj *obj)
{
    g_assert(obj->users > 0);
    obj->users--;
}

int sim_obj_destroy(SimObj *obj)
{
    if (obj->users) {
        return -EBUSY;
    }
    sim_idt_remove(&obj->ictx->objs, obj);
    switch (obj->type) {
    case SIM_OBJ_IOAS:
        sim_ioas_free(SIM_CONTAINER_OF(obj, SimIoas, obj));
        break;
    case SIM_OBJ_HWPT_PAGING:
    case SIM_OBJ_HWPT_NESTED:
        sim_hwpt_free(SIM_CONTAINER_OF(obj, SimHwpt, obj));
        break;
    default:
        /* DEVICE objects always have a user: their VFIO binding */
        g_assert_not_reached();
    }
    return 0;
}
