#include "http_server.h"

#include <stdio.h>
#include <string.h>

#include "board.h"
#include "clock.h"
#include "loop.h"
#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/tcp.h"
#include "mg_err.h"
#include "pool.h"

#define HTTP_RX_CAP (BOARD_HTTP_HDR_MAX + BOARD_HTTP_BODY_MAX)
#define HTTP_TX_CAP (16 * 1024)

enum conn_state { CONN_FREE, CONN_OPEN };

struct http_conn {
    enum conn_state state;
    struct altcp_pcb *pcb;
    struct http_listener *l;
    uint64_t last_activity_ms;
    uint64_t request_started_ms;   /* first byte of the request in progress */
    int close_after_send;
    int responded;                 /* the running handler has answered */
    size_t rx_len, tx_len;
    char rx[HTTP_RX_CAP];
    char tx[HTTP_TX_CAP];
};

static struct http_conn conns[BOARD_HTTP_CONNS];
POOL_DEFINE(http_conns, conns)

static struct http_server_stats stats;
static uint32_t head_timeout_ms = 10000, idle_timeout_ms = 30000;
/* A callback whose pcb was aborted under it must return ERR_ABRT. */
static struct altcp_pcb *aborted;

static const char busy_response[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    "Content-Length: 16\r\nConnection: close\r\n\r\n{\"error\":\"busy\"}";

static void conn_process(struct http_conn *c);

void http_server_set_timeouts(uint32_t head_ms, uint32_t idle_ms)
{
    head_timeout_ms = head_ms;
    idle_timeout_ms = idle_ms;
}

static void conn_release(struct http_conn *c)
{
    c->state = CONN_FREE;
    c->pcb = NULL;
    pool_give(&http_conns_pool);
    stats.active = http_conns_pool.used;
}

/* Unregisters the callbacks in mirror order of conn_open() and closes; a
 * close lwIP cannot do now (out of memory) becomes an abort. */
static void conn_close(struct http_conn *c)
{
    struct altcp_pcb *pcb = c->pcb;

    if (c->state != CONN_OPEN)
        return;
    altcp_err(pcb, NULL);
    altcp_sent(pcb, NULL);
    altcp_recv(pcb, NULL);
    altcp_arg(pcb, NULL);
    if (altcp_close(pcb) != ERR_OK) {
        altcp_abort(pcb);
        aborted = pcb;
    }
    conn_release(c);
}

static void conn_flush(struct http_conn *c)
{
    while (c->tx_len > 0) {
        size_t room = altcp_sndbuf(c->pcb), n = c->tx_len;
        err_t err;

        if (room == 0)
            break;
        if (n > room)
            n = room;
        err = altcp_write(c->pcb, c->tx, (u16_t)n, TCP_WRITE_FLAG_COPY);
        if (err == ERR_MEM) {
            stats.send_stalls++;   /* lwIP is out of segments: retry from poll */
            break;
        }
        if (err != ERR_OK) {
            conn_close(c);
            return;
        }
        memmove(c->tx, c->tx + n, c->tx_len - n);
        c->tx_len -= n;
    }
    altcp_output(c->pcb);
    if (c->tx_len == 0 && c->close_after_send)
        conn_close(c);
}

void http_respond(struct http_conn *c, int status, const char *type, const void *body,
                  size_t len)
{
    char head[256];
    int n;

    if (c->responded)
        return;
    c->responded = 1;
    n = snprintf(head, sizeof(head),
                 "HTTP/1.1 %d %s\r\n%s%s%sContent-Length: %zu\r\n%s\r\n", status,
                 http_status_text(status), type ? "Content-Type: " : "", type ? type : "",
                 type ? "\r\n" : "", len, c->close_after_send ? "Connection: close\r\n" : "");
    if (n < 0 || (size_t)n + len > sizeof(c->tx) - c->tx_len) {
        /* Every response the firmware makes fits; one that does not is a bug
         * in its handler, answered without its body. */
        static const char too_big[] =
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        c->close_after_send = 1;
        if (sizeof(too_big) - 1 <= sizeof(c->tx) - c->tx_len) {
            memcpy(c->tx + c->tx_len, too_big, sizeof(too_big) - 1);
            c->tx_len += sizeof(too_big) - 1;
        }
        return;
    }
    memcpy(c->tx + c->tx_len, head, (size_t)n);
    memcpy(c->tx + c->tx_len + (size_t)n, body, len);
    c->tx_len += (size_t)n + len;
}

void http_respond_json(struct http_conn *c, int status, const char *json)
{
    http_respond(c, status, "application/json", json, strlen(json));
}

void http_respond_error(struct http_conn *c, int status, const char *code)
{
    char body[128];
    int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", code);

    http_respond(c, status, "application/json", body, (size_t)n < sizeof(body) ? (size_t)n : 0);
}

void http_close_after_response(struct http_conn *c)
{
    c->close_after_send = 1;
}

static const char *status_code_name(int status)
{
    switch (status) {
    case 400: return "bad_request";
    case 408: return "request_timeout";
    case 411: return "length_required";
    case 413: return "payload_too_large";
    case 414: return "uri_too_long";
    case 431: return "headers_too_large";
    case 501: return "not_implemented";
    case 505: return "http_version_not_supported";
    default:  return "error";
    }
}

static void dispatch(struct http_conn *c, const struct http_request *req, const char *body)
{
    const struct http_listener *l = c->l;
    int path_known = 0;
    size_t i;

    for (i = 0; i < l->n_routes; i++) {
        const struct http_route *r = &l->routes[i];
        if (strlen(r->path) != req->path.len || memcmp(r->path, req->path.p, req->path.len) != 0)
            continue;
        path_known = 1;
        if (r->method == req->method) {
            r->handler(c, req, body, req->content_length);
            if (!c->responded)
                http_respond_error(c, 500, "no_response");
            return;
        }
    }
    if (path_known)
        http_respond_error(c, 405, "method_not_allowed");
    else
        http_respond_json(c, 404, l->not_found_json ? l->not_found_json
                                                    : "{\"error\":\"not_found\"}");
}

/* Answers every complete request in the buffer, in order, while the previous
 * answer has gone to TCP. */
static void conn_process(struct http_conn *c)
{
    while (c->state == CONN_OPEN && c->tx_len == 0 && c->rx_len > 0 && !c->close_after_send) {
        struct http_request req;
        int status = 0;
        int rc = http_parse_request(c->rx, c->rx_len, BOARD_HTTP_HDR_MAX, c->l->max_body, &req,
                                    &status);
        size_t total;

        if (rc == MG_ERR_AGAIN)
            return;
        c->responded = 0;
        if (rc < 0) {
            stats.parse_errors++;
            c->l->errors++;
            c->close_after_send = 1;
            c->rx_len = 0;
            http_respond_error(c, status ? status : 400, status_code_name(status));
            break;
        }
        total = req.head_len + (req.has_body_length ? req.content_length : 0);
        if (c->rx_len < total)
            return;   /* the body is still arriving */
        if (!req.keep_alive)
            c->close_after_send = 1;
        stats.requests++;
        c->l->requests++;
        dispatch(c, &req, c->rx + req.head_len);
        memmove(c->rx, c->rx + total, c->rx_len - total);
        c->rx_len -= total;
        c->request_started_ms = c->last_activity_ms;
        conn_flush(c);
    }
    if (c->state == CONN_OPEN && c->tx_len > 0)
        conn_flush(c);
}

static err_t on_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct http_conn *c = arg;

    if (!c) {   /* closing: lwIP still delivers what was in flight */
        if (p) {
            altcp_recved(pcb, p->tot_len);
            pbuf_free(p);
        }
        return ERR_OK;
    }
    if (!p || err != ERR_OK) {
        if (p)
            pbuf_free(p);
        aborted = NULL;
        conn_close(c);
        return aborted == pcb ? ERR_ABRT : ERR_OK;
    }
    if (p->tot_len > sizeof(c->rx) - c->rx_len) {
        /* Full of requests waiting for their answers to drain: lwIP keeps
         * the data and offers it again (TCP flow control does the rest). */
        return ERR_MEM;
    }
    pbuf_copy_partial(p, c->rx + c->rx_len, p->tot_len, 0);
    if (c->rx_len == 0)
        c->request_started_ms = hal_clock_ms();
    c->rx_len += p->tot_len;
    c->last_activity_ms = hal_clock_ms();
    altcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    aborted = NULL;
    conn_process(c);
    return aborted == pcb ? ERR_ABRT : ERR_OK;
}

static err_t on_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
    struct http_conn *c = arg;

    (void)len;
    aborted = NULL;
    if (c) {
        c->last_activity_ms = hal_clock_ms();
        conn_process(c);
    }
    return aborted == pcb ? ERR_ABRT : ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    struct http_conn *c = arg;

    (void)err;
    /* lwIP has already freed the pcb. */
    if (c && c->state == CONN_OPEN)
        conn_release(c);
}

static struct http_conn *oldest_idle(void)
{
    struct http_conn *best = NULL;
    size_t i;

    for (i = 0; i < BOARD_HTTP_CONNS; i++) {
        struct http_conn *c = &conns[i];
        if (c->state == CONN_OPEN && c->rx_len == 0 && c->tx_len == 0 &&
            (!best || c->last_activity_ms < best->last_activity_ms))
            best = c;
    }
    return best;
}

static struct http_conn *conn_alloc(void)
{
    size_t i;

    if (pool_take(&http_conns_pool) != 0) {
        struct http_conn *victim = oldest_idle();
        if (!victim)
            return NULL;
        stats.evicted++;
        conn_close(victim);
        if (pool_take(&http_conns_pool) != 0)
            return NULL;
    }
    for (i = 0; i < BOARD_HTTP_CONNS; i++) {
        if (conns[i].state == CONN_FREE)
            return &conns[i];
    }
    pool_give(&http_conns_pool);
    return NULL;
}

static err_t on_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct http_listener *l = arg;
    struct http_conn *c;

    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    c = conn_alloc();
    if (!c) {
        stats.refused_busy++;
        if (altcp_write(pcb, busy_response, sizeof(busy_response) - 1, 0) != ERR_OK ||
            altcp_close(pcb) != ERR_OK) {
            altcp_abort(pcb);
            return ERR_ABRT;
        }
        return ERR_OK;
    }
    stats.accepted++;
    stats.active = http_conns_pool.used;
    if (stats.active > stats.high_water)
        stats.high_water = stats.active;
    c->state = CONN_OPEN;
    c->pcb = pcb;
    c->l = l;
    c->rx_len = c->tx_len = 0;
    c->close_after_send = 0;
    c->last_activity_ms = c->request_started_ms = hal_clock_ms();
    altcp_nagle_disable(pcb);
    altcp_arg(pcb, c);
    altcp_recv(pcb, on_recv);
    altcp_sent(pcb, on_sent);
    altcp_err(pcb, on_err);
    return ERR_OK;
}

int http_listen(struct http_listener *l)
{
    struct altcp_pcb *pcb = altcp_tcp_new_ip_type(IPADDR_TYPE_V4), *lpcb;

    if (!pcb)
        return MG_ERR_NOSPC;
    if (l->max_body == 0 || l->max_body > BOARD_HTTP_BODY_MAX)
        l->max_body = BOARD_HTTP_BODY_MAX;
    altcp_setprio(pcb, TCP_PRIO_NORMAL);
    if (altcp_bind(pcb, IP_ANY_TYPE, l->port) != ERR_OK) {
        altcp_close(pcb);
        return MG_ERR_EXIST;
    }
    lpcb = altcp_listen_with_backlog(pcb, TCP_DEFAULT_LISTEN_BACKLOG);
    if (!lpcb) {
        altcp_close(pcb);
        return MG_ERR_NOSPC;
    }
    l->pcb = lpcb;
    altcp_arg(lpcb, l);
    altcp_accept(lpcb, on_accept);
    return 0;
}

/* Deadlines are absolute: the loop's `now` is taken before the pass, so a
 * connection accepted during the pass may be "younger" than now. */
static uint64_t conn_deadline(const struct http_conn *c)
{
    if (c->tx_len > 0 || c->rx_len == 0)
        return c->last_activity_ms + idle_timeout_ms;
    return c->request_started_ms + head_timeout_ms;
}

void http_server_poll(uint64_t now)
{
    size_t i;

    for (i = 0; i < BOARD_HTTP_CONNS; i++) {
        struct http_conn *c = &conns[i];

        if (c->state != CONN_OPEN)
            continue;
        if (c->tx_len > 0)
            conn_flush(c);
        if (c->state != CONN_OPEN || now < conn_deadline(c))
            continue;
        stats.timeouts++;
        if (c->tx_len > 0 || c->rx_len == 0) {
            conn_close(c);   /* idle, or the client stopped reading */
        } else {
            c->rx_len = 0;   /* slow client: a request never completed */
            c->responded = 0;
            c->close_after_send = 1;
            http_respond_error(c, 408, "request_timeout");
            conn_flush(c);
        }
    }
}

uint64_t http_server_next_deadline(uint64_t now)
{
    uint64_t due = UINT64_MAX;
    size_t i;

    for (i = 0; i < BOARD_HTTP_CONNS; i++) {
        const struct http_conn *c = &conns[i];
        uint64_t d;

        if (c->state != CONN_OPEN)
            continue;
        if (c->tx_len > 0)
            return now + 10;   /* retry a stalled send soon */
        d = conn_deadline(c);
        if (d < due)
            due = d;
    }
    return due;
}

void http_server_get_stats(struct http_server_stats *out)
{
    *out = stats;
    out->active = http_conns_pool.used;
}

const struct service http_service = {
    .name = "http", .poll = http_server_poll, .next_deadline = http_server_next_deadline,
};
