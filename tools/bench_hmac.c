/* The reference for the controller gate's benchmark (make bench): raw
 * mbedTLS HMAC-SHA256 verifications per second of a message the size of a
 * gated request's signed bytes (nonce || timestamp || body), on the board
 * under test (built per board, run under its runner like the firmware).
 * Each verification is what the gate must do at least: an HMAC over the
 * bytes and a constant-time compare with the sent MAC.
 *
 *   bench-hmac BODY_BYTES [SECONDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "mbedtls/md.h"

static unsigned char msg[36 + 13 + 65536];

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    static const char key[] = "bench-secret";
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    mbedtls_md_context_t ctx;
    unsigned char want[32], got[32];
    size_t body = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024, len;
    double seconds = argc > 2 ? atof(argv[2]) : 2.0, t0, t;
    unsigned long n = 0, bad = 0;

    if (body > sizeof(msg) - 49 || mg_crypto_init() != 0) {
        fprintf(stderr, "usage: bench-hmac BODY_BYTES [SECONDS] (at most 65536 bytes)\n");
        return 2;
    }
    len = 36 + 13 + body;
    memset(msg, 'a', len);
    mbedtls_md_init(&ctx);
    if (mbedtls_md_setup(&ctx, md, 1) != 0 || mbedtls_md_hmac_starts(&ctx, (const unsigned char *)key,
                                                                        sizeof(key) - 1) != 0)
        return 1;
    mbedtls_md_hmac_update(&ctx, msg, len);
    mbedtls_md_hmac_finish(&ctx, want);
    t0 = now_s();
    do {
        int i;
        for (i = 0; i < 256; i++, n++) {
            mbedtls_md_hmac_reset(&ctx);
            mbedtls_md_hmac_update(&ctx, msg, len);
            mbedtls_md_hmac_finish(&ctx, got);
            bad += mg_ct_compare(got, want, sizeof(got)) != 0;
        }
        t = now_s() - t0;
    } while (t < seconds);
    mbedtls_md_free(&ctx);
    printf("%lu verifications of %zu bytes in %.2f s: %.0f/s%s\n", n, len, t, (double)n / t,
           bad ? " (MISMATCH)" : "");
    return bad ? 1 : 0;
}
