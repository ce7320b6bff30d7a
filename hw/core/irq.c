/*
 * Interrupt lines.
 */
#include <glib.h>

#include "hw/irq.h"

struct IRQState {
    qemu_irq_handler handler;
    void *opaque;
    int n;
    /* Set while intercepted: the handler and opaque it replaced. */
    qemu_irq_handler orig_handler;
    void *orig_opaque;
};

qemu_irq qemu_allocate_irq(qemu_irq_handler handler, void *opaque, int n)
{
    qemu_irq irq = g_new0(struct IRQState, 1);

    irq->handler = handler;
    irq->opaque = opaque;
    irq->n = n;
    return irq;
}

void qemu_free_irq(qemu_irq irq)
{
    g_free(irq);
}

void qemu_set_irq(qemu_irq irq, int level)
{
    if (irq) {
        irq->handler(irq->opaque, irq->n, level);
    }
}

void qemu_irq_intercept(qemu_irq irq, qemu_irq_handler handler,
                        void *opaque)
{
    if (!irq->orig_handler) {
        irq->orig_handler = irq->handler;
        irq->orig_opaque = irq->opaque;
    }
    irq->handler = handler;
    irq->opaque = opaque;
}

void qemu_irq_call_original(qemu_irq irq, int level)
{
    if (irq->orig_handler) {
        irq->orig_handler(irq->orig_opaque, irq->n, level);
    }
}
