/* The keystore cut at every single flash operation of a scripted life:
 * first boot, key rotations (operator resets), a provisioned secret
 * rewritten, enough of it to run garbage collection; each operation cut
 * whole and torn. After every cut the reboot opens the store, every key
 * acknowledged before the cut reads back exactly, none is corrupt, none
 * silently replaced (DESIGN.md section 6). */
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "flash.h"
#include "flash_image.h"
#include "keystore.h"
#include "mg_err.h"
#include "powercut.h"
#include "store/recstore.h"
#include "sys.h"
#include "test.h"

#define ITER   1000   /* PBKDF2 is not what is tested here */
#define ROUNDS 80     /* enough writes to wrap the partition: collections run */
#define N_MAX  16

struct known {
    uint16_t id;
    int present;
    size_t len;
    uint8_t v[KS_MAX_PLAIN];
};

static struct hal_device_secret secret;
static struct known acked[N_MAX];
static size_t n_keys;
static uint16_t pending;      /* the key being written when the power went */
static int first_boot_done;

static void snapshot(uint16_t id)
{
    size_t i;

    for (i = 0; i < n_keys; i++) {
        if (acked[i].id != id)
            continue;
        acked[i].present =
            keystore_get(id, acked[i].v, sizeof(acked[i].v), &acked[i].len) == 0;
    }
}

static void snapshot_all(void)
{
    size_t i;

    for (i = 0; i < n_keys; i++)
        snapshot(acked[i].id);
}

static int boot(void)
{
    hal_flash_close();
    if (hal_flash_open(flash_image_path()) != 0)
        return -1;
    return keystore_open(hal_flash_part("keys"), &secret, ITER);
}

static int workload(void)
{
    uint8_t hmac[100];
    unsigned round;
    int made;
    size_t i;

    first_boot_done = 0;
    pending = 0;
    n_keys = 0;
    for (i = 0; keystore_key(i) && i < N_MAX; i++) {
        acked[i].id = keystore_key(i)->id;
        acked[i].present = 0;
        n_keys++;
    }
    if (keystore_open(hal_flash_part("keys"), &secret, ITER) != 0 ||
        keystore_generate_missing(&made) != 0)
        return -1;
    snapshot_all();
    first_boot_done = 1;
    for (round = 1; round <= ROUNDS; round++) {
        pending = (uint16_t)(KS_PREKEYS + round % KS_PREKEY_PAGES);
        if (keystore_reset(pending) != 0)
            return -1;
        snapshot(pending);
        for (i = 0; i < sizeof(hmac); i++)
            hmac[i] = (uint8_t)(round * 3 + i);
        pending = KS_MESH_HMAC;
        if (keystore_put(KS_MESH_HMAC, hmac, sizeof(hmac)) != 0)
            return -1;
        snapshot(KS_MESH_HMAC);
        if (round % 7 == 0) {
            pending = round % 14 ? KS_NODE : KS_SIGNAL_IDENTITY;
            if (keystore_reset(pending) != 0)
                return -1;
            snapshot_all();   /* an identity reset renews the signed prekey too */
        }
    }
    pending = 0;
    return 0;
}

/* After the reboot: what was acknowledged is there, exactly. */
static const char *check(void)
{
    uint8_t got[KS_MAX_PLAIN];
    size_t i, len;

    if (keystore_status() != KS_OK)
        return "store not open";
    for (i = 0; i < n_keys; i++) {
        const struct known *k = &acked[i];
        enum ks_state st = keystore_state(k->id);
        int same;

        if (st == KS_CORRUPT)
            return "a key reads corrupt";
        if (!first_boot_done)
            continue;   /* first boot: each key made or not yet */
        same = st == KS_PRESENT
                   ? k->present && keystore_get(k->id, got, sizeof(got), &len) == 0 &&
                         len == k->len && memcmp(got, k->v, len) == 0
                   : !k->present;
        /* The key being written may be its old self, deleted (a reset's
         * first half) or its new self; no other key may have changed.
         * The signed prekey hangs on the identity: reset together. */
        if (!same && k->id != pending &&
            !(k->id == KS_SIGNED_PREKEY && pending == KS_SIGNAL_IDENTITY))
            return "an acknowledged key changed or vanished";
    }
    return NULL;
}

static const char *uncut(void)
{
    return keystore_records()->gc_runs == 0 ? "the workload never collected garbage" : NULL;
}

static const char *after_cut(void)
{
    const char *why = boot() == 0 ? check() : "the store does not open";
    int made;

    /* It keeps working: the boot's generation, a write, a second boot that
     * agrees. */
    if (!why && (keystore_generate_missing(&made) != 0 ||
                 keystore_put(KS_PEER_SECRET, "after", 5) != 0 || boot() != 0 ||
                 keystore_state(KS_PEER_SECRET) != KS_PRESENT ||
                 keystore_state(KS_NODE) != KS_PRESENT))
        why = "the store does not work after the cut";
    return why;
}

static void describe_pending(char *buf, size_t cap)
{
    snprintf(buf, cap, "pending 0x%04x", pending);
}

static void sweep(int torn)
{
    static const struct powercut_workload w = { workload, uncut, after_cut, describe_pending };
    unsigned long total = powercut_sweep(&w, torn);

    if (total)
        printf("     keystore %s: %lu operations, each cut\n", torn ? "torn " : "whole", total);
}

MG_TEST(test_keystore_power_cut_at_every_operation_keeps_every_acknowledged_key)
{
    unsigned long before = powercut_points;

    memset(&secret, 0, sizeof(secret));
    secret.kind = HAL_SECRET_KEY;
    memset(secret.key, 0x3C, sizeof(secret.key));
    sweep(0);
    sweep(1);
    printf("     keystore: %lu cut points (every operation, whole and torn)\n",
           powercut_points - before);
}
