/*
 * bench-boot: the trivial guest of tests/bench/guest-boot.  It prints one
 * line (the host times its first byte) and exits with PASS, so the host
 * measures exec -> first serial byte -> exit.
 */
#include "guest.h"

int main(void)
{
    printf("bench-boot: up\n");
    guest_pass();
}
