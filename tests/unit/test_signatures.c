/* Signing and key agreement against the protocol vectors of PROTOCOLS.md
 * sections 3 and 4, and RFC 7748 section 6.1. */
#include <string.h>

#include "crypto.h"
#include "ed25519.h"
#include "mbedtls/base64.h"
#include "mg_err.h"
#include "test.h"
#include "x25519.h"

static const char coord_pub_hex[] =
    "4cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba29";
static const char coord_sig_hex[] =
    "39256ba90a1eecaa31df5a889da43fba2de20414265a87bfe18a7656fff1bb4c"
    "cfa9c1f4e364a3a2e58513b7e86d65088f1ca00be4e1b98f47ea1e7f44d28d0d";

static void coord_seed(uint8_t seed[32])
{
    memset(seed, 0, 32);
    seed[31] = 1;
}

MG_TEST(test_coordinator_vector_seed_gives_its_public_key)
{
    uint8_t seed[32], pub[32], want[32];

    coord_seed(seed);
    ed25519_public_key(seed, pub);
    CHECK_EQ(test_unhex(coord_pub_hex, want, sizeof(want)), 32);
    CHECK_MEM(pub, want, 32);
}

MG_TEST(test_coordinator_signs_the_sha256_of_approve_message_as_the_vector_says)
{
    static const char msg[] = "approve:validator-002";
    uint8_t seed[32], pub[32], digest[32], sig[64], want[64];

    coord_seed(seed);
    ed25519_public_key(seed, pub);
    mg_sha256(msg, strlen(msg), digest);
    ed25519_sign(seed, pub, digest, sizeof(digest), sig);
    CHECK_EQ(test_unhex(coord_sig_hex, want, sizeof(want)), 64);
    CHECK_MEM(sig, want, 64);
    CHECK_EQ(ed25519_verify(pub, digest, sizeof(digest), sig, sizeof(sig)), 0);
}

MG_TEST(test_signature_over_another_message_is_refused)
{
    static const char msg[] = "approve:validator-002", other[] = "approve:validator-003";
    uint8_t seed[32], pub[32], digest[32], sig[64];

    coord_seed(seed);
    ed25519_public_key(seed, pub);
    mg_sha256(msg, strlen(msg), digest);
    ed25519_sign(seed, pub, digest, sizeof(digest), sig);
    mg_sha256(other, strlen(other), digest);
    CHECK_EQ(ed25519_verify(pub, digest, sizeof(digest), sig, sizeof(sig)), MG_ERR_AUTH);
}

MG_TEST(test_peer_request_vector_signature_matches_and_verifies)
{
    static const char msg[] = "alice1704067200000POST/events/sync";
    static const char pub_b64[] = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=";
    static const char sig_b64[] =
        "hYXxfJX8h9C1yhrHh9n689rZHxrN/YnQTowLvkg7a0eVOaWdQcoawguY0Yx6AyvXxUfi27BeRsAee8h6vmPNAg==";
    uint8_t seed[32], pub[32], sig[64], want[64];
    size_t n;
    unsigned i;

    for (i = 0; i < 32; i++)
        seed[i] = (uint8_t)i;
    ed25519_public_key(seed, pub);
    CHECK_EQ(mbedtls_base64_decode(want, sizeof(want), &n, (const unsigned char *)pub_b64,
                                   strlen(pub_b64)), 0);
    CHECK_EQ(n, 32);
    CHECK_MEM(pub, want, 32);

    ed25519_sign(seed, pub, msg, strlen(msg), sig);
    CHECK_EQ(mbedtls_base64_decode(want, sizeof(want), &n, (const unsigned char *)sig_b64,
                                   strlen(sig_b64)), 0);
    CHECK_EQ(n, 64);
    CHECK_MEM(sig, want, 64);
    CHECK_EQ(ed25519_verify(pub, msg, strlen(msg), sig, sizeof(sig)), 0);

    sig[10] ^= 1;
    CHECK_EQ(ed25519_verify(pub, msg, strlen(msg), sig, sizeof(sig)), MG_ERR_AUTH);
}

MG_TEST(test_x25519_rfc7748_alice_and_bob_agree)
{
    uint8_t a[32], b[32], apub[32], bpub[32], want[32], s1[32], s2[32];

    CHECK_EQ(test_unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a, 32), 32);
    CHECK_EQ(test_unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b, 32), 32);
    x25519_public_key(apub, a);
    CHECK_EQ(test_unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", want, 32), 32);
    CHECK_MEM(apub, want, 32);
    x25519_public_key(bpub, b);
    CHECK_EQ(x25519_shared(s1, a, bpub), 0);
    CHECK_EQ(x25519_shared(s2, b, apub), 0);
    CHECK_EQ(test_unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", want, 32), 32);
    CHECK_MEM(s1, want, 32);
    CHECK_MEM(s2, want, 32);
}

MG_TEST(test_random_bytes_differ_between_calls)
{
    uint8_t x[32], y[32];

    CHECK_EQ(mg_random(x, sizeof(x)), 0);
    CHECK_EQ(mg_random(y, sizeof(y)), 0);
    CHECK(memcmp(x, y, sizeof(x)) != 0);
}
