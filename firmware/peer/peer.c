#include "peer.h"

#include <stdio.h>
#include <string.h>

#include "board.h"
#include "clock.h"
#include "confsync/config.h"
#include "console/console.h"
#include "diag/log.h"
#include "diag/textbuf.h"
#include "keystore.h"
#include "lwip/ip4_addr.h"
#include "mg_err.h"
#include "node/node.h"
#include "peer/peer_auth.h"

struct signed_route {
    enum http_method method;
    const char *path;
    peer_handler handler;
    http_handler self;          /* set: the handler authenticates itself */
};

static struct signed_route signed_routes[PEER_ROUTES_MAX];
static size_t n_signed_routes;
static unsigned long verified, refused;
/* The config whose gateway.peers[] the registry holds. */
static char synced_hash[65];
static int64_t synced_at;

int peer_route_add(enum http_method method, const char *path, peer_handler h)
{
    if (n_signed_routes == PEER_ROUTES_MAX)
        return MG_ERR_NOSPC;
    signed_routes[n_signed_routes++] = (struct signed_route){ method, path, h, NULL };
    return 0;
}

int peer_route_add_self(enum http_method method, const char *path, http_handler h)
{
    if (n_signed_routes == PEER_ROUTES_MAX)
        return MG_ERR_NOSPC;
    signed_routes[n_signed_routes++] = (struct signed_route){ method, path, NULL, h };
    return 0;
}

int peer_verify(const struct http_request *req, const char *body, size_t len, int64_t now_ms,
                const struct peer **from, const char **reason)
{
    struct peer_auth_claim cl;
    const struct peer *p;
    int rc;

    *from = NULL;
    peer_auth_claim_of(req, &cl);
    rc = peer_auth_precheck(&cl, now_ms, reason);
    if (rc != 0)
        return rc;
    p = peers_find(cl.name.p, cl.name.len);
    if (!p) {
        *reason = "unknown peer";
        return MG_ERR_AUTH;
    }
    if (!p->has_key) {
        *reason = "no public key for this peer";
        return MG_ERR_AUTH;
    }
    rc = peer_auth_verify(&cl, req, body, len, p->public_key, reason);
    if (rc != 0)
        return rc;
    peers_seen(cl.name.p, cl.name.len, now_ms);
    *from = p;
    return 0;
}

/* --- the listener ---------------------------------------------------------- */

static void ping(struct http_conn *c, const struct http_request *req, const char *body,
                 size_t len)
{
    char out[640], ip[16];   /* a 63-byte name escaped 6 for 1 */
    struct textbuf b;

    (void)req;
    (void)body;
    (void)len;
    node_ip(ip);
    textbuf_init(&b, out, sizeof(out));
    textbuf_printf(&b, "{\"from\":");
    textbuf_json_string(&b, node_name());
    textbuf_printf(&b, ",\"mesh_ip\":\"%s\",\"public_key\":\"%s\",\"t\":%lld}", ip,
                   node_public_b64(), (long long)hal_clock_wall_ms());
    http_respond(c, 200, "application/json", out, b.len);
}

static int route_matches(const struct signed_route *r, const struct http_request *req)
{
    size_t n = strlen(r->path);

    if (n > 0 && r->path[n - 1] == '*')
        return req->path.len >= n - 1 && memcmp(r->path, req->path.p, n - 1) == 0;
    return n == req->path.len && memcmp(r->path, req->path.p, n) == 0;
}

/* Every path but /ping: the gate, then the signed routes. */
static void gate(struct http_conn *c, const struct http_request *req, const char *body,
                 size_t len)
{
    const struct peer *from;
    const char *reason;
    char out[96];
    int path_known = 0, n;
    size_t i;

    for (i = 0; i < n_signed_routes; i++) {
        if (signed_routes[i].self && signed_routes[i].method == req->method &&
            route_matches(&signed_routes[i], req)) {
            signed_routes[i].self(c, req, body, len);
            return;
        }
    }
    if (peer_verify(req, body, len, hal_clock_wall_ms(), &from, &reason) != 0) {
        refused++;
        n = snprintf(out, sizeof(out), "Authentication failed: %s", reason);
        http_respond(c, 401, "text/plain", out, (size_t)n);
        return;
    }
    verified++;
    for (i = 0; i < n_signed_routes; i++) {
        if (!route_matches(&signed_routes[i], req))
            continue;
        path_known = 1;
        if (signed_routes[i].method == req->method && signed_routes[i].handler) {
            signed_routes[i].handler(c, req, body, len, from);
            return;
        }
    }
    if (path_known)
        http_respond_error(c, 405, "method_not_allowed");
    else
        http_respond_error(c, 404, "not_found");
}

static const struct http_route routes[] = {
    { HTTP_GET, "/ping", ping },
    { HTTP_GET, "/*", gate },
    { HTTP_HEAD, "/*", gate },
    { HTTP_POST, "/*", gate },
    { HTTP_PUT, "/*", gate },
    { HTTP_DELETE, "/*", gate },
    { HTTP_OPTIONS, "/*", gate },
    { HTTP_PATCH, "/*", gate },
    { HTTP_OTHER, "/*", gate },
};

static struct http_listener listener = {
    "peer", BOARD_PORT_PEER, routes, sizeof(routes) / sizeof(routes[0]), 0,
    NULL, NULL, 0, 0,
};

/* --- the client ----------------------------------------------------------------- */

int peer_request(const char *peer_name, const char *method, const char *path, const void *body,
                 size_t len, http_client_done done, void *ctx)
{
    char headers[PEER_AUTH_HEADERS_MAX];
    const struct peer *p = peers_find(peer_name, strlen(peer_name));
    struct http_client_request req;
    int rc;

    if (!p)
        return MG_ERR_NOENT;
    rc = peer_auth_headers(node_sign, node_name(), hal_clock_wall_ms(), method, path, body, len,
                           headers, sizeof(headers));
    if (rc != 0)
        return rc;
    req = (struct http_client_request){ method, p->host, p->port, path, headers,
                                        len ? "application/json" : NULL, body, len,
                                        PEER_TIMEOUT_MS };
    return http_client_start(&req, done, ctx);
}

/* --- gateway.peers[] into the registry ---------------------------------------- */

static void sync_static(const struct config *c)
{
    size_t i, dropped;

    peers_sync_begin(PEER_STATIC);
    for (i = 0; i < c->n_peers; i++) {
        const struct config_peer *cp = &c->peers[i];
        struct peer p;
        const char *path;
        ip4_addr_t ip;
        int rc;

        memset(&p, 0, sizeof(p));
        p.source = PEER_STATIC;
        if (http_url_split(cp->url, p.host, &p.port, &path) != 0 || !ip4addr_aton(p.host, &ip)) {
            log_printf("peer: %s: url %s is not http://IPv4[:port]; left out", cp->name, cp->url);
            continue;
        }
        if (strlen(cp->name) >= sizeof(p.name) || cp->name[0] == '\0') {
            log_printf("peer: a peer at %s has no usable name; left out", cp->url);
            continue;
        }
        strcpy(p.name, cp->name);
        p.has_key = cp->has_public_key;
        memcpy(p.public_key, cp->public_key, sizeof(p.public_key));
        rc = peers_put(&p);
        if (rc != 0)
            log_printf("peer: %s not added: %s", p.name, mg_strerror(rc));
    }
    dropped = peers_sync_end(PEER_STATIC);
    log_printf("peer: %zu static peer(s) from config %.12s, %zu dropped", c->n_peers, c->hash,
               dropped);
}

static void peer_poll(uint64_t now)
{
    const struct config *c = config_current();

    (void)now;
    if (!c || (c->applied_at == synced_at && strcmp(c->hash, synced_hash) == 0))
        return;
    synced_at = c->applied_at;
    strcpy(synced_hash, c->hash);
    sync_static(c);
}

static int peer_init(void)
{
    peers_reset();
    synced_hash[0] = '\0';
    synced_at = 0;
    verified = refused = 0;
    return http_listen(&listener);
}

/* --- console ---------------------------------------------------------------------- */

static void peers_cmd(int argc, char **argv)
{
    int64_t now = hal_clock_wall_ms();
    size_t i;

    (void)argc;
    (void)argv;
    console_printf("peers      %zu of %d, high-water %zu, %lu refused (table full)\n"
                   "requests   %lu verified, %lu refused on port %d\n",
                   peers_count(), BOARD_PEERS, peers_pool.high_water, peers_pool.refused,
                   verified, refused, BOARD_PORT_PEER);
    for (i = 0; i < BOARD_PEERS; i++) {
        const struct peer *p = peers_slot(i);
        char key[B64_LEN(32) + 1] = "-", seen[32] = "never";

        if (!p)
            continue;
        if (p->has_key)
            b64_encode(p->public_key, sizeof(p->public_key), key);
        if (p->last_seen_ms)
            snprintf(seen, sizeof(seen), "%lld s ago", (long long)(now - p->last_seen_ms) / 1000);
        console_printf("  %-20s %s:%u %s key %s relay %u coord %u seen %s\n", p->name, p->host,
                       p->port, p->source == PEER_STATIC ? "static" : "coordinator", key,
                       p->relay_port, p->coord_port, seen);
    }
}

static void peer_fetch_done(void *ctx, const struct http_client_result *r)
{
    (void)ctx;
    if (r->rc != 0)
        console_async_printf("peer-fetch: failed: %s (%s)\n", r->why, mg_strerror(r->rc));
    else
        console_async_printf("peer-fetch: %d, %zu bytes\n%.*s\n", r->status, r->body_len,
                             (int)(r->body_len > 400 ? 400 : r->body_len), r->body);
}

static void peer_fetch_cmd(int argc, char **argv)
{
    const char *path = argc == 3 ? argv[2] : "/ping";
    int rc;

    if (argc < 2 || argc > 3 || path[0] != '/') {
        console_printf("usage: peer-fetch <peer> [/path]\n");
        return;
    }
    rc = peer_request(argv[1], "GET", path, NULL, 0, peer_fetch_done, NULL);
    if (rc != 0)
        console_printf("peer-fetch: cannot start: %s\n",
                       rc == MG_ERR_NOENT ? "no such peer" : mg_strerror(rc));
    else
        console_printf("peer-fetch: signed GET %s to %s\n", path, argv[1]);
}

static const struct console_cmd commands[] = {
    { "peers", "", "the peer registry (static config and coordinator)", peers_cmd },
    { "peer-fetch", "<peer> [/path]", "a signed GET to a peer (section 4)", peer_fetch_cmd },
};

static const uint16_t needs[] = { KS_NODE, 0 };

static uint64_t peer_next_deadline(uint64_t now)
{
    const struct config *c = config_current();

    /* A newly applied config is synced on the next pass. */
    return c && (c->applied_at != synced_at || strcmp(c->hash, synced_hash) != 0)
               ? now : LOOP_NO_DEADLINE;
}

const struct service peer_service = {
    .name = "peer",
    .init = peer_init,
    .poll = peer_poll,
    .next_deadline = peer_next_deadline,
    .commands = commands,
    .n_commands = sizeof(commands) / sizeof(commands[0]),
    .keys = needs,
};
