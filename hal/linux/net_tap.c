#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mg_err.h"

static int tap_fd = -1;
static struct hal_net_stats stats;
static char error[128];

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
    ssize_t n;

    if (tap_fd < 0)
        return MG_ERR_IO;
    n = write(tap_fd, frame, len);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            stats.tx_dropped++;
            return MG_ERR_AGAIN;
        }
        stats.tx_errors++;
        return MG_ERR_IO;
    }
    stats.tx_frames++;
    stats.tx_bytes += (unsigned long)n;
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
}

void hal_net_close(void)
{
    if (tap_fd >= 0)
        close(tap_fd);
    tap_fd = -1;
}
