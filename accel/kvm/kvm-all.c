/*
 * The KVM accelerator: -accel kvm (docs/kvm.md).
 *
 * One VM with KVM's split irqchip: the local APICs are in the kernel, the
 * I/O APIC stays here (hw/i386/ioapic.c) so that interrupt remapping sees
 * its messages.  Guest RAM, and mmap-able ram-device regions (VFIO BARs),
 * become memory slots; every other access exits to us and goes through
 * the memory API.  One thread per vCPU.
 *
 * Locking: all device code runs with the big lock (system/main-loop.h).
 * A vCPU thread holds it except inside KVM_RUN.  KVMState and KVMVCPU
 * fields are read and written with the big lock held, except `run`,
 * which the kernel fills during KVM_RUN and whose immediate_exit a kicker
 * sets (with the lock) to make the next or current KVM_RUN return.
 *
 * vCPU life: created at init_machine, parked (waiting on wake_cond) while
 * the VM is not running, pause_req is set, or after a fatal exit.
 * kvm_pause_all() kicks every vCPU (immediate_exit + SIG_IPI) and waits
 * until each is parked; a machine reset does that, marks every vCPU
 * reset_pending and lets them go: each reloads the boot state
 * (X86BootState) itself before it runs again.  At exit, quit makes the
 * threads leave and they are joined.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <glib.h>

#include "hw/boards.h"
#include "hw/i386/apic-msi.h"
#include "hw/i386/ioapic.h"
#include "hw/i386/x86-boot.h"
#include "qom/object.h"
#include "system/accel.h"
#include "system/kvm.h"
#include "system/main-loop.h"
#include "system/memory.h"
#include "system/reset.h"
#include "system/runstate.h"

#define KVM_API_VERSION_WANTED  12
/* As QEMU's q35: the identity map page, then three pages of TSS. */
#define KVM_IDENTITY_MAP_ADDR   0xfeffc000ULL
#define KVM_TSS_ADDR            (KVM_IDENTITY_MAP_ADDR + 0x1000)
#define KVM_MAX_SLOTS           512
#define KVM_PAGE_SIZE           4096ULL
/* The signal that kicks a vCPU thread out of KVM_RUN. */
#define SIG_IPI                 SIGUSR1
/* Local APIC base MSR bits (Intel SDM 3, 11.4.4). */
#define APIC_DEFAULT_BASE       0xfee00000ULL
#define MSR_IA32_APICBASE_BSP   (1ULL << 8)
#define MSR_IA32_APICBASE_EN    (1ULL << 11)

typedef struct KVMSlot {
    bool used;
    uint64_t start;             /* guest physical, page aligned */
    uint64_t size;
} KVMSlot;

typedef struct KVMState KVMState;

typedef struct KVMVCPU {
    KVMState *s;
    unsigned index;             /* vCPU id = APIC id */
    int fd;
    struct kvm_run *run;        /* mmap of the vCPU fd */
    struct kvm_lapic_state lapic0;  /* as created: restored at reset */
    pthread_t thread;
    bool thread_started;
    bool parked;                /* waiting on wake_cond, not in KVM_RUN */
    bool reset_pending;         /* load the boot state before running */
    bool dead;                  /* a fatal exit: runs no more until reset */
} KVMVCPU;

struct KVMState {
    int fd;                     /* /dev/kvm */
    int vmfd;
    int run_size;
    bool readonly_mem;          /* KVM_CAP_READONLY_MEM */
    MachineState *ms;
    X86CPUSpec cpu_spec;
    MemoryListener listener;
    KVMSlot slots[KVM_MAX_SLOTS];
    unsigned nr_slots;          /* usable: min(KVM's, KVM_MAX_SLOTS) */
    KVMVCPU *vcpus;
    unsigned nr_vcpus;
    bool pause_req;
    bool quit;
    pthread_cond_t wake_cond;   /* vCPUs park here */
    pthread_cond_t parked_cond; /* kvm_pause_all() waits here */
    /* The I/O APIC pins' GSI routes (split irqchip, see kvm_set_routes). */
    ApicMsi routes[IOAPIC_NUM_PINS];
    bool route_valid[IOAPIC_NUM_PINS];
};

static KVMState *kvm_state;
/* The vCPU the calling thread runs, NULL in other threads. */
static __thread KVMVCPU *current_vcpu;

bool kvm_enabled(void)
{
    return kvm_state != NULL;
}

/* --- Memory slots --------------------------------------------------------- */

/*
 * The page-aligned part of a RAM section (KVM maps whole pages; the
 * unaligned edges stay MMIO and go through the memory API).  False when
 * nothing of it can be a slot.
 */
static bool kvm_section_range(MemoryRegionSection *sec, uint64_t *start,
                              uint64_t *size, void **host)
{
    uint64_t begin = sec->offset_within_address_space;
    uint64_t end, aligned;
    uint8_t *ptr;

    if (!memory_region_is_ram(sec->mr) || sec->size == UINT64_MAX ||
        sec->size == 0 || begin + sec->size < begin) {
        return false;
    }
    ptr = memory_region_get_ram_ptr(sec->mr);
    if (!ptr) {
        return false;
    }
    aligned = (begin + KVM_PAGE_SIZE - 1) & ~(KVM_PAGE_SIZE - 1);
    end = (begin + sec->size) & ~(KVM_PAGE_SIZE - 1);
    if (aligned < begin || end <= aligned) {
        return false;
    }
    ptr += sec->offset_within_region + (aligned - begin);
    if ((uintptr_t)ptr & (KVM_PAGE_SIZE - 1)) {
        return false;   /* host memory not page aligned: leave it MMIO */
    }
    *start = aligned;
    *size = end - aligned;
    *host = ptr;
    return true;
}

static int kvm_set_slot(KVMState *s, unsigned slot, uint32_t flags,
                        uint64_t start, uint64_t size, void *host)
{
    struct kvm_userspace_memory_region mem = {
        .slot = slot,
        .flags = flags,
        .guest_phys_addr = start,
        .memory_size = size,
        .userspace_addr = (uintptr_t)host,
    };

    return ioctl(s->vmfd, KVM_SET_USER_MEMORY_REGION, &mem) < 0 ? -errno : 0;
}

static void kvm_region_add(MemoryListener *l, MemoryRegionSection *sec)
{
    KVMState *s = (KVMState *)((char *)l - offsetof(KVMState, listener));
    bool readonly = sec->readonly || sec->mr->readonly;
    uint64_t start, size;
    void *host;
    int ret;

    if (!kvm_section_range(sec, &start, &size, &host) ||
        (readonly && !s->readonly_mem)) {
        return;
    }
    for (unsigned i = 0; i < s->nr_slots; i++) {
        if (s->slots[i].used) {
            continue;
        }
        ret = kvm_set_slot(s, i, readonly ? KVM_MEM_READONLY : 0, start,
                           size, host);
        if (ret < 0) {
            /* Accesses still work, as MMIO exits: slower, not wrong. */
            fprintf(stderr, "kvm: cannot map %s at 0x%" PRIx64 "+0x%" PRIx64
                    " as a memory slot: %s\n", memory_region_name(sec->mr),
                    start, size, strerror(-ret));
            return;
        }
        s->slots[i] = (KVMSlot){ .used = true, .start = start, .size = size };
        return;
    }
    fprintf(stderr, "kvm: no free memory slot for %s at 0x%" PRIx64 "\n",
            memory_region_name(sec->mr), start);
}

static void kvm_region_del(MemoryListener *l, MemoryRegionSection *sec)
{
    KVMState *s = (KVMState *)((char *)l - offsetof(KVMState, listener));
    uint64_t start, size;
    void *host;

    if (!kvm_section_range(sec, &start, &size, &host)) {
        return;
    }
    for (unsigned i = 0; i < s->nr_slots; i++) {
        KVMSlot *slot = &s->slots[i];

        if (slot->used && slot->start == start && slot->size == size) {
            kvm_set_slot(s, i, 0, start, 0, NULL);
            slot->used = false;
            return;
        }
    }
}

/* --- Interrupts ----------------------------------------------------------- */

static void kvm_msi_to_kernel(const ApicMsi *msg, uint32_t *lo, uint32_t *hi,
                              uint32_t *data)
{
    *lo = (uint32_t)msg->addr;
    *hi = msg->addr >> 32;
    *data = msg->data;
}

/* apic_msi's delivery hook: every MSI, after interrupt remapping. */
static void kvm_msi_deliver(void *opaque, const ApicMsi *msg)
{
    KVMState *s = opaque;
    struct kvm_msi m = { 0 };

    kvm_msi_to_kernel(msg, &m.address_lo, &m.address_hi, &m.data);
    if (ioctl(s->vmfd, KVM_SIGNAL_MSI, &m) < 0) {
        log_guest_error("kvm: MSI 0x%" PRIx64 " data 0x%x not delivered: "
                        "%s", msg->addr, msg->data, strerror(errno));
    }
}

/*
 * The I/O APIC pins as GSI routes 0..23.  KVM (split irqchip) learns from
 * them which level-triggered vectors need a KVM_EXIT_IOAPIC_EOI; we
 * deliver with KVM_SIGNAL_MSI all the same.
 */
static void kvm_set_routes(KVMState *s)
{
    g_autofree struct kvm_irq_routing *r =
        g_malloc0(sizeof(*r) +
                  IOAPIC_NUM_PINS * sizeof(struct kvm_irq_routing_entry));

    for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        struct kvm_irq_routing_entry *e = &r->entries[r->nr];

        if (!s->route_valid[pin]) {
            continue;
        }
        e->gsi = pin;
        e->type = KVM_IRQ_ROUTING_MSI;
        kvm_msi_to_kernel(&s->routes[pin], &e->u.msi.address_lo,
                          &e->u.msi.address_hi, &e->u.msi.data);
        r->nr++;
    }
    if (ioctl(s->vmfd, KVM_SET_GSI_ROUTING, r) < 0) {
        log_guest_error("kvm: KVM_SET_GSI_ROUTING: %s", strerror(errno));
    }
}

static void kvm_ioapic_route(void *opaque, unsigned pin, const ApicMsi *msg)
{
    KVMState *s = opaque;

    if (pin >= IOAPIC_NUM_PINS ||
        (s->route_valid[pin] && s->routes[pin].addr == msg->addr &&
         s->routes[pin].data == msg->data)) {
        return;
    }
    s->routes[pin] = *msg;
    s->route_valid[pin] = true;
    kvm_set_routes(s);
}

/* --- Register dump (QEMU's x86_cpu_dump_state shape) ---------------------- */

static uint32_t kvm_seg_flags(const struct kvm_segment *sg)
{
    return (uint32_t)sg->type << 8 | (uint32_t)sg->s << 12 |
           (uint32_t)sg->dpl << 13 | (uint32_t)sg->present << 15 |
           (uint32_t)sg->avl << 20 | (uint32_t)sg->l << 21 |
           (uint32_t)sg->db << 22 | (uint32_t)sg->g << 23;
}

static void kvm_dump_seg(const char *name, const struct kvm_segment *sg,
                         bool lma)
{
    if (lma) {
        fprintf(stderr, "%s=%04x %016" PRIx64 " %08x %08x\n", name,
                sg->selector, (uint64_t)sg->base, sg->limit,
                kvm_seg_flags(sg));
    } else {
        fprintf(stderr, "%s=%04x %08x %08x %08x\n", name, sg->selector,
                (uint32_t)sg->base, sg->limit, kvm_seg_flags(sg));
    }
}

static void kvm_vcpu_dump(KVMVCPU *cpu)
{
    struct kvm_regs r;
    struct kvm_sregs sr;
    bool lma;
    char fl[8];
    static const char flag_chars[] = "ODSZAPC";
    static const int flag_bits[] = { 11, 10, 7, 6, 4, 2, 0 };

    if (ioctl(cpu->fd, KVM_GET_REGS, &r) < 0 ||
        ioctl(cpu->fd, KVM_GET_SREGS, &sr) < 0) {
        fprintf(stderr, "vCPU %u: registers unavailable: %s\n", cpu->index,
                strerror(errno));
        return;
    }
    for (int i = 0; i < 7; i++) {
        fl[i] = r.rflags & (1ULL << flag_bits[i]) ? flag_chars[i] : '-';
    }
    fl[7] = '\0';
    lma = sr.efer & (1ULL << 10);
    fprintf(stderr, "CPU#%u\n", cpu->index);
    if (lma) {
        fprintf(stderr,
                "RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n"
                "RSI=%016llx RDI=%016llx RBP=%016llx RSP=%016llx\n"
                "R8 =%016llx R9 =%016llx R10=%016llx R11=%016llx\n"
                "R12=%016llx R13=%016llx R14=%016llx R15=%016llx\n"
                "RIP=%016llx RFL=%08x [%s] CPL=%u II=0 A20=1 SMM=0 HLT=0\n",
                r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp,
                r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15,
                r.rip, (uint32_t)r.rflags, fl, sr.ss.dpl);
    } else {
        fprintf(stderr,
                "EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n"
                "ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n"
                "EIP=%08x EFL=%08x [%s] CPL=%u II=0 A20=1 SMM=0 HLT=0\n",
                (uint32_t)r.rax, (uint32_t)r.rbx, (uint32_t)r.rcx,
                (uint32_t)r.rdx, (uint32_t)r.rsi, (uint32_t)r.rdi,
                (uint32_t)r.rbp, (uint32_t)r.rsp, (uint32_t)r.rip,
                (uint32_t)r.rflags, fl, sr.ss.dpl);
    }
    kvm_dump_seg("ES ", &sr.es, lma);
    kvm_dump_seg("CS ", &sr.cs, lma);
    kvm_dump_seg("SS ", &sr.ss, lma);
    kvm_dump_seg("DS ", &sr.ds, lma);
    kvm_dump_seg("FS ", &sr.fs, lma);
    kvm_dump_seg("GS ", &sr.gs, lma);
    kvm_dump_seg("LDT", &sr.ldt, lma);
    kvm_dump_seg("TR ", &sr.tr, lma);
    fprintf(stderr, "GDT=     %016llx %08x\n", sr.gdt.base, sr.gdt.limit);
    fprintf(stderr, "IDT=     %016llx %08x\n", sr.idt.base, sr.idt.limit);
    fprintf(stderr, "CR0=%08llx CR2=%016llx CR3=%016llx CR4=%08llx\n",
            sr.cr0, sr.cr2, sr.cr3, sr.cr4);
    fprintf(stderr, "EFER=%016llx\n", sr.efer);
}

/*
 * The vCPU cannot go on: dump its registers, park it, and shut the
 * machine down with a failure status (the SHUTDOWN event says why).
 */
static void kvm_vcpu_fatal(KVMVCPU *cpu, ShutdownCause cause)
{
    kvm_vcpu_dump(cpu);
    cpu->dead = true;
    qemu_system_shutdown_request_with_code(cause, 1);
}

/* --- vCPU state ----------------------------------------------------------- */

static void kvm_seg_from_boot(struct kvm_segment *out,
                              const X86BootSegment *in)
{
    *out = (struct kvm_segment){
        .base = in->base, .limit = in->limit, .selector = in->selector,
        .type = in->type, .present = in->present, .dpl = in->dpl,
        .db = in->db, .s = in->s, .l = in->l, .g = in->g,
    };
}

/*
 * Puts the vCPU in its state after reset: the BSP at the kernel entry
 * (X86BootState), APs waiting for INIT/SIPI in the in-kernel local APIC.
 * Any I/O or MMIO exit still open is completed first with an empty
 * KVM_RUN (immediate_exit), so that nothing from before the reset is
 * replayed over the new state.
 */
static bool kvm_vcpu_reset(KVMVCPU *cpu)
{
    const X86BootState *bs = x86_boot_state(cpu->s->ms);
    bool bsp = cpu->index == 0;
    struct kvm_mp_state mp = {
        .mp_state = bsp ? KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_UNINITIALIZED,
    };
    struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
    struct kvm_sregs sr;

    /* Returns EINTR at once, having completed what was pending. */
    cpu->run->immediate_exit = 1;
    (void)ioctl(cpu->fd, KVM_RUN, 0);
    cpu->run->immediate_exit = 0;

    if (ioctl(cpu->fd, KVM_GET_SREGS, &sr) < 0) {
        return false;
    }
    sr.apic_base = APIC_DEFAULT_BASE | MSR_IA32_APICBASE_EN |
                   (bsp ? MSR_IA32_APICBASE_BSP : 0);
    if (bsp && bs) {
        struct kvm_regs regs = {
            .rip = bs->rip, .rflags = bs->rflags,
            .rax = bs->rax, .rbx = bs->rbx, .rsi = bs->rsi,
        };

        kvm_seg_from_boot(&sr.cs, &bs->cs);
        kvm_seg_from_boot(&sr.ds, &bs->ds);
        sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
        kvm_seg_from_boot(&sr.tr, &bs->tr);
        sr.ldt = (struct kvm_segment){ .limit = 0xffff, .type = 2,
                                       .present = 1 };
        sr.gdt = (struct kvm_dtable){ .base = bs->gdt_base,
                                      .limit = bs->gdt_limit };
        sr.idt = (struct kvm_dtable){ .base = 0, .limit = 0xffff };
        sr.cr0 = bs->cr0;
        sr.cr2 = 0;
        sr.cr3 = bs->cr3;
        sr.cr4 = bs->cr4;
        sr.efer = bs->efer;
        memset(sr.interrupt_bitmap, 0, sizeof(sr.interrupt_bitmap));
        if (ioctl(cpu->fd, KVM_SET_SREGS, &sr) < 0 ||
            ioctl(cpu->fd, KVM_SET_REGS, &regs) < 0) {
            return false;
        }
    } else if (ioctl(cpu->fd, KVM_SET_SREGS, &sr) < 0) {
        return false;
    }
    return ioctl(cpu->fd, KVM_SET_FPU, &fpu) == 0 &&
           ioctl(cpu->fd, KVM_SET_LAPIC, &cpu->lapic0) == 0 &&
           ioctl(cpu->fd, KVM_SET_MP_STATE, &mp) == 0;
}

/* --- Exits ---------------------------------------------------------------- */

static void kvm_handle_io(KVMVCPU *cpu)
{
    struct kvm_run *run = cpu->run;
    unsigned size = run->io.size;
    uint64_t len = (uint64_t)size * run->io.count;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;

    if ((size != 1 && size != 2 && size != 4) ||
        run->io.data_offset > (uint64_t)cpu->s->run_size ||
        len > cpu->s->run_size - run->io.data_offset) {
        fprintf(stderr, "KVM: bad I/O exit: port 0x%x size %u count %u\n",
                run->io.port, size, run->io.count);
        kvm_vcpu_fatal(cpu, SHUTDOWN_CAUSE_HOST_ERROR);
        return;
    }
    /* String I/O: count accesses of size bytes at the same port. */
    for (uint32_t i = 0; i < run->io.count; i++) {
        address_space_rw(&address_space_io, run->io.port,
                         MEMTXATTRS_UNSPECIFIED, data + i * size, size,
                         run->io.direction == KVM_EXIT_IO_OUT);
    }
}

static void kvm_handle_exit(KVMVCPU *cpu)
{
    struct kvm_run *run = cpu->run;

    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        kvm_handle_io(cpu);
        break;
    case KVM_EXIT_MMIO:
        if (run->mmio.len > sizeof(run->mmio.data)) {
            fprintf(stderr, "KVM: bad MMIO exit length %u\n", run->mmio.len);
            kvm_vcpu_fatal(cpu, SHUTDOWN_CAUSE_HOST_ERROR);
            break;
        }
        address_space_rw(&address_space_memory, run->mmio.phys_addr,
                         MEMTXATTRS_UNSPECIFIED, run->mmio.data,
                         run->mmio.len, run->mmio.is_write);
        break;
    case KVM_EXIT_IOAPIC_EOI:
        ioapic_eoi_broadcast(run->eoi.vector);
        break;
    case KVM_EXIT_IRQ_WINDOW_OPEN:
    case KVM_EXIT_INTR:
    case KVM_EXIT_HLT:
        break;
    case KVM_EXIT_SHUTDOWN:
        /* A triple fault.  QEMU resets; with no firmware to rerun and a
         * test harness waiting, we stop with a failure (docs/kvm.md). */
        fprintf(stderr, "KVM: triple fault on vCPU %u\n", cpu->index);
        kvm_vcpu_fatal(cpu, SHUTDOWN_CAUSE_GUEST_RESET);
        break;
    case KVM_EXIT_SYSTEM_EVENT:
        if (run->system_event.type == KVM_SYSTEM_EVENT_RESET) {
            qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
        } else if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN) {
            qemu_system_shutdown_request(SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
        } else {
            fprintf(stderr, "KVM: system event %u\n",
                    run->system_event.type);
            kvm_vcpu_fatal(cpu, SHUTDOWN_CAUSE_GUEST_PANIC);
        }
        break;
    case KVM_EXIT_INTERNAL_ERROR:
        fprintf(stderr, "KVM internal error. Suberror: %u\n",
                run->internal.suberror);
        for (uint32_t i = 0; i < run->internal.ndata &&
                             i < G_N_ELEMENTS(run->internal.data); i++) {
            fprintf(stderr, "extra data[%u]: 0x%016" PRIx64 "\n", i,
                    (uint64_t)run->internal.data[i]);
        }
        kvm_vcpu_fatal(cpu, SHUTDOWN_CAUSE_HOST_ERROR);
        break;
    case KVM_EXIT_FAIL_ENTRY:
        fprintf(stderr, "KVM: entry failed, hardware error 0x%" PRIx64 "\n",
                (uint64_t)run->fail_entry.hardware_entry_failure_reason);
        kvm_vcpu_fatal(cpu, SHUTDOWN_CAUSE_HOST_ERROR);
        break;
    default:
        fprintf(stderr, "KVM: unknown exit reason %u\n", run->exit_reason);
        kvm_vcpu_fatal(cpu, SHUTDOWN_CAUSE_HOST_ERROR);
        break;
    }
}

/* --- vCPU threads --------------------------------------------------------- */

static void kvm_ipi_handler(int sig)
{
    /* Only interrupts KVM_RUN (EINTR). */
}

static bool kvm_vcpu_should_park(KVMVCPU *cpu)
{
    KVMState *s = cpu->s;

    return !s->quit && (cpu->dead || s->pause_req || !runstate_is_running());
}

static void *kvm_vcpu_thread(void *opaque)
{
    KVMVCPU *cpu = opaque;
    KVMState *s = cpu->s;
    sigset_t set;

    /* Signals for the process go to the main thread; SIG_IPI to us. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    sigemptyset(&set);
    sigaddset(&set, SIG_IPI);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);

    current_vcpu = cpu;
    bql_lock();
    for (;;) {
        int ret, err;

        while (kvm_vcpu_should_park(cpu)) {
            if (!cpu->parked) {
                cpu->parked = true;
                pthread_cond_broadcast(&s->parked_cond);
            }
            bql_cond_wait(&s->wake_cond);
        }
        cpu->parked = false;
        if (s->quit) {
            break;
        }
        if (cpu->reset_pending) {
            cpu->reset_pending = false;
            if (!kvm_vcpu_reset(cpu)) {
                fprintf(stderr, "KVM: cannot reset vCPU %u: %s\n",
                        cpu->index, strerror(errno));
                kvm_vcpu_fatal(cpu, SHUTDOWN_CAUSE_HOST_ERROR);
                continue;
            }
        }
        /* Kicks before this point are seen by the checks above. */
        cpu->run->immediate_exit = 0;
        bql_unlock();
        ret = ioctl(cpu->fd, KVM_RUN, 0);
        err = errno;
        bql_lock();
        if (ret < 0) {
            if (err == EINTR || err == EAGAIN) {
                continue;
            }
            fprintf(stderr, "error: kvm run failed %s\n", strerror(err));
            kvm_vcpu_fatal(cpu, SHUTDOWN_CAUSE_HOST_ERROR);
            continue;
        }
        if (cpu->reset_pending) {
            continue;   /* the exit belongs to the state before reset */
        }
        kvm_handle_exit(cpu);
    }
    cpu->parked = true;
    pthread_cond_broadcast(&s->parked_cond);
    bql_unlock();
    return NULL;
}

static void kvm_vcpu_kick(KVMVCPU *cpu)
{
    if (cpu->thread_started) {
        __atomic_store_n(&cpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
        pthread_kill(cpu->thread, SIG_IPI);
    }
}

/*
 * With a park condition already set (pause_req, quit, not running):
 * returns once every vCPU thread is out of KVM_RUN and parked.  Drops the
 * big lock while it waits.  Called by a vCPU thread (device code stopping
 * the VM), it does not wait for itself: it parks at its next loop.
 */
static void kvm_pause_all(KVMState *s)
{
    for (;;) {
        bool all = true;

        for (unsigned i = 0; i < s->nr_vcpus; i++) {
            KVMVCPU *cpu = &s->vcpus[i];

            if (cpu->thread_started && !cpu->parked && cpu != current_vcpu) {
                kvm_vcpu_kick(cpu);
                all = false;
            }
        }
        if (all) {
            return;
        }
        bql_cond_wait(&s->parked_cond);
    }
}

static void kvm_vm_state_change(void *opaque, bool running, RunState state)
{
    KVMState *s = opaque;

    if (running) {
        pthread_cond_broadcast(&s->wake_cond);
    } else {
        kvm_pause_all(s);
    }
}

/* A machine reset (a reset handler, before the devices reset). */
static void kvm_machine_reset(void *opaque)
{
    KVMState *s = opaque;

    s->pause_req = true;
    kvm_pause_all(s);
    for (unsigned i = 0; i < s->nr_vcpus; i++) {
        s->vcpus[i].reset_pending = true;
        s->vcpus[i].dead = false;
    }
    memset(s->route_valid, 0, sizeof(s->route_valid));
    kvm_set_routes(s);
    s->pause_req = false;
    /* They run once the big lock is free, i.e. after the whole reset. */
    pthread_cond_broadcast(&s->wake_cond);
}

/* --- Set-up --------------------------------------------------------------- */

static struct kvm_cpuid2 *kvm_supported_cpuid(int fd)
{
    for (unsigned n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) +
                                         n * sizeof(c->entries[0]));

        c->nent = n;
        if (ioctl(fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
            return c;
        }
        g_free(c);
        if (errno != E2BIG) {
            return NULL;
        }
    }
    return NULL;
}

/*
 * The CPUID of vCPU `index` of `nr` (one package, one core per vCPU):
 * the host's filtered by -cpu, with its APIC id in leaf 1 and leaves
 * 0xB/0x1F (Intel SDM 2, CPUID).
 */
static void kvm_cpuid_for_vcpu(struct kvm_cpuid2 *c, unsigned index,
                               unsigned nr)
{
    unsigned core_bits = nr > 1 ? g_bit_storage(nr - 1) : 0;

    for (uint32_t i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];

        if (e->function == 1) {
            e->ebx = (e->ebx & 0xffff) | (nr & 0xff) << 16 | index << 24;
            e->edx = nr > 1 ? e->edx | (1u << 28) : e->edx & ~(1u << 28);
        } else if (e->function == 0xb || e->function == 0x1f) {
            e->edx = index;
            if (e->index == 0) {            /* SMT level */
                e->eax = 0;
                e->ebx = 1;
                e->ecx = 1u << 8;
            } else if (e->index == 1) {     /* core level */
                e->eax = core_bits;
                e->ebx = nr;
                e->ecx = 1 | 2u << 8;
            } else {
                e->eax = e->ebx = 0;
                e->ecx = e->index;
            }
        }
    }
}

static bool kvm_filter_cpuid(KVMState *s, struct kvm_cpuid2 *c)
{
    g_autofree X86CPUIDEntry *ents = g_new0(X86CPUIDEntry, c->nent);

    for (uint32_t i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];

        ents[i] = (X86CPUIDEntry){ e->function, e->index, e->flags,
                                   e->eax, e->ebx, e->ecx, e->edx };
    }
    x86_cpu_filter_cpuid(&s->cpu_spec, ents, c->nent);
    for (uint32_t i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];

        e->eax = ents[i].eax;
        e->ebx = ents[i].ebx;
        e->ecx = ents[i].ecx;
        e->edx = ents[i].edx;
    }
    return true;
}

static bool kvm_create_vcpus(KVMState *s, Error **errp)
{
    g_autofree struct kvm_cpuid2 *tmpl = kvm_supported_cpuid(s->fd);
    size_t cpuid_size;

    if (!tmpl) {
        error_setg_errno(errp, errno, "failed to initialize kvm: "
                         "KVM_GET_SUPPORTED_CPUID");
        return false;
    }
    kvm_filter_cpuid(s, tmpl);
    cpuid_size = sizeof(*tmpl) + tmpl->nent * sizeof(tmpl->entries[0]);
    s->vcpus = g_new0(KVMVCPU, s->nr_vcpus);
    for (unsigned i = 0; i < s->nr_vcpus; i++) {
        KVMVCPU *cpu = &s->vcpus[i];

        cpu->s = s;
        cpu->index = i;
        cpu->fd = -1;
        cpu->reset_pending = true;
    }
    for (unsigned i = 0; i < s->nr_vcpus; i++) {
        KVMVCPU *cpu = &s->vcpus[i];
        g_autofree struct kvm_cpuid2 *c = g_memdup2(tmpl, cpuid_size);
        void *run;

        cpu->fd = ioctl(s->vmfd, KVM_CREATE_VCPU, (unsigned long)i);
        if (cpu->fd < 0) {
            error_setg_errno(errp, errno, "kvm_init_vcpu: "
                             "kvm_create_vcpu failed (%u)", i);
            return false;
        }
        run = mmap(NULL, s->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                   cpu->fd, 0);
        if (run == MAP_FAILED) {
            error_setg_errno(errp, errno, "kvm_init_vcpu: mmap'ing vcpu "
                             "state failed (%u)", i);
            return false;
        }
        cpu->run = run;
        kvm_cpuid_for_vcpu(c, i, s->nr_vcpus);
        if (ioctl(cpu->fd, KVM_SET_CPUID2, c) < 0) {
            error_setg_errno(errp, errno, "kvm_init_vcpu: "
                             "KVM_SET_CPUID2 failed (%u)", i);
            return false;
        }
        if (ioctl(cpu->fd, KVM_GET_LAPIC, &cpu->lapic0) < 0) {
            error_setg_errno(errp, errno, "kvm_init_vcpu: "
                             "KVM_GET_LAPIC failed (%u)", i);
            return false;
        }
    }
    return true;
}

static bool kvm_start_threads(KVMState *s, Error **errp)
{
    for (unsigned i = 0; i < s->nr_vcpus; i++) {
        KVMVCPU *cpu = &s->vcpus[i];
        int ret = pthread_create(&cpu->thread, NULL, kvm_vcpu_thread, cpu);

        if (ret) {
            error_setg_errno(errp, ret, "kvm: cannot create vCPU thread %u",
                             i);
            return false;
        }
        cpu->thread_started = true;
    }
    return true;
}

typedef struct KVMCapNeeded {
    int cap;
    const char *name;
} KVMCapNeeded;

static const KVMCapNeeded kvm_caps_needed[] = {
    { KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
    { KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
    { KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR" },
    { KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
    { KVM_CAP_SPLIT_IRQCHIP, "KVM_CAP_SPLIT_IRQCHIP" },
    { KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI" },
    { KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
    { KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
    { KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
};

static void kvm_state_free(KVMState *s)
{
    for (unsigned i = 0; s->vcpus && i < s->nr_vcpus; i++) {
        KVMVCPU *cpu = &s->vcpus[i];

        if (cpu->run) {
            munmap(cpu->run, s->run_size);
        }
        if (cpu->fd >= 0) {
            close(cpu->fd);
        }
    }
    g_free(s->vcpus);
    if (s->vmfd >= 0) {
        close(s->vmfd);
    }
    if (s->fd >= 0) {
        close(s->fd);
    }
    pthread_cond_destroy(&s->wake_cond);
    pthread_cond_destroy(&s->parked_cond);
    g_free(s);
}

/* Opens /dev/kvm and creates the VM; QEMU's messages (kvm_init). */
static bool kvm_open_vm(KVMState *s, Error **errp)
{
    struct kvm_enable_cap split = {
        .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { IOAPIC_NUM_PINS },
    };
    struct kvm_enable_cap x2apic = {
        .cap = KVM_CAP_X2APIC_API,
        .args = { KVM_X2APIC_API_USE_32BIT_IDS |
                  KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK },
    };
    uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
    int ret, slots, max_vcpus;

    s->fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (s->fd < 0) {
        int err = errno;

        fprintf(stderr, "Could not access KVM kernel module: %s\n",
                strerror(err));
        error_setg(errp, "failed to initialize kvm: %s", strerror(err));
        return false;
    }
    ret = ioctl(s->fd, KVM_GET_API_VERSION, 0);
    if (ret != KVM_API_VERSION_WANTED) {
        fprintf(stderr, ret < KVM_API_VERSION_WANTED ?
                "kvm version too old\n" : "kvm version not supported\n");
        error_setg(errp, "failed to initialize kvm: %s", strerror(EINVAL));
        return false;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(kvm_caps_needed); i++) {
        if (ioctl(s->fd, KVM_CHECK_EXTENSION, kvm_caps_needed[i].cap) <= 0) {
            fprintf(stderr, "kvm does not support %s\n",
                    kvm_caps_needed[i].name);
            error_setg(errp, "failed to initialize kvm: %s",
                       strerror(EINVAL));
            return false;
        }
    }
    max_vcpus = ioctl(s->fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
    if (max_vcpus <= 0) {
        max_vcpus = ioctl(s->fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
    }
    if (max_vcpus <= 0) {
        max_vcpus = 4;
    }
    if (s->nr_vcpus > (unsigned)max_vcpus) {
        fprintf(stderr, "Number of SMP cpus requested (%u) exceeds the "
                "maximum cpus supported by KVM (%d)\n", s->nr_vcpus,
                max_vcpus);
        error_setg(errp, "failed to initialize kvm: %s", strerror(EINVAL));
        return false;
    }
    s->readonly_mem = ioctl(s->fd, KVM_CHECK_EXTENSION,
                            KVM_CAP_READONLY_MEM) > 0;
    slots = ioctl(s->fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
    s->nr_slots = slots > 0 ? MIN((unsigned)slots, KVM_MAX_SLOTS) : 32;
    s->run_size = ioctl(s->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (s->run_size < (int)sizeof(struct kvm_run)) {
        error_setg(errp, "failed to initialize kvm: KVM_GET_VCPU_MMAP_SIZE "
                   "returned %d", s->run_size);
        return false;
    }
    do {
        s->vmfd = ioctl(s->fd, KVM_CREATE_VM, 0);
    } while (s->vmfd < 0 && errno == EINTR);
    if (s->vmfd < 0) {
        int err = errno;

        fprintf(stderr, "ioctl(KVM_CREATE_VM) failed: %d %s\n", err,
                strerror(err));
        error_setg(errp, "failed to initialize kvm: %s", strerror(err));
        return false;
    }
    if (ioctl(s->vmfd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0 ||
        ioctl(s->vmfd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0) {
        error_setg_errno(errp, errno, "failed to initialize kvm: "
                         "KVM_SET_TSS_ADDR");
        return false;
    }
    if (ioctl(s->vmfd, KVM_ENABLE_CAP, &split) < 0) {
        error_setg_errno(errp, errno, "failed to initialize kvm: "
                         "Could not enable split irqchip mode");
        return false;
    }
    /* 32-bit APIC ids in MSI address 63:40 (intel-iommu's x2APIC form);
     * optional as in QEMU: without it only xAPIC ids reach the kernel. */
    if (ioctl(s->fd, KVM_CHECK_EXTENSION, KVM_CAP_X2APIC_API) > 0 &&
        ioctl(s->vmfd, KVM_ENABLE_CAP, &x2apic) < 0) {
        fprintf(stderr, "kvm: cannot enable KVM_CAP_X2APIC_API: %s\n",
                strerror(errno));
    }
    return true;
}

static bool kvm_init_machine(MachineState *ms, const char *qtest_spec,
                             const char *qtest_log, Error **errp)
{
    KVMState *s;
    struct sigaction sa = { .sa_handler = kvm_ipi_handler };

    if (!ms->kernel_filename) {
        error_setg(errp, "-accel kvm needs -kernel: viommu has no firmware "
                   "to boot from (docs/kvm.md)");
        return false;
    }
    s = g_new0(KVMState, 1);
    s->fd = s->vmfd = -1;
    s->ms = ms;
    s->nr_vcpus = MAX(ms->smp_cpus, 1);
    pthread_cond_init(&s->wake_cond, NULL);
    pthread_cond_init(&s->parked_cond, NULL);
    if (!x86_cpu_spec_parse(ms->cpu_model, &s->cpu_spec, errp) ||
        !kvm_open_vm(s, errp) || !kvm_create_vcpus(s, errp)) {
        kvm_state_free(s);
        return false;
    }
    sigemptyset(&sa.sa_mask);
    sigaction(SIG_IPI, &sa, NULL);

    s->listener = (MemoryListener){
        .region_add = kvm_region_add,
        .region_del = kvm_region_del,
        .name = "kvm",
        .priority = 10,
    };
    memory_listener_register(&s->listener, &address_space_memory);
    apic_msi_set_delivery(kvm_msi_deliver, s);
    apic_msi_set_ioapic_route_hook(kvm_ioapic_route, s);
    qemu_register_reset(kvm_machine_reset, s);
    qemu_add_vm_change_state_handler(kvm_vm_state_change, s);
    kvm_state = s;
    if (!kvm_start_threads(s, errp)) {
        return false;   /* the process exits; cleanup joins what started */
    }
    return true;
}

static void kvm_accel_cleanup(void)
{
    KVMState *s = kvm_state;
    bool locked = bql_locked();

    if (!s) {
        return;
    }
    s->quit = true;
    for (unsigned i = 0; i < s->nr_vcpus; i++) {
        kvm_vcpu_kick(&s->vcpus[i]);
    }
    pthread_cond_broadcast(&s->wake_cond);
    if (locked) {
        bql_unlock();
    }
    for (unsigned i = 0; i < s->nr_vcpus; i++) {
        if (s->vcpus[i].thread_started) {
            pthread_join(s->vcpus[i].thread, NULL);
            s->vcpus[i].thread_started = false;
        }
    }
    if (locked) {
        bql_lock();
    }
    qemu_del_vm_change_state_handler(kvm_vm_state_change, s);
    qemu_unregister_reset(kvm_machine_reset, s);
    apic_msi_set_ioapic_route_hook(NULL, NULL);
    apic_msi_set_delivery(NULL, NULL);
    memory_listener_unregister(&s->listener);
    kvm_state = NULL;
    kvm_state_free(s);
}

static bool kvm_accel_available(void)
{
    return true;    /* init_machine explains what is missing */
}

static void kvm_accel_class_init(ObjectClass *klass, const void *data)
{
    AccelClass *ac = ACCEL_CLASS(klass);

    ac->name = "kvm";
    ac->available = kvm_accel_available;
    ac->init_machine = kvm_init_machine;
    ac->cleanup = kvm_accel_cleanup;
}

static const TypeInfo kvm_accel_types[] = {
    {
        .name = "kvm" ACCEL_CLASS_SUFFIX,
        .parent = TYPE_ACCEL,
        .class_init = kvm_accel_class_init,
    },
};

DEFINE_TYPES(kvm_accel_types)
