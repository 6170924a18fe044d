#include "peerkey.h"

#include <string.h>

#include "crypto.h"
#include "hex.h"
#include "mg_err.h"

static const char salt[] = "sb-peer-auth-v1";

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Appends n bytes of s (lowercased if asked) to out at *at. */
static int put(char *out, size_t cap, size_t *at, const char *s, size_t n, int lowercase)
{
    size_t i;

    if (n >= cap - *at)
        return MG_ERR_TOOBIG;
    for (i = 0; i < n; i++)
        out[*at + i] = lowercase ? lower(s[i]) : s[i];
    *at += n;
    out[*at] = '\0';
    return 0;
}

int peerkey_normalize(const char *url, char *out, size_t cap)
{
    const char *scheme = url, *sep, *auth, *auth_end, *host, *colon, *path, *path_end, *p;
    size_t at = 0, host_len;
    unsigned long port = 0;
    int have_port = 0, rc;
    char digits[8];

    if (!url || !out || cap == 0)
        return MG_ERR_INVAL;
    out[0] = '\0';
    sep = strstr(url, "://");
    if (!sep || sep == scheme)
        return MG_ERR_INVAL;
    auth = sep + 3;
    auth_end = auth + strcspn(auth, "/?#");
    /* user:password@ is not part of the host. */
    for (host = auth, p = auth; p < auth_end; p++)
        if (*p == '@')
            host = p + 1;
    if (*host == '[')
        return MG_ERR_INVAL;
    colon = memchr(host, ':', (size_t)(auth_end - host));
    host_len = (size_t)((colon ? colon : auth_end) - host);
    if (host_len == 0)
        return MG_ERR_INVAL;
    if (colon && colon + 1 < auth_end) {
        for (p = colon + 1; p < auth_end; p++) {
            if (*p < '0' || *p > '9' || port > 65535)
                return MG_ERR_INVAL;
            port = port * 10 + (unsigned long)(*p - '0');
        }
        if (port > 65535)
            return MG_ERR_INVAL;
        have_port = port != 0;   /* port 0 counts as none, as for the reference */
    }
    path = auth_end;
    path_end = path + strcspn(path, "?#");
    /* ";params" of the last segment are not the path. */
    for (p = path_end; p > path && p[-1] != '/'; p--)
        if (p[-1] == ';')
            path_end = p - 1;
    while (path_end > path && path_end[-1] == '/')
        path_end--;

    rc = put(out, cap, &at, scheme, (size_t)(sep - scheme), 1);
    if (rc == 0)
        rc = put(out, cap, &at, "://", 3, 0);
    if (rc == 0)
        rc = put(out, cap, &at, host, host_len, 1);
    if (rc == 0 && have_port) {
        size_t n = (size_t)(sep - scheme);
        int https = n == 5 && strncmp(out, "https", 5) == 0;
        int http = n == 4 && strncmp(out, "http", 4) == 0;

        if (!(https && port == 443) && !(http && port == 80)) {
            size_t k = sizeof(digits);
            digits[--k] = '\0';
            do {
                digits[--k] = (char)('0' + port % 10);
                port /= 10;
            } while (port);
            digits[--k] = ':';
            rc = put(out, cap, &at, digits + k, strlen(digits + k), 0);
        }
    }
    if (rc == 0)
        rc = put(out, cap, &at, path, (size_t)(path_end - path), 0);
    if (rc)
        out[0] = '\0';
    return rc;
}

void peerkey_derive(const void *secret, size_t secret_len, const char *normalized_url,
                    uint8_t key[PEERKEY_LEN])
{
    (void)mg_hkdf_sha256(salt, sizeof(salt) - 1, secret, secret_len, normalized_url,
                         strlen(normalized_url), key, PEERKEY_LEN);
}

void peerkey_sign(const uint8_t key[PEERKEY_LEN], const void *body, size_t len,
                  char hex[PEERKEY_HEX_LEN + 1])
{
    uint8_t mac[MG_SHA256_LEN];

    mg_hmac_sha256(key, PEERKEY_LEN, body, len, mac);
    hex_encode(mac, sizeof(mac), hex);
    hex[PEERKEY_HEX_LEN] = '\0';
}

int peerkey_verify(const uint8_t key[PEERKEY_LEN], const void *body, size_t len,
                   const char *hex, size_t hex_len)
{
    char want[PEERKEY_HEX_LEN + 1];
    unsigned diff = 0;
    size_t i;

    if (!hex || hex_len != PEERKEY_HEX_LEN)
        return 0;
    peerkey_sign(key, body, len, want);
    for (i = 0; i < PEERKEY_HEX_LEN; i++)
        diff |= (unsigned)(want[i] ^ hex[i]);
    return diff == 0;
}
