/*
 * libviommu-sim-preload.so: paths, metadata and directories — readlink,
 * realpath, access, extended attributes, the stat family of the paths the
 * simulated host claims, and listings of the directories with simulated
 * entries (opendir, readdir, scandir, ...; see "directories").  Dispatch,
 * reentrancy and locking as described in preload.c.
 */
#include "preload.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <glib.h>

/* Not declared by glibc 2.33+ headers, still exported by 2.36. */
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
               int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st,
                 int flags);
/* _FORTIFY_SOURCE forms (declared only when it is on). */
ssize_t __readlink_chk(const char *path, char *buf, size_t len,
                       size_t buflen);
ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t len,
                         size_t buflen);
char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen);
void __chk_fail(void) __attribute__((noreturn));

_Static_assert(sizeof(struct stat) == sizeof(struct stat64),
               "stat and stat64 share one layout (LP64)");
_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64),
               "dirent and dirent64 share one layout (LP64)");

DEFINE_REAL(readlink)
DEFINE_REAL(readlinkat)
DEFINE_REAL(realpath)
DEFINE_REAL(canonicalize_file_name)
DEFINE_REAL(stat)
DEFINE_REAL(stat64)
DEFINE_REAL(lstat)
DEFINE_REAL(lstat64)
DEFINE_REAL(fstat)
DEFINE_REAL(fstat64)
DEFINE_REAL(fstatat)
DEFINE_REAL(fstatat64)
DEFINE_REAL(__xstat)
DEFINE_REAL(__xstat64)
DEFINE_REAL(__lxstat)
DEFINE_REAL(__lxstat64)
DEFINE_REAL(__fxstat)
DEFINE_REAL(__fxstat64)
DEFINE_REAL(__fxstatat)
DEFINE_REAL(__fxstatat64)
DEFINE_REAL(statx)
DEFINE_REAL(access)
DEFINE_REAL(getxattr)
DEFINE_REAL(lgetxattr)
DEFINE_REAL(listxattr)
DEFINE_REAL(llistxattr)
DEFINE_REAL(faccessat)
DEFINE_REAL(opendir)
DEFINE_REAL(fdopendir)
DEFINE_REAL(readdir)
DEFINE_REAL(readdir64)
DEFINE_REAL(closedir)
DEFINE_REAL(dirfd)
DEFINE_REAL(telldir)
DEFINE_REAL(seekdir)
DEFINE_REAL(rewinddir)
DEFINE_REAL(scandir)
DEFINE_REAL(scandir64)

/* ---- links and paths ---------------------------------------------------- */

PRELOAD_API ssize_t readlink(const char *path, char *buf, size_t bufsiz)
{
    SimHost *host = preload_for_path(path);

    if (!host) {
        return CALL_REAL(-1, readlink, path, buf, bufsiz);
    }
    return preload_done(sim_readlink(host, path, buf, bufsiz));
}

PRELOAD_API ssize_t readlinkat(int dirfd, const char *path, char *buf,
                               size_t bufsiz)
{
    char tmp[PATH_MAX];
    const char *abs = preload_path_at(dirfd, path, tmp, sizeof(tmp));
    SimHost *host = preload_for_path(abs);

    if (!host) {
        return CALL_REAL(-1, readlinkat, dirfd, path, buf, bufsiz);
    }
    return preload_done(sim_readlink(host, abs, buf, bufsiz));
}

PRELOAD_API ssize_t __readlink_chk(const char *path, char *buf, size_t len,
                                   size_t buflen)
{
    if (len > buflen) {
        __chk_fail();
    }
    return readlink(path, buf, len);
}

PRELOAD_API ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf,
                                     size_t len, size_t buflen)
{
    if (len > buflen) {
        __chk_fail();
    }
    return readlinkat(dirfd, path, buf, len);
}

/*
 * realpath of a claimed path: resolved in the private tree (its links are
 * relative, so they stay inside), then shown as the program's path again.
 * libc's realpath reads links with its internal readlink, not ours.
 */
static char *sim_realpath(const char *path, char *resolved, bool *claimed)
{
    char real[PATH_MAX], out[PATH_MAX];
    SimHost *host = preload_for_path(path);
    const char *root, *shown;
    size_t rl;
    int r;

    *claimed = host != NULL;
    if (!host) {
        return NULL;
    }
    r = sim_translate_path(host, path, real, sizeof(real));
    if (r < 0) {
        preload_done(r);
        return NULL;
    }
    if (!CALL_REAL(NULL, realpath, real, out)) {
        preload_done(-errno);
        return NULL;
    }
    root = sim_host_root(host);
    rl = strlen(root);
    shown = out;
    if (!strncmp(out, root, rl) && (out[rl] == '/' || !out[rl])) {
        shown = out[rl] ? out + rl : "/";
    }
    preload_leave();
    if (resolved) {
        return strcpy(resolved, shown);     /* strlen(shown) < PATH_MAX */
    }
    resolved = strdup(shown);
    if (!resolved) {
        errno = ENOMEM;
    }
    return resolved;
}

PRELOAD_API char *realpath(const char *path, char *resolved)
{
    bool claimed;
    char *p = sim_realpath(path, resolved, &claimed);

    return claimed ? p : CALL_REAL(NULL, realpath, path, resolved);
}

PRELOAD_API char *__realpath_chk(const char *path, char *resolved,
                                 size_t resolvedlen)
{
    if (resolved && resolvedlen < PATH_MAX) {
        __chk_fail();
    }
    return realpath(path, resolved);
}

PRELOAD_API char *canonicalize_file_name(const char *path)
{
    bool claimed;
    char *p = sim_realpath(path, NULL, &claimed);

    return claimed ? p : CALL_REAL(NULL, canonicalize_file_name, path);
}

PRELOAD_API int access(const char *path, int mode)
{
    SimHost *host = preload_for_path(path);

    if (!host) {
        return CALL_REAL(-1, access, path, mode);
    }
    return (int)preload_done(sim_access(host, path, mode));
}

PRELOAD_API int faccessat(int dirfd, const char *path, int mode, int flags)
{
    char tmp[PATH_MAX];
    const char *abs = preload_path_at(dirfd, path, tmp, sizeof(tmp));
    SimHost *host = preload_for_path(abs);

    if (!host) {
        return CALL_REAL(-1, faccessat, dirfd, path, mode, flags);
    }
    return (int)preload_done(sim_access(host, abs, mode));
}

/*
 * Extended attributes of a claimed path are those of its file in the
 * private tree (none: ENODATA), so that ls -l and the like find no error.
 * @real holds the translated path; @path itself if not claimed.
 */
static const char *xattr_path(const char *path, char *real, size_t size,
                              int *err)
{
    SimHost *host = preload_for_path(path);
    int r;

    *err = 0;
    if (!host) {
        return path;
    }
    r = sim_translate_path(host, path, real, size);
    preload_leave();
    *err = r < 0 ? -r : 0;
    return real;
}

/*
 * True with its tree directory in @tree if @path, missing on the real
 * system (errno ENOENT), is a directory only the simulation has.
 */
static bool overlay_only(const char *path, char *tree, size_t size)
{
    SimHost *host;
    int saved = errno, r;

    if (saved != ENOENT || !path || path[0] != '/' ||
        !(host = preload_enter())) {
        return false;
    }
    r = sim_overlay_dir(host, path, tree, size);
    preload_leave();
    errno = saved;
    return r == 0;
}

#define XATTR_CALL(name, path, ...)                                         \
    do {                                                                    \
        char real[PATH_MAX];                                                \
        int err;                                                            \
        const char *p = xattr_path(path, real, sizeof(real), &err);         \
                                                                            \
        if (err) {                                                          \
            errno = err;                                                    \
            return -1;                                                      \
        }                                                                   \
        ssize_t r_ = CALL_REAL(-1, name, p, __VA_ARGS__);                   \
                                                                            \
        if (r_ < 0 && p == path &&                                         \
            overlay_only(path, real, sizeof(real))) {                       \
            r_ = CALL_REAL(-1, name, real, __VA_ARGS__);                    \
        }                                                                   \
        return r_;                                                          \
    } while (0)

PRELOAD_API ssize_t getxattr(const char *path, const char *name, void *value,
                             size_t size)
{
    XATTR_CALL(getxattr, path, name, value, size);
}

PRELOAD_API ssize_t lgetxattr(const char *path, const char *name,
                              void *value, size_t size)
{
    XATTR_CALL(lgetxattr, path, name, value, size);
}

PRELOAD_API ssize_t listxattr(const char *path, char *list, size_t size)
{
    XATTR_CALL(listxattr, path, list, size);
}

PRELOAD_API ssize_t llistxattr(const char *path, char *list, size_t size)
{
    XATTR_CALL(llistxattr, path, list, size);
}

/* ---- stat --------------------------------------------------------------- */

/*
 * The stat of a claimed path (sim_stat_path) or a simulated fd
 * (sim_stat_fd) in @st: 1 on success, -1 with errno on failure, 0 if not
 * simulated (errno kept).
 */
static int sim_stat_path(const char *path, bool follow, struct stat *st)
{
    SimHost *host = preload_for_path(path);
    size_t n;

    if (!host) {
        return 0;
    }
    /* a trailing slash resolves a final link (the library's paths lose it) */
    n = strlen(path);
    follow = follow || (n > 1 && path[n - 1] == '/');
    return preload_done(follow ? sim_stat(host, path, st)
                           : sim_lstat(host, path, st)) < 0 ? -1 : 1;
}

static int sim_stat_fd(int fd, struct stat *st)
{
    SimHost *host = preload_for_fd(fd);

    if (!host) {
        return 0;
    }
    return preload_done(sim_fstat(host, fd, st)) < 0 ? -1 : 1;
}

/* fstatat's rules: AT_EMPTY_PATH with "" is @dirfd itself. */
static int sim_fstatat_any(int dirfd, const char *path, int flags,
                           struct stat *st)
{
    char tmp[PATH_MAX];

    if (path && !path[0] && (flags & AT_EMPTY_PATH)) {
        return sim_stat_fd(dirfd, st);
    }
    path = preload_path_at(dirfd, path, tmp, sizeof(tmp));
    if (!path) {
        return 0;
    }
    return sim_stat_path(path, !(flags & AT_SYMLINK_NOFOLLOW), st);
}

#define STAT_RESULT(r, real_call) ((r) ? ((r) < 0 ? -1 : 0) : (real_call))

/*
 * @res, a real stat call's result for @path: if it failed with ENOENT and
 * @path is a directory only the simulation has (/sys/devices/pci0000:02,
 * which its parent's listing shows, see "directories"), 0 with the stat
 * of that directory in the private tree instead.
 */
static int stat_overlay(int res, const char *path, struct stat *st)
{
    char tree[PATH_MAX];
    int saved = errno;

    if (res == 0 || !overlay_only(path, tree, sizeof(tree))) {
        return res;
    }
    if (CALL_REAL(-1, stat, tree, st)) {
        errno = saved;
        return res;
    }
    return 0;
}

/* stat_overlay for fstatat's arguments. */
static int stat_overlay_at(int res, int dirfd, const char *path,
                           struct stat *st)
{
    char tmp[PATH_MAX];
    int saved = errno;

    if (res == 0 || saved != ENOENT) {
        return res;
    }
    path = preload_path_at(dirfd, path, tmp, sizeof(tmp));
    return stat_overlay(res, path, st);
}

PRELOAD_API int stat(const char *path, struct stat *st)
{
    int r = sim_stat_path(path, true, st);

    return STAT_RESULT(r, stat_overlay(CALL_REAL(-1, stat, path, st), path,
                                        st));
}

PRELOAD_API int stat64(const char *path, struct stat64 *st)
{
    int r = sim_stat_path(path, true, (struct stat *)st);

    return STAT_RESULT(r, stat_overlay(CALL_REAL(-1, stat64, path, st), path,
                                        (struct stat *)st));
}

PRELOAD_API int lstat(const char *path, struct stat *st)
{
    int r = sim_stat_path(path, false, st);

    return STAT_RESULT(r, stat_overlay(CALL_REAL(-1, lstat, path, st), path,
                                        st));
}

PRELOAD_API int lstat64(const char *path, struct stat64 *st)
{
    int r = sim_stat_path(path, false, (struct stat *)st);

    return STAT_RESULT(r, stat_overlay(CALL_REAL(-1, lstat64, path, st), path,
                                        (struct stat *)st));
}

PRELOAD_API int fstat(int fd, struct stat *st)
{
    int r = sim_stat_fd(fd, st);

    return STAT_RESULT(r, CALL_REAL(-1, fstat, fd, st));
}

PRELOAD_API int fstat64(int fd, struct stat64 *st)
{
    int r = sim_stat_fd(fd, (struct stat *)st);

    return STAT_RESULT(r, CALL_REAL(-1, fstat64, fd, st));
}

PRELOAD_API int fstatat(int dirfd, const char *path, struct stat *st,
                        int flags)
{
    int r = sim_fstatat_any(dirfd, path, flags, st);

    return STAT_RESULT(r, stat_overlay_at(CALL_REAL(-1, fstatat, dirfd, path,
                                                     st, flags),
                                           dirfd, path, st));
}

PRELOAD_API int fstatat64(int dirfd, const char *path, struct stat64 *st,
                          int flags)
{
    int r = sim_fstatat_any(dirfd, path, flags, (struct stat *)st);

    return STAT_RESULT(r, stat_overlay_at(CALL_REAL(-1, fstatat64, dirfd, path,
                                                     st, flags),
                                           dirfd, path, (struct stat *)st));
}

/* The pre-2.33 versioned forms old binaries call (one layout on x86-64). */
PRELOAD_API int __xstat(int ver, const char *path, struct stat *st)
{
    int r = sim_stat_path(path, true, st);

    return STAT_RESULT(r, stat_overlay(CALL_REAL(-1, __xstat, ver, path, st),
                                        path, st));
}

PRELOAD_API int __xstat64(int ver, const char *path, struct stat64 *st)
{
    int r = sim_stat_path(path, true, (struct stat *)st);

    return STAT_RESULT(r, stat_overlay(CALL_REAL(-1, __xstat64, ver, path, st),
                                        path, (struct stat *)st));
}

PRELOAD_API int __lxstat(int ver, const char *path, struct stat *st)
{
    int r = sim_stat_path(path, false, st);

    return STAT_RESULT(r, stat_overlay(CALL_REAL(-1, __lxstat, ver, path, st),
                                        path, st));
}

PRELOAD_API int __lxstat64(int ver, const char *path, struct stat64 *st)
{
    int r = sim_stat_path(path, false, (struct stat *)st);

    return STAT_RESULT(r, stat_overlay(CALL_REAL(-1, __lxstat64, ver, path, st),
                                        path, (struct stat *)st));
}

PRELOAD_API int __fxstat(int ver, int fd, struct stat *st)
{
    int r = sim_stat_fd(fd, st);

    return STAT_RESULT(r, CALL_REAL(-1, __fxstat, ver, fd, st));
}

PRELOAD_API int __fxstat64(int ver, int fd, struct stat64 *st)
{
    int r = sim_stat_fd(fd, (struct stat *)st);

    return STAT_RESULT(r, CALL_REAL(-1, __fxstat64, ver, fd, st));
}

PRELOAD_API int __fxstatat(int ver, int dirfd, const char *path,
                           struct stat *st, int flags)
{
    int r = sim_fstatat_any(dirfd, path, flags, st);
    int res = r ? 0 : CALL_REAL(-1, __fxstatat, ver, dirfd, path, st, flags);

    return STAT_RESULT(r, stat_overlay_at(res, dirfd, path, st));
}

PRELOAD_API int __fxstatat64(int ver, int dirfd, const char *path,
                             struct stat64 *st, int flags)
{
    int r = sim_fstatat_any(dirfd, path, flags, (struct stat *)st);
    int res = r ? 0 : CALL_REAL(-1, __fxstatat64, ver, dirfd, path, st, flags);

    return STAT_RESULT(r, stat_overlay_at(res, dirfd, path, (struct stat *)st));
}

/* statx from a struct stat: the basic fields, no birth time. */
static void statx_from_stat(const struct stat *st, struct statx *stx)
{
    memset(stx, 0, sizeof(*stx));
    stx->stx_mask = STATX_BASIC_STATS;
    stx->stx_blksize = st->st_blksize;
    stx->stx_nlink = st->st_nlink;
    stx->stx_uid = st->st_uid;
    stx->stx_gid = st->st_gid;
    stx->stx_mode = st->st_mode;
    stx->stx_ino = st->st_ino;
    stx->stx_size = st->st_size;
    stx->stx_blocks = st->st_blocks;
    stx->stx_atime.tv_sec = st->st_atim.tv_sec;
    stx->stx_atime.tv_nsec = st->st_atim.tv_nsec;
    stx->stx_mtime.tv_sec = st->st_mtim.tv_sec;
    stx->stx_mtime.tv_nsec = st->st_mtim.tv_nsec;
    stx->stx_ctime.tv_sec = st->st_ctim.tv_sec;
    stx->stx_ctime.tv_nsec = st->st_ctim.tv_nsec;
    stx->stx_rdev_major = major(st->st_rdev);
    stx->stx_rdev_minor = minor(st->st_rdev);
    stx->stx_dev_major = major(st->st_dev);
    stx->stx_dev_minor = minor(st->st_dev);
}

PRELOAD_API int statx(int dirfd, const char *path, int flags,
                      unsigned int mask, struct statx *stx)
{
    struct stat st;
    int r = sim_fstatat_any(dirfd, path, flags, &st);

    if (r == 0) {
        r = CALL_REAL(-1, statx, dirfd, path, flags, mask, stx) ? -1 : 2;
        if (r < 0 && !stat_overlay_at(-1, dirfd, path, &st)) {
            r = 1;
        }
    }
    if (r == 1) {
        statx_from_stat(&st, stx);
    }
    return r < 0 ? -1 : 0;
}

/* ---- directories -------------------------------------------------------- */

/*
 * opendir and fdopendir hand out a SimDir, not libc's DIR, for
 * - a claimed directory (/dev/vfio, /sys/bus/pci/devices, ...): the
 *   entries of its place in the private tree;
 * - a directory the host does not claim but has entries below
 *   (sim_overlay_dir: /dev, /sys/class, /sys/bus/pci/drivers, ...): the
 *   real directory's entries merged with the tree's, a simulated name
 *   replacing a real one.
 * The entries are read at open and again at rewinddir, with the inode and
 * type the simulation reports (DT_CHR for nodes, DT_LNK for links).
 * sim_dirs is the set of SimDirs handed out: readdir, closedir, ... serve
 * those and pass any other DIR to libc.  dir_lock guards sim_dirs and the
 * SimDirs' positions; it is taken inside host_lock or alone, and held
 * across no call into the library or libc's directory functions.
 */
typedef struct SimDir {
    int fd;                 /* dirfd(): the real directory, or the tree's */
    bool merge;             /* @fd is the real directory, merged with @tree */
    char *tree;             /* the directory in the private tree */
    GArray *ents;           /* struct dirent64, "." and ".." once */
    size_t pos;             /* the next entry, telldir()'s value */
} SimDir;

static GMutex dir_lock;
static GHashTable *sim_dirs;
static unsigned sim_dirs_open;      /* atomic: readdir's fast path */

void preload_dirs_clear(void)
{
    /* SimDirs still open stay reachable: the program may close them */
    g_mutex_lock(&dir_lock);
    if (sim_dirs && !g_hash_table_size(sim_dirs)) {
        g_clear_pointer(&sim_dirs, g_hash_table_destroy);
    }
    g_mutex_unlock(&dir_lock);
}

/* Add (or, if @name is in @index already, replace) an entry of @ents. */
static void dir_add_entry(GArray *ents, GHashTable *index, const char *name,
                          ino_t ino, unsigned char type)
{
    gpointer at;
    struct dirent64 *de;

    if (g_hash_table_lookup_extended(index, name, NULL, &at)) {
        de = &g_array_index(ents, struct dirent64, GPOINTER_TO_UINT(at) - 1);
    } else {
        g_array_set_size(ents, ents->len + 1);
        g_hash_table_insert(index, g_strdup(name),
                            GUINT_TO_POINTER(ents->len));
        de = &g_array_index(ents, struct dirent64, ents->len - 1);
        g_strlcpy(de->d_name, name, sizeof(de->d_name));
    }
    de->d_ino = ino;
    de->d_type = type;
}

static bool is_dot(const char *name)
{
    return !strcmp(name, ".") || !strcmp(name, "..");
}

/* The entries of the real directory open on @fd, read through a copy. */
static void dir_read_real(int fd, GArray *ents, GHashTable *index)
{
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    struct dirent64 *de;
    DIR *d;

    d = copy < 0 ? NULL : CALL_REAL(NULL, fdopendir, copy);
    if (!d) {
        if (copy >= 0) {
            close(copy);
        }
        return;
    }
    if (real_rewinddir()) {
        real_rewinddir()(d);    /* the offset is shared with @fd */
    }
    while ((de = CALL_REAL(NULL, readdir64, d))) {
        dir_add_entry(ents, index, de->d_name, de->d_ino, de->d_type);
    }
    CALL_REAL(-1, closedir, d);
}

/*
 * The entries of the tree directory @tree, as the simulation stats them
 * (its paths are claimed); "." and ".." only if the real ones are absent.
 */
static void dir_read_tree(SimHost *host, const char *tree, GArray *ents,
                          GHashTable *index)
{
    DIR *d = CALL_REAL(NULL, opendir, tree);
    struct dirent64 *de;

    while (d && (de = CALL_REAL(NULL, readdir64, d))) {
        g_autofree char *child = NULL;
        struct stat st;

        if (is_dot(de->d_name)) {
            if (!g_hash_table_contains(index, de->d_name)) {
                dir_add_entry(ents, index, de->d_name, de->d_ino, DT_DIR);
            }
            continue;
        }
        child = g_build_filename(tree, de->d_name, NULL);
        if (!sim_lstat(host, child, &st)) {
            dir_add_entry(ents, index, de->d_name, st.st_ino,
                          IFTODT(st.st_mode));
        }
    }
    if (d) {
        CALL_REAL(-1, closedir, d);
    }
}

/* The entries @sd lists now (preload_enter held). */
static GArray *dir_entries(SimHost *host, const SimDir *sd)
{
    GArray *ents = g_array_new(false, true, sizeof(struct dirent64));
    GHashTable *index = g_hash_table_new_full(g_str_hash, g_str_equal,
                                              g_free, NULL);

    if (sd->merge) {
        dir_read_real(sd->fd, ents, index);
    }
    dir_read_tree(host, sd->tree, ents, index);
    for (guint i = 0; i < ents->len; i++) {
        struct dirent64 *de = &g_array_index(ents, struct dirent64, i);

        de->d_off = i + 1;
        de->d_reclen = (offsetof(struct dirent64, d_name) +
                        strlen(de->d_name) + 1 + 7) & ~(size_t)7;
    }
    g_hash_table_destroy(index);
    return ents;
}

/* A SimDir listing @tree (and the real directory @fd if @merge). */
static DIR *dir_new(SimHost *host, int fd, bool merge, const char *tree)
{
    SimDir *sd = g_new0(SimDir, 1);

    sd->fd = fd;
    sd->merge = merge;
    sd->tree = g_strdup(tree);
    sd->ents = dir_entries(host, sd);
    g_mutex_lock(&dir_lock);
    if (!sim_dirs) {
        sim_dirs = g_hash_table_new(g_direct_hash, g_direct_equal);
    }
    g_hash_table_add(sim_dirs, sd);
    __atomic_add_fetch(&sim_dirs_open, 1, __ATOMIC_RELEASE);
    g_mutex_unlock(&dir_lock);
    return (DIR *)sd;
}

/*
 * Where a listing of @path comes from: 1 with @tree (PATH_MAX bytes) for
 * a SimDir, *merge if the real directory is part of it; 0 for libc alone;
 * -errno for a claimed path that is not in the tree.
 */
static int dir_source(SimHost *host, const char *path, char *tree,
                      bool *merge)
{
    int r;

    if (sim_claims_path(host, path) == 1) {
        *merge = false;
        r = sim_translate_path(host, path, tree, PATH_MAX);
        return r < 0 ? r : 1;
    }
    *merge = true;
    return sim_overlay_dir(host, path, tree, PATH_MAX) < 0 ? 0 : 1;
}

/* opendir for a SimDir: *ours false if @path is libc's alone. */
static DIR *sim_opendir(const char *path, bool *ours)
{
    char tree[PATH_MAX];
    SimHost *host = path ? preload_enter() : NULL;
    bool merge;
    DIR *dir;
    int r, fd = -1, saved = errno;

    *ours = false;
    if (!host) {
        return NULL;
    }
    r = dir_source(host, path, tree, &merge);
    if (r == 0) {
        preload_leave();
        errno = saved;
        return NULL;
    }
    *ours = true;
    if (r < 0) {
        preload_done(r);
        return NULL;
    }
    if (merge) {
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (fd < 0) {
        merge = false;          /* no real directory: the tree's alone */
        fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (fd < 0) {
        preload_done(-errno);
        return NULL;
    }
    dir = dir_new(host, fd, merge, tree);
    preload_leave();
    return dir;
}

PRELOAD_API DIR *opendir(const char *path)
{
    bool ours;
    DIR *dir = sim_opendir(path, &ours);

    return ours ? dir : CALL_REAL(NULL, opendir, path);
}

/* fdopendir of a directory fd a listing of its path would make a SimDir. */
PRELOAD_API DIR *fdopendir(int fd)
{
    char buf[PATH_MAX], tree[PATH_MAX];
    const char *path = preload_path_at(fd, ".", buf, sizeof(buf));
    SimHost *host = path ? preload_enter() : NULL;
    struct stat st;
    bool merge;
    int fl, saved = errno;
    DIR *dir;

    if (!host) {
        return CALL_REAL(NULL, fdopendir, fd);
    }
    fl = fcntl(fd, F_GETFL);
    /* anything libc would refuse (not a directory, O_PATH) goes there */
    if (dir_source(host, path, tree, &merge) <= 0 || fl < 0 ||
        (fl & O_PATH) || CALL_REAL(-1, fstat, fd, &st) ||
        !S_ISDIR(st.st_mode)) {
        preload_leave();
        errno = saved;
        return CALL_REAL(NULL, fdopendir, fd);
    }
    dir = dir_new(host, fd, merge, tree);
    preload_leave();
    return dir;
}

/* @dir as a SimDir, or NULL if it is libc's; with dir_lock held if not. */
static SimDir *dir_lookup(DIR *dir)
{
    if (!__atomic_load_n(&sim_dirs_open, __ATOMIC_ACQUIRE)) {
        return NULL;
    }
    g_mutex_lock(&dir_lock);
    if (sim_dirs && g_hash_table_contains(sim_dirs, dir)) {
        return (SimDir *)dir;
    }
    g_mutex_unlock(&dir_lock);
    return NULL;
}

/* The next entry of @sd or NULL at the end (dir_lock held, then dropped). */
static struct dirent64 *dir_next(SimDir *sd)
{
    struct dirent64 *de = NULL;

    if (sd->pos < sd->ents->len) {
        de = &g_array_index(sd->ents, struct dirent64, sd->pos++);
    }
    g_mutex_unlock(&dir_lock);
    return de;
}

PRELOAD_API struct dirent *readdir(DIR *dir)
{
    SimDir *sd = dir_lookup(dir);

    return sd ? (struct dirent *)dir_next(sd)
              : CALL_REAL(NULL, readdir, dir);
}

PRELOAD_API struct dirent64 *readdir64(DIR *dir)
{
    SimDir *sd = dir_lookup(dir);

    return sd ? dir_next(sd) : CALL_REAL(NULL, readdir64, dir);
}

/* readdir_r is deprecated, but glibc 2.36 exports it and programs call it */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
DEFINE_REAL(readdir_r)
DEFINE_REAL(readdir64_r)

static int dir_next_r(SimDir *sd, struct dirent64 *entry,
                      struct dirent64 **result)
{
    struct dirent64 *de = dir_next(sd);

    if (de) {
        memcpy(entry, de, sizeof(*entry));
    }
    *result = de ? entry : NULL;
    return 0;
}

PRELOAD_API int readdir_r(DIR *dir, struct dirent *entry,
                          struct dirent **result)
{
    SimDir *sd = dir_lookup(dir);

    if (!sd) {
        return real_readdir_r() ? real_readdir_r()(dir, entry, result)
                                : ENOSYS;
    }
    return dir_next_r(sd, (struct dirent64 *)entry,
                      (struct dirent64 **)result);
}

PRELOAD_API int readdir64_r(DIR *dir, struct dirent64 *entry,
                            struct dirent64 **result)
{
    SimDir *sd = dir_lookup(dir);

    if (!sd) {
        return real_readdir64_r() ? real_readdir64_r()(dir, entry, result)
                                  : ENOSYS;
    }
    return dir_next_r(sd, entry, result);
}
#pragma GCC diagnostic pop

PRELOAD_API int closedir(DIR *dir)
{
    SimDir *sd = dir_lookup(dir);
    int fd;

    if (!sd) {
        return CALL_REAL(-1, closedir, dir);
    }
    g_hash_table_remove(sim_dirs, sd);
    __atomic_sub_fetch(&sim_dirs_open, 1, __ATOMIC_RELEASE);
    g_mutex_unlock(&dir_lock);
    fd = sd->fd;
    g_array_free(sd->ents, true);
    g_free(sd->tree);
    g_free(sd);
    return close(fd);
}

PRELOAD_API int dirfd(DIR *dir)
{
    SimDir *sd = dir_lookup(dir);
    int fd;

    if (!sd) {
        return CALL_REAL(-1, dirfd, dir);
    }
    fd = sd->fd;
    g_mutex_unlock(&dir_lock);
    return fd;
}

PRELOAD_API long telldir(DIR *dir)
{
    SimDir *sd = dir_lookup(dir);
    long pos;

    if (!sd) {
        return CALL_REAL(-1, telldir, dir);
    }
    pos = (long)sd->pos;
    g_mutex_unlock(&dir_lock);
    return pos;
}

PRELOAD_API void seekdir(DIR *dir, long pos)
{
    SimDir *sd = dir_lookup(dir);

    if (!sd) {
        if (real_seekdir()) {
            real_seekdir()(dir, pos);
        }
        return;
    }
    /* a value telldir never gave: the end, as an exhausted stream */
    sd->pos = pos >= 0 && (size_t)pos <= sd->ents->len ? (size_t)pos
                                                        : sd->ents->len;
    g_mutex_unlock(&dir_lock);
}

/* rewinddir reads the directory again, as getdents from offset 0 would. */
PRELOAD_API void rewinddir(DIR *dir)
{
    SimDir *sd = dir_lookup(dir);
    SimHost *host;
    GArray *ents = NULL, *old = NULL;

    if (!sd) {
        if (real_rewinddir()) {
            real_rewinddir()(dir);
        }
        return;
    }
    g_mutex_unlock(&dir_lock);
    host = preload_enter();         /* none (at exit): the old entries */
    if (host) {
        ents = dir_entries(host, sd);
        preload_leave();
    }
    g_mutex_lock(&dir_lock);
    if (ents) {
        old = sd->ents;
        sd->ents = ents;
    }
    sd->pos = 0;
    g_mutex_unlock(&dir_lock);
    if (old) {
        g_array_free(old, true);
    }
}

/*
 * scandir: libc's opens with its internal opendir, so a path that would
 * be a SimDir is listed here, the libc way: the entries @filter keeps, in
 * malloc'd copies, sorted with @compar.
 */
typedef int (*ScandirCompar)(const struct dirent64 **,
                             const struct dirent64 **);

static int scandir_cmp(const void *a, const void *b, void *compar)
{
    const struct dirent64 *da = *(struct dirent64 *const *)a;
    const struct dirent64 *db = *(struct dirent64 *const *)b;

    return (*(ScandirCompar *)compar)(&da, &db);
}

static int sim_scandir(const char *path, struct dirent64 ***list,
                       int (*filter)(const struct dirent64 *),
                       ScandirCompar compar, bool *ours)
{
    DIR *dir = sim_opendir(path, ours);
    GPtrArray *found;
    struct dirent64 *de, **out;
    int err = 0;

    if (!dir) {
        return -1;
    }
    found = g_ptr_array_new();
    while ((de = readdir64(dir))) {
        struct dirent64 *copy;

        if (filter && !filter(de)) {
            continue;
        }
        copy = malloc(sizeof(*copy));
        if (!copy) {
            err = ENOMEM;
            break;
        }
        memcpy(copy, de, sizeof(*copy));
        g_ptr_array_add(found, copy);
    }
    closedir(dir);
    out = err ? NULL : malloc((found->len + 1) * sizeof(*out));
    if (!out) {
        for (guint i = 0; i < found->len; i++) {
            free(g_ptr_array_index(found, i));
        }
        g_ptr_array_free(found, true);
        errno = err ? err : ENOMEM;
        return -1;
    }
    if (found->len) {
        memcpy(out, found->pdata, found->len * sizeof(*out));
    }
    if (compar) {
        qsort_r(out, found->len, sizeof(*out), scandir_cmp, &compar);
    }
    *list = out;
    err = (int)found->len;
    g_ptr_array_free(found, true);
    return err;
}

PRELOAD_API int scandir(const char *path, struct dirent ***list,
                        int (*filter)(const struct dirent *),
                        int (*compar)(const struct dirent **,
                                      const struct dirent **))
{
    bool ours;
    int n = sim_scandir(path, (struct dirent64 ***)list,
                        (int (*)(const struct dirent64 *))filter,
                        (ScandirCompar)compar, &ours);

    return ours ? n : CALL_REAL(-1, scandir, path, list, filter, compar);
}

PRELOAD_API int scandir64(const char *path, struct dirent64 ***list,
                          int (*filter)(const struct dirent64 *),
                          int (*compar)(const struct dirent64 **,
                                        const struct dirent64 **))
{
    bool ours;
    int n = sim_scandir(path, list, filter, compar, &ours);

    return ours ? n : CALL_REAL(-1, scandir64, path, list, filter, compar);
}
