#include "hex.h"

int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void hex_encode(const void *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = in;
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

long hex_decode(const char *s, size_t len, unsigned char *out, size_t cap)
{
    size_t k;

    if (len % 2 || len / 2 > cap)
        return -1;
    for (k = 0; k < len / 2; k++) {
        int hi = hex_digit((unsigned char)s[2 * k]), lo = hex_digit((unsigned char)s[2 * k + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[k] = (unsigned char)(hi << 4 | lo);
    }
    return (long)(len / 2);
}
