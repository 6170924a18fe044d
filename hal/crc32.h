/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32()): record checksums in
 * the flash stores. Pass 0 to start; feed the result back to continue. */
#ifndef HAL_CRC32_H
#define HAL_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

#endif
