/* Peer push authentication (firmware/repl/peerkey.c) against PROTOCOLS.md 5
 * and the reference's normalization (Python's urlparse: expected values
 * printed by /usr/bin/python3). */
#include <string.h>

#include "hex.h"
#include "mg_err.h"
#include "repl/peerkey.h"
#include "test.h"

MG_TEST(test_peerkey_the_protocol_vector_derives_its_key)
{
    static const char secret[] = "shared-secret";
    uint8_t key[PEERKEY_LEN];
    char norm[128], hex[65];

    CHECK_EQ(peerkey_normalize("http://peer-b.example:8000", norm, sizeof(norm)), 0);
    CHECK(strcmp(norm, "http://peer-b.example:8000") == 0);
    peerkey_derive(secret, sizeof(secret) - 1, norm, key);
    hex_encode(key, sizeof(key), hex);
    hex[64] = '\0';
    CHECK(strcmp(hex, "f27368e55256f80ef3d8084e392049e6e04e215b844521225f2eaf308300a9ed") == 0);
}

MG_TEST(test_peerkey_a_body_is_signed_and_verified_as_python_hmac_does)
{
    static const char secret[] = "shared-secret";
    static const char body[] = "{\"envelope\":{\"msg_id\":\"dm_1_000000000000\"}}";
    static const char want[] = "7e75b3259eaf548921a146170213baae8ed2e3a77e94e9e264e89acc002a37ae";
    uint8_t key[PEERKEY_LEN];
    char hex[65], bad[65];

    peerkey_derive(secret, sizeof(secret) - 1, "http://peer-b.example:8000", key);
    peerkey_sign(key, body, sizeof(body) - 1, hex);
    CHECK(strcmp(hex, want) == 0);
    CHECK_EQ(peerkey_verify(key, body, sizeof(body) - 1, want, 64), 1);
    CHECK_EQ(peerkey_verify(key, body, sizeof(body) - 2, want, 64), 0);   /* other body */
    CHECK_EQ(peerkey_verify(key, body, sizeof(body) - 1, want, 63), 0);   /* truncated */
    memcpy(bad, want, sizeof(bad));
    bad[10] = 'F';                                                        /* one digit off */
    CHECK_EQ(peerkey_verify(key, body, sizeof(body) - 1, bad, 64), 0);
    CHECK_EQ(peerkey_verify(key, body, sizeof(body) - 1, NULL, 0), 0);
    peerkey_derive("other", 5, "http://peer-b.example:8000", key);
    CHECK_EQ(peerkey_verify(key, body, sizeof(body) - 1, want, 64), 0);   /* other secret */
}

MG_TEST(test_peerkey_urls_normalize_as_the_reference_does)
{
    static const char *const cases[][2] = {
        { "HTTP://Peer-B.Example:80/", "http://peer-b.example" },
        { "https://X:443/a/b//", "https://x/a/b" },
        { "https://x:80/", "https://x:80" },
        { "http://x:443", "http://x:443" },
        { "http://x:8443/api?q=1#frag", "http://x:8443/api" },
        { "HTTP://User:Pw@X.Y:80/", "http://x.y" },
        { "http://a/b;x", "http://a/b" },
        { "http://a/b;x/c", "http://a/b;x/c" },
        { "http://x:0/", "http://x" },
        { "http://x:/p", "http://x/p" },
        { "http://10.42.0.3:9632", "http://10.42.0.3:9632" },
        { "http://x/Path/Keeps/Case/", "http://x/Path/Keeps/Case" },
    };
    char out[128];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = peerkey_normalize(cases[i][0], out, sizeof(out));
        if (rc != 0 || strcmp(out, cases[i][1]) != 0)
            test_fail(__FILE__, __LINE__, "%s -> %s (%d), want %s", cases[i][0], out, rc,
                      cases[i][1]);
    }
}

MG_TEST(test_peerkey_urls_without_scheme_or_host_or_with_a_bad_port_are_refused)
{
    static const char *const bad[] = { "", "peer-b", "://x", "http://", "http:///p",
                                       "http://x:99999", "http://x:8o", "http://[::1]:80/",
                                       "http://user@/" };
    char out[16];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (peerkey_normalize(bad[i], out, sizeof(out)) != MG_ERR_INVAL)
            test_fail(__FILE__, __LINE__, "%s accepted", bad[i]);
    CHECK_EQ(peerkey_normalize("http://a-long-host.example", out, sizeof(out)), MG_ERR_TOOBIG);
    CHECK_EQ(out[0], '\0');
}
