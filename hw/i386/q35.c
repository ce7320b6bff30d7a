/*
 * The q35 machine: Q35 MCH host bridge with its PCIe root bus "pcie.0",
 * ICH9 LPC (INTx routing), I/O APIC, APIC MSI window and RAM.
 *
 * Memory map (docs/pci.md; control_boot_facts F.4):
 *   [0, low)                  RAM ("ram-below-4g")
 *   [low, 0xfec00000)         PCI hole: the PCI memory space
 *   0xb0000000, 256 MiB       ECAM, over the hole, while PCIEXBAR enables it
 *   0xfec00000                I/O APIC
 *   0xfee00000, 1 MiB         APIC MSI window
 *   [4 GiB, 4 GiB + high)     RAM ("ram-above-4g")
 *   [hole64, hole64 + 32 GiB) 64-bit PCI hole, hole64 = high RAM end
 *                             rounded up to 1 GiB
 * RAM of 0xb0000000 bytes or more puts 2 GiB below 4 GiB and the rest
 * above; otherwise all of it is below.
 *
 * viommu has no firmware: at machine reset the host bridge does what
 * SeaBIOS would (ECAM on at 0xb0000000, bus numbers, BARs, interrupt
 * line, decode); see pci_firmware_setup().
 */
#include "hw/acpi/acpi-x86.h"
#include "hw/boards.h"
#include "hw/char/serial.h"
#include "hw/i386/apic-msi.h"
#include "hw/i386/x86-boot.h"
#include "hw/isa/isa.h"
#include "hw/nvram/fw_cfg.h"
#include "hw/pci/pci_host.h"
#include "hw/qdev-properties.h"
#include "hw/rtc/mc146818rtc.h"

#define TYPE_Q35_HOST_DEVICE    "q35-pcihost"
#define TYPE_MCH_PCI_DEVICE     "mch"
#define TYPE_ICH9_LPC_DEVICE    "ich9-lpc"
#define TYPE_Q35_MACHINE        "q35" TYPE_MACHINE_SUFFIX

#define Q35_LOW_RAM_LIMIT       0xb0000000ULL  /* RAM this big is split */
#define Q35_LOW_RAM_SPLIT       0x80000000ULL
#define Q35_4G                  0x100000000ULL
#define Q35_PCI_HOLE_END        0xfec00000ULL  /* the I/O APIC */
#define Q35_PCI_HOLE64_ALIGN    0x40000000ULL
#define Q35_PCI_HOLE64_SIZE     (32ULL << 30)
#define Q35_DEFAULT_RAM_SIZE    (128ULL << 20)
/* Where firmware puts BARs (above ECAM) and I/O BARs. */
#define Q35_FW_MEM32_BASE       0xc0000000ULL
#define Q35_FW_IO_BASE          0xc000
#define Q35_FW_IO_END           0x10000
#define Q35_GSI_PIRQ_BASE       16             /* PIRQ A-H = GSI 16-23 */

/* MCH configuration registers (Intel 3 Series Chipset datasheet 5.1) */
#define MCH_PCIEXBAR            0x60           /* 64-bit */
#define  MCH_PCIEXBAR_EN        0x1ULL
#define  MCH_PCIEXBAR_LENGTH    0x6ULL
#define  MCH_PCIEXBAR_LEN_256M  0x0ULL
#define  MCH_PCIEXBAR_LEN_128M  0x2ULL
#define  MCH_PCIEXBAR_LEN_64M   0x4ULL
#define  MCH_PCIEXBAR_ADMSK     (0xffULL << 28)
#define  MCH_PCIEXBAR_128ADMSK  (1ULL << 27)
#define  MCH_PCIEXBAR_64ADMSK   (1ULL << 26)
#define  MCH_PCIEXBAR_DEFAULT   0xb0000000ULL

/* ICH9 LPC configuration registers (ICH9 datasheet 13.1) */
#define ICH9_LPC_PIRQA_ROUT     0x60           /* PIRQ A-D */
#define ICH9_LPC_PIRQE_ROUT     0x68           /* PIRQ E-H */
#define  ICH9_LPC_PIRQ_ROUT_DEFAULT 0x80       /* not routed to the 8259 */
#define  ICH9_LPC_PIRQ_ROUT_MASK    0x8f
#define ICH9_LPC_NB_PIRQS       8
#define ICH9_LPC_DEVFN          PCI_DEVFN(31, 0)

typedef struct Q35PCIHost {
    PCIHostState parent_obj;
    uint64_t below_4g_mem_size;     /* properties set by the machine */
    uint64_t above_4g_mem_size;
    MemoryRegion pci_mem;           /* the PCI memory space */
    MemoryRegion pci_hole;          /* windows onto it in system memory */
    MemoryRegion pci_hole64;
    bool holes_mapped;
} Q35PCIHost;

DECLARE_INSTANCE_CHECKER(Q35PCIHost, Q35_HOST, TYPE_Q35_HOST_DEVICE)

typedef struct ICH9LPCState {
    PCIDevice parent_obj;
    qemu_irq pirq[ICH9_LPC_NB_PIRQS];   /* to I/O APIC pins 16-23 */
    ISABus *isa_bus;                    /* "isa.0": PIT, RTC, UARTs ... */
} ICH9LPCState;

DECLARE_INSTANCE_CHECKER(ICH9LPCState, ICH9_LPC, TYPE_ICH9_LPC_DEVICE)

typedef struct Q35MachineState {
    MachineState parent_obj;
    MemoryRegion ram_below_4g;
    MemoryRegion ram_above_4g;
    bool below_mapped, above_mapped;
} Q35MachineState;

DECLARE_INSTANCE_CHECKER(Q35MachineState, Q35_MACHINE, TYPE_Q35_MACHINE)

static uint64_t q35_hole64_start(uint64_t above_4g_mem_size)
{
    return (Q35_4G + above_4g_mem_size + Q35_PCI_HOLE64_ALIGN - 1) &
           ~(Q35_PCI_HOLE64_ALIGN - 1);
}

/* --- MCH (00.0) -------------------------------------------------------------- */

static PCIHostState *mch_host(PCIDevice *d)
{
    return PCI_HOST_BRIDGE(pci_get_bus(d)->qbus.parent);
}

/* ECAM follows PCIEXBAR: enable, length, base aligned to the length. */
static void mch_update_pciexbar(PCIDevice *d)
{
    uint64_t bar = pci_get_quad(d->config + MCH_PCIEXBAR);
    uint64_t size, mask;

    switch (bar & MCH_PCIEXBAR_LENGTH) {
    case MCH_PCIEXBAR_LEN_256M:
        size = 256ULL << 20;
        mask = MCH_PCIEXBAR_ADMSK;
        break;
    case MCH_PCIEXBAR_LEN_128M:
        size = 128ULL << 20;
        mask = MCH_PCIEXBAR_ADMSK | MCH_PCIEXBAR_128ADMSK;
        break;
    case MCH_PCIEXBAR_LEN_64M:
        size = 64ULL << 20;
        mask = MCH_PCIEXBAR_ADMSK | MCH_PCIEXBAR_128ADMSK |
               MCH_PCIEXBAR_64ADMSK;
        break;
    default:                        /* reserved length: treated as off */
        pcie_host_mmcfg_update(mch_host(d), false, 0, 0);
        return;
    }
    pcie_host_mmcfg_update(mch_host(d), bar & MCH_PCIEXBAR_EN, bar & mask,
                           size);
}

static void mch_write_config(PCIDevice *d, uint32_t addr, uint32_t val,
                             int len)
{
    pci_default_write_config(d, addr, val, len);
    if (pci_ranges_overlap(addr, len, MCH_PCIEXBAR, 8)) {
        mch_update_pciexbar(d);
    }
}

static bool mch_realize(PCIDevice *d, Error **errp)
{
    pci_set_quad(d->config + MCH_PCIEXBAR, MCH_PCIEXBAR_DEFAULT);
    pci_set_quad(d->wmask + MCH_PCIEXBAR,
                 MCH_PCIEXBAR_ADMSK | MCH_PCIEXBAR_128ADMSK |
                 MCH_PCIEXBAR_64ADMSK | MCH_PCIEXBAR_LENGTH |
                 MCH_PCIEXBAR_EN);
    return true;
}

static void mch_reset(PCIDevice *d)
{
    mch_update_pciexbar(d);
}

static void mch_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *pc = PCI_DEVICE_CLASS(klass);

    dc->desc = "Host bridge";
    dc->user_creatable = false;
    dc->hotpluggable = false;
    pc->realize = mch_realize;
    pc->reset = mch_reset;
    pc->config_write = mch_write_config;
    pc->vendor_id = PCI_VENDOR_ID_INTEL;
    pc->device_id = PCI_DEVICE_ID_INTEL_Q35_MCH;
    pc->revision = 0;
    pc->class_id = PCI_CLASS_BRIDGE_HOST;
}

/* --- ICH9 LPC (1f.0): INTx routing --------------------------------------------- */

/*
 * Device pin -> PIRQ (ICH9 datasheet 10.1.37-10.1.48, with QEMU's
 * defaults): slots 0-24 rotate onto PIRQ E-H, slot 30 takes E-H in pin
 * order, and 25-29 and 31 keep their D<n>IR default 0x3210 (INTA ->
 * PIRQA ...).
 */
static int ich9_lpc_map_irq(PCIDevice *dev, int pin)
{
    int slot = PCI_SLOT(dev->devfn);

    if (slot <= 24) {
        return (slot + pin) % 4 + 4;
    }
    if (slot == 30) {
        return pin + 4;
    }
    return pin;
}

/* In APIC mode PIRQ n drives I/O APIC pin 16 + n; no 8259 here, so the
 * PIRQ_ROUT registers only hold what the guest writes. */
static void ich9_lpc_set_irq(void *opaque, int pirq, int level)
{
    ICH9LPCState *lpc = opaque;

    qemu_set_irq(lpc->pirq[pirq], level);
}

static bool ich9_lpc_realize(PCIDevice *d, Error **errp)
{
    ICH9LPCState *lpc = ICH9_LPC(d);
    PCIBus *bus = pci_get_bus(d);

    for (int i = 0; i < 4; i++) {
        d->config[ICH9_LPC_PIRQA_ROUT + i] = ICH9_LPC_PIRQ_ROUT_DEFAULT;
        d->config[ICH9_LPC_PIRQE_ROUT + i] = ICH9_LPC_PIRQ_ROUT_DEFAULT;
        d->wmask[ICH9_LPC_PIRQA_ROUT + i] = ICH9_LPC_PIRQ_ROUT_MASK;
        d->wmask[ICH9_LPC_PIRQE_ROUT + i] = ICH9_LPC_PIRQ_ROUT_MASK;
    }
    if (!pci_bus_is_root(bus)) {
        error_setg(errp, "%s must be on the root bus", TYPE_ICH9_LPC_DEVICE);
        return false;
    }
    pci_bus_irqs(bus, ich9_lpc_set_irq, lpc, ICH9_LPC_NB_PIRQS);
    pci_bus_map_irqs(bus, ich9_lpc_map_irq);
    lpc->isa_bus = isa_bus_new(DEVICE(d), get_system_io());
    return true;
}

static void ich9_lpc_exit(PCIDevice *d)
{
    PCIBus *bus = pci_get_bus(d);

    pci_bus_irqs(bus, NULL, NULL, 0);
    pci_bus_map_irqs(bus, NULL);
}

static void ich9_lpc_init(Object *obj)
{
    ICH9LPCState *lpc = ICH9_LPC(obj);

    qdev_init_gpio_out_named(DEVICE(obj), lpc->pirq, "pirq",
                             ICH9_LPC_NB_PIRQS);
}

static void ich9_lpc_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *pc = PCI_DEVICE_CLASS(klass);

    dc->desc = "ICH9 LPC bridge";
    dc->user_creatable = false;
    dc->hotpluggable = false;
    pc->realize = ich9_lpc_realize;
    pc->exit = ich9_lpc_exit;
    pc->vendor_id = PCI_VENDOR_ID_INTEL;
    pc->device_id = PCI_DEVICE_ID_INTEL_ICH9_8;
    pc->revision = 2;
    pc->class_id = PCI_CLASS_BRIDGE_ISA;
}

/* --- Host bridge ------------------------------------------------------------------ */

static bool q35_host_realize(DeviceState *dev, Error **errp)
{
    Q35PCIHost *s = Q35_HOST(dev);
    PCIHostState *h = PCI_HOST_BRIDGE(dev);
    uint64_t low = s->below_4g_mem_size;
    uint64_t hole64 = q35_hole64_start(s->above_4g_mem_size);
    DeviceState *mch;
    bool ok;

    if (low > Q35_LOW_RAM_LIMIT) {
        error_setg(errp, "%s: below-4g-mem-size 0x%" PRIx64 " is above "
                   "0x%llx", TYPE_Q35_HOST_DEVICE, low, Q35_LOW_RAM_LIMIT);
        return false;
    }
    memory_region_init(&s->pci_mem, OBJECT(s), "pci-memory", UINT64_MAX);
    h->bus = pci_root_bus_new(dev, "pcie.0", &s->pci_mem, get_system_io(),
                              TYPE_PCIE_BUS);
    pci_host_conf_register(h);

    memory_region_init_alias(&s->pci_hole, OBJECT(s), "pci-hole", &s->pci_mem,
                             low, Q35_PCI_HOLE_END - low);
    memory_region_add_subregion(get_system_memory(), low, &s->pci_hole);
    memory_region_init_alias(&s->pci_hole64, OBJECT(s), "pci-hole64",
                             &s->pci_mem, hole64, Q35_PCI_HOLE64_SIZE);
    memory_region_add_subregion(get_system_memory(), hole64, &s->pci_hole64);
    s->holes_mapped = true;

    mch = qdev_new(TYPE_MCH_PCI_DEVICE);
    object_property_add_child(OBJECT(s), "mch", OBJECT(mch));
    ok = object_property_set_int(OBJECT(mch), "addr", PCI_DEVFN(0, 0), errp) &&
         qdev_realize(mch, &h->bus->qbus, errp);
    if (!ok) {
        object_unparent(OBJECT(mch));
    }
    object_unref(mch);
    return ok;
}

static void q35_host_unrealize(DeviceState *dev)
{
    Q35PCIHost *s = Q35_HOST(dev);
    PCIHostState *h = PCI_HOST_BRIDGE(dev);

    /* The devices on pcie.0 are unrealized: their BARs are gone. */
    pcie_host_mmcfg_update(h, false, 0, 0);
    pci_host_conf_unregister(h);
    if (s->holes_mapped) {
        memory_region_finalize(&s->pci_hole);
        memory_region_finalize(&s->pci_hole64);
        memory_region_finalize(&s->pci_mem);
        s->holes_mapped = false;
    }
}

/* The ACPI tables (docs/acpi.md) for this board's layout. */
static void q35_acpi_setup(MachineState *ms)
{
    Q35PCIHost *s = Q35_HOST(object_resolve_path_component(OBJECT(ms),
                                                           "q35"));
    uint64_t hole64 = q35_hole64_start(s->above_4g_mem_size);
    X86AcpiConfig cfg = {
        .cpus = MAX(ms->smp_cpus, 1),
        .max_cpus = MAX(ms->smp_max_cpus, MAX(ms->smp_cpus, 1)),
        .ecam_base = MCH_PCIEXBAR_DEFAULT,      /* 256 MiB: buses 0-255 */
        .ecam_bus_end = 255,
        .pci_mem32_base = Q35_FW_MEM32_BASE,
        .pci_mem32_last = Q35_PCI_HOLE_END - 1,
        .pci_mem64_base = hole64,
        .pci_mem64_last = hole64 + Q35_PCI_HOLE64_SIZE - 1,
    };
    Error *err = NULL;

    if (!acpi_setup_x86(&cfg, &err)) {
        error_report_err(err);
    }
}

/*
 * The rest of what firmware does at every reset, once the PCI devices are
 * reset and have their BARs (ACPI tables, then -kernel: control_boot
 * contract).  No device reset writes guest RAM, so the devices outside
 * the PCI hierarchy that reset after this do not undo it.
 */
static void q35_firmware_reset(MachineState *ms)
{
    q35_acpi_setup(ms);
    x86_boot_reset(ms);
}

/*
 * Runs after every device below has been reset (children first): the
 * firmware's PCI set-up, since viommu boots without a BIOS.
 */
static void q35_host_reset(DeviceState *dev)
{
    Q35PCIHost *s = Q35_HOST(dev);
    PCIHostState *h = PCI_HOST_BRIDGE(dev);
    PCIDevice *mch = h->bus->devices[PCI_DEVFN(0, 0)];
    uint64_t hole64 = q35_hole64_start(s->above_4g_mem_size);
    PCIFirmwareLayout layout = {
        .mem32_base = Q35_FW_MEM32_BASE,
        .mem32_end = Q35_PCI_HOLE_END,
        .mem64_base = hole64,
        .mem64_end = hole64 + Q35_PCI_HOLE64_SIZE,
        .io_base = Q35_FW_IO_BASE,
        .io_end = Q35_FW_IO_END,
        .irq_base = Q35_GSI_PIRQ_BASE,
    };

    h->config_reg = 0;
    if (mch) {
        /* ECAM where SeaBIOS puts it. */
        pci_host_config_write_common(mch, MCH_PCIEXBAR, PCI_CONFIG_SPACE_SIZE,
                                     MCH_PCIEXBAR_DEFAULT | MCH_PCIEXBAR_EN,
                                     4);
        pci_host_config_write_common(mch, MCH_PCIEXBAR + 4,
                                     PCI_CONFIG_SPACE_SIZE, 0, 4);
    }
    pci_firmware_setup(h->bus, &layout);
    q35_firmware_reset(MACHINE(OBJECT(dev)->parent));
}

static const Property q35_host_props[] = {
    DEFINE_PROP_SIZE("below-4g-mem-size", Q35PCIHost, below_4g_mem_size, 0),
    DEFINE_PROP_SIZE("above-4g-mem-size", Q35PCIHost, above_4g_mem_size, 0),
    DEFINE_PROP_END_OF_LIST(),
};

static void q35_host_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->desc = "Q35 PCIe host bridge";
    dc->user_creatable = false;
    dc->hotpluggable = false;
    dc->realize = q35_host_realize;
    dc->unrealize = q35_host_unrealize;
    dc->reset = q35_host_reset;
    device_class_set_props(dc, q35_host_props);
}

/* --- The machine ------------------------------------------------------------------- */

static bool q35_init_ram(MachineState *ms, uint64_t low, Error **errp)
{
    Q35MachineState *qms = Q35_MACHINE(ms);

    ms->ram = g_new0(MemoryRegion, 1);
    if (!memory_region_init_ram(ms->ram, OBJECT(ms), "pc.ram", ms->ram_size,
                                errp)) {
        g_free(ms->ram);
        ms->ram = NULL;
        return false;
    }
    memory_region_init_alias(&qms->ram_below_4g, OBJECT(ms), "ram-below-4g",
                             ms->ram, 0, low);
    memory_region_add_subregion(get_system_memory(), 0, &qms->ram_below_4g);
    qms->below_mapped = true;
    if (ms->ram_size > low) {
        memory_region_init_alias(&qms->ram_above_4g, OBJECT(ms),
                                 "ram-above-4g", ms->ram, low,
                                 ms->ram_size - low);
        memory_region_add_subregion(get_system_memory(), Q35_4G,
                                    &qms->ram_above_4g);
        qms->above_mapped = true;
    }
    return true;
}

/* Creates dev as child name of parent and realizes it on bus. */
static DeviceState *q35_add_device(Object *parent, const char *name,
                                   DeviceState *dev, BusState *bus,
                                   Error **errp)
{
    bool ok;

    if (parent) {
        object_property_add_child(parent, name, OBJECT(dev));
    }
    ok = qdev_realize(dev, bus, errp);
    if (!ok && parent) {
        object_unparent(OBJECT(dev));
    }
    object_unref(dev);
    return ok ? dev : NULL;
}

/*
 * The ISA side of the LPC (docs/platform.md): ISA IRQ n -> I/O APIC pin n,
 * but IRQ 0 (the PIT) -> pin 2, the MADT's source override; the PIT, the
 * RTC with QEMU's memory sizes in CMOS, a UART per -serial, and fw_cfg.
 */
static bool q35_isa_init(MachineState *ms, DeviceState *lpc,
                         DeviceState *ioapic, uint64_t low, Error **errp)
{
    ISABus *isa = ICH9_LPC(lpc)->isa_bus;
    qemu_irq irqs[ISA_NUM_IRQS];
    DeviceState *rtc;

    for (int i = 0; i < ISA_NUM_IRQS; i++) {
        irqs[i] = qdev_get_gpio_in(ioapic, i ? i : 2);
    }
    isa_bus_connect_irqs(isa, irqs);
    if (!q35_add_device(NULL, NULL, qdev_new("isa-pit"), BUS(isa), errp)) {
        return false;
    }
    rtc = q35_add_device(NULL, NULL, qdev_new(TYPE_MC146818_RTC), BUS(isa),
                         errp);
    if (!rtc) {
        return false;
    }
    rtc_cmos_set_pc_memory(ISA_DEVICE(rtc), low, ms->ram_size - low,
                           MAX(ms->smp_cpus, 1));
    for (int i = 0; i < SERIAL_MAX_PORTS; i++) {
        Chardev *chr = serial_hd(i);
        DeviceState *uart;

        if (!chr) {
            continue;
        }
        uart = qdev_new("isa-serial");
        if (!object_property_set_uint(OBJECT(uart), "index", i, errp) ||
            !object_property_set_str(OBJECT(uart), "chardev", chr->label,
                                     errp)) {
            object_unref(uart);
            return false;
        }
        if (!q35_add_device(NULL, NULL, uart, BUS(isa), errp)) {
            return false;
        }
    }
    return fw_cfg_init_x86(ms, low, errp) != NULL;
}

static bool q35_init(MachineState *ms, Error **errp)
{
    uint64_t low = ms->ram_size >= Q35_LOW_RAM_LIMIT ? Q35_LOW_RAM_SPLIT :
                                                       ms->ram_size;
    DeviceState *host, *ioapic, *lpc;
    PCIBus *bus;

    if (!q35_init_ram(ms, low, errp)) {
        return false;
    }
    apic_msi_init();

    host = qdev_new(TYPE_Q35_HOST_DEVICE);
    if (!object_property_set_uint(OBJECT(host), "below-4g-mem-size", low,
                                  errp) ||
        !object_property_set_uint(OBJECT(host), "above-4g-mem-size",
                                  ms->ram_size - low, errp)) {
        object_unref(host);
        return false;
    }
    if (!q35_add_device(OBJECT(ms), "q35", host, NULL, errp)) {
        return false;
    }
    bus = PCI_HOST_BRIDGE(host)->bus;

    ioapic = q35_add_device(OBJECT(host), "ioapic", qdev_new("ioapic"), NULL,
                            errp);
    if (!ioapic) {
        return false;
    }

    lpc = qdev_new(TYPE_ICH9_LPC_DEVICE);
    if (!object_property_set_int(OBJECT(lpc), "addr", ICH9_LPC_DEVFN, errp) ||
        !object_property_set_bool(OBJECT(lpc), "multifunction", true, errp)) {
        object_unref(lpc);
        return false;
    }
    if (!q35_add_device(NULL, NULL, lpc, &bus->qbus, errp)) {
        return false;
    }
    for (int i = 0; i < ICH9_LPC_NB_PIRQS; i++) {
        qdev_connect_gpio_out_named(lpc, "pirq", i,
                                    qdev_get_gpio_in(ioapic,
                                                     Q35_GSI_PIRQ_BASE + i));
    }
    if (!q35_isa_init(ms, lpc, ioapic, low, errp)) {
        return false;
    }
    /* -kernel is read and checked now: a bad file stops start-up. */
    return x86_boot_init(ms, low, ms->ram_size - low, errp);
}

static BusState *q35_default_bus(MachineState *ms, const char *bus_type)
{
    Object *host = object_resolve_path_component(OBJECT(ms), "q35");

    if (!host || !bus_type ||
        !object_class_dynamic_cast(object_class_by_name(TYPE_PCIE_BUS),
                                   bus_type)) {
        return NULL;
    }
    return &PCI_HOST_BRIDGE(host)->bus->qbus;
}

static void q35_machine_finalize(Object *obj)
{
    Q35MachineState *qms = Q35_MACHINE(obj);
    MachineState *ms = MACHINE(obj);

    /* The RAM is not in system memory itself, only through the aliases:
     * take it down here rather than in the generic machine code. */
    if (qms->below_mapped) {
        memory_region_finalize(&qms->ram_below_4g);
        qms->below_mapped = false;
    }
    if (qms->above_mapped) {
        memory_region_finalize(&qms->ram_above_4g);
        qms->above_mapped = false;
    }
    if (ms->ram) {
        memory_region_finalize(ms->ram);
        g_free(ms->ram);
        ms->ram = NULL;
    }
    apic_msi_cleanup();
}

static void q35_machine_class_init(ObjectClass *klass, const void *data)
{
    MachineClass *mc = MACHINE_CLASS(klass);

    mc->name = "q35";
    mc->desc = "Standard PC (Q35 + ICH9, 2009)";
    mc->is_default = true;
    mc->max_cpus = 255;         /* xAPIC ids in the MADT; 0xff is broadcast */
    mc->default_ram_size = Q35_DEFAULT_RAM_SIZE;
    mc->default_bus_type = TYPE_PCI_BUS;
    mc->init = q35_init;
    mc->default_bus = q35_default_bus;
}

static const TypeInfo q35_types[] = {
    {
        .name = TYPE_Q35_HOST_DEVICE,
        .parent = TYPE_PCI_HOST_BRIDGE,
        .instance_size = sizeof(Q35PCIHost),
        .class_init = q35_host_class_init,
    },
    {
        .name = TYPE_MCH_PCI_DEVICE,
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(PCIDevice),
        .class_init = mch_class_init,
    },
    {
        .name = TYPE_ICH9_LPC_DEVICE,
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(ICH9LPCState),
        .instance_init = ich9_lpc_init,
        .class_init = ich9_lpc_class_init,
    },
    {
        .name = TYPE_Q35_MACHINE,
        .parent = TYPE_MACHINE,
        .instance_size = sizeof(Q35MachineState),
        .instance_finalize = q35_machine_finalize,
        .class_init = q35_machine_class_init,
    },
};

DEFINE_TYPES(q35_types)
