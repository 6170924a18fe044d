/* The Internet checksum's sum for lwIP (LWIP_CHKSUM in lwipopts.h). lwIP's
 * own routines add two bytes a step; this adds four bytes a step into 64
 * bits, which cannot overflow for any length lwIP passes (under 64 KiB:
 * 2^14 additions of values below 2^32). At TAP speeds the checksum of
 * every segment in and out was one of the loop's largest costs. */
#include "inet_sum.h"

#include <string.h>

uint16_t mg_inet_sum(const void *data, int len)
{
    const uint8_t *p = data;
    uint64_t sum = 0;
    uint32_t w;
    uint16_t h;

    /* RFC 1071: the sum of the 16-bit words in memory order does not depend
     * on alignment or byte order once folded, so words are loaded from the
     * first byte on, whatever its address. */
    for (; len >= 16; len -= 16, p += 16) {
        uint32_t a, b, c, d;
        memcpy(&a, p, 4);
        memcpy(&b, p + 4, 4);
        memcpy(&c, p + 8, 4);
        memcpy(&d, p + 12, 4);
        sum += (uint64_t)a + b + c + d;
    }
    for (; len >= 4; len -= 4, p += 4) {
        memcpy(&w, p, 4);
        sum += w;
    }
    if (len >= 2) {
        memcpy(&h, p, 2);
        sum += h;
        p += 2;
        len -= 2;
    }
    if (len > 0) {
        h = 0;
        memcpy(&h, p, 1);   /* the odd byte is the first of a word */
        sum += h;
    }
    sum = (sum & 0xFFFFFFFFu) + (sum >> 32);
    sum = (sum & 0xFFFFFFFFu) + (sum >> 32);
    sum = (sum & 0xFFFFu) + (sum >> 16);
    sum = (sum & 0xFFFFu) + (sum >> 16);
    return (uint16_t)sum;
}
