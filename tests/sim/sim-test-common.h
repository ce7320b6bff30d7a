/*
 * Helpers of the libviommu-sim library tests: a host with one device and
 * an open /dev/iommu, ioctl wrappers returning 0 or the positive errno (so
 * tests read like the kernel selftest), and the iommufd side of the VFIO
 * cdev bind/attach/detach, called directly (sim-internal.h).
 */
#ifndef SIM_TEST_COMMON_H
#define SIM_TEST_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim-internal.h"
#include "../test-fds.h"

#define P SIM_PAGE_SIZE
#define MSI_START 0xfee00000ull
#define MSI_LAST 0xfeefffffull
#define RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define FIXED_RW (IOMMU_IOAS_MAP_FIXED_IOVA | RW)

typedef struct Fx {
    SimHost *h;
    int fd;                 /* /dev/iommu */
    SimDevice *dev;         /* 0000:02:00.0, group 5 */
    uint8_t *buf;           /* BUF_PAGES pages, 2 MiB aligned */
    void *map;
    size_t map_len;
#ifdef SIM_TEST_VIA_LIBC
    struct {
        SimDevice *dev;
        int fd;             /* its cdev, bound to fd */
    } cdev[4];
#endif
} Fx;

#define BUF_PAGES 64

int ioc(Fx *fx, unsigned long req, void *arg);
/* a host from @text, its 0000:02:00.0, /dev/iommu open, a test buffer */
void fx_open(Fx *fx, const char *text);
void fx_setup(Fx *fx);
void fx_close(Fx *fx);
uint32_t ioas_alloc(Fx *fx);
int destroy(Fx *fx, uint32_t id);
int map(Fx *fx, uint32_t ioas, uint32_t flags, uint64_t *iova,
        const void *va, uint64_t len);
int map_fixed(Fx *fx, uint32_t ioas, uint64_t iova, const void *va,
              uint64_t len);
int unmap(Fx *fx, uint32_t ioas, uint64_t iova, uint64_t len, uint64_t *out);
uint32_t bind_dev(Fx *fx, SimDevice *dev);
int attach(Fx *fx, SimDevice *dev, uint32_t pasid, uint32_t *pt_id);
int detach(Fx *fx, SimDevice *dev, uint32_t pasid);
void unbind(Fx *fx, SimDevice *dev);
int hwpt_alloc(Fx *fx, uint32_t flags, uint32_t dev_id, uint32_t pt_id,
               uint32_t data_type, void *data, uint32_t data_len,
               uint32_t *out);
/* pop the fault log, expecting @expect_count records; the last one */
SimFaultRecord last_fault(Fx *fx, int expect_count);

#ifdef SIM_TEST_VIA_LIBC
#include "sim-test-libc.h"
#endif

#endif /* SIM_TEST_COMMON_H */
