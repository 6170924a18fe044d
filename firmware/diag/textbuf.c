#include "textbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void textbuf_init(struct textbuf *b, char *mem, size_t cap)
{
    b->p = mem;
    b->cap = cap;
    b->len = 0;
    b->overflow = 0;
    if (cap)
        mem[0] = '\0';
}

void textbuf_printf(struct textbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->overflow)
        return;
    va_start(ap, fmt);
    n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len) {
        b->overflow = 1;
        b->p[b->len] = '\0';
        return;
    }
    b->len += (size_t)n;
}

void textbuf_puts(struct textbuf *b, const char *s)
{
    size_t n = strlen(s);

    if (b->overflow)
        return;
    if (n >= b->cap - b->len) {   /* as textbuf_printf: the NUL must fit too */
        b->overflow = 1;
        return;
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

void textbuf_u64(struct textbuf *b, uint64_t v)
{
    char digits[21], *p = digits + sizeof(digits) - 1;

    *p = '\0';
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    textbuf_puts(b, p);
}

/* The next code point of the UTF-8 text at *p, advancing it; 0xFFFD for a
 * malformed sequence (one byte consumed). */
static uint32_t next_code_point(const unsigned char **p)
{
    const unsigned char *s = *p;
    uint32_t cp;
    int n, i;

    if (s[0] < 0x80) {
        *p = s + 1;
        return s[0];
    }
    if ((s[0] & 0xe0) == 0xc0) {
        n = 1;
        cp = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        n = 2;
        cp = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        n = 3;
        cp = s[0] & 0x07;
    } else {
        *p = s + 1;
        return 0xfffd;
    }
    for (i = 1; i <= n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *p = s + 1;
            return 0xfffd;
        }
        cp = cp << 6 | (s[i] & 0x3f);
    }
    *p = s + n + 1;
    return cp;
}

void textbuf_json_string(struct textbuf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    textbuf_printf(b, "\"");
    while (*p) {
        uint32_t cp = next_code_point(&p);

        switch (cp) {
        case '"':  textbuf_printf(b, "\\\""); break;
        case '\\': textbuf_printf(b, "\\\\"); break;
        case '\n': textbuf_printf(b, "\\n"); break;
        case '\r': textbuf_printf(b, "\\r"); break;
        case '\t': textbuf_printf(b, "\\t"); break;
        case '\b': textbuf_printf(b, "\\b"); break;
        case '\f': textbuf_printf(b, "\\f"); break;
        default:
            if (cp >= 0x20 && cp < 0x7f)
                textbuf_printf(b, "%c", (char)cp);
            else if (cp < 0x10000)
                textbuf_printf(b, "\\u%04x", (unsigned)cp);
            else
                textbuf_printf(b, "\\u%04x\\u%04x", (unsigned)(0xd800 + ((cp - 0x10000) >> 10)),
                               (unsigned)(0xdc00 + ((cp - 0x10000) & 0x3ff)));
        }
    }
    textbuf_printf(b, "\"");
}
