/* Signed peer requests (PROTOCOLS.md section 4), the bytes only: no
 * registry, no network. A request carries
 *     X-Nara-Name, X-Nara-Timestamp (ms),
 *     X-Nara-Signature = base64 (padded) of a plain Ed25519 signature over
 *         name || decimal(timestamp) || METHOD || path (no query)
 *         [|| X-Nara-Content-SHA256 when the request has one]
 *     X-Nara-Content-SHA256 = base64 of SHA-256 of the body (ours; required
 *         on a request with a body)
 * and is accepted within +-30 s of its timestamp. */
#ifndef PEER_AUTH_H
#define PEER_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "b64.h"
#include "net/http_parse.h"

#define PEER_AUTH_WINDOW_MS 30000
#define PEER_AUTH_NAME_MAX  64       /* bytes of X-Nara-Name */
#define PEER_SIG_B64_LEN    B64_LEN(64)
#define PEER_DIGEST_B64_LEN B64_LEN(32)
/* The header block peer_auth_headers() writes, at most. */
#define PEER_AUTH_HEADERS_MAX (PEER_AUTH_NAME_MAX + PEER_SIG_B64_LEN + PEER_DIGEST_B64_LEN + 128)

/* Signs msg[0..len) into sig[64] (node_sign(), or a test key); 0 or an
 * MG_ERR_* code. */
typedef int (*peer_signer)(const void *msg, size_t len, uint8_t sig[64]);

/* Writes the signature headers of a request by name at ts_ms to out (each
 * line ending "\r\n", NUL-terminated): the digest header and its part of the
 * signed string only when body_len > 0. path may carry a query; it is not
 * signed. 0, MG_ERR_TOOBIG when out or the signed string does not fit,
 * MG_ERR_INVAL for an empty or over-long name, or the signer's error. */
int peer_auth_headers(peer_signer sign, const char *name, int64_t ts_ms, const char *method,
                      const char *path, const void *body, size_t body_len, char *out,
                      size_t cap);

/* The signature headers of a received request; a missing header has
 * p == NULL. */
struct peer_auth_claim {
    struct http_str name, timestamp, signature, digest;
};

/* Reads the X-Nara-* headers of req. */
void peer_auth_claim_of(const struct http_request *req, struct peer_auth_claim *out);

/* The checks that need no key, in order: the headers are there (name,
 * timestamp, signature), the timestamp is a decimal integer within
 * PEER_AUTH_WINDOW_MS of now_ms (29.999 s passes, 30.001 s does not).
 * 0, or MG_ERR_AUTH with *reason the text after "Authentication failed: ". */
int peer_auth_precheck(const struct peer_auth_claim *cl, int64_t now_ms, const char **reason);

/* The rest, with the claimed peer's key pub: a body (body_len > 0) needs a
 * digest, a digest must match the body, the signature must be base64 of 64
 * bytes and verify (strict Ed25519) over the signed string of req's method
 * and path. 0, or MG_ERR_AUTH with *reason. */
int peer_auth_verify(const struct peer_auth_claim *cl, const struct http_request *req,
                     const void *body, size_t body_len, const uint8_t pub[32],
                     const char **reason);

#endif
