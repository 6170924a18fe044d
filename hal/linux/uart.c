/* The console UART on stdin/stdout, a tty device or a FIFO. */
#include "uart.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "mg_err.h"

/* A descriptor whose file status flags we changed and must put back. */
struct saved_flags {
    int fd;       /* -1: nothing saved */
    int flags;
};

static struct {
    bool open;
    bool eof;
    int rx_fd, tx_fd;
    int own_fd;                      /* what we opened ourselves; -1 for stdio */
    struct saved_flags rx_saved, tx_saved;
    int tty_fd;                      /* -1: no terminal mode to restore */
    struct termios tty_saved;
    struct hal_uart_stats stats;
} uart = { .rx_fd = -1, .tx_fd = -1, .own_fd = -1,
           .rx_saved = { -1, 0 }, .tx_saved = { -1, 0 }, .tty_fd = -1 };

static int save_flags(int fd, struct saved_flags *s)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags < 0)
        return MG_ERR_IO;
    s->fd = fd;
    s->flags = flags;
    return 0;
}

static int set_nonblock(const struct saved_flags *s)
{
    return fcntl(s->fd, F_SETFL, s->flags | O_NONBLOCK) == 0 ? 0 : MG_ERR_IO;
}

static void restore_flags(struct saved_flags *s)
{
    if (s->fd >= 0)
        (void)fcntl(s->fd, F_SETFL, s->flags);
    s->fd = -1;
}

/* Raw input (no line discipline, no echo: the console edits and echoes), but
 * output keeps "\n" -> "\r\n" so nobody above has to know it is a terminal.
 * keep_signals leaves Ctrl-C to the developer's shell when we run on its
 * terminal ("-"); on a serial line Ctrl-C is the console's byte. */
static int make_raw(int fd, bool keep_signals)
{
    struct termios t;

    if (tcgetattr(fd, &uart.tty_saved) != 0)
        return MG_ERR_IO;
    t = uart.tty_saved;
    cfmakeraw(&t);
    t.c_oflag |= OPOST | ONLCR;
    if (keep_signals)
        t.c_lflag |= ISIG;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSANOW, &t) != 0)
        return MG_ERR_IO;
    uart.tty_fd = fd;
    return 0;
}

static int open_stdio(void)
{
    int rc;

    uart.rx_fd = STDIN_FILENO;
    uart.tx_fd = STDOUT_FILENO;
    /* Save both before changing either: on a terminal, stdin and stdout are
     * often one open file description sharing one set of flags. */
    rc = save_flags(STDIN_FILENO, &uart.rx_saved);
    if (rc == 0)
        rc = save_flags(STDOUT_FILENO, &uart.tx_saved);
    if (rc == 0)
        rc = set_nonblock(&uart.rx_saved);
    if (rc == 0)
        rc = set_nonblock(&uart.tx_saved);
    if (rc == 0 && isatty(STDIN_FILENO))
        rc = make_raw(STDIN_FILENO, true);
    return rc;
}

static int open_path(const char *path)
{
    struct stat st;

    uart.own_fd = open(path, O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (uart.own_fd < 0)
        return MG_ERR_IO;
    if (fstat(uart.own_fd, &st) != 0)
        return MG_ERR_IO;
    uart.rx_fd = uart.own_fd;
    if (S_ISFIFO(st.st_mode)) {
        int rc;

        uart.tx_fd = STDOUT_FILENO;
        rc = save_flags(STDOUT_FILENO, &uart.tx_saved);
        return rc ? rc : set_nonblock(&uart.tx_saved);
    }
    if (!S_ISCHR(st.st_mode))
        return MG_ERR_INVAL;
    uart.tx_fd = uart.own_fd;
    return isatty(uart.own_fd) ? make_raw(uart.own_fd, false) : 0;
}

int hal_uart_open(const char *path)
{
    int rc;

    if (!path)
        return MG_ERR_INVAL;
    hal_uart_close();
    memset(&uart.stats, 0, sizeof(uart.stats));
    uart.eof = false;
    uart.open = true;
    rc = strcmp(path, "-") == 0 ? open_stdio() : open_path(path);
    if (rc)
        hal_uart_close();
    return rc;
}

void hal_uart_close(void)
{
    if (uart.tty_fd >= 0)
        (void)tcsetattr(uart.tty_fd, TCSANOW, &uart.tty_saved);
    uart.tty_fd = -1;
    restore_flags(&uart.tx_saved);
    restore_flags(&uart.rx_saved);
    if (uart.own_fd >= 0)
        close(uart.own_fd);
    uart.own_fd = -1;
    uart.rx_fd = -1;
    uart.tx_fd = -1;
    uart.open = false;
}

int hal_uart_read(void *buf, size_t cap)
{
    ssize_t n;

    if (!buf && cap)
        return MG_ERR_INVAL;
    if (!uart.open)
        return MG_ERR_IO;
    if (uart.eof || cap == 0)
        return 0;
    if (cap > INT_MAX)
        cap = INT_MAX;
    n = read(uart.rx_fd, buf, cap);
    if (n > 0) {
        uart.stats.rx_bytes += (unsigned long)n;
        return (int)n;
    }
    if (n == 0) {
        uart.eof = true;
        return 0;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return 0;
    return MG_ERR_IO;
}

bool hal_uart_eof(void)
{
    return uart.eof;
}

int hal_uart_write(const void *buf, size_t len)
{
    const char *p = buf;
    size_t sent = 0;

    if (!buf && len)
        return MG_ERR_INVAL;
    if (!uart.open)
        return MG_ERR_IO;
    if (len > INT_MAX)
        len = INT_MAX;
    /* Keep writing while the line takes bytes; stop at the first "would
     * block", never waiting for it to drain. */
    while (sent < len) {
        ssize_t n = write(uart.tx_fd, p + sent, len - sent);
        if (n > 0) {
            sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        uart.stats.dropped += len - sent;
        uart.stats.tx_bytes += sent;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return MG_ERR_IO;
        return (int)sent;
    }
    uart.stats.tx_bytes += sent;
    return (int)sent;
}

int hal_uart_fd(void)
{
    return uart.open && !uart.eof ? uart.rx_fd : -1;
}

void hal_uart_stats(struct hal_uart_stats *out)
{
    *out = uart.stats;
}
