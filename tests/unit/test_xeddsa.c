/* Signed prekeys: our XEdDSA signatures are accepted by libsignal's own
 * verifier and libsignal's are accepted by ours; tampering is refused. */
#include <string.h>

#include "crypto.h"
#include "mg_err.h"
#include "signal_arena.h"
#include "test.h"
#include "x25519.h"
#include "xeddsa.h"

/* libsignal-protocol-c's versions (curve_sigs.h); they allocate, which is
 * why the firmware does not use them. */
int curve25519_sign(unsigned char *sig, const unsigned char *priv, const unsigned char *msg,
                    const unsigned long len, const unsigned char *random);
int curve25519_verify(const unsigned char *sig, const unsigned char *pub,
                      const unsigned char *msg, const unsigned long len);

static void keypair(uint8_t priv[32], uint8_t pub[32], uint8_t fill)
{
    size_t i;

    for (i = 0; i < 32; i++)
        priv[i] = (uint8_t)(fill + i * 7);
    x25519_clamp(priv);
    x25519_public_key(pub, priv);
}

MG_TEST(test_xeddsa_signatures_interoperate_with_libsignal_both_ways)
{
    uint8_t priv[32], pub[32], rnd[64], sig[64], msg[33];
    unsigned k;

    /* libsignal's side allocates: from the Signal arena, inside an operation. */
    CHECK_EQ(sig_arena_begin(), 0);
    for (k = 0; k < 8; k++) {   /* both sign bits of the Edwards key occur */
        keypair(priv, pub, (uint8_t)(k * 31 + 1));
        memset(rnd, (int)k, sizeof(rnd));
        msg[0] = 0x05;
        memset(msg + 1, (int)(0x40 + k), 32);
        xeddsa_sign(priv, msg, sizeof(msg), rnd, sig);
        CHECK_EQ(xeddsa_verify(pub, msg, sizeof(msg), sig), 0);
        CHECK_EQ(curve25519_verify(sig, pub, msg, sizeof(msg)), 0);
        CHECK_EQ(curve25519_sign(sig, priv, msg, sizeof(msg), rnd), 0);
        CHECK_EQ(xeddsa_verify(pub, msg, sizeof(msg), sig), 0);
    }
    CHECK_EQ(sig_arena_end(), 0);
}

MG_TEST(test_xeddsa_refuses_a_tampered_message_signature_or_key)
{
    uint8_t priv[32], pub[32], other[32], rnd[64], sig[64], msg[33] = { 0x05 };

    keypair(priv, pub, 3);
    keypair(other, other, 9);
    memset(rnd, 7, sizeof(rnd));
    xeddsa_sign(priv, msg, sizeof(msg), rnd, sig);
    CHECK_EQ(xeddsa_verify(pub, msg, sizeof(msg), sig), 0);
    msg[5] ^= 1;
    CHECK_EQ(xeddsa_verify(pub, msg, sizeof(msg), sig), MG_ERR_AUTH);
    msg[5] ^= 1;
    sig[10] ^= 1;
    CHECK_EQ(xeddsa_verify(pub, msg, sizeof(msg), sig), MG_ERR_AUTH);
    sig[10] ^= 1;
    sig[63] ^= 0x80;   /* the wrong sign bit names another key */
    CHECK_EQ(xeddsa_verify(pub, msg, sizeof(msg), sig), MG_ERR_AUTH);
    sig[63] ^= 0x80;
    CHECK_EQ(xeddsa_verify(other, msg, sizeof(msg), sig), MG_ERR_AUTH);
    pub[31] |= 0x80;   /* not a canonical u */
    CHECK_EQ(xeddsa_verify(pub, msg, sizeof(msg), sig), MG_ERR_AUTH);
}
