/*
 * Guest runtime: the C entry after start.S, exit through isa-debug-exit,
 * multiboot information (control_boot_facts G.2), the page allocator and
 * time keeping.
 */
#include "guest.h"

#define DEBUG_EXIT_PORT 0xf4
#define MB_INFO_MEM BIT(0)
#define MB_INFO_CMDLINE BIT(2)
#define MB_INFO_MMAP BIT(6)
#define MB_MMAP_RAM 1
#define FOUR_GIB (1ULL << 32)
#define ONE_MIB (1ULL << 20)

/* Multiboot 1 information structure, the fields we use. */
struct mb_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
} __attribute__((packed));

struct mb_mmap_entry {
    uint32_t size;
    uint64_t base, length;
    uint32_t type;
} __attribute__((packed));

extern char _end[];
void guest_start(uint32_t mbi);
void irq_init(void);

static const char *cmdline = "";
static uint64_t ram_top;
static uint64_t next_free;
static uint64_t tsc_khz_value;

noreturn_fn void guest_exit(uint32_t code)
{
    outl(DEBUG_EXIT_PORT, code);
    /* Without the exit device: stop here; the runner times out. */
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}

noreturn_fn void guest_pass(void)
{
    printf("PASS\n");
    guest_exit(0);
}

noreturn_fn void guest_fail(const char *fmt, ...)
{
    va_list ap;

    printf("FAIL: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    guest_exit(1);
}

const char *guest_cmdline(void)
{
    return cmdline;
}

uint64_t guest_ram_top(void)
{
    return ram_top;
}

/* The end of the RAM region containing 1 MiB, from the mmap or mem_upper. */
static void parse_memory(const struct mb_info *mb)
{
    ram_top = ONE_MIB;
    if (mb->flags & MB_INFO_MEM) {
        ram_top = ONE_MIB + (uint64_t)mb->mem_upper * 1024;
    }
    if (mb->flags & MB_INFO_MMAP) {
        uint64_t p = mb->mmap_addr, end = p + mb->mmap_length;

        while (p + sizeof(struct mb_mmap_entry) <= end) {
            const struct mb_mmap_entry *e = (const void *)p;

            if (e->type == MB_MMAP_RAM && e->base <= ONE_MIB &&
                e->base + e->length > ONE_MIB) {
                ram_top = e->base + e->length;
            }
            p += (uint64_t)e->size + 4;
        }
    }
    if (ram_top > FOUR_GIB) {
        ram_top = FOUR_GIB;
    }
}

void guest_start(uint32_t mbi)
{
    const struct mb_info *mb = (const void *)(uint64_t)mbi;

    next_free = ALIGN_UP((uint64_t)_end, PAGE_SIZE);
    irq_init();
    if (mb) {
        parse_memory(mb);
        if ((mb->flags & MB_INFO_CMDLINE) && mb->cmdline) {
            cmdline = (const char *)(uint64_t)mb->cmdline;
        }
    }
    lapic_init();
    guest_exit((uint32_t)main());
}

void *pages_alloc(unsigned int n)
{
    uint64_t p = next_free;

    if (!n || p + (uint64_t)n * PAGE_SIZE > ram_top) {
        guest_fail("out of guest memory: %u pages at 0x%llx, RAM top 0x%llx",
                   n, (unsigned long long)p, (unsigned long long)ram_top);
    }
    next_free = p + (uint64_t)n * PAGE_SIZE;
    memset((void *)p, 0, n * PAGE_SIZE);
    return (void *)p;
}

void *page_alloc(void)
{
    return pages_alloc(1);
}

/* ---- time ---------------------------------------------------------------- */

#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_SPEAKER 0x61
#define PIT_HZ 1193182ULL
#define CAL_MS 10

/*
 * Count TSC ticks while PIT channel 2 (mode 0, gated through port 0x61)
 * counts down CAL_MS milliseconds; 0 if that does not work.
 */
static uint64_t tsc_khz_from_pit(void)
{
    uint16_t count = (uint16_t)(PIT_HZ * CAL_MS / 1000);
    uint8_t spk = inb(PIT_SPEAKER);
    uint64_t t0, t1;
    unsigned long spins = 0;

    outb(PIT_SPEAKER, (spk & ~0x02) & ~0x01);
    outb(PIT_CMD, 0xb0);                 /* ch2, lo/hi, mode 0, binary */
    outb(PIT_CH2, count & 0xff);
    outb(PIT_CH2, count >> 8);
    outb(PIT_SPEAKER, (spk & ~0x02) | 0x01);     /* gate on */
    t0 = rdtsc();
    while (!(inb(PIT_SPEAKER) & 0x20)) {
        if (++spins > 2000000UL) {      /* each read exits: seconds */
            return 0;
        }
    }
    t1 = rdtsc();
    outb(PIT_SPEAKER, spk);
    /* Below 100 MHz the PIT did not count (absent port 0x61 reads 0xff). */
    return (t1 - t0) / CAL_MS >= 100000 ? (t1 - t0) / CAL_MS : 0;
}

uint64_t tsc_khz(void)
{
    uint32_t r[4];

    if (tsc_khz_value) {
        return tsc_khz_value;
    }
    tsc_khz_value = tsc_khz_from_pit();
    if (!tsc_khz_value) {
        cpuid(0, 0, r);
        if (r[0] >= 0x16) {
            cpuid(0x16, 0, r);
            tsc_khz_value = (uint64_t)(r[0] & 0xffff) * 1000;
        }
    }
    if (!tsc_khz_value) {
        tsc_khz_value = 1000000;        /* assume 1 GHz */
    }
    return tsc_khz_value;
}

uint64_t timeout_start(uint64_t ms)
{
    return rdtsc() + ms * tsc_khz();
}

bool timeout_expired(uint64_t deadline)
{
    return (int64_t)(rdtsc() - deadline) >= 0;
}

void udelay(uint64_t us)
{
    uint64_t end = rdtsc() + us * tsc_khz() / 1000;

    while (!timeout_expired(end)) {
        cpu_relax();
    }
}

void mdelay(uint64_t ms)
{
    udelay(ms * 1000);
}

bool poll_mmio32(uint64_t addr, uint32_t mask, uint32_t val, uint64_t ms,
                 uint32_t *out)
{
    uint64_t deadline = timeout_start(ms);
    uint32_t v;

    for (;;) {
        v = readl(addr);
        if ((v & mask) == val) {
            break;
        }
        if (timeout_expired(deadline)) {
            if (out) {
                *out = v;
            }
            return false;
        }
        cpu_relax();
    }
    if (out) {
        *out = v;
    }
    return true;
}

bool wait_flag(volatile int *flag, uint64_t ms)
{
    uint64_t deadline = timeout_start(ms);

    while (!*flag) {
        if (timeout_expired(deadline)) {
            return *flag != 0;
        }
        /*
         * No hlt: nothing guarantees a wake-up before the deadline (no
         * timer is armed), so spin with interrupts enabled.
         */
        irq_enable();
        cpu_relax();
    }
    return true;
}
