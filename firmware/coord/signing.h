/* The coordinator's signed messages and their verification (PROTOCOLS.md
 * 3). Ed25519 signs SHA-256 of the message, not the message (the
 * reference's quirk, kept on the wire); verification is strict
 * (crypto/ed25519.h: S < L, canonical R and A). Text forms of keys and
 * signatures: coord/keytext.h. */
#ifndef COORD_SIGNING_H
#define COORD_SIGNING_H

#include <stddef.h>
#include <stdint.h>

#include "coord/keytext.h"
#include "ed25519.h"

/* 0 when sig_text is a well-formed signature by pub over SHA-256(msg);
 * MG_ERR_AUTH for anything else (malformed text included). */
int coord_verify(const uint8_t pub[ED25519_PUB_LEN], const char *msg, size_t len,
                 const char *sig_text);

/* 1 when s is printable ASCII without '"' and '\\': text that every JSON
 * encoder writes as it is, so it goes into messages and answers unescaped. */
int coord_is_plain(const char *s);

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
