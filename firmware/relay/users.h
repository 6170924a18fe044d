/* The relay's users and their prekey bundles (PROTOCOLS.md section 1), in a
 * fixed table (BOARD_RELAY_USERS). A user is an id, the identity key it
 * registered with (signed mode), its bundle and its mailbox queue (kept by
 * mailbox.c). Bundles are kept parsed, as base64 text checked to decode to
 * the right lengths, and served back in one field order. */
#ifndef USERS_H
#define USERS_H

#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "json/json.h"
#include "relay/journal.h"

struct http_conn;

#define USER_ID_MAX     64      /* bytes of an id, NUL included */
#define USER_B64_33     45      /* base64 of 33 bytes, NUL included */
#define USER_B64_64     89
#define USER_B64_KYBER  2093    /* base64 of a 1569-byte Kyber public key */
#define USER_NO_MSG     0xFFFFu

struct user_prekey {
    uint32_t id;
    char pub[USER_B64_33];
};

struct user_bundle {
    int present;
    int64_t device_id, registration_id;
    char identity[USER_B64_33];
    uint32_t spk_id;
    char spk_pub[USER_B64_33], spk_sig[USER_B64_64];
    int has_prekey;
    struct user_prekey prekey;            /* served when no one-time key is left */
    size_t n_onetime;
    struct user_prekey onetime[BOARD_RELAY_ONETIME];   /* handed out once each */
    int has_kyber;
    uint32_t kyber_id;
    char kyber_pub[USER_B64_KYBER], kyber_sig[USER_B64_64];
};

struct user {
    char id[USER_ID_MAX];
    int has_key;
    uint8_t identity[33];                 /* 0x05 || X25519 public key */
    struct user_bundle bundle;
    /* Its mailbox: a queue of message slots, oldest first (mailbox.c). */
    uint16_t head, tail;
    uint32_t queued;
    char tag[17];                         /* 16 hex of SHA-256(id): its journal name */
    /* Its records in the journal (relay.c): versions and the bundle's. */
    uint32_t reg_seq, bundle_seq;
    journal_handle bundle_h;              /* 0: none */
    /* Its WebSocket, when connected. */
    struct http_conn *ws;
    int ws_ack;                           /* connected with &ack=1 */
};

/* The user called id, or NULL. */
struct user *users_find(const char *id);
/* Adds id (1..USER_ID_MAX-1 bytes); NULL when the table is full. */
struct user *users_add(const char *id);
struct user *users_at(uint16_t index);
uint16_t users_index(const struct user *u);
size_t users_count(void);
size_t users_bundles(void);
void users_reset(void);

/* Parses a bundle object (PROTOCOLS.md 1) into *out. 0, or MG_ERR_INVAL
 * with *why naming the field. */
int users_parse_bundle(const struct json_doc *d, int obj, struct user_bundle *out,
                       const char **why);

/* Writes the bundle as JSON (for GET /v1/prekeys/:id) into out; takes the
 * next one-time prekey as "preKey" if there is one (and consumes it). The
 * length, or MG_ERR_TOOBIG. */
int users_serve_bundle(struct user *u, char *out, size_t cap);

/* Writes the whole bundle, one-time prekeys as "preKeys", in the form
 * users_parse_bundle() reads back (the journal keeps it so). The length, or
 * MG_ERR_TOOBIG. */
int users_store_bundle(const struct user *u, char *out, size_t cap);

/* Checks standard base64 (padded) without decoding it: the byte count it
 * would decode to, or -1. */
int users_b64_check(const char *s, size_t len);

/* Decodes standard base64 (padded) into out: the byte count, or -1. */
int users_b64_decode(const char *s, size_t len, uint8_t *out, size_t cap);

#endif
