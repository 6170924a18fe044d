/* The node's membership at the coordinator (PROTOCOLS.md section 3), the
 * client side: a service with one exchange in flight at a time, never
 * waiting in poll.
 *
 *   IDLE        the running config has no gateway.coordinator.url
 *   REGISTER    POST /register is due: 201 -> PENDING; 409 (already
 *               registered) -> PENDING too
 *   PENDING     registered, not approved: POST /heartbeat every interval;
 *               200 -> ACTIVE, 403 (Node not active) stays
 *   ACTIVE      POST /heartbeat every config->heartbeat_ms; every
 *               HEARTBEAT_NODES_EVERY heartbeats (and after the first)
 *               GET /nodes?status=active feeds the peer registry
 * From PENDING or ACTIVE a 404 (Node not registered) goes back to
 * REGISTER. A network error or a 5xx backs off exponentially (1 s doubling
 * to HEARTBEAT_BACKOFF_MAX_MS, jitter from the entropy HAL) and retries the
 * same exchange; the state is kept. A changed coordinator URL, node name,
 * host name or address registers again. */
#ifndef HEARTBEAT_H
#define HEARTBEAT_H

#include <stdint.h>

#include "loop.h"

#define HEARTBEAT_NODES_EVERY    5
#define HEARTBEAT_BACKOFF_MIN_MS 1000
#define HEARTBEAT_BACKOFF_MAX_MS 60000

enum heartbeat_state { HEARTBEAT_IDLE, HEARTBEAT_REGISTER, HEARTBEAT_PENDING, HEARTBEAT_ACTIVE };

struct heartbeat_status {
    enum heartbeat_state state;
    int in_flight;                 /* an exchange is under way */
    unsigned failures;             /* consecutive network errors / 5xx */
    uint64_t next_ms;              /* loop clock of the next exchange */
    int64_t last_at_ms;            /* wall clock of the last answer or failure; 0 none */
    char last[96];                 /* "heartbeat 200", "register: connection refused", ... */
    int64_t nodes_at_ms;           /* wall clock of the last /nodes read into the registry */
    unsigned long heartbeats_ok, heartbeats_failed, registrations;
};

const char *heartbeat_state_name(enum heartbeat_state s);
void heartbeat_get_status(struct heartbeat_status *out);

/* Runs the machine; console command `node` (identity and standing). */
extern const struct service heartbeat_service;

#endif
