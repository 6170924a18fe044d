/* meshgate firmware: init (may allocate), seal the heap, run the superloop
 * (DESIGN.md section 1).
 *
 *   meshgate [-t tapdev] [-a ip|dhcp] [-m mac] [-c uart|none]
 *            [-T head_ms,idle_ms] [-f flash.img] [-k device.key]
 *
 * -m gives the netif's MAC (aa:bb:cc:dd:ee:ff); gateways sharing a link
 * need their own (the board's default is one fixed address).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board.h"
#include "confsync/confsync.h"
#include "console/console_service.h"
#include "coord/coord.h"
#include "crypto.h"
#include "diag/log.h"
#include "diag/system.h"
#include "flash.h"
#include "heap_guard.h"
#include "heartbeat/heartbeat.h"
#include "keys/keys_service.h"
#include "keystore.h"
#include "loop.h"
#include "lwip/init.h"
#include "mg_err.h"
#include "net.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/netif_tap.h"
#include "node/node.h"
#include "peer/peer.h"
#include "relay/relay.h"
#include "repl/repl.h"
#include "signal_session.h"
#include "sys.h"
#include "telemetry/telemetry.h"
#include "uart.h"
#include "version.h"
#include "wait.h"

/* Exit status asking the supervisor (make run, the test harness, an init
 * system) to start us again when re-executing ourselves is not possible. */
#define EXIT_REBOOT 3

static void usage(void)
{
    fprintf(stderr, "usage: meshgate [-t tapdev] [-a ip|dhcp] [-m mac] [-c uart|none] "
                    "[-T head_ms,idle_ms] [-f flash.img] [-k device.key]\n");
}

static void on_signal(int sig)
{
    (void)sig;
    loop_stop();
}

/* Services in poll order; the console last, so its init registers every
 * other service's commands. Telemetry registers with the relay and names
 * itself after the node, so it comes after both. */
static const struct service *const services[] = {
    &keys_service, &http_service, &http_client_service, &relay_service, &confsync_service,
    &coord_service, &node_service, &heartbeat_service, &peer_service, &repl_service,
    &telemetry_service, &system_service, &console_service,
};

/* "aa:bb:cc:dd:ee:ff" into mac: 0, or -1 for anything else, a multicast
 * address included (it cannot be a station's). */
static int parse_mac(const char *text, uint8_t mac[6])
{
    unsigned b[6];
    char end;
    int i;

    if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
               &end) != 6 || strlen(text) != 17 || (b[0] & 1))
        return -1;
    for (i = 0; i < 6; i++)
        mac[i] = (uint8_t)b[i];
    return 0;
}

static int reboot(char **argv)
{
    hal_uart_close();
    hal_net_close();
    execv("/proc/self/exe", argv);
    /* Under qemu-user the image is not a host executable. */
    fprintf(stderr, "reboot: cannot re-execute (%s); exiting for the supervisor\n",
            strerror(errno));
    return EXIT_REBOOT;
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
    size_t i;
    int opt, rc;

    while ((opt = getopt(argc, argv, "t:a:m:c:T:f:k:h")) != -1) {
        switch (opt) {
        case 't':
            net.ifname = optarg;
            break;
        case 'a':
            net.ip = strcmp(optarg, "dhcp") == 0 ? NULL : optarg;
            break;
        case 'm':
            if (parse_mac(optarg, net.mac) != 0) {
                fprintf(stderr, "meshgate: -m %s: not a unicast MAC (aa:bb:cc:dd:ee:ff)\n", optarg);
                return 2;
            }
            break;
        case 'c':
            console_service_set_path(strcmp(optarg, "none") == 0 ? NULL : optarg);
            break;
        case 'f':
            keys_set_flash_path(optarg);
            break;
        case 'k':
            hal_sys_set_secret_path(optarg);
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

    log_printf("meshgate %s board %s (%s)", MESHGATE_VERSION, BOARD_NAME, BOARD_ARCH);
    rc = mg_crypto_init();
    if (rc != 0) {
        log_printf("init: crypto: %s", mg_strerror(rc));
        return 1;
    }
    /* The flash's background sync (a thread) is made now, before the seal. */
    rc = hal_flash_init();
    if (rc != 0) {
        log_printf("init: flash: %s", mg_strerror(rc));
        return 1;
    }
    keys_boot();
    /* libsignal's contexts are made now, before the seal; without the
     * Signal keys the firmware runs on, with no Signal sessions. */
    rc = keystore_status() == KS_OK ? signal_session_init() : MG_ERR_PERM;
    if (rc != 0)
        log_printf("init: signal: %s (no Signal sessions)", mg_strerror(rc));
    lwip_init();
    rc = netif_tap_start(&net);
    if (rc != 0) {
        log_printf("init: network %s: %s (%s)", net.ifname, mg_strerror(rc), hal_net_error());
        return 1;
    }
    hal_wait_add_fd(hal_net_fd());
    /* The end of a background flash sync wakes the loop: the journal's
     * group commit answers its deposits then. */
    if (hal_flash_sync_fd() >= 0)
        hal_wait_add_fd(hal_flash_sync_fd());
    for (i = 0; i < sizeof(services) / sizeof(services[0]); i++)
        loop_add(services[i]);
    rc = loop_init_services(&failed);
    if (rc != 0) {
        log_printf("init: service %s: %s", failed, mg_strerror(rc));
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    heap_seal();
    heap_get_stats(&hs);
    log_printf("init: %s up at %s, %lu heap calls during init, heap sealed", net.ifname,
               net.ip ? net.ip : "dhcp", hs.init_calls);
    loop_run();
    if (loop_reboot_requested())
        return reboot(argv);
    hal_uart_close();
    hal_net_close();
    return 0;
}
