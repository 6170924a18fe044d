/* Signatures with Curve25519 keys, as libsignal makes and checks them
 * (signed prekeys): the Montgomery key is used as an Ed25519 scalar, and the
 * sign bit of the Edwards point, which the Montgomery form loses, travels in
 * the top bit of S. Verification is strict Ed25519 (crypto/ed25519.c) on the
 * converted key. No allocation (libsignal's own versions call malloc). */
#ifndef XEDDSA_H
#define XEDDSA_H

#include <stddef.h>
#include <stdint.h>

#define XEDDSA_SIG_LEN 64

/* priv: a clamped X25519 private key; random: 64 fresh random bytes. */
void xeddsa_sign(const uint8_t priv[32], const void *msg, size_t len, const uint8_t random[64],
                 uint8_t sig[XEDDSA_SIG_LEN]);

/* 0, or MG_ERR_AUTH for a bad signature or a public key that is not a
 * canonical field element. */
int xeddsa_verify(const uint8_t pub[32], const void *msg, size_t len,
                  const uint8_t sig[XEDDSA_SIG_LEN]);

#endif
