/*
 * guest-boot: how fast a guest starts under -accel kvm, and how fast a guest
 * VT-d driver can map pages.  Prints figures; asserts no time.
 *
 * 1. Boot: the trivial guest tests/guest/bench-boot (prints one line and
 *    exits through isa-debug-exit) is run RUNS times; for each run the time
 *    from fork+exec of the emulator to the first byte on the guest's serial
 *    port (-serial stdio) and to the emulator's exit.
 * 2. VT-d: tests/guest/bench-vtd-qi (-device intel-iommu -device edu) does N
 *    operations, each a second-level PTE update followed by a page-selective
 *    IOTLB invalidation and a wait descriptor on the invalidation queue.  The
 *    host timestamps its BENCH-START and BENCH-END lines; the guest reports
 *    its own rdtsc figure on the BENCH-END line.
 *
 * Where /dev/kvm cannot be opened, or the emulator cannot run the trivial
 * guest (no -accel kvm), it prints why and exits 0.
 *
 *   guest-boot [-r RUNS] [-n N] [EMULATOR [BOOT_IMAGE VTD_IMAGE]]
 *
 * The defaults are the images and the binary of this build directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef GUEST_BOOT_EMULATOR
#define GUEST_BOOT_EMULATOR ""
#endif
#ifndef GUEST_BOOT_IMAGE
#define GUEST_BOOT_IMAGE ""
#endif
#ifndef GUEST_BOOT_VTD_IMAGE
#define GUEST_BOOT_VTD_IMAGE ""
#endif

#define RUN_TIMEOUT_MS 120000
#define PASS_STATUS 1           /* isa-debug-exit: (0 << 1) | 1 */
#define MAX_RUNS 100
#define LINE_MAX_LEN 512

/* What one emulator run observed, in ms from just before fork(). */
struct run {
    double first_byte;          /* < 0: the guest printed nothing */
    double exit;
    double start_line, end_line;    /* BENCH-START / BENCH-END, or < 0 */
    char end_text[LINE_MAX_LEN];    /* the BENCH-END line */
    int status;                 /* exit status, or -1 */
    char err[1024];             /* the start of stderr */
};

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A complete serial line: timestamp the bench markers. */
static void take_line(struct run *r, const char *line, double t)
{
    if (!strncmp(line, "BENCH-START", 11)) {
        r->start_line = t;
    } else if (!strncmp(line, "BENCH-END", 9)) {
        r->end_line = t;
        snprintf(r->end_text, sizeof(r->end_text), "%s", line);
    }
}

static bool run_guest(char **argv, struct run *r)
{
    int out[2], err[2];
    char line[LINE_MAX_LEN];
    size_t line_len = 0, err_len = 0;
    bool out_open = true, err_open = true;
    double t0;
    pid_t pid;
    int wstatus;

    memset(r, 0, sizeof(*r));
    r->first_byte = r->start_line = r->end_line = -1;
    r->status = -1;
    if (pipe(out) || pipe(err)) {
        perror("guest-boot: pipe");
        return false;
    }
    t0 = now_ms();
    pid = fork();
    if (pid < 0) {
        perror("guest-boot: fork");
        return false;
    }
    if (!pid) {
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        close(out[0]);
        close(out[1]);
        close(err[0]);
        close(err[1]);
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(out[1]);
    close(err[1]);

    while (out_open || err_open) {
        struct pollfd fds[2] = {
            { out_open ? out[0] : -1, POLLIN, 0 },
            { err_open ? err[0] : -1, POLLIN, 0 },
        };
        int left = RUN_TIMEOUT_MS - (int)(now_ms() - t0);
        char buf[4096];
        ssize_t n;

        if (left <= 0 || poll(fds, 2, left) == 0) {
            fprintf(stderr, "guest-boot: %s did not finish in %d s; killed\n",
                    argv[0], RUN_TIMEOUT_MS / 1000);
            kill(pid, SIGKILL);
            break;
        }
        if (fds[0].revents) {
            double t = now_ms();

            n = read(out[0], buf, sizeof(buf));
            if (n <= 0) {
                out_open = false;
                continue;
            }
            if (r->first_byte < 0) {
                r->first_byte = t - t0;
            }
            for (ssize_t i = 0; i < n; i++) {
                if (buf[i] == '\n' || line_len == sizeof(line) - 1) {
                    line[line_len] = 0;
                    take_line(r, line, t - t0);
                    line_len = 0;
                } else if (buf[i] != '\r') {
                    line[line_len++] = buf[i];
                }
            }
        }
        if (fds[1].revents) {
            n = read(err[0], buf, sizeof(buf));
            if (n <= 0) {
                err_open = false;
                continue;
            }
            if (err_len < sizeof(r->err) - 1) {
                size_t k = sizeof(r->err) - 1 - err_len;

                k = (size_t)n < k ? (size_t)n : k;
                memcpy(r->err + err_len, buf, k);
                err_len += k;
            }
        }
    }
    close(out[0]);
    close(err[0]);
    if (waitpid(pid, &wstatus, 0) == pid && WIFEXITED(wstatus)) {
        r->status = WEXITSTATUS(wstatus);
    }
    r->exit = now_ms() - t0;
    return true;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void print_stats(const char *what, double *v, int n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    printf("  %-22s min %8.2f ms  median %8.2f ms  max %8.2f ms\n", what,
           v[0], v[n / 2], v[n - 1]);
}

int main(int argc, char **argv)
{
    const char *emulator = GUEST_BOOT_EMULATOR;
    const char *boot_image = GUEST_BOOT_IMAGE;
    const char *vtd_image = GUEST_BOOT_VTD_IMAGE;
    unsigned long ops = 20000;
    int runs = 10, opt, fd;
    double first[MAX_RUNS], exits[MAX_RUNS];
    char append[64];
    struct run r;

    while ((opt = getopt(argc, argv, "r:n:h")) != -1) {
        switch (opt) {
        case 'r':
            runs = atoi(optarg);
            break;
        case 'n':
            ops = strtoul(optarg, NULL, 0);
            break;
        default:
            fprintf(stderr, "usage: %s [-r RUNS] [-n OPS] [EMULATOR "
                    "[BOOT_IMAGE VTD_IMAGE]]\n", argv[0]);
            return opt == 'h' ? 0 : 2;
        }
    }
    if (runs < 1 || runs > MAX_RUNS || !ops) {
        fprintf(stderr, "guest-boot: RUNS must be 1..%d and OPS > 0\n",
                MAX_RUNS);
        return 2;
    }
    if (optind < argc) {
        emulator = argv[optind++];
    }
    if (optind + 1 < argc) {
        boot_image = argv[optind++];
        vtd_image = argv[optind++];
    }
    if (!*emulator || !*boot_image || !*vtd_image) {
        fprintf(stderr, "guest-boot: no emulator or guest images given (this "
                "build has no guest images)\n");
        return 2;
    }

    fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        printf("guest-boot: /dev/kvm: %s; nothing measured\n",
               strerror(errno));
        return 0;
    }
    close(fd);

    char *boot_argv[] = {
        (char *)emulator, "-machine", "q35", "-accel", "kvm", "-m", "256M",
        "-display", "none", "-serial", "stdio",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
        "-kernel", (char *)boot_image, NULL,
    };
    printf("guest-boot: %s, %d runs of %s\n", emulator, runs, boot_image);
    for (int i = 0; i < runs; i++) {
        if (!run_guest(boot_argv, &r)) {
            return 1;
        }
        if (r.status != PASS_STATUS || r.first_byte < 0) {
            printf("guest-boot: the trivial guest did not pass under KVM "
                   "(exit status %d); nothing measured. stderr:\n%s\n",
                   r.status, r.err);
            return 0;
        }
        first[i] = r.first_byte;
        exits[i] = r.exit;
    }
    print_stats("exec -> first byte", first, runs);
    print_stats("exec -> exit", exits, runs);

    snprintf(append, sizeof(append), "n=%lu", ops);
    char *vtd_argv[] = {
        (char *)emulator, "-machine", "q35", "-accel", "kvm", "-m", "256M",
        "-display", "none", "-serial", "stdio",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
        "-device", "intel-iommu", "-device", "edu",
        "-kernel", (char *)vtd_image, "-append", append, NULL,
    };
    if (!run_guest(vtd_argv, &r)) {
        return 1;
    }
    if (r.status != PASS_STATUS || r.start_line < 0 || r.end_line < 0) {
        printf("guest-boot: %s failed (exit status %d); stderr:\n%s\n",
               vtd_image, r.status, r.err);
        return 1;
    }
    printf("VT-d map/unmap + page-selective invalidation + wait, %lu ops:\n",
           ops);
    printf("  host-timed  %10.0f ops/s (%.2f ms between the marker lines)\n",
           ops / ((r.end_line - r.start_line) / 1e3),
           r.end_line - r.start_line);
    printf("  guest-timed %s\n", r.end_text);
    return 0;
}
