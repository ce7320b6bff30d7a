/*
 * libviommu-sim, VFIO side: the device's interrupts as vfio-pci gives them
 * to a VMM (vfio_pci_intrs.c): VFIO_DEVICE_SET_IRQS header checks and
 * MSI-X eventfds, INTx with automasking and unmask eventfds, MSI with its
 * virtualised capability, the MSI-X table mmap and pending bits, one
 * interrupt type at a time, and what reset and close leave behind.  The
 * "dma" model raises the interrupts; eventfd counters are what is checked.
 * Helpers shared with test-sim-vfio.c are in sim-vfio-test.h.
 */
#include "sim-vfio-test.h"

/* ---- SET_IRQS: header checks, MSI-X eventfds, REQ ----------------------- */

static void test_set_irqs(void)
{
    int fds = count_fds();
    int32_t e[3] = { eventfd(0, EFD_NONBLOCK), eventfd(0, EFD_NONBLOCK),
                     eventfd(0, EFD_NONBLOCK) };
    uint32_t none = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
    uint32_t evt = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
    unsigned msix = VFIO_PCI_MSIX_IRQ_INDEX;
    uint8_t bools[2] = { 0, 1 };
    int32_t bad[2], pipefd[2];
    SimMsixVector v;
    uint64_t phys;
    Legacy l;

    OK(pipe(pipefd));
    legacy_up(&l, HOST_TEXT, VFIO_TYPE1v2_IOMMU);
    bus_master(l.h, l.fd, true);

    /* header checks */
    {
        struct vfio_irq_set s = { .argsz = 19, .flags = none,
                                  .index = msix, .count = 0 };

        ERR(IOC(l.h, l.fd, VFIO_DEVICE_SET_IRQS, &s), EINVAL);
    }
    ERR(set_irqs(l.h, l.fd, VFIO_PCI_NUM_IRQS, none, 0, 0, NULL, 0), EINVAL);
    ERR(set_irqs(l.h, l.fd, msix, none | (1u << 6), 0, 1, NULL, 0), EINVAL);
    ERR(set_irqs(l.h, l.fd, msix, none | VFIO_IRQ_SET_DATA_BOOL, 0, 1,
                 bools, 1), EINVAL);
    /* INTx has one "vector"; MSI has 4 */
    ERR(set_irqs(l.h, l.fd, VFIO_PCI_INTX_IRQ_INDEX, evt, 1, 1, e, 4), EINVAL);
    ERR(set_irqs(l.h, l.fd, VFIO_PCI_MSI_IRQ_INDEX, evt, 4, 1, e, 4), EINVAL);
    ERR(set_irqs(l.h, l.fd, msix, evt, 8, 1, e, 4), EINVAL);
    ERR(set_irqs(l.h, l.fd, msix, evt, 6, 3, e, 12), EINVAL);
    ERR(set_irqs(l.h, l.fd, msix, evt, 0, 2, e, 4), EINVAL);  /* short */
    /* MSI-X has no mask action; exactly one action is required */
    ERR(set_irqs(l.h, l.fd, msix, VFIO_IRQ_SET_DATA_NONE |
                 VFIO_IRQ_SET_ACTION_MASK, 0, 1, NULL, 0), ENOTTY);
    ERR(set_irqs(l.h, l.fd, msix, none | VFIO_IRQ_SET_ACTION_MASK, 0, 1,
                 NULL, 0), ENOTTY);
    /* loopback and disable need MSI-X enabled first */
    ERR(set_irqs(l.h, l.fd, msix, none, 0, 1, NULL, 0), EINVAL);
    ERR(set_irqs(l.h, l.fd, msix, none, 0, 0, NULL, 0), EINVAL);
    /* not an eventfd, not an fd: refused, MSI-X stays off */
    bad[0] = e[0];
    bad[1] = pipefd[0];
    ERR(msix_eventfds(l.h, l.fd, 0, 2, bad), EINVAL);
    bad[1] = 1000;
    ERR(msix_eventfds(l.h, l.fd, 0, 2, bad), EBADF);
    sim_device_reg_read(l.dev, CFG, SIM_DMA_CFG_MSIX + 2, 2, &phys);
    g_assert_false(phys & SIM_DMA_MSIX_CTRL_ENABLE);

    /* enable with vectors 0 and 1: the host programs and unmasks them */
    OK(msix_eventfds(l.h, l.fd, 0, 2, e));
    sim_device_reg_read(l.dev, CFG, SIM_DMA_CFG_MSIX + 2, 2, &phys);
    g_assert_true(phys & SIM_DMA_MSIX_CTRL_ENABLE);
    OK(sim_device_msix_read(l.dev, 0, &v));
    EQ(v.addr, 0xfee00000);
    g_assert_false(v.masked);
    OK(sim_device_msix_read(l.dev, 2, &v));
    g_assert_true(v.masked);
    ERR(sim_device_msix_read(l.dev, 8, &v), EINVAL);

    /* loopback: DATA_NONE fires every vector, DATA_BOOL the chosen ones */
    OK(set_irqs(l.h, l.fd, msix, none, 0, 2, NULL, 0));
    EQ(efd_take(e[0]), 1);
    EQ(efd_take(e[1]), 1);
    OK(set_irqs(l.h, l.fd, msix, VFIO_IRQ_SET_DATA_BOOL |
                VFIO_IRQ_SET_ACTION_TRIGGER, 0, 2, bools, 2));
    EQ(efd_take(e[0]), 0);
    EQ(efd_take(e[1]), 1);

    /* dynamic MSI-X: a vector added while enabled */
    OK(msix_eventfds(l.h, l.fd, 5, 1, &e[2]));
    wr(l.h, l.fd, 0, SIM_DMA_REG_IRQ, 4, SIM_DMA_IRQ_DONE_EN | 5);
    /* nothing mapped yet */
    ERR(sim_device_start_dma(l.dev, SIM_DMA_TO_BUFFER, 0, IOVA, 0, 8), EFAULT);
    ERR(sim_device_start_dma(l.dev, SIM_DMA_FROM_BUFFER, 0, 0, 0, 8), EFAULT);
    drain_faults(l.h);
    {
        Mem m;

        mem_alloc(&m, P);
        OK(dma_map(l.h, l.c, uva(&m, 0), IOVA, P, RW));
        OK(sim_device_start_dma(l.dev, SIM_DMA_TO_BUFFER, 0, IOVA, 0, 8));
        EQ(efd_take(e[2]), 1);
        EQ(dma_unmap(l.h, l.c, IOVA, P, 0), P);
        mem_free(&m);
    }

    /* a released vector is masked: the message waits as pending ... */
    wr(l.h, l.fd, 0, SIM_DMA_REG_IRQ, 4, SIM_DMA_IRQ_RESET);
    bad[0] = -1;
    OK(msix_eventfds(l.h, l.fd, 1, 1, bad));
    ERR(sim_device_start_dma(l.dev, SIM_DMA_COPY, 0, IOVA, IOVA, 8), EFAULT);
    drain_faults(l.h);
    OK(sim_device_msix_read(l.dev, 1, &v));
    g_assert_true(v.masked);
    g_assert_true(v.pending);
    EQ(efd_take(e[1]), 0);
    /* ... and is delivered when an eventfd is bound again */
    OK(msix_eventfds(l.h, l.fd, 1, 1, &e[1]));
    EQ(efd_take(e[1]), 1);
    OK(sim_device_msix_read(l.dev, 1, &v));
    g_assert_false(v.pending);
    EQ(v.fired, 3);

    /* REQ: one eventfd, loopback, release */
    ERR(set_irqs(l.h, l.fd, VFIO_PCI_REQ_IRQ_INDEX, none, 0, 1, NULL, 0),
        EINVAL);
    OK(set_irqs(l.h, l.fd, VFIO_PCI_REQ_IRQ_INDEX, evt, 0, 1, e, 4));
    OK(set_irqs(l.h, l.fd, VFIO_PCI_REQ_IRQ_INDEX, none, 0, 1, NULL, 0));
    EQ(efd_take(e[0]), 1);
    OK(set_irqs(l.h, l.fd, VFIO_PCI_REQ_IRQ_INDEX, none, 0, 0, NULL, 0));

    /* disable: DATA_NONE, count 0 */
    OK(set_irqs(l.h, l.fd, msix, none, 0, 0, NULL, 0));
    sim_device_reg_read(l.dev, CFG, SIM_DMA_CFG_MSIX + 2, 2, &phys);
    g_assert_false(phys & SIM_DMA_MSIX_CTRL_ENABLE);
    ERR(sim_device_start_dma(l.dev, SIM_DMA_COPY, 0, IOVA, IOVA, 8), EFAULT);
    EQ(efd_take(e[1]), 0);
    drain_faults(l.h);

    legacy_down(&l);
    for (unsigned i = 0; i < 3; i++) {
        close(e[i]);
    }
    close(pipefd[0]);
    close(pipefd[1]);
    EQ(count_fds(), fds);
}

/* ---- INTx (vfio_pci_intrs.c) -------------------------------------------- */

#define INTX    VFIO_PCI_INTX_IRQ_INDEX

static int intx_set(Legacy *l, uint32_t flags, unsigned count, int32_t fd)
{
    if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
        return set_irqs(l->h, l->fd, INTX, flags, 0, count, &fd, sizeof(fd));
    }
    if (flags & VFIO_IRQ_SET_DATA_BOOL) {
        uint8_t b = fd;

        return set_irqs(l->h, l->fd, INTX, flags, 0, count, &b, 1);
    }
    return set_irqs(l->h, l->fd, INTX, flags, 0, count, NULL, 0);
}

/* The device asserts INTA: an operation with length 0 fails at once. */
static void intx_assert(Legacy *l)
{
    EQ(status_err(engine(l->h, l->fd, SIM_DMA_OP_COPY, 0, 0, 0, 0)),
       SIM_DMA_ERR_BAD_LEN);
}

/* The driver's acknowledgement (STATUS W1C): the device deasserts. */
static void intx_ack(Legacy *l)
{
    wr(l->h, l->fd, SIM_DMA_BAR_REGS, SIM_DMA_REG_STATUS, 4,
       SIM_DMA_STATUS_DONE | SIM_DMA_STATUS_ERROR);
}

/* STATUS.INTX of the raw device. */
static bool intx_status_bit(Legacy *l)
{
    uint64_t st = 0;

    OK(sim_device_reg_read(l->dev, CFG, 6, 2, &st));
    return st & SIM_DMA_CFG_STATUS_INTX;
}

static void test_intx(void)
{
    const uint32_t evt = VFIO_IRQ_SET_DATA_EVENTFD |
                         VFIO_IRQ_SET_ACTION_TRIGGER;
    const uint32_t none = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
    const uint32_t unmask = VFIO_IRQ_SET_DATA_NONE |
                            VFIO_IRQ_SET_ACTION_UNMASK;
    const uint32_t mask = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK;
    const uint32_t bool_ = VFIO_IRQ_SET_DATA_BOOL;
    int fds = count_fds();
    int32_t e = eventfd(0, EFD_NONBLOCK), u = eventfd(0, EFD_NONBLOCK);
    int32_t e2 = eventfd(0, EFD_NONBLOCK), pipefd[2];
    uint64_t one = 1, cmd;
    Legacy l;

    OK(pipe(pipefd));
    legacy_up(&l, HOST_TEXT, VFIO_TYPE1v2_IOMMU);
    EQ(rd(l.h, l.fd, CFG, SIM_DMA_CFG_INT_PIN, 1), 1);

    /* off: loopback, mask, unmask and disable are refused; fd -1 is a no-op */
    ERR(intx_set(&l, none, 1, 0), EINVAL);
    ERR(intx_set(&l, none, 0, 0), EINVAL);
    ERR(intx_set(&l, mask, 1, 0), EINVAL);
    ERR(intx_set(&l, unmask, 1, 0), EINVAL);
    ERR(intx_set(&l, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK,
                 1, u), EINVAL);
    ERR(set_irqs(l.h, l.fd, INTX, evt, 0, 2, (int32_t[2]){ e, e }, 8),
        EINVAL);
    OK(intx_set(&l, evt, 1, -1));
    ERR(intx_set(&l, evt, 1, pipefd[0]), EINVAL);
    ERR(intx_set(&l, evt, 1, 1000), EBADF);

    /* on: an assertion signals once and masks */
    OK(intx_set(&l, evt, 1, e));
    EQ(efd_take(e), 0);
    intx_assert(&l);
    g_assert_true(intx_status_bit(&l));
    EQ(rd(l.h, l.fd, CFG, 6, 2) & SIM_DMA_CFG_STATUS_INTX,
       SIM_DMA_CFG_STATUS_INTX);
    EQ(efd_take(e), 1);
    intx_ack(&l);
    g_assert_false(intx_status_bit(&l));
    intx_assert(&l);
    EQ(efd_take(e), 0);                 /* masked */
    /* unmask while the device still asserts: fires again (and masks) */
    OK(intx_set(&l, unmask, 1, 0));
    EQ(efd_take(e), 1);
    OK(intx_set(&l, bool_ | VFIO_IRQ_SET_ACTION_UNMASK, 1, 0));
    EQ(efd_take(e), 0);                 /* BOOL 0: nothing */
    OK(intx_set(&l, unmask, 1, 0));
    EQ(efd_take(e), 1);
    /* acknowledged, then unmasked: no signal; the next assertion signals */
    intx_ack(&l);
    OK(intx_set(&l, unmask, 1, 0));
    EQ(efd_take(e), 0);
    intx_assert(&l);
    EQ(efd_take(e), 1);
    intx_ack(&l);
    OK(intx_set(&l, unmask, 1, 0));
    EQ(efd_take(e), 0);

    /* MASK by the user (BOOL 1): held until UNMASK (BOOL 1) */
    OK(intx_set(&l, bool_ | VFIO_IRQ_SET_ACTION_MASK, 1, 1));
    intx_assert(&l);
    EQ(efd_take(e), 0);
    OK(intx_set(&l, bool_ | VFIO_IRQ_SET_ACTION_UNMASK, 1, 1));
    EQ(efd_take(e), 1);
    intx_ack(&l);
    OK(intx_set(&l, unmask, 1, 0));
    ERR(intx_set(&l, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_MASK,
                 1, u), ENOTTY);
    ERR(intx_set(&l, mask, 0, 0), EINVAL);
    ERR(intx_set(&l, mask | VFIO_IRQ_SET_ACTION_UNMASK, 1, 0), ENOTTY);

    /* loopback: DATA_NONE, DATA_BOOL 1 signal; BOOL 0 does not */
    OK(intx_set(&l, none, 1, 0));
    EQ(efd_take(e), 1);
    OK(intx_set(&l, bool_ | VFIO_IRQ_SET_ACTION_TRIGGER, 1, 0));
    EQ(efd_take(e), 0);
    OK(intx_set(&l, bool_ | VFIO_IRQ_SET_ACTION_TRIGGER, 1, 1));
    EQ(efd_take(e), 1);

    /* an unmask eventfd: a write to it unmasks (seen at the next access) */
    ERR(intx_set(&l, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK,
                 1, pipefd[0]), EINVAL);
    OK(intx_set(&l, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK,
                1, u));
    intx_assert(&l);
    EQ(efd_take(e), 1);
    EQ(write(u, &one, sizeof(one)), sizeof(one));
    EQ(rd(l.h, l.fd, SIM_DMA_BAR_REGS, SIM_DMA_REG_ID, 4), SIM_DMA_ID_VALUE);
    EQ(efd_take(e), 1);                 /* still asserted: again */
    intx_ack(&l);
    EQ(write(u, &one, sizeof(one)), sizeof(one));
    EQ(rd(l.h, l.fd, SIM_DMA_BAR_REGS, SIM_DMA_REG_ID, 4), SIM_DMA_ID_VALUE);
    EQ(efd_take(e), 0);
    intx_assert(&l);
    EQ(efd_take(e), 1);
    OK(intx_set(&l, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK,
                1, -1));
    intx_ack(&l);
    OK(intx_set(&l, unmask, 1, 0));

    /* the user's COMMAND.INTX_DISABLE is virtual, and masks */
    cmd = rd(l.h, l.fd, CFG, 4, 2);
    wr(l.h, l.fd, CFG, 4, 2, cmd | SIM_DMA_CMD_INTX_DISABLE);
    EQ(rd(l.h, l.fd, CFG, 4, 2) & SIM_DMA_CMD_INTX_DISABLE,
       SIM_DMA_CMD_INTX_DISABLE);
    {
        uint64_t phys = 0;

        OK(sim_device_reg_read(l.dev, CFG, 4, 2, &phys));
        EQ(phys & SIM_DMA_CMD_INTX_DISABLE, 0);
    }
    intx_assert(&l);
    EQ(efd_take(e), 0);
    OK(intx_set(&l, unmask, 1, 0));
    EQ(efd_take(e), 0);                 /* no unmask while disabled */
    wr(l.h, l.fd, CFG, 4, 2, cmd & ~SIM_DMA_CMD_INTX_DISABLE);
    EQ(efd_take(e), 1);                 /* pending: delivered on enable */
    intx_ack(&l);
    OK(intx_set(&l, unmask, 1, 0));

    /* one type at a time */
    ERR(msix_eventfds(l.h, l.fd, 0, 1, &e2), EINVAL);
    ERR(set_irqs(l.h, l.fd, VFIO_PCI_MSI_IRQ_INDEX, evt, 0, 1, &e2, 4),
        EINVAL);
    OK(intx_set(&l, none, 0, 0));       /* disable */
    intx_assert(&l);
    EQ(efd_take(e), 0);
    OK(msix_eventfds(l.h, l.fd, 0, 1, &e2));
    ERR(intx_set(&l, evt, 1, e), EINVAL);
    ERR(intx_set(&l, none, 1, 0), EINVAL);
    g_assert_false(intx_status_bit(&l));    /* MSI-X on: no INTx */
    OK(set_irqs(l.h, l.fd, VFIO_PCI_MSIX_IRQ_INDEX, none, 0, 0, NULL, 0));
    /* enabled with the device asserting: fires at once */
    g_assert_true(intx_status_bit(&l));
    OK(intx_set(&l, evt, 1, e));
    EQ(efd_take(e), 1);
    /* reset deasserts */
    OK(IOCV(l.h, l.fd, VFIO_DEVICE_RESET, 0));
    g_assert_false(intx_status_bit(&l));
    OK(intx_set(&l, unmask, 1, 0));
    EQ(efd_take(e), 0);
    /* fd -1 disables */
    OK(intx_set(&l, evt, 1, -1));
    ERR(intx_set(&l, none, 1, 0), EINVAL);

    /* close tears INTx down: our eventfds are all the host had */
    OK(intx_set(&l, evt, 1, e));
    OK(intx_set(&l, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK,
                1, u));
    OK(sim_close(l.h, l.fd));
    l.fd = -1;
    legacy_down(&l);
    close(e);
    close(u);
    close(e2);
    close(pipefd[0]);
    close(pipefd[1]);
    EQ(count_fds(), fds);
}

/* ---- plain MSI --------------------------------------------------------- */

#define MSI(reg)    (SIM_DMA_CFG_MSI + SIM_DMA_MSI_##reg)
#define MSI_4VEC    (SIM_DMA_MSI_MMC << SIM_DMA_MSI_CTRL_MME_SHIFT)

static uint64_t raw_cfg(SimDevice *dev, unsigned off, unsigned size)
{
    uint64_t v = 0;

    /* config space takes naturally aligned accesses */
    if (size == 8 && off % 8) {
        return raw_cfg(dev, off, 4) | raw_cfg(dev, off + 4, 4) << 32;
    }
    OK(sim_device_reg_read(dev, CFG, off, size, &v));
    return v;
}

static int msi_eventfds(SimHost *h, int fd, unsigned start, unsigned count,
                        const int32_t *fds)
{
    return set_irqs(h, fd, VFIO_PCI_MSI_IRQ_INDEX,
                    VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
                    start, count, fds, count * sizeof(int32_t));
}

/* A buffer -> IOVA write of 8 bytes raising the done vector @v. */
static uint32_t engine_irq(Legacy *l, unsigned v)
{
    wr(l->h, l->fd, 0, SIM_DMA_REG_IRQ, 4, SIM_DMA_IRQ_DONE_EN |
       SIM_DMA_IRQ_ERR_EN | (1u << SIM_DMA_IRQ_ERR_VEC_SHIFT) | v);
    return engine(l->h, l->fd, SIM_DMA_OP_FROM_BUFFER, 0, 0, IOVA, 8);
}

/*
 * The user's view of the MSI capability is virtual (vfio-pci config
 * virtualisation): address and data as the user wrote them, ENABLE only
 * through SET_IRQS, MME clamped to what SET_IRQS enabled; the device holds
 * the host's message.
 */
static void test_msi_config(void)
{
    int32_t e[2] = { eventfd(0, EFD_NONBLOCK), eventfd(0, EFD_NONBLOCK) };
    Legacy l;

    legacy_up(&l, HOST_TEXT, VFIO_TYPE1v2_IOMMU);
    /* linked after MSI-X: 64-bit, per-vector masking, 4 vectors capable */
    EQ(rd(l.h, l.fd, CFG, SIM_DMA_CFG_MSIX + 1, 1), SIM_DMA_CFG_MSI);
    EQ(rd(l.h, l.fd, CFG, SIM_DMA_CFG_MSI, 2), 0x05);
    EQ(rd(l.h, l.fd, CFG, MSI(CTRL), 2),
       SIM_DMA_MSI_CTRL_64BIT | SIM_DMA_MSI_CTRL_MASKBIT |
       (SIM_DMA_MSI_MMC << SIM_DMA_MSI_CTRL_MMC_SHIFT));

    wr(l.h, l.fd, CFG, MSI(ADDR_LO), 4, 0xfee01003);
    wr(l.h, l.fd, CFG, MSI(ADDR_HI), 4, 0x12);
    wr(l.h, l.fd, CFG, MSI(DATA), 2, 0x4061);
    EQ(rd(l.h, l.fd, CFG, MSI(ADDR_LO), 8), 0x12fee01000ull);
    EQ(rd(l.h, l.fd, CFG, MSI(DATA), 2), 0x4061);
    EQ(raw_cfg(l.dev, MSI(ADDR_LO), 8), 0);
    EQ(raw_cfg(l.dev, MSI(DATA), 2), 0);
    /* ENABLE and MME are not the user's to set on the device */
    wr(l.h, l.fd, CFG, MSI(CTRL), 2, SIM_DMA_MSI_CTRL_ENABLE | MSI_4VEC);
    EQ(rd(l.h, l.fd, CFG, MSI(CTRL), 2) &
       (SIM_DMA_MSI_CTRL_ENABLE | SIM_DMA_MSI_CTRL_MME_MASK), 0);
    EQ(raw_cfg(l.dev, MSI(CTRL), 2) & SIM_DMA_MSI_CTRL_ENABLE, 0);

    /* SET_IRQS with 2 vectors: the host's message, MME 1, on the device */
    OK(msi_eventfds(l.h, l.fd, 0, 2, e));
    EQ(raw_cfg(l.dev, MSI(CTRL), 2) &
       (SIM_DMA_MSI_CTRL_ENABLE | SIM_DMA_MSI_CTRL_MME_MASK),
       SIM_DMA_MSI_CTRL_ENABLE | (1u << SIM_DMA_MSI_CTRL_MME_SHIFT));
    EQ(raw_cfg(l.dev, MSI(ADDR_LO), 8), 0xfee00000);
    EQ(raw_cfg(l.dev, MSI(DATA), 2), 0x4100);
    EQ(rd(l.h, l.fd, CFG, MSI(ADDR_LO), 8), 0x12fee01000ull);
    EQ(rd(l.h, l.fd, CFG, MSI(DATA), 2), 0x4061);
    /* now the user may set ENABLE; MME at most what was enabled */
    wr(l.h, l.fd, CFG, MSI(CTRL), 2, SIM_DMA_MSI_CTRL_ENABLE | MSI_4VEC);
    EQ(rd(l.h, l.fd, CFG, MSI(CTRL), 2) &
       (SIM_DMA_MSI_CTRL_ENABLE | SIM_DMA_MSI_CTRL_MME_MASK),
       SIM_DMA_MSI_CTRL_ENABLE | (1u << SIM_DMA_MSI_CTRL_MME_SHIFT));
    /* user writes to the address never reach the device */
    wr(l.h, l.fd, CFG, MSI(ADDR_LO), 4, 0);
    EQ(raw_cfg(l.dev, MSI(ADDR_LO), 4), 0xfee00000);

    /* closing the device disables MSI and drops the eventfds */
    OK(sim_close(l.h, l.fd));
    l.fd = -1;
    EQ(raw_cfg(l.dev, MSI(CTRL), 2) & SIM_DMA_MSI_CTRL_ENABLE, 0);
    legacy_down(&l);
    close(e[0]);
    close(e[1]);
}

/*
 * VFIO_PCI_MSI_IRQ_INDEX with vfio_pci_set_msi_trigger's rules, and the
 * engine's interrupts delivered as MSI: vector v signals eventfd v, a
 * masked vector waits as pending, MSI and MSI-X exclude each other.
 */
static void test_msi_set_irqs(void)
{
    int fds = count_fds();
    int32_t e[4], bad[2], pipefd[2];
    uint32_t none = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
    uint32_t boolf = VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER;
    unsigned msi = VFIO_PCI_MSI_IRQ_INDEX;
    uint8_t bools[2] = { 1, 0 };
    Legacy l;
    Mem m;

    for (unsigned i = 0; i < 4; i++) {
        e[i] = eventfd(0, EFD_NONBLOCK);
    }
    OK(pipe(pipefd));
    legacy_up(&l, HOST_TEXT, VFIO_TYPE1v2_IOMMU);
    mem_alloc(&m, P);
    OK(dma_map(l.h, l.c, uva(&m, 0), IOVA, P, RW));
    bus_master(l.h, l.fd, true);

    /* off: disable, loopback and zero vectors are EINVAL; no mask action */
    ERR(set_irqs(l.h, l.fd, msi, none, 0, 0, NULL, 0), EINVAL);
    ERR(set_irqs(l.h, l.fd, msi, none, 0, 1, NULL, 0), EINVAL);
    ERR(set_irqs(l.h, l.fd, msi, boolf, 0, 1, bools, 1), EINVAL);
    ERR(msi_eventfds(l.h, l.fd, 0, 0, e), EINVAL);
    ERR(msi_eventfds(l.h, l.fd, 2, 3, e), EINVAL);
    ERR(set_irqs(l.h, l.fd, msi, VFIO_IRQ_SET_DATA_NONE |
                 VFIO_IRQ_SET_ACTION_MASK, 0, 1, NULL, 0), ENOTTY);
    /* not an eventfd, not an fd: refused, MSI stays off */
    bad[0] = e[0];
    bad[1] = pipefd[0];
    ERR(msi_eventfds(l.h, l.fd, 0, 2, bad), EINVAL);
    bad[1] = 1000;
    ERR(msi_eventfds(l.h, l.fd, 0, 2, bad), EBADF);
    EQ(raw_cfg(l.dev, MSI(CTRL), 2) & SIM_DMA_MSI_CTRL_ENABLE, 0);
    /* disabled, nothing is sent */
    EQ(engine_irq(&l, 0), SIM_DMA_STATUS_DONE);
    EQ(efd_take(e[0]), 0);

    /* 4 vectors: a completion on vector 2 signals eventfd 2 only */
    OK(msi_eventfds(l.h, l.fd, 0, 4, e));
    EQ(raw_cfg(l.dev, MSI(CTRL), 2) & SIM_DMA_MSI_CTRL_MME_MASK, MSI_4VEC);
    EQ(engine_irq(&l, 2), SIM_DMA_STATUS_DONE);
    EQ(efd_take(e[2]), 1);
    EQ(efd_take(e[0]) + efd_take(e[1]) + efd_take(e[3]), 0);
    /* an error raises the error vector (1); a vector >= 4 is not sent */
    ERR(sim_device_start_dma(l.dev, SIM_DMA_COPY, 0, IOVA, IOVA + P, 8),
        EFAULT);
    drain_faults(l.h);
    EQ(efd_take(e[1]), 1);
    EQ(engine_irq(&l, 4), SIM_DMA_STATUS_DONE);
    EQ(efd_take(e[0]) + efd_take(e[1]) + efd_take(e[2]) + efd_take(e[3]),
       0);

    /* the user masks vector 2 on the device: pending, sent on unmask */
    wr(l.h, l.fd, CFG, MSI(MASK), 4, 1u << 2);
    EQ(engine_irq(&l, 2), SIM_DMA_STATUS_DONE);
    EQ(efd_take(e[2]), 0);
    EQ(rd(l.h, l.fd, CFG, MSI(PENDING), 4), 1u << 2);
    wr(l.h, l.fd, CFG, MSI(MASK), 4, 0);
    EQ(efd_take(e[2]), 1);
    EQ(rd(l.h, l.fd, CFG, MSI(PENDING), 4), 0);

    /* MSI-X while MSI is enabled: EINVAL, MSI-X stays off on the device */
    ERR(msix_eventfds(l.h, l.fd, 0, 1, e), EINVAL);
    ERR(set_irqs(l.h, l.fd, VFIO_PCI_MSIX_IRQ_INDEX, none, 0, 0, NULL, 0),
        EINVAL);
    EQ(raw_cfg(l.dev, SIM_DMA_CFG_MSIX + 2, 2) & SIM_DMA_MSIX_CTRL_ENABLE, 0);

    /* loopback: DATA_NONE and DATA_BOOL signal bound vectors */
    OK(set_irqs(l.h, l.fd, msi, none, 1, 2, NULL, 0));
    EQ(efd_take(e[1]), 1);
    EQ(efd_take(e[2]), 1);
    OK(set_irqs(l.h, l.fd, msi, boolf, 2, 2, bools, 2));
    EQ(efd_take(e[2]), 1);
    EQ(efd_take(e[3]), 0);

    /* fd -1 unbinds vector 2: its message waits until it is bound again */
    bad[0] = -1;
    OK(msi_eventfds(l.h, l.fd, 2, 1, bad));
    EQ(engine_irq(&l, 2), SIM_DMA_STATUS_DONE);
    EQ(efd_take(e[2]), 0);
    EQ(rd(l.h, l.fd, CFG, MSI(PENDING), 4), 1u << 2);
    OK(msi_eventfds(l.h, l.fd, 2, 1, &e[2]));
    EQ(efd_take(e[2]), 1);

    /* disable: DATA_NONE, count 0; then MSI-X may be enabled, MSI not */
    OK(set_irqs(l.h, l.fd, msi, none, 0, 0, NULL, 0));
    EQ(raw_cfg(l.dev, MSI(CTRL), 2) & SIM_DMA_MSI_CTRL_ENABLE, 0);
    EQ(engine_irq(&l, 0), SIM_DMA_STATUS_DONE);
    EQ(efd_take(e[0]), 0);
    OK(msix_eventfds(l.h, l.fd, 0, 1, e));
    ERR(msi_eventfds(l.h, l.fd, 0, 1, &e[1]), EINVAL);
    EQ(engine_irq(&l, 0), SIM_DMA_STATUS_DONE);
    EQ(efd_take(e[0]), 1);
    EQ(efd_take(e[1]), 0);
    OK(set_irqs(l.h, l.fd, VFIO_PCI_MSIX_IRQ_INDEX, none, 0, 0, NULL, 0));

    /* enabled again, then the device is closed: nothing is left */
    OK(msi_eventfds(l.h, l.fd, 0, 2, e));
    EQ(dma_unmap(l.h, l.c, IOVA, P, 0), P);
    legacy_down(&l);
    mem_free(&m);
    for (unsigned i = 0; i < 4; i++) {
        close(e[i]);
    }
    close(pipefd[0]);
    close(pipefd[1]);
    EQ(count_fds(), fds);
}

/* ---- the MSI-X table through mmap, pending bits, reset ----------------- */

static void test_msix_mmap_and_reset(void)
{
    int32_t efd = eventfd(0, EFD_NONBLOCK);
    unsigned bar = SIM_DMA_BAR_MSIX;
    struct vfio_region_info ri;
    volatile uint32_t *table;
    SimMsixVector v;
    uint64_t val;
    uint8_t b[4];
    void *p = NULL;
    Legacy l;
    Mem m;

    legacy_up(&l, HOST_TEXT, VFIO_TYPE1v2_IOMMU);
    mem_alloc(&m, P);
    OK(dma_map(l.h, l.c, uva(&m, 0), IOVA, P, RW));
    bus_master(l.h, l.fd, true);
    OK(msix_eventfds(l.h, l.fd, 0, 1, &efd));

    /* the table belongs to the host: reads are 0xff, writes dropped */
    EQ(rd(l.h, l.fd, bar, SIM_DMA_MSIX_TABLE, 4), 0xffffffff);
    wr(l.h, l.fd, bar, SIM_DMA_MSIX_TABLE + 12, 4, 1);
    OK(sim_device_msix_read(l.dev, 0, &v));
    g_assert_false(v.masked);
    EQ(rd(l.h, l.fd, bar, SIM_DMA_MSIX_PBA, 4), 0);

    /* mmap: shared only, inside the BAR, page-aligned; BAR0 is trapped */
    ri = region(l.h, l.fd, bar);
    ERR(sim_mmap(l.h, NULL, P, PROT_READ | PROT_WRITE, MAP_PRIVATE, l.fd,
                 ri.offset, &p), EINVAL);
    ERR(sim_mmap(l.h, NULL, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED,
                 l.fd, ri.offset, &p), EINVAL);
    ERR(sim_mmap(l.h, NULL, P, PROT_READ, MAP_SHARED, l.fd,
                 region(l.h, l.fd, 0).offset, &p), EINVAL);
    OK(sim_mmap(l.h, NULL, P, PROT_READ | PROT_WRITE, MAP_SHARED, l.fd,
                ri.offset, &p));
    table = p;
    EQ(table[0], 0xfee00000);      /* what the host wrote */
    /* masking through the mapping holds the message pending ... */
    table[3] = 1;
    OK(sim_device_start_dma(l.dev, SIM_DMA_TO_BUFFER, 0, IOVA, 0, 8));
    EQ(efd_take(efd), 0);
    OK(sim_device_msix_read(l.dev, 0, &v));
    g_assert_true(v.pending);
    /* ... until unmasked */
    table[3] = 0;
    OK(sim_device_msix_read(l.dev, 0, &v));
    g_assert_false(v.pending);
    EQ(efd_take(efd), 1);
    /* the mapping keeps the file alive; it is released by sim_munmap */
    ERR(sim_munmap(l.h, p, P + 1), EINVAL);
    OK(sim_munmap(l.h, p, P));

    /* VFIO_DEVICE_RESET clears the engine and the buffer, not the config */
    wr(l.h, l.fd, 0, SIM_DMA_REG_SCRATCH, 4, 0x1234);
    memset(b, 0x77, sizeof(b));
    OK(sim_device_buffer_access(l.dev, 100, b, 4, true));
    OK(IOCV(l.h, l.fd, VFIO_DEVICE_RESET, 0));
    EQ(rd(l.h, l.fd, 0, SIM_DMA_REG_SCRATCH, 4), 0);
    EQ(rd(l.h, l.fd, 0, SIM_DMA_REG_DONE_COUNT, 4), 0);
    EQ(rd(l.h, l.fd, 0, SIM_DMA_REG_IRQ, 4), SIM_DMA_IRQ_RESET);
    OK(sim_device_buffer_access(l.dev, 100, b, 4, false));
    EQ(b[0], 0);
    sim_device_reg_read(l.dev, CFG, 4, 2, &val);
    g_assert_true(val & SIM_DMA_CMD_BME);
    OK(sim_device_start_dma(l.dev, SIM_DMA_TO_BUFFER, 0, IOVA, 0, 8));
    EQ(efd_take(efd), 1);         /* interrupts kept */
    legacy_down(&l);
    close(efd);
    mem_free(&m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sim/vfio/device/set-irqs-eventfds", test_set_irqs);
    g_test_add_func("/sim/vfio/device/intx-automask-unmask-exclusive",
                    test_intx);
    g_test_add_func("/sim/vfio/device/msi-config-virtualised",
                    test_msi_config);
    g_test_add_func("/sim/vfio/device/msi-eventfds-mask-exclusive",
                    test_msi_set_irqs);
    g_test_add_func("/sim/vfio/device/msix-mmap-pending-and-reset",
                    test_msix_mmap_and_reset);
    return g_test_run();
}
