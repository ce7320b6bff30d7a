/*
 * qdev unit tests: realize/unrealize, buses, static properties, GPIOs,
 * hotplug handlers, reset.
 */
#include <glib.h>
#include <string.h>

#include "hw/qdev-core.h"
#include "hw/qdev-properties.h"
#include "hw/boards.h"
#include "system/reset.h"
#include "qapi/qjson.h"

#define TYPE_TEST_BUS "test-bus"
#define TYPE_TEST_DEV "test-dev"
#define TYPE_TEST_BRIDGE "test-bridge"

typedef struct TestDev {
    DeviceState parent_obj;
    uint32_t num;
    uint64_t mask;
    bool flag;
    char *label;
    OnOffAuto mode;
    bool fail_realize;
    int realized_count;
    int unrealized_count;
    int reset_count;
    int level[4];
    qemu_irq out[2];
} TestDev;

typedef struct TestBridge {
    DeviceState parent_obj;
    BusState *bus;
    int plugged;
    int unplugged;
    bool refuse;
} TestBridge;

static bool test_dev_realize(DeviceState *dev, Error **errp)
{
    TestDev *t = (TestDev *)dev;

    if (t->fail_realize) {
        error_setg(errp, "test-dev: refusing to realize");
        return false;
    }
    t->realized_count++;
    return true;
}

static void test_dev_unrealize(DeviceState *dev)
{
    ((TestDev *)dev)->unrealized_count++;
}

static void test_dev_reset(DeviceState *dev)
{
    ((TestDev *)dev)->reset_count++;
}

static void test_dev_gpio(void *opaque, int n, int level)
{
    ((TestDev *)opaque)->level[n] = level;
}

static void test_dev_init(Object *obj)
{
    TestDev *t = (TestDev *)obj;

    qdev_init_gpio_in(DEVICE(obj), test_dev_gpio, 4);
    qdev_init_gpio_out(DEVICE(obj), t->out, 2);
}

static const Property test_dev_props[] = {
    DEFINE_PROP_UINT32("num", TestDev, num, 7),
    DEFINE_PROP_UINT64("mask", TestDev, mask, 0x0fffffff),
    DEFINE_PROP_BOOL("flag", TestDev, flag, true),
    DEFINE_PROP_STRING("label", TestDev, label),
    DEFINE_PROP_ON_OFF_AUTO("mode", TestDev, mode, ON_OFF_AUTO_AUTO),
    DEFINE_PROP_BOOL("fail-realize", TestDev, fail_realize, false),
    DEFINE_PROP_END_OF_LIST(),
};

static void test_dev_class_init(ObjectClass *oc, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->bus_type = TYPE_TEST_BUS;
    dc->realize = test_dev_realize;
    dc->unrealize = test_dev_unrealize;
    dc->reset = test_dev_reset;
    device_class_set_props(dc, test_dev_props);
}

static bool bridge_plug(HotplugHandler *h, DeviceState *dev, Error **errp)
{
    TestBridge *b = (TestBridge *)h;

    if (b->refuse) {
        error_setg(errp, "bridge refuses");
        return false;
    }
    b->plugged++;
    return true;
}

static bool bridge_unplug_request(HotplugHandler *h, DeviceState *dev,
                                  Error **errp)
{
    ((TestBridge *)h)->unplugged++;
    object_unparent(OBJECT(dev));
    return true;
}

static bool test_bridge_realize(DeviceState *dev, Error **errp)
{
    TestBridge *b = (TestBridge *)dev;

    b->bus = qbus_new(TYPE_TEST_BUS, dev, "tbus.0");
    qbus_set_hotplug_handler(b->bus, OBJECT(dev));
    return true;
}

static void test_bridge_class_init(ObjectClass *oc, const void *data)
{
    HotplugHandlerClass *hc = (HotplugHandlerClass *)
        object_class_dynamic_cast(oc, TYPE_HOTPLUG_HANDLER);

    DEVICE_CLASS(oc)->realize = test_bridge_realize;
    hc->plug = bridge_plug;
    hc->unplug_request = bridge_unplug_request;
}

static const TypeInfo test_types[] = {
    {
        .name = TYPE_TEST_BUS,
        .parent = TYPE_BUS,
    },
    {
        .name = TYPE_TEST_DEV,
        .parent = TYPE_DEVICE,
        .instance_size = sizeof(TestDev),
        .instance_init = test_dev_init,
        .class_init = test_dev_class_init,
    },
    {
        .name = TYPE_TEST_BRIDGE,
        .parent = TYPE_DEVICE,
        .instance_size = sizeof(TestBridge),
        .class_init = test_bridge_class_init,
        .interfaces = (const InterfaceInfo[]) {
            { TYPE_HOTPLUG_HANDLER },
            { NULL }
        },
    },
};

DEFINE_TYPES(test_types)

static TestBridge *new_bridge(void)
{
    DeviceState *dev = qdev_new(TYPE_TEST_BRIDGE);

    g_assert_true(qdev_realize(dev, NULL, &error_abort));
    object_unref(dev);
    return (TestBridge *)dev;
}

static void test_static_props(void)
{
    DeviceState *dev = qdev_new(TYPE_TEST_DEV);
    TestDev *t = (TestDev *)dev;
    Error *err = NULL;
    ObjectProperty *prop;
    char *s;

    /* Defaults are in place before instance_init and visible as defval. */
    g_assert_cmpuint(t->num, ==, 7);
    g_assert_cmpuint(t->mask, ==, 0x0fffffff);
    g_assert_true(t->flag);
    g_assert_cmpint(t->mode, ==, ON_OFF_AUTO_AUTO);
    prop = object_property_find(OBJECT(dev), "mask");
    g_assert_cmpstr(prop->type, ==, "uint64");
    s = qjson_to_string(prop->defval, false);
    g_assert_cmpstr(s, ==, "268435455");
    g_free(s);

    g_assert_true(object_property_parse(OBJECT(dev), "num", "42",
                                        &error_abort));
    g_assert_true(object_property_parse(OBJECT(dev), "mask",
                                        "0xffffffffffffffff", &error_abort));
    g_assert_cmpuint(t->mask, ==, UINT64_MAX);
    g_assert_true(object_property_parse(OBJECT(dev), "mode", "off",
                                        &error_abort));
    g_assert_cmpint(t->mode, ==, ON_OFF_AUTO_OFF);
    g_assert_true(object_property_parse(OBJECT(dev), "label", "hello",
                                        &error_abort));
    g_assert_false(object_property_parse(OBJECT(dev), "mode", "maybe",
                                         &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Parameter 'mode' does not accept value 'maybe'");
    error_free(err);
    err = NULL;
    g_assert_false(object_property_set_int(OBJECT(dev), "num", 1LL << 33,
                                           &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Parameter 'num' expects "
                    "uint32");
    error_free(err);
    err = NULL;
    object_unref(dev);
}

static void test_realize_on_bus(void)
{
    TestBridge *b = new_bridge();
    DeviceState *dev = qdev_new(TYPE_TEST_DEV);
    TestDev *t = (TestDev *)dev;
    Error *err = NULL;

    g_assert_true(qdev_realize(dev, b->bus, &error_abort));
    g_assert_true(dev->realized);
    g_assert_true(dev->parent_bus == b->bus);
    g_assert_cmpint(b->plugged, ==, 1);
    g_assert_cmpint(t->realized_count, ==, 1);
    /* Static properties are frozen once realized. */
    g_assert_false(object_property_set_uint(OBJECT(dev), "num", 1, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "after it was realized"));
    error_free(err);
    err = NULL;
    /* Not in the composition tree yet: parked under unattached. */
    g_assert_nonnull(OBJECT(dev)->parent);
    object_unref(dev);

    /* Reset reaches devices through the bridge's bus. */
    device_cold_reset(DEVICE(b));
    g_assert_cmpint(t->reset_count, ==, 1);

    /* Hot unplug through the handler removes the device. */
    object_ref(dev);
    g_assert_true(hotplug_handler_unplug_request(HOTPLUG_HANDLER(b), dev,
                                                 &error_abort));
    g_assert_cmpint(b->unplugged, ==, 1);
    g_assert_cmpint(t->unrealized_count, ==, 1);
    g_assert_null(dev->parent_bus);
    g_assert_cmpint(b->bus->num_children, ==, 0);
    object_unref(dev);
    object_unparent(OBJECT(b));
}

static void test_realize_failure(void)
{
    TestBridge *b = new_bridge();
    DeviceState *dev = qdev_new(TYPE_TEST_DEV);
    Error *err = NULL;

    g_assert_true(object_property_set_bool(OBJECT(dev), "fail-realize", true,
                                           &error_abort));
    g_assert_false(qdev_realize(dev, b->bus, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "test-dev: refusing to realize");
    error_free(err);
    err = NULL;
    /* Nothing is left plugged. */
    g_assert_false(dev->realized);
    g_assert_null(dev->parent_bus);
    g_assert_cmpint(b->bus->num_children, ==, 0);
    g_assert_null(OBJECT(dev)->parent);

    /* A refusing hotplug handler unrealizes again. */
    g_assert_true(object_property_set_bool(OBJECT(dev), "fail-realize", false,
                                           &error_abort));
    b->refuse = true;
    g_assert_false(qdev_realize(dev, b->bus, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "bridge refuses");
    error_free(err);
    g_assert_cmpint(((TestDev *)dev)->unrealized_count, ==, 1);
    g_assert_cmpint(b->bus->num_children, ==, 0);
    object_unref(dev);
    object_unparent(OBJECT(b));
}

static void test_bus_required(void)
{
    DeviceState *dev = qdev_new(TYPE_TEST_DEV);
    Error *err = NULL;

    g_assert_false(qdev_realize(dev, NULL, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Device 'test-dev' needs a bus of type test-bus");
    error_free(err);
    object_unref(dev);
}

static void test_gpio(void)
{
    TestBridge *b = new_bridge();
    DeviceState *src = qdev_new(TYPE_TEST_DEV);
    DeviceState *dst = qdev_new(TYPE_TEST_DEV);

    g_assert_true(qdev_realize(src, b->bus, &error_abort));
    g_assert_true(qdev_realize(dst, b->bus, &error_abort));
    qdev_connect_gpio_out(src, 1, qdev_get_gpio_in(dst, 3));
    qemu_set_irq(((TestDev *)src)->out[1], 1);
    g_assert_cmpint(((TestDev *)dst)->level[3], ==, 1);
    qemu_irq_lower(((TestDev *)src)->out[1]);
    g_assert_cmpint(((TestDev *)dst)->level[3], ==, 0);
    /* An unconnected output is a no-op. */
    qemu_irq_raise(((TestDev *)src)->out[0]);
    g_assert_cmpint(qdev_get_named_gpio_list(dst, NULL)->num_in, ==, 4);
    object_unref(src);
    object_unref(dst);
    object_unparent(OBJECT(b));
}

static void test_find_recursive(void)
{
    TestBridge *b = new_bridge();
    DeviceState *dev = qdev_new(TYPE_TEST_DEV);

    dev->id = g_strdup("needle");
    g_assert_true(qdev_realize(dev, b->bus, &error_abort));
    g_assert_true(qdev_find_recursive(b->bus, "needle") == dev);
    g_assert_null(qdev_find_recursive(b->bus, "hay"));
    object_unref(dev);
    object_unparent(OBJECT(b));
}

static int reset_calls;

static void count_reset(void *opaque)
{
    reset_calls += GPOINTER_TO_INT(opaque);
}

static void test_reset_handlers(void)
{
    qemu_register_reset(count_reset, GINT_TO_POINTER(1));
    qemu_register_reset(count_reset, GINT_TO_POINTER(10));
    qemu_devices_reset();
    g_assert_cmpint(reset_calls, ==, 11);
    qemu_unregister_reset(count_reset, GINT_TO_POINTER(10));
    qemu_devices_reset();
    g_assert_cmpint(reset_calls, ==, 12);
    qemu_unregister_reset(count_reset, GINT_TO_POINTER(1));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qdev/props/static", test_static_props);
    g_test_add_func("/qdev/realize/on-bus", test_realize_on_bus);
    g_test_add_func("/qdev/realize/failure-leaves-nothing",
                    test_realize_failure);
    g_test_add_func("/qdev/realize/bus-required", test_bus_required);
    g_test_add_func("/qdev/gpio/connect", test_gpio);
    g_test_add_func("/qdev/find-recursive", test_find_recursive);
    g_test_add_func("/qdev/reset/handlers", test_reset_handlers);
    return g_test_run();
}
