#include "signing.h"

#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "hex.h"
#include "mg_err.h"

static int parse_hex_after(const char *text, const char *prefix, uint8_t *out, size_t n)
{
    size_t plen = strlen(prefix);

    if (strncmp(text, prefix, plen) != 0 || strlen(text + plen) != 2 * n)
        return MG_ERR_INVAL;
    return hex_decode(text + plen, 2 * n, out, n) == (long)n ? 0 : MG_ERR_INVAL;
}

int coord_key_parse(const char *text, uint8_t pub[ED25519_PUB_LEN])
{
    return parse_hex_after(text, "ed25519_", pub, ED25519_PUB_LEN);
}

void coord_key_format(const uint8_t pub[ED25519_PUB_LEN], char out[COORD_KEY_TEXT])
{
    memcpy(out, "ed25519_", 8);
    hex_encode(pub, ED25519_PUB_LEN, out + 8);
}

int coord_sig_parse(const char *text, uint8_t sig[ED25519_SIG_LEN])
{
    if (parse_hex_after(text, "ed25519_sig_", sig, ED25519_SIG_LEN) == 0)
        return 0;
    return parse_hex_after(text, "ed25519_", sig, ED25519_SIG_LEN);
}

int coord_verify(const uint8_t pub[ED25519_PUB_LEN], const char *msg, size_t len,
                 const char *sig_text)
{
    uint8_t sig[ED25519_SIG_LEN], digest[MG_SHA256_LEN];

    if (coord_sig_parse(sig_text, sig) != 0)
        return MG_ERR_AUTH;
    mg_sha256(msg, len, digest);
    return ed25519_verify(pub, digest, sizeof(digest), sig, sizeof(sig)) == 0 ? 0 : MG_ERR_AUTH;
}

/* A value written into the message as it is: printable ASCII without '"'
 * and '\\', which every JSON encoder writes unescaped. */
static int plain(const char *s)
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
    if (!plain(id) || !plain(key) || !plain(host))
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
