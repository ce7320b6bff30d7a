/*
 * runtime-selftest: the guest runtime itself (lib/, docs/guest-tests.md).
 * Proves that printf formatting gives the expected text (through
 * snprintf, same formatter), the page allocator returns zeroed, aligned,
 * distinct pages, PCI lookup finds the q35 host bridge and the edu with
 * its reset-assigned BAR, the ACPI tables (DMAR) are found through the
 * RSDP, the IOAPIC answers with 24 pins and keeps an RTE written to it,
 * the TSC runs, and a registered exception handler (#UD,
 * resuming after ud2) and a self-IPI through the local APIC reach their
 * handlers with the right vector.
 * Run with: -device intel-iommu -device edu
 */
#include "edu.h"

static int ud_hits;
static volatile int ipi_hits;
static uint64_t ipi_vector;

/* #UD from ud2 (2 bytes): count it and resume after the instruction. */
static void ud_handler(struct irq_frame *f, void *opaque)
{
    ud_hits++;
    f->rip += 2;
}

static void ipi_handler(struct irq_frame *f, void *opaque)
{
    ipi_hits++;
    ipi_vector = f->vector;
    lapic_eoi();
}

static void expect_fmt(const char *want, const char *fmt, ...)
    printf_like(2, 3);

static void expect_fmt(const char *want, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (strcmp(buf, want) || n != (int)strlen(want)) {
        guest_fail("format \"%s\" gave \"%s\" (%d), expected \"%s\"", fmt,
                   buf, n, want);
    }
}

int main(void)
{
    uint8_t *a, *b;
    uint64_t t0;
    char small[4];
    struct edu e;
    int host_bridge;

    printf("runtime-selftest\n");
    expect_fmt("-42 42 ff FF 17", "%d %u %x %X %o", -42, 42u, 255u, 255u,
               15u);
    expect_fmt("0x0000dead|  abc|abc  |x", "0x%08x|%5s|%-5s|%c", 0xdeadu,
               "abc", "abc", 'x');
    expect_fmt("123456789abcdef0 -9223372036854775808 18446744073709551615",
               "%lx %lld %llu", 0x123456789abcdef0UL,
               (long long)(-9223372036854775807LL - 1),
               18446744073709551615ULL);
    expect_fmt("0x1000 [   7] [007]", "%p [%*d] [%03d]", (void *)0x1000, 4, 7,
               7);
    GUEST_ASSERT_EQ(snprintf(small, sizeof(small), "%s", "abcdef"), 6);
    GUEST_ASSERT(!strcmp(small, "abc"));

    a = page_alloc();
    b = pages_alloc(2);
    GUEST_ASSERT_EQ((uint64_t)a & 0xfff, 0);
    GUEST_ASSERT_EQ((uint64_t)b & 0xfff, 0);
    GUEST_ASSERT((uint64_t)b >= (uint64_t)a + PAGE_SIZE);
    for (unsigned int i = 0; i < 2 * PAGE_SIZE; i++) {
        GUEST_ASSERT_EQ(b[i], 0);
    }
    GUEST_ASSERT(guest_ram_top() > (200ULL << 20));
    GUEST_ASSERT(guest_ram_top() <= (256ULL << 20));
    printf("  pages %p %p, RAM top 0x%llx\n", (void *)a, (void *)b,
           (unsigned long long)guest_ram_top());

    host_bridge = pci_find_device(0x8086, 0x29c0, 0);
    GUEST_ASSERT_EQ(host_bridge, PCI_BDF(0, 0, 0));
    GUEST_ASSERT_EQ(pci_find_device(0x8086, 0x29c0, 1), -1);
    edu_init(&e);
    GUEST_ASSERT(e.bar >= 0xc0000000ULL && e.bar < 0xfec00000ULL);
    GUEST_ASSERT_EQ(pci_find_cap(e.bdf, PCI_CAP_ID_MSI), 0x40);

    GUEST_ASSERT(acpi_find_table("DMAR") != NULL);
    GUEST_ASSERT(acpi_find_table("APIC") != NULL);
    GUEST_ASSERT(acpi_find_table("XXXX") == NULL);

    GUEST_ASSERT_EQ(ioapic_num_pins(), 24);
    ioapic_set_rte(9, ioapic_rte(0x63, 0, true, true, true));
    GUEST_ASSERT_EQ(ioapic_get_rte(9) & ~(BIT(12) | BIT(14)),
                    ioapic_rte(0x63, 0, true, true, true));
    ioapic_set_rte(9, IOAPIC_RTE_MASKED);

    t0 = rdtsc();
    udelay(100);
    GUEST_ASSERT(rdtsc() > t0);
    printf("  TSC %llu kHz, LAPIC id %u\n", (unsigned long long)tsc_khz(),
           lapic_id());

    /* (int3 is not used: kvm_pvm reports it as a KVM internal error.) */
    irq_register(6, ud_handler, NULL);
    __asm__ volatile("ud2");
    GUEST_ASSERT_EQ(ud_hits, 1);
    irq_unregister(6);
    /* int $n is not used either (kvm_pvm); a fixed self-IPI instead. */
    irq_register(0x80, ipi_handler, NULL);
    writel(LAPIC_BASE + 0x300, (1u << 18) | 0x80);   /* ICR: self, fixed */
    if (!wait_flag(&ipi_hits, 1000)) {
        guest_fail("self-IPI vector 0x80 never arrived");
    }
    GUEST_ASSERT_EQ(ipi_hits, 1);
    GUEST_ASSERT_EQ(ipi_vector, 0x80);
    guest_pass();
}
