#include "signal_provider.h"

#include <string.h>

#include "crypto.h"
#include "mbedtls/cipher.h"
#include "mbedtls/md.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/sha512.h"
#include "signal_arena.h"

#define AES_BLOCK 16

static int random_bytes(uint8_t *data, size_t len, void *user_data)
{
    (void)user_data;
    return mg_random(data, len) == 0 ? 0 : SG_ERR_UNKNOWN;
}

/* --- HMAC-SHA256 --------------------------------------------------------- */

static int hmac_init(void **ctx, const uint8_t *key, size_t key_len, void *user_data)
{
    mbedtls_md_context_t *md = mg_sig_malloc(sizeof(*md));

    (void)user_data;
    *ctx = NULL;
    if (!md)
        return SG_ERR_NOMEM;
    mbedtls_md_init(md);
    if (mbedtls_md_setup(md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1) != 0) {
        mbedtls_md_free(md);
        mg_sig_free(md);
        return SG_ERR_NOMEM;   /* the only way setup fails here: the mbedTLS arena */
    }
    if (mbedtls_md_hmac_starts(md, key, key_len) != 0) {
        mbedtls_md_free(md);
        mg_sig_free(md);
        return SG_ERR_UNKNOWN;
    }
    *ctx = md;
    return 0;
}

static int hmac_update(void *ctx, const uint8_t *data, size_t len, void *user_data)
{
    (void)user_data;
    return mbedtls_md_hmac_update(ctx, data, len) == 0 ? 0 : SG_ERR_UNKNOWN;
}

static int hmac_final(void *ctx, signal_buffer **output, void *user_data)
{
    signal_buffer *out = signal_buffer_alloc(MG_SHA256_LEN);

    (void)user_data;
    if (!out)
        return SG_ERR_NOMEM;
    if (mbedtls_md_hmac_finish(ctx, signal_buffer_data(out)) != 0) {
        signal_buffer_free(out);
        return SG_ERR_UNKNOWN;
    }
    *output = out;
    return 0;
}

static void hmac_cleanup(void *ctx, void *user_data)
{
    (void)user_data;
    if (ctx) {
        mbedtls_md_free(ctx);
        mg_sig_free(ctx);
    }
}

/* --- SHA-512 ------------------------------------------------------------- */

static int sha512_init(void **ctx, void *user_data)
{
    mbedtls_sha512_context *h = mg_sig_malloc(sizeof(*h));

    (void)user_data;
    *ctx = h;
    if (!h)
        return SG_ERR_NOMEM;
    mbedtls_sha512_init(h);
    return mbedtls_sha512_starts_ret(h, 0) == 0 ? 0 : SG_ERR_UNKNOWN;
}

static int sha512_update(void *ctx, const uint8_t *data, size_t len, void *user_data)
{
    (void)user_data;
    return mbedtls_sha512_update_ret(ctx, data, len) == 0 ? 0 : SG_ERR_UNKNOWN;
}

/* Finishes the digest and starts the context again: libsignal reuses a
 * digest context after final (its own OpenSSL provider does the same). */
static int sha512_final(void *ctx, signal_buffer **output, void *user_data)
{
    signal_buffer *out = signal_buffer_alloc(64);

    (void)user_data;
    if (!out)
        return SG_ERR_NOMEM;
    if (mbedtls_sha512_finish_ret(ctx, signal_buffer_data(out)) != 0 ||
        mbedtls_sha512_starts_ret(ctx, 0) != 0) {
        signal_buffer_free(out);
        return SG_ERR_UNKNOWN;
    }
    *output = out;
    return 0;
}

static void sha512_cleanup(void *ctx, void *user_data)
{
    (void)user_data;
    if (ctx) {
        mbedtls_sha512_free(ctx);
        mg_sig_free(ctx);
    }
}

/* --- AES ----------------------------------------------------------------- */

static const mbedtls_cipher_info_t *aes_info(int cipher, size_t key_len)
{
    mbedtls_cipher_mode_t mode;

    if (cipher == SG_CIPHER_AES_CBC_PKCS5)
        mode = MBEDTLS_MODE_CBC;
    else if (cipher == SG_CIPHER_AES_CTR_NOPADDING)
        mode = MBEDTLS_MODE_CTR;
    else
        return NULL;
    if (key_len != 16 && key_len != 24 && key_len != 32)
        return NULL;
    return mbedtls_cipher_info_from_values(MBEDTLS_CIPHER_ID_AES, (int)key_len * 8, mode);
}

static int aes(signal_buffer **output, int cipher, mbedtls_operation_t dir, const uint8_t *key,
               size_t key_len, const uint8_t *iv, size_t iv_len, const uint8_t *in, size_t len)
{
    const mbedtls_cipher_info_t *info = aes_info(cipher, key_len);
    mbedtls_cipher_context_t c;
    signal_buffer *out;
    size_t n = 0;
    int rc;

    *output = NULL;
    if (!info || iv_len != AES_BLOCK || len > SIZE_MAX - AES_BLOCK)
        return SG_ERR_INVAL;
    /* CBC adds up to one block of padding; decryption never grows. */
    out = signal_buffer_alloc(len + AES_BLOCK);
    if (!out)
        return SG_ERR_NOMEM;
    mbedtls_cipher_init(&c);
    rc = mbedtls_cipher_setup(&c, info);
    if (rc == 0)
        rc = mbedtls_cipher_setkey(&c, key, (int)key_len * 8, dir);
    if (rc == 0 && cipher == SG_CIPHER_AES_CBC_PKCS5)
        rc = mbedtls_cipher_set_padding_mode(&c, MBEDTLS_PADDING_PKCS7);
    if (rc == 0)
        rc = mbedtls_cipher_crypt(&c, iv, iv_len, in, len, signal_buffer_data(out), &n);
    mbedtls_cipher_free(&c);
    if (rc != 0) {
        signal_buffer_bzero_free(out);
        if (rc == MBEDTLS_ERR_CIPHER_ALLOC_FAILED)
            return SG_ERR_NOMEM;
        return SG_ERR_UNKNOWN;   /* bad padding among them */
    }
    /* The buffer keeps its allocated length; libsignal reads its length,
     * so hand back one of the exact size. */
    *output = signal_buffer_create(signal_buffer_data(out), n);
    signal_buffer_bzero_free(out);
    return *output ? 0 : SG_ERR_NOMEM;
}

static int encrypt(signal_buffer **output, int cipher, const uint8_t *key, size_t key_len,
                   const uint8_t *iv, size_t iv_len, const uint8_t *plaintext,
                   size_t plaintext_len, void *user_data)
{
    (void)user_data;
    return aes(output, cipher, MBEDTLS_ENCRYPT, key, key_len, iv, iv_len, plaintext,
               plaintext_len);
}

static int decrypt(signal_buffer **output, int cipher, const uint8_t *key, size_t key_len,
                   const uint8_t *iv, size_t iv_len, const uint8_t *ciphertext,
                   size_t ciphertext_len, void *user_data)
{
    (void)user_data;
    return aes(output, cipher, MBEDTLS_DECRYPT, key, key_len, iv, iv_len, ciphertext,
               ciphertext_len);
}

static const signal_crypto_provider provider = {
    .random_func = random_bytes,
    .hmac_sha256_init_func = hmac_init,
    .hmac_sha256_update_func = hmac_update,
    .hmac_sha256_final_func = hmac_final,
    .hmac_sha256_cleanup_func = hmac_cleanup,
    .sha512_digest_init_func = sha512_init,
    .sha512_digest_update_func = sha512_update,
    .sha512_digest_final_func = sha512_final,
    .sha512_digest_cleanup_func = sha512_cleanup,
    .encrypt_func = encrypt,
    .decrypt_func = decrypt,
    .user_data = NULL,
};

const signal_crypto_provider *signal_provider(void)
{
    return &provider;
}
