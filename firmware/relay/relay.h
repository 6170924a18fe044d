/* The relay service (PROTOCOLS.md section 1) on BOARD_PORT_RELAY:
 * registration, prekey bundles, durable mailboxes journaled to flash,
 * WebSocket delivery with acks, /diagnostics. */
#ifndef RELAY_H
#define RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"

extern const struct service relay_service;

/* The figures /diagnostics opens with (PROTOCOLS.md 1), for telemetry. */
struct relay_summary {
    uint64_t uptime_s;
    size_t users, prekeys, queued, connections;
    unsigned histogram[4];   /* mailboxes holding 0, 1-5, 6-20, 21+ messages */
};

struct textbuf;

void relay_get_summary(struct relay_summary *out);

/* Writes "uptimeSec":…,"counts":{…},"queueDepthHistogram":{…} (no braces
 * around them: the caller's object holds them). */
void relay_summary_json(struct textbuf *b, const struct relay_summary *s);

/* Has the next poll push every connected mailbox: for a message another
 * module queued, or a hold on a socket that ended (replication's pulls).
 * The relay's own changes ask for it themselves. */
void relay_push_soon(void);

#endif
