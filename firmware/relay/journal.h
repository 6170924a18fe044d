/* The mailbox journal (DESIGN.md section 6, issue "Relay"): every message
 * the relay accepts is a record in the `mailbox` flash partition before the
 * sender gets its 200, and every message acknowledged (or expired) by the
 * recipient is a delete record. After a power cut, mounting replays the log
 * and the relay rebuilds its mailboxes from it.
 *
 * Layout: the partition is cut into segments of JOURNAL_SEGMENT bytes (a
 * whole number of sectors). Each segment starts with a header {magic, erase
 * count, sequence number, crc}; records follow, never crossing a segment's
 * end. A record is {magic, type, payload length, payload crc, header crc,
 * commit word} and its payload, padded to 4 bytes. Appends go to the newest
 * segment; when it is full the next erased one is opened; when fewer than
 * two are left, the oldest segment is compacted: its live deposits are
 * copied to the head (the relay says which are live and is told where they
 * moved), then it is erased. A delete in the oldest segment can always be
 * dropped: whatever it deleted is in that segment or already erased.
 *
 * Group commit: appends program their bytes (commit word included) but do
 * not wait for the flash; journal_commit() syncs once for everything
 * appended since the last commit. A record is durable (and a deposit may be
 * answered) only after the commit that covers it returned 0. Whether a
 * record is whole is told by its own crcs, so no second program and sync is
 * needed: at mount, records that are not whole at the end of the newest
 * segment are a torn write that nobody was told about (voided); a whole one
 * there was appended but maybe never answered, and replays (its sender saw
 * no 200 and may send it again). A bad record anywhere else is damage:
 * counted, skipped, never a crash. (A flash that reorders unsynced writes,
 * as a file's page cache may at a host power cut, can leave a torn record
 * before a whole one in that last batch: it is then counted as damage.)
 *
 * Compaction copies into a fresh segment that names its victim and counts
 * only once its done word is programmed (after the copies are synced); from
 * then on the victim is obsolete at mount even if its erase was cut, so a
 * power cut during a compaction leaves either the victim or the copies,
 * never neither. Work is bounded: an append runs at most one compaction.
 *
 * One journal per firmware (module state), no heap: a static scratch of one
 * record (pool `journal_scratch`) and a count of uncommitted records (pool
 * `journal_pending`). The callbacks must not call back into the journal. */
#ifndef JOURNAL_H
#define JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "flash.h"

#define JOURNAL_SEGMENT     (64u * 1024u)
#define JOURNAL_MAX_SEGMENTS 64
#define JOURNAL_ID_MAX      40      /* msg_id bytes, "dm_<ms>_<12 hex>" fits */
#define JOURNAL_NAME_MAX    64      /* a relay id */
#define JOURNAL_ENVELOPE_MAX BOARD_RELAY_ENVELOPE_MAX
#define JOURNAL_PENDING_MAX 256     /* records between commits (see append) */

/* What a deposit record says about its message; the envelope (the JSON
 * text as the sender gave it) follows it in the record. */
struct journal_deposit {
    char msg_id[JOURNAL_ID_MAX];      /* NUL-terminated */
    char from[JOURNAL_NAME_MAX];
    char to[JOURNAL_NAME_MAX];
    int64_t deposited_at;             /* wall-clock ms */
    int64_t expires_at;
    uint32_t flags;                   /* the relay's (e.g. delivered once) */
    uint32_t envelope_len;
};

/* Where a deposit record lies (its offset in the partition), for
 * journal_read(). 0 is never a record's handle. */
typedef uint32_t journal_handle;

struct journal_callbacks {
    /* Replay at mount, in log order: a deposit (possibly a second copy of
     * one already seen, from a compaction a power cut interrupted: same
     * msg_id, the newer handle wins) and a delete of a msg_id. */
    void (*on_deposit)(void *ctx, const struct journal_deposit *d, journal_handle h);
    void (*on_delete)(void *ctx, const char *msg_id);
    /* Compaction: is this deposit still wanted (not acked, not expired)?
     * And where its copy now lies. */
    int (*is_live)(void *ctx, const char *msg_id);
    void (*moved)(void *ctx, const char *msg_id, journal_handle h);
    void *ctx;
};

/* Mounts the partition and replays it through cb (copied, kept for
 * compactions; a NULL member is not called, no is_live means all live).
 * A blank or foreign partition mounts empty; a segment is erased when it is
 * first used. Segments past JOURNAL_MAX_SEGMENTS are not used. A torn tail
 * is voided (one program and sync). 0; MG_ERR_IO if the flash cannot be
 * read; MG_ERR_INVAL if part is NULL or smaller than three segments. Damage
 * is skipped and counted, never fatal. */
int journal_mount(const struct hal_flash_part *part, const struct journal_callbacks *cb);

/* Appends a deposit record (not yet durable: see journal_commit()).
 * With JOURNAL_PENDING_MAX records pending, it commits them first; a
 * compaction that copies commits too (earlier durability, never later). MG_ERR_TOOBIG when the envelope is over JOURNAL_ENVELOPE_MAX;
 * MG_ERR_INVAL for an empty or unterminated msg_id, from or to;
 * MG_ERR_NOSPC when even after compacting there is no room (the relay
 * answers 503; once compactions went round the whole journal without a
 * dead record, deposits get it at once until a delete is appended);
 * MG_ERR_IO when the flash refused. On success *h (may be NULL) is where it
 * lies. A deposit always leaves room for a few deletes in the head. */
int journal_append_deposit(const struct journal_deposit *d, const void *envelope,
                           journal_handle *h);

/* Appends a delete of msg_id (acked or expired); as above, MG_ERR_INVAL,
 * MG_ERR_NOSPC (not while compaction can run), MG_ERR_IO. */
int journal_append_delete(const char *msg_id);

/* Makes every record appended since the last commit durable: 0, or
 * MG_ERR_IO (then none of them may be reported as stored; they stay
 * pending). One sync whatever the number of records; none when nothing is
 * pending. */
int journal_commit(void);

/* Group commit without waiting for the flash (hal_flash_sync_start()):
 * starts a sync of every record appended so far, unless one is running
 * (records appended meanwhile wait for the next). A record appended now
 * is covered by commit journal_ticket(); journal_ticket_state() says of a
 * ticket 0 (durable: the deposit may be answered), MG_ERR_AGAIN (not yet)
 * or MG_ERR_IO (the flash refused it: report it as not stored).
 * journal_commit_poll() takes the end of a running sync. journal_commit()
 * waits for a running one and covers the rest. */
int journal_commit_start(void);
void journal_commit_poll(void);
/* Whether a started sync has not been taken back by a poll yet (its end
 * wakes the loop: hal_flash_sync_fd()). */
int journal_commit_running(void);
uint64_t journal_ticket(void);
int journal_ticket_state(uint64_t ticket);

/* Records appended and not yet durable (a running sync's included). */
unsigned journal_pending(void);

/* Reads the deposit at h: its header into *d (may be NULL) and its
 * envelope into buf (cap bytes). MG_ERR_CORRUPT if the record does not
 * check out, MG_ERR_TOOBIG if buf is short (*d is filled: envelope_len
 * says how much is needed), MG_ERR_INVAL for a bad handle (not a deposit
 * in a segment in use). */
int journal_read(journal_handle h, struct journal_deposit *d, void *buf, size_t cap);

/* Counters (compactions ... syncs) are since mount. */
struct journal_stats {
    uint32_t segments, segments_free;
    uint32_t bytes_total, bytes_used;     /* used: written, in segments not free */
    uint32_t records, deposits, deletes;  /* in flash now */
    unsigned long compactions, copied, torn_voided, damaged;
    unsigned long commits, syncs;
    /* Commits' syncs, from start to end (what a deposit waits for). */
    uint64_t sync_us_total, sync_us_max;
    unsigned long syncs_timed;
    uint32_t erases_min, erases_max;      /* segment erase counts (wear) */
};
void journal_get_stats(struct journal_stats *out);

/* Erases the whole partition (factory reset); the next mount is blank.
 * Mounted, it keeps the segments' erase counts and stays mounted, empty. */
int journal_erase(void);

#endif
