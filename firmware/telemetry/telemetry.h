/* The telemetry probe (issue 9, PROTOCOLS.md 6): every
 * gateway.intervals.telemetry_ms it builds a report (report.h) and sends it
 * end-to-end encrypted to gateway.telemetry.recipient through the local
 * relay, in-process (relay/local.h), as the gateway's own Signal identity
 * (registered under node_name() with its bundle published at start).
 *
 * One report is held at a time: when the recipient has no bundle yet or a
 * cap refuses, the report waits and is tried again every
 * BOARD_TELEMETRY_RETRY_MS; a newer report replaces it (counted as
 * skipped). The caps are checked before encrypting, so a refusal does not
 * spend a message key of the session. Answers from the recipient in the
 * gateway's own mailbox are decrypted (that is how the session learns the
 * recipient has it, and moves from prekey to whisper messages) and acked;
 * messages from anyone else are dropped. */
#ifndef TELEMETRY_H
#define TELEMETRY_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"

extern const struct service telemetry_service;

struct telemetry_stats {
    unsigned long reports;        /* built */
    unsigned long sent;           /* deposited, durable */
    unsigned long sent_prekey;    /* of them, as type 3 */
    unsigned long replaced;       /* skipped: a newer report replaced a held one */
    unsigned long no_bundle;      /* attempts: the recipient has no bundle yet */
    unsigned long capped;         /* attempts: a cap (429) refused */
    unsigned long failed;         /* attempts that failed otherwise */
    unsigned long answers;        /* messages of the recipient decrypted */
    unsigned long rejected;       /* messages dropped: not decrypted, or not the recipient's */
    int last_type;                /* type of the last envelope sent, 0 none */
    char last_sent[40];           /* its reportId */
    int64_t last_sent_at;         /* wall-clock ms */
    char last_error[128];         /* "" none */
};

void telemetry_get_stats(struct telemetry_stats *out);

/* --- the steps, for tests -------------------------------------------------- */

/* What the probe calls: the relay and the Signal session API by default. */
struct telemetry_ops {
    int (*bundle)(const char *id, char *out, size_t cap);
    int (*admit)(const char *from, const char *to, const char **why);
    int (*deposit)(const char *from, const char *to, const char *envelope, size_t len,
                   const char **why);
    int (*from_bundle)(const char *name, int32_t device_id, const char *json, size_t len);
    int (*encrypt)(const char *name, int32_t device_id, const void *plain, size_t len,
                   int *type, char *body_b64, size_t cap, size_t *body_len);
};

/* Replaces the ops (NULL: the defaults), names the gateway's relay id and
 * forgets the held report and the counts. */
void telemetry_reset(const struct telemetry_ops *ops, const char *self);

/* Holds report (len bytes, at most BOARD_TELEMETRY_REPORT_MAX) as the one
 * to send, replacing any held one. */
void telemetry_hold(const char *report, size_t len, const char *report_id);

/* One attempt to send the held report to `to` at wall-clock now: 0 sent;
 * MG_ERR_NOENT nothing held or the recipient has no bundle; MG_ERR_AGAIN a
 * cap refused; other codes (the bundle's signature MG_ERR_AUTH, a changed
 * identity MG_ERR_PERM, ...) with last_error set. The report stays held
 * unless it was sent. */
int telemetry_send_held(const char *to, int64_t now);

#endif
