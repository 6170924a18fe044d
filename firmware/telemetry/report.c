#include "report.h"

#include <string.h>

#include "diag/diag.h"
#include "diag/textbuf.h"
#include "mg_err.h"

static const char *const figure_names[TF_COUNT] = { "cpu", "mem", "swap", "net", "load" };

/* a - b over a, in hundredths of a percent; 0 when a is 0. */
static uint32_t used_x100(uint64_t total, uint64_t left)
{
    if (total == 0 || left >= total)
        return 0;
    return (uint32_t)((total - left) * 10000u / total);
}

static void set(struct telemetry_host *h, enum telemetry_figure f, int rc)
{
    h->have[f] = rc == 0;
    h->why[f] = rc;
}

void telemetry_sample_host(struct telemetry_cpu_state *cpu, struct telemetry_host *out)
{
    struct hal_sysinfo_cpu now_cpu;
    struct hal_sysinfo_mem mem;
    struct hal_sysinfo_swap swap;
    struct hal_sysinfo_net net;
    struct hal_sysinfo_load load;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = hal_sysinfo_cpu(&now_cpu);
    if (rc == 0) {
        /* No previous sample yet: MG_ERR_AGAIN, as for two samples too close. */
        int busy = cpu->have_last ? hal_sysinfo_cpu_busy_x100(&cpu->last, &now_cpu)
                                  : MG_ERR_AGAIN;
        if (busy >= 0)
            out->cpu_x100 = (uint32_t)busy;
        /* Too close together keeps the older sample, for a longer interval. */
        if (busy != MG_ERR_AGAIN || !cpu->have_last) {
            cpu->last = now_cpu;
            cpu->have_last = 1;
        }
        rc = busy < 0 ? busy : 0;
    }
    set(out, TF_CPU, rc);

    rc = hal_sysinfo_mem(&mem);
    if (rc == 0)
        out->mem_x100 = used_x100(mem.total_kb, mem.available_kb);
    set(out, TF_MEM, rc);

    rc = hal_sysinfo_swap(&swap);
    if (rc == 0)
        out->swap_x100 = used_x100(swap.total_kb, swap.free_kb);
    set(out, TF_SWAP, rc);

    rc = hal_sysinfo_net(&net);
    if (rc == 0) {
        out->net_in_bytes = net.rx_bytes;
        out->net_out_bytes = net.tx_bytes;
    }
    set(out, TF_NET, rc);

    rc = hal_sysinfo_load(&load);
    if (rc == 0) {
        out->load_x100[0] = load.avg1_x100;
        out->load_x100[1] = load.avg5_x100;
        out->load_x100[2] = load.avg15_x100;
    }
    set(out, TF_LOAD, rc);
}

/* A percentage in hundredths as a JSON number ("12.34"), or null. */
static void pct(struct textbuf *b, const char *key, int have, uint32_t x100)
{
    if (have)
        textbuf_printf(b, "\"%s\":%u.%02u,", key, x100 / 100, x100 % 100);
    else
        textbuf_printf(b, "\"%s\":null,", key);
}

static void host_json(struct textbuf *b, const struct telemetry_host *h)
{
    int f, first = 1;

    textbuf_printf(b, "\"host\":{");
    pct(b, "cpuPct", h->have[TF_CPU], h->cpu_x100);
    pct(b, "memPct", h->have[TF_MEM], h->mem_x100);
    pct(b, "swapPct", h->have[TF_SWAP], h->swap_x100);
    if (h->have[TF_NET])
        textbuf_printf(b, "\"netInBytes\":%llu,\"netOutBytes\":%llu,",
                       (unsigned long long)h->net_in_bytes, (unsigned long long)h->net_out_bytes);
    else
        textbuf_printf(b, "\"netInBytes\":null,\"netOutBytes\":null,");
    if (h->have[TF_LOAD])
        textbuf_printf(b, "\"load\":[%u.%02u,%u.%02u,%u.%02u]", h->load_x100[0] / 100,
                       h->load_x100[0] % 100, h->load_x100[1] / 100, h->load_x100[1] % 100,
                       h->load_x100[2] / 100, h->load_x100[2] % 100);
    else
        textbuf_printf(b, "\"load\":null");
    textbuf_printf(b, ",\"unavailable\":[");
    for (f = 0; f < TF_COUNT; f++) {
        if (h->have[f])
            continue;
        textbuf_printf(b, "%s\"%s: %s\"", first ? "" : ",", figure_names[f],
                       h->why[f] == MG_ERR_AGAIN ? "needs a second sample" : mg_strerror(h->why[f]));
        first = 0;
    }
    textbuf_printf(b, "]}");
}

int telemetry_report_json(char *buf, size_t cap, const struct telemetry_meta *meta,
                          const struct relay_summary *relay, const struct telemetry_host *host)
{
    struct textbuf b;

    textbuf_init(&b, buf, cap);
    textbuf_printf(&b, "{\"version\":1,\"kind\":\"telemetry.report\",\"reportId\":");
    textbuf_json_string(&b, meta->report_id);
    textbuf_printf(&b, ",\"source\":");
    textbuf_json_string(&b, meta->source);
    textbuf_printf(&b, ",\"relay\":{");
    relay_summary_json(&b, relay);
    textbuf_printf(&b, "},");
    host_json(&b, host);
    textbuf_printf(&b, ",\"firmware\":");
    diag_firmware_json(&b);
    textbuf_printf(&b, ",\"createdAt\":%lld}", (long long)meta->created_at);
    return b.overflow ? MG_ERR_TOOBIG : (int)b.len;
}
