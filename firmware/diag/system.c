#include "system.h"

#include <stdlib.h>

#include "board.h"
#include "clock.h"
#include "console/console.h"
#include "diag.h"
#include "heap_guard.h"
#include "keystore.h"
#include "log.h"
#include "lwip/ip4_addr.h"
#include "loop.h"
#include "net.h"
#include "net/http_server.h"
#include "net/netif_tap.h"
#include "sysinfo.h"
#include "version.h"

static void print_uptime(const char *label, uint64_t ms)
{
    uint64_t s = ms / 1000;

    console_printf("%-10s %llud %02u:%02u:%02u\n", label, (unsigned long long)(s / 86400),
                   (unsigned)(s / 3600 % 24), (unsigned)(s / 60 % 60), (unsigned)(s % 60));
}

static void status_run(int argc, char **argv)
{
    const struct loop_stats *ls = loop_get_stats();
    struct netif *nif = netif_tap_get();
    struct heap_stats hs;
    struct hal_sysinfo_load load;
    struct hal_sysinfo_mem mem;
    struct hal_sysinfo_self self;
    char ip[16], utc[CLOCK_UTC_LEN];
    int i;

    (void)argc;
    (void)argv;
    heap_get_stats(&hs);
    console_printf("meshgate   %s, board %s (%s)\n", MESHGATE_VERSION, BOARD_NAME, BOARD_ARCH);
    print_uptime("uptime", hal_clock_ms() - ls->started_ms);
    clock_format_utc(hal_clock_wall_ms(), utc);
    console_printf("clock      %s\n", utc);
    console_printf("address    %s (%s)\n", ip4addr_ntoa_r(netif_ip4_addr(nif), ip, sizeof(ip)),
                   netif_is_link_up(nif) ? "link up" : "link down");
    console_printf("heap       %s, %lu calls during init, %lu after seal\n",
                   hs.sealed ? "sealed" : "open", hs.init_calls, hs.calls_after_seal);
    if (hal_sysinfo_load(&load) == 0 && hal_sysinfo_mem(&mem) == 0 &&
        hal_sysinfo_self(&self) == 0)
        console_printf("host       load %u.%02u, %llu of %llu kB available, firmware RSS %llu kB "
                       "(peak %llu)\n", (unsigned)(load.avg1_x100 / 100),
                       (unsigned)(load.avg1_x100 % 100), (unsigned long long)mem.available_kb,
                       (unsigned long long)mem.total_kb, (unsigned long long)self.rss_kb,
                       (unsigned long long)self.hwm_kb);
    console_printf("services  ");
    for (i = 0; i < loop_service_count(); i++)
        console_printf(" %s%s", loop_service(i)->name,
                       loop_get_stats()->services[i].started ? "" : "(not started)");
    console_printf("\n");
}

static void net_run(int argc, char **argv)
{
    struct netif *nif = netif_tap_get();
    struct hal_net_stats n;
    struct http_server_stats h;
    char a[16], m[16], g[16];
    const uint8_t *mac = nif->hwaddr;

    (void)argc;
    (void)argv;
    hal_net_get_stats(&n);
    http_server_get_stats(&h);
    console_printf("%c%c%u  %s  mtu %u  mac %02x:%02x:%02x:%02x:%02x:%02x\n", nif->name[0],
                   nif->name[1], nif->num, netif_is_up(nif) ? "up" : "down", nif->mtu, mac[0],
                   mac[1], mac[2], mac[3], mac[4], mac[5]);
    console_printf("  inet %s  netmask %s  gateway %s\n",
                   ip4addr_ntoa_r(netif_ip4_addr(nif), a, sizeof(a)),
                   ip4addr_ntoa_r(netif_ip4_netmask(nif), m, sizeof(m)),
                   ip4addr_ntoa_r(netif_ip4_gw(nif), g, sizeof(g)));
    console_printf("  rx %lu frames %lu bytes, %lu dropped (no pbuf), %lu errors\n", n.rx_frames,
                   n.rx_bytes, netif_tap_rx_dropped(), n.rx_errors);
    console_printf("  tx %lu frames %lu bytes, %lu dropped, %lu errors\n", n.tx_frames,
                   n.tx_bytes, n.tx_dropped, n.tx_errors);
    console_printf("http: %zu open (high %zu), %lu accepted, %lu requests, %lu bad, "
                   "%lu timeouts, %lu evicted, %lu refused busy\n", h.active, h.high_water,
                   h.accepted, h.requests, h.parse_errors, h.timeouts, h.evicted,
                   h.refused_busy);
}

static void pool_line(const struct diag_pool *p, void *ctx)
{
    (void)ctx;
    console_printf("%-22s %8zu %8zu %8zu %8lu\n", p->name, p->capacity, p->used, p->high_water,
                   p->refused);
}

static void mem_run(int argc, char **argv)
{
    struct heap_stats hs;

    (void)argc;
    (void)argv;
    console_printf("%-22s %8s %8s %8s %8s\n", "pool", "size", "used", "high", "refused");
    diag_each_pool(pool_line, NULL);
    heap_get_stats(&hs);
    console_printf("heap: %s, %lu calls during init, %lu after seal\n",
                   hs.sealed ? "sealed" : "open", hs.init_calls, hs.calls_after_seal);
}

static void loop_run_cmd(int argc, char **argv)
{
    const struct loop_stats *ls = loop_get_stats();
    int i;

    (void)argc;
    (void)argv;
    console_printf("passes %llu, longest pass %llu us\n", (unsigned long long)ls->passes,
                   (unsigned long long)ls->longest_pass_us);
    console_printf("%-10s %14s %14s\n", "service", "longest us", "mean us");
    for (i = 0; i < ls->n_services; i++) {
        const struct loop_service_stats *s = &ls->services[i];
        const struct ks_key_info *k = keystore_key_info(s->missing_key);
        if (!s->started) {
            console_printf("%-10s not started: key %s not present\n", s->name,
                           k ? k->name : "?");
            continue;
        }
        console_printf("%-10s %14llu %14llu\n", s->name, (unsigned long long)s->longest_poll_us,
                       (unsigned long long)(ls->passes ? s->total_poll_us / ls->passes : 0));
    }
}

static void log_line_out(const char *s, size_t n)
{
    console_write(s, n);
}

static void log_run(int argc, char **argv)
{
    struct log_stats st;
    char *end;
    unsigned long n = 0;

    if (argc > 2 || (argc == 2 && ((n = strtoul(argv[1], &end, 10)) == 0 || *end))) {
        console_printf("log: expected a line count, e.g. `log 20`\n");
        return;
    }
    log_get_stats(&st);
    log_replay(n, log_line_out);
    console_printf("(%lu lines logged, %zu held, %lu pushed out)\n", st.lines, st.held,
                   st.dropped);
}

static void reboot_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    log_printf("console: reboot");
    loop_reboot();
}

static void halt_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    log_printf("console: halt");
    loop_stop();
}

static const struct console_cmd commands[] = {
    { "status", "", "firmware, uptime, clock, address, heap, services", status_run },
    { "net", "", "interface, addresses, frame and HTTP counters", net_run },
    { "mem", "", "every fixed pool: size, used, high-water; heap calls", mem_run },
    { "loop", "", "superloop passes and the slowest service polls", loop_run_cmd },
    { "log", "[lines]", "recent log lines (all, or the last N)", log_run },
    { "reboot", "", "restart the firmware (flash is kept, RAM is not)", reboot_run },
    { "halt", "", "stop the firmware", halt_run },
};

const struct service system_service = {
    .name = "system",
    .commands = commands,
    .n_commands = sizeof(commands) / sizeof(commands[0]),
};
