/* The firmware's log: every line goes to the console output as it happens
 * and into a fixed ring, so `log` on the console shows recent history after
 * the fact. When the ring is full the oldest whole lines make room. */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

#define LOG_RING_BYTES 8192
#define LOG_LINE_MAX   200   /* bytes of one line, stamp and newline included */

typedef void (*log_sink_fn)(const char *s, size_t n);

/* Where lines go as they are logged; NULL: standard output. */
void log_set_sink(log_sink_fn sink);

/* Logs one line, "[   12.345] " + text (seconds since the first line); a "\n" is added. A
 * longer line is cut to LOG_LINE_MAX. */
void log_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Calls out() with the newest `lines` lines in order (all when 0); returns
 * the number given. */
size_t log_replay(size_t lines, log_sink_fn out);

struct log_stats {
    unsigned long lines;     /* logged since boot */
    unsigned long dropped;   /* pushed out of the ring by newer lines */
    size_t held;             /* lines in the ring now */
};
void log_get_stats(struct log_stats *out);

/* Empties the ring (tests). */
void log_reset(void);

#endif
