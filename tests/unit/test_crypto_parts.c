/* SHA-256 and HMAC-SHA256 over data in pieces (crypto/crypto.h) give what
 * the one-shot functions give over the same bytes, however they are cut. */
#include <string.h>

#include "crypto.h"
#include "test.h"

static const char text[] = "123e4567-e89b-42d3-a456-426614174000" "1700000000000"
                           "{\"identity\":{\"allowed_senders\":[\"+15550001111\"],"
                           "\"bot_name\":\"Joi\",\"groups\":{}}}";

MG_TEST(test_sha256_in_pieces_equals_sha256_in_one_call_at_every_cut)
{
    uint8_t one[MG_SHA256_LEN], parts[MG_SHA256_LEN];
    size_t n = sizeof(text) - 1, cut;

    mg_sha256(text, n, one);
    for (cut = 0; cut <= n; cut++) {
        struct mg_sha256 h = { { 0 } };
        mg_sha256_init(&h);
        mg_sha256_update(&h, text, cut);
        mg_sha256_update(&h, text + cut, n - cut);
        mg_sha256_finish(&h, parts);
        CHECK_MEM(parts, one, sizeof(one));
    }
}

MG_TEST(test_hmac_over_parts_equals_hmac_over_their_concatenation)
{
    uint8_t one[MG_SHA256_LEN], parts[MG_SHA256_LEN], expect[MG_SHA256_LEN];
    const struct mg_bytes three[] = { { text, 36 }, { text + 36, 13 },
                                      { text + 49, sizeof(text) - 1 - 49 } };
    const struct mg_bytes empty_middle[] = { { text, 49 }, { NULL, 0 },
                                             { text + 49, sizeof(text) - 1 - 49 } };

    /* PROTOCOLS.md 2: nonce || timestamp || body under "test-secret". */
    CHECK_EQ(test_unhex("c699869b67b8c7eee974bb227967abdc3c21d99108d5207d033367a7ba5daa2a",
                        expect, sizeof(expect)), 32);
    mg_hmac_sha256("test-secret", 11, text, sizeof(text) - 1, one);
    CHECK_MEM(one, expect, sizeof(one));
    mg_hmac_sha256_parts("test-secret", 11, three, 3, parts);
    CHECK_MEM(parts, expect, sizeof(parts));
    mg_hmac_sha256_parts("test-secret", 11, empty_middle, 3, parts);
    CHECK_MEM(parts, expect, sizeof(parts));
}
