#include "signal_bundle.h"

#include <stdio.h>
#include <string.h>

#include "jsmn.h"
#include "mbedtls/base64.h"
#include "mg_err.h"

/* A bundle with a long preKeys array still parses: its tokens are counted
 * against this bound, and what does not fit is refused. */
#define MAX_TOKENS 160

static int b64(const uint8_t *in, size_t n, char *out, size_t cap)
{
    size_t olen = 0;

    return mbedtls_base64_encode((unsigned char *)out, cap, &olen, in, n) == 0 ? 0
                                                                             : MG_ERR_TOOBIG;
}

static int id_ok(const char *id)
{
    size_t n = 0;

    for (; *id; id++, n++)
        if (*id < 0x20 || *id > 0x7e || *id == '"' || *id == '\\')
            return 0;
    return n > 0 && n <= 128;
}

int sig_bundle_format(const struct sig_bundle *b, const char *id, char *out, size_t cap,
                      size_t *len)
{
    char ik[48], spk[48], sig[92], pk[48];
    int n, m = 0;

    *len = 0;
    if (id && !id_ok(id))
        return MG_ERR_INVAL;
    if (b64(b->identity, SIG_KEY_LEN, ik, sizeof(ik)) || b64(b->signed_prekey, SIG_KEY_LEN, spk,
                                                             sizeof(spk)) ||
        b64(b->signature, SIG_SIG_LEN, sig, sizeof(sig)) ||
        (b->has_prekey && b64(b->prekey, SIG_KEY_LEN, pk, sizeof(pk))))
        return MG_ERR_TOOBIG;
    if (id)
        m = snprintf(out, cap, "{\"id\":\"%s\",", id);
    else
        m = snprintf(out, cap, "{");
    if (m < 0 || (size_t)m >= cap)
        return MG_ERR_TOOBIG;
    n = snprintf(out + m, cap - (size_t)m,
                 "\"deviceId\":%ld,\"registrationId\":%lu,\"identityKey\":\"%s\","
                 "\"signedPreKey\":{\"keyId\":%lu,\"publicKey\":\"%s\",\"signature\":\"%s\"}",
                 (long)b->device_id, (unsigned long)b->registration_id, ik,
                 (unsigned long)b->signed_prekey_id, spk, sig);
    if (n < 0 || (size_t)n >= cap - (size_t)m)
        return MG_ERR_TOOBIG;
    m += n;
    if (b->has_prekey)
        n = snprintf(out + m, cap - (size_t)m, ",\"preKey\":{\"keyId\":%lu,\"publicKey\":\"%s\"}}",
                     (unsigned long)b->prekey_id, pk);
    else
        n = snprintf(out + m, cap - (size_t)m, "}");
    if (n < 0 || (size_t)n >= cap - (size_t)m)
        return MG_ERR_TOOBIG;
    *len = (size_t)(m + n);
    return 0;
}

/* --- parsing ------------------------------------------------------------- */

struct doc {
    const char *js;
    jsmntok_t t[MAX_TOKENS];
    int n;
};

static int tok_is(const struct doc *d, int i, const char *s)
{
    size_t n = strlen(s);

    return d->t[i].type == JSMN_STRING && (size_t)(d->t[i].end - d->t[i].start) == n &&
           memcmp(d->js + d->t[i].start, s, n) == 0;
}

/* The value of key in object obj, or -1. */
static int member(const struct doc *d, int obj, const char *key)
{
    int i;

    if (obj < 0 || d->t[obj].type != JSMN_OBJECT)
        return -1;
    for (i = obj + 1; i < d->n - 1; i++)
        if (d->t[i].parent == obj && tok_is(d, i, key))
            return i + 1;
    return -1;
}

static int get_u32(const struct doc *d, int i, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    int k;

    if (i < 0 || d->t[i].type != JSMN_PRIMITIVE || d->t[i].end == d->t[i].start ||
        d->t[i].end - d->t[i].start > 10)
        return MG_ERR_INVAL;
    for (k = d->t[i].start; k < d->t[i].end; k++) {
        char c = d->js[k];
        if (c < '0' || c > '9')
            return MG_ERR_INVAL;
        v = v * 10 + (uint64_t)(c - '0');
    }
    if (v > max)
        return MG_ERR_INVAL;
    *out = (uint32_t)v;
    return 0;
}

/* A base64 string that decodes to exactly n bytes. */
static int get_b64(const struct doc *d, int i, uint8_t *out, size_t n)
{
    uint8_t tmp[SIG_SIG_LEN + 3];
    size_t olen = 0;

    if (i < 0 || d->t[i].type != JSMN_STRING)
        return MG_ERR_INVAL;
    if (mbedtls_base64_decode(tmp, sizeof(tmp), &olen,
                              (const unsigned char *)d->js + d->t[i].start,
                              (size_t)(d->t[i].end - d->t[i].start)) != 0 ||
        olen != n)
        return MG_ERR_INVAL;
    memcpy(out, tmp, n);
    return 0;
}

static int get_key(const struct doc *d, int i, uint8_t out[SIG_KEY_LEN])
{
    int rc = get_b64(d, i, out, SIG_KEY_LEN);

    return rc == 0 && out[0] != 0x05 ? MG_ERR_INVAL : rc;
}

int sig_bundle_parse(const char *json, size_t len, struct sig_bundle *b)
{
    static struct doc d;
    jsmn_parser p;
    int spk, pk, v;
    uint32_t dev = 1;

    memset(b, 0, sizeof(*b));
    d.js = json;
    jsmn_init(&p);
    d.n = jsmn_parse(&p, json, len, d.t, MAX_TOKENS);
    if (d.n < 1 || d.t[0].type != JSMN_OBJECT)
        return MG_ERR_INVAL;
    v = member(&d, 0, "deviceId");
    if (v >= 0 && get_u32(&d, v, 0x7fffffff, &dev) != 0)
        return MG_ERR_INVAL;
    b->device_id = (int32_t)dev;
    if (get_u32(&d, member(&d, 0, "registrationId"), 0xffffffffu, &b->registration_id) ||
        get_key(&d, member(&d, 0, "identityKey"), b->identity))
        return MG_ERR_INVAL;
    spk = member(&d, 0, "signedPreKey");
    /* Signal prekey ids are 24-bit. */
    if (get_u32(&d, member(&d, spk, "keyId"), 0xffffff, &b->signed_prekey_id) ||
        get_key(&d, member(&d, spk, "publicKey"), b->signed_prekey) ||
        get_b64(&d, member(&d, spk, "signature"), b->signature, SIG_SIG_LEN))
        return MG_ERR_INVAL;
    pk = member(&d, 0, "preKey");
    if (pk >= 0 && !(d.t[pk].type == JSMN_PRIMITIVE && json[d.t[pk].start] == 'n')) {
        if (get_u32(&d, member(&d, pk, "keyId"), 0xffffff, &b->prekey_id) ||
            get_key(&d, member(&d, pk, "publicKey"), b->prekey))
            return MG_ERR_INVAL;
        b->has_prekey = 1;
    }
    return 0;
}
