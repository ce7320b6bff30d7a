/*
 * -object iommufd: the iommufd backend (include/system/iommufd.h,
 * docs/iommufd.md), and the abstract host-iommu-device-iommufd class.
 *
 * The fd and who closes it:
 * - without `fd`, /dev/iommu is opened (hostos_open) by the first connect
 *   and closed by the last disconnect, so an unused backend holds nothing;
 * - with `fd=NAME`, the monitor hands the fd registered with getfd over to
 *   the backend (the name is consumed); with `fd=N`, the backend keeps a
 *   duplicate of fd N and leaves N itself to whoever opened it.  Either
 *   way the backend's own fd stays open across disconnects (it cannot be
 *   reopened) and is closed when the object is finalized, so object-del
 *   leaks nothing.
 * Invariant: fd >= 0 iff passed_fd || users > 0.
 *
 * Every operation is one ioctl on the fd through the host-OS layer.  The
 * host's answers are checked where the backend relies on them (ids are
 * never 0, range lists are sorted, counts are within what was asked).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "system/iommufd.h"
#include "host/hostos.h"
#include "monitor/monitor.h"
#include "qom/object_interfaces.h"
#include "qapi/qjson.h"

/* More IOVA ranges than any IOMMU reports: a host answer past it is bogus. */
#define IOMMUFD_MAX_IOVA_RANGES 4096

/* "iommufd 'ID'" once in /objects, else "iommufd". */
static char *be_label(IOMMUFDBackend *be)
{
    const char *id = object_get_canonical_path_component(OBJECT(be));

    return id ? g_strdup_printf("%s '%s'", TYPE_IOMMUFD_BACKEND, id)
              : g_strdup(TYPE_IOMMUFD_BACKEND);
}

/* ------------------------------------------------------------------------
 * The object
 * ------------------------------------------------------------------------ */

static void be_set_fd(Object *obj, const char *str, Error **errp)
{
    IOMMUFDBackend *be = IOMMUFD_BACKEND(obj);
    g_autofree char *label = be_label(be);
    Monitor *mon = monitor_cur();
    Error *err = NULL;
    struct stat st;
    int fd;

    if (be->completed) {
        error_setg(errp, "%s: property 'fd' cannot be changed once the "
                   "object is created", label);
        return;
    }
    /* a name is handed over by the monitor; a number is only borrowed */
    fd = monitor_fd_param(mon, str, &err);
    if (fd < 0) {
        error_prepend(&err, "%s: property 'fd': ", label);
        error_propagate(errp, err);
        return;
    }
    if (!mon || g_ascii_isdigit(str[0])) {
        if (hostos_fstat(fd, &st) < 0) {
            error_setg_errno(errp, errno, "%s: property 'fd': file "
                             "descriptor %d is not usable", label, fd);
            return;
        }
        fd = hostos_dup(fd);
        if (fd < 0) {
            error_setg_errno(errp, errno, "%s: property 'fd': cannot "
                             "duplicate file descriptor %s", label, str);
            return;
        }
    }
    if (be->fd >= 0) {
        hostos_close(be->fd);   /* set twice before creation */
    }
    be->fd = fd;
    be->passed_fd = true;
}

static bool be_complete(UserCreatable *uc, Error **errp)
{
    IOMMUFD_BACKEND(uc)->completed = true;
    return true;
}

static bool be_can_be_deleted(UserCreatable *uc)
{
    return IOMMUFD_BACKEND(uc)->users == 0;
}

static void be_init(Object *obj)
{
    IOMMUFD_BACKEND(obj)->fd = -1;
}

static void be_finalize(Object *obj)
{
    IOMMUFDBackend *be = IOMMUFD_BACKEND(obj);

    /* users left only if their agents are torn down after us, at exit */
    if (be->fd >= 0) {
        hostos_close(be->fd);
        be->fd = -1;
    }
}

static bool be_get_users(Object *obj, ObjectProperty *prop, JsonNode **value,
                         Error **errp)
{
    *value = qjson_new_uint(IOMMUFD_BACKEND(obj)->users);
    return true;
}

static void be_class_init(ObjectClass *klass, const void *data)
{
    UserCreatableClass *ucc = (UserCreatableClass *)
        object_class_dynamic_cast(klass, TYPE_USER_CREATABLE);
    ObjectProperty *prop;

    ucc->complete = be_complete;
    ucc->can_be_deleted = be_can_be_deleted;
    prop = object_class_property_add_str(klass, "fd", NULL, be_set_fd);
    prop->description = g_strdup("File descriptor of an open /dev/iommu: "
                                 "a number, or a name passed with getfd "
                                 "(default: opened when first used)");
    prop = object_class_property_add(klass, "users", "uint32", be_get_users,
                                     NULL, NULL, NULL);
    prop->description = g_strdup("Devices connected to the backend");
}

bool iommufd_be_connect(IOMMUFDBackend *be, Error **errp)
{
    if (be->users == UINT32_MAX) {
        g_autofree char *label = be_label(be);

        error_setg(errp, "%s: too many users", label);
        return false;
    }
    if (be->fd < 0) {
        int fd = hostos_open("/dev/iommu", O_RDWR | O_CLOEXEC);

        if (fd < 0) {
            g_autofree char *label = be_label(be);

            error_setg_errno(errp, errno, "%s: /dev/iommu opening failed",
                             label);
            return false;
        }
        be->fd = fd;
    }
    be->users++;
    return true;
}

void iommufd_be_disconnect(IOMMUFDBackend *be)
{
    /* a disconnect without its connect is a bug of the caller */
    g_assert(be->users > 0);
    if (--be->users == 0 && !be->passed_fd) {
        hostos_close(be->fd);
        be->fd = -1;
    }
}

/* ------------------------------------------------------------------------
 * Operations
 * ------------------------------------------------------------------------ */

/* Operations need a connected user: false with *errp set if none. */
static bool be_ready(IOMMUFDBackend *be, const char *op, Error **errp)
{
    if (be->fd < 0) {
        g_autofree char *label = be_label(be);

        error_setg(errp, "%s: %s: not connected", label, op);
        return false;
    }
    return true;
}

bool iommufd_be_alloc_ioas(IOMMUFDBackend *be, uint32_t *ioas_id,
                           Error **errp)
{
    struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };

    if (!be_ready(be, "IOMMU_IOAS_ALLOC", errp)) {
        return false;
    }
    if (hostos_ioctl(be->fd, IOMMU_IOAS_ALLOC, &alloc) < 0) {
        error_setg_errno(errp, errno, "IOMMU_IOAS_ALLOC failed");
        return false;
    }
    if (!alloc.out_ioas_id) {
        error_setg(errp, "IOMMU_IOAS_ALLOC returned the invalid id 0");
        return false;
    }
    *ioas_id = alloc.out_ioas_id;
    return true;
}

void iommufd_be_free_id(IOMMUFDBackend *be, uint32_t id)
{
    struct iommu_destroy destroy = { .size = sizeof(destroy), .id = id };
    Error *err = NULL;

    if (!be_ready(be, "IOMMU_DESTROY", &err)) {
        warn_report_err(err);
        return;
    }
    if (hostos_ioctl(be->fd, IOMMU_DESTROY, &destroy) < 0) {
        warn_report("IOMMU_DESTROY: Failed to free id %" PRIu32 ": %s", id,
                    strerror(errno));
    }
}

bool iommufd_be_get_iova_ranges(IOMMUFDBackend *be, uint32_t ioas_id,
                                GList **ranges, uint64_t *alignment,
                                Error **errp)
{
    struct iommu_ioas_iova_ranges query = {
        .size = sizeof(query), .ioas_id = ioas_id,
    };
    g_autofree struct iommu_iova_range *r = NULL;
    uint32_t n = 0;

    *ranges = NULL;
    if (!be_ready(be, "IOMMU_IOAS_IOVA_RANGES", errp)) {
        return false;
    }
    /* learn the count, then fetch; it may grow in between (an attach) */
    for (int tries = 0;; tries++) {
        query.num_iovas = n;
        query.allowed_iovas = (uintptr_t)r;
        if (hostos_ioctl(be->fd, IOMMU_IOAS_IOVA_RANGES, &query) >= 0) {
            break;
        }
        if (errno != EMSGSIZE || tries == 3) {
            error_setg_errno(errp, errno, "IOMMU_IOAS_IOVA_RANGES (ioas %"
                             PRIu32 ") failed", ioas_id);
            return false;
        }
        if (query.num_iovas <= n ||
            query.num_iovas > IOMMUFD_MAX_IOVA_RANGES) {
            error_setg(errp, "IOMMU_IOAS_IOVA_RANGES (ioas %" PRIu32 "): "
                       "the host reported %" PRIu32 " ranges", ioas_id,
                       query.num_iovas);
            return false;
        }
        n = query.num_iovas;
        r = g_renew(struct iommu_iova_range, r, n);
    }
    if (query.num_iovas > n) {
        error_setg(errp, "IOMMU_IOAS_IOVA_RANGES (ioas %" PRIu32 "): the "
                   "host reported %" PRIu32 " ranges in room for %" PRIu32,
                   ioas_id, query.num_iovas, n);
        return false;
    }
    for (uint32_t i = query.num_iovas; i > 0; i--) {
        *ranges = g_list_prepend(*ranges, range_new(r[i - 1].start,
                                                    r[i - 1].last));
    }
    /* each range valid, sorted and disjoint: users invert this list */
    if (range_list_find_invalid(*ranges)) {
        error_setg(errp, "IOMMU_IOAS_IOVA_RANGES (ioas %" PRIu32 "): the "
                   "host reported an invalid range list", ioas_id);
        range_list_free(*ranges);
        *ranges = NULL;
        return false;
    }
    *alignment = query.out_iova_alignment;
    return true;
}

int iommufd_be_map_dma(IOMMUFDBackend *be, uint32_t ioas_id, uint64_t iova,
                       uint64_t size, void *vaddr, bool readonly,
                       Error **errp)
{
    struct iommu_ioas_map map = {
        .size = sizeof(map),
        .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
                 (readonly ? 0 : IOMMU_IOAS_MAP_WRITEABLE),
        .ioas_id = ioas_id,
        .user_va = (uintptr_t)vaddr,
        .length = size,
        .iova = iova,
    };
    int e;

    if (!be_ready(be, "IOMMU_IOAS_MAP", errp)) {
        return -EBADF;
    }
    if (hostos_ioctl(be->fd, IOMMU_IOAS_MAP, &map) >= 0) {
        return 0;
    }
    e = errno;
    /* iommufd cannot map device memory (peer-to-peer DMA to a BAR) */
    if (e == EFAULT) {
        warn_report("IOMMU_IOAS_MAP failed: %s, PCI BAR?", strerror(e));
    }
    error_setg_errno(errp, e, "IOMMU_IOAS_MAP (ioas %" PRIu32 ", iova 0x%"
                     PRIx64 ", size 0x%" PRIx64 "%s) failed", ioas_id, iova,
                     size, readonly ? ", read-only" : "");
    return -e;
}

int iommufd_be_map_file_dma(IOMMUFDBackend *be, uint32_t ioas_id,
                            uint64_t iova, uint64_t size, int fd,
                            uint64_t start, bool readonly, Error **errp)
{
    struct iommu_ioas_map_file map = {
        .size = sizeof(map),
        .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
                 (readonly ? 0 : IOMMU_IOAS_MAP_WRITEABLE),
        .ioas_id = ioas_id,
        .fd = fd,
        .start = start,
        .length = size,
        .iova = iova,
    };
    int e;

    if (!be_ready(be, "IOMMU_IOAS_MAP_FILE", errp)) {
        return -EBADF;
    }
    if (hostos_ioctl(be->fd, IOMMU_IOAS_MAP_FILE, &map) >= 0) {
        return 0;
    }
    e = errno;
    error_setg_errno(errp, e, "IOMMU_IOAS_MAP_FILE (ioas %" PRIu32 ", iova 0x%"
                     PRIx64 ", size 0x%" PRIx64 ", fd %d, offset 0x%" PRIx64
                     "%s) failed", ioas_id, iova, size, fd, start,
                     readonly ? ", read-only" : "");
    return -e;
}

int iommufd_be_unmap_dma(IOMMUFDBackend *be, uint32_t ioas_id, uint64_t iova,
                         uint64_t size, Error **errp)
{
    struct iommu_ioas_unmap unmap = {
        .size = sizeof(unmap),
        .ioas_id = ioas_id,
        .iova = iova,
        .length = size,
    };
    int e;

    if (!be_ready(be, "IOMMU_IOAS_UNMAP", errp)) {
        return -EBADF;
    }
    if (hostos_ioctl(be->fd, IOMMU_IOAS_UNMAP, &unmap) >= 0) {
        return 0;
    }
    e = errno;
    /*
     * Nothing mapped there: vIOMMUs send redundant unmaps, and the legacy
     * container accepts them; so does this backend.
     */
    if (e == ENOENT) {
        return 0;
    }
    error_setg_errno(errp, e, "IOMMU_IOAS_UNMAP (ioas %" PRIu32 ", iova 0x%"
                     PRIx64 ", size 0x%" PRIx64 ") failed", ioas_id, iova,
                     size);
    return -e;
}

bool iommufd_be_get_device_info(IOMMUFDBackend *be, uint32_t devid,
                                uint32_t *type, void *data, uint32_t len,
                                uint64_t *caps, uint8_t *max_pasid_log2,
                                Error **errp)
{
    struct iommu_hw_info info = {
        .size = sizeof(info),
        .dev_id = devid,
        .data_len = len,
        .data_uptr = (uintptr_t)data,
    };

    if (!be_ready(be, "IOMMU_GET_HW_INFO", errp)) {
        return false;
    }
    /* the kernel zero-fills what it does not write; do not rely on it */
    if (data && len) {
        memset(data, 0, len);
    }
    if (hostos_ioctl(be->fd, IOMMU_GET_HW_INFO, &info) < 0) {
        error_setg_errno(errp, errno, "IOMMU_GET_HW_INFO (dev_id %" PRIu32
                         ") failed", devid);
        return false;
    }
    *type = info.out_data_type;
    if (caps) {
        *caps = info.out_capabilities;
    }
    if (max_pasid_log2) {
        *max_pasid_log2 = info.out_max_pasid_log2;
    }
    return true;
}

bool iommufd_be_alloc_hwpt(IOMMUFDBackend *be, uint32_t dev_id,
                           uint32_t pt_id, uint32_t flags,
                           uint32_t data_type, uint32_t data_len, void *data,
                           uint32_t *out_hwpt, Error **errp)
{
    struct iommu_hwpt_alloc alloc = {
        .size = sizeof(alloc),
        .flags = flags,
        .dev_id = dev_id,
        .pt_id = pt_id,
        .data_type = data_type,
        .data_len = data_len,
        .data_uptr = (uintptr_t)data,
    };

    if (!be_ready(be, "IOMMU_HWPT_ALLOC", errp)) {
        return false;
    }
    if (hostos_ioctl(be->fd, IOMMU_HWPT_ALLOC, &alloc) < 0) {
        error_setg_errno(errp, errno, "IOMMU_HWPT_ALLOC (dev_id %" PRIu32
                         ", pt_id %" PRIu32 ", flags 0x%" PRIx32
                         ", data_type %" PRIu32 ") failed", dev_id, pt_id,
                         flags, data_type);
        return false;
    }
    if (!alloc.out_hwpt_id) {
        error_setg(errp, "IOMMU_HWPT_ALLOC returned the invalid id 0");
        return false;
    }
    *out_hwpt = alloc.out_hwpt_id;
    return true;
}

bool iommufd_be_set_dirty_tracking(IOMMUFDBackend *be, uint32_t hwpt_id,
                                   bool start, Error **errp)
{
    struct iommu_hwpt_set_dirty_tracking set = {
        .size = sizeof(set),
        .flags = start ? IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0,
        .hwpt_id = hwpt_id,
    };

    if (!be_ready(be, "IOMMU_HWPT_SET_DIRTY_TRACKING", errp)) {
        return false;
    }
    if (hostos_ioctl(be->fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &set) < 0) {
        error_setg_errno(errp, errno, "IOMMU_HWPT_SET_DIRTY_TRACKING (hwpt_id %"
                         PRIu32 ", %s) failed", hwpt_id,
                         start ? "start" : "stop");
        return false;
    }
    return true;
}

bool iommufd_be_get_dirty_bitmap(IOMMUFDBackend *be, uint32_t hwpt_id,
                                 uint64_t iova, uint64_t size,
                                 uint64_t page_size, uint64_t *data,
                                 uint32_t flags, Error **errp)
{
    struct iommu_hwpt_get_dirty_bitmap get = {
        .size = sizeof(get),
        .hwpt_id = hwpt_id,
        .flags = flags,
        .iova = iova,
        .length = size,
        .page_size = page_size,
        .data = (uintptr_t)data,
    };

    if (!be_ready(be, "IOMMU_HWPT_GET_DIRTY_BITMAP", errp)) {
        return false;
    }
    if (hostos_ioctl(be->fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &get) < 0) {
        error_setg_errno(errp, errno, "IOMMU_HWPT_GET_DIRTY_BITMAP (hwpt_id %"
                         PRIu32 ", iova 0x%" PRIx64 ", size 0x%" PRIx64
                         ") failed", hwpt_id, iova, size);
        return false;
    }
    return true;
}

bool iommufd_be_invalidate_cache(IOMMUFDBackend *be, uint32_t id,
                                 uint32_t data_type, uint32_t entry_len,
                                 uint32_t *entry_num, void *data,
                                 Error **errp)
{
    uint32_t total = *entry_num;
    struct iommu_hwpt_invalidate inv = {
        .size = sizeof(inv),
        .hwpt_id = id,
        .data_uptr = (uintptr_t)data,
        .data_type = data_type,
        .entry_len = entry_len,
        .entry_num = total,
    };
    int r;

    if (!be_ready(be, "IOMMU_HWPT_INVALIDATE", errp)) {
        *entry_num = 0;
        return false;
    }
    r = hostos_ioctl(be->fd, IOMMU_HWPT_INVALIDATE, &inv);
    /* never report more than was asked, whatever the host says */
    *entry_num = MIN(inv.entry_num, total);
    if (r < 0) {
        error_setg_errno(errp, errno, "IOMMU_HWPT_INVALIDATE (id %" PRIu32
                         ") failed: total %" PRIu32 " entries, processed %"
                         PRIu32 " entries", id, total, inv.entry_num);
        return false;
    }
    if (inv.entry_num != total) {
        error_setg(errp, "IOMMU_HWPT_INVALIDATE (id %" PRIu32 ") succeeded "
                   "but with unprocessed entries: total %" PRIu32
                   " entries, processed %" PRIu32 " entries. Kernel BUG?!",
                   id, total, inv.entry_num);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------------
 * host-iommu-device-iommufd (abstract)
 * ------------------------------------------------------------------------ */

static const char *idev_label(HostIOMMUDeviceIOMMUFD *idev)
{
    HostIOMMUDevice *hiod = HOST_IOMMU_DEVICE(idev);

    return hiod->name ? hiod->name : object_get_typename(OBJECT(idev));
}

bool host_iommu_device_iommufd_setup(HostIOMMUDeviceIOMMUFD *idev,
                                     IOMMUFDBackend *be, uint32_t devid,
                                     uint32_t hwpt_id, Error **errp)
{
    HostIOMMUDeviceCaps caps = { 0 };
    Error *err = NULL;

    if (!be) {
        error_setg(errp, "%s: no iommufd backend", idev_label(idev));
        return false;
    }
    if (!devid) {
        error_setg(errp, "%s: no iommufd device id", idev_label(idev));
        return false;
    }
    if (!iommufd_be_get_device_info(be, devid, &caps.type, &caps.vendor_caps,
                                    sizeof(caps.vendor_caps), &caps.hw_caps,
                                    &caps.max_pasid_log2, &err)) {
        error_prepend(&err, "%s: ", idev_label(idev));
        error_propagate(errp, err);
        return false;
    }
    object_ref(be);
    if (idev->iommufd) {
        object_unref(idev->iommufd);
    }
    idev->iommufd = be;
    idev->devid = devid;
    idev->hwpt_id = hwpt_id;
    HOST_IOMMU_DEVICE(idev)->caps = caps;
    return true;
}

bool host_iommu_device_iommufd_attach_hwpt(HostIOMMUDeviceIOMMUFD *idev,
                                           uint32_t hwpt_id, Error **errp)
{
    HostIOMMUDeviceIOMMUFDClass *k = HOST_IOMMU_DEVICE_IOMMUFD_GET_CLASS(idev);

    if (!k->attach_hwpt) {
        error_setg(errp, "%s: .attach_hwpt() not implemented",
                   idev_label(idev));
        return false;
    }
    return k->attach_hwpt(idev, hwpt_id, errp);
}

bool host_iommu_device_iommufd_detach_hwpt(HostIOMMUDeviceIOMMUFD *idev,
                                           Error **errp)
{
    HostIOMMUDeviceIOMMUFDClass *k = HOST_IOMMU_DEVICE_IOMMUFD_GET_CLASS(idev);

    if (!k->detach_hwpt) {
        error_setg(errp, "%s: .detach_hwpt() not implemented",
                   idev_label(idev));
        return false;
    }
    return k->detach_hwpt(idev, errp);
}

static void idev_init(Object *obj)
{
    HostIOMMUDeviceIOMMUFD *idev = HOST_IOMMU_DEVICE_IOMMUFD(obj);
    ObjectProperty *prop;

    prop = object_property_add_uint32_ptr(obj, "devid", &idev->devid,
                                          OBJ_PROP_FLAG_READ);
    prop->description = g_strdup("iommufd device object id");
    prop = object_property_add_uint32_ptr(obj, "hwpt-id", &idev->hwpt_id,
                                          OBJ_PROP_FLAG_READ);
    prop->description = g_strdup("Default HWPT id (the nest parent, if any)");
    prop = object_property_add_uint32_ptr(obj, "ioas-id", &idev->ioas_id,
                                          OBJ_PROP_FLAG_READ);
    prop->description = g_strdup("The IOAS the device is attached through "
                                 "(0: not known)");
    prop = object_property_add_uint32_ptr(obj, "nested-hwpt-id",
                                          &idev->nested_hwpt_id,
                                          OBJ_PROP_FLAG_READ);
    prop->description = g_strdup("The vIOMMU's nested HWPT the device is "
                                 "attached to (0: none)");
    prop = object_property_add_uint64_ptr(obj, "first-stage-table",
                                          &idev->first_stage_table,
                                          OBJ_PROP_FLAG_READ);
    prop->description = g_strdup("Guest stage-1 table of that nested HWPT "
                                 "(0: none)");
    /* no check function: read-only; the reference is our own */
    prop = object_property_add_link(obj, "iommufd", TYPE_IOMMUFD_BACKEND,
                                    (Object **)&idev->iommufd, NULL, 0);
    prop->description = g_strdup("The iommufd backend");
}

static void idev_finalize(Object *obj)
{
    HostIOMMUDeviceIOMMUFD *idev = HOST_IOMMU_DEVICE_IOMMUFD(obj);

    if (idev->iommufd) {
        object_unref(idev->iommufd);
        idev->iommufd = NULL;
    }
}

static void idev_class_init(ObjectClass *klass, const void *data)
{
    HostIOMMUDeviceClass *hiodc = HOST_IOMMU_DEVICE_CLASS(klass);

    hiodc->get_cap = host_iommu_device_caps_get_cap;
    hiodc->get_pasid_info = host_iommu_device_caps_get_pasid_info;
}

static const TypeInfo iommufd_types[] = {
    {
        .name = TYPE_IOMMUFD_BACKEND,
        .parent = TYPE_OBJECT,
        .instance_size = sizeof(IOMMUFDBackend),
        .instance_init = be_init,
        .instance_finalize = be_finalize,
        .class_init = be_class_init,
        .interfaces = (const InterfaceInfo[]) {
            { TYPE_USER_CREATABLE },
            { NULL }
        },
    },
    {
        .name = TYPE_HOST_IOMMU_DEVICE_IOMMUFD,
        .parent = TYPE_HOST_IOMMU_DEVICE,
        .instance_size = sizeof(HostIOMMUDeviceIOMMUFD),
        .instance_init = idev_init,
        .instance_finalize = idev_finalize,
        .abstract = true,
        .class_size = sizeof(HostIOMMUDeviceIOMMUFDClass),
        .class_init = idev_class_init,
    },
};

DEFINE_TYPES(iommufd_types)
