/* The telemetry report (firmware/telemetry/report.c) from fixture /proc
 * files: every figure as PROTOCOLS.md 6 names it, CPU use from the delta of
 * two samples, missing or malformed files reported as null and named, and
 * a buffer too small refused. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json/json.h"
#include "mg_err.h"
#include "telemetry/report.h"
#include "test.h"

static char dir[64];
static char report[16384];
static jsmntok_t tok[2048];
static struct json_doc doc;

static const char net_dev[] =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n"
    "    lo: 5000 1 0 0 0 0 0 0 5000 1 0 0 0 0 0 0\n"
    "  eth0: 123456 10 0 0 0 0 0 0 654321 20 0 0 0 0 0 0\n";

static void put(const char *name, const char *text)
{
    char path[128];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        test_fail(__FILE__, __LINE__, "cannot write %s", path);
    if (fd >= 0)
        close(fd);
}

static void drop(const char *name)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
}

static void fixtures(void)
{
    char path[128];

    strcpy(dir, "/tmp/mg-telemetry-XXXXXX");
    if (!mkdtemp(dir))
        test_fail(__FILE__, __LINE__, "mkdtemp");
    snprintf(path, sizeof(path), "%s/net", dir);
    mkdir(path, 0700);
    put("meminfo", "MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 250 kB\n"
                   "SwapTotal: 400 kB\nSwapFree: 300 kB\n");
    put("loadavg", "0.42 1.50 2.05 1/80 11206\n");
    put("stat", "cpu  100 0 100 800 0 0 0 0 0 0\n");
    put("net/dev", net_dev);
    hal_sysinfo_set_root(dir);
}

static void cleanup(void)
{
    char path[128];

    hal_sysinfo_set_root(NULL);
    drop("meminfo");
    drop("loadavg");
    drop("stat");
    drop("net/dev");
    snprintf(path, sizeof(path), "%s/net", dir);
    rmdir(path);
    rmdir(dir);
}

static const struct relay_summary relay = { 77, 3, 2, 5, 1, { 1, 2, 0, 0 } };
static const struct telemetry_meta meta = { "rpt_1_1", "gw-\"a\"", 1700000000123LL };

static int build(const struct telemetry_host *h)
{
    int n = telemetry_report_json(report, sizeof(report), &meta, &relay, h);

    if (n < 0)
        return n;
    return json_parse(&doc, report, (size_t)n, tok, 2048);
}

/* The text of member path (a.b) as written in the report, for numbers. */
static const char *raw(int obj, const char *key, char *out, size_t cap)
{
    int i = json_get(&doc, obj, key);
    size_t n;

    if (i < 0)
        return "";
    n = (size_t)(doc.tok[i].end - doc.tok[i].start);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, report + doc.tok[i].start, n);
    out[n] = '\0';
    return out;
}

MG_TEST(test_telemetry_report_has_every_figure_of_the_protocol)
{
    struct telemetry_cpu_state cpu = { { 0, 0, 0, 0, 0, 0, 0, 0 }, 0 };
    struct telemetry_host h;
    char v[64], s[64];
    int host, rel, load;
    int64_t n;

    fixtures();
    telemetry_sample_host(&cpu, &h);
    CHECK(!h.have[TF_CPU]);   /* one sample: no delta yet */
    put("stat", "cpu  130 0 120 850 0 0 0 0 0 0\n");   /* 50 busy of 100 */
    telemetry_sample_host(&cpu, &h);
    CHECK_EQ(build(&h), 0);
    CHECK_EQ(json_kind(&doc, 0), JSON_OBJECT);
    CHECK(strcmp(raw(0, "version", v, sizeof(v)), "1") == 0);
    CHECK_EQ(json_str(&doc, json_get(&doc, 0, "kind"), s, sizeof(s)) > 0, 1);
    CHECK(strcmp(s, "telemetry.report") == 0);
    CHECK(json_str(&doc, json_get(&doc, 0, "source"), s, sizeof(s)) > 0 && strcmp(s, "gw-\"a\"") == 0);
    CHECK(json_str(&doc, json_get(&doc, 0, "reportId"), s, sizeof(s)) > 0 && strcmp(s, "rpt_1_1") == 0);
    CHECK_EQ(json_int(&doc, json_get(&doc, 0, "createdAt"), &n), 0);
    CHECK_EQ(n, 1700000000123LL);
    host = json_get(&doc, 0, "host");
    CHECK(strcmp(raw(host, "cpuPct", v, sizeof(v)), "50.00") == 0);
    CHECK(strcmp(raw(host, "memPct", v, sizeof(v)), "75.00") == 0);
    CHECK(strcmp(raw(host, "swapPct", v, sizeof(v)), "25.00") == 0);
    CHECK(strcmp(raw(host, "netInBytes", v, sizeof(v)), "123456") == 0);
    CHECK(strcmp(raw(host, "netOutBytes", v, sizeof(v)), "654321") == 0);
    load = json_get(&doc, host, "load");
    CHECK(strcmp(raw(host, "load", v, sizeof(v)), "[0.42,1.50,2.05]") == 0);
    CHECK_EQ(json_kind(&doc, load), JSON_ARRAY);
    CHECK(strcmp(raw(host, "unavailable", v, sizeof(v)), "[]") == 0);
    rel = json_get(&doc, 0, "relay");
    CHECK(strcmp(raw(rel, "uptimeSec", v, sizeof(v)), "77") == 0);
    CHECK(strcmp(raw(json_get(&doc, rel, "counts"), "queuedMessages", v, sizeof(v)), "5") == 0);
    CHECK(strcmp(raw(json_get(&doc, rel, "queueDepthHistogram"), "1-5", v, sizeof(v)), "2") == 0);
    CHECK_EQ(json_kind(&doc, json_get(&doc, 0, "firmware")), JSON_OBJECT);
    CHECK_EQ(json_kind(&doc, json_get(&doc, json_get(&doc, 0, "firmware"), "pools")), JSON_ARRAY);
    cleanup();
}

MG_TEST(test_telemetry_missing_and_malformed_proc_files_are_null_and_named)
{
    struct telemetry_cpu_state cpu = { { 0, 0, 0, 0, 0, 0, 0, 0 }, 0 };
    struct telemetry_host h;
    char v[256];
    int host;

    fixtures();
    telemetry_sample_host(&cpu, &h);
    drop("net/dev");
    put("meminfo", "MemTotal: lots\n");
    put("stat", "cpu  garbage\n");
    telemetry_sample_host(&cpu, &h);
    CHECK_EQ(build(&h), 0);
    host = json_get(&doc, 0, "host");
    CHECK(strcmp(raw(host, "cpuPct", v, sizeof(v)), "null") == 0);
    CHECK(strcmp(raw(host, "memPct", v, sizeof(v)), "null") == 0);
    CHECK(strcmp(raw(host, "swapPct", v, sizeof(v)), "null") == 0);
    CHECK(strcmp(raw(host, "netInBytes", v, sizeof(v)), "null") == 0);
    CHECK(strcmp(raw(host, "load", v, sizeof(v)), "[0.42,1.50,2.05]") == 0);
    CHECK_EQ(json_kind(&doc, json_get(&doc, host, "unavailable")), JSON_ARRAY);
    raw(host, "unavailable", v, sizeof(v));
    CHECK(strstr(v, "\"cpu: ") && strstr(v, "\"mem: ") && strstr(v, "\"swap: ") &&
          strstr(v, "\"net: ") && !strstr(v, "load"));
    /* Repaired, the next samples measure again (CPU after two good ones). */
    cleanup();
    fixtures();
    telemetry_sample_host(&cpu, &h);
    put("stat", "cpu  200 0 100 900 0 0 0 0 0 0\n");
    telemetry_sample_host(&cpu, &h);
    CHECK(h.have[TF_CPU] && h.have[TF_MEM] && h.have[TF_NET]);
    CHECK_EQ(h.cpu_x100, 5000);
    cleanup();
}

MG_TEST(test_telemetry_a_report_that_does_not_fit_is_toobig)
{
    struct telemetry_host h;
    static char small[256];

    memset(&h, 0, sizeof(h));
    CHECK_EQ(telemetry_report_json(small, sizeof(small), &meta, &relay, &h), MG_ERR_TOOBIG);
}
