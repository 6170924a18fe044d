/* The serial console: a line editor and a command dispatcher. It knows
 * nothing of the UART: bytes come in through console_input() and every byte
 * of output leaves through the write function given to console_init(), so it
 * never blocks and can be driven by tests.
 *
 * Editing: printable ASCII is appended and echoed; backspace or DEL erases a
 * character; Ctrl-U erases the line; Ctrl-C abandons it; CR, LF or CRLF ends
 * it. Escape sequences (arrow keys) and other bytes are ignored. A finished
 * line is split at spaces into at most CONSOLE_MAX_ARGS arguments and run.
 * Output uses "\n" line ends (the UART turns them into "\r\n" on a tty). */
#ifndef CONSOLE_H
#define CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#define CONSOLE_LINE_MAX  128   /* characters in one command line */
#define CONSOLE_MAX_ARGS  8     /* the command name included */
#define CONSOLE_MAX_CMDS  48    /* registered commands, `help` included */
#define CONSOLE_OUT_MAX   512   /* bytes of one console_printf() */

#define CONSOLE_PROMPT    "> "

typedef void (*console_write_fn)(void *ctx, const char *s, size_t n);

/* A command. The console keeps the pointer: the struct and its strings must
 * live as long as the console (a static const table). args is a usage hint
 * ("<part> [count]"), "" for none. run gets argv[0] = the name and
 * argv[argc] = NULL; the strings are the console's, valid during the call. */
struct console_cmd {
    const char *name;
    const char *args;
    const char *help;
    void (*run)(int argc, char **argv);
};

/* Starts (or restarts) the console: empties the line and the command table,
 * registers `help` and writes the first prompt through write(ctx, ...). */
void console_init(console_write_fn write, void *ctx);

/* Adds cmd to the table. 0; MG_ERR_NOSPC when the table is full;
 * MG_ERR_EXIST if a command has that name; MG_ERR_INVAL for a missing run
 * or a name that is empty, too long for a line or not one word. */
int console_register(const struct console_cmd *cmd);

/* Feeds n received bytes to the line editor; runs each line they complete. */
void console_input(const uint8_t *bytes, size_t n);

/* Writes formatted output (for commands). Output beyond CONSOLE_OUT_MAX
 * bytes is cut off and ends in "...\n". */
void console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Asks a question (for destructive commands): the next line runs yes(arg)
 * if it is exactly "yes", and cancels otherwise. */
void console_confirm(const char *question, void (*yes)(void *arg), void *arg);

/* Writes n bytes as they are (for output longer than one printf). */
void console_write(const char *s, size_t n);

/* For output that is not a command's answer (a request that completed
 * later, a log line): written like the above, then the prompt and the
 * partly typed line are shown again. Inside a command, the same as
 * console_write()/console_printf(). */
void console_async_write(const char *s, size_t n);
void console_async_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
