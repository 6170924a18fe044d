/* The relay's mailbox journal: what is committed replays exactly after a
 * reboot, what is not is voided, deletes hide deposits, compaction keeps
 * the live and drops the dead, a full journal refuses without losing
 * anything, damage is counted and survived. The power-cut sweep is in
 * tests/powercut/test_powercut_journal.c. */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "board.h"
#include "flash.h"
#include "flash_image.h"
#include "mg_err.h"
#include "relay/journal.h"
#include "test.h"

#define MSGS 512

/* What the relay would rebuild from a replay: the newest handle per id. */
static struct {
    char id[JOURNAL_ID_MAX];
    journal_handle h;
    int present, dead;
} msgs[MSGS];
static size_t n_msgs;
static unsigned long deposits_seen, deletes_seen, moves;

static int find(const char *id)
{
    size_t i;

    for (i = 0; i < n_msgs; i++)
        if (strcmp(msgs[i].id, id) == 0)
            return (int)i;
    return -1;
}

static int add(const char *id)
{
    int i = find(id);

    if (i >= 0 || n_msgs == MSGS)
        return i;
    memset(&msgs[n_msgs], 0, sizeof(msgs[0]));
    snprintf(msgs[n_msgs].id, sizeof(msgs[0].id), "%s", id);
    return (int)n_msgs++;
}

static void on_deposit(void *ctx, const struct journal_deposit *d, journal_handle h)
{
    int i = add(d->msg_id);

    (void)ctx;
    deposits_seen++;
    if (i >= 0) {
        msgs[i].h = h;
        msgs[i].present = 1;
    }
}

static void on_delete(void *ctx, const char *id)
{
    int i = find(id);

    (void)ctx;
    deletes_seen++;
    if (i >= 0)
        msgs[i].present = 0;
}

static int is_live(void *ctx, const char *id)
{
    int i = find(id);

    (void)ctx;
    return i >= 0 && msgs[i].present && !msgs[i].dead;
}

static void moved(void *ctx, const char *id, journal_handle h)
{
    int i = find(id);

    (void)ctx;
    moves++;
    if (i >= 0)
        msgs[i].h = h;
}

static const struct journal_callbacks cbs = { on_deposit, on_delete, is_live, moved, NULL };

static void forget(void)
{
    n_msgs = 0;
    deposits_seen = deletes_seen = moves = 0;
}

/* Three segments at the start of the mailbox partition: compaction and a
 * full journal come quickly. */
static const struct hal_flash_part small = { "mailbox", BOARD_PART_MAILBOX_OFF,
                                             3 * JOURNAL_SEGMENT };

static const struct hal_flash_part *mailbox(void)
{
    return hal_flash_part("mailbox");
}

/* A reboot: closes and reopens the image, mounts part afresh. */
static int remount(const struct hal_flash_part *part)
{
    hal_flash_close();
    if (hal_flash_open(flash_image_path()) != 0)
        return -1;
    forget();
    return journal_mount(part, &cbs);
}

/* Message n: its header and envelope (len bytes), distinct per n. */
static void message(unsigned n, size_t len, struct journal_deposit *d, uint8_t *env)
{
    size_t i;

    memset(d, 0, sizeof(*d));
    snprintf(d->msg_id, sizeof(d->msg_id), "dm_%u_%012x", 1700000000u + n, n * 2654435761u);
    snprintf(d->from, sizeof(d->from), "alice-%u", n % 7);
    snprintf(d->to, sizeof(d->to), "bob-%u", n % 5);
    d->deposited_at = 1700000000000LL + n;
    d->expires_at = d->deposited_at + 86400000LL * (n % 30 + 1);
    d->flags = n * 3u;
    d->envelope_len = (uint32_t)len;
    for (i = 0; i < len; i++)
        env[i] = (uint8_t)(n * 31 + i * 7);
}

static uint8_t env[JOURNAL_ENVELOPE_MAX + 1], got[JOURNAL_ENVELOPE_MAX];

static int deposit(unsigned n, size_t len, journal_handle *h)
{
    struct journal_deposit d;
    journal_handle dummy;
    int i, rc;

    message(n, len, &d, env);
    rc = journal_append_deposit(&d, env, h ? h : &dummy);
    if (rc == 0 && (i = add(d.msg_id)) >= 0) {
        msgs[i].present = 1;
        msgs[i].h = h ? *h : dummy;
    }
    return rc;
}

/* 1 when h reads back as exactly message n of len bytes. */
static int reads_as(journal_handle h, unsigned n, size_t len)
{
    struct journal_deposit want, d;

    message(n, len, &want, env);
    memset(&d, 0xA5, sizeof(d));
    return journal_read(h, &d, got, sizeof(got)) == 0 && memcmp(&d, &want, sizeof(d)) == 0 &&
           memcmp(got, env, len) == 0;
}

static int replayed(unsigned n)
{
    struct journal_deposit d;
    int i;

    message(n, 0, &d, env);
    i = find(d.msg_id);
    return i >= 0 && msgs[i].present;
}

static journal_handle handle_of(unsigned n)
{
    struct journal_deposit d;
    int i;

    message(n, 0, &d, env);
    i = find(d.msg_id);
    return i >= 0 ? msgs[i].h : 0;
}

static const char *id_of(unsigned n)
{
    static struct journal_deposit d;

    message(n, 0, &d, env);
    return d.msg_id;
}

static size_t size_of(unsigned n)
{
    return (n * 7919u) % 3000u + (n % 13 == 0 ? 9000u : 0u);
}

/* Writes bytes straight into the image, as rot or another firmware would. */
static void poke(uint32_t at, const void *p, size_t n)
{
    int fd;

    hal_flash_close();
    fd = open(flash_image_path(), O_WRONLY);   /* no stdio: it allocates */
    if (fd < 0 || pwrite(fd, p, n, (off_t)at) != (ssize_t)n)
        test_fail(__FILE__, __LINE__, "cannot write the image");
    if (fd >= 0)
        close(fd);
    hal_flash_open(flash_image_path());
}

FLASH_TEST(test_journal_a_blank_partition_mounts_empty_with_every_segment_free)
{
    struct journal_stats st;

    forget();
    CHECK_EQ(journal_mount(mailbox(), &cbs), 0);
    journal_get_stats(&st);
    CHECK_EQ(st.segments, BOARD_PART_MAILBOX_SIZE / JOURNAL_SEGMENT);
    CHECK(st.segments >= 3);
    CHECK_EQ(st.segments_free, st.segments);
    CHECK_EQ(st.records, 0);
    CHECK_EQ(st.damaged + st.torn_voided, 0);
    CHECK_EQ(deposits_seen + deletes_seen, 0);
    CHECK_EQ(journal_pending(), 0);
    CHECK_EQ(journal_read(JOURNAL_SEGMENT + 32, NULL, got, sizeof(got)), MG_ERR_INVAL);
}

FLASH_TEST(test_journal_refuses_a_partition_of_fewer_than_three_segments)
{
    static const struct hal_flash_part two = { "mailbox", BOARD_PART_MAILBOX_OFF,
                                               2 * JOURNAL_SEGMENT };

    CHECK_EQ(journal_mount(&two, &cbs), MG_ERR_INVAL);
    CHECK_EQ(journal_mount(NULL, &cbs), MG_ERR_INVAL);
}

FLASH_TEST(test_journal_a_committed_deposit_replays_with_identical_header_and_envelope)
{
    journal_handle h = 0, small_h = 0;
    struct journal_deposit want, d;

    forget();
    CHECK_EQ(journal_mount(mailbox(), &cbs), 0);
    CHECK_EQ(deposit(1, 1234, &h), 0);
    CHECK_EQ(deposit(2, 0, &small_h), 0);
    CHECK(h != 0);
    CHECK_EQ(journal_pending(), 2);
    CHECK(reads_as(h, 1, 1234));   /* readable before the commit too */
    CHECK_EQ(journal_commit(), 0);
    CHECK_EQ(journal_pending(), 0);
    CHECK_EQ(remount(mailbox()), 0);
    CHECK_EQ(deposits_seen, 2);
    CHECK(replayed(1) && replayed(2));
    CHECK_EQ(handle_of(1), h);
    CHECK(reads_as(h, 1, 1234));
    CHECK(reads_as(small_h, 2, 0));
    /* A short buffer: the header still says how long the envelope is. */
    message(1, 1234, &want, env);
    CHECK_EQ(journal_read(h, &d, got, 100), MG_ERR_TOOBIG);
    CHECK_EQ(d.envelope_len, 1234);
    CHECK_EQ(journal_read(h + 4, &d, got, sizeof(got)), MG_ERR_CORRUPT);
    CHECK_EQ(journal_read(h + 1, &d, got, sizeof(got)), MG_ERR_INVAL);
}

/* A deposit appended but not committed when the process dies (kill -9: its
 * bytes reached the flash, the sync never came) is whole and replays. */
FLASH_TEST(test_journal_a_whole_uncommitted_deposit_replays_at_the_next_mount)
{
    struct journal_stats st;
    journal_handle h2 = 0;

    forget();
    CHECK_EQ(journal_mount(mailbox(), &cbs), 0);
    CHECK_EQ(deposit(1, 500, NULL), 0);
    CHECK_EQ(journal_commit(), 0);
    CHECK_EQ(deposit(2, 700, &h2), 0);
    CHECK_EQ(remount(mailbox()), 0);
    journal_get_stats(&st);
    CHECK_EQ(st.torn_voided + st.damaged, 0);
    CHECK(replayed(1) && replayed(2));
    CHECK(reads_as(h2, 2, 700));
}

FLASH_TEST(test_journal_a_torn_uncommitted_deposit_is_voided_at_the_next_mount)
{
    struct hal_flash_stats fs;
    struct journal_stats st;
    journal_handle h1 = 0, h2 = 0, h3 = 0;
    uint8_t ff[64];

    forget();
    CHECK_EQ(journal_mount(mailbox(), &cbs), 0);
    CHECK_EQ(deposit(1, 500, &h1), 0);
    CHECK_EQ(journal_commit(), 0);
    CHECK_EQ(deposit(2, 700, &h2), 0);   /* the power fails during its program */
    memset(ff, 0xFF, sizeof(ff));
    poke(mailbox()->off + h2 + 20 + 192 + 600, ff, sizeof(ff));
    CHECK_EQ(remount(mailbox()), 0);
    journal_get_stats(&st);
    CHECK_EQ(st.torn_voided, 1);
    CHECK_EQ(st.damaged, 0);
    CHECK(replayed(1));
    CHECK(!replayed(2));
    /* Appending goes on past the dirty bytes, never over them. */
    CHECK_EQ(deposit(3, 900, &h3), 0);
    CHECK_EQ(journal_commit(), 0);
    hal_flash_stats(&fs);
    CHECK_EQ(fs.nor_violations, 0);
    CHECK_EQ(remount(mailbox()), 0);
    journal_get_stats(&st);
    CHECK_EQ(st.torn_voided + st.damaged, 0);   /* voided once, for good */
    CHECK_EQ(deposits_seen, 2);
    CHECK(replayed(1) && replayed(3) && !replayed(2));
    CHECK(reads_as(h1, 1, 500));
    CHECK(reads_as(h3, 3, 900));
}

FLASH_TEST(test_journal_a_delete_hides_its_deposit_on_replay)
{
    journal_handle h2 = 0;

    forget();
    CHECK_EQ(journal_mount(mailbox(), &cbs), 0);
    CHECK_EQ(deposit(1, 100, NULL), 0);
    CHECK_EQ(deposit(2, 200, &h2), 0);
    CHECK_EQ(journal_commit(), 0);
    CHECK_EQ(journal_append_delete(id_of(1)), 0);
    CHECK_EQ(journal_commit(), 0);
    CHECK_EQ(remount(mailbox()), 0);
    CHECK_EQ(deposits_seen, 2);
    CHECK_EQ(deletes_seen, 1);
    CHECK(!replayed(1));
    CHECK(replayed(2));
    CHECK(reads_as(h2, 2, 200));
    CHECK_EQ(journal_append_delete(""), MG_ERR_INVAL);
}

FLASH_TEST(test_journal_compaction_keeps_live_deposits_and_drops_dead_ones_and_deletes)
{
    struct journal_stats st;
    unsigned n, live = 0;

    forget();
    CHECK_EQ(journal_mount(&small, &cbs), 0);
    /* Every third message stays; the others are acked soon after. */
    for (n = 0; n < 120; n++) {
        CHECK_EQ(deposit(n, size_of(n), NULL), 0);
        if (n >= 2 && (n - 2) % 3 != 0)
            CHECK_EQ(journal_append_delete(id_of(n - 2)), 0);
        if (n >= 2 && (n - 2) % 3 != 0)
            msgs[find(id_of(n - 2))].present = 0;
        CHECK_EQ(journal_commit(), 0);
    }
    journal_get_stats(&st);
    CHECK(st.compactions >= 2);
    CHECK(st.copied > 0);
    CHECK_EQ(moves, st.copied);
    /* Right after the moves, without a remount, the handles read. */
    for (n = 0; n < 118; n++)
        if (n % 3 == 0) {
            CHECK(reads_as(handle_of(n), n, size_of(n)));
            live++;
        }
    CHECK_EQ(remount(&small), 0);
    journal_get_stats(&st);
    CHECK_EQ(st.damaged + st.torn_voided, 0);
    CHECK_EQ(moves, 0);   /* a mount moves nothing */
    for (n = 0; n < 118; n++) {
        CHECK_EQ(replayed(n), n % 3 == 0);
        if (n % 3 == 0)
            CHECK(reads_as(handle_of(n), n, size_of(n)));
    }
    /* The dead are gone from flash, not just hidden: fewer deposits than
     * were written, and the deletes of compacted segments went with them. */
    CHECK(st.deposits < 120);
    CHECK(st.deletes < 80);
    CHECK(live > 30);
}

FLASH_TEST(test_journal_full_of_live_deposits_answers_nospc_and_loses_nothing)
{
    struct journal_stats st;
    unsigned n, stored = 0;
    int rc = 0;

    forget();
    CHECK_EQ(journal_mount(&small, &cbs), 0);
    for (n = 0; n < 400 && rc == 0; n++) {
        rc = deposit(n, 2000, NULL);
        if (rc == 0 && journal_commit() == 0)
            stored = n + 1;
    }
    CHECK_EQ(rc, MG_ERR_NOSPC);
    CHECK(stored > 40);
    /* Once compaction went round every segment finding nothing dead, it
     * stops: compacting a journal of the living only wears it. */
    for (n = 0; n < 3; n++)
        CHECK_EQ(deposit(1000 + n, 2000, NULL), MG_ERR_NOSPC);
    journal_get_stats(&st);
    {
        struct journal_stats again;
        CHECK_EQ(deposit(1000, 2000, NULL), MG_ERR_NOSPC);
        journal_get_stats(&again);
        CHECK_EQ(again.compactions, st.compactions);
    }
    /* Deletes still fit: the relay can take acks when full. */
    CHECK_EQ(journal_append_delete(id_of(0)), 0);
    CHECK_EQ(journal_commit(), 0);
    msgs[find(id_of(0))].present = 0;
    for (n = 1; n < stored; n++)
        CHECK(reads_as(handle_of(n), n, 2000));
    CHECK_EQ(remount(&small), 0);
    journal_get_stats(&st);
    CHECK_EQ(st.damaged, 0);
    CHECK(!replayed(0));
    for (n = 1; n < stored; n++) {
        CHECK(replayed(n));
        CHECK(reads_as(handle_of(n), n, 2000));
    }
}

FLASH_TEST(test_journal_a_flipped_bit_in_a_committed_record_is_damage_and_the_rest_replays)
{
    struct journal_stats st;
    journal_handle h[3] = { 0, 0, 0 };
    uint8_t b = 0;
    uint32_t at;
    unsigned n;

    forget();
    CHECK_EQ(journal_mount(mailbox(), &cbs), 0);
    for (n = 0; n < 3; n++)
        CHECK_EQ(deposit(n, 3000, &h[n]), 0);
    CHECK_EQ(journal_commit(), 0);
    at = mailbox()->off + h[1] + 20 + 192 + 1000;   /* in its envelope */
    CHECK_EQ(hal_flash_read(at, &b, 1), 0);
    b ^= 0x08;
    poke(at, &b, 1);
    CHECK_EQ(remount(mailbox()), 0);
    journal_get_stats(&st);
    CHECK_EQ(st.damaged, 1);
    CHECK_EQ(st.torn_voided, 0);
    CHECK(replayed(0) && !replayed(1) && replayed(2));
    CHECK(reads_as(h[0], 0, 3000));
    CHECK(reads_as(h[2], 2, 3000));
    CHECK_EQ(journal_read(h[1], NULL, got, sizeof(got)), MG_ERR_CORRUPT);

    /* A broken head: the records after it are found again. */
    b = 0x5A;
    poke(mailbox()->off + h[1] + 5, &b, 1);
    CHECK_EQ(remount(mailbox()), 0);
    journal_get_stats(&st);
    CHECK_EQ(st.damaged, 1);
    CHECK(replayed(0) && !replayed(1) && replayed(2));
}

/* Fills the mailbox partition with pattern bytes. */
static void fill_partition(int random)
{
    static uint8_t chunk[4096];
    uint32_t x = 12345, off;
    size_t i;

    for (off = 0; off < BOARD_PART_MAILBOX_SIZE; off += sizeof(chunk)) {
        for (i = 0; i < sizeof(chunk); i++) {
            x = x * 1103515245u + 12345u;
            chunk[i] = random ? (uint8_t)(x >> 16) : 0;
        }
        poke(BOARD_PART_MAILBOX_OFF + off, chunk, sizeof(chunk));
    }
}

static int works_after_mount(void)
{
    journal_handle h = 0;

    if (deposit(7, 777, &h) != 0 || journal_commit() != 0 || remount(mailbox()) != 0)
        return 0;
    return replayed(7) && reads_as(handle_of(7), 7, 777);
}

FLASH_TEST(test_journal_garbage_zeroes_and_random_bits_mount_without_a_crash)
{
    uint32_t x = 777, k;
    unsigned n;

    fill_partition(1);
    forget();
    CHECK_EQ(journal_mount(mailbox(), &cbs), 0);
    CHECK(works_after_mount());
    fill_partition(0);
    forget();
    CHECK_EQ(journal_mount(mailbox(), &cbs), 0);
    CHECK_EQ(deposits_seen, 0);
    CHECK(works_after_mount());

    /* A real journal with random bytes flipped all over it. */
    CHECK_EQ(journal_erase(), 0);
    CHECK_EQ(remount(&small), 0);
    for (n = 0; n < 60; n++) {
        CHECK_EQ(deposit(n, size_of(n), NULL), 0);
        if (n % 2) {
            CHECK_EQ(journal_append_delete(id_of(n - 1)), 0);
            msgs[find(id_of(n - 1))].present = 0;
        }
        CHECK_EQ(journal_commit(), 0);
    }
    for (k = 0; k < 200; k++) {
        uint8_t b;
        x = x * 1103515245u + 12345u;
        b = (uint8_t)(x >> 8);
        poke(BOARD_PART_MAILBOX_OFF + (x >> 7) % (3 * JOURNAL_SEGMENT), &b, 1);
        if (k % 40 == 39)
            CHECK_EQ(remount(&small), 0);
    }
    CHECK_EQ(remount(&small), 0);
    for (n = 0; n < n_msgs; n++)
        if (msgs[n].present)
            (void)journal_read(msgs[n].h, NULL, got, sizeof(got));
}

FLASH_TEST(test_journal_refuses_an_envelope_over_the_maximum)
{
    struct journal_deposit d;
    journal_handle h = 0;

    forget();
    CHECK_EQ(journal_mount(mailbox(), &cbs), 0);
    message(1, JOURNAL_ENVELOPE_MAX + 1, &d, env);
    CHECK_EQ(journal_append_deposit(&d, env, &h), MG_ERR_TOOBIG);
    CHECK_EQ(journal_pending(), 0);
    message(1, JOURNAL_ENVELOPE_MAX, &d, env);
    CHECK_EQ(journal_append_deposit(&d, env, &h), 0);
    d.msg_id[0] = 0;
    CHECK_EQ(journal_append_deposit(&d, env, &h), MG_ERR_INVAL);
    memset(d.to, 'x', sizeof(d.to));
    d.msg_id[0] = 'a';
    CHECK_EQ(journal_append_deposit(&d, env, &h), MG_ERR_INVAL);
    CHECK_EQ(journal_commit(), 0);
    CHECK_EQ(remount(mailbox()), 0);
    CHECK(reads_as(handle_of(1), 1, JOURNAL_ENVELOPE_MAX));
}

FLASH_TEST(test_journal_a_commit_costs_one_sync_whatever_the_batch)
{
    struct journal_stats a, b;
    unsigned n;

    forget();
    CHECK_EQ(journal_mount(mailbox(), &cbs), 0);
    journal_get_stats(&a);
    CHECK_EQ(journal_commit(), 0);   /* nothing pending: free */
    journal_get_stats(&b);
    CHECK_EQ(b.syncs, a.syncs);
    CHECK_EQ(b.commits, a.commits);
    CHECK_EQ(deposit(0, 100, NULL), 0);
    journal_get_stats(&a);
    CHECK_EQ(journal_commit(), 0);
    journal_get_stats(&b);
    CHECK_EQ(b.syncs - a.syncs, 1);
    CHECK_EQ(b.commits - a.commits, 1);
    for (n = 1; n <= 40; n++)
        CHECK_EQ(deposit(n, 100, NULL), 0);
    CHECK_EQ(journal_append_delete(id_of(3)), 0);
    journal_get_stats(&a);
    CHECK_EQ(a.syncs, b.syncs);   /* appends do not sync */
    CHECK_EQ(journal_commit(), 0);
    journal_get_stats(&b);
    CHECK_EQ(b.syncs - a.syncs, 1);
    CHECK_EQ(b.commits - a.commits, 1);
}

/* Waits for the running background commit, as the loop does. */
static void wait_commit(void)
{
    while (journal_commit_running()) {
        struct pollfd p = { hal_flash_sync_fd(), POLLIN, 0 };
        (void)poll(&p, 1, 5000);
        journal_commit_poll();
    }
}

FLASH_TEST(test_journal_a_background_commit_covers_what_came_before_it_and_no_more)
{
    uint64_t t1, t2, t3;

    forget();
    CHECK_EQ(journal_mount(mailbox(), &cbs), 0);
    CHECK_EQ(deposit(1, 100, NULL), 0);
    t1 = journal_ticket();
    CHECK_EQ(journal_ticket_state(t1), MG_ERR_AGAIN);
    CHECK_EQ(journal_commit_start(), 0);
    CHECK(journal_commit_running());
    CHECK_EQ(journal_pending(), 1);          /* in flight: not durable yet */
    CHECK_EQ(deposit(2, 100, NULL), 0);      /* while the flash syncs */
    t2 = journal_ticket();
    CHECK_EQ(t2, t1 + 1);
    wait_commit();
    CHECK_EQ(journal_ticket_state(t1), 0);
    CHECK_EQ(journal_ticket_state(t2), MG_ERR_AGAIN);   /* the next one's */
    CHECK_EQ(journal_pending(), 1);
    CHECK_EQ(journal_commit_start(), 0);
    wait_commit();
    CHECK_EQ(journal_ticket_state(t2), 0);
    CHECK_EQ(journal_pending(), 0);
    CHECK_EQ(journal_commit_start(), 0);     /* nothing pending: nothing started */
    CHECK(!journal_commit_running());
    /* A blocking commit waits for a running one and covers the rest. */
    CHECK_EQ(deposit(3, 100, NULL), 0);
    CHECK_EQ(journal_commit_start(), 0);
    CHECK_EQ(deposit(4, 100, NULL), 0);
    t3 = journal_ticket();
    CHECK_EQ(journal_commit(), 0);
    CHECK(!journal_commit_running());
    CHECK_EQ(journal_ticket_state(t3), 0);
    CHECK_EQ(journal_pending(), 0);
    CHECK_EQ(remount(mailbox()), 0);
    CHECK(replayed(1) && replayed(2) && replayed(3) && replayed(4));
}

FLASH_TEST(test_journal_a_refused_background_commit_fails_its_ticket_and_keeps_its_records)
{
    uint64_t t1, t2;

    forget();
    CHECK_EQ(journal_mount(mailbox(), &cbs), 0);
    CHECK_EQ(deposit(1, 100, NULL), 0);
    t1 = journal_ticket();
    hal_flash_powercut_arm(0, 0);
    CHECK_EQ(journal_commit_start(), MG_ERR_IO);
    CHECK_EQ(journal_ticket_state(t1), MG_ERR_IO);   /* the relay answers 503 */
    CHECK_EQ(journal_pending(), 1);
    hal_flash_powercut_disarm();
    CHECK_EQ(deposit(2, 100, NULL), 0);
    t2 = journal_ticket();
    CHECK_EQ(t2, t1 + 1);
    CHECK_EQ(journal_commit_start(), 0);
    wait_commit();
    CHECK_EQ(journal_ticket_state(t2), 0);
    CHECK_EQ(journal_pending(), 0);
    CHECK_EQ(remount(mailbox()), 0);
    CHECK(replayed(1) && replayed(2));
}

FLASH_TEST(test_journal_a_new_segment_opens_without_waiting_for_a_sync)
{
    struct journal_stats a, b;
    unsigned n = 0;

    forget();
    CHECK_EQ(journal_mount(mailbox(), &cbs), 0);
    CHECK_EQ(deposit(n++, 2000, NULL), 0);
    journal_get_stats(&a);
    do {
        CHECK_EQ(deposit(n++, 2000, NULL), 0);
        journal_get_stats(&b);
    } while (b.segments_free == a.segments_free && n < 100);
    CHECK_EQ(b.segments_free, a.segments_free - 1);
    CHECK_EQ(b.syncs, a.syncs);
    CHECK_EQ(journal_pending(), n);
    CHECK_EQ(journal_commit(), 0);
    CHECK_EQ(remount(mailbox()), 0);
    CHECK_EQ(deposits_seen, n);
    CHECK(replayed(0) && replayed(n - 1));
}

FLASH_TEST(test_journal_commits_by_itself_when_the_pending_list_is_full)
{
    unsigned n;

    forget();
    CHECK_EQ(journal_mount(mailbox(), &cbs), 0);
    for (n = 0; n < JOURNAL_PENDING_MAX; n++)
        CHECK_EQ(journal_append_delete(id_of(n)), 0);
    CHECK_EQ(journal_pending(), JOURNAL_PENDING_MAX);
    CHECK_EQ(deposit(9999, 10, NULL), 0);
    CHECK_EQ(journal_pending(), 1);
    CHECK_EQ(journal_commit(), 0);
    CHECK_EQ(remount(mailbox()), 0);
    CHECK_EQ(deletes_seen, JOURNAL_PENDING_MAX);
    CHECK(replayed(9999));
}

FLASH_TEST(test_journal_erase_counts_survive_a_remount_and_a_factory_reset)
{
    struct journal_stats before, after;
    unsigned n;

    forget();
    CHECK_EQ(journal_mount(&small, &cbs), 0);
    for (n = 0; n < 150; n++) {
        CHECK_EQ(deposit(n, 1500, NULL), 0);
        if (n >= 1)
            CHECK_EQ(journal_append_delete(id_of(n - 1)), 0);
        if (n >= 1)
            msgs[find(id_of(n - 1))].present = 0;
        CHECK_EQ(journal_commit(), 0);
    }
    journal_get_stats(&before);
    CHECK(before.compactions >= 3);
    CHECK(before.erases_min >= 1);
    CHECK(before.erases_max - before.erases_min <= 2);   /* wear is spread */
    CHECK_EQ(remount(&small), 0);
    journal_get_stats(&after);
    CHECK_EQ(after.erases_min, before.erases_min);
    CHECK_EQ(after.erases_max, before.erases_max);
    CHECK(replayed(149));
    CHECK_EQ(journal_erase(), 0);
    CHECK_EQ(remount(&small), 0);
    journal_get_stats(&after);
    CHECK_EQ(deposits_seen + deletes_seen, 0);
    CHECK_EQ(after.segments_free, 3);
    CHECK_EQ(after.erases_min, before.erases_min + 1);
}
