/*
 * libviommu-sim-preload.so, shared by preload.c (the host, open/close,
 * ioctl, read/write, mmap) and preload-dir.c (paths, stat, directories).
 * See preload.c for the dispatch rule, the reentrancy guard and locking.
 */
#ifndef VIOMMU_SIM_PRELOAD_H
#define VIOMMU_SIM_PRELOAD_H

#undef _FILE_OFFSET_BITS        /* open and open64 are distinct symbols here */
#undef _FORTIFY_SOURCE          /* so are read and __read_chk */

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "viommu-sim.h"

#define PRELOAD_API __attribute__((visibility("default")))

/*
 * real_NAME(): the next definition of NAME, looked up on first use (the
 * shim may be called before its constructor ran).  NULL only if libc lacks
 * it; callers then fail with ENOSYS.
 */
#define DEFINE_REAL(name)                                                   \
    static __typeof__(name) *real_##name(void)                              \
    {                                                                       \
        static __typeof__(name) *fn;                                        \
        __typeof__(name) *f = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);       \
                                                                            \
        if (!f) {                                                           \
            f = (__typeof__(name) *)dlsym(RTLD_NEXT, #name);                \
            __atomic_store_n(&fn, f, __ATOMIC_RELEASE);                     \
        }                                                                   \
        return f;                                                           \
    }

/* Call the real @name, or fail with ENOSYS (and @fail) if there is none. */
#define CALL_REAL(fail, name, ...)                                          \
    (real_##name() ? real_##name()(__VA_ARGS__)                             \
                   : (errno = ENOSYS, (fail)))

/*
 * The host, with the host lock held as reader and the reentrancy guard
 * raised, or NULL (no host, or a call from inside the library); errno is
 * kept.  preload_leave() ends it.
 */
SimHost *preload_enter(void);
void preload_leave(void);
/* preload_enter() if the host claims @path / @fd is simulated, else NULL. */
SimHost *preload_for_path(const char *path);
SimHost *preload_for_fd(int fd);
/* A library result (>= 0 or -errno) in libc form, after preload_leave(). */
long preload_done(long r);
/*
 * The absolute path @path names relative to @dirfd, for the claim test
 * (NULL: not one the simulation can claim).  @buf: PATH_MAX bytes.
 */
const char *preload_path_at(int dirfd, const char *path, char *buf,
                            size_t size);

/* preload-dir.c: at exit, drop the set of streams if none is open. */
void preload_dirs_clear(void);

#endif /* VIOMMU_SIM_PRELOAD_H */
