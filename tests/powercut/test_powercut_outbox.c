/* The replication queue (firmware/repl/outbox.c) in the mailbox journal, cut
 * at every single flash operation of a workload of deposits, their push
 * jobs (two per message, in the same commit), jobs ending in any order,
 * messages deleted once their jobs ended, through several compactions that
 * carry long-pending jobs on, whole or torn: after the reboot every job
 * whose commit returned 0 and whose end was not committed is back in the
 * queue with its peer and times, none whose end was committed comes back,
 * nothing reads as damaged, and the queue keeps working. */
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "clock.h"
#include "flash.h"
#include "flash_image.h"
#include "mg_err.h"
#include "powercut.h"
#include "relay/journal.h"
#include "repl/outbox.h"
#include "test.h"

static const struct hal_flash_part part = { "mailbox", BOARD_PART_MAILBOX_OFF,
                                            3 * JOURNAL_SEGMENT };

#define MSGS 160
#define AFTER MSGS   /* the message queued after the reboot */

enum { NONE, APPENDED, COMMITTED, END_APPENDED, END_COMMITTED };

static uint8_t msg_state[MSGS + 1], job_state[MSGS + 1][2];
static char pending_what[48];
static int64_t expires;
static int stranger;

static uint8_t env[4096];

static void msg_id(unsigned n, char out[JOURNAL_ID_MAX])
{
    snprintf(out, JOURNAL_ID_MAX, "dm_%u_0123456789ab", n);
}

static const char *peer_of(unsigned k)
{
    return k ? "peer-c" : "peer-b";
}

static int number(const char *id)
{
    int n = 0;

    if (strncmp(id, "dm_", 3) != 0)
        return -1;
    for (id += 3; *id >= '0' && *id <= '9'; id++)
        n = n * 10 + (*id - '0');
    return *id == '_' && n <= MSGS ? n : -1;
}

static void on_deposit(void *ctx, const struct journal_deposit *d, journal_handle h)
{
    (void)ctx;
    (void)h;
    if (outbox_is_record(d->msg_id))
        outbox_replay(d);
    else if (number(d->msg_id) < 0)
        stranger = 1;
}

static void on_delete(void *ctx, const char *id)
{
    (void)ctx;
    if (outbox_is_record(id))
        outbox_replay_delete(id);
}

static int is_live(void *ctx, const char *id)
{
    int n;

    (void)ctx;
    if (outbox_is_record(id))
        return outbox_is_live(id);
    n = number(id);
    return n >= 0 && (msg_state[n] == APPENDED || msg_state[n] == COMMITTED);
}

static const struct journal_callbacks cbs = { on_deposit, on_delete, is_live, NULL, NULL };

static int job_slot(unsigned n, unsigned k)
{
    char id[JOURNAL_ID_MAX];
    size_t i;

    msg_id(n, id);
    for (i = 0; i < BOARD_REPL_QUEUE; i++) {
        const struct outbox_job *j = outbox_at(i);
        if (j && j->k == k && strcmp(j->msg_id, id) == 0)
            return (int)i;
    }
    return -1;
}

/* A message of 0.5-2 KiB and its two jobs. */
static int queue(unsigned n)
{
    struct journal_deposit d;
    size_t len = 512 + (n * 7919u) % 1500u;
    unsigned k;

    memset(&d, 0, sizeof(d));
    msg_id(n, d.msg_id);
    strcpy(d.from, "alice");
    strcpy(d.to, "bob");
    d.deposited_at = 1700000000000LL + n;
    d.expires_at = expires;
    d.envelope_len = (uint32_t)len;
    memset(env, (int)n, len);
    snprintf(pending_what, sizeof(pending_what), "message %u and its jobs", n);
    if (journal_append_deposit(&d, env, NULL) != 0)
        return -1;
    msg_state[n] = APPENDED;
    for (k = 0; k < 2; k++) {
        if (outbox_stage(d.msg_id, (uint8_t)k, peer_of(k), d.deposited_at, expires) != 0)
            return -1;
        job_state[n][k] = APPENDED;
    }
    return 0;
}

static int end_job(unsigned n, unsigned k)
{
    int i = job_slot(n, k);

    snprintf(pending_what, sizeof(pending_what), "end of job %u/%u", n, k);
    if (i < 0)
        return -1;
    outbox_finish((size_t)i);
    job_state[n][k] = END_APPENDED;
    return 0;
}

static int drop_message(unsigned n)
{
    char id[JOURNAL_ID_MAX];

    msg_id(n, id);
    snprintf(pending_what, sizeof(pending_what), "delete of message %u", n);
    if (journal_append_delete(id) != 0)
        return -1;
    msg_state[n] = END_APPENDED;
    return 0;
}

static int commit(void)
{
    unsigned n, k;

    snprintf(pending_what, sizeof(pending_what), "commit of %u records", journal_pending());
    if (journal_commit() != 0)
        return -1;
    for (n = 0; n <= MSGS; n++) {
        for (k = 0; k < 2; k++)
            job_state[n][k] = job_state[n][k] == APPENDED       ? COMMITTED
                              : job_state[n][k] == END_APPENDED ? END_COMMITTED
                                                                : job_state[n][k];
        msg_state[n] = msg_state[n] == APPENDED       ? COMMITTED
                       : msg_state[n] == END_APPENDED ? END_COMMITTED
                                                      : msg_state[n];
    }
    return 0;
}

/* Job 0 of a message ends one message later, job 1 two later; every fourth
 * message's job 0 waits thirty messages (past the compaction of its
 * segment) and every eighth's job 1 never ends (a peer that is gone): the
 * compactions copy jobs, and copies of copies. A message goes once both its
 * jobs ended. Commits come in batches. */
static int workload(void)
{
    unsigned n;

    memset(msg_state, 0, sizeof(msg_state));
    memset(job_state, 0, sizeof(job_state));
    pending_what[0] = 0;
    expires = hal_clock_wall_ms() + 86400000LL;
    outbox_reset();
    if (journal_mount(&part, &cbs) != 0)
        return -1;
    for (n = 0; n < MSGS; n++) {
        if (queue(n) != 0)
            return -1;
        if (n >= 1 && (n - 1) % 4 != 0 && end_job(n - 1, 0) != 0)
            return -1;
        if (n >= 30 && (n - 30) % 4 == 0 && end_job(n - 30, 0) != 0)
            return -1;
        if (n >= 2 && (n - 2) % 8 != 3 && end_job(n - 2, 1) != 0)
            return -1;
        if (n >= 31 && (n - 31) % 8 != 3 && drop_message(n - 31) != 0)
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
    printf("     queue workload: %lu operations, %lu compactions, %lu copies, %lu commits\n",
           hal_flash_ops(), st.compactions, st.copied, st.commits);
    if (st.compactions < 3 || st.copied < 10)
        return "the workload compacts fewer than three times or copies too little";
    return hal_flash_ops() < 300 ? "workload too small" : NULL;
}

static int remount(void)
{
    struct journal_stats st;

    hal_flash_close();
    if (hal_flash_open(flash_image_path()) != 0)
        return -1;
    outbox_reset();
    stranger = 0;
    if (journal_mount(&part, &cbs) != 0)
        return -1;
    journal_get_stats(&st);
    return st.damaged == 0 && !stranger ? 0 : -1;
}

static int job_is_back(unsigned n, unsigned k)
{
    int i = job_slot(n, k);
    const struct outbox_job *j = i >= 0 ? outbox_at((size_t)i) : NULL;

    return j && strcmp(j->peer, peer_of(k)) == 0 && j->deposited_at == 1700000000000LL + n &&
           j->expires_at == expires && j->state == OUTBOX_WAITING;
}

static const char *after_cut(void)
{
    unsigned n, k;

    if (remount() != 0)
        return "the mount failed, found damage or an unknown record";
    for (n = 0; n < MSGS; n++) {
        for (k = 0; k < 2; k++) {
            int back = job_slot(n, k) >= 0;
            if (job_state[n][k] == COMMITTED && !job_is_back(n, k))
                return "a committed push job was lost";
            if (job_state[n][k] == END_COMMITTED && back)
                return "a push job whose end was committed came back";
            if (job_state[n][k] == NONE && back)
                return "a push job that was never queued appeared";
            /* After the reboot the replay is the truth. */
            job_state[n][k] = back ? COMMITTED : NONE;
        }
    }
    if (queue(AFTER) != 0 || commit() != 0)
        return "the queue does not take a job after the cut";
    if (remount() != 0)
        return "the second mount failed or found damage";
    if (!job_is_back(AFTER, 0) || !job_is_back(AFTER, 1))
        return "a job queued after the cut was lost at the second boot";
    for (n = 0; n < MSGS; n++)
        for (k = 0; k < 2; k++)
            if (job_state[n][k] == COMMITTED && !job_is_back(n, k))
                return "a committed push job was lost at the second boot";
    return NULL;
}

static void pending(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", pending_what[0] ? pending_what : "mount");
}

MG_TEST(test_outbox_power_cut_at_every_operation_loses_no_committed_push_and_revives_no_ended_one)
{
    static const struct powercut_workload w = { workload, uncut, after_cut, pending };
    unsigned long before = powercut_points;

    powercut_sweep(&w, 0);
    powercut_sweep(&w, 1);
    printf("     replication queue: %lu cut points (every operation, whole and torn)\n",
           powercut_points - before);
}
