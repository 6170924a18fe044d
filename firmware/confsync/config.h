/* The controller's configuration (PROTOCOLS.md section 2): parsed from a
 * pushed body into a fixed-size struct, validated as a whole, and applied
 * at once or not at all. It lives in RAM only: until the first accepted push
 * there is no config, and the policy that reads it denies everything.
 *
 * A config is built in a staging copy; config_apply() makes that copy the
 * running one by switching a pointer, so a reader (the relay, the console)
 * never sees half of one push and half of another. */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "board.h"

#define CONFIG_ID_MAX       64     /* bytes of a relay id, bot name, node name */
#define CONFIG_URL_MAX      128
#define CONFIG_SECRET_MAX   128    /* bytes of a peer secret or rotated key */

enum config_auth { CONFIG_AUTH_SIGNED, CONFIG_AUTH_OPEN };

struct config_peer {
    char name[CONFIG_ID_MAX];
    char url[CONFIG_URL_MAX];
    uint8_t secret[CONFIG_SECRET_MAX];
    size_t secret_len;
    int has_public_key;                  /* public_key: base64 of 32 bytes (PROTOCOLS.md 4) */
    uint8_t public_key[32];
};

struct config {
    int64_t version;
    /* identity */
    char bot_name[CONFIG_ID_MAX];
    int allow_all;                       /* "*" among allowed_senders */
    size_t n_allowed;
    char allowed[BOARD_CONFIG_SENDERS][CONFIG_ID_MAX];
    /* rate_limits.inbound: 0 = no limit */
    uint32_t max_per_hour, max_per_minute;
    /* validation: 0 = the built-in limit */
    uint32_t max_text_length;
    uint64_t max_timestamp_skew_ms;
    /* security */
    int privacy_mode, kill_switch;
    int64_t timestamp_ms;                /* as pushed; 0 if absent */
    /* gateway.relay */
    enum config_auth relay_auth;
    uint32_t mailbox_cap;                /* messages per recipient */
    uint32_t pending_per_sender;         /* PROTOCOLS.md 5, default 2 */
    uint64_t ttl_ms;
    uint32_t max_envelope_bytes;
    /* gateway.peers */
    size_t n_peers;
    struct config_peer peers[BOARD_PEERS];
    /* gateway.peer_secret: the shared secret of mailbox replication
     * (PROTOCOLS.md 5) for a peer without a secret of its own */
    uint8_t peer_secret[CONFIG_SECRET_MAX];
    size_t peer_secret_len;
    /* gateway.coordinator, gateway.node */
    char coordinator_url[CONFIG_URL_MAX];
    int coordinator_role;                /* this gateway serves port 8190 */
    size_t n_sovereign_keys;             /* added as sovereigns on apply */
    uint8_t sovereign_keys[BOARD_COORD_SOVEREIGNS][32];
    uint64_t offline_after_ms;           /* an active node without a heartbeat */
    uint64_t offline_check_ms;           /* how often that is looked for */
    char node_name[CONFIG_ID_MAX];
    char node_hostname[CONFIG_ID_MAX];   /* "" : the node's own default */
    char node_ip[16];                    /* dotted IPv4; "" : the interface's */
    /* gateway.intervals (ms) */
    uint64_t heartbeat_ms, telemetry_ms;
    /* gateway.telemetry, gateway.forwarding */
    char telemetry_recipient[CONFIG_ID_MAX];
    int forwarding;
    char inbound_url[CONFIG_URL_MAX];
    /* hmac_rotation (applied to the gate, never kept here in the clear) */
    int rotate;
    uint8_t new_secret[CONFIG_SECRET_MAX];
    size_t new_secret_len;
    uint64_t grace_ms;
    /* bookkeeping */
    char hash[65];                       /* config_hash, lowercase hex */
    int64_t applied_at;                  /* wall-clock ms */
};

/* Defaults the relay uses where a config leaves a field out. */
#define CONFIG_DEFAULT_MAILBOX_CAP      256u
#define CONFIG_DEFAULT_PENDING_PER_SENDER 2u
#define CONFIG_DEFAULT_TTL_MS           (24ull * 3600 * 1000)
#define CONFIG_DEFAULT_ENVELOPE_BYTES   8192u
#define CONFIG_DEFAULT_HEARTBEAT_MS     (2ull * 60 * 1000)
#define CONFIG_DEFAULT_TELEMETRY_MS     10000ull   /* issue 9: every 10 s */
#define CONFIG_DEFAULT_GRACE_MS         60000ull
#define CONFIG_DEFAULT_OFFLINE_AFTER_MS (5ull * 60 * 1000)
#define CONFIG_DEFAULT_OFFLINE_CHECK_MS 60000ull

/* Why a push was refused: the HTTP status, the error code of PROTOCOLS.md
 * 2 ("invalid_json", "missing_identity", "invalid_config",
 * "config_too_large") and, for invalid_config, which field and why. */
struct config_error {
    int status;
    const char *code;
    char detail[96];
};

/* Parses and validates body into the staging config; the running config is
 * not touched. 0, or MG_ERR_INVAL with *err filled. */
int config_stage(const char *body, size_t len, struct config_error *err);

/* The staged config, for the caller to act on before applying (rotation). */
const struct config *config_staged(void);

/* Makes the staged config the running one, stamped applied_at. */
void config_apply(int64_t applied_at);

/* The running config, or NULL before the first accepted push. */
const struct config *config_current(void);

/* Forgets the running config (boot, tests): deny-all again. */
void config_reset(void);

#endif
