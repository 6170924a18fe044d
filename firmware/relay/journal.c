#include "journal.h"

#include <string.h>

#include "clock.h"
#include "crc32.h"
#include "le.h"
#include "mg_err.h"
#include "pool.h"

/* Segment header (32 bytes):
 *   0  magic "MGJ1"      4  erase count    8  crc of 0..8     (erase stamp)
 *  12  seq              16  victim seq    20  crc of 0..20    (open stamp)
 *  24  done word        28  reserved
 * The erase stamp is programmed right after an erase, so a free segment
 * keeps its wear; the open stamp when the segment starts taking records.
 * A segment opened by a compaction names its victim's seq and is worth
 * nothing until its done word is programmed to 0 (after its copies are
 * synced): then the victim is obsolete even if its erase never happened.
 * Ordinary segments have victim NO_VICTIM and ignore the done word.
 *
 * Record head (20 bytes), then the payload, padded to 4:
 *   0  magic F8 C1 (neither byte occurs in UTF-8 text: an envelope cannot
 *      hold a head that resyncing after damage would take for a record)
 *   2  type  3 zero   4  payload length   8  payload crc
 *  12  head crc over 0..12, the segment's seq and the record's offset
 *  16  commit word: 0, programmed with the record; 0xFFFFFFFF in records
 *      of journals that programmed it in a second step (still read: such a
 *      record without it was never acknowledged)
 * A head whose first 16 bytes are zero is a void: mount wrote it over a
 * torn tail; the rest of that segment is abandoned.
 *
 * Deposit payload: msg_id[40] from[64] to[64] (NUL-padded), deposited_at,
 * expires_at (i64), flags, envelope_len (u32), then the envelope. Delete
 * payload: msg_id[40]. All little-endian. */

#define SEG          JOURNAL_SEGMENT
#define SEG_HEAD     32u
#define SEG_MAGIC    0x314a474du   /* "MGJ1" */
#define SEG_DATA     (SEG - SEG_HEAD)
#define DONE_OFF     24u
#define NO_VICTIM    0xFFFFFFFFu

#define REC_HEAD     20u
#define REC_M0       0xF8u
#define REC_M1       0xC1u
#define COMMIT_OFF   16u
#define VOID_LEN     16u
#define T_DEPOSIT    1u
#define T_DELETE     2u

#define DEP_HEAD     (JOURNAL_ID_MAX + 2u * JOURNAL_NAME_MAX + 8u + 8u + 4u + 4u)
#define DEL_LEN      JOURNAL_ID_MAX
#define ALIGN4(n)    (((n) + 3u) & ~3u)
#define SPAN_MAX     ALIGN4(REC_HEAD + DEP_HEAD + JOURNAL_ENVELOPE_MAX)
#define DEL_SPAN     ALIGN4(REC_HEAD + DEL_LEN)
/* Room a deposit must leave in the head for deletes: an ack must be
 * recordable even when deposits filled the journal (they free it). Copies
 * of a segment's deposits then also leave it, as the originals did. */
#define DELETE_RESERVE (8u * DEL_SPAN)
#define ERASED       0xFFFFFFFFu

_Static_assert(SEG % BOARD_FLASH_SECTOR == 0, "a segment is a whole number of sectors");
_Static_assert(SPAN_MAX + DELETE_RESERVE <= SEG_DATA, "the largest deposit fits a segment");

enum { SEG_FREE, SEG_DIRTY, SEG_USED };

struct seg {
    uint8_t state;
    uint8_t clean;           /* erased and stamped: opens without an erase */
    uint8_t done;            /* a compaction target whose done word is set */
    uint32_t seq, victim, erases;
    uint32_t used;           /* where the next record goes; SEG: closed */
    uint32_t end;            /* one past the last programmed byte */
    uint32_t deposits, deletes;
};

struct rec {
    uint8_t type;
    uint32_t len, pcrc;
};

static struct {
    const struct hal_flash_part *part;
    struct journal_callbacks cb;
    int mounted;
    uint32_t n_seg;
    int head;                /* the newest segment, taking appends; -1: none */
    uint32_t next_seq;
    unsigned barren;         /* compactions in a row that dropped nothing */
    int full;                /* deposits that need a compaction get NOSPC */
    struct seg seg[JOURNAL_MAX_SEGMENTS];
    unsigned long compactions, copied, torn_voided, damaged, commits, syncs;
    /* Commit tickets: a record appended now is covered by commit started + 1.
     * Every ticket up to durable is durable; a ticket up to failed and past
     * durable was refused by the flash (its records went back to pending).
     * 64 bits: at thousands of commits a second, 32 would wrap in weeks. */
    uint64_t started, durable, failed;
    int syncing;             /* a started sync covers the n_inflight records */
    uint64_t sync_began_us, sync_us_total, sync_us_max;
    unsigned long syncs_timed;
} j;

static void sync_timed(uint64_t began_us)
{
    uint64_t us = hal_clock_us() - began_us;

    j.sync_us_total += us;
    if (us > j.sync_us_max)
        j.sync_us_max = us;
    j.syncs_timed++;
}

/* Records appended since the last commit, and those a running sync covers.
 * Each is whole or not by its own crcs, so one sync commits them all. The
 * flash programs in order, so a torn one can only be the last programmed,
 * at the tail of the newest segment, where mount voids it; a new segment
 * opens without waiting for a commit of the one before. */
static unsigned n_pending, n_inflight;
POOL_DEFINE_COUNT(journal_pending, JOURNAL_PENDING_MAX)

static void count_pending(void)
{
    pool_set_used(&journal_pending_pool, n_pending + n_inflight);
}

/* Scratch for one whole record (head and payload) while mounting, copying
 * and reading, and for chunks of a segment while scanning it. Nothing keeps
 * data in it across a call into the flash or a callback. */
static uint8_t scratch[SPAN_MAX];
POOL_DEFINE(journal_scratch, scratch)

static uint32_t seg_off(int s)
{
    return (uint32_t)s * SEG;
}

static int rd(uint32_t off, void *buf, size_t len)
{
    return hal_flash_part_read(j.part, off, buf, len);
}

static int prog(uint32_t off, const void *buf, size_t len)
{
    return hal_flash_part_program(j.part, off, buf, len);
}

static int sync_flash(void)
{
    j.syncs++;
    return hal_flash_sync();
}

static void scratch_use(size_t n)
{
    pool_set_used(&journal_scratch_pool, n);
}

static int all_is(const uint8_t *p, size_t n, uint8_t v)
{
    while (n--)
        if (*p++ != v)
            return 0;
    return 1;
}

/* One past the last byte of segment s at or after from that is not 0xFF;
 * from if there is none. */
static int last_written(int s, uint32_t from, uint32_t *end)
{
    uint32_t hi = SEG;

    while (hi > from) {
        uint32_t lo = hi - from > BOARD_FLASH_SECTOR ? hi - BOARD_FLASH_SECTOR : from;
        uint32_t n = hi - lo;
        int rc = rd(seg_off(s) + lo, scratch, n);
        if (rc)
            return rc;
        while (n > 0 && scratch[n - 1] == 0xFF)
            n--;
        if (n > 0) {
            *end = lo + n;
            return 0;
        }
        hi = lo;
    }
    *end = from;
    return 0;
}

static uint32_t head_crc(const uint8_t *p, uint32_t seq, uint32_t off)
{
    uint8_t where[8];

    le32_put(where, seq);
    le32_put(where + 4, off);
    return crc32_update(crc32_update(0, p, 12), where, sizeof(where));
}

/* 1 if p holds a record head that belongs at off of the segment seq. */
static int parse_head(const uint8_t *p, uint32_t seq, uint32_t off, struct rec *r)
{
    if (p[0] != REC_M0 || p[1] != REC_M1 || p[3] != 0)
        return 0;
    r->type = p[2];
    r->len = le32_get(p + 4);
    r->pcrc = le32_get(p + 8);
    if (r->type == T_DEPOSIT) {
        if (r->len < DEP_HEAD || r->len > DEP_HEAD + JOURNAL_ENVELOPE_MAX)
            return 0;
    } else if (r->type != T_DELETE || r->len != DEL_LEN) {
        return 0;
    }
    if (off + ALIGN4(REC_HEAD + r->len) > SEG)
        return 0;
    return head_crc(p, seq, off) == le32_get(p + 12);
}

static void put_head(uint8_t *p, uint8_t type, uint32_t len, uint32_t seq, uint32_t off,
                     int committed)
{
    p[0] = REC_M0;
    p[1] = REC_M1;
    p[2] = type;
    p[3] = 0;
    le32_put(p + 4, len);
    le32_put(p + 8, crc32_update(0, p + REC_HEAD, len));
    le32_put(p + 12, head_crc(p, seq, off));
    le32_put(p + 16, committed ? 0 : ERASED);
}

static int terminated(const uint8_t *p, size_t cap)
{
    return memchr(p, 0, cap) != NULL;
}

/* Checks the fields of a payload whose crc matched. */
static int payload_ok(const struct rec *r, const uint8_t *p)
{
    if (p[0] == 0 || !terminated(p, JOURNAL_ID_MAX))
        return 0;
    if (r->type == T_DELETE)
        return 1;
    return terminated(p + JOURNAL_ID_MAX, JOURNAL_NAME_MAX) &&
           terminated(p + JOURNAL_ID_MAX + JOURNAL_NAME_MAX, JOURNAL_NAME_MAX) &&
           le32_get(p + DEP_HEAD - 4) == r->len - DEP_HEAD;
}

static uint64_t le64_get(const uint8_t *p)
{
    return (uint64_t)le32_get(p) | (uint64_t)le32_get(p + 4) << 32;
}

static void le64_put(uint8_t *p, uint64_t v)
{
    le32_put(p, (uint32_t)v);
    le32_put(p + 4, (uint32_t)(v >> 32));
}

static void decode_deposit(const uint8_t *p, struct journal_deposit *d)
{
    const uint8_t *q = p + JOURNAL_ID_MAX + 2 * JOURNAL_NAME_MAX;

    memcpy(d->msg_id, p, JOURNAL_ID_MAX);
    memcpy(d->from, p + JOURNAL_ID_MAX, JOURNAL_NAME_MAX);
    memcpy(d->to, p + JOURNAL_ID_MAX + JOURNAL_NAME_MAX, JOURNAL_NAME_MAX);
    d->deposited_at = (int64_t)le64_get(q);
    d->expires_at = (int64_t)le64_get(q + 8);
    d->flags = le32_get(q + 16);
    d->envelope_len = le32_get(q + 20);
}

/* Copies a string into a NUL-padded field; 0 if it does not fit. */
static int put_str(uint8_t *p, const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);

    if (n == cap)
        return 0;
    memcpy(p, s, n);
    memset(p + n, 0, cap - n);
    return 1;
}

/* --- walking a segment ------------------------------------------------ */

struct cursor {
    int s;
    uint32_t off, end;
    uint32_t last;           /* one past the last committed record */
    unsigned suspect;        /* bad or uncommitted records since then */
    int bad;                 /* resyncing: looking for the next head */
    int voided;              /* reached a void: the rest is abandoned */
    int count;               /* count damage (mount), or not (compaction) */
};

/* The next 4-aligned offset in [from, end) holding the record magic. */
static int find_magic(const struct cursor *c, uint32_t from, uint32_t *at)
{
    while (from < c->end) {
        uint32_t n = c->end - from < BOARD_FLASH_SECTOR ? c->end - from : BOARD_FLASH_SECTOR;
        uint32_t i;
        int rc;

        if (n < 2)
            break;
        rc = rd(seg_off(c->s) + from, scratch, n);
        if (rc)
            return rc;
        for (i = 0; i + 1 < n; i += 4)
            if (scratch[i] == REC_M0 && scratch[i + 1] == REC_M1) {
                *at = from + i;
                return 0;
            }
        from += n;
    }
    *at = c->end;
    return 0;
}

static void suspect(struct cursor *c, int new_region)
{
    if (new_region || !c->bad)
        c->suspect++;
    c->bad = 1;
}

/* Advances to the next committed record that checks out and loads it
 * (head and payload) into scratch. 1: found at *at; 0: end of the
 * segment; or an MG_ERR_* from the flash. A bad head is resynced past (in
 * steps of 4, looking for the magic), a record that is not whole or has no
 * commit word is skipped; all are suspects, which become damage when a good
 * record follows and the torn tail when none does. */
static int cursor_next(struct cursor *c, uint32_t *at, struct rec *r)
{
    int s = c->s;
    uint32_t seq = j.seg[s].seq;

    while (c->off < c->end && c->off + REC_HEAD <= SEG) {
        uint32_t off = c->off, span;
        int ok, rc;

        if (c->bad) {
            rc = find_magic(c, off, &off);
            if (rc)
                return rc;
            c->off = off;
            if (off >= c->end || off + REC_HEAD > SEG)
                break;
        }
        rc = rd(seg_off(s) + off, scratch, REC_HEAD);
        if (rc)
            return rc;
        if (!c->bad && all_is(scratch, VOID_LEN, 0)) {
            c->voided = 1;
            break;
        }
        if (!parse_head(scratch, seq, off, r)) {
            suspect(c, 0);
            c->off = off + 4;
            continue;
        }
        span = ALIGN4(REC_HEAD + r->len);
        scratch_use(REC_HEAD + r->len);
        rc = rd(seg_off(s) + off + REC_HEAD, scratch + REC_HEAD, r->len);
        if (rc)
            return rc;
        ok = crc32_update(0, scratch + REC_HEAD, r->len) == r->pcrc &&
             payload_ok(r, scratch + REC_HEAD);
        if (!ok || le32_get(scratch + COMMIT_OFF) == ERASED) {
            /* Torn or rotten, or never acknowledged; its length is only
             * trusted if it is whole. */
            suspect(c, 1);
            c->off = ok ? off + span : off + 4;
            continue;
        }
        if (c->count)
            j.damaged += c->suspect;
        c->suspect = 0;
        c->bad = 0;
        c->off = c->last = off + span;
        *at = off;
        return 1;
    }
    return 0;
}

static void cursor_start(struct cursor *c, int s, int count)
{
    memset(c, 0, sizeof(*c));
    c->s = s;
    c->off = c->last = SEG_HEAD;
    c->end = j.seg[s].end;
    c->count = count;
}

/* --- segments ------------------------------------------------------- */

static void stamp(uint8_t *h, uint32_t erases)
{
    le32_put(h, SEG_MAGIC);
    le32_put(h + 4, erases);
    le32_put(h + 8, crc32_update(0, h, 8));
}

static int erase_segment(int s)
{
    struct seg *g = &j.seg[s];
    uint8_t h[12];
    uint32_t erases = g->erases + 1;
    int rc = hal_flash_part_erase(j.part, seg_off(s), SEG);

    if (rc) {
        g->state = SEG_DIRTY;   /* part of it may be erased: nothing to trust */
        g->clean = 0;
        return rc;
    }
    memset(g, 0, sizeof(*g));   /* free, not clean until stamped */
    g->erases = erases;
    stamp(h, g->erases);
    rc = prog(seg_off(s), h, sizeof(h));
    if (rc == 0)
        g->clean = 1;
    return rc;
}

static unsigned free_count(void)
{
    unsigned n = 0;
    uint32_t s;

    for (s = 0; s < j.n_seg; s++)
        n += j.seg[s].state != SEG_USED;
    return n;
}

/* Opens the least-worn free segment (erasing it unless it is clean). It is
 * the head from then on, unless it is a compaction's target (victim !=
 * NO_VICTIM), which becomes the head when it is done. *out: its index. */
static int open_segment(uint32_t victim, int *out)
{
    uint8_t h[SEG_HEAD];
    int s, pick = -1, rc;
    struct seg *g;

    if (j.next_seq == ERASED)
        return MG_ERR_NOSPC;   /* 4 billion segments opened */
    for (s = 0; s < (int)j.n_seg; s++)
        if (j.seg[s].state != SEG_USED && (pick < 0 || j.seg[s].erases < j.seg[pick].erases))
            pick = s;
    if (pick < 0)
        return MG_ERR_NOSPC;
    g = &j.seg[pick];
    if (!g->clean) {
        rc = erase_segment(pick);
        if (rc)
            return rc;
    }
    stamp(h, g->erases);
    le32_put(h + 12, j.next_seq);
    le32_put(h + 16, victim);
    le32_put(h + 20, crc32_update(0, h, 20));
    rc = prog(seg_off(pick) + 12, h + 12, 12);
    g->clean = 0;
    if (rc) {
        g->state = SEG_DIRTY;
        return rc;
    }
    g->state = SEG_USED;
    g->seq = j.next_seq++;
    g->victim = victim;
    g->done = 0;
    g->used = g->end = SEG_HEAD;
    g->deposits = g->deletes = 0;
    if (victim == NO_VICTIM)
        j.head = pick;
    *out = pick;
    return 0;
}

static int oldest_used(int except)
{
    int s, pick = -1;

    for (s = 0; s < (int)j.n_seg; s++)
        if (j.seg[s].state == SEG_USED && s != except &&
            (pick < 0 || j.seg[s].seq < j.seg[pick].seq))
            pick = s;
    return pick;
}

static void count_record(struct seg *g, uint8_t type)
{
    if (type == T_DEPOSIT)
        g->deposits++;
    else
        g->deletes++;
}

/* Calls moved() for every record of the compaction target t: all copies. */
static int report_moves(int t)
{
    uint8_t p[REC_HEAD + JOURNAL_ID_MAX];
    uint32_t off = SEG_HEAD;

    while (off < j.seg[t].used) {
        int rc = rd(seg_off(t) + off, p, sizeof(p));
        if (rc)
            return rc;
        p[sizeof(p) - 1] = 0;
        if (j.cb.moved)
            j.cb.moved(j.cb.ctx, (const char *)p + REC_HEAD, seg_off(t) + off);
        off += ALIGN4(REC_HEAD + le32_get(p + 4));
    }
    return 0;
}

/* Counts a compaction that dropped nothing toward "full". */
static void count_barren(unsigned long dropped)
{
    if (dropped == 0) {
        if (++j.barren >= j.n_seg - free_count())
            j.full = 1;
    } else {
        j.barren = 0;
        j.full = 0;
    }
}

/* Compacts the oldest segment (not the head): its live deposits are copied
 * into a fresh segment naming it as victim, the copies synced, the done
 * word set and synced; then the copies are reported and the victim erased.
 * Power can fail anywhere: before the done word the target is dropped at
 * mount and the victim replays; after it the victim is obsolete. A victim
 * with nothing live (the usual case when recipients ack) is just erased:
 * no target, no syncs. Should that erase not reach the flash, the victim
 * replays as dead as it was: being the oldest, the deletes of its deposits
 * are in it or in newer segments. */
static int compact(void)
{
    int v = oldest_used(j.head), t = -1, rc;
    unsigned long dropped = 0;
    struct cursor c;
    struct rec r = { 0, 0, 0 };
    uint32_t at = 0;
    static const uint8_t zero[4];

    if (v < 0 || free_count() == 0)
        return MG_ERR_NOSPC;
    cursor_start(&c, v, 0);
    while ((rc = cursor_next(&c, &at, &r)) == 1) {
        struct seg *g;
        uint32_t span = ALIGN4(REC_HEAD + r.len);

        /* payload_ok() checked that msg_id is terminated. Without is_live
         * every deposit is live: nothing is lost for want of an answer. */
        if (r.type != T_DEPOSIT ||
            (j.cb.is_live && !j.cb.is_live(j.cb.ctx, (const char *)scratch + REC_HEAD))) {
            dropped++;
            continue;
        }
        if (t < 0) {
            /* The first live deposit: the copies need a target (neither
             * call touches scratch, which holds the record). The head is
             * whole before a newer segment exists. */
            rc = journal_commit();
            if (rc == 0)
                rc = open_segment(j.seg[v].seq, &t);
            if (rc)
                return rc;
        }
        g = &j.seg[t];
        if (g->used + span > SEG) {
            rc = MG_ERR_NOSPC;   /* not a segment of ours: keep the victim */
            break;
        }
        /* Copies carry their commit word: the done word commits them all. */
        put_head(scratch, T_DEPOSIT, r.len, g->seq, g->used, 1);
        rc = prog(seg_off(t) + g->used, scratch, REC_HEAD + r.len);
        if (rc)
            break;
        g->used += span;
        g->end = g->used;
        g->deposits++;
        j.copied++;
    }
    dropped += c.suspect;
    if (rc == 0 && t < 0) {
        j.compactions++;
        rc = erase_segment(v);
        count_barren(dropped);
        return rc;
    }
    if (rc < 0) {
        if (t >= 0)
            j.seg[t].state = SEG_DIRTY;
        return rc;
    }
    rc = sync_flash();
    if (rc == 0)
        rc = prog(seg_off(t) + DONE_OFF, zero, sizeof(zero));
    if (rc == 0)
        rc = sync_flash();
    if (rc) {
        j.seg[t].state = SEG_DIRTY;   /* not done: worth nothing, erased before reuse */
        return rc;
    }
    j.seg[t].done = 1;
    if (j.head >= 0)
        j.seg[j.head].used = SEG;     /* appends go to the newest segment only */
    j.head = t;
    j.compactions++;
    rc = report_moves(t);
    if (rc == 0)
        rc = erase_segment(v);
    count_barren(dropped);
    return rc;
}

/* Makes room for span bytes at the head: the head itself, else a fresh
 * segment while that leaves one free for compaction, else one compaction. */
static int make_room(uint32_t span, int deposit)
{
    uint32_t need = span + (deposit ? DELETE_RESERVE : 0);
    int rc, s;

    if (j.head >= 0 && SEG - j.seg[j.head].used >= need)
        return 0;
    if (free_count() >= 2)
        return open_segment(NO_VICTIM, &s);
    /* Every segment went round without a dead record: compacting again
     * would only wear the flash until something is deleted. */
    if (deposit && j.full)
        return MG_ERR_NOSPC;
    rc = compact();
    if (rc)
        return rc;
    if (SEG - j.seg[j.head].used >= need)
        return 0;
    if (free_count() >= 2)   /* the victim was erased without copies */
        return open_segment(NO_VICTIM, &s);
    return MG_ERR_NOSPC;
}

/* Appends the record whose payload (len bytes) is in scratch after the
 * head room, made beforehand with make_room(). */
static int put_record(uint8_t type, uint32_t len, uint32_t *where)
{
    struct seg *g = &j.seg[j.head];
    uint32_t off = g->used, at = seg_off(j.head) + off;
    int rc;

    put_head(scratch, type, len, g->seq, off, 1);
    rc = prog(at, scratch, REC_HEAD + len);
    if (rc) {
        /* Part of it may be there: mark it void (if the flash lets us) and
         * close the segment, so that nothing is programmed over it. */
        static const uint8_t zeros[VOID_LEN];
        (void)prog(at, zeros, sizeof(zeros));
        g->end = SEG;
        g->used = SEG;
        return rc;
    }
    g->used += ALIGN4(REC_HEAD + len);
    g->end = g->used;
    count_record(g, type);
    n_pending++;
    count_pending();
    if (where)
        *where = at;
    return 0;
}

static int begin_append(uint32_t len, int deposit)
{
    int rc = 0;

    if (n_pending + n_inflight == JOURNAL_PENDING_MAX)
        rc = journal_commit();
    return rc ? rc : make_room(ALIGN4(REC_HEAD + len), deposit);
}

int journal_append_deposit(const struct journal_deposit *d, const void *envelope,
                           journal_handle *h)
{
    uint8_t *p = scratch + REC_HEAD, *q;
    uint32_t len;
    int rc;

    if (!j.mounted || !d || (d->envelope_len && !envelope))
        return MG_ERR_INVAL;
    if (d->envelope_len > JOURNAL_ENVELOPE_MAX)
        return MG_ERR_TOOBIG;
    if (d->msg_id[0] == 0 || strnlen(d->msg_id, JOURNAL_ID_MAX) == JOURNAL_ID_MAX ||
        strnlen(d->from, JOURNAL_NAME_MAX) == JOURNAL_NAME_MAX ||
        strnlen(d->to, JOURNAL_NAME_MAX) == JOURNAL_NAME_MAX)
        return MG_ERR_INVAL;
    len = DEP_HEAD + d->envelope_len;
    rc = begin_append(len, 1);
    if (rc)
        return rc;
    /* After make_room(): a compaction uses scratch. */
    scratch_use(REC_HEAD + len);
    put_str(p, d->msg_id, JOURNAL_ID_MAX);
    put_str(p + JOURNAL_ID_MAX, d->from, JOURNAL_NAME_MAX);
    put_str(p + JOURNAL_ID_MAX + JOURNAL_NAME_MAX, d->to, JOURNAL_NAME_MAX);
    q = p + JOURNAL_ID_MAX + 2 * JOURNAL_NAME_MAX;
    le64_put(q, (uint64_t)d->deposited_at);
    le64_put(q + 8, (uint64_t)d->expires_at);
    le32_put(q + 16, d->flags);
    le32_put(q + 20, d->envelope_len);
    if (d->envelope_len)
        memcpy(p + DEP_HEAD, envelope, d->envelope_len);
    return put_record(T_DEPOSIT, len, h);
}

int journal_append_delete(const char *msg_id)
{
    int rc;

    if (!j.mounted || !msg_id || msg_id[0] == 0 || strnlen(msg_id, JOURNAL_ID_MAX) == JOURNAL_ID_MAX)
        return MG_ERR_INVAL;
    rc = begin_append(DEL_LEN, 0);
    if (rc)
        return rc;
    scratch_use(REC_HEAD + DEL_LEN);
    put_str(scratch + REC_HEAD, msg_id, JOURNAL_ID_MAX);
    rc = put_record(T_DELETE, DEL_LEN, NULL);
    if (rc == 0) {
        j.barren = 0;   /* something died: compaction may find room again */
        j.full = 0;
    }
    return rc;
}

/* The end of the started sync, if it came (or, with block, once it
 * comes): MG_ERR_AGAIN while it runs, else its result. A refused sync puts
 * its records back with the pending ones: a later commit covers them. */
static int sync_finish(int block)
{
    int rc;

    if (!j.syncing)
        return 0;
    rc = hal_flash_sync_poll(block);
    if (rc == MG_ERR_AGAIN)
        return rc;
    j.syncing = 0;
    sync_timed(j.sync_began_us);
    if (rc == 0 || rc == MG_ERR_NOENT) {
        j.durable = j.started;
        j.commits++;
        rc = 0;
    } else {
        j.failed = j.started;
        n_pending += n_inflight;
    }
    n_inflight = 0;
    count_pending();
    return rc;
}

int journal_commit(void)
{
    uint64_t began;
    int rc;

    (void)sync_finish(1);   /* what it refused is pending again, and covered here */
    if (n_pending == 0)
        return 0;
    j.started++;
    began = hal_clock_us();
    rc = sync_flash();
    sync_timed(began);
    if (rc) {
        j.failed = j.started;
        return rc;   /* kept pending: a later commit may still make them durable */
    }
    j.durable = j.started;
    n_pending = 0;
    count_pending();
    j.commits++;
    return 0;
}

int journal_commit_start(void)
{
    int rc = sync_finish(0);

    if (rc == MG_ERR_AGAIN || n_pending == 0)
        return 0;   /* one at a time: the next covers what comes meanwhile */
    j.started++;
    j.syncs++;
    j.sync_began_us = hal_clock_us();
    rc = hal_flash_sync_start();
    if (rc) {
        j.failed = j.started;
        return rc;
    }
    j.syncing = 1;
    n_inflight = n_pending;
    n_pending = 0;
    return 0;
}

void journal_commit_poll(void)
{
    (void)sync_finish(0);
}

int journal_commit_running(void)
{
    return j.syncing;
}

uint64_t journal_ticket(void)
{
    return j.started + 1;
}

int journal_ticket_state(uint64_t ticket)
{
    if (ticket <= j.durable)
        return 0;
    return ticket <= j.failed ? MG_ERR_IO : MG_ERR_AGAIN;
}

unsigned journal_pending(void)
{
    return n_pending + n_inflight;
}

int journal_read(journal_handle h, struct journal_deposit *d, void *buf, size_t cap)
{
    struct journal_deposit got;
    struct rec r = { 0, 0, 0 };
    uint32_t s = h / SEG, off = h % SEG;
    int rc;

    memset(&got, 0, sizeof(got));
    if (!j.mounted || s >= j.n_seg || j.seg[s].state != SEG_USED || off < SEG_HEAD || off % 4 ||
        off + REC_HEAD > j.seg[s].end)
        return MG_ERR_INVAL;
    rc = rd(h, scratch, REC_HEAD);
    if (rc)
        return rc;
    if (!parse_head(scratch, j.seg[s].seq, off, &r))
        return MG_ERR_CORRUPT;
    if (r.type != T_DEPOSIT)
        return MG_ERR_INVAL;
    scratch_use(REC_HEAD + r.len);
    rc = rd(h + REC_HEAD, scratch + REC_HEAD, r.len);
    if (rc)
        return rc;
    /* Flash can rot after mount: checked on every read. */
    if (crc32_update(0, scratch + REC_HEAD, r.len) != r.pcrc || !payload_ok(&r, scratch + REC_HEAD))
        return MG_ERR_CORRUPT;
    decode_deposit(scratch + REC_HEAD, &got);
    if (d)
        *d = got;
    if (got.envelope_len > cap || (got.envelope_len && !buf))
        return MG_ERR_TOOBIG;
    if (got.envelope_len)
        memcpy(buf, scratch + REC_HEAD + DEP_HEAD, got.envelope_len);
    return 0;
}

/* --- mount ------------------------------------------------------------ */

/* Reads segment s's header and classifies it. */
static int scan_header(int s, uint32_t *max_erases, uint32_t *max_seq)
{
    struct seg *g = &j.seg[s];
    uint8_t h[SEG_HEAD];
    uint32_t end = 0;
    int stamped, rc = rd(seg_off(s), h, sizeof(h));

    if (rc)
        return rc;
    memset(g, 0, sizeof(*g));
    stamped = le32_get(h) == SEG_MAGIC && crc32_update(0, h, 8) == le32_get(h + 8);
    if (stamped) {
        g->erases = le32_get(h + 4);
        if (g->erases > *max_erases)
            *max_erases = g->erases;
    } else {
        g->erases = ERASED;   /* unknown: set to the most worn below */
    }
    if (stamped && crc32_update(0, h, 20) == le32_get(h + 20) && le32_get(h + 12) != ERASED &&
        le32_get(h + 12) != 0) {
        g->state = SEG_USED;
        g->seq = le32_get(h + 12);
        g->victim = le32_get(h + 16);
        g->done = le32_get(h + DONE_OFF) != ERASED;
        if (g->seq > *max_seq)
            *max_seq = g->seq;
        return last_written(s, SEG_HEAD, &g->end);
    }
    /* Erased (stamped or not), or torn: only a stamped, otherwise blank
     * segment is used without another erase. */
    rc = last_written(s, stamped ? 12u : 0u, &end);
    g->state = end == (stamped ? 12u : 0u) ? SEG_FREE : SEG_DIRTY;
    g->clean = stamped && g->state == SEG_FREE;
    return rc;
}

static void replay(int s, uint32_t at, const struct rec *r)
{
    struct journal_deposit d;
    const char *id = (const char *)scratch + REC_HEAD;

    count_record(&j.seg[s], r->type);
    if (r->type == T_DELETE) {
        if (j.cb.on_delete)
            j.cb.on_delete(j.cb.ctx, id);
        return;
    }
    memset(&d, 0, sizeof(d));
    decode_deposit(scratch + REC_HEAD, &d);
    if (j.cb.on_deposit)
        j.cb.on_deposit(j.cb.ctx, &d, seg_off(s) + at);
}

/* Replays segment s; the newest one's torn tail is voided and closes it. */
static int replay_segment(int s, int newest)
{
    static const uint8_t zeros[VOID_LEN];
    struct seg *g = &j.seg[s];
    struct cursor c;
    struct rec r = { 0, 0, 0 };
    uint32_t at = 0;
    int rc;

    cursor_start(&c, s, 1);
    while ((rc = cursor_next(&c, &at, &r)) == 1)
        replay(s, at, &r);
    if (rc)
        return rc;
    g->used = SEG;   /* closed, unless it is the head and ends clean */
    if (!newest) {
        j.damaged += c.suspect;
    } else if (!c.voided && g->end > c.last) {
        /* Written after the last commit and never acknowledged. The void
         * keeps it from counting at later mounts, when records follow. */
        j.torn_voided += c.suspect ? c.suspect : 1;
        if (c.last + VOID_LEN <= SEG) {
            rc = prog(seg_off(s) + c.last, zeros, sizeof(zeros));
            if (rc == 0)
                rc = sync_flash();
        }
    } else if (!c.voided) {
        g->used = c.last;
    }
    return rc;
}

int journal_mount(const struct hal_flash_part *part, const struct journal_callbacks *cb)
{
    uint32_t max_erases = 0, max_seq = 0, n;
    int s, k, rc, newest = -1;
    uint8_t replayed[JOURNAL_MAX_SEGMENTS];

    (void)sync_finish(1);
    memset(&j, 0, sizeof(j));
    n_pending = n_inflight = 0;
    count_pending();
    j.head = -1;
    if (!part)
        return MG_ERR_INVAL;
    n = part->size / SEG;
    if (n < 3)
        return MG_ERR_INVAL;
    j.part = part;
    j.n_seg = n > JOURNAL_MAX_SEGMENTS ? JOURNAL_MAX_SEGMENTS : n;
    if (cb)
        j.cb = *cb;
    for (s = 0; s < (int)j.n_seg; s++) {
        rc = scan_header(s, &max_erases, &max_seq);
        if (rc)
            return rc;
    }
    j.next_seq = max_seq + 1;
    for (s = 0; s < (int)j.n_seg; s++) {
        struct seg *g = &j.seg[s];
        if (g->erases == ERASED)
            g->erases = max_erases;   /* a lost stamp counts as the most worn */
        /* A compaction the power cut before its done word: only copies. */
        if (g->state == SEG_USED && g->victim != NO_VICTIM && !g->done)
            g->state = SEG_DIRTY;
    }
    /* A done compaction's victim is obsolete even if it was not erased. */
    for (s = 0; s < (int)j.n_seg; s++) {
        if (j.seg[s].state != SEG_USED || j.seg[s].victim == NO_VICTIM)
            continue;
        for (k = 0; k < (int)j.n_seg; k++)
            if (j.seg[k].state == SEG_USED && j.seg[k].seq == j.seg[s].victim &&
                j.seg[k].seq < j.seg[s].seq)
                j.seg[k].state = SEG_DIRTY;
    }
    for (s = 0; s < (int)j.n_seg; s++)
        if (j.seg[s].state == SEG_USED && (newest < 0 || j.seg[s].seq > j.seg[newest].seq))
            newest = s;
    j.mounted = 1;
    /* Oldest first. */
    memset(replayed, 0, sizeof(replayed));
    for (;;) {
        int pick = -1;
        for (s = 0; s < (int)j.n_seg; s++)
            if (j.seg[s].state == SEG_USED && !replayed[s] &&
                (pick < 0 || j.seg[s].seq < j.seg[pick].seq))
                pick = s;
        if (pick < 0)
            break;
        replayed[pick] = 1;
        rc = replay_segment(pick, pick == newest);
        if (rc) {
            j.mounted = 0;
            return rc;
        }
    }
    j.head = newest;
    return 0;
}

void journal_get_stats(struct journal_stats *out)
{
    uint32_t s;

    memset(out, 0, sizeof(*out));
    out->segments = j.n_seg;
    out->bytes_total = j.n_seg * SEG;
    out->erases_min = j.n_seg ? ERASED : 0;
    for (s = 0; s < j.n_seg; s++) {
        const struct seg *g = &j.seg[s];
        if (g->state != SEG_USED) {
            out->segments_free++;
        } else {
            out->bytes_used += g->end;
            out->deposits += g->deposits;
            out->deletes += g->deletes;
        }
        if (g->erases < out->erases_min)
            out->erases_min = g->erases;
        if (g->erases > out->erases_max)
            out->erases_max = g->erases;
    }
    out->records = out->deposits + out->deletes;
    out->compactions = j.compactions;
    out->sync_us_total = j.sync_us_total;
    out->sync_us_max = j.sync_us_max;
    out->syncs_timed = j.syncs_timed;
    out->copied = j.copied;
    out->torn_voided = j.torn_voided;
    out->damaged = j.damaged;
    out->commits = j.commits;
    out->syncs = j.syncs;
}

int journal_erase(void)
{
    const struct hal_flash_part *part = j.part ? j.part : hal_flash_part("mailbox");
    uint32_t s;
    int rc;

    if (!part)
        return MG_ERR_INVAL;
    if (!j.part) {
        j.part = part;   /* not mounted: erase without stamps */
        rc = hal_flash_part_erase(part, 0, part->size - part->size % BOARD_FLASH_SECTOR);
        j.part = NULL;
        return rc;
    }
    (void)sync_finish(1);
    n_pending = n_inflight = 0;
    count_pending();
    for (s = 0; s < j.n_seg; s++) {
        rc = erase_segment((int)s);   /* keeps the wear in the stamp */
        if (rc)
            return rc;
    }
    if (part->size > j.n_seg * SEG) {
        rc = hal_flash_part_erase(part, j.n_seg * SEG,
                                  (part->size - j.n_seg * SEG) / BOARD_FLASH_SECTOR *
                                      BOARD_FLASH_SECTOR);
        if (rc)
            return rc;
    }
    j.head = -1;
    j.next_seq = 1;
    j.barren = 0;
    j.full = 0;
    return sync_flash();
}
