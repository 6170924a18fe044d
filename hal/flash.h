/* The board's NOR flash (DESIGN.md section 6). Erase sets whole sectors to
 * 0xFF, program only clears bits, reads are byte-addressed. The geometry and
 * the partitions come from board.h (BOARD_FLASH_SIZE, BOARD_FLASH_SECTOR,
 * BOARD_PART_*); a board has one flash, so the device is module state.
 *
 * The Linux backend keeps the device in a file image. It enforces the NOR
 * rules (setting a 0 bit back to 1 is refused and counted: it is a bug in
 * the caller) and can cut the power after the N-th program or erase, with or
 * without tearing that operation, so that stores can be tested for what a
 * real power loss leaves behind.
 *
 * Every function returns 0 or a negative MG_ERR_*: MG_ERR_INVAL for a
 * caller's mistake (out of range, unaligned, NOR violation), MG_ERR_IO when
 * the device is not open, the power is off, or the OS refused. */
#ifndef HAL_FLASH_H
#define HAL_FLASH_H

#include <stddef.h>
#include <stdint.h>

#include "board.h"

#define HAL_FLASH_SECTORS (BOARD_FLASH_SIZE / BOARD_FLASH_SECTOR)

/* A named, sector-aligned region of the device (board.h). */
struct hal_flash_part {
    const char *name;
    uint32_t off, size;
};

struct hal_flash_stats {
    unsigned long reads;          /* read calls that succeeded */
    unsigned long programs;       /* program calls that wrote something */
    unsigned long erases;         /* sectors erased (torn ones included) */
    unsigned long nor_violations; /* programs refused for setting a 0 bit to 1 */
    uint64_t bytes_programmed;
};

/* Starts what the background sync needs (on Linux a thread, whose stack
 * and TLS are allocated): once, at boot, before the heap is sealed. The
 * first hal_flash_open() calls it if nobody did. 0 or MG_ERR_IO. */
int hal_flash_init(void);

/* Opens the image at path (the string is not kept), creating it erased
 * (all 0xFF) if missing and completing a short one with 0xFF, as a creation
 * that was interrupted leaves. Resets the statistics, the erase counters and
 * the power-cut injection: an open is a boot. Closes a device already open.
 * MG_ERR_INVAL if the file is larger than BOARD_FLASH_SIZE (another board's
 * image), MG_ERR_CORRUPT if it is short and holds data (a truncated image:
 * its lost tail would read as never written; the file is left as it is),
 * MG_ERR_IO if it cannot be opened or filled. */
int hal_flash_open(const char *path);

/* Closes the image; data programmed so far stays in the file. Safe to call
 * when nothing is open. */
void hal_flash_close(void);

/* Copies len bytes at device offset off into buf. */
int hal_flash_read(uint32_t off, void *buf, size_t len);

/* Programs len bytes from buf at off. Every byte may only clear bits of what
 * is there: if any byte would set a bit, nothing is written, the violation is
 * counted and MG_ERR_INVAL returned. One call is one operation for power-cut
 * injection; len 0 does nothing and is not one. */
int hal_flash_program(uint32_t off, const void *buf, size_t len);

/* Erases the sectors covering [off, off + len); both must be multiples of
 * BOARD_FLASH_SECTOR. Each sector is one operation, so a cut in the middle of
 * a range leaves the earlier sectors erased. */
int hal_flash_erase(uint32_t off, uint32_t len);

/* Makes everything programmed and erased so far durable (fdatasync).
 * Waits for a started sync (below) first. */
int hal_flash_sync(void);

/* The same without waiting, as a flash controller's background flush (on
 * Linux a thread's fdatasync): everything programmed and erased before the
 * call is durable once hal_flash_sync_poll() says 0. One at a time:
 * MG_ERR_AGAIN while one runs; MG_ERR_IO as above. */
int hal_flash_sync_start(void);

/* The started sync: MG_ERR_AGAIN while it runs, then once its result (0
 * durable, MG_ERR_IO); MG_ERR_NOENT when none was started. With block set,
 * waits for it. */
int hal_flash_sync_poll(int block);

/* A descriptor that turns readable when a started sync ends, for
 * hal_wait_add_fd(); -1 when the device is closed. */
int hal_flash_sync_fd(void);

/* The partition called name ("keys", "registry", "mailbox"), or NULL. The
 * returned struct is static and lives forever. */
const struct hal_flash_part *hal_flash_part(const char *name);

/* As above, with off relative to the partition start; any access reaching
 * outside the partition is refused with MG_ERR_INVAL. */
int hal_flash_part_read(const struct hal_flash_part *p, uint32_t off, void *buf, size_t len);
int hal_flash_part_program(const struct hal_flash_part *p, uint32_t off, const void *buf,
                           size_t len);
int hal_flash_part_erase(const struct hal_flash_part *p, uint32_t off, uint32_t len);

/* How many times sector (an index, not an offset) was erased since open;
 * 0 for an index past the end. */
uint32_t hal_flash_erase_count(uint32_t sector);

/* Statistics since open. */
void hal_flash_stats(struct hal_flash_stats *out);

/* Program and erase operations that reached the device since open (refused
 * ones and those attempted with the power off do not count; the cut one
 * does). A power-cut harness runs a workload once to count its operations,
 * then again for each k, cutting at operation k. */
unsigned long hal_flash_ops(void);

/* Test hook: the after_ops-th program or erase from now (1-based) does not
 * complete. Without torn it has no effect; with torn a program writes the
 * first half of its bytes (rounded down) and an erase sets the first half of
 * its sector to 0xFF, leaving the rest as it was. From that operation on,
 * everything (reads and syncs too) returns MG_ERR_IO: the power is off.
 * after_ops 0 cuts the power at once. */
void hal_flash_powercut_arm(unsigned long after_ops, int torn);

/* Test hook: power comes back (the reboot); the injection is cleared. */
void hal_flash_powercut_disarm(void);

#endif
