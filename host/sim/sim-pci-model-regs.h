/*
 * Register map of the simulated host's PCI device model "dma"
 * (host/sim/sim-pci-model.c): a conventional PCI function with a DMA
 * engine that copies between IOVAs, or between an IOVA and a 4 KiB
 * internal buffer, with or without a PASID, through the host's physical
 * IOMMU.  Plain #defines so that tests, viommu and guest programs can
 * include this header alone.  See docs/sim-host.md, "The dma device".
 *
 * Identity: 1b36:00f2 (Red Hat's QEMU test-device vendor; 0x00f1 is
 * viommu's pasid-testdev, 0x00f2 is used by no QEMU device), revision 1,
 * class 0x00ff (base 0x00, sub-class 0xff, prog-if 0), subsystem
 * 1af4:1100, interrupt pin INTA.  256-byte configuration space.
 */
#ifndef VIOMMU_SIM_PCI_MODEL_REGS_H
#define VIOMMU_SIM_PCI_MODEL_REGS_H

#define SIM_DMA_VENDOR_ID           0x1b36
#define SIM_DMA_DEVICE_ID           0x00f2
#define SIM_DMA_REVISION            0x01
#define SIM_DMA_CLASS               0x00ff      /* base << 8 | sub-class */
#define SIM_DMA_SUBSYS_VENDOR_ID    0x1af4
#define SIM_DMA_SUBSYS_ID           0x1100

/* ---- configuration space (PCI Local Bus 3.0, 6.1) ---------------------- */

#define SIM_DMA_CFG_SIZE            256
/* Command register bits the model implements (others read 0). */
#define SIM_DMA_CMD_MEM             (1u << 1)
#define SIM_DMA_CMD_BME             (1u << 2)   /* gates DMA, MSI and MSI-X */
#define SIM_DMA_CMD_SERR            (1u << 8)
#define SIM_DMA_CMD_INTX_DISABLE    (1u << 10)

#define SIM_DMA_CFG_STATUS_INTX     (1u << 3)   /* config STATUS: pending */
#define SIM_DMA_CFG_INT_PIN         0x3d        /* RO 1: INTA */

/*
 * Capability list: CAP_PTR -> MSI-X (0x40) -> MSI (0x50) -> end.  The
 * engine's interrupts go out as MSI-X messages while MSI-X is enabled,
 * else as MSI messages while MSI is enabled (both need bus mastering:
 * they are memory writes), else on INTx (PCI Local Bus 3.0, 2.2.6):
 *
 * INTx is level-triggered.  An interrupt raised while neither MSI nor
 * MSI-X is enabled makes INTx pending for its cause, the STATUS bit
 * (DONE or ERROR) it reports.  It stays pending until the driver
 * acknowledges it by clearing that bit (write 1 to clear in
 * SIM_DMA_REG_STATUS), starts the next operation (which clears STATUS),
 * enables MSI or MSI-X, or the function is reset.  While pending, config
 * STATUS.INTX (bit 3) reads 1 and, unless COMMAND.INTX_DISABLE is set,
 * pin INTA is asserted.  No bus mastering needed.
 */

/* MSI-X capability (PCI Local Bus 3.0, 6.8.2). */
#define SIM_DMA_CFG_MSIX            0x40
#define SIM_DMA_MSIX_CTRL_ENABLE    (1u << 15)  /* in the control word */
#define SIM_DMA_MSIX_CTRL_MASKALL   (1u << 14)
#define SIM_DMA_MSIX_VECTORS        8

/*
 * MSI capability (PCI Local Bus 3.0, 6.8.1): 64-bit address, per-vector
 * masking, Multiple Message Capable 2 (4 vectors).  Vector v is sent with
 * data = (DATA & ~(n - 1)) | v, n = 1 << MME; a vector >= n is not sent.
 * A masked vector sets its pending bit and is sent when unmasked.  MME
 * written above MMC reads back as MMC.  Offsets from the capability.
 */
#define SIM_DMA_CFG_MSI             0x50
#define SIM_DMA_MSI_CTRL            0x02        /* 16-bit control */
#define   SIM_DMA_MSI_CTRL_ENABLE     (1u << 0)   /* RW */
#define   SIM_DMA_MSI_CTRL_MMC_SHIFT  1           /* RO: log2(vectors) */
#define   SIM_DMA_MSI_CTRL_MMC_MASK   (7u << 1)
#define   SIM_DMA_MSI_CTRL_MME_SHIFT  4           /* RW: log2(enabled) */
#define   SIM_DMA_MSI_CTRL_MME_MASK   (7u << 4)
#define   SIM_DMA_MSI_CTRL_64BIT      (1u << 7)   /* RO 1 */
#define   SIM_DMA_MSI_CTRL_MASKBIT    (1u << 8)   /* RO 1 */
#define SIM_DMA_MSI_ADDR_LO         0x04        /* RW, bits 1:0 read 0 */
#define SIM_DMA_MSI_ADDR_HI         0x08        /* RW */
#define SIM_DMA_MSI_DATA            0x0c        /* RW 16-bit; 0x0e reads 0 */
#define SIM_DMA_MSI_MASK            0x10        /* RW: bits 3:0 */
#define SIM_DMA_MSI_PENDING         0x14        /* RO: bits 3:0 */
#define SIM_DMA_MSI_CAP_SIZE        0x18
#define SIM_DMA_MSI_MMC             2
#define SIM_DMA_MSI_VECTORS         (1u << SIM_DMA_MSI_MMC)

/* ---- BARs ------------------------------------------------------------- */

/*
 * BAR0: the register file, 4 KiB, 32-bit memory.  Not mmappable through
 * VFIO (region info without VFIO_REGION_INFO_FLAG_MMAP): every access is
 * a trapped pread/pwrite.  Registers are 32-bit; 64-bit ones are two
 * halves (low first) and may also be accessed with one 8-byte access.
 */
#define SIM_DMA_BAR_REGS            0
#define SIM_DMA_REGS_SIZE           0x1000

/*
 * BAR2: MSI-X table at 0x000 (8 vectors x 16 bytes) and PBA at 0x800,
 * 4 KiB, 32-bit memory.  mmappable; its region info carries the
 * MSIX_MAPPABLE capability.  As with vfio-pci, pread of the table through
 * the region returns 0xff bytes and pwrite to it is dropped (the host owns
 * the table); the PBA reads through.
 */
#define SIM_DMA_BAR_MSIX            2
#define SIM_DMA_MSIX_BAR_SIZE       0x1000
#define SIM_DMA_MSIX_TABLE          0x000
#define SIM_DMA_MSIX_PBA            0x800
#define SIM_DMA_MSIX_ENTRY_SIZE     16
#define SIM_DMA_MSIX_ENTRY_MASKED   (1u << 0)   /* vector control */

/* ---- BAR0 registers --------------------------------------------------- */

#define SIM_DMA_REG_ID          0x00    /* RO: SIM_DMA_ID_VALUE */
#define SIM_DMA_ID_VALUE        0x414d4453u     /* "SDMA" little-endian */
#define SIM_DMA_REG_VERSION     0x04    /* RO: 0x00010000 (1.0) */
#define SIM_DMA_VERSION_VALUE   0x00010000u
#define SIM_DMA_REG_CAPS        0x08    /* RO */
#define   SIM_DMA_CAPS_PASID        (1u << 0)   /* PASID-tagged DMA */
#define   SIM_DMA_CAPS_PASID_BITS_SHIFT 8       /* bits 12:8: PASID width */
#define   SIM_DMA_CAPS_PASID_BITS_MASK  (0x1fu << 8)
#define SIM_DMA_REG_BUF_SIZE    0x0c    /* RO: internal buffer bytes */
#define SIM_DMA_BUF_SIZE        4096
#define SIM_DMA_REG_SRC         0x10    /* RW 64: source IOVA or offset */
#define SIM_DMA_REG_DST         0x18    /* RW 64: destination, same */
#define SIM_DMA_REG_LEN         0x20    /* RW: bytes, 1..SIM_DMA_MAX_LEN */
#define SIM_DMA_MAX_LEN         (1u << 20)
#define SIM_DMA_REG_PASID       0x24    /* RW */
#define   SIM_DMA_PASID_VALUE_MASK  0x000fffffu
#define   SIM_DMA_PASID_EN          (1u << 31)  /* tag requests with it */
#define SIM_DMA_REG_IRQ         0x28    /* RW, reset SIM_DMA_IRQ_RESET */
#define   SIM_DMA_IRQ_DONE_VEC_MASK 0x000000ffu /* MSI(-X) vector when done */
#define   SIM_DMA_IRQ_ERR_VEC_SHIFT 8
#define   SIM_DMA_IRQ_ERR_VEC_MASK  0x0000ff00u /* MSI(-X) vector on error */
#define   SIM_DMA_IRQ_DONE_EN       (1u << 16)
#define   SIM_DMA_IRQ_ERR_EN        (1u << 17)
#define   SIM_DMA_IRQ_RESET         (SIM_DMA_IRQ_DONE_EN | \
                                     SIM_DMA_IRQ_ERR_EN | \
                                     (1u << SIM_DMA_IRQ_ERR_VEC_SHIFT))
#define SIM_DMA_REG_CMD         0x30    /* WO (reads 0): start an operation */
#define   SIM_DMA_CMD_OP_MASK       0x3u
#define   SIM_DMA_OP_COPY           0   /* IOVA SRC -> IOVA DST */
#define   SIM_DMA_OP_TO_BUFFER      1   /* IOVA SRC -> buffer offset DST */
#define   SIM_DMA_OP_FROM_BUFFER    2   /* buffer offset SRC -> IOVA DST */
#define   SIM_DMA_CMD_START         (1u << 31)
#define SIM_DMA_REG_STATUS      0x34    /* RO except W1C of DONE/ERROR,
                                         * which acknowledges INTx */
#define   SIM_DMA_STATUS_DONE       (1u << 0)
#define   SIM_DMA_STATUS_ERROR      (1u << 1)   /* W1C clears the codes too */
#define   SIM_DMA_STATUS_ERR_SHIFT  8           /* bits 15:8: SIM_DMA_ERR_* */
#define   SIM_DMA_STATUS_ERR_MASK   0x0000ff00u
#define   SIM_DMA_STATUS_FAULT_SHIFT 16 /* bits 23:16: SimFaultReason */
#define   SIM_DMA_STATUS_FAULT_MASK 0x00ff0000u
#define SIM_DMA_REG_FAULT_IOVA  0x38    /* RO 64: first IOVA that failed */
#define SIM_DMA_REG_XFER        0x40    /* RO 64: bytes moved by the last op */
#define SIM_DMA_REG_DONE_COUNT  0x48    /* RO: operations completed */
#define SIM_DMA_REG_ERR_COUNT   0x4c    /* RO: operations failed */
#define SIM_DMA_REG_SCRATCH     0x50    /* RW: no effect */

/* Error codes in STATUS bits 15:8. */
#define SIM_DMA_ERR_NONE        0
#define SIM_DMA_ERR_BAD_OP      1   /* CMD op 3 */
#define SIM_DMA_ERR_BAD_LEN     2   /* LEN 0 or > SIM_DMA_MAX_LEN */
#define SIM_DMA_ERR_RANGE       3   /* past the buffer's end; IOVA wraps */
#define SIM_DMA_ERR_BAD_PASID   4   /* PASID_EN: 0, >= 1 << width, no PASID */
#define SIM_DMA_ERR_NO_BME      5   /* bus master disabled: nothing issued */
#define SIM_DMA_ERR_FAULT       6   /* the IOMMU refused a request */

#endif /* VIOMMU_SIM_PCI_MODEL_REGS_H */
