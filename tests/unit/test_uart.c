/* The console UART over a pseudo-terminal (the test holds the master side,
 * as a terminal emulator would), a FIFO and a pipe on stdin. Each test
 * cleans up after itself even when a CHECK fails. */
#define _GNU_SOURCE   /* posix_openpt, ptsname_r */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "mg_err.h"
#include "test.h"
#include "uart.h"

static int master = -1;
static char slave[64];

static void with_pty(void (*body)(void))
{
    master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 ||
        ptsname_r(master, slave, sizeof(slave)) != 0 ||
        fcntl(master, F_SETFL, O_NONBLOCK) != 0)
        test_fail(__FILE__, __LINE__, "no pseudo-terminal");
    else
        body();
    hal_uart_close();
    if (master >= 0)
        close(master);
    master = -1;
}

#define PTY_TEST(name)                                                         \
    static void name##_body(void);                                             \
    MG_TEST(name) { with_pty(name##_body); }                                   \
    static void name##_body(void)

static int wait_readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    return poll(&p, 1, 2000) == 1;
}

/* Reads what the terminal side received, waiting up to 2 s for want bytes. */
static size_t master_read(char *buf, size_t want)
{
    size_t got = 0;

    while (got < want && wait_readable(master)) {
        ssize_t n = read(master, buf + got, want - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

PTY_TEST(test_uart_bytes_typed_on_a_tty_arrive_raw_and_are_not_echoed)
{
    static const char typed[] = "ab\r\x03\x7f";
    char buf[16];
    int n;

    CHECK_EQ(hal_uart_open(slave), 0);
    CHECK_EQ(write(master, typed, 5), 5);
    CHECK(wait_readable(hal_uart_fd()));
    n = hal_uart_read(buf, sizeof(buf));
    CHECK_EQ(n, 5);                   /* CR not turned into LF, ^C not a signal */
    CHECK_MEM(buf, typed, 5);
    CHECK_EQ(read(master, buf, sizeof(buf)), -1);   /* no echo by the tty */
}

PTY_TEST(test_uart_read_with_nothing_waiting_returns_zero_at_once)
{
    char buf[4];

    CHECK_EQ(hal_uart_open(slave), 0);
    CHECK_EQ(hal_uart_read(buf, sizeof(buf)), 0);
    CHECK(!hal_uart_eof());
    CHECK(hal_uart_fd() >= 0);
}

PTY_TEST(test_uart_newline_goes_out_as_crlf_on_a_tty)
{
    char buf[8];
    struct hal_uart_stats st;

    CHECK_EQ(hal_uart_open(slave), 0);
    CHECK_EQ(hal_uart_write("ok\n", 3), 3);
    CHECK_EQ(master_read(buf, 4), 4);
    CHECK_MEM(buf, "ok\r\n", 4);
    hal_uart_stats(&st);
    CHECK_EQ(st.tx_bytes, 3);
    CHECK_EQ(st.dropped, 0);
}

PTY_TEST(test_uart_output_the_line_cannot_take_is_dropped_and_counted)
{
    static char chunk[4096];
    struct hal_uart_stats st;
    unsigned long offered = 0;
    int i, n = (int)sizeof(chunk);

    memset(chunk, 'x', sizeof(chunk));
    CHECK_EQ(hal_uart_open(slave), 0);
    /* Nobody reads the terminal side: the line fills up and must not block. */
    for (i = 0; i < 1024 && n == (int)sizeof(chunk); i++) {
        n = hal_uart_write(chunk, sizeof(chunk));
        CHECK(n >= 0);
        offered += sizeof(chunk);
    }
    CHECK(n < (int)sizeof(chunk));
    hal_uart_stats(&st);
    CHECK(st.dropped > 0);
    CHECK_EQ(st.tx_bytes + st.dropped, offered);
}

PTY_TEST(test_uart_close_restores_the_terminal_mode)
{
    struct termios before, during, after;
    int fd = open(slave, O_RDWR | O_NOCTTY);

    CHECK(fd >= 0);
    CHECK_EQ(tcgetattr(fd, &before), 0);
    CHECK_EQ(hal_uart_open(slave), 0);
    CHECK_EQ(tcgetattr(fd, &during), 0);
    hal_uart_close();
    CHECK_EQ(tcgetattr(fd, &after), 0);
    close(fd);
    CHECK(before.c_lflag & ICANON);
    CHECK(!(during.c_lflag & (ICANON | ECHO | ISIG)));
    CHECK_EQ(after.c_lflag, before.c_lflag);
    CHECK_EQ(after.c_iflag, before.c_iflag);
    CHECK_EQ(after.c_oflag, before.c_oflag);
    CHECK_EQ(hal_uart_fd(), -1);
}

MG_TEST(test_uart_closed_console_refuses_with_io_and_has_no_fd)
{
    char buf[1];

    hal_uart_close();
    CHECK_EQ(hal_uart_read(buf, 1), MG_ERR_IO);
    CHECK_EQ(hal_uart_write("x", 1), MG_ERR_IO);
    CHECK_EQ(hal_uart_fd(), -1);
    CHECK_EQ(hal_uart_open(NULL), MG_ERR_INVAL);
    CHECK_EQ(hal_uart_open("/nonexistent/tty"), MG_ERR_IO);
}

static char dir[64], path[96];

static void with_dir(void (*body)(void))
{
    strcpy(dir, "/tmp/mg-uart-XXXXXX");
    if (!mkdtemp(dir)) {
        test_fail(__FILE__, __LINE__, "mkdtemp failed");
        return;
    }
    snprintf(path, sizeof(path), "%s/console", dir);
    body();
    hal_uart_close();
    unlink(path);
    rmdir(dir);
}

static void fifo_input_is_read(void)
{
    char buf[8];
    int w;

    CHECK_EQ(mkfifo(path, 0600), 0);
    CHECK_EQ(hal_uart_open(path), 0);
    w = open(path, O_WRONLY | O_NONBLOCK);
    CHECK(w >= 0);
    CHECK_EQ(write(w, "help\r", 5), 5);
    close(w);
    CHECK(wait_readable(hal_uart_fd()));
    CHECK_EQ(hal_uart_read(buf, sizeof(buf)), 5);
    CHECK_MEM(buf, "help\r", 5);
    /* The console holds the FIFO open itself: a writer leaving is no EOF. */
    CHECK_EQ(hal_uart_read(buf, sizeof(buf)), 0);
    CHECK(!hal_uart_eof());
}

MG_TEST(test_uart_fifo_input_is_read_and_a_writer_leaving_is_not_the_end)
{
    with_dir(fifo_input_is_read);
}

static void regular_file_is_refused(void)
{
    int fd = open(path, O_WRONLY | O_CREAT, 0600);

    CHECK(fd >= 0);
    close(fd);
    CHECK_EQ(hal_uart_open(path), MG_ERR_INVAL);
    CHECK_EQ(hal_uart_fd(), -1);
}

MG_TEST(test_uart_regular_file_is_refused)
{
    with_dir(regular_file_is_refused);
}

static int saved_stdin = -1;

static void stdin_eof(void)
{
    int p[2], flags;
    char buf[8];

    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
    close(p[0]);
    flags = fcntl(STDIN_FILENO, F_GETFL);
    CHECK_EQ(write(p[1], "ok", 2), 2);
    close(p[1]);

    CHECK_EQ(hal_uart_open("-"), 0);
    CHECK(fcntl(STDIN_FILENO, F_GETFL) & O_NONBLOCK);
    CHECK_EQ(hal_uart_fd(), STDIN_FILENO);
    CHECK_EQ(hal_uart_read(buf, sizeof(buf)), 2);
    CHECK_EQ(hal_uart_read(buf, sizeof(buf)), 0);
    CHECK(hal_uart_eof());
    CHECK_EQ(hal_uart_fd(), -1);
    CHECK_EQ(hal_uart_read(buf, sizeof(buf)), 0);
    hal_uart_close();
    CHECK_EQ(fcntl(STDIN_FILENO, F_GETFL), flags);
}

MG_TEST(test_uart_end_of_stdin_is_reported_and_its_fd_leaves_the_poll_set)
{
    int filler = -1;

    /* With stdin closed, pipe() would hand out fd 0 itself: fill it first. */
    saved_stdin = dup(STDIN_FILENO);
    if (saved_stdin < 0)
        filler = open("/dev/null", O_RDONLY);
    stdin_eof();
    hal_uart_close();
    if (saved_stdin >= 0) {
        dup2(saved_stdin, STDIN_FILENO);
        close(saved_stdin);
    } else if (filler >= 0) {
        close(STDIN_FILENO);
    }
}
