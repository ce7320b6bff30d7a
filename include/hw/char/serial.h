/*
 * 16550A UART (control_boot_facts F.2) and the -serial ports.
 *
 * SerialState is the UART core, embedded in a bus-specific device
 * (isa-serial, hw/char/serial-isa.c) that maps its 8 registers and owns
 * its IRQ line.  Output bytes go to the chardev as the guest writes THR;
 * input from the chardev fills the receive FIFO (16 bytes, or a 1-byte
 * holding register with the FIFO off).
 */
#ifndef HW_CHAR_SERIAL_H
#define HW_CHAR_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

#include "chardev/char.h"
#include "hw/irq.h"
#include "system/memory.h"
#include "system/timer.h"

#define UART_FIFO_LENGTH    16
#define SERIAL_MAX_PORTS    4           /* COM1-COM4 */

/* Register offsets (DLAB = LCR bit 7 selects DLL/DLM at 0 and 1). */
#define UART_RBR        0       /* read */
#define UART_THR        0       /* write */
#define UART_DLL        0       /* DLAB */
#define UART_IER        1
#define UART_DLM        1       /* DLAB */
#define UART_IIR        2       /* read */
#define UART_FCR        2       /* write */
#define UART_LCR        3
#define UART_MCR        4
#define UART_LSR        5
#define UART_MSR        6
#define UART_SCR        7

#define UART_IER_RDI    0x01    /* received data available */
#define UART_IER_THRI   0x02    /* THR empty */
#define UART_IER_RLSI   0x04    /* receiver line status */
#define UART_IER_MSI    0x08    /* modem status */

#define UART_IIR_NO_INT 0x01
#define UART_IIR_ID     0x0e
#define UART_IIR_MSI    0x00
#define UART_IIR_THRI   0x02
#define UART_IIR_RDI    0x04
#define UART_IIR_RLSI   0x06
#define UART_IIR_CTI    0x0c    /* character timeout (FIFO) */
#define UART_IIR_FE     0xc0    /* FIFOs enabled */

#define UART_FCR_FE     0x01
#define UART_FCR_RFR    0x02    /* clear the receive FIFO */
#define UART_FCR_XFR    0x04    /* clear the transmit FIFO */
#define UART_FCR_ITL    0xc0    /* receive trigger level */

#define UART_LCR_DLAB   0x80

#define UART_MCR_DTR    0x01
#define UART_MCR_RTS    0x02
#define UART_MCR_OUT1   0x04
#define UART_MCR_OUT2   0x08
#define UART_MCR_LOOP   0x10

#define UART_LSR_DR     0x01
#define UART_LSR_OE     0x02
#define UART_LSR_PE     0x04
#define UART_LSR_FE     0x08
#define UART_LSR_BI     0x10
#define UART_LSR_THRE   0x20
#define UART_LSR_TEMT   0x40
#define UART_LSR_INT_ANY (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | \
                          UART_LSR_BI)

#define UART_MSR_DCTS   0x01
#define UART_MSR_DDSR   0x02
#define UART_MSR_TERI   0x04
#define UART_MSR_DDCD   0x08
#define UART_MSR_DELTA  0x0f
#define UART_MSR_CTS    0x10
#define UART_MSR_DSR    0x20
#define UART_MSR_RI     0x40
#define UART_MSR_DCD    0x80

typedef struct SerialState {
    uint16_t divider;
    uint8_t ier, iir, lcr, mcr, lsr, msr, scr, fcr;
    bool thr_ipending;          /* THRE interrupt pending until IIR read */
    bool timeout_ipending;      /* FIFO character timeout */
    uint8_t rx_fifo[UART_FIFO_LENGTH];
    unsigned rx_head, rx_count;
    qemu_irq irq;               /* NULL: not connected */
    Chardev *chr;               /* NULL: output dropped, no input */
    QEMUTimer *timeout_timer;
    MemoryRegion io;
    bool io_inited;
} SerialState;

/* owner/name: for the register region; chr may be NULL. */
bool serial_realize_core(SerialState *s, Object *owner, Chardev *chr,
                         Error **errp);
void serial_exit_core(SerialState *s);
void serial_reset(SerialState *s);

/*
 * The -serial ports, filled by the command line before the machine is
 * built: COMn's chardev is serial_hd(n), NULL for none.
 */
bool serial_hd_add(Chardev *chr, Error **errp);
Chardev *serial_hd(int i);

#endif
