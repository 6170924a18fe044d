/* libsignal-protocol-c's crypto provider over our mbedTLS build: random
 * bytes from the DRBG (crypto.h, seeded by hal_entropy()), HMAC-SHA256,
 * SHA-512, and AES-CBC with PKCS#5 padding / AES-CTR. Contexts and output
 * buffers are the library's kind of allocation: they come from the Signal
 * arena (signal_arena.h), mbedTLS's own from the mbedTLS arena. Callbacks
 * return 0 or a negative SG_ERR_* code, as libsignal expects. */
#ifndef SIGNAL_PROVIDER_H
#define SIGNAL_PROVIDER_H

#include <signal_protocol.h>

/* The provider, ready for signal_context_set_crypto_provider(). */
const signal_crypto_provider *signal_provider(void);

#endif
