#include "outbox.h"

#include <stdio.h>
#include <string.h>

#include "board.h"
#include "clock.h"
#include "hex.h"
#include "mg_err.h"
#include "pool.h"

static struct outbox_job jobs[BOARD_REPL_QUEUE];
POOL_DEFINE(repl_queue, jobs)
static unsigned long evicted;

static void record_id(const char *msg_id, uint8_t k, char out[JOURNAL_ID_MAX])
{
    snprintf(out, JOURNAL_ID_MAX, "p:%s/%02x", msg_id, k);
}

int outbox_is_record(const char *id)
{
    return id[0] == 'p' && id[1] == ':';
}

/* The message and job number a record id names; 0 if it is not one. */
static int parse_record_id(const char *id, char msg_id[OUTBOX_MSG_ID_MAX + 1], uint8_t *k)
{
    size_t n = strlen(id);
    int hi, lo;

    if (!outbox_is_record(id) || n < 6 || n - 5 > OUTBOX_MSG_ID_MAX || id[n - 3] != '/')
        return 0;
    hi = hex_digit(id[n - 2]);
    lo = hex_digit(id[n - 1]);
    if (hi < 0 || lo < 0)
        return 0;
    memcpy(msg_id, id + 2, n - 5);
    msg_id[n - 5] = '\0';
    *k = (uint8_t)(hi * 16 + lo);
    return 1;
}

static int find(const char *msg_id, uint8_t k)
{
    size_t i;

    for (i = 0; i < BOARD_REPL_QUEUE; i++)
        if (jobs[i].state != OUTBOX_FREE && jobs[i].k == k && strcmp(jobs[i].msg_id, msg_id) == 0)
            return (int)i;
    return -1;
}

/* A free slot filled in, WAITING and due now; -1 when the table is full. */
static int take(const char *msg_id, uint8_t k, const char *peer, int64_t deposited_at,
                int64_t expires_at)
{
    size_t i;

    if (pool_take(&repl_queue_pool) != 0)
        return -1;
    for (i = 0; i < BOARD_REPL_QUEUE && jobs[i].state != OUTBOX_FREE; i++)
        ;
    memset(&jobs[i], 0, sizeof(jobs[i]));
    jobs[i].state = OUTBOX_WAITING;
    jobs[i].k = k;
    strcpy(jobs[i].msg_id, msg_id);
    strcpy(jobs[i].peer, peer);
    jobs[i].deposited_at = deposited_at;
    jobs[i].expires_at = expires_at;
    return (int)i;
}

static void give(size_t i)
{
    memset(&jobs[i], 0, sizeof(jobs[i]));
    pool_give(&repl_queue_pool);
}

/* A full queue makes room by dropping the oldest waiting job of the peer
 * holding the most (a dead peer must not stop pushes to the others); 0, or
 * -1 when no peer holds more than one. */
static int evict(void)
{
    struct {
        const char *peer;
        unsigned n;
    } by[2 * BOARD_PEERS] = { { NULL, 0 } };
    size_t n_by = 0, i, j, top = 0;
    int pick = -1;

    for (i = 0; i < BOARD_REPL_QUEUE; i++) {
        if (jobs[i].state == OUTBOX_FREE)
            continue;
        for (j = 0; j < n_by && strcmp(by[j].peer, jobs[i].peer) != 0; j++)
            ;
        if (j == n_by) {
            if (n_by == sizeof(by) / sizeof(by[0]))
                continue;
            by[n_by].peer = jobs[i].peer;
            by[n_by++].n = 0;
        }
        by[j].n++;
    }
    for (j = 1; j < n_by; j++)
        if (by[j].n > by[top].n)
            top = j;
    if (n_by == 0 || by[top].n < 2)
        return -1;
    for (i = 0; i < BOARD_REPL_QUEUE; i++)
        if (jobs[i].state == OUTBOX_WAITING && strcmp(jobs[i].peer, by[top].peer) == 0 &&
            (pick < 0 || jobs[i].deposited_at < jobs[pick].deposited_at))
            pick = (int)i;
    if (pick < 0)
        return -1;
    outbox_finish((size_t)pick);
    evicted++;
    return 0;
}

int outbox_stage(const char *msg_id, uint8_t k, const char *peer, int64_t deposited_at,
                 int64_t expires_at)
{
    struct journal_deposit jd;
    int i, rc;

    if (!msg_id[0] || strlen(msg_id) > OUTBOX_MSG_ID_MAX || !peer[0] ||
        strlen(peer) >= PEER_NAME_MAX)
        return MG_ERR_INVAL;
    memset(&jd, 0, sizeof(jd));
    record_id(msg_id, k, jd.msg_id);
    strcpy(jd.from, peer);
    strcpy(jd.to, msg_id);
    jd.deposited_at = deposited_at;
    jd.expires_at = expires_at;
    if (repl_queue_pool.used == BOARD_REPL_QUEUE)
        (void)evict();
    i = take(msg_id, k, peer, deposited_at, expires_at);
    if (i < 0)
        return MG_ERR_NOSPC;
    rc = journal_append_deposit(&jd, NULL, NULL);
    if (rc != 0)
        give((size_t)i);
    return rc;
}

void outbox_finish(size_t i)
{
    char id[JOURNAL_ID_MAX];

    if (i >= BOARD_REPL_QUEUE || jobs[i].state == OUTBOX_FREE)
        return;
    record_id(jobs[i].msg_id, jobs[i].k, id);
    /* A lost delete only repeats a push, which the peer answers as a
     * duplicate. */
    (void)journal_append_delete(id);
    give(i);
}

void outbox_replay(const struct journal_deposit *d)
{
    char msg_id[OUTBOX_MSG_ID_MAX + 1];
    uint8_t k;

    if (!parse_record_id(d->msg_id, msg_id, &k) || d->expires_at <= hal_clock_wall_ms() ||
        !d->from[0] || find(msg_id, k) >= 0)
        return;   /* a second copy from an interrupted compaction is the same job */
    (void)take(msg_id, k, d->from, d->deposited_at, d->expires_at);
}

void outbox_replay_delete(const char *id)
{
    char msg_id[OUTBOX_MSG_ID_MAX + 1];
    uint8_t k;
    int i;

    if (parse_record_id(id, msg_id, &k) && (i = find(msg_id, k)) >= 0)
        give((size_t)i);
}

int outbox_is_live(const char *id)
{
    char msg_id[OUTBOX_MSG_ID_MAX + 1];
    uint8_t k;

    return parse_record_id(id, msg_id, &k) && find(msg_id, k) >= 0;
}

struct outbox_job *outbox_at(size_t i)
{
    return i < BOARD_REPL_QUEUE && jobs[i].state != OUTBOX_FREE ? &jobs[i] : NULL;
}

size_t outbox_count(void)
{
    return repl_queue_pool.used;
}

unsigned long outbox_refused(void)
{
    return repl_queue_pool.refused;
}

unsigned long outbox_evicted(void)
{
    return evicted;
}

int64_t outbox_oldest(void)
{
    int64_t oldest = 0;
    size_t i;

    for (i = 0; i < BOARD_REPL_QUEUE; i++)
        if (jobs[i].state != OUTBOX_FREE && (!oldest || jobs[i].deposited_at < oldest))
            oldest = jobs[i].deposited_at;
    return oldest;
}

void outbox_reset(void)
{
    memset(jobs, 0, sizeof(jobs));
    repl_queue_pool.used = repl_queue_pool.high_water = 0;
    repl_queue_pool.refused = 0;
    evicted = 0;
}
