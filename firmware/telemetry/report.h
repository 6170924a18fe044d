/* The telemetry report (PROTOCOLS.md 6): a sample of the host from /proc
 * (hal/sysinfo.h), the relay's summary and the firmware's own figures, as
 * one JSON object built into the caller's buffer, ready to be encrypted.
 *
 * A host figure whose /proc file is missing or malformed is null in the
 * report and named, with the reason, under "host.unavailable": the report
 * says what it could not measure and the probe goes on. */
#ifndef TELEMETRY_REPORT_H
#define TELEMETRY_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "relay/relay.h"
#include "sysinfo.h"

enum telemetry_figure { TF_CPU, TF_MEM, TF_SWAP, TF_NET, TF_LOAD, TF_COUNT };

/* One sample of the host. Percentages are in hundredths (0..10000). */
struct telemetry_host {
    int have[TF_COUNT];             /* 1: measured; 0: see why[] */
    int why[TF_COUNT];              /* the MG_ERR_* that prevented it */
    uint32_t cpu_x100, mem_x100, swap_x100;
    uint64_t net_in_bytes, net_out_bytes;
    uint32_t load_x100[3];
};

/* CPU use needs two samples: the probe keeps the previous one here. */
struct telemetry_cpu_state {
    struct hal_sysinfo_cpu last;
    int have_last;
};

/* Samples every host figure. CPU use is over the time since the previous
 * sample in *cpu (which this updates); the first sample has none. */
void telemetry_sample_host(struct telemetry_cpu_state *cpu, struct telemetry_host *out);

/* The report's identity and time. */
struct telemetry_meta {
    const char *report_id;          /* unique per report */
    const char *source;             /* this gateway's name */
    int64_t created_at;             /* wall-clock ms */
};

/* Writes the report into buf (NUL-terminated): its length, or MG_ERR_TOOBIG
 * when it does not fit (nothing usable is left in buf then). */
int telemetry_report_json(char *buf, size_t cap, const struct telemetry_meta *meta,
                          const struct relay_summary *relay, const struct telemetry_host *host);

#endif
