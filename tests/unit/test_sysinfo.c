/* The sysinfo readers against this machine's /proc (under qemu-user that is
 * the host's, which is fine) and against fixture files written into a
 * temporary directory, and the busy-percent arithmetic. Each fixture test
 * puts the root back to /proc and removes its files even when a CHECK
 * fails. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mg_err.h"
#include "sysinfo.h"
#include "test.h"

#define BUF HAL_SYSINFO_BUF_SIZE

/* --- this machine ---------------------------------------------------------- */

MG_TEST(test_sysinfo_this_machine_has_been_up_and_has_memory)
{
    struct hal_sysinfo_mem mem;
    uint64_t up = 0;

    hal_sysinfo_set_root(NULL);
    CHECK_EQ(hal_sysinfo_uptime(&up), MG_OK);
    CHECK(up > 0);
    CHECK_EQ(hal_sysinfo_mem(&mem), MG_OK);
    CHECK(mem.available_kb > 0);
    CHECK(mem.total_kb > mem.available_kb);
    CHECK(mem.free_kb > 0);
    CHECK(mem.free_kb <= mem.total_kb);
}

MG_TEST(test_sysinfo_this_machine_has_load_and_cpu_time_that_only_grows)
{
    struct hal_sysinfo_load load;
    struct hal_sysinfo_cpu a, b;
    volatile unsigned long spin;
    int busy;

    hal_sysinfo_set_root(NULL);
    CHECK_EQ(hal_sysinfo_load(&load), MG_OK);
    CHECK_EQ(hal_sysinfo_cpu(&a), MG_OK);
    CHECK(a.user + a.system + a.idle > 0);
    for (spin = 0; spin < 2000000; spin++)
        ;
    CHECK_EQ(hal_sysinfo_cpu(&b), MG_OK);
    CHECK(b.user >= a.user);
    CHECK(b.system >= a.system);
    CHECK(b.idle >= a.idle);
    busy = hal_sysinfo_cpu_busy_x100(&a, &b);
    CHECK(busy == MG_ERR_AGAIN || (busy >= 0 && busy <= 10000));
}

MG_TEST(test_sysinfo_this_process_is_resident_and_its_peak_is_no_lower)
{
    struct hal_sysinfo_self self;

    hal_sysinfo_set_root(NULL);
    CHECK_EQ(hal_sysinfo_self(&self), MG_OK);
    CHECK(self.rss_kb > 0);
    CHECK(self.hwm_kb >= self.rss_kb);
}

/* --- fixtures -------------------------------------------------------------- */

static char dir[64];
static const char *const files[] = { "uptime", "loadavg", "meminfo", "stat",
                                      "self/status", "net/dev" };

static int put(const char *name, const char *text, size_t len)
{
    char path[128];
    ssize_t n;
    int fd;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return -1;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    n = write(fd, text, len);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

static int put_str(const char *name, const char *text)
{
    return put(name, text, strlen(text));
}

static void with_fixtures(void (*body)(void))
{
    char path[128];
    size_t i;

    strcpy(dir, "/tmp/mg-sysinfo-XXXXXX");
    if (!mkdtemp(dir)) {
        test_fail(__FILE__, __LINE__, "mkdtemp failed");
        return;
    }
    snprintf(path, sizeof(path), "%s/net", dir);
    if (mkdir(path, 0700) != 0)
        test_fail(__FILE__, __LINE__, "mkdir %s failed", path);
    snprintf(path, sizeof(path), "%s/self", dir);
    if (mkdir(path, 0700) != 0) {
        test_fail(__FILE__, __LINE__, "mkdir %s failed", path);
    } else {
        hal_sysinfo_set_root(dir);
        body();
    }
    hal_sysinfo_set_root(NULL);
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/self", dir);
    rmdir(path);
    snprintf(path, sizeof(path), "%s/net", dir);
    rmdir(path);
    rmdir(dir);
}

#define FIXTURE_TEST(name)                                                     \
    static void name##_body(void);                                             \
    MG_TEST(name) { with_fixtures(name##_body); }                              \
    static void name##_body(void)

/* Reads the figures kept in file name with their reader, into an output
 * filled with 0xA5 first; *untouched says whether it still is. */
static int read_named(const char *name, bool *untouched)
{
    union {
        uint64_t secs;
        struct hal_sysinfo_load load;
        struct hal_sysinfo_mem mem;
        struct hal_sysinfo_cpu cpu;
        struct hal_sysinfo_self self;
        struct hal_sysinfo_net net;
    } out, fresh;
    int rc = MG_ERR_INVAL;

    memset(&out, 0xA5, sizeof(out));
    memcpy(&fresh, &out, sizeof(out));
    if (strcmp(name, "uptime") == 0)
        rc = hal_sysinfo_uptime(&out.secs);
    else if (strcmp(name, "loadavg") == 0)
        rc = hal_sysinfo_load(&out.load);
    else if (strcmp(name, "meminfo") == 0)
        rc = hal_sysinfo_mem(&out.mem);
    else if (strcmp(name, "stat") == 0)
        rc = hal_sysinfo_cpu(&out.cpu);
    else if (strcmp(name, "self/status") == 0)
        rc = hal_sysinfo_self(&out.self);
    else if (strcmp(name, "net/dev") == 0)
        rc = hal_sysinfo_net(&out.net);
    *untouched = memcmp(&out, &fresh, sizeof(out)) == 0;
    return rc;
}

/* A file built up in a static buffer, for contents longer than BUF. */
static char big[5 * BUF];
static size_t big_len;
static bool big_overflow;

static void big_reset(void)
{
    big_len = 0;
    big_overflow = false;
}

static void big_add(const char *s)
{
    size_t n = strlen(s);

    if (n > sizeof(big) - big_len) {
        big_overflow = true;
        return;
    }
    memcpy(big + big_len, s, n);
    big_len += n;
}

static void big_fill(char ch, size_t n)
{
    if (n > sizeof(big) - big_len) {
        big_overflow = true;
        return;
    }
    memset(big + big_len, ch, n);
    big_len += n;
}

/* --- exact figures from fixture files -------------------------------------- */

FIXTURE_TEST(test_sysinfo_uptime_is_the_whole_seconds_of_the_first_field)
{
    uint64_t up = 0;

    CHECK_EQ(put_str("uptime", "350735.97 234388.90\n"), 0);
    CHECK_EQ(hal_sysinfo_uptime(&up), MG_OK);
    CHECK_EQ(up, 350735);
}

FIXTURE_TEST(test_sysinfo_load_averages_come_as_hundredths)
{
    struct hal_sysinfo_load load;

    CHECK_EQ(put_str("loadavg", "0.20 1.05 12.50 1/80 11206\n"), 0);
    CHECK_EQ(hal_sysinfo_load(&load), MG_OK);
    CHECK_EQ(load.avg1_x100, 20);
    CHECK_EQ(load.avg5_x100, 105);
    CHECK_EQ(load.avg15_x100, 1250);
}

FIXTURE_TEST(test_sysinfo_meminfo_gives_total_available_and_free_whatever_else_is_there)
{
    struct hal_sysinfo_mem mem;

    CHECK_EQ(put_str("meminfo",
                     "MemTotal:       16314464 kB\n"
                     "MemFree:          943212 kB\n"
                     "MemAvailable:    9632188 kB\n"
                     "Buffers:          712340 kB\n"
                     "HugePages_Total:       0\n"
                     "a line no kernel writes\n"
                     "Hugepagesize:       2048 kB\n"), 0);
    CHECK_EQ(hal_sysinfo_mem(&mem), MG_OK);
    CHECK_EQ(mem.total_kb, 16314464);
    CHECK_EQ(mem.available_kb, 9632188);
    CHECK_EQ(mem.free_kb, 943212);
}

FIXTURE_TEST(test_sysinfo_cpu_is_the_aggregate_line_and_not_a_single_cpu)
{
    struct hal_sysinfo_cpu cpu;

    CHECK_EQ(put_str("stat",
                     "cpu0 1 2 3 4 5 6 7 8 9 10\n"
                     "cpu  10132153 290696 3084719 46828483 16683 11 25195 7 3 1\n"
                     "intr 1234 0 0 9\n"
                     "ctxt 99\n"), 0);
    CHECK_EQ(hal_sysinfo_cpu(&cpu), MG_OK);
    CHECK_EQ(cpu.user, 10132153);
    CHECK_EQ(cpu.nice, 290696);
    CHECK_EQ(cpu.system, 3084719);
    CHECK_EQ(cpu.idle, 46828483);
    CHECK_EQ(cpu.iowait, 16683);
    CHECK_EQ(cpu.irq, 11);
    CHECK_EQ(cpu.softirq, 25195);
    CHECK_EQ(cpu.steal, 7);
}

FIXTURE_TEST(test_sysinfo_cpu_counters_past_32_bits_are_kept_whole)
{
    struct hal_sysinfo_cpu cpu;

    /* An older kernel's line: eight fields, no guest time. */
    CHECK_EQ(put_str("stat", "cpu  4294967296123 1 2 18446744073709551615 4 5 6 "
                             "8589934592\n"), 0);
    CHECK_EQ(hal_sysinfo_cpu(&cpu), MG_OK);
    CHECK(cpu.user == 4294967296123ull);
    CHECK(cpu.idle == UINT64_MAX);
    CHECK(cpu.steal == 8589934592ull);
}

FIXTURE_TEST(test_sysinfo_self_gives_resident_and_high_water_kb)
{
    struct hal_sysinfo_self self;

    CHECK_EQ(put_str("self/status",
                     "Name:\tmeshgate\n"
                     "State:\tR (running)\n"
                     "VmPeak:\t   12000 kB\n"
                     "VmHWM:\t    5120 kB\n"
                     "VmRSS:\t    4096 kB\n"
                     "Threads:\t1\n"), 0);
    CHECK_EQ(hal_sysinfo_self(&self), MG_OK);
    CHECK_EQ(self.hwm_kb, 5120);
    CHECK_EQ(self.rss_kb, 4096);
}

/* --- missing, malformed and cut-short files -------------------------------- */

FIXTURE_TEST(test_sysinfo_missing_files_are_noent_and_leave_the_output_alone)
{
    bool untouched = false;
    size_t i;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        int rc = read_named(files[i], &untouched);

        if (rc != MG_ERR_NOENT || !untouched) {
            test_fail(__FILE__, __LINE__, "%s: %s, output %s", files[i],
                      mg_strerror(rc), untouched ? "untouched" : "written");
            return;
        }
    }
}

static const struct {
    const char *file, *text;
} damaged[] = {
    { "uptime", "" },
    { "uptime", "abc\n" },
    { "uptime", "350735\n" },
    { "uptime", "350735.47\n" },
    { "uptime", "-5.00 1.00\n" },
    { "uptime", "+5.00 1.00\n" },
    { "uptime", "350735.47 234388.90" },            /* cut before its newline */
    { "uptime", "99999999999999999999.00 1.00\n" },  /* past 2^64 */
    { "uptime", "1.50 2.50 3\n" },
    { "loadavg", "0.20 0.18\n" },
    { "loadavg", "0.20 0.18 0.1" },
    { "loadavg", "0.20 0.18 0.12 1/80\n" },
    { "loadavg", "a.bc 0.18 0.12 1/80 11206\n" },
    { "loadavg", "0.20 0.18 0.12 1/80 11206 x\n" },
    { "loadavg", "50000000.00 0.18 0.12 1/80 11206\n" },  /* x100 past 32 bits */
    { "meminfo", "" },
    { "meminfo", "MemTotal: 100 kB\nMemFree: 50 kB\n" },
    { "meminfo", "MemTotal: 12x kB\nMemFree: 1 kB\nMemAvailable: 1 kB\n" },
    { "meminfo", "MemTotal: -5 kB\nMemFree: 1 kB\nMemAvailable: 1 kB\n" },
    { "meminfo", "MemTotal: 100 MB\nMemFree: 1 kB\nMemAvailable: 1 kB\n" },
    { "meminfo", "MemTotal: 100 kB\nMemFree: 50 kB\nMemAvailable: 7" },
    { "meminfo", "MemTotal: 100 kB\nMemFree: 50 kB\nMemAvailable:\n" },
    { "stat", "cpu  1 2 3\n" },
    { "stat", "cpu  1 2 3 4 5 6 7\n" },
    { "stat", "cpu0 1 2 3 4 5 6 7 8\n" },
    { "stat", "cpu  1 2 3 4 5 6 7 8 x\n" },
    { "stat", "cpu  1 2 3 4 5 6 7 18446744073709551616\n" },
    { "stat", "cpu  1 2 3 4 5 6 7 8" },
    { "self/status", "VmRSS:\t 100 kB\n" },
    { "self/status", "VmHWM:\t 100 kB\nVmRSS:\t kB\n" },
};

FIXTURE_TEST(test_sysinfo_malformed_or_cut_short_files_are_corrupt_and_leave_the_output_alone)
{
    bool untouched = false;
    size_t i;

    for (i = 0; i < sizeof(damaged) / sizeof(damaged[0]); i++) {
        int rc;

        CHECK_EQ(put_str(damaged[i].file, damaged[i].text), 0);
        rc = read_named(damaged[i].file, &untouched);
        if (rc != MG_ERR_CORRUPT || !untouched) {
            test_fail(__FILE__, __LINE__, "%s \"%s\": %s, output %s", damaged[i].file,
                      damaged[i].text, mg_strerror(rc),
                      untouched ? "untouched" : "written");
            return;
        }
    }
}

MG_TEST(test_sysinfo_root_too_long_for_a_path_is_toobig)
{
    static char deep[400];
    uint64_t up;

    memset(deep, 'a', sizeof(deep) - 1);
    deep[0] = '/';
    hal_sysinfo_set_root(deep);
    CHECK_EQ(hal_sysinfo_uptime(&up), MG_ERR_TOOBIG);
    hal_sysinfo_set_root(NULL);
    CHECK_EQ(hal_sysinfo_uptime(&up), MG_OK);
}

MG_TEST(test_sysinfo_null_outputs_are_refused)
{
    CHECK_EQ(hal_sysinfo_uptime(NULL), MG_ERR_INVAL);
    CHECK_EQ(hal_sysinfo_load(NULL), MG_ERR_INVAL);
    CHECK_EQ(hal_sysinfo_mem(NULL), MG_ERR_INVAL);
    CHECK_EQ(hal_sysinfo_cpu(NULL), MG_ERR_INVAL);
    CHECK_EQ(hal_sysinfo_self(NULL), MG_ERR_INVAL);
}

/* --- files larger than the buffer ------------------------------------------ */

FIXTURE_TEST(test_sysinfo_meminfo_keys_far_past_the_buffer_are_found)
{
    struct hal_sysinfo_mem mem;
    char line[64];
    int i;

    big_reset();
    big_add("MemTotal:        2048000 kB\n");
    for (i = 0; big_len < 3 * BUF; i++) {
        snprintf(line, sizeof(line), "Filler%05d:      %8d kB\n", i, i);
        big_add(line);
    }
    big_add("MemFree:          100000 kB\n");
    big_add("MemAvailable:     512000 kB\n");
    CHECK(!big_overflow);
    CHECK_EQ(put("meminfo", big, big_len), 0);
    CHECK_EQ(hal_sysinfo_mem(&mem), MG_OK);
    CHECK_EQ(mem.total_kb, 2048000);
    CHECK_EQ(mem.free_kb, 100000);
    CHECK_EQ(mem.available_kb, 512000);
}

FIXTURE_TEST(test_sysinfo_a_wanted_line_split_across_two_reads_is_found_whole)
{
    static const char head[] = "MemTotal: 1 kB\nMemFree: 2 kB\nPad: ";
    static const char tail[] = "MemAvailable:   3456789 kB\n";
    struct hal_sysinfo_mem mem;
    size_t at;

    /* The last line starts at every offset from where it ends just inside
     * the first read to where it starts just past it. */
    for (at = BUF - sizeof(tail); at <= BUF + 1; at++) {
        big_reset();
        big_add(head);
        big_fill('x', at - 1 - big_len);
        big_add("\n");
        big_add(tail);
        CHECK(!big_overflow);
        CHECK_EQ(put("meminfo", big, big_len), 0);
        CHECK_EQ(hal_sysinfo_mem(&mem), MG_OK);
        CHECK_EQ(mem.available_kb, 3456789);
        CHECK_EQ(mem.total_kb, 1);
    }
}

FIXTURE_TEST(test_sysinfo_unwanted_lines_longer_than_the_buffer_are_skipped)
{
    static const size_t lengths[] = { BUF - 1, BUF, BUF + 1, 2 * BUF, 3 * BUF + 7 };
    struct hal_sysinfo_cpu cpu;
    size_t i;

    /* An "intr" line this long is what /proc/stat has on a large machine. */
    for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        big_reset();
        big_add("intr ");
        big_fill('7', lengths[i] - 5);
        big_add("\ncpu  1 2 3 4 5 6 7 8 0 0\nctxt 99\n");
        CHECK(!big_overflow);
        CHECK_EQ(put("stat", big, big_len), 0);
        memset(&cpu, 0, sizeof(cpu));
        CHECK_EQ(hal_sysinfo_cpu(&cpu), MG_OK);
        CHECK_EQ(cpu.user, 1);
        CHECK_EQ(cpu.steal, 8);
    }
}

FIXTURE_TEST(test_sysinfo_the_tail_of_an_overlong_line_is_not_taken_for_a_line)
{
    struct hal_sysinfo_mem mem;

    /* The long line's text after the first BUF bytes reads like a line. */
    big_reset();
    big_add("Pad: ");
    big_fill('x', BUF - big_len);
    big_add("MemTotal: 999 kB\n"
            "MemTotal: 1 kB\nMemFree: 2 kB\nMemAvailable: 3 kB\n");
    CHECK(!big_overflow);
    CHECK_EQ(put("meminfo", big, big_len), 0);
    CHECK_EQ(hal_sysinfo_mem(&mem), MG_OK);
    CHECK_EQ(mem.total_kb, 1);
}

FIXTURE_TEST(test_sysinfo_a_wanted_line_longer_than_the_buffer_is_corrupt)
{
    struct hal_sysinfo_mem mem;

    big_reset();
    big_add("MemTotal:");
    big_fill(' ', BUF);
    big_add("1024 kB\nMemFree: 1 kB\nMemAvailable: 1 kB\n");
    CHECK(!big_overflow);
    CHECK_EQ(put("meminfo", big, big_len), 0);
    CHECK_EQ(hal_sysinfo_mem(&mem), MG_ERR_CORRUPT);
}

/* --- busy percent ---------------------------------------------------------- */

MG_TEST(test_sysinfo_busy_is_the_share_of_non_idle_ticks_in_hundredths)
{
    struct hal_sysinfo_cpu a = { 1000, 10, 500, 9000, 40, 3, 7, 0 };
    struct hal_sysinfo_cpu b = a;

    b.user += 100;
    b.idle += 300;
    CHECK_EQ(hal_sysinfo_cpu_busy_x100(&a, &b), 2500);
}

MG_TEST(test_sysinfo_busy_counts_irq_and_steal_but_not_iowait)
{
    struct hal_sysinfo_cpu a = { 0, 0, 0, 0, 0, 0, 0, 0 };
    struct hal_sysinfo_cpu b = { 1, 1, 1, 2, 2, 1, 1, 1 };

    CHECK_EQ(hal_sysinfo_cpu_busy_x100(&a, &b), 6000);
}

MG_TEST(test_sysinfo_busy_runs_from_all_idle_to_all_busy)
{
    struct hal_sysinfo_cpu a = { 5, 5, 5, 5, 5, 5, 5, 5 };
    struct hal_sysinfo_cpu b = a;

    b.idle += 250;
    b.iowait += 3;
    CHECK_EQ(hal_sysinfo_cpu_busy_x100(&a, &b), 0);
    b = a;
    b.system += 1;
    CHECK_EQ(hal_sysinfo_cpu_busy_x100(&a, &b), 10000);
    b.user += 2;
    b.idle += 1;
    CHECK_EQ(hal_sysinfo_cpu_busy_x100(&a, &b), 7500);
}

MG_TEST(test_sysinfo_busy_with_no_tick_between_samples_asks_to_try_later)
{
    struct hal_sysinfo_cpu a = { 1000, 10, 500, 9000, 40, 3, 7, 2 };

    CHECK_EQ(hal_sysinfo_cpu_busy_x100(&a, &a), MG_ERR_AGAIN);
}

MG_TEST(test_sysinfo_busy_ignores_a_counter_that_went_backwards)
{
    struct hal_sysinfo_cpu a = { 1000, 10, 500, 9000, 40, 3, 7, 2 };
    struct hal_sysinfo_cpu b = a;

    b.user += 50;
    b.idle += 50;
    b.iowait -= 5;   /* proc(5): iowait may decrease */
    CHECK_EQ(hal_sysinfo_cpu_busy_x100(&a, &b), 5000);
    /* Only counters going backwards: no tick passed. */
    b = a;
    b.idle -= 1;
    CHECK_EQ(hal_sysinfo_cpu_busy_x100(&a, &b), MG_ERR_AGAIN);
}

MG_TEST(test_sysinfo_busy_treats_a_wrapped_counter_as_no_progress)
{
    struct hal_sysinfo_cpu a = { UINT64_MAX - 9, 0, 0, 100, 0, 0, 0, 0 };
    struct hal_sysinfo_cpu b = { 5, 0, 0, 200, 0, 0, 0, 0 };

    /* Ambiguous with a reset, and 2^64 ticks never pass: the 15 wrapped
     * ticks are dropped rather than guessed. */
    CHECK_EQ(hal_sysinfo_cpu_busy_x100(&a, &b), 0);
}

MG_TEST(test_sysinfo_busy_over_huge_deltas_does_not_overflow)
{
    struct hal_sysinfo_cpu a = { 0, 0, 0, 0, 0, 0, 0, 0 };
    struct hal_sysinfo_cpu b = { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX,
                                 UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX };
    struct hal_sysinfo_cpu c = { UINT64_MAX / 3, 0, 0, UINT64_MAX / 3, 0, 0, 0, 0 };

    int r;

    /* Scaled down to fit, so the last hundredth may be lost to rounding. */
    r = hal_sysinfo_cpu_busy_x100(&a, &b);
    CHECK(r >= 7499 && r <= 7500);
    r = hal_sysinfo_cpu_busy_x100(&a, &c);
    CHECK(r >= 4999 && r <= 5000);
}

MG_TEST(test_sysinfo_busy_refuses_null_samples)
{
    struct hal_sysinfo_cpu a = { 0, 0, 0, 0, 0, 0, 0, 0 };

    CHECK_EQ(hal_sysinfo_cpu_busy_x100(NULL, &a), MG_ERR_INVAL);
    CHECK_EQ(hal_sysinfo_cpu_busy_x100(&a, NULL), MG_ERR_INVAL);
}

/* --- swap and network ------------------------------------------------------ */

MG_TEST(test_sysinfo_this_machine_has_swap_figures_and_network_counters)
{
    struct hal_sysinfo_swap w;
    struct hal_sysinfo_net n;

    hal_sysinfo_set_root(NULL);
    CHECK_EQ(hal_sysinfo_swap(&w), MG_OK);
    CHECK(w.free_kb <= w.total_kb);
    CHECK_EQ(hal_sysinfo_net(&n), MG_OK);
}

FIXTURE_TEST(test_sysinfo_swap_is_swaptotal_and_swapfree)
{
    struct hal_sysinfo_swap w = { 1, 1 };

    CHECK_EQ(put_str("meminfo", "MemTotal: 100 kB\nSwapCached: 5 kB\nSwapTotal:  2048 kB\n"
                                "SwapFree:   512 kB\n"), 0);
    CHECK_EQ(hal_sysinfo_swap(&w), MG_OK);
    CHECK_EQ(w.total_kb, 2048);
    CHECK_EQ(w.free_kb, 512);
    CHECK_EQ(put_str("meminfo", "SwapTotal: 0 kB\nSwapFree: 0 kB\n"), 0);
    CHECK_EQ(hal_sysinfo_swap(&w), MG_OK);
    CHECK_EQ(w.total_kb + w.free_kb, 0);
}

FIXTURE_TEST(test_sysinfo_swap_missing_malformed_or_inconsistent_is_corrupt)
{
    struct hal_sysinfo_swap w = { 7, 7 };

    CHECK_EQ(put_str("meminfo", "SwapTotal: 10 kB\n"), 0);
    CHECK_EQ(hal_sysinfo_swap(&w), MG_ERR_CORRUPT);
    CHECK_EQ(put_str("meminfo", "SwapTotal: 10 kB\nSwapFree: -1 kB\n"), 0);
    CHECK_EQ(hal_sysinfo_swap(&w), MG_ERR_CORRUPT);
    CHECK_EQ(put_str("meminfo", "SwapTotal: 10 kB\nSwapFree: 11 kB\n"), 0);
    CHECK_EQ(hal_sysinfo_swap(&w), MG_ERR_CORRUPT);
    CHECK_EQ(w.total_kb, 7);   /* untouched */
}

static const char net_head[] =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n";

FIXTURE_TEST(test_sysinfo_net_sums_every_interface_but_the_loopback)
{
    char text[1024];
    struct hal_sysinfo_net n = { 1, 1, 1 };

    snprintf(text, sizeof(text), "%s"
             "    lo: 900000    100    0    0    0     0          0         0 900000    100    0    0    0     0       0          0\n"
             "  eth0: 1000       10    0    0    0     0          0         0     2000      20    0    0    0     0       0          0\n"
             "wlan0:300 3 0 0 0 0 0 0 400 4 0 0 0 0 0 0\n", net_head);
    CHECK_EQ(put_str("net/dev", text), 0);
    CHECK_EQ(hal_sysinfo_net(&n), MG_OK);
    CHECK_EQ(n.rx_bytes, 1300);
    CHECK_EQ(n.tx_bytes, 2400);
    CHECK_EQ(n.interfaces, 2);
    CHECK_EQ(put_str("net/dev", net_head), 0);   /* only the loopback's absence */
    CHECK_EQ(hal_sysinfo_net(&n), MG_OK);
    CHECK_EQ(n.rx_bytes + n.tx_bytes + n.interfaces, 0);
}

FIXTURE_TEST(test_sysinfo_net_missing_headerless_or_short_lines_are_refused)
{
    char text[1024];
    struct hal_sysinfo_net n = { 5, 5, 5 };

    CHECK_EQ(hal_sysinfo_net(&n), MG_ERR_NOENT);
    CHECK_EQ(put_str("net/dev", "eth0: 1 2 3 4 5 6 7 8 9\n"), 0);
    CHECK_EQ(hal_sysinfo_net(&n), MG_ERR_CORRUPT);
    snprintf(text, sizeof(text), "%seth0: 1 2 3 4 5 6 7 8\n", net_head);
    CHECK_EQ(put_str("net/dev", text), 0);
    CHECK_EQ(hal_sysinfo_net(&n), MG_ERR_CORRUPT);
    snprintf(text, sizeof(text), "%seth0 1 2 3 4 5 6 7 8 9\n", net_head);
    CHECK_EQ(put_str("net/dev", text), 0);
    CHECK_EQ(hal_sysinfo_net(&n), MG_ERR_CORRUPT);
    snprintf(text, sizeof(text), "%seth0: 1 2 3 x 5 6 7 8 9\n", net_head);
    CHECK_EQ(put_str("net/dev", text), 0);
    CHECK_EQ(hal_sysinfo_net(&n), MG_ERR_CORRUPT);
    CHECK_EQ(put_str("net/dev", ""), 0);
    CHECK_EQ(hal_sysinfo_net(&n), MG_ERR_CORRUPT);
    CHECK_EQ(n.rx_bytes, 5);   /* untouched */
}
