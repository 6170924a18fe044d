/* The flash as a file image with NOR rules and power-cut injection. The
 * image is mapped (MAP_SHARED): reads, programs and erases are memory
 * operations on the page cache, as on a memory-mapped NOR part, and survive
 * a kill of the process at once; hal_flash_sync() is the fdatasync that
 * makes them survive a power cut of the host. hal_flash_sync_start() hands
 * that fdatasync to a thread of this module (made once, by hal_flash_init()
 * at boot), which does nothing else: the superloop goes on while the disk
 * flushes, and learns of the end through an eventfd. */
#include "flash.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mg_err.h"

_Static_assert(BOARD_FLASH_SIZE % BOARD_FLASH_SECTOR == 0,
               "flash size must be a whole number of sectors");
_Static_assert(BOARD_PART_KEYS_OFF % BOARD_FLASH_SECTOR == 0 &&
               BOARD_PART_KEYS_SIZE % BOARD_FLASH_SECTOR == 0 &&
               BOARD_PART_REGISTRY_OFF % BOARD_FLASH_SECTOR == 0 &&
               BOARD_PART_REGISTRY_SIZE % BOARD_FLASH_SECTOR == 0 &&
               BOARD_PART_MAILBOX_OFF % BOARD_FLASH_SECTOR == 0 &&
               BOARD_PART_MAILBOX_SIZE % BOARD_FLASH_SECTOR == 0,
               "partitions must be sector-aligned, or a store's erase would hit its neighbour");
_Static_assert(BOARD_PART_KEYS_OFF + BOARD_PART_KEYS_SIZE <= BOARD_PART_REGISTRY_OFF &&
               BOARD_PART_REGISTRY_OFF + BOARD_PART_REGISTRY_SIZE <= BOARD_PART_MAILBOX_OFF &&
               BOARD_PART_MAILBOX_OFF + BOARD_PART_MAILBOX_SIZE <= BOARD_FLASH_SIZE,
               "partitions must not overlap and must fit the device");

static const struct hal_flash_part parts[] = {
    { "keys", BOARD_PART_KEYS_OFF, BOARD_PART_KEYS_SIZE },
    { "registry", BOARD_PART_REGISTRY_OFF, BOARD_PART_REGISTRY_SIZE },
    { "mailbox", BOARD_PART_MAILBOX_OFF, BOARD_PART_MAILBOX_SIZE },
};

static struct {
    int fd;                          /* -1 when closed */
    uint8_t *map;                    /* the whole image; NULL when closed */
    bool powered;
    unsigned long ops;
    unsigned long cut_at;            /* ops value of the cut operation; 0: none */
    bool torn;
    struct hal_flash_stats stats;
    uint32_t erase_counts[HAL_FLASH_SECTORS];
    uint8_t erased[BOARD_FLASH_SECTOR];   /* all 0xFF: the source of every erase */
} dev = { .fd = -1 };

/* The sync thread: it waits on go, runs fdatasync, leaves the result in
 * result and signals done. Only one sync is ever outstanding. */
#define SYNCER_STACK (256u * 1024u)
static struct {
    pthread_t thread;
    bool up, running;
    int go, done;                    /* eventfds; -1 before hal_flash_init() */
    atomic_int fd, result;           /* what to sync; how it went */
} syncer = { .go = -1, .done = -1 };

static bool in_range(uint32_t off, size_t len, uint32_t limit)
{
    return off <= limit && len <= (size_t)(limit - off);
}

static int pwrite_all(const void *buf, size_t len, uint32_t off)
{
    const uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = pwrite(dev.fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return MG_ERR_IO;
        p += n;
        off += (uint32_t)n;
        len -= (size_t)n;
    }
    return 0;
}

static int device_ready(void)
{
    return dev.map && dev.powered ? 0 : MG_ERR_IO;
}

/* Counts one program or erase reaching the device; true if the power fails
 * during it. */
static bool op_is_cut(void)
{
    dev.ops++;
    if (dev.cut_at == 0 || dev.ops != dev.cut_at)
        return false;
    dev.powered = false;
    dev.cut_at = 0;
    return true;
}

static int check_erased(uint32_t size)
{
    uint8_t chunk[BOARD_FLASH_SECTOR];
    uint32_t off, i;

    for (off = 0; off < size; off += BOARD_FLASH_SECTOR) {
        uint32_t n = size - off < BOARD_FLASH_SECTOR ? size - off : BOARD_FLASH_SECTOR;
        if (pread(dev.fd, chunk, n, (off_t)off) != (ssize_t)n)
            return MG_ERR_IO;
        for (i = 0; i < n; i++)
            if (chunk[i] != 0xFF)
                return MG_ERR_CORRUPT;
    }
    return 0;
}

static void *syncer_main(void *arg)
{
    uint64_t v;

    (void)arg;
    for (;;) {
        if (read(syncer.go, &v, sizeof(v)) != (ssize_t)sizeof(v)) {
            if (errno == EINTR)
                continue;
            break;
        }
        atomic_store(&syncer.result, fdatasync(atomic_load(&syncer.fd)) == 0 ? 0 : MG_ERR_IO);
        v = 1;
        if (write(syncer.done, &v, sizeof(v)) != (ssize_t)sizeof(v))
            break;
    }
    return NULL;
}

/* Once per process: the thread outlives opens and closes (it syncs the
 * device open when it is asked), so no open after the heap's seal makes
 * one. */
int hal_flash_init(void)
{
    pthread_attr_t attr;
    int rc;

    if (syncer.up)
        return 0;
    syncer.go = eventfd(0, EFD_CLOEXEC);
    syncer.done = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (syncer.go < 0 || syncer.done < 0)
        goto fail;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, SYNCER_STACK);
    rc = pthread_create(&syncer.thread, &attr, syncer_main, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        goto fail;
    pthread_detach(syncer.thread);
    syncer.up = true;
    return 0;

fail:
    if (syncer.go >= 0)
        close(syncer.go);
    if (syncer.done >= 0)
        close(syncer.done);
    syncer.go = syncer.done = -1;
    return MG_ERR_IO;
}

int hal_flash_open(const char *path)
{
    struct stat st;
    uint32_t off;
    int rc;

    if (!path)
        return MG_ERR_INVAL;
    hal_flash_close();
    memset(&dev, 0, sizeof(dev));
    dev.fd = -1;
    memset(dev.erased, 0xFF, sizeof(dev.erased));

    dev.fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (dev.fd < 0)
        return MG_ERR_IO;
    if (fstat(dev.fd, &st) != 0) {
        rc = MG_ERR_IO;
        goto fail;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > (off_t)BOARD_FLASH_SIZE) {
        rc = MG_ERR_INVAL;
        goto fail;
    }
    if (st.st_size < (off_t)BOARD_FLASH_SIZE) {
        /* Creation writes only 0xFF: a short image holding anything else
         * was cut, and its missing tail would read as erased, as if the
         * records there had never been written. */
        rc = check_erased((uint32_t)st.st_size);
        if (rc)
            goto fail;
        off = (uint32_t)st.st_size;
        while (off < BOARD_FLASH_SIZE) {
            uint32_t n = BOARD_FLASH_SECTOR - off % BOARD_FLASH_SECTOR;
            rc = pwrite_all(dev.erased, n, off);
            if (rc)
                goto fail;
            off += n;
        }
        /* A fresh image must not come back short after a crash of the host. */
        if (fdatasync(dev.fd) != 0) {
            rc = MG_ERR_IO;
            goto fail;
        }
    }
    /* The size is checked above and the image is never truncated by us: a
     * mapping of the whole device stays valid while it is open. */
    dev.map = mmap(NULL, BOARD_FLASH_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, dev.fd, 0);
    if (dev.map == MAP_FAILED) {
        dev.map = NULL;
        rc = MG_ERR_IO;
        goto fail;
    }
    rc = hal_flash_init();
    if (rc) {
        munmap(dev.map, BOARD_FLASH_SIZE);
        dev.map = NULL;
        goto fail;
    }
    dev.powered = true;
    return 0;

fail:
    close(dev.fd);
    dev.fd = -1;
    return rc;
}

void hal_flash_close(void)
{
    (void)hal_flash_sync_poll(1);   /* the thread is not left syncing a closed fd */
    if (dev.map)
        munmap(dev.map, BOARD_FLASH_SIZE);
    dev.map = NULL;
    if (dev.fd >= 0)
        close(dev.fd);
    dev.fd = -1;
    dev.powered = false;
}

int hal_flash_read(uint32_t off, void *buf, size_t len)
{
    int rc;

    if ((!buf && len) || !in_range(off, len, BOARD_FLASH_SIZE))
        return MG_ERR_INVAL;
    rc = device_ready();
    if (rc)
        return rc;
    memcpy(buf, dev.map + off, len);
    dev.stats.reads++;
    return 0;
}

/* 0 if every byte of buf only clears bits of what the device holds at off. */
static int check_nor(uint32_t off, const uint8_t *buf, size_t len)
{
    const uint8_t *old = dev.map + off;
    uint64_t set = 0, a, b;
    size_t i = 0;

    /* A word at a time: records are kilobytes. */
    for (; len - i >= 8; i += 8) {
        memcpy(&a, buf + i, 8);
        memcpy(&b, old + i, 8);
        set |= a & ~b;
    }
    for (; i < len; i++)
        set |= (uint8_t)(buf[i] & ~old[i]);
    return set ? MG_ERR_INVAL : 0;
}

int hal_flash_program(uint32_t off, const void *buf, size_t len)
{
    int rc;

    if ((!buf && len) || !in_range(off, len, BOARD_FLASH_SIZE))
        return MG_ERR_INVAL;
    rc = device_ready();
    if (rc || len == 0)
        return rc;
    rc = check_nor(off, buf, len);
    if (rc == MG_ERR_INVAL)
        dev.stats.nor_violations++;
    if (rc)
        return rc;

    if (op_is_cut()) {
        if (dev.torn && len / 2 > 0) {
            memcpy(dev.map + off, buf, len / 2);
            dev.stats.programs++;
            dev.stats.bytes_programmed += len / 2;
        }
        return MG_ERR_IO;
    }
    memcpy(dev.map + off, buf, len);
    dev.stats.programs++;
    dev.stats.bytes_programmed += len;
    return 0;
}

int hal_flash_erase(uint32_t off, uint32_t len)
{
    uint32_t end;
    int rc;

    if (off % BOARD_FLASH_SECTOR || len % BOARD_FLASH_SECTOR ||
        !in_range(off, len, BOARD_FLASH_SIZE))
        return MG_ERR_INVAL;
    rc = device_ready();
    if (rc)
        return rc;
    for (end = off + len; off < end; off += BOARD_FLASH_SECTOR) {
        uint32_t sector = off / BOARD_FLASH_SECTOR;

        if (op_is_cut()) {
            if (dev.torn) {
                memset(dev.map + off, 0xFF, BOARD_FLASH_SECTOR / 2);
                dev.erase_counts[sector]++;
                dev.stats.erases++;
            }
            return MG_ERR_IO;
        }
        memset(dev.map + off, 0xFF, BOARD_FLASH_SECTOR);
        dev.erase_counts[sector]++;
        dev.stats.erases++;
    }
    return 0;
}

int hal_flash_sync(void)
{
    int rc = device_ready();

    if (rc)
        return rc;
    if (syncer.running) {
        /* Waits for its end without taking it: the result is its starter's. */
        struct pollfd p = { syncer.done, POLLIN, 0 };
        while (poll(&p, 1, -1) < 0 && errno == EINTR)
            ;
    }
    return fdatasync(dev.fd) == 0 ? 0 : MG_ERR_IO;
}

int hal_flash_sync_start(void)
{
    uint64_t one = 1;
    int rc = device_ready();

    if (rc)
        return rc;
    if (syncer.running)
        return MG_ERR_AGAIN;
    atomic_store(&syncer.fd, dev.fd);
    if (write(syncer.go, &one, sizeof(one)) != (ssize_t)sizeof(one))
        return MG_ERR_IO;
    syncer.running = true;
    return 0;
}

int hal_flash_sync_poll(int block)
{
    uint64_t v;

    if (!syncer.running)
        return MG_ERR_NOENT;
    for (;;) {
        if (read(syncer.done, &v, sizeof(v)) == (ssize_t)sizeof(v))
            break;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return MG_ERR_IO;
        if (!block)
            return MG_ERR_AGAIN;
        struct pollfd p = { syncer.done, POLLIN, 0 };
        (void)poll(&p, 1, -1);
    }
    syncer.running = false;
    return atomic_load(&syncer.result);
}

int hal_flash_sync_fd(void)
{
    return dev.map ? syncer.done : -1;
}

const struct hal_flash_part *hal_flash_part(const char *name)
{
    size_t i;

    if (!name)
        return NULL;
    for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (strcmp(parts[i].name, name) == 0)
            return &parts[i];
    }
    return NULL;
}

int hal_flash_part_read(const struct hal_flash_part *p, uint32_t off, void *buf, size_t len)
{
    if (!p || !in_range(off, len, p->size))
        return MG_ERR_INVAL;
    return hal_flash_read(p->off + off, buf, len);
}

int hal_flash_part_program(const struct hal_flash_part *p, uint32_t off, const void *buf,
                           size_t len)
{
    if (!p || !in_range(off, len, p->size))
        return MG_ERR_INVAL;
    return hal_flash_program(p->off + off, buf, len);
}

int hal_flash_part_erase(const struct hal_flash_part *p, uint32_t off, uint32_t len)
{
    if (!p || !in_range(off, len, p->size))
        return MG_ERR_INVAL;
    return hal_flash_erase(p->off + off, len);
}

uint32_t hal_flash_erase_count(uint32_t sector)
{
    return sector < HAL_FLASH_SECTORS ? dev.erase_counts[sector] : 0;
}

void hal_flash_stats(struct hal_flash_stats *out)
{
    *out = dev.stats;
}

unsigned long hal_flash_ops(void)
{
    return dev.ops;
}

void hal_flash_powercut_arm(unsigned long after_ops, int torn)
{
    dev.torn = torn != 0;
    if (after_ops == 0) {
        dev.powered = false;
        dev.cut_at = 0;
        return;
    }
    dev.cut_at = dev.ops + after_ops;
}

void hal_flash_powercut_disarm(void)
{
    dev.cut_at = 0;
    dev.torn = false;
    dev.powered = dev.map != NULL;
}
