/*
 * Error reporting: the Error object and the Error ** convention.
 *
 * A fallible function takes "Error **errp" as its last argument and returns
 * false (or NULL, or a negative value) on failure after setting *errp.
 * errp may be NULL (the caller does not care), &error_fatal (print and
 * exit(1)) or &error_abort (a programming error: abort).  *errp must be NULL
 * on entry; setting an error twice is a bug.
 */
#ifndef QAPI_ERROR_H
#define QAPI_ERROR_H

#include <stdbool.h>
#include <stdarg.h>

typedef struct Error Error;

/* QMP error classes (the QapiErrorClass enum on the wire). */
typedef enum ErrorClass {
    ERROR_CLASS_GENERIC_ERROR,
    ERROR_CLASS_COMMAND_NOT_FOUND,
    ERROR_CLASS_DEVICE_NOT_ACTIVE,
    ERROR_CLASS_DEVICE_NOT_FOUND,
    ERROR_CLASS_KVM_MISSING_CAP,
    ERROR_CLASS__MAX,
} ErrorClass;

extern Error *error_fatal;
extern Error *error_abort;

const char *error_class_name(ErrorClass cls);

void error_setg(Error **errp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void error_set(Error **errp, ErrorClass cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void error_vset(Error **errp, ErrorClass cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Appends ": strerror(os_errno)" to the message. */
void error_setg_errno(Error **errp, int os_errno, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds a hint printed after the message by error_report_err(). */
void error_append_hint(Error **errp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prefixes the message of *errp (if set) with the formatted text. */
void error_prepend(Error **errp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Moves local_err into *dst (or frees it when dst is NULL). */
void error_propagate(Error **dst, Error *local_err);

const char *error_get_pretty(const Error *err);
ErrorClass error_get_class(const Error *err);
Error *error_copy(const Error *err);
void error_free(Error *err);
void error_free_or_abort(Error **errp);

/* Prints "viommu-system-x86_64: <msg>" (plus hint) on stderr, frees err. */
void error_report_err(Error *err);
void warn_report_err(Error *err);

void error_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void info_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The program name used as the prefix of error_report(); set by main(). */
void error_set_progname(const char *name);

/*
 * Rate-limited log of a guest error ("guest did something the spec says it
 * must not").  A guest can trigger these at will, so at most
 * LOG_BURST lines are printed per second; the count of suppressed lines is
 * reported with the next printed one.  Printed only when guest-error logging
 * is enabled (-d guest_errors, or VIOMMU_LOG=guest_errors in the
 * environment).
 */
void log_guest_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_unimp(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_set_mask(const char *spec);
bool log_guest_errors_enabled(void);

#define ERRP_GUARD() /* viommu code always uses a local Error * instead */

#endif
