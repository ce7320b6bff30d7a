/*
 * The sim conformance tests as plain system calls (build with
 * -DSIM_TEST_VIA_LIBC, run under libviommu-sim-preload.so; suite
 * `preload`, tests/preload/meson.build).
 *
 * Included after sim-internal.h.  The file calls of the library API become
 * the libc calls a program makes on the same paths and fds (open, ioctl,
 * pread, stat, opendir, ...), with the library's return convention
 * (-errno), so the test bodies read the same in both builds.  The SimHost
 * the tests create is only a shadow of the preload's host, made from the
 * same description (the test's text must equal $VIOMMU_SIM): it supplies
 * SimDevice handles, BDFs and values derived from the description alone
 * (sim_host_vtd_regs); no file or ioctl reaches it.  Tests that
 * reach the device or the IOMMU behind the uAPI (sim_device_*, the fault
 * log, internals) stay library-only.
 */
#ifndef SIM_TEST_LIBC_H
#define SIM_TEST_LIBC_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "viommu-sim.h"

/* Hosts made so far: a run that made none tested nothing (see the .c). */
extern int sim_test_libc_hosts;

static inline int libc_ret(long r)
{
    return r < 0 ? -errno : (int)r;
}

/* The shadow host; the description must be the preload's. */
static inline int libc_host_new(const char *text, SimHost **out)
{
    const char *env = getenv("VIOMMU_SIM");

    if (!env || strcmp(env, text)) {
        g_error("SIM_TEST_VIA_LIBC: the test wants host \"%s\" but "
                "VIOMMU_SIM is \"%s\" (tests/preload/meson.build)", text,
                env ? env : "(unset)");
    }
    sim_test_libc_hosts++;
    return sim_host_new_from_string(text, out);
}

static inline int libc_ioctl(int fd, unsigned long req, void *arg)
{
    return libc_ret(ioctl(fd, req, arg));
}

/*
 * No system call tells a simulated fd from a real one (that is the point
 * of the preload): here it only says whether @fd is open.
 */
static inline int libc_fd_lookup(int fd)
{
    return fcntl(fd, F_GETFD) < 0 ? -errno : 1;
}

/* Out of line: tests pass NULL buffers on purpose (EFAULT). */
static __attribute__((noinline, unused)) ssize_t
libc_pread(int fd, void *buf, size_t n, off_t off)
{
    return libc_ret(pread(fd, buf, n, off));
}

static __attribute__((noinline, unused)) ssize_t
libc_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    return libc_ret(pwrite(fd, buf, n, off));
}

static inline int libc_mmap(void *addr, size_t len, int prot, int flags,
                            int fd, off_t off, void **out)
{
    void *p = mmap(addr, len, prot, flags, fd, off);

    if (p == MAP_FAILED) {
        return -errno;
    }
    *out = p;
    return 0;
}

static inline int libc_translate_path(const char *path, char *buf,
                                      size_t size)
{
    return g_strlcpy(buf, path, size) < size ? 0 : -ENAMETOOLONG;
}

static inline int libc_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* opendir/readdir, sorted, without "." and ".." (sim_listdir's contract). */
static inline int libc_listdir(const char *path, char ***names)
{
    GPtrArray *list = g_ptr_array_new();
    struct dirent *de;
    DIR *d = opendir(path);
    int n;

    *names = NULL;
    if (!d) {
        g_ptr_array_free(list, true);
        return -errno;
    }
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            g_ptr_array_add(list, g_strdup(de->d_name));
        }
    }
    closedir(d);
    g_ptr_array_sort(list, libc_cmp_names);
    n = list->len;
    g_ptr_array_add(list, NULL);
    *names = (char **)g_ptr_array_free(list, false);
    return n;
}

#define sim_host_new_from_string(text, out) libc_host_new((text), (out))
#define sim_open(h, path, flags, mode) \
    libc_ret(open((path), (flags), (mode)))
#define sim_close(h, fd)            libc_ret(close(fd))
#define sim_fd_lookup(h, fd)        libc_fd_lookup(fd)
#define sim_ioctl(h, fd, req, arg)  libc_ioctl((fd), (req), (arg))
#define sim_pread(h, fd, buf, n, off) libc_pread((fd), (buf), (n), (off))
#define sim_pwrite(h, fd, buf, n, off) libc_pwrite((fd), (buf), (n), (off))
#define sim_mmap(h, addr, len, prot, flags, fd, off, out) \
    libc_mmap((addr), (len), (prot), (flags), (fd), (off), (out))
#define sim_munmap(h, addr, len)    libc_ret(munmap((addr), (len)))
#define sim_readlink(h, path, buf, size) \
    ((ssize_t)libc_ret(readlink((path), (buf), (size))))
#define sim_stat(h, path, st)       libc_ret(stat((path), (st)))
#define sim_lstat(h, path, st)      libc_ret(lstat((path), (st)))
#define sim_fstat(h, fd, st)        libc_ret(fstat((fd), (st)))
#define sim_access(h, path, mode)   libc_ret(access((path), (mode)))
#define sim_listdir(h, path, names) libc_listdir((path), (names))
#define sim_translate_path(h, path, buf, size) \
    libc_translate_path((path), (buf), (size))

#endif /* SIM_TEST_LIBC_H */
