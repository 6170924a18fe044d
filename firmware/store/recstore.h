/* A log-structured record store on one flash partition (DESIGN.md section
 * 6): records are appended, never changed in place; the newest valid record
 * of an id wins; garbage collection copies the live records of the oldest
 * sector forward before erasing it. Every write is durable when it returns.
 *
 * Sector:  erase stamp {magic "MGR2", erase count, crc}, programmed right
 *          after each erase so that wear is known for free sectors too;
 *          open stamp {seq, crc over both}, then records.
 * Record:  {id u16, len u16, seq u32, payload crc u32, header crc u32,
 *          commit u32} then len payload bytes, padded to 4. len 0 deletes
 *          the id. The commit word is programmed to 0 once the record is
 *          synced; it is outside the CRC.
 *
 * Power can fail at any program or erase. At mount, a record that is not
 * whole at the very end of the newest sector and has no commit word is a
 * torn write that was never acknowledged: it is ignored. With the commit
 * word it is an acknowledged record that rotted: corrupt. A bad record anywhere else is damage: if it is
 * newer than the id's newest good record, the id reads as corrupt, never as
 * missing or as its older value. Damage whose id cannot be read marks the
 * whole store damaged (recstore_damaged()). */
#ifndef RECSTORE_H
#define RECSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "flash.h"

#define RECSTORE_MAX_IDS     128    /* the registry: a record per node slot */
#define RECSTORE_MAX_SECTORS 32
#define RECSTORE_REC_HEAD    20
#define RECSTORE_SECT_HEAD   24
#define RECSTORE_MAX_LEN     1024   /* payload bytes of one record */

enum recstore_state { REC_NONE, REC_VALID, REC_DELETED, REC_CORRUPT };

struct recstore_entry {
    uint16_t id;
    uint8_t state;            /* enum recstore_state */
    uint8_t sector;
    uint16_t off, len;        /* where the newest valid record is */
    uint32_t seq;             /* its sequence number */
    uint32_t bad_seq;         /* the newest damaged record's, 0 if none */
};

struct recstore_sector {
    uint8_t state;            /* private: free, needs erase, in use */
    uint8_t stamped;          /* its erase stamp is valid */
    uint32_t seq;             /* order of opening; higher is newer */
    uint32_t erases;          /* lifetime erase count, kept in the header */
    uint16_t used;            /* bytes from the start, header included */
};

struct recstore {
    const struct hal_flash_part *part;
    uint32_t n_sectors;
    int active;               /* sector taking appends; -1: none yet */
    int damaged;
    uint32_t next_seq, next_sector_seq;
    struct recstore_sector sectors[RECSTORE_MAX_SECTORS];
    struct recstore_entry entries[RECSTORE_MAX_IDS];
    size_t n_entries;
    int foreign;              /* sectors that hold data but no valid header */
    unsigned long gc_runs, torn_ignored;
};

/* Scans the partition and builds the index. MG_ERR_INVAL if the partition
 * has more sectors than RECSTORE_MAX_SECTORS or fewer than 2; MG_ERR_IO if
 * flash cannot be read. Any content, garbage included, mounts. */
int recstore_mount(struct recstore *s, const struct hal_flash_part *part);

/* Copies id's newest record into buf (cap bytes) and its length to *len.
 * MG_ERR_NOENT never written or deleted (*len 0), MG_ERR_CORRUPT damaged,
 * MG_ERR_TOOBIG if cap is short, MG_ERR_IO on flash errors. A record that
 * fails its CRC when read now reads as corrupt. */
int recstore_read(struct recstore *s, uint16_t id, void *buf, size_t cap, size_t *len);

/* Appends a record and syncs. MG_ERR_INVAL for id 0xFFFF or len >
 * RECSTORE_MAX_LEN; MG_ERR_NOSPC when live records fill the partition (one
 * sector is kept for garbage collection); MG_ERR_IO on flash errors (the
 * write may or may not survive: it was not acknowledged). */
int recstore_write(struct recstore *s, uint16_t id, const void *data, size_t len);

/* Writes a deletion record for id. */
int recstore_delete(struct recstore *s, uint16_t id);

/* The id's state without reading the payload. */
enum recstore_state recstore_state_of(const struct recstore *s, uint16_t id);

int recstore_damaged(const struct recstore *s);

/* Sectors without a valid header that hold data past the header area: not
 * left by any cut of ours (a torn erase of a collected sector aside), so a
 * store with no records and such sectors is not blank but foreign. */
int recstore_foreign(const struct recstore *s);

struct recstore_usage {
    uint32_t sectors, free_sectors;
    uint32_t bytes_total, bytes_live, bytes_used;
    size_t records;           /* live ids */
    uint32_t min_erases, max_erases;   /* over all sectors */
};
void recstore_usage(const struct recstore *s, struct recstore_usage *out);

#endif
