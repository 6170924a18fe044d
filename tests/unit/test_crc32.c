/* CRC-32 (hal/crc32.c): the standard check value, and the same result
 * however the data is cut into updates (the table path and the byte path
 * must agree at every alignment). */
#include <string.h>

#include "crc32.h"
#include "test.h"

MG_TEST(test_crc32_of_123456789_is_the_standard_check_value)
{
    CHECK_EQ(crc32_update(0, "123456789", 9), 0xcbf43926u);
    CHECK_EQ(crc32_update(0, "", 0), 0);
}

MG_TEST(test_crc32_in_pieces_equals_crc32_in_one_call_at_every_cut)
{
    static const char text[] = "The quick brown fox jumps over the lazy dog, 0123456789 times.";
    size_t n = sizeof(text) - 1, cut;
    uint32_t whole = crc32_update(0, text, n);

    CHECK_EQ(crc32_update(0, "The quick brown fox jumps over the lazy dog", 43), 0x414fa339u);
    for (cut = 0; cut <= n; cut++)
        CHECK_EQ(crc32_update(crc32_update(0, text, cut), text + cut, n - cut), whole);
}

/* Bit by bit, from the polynomial: what every faster path must equal. */
static uint32_t crc32_bitwise(const uint8_t *p, size_t len)
{
    uint32_t crc = 0xffffffffu;
    int k;

    while (len--) {
        crc ^= *p++;
        for (k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
    }
    return ~crc;
}

/* The folding (x86-64 PCLMULQDQ) and CRC32X (ARMv8) paths take over from
 * 64 bytes on: every length across their block sizes, at every alignment,
 * with a running value fed in. */
MG_TEST(test_crc32_equals_the_bitwise_definition_at_every_length_and_alignment)
{
    static uint8_t buf[1200];
    uint32_t x = 1;
    size_t i, len, at;

    for (i = 0; i < sizeof(buf); i++) {
        x = x * 1664525u + 1013904223u;
        buf[i] = (uint8_t)(x >> 24);
    }
    for (at = 0; at < 16; at++) {
        for (len = 0; len + at <= 1100; len += (len < 300 ? 1 : 37)) {
            uint32_t want = crc32_bitwise(buf + at, len);
            if (crc32_update(0, buf + at, len) != want)
                test_fail(__FILE__, __LINE__, "len %zu at %zu", len, at);
            if (len > 70 && crc32_update(crc32_update(0, buf + at, 70), buf + at + 70, len - 70) != want)
                test_fail(__FILE__, __LINE__, "len %zu at %zu, cut at 70", len, at);
        }
    }
}
