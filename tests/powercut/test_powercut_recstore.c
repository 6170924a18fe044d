/* The record store cut at every single flash operation of a workload of
 * writes, rewrites and garbage collections, whole or torn: no acknowledged
 * record is lost or replaced, and the store keeps working after the cut
 * (DESIGN.md section 6). */
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "flash.h"
#include "flash_image.h"
#include "mg_err.h"
#include "powercut.h"
#include "store/recstore.h"
#include "test.h"

static struct recstore st;

static int reboot_and_mount(void)
{
    hal_flash_close();
    if (hal_flash_open(flash_image_path()) != 0)
        return -1;
    return recstore_mount(&st, hal_flash_part("keys"));
}

/* The payload of version v of id: distinct per (id, v), length varying. */
static size_t value(uint16_t id, unsigned v, uint8_t *out)
{
    size_t len = 200 + (id * 131 + v * 17) % 800, i;

    for (i = 0; i < len; i++)
        out[i] = (uint8_t)(id * 7 + v * 13 + i);
    return len;
}

static int reads_as(uint16_t id, unsigned v)
{
    uint8_t want[RECSTORE_MAX_LEN], got[RECSTORE_MAX_LEN];
    size_t n = value(id, v, want), len;

    return recstore_read(&st, id, got, sizeof(got), &len) == 0 && len == n &&
           memcmp(got, want, n) == 0;
}

#define IDS    5
#define ROUNDS 30

static unsigned acked[IDS + 1];      /* version last acknowledged, 0: none */
static int has_acked[IDS + 1];
static int pending_id;
static unsigned pending_v;

/* Writes, rewrites and deletes until the flash fails (the cut) or the end. */
static int workload(void)
{
    uint8_t v[RECSTORE_MAX_LEN];
    unsigned round;
    uint16_t id;

    memset(acked, 0, sizeof(acked));
    memset(has_acked, 0, sizeof(has_acked));
    if (recstore_mount(&st, hal_flash_part("keys")) != 0)
        return -1;
    for (round = 1; round <= ROUNDS; round++) {
        for (id = 1; id <= IDS; id++) {
            pending_id = id;
            pending_v = round;
            if (recstore_write(&st, id, v, value(id, round, v)) != 0)
                return -1;
            acked[id] = round;
            has_acked[id] = 1;
        }
    }
    pending_id = 0;
    return 0;
}

/* After a reboot: every id reads its acknowledged version, or the one being
 * written when the power went. */
static int consistent(void)
{
    uint16_t id;

    if (recstore_damaged(&st))
        return 0;
    for (id = 1; id <= IDS; id++) {
        int ok = has_acked[id] ? reads_as(id, acked[id])
                               : recstore_state_of(&st, id) == REC_NONE;
        if (!ok && !(id == pending_id && reads_as(id, pending_v)))
            return 0;
    }
    return 1;
}

static void sweep(int torn)
{
    unsigned long total, k;

    if (flash_image_create() != 0)
        return;
    if (workload() != 0) {
        test_fail(__FILE__, __LINE__, "workload failed without a cut");
        flash_image_remove();
        return;
    }
    total = hal_flash_ops();
    flash_image_remove();
    for (k = 1; k <= total; k++) {
        if (flash_image_create() != 0)
            break;
        hal_flash_powercut_arm(k, torn);
        workload();
        hal_flash_powercut_disarm();
        powercut_points++;
        if (reboot_and_mount() != 0 || !consistent()) {
            test_fail(__FILE__, __LINE__, "cut at op %lu/%lu (torn %d): pending id %d v%u",
                      k, total, torn, pending_id, pending_v);
            flash_image_remove();
            return;
        }
        /* The store keeps working after the cut, and a second boot agrees. */
        {
            uint8_t v[RECSTORE_MAX_LEN];
            if (recstore_write(&st, 1, v, value(1, 999, v)) != 0 || reboot_and_mount() != 0 ||
                !reads_as(1, 999) || recstore_damaged(&st)) {
                test_fail(__FILE__, __LINE__, "after the cut at op %lu (torn %d)", k, torn);
                flash_image_remove();
                return;
            }
        }
        flash_image_remove();
    }
    if (total < 100)
        test_fail(__FILE__, __LINE__, "workload too small: %lu ops", total);
}

MG_TEST(test_recstore_power_cut_at_every_operation_loses_nothing_acknowledged)
{
    unsigned long before = powercut_points;

    sweep(0);
    sweep(1);
    printf("     record store: %lu cut points (every operation, whole and torn)\n",
           powercut_points - before);
}
