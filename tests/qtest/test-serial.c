/*
 * isa-serial, the 16550A UART (control_boot_facts F.2, docs/platform.md):
 * reset values, the divisor latch, the scratch register, output through
 * -serial file: (complete even when the guest exits with isa-debug-exit),
 * LSR THRE/TEMT, the THR-empty interrupt on I/O APIC pin 4, input from a
 * -serial unix: socket into RBR with LSR.DR and the RX interrupt, the FIFO
 * with its trigger level and character timeout on the virtual clock,
 * loopback, and which -serial specs create which ports.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "libqtest.h"

#define COM1            0x3f8
#define COM2            0x2f8
#define RBR             0
#define THR             0
#define DLL             0
#define IER             1
#define DLM             1
#define IIR             2
#define FCR             2
#define LCR             3
#define MCR             4
#define LSR             5
#define MSR             6
#define SCR             7
#define LSR_DR          0x01
#define LSR_THRE        0x20
#define LSR_TEMT        0x40
#define IRQ_COM1        4

static char *tmp_path(const char *name)
{
    return g_strdup_printf("%s/viommu-serial-%d-%s", g_get_tmp_dir(),
                           getpid(), name);
}

static void uart_out(QTestState *s, uint16_t base, const char *str)
{
    for (; *str; str++) {
        /* What a minimal guest does: wait for THRE, then write THR. */
        g_assert_cmphex(qtest_inb(s, base + LSR) & LSR_THRE, ==, LSR_THRE);
        qtest_outb(s, base + THR, *str);
        g_assert_cmphex(qtest_inb(s, base + LSR) & (LSR_THRE | LSR_TEMT),
                        ==, LSR_THRE | LSR_TEMT);
    }
}

/* The minimal guest's init: 115200 8N1, no interrupts, no FIFO. */
static void uart_init(QTestState *s, uint16_t base)
{
    qtest_outb(s, base + LCR, 0x80);
    qtest_outb(s, base + DLL, 1);
    qtest_outb(s, base + DLM, 0);
    qtest_outb(s, base + LCR, 0x03);
    qtest_outb(s, base + IER, 0);
    qtest_outb(s, base + FCR, 0);
    qtest_outb(s, base + MCR, 0x03);
}

static char *slurp(const char *path)
{
    char *data = NULL;

    g_assert_true(g_file_get_contents(path, &data, NULL, NULL));
    return data;
}

static void test_registers(void)
{
    QTestState *s = qtest_init("-M q35 -serial null");

    g_assert_cmphex(qtest_inb(s, COM1 + IER), ==, 0);
    g_assert_cmphex(qtest_inb(s, COM1 + IIR), ==, 0x01);
    g_assert_cmphex(qtest_inb(s, COM1 + LCR), ==, 0);
    g_assert_cmphex(qtest_inb(s, COM1 + MCR), ==, 0x08);
    g_assert_cmphex(qtest_inb(s, COM1 + LSR), ==, 0x60);
    g_assert_cmphex(qtest_inb(s, COM1 + MSR), ==, 0xb0);
    g_assert_cmphex(qtest_inb(s, COM1 + SCR), ==, 0);

    /* Divisor latch: 0x0c (9600 baud) at reset, behind DLAB. */
    qtest_outb(s, COM1 + LCR, 0x83);
    g_assert_cmphex(qtest_inb(s, COM1 + DLL), ==, 0x0c);
    g_assert_cmphex(qtest_inb(s, COM1 + DLM), ==, 0);
    qtest_outb(s, COM1 + DLL, 0x34);
    qtest_outb(s, COM1 + DLM, 0x12);
    g_assert_cmphex(qtest_inb(s, COM1 + DLL), ==, 0x34);
    g_assert_cmphex(qtest_inb(s, COM1 + DLM), ==, 0x12);
    g_assert_cmphex(qtest_inb(s, COM1 + LCR), ==, 0x83);
    qtest_outb(s, COM1 + LCR, 0x03);
    /* Without DLAB, offset 1 is IER again, untouched by the DLM write. */
    g_assert_cmphex(qtest_inb(s, COM1 + IER), ==, 0);
    qtest_outb(s, COM1 + LCR, 0x80);
    g_assert_cmphex(qtest_inb(s, COM1 + DLM), ==, 0x12);
    qtest_outb(s, COM1 + LCR, 0x03);

    /* Scratch register. */
    qtest_outb(s, COM1 + SCR, 0x5a);
    g_assert_cmphex(qtest_inb(s, COM1 + SCR), ==, 0x5a);
    qtest_outb(s, COM1 + SCR, 0xa5);
    g_assert_cmphex(qtest_inb(s, COM1 + SCR), ==, 0xa5);

    /* LSR and MSR are read-only. */
    qtest_outb(s, COM1 + LSR, 0);
    g_assert_cmphex(qtest_inb(s, COM1 + LSR), ==, 0x60);

    /* system_reset restores the reset values. */
    qtest_qmp_assert_success(s, "{\"execute\": \"system_reset\"}");
    qtest_qmp_eventwait(s, "RESET");
    g_assert_cmphex(qtest_inb(s, COM1 + SCR), ==, 0);
    g_assert_cmphex(qtest_inb(s, COM1 + LCR), ==, 0);
    qtest_outb(s, COM1 + LCR, 0x80);
    g_assert_cmphex(qtest_inb(s, COM1 + DLL), ==, 0x0c);
    qtest_quit(s);
}

static void test_output_file(void)
{
    g_autofree char *path = tmp_path("out.txt");
    g_autofree char *data = NULL;
    QTestState *s = qtest_initf("-M q35 -serial file:%s", path);

    uart_init(s, COM1);
    uart_out(s, COM1, "Hello, world\r\n");
    data = slurp(path);
    g_assert_cmpstr(data, ==, "Hello, world\r\n");
    qtest_quit(s);
    g_unlink(path);
}

/* The guest's last words before isa-debug-exit are all in the file. */
static void test_output_at_exit(void)
{
    g_autofree char *path = tmp_path("exit.txt");
    g_autofree char *data = NULL;
    QTestState *s = qtest_initf("-M q35 -serial file:%s "
                                "-device isa-debug-exit,iobase=0xf4,"
                                "iosize=4", path);
    int wstatus;

    uart_init(s, COM1);
    uart_out(s, COM1, "PASS\r\n");
    qtest_outl(s, 0xf4, 0);
    qtest_qmp_eventwait(s, "SHUTDOWN");
    wstatus = qtest_wait_exit(s);
    g_assert_true(WIFEXITED(wstatus));
    g_assert_cmpint(WEXITSTATUS(wstatus), ==, 1);
    qtest_quit(s);
    data = slurp(path);
    g_assert_cmpstr(data, ==, "PASS\r\n");
    g_unlink(path);
}

static void test_thre_irq(void)
{
    QTestState *s = qtest_init("-M q35 -serial null");

    qtest_irq_intercept_in(s, "ioapic");
    uart_init(s, COM1);
    g_assert_false(qtest_get_irq(s, IRQ_COM1));
    /* Enabling the THRE interrupt with THR empty raises it at once. */
    qtest_outb(s, COM1 + IER, 0x02);
    g_assert_true(qtest_get_irq(s, IRQ_COM1));
    g_assert_cmphex(qtest_inb(s, COM1 + IIR), ==, 0x02);
    /* Reading IIR acknowledged it. */
    g_assert_false(qtest_get_irq(s, IRQ_COM1));
    g_assert_cmphex(qtest_inb(s, COM1 + IIR), ==, 0x01);
    /* Every transmitted byte empties THR again: a new interrupt. */
    qtest_outb(s, COM1 + THR, 'a');
    g_assert_true(qtest_get_irq(s, IRQ_COM1));
    g_assert_cmphex(qtest_inb(s, COM1 + LSR), ==, 0x60);
    /* Masking it drops the line. */
    qtest_outb(s, COM1 + IER, 0);
    g_assert_false(qtest_get_irq(s, IRQ_COM1));
    g_assert_cmphex(qtest_inb(s, COM1 + IIR), ==, 0x01);
    qtest_quit(s);
}

static int listen_unix(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpuint(strlen(path), <, sizeof(addr.sun_path));
    strcpy(addr.sun_path, path);
    g_unlink(path);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(fd, 1), ==, 0);
    return fd;
}

/* Polls LSR until mask is set (the main loop delivers input meanwhile). */
static void wait_lsr(QTestState *s, uint16_t base, uint8_t mask)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    while (!(qtest_inb(s, base + LSR) & mask)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(1000);
    }
}

static void test_unix_rx(void)
{
    g_autofree char *path = tmp_path("sock");
    int lfd = listen_unix(path);
    QTestState *s = qtest_initf("-M q35 -serial unix:%s", path);
    int fd = accept(lfd, NULL, NULL);
    char c = 0;

    g_assert_cmpint(fd, >=, 0);
    qtest_irq_intercept_in(s, "ioapic");
    uart_init(s, COM1);
    qtest_outb(s, COM1 + IER, 0x01);
    g_assert_cmphex(qtest_inb(s, COM1 + LSR) & LSR_DR, ==, 0);
    g_assert_false(qtest_get_irq(s, IRQ_COM1));

    g_assert_cmpint(write(fd, "x", 1), ==, 1);
    wait_lsr(s, COM1, LSR_DR);
    g_assert_true(qtest_get_irq(s, IRQ_COM1));
    g_assert_cmphex(qtest_inb(s, COM1 + IIR), ==, 0x04);
    g_assert_cmphex(qtest_inb(s, COM1 + RBR), ==, 'x');
    g_assert_cmphex(qtest_inb(s, COM1 + LSR), ==, 0x60);
    g_assert_false(qtest_get_irq(s, IRQ_COM1));
    g_assert_cmphex(qtest_inb(s, COM1 + IIR), ==, 0x01);

    /* Without a FIFO one byte waits in the socket until RBR is read. */
    g_assert_cmpint(write(fd, "yz", 2), ==, 2);
    wait_lsr(s, COM1, LSR_DR);
    g_assert_cmphex(qtest_inb(s, COM1 + RBR), ==, 'y');
    wait_lsr(s, COM1, LSR_DR);
    g_assert_cmphex(qtest_inb(s, COM1 + RBR), ==, 'z');

    /* Output goes to the same socket. */
    uart_out(s, COM1, "k");
    g_assert_cmpint(read(fd, &c, 1), ==, 1);
    g_assert_cmpint(c, ==, 'k');
    qtest_quit(s);
    close(fd);
    close(lfd);
    g_unlink(path);
}

/* -serial unix:PATH,server=on,wait=off: the test is the client. */
static void test_unix_server(void)
{
    g_autofree char *path = tmp_path("srv");
    QTestState *s = qtest_initf("-M q35 -serial unix:%s,server=on,wait=off",
                                path);
    int fd = qtest_socket_client(path);
    char c = 0;

    uart_init(s, COM1);
    g_assert_cmpint(write(fd, "s", 1), ==, 1);
    wait_lsr(s, COM1, LSR_DR);
    g_assert_cmphex(qtest_inb(s, COM1 + RBR), ==, 's');
    uart_out(s, COM1, "t");
    g_assert_cmpint(read(fd, &c, 1), ==, 1);
    g_assert_cmpint(c, ==, 't');
    close(fd);
    qtest_quit(s);
    g_unlink(path);
}

static void test_fifo(void)
{
    g_autofree char *path = tmp_path("fifo");
    int lfd = listen_unix(path);
    QTestState *s = qtest_initf("-M q35 -serial unix:%s", path);
    int fd = accept(lfd, NULL, NULL);

    g_assert_cmpint(fd, >=, 0);
    qtest_irq_intercept_in(s, "ioapic");
    uart_init(s, COM1);
    /* FIFO on, RX trigger level 4. */
    qtest_outb(s, COM1 + FCR, 0x41);
    qtest_outb(s, COM1 + IER, 0x01);
    g_assert_cmphex(qtest_inb(s, COM1 + IIR), ==, 0xc1);

    g_assert_cmpint(write(fd, "ab", 2), ==, 2);
    /* One write, one read by the chardev: both bytes arrive together. */
    wait_lsr(s, COM1, LSR_DR);
    /* Below the trigger level: no interrupt until the timeout. */
    qtest_clock_step(s, 1000);
    g_assert_false(qtest_get_irq(s, IRQ_COM1));
    g_assert_cmphex(qtest_inb(s, COM1 + IIR), ==, 0xc1);
    /* Four character times at 115200 baud: about 347 us. */
    qtest_clock_step(s, 400 * 1000);
    g_assert_true(qtest_get_irq(s, IRQ_COM1));
    g_assert_cmphex(qtest_inb(s, COM1 + IIR), ==, 0xcc);
    g_assert_cmphex(qtest_inb(s, COM1 + RBR), ==, 'a');
    g_assert_false(qtest_get_irq(s, IRQ_COM1));
    g_assert_cmphex(qtest_inb(s, COM1 + RBR), ==, 'b');
    g_assert_cmphex(qtest_inb(s, COM1 + LSR) & LSR_DR, ==, 0);

    /* Reaching the trigger level interrupts at once. */
    g_assert_cmpint(write(fd, "1234", 4), ==, 4);
    for (int i = 0; i < 10000 && !qtest_get_irq(s, IRQ_COM1); i++) {
        g_usleep(1000);
        qtest_inb(s, COM1 + SCR);
    }
    g_assert_true(qtest_get_irq(s, IRQ_COM1));
    g_assert_cmphex(qtest_inb(s, COM1 + IIR), ==, 0xc4);
    /* FCR bit 1 clears the receive FIFO. */
    qtest_outb(s, COM1 + FCR, 0x43);
    g_assert_cmphex(qtest_inb(s, COM1 + LSR) & LSR_DR, ==, 0);
    g_assert_false(qtest_get_irq(s, IRQ_COM1));
    qtest_quit(s);
    close(fd);
    close(lfd);
    g_unlink(path);
}

static void test_loopback(void)
{
    g_autofree char *path = tmp_path("loop.txt");
    g_autofree char *data = NULL;
    QTestState *s = qtest_initf("-M q35 -serial file:%s", path);

    uart_init(s, COM1);
    qtest_outb(s, COM1 + MCR, 0x10 | 0x0b);     /* LOOP, OUT2, RTS, DTR */
    g_assert_cmphex(qtest_inb(s, COM1 + MSR), ==, 0xb0);  /* DCD DSR CTS */
    qtest_outb(s, COM1 + MCR, 0x10 | 0x04);     /* LOOP, OUT1 */
    g_assert_cmphex(qtest_inb(s, COM1 + MSR), ==, 0x40);  /* RI */
    qtest_outb(s, COM1 + THR, 'L');
    g_assert_cmphex(qtest_inb(s, COM1 + LSR), ==, 0x61);
    g_assert_cmphex(qtest_inb(s, COM1 + RBR), ==, 'L');
    /* A second byte before the first is read overruns (LSR.OE). */
    qtest_outb(s, COM1 + THR, '1');
    qtest_outb(s, COM1 + THR, '2');
    g_assert_cmphex(qtest_inb(s, COM1 + LSR), ==, 0x63);
    g_assert_cmphex(qtest_inb(s, COM1 + LSR), ==, 0x61);  /* OE cleared */
    g_assert_cmphex(qtest_inb(s, COM1 + RBR), ==, '1');
    qtest_outb(s, COM1 + MCR, 0x03);
    uart_out(s, COM1, "!");
    data = slurp(path);
    g_assert_cmpstr(data, ==, "!");             /* loopback sent nothing */
    qtest_quit(s);
    g_unlink(path);
}

static void test_ports(void)
{
    g_autofree char *path = tmp_path("com2.txt");
    g_autofree char *data = NULL;
    QTestState *s = qtest_init("-M q35");

    /* No -serial: no UART at all. */
    g_assert_cmphex(qtest_inb(s, COM1 + LSR), ==, 0xff);
    qtest_quit(s);

    s = qtest_init("-M q35 -serial none");
    g_assert_cmphex(qtest_inb(s, COM1 + LSR), ==, 0xff);
    qtest_quit(s);

    /* "none" takes no index: the file is COM1, null COM2. */
    s = qtest_initf("-M q35 -serial none -serial file:%s -serial null",
                    path);
    g_assert_cmphex(qtest_inb(s, COM1 + LSR), ==, 0x60);
    g_assert_cmphex(qtest_inb(s, COM2 + LSR), ==, 0x60);
    g_assert_cmphex(qtest_inb(s, 0x3e8 + LSR), ==, 0xff);
    uart_out(s, COM2, "2");
    uart_out(s, COM1, "1");
    qtest_quit(s);
    data = slurp(path);
    g_assert_cmpstr(data, ==, "1");
    g_free(g_steal_pointer(&data));

    /* -serial chardev:ID and a hand-made isa-serial on COM3's ports. */
    s = qtest_initf("-M q35 -chardev file,id=c1,path=%s -serial chardev:c1",
                    path);
    uart_out(s, COM1, "c");
    qtest_quit(s);
    data = slurp(path);
    g_assert_cmpstr(data, ==, "c");
    g_free(g_steal_pointer(&data));

    s = qtest_initf("-M q35 -chardev file,id=c1,path=%s "
                    "-device isa-serial,chardev=c1,iobase=0x3e8,irq=5",
                    path);
    qtest_irq_intercept_in(s, "ioapic");
    g_assert_cmphex(qtest_inb(s, COM1 + LSR), ==, 0xff);
    qtest_outb(s, 0x3e8 + IER, 0x02);
    g_assert_true(qtest_get_irq(s, 5));
    uart_out(s, 0x3e8, "3");
    qtest_quit(s);
    data = slurp(path);
    g_assert_cmpstr(data, ==, "3");
    g_unlink(path);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/serial/registers", test_registers);
    g_test_add_func("/serial/output/file", test_output_file);
    g_test_add_func("/serial/output/at-debug-exit", test_output_at_exit);
    g_test_add_func("/serial/irq/thre", test_thre_irq);
    g_test_add_func("/serial/input/unix", test_unix_rx);
    g_test_add_func("/serial/input/unix-server", test_unix_server);
    g_test_add_func("/serial/input/fifo-timeout", test_fifo);
    g_test_add_func("/serial/loopback", test_loopback);
    g_test_add_func("/serial/ports", test_ports);
    return g_test_run();
}
