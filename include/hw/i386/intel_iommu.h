/*
 * intel-iommu (hw/i386/intel_iommu*.c): its public facts.
 */
#ifndef HW_I386_INTEL_IOMMU_H
#define HW_I386_INTEL_IOMMU_H

#define TYPE_INTEL_IOMMU_DEVICE "intel-iommu"
/* The register file (DRHD register base in the DMAR), as QEMU's q35. */
#define Q35_HOST_BRIDGE_IOMMU_ADDR 0xfed90000ULL

#endif
