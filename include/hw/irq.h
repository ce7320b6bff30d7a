/*
 * Interrupt lines between devices (GPIOs).
 *
 * A qemu_irq is an input: the handler of the receiving device, its opaque
 * and the line number n.  Setting a qemu_irq calls the handler.  Outputs
 * are qemu_irq fields of the sending device, wired to inputs with
 * qdev_connect_gpio_out().
 */
#ifndef HW_IRQ_H
#define HW_IRQ_H

typedef struct IRQState *qemu_irq;
typedef void (*qemu_irq_handler)(void *opaque, int n, int level);

qemu_irq qemu_allocate_irq(qemu_irq_handler handler, void *opaque, int n);
void qemu_free_irq(qemu_irq irq);
void qemu_set_irq(qemu_irq irq, int level);

static inline void qemu_irq_raise(qemu_irq irq) { qemu_set_irq(irq, 1); }
static inline void qemu_irq_lower(qemu_irq irq) { qemu_set_irq(irq, 0); }
static inline void qemu_irq_pulse(qemu_irq irq)
{
    qemu_set_irq(irq, 1);
    qemu_set_irq(irq, 0);
}

/*
 * Replaces the handler of irq by handler(opaque, n, level); the original
 * can be reached with qemu_irq_call_original(irq, level).  Used by the
 * qtest interception.
 */
void qemu_irq_intercept(qemu_irq irq, qemu_irq_handler handler,
                        void *opaque);
void qemu_irq_call_original(qemu_irq irq, int level);

#endif
