/* The superloop (DESIGN.md section 1): each pass drains the network into
 * lwIP, runs lwIP's timers, polls every service once, then waits for input or
 * the earliest deadline. No service may block or loop unboundedly in poll. */
#ifndef LOOP_H
#define LOOP_H

#include <stddef.h>
#include <stdint.h>

struct console_cmd;

#define LOOP_MAX_SERVICES 16
#define LOOP_NO_DEADLINE  UINT64_MAX

struct service {
    const char *name;
    /* Called once before the heap is sealed; 0 or an MG_ERR_* code. */
    int (*init)(void);
    /* One bounded step of work at time now (hal_clock_ms()). */
    void (*poll)(uint64_t now);
    /* The next time (ms) this service needs a poll, or LOOP_NO_DEADLINE. */
    uint64_t (*next_deadline)(uint64_t now);
    /* Its console commands (a static table), registered at init. */
    const struct console_cmd *commands;
    size_t n_commands;
    /* Keystore ids it cannot run without, 0-terminated, or NULL. Unless
     * every one is present the service is not started (DESIGN.md 6). */
    const uint16_t *keys;
};

struct loop_service_stats {
    const char *name;
    int started;              /* init ran and succeeded */
    uint16_t missing_key;     /* why it did not start: a key not present */
    uint64_t longest_poll_us;
    uint64_t total_poll_us;
};

struct loop_stats {
    uint64_t passes;
    uint64_t longest_pass_us;
    uint64_t started_ms;
    int n_services;
    struct loop_service_stats services[LOOP_MAX_SERVICES];
};

/* Registers a service (in poll order); MG_ERR_NOSPC when the table is full. */
int loop_add(const struct service *s);

/* Runs every registered service's init; the first failure is returned and
 * named in *failed. A service whose keys are not all present is skipped,
 * logged and left out of the loop; that is not a failure. */
int loop_init_services(const char **failed);

/* Runs passes until loop_stop() is called. */
void loop_run(void);

/* Makes loop_run() return after the current pass (halt, tests). */
void loop_stop(void);

/* Like loop_stop(), and loop_reboot_requested() says so afterwards: main
 * then restarts the firmware image. */
void loop_reboot(void);
int loop_reboot_requested(void);

/* The registered services, in poll order. */
int loop_service_count(void);
const struct service *loop_service(int i);

/* One pass with at most max_wait_ms of waiting (tests and loop_run). */
void loop_pass(int max_wait_ms);

const struct loop_stats *loop_get_stats(void);

#endif
