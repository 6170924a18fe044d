/* X25519 (RFC 7748) on libsignal-protocol-c's curve25519-donna. Private keys
 * are clamped here on every use: donna does not clamp, and libsignal only
 * clamps keys it generated itself, not keys it imports. */
#ifndef X25519_H
#define X25519_H

#include <stdint.h>

#define X25519_KEY_LEN 32

/* shared = X25519(priv, peer_pub). MG_ERR_CRYPTO when the result is all
 * zeros (a low-order peer key): the caller must not use such a secret. */
int x25519_shared(uint8_t shared[X25519_KEY_LEN], const uint8_t priv[X25519_KEY_LEN],
                  const uint8_t peer_pub[X25519_KEY_LEN]);

/* pub = X25519(priv, 9). */
void x25519_public_key(uint8_t pub[X25519_KEY_LEN], const uint8_t priv[X25519_KEY_LEN]);

/* Applies RFC 7748 clamping to a private key in place. */
void x25519_clamp(uint8_t priv[X25519_KEY_LEN]);

#endif
