/*
 * nested-inv: what first-stage nesting costs and saves, in one run.
 *
 * In process: q35 + intel-iommu (scalable mode, caching mode) + a vfio-pci
 * "dma" device over iommufd on a simulated host, twice:
 *   - nested: x-flts=on, the device's RID_PASID entry is first stage;
 *     the device is attached to a nested HWPT and the simulated host
 *     IOMMU walks the guest's table;
 *   - shadowed: x-flts=off, the entry is second stage; every guest
 *     mapping is shadowed into the IOAS.
 * Printed:
 *   - guest PASID-based IOTLB invalidations forwarded to the host per
 *     second (nested): the guest rewrites a leaf, then submits batches of
 *     BATCH page-selective descriptors plus a wait descriptor, one doorbell
 *     per batch, as a guest driver does;
 *   - for comparison, page-selective IOTLB invalidations per second on the
 *     shadowed device, same batches (each one an UNMAP + MAP on the host);
 *   - DMA operations per second (256-byte copies between IOVAs spread
 *     over 2 MiB) for the nested and for the shadowed device.
 * Figures only; that the translations are right is proven by
 * tests/qtest/test-intel-iommu-nested.c and test-vfio-pci.c.  Each phase
 * checks its first DMA lands and exits 1 otherwise (e.g. before nesting
 * is implemented).
 */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/boards.h"
#include "hw/pci/pci.h"
#include "qom/object_interfaces.h"
#include "system/memory.h"
#include "system/qdev-monitor.h"
#include "vtd-guest.h"
#include "../../host/sim/sim-pci-model-regs.h"

#define VFIO_DEVFN  (4 << 3)
#define DID         3
#define ROOT_GPA    0x100000ull
#define CTX_GPA     0x101000ull
#define PDIR_GPA    0x102000ull
#define PTBL_GPA    0x103000ull
#define QUEUE_GPA   0x104000ull     /* 4 KiB: 128 256-bit descriptors */
#define STATUS_GPA  0x105000ull
#define PT_GPA      0x200000ull     /* page tables from here */
#define DATA_GPA    0x4000000ull    /* 64 MiB: what the IOVAs map to */
#define ALT_GPA     0x6000000ull    /* 96 MiB: the other target */
#define IOVA        0x100000000ull
#define NPAGES      512
#define BATCH       16
#define COPY_LEN    256
#define QSIZE       128

/* Scalable-mode fields (VT-d 9.4, 9.6, 6.5.2). */
#define SM_P            1ull
#define SMCTX_PASIDE    (1ull << 3)
#define PE_AW_48        (2ull << 2)
#define PE_PGTT(t)      ((uint64_t)(t) << 6)
#define FL_PRW_US       7ull        /* P, R/W, U/S */
#define SL_RW           3ull
#define QI_PIOTLB_PAGE  (6ull | 3ull << 4 | (uint64_t)DID << 16)
#define QI_IOTLB_PAGE   (2ull | 3ull << 4 | (uint64_t)DID << 16)
#define QI_PC_GLOBAL    (7ull | 3ull << 4)
#define QI_IOTLB_GLOBAL (2ull | 1ull << 4)
#define QI_WAIT_SW_FN   (5ull | 1ull << 5 | 1ull << 6)

static uint64_t bar0;
static unsigned q_tail;
static uint32_t q_seq;

/* The leaf slot of iova in a 4-level table, intermediates with flags. */
static uint64_t leaf_slot(uint64_t root, uint64_t iova, uint64_t flags)
{
    uint64_t table = root;

    for (int level = 4; level > 1; level--) {
        uint64_t slot = table + ((iova >> (12 + 9 * (level - 1))) & 0x1ff) * 8;
        uint64_t pte = gld64(slot);

        if (!(pte & 1)) {
            pte = alloc_table() | flags;
            gst64(slot, pte);
        }
        table = pte & 0x000ffffffffff000ull;
    }
    return table + ((iova >> 12) & 0x1ff) * 8;
}

/* One 256-bit descriptor at the tail (not yet announced). */
static void q_put(uint64_t qw0, uint64_t qw1)
{
    uint64_t slot = QUEUE_GPA + q_tail * 32;

    gst64(slot, qw0);
    gst64(slot + 8, qw1);
    gst64(slot + 16, 0);
    gst64(slot + 24, 0);
    q_tail = (q_tail + 1) % QSIZE;
}

/* A wait descriptor, the doorbell, and the status check. */
static void q_commit(const char *what)
{
    q_seq++;
    q_put(QI_WAIT_SW_FN | (uint64_t)q_seq << 32, STATUS_GPA);
    reg_writeq(0x88, (uint64_t)q_tail << 5);
    if ((uint32_t)gld64(STATUS_GPA) != q_seq) {
        fprintf(stderr, "nested-inv: %s: queue did not complete (FSTS "
                "0x%x)\n", what, reg_readl(0x34));
        exit(1);
    }
}

static void dma_reg(unsigned off, uint32_t v)
{
    address_space_stl_le(&address_space_memory, bar0 + off, v,
                         MEMTXATTRS_UNSPECIFIED, NULL);
}

static uint32_t dma_copy(uint64_t src, uint64_t dst)
{
    dma_reg(SIM_DMA_REG_STATUS, SIM_DMA_STATUS_DONE | SIM_DMA_STATUS_ERROR);
    dma_reg(SIM_DMA_REG_SRC, src);
    dma_reg(SIM_DMA_REG_SRC + 4, src >> 32);
    dma_reg(SIM_DMA_REG_DST, dst);
    dma_reg(SIM_DMA_REG_DST + 4, dst >> 32);
    dma_reg(SIM_DMA_REG_LEN, COPY_LEN);
    dma_reg(SIM_DMA_REG_CMD, SIM_DMA_CMD_START | SIM_DMA_OP_COPY);
    return address_space_ldl_le(&address_space_memory,
                                bar0 + SIM_DMA_REG_STATUS,
                                MEMTXATTRS_UNSPECIFIED, NULL);
}

/*
 * The machine, the device's scalable tables (first stage when nested,
 * else second stage) mapping IOVA + i pages -> DATA_GPA + i pages, the
 * queue, TE on.  Returns the page-table root.
 */
static uint64_t machine_up(bool nested)
{
    Object *dev;
    uint64_t root;
    uint64_t leaf = nested ? FL_PRW_US : SL_RW;

    q_tail = 0;
    vtd_guest_machine_up(nested ? "intel-iommu,caching-mode=on,"
                                  "x-scalable-mode=on,x-flts=on" :
                                  "intel-iommu,caching-mode=on,"
                                  "x-scalable-mode=on", PT_GPA);

    dev = object_resolve_path("/machine/peripheral/hostdev0", NULL);
    bar0 = pci_get_bar_addr(PCI_DEVICE(dev), 0);
    /* Memory decode and bus mastering, through CF8/CFC. */
    address_space_stl_le(&address_space_io, 0xcf8,
                         0x80000000u | (VFIO_DEVFN << 8) | PCI_COMMAND,
                         MEMTXATTRS_UNSPECIFIED, NULL);
    address_space_stw_le(&address_space_io, 0xcfc,
                         PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
                         MEMTXATTRS_UNSPECIFIED, NULL);

    root = alloc_table();
    for (int i = 0; i < NPAGES; i++) {
        gst64(leaf_slot(root, IOVA + ((uint64_t)i << 12),
                        nested ? FL_PRW_US : SL_RW),
              (DATA_GPA + ((uint64_t)i << 12)) | leaf);
    }
    gst64(ROOT_GPA, CTX_GPA | SM_P);
    gst64(CTX_GPA + VFIO_DEVFN * 32, PDIR_GPA | SMCTX_PASIDE | SM_P);
    gst64(PDIR_GPA, PTBL_GPA | SM_P);
    gst64(PTBL_GPA + 8, DID);
    if (nested) {
        gst64(PTBL_GPA + 16, root);
        gst64(PTBL_GPA, SM_P | PE_PGTT(1));
    } else {
        gst64(PTBL_GPA, root | SM_P | PE_AW_48 | PE_PGTT(2));
    }

    reg_writeq(0x88, 0);
    reg_writeq(0x90, QUEUE_GPA | 1ull << 11);     /* DW: 256-bit, 4 KiB */
    gcmd_set(1u << 26);                           /* QIE */
    reg_writeq(0x20, ROOT_GPA | 1ull << 10);      /* TTM scalable */
    gcmd_set(1u << 30);                           /* SRTP */
    q_put(QI_PC_GLOBAL, 0);
    q_put(QI_IOTLB_GLOBAL, 0);
    q_commit("set-up");
    gcmd_set(1u << 31);                           /* TE */
    if (!(reg_readl(0x1c) & (1u << 31))) {
        fprintf(stderr, "nested-inv: translation did not turn on\n");
        exit(1);
    }
    return root;
}

/*
 * HWPTs alive on the simulated host: the nesting parent, plus the nested
 * HWPT when the device is really nested (not shadowed).
 */
static uint64_t host_hwpts(void)
{
    Object *h = object_resolve_path("/objects/h0", NULL);
    Error *err = NULL;
    uint64_t n = object_property_get_uint(h, "nr-hwpts", &err);

    if (err) {
        fprintf(stderr, "nested-inv: %s\n", error_get_pretty(err));
        exit(1);
    }
    return n;
}

static void machine_down(void)
{
    machine_destroy();
    user_creatable_del("fd0", &error_abort);
    user_creatable_del("d0", &error_abort);
    user_creatable_del("h0", &error_abort);
}

/* The first copy must land: translation is what we measure. */
static void check_translation(const char *what)
{
    static const uint8_t pat[COPY_LEN] = { 0x5a, 0xa5, 0x3c, 0xc3 };
    uint8_t got[COPY_LEN];
    uint32_t st;

    address_space_write(&address_space_memory, DATA_GPA,
                        MEMTXATTRS_UNSPECIFIED, pat, sizeof(pat));
    memset(got, 0, sizeof(got));
    address_space_write(&address_space_memory, DATA_GPA + 4096,
                        MEMTXATTRS_UNSPECIFIED, got, sizeof(got));
    st = dma_copy(IOVA, IOVA + 4096);
    address_space_read(&address_space_memory, DATA_GPA + 4096,
                       MEMTXATTRS_UNSPECIFIED, got, sizeof(got));
    if (st != SIM_DMA_STATUS_DONE || memcmp(pat, got, sizeof(got))) {
        fprintf(stderr, "nested-inv: %s: DMA through the IOMMU failed "
                "(status 0x%x)\n", what, st);
        exit(1);
    }
}

/* 256-byte copies page i -> page i + 1 over the 2 MiB, ~0.5 s. */
static double dma_rate(const char *what)
{
    double t0 = bench_now_s(), dt;
    int n = 0;

    do {
        for (int i = 0; i < 256; i++, n++) {
            uint64_t src = IOVA + ((uint64_t)(n % NPAGES) << 12);
            uint64_t dst = IOVA + ((uint64_t)((n + 1) % NPAGES) << 12);

            if (dma_copy(src, dst) != SIM_DMA_STATUS_DONE) {
                fprintf(stderr, "nested-inv: %s: copy %d failed\n", what,
                        n);
                exit(1);
            }
        }
        dt = bench_now_s() - t0;
    } while (dt < 0.5);
    return n / dt;
}

/*
 * Batches of BATCH leaf rewrites (alternating between the two targets)
 * and BATCH page-selective descriptors qw0 + wait, ~0.5 s.  Returns
 * descriptors per second.
 */
static double inval_rate(uint64_t root, uint64_t qw0, uint64_t leaf,
                         const char *what)
{
    double t0 = bench_now_s(), dt;
    int batches = 0;

    do {
        for (int b = 0; b < 16; b++, batches++) {
            uint64_t target = (batches / (NPAGES / BATCH)) & 1 ? DATA_GPA
                                                               : ALT_GPA;

            for (int i = 0; i < BATCH; i++) {
                int page = (batches * BATCH + i) % NPAGES;
                uint64_t iova = IOVA + ((uint64_t)page << 12);

                gst64(leaf_slot(root, iova, leaf),
                      (target + ((uint64_t)page << 12)) | leaf);
                q_put(qw0, iova);
            }
            q_commit(what);
        }
        dt = bench_now_s() - t0;
    } while (dt < 0.5);
    /* the first two pages back where check_translation() expects them */
    for (int page = 0; page < 2; page++) {
        uint64_t iova = IOVA + ((uint64_t)page << 12);

        gst64(leaf_slot(root, iova, leaf),
              (DATA_GPA + ((uint64_t)page << 12)) | leaf);
        q_put(qw0, iova);
    }
    q_commit(what);
    return batches * BATCH / dt;
}

int main(int argc, char **argv)
{
    double nested_inv, nested_dma, shadow_inv, shadow_dma;
    uint64_t root;

    memory_init_system();

    root = machine_up(true);
    check_translation("nested");
    if (host_hwpts() != 2) {
        fprintf(stderr, "nested-inv: x-flts=on: %" PRIu64 " HWPTs on the "
                "host, not a nest parent and a nested HWPT\n", host_hwpts());
        return 1;
    }
    nested_dma = dma_rate("nested");
    nested_inv = inval_rate(root, QI_PIOTLB_PAGE, FL_PRW_US, "nested");
    check_translation("nested, after the invalidations");
    machine_down();

    root = machine_up(false);
    check_translation("shadowed");
    shadow_dma = dma_rate("shadowed");
    shadow_inv = inval_rate(root, QI_IOTLB_PAGE, SL_RW, "shadowed");
    check_translation("shadowed, after the invalidations");
    machine_down();

    printf("nested: guest PASID-IOTLB page invalidations forwarded:  "
           "%9.0f per second (batches of %d + wait)\n", nested_inv, BATCH);
    printf("shadowed: guest IOTLB page invalidations re-shadowed:     "
           "%9.0f per second (batches of %d + wait)\n", shadow_inv, BATCH);
    printf("nested device DMA (%d-byte copies over %d pages):       "
           "%9.0f operations per second\n", COPY_LEN, NPAGES, nested_dma);
    printf("shadowed device DMA (same copies, same host):            "
           "%9.0f operations per second\n", shadow_dma);
    return 0;
}
