#include "http_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "console/console.h"
#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/ip_addr.h"
#include "lwip/tcp.h"
#include "mg_err.h"
#include "pool.h"

enum slot_state { SLOT_FREE, SLOT_ACTIVE, SLOT_DONE };

struct client_slot {
    enum slot_state state;
    struct altcp_pcb *pcb;
    int connected;
    uint64_t started_ms;
    uint32_t total_ms;               /* the request's whole budget */
    http_client_done done;
    void *ctx;
    struct http_client_result result;
    size_t req_len, req_sent;
    size_t resp_len, head_len;
    long content_length;             /* -1: until the server closes */
    char req[HTTP_CLIENT_REQ_MAX];
    char resp[HTTP_CLIENT_RESP_MAX + 1];
};

static struct client_slot slots[HTTP_CLIENT_SLOTS];
POOL_DEFINE(http_clients, slots)

static struct http_client_stats stats;
/* A callback whose pcb was aborted under it must return ERR_ABRT. */
static struct altcp_pcb *aborted;

/* Ends the exchange; the callback runs from the next poll, never from
 * inside http_client_start() or an lwIP callback. */
static void finish(struct client_slot *s, int rc, const char *why)
{
    struct altcp_pcb *pcb = s->pcb;

    if (s->state != SLOT_ACTIVE)
        return;
    s->pcb = NULL;
    s->state = SLOT_DONE;
    s->result.rc = rc;
    s->result.why = why;
    if (rc == 0) {
        s->result.body = s->resp + s->head_len;
        s->result.body_len = s->resp_len - s->head_len;
        s->resp[s->resp_len] = '\0';
    }
    if (!pcb)
        return;   /* lwIP already freed it (err callback) */
    altcp_arg(pcb, NULL);
    altcp_recv(pcb, NULL);
    altcp_sent(pcb, NULL);
    altcp_err(pcb, NULL);
    if (rc != 0 || altcp_close(pcb) != ERR_OK) {
        altcp_abort(pcb);
        aborted = pcb;
    }
}

static void send_more(struct client_slot *s)
{
    size_t room = altcp_sndbuf(s->pcb), n = s->req_len - s->req_sent;

    if (n > room)
        n = room;
    if (n == 0)
        return;
    if (altcp_write(s->pcb, s->req + s->req_sent, (u16_t)n, TCP_WRITE_FLAG_COPY) == ERR_OK) {
        s->req_sent += n;
        altcp_output(s->pcb);
    }
    /* ERR_MEM: lwIP is short of segments; on_sent or poll tries again. */
}

static int header_is(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);

    return len > n && strncasecmp(line, name, n) == 0 && line[n] == ':';
}

/* Parses the status line and the headers we need once the head is in. */
static int parse_head(struct client_slot *s, const char **why)
{
    const char *end = strstr(s->resp, "\r\n\r\n"), *line, *next;
    char *num_end;

    if (!end)
        return MG_ERR_AGAIN;
    s->head_len = (size_t)(end - s->resp) + 4;
    /* "HTTP/1.x NNN" then a space or the line end */
    if (s->head_len < 16 || strncmp(s->resp, "HTTP/1.", 7) != 0 || s->resp[8] != ' ' ||
        !(s->resp[9] >= '1' && s->resp[9] <= '5') ||
        (s->resp[12] != ' ' && s->resp[12] != '\r')) {
        *why = "not an HTTP/1.x response";
        return MG_ERR_INVAL;
    }
    s->result.status = (int)strtol(s->resp + 9, &num_end, 10);
    if (num_end != s->resp + 12) {
        *why = "bad status code";
        return MG_ERR_INVAL;
    }
    s->content_length = -1;
    for (line = strstr(s->resp, "\r\n") + 2; line < end; line = next + 2) {
        next = strstr(line, "\r\n");
        if (header_is(line, (size_t)(next - line), "content-length")) {
            const char *v = line + 15;
            while (*v == ' ' || *v == '\t')
                v++;
            s->content_length = strtol(v, &num_end, 10);
            if (num_end == v || s->content_length < 0) {
                *why = "bad Content-Length";
                return MG_ERR_INVAL;
            }
        } else if (header_is(line, (size_t)(next - line), "transfer-encoding")) {
            *why = "chunked responses are not supported";
            return MG_ERR_INVAL;
        }
    }
    return 0;
}

static void check_complete(struct client_slot *s)
{
    const char *why = NULL;
    int rc;

    if (!s->head_len) {
        rc = parse_head(s, &why);
        if (rc == MG_ERR_AGAIN)
            return;
        if (rc != 0) {
            finish(s, rc, why);
            return;
        }
    }
    if (s->content_length >= 0 && s->resp_len - s->head_len >= (size_t)s->content_length) {
        s->resp_len = s->head_len + (size_t)s->content_length;   /* ignore any excess */
        finish(s, 0, NULL);
    }
}

static err_t on_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct client_slot *s = arg;

    aborted = NULL;
    if (!s) {
        if (p)
            pbuf_free(p);
        return ERR_OK;
    }
    if (!p || err != ERR_OK) {
        if (p)
            pbuf_free(p);
        /* Closed by the server: that ends a body sent without a length. */
        if (s->head_len && s->content_length < 0)
            finish(s, 0, NULL);
        else
            finish(s, MG_ERR_IO, "connection closed before the response was complete");
        return aborted == pcb ? ERR_ABRT : ERR_OK;
    }
    if (p->tot_len > HTTP_CLIENT_RESP_MAX - s->resp_len) {
        pbuf_free(p);
        finish(s, MG_ERR_TOOBIG, "response larger than the client's buffer");
        return ERR_ABRT;
    }
    pbuf_copy_partial(p, s->resp + s->resp_len, p->tot_len, 0);
    s->resp_len += p->tot_len;
    s->resp[s->resp_len] = '\0';
    altcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    check_complete(s);
    return aborted == pcb ? ERR_ABRT : ERR_OK;
}

static err_t on_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
    struct client_slot *s = arg;

    (void)pcb;
    (void)len;
    if (s && s->state == SLOT_ACTIVE)
        send_more(s);
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    struct client_slot *s = arg;

    if (!s)
        return;
    s->pcb = NULL;   /* lwIP has freed it */
    finish(s, MG_ERR_IO, err == ERR_RST && !s->connected ? "connection refused"
                         : err == ERR_RST ? "connection reset" : "connection aborted");
}

static err_t on_connected(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct client_slot *s = arg;

    (void)pcb;
    if (!s || err != ERR_OK)
        return ERR_OK;
    s->connected = 1;
    send_more(s);
    return ERR_OK;
}

int http_client_start(const struct http_client_request *req, http_client_done done, void *ctx)
{
    struct client_slot *s = NULL;
    ip_addr_t ip;
    size_t i;
    int n;

    if (!req->path || req->path[0] != '/' || !ipaddr_aton(req->host, &ip) || !done)
        return MG_ERR_INVAL;
    for (i = 0; i < HTTP_CLIENT_SLOTS && !s; i++)
        if (slots[i].state == SLOT_FREE)
            s = &slots[i];
    if (!s || pool_take(&http_clients_pool) != 0)
        return MG_ERR_NOSPC;
    n = snprintf(s->req, sizeof(s->req),
                 "%s %s HTTP/1.1\r\nHost: %s:%u\r\nConnection: close\r\n%s%s%s"
                 "Content-Length: %zu\r\n\r\n", req->method, req->path, req->host, req->port,
                 req->content_type ? "Content-Type: " : "",
                 req->content_type ? req->content_type : "", req->content_type ? "\r\n" : "",
                 req->body_len);
    if (n < 0 || (size_t)n + (req->headers ? strlen(req->headers) : 0) + req->body_len >=
                     sizeof(s->req)) {
        pool_give(&http_clients_pool);
        return MG_ERR_TOOBIG;
    }
    if (req->headers) {
        /* Extra headers go before the blank line that ends the head. */
        size_t hl = strlen(req->headers);
        memmove(s->req + n - 2 + hl, s->req + n - 2, 2);
        memcpy(s->req + n - 2, req->headers, hl);
        n += (int)hl;
    }
    if (req->body_len)
        memcpy(s->req + n, req->body, req->body_len);
    s->pcb = altcp_tcp_new_ip_type(IPADDR_TYPE_V4);
    if (!s->pcb) {
        pool_give(&http_clients_pool);
        return MG_ERR_NOSPC;
    }
    s->state = SLOT_ACTIVE;
    s->connected = 0;
    s->started_ms = hal_clock_ms();
    s->total_ms = req->timeout_ms ? req->timeout_ms : HTTP_CLIENT_TOTAL_MS;
    s->done = done;
    s->ctx = ctx;
    memset(&s->result, 0, sizeof(s->result));
    s->req_len = (size_t)n + req->body_len;
    s->req_sent = s->resp_len = s->head_len = 0;
    s->resp[0] = '\0';
    stats.started++;
    altcp_arg(s->pcb, s);
    altcp_recv(s->pcb, on_recv);
    altcp_sent(s->pcb, on_sent);
    altcp_err(s->pcb, on_err);
    if (altcp_connect(s->pcb, &ip, req->port, on_connected) != ERR_OK)
        finish(s, MG_ERR_IO, "cannot start the connection");
    return 0;
}

int http_url_split(const char *url, char host[16], uint16_t *port, const char **path)
{
    const char *p = url + 7, *end;
    size_t n;
    unsigned long v = 80;

    if (strncmp(url, "http://", 7) != 0)
        return MG_ERR_INVAL;
    end = p + strcspn(p, ":/");
    n = (size_t)(end - p);
    if (n == 0 || n > 15)
        return MG_ERR_INVAL;
    memcpy(host, p, n);
    host[n] = '\0';
    if (*end == ':') {
        v = 0;
        for (end++; *end >= '0' && *end <= '9' && v <= 65535; end++)
            v = v * 10 + (unsigned long)(*end - '0');
        if (v == 0 || v > 65535)
            return MG_ERR_INVAL;
    }
    if (*end != '\0' && *end != '/')
        return MG_ERR_INVAL;
    *port = (uint16_t)v;
    *path = *end ? end : "/";
    return 0;
}

static void client_poll(uint64_t now)
{
    size_t i;

    for (i = 0; i < HTTP_CLIENT_SLOTS; i++) {
        struct client_slot *s = &slots[i];

        if (s->state == SLOT_ACTIVE) {
            if (!s->connected && now >= s->started_ms + HTTP_CLIENT_CONNECT_MS) {
                stats.timeouts++;
                finish(s, MG_ERR_TIMEOUT, "connect timed out after 5 s");
            } else if (now >= s->started_ms + s->total_ms) {
                stats.timeouts++;
                finish(s, MG_ERR_TIMEOUT, s->total_ms == HTTP_CLIENT_TOTAL_MS
                                              ? "no complete response within 15 s"
                                              : "no complete response in time");
            } else if (s->connected && s->req_sent < s->req_len) {
                send_more(s);
            }
        }
        if (s->state == SLOT_DONE) {
            if (s->result.rc == 0)
                stats.completed++;
            else
                stats.failed++;
            s->state = SLOT_FREE;   /* first: the callback may start another */
            pool_give(&http_clients_pool);
            s->done(s->ctx, &s->result);
        }
    }
}

static uint64_t client_next_deadline(uint64_t now)
{
    uint64_t due = LOOP_NO_DEADLINE;
    size_t i;

    for (i = 0; i < HTTP_CLIENT_SLOTS; i++) {
        const struct client_slot *s = &slots[i];
        uint64_t d;

        if (s->state == SLOT_DONE || (s->state == SLOT_ACTIVE && s->req_sent < s->req_len &&
                                      s->connected))
            return now;
        if (s->state != SLOT_ACTIVE)
            continue;
        d = s->started_ms + (s->connected || s->total_ms < HTTP_CLIENT_CONNECT_MS
                                 ? s->total_ms : HTTP_CLIENT_CONNECT_MS);
        if (d < due)
            due = d;
    }
    return due;
}

void http_client_get_stats(struct http_client_stats *out)
{
    *out = stats;
}

/* --- console: fetch -------------------------------------------------------- */

static void fetch_done(void *ctx, const struct http_client_result *r)
{
    (void)ctx;
    if (r->rc != 0)
        console_async_printf("fetch: failed: %s (%s)\n", r->why, mg_strerror(r->rc));
    else
        console_async_printf("fetch: %d, %zu bytes\n%.*s\n", r->status, r->body_len,
                             (int)(r->body_len > 400 ? 400 : r->body_len), r->body);
}

static void fetch_run(int argc, char **argv)
{
    char host[16];   /* http_client_start() copies it into the request */
    struct http_client_request req = { "GET", host, 80, "/", NULL, NULL, NULL, 0, 0 };
    const char *colon = argc >= 2 ? strchr(argv[1], ':') : NULL;
    size_t hl;
    int rc;

    if (argc < 2 || argc > 3) {
        console_printf("usage: fetch <ipv4>[:port] [/path]\n");
        return;
    }
    hl = colon ? (size_t)(colon - argv[1]) : strlen(argv[1]);
    if (hl >= sizeof(host)) {
        console_printf("fetch: not an IPv4 address: %s\n", argv[1]);
        return;
    }
    memcpy(host, argv[1], hl);
    host[hl] = '\0';
    if (colon) {
        char *end;
        unsigned long port = strtoul(colon + 1, &end, 10);
        if (*end || port == 0 || port > 65535) {
            console_printf("fetch: bad port: %s\n", colon + 1);
            return;
        }
        req.port = (uint16_t)port;
    }
    if (argc == 3)
        req.path = argv[2];
    rc = http_client_start(&req, fetch_done, NULL);
    if (rc != 0)
        console_printf("fetch: cannot start: %s\n", mg_strerror(rc));
    else
        console_printf("fetch: GET http://%s:%u%s\n", host, req.port, req.path);
}

static const struct console_cmd commands[] = {
    { "fetch", "<ipv4>[:port] [/path]", "GET a URL with the firmware's HTTP client", fetch_run },
};

const struct service http_client_service = {
    .name = "httpc",
    .poll = client_poll,
    .next_deadline = client_next_deadline,
    .commands = commands,
    .n_commands = sizeof(commands) / sizeof(commands[0]),
};
