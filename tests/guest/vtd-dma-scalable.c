/*
 * vtd-dma-scalable: edu DMA through intel-iommu in scalable mode (facts D):
 * scalable root/context entries, a PASID directory and table, the RID_PASID
 * entry (requests without PASID) pointing first at a second-stage table,
 * then at a first-stage (IA-32e) table.  For each stage it proves that
 *   - the bytes land at the GPA the guest's table translates the IOVA to;
 *   - an unmapped IOVA is refused and recorded with the stage's reason
 *     (second stage 0x85 "no write permission", as docs/intel-iommu.md
 *     says viommu reports scalable-mode faults; first stage 0x71 "not
 *     present"), the edu's SID and the page address;
 *   - a write through a read-only mapping faults with 0x85 in both stages,
 *     and a read of an unmapped second-stage IOVA with 0x86;
 *   - once the PASID entry is cleared and the PASID cache invalidated, DMA
 *     faults with 0x59 (PASID entry not present).
 * Run with: -device intel-iommu,x-scalable-mode=on,x-flts=on -device edu
 */
#include "edu.h"
#include "vtd.h"

#define DID_SS 2
#define DID_FS 3
#define RID_PASID 0
#define IOVA_SRC 0x00800000ULL
#define IOVA_DST 0x00a01000ULL
#define IOVA_UNMAPPED 0x00c00000ULL
#define LEN 512

static void invalidate_pasid(struct vtd *v, uint16_t did)
{
    vtd_inv_pasid_cache(v, did, RID_PASID);
    vtd_inv_piotlb(v, did, RID_PASID);
    vtd_inv_iotlb_domain(v, did);
}

int main(void)
{
    struct vtd v;
    struct vtd_pgtable ss, fs;
    struct edu e;
    uint8_t *src, *dst, *dst2;

    printf("vtd-dma-scalable: edu DMA through scalable-mode tables\n");
    edu_init(&e);
    vtd_init(&v);
    if (!(v.ecap & VTD_ECAP_SMTS) || !(v.ecap & VTD_ECAP_SLTS) ||
        !(v.ecap & VTD_ECAP_FLTS)) {
        guest_fail("ECAP 0x%llx lacks SMTS/SLTS/FLTS: run with "
                   "x-scalable-mode=on,x-flts=on",
                   (unsigned long long)v.ecap);
    }
    src = page_alloc();
    dst = page_alloc();
    dst2 = page_alloc();
    vtd_set_root_table(&v, true);
    vtd_qi_enable(&v);
    vtd_inv_context_global(&v);
    vtd_inv_iotlb_global(&v);

    printf("second stage (PGTT 010), 4 levels, DID %u\n", DID_SS);
    vtd_pgtable_init(&ss, 4, false);
    vtd_map(&ss, IOVA_SRC, virt_to_phys(src), PAGE_SIZE, false);
    vtd_map(&ss, IOVA_DST, virt_to_phys(dst), PAGE_SIZE, true);
    vtd_sm_attach(&v, e.bdf, RID_PASID);
    vtd_sm_set_pasid(&v, e.bdf, RID_PASID, &ss, DID_SS);
    vtd_inv_context_device(&v, 0, e.bdf);
    invalidate_pasid(&v, DID_SS);
    vtd_enable_translation(&v);
    edu_check_copy(&e, IOVA_SRC, src, IOVA_DST, dst, LEN, 3);
    GUEST_ASSERT(!edu_dma(&e, true, IOVA_UNMAPPED, 0, 16));
    vtd_expect_dma_fault(&v, e.bdf, IOVA_UNMAPPED, VTD_FR_SM_WRITE, false);
    GUEST_ASSERT(!edu_dma(&e, false, IOVA_UNMAPPED, 0, 16));
    vtd_expect_dma_fault(&v, e.bdf, IOVA_UNMAPPED, VTD_FR_SM_READ, true);
    memset(src, 0x22, 16);
    GUEST_ASSERT(!edu_dma(&e, true, IOVA_SRC, 0, 16));
    GUEST_ASSERT_EQ(src[0], 0x22);
    vtd_expect_dma_fault(&v, e.bdf, IOVA_SRC, VTD_FR_SM_WRITE, false);

    printf("first stage (PGTT 001), DID %u\n", DID_FS);
    vtd_pgtable_init(&fs, 4, true);
    vtd_map(&fs, IOVA_SRC, virt_to_phys(src), PAGE_SIZE, false);
    /* Another destination page: the bytes show which table was walked. */
    vtd_map(&fs, IOVA_DST, virt_to_phys(dst2), PAGE_SIZE, true);
    vtd_sm_set_pasid(&v, e.bdf, RID_PASID, &fs, DID_FS);
    invalidate_pasid(&v, DID_SS);
    invalidate_pasid(&v, DID_FS);
    edu_check_copy(&e, IOVA_SRC, src, IOVA_DST, dst2, LEN, 4);
    GUEST_ASSERT(!edu_dma(&e, true, IOVA_UNMAPPED, 0, 16));
    vtd_expect_dma_fault(&v, e.bdf, IOVA_UNMAPPED, VTD_FR_FL_NOT_PRESENT,
                         false);
    memset(src, 0x22, 16);
    GUEST_ASSERT(!edu_dma(&e, true, IOVA_SRC, 0, 16));
    GUEST_ASSERT_EQ(src[0], 0x22);
    vtd_expect_dma_fault(&v, e.bdf, IOVA_SRC, VTD_FR_SM_WRITE, false);
    GUEST_ASSERT(!(vtd_fsts(&v) & VTD_FSTS_PPF));

    printf("PASID entry cleared\n");
    vtd_sm_clear_pasid(&v, e.bdf, RID_PASID);
    invalidate_pasid(&v, DID_FS);
    GUEST_ASSERT(!edu_dma(&e, true, IOVA_DST, 0, 16));
    vtd_expect_dma_fault(&v, e.bdf, IOVA_DST, VTD_FR_SM_PASID_NOT_PRESENT,
                         false);

    vtd_disable_translation(&v);
    guest_pass();
}
