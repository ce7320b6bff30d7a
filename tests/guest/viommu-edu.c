/*
 * viommu-edu: edu's DMA translated by virtio-iommu (facts H).
 *
 * Needs `-device virtio-iommu-pci -device edu`.  edu's endpoint ID is its
 * BDF (the VIOT's PCI range node maps BDF n to endpoint n; the program
 * reads it from the VIOT when there is one).
 *
 * 1. PROBE edu: a RESV_MEM MSI region 0xfee00000-0xfeefffff;
 * 2. ATTACH to domain 1, MAP a read-only IOVA page onto a source buffer
 *    and a writable IOVA page onto a destination buffer.  The writable
 *    IOVA is chosen equal to the guest-physical address of a sentinel page,
 *    so a DMA that bypassed the IOMMU would land on the sentinel;
 * 3. edu copies source IOVA -> its buffer -> destination IOVA: the bytes
 *    land in the destination buffer and the sentinel is untouched;
 * 4. a DMA write to the read-only IOVA fails (edu error bit) with a
 *    MAPPING fault event (WRITE | ADDRESS, the endpoint, the address);
 * 5. UNMAP the destination: the same DMA fails, the destination keeps its
 *    bytes, and a MAPPING fault event names the IOVA;
 * 6. DETACH: with config.bypass = 1 (boot-bypass) the endpoint is
 *    identity-mapped again and the DMA lands on the sentinel page; the
 *    emptied domain is gone (UNMAP: NOENT);
 * 7. config.bypass = 0 (BYPASS_CONFIG): the unattached endpoint's DMA
 *    fails with a DOMAIN fault event and the sentinel keeps its bytes.
 */
#include "guest.h"
#include "edu.h"
#include "viommu.h"

/* VIOT (facts I.2) */
#define VIOT_NODE_COUNT 36
#define VIOT_NODE_OFFSET 38
#define VIOT_NODE_PCI_RANGE 1

#define MSI_START 0xfee00000ULL
#define MSI_END 0xfeefffffULL
#define DOMAIN 1
#define SRC_IOVA 0x00200000ULL
#define DMA_LEN 256
#define EDU_DMA_MASK 0x0fffffffULL  /* edu's default dma_mask */
#define SEED 3
#define EVENT_WAIT_MS 1000

static void expect_status(int status, int expected, const char *what)
{
    if (status != expected) {
        guest_fail("%s: status %s, expected %s", what,
                   viommu_status_name(status), viommu_status_name(expected));
    }
}

static void expect_fault(struct viommu *v, uint8_t reason, uint32_t ep,
                         uint64_t addr, const char *step)
{
    struct viommu_fault f;

    if (!viommu_event_wait(v, &f, EVENT_WAIT_MS)) {
        guest_fail("%s: no fault event", step);
    }
    printf("%s: fault reason %u flags 0x%x endpoint 0x%x address 0x%llx\n",
           step, f.reason, f.flags, f.endpoint,
           (unsigned long long)f.address);
    GUEST_ASSERT_EQ(f.reason, reason);
    GUEST_ASSERT_EQ(f.flags, VIRTIO_IOMMU_FAULT_F_WRITE |
                             VIRTIO_IOMMU_FAULT_F_ADDRESS);
    GUEST_ASSERT_EQ(f.endpoint, ep);
    GUEST_ASSERT_EQ(f.address, addr);
}

/* Endpoint ID of @bdf: through the VIOT's PCI range nodes, else the BDF. */
static uint32_t endpoint_of(uint16_t bdf)
{
    const struct acpi_header *viot = acpi_find_table("VIOT");
    const uint8_t *t = (const uint8_t *)viot;
    uint32_t off;
    uint16_t count;

    if (!viot) {
        printf("no VIOT: endpoint ID = BDF\n");
        return bdf;
    }
    count = t[VIOT_NODE_COUNT] | t[VIOT_NODE_COUNT + 1] << 8;
    off = t[VIOT_NODE_OFFSET] | t[VIOT_NODE_OFFSET + 1] << 8;
    for (uint16_t i = 0; i < count && off + 24 <= viot->length; i++) {
        uint16_t len = t[off + 2] | t[off + 3] << 8;

        if (len < 4) {
            guest_fail("VIOT: node at %u has length %u", off, len);
        }
        if (t[off] == VIOT_NODE_PCI_RANGE) {
            uint32_t ep_start;
            uint16_t bdf_start, bdf_end, seg_start;

            memcpy(&ep_start, t + off + 4, 4);
            memcpy(&seg_start, t + off + 8, 2);
            memcpy(&bdf_start, t + off + 12, 2);
            memcpy(&bdf_end, t + off + 14, 2);
            if (seg_start == 0 && bdf >= bdf_start && bdf <= bdf_end) {
                return ep_start + (bdf - bdf_start);
            }
        }
        off += len;
    }
    guest_fail("VIOT: no PCI range node covers %04x", bdf);
}

int main(void)
{
    struct viommu v;
    struct viommu_resv_mem resv[8];
    unsigned int nresv;
    bool msi_seen = false;
    struct edu e;
    uint8_t *src, *dst, *sentinel;
    uint64_t dst_iova;
    uint32_t ep;

    edu_init(&e);
    if (!viommu_init(&v, 0)) {
        guest_fail("no virtio-iommu-pci device");
    }
    ep = endpoint_of(e.bdf);
    printf("virtio-iommu at %02x:%02x.%x: features 0x%llx page_size_mask "
           "0x%llx input [0x%llx, 0x%llx] probe_size %u bypass %u; edu "
           "endpoint 0x%x\n",
           PCI_BUS(v.dev.bdf), PCI_SLOT(v.dev.bdf), PCI_FUNC(v.dev.bdf),
           (unsigned long long)v.dev.features,
           (unsigned long long)v.page_size_mask,
           (unsigned long long)v.input_start,
           (unsigned long long)v.input_end, v.probe_size,
           virtio_cfg_read8(&v.dev, VIRTIO_IOMMU_CFG_BYPASS), ep);
    GUEST_ASSERT(v.page_size_mask & PAGE_SIZE);
    GUEST_ASSERT(!(v.page_size_mask & (PAGE_SIZE - 1)));

    printf("1. PROBE\n");
    expect_status(viommu_probe(&v, ep, resv, ARRAY_SIZE(resv), &nresv),
                  VIRTIO_IOMMU_S_OK, "PROBE");
    for (unsigned int i = 0; i < nresv && i < ARRAY_SIZE(resv); i++) {
        printf("   RESV_MEM subtype %u [0x%llx, 0x%llx]\n", resv[i].subtype,
               (unsigned long long)resv[i].start,
               (unsigned long long)resv[i].end);
        msi_seen |= resv[i].subtype == VIRTIO_IOMMU_RESV_MEM_T_MSI &&
                    resv[i].start == MSI_START && resv[i].end == MSI_END;
    }
    GUEST_ASSERT(msi_seen);
    expect_status(viommu_probe(&v, 0xfffff, resv, ARRAY_SIZE(resv), &nresv),
                  VIRTIO_IOMMU_S_NOENT, "PROBE of an unknown endpoint");

    printf("2. ATTACH and MAP\n");
    src = page_alloc();
    dst = page_alloc();
    sentinel = page_alloc();
    dst_iova = virt_to_phys(sentinel);
    GUEST_ASSERT(dst_iova + PAGE_SIZE - 1 <= EDU_DMA_MASK);
    expect_status(viommu_attach(&v, DOMAIN, ep, 0), VIRTIO_IOMMU_S_OK,
                  "ATTACH");
    expect_status(viommu_map(&v, DOMAIN, SRC_IOVA, SRC_IOVA + PAGE_SIZE - 1,
                             virt_to_phys(src), VIRTIO_IOMMU_MAP_F_READ),
                  VIRTIO_IOMMU_S_OK, "MAP source");
    expect_status(viommu_map(&v, DOMAIN, dst_iova, dst_iova + PAGE_SIZE - 1,
                             virt_to_phys(dst), VIRTIO_IOMMU_MAP_F_READ |
                             VIRTIO_IOMMU_MAP_F_WRITE),
                  VIRTIO_IOMMU_S_OK, "MAP destination");
    expect_status(viommu_map(&v, DOMAIN, MSI_START, MSI_START + PAGE_SIZE - 1,
                             virt_to_phys(dst), VIRTIO_IOMMU_MAP_F_READ),
                  VIRTIO_IOMMU_S_INVAL, "MAP over the MSI region");

    printf("3. DMA through the mappings\n");
    /* Checks the bytes in dst and that the sentinel (GPA == IOVA) kept
     * its 0x5a filling. */
    edu_check_copy(&e, SRC_IOVA, src, dst_iova, dst, DMA_LEN, SEED);
    GUEST_ASSERT_EQ(dst[DMA_LEN], 0);

    printf("4. DMA write to a read-only mapping\n");
    GUEST_ASSERT(!edu_dma(&e, true, SRC_IOVA, 0, DMA_LEN));
    expect_fault(&v, VIRTIO_IOMMU_FAULT_R_MAPPING, ep, SRC_IOVA,
                 "read-only");
    GUEST_ASSERT_EQ(src[0], SEED);
    GUEST_ASSERT_EQ(src[1], SEED + 7);

    printf("5. UNMAP, then DMA\n");
    expect_status(viommu_unmap(&v, DOMAIN, dst_iova,
                               dst_iova + PAGE_SIZE - 1),
                  VIRTIO_IOMMU_S_OK, "UNMAP");
    memset(dst, 0, PAGE_SIZE);
    GUEST_ASSERT(!edu_dma(&e, true, dst_iova, 0, DMA_LEN));
    expect_fault(&v, VIRTIO_IOMMU_FAULT_R_MAPPING, ep, dst_iova,
                 "unmapped");
    GUEST_ASSERT_EQ(dst[0], 0);
    GUEST_ASSERT_EQ(sentinel[0], 0x5a);

    printf("6. DETACH: bypass again\n");
    expect_status(viommu_detach(&v, DOMAIN, ep), VIRTIO_IOMMU_S_OK, "DETACH");
    if (virtio_cfg_read8(&v.dev, VIRTIO_IOMMU_CFG_BYPASS) == 1) {
        GUEST_ASSERT(edu_dma(&e, true, dst_iova, 0, DMA_LEN));
        GUEST_ASSERT_EQ(memcmp(sentinel, src, DMA_LEN), 0);
        GUEST_ASSERT_EQ(dst[0], 0);
    } else {
        printf("   config.bypass is 0: skipped\n");
    }
    expect_status(viommu_unmap(&v, DOMAIN, SRC_IOVA,
                               SRC_IOVA + PAGE_SIZE - 1),
                  VIRTIO_IOMMU_S_NOENT, "UNMAP in the destroyed domain");

    printf("7. config.bypass = 0: an unattached endpoint is blocked\n");
    GUEST_ASSERT(v.dev.features & BIT(VIRTIO_IOMMU_F_BYPASS_CONFIG));
    virtio_cfg_write8(&v.dev, VIRTIO_IOMMU_CFG_BYPASS, 0);
    GUEST_ASSERT_EQ(virtio_cfg_read8(&v.dev, VIRTIO_IOMMU_CFG_BYPASS), 0);
    memset(sentinel, 0x5a, PAGE_SIZE);
    GUEST_ASSERT(!edu_dma(&e, true, dst_iova, 0, DMA_LEN));
    expect_fault(&v, VIRTIO_IOMMU_FAULT_R_DOMAIN, ep, dst_iova, "blocked");
    GUEST_ASSERT_EQ(sentinel[0], 0x5a);

    guest_pass();
}
