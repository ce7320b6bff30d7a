/*
 * Host memory backends.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "system/hostmem.h"
#include "qom/object_interfaces.h"
#include "qapi/qjson.h"

static bool hostmem_get_size(Object *obj, ObjectProperty *prop,
                             JsonNode **value, Error **errp)
{
    *value = qjson_new_uint(MEMORY_BACKEND(obj)->size);
    return true;
}

static bool hostmem_set_size(Object *obj, ObjectProperty *prop,
                             JsonNode *value, Error **errp)
{
    HostMemoryBackend *be = MEMORY_BACKEND(obj);
    uint64_t size;

    if (be->ptr) {
        error_setg(errp, "cannot change property 'size' of %s",
                   object_get_typename(obj));
        return false;
    }
    if (!qjson_is_int(value)) {
        error_setg(errp, "Invalid parameter type for 'size', expected: "
                   "integer");
        return false;
    }
    size = (uint64_t)json_node_get_int(value);
    if (!size) {
        error_setg(errp, "property 'size' of %s doesn't take value '0'",
                   object_get_typename(obj));
        return false;
    }
    be->size = size;
    return true;
}

static bool hostmem_get_share(Object *obj, Error **errp)
{
    return MEMORY_BACKEND(obj)->share;
}

static void hostmem_set_share(Object *obj, bool value, Error **errp)
{
    HostMemoryBackend *be = MEMORY_BACKEND(obj);

    if (be->ptr) {
        error_setg(errp, "cannot change property 'share' of %s",
                   object_get_typename(obj));
        return;
    }
    be->share = value;
}

/*
 * dump and merge may change at run time, as in QEMU: they only advise the
 * host kernel about the mapping.
 */
static void hostmem_apply_advice(HostMemoryBackend *be)
{
    if (!be->ptr) {
        return;
    }
    madvise(be->ptr, be->size, be->dump ? MADV_DODUMP : MADV_DONTDUMP);
    madvise(be->ptr, be->size, be->merge ? MADV_MERGEABLE : MADV_UNMERGEABLE);
}

static bool hostmem_get_dump(Object *obj, Error **errp)
{
    return MEMORY_BACKEND(obj)->dump;
}

static void hostmem_set_dump(Object *obj, bool value, Error **errp)
{
    MEMORY_BACKEND(obj)->dump = value;
    hostmem_apply_advice(MEMORY_BACKEND(obj));
}

static bool hostmem_get_merge(Object *obj, Error **errp)
{
    return MEMORY_BACKEND(obj)->merge;
}

static void hostmem_set_merge(Object *obj, bool value, Error **errp)
{
    MEMORY_BACKEND(obj)->merge = value;
    hostmem_apply_advice(MEMORY_BACKEND(obj));
}

static bool hostmem_complete(UserCreatable *uc, Error **errp)
{
    HostMemoryBackend *be = MEMORY_BACKEND(uc);
    bool memfd = object_dynamic_cast(OBJECT(uc), TYPE_MEMORY_BACKEND_MEMFD);
    int flags = be->share || memfd ? MAP_SHARED : MAP_PRIVATE;
    void *ptr;

    if (!be->size) {
        error_setg(errp, "can't create backend with size 0");
        return false;
    }
    /* Refuse what cannot be mapped rather than failing in mmap. */
    if (be->size > ((uint64_t)1 << 40) || be->size & 0xfff) {
        error_setg(errp, "memory backend size 0x%" G_GINT64_MODIFIER "x must "
                   "be a multiple of 4 KiB and at most 1 TiB", be->size);
        return false;
    }
    if (memfd) {
        be->fd = memfd_create(object_get_canonical_path_component(OBJECT(uc)),
                              MFD_CLOEXEC);
        if (be->fd < 0 || ftruncate(be->fd, be->size) < 0) {
            error_setg_errno(errp, errno, "failed to create memfd");
            if (be->fd >= 0) {
                close(be->fd);
                be->fd = -1;
            }
            return false;
        }
        ptr = mmap(NULL, be->size, PROT_READ | PROT_WRITE, flags, be->fd, 0);
    } else {
        ptr = mmap(NULL, be->size, PROT_READ | PROT_WRITE,
                   flags | MAP_ANONYMOUS, -1, 0);
    }
    if (ptr == MAP_FAILED) {
        error_setg_errno(errp, errno, "cannot allocate %" G_GINT64_MODIFIER
                         "u bytes of host memory", be->size);
        if (be->fd >= 0) {
            close(be->fd);
            be->fd = -1;
        }
        return false;
    }
    be->ptr = ptr;
    hostmem_apply_advice(be);
    return true;
}

static bool hostmem_can_be_deleted(UserCreatable *uc)
{
    return MEMORY_BACKEND(uc)->users == 0;
}

static void hostmem_init(Object *obj)
{
    HostMemoryBackend *be = MEMORY_BACKEND(obj);

    be->fd = -1;
    be->dump = true;
    be->merge = true;
}

static void hostmem_finalize(Object *obj)
{
    HostMemoryBackend *be = MEMORY_BACKEND(obj);

    if (be->ptr) {
        munmap(be->ptr, be->size);
    }
    if (be->fd >= 0) {
        close(be->fd);
    }
}

static void hostmem_class_init(ObjectClass *klass, const void *data)
{
    UserCreatableClass *ucc = (UserCreatableClass *)
        object_class_dynamic_cast(klass, TYPE_USER_CREATABLE);
    ObjectProperty *prop;

    ucc->complete = hostmem_complete;
    ucc->can_be_deleted = hostmem_can_be_deleted;
    prop = object_class_property_add(klass, "size", "size", hostmem_get_size,
                                     hostmem_set_size, NULL, NULL);
    prop->description = g_strdup("Size of the memory region (ex: 500M)");
    object_class_property_add_bool(klass, "share", hostmem_get_share,
                                   hostmem_set_share);
    object_class_property_set_description(klass, "share",
                                          "Mark the memory as private to "
                                          "viommu or shared");
    object_class_property_add_bool(klass, "dump", hostmem_get_dump,
                                   hostmem_set_dump);
    object_class_property_set_description(klass, "dump",
                                          "Set to 'off' to exclude from "
                                          "core dump");
    object_class_property_add_bool(klass, "merge", hostmem_get_merge,
                                   hostmem_set_merge);
    object_class_property_set_description(klass, "merge",
                                          "Mark memory as mergeable");
}

static const TypeInfo hostmem_types[] = {
    {
        .name = TYPE_MEMORY_BACKEND,
        .parent = TYPE_OBJECT,
        .instance_size = sizeof(HostMemoryBackend),
        .instance_init = hostmem_init,
        .instance_finalize = hostmem_finalize,
        .abstract = true,
        .class_init = hostmem_class_init,
        .interfaces = (const InterfaceInfo[]) {
            { TYPE_USER_CREATABLE },
            { NULL }
        },
    },
    {
        .name = TYPE_MEMORY_BACKEND_RAM,
        .parent = TYPE_MEMORY_BACKEND,
    },
    {
        .name = TYPE_MEMORY_BACKEND_MEMFD,
        .parent = TYPE_MEMORY_BACKEND,
    },
};

DEFINE_TYPES(hostmem_types)
