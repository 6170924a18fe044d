/* The mailbox journal cut at every single flash operation of a workload of
 * deposits of varied sizes, deletes and group commits, through several
 * compactions, whole or torn: after the reboot every deposit whose commit
 * returned 0 and that was not deleted replays exactly, none whose delete
 * was committed comes back, nothing reads as damaged, and the journal keeps
 * working (DESIGN.md section 6). */
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "flash.h"
#include "flash_image.h"
#include "mg_err.h"
#include "powercut.h"
#include "relay/journal.h"
#include "test.h"

/* Three segments of the mailbox partition: compactions come every ~60 KiB. */
static const struct hal_flash_part part = { "mailbox", BOARD_PART_MAILBOX_OFF,
                                            3 * JOURNAL_SEGMENT };

#define MSGS 110
#define AFTER MSGS   /* the deposit written after the reboot */

enum { NONE, APPENDED, COMMITTED, DEL_APPENDED, DEL_COMMITTED };

static uint8_t state[MSGS + 1];
static char pending_what[48];

/* What the replay gave. */
static struct {
    int present;
    journal_handle h;
} seen[MSGS + 1];
static int stranger;

static uint8_t env[JOURNAL_ENVELOPE_MAX], got[JOURNAL_ENVELOPE_MAX];

static size_t size_of(unsigned n)
{
    return (n * 7919u) % 4000u + (n % 9 == 4 ? 12000u : 0u);
}

static void message(unsigned n, struct journal_deposit *d)
{
    size_t i, len = size_of(n);

    memset(d, 0, sizeof(*d));
    snprintf(d->msg_id, sizeof(d->msg_id), "pc_%u", n);
    snprintf(d->from, sizeof(d->from), "sender-%u", n * 17);
    snprintf(d->to, sizeof(d->to), "recipient-%u", n % 3);
    d->deposited_at = 1700000000000LL + n * 1000;
    d->expires_at = -(int64_t)n;
    d->flags = 0x80000000u | n;
    d->envelope_len = (uint32_t)len;
    for (i = 0; i < len; i++)
        env[i] = (uint8_t)(n * 131 + i * 29 + (i >> 8));
}

/* The message number in msg_id, or -1. */
static int number(const char *id)
{
    int n = 0;

    if (strncmp(id, "pc_", 3) != 0 || !id[3])
        return -1;
    for (id += 3; *id; id++) {
        if (*id < '0' || *id > '9' || n > MSGS)
            return -1;
        n = n * 10 + (*id - '0');
    }
    return n <= MSGS ? n : -1;
}

static void on_deposit(void *ctx, const struct journal_deposit *d, journal_handle h)
{
    int n = number(d->msg_id);

    (void)ctx;
    if (n < 0) {
        stranger = 1;
        return;
    }
    seen[n].present = 1;
    seen[n].h = h;
}

static void on_delete(void *ctx, const char *id)
{
    int n = number(id);

    (void)ctx;
    if (n >= 0)
        seen[n].present = 0;
}

static int is_live(void *ctx, const char *id)
{
    int n = number(id);

    (void)ctx;
    return n >= 0 && (state[n] == APPENDED || state[n] == COMMITTED);
}

static void moved(void *ctx, const char *id, journal_handle h)
{
    int n = number(id);

    (void)ctx;
    if (n >= 0)
        seen[n].h = h;
}

static const struct journal_callbacks cbs = { on_deposit, on_delete, is_live, moved, NULL };

static int deposit(unsigned n)
{
    struct journal_deposit d;
    journal_handle h = 0;

    message(n, &d);
    snprintf(pending_what, sizeof(pending_what), "deposit %u (%zu bytes)", n, size_of(n));
    if (journal_append_deposit(&d, env, &h) != 0)
        return -1;
    state[n] = APPENDED;
    return 0;
}

static int delete(unsigned n)
{
    char id[JOURNAL_ID_MAX];

    snprintf(id, sizeof(id), "pc_%u", n);
    snprintf(pending_what, sizeof(pending_what), "delete %u", n);
    if (journal_append_delete(id) != 0)
        return -1;
    state[n] = DEL_APPENDED;
    return 0;
}

static int commit(void)
{
    unsigned n;

    snprintf(pending_what, sizeof(pending_what), "commit of %u records", journal_pending());
    if (journal_commit() != 0)
        return -1;
    for (n = 0; n <= MSGS; n++) {
        if (state[n] == APPENDED)
            state[n] = COMMITTED;
        else if (state[n] == DEL_APPENDED)
            state[n] = DEL_COMMITTED;
    }
    return 0;
}

/* 1: every deposit is acked two messages later, so every compaction finds
 * nothing live and only erases its victim (the relay under steady load). */
static int ack_all;

/* Deposits, each acked two messages later, but (unless ack_all) every
 * fourth is kept for thirty more (past the compaction of its segment) and
 * every sixteenth for good: compactions copy, and copy copies. Commits come
 * in batches of one to four records. */
static int workload(void)
{
    unsigned n;

    memset(state, 0, sizeof(state));
    pending_what[0] = 0;
    if (journal_mount(&part, &cbs) != 0)
        return -1;
    for (n = 0; n < MSGS; n++) {
        if (deposit(n) != 0)
            return -1;
        if (n >= 2 && (ack_all || (n - 2) % 4 != 0) && delete(n - 2) != 0)
            return -1;
        if (!ack_all && n >= 30 && (n - 30) % 4 == 0 && (n - 30) % 16 != 8 &&
            delete(n - 30) != 0)
            return -1;
        if ((n % 5 == 1 || n % 3 == 2) && commit() != 0)
            return -1;
    }
    if (commit() != 0)
        return -1;
    pending_what[0] = 0;
    return 0;
}

static const char *uncut(void)
{
    struct journal_stats st;

    journal_get_stats(&st);
    printf("     journal workload: %lu operations, %lu compactions, %lu copies, %lu commits\n",
           hal_flash_ops(), st.compactions, st.copied, st.commits);
    if (st.compactions < 3 || (ack_all ? st.copied != 0 : st.copied < 10))
        return ack_all ? "the acked workload compacts fewer than three times or copies"
                       : "the workload compacts fewer than three times or copies too little";
    return hal_flash_ops() < 300 ? "workload too small" : NULL;
}

static int remount(void)
{
    struct journal_stats st;

    hal_flash_close();
    if (hal_flash_open(flash_image_path()) != 0)
        return -1;
    memset(seen, 0, sizeof(seen));
    stranger = 0;
    if (journal_mount(&part, &cbs) != 0)
        return -1;
    journal_get_stats(&st);
    return st.damaged == 0 && !stranger ? 0 : -1;
}

static int reads_exactly(unsigned n)
{
    struct journal_deposit want, d;

    message(n, &want);
    memset(&d, 0x5A, sizeof(d));
    return journal_read(seen[n].h, &d, got, sizeof(got)) == 0 &&
           memcmp(&d, &want, sizeof(d)) == 0 && memcmp(got, env, want.envelope_len) == 0;
}

static const char *after_cut(void)
{
    unsigned n;

    if (remount() != 0)
        return "the mount failed, found damage or an unknown message";
    for (n = 0; n < MSGS; n++) {
        if (state[n] == COMMITTED && !seen[n].present)
            return "a committed deposit was lost";
        if (state[n] == DEL_COMMITTED && seen[n].present)
            return "a deposit whose delete was committed came back";
        if (seen[n].present && !reads_exactly(n))
            return "a replayed deposit does not read back exactly";
    }
    /* After the reboot the replay is the truth: what it holds is durable. */
    for (n = 0; n < MSGS; n++)
        state[n] = seen[n].present ? COMMITTED : NONE;
    /* It keeps working, and a second boot agrees. */
    if (deposit(AFTER) != 0 || commit() != 0 || remount() != 0 || !seen[AFTER].present ||
        !reads_exactly(AFTER))
        return "the journal does not work after the cut";
    for (n = 0; n < MSGS; n++)
        if (state[n] == COMMITTED && (!seen[n].present || !reads_exactly(n)))
            return "a committed deposit was lost at the second boot";
    return NULL;
}

static void pending(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", pending_what[0] ? pending_what : "mount");
}

MG_TEST(test_journal_power_cut_at_every_operation_loses_no_committed_deposit)
{
    static const struct powercut_workload w = { workload, uncut, after_cut, pending };
    unsigned long before = powercut_points;

    ack_all = 0;
    powercut_sweep(&w, 0);
    powercut_sweep(&w, 1);
    printf("     journal: %lu cut points (every operation, whole and torn)\n",
           powercut_points - before);
}

/* Compactions that find nothing live erase their victim without a target
 * or a sync: cut anywhere, nothing committed is lost and no deleted deposit
 * comes back. */
MG_TEST(test_journal_power_cut_while_every_deposit_is_acked_loses_nothing_and_revives_nothing)
{
    static const struct powercut_workload w = { workload, uncut, after_cut, pending };
    unsigned long before = powercut_points;

    ack_all = 1;
    powercut_sweep(&w, 0);
    powercut_sweep(&w, 1);
    ack_all = 0;
    printf("     journal, all acked: %lu cut points (every operation, whole and torn)\n",
           powercut_points - before);
}
