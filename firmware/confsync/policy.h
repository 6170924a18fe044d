/* The controller's policy as the relay applies it to a deposit (PROTOCOLS.md
 * section 2, config.h): deny-all before the first config, the allowed
 * senders, the kill switch and the inbound rate limits per sender (a fixed
 * table of counters, BOARD_RELAY_USERS senders; a sender beyond it shares
 * the limits of the least recently seen one it replaces). */
#ifndef POLICY_H
#define POLICY_H

#include <stdint.h>

struct policy_verdict {
    int status;                 /* 0: allowed; else the HTTP status */
    const char *error;          /* the JSON error code */
    uint32_t retry_after_s;     /* with 429 */
};

/* May sender deposit now (wall-clock ms)? Counts the deposit against the
 * sender's rate limits only when it is allowed. Order: no config -> 403
 * not_configured; sender not listed (and no "*") -> 403 sender_not_allowed;
 * kill switch on -> 503 kill_switch; over max_per_minute or max_per_hour ->
 * 429 rate_limited with the seconds until the window lets one through. */
struct policy_verdict policy_deposit(const char *sender, int64_t now_ms);

/* Forgets the rate counters (boot, a new config, tests). */
void policy_reset(void);

#endif
