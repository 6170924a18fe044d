/* lwIP's network interface over the HAL's raw frames (hal/net.h). */
#ifndef NETIF_TAP_H
#define NETIF_TAP_H

#include <stdint.h>

#include "lwip/netif.h"

/* Frames read per loop pass at most: bounds the time one pass spends on
 * input, so a flood cannot starve the services. */
#define NETIF_RX_BATCH 64

struct netif_tap_config {
    const char *ifname;
    uint8_t mac[6];
    const char *ip, *netmask, *gateway;   /* NULL ip: DHCP */
};

/* Opens the device and brings the interface up (after lwip_init()). */
int netif_tap_start(const struct netif_tap_config *cfg);

/* Moves at most NETIF_RX_BATCH waiting frames into lwIP, and the packets
 * sent to our own address. */
void netif_tap_poll(void);

/* Packets to our own address wait for the next netif_tap_poll(): the loop
 * must not sleep. */
int netif_tap_loop_pending(void);

struct netif *netif_tap_get(void);

/* Frames dropped because lwIP's pbuf pool was empty. */
unsigned long netif_tap_rx_dropped(void);

#endif
