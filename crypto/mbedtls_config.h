/* mbedTLS 2.28 configuration: only what meshgate uses (DESIGN.md section 4).
 * Every module left out is attack surface and flash we do not carry. TLS is
 * off until a service needs it; with it off, none of the 2.28.3 CVEs fixed in
 * later 2.28.x releases that concern the TLS/X.509 stack is reachable. */
#ifndef MESHGATE_MBEDTLS_CONFIG_H
#define MESHGATE_MBEDTLS_CONFIG_H

/* Memory: a static arena (crypto/crypto.c), never the heap. */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
#define MBEDTLS_MEMORY_DEBUG        /* use and high-water figures for `mem` */
/* Entropy comes from the HAL (getrandom on Linux) into CTR_DRBG. */
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_CTR_DRBG_C

/* Hashes and MACs: HMAC request auth, HKDF peer keys, PBKDF2 root key,
 * SHA-512 for Ed25519 and Signal, SHA-1 only for the WebSocket accept key. */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA1_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_HKDF_C
#define MBEDTLS_PKCS5_C

/* Ciphers: AES-256-GCM at rest; AES-CBC and AES-CTR for the Signal provider. */
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_CIPHER_C
#define MBEDTLS_CIPHER_MODE_CBC
#define MBEDTLS_CIPHER_MODE_CTR
#define MBEDTLS_CIPHER_PADDING_PKCS7
#define MBEDTLS_GCM_C

#define MBEDTLS_BASE64_C

#include "mbedtls/check_config.h"

#endif
