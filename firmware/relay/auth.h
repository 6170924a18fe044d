/* Client authentication on the relay (PROTOCOLS.md section 1, policy
 * relay.auth "signed"): a write or a WebSocket upgrade carries
 *     X-Mesh-Id, X-Mesh-Timestamp (ms), X-Mesh-Signature = base64 XEdDSA
 *     signature by the id's identity key over
 *     id "\n" timestamp "\n" METHOD "\n" path-with-query "\n" hex(sha256(body))
 * inside a +-30 s window; a signature seen in the window is refused. The
 * signatures seen live in a fixed table (BOARD_RELAY_AUTH_SLOTS). */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "net/http_parse.h"

#define AUTH_WINDOW_MS 30000

/* Checks req as a request by id, signed by identity (33 bytes, 0x05 ||
 * X25519 public key). 0, or the HTTP status with *error the JSON error code:
 * 401 signature_required (a header missing), identity_mismatch (X-Mesh-Id is
 * not id), stale_timestamp, invalid_signature, replayed_signature; 503
 * auth_cache_full when the table is full of live signatures. Only a valid
 * signature is remembered. */
int auth_check(const struct http_request *req, const char *id, const uint8_t identity[33],
               const void *body, size_t len, int64_t now_ms, const char **error);

void auth_reset(void);

#endif
