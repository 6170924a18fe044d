/* The Internet checksum's ones'-complement sum (RFC 1071), not inverted,
 * over len bytes at data at any address, as lwIP's LWIP_CHKSUM hook wants:
 * the sum of the data's 16-bit words as they lie in memory. */
#ifndef INET_SUM_H
#define INET_SUM_H

#include <stdint.h>

uint16_t mg_inet_sum(const void *data, int len);

#endif
