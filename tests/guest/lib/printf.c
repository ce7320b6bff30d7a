/*
 * Formatted output to COM1 (16550 at 0x3f8, control_boot_facts F.2) and
 * into buffers.  One formatter writes through a sink callback.
 */
#include "guest.h"

#define COM1 0x3f8
#define UART_LSR 5
#define UART_LSR_THRE 0x20

struct sink {
    void (*put)(struct sink *s, char c);
    char *buf;
    size_t size, len;
};

void putchar_serial(char c)
{
    /* Bounded wait: the emulated UART's THRE is always set. */
    for (int i = 0; i < 100000 && !(inb(COM1 + UART_LSR) & UART_LSR_THRE);
         i++) {
        cpu_relax();
    }
    outb(COM1, (uint8_t)c);
}

void puts_serial(const char *s)
{
    for (; *s; s++) {
        if (*s == '\n') {
            putchar_serial('\r');
        }
        putchar_serial(*s);
    }
}

static void sink_serial(struct sink *s, char c)
{
    if (c == '\n') {
        putchar_serial('\r');
    }
    putchar_serial(c);
    s->len++;
}

static void sink_buf(struct sink *s, char c)
{
    if (s->len + 1 < s->size) {
        s->buf[s->len] = c;
    }
    s->len++;
}

static void emit_padded(struct sink *s, const char *str, size_t n, int width,
                        bool left, char pad, bool neg)
{
    int fill = width - (int)n - (neg ? 1 : 0);

    if (neg && pad == '0') {
        s->put(s, '-');
    }
    if (!left) {
        for (; fill > 0; fill--) {
            s->put(s, pad);
        }
    }
    if (neg && pad != '0') {
        s->put(s, '-');
    }
    for (size_t i = 0; i < n; i++) {
        s->put(s, str[i]);
    }
    for (; left && fill > 0; fill--) {
        s->put(s, ' ');
    }
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
    static const char digits_lo[] = "0123456789abcdef";
    static const char digits_up[] = "0123456789ABCDEF";

    for (; *fmt; fmt++) {
        bool left = false, neg = false;
        char pad = ' ';
        int width = 0, lng = 0;
        unsigned long long u;
        unsigned int base = 10;
        const char *digits = digits_lo;
        char tmp[24];
        size_t n = 0;

        if (*fmt != '%') {
            s->put(s, *fmt);
            continue;
        }
        fmt++;
        for (;; fmt++) {
            if (*fmt == '-') {
                left = true;
            } else if (*fmt == '0') {
                pad = '0';
            } else {
                break;
            }
        }
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                left = true;
                width = -width;
            }
            fmt++;
        }
        for (; *fmt >= '0' && *fmt <= '9'; fmt++) {
            width = width * 10 + (*fmt - '0');
        }
        if (left) {
            pad = ' ';
        }
        for (;; fmt++) {
            if (*fmt == 'l') {
                lng++;
            } else if (*fmt == 'z') {
                lng = 1;
            } else if (*fmt != 'h') {
                break;
            }
        }
        switch (*fmt) {
        case '\0':
            return;
        case '%':
            s->put(s, '%');
            continue;
        case 'c':
            tmp[0] = (char)va_arg(ap, int);
            emit_padded(s, tmp, 1, width, left, ' ', false);
            continue;
        case 's': {
            const char *str = va_arg(ap, const char *);

            if (!str) {
                str = "(null)";
            }
            emit_padded(s, str, strlen(str), width, left, ' ', false);
            continue;
        }
        case 'd':
        case 'i': {
            long long v = lng ? va_arg(ap, long long) : va_arg(ap, int);

            neg = v < 0;
            u = neg ? 0ULL - (unsigned long long)v : (unsigned long long)v;
            break;
        }
        case 'p':
            u = (uintptr_t)va_arg(ap, void *);
            base = 16;
            s->put(s, '0');
            s->put(s, 'x');
            width = width > 2 ? width - 2 : 0;
            break;
        case 'X':
            digits = digits_up;
            /* fall through */
        case 'x':
            base = 16;
            /* fall through */
        case 'o':
            if (*fmt == 'o') {
                base = 8;
            }
            /* fall through */
        case 'u':
            u = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
            break;
        default:
            s->put(s, '%');
            s->put(s, *fmt);
            continue;
        }
        do {
            tmp[sizeof(tmp) - 1 - n++] = digits[u % base];
            u /= base;
        } while (u);
        emit_padded(s, tmp + sizeof(tmp) - n, n, width, left, pad, neg);
    }
}

int vprintf(const char *fmt, va_list ap)
{
    struct sink s = { .put = sink_serial };

    format(&s, fmt, ap);
    return (int)s.len;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct sink s = { .put = sink_buf, .buf = buf, .size = size };

    format(&s, fmt, ap);
    if (size) {
        buf[s.len < size ? s.len : size - 1] = '\0';
    }
    return (int)s.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
