#include "netif_tap.h"

#include <string.h>

#include "diag/log.h"
#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/ip4_addr.h"
#include "lwip/pbuf.h"
#include "mg_err.h"
#include "net.h"
#include "netif/ethernet.h"

static struct netif tap_netif;
static int started;
static unsigned long rx_dropped;

static err_t tap_linkoutput(struct netif *n, struct pbuf *p)
{
    static uint8_t frame[HAL_NET_FRAME_MAX];
    const void *data = p->payload;

    (void)n;
    if (p->tot_len > sizeof(frame))
        return ERR_BUF;
    /* A chained pbuf is gathered into one frame; a single one goes as is. */
    if (p->next) {
        pbuf_copy_partial(p, frame, p->tot_len, 0);
        data = frame;
    }
    /* A full device drops the frame, as a busy wire would: TCP retransmits. */
    return hal_net_send(data, p->tot_len) == MG_ERR_IO ? ERR_IF : ERR_OK;
}

static err_t tap_netif_init(struct netif *n)
{
    n->name[0] = 'm';
    n->name[1] = 'g';
    n->output = etharp_output;
    n->linkoutput = tap_linkoutput;
    n->mtu = 1500;
    n->hwaddr_len = ETH_HWADDR_LEN;
    n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    return ERR_OK;
}

/* Says when the address changes: DHCP's lease, or the static one. */
static void on_status(struct netif *n)
{
    char ip[16], mask[16], gw[16];

    log_printf("net: %c%c%u %s, address %s netmask %s gateway %s%s", n->name[0], n->name[1],
               n->num, netif_is_up(n) ? "up" : "down",
               ip4addr_ntoa_r(netif_ip4_addr(n), ip, sizeof(ip)),
               ip4addr_ntoa_r(netif_ip4_netmask(n), mask, sizeof(mask)),
               ip4addr_ntoa_r(netif_ip4_gw(n), gw, sizeof(gw)),
               dhcp_supplied_address(n) ? " (dhcp)" : "");
}

int netif_tap_start(const struct netif_tap_config *cfg)
{
    ip4_addr_t ip, mask, gw;
    int rc = hal_net_open(cfg->ifname);

    if (rc != 0)
        return rc;
    ip4_addr_set_zero(&ip);
    ip4_addr_set_zero(&mask);
    ip4_addr_set_zero(&gw);
    if (cfg->ip && (!ip4addr_aton(cfg->ip, &ip) || !ip4addr_aton(cfg->netmask, &mask) ||
                    !ip4addr_aton(cfg->gateway, &gw)))
        return MG_ERR_INVAL;
    memcpy(tap_netif.hwaddr, cfg->mac, ETH_HWADDR_LEN);
    if (!netif_add(&tap_netif, &ip, &mask, &gw, NULL, tap_netif_init, ethernet_input))
        return MG_ERR_IO;
    netif_set_default(&tap_netif);
    netif_set_status_callback(&tap_netif, on_status);
    netif_set_up(&tap_netif);
    netif_set_link_up(&tap_netif);
    if (!cfg->ip && dhcp_start(&tap_netif) != ERR_OK)
        return MG_ERR_IO;
    started = 1;
    return 0;
}

void netif_tap_poll(void)
{
    int i;

    if (!started)
        return;
    netif_poll(&tap_netif);   /* what we sent to ourselves */
    for (i = 0; i < NETIF_RX_BATCH; i++) {
        struct pbuf *p = pbuf_alloc(PBUF_RAW, HAL_NET_FRAME_MAX, PBUF_POOL);
        int n;

        if (!p) {
            /* No pbuf: read and drop one frame so the device keeps moving. */
            static uint8_t sink[HAL_NET_FRAME_MAX];
            if (hal_net_recv(sink, sizeof(sink)) <= 0)
                return;
            rx_dropped++;
            continue;
        }
        /* PBUF_POOL_BUFSIZE holds a whole frame: one pbuf, read in place. */
        n = p->next ? MG_ERR_INVAL : hal_net_recv(p->payload, p->len);
        if (n <= 0) {
            pbuf_free(p);
            return;
        }
        pbuf_realloc(p, (u16_t)n);
        if (tap_netif.input(p, &tap_netif) != ERR_OK)
            pbuf_free(p);
    }
}

struct netif *netif_tap_get(void)
{
    return &tap_netif;
}

int netif_tap_loop_pending(void)
{
    return started && tap_netif.loop_first != NULL;
}

unsigned long netif_tap_rx_dropped(void)
{
    return rx_dropped;
}
