/*
 * Parsing of numbers, sizes and booleans given as strings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "util/cutils.h"

G_STATIC_ASSERT(sizeof(long long) == sizeof(int64_t));

/*
 * The common tail of the strto*() wrappers: ep is where the C library
 * stopped, err its errno.
 */
static int strtox_result(const char *s, const char *ep, const char **endptr,
                         int err)
{
    if (endptr) {
        *endptr = ep;
    }
    if (ep == s) {
        return -EINVAL;
    }
    if (err == ERANGE) {
        return -ERANGE;
    }
    if (err || (!endptr && *ep)) {
        return -EINVAL;
    }
    return 0;
}

int qemu_strtoi64(const char *s, const char **endptr, int base,
                  int64_t *result)
{
    char *ep;
    long long v;
    int ret;

    errno = 0;
    v = strtoll(s, &ep, base);
    ret = strtox_result(s, ep, endptr, errno);
    *result = ret == -EINVAL ? 0 : v;
    return ret;
}

int qemu_strtou64(const char *s, const char **endptr, int base,
                  uint64_t *result)
{
    char *ep;
    unsigned long long v;
    int ret;

    errno = 0;
    v = strtoull(s, &ep, base);
    ret = strtox_result(s, ep, endptr, errno);
    *result = ret == -EINVAL ? 0 : v;
    return ret;
}

static uint64_t size_suffix_mul(char c)
{
    static const char suffixes[] = "bkmgtpe";
    const char *p = c ? strchr(suffixes, g_ascii_tolower(c)) : NULL;

    return p ? UINT64_C(1) << (10 * (p - suffixes)) : 0;
}

static int do_strtosz(const char *s, const char **end, char default_suffix,
                      uint64_t *result)
{
    const char *p = s, *q;
    bool hex, has_fraction = false;
    double fraction = 0;
    uint64_t val, mul, frac_bytes;
    int ret;

    while (g_ascii_isspace(*p)) {
        p++;
    }
    if (*p == '-' || *p == '+') {
        goto invalid;
    }
    hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
    ret = qemu_strtou64(p, &q, hex ? 16 : 10, &val);
    if (q == p) {
        goto invalid;
    }
    if (*q == '.') {
        double scale = 0.1;

        if (hex || !g_ascii_isdigit(q[1])) {
            goto invalid;
        }
        has_fraction = true;
        for (q++; g_ascii_isdigit(*q); q++) {
            fraction += (*q - '0') * scale;
            scale /= 10;
        }
    }
    mul = size_suffix_mul(*q);
    if (mul) {
        q++;
    } else {
        mul = size_suffix_mul(default_suffix);
    }
    if ((has_fraction && mul == 1) || (!end && *q)) {
        goto invalid;
    }
    if (end) {
        *end = q;
    }
    if (ret == -ERANGE || val > UINT64_MAX / mul) {
        return -ERANGE;
    }
    /* fraction < 1, so frac_bytes < mul <= 2^60: exact enough in a double */
    frac_bytes = (uint64_t)(fraction * (double)mul);
    if (val * mul > UINT64_MAX - frac_bytes) {
        return -ERANGE;
    }
    *result = val * mul + frac_bytes;
    return 0;

invalid:
    if (end) {
        *end = s;
    }
    return -EINVAL;
}

int qemu_strtosz(const char *s, const char **end, uint64_t *result)
{
    return do_strtosz(s, end, 'B', result);
}

int qemu_strtosz_MiB(const char *s, const char **end, uint64_t *result)
{
    return do_strtosz(s, end, 'M', result);
}

bool qapi_bool_parse(const char *name, const char *value, bool *obj,
                     Error **errp)
{
    static const char *const yes[] = { "on", "yes", "true", "y" };
    static const char *const no[] = { "off", "no", "false", "n" };

    for (size_t i = 0; value && i < G_N_ELEMENTS(yes); i++) {
        if (!strcmp(value, yes[i])) {
            *obj = true;
            return true;
        }
        if (!strcmp(value, no[i])) {
            *obj = false;
            return true;
        }
    }
    error_setg(errp, "Parameter '%s' expects 'on' or 'off'", name);
    return false;
}

GPtrArray *qemu_split_option_list(const char *s)
{
    GPtrArray *items = g_ptr_array_new_with_free_func(g_free);
    GString *cur = g_string_new(NULL);

    for (const char *p = s; ; p++) {
        if (*p == ',' && p[1] == ',') {
            g_string_append_c(cur, ',');
            p++;
        } else if (*p == ',' || !*p) {
            g_ptr_array_add(items, g_string_free(cur, false));
            if (!*p) {
                break;
            }
            cur = g_string_new(NULL);
        } else {
            g_string_append_c(cur, *p);
        }
    }
    return items;
}
