/*
 * ir-edu-msi: edu's MSI through VT-d interrupt remapping (facts G.2-G.5).
 *
 * Needs `-device intel-iommu,intremap=on -device edu`.  The guest enables
 * queued invalidation and interrupt remapping, points edu's MSI at an IRTE
 * with a remappable-format address (SHV = 0) and raises edu's interrupt
 * (register 0x60: every raise sends an MSI when MSI is enabled):
 *
 * 1. the handler of the IRTE's vector runs;
 * 2. after the IRTE is rewritten with another vector (index-selective IEC
 *    invalidation), the new vector runs and the old one does not;
 * 3. a non-present IRTE blocks the message: no interrupt, and a fault
 *    record with reason 0x22, FI[63:48] = the index, SID = edu's BDF;
 * 4. source-id validation (SVT 01) against another requester id blocks it
 *    with reason 0x26;
 * 5. the correct IRTE again delivers.
 */
#include "guest.h"
#include "edu.h"
#include "vtd.h"

/* edu's interrupt registers (docs/edu.md) */
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64

#define IRT_S 7                 /* 256 entries */
#define IRTE_INDEX 37
#define VEC_A 0x41
#define VEC_B 0x42
#define FR_IRTE_NOT_PRESENT 0x22
#define FR_SID_INVALID 0x26
#define IRQ_WAIT_MS 1000
#define NO_IRQ_WAIT_MS 200

static struct edu edu;
static volatile int hits[256];

static void count_irq(struct irq_frame *frame, void *opaque)
{
    hits[frame->vector & 0xff]++;
    lapic_eoi();
}

/* Raise edu's interrupt 0x1 and acknowledge it at once: each raise is one
 * MSI, and edu's status is clean again for the next step. */
static void edu_raise(void)
{
    writel(edu.bar + EDU_IRQ_RAISE, 1);
    writel(edu.bar + EDU_IRQ_ACK, 1);
}

static void expect_irq(int vector, int count, const char *step)
{
    uint64_t deadline = timeout_start(IRQ_WAIT_MS);

    while (hits[vector] < count && !timeout_expired(deadline)) {
        cpu_relax();
    }
    if (hits[vector] < count) {
        guest_fail("%s: no interrupt on vector 0x%x in %u ms", step, vector,
                   IRQ_WAIT_MS);
    }
    if (hits[vector] != count) {
        guest_fail("%s: vector 0x%x ran %d times, expected %d", step, vector,
                   hits[vector], count);
    }
}

static void expect_blocked(struct vtd *v, uint16_t bdf, uint8_t reason,
                           const char *step)
{
    struct vtd_fault f;
    int a = hits[VEC_A], b = hits[VEC_B];

    edu_raise();
    mdelay(NO_IRQ_WAIT_MS);
    if (hits[VEC_A] != a || hits[VEC_B] != b) {
        guest_fail("%s: the blocked message was delivered", step);
    }
    if (!vtd_fault_pop(v, &f)) {
        guest_fail("%s: no fault recorded (FSTS 0x%x)", step, vtd_fsts(v));
    }
    printf("%s: fault reason 0x%x index %llu sid 0x%04x\n", step, f.reason,
           (unsigned long long)(f.addr >> 48), f.sid);
    GUEST_ASSERT_EQ(f.reason, reason);
    GUEST_ASSERT_EQ(f.addr >> 48, IRTE_INDEX);
    GUEST_ASSERT_EQ(f.addr & 0xffffffffffffULL, 0);
    GUEST_ASSERT_EQ(f.sid, bdf);
    GUEST_ASSERT(!(vtd_fsts(v) & VTD_FSTS_PPF));
}

int main(void)
{
    struct vtd v;
    struct vtd_irte irte;
    uint32_t apic = lapic_id();
    uint16_t bdf;

    edu_init(&edu);
    bdf = edu.bdf;
    printf("APIC id %u\n", apic);

    vtd_init(&v);
    if (!(v.ecap & VTD_ECAP_IR)) {
        guest_fail("intel-iommu without ECAP.IR (needs intremap=on)");
    }
    vtd_qi_enable(&v);
    vtd_ir_enable(&v, IRT_S, false, false);
    irq_register(VEC_A, count_irq, NULL);
    irq_register(VEC_B, count_irq, NULL);

    irte = (struct vtd_irte) {
        .vector = VEC_A, .dest = apic, .svt = VTD_IRTE_SVT_SID, .sid = bdf,
    };
    vtd_irte_set(&v, IRTE_INDEX, &irte);
    if (!pci_msi_setup(bdf, vtd_ir_msi_addr(IRTE_INDEX), 0)) {
        guest_fail("edu has no MSI capability");
    }
    irq_enable();

    printf("1. remapped MSI, IRTE %u vector 0x%x\n", IRTE_INDEX, VEC_A);
    edu_raise();
    expect_irq(VEC_A, 1, "remapped MSI");
    GUEST_ASSERT_EQ(readl(edu.bar + EDU_IRQ_STATUS), 0);
    GUEST_ASSERT(!(vtd_fsts(&v) & VTD_FSTS_PPF));

    printf("2. IRTE rewritten to vector 0x%x, IEC invalidated\n", VEC_B);
    irte.vector = VEC_B;
    vtd_irte_set(&v, IRTE_INDEX, &irte);
    edu_raise();
    expect_irq(VEC_B, 1, "rewritten IRTE");
    GUEST_ASSERT_EQ(hits[VEC_A], 1);

    printf("3. IRTE not present\n");
    vtd_irte_clear(&v, IRTE_INDEX);
    expect_blocked(&v, bdf, FR_IRTE_NOT_PRESENT, "non-present IRTE");

    printf("4. source-id validation against another requester\n");
    irte.sid = bdf ^ 0x100;
    vtd_irte_set(&v, IRTE_INDEX, &irte);
    expect_blocked(&v, bdf, FR_SID_INVALID, "wrong SID");

    printf("5. correct IRTE again\n");
    irte.sid = bdf;
    vtd_irte_set(&v, IRTE_INDEX, &irte);
    edu_raise();
    expect_irq(VEC_B, 2, "restored IRTE");
    GUEST_ASSERT_EQ(hits[VEC_A], 1);

    guest_pass();
}
