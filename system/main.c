/*
 * viommu-system-x86_64 entry point.
 */
#include "system/system.h"

int main(int argc, char **argv)
{
    return viommu_main(argc, argv);
}
