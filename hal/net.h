/* The network interface: raw Ethernet frames in and out, never blocking.
 * On Linux this is a TAP device; the firmware is its own node on it. */
#ifndef HAL_NET_H
#define HAL_NET_H

#include <stddef.h>

#define HAL_NET_FRAME_MAX 1518

struct hal_net_stats {
    unsigned long rx_frames, tx_frames, rx_bytes, tx_bytes;
    unsigned long tx_dropped;   /* the device would have blocked */
    unsigned long rx_errors, tx_errors;
};

/* Attaches to the interface ifname (created by the caller, e.g. `ip tuntap
 * add`); 0, or MG_ERR_IO with a message on stderr-free failure reasons kept
 * for hal_net_error(). */
int hal_net_open(const char *ifname);

/* Reads one frame into buf; its length, 0 when none is waiting, or
 * MG_ERR_IO. A frame longer than cap is dropped and counted. */
int hal_net_recv(void *buf, size_t cap);

/* Sends one frame; 0, or MG_ERR_AGAIN when the device is full (the frame is
 * dropped and counted, as a wire would), MG_ERR_IO on error. */
int hal_net_send(const void *frame, size_t len);

/* The descriptor the loop waits on, or -1 when closed. */
int hal_net_fd(void);

/* Why hal_net_open() failed, as the OS said it. */
const char *hal_net_error(void);

void hal_net_get_stats(struct hal_net_stats *out);
void hal_net_close(void);

#endif
