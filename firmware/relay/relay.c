#include "relay.h"

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

static void diagnostics(struct http_conn *c, const struct http_request *req, const char *body,
                        size_t len)
{
    static char out[12 * 1024];
    struct http_server_stats h;
    struct textbuf b;

    (void)req;
    (void)body;
    (void)len;
    http_server_get_stats(&h);
    textbuf_init(&b, out, sizeof(out));
    textbuf_printf(&b, "{\"uptimeSec\":%llu,\"counts\":{\"users\":0,\"prekeys\":0,"
                   "\"queuedMessages\":0,\"activeConnections\":%zu},"
                   "\"queueDepthHistogram\":{\"0\":0,\"1-5\":0,\"6-20\":0,\"21+\":0},"
                   "\"metrics\":null,\"firmware\":",
                   (unsigned long long)((hal_clock_ms() - started_ms) / 1000), h.active);
    diag_firmware_json(&b);
    textbuf_printf(&b, "}");
    if (b.overflow)
        http_respond_error(c, 500, "diagnostics_too_large");
    else
        http_respond(c, 200, "application/json", out, b.len);
}

static const struct http_route routes[] = {
    { HTTP_GET, "/health", health },
    { HTTP_GET, "/diagnostics", diagnostics },
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
