/* Ed25519 (RFC 8032, pure) on libsignal-protocol-c's ref10 group arithmetic,
 * with mbedTLS's SHA-512. Verification is strict: S must be below the group
 * order L (no malleable signatures), R must be canonical, A must decode. */
#ifndef ED25519_H
#define ED25519_H

#include <stddef.h>
#include <stdint.h>

#define ED25519_SEED_LEN 32
#define ED25519_PUB_LEN  32
#define ED25519_SIG_LEN  64

/* Derives the public key of a 32-byte private seed. */
void ed25519_public_key(const uint8_t seed[ED25519_SEED_LEN], uint8_t pub[ED25519_PUB_LEN]);

/* Signs msg with (seed, pub): pub must be ed25519_public_key(seed). */
void ed25519_sign(const uint8_t seed[ED25519_SEED_LEN], const uint8_t pub[ED25519_PUB_LEN],
                  const void *msg, size_t len, uint8_t sig[ED25519_SIG_LEN]);

/* 0 if sig (sig_len bytes) is a valid signature of msg by pub, else MG_ERR_AUTH. */
int ed25519_verify(const uint8_t pub[ED25519_PUB_LEN], const void *msg, size_t len,
                   const uint8_t *sig, size_t sig_len);

#endif
