/* System figures from /proc, read without stdio or heap. */
#include "sysinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "mg_err.h"

#define DEFAULT_ROOT "/proc"
#define PATH_CAP 256

/* What a line handler tells the scanner. */
#define SCAN_MORE 0
#define SCAN_DONE 1   /* everything wanted is found: stop reading */

typedef int (*line_fn)(const char *line, size_t len, void *ctx);

static const char *root = DEFAULT_ROOT;
static char buf[HAL_SYSINFO_BUF_SIZE];

void hal_sysinfo_set_root(const char *dir)
{
    root = dir ? dir : DEFAULT_ROOT;
}

/* Calls fn on each newline-terminated line of root/name (without its
 * newline) until fn returns SCAN_DONE or an error. Lines are compacted to
 * the front of buf between reads; a line that fills buf without a newline
 * is dropped up to its end. A last line without a newline is incomplete and
 * never seen. */
static int scan_lines(const char *name, line_fn fn, void *ctx)
{
    char path[PATH_CAP];
    size_t root_len = strlen(root), name_len = strlen(name);
    size_t have = 0;         /* bytes in buf not yet handed to fn */
    bool skipping = false;   /* inside a line longer than buf */
    int fd, rc = SCAN_MORE;

    if (root_len + 1 + name_len + 1 > sizeof(path))
        return MG_ERR_TOOBIG;
    memcpy(path, root, root_len);
    path[root_len] = '/';
    memcpy(path + root_len + 1, name, name_len + 1);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return (errno == ENOENT || errno == ENOTDIR) ? MG_ERR_NOENT : MG_ERR_IO;

    while (rc == SCAN_MORE) {
        size_t start = 0;
        const char *nl;
        ssize_t got = read(fd, buf + have, sizeof(buf) - have);

        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = MG_ERR_IO;
            break;
        }
        if (got == 0)
            break;
        have += (size_t)got;

        while (rc == SCAN_MORE &&
               (nl = memchr(buf + start, '\n', have - start)) != NULL) {
            size_t end = (size_t)(nl - buf);

            if (!skipping)
                rc = fn(buf + start, end - start, ctx);
            skipping = false;
            start = end + 1;
        }
        if (start == 0 && have == sizeof(buf)) {
            skipping = true;   /* no newline in a full buffer */
            have = 0;
        } else {
            memmove(buf, buf + start, have - start);
            have -= start;
        }
    }
    close(fd);
    return rc < 0 ? rc : 0;
}

/* --- a cursor over one line, which is not NUL-terminated ------------------ */

struct cur {
    const char *p, *end;
};

static struct cur cur_of(const char *line, size_t len)
{
    struct cur c = { line, line + len };

    return c;
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool at_end(const struct cur *c)
{
    return c->p == c->end;
}

/* Skips spaces and tabs; true if there was at least one. */
static bool take_blank(struct cur *c)
{
    const char *from = c->p;

    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
    return c->p != from;
}

static bool take_char(struct cur *c, char ch)
{
    if (c->p == c->end || *c->p != ch)
        return false;
    c->p++;
    return true;
}

static bool take_word(struct cur *c, const char *w)
{
    size_t n = strlen(w);

    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* One or more decimal digits into *out. No sign, no blanks and no overflow
 * accepted: strtoull would take "-1" as 2^64-1 and read past the line. */
static bool take_u64(struct cur *c, uint64_t *out)
{
    uint64_t v = 0;
    const char *from = c->p;

    while (c->p < c->end && is_digit(*c->p)) {
        unsigned d = (unsigned)(*c->p - '0');

        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
        c->p++;
    }
    *out = v;
    return c->p != from;
}

/* "12.34" as 1234; one fraction digit is tenths, digits past the second are
 * dropped. Over UINT32_MAX is refused. */
static bool take_x100(struct cur *c, uint32_t *out)
{
    uint64_t whole, frac = 0;
    int digits = 0;

    if (!take_u64(c, &whole) || !take_char(c, '.'))
        return false;
    while (c->p < c->end && is_digit(*c->p)) {
        if (digits < 2)
            frac = frac * 10 + (uint64_t)(*c->p - '0');
        digits++;
        c->p++;
    }
    if (digits == 0 || whole > (UINT32_MAX - 99) / 100)
        return false;
    if (digits == 1)
        frac *= 10;
    *out = (uint32_t)(whole * 100 + frac);
    return true;
}


/* --- /proc/uptime: "350735.47 234388.90" ---------------------------------- */

struct uptime_scan {
    uint64_t secs;
    bool found;
};

static int uptime_line(const char *line, size_t len, void *ctx)
{
    struct uptime_scan *u = ctx;
    struct cur c = cur_of(line, len);
    uint64_t frac, idle;

    /* One line; its whole shape is checked so a damaged file is refused
     * rather than half-read. */
    if (!take_u64(&c, &u->secs) || !take_char(&c, '.') || !take_u64(&c, &frac) ||
        !take_blank(&c) || !take_u64(&c, &idle) || !take_char(&c, '.') ||
        !take_u64(&c, &frac) || !at_end(&c))
        return MG_ERR_CORRUPT;
    u->found = true;
    return SCAN_DONE;
}

int hal_sysinfo_uptime(uint64_t *seconds)
{
    struct uptime_scan u = { 0, false };
    int rc;

    if (!seconds)
        return MG_ERR_INVAL;
    rc = scan_lines("uptime", uptime_line, &u);
    if (rc == 0 && !u.found)
        rc = MG_ERR_CORRUPT;   /* readable but without its line: damaged */
    if (rc == 0)
        *seconds = u.secs;
    return rc;
}

/* --- /proc/loadavg: "0.20 0.18 0.12 1/80 11206" --------------------------- */

struct load_scan {
    struct hal_sysinfo_load load;
    bool found;
};

static int load_line(const char *line, size_t len, void *ctx)
{
    struct load_scan *l = ctx;
    struct cur c = cur_of(line, len);
    uint64_t running, tasks, last_pid;

    /* The run-queue and last-pid fields are not reported, but checking them
     * is what tells a whole line from one cut inside the third average. */
    if (!take_x100(&c, &l->load.avg1_x100) || !take_blank(&c) ||
        !take_x100(&c, &l->load.avg5_x100) || !take_blank(&c) ||
        !take_x100(&c, &l->load.avg15_x100) || !take_blank(&c) ||
        !take_u64(&c, &running) || !take_char(&c, '/') || !take_u64(&c, &tasks) ||
        !take_blank(&c) || !take_u64(&c, &last_pid) || !at_end(&c))
        return MG_ERR_CORRUPT;
    l->found = true;
    return SCAN_DONE;
}

int hal_sysinfo_load(struct hal_sysinfo_load *out)
{
    struct load_scan l = { { 0, 0, 0 }, false };
    int rc;

    if (!out)
        return MG_ERR_INVAL;
    rc = scan_lines("loadavg", load_line, &l);
    if (rc == 0 && !l.found)
        rc = MG_ERR_CORRUPT;
    if (rc == 0)
        *out = l.load;
    return rc;
}

/* --- "Key:   1234 kB" files: /proc/meminfo, /proc/self/status ------------- */

struct kb_field {
    const char *key;      /* with its colon, so "MemFree:" is no prefix match */
    uint64_t *value;
    bool found;
};

struct kb_scan {
    struct kb_field *fields;
    size_t n, left;
};

static int kb_line(const char *line, size_t len, void *ctx)
{
    struct kb_scan *s = ctx;
    size_t i;

    for (i = 0; i < s->n; i++) {
        struct kb_field *f = &s->fields[i];
        struct cur c = cur_of(line, len);

        if (f->found || !take_word(&c, f->key))
            continue;
        (void)take_blank(&c);   /* the kernel pads; a bare value is fine too */
        if (!take_u64(&c, f->value) || !take_blank(&c) || !take_word(&c, "kB") ||
            !at_end(&c))
            return MG_ERR_CORRUPT;
        f->found = true;
        return --s->left == 0 ? SCAN_DONE : SCAN_MORE;
    }
    return SCAN_MORE;
}

static int scan_kb(const char *name, struct kb_field *fields, size_t n)
{
    struct kb_scan s = { fields, n, n };
    int rc = scan_lines(name, kb_line, &s);

    return rc == 0 && s.left > 0 ? MG_ERR_CORRUPT : rc;
}

int hal_sysinfo_mem(struct hal_sysinfo_mem *out)
{
    struct hal_sysinfo_mem m = { 0, 0, 0 };
    struct kb_field fields[] = {
        { "MemTotal:", &m.total_kb, false },
        { "MemFree:", &m.free_kb, false },
        { "MemAvailable:", &m.available_kb, false },
    };
    int rc;

    if (!out)
        return MG_ERR_INVAL;
    rc = scan_kb("meminfo", fields, sizeof(fields) / sizeof(fields[0]));
    if (rc == 0)
        *out = m;
    return rc;
}

int hal_sysinfo_swap(struct hal_sysinfo_swap *out)
{
    struct hal_sysinfo_swap w = { 0, 0 };
    struct kb_field fields[] = {
        { "SwapTotal:", &w.total_kb, false },
        { "SwapFree:", &w.free_kb, false },
    };
    int rc;

    if (!out)
        return MG_ERR_INVAL;
    rc = scan_kb("meminfo", fields, sizeof(fields) / sizeof(fields[0]));
    if (rc == 0 && w.free_kb > w.total_kb)
        rc = MG_ERR_CORRUPT;
    if (rc == 0)
        *out = w;
    return rc;
}

int hal_sysinfo_self(struct hal_sysinfo_self *out)
{
    struct hal_sysinfo_self s = { 0, 0 };
    struct kb_field fields[] = {
        { "VmHWM:", &s.hwm_kb, false },
        { "VmRSS:", &s.rss_kb, false },
    };
    int rc;

    if (!out)
        return MG_ERR_INVAL;
    rc = scan_kb("self/status", fields, sizeof(fields) / sizeof(fields[0]));
    if (rc == 0)
        *out = s;
    return rc;
}

/* --- /proc/net/dev: two header lines, then per interface
 * "  eth0: rx_bytes packets errs drop fifo frame compressed multicast
 *  tx_bytes packets ..." (older kernels put no blank after the colon). */

struct net_scan {
    struct hal_sysinfo_net net;
    unsigned line;
};

static int net_line(const char *line, size_t len, void *ctx)
{
    struct net_scan *s = ctx;
    struct cur c = cur_of(line, len);
    const char *name;
    uint64_t v[9];
    size_t i, name_len;

    if (s->line++ < 2) {   /* "Inter-|   Receive ...", " face |bytes ..." */
        return memchr(line, '|', len) ? SCAN_MORE : MG_ERR_CORRUPT;
    }
    (void)take_blank(&c);
    name = c.p;
    while (c.p < c.end && *c.p != ':')
        c.p++;
    name_len = (size_t)(c.p - name);
    if (name_len == 0 || !take_char(&c, ':'))
        return MG_ERR_CORRUPT;
    for (i = 0; i < 9; i++) {
        (void)take_blank(&c);
        if (!take_u64(&c, &v[i]))
            return MG_ERR_CORRUPT;
    }
    if (name_len == 2 && memcmp(name, "lo", 2) == 0)
        return SCAN_MORE;
    s->net.rx_bytes += v[0];
    s->net.tx_bytes += v[8];
    s->net.interfaces++;
    return SCAN_MORE;
}

int hal_sysinfo_net(struct hal_sysinfo_net *out)
{
    struct net_scan s;
    int rc;

    if (!out)
        return MG_ERR_INVAL;
    memset(&s, 0, sizeof(s));
    rc = scan_lines("net/dev", net_line, &s);
    if (rc == 0 && s.line < 2)
        rc = MG_ERR_CORRUPT;
    if (rc == 0)
        *out = s.net;
    return rc;
}

/* --- /proc/stat: "cpu  user nice system idle iowait irq softirq steal ..." */

struct cpu_scan {
    struct hal_sysinfo_cpu cpu;
    bool found;
};

static int cpu_line(const char *line, size_t len, void *ctx)
{
    struct cpu_scan *s = ctx;
    struct hal_sysinfo_cpu *k = &s->cpu;
    uint64_t *const fields[] = { &k->user, &k->nice, &k->system, &k->idle,
                                 &k->iowait, &k->irq, &k->softirq, &k->steal };
    struct cur c = cur_of(line, len);
    uint64_t later;
    size_t i;

    /* "cpu" and a blank: the aggregate, not "cpu0". */
    if (!take_word(&c, "cpu") || !take_blank(&c))
        return SCAN_MORE;
    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if ((i > 0 && !take_blank(&c)) || !take_u64(&c, fields[i]))
            return MG_ERR_CORRUPT;
    /* guest and guest_nice follow on newer kernels; they are already counted
     * in user and nice, so they are checked but not added. */
    while (take_blank(&c) && !at_end(&c))
        if (!take_u64(&c, &later))
            return MG_ERR_CORRUPT;
    if (!at_end(&c))
        return MG_ERR_CORRUPT;
    s->found = true;
    return SCAN_DONE;
}

int hal_sysinfo_cpu(struct hal_sysinfo_cpu *out)
{
    struct cpu_scan s;
    int rc;

    if (!out)
        return MG_ERR_INVAL;
    memset(&s, 0, sizeof(s));
    rc = scan_lines("stat", cpu_line, &s);
    if (rc == 0 && !s.found)
        rc = MG_ERR_CORRUPT;
    if (rc == 0)
        *out = s.cpu;
    return rc;
}

/* --- utilisation between two samples -------------------------------------- */

/* Ticks from one sample to the next; a counter that went backwards gave
 * none (iowait can, and a bogus 2^64-sized delta would pin the result). */
static uint64_t ticks_between(uint64_t before, uint64_t after)
{
    return after > before ? after - before : 0;
}

int hal_sysinfo_cpu_busy_x100(const struct hal_sysinfo_cpu *before,
                              const struct hal_sysinfo_cpu *after)
{
    enum { N_BUSY = 6, N_ALL = 8 };
    uint64_t d[N_ALL], busy = 0, total = 0;
    unsigned shift = 0;
    size_t i;

    if (!before || !after)
        return MG_ERR_INVAL;
    d[0] = ticks_between(before->user, after->user);
    d[1] = ticks_between(before->nice, after->nice);
    d[2] = ticks_between(before->system, after->system);
    d[3] = ticks_between(before->irq, after->irq);
    d[4] = ticks_between(before->softirq, after->softirq);
    d[5] = ticks_between(before->steal, after->steal);
    d[6] = ticks_between(before->idle, after->idle);
    d[7] = ticks_between(before->iowait, after->iowait);

    /* Scaled down so that the sum of eight cannot overflow; only the ratio
     * matters, and deltas this large lose nothing visible. */
    for (i = 0; i < N_ALL; i++)
        if (d[i] > UINT64_MAX / N_ALL)
            shift = 3;
    for (i = 0; i < N_ALL; i++) {
        if (i < N_BUSY)
            busy += d[i] >> shift;
        total += d[i] >> shift;
    }
    if (total == 0)
        return MG_ERR_AGAIN;
    while (total > UINT64_MAX / 10000) {
        busy >>= 1;
        total >>= 1;
    }
    return (int)(busy * 10000 / total);
}
