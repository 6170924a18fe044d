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
