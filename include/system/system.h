/*
 * Process-wide entry points of the emulator.
 */
#ifndef SYSTEM_SYSTEM_H
#define SYSTEM_SYSTEM_H

int viommu_main(int argc, char **argv);

#endif
