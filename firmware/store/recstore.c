#include "recstore.h"

#include <string.h>

#include "crc32.h"
#include "le.h"
#include "mg_err.h"

#define SECT_MAGIC 0x3252474du   /* "MGR2" */
#define SECTOR     BOARD_FLASH_SECTOR
#define ALIGN4(n)  (((n) + 3u) & ~3u)
#define SPAN_MAX   ALIGN4(RECSTORE_REC_HEAD + RECSTORE_MAX_LEN)

enum { S_FREE, S_DIRTY, S_USED };

#define COMMIT_OFF 16u   /* the commit word inside a record's head */

/* One sector's bytes while mounting or copying; module state, like the
 * flash it mirrors. */
static uint8_t buf[SECTOR];

static int all_is(const uint8_t *p, size_t n, uint8_t v)
{
    while (n--)
        if (*p++ != v)
            return 0;
    return 1;
}

static uint32_t sector_off(int i)
{
    return (uint32_t)i * SECTOR;
}

static struct recstore_entry *entry(struct recstore *s, uint16_t id, int create)
{
    size_t i;

    for (i = 0; i < s->n_entries; i++)
        if (s->entries[i].id == id)
            return &s->entries[i];
    if (!create || s->n_entries == RECSTORE_MAX_IDS)
        return NULL;
    memset(&s->entries[s->n_entries], 0, sizeof(s->entries[0]));
    s->entries[s->n_entries].id = id;
    return &s->entries[s->n_entries++];
}

struct rec {
    uint16_t id, len;
    uint32_t seq, pcrc;
};

/* 1: a whole header; 0: erased (end of log); -1: void (zeroed); -2: bad. */
static int parse_head(const uint8_t *p, struct rec *r)
{
    if (all_is(p, RECSTORE_REC_HEAD, 0xFF))
        return 0;
    if (all_is(p, COMMIT_OFF, 0x00))
        return -1;
    if (crc32_update(0, p, 12) != le32_get(p + 12))
        return -2;
    r->id = (uint16_t)(p[0] | p[1] << 8);
    r->len = (uint16_t)(p[2] | p[3] << 8);
    r->seq = le32_get(p + 4);
    r->pcrc = le32_get(p + 8);
    /* A seq of all ones would wrap the next one to 0: never written by us. */
    return r->len <= RECSTORE_MAX_LEN && r->id != 0xFFFF && r->seq != 0xFFFFFFFFu ? 1 : -2;
}

static void note_seq(struct recstore *s, uint32_t seq)
{
    if (seq >= s->next_seq)
        s->next_seq = seq + 1;
}

static int note_good(struct recstore *s, int sector, uint16_t off, const struct rec *r)
{
    struct recstore_entry *e = entry(s, r->id, 1);

    if (!e) {
        s->damaged = 1;   /* more ids than the index holds: not ours */
        return 0;
    }
    note_seq(s, r->seq);
    /* Equal: a collection's copy, identical, in the sector that stays. */
    if (e->state == REC_NONE || r->seq >= e->seq) {
        e->state = r->len ? REC_VALID : REC_DELETED;
        e->sector = (uint8_t)sector;
        e->off = off;
        e->len = r->len;
        e->seq = r->seq;
    }
    return 0;
}

/* Zeroes a torn record's header: a lasting mark that it never counted. */
static int void_record(struct recstore *s, int sector, uint32_t off)
{
    static const uint8_t zeros[COMMIT_OFF];
    int rc = hal_flash_part_program(s->part, sector_off(sector) + off, zeros, sizeof(zeros));

    s->torn_ignored++;
    return rc ? rc : hal_flash_sync();
}

/* Parses one in-use sector (in buf). newest: faults at its tail are torn
 * writes. Returns 0 or an MG_ERR_* from flash. */
static int scan_sector(struct recstore *s, int i, int newest)
{
    uint32_t off = RECSTORE_SECT_HEAD;
    struct recstore_sector *sec = &s->sectors[i];

    while (off + RECSTORE_REC_HEAD <= SECTOR) {
        struct rec r;
        int h = parse_head(buf + off, &r);
        uint32_t span, tail;

        if (h == 0) {
            if (!all_is(buf + off, SECTOR - off, 0xFF)) {
                /* Bytes after the log's end: a tear we cannot place. */
                if (newest)
                    break;
                s->damaged = 1;
            }
            sec->used = (uint16_t)off;
            return 0;
        }
        if (h == -1)
            break;   /* voided: the rest of the sector is abandoned */
        span = h == 1 ? ALIGN4(RECSTORE_REC_HEAD + r.len) : 0;
        if (h == 1 && off + span <= SECTOR &&
            crc32_update(0, buf + off + RECSTORE_REC_HEAD, r.len) == r.pcrc) {
            int rc = note_good(s, i, (uint16_t)off, &r);
            if (rc)
                return rc;
            off += span;
            continue;
        }
        /* A bad record. At the tail of the newest sector and without its
         * commit word it is the write the power cut: never acknowledged.
         * With the commit word it was acknowledged and has rotted since. */
        tail = off + (span ? span : SPAN_MAX);
        if (tail > SECTOR)
            tail = SECTOR;
        if (newest && le32_get(buf + off + COMMIT_OFF) == 0xFFFFFFFFu &&
            all_is(buf + tail, SECTOR - tail, 0xFF)) {
            int rc = void_record(s, i, off);
            if (rc)
                return rc;
        } else if (h == 1) {
            /* The head holds, so the id is known and so is the next
             * record's place: this one counts as damage, the rest stands. */
            struct recstore_entry *e = entry(s, r.id, 1);
            note_seq(s, r.seq);
            if (e && r.seq > e->bad_seq)
                e->bad_seq = r.seq;
            if (span && off + span <= SECTOR) {
                off += span;
                continue;
            }
        } else {
            s->damaged = 1;
        }
        break;
    }
    sec->used = SECTOR;   /* closed: appends go to a fresh sector */
    return 0;
}

int recstore_mount(struct recstore *s, const struct hal_flash_part *part)
{
    int i, newest = -1, rc;
    uint32_t max_erases = 0;
    size_t k;

    memset(s, 0, sizeof(*s));
    s->part = part;
    s->n_sectors = part->size / SECTOR;
    s->active = -1;
    s->next_seq = s->next_sector_seq = 1;
    if (s->n_sectors < 2 || s->n_sectors > RECSTORE_MAX_SECTORS)
        return MG_ERR_INVAL;
    /* Pass 1: sector headers, to know which is newest. */
    for (i = 0; i < (int)s->n_sectors; i++) {
        struct recstore_sector *sec = &s->sectors[i];
        uint32_t from;
        rc = hal_flash_part_read(part, sector_off(i), buf, SECTOR);
        if (rc)
            return rc;
        sec->stamped = le32_get(buf) == SECT_MAGIC && crc32_update(0, buf, 8) == le32_get(buf + 8);
        if (sec->stamped) {
            sec->erases = le32_get(buf + 4);
            if (sec->erases > max_erases)
                max_erases = sec->erases;
        }
        if (sec->stamped && crc32_update(0, buf, 16) == le32_get(buf + 16)) {
            sec->state = S_USED;
            sec->seq = le32_get(buf + 12);
            if (sec->seq >= s->next_sector_seq)
                s->next_sector_seq = sec->seq + 1;
            if (newest < 0 || sec->seq > s->sectors[newest].seq)
                newest = i;
            continue;
        }
        /* Erased (stamped or not), or a torn erase or header: not ours to
         * trust, erased again before use. */
        from = sec->stamped ? 12u : 0u;
        sec->state = all_is(buf + from, SECTOR - from, 0xFF) ? S_FREE : S_DIRTY;
        /* A cut header program touches only the header; data past it in a
         * sector that is not ours is something else's. */
        if (!all_is(buf + RECSTORE_SECT_HEAD, SECTOR - RECSTORE_SECT_HEAD, 0xFF))
            s->foreign++;
    }
    /* A sector whose stamp a cut lost counts as worn as the most worn. */
    for (i = 0; i < (int)s->n_sectors; i++)
        if (!s->sectors[i].stamped)
            s->sectors[i].erases = max_erases;
    /* Pass 2: records, oldest sector order does not matter (seq decides). */
    for (i = 0; i < (int)s->n_sectors; i++) {
        if (s->sectors[i].state != S_USED)
            continue;
        rc = hal_flash_part_read(part, sector_off(i), buf, SECTOR);
        if (rc == 0)
            rc = scan_sector(s, i, i == newest);
        if (rc)
            return rc;
    }
    /* A damaged record newer than the id's newest good one: corrupt. */
    for (k = 0; k < s->n_entries; k++) {
        struct recstore_entry *e = &s->entries[k];
        if (e->bad_seq && (e->state == REC_NONE || e->bad_seq > e->seq))
            e->state = REC_CORRUPT;
    }
    s->active = newest;
    return 0;
}

static uint32_t room(const struct recstore *s)
{
    return s->active < 0 ? 0 : SECTOR - s->sectors[s->active].used;
}

static int free_count(const struct recstore *s)
{
    int i, n = 0;

    for (i = 0; i < (int)s->n_sectors; i++)
        n += s->sectors[i].state != S_USED;
    return n;
}

/* The erase stamp {magic, erase count, crc}: programmed right after an
 * erase, so that a free sector keeps its wear count. */
static void stamp(uint8_t *head, uint32_t erases)
{
    le32_put(head, SECT_MAGIC);
    le32_put(head + 4, erases);
    le32_put(head + 8, crc32_update(0, head, 8));
}

/* Erases a sector and stamps it; it is then free. */
static int erase_sector(struct recstore *s, int i)
{
    struct recstore_sector *sec = &s->sectors[i];
    uint8_t head[12];
    int rc = hal_flash_part_erase(s->part, sector_off(i), SECTOR);

    if (rc)
        return rc;
    sec->erases++;
    sec->state = S_FREE;
    sec->stamped = 0;
    sec->seq = 0;
    sec->used = 0;
    stamp(head, sec->erases);
    rc = hal_flash_part_program(s->part, sector_off(i), head, sizeof(head));
    if (rc)
        return rc;
    sec->stamped = 1;
    return 0;
}

/* Opens the least-worn free sector (erasing it first unless it is erased
 * and stamped) and makes it the active one. */
static int open_sector(struct recstore *s)
{
    struct recstore_sector *sec;
    uint8_t head[RECSTORE_SECT_HEAD];
    int i, pick = -1, rc;

    for (i = 0; i < (int)s->n_sectors; i++)
        if (s->sectors[i].state != S_USED &&
            (pick < 0 || s->sectors[i].erases < s->sectors[pick].erases))
            pick = i;
    if (pick < 0)
        return MG_ERR_NOSPC;
    sec = &s->sectors[pick];
    if (sec->state != S_FREE || !sec->stamped) {
        rc = erase_sector(s, pick);
        if (rc)
            return rc;
    }
    /* The open stamp {seq, crc over the erase stamp and seq}. */
    stamp(head, sec->erases);
    le32_put(head + 12, s->next_sector_seq);
    le32_put(head + 16, crc32_update(0, head, 16));
    rc = hal_flash_part_program(s->part, sector_off(pick) + 12, head + 12, 8);
    if (rc)
        return rc;
    sec->state = S_USED;
    sec->seq = s->next_sector_seq++;
    sec->used = RECSTORE_SECT_HEAD;
    s->active = pick;
    return 0;
}

/* Programs one record at the active sector's end (no sync). */
static int append(struct recstore *s, uint16_t id, uint32_t seq, const void *data, size_t len)
{
    uint8_t rec[RECSTORE_REC_HEAD + RECSTORE_MAX_LEN + 3];
    struct recstore_sector *sec = &s->sectors[s->active];
    uint32_t span = ALIGN4(RECSTORE_REC_HEAD + (uint32_t)len);
    struct rec r = { id, (uint16_t)len, seq, 0 };
    int rc;

    memset(rec, 0xFF, span);
    rec[0] = (uint8_t)id;
    rec[1] = (uint8_t)(id >> 8);
    rec[2] = (uint8_t)len;
    rec[3] = (uint8_t)(len >> 8);
    le32_put(rec + 4, seq);
    le32_put(rec + 8, crc32_update(0, data, len));
    le32_put(rec + 12, crc32_update(0, rec, 12));
    if (len)
        memcpy(rec + RECSTORE_REC_HEAD, data, len);
    rc = hal_flash_part_program(s->part, sector_off(s->active) + sec->used, rec, span);
    if (rc)
        return rc;
    r.pcrc = le32_get(rec + 8);
    note_good(s, s->active, sec->used, &r);
    sec->used = (uint16_t)(sec->used + span);
    return 0;
}

/* Programs the commit word of the record just appended at off. Called
 * after the record is synced: a record without it that fails its CRC was
 * cut while being written (DESIGN.md section 6). */
static int commit(struct recstore *s, int sector, uint32_t off)
{
    static const uint8_t zeros[4];
    int rc = hal_flash_sync();

    return rc ? rc : hal_flash_part_program(s->part, sector_off(sector) + off + COMMIT_OFF,
                                            zeros, sizeof(zeros));
}

/* Copies the oldest sector's live records forward, then erases it. */
static int collect(struct recstore *s)
{
    int i, victim = -1, rc;
    size_t k;

    for (i = 0; i < (int)s->n_sectors; i++)
        if (s->sectors[i].state == S_USED && i != s->active &&
            (victim < 0 || s->sectors[i].seq < s->sectors[victim].seq))
            victim = i;
    if (victim < 0)
        return MG_ERR_NOSPC;
    s->gc_runs++;
    rc = hal_flash_part_read(s->part, sector_off(victim), buf, SECTOR);
    for (k = 0; rc == 0 && k < s->n_entries; k++) {
        struct recstore_entry *e = &s->entries[k];
        uint32_t span = ALIGN4(RECSTORE_REC_HEAD + e->len);

        /* Deletions need no copy: whatever they shadowed is older still. */
        if (e->state != REC_VALID || e->sector != victim)
            continue;
        if (room(s) < span)
            rc = open_sector(s);
        /* Straight from the victim's bytes in buf: nothing below reads
         * into buf. */
        if (rc == 0) {
            int at = s->active;
            uint32_t off = s->sectors[at].used;
            rc = append(s, e->id, e->seq, buf + e->off + RECSTORE_REC_HEAD, e->len);
            if (rc == 0)
                rc = commit(s, at, off);
        }
    }
    for (k = 0; k < s->n_entries; k++)
        if (s->entries[k].state == REC_DELETED && s->entries[k].sector == victim)
            s->entries[k].state = REC_NONE;
    if (rc == 0)
        rc = hal_flash_sync();   /* the copies are durable before the erase */
    if (rc == 0)
        rc = erase_sector(s, victim);
    return rc;
}

static uint32_t live_bytes(const struct recstore *s)
{
    uint32_t n = 0;
    size_t k;

    for (k = 0; k < s->n_entries; k++)
        if (s->entries[k].state == REC_VALID)
            n += ALIGN4(RECSTORE_REC_HEAD + s->entries[k].len);
    return n;
}

static int put(struct recstore *s, uint16_t id, const void *data, size_t len)
{
    uint32_t span = ALIGN4(RECSTORE_REC_HEAD + (uint32_t)len);
    uint32_t capacity = (s->n_sectors - 2) * (SECTOR - RECSTORE_SECT_HEAD);
    const struct recstore_entry *e = entry(s, id, 0);
    uint32_t old = e && e->state == REC_VALID ? ALIGN4(RECSTORE_REC_HEAD + e->len) : 0;
    int rc = 0, guard = 2 * (int)s->n_sectors;

    if (id == 0xFFFF || len > RECSTORE_MAX_LEN || (len && !data))
        return MG_ERR_INVAL;
    if (s->next_seq == 0xFFFFFFFFu)
        return MG_ERR_NOSPC;   /* sequence numbers used up: 4 billion writes */
    if (!e && s->n_entries == RECSTORE_MAX_IDS)
        return MG_ERR_NOSPC;
    if (live_bytes(s) - old + span > capacity)
        return MG_ERR_NOSPC;
    while (rc == 0 && room(s) < span && guard-- > 0) {
        /* Keep a spare sector for collection; the oldest goes first. */
        rc = free_count(s) > 1 ? open_sector(s) : collect(s);
    }
    if (rc == 0 && room(s) < span)
        rc = MG_ERR_NOSPC;
    if (rc == 0) {
        uint32_t off = s->sectors[s->active].used;
        rc = append(s, id, s->next_seq++, data, len);
        if (rc == 0)
            rc = commit(s, s->active, off);
    }
    return rc ? rc : hal_flash_sync();
}

int recstore_write(struct recstore *s, uint16_t id, const void *data, size_t len)
{
    if (len == 0)
        return MG_ERR_INVAL;
    return put(s, id, data, len);
}

int recstore_delete(struct recstore *s, uint16_t id)
{
    const struct recstore_entry *e = entry(s, id, 0);

    if (!e || e->state == REC_NONE || e->state == REC_DELETED)
        return 0;
    return put(s, id, NULL, 0);
}

int recstore_read(struct recstore *s, uint16_t id, void *out, size_t cap, size_t *len)
{
    const struct recstore_entry *e = entry(s, id, 0);
    uint8_t rec[RECSTORE_REC_HEAD + RECSTORE_MAX_LEN];
    int rc;

    *len = 0;
    if (!e || e->state == REC_NONE || e->state == REC_DELETED)
        return MG_ERR_NOENT;
    if (e->state == REC_CORRUPT)
        return MG_ERR_CORRUPT;
    if (e->len > cap)
        return MG_ERR_TOOBIG;
    rc = hal_flash_part_read(s->part, sector_off(e->sector) + e->off, rec,
                             RECSTORE_REC_HEAD + e->len);
    if (rc)
        return rc;
    /* Flash can rot after mount: check again on every read. */
    if (crc32_update(0, rec, 12) != le32_get(rec + 12) ||
        crc32_update(0, rec + RECSTORE_REC_HEAD, e->len) != le32_get(rec + 8))
        return MG_ERR_CORRUPT;
    memcpy(out, rec + RECSTORE_REC_HEAD, e->len);
    *len = e->len;
    return 0;
}

enum recstore_state recstore_state_of(const struct recstore *s, uint16_t id)
{
    size_t k;

    for (k = 0; k < s->n_entries; k++)
        if (s->entries[k].id == id)
            return (enum recstore_state)s->entries[k].state;
    return REC_NONE;
}

int recstore_damaged(const struct recstore *s)
{
    return s->damaged;
}

int recstore_foreign(const struct recstore *s)
{
    return s->foreign;
}

void recstore_usage(const struct recstore *s, struct recstore_usage *out)
{
    int i;
    size_t k;

    memset(out, 0, sizeof(*out));
    out->sectors = s->n_sectors;
    out->bytes_total = s->n_sectors * SECTOR;
    out->bytes_live = live_bytes(s);
    out->min_erases = UINT32_MAX;
    for (i = 0; i < (int)s->n_sectors; i++) {
        const struct recstore_sector *sec = &s->sectors[i];
        if (sec->state != S_USED)
            out->free_sectors++;
        else
            out->bytes_used += sec->used;
        if (sec->erases < out->min_erases)
            out->min_erases = sec->erases;
        if (sec->erases > out->max_erases)
            out->max_erases = sec->erases;
    }
    for (k = 0; k < s->n_entries; k++)
        out->records += s->entries[k].state == REC_VALID;
}
