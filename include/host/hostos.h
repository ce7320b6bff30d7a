/*
 * The host-OS layer: every file operation viommu makes on host VFIO,
 * iommufd and sysfs paths goes through these functions.
 *
 * With no simulated host installed they are the plain system calls, so
 * viommu drives a real kernel's VFIO devices.  With one installed (the
 * `sim-host` object, or hostos_set_sim() in a test), paths the simulated
 * host claims (/dev/iommu, /dev/vfio/..., its /sys/bus/pci/devices/...,
 * anything under its private root) and fds it recognises (including dup()s
 * and fds received over SCM_RIGHTS) are served by libviommu-sim; every
 * other path and fd still reaches the real kernel.
 *
 * Convention: libc's.  A failing call returns -1 (MAP_FAILED for
 * hostos_mmap) and sets errno, exactly as the real call would, so VFIO code
 * written against ioctl(2) semantics reads the same on both sides.  errno
 * is left untouched on success.
 *
 * Threads: every function may be called from any thread (KVM vCPU threads
 * included).  A reader lock keeps the installed host alive for the length
 * of a call; installing or removing the host waits for calls in flight.
 * Calls that reach the real kernel do not hold it while they block.
 */
#ifndef HOST_HOSTOS_H
#define HOST_HOSTOS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

typedef struct SimHost SimHost;

/* open(2); a mode_t follows @flags when they hold O_CREAT or O_TMPFILE. */
int hostos_open(const char *path, int flags, ...);
int hostos_close(int fd);
/* dup(2), but the copy is close-on-exec; it is served as @fd is. */
int hostos_dup(int fd);

/*
 * ioctl(2) with one argument.  Integer arguments passed by value
 * (VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU) are given as
 * (void *)(uintptr_t)value.  Returns the ioctl's non-negative result.
 */
int hostos_ioctl(int fd, unsigned long request, void *arg);

ssize_t hostos_pread(int fd, void *buf, size_t count, off_t offset);
ssize_t hostos_pwrite(int fd, const void *buf, size_t count, off_t offset);

/* mmap(2) / munmap(2); a simulated mapping is unmapped whole or not at all. */
void *hostos_mmap(void *addr, size_t length, int prot, int flags, int fd,
                  off_t offset);
int hostos_munmap(void *addr, size_t length);

ssize_t hostos_readlink(const char *path, char *buf, size_t bufsiz);
int hostos_stat(const char *path, struct stat *st);
int hostos_lstat(const char *path, struct stat *st);
int hostos_fstat(int fd, struct stat *st);
int hostos_access(const char *path, int mode);

/*
 * The entry names of directory @path, without "." and "..", sorted, as a
 * NULL-terminated array (free with g_strfreev()).  Returns the count.
 */
int hostos_listdir(const char *path, char ***names);

/* Is a simulated host installed? */
bool hostos_is_simulated(void);

/*
 * The directory that plays "/" for host paths: the simulated host's private
 * root (valid while it is installed), "/" otherwise.  Opening
 * hostos_root() + "/dev/iommu" with the real open(2) gives an fd the
 * simulated host serves, as a management tool passing fds would.
 */
const char *hostos_root(void);

/*
 * Installing the simulated host (the sim-host object does this).
 * hostos_set_sim: 0, -EBUSY if a host is already installed (one per
 * process), -EINVAL for NULL.  hostos_clear_sim: uninstalls @host if it is
 * the one installed; fds still open stay open but are no longer served.
 * hostos_get_sim: the installed host or NULL, for the owner of the host
 * (tests drive its devices); not for the VFIO code.
 */
int hostos_set_sim(SimHost *host);
void hostos_clear_sim(SimHost *host);
SimHost *hostos_get_sim(void);

/*
 * fds (hostos_open, VFIO_GROUP_GET_DEVICE_FD, hostos_dup of those) and
 * mappings handed out by this layer for the simulated host and not closed
 * or unmapped through it yet; the sim-host object refuses deletion while
 * this is non-zero.  fds received from elsewhere are not counted.
 */
unsigned hostos_sim_users(void);

#endif
