/* The network device on Linux: a TAP. Frames are sent as a NIC's transmit
 * DMA sends them: hal_net_send() copies a frame into a ring of fixed slots
 * and returns, and a thread of this module (made at the first open, before
 * the heap is sealed) writes the ring to the TAP. A write to a TAP runs the
 * receiving side's whole network stack in the writer's context: that work
 * is the wire's, not the loop's. Frames leave in the order they were
 * given; a full ring drops the frame, as a busy wire would. */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "mg_err.h"
#include "pool.h"

#define TX_SLOTS 256                 /* a power of two; bursts of 111 were seen */
#define TX_STACK (64u * 1024u)

static int tap_fd = -1;
static struct hal_net_stats stats;   /* the receive side's and drops; the loop's */
static char error[128];

/* The transmit ring: the loop fills at head, the thread sends at tail. The
 * thread sleeps on wake once the ring is empty, saying so in idle first;
 * the loop kicks it when it sees idle after adding a frame. */
static struct {
    uint16_t len;
    uint8_t data[HAL_NET_FRAME_MAX];
} tx_slot[TX_SLOTS];   /* apart from tx: zero-filled (bss), not in the image */
/* Slots holding frames not yet written, as of the last hal_net_send(); a
 * refusal is a frame dropped on a full ring. */
POOL_DEFINE(net_tx, tx_slot)
static struct {
    atomic_uint head, tail;
    atomic_int idle, fd;
    atomic_ulong frames, bytes, errors, dropped;   /* kept by the thread */
    int wake;                                      /* eventfd; -1 before the thread */
    bool up;
} tx = { .wake = -1 };

static void *tx_main(void *arg)
{
    uint64_t v;

    (void)arg;
    for (;;) {
        unsigned tail = atomic_load(&tx.tail);
        ssize_t n;

        if (tail == atomic_load(&tx.head)) {
            atomic_store(&tx.idle, 1);
            if (tail == atomic_load(&tx.head) &&
                read(tx.wake, &v, sizeof(v)) < 0 && errno != EINTR)
                break;
            atomic_store(&tx.idle, 0);
            continue;
        }
        n = write(atomic_load(&tx.fd), tx_slot[tail % TX_SLOTS].data,
                  tx_slot[tail % TX_SLOTS].len);
        if (n >= 0) {
            atomic_fetch_add(&tx.frames, 1);
            atomic_fetch_add(&tx.bytes, (unsigned long)n);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            atomic_fetch_add(&tx.dropped, 1);
        } else {
            atomic_fetch_add(&tx.errors, 1);
        }
        atomic_store(&tx.tail, tail + 1);
    }
    return NULL;
}

/* Once per process, at the first open: the thread sends on whatever device
 * is open, so no later open makes one. */
static int tx_start(void)
{
    pthread_attr_t attr;
    int rc;

    if (tx.up)
        return 0;
    tx.wake = eventfd(0, EFD_CLOEXEC);
    if (tx.wake < 0) {
        snprintf(error, sizeof(error), "transmit thread: eventfd: %s", strerror(errno));
        return MG_ERR_IO;
    }
    atomic_store(&tx.idle, 1);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, TX_STACK);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&(pthread_t){ 0 }, &attr, tx_main, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        snprintf(error, sizeof(error), "transmit thread: %s", strerror(rc));
        close(tx.wake);
        tx.wake = -1;
        return MG_ERR_IO;
    }
    tx.up = true;
    return 0;
}

/* Until the thread sent everything and sleeps (at most about a second:
 * a write to a TAP does not block). */
static void tx_drain(void)
{
    const struct timespec pause = { 0, 100000 };
    int i;

    for (i = 0; tx.up && i < 10000; i++) {
        if (atomic_load(&tx.tail) == atomic_load(&tx.head) && atomic_load(&tx.idle))
            return;
        nanosleep(&pause, NULL);
    }
}

int hal_net_open(const char *ifname)
{
    struct ifreq ifr;

    tap_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (tap_fd < 0) {
        snprintf(error, sizeof(error), "/dev/net/tun: %s", strerror(errno));
        return MG_ERR_IO;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    if (ioctl(tap_fd, TUNSETIFF, &ifr) < 0) {
        snprintf(error, sizeof(error), "TUNSETIFF %s: %s", ifname, strerror(errno));
        close(tap_fd);
        tap_fd = -1;
        return MG_ERR_IO;
    }
    if (tx_start() != 0) {
        close(tap_fd);
        tap_fd = -1;
        return MG_ERR_IO;
    }
    atomic_store(&tx.fd, tap_fd);
    return 0;
}

int hal_net_recv(void *buf, size_t cap)
{
    ssize_t n;

    if (tap_fd < 0)
        return MG_ERR_IO;
    n = read(tap_fd, buf, cap);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return 0;
        stats.rx_errors++;
        return MG_ERR_IO;
    }
    stats.rx_frames++;
    stats.rx_bytes += (unsigned long)n;
    return (int)n;
}

int hal_net_send(const void *frame, size_t len)
{
    unsigned head;
    uint64_t one = 1;

    if (tap_fd < 0)
        return MG_ERR_IO;
    if (len > HAL_NET_FRAME_MAX)
        return MG_ERR_INVAL;
    head = atomic_load(&tx.head);
    pool_set_used(&net_tx_pool, head - atomic_load(&tx.tail));
    if (pool_take(&net_tx_pool) != 0) {
        stats.tx_dropped++;
        return MG_ERR_AGAIN;
    }
    memcpy(tx_slot[head % TX_SLOTS].data, frame, len);
    tx_slot[head % TX_SLOTS].len = (uint16_t)len;
    atomic_store(&tx.head, head + 1);
    /* Read after the store: the thread either sees this frame or said
     * idle before looking, and is woken. */
    if (atomic_load(&tx.idle) && write(tx.wake, &one, sizeof(one)) < 0)
        return MG_ERR_IO;
    return 0;
}

int hal_net_fd(void)
{
    return tap_fd;
}

const char *hal_net_error(void)
{
    return error;
}

void hal_net_get_stats(struct hal_net_stats *out)
{
    *out = stats;
    out->tx_frames = atomic_load(&tx.frames);
    out->tx_bytes = atomic_load(&tx.bytes);
    out->tx_errors = atomic_load(&tx.errors);
    out->tx_dropped += atomic_load(&tx.dropped);
}

void hal_net_close(void)
{
    tx_drain();   /* the thread is not left writing to a closed descriptor */
    if (tap_fd >= 0)
        close(tap_fd);
    tap_fd = -1;
}
