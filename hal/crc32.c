#include "crc32.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_FOLD 1
#elif defined(__aarch64__) && defined(__GNUC__)
#include <arm_acle.h>
#include <sys/auxv.h>
#define HAVE_ARM_CRC 1
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
#endif

/* Slicing by eight: eight bytes per step through eight 256-entry tables
 * (8 KiB, filled on first use), so a mailbox record of a few KiB costs
 * little more than copying it. Same CRC-32 (IEEE, reflected) as ever. */
static uint32_t table[8][256];
static int ready;

static void fill(void)
{
    uint32_t i, c;
    int k;

    for (i = 0; i < 256; i++) {
        c = i;
        for (k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xedb88320u : c >> 1;
        table[0][i] = c;
    }
    for (i = 0; i < 256; i++)
        for (k = 1; k < 8; k++)
            table[k][i] = (table[k - 1][i] >> 8) ^ table[0][table[k - 1][i] & 0xff];
    ready = 1;
}

#ifdef HAVE_FOLD
/* Carry-less multiplication folding (Intel's "Fast CRC Computation for
 * Generic Polynomials Using PCLMULQDQ"), four 16-byte lanes, for the
 * reflected IEEE polynomial: the constants are x^k mod P for the fold
 * distances (512+32, 512-32, 128+32, 128-32, 64), then a Barrett reduction
 * by mu = floor(x^64 / P) and P. len >= 64 and a multiple of 16; crc is the
 * inverted running value. */
__attribute__((target("pclmul,sse4.1")))
static uint32_t fold(uint32_t crc, const uint8_t *p, size_t len)
{
    const __m128i k1k2 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);
    const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
    const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124);
    const __m128i mu_p = _mm_set_epi64x(0x1f7011641, 0x1db710641);
    const __m128i low32 = _mm_set_epi32(0, 0, 0, -1);
    __m128i x[4], t;
    int i;

    for (i = 0; i < 4; i++)
        x[i] = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
    x[0] = _mm_xor_si128(x[0], _mm_cvtsi32_si128((int)crc));
    for (p += 64, len -= 64; len >= 64; p += 64, len -= 64) {
        for (i = 0; i < 4; i++) {
            t = _mm_clmulepi64_si128(x[i], k1k2, 0x11);
            x[i] = _mm_xor_si128(_mm_clmulepi64_si128(x[i], k1k2, 0x00), t);
            x[i] = _mm_xor_si128(x[i], _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i)));
        }
    }
    /* Four lanes into one, then the remaining blocks into it. */
    for (i = 1; i < 4; i++) {
        t = _mm_clmulepi64_si128(x[0], k3k4, 0x11);
        x[0] = _mm_xor_si128(_mm_clmulepi64_si128(x[0], k3k4, 0x00), t);
        x[0] = _mm_xor_si128(x[0], x[i]);
    }
    for (; len >= 16; p += 16, len -= 16) {
        t = _mm_clmulepi64_si128(x[0], k3k4, 0x11);
        x[0] = _mm_xor_si128(_mm_clmulepi64_si128(x[0], k3k4, 0x00), t);
        x[0] = _mm_xor_si128(x[0], _mm_loadu_si128((const __m128i *)(const void *)p));
    }
    /* 128 -> 64 bits, 64 -> 32 bits, then Barrett. */
    t = _mm_clmulepi64_si128(x[0], k3k4, 0x10);
    x[0] = _mm_xor_si128(_mm_srli_si128(x[0], 8), t);
    t = _mm_clmulepi64_si128(_mm_and_si128(x[0], low32), k5, 0x00);
    x[0] = _mm_xor_si128(_mm_srli_si128(x[0], 4), t);
    t = _mm_clmulepi64_si128(_mm_and_si128(x[0], low32), mu_p, 0x10);
    t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), mu_p, 0x00);
    return (uint32_t)_mm_extract_epi32(_mm_xor_si128(x[0], t), 1);
}
#endif

#ifdef HAVE_ARM_CRC
/* ARMv8's CRC32X is this very CRC (the C-less variant), 8 bytes a step. */
__attribute__((target("+crc")))
static uint32_t arm_crc(uint32_t crc, const uint8_t *p, size_t len)
{
    uint64_t w;

    for (; len >= 8; len -= 8, p += 8) {
        memcpy(&w, p, 8);
        crc = __crc32d(crc, w);
    }
    while (len--)
        crc = __crc32b(crc, *p++);
    return crc;
}
#endif

#if defined(HAVE_FOLD) || defined(HAVE_ARM_CRC)
static int fast;   /* the CPU has the instructions (set on first use) */
#endif

uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;

    if (!ready) {
        fill();
#ifdef HAVE_FOLD
        __builtin_cpu_init();
        fast = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
#elif defined(HAVE_ARM_CRC)
        fast = (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0;
#endif
    }
    crc = ~crc;
#ifdef HAVE_FOLD
    if (fast && len >= 64) {
        crc = fold(crc, p, len & ~(size_t)15);
        p += len & ~(size_t)15;
        len &= 15;
    }
#elif defined(HAVE_ARM_CRC)
    if (fast)
        return ~arm_crc(crc, p, len);
#endif
    for (; len >= 8; len -= 8, p += 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                             (uint32_t)p[3] << 24);
        uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
                      (uint32_t)p[7] << 24;
        crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
              table[4][lo >> 24] ^ table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
              table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
    }
    while (len--)
        crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
    return ~crc;
}
