/*
 * intel-iommu: the Intel VT-d DMA and interrupt remapping unit of the q35
 * machine (VT-d 10.4; facts A, B; QEMU's properties, qemu_behaviour §4).
 *
 * This file holds the device: properties and the configuration they
 * imply, CAP/ECAP, the register file at 0xfed90000 with its reset values
 * and write masks, the GCMD/GSTS protocol, and the per-device address
 * spaces handed to the PCI bus.  Translation and caches are in
 * intel_iommu_translate.c, fault recording in intel_iommu_fault.c,
 * invalidation in intel_iommu_inval.c, interrupt remapping in
 * intel_iommu_ir.c, assigned devices on host nested HWPTs (x-flts) in
 * intel_iommu_nest.c.
 *
 * The register file is a byte array with three per-byte masks (writable,
 * write-1-to-clear, write-only).  A guest write first goes through the
 * masks, then the registers it touched act; so an 8-byte write of two
 * 32-bit registers is two register writes, and every size and offset the
 * memory core lets through (4 or 8 bytes, aligned) is well defined:
 * undefined offsets read 0 and ignore writes.
 */
#include <errno.h>
#include <inttypes.h>

#include "intel_iommu_internal.h"
#include "hw/i386/apic-msi.h"
#include "hw/pci/pci_bus.h"
#include "hw/boards.h"
#include "hw/pci/pci_host.h"
#include "hw/qdev-properties.h"
#include "system/host_iommu_device.h"
#include "system/iommufd.h"

/* --- Configuration (qemu_behaviour §4) ----------------------------------- */

static bool vtd_decide_config(IntelIOMMUState *s, Error **errp)
{
    if (s->aw_bits != 39 && s->aw_bits != 48) {
        error_setg(errp, "intel-iommu: aw-bits must be 39 or 48, not %u",
                   s->aw_bits);
        return false;
    }
    if (s->flts && !s->scalable_mode) {
        error_setg(errp, "intel-iommu: x-flts=on requires "
                   "x-scalable-mode=on");
        return false;
    }
    if (s->flts && s->aw_bits != 48) {
        error_setg(errp, "intel-iommu: aw-bits must be 48 with x-flts=on, "
                   "not %u", s->aw_bits);
        return false;
    }
    if (s->scalable_mode && !s->dma_drain) {
        error_setg(errp, "intel-iommu: x-scalable-mode=on requires "
                   "dma-drain=on");
        return false;
    }
    if (s->pasid && !s->scalable_mode) {
        error_setg(errp, "intel-iommu: x-pasid-mode=on requires "
                   "x-scalable-mode=on");
        return false;
    }
    /* No in-kernel irqchip constraint here: auto means on. */
    s->ir_supported = s->intremap != ON_OFF_AUTO_OFF;
    if (s->intr_eim == ON_OFF_AUTO_ON && !s->ir_supported) {
        error_setg(errp, "intel-iommu: eim=on requires intremap=on");
        return false;
    }
    s->eim_supported = s->ir_supported && s->intr_eim != ON_OFF_AUTO_OFF;
    return true;
}

/*
 * CAP/ECAP from the properties (facts B; QEMU's vtd_cap_init, plus
 * CAP.NFR for viommu's four records).  Scalable mode with x-flts also
 * advertises second-stage and nested translation, so that PGTT=011 works
 * for emulated devices (docs/intel-iommu.md).
 */
static void vtd_cap_init(IntelIOMMUState *s)
{
    uint64_t cap, ecap;

    cap = VTD_CAP_FRO(VTD_FRO) | VTD_CAP_NFR(VTD_FRCD_NUM - 1) |
          VTD_CAP_ND(VTD_ND) | VTD_CAP_MAMV(VTD_MAMV) | VTD_CAP_PSI |
          VTD_CAP_SLLPS_2M | VTD_CAP_SLLPS_1G | VTD_CAP_MGAW(s->aw_bits) |
          VTD_CAP_ESRTPS;
    if (s->dma_drain) {
        cap |= VTD_CAP_DRD | VTD_CAP_DWD;
    }
    if (s->dma_translation) {
        cap |= VTD_CAP_SAGAW_39;
        if (s->aw_bits == 48) {
            cap |= VTD_CAP_SAGAW_48;
        }
    }
    if (s->caching_mode) {
        cap |= VTD_CAP_CM;
    }
    if (s->flts && s->fs1gp) {
        cap |= VTD_CAP_FL1GP;
    }

    ecap = VTD_ECAP_QI | VTD_ECAP_IRO(VTD_IRO);
    if (s->ir_supported) {
        ecap |= VTD_ECAP_IR | VTD_ECAP_MHMV(VTD_MHMV);
        if (s->eim_supported) {
            ecap |= VTD_ECAP_EIM;
        }
    }
    if (s->device_iotlb) {
        ecap |= VTD_ECAP_DT;
    }
    if (s->pt) {
        ecap |= VTD_ECAP_PT;
    }
    if (s->scalable_mode) {
        ecap |= VTD_ECAP_SMTS | VTD_ECAP_SLTS;
        ecap |= s->flts ? VTD_ECAP_FLTS | VTD_ECAP_NEST : VTD_ECAP_SRS;
    }
    if (s->snoop_control) {
        ecap |= VTD_ECAP_SC;
    }
    if (s->pasid) {
        ecap |= VTD_ECAP_PASID | VTD_ECAP_PSS(VTD_PSS) | VTD_ECAP_RPS;
    }
    s->cap = cap;
    s->ecap = ecap;
}

/* --- Register file --------------------------------------------------------- */

static void vtd_define_quad(IntelIOMMUState *s, unsigned off, uint64_t val,
                            uint64_t wmask, uint64_t w1cmask, uint64_t womask)
{
    for (int i = 0; i < 8; i++) {
        s->regs[off + i] = val >> (8 * i);
        s->wmask[off + i] = wmask >> (8 * i);
        s->w1cmask[off + i] = w1cmask >> (8 * i);
        s->womask[off + i] = womask >> (8 * i);
    }
}

static void vtd_define_long(IntelIOMMUState *s, unsigned off, uint32_t val,
                            uint32_t wmask, uint32_t w1cmask, uint32_t womask)
{
    for (int i = 0; i < 4; i++) {
        s->regs[off + i] = val >> (8 * i);
        s->wmask[off + i] = wmask >> (8 * i);
        s->w1cmask[off + i] = w1cmask >> (8 * i);
        s->womask[off + i] = womask >> (8 * i);
    }
}

/* Reset values and masks (facts A.5). */
static void vtd_init_regs(IntelIOMMUState *s)
{
    uint32_t uaddr_wmask = s->eim_supported ? 0xffffffffu : 0;

    memset(s->regs, 0, sizeof(s->regs));
    memset(s->wmask, 0, sizeof(s->wmask));
    memset(s->w1cmask, 0, sizeof(s->w1cmask));
    memset(s->womask, 0, sizeof(s->womask));

    vtd_define_long(s, DMAR_VER_REG, VTD_VERSION, 0, 0, 0);
    vtd_define_quad(s, DMAR_CAP_REG, s->cap, 0, 0, 0);
    vtd_define_quad(s, DMAR_ECAP_REG, s->ecap, 0, 0, 0);
    /* GCMD is acted on, never stored: it reads 0. */
    vtd_define_long(s, DMAR_GCMD_REG, 0, 0, 0, 0);
    vtd_define_long(s, DMAR_GSTS_REG, 0, 0, 0, 0);
    vtd_define_quad(s, DMAR_RTADDR_REG, 0, VTD_RTADDR_WMASK, 0, 0);
    vtd_define_quad(s, DMAR_CCMD_REG, 0, VTD_CCMD_WMASK, 0,
                    0x3ffff0000ULL);                /* 33:16 write-only */
    vtd_define_long(s, DMAR_FSTS_REG, 0, 0, VTD_FSTS_W1C, 0);
    vtd_define_long(s, DMAR_FECTL_REG, VTD_ECTL_IM, VTD_ECTL_IM, 0, 0);
    vtd_define_long(s, DMAR_FEDATA_REG, 0, 0xffff, 0, 0);
    vtd_define_long(s, DMAR_FEADDR_REG, 0, 0xfffffffcu, 0, 0);
    vtd_define_long(s, DMAR_FEUADDR_REG, 0, uaddr_wmask, 0, 0);
    vtd_define_quad(s, DMAR_IQH_REG, 0, 0, 0, 0);
    vtd_define_quad(s, DMAR_IQT_REG, 0, VTD_IQT_WMASK, 0, 0);
    vtd_define_quad(s, DMAR_IQA_REG, 0, VTD_IQA_WMASK, 0, 0);
    vtd_define_long(s, DMAR_ICS_REG, 0, 0, VTD_ICS_IWC, 0);
    vtd_define_long(s, DMAR_IECTL_REG, VTD_ECTL_IM, VTD_ECTL_IM, 0, 0);
    vtd_define_long(s, DMAR_IEDATA_REG, 0, 0xffffffffu, 0, 0);
    vtd_define_long(s, DMAR_IEADDR_REG, 0, 0xfffffffcu, 0, 0);
    vtd_define_long(s, DMAR_IEUADDR_REG, 0, uaddr_wmask, 0, 0);
    vtd_define_quad(s, DMAR_IQERCD_REG, 0, 0, 0, 0);
    vtd_define_quad(s, DMAR_IRTA_REG, 0, s->ir_supported ? VTD_IRTA_WMASK : 0,
                    0, 0);
    vtd_define_quad(s, DMAR_IVA_REG, 0, VTD_IVA_WMASK, 0, ~0ULL);
    vtd_define_quad(s, DMAR_IOTLB_REG, 0, VTD_IOTLB_WMASK, 0, 0);
    for (unsigned i = 0; i < VTD_FRCD_NUM; i++) {
        vtd_define_quad(s, DMAR_FRCD_REG(i), 0, 0, 0, 0);
        vtd_define_quad(s, DMAR_FRCD_REG(i) + 8, 0, 0, VTD_FRCD_HI_F, 0);
    }
}

static uint64_t vtd_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    IntelIOMMUState *s = opaque;
    uint64_t val = 0;

    if (addr >= VTD_MMIO_SIZE || size > VTD_MMIO_SIZE - addr) {
        return 0;
    }
    for (unsigned i = 0; i < size; i++) {
        val |= (uint64_t)(s->regs[addr + i] & ~s->womask[addr + i]) << (8 * i);
    }
    return val;
}

/* Whether persistent GCMD bit differs from its GSTS bit; sets GSTS. */
static bool vtd_gcmd_toggles(IntelIOMMUState *s, uint32_t status,
                             uint32_t val, uint32_t bit, bool *en)
{
    *en = val & bit;
    if (*en == !!(status & bit)) {
        return false;
    }
    vtd_set_clear_mask_long(s, DMAR_GSTS_REG, *en ? 0 : bit, *en ? bit : 0);
    return true;
}

/* GCMD (facts A.2): act on persistent bits that differ from GSTS and on
 * every one-shot bit written as 1 (re-latching is harmless).  GCMD and
 * GSTS bits have the same positions. */
static void vtd_handle_gcmd_write(IntelIOMMUState *s, uint32_t val)
{
    uint32_t status = vtd_get_long(s, DMAR_GSTS_REG);
    bool en;

    val &= VTD_GCMD_MASK;
    if (val & VTD_GCMD_SRTP) {
        s->root = vtd_get_quad(s, DMAR_RTADDR_REG) & VTD_RTADDR_ADDR_MASK;
        s->root_ttm = (vtd_get_quad(s, DMAR_RTADDR_REG) &
                       VTD_RTADDR_TTM_MASK) >> VTD_RTADDR_TTM_SHIFT;
        s->root_set = true;
        vtd_set_clear_mask_long(s, DMAR_GSTS_REG, 0, VTD_GSTS_RTPS);
        /* CAP.ESRTPS: SRTP also drops every translation cache. */
        vtd_reset_caches(s);
        vtd_switch_address_space_all(s);
        vtd_notify_context_change(s, NULL);
        vtd_nest_sync_all(s);
    }
    if (vtd_gcmd_toggles(s, status, val, VTD_GCMD_TE, &en)) {
        s->dmar_enabled = en;
        if (!en) {
            s->next_frcd = 0;       /* as QEMU */
        }
        vtd_reset_caches(s);
        vtd_switch_address_space_all(s);
        vtd_notify_context_change(s, NULL);
        vtd_nest_sync_all(s);
    }
    if (vtd_gcmd_toggles(s, status, val, VTD_GCMD_QIE, &en)) {
        s->qi_enabled = en;
        vtd_handle_gcmd_qie(s, en);
    }
    if (!s->ir_supported) {
        return;
    }
    if (val & VTD_GCMD_SIRTP) {
        vtd_ir_handle_sirtp(s);
        vtd_set_clear_mask_long(s, DMAR_GSTS_REG, 0, VTD_GSTS_IRTPS);
    }
    if (vtd_gcmd_toggles(s, status, val, VTD_GCMD_IRE, &en)) {
        s->intr_enabled = en;
        vtd_ir_handle_ire(s, en);
    }
    vtd_gcmd_toggles(s, status, val, VTD_GCMD_CFI, &en);
}

/* The side effects of a 32-bit register write, after the masks. */
static void vtd_reg_written(IntelIOMMUState *s, unsigned off, uint32_t val)
{
    switch (off) {
    case DMAR_GCMD_REG:
        vtd_handle_gcmd_write(s, val);
        return;
    case DMAR_CCMD_REG_HI:
        if (vtd_get_quad(s, DMAR_CCMD_REG) & VTD_CCMD_ICC) {
            vtd_handle_ccmd_write(s);
        }
        return;
    case DMAR_FSTS_REG:
        vtd_fault_status_update(s);
        return;
    case DMAR_FECTL_REG:
        vtd_fectl_write(s);
        return;
    case DMAR_IQT_REG:
        vtd_handle_iqt_write(s);
        return;
    case DMAR_ICS_REG:
        vtd_handle_ics_write(s);
        return;
    case DMAR_IECTL_REG:
        vtd_handle_iectl_write(s);
        return;
    case DMAR_IOTLB_REG_HI:
        if (vtd_get_quad(s, DMAR_IOTLB_REG) & VTD_TLB_IVT) {
            vtd_handle_iotlb_write(s);
        }
        return;
    }
    if (off >= DMAR_FRCD_REG_0 && off < DMAR_REG_END &&
        (off - DMAR_FRCD_REG_0) % 16 == 12) {
        vtd_fault_status_update(s);
    }
}

static void vtd_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                           unsigned size)
{
    IntelIOMMUState *s = opaque;

    /* The memory core passes 4- or 8-byte aligned accesses only. */
    if (addr >= VTD_MMIO_SIZE || size > VTD_MMIO_SIZE - addr ||
        (size != 4 && size != 8)) {
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        unsigned off = addr + i;
        uint8_t v = val >> (8 * i);
        uint8_t r = (s->regs[off] & ~s->wmask[off]) | (v & s->wmask[off]);

        s->regs[off] = r & ~(v & s->w1cmask[off]);
    }
    for (unsigned i = 0; i < size; i += 4) {
        vtd_reg_written(s, addr + i, (uint32_t)(val >> (8 * i)));
    }
}

static const MemoryRegionOps vtd_mmio_ops = {
    .read = vtd_mmio_read,
    .write = vtd_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 4, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 8 },
};

/* --- Address spaces ----------------------------------------------------------- */

uint16_t vtd_as_sid(const VTDAddressSpace *vas)
{
    return PCI_BUILD_BDF(pci_bus_num(vas->bus), vas->devfn);
}

void vtd_foreach_address_space(IntelIOMMUState *s,
                               void (*fn)(VTDAddressSpace *vas, void *opaque),
                               void *opaque)
{
    for (guint i = 0; i < s->address_spaces->len; i++) {
        fn(g_ptr_array_index(s->address_spaces, i), opaque);
    }
}

/* A linear scan: address spaces are created at device realize and are
 * few; the hot paths hold their VTDAddressSpace already. */
VTDAddressSpace *vtd_find_address_space(IntelIOMMUState *s, uint16_t sid)
{
    for (guint i = 0; i < s->address_spaces->len; i++) {
        VTDAddressSpace *vas = g_ptr_array_index(s->address_spaces, i);

        if (vtd_as_sid(vas) == sid) {
            return vas;
        }
    }
    return NULL;
}

void vtd_switch_address_space(VTDAddressSpace *vas)
{
    IntelIOMMUState *s = vas->iommu_state;
    bool use_iommu = s->dmar_enabled &&
                     !vtd_nest_keeps_system_view(s, vas) &&
                     !vtd_as_pt_enabled(s, vas);

    if (use_iommu == vas->dmar_on) {
        return;
    }
    memory_region_transaction_begin();
    memory_region_set_enabled(&vas->iommu.parent_obj, use_iommu);
    memory_region_set_enabled(&vas->nodmar, !use_iommu);
    memory_region_transaction_commit();
    vas->dmar_on = use_iommu;
}

static void vtd_switch_one(VTDAddressSpace *vas, void *opaque)
{
    vtd_switch_address_space(vas);
}

void vtd_switch_address_space_all(IntelIOMMUState *s)
{
    memory_region_transaction_begin();
    vtd_foreach_address_space(s, vtd_switch_one, NULL);
    memory_region_transaction_commit();
}

static int vtd_iommu_notify_flag_changed(IOMMUMemoryRegion *iommu,
                                         IOMMUNotifierFlag old_flags,
                                         IOMMUNotifierFlag new_flags,
                                         Error **errp)
{
    VTDAddressSpace *vas = vtd_as_of_iommu(iommu);

    if ((new_flags & IOMMU_NOTIFIER_MAP) &&
        !vas->iommu_state->caching_mode) {
        error_setg(errp, "intel-iommu: device %02x:%02x.%x requires "
                   "caching mode",
                   pci_bus_num(vas->bus), PCI_SLOT(vas->devfn),
                   PCI_FUNC(vas->devfn));
        return -EINVAL;
    }
    return 0;
}

static const IOMMUMemoryRegionOps vtd_iommu_ops = {
    .translate = vtd_iommu_translate,
    .notify_flag_changed = vtd_iommu_notify_flag_changed,
    .replay = vtd_iommu_replay,
};

/*
 * The interrupt window of a device's address space.  Writes without PASID
 * are interrupt requests (facts C.4, G); everything else (reads, PASID-
 * tagged writes, facts D.4) is DMA like any other.
 */
static MemTxResult vtd_ir_window_read(void *opaque, hwaddr addr,
                                      uint64_t *data, unsigned size,
                                      MemTxAttrs attrs)
{
    return vtd_window_dma_rw(opaque, VTD_INTERRUPT_ADDR_FIRST + addr, data,
                             size, attrs, false);
}

static MemTxResult vtd_ir_window_write(void *opaque, hwaddr addr,
                                       uint64_t data, unsigned size,
                                       MemTxAttrs attrs)
{
    VTDAddressSpace *vas = opaque;

    if (attrs.pasid_valid) {
        return vtd_window_dma_rw(vas, VTD_INTERRUPT_ADDR_FIRST + addr, &data,
                                 size, attrs, true);
    }
    return vtd_ir_msi_write(vas->iommu_state, vas,
                            VTD_INTERRUPT_ADDR_FIRST + addr, data, size,
                            attrs);
}

static const MemoryRegionOps vtd_ir_window_ops = {
    .read_with_attrs = vtd_ir_window_read,
    .write_with_attrs = vtd_ir_window_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

static VTDAddressSpace *vtd_address_space_new(IntelIOMMUState *s,
                                              PCIBus *bus, int devfn)
{
    VTDAddressSpace *vas = g_new0(VTDAddressSpace, 1);
    g_autofree char *iommu_name = NULL, *nodmar_name = NULL,
                    *ir_name = NULL;

    vas->iommu_state = s;
    vas->bus = bus;
    vas->devfn = devfn;
    vas->name = g_strdup_printf("intel-iommu %s %02x.%x",
                                bus->qbus.name ? bus->qbus.name : "pci",
                                PCI_SLOT(devfn), PCI_FUNC(devfn));
    vas->pasid_cache = g_hash_table_new_full(g_direct_hash, g_direct_equal,
                                             NULL, g_free);
    iommu_name = g_strdup_printf("%s dmar", vas->name);
    nodmar_name = g_strdup_printf("%s nodmar", vas->name);
    ir_name = g_strdup_printf("%s ir", vas->name);

    memory_region_init(&vas->root, OBJECT(s), vas->name, UINT64_MAX);
    memory_region_init_iommu(&vas->iommu, &vtd_iommu_ops, OBJECT(s),
                             iommu_name, UINT64_MAX);
    memory_region_init_alias(&vas->nodmar, OBJECT(s), nodmar_name,
                             get_system_memory(), 0,
                             memory_region_size(get_system_memory()));
    memory_region_init_io(&vas->ir, OBJECT(s), &vtd_ir_window_ops, vas,
                          ir_name, VTD_INTERRUPT_ADDR_SIZE);

    memory_region_transaction_begin();
    memory_region_set_enabled(&vas->iommu.parent_obj, false);
    memory_region_add_subregion_overlap(&vas->root, 0,
                                        &vas->iommu.parent_obj,
                                        0);
    memory_region_add_subregion_overlap(&vas->root, 0, &vas->nodmar, 0);
    memory_region_add_subregion_overlap(&vas->root, VTD_INTERRUPT_ADDR_FIRST,
                                        &vas->ir, 1);
    memory_region_transaction_commit();
    address_space_init(&vas->as, &vas->root, vas->name);
    g_ptr_array_add(s->address_spaces, vas);
    vtd_switch_address_space(vas);
    return vas;
}

static void vtd_address_space_free(gpointer data)
{
    VTDAddressSpace *vas = data;

    vtd_nest_as_destroy(vas);
    vtd_cm_as_destroy(vas);
    address_space_destroy(&vas->as);
    memory_region_finalize(&vas->ir);
    memory_region_finalize(&vas->nodmar);
    memory_region_finalize(&vas->iommu.parent_obj);
    memory_region_finalize(&vas->root);
    g_hash_table_destroy(vas->pasid_cache);
    g_free(vas->name);
    g_free(vas);
}

/* The address space of (bus, devfn), created on first use. */
static VTDAddressSpace *vtd_get_vas(IntelIOMMUState *s, PCIBus *bus,
                                   int devfn)
{
    for (guint i = 0; i < s->address_spaces->len; i++) {
        VTDAddressSpace *vas = g_ptr_array_index(s->address_spaces, i);

        if (vas->bus == bus && vas->devfn == devfn) {
            return vas;
        }
    }
    return vtd_address_space_new(s, bus, devfn);
}

static AddressSpace *vtd_get_address_space(PCIBus *bus, void *opaque,
                                           int devfn)
{
    if (devfn < 0 || devfn >= PCI_DEVFN_MAX) {
        return NULL;
    }
    return &vtd_get_vas(opaque, bus, devfn)->as;
}

/* --- Host IOMMU devices of assigned devices ------------------------------------ */

/* One accepted host IOMMU device; s->host_iommu_devs owns it and a ref. */
typedef struct VTDHostIOMMUDev {
    PCIBus *bus;
    int devfn;
    HostIOMMUDevice *hiod;
} VTDHostIOMMUDev;

static void vtd_hiod_entry_free(gpointer data)
{
    VTDHostIOMMUDev *e = data;

    object_unref(OBJECT(e->hiod));
    g_free(e);
}

static int vtd_hiod_find(IntelIOMMUState *s, PCIBus *bus, int devfn)
{
    for (guint i = 0; s->host_iommu_devs && i < s->host_iommu_devs->len;
         i++) {
        VTDHostIOMMUDev *e = g_ptr_array_index(s->host_iommu_devs, i);

        if (e->bus == bus && e->devfn == devfn) {
            return (int)i;
        }
    }
    return -1;
}

/*
 * Checks only needed for first-stage translation (x-flts=on).  The guest's
 * PASID table is bound per device on the host, which a requester-ID alias
 * (a conventional bus above the device) would share with other devices:
 * such a device is refused, as in QEMU.
 */
static bool vtd_check_hiod_flts(IntelIOMMUState *s, PCIBus *bus, int devfn,
                                HostIOMMUDevice *hiod, Error **errp)
{
    int ret;

    if (!object_dynamic_cast(OBJECT(hiod), TYPE_HOST_IOMMU_DEVICE_IOMMUFD)) {
        error_setg(errp, "Need IOMMUFD backend when x-flts=on");
        return false;
    }
    ret = host_iommu_device_get_cap(hiod, HOST_IOMMU_DEVICE_CAP_IOMMU_TYPE,
                                    errp);
    if (ret < 0) {
        return false;
    }
    if (ret != IOMMU_HW_INFO_TYPE_INTEL_VTD) {
        error_setg(errp, "Incompatible host platform IOMMU type %d", ret);
        return false;
    }
    if (s->fs1gp) {
        ret = host_iommu_device_get_cap(hiod, HOST_IOMMU_DEVICE_CAP_FS1GP,
                                        errp);
        if (ret < 0) {
            return false;
        }
        if (!ret) {
            error_setg(errp, "First stage 1GB large page is unsupported by "
                       "host IOMMU");
            return false;
        }
    }
    /* On a conventional bus even 00.0 shares its ID with the others. */
    if (!pci_bus_is_express(bus) || hiod->aliased_bus != bus ||
        hiod->aliased_devfn != devfn) {
        error_setg(errp, "Host device downstream to a PCI bridge is "
                   "unsupported when x-flts=on");
        return false;
    }
    return true;
}

static bool vtd_check_hiod(IntelIOMMUState *s, PCIBus *bus, int devfn,
                           HostIOMMUDevice *hiod, Error **errp)
{
    int host_aw = host_iommu_device_get_cap(hiod,
                                            HOST_IOMMU_DEVICE_CAP_AW_BITS,
                                            errp);

    if (host_aw < 0) {
        return false;
    }
    if (s->aw_bits > host_aw) {
        error_setg(errp, "aw-bits %d > host aw-bits %d", s->aw_bits, host_aw);
        return false;
    }
    return !s->flts || vtd_check_hiod_flts(s, bus, devfn, hiod, errp);
}

static bool vtd_set_iommu_device(PCIBus *bus, void *opaque, int devfn,
                                 HostIOMMUDevice *hiod, Error **errp)
{
    IntelIOMMUState *s = opaque;
    VTDHostIOMMUDev *e;

    if (!s->caching_mode) {
        error_setg(errp, "Device assignment is not allowed without enabling "
                   "caching-mode=on for Intel IOMMU.");
        return false;
    }
    if (vtd_hiod_find(s, bus, devfn) >= 0) {
        error_setg(errp, "Host IOMMU device already exist");
        return false;
    }
    if (!vtd_check_hiod(s, bus, devfn, hiod, errp)) {
        return false;
    }
    e = g_new0(VTDHostIOMMUDev, 1);
    e->bus = bus;
    e->devfn = devfn;
    e->hiod = hiod;
    object_ref(OBJECT(hiod));
    g_ptr_array_add(s->host_iommu_devs, e);
    return true;
}

HostIOMMUDevice *vtd_find_hiod(IntelIOMMUState *s, PCIBus *bus, int devfn)
{
    int i = vtd_hiod_find(s, bus, devfn);

    return i < 0 ? NULL : ((VTDHostIOMMUDev *)
                           g_ptr_array_index(s->host_iommu_devs, i))->hiod;
}

/* set_iommu_device, then nesting takes the accepted device over. */
static bool vtd_set_iommu_device_nest(PCIBus *bus, void *opaque, int devfn,
                                      HostIOMMUDevice *hiod, Error **errp)
{
    IntelIOMMUState *s = opaque;

    if (!vtd_set_iommu_device(bus, opaque, devfn, hiod, errp)) {
        return false;
    }
    if (s->flts && devfn >= 0 && devfn < PCI_DEVFN_MAX) {
        vtd_nest_device_added(s, vtd_get_vas(s, bus, devfn));
    }
    return true;
}

static void vtd_unset_iommu_device(PCIBus *bus, void *opaque, int devfn)
{
    IntelIOMMUState *s = opaque;
    int i = vtd_hiod_find(s, bus, devfn);
    VTDAddressSpace *vas = NULL;

    if (i < 0) {
        return;
    }
    for (guint j = 0; j < s->address_spaces->len; j++) {
        VTDAddressSpace *v = g_ptr_array_index(s->address_spaces, j);

        if (v->bus == bus && v->devfn == devfn && v->nest) {
            vas = v;
            vtd_nest_device_removed(s, vas);
        }
    }
    g_ptr_array_remove_index(s->host_iommu_devs, (guint)i);
    if (vas) {
        vtd_switch_address_space(vas);
    }
}

/* SPR17: read-only mappings are refused on a nest parent (uapi_facts
 * §2, IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17). */
static uint64_t vtd_get_host_iommu_quirks(uint32_t type, void *caps,
                                          uint32_t size)
{
    const struct iommu_hw_info_vtd *vtd = caps;

    if (type == IOMMU_HW_INFO_TYPE_INTEL_VTD && vtd &&
        size >= sizeof(*vtd) &&
        (vtd->flags & IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17)) {
        return HOST_IOMMU_QUIRK_NESTING_PARENT_BYPASS_RO;
    }
    return 0;
}

static uint64_t vtd_get_viommu_flags(void *opaque)
{
    IntelIOMMUState *s = opaque;

    return s->flts ? VIOMMU_FLAG_WANT_NESTING_PARENT : 0;
}

static const PCIIOMMUOps vtd_pci_iommu_ops = {
    .get_address_space = vtd_get_address_space,
    .set_iommu_device = vtd_set_iommu_device_nest,
    .unset_iommu_device = vtd_unset_iommu_device,
    .get_viommu_flags = vtd_get_viommu_flags,
    .get_host_iommu_quirks = vtd_get_host_iommu_quirks,
};

/* --- Device -------------------------------------------------------------------- */

static int vtd_find_host(Object *obj, void *opaque)
{
    Object **found = opaque;

    if (object_dynamic_cast(obj, TYPE_PCI_HOST_BRIDGE)) {
        if (*found) {
            return 1;               /* a second one: ambiguous */
        }
        *found = obj;
    }
    return 0;
}

/* The root bus of the machine's one PCI host bridge. */
static PCIBus *vtd_find_root_bus(Error **errp)
{
    Object *machine = qdev_get_machine(), *host = NULL;

    if (!machine ||
        object_child_foreach_recursive(machine, vtd_find_host, &host) ||
        !host || !PCI_HOST_BRIDGE(host)->bus) {
        error_setg(errp, "intel-iommu: needs a machine with one PCI host "
                   "bridge (q35)");
        return NULL;
    }
    return PCI_HOST_BRIDGE(host)->bus;
}

static void vtd_reset(DeviceState *dev)
{
    IntelIOMMUState *s = INTEL_IOMMU_DEVICE(dev);

    vtd_init_regs(s);
    s->dmar_enabled = false;
    s->root = 0;
    s->root_ttm = VTD_TTM_LEGACY;
    s->root_set = false;
    s->next_frcd = 0;
    s->qi_enabled = false;
    s->iq = 0;
    s->iq_size = 0;
    s->iq_dw = false;
    s->iq_head = s->iq_tail = 0;
    s->intr_enabled = false;
    s->intr_root = 0;
    s->intr_size = 0;
    s->intr_eime = false;
    vtd_inval_reset(s);
    vtd_ir_reset(s);
    vtd_reset_caches(s);
    vtd_address_space_unmap_all(s);
    vtd_switch_address_space_all(s);
    vtd_nest_sync_all(s);
}

static bool vtd_realize(DeviceState *dev, Error **errp)
{
    IntelIOMMUState *s = INTEL_IOMMU_DEVICE(dev);
    PCIBus *bus = vtd_find_root_bus(errp);

    if (!bus) {
        return false;
    }
    if (bus->iommu_ops) {
        error_setg(errp, "intel-iommu: only one vIOMMU per machine is "
                   "supported");
        return false;
    }
    if (!vtd_decide_config(s, errp)) {
        return false;
    }
    vtd_cap_init(s);
    s->address_spaces = g_ptr_array_new_with_free_func(vtd_address_space_free);
    s->host_iommu_devs = g_ptr_array_new_with_free_func(vtd_hiod_entry_free);
    vtd_caches_init(s);
    vtd_inval_init(s);
    vtd_ir_init(s);
    vtd_init_regs(s);

    memory_region_init_io(&s->mmio, OBJECT(s), &vtd_mmio_ops, s,
                          "intel-iommu", VTD_MMIO_SIZE);
    memory_region_add_subregion(get_system_memory(), VTD_MMIO_BASE, &s->mmio);
    s->mmio_mapped = true;
    /* The host bridge may go first at machine teardown: keep the bus. */
    s->root_bus = bus;
    object_ref(OBJECT(bus));
    pci_setup_iommu(bus, &vtd_pci_iommu_ops, s);
    vtd_reset(dev);
    return true;
}

static void vtd_unrealize(DeviceState *dev)
{
    IntelIOMMUState *s = INTEL_IOMMU_DEVICE(dev);

    if (s->root_bus) {
        pci_setup_iommu(s->root_bus, NULL, NULL);
        object_unref(OBJECT(s->root_bus));
        s->root_bus = NULL;
    }
    vtd_nest_fini(s);
    if (s->host_iommu_devs) {
        g_ptr_array_free(s->host_iommu_devs, true);
        s->host_iommu_devs = NULL;
    }
    if (s->address_spaces) {
        g_ptr_array_free(s->address_spaces, true);
        s->address_spaces = NULL;
    }
    if (s->mmio_mapped) {
        memory_region_finalize(&s->mmio);
        s->mmio_mapped = false;
    }
    vtd_ir_fini(s);
    vtd_inval_fini(s);
    vtd_caches_fini(s);
}

static const Property vtd_props[] = {
    DEFINE_PROP_UINT8("aw-bits", IntelIOMMUState, aw_bits, 48),
    DEFINE_PROP_BOOL("caching-mode", IntelIOMMUState, caching_mode, false),
    DEFINE_PROP_BOOL("x-scalable-mode", IntelIOMMUState, scalable_mode,
                     false),
    DEFINE_PROP_BOOL("scalable-mode", IntelIOMMUState, scalable_mode, false),
    DEFINE_PROP_BOOL("x-flts", IntelIOMMUState, flts, false),
    DEFINE_PROP_BOOL("fs1gp", IntelIOMMUState, fs1gp, true),
    DEFINE_PROP_ON_OFF_AUTO("intremap", IntelIOMMUState, intremap,
                            ON_OFF_AUTO_AUTO),
    DEFINE_PROP_ON_OFF_AUTO("eim", IntelIOMMUState, intr_eim,
                            ON_OFF_AUTO_AUTO),
    DEFINE_PROP_BOOL("device-iotlb", IntelIOMMUState, device_iotlb, false),
    DEFINE_PROP_BOOL("pt", IntelIOMMUState, pt, true),
    DEFINE_PROP_BOOL("dma-drain", IntelIOMMUState, dma_drain, true),
    DEFINE_PROP_BOOL("snoop-control", IntelIOMMUState, snoop_control, false),
    DEFINE_PROP_BOOL("x-pasid-mode", IntelIOMMUState, pasid, false),
    DEFINE_PROP_BOOL("dma-translation", IntelIOMMUState, dma_translation,
                     true),
    DEFINE_PROP_BOOL("stale-tm", IntelIOMMUState, stale_tm, false),
    DEFINE_PROP_END_OF_LIST(),
};

static void vtd_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->desc = "Intel IOMMU (VT-d) DMA Remapping device";
    dc->category = DEVICE_CATEGORY_MISC;
    dc->bus_type = NULL;
    dc->user_creatable = true;
    dc->hotpluggable = false;
    dc->realize = vtd_realize;
    dc->unrealize = vtd_unrealize;
    dc->reset = vtd_reset;
    device_class_set_props(dc, vtd_props);
}

static const TypeInfo vtd_types[] = {
    {
        .name = TYPE_INTEL_IOMMU_DEVICE,
        .parent = TYPE_DEVICE,
        .instance_size = sizeof(IntelIOMMUState),
        .class_init = vtd_class_init,
    },
};

DEFINE_TYPES(vtd_types)
