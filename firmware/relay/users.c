#include "users.h"

#include <string.h>

#include "crypto.h"
#include "diag/textbuf.h"
#include "hex.h"
#include "mbedtls/base64.h"
#include "mg_err.h"
#include "pool.h"
#include "strhash.h"

static struct user users[BOARD_RELAY_USERS];
POOL_DEFINE(relay_users, users);
static size_t n_users;

/* Every request names users by id, and a user is kilobytes (its bundle):
 * a scan of the table touched a page per user. An open-addressing index
 * (never more than half full) keeps each id's hash beside its slot, so a
 * lookup reads one user, the one it returns. Users are only ever added. */
#define INDEX_SLOTS (2u * BOARD_RELAY_USERS)
static struct { uint32_t hash; uint16_t user_plus_1; } index_of[INDEX_SLOTS];   /* 0: free */

struct user *users_find(const char *id)
{
    uint32_t h = strhash(id), i;

    for (i = h % INDEX_SLOTS; index_of[i].user_plus_1; i = (i + 1) % INDEX_SLOTS) {
        struct user *u = &users[index_of[i].user_plus_1 - 1];
        if (index_of[i].hash == h && strcmp(u->id, id) == 0)
            return u;
    }
    return NULL;
}

static void index_add(uint16_t user)
{
    uint32_t h = strhash(users[user].id), i = h % INDEX_SLOTS;

    while (index_of[i].user_plus_1)
        i = (i + 1) % INDEX_SLOTS;
    index_of[i].hash = h;
    index_of[i].user_plus_1 = (uint16_t)(user + 1);
}

struct user *users_add(const char *id)
{
    uint8_t digest[MG_SHA256_LEN];
    struct user *u;
    size_t n = strlen(id);

    if (n == 0 || n >= USER_ID_MAX || pool_take(&relay_users_pool) != 0)
        return NULL;
    u = &users[n_users++];
    memset(u, 0, sizeof(*u));
    memcpy(u->id, id, n);
    mg_sha256(id, n, digest);
    hex_encode(digest, 8, u->tag);
    u->head = u->tail = USER_NO_MSG;
    index_add(users_index(u));
    return u;
}

struct user *users_at(uint16_t index)
{
    return index < n_users ? &users[index] : NULL;
}

uint16_t users_index(const struct user *u)
{
    return (uint16_t)(u - users);
}

size_t users_count(void)
{
    return n_users;
}

size_t users_bundles(void)
{
    size_t i, n = 0;

    for (i = 0; i < n_users; i++)
        n += users[i].bundle.present != 0;
    return n;
}

void users_reset(void)
{
    memset(users, 0, sizeof(users));
    memset(index_of, 0, sizeof(index_of));
    n_users = 0;
    relay_users_pool.used = relay_users_pool.high_water = 0;
    relay_users_pool.refused = 0;
}

/* 1 for every byte outside the standard alphabet (padding included). */
#define X16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
static const uint8_t b64_stranger[256] = {
    X16, X16,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0,   /* '+' '/' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1,   /* '0'..'9' */
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* 'A'.. */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1,   /* ..'Z' */
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* 'a'.. */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1,   /* ..'z' */
    X16, X16, X16, X16, X16, X16, X16, X16,
};
#undef X16

int users_b64_check(const char *s, size_t len)
{
    size_t i, pad = 0;

    unsigned bad = 0;

    if (len == 0 || len % 4 != 0)
        return -1;
    if (s[len - 1] == '=')
        pad = s[len - 2] == '=' ? 2 : 1;
    /* Branch-free over the body: envelopes are kilobytes of it. */
    for (i = 0; i < len - pad; i++)
        bad |= b64_stranger[(unsigned char)s[i]];
    return bad ? -1 : (int)(len / 4 * 3 - pad);
}

int users_b64_decode(const char *s, size_t len, uint8_t *out, size_t cap)
{
    size_t n = 0;

    /* mbedTLS takes whitespace and missing padding; the wire does not. */
    if (len == 0 || len % 4 != 0 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                               "0123456789+/=") < len)
        return -1;
    if (mbedtls_base64_decode(out, cap, &n, (const unsigned char *)s, len) != 0)
        return -1;
    return (int)n;
}

/* A base64 string member decoding to exactly want bytes, kept as its text. */
static int b64_field(const struct json_doc *d, int obj, const char *key, size_t want,
                     char *text, size_t text_cap, int required)
{
    int i = json_get(d, obj, key), n;

    if (i < 0)
        return required ? MG_ERR_INVAL : MG_ERR_NOENT;
    n = json_str(d, i, text, text_cap);
    if (n <= 0 || users_b64_check(text, (size_t)n) != (int)want)
        return MG_ERR_INVAL;
    return 0;
}

static int uint_field(const struct json_doc *d, int obj, const char *key, int64_t max,
                      int64_t *out)
{
    int i = json_get(d, obj, key);

    if (i < 0 || json_kind(d, i) != JSON_NUMBER || json_int(d, i, out) != 0 || *out < 0 ||
        *out > max)
        return MG_ERR_INVAL;
    return 0;
}

static int prekey_field(const struct json_doc *d, int obj, struct user_prekey *out)
{
    int64_t id;

    if (json_kind(d, obj) != JSON_OBJECT || uint_field(d, obj, "keyId", UINT32_MAX, &id) != 0 ||
        b64_field(d, obj, "publicKey", 33, out->pub, sizeof(out->pub), 1) != 0)
        return MG_ERR_INVAL;
    out->id = (uint32_t)id;
    return 0;
}

int users_parse_bundle(const struct json_doc *d, int obj, struct user_bundle *b,
                       const char **why)
{
    int64_t v;
    int i, k;

    memset(b, 0, sizeof(*b));
    *why = "bundle: must be an object";
    if (json_kind(d, obj) != JSON_OBJECT)
        return MG_ERR_INVAL;
    *why = "bundle.identityKey: 33 bytes of base64";
    if (b64_field(d, obj, "identityKey", 33, b->identity, sizeof(b->identity), 1) != 0)
        return MG_ERR_INVAL;
    *why = "bundle.deviceId: a non-negative integer";
    if (uint_field(d, obj, "deviceId", INT32_MAX, &b->device_id) != 0)
        return MG_ERR_INVAL;
    *why = "bundle.registrationId: a non-negative integer";
    if (uint_field(d, obj, "registrationId", INT32_MAX, &b->registration_id) != 0)
        return MG_ERR_INVAL;
    *why = "bundle.signedPreKey: {keyId, publicKey (33 bytes), signature (64 bytes)}";
    i = json_get(d, obj, "signedPreKey");
    if (i < 0 || json_kind(d, i) != JSON_OBJECT ||
        uint_field(d, i, "keyId", UINT32_MAX, &v) != 0 ||
        b64_field(d, i, "publicKey", 33, b->spk_pub, sizeof(b->spk_pub), 1) != 0 ||
        b64_field(d, i, "signature", 64, b->spk_sig, sizeof(b->spk_sig), 1) != 0)
        return MG_ERR_INVAL;
    b->spk_id = (uint32_t)v;
    *why = "bundle.preKey: {keyId, publicKey (33 bytes)}";
    i = json_get(d, obj, "preKey");
    if (i >= 0 && json_kind(d, i) != JSON_NULL) {
        if (prekey_field(d, i, &b->prekey) != 0)
            return MG_ERR_INVAL;
        b->has_prekey = 1;
    }
    *why = "bundle.preKeys: an array of {keyId, publicKey}, at most " "the board's limit";
    i = json_get(d, obj, "preKeys");
    if (i >= 0 && json_kind(d, i) != JSON_NULL) {
        if (json_kind(d, i) != JSON_ARRAY || (size_t)json_size(d, i) > BOARD_RELAY_ONETIME)
            return MG_ERR_INVAL;
        for (k = json_first(d, i); k >= 0; k = json_next(d, i, k))
            if (prekey_field(d, k, &b->onetime[b->n_onetime++]) != 0)
                return MG_ERR_INVAL;
    }
    *why = "bundle.kyberPreKey: {keyId, publicKey (1569 bytes), signature (64 bytes)}";
    i = json_get(d, obj, "kyberPreKey");
    if (i >= 0 && json_kind(d, i) != JSON_NULL) {
        if (json_kind(d, i) != JSON_OBJECT || uint_field(d, i, "keyId", UINT32_MAX, &v) != 0 ||
            b64_field(d, i, "publicKey", 1569, b->kyber_pub, sizeof(b->kyber_pub), 1) != 0 ||
            b64_field(d, i, "signature", 64, b->kyber_sig, sizeof(b->kyber_sig), 1) != 0)
            return MG_ERR_INVAL;
        b->kyber_id = (uint32_t)v;
        b->has_kyber = 1;
    }
    *why = NULL;
    b->present = 1;
    return 0;
}

/* The bundle's fields with pk as "preKey" (if any); the one-time keys as
 * "preKeys" when all is set (the stored form), none when serving. */
static int write_bundle(const struct user *u, const struct user_prekey *pk, int all, char *out,
                        size_t cap)
{
    const struct user_bundle *b = &u->bundle;
    struct textbuf t;
    size_t i;

    textbuf_init(&t, out, cap);
    /* ids are checked JSON-safe at registration (printable, no quote or
     * backslash). */
    textbuf_printf(&t, "{\"id\":\"%s\",\"deviceId\":%lld,\"registrationId\":%lld,"
                   "\"identityKey\":\"%s\",\"signedPreKey\":{\"keyId\":%u,\"publicKey\":\"%s\","
                   "\"signature\":\"%s\"}", u->id, (long long)b->device_id,
                   (long long)b->registration_id, b->identity, b->spk_id, b->spk_pub, b->spk_sig);
    if (pk)
        textbuf_printf(&t, ",\"preKey\":{\"keyId\":%u,\"publicKey\":\"%s\"}", pk->id, pk->pub);
    if (all && b->n_onetime) {
        textbuf_printf(&t, ",\"preKeys\":[");
        for (i = 0; i < b->n_onetime; i++)
            textbuf_printf(&t, "%s{\"keyId\":%u,\"publicKey\":\"%s\"}", i ? "," : "",
                           b->onetime[i].id, b->onetime[i].pub);
        textbuf_printf(&t, "]");
    }
    if (b->has_kyber)
        textbuf_printf(&t, ",\"kyberPreKey\":{\"keyId\":%u,\"publicKey\":\"%s\",\"signature\":\"%s\"}",
                       b->kyber_id, b->kyber_pub, b->kyber_sig);
    textbuf_printf(&t, "}");
    return t.overflow ? MG_ERR_TOOBIG : (int)t.len;
}

int users_serve_bundle(struct user *u, char *out, size_t cap)
{
    struct user_bundle *b = &u->bundle;
    struct user_prekey pk = b->prekey;
    int has_pk = b->has_prekey, n;

    if (b->n_onetime > 0) {
        pk = b->onetime[0];
        has_pk = 1;
    }
    n = write_bundle(u, has_pk ? &pk : NULL, 0, out, cap);
    if (n > 0 && b->n_onetime > 0) {
        /* Signal-Server semantics: each one-time prekey goes to one asker. */
        memmove(&b->onetime[0], &b->onetime[1], (b->n_onetime - 1) * sizeof(b->onetime[0]));
        b->n_onetime--;
    }
    return n;
}

int users_store_bundle(const struct user *u, char *out, size_t cap)
{
    return write_bundle(u, u->bundle.has_prekey ? &u->bundle.prekey : NULL, 1, out, cap);
}
