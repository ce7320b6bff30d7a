/*
 * Guest program entry (docs/guest-tests.md).
 *
 * The image is an ELF64 program objcopied to elf32-i386, so a multiboot 1
 * loader loads it like any ELF32 (control_boot_facts G.4) and enters
 * _start in 32-bit protected mode, paging off, EAX = 0x2BADB002, EBX = the
 * information structure (G.3).  This stub builds identity page tables for
 * the first 4 GiB with 2 MiB pages, enables long mode (PAE, EFER.LME, PG),
 * loads its own GDT and jumps to 64-bit code, which calls guest_start(mbi).
 */
#define MB_MAGIC        0x1BADB002
#define MB_FLAGS        0x00000003      /* page-align modules, memory info */
#define MSR_EFER        0xC0000080
#define EFER_LME        0x100
#define CR0_PE          0x1
#define CR0_MP          0x2
#define CR0_EM          0x4
#define CR0_PG          0x80000000
#define CR4_PAE         0x20
#define CR4_OSFXSR      0x200
#define CR4_OSXMMEXCPT  0x400
#define PTE_P           0x1
#define PTE_RW          0x2
#define PTE_PWT         0x8
#define PTE_PCD         0x10
#define PTE_PS          0x80
/* 2 MiB pages from 0xB0000000 up (ECAM, BARs, IOAPIC, LAPIC, VT-d): UC. */
#define UC_FIRST_2M     (0xB0000000 >> 21)
#define STACK_SIZE      0x4000

        .section .multiboot, "a"
        .balign 4
mb_header:
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)

        .section .text.boot, "ax"
        .code32
        .globl _start
_start:
        cli
        cld
        movl    %ebx, boot_mbi
        movl    $boot_stack_top, %esp

        /* PML4[0] -> PDPT; PDPT[0..3] -> the four page directories. */
        movl    $boot_pml4, %edi
        xorl    %eax, %eax
        movl    $(4096 * 2 / 4), %ecx
        rep stosl                       /* zero PML4 and PDPT */
        movl    $boot_pdpt, %eax
        orl     $(PTE_P | PTE_RW), %eax
        movl    %eax, boot_pml4
        movl    $boot_pd, %eax
        orl     $(PTE_P | PTE_RW), %eax
        movl    $boot_pdpt, %edi
        movl    $4, %ecx
1:      movl    %eax, (%edi)
        movl    $0, 4(%edi)
        addl    $4096, %eax
        addl    $8, %edi
        loop    1b

        /* 2048 PDEs: entry i maps [i * 2 MiB, (i + 1) * 2 MiB). */
        movl    $boot_pd, %edi
        xorl    %ecx, %ecx
2:      movl    %ecx, %eax
        shll    $21, %eax
        orl     $(PTE_P | PTE_RW | PTE_PS), %eax
        cmpl    $UC_FIRST_2M, %ecx
        jb      3f
        orl     $(PTE_PWT | PTE_PCD), %eax
3:      movl    %eax, (%edi)
        movl    $0, 4(%edi)
        addl    $8, %edi
        incl    %ecx
        cmpl    $2048, %ecx
        jb      2b

        lgdt    boot_gdt_ptr
        movl    $0x10, %eax
        movl    %eax, %ds
        movl    %eax, %es
        movl    %eax, %ss
        movl    %eax, %fs
        movl    %eax, %gs

        movl    $boot_pml4, %eax
        movl    %eax, %cr3
        movl    %cr4, %eax
        orl     $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
        movl    %eax, %cr4
        movl    $MSR_EFER, %ecx
        rdmsr
        orl     $EFER_LME, %eax
        wrmsr
        movl    %cr0, %eax
        andl    $~CR0_EM, %eax
        orl     $(CR0_PE | CR0_MP | CR0_PG), %eax
        movl    %eax, %cr0
        ljmp    $0x08, $long_mode

        .code64
long_mode:
        movl    $0x10, %eax
        movl    %eax, %ds
        movl    %eax, %es
        movl    %eax, %ss
        movl    %eax, %fs
        movl    %eax, %gs
        movq    $boot_stack_top, %rsp
        xorl    %ebp, %ebp
        movl    boot_mbi, %edi
        call    guest_start
4:      cli
        hlt
        jmp     4b

/*
 * Interrupt entry: one stub per vector pushes a zero error code where the
 * CPU does not push one, then the vector, and jumps to the common path,
 * which saves the general registers as struct irq_frame (guest.h) and
 * calls irq_dispatch(frame) on a 16-byte aligned stack.
 */
        .text
        .macro  irq_stub vec
        .balign 16
irq_stub_\vec:
        /* the CPU pushes an error code for 8, 10-14, 17, 21, 29, 30 */
        .if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || \
            (\vec == 21) || (\vec == 29) || (\vec == 30)
        .else
        pushq   $0
        .endif
        pushq   $\vec
        jmp     irq_common
        .endm

        .altmacro
        .set    vec, 0
        .rept   256
        irq_stub %vec
        .set    vec, vec + 1
        .endr

irq_common:
        pushq   %rax
        pushq   %rbx
        pushq   %rcx
        pushq   %rdx
        pushq   %rsi
        pushq   %rdi
        pushq   %rbp
        pushq   %r8
        pushq   %r9
        pushq   %r10
        pushq   %r11
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rsp, %rdi
        movq    %rsp, %rbx
        andq    $-16, %rsp
        cld
        call    irq_dispatch
        movq    %rbx, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %r11
        popq    %r10
        popq    %r9
        popq    %r8
        popq    %rbp
        popq    %rdi
        popq    %rsi
        popq    %rdx
        popq    %rcx
        popq    %rbx
        popq    %rax
        addq    $16, %rsp               /* vector, error code */
        iretq

        .macro  irq_stub_addr vec
        .quad   irq_stub_\vec
        .endm

        .section .rodata
        .balign 8
        .globl  irq_stubs
irq_stubs:
        .set    vec, 0
        .rept   256
        irq_stub_addr %vec
        .set    vec, vec + 1
        .endr

        .data
        .balign 16
boot_gdt:
        .quad   0
        .quad   0x00af9a000000ffff      /* 0x08: 64-bit code, DPL 0 */
        .quad   0x00cf92000000ffff      /* 0x10: flat data */
boot_gdt_end:
boot_gdt_ptr:
        .word   boot_gdt_end - boot_gdt - 1
        .long   boot_gdt
        .globl  boot_mbi
boot_mbi:
        .long   0

        .bss
        .balign 4096
boot_pml4:
        .skip   4096
boot_pdpt:
        .skip   4096
boot_pd:
        .skip   4096 * 4
boot_stack:
        .skip   STACK_SIZE
boot_stack_top:

        .section .note.GNU-stack, "", @progbits
