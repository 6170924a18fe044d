#include "delivery.h"

#include <string.h>

#include "board.h"
#include "mg_err.h"
#include "pool.h"

/* Entries sit in a ring in the order they were sent, so the oldest (the one
 * to forget when full, the first to expire) is always at the tail; a
 * linear-probing index (slot + 1, 0 = empty) finds one by timestamp. */
#define N_SLOTS BOARD_DELIVERY_SLOTS
#define N_INDEX (4u * N_SLOTS)

_Static_assert(N_SLOTS > 0 && N_SLOTS < 65535u / 4u, "index entries are 16-bit");

static struct delivery_status slots[N_SLOTS];
static uint16_t index_[N_INDEX];
static size_t tail, count;
POOL_DEFINE(delivery, slots);

static size_t home(int64_t timestamp)
{
    return (size_t)(((uint64_t)timestamp * 0x9E3779B97F4A7C15ull) >> 32) % N_INDEX;
}

static int expired(const struct delivery_status *s, int64_t now)
{
    return now - s->sent_at > DELIVERY_KEEP_MS;
}

/* The index position holding slot, which must be indexed. */
static size_t position(size_t slot)
{
    size_t i = home(slots[slot].timestamp);

    while (index_[i] != slot + 1)
        i = (i + 1) % N_INDEX;
    return i;
}

/* Frees the tail slot: its index entry is removed by shifting back the
 * entries of the probe run behind it (no tombstones). */
static void drop_tail(void)
{
    size_t hole = position(tail), i = hole;

    for (;;) {
        size_t want;
        i = (i + 1) % N_INDEX;
        if (!index_[i])
            break;
        want = home(slots[index_[i] - 1].timestamp);
        /* Moves into the hole unless its home lies in (hole, i]. */
        if ((i > hole && (want <= hole || want > i)) || (i < hole && want <= hole && want > i)) {
            index_[hole] = index_[i];
            hole = i;
        }
    }
    index_[hole] = 0;
    memset(&slots[tail], 0, sizeof(slots[tail]));
    tail = (tail + 1) % N_SLOTS;
    count--;
}

/* The live entry for timestamp, or NULL. Entries expired by now are freed
 * first, so the table's use counts live entries only. */
static struct delivery_status *find(int64_t timestamp, int64_t now)
{
    size_t i;

    while (count && expired(&slots[tail], now)) {
        drop_tail();
        pool_give(&delivery_pool);
    }
    for (i = home(timestamp); index_[i]; i = (i + 1) % N_INDEX) {
        struct delivery_status *s = &slots[index_[i] - 1];
        if (s->timestamp == timestamp)
            return expired(s, now) ? NULL : s;   /* the clock stepped: not yet at the tail */
    }
    return NULL;
}

void delivery_sent(int64_t timestamp, int64_t now)
{
    size_t slot, i;

    if (timestamp == 0 || find(timestamp, now))
        return;
    if (count == N_SLOTS) {
        /* Full of live entries: the oldest status goes (counted). */
        delivery_pool.refused++;
        drop_tail();
    } else {
        pool_take(&delivery_pool);
    }
    slot = (tail + count) % N_SLOTS;
    slots[slot] = (struct delivery_status){ timestamp, now, 0, 0 };
    count++;
    for (i = home(timestamp); index_[i]; i = (i + 1) % N_INDEX)
        ;
    index_[i] = (uint16_t)(slot + 1);
}

int delivery_delivered(int64_t timestamp, int64_t now)
{
    struct delivery_status *s = find(timestamp, now);

    if (!s)
        return MG_ERR_NOENT;
    if (!s->delivered_at)
        s->delivered_at = now;
    return 0;
}

int delivery_read(int64_t timestamp, int64_t now)
{
    struct delivery_status *s = find(timestamp, now);

    if (!s)
        return MG_ERR_NOENT;
    if (!s->delivered_at)
        s->delivered_at = now;
    if (!s->read_at)
        s->read_at = now;
    return 0;
}

int delivery_lookup(int64_t timestamp, int64_t now, struct delivery_status *out)
{
    const struct delivery_status *s = find(timestamp, now);

    if (!s)
        return MG_ERR_NOENT;
    *out = *s;
    return 0;
}

void delivery_reset(void)
{
    memset(slots, 0, sizeof(slots));
    memset(index_, 0, sizeof(index_));
    tail = count = 0;
    delivery_pool.used = delivery_pool.high_water = 0;
    delivery_pool.refused = 0;
}
