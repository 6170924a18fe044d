/* Hex strings: what is encoded decodes back to the same bytes. */
#include <string.h>

#include "hex.h"
#include "test.h"

MG_TEST(test_hex_encode_is_lowercase_nul_terminated_and_decodes_back)
{
    static const unsigned char bytes[] = { 0x00, 0x0f, 0xa5, 0xff, 0x10 };
    unsigned char back[sizeof(bytes)];
    char text[2 * sizeof(bytes) + 2];

    memset(text, 'x', sizeof(text));
    hex_encode(bytes, sizeof(bytes), text);
    CHECK(strcmp(text, "000fa5ff10") == 0);
    CHECK_EQ(text[sizeof(text) - 1], 'x');   /* nothing past the NUL */
    CHECK_EQ(hex_decode(text, strlen(text), back, sizeof(back)), (long)sizeof(bytes));
    CHECK_MEM(back, bytes, sizeof(bytes));
    hex_encode(bytes, 0, text);
    CHECK_EQ(text[0], '\0');
}
