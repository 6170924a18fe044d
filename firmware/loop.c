#include "loop.h"

#include "clock.h"
#include "diag/log.h"
#include "keystore.h"
#include "lwip/timeouts.h"
#include "mg_err.h"
#include "net/netif_tap.h"
#include "wait.h"

/* The longest the loop sleeps with nothing due: bounds the latency of any
 * deadline a service forgot to report. */
#define LOOP_MAX_SLEEP_MS 100

static const struct service *services[LOOP_MAX_SERVICES];
static struct loop_stats stats;
static volatile int stop, reboot;

int loop_add(const struct service *s)
{
    if (stats.n_services == LOOP_MAX_SERVICES)
        return MG_ERR_NOSPC;
    services[stats.n_services] = s;
    stats.services[stats.n_services].name = s->name;
    stats.n_services++;
    return 0;
}

int loop_init_services(const char **failed)
{
    int i, rc;

    stats.started_ms = hal_clock_ms();
    for (i = 0; i < stats.n_services; i++) {
        const uint16_t *k;
        for (k = services[i]->keys; k && *k; k++)
            if (keystore_state(*k) != KS_PRESENT)
                break;
        if (k && *k) {
            const struct ks_key_info *ki = keystore_key_info(*k);
            stats.services[i].missing_key = *k;
            log_printf("%s: not started: key %s is %s", services[i]->name,
                       ki ? ki->name : "?",
                       keystore_state(*k) == KS_CORRUPT ? "corrupt" : "missing");
            continue;
        }
        stats.services[i].started = 1;
        if (!services[i]->init)
            continue;
        rc = services[i]->init();
        if (rc != 0) {
            *failed = services[i]->name;
            return rc;
        }
    }
    return 0;
}

static int wait_budget(uint64_t now, int max_wait_ms)
{
    uint64_t due = now + (uint64_t)max_wait_ms;
    uint32_t lwip_sleep = sys_timeouts_sleeptime();
    int i;

    if (lwip_sleep != SYS_TIMEOUTS_SLEEPTIME_INFINITE && now + lwip_sleep < due)
        due = now + lwip_sleep;
    if (netif_tap_loop_pending())
        return 0;
    for (i = 0; i < stats.n_services; i++) {
        if (stats.services[i].started && services[i]->next_deadline) {
            uint64_t d = services[i]->next_deadline(now);
            if (d < due)
                due = d;
        }
    }
    return due <= now ? 0 : (int)(due - now);
}

void loop_pass(int max_wait_ms)
{
    /* One clock read per service: each one's end is the next one's start
     * (hal_clock_ms() is hal_clock_us() / 1000: one monotonic count). */
    uint64_t start = hal_clock_us(), now = start / 1000, t0, t1, spent;
    int i;

    netif_tap_poll();
    sys_check_timeouts();
    t0 = hal_clock_us();
    for (i = 0; i < stats.n_services; i++) {
        if (!stats.services[i].started || !services[i]->poll)
            continue;
        services[i]->poll(now);
        t1 = hal_clock_us();
        spent = t1 - t0;
        t0 = t1;
        stats.services[i].total_poll_us += spent;
        if (spent > stats.services[i].longest_poll_us)
            stats.services[i].longest_poll_us = spent;
    }
    stats.passes++;
    spent = t0 - start;
    if (spent > stats.longest_pass_us)
        stats.longest_pass_us = spent;
    hal_wait(wait_budget(t0 / 1000, max_wait_ms));
}

void loop_run(void)
{
    stop = 0;
    while (!stop)
        loop_pass(LOOP_MAX_SLEEP_MS);
}

void loop_stop(void)
{
    stop = 1;
}

void loop_reboot(void)
{
    reboot = 1;
    stop = 1;
}

int loop_reboot_requested(void)
{
    return reboot;
}

int loop_service_count(void)
{
    return stats.n_services;
}

const struct service *loop_service(int i)
{
    return i >= 0 && i < stats.n_services ? services[i] : NULL;
}

const struct loop_stats *loop_get_stats(void)
{
    return &stats;
}
