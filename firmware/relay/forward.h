/* Forwarding to the controller (PROTOCOLS.md section 2, config
 * gateway.forwarding): an envelope deposited for the configured bot
 * identity (identity.bot_name) is also POSTed to the controller's inbound
 * URL, signed like the controller signs its pushes (X-Nonce, X-Timestamp,
 * X-HMAC-SHA256 under the gate's current key), body
 *     {"msgId","from","to","deposited_at","envelope":{...}}
 * Jobs wait in a fixed queue (FORWARD_SLOTS); each is retried with
 * exponential backoff (1 s doubling to 60 s, plus jitter) until the
 * controller answers 2xx or FORWARD_TRIES attempts have failed. RAM only:
 * the message itself is durable in the mailbox either way. */
#ifndef FORWARD_H
#define FORWARD_H

#include <stdint.h>

#include "relay/journal.h"

#define FORWARD_SLOTS 32
#define FORWARD_TRIES 8

/* Queues a forward of the deposit msg_id, now at h (its record is read
 * when sent, where the mailbox then says it lies: compaction moves it).
 * MG_ERR_NOSPC when the queue is full (counted, logged; the message is
 * still delivered to the bot's mailbox). */
int forward_enqueue(const char *msg_id, journal_handle h);

/* Sends what is due; called from the relay's poll. */
void forward_poll(uint64_t now_ms);

struct forward_stats {
    unsigned long queued, sent, retries, failed, dropped;
    unsigned pending;
};
void forward_get_stats(struct forward_stats *out);

void forward_reset(void);

#endif
