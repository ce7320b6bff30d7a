/*
 * libqtest: the test side of the qtest and QMP protocols.
 *
 * qtest_init() starts the binary named by $QTEST_QEMU_BINARY the way QEMU's
 * libqtest does (-qtest unix:SOCK as a client of our listening socket,
 * -chardev socket,path=QMP,id=char0 -mon chardev=char0,mode=control,
 * -display none ... -accel qtest last), accepts both connections, checks
 * "endianness" and negotiates QMP.  Every helper asserts on a protocol
 * failure, so a test reads as a sequence of guest actions and checks.
 */
#ifndef LIBQTEST_H
#define LIBQTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-glib/json-glib.h>

typedef struct QTestState QTestState;

/* extra_args: appended before "-accel qtest"; may be NULL. */
QTestState *qtest_init(const char *extra_args);
QTestState *qtest_initf(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/*
 * Like qtest_init(), but leaves the QMP connection untouched: the greeting
 * is the first line qtest_qmp_read_line() returns, and capabilities
 * negotiation is up to the test.
 */
QTestState *qtest_init_without_qmp_handshake(const char *extra_args);
/*
 * Connects to a unix socket the emulator listens on (-qmp unix:P,server=on),
 * retrying for a few seconds while it does not exist yet.  Returns the fd.
 */
int qtest_socket_client(const char *path);
/* Exit status qtest_quit() expects (default 0). */
void qtest_set_expected_status(QTestState *s, int status);
/* SIGTERM, wait (bounded), assert the expected exit status; frees s. */
void qtest_quit(QTestState *s);
/* Waits for the process to exit by itself; returns its wait status. */
int qtest_wait_exit(QTestState *s);
pid_t qtest_pid(QTestState *s);
/* Closes the qtest connection; the emulator then shuts down by itself. */
void qtest_disconnect(QTestState *s);
/* Number of open fds of the emulator process (/proc/PID/fd). */
int qtest_count_fds(QTestState *s);

/*
 * Runs $QTEST_QEMU_BINARY with args (words separated by spaces, no quoting;
 * nothing is added to them) to completion and returns its stderr (g_free
 * it).  *status: the exit status, or -1 if it did not exit (killed by a
 * signal, or still running after 30 s: a start-up that was wrongly
 * accepted fails the test instead of hanging it).  out: stdout, if not
 * NULL.
 */
char *qtest_run_binary(const char *args, int *status, char **out);
/*
 * Runs args as qtest_run_binary() does and asserts that start-up fails:
 * exit status 1, and stderr one line containing msg.  An error with hint
 * lines after it passes only if msg spells them out (msg then spans lines:
 * it starts on the first line and stderr ends with the line msg ends in).
 * Otherwise g_error() with the arguments, the status and stderr.
 */
void qtest_expect_startup_error(const char *args, const char *msg);

/* QMP.  fmt is printf-style and must produce one JSON object. */
JsonObject *qtest_qmp(QTestState *s, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);
/* The same, passing fds with SCM_RIGHTS along with the command. */
JsonObject *qtest_qmp_fds(QTestState *s, const int *fds, size_t nfds,
                          const char *fmt, ...) G_GNUC_PRINTF(4, 5);
void qtest_qmp_send(QTestState *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Next reply (events received meanwhile are queued). */
JsonObject *qtest_qmp_receive(QTestState *s);
/* Queued or next event named event; waits for it. */
JsonObject *qtest_qmp_eventwait_ref(QTestState *s, const char *event);
void qtest_qmp_eventwait(QTestState *s, const char *event);
/* A queued event named event, or NULL (does not wait). */
JsonObject *qtest_qmp_event_ref(QTestState *s, const char *event);
/* Raw access for protocol tests: bytes out, one CRLF-terminated line in. */
void qtest_qmp_send_raw(QTestState *s, const char *buf, size_t len);
char *qtest_qmp_read_line(QTestState *s);   /* without the CRLF */
/* Response helpers */
bool qmp_rsp_is_err(JsonObject *rsp);
/* Asserts rsp is an error of class cls; returns a copy of desc. */
char *qmp_expect_error(JsonObject *rsp, const char *cls);
/* Asserts success and returns the "return" member (owned by rsp). */
JsonNode *qmp_expect_return(JsonObject *rsp);
/* Convenience: runs a command that must succeed, discards the reply. */
void qtest_qmp_assert_success(QTestState *s, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);
/*
 * qom-get PATH PROPERTY, which must succeed: the value (a copy to free
 * with json_node_unref), or the value asserted to be an integer, a
 * boolean or a string (g_free the string).
 */
JsonNode *qtest_qom_get(QTestState *s, const char *path, const char *prop);
int64_t qtest_qom_get_int(QTestState *s, const char *path, const char *prop);
bool qtest_qom_get_bool(QTestState *s, const char *path, const char *prop);
char *qtest_qom_get_str(QTestState *s, const char *path, const char *prop);
/*
 * Asserts the emulator still serves both channels: qtest answers
 * "endianness" and QMP "query-status" succeeds.
 */
void qtest_assert_alive(QTestState *s);
/* device_add DRIVER with id and extra JSON members ("" for none). */
void qtest_qmp_device_add(QTestState *s, const char *driver, const char *id,
                          const char *extra_json_members);
/* device_del id and wait for DEVICE_DELETED. */
void qtest_qmp_device_del(QTestState *s, const char *id);

/* qtest protocol */
/* Sends one raw command line and returns the reply line (no "\n"). */
char *qtest_raw_cmd(QTestState *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void qtest_send_raw(QTestState *s, const char *buf, size_t len);
/* The next reply line (no "\n"), after any IRQ lines; sends nothing. */
char *qtest_raw_read_line(QTestState *s);
uint8_t qtest_readb(QTestState *s, uint64_t addr);
uint16_t qtest_readw(QTestState *s, uint64_t addr);
uint32_t qtest_readl(QTestState *s, uint64_t addr);
uint64_t qtest_readq(QTestState *s, uint64_t addr);
void qtest_writeb(QTestState *s, uint64_t addr, uint8_t value);
void qtest_writew(QTestState *s, uint64_t addr, uint16_t value);
void qtest_writel(QTestState *s, uint64_t addr, uint32_t value);
void qtest_writeq(QTestState *s, uint64_t addr, uint64_t value);
void qtest_memread(QTestState *s, uint64_t addr, void *data, size_t size);
void qtest_memwrite(QTestState *s, uint64_t addr, const void *data,
                    size_t size);
void qtest_bufread(QTestState *s, uint64_t addr, void *data, size_t size);
void qtest_bufwrite(QTestState *s, uint64_t addr, const void *data,
                    size_t size);
void qtest_memset(QTestState *s, uint64_t addr, uint8_t pattern,
                  size_t size);
uint8_t qtest_inb(QTestState *s, uint16_t port);
uint16_t qtest_inw(QTestState *s, uint16_t port);
uint32_t qtest_inl(QTestState *s, uint16_t port);
void qtest_outb(QTestState *s, uint16_t port, uint8_t value);
void qtest_outw(QTestState *s, uint16_t port, uint16_t value);
void qtest_outl(QTestState *s, uint16_t port, uint32_t value);
int64_t qtest_clock_step(QTestState *s, int64_t step);
int64_t qtest_clock_step_next(QTestState *s);
int64_t qtest_clock_set(QTestState *s, int64_t val);
void qtest_irq_intercept_in(QTestState *s, const char *qom_path);
void qtest_irq_intercept_out(QTestState *s, const char *qom_path);
bool qtest_get_irq(QTestState *s, int num);
/* MSI observation (viommu extension, see docs/qtest.md). */
bool qtest_msi_pop(QTestState *s, uint64_t *addr, uint32_t *data);
void qtest_msi_clear(QTestState *s);

/* PCI configuration through CF8/CFC.  devfn = slot << 3 | fn, bus 0. */
uint8_t qpci_config_readb(QTestState *s, int bus, int devfn, uint8_t off);
uint16_t qpci_config_readw(QTestState *s, int bus, int devfn, uint8_t off);
uint32_t qpci_config_readl(QTestState *s, int bus, int devfn, uint8_t off);
void qpci_config_writeb(QTestState *s, int bus, int devfn, uint8_t off,
                        uint8_t v);
void qpci_config_writew(QTestState *s, int bus, int devfn, uint8_t off,
                        uint16_t v);
void qpci_config_writel(QTestState *s, int bus, int devfn, uint8_t off,
                        uint32_t v);
/* Sizes BAR bar and maps it at addr; returns its size. */
uint64_t qpci_bar_map(QTestState *s, int bus, int devfn, int bar,
                      uint64_t addr);
/* Sets memory, I/O and bus-master enable in COMMAND. */
void qpci_device_enable(QTestState *s, int bus, int devfn);
/* The offset of capability cap_id, or 0. */
uint8_t qpci_find_capability(QTestState *s, int bus, int devfn,
                             uint8_t cap_id);

#endif
