/*
 * File descriptors passed to a monitor: getfd, closefd, and the lookups
 * other code uses to take one (-object iommufd,fd=NAME, vfio-pci fd=NAME).
 *
 * Each monitor keeps its own table of names; a name is never a number, so
 * that a number always means an fd the process already has.  An fd in the
 * table belongs to the monitor until someone takes it out.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "monitor/monitor.h"
#include "qapi/qapi-commands.h"

void monitor_fds_init(Monitor *mon)
{
    mon->fds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

void monitor_fds_cleanup(Monitor *mon)
{
    GHashTableIter it;
    gpointer fd;

    g_hash_table_iter_init(&it, mon->fds);
    while (g_hash_table_iter_next(&it, NULL, &fd)) {
        close(GPOINTER_TO_INT(fd));
    }
    g_clear_pointer(&mon->fds, g_hash_table_destroy);
}

void qmp_getfd(const char *fdname, Error **errp)
{
    Monitor *mon = monitor_cur();
    gpointer old;
    int fd = mon ? qemu_chr_fe_get_msgfd(mon->chr) : -1;

    if (fd < 0) {
        error_setg(errp, "No file descriptor supplied via SCM_RIGHTS");
        return;
    }
    if (g_ascii_isdigit(fdname[0])) {
        close(fd);
        error_setg(errp, "Parameter 'fdname' expects a name not starting "
                   "with a digit");
        return;
    }
    if (g_hash_table_lookup_extended(mon->fds, fdname, NULL, &old)) {
        close(GPOINTER_TO_INT(old));
    }
    g_hash_table_insert(mon->fds, g_strdup(fdname), GINT_TO_POINTER(fd));
}

void qmp_closefd(const char *fdname, Error **errp)
{
    Monitor *mon = monitor_cur();
    gpointer fd;

    if (!mon || !g_hash_table_lookup_extended(mon->fds, fdname, NULL, &fd)) {
        error_setg(errp, "File descriptor named '%s' not found", fdname);
        return;
    }
    close(GPOINTER_TO_INT(fd));
    g_hash_table_remove(mon->fds, fdname);
}

int monitor_get_fd(Monitor *mon, const char *fdname, Error **errp)
{
    gpointer key, fd;

    if (!mon || !g_hash_table_steal_extended(mon->fds, fdname, &key, &fd)) {
        error_setg(errp, "File descriptor named '%s' has not been found",
                   fdname);
        return -1;
    }
    g_free(key);
    return GPOINTER_TO_INT(fd);
}

int monitor_fd_param(Monitor *mon, const char *fdname, Error **errp)
{
    char *end;
    long fd;

    if (mon && !g_ascii_isdigit(fdname[0])) {
        return monitor_get_fd(mon, fdname, errp);
    }
    errno = 0;
    fd = strtol(fdname, &end, 10);
    if (!g_ascii_isdigit(fdname[0]) || *end || errno || fd > INT_MAX) {
        error_setg(errp, "Invalid file descriptor number '%s'", fdname);
        return -1;
    }
    return fd;
}
