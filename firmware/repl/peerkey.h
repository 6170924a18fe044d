/* Peer push authentication of mailbox replication (PROTOCOLS.md 5): the
 * X-Peer-HMAC of a pushed body, keyed per peer URL by HKDF-SHA256 over a
 * shared secret (salt "sb-peer-auth-v1", info the normalized URL), as the
 * reference DM relay computes it, so that its peers and ours agree. */
#ifndef PEERKEY_H
#define PEERKEY_H

#include <stddef.h>
#include <stdint.h>

#define PEERKEY_LEN     32
#define PEERKEY_HEX_LEN 64

/* The normalized form of url into out: scheme and host lowercased, user
 * info dropped, the scheme's default port (80, 443) dropped, query,
 * fragment and a last segment's ";params" dropped, trailing '/' stripped:
 *   "HTTP://Peer-B.Example:80/x/" -> "http://peer-b.example/x".
 * 0; MG_ERR_INVAL without a scheme or a host, for a port that is not
 * 0..65535 and for IPv6 literals (not on our links); MG_ERR_TOOBIG when
 * out is too small. */
int peerkey_normalize(const char *url, char *out, size_t cap);

/* The HMAC key for the peer at normalized_url. */
void peerkey_derive(const void *secret, size_t secret_len, const char *normalized_url,
                    uint8_t key[PEERKEY_LEN]);

/* The X-Peer-HMAC of body: lowercase hex and a NUL in hex. */
void peerkey_sign(const uint8_t key[PEERKEY_LEN], const void *body, size_t len,
                  char hex[PEERKEY_HEX_LEN + 1]);

/* 1 if hex (hex_len bytes, lowercase as sent) is body's X-Peer-HMAC under
 * key, compared in constant time; 0 otherwise. */
int peerkey_verify(const uint8_t key[PEERKEY_LEN], const void *body, size_t len,
                   const char *hex, size_t hex_len);

#endif
