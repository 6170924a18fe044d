/* The log-structured record store on the keys partition: reads back what
 * was written across remounts, survives garbage collection, tells rot from
 * a torn write. The power-cut sweep is in tests/powercut/. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "board.h"
#include "flash.h"
#include "flash_image.h"
#include "mg_err.h"
#include "recstore_values.h"
#include "store/recstore.h"
#include "test.h"

static struct recstore st;

FLASH_TEST(test_recstore_reads_back_across_a_remount)
{
    uint8_t v[RECSTORE_MAX_LEN];
    size_t n, len;
    uint8_t got[RECSTORE_MAX_LEN];

    CHECK_EQ(recstore_mount(&st, hal_flash_part("keys")), 0);
    CHECK_EQ(recstore_read(&st, 1, got, sizeof(got), &len), MG_ERR_NOENT);
    n = rec_value(1, 0, v);
    CHECK_EQ(recstore_write(&st, 1, v, n), 0);
    n = rec_value(2, 0, v);
    CHECK_EQ(recstore_write(&st, 2, v, n), 0);
    n = rec_value(1, 1, v);
    CHECK_EQ(recstore_write(&st, 1, v, n), 0);
    CHECK_EQ(recstore_delete(&st, 2), 0);
    CHECK_EQ(rec_remount(&st), 0);
    CHECK(rec_reads_as(&st, 1, 1));
    CHECK_EQ(recstore_read(&st, 2, got, sizeof(got), &len), MG_ERR_NOENT);
    CHECK_EQ(recstore_read(&st, 1, got, 10, &len), MG_ERR_TOOBIG);
    CHECK(!recstore_damaged(&st));
}

/* Overwrites a few ids far past the partition's size: collection must keep
 * the newest of each and spread the erases. */
FLASH_TEST(test_recstore_collection_keeps_the_newest_and_spreads_wear)
{
    struct recstore_usage u;
    uint8_t v[RECSTORE_MAX_LEN];
    unsigned round;
    uint16_t id;

    CHECK_EQ(recstore_mount(&st, hal_flash_part("keys")), 0);
    for (round = 0; round < 150; round++)
        for (id = 1; id <= 4; id++)
            CHECK_EQ(recstore_write(&st, id, v, rec_value(id, round, v)), 0);
    CHECK(st.gc_runs > 10);
    CHECK_EQ(rec_remount(&st), 0);
    for (id = 1; id <= 4; id++)
        CHECK(rec_reads_as(&st, id, 149));
    recstore_usage(&st, &u);
    CHECK_EQ(u.records, 4);
    CHECK(u.min_erases >= 1);
    CHECK(u.max_erases - u.min_erases <= 2);   /* wear is spread */
}

/* Reads right after collections, without a remount: the index must follow
 * the copies, not point into the erased sector. */
FLASH_TEST(test_recstore_reads_the_newest_right_after_a_collection_moved_it)
{
    uint8_t v[RECSTORE_MAX_LEN];
    unsigned round;

    CHECK_EQ(recstore_mount(&st, hal_flash_part("keys")), 0);
    CHECK_EQ(recstore_write(&st, 9, v, rec_value(9, 0, v)), 0);   /* never rewritten */
    for (round = 0; round < 120; round++) {
        CHECK_EQ(recstore_write(&st, 1, v, rec_value(1, round, v)), 0);
        CHECK(rec_reads_as(&st, 9, 0));
        CHECK(rec_reads_as(&st, 1, round));
    }
    CHECK(st.gc_runs > 3);
}

FLASH_TEST(test_recstore_refuses_what_cannot_fit)
{
    static uint8_t v[RECSTORE_MAX_LEN + 1];
    uint16_t id;
    int rc = 0;

    CHECK_EQ(recstore_mount(&st, hal_flash_part("keys")), 0);
    CHECK_EQ(recstore_write(&st, 1, v, sizeof(v)), MG_ERR_INVAL);
    CHECK_EQ(recstore_write(&st, 0xFFFF, v, 4), MG_ERR_INVAL);
    for (id = 1; id <= 64 && rc == 0; id++)
        rc = recstore_write(&st, id, v, RECSTORE_MAX_LEN);
    CHECK_EQ(rc, MG_ERR_NOSPC);
    /* Full is not broken: what is there still reads, and remounts. */
    CHECK_EQ(rec_remount(&st), 0);
    CHECK_EQ(recstore_state_of(&st, 1), REC_VALID);
}

/* Flips one bit of the payload of the last record written. */
static void flip_last_payload_bit(void)
{
    const struct recstore_entry *e = &st.entries[0];
    size_t k;
    uint8_t b;
    uint32_t at;

    for (k = 1; k < st.n_entries; k++)
        if (st.entries[k].seq > e->seq)
            e = &st.entries[k];
    at = hal_flash_part("keys")->off + e->sector * BOARD_FLASH_SECTOR + e->off +
         RECSTORE_REC_HEAD + 3;
    hal_flash_read(at, &b, 1);
    hal_flash_close();
    {
        int fd = open(flash_image_path(), O_WRONLY);   /* no stdio: it allocates */
        b ^= 0x10;
        if (fd < 0 || pwrite(fd, &b, 1, (off_t)at) != 1)
            test_fail(__FILE__, __LINE__, "cannot flip the bit");
        if (fd >= 0)
            close(fd);
    }
    hal_flash_open(flash_image_path());
}

/* The newest record is where a torn write would be; its commit word tells
 * rot from a tear, so a rotted key reads corrupt, not as its older value. */
FLASH_TEST(test_recstore_a_flipped_bit_in_the_newest_record_reads_corrupt_not_older)
{
    uint8_t v[RECSTORE_MAX_LEN], got[RECSTORE_MAX_LEN];
    size_t len;

    CHECK_EQ(recstore_mount(&st, hal_flash_part("keys")), 0);
    CHECK_EQ(recstore_write(&st, 1, v, rec_value(1, 0, v)), 0);
    CHECK_EQ(recstore_write(&st, 2, v, rec_value(2, 0, v)), 0);
    CHECK_EQ(recstore_write(&st, 1, v, rec_value(1, 1, v)), 0);
    flip_last_payload_bit();
    CHECK_EQ(recstore_mount(&st, hal_flash_part("keys")), 0);
    CHECK_EQ(recstore_state_of(&st, 1), REC_CORRUPT);
    CHECK_EQ(recstore_read(&st, 1, got, sizeof(got), &len), MG_ERR_CORRUPT);
    CHECK(rec_reads_as(&st, 2, 0));
    CHECK(!recstore_damaged(&st));
}

/* Free sectors keep their erase counts across a remount (the erase stamp). */
FLASH_TEST(test_recstore_erase_counts_survive_for_free_sectors)
{
    struct recstore_usage before, after;
    uint8_t v[RECSTORE_MAX_LEN];
    unsigned round;

    CHECK_EQ(recstore_mount(&st, hal_flash_part("keys")), 0);
    for (round = 0; round < 100; round++)
        CHECK_EQ(recstore_write(&st, 1, v, rec_value(1, round, v)), 0);
    recstore_usage(&st, &before);
    CHECK(before.free_sectors > 0);
    CHECK(before.min_erases >= 1);
    CHECK_EQ(rec_remount(&st), 0);
    recstore_usage(&st, &after);
    CHECK_EQ(after.min_erases, before.min_erases);
    CHECK_EQ(after.max_erases, before.max_erases);
    CHECK(rec_reads_as(&st, 1, 99));
}
