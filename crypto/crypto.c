#include "crypto.h"

#include <string.h>

#include "board.h"
#include "entropy.h"
#include "mg_err.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/gcm.h"
#include "mbedtls/hkdf.h"
#include "mbedtls/pkcs5.h"
#include "mbedtls/md.h"
#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/sha256.h"
#include "pool.h"

static unsigned char mbedtls_arena[BOARD_MBEDTLS_ARENA];
POOL_DEFINE(mbedtls_arena, mbedtls_arena)

static mbedtls_ctr_drbg_context drbg;
static int initialised;

static int drbg_entropy(void *unused, unsigned char *buf, size_t len)
{
    (void)unused;
    return hal_entropy(buf, len) == 0 ? 0 : MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
}

int mg_crypto_init(void)
{
    static const char personal[] = "meshgate";

    if (initialised)
        return 0;
    mbedtls_memory_buffer_alloc_init(mbedtls_arena, sizeof(mbedtls_arena));
    mbedtls_ctr_drbg_init(&drbg);
    if (mbedtls_ctr_drbg_seed(&drbg, drbg_entropy, NULL,
                              (const unsigned char *)personal, sizeof(personal) - 1) != 0)
        return MG_ERR_IO;
    initialised = 1;
    return 0;
}

int mg_random(void *buf, size_t len)
{
    unsigned char *p = buf;

    while (len > 0) {
        size_t n = len < MBEDTLS_CTR_DRBG_MAX_REQUEST ? len : MBEDTLS_CTR_DRBG_MAX_REQUEST;
        if (mbedtls_ctr_drbg_random(&drbg, p, n) != 0)
            return MG_ERR_CRYPTO;
        p += n;
        len -= n;
    }
    return 0;
}

void mg_sha256(const void *data, size_t len, uint8_t out[MG_SHA256_LEN])
{
    mbedtls_sha256_ret(data, len, out, 0);
}

_Static_assert(sizeof(mbedtls_sha256_context) <= sizeof(struct mg_sha256),
               "struct mg_sha256 must hold an mbedtls_sha256_context");

void mg_sha256_init(struct mg_sha256 *h)
{
    mbedtls_sha256_context *c = (mbedtls_sha256_context *)h->opaque;

    mbedtls_sha256_init(c);
    mbedtls_sha256_starts_ret(c, 0);
}

void mg_sha256_update(struct mg_sha256 *h, const void *data, size_t len)
{
    mbedtls_sha256_update_ret((mbedtls_sha256_context *)h->opaque, data, len);
}

void mg_sha256_finish(struct mg_sha256 *h, uint8_t out[MG_SHA256_LEN])
{
    mbedtls_sha256_context *c = (mbedtls_sha256_context *)h->opaque;

    mbedtls_sha256_finish_ret(c, out);
    mbedtls_sha256_free(c);
}

void mg_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                    uint8_t out[MG_SHA256_LEN])
{
    struct mg_bytes one = { msg, msg_len };

    mg_hmac_sha256_parts(key, key_len, &one, 1, out);
}

void mg_hmac_sha256_parts(const void *key, size_t key_len, const struct mg_bytes *parts,
                          size_t n, uint8_t out[MG_SHA256_LEN])
{
    /* SHA-256's context needs no allocation, unlike mbedtls_md_hmac(). */
    mbedtls_sha256_context c;
    uint8_t k[64], pad[64];
    size_t i;

    memset(k, 0, sizeof(k));
    if (key_len > sizeof(k))
        mbedtls_sha256_ret(key, key_len, k, 0);
    else if (key_len > 0)
        memcpy(k, key, key_len);

    mbedtls_sha256_init(&c);
    for (i = 0; i < sizeof(pad); i++)
        pad[i] = k[i] ^ 0x36;
    mbedtls_sha256_starts_ret(&c, 0);
    mbedtls_sha256_update_ret(&c, pad, sizeof(pad));
    for (i = 0; i < n; i++)
        if (parts[i].len > 0)
            mbedtls_sha256_update_ret(&c, parts[i].p, parts[i].len);
    mbedtls_sha256_finish_ret(&c, out);

    for (i = 0; i < sizeof(pad); i++)
        pad[i] = k[i] ^ 0x5c;
    mbedtls_sha256_starts_ret(&c, 0);
    mbedtls_sha256_update_ret(&c, pad, sizeof(pad));
    mbedtls_sha256_update_ret(&c, out, MG_SHA256_LEN);
    mbedtls_sha256_finish_ret(&c, out);

    mbedtls_sha256_free(&c);
    mbedtls_platform_zeroize(k, sizeof(k));
    mbedtls_platform_zeroize(pad, sizeof(pad));
}

int mg_hkdf_sha256(const void *salt, size_t salt_len, const void *ikm, size_t ikm_len,
                   const void *info, size_t info_len, void *okm, size_t okm_len)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);

    if (okm_len > 255u * MG_SHA256_LEN)
        return MG_ERR_INVAL;
    if (mbedtls_hkdf(md, salt, salt_len, ikm, ikm_len, info, info_len, okm, okm_len) != 0)
        return MG_ERR_CRYPTO;
    return 0;
}

int mg_pbkdf2_hmac_sha256(const void *pass, size_t pass_len, const void *salt, size_t salt_len,
                          uint32_t iterations, void *out, size_t out_len)
{
    mbedtls_md_context_t md;
    int rc;

    if (iterations == 0 || out_len == 0)
        return MG_ERR_INVAL;
    mbedtls_md_init(&md);
    rc = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
    if (rc == 0)
        rc = mbedtls_pkcs5_pbkdf2_hmac(&md, pass, pass_len, salt, salt_len, iterations,
                                       (uint32_t)out_len, out);
    mbedtls_md_free(&md);
    return rc ? MG_ERR_CRYPTO : 0;
}

static int gcm_key(mbedtls_gcm_context *gcm, const uint8_t *key, size_t key_len)
{
    mbedtls_gcm_init(gcm);
    if (key_len != 16 && key_len != 24 && key_len != 32)
        return MG_ERR_INVAL;
    if (mbedtls_gcm_setkey(gcm, MBEDTLS_CIPHER_ID_AES, key, (unsigned)(key_len * 8)) != 0)
        return MG_ERR_NOSPC;   /* the only runtime failure: the arena is full */
    return 0;
}

int mg_aes_gcm_encrypt(const uint8_t *key, size_t key_len, const uint8_t *iv, size_t iv_len,
                       const void *aad, size_t aad_len, const void *in, size_t len,
                       void *out, uint8_t *tag, size_t tag_len)
{
    mbedtls_gcm_context gcm;
    int rc = gcm_key(&gcm, key, key_len);

    if (rc == 0 && (iv_len == 0 || tag_len < 4 || tag_len > 16))
        rc = MG_ERR_INVAL;
    if (rc == 0 && mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, len, iv, iv_len,
                                             aad, aad_len, in, out, tag_len, tag) != 0)
        rc = MG_ERR_CRYPTO;
    mbedtls_gcm_free(&gcm);
    return rc;
}

int mg_aes_gcm_decrypt(const uint8_t *key, size_t key_len, const uint8_t *iv, size_t iv_len,
                       const void *aad, size_t aad_len, const void *in, size_t len,
                       void *out, const uint8_t *tag, size_t tag_len)
{
    mbedtls_gcm_context gcm;
    int rc = gcm_key(&gcm, key, key_len);

    if (rc == 0 && (iv_len == 0 || tag_len < 4 || tag_len > 16))
        rc = MG_ERR_INVAL;
    if (rc == 0) {
        int r = mbedtls_gcm_auth_decrypt(&gcm, len, iv, iv_len, aad, aad_len,
                                         tag, tag_len, in, out);
        if (r == MBEDTLS_ERR_GCM_AUTH_FAILED)
            rc = MG_ERR_AUTH;
        else if (r != 0)
            rc = MG_ERR_CRYPTO;
    }
    mbedtls_gcm_free(&gcm);
    return rc;
}

int mg_ct_compare(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char diff = 0;
    size_t i;

    for (i = 0; i < n; i++)
        diff |= x[i] ^ y[i];
    return diff != 0;
}

void mg_crypto_arena_use(size_t *used, size_t *high_water, size_t *capacity)
{
    size_t max_used, max_blocks, cur_used, cur_blocks;

    mbedtls_memory_buffer_alloc_max_get(&max_used, &max_blocks);
    mbedtls_memory_buffer_alloc_cur_get(&cur_used, &cur_blocks);
    pool_set_used(&mbedtls_arena_pool, cur_used);
    if (max_used > mbedtls_arena_pool.high_water)
        mbedtls_arena_pool.high_water = max_used;
    *used = cur_used;
    *high_water = max_used;
    *capacity = sizeof(mbedtls_arena);
}
