/*
 * The contents of the simulated host's tree on the VFIO side: the device
 * nodes a VMM opens and the sysfs entries it and a management layer read,
 * laid out as Linux lays them out (uapi_facts.md §3.1, §4.1):
 *
 *   dev/vfio/vfio                              container node, 10:196
 *   dev/vfio/<N>                               group node, 243:<N>
 *   dev/vfio/devices/vfioX                     cdev node, 511:X
 *   dev/char/511:X -> ../vfio/devices/vfioX
 *   sys/devices/pci<dom>:<bus>/<bdf>/          vendor device class ...
 *       iommu_group -> ../../../kernel/iommu_groups/<N>
 *       driver -> ../../../bus/pci/drivers/<driver>
 *       vfio-dev/vfioX/dev                     "511:X"
 *   sys/bus/pci/devices/<bdf> -> ../../../devices/pci<dom>:<bus>/<bdf>
 *   sys/bus/pci/drivers/<driver>/<bdf> -> ...
 *   sys/kernel/iommu_groups/<N>/devices/<bdf> -> ...
 *   sys/class/vfio-dev/vfioX -> ...
 *
 * Group and cdev nodes exist only for devices bound to vfio-pci (the
 * default driver; see sim_device_set_driver), as vfio creates them.
 * All symlinks are relative, so they resolve inside the private root.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "sim-internal.h"

static SimVfioDev *vfio_of(SimDevice *dev)
{
    return dev->vfio;
}

/* "sys/devices/pci0000:02/0000:02:00.0" for a canonical BDF. */
static char *dev_dir(const SimDevice *dev)
{
    return g_strdup_printf("sys/devices/pci%.7s/%s", dev->desc.bdf,
                           dev->desc.bdf);
}

static int tree_printf(SimHost *host, const char *rel, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static int tree_printf(SimHost *host, const char *rel, const char *fmt, ...)
{
    g_autofree char *text = NULL;
    va_list ap;

    va_start(ap, fmt);
    text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return sim_tree_write(host, rel, text);
}

/* ---- the static part ---------------------------------------------------- */

static int populate_iommu(SimHost *host)
{
    const char *dir = "sys/devices/virtual/iommu/dmar0/intel-iommu";
    g_autofree char *cap = g_strdup_printf("%s/cap", dir);
    g_autofree char *ecap = g_strdup_printf("%s/ecap", dir);
    g_autofree char *ver = g_strdup_printf("%s/version", dir);
    int r;

    if (host->desc.iommu != SIM_IOMMU_VTD) {
        return 0;
    }
    r = tree_printf(host, cap, "%" G_GINT64_MODIFIER "x\n", host->vtd_cap);
    if (!r) {
        r = tree_printf(host, ecap, "%" G_GINT64_MODIFIER "x\n",
                        host->vtd_ecap);
    }
    if (!r) {
        r = sim_tree_write(host, ver, "1:0\n");
    }
    if (!r) {
        r = sim_tree_symlink(host, "../../devices/virtual/iommu/dmar0",
                             "sys/class/iommu/dmar0");
    }
    return r;
}

int sim_files_populate(SimHost *host)
{
    static const char *const dirs[] = {
        "sys/bus/pci/devices", "sys/bus/pci/drivers/vfio-pci",
        "sys/kernel/iommu_groups",
    };
    int r = sim_node_add(host, "dev/vfio/vfio", &sim_vfio_container_fops,
                         NULL, makedev(SIM_VFIO_MISC_MAJOR,
                                       SIM_VFIO_CONTAINER_MINOR), NULL);

    for (unsigned i = 0; !r && i < G_N_ELEMENTS(dirs); i++) {
        r = sim_tree_mkdir(host, dirs[i]);
    }
    if (!r && host->desc.cdev) {
        r = sim_tree_mkdir(host, "dev/vfio/devices");
    }
    if (!r && host->desc.cdev) {
        r = sim_tree_mkdir(host, "sys/class/vfio-dev");
    }
    if (!r) {
        r = tree_printf(host, "sys/module/vfio_iommu_type1/parameters/"
                        "dma_entry_limit", "%u\n",
                        host->desc.dma_entry_limit);
    }
    if (!r) {
        r = sim_tree_write(host, "sys/module/vfio/parameters/"
                           "enable_unsafe_noiommu_mode", "N\n");
    }
    return r ? r : populate_iommu(host);
}

/* ---- cdev numbers ------------------------------------------------------- */

static int cdev_index_alloc(SimHost *host)
{
    SimVfioHost *vh = host->vfio;

    for (int i = 0; i < SIM_MAX_DEVICES; i++) {
        if (!vh->cdev_used[i]) {
            vh->cdev_used[i] = true;
            return i;
        }
    }
    return -ENOSPC;
}

/* ---- the vfio-pci part of a device -------------------------------------- */

static bool group_has_other_vfio_device(SimGroup *group, SimDevice *self)
{
    for (unsigned i = 0; i < group->devices->len; i++) {
        SimDevice *d = g_ptr_array_index(group->devices, i);

        if (d != self && d->vfio &&
            !strcmp(vfio_of(d)->driver, "vfio-pci")) {
            return true;
        }
    }
    return false;
}

static void cdev_remove(SimHost *host, SimDevice *dev)
{
    SimVfioDev *vd = vfio_of(dev);
    g_autofree char *dir = dev_dir(dev);
    g_autofree char *vdir = NULL, *cls = NULL, *chr = NULL;
    int x = vd->cdev_index;

    if (x < 0) {
        return;
    }
    vdir = g_strdup_printf("%s/vfio-dev", dir);
    cls = g_strdup_printf("sys/class/vfio-dev/vfio%d", x);
    chr = g_strdup_printf("dev/char/%d:%d", SIM_VFIO_CDEV_MAJOR, x);
    if (vd->cdev_node) {
        sim_node_remove(vd->cdev_node);
        vd->cdev_node = NULL;
    }
    sim_tree_remove(host, vdir);
    sim_tree_remove(host, cls);
    sim_tree_remove(host, chr);
    ((SimVfioHost *)host->vfio)->cdev_used[x] = false;
    vd->cdev_index = -1;
}

static int cdev_add(SimHost *host, SimDevice *dev)
{
    SimVfioDev *vd = vfio_of(dev);
    g_autofree char *dir = dev_dir(dev);
    g_autofree char *devf = NULL, *uevent = NULL, *node = NULL;
    g_autofree char *cls = NULL, *cls_target = NULL, *chr = NULL;
    g_autofree char *chr_target = NULL;
    int x = cdev_index_alloc(host), r;

    if (x < 0) {
        return x;
    }
    vd->cdev_index = x;
    devf = g_strdup_printf("%s/vfio-dev/vfio%d/dev", dir, x);
    uevent = g_strdup_printf("%s/vfio-dev/vfio%d/uevent", dir, x);
    node = g_strdup_printf("dev/vfio/devices/vfio%d", x);
    cls = g_strdup_printf("sys/class/vfio-dev/vfio%d", x);
    cls_target = g_strdup_printf("../../devices/pci%.7s/%s/vfio-dev/vfio%d",
                                 dev->desc.bdf, dev->desc.bdf, x);
    chr = g_strdup_printf("dev/char/%d:%d", SIM_VFIO_CDEV_MAJOR, x);
    chr_target = g_strdup_printf("../vfio/devices/vfio%d", x);

    r = tree_printf(host, devf, "%d:%d\n", SIM_VFIO_CDEV_MAJOR, x);
    if (!r) {
        r = tree_printf(host, uevent,
                        "MAJOR=%d\nMINOR=%d\nDEVNAME=vfio/devices/vfio%d\n",
                        SIM_VFIO_CDEV_MAJOR, x, x);
    }
    if (!r) {
        r = sim_node_add(host, node, &sim_vfio_device_fops, dev,
                         makedev(SIM_VFIO_CDEV_MAJOR, x), &vd->cdev_node);
    }
    if (!r) {
        r = sim_tree_symlink(host, cls_target, cls);
    }
    if (!r) {
        r = sim_tree_symlink(host, chr_target, chr);
    }
    if (r) {
        cdev_remove(host, dev);
    }
    return r;
}

/* dev/vfio/<N> exists while a device of the group is bound to vfio-pci. */
static int group_node_sync(SimHost *host, SimGroup *group, SimDevice *leaving)
{
    bool want = group_has_other_vfio_device(group, leaving);
    g_autofree char *rel = NULL;

    if (want && !group->node) {
        rel = g_strdup_printf("dev/vfio/%d", group->id);
        return sim_node_add(host, rel, &sim_vfio_group_fops, group,
                            makedev(SIM_VFIO_GROUP_MAJOR, group->id),
                            &group->node);
    }
    if (!want && group->node) {
        sim_node_remove(group->node);
        group->node = NULL;
    }
    return 0;
}

static void vfio_remove(SimHost *host, SimDevice *dev)
{
    cdev_remove(host, dev);
    group_node_sync(host, dev->group, dev);
}

static int vfio_add(SimHost *host, SimDevice *dev)
{
    int r = group_node_sync(host, dev->group, NULL);

    if (!r && host->desc.cdev) {
        r = cdev_add(host, dev);
    }
    if (r) {
        vfio_remove(host, dev);
    }
    return r;
}

/* ---- driver binding ----------------------------------------------------- */

static void driver_remove(SimHost *host, SimDevice *dev, const char *drv)
{
    g_autofree char *dir = dev_dir(dev);
    g_autofree char *link = g_strdup_printf("%s/driver", dir);
    g_autofree char *back = NULL;

    if (!drv[0]) {
        return;
    }
    back = g_strdup_printf("sys/bus/pci/drivers/%s/%s", drv, dev->desc.bdf);
    if (!strcmp(drv, "vfio-pci")) {
        vfio_remove(host, dev);
    }
    sim_tree_remove(host, link);
    sim_tree_remove(host, back);
}

static int driver_add(SimHost *host, SimDevice *dev)
{
    const char *drv = vfio_of(dev)->driver;
    g_autofree char *dir = dev_dir(dev);
    g_autofree char *link = NULL, *target = NULL, *back = NULL;
    g_autofree char *back_target = NULL;
    int r;

    if (!drv[0]) {
        return 0;
    }
    link = g_strdup_printf("%s/driver", dir);
    target = g_strdup_printf("../../../bus/pci/drivers/%s", drv);
    back = g_strdup_printf("sys/bus/pci/drivers/%s/%s", drv, dev->desc.bdf);
    back_target = g_strdup_printf("../../../../devices/pci%.7s/%s",
                                  dev->desc.bdf, dev->desc.bdf);
    r = sim_tree_symlink(host, target, link);
    if (!r) {
        r = sim_tree_symlink(host, back_target, back);
    }
    if (!r && !strcmp(drv, "vfio-pci")) {
        r = vfio_add(host, dev);
    }
    if (r) {
        driver_remove(host, dev, drv);
    }
    return r;
}

int sim_files_driver_changed(SimHost *host, SimDevice *dev,
                             const char *old_driver)
{
    driver_remove(host, dev, old_driver);
    return driver_add(host, dev);
}

/* ---- devices ------------------------------------------------------------ */

static int group_files(SimHost *host, SimDevice *dev)
{
    int id = dev->group->id;
    g_autofree char *link = g_strdup_printf("sys/kernel/iommu_groups/%d/"
                                            "devices/%s", id, dev->desc.bdf);
    g_autofree char *target = g_strdup_printf("../../../../devices/pci%.7s/%s",
                                              dev->desc.bdf, dev->desc.bdf);
    g_autofree char *type = g_strdup_printf("sys/kernel/iommu_groups/%d/type",
                                            id);
    g_autofree char *resv = g_strdup_printf("sys/kernel/iommu_groups/%d/"
                                            "reserved_regions", id);
    GString *text = g_string_new("");
    int r;

    for (unsigned i = 0; i < host->desc.n_reserved; i++) {
        const SimIovaRange *rr = &host->desc.reserved[i];

        bool msi = rr->start <= 0xfee00000 && rr->last >= 0xfee00000;

        g_string_append_printf(text, "0x%016" G_GINT64_MODIFIER "x 0x%016"
                               G_GINT64_MODIFIER "x %s\n", rr->start, rr->last,
                               msi ? "msi" : "reserved");
    }
    r = sim_tree_symlink(host, target, link);
    if (!r) {
        r = sim_tree_write(host, type, "DMA\n");
    }
    if (!r) {
        r = sim_tree_write(host, resv, text->str);
    }
    g_string_free(text, true);
    return r;
}

static int device_attrs(SimHost *host, SimDevice *dev)
{
    g_autofree char *dir = dev_dir(dev);
    const struct { const char *name; unsigned off, size; } ids[] = {
        { "vendor", 0x00, 2 }, { "device", 0x02, 2 },
        { "subsystem_vendor", 0x2c, 2 }, { "subsystem_device", 0x2e, 2 },
        { "revision", 0x08, 1 },
    };
    uint64_t v = 0, cls = 0;
    int r = 0;

    for (unsigned i = 0; !r && i < G_N_ELEMENTS(ids); i++) {
        g_autofree char *rel = g_strdup_printf("%s/%s", dir, ids[i].name);

        sim_model_read(dev, VFIO_PCI_CONFIG_REGION_INDEX, ids[i].off,
                       ids[i].size, &v);
        r = tree_printf(host, rel, "0x%0*x\n", (int)ids[i].size * 2,
                        (unsigned)v);
    }
    if (!r) {
        g_autofree char *rel = g_strdup_printf("%s/class", dir);

        sim_model_read(dev, VFIO_PCI_CONFIG_REGION_INDEX, 0x08, 4, &cls);
        r = tree_printf(host, rel, "0x%06x\n", (unsigned)(cls >> 8));
    }
    if (!r) {
        g_autofree char *rel = g_strdup_printf("%s/numa_node", dir);

        r = sim_tree_write(host, rel, "-1\n");
    }
    if (!r) {
        g_autofree char *rel = g_strdup_printf("%s/irq", dir);

        r = sim_tree_write(host, rel, "0\n");
    }
    return r;
}

static int device_links(SimHost *host, SimDevice *dev)
{
    g_autofree char *dir = dev_dir(dev);
    g_autofree char *grp = g_strdup_printf("%s/iommu_group", dir);
    g_autofree char *grp_target = g_strdup_printf("../../../kernel/"
                                                  "iommu_groups/%d",
                                                  dev->group->id);
    g_autofree char *bus = g_strdup_printf("sys/bus/pci/devices/%s",
                                           dev->desc.bdf);
    g_autofree char *bus_target = g_strdup_printf("../../../devices/"
                                                  "pci%.7s/%s", dev->desc.bdf,
                                                  dev->desc.bdf);
    g_autofree char *iommu = g_strdup_printf("%s/iommu", dir);
    int r = sim_tree_symlink(host, grp_target, grp);

    if (!r) {
        r = sim_tree_symlink(host, bus_target, bus);
    }
    if (!r && host->desc.iommu == SIM_IOMMU_VTD) {
        r = sim_tree_symlink(host, "../../virtual/iommu/dmar0", iommu);
    }
    return r;
}

void sim_files_remove_device(SimHost *host, SimDevice *dev)
{
    g_autofree char *dir = dev_dir(dev);
    g_autofree char *bus = g_strdup_printf("sys/bus/pci/devices/%s",
                                           dev->desc.bdf);
    g_autofree char *gdir = g_strdup_printf("sys/kernel/iommu_groups/%d",
                                            dev->group->id);
    g_autofree char *glink = g_strdup_printf("%s/devices/%s", gdir,
                                             dev->desc.bdf);

    if (dev->vfio) {
        driver_remove(host, dev, vfio_of(dev)->driver);
    }
    sim_tree_remove(host, bus);
    sim_tree_remove(host, dir);
    if (dev->group->devices->len <= 1) {
        sim_tree_remove(host, gdir);
    } else {
        sim_tree_remove(host, glink);
    }
}

int sim_files_add_device(SimHost *host, SimDevice *dev)
{
    int r = device_attrs(host, dev);

    if (!r) {
        r = device_links(host, dev);
    }
    if (!r) {
        r = group_files(host, dev);
    }
    if (!r) {
        r = driver_add(host, dev);
    }
    if (r) {
        sim_files_remove_device(host, dev);
    }
    return r;
}
