#include "gate.h"

#include <string.h>

#include "board.h"
#include "crypto.h"
#include "hex.h"
#include "mg_err.h"
#include "pool.h"

#define SIG_HEX_LEN  (2 * MG_SHA256_LEN)

struct key {
    uint8_t bytes[GATE_KEY_MAX];
    size_t len;                  /* 0: no key */
};

static struct key current, previous;
/* The previous key is accepted while previous_from <= now < previous_until. */
static uint64_t previous_from, previous_until;
static uint8_t current_check[4];

/* The nonce cache. Slots form a ring in the order nonces were stored, and
 * stored times never decrease along it (a nonce stored after the clock
 * stepped back takes the newest entry's time), so the unexpired entries are
 * always one run in the middle: expiry pops from both ends and the ring's
 * count is the number of live nonces. Lookup goes through a chained hash
 * index so a request compares a few 64-bit hashes, and nonce bytes only on a
 * hash match. Chain links hold slot index + 1, 0 ending a chain, so the
 * zeroed table is a valid empty one before gate_reset(). */
struct nonce_slot {
    uint64_t hash;
    uint64_t stored_at;
    uint16_t next;               /* next slot + 1 in the same bucket, 0: none */
    uint8_t len;
    char nonce[GATE_NONCE_MAX];
};

_Static_assert(BOARD_NONCE_SLOTS > 0 && BOARD_NONCE_SLOTS < UINT16_MAX,
               "slot links are uint16_t");
_Static_assert(GATE_NONCE_MAX <= UINT8_MAX, "nonce lengths are uint8_t");

static struct nonce_slot slots[BOARD_NONCE_SLOTS];
POOL_DEFINE(gate_nonces, slots)
static uint16_t buckets[BOARD_NONCE_SLOTS];
static size_t ring_head, ring_count;

static unsigned long passed, refused;

static void forget(struct key *k)
{
    memset(k, 0, sizeof(*k));
}

void gate_reset(void)
{
    forget(&current);
    forget(&previous);
    previous_from = previous_until = 0;
    memset(current_check, 0, sizeof(current_check));

    memset(slots, 0, sizeof(slots));
    memset(buckets, 0, sizeof(buckets));
    ring_head = ring_count = 0;
    gate_nonces_pool.used = gate_nonces_pool.high_water = 0;
    gate_nonces_pool.refused = 0;
    passed = refused = 0;
}

static int key_len_ok(const void *key, size_t len)
{
    return key && len >= 1 && len <= GATE_KEY_MAX;
}

static void make_current(const void *key, size_t len)
{
    uint8_t digest[MG_SHA256_LEN];

    forget(&current);
    memcpy(current.bytes, key, len);
    current.len = len;
    mg_sha256(key, len, digest);
    memcpy(current_check, digest, sizeof(current_check));
}

int gate_set_key(const void *key, size_t len)
{
    if (!key_len_ok(key, len))
        return MG_ERR_INVAL;
    forget(&previous);
    make_current(key, len);
    return 0;
}

int gate_rotate(const void *key, size_t len, uint64_t now_ms, uint64_t grace_ms)
{
    if (!key_len_ok(key, len) || current.len == 0)
        return MG_ERR_INVAL;
    previous = current;
    previous_from = now_ms;
    previous_until = grace_ms > UINT64_MAX - now_ms ? UINT64_MAX : now_ms + grace_ms;
    if (grace_ms == 0)
        forget(&previous);   /* refused at once anyway (the end is exclusive); wipe it now */
    make_current(key, len);
    return 0;
}

/* A key once outside its window stays forgotten, whichever way the clock
 * went: a clock set back must not revive it. */
static void expire_previous(uint64_t now_ms)
{
    if (previous.len && (now_ms < previous_from || now_ms >= previous_until))
        forget(&previous);
}

/* --- nonce cache --------------------------------------------------------- */

/* FNV-1a: only nonces under a valid signature are stored, so nobody without
 * the key can choose colliding ones; a keyed hash would buy nothing. */
static uint64_t nonce_hash(const char *p, size_t len)
{
    uint64_t h = 14695981039346656037ull;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static size_t bucket_of(uint64_t hash)
{
    return (size_t)(hash % BOARD_NONCE_SLOTS);
}

static size_t ring_at(size_t k)
{
    return (ring_head + k) % BOARD_NONCE_SLOTS;
}

/* Live while less than the TTL from its stored time in either direction:
 * after the clock steps back by less than the TTL the nonce is still
 * refused, and no entry outlives a larger step. */
static int nonce_live(const struct nonce_slot *s, uint64_t now_ms)
{
    uint64_t age = now_ms >= s->stored_at ? now_ms - s->stored_at : s->stored_at - now_ms;

    return age < GATE_NONCE_TTL_MS;
}

static void nonce_unlink(size_t i)
{
    uint16_t *link = &buckets[bucket_of(slots[i].hash)];

    while (*link && *link != i + 1)
        link = &slots[*link - 1].next;
    if (*link)
        *link = slots[i].next;
    memset(&slots[i], 0, sizeof(slots[i]));
    pool_give(&gate_nonces_pool);
}

static void expire_nonces(uint64_t now_ms)
{
    while (ring_count && !nonce_live(&slots[ring_head], now_ms)) {
        nonce_unlink(ring_head);
        ring_head = ring_at(1);
        ring_count--;
    }
    while (ring_count && !nonce_live(&slots[ring_at(ring_count - 1)], now_ms)) {
        nonce_unlink(ring_at(ring_count - 1));
        ring_count--;
    }
}

/* Call after expire_nonces(): every indexed entry is live. */
static int nonce_seen(uint64_t hash, const char *p, size_t len)
{
    uint16_t link;

    for (link = buckets[bucket_of(hash)]; link; link = slots[link - 1].next) {
        const struct nonce_slot *s = &slots[link - 1];
        if (s->hash == hash && s->len == len && memcmp(s->nonce, p, len) == 0)
            return 1;
    }
    return 0;
}

/* MG_ERR_NOSPC when every slot holds a live nonce (after expire_nonces()). */
static int nonce_store(uint64_t hash, const char *p, size_t len, uint64_t now_ms)
{
    uint64_t at = now_ms;
    struct nonce_slot *s;
    size_t i;

    if (pool_take(&gate_nonces_pool) != 0)
        return MG_ERR_NOSPC;
    if (ring_count && slots[ring_at(ring_count - 1)].stored_at > at)
        at = slots[ring_at(ring_count - 1)].stored_at;   /* keeps the ring in time order */
    i = ring_at(ring_count);
    s = &slots[i];
    s->hash = hash;
    s->stored_at = at;
    s->len = (uint8_t)len;
    memcpy(s->nonce, p, len);
    s->next = buckets[bucket_of(hash)];
    buckets[bucket_of(hash)] = (uint16_t)(i + 1);
    ring_count++;
    return 0;
}

/* --- signatures ---------------------------------------------------------- */

/* The signed bytes: nonce || timestamp as sent || body, hashed in place. */
static void mac_of(const void *key, size_t key_len, const char *nonce, size_t nonce_len,
                   const char *ts, size_t ts_len, const void *body, size_t body_len,
                   uint8_t mac[MG_SHA256_LEN])
{
    const struct mg_bytes parts[] = {
        { nonce, nonce_len }, { ts, ts_len }, { body, body_len },
    };

    mg_hmac_sha256_parts(key, key_len, parts, 3, mac);
}

void gate_sign(const void *key, size_t key_len, const char *nonce, size_t nonce_len,
               const char *timestamp, size_t ts_len, const void *body, size_t body_len,
               char out[65])
{
    uint8_t mac[MG_SHA256_LEN];

    mac_of(key, key_len, nonce, nonce_len, timestamp, ts_len, body, body_len, mac);
    hex_encode(mac, sizeof(mac), out);
}

int gate_sign_current(const char *nonce, size_t nonce_len, const char *timestamp, size_t ts_len,
                      const void *body, size_t body_len, char out[65])
{
    if (current.len == 0)
        return MG_ERR_NOENT;
    gate_sign(current.bytes, current.len, nonce, nonce_len, timestamp, ts_len, body, body_len,
              out);
    return 0;
}

static int signed_by(const struct key *k, struct gate_str nonce, struct gate_str ts,
                     const void *body, size_t body_len, const uint8_t sig[MG_SHA256_LEN])
{
    uint8_t mac[MG_SHA256_LEN];

    mac_of(k->bytes, k->len, nonce.p, nonce.len, ts.p, ts.len, body, body_len, mac);
    return mg_ct_compare(mac, sig, sizeof(mac)) == 0;
}

/* Exactly 64 lowercase hex digits: the wire format is lowercase, and an
 * uppercase signature is refused rather than folded. */
static int lowercase_hex_64(struct gate_str s)
{
    size_t i;

    if (s.len != SIG_HEX_LEN)
        return 0;
    for (i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}

/* --- timestamps ---------------------------------------------------------- */

/* An optional '-' then 1..19 decimal digits whose value fits int64, as sign
 * and magnitude (so INT64_MIN needs no special case). */
static int parse_timestamp(struct gate_str s, int *negative, uint64_t *magnitude)
{
    size_t i = 0;
    uint64_t m = 0;

    *negative = s.len > 0 && s.p[0] == '-';
    if (*negative)
        i = 1;
    if (s.len - i < 1 || s.len - i > 19)
        return MG_ERR_INVAL;
    for (; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return MG_ERR_INVAL;
        m = m * 10 + (uint64_t)(s.p[i] - '0');   /* 19 digits cannot overflow */
    }
    if (m > (uint64_t)INT64_MAX + (*negative ? 1u : 0u))
        return MG_ERR_INVAL;
    if (m == 0)
        *negative = 0;
    *magnitude = m;
    return 0;
}

/* -1: too far in the past, 1: too far in the future, 0: inside the window. */
static int skew(int negative, uint64_t magnitude, uint64_t now_ms)
{
    if (negative)   /* now - ts = now + magnitude, which may not fit */
        return magnitude > GATE_WINDOW_MS || now_ms > GATE_WINDOW_MS - magnitude ? -1 : 0;
    if (now_ms >= magnitude)
        return now_ms - magnitude > GATE_WINDOW_MS ? -1 : 0;
    return magnitude - now_ms > GATE_WINDOW_MS ? 1 : 0;
}

/* --- the gate ------------------------------------------------------------ */

static int present(struct gate_str s)
{
    return s.p != NULL && s.len > 0;
}

static struct gate_verdict refuse(int status, const char *code, const char *message)
{
    struct gate_verdict v;

    v.status = status;
    v.code = code;
    v.message = message;
    refused++;
    return v;
}

static struct gate_verdict bad_signature(void)
{
    return refuse(401, "hmac_invalid_signature", "Invalid HMAC signature");
}

struct gate_verdict gate_check(struct gate_str nonce, struct gate_str timestamp,
                               struct gate_str signature, const void *body, size_t body_len,
                               uint64_t now_ms)
{
    static const struct gate_verdict pass = { 0, NULL, NULL };
    uint8_t sig[MG_SHA256_LEN];
    uint64_t magnitude, hash;
    int negative, ok;

    expire_previous(now_ms);
    expire_nonces(now_ms);

    if (current.len == 0)
        return refuse(503, "hmac_not_configured", "HMAC secret is not configured");
    if (!present(nonce) || !present(timestamp) || !present(signature))
        return refuse(401, "hmac_missing_headers", "Missing HMAC headers");
    if (parse_timestamp(timestamp, &negative, &magnitude) != 0)
        return refuse(401, "hmac_invalid_timestamp", "Timestamp is not an integer");
    switch (skew(negative, magnitude, now_ms)) {
    case -1:
        return refuse(401, "timestamp_skew_past", "Timestamp too far in the past");
    case 1:
        return refuse(401, "timestamp_skew_future", "Timestamp too far in the future");
    default:
        break;
    }

    /* A nonce the cache cannot hold could not be refused when replayed, so
     * the gate does not verify signatures over one (see gate.h). */
    if (!lowercase_hex_64(signature) || nonce.len > GATE_NONCE_MAX)
        return bad_signature();
    hex_decode(signature.p, signature.len, sig, sizeof(sig));
    ok = signed_by(&current, nonce, timestamp, body, body_len, sig) ||
         (previous.len && signed_by(&previous, nonce, timestamp, body, body_len, sig));
    if (!ok)
        return bad_signature();

    hash = nonce_hash(nonce.p, nonce.len);
    if (nonce_seen(hash, nonce.p, nonce.len))
        return refuse(401, "replay_detected", "Nonce already used");
    if (nonce_store(hash, nonce.p, nonce.len, now_ms) != 0)
        return refuse(503, "nonce_cache_full", "Nonce cache is full");
    passed++;
    return pass;
}

void gate_get_state(struct gate_state *out, uint64_t now_ms)
{
    expire_previous(now_ms);
    expire_nonces(now_ms);

    memset(out, 0, sizeof(*out));
    out->has_key = current.len != 0;
    out->has_previous = previous.len != 0;
    if (out->has_previous)
        out->previous_until = previous_until;
    memcpy(out->current_check, current_check, sizeof(out->current_check));
    out->nonces_used = ring_count;
    out->nonces_high_water = gate_nonces_pool.high_water;
    out->nonces_capacity = gate_nonces_pool.capacity;
    out->nonces_refused = gate_nonces_pool.refused;
    out->passed = passed;
    out->refused = refused;
}
