/* meshgate firmware: init (may allocate), seal the heap, run the superloop
 * (DESIGN.md section 1).
 *
 *   meshgate [-t tapdev] [-a ip|dhcp] [-T head_ms,idle_ms]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board.h"
#include "crypto.h"
#include "heap_guard.h"
#include "loop.h"
#include "lwip/init.h"
#include "mg_err.h"
#include "net.h"
#include "net/http_server.h"
#include "net/netif_tap.h"
#include "relay/relay.h"
#include "version.h"
#include "wait.h"

static void usage(void)
{
    fprintf(stderr, "usage: meshgate [-t tapdev] [-a ip|dhcp] [-T head_ms,idle_ms]\n");
}

int main(int argc, char **argv)
{
    struct netif_tap_config net = {
        BOARD_TAP_NAME, { 0x02, 0x4d, 0x47, 0x00, 0x00, 0x02 },
        BOARD_IP_ADDR, BOARD_IP_NETMASK, BOARD_IP_GATEWAY,
    };
    struct heap_stats hs;
    const char *failed = "";
    unsigned long head_ms, idle_ms;
    int opt, rc;

    while ((opt = getopt(argc, argv, "t:a:T:h")) != -1) {
        switch (opt) {
        case 't':
            net.ifname = optarg;
            break;
        case 'a':
            net.ip = strcmp(optarg, "dhcp") == 0 ? NULL : optarg;
            break;
        case 'T':
            if (sscanf(optarg, "%lu,%lu", &head_ms, &idle_ms) != 2) {
                usage();
                return 2;
            }
            http_server_set_timeouts((uint32_t)head_ms, (uint32_t)idle_ms);
            break;
        default:
            usage();
            return 2;
        }
    }

    printf("meshgate %s board %s (%s)\n", MESHGATE_VERSION, BOARD_NAME, BOARD_ARCH);
    rc = mg_crypto_init();
    if (rc != 0) {
        printf("init: crypto: %s\n", mg_strerror(rc));
        return 1;
    }
    lwip_init();
    rc = netif_tap_start(&net);
    if (rc != 0) {
        printf("init: network %s: %s (%s)\n", net.ifname, mg_strerror(rc), hal_net_error());
        return 1;
    }
    hal_wait_add_fd(hal_net_fd());
    loop_add(&http_service);
    loop_add(&relay_service);
    rc = loop_init_services(&failed);
    if (rc != 0) {
        printf("init: service %s: %s\n", failed, mg_strerror(rc));
        return 1;
    }
    heap_seal();
    heap_get_stats(&hs);
    printf("init: %s up at %s, %lu heap calls during init, heap sealed\n", net.ifname,
           net.ip ? net.ip : "dhcp", hs.init_calls);
    fflush(stdout);
    loop_run();
    return 0;
}
