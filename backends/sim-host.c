/*
 * -object sim-host,id=ID,...: run viommu on a simulated Linux host.
 * -object sim-pci-device,sim-host=ID,host=BDF,...: a PCI device on it.
 *
 * sim-host creates a libviommu-sim host from its properties when completed
 * and installs it into the host-OS layer (host/hostos.c), which from then on
 * serves /dev/iommu, /dev/vfio/... and the simulated sysfs from it.  One per
 * process: the host-OS layer has one "/".
 *
 * Every property maps to one key of the library's description (SimHostDesc,
 * SimDeviceDesc; docs/sim-host.md).  A value is checked by the library's own
 * parser on a scratch copy, plus the rules the library applies only when
 * the host or device is created, so that a bad value is refused when set,
 * with a message naming the object, the property and what is expected.
 * Properties are fixed once the object is complete.
 *
 * Lifetime: a sim-pci-device holds a reference on its sim-host, so the
 * host outlives its devices whatever the deletion order at exit.
 * object-del of a sim-host is refused while it has devices or while fds or
 * mappings handed out by the host-OS layer are open.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "qom/object_interfaces.h"
#include "qapi/qjson.h"
#include "host/hostos.h"
#include "viommu-sim.h"

#define TYPE_SIM_HOST "sim-host"
#define TYPE_SIM_PCI_DEVICE "sim-pci-device"

typedef struct SimHostObject {
    Object parent_obj;
    SimHostDesc desc;
    SimHost *host;              /* set by complete */
    unsigned n_devices;         /* sim-pci-device objects on the host */
} SimHostObject;

typedef struct SimPciDeviceObject {
    Object parent_obj;
    Object *host_obj;           /* link<sim-host>, strong */
    SimDeviceDesc desc;
    /*
     * Set by complete, cleared by removal.  @owner is a reference of our
     * own on the host object: link properties are released before
     * instance_finalize runs, and finalize still needs the host.
     */
    SimDevice *dev;
    SimHostObject *owner;
} SimPciDeviceObject;

DECLARE_INSTANCE_CHECKER(SimHostObject, SIM_HOST_OBJECT, TYPE_SIM_HOST)
DECLARE_INSTANCE_CHECKER(SimPciDeviceObject, SIM_PCI_DEVICE_OBJECT,
                         TYPE_SIM_PCI_DEVICE)

/* ------------------------------------------------------------------------
 * Properties backed by a description field
 * ------------------------------------------------------------------------ */

typedef enum KnobKind {
    KNOB_BOOL,          /* bool */
    KNOB_U16,           /* uint16_t */
    KNOB_U32,           /* uint32_t or unsigned (the same here) */
    KNOB_U64,           /* uint64_t, shown in hex to the parser */
    KNOB_INT,           /* int */
    KNOB_STR,           /* char[] */
    KNOB_IOMMU,         /* SimIommuType */
    KNOB_RESERVED,      /* SimHostDesc.n_reserved + reserved[] */
} KnobKind;

G_STATIC_ASSERT(sizeof(unsigned) == sizeof(uint32_t));

typedef struct Knob {
    const char *prop;       /* QOM property */
    const char *key;        /* the library's description key */
    KnobKind kind;
    size_t offset;          /* of the field in the description */
    const char *expects;    /* "must be ..." in error messages */
    const char *help;
    /*
     * Rules the library checks only when the host or device is created
     * (its parser checks syntax): checked at set time for a clear message.
     */
    bool (*check)(uint64_t num, const char *text);
} Knob;

static bool check_aw_bits(uint64_t num, const char *text)
{
    return num == 39 || num == 48 || num == 57;
}

/* 4 KiB always, nothing smaller: the simulated IOMMU's smallest page. */
static bool check_pgsizes(uint64_t num, const char *text)
{
    return (num & 0x1000) && !(num & 0xfff);
}

static bool check_root(uint64_t num, const char *text)
{
    return !text[0] || text[0] == '/';
}

/* DDDD:BB:DD.F or BB:DD.F, hexadecimal, slot <= 0x1f, function <= 7. */
static bool check_bdf(uint64_t num, const char *text)
{
    unsigned dom, bus, slot, fn;
    int n = -1;
    size_t len = strlen(text);

    if (len == 12) {
        sscanf(text, "%4x:%2x:%2x.%1x%n", &dom, &bus, &slot, &fn, &n);
    } else if (len == 7) {
        sscanf(text, "%2x:%2x.%1x%n", &bus, &slot, &fn, &n);
    }
    if (n < 0 || (size_t)n != len) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!g_ascii_isxdigit(text[i]) && text[i] != ':' && text[i] != '.') {
            return false;
        }
    }
    return slot <= 0x1f && fn <= 7;
}

static const char *const iommu_names[] = { "none", "vtd", "smmuv3", NULL };

#define HK(p, k, kind, f, exp, h, ...) \
    { p, k, kind, offsetof(SimHostDesc, f), exp, h, __VA_ARGS__ }
#define DK(p, k, kind, f, exp, h, ...) \
    { p, k, kind, offsetof(SimDeviceDesc, f), exp, h, __VA_ARGS__ }

static const Knob host_knobs[] = {
    HK("iommu", "iommu", KNOB_IOMMU, iommu, "one of vtd, smmuv3, none",
       "Type of the physical IOMMU: vtd (Intel VT-d), smmuv3 (Arm SMMUv3, "
       "hw-info only) or none (no vendor data)"),
    HK("aw-bits", "aw-bits", KNOB_U32, aw_bits, "39, 48 or 57",
       "Input address width of the IOMMU in bits (39, 48 or 57)",
       check_aw_bits),
    HK("nesting", "nesting", KNOB_BOOL, nesting, "on or off",
       "Nested translation (NEST_PARENT and nested HWPTs)"),
    HK("fs1gp", "fs1gp", KNOB_BOOL, fs1gp, "on or off",
       "First-stage 1 GiB pages (VT-d CAP.FS1GP)"),
    HK("dirty-tracking", "dirty-tracking", KNOB_BOOL, dirty_tracking,
       "on or off", "Dirty tracking of IOMMU page tables"),
    HK("pasid-bits", "pasid-bits", KNOB_U32, pasid_bits, "0 to 20",
       "PASID width in bits, 0 for no PASID support"),
    HK("erratum-spr17", "erratum-spr17", KNOB_BOOL, erratum_spr17,
       "on or off", "Report the Intel SPR17 erratum (no read-only "
       "mappings on a nesting parent)"),
    HK("pgsizes", "pgsizes", KNOB_U64, pgsizes,
       "a bitmap of supported page sizes including 4 KiB",
       "Supported IOMMU page sizes as a bitmap (0x40201000 = 4K, 2M, 1G)",
       check_pgsizes),
    HK("reserved-regions", "reserved", KNOB_RESERVED, n_reserved,
       "START-LAST[:START-LAST...] (inclusive, at most 16) or none",
       "Reserved IOVA ranges START-LAST[:START-LAST...] or none"),
    HK("iommufd", "iommufd", KNOB_BOOL, iommufd, "on or off",
       "/dev/iommu exists (off: a host with legacy VFIO only)"),
    HK("cdev", "cdev", KNOB_BOOL, cdev, "on or off",
       "VFIO device cdevs /dev/vfio/devices/vfioN exist"),
    HK("dma-entry-limit", "dma-entry-limit", KNOB_U32, dma_entry_limit,
       "a positive number of mappings",
       "Maximum number of DMA mappings per container or IOAS"),
    HK("root", "root", KNOB_STR, root, "an absolute directory path",
       "Directory holding the simulated tree (default: a new temporary "
       "directory, removed at exit)", check_root),
};

static const Knob device_knobs[] = {
    DK("host", "bdf", KNOB_STR, bdf, "a PCI address DDDD:BB:DD.F",
       "PCI address of the simulated host device, e.g. 0000:02:00.0 "
       "(required)",
       check_bdf),
    DK("iommu-group", "group", KNOB_INT, group,
       "an IOMMU group number, or -1 for a group of its own",
       "IOMMU group number; devices may share one (-1: a group of its own)"),
    DK("model", "model", KNOB_STR, model, "a device model name (dma)",
       "Device model (dma: a DMA engine with MSI-X)"),
    DK("vendor-id", "vendor", KNOB_U16, vendor_id, "a 16-bit vendor id",
       "PCI vendor id (0: the model's)"),
    DK("device-id", "device", KNOB_U16, device_id, "a 16-bit device id",
       "PCI device id (0: the model's)"),
    DK("pasid-bits", "pasid-bits", KNOB_INT, pasid_bits,
       "-1 or a PASID width up to the host's",
       "PASID width of the device (-1: the host's)"),
    DK("dirty-tracking", "dirty", KNOB_BOOL, dirty, "on or off",
       "The device's IOMMU supports dirty tracking"),
};

/* The description an object's knobs live in, and how the library parses it. */
typedef struct KnobTarget {
    void *desc;
    size_t size;
    int (*parse)(void *desc, const char *text);
    bool created;
} KnobTarget;

static int parse_host_desc(void *desc, const char *text)
{
    return sim_host_desc_parse(desc, text);
}

static int parse_device_desc(void *desc, const char *text)
{
    return sim_device_desc_parse(desc, text);
}

static void knob_target(Object *obj, KnobTarget *t)
{
    SimHostObject *h = (SimHostObject *)object_dynamic_cast(obj,
                                                            TYPE_SIM_HOST);

    if (h) {
        *t = (KnobTarget){ &h->desc, sizeof(h->desc), parse_host_desc,
                           h->host != NULL };
    } else {
        SimPciDeviceObject *d = SIM_PCI_DEVICE_OBJECT(obj);

        *t = (KnobTarget){ &d->desc, sizeof(d->desc), parse_device_desc,
                           d->dev != NULL };
    }
}

/* "sim-host 'h0'", or just the type before the object has an id. */
static char *obj_label(Object *obj)
{
    const char *id = object_get_canonical_path_component(obj);

    return id ? g_strdup_printf("%s '%s'", object_get_typename(obj), id)
              : g_strdup(object_get_typename(obj));
}

static char *reserved_to_text(const SimHostDesc *desc)
{
    GString *s;

    if (!desc->n_reserved) {
        return g_strdup("none");
    }
    s = g_string_new(NULL);
    for (unsigned i = 0; i < desc->n_reserved && i < SIM_MAX_RESERVED; i++) {
        g_string_append_printf(s, "%s0x%" PRIx64 "-0x%" PRIx64,
                               i ? ":" : "", desc->reserved[i].start,
                               desc->reserved[i].last);
    }
    return g_string_free(s, false);
}

static JsonNode *knob_get_json(const Knob *k, const void *desc)
{
    const char *field = (const char *)desc + k->offset;

    switch (k->kind) {
    case KNOB_BOOL:
        return qjson_new_bool(*(const bool *)field);
    case KNOB_U16:
        return qjson_new_uint(*(const uint16_t *)field);
    case KNOB_U32:
        return qjson_new_uint(*(const uint32_t *)field);
    case KNOB_U64:
        return qjson_new_uint(*(const uint64_t *)field);
    case KNOB_INT:
        return qjson_new_int(*(const int *)field);
    case KNOB_STR:
        return qjson_new_str(field);
    case KNOB_IOMMU: {
        unsigned t = *(const SimIommuType *)field;

        return qjson_new_str(t < G_N_ELEMENTS(iommu_names) - 1 ?
                             iommu_names[t] : "unknown");
    }
    case KNOB_RESERVED: {
        g_autofree char *text = reserved_to_text(desc);

        return qjson_new_str(text);
    }
    }
    g_assert_not_reached();
}

static bool knob_get(Object *obj, ObjectProperty *prop, JsonNode **value,
                     Error **errp)
{
    const Knob *k = prop->opaque;
    KnobTarget t;

    knob_target(obj, &t);
    *value = knob_get_json(k, t.desc);
    return true;
}

/* An integer JSON value within [min, max]; false if not one. */
static bool json_to_int(JsonNode *value, int64_t min, uint64_t max,
                        uint64_t *out)
{
    int64_t v;

    if (!qjson_is_int(value)) {
        return false;
    }
    v = json_node_get_int(value);
    *out = (uint64_t)v;
    if (qjson_is_uint_node(value) || v >= 0) {
        return *out <= max;
    }
    return v >= min;
}

/*
 * The text the library's parser takes for @value (and its number, for
 * integers), or NULL if @value has the wrong JSON type or range for the
 * property: a type error, worded as QEMU words them.
 */
static char *knob_value_text(const Knob *k, const char *label,
                             JsonNode *value, uint64_t *num, Error **errp)
{
    static const struct {
        const char *type;
        int64_t min;
        uint64_t max;
    } ranges[] = {
        [KNOB_U32] = { "uint32", 0, UINT32_MAX },
        [KNOB_U16] = { "uint16", 0, UINT16_MAX },
        [KNOB_U64] = { "uint64", 0, UINT64_MAX },
        [KNOB_INT] = { "int32", INT32_MIN, INT32_MAX },
    };

    *num = 0;
    switch (k->kind) {
    case KNOB_BOOL:
        if (!qjson_is_bool(value)) {
            error_setg(errp, "%s: invalid parameter type for '%s', "
                       "expected: boolean", label, k->prop);
            return NULL;
        }
        *num = json_node_get_boolean(value);
        return g_strdup(*num ? "on" : "off");
    case KNOB_U32:
    case KNOB_U16:
    case KNOB_U64:
    case KNOB_INT:
        if (!json_to_int(value, ranges[k->kind].min, ranges[k->kind].max,
                         num)) {
            error_setg(errp, "%s: parameter '%s' expects %s", label,
                       k->prop, ranges[k->kind].type);
            return NULL;
        }
        if (k->kind == KNOB_INT) {
            return g_strdup_printf("%" PRId64, (int64_t)*num);
        }
        /* the parser reads hex as the bitmap it is */
        return g_strdup_printf(k->kind == KNOB_U64 ? "0x%" PRIx64
                               : "%" PRIu64, *num);
    case KNOB_STR:
    case KNOB_IOMMU:
    case KNOB_RESERVED:
        if (!qjson_is_str(value)) {
            error_setg(errp, "%s: invalid parameter type for '%s', "
                       "expected: string", label, k->prop);
            return NULL;
        }
        return g_strdup(json_node_get_string(value));
    }
    g_assert_not_reached();
}

static bool knob_set(Object *obj, ObjectProperty *prop, JsonNode *value,
                     Error **errp)
{
    const Knob *k = prop->opaque;
    g_autofree char *label = obj_label(obj);
    g_autofree char *text = NULL;
    g_autofree char *kv = NULL;
    g_autofree char *scratch = NULL;
    KnobTarget t;
    uint64_t num;
    bool ok;

    knob_target(obj, &t);
    if (t.created) {
        error_setg(errp, "%s: property '%s' cannot be changed once the "
                   "object is created", label, k->prop);
        return false;
    }
    text = knob_value_text(k, label, value, &num, errp);
    if (!text) {
        return false;
    }
    scratch = g_memdup2(t.desc, t.size);
    if (k->kind == KNOB_INT && (int64_t)num < 0) {
        /* -1 is "the default" (own group, host's PASID width) */
        ok = (int64_t)num == -1;
        if (ok) {
            *(int *)(scratch + k->offset) = -1;
        }
    } else {
        /* the value must not smuggle further keys into the description */
        kv = g_strdup_printf("%s=%s", k->key, text);
        ok = !strpbrk(text, ",;=") && t.parse(scratch, kv) == 0 &&
             (!k->check || k->check(num, text));
    }
    if (!ok) {
        error_setg(errp, "%s: property '%s' must be %s, not '%s'", label,
                   k->prop, k->expects, text);
        return false;
    }
    memcpy(t.desc, scratch, t.size);
    return true;
}

static const char *knob_type(const Knob *k)
{
    switch (k->kind) {
    case KNOB_BOOL:
        return "bool";
    case KNOB_U32:
        return "uint32";
    case KNOB_U16:
        return "uint16";
    case KNOB_U64:
        return "uint64";
    case KNOB_INT:
        return "int32";
    case KNOB_IOMMU:
        return "SimHostIommu";
    case KNOB_STR:
    case KNOB_RESERVED:
        break;
    }
    return "str";
}

/* Class properties for @knobs, with defaults from @defaults. */
static void knobs_add(ObjectClass *klass, const Knob *knobs, size_t n,
                      const void *defaults)
{
    for (size_t i = 0; i < n; i++) {
        const Knob *k = &knobs[i];
        ObjectProperty *prop;

        prop = object_class_property_add(klass, k->prop, knob_type(k),
                                         knob_get, knob_set, NULL,
                                         (void *)k);
        prop->description = g_strdup(k->help);
        if (k->kind == KNOB_IOMMU) {
            prop->enum_values = iommu_names;
        }
        /* an empty string is "required" (host) or "generated" (root) */
        if (k->kind != KNOB_STR || *((const char *)defaults + k->offset)) {
            prop->defval = knob_get_json(k, defaults);
        }
    }
}

/* ------------------------------------------------------------------------
 * sim-host
 * ------------------------------------------------------------------------ */

static bool sim_host_get_root(Object *obj, ObjectProperty *prop,
                              JsonNode **value, Error **errp)
{
    SimHostObject *h = SIM_HOST_OBJECT(obj);

    if (h->host) {
        *value = qjson_new_str(sim_host_root(h->host));
        return true;
    }
    return knob_get(obj, prop, value, errp);
}

static bool sim_host_get_vtd_reg(Object *obj, ObjectProperty *prop,
                                 JsonNode **value, Error **errp)
{
    SimHostObject *h = SIM_HOST_OBJECT(obj);
    uint64_t cap = 0, ecap = 0;

    if (h->host) {
        sim_host_vtd_regs(h->host, &cap, &ecap);
    }
    *value = qjson_new_uint(prop->opaque ? ecap : cap);
    return true;
}

static bool sim_host_get_nr_hwpts(Object *obj, ObjectProperty *prop,
                                  JsonNode **value, Error **errp)
{
    SimHostObject *h = SIM_HOST_OBJECT(obj);

    *value = qjson_new_uint(h->host ? sim_host_nr_hwpts(h->host) : 0);
    return true;
}

/*
 * x-inject "OP:ERRNO[:COUNT]" (docs/sim-host.md): the next COUNT (default
 * 1) calls of OP fail with ERRNO; "" clears every op.  A test hook, so it
 * may be set at any time once the host exists.
 */
static bool sim_host_set_inject(Object *obj, ObjectProperty *prop,
                                JsonNode *value, Error **errp)
{
    static const char *const ops[SIM_INJECT_OP_MAX] = {
        [SIM_INJECT_HWPT_ALLOC] = "hwpt-alloc",
        [SIM_INJECT_ATTACH] = "attach",
        [SIM_INJECT_HWPT_INVALIDATE] = "hwpt-invalidate",
    };
    SimHostObject *h = SIM_HOST_OBJECT(obj);
    g_autofree char *label = obj_label(obj);
    g_auto(GStrv) parts = NULL;
    const char *text;
    uint64_t err = 0, count = 1;
    int op = -1;

    if (!qjson_is_str(value)) {
        error_setg(errp, "%s: invalid parameter type for 'x-inject', "
                   "expected: string", label);
        return false;
    }
    if (!h->host) {
        error_setg(errp, "%s: 'x-inject' needs the host to exist", label);
        return false;
    }
    text = json_node_get_string(value);
    if (!*text) {
        for (int i = 0; i < SIM_INJECT_OP_MAX; i++) {
            sim_host_inject_error(h->host, i, 0, 0);
        }
        return true;
    }
    parts = g_strsplit(text, ":", 0);
    for (int i = 0; i < SIM_INJECT_OP_MAX && parts[0]; i++) {
        if (!strcmp(parts[0], ops[i])) {
            op = i;
        }
    }
    if (op < 0 || !parts[1] || (parts[2] && parts[3]) ||
        !g_ascii_string_to_unsigned(parts[1], 10, 1, 4095, &err, NULL) ||
        (parts[2] && !g_ascii_string_to_unsigned(parts[2], 10, 0,
                                                 UINT32_MAX, &count,
                                                 NULL))) {
        error_setg(errp, "%s: property 'x-inject' must be "
                   "OP:ERRNO[:COUNT] with OP hwpt-alloc, attach or "
                   "hwpt-invalidate, ERRNO 1-4095, or \"\", not '%s'",
                   label, text);
        return false;
    }
    sim_host_inject_error(h->host, op, (int)err, (unsigned)count);
    return true;
}

static bool sim_host_complete(UserCreatable *uc, Error **errp)
{
    SimHostObject *h = SIM_HOST_OBJECT(uc);
    g_autofree char *label = obj_label(OBJECT(uc));
    SimHost *host;
    int r;

    /* the one rule between properties (a cdev is bound to an iommufd) */
    if (h->desc.cdev && !h->desc.iommufd) {
        error_setg(errp, "%s: property 'cdev' must be off when 'iommufd' is "
                   "off", label);
        return false;
    }
    if (hostos_is_simulated()) {
        error_setg(errp, "%s: a simulated host already exists (one "
                   "sim-host per process)", label);
        return false;
    }
    r = sim_host_new(&h->desc, &host);
    if (r < 0) {
        error_setg_errno(errp, -r, "%s: cannot create the simulated host",
                         label);
        return false;
    }
    r = hostos_set_sim(host);
    if (r < 0) {
        sim_host_free(host);
        error_setg(errp, "%s: a simulated host already exists (one "
                   "sim-host per process)", label);
        return false;
    }
    h->host = host;
    return true;
}

static bool sim_host_can_be_deleted(UserCreatable *uc)
{
    SimHostObject *h = SIM_HOST_OBJECT(uc);

    return h->n_devices == 0 && (!h->host || hostos_sim_users() == 0);
}

static void sim_host_init(Object *obj)
{
    sim_host_desc_init(&SIM_HOST_OBJECT(obj)->desc);
}

static void sim_host_finalize(Object *obj)
{
    SimHostObject *h = SIM_HOST_OBJECT(obj);

    if (h->host) {
        /* waits for calls in flight; later calls reach the real kernel */
        hostos_clear_sim(h->host);
        sim_host_free(h->host);
        h->host = NULL;
    }
}

static void sim_host_class_init(ObjectClass *klass, const void *data)
{
    UserCreatableClass *ucc = (UserCreatableClass *)
        object_class_dynamic_cast(klass, TYPE_USER_CREATABLE);
    SimHostDesc defaults;
    ObjectProperty *prop;

    ucc->complete = sim_host_complete;
    ucc->can_be_deleted = sim_host_can_be_deleted;
    sim_host_desc_init(&defaults);
    knobs_add(klass, host_knobs, G_N_ELEMENTS(host_knobs), &defaults);
    /* the root in use is known only once created */
    object_class_property_find(klass, "root")->get = sim_host_get_root;

    prop = object_class_property_add(klass, "vtd-cap", "uint64",
                                     sim_host_get_vtd_reg, NULL, NULL, NULL);
    prop->description = g_strdup("VT-d CAP register reported by "
                                 "IOMMU_GET_HW_INFO (read-only)");
    prop = object_class_property_add(klass, "vtd-ecap", "uint64",
                                     sim_host_get_vtd_reg, NULL, NULL,
                                     (void *)1);
    prop->description = g_strdup("VT-d ECAP register reported by "
                                 "IOMMU_GET_HW_INFO (read-only)");
    prop = object_class_property_add(klass, "nr-hwpts", "uint32",
                                     sim_host_get_nr_hwpts, NULL, NULL, NULL);
    prop->description = g_strdup("HWPT objects alive in the host's iommufd "
                                 "contexts (read-only)");
    prop = object_class_property_add(klass, "x-inject", "str", NULL,
                                     sim_host_set_inject, NULL, NULL);
    prop->description = g_strdup("Test hook: OP:ERRNO[:COUNT] makes the next "
                                 "COUNT OP calls fail (OP: hwpt-alloc, "
                                 "attach, hwpt-invalidate); \"\" clears "
                                 "(write-only)");
}

/* ------------------------------------------------------------------------
 * sim-pci-device
 * ------------------------------------------------------------------------ */

static bool sim_pci_device_check_host(const Object *obj, const char *name,
                                      Object *val, Error **errp)
{
    const SimPciDeviceObject *d = (const SimPciDeviceObject *)obj;

    if (d->dev) {
        g_autofree char *label = obj_label((Object *)obj);

        error_setg(errp, "%s: property '%s' cannot be changed once the "
                   "object is created", label, name);
        return false;
    }
    return true;
}

static bool sim_pci_device_complete(UserCreatable *uc, Error **errp)
{
    SimPciDeviceObject *d = SIM_PCI_DEVICE_OBJECT(uc);
    g_autofree char *label = obj_label(OBJECT(uc));
    g_autofree char *host_label = NULL;
    SimHostObject *h;
    int r;

    if (!d->host_obj) {
        error_setg(errp, "%s: property 'sim-host' is required", label);
        return false;
    }
    if (!d->desc.bdf[0]) {
        error_setg(errp, "%s: property 'host' is required", label);
        return false;
    }
    h = SIM_HOST_OBJECT(d->host_obj);
    host_label = obj_label(d->host_obj);
    if (!h->host) {
        error_setg(errp, "%s: %s is not created", label, host_label);
        return false;
    }
    r = sim_host_add_device(h->host, &d->desc, &d->dev);
    switch (r) {
    case 0:
        h->n_devices++;
        d->owner = SIM_HOST_OBJECT(object_ref(h));
        return true;
    case -EEXIST:
        error_setg(errp, "%s: %s already has a device at %s", label,
                   host_label, d->desc.bdf);
        break;
    case -ENOSPC:
        error_setg(errp, "%s: %s has no room for more devices (at most %d)",
                   label, host_label, SIM_MAX_DEVICES);
        break;
    case -EINVAL:
        /* the other properties were checked when set */
        error_setg(errp, "%s: property 'model' must be a device model of "
                   "the simulated host (dma), not '%s'", label,
                   d->desc.model);
        break;
    default:
        error_setg_errno(errp, -r, "%s: cannot add the device to %s", label,
                         host_label);
        break;
    }
    d->dev = NULL;
    return false;
}

/*
 * Only the library knows whether the device's group or device fd is open,
 * and it answers by refusing the removal with EBUSY; so the question "can
 * it go?" is answered by removing it.  user_creatable_del() unparents the
 * object right after a true answer.
 */
static bool sim_pci_device_can_be_deleted(UserCreatable *uc)
{
    SimPciDeviceObject *d = SIM_PCI_DEVICE_OBJECT(uc);

    if (!d->dev) {
        return true;
    }
    if (sim_host_remove_device(d->owner->host, d->dev) < 0) {
        return false;
    }
    d->dev = NULL;
    d->owner->n_devices--;
    return true;
}

static void sim_pci_device_init(Object *obj)
{
    SimPciDeviceObject *d = SIM_PCI_DEVICE_OBJECT(obj);
    ObjectProperty *prop;

    sim_device_desc_init(&d->desc);
    prop = object_property_add_link(obj, "sim-host", TYPE_SIM_HOST,
                                    &d->host_obj, sim_pci_device_check_host,
                                    OBJ_PROP_LINK_STRONG);
    prop->description = g_strdup("ID of the sim-host the device is on "
                                 "(required)");
}

static void sim_pci_device_finalize(Object *obj)
{
    SimPciDeviceObject *d = SIM_PCI_DEVICE_OBJECT(obj);

    /* at exit a device may still be open (EBUSY): it goes with the host */
    if (d->dev) {
        sim_host_remove_device(d->owner->host, d->dev);
        d->dev = NULL;
        d->owner->n_devices--;
    }
    if (d->owner) {
        object_unref(d->owner);
        d->owner = NULL;
    }
}

static void sim_pci_device_class_init(ObjectClass *klass, const void *data)
{
    UserCreatableClass *ucc = (UserCreatableClass *)
        object_class_dynamic_cast(klass, TYPE_USER_CREATABLE);
    SimDeviceDesc defaults;

    ucc->complete = sim_pci_device_complete;
    ucc->can_be_deleted = sim_pci_device_can_be_deleted;
    sim_device_desc_init(&defaults);
    knobs_add(klass, device_knobs, G_N_ELEMENTS(device_knobs), &defaults);
}

static const TypeInfo sim_host_types[] = {
    {
        .name = TYPE_SIM_HOST,
        .parent = TYPE_OBJECT,
        .instance_size = sizeof(SimHostObject),
        .instance_init = sim_host_init,
        .instance_finalize = sim_host_finalize,
        .class_init = sim_host_class_init,
        .interfaces = (const InterfaceInfo[]) {
            { TYPE_USER_CREATABLE },
            { NULL }
        },
    },
    {
        .name = TYPE_SIM_PCI_DEVICE,
        .parent = TYPE_OBJECT,
        .instance_size = sizeof(SimPciDeviceObject),
        .instance_init = sim_pci_device_init,
        .instance_finalize = sim_pci_device_finalize,
        .class_init = sim_pci_device_class_init,
        .interfaces = (const InterfaceInfo[]) {
            { TYPE_USER_CREATABLE },
            { NULL }
        },
    },
};

DEFINE_TYPES(sim_host_types)
