/*
 * The simulated file system: the private directory tree, its character-
 * device nodes, open-file states (identified by inode) and the public
 * file-operation entry points, which dispatch through SimFileOps.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim-internal.h"

/* A mapping made by sim_mmap (host->mmaps, keyed by address). */
typedef struct SimMmap {
    void *addr;
    size_t len;
    SimFile *file;
} SimMmap;

/* Key of host->nodes and host->files: an inode. */
typedef struct SimInode {
    dev_t dev;
    ino_t ino;
} SimInode;

static guint inode_hash(gconstpointer p)
{
    const SimInode *k = p;

    return (guint)(k->ino ^ (k->ino >> 32) ^ (k->dev * 0x9e3779b1u));
}

static gboolean inode_equal(gconstpointer a, gconstpointer b)
{
    const SimInode *x = a, *y = b;

    return x->dev == y->dev && x->ino == y->ino;
}

static SimInode *inode_key(dev_t dev, ino_t ino)
{
    SimInode *k = g_new(SimInode, 1);

    k->dev = dev;
    k->ino = ino;
    return k;
}

/* ---- the private tree --------------------------------------------------- */

/*
 * Normalise an absolute path lexically ("//", ".", "..") into the path
 * relative to the simulated "/" (a path under the private root is mapped
 * back first).  NULL if @path is not absolute.
 */
static char *path_relative(const SimHost *host, const char *path)
{
    g_auto(GStrv) parts = NULL;
    GPtrArray *out;
    char *rel;
    size_t rl = strlen(host->root);

    if (!path || path[0] != '/') {
        return NULL;
    }
    if (!strncmp(path, host->root, rl) &&
        (path[rl] == '/' || path[rl] == '\0')) {
        path += rl;
    }
    parts = g_strsplit(path, "/", -1);
    out = g_ptr_array_new();
    for (unsigned i = 0; parts[i]; i++) {
        if (!parts[i][0] || !strcmp(parts[i], ".")) {
            continue;
        }
        if (!strcmp(parts[i], "..")) {
            if (out->len) {
                g_ptr_array_remove_index(out, out->len - 1);
            }
            continue;
        }
        g_ptr_array_add(out, parts[i]);
    }
    g_ptr_array_add(out, NULL);
    rel = g_strjoinv("/", (char **)out->pdata);
    g_ptr_array_free(out, true);
    return rel;
}

/* A relative path made only of plain components (no "", ".", ".."). */
static bool rel_valid(const char *rel)
{
    g_auto(GStrv) parts = NULL;

    if (!rel || !rel[0] || rel[0] == '/') {
        return false;
    }
    parts = g_strsplit(rel, "/", -1);
    for (unsigned i = 0; parts[i]; i++) {
        if (!parts[i][0] || !strcmp(parts[i], ".") ||
            !strcmp(parts[i], "..")) {
            return false;
        }
    }
    return true;
}

/*
 * Claimed relative paths: dev/iommu, dev/vfio and below, and everything at
 * or below an owned entry.  dev/iommu is claimed even when the host has no
 * iommufd: a legacy-only host answers ENOENT, not the real machine.
 */
static bool rel_claimed(SimHost *host, const char *rel)
{
    g_autofree char *prefix = g_strdup(rel);

    if (!strcmp(rel, "dev/iommu") || !strcmp(rel, "dev/vfio") ||
        g_str_has_prefix(rel, "dev/vfio/")) {
        return true;
    }
    for (;;) {
        char *slash;

        if (g_hash_table_contains(host->owned, prefix)) {
            return true;
        }
        slash = strrchr(prefix, '/');
        if (!slash) {
            return false;
        }
        *slash = '\0';
    }
}

static bool path_under_root(const SimHost *host, const char *path)
{
    size_t rl = strlen(host->root);

    return !strncmp(path, host->root, rl) &&
           (path[rl] == '/' || path[rl] == '\0');
}

/* The on-disk path of a claimed absolute @path, NULL if not claimed. */
static char *path_real(SimHost *host, const char *path)
{
    g_autofree char *rel = NULL;

    if (!path || path[0] != '/') {
        return NULL;
    }
    rel = path_relative(host, path);
    if (!path_under_root(host, path) && !rel_claimed(host, rel)) {
        return NULL;
    }
    return rel[0] ? g_build_filename(host->root, rel, NULL)
                  : g_strdup(host->root);
}

static void owned_add(SimHost *host, const char *rel)
{
    g_hash_table_add(host->owned, g_strdup(rel));
}

static int mkdir_parents_of(SimHost *host, const char *rel)
{
    g_autofree char *real = g_build_filename(host->root, rel, NULL);
    g_autofree char *dir = g_path_get_dirname(real);

    return g_mkdir_with_parents(dir, 0755) ? -errno : 0;
}

int sim_tree_mkdir(SimHost *host, const char *rel)
{
    g_autofree char *real = NULL;

    if (!rel_valid(rel)) {
        return -EINVAL;
    }
    real = g_build_filename(host->root, rel, NULL);
    if (g_mkdir_with_parents(real, 0755)) {
        return -errno;
    }
    owned_add(host, rel);
    return 0;
}

int sim_tree_write(SimHost *host, const char *rel, const char *text)
{
    g_autofree char *real = NULL;
    GError *err = NULL;
    int r;

    if (!rel_valid(rel)) {
        return -EINVAL;
    }
    r = mkdir_parents_of(host, rel);
    if (r) {
        return r;
    }
    real = g_build_filename(host->root, rel, NULL);
    if (!g_file_set_contents(real, text, -1, &err)) {
        g_error_free(err);
        return -EIO;
    }
    owned_add(host, rel);
    return 0;
}

int sim_tree_symlink(SimHost *host, const char *target, const char *rel)
{
    g_autofree char *real = NULL;
    int r;

    if (!rel_valid(rel) || !target || target[0] == '/') {
        return -EINVAL;     /* absolute targets would leave the tree */
    }
    r = mkdir_parents_of(host, rel);
    if (r) {
        return r;
    }
    real = g_build_filename(host->root, rel, NULL);
    if (symlink(target, real)) {
        return -errno;
    }
    owned_add(host, rel);
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    return remove(path) ? -1 : 0;
}

static int rm_tree(const char *real)
{
    struct stat st;

    if (lstat(real, &st)) {
        return errno == ENOENT ? 0 : -errno;
    }
    if (!S_ISDIR(st.st_mode)) {
        return unlink(real) ? -errno : 0;
    }
    return nftw(real, rm_entry, 16, FTW_DEPTH | FTW_PHYS) ? -errno : 0;
}

static gboolean owned_below(gpointer key, gpointer value, gpointer rel)
{
    size_t n = strlen(rel);

    return !strncmp(key, rel, n) && (((char *)key)[n] == '\0' ||
                                     ((char *)key)[n] == '/');
}

int sim_tree_remove(SimHost *host, const char *rel)
{
    g_autofree char *real = NULL;

    if (!rel_valid(rel)) {
        return -EINVAL;
    }
    real = g_build_filename(host->root, rel, NULL);
    g_hash_table_foreach_remove(host->owned, owned_below, (gpointer)rel);
    return rm_tree(real);
}

/* ---- nodes -------------------------------------------------------------- */

static void node_free(gpointer p)
{
    SimNode *node = p;

    g_free(node->path);
    g_free(node);
}

int sim_node_add(SimHost *host, const char *rel, const SimFileOps *ops,
                 void *priv, dev_t rdev, SimNode **out)
{
    g_autofree char *real = NULL;
    SimNode *node;
    struct stat st;
    int fd, r;

    if (!rel_valid(rel)) {
        return -EINVAL;
    }
    r = mkdir_parents_of(host, rel);
    if (r) {
        return r;
    }
    real = g_build_filename(host->root, rel, NULL);
    fd = open(real, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0666);
    if (fd < 0) {
        return -errno;
    }
    r = fstat(fd, &st) ? -errno : 0;
    close(fd);
    if (r) {
        unlink(real);
        return r;
    }
    node = g_new0(SimNode, 1);
    node->host = host;
    node->path = g_strdup(rel);
    node->st_dev = st.st_dev;
    node->st_ino = st.st_ino;
    node->rdev = rdev;
    node->ops = ops;
    node->priv = priv;
    g_hash_table_insert(host->nodes, inode_key(st.st_dev, st.st_ino), node);
    owned_add(host, rel);
    if (out) {
        *out = node;
    }
    return 0;
}

void sim_node_remove(SimNode *node)
{
    SimHost *host = node->host;
    SimInode key = { node->st_dev, node->st_ino };
    GHashTableIter it;
    SimFile *f;

    g_hash_table_iter_init(&it, host->files);
    while (g_hash_table_iter_next(&it, NULL, (gpointer *)&f)) {
        if (f->node == node) {
            f->node = NULL;
        }
    }
    sim_tree_remove(host, node->path);
    g_hash_table_remove(host->nodes, &key);     /* frees node */
}

static SimNode *node_by_inode(SimHost *host, dev_t dev, ino_t ino)
{
    SimInode key = { dev, ino };

    return g_hash_table_lookup(host->nodes, &key);
}

/* ---- open-file states --------------------------------------------------- */

/* A new state identified by a fresh memfd; returns the caller's fd. */
static int file_create(SimHost *host, const SimFileOps *ops, SimNode *node,
                       void *priv, bool cloexec, SimFile **out)
{
    g_autofree char *name = NULL;
    SimFile *f;
    struct stat st;
    int fd, self;

    if (g_hash_table_size(host->files) >= SIM_MAX_OPEN_FILES) {
        return -ENFILE;
    }
    name = g_strdup_printf("viommu-sim:%.200s", node ? node->path : ops->name);
    fd = memfd_create(name, cloexec ? MFD_CLOEXEC : 0);
    if (fd < 0) {
        return -errno;
    }
    self = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (self < 0 || fstat(fd, &st)) {
        int r = -errno;
        if (self >= 0) {
            close(self);
        }
        close(fd);
        return r;
    }
    f = g_new0(SimFile, 1);
    f->host = host;
    f->ops = ops;
    f->node = node;
    f->st_dev = st.st_dev;
    f->st_ino = st.st_ino;
    f->self_fd = self;
    f->priv = priv;
    g_hash_table_insert(host->files, inode_key(st.st_dev, st.st_ino), f);
    *out = f;
    return fd;
}

/* The last reference is gone: forget the state and let its type clean up. */
static void file_release(SimFile *f)
{
    SimInode key = { f->st_dev, f->st_ino };

    g_hash_table_remove(f->host->files, &key);     /* frees the key only */
    f->released = true;
    if (f->ops->release) {
        f->ops->release(f);
    }
    if (f->self_fd >= 0) {
        close(f->self_fd);
    }
    g_free(f);
}

/* Does any fd of this process (other than our own) refer to @f's inode? */
static bool file_has_fds(SimFile *f)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    bool found = false;

    if (!d) {
        return false;
    }
    while (!found && (e = readdir(d))) {
        struct stat st;
        char *end;
        long fd = strtol(e->d_name, &end, 10);

        if (*end || end == e->d_name || fd == dirfd(d) || fd == f->self_fd) {
            continue;
        }
        if (!fstat(fd, &st) && st.st_dev == f->st_dev &&
            st.st_ino == f->st_ino) {
            found = true;
        }
    }
    closedir(d);
    return found;
}

static void file_maybe_release(SimFile *f)
{
    if (!f->mmaps && !file_has_fds(f)) {
        file_release(f);
    }
}

/*
 * Find the state behind @fd: 0 with *out set; 0 with *out NULL for a node
 * fd without state when !@create; -ENOENT for a fd that is not simulated;
 * -EBADF; or the node type's open error.
 */
static int file_lookup(SimHost *host, int fd, bool create, SimFile **out)
{
    SimInode key;
    struct stat st;
    SimNode *node;
    SimFile *f;
    int r;

    *out = NULL;
    if (fd < 0 || fstat(fd, &st)) {
        return -EBADF;
    }
    key.dev = st.st_dev;
    key.ino = st.st_ino;
    f = g_hash_table_lookup(host->files, &key);
    if (f) {
        *out = f;
        return 0;
    }
    node = g_hash_table_lookup(host->nodes, &key);
    if (!node) {
        return -ENOENT;
    }
    if (!create) {
        return 0;
    }
    /* a node file opened directly in the tree (e.g. passed by a manager) */
    f = g_new0(SimFile, 1);
    f->host = host;
    f->ops = node->ops;
    f->node = node;
    f->st_dev = st.st_dev;
    f->st_ino = st.st_ino;
    f->self_fd = -1;
    r = f->ops->open ? f->ops->open(f) : 0;
    if (r) {
        g_free(f);
        return r;
    }
    g_hash_table_insert(host->files, inode_key(st.st_dev, st.st_ino), f);
    *out = f;
    return 0;
}

/*
 * Release every state that no fd of this process refers to any more and
 * that has no mapping: one pass over /proc/self/fd, then the states it did
 * not reach.  Host lock held.
 */
static int file_release_orphans(SimHost *host)
{
    GHashTable *live = g_hash_table_new(g_direct_hash, g_direct_equal);
    GPtrArray *orphans = g_ptr_array_new();
    GHashTableIter it;
    struct dirent *e;
    SimFile *f;
    DIR *d = opendir("/proc/self/fd");
    int n;

    if (!d) {
        g_hash_table_destroy(live);
        g_ptr_array_free(orphans, true);
        return -errno;
    }
    while ((e = readdir(d))) {
        SimInode key;
        struct stat st;
        char *end;
        long fd = strtol(e->d_name, &end, 10);

        if (*end || end == e->d_name || fd == dirfd(d) || fstat(fd, &st)) {
            continue;
        }
        key.dev = st.st_dev;
        key.ino = st.st_ino;
        f = g_hash_table_lookup(host->files, &key);
        if (f && fd != f->self_fd) {
            g_hash_table_add(live, f);
        }
    }
    closedir(d);
    g_hash_table_iter_init(&it, host->files);
    while (g_hash_table_iter_next(&it, NULL, (gpointer *)&f)) {
        if (!f->mmaps && !g_hash_table_contains(live, f)) {
            g_ptr_array_add(orphans, f);
        }
    }
    n = orphans->len;
    for (unsigned i = 0; i < orphans->len; i++) {
        file_release(g_ptr_array_index(orphans, i));
    }
    g_ptr_array_free(orphans, true);
    g_hash_table_destroy(live);
    return n;
}

int sim_file_new_anon(SimHost *host, const SimFileOps *ops, void *priv,
                      bool cloexec)
{
    SimFile *f;

    return file_create(host, ops, NULL, priv, cloexec, &f);
}

SimFile *sim_file_from_fd(SimHost *host, int fd)
{
    SimFile *f;

    return file_lookup(host, fd, true, &f) ? NULL : f;
}

bool sim_files_any(SimHost *host, const SimFileOps *ops, const void *priv)
{
    GHashTableIter it;
    SimFile *f;

    g_hash_table_iter_init(&it, host->files);
    while (g_hash_table_iter_next(&it, NULL, (gpointer *)&f)) {
        if (f->ops == ops && (!priv || f->priv == priv ||
                              (f->node && f->node->priv == priv))) {
            return true;
        }
    }
    return false;
}

/* ---- lifecycle ---------------------------------------------------------- */

static gint cmp_len_desc(gconstpointer a, gconstpointer b)
{
    size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

    return la < lb ? 1 : la > lb ? -1 : 0;
}

static int make_root(SimHost *host)
{
    char resolved[PATH_MAX];

    if (host->desc.root[0]) {
        if (g_mkdir_with_parents(host->desc.root, 0700)) {
            return -errno;
        }
        if (!realpath(host->desc.root, resolved)) {
            return -errno;
        }
        host->root = g_strdup(resolved);
        return 0;
    }
    host->root = g_build_filename(g_get_tmp_dir(), "viommu-sim-XXXXXX", NULL);
    if (!g_mkdtemp(host->root)) {
        return -errno;
    }
    host->root_created = true;
    if (realpath(host->root, resolved)) {
        g_free(host->root);
        host->root = g_strdup(resolved);
    }
    return 0;
}

/* Remove what the library created under the root (or the whole root). */
static void remove_root(SimHost *host)
{
    GPtrArray *dirs = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer rel;

    if (!host->root) {
        return;
    }
    if (host->root_created) {
        rm_tree(host->root);
        g_ptr_array_free(dirs, true);
        return;
    }
    g_hash_table_iter_init(&it, host->owned);
    while (g_hash_table_iter_next(&it, &rel, NULL)) {
        g_autofree char *real = g_build_filename(host->root, rel, NULL);
        rm_tree(real);
    }
    /* then their parent directories, deepest first, where empty */
    g_hash_table_iter_init(&it, host->owned);
    while (g_hash_table_iter_next(&it, &rel, NULL)) {
        g_autofree char *dir = g_path_get_dirname(rel);

        while (strcmp(dir, ".")) {
            char *up = g_path_get_dirname(dir);

            g_ptr_array_add(dirs, g_build_filename(host->root, dir, NULL));
            g_free(dir);
            dir = up;
        }
    }
    g_ptr_array_sort(dirs, cmp_len_desc);
    for (unsigned i = 0; i < dirs->len; i++) {
        rmdir(g_ptr_array_index(dirs, i));      /* fails while not empty */
    }
    g_ptr_array_free(dirs, true);
}

int sim_fs_init(SimHost *host)
{
    int r;

    host->owned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    host->nodes = g_hash_table_new_full(inode_hash, inode_equal, g_free,
                                        node_free);
    host->files = g_hash_table_new_full(inode_hash, inode_equal, g_free, NULL);
    host->mmaps = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                        g_free);
    r = make_root(host);
    if (!r && host->desc.iommufd) {
        r = sim_node_add(host, "dev/iommu", &sim_iommufd_fops, NULL,
                         makedev(10, 123), NULL);
    }
    return r;
}

void sim_fs_release_files(SimHost *host)
{
    GHashTableIter it;
    SimMmap *m;

    /* mappings first: they hold their files */
    g_hash_table_iter_init(&it, host->mmaps);
    while (g_hash_table_iter_next(&it, NULL, (gpointer *)&m)) {
        munmap(m->addr, m->len);
        m->file->mmaps--;
    }
    g_hash_table_remove_all(host->mmaps);
    while (g_hash_table_size(host->files)) {
        SimFile *f;

        g_hash_table_iter_init(&it, host->files);
        g_hash_table_iter_next(&it, NULL, (gpointer *)&f);
        file_release(f);
    }
}

void sim_fs_fini(SimHost *host)
{
    sim_fs_release_files(host);
    g_hash_table_remove_all(host->nodes);
    remove_root(host);
    g_hash_table_destroy(host->mmaps);
    g_hash_table_destroy(host->files);
    g_hash_table_destroy(host->nodes);
    g_hash_table_destroy(host->owned);
    g_free(host->root);
    host->root = NULL;
}

/* ---- public file operations --------------------------------------------- */

int sim_claims_path(SimHost *host, const char *path)
{
    g_autofree char *real = NULL;

    if (!host) {
        return 0;
    }
    g_mutex_lock(&host->lock);
    real = path_real(host, path);
    g_mutex_unlock(&host->lock);
    return real != NULL;
}

int sim_translate_path(SimHost *host, const char *path, char *buf,
                       size_t size)
{
    g_autofree char *real = NULL;

    if (!host || !buf) {
        return -EINVAL;
    }
    g_mutex_lock(&host->lock);
    real = path_real(host, path);
    g_mutex_unlock(&host->lock);
    if (!real) {
        return -ENOENT;
    }
    return g_strlcpy(buf, real, size) < size ? 0 : -ENAMETOOLONG;
}

int sim_overlay_dir(SimHost *host, const char *path, char *buf, size_t size)
{
    g_autofree char *rel = NULL, *real = NULL;
    struct stat st;
    int r = -ENOENT;

    if (!host || !path || path[0] != '/') {
        return -ENOENT;
    }
    g_mutex_lock(&host->lock);
    rel = path_relative(host, path);
    if (!path_under_root(host, path) && !rel_claimed(host, rel)) {
        real = rel[0] ? g_build_filename(host->root, rel, NULL)
                      : g_strdup(host->root);
        if (!lstat(real, &st) && S_ISDIR(st.st_mode)) {
            r = g_strlcpy(buf, real, size) < size ? 0 : -ENAMETOOLONG;
        }
    }
    g_mutex_unlock(&host->lock);
    return r;
}

static const SimFileOps failed_open_ops = { .name = "failed-open" };

static int do_open(SimHost *host, const char *path, int flags, mode_t mode)
{
    g_autofree char *real = path_real(host, path);
    struct stat st;
    SimNode *node;
    SimFile *f;
    int fd, r;

    if (!real) {
        return -ENOENT;
    }
    if (stat(real, &st)) {
        if (errno == ENOENT && (flags & O_CREAT)) {
            return -EACCES;     /* nobody creates files in /dev or /sys */
        }
        return -errno;
    }
    node = node_by_inode(host, st.st_dev, st.st_ino);
    if (!node) {
        fd = open(real, flags, mode);
        return fd < 0 ? -errno : fd;
    }
    if ((flags & O_CREAT) && (flags & O_EXCL)) {
        return -EEXIST;
    }
    fd = file_create(host, node->ops, node, NULL, flags & O_CLOEXEC, &f);
    if (fd < 0) {
        return fd;
    }
    r = node->ops->open ? node->ops->open(f) : 0;
    if (r) {
        f->ops = &failed_open_ops;      /* nothing to release */
        file_release(f);
        close(fd);
        return r;
    }
    return fd;
}

int sim_open(SimHost *host, const char *path, int flags, mode_t mode)
{
    int r;

    if (!host) {
        return -EINVAL;
    }
    g_mutex_lock(&host->lock);
    r = do_open(host, path, flags, mode);
    g_mutex_unlock(&host->lock);
    return r;
}

int sim_fd_lookup(SimHost *host, int fd)
{
    SimInode key;
    struct stat st;
    int r;

    if (!host) {
        return -EINVAL;
    }
    if (fd < 0 || fstat(fd, &st)) {
        return -EBADF;
    }
    key.dev = st.st_dev;
    key.ino = st.st_ino;
    g_mutex_lock(&host->lock);
    r = g_hash_table_contains(host->files, &key) ||
        g_hash_table_contains(host->nodes, &key);
    g_mutex_unlock(&host->lock);
    return r;
}

int sim_close(SimHost *host, int fd)
{
    SimFile *f;
    int r;

    if (!host) {
        return -EINVAL;
    }
    g_mutex_lock(&host->lock);
    r = file_lookup(host, fd, false, &f);
    if (r) {
        r = -EBADF;
    } else {
        close(fd);
        if (f) {
            file_maybe_release(f);
        }
    }
    g_mutex_unlock(&host->lock);
    return r;
}

int sim_release_orphans(SimHost *host)
{
    int r;

    if (!host) {
        return -EINVAL;
    }
    g_mutex_lock(&host->lock);
    r = file_release_orphans(host);
    g_mutex_unlock(&host->lock);
    return r;
}

/* Lock, find (or create) the state behind @fd; unlock on failure. */
static int lock_file(SimHost *host, int fd, SimFile **f)
{
    int r;

    if (!host) {
        return -EINVAL;
    }
    g_mutex_lock(&host->lock);
    r = file_lookup(host, fd, true, f);
    if (r) {
        g_mutex_unlock(&host->lock);
        return r == -ENOENT ? -EBADF : r;
    }
    return 0;
}

int sim_ioctl(SimHost *host, int fd, unsigned long request, void *arg)
{
    SimFile *f;
    int r = lock_file(host, fd, &f);

    if (r) {
        return r;
    }
    r = f->ops->ioctl ? f->ops->ioctl(f, request, arg) : -ENOTTY;
    g_mutex_unlock(&host->lock);
    return r;
}

ssize_t sim_pread(SimHost *host, int fd, void *buf, size_t count,
                  off_t offset)
{
    SimFile *f;
    ssize_t r = lock_file(host, fd, &f);

    if (r) {
        return r;
    }
    r = f->ops->pread ? f->ops->pread(f, buf, count, offset) : -EINVAL;
    g_mutex_unlock(&host->lock);
    return r;
}

ssize_t sim_pwrite(SimHost *host, int fd, const void *buf, size_t count,
                   off_t offset)
{
    SimFile *f;
    ssize_t r = lock_file(host, fd, &f);

    if (r) {
        return r;
    }
    r = f->ops->pwrite ? f->ops->pwrite(f, buf, count, offset) : -EINVAL;
    g_mutex_unlock(&host->lock);
    return r;
}

int sim_mmap(SimHost *host, void *addr, size_t length, int prot, int flags,
             int fd, off_t offset, void **out)
{
    SimMmap *m;
    SimFile *f;
    void *p = NULL;
    int r;

    if (!out || !length || (flags & MAP_FIXED)) {
        return -EINVAL;
    }
    r = lock_file(host, fd, &f);
    if (r) {
        return r;
    }
    r = f->ops->mmap ? f->ops->mmap(f, length, prot, flags, offset, &p)
                     : -ENODEV;
    if (!r) {
        m = g_new(SimMmap, 1);
        m->addr = p;
        m->len = SIM_ALIGN_UP(length, SIM_PAGE_SIZE);
        m->file = f;
        f->mmaps++;
        g_hash_table_insert(host->mmaps, p, m);
        *out = p;
    }
    g_mutex_unlock(&host->lock);
    return r;
}

int sim_munmap(SimHost *host, void *addr, size_t length)
{
    SimMmap *m;
    SimFile *f;
    int r = 0;

    if (!host) {
        return -EINVAL;
    }
    g_mutex_lock(&host->lock);
    m = g_hash_table_lookup(host->mmaps, addr);
    if (!m || SIM_ALIGN_UP(length, SIM_PAGE_SIZE) != m->len) {
        r = -EINVAL;
    } else {
        f = m->file;
        munmap(m->addr, m->len);
        g_hash_table_remove(host->mmaps, addr);
        f->mmaps--;
        file_maybe_release(f);
    }
    g_mutex_unlock(&host->lock);
    return r;
}

/* Report a node file as the character device it simulates. */
static void patch_node_stat(SimHost *host, struct stat *st)
{
    SimNode *node = node_by_inode(host, st->st_dev, st->st_ino);

    if (node) {
        st->st_mode = S_IFCHR | (st->st_mode & 07777);
        st->st_rdev = node->rdev;
        st->st_size = 0;
    }
}

static int path_stat(SimHost *host, const char *path, struct stat *st,
                     bool follow)
{
    g_autofree char *real = NULL;
    int r = 0;

    if (!host || !st) {
        return -EINVAL;
    }
    g_mutex_lock(&host->lock);
    real = path_real(host, path);
    if (!real) {
        r = -ENOENT;
    } else if (follow ? stat(real, st) : lstat(real, st)) {
        r = -errno;
    } else {
        patch_node_stat(host, st);
    }
    g_mutex_unlock(&host->lock);
    return r;
}

int sim_stat(SimHost *host, const char *path, struct stat *st)
{
    return path_stat(host, path, st, true);
}

int sim_lstat(SimHost *host, const char *path, struct stat *st)
{
    return path_stat(host, path, st, false);
}

int sim_fstat(SimHost *host, int fd, struct stat *st)
{
    SimFile *f;
    int r;

    if (!host || !st) {
        return -EINVAL;
    }
    g_mutex_lock(&host->lock);
    r = file_lookup(host, fd, false, &f);
    if (r == -ENOENT) {
        r = -EBADF;
    } else if (!r && fstat(fd, st)) {
        r = -errno;
    } else if (!r && f && f->node) {
        /* the node's identity, as fstat on a real device fd gives */
        g_autofree char *real = g_build_filename(host->root, f->node->path,
                                                 NULL);
        if (!stat(real, st)) {
            patch_node_stat(host, st);
        }
    } else if (!r) {
        patch_node_stat(host, st);
    }
    g_mutex_unlock(&host->lock);
    return r;
}

ssize_t sim_readlink(SimHost *host, const char *path, char *buf,
                     size_t bufsiz)
{
    g_autofree char *real = NULL;
    ssize_t r;

    if (!host || !buf) {
        return -EINVAL;
    }
    g_mutex_lock(&host->lock);
    real = path_real(host, path);
    r = !real ? -ENOENT : readlink(real, buf, bufsiz);
    if (r < 0 && real) {
        r = -errno;
    }
    g_mutex_unlock(&host->lock);
    return r;
}

int sim_access(SimHost *host, const char *path, int mode)
{
    g_autofree char *real = NULL;
    int r;

    if (!host) {
        return -EINVAL;
    }
    g_mutex_lock(&host->lock);
    real = path_real(host, path);
    r = !real ? -ENOENT : (access(real, mode) ? -errno : 0);
    g_mutex_unlock(&host->lock);
    return r;
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int sim_listdir(SimHost *host, const char *path, char ***names)
{
    g_autofree char *real = NULL;
    GPtrArray *list;
    GDir *d = NULL;
    const char *name;
    GError *err = NULL;
    int r = 0;

    if (!host || !names) {
        return -EINVAL;
    }
    g_mutex_lock(&host->lock);
    real = path_real(host, path);
    if (!real) {
        r = -ENOENT;
    } else if (!(d = g_dir_open(real, 0, &err))) {
        r = err->domain == G_FILE_ERROR && err->code == G_FILE_ERROR_NOTDIR
            ? -ENOTDIR : -ENOENT;
        g_error_free(err);
    }
    g_mutex_unlock(&host->lock);
    if (r) {
        return r;
    }
    list = g_ptr_array_new();
    while ((name = g_dir_read_name(d))) {
        g_ptr_array_add(list, g_strdup(name));
    }
    g_dir_close(d);
    g_ptr_array_sort(list, cmp_str);
    r = list->len;
    g_ptr_array_add(list, NULL);
    *names = (char **)g_ptr_array_free(list, false);
    return r;
}

void sim_strv_free(char **names)
{
    g_strfreev(names);
}
