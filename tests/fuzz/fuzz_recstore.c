/* libFuzzer target for the record store's mount (firmware/store/recstore.c):
 * the input is what the "keys" partition holds at boot, padded with 0xFF
 * (never written) or cut to the partition's size.
 *
 * Each input is one boot and one short session: mount, read every id the
 * mount indexed, take the usage, write one record and delete another id,
 * then boot again and look. What recstore.h promises for any content is
 * checked, and a broken promise traps: the mount succeeds; each id reads as
 * its state says; a write or delete with valid arguments succeeds or finds
 * the store full; a record acknowledged reads back exactly, in the session
 * and after the reboot, and a deletion acknowledged stays; the store never
 * programs a 0 bit back to 1 (hal/flash.h counts that as a caller's bug).
 * Which id is written, and how much, follows from what the mount found.
 *
 * The flash is the Linux file backend (hal/linux/flash_file.c) on an image
 * made once per process under /dev/shm (else /tmp) and unlinked at once.
 *
 *   clang -std=c11 -D_DEFAULT_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -Iboard/host -Ihal -Ifirmware tests/fuzz/fuzz_recstore.c \
 *       firmware/store/recstore.c hal/linux/flash_file.c hal/crc32.c hal/mg_err.c \
 *       -o fuzz_recstore
 *   mkdir -p scratch && ./fuzz_recstore -max_total_time=20 scratch tests/fuzz/corpus/recstore/
 *
 * libFuzzer adds the inputs it finds to the first directory, so never name the
 * checked-in one first. `make fuzz` and `make fuzz-smoke` build and run it
 * (tests/fuzz/fuzz.mk). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flash.h"
#include "mg_err.h"
#include "store/recstore.h"

/* Names the broken promise before trapping: the compiler merges bare traps,
 * and the stack trace alone would not tell which one fired. */
__attribute__((noreturn, noinline)) static void broken(int line, const char *what)
{
    fprintf(stderr, "fuzz_recstore.c:%d: REQUIRE(%s) failed\n", line, what);
    __builtin_trap();
}

#define REQUIRE(cond)                        \
    do {                                     \
        if (!(cond))                         \
            broken(__LINE__, #cond);         \
    } while (0)

static int image_fd = -1;
static char image[32];      /* its name for hal_flash_open */
static const struct hal_flash_part *part;

static uint8_t content[BOARD_PART_KEYS_SIZE];
static uint8_t payload[RECSTORE_MAX_LEN];
static uint8_t back[RECSTORE_MAX_LEN];
static struct recstore st;

/* The whole device erased, once per process, in a file that is unlinked at
 * once and reached through /proc/self/fd: libFuzzer leaves by _Exit on a
 * crash or a timeout, past any atexit, and each process would otherwise
 * leave its 2 MiB image behind. On tmpfs the store's syncs cost nothing.
 * Nothing outside the partition changes afterwards, and hal_flash_open
 * refuses a short image that holds data, so the device is written whole. */
static void setup(void)
{
    static const char *const dirs[] = { "/dev/shm", "/tmp" };
    static uint8_t erased[BOARD_FLASH_SECTOR];
    char path[64];
    uint32_t off;
    size_t i;

    for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && image_fd < 0; i++) {
        snprintf(path, sizeof(path), "%s/fuzz_recstore.XXXXXX", dirs[i]);
        image_fd = mkstemp(path);
    }
    REQUIRE(image_fd >= 0);
    unlink(path);
    snprintf(image, sizeof(image), "/proc/self/fd/%d", image_fd);
    memset(erased, 0xFF, sizeof(erased));
    for (off = 0; off < BOARD_FLASH_SIZE; off += sizeof(erased))
        REQUIRE(pwrite(image_fd, erased, sizeof(erased), (off_t)off) == (ssize_t)sizeof(erased));
    part = hal_flash_part("keys");
    REQUIRE(part && part->size == sizeof(content));
}

static void put_content(const uint8_t *data, size_t size)
{
    if (size > sizeof(content))
        size = sizeof(content);
    memcpy(content, data, size);
    memset(content + size, 0xFF, sizeof(content) - size);
    REQUIRE(pwrite(image_fd, content, sizeof(content), (off_t)part->off) ==
            (ssize_t)sizeof(content));
}

/* A boot: open the image and mount, which any content must survive. */
static void boot(void)
{
    REQUIRE(hal_flash_open(image) == 0);
    REQUIRE(recstore_mount(&st, part) == 0);
}

static void power_off(void)
{
    struct hal_flash_stats fs;

    hal_flash_stats(&fs);
    REQUIRE(fs.nor_violations == 0);
    hal_flash_close();
}

/* Every indexed id reads as its state says; a short buffer is refused. */
static void read_all(void)
{
    size_t k, len;

    REQUIRE(st.n_entries <= RECSTORE_MAX_IDS);
    for (k = 0; k < st.n_entries; k++) {
        const struct recstore_entry *e = &st.entries[k];
        int rc = recstore_read(&st, e->id, back, sizeof(back), &len);

        REQUIRE(recstore_state_of(&st, e->id) == (enum recstore_state)e->state);
        switch (e->state) {
        case REC_VALID:
            /* The mount checked both CRCs of these very bytes. */
            REQUIRE(rc == 0 && len == e->len && len > 0 && len <= RECSTORE_MAX_LEN);
            REQUIRE(recstore_read(&st, e->id, back, len - 1, &len) == MG_ERR_TOOBIG);
            break;
        case REC_NONE:
        case REC_DELETED:
            REQUIRE(rc == MG_ERR_NOENT && len == 0);
            break;
        case REC_CORRUPT:
            REQUIRE(rc == MG_ERR_CORRUPT);
            break;
        default:
            REQUIRE(0);
        }
    }
}

static void check_usage(void)
{
    struct recstore_usage u;
    size_t k, valid = 0;

    recstore_usage(&st, &u);
    for (k = 0; k < st.n_entries; k++)
        valid += st.entries[k].state == REC_VALID;
    REQUIRE(u.sectors == part->size / BOARD_FLASH_SECTOR);
    REQUIRE(u.free_sectors <= u.sectors);
    REQUIRE(u.bytes_total == part->size);
    REQUIRE(u.bytes_used <= u.bytes_total);
    REQUIRE(u.bytes_live <= u.bytes_used);
    REQUIRE(u.records == valid);
    REQUIRE(u.min_erases <= u.max_erases);
}

/* A digest of what the mount found, to choose the session's operations. */
static uint32_t digest(size_t size)
{
    uint32_t h = 2166136261u ^ (uint32_t)size;
    size_t k;

    h = (h ^ st.next_seq) * 16777619u;
    h = (h ^ st.next_sector_seq) * 16777619u;
    h = (h ^ (uint32_t)st.active) * 16777619u;
    for (k = 0; k < st.n_entries; k++) {
        const struct recstore_entry *e = &st.entries[k];
        h = (h ^ e->id ^ (uint32_t)e->len << 16) * 16777619u;
        h = (h ^ e->seq ^ e->state) * 16777619u;
    }
    return h ^ h >> 15;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    uint32_t h;
    uint16_t x, y;
    size_t n, len, i;
    enum recstore_state y_was;
    int wrc, drc;

    if (!ready) {
        setup();
        ready = 1;
    }
    put_content(data, size);
    boot();
    read_all();
    check_usage();

    /* Mostly an id the flash already holds (replacing it, maybe corrupt),
     * else one it may not; never 0xFFFF, which is refused. */
    h = digest(size);
    n = st.n_entries;
    x = n && h % 4 ? st.entries[h / 4 % n].id : (uint16_t)(h >> 8 & 0xFF);
    len = 1 + (h >> 16) % RECSTORE_MAX_LEN;
    for (i = 0; i < len; i++)
        payload[i] = (uint8_t)(h >> i % 4 * 8 ^ i);
    /* The deletion takes another id: X's record must outlive it. */
    y = n ? st.entries[(h >> 5) % n].id : (uint16_t)(x ^ 1);
    if (y == x)
        y = (uint16_t)(x ^ 1);

    wrc = recstore_write(&st, x, payload, len);
    REQUIRE(wrc == 0 || wrc == MG_ERR_NOSPC);
    if (wrc == 0) {
        REQUIRE(recstore_state_of(&st, x) == REC_VALID);
        REQUIRE(recstore_read(&st, x, back, sizeof(back), &n) == 0);
        REQUIRE(n == len && memcmp(back, payload, len) == 0);
    }
    y_was = recstore_state_of(&st, y);
    drc = recstore_delete(&st, y);
    REQUIRE(drc == 0 || drc == MG_ERR_NOSPC);
    if (drc == 0 && (y_was == REC_VALID || y_was == REC_CORRUPT))
        REQUIRE(recstore_state_of(&st, y) == REC_DELETED);
    read_all();
    check_usage();
    power_off();

    /* The reboot: what was acknowledged is there. */
    boot();
    read_all();
    check_usage();
    if (wrc == 0) {
        REQUIRE(recstore_read(&st, x, back, sizeof(back), &n) == 0);
        REQUIRE(n == len && memcmp(back, payload, len) == 0);
    }
    if (drc == 0 && (y_was == REC_VALID || y_was == REC_CORRUPT)) {
        REQUIRE(recstore_state_of(&st, y) == REC_DELETED);
        REQUIRE(recstore_read(&st, y, back, sizeof(back), &n) == MG_ERR_NOENT);
    }
    power_off();
    return 0;
}
