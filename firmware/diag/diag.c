#include "diag.h"

#include <stdio.h>

#include "board.h"
#include "clock.h"
#include "flash.h"
#include "heap_guard.h"
#include "loop.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "net.h"
#include "net/http_server.h"
#include "net/netif_tap.h"
#include "pool.h"
#include "version.h"

static void loop_json(struct textbuf *b)
{
    const struct loop_stats *ls = loop_get_stats();
    int i;

    textbuf_printf(b, "\"loop\":{\"passes\":%llu,\"longestPassUs\":%llu,\"services\":[",
                   (unsigned long long)ls->passes, (unsigned long long)ls->longest_pass_us);
    for (i = 0; i < ls->n_services; i++)
        textbuf_printf(b, "%s{\"name\":\"%s\",\"longestPollUs\":%llu}", i ? "," : "",
                       ls->services[i].name,
                       (unsigned long long)ls->services[i].longest_poll_us);
    textbuf_printf(b, "]}");
}

void diag_each_pool(void (*fn)(const struct diag_pool *p, void *ctx), void *ctx)
{
    const struct pool_stat *p;
    struct diag_pool d;
    int i;

    for (p = pool_first(); p; p = pool_next(p)) {
        d = (struct diag_pool){ p->name, p->capacity, p->used, p->high_water, p->refused };
        fn(&d, ctx);
    }
#if MEMP_STATS
    for (i = 0; i < MEMP_MAX; i++) {
        const struct stats_mem *m = lwip_stats.memp[i];
        char name[32];
        if (!m)
            continue;
        snprintf(name, sizeof(name), "lwip.%s", m->name);
        d = (struct diag_pool){ name, m->avail, m->used, m->max, m->err };
        fn(&d, ctx);
    }
#else
    (void)i;
#endif
    d = (struct diag_pool){ "lwip.heap", lwip_stats.mem.avail, lwip_stats.mem.used,
                            lwip_stats.mem.max, lwip_stats.mem.err };
    fn(&d, ctx);
}

static void pool_json(const struct diag_pool *p, void *ctx)
{
    struct textbuf *b = ctx;

    textbuf_printf(b, "%s{\"name\":\"%s\",\"capacity\":%zu,\"used\":%zu,\"highWater\":%zu,"
                   "\"refused\":%lu}", b->len > 0 && b->p[b->len - 1] == '[' ? "" : ",",
                   p->name, p->capacity, p->used, p->high_water, p->refused);
}

static void pools_json(struct textbuf *b)
{
    textbuf_printf(b, "\"pools\":[");
    diag_each_pool(pool_json, b);
    textbuf_printf(b, "]");
}

/* PCBs per TCP state and lwIP's TCP drop counters: what a stalled listener
 * (SYN_RCVD or FIN_WAIT PCBs holding the pool, a full backlog) looks like. */
static void tcp_json(struct textbuf *b)
{
    static const char *const names[] = {
        "closed", "listen", "synSent", "synRcvd", "established", "finWait1", "finWait2",
        "closeWait", "closing", "lastAck", "timeWait",
    };
    unsigned counts[sizeof(names) / sizeof(names[0])] = { 0 };
    struct tcp_pcb *const *lists[] = { &tcp_active_pcbs, &tcp_tw_pcbs };
    const struct tcp_pcb_listen *l;
    const struct tcp_pcb *pcb;
    unsigned pending = 0;
    size_t i;

    for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        for (pcb = *lists[i]; pcb; pcb = pcb->next)
            if ((size_t)pcb->state < sizeof(names) / sizeof(names[0]))
                counts[pcb->state]++;
    for (l = tcp_listen_pcbs.listen_pcbs; l; l = l->next) {
        counts[LISTEN]++;
        pending += l->accepts_pending;
    }
    textbuf_printf(b, ",\"tcp\":{");
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        textbuf_printf(b, "\"%s\":%u,", names[i], counts[i]);
    textbuf_printf(b, "\"acceptsPending\":%u,\"drop\":%u,\"memErr\":%u,\"xmit\":%u}",
                   pending, (unsigned)lwip_stats.tcp.drop, (unsigned)lwip_stats.tcp.memerr,
                   (unsigned)lwip_stats.tcp.xmit);
}

/* Flash use since boot; the stores report their lifetime wear themselves. */
static void flash_json(struct textbuf *b)
{
    struct hal_flash_stats f;
    uint32_t sector, most = 0;

    hal_flash_stats(&f);
    for (sector = 0; sector < HAL_FLASH_SECTORS; sector++)
        if (hal_flash_erase_count(sector) > most)
            most = hal_flash_erase_count(sector);
    textbuf_printf(b, ",\"flash\":{\"programs\":%lu,\"bytesProgrammed\":%llu,\"erases\":%lu,"
                   "\"mostErasesOfASector\":%u,\"norViolations\":%lu}", f.programs,
                   (unsigned long long)f.bytes_programmed, f.erases, most, f.nor_violations);
}

void diag_firmware_json(struct textbuf *b)
{
    struct heap_stats hs;
    struct http_server_stats h;
    struct hal_net_stats n;

    heap_get_stats(&hs);
    http_server_get_stats(&h);
    hal_net_get_stats(&n);
    textbuf_printf(b, "{\"version\":\"%s\",\"board\":\"%s\",", MESHGATE_VERSION, BOARD_NAME);
    loop_json(b);
    textbuf_printf(b, ",\"heap\":{\"initCalls\":%lu,\"callsAfterSeal\":%lu,\"sealed\":%s},",
                   hs.init_calls, hs.calls_after_seal, hs.sealed ? "true" : "false");
    pools_json(b);
    textbuf_printf(b, ",\"http\":{\"accepted\":%lu,\"requests\":%lu,\"parseErrors\":%lu,"
                   "\"timeouts\":%lu,\"evicted\":%lu,\"refusedBusy\":%lu,\"active\":%zu,"
                   "\"highWater\":%zu,\"wsUpgrades\":%lu,\"wsMessages\":%lu,"
                   "\"wsErrors\":%lu}", h.accepted, h.requests, h.parse_errors, h.timeouts,
                   h.evicted, h.refused_busy, h.active, h.high_water, h.ws_upgrades,
                   h.ws_messages, h.ws_errors);
    tcp_json(b);
    textbuf_printf(b, ",\"net\":{\"rxFrames\":%lu,\"txFrames\":%lu,\"txDropped\":%lu,"
                   "\"rxDropped\":%lu}", n.rx_frames, n.tx_frames, n.tx_dropped,
                   netif_tap_rx_dropped());
    flash_json(b);
    textbuf_printf(b, "}");
}
