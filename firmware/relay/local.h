/* The relay for clients inside the firmware (the telemetry probe): the same
 * users, bundles, mailboxes and journal as the HTTP API of PROTOCOLS.md
 * section 1, without a socket. A caller is trusted as the id it names (it
 * is the gateway's own code), so no request signature is checked; every
 * other rule is the HTTP one: envelope validation, the controller's policy,
 * the mailbox and per-sender caps, and durability before success. Each call
 * commits the journal itself, so it has finished when it returns. */
#ifndef RELAY_LOCAL_H
#define RELAY_LOCAL_H

#include <stddef.h>
#include <stdint.h>

#include "relay/journal.h"
#include "relay/users.h"

/* Registers id bound to identity (0x05 || X25519 public key), durably.
 * 0 (also when already so bound); MG_ERR_EXIST bound to another key;
 * MG_ERR_INVAL a bad id; MG_ERR_NOSPC the user table is full; MG_ERR_IO
 * the journal is not mounted or refused. */
int relay_local_register(const char *id, const uint8_t identity[33]);

/* Publishes id's bundle (the JSON of POST /v1/prekeys's "bundle"), durably.
 * MG_ERR_NOENT id not registered; MG_ERR_INVAL a bundle the relay refuses or
 * of another identity; MG_ERR_IO as above. */
int relay_local_publish(const char *id, const char *bundle, size_t len);

/* id's bundle as GET /v1/prekeys/:id serves it (a one-time prekey handed
 * out is gone, durably): its length, NUL-terminated in out; MG_ERR_NOENT
 * no bundle; MG_ERR_TOOBIG; MG_ERR_IO. */
int relay_local_bundle(const char *id, char *out, size_t cap);

/* Would a deposit from -> to pass the caps now? The HTTP status
 * POST /v1/messages would answer for them (200 yes; 404 an id not
 * registered; 403 no config; 429 a cap; 503 storage), *why its error. It
 * counts nothing: a caller checks before spending a Signal message key. */
int relay_local_admit(const char *from, const char *to, const char **why);

/* Deposits envelope (the JSON object of PROTOCOLS.md 1) from -> to through
 * the checks of POST /v1/messages; returns its status once the message is
 * durable (200) or refused (400, 403, 404, 413, 429, 503), *why the error. */
int relay_local_deposit(const char *from, const char *to, const char *envelope, size_t len,
                        const char **why);

/* The oldest message queued for id (a local user reads its mailbox this
 * way rather than over a WebSocket). */
struct relay_local_msg {
    char msg_id[JOURNAL_ID_MAX];
    char from[USER_ID_MAX];
    size_t len;                 /* envelope bytes in the caller's buffer */
};
/* 0 with *m and envelope (NUL-terminated) filled; MG_ERR_NOENT none;
 * MG_ERR_TOOBIG cap is short (*m is filled, the envelope is not: the
 * caller may ack it away); MG_ERR_CORRUPT its record was unreadable and the
 * message is dropped (call again for the next). */
int relay_local_fetch(const char *id, struct relay_local_msg *m, char *envelope, size_t cap);

/* Deletes a message id has read (its ack); MG_ERR_NOENT not id's. */
int relay_local_ack(const char *id, const char *msg_id);

#endif
