/*
 * host-iommu-device: the abstract base of the host IOMMU device class tree
 * (include/system/host_iommu_device.h, docs/host-iommu-device.md).
 *
 * Here: the realize/get_cap/... entry points vIOMMUs call, the capability
 * keys answered from IOMMU_GET_HW_INFO data (shared by every iommufd
 * class), and the read-only QOM properties that make a device visible to
 * qom-list / qom-get once its agent puts it in the composition tree.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include "system/host_iommu_device.h"
#include "qapi/qjson.h"

/* VT-d 11.4.2: CAP_REG.FS1GP, first-stage 1-GByte page support. */
#define VTD_CAP_FS1GP       (1ull << 56)
/* VT-d 11.4.3: ECAP_REG.NEST, nested translation support. */
#define VTD_ECAP_NEST       (1ull << 26)
/* SMMUv3 6.3.1: SMMU_IDR0.S2P / S1P, stage 2 / stage 1 translation. */
#define SMMUV3_IDR0_S2P     (1u << 0)
#define SMMUV3_IDR0_S1P     (1u << 1)

/* The name for messages: the device's once realized, else the type's. */
static const char *hiod_label(HostIOMMUDevice *hiod)
{
    return hiod->name ? hiod->name : object_get_typename(OBJECT(hiod));
}

/* ------------------------------------------------------------------------
 * Entry points
 * ------------------------------------------------------------------------ */

HostIOMMUDevice *host_iommu_device_create(const char *typename, void *agent,
                                          Error **errp)
{
    ObjectClass *klass = typename ? object_class_by_name(typename) : NULL;
    HostIOMMUDevice *hiod;

    if (!klass || !object_class_dynamic_cast(klass, TYPE_HOST_IOMMU_DEVICE)) {
        error_setg(errp, "'%s' is not a host IOMMU device type",
                   typename ? typename : "(null)");
        return NULL;
    }
    if (object_class_is_abstract(klass)) {
        error_setg(errp, "host IOMMU device type '%s' is abstract", typename);
        return NULL;
    }
    hiod = HOST_IOMMU_DEVICE(object_new_with_class(klass));
    if (!host_iommu_device_realize(hiod, agent, errp)) {
        object_unref(hiod);
        return NULL;
    }
    return hiod;
}

bool host_iommu_device_realize(HostIOMMUDevice *hiod, void *agent,
                               Error **errp)
{
    HostIOMMUDeviceClass *hiodc = HOST_IOMMU_DEVICE_GET_CLASS(hiod);

    if (hiod->realized) {
        error_setg(errp, "%s: host IOMMU device already realized",
                   hiod_label(hiod));
        return false;
    }
    if (!hiodc->realize) {
        error_setg(errp, "%s: .realize() not implemented", hiod_label(hiod));
        return false;
    }
    if (!hiodc->realize(hiod, agent, errp)) {
        return false;
    }
    if (!hiod->name) {
        hiod->name = g_strdup(object_get_typename(OBJECT(hiod)));
    }
    hiod->realized = true;
    return true;
}

int host_iommu_device_get_cap(HostIOMMUDevice *hiod, int cap, Error **errp)
{
    HostIOMMUDeviceClass *hiodc = HOST_IOMMU_DEVICE_GET_CLASS(hiod);

    if (!hiodc->get_cap) {
        error_setg(errp, "%s: .get_cap() not implemented", hiod_label(hiod));
        return -EOPNOTSUPP;
    }
    if (!hiod->realized) {
        error_setg(errp, "%s: host IOMMU device not realized",
                   hiod_label(hiod));
        return -EINVAL;
    }
    return hiodc->get_cap(hiod, cap, errp);
}

GList *host_iommu_device_get_iova_ranges(HostIOMMUDevice *hiod)
{
    HostIOMMUDeviceClass *hiodc = HOST_IOMMU_DEVICE_GET_CLASS(hiod);

    return hiodc->get_iova_ranges && hiod->realized ?
           hiodc->get_iova_ranges(hiod) : NULL;
}

uint64_t host_iommu_device_get_page_size_mask(HostIOMMUDevice *hiod)
{
    HostIOMMUDeviceClass *hiodc = HOST_IOMMU_DEVICE_GET_CLASS(hiod);

    return hiodc->get_page_size_mask && hiod->realized ?
           hiodc->get_page_size_mask(hiod) : 0;
}

bool host_iommu_device_get_pasid_info(HostIOMMUDevice *hiod, PasidInfo *info)
{
    HostIOMMUDeviceClass *hiodc = HOST_IOMMU_DEVICE_GET_CLASS(hiod);

    memset(info, 0, sizeof(*info));
    return hiodc->get_pasid_info && hiod->realized &&
           hiodc->get_pasid_info(hiod, info);
}

/* ------------------------------------------------------------------------
 * Building blocks for classes
 * ------------------------------------------------------------------------ */

unsigned host_iommu_device_aw_bits(GList *iova_ranges)
{
    uint64_t top = 0;

    if (!iova_ranges) {
        return HOST_IOMMU_DEVICE_CAP_AW_BITS_MAX;
    }
    /* the highest usable address, wherever it sits in the list */
    for (GList *l = iova_ranges; l; l = l->next) {
        top = MAX(top, ((const Range *)l->data)->upb);
    }
    return g_bit_storage(top);
}

static int caps_nesting(const HostIOMMUDeviceCaps *caps)
{
    switch (caps->type) {
    case IOMMU_HW_INFO_TYPE_INTEL_VTD:
        return !!(caps->vendor_caps.vtd.ecap_reg & VTD_ECAP_NEST);
    case IOMMU_HW_INFO_TYPE_ARM_SMMUV3: {
        uint32_t idr0 = caps->vendor_caps.smmuv3.idr[0];

        return (idr0 & SMMUV3_IDR0_S1P) && (idr0 & SMMUV3_IDR0_S2P);
    }
    default:
        return 0;
    }
}

int host_iommu_device_caps_get_cap(HostIOMMUDevice *hiod, int cap,
                                   Error **errp)
{
    const HostIOMMUDeviceCaps *caps = &hiod->caps;
    bool vtd = caps->type == IOMMU_HW_INFO_TYPE_INTEL_VTD;

    switch (cap) {
    case HOST_IOMMU_DEVICE_CAP_IOMMU_TYPE:
        if (caps->type > INT_MAX) {
            error_setg(errp, "%s: host reported IOMMU type %" PRIu32,
                       hiod_label(hiod), caps->type);
            return -ERANGE;
        }
        return caps->type;
    case HOST_IOMMU_DEVICE_CAP_AW_BITS: {
        GList *ranges = host_iommu_device_get_iova_ranges(hiod);
        unsigned aw = host_iommu_device_aw_bits(ranges);

        range_list_free(ranges);
        return aw;
    }
    case HOST_IOMMU_DEVICE_CAP_NESTING:
        return caps_nesting(caps);
    case HOST_IOMMU_DEVICE_CAP_FS1GP:
        return vtd && (caps->vendor_caps.vtd.cap_reg & VTD_CAP_FS1GP);
    case HOST_IOMMU_DEVICE_CAP_DIRTY_TRACKING:
        return !!(caps->hw_caps & IOMMU_HW_CAP_DIRTY_TRACKING);
    case HOST_IOMMU_DEVICE_CAP_PASID_BITS:
        return caps->max_pasid_log2;
    case HOST_IOMMU_DEVICE_CAP_ERRATA:
        return vtd && (caps->vendor_caps.vtd.flags &
                       IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17) ?
               HOST_IOMMU_DEVICE_ERRATA_VTD_SPR17 : 0;
    default:
        error_setg(errp, "%s: unsupported capability %x", hiod_label(hiod),
                   cap);
        return -EINVAL;
    }
}

bool host_iommu_device_caps_get_pasid_info(HostIOMMUDevice *hiod,
                                           PasidInfo *info)
{
    const HostIOMMUDeviceCaps *caps = &hiod->caps;

    if (!caps->max_pasid_log2) {
        return false;
    }
    info->exec_perm = caps->hw_caps & IOMMU_HW_CAP_PCI_PASID_EXEC;
    info->priv_mod = caps->hw_caps & IOMMU_HW_CAP_PCI_PASID_PRIV;
    info->max_pasid_log2 = caps->max_pasid_log2;
    return true;
}

/* ------------------------------------------------------------------------
 * Properties (read-only; for introspection)
 * ------------------------------------------------------------------------ */

static bool hiod_get_name(Object *obj, ObjectProperty *prop,
                          JsonNode **value, Error **errp)
{
    HostIOMMUDevice *hiod = HOST_IOMMU_DEVICE(obj);

    *value = qjson_new_str(hiod->name ? hiod->name : "");
    return true;
}

typedef enum HiodField {
    HIOD_FIELD_IOMMU_TYPE,
    HIOD_FIELD_HW_CAPS,
    HIOD_FIELD_VTD_CAP,
    HIOD_FIELD_VTD_ECAP,
    HIOD_FIELD_PAGE_SIZE_MASK,
} HiodField;

static bool hiod_get_field(Object *obj, ObjectProperty *prop,
                           JsonNode **value, Error **errp)
{
    HostIOMMUDevice *hiod = HOST_IOMMU_DEVICE(obj);
    const HostIOMMUDeviceCaps *caps = &hiod->caps;
    bool vtd = caps->type == IOMMU_HW_INFO_TYPE_INTEL_VTD;
    uint64_t v = 0;

    switch ((HiodField)GPOINTER_TO_INT(prop->opaque)) {
    case HIOD_FIELD_IOMMU_TYPE:
        v = caps->type;
        break;
    case HIOD_FIELD_HW_CAPS:
        v = caps->hw_caps;
        break;
    case HIOD_FIELD_VTD_CAP:
        v = vtd ? caps->vendor_caps.vtd.cap_reg : 0;
        break;
    case HIOD_FIELD_VTD_ECAP:
        v = vtd ? caps->vendor_caps.vtd.ecap_reg : 0;
        break;
    case HIOD_FIELD_PAGE_SIZE_MASK:
        v = host_iommu_device_get_page_size_mask(hiod);
        break;
    }
    *value = qjson_new_uint(v);
    return true;
}

/* "S-L:S-L..." in hex, as sim-host's reserved-regions; "" for none. */
static bool hiod_get_iova_ranges(Object *obj, ObjectProperty *prop,
                                 JsonNode **value, Error **errp)
{
    GList *ranges = host_iommu_device_get_iova_ranges(HOST_IOMMU_DEVICE(obj));
    GString *s = g_string_new(NULL);

    for (GList *l = ranges; l; l = l->next) {
        const Range *r = l->data;

        g_string_append_printf(s, "%s0x%" PRIx64 "-0x%" PRIx64,
                               l == ranges ? "" : ":", r->lob, r->upb);
    }
    range_list_free(ranges);
    *value = qjson_new_str(s->str);
    g_string_free(s, true);
    return true;
}

static bool hiod_get_cap_prop(Object *obj, ObjectProperty *prop,
                              JsonNode **value, Error **errp)
{
    int cap = GPOINTER_TO_INT(prop->opaque);
    int v = host_iommu_device_get_cap(HOST_IOMMU_DEVICE(obj), cap, errp);

    if (v < 0) {
        return false;
    }
    *value = strcmp(prop->type, "bool") ? qjson_new_uint(v)
                                        : qjson_new_bool(v);
    return true;
}

static void hiod_class_init(ObjectClass *klass, const void *data)
{
    static const struct {
        const char *name, *type;
        HiodField field;
        const char *help;
    } fields[] = {
        { "iommu-type", "uint32", HIOD_FIELD_IOMMU_TYPE,
          "Host IOMMU type (enum iommu_hw_info_type; 0: none reported)" },
        { "hw-caps", "uint64", HIOD_FIELD_HW_CAPS,
          "IOMMU_HW_CAP_* bits reported by IOMMU_GET_HW_INFO" },
        { "vtd-cap", "uint64", HIOD_FIELD_VTD_CAP,
          "Host VT-d CAP register (0 unless the host IOMMU is VT-d)" },
        { "vtd-ecap", "uint64", HIOD_FIELD_VTD_ECAP,
          "Host VT-d ECAP register (0 unless the host IOMMU is VT-d)" },
        { "page-size-mask", "uint64", HIOD_FIELD_PAGE_SIZE_MASK,
          "Supported IOVA page sizes (bitmap)" },
    };
    static const struct {
        const char *name, *type;
        int cap;
        const char *help;
    } caps[] = {
        { "aw-bits", "uint32", HOST_IOMMU_DEVICE_CAP_AW_BITS,
          "Host IOVA address width in bits" },
        { "nesting", "bool", HOST_IOMMU_DEVICE_CAP_NESTING,
          "Nest-parent and nested HWPTs supported" },
        { "fs1gp", "bool", HOST_IOMMU_DEVICE_CAP_FS1GP,
          "First-stage 1 GiB pages supported (VT-d)" },
        { "dirty-tracking", "bool", HOST_IOMMU_DEVICE_CAP_DIRTY_TRACKING,
          "IOMMU dirty tracking supported" },
        { "pasid-bits", "uint32", HOST_IOMMU_DEVICE_CAP_PASID_BITS,
          "PASID width in bits (0: no PASID)" },
        { "errata", "uint32", HOST_IOMMU_DEVICE_CAP_ERRATA,
          "HOST_IOMMU_DEVICE_ERRATA_* bits" },
    };
    ObjectProperty *prop;

    prop = object_class_property_add(klass, "name", "str", hiod_get_name,
                                     NULL, NULL, NULL);
    prop->description = g_strdup("Name of the host device");
    for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
        prop = object_class_property_add(klass, fields[i].name,
                                         fields[i].type, hiod_get_field,
                                         NULL, NULL,
                                         GINT_TO_POINTER(fields[i].field));
        prop->description = g_strdup(fields[i].help);
    }
    prop = object_class_property_add(klass, "iova-ranges", "str",
                                     hiod_get_iova_ranges, NULL, NULL, NULL);
    prop->description = g_strdup("Usable IOVA ranges, START-LAST[:...] "
                                 "(empty: none reported by the host)");
    for (size_t i = 0; i < G_N_ELEMENTS(caps); i++) {
        prop = object_class_property_add(klass, caps[i].name, caps[i].type,
                                         hiod_get_cap_prop, NULL, NULL,
                                         GINT_TO_POINTER(caps[i].cap));
        prop->description = g_strdup(caps[i].help);
    }
}

static void hiod_finalize(Object *obj)
{
    HostIOMMUDevice *hiod = HOST_IOMMU_DEVICE(obj);

    g_free(hiod->name);
    hiod->name = NULL;
}

static const TypeInfo host_iommu_device_types[] = {
    {
        .name = TYPE_HOST_IOMMU_DEVICE,
        .parent = TYPE_OBJECT,
        .instance_size = sizeof(HostIOMMUDevice),
        .instance_finalize = hiod_finalize,
        .abstract = true,
        .class_size = sizeof(HostIOMMUDeviceClass),
        .class_init = hiod_class_init,
    },
};

DEFINE_TYPES(host_iommu_device_types)
