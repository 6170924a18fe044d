/* The console UART. Reads never wait and writes never hold the superloop:
 * what the line cannot take now is dropped and counted, as a real UART's
 * small FIFO would. The loop polls hal_uart_fd() for input.
 *
 * Backends by path: "-" is the process's stdin and stdout; a tty device is
 * put in raw mode (input bytes arrive as typed, the console does its own
 * echo and editing; output keeps "\n" -> "\r\n"); a FIFO is read for input
 * while output goes to stdout, since writing into the FIFO we read would
 * feed our own echo back to us. */
#ifndef HAL_UART_H
#define HAL_UART_H

#include <stdbool.h>
#include <stddef.h>

struct hal_uart_stats {
    unsigned long rx_bytes;
    unsigned long tx_bytes;
    unsigned long dropped;   /* output bytes the line could not take */
};

/* Opens the console on path ("-", a tty or a FIFO; the string is not kept)
 * and makes its descriptors non-blocking, remembering their modes for
 * hal_uart_close(). Closes a console already open. MG_ERR_IO if the path
 * cannot be opened or set up, MG_ERR_INVAL for NULL or a path that is
 * neither a character device nor a FIFO. */
int hal_uart_open(const char *path);

/* Restores the terminal mode and descriptor flags hal_uart_open() changed
 * (the shell that started us shares them), and closes what it opened. */
void hal_uart_close(void);

/* Copies up to cap received bytes into buf. Returns their number, 0 when
 * nothing is waiting or at end of input, MG_ERR_IO on error or when not
 * open, MG_ERR_INVAL for a NULL buf. */
int hal_uart_read(void *buf, size_t cap);

/* True once a read has seen the end of input (the writer of stdin's pipe
 * closed it, stdin is /dev/null, a hung-up tty). */
bool hal_uart_eof(void);

/* Sends len bytes as far as the line takes them now; the rest is dropped and
 * counted. Returns the number of bytes sent, MG_ERR_IO on error or when not
 * open, MG_ERR_INVAL for a NULL buf. */
int hal_uart_write(const void *buf, size_t len);

/* The descriptor to poll for input; -1 when closed or after the end of
 * input (poll(2) skips negative descriptors, so an ended stdin cannot keep
 * waking the loop). */
int hal_uart_fd(void);

void hal_uart_stats(struct hal_uart_stats *out);

#endif
