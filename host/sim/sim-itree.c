/*
 * Interval tree for IOVA ranges: an AVL tree ordered by start, each node
 * augmented with the largest `last` in its subtree, so that "first node
 * intersecting [start, last]" is a single descent.  Nodes are embedded in
 * their owners (areas, reserved ranges, type1 mappings); the tree never
 * allocates.  Also the SimArea helpers built on it.
 */
#include <sys/mman.h>

#include "sim-internal.h"

static int height(const SimItreeNode *n)
{
    return n ? n->height : 0;
}

/* Recompute the cached height and subtree_last of @n from its children. */
static void update(SimItreeNode *n)
{
    uint64_t m = n->last;
    int hl = height(n->left), hr = height(n->right);

    if (n->left && n->left->subtree_last > m) {
        m = n->left->subtree_last;
    }
    if (n->right && n->right->subtree_last > m) {
        m = n->right->subtree_last;
    }
    n->subtree_last = m;
    n->height = 1 + (hl > hr ? hl : hr);
}

/* Make @new take @old's place under old's parent (or as the root). */
static void replace_child(SimItree *t, SimItreeNode *old, SimItreeNode *new)
{
    SimItreeNode *p = old->parent;

    if (!p) {
        t->root = new;
    } else if (p->left == old) {
        p->left = new;
    } else {
        p->right = new;
    }
    if (new) {
        new->parent = p;
    }
}

static SimItreeNode *rotate_left(SimItree *t, SimItreeNode *x)
{
    SimItreeNode *y = x->right;

    x->right = y->left;
    if (y->left) {
        y->left->parent = x;
    }
    replace_child(t, x, y);
    y->left = x;
    x->parent = y;
    update(x);
    update(y);
    return y;
}

static SimItreeNode *rotate_right(SimItree *t, SimItreeNode *x)
{
    SimItreeNode *y = x->left;

    x->left = y->right;
    if (y->right) {
        y->right->parent = x;
    }
    replace_child(t, x, y);
    y->right = x;
    x->parent = y;
    update(x);
    update(y);
    return y;
}

/* Restore the AVL and augmentation invariants from @n up to the root. */
static void rebalance(SimItree *t, SimItreeNode *n)
{
    while (n) {
        int bal;

        update(n);
        bal = height(n->left) - height(n->right);
        if (bal > 1) {
            if (height(n->left->left) < height(n->left->right)) {
                rotate_left(t, n->left);
            }
            n = rotate_right(t, n);
        } else if (bal < -1) {
            if (height(n->right->right) < height(n->right->left)) {
                rotate_right(t, n->right);
            }
            n = rotate_left(t, n);
        }
        n = n->parent;
    }
}

void sim_itree_init(SimItree *t)
{
    t->root = NULL;
    t->count = 0;
}

void sim_itree_insert(SimItree *t, SimItreeNode *n)
{
    SimItreeNode **link = &t->root, *parent = NULL;

    while (*link) {
        parent = *link;
        link = n->start < parent->start ? &parent->left : &parent->right;
    }
    n->left = n->right = NULL;
    n->parent = parent;
    n->height = 1;
    n->subtree_last = n->last;
    *link = n;
    t->count++;
    rebalance(t, parent);
}

static SimItreeNode *leftmost(SimItreeNode *n)
{
    while (n && n->left) {
        n = n->left;
    }
    return n;
}

void sim_itree_remove(SimItree *t, SimItreeNode *n)
{
    SimItreeNode *from;

    if (n->left && n->right) {
        /* Relink the successor s (no left child) into n's place. */
        SimItreeNode *s = leftmost(n->right);

        if (s->parent == n) {
            from = s;
        } else {
            from = s->parent;
            replace_child(t, s, s->right);
            s->right = n->right;
            s->right->parent = s;
        }
        s->left = n->left;
        s->left->parent = s;
        replace_child(t, n, s);
        s->height = n->height;
    } else {
        from = n->parent;
        replace_child(t, n, n->left ? n->left : n->right);
    }
    n->left = n->right = n->parent = NULL;
    t->count--;
    rebalance(t, from);
}

SimItreeNode *sim_itree_first(const SimItree *t)
{
    return leftmost(t->root);
}

SimItreeNode *sim_itree_next(const SimItreeNode *n)
{
    if (n->right) {
        return leftmost(n->right);
    }
    while (n->parent && n->parent->right == n) {
        n = n->parent;
    }
    return n->parent;
}

/*
 * The first node (by start) intersecting [start, last] in the subtree at
 * @n.  Going left is right whenever the left subtree reaches @start: either
 * it holds the answer, or its node reaching @start begins after @last and
 * then so does everything to its right.
 */
static SimItreeNode *subtree_search(SimItreeNode *n, uint64_t start,
                                    uint64_t last)
{
    while (n) {
        if (n->left && n->left->subtree_last >= start) {
            n = n->left;
            continue;
        }
        if (n->start > last) {
            return NULL;
        }
        if (n->last >= start) {
            return n;
        }
        if (!n->right || n->right->subtree_last < start) {
            return NULL;
        }
        n = n->right;
    }
    return NULL;
}

SimItreeNode *sim_itree_first_overlap(const SimItree *t, uint64_t start,
                                      uint64_t last)
{
    if (!t->root || t->root->subtree_last < start) {
        return NULL;
    }
    return subtree_search(t->root, start, last);
}

SimItreeNode *sim_itree_next_overlap(const SimItreeNode *n, uint64_t start,
                                     uint64_t last)
{
    const SimItreeNode *cur = n;
    SimItreeNode *r;

    if (cur->right && cur->right->subtree_last >= start) {
        r = subtree_search(cur->right, start, last);
        if (r) {
            return r;
        }
    }
    while (cur->parent) {
        SimItreeNode *p = cur->parent;

        if (p->left == cur) {
            if (p->start > last) {
                return NULL;
            }
            if (p->last >= start) {
                return p;
            }
            if (p->right && p->right->subtree_last >= start) {
                r = subtree_search(p->right, start, last);
                if (r) {
                    return r;
                }
            }
        }
        cur = p;
    }
    return NULL;
}

/* ---- areas -------------------------------------------------------------- */

SimPages *sim_pages_get(SimPages *pages)
{
    if (pages) {
        pages->refs++;
    }
    return pages;
}

void sim_pages_put(SimPages *pages)
{
    if (pages && --pages->refs == 0) {
        munmap(pages->base, pages->size);
        g_free(pages);
    }
}

SimArea *sim_area_new(uint64_t iova, uint64_t length, uint64_t uva, int prot,
                      SimPages *pages)
{
    SimArea *a = g_new0(SimArea, 1);

    a->node.start = iova;
    a->node.last = iova + length - 1;
    a->uva = uva;
    a->prot = prot;
    a->pages = sim_pages_get(pages);
    return a;
}

void sim_area_free(SimArea *area)
{
    if (area) {
        sim_pages_put(area->pages);
        g_free(area);
    }
}

SimArea *sim_area_find(const SimItree *areas, uint64_t iova)
{
    SimItreeNode *n = sim_itree_first_overlap(areas, iova, iova);

    return n ? SIM_CONTAINER_OF(n, SimArea, node) : NULL;
}
