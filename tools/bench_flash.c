/* Benchmark of the record store on the keys partition (make bench): write
 * latency and mount time, each beside a reference measured in the same run
 * on the same image: a bare program + sync of the same bytes, and a bare
 * read of the whole partition. The image lives where the argument says (a
 * real disk makes the syncs real).
 *
 *   bench-flash IMAGE [WRITES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flash.h"
#include "store/recstore.h"

static struct recstore st;
static uint8_t part_copy[BOARD_PART_KEYS_SIZE];

static double ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    const struct hal_flash_part *keys = hal_flash_part("keys"), *mbox = hal_flash_part("mailbox");
    int writes = argc > 2 ? atoi(argv[2]) : 400, i;
    double t0, d, w_sum = 0, w_max = 0, r_sum = 0, mount, raw_read;
    unsigned long collections;
    uint8_t v[600];
    struct recstore_usage u;

    if (argc < 2 || writes < 1 || !keys || !mbox) {
        fprintf(stderr, "usage: bench-flash IMAGE [WRITES]\n");
        return 2;
    }
    unlink(argv[1]);
    if (hal_flash_open(argv[1]) != 0 || recstore_mount(&st, keys) != 0) {
        fprintf(stderr, "bench-flash: cannot open %s\n", argv[1]);
        return 1;
    }
    memset(v, 0x5a, sizeof(v));
    for (i = 0; i < writes; i++) {
        size_t len = i % 3 ? 100 : 600;
        uint32_t off = (uint32_t)(i * 608) % (mbox->size - 608);
        v[0] = (uint8_t)i;
        /* Reference: the same bytes programmed and synced, nothing else. */
        if (off % BOARD_FLASH_SECTOR < 608)
            hal_flash_part_erase(mbox, off - off % BOARD_FLASH_SECTOR, BOARD_FLASH_SECTOR);
        t0 = ms();
        if (hal_flash_part_program(mbox, off, v, len) != 0 || hal_flash_sync() != 0)
            return 1;
        r_sum += ms() - t0;
        t0 = ms();
        if (recstore_write(&st, (uint16_t)(0x100 + i % 12), v, len) != 0)
            return 1;
        d = ms() - t0;
        w_sum += d;
        if (d > w_max)
            w_max = d;
    }
    collections = st.gc_runs;   /* a mount starts the count again */
    t0 = ms();
    for (i = 0; i < 100; i++)
        hal_flash_part_read(keys, 0, part_copy, sizeof(part_copy));
    raw_read = (ms() - t0) / 100;
    t0 = ms();
    for (i = 0; i < 100; i++)
        recstore_mount(&st, keys);
    mount = (ms() - t0) / 100;
    recstore_usage(&st, &u);
    printf("record store, %u KiB keys partition, %d writes of 100/600 B over 12 ids "
           "(%lu collections):\n", BOARD_PART_KEYS_SIZE / 1024, writes, collections);
    printf("  write   mean %8.3f ms  worst %8.3f ms   reference program+sync %8.3f ms  "
           "ratio %.2f\n", w_sum / writes, w_max, r_sum / writes, w_sum / r_sum);
    printf("  mount        %8.3f ms                      reference read         %8.3f ms  "
           "ratio %.2f\n", mount, raw_read, mount / raw_read);
    printf("  memory  struct recstore %zu B + sector buffer %u B (static); %zu records, "
           "%lu B used, erases %lu..%lu\n", sizeof(st), BOARD_FLASH_SECTOR, u.records,
           (unsigned long)u.bytes_used, (unsigned long)u.min_erases,
           (unsigned long)u.max_erases);
    hal_flash_close();
    unlink(argv[1]);
    return 0;
}
