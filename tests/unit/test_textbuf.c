/* textbuf's plain appends (firmware/diag/textbuf.c): the same bound as its
 * printf (the NUL must fit), and an overflow remembered. */
#include <string.h>

#include "diag/textbuf.h"
#include "test.h"

MG_TEST(test_textbuf_puts_and_u64_append_what_printf_would)
{
    char mem[64];
    struct textbuf b;

    textbuf_init(&b, mem, sizeof(mem));
    textbuf_puts(&b, "Content-Length: ");
    textbuf_u64(&b, 0);
    textbuf_puts(&b, " ");
    textbuf_u64(&b, 18446744073709551615ull);
    CHECK(strcmp(mem, "Content-Length: 0 18446744073709551615") == 0);
    CHECK_EQ(b.len, strlen(mem));
    CHECK_EQ(b.overflow, 0);
}

MG_TEST(test_textbuf_puts_overflows_where_printf_would_and_remembers_it)
{
    char mem[8];
    struct textbuf b;

    textbuf_init(&b, mem, sizeof(mem));
    textbuf_puts(&b, "1234567");          /* 7 and its NUL: fits */
    CHECK_EQ(b.overflow, 0);
    CHECK_EQ(b.len, 7);
    textbuf_init(&b, mem, sizeof(mem));
    textbuf_puts(&b, "12345678");         /* no room for the NUL */
    CHECK_EQ(b.overflow, 1);
    CHECK_EQ(b.len, 0);
    CHECK_EQ(mem[0], '\0');
    textbuf_puts(&b, "x");                /* nothing after an overflow */
    textbuf_u64(&b, 5);
    CHECK_EQ(b.len, 0);
    CHECK_EQ(mem[0], '\0');
}
