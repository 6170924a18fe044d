#include "ed25519.h"

#include <string.h>

#include "ge.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/sha512.h"
#include "mg_err.h"
#include "sc.h"

/* The group order L = 2^252 + 27742317777372353535851937790883648493,
 * little-endian. */
static const uint8_t order_l[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};

/* ref10's own check only looks at the top three bits; RFC 8032 section
 * 5.1.7 requires 0 <= S < L. */
static int scalar_is_canonical(const uint8_t s[32])
{
    int i;

    for (i = 31; i >= 0; i--) {
        if (s[i] < order_l[i])
            return 1;
        if (s[i] > order_l[i])
            return 0;
    }
    return 0;   /* S == L */
}

static void sha512_3(uint8_t out[64], const void *a, size_t alen, const void *b, size_t blen,
                     const void *c, size_t clen)
{
    mbedtls_sha512_context h;

    mbedtls_sha512_init(&h);
    mbedtls_sha512_starts_ret(&h, 0);
    mbedtls_sha512_update_ret(&h, a, alen);
    mbedtls_sha512_update_ret(&h, b, blen);
    mbedtls_sha512_update_ret(&h, c, clen);
    mbedtls_sha512_finish_ret(&h, out);
    mbedtls_sha512_free(&h);
}

static void expand_seed(const uint8_t seed[32], uint8_t az[64])
{
    mbedtls_sha512_ret(seed, 32, az, 0);
    az[0] &= 248;
    az[31] &= 63;
    az[31] |= 64;
}

void ed25519_public_key(const uint8_t seed[ED25519_SEED_LEN], uint8_t pub[ED25519_PUB_LEN])
{
    uint8_t az[64];
    ge_p3 a;

    expand_seed(seed, az);
    ge_scalarmult_base(&a, az);
    ge_p3_tobytes(pub, &a);
    mbedtls_platform_zeroize(az, sizeof(az));
}

void ed25519_sign(const uint8_t seed[ED25519_SEED_LEN], const uint8_t pub[ED25519_PUB_LEN],
                  const void *msg, size_t len, uint8_t sig[ED25519_SIG_LEN])
{
    uint8_t az[64], nonce[64], hram[64];
    ge_p3 r;

    expand_seed(seed, az);
    /* r = H(prefix || M) mod L;  R = rB */
    sha512_3(nonce, az + 32, 32, msg, len, "", 0);
    sc_reduce(nonce);
    ge_scalarmult_base(&r, nonce);
    ge_p3_tobytes(sig, &r);
    /* S = (r + H(R || A || M) * s) mod L */
    sha512_3(hram, sig, 32, pub, 32, msg, len);
    sc_reduce(hram);
    sc_muladd(sig + 32, hram, az, nonce);

    mbedtls_platform_zeroize(az, sizeof(az));
    mbedtls_platform_zeroize(nonce, sizeof(nonce));
}

int ed25519_verify(const uint8_t pub[ED25519_PUB_LEN], const void *msg, size_t len,
                   const uint8_t *sig, size_t sig_len)
{
    uint8_t h[64], rcheck[32];
    ge_p3 neg_a;
    ge_p2 r;

    if (sig_len != ED25519_SIG_LEN || !scalar_is_canonical(sig + 32))
        return MG_ERR_AUTH;
    if (ge_frombytes_negate_vartime(&neg_a, pub) != 0)
        return MG_ERR_AUTH;
    sha512_3(h, sig, 32, pub, 32, msg, len);
    sc_reduce(h);
    /* R' = S*B - h*A; the signature holds when R' encodes to R exactly, which
     * also refuses non-canonical encodings of R. */
    ge_double_scalarmult_vartime(&r, h, &neg_a, sig + 32);
    ge_tobytes(rcheck, &r);
    return memcmp(rcheck, sig, 32) == 0 ? 0 : MG_ERR_AUTH;
}
