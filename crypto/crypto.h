/* Cryptographic primitives over our mbedTLS build. mbedTLS allocates its
 * contexts from a static arena (BOARD_MBEDTLS_ARENA bytes), never the heap.
 * All functions return 0 or a negative MG_ERR_* code. */
#ifndef CRYPTO_H
#define CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define MG_SHA256_LEN 32

/* Sets up the mbedTLS arena and seeds the DRBG from hal_entropy(). Call once
 * at init, before any other function here. */
int mg_crypto_init(void);

/* Cryptographically strong random bytes (CTR_DRBG, reseeded by mbedTLS). */
int mg_random(void *buf, size_t len);

void mg_sha256(const void *data, size_t len, uint8_t out[MG_SHA256_LEN]);

/* SHA-256 over data that arrives in pieces (a canonical JSON writer). The
 * context is the caller's, on the stack or static; no allocation. */
struct mg_sha256 {
    uint64_t opaque[16];   /* an mbedtls_sha256_context (checked in crypto.c) */
};
void mg_sha256_init(struct mg_sha256 *h);
void mg_sha256_update(struct mg_sha256 *h, const void *data, size_t len);
void mg_sha256_finish(struct mg_sha256 *h, uint8_t out[MG_SHA256_LEN]);

void mg_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                    uint8_t out[MG_SHA256_LEN]);

/* HMAC-SHA256 over the concatenation of n pieces, without copying them
 * together (a request's nonce, timestamp and body). */
struct mg_bytes {
    const void *p;
    size_t len;
};
void mg_hmac_sha256_parts(const void *key, size_t key_len, const struct mg_bytes *parts,
                          size_t n, uint8_t out[MG_SHA256_LEN]);

/* HKDF-SHA256 (RFC 5869). MG_ERR_INVAL if okm_len > 255 * 32. */
int mg_hkdf_sha256(const void *salt, size_t salt_len, const void *ikm, size_t ikm_len,
                   const void *info, size_t info_len, void *okm, size_t okm_len);

/* PBKDF2-HMAC-SHA256 (RFC 8018). MG_ERR_INVAL for 0 iterations or no
 * output. Its context comes from the arena: call it at init, not per
 * request. */
int mg_pbkdf2_hmac_sha256(const void *pass, size_t pass_len, const void *salt, size_t salt_len,
                          uint32_t iterations, void *out, size_t out_len);

/* AES-GCM with a 128/192/256-bit key and any non-empty IV. Encryption writes
 * len bytes to out and tag_len bytes to tag. Decryption checks the tag first:
 * MG_ERR_AUTH (and out zeroed) if it does not match. */
int mg_aes_gcm_encrypt(const uint8_t *key, size_t key_len, const uint8_t *iv, size_t iv_len,
                       const void *aad, size_t aad_len, const void *in, size_t len,
                       void *out, uint8_t *tag, size_t tag_len);
int mg_aes_gcm_decrypt(const uint8_t *key, size_t key_len, const uint8_t *iv, size_t iv_len,
                       const void *aad, size_t aad_len, const void *in, size_t len,
                       void *out, const uint8_t *tag, size_t tag_len);

/* Compares n bytes in time independent of their contents; 0 when equal. */
int mg_ct_compare(const void *a, const void *b, size_t n);

/* Bytes of the mbedTLS arena in use now and at most so far. */
void mg_crypto_arena_use(size_t *used, size_t *high_water, size_t *capacity);

#endif
