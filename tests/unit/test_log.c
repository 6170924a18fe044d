/* The log ring: lines in order, the oldest whole lines pushed out when full,
 * `log N` replaying only the newest N. */
#include <stdio.h>
#include <string.h>

#include "diag/log.h"
#include "test.h"

static char seen[LOG_RING_BYTES * 2];
static size_t seen_len;
static unsigned sink_calls;

static void collect(const char *s, size_t n)
{
    if (seen_len + n < sizeof(seen)) {
        memcpy(seen + seen_len, s, n);
        seen_len += n;
        seen[seen_len] = '\0';
    }
}

static void count_sink(const char *s, size_t n)
{
    (void)s;
    (void)n;
    sink_calls++;
}

static void start(void)
{
    log_reset();
    log_set_sink(count_sink);
    seen_len = 0;
    seen[0] = '\0';
    sink_calls = 0;
}

/* Counts lines and checks each starts with the uptime stamp "[". */
static int whole_lines(const char *s)
{
    int n = 0;
    const char *p = s;

    while (*p) {
        const char *nl = strchr(p, '\n');
        if (!nl || *p != '[')
            return -1;
        p = nl + 1;
        n++;
    }
    return n;
}

MG_TEST(test_log_lines_go_to_the_sink_and_replay_in_order)
{
    start();
    log_printf("first %d", 1);
    log_printf("second");
    CHECK_EQ(sink_calls, 2);
    CHECK_EQ(log_replay(0, collect), 2);
    CHECK(strstr(seen, "] first 1\n") != NULL);
    CHECK(strstr(seen, "first 1") < strstr(seen, "second"));
    CHECK_EQ(whole_lines(seen), 2);
    log_set_sink(NULL);
}

MG_TEST(test_log_full_ring_drops_oldest_whole_lines)
{
    struct log_stats st;
    int i;

    start();
    for (i = 0; i < 1000; i++)
        log_printf("line %04d padding padding padding", i);
    log_get_stats(&st);
    CHECK_EQ(st.lines, 1000);
    CHECK(st.dropped > 0);
    CHECK_EQ(st.held + st.dropped, 1000);
    CHECK_EQ(log_replay(0, collect), st.held);
    /* Whole lines only, across the wrap, ending with the newest. */
    CHECK_EQ(whole_lines(seen), (int)st.held);
    CHECK(strstr(seen, "line 0999 padding padding padding\n") != NULL);
    CHECK(strstr(seen, "line 0000 ") == NULL);
    log_set_sink(NULL);
}

MG_TEST(test_log_replay_n_gives_the_newest_n)
{
    int i;

    start();
    for (i = 0; i < 600; i++)
        log_printf("entry %d", i);
    CHECK_EQ(log_replay(3, collect), 3);
    CHECK_EQ(whole_lines(seen), 3);
    CHECK(strstr(seen, "entry 597\n") && strstr(seen, "entry 598\n") && strstr(seen, "entry 599\n"));
    CHECK(strstr(seen, "entry 596\n") == NULL);
    log_set_sink(NULL);
}

MG_TEST(test_log_overlong_line_is_cut_not_overflowing)
{
    char big[LOG_LINE_MAX * 2];

    start();
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    log_printf("%s", big);
    CHECK_EQ(log_replay(0, collect), 1);
    CHECK(seen_len <= LOG_LINE_MAX);
    CHECK_EQ(seen[seen_len - 1], '\n');
    log_set_sink(NULL);
}
