#include "peer_auth.h"

#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "ed25519.h"
#include "mg_err.h"

#define METHOD_MAX 16
#define TS_MAX     20

/* name || timestamp || METHOD || path || digest: one at a time, static
 * (the loop runs one request at a time; the path can be 2 KiB). */
static char signed_buf[PEER_AUTH_NAME_MAX + TS_MAX + METHOD_MAX + HTTP_MAX_TARGET +
                       PEER_DIGEST_B64_LEN];

struct part {
    const char *p;
    size_t len;
};

/* Joins the parts into signed_buf; its length, or 0 when they do not fit. */
static size_t join(const struct part *parts, size_t n)
{
    size_t i, len = 0;

    for (i = 0; i < n; i++) {
        if (parts[i].len > sizeof(signed_buf) - len)
            return 0;
        memcpy(signed_buf + len, parts[i].p, parts[i].len);
        len += parts[i].len;
    }
    return len;
}

int peer_auth_headers(peer_signer sign, const char *name, int64_t ts_ms, const char *method,
                      const char *path, const void *body, size_t body_len, char *out,
                      size_t cap)
{
    char ts[TS_MAX + 2], digest_b64[PEER_DIGEST_B64_LEN + 1] = "",
         sig_b64[PEER_SIG_B64_LEN + 1];
    uint8_t digest[MG_SHA256_LEN], sig[ED25519_SIG_LEN];
    struct part parts[5];
    size_t name_len = strlen(name), len;
    int n, rc;

    if (name_len == 0 || name_len > PEER_AUTH_NAME_MAX)
        return MG_ERR_INVAL;
    snprintf(ts, sizeof(ts), "%lld", (long long)ts_ms);
    if (body_len > 0) {
        mg_sha256(body, body_len, digest);
        b64_encode(digest, sizeof(digest), digest_b64);
    }
    parts[0] = (struct part){ name, name_len };
    parts[1] = (struct part){ ts, strlen(ts) };
    parts[2] = (struct part){ method, strlen(method) };
    parts[3] = (struct part){ path, strcspn(path, "?") };
    parts[4] = (struct part){ digest_b64, strlen(digest_b64) };
    len = join(parts, 5);
    if (len == 0)
        return MG_ERR_TOOBIG;
    rc = sign(signed_buf, len, sig);
    if (rc != 0)
        return rc;
    b64_encode(sig, sizeof(sig), sig_b64);
    n = snprintf(out, cap, "X-Nara-Name: %s\r\nX-Nara-Timestamp: %s\r\nX-Nara-Signature: %s\r\n%s%s%s",
                 name, ts, sig_b64, body_len ? "X-Nara-Content-SHA256: " : "", digest_b64,
                 body_len ? "\r\n" : "");
    return n < 0 || (size_t)n >= cap ? MG_ERR_TOOBIG : 0;
}

static struct http_str header(const struct http_request *req, const char *name)
{
    const struct http_str *h = http_header_get(req, name);
    struct http_str none = { NULL, 0 };

    return h ? *h : none;
}

void peer_auth_claim_of(const struct http_request *req, struct peer_auth_claim *out)
{
    out->name = header(req, "X-Nara-Name");
    out->timestamp = header(req, "X-Nara-Timestamp");
    out->signature = header(req, "X-Nara-Signature");
    out->digest = header(req, "X-Nara-Content-SHA256");
}

static int refuse(const char **reason, const char *why)
{
    *reason = why;
    return MG_ERR_AUTH;
}

int peer_auth_precheck(const struct peer_auth_claim *cl, int64_t now_ms, const char **reason)
{
    int64_t ts = 0;
    size_t i;

    if (!cl->name.p || !cl->timestamp.p || !cl->signature.p || cl->name.len == 0)
        return refuse(reason, "missing signature headers");
    if (cl->name.len > PEER_AUTH_NAME_MAX)
        return refuse(reason, "name too long");
    /* 18 digits cannot overflow int64_t. */
    for (i = 0; i < cl->timestamp.len && i < 18 && cl->timestamp.p[i] >= '0' &&
                cl->timestamp.p[i] <= '9'; i++)
        ts = ts * 10 + (cl->timestamp.p[i] - '0');
    if (i == 0 || i != cl->timestamp.len)
        return refuse(reason, "invalid timestamp");
    if (ts - now_ms > PEER_AUTH_WINDOW_MS || now_ms - ts > PEER_AUTH_WINDOW_MS)
        return refuse(reason, "timestamp outside the 30 s window");
    *reason = NULL;
    return 0;
}

int peer_auth_verify(const struct peer_auth_claim *cl, const struct http_request *req,
                     const void *body, size_t body_len, const uint8_t pub[32],
                     const char **reason)
{
    uint8_t digest[MG_SHA256_LEN], sig[ED25519_SIG_LEN + 3];
    char digest_b64[PEER_DIGEST_B64_LEN + 1];
    struct part parts[5];
    size_t len;

    if (body_len > 0 && !cl->digest.p)
        return refuse(reason, "missing content digest");
    if (cl->digest.p) {
        mg_sha256(body, body_len, digest);
        b64_encode(digest, sizeof(digest), digest_b64);
        if (cl->digest.len != PEER_DIGEST_B64_LEN ||
            memcmp(cl->digest.p, digest_b64, PEER_DIGEST_B64_LEN) != 0)
            return refuse(reason, "content digest mismatch");
    }
    if (b64_decode(cl->signature.p, cl->signature.len, sig, sizeof(sig)) != ED25519_SIG_LEN)
        return refuse(reason, "malformed signature");
    if (req->method_str.len > METHOD_MAX)
        return refuse(reason, "invalid signature");
    parts[0] = (struct part){ cl->name.p, cl->name.len };
    parts[1] = (struct part){ cl->timestamp.p, cl->timestamp.len };
    parts[2] = (struct part){ req->method_str.p, req->method_str.len };
    parts[3] = (struct part){ req->path.p, req->path.len };
    parts[4] = (struct part){ cl->digest.p ? cl->digest.p : "", cl->digest.len };
    len = join(parts, 5);
    if (len == 0 || ed25519_verify(pub, signed_buf, len, sig, ED25519_SIG_LEN) != 0)
        return refuse(reason, "invalid signature");
    *reason = NULL;
    return 0;
}
