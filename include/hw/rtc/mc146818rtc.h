/*
 * MC146818 real-time clock and CMOS RAM ("mc146818rtc", ports 0x70/0x71,
 * ISA IRQ 8).  See hw/rtc/mc146818rtc.c.
 */
#ifndef HW_RTC_MC146818RTC_H
#define HW_RTC_MC146818RTC_H

#include <stdint.h>

#include "hw/isa/isa.h"

#define TYPE_MC146818_RTC "mc146818rtc"
#define RTC_CMOS_SIZE     128

/* Sets CMOS byte addr (14-127: RAM; below that, the clock registers). */
void mc146818rtc_set_cmos_data(ISADevice *rtc, int addr, uint8_t val);

/*
 * The PC BIOS convention for memory sizes in CMOS, as QEMU fills it:
 * 0x15/0x16 base memory (640 KiB), 0x17/0x18 and 0x30/0x31 KiB above
 * 1 MiB (capped), 0x34/0x35 64 KiB units from 16 MiB to below_4g, 0x5b-
 * 0x5d 64 KiB units above 4 GiB, 0x5f the CPU count minus one.
 */
void rtc_cmos_set_pc_memory(ISADevice *rtc, uint64_t below_4g,
                            uint64_t above_4g, unsigned cpus);

#endif
