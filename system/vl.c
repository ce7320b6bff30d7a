/*
 * Command line and start-up.
 */
#include <stdio.h>
#include <string.h>

#include "qapi/error.h"
#include "system/system.h"

int viommu_main(int argc, char **argv)
{
    error_set_progname(argv[0]);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-version") || !strcmp(argv[i], "--version")) {
            printf("viommu version " VIOMMU_VERSION "\n");
            return 0;
        }
    }
    return 0;
}
