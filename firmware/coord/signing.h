/* The coordinator's keys, signatures and signed messages (PROTOCOLS.md 3).
 *
 * Text forms: a key is "ed25519_" + 64 hex digits, a signature
 * "ed25519_sig_" + 128 hex digits ("ed25519_" + 128 is accepted too); hex
 * of either case is read, lowercase is written. Ed25519 signs SHA-256 of
 * the message, not the message (the reference's quirk, kept on the wire);
 * verification is strict (crypto/ed25519.h: S < L, canonical R and A). */
#ifndef COORD_SIGNING_H
#define COORD_SIGNING_H

#include <stddef.h>
#include <stdint.h>

#include "ed25519.h"

#define COORD_KEY_TEXT  (8 + 2 * ED25519_PUB_LEN + 1)   /* "ed25519_" + hex + NUL */

/* Reads a key's text (NUL-terminated) into pub; 0, or MG_ERR_INVAL for a
 * wrong prefix, length or digit. */
int coord_key_parse(const char *text, uint8_t pub[ED25519_PUB_LEN]);

/* Writes pub as "ed25519_<lowercase hex>" into out. */
void coord_key_format(const uint8_t pub[ED25519_PUB_LEN], char out[COORD_KEY_TEXT]);

/* Reads a signature's text into sig; 0, or MG_ERR_INVAL. */
int coord_sig_parse(const char *text, uint8_t sig[ED25519_SIG_LEN]);

/* 0 when sig_text is a well-formed signature by pub over SHA-256(msg);
 * MG_ERR_AUTH for anything else (malformed text included). */
int coord_verify(const uint8_t pub[ED25519_PUB_LEN], const char *msg, size_t len,
                 const char *sig_text);

/* The registration message: {"nodeId":"<id>","publicKey":"<key>",
 * "tailscaleHostname":"<host>"} with the three values as the node sent
 * them. Its length, or MG_ERR_TOOBIG if cap is short, MG_ERR_INVAL if a
 * value holds a byte that JSON would escape (the API refuses those, so
 * the message never depends on an escaping convention). */
int coord_register_message(const char *id, const char *key, const char *host, char *out,
                           size_t cap);

/* "approve:<id>", "deny:<id>", "heartbeat:<id>:<ts>", "sovereign-add:<key>"
 * into out; the length, or MG_ERR_TOOBIG. */
int coord_action_message(const char *action, const char *id, char *out, size_t cap);
int coord_heartbeat_message(const char *id, int64_t timestamp, char *out, size_t cap);

#endif
