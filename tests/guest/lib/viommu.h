/*
 * Guest-side virtio-iommu driver (virtio 1.2, 5.13; vtd_virtio_iommu_facts
 * H): ATTACH, DETACH, MAP, UNMAP and PROBE on the request queue, one request
 * at a time and polled; fault events on the event queue.
 */
#ifndef GUEST_VIOMMU_H
#define GUEST_VIOMMU_H

#include "virtio.h"

#define VIRTIO_ID_IOMMU 23

/* Feature bits (5.13.3) */
#define VIRTIO_IOMMU_F_INPUT_RANGE 0
#define VIRTIO_IOMMU_F_DOMAIN_RANGE 1
#define VIRTIO_IOMMU_F_MAP_UNMAP 2
#define VIRTIO_IOMMU_F_PROBE 4
#define VIRTIO_IOMMU_F_MMIO 5
#define VIRTIO_IOMMU_F_BYPASS_CONFIG 6

/* Configuration (5.13.4) */
#define VIRTIO_IOMMU_CFG_PAGE_SIZE_MASK 0
#define VIRTIO_IOMMU_CFG_INPUT_START 8
#define VIRTIO_IOMMU_CFG_INPUT_END 16
#define VIRTIO_IOMMU_CFG_DOMAIN_START 24
#define VIRTIO_IOMMU_CFG_DOMAIN_END 28
#define VIRTIO_IOMMU_CFG_PROBE_SIZE 32
#define VIRTIO_IOMMU_CFG_BYPASS 36

/* Request types and status values (5.13.6) */
#define VIRTIO_IOMMU_T_ATTACH 1
#define VIRTIO_IOMMU_T_DETACH 2
#define VIRTIO_IOMMU_T_MAP 3
#define VIRTIO_IOMMU_T_UNMAP 4
#define VIRTIO_IOMMU_T_PROBE 5

#define VIRTIO_IOMMU_S_OK 0
#define VIRTIO_IOMMU_S_IOERR 1
#define VIRTIO_IOMMU_S_UNSUPP 2
#define VIRTIO_IOMMU_S_DEVERR 3
#define VIRTIO_IOMMU_S_INVAL 4
#define VIRTIO_IOMMU_S_RANGE 5
#define VIRTIO_IOMMU_S_NOENT 6
#define VIRTIO_IOMMU_S_FAULT 7
#define VIRTIO_IOMMU_S_NOMEM 8

#define VIRTIO_IOMMU_ATTACH_F_BYPASS 1
#define VIRTIO_IOMMU_MAP_F_READ 1
#define VIRTIO_IOMMU_MAP_F_WRITE 2
#define VIRTIO_IOMMU_MAP_F_MMIO 4

/* PROBE properties (5.13.6.8) */
#define VIRTIO_IOMMU_PROBE_T_NONE 0
#define VIRTIO_IOMMU_PROBE_T_RESV_MEM 1
#define VIRTIO_IOMMU_RESV_MEM_T_RESERVED 0
#define VIRTIO_IOMMU_RESV_MEM_T_MSI 1

/* Fault event (5.13.6.9) */
#define VIRTIO_IOMMU_FAULT_R_UNKNOWN 0
#define VIRTIO_IOMMU_FAULT_R_DOMAIN 1
#define VIRTIO_IOMMU_FAULT_R_MAPPING 2
#define VIRTIO_IOMMU_FAULT_F_READ 1
#define VIRTIO_IOMMU_FAULT_F_WRITE 2
#define VIRTIO_IOMMU_FAULT_F_ADDRESS 0x100
#define VIRTIO_IOMMU_FAULT_SIZE 24

/* Result of a request that got no well-formed reply (used length wrong,
 * or no used buffer in time); otherwise a VIRTIO_IOMMU_S_* value. */
#define VIOMMU_NO_REPLY (-1)

#define VIOMMU_EVENT_BUFS 8

struct viommu {
    struct virtio_dev dev;
    struct virtq req;
    struct virtq evt;
    uint64_t page_size_mask;
    uint64_t input_start, input_end;
    uint32_t domain_start, domain_end;
    uint32_t probe_size;
    uint8_t *req_page;          /* request and reply buffers */
    uint8_t *evt_bufs;          /* VIOMMU_EVENT_BUFS x 24 bytes */
};

struct viommu_resv_mem {
    uint8_t subtype;
    uint64_t start, end;        /* inclusive */
};

struct viommu_fault {
    uint8_t reason;
    uint32_t flags;
    uint32_t endpoint;
    uint64_t address;
};

/*
 * Find the @index-th virtio-iommu-pci function, negotiate VERSION_1,
 * MAP_UNMAP and whatever of INPUT_RANGE, DOMAIN_RANGE, PROBE and
 * BYPASS_CONFIG it offers, set up both queues, fill the event queue and
 * read the configuration.  Returns false when there is no such function;
 * any other failure fails the test.
 */
bool viommu_init(struct viommu *v, unsigned int index);

int viommu_attach(struct viommu *v, uint32_t domain, uint32_t endpoint,
                  uint32_t flags);
int viommu_detach(struct viommu *v, uint32_t domain, uint32_t endpoint);
/* [virt_start, virt_end] inclusive, to phys_start, MAP_F_* flags. */
int viommu_map(struct viommu *v, uint32_t domain, uint64_t virt_start,
               uint64_t virt_end, uint64_t phys_start, uint32_t flags);
int viommu_unmap(struct viommu *v, uint32_t domain, uint64_t virt_start,
                 uint64_t virt_end);
/*
 * PROBE @endpoint and parse its properties: RESV_MEM ones go to @resv (at
 * most @max, the count to *@n); unknown types are skipped.  A malformed
 * property list fails the test.
 */
int viommu_probe(struct viommu *v, uint32_t endpoint,
                 struct viommu_resv_mem *resv, unsigned int max,
                 unsigned int *n);

/*
 * Take the next fault event, if one arrived (the buffer is given back to
 * the device).  Fails the test on a malformed event.
 */
bool viommu_event_pop(struct viommu *v, struct viommu_fault *f);
/* Poll viommu_event_pop() for up to @ms milliseconds. */
bool viommu_event_wait(struct viommu *v, struct viommu_fault *f, uint64_t ms);

const char *viommu_status_name(int status);

#endif /* GUEST_VIOMMU_H */
