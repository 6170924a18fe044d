/* Cross-gateway mailbox replication (PROTOCOLS.md 5), the service.
 *
 * Out: every deposit made here gets a push job per peer (outbox.h, in the
 * journal with the message); the loop sends them, at most one request per
 * peer at a time, through the non-blocking client: X-Peer-Url/X-Peer-HMAC
 * when this gateway shares a secret with the peer (gateway.peers[].secret,
 * else gateway.peer_secret), section 4 signatures otherwise (peers the
 * coordinator listed). An error backs the peer off (1 s doubling to 60 s);
 * a definite answer (stored, duplicate, cap_violation, mailbox full) ends
 * the job. The sender's 200 never waits for any of it.
 *
 * In, on the peer port: POST /api/mesh/dm/replicate-envelope (HMAC or
 * section 4, checked by the handler itself: peer_route_add_self()), in the
 * order of section 5, stored with its original deposit time and answered
 * once durable; POST /api/mesh/dm/ack (section 4, each signature once) drops
 * the copies of acked messages; GET /api/mesh/dm/pull?to= (section 4) hands
 * a mailbox (and the ids acked here) to a peer whose client connected.
 *
 * Acks: a message acked (or delivered to a legacy client) here is told to
 * the peers, and its msg_id is remembered (a tombstone) so that a late
 * replica or pull of it is a duplicate, never a second delivery. Pull: when
 * a recipient connects, the relay holds its pushes (repl_holds()) while its
 * mailbox is fetched from the peers and merged by msg_id, for at most
 * REPL_PULL_HOLD_MS. */
#ifndef REPL_H
#define REPL_H

#include <stdint.h>

#include "loop.h"

#define REPL_PULL_HOLD_MS 2000

struct user;
struct textbuf;

/* Relay hooks. A deposit of msg_id was appended (durable with this pass's
 * commit): queue its pushes. */
void repl_deposited(const char *msg_id, int64_t deposited_at, int64_t expires_at);
/* The recipient u acked (or, legacy, was sent) msg_id here: tell the peers. */
void repl_acked(const char *msg_id, const struct user *u);
/* msg_id for user index to left this relay (acked, delivered, expired):
 * remembered as seen. */
void repl_forget(const char *msg_id, uint16_t to);

/* Whether msg_id is among the last BOARD_REPL_TOMBSTONES forgotten ones: a
 * replica of it arriving now is a duplicate. */
int repl_forgotten(const char *msg_id);
/* 1 while u's pushes wait for a pull from the peers (u just connected). */
int repl_holds(const struct user *u);

/* Forgets all replication state: the relay calls it before it mounts the
 * journal, whose replay refills the queue and the tombstones. */
void repl_reset(void);

/* Writes ,"dm_replication_push_ok":N,... and ,"replication":{...} for the
 * relay's /diagnostics. */
void repl_diagnostics_json(struct textbuf *b);

extern const struct service repl_service;

#endif
