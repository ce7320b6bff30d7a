/*
 * 16550A UART core (control_boot_facts F.2; include/hw/char/serial.h).
 *
 * Transmission is instantaneous: a THR write hands the byte to the
 * chardev at once, so THR and the shift register are always empty again
 * by the time the guest looks (LSR THRE|TEMT), and a THRE interrupt, if
 * enabled, follows every write.  In loopback (MCR bit 4) the byte goes to
 * the receiver instead and MSR reflects the MCR outputs.
 *
 * Receive: bytes from the chardev enter the 16-byte FIFO (one holding
 * byte with the FIFO off); the chardev is throttled while it is full.
 * With the FIFO on, the RX interrupt fires at the trigger level, and
 * below it a character timeout (IIR 0x0C) fires four character times
 * (virtual clock) after the last byte arrived or was read.
 *
 * Interrupt identification follows the 16550 priority: line status, RX
 * data or timeout, THR empty, modem status.  The IRQ line is the level
 * of "an enabled interrupt is pending".
 */
#include <string.h>

#include "hw/char/serial.h"

#define UART_BASE_BAUD      115200
#define UART_CHAR_BITS      10      /* start + 8 data + stop */

static const uint8_t rx_trigger_levels[4] = { 1, 4, 8, 14 };

static bool serial_fifo_on(SerialState *s)
{
    return s->fcr & UART_FCR_FE;
}

static unsigned serial_rx_capacity(SerialState *s)
{
    return serial_fifo_on(s) ? UART_FIFO_LENGTH : 1;
}

static void serial_update_irq(SerialState *s)
{
    uint8_t id = UART_IIR_NO_INT;

    if ((s->ier & UART_IER_RLSI) && (s->lsr & UART_LSR_INT_ANY)) {
        id = UART_IIR_RLSI;
    } else if ((s->ier & UART_IER_RDI) && s->timeout_ipending) {
        id = UART_IIR_CTI;
    } else if ((s->ier & UART_IER_RDI) && (s->lsr & UART_LSR_DR) &&
               (!serial_fifo_on(s) ||
                s->rx_count >= rx_trigger_levels[s->fcr >> 6])) {
        id = UART_IIR_RDI;
    } else if ((s->ier & UART_IER_THRI) && s->thr_ipending) {
        id = UART_IIR_THRI;
    } else if ((s->ier & UART_IER_MSI) && (s->msr & UART_MSR_DELTA)) {
        id = UART_IIR_MSI;
    }
    s->iir = id;
    if (s->irq) {
        qemu_set_irq(s->irq, id != UART_IIR_NO_INT);
    }
}

/* Four character times at the current divisor. */
static int64_t serial_timeout_ns(SerialState *s)
{
    uint64_t div = s->divider ? s->divider : 1;

    return 4 * UART_CHAR_BITS * div * NANOSECONDS_PER_SECOND /
           UART_BASE_BAUD;
}

static void serial_rearm_timeout(SerialState *s)
{
    s->timeout_ipending = false;
    if (serial_fifo_on(s) && s->rx_count) {
        timer_mod(s->timeout_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                  serial_timeout_ns(s));
    } else {
        timer_del(s->timeout_timer);
    }
}

static void serial_timeout(void *opaque)
{
    SerialState *s = opaque;

    if (s->rx_count) {
        s->timeout_ipending = true;
        serial_update_irq(s);
    }
}

static void serial_rx_clear(SerialState *s)
{
    s->rx_head = s->rx_count = 0;
    s->lsr &= ~UART_LSR_DR;
    s->timeout_ipending = false;
    timer_del(s->timeout_timer);
    if (s->chr) {
        qemu_chr_fe_accept_input(s->chr);
    }
}

static void serial_rx_push(SerialState *s, uint8_t byte)
{
    if (s->rx_count >= serial_rx_capacity(s)) {
        /* Only loopback can get here: the chardev is throttled. */
        s->lsr |= UART_LSR_OE;
        return;
    }
    s->rx_fifo[(s->rx_head + s->rx_count) % UART_FIFO_LENGTH] = byte;
    s->rx_count++;
    s->lsr |= UART_LSR_DR;
    serial_rearm_timeout(s);
}

static uint8_t serial_rx_pop(SerialState *s)
{
    uint8_t byte;

    if (!s->rx_count) {
        return 0;
    }
    byte = s->rx_fifo[s->rx_head];
    s->rx_head = (s->rx_head + 1) % UART_FIFO_LENGTH;
    if (!--s->rx_count) {
        s->lsr &= ~(UART_LSR_DR | UART_LSR_BI);
    }
    serial_rearm_timeout(s);
    if (s->chr) {
        qemu_chr_fe_accept_input(s->chr);
    }
    return byte;
}

static void serial_transmit(SerialState *s, uint8_t byte)
{
    /* THR is loaded: the THRE interrupt is cleared until it drains. */
    s->lsr &= ~(UART_LSR_THRE | UART_LSR_TEMT);
    s->thr_ipending = false;
    serial_update_irq(s);

    if (s->mcr & UART_MCR_LOOP) {
        serial_rx_push(s, byte);
    } else if (s->chr) {
        /* A broken connection loses the byte, as a cable would. */
        qemu_chr_fe_write_all(s->chr, &byte, 1);
    }
    s->lsr |= UART_LSR_THRE | UART_LSR_TEMT;
    s->thr_ipending = true;
    serial_update_irq(s);
}

static uint8_t serial_loopback_msr(SerialState *s)
{
    uint8_t m = 0;

    m |= (s->mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0;
    m |= (s->mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0;
    m |= (s->mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0;
    m |= (s->mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0;
    return m;
}

static uint64_t serial_ioport_read(void *opaque, hwaddr addr, unsigned size)
{
    SerialState *s = opaque;
    uint8_t ret = 0;

    switch (addr & 7) {
    case UART_RBR:
        if (s->lcr & UART_LCR_DLAB) {
            ret = s->divider & 0xff;
        } else {
            ret = serial_rx_pop(s);
            serial_update_irq(s);
        }
        break;
    case UART_IER:
        ret = (s->lcr & UART_LCR_DLAB) ? s->divider >> 8 : s->ier;
        break;
    case UART_IIR:
        ret = s->iir | (serial_fifo_on(s) ? UART_IIR_FE : 0);
        /* Reading IIR while it reports THR empty acknowledges it. */
        if ((s->iir & UART_IIR_ID) == UART_IIR_THRI &&
            !(s->iir & UART_IIR_NO_INT)) {
            s->thr_ipending = false;
            serial_update_irq(s);
        }
        break;
    case UART_LCR:
        ret = s->lcr;
        break;
    case UART_MCR:
        ret = s->mcr;
        break;
    case UART_LSR:
        ret = s->lsr;
        if (s->lsr & UART_LSR_INT_ANY) {
            s->lsr &= ~UART_LSR_INT_ANY;
            serial_update_irq(s);
        }
        break;
    case UART_MSR:
        if (s->mcr & UART_MCR_LOOP) {
            ret = serial_loopback_msr(s);
        } else {
            ret = s->msr;
            if (s->msr & UART_MSR_DELTA) {
                s->msr &= ~UART_MSR_DELTA;
                serial_update_irq(s);
            }
        }
        break;
    case UART_SCR:
        ret = s->scr;
        break;
    }
    return ret;
}

static void serial_write_fcr(SerialState *s, uint8_t val)
{
    /* Turning the FIFOs on or off clears them (16550 datasheet). */
    if ((val ^ s->fcr) & UART_FCR_FE) {
        val |= UART_FCR_RFR | UART_FCR_XFR;
    }
    if (val & UART_FCR_RFR) {
        serial_rx_clear(s);
    }
    s->fcr = val & (UART_FCR_FE | UART_FCR_ITL);
    if (!serial_fifo_on(s)) {
        s->fcr = 0;
    }
    serial_update_irq(s);
}

static void serial_ioport_write(void *opaque, hwaddr addr, uint64_t val,
                                unsigned size)
{
    SerialState *s = opaque;
    uint8_t v = val;

    switch (addr & 7) {
    case UART_THR:
        if (s->lcr & UART_LCR_DLAB) {
            s->divider = (s->divider & 0xff00) | v;
        } else {
            serial_transmit(s, v);
        }
        break;
    case UART_IER:
        if (s->lcr & UART_LCR_DLAB) {
            s->divider = (s->divider & 0x00ff) | (uint16_t)v << 8;
        } else {
            uint8_t changed = (s->ier ^ v) & 0x0f;

            s->ier = v & 0x0f;
            /* Enabling the THRE interrupt with THR empty raises it. */
            if ((changed & UART_IER_THRI) && (s->ier & UART_IER_THRI) &&
                (s->lsr & UART_LSR_THRE)) {
                s->thr_ipending = true;
            }
            serial_update_irq(s);
        }
        break;
    case UART_FCR:
        serial_write_fcr(s, v);
        break;
    case UART_LCR:
        s->lcr = v;
        break;
    case UART_MCR:
        s->mcr = v & 0x1f;
        break;
    case UART_LSR:
    case UART_MSR:
        /* Read-only (factory test registers on real parts). */
        break;
    case UART_SCR:
        s->scr = v;
        break;
    }
}

static const MemoryRegionOps serial_io_ops = {
    .read = serial_ioport_read,
    .write = serial_ioport_write,
    .valid.min_access_size = 1,
    .valid.max_access_size = 1,
    .impl.min_access_size = 1,
    .impl.max_access_size = 1,
};

static int serial_can_receive(void *opaque)
{
    SerialState *s = opaque;

    return serial_rx_capacity(s) - s->rx_count;
}

static void serial_receive(void *opaque, const uint8_t *buf, int size)
{
    SerialState *s = opaque;

    for (int i = 0; i < size; i++) {
        serial_rx_push(s, buf[i]);
    }
    serial_update_irq(s);
}

void serial_reset(SerialState *s)
{
    s->divider = 0x0c;              /* 9600 baud */
    s->ier = 0;
    s->lcr = 0;
    s->mcr = UART_MCR_OUT2;
    s->lsr = UART_LSR_THRE | UART_LSR_TEMT;
    s->msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
    s->scr = 0;
    s->fcr = 0;
    s->thr_ipending = false;
    serial_rx_clear(s);
    serial_update_irq(s);
}

bool serial_realize_core(SerialState *s, Object *owner, Chardev *chr,
                         Error **errp)
{
    if (chr && !qemu_chr_fe_init(chr, errp)) {
        return false;
    }
    s->chr = chr;
    s->timeout_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, serial_timeout, s);
    memory_region_init_io(&s->io, owner, &serial_io_ops, s, "serial", 8);
    s->io_inited = true;
    if (chr) {
        qemu_chr_fe_set_handlers(chr, serial_can_receive, serial_receive,
                                 NULL, s);
    }
    serial_reset(s);
    return true;
}

void serial_exit_core(SerialState *s)
{
    if (s->chr) {
        qemu_chr_fe_deinit(s->chr);
        s->chr = NULL;
    }
    timer_free(s->timeout_timer);
    s->timeout_timer = NULL;
    if (s->io_inited) {
        memory_region_finalize(&s->io);
        s->io_inited = false;
    }
}

/* --- -serial ports ------------------------------------------------------------ */

static Chardev *serial_hds[SERIAL_MAX_PORTS];
static int serial_nb_hds;

bool serial_hd_add(Chardev *chr, Error **errp)
{
    if (serial_nb_hds >= SERIAL_MAX_PORTS) {
        error_setg(errp, "too many serial ports (at most %d)",
                   SERIAL_MAX_PORTS);
        return false;
    }
    serial_hds[serial_nb_hds++] = chr;
    return true;
}

Chardev *serial_hd(int i)
{
    return i >= 0 && i < serial_nb_hds ? serial_hds[i] : NULL;
}
