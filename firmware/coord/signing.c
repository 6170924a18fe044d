#include "signing.h"

#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "mg_err.h"

int coord_verify(const uint8_t pub[ED25519_PUB_LEN], const char *msg, size_t len,
                 const char *sig_text)
{
    uint8_t sig[ED25519_SIG_LEN], digest[MG_SHA256_LEN];

    if (coord_sig_parse(sig_text, sig) != 0)
        return MG_ERR_AUTH;
    mg_sha256(msg, len, digest);
    return ed25519_verify(pub, digest, sizeof(digest), sig, sizeof(sig)) == 0 ? 0 : MG_ERR_AUTH;
}

int coord_is_plain(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
            return 0;
    return 1;
}

static int finish(int n, size_t cap)
{
    return n < 0 || (size_t)n >= cap ? MG_ERR_TOOBIG : n;
}

/* The reference signs JSON.stringify({nodeId, publicKey, tailscaleHostname}):
 * that key order and no whitespace (JavaScript's separators "," and ":",
 * not Python's default ", " and ": "). PROTOCOLS.md 3 writes it the same. */
int coord_register_message(const char *id, const char *key, const char *host, char *out,
                           size_t cap)
{
    if (!coord_is_plain(id) || !coord_is_plain(key) || !coord_is_plain(host))
        return MG_ERR_INVAL;
    return finish(snprintf(out, cap, "{\"nodeId\":\"%s\",\"publicKey\":\"%s\","
                                     "\"tailscaleHostname\":\"%s\"}", id, key, host), cap);
}

int coord_action_message(const char *action, const char *id, char *out, size_t cap)
{
    return finish(snprintf(out, cap, "%s:%s", action, id), cap);
}

int coord_heartbeat_message(const char *id, int64_t timestamp, char *out, size_t cap)
{
    return finish(snprintf(out, cap, "heartbeat:%s:%lld", id, (long long)timestamp), cap);
}
