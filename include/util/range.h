/*
 * Inclusive 64-bit ranges, and lists of them.
 *
 * A Range covers [lob, upb], both ends included, so that the whole 64-bit
 * space [0, UINT64_MAX] is representable; lob <= upb always (there is no
 * empty range).  Lists are GLists of g_malloc'ed Range, as the host IOMMU
 * device interface hands out (get_iova_ranges): the receiver owns the list
 * and frees it with range_list_free().
 */
#ifndef UTIL_RANGE_H
#define UTIL_RANGE_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

typedef struct Range {
    uint64_t lob;       /* lowest address in the range */
    uint64_t upb;       /* highest address in the range, inclusive */
} Range;

static inline Range *range_new(uint64_t lob, uint64_t upb)
{
    Range *r = g_new(Range, 1);

    r->lob = lob;
    r->upb = upb;
    return r;
}

static inline bool range_contains(const Range *r, uint64_t addr)
{
    return addr >= r->lob && addr <= r->upb;
}

/* GCopyFunc for g_list_copy_deep(). */
static inline gpointer range_copy_func(gconstpointer src, gpointer unused)
{
    return g_memdup2(src, sizeof(Range));
}

/* A deep copy of @list (a list of Range *); NULL for NULL. */
static inline GList *range_list_copy(GList *list)
{
    return g_list_copy_deep(list, range_copy_func, NULL);
}

static inline void range_list_free(GList *list)
{
    g_list_free_full(list, g_free);
}

/*
 * The first range of @list that is inverted (lob > upb) or does not lie
 * wholly above its predecessor; NULL if @list is sorted and disjoint.
 */
static inline const Range *range_list_find_invalid(GList *list)
{
    const Range *prev = NULL;

    for (GList *l = list; l; l = l->next) {
        const Range *r = l->data;

        if (r->lob > r->upb || (prev && r->lob <= prev->upb)) {
            return r;
        }
        prev = r;
    }
    return NULL;
}

#endif
