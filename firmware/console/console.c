/* The console's line editor and command table. */
#include "console.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "mg_err.h"
#include "pool.h"

#define CTRL_C  0x03
#define BS      0x08
#define CTRL_U  0x15
#define ESC     0x1b
#define DEL     0x7f

/* Past this many parameter bytes a CSI sequence is garbage, not a key. */
#define CSI_MAX 32

enum esc_state { ESC_NONE, ESC_START, ESC_CSI, ESC_SS3 };

static const struct console_cmd *cmds[CONSOLE_MAX_CMDS];   /* sorted by name */
POOL_DEFINE(console_cmds, cmds)

static struct {
    console_write_fn write;
    void *ctx;
    char line[CONSOLE_LINE_MAX + 1];
    size_t len;
    size_t overflow;        /* characters typed past CONSOLE_LINE_MAX, not kept */
    bool after_cr;          /* the previous byte was CR: a LF now is the same end */
    enum esc_state esc;
    size_t csi_len;
    size_t n_cmds;
    unsigned in_input;      /* inside console_input(): output is batched */
    char pend[128];         /* echo and output not yet handed to write */
    size_t n_pend;
    char out[CONSOLE_OUT_MAX];
} con;

/* A question waiting for its answer line (console_confirm). */
static struct {
    void (*yes)(void *arg);
    void *arg;
} pending;

static void flush(void)
{
    if (con.n_pend && con.write)
        con.write(con.ctx, con.pend, con.n_pend);
    con.n_pend = 0;
}

/* Echo comes a byte at a time: gather it so the UART sees one write per
 * received chunk, not one per key. */
static void emit(const char *s, size_t n)
{
    if (n > sizeof(con.pend) - con.n_pend)
        flush();
    if (n > sizeof(con.pend)) {
        if (con.write)
            con.write(con.ctx, s, n);
        return;
    }
    memcpy(con.pend + con.n_pend, s, n);
    con.n_pend += n;
    if (!con.in_input)
        flush();
}

static void emit_str(const char *s)
{
    emit(s, strlen(s));
}

void console_write(const char *s, size_t n)
{
    if (s)
        emit(s, n);
}

/* Formats into con.out and emits it; output past CONSOLE_OUT_MAX is cut
 * and ends in "...\n". */
static void emit_vprintf(const char *fmt, va_list ap)
{
    int n = vsnprintf(con.out, sizeof(con.out), fmt, ap);

    if (n < 0)
        return;
    if ((size_t)n >= sizeof(con.out)) {
        n = (int)sizeof(con.out) - 1;
        memcpy(con.out + n - 4, "...\n", 4);
    }
    emit(con.out, (size_t)n);
}

void console_printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emit_vprintf(fmt, ap);
    va_end(ap);
}

/* Outside a command, output interrupts the prompt: show it again after,
 * with whatever had been typed. */
static void reprompt(void)
{
    if (con.in_input || !con.write)
        return;
    emit_str(CONSOLE_PROMPT);
    emit(con.line, con.len);
}

void console_async_write(const char *s, size_t n)
{
    console_write(s, n);
    reprompt();
}

void console_async_printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emit_vprintf(fmt, ap);
    va_end(ap);
    reprompt();
}

static void clear_line(void)
{
    con.len = 0;
    con.overflow = 0;
    con.esc = ESC_NONE;
}

static int find(const char *name)
{
    size_t i;

    for (i = 0; i < con.n_cmds; i++) {
        if (strcmp(cmds[i]->name, name) == 0)
            return (int)i;
    }
    return -1;
}

/* "name args" into buf; its untruncated length. */
static int usage_of(const struct console_cmd *c, char *buf, size_t cap)
{
    const char *args = c->args ? c->args : "";

    return snprintf(buf, cap, "%s%s%s", c->name, *args ? " " : "", args);
}

static void help_run(int argc, char **argv)
{
    char usage[CONSOLE_LINE_MAX + 2];
    int width = 0;
    size_t i;

    (void)argc;
    (void)argv;
    for (i = 0; i < con.n_cmds; i++) {
        int w = usage_of(cmds[i], usage, sizeof(usage));
        if (w > width)
            width = w;
    }
    if (width > 32)
        width = 32;   /* one long usage must not push every help text off screen */
    for (i = 0; i < con.n_cmds; i++) {
        usage_of(cmds[i], usage, sizeof(usage));
        console_printf("  %-*s  %s\n", width, usage, cmds[i]->help ? cmds[i]->help : "");
    }
}

static const struct console_cmd help_cmd = { "help", "", "list commands", help_run };

void console_init(console_write_fn write, void *ctx)
{
    pending.yes = NULL;
    flush();   /* what is pending belongs to the previous writer */
    con.write = write;
    con.ctx = ctx;
    con.after_cr = false;
    clear_line();
    con.n_cmds = 0;
    pool_set_used(&console_cmds_pool, 0);
    console_register(&help_cmd);
    emit_str(CONSOLE_PROMPT);
}

static bool valid_name(const char *name)
{
    size_t i;

    for (i = 0; name[i]; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= ' ' || c >= DEL || i == CONSOLE_LINE_MAX)
            return false;
    }
    return i > 0;
}

int console_register(const struct console_cmd *cmd)
{
    size_t i;

    if (!cmd || !cmd->name || !cmd->run || !valid_name(cmd->name))
        return MG_ERR_INVAL;
    if (find(cmd->name) >= 0)
        return MG_ERR_EXIST;
    if (pool_take(&console_cmds_pool) != 0)
        return MG_ERR_NOSPC;
    /* Insertion keeps the table sorted, so `help` needs no sort buffer. */
    for (i = con.n_cmds; i > 0 && strcmp(cmds[i - 1]->name, cmd->name) > 0; i--)
        cmds[i] = cmds[i - 1];
    cmds[i] = cmd;
    con.n_cmds++;
    return 0;
}

void console_confirm(const char *question, void (*yes)(void *arg), void *arg)
{
    pending.yes = yes;
    pending.arg = arg;
    console_printf("%s\ntype 'yes' to confirm, anything else cancels\n", question);
}

static void run_line(void)
{
    char *argv[CONSOLE_MAX_ARGS + 1];
    char *p = con.line;
    int argc = 0, i;

    con.line[con.len] = '\0';
    if (pending.yes) {
        void (*yes)(void *) = pending.yes;
        pending.yes = NULL;
        if (strcmp(con.line, "yes") == 0)
            yes(pending.arg);
        else
            console_printf("cancelled\n");
        return;
    }
    for (;;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        if (argc == CONSOLE_MAX_ARGS) {
            console_printf("error: too many arguments (max %d)\n", CONSOLE_MAX_ARGS);
            return;
        }
        argv[argc++] = p;
        while (*p && *p != ' ')
            p++;
        if (*p)
            *p++ = '\0';
    }
    argv[argc] = NULL;
    if (argc == 0)
        return;
    i = find(argv[0]);
    if (i < 0) {
        console_printf("error: unknown command '%s' (try 'help')\n", argv[0]);
        return;
    }
    cmds[i]->run(argc, argv);
}

static void end_line(void)
{
    emit_str("\n");
    if (con.overflow)
        console_printf("error: line too long (max %d characters)\n", CONSOLE_LINE_MAX);
    else
        run_line();
    clear_line();
    emit_str(CONSOLE_PROMPT);
}

/* True if c belongs to an escape sequence (and is thereby ignored). Control
 * bytes are never part of one: they end it and keep their own meaning, so a
 * stray ESC cannot swallow the Enter or Ctrl-C after it. */
static bool escape_takes(uint8_t c)
{
    if (con.esc == ESC_NONE)
        return false;
    if (c < 0x20 || c >= DEL) {
        con.esc = ESC_NONE;
        return false;
    }
    switch (con.esc) {
    case ESC_START:
        if (c == '[') {
            con.esc = ESC_CSI;
            con.csi_len = 0;
        } else {
            con.esc = c == 'O' ? ESC_SS3 : ESC_NONE;
        }
        break;
    case ESC_CSI:
        if (c >= 0x40 || ++con.csi_len > CSI_MAX)
            con.esc = ESC_NONE;
        break;
    default:
        con.esc = ESC_NONE;
        break;
    }
    return true;
}

static void take(uint8_t c)
{
    bool was_cr = con.after_cr;

    con.after_cr = false;
    if (escape_takes(c))
        return;
    switch (c) {
    case '\r':
        con.after_cr = true;
        end_line();
        return;
    case '\n':
        if (!was_cr)
            end_line();
        return;
    case BS:
    case DEL:
        if (con.overflow) {
            con.overflow--;   /* those characters were never echoed */
        } else if (con.len) {
            con.len--;
            emit_str("\b \b");
        }
        return;
    case CTRL_U:
        while (con.len) {
            con.len--;
            emit_str("\b \b");
        }
        con.overflow = 0;
        return;
    case CTRL_C:
        emit_str("^C\n");
        clear_line();
        emit_str(CONSOLE_PROMPT);
        return;
    case ESC:
        con.esc = ESC_START;
        return;
    default:
        break;
    }
    if (c < 0x20 || c > 0x7e)
        return;
    if (con.len < CONSOLE_LINE_MAX) {
        con.line[con.len++] = (char)c;
        emit((const char *)&c, 1);
    } else if (con.overflow++ == 0) {
        emit_str("\a");   /* once: the line is full, further keys are not shown */
    }
}

void console_input(const uint8_t *bytes, size_t n)
{
    size_t i;

    if (!bytes)
        return;
    con.in_input++;
    for (i = 0; i < n; i++)
        take(bytes[i]);
    con.in_input--;
    if (!con.in_input)
        flush();
}
