/* The relay's messages in RAM: a fixed table of slots (BOARD_RELAY_MESSAGES)
 * indexing what the journal holds (journal.h keeps the envelopes), one queue
 * per recipient, oldest first, and a hash from msg_id to slot. A slot goes
 * through: STAGED (appended to the journal, not yet committed: nobody may
 * see it), QUEUED (durable, waiting for the recipient), SENT (pushed to an
 * acking socket, waiting for its ack), then free (acked, delivered to a
 * legacy client, or expired; its delete is journaled). */
#ifndef MAILBOX_H
#define MAILBOX_H

#include <stddef.h>
#include <stdint.h>

#include "relay/journal.h"

#define MAILBOX_NONE 0xFFFFu

enum msg_state { MSG_FREE, MSG_STAGED, MSG_QUEUED, MSG_SENT };

struct msg {
    char msg_id[JOURNAL_ID_MAX];
    uint8_t state;
    uint16_t from, to;           /* user indices (users.h) */
    uint16_t next;               /* in the recipient's queue */
    uint16_t hash_next;
    int64_t deposited_at, expires_at, timestamp;  /* timestamp: the envelope's */
    journal_handle h;
    uint32_t len;                /* envelope bytes */
};

/* Takes a slot for a new message to user to (state STAGED, at the queue's
 * end); MAILBOX_NONE when the table is full. */
uint16_t mailbox_add(const char *msg_id, uint16_t from, uint16_t to, int64_t deposited_at,
                     int64_t expires_at, int64_t timestamp, journal_handle h, uint32_t len);
/* Frees a slot and takes it out of its queue and the hash. */
void mailbox_remove(uint16_t slot);
struct msg *mailbox_at(uint16_t slot);
/* The slot holding msg_id, or MAILBOX_NONE. */
uint16_t mailbox_find(const char *msg_id);
/* The recipient's queue: first slot, and the one after slot. */
uint16_t mailbox_first(uint16_t to);
uint16_t mailbox_next(uint16_t slot);
/* Unacked messages from -> to (STAGED, QUEUED or SENT): the per-sender cap. */
uint32_t mailbox_pending(uint16_t from, uint16_t to);
/* Messages held for to (the per-recipient cap). */
uint32_t mailbox_depth(uint16_t to);
size_t mailbox_count(void);
void mailbox_reset(void);

#endif
