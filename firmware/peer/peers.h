/* The peer registry: the other gateways this one knows by name, with where
 * to reach them and the key their signed requests (PROTOCOLS.md 4) must
 * verify under. A fixed table (BOARD_PEERS) fed by two sources: the static
 * config (gateway.peers[]) and the coordinator's list of active nodes. A
 * static entry is the operator's word: a coordinator listing never replaces
 * it. Each source is synced whole: peers_sync_begin(), peers_put() for each
 * entry it lists, peers_sync_end() drops that source's entries not put. */
#ifndef PEERS_H
#define PEERS_H

#include <stddef.h>
#include <stdint.h>

#include "ed25519.h"
#include "pool.h"

#define PEER_NAME_MAX 64    /* with the NUL */

enum peer_source { PEER_STATIC, PEER_COORDINATOR };

struct peer {
    char name[PEER_NAME_MAX];
    char host[16];                        /* dotted IPv4 */
    uint16_t port;                        /* its peer listener (section 4) */
    uint16_t relay_port, coord_port;      /* services it announced; 0: none */
    int has_key;
    uint8_t public_key[ED25519_PUB_LEN];
    enum peer_source source;
    int64_t last_seen_ms;                 /* wall clock: last listed or verified; 0 never */
};

extern struct pool_stat peers_pool;

/* Inserts p, or replaces the entry of that name. MG_ERR_NOSPC when the table
 * is full (counted as a refusal), MG_ERR_PERM when a coordinator entry would
 * replace a static one (that one is only marked as listed), MG_ERR_INVAL
 * for an empty name. */
int peers_put(const struct peer *p);

/* The entry named name[0..len), or NULL. */
const struct peer *peers_find(const char *name, size_t len);

/* Records that the peer name proved itself (a verified request) at now_ms. */
void peers_seen(const char *name, size_t len, int64_t now_ms);

void peers_sync_begin(enum peer_source s);
/* Drops the entries of s not put since peers_sync_begin(s); how many. */
size_t peers_sync_end(enum peer_source s);

/* Iterating: the entry in slot i (0 <= i < BOARD_PEERS), NULL if free. */
const struct peer *peers_slot(size_t i);
size_t peers_count(void);

/* Empties the table (boot, tests). */
void peers_reset(void);

#endif
