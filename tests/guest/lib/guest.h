/*
 * Runtime for freestanding guest test programs (docs/guest-tests.md).
 *
 * A guest program is a 64-bit C program booted by `-kernel` as a multiboot 1
 * image.  start.S enters long mode with the first 4 GiB identity mapped (2 MiB
 * pages), installs the IDT, initialises the console and calls main().  The
 * return value of main() is passed to guest_exit().
 *
 * Exit convention: guest_exit(0) means PASS; the isa-debug-exit device at
 * port 0xf4 turns the written value V into the process status (V << 1) | 1,
 * so a passing program makes the emulator exit with status 1.
 *
 * All addresses are guest-physical and identity mapped: a pointer below
 * 4 GiB is its own physical address.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE 4096ULL
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BIT(n) (1ULL << (n))
#define noreturn_fn __attribute__((noreturn))
#define printf_like(f, a) __attribute__((format(printf, f, a)))

/* ---- port I/O ---------------------------------------------------------- */
static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* ---- MMIO (addresses are physical = virtual) ---------------------------- */
static inline uint8_t readb(uint64_t a) { return *(volatile uint8_t *)a; }
static inline uint16_t readw(uint64_t a) { return *(volatile uint16_t *)a; }
static inline uint32_t readl(uint64_t a) { return *(volatile uint32_t *)a; }
static inline uint64_t readq(uint64_t a) { return *(volatile uint64_t *)a; }
static inline void writeb(uint64_t a, uint8_t v)
{
    *(volatile uint8_t *)a = v;
}
static inline void writew(uint64_t a, uint16_t v)
{
    *(volatile uint16_t *)a = v;
}
static inline void writel(uint64_t a, uint32_t v)
{
    *(volatile uint32_t *)a = v;
}
static inline void writeq(uint64_t a, uint64_t v)
{
    *(volatile uint64_t *)a = v;
}

/* Full compiler + CPU barrier; orders table writes before doorbells. */
static inline void mb(void) { __asm__ volatile("mfence" ::: "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

/* ---- CPU ---------------------------------------------------------------- */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v),
                     "d"((uint32_t)(v >> 32)));
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(sub));
}
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
/* Enable interrupts and halt until one arrives (sti shadow covers the hlt). */
static inline void safe_halt(void)
{
    __asm__ volatile("sti; hlt" ::: "memory");
}

/* ---- string helpers (the compiler may also emit calls to these) ---------- */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strstr(const char *hay, const char *needle);

/* ---- console (COM1, 0x3f8) and exit ------------------------------------- */
/*
 * printf supports %d %i %u %x %X %o %p %s %c %%, length modifiers hh h l ll z,
 * flags '-' '0', field widths (also '*').  "\n" is sent as "\r\n".
 */
int printf(const char *fmt, ...) printf_like(1, 2);
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) printf_like(3, 4);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
void putchar_serial(char c);
void puts_serial(const char *s);

/* Write @code to isa-debug-exit (0xf4); falls back to cli;hlt forever. */
noreturn_fn void guest_exit(uint32_t code);
/* Print "PASS" and exit 0. */
noreturn_fn void guest_pass(void);
/* Print "FAIL: <message>" and exit 1. */
noreturn_fn void guest_fail(const char *fmt, ...) printf_like(1, 2);

/* Fail with file:line and the expression text when @cond is false. */
#define GUEST_ASSERT(cond)                                                   \
    do {                                                                     \
        if (!(cond)) {                                                       \
            guest_fail("%s:%d: assertion failed: %s", __FILE__, __LINE__,    \
                       #cond);                                               \
        }                                                                    \
    } while (0)
/* Fail unless a == b (both converted to uint64_t); prints both values. */
#define GUEST_ASSERT_EQ(a, b)                                                \
    do {                                                                     \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                     \
        if (a_ != b_) {                                                      \
            guest_fail("%s:%d: %s == %s: 0x%llx != 0x%llx", __FILE__,       \
                       __LINE__, #a, #b, (unsigned long long)a_,             \
                       (unsigned long long)b_);                              \
        }                                                                    \
    } while (0)

/* ---- boot information --------------------------------------------------- */
/* The multiboot command line ("<kernel path> <-append text>"), or "". */
const char *guest_cmdline(void);
/* End of the usable RAM region that starts at 1 MiB (from the mmap). */
uint64_t guest_ram_top(void);

/* ---- page allocator ----------------------------------------------------- */
/*
 * Pages come from the RAM after the program image (identity mapped, below
 * 4 GiB).  They are zeroed and 4 KiB aligned; contiguous for n > 1.  There is
 * no free: a test program allocates what it needs and exits.  Running out is
 * a test failure (guest_fail).
 */
void *page_alloc(void);
void *pages_alloc(unsigned int n);
/* Physical address of an allocated object (identity mapping). */
static inline uint64_t virt_to_phys(const void *p) { return (uint64_t)p; }
static inline void *phys_to_virt(uint64_t pa) { return (void *)pa; }

/* ---- time --------------------------------------------------------------- */
/* TSC kHz: PIT channel 2 calibration, else CPUID 0x16, else 1 GHz. */
uint64_t tsc_khz(void);
void udelay(uint64_t us);
void mdelay(uint64_t ms);
/* A deadline @ms milliseconds from now, and whether it has passed. */
uint64_t timeout_start(uint64_t ms);
bool timeout_expired(uint64_t deadline);
/*
 * Poll until ((readl(addr) & mask) == val) or @ms elapse; returns the last
 * value read through @out (may be NULL) and true on success.
 */
bool poll_mmio32(uint64_t addr, uint32_t mask, uint32_t val, uint64_t ms,
                 uint32_t *out);
/*
 * Wait until *flag != 0 (set by an interrupt handler) or @ms elapse.
 * Enables interrupts (and leaves them enabled).
 */
bool wait_flag(volatile int *flag, uint64_t ms);

/* ---- interrupts --------------------------------------------------------- */
/* Register state pushed by the common interrupt stub. */
struct irq_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*irq_handler_fn)(struct irq_frame *frame, void *opaque);

/*
 * Install @fn for @vector (0-255).  Vectors 0-31 with no handler print
 * "FAIL: exception <n> (<name>) at RIP ... error code ..." and exit 1.  An
 * unexpected external vector also fails the test.  Handlers of external
 * interrupts must call lapic_eoi() themselves.
 */
void irq_register(uint8_t vector, irq_handler_fn fn, void *opaque);
void irq_unregister(uint8_t vector);

/* ---- local APIC (xAPIC MMIO at 0xfee00000) ------------------------------ */
#define LAPIC_BASE 0xfee00000ULL
#define LAPIC_SPURIOUS_VECTOR 0xff
/* Software-enable the local APIC (SVR), TPR 0.  Called by the runtime. */
void lapic_init(void);
uint32_t lapic_id(void);
void lapic_eoi(void);

/* ---- MSI message encoding (compatibility format, fixed, edge) ----------- */
static inline uint64_t msi_addr(uint32_t dest_apic_id)
{
    return 0xfee00000ULL | ((uint64_t)(dest_apic_id & 0xff) << 12);
}
static inline uint32_t msi_data(uint8_t vector) { return vector; }

/* ---- IOAPIC (0xfec00000) ------------------------------------------------ */
#define IOAPIC_BASE 0xfec00000ULL
#define IOAPIC_RTE_MASKED BIT(16)
#define IOAPIC_RTE_LEVEL BIT(15)
#define IOAPIC_RTE_ACTIVE_LOW BIT(13)
uint32_t ioapic_read(uint8_t reg);
void ioapic_write(uint8_t reg, uint32_t val);
unsigned int ioapic_num_pins(void);
/* Program redirection entry @pin with the raw 64-bit value @rte. */
void ioapic_set_rte(unsigned int pin, uint64_t rte);
uint64_t ioapic_get_rte(unsigned int pin);
/* A compatibility-format RTE: fixed delivery, physical destination. */
uint64_t ioapic_rte(uint8_t vector, uint8_t dest_apic_id, bool level,
                    bool active_low, bool masked);

/* ---- PCI (CF8/CFC for 0-0xff; ECAM at 0xb0000000 once enabled) ---------- */
#define PCI_BDF(bus, dev, fn) ((uint16_t)(((bus) << 8) | ((dev) << 3) | (fn)))
#define PCI_BUS(bdf) (((bdf) >> 8) & 0xff)
#define PCI_SLOT(bdf) (((bdf) >> 3) & 0x1f)
#define PCI_FUNC(bdf) ((bdf) & 7)

#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SECONDARY_BUS 0x19
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_MSIX 0x11

uint8_t pci_cfg_read8(uint16_t bdf, uint16_t off);
uint16_t pci_cfg_read16(uint16_t bdf, uint16_t off);
uint32_t pci_cfg_read32(uint16_t bdf, uint16_t off);
void pci_cfg_write8(uint16_t bdf, uint16_t off, uint8_t v);
void pci_cfg_write16(uint16_t bdf, uint16_t off, uint16_t v);
void pci_cfg_write32(uint16_t bdf, uint16_t off, uint32_t v);
/*
 * Find the @index-th (0-based) function with this vendor/device id, scanning
 * every bus reachable by CF8/CFC.  Returns its BDF, or -1.
 */
int pci_find_device(uint16_t vendor, uint16_t device, unsigned int index);
/* BAR @bar's address as assigned at reset (64-bit BARs combined), 0 if none. */
uint64_t pci_bar_addr(uint16_t bdf, unsigned int bar);
bool pci_bar_is_io(uint16_t bdf, unsigned int bar);
/* Set memory + I/O decode and bus mastering in the command register. */
void pci_enable(uint16_t bdf);
/* Config offset of capability @cap_id, or 0. */
uint8_t pci_find_cap(uint16_t bdf, uint8_t cap_id);
/*
 * Program MSI-X table entry @entry with (addr, data), unmask it, and enable
 * MSI-X (function mask clear).  Returns false if the device has no MSI-X or
 * @entry is out of range.
 */
bool pci_msix_setup(uint16_t bdf, unsigned int entry, uint64_t addr,
                    uint32_t data);
/* Program and enable plain MSI with (addr, data) on the first vector. */
bool pci_msi_setup(uint16_t bdf, uint64_t addr, uint32_t data);

/* ---- ACPI --------------------------------------------------------------- */
struct acpi_header {
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    uint32_t creator_id;
    uint32_t creator_revision;
} __attribute__((packed));
/* Find a table by signature through the RSDP (0xE0000-0xFFFFF) and XSDT. */
const struct acpi_header *acpi_find_table(const char *sig);

/* ---- program entry ------------------------------------------------------ */
/* Provided by each guest program; its return value goes to guest_exit(). */
int main(void);

#endif /* GUEST_H */
