/*
 * virtio-iommu-pci: the PCI function of the virtio-iommu device (the
 * device itself is hw/virtio/virtio-iommu.c).
 *
 * PCI class 0x0880 (system peripheral, other) as QEMU's.  The backend's
 * properties (granule, aw-bits, boot-bypass, reserved-regions, ...) are
 * the proxy's too.  Cold plug only: the vIOMMU must exist before the
 * guest sees the devices it translates for.
 */
#include "hw/virtio/virtio-iommu.h"
#include "hw/virtio/virtio-pci.h"

static void viommu_pci_instance_init(Object *obj)
{
    virtio_pci_init_backend(VIRTIO_PCI(obj), TYPE_VIRTIO_IOMMU);
}

static void viommu_pci_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->desc = "virtio IOMMU (PCI)";
    dc->hotpluggable = false;
    PCI_DEVICE_CLASS(klass)->class_id = PCI_CLASS_SYSTEM_OTHER;
    virtio_pci_class_forward_props(klass, TYPE_VIRTIO_IOMMU);
}

static const TypeInfo viommu_pci_types[] = {
    {
        .name = TYPE_VIRTIO_IOMMU_PCI,
        .parent = TYPE_VIRTIO_PCI,
        .instance_init = viommu_pci_instance_init,
        .class_init = viommu_pci_class_init,
    },
};

DEFINE_TYPES(viommu_pci_types)
