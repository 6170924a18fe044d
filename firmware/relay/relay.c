#include "relay.h"

#include <string.h>

#include "board.h"
#include "clock.h"
#include "diag/diag.h"
#include "net/http_server.h"

static uint64_t started_ms;

static void health(struct http_conn *c, const struct http_request *req, const char *body,
                   size_t len)
{
    (void)req;
    (void)body;
    (void)len;
    http_respond(c, 200, "text/plain", "ok", 2);
}

/* The relay's /diagnostics document (PROTOCOLS.md) with the firmware's
 * figures under "firmware"; NULL if it outgrew its buffer. */
static const char *diagnostics_json(size_t *len)
{
    static char out[12 * 1024];
    struct http_server_stats h;
    struct textbuf b;

    http_server_get_stats(&h);
    textbuf_init(&b, out, sizeof(out));
    textbuf_printf(&b, "{\"uptimeSec\":%llu,\"counts\":{\"users\":0,\"prekeys\":0,"
                   "\"queuedMessages\":0,\"activeConnections\":%zu},"
                   "\"queueDepthHistogram\":{\"0\":0,\"1-5\":0,\"6-20\":0,\"21+\":0},"
                   "\"metrics\":null,\"firmware\":",
                   (unsigned long long)((hal_clock_ms() - started_ms) / 1000), h.active);
    diag_firmware_json(&b);
    textbuf_printf(&b, "}");
    *len = b.len;
    return b.overflow ? NULL : out;
}

static void diagnostics(struct http_conn *c, const struct http_request *req, const char *body,
                        size_t len)
{
    size_t n;
    const char *json = diagnostics_json(&n);

    (void)req;
    (void)body;
    (void)len;
    if (!json)
        http_respond_error(c, 500, "diagnostics_too_large");
    else
        http_respond(c, 200, "application/json", json, n);
}

/* Live diagnostics over one WebSocket: each text message "diagnostics" is
 * answered with the same document as GET /diagnostics. */
static void live_message(struct http_conn *c, int opcode, const uint8_t *data, size_t len)
{
    static const char unknown[] = "{\"error\":\"unknown_request\"}";
    const char *json;
    size_t n;

    if (opcode != WS_OP_TEXT) {
        ws_close(c, WS_CLOSE_UNSUPPORTED, "text requests only");
        return;
    }
    if (len != 11 || memcmp(data, "diagnostics", 11) != 0) {
        ws_send(c, WS_OP_TEXT, unknown, sizeof(unknown) - 1);
        return;
    }
    json = diagnostics_json(&n);
    if (!json || ws_send(c, WS_OP_TEXT, json, n) != 0)
        ws_close(c, WS_CLOSE_INTERNAL, "diagnostics unavailable");
}

static const struct ws_handler live_ws = { live_message, NULL, 1024 };

static void diagnostics_live(struct http_conn *c, const struct http_request *req,
                             const char *body, size_t len)
{
    (void)body;
    (void)len;
    http_upgrade_websocket(c, req, &live_ws);
}

static const struct http_route routes[] = {
    { HTTP_GET, "/health", health },
    { HTTP_GET, "/diagnostics", diagnostics },
    { HTTP_GET, "/diagnostics/live", diagnostics_live },
};

static struct http_listener listener = {
    "relay", BOARD_PORT_RELAY, routes, sizeof(routes) / sizeof(routes[0]), 0,
    "{\"error\":\"Not found.\"}", NULL, 0, 0,
};

static int relay_init(void)
{
    started_ms = hal_clock_ms();
    return http_listen(&listener);
}

const struct service relay_service = { .name = "relay", .init = relay_init };
