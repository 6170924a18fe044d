#include "confsync.h"

#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "clock.h"
#include "config.h"
#include "console/console.h"
#include "delivery.h"
#include "diag/log.h"
#include "diag/textbuf.h"
#include "gate.h"
#include "policy.h"
#include "keystore.h"
#include "mbedtls/platform_util.h"
#include "mg_err.h"
#include "net/http_server.h"

static const char *key_source = "none";

/* --- the HMAC gate ------------------------------------------------------- */

static struct gate_str header(const struct http_request *req, const char *name)
{
    const struct http_str *h = http_header_get(req, name);
    struct gate_str s = { NULL, 0 };

    if (h) {
        s.p = h->p;
        s.len = h->len;
    }
    return s;
}

/* 1 when the request passed the gate; otherwise the refusal has been sent:
 * {"status":"error","error":{"code":C,"message":M}} (PROTOCOLS.md 2). */
static int gated(struct http_conn *c, const struct http_request *req, const char *body,
                 size_t len)
{
    struct gate_verdict v = gate_check(header(req, "X-Nonce"), header(req, "X-Timestamp"),
                                       header(req, "X-HMAC-SHA256"), body, len,
                                       (uint64_t)hal_clock_wall_ms());
    char out[256];
    struct textbuf b;

    if (v.status == 0)
        return 1;
    textbuf_init(&b, out, sizeof(out));
    textbuf_printf(&b, "{\"status\":\"error\",\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}",
                   v.code, v.message);
    http_respond(c, v.status, "application/json", out, b.len);
    return 0;
}

static void respond_error(struct http_conn *c, int status, const char *code, const char *detail)
{
    char out[256];
    struct textbuf b;

    textbuf_init(&b, out, sizeof(out));
    textbuf_printf(&b, "{\"status\":\"error\",\"error\":\"%s\"", code);
    /* detail is our own text (field names and fixed words): JSON-safe. */
    if (detail && detail[0])
        textbuf_printf(&b, ",\"details\":\"%s\"", detail);
    textbuf_printf(&b, "}");
    http_respond(c, status, "application/json", out, b.len);
}

/* --- routes -------------------------------------------------------------- */

static void health(struct http_conn *c, const struct http_request *req, const char *body,
                   size_t len)
{
    struct gate_state g;

    (void)req;
    (void)body;
    (void)len;
    gate_get_state(&g, (uint64_t)hal_clock_wall_ms());
    http_respond_json(c, 200, g.has_key
                                  ? "{\"status\":\"ok\",\"mode\":\"gateway\",\"hmac\":\"enabled\"}"
                                  : "{\"status\":\"ok\",\"mode\":\"gateway\",\"hmac\":\"disabled\"}");
}

static void config_status(struct http_conn *c, const struct http_request *req, const char *body,
                          size_t len)
{
    const struct config *cfg = config_current();
    char out[128];
    struct textbuf b;

    (void)req;
    (void)body;
    (void)len;
    textbuf_init(&b, out, sizeof(out));
    if (cfg)
        textbuf_printf(&b, "{\"status\":\"ok\",\"data\":{\"config_hash\":\"%s\"}}", cfg->hash);
    else
        textbuf_printf(&b, "{\"status\":\"ok\",\"data\":{\"config_hash\":null}}");
    http_respond(c, 200, "application/json", out, b.len);
}

static void config_sync(struct http_conn *c, const struct http_request *req, const char *body,
                        size_t len)
{
    struct config_error err = { 0, NULL, "" };
    const struct config *staged;
    int64_t now;
    char out[192];
    struct textbuf b;

    if (!gated(c, req, body, len))
        return;
    if (config_stage(body, len, &err) != 0) {
        log_printf("confsync: push refused: %s%s%s", err.code, err.detail[0] ? ": " : "",
                   err.detail);
        respond_error(c, err.status, err.code, err.detail);
        return;
    }
    now = hal_clock_wall_ms();
    staged = config_staged();
    /* The push was signed with the current key; a rotation takes effect
     * with the config, so the answer is the last thing under the old key
     * alone. */
    if (staged->rotate &&
        gate_rotate(staged->new_secret, staged->new_secret_len, (uint64_t)now,
                    staged->grace_ms) != 0) {
        respond_error(c, 400, "invalid_config", "hmac_rotation: refused");
        return;
    }
    if (staged->rotate)
        key_source = "rotated";
    config_apply(now);
    policy_reset();   /* limits are counted under the config that set them */
    log_printf("confsync: config %.12s applied%s", config_current()->hash,
               config_current()->rotate ? ", key rotated" : "");
    textbuf_init(&b, out, sizeof(out));
    textbuf_printf(&b, "{\"status\":\"ok\",\"data\":{\"config_hash\":\"%s\",\"applied_at\":%lld}}",
                   config_current()->hash, (long long)now);
    http_respond(c, 200, "application/json", out, b.len);
}

static void delivery_status(struct http_conn *c, const struct http_request *req,
                            const char *body, size_t len)
{
    struct delivery_status s;
    char ts[24], out[320];
    struct textbuf b;
    int64_t t = 0;
    int n, i;

    if (!gated(c, req, body, len))
        return;
    n = http_query_param(&req->query, "timestamp", ts, sizeof(ts));
    if (n == MG_ERR_NOENT || n == 0) {
        respond_error(c, 400, "missing_timestamp", NULL);
        return;
    }
    /* A positive decimal count of ms: at most 18 digits cannot overflow. */
    for (i = 0; i < n && i < 18 && ts[i] >= '0' && ts[i] <= '9'; i++)
        t = t * 10 + (ts[i] - '0');
    if (n < 0 || i != n || t <= 0) {
        respond_error(c, 400, "invalid_timestamp", NULL);
        return;
    }
    if (delivery_lookup(t, hal_clock_wall_ms(), &s) != 0) {
        http_respond_json(c, 200, "{\"status\":\"ok\",\"data\":null,\"message\":\"not_tracked\"}");
        return;
    }
    textbuf_init(&b, out, sizeof(out));
    textbuf_printf(&b, "{\"status\":\"ok\",\"data\":{\"timestamp\":%lld,\"delivered\":%s,"
                   "\"read\":%s,", (long long)s.timestamp, s.delivered_at ? "true" : "false",
                   s.read_at ? "true" : "false");
    if (s.delivered_at)
        textbuf_printf(&b, "\"delivered_at\":%lld,", (long long)s.delivered_at);
    else
        textbuf_printf(&b, "\"delivered_at\":null,");
    if (s.read_at)
        textbuf_printf(&b, "\"read_at\":%lld,", (long long)s.read_at);
    else
        textbuf_printf(&b, "\"read_at\":null,");
    textbuf_printf(&b, "\"sent_at\":%lld}}", (long long)s.sent_at);
    http_respond(c, 200, "application/json", out, b.len);
}

static const struct http_route routes[] = {
    { HTTP_GET, "/health", health },
    { HTTP_GET, "/config/status", config_status },
    { HTTP_POST, "/config/sync", config_sync },
    { HTTP_GET, "/api/v1/delivery/status", delivery_status },
};

static struct http_listener listener = {
    "control", BOARD_PORT_CONTROL, routes, sizeof(routes) / sizeof(routes[0]), 0,
    "{\"status\":\"error\",\"error\":\"not_found\"}", NULL, 0, 0,
};

/* --- boot ----------------------------------------------------------------- */

/* The bootstrap key: provisioned in flash, else MESH_HMAC_SECRET from the
 * environment (development boards). A corrupt provisioned key is never
 * replaced by the environment's: the gate stays closed (503) until an
 * operator resets it. */
static void load_bootstrap_key(void)
{
    uint8_t key[GATE_KEY_MAX];
    size_t len;
    const char *env;

    switch (keystore_state(KS_MESH_HMAC)) {
    case KS_PRESENT:
        if (keystore_get(KS_MESH_HMAC, key, sizeof(key), &len) == 0 &&
            gate_set_key(key, len) == 0)
            key_source = "keystore";
        mbedtls_platform_zeroize(key, sizeof(key));
        return;
    case KS_CORRUPT:
        log_printf("confsync: mesh-hmac is corrupt; the controller gate stays closed "
                   "until `keys reset mesh-hmac`");
        return;
    case KS_MISSING:
        break;
    }
    env = getenv("MESH_HMAC_SECRET");
    if (env && env[0] && gate_set_key(env, strlen(env)) == 0)
        key_source = "environment";
    else
        log_printf("confsync: no controller secret (provision mesh-hmac or set "
                   "MESH_HMAC_SECRET); /config/sync answers 503");
}

static int confsync_init(void)
{
    gate_reset();
    config_reset();
    delivery_reset();
    key_source = "none";
    load_bootstrap_key();
    return http_listen(&listener);
}

/* --- console ---------------------------------------------------------------- */

static const char *auth_name(enum config_auth a)
{
    return a == CONFIG_AUTH_OPEN ? "open" : "signed";
}

static void config_cmd(int argc, char **argv)
{
    const struct config *c = config_current();
    struct gate_state g;
    char utc[CLOCK_UTC_LEN];
    uint64_t now = (uint64_t)hal_clock_wall_ms();
    size_t i;

    (void)argc;
    (void)argv;
    gate_get_state(&g, now);
    if (!g.has_key)
        console_printf("key        none (%s): the controller gate answers 503\n", key_source);
    else
        console_printf("key        current %02x%02x%02x%02x (%s)\n", g.current_check[0],
                       g.current_check[1], g.current_check[2], g.current_check[3], key_source);
    if (g.has_previous)
        console_printf("previous   accepted for %llu ms more\n",
                       (unsigned long long)(g.previous_until - now));
    else
        console_printf("previous   none\n");
    if (!c) {
        console_printf("config     none: deny-all until the controller pushes one\n");
        return;
    }
    clock_format_utc(c->applied_at, utc);
    console_printf("config     %s\napplied    %s (%lld)\n", c->hash, utc, (long long)c->applied_at);
    console_printf("bot        %s\nsenders    %s%zu listed\n", c->bot_name[0] ? c->bot_name : "-",
                   c->allow_all ? "all registered (\"*\"), " : "", c->n_allowed);
    for (i = 0; i < c->n_allowed && i < 8; i++)
        console_printf("  %s\n", c->allowed[i]);
    if (c->n_allowed > 8)
        console_printf("  ... %zu more\n", c->n_allowed - 8);
    console_printf("limits     %u/min %u/h (0: none), text %u, skew %llu ms\n", c->max_per_minute,
                   c->max_per_hour, c->max_text_length, (unsigned long long)c->max_timestamp_skew_ms);
    console_printf("security   kill switch %s, privacy %s\n", c->kill_switch ? "ON" : "off",
                   c->privacy_mode ? "on" : "off");
    console_printf("relay      auth %s, mailbox %u, per sender %u, ttl %llu ms, envelope %u B\n",
                   auth_name(c->relay_auth), c->mailbox_cap, c->pending_per_sender,
                   (unsigned long long)c->ttl_ms, c->max_envelope_bytes);
    for (i = 0; i < c->n_peers; i++)
        console_printf("peer       %s %s (secret %s)\n", c->peers[i].name, c->peers[i].url,
                       c->peers[i].secret_len ? "set" : "none");
    console_printf("peers      replication secret %s for peers without their own\n",
                   c->peer_secret_len ? "set" : "none");
    console_printf("coord      %s%s\nnode       %s\n", c->coordinator_url[0] ? c->coordinator_url : "-",
                   c->coordinator_role ? " (this gateway is the coordinator)" : "",
                   c->node_name[0] ? c->node_name : "-");
    console_printf("intervals  heartbeat %llu ms, telemetry %llu ms to %s\n",
                   (unsigned long long)c->heartbeat_ms, (unsigned long long)c->telemetry_ms,
                   c->telemetry_recipient);
    console_printf("forwarding %s%s%s\n", c->forwarding ? "on to " : "off",
                   c->forwarding ? c->inbound_url : "", "");
}

static void nonces_cmd(int argc, char **argv)
{
    struct gate_state g;

    (void)argc;
    (void)argv;
    gate_get_state(&g, (uint64_t)hal_clock_wall_ms());
    console_printf("nonces     %zu of %zu in use, high-water %zu, %lu refused (cache full)\n"
                   "requests   %lu passed the gate, %lu refused\n",
                   g.nonces_used, g.nonces_capacity, g.nonces_high_water, g.nonces_refused,
                   g.passed, g.refused);
}

static const struct console_cmd commands[] = {
    { "config", "", "the controller's config (secrets redacted) and the gate's keys", config_cmd },
    { "nonces", "", "the controller gate's nonce cache", nonces_cmd },
};

const struct service confsync_service = {
    .name = "confsync",
    .init = confsync_init,
    .commands = commands,
    .n_commands = sizeof(commands) / sizeof(commands[0]),
};
