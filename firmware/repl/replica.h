/* The bytes of mailbox replication (PROTOCOLS.md 5), without the network
 * or the mailbox: the pushed body, the receiver's order of checks and its
 * answers, a push answer's meaning, and the X-Peer-Url / X-Peer-HMAC
 * authentication against the running config.
 *
 * X-Peer-Url is the URL the push is addressed to, normalized: the target
 * peer's, as section 5 says and the reference's sender writes it, and the
 * key is derived from it. A receiver takes its own URL there, or one its
 * fleet list names (the reference's allowed list holds every relay, the
 * receiver included). The secret of the peering tells who pushed: each
 * configured peer's own secret is tried, then the global one, which only
 * peers without a secret of their own may use. */
#ifndef REPLICA_H
#define REPLICA_H

#include <stddef.h>
#include <stdint.h>

#include "confsync/config.h"
#include "net/http_parse.h"
#include "relay/journal.h"
#include "relay/users.h"

#define REPLICA_BODY_MAX (64 * 1024)   /* larger bodies get 413 (section 5) */

/* One replicated message, {"envelope":{msg_id, from, to, envelope,
 * deposited_at}}; envelope points into the parsed text (the JSON value as
 * its sender wrote it: an object, or a string from a relay that sends
 * ciphertext as text). */
struct replica {
    char msg_id[JOURNAL_ID_MAX];
    char from[USER_ID_MAX], to[USER_ID_MAX];
    int64_t deposited_at;
    const char *envelope;
    size_t envelope_len;
};

/* 1 if s is a msg_id of section 5: "dm_" 1-19 digits "_" 12 lowercase hex.
 * Nothing else is taken: a journal record id ("r:", "b:", "p:") is never a
 * message. */
int replica_msg_id_ok(const char *s);

/* Parses a replica from the object at obj of d (d's text is body). 0, or
 * MG_ERR_INVAL with *why: not an object, a field missing or of the wrong
 * kind, an id the relay would not take, an envelope over max_envelope. */
struct json_doc;
int replica_from_json(const struct json_doc *d, int obj, size_t max_envelope, struct replica *r,
                      const char **why);

/* Parses a pushed body. 0; MG_ERR_INVAL (not JSON, or *why names what is
 * wrong). */
int replica_parse(const char *body, size_t len, size_t max_envelope, struct replica *r,
                  const char **why);

/* Writes a replica's JSON object {msg_id, from, to, envelope, deposited_at}
 * at b (the pushed body wraps it as {"envelope":...}). */
struct textbuf;
void replica_write(struct textbuf *b, const struct replica *r);

/* What the receiver knows when it decides, in the order it checks them. */
struct replica_facts {
    int authenticated;          /* X-Peer-HMAC or section 4 */
    int parsed;                 /* replica_parse() returned 0 */
    const char *why;            /* if not: what replica_parse() said */
    int duplicate;              /* msg_id held, or acked here already */
    uint32_t depth, mailbox_cap;
    uint32_t pending, limit;    /* unacked from -> to; the per-sender cap */
};

/* The receiver's decision (section 5): 1 when the replica is to be
 * stored (answered {"ok":true,"msg_id"} once durable, by the caller);
 * otherwise 0 with *status and the JSON answer in out. */
int replica_decide(const struct replica_facts *f, const char *msg_id, int *status, char *out,
                   size_t cap);

/* The answer to a replica stored. */
void replica_stored_json(const char *msg_id, char *out, size_t cap);

/* What a push's answer means to the sender. */
enum replica_outcome {
    REPLICA_OK,          /* stored, or a duplicate: done */
    REPLICA_REFUSED,     /* cap_violation or a full mailbox: done, never retried */
    REPLICA_RETRY,       /* anything else (auth, 5xx, garbage): later */
};
enum replica_outcome replica_outcome(int status, const char *body, size_t len, int *duplicate);

/* Checks X-Peer-Url and X-Peer-HMAC of a push to this gateway at self_url
 * against cfg's peers (their own secrets, else gateway.peer_secret). 0 with
 * *peer the name of the peer whose own secret verified, or "" for the
 * global one (static storage); MG_ERR_AUTH when a header is missing, the
 * URL names neither this gateway nor a peer of its, no secret applies, or
 * the HMAC is wrong. */
int replica_auth_hmac(const struct config *cfg, const char *self_url,
                      const struct http_request *req, const char *body, size_t len,
                      const char **peer);

/* The secret this gateway shares with the peer called name: its
 * gateway.peers[] secret, else gateway.peer_secret; NULL when neither. */
const uint8_t *replica_secret(const struct config *cfg, const char *name, size_t *len);

/* The X-Peer-Url and X-Peer-HMAC header lines of a push of body to the
 * peer at target_url, signed with the secret of that peering. 0,
 * MG_ERR_INVAL for a URL that does not normalize, MG_ERR_TOOBIG when out is
 * short. */
int replica_auth_headers(const uint8_t *secret, size_t secret_len, const char *target_url,
                         const void *body, size_t len, char *out, size_t cap);

#endif
