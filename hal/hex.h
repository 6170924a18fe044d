/* Hexadecimal digits and strings, either case. */
#ifndef HEX_H
#define HEX_H

#include <stddef.h>

/* The value of one hex digit, or -1. */
int hex_digit(int c);

/* Decodes len hex characters at s into out (at most cap bytes); the number
 * of bytes, or -1 for an odd length, a non-hex character or too little room. */
long hex_decode(const char *s, size_t len, unsigned char *out, size_t cap);

/* Writes the n bytes at in as 2n lowercase hex digits and a NUL to out
 * (2n + 1 bytes). */
void hex_encode(const void *in, size_t n, char *out);

#endif
