#include "http_server.h"

#include <stdio.h>
#include <string.h>

#include "board.h"
#include "clock.h"
#include "diag/textbuf.h"
#include "loop.h"
#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/tcp.h"
#include "mg_err.h"
#include "pool.h"

#define HTTP_RX_CAP (BOARD_HTTP_HDR_MAX + BOARD_HTTP_BODY_MAX)
#define HTTP_TX_CAP (16 * 1024)
#define HTTP_HEAD_MAX 384          /* a response's status line and headers */
/* In WebSocket mode the receive buffer holds the message being assembled;
 * its last WS_STASH bytes keep frames that came with the upgrade request. */
#define WS_STASH 1024
/* A WebSocket may sit quiet far longer than a keep-alive connection; past
 * this without a byte either way it is dropped. */
#define WS_IDLE_MS (5 * 60 * 1000)

enum conn_state { CONN_FREE, CONN_OPEN };
enum conn_mode { MODE_HTTP, MODE_WS };

struct http_conn {
    enum conn_state state;
    enum conn_mode mode;
    struct altcp_pcb *pcb;
    struct http_listener *l;
    void *user;
    const struct ws_handler *ws_h;
    uint16_t ws_close_code;        /* told to on_close; 1006 if the TCP side ended */
    int ws_closing;                /* our close frame is queued: send nothing more */
    struct ws_reader ws;
    uint64_t last_activity_ms;
    uint64_t request_started_ms;   /* first byte of the request in progress */
    int close_after_send;
    int responded;                 /* the running handler has answered */
    int deferred;                  /* its answer comes later (http_defer) */
    uint32_t gen;                  /* counts the clients this slot has served */
    /* A borrowed body (http_respond_borrowed) still to be moved into tx. */
    const char *lent;
    size_t lent_len, lent_off;
    void (*lent_done)(void *ctx);
    void *lent_ctx;
    size_t rx_len, tx_len;
    char rx[HTTP_RX_CAP];
    char tx[HTTP_TX_CAP];
};

static struct http_conn conns[BOARD_HTTP_CONNS];
POOL_DEFINE(http_conns, conns)

static struct http_server_stats stats;
static uint32_t head_timeout_ms = 10000, idle_timeout_ms = 30000;
/* A walk of the table touches every slot: the poll walks it when a
 * deadline may be due (at most SCAN_EVERY_MS apart: a new request's
 * timeout may then be that late) or a flush left bytes queued, not on
 * every pass. */
#define SCAN_EVERY_MS 100
static uint64_t scan_due;
static int send_stalled;
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

/* Ends a borrowed body's loan: its owner may reuse the memory. */
static void conn_return_lent(struct http_conn *c)
{
    void (*done)(void *) = c->lent_done;

    c->lent = NULL;
    c->lent_done = NULL;
    if (done)
        done(c->lent_ctx);
}

/* Once the send buffer has drained, moves the next part of a borrowed
 * body into it; the last part returns the loan. */
static void conn_refill(struct http_conn *c)
{
    size_t n;

    if (c->tx_len != 0 || !c->lent)
        return;
    n = c->lent_len - c->lent_off;
    if (n > sizeof(c->tx))
        n = sizeof(c->tx);
    memcpy(c->tx, c->lent + c->lent_off, n);
    c->tx_len = n;
    c->lent_off += n;
    if (c->lent_off == c->lent_len)
        conn_return_lent(c);
}

static void conn_release(struct http_conn *c)
{
    const struct ws_handler *h = c->ws_h;

    conn_return_lent(c);

    if (c->mode == MODE_WS && h) {
        c->ws_h = NULL;   /* once, and no sending from inside on_close */
        c->ws_closing = 1;
        if (h->on_close)
            h->on_close(c, c->ws_close_code);
    }
    c->state = CONN_FREE;
    c->pcb = NULL;
    c->deferred = 0;
    c->gen++;   /* a deferred answer for the old client finds it gone */
    pool_give(&http_conns_pool);
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
    /* A closing PCB lingers in FIN_WAIT; the lowest priority lets lwIP
     * reclaim it when a new SYN finds every PCB taken. */
    altcp_setprio(pcb, TCP_PRIO_MIN);
    if (altcp_close(pcb) != ERR_OK) {
        altcp_abort(pcb);
        aborted = pcb;
    }
    conn_release(c);
}

static void conn_flush(struct http_conn *c)
{
    conn_refill(c);
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
        conn_refill(c);
    }
    altcp_output(c->pcb);
    if (c->tx_len > 0)
        send_stalled = 1;
    if (c->tx_len == 0 && c->close_after_send && !c->deferred)
        conn_close(c);
}

void http_respond(struct http_conn *c, int status, const char *type, const void *body,
                  size_t len)
{
    http_respond_with(c, status, NULL, type, body, len);
}

/* Queues a response head announcing len body bytes, and the body's first
 * inline bytes (the whole body, or none when it is borrowed); 0, or -1 when
 * it did not fit (a 500 went instead) or the handler had answered. */
static int queue_response(struct http_conn *c, int status, const char *headers,
                          const char *type, size_t len, const void *inline_body,
                          size_t inline_len)
{
    char head[HTTP_HEAD_MAX];
    struct textbuf h;

    if (c->responded)
        return -1;
    c->responded = 1;
    /* Pieces, not snprintf: formatting this head was a few percent of the
     * relay's CPU per message. */
    textbuf_init(&h, head, sizeof(head));
    textbuf_puts(&h, "HTTP/1.1 ");
    textbuf_u64(&h, (uint64_t)status);
    textbuf_puts(&h, " ");
    textbuf_puts(&h, http_status_text(status));
    textbuf_puts(&h, "\r\n");
    if (headers)
        textbuf_puts(&h, headers);
    if (type) {
        textbuf_puts(&h, "Content-Type: ");
        textbuf_puts(&h, type);
        textbuf_puts(&h, "\r\n");
    }
    textbuf_puts(&h, "Content-Length: ");
    textbuf_u64(&h, len);
    textbuf_puts(&h, c->close_after_send ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n");
    if (h.overflow || h.len + inline_len > sizeof(c->tx) - c->tx_len) {
        /* Every response the firmware makes fits; one that does not is a bug
         * in its handler, answered without its body. */
        static const char too_big[] =
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        c->close_after_send = 1;
        if (sizeof(too_big) - 1 <= sizeof(c->tx) - c->tx_len) {
            memcpy(c->tx + c->tx_len, too_big, sizeof(too_big) - 1);
            c->tx_len += sizeof(too_big) - 1;
        }
        return -1;
    }
    memcpy(c->tx + c->tx_len, head, h.len);
    if (inline_len)
        memcpy(c->tx + c->tx_len + h.len, inline_body, inline_len);
    c->tx_len += h.len + inline_len;
    return 0;
}

void http_respond_with(struct http_conn *c, int status, const char *headers, const char *type,
                       const void *body, size_t len)
{
    (void)queue_response(c, status, headers, type, len, body, len);
}

void http_respond_borrowed(struct http_conn *c, int status, const char *type, const void *body,
                           size_t len, void (*done)(void *ctx), void *ctx)
{
    /* What fits with its head is copied at once. */
    if (c->tx_len + HTTP_HEAD_MAX + len <= sizeof(c->tx)) {
        http_respond(c, status, type, body, len);
        if (done)
            done(ctx);
        return;
    }
    if (queue_response(c, status, NULL, type, len, NULL, 0) != 0) {
        if (done)
            done(ctx);
        return;
    }
    c->lent = body;
    c->lent_len = len;
    c->lent_off = 0;
    c->lent_done = done;
    c->lent_ctx = ctx;
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

struct http_deferred http_defer(struct http_conn *c)
{
    struct http_deferred d = { c, c->gen };

    c->responded = 1;
    c->deferred = 1;
    return d;
}

int http_respond_deferred(struct http_deferred d, int status, const char *type, const void *body,
                          size_t len)
{
    struct http_conn *c = d.c;

    if (!c || c->state != CONN_OPEN || c->gen != d.gen || !c->deferred)
        return MG_ERR_NOENT;
    c->deferred = 0;
    c->responded = 0;
    http_respond(c, status, type, body, len);
    c->last_activity_ms = hal_clock_ms();
    conn_process(c);   /* sends it, then reads what was pipelined behind */
    return 0;
}

void http_close_after_response(struct http_conn *c)
{
    c->close_after_send = 1;
}

void http_conn_set_user(struct http_conn *c, void *user)
{
    c->user = user;
}

void *http_conn_user(const struct http_conn *c)
{
    return c->user;
}

/* --- WebSocket mode ------------------------------------------------------ */

/* Queues one frame; MG_ERR_NOSPC if the send buffer cannot take it whole. */
static int ws_queue(struct http_conn *c, uint8_t opcode, const void *data, size_t len)
{
    uint8_t head[10];
    size_t n = ws_frame_header(head, opcode, 1, len);

    if (n + len > sizeof(c->tx) - c->tx_len)
        return MG_ERR_NOSPC;
    memcpy(c->tx + c->tx_len, head, n);
    if (len)
        memcpy(c->tx + c->tx_len + n, data, len);
    c->tx_len += n + len;
    return 0;
}

int ws_send(struct http_conn *c, int opcode, const void *data, size_t len)
{
    int rc;

    if (c->state != CONN_OPEN || c->mode != MODE_WS || c->ws_closing ||
        (opcode != WS_OP_TEXT && opcode != WS_OP_BINARY))
        return MG_ERR_INVAL;
    rc = ws_queue(c, (uint8_t)opcode, data, len);
    if (rc == 0)
        conn_flush(c);
    return rc;
}

void ws_close(struct http_conn *c, uint16_t code, const char *reason)
{
    uint8_t payload[WS_CONTROL_MAX];
    size_t n;

    if (c->state != CONN_OPEN || c->mode != MODE_WS || c->ws_closing)
        return;
    n = ws_close_payload(payload, code, reason);
    c->ws_closing = 1;
    c->ws_close_code = code;
    c->close_after_send = 1;
    if (ws_queue(c, WS_OP_CLOSE, payload, n) != 0)
        c->tx_len = 0;   /* no room even for the close: just end it */
    conn_flush(c);
}

/* Runs the reader over received bytes and acts on each event. */
static void ws_input(struct http_conn *c, const uint8_t *in, size_t len)
{
    while (c->state == CONN_OPEN && !c->ws_closing) {
        struct ws_event ev;
        size_t used = 0;

        ws_reader_feed(&c->ws, in, len, &used, &ev);
        in += used;
        len -= used;
        switch (ev.type) {
        case WS_EV_NONE:
            return;
        case WS_EV_TEXT:
        case WS_EV_BINARY:
            stats.ws_messages++;
            c->ws_h->on_message(c, ev.type == WS_EV_TEXT ? WS_OP_TEXT : WS_OP_BINARY,
                                ev.data, ev.len);
            break;
        case WS_EV_PING:
            if (ws_queue(c, WS_OP_PONG, ev.data, ev.len) != 0) {
                ws_close(c, WS_CLOSE_POLICY, "not reading");
                return;
            }
            conn_flush(c);
            break;
        case WS_EV_PONG:
            break;
        case WS_EV_CLOSE:
            /* Echo the peer's code (section 5.5.1); none given, none sent. */
            ws_close(c, ev.code, NULL);
            return;
        case WS_EV_ERROR:
            stats.ws_errors++;
            ws_close(c, ev.code, ev.code == WS_CLOSE_TOO_BIG ? "message too big" : NULL);
            return;
        }
    }
}

int http_upgrade_websocket(struct http_conn *c, const struct http_request *req,
                           const struct ws_handler *h)
{
    const struct http_str *key = http_header_get(req, "Sec-WebSocket-Key");
    const struct http_str *ver = http_header_get(req, "Sec-WebSocket-Version");
    char accept[WS_ACCEPT_LEN + 1], head[160];
    size_t cap = HTTP_RX_CAP - WS_STASH;
    int n;

    /* The client meant to leave HTTP: a refused upgrade ends the connection. */
    c->close_after_send = 1;
    if (!req->websocket_upgrade) {
        http_respond_error(c, 426, "upgrade_required");
        return MG_ERR_INVAL;
    }
    if (!ver || ver->len != 2 || memcmp(ver->p, "13", 2) != 0) {
        http_respond_error(c, 426, "unsupported_websocket_version");
        return MG_ERR_INVAL;
    }
    if (!key || ws_accept_key(key->p, key->len, accept) != 0) {
        http_respond_error(c, 400, "bad_websocket_key");
        return MG_ERR_INVAL;
    }
    n = snprintf(head, sizeof(head), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
    memcpy(c->tx + c->tx_len, head, (size_t)n);
    c->tx_len += (size_t)n;
    c->responded = 1;
    c->close_after_send = 0;
    c->mode = MODE_WS;
    c->ws_h = h;
    if (h->max_message && h->max_message < cap)
        cap = h->max_message;
    ws_reader_init(&c->ws, (uint8_t *)c->rx, cap, 1);
    stats.ws_upgrades++;
    return 0;
}

/* Frames that arrived with the upgrade request (a client should have
 * waited for the 101) are kept in the stash and read first. */
static void ws_begin(struct http_conn *c)
{
    uint8_t *stash = (uint8_t *)c->rx + HTTP_RX_CAP - WS_STASH;
    size_t left = c->rx_len;

    c->rx_len = 0;
    conn_flush(c);
    if (c->state != CONN_OPEN || left == 0)
        return;
    if (left > WS_STASH) {
        ws_close(c, WS_CLOSE_PROTOCOL, "frames before the handshake");
        return;
    }
    memmove(stash, c->rx, left);
    ws_input(c, stash, left);
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
        size_t n = strlen(r->path);
        /* A path ending in a star matches every path it begins. */
        int prefix = n > 0 && r->path[n - 1] == '*';
        if (prefix ? req->path.len < n || memcmp(r->path, req->path.p, n - 1) != 0
                   : n != req->path.len || memcmp(r->path, req->path.p, n) != 0)
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
    while (c->state == CONN_OPEN && c->mode == MODE_HTTP && c->tx_len == 0 && c->rx_len > 0 &&
           !c->close_after_send && !c->deferred) {
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
        if (c->mode == MODE_WS) {
            ws_begin(c);
            return;
        }
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
    if (c->mode == MODE_WS) {
        struct pbuf *q;

        c->last_activity_ms = hal_clock_ms();
        altcp_recved(pcb, p->tot_len);
        aborted = NULL;
        for (q = p; q && c->state == CONN_OPEN; q = q->next)
            ws_input(c, q->payload, q->len);
        pbuf_free(p);
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
        if (c->mode == MODE_WS)
            conn_flush(c);
        else
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
        if (c->state == CONN_OPEN && c->mode == MODE_HTTP && c->rx_len == 0 && c->tx_len == 0 &&
            !c->deferred && (!best || c->last_activity_ms < best->last_activity_ms))
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
        altcp_setprio(pcb, TCP_PRIO_MIN);
        if (altcp_write(pcb, busy_response, sizeof(busy_response) - 1, 0) != ERR_OK ||
            altcp_close(pcb) != ERR_OK) {
            altcp_abort(pcb);
            return ERR_ABRT;
        }
        return ERR_OK;
    }
    stats.accepted++;
    c->state = CONN_OPEN;
    c->pcb = pcb;
    c->l = l;
    c->rx_len = c->tx_len = 0;
    c->close_after_send = 0;
    c->mode = MODE_HTTP;
    c->user = NULL;
    c->ws_h = NULL;
    c->ws_closing = 0;
    c->ws_close_code = WS_CLOSE_ABNORMAL;
    c->last_activity_ms = c->request_started_ms = hal_clock_ms();
    if (scan_due > c->last_activity_ms + SCAN_EVERY_MS)
        scan_due = c->last_activity_ms + SCAN_EVERY_MS;   /* walked from now on */
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
    if (c->mode == MODE_WS)
        return c->last_activity_ms + (c->tx_len > 0 ? idle_timeout_ms : WS_IDLE_MS);
    if (c->tx_len > 0 || c->rx_len == 0)
        return c->last_activity_ms + idle_timeout_ms;
    return c->request_started_ms + head_timeout_ms;
}

void http_server_poll(uint64_t now)
{
    uint64_t due = UINT64_MAX;   /* no connection: none to time out */
    size_t i;

    if (!send_stalled && now < scan_due)
        return;
    send_stalled = 0;
    for (i = 0; i < BOARD_HTTP_CONNS; i++) {
        struct http_conn *c = &conns[i];
        uint64_t d;

        if (c->state != CONN_OPEN)
            continue;
        if (c->tx_len > 0)
            conn_flush(c);
        if (c->state != CONN_OPEN)
            continue;
        d = conn_deadline(c);
        if (now < d) {
            if (c->tx_len > 0 && now + 10 < d)
                d = now + 10;   /* a stalled send: tried again soon */
            if (now + SCAN_EVERY_MS < d)
                d = now + SCAN_EVERY_MS;
            if (d < due)
                due = d;
            continue;
        }
        stats.timeouts++;
        if (c->mode == MODE_WS || c->tx_len > 0 || c->rx_len == 0) {
            conn_close(c);   /* idle, or the client stopped reading */
        } else {
            c->rx_len = 0;   /* slow client: a request never completed */
            c->responded = 0;
            c->close_after_send = 1;
            http_respond_error(c, 408, "request_timeout");
            conn_flush(c);
        }
    }
    scan_due = due;
}

uint64_t http_server_next_deadline(uint64_t now)
{
    if (send_stalled)
        return now + 10;   /* retry a stalled send soon */
    return scan_due;
}

void http_server_get_stats(struct http_server_stats *out)
{
    *out = stats;
    /* The pool keeps both counts; they are not copied into stats. */
    out->active = http_conns_pool.used;
    out->high_water = http_conns_pool.high_water;
}

const struct service http_service = {
    .name = "http", .poll = http_server_poll, .next_deadline = http_server_next_deadline,
};
