#include "b64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

void b64_encode(const void *in, size_t n, char *out)
{
    const unsigned char *p = in;
    size_t i, o = 0;

    for (i = 0; i + 2 < n; i += 3) {
        unsigned long v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8 | p[i + 2];
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    if (i < n) {
        unsigned long v = (unsigned long)p[i] << 16 | (i + 1 < n ? (unsigned long)p[i + 1] << 8 : 0);
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
}

long b64_decode(const char *s, size_t len, unsigned char *out, size_t cap)
{
    size_t i, pad = 0, n;
    long o = 0;

    if (len % 4 != 0)
        return -1;
    if (len > 0 && s[len - 1] == '=')
        pad = len > 1 && s[len - 2] == '=' ? 2 : 1;
    n = len / 4 * 3 - pad;
    if (n > cap)
        return -1;
    for (i = 0; i < len; i += 4) {
        int a = value(s[i]), b = value(s[i + 1]), c, d;
        int last = i + 4 == len;
        unsigned long v;

        c = last && pad == 2 ? 0 : value(s[i + 2]);
        d = last && pad >= 1 ? 0 : value(s[i + 3]);
        if (a < 0 || b < 0 || c < 0 || d < 0)
            return -1;
        v = (unsigned long)a << 18 | (unsigned long)b << 12 | (unsigned long)c << 6 |
            (unsigned long)d;
        /* The bits padding leaves unused must be zero (one encoding each). */
        if (last && ((pad == 2 && (v & 0xffff)) || (pad == 1 && (v & 0xff))))
            return -1;
        out[o++] = (unsigned char)(v >> 16);
        if (!(last && pad == 2))
            out[o++] = (unsigned char)(v >> 8);
        if (!(last && pad >= 1))
            out[o++] = (unsigned char)v;
    }
    return o;
}
