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
#include "recstore_values.h"
#include "powercut.h"
#include "store/recstore.h"
#include "test.h"

static struct recstore st;

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
            if (recstore_write(&st, id, v, rec_value(id, round, v)) != 0)
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
        int ok = has_acked[id] ? rec_reads_as(&st, id, acked[id])
                               : recstore_state_of(&st, id) == REC_NONE;
        if (!ok && !(id == pending_id && rec_reads_as(&st, id, pending_v)))
            return 0;
    }
    return 1;
}

static const char *uncut(void)
{
    return hal_flash_ops() < 100 ? "workload too small" : NULL;
}

static const char *after_cut(void)
{
    uint8_t v[RECSTORE_MAX_LEN];

    if (rec_remount(&st) != 0 || !consistent())
        return "an acknowledged record was lost or replaced";
    /* The store keeps working after the cut, and a second boot agrees. */
    if (recstore_write(&st, 1, v, rec_value(1, 999, v)) != 0 || rec_remount(&st) != 0 ||
        !rec_reads_as(&st, 1, 999) || recstore_damaged(&st))
        return "the store does not work after the cut";
    return NULL;
}

static void pending(char *buf, size_t cap)
{
    snprintf(buf, cap, "pending id %d v%u", pending_id, pending_v);
}

MG_TEST(test_recstore_power_cut_at_every_operation_loses_nothing_acknowledged)
{
    static const struct powercut_workload w = { workload, uncut, after_cut, pending };
    unsigned long before = powercut_points;

    powercut_sweep(&w, 0);
    powercut_sweep(&w, 1);
    printf("     record store: %lu cut points (every operation, whole and torn)\n",
           powercut_points - before);
}
