#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "pool.h"

/* Bytes of whole lines, oldest at `head`, wrapping at the end. */
static char ring[LOG_RING_BYTES];
POOL_DEFINE(log_ring, ring)   /* bytes: `mem` shows how full it has been */
static size_t head, used;
static struct log_stats stats;
static log_sink_fn sink;
static uint64_t boot_ms;   /* stamps count from the first line logged */

void log_set_sink(log_sink_fn s)
{
    sink = s;
}

void log_reset(void)
{
    head = used = 0;
    pool_set_used(&log_ring_pool, 0);
    memset(&stats, 0, sizeof(stats));
}

static void drop_oldest_line(void)
{
    while (used > 0) {
        char c = ring[head];
        head = (head + 1) % sizeof(ring);
        used--;
        if (c == '\n')
            break;
    }
    stats.held--;
    stats.dropped++;
}

static void ring_append(const char *s, size_t n)
{
    size_t tail, first;

    while (sizeof(ring) - used < n)
        drop_oldest_line();
    tail = (head + used) % sizeof(ring);
    first = sizeof(ring) - tail < n ? sizeof(ring) - tail : n;
    memcpy(ring + tail, s, first);
    memcpy(ring, s + first, n - first);
    used += n;
    pool_set_used(&log_ring_pool, used);
    stats.held++;
    stats.lines++;
}

static void write_stdout(const char *s, size_t n)
{
    /* Best effort, like a UART: a full pipe loses log output, not time. */
    ssize_t w = write(1, s, n);
    (void)w;
}

void log_printf(const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    uint64_t ms;
    va_list ap;
    int stamp, n;

    if (!boot_ms)
        boot_ms = hal_clock_ms();
    ms = hal_clock_ms() - boot_ms;
    stamp = snprintf(line, sizeof(line), "[%5llu.%03u] ", (unsigned long long)(ms / 1000),
                     (unsigned)(ms % 1000));
    va_start(ap, fmt);
    n = vsnprintf(line + stamp, sizeof(line) - (size_t)stamp - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    n += stamp;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    ring_append(line, (size_t)n);
    (sink ? sink : write_stdout)(line, (size_t)n);
}

size_t log_replay(size_t lines, log_sink_fn out)
{
    size_t skip = lines && lines < stats.held ? stats.held - lines : 0;
    size_t pos = head, left = used, given = 0;

    while (left > 0) {
        /* One line, possibly in two pieces at the wrap. */
        size_t len = 0, p = pos;
        while (ring[p] != '\n') {
            p = (p + 1) % sizeof(ring);
            len++;
        }
        len++;
        if (skip > 0) {
            skip--;
        } else if (pos + len <= sizeof(ring)) {
            out(ring + pos, len);
            given++;
        } else {
            out(ring + pos, sizeof(ring) - pos);
            out(ring, len - (sizeof(ring) - pos));
            given++;
        }
        pos = (pos + len) % sizeof(ring);
        left -= len;
    }
    return given;
}

void log_get_stats(struct log_stats *out)
{
    *out = stats;
}
