/*
 * Error objects and reporting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <glib.h>

#include "qapi/error.h"

struct Error {
    char *msg;
    ErrorClass cls;
    GString *hint;
};

Error *error_fatal;
Error *error_abort;

static const char *progname = "viommu-system-x86_64";

static const char *const error_class_names[ERROR_CLASS__MAX] = {
    [ERROR_CLASS_GENERIC_ERROR] = "GenericError",
    [ERROR_CLASS_COMMAND_NOT_FOUND] = "CommandNotFound",
    [ERROR_CLASS_DEVICE_NOT_ACTIVE] = "DeviceNotActive",
    [ERROR_CLASS_DEVICE_NOT_FOUND] = "DeviceNotFound",
    [ERROR_CLASS_KVM_MISSING_CAP] = "KVMMissingCap",
};

const char *error_class_name(ErrorClass cls)
{
    return cls < ERROR_CLASS__MAX ? error_class_names[cls] : "GenericError";
}

void error_set_progname(const char *name)
{
    const char *slash = strrchr(name, '/');

    progname = slash ? slash + 1 : name;
}

static void error_handle(Error **errp, Error *err)
{
    if (errp == &error_abort) {
        fprintf(stderr, "Unexpected error: %s\n", err->msg);
        abort();
    }
    if (errp == &error_fatal) {
        error_report_err(err);
        exit(1);
    }
    if (!errp) {
        error_free(err);
        return;
    }
    /* Setting an error twice loses the first one: a bug in the caller. */
    if (*errp) {
        fprintf(stderr, "error set twice: '%s' then '%s'\n",
                (*errp)->msg, err->msg);
        abort();
    }
    *errp = err;
}

void error_vset(Error **errp, ErrorClass cls, const char *fmt, va_list ap)
{
    Error *err;

    if (!errp) {
        return;
    }
    err = g_new0(Error, 1);
    err->msg = g_strdup_vprintf(fmt, ap);
    err->cls = cls;
    error_handle(errp, err);
}

void error_set(Error **errp, ErrorClass cls, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_vset(errp, cls, fmt, ap);
    va_end(ap);
}

void error_setg(Error **errp, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_vset(errp, ERROR_CLASS_GENERIC_ERROR, fmt, ap);
    va_end(ap);
}

void error_setg_errno(Error **errp, int os_errno, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    if (!errp) {
        return;
    }
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (os_errno) {
        error_setg(errp, "%s: %s", msg, g_strerror(os_errno));
    } else {
        error_setg(errp, "%s", msg);
    }
    g_free(msg);
}

void error_append_hint(Error **errp, const char *fmt, ...)
{
    va_list ap;

    if (!errp || errp == &error_fatal || errp == &error_abort || !*errp) {
        return;
    }
    if (!(*errp)->hint) {
        (*errp)->hint = g_string_new(NULL);
    }
    va_start(ap, fmt);
    g_string_append_vprintf((*errp)->hint, fmt, ap);
    va_end(ap);
}

void error_prepend(Error **errp, const char *fmt, ...)
{
    va_list ap;
    char *prefix, *msg;

    if (!errp || !*errp) {
        return;
    }
    va_start(ap, fmt);
    prefix = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    msg = g_strconcat(prefix, (*errp)->msg, NULL);
    g_free(prefix);
    g_free((*errp)->msg);
    (*errp)->msg = msg;
}

void error_propagate(Error **dst, Error *local_err)
{
    if (!local_err) {
        return;
    }
    if (!dst) {
        error_free(local_err);
        return;
    }
    error_handle(dst, local_err);
}

const char *error_get_pretty(const Error *err)
{
    return err->msg;
}

ErrorClass error_get_class(const Error *err)
{
    return err->cls;
}

Error *error_copy(const Error *err)
{
    Error *copy = g_new0(Error, 1);

    copy->msg = g_strdup(err->msg);
    copy->cls = err->cls;
    if (err->hint) {
        copy->hint = g_string_new(err->hint->str);
    }
    return copy;
}

void error_free(Error *err)
{
    if (!err) {
        return;
    }
    g_free(err->msg);
    if (err->hint) {
        g_string_free(err->hint, true);
    }
    g_free(err);
}

void error_free_or_abort(Error **errp)
{
    if (!errp || !*errp) {
        abort();
    }
    error_free(*errp);
    *errp = NULL;
}

static void report(const char *kind, const char *msg, const GString *hint)
{
    fprintf(stderr, "%s: %s%s\n", progname, kind, msg);
    if (hint && hint->len) {
        fputs(hint->str, stderr);
        if (hint->str[hint->len - 1] != '\n') {
            fputc('\n', stderr);
        }
    }
}

void error_report_err(Error *err)
{
    report("", err->msg, err->hint);
    error_free(err);
}

void warn_report_err(Error *err)
{
    report("warning: ", err->msg, err->hint);
    error_free(err);
}

#define DEFINE_REPORT(fn, kind)                  \
    void fn(const char *fmt, ...)                \
    {                                            \
        va_list ap;                              \
        char *msg;                               \
                                                 \
        va_start(ap, fmt);                       \
        msg = g_strdup_vprintf(fmt, ap);         \
        va_end(ap);                              \
        report(kind, msg, NULL);                 \
        g_free(msg);                             \
    }

DEFINE_REPORT(error_report, "")
DEFINE_REPORT(warn_report, "warning: ")
DEFINE_REPORT(info_report, "info: ")

/* Guest-error logging, rate limited: a guest can trigger it at will. */
#define LOG_BURST 20

static bool log_guest_errors;
static bool log_unimp_enabled;
static bool log_mask_from_env_done;

void log_set_mask(const char *spec)
{
    g_auto(GStrv) items = g_strsplit(spec ? spec : "", ",", -1);

    for (char **it = items; *it; it++) {
        if (!strcmp(*it, "guest_errors")) {
            log_guest_errors = true;
        } else if (!strcmp(*it, "unimp")) {
            log_unimp_enabled = true;
        }
    }
    log_mask_from_env_done = true;
}

static void log_env_init(void)
{
    if (!log_mask_from_env_done) {
        log_mask_from_env_done = true;
        if (g_getenv("VIOMMU_LOG")) {
            log_set_mask(g_getenv("VIOMMU_LOG"));
        }
    }
}

bool log_guest_errors_enabled(void)
{
    log_env_init();
    return log_guest_errors;
}

static void log_limited(const char *fmt, va_list ap)
{
    static gint64 window_start;
    static unsigned printed, suppressed;
    gint64 now = g_get_monotonic_time();
    char *msg;

    if (now - window_start >= G_USEC_PER_SEC) {
        window_start = now;
        printed = 0;
    }
    if (printed >= LOG_BURST) {
        suppressed++;
        return;
    }
    printed++;
    msg = g_strdup_vprintf(fmt, ap);
    if (suppressed) {
        fprintf(stderr, "%s: (%u similar messages suppressed)\n",
                progname, suppressed);
        suppressed = 0;
    }
    fprintf(stderr, "%s: %s\n", progname, msg);
    g_free(msg);
}

void log_guest_error(const char *fmt, ...)
{
    va_list ap;

    if (!log_guest_errors_enabled()) {
        return;
    }
    va_start(ap, fmt);
    log_limited(fmt, ap);
    va_end(ap);
}

void log_unimp(const char *fmt, ...)
{
    va_list ap;

    log_env_init();
    if (!log_unimp_enabled) {
        return;
    }
    va_start(ap, fmt);
    log_limited(fmt, ap);
    va_end(ap);
}
