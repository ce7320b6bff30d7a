/*
 * The simulated host: lifecycle, description parsing, groups and devices,
 * the private directory tree and its node table, open-file states and the
 * public file-operation entry points, which dispatch through SimFileOps.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sim-internal.h"

/* ---- description -------------------------------------------------------- */

void sim_host_desc_init(SimHostDesc *d)
{
    memset(d, 0, sizeof(*d));
    d->iommu = SIM_IOMMU_VTD;
    d->aw_bits = 48;
    d->nesting = true;
    d->fs1gp = true;
    d->dirty_tracking = true;
    d->pasid_bits = 20;
    d->pgsizes = (1ull << 12) | (1ull << 21) | (1ull << 30);
    d->n_reserved = 1;
    d->reserved[0].start = 0xfee00000;     /* x86 MSI window */
    d->reserved[0].last = 0xfeefffff;
    d->iommufd = true;
    d->cdev = true;
    d->dma_entry_limit = 65535;
}

void sim_device_desc_init(SimDeviceDesc *d)
{
    memset(d, 0, sizeof(*d));
    d->group = -1;
    g_strlcpy(d->model, "dma", sizeof(d->model));
    d->pasid_bits = -1;
    d->dirty = true;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = { "on", "yes", "true", "1" };
    static const char *const no[] = { "off", "no", "false", "0" };

    for (unsigned i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (!strcmp(v, yes[i])) {
            *out = true;
            return 0;
        }
        if (!strcmp(v, no[i])) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

/* A number (decimal, 0x hex) with an optional binary K/M/G/T suffix. */
static int parse_u64(const char *v, uint64_t *out)
{
    char *end;
    unsigned shift = 0;
    unsigned long long n;

    if (!*v || *v == '-' || *v == '+' || g_ascii_isspace(*v)) {
        return -EINVAL;
    }
    errno = 0;
    n = strtoull(v, &end, 0);
    if (errno || end == v) {
        return -EINVAL;
    }
    switch (g_ascii_toupper(*end)) {
    case 'K': shift = 10; end++; break;
    case 'M': shift = 20; end++; break;
    case 'G': shift = 30; end++; break;
    case 'T': shift = 40; end++; break;
    }
    if (*end || (shift && n > (UINT64_MAX >> shift))) {
        return -EINVAL;
    }
    *out = (uint64_t)n << shift;
    return 0;
}

static int parse_uint_max(const char *v, uint64_t max, uint64_t *out)
{
    int r = parse_u64(v, out);

    return r ? r : (*out > max ? -EINVAL : 0);
}

/* "4K:2M:1G" or a bitmap "0x40201000": the OR of ':'-separated numbers. */
static int parse_pgsizes(const char *v, uint64_t *out)
{
    g_auto(GStrv) items = g_strsplit(v, ":", -1);
    uint64_t bits = 0, n;

    for (unsigned i = 0; items[i]; i++) {
        if (parse_u64(items[i], &n)) {
            return -EINVAL;
        }
        bits |= n;
    }
    *out = bits;
    return 0;
}

/* "none" or START-LAST[:START-LAST...] */
static int parse_reserved(const char *v, SimHostDesc *d)
{
    g_auto(GStrv) items = NULL;
    unsigned n = 0;

    if (!strcmp(v, "none")) {
        d->n_reserved = 0;
        return 0;
    }
    items = g_strsplit(v, ":", -1);
    for (unsigned i = 0; items[i]; i++) {
        char *dash = strchr(items[i], '-');

        if (!dash || n >= SIM_MAX_RESERVED) {
            return -EINVAL;
        }
        *dash = '\0';
        if (parse_u64(items[i], &d->reserved[n].start) ||
            parse_u64(dash + 1, &d->reserved[n].last) ||
            d->reserved[n].start > d->reserved[n].last) {
            return -EINVAL;
        }
        n++;
    }
    if (n == 0) {
        return -EINVAL;
    }
    d->n_reserved = n;
    return 0;
}

static int host_set(SimHostDesc *d, const char *key, const char *v)
{
    uint64_t n;

    if (!strcmp(key, "iommu")) {
        if (!strcmp(v, "vtd") || !strcmp(v, "intel-vtd")) {
            d->iommu = SIM_IOMMU_VTD;
        } else if (!strcmp(v, "smmuv3")) {
            d->iommu = SIM_IOMMU_SMMUV3;
        } else if (!strcmp(v, "none")) {
            d->iommu = SIM_IOMMU_NONE;
        } else {
            return -EINVAL;
        }
        return 0;
    }
    if (!strcmp(key, "aw-bits")) {
        int r = parse_uint_max(v, 64, &n);
        d->aw_bits = n;
        return r;
    }
    if (!strcmp(key, "pasid-bits")) {
        int r = parse_uint_max(v, 20, &n);
        d->pasid_bits = n;
        return r;
    }
    if (!strcmp(key, "dma-entry-limit")) {
        int r = parse_uint_max(v, UINT32_MAX, &n);
        d->dma_entry_limit = n;
        return r;
    }
    if (!strcmp(key, "nesting")) {
        return parse_bool(v, &d->nesting);
    }
    if (!strcmp(key, "fs1gp")) {
        return parse_bool(v, &d->fs1gp);
    }
    if (!strcmp(key, "dirty-tracking")) {
        return parse_bool(v, &d->dirty_tracking);
    }
    if (!strcmp(key, "erratum-spr17")) {
        return parse_bool(v, &d->erratum_spr17);
    }
    if (!strcmp(key, "iommufd")) {
        return parse_bool(v, &d->iommufd);
    }
    if (!strcmp(key, "cdev")) {
        return parse_bool(v, &d->cdev);
    }
    if (!strcmp(key, "pgsizes")) {
        return parse_pgsizes(v, &d->pgsizes);
    }
    if (!strcmp(key, "reserved")) {
        return parse_reserved(v, d);
    }
    if (!strcmp(key, "root")) {
        return g_strlcpy(d->root, v, sizeof(d->root)) < sizeof(d->root)
               ? 0 : -EINVAL;
    }
    return -EINVAL;
}

static int device_set(SimDeviceDesc *d, const char *key, const char *v)
{
    uint64_t n;
    int r;

    if (!strcmp(key, "bdf") || !strcmp(key, "host")) {
        return g_strlcpy(d->bdf, v, sizeof(d->bdf)) < sizeof(d->bdf)
               ? 0 : -EINVAL;
    }
    if (!strcmp(key, "model")) {
        return g_strlcpy(d->model, v, sizeof(d->model)) < sizeof(d->model)
               ? 0 : -EINVAL;
    }
    if (!strcmp(key, "group") || !strcmp(key, "iommu-group")) {
        r = parse_uint_max(v, INT_MAX, &n);
        d->group = n;
        return r;
    }
    if (!strcmp(key, "vendor")) {
        r = parse_uint_max(v, 0xffff, &n);
        d->vendor_id = n;
        return r;
    }
    if (!strcmp(key, "device")) {
        r = parse_uint_max(v, 0xffff, &n);
        d->device_id = n;
        return r;
    }
    if (!strcmp(key, "pasid-bits")) {
        r = parse_uint_max(v, 20, &n);
        d->pasid_bits = n;
        return r;
    }
    if (!strcmp(key, "dirty")) {
        return parse_bool(v, &d->dirty);
    }
    return -EINVAL;
}

/* Apply "key=value,key=value" through @set. */
static int parse_opts(const char *text, void *desc,
                      int (*set)(void *desc, const char *k, const char *v))
{
    g_auto(GStrv) items = NULL;

    if (!text) {
        return -EINVAL;
    }
    items = g_strsplit(text, ",", -1);
    for (unsigned i = 0; items[i]; i++) {
        char *eq;

        if (!items[i][0]) {
            continue;       /* "a=1,,b=2" and a trailing comma */
        }
        eq = strchr(items[i], '=');
        if (!eq) {
            return -EINVAL;
        }
        *eq = '\0';
        if (set(desc, items[i], eq + 1)) {
            return -EINVAL;
        }
    }
    return 0;
}

static int host_set_cb(void *d, const char *k, const char *v)
{
    return host_set(d, k, v);
}

static int device_set_cb(void *d, const char *k, const char *v)
{
    return device_set(d, k, v);
}

int sim_host_desc_parse(SimHostDesc *desc, const char *text)
{
    if (text && strchr(text, ';')) {
        return -EINVAL;
    }
    return parse_opts(text, desc, host_set_cb);
}

int sim_device_desc_parse(SimDeviceDesc *desc, const char *text)
{
    return parse_opts(text, desc, device_set_cb);
}

static int desc_validate(const SimHostDesc *d)
{
    if (d->iommu != SIM_IOMMU_NONE && d->iommu != SIM_IOMMU_VTD &&
        d->iommu != SIM_IOMMU_SMMUV3) {
        return -EINVAL;
    }
    if (d->aw_bits != 39 && d->aw_bits != 48 && d->aw_bits != 57) {
        return -EINVAL;
    }
    if (d->pasid_bits > 20 || d->n_reserved > SIM_MAX_RESERVED) {
        return -EINVAL;
    }
    /* 4 KiB pages always, nothing smaller (the sim's stage-2 granule) */
    if (!(d->pgsizes & SIM_PAGE_SIZE) || (d->pgsizes & (SIM_PAGE_SIZE - 1))) {
        return -EINVAL;
    }
    for (unsigned i = 0; i < d->n_reserved; i++) {
        if (d->reserved[i].start > d->reserved[i].last) {
            return -EINVAL;
        }
    }
    if (d->cdev && !d->iommufd) {
        return -EINVAL;
    }
    if (memchr(d->root, '\0', sizeof(d->root)) == NULL ||
        (d->root[0] && d->root[0] != '/')) {
        return -EINVAL;
    }
    return 0;
}

/* ---- user memory -------------------------------------------------------- */

/*
 * The calling process's memory is read and written with process_vm_readv/
 * writev on ourselves when the kernel allows it, so that a bad user pointer
 * is EFAULT rather than a crash; otherwise with memcpy after a NULL check.
 */
static bool probe_safe_copy(void)
{
    uint64_t src = 0x5a5a, dst = 0;
    struct iovec l = { &dst, sizeof(dst) }, r = { &src, sizeof(src) };

    return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == sizeof(dst) &&
           dst == src;
}

static int user_rw(SimHost *host, void *local, uint64_t uptr, size_t len,
                   bool to_user)
{
    struct iovec l = { local, len }, r = { (void *)(uintptr_t)uptr, len };
    ssize_t n;

    if (!len) {
        return 0;
    }
    if (!uptr || uptr + len < uptr) {
        return -EFAULT;
    }
    if (!host->safe_copy) {
        if (to_user) {
            memcpy(r.iov_base, local, len);
        } else {
            memcpy(local, r.iov_base, len);
        }
        return 0;
    }
    n = to_user ? process_vm_writev(getpid(), &l, 1, &r, 1, 0)
                : process_vm_readv(getpid(), &l, 1, &r, 1, 0);
    return n == (ssize_t)len ? 0 : -EFAULT;
}

int sim_copy_from_user(SimHost *host, void *dst, uint64_t uptr, size_t len)
{
    return user_rw(host, dst, uptr, len, false);
}

int sim_copy_to_user(SimHost *host, uint64_t uptr, const void *src,
                     size_t len)
{
    return user_rw(host, (void *)src, uptr, len, true);
}

int sim_copy_struct_from_user(SimHost *host, void *dst, size_t ksize,
                              uint64_t uptr, size_t usize)
{
    size_t n = usize < ksize ? usize : ksize;
    int r;

    memset(dst, 0, ksize);
    r = sim_copy_from_user(host, dst, uptr, n);
    if (r) {
        return r;
    }
    /* a bigger user struct must be zero beyond what we understand */
    for (size_t off = ksize; off < usize; ) {
        uint8_t buf[256];
        size_t chunk = MIN(sizeof(buf), usize - off);

        r = sim_copy_from_user(host, buf, uptr + off, chunk);
        if (r) {
            return r;
        }
        for (size_t i = 0; i < chunk; i++) {
            if (buf[i]) {
                return -E2BIG;
            }
        }
        off += chunk;
    }
    return 0;
}

int sim_user_range_check(uint64_t uva, uint64_t len)
{
    uint64_t start = uva & ~(SIM_PAGE_SIZE - 1);

    if (!len) {
        return 0;
    }
    if (uva + len < uva) {
        return -EFAULT;
    }
    /* msync fails with ENOMEM unless the whole range is mapped */
    if (msync((void *)(uintptr_t)start, uva + len - start, MS_ASYNC)) {
        return -EFAULT;
    }
    return 0;
}

/* ---- groups and devices ------------------------------------------------- */

int sim_group_claim(SimGroup *group, const void *owner)
{
    if (group->owner && group->owner != owner) {
        return -EBUSY;
    }
    group->owner = owner;
    group->owner_refs++;
    return 0;
}

void sim_group_unclaim(SimGroup *group, const void *owner)
{
    g_assert(group->owner == owner && group->owner_refs > 0);
    if (--group->owner_refs == 0) {
        group->owner = NULL;
    }
}

static SimGroup *group_get(SimHost *host, int id)
{
    SimGroup *g = g_hash_table_lookup(host->groups, GINT_TO_POINTER(id));

    if (!g) {
        g = g_new0(SimGroup, 1);
        g->host = host;
        g->id = id;
        g->devices = g_ptr_array_new();
        g_hash_table_insert(host->groups, GINT_TO_POINTER(id), g);
    }
    return g;
}

static void group_drop_device(SimGroup *g, SimDevice *dev)
{
    g_ptr_array_remove(g->devices, dev);
    if (g->devices->len == 0) {
        g_hash_table_remove(g->host->groups, GINT_TO_POINTER(g->id));
        g_ptr_array_free(g->devices, true);
        g_free(g);
    }
}

/* "0000:02:00.0" or "02:00.0" → canonical lower-case "0000:02:00.0". */
static int bdf_canonical(const char *in, char out[16])
{
    unsigned dom = 0, bus, slot, fn;
    int n = 0;

    if (sscanf(in, "%4x:%2x:%2x.%1x%n", &dom, &bus, &slot, &fn, &n) != 4 ||
        (size_t)n != strlen(in) || strlen(in) != 12) {
        n = 0;
        dom = 0;
        if (sscanf(in, "%2x:%2x.%1x%n", &bus, &slot, &fn, &n) != 3 ||
            (size_t)n != strlen(in) || strlen(in) != 7) {
            return -EINVAL;
        }
    }
    if (!g_ascii_isxdigit(in[0]) || slot > 0x1f || fn > 7) {
        return -EINVAL;
    }
    snprintf(out, 16, "%04x:%02x:%02x.%x", dom, bus, slot, fn);
    return 0;
}

static SimDevice *find_device(SimHost *host, const char *bdf)
{
    char canon[16];

    if (!bdf || bdf_canonical(bdf, canon)) {
        return NULL;
    }
    for (unsigned i = 0; i < host->devices->len; i++) {
        SimDevice *dev = g_ptr_array_index(host->devices, i);

        if (!strcmp(dev->desc.bdf, canon)) {
            return dev;
        }
    }
    return NULL;
}

static int free_group_id(SimHost *host)
{
    while (g_hash_table_contains(host->groups,
                                 GINT_TO_POINTER(host->next_group))) {
        host->next_group++;
    }
    return host->next_group++;
}

static void device_free(SimDevice *dev)
{
    sim_iommufd_unbind(dev);
    sim_files_remove_device(dev->host, dev);
    sim_vfio_device_fini(dev);
    sim_model_fini(dev);
    group_drop_device(dev->group, dev);
    if (dev->pasid_hwpt) {
        g_hash_table_destroy(dev->pasid_hwpt);
    }
    g_free(dev);
}

static int add_device(SimHost *host, const SimDeviceDesc *desc,
                      SimDevice **out)
{
    SimDevice *dev;
    char canon[16];
    int r;

    if (memchr(desc->bdf, '\0', sizeof(desc->bdf)) == NULL ||
        memchr(desc->model, '\0', sizeof(desc->model)) == NULL ||
        bdf_canonical(desc->bdf, canon) || desc->group < -1 ||
        desc->pasid_bits < -1 || desc->pasid_bits > 20 || !desc->model[0]) {
        return -EINVAL;
    }
    if (find_device(host, canon)) {
        return -EEXIST;
    }
    if (host->devices->len >= SIM_MAX_DEVICES) {
        return -ENOSPC;
    }
    dev = g_new0(SimDevice, 1);
    dev->host = host;
    dev->desc = *desc;
    memcpy(dev->desc.bdf, canon, sizeof(canon));
    if (dev->desc.group < 0) {
        dev->desc.group = free_group_id(host);
    }
    dev->pasid_bits = desc->pasid_bits < 0 ? host->desc.pasid_bits
                      : MIN((unsigned)desc->pasid_bits, host->desc.pasid_bits);
    if (host->desc.iommu == SIM_IOMMU_NONE) {
        dev->pasid_bits = 0;        /* PASID needs an IOMMU that has it */
    }
    dev->dirty = desc->dirty;
    dev->group = group_get(host, dev->desc.group);
    g_ptr_array_add(dev->group->devices, dev);

    r = sim_model_init(dev);
    if (r) {
        group_drop_device(dev->group, dev);
        g_free(dev);
        return r;
    }
    r = sim_vfio_device_init(dev);
    if (!r) {
        r = sim_files_add_device(host, dev);
        if (r) {
            sim_vfio_device_fini(dev);
        }
    }
    if (r) {
        sim_model_fini(dev);
        group_drop_device(dev->group, dev);
        g_free(dev);
        return r;
    }
    g_ptr_array_add(host->devices, dev);
    if (out) {
        *out = dev;
    }
    return 0;
}

int sim_host_add_device(SimHost *host, const SimDeviceDesc *desc,
                        SimDevice **out)
{
    int r;

    if (!host || !desc) {
        return -EINVAL;
    }
    g_mutex_lock(&host->lock);
    r = add_device(host, desc, out);
    g_mutex_unlock(&host->lock);
    return r;
}

int sim_host_remove_device(SimHost *host, SimDevice *dev)
{
    int r = 0;

    if (!host || !dev) {
        return -EINVAL;
    }
    g_mutex_lock(&host->lock);
    if (!g_ptr_array_find(host->devices, dev, NULL) || dev->host != host) {
        r = -ENOENT;
    } else if (dev->idev || sim_vfio_device_busy(dev)) {
        r = -EBUSY;
    } else {
        g_ptr_array_remove(host->devices, dev);
        device_free(dev);
    }
    g_mutex_unlock(&host->lock);
    return r;
}

SimDevice *sim_host_find_device(SimHost *host, const char *bdf)
{
    SimDevice *dev;

    if (!host) {
        return NULL;
    }
    g_mutex_lock(&host->lock);
    dev = find_device(host, bdf);
    g_mutex_unlock(&host->lock);
    return dev;
}

const char *sim_device_bdf(const SimDevice *dev)
{
    return dev ? dev->desc.bdf : NULL;
}

int sim_device_group(const SimDevice *dev)
{
    return dev ? dev->desc.group : -EINVAL;
}

/* ---- host lifecycle ----------------------------------------------------- */

static void host_destroy(SimHost *host)
{
    /* open files first: releasing them unbinds and detaches devices */
    sim_fs_release_files(host);
    while (host->devices->len) {
        SimDevice *dev = g_ptr_array_steal_index(host->devices,
                                                 host->devices->len - 1);
        device_free(dev);
    }
    sim_vfio_host_fini(host);
    sim_fs_fini(host);
    g_hash_table_destroy(host->groups);
    g_ptr_array_free(host->devices, true);
    g_mutex_clear(&host->lock);
    g_free(host);
}

int sim_host_new(const SimHostDesc *desc, SimHost **out)
{
    SimHost *host;
    int r;

    if (!desc || !out) {
        return -EINVAL;
    }
    r = desc_validate(desc);
    if (r) {
        return r;
    }
    host = g_new0(SimHost, 1);
    g_mutex_init(&host->lock);
    host->desc = *desc;
    if (desc->iommu == SIM_IOMMU_VTD) {
        sim_vtd_regs_compute(desc, &host->vtd_cap, &host->vtd_ecap);
    }
    host->safe_copy = probe_safe_copy();
    host->devices = g_ptr_array_new();
    host->groups = g_hash_table_new(g_direct_hash, g_direct_equal);
    host->next_group = 1;

    r = sim_fs_init(host);
    if (!r) {
        r = sim_vfio_host_init(host);
    }
    if (!r) {
        r = sim_files_populate(host);
    }
    if (r) {
        host_destroy(host);
        return r;
    }
    *out = host;
    return 0;
}

int sim_host_new_from_string(const char *text, SimHost **out)
{
    g_auto(GStrv) parts = NULL;
    SimHostDesc desc;
    SimHost *host;
    int r;

    if (!text || !out) {
        return -EINVAL;
    }
    parts = g_strsplit(text, ";", -1);
    sim_host_desc_init(&desc);
    r = parse_opts(parts[0], &desc, host_set_cb);
    if (!r) {
        r = sim_host_new(&desc, &host);
    }
    if (r) {
        return r;
    }
    for (unsigned i = 1; parts[i]; i++) {
        SimDeviceDesc dd;

        if (!parts[i][0]) {
            continue;
        }
        sim_device_desc_init(&dd);
        if (!g_str_has_prefix(parts[i], "device:")) {
            r = -EINVAL;
        } else {
            r = sim_device_desc_parse(&dd, parts[i] + strlen("device:"));
        }
        if (!r) {
            r = sim_host_add_device(host, &dd, NULL);
        }
        if (r) {
            sim_host_free(host);
            return r;
        }
    }
    *out = host;
    return 0;
}

void sim_host_free(SimHost *host)
{
    /* the caller guarantees nobody uses the host any more */
    if (host) {
        host_destroy(host);
    }
}

const char *sim_host_root(const SimHost *host)
{
    return host ? host->root : NULL;
}

int sim_host_vtd_regs(const SimHost *host, uint64_t *cap, uint64_t *ecap)
{
    if (!host || !cap || !ecap) {
        return -EINVAL;
    }
    *cap = host->vtd_cap;
    *ecap = host->vtd_ecap;
    return 0;
}

/* ---- test hooks --------------------------------------------------------- */

int sim_host_inject_error(SimHost *host, SimInjectOp op, int err,
                          unsigned count)
{
    if (!host || (unsigned)op >= SIM_INJECT_OP_MAX ||
        (count && (err <= 0 || err >= 4096))) {
        return -EINVAL;
    }
    g_mutex_lock(&host->lock);
    host->inject_count[op] = count;
    host->inject_err[op] = count ? err : 0;
    g_mutex_unlock(&host->lock);
    return 0;
}

int sim_inject_take(SimHost *host, SimInjectOp op)
{
    if (!host->inject_count[op]) {
        return 0;
    }
    host->inject_count[op]--;
    return -host->inject_err[op];
}

unsigned sim_host_nr_hwpts(SimHost *host)
{
    unsigned n;

    if (!host) {
        return 0;
    }
    g_mutex_lock(&host->lock);
    n = host->nr_hwpts;
    g_mutex_unlock(&host->lock);
    return n;
}
