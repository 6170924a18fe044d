/* The Signal benchmark of make bench (issue 9): encrypt and decrypt
 * operations/s and X3DH setups/s through the firmware's session API (our
 * mbedTLS crypto provider, the stores over the keystore in a flash image),
 * and the arena's high-water per kind of operation. The same source is
 * linked twice: against libsignal-arena.a (its allocator the static Signal
 * arena, as in the firmware) and against the library as built (the C
 * library's malloc); the caller runs both and prints their ratio.
 *
 * Two parties in one process: the keystore on the image's "keys" partition
 * is A, on its "registry" partition B (same size); switching party reopens
 * the keystore, outside the timed batches.
 *
 *   bench-signal[-malloc] IMAGE [SECONDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "board.h"
#include "crypto.h"
#include "flash.h"
#include "keystore.h"
#include "mg_err.h"
#include "signal_arena.h"
#include "signal_bundle.h"
#include "signal_session.h"
#include "sys.h"

#define BATCH 64            /* messages per batch: in order, no skipped keys */
#define MSG   1024          /* plaintext bytes, a small report */

static struct hal_device_secret secret;
static char bodies[BATCH][SIG_BODY_B64_MAX];
static size_t body_len[BATCH];
static int types[BATCH];
static char bundle_a[SIG_BUNDLE_JSON_MAX], bundle_b[SIG_BUNDLE_JSON_MAX];
static uint8_t plain[BOARD_SIGNAL_MESSAGE_MAX];

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Makes party `part` the one the session API works for. */
static int become(const char *part)
{
    int made = 0, rc = keystore_open(hal_flash_part(part), &secret, 1000);

    if (rc == 0)
        rc = keystore_generate_missing(&made);
    if (rc == 0)
        rc = signal_session_init();
    return rc;
}

static int encrypt_batch(const char *to, double *t)
{
    double t0 = now_s();
    int i, rc = 0;

    for (i = 0; i < BATCH && rc == 0; i++)
        rc = signal_session_encrypt(to, 1, plain, MSG, &types[i], bodies[i], sizeof(bodies[i]),
                                    &body_len[i]);
    *t += now_s() - t0;
    return rc;
}

static int decrypt_batch(const char *from, double *t)
{
    double t0 = now_s();
    size_t n;
    int i, rc = 0;

    for (i = 0; i < BATCH && rc == 0; i++)
        rc = signal_session_decrypt(from, 1, types[i], bodies[i], body_len[i], plain,
                                    sizeof(plain), &n);
    *t += now_s() - t0;
    return rc;
}

int main(int argc, char **argv)
{
    double seconds = argc > 2 ? atof(argv[2]) : 2.0, te = 0, td = 0, tx = 0, t0;
    unsigned long enc = 0, dec = 0, x3dh = 0;
    struct sig_op_stats s;
    size_t n;
    int rc;

    if (argc < 2 || mg_crypto_init() != 0) {
        fprintf(stderr, "usage: bench-signal IMAGE [SECONDS]\n");
        return 2;
    }
    unlink(argv[1]);
    secret.kind = HAL_SECRET_KEY;
    memset(secret.key, 0x5A, sizeof(secret.key));
    memset(plain, 'r', sizeof(plain));
    rc = hal_flash_open(argv[1]);
    if (rc == 0)
        rc = become("registry");
    if (rc == 0)
        rc = signal_session_bundle_json(NULL, bundle_b, sizeof(bundle_b), &n);
    if (rc == 0)
        rc = become("keys");
    if (rc == 0)
        rc = signal_session_bundle_json(NULL, bundle_a, sizeof(bundle_a), &n);
    /* X3DH setups: A makes a session from B's bundle again and again
     * (forgetting the last one, which is a keystore delete, is timed too). */
    t0 = now_s();
    while (rc == 0 && now_s() - t0 < seconds / 3) {
        signal_session_forget("b", 1);
        rc = signal_session_from_bundle("b", 1, bundle_b, strlen(bundle_b));
        x3dh++;
    }
    tx = now_s() - t0;
    /* Messages: A -> B, then B -> A, in batches, until the time is up. */
    while (rc == 0 && te + td < 2 * seconds / 3) {
        rc = encrypt_batch("b", &te);
        if (rc == 0)
            rc = become("registry");
        if (rc == 0)
            rc = decrypt_batch("a", &td);
        if (rc == 0)
            rc = encrypt_batch("a", &te);
        if (rc == 0)
            rc = become("keys");
        if (rc == 0)
            rc = decrypt_batch("b", &td);
        enc += 2 * BATCH;
        dec += 2 * BATCH;
    }
    hal_flash_close();
    if (rc) {
        fprintf(stderr, "bench-signal: %s\n", mg_strerror(rc));
        return 1;
    }
    signal_session_get_stats(&s);
    printf("encrypt %.0f/s decrypt %.0f/s x3dh %.0f/s (%zu-byte messages)\n",
           (double)enc / te, (double)dec / td, (double)x3dh / tx, (size_t)MSG);
    printf("arena high-water: from bundle %zu, encrypt %zu, decrypt prekey %zu, "
           "decrypt whisper %zu bytes of %u\n", s.high_water[SIG_OP_FROM_BUNDLE],
           s.high_water[SIG_OP_ENCRYPT], s.high_water[SIG_OP_DECRYPT_PREKEY],
           s.high_water[SIG_OP_DECRYPT_WHISPER], (unsigned)BOARD_SIGNAL_ARENA);
    return 0;
}
