/* The coordinator's registry (PROTOCOLS.md 3): the nodes that registered,
 * their services and status, and the sovereign keys that approve them.
 * Fixed tables sized in board.h (BOARD_COORD_NODES, BOARD_COORD_SERVICES
 * per node, BOARD_COORD_SOVEREIGNS), shown as pools by `mem`.
 *
 * Durability: every change of a node (registration, status, address) and
 * of the sovereign set is written to the `registry` partition through the
 * record store before the call returns 0; a failed write changes nothing
 * in RAM. Heartbeats themselves are not written: 64 nodes beating every
 * 2 min would be ~1,900 records (~0.5 MiB) an hour, every sector of the
 * 64 KiB partition erased ~200 times a day, worn out in about a year and a
 * half. After a reboot each node's last heartbeat counts from the boot,
 * and its replay floor is the wall clock at boot. One record per node slot (id 0x100 + slot), one for
 * all sovereigns (id 1); a record that reads back corrupt keeps its slot
 * out of use rather than being written over. */
#ifndef COORD_REGISTRY_H
#define COORD_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "ed25519.h"
#include "flash.h"
#include "pool.h"

#define COORD_ID_MAX        64    /* bytes with the NUL: a node id */
#define COORD_HOST_MAX      64    /* tailscaleHostname: a DNS label */
#define COORD_IP_MAX        46    /* tailscaleIP (an IPv6 text fits) */
#define COORD_SVC_TYPE_MAX  24
#define COORD_SVC_KEY_MAX   80    /* a service's publicKey: an ed25519_ key, base64 */
#define COORD_DESC_MAX      64    /* a sovereign's description */

/* The tables' pools (node slots in use, corrupt ones included; sovereigns). */
extern struct pool_stat coord_nodes_pool, coord_sovereigns_pool;

enum coord_status { COORD_PENDING, COORD_ACTIVE, COORD_DENIED, COORD_OFFLINE,
                    COORD_N_STATUS };

struct coord_service {
    char type[COORD_SVC_TYPE_MAX];
    uint16_t port;
    char key[COORD_SVC_KEY_MAX];          /* "" when none */
};

struct coord_node {
    char id[COORD_ID_MAX];
    uint8_t pub[ED25519_PUB_LEN];
    char host[COORD_HOST_MAX];
    char ip[COORD_IP_MAX];                /* "" until known */
    enum coord_status status;
    int64_t registered_at;                /* wall ms */
    int64_t heartbeat_at;                 /* wall ms of the last accepted one, 0: none */
    int64_t last_ts;                      /* its timestamp: the replay floor */
    uint64_t seen_ms;                     /* monotonic: last heartbeat, approval or boot */
    size_t n_services;
    struct coord_service services[BOARD_COORD_SERVICES];
};

struct coord_sovereign {
    uint8_t pub[ED25519_PUB_LEN];
    char desc[COORD_DESC_MAX];
};

/* Mounts the partition and loads what it holds; now_ms / wall_ms are the
 * boot's clocks (the heartbeat baseline). 0, or the store's error: the
 * registry is then empty and every change answers MG_ERR_IO. */
int registry_mount(const struct hal_flash_part *part, uint64_t now_ms, int64_t wall_ms);

/* Forgets everything in RAM and unmounts (tests, before a remount). */
void registry_reset(void);

/* Nodes, in slot order: i from 0 to registry_slots() - 1; NULL for an
 * empty or corrupt slot. */
size_t registry_slots(void);
const struct coord_node *registry_at(size_t i);
const struct coord_node *registry_find(const char *id);
size_t registry_count(enum coord_status st);
/* Nodes of every status. */
size_t registry_nodes(void);
/* Node slots whose record reads back corrupt (kept out of use). */
size_t registry_corrupt(void);
/* 1 when the sovereign record reads back corrupt: the set is then empty and
 * adding answers MG_ERR_CORRUPT until the partition is reset. */
int registry_sovereigns_corrupt(void);

/* Adds n (status pending, or whatever n says). 0; MG_ERR_EXIST if its id
 * is taken, MG_ERR_NOSPC when the table is full, MG_ERR_IO / MG_ERR_NOSPC
 * from flash. Nothing changes unless it returns 0. */
int registry_add(const struct coord_node *n);

/* Sets the status of node id (seen_ms = now_ms when it becomes active).
 * 0, MG_ERR_NOENT, or the flash's error with nothing changed. */
int registry_set_status(const char *id, enum coord_status st, uint64_t now_ms);

/* An accepted heartbeat: records ts, the time and ip (when not NULL or
 * ""), and makes an offline node active again. Writes flash only when the
 * status or the address changes. 0, MG_ERR_NOENT, or a flash error with
 * nothing changed. */
int registry_heartbeat(const char *id, int64_t ts, const char *ip, uint64_t now_ms,
                       int64_t wall_ms);

/* Marks offline every active node not seen for more than after_ms; the
 * number so marked. A node whose write fails stays active (and is tried
 * again at the next check). */
size_t registry_mark_offline(uint64_t now_ms, uint64_t after_ms);

/* Sovereign keys. Adding: 0, MG_ERR_EXIST, MG_ERR_NOSPC (table full),
 * MG_ERR_CORRUPT (see below), or a flash error with nothing changed. */
int registry_sovereign_add(const uint8_t pub[ED25519_PUB_LEN], const char *desc);
int registry_is_sovereign(const uint8_t pub[ED25519_PUB_LEN]);
size_t registry_sovereign_count(void);
const struct coord_sovereign *registry_sovereign_at(size_t i);

const char *coord_status_name(enum coord_status st);
/* The status called name; 0, or MG_ERR_INVAL. */
int coord_status_parse(const char *name, enum coord_status *out);

#endif
