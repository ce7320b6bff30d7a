/*
 * IDT, exception reporting, interrupt handler registration, local APIC
 * (xAPIC MMIO) and IOAPIC (control_boot_facts F.4).
 */
#include "guest.h"

#define KERNEL_CS 0x08
#define IDT_INTERRUPT_GATE 0x8e        /* P, DPL 0, 64-bit interrupt gate */

#define LAPIC_ID 0x020
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_SVR_ENABLE BIT(8)
#define MSR_APIC_BASE 0x1b
#define APIC_BASE_ENABLE BIT(11)

#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN 0x10
#define IOAPIC_VER 0x01
#define IOAPIC_REDTBL(pin) (0x10 + 2 * (pin))

struct idt_entry {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
} __attribute__((packed));

struct idt_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

extern const uint64_t irq_stubs[256];
void irq_init(void);
void irq_dispatch(struct irq_frame *f);

static struct idt_entry idt[256] __attribute__((aligned(16)));
static struct {
    irq_handler_fn fn;
    void *opaque;
} handlers[256];

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
    "#OF overflow", "#BR bound range", "#UD invalid opcode",
    "#NM device not available", "#DF double fault", "coprocessor overrun",
    "#TS invalid TSS", "#NP segment not present", "#SS stack fault",
    "#GP general protection", "#PF page fault", "reserved",
    "#MF x87 error", "#AC alignment check", "#MC machine check",
    "#XM SIMD error", "#VE virtualization", "#CP control protection",
};

void irq_init(void)
{
    struct idt_ptr p = { sizeof(idt) - 1, (uint64_t)idt };

    for (unsigned int v = 0; v < 256; v++) {
        uint64_t a = irq_stubs[v];

        idt[v] = (struct idt_entry) {
            .offset_lo = (uint16_t)a,
            .selector = KERNEL_CS,
            .type = IDT_INTERRUPT_GATE,
            .offset_mid = (uint16_t)(a >> 16),
            .offset_hi = (uint32_t)(a >> 32),
        };
    }
    __asm__ volatile("lidt %0" : : "m"(p));
}

void irq_register(uint8_t vector, irq_handler_fn fn, void *opaque)
{
    handlers[vector].opaque = opaque;
    barrier();
    handlers[vector].fn = fn;
}

void irq_unregister(uint8_t vector)
{
    handlers[vector].fn = NULL;
}

void irq_dispatch(struct irq_frame *f)
{
    unsigned int v = (unsigned int)f->vector & 0xff;
    uint64_t cr2;

    if (handlers[v].fn) {
        handlers[v].fn(f, handlers[v].opaque);
        return;
    }
    if (v == LAPIC_SPURIOUS_VECTOR) {
        return;                         /* spurious: no EOI */
    }
    if (v < 32) {
        __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
        guest_fail("exception %u (%s) at RIP 0x%llx, error code 0x%llx, "
                   "CR2 0x%llx, RSP 0x%llx", v,
                   exception_names[v] ? exception_names[v] : "reserved",
                   (unsigned long long)f->rip,
                   (unsigned long long)f->error_code,
                   (unsigned long long)cr2, (unsigned long long)f->rsp);
    }
    guest_fail("unexpected interrupt vector %u at RIP 0x%llx", v,
               (unsigned long long)f->rip);
}

/* ---- local APIC ---------------------------------------------------------- */

void lapic_init(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);

    if (!(base & APIC_BASE_ENABLE)) {
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
    }
    /* Mask the 8259 PICs: only APIC-delivered interrupts are used. */
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    writel(LAPIC_BASE + LAPIC_TPR, 0);
    writel(LAPIC_BASE + LAPIC_SVR, LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
}

uint32_t lapic_id(void)
{
    return readl(LAPIC_BASE + LAPIC_ID) >> 24;
}

void lapic_eoi(void)
{
    writel(LAPIC_BASE + LAPIC_EOI, 0);
}

/* ---- IOAPIC -------------------------------------------------------------- */

uint32_t ioapic_read(uint8_t reg)
{
    writel(IOAPIC_BASE + IOAPIC_REGSEL, reg);
    return readl(IOAPIC_BASE + IOAPIC_WIN);
}

void ioapic_write(uint8_t reg, uint32_t val)
{
    writel(IOAPIC_BASE + IOAPIC_REGSEL, reg);
    writel(IOAPIC_BASE + IOAPIC_WIN, val);
}

unsigned int ioapic_num_pins(void)
{
    return ((ioapic_read(IOAPIC_VER) >> 16) & 0xff) + 1;
}

void ioapic_set_rte(unsigned int pin, uint64_t rte)
{
    if (pin >= ioapic_num_pins()) {
        guest_fail("IOAPIC pin %u out of range", pin);
    }
    /* Mask first, so a half-written entry never delivers. */
    ioapic_write(IOAPIC_REDTBL(pin), IOAPIC_RTE_MASKED);
    ioapic_write(IOAPIC_REDTBL(pin) + 1, (uint32_t)(rte >> 32));
    ioapic_write(IOAPIC_REDTBL(pin), (uint32_t)rte);
}

uint64_t ioapic_get_rte(unsigned int pin)
{
    return ioapic_read(IOAPIC_REDTBL(pin)) |
           (uint64_t)ioapic_read(IOAPIC_REDTBL(pin) + 1) << 32;
}

uint64_t ioapic_rte(uint8_t vector, uint8_t dest_apic_id, bool level,
                    bool active_low, bool masked)
{
    return vector | (level ? IOAPIC_RTE_LEVEL : 0) |
           (active_low ? IOAPIC_RTE_ACTIVE_LOW : 0) |
           (masked ? IOAPIC_RTE_MASKED : 0) | ((uint64_t)dest_apic_id << 56);
}
