/*
 * libviommu-sim-preload.so: one simulated Linux host (libviommu-sim) behind
 * the libc entry points of an unmodified VFIO/iommufd program.
 *
 *   LD_PRELOAD=libviommu-sim-preload.so \
 *   VIOMMU_SIM='iommu=vtd;device:bdf=0000:02:00.0,group=5' ./program
 *
 * Dispatch rule (the one host/hostos.c follows): a path is served by the
 * simulation iff sim_claims_path() says so, an fd iff sim_fd_lookup() says
 * 1; everything else reaches the next definition (libc) unchanged, found
 * with dlsym(RTLD_NEXT) on first use.  See docs/sim-preload.md.
 *
 * Reentrancy: the library (and GLib under it) calls open, fstat, mmap, ...
 * itself, and those calls land here again.  in_sim, a thread-local count,
 * is set around every call into the library; while it is set every entry
 * point goes straight to libc.
 *
 * Lifetime and locking: the host is created by the constructor from
 * $VIOMMU_SIM and freed by the destructor.  host_lock (a reader/writer
 * lock) protects sim_host: simulated calls hold it as readers for their
 * whole length, the destructor and fork() take it as writer, so neither
 * frees nor copies the host under a call in flight.  The library
 * serialises the calls themselves with its own mutex.  Real calls run
 * without the lock (a read on an eventfd may block).  map_lock protects
 * sim_maps (here), dir_lock sim_dirs (preload-dir.c); both are taken
 * inside host_lock or alone.
 *
 * This file: the host, open/close/dup, ioctl, read/write, mmap/munmap.
 * preload-dir.c: paths, the stat family and directories.
 */
#include "preload.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>

#define TLS_IE __attribute__((tls_model("initial-exec")))

/* _FORTIFY_SOURCE forms (declared only when it is on). */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __read_chk(int fd, void *buf, size_t count, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t count, off_t offset,
                    size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t count, off64_t offset,
                      size_t buflen);
void __chk_fail(void) __attribute__((noreturn));

/* ---- the real functions ------------------------------------------------ */

DEFINE_REAL(open)
DEFINE_REAL(open64)
DEFINE_REAL(openat)
DEFINE_REAL(openat64)
DEFINE_REAL(__open_2)
DEFINE_REAL(__open64_2)
DEFINE_REAL(__openat_2)
DEFINE_REAL(__openat64_2)
DEFINE_REAL(creat)
DEFINE_REAL(creat64)
DEFINE_REAL(fopen)
DEFINE_REAL(fopen64)
DEFINE_REAL(close)
DEFINE_REAL(dup2)
DEFINE_REAL(dup3)
DEFINE_REAL(close_range)
DEFINE_REAL(closefrom)
DEFINE_REAL(ioctl)
DEFINE_REAL(read)
DEFINE_REAL(write)
DEFINE_REAL(pread)
DEFINE_REAL(pread64)
DEFINE_REAL(pwrite)
DEFINE_REAL(pwrite64)
DEFINE_REAL(mmap)
DEFINE_REAL(mmap64)
DEFINE_REAL(munmap)
DEFINE_REAL(readlink)

/* ---- the host ----------------------------------------------------------- */

static pthread_rwlock_t host_lock = PTHREAD_RWLOCK_INITIALIZER;
static SimHost *sim_host;           /* host_lock */
static bool host_active;            /* a host was created (atomic) */
static pid_t host_pid;              /* the process that created the tree */
static SimHost *forked_host;        /* a fork child's copy, never freed */
static __thread unsigned in_sim TLS_IE;

/*
 * The host, with host_lock held as reader and in_sim raised, or NULL (no
 * host, or a call from inside the library).  errno is kept.
 */
SimHost *preload_enter(void)
{
    if (in_sim || !__atomic_load_n(&host_active, __ATOMIC_ACQUIRE)) {
        return NULL;
    }
    pthread_rwlock_rdlock(&host_lock);
    if (!sim_host) {
        pthread_rwlock_unlock(&host_lock);
        return NULL;
    }
    in_sim++;
    return sim_host;
}

void preload_leave(void)
{
    in_sim--;
    pthread_rwlock_unlock(&host_lock);
}

/* The host if it claims @path (preload_enter held), else NULL; errno kept. */
SimHost *preload_for_path(const char *path)
{
    int saved = errno;
    SimHost *host = path ? preload_enter() : NULL;

    if (host && sim_claims_path(host, path) != 1) {
        preload_leave();
        host = NULL;
    }
    errno = saved;
    return host;
}

/* The host if @fd is a simulated fd (preload_enter held), else NULL. */
SimHost *preload_for_fd(int fd)
{
    int saved = errno;
    SimHost *host = fd >= 0 ? preload_enter() : NULL;

    if (host && sim_fd_lookup(host, fd) != 1) {
        preload_leave();
        host = NULL;
    }
    errno = saved;
    return host;
}

/* A library result (>= 0 or -errno) in libc form, leaving the host. */
long preload_done(long r)
{
    preload_leave();
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

/*
 * The absolute path @path names relative to @dirfd, for the claim test:
 * @path itself if absolute, @dirfd's path joined with it if @dirfd is a
 * directory fd, NULL for AT_FDCWD-relative paths (they reach the real file
 * system, see docs/sim-preload.md).
 */
const char *preload_path_at(int dirfd, const char *path, char *buf,
                            size_t size)
{
    char link[64];
    int saved = errno;
    ssize_t n;

    if (!path || path[0] == '/') {
        return path;
    }
    if (dirfd == AT_FDCWD || dirfd < 0 || !path[0] || in_sim ||
        !__atomic_load_n(&host_active, __ATOMIC_ACQUIRE)) {
        return NULL;
    }
    snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
    n = CALL_REAL(-1, readlink, link, buf, size);
    errno = saved;
    if (n <= 0 || (size_t)n >= size || buf[0] != '/') {
        return NULL;
    }
    buf[n] = '\0';
    if (g_strlcat(buf, "/", size) >= size ||
        g_strlcat(buf, path, size) >= size) {
        return NULL;
    }
    return buf;
}

/* ---- the description ---------------------------------------------------- */

#define ENV_NAME "VIOMMU_SIM"
#define MSG_PREFIX "viommu-sim-preload: " ENV_NAME ": "

/*
 * A description file: '#' starts a comment, each line is trimmed (and a
 * trailing ',' or ';' dropped), empty lines are skipped; a line starting
 * with "device:" opens a new section (joined with ';'), any other line
 * continues the current one (joined with ',').
 */
static char *desc_from_file(const char *path)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    GError *err = NULL;
    GString *out;

    if (!g_file_get_contents(path, &text, NULL, &err)) {
        fprintf(stderr, MSG_PREFIX "%s; the simulation is off\n",
                err->message);
        g_error_free(err);
        return NULL;
    }
    out = g_string_new(NULL);
    lines = g_strsplit(text, "\n", -1);
    for (unsigned i = 0; lines[i]; i++) {
        char *line = lines[i], *hash = strchr(line, '#');
        size_t n;

        if (hash) {
            *hash = '\0';
        }
        g_strstrip(line);
        n = strlen(line);
        while (n && (line[n - 1] == ',' || line[n - 1] == ';')) {
            line[--n] = '\0';
        }
        if (!n) {
            continue;
        }
        if (g_str_has_prefix(line, "device:")) {
            g_string_append_c(out, ';');
        } else if (out->len) {
            g_string_append_c(out, ',');
        }
        g_string_append(out, line);
    }
    return g_string_free(out, false);
}

/*
 * Say which part of @text sim_host_new_from_string() refused: the first
 * section the parsers reject, else (a description the host refused, e.g. a
 * duplicate or malformed BDF, an unusable root) the whole text.
 */
static void report_bad_desc(const char *text, int err)
{
    g_auto(GStrv) parts = g_strsplit(text, ";", -1);
    SimHostDesc hd;
    SimDeviceDesc dd;

    sim_host_desc_init(&hd);
    if (sim_host_desc_parse(&hd, parts[0]) < 0) {
        fprintf(stderr, MSG_PREFIX "bad host key or value in '%s'; "
                "the simulation is off\n", parts[0]);
        return;
    }
    for (unsigned i = 1; parts[i]; i++) {
        if (!parts[i][0]) {
            continue;
        }
        sim_device_desc_init(&dd);
        if (!g_str_has_prefix(parts[i], "device:")) {
            fprintf(stderr, MSG_PREFIX "'%s' does not start with 'device:'; "
                    "the simulation is off\n", parts[i]);
            return;
        }
        if (sim_device_desc_parse(&dd, parts[i] + 7) < 0) {
            fprintf(stderr, MSG_PREFIX "bad device key or value in '%s'; "
                    "the simulation is off\n", parts[i]);
            return;
        }
    }
    fprintf(stderr, MSG_PREFIX "cannot create the host '%s': %s; "
            "the simulation is off\n", text, g_strerror(err));
}

static void atfork_prepare(void)
{
    pthread_rwlock_wrlock(&host_lock);
}

static void atfork_parent(void)
{
    pthread_rwlock_unlock(&host_lock);
}

static void atfork_child(void)
{
    /* the writer was the parent's thread: start from a fresh lock */
    pthread_rwlock_t fresh = PTHREAD_RWLOCK_INITIALIZER;

    host_lock = fresh;
}

static void host_init(void)
{
    const char *env = getenv(ENV_NAME);
    g_autofree char *text = NULL;
    SimHost *host = NULL;
    int r;

    if (!env || !env[0]) {
        return;
    }
    in_sim++;
    if (env[0] == '@' || env[0] == '/') {
        text = desc_from_file(env[0] == '@' ? env + 1 : env);
    } else {
        text = g_strdup(env);
    }
    if (text) {
        r = sim_host_new_from_string(text, &host);
        if (r < 0) {
            report_bad_desc(text, -r);
            host = NULL;
        }
    }
    if (host) {
        sim_host = host;
        host_pid = getpid();
        pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
        __atomic_store_n(&host_active, true, __ATOMIC_RELEASE);
    }
    in_sim--;
}

static void maps_clear(void);

__attribute__((constructor)) static void preload_init(void)
{
    host_init();
}

/*
 * At exit: free the host (fds the program still holds become plain memfds
 * and later calls on them go to libc).  A fork child leaves the tree to
 * its parent.
 */
__attribute__((destructor)) static void preload_fini(void)
{
    SimHost *host;

    if (!__atomic_load_n(&host_active, __ATOMIC_ACQUIRE)) {
        return;
    }
    pthread_rwlock_wrlock(&host_lock);
    host = sim_host;
    sim_host = NULL;
    pthread_rwlock_unlock(&host_lock);
    if (!host) {
        return;
    }
    in_sim++;
    if (getpid() == host_pid) {
        sim_host_free(host);
    } else {
        forked_host = host;     /* still reachable: not a leak */
    }
    maps_clear();
    preload_dirs_clear();
    in_sim--;
}

/* ---- open and close ----------------------------------------------------- */

/* O_TMPFILE includes O_DIRECTORY: test all of its bits. */
#define OPEN_NEEDS_MODE(flags) \
    (((flags) & O_CREAT) || ((flags) & O_TMPFILE) == O_TMPFILE)

#define OPEN_MODE(flags, mode)                                              \
    do {                                                                    \
        if (OPEN_NEEDS_MODE(flags)) {                                       \
            va_list ap;                                                     \
                                                                            \
            va_start(ap, flags);                                            \
            mode = va_arg(ap, mode_t);                                      \
            va_end(ap);                                                     \
        }                                                                   \
    } while (0)

/* The simulated open of @path (claimed), or -2 with errno kept if not. */
static int sim_open_path(const char *path, int flags, mode_t mode)
{
    SimHost *host = preload_for_path(path);

    if (!host) {
        return -2;
    }
    return (int)preload_done(sim_open(host, path, flags, mode));
}

static int sim_openat_path(int dirfd, const char *path, int flags,
                           mode_t mode)
{
    char buf[PATH_MAX];

    path = preload_path_at(dirfd, path, buf, sizeof(buf));
    return path ? sim_open_path(path, flags, mode) : -2;
}

PRELOAD_API int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    int fd;

    OPEN_MODE(flags, mode);
    fd = sim_open_path(path, flags, mode);
    return fd != -2 ? fd : CALL_REAL(-1, open, path, flags, mode);
}

PRELOAD_API int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    int fd;

    OPEN_MODE(flags, mode);
    fd = sim_open_path(path, flags, mode);
    return fd != -2 ? fd : CALL_REAL(-1, open64, path, flags, mode);
}

PRELOAD_API int openat(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    int fd;

    OPEN_MODE(flags, mode);
    fd = sim_openat_path(dirfd, path, flags, mode);
    return fd != -2 ? fd : CALL_REAL(-1, openat, dirfd, path, flags, mode);
}

PRELOAD_API int openat64(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    int fd;

    OPEN_MODE(flags, mode);
    fd = sim_openat_path(dirfd, path, flags, mode);
    return fd != -2 ? fd : CALL_REAL(-1, openat64, dirfd, path, flags, mode);
}

/*
 * The _FORTIFY_SOURCE forms take no mode; libc's own reports a call that
 * needs one, so such calls go there unchanged.
 */
PRELOAD_API int __open_2(const char *path, int flags)
{
    int fd = OPEN_NEEDS_MODE(flags) ? -2 : sim_open_path(path, flags, 0);

    return fd != -2 ? fd : CALL_REAL(-1, __open_2, path, flags);
}

PRELOAD_API int __open64_2(const char *path, int flags)
{
    int fd = OPEN_NEEDS_MODE(flags) ? -2 : sim_open_path(path, flags, 0);

    return fd != -2 ? fd : CALL_REAL(-1, __open64_2, path, flags);
}

PRELOAD_API int __openat_2(int dirfd, const char *path, int flags)
{
    int fd = OPEN_NEEDS_MODE(flags) ? -2
                                    : sim_openat_path(dirfd, path, flags, 0);

    return fd != -2 ? fd : CALL_REAL(-1, __openat_2, dirfd, path, flags);
}

PRELOAD_API int __openat64_2(int dirfd, const char *path, int flags)
{
    int fd = OPEN_NEEDS_MODE(flags) ? -2
                                    : sim_openat_path(dirfd, path, flags, 0);

    return fd != -2 ? fd : CALL_REAL(-1, __openat64_2, dirfd, path, flags);
}

PRELOAD_API int creat(const char *path, mode_t mode)
{
    int fd = sim_open_path(path, O_CREAT | O_WRONLY | O_TRUNC, mode);

    return fd != -2 ? fd : CALL_REAL(-1, creat, path, mode);
}

PRELOAD_API int creat64(const char *path, mode_t mode)
{
    int fd = sim_open_path(path, O_CREAT | O_WRONLY | O_TRUNC, mode);

    return fd != -2 ? fd : CALL_REAL(-1, creat64, path, mode);
}

/*
 * fopen: libc opens through its internal open, which is not interposed,
 * so a claimed path is opened here and wrapped with fdopen.
 */
static FILE *sim_fopen(const char *path, const char *mode, bool *claimed)
{
    int flags, fd;
    const char *base;
    FILE *fp;

    *claimed = false;
    if (!path || !mode) {
        return NULL;
    }
    switch (mode[0]) {
    case 'r':
        flags = 0;
        break;
    case 'w':
        flags = O_CREAT | O_TRUNC;
        break;
    case 'a':
        flags = O_CREAT | O_APPEND;
        break;
    default:
        return NULL;        /* libc reports EINVAL */
    }
    if (strchr(mode, '+')) {
        flags |= O_RDWR;
        base = mode[0] == 'r' ? "r+" : mode[0] == 'w' ? "w+" : "a+";
    } else {
        flags |= mode[0] == 'r' ? O_RDONLY : O_WRONLY;
        base = mode[0] == 'r' ? "r" : mode[0] == 'w' ? "w" : "a";
    }
    flags |= strchr(mode, 'e') ? O_CLOEXEC : 0;
    flags |= strchr(mode, 'x') ? O_EXCL : 0;
    fd = sim_open_path(path, flags, 0666);
    if (fd == -2) {
        return NULL;
    }
    *claimed = true;
    if (fd < 0) {
        return NULL;
    }
    fp = fdopen(fd, base);
    if (!fp) {
        int err = errno;

        close(fd);
        errno = err;
    }
    return fp;
}

PRELOAD_API FILE *fopen(const char *path, const char *mode)
{
    bool claimed;
    FILE *fp = sim_fopen(path, mode, &claimed);

    return claimed ? fp : CALL_REAL(NULL, fopen, path, mode);
}

PRELOAD_API FILE *fopen64(const char *path, const char *mode)
{
    bool claimed;
    FILE *fp = sim_fopen(path, mode, &claimed);

    return claimed ? fp : CALL_REAL(NULL, fopen64, path, mode);
}

PRELOAD_API int close(int fd)
{
    SimHost *host = preload_for_fd(fd);

    if (!host) {
        return CALL_REAL(-1, close, fd);
    }
    return (int)preload_done(sim_close(host, fd));
}

/*
 * dup, fcntl(F_DUPFD*): nothing to do, the library knows a copy by its
 * inode.  dup2/dup3 onto a simulated fd close it inside the kernel: the
 * state it leaves without fds is released afterwards, as close would.
 */
static void release_replaced(bool replaced)
{
    SimHost *host = replaced ? preload_enter() : NULL;

    if (host) {
        int saved = errno;

        sim_release_orphans(host);
        preload_leave();
        errno = saved;
    }
}

PRELOAD_API int dup2(int oldfd, int newfd)
{
    SimHost *host = oldfd != newfd ? preload_for_fd(newfd) : NULL;
    int r;

    if (host) {
        preload_leave();
    }
    r = CALL_REAL(-1, dup2, oldfd, newfd);
    release_replaced(host && r >= 0);
    return r;
}

PRELOAD_API int dup3(int oldfd, int newfd, int flags)
{
    SimHost *host = oldfd != newfd ? preload_for_fd(newfd) : NULL;
    int r;

    if (host) {
        preload_leave();
    }
    r = CALL_REAL(-1, dup3, oldfd, newfd, flags);
    release_replaced(host && r >= 0);
    return r;
}

PRELOAD_API int close_range(unsigned first, unsigned last, int flags)
{
    int r = CALL_REAL(-1, close_range, first, last, flags);

    release_replaced(r == 0 && !(flags & CLOSE_RANGE_CLOEXEC));
    return r;
}

PRELOAD_API void closefrom(int lowfd)
{
    if (real_closefrom()) {
        real_closefrom()(lowfd);
    }
    release_replaced(true);
}

/* ---- ioctl, read, write ------------------------------------------------- */

PRELOAD_API int ioctl(int fd, unsigned long request, ...)
{
    SimHost *host;
    va_list ap;
    void *arg;

    va_start(ap, request);
    arg = va_arg(ap, void *);
    va_end(ap);
    host = preload_for_fd(fd);
    if (!host) {
        return CALL_REAL(-1, ioctl, fd, request, arg);
    }
    return (int)preload_done(sim_ioctl(host, fd, request, arg));
}

/*
 * read/write on a simulated fd: as the kernel's vfio-pci, a region access
 * at the file position, which advances by the bytes moved (the position
 * lives in the fd's own open file).  Other simulated files have no
 * read/write (EINVAL, from the library).
 */
static ssize_t sim_rw_at_pos(SimHost *host, int fd, void *buf, size_t count,
                             bool write)
{
    off_t pos = lseek(fd, 0, SEEK_CUR);
    ssize_t r;

    if (pos < 0) {
        return preload_done(-errno);
    }
    r = write ? sim_pwrite(host, fd, buf, count, pos)
              : sim_pread(host, fd, buf, count, pos);
    if (r > 0) {
        lseek(fd, pos + r, SEEK_SET);
    }
    return preload_done(r);
}

PRELOAD_API ssize_t read(int fd, void *buf, size_t count)
{
    SimHost *host = preload_for_fd(fd);

    if (!host) {
        return CALL_REAL(-1, read, fd, buf, count);
    }
    return sim_rw_at_pos(host, fd, buf, count, false);
}

PRELOAD_API ssize_t write(int fd, const void *buf, size_t count)
{
    SimHost *host = preload_for_fd(fd);

    if (!host) {
        return CALL_REAL(-1, write, fd, buf, count);
    }
    return sim_rw_at_pos(host, fd, (void *)buf, count, true);
}

PRELOAD_API ssize_t pread(int fd, void *buf, size_t count, off_t offset)
{
    SimHost *host = preload_for_fd(fd);

    if (!host) {
        return CALL_REAL(-1, pread, fd, buf, count, offset);
    }
    return preload_done(sim_pread(host, fd, buf, count, offset));
}

PRELOAD_API ssize_t pread64(int fd, void *buf, size_t count, off64_t offset)
{
    SimHost *host = preload_for_fd(fd);

    if (!host) {
        return CALL_REAL(-1, pread64, fd, buf, count, offset);
    }
    return preload_done(sim_pread(host, fd, buf, count, offset));
}

PRELOAD_API ssize_t pwrite(int fd, const void *buf, size_t count,
                           off_t offset)
{
    SimHost *host = preload_for_fd(fd);

    if (!host) {
        return CALL_REAL(-1, pwrite, fd, buf, count, offset);
    }
    return preload_done(sim_pwrite(host, fd, buf, count, offset));
}

PRELOAD_API ssize_t pwrite64(int fd, const void *buf, size_t count,
                             off64_t offset)
{
    SimHost *host = preload_for_fd(fd);

    if (!host) {
        return CALL_REAL(-1, pwrite64, fd, buf, count, offset);
    }
    return preload_done(sim_pwrite(host, fd, buf, count, offset));
}

PRELOAD_API ssize_t __read_chk(int fd, void *buf, size_t count,
                               size_t buflen)
{
    if (count > buflen) {
        __chk_fail();
    }
    return read(fd, buf, count);
}

PRELOAD_API ssize_t __pread_chk(int fd, void *buf, size_t count,
                                off_t offset, size_t buflen)
{
    if (count > buflen) {
        __chk_fail();
    }
    return pread(fd, buf, count, offset);
}

PRELOAD_API ssize_t __pread64_chk(int fd, void *buf, size_t count,
                                  off64_t offset, size_t buflen)
{
    if (count > buflen) {
        __chk_fail();
    }
    return pread64(fd, buf, count, offset);
}

/* ---- mmap and munmap ---------------------------------------------------- */

/*
 * Mappings made by sim_mmap (address → length): munmap of one goes to
 * sim_munmap, which alone may unmap it.  map_lock.
 */
static GMutex map_lock;
static GHashTable *sim_maps;

static void maps_clear(void)
{
    g_mutex_lock(&map_lock);
    g_clear_pointer(&sim_maps, g_hash_table_destroy);
    g_mutex_unlock(&map_lock);
}

static void *sim_mmap_fd(void *addr, size_t length, int prot, int flags,
                         int fd, off_t offset, bool *claimed)
{
    SimHost *host = (flags & MAP_ANONYMOUS) ? NULL : preload_for_fd(fd);
    void *out = NULL;
    int r;

    *claimed = host != NULL;
    if (!host) {
        return NULL;
    }
    r = sim_mmap(host, addr, length, prot, flags, fd, offset, &out);
    if (r == 0) {
        g_mutex_lock(&map_lock);
        if (!sim_maps) {
            sim_maps = g_hash_table_new(g_direct_hash, g_direct_equal);
        }
        g_hash_table_insert(sim_maps, out, GSIZE_TO_POINTER(length));
        g_mutex_unlock(&map_lock);
    }
    preload_leave();
    if (r < 0) {
        errno = -r;
        return MAP_FAILED;
    }
    return out;
}

PRELOAD_API void *mmap(void *addr, size_t length, int prot, int flags,
                       int fd, off_t offset)
{
    bool claimed;
    void *p = sim_mmap_fd(addr, length, prot, flags, fd, offset, &claimed);

    return claimed ? p : CALL_REAL(MAP_FAILED, mmap, addr, length, prot,
                                   flags, fd, offset);
}

PRELOAD_API void *mmap64(void *addr, size_t length, int prot, int flags,
                         int fd, off64_t offset)
{
    bool claimed;
    void *p = sim_mmap_fd(addr, length, prot, flags, fd, offset, &claimed);

    return claimed ? p : CALL_REAL(MAP_FAILED, mmap64, addr, length, prot,
                                   flags, fd, offset);
}

/*
 * The simulated mapping intersecting [addr, addr+length): true with its
 * start and length.  map_lock held.
 */
static bool sim_map_overlap(uintptr_t addr, size_t length, uintptr_t *start,
                            size_t *len)
{
    GHashTableIter it;
    gpointer k, v;

    if (!sim_maps) {
        return false;
    }
    g_hash_table_iter_init(&it, sim_maps);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        uintptr_t s = (uintptr_t)k;
        size_t l = GPOINTER_TO_SIZE(v);

        if (addr < s + l && s < addr + length) {
            *start = s;
            *len = l;
            return true;
        }
    }
    return false;
}

static size_t page_round(size_t len)
{
    size_t page = sysconf(_SC_PAGESIZE);

    return (len + page - 1) & ~(page - 1);
}

PRELOAD_API int munmap(void *addr, size_t length)
{
    SimHost *host = preload_enter();
    uintptr_t start;
    size_t len;
    bool found;
    int r;

    if (!host) {
        return CALL_REAL(-1, munmap, addr, length);
    }
    g_mutex_lock(&map_lock);
    found = sim_map_overlap((uintptr_t)addr, length, &start, &len);
    g_mutex_unlock(&map_lock);
    if (!found) {
        preload_leave();
        return CALL_REAL(-1, munmap, addr, length);
    }
    /* the library owns the pages: no partial unmap behind its back */
    if (start != (uintptr_t)addr || page_round(len) != page_round(length)) {
        return (int)preload_done(-EINVAL);
    }
    r = sim_munmap(host, addr, length);
    if (r == 0) {
        g_mutex_lock(&map_lock);
        g_hash_table_remove(sim_maps, addr);
        g_mutex_unlock(&map_lock);
    }
    return (int)preload_done(r);
}
