/*
 * Host IOMMU devices: what the host IOMMU behind an assigned device can do.
 *
 * A host IOMMU device ("hiod") is created by the agent that owns a host
 * device's DMA (a VFIO device; later a vDPA device) once the device is
 * attached to its host I/O page tables, and handed to the vIOMMU through
 * pci_device_set_iommu_device().  The vIOMMU sees the host only through
 * this interface: capabilities (get_cap), usable IOVA ranges, page sizes,
 * PASID support, and for iommufd-backed devices the HWPT attach/detach
 * calls used by nesting.  docs/host-iommu-device.md has the class tree,
 * the capability keys and the lifecycle.
 *
 *   host-iommu-device (abstract)                      this file
 *   +-- host-iommu-device-legacy-vfio                 legacy VFIO container
 *   +-- host-iommu-device-iommufd (abstract)          system/iommufd.h
 *       +-- host-iommu-device-iommufd-vfio            VFIO cdev on iommufd
 *
 * A new agent (vDPA) adds a subclass of one of the abstract types; no
 * vIOMMU code changes.
 *
 * Lifetime: object_new() + host_iommu_device_realize() (or
 * host_iommu_device_create()); the agent holds the first reference and
 * drops it when the device is detached.  A vIOMMU that accepts the device
 * takes its own reference and drops it in unset_iommu_device.  Everything
 * here runs in the main loop (the big lock), as all of QOM.
 */
#ifndef SYSTEM_HOST_IOMMU_DEVICE_H
#define SYSTEM_HOST_IOMMU_DEVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "qom/object.h"
#include "util/range.h"
#include "linux-iommufd.h"

struct PCIBus;
typedef struct IOMMUFDBackend IOMMUFDBackend;

#define TYPE_HOST_IOMMU_DEVICE "host-iommu-device"

/*
 * What IOMMU_GET_HW_INFO reported for the device.  Filled by the iommufd
 * classes at realize; all zero for the legacy class (type1 reports none of
 * it).  The kernel's own encodings (host/uapi/linux-iommufd.h).
 */
typedef struct HostIOMMUDeviceCaps {
    uint32_t type;              /* enum iommu_hw_info_type */
    uint64_t hw_caps;           /* IOMMU_HW_CAP_* */
    uint8_t max_pasid_log2;     /* PASID width; 0: no PASID */
    union {
        struct iommu_hw_info_vtd vtd;           /* type INTEL_VTD */
        struct iommu_hw_info_arm_smmuv3 smmuv3; /* type ARM_SMMUV3 */
    } vendor_caps;
} HostIOMMUDeviceCaps;

/*
 * Capability keys for get_cap.  get_cap returns a negative errno with
 * *errp set for a key the class does not answer, else the value (0: not
 * supported / none).
 *
 * Keys 0 and 1 are QEMU's; the others are viommu's own (QEMU lets vIOMMUs
 * read caps.hw_caps and caps.vendor_caps directly) and are answered by
 * every class, 0 where the backend cannot offer the feature.
 */
enum {
    /* enum iommu_hw_info_type of the host IOMMU; iommufd classes only
     * (legacy: error "unsupported capability 0", as QEMU) */
    HOST_IOMMU_DEVICE_CAP_IOMMU_TYPE = 0,
    /* Host IOVA address width in bits: the highest usable IOVA's top bit
     * plus one; HOST_IOMMU_DEVICE_CAP_AW_BITS_MAX when the host reports no
     * IOVA ranges (old kernels). */
    HOST_IOMMU_DEVICE_CAP_AW_BITS = 1,
    /* 1 if the host IOMMU can nest: nest-parent and nested HWPTs of its
     * vendor type (VT-d ECAP.NEST; SMMUv3 IDR0.S1P and S2P); else 0. */
    HOST_IOMMU_DEVICE_CAP_NESTING = 2,
    /* 1 if first-stage 1 GiB pages are supported (VT-d CAP.FS1GP); 0 on
     * other IOMMUs. */
    HOST_IOMMU_DEVICE_CAP_FS1GP = 3,
    /* 1 if HWPTs of the device can track DMA writes
     * (IOMMU_HW_CAP_DIRTY_TRACKING); else 0. */
    HOST_IOMMU_DEVICE_CAP_DIRTY_TRACKING = 4,
    /* PASID width in bits (out_max_pasid_log2); 0: no PASID. */
    HOST_IOMMU_DEVICE_CAP_PASID_BITS = 5,
    /* Bitmap of HOST_IOMMU_DEVICE_ERRATA_* the host reports; 0: none. */
    HOST_IOMMU_DEVICE_CAP_ERRATA = 6,
};

/* Not a key: the AW_BITS value when the host reports no ranges. */
#define HOST_IOMMU_DEVICE_CAP_AW_BITS_MAX 64

/* HOST_IOMMU_DEVICE_CAP_ERRATA bits. */
enum {
    /* Intel erratum 772415 (SPR17, IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17):
     * read-only mappings are not allowed on a nest-parent domain. */
    HOST_IOMMU_DEVICE_ERRATA_VTD_SPR17 = 1 << 0,
};

typedef struct HostIOMMUDevice {
    Object parent_obj;

    char *name;                 /* the agent's device name ("0000:02:00.0") */
    void *agent;                /* the agent (VFIO device); opaque here */
    /*
     * The requester ID the IOMMU sees for the device: its own bus and
     * devfn, or the alias of a PCIe-to-PCI bridge above it (secondary bus,
     * 00.0; pci_device_iommu_alias()).  Set by pci_device_set_iommu_device
     * before it calls the vIOMMU (which is passed the device's own bus and
     * devfn); NULL / 0 until then.
     */
    struct PCIBus *aliased_bus;
    int aliased_devfn;
    HostIOMMUDeviceCaps caps;
    bool realized;
} HostIOMMUDevice;

/* get_pasid_info's answer. */
typedef struct PasidInfo {
    bool exec_perm;             /* IOMMU_HW_CAP_PCI_PASID_EXEC */
    bool priv_mod;              /* IOMMU_HW_CAP_PCI_PASID_PRIV */
    uint8_t max_pasid_log2;
} PasidInfo;

typedef struct HostIOMMUDeviceClass {
    ObjectClass parent_class;

    /*
     * Mandatory.  Binds @hiod to @agent (what @agent is depends on the
     * class) and collects the capabilities; sets name and agent.
     */
    bool (*realize)(HostIOMMUDevice *hiod, void *agent, Error **errp);
    /* Optional.  See the keys above. */
    int (*get_cap)(HostIOMMUDevice *hiod, int cap, Error **errp);
    /*
     * Optional.  A deep copy (the caller frees it with range_list_free())
     * of the usable IOVA ranges, sorted; NULL if the host reports none.
     */
    GList *(*get_iova_ranges)(HostIOMMUDevice *hiod);
    /* Optional.  The supported IOVA page sizes, a bitmap. */
    uint64_t (*get_page_size_mask)(HostIOMMUDevice *hiod);
    /* Optional.  false if the device has no PASID support. */
    bool (*get_pasid_info)(HostIOMMUDevice *hiod, PasidInfo *info);
} HostIOMMUDeviceClass;

DECLARE_OBJ_CHECKERS(HostIOMMUDevice, HostIOMMUDeviceClass,
                     HOST_IOMMU_DEVICE, TYPE_HOST_IOMMU_DEVICE)

/*
 * A new realized object of concrete subclass @typename bound to @agent, or
 * NULL with *errp set (unknown, abstract or foreign type; realize failed).
 * The caller owns the returned reference.
 */
HostIOMMUDevice *host_iommu_device_create(const char *typename, void *agent,
                                          Error **errp);
/* Runs the class's realize once; a second call fails. */
bool host_iommu_device_realize(HostIOMMUDevice *hiod, void *agent,
                               Error **errp);

/*
 * What vIOMMUs call.  get_cap fails (negative errno, *errp set) when the
 * class has no get_cap (".get_cap() not implemented"), the device is not
 * realized, or the key is not answered.  get_iova_ranges: NULL when the
 * class has no hook or the host reports no ranges.  get_page_size_mask: 0
 * when the class has no hook.  get_pasid_info: false when no PASID.
 */
int host_iommu_device_get_cap(HostIOMMUDevice *hiod, int cap, Error **errp);
GList *host_iommu_device_get_iova_ranges(HostIOMMUDevice *hiod);
uint64_t host_iommu_device_get_page_size_mask(HostIOMMUDevice *hiod);
bool host_iommu_device_get_pasid_info(HostIOMMUDevice *hiod, PasidInfo *info);

/*
 * Building blocks for classes.
 *
 * host_iommu_device_aw_bits: AW_BITS of a usable-range list (the top bit
 * of the highest upb, plus one); HOST_IOMMU_DEVICE_CAP_AW_BITS_MAX for
 * NULL.
 *
 * host_iommu_device_caps_get_cap: get_cap answered from hiod->caps as
 * IOMMU_GET_HW_INFO filled it (every key; AW_BITS from the class's
 * get_iova_ranges).  The iommufd classes use it as their get_cap.
 *
 * host_iommu_device_caps_get_pasid_info: get_pasid_info from hiod->caps.
 */
unsigned host_iommu_device_aw_bits(GList *iova_ranges);
int host_iommu_device_caps_get_cap(HostIOMMUDevice *hiod, int cap,
                                   Error **errp);
bool host_iommu_device_caps_get_pasid_info(HostIOMMUDevice *hiod,
                                           PasidInfo *info);

/* ------------------------------------------------------------------------
 * The VFIO classes (backends/host_iommu_device_vfio.c)
 *
 * The VFIO container fills a HostIOMMUDeviceVFIOInfo for the device it
 * has just attached and passes it as realize()'s agent:
 *
 *     HostIOMMUDeviceVFIOInfo info = {
 *         .agent = vbasedev, .name = vbasedev->name,
 *         .iova_ranges = container->iova_ranges,
 *         .pgsizes = container->pgsizes,
 *         // iommufd only:
 *         .iommufd = be, .devid = devid, .hwpt_id = hwpt_id,
 *         .devfd = vbasedev->fd,
 *     };
 *     hiod = host_iommu_device_create(TYPE_HOST_IOMMU_DEVICE_IOMMUFD_VFIO,
 *                                     &info, errp);
 *
 * Realize copies what it needs (name, a deep copy of the ranges), so @info
 * may live on the stack.  The copy is a snapshot: the ranges usable when
 * the device was attached.  hiod->agent becomes info->agent.
 *
 * iommufd-vfio realize also issues IOMMU_GET_HW_INFO for @devid and fills
 * caps; it takes a reference on @iommufd (the container has connected to
 * it; the hiod does not connect).  attach_hwpt/detach_hwpt issue
 * VFIO_DEVICE_ATTACH_IOMMUFD_PT / VFIO_DEVICE_DETACH_IOMMUFD_PT on @devfd,
 * which must stay open while the hiod exists.
 * ------------------------------------------------------------------------ */

#define TYPE_HOST_IOMMU_DEVICE_LEGACY_VFIO "host-iommu-device-legacy-vfio"
#define TYPE_HOST_IOMMU_DEVICE_IOMMUFD_VFIO "host-iommu-device-iommufd-vfio"

typedef struct HostIOMMUDeviceVFIOInfo {
    void *agent;                /* the VFIO device (hiod->agent) */
    const char *name;           /* device name; required */
    /*
     * Range *: the container's usable IOVA ranges (VFIO_IOMMU_GET_INFO
     * IOVA_RANGE cap, or IOMMU_IOAS_IOVA_RANGES); NULL: none reported.
     */
    GList *iova_ranges;
    /*
     * Page sizes: legacy iova_pgsizes; iommufd out_iova_alignment.  0:
     * unknown, the host page size is used.
     */
    uint64_t pgsizes;

    /* iommufd-vfio only */
    IOMMUFDBackend *iommufd;
    uint32_t devid;             /* from VFIO_DEVICE_BIND_IOMMUFD */
    uint32_t hwpt_id;           /* default HWPT (the nest parent, if any) */
    uint32_t ioas_id;           /* the container's IOAS */
    int devfd;                  /* the VFIO device cdev fd; -1: none */
} HostIOMMUDeviceVFIOInfo;

#endif
