#include "policy.h"

#include <string.h>

#include "board.h"
#include "config.h"
#include "pool.h"

/* Fixed windows: a minute and an hour, each counted from its first
 * deposit. */
struct rate {
    char sender[CONFIG_ID_MAX];
    int64_t minute_start, hour_start, last_seen;
    uint32_t in_minute, in_hour;
};

static struct rate rates[BOARD_RELAY_USERS];
POOL_DEFINE(policy_rates, rates);

static int listed(const struct config *c, const char *sender)
{
    size_t i;

    if (c->allow_all)
        return 1;
    for (i = 0; i < c->n_allowed; i++)
        if (strcmp(c->allowed[i], sender) == 0)
            return 1;
    return 0;
}

static struct rate *rate_of(const char *sender, int64_t now)
{
    struct rate *free_slot = NULL, *oldest = NULL;
    size_t i;

    for (i = 0; i < BOARD_RELAY_USERS; i++) {
        struct rate *r = &rates[i];
        if (r->sender[0] == '\0') {
            if (!free_slot)
                free_slot = r;
            continue;
        }
        if (strcmp(r->sender, sender) == 0)
            return r;
        if (!oldest || r->last_seen < oldest->last_seen)
            oldest = r;
    }
    if (free_slot) {
        pool_take(&policy_rates_pool);
    } else {
        /* Full: the least recently seen sender's counters are reused, so a
         * flood of new ids cannot reset anyone's limits but its own. */
        policy_rates_pool.refused++;
        free_slot = oldest;
    }
    memset(free_slot, 0, sizeof(*free_slot));
    strncpy(free_slot->sender, sender, sizeof(free_slot->sender) - 1);
    free_slot->minute_start = free_slot->hour_start = now;
    return free_slot;
}

static uint32_t seconds_until(int64_t when, int64_t now)
{
    int64_t ms = when - now;

    return ms <= 0 ? 1 : (uint32_t)((ms + 999) / 1000);
}

struct policy_verdict policy_deposit(const char *sender, int64_t now)
{
    const struct config *c = config_current();
    struct policy_verdict v = { 0, NULL, 0 };
    struct rate *r;

    if (!c)
        return (struct policy_verdict){ 403, "not_configured", 0 };
    if (!listed(c, sender))
        return (struct policy_verdict){ 403, "sender_not_allowed", 0 };
    if (c->kill_switch)
        return (struct policy_verdict){ 503, "kill_switch", 0 };
    if (!c->max_per_minute && !c->max_per_hour)
        return v;
    r = rate_of(sender, now);
    r->last_seen = now;
    if (now - r->minute_start >= 60000 || now < r->minute_start) {
        r->minute_start = now;
        r->in_minute = 0;
    }
    if (now - r->hour_start >= 3600000 || now < r->hour_start) {
        r->hour_start = now;
        r->in_hour = 0;
    }
    if (c->max_per_minute && r->in_minute >= c->max_per_minute)
        return (struct policy_verdict){ 429, "rate_limited",
                                        seconds_until(r->minute_start + 60000, now) };
    if (c->max_per_hour && r->in_hour >= c->max_per_hour)
        return (struct policy_verdict){ 429, "rate_limited",
                                        seconds_until(r->hour_start + 3600000, now) };
    r->in_minute++;
    r->in_hour++;
    return v;
}

void policy_reset(void)
{
    memset(rates, 0, sizeof(rates));
    policy_rates_pool.used = policy_rates_pool.high_water = 0;
    policy_rates_pool.refused = 0;
}
