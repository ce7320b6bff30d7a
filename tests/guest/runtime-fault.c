/*
 * runtime-fault: an unexpected exception must end the test as a failure
 * with the vector, RIP and error code on the console.  This program
 * executes ud2; its test (meson: runtime-fault) expects exit status 3
 * (guest_exit(1)) and "FAIL: exception 6 (#UD" in the serial log.
 */
#include "guest.h"

int main(void)
{
    printf("runtime-fault: executing ud2\n");
    __asm__ volatile("ud2");
    printf("still running after ud2\n");
    return 0;
}
