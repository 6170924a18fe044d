/* The flash HAL over a file image: NOR rules, partitions, persistence and
 * power-cut injection (DESIGN.md section 6). Each test gets a fresh image in
 * its own temporary directory, removed afterwards even when a CHECK fails. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "board.h"
#include "flash.h"
#include "mg_err.h"
#include "flash_image.h"
#include "test.h"

#define SECTOR BOARD_FLASH_SECTOR

static int all_equal(const uint8_t *p, size_t n, uint8_t v)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] != v)
            return 0;
    }
    return 1;
}

FLASH_TEST(test_flash_erased_image_reads_all_ff)
{
    static uint8_t buf[SECTOR];
    struct stat st;
    uint32_t off;

    for (off = 0; off < BOARD_FLASH_SIZE; off += SECTOR) {
        CHECK_EQ(hal_flash_read(off, buf, sizeof(buf)), 0);
        CHECK(all_equal(buf, sizeof(buf), 0xFF));
    }
    CHECK_EQ(stat(flash_image_path(), &st), 0);
    CHECK_EQ(st.st_size, BOARD_FLASH_SIZE);
}

FLASH_TEST(test_flash_program_then_read_back_gives_the_data)
{
    static const uint8_t data[] = "meshgate record";
    uint8_t buf[sizeof(data) + 2];

    /* Across a sector boundary: programs are byte-addressed. */
    CHECK_EQ(hal_flash_program(SECTOR - 5, data, sizeof(data)), 0);
    CHECK_EQ(hal_flash_read(SECTOR - 6, buf, sizeof(buf)), 0);
    CHECK_EQ(buf[0], 0xFF);
    CHECK_MEM(buf + 1, data, sizeof(data));
    CHECK_EQ(buf[sizeof(buf) - 1], 0xFF);
}

FLASH_TEST(test_flash_programming_more_zero_bits_over_programmed_bytes_is_allowed)
{
    uint8_t first[2] = { 0xF0, 0x3C }, second[2] = { 0x80, 0x0C }, buf[2];

    CHECK_EQ(hal_flash_program(100, first, 2), 0);
    CHECK_EQ(hal_flash_program(100, second, 2), 0);
    CHECK_EQ(hal_flash_read(100, buf, 2), 0);
    CHECK_MEM(buf, second, 2);
}

FLASH_TEST(test_flash_programming_a_one_over_a_zero_is_refused_counted_and_changes_nothing)
{
    uint8_t zero[4] = { 0xFF, 0x00, 0xFF, 0xFF };
    uint8_t sets_a_bit[4] = { 0x0F, 0x0F, 0x0F, 0x0F };
    uint8_t buf[4];
    struct hal_flash_stats st;
    unsigned long ops;

    CHECK_EQ(hal_flash_program(200, zero, 4), 0);
    ops = hal_flash_ops();
    CHECK_EQ(hal_flash_program(200, sets_a_bit, 4), MG_ERR_INVAL);
    CHECK_EQ(hal_flash_read(200, buf, 4), 0);
    CHECK_MEM(buf, zero, 4);   /* not even the bytes that were legal */
    hal_flash_stats(&st);
    CHECK_EQ(st.nor_violations, 1);
    CHECK_EQ(st.programs, 1);
    CHECK_EQ(hal_flash_ops(), ops);
}

FLASH_TEST(test_flash_erase_restores_ff_and_counts_per_sector)
{
    uint8_t zeros[SECTOR], buf[SECTOR];

    memset(zeros, 0, sizeof(zeros));
    CHECK_EQ(hal_flash_program(2 * SECTOR, zeros, SECTOR), 0);
    CHECK_EQ(hal_flash_program(3 * SECTOR, zeros, SECTOR), 0);
    CHECK_EQ(hal_flash_erase(2 * SECTOR, SECTOR), 0);
    CHECK_EQ(hal_flash_erase(2 * SECTOR, SECTOR), 0);
    CHECK_EQ(hal_flash_read(2 * SECTOR, buf, SECTOR), 0);
    CHECK(all_equal(buf, SECTOR, 0xFF));
    CHECK_EQ(hal_flash_read(3 * SECTOR, buf, SECTOR), 0);
    CHECK(all_equal(buf, SECTOR, 0x00));   /* the neighbour is untouched */
    CHECK_EQ(hal_flash_erase_count(2), 2);
    CHECK_EQ(hal_flash_erase_count(3), 0);
    CHECK_EQ(hal_flash_erase_count(HAL_FLASH_SECTORS), 0);
}

FLASH_TEST(test_flash_erasing_a_range_erases_and_counts_each_sector)
{
    struct hal_flash_stats st;

    CHECK_EQ(hal_flash_erase(4 * SECTOR, 3 * SECTOR), 0);
    CHECK_EQ(hal_flash_erase_count(3), 0);
    CHECK_EQ(hal_flash_erase_count(4), 1);
    CHECK_EQ(hal_flash_erase_count(6), 1);
    CHECK_EQ(hal_flash_erase_count(7), 0);
    hal_flash_stats(&st);
    CHECK_EQ(st.erases, 3);
    CHECK_EQ(hal_flash_ops(), 3);
}

FLASH_TEST(test_flash_out_of_bounds_access_is_refused)
{
    uint8_t buf[8] = { 0 };

    CHECK_EQ(hal_flash_read(BOARD_FLASH_SIZE - 4, buf, 8), MG_ERR_INVAL);
    CHECK_EQ(hal_flash_read(BOARD_FLASH_SIZE, buf, 1), MG_ERR_INVAL);
    CHECK_EQ(hal_flash_read(0xFFFFFFFFu, buf, 2), MG_ERR_INVAL);   /* off + len wraps */
    CHECK_EQ(hal_flash_program(BOARD_FLASH_SIZE - 4, buf, 8), MG_ERR_INVAL);
    CHECK_EQ(hal_flash_program(0xFFFFFFF8u, buf, 8), MG_ERR_INVAL);
    CHECK_EQ(hal_flash_erase(BOARD_FLASH_SIZE, SECTOR), MG_ERR_INVAL);
    CHECK_EQ(hal_flash_erase(BOARD_FLASH_SIZE - SECTOR, 2 * SECTOR), MG_ERR_INVAL);
    CHECK_EQ(hal_flash_read(BOARD_FLASH_SIZE - 8, buf, 8), 0);
    CHECK(all_equal(buf, 8, 0xFF));   /* the refused program wrote nothing */
    CHECK_EQ(hal_flash_ops(), 0);
}

FLASH_TEST(test_flash_unaligned_erase_is_refused)
{
    uint8_t zero = 0, buf;

    CHECK_EQ(hal_flash_program(SECTOR + 10, &zero, 1), 0);
    CHECK_EQ(hal_flash_erase(SECTOR + 1, SECTOR), MG_ERR_INVAL);
    CHECK_EQ(hal_flash_erase(SECTOR, SECTOR - 1), MG_ERR_INVAL);
    CHECK_EQ(hal_flash_erase(SECTOR, SECTOR + 1), MG_ERR_INVAL);
    CHECK_EQ(hal_flash_read(SECTOR + 10, &buf, 1), 0);
    CHECK_EQ(buf, 0);
    CHECK_EQ(hal_flash_erase_count(1), 0);
}

FLASH_TEST(test_flash_partitions_are_found_by_name_as_board_h_places_them)
{
    const struct hal_flash_part *keys = hal_flash_part("keys");
    const struct hal_flash_part *registry = hal_flash_part("registry");
    const struct hal_flash_part *mailbox = hal_flash_part("mailbox");

    CHECK(keys && registry && mailbox);
    CHECK_EQ(keys->off, BOARD_PART_KEYS_OFF);
    CHECK_EQ(keys->size, BOARD_PART_KEYS_SIZE);
    CHECK_EQ(registry->off, BOARD_PART_REGISTRY_OFF);
    CHECK_EQ(registry->size, BOARD_PART_REGISTRY_SIZE);
    CHECK_EQ(mailbox->off, BOARD_PART_MAILBOX_OFF);
    CHECK_EQ(mailbox->size, BOARD_PART_MAILBOX_SIZE);
    CHECK(hal_flash_part("boot") == NULL);
    CHECK(hal_flash_part("") == NULL);
    CHECK(hal_flash_part(NULL) == NULL);
}

FLASH_TEST(test_flash_partition_offsets_are_relative_to_the_partition)
{
    const struct hal_flash_part *reg = hal_flash_part("registry");
    static const uint8_t data[4] = { 1, 2, 3, 4 };
    uint8_t buf[4];

    CHECK(reg != NULL);
    CHECK_EQ(hal_flash_part_program(reg, 16, data, 4), 0);
    CHECK_EQ(hal_flash_read(reg->off + 16, buf, 4), 0);
    CHECK_MEM(buf, data, 4);
    CHECK_EQ(hal_flash_part_read(reg, 16, buf, 4), 0);
    CHECK_MEM(buf, data, 4);
    CHECK_EQ(hal_flash_part_erase(reg, 0, SECTOR), 0);
    CHECK_EQ(hal_flash_erase_count(reg->off / SECTOR), 1);
    CHECK_EQ(hal_flash_part_read(reg, 16, buf, 4), 0);
    CHECK(all_equal(buf, 4, 0xFF));
}

FLASH_TEST(test_flash_partition_access_outside_its_range_is_refused)
{
    const struct hal_flash_part *keys = hal_flash_part("keys");
    uint8_t buf[8], zeros[8] = { 0 };

    CHECK(keys != NULL);
    CHECK_EQ(hal_flash_part_read(keys, keys->size - 4, buf, 8), MG_ERR_INVAL);
    CHECK_EQ(hal_flash_part_program(keys, keys->size - 4, zeros, 8), MG_ERR_INVAL);
    CHECK_EQ(hal_flash_part_program(keys, keys->size, zeros, 1), MG_ERR_INVAL);
    CHECK_EQ(hal_flash_part_erase(keys, keys->size, SECTOR), MG_ERR_INVAL);
    CHECK_EQ(hal_flash_part_erase(keys, 0, keys->size + SECTOR), MG_ERR_INVAL);
    CHECK_EQ(hal_flash_part_read(keys, 0xFFFFFFFCu, buf, 8), MG_ERR_INVAL);
    CHECK_EQ(hal_flash_part_read(NULL, 0, buf, 1), MG_ERR_INVAL);
    /* The registry right after keys was not touched. */
    CHECK_EQ(hal_flash_read(keys->off + keys->size, buf, 8), 0);
    CHECK(all_equal(buf, 8, 0xFF));
    CHECK_EQ(hal_flash_ops(), 0);
    /* The last bytes of the partition are in range. */
    CHECK_EQ(hal_flash_part_program(keys, keys->size - 8, zeros, 8), 0);
}

FLASH_TEST(test_flash_data_persists_across_close_and_open)
{
    static const uint8_t data[] = "survives a reboot";
    uint8_t buf[sizeof(data)];
    struct hal_flash_stats st;

    CHECK_EQ(hal_flash_erase(5 * SECTOR, SECTOR), 0);
    CHECK_EQ(hal_flash_program(5 * SECTOR + 7, data, sizeof(data)), 0);
    CHECK_EQ(hal_flash_sync(), 0);
    hal_flash_close();
    CHECK_EQ(hal_flash_read(0, buf, 1), MG_ERR_IO);
    CHECK_EQ(hal_flash_open(flash_image_path()), 0);
    CHECK_EQ(hal_flash_read(5 * SECTOR + 7, buf, sizeof(buf)), 0);
    CHECK_MEM(buf, data, sizeof(data));
    /* Counters live in RAM: the reboot starts them again. */
    CHECK_EQ(hal_flash_erase_count(5), 0);
    hal_flash_stats(&st);
    CHECK_EQ(st.programs, 0);
    CHECK_EQ(hal_flash_ops(), 0);
}

/* An interrupted creation leaves a short file of 0xFF: completed. */
FLASH_TEST(test_flash_a_short_erased_image_is_completed_with_ff)
{
    uint8_t buf[2];
    struct stat st;

    hal_flash_close();
    CHECK_EQ(truncate(flash_image_path(), 3 * SECTOR + 5), 0);
    CHECK_EQ(hal_flash_open(flash_image_path()), 0);
    CHECK_EQ(stat(flash_image_path(), &st), 0);
    CHECK_EQ(st.st_size, BOARD_FLASH_SIZE);
    CHECK_EQ(hal_flash_read(3 * SECTOR + 4, buf, 2), 0);
    CHECK_EQ(buf[0], 0xFF);
    CHECK_EQ(buf[1], 0xFF);
}

/* A short image holding data was cut: its tail would read as never written,
 * so it is refused and left as it is; so is a larger one. */
FLASH_TEST(test_flash_a_truncated_or_larger_image_is_refused_and_left_alone)
{
    uint8_t zero = 0, buf[2];
    struct stat st;

    CHECK_EQ(hal_flash_program(10, &zero, 1), 0);
    hal_flash_close();
    CHECK_EQ(truncate(flash_image_path(), 3 * SECTOR + 5), 0);
    CHECK_EQ(hal_flash_open(flash_image_path()), MG_ERR_CORRUPT);
    CHECK_EQ(stat(flash_image_path(), &st), 0);
    CHECK_EQ(st.st_size, 3 * SECTOR + 5);
    CHECK_EQ(hal_flash_read(10, buf, 1), MG_ERR_IO);

    CHECK_EQ(truncate(flash_image_path(), BOARD_FLASH_SIZE + SECTOR), 0);
    CHECK_EQ(hal_flash_open(flash_image_path()), MG_ERR_INVAL);
    CHECK_EQ(hal_flash_read(0, buf, 1), MG_ERR_IO);
}

FLASH_TEST(test_flash_power_cut_without_tear_leaves_the_old_content)
{
    uint8_t old[16], next[16], buf[16];

    memset(old, 0xA5, sizeof(old));
    memset(next, 0x00, sizeof(next));
    CHECK_EQ(hal_flash_program(0, old, sizeof(old)), 0);
    CHECK_EQ(hal_flash_program(SECTOR, old, sizeof(old)), 0);

    hal_flash_powercut_arm(1, 0);
    CHECK_EQ(hal_flash_program(0, next, sizeof(next)), MG_ERR_IO);
    hal_flash_powercut_disarm();
    CHECK_EQ(hal_flash_read(0, buf, sizeof(buf)), 0);
    CHECK_MEM(buf, old, sizeof(old));

    hal_flash_powercut_arm(1, 0);
    CHECK_EQ(hal_flash_erase(SECTOR, SECTOR), MG_ERR_IO);
    hal_flash_powercut_disarm();
    CHECK_EQ(hal_flash_read(SECTOR, buf, sizeof(buf)), 0);
    CHECK_MEM(buf, old, sizeof(old));
    CHECK_EQ(hal_flash_erase_count(1), 0);
}

FLASH_TEST(test_flash_torn_program_leaves_only_a_prefix)
{
    uint8_t data[11], buf[11];

    memset(data, 0x42, sizeof(data));
    hal_flash_powercut_arm(1, 1);
    CHECK_EQ(hal_flash_program(300, data, sizeof(data)), MG_ERR_IO);
    hal_flash_powercut_disarm();
    CHECK_EQ(hal_flash_read(300, buf, sizeof(buf)), 0);
    CHECK_MEM(buf, data, 5);                 /* 11 / 2, rounded down */
    CHECK(all_equal(buf + 5, 6, 0xFF));
}

FLASH_TEST(test_flash_torn_erase_leaves_a_partly_erased_sector)
{
    static uint8_t zeros[SECTOR], buf[SECTOR];

    memset(zeros, 0, sizeof(zeros));
    CHECK_EQ(hal_flash_program(8 * SECTOR, zeros, SECTOR), 0);
    hal_flash_powercut_arm(1, 1);
    CHECK_EQ(hal_flash_erase(8 * SECTOR, SECTOR), MG_ERR_IO);
    hal_flash_powercut_disarm();
    CHECK_EQ(hal_flash_read(8 * SECTOR, buf, SECTOR), 0);
    CHECK(all_equal(buf, SECTOR / 2, 0xFF));
    CHECK(all_equal(buf + SECTOR / 2, SECTOR / 2, 0x00));
    CHECK_EQ(hal_flash_erase_count(8), 1);   /* the sector wore all the same */
}

FLASH_TEST(test_flash_cut_in_the_middle_of_a_range_erase_keeps_the_earlier_sectors_erased)
{
    static uint8_t zeros[3 * SECTOR];
    uint8_t buf[4];

    memset(zeros, 0, sizeof(zeros));
    CHECK_EQ(hal_flash_program(10 * SECTOR, zeros, sizeof(zeros)), 0);
    hal_flash_powercut_arm(2, 0);
    CHECK_EQ(hal_flash_erase(10 * SECTOR, 3 * SECTOR), MG_ERR_IO);
    hal_flash_powercut_disarm();
    CHECK_EQ(hal_flash_read(10 * SECTOR, buf, 4), 0);
    CHECK(all_equal(buf, 4, 0xFF));
    CHECK_EQ(hal_flash_read(11 * SECTOR, buf, 4), 0);
    CHECK(all_equal(buf, 4, 0x00));
    CHECK_EQ(hal_flash_read(12 * SECTOR, buf, 4), 0);
    CHECK(all_equal(buf, 4, 0x00));
}

FLASH_TEST(test_flash_after_a_cut_every_op_fails_with_io_until_disarm)
{
    uint8_t a = 0x0F, b = 0x03, buf;

    hal_flash_powercut_arm(2, 0);
    CHECK_EQ(hal_flash_program(0, &a, 1), 0);   /* op 1 completes */
    CHECK_EQ(hal_flash_program(1, &a, 1), MG_ERR_IO);
    CHECK_EQ(hal_flash_program(2, &b, 1), MG_ERR_IO);
    CHECK_EQ(hal_flash_erase(SECTOR, SECTOR), MG_ERR_IO);
    CHECK_EQ(hal_flash_read(0, &buf, 1), MG_ERR_IO);
    CHECK_EQ(hal_flash_sync(), MG_ERR_IO);
    /* Caller mistakes are still reported as such. */
    CHECK_EQ(hal_flash_read(BOARD_FLASH_SIZE, &buf, 1), MG_ERR_INVAL);

    hal_flash_powercut_disarm();
    CHECK_EQ(hal_flash_read(0, &buf, 1), 0);
    CHECK_EQ(buf, 0x0F);
    CHECK_EQ(hal_flash_read(2, &buf, 1), 0);
    CHECK_EQ(buf, 0xFF);
    CHECK_EQ(hal_flash_program(2, &b, 1), 0);
    CHECK_EQ(hal_flash_sync(), 0);
}

/* The background sync: one at a time, its result taken once, its end
 * signalled on the descriptor the loop waits on. */
FLASH_TEST(test_flash_a_started_sync_runs_alone_and_its_result_is_taken_once)
{
    uint8_t a = 0x5A, buf;
    struct pollfd p = { hal_flash_sync_fd(), POLLIN, 0 };

    CHECK(p.fd >= 0);
    CHECK_EQ(hal_flash_sync_poll(0), MG_ERR_NOENT);
    CHECK_EQ(hal_flash_program(7, &a, 1), 0);
    CHECK_EQ(hal_flash_sync_start(), 0);
    CHECK_EQ(hal_flash_sync_start(), MG_ERR_AGAIN);   /* not polled yet: still its */
    CHECK_EQ(poll(&p, 1, 5000), 1);                    /* the loop is woken */
    CHECK_EQ(hal_flash_sync_poll(0), 0);
    CHECK_EQ(hal_flash_sync_poll(0), MG_ERR_NOENT);
    CHECK_EQ(poll(&p, 1, 0), 0);                       /* taken: no spurious wake */
    CHECK_EQ(hal_flash_read(7, &buf, 1), 0);
    CHECK_EQ(buf, 0x5A);
    /* And again: the thread serves one sync after the other. */
    CHECK_EQ(hal_flash_sync_start(), 0);
    CHECK_EQ(hal_flash_sync_poll(1), 0);
}

FLASH_TEST(test_flash_a_blocking_sync_waits_for_a_started_one_and_leaves_its_result)
{
    CHECK_EQ(hal_flash_sync_start(), 0);
    CHECK_EQ(hal_flash_sync(), 0);
    CHECK_EQ(hal_flash_sync_poll(0), 0);   /* still the starter's to take */
}

FLASH_TEST(test_flash_a_sync_cannot_start_with_the_power_off_or_the_device_closed)
{
    hal_flash_powercut_arm(0, 0);
    CHECK_EQ(hal_flash_sync_start(), MG_ERR_IO);
    CHECK_EQ(hal_flash_sync_poll(0), MG_ERR_NOENT);
    hal_flash_powercut_disarm();
    CHECK_EQ(hal_flash_sync_start(), 0);
    hal_flash_close();                     /* waits for it: nothing left running */
    CHECK_EQ(hal_flash_sync_fd(), -1);
    CHECK_EQ(hal_flash_sync_start(), MG_ERR_IO);
    CHECK_EQ(hal_flash_sync_poll(0), MG_ERR_NOENT);
    CHECK_EQ(hal_flash_open(flash_image_path()), 0);
    CHECK(hal_flash_sync_fd() >= 0);
    CHECK_EQ(hal_flash_sync_start(), 0);
    CHECK_EQ(hal_flash_sync_poll(1), 0);
}

FLASH_TEST(test_flash_reopening_after_a_cut_is_a_reboot_with_power_back)
{
    uint8_t a = 0x11, buf;

    hal_flash_powercut_arm(0, 0);
    CHECK_EQ(hal_flash_program(0, &a, 1), MG_ERR_IO);
    CHECK_EQ(hal_flash_ops(), 0);
    CHECK_EQ(hal_flash_open(flash_image_path()), 0);
    CHECK_EQ(hal_flash_program(0, &a, 1), 0);
    CHECK_EQ(hal_flash_read(0, &buf, 1), 0);
    CHECK_EQ(buf, 0x11);
}

FLASH_TEST(test_flash_ops_count_programs_and_erases_but_not_reads_or_refusals)
{
    uint8_t zero = 0, ff = 0xFF, buf[4];

    CHECK_EQ(hal_flash_ops(), 0);
    CHECK_EQ(hal_flash_program(0, &zero, 1), 0);
    CHECK_EQ(hal_flash_program(1, buf, 0), 0);              /* empty: not an op */
    CHECK_EQ(hal_flash_program(0, &ff, 1), MG_ERR_INVAL);    /* NOR violation */
    CHECK_EQ(hal_flash_erase(SECTOR, 2 * SECTOR), 0);
    CHECK_EQ(hal_flash_read(0, buf, sizeof(buf)), 0);
    CHECK_EQ(hal_flash_sync(), 0);
    CHECK_EQ(hal_flash_ops(), 3);
}

FLASH_TEST(test_flash_stats_count_reads_programs_erases_and_bytes)
{
    uint8_t data[10] = { 0 }, buf[10];
    struct hal_flash_stats st;

    CHECK_EQ(hal_flash_program(0, data, 10), 0);
    CHECK_EQ(hal_flash_program(20, data, 3), 0);
    CHECK_EQ(hal_flash_read(0, buf, 10), 0);
    CHECK_EQ(hal_flash_read(0, buf, 1), 0);
    CHECK_EQ(hal_flash_read(BOARD_FLASH_SIZE, buf, 1), MG_ERR_INVAL);
    CHECK_EQ(hal_flash_erase(0, SECTOR), 0);
    hal_flash_stats(&st);
    CHECK_EQ(st.reads, 2);
    CHECK_EQ(st.programs, 2);
    CHECK_EQ(st.bytes_programmed, 13);
    CHECK_EQ(st.erases, 1);
    CHECK_EQ(st.nor_violations, 0);
}

FLASH_TEST(test_flash_closed_device_refuses_with_io)
{
    uint8_t buf = 0;

    hal_flash_close();
    hal_flash_close();   /* twice is harmless */
    CHECK_EQ(hal_flash_read(0, &buf, 1), MG_ERR_IO);
    CHECK_EQ(hal_flash_program(0, &buf, 1), MG_ERR_IO);
    CHECK_EQ(hal_flash_erase(0, SECTOR), MG_ERR_IO);
    CHECK_EQ(hal_flash_sync(), MG_ERR_IO);
    hal_flash_powercut_disarm();   /* does not power a closed device */
    CHECK_EQ(hal_flash_read(0, &buf, 1), MG_ERR_IO);
    CHECK_EQ(hal_flash_open(NULL), MG_ERR_INVAL);
}

/* The workload of the harness below: erase a sector, write a 2-byte header,
 * then a body, then a commit byte. */
static int workload(void)
{
    static const uint8_t header[2] = { 0xA1, 0x02 }, body[6] = { 'a', 'b', 'c', 'd', 'e', 'f' }, commit = 0x00;
    int rc = hal_flash_erase(20 * SECTOR, SECTOR);

    if (rc == 0)
        rc = hal_flash_program(20 * SECTOR, header, sizeof(header));
    if (rc == 0)
        rc = hal_flash_program(20 * SECTOR + 2, body, sizeof(body));
    if (rc == 0)
        rc = hal_flash_program(20 * SECTOR + 8, &commit, 1);
    return rc;
}

FLASH_TEST(test_flash_a_harness_can_cut_at_each_op_of_a_workload)
{
    unsigned long before, n, k;
    uint8_t buf[9];

    before = hal_flash_ops();
    CHECK_EQ(workload(), 0);
    n = hal_flash_ops() - before;
    CHECK_EQ(n, 4);

    for (k = 1; k <= n; k++) {
        CHECK_EQ(hal_flash_open(flash_image_path()), 0);   /* reboot */
        hal_flash_powercut_arm(k, 1);
        CHECK_EQ(workload(), MG_ERR_IO);
        CHECK_EQ(hal_flash_ops(), k);
        CHECK_EQ(hal_flash_open(flash_image_path()), 0);
        CHECK_EQ(hal_flash_read(20 * SECTOR, buf, sizeof(buf)), 0);
        /* Whatever the cut, the commit byte is never written without the
         * header and the body before it. */
        if (buf[8] == 0x00) {
            CHECK_EQ(buf[0], 0xA1);
            CHECK_MEM(buf + 2, "abcdef", 6);
        }
        CHECK(k == n || buf[8] == 0xFF);
    }
}
