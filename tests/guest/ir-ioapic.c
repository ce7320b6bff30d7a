/*
 * ir-ioapic: a level-triggered I/O APIC line through VT-d interrupt
 * remapping (facts G.6, G.5).
 *
 * Needs `-device intel-iommu,intremap=on -device edu`.  The line is edu's
 * INTx: a real PCI level line (q35: slot S, INTA -> PIRQ (S mod 4) + 4 ->
 * I/O APIC pin 16 + that, facts F.6), high while edu's interrupt status is
 * non-zero and MSI is off.  It is deterministic (no timer) and exercises
 * Remote IRR and EOI, which the ISA lines (edge on q35) would not.
 *
 * The redirection entry is in remappable format (handle = IRTE index, the
 * vector equal to the IRTE's as Linux does); the IRTE checks the source id
 * (SVT 01) against the I/O APIC's requester id taken from the DMAR's I/O
 * APIC device scope.  The handler acknowledges edu (the line drops),
 * signals EOI to the local APIC and writes the vector to the I/O APIC's
 * EOI register (version 0x20), which clears Remote IRR.
 *
 * kvm_pvm completes a level interrupt's EOI when it injects it (the local
 * APIC's ISR reads 0 in the handler), so the I/O APIC may deliver a line
 * that is still high once more before the handler drops it.  The program
 * therefore counts deliveries per assertion as "at least one, and none
 * once the line is low and EOI'd": a lost EOI (no second delivery) and a
 * storm both fail.
 *
 * 1. raise: the IRTE's vector runs, then stays quiet; Remote IRR is clear;
 * 2. raise again: it runs again (EOI re-armed the entry);
 * 3. IRTE not present: no interrupt, fault 0x22 with the index and the
 *    I/O APIC's SID; Remote IRR stays set (the message went out, no EOI);
 * 4. IRTE present again, EOI: the held level is delivered.
 */
#include "guest.h"
#include "edu.h"
#include "vtd.h"

/* edu's interrupt registers (docs/edu.md) */
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64

#define IOAPIC_EOI_REG 0x40
#define IOAPIC_RTE_REMOTE_IRR BIT(14)
#define Q35_PIRQ_GSI_BASE 16

/* DMAR (facts I.1) */
#define DMAR_STRUCTS 48
#define DMAR_TYPE_DRHD 0
#define DRHD_SCOPES 16
#define SCOPE_IOAPIC 3

#define IRT_S 7
#define IRTE_INDEX 100
#define VEC 0x51
#define FR_IRTE_NOT_PRESENT 0x22
#define IRQ_WAIT_MS 1000
#define QUIET_MS 200

static struct edu edu;
static unsigned int pin;
static volatile int hits;

static void ioapic_eoi(uint8_t vector)
{
    writel(IOAPIC_BASE + IOAPIC_EOI_REG, vector);
}

static void edu_irq(struct irq_frame *frame, void *opaque)
{
    hits++;
    writel(edu.bar + EDU_IRQ_ACK, readl(edu.bar + EDU_IRQ_STATUS));
    lapic_eoi();
    ioapic_eoi(VEC);
}

/*
 * Wait for a delivery beyond @before (the count before the line went
 * high), then check that they stop: the handler drops the line and EOIs.
 */
static void expect_irq(int before, const char *step)
{
    uint64_t deadline = timeout_start(IRQ_WAIT_MS);
    int n;

    while (hits == before && !timeout_expired(deadline)) {
        cpu_relax();
    }
    if (hits == before) {
        guest_fail("%s: no interrupt on vector 0x%x in %u ms (RTE 0x%llx)",
                   step, VEC, IRQ_WAIT_MS,
                   (unsigned long long)ioapic_get_rte(pin));
    }
    mdelay(QUIET_MS);
    n = hits;
    mdelay(QUIET_MS);
    if (hits != n) {
        guest_fail("%s: vector 0x%x keeps arriving (%d, then %d)", step, VEC,
                   n, hits);
    }
    printf("%s: %d deliver%s\n", step, n - before, n - before > 1 ?
           "ies (re-sent before the handler dropped the line)" :
           "y");
    GUEST_ASSERT_EQ(readl(edu.bar + EDU_IRQ_STATUS), 0);
    GUEST_ASSERT(!(ioapic_get_rte(pin) & IOAPIC_RTE_REMOTE_IRR));
}

/* The I/O APIC's requester id from the DMAR's device scope (type 3 whose
 * enumeration ID is the I/O APIC's ID): start bus and the last path hop. */
static uint16_t dmar_ioapic_sid(uint8_t ioapic_id)
{
    const struct acpi_header *dmar = acpi_find_table("DMAR");
    const uint8_t *t = (const uint8_t *)dmar;
    uint32_t off = DMAR_STRUCTS;

    if (!dmar) {
        guest_fail("no DMAR table");
    }
    while (off + 4 <= dmar->length) {
        uint16_t type = t[off] | t[off + 1] << 8;
        uint16_t len = t[off + 2] | t[off + 3] << 8;

        if (len < 4 || off + len > dmar->length) {
            guest_fail("DMAR: structure at %u has length %u", off, len);
        }
        for (uint32_t s = off + DRHD_SCOPES;
             type == DMAR_TYPE_DRHD && s + 6 <= off + len; s += t[s + 1]) {
            uint8_t slen = t[s + 1];

            if (slen < 6 || s + slen > off + len) {
                guest_fail("DMAR: device scope at %u has length %u", s, slen);
            }
            if (t[s] == SCOPE_IOAPIC && t[s + 4] == ioapic_id && slen >= 8) {
                return t[s + 5] << 8 | t[s + slen - 2] << 3 |
                       (t[s + slen - 1] & 7);
            }
        }
        off += len;
    }
    guest_fail("DMAR: no I/O APIC scope for I/O APIC id %u", ioapic_id);
}

int main(void)
{
    struct vtd v;
    struct vtd_irte irte;
    struct vtd_fault f;
    uint16_t bdf;
    uint8_t ioapic_id = (ioapic_read(0) >> 24) & 0xf;
    uint16_t sid;
    unsigned int expect_pin;
    int before;

    edu_init(&edu);
    bdf = edu.bdf;
    GUEST_ASSERT_EQ(pci_cfg_read8(bdf, PCI_INTERRUPT_PIN), 1);
    pin = pci_cfg_read8(bdf, PCI_INTERRUPT_LINE);
    expect_pin = Q35_PIRQ_GSI_BASE + PCI_SLOT(bdf) % 4 + 4;
    sid = dmar_ioapic_sid(ioapic_id);
    printf("edu at %02x:%02x.%x INTA -> I/O APIC pin %u; I/O APIC id %u, "
           "SID 0x%04x\n", PCI_BUS(bdf), PCI_SLOT(bdf), PCI_FUNC(bdf), pin,
           ioapic_id, sid);
    GUEST_ASSERT_EQ(pin, expect_pin);

    vtd_init(&v);
    if (!(v.ecap & VTD_ECAP_IR)) {
        guest_fail("intel-iommu without ECAP.IR (needs intremap=on)");
    }
    vtd_qi_enable(&v);
    vtd_ir_enable(&v, IRT_S, false, false);
    irq_register(VEC, edu_irq, NULL);

    irte = (struct vtd_irte) {
        .vector = VEC, .dest = lapic_id(), .level = true,
        .svt = VTD_IRTE_SVT_SID, .sid = sid,
    };
    vtd_irte_set(&v, IRTE_INDEX, &irte);
    ioapic_set_rte(pin, vtd_ir_ioapic_rte(IRTE_INDEX, VEC, true, false));
    irq_enable();

    printf("1. level interrupt through IRTE %u, vector 0x%x\n", IRTE_INDEX,
           VEC);
    writel(edu.bar + EDU_IRQ_RAISE, 1);
    expect_irq(0, "first raise");
    GUEST_ASSERT(!(vtd_fsts(&v) & VTD_FSTS_PPF));

    printf("2. again after EOI\n");
    before = hits;
    writel(edu.bar + EDU_IRQ_RAISE, 2);
    expect_irq(before, "second raise");

    printf("3. IRTE not present\n");
    before = hits;
    vtd_irte_clear(&v, IRTE_INDEX);
    writel(edu.bar + EDU_IRQ_RAISE, 4);
    mdelay(QUIET_MS);
    if (hits != before) {
        guest_fail("non-present IRTE: the interrupt was delivered");
    }
    if (!vtd_fault_pop(&v, &f)) {
        guest_fail("non-present IRTE: no fault recorded (FSTS 0x%x)",
                   vtd_fsts(&v));
    }
    printf("fault reason 0x%x index %llu sid 0x%04x\n", f.reason,
           (unsigned long long)(f.addr >> 48), f.sid);
    GUEST_ASSERT_EQ(f.reason, FR_IRTE_NOT_PRESENT);
    GUEST_ASSERT_EQ(f.addr >> 48, IRTE_INDEX);
    GUEST_ASSERT_EQ(f.sid, sid);
    GUEST_ASSERT(ioapic_get_rte(pin) & IOAPIC_RTE_REMOTE_IRR);
    GUEST_ASSERT_EQ(readl(edu.bar + EDU_IRQ_STATUS), 4);

    printf("4. IRTE present again; EOI re-sends the held level\n");
    vtd_irte_set(&v, IRTE_INDEX, &irte);
    ioapic_eoi(VEC);
    expect_irq(before, "re-enabled IRTE");

    guest_pass();
}
