/*
 * The host-OS layer: real system calls, or the simulated Linux host.
 *
 * Dispatch rule: a call goes to libviommu-sim when a host is installed and
 * the host claims the path (sim_claims_path) or recognises the fd
 * (sim_fd_lookup, which knows dup()s and fds received over SCM_RIGHTS by
 * the inode they refer to).  Everything else is the real call, so a
 * simulated machine can still open its disk images and sockets.
 *
 * Locking: hostos_lock (a reader/writer lock) protects hostos_sim.  Calls
 * served by the simulation hold it as readers for their whole length, so
 * hostos_clear_sim() (a writer) cannot free the host under them; the
 * library serialises the calls themselves with its own per-host mutex.
 * Real calls drop it before the system call.  track_lock protects the two
 * usage tables below; it is taken inside hostos_lock, never the reverse.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>

#include "host/hostos.h"
#include "viommu-sim.h"
#include "linux-vfio.h"

static GRWLock hostos_lock;
static SimHost *hostos_sim;

/*
 * What this layer handed out for the installed host: fds from sim_open,
 * VFIO_GROUP_GET_DEVICE_FD and hostos_dup copies of those, not closed
 * through hostos_close yet, and mappings from sim_mmap (address → length)
 * not unmapped yet.  Only counted (hostos_sim_users) and used to route
 * munmap.  An fd leaves the table before it is closed, so that another
 * thread reusing the number cannot lose its entry.
 */
static GMutex track_lock;
static GHashTable *sim_fds;     /* GINT_TO_POINTER(fd) set */
static GHashTable *sim_maps;    /* address → GSIZE_TO_POINTER(length) */

/* A library result (>= 0 or -errno) in libc form. */
static int sim_ret(int r)
{
    if (r < 0) {
        errno = -r;
        return -1;
    }
    return r;
}

static ssize_t sim_ret_ssize(ssize_t r)
{
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

/*
 * The installed host with the reader lock held if @fd belongs to it;
 * otherwise NULL and no lock held.  Release with sim_put().
 */
static SimHost *sim_for_fd(int fd)
{
    g_rw_lock_reader_lock(&hostos_lock);
    if (hostos_sim && fd >= 0 && sim_fd_lookup(hostos_sim, fd) == 1) {
        return hostos_sim;
    }
    g_rw_lock_reader_unlock(&hostos_lock);
    return NULL;
}

/* The same for a path the installed host claims. */
static SimHost *sim_for_path(const char *path)
{
    g_rw_lock_reader_lock(&hostos_lock);
    if (hostos_sim && path && sim_claims_path(hostos_sim, path) == 1) {
        return hostos_sim;
    }
    g_rw_lock_reader_unlock(&hostos_lock);
    return NULL;
}

static void sim_put(void)
{
    g_rw_lock_reader_unlock(&hostos_lock);
}

static void track_fd(int fd, bool add)
{
    g_mutex_lock(&track_lock);
    if (add) {
        g_hash_table_add(sim_fds, GINT_TO_POINTER(fd));
    } else if (sim_fds) {
        g_hash_table_remove(sim_fds, GINT_TO_POINTER(fd));
    }
    g_mutex_unlock(&track_lock);
}

int hostos_open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    SimHost *host;
    int fd;

    /* O_TMPFILE includes O_DIRECTORY: test all of its bits */
    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
        va_list ap;

        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    host = sim_for_path(path);
    if (!host) {
        return open(path, flags, mode);
    }
    fd = sim_open(host, path, flags, mode);
    if (fd >= 0) {
        track_fd(fd, true);
    }
    sim_put();
    return sim_ret(fd);
}

int hostos_close(int fd)
{
    SimHost *host = sim_for_fd(fd);
    int r;

    /* fds of plain files of the tree are tracked too */
    track_fd(fd, false);
    if (!host) {
        return close(fd);
    }
    r = sim_close(host, fd);
    sim_put();
    return sim_ret(r);
}

int hostos_dup(int fd)
{
    bool tracked = false;
    int copy;

    g_rw_lock_reader_lock(&hostos_lock);
    g_mutex_lock(&track_lock);
    if (sim_fds) {
        tracked = g_hash_table_contains(sim_fds, GINT_TO_POINTER(fd));
    }
    g_mutex_unlock(&track_lock);
    /* the library recognises the copy by its inode: nothing else to do */
    copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy >= 0 && tracked) {
        track_fd(copy, true);
    }
    g_rw_lock_reader_unlock(&hostos_lock);
    return copy;
}

int hostos_ioctl(int fd, unsigned long request, void *arg)
{
    SimHost *host = sim_for_fd(fd);
    int r;

    if (!host) {
        return ioctl(fd, request, arg);
    }
    r = sim_ioctl(host, fd, request, arg);
    /* the one simulated ioctl that returns a new fd */
    if (request == VFIO_GROUP_GET_DEVICE_FD && r >= 0) {
        track_fd(r, true);
    }
    sim_put();
    return sim_ret(r);
}

ssize_t hostos_pread(int fd, void *buf, size_t count, off_t offset)
{
    SimHost *host = sim_for_fd(fd);
    ssize_t r;

    if (!host) {
        return pread(fd, buf, count, offset);
    }
    r = sim_pread(host, fd, buf, count, offset);
    sim_put();
    return sim_ret_ssize(r);
}

ssize_t hostos_pwrite(int fd, const void *buf, size_t count, off_t offset)
{
    SimHost *host = sim_for_fd(fd);
    ssize_t r;

    if (!host) {
        return pwrite(fd, buf, count, offset);
    }
    r = sim_pwrite(host, fd, buf, count, offset);
    sim_put();
    return sim_ret_ssize(r);
}

void *hostos_mmap(void *addr, size_t length, int prot, int flags, int fd,
                  off_t offset)
{
    SimHost *host = (flags & MAP_ANONYMOUS) ? NULL : sim_for_fd(fd);
    void *out = NULL;
    int r;

    if (!host) {
        return mmap(addr, length, prot, flags, fd, offset);
    }
    r = sim_mmap(host, addr, length, prot, flags, fd, offset, &out);
    if (r == 0) {
        g_mutex_lock(&track_lock);
        g_hash_table_insert(sim_maps, out, GSIZE_TO_POINTER(length));
        g_mutex_unlock(&track_lock);
    }
    sim_put();
    if (r < 0) {
        errno = -r;
        return MAP_FAILED;
    }
    return out;
}

static size_t page_round(size_t len)
{
    size_t page = sysconf(_SC_PAGESIZE);

    return (len + page - 1) & ~(page - 1);
}

/*
 * The simulated mapping intersecting [addr, addr+length): 1 and its start
 * and length, or 0.  track_lock held.
 */
static int sim_map_overlap(uintptr_t addr, size_t length, uintptr_t *start,
                           size_t *len)
{
    GHashTableIter it;
    gpointer k, v;

    if (!sim_maps) {
        return 0;
    }
    g_hash_table_iter_init(&it, sim_maps);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        uintptr_t s = (uintptr_t)k;
        size_t l = GPOINTER_TO_SIZE(v);

        if (addr < s + l && s < addr + length) {
            *start = s;
            *len = l;
            return 1;
        }
    }
    return 0;
}

int hostos_munmap(void *addr, size_t length)
{
    uintptr_t start;
    size_t len;
    int found, r;

    g_rw_lock_reader_lock(&hostos_lock);
    g_mutex_lock(&track_lock);
    found = sim_map_overlap((uintptr_t)addr, length, &start, &len);
    g_mutex_unlock(&track_lock);
    if (!found) {
        g_rw_lock_reader_unlock(&hostos_lock);
        return munmap(addr, length);
    }
    /* the library owns the pages: no partial unmap behind its back */
    if (start != (uintptr_t)addr || page_round(len) != page_round(length)) {
        g_rw_lock_reader_unlock(&hostos_lock);
        errno = EINVAL;
        return -1;
    }
    r = sim_munmap(hostos_sim, addr, length);
    if (r == 0) {
        g_mutex_lock(&track_lock);
        g_hash_table_remove(sim_maps, addr);
        g_mutex_unlock(&track_lock);
    }
    g_rw_lock_reader_unlock(&hostos_lock);
    return sim_ret(r);
}

ssize_t hostos_readlink(const char *path, char *buf, size_t bufsiz)
{
    SimHost *host = sim_for_path(path);
    ssize_t r;

    if (!host) {
        return readlink(path, buf, bufsiz);
    }
    r = sim_readlink(host, path, buf, bufsiz);
    sim_put();
    return sim_ret_ssize(r);
}

int hostos_stat(const char *path, struct stat *st)
{
    SimHost *host = sim_for_path(path);
    int r;

    if (!host) {
        return stat(path, st);
    }
    r = sim_stat(host, path, st);
    sim_put();
    return sim_ret(r);
}

int hostos_lstat(const char *path, struct stat *st)
{
    SimHost *host = sim_for_path(path);
    int r;

    if (!host) {
        return lstat(path, st);
    }
    r = sim_lstat(host, path, st);
    sim_put();
    return sim_ret(r);
}

int hostos_fstat(int fd, struct stat *st)
{
    SimHost *host = sim_for_fd(fd);
    int r;

    if (!host) {
        return fstat(fd, st);
    }
    r = sim_fstat(host, fd, st);
    sim_put();
    return sim_ret(r);
}

int hostos_access(const char *path, int mode)
{
    SimHost *host = sim_for_path(path);
    int r;

    if (!host) {
        return access(path, mode);
    }
    r = sim_access(host, path, mode);
    sim_put();
    return sim_ret(r);
}

static gint cmp_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int real_listdir(const char *path, char ***names)
{
    GPtrArray *list;
    struct dirent *de;
    DIR *dir = opendir(path);
    int n;

    if (!dir) {
        return -1;
    }
    list = g_ptr_array_new();
    errno = 0;
    while ((de = readdir(dir))) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            g_ptr_array_add(list, g_strdup(de->d_name));
        }
    }
    if (errno) {
        int err = errno;

        closedir(dir);
        g_ptr_array_set_free_func(list, g_free);
        g_ptr_array_free(list, true);
        errno = err;
        return -1;
    }
    closedir(dir);
    g_ptr_array_sort(list, cmp_names);
    n = list->len;
    g_ptr_array_add(list, NULL);
    *names = (char **)g_ptr_array_free(list, false);
    return n;
}

int hostos_listdir(const char *path, char ***names)
{
    SimHost *host = sim_for_path(path);
    char **sim_names = NULL;
    int n;

    if (!host) {
        return real_listdir(path, names);
    }
    n = sim_listdir(host, path, &sim_names);
    sim_put();
    if (n < 0) {
        errno = -n;
        return -1;
    }
    /* the library's array has its own allocator: hand out a GLib one */
    *names = sim_names ? g_strdupv(sim_names) : g_new0(char *, 1);
    sim_strv_free(sim_names);
    return n;
}

bool hostos_is_simulated(void)
{
    bool sim;

    g_rw_lock_reader_lock(&hostos_lock);
    sim = hostos_sim != NULL;
    g_rw_lock_reader_unlock(&hostos_lock);
    return sim;
}

const char *hostos_root(void)
{
    const char *root;

    g_rw_lock_reader_lock(&hostos_lock);
    root = hostos_sim ? sim_host_root(hostos_sim) : "/";
    g_rw_lock_reader_unlock(&hostos_lock);
    return root;
}

int hostos_set_sim(SimHost *host)
{
    int r = 0;

    if (!host) {
        return -EINVAL;
    }
    g_rw_lock_writer_lock(&hostos_lock);
    if (hostos_sim) {
        r = -EBUSY;
    } else {
        hostos_sim = host;
        g_mutex_lock(&track_lock);
        sim_fds = g_hash_table_new(g_direct_hash, g_direct_equal);
        sim_maps = g_hash_table_new(g_direct_hash, g_direct_equal);
        g_mutex_unlock(&track_lock);
    }
    g_rw_lock_writer_unlock(&hostos_lock);
    return r;
}

void hostos_clear_sim(SimHost *host)
{
    g_rw_lock_writer_lock(&hostos_lock);
    if (host && hostos_sim == host) {
        hostos_sim = NULL;
        g_mutex_lock(&track_lock);
        g_clear_pointer(&sim_fds, g_hash_table_unref);
        g_clear_pointer(&sim_maps, g_hash_table_unref);
        g_mutex_unlock(&track_lock);
    }
    g_rw_lock_writer_unlock(&hostos_lock);
}

SimHost *hostos_get_sim(void)
{
    SimHost *host;

    g_rw_lock_reader_lock(&hostos_lock);
    host = hostos_sim;
    g_rw_lock_reader_unlock(&hostos_lock);
    return host;
}

unsigned hostos_sim_users(void)
{
    unsigned n = 0;

    g_mutex_lock(&track_lock);
    if (sim_fds) {
        n = g_hash_table_size(sim_fds) + g_hash_table_size(sim_maps);
    }
    g_mutex_unlock(&track_lock);
    return n;
}
