/*
 * pasid-testdev: register map, shared by the device model and by qtests.
 *
 * Plain constants only: a test includes this header without any emulator
 * header.  The device is described in docs/pasid-testdev.md.
 */
#ifndef HW_MISC_PASID_TESTDEV_REGS_H
#define HW_MISC_PASID_TESTDEV_REGS_H

/* --- Identity ------------------------------------------------------------- */

#define PTD_PCI_VENDOR_ID       0x1b36      /* Red Hat, QEMU test devices */
#define PTD_PCI_DEVICE_ID       0x00f1
#define PTD_PCI_REVISION        0x01
#define PTD_PCI_CLASS           0x00ff      /* unclassified, "other" */

/* --- Configuration space -------------------------------------------------- */

/* PCIe extended capability header (PCIe Base 4.0, 7.6.3) */
#define PTD_EXT_CAP_ID(hdr)     ((hdr) & 0xffff)
#define PTD_EXT_CAP_VER(hdr)    (((hdr) >> 16) & 0xf)
#define PTD_EXT_CAP_NEXT(hdr)   ((hdr) >> 20)

/* PASID Extended Capability (PCIe Base 4.0, 7.8.8), at a fixed offset. */
#define PTD_PASID_CAP_OFFSET    0x100
#define PTD_PASID_EXT_CAP_ID    0x001b
#define PTD_PASID_CAP_VERSION   1
#define PTD_PASID_CAP           0x04        /* 16-bit, read-only */
#define  PTD_PASID_CAP_EXEC     0x0002      /* Execute Permission Supported */
#define  PTD_PASID_CAP_PRIV     0x0004      /* Privileged Mode Supported */
#define  PTD_PASID_CAP_WIDTH_SHIFT 8        /* Max PASID Width, bits 12:8 */
#define  PTD_PASID_CAP_WIDTH_MASK  0x1f00
#define PTD_PASID_CTRL          0x06        /* 16-bit */
#define  PTD_PASID_CTRL_ENABLE  0x0001      /* PASID Enable */
#define  PTD_PASID_CTRL_EXEC    0x0002      /* Execute Permission Enable */
#define  PTD_PASID_CTRL_PRIV    0x0004      /* Privileged Mode Enable */
#define PTD_PASID_CAP_SIZEOF    0x08

#define PTD_PASID_WIDTH_MAX     20
#define PTD_PASID_WIDTH_DEFAULT 20

/* --- BAR0: 8 KiB, 32-bit non-prefetchable memory -------------------------- */

#define PTD_BAR0_SIZE           0x2000

/*
 * Registers, [0, 0x1000): dwords, little endian.  A 4-byte access at a
 * multiple of 4 reaches a register; an aligned 8-byte access is two dword
 * accesses, low address first (so DMA_ADDR takes one qword).  Other sizes
 * and misaligned accesses are refused by the memory core (read 0).
 * Offsets not listed read 0 and ignore writes.
 */
#define PTD_REG_ID              0x00        /* RO */
#define  PTD_ID_VALUE           0x70746401  /* "ptd", version 1 */
#define PTD_REG_DMA_ADDR        0x08        /* RW, 64-bit IOVA, low dword */
#define PTD_REG_DMA_ADDR_HI     0x0c        /* its high dword */
#define PTD_REG_DMA_LEN         0x10        /* RW, bytes, valid 1..4096 */
#define PTD_REG_DMA_PASID       0x14        /* RW */
#define  PTD_DMA_PASID_MASK     0x000fffffu /* bits 19:0: the PASID */
#define  PTD_DMA_PASID_RSVD     0x7ff00000u /* a DMA with any set is refused */
#define  PTD_DMA_PASID_VALID    0x80000000u /* tag the DMA with the PASID */
#define PTD_REG_DMA_FLAGS       0x18        /* RW, undefined bits read 0 */
#define  PTD_DMA_FLAG_TO_MEM    0x1u        /* 0: memory -> buffer (read),
                                             * 1: buffer -> memory (write) */
#define  PTD_DMA_FLAG_PRIV      0x2u        /* privileged-mode request */
#define  PTD_DMA_FLAG_MSI       0x4u        /* MSI vector 0 on completion */
#define  PTD_DMA_FLAGS_ALL      0x7u
#define PTD_REG_DMA_CMD         0x1c        /* WO, reads 0 */
#define  PTD_DMA_CMD_START      0x1u        /* run the DMA now */
#define PTD_REG_DMA_STATUS      0x20        /* RO, replaced at every start */
#define  PTD_DMA_STATUS_DONE    0x1u        /* the last start completed */
#define  PTD_DMA_STATUS_ERROR   0x2u        /* the memory core failed it */
#define  PTD_DMA_STATUS_REFUSED 0x4u        /* not issued: bad request */
#define  PTD_DMA_STATUS_RESULT_SHIFT 8      /* MemTxResult bits, 15:8 */
#define  PTD_DMA_STATUS_RESULT_MASK  0xff00u
/* MemTxResult bits as they appear in DMA_STATUS.RESULT */
#define  PTD_MEMTX_ERROR        0x1u        /* a device reported an error */
#define  PTD_MEMTX_DECODE_ERROR 0x2u        /* unassigned, or BME clear */
#define  PTD_MEMTX_ACCESS_ERROR 0x4u        /* an IOMMU denied the access */

/* Device buffer window: any naturally aligned 1/2/4/8-byte access. */
#define PTD_BUF_OFFSET          0x1000
#define PTD_BUF_SIZE            0x1000
#define PTD_DMA_LEN_MAX         PTD_BUF_SIZE

#endif
