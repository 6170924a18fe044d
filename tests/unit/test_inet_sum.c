/* The Internet checksum lwIP uses (firmware/net/inet_sum.c): RFC 1071's
 * definition at every length and alignment, and a known IPv4 header
 * through lwIP's own inet_chksum(). */
#include <string.h>

#include "lwip/inet_chksum.h"
#include "net/inet_sum.h"
#include "test.h"

/* Big-endian 16-bit words, one at a time, folded: the RFC's definition. */
static uint16_t sum_by_definition(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    size_t i;

    for (i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (len % 2)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xFFFFu) + (sum >> 16);
    return (uint16_t)sum;
}

/* The sum as it lies in memory, read big-endian: comparable on any host. */
static uint16_t as_stored(uint16_t v)
{
    uint8_t b[2];

    memcpy(b, &v, 2);
    return (uint16_t)(b[0] << 8 | b[1]);
}

MG_TEST(test_inet_sum_equals_the_definition_at_every_length_and_alignment)
{
    static uint8_t buf[1600];
    uint32_t x = 7;
    size_t i, len, at;

    for (i = 0; i < sizeof(buf); i++) {
        x = x * 1664525u + 1013904223u;
        buf[i] = (uint8_t)(x >> 24);
    }
    for (at = 0; at < 8; at++)
        for (len = 0; len + at <= 1530; len += (len < 80 ? 1 : 13))
            if (as_stored(mg_inet_sum(buf + at, (int)len)) != sum_by_definition(buf + at, len))
                test_fail(__FILE__, __LINE__, "len %zu at %zu", len, at);
    /* All ones: the largest sums, where a lost carry would show. */
    memset(buf, 0xFF, sizeof(buf));
    for (len = 0; len <= sizeof(buf); len += 7)
        CHECK_EQ(as_stored(mg_inet_sum(buf, (int)len)), sum_by_definition(buf, len));
}

MG_TEST(test_inet_chksum_of_a_known_ipv4_header)
{
    /* An IPv4 header whose checksum field (bytes 10-11) holds b861. */
    uint8_t hdr[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                        0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
    uint16_t c = inet_chksum(hdr, sizeof(hdr));

    memcpy(hdr + 10, &c, 2);
    CHECK_EQ(hdr[10], 0xb8);
    CHECK_EQ(hdr[11], 0x61);
    CHECK_EQ(inet_chksum(hdr, sizeof(hdr)), 0);   /* a receiver's check */
}
