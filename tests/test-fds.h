/*
 * Shared by the in-process test programs (tests/unit, tests/sim): the
 * number of fds this process has open, as /proc/self/fd lists them (the
 * directory's own fd and "." ".." included, so only differences mean
 * anything).  Leak checks compare it before and after.
 */
#ifndef TESTS_TEST_FDS_H
#define TESTS_TEST_FDS_H

#include <dirent.h>
#include <glib.h>

static inline int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    g_assert_nonnull(d);
    while (readdir(d)) {
        n++;
    }
    closedir(d);
    return n;
}

#endif /* TESTS_TEST_FDS_H */
