/*
 * libsimdma: the guest driver of the simulated host's "dma" device
 * (host/sim/sim-pci-model-regs.h) as a qtest sees it behind vfio-pci:
 * find its BARs, turn on memory decode and bus mastering, program its
 * MSI-X or MSI capability and interrupt vectors, run DMA operations
 * between IOVAs (or an IOVA and the device's internal buffer), read the
 * status, the error code and the host IOMMU's fault reason.
 *
 * The device runs each operation synchronously when CMD is written, so a
 * STATUS read right after it is the operation's result.
 */
#ifndef LIBSIMDMA_H
#define LIBSIMDMA_H

#include <stdbool.h>
#include <stdint.h>

#include "libqtest.h"
#include "../../host/sim/sim-pci-model-regs.h"

typedef struct SimDma {
    QTestState *s;
    int bus, devfn;
    uint64_t bar0;              /* register file */
    uint64_t bar2;              /* MSI-X table and PBA */
} SimDma;

/* STATUS of an operation the host IOMMU refused. */
#define SIMDMA_STATUS_FAULT     (SIM_DMA_STATUS_ERROR | \
                                 (SIM_DMA_ERR_FAULT << \
                                  SIM_DMA_STATUS_ERR_SHIFT))

/*
 * Takes BAR0 and BAR2 where the firmware placed them (asserting they are
 * placed) and sets memory decode and bus mastering.  Call again after a
 * system_reset, which clears bus mastering.
 */
void simdma_init(SimDma *d, QTestState *s, int bus, int devfn);
uint32_t simdma_readl(SimDma *d, unsigned off);
void simdma_writel(SimDma *d, unsigned off, uint32_t v);
uint64_t simdma_readq(SimDma *d, unsigned off);

/*
 * MSI-X on, vectors 0..n-1 unmasked, vector v sending data + v to addr;
 * the machine's MSI log is cleared.
 */
void simdma_msix_on(SimDma *d, unsigned n, uint64_t addr, uint32_t data);

/*
 * MSI (the capability vfio-pci emulates) on with 1 << mme vectors at addr,
 * base data data, none masked; the machine's MSI log is cleared.  MSI-X,
 * when enabled, takes precedence: turn it off first.
 */
void simdma_msi_on(SimDma *d, uint64_t addr, uint16_t data, unsigned mme);

/*
 * The engine's interrupts (REG_IRQ), both enabled: completion on vector
 * done, failure on vector err.  Reset value: done 0, err 1.
 */
void simdma_irq_vectors(SimDma *d, unsigned done, unsigned err);

/*
 * One operation: clears DONE/ERROR, programs SRC, DST, LEN and starts op
 * (SIM_DMA_OP_*).  Returns STATUS.  PASID tagging is left as programmed
 * (simdma_set_pasid).
 */
uint32_t simdma_run(SimDma *d, unsigned op, uint64_t src, uint64_t dst,
                    uint32_t len);
/* IOVA src -> IOVA dst. */
uint32_t simdma_copy(SimDma *d, uint64_t src, uint64_t dst, uint32_t len);
/* IOVA -> buffer offset 0 (a device read) / buffer offset 0 -> IOVA. */
uint32_t simdma_read_iova(SimDma *d, uint64_t iova, uint32_t len);
uint32_t simdma_write_iova(SimDma *d, uint64_t iova, uint32_t len);
/* Tag the next requests with pasid (enable) or send them untagged. */
void simdma_set_pasid(SimDma *d, uint32_t pasid, bool enable);

/* STATUS fields. */
unsigned simdma_status_error(uint32_t status);      /* SIM_DMA_ERR_* */
unsigned simdma_status_fault(uint32_t status);      /* SimFaultReason */
/* STATUS reduced to DONE/ERROR and the error code (no fault reason). */
uint32_t simdma_status_result(uint32_t status);
/* The first IOVA of the last failed operation. */
uint64_t simdma_fault_iova(SimDma *d);

/*
 * A pattern of len (<= 4096) bytes written by the guest at gpa_src, the
 * destination gpa_dst zeroed, then a device copy IOVA src -> IOVA dst.
 * True when the copy completed and the pattern is at gpa_dst.
 */
bool simdma_copy_lands(SimDma *d, uint64_t src, uint64_t gpa_src,
                       uint64_t dst, uint64_t gpa_dst, uint32_t len,
                       uint8_t seed);

#endif
