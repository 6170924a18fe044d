/* lwIP options: NO_SYS=1, raw/altcp API only, every pool static and sized
 * from board.h (DESIGN.md sections 2 and 5). */
#ifndef MESHGATE_LWIPOPTS_H
#define MESHGATE_LWIPOPTS_H

#include "board.h"
#include "net/inet_sum.h"

/* Checksums: ours adds four bytes a step (firmware/net/inet_sum.c). */
#define LWIP_CHKSUM                 mg_inet_sum

/* Driven from the superloop: no OS, no threads, no sockets. */
#define NO_SYS                      1
#define SYS_LIGHTWEIGHT_PROT        0
#define LWIP_NETCONN                0
#define LWIP_SOCKET                 0
#define LWIP_TIMERS                 1

/* Memory: lwIP's own static heap and pools, never the C library's malloc. */
#define MEM_LIBC_MALLOC             0
#define MEMP_MEM_MALLOC             0
#define MEM_ALIGNMENT               8
#define MEM_SIZE                    (256 * 1024)
#define MEMP_NUM_PBUF               64
#define MEMP_NUM_TCP_PCB            (BOARD_HTTP_CONNS * 2 + 8)
#define MEMP_NUM_TCP_PCB_LISTEN     8
#define MEMP_NUM_TCP_SEG            512
#define MEMP_NUM_UDP_PCB            4
#define MEMP_NUM_SYS_TIMEOUT        (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 4)
#define PBUF_POOL_SIZE              256
#define PBUF_POOL_BUFSIZE           1536

/* Packets to the gateway's own address (a gateway that is also the
 * coordinator registers and heartbeats with itself) go through the netif's
 * loop queue, drained by netif_tap_poll(); bounded like every pool. */
#define LWIP_NETIF_LOOPBACK         1
#define LWIP_LOOPBACK_MAX_PBUFS     32

/* Protocols. */
#define LWIP_IPV4                   1
#define LWIP_IPV6                   0
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
#define LWIP_ICMP                   1
#define LWIP_UDP                    1
#define LWIP_DHCP                   1
#define LWIP_DNS                    0
#define LWIP_TCP                    1
#define LWIP_ALTCP                  1
#define LWIP_ALTCP_TLS              0
#define LWIP_SINGLE_NETIF           1
#define LWIP_NETIF_STATUS_CALLBACK  1
#define LWIP_NETIF_LINK_CALLBACK    1
#define LWIP_NETIF_HOSTNAME         1

/* TCP: room for a full HTTP body in flight per connection. */
#define TCP_MSS                     1460
#define TCP_WND                     (16 * TCP_MSS)
#define TCP_SND_BUF                 (16 * TCP_MSS)
#define TCP_SND_QUEUELEN            (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_LISTEN_BACKLOG          1
#define TCP_DEFAULT_LISTEN_BACKLOG  16

/* Statistics feed the `mem` console command (use and high-water per pool). */
#define LWIP_STATS                  1
#define LWIP_STATS_DISPLAY          1   /* gives each pool its name */
#define MEM_STATS                   1
#define MEMP_STATS                  1
#define LINK_STATS                  1

#endif
