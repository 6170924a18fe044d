#include "console_service.h"

#include <stddef.h>

#include "board.h"
#include "console.h"
#include "diag/log.h"
#include "mg_err.h"
#include "uart.h"
#include "wait.h"

static const char *uart_path = BOARD_UART_PATH;
static int uart_fd = -1;

void console_service_set_path(const char *path)
{
    uart_path = path;
}

static void uart_out(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    hal_uart_write(s, n);
}

/* Through the console, so log lines keep their order with its output. */
static void log_to_console(const char *s, size_t n)
{
    console_async_write(s, n);
}

static int console_service_init(void)
{
    int i, rc;
    size_t k;

    if (!uart_path)
        return 0;
    rc = hal_uart_open(uart_path);
    if (rc != 0)
        return rc;
    log_set_sink(log_to_console);
    console_init(uart_out, NULL);
    for (i = 0; i < loop_service_count(); i++) {
        const struct service *s = loop_service(i);
        if (!loop_get_stats()->services[i].started)
            continue;   /* a service that did not start answers nothing */
        for (k = 0; k < s->n_commands; k++) {
            rc = console_register(&s->commands[k]);
            if (rc != 0)
                return rc;
        }
    }
    uart_fd = hal_uart_fd();
    return uart_fd >= 0 ? hal_wait_add_fd(uart_fd) : 0;
}

static void console_service_poll(uint64_t now)
{
    uint8_t buf[CONSOLE_RX_BATCH];
    int n;

    (void)now;
    if (uart_fd < 0)
        return;
    n = hal_uart_read(buf, sizeof(buf));
    if (n > 0)
        console_input(buf, (size_t)n);
    if (n < 0 || hal_uart_eof()) {
        /* Input ended (a closed pipe, a hung-up tty): output still works,
         * but nothing more will be read. */
        hal_wait_remove_fd(uart_fd);
        uart_fd = -1;
    }
}

/* No deadline of its own: bytes beyond one batch keep the descriptor
 * readable, so the next wait returns at once. */
const struct service console_service = {
    .name = "console", .init = console_service_init, .poll = console_service_poll,
};
