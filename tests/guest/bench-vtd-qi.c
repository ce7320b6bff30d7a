/*
 * bench-vtd-qi: guest-side VT-d map + invalidate rate, for
 * tests/bench/guest-boot.  Needs `-device intel-iommu -device edu`.
 *
 * edu is attached (legacy mode, domain 1) to a second-level table and
 * translation is on.  Each operation is what a guest IOMMU driver does per
 * page: a leaf PTE update (map, then unmap of the same page on the next
 * operation) followed by a page-selective IOTLB invalidation and a wait
 * descriptor whose status write it polls.  `-append n=N` sets the count
 * (default 20000).
 *
 * Output, one line each (the host timestamps them as they arrive):
 *   BENCH-START n=N
 *   BENCH-END n=N tsc=DELTA tsc_khz=K ops_per_s=R
 */
#include "guest.h"
#include "edu.h"
#include "vtd.h"

#define DID 1
#define IOVA_BASE 0x10000000ULL
#define WINDOW_PAGES 256
#define DEFAULT_OPS 20000

static unsigned long op_count(void)
{
    /* The command line is "<kernel path> <-append text>". */
    const char *p = strstr(guest_cmdline(), " n=");
    unsigned long n = 0;

    if (!p) {
        return DEFAULT_OPS;
    }
    for (p += 3; *p >= '0' && *p <= '9'; p++) {
        n = n * 10 + (*p - '0');
    }
    return n ? n : DEFAULT_OPS;
}

int main(void)
{
    struct vtd v;
    struct vtd_pgtable pt;
    struct edu edu;
    unsigned long n = op_count();
    uint8_t *target;
    uint64_t t0, dt, khz;

    edu_init(&edu);
    target = pages_alloc(WINDOW_PAGES);
    vtd_init(&v);
    vtd_set_root_table(&v, false);
    vtd_pgtable_init(&pt, VTD_CAP_SAGAW(v.cap) & BIT(2) ? 4 : 3, false);
    vtd_legacy_attach(&v, edu.bdf, &pt, DID);
    vtd_qi_enable(&v);
    vtd_inv_context_global(&v);
    vtd_inv_iotlb_global(&v);
    vtd_enable_translation(&v);
    khz = tsc_khz();

    printf("BENCH-START n=%lu\n", n);
    t0 = rdtsc();
    for (unsigned long i = 0; i < n; i++) {
        unsigned long page = (i / 2) % WINDOW_PAGES;
        uint64_t iova = IOVA_BASE + page * PAGE_SIZE;

        if (i % 2 == 0) {
            vtd_map(&pt, iova, virt_to_phys(target) + page * PAGE_SIZE,
                    PAGE_SIZE, true);
        } else {
            vtd_unmap(&pt, iova, PAGE_SIZE);
        }
        vtd_inv_iotlb_page(&v, DID, iova, 0);
    }
    dt = rdtsc() - t0;
    printf("BENCH-END n=%lu tsc=%llu tsc_khz=%llu ops_per_s=%llu\n", n,
           (unsigned long long)dt, (unsigned long long)khz,
           (unsigned long long)(dt ? n * khz * 1000 / dt : 0));
    GUEST_ASSERT(!(vtd_fsts(&v) & (VTD_FSTS_PPF | VTD_FSTS_IQE)));
    guest_pass();
}
