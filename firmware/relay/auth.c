#include "auth.h"

#include <string.h>

#include "board.h"
#include "crypto.h"
#include "hex.h"
#include "pool.h"
#include "relay/users.h"
#include "xeddsa.h"

struct seen {
    uint8_t sig_hash[16];
    int64_t at;
    int used;
};

static struct seen seen[BOARD_RELAY_AUTH_SLOTS];
POOL_DEFINE(relay_auth, seen);

void auth_reset(void)
{
    memset(seen, 0, sizeof(seen));
    relay_auth_pool.used = relay_auth_pool.high_water = 0;
    relay_auth_pool.refused = 0;
}

static int live(const struct seen *s, int64_t now)
{
    int64_t age = now - s->at;

    /* A signature is valid for +-30 s around its timestamp, so it must be
     * remembered for twice that. */
    return s->used && age < 2 * AUTH_WINDOW_MS && age > -2 * AUTH_WINDOW_MS;
}

/* 0 stored, 1 seen before, -1 no room. */
static int remember(const uint8_t hash[16], int64_t now)
{
    struct seen *room = NULL;
    size_t i;

    for (i = 0; i < BOARD_RELAY_AUTH_SLOTS; i++) {
        struct seen *s = &seen[i];
        if (s->used && !live(s, now)) {
            s->used = 0;
            pool_give(&relay_auth_pool);
        }
        if (s->used && memcmp(s->sig_hash, hash, 16) == 0)
            return 1;
        if (!s->used && !room)
            room = s;
    }
    if (!room || pool_take(&relay_auth_pool) != 0)
        return -1;
    memcpy(room->sig_hash, hash, 16);
    room->at = now;
    room->used = 1;
    return 0;
}

static const struct http_str *header(const struct http_request *req, const char *name)
{
    const struct http_str *h = http_header_get(req, name);

    return h && h->len > 0 ? h : NULL;
}

int auth_check(const struct http_request *req, const char *id, const uint8_t identity[33],
               const void *body, size_t len, int64_t now, const char **error)
{
    static char msg[USER_ID_MAX + 24 + 16 + HTTP_MAX_TARGET + 2 * MG_SHA256_LEN + 8];
    const struct http_str *hid = header(req, "X-Mesh-Id"), *hts = header(req, "X-Mesh-Timestamp"),
                          *hsig = header(req, "X-Mesh-Signature");
    uint8_t sig[XEDDSA_SIG_LEN + 2], digest[MG_SHA256_LEN];
    char sig_text[96];
    int64_t ts = 0;
    size_t i, n = 0;

    *error = "signature_required";
    if (!hid || !hts || !hsig)
        return 401;
    *error = "identity_mismatch";
    if (hid->len != strlen(id) || memcmp(hid->p, id, hid->len) != 0)
        return 401;
    *error = "stale_timestamp";
    for (i = 0; i < hts->len && i < 18 && hts->p[i] >= '0' && hts->p[i] <= '9'; i++)
        ts = ts * 10 + (hts->p[i] - '0');
    if (i == 0 || i != hts->len || ts - now > AUTH_WINDOW_MS || now - ts > AUTH_WINDOW_MS)
        return 401;
    *error = "invalid_signature";
    if (hsig->len >= sizeof(sig_text))
        return 401;
    memcpy(sig_text, hsig->p, hsig->len);
    sig_text[hsig->len] = '\0';
    if (users_b64_decode(sig_text, hsig->len, sig, sizeof(sig)) != XEDDSA_SIG_LEN ||
        identity[0] != 0x05)
        return 401;
    mg_sha256(body, len, digest);
#define PUT(p, l)                     \
    do {                              \
        memcpy(msg + n, (p), (l));    \
        n += (l);                     \
    } while (0)
    PUT(id, hid->len);
    PUT("\n", 1);
    PUT(hts->p, hts->len);
    PUT("\n", 1);
    PUT(req->method_str.p, req->method_str.len);
    PUT("\n", 1);
    PUT(req->target.p, req->target.len);
    PUT("\n", 1);
#undef PUT
    hex_encode(digest, sizeof(digest), msg + n);
    n += 2 * MG_SHA256_LEN;
    if (xeddsa_verify(identity + 1, msg, n, sig) != 0)
        return 401;
    mg_sha256(sig, XEDDSA_SIG_LEN, digest);
    switch (remember(digest, now)) {
    case 1:
        *error = "replayed_signature";
        return 401;
    case -1:
        *error = "auth_cache_full";
        return 503;
    default:
        *error = NULL;
        return 0;
    }
}
