/*
 * PCI core, in process: a q35 machine driven through the I/O address
 * space, with a test function that has I/O, 64-bit and MSI-X BARs and a
 * multi-vector maskable MSI, and a fake vIOMMU on the root bus.  Covers
 * what the qtest suites cannot see: requester ids, the PCIIOMMUOps hook,
 * BAR kinds edu lacks, placement rules and the config-mask invariants.
 */
#include <glib.h>
#include <string.h>

#include "hw/boards.h"
#include "hw/i386/apic-msi.h"
#include "hw/pci/msix.h"
#include "hw/pci/pci_host.h"
#include "hw/qdev-properties.h"
#include "qapi/qjson.h"

#define TYPE_TESTDEV    "x-unit-pci-dev"
#define MiB             (1ull << 20)
#define GiB             (1ull << 30)

typedef struct TestDev {
    PCIDevice pdev;
    MemoryRegion io_bar;        /* BAR0: 32 bytes of I/O */
    MemoryRegion mem64;         /* BAR1-2: 64-bit prefetchable */
    MemoryRegion mem32;         /* BAR3: MSI-X table and PBA */
    uint64_t mem64_size;        /* property */
} TestDev;

DECLARE_INSTANCE_CHECKER(TestDev, TESTDEV, TYPE_TESTDEV)

/* Reads give a signature: 0x5000 + offset. */
static uint64_t testdev_read(void *opaque, hwaddr addr, unsigned size)
{
    return 0x5000 + addr;
}

static void testdev_write(void *opaque, hwaddr addr, uint64_t val,
                          unsigned size)
{
}

static const MemoryRegionOps testdev_ops = {
    .read = testdev_read,
    .write = testdev_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
};

static bool testdev_realize(PCIDevice *d, Error **errp)
{
    TestDev *t = TESTDEV(d);

    d->config[PCI_INTERRUPT_PIN] = 2;   /* INTB */
    if (!msi_init(d, 0, 4, false, true, errp)) {
        return false;
    }
    memory_region_init_io(&t->io_bar, OBJECT(d), &testdev_ops, t, "t-io", 32);
    pci_register_bar(d, 0, PCI_BASE_ADDRESS_SPACE_IO, &t->io_bar);
    memory_region_init_io(&t->mem64, OBJECT(d), &testdev_ops, t, "t-mem64",
                          t->mem64_size);
    pci_register_bar(d, 1, PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH, &t->mem64);
    memory_region_init(&t->mem32, OBJECT(d), "t-mem32", 4096);
    if (!msix_init(d, 4, &t->mem32, 3, 0, &t->mem32, 3, 0x800, 0, errp)) {
        memory_region_finalize(&t->io_bar);
        memory_region_finalize(&t->mem64);
        memory_region_finalize(&t->mem32);
        return false;
    }
    pci_register_bar(d, 3, PCI_BASE_ADDRESS_SPACE_MEMORY, &t->mem32);
    return true;
}

static void testdev_exit(PCIDevice *d)
{
    TestDev *t = TESTDEV(d);

    msix_uninit(d);
    memory_region_finalize(&t->io_bar);
    memory_region_finalize(&t->mem64);
    memory_region_finalize(&t->mem32);
}

static const Property testdev_props[] = {
    DEFINE_PROP_SIZE("mem64-size", TestDev, mem64_size, 16 * 1024),
    DEFINE_PROP_END_OF_LIST(),
};

static void testdev_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *pc = PCI_DEVICE_CLASS(klass);

    device_class_set_props(DEVICE_CLASS(klass), testdev_props);
    pc->realize = testdev_realize;
    pc->exit = testdev_exit;
    pc->vendor_id = PCI_VENDOR_ID_REDHAT;
    pc->device_id = PCI_DEVICE_ID_REDHAT_TEST;
    pc->class_id = PCI_CLASS_OTHERS;
    pc->is_express = true;
}

static const TypeInfo testdev_info = {
    .name = TYPE_TESTDEV,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(TestDev),
    .class_init = testdev_class_init,
};

/* --- Machine and config space helpers ------------------------------------- */

static MachineState *ms;

static PCIBus *root_bus(void)
{
    Object *host = object_resolve_path("/machine/q35", NULL);

    return PCI_HOST_BRIDGE(host)->bus;
}

static void machine_up(void)
{
    ms = machine_create(machine_class_find("q35"), &error_abort);
    ms->ram_size = 128 * MiB;
    g_assert_true(machine_init_board(ms, &error_abort));
}

static void machine_down(void)
{
    machine_destroy();
    ms = NULL;
    apic_msi_clear();
}

/* Creates type at addr (NULL: first free) on bus (NULL: pcie.0); NULL
 * with *errp on failure. */
static PCIDevice *add_dev(const char *type, const char *id, BusState *bus,
                          const char *addr, Error **errp)
{
    DeviceState *dev = qdev_new(type);
    Object *parent = container_get(OBJECT(ms), "peripheral");

    dev->id = g_strdup(id);
    if (addr && !object_property_parse(OBJECT(dev), "addr", addr, errp)) {
        object_unref(dev);
        return NULL;
    }
    object_property_add_child(parent, id, OBJECT(dev));
    object_unref(dev);
    if (!qdev_realize(dev, bus ? bus : &root_bus()->qbus, errp)) {
        object_unparent(OBJECT(dev));
        return NULL;
    }
    return PCI_DEVICE(dev);
}

static void cfg_select(int bus, int devfn, int off)
{
    address_space_stl_le(&address_space_io, 0xcf8,
                         0x80000000u | bus << 16 | devfn << 8 | (off & 0xfc),
                         MEMTXATTRS_UNSPECIFIED, NULL);
}

static uint32_t cfg_readl(int bus, int devfn, int off)
{
    cfg_select(bus, devfn, off);
    return address_space_ldl_le(&address_space_io, 0xcfc,
                                MEMTXATTRS_UNSPECIFIED, NULL);
}

static uint16_t cfg_readw(int bus, int devfn, int off)
{
    cfg_select(bus, devfn, off);
    return address_space_lduw_le(&address_space_io, 0xcfc + (off & 2),
                                 MEMTXATTRS_UNSPECIFIED, NULL);
}

static void cfg_writel(int bus, int devfn, int off, uint32_t v)
{
    cfg_select(bus, devfn, off);
    address_space_stl_le(&address_space_io, 0xcfc, v, MEMTXATTRS_UNSPECIFIED,
                         NULL);
}

static void cfg_writew(int bus, int devfn, int off, uint16_t v)
{
    cfg_select(bus, devfn, off);
    address_space_stw_le(&address_space_io, 0xcfc + (off & 2), v,
                         MEMTXATTRS_UNSPECIFIED, NULL);
}

static uint32_t mem_readl(hwaddr addr)
{
    return address_space_ldl_le(&address_space_memory, addr,
                                MEMTXATTRS_UNSPECIFIED, NULL);
}

/* --- Tests ---------------------------------------------------------------------- */

static void test_bar_kinds(void)
{
    PCIDevice *d;
    int devfn;
    uint64_t bar64;

    machine_up();
    d = add_dev(TYPE_TESTDEV, "t", NULL, "05.0", &error_abort);
    devfn = d->devfn;
    machine_reset(ms);

    /* Sizing of each kind. */
    cfg_writew(0, devfn, PCI_COMMAND, 0);
    cfg_writel(0, devfn, PCI_BASE_ADDRESS_0, 0xffffffff);
    g_assert_cmphex(cfg_readl(0, devfn, PCI_BASE_ADDRESS_0), ==, 0xffffffe1);
    cfg_writel(0, devfn, PCI_BASE_ADDRESS_0 + 4, 0xffffffff);
    cfg_writel(0, devfn, PCI_BASE_ADDRESS_0 + 8, 0xffffffff);
    g_assert_cmphex(cfg_readl(0, devfn, PCI_BASE_ADDRESS_0 + 4), ==,
                    0xffffc00c);
    g_assert_cmphex(cfg_readl(0, devfn, PCI_BASE_ADDRESS_0 + 8), ==,
                    0xffffffff);
    cfg_writel(0, devfn, PCI_BASE_ADDRESS_0 + 12, 0xffffffff);
    g_assert_cmphex(cfg_readl(0, devfn, PCI_BASE_ADDRESS_0 + 12), ==,
                    0xfffff000);

    /* I/O BAR decodes with COMMAND.IO only. */
    cfg_writel(0, devfn, PCI_BASE_ADDRESS_0, 0xd000);
    g_assert_cmphex(address_space_ldl_le(&address_space_io, 0xd004,
                                         MEMTXATTRS_UNSPECIFIED, NULL), ==,
                    0xffffffff);
    cfg_writew(0, devfn, PCI_COMMAND, PCI_COMMAND_IO);
    g_assert_cmphex(address_space_ldl_le(&address_space_io, 0xd004,
                                         MEMTXATTRS_UNSPECIFIED, NULL), ==,
                    0x5004);
    g_assert_cmphex(pci_get_bar_addr(d, 0), ==, 0xd000);

    /* 64-bit BAR above 4 GiB, in the 64-bit hole. */
    bar64 = 4 * GiB + 0x40000000;
    cfg_writel(0, devfn, PCI_BASE_ADDRESS_0 + 4, (uint32_t)bar64);
    cfg_writel(0, devfn, PCI_BASE_ADDRESS_0 + 8, bar64 >> 32);
    g_assert_cmphex(mem_readl(bar64 + 8), ==, 0);
    cfg_writew(0, devfn, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    g_assert_cmphex(mem_readl(bar64 + 8), ==, 0x5008);
    g_assert_cmphex(pci_get_bar_addr(d, 1), ==, bar64);
    /* The upper dword alone moves it. */
    cfg_writel(0, devfn, PCI_BASE_ADDRESS_0 + 8, 0);
    g_assert_cmphex(pci_get_bar_addr(d, 1), ==, 0x40000000);
    machine_down();
}

/* The firmware layout: aligned, disjoint, inside windows, 64-bit spill. */
static void test_firmware_layout(void)
{
    PCIDevice *t1, *t2, *rp, *big, *behind;
    PCIBus *sec;

    machine_up();
    t1 = add_dev(TYPE_TESTDEV, "t1", NULL, NULL, &error_abort);
    t2 = add_dev(TYPE_TESTDEV, "t2", NULL, NULL, &error_abort);
    rp = add_dev("pcie-root-port", "rp", NULL, NULL, &error_abort);
    sec = pci_bridge_get_sec_bus(rp);
    behind = add_dev(TYPE_TESTDEV, "t3", &sec->qbus, NULL, &error_abort);
    big = PCI_DEVICE(qdev_new(TYPE_TESTDEV));
    object_property_set_uint(OBJECT(big), "mem64-size", 2 * GiB,
                             &error_abort);
    object_property_add_child(container_get(OBJECT(ms), "peripheral"), "big",
                              OBJECT(big));
    object_unref(big);
    g_assert_true(qdev_realize(DEVICE(big), &root_bus()->qbus, &error_abort));
    machine_reset(ms);

    g_assert_cmphex(t1->io_regions[0].addr, >=, 0xc000);
    g_assert_cmphex(t1->io_regions[0].addr & 31, ==, 0);
    g_assert_cmphex(t2->io_regions[0].addr, !=, t1->io_regions[0].addr);
    for (int i = 1; i < 4; i += 2) {
        pcibus_t a = t1->io_regions[i].addr, b = t2->io_regions[i].addr;
        pcibus_t size = t1->io_regions[i].size;

        g_assert_cmphex(a, >=, 0xc0000000);
        g_assert_cmphex(a + size, <=, 0xfec00000);
        g_assert_cmphex(a & (size - 1), ==, 0);
        g_assert_true(a + size <= b || b + size <= a);
    }
    /* 2 GiB cannot fit below 4 GiB: it went to the 64-bit hole. */
    g_assert_cmphex(big->io_regions[1].addr, ==, 4 * GiB);
    g_assert_cmphex(mem_readl(4 * GiB + 16), ==, 0x5010);
    /* The device behind the port sits in the port's windows. */
    {
        pcibus_t base, limit;

        pci_bridge_get_mem_window(rp, &base, &limit);
        g_assert_cmphex(limit - base + 1, >=, 2 * MiB);
        g_assert_cmphex(behind->io_regions[3].addr, >=, base);
        g_assert_cmphex(behind->io_regions[1].addr + 16 * 1024 - 1, <=,
                        limit);
        g_assert_cmphex(mem_readl(behind->io_regions[1].addr), ==, 0x5000);
        pci_bridge_get_io_window(rp, &base, &limit);
        g_assert_cmphex(behind->io_regions[0].addr, >=, base);
        g_assert_cmphex(behind->io_regions[0].addr + 31, <=, limit);
        g_assert_cmphex(address_space_ldl_le(&address_space_io,
                                             behind->io_regions[0].addr,
                                             MEMTXATTRS_UNSPECIFIED, NULL),
                        ==, 0x5000);
    }
    /* INTB of slot S: PIRQ[(S + 1) % 4 + 4] = GSI 20 + (S + 1) % 4. */
    g_assert_cmpuint(t1->config[PCI_INTERRUPT_LINE], ==,
                     20 + (PCI_SLOT(t1->devfn) + 1) % 4);
    machine_down();
}

/* A guest writing all-ones everywhere changes no fixed bit, and crashes
 * nothing. */
static void check_masks(PCIBus *bus, PCIDevice *d, void *opaque)
{
    uint8_t before[PCIE_CONFIG_SPACE_SIZE];
    uint32_t size = pci_config_size(d);

    memcpy(before, d->config, size);
    for (uint32_t off = 0; off < size; off++) {
        pci_host_config_write_common(d, off, PCIE_CONFIG_SPACE_SIZE, 0xff, 1);
    }
    for (uint32_t off = 0; off < size; off++) {
        uint8_t fixed = d->cmask[off] & ~d->wmask[off] & ~d->w1cmask[off];

        g_assert_cmphex(d->config[off] & fixed, ==, before[off] & fixed);
        g_assert_cmphex(d->wmask[off] & d->w1cmask[off], ==, 0);
    }
}

static void test_config_masks(void)
{
    PCIBus *sec;

    machine_up();
    add_dev("edu", "e", NULL, NULL, &error_abort);
    add_dev(TYPE_TESTDEV, "t", NULL, NULL, &error_abort);
    sec = pci_bridge_get_sec_bus(add_dev("pcie-root-port", "rp", NULL, NULL,
                                         &error_abort));
    add_dev("edu", "e2", &sec->qbus, NULL, &error_abort);
    machine_reset(ms);
    pci_for_each_device_under_bus(root_bus(), check_masks, NULL);
    /* And the machine still resets and tears down cleanly. */
    machine_reset(ms);
    machine_down();
}

/* A fake vIOMMU: IOVA x goes to x + offset; it records who asked. */
typedef struct FakeIOMMU {
    IOMMUMemoryRegion iommu;
    AddressSpace as;
    hwaddr offset;
    uint16_t last_rid;
    PCIBus *secondary_bus;      /* last asked for, not the root bus */
    int secondary_devfn;
    int last_devfn;
    int set_calls, unset_calls;
} FakeIOMMU;

static IOMMUTLBEntry fake_translate(IOMMUMemoryRegion *iommu, hwaddr addr,
                                    IOMMUAccessFlags flag, MemTxAttrs attrs)
{
    FakeIOMMU *f = (FakeIOMMU *)iommu;
    IOMMUTLBEntry e = {
        .target_as = &address_space_memory,
        .iova = addr & ~0xfffull,
        .translated_addr = (addr & ~0xfffull) + f->offset,
        .addr_mask = 0xfff,
        .perm = IOMMU_RW,
    };

    f->last_rid = attrs.requester_id;
    return e;
}

static const IOMMUMemoryRegionOps fake_iommu_ops = {
    .translate = fake_translate,
};

static AddressSpace *fake_get_as(PCIBus *bus, void *opaque, int devfn)
{
    FakeIOMMU *f = opaque;

    if (!pci_bus_is_root(bus)) {
        f->secondary_bus = bus;
        f->secondary_devfn = devfn;
    }
    f->last_devfn = devfn;
    return &f->as;
}

static bool fake_set(PCIBus *bus, void *opaque, int devfn,
                     struct HostIOMMUDevice *dev, Error **errp)
{
    FakeIOMMU *f = opaque;

    f->set_calls++;
    if (devfn == PCI_DEVFN(7, 0)) {
        error_setg(errp, "fake: refused");
        return false;
    }
    return true;
}

static void fake_unset(PCIBus *bus, void *opaque, int devfn)
{
    ((FakeIOMMU *)opaque)->unset_calls++;
}

static uint64_t fake_flags(void *opaque)
{
    return 0x3;
}

static const PCIIOMMUOps fake_ops = {
    .get_address_space = fake_get_as,
    .set_iommu_device = fake_set,
    .unset_iommu_device = fake_unset,
    .get_viommu_flags = fake_flags,
};

static void dma_pattern(PCIDevice *d, hwaddr iova, uint32_t v,
                        MemTxResult expect)
{
    g_assert_cmphex(pci_dma_write(d, iova, &v, sizeof(v)), ==, expect);
}

static void test_iommu_hook(void)
{
    FakeIOMMU f = { .offset = 0x100000, .secondary_devfn = -1 };
    PCIDevice *d, *behind, *rp, *refused;
    Error *err = NULL;

    machine_up();
    /* Devices first, the vIOMMU later: both get its address space. */
    d = add_dev(TYPE_TESTDEV, "t", NULL, "05.0", &error_abort);
    rp = add_dev("pcie-root-port", "rp", NULL, "06.0", &error_abort);
    behind = add_dev(TYPE_TESTDEV, "t2", &pci_bridge_get_sec_bus(rp)->qbus,
                     NULL, &error_abort);
    machine_reset(ms);
    g_assert_true(pci_device_iommu_address_space(d) == &address_space_memory);
    g_assert_cmpuint(pci_device_get_viommu_flags(d), ==, 0);
    g_assert_true(pci_device_set_iommu_device(d, NULL, &error_abort));

    memory_region_init_iommu(&f.iommu, &fake_iommu_ops, NULL, "fake-iommu",
                             UINT64_MAX);
    address_space_init(&f.as, &f.iommu.parent_obj, "fake-iommu");
    pci_setup_iommu(root_bus(), &fake_ops, &f);
    g_assert_true(pci_device_iommu_address_space(d) == &f.as);
    g_assert_true(pci_device_iommu_address_space(behind) == &f.as);
    /* Behind the port: the device's own bus and devfn. */
    g_assert_true(f.secondary_bus == pci_bridge_get_sec_bus(rp));
    g_assert_cmpint(f.secondary_devfn, ==, 0);

    /* Bus mastering gates DMA even through the vIOMMU. */
    dma_pattern(d, 0x2000, 0xcafe, MEMTX_DECODE_ERROR);
    cfg_writew(0, d->devfn, PCI_COMMAND, PCI_COMMAND_MASTER);
    dma_pattern(d, 0x2000, 0xcafe, MEMTX_OK);
    g_assert_cmphex(mem_readl(0x102000), ==, 0xcafe);
    g_assert_cmphex(f.last_rid, ==, PCI_DEVFN(5, 0));
    cfg_writew(1, 0, PCI_COMMAND, PCI_COMMAND_MASTER);
    dma_pattern(behind, 0x3000, 0xbeef, MEMTX_OK);
    g_assert_cmphex(mem_readl(0x103000), ==, 0xbeef);
    g_assert_cmphex(f.last_rid, ==, 0x0100);
    g_assert_cmphex(pci_requester_id(behind), ==, 0x0100);

    /* A device realized after the hook also gets it. */
    refused = add_dev(TYPE_TESTDEV, "t3", NULL, "07.0", &error_abort);
    g_assert_true(pci_device_iommu_address_space(refused) == &f.as);
    g_assert_cmpint(f.last_devfn, ==, PCI_DEVFN(7, 0));

    g_assert_true(pci_device_set_iommu_device(d, NULL, &error_abort));
    g_assert_false(pci_device_set_iommu_device(refused, NULL, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "fake: refused");
    error_free(err);
    pci_device_unset_iommu_device(d);
    g_assert_cmpint(f.set_calls, ==, 2);
    g_assert_cmpint(f.unset_calls, ==, 1);
    g_assert_cmpuint(pci_device_get_viommu_flags(behind), ==, 3);

    /* Unregistering sends DMA straight to memory again. */
    pci_setup_iommu(root_bus(), NULL, NULL);
    dma_pattern(d, 0x2000, 0xf00d, MEMTX_OK);
    g_assert_cmphex(mem_readl(0x2000), ==, 0xf00d);
    address_space_destroy(&f.as);
    memory_region_finalize(&f.iommu.parent_obj);
    machine_down();
}

static void test_msi_vectors(void)
{
    PCIDevice *d, *behind, *rp;
    uint8_t cap;
    ApicMsi m;

    machine_up();
    d = add_dev(TYPE_TESTDEV, "t", NULL, "05.0", &error_abort);
    rp = add_dev("pcie-root-port", "rp", NULL, "06.0", &error_abort);
    behind = add_dev(TYPE_TESTDEV, "t2", &pci_bridge_get_sec_bus(rp)->qbus,
                     NULL, &error_abort);
    machine_reset(ms);
    apic_msi_clear();
    cap = d->msi_cap;
    /* 32-bit, 4 vectors, per-vector mask. */
    g_assert_cmphex(cfg_readw(0, d->devfn, cap + PCI_MSI_FLAGS), ==, 0x0104);
    cfg_writel(0, d->devfn, cap + PCI_MSI_ADDRESS_LO, 0xfee00000);
    cfg_writew(0, d->devfn, cap + PCI_MSI_DATA_32, 0x40);
    /* Asking for 32 vectors grants the 4 offered. */
    cfg_writew(0, d->devfn, cap + PCI_MSI_FLAGS, 0x0051);
    g_assert_cmphex(cfg_readw(0, d->devfn, cap + PCI_MSI_FLAGS), ==, 0x0125);
    g_assert_cmpuint(msi_nr_vectors_allocated(d), ==, 4);
    cfg_writew(0, d->devfn, PCI_COMMAND, PCI_COMMAND_MASTER);

    msi_notify(d, 3);
    g_assert_true(apic_msi_pop(&m));
    g_assert_cmphex(m.data, ==, 0x43);
    g_assert_cmphex(m.requester_id, ==, PCI_DEVFN(5, 0));

    /* Masked: pending, then delivered on unmask. */
    cfg_writel(0, d->devfn, cap + PCI_MSI_MASK_32, 0x2);
    msi_notify(d, 1);
    g_assert_false(apic_msi_pop(&m));
    g_assert_cmphex(cfg_readl(0, d->devfn, cap + PCI_MSI_PENDING_32), ==, 0x2);
    cfg_writel(0, d->devfn, cap + PCI_MSI_MASK_32, 0);
    g_assert_true(apic_msi_pop(&m));
    g_assert_cmphex(m.data, ==, 0x41);
    g_assert_cmphex(cfg_readl(0, d->devfn, cap + PCI_MSI_PENDING_32), ==, 0);
    /* Only the allocated vectors' mask bits exist. */
    cfg_writel(0, d->devfn, cap + PCI_MSI_MASK_32, 0xffffffff);
    g_assert_cmphex(cfg_readl(0, d->devfn, cap + PCI_MSI_MASK_32), ==, 0xf);

    /* MSI-X from behind the root port carries bus 1's requester id. */
    cfg_writew(1, 0, PCI_COMMAND, PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY);
    pci_set_quad(behind->msix_table + PCI_MSIX_ENTRY_LOWER_ADDR, 0xfee00000);
    pci_set_long(behind->msix_table + PCI_MSIX_ENTRY_DATA, 0x55);
    pci_set_long(behind->msix_table + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
    cfg_writew(1, 0, behind->msix_cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE);
    msix_notify(behind, 0);
    g_assert_true(apic_msi_pop(&m));
    g_assert_cmphex(m.data, ==, 0x55);
    g_assert_cmphex(m.requester_id, ==, 0x0100);
    /* Enabling MSI-X drops an asserted INTx. */
    pci_irq_assert(behind);
    g_assert_cmphex(behind->irq_state, ==, 0x2);
    cfg_writew(1, 0, behind->msix_cap + PCI_MSIX_FLAGS, 0);
    cfg_writew(1, 0, behind->msix_cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE);
    g_assert_cmphex(behind->irq_state, ==, 0);
    machine_down();
}

static void test_capability_placement(void)
{
    PCIDevice *d;
    Error *err = NULL;

    machine_up();
    d = add_dev(TYPE_TESTDEV, "t", NULL, NULL, &error_abort);
    g_assert_cmpint(pci_add_capability(d, PCI_CAP_ID_VNDR, d->msi_cap + 4, 8,
                                       &err), ==, -1);
    g_assert_nonnull(strstr(error_get_pretty(err), "overlaps capability 0x5"));
    error_free(err);
    err = NULL;
    g_assert_cmpint(pci_add_capability(d, PCI_CAP_ID_VNDR, 0x20, 8, &err),
                    ==, -1);
    error_free(err);
    err = NULL;
    g_assert_cmpint(pci_add_capability(d, PCI_CAP_ID_VNDR, 0, 200, &err), ==,
                    -1);
    g_assert_nonnull(strstr(error_get_pretty(err), "no room"));
    error_free(err);
    /* First free space follows the MSI and MSI-X capabilities. */
    g_assert_cmpint(pci_add_capability(d, PCI_CAP_ID_VNDR, 0, 8,
                                       &error_abort), ==, 0x60);
    g_assert_cmpint(pci_find_capability(d, PCI_CAP_ID_VNDR), ==, 0x60);
    g_assert_cmpint(d->config[PCI_CAPABILITY_LIST], ==, 0x60);
    machine_down();
}

static void test_addr_property(void)
{
    static const struct {
        const char *s;
        int devfn;              /* -2: refused */
    } cases[] = {
        { "1f.7", 0xff }, { "1f", 0xf8 }, { "03.0", 0x18 }, { "0x4", 0x20 },
        { "20.0", -2 }, { "03.8", -2 }, { "", -2 }, { "x", -2 },
        { "3.", -2 }, { "-1", -2 }, { "03.0 ", -2 },
    };
    Object *dev = object_new("edu");

    g_assert_cmpint(object_property_get_int(dev, "addr", &error_abort), ==,
                    -1);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        Error *err = NULL;
        bool ok;

        object_property_set_int(dev, "addr", 5, &error_abort);
        ok = object_property_parse(dev, "addr", cases[i].s, &err);
        g_test_message("addr=%s", cases[i].s);
        if (cases[i].devfn == -2) {
            g_assert_false(ok);
            g_assert_cmpint(object_property_get_int(dev, "addr", NULL), ==,
                            5);
            error_free(err);
        } else {
            g_assert_true(ok);
            g_assert_cmpint(object_property_get_int(dev, "addr", NULL), ==,
                            cases[i].devfn);
        }
    }
    g_assert_true(object_property_set_int(dev, "addr", -1, NULL));
    g_assert_false(object_property_set_int(dev, "addr", 256, NULL));
    object_unref(dev);
}

static void test_multifunction(void)
{
    Error *err = NULL;
    PCIDevice *f0;

    machine_up();
    /* Function 1 alone is invisible to enumeration. */
    g_assert_nonnull(add_dev("edu", "a1", NULL, "05.1", &error_abort));
    g_assert_cmphex(cfg_readl(0, PCI_DEVFN(5, 1), 0), ==, 0xffffffff);
    g_assert_null(add_dev("edu", "a0", NULL, "05.0", &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "PCI: 5.0 indicates single function, but 5.1 is already "
                    "populated.");
    error_free(err);
    err = NULL;
    f0 = PCI_DEVICE(qdev_new("edu"));
    object_property_set_bool(OBJECT(f0), "multifunction", true, &error_abort);
    object_property_set_int(OBJECT(f0), "addr", PCI_DEVFN(5, 0), &error_abort);
    g_assert_true(qdev_realize_and_unref(DEVICE(f0), &root_bus()->qbus,
                                         &error_abort));
    g_assert_cmphex(cfg_readl(0, PCI_DEVFN(5, 1), 0), ==, 0x11e81234);
    g_assert_cmphex(f0->config[PCI_HEADER_TYPE], ==, 0x80);

    g_assert_nonnull(add_dev("edu", "b0", NULL, "06.0", &error_abort));
    g_assert_null(add_dev("edu", "b1", NULL, "06.1", &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "PCI: single function device can't be populated in "
                    "function 6.1");
    error_free(err);
    err = NULL;
    g_assert_null(add_dev("edu", "c", NULL, "00.0", &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "PCI: slot 0 function 0 not available for edu, in use by "
                    "mch");
    error_free(err);
    machine_down();
}

/* Type 1 cycles follow the programmed bus numbers; secondary bus reset. */
static void test_bridge_routing(void)
{
    PCIDevice *rp1, *rp2, *e;

    machine_up();
    rp1 = add_dev("pcie-root-port", "rp1", NULL, "06.0", &error_abort);
    rp2 = add_dev("pcie-root-port", "rp2", NULL, "07.0", &error_abort);
    add_dev("edu", "e1", &pci_bridge_get_sec_bus(rp1)->qbus, NULL,
            &error_abort);
    e = add_dev(TYPE_TESTDEV, "e2", &pci_bridge_get_sec_bus(rp2)->qbus, NULL,
                &error_abort);
    machine_reset(ms);
    g_assert_cmphex(cfg_readl(1, 0, 0), ==, 0x11e81234);
    g_assert_cmphex(cfg_readl(2, 0, 0), ==, 0x00051b36);

    /* Renumber rp1's side as bus 5. */
    cfg_writel(0, rp1->devfn, PCI_PRIMARY_BUS, 0x00050500);
    g_assert_cmphex(cfg_readl(1, 0, 0), ==, 0xffffffff);
    g_assert_cmphex(cfg_readl(5, 0, 0), ==, 0x11e81234);
    g_assert_cmphex(pci_requester_id(e), ==, 0x0200);
    /* Unnumbered (secondary 0): nothing forwarded. */
    cfg_writel(0, rp2->devfn, PCI_PRIMARY_BUS, 0);
    g_assert_cmphex(cfg_readl(2, 0, 0), ==, 0xffffffff);
    cfg_writel(0, rp2->devfn, PCI_PRIMARY_BUS, 0x00020200);

    /* Secondary Bus Reset resets what is behind. */
    cfg_writew(2, 0, PCI_COMMAND, PCI_COMMAND_MEMORY);
    g_assert_cmphex(cfg_readw(2, 0, PCI_COMMAND), ==, PCI_COMMAND_MEMORY);
    cfg_writew(0, rp2->devfn, PCI_BRIDGE_CONTROL, PCI_BRIDGE_CTL_BUS_RESET);
    g_assert_cmphex(cfg_readw(2, 0, PCI_COMMAND), ==, 0);
    cfg_writew(0, rp2->devfn, PCI_BRIDGE_CONTROL, 0);
    machine_down();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    type_register_static(&testdev_info);
    g_test_add_func("/pci/bar-kinds", test_bar_kinds);
    g_test_add_func("/pci/firmware-layout", test_firmware_layout);
    g_test_add_func("/pci/config-masks-hold", test_config_masks);
    g_test_add_func("/pci/iommu-hook/late-registration", test_iommu_hook);
    g_test_add_func("/pci/msi/vectors-and-masking", test_msi_vectors);
    g_test_add_func("/pci/capability-placement", test_capability_placement);
    g_test_add_func("/pci/addr-property", test_addr_property);
    g_test_add_func("/pci/multifunction-rules", test_multifunction);
    g_test_add_func("/pci/bridge/bus-number-routing", test_bridge_routing);
    return g_test_run();
}
