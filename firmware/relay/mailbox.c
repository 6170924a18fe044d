#include "mailbox.h"

#include <string.h>

#include "board.h"
#include "pool.h"
#include "strhash.h"
#include "relay/users.h"

static struct msg msgs[BOARD_RELAY_MESSAGES];
POOL_DEFINE(relay_messages, msgs);

/* Chained hash of msg_ids: twice as many buckets as slots. */
#define BUCKETS (2 * BOARD_RELAY_MESSAGES)
static uint16_t buckets[BUCKETS];
static uint16_t free_head = MAILBOX_NONE;
static int ready;
static size_t n_msgs;

static uint32_t hash_of(const char *id)
{
    return strhash(id) % BUCKETS;
}

void mailbox_reset(void)
{
    size_t i;

    memset(msgs, 0, sizeof(msgs));
    for (i = 0; i < BUCKETS; i++)
        buckets[i] = MAILBOX_NONE;
    /* Free slots chained through next, lowest first. */
    for (i = 0; i < BOARD_RELAY_MESSAGES; i++)
        msgs[i].next = (uint16_t)(i + 1 < BOARD_RELAY_MESSAGES ? i + 1 : MAILBOX_NONE);
    free_head = 0;
    n_msgs = 0;
    relay_messages_pool.used = relay_messages_pool.high_water = 0;
    relay_messages_pool.refused = 0;
    ready = 1;
}

uint16_t mailbox_add(const char *msg_id, uint16_t from, uint16_t to, int64_t deposited_at,
                     int64_t expires_at, int64_t timestamp, journal_handle h, uint32_t len)
{
    struct user *u = users_at(to);
    uint16_t slot, b;
    struct msg *m;

    if (!ready)
        mailbox_reset();
    if (!u || free_head == MAILBOX_NONE || pool_take(&relay_messages_pool) != 0) {
        if (free_head == MAILBOX_NONE)
            relay_messages_pool.refused++;
        return MAILBOX_NONE;
    }
    slot = free_head;
    m = &msgs[slot];
    free_head = m->next;
    memset(m, 0, sizeof(*m));
    strncpy(m->msg_id, msg_id, sizeof(m->msg_id) - 1);
    m->state = MSG_STAGED;
    m->from = from;
    m->to = to;
    m->deposited_at = deposited_at;
    m->expires_at = expires_at;
    m->timestamp = timestamp;
    m->h = h;
    m->len = len;
    m->next = MAILBOX_NONE;
    if (u->tail == USER_NO_MSG)
        u->head = slot;
    else
        msgs[u->tail].next = slot;
    u->tail = slot;
    u->queued++;
    b = (uint16_t)hash_of(m->msg_id);
    m->hash_next = buckets[b];
    buckets[b] = slot;
    n_msgs++;
    return slot;
}

void mailbox_remove(uint16_t slot)
{
    struct msg *m;
    struct user *u;
    uint16_t *p, prev = MAILBOX_NONE, i;

    if (slot >= BOARD_RELAY_MESSAGES || msgs[slot].state == MSG_FREE)
        return;
    m = &msgs[slot];
    u = users_at(m->to);
    for (p = &buckets[hash_of(m->msg_id)]; *p != MAILBOX_NONE; p = &msgs[*p].hash_next)
        if (*p == slot) {
            *p = m->hash_next;
            break;
        }
    for (i = u ? u->head : MAILBOX_NONE; i != MAILBOX_NONE && i != slot; i = msgs[i].next)
        prev = i;
    if (u && i == slot) {
        if (prev == MAILBOX_NONE)
            u->head = m->next;
        else
            msgs[prev].next = m->next;
        if (u->tail == slot)
            u->tail = prev;
        u->queued--;
    }
    memset(m, 0, sizeof(*m));
    m->next = free_head;
    free_head = slot;
    n_msgs--;
    pool_give(&relay_messages_pool);
}

struct msg *mailbox_at(uint16_t slot)
{
    return slot < BOARD_RELAY_MESSAGES ? &msgs[slot] : NULL;
}

uint16_t mailbox_find(const char *msg_id)
{
    uint16_t i;

    if (!ready)
        return MAILBOX_NONE;
    for (i = buckets[hash_of(msg_id)]; i != MAILBOX_NONE; i = msgs[i].hash_next)
        if (strcmp(msgs[i].msg_id, msg_id) == 0)
            return i;
    return MAILBOX_NONE;
}

uint16_t mailbox_first(uint16_t to)
{
    struct user *u = users_at(to);

    return u ? u->head : MAILBOX_NONE;
}

uint16_t mailbox_next(uint16_t slot)
{
    return msgs[slot].next;
}

uint32_t mailbox_pending(uint16_t from, uint16_t to)
{
    uint32_t n = 0;
    uint16_t i;

    for (i = mailbox_first(to); i != MAILBOX_NONE; i = msgs[i].next)
        n += msgs[i].from == from;
    return n;
}

uint32_t mailbox_depth(uint16_t to)
{
    struct user *u = users_at(to);

    return u ? u->queued : 0;
}

size_t mailbox_count(void)
{
    return n_msgs;
}
