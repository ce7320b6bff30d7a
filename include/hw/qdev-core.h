/*
 * qdev: devices and buses on top of QOM.
 *
 * A device is created unrealized, gets its properties set, is plugged into
 * a bus and realized.  Realize is where a device acquires resources and may
 * fail (with an Error); unrealize gives them back.  A device's properties
 * that describe its configuration may only be set while unrealized.
 *
 * Buses are QOM children of the device that provides them ("pcie.0" of
 * the q35 host bridge).  A bus keeps its devices in plug order; each device
 * holds a reference on its parent bus while plugged.
 */
#ifndef HW_QDEV_CORE_H
#define HW_QDEV_CORE_H

#include "qom/object.h"
#include "hw/irq.h"

#define TYPE_DEVICE "device"
#define TYPE_BUS "bus"
#define TYPE_HOTPLUG_HANDLER "hotplug-handler"

typedef struct DeviceState DeviceState;
typedef struct DeviceClass DeviceClass;
typedef struct BusState BusState;
typedef struct BusClass BusClass;
typedef struct HotplugHandler HotplugHandler;  /* opaque: cast of Object */

/* -device help groups devices like QEMU does. */
typedef enum DeviceCategory {
    DEVICE_CATEGORY_MISC,
    DEVICE_CATEGORY_BRIDGE,
    DEVICE_CATEGORY_NETWORK,
    DEVICE_CATEGORY_STORAGE,
    DEVICE_CATEGORY_INPUT,
    DEVICE_CATEGORY_DISPLAY,
    DEVICE_CATEGORY_SOUND,
    DEVICE_CATEGORY_CPU,
    DEVICE_CATEGORY_WATCHDOG,
    DEVICE_CATEGORY_USB,
    DEVICE_CATEGORY__MAX
} DeviceCategory;

typedef struct Property Property;

struct DeviceClass {
    ObjectClass parent_class;
    const char *desc;
    DeviceCategory category;
    const char *bus_type;      /* NULL: the device sits on no bus */
    bool user_creatable;       /* may be created with -device/device_add */
    bool hotpluggable;
    bool (*realize)(DeviceState *dev, Error **errp);
    void (*unrealize)(DeviceState *dev);
    /* Puts the device in its power-on state (system_reset, bus reset). */
    void (*reset)(DeviceState *dev);
    const Property *props;     /* set by device_class_set_props() */
};

typedef struct NamedGPIOList {
    char *name;                /* NULL for the unnamed list */
    qemu_irq *in;
    int num_in;
    qemu_irq **out;            /* pointers to the device's output fields */
    int num_out;
} NamedGPIOList;

struct DeviceState {
    Object parent_obj;
    char *id;                  /* user id, or NULL */
    bool realized;
    bool hotplugged;           /* plugged after machine creation */
    bool pending_deletion;     /* device_del requested, not completed */
    BusState *parent_bus;
    GSList *child_buses;       /* BusState *, in creation order */
    GSList *gpios;             /* NamedGPIOList * */
};

struct BusClass {
    ObjectClass parent_class;
    /* The device's address on the bus, for messages ("03.0"). */
    char *(*get_dev_path)(DeviceState *dev);
    /* Called before plugging: checks and reserves the device's address. */
    bool (*check_address)(BusState *bus, DeviceState *dev, Error **errp);
    int max_dev;               /* 0: unlimited */
};

struct BusState {
    Object obj;
    DeviceState *parent;
    char *name;
    Object *hotplug_handler;   /* weak; NULL: not hot-pluggable */
    GList *children;           /* DeviceState *, plug order; ref held */
    int num_children;
};

typedef struct HotplugHandlerClass {
    InterfaceClass parent_class;
    /* All optional.  pre_plug runs before realize, plug after. */
    bool (*pre_plug)(HotplugHandler *h, DeviceState *dev, Error **errp);
    bool (*plug)(HotplugHandler *h, DeviceState *dev, Error **errp);
    /* Starts an unplug; may complete it at once by calling unplug. */
    bool (*unplug_request)(HotplugHandler *h, DeviceState *dev,
                           Error **errp);
    bool (*unplug)(HotplugHandler *h, DeviceState *dev, Error **errp);
} HotplugHandlerClass;

DECLARE_OBJ_CHECKERS(DeviceState, DeviceClass, DEVICE, TYPE_DEVICE)
DECLARE_OBJ_CHECKERS(BusState, BusClass, BUS, TYPE_BUS)
#define HOTPLUG_HANDLER(obj) \
    INTERFACE_CHECK(HotplugHandler, (obj), TYPE_HOTPLUG_HANDLER)
#define HOTPLUG_HANDLER_GET_CLASS(obj) \
    OBJECT_GET_CLASS(HotplugHandlerClass, (obj), TYPE_HOTPLUG_HANDLER)

bool hotplug_handler_pre_plug(HotplugHandler *h, DeviceState *dev,
                              Error **errp);
bool hotplug_handler_plug(HotplugHandler *h, DeviceState *dev, Error **errp);
bool hotplug_handler_unplug_request(HotplugHandler *h, DeviceState *dev,
                                    Error **errp);
bool hotplug_handler_unplug(HotplugHandler *h, DeviceState *dev,
                            Error **errp);

/* Devices */
DeviceState *qdev_new(const char *type);
/*
 * Plugs dev into bus (may be NULL for bus-less devices) and realizes it.
 * A device not yet in the composition tree is added under
 * /machine/unattached.  On failure the device is unplugged again.
 */
bool qdev_realize(DeviceState *dev, BusState *bus, Error **errp);
bool qdev_realize_and_unref(DeviceState *dev, BusState *bus, Error **errp);
void qdev_unrealize(DeviceState *dev);
/* Unrealizes dev, unplugs it from its bus and removes it from the tree. */
void qdev_unplug_and_unparent(DeviceState *dev);
const char *qdev_get_id(DeviceState *dev);
BusState *qdev_get_parent_bus(DeviceState *dev);
HotplugHandler *qdev_get_hotplug_handler(DeviceState *dev);
/* Device or any of its descendants on child buses with the given id. */
DeviceState *qdev_find_recursive(BusState *bus, const char *id);
/* "03.0" for PCI, the type name otherwise; caller frees. */
char *qdev_get_dev_path(DeviceState *dev);
/* Resets dev and every device on its child buses. */
void device_cold_reset(DeviceState *dev);

/* GPIOs */
void qdev_init_gpio_in(DeviceState *dev, qemu_irq_handler handler, int n);
void qdev_init_gpio_in_named(DeviceState *dev, qemu_irq_handler handler,
                             const char *name, int n);
void qdev_init_gpio_out(DeviceState *dev, qemu_irq *pins, int n);
void qdev_init_gpio_out_named(DeviceState *dev, qemu_irq *pins,
                              const char *name, int n);
qemu_irq qdev_get_gpio_in(DeviceState *dev, int n);
qemu_irq qdev_get_gpio_in_named(DeviceState *dev, const char *name, int n);
void qdev_connect_gpio_out(DeviceState *dev, int n, qemu_irq irq);
void qdev_connect_gpio_out_named(DeviceState *dev, const char *name, int n,
                                 qemu_irq irq);
NamedGPIOList *qdev_get_named_gpio_list(DeviceState *dev, const char *name);

/* Buses */
BusState *qbus_new(const char *type, DeviceState *parent, const char *name);
void qbus_set_hotplug_handler(BusState *bus, Object *handler);
bool qbus_is_hotpluggable(BusState *bus);
/* Resets every device on bus, recursively. */
void qbus_reset_all(BusState *bus);
/* Calls fn for every bus under root (depth first, root included). */
int qbus_walk(BusState *bus, int (*fn)(BusState *bus, void *opaque),
              void *opaque);

#endif
