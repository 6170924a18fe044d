/* Standard base64 (RFC 4648 section 4, padded), strictly: the wire formats
 * of PROTOCOLS.md carry keys and signatures this way. */
#ifndef B64_H
#define B64_H

#include <stddef.h>

/* Bytes of the encoding of n bytes, without the NUL. */
#define B64_LEN(n) ((((n) + 2) / 3) * 4)

/* Writes the encoding of in[0..n) and a NUL to out (B64_LEN(n) + 1 bytes). */
void b64_encode(const void *in, size_t n, char *out);

/* Decodes s[0..len) into out (at most cap bytes): the byte count, or -1 for
 * anything that is not canonical padded base64 (a length not a multiple of
 * 4, a character outside the alphabet, padding other than at the end, unused
 * bits set) or that does not fit. */
long b64_decode(const char *s, size_t len, unsigned char *out, size_t cap);

#endif
