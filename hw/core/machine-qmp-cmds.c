/*
 * QMP commands about the machine and the emulator: query-machines,
 * query-target, query-kvm, query-accelerators, query-version,
 * system_powerdown.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hw/boards.h"
#include "monitor/monitor.h"
#include "system/accel.h"
#include "system/runstate.h"
#include "qapi/qapi-commands.h"
#include "qapi/qapi-events.h"

MachineInfoList *qmp_query_machines(bool has_compat_props, bool compat_props,
                                    Error **errp)
{
    GSList *list = object_class_get_list(TYPE_MACHINE, false);
    MachineInfoList *head = NULL, **tail = &head;

    for (GSList *l = list; l; l = l->next) {
        MachineClass *mc = l->data;
        MachineInfo *info = g_new0(MachineInfo, 1);

        info->name = g_strdup(mc->name);
        info->alias = g_strdup(mc->alias);
        if (mc->is_default) {
            info->has_is_default = true;
            info->is_default = true;
        }
        info->cpu_max = mc->max_cpus;
        info->hotpluggable_cpus = false;
        info->numa_mem_supported = false;
        info->deprecated = false;
        info->acpi = false;
        *tail = g_new0(MachineInfoList, 1);
        (*tail)->value = info;
        tail = &(*tail)->next;
    }
    g_slist_free(list);
    return head;
}

TargetInfo *qmp_query_target(Error **errp)
{
    TargetInfo *info = g_new0(TargetInfo, 1);

    info->arch = g_strdup("x86_64");
    return info;
}

static bool kvm_present(void)
{
    return access("/dev/kvm", R_OK | W_OK) == 0;
}

KvmInfo *qmp_query_kvm(Error **errp)
{
    KvmInfo *info = g_new0(KvmInfo, 1);
    const char *accel = current_accel_name();

    info->enabled = accel && !strcmp(accel, "kvm");
    info->present = kvm_present();
    return info;
}

AcceleratorInfo *qmp_query_accelerators(Error **errp)
{
    AcceleratorInfo *info = g_new0(AcceleratorInfo, 1);
    GSList *list = object_class_get_list(TYPE_ACCEL, false);
    AcceleratorList **tail = &info->present;
    const char *cur = current_accel_name();

    info->enabled = ACCELERATOR_QTEST;
    for (GSList *l = list; l; l = l->next) {
        AccelClass *ac = l->data;

        for (int i = 0; i < ACCELERATOR__MAX; i++) {
            if (!strcmp(Accelerator_lookup[i], ac->name)) {
                *tail = g_new0(AcceleratorList, 1);
                (*tail)->value = i;
                tail = &(*tail)->next;
                if (cur && !strcmp(cur, ac->name)) {
                    info->enabled = i;
                }
            }
        }
    }
    g_slist_free(list);
    return info;
}

VersionInfo *qmp_query_version(Error **errp)
{
    VersionInfo *info = g_new0(VersionInfo, 1);
    int major, minor, micro;

    viommu_version_triple(&major, &minor, &micro);
    info->qemu = g_new0(VersionTriple, 1);
    info->qemu->major = major;
    info->qemu->minor = minor;
    info->qemu->micro = micro;
    info->package = g_strdup("viommu-" VIOMMU_VERSION);
    return info;
}

void qmp_system_powerdown(Error **errp)
{
    /* No ACPI power button yet: the event is all a guest could see. */
    qapi_event_send_powerdown();
}
