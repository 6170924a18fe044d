/* A non-blocking HTTP/1.1 client on lwIP's altcp API, driven by the same
 * superloop as the server: a service starts a request and gets one callback
 * when it has completed or failed. Requests come from a fixed pool
 * (HTTP_CLIENT_SLOTS); each slot owns its request and response buffers.
 *
 * One request per connection ("Connection: close"); the response body is
 * delimited by Content-Length or by the server closing. A chunked response
 * is refused (MG_ERR_INVAL): the peers we talk to send lengths. */
#ifndef HTTP_CLIENT_H
#define HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"

#define HTTP_CLIENT_SLOTS      4
#define HTTP_CLIENT_REQ_MAX    (16 * 1024)   /* request head + body */
#define HTTP_CLIENT_RESP_MAX   (32 * 1024)   /* response head + body */
#define HTTP_CLIENT_CONNECT_MS 5000
#define HTTP_CLIENT_TOTAL_MS   15000         /* connect + request + response */

struct http_client_result {
    int rc;                 /* 0, or MG_ERR_TIMEOUT / IO (refused, reset) / TOOBIG / INVAL */
    const char *why;        /* for a failure: what happened, for logs and the console */
    int status;             /* the response's status code (rc 0) */
    const char *body;       /* the response body, valid during the callback */
    size_t body_len;
};

typedef void (*http_client_done)(void *ctx, const struct http_client_result *r);

struct http_client_request {
    const char *method;     /* "GET", "POST", ... */
    const char *host;       /* dotted IPv4 address */
    uint16_t port;
    const char *path;       /* origin-form: "/v1/x?y=1" */
    const char *headers;    /* extra header lines, each ending "\r\n"; may be NULL */
    const char *content_type;   /* with a body; may be NULL */
    const void *body;
    size_t body_len;
    uint32_t timeout_ms;    /* connect + request + response; 0: HTTP_CLIENT_TOTAL_MS */
};

/* Starts a request. 0: done(ctx, ...) will be called exactly once, from a
 * later loop pass. MG_ERR_NOSPC when every slot is busy, MG_ERR_TOOBIG when
 * the request does not fit a slot, MG_ERR_INVAL for a bad address or path;
 * done is then never called. */
int http_client_start(const struct http_client_request *req, http_client_done done, void *ctx);

/* Splits "http://a.b.c.d[:port][/path]" (the URLs the client can reach:
 * IPv4 only, no DNS) into host, port (80 by default) and path ("/" when it
 * has none; pointing into url). 0 or MG_ERR_INVAL. */
int http_url_split(const char *url, char host[16], uint16_t *port, const char **path);

struct http_client_stats {
    unsigned long started, completed, failed, timeouts;
};
void http_client_get_stats(struct http_client_stats *out);

/* Timeouts; console command `fetch`. */
extern const struct service http_client_service;

#endif
