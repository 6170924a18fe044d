/* The outbound replication queue (PROTOCOLS.md 5): one job per message and
 * peer, in a fixed table (BOARD_REPL_QUEUE), persisted in the mailbox
 * journal beside the message it pushes, so that a reboot loses no pending
 * push.
 *
 * A job is a journal deposit record of its own, as the relay's users are
 * (relay.c), with no envelope:
 *     msg_id  "p:<message msg_id>/<kk>"   kk: 2 hex, the job's number in
 *                                         that message (one per peer)
 *     from    the peer's name (peers.h)
 *     to      the message's msg_id
 *     deposited_at, expires_at            the message's (a job never
 *                                         outlives its message)
 * Appended in the same loop pass as its deposit, it is durable with the
 * same group commit. A job ends (pushed, refused for good, its message
 * gone) with a delete record of its id; compaction carries live jobs on
 * like live deposits. At mount the relay's journal callbacks hand job
 * records here (outbox_is_record()). Jobs whose message did not come back
 * are dropped by the replication service once the mount is over. */
#ifndef OUTBOX_H
#define OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "peer/peers.h"
#include "relay/journal.h"

#define OUTBOX_MSG_ID_MAX 34   /* bytes of a pushed msg_id: "p:" + it + "/kk" fit */

enum outbox_state { OUTBOX_FREE, OUTBOX_WAITING, OUTBOX_SENDING };

struct outbox_job {
    uint8_t state;
    uint8_t k;                          /* its number in the message */
    char msg_id[OUTBOX_MSG_ID_MAX + 1];
    char peer[PEER_NAME_MAX];
    int64_t deposited_at, expires_at;   /* the message's, wall clock */
    uint32_t attempts;
    uint64_t next_ms;                   /* monotonic: not before */
};

/* Takes a slot and appends the job's record (not yet durable: the
 * relay's group commit covers it). A full table first drops the oldest
 * waiting job of the peer holding the most jobs (counted:
 * outbox_evicted()): a dead peer cannot starve the others; a pull finds
 * what it misses. 0; MG_ERR_NOSPC when even so there is no slot (counted:
 * outbox_refused()); MG_ERR_INVAL for a msg_id or peer name that does not
 * fit; a journal error (the slot is given back). */
int outbox_stage(const char *msg_id, uint8_t k, const char *peer, int64_t deposited_at,
                 int64_t expires_at);

/* Ends job i: a delete record of it (durable with the next commit), and its
 * slot is free. */
void outbox_finish(size_t i);

/* 1 if a journal record id names a job. */
int outbox_is_record(const char *record_id);
/* Mount: a job record (expired ones are left out), a delete of one. */
void outbox_replay(const struct journal_deposit *d);
void outbox_replay_delete(const char *record_id);
/* Compaction: is the job record still pending? */
int outbox_is_live(const char *record_id);

/* Slot i (0 <= i < BOARD_REPL_QUEUE), or NULL when free. */
struct outbox_job *outbox_at(size_t i);
size_t outbox_count(void);
unsigned long outbox_refused(void);
unsigned long outbox_evicted(void);
/* The oldest pending job's deposit time (wall ms), 0 when there is none. */
int64_t outbox_oldest(void);

void outbox_reset(void);

#endif
