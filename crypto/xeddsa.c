#include "xeddsa.h"

#include <string.h>

#include "ed25519.h"
#include "fe.h"
#include "ge.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/sha512.h"
#include "mg_err.h"
#include "sc.h"

void xeddsa_sign(const uint8_t priv[32], const void *msg, size_t len, const uint8_t random[64],
                 uint8_t sig[XEDDSA_SIG_LEN])
{
    static const uint8_t prefix[32] = {
        0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    };
    mbedtls_sha512_context h;
    uint8_t pub[32], nonce[64], hram[64], sign_bit;
    ge_p3 a, r;

    ge_scalarmult_base(&a, priv);
    ge_p3_tobytes(pub, &a);
    sign_bit = pub[31] & 0x80;
    /* r = H(0xFE 0xFF*31 || a || M || Z) mod L: libsignal's nonce. */
    mbedtls_sha512_init(&h);
    mbedtls_sha512_starts_ret(&h, 0);
    mbedtls_sha512_update_ret(&h, prefix, sizeof(prefix));
    mbedtls_sha512_update_ret(&h, priv, 32);
    mbedtls_sha512_update_ret(&h, msg, len);
    mbedtls_sha512_update_ret(&h, random, 64);
    mbedtls_sha512_finish_ret(&h, nonce);
    sc_reduce(nonce);
    ge_scalarmult_base(&r, nonce);
    ge_p3_tobytes(sig, &r);
    /* S = (r + H(R || A || M) * a) mod L */
    mbedtls_sha512_starts_ret(&h, 0);
    mbedtls_sha512_update_ret(&h, sig, 32);
    mbedtls_sha512_update_ret(&h, pub, 32);
    mbedtls_sha512_update_ret(&h, msg, len);
    mbedtls_sha512_finish_ret(&h, hram);
    mbedtls_sha512_free(&h);
    sc_reduce(hram);
    sc_muladd(sig + 32, hram, priv, nonce);
    sig[63] = (uint8_t)((sig[63] & 0x7F) | sign_bit);
    mbedtls_platform_zeroize(nonce, sizeof(nonce));
}

int xeddsa_verify(const uint8_t pub[32], const void *msg, size_t len,
                  const uint8_t sig[XEDDSA_SIG_LEN])
{
    uint8_t check[32], ed_pub[32], s[XEDDSA_SIG_LEN];
    fe u, one, num, den;

    /* Only canonical u (< p, top bit clear) names a key. */
    fe_frombytes(u, pub);
    fe_tobytes(check, u);
    if (memcmp(check, pub, 32) != 0)
        return MG_ERR_AUTH;
    /* Edwards y = (u - 1) / (u + 1); u = -1 has no image. */
    fe_1(one);
    fe_sub(num, u, one);
    fe_add(den, u, one);
    if (!fe_isnonzero(den))
        return MG_ERR_AUTH;
    fe_invert(den, den);
    fe_mul(num, num, den);
    fe_tobytes(ed_pub, num);
    ed_pub[31] = (uint8_t)((ed_pub[31] & 0x7F) | (sig[63] & 0x80));
    memcpy(s, sig, sizeof(s));
    s[63] &= 0x7F;
    return ed25519_verify(ed_pub, msg, len, s, sizeof(s));
}
