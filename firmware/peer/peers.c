#include "peers.h"

#include <string.h>

#include "board.h"
#include "mg_err.h"

struct slot {
    int used;
    int listed;        /* put since its source's sync began */
    struct peer p;
};

static struct slot table[BOARD_PEERS];
POOL_DEFINE(peers, table)

static struct slot *find(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < BOARD_PEERS; i++)
        if (table[i].used && strlen(table[i].p.name) == len &&
            memcmp(table[i].p.name, name, len) == 0)
            return &table[i];
    return NULL;
}

int peers_put(const struct peer *p)
{
    size_t len = strnlen(p->name, PEER_NAME_MAX), i;
    struct slot *s;

    if (len == 0 || len == PEER_NAME_MAX)
        return MG_ERR_INVAL;
    s = find(p->name, len);
    if (s && s->p.source == PEER_STATIC && p->source != PEER_STATIC) {
        s->p.last_seen_ms = p->last_seen_ms;
        return MG_ERR_PERM;
    }
    if (!s) {
        for (i = 0; i < BOARD_PEERS && table[i].used; i++)
            ;
        /* pool_take() counts the refusal when the table is full. */
        if (pool_take(&peers_pool) != 0 || i == BOARD_PEERS)
            return MG_ERR_NOSPC;
        s = &table[i];
        s->used = 1;
    }
    s->p = *p;
    s->listed = 1;
    return 0;
}

const struct peer *peers_find(const char *name, size_t len)
{
    const struct slot *s = find(name, len);

    return s ? &s->p : NULL;
}

void peers_seen(const char *name, size_t len, int64_t now_ms)
{
    struct slot *s = find(name, len);

    if (s)
        s->p.last_seen_ms = now_ms;
}

void peers_sync_begin(enum peer_source src)
{
    size_t i;

    for (i = 0; i < BOARD_PEERS; i++)
        if (table[i].used && table[i].p.source == src)
            table[i].listed = 0;
}

size_t peers_sync_end(enum peer_source src)
{
    size_t i, dropped = 0;

    for (i = 0; i < BOARD_PEERS; i++) {
        if (table[i].used && table[i].p.source == src && !table[i].listed) {
            memset(&table[i], 0, sizeof(table[i]));
            pool_give(&peers_pool);
            dropped++;
        }
    }
    return dropped;
}

const struct peer *peers_slot(size_t i)
{
    return i < BOARD_PEERS && table[i].used ? &table[i].p : NULL;
}

size_t peers_count(void)
{
    return peers_pool.used;
}

void peers_reset(void)
{
    memset(table, 0, sizeof(table));
    peers_pool.used = peers_pool.high_water = 0;
    peers_pool.refused = 0;
}
