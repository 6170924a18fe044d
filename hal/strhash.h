/* FNV-1a over a NUL-terminated string: the hash of the firmware's in-RAM
 * indexes (mailbox ids, users, tombstones). Not for anything an attacker
 * must not steer: chains stay short because every table is sized. */
#ifndef STRHASH_H
#define STRHASH_H

#include <stdint.h>

static inline uint32_t strhash(const char *s)
{
    uint32_t h = 2166136261u;

    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

#endif
