/* The controller's HMAC gate (PROTOCOLS.md section 2, the Joi mesh proxy's
 * wire format): every request except /health and /config/status carries
 *     X-Nonce, X-Timestamp (decimal ms), X-HMAC-SHA256 = lowercase hex of
 *     HMAC-SHA256(secret, nonce || timestamp-as-sent || raw body)
 * The gate holds the current key and, during a rotation's grace window, the
 * previous one, plus a fixed cache of the nonces seen in the last 15 minutes.
 * It keeps no other state: the caller turns a verdict into the HTTP answer.
 * Keys live in RAM only (a reboot returns to the bootstrap key). */
#ifndef GATE_H
#define GATE_H

#include <stddef.h>
#include <stdint.h>

#define GATE_KEY_MAX       128        /* bytes of one secret */
#define GATE_NONCE_MAX     128        /* bytes of one X-Nonce value */
#define GATE_WINDOW_MS     300000     /* |now - timestamp| <= this passes */
#define GATE_NONCE_TTL_MS  (15 * 60 * 1000)

/* A verdict: status 0 lets the request through (code and message NULL);
 * otherwise status is the HTTP status (401 or 503) and code the error code of
 * PROTOCOLS.md 2 ("hmac_not_configured", "hmac_missing_headers",
 * "hmac_invalid_timestamp", "timestamp_skew_past", "timestamp_skew_future",
 * "hmac_invalid_signature", "replay_detected", "nonce_cache_full") with
 * message a sentence for it. Both are static strings. */
struct gate_verdict {
    int status;
    const char *code;
    const char *message;
};

/* A header value as received (not NUL-terminated); p NULL when absent. */
struct gate_str {
    const char *p;
    size_t len;
};

/* Forgets every key and nonce and zeroes the counters and high-water marks
 * (boot, and tests). */
void gate_reset(void);

/* Sets the bootstrap key (1..GATE_KEY_MAX bytes); MG_ERR_INVAL otherwise.
 * Any previous key and grace window are dropped. */
int gate_set_key(const void *key, size_t len);

/* Rotation: key becomes current; the old current key is still accepted
 * while now_ms <= t < now_ms + grace_ms (the end is exclusive, so grace_ms 0
 * refuses it at once). Only one previous key is kept: a second rotation
 * inside the window drops the oldest. A check or state query at a time
 * outside the window (the clock past its end, or set back before the
 * rotation) forgets the old key for good. MG_ERR_INVAL for a bad length or
 * when no key is set (nothing changes then). */
int gate_rotate(const void *key, size_t len, uint64_t now_ms, uint64_t grace_ms);

/* Checks one request at wall-clock time now_ms, in the order of PROTOCOLS.md
 * section 2: no key -> 503 hmac_not_configured; a missing (or empty) header ->
 * hmac_missing_headers; a timestamp that is not an optional '-' and 1..19
 * decimal digits fitting int64 -> hmac_invalid_timestamp; skew beyond
 * GATE_WINDOW_MS -> timestamp_skew_past / _future (exactly GATE_WINDOW_MS
 * passes); a signature (64 lowercase hex) that matches neither the current
 * key nor the previous one inside its grace window -> hmac_invalid_signature
 * (compared in constant time); a nonce seen in the last 15 minutes ->
 * replay_detected. Only a request that passes all of these stores its nonce;
 * if the cache is full of unexpired nonces it is refused with 503
 * nonce_cache_full and nothing is stored.
 *
 * The signed bytes are nonce || timestamp text as received || body, hashed
 * where they lie (no copy). A nonce longer than GATE_NONCE_MAX is refused as hmac_invalid_signature at the signature step, without computing
 * a MAC: the gate cannot remember such a nonce, so it does not accept a
 * signature over one, as it does not accept an uppercase one.
 *
 * A nonce is live while now_ms is less than GATE_NONCE_TTL_MS from the time
 * it was stored, in either direction: a clock set back by less than that
 * still refuses the replay, and no nonce outlives a larger step. A nonce
 * stored while older entries carry later times (the clock went back) takes
 * the newest entry's time, so it lives at least as long as it would have. */
struct gate_verdict gate_check(struct gate_str nonce, struct gate_str timestamp,
                               struct gate_str signature, const void *body, size_t body_len,
                               uint64_t now_ms);

/* The signature the gate expects (64 lowercase hex + NUL) under key, for
 * clients (meshctl, forwarding) and tests. */
void gate_sign(const void *key, size_t key_len, const char *nonce, size_t nonce_len,
               const char *timestamp, size_t ts_len, const void *body, size_t body_len,
               char out[65]);

/* The same under the gate's current key (forwarding to the controller
 * signs as the controller does): 0, or MG_ERR_NOENT without a key. */
int gate_sign_current(const char *nonce, size_t nonce_len, const char *timestamp, size_t ts_len,
                      const void *body, size_t body_len, char out[65]);

struct gate_state {
    int has_key;
    int has_previous;          /* the previous key is still accepted */
    uint64_t previous_until;   /* ms, when has_previous */
    uint8_t current_check[4];  /* first bytes of SHA-256(current key), for the console */
    size_t nonces_used, nonces_high_water, nonces_capacity;
    unsigned long nonces_refused;   /* nonce_cache_full answers */
    unsigned long passed, refused;  /* verdicts since gate_reset() */
};
/* The figures at now_ms (the previous key and nonces expired first). */
void gate_get_state(struct gate_state *out, uint64_t now_ms);

#endif
