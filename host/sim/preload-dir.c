/*
 * libviommu-sim-preload.so: paths, metadata and directories — readlink,
 * realpath, access, extended attributes, the stat family and opendir — of
 * the paths the simulated host claims.  Dispatch, reentrancy and locking
 * as described in preload.c.
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
DEFINE_REAL(readdir)
DEFINE_REAL(readdir64)
DEFINE_REAL(closedir)
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
        return CALL_REAL(-1, name, p, __VA_ARGS__);                         \
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

PRELOAD_API int stat(const char *path, struct stat *st)
{
    int r = sim_stat_path(path, true, st);

    return STAT_RESULT(r, CALL_REAL(-1, stat, path, st));
}

PRELOAD_API int stat64(const char *path, struct stat64 *st)
{
    int r = sim_stat_path(path, true, (struct stat *)st);

    return STAT_RESULT(r, CALL_REAL(-1, stat64, path, st));
}

PRELOAD_API int lstat(const char *path, struct stat *st)
{
    int r = sim_stat_path(path, false, st);

    return STAT_RESULT(r, CALL_REAL(-1, lstat, path, st));
}

PRELOAD_API int lstat64(const char *path, struct stat64 *st)
{
    int r = sim_stat_path(path, false, (struct stat *)st);

    return STAT_RESULT(r, CALL_REAL(-1, lstat64, path, st));
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

    return STAT_RESULT(r, CALL_REAL(-1, fstatat, dirfd, path, st, flags));
}

PRELOAD_API int fstatat64(int dirfd, const char *path, struct stat64 *st,
                          int flags)
{
    int r = sim_fstatat_any(dirfd, path, flags, (struct stat *)st);

    return STAT_RESULT(r, CALL_REAL(-1, fstatat64, dirfd, path, st, flags));
}

/* The pre-2.33 versioned forms old binaries call (one layout on x86-64). */
PRELOAD_API int __xstat(int ver, const char *path, struct stat *st)
{
    int r = sim_stat_path(path, true, st);

    return STAT_RESULT(r, CALL_REAL(-1, __xstat, ver, path, st));
}

PRELOAD_API int __xstat64(int ver, const char *path, struct stat64 *st)
{
    int r = sim_stat_path(path, true, (struct stat *)st);

    return STAT_RESULT(r, CALL_REAL(-1, __xstat64, ver, path, st));
}

PRELOAD_API int __lxstat(int ver, const char *path, struct stat *st)
{
    int r = sim_stat_path(path, false, st);

    return STAT_RESULT(r, CALL_REAL(-1, __lxstat, ver, path, st));
}

PRELOAD_API int __lxstat64(int ver, const char *path, struct stat64 *st)
{
    int r = sim_stat_path(path, false, (struct stat *)st);

    return STAT_RESULT(r, CALL_REAL(-1, __lxstat64, ver, path, st));
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

    return STAT_RESULT(r, CALL_REAL(-1, __fxstatat, ver, dirfd, path, st,
                                    flags));
}

PRELOAD_API int __fxstatat64(int ver, int dirfd, const char *path,
                             struct stat64 *st, int flags)
{
    int r = sim_fstatat_any(dirfd, path, flags, (struct stat *)st);

    return STAT_RESULT(r, CALL_REAL(-1, __fxstatat64, ver, dirfd, path, st,
                                    flags));
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

    if (r > 0) {
        statx_from_stat(&st, stx);
    }
    return STAT_RESULT(r, CALL_REAL(-1, statx, dirfd, path, flags, mask,
                                    stx));
}

/* ---- directories -------------------------------------------------------- */

/*
 * A claimed directory is opened with libc's opendir at its place in the
 * private tree, so readdir, dirfd, rewinddir, ... need nothing.  Only the
 * entry type of node files is corrected (DT_REG on disk, DT_CHR in the
 * simulation): sim_dirs maps such a DIR to its simulated path.  dir_lock.
 */
static GMutex dir_lock;
static GHashTable *sim_dirs;

void preload_dirs_clear(void)
{
    g_mutex_lock(&dir_lock);
    g_clear_pointer(&sim_dirs, g_hash_table_destroy);
    g_mutex_unlock(&dir_lock);
}

PRELOAD_API DIR *opendir(const char *path)
{
    char real[PATH_MAX];
    SimHost *host = preload_for_path(path);
    DIR *dir;
    int r;

    if (!host) {
        return CALL_REAL(NULL, opendir, path);
    }
    r = sim_translate_path(host, path, real, sizeof(real));
    if (r < 0) {
        preload_done(r);
        return NULL;
    }
    dir = CALL_REAL(NULL, opendir, real);
    if (dir) {
        g_mutex_lock(&dir_lock);
        if (!sim_dirs) {
            sim_dirs = g_hash_table_new_full(g_direct_hash, g_direct_equal,
                                             NULL, g_free);
        }
        g_hash_table_insert(sim_dirs, dir, g_strdup(path));
        g_mutex_unlock(&dir_lock);
    }
    preload_done(dir ? 0 : -errno);
    return dir;
}

/* DT_CHR for an entry of a simulated directory that is a device node. */
static void fix_dirent_type(DIR *dir, unsigned char *type, const char *name)
{
    g_autofree char *path = NULL;
    SimHost *host;
    struct stat st;
    int saved = errno;

    if (*type != DT_REG || !(host = preload_enter())) {
        return;
    }
    g_mutex_lock(&dir_lock);
    if (sim_dirs && g_hash_table_contains(sim_dirs, dir)) {
        path = g_build_filename(g_hash_table_lookup(sim_dirs, dir), name,
                                NULL);
    }
    g_mutex_unlock(&dir_lock);
    if (path && !sim_lstat(host, path, &st) && S_ISCHR(st.st_mode)) {
        *type = DT_CHR;
    }
    preload_leave();
    errno = saved;      /* readdir's end-of-directory test reads errno */
}

PRELOAD_API struct dirent *readdir(DIR *dir)
{
    struct dirent *de = CALL_REAL(NULL, readdir, dir);

    if (de) {
        fix_dirent_type(dir, &de->d_type, de->d_name);
    }
    return de;
}

PRELOAD_API struct dirent64 *readdir64(DIR *dir)
{
    struct dirent64 *de = CALL_REAL(NULL, readdir64, dir);

    if (de) {
        fix_dirent_type(dir, &de->d_type, de->d_name);
    }
    return de;
}

PRELOAD_API int closedir(DIR *dir)
{
    g_mutex_lock(&dir_lock);
    if (sim_dirs) {
        g_hash_table_remove(sim_dirs, dir);
    }
    g_mutex_unlock(&dir_lock);
    return CALL_REAL(-1, closedir, dir);
}

/* scandir opens with libc's internal opendir: translate the path here. */
static const char *scandir_path(const char *path, char *real, size_t size)
{
    SimHost *host = preload_for_path(path);
    int r;

    if (!host) {
        return path;
    }
    r = sim_translate_path(host, path, real, size);
    preload_leave();
    return r < 0 ? path : real;
}

PRELOAD_API int scandir(const char *path, struct dirent ***list,
                        int (*filter)(const struct dirent *),
                        int (*compar)(const struct dirent **,
                                      const struct dirent **))
{
    char real[PATH_MAX];

    return CALL_REAL(-1, scandir, scandir_path(path, real, sizeof(real)),
                     list, filter, compar);
}

PRELOAD_API int scandir64(const char *path, struct dirent64 ***list,
                          int (*filter)(const struct dirent64 *),
                          int (*compar)(const struct dirent64 **,
                                        const struct dirent64 **))
{
    char real[PATH_MAX];

    return CALL_REAL(-1, scandir64, scandir_path(path, real, sizeof(real)),
                     list, filter, compar);
}
