#include "delivery.h"

#include <string.h>

#include "board.h"
#include "mg_err.h"
#include "pool.h"

static struct delivery_status slots[BOARD_DELIVERY_SLOTS];
POOL_DEFINE(delivery, slots);

static int expired(const struct delivery_status *s, int64_t now)
{
    return now - s->sent_at > DELIVERY_KEEP_MS;
}

/* The live entry for timestamp, or NULL. Expired entries found on the way
 * are freed, so the table's use counts live entries only. */
static struct delivery_status *find(int64_t timestamp, int64_t now)
{
    size_t i;

    for (i = 0; i < BOARD_DELIVERY_SLOTS; i++) {
        struct delivery_status *s = &slots[i];
        if (s->timestamp == 0)
            continue;
        if (expired(s, now)) {
            memset(s, 0, sizeof(*s));
            pool_give(&delivery_pool);
            continue;
        }
        if (s->timestamp == timestamp)
            return s;
    }
    return NULL;
}

void delivery_sent(int64_t timestamp, int64_t now)
{
    struct delivery_status *s = find(timestamp, now), *oldest = NULL;
    size_t i;

    if (s || timestamp == 0)
        return;
    for (i = 0; i < BOARD_DELIVERY_SLOTS && !s; i++) {
        if (slots[i].timestamp == 0)
            s = &slots[i];
        else if (!oldest || slots[i].sent_at < oldest->sent_at)
            oldest = &slots[i];
    }
    if (s) {
        pool_take(&delivery_pool);
    } else {
        /* Full of live entries: the oldest status goes (counted). */
        delivery_pool.refused++;
        s = oldest;
    }
    *s = (struct delivery_status){ timestamp, now, 0, 0 };
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
    delivery_pool.used = delivery_pool.high_water = 0;
    delivery_pool.refused = 0;
}
