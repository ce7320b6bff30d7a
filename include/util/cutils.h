/*
 * Parsing of numbers, sizes and booleans given as strings (command line,
 * QOM property values, human monitor).
 */
#ifndef UTIL_CUTILS_H
#define UTIL_CUTILS_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "qapi/error.h"

/*
 * Integer parsing with strtoll() rules for base (0: "0x" hex, leading "0"
 * octal, else decimal); leading whitespace is skipped.  Returns 0, or
 * -EINVAL (no digits; or trailing characters when endptr is NULL) or
 * -ERANGE (*result clamped).  endptr, if not NULL, gets the first byte not
 * parsed (s itself when there were no digits).  On -EINVAL *result is 0.
 * qemu_strtou64() accepts a minus sign and wraps like strtoull(): "-1" is
 * UINT64_MAX.
 */
int qemu_strtoi64(const char *s, const char **endptr, int base,
                  int64_t *result);
int qemu_strtou64(const char *s, const char **endptr, int base,
                  uint64_t *result);

/*
 * A byte size: a decimal or "0x" hex number with an optional suffix B, K,
 * M, G, T, P or E (either case, powers of 1024).  A decimal fraction
 * ("1.5M") needs a suffix other than B; hex takes no fraction.  Returns 0,
 * -EINVAL or -ERANGE (not representable in 64 bits); *result is only
 * written on success.  end works as for qemu_strtoi64().
 * qemu_strtosz_MiB() is the same but a number without suffix counts
 * mebibytes (the -m option).
 */
int qemu_strtosz(const char *s, const char **end, uint64_t *result);
int qemu_strtosz_MiB(const char *s, const char **end, uint64_t *result);

/*
 * "on", "yes", "true", "y" and "off", "no", "false", "n".  Otherwise an
 * error "Parameter 'NAME' expects 'on' or 'off'".
 */
bool qapi_bool_parse(const char *name, const char *value, bool *obj,
                     Error **errp);

/*
 * s split at single commas, ",," standing for a literal comma (the
 * option syntax): "a,,b,c" -> "a,b", "c"; "" -> one empty item.  A new
 * array of g_malloc'ed strings (freed with the array).
 */
GPtrArray *qemu_split_option_list(const char *s);

#endif
