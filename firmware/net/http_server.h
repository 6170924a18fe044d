/* One HTTP/1.1 server engine on lwIP's altcp API serving several listeners,
 * each with its own route table (DESIGN.md section 5). Connections come from
 * a fixed pool (BOARD_HTTP_CONNS); each owns a receive buffer for one request
 * head and body and a send buffer for responses. Requests on a connection are
 * answered in order (pipelining safe): the next one is parsed only once the
 * previous response has been handed to TCP.
 *
 * When the pool is full, the oldest idle keep-alive connection is closed to
 * make room; if none is idle, the new one gets 503 {"error":"busy"}. */
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "http_parse.h"
#include "loop.h"
#include "ws.h"

struct http_conn;

/* A handler answers with exactly one http_respond*() call before it returns;
 * req and body point into the connection's buffer and are valid only until
 * then. */
typedef void (*http_handler)(struct http_conn *c, const struct http_request *req,
                             const char *body, size_t body_len);

struct http_route {
    enum http_method method;
    const char *path;             /* exact, or a prefix when it ends in '*' */
    http_handler handler;
};

struct http_listener {
    const char *name;
    uint16_t port;
    const struct http_route *routes;
    size_t n_routes;
    size_t max_body;              /* bytes; at most BOARD_HTTP_BODY_MAX */
    const char *not_found_json;   /* body for unknown paths; NULL: {"error":"not_found"} */
    /* kept by the server */
    struct altcp_pcb *pcb;
    unsigned long requests, errors;
};

struct http_server_stats {
    unsigned long accepted, requests, parse_errors, timeouts;
    unsigned long evicted, refused_busy, send_stalls;
    unsigned long ws_upgrades, ws_messages, ws_errors;
    size_t active, high_water;
};

/* Timeouts (ms): a request head and body must arrive within head_ms of its
 * first byte (slow clients); an idle keep-alive connection is closed after
 * idle_ms. */
void http_server_set_timeouts(uint32_t head_ms, uint32_t idle_ms);

/* Starts listening on l->port; l must live as long as the firmware. */
int http_listen(struct http_listener *l);

/* Queues a complete response. type NULL: no body type. */
void http_respond(struct http_conn *c, int status, const char *type, const void *body,
                  size_t len);
/* The same with extra header lines (each ending "\r\n"; at most ~200 bytes
 * in all), e.g. "Retry-After: 30\r\n". */
void http_respond_with(struct http_conn *c, int status, const char *headers, const char *type,
                       const void *body, size_t len);
/* A body larger than the connection's send buffer (16 KiB), left in the
 * caller's memory: the head is queued now and the body moved into the send
 * buffer piece by piece as TCP takes it. body must stay unchanged until
 * done(ctx) (may be NULL) is called: once its last byte has been queued, or
 * the connection has closed, or at once when it fits the send buffer now
 * (it is then copied like http_respond's). Not for deferred answers. */
void http_respond_borrowed(struct http_conn *c, int status, const char *type, const void *body,
                           size_t len, void (*done)(void *ctx), void *ctx);
/* A JSON body (a complete JSON text). */
void http_respond_json(struct http_conn *c, int status, const char *json);
/* {"error":"<code>"}, code being a JSON-safe literal. */
void http_respond_error(struct http_conn *c, int status, const char *code);
/* A handler that can only answer later (a deposit waits for the flash's
 * group commit) calls http_defer() instead of answering, and keeps the
 * ticket; req and body are gone when it returns, so it copies what it needs.
 * The connection reads no further request (pipelined ones wait) and is
 * never evicted as idle until http_respond_deferred() answers: 0, or
 * MG_ERR_NOENT when the client went away meanwhile (nothing is sent). */
struct http_deferred {
    struct http_conn *c;
    uint32_t gen;
};
struct http_deferred http_defer(struct http_conn *c);
int http_respond_deferred(struct http_deferred d, int status, const char *type, const void *body,
                          size_t len);

/* Closes the connection after this response. */
void http_close_after_response(struct http_conn *c);

/* Per-connection state a service attaches (cleared when the connection is
 * given to a new client). */
void http_conn_set_user(struct http_conn *c, void *user);
void *http_conn_user(const struct http_conn *c);

/* --- WebSocket (RFC 6455) on a server connection ---------------------------
 *
 * A route handler for a GET that should become a WebSocket calls
 * http_upgrade_websocket() instead of http_respond(). Afterwards the
 * connection reads masked client frames: fragments are reassembled, pings are
 * answered, text is checked to be UTF-8, and every complete message reaches
 * on_message. A protocol fault, an oversize message or a peer's close ends
 * the connection with the right close code; on_close is then called once. */
struct ws_handler {
    void (*on_message)(struct http_conn *c, int opcode, const uint8_t *data, size_t len);
    void (*on_close)(struct http_conn *c, uint16_t code);   /* may be NULL */
    size_t max_message;   /* bytes; 0 or more than the connection holds: what it holds */
};

/* Answers the handshake: 101 with the accept key, or an error response
 * (426 upgrade_required without an Upgrade: websocket request, 400
 * bad_websocket_key, 426 unsupported_websocket_version) and 0 / an MG_ERR_*
 * code. h must outlive the connection. */
int http_upgrade_websocket(struct http_conn *c, const struct http_request *req,
                           const struct ws_handler *h);

/* Queues one whole message (WS_OP_TEXT or WS_OP_BINARY). MG_ERR_NOSPC when
 * the connection's send buffer cannot take it now (nothing is queued);
 * MG_ERR_INVAL when the connection is not an open WebSocket. */
int ws_send(struct http_conn *c, int opcode, const void *data, size_t len);

/* Sends a close frame and closes the connection once it has gone. */
void ws_close(struct http_conn *c, uint16_t code, const char *reason);

/* Timeouts and stalled sends; called from the loop. */
void http_server_poll(uint64_t now);
uint64_t http_server_next_deadline(uint64_t now);

void http_server_get_stats(struct http_server_stats *out);

/* The loop service running http_server_poll(). */
extern const struct service http_service;

#endif
