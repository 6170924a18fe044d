#include "api.h"

#include <string.h>

#include "coord/registry.h"
#include "coord/signing.h"
#include "json/json.h"
#include "mg_err.h"

/* One request's tokens at a time (the loop has one thread): enough for a
 * registration with a full services array. */
#define API_TOKENS 128
static jsmntok_t tokens[API_TOKENS];

static int answer(struct textbuf *out, int status, const char *json)
{
    textbuf_printf(out, "%s", json);
    return status;
}

static int error(struct textbuf *out, int status, const char *msg)
{
    textbuf_printf(out, "{\"error\":\"%s\"}", msg);
    return status;
}

#define MISSING(out)   error(out, 400, "Missing required fields")
#define BAD_SIG(out)   error(out, 401, "Invalid signature")
#define NOT_SOV(out)   error(out, 403, "Unauthorized - not a sovereign key")
#define BAD_TIME(out)  error(out, 400, "Timestamp too old or invalid")

/* A registry change that failed: full, or the flash. */
static int store_error(struct textbuf *out, int rc)
{
    return error(out, 503, rc == MG_ERR_NOSPC ? "registry_full" : "registry_unavailable");
}

/* --- field forms ------------------------------------------------------------ */

static int is_name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '-';
}

/* Ids and host names: safe in a URL path, a JSON string and the signed
 * messages without any escaping. */
static int valid_name(const char *s, size_t max)
{
    size_t n = strlen(s), i;

    if (n == 0 || n > max)
        return 0;
    for (i = 0; i < n; i++)
        if (!is_name_char(s[i]))
            return 0;
    return 1;
}

static int valid_ip(const char *s)
{
    size_t n = strlen(s), i;

    if (n < 2 || n >= COORD_IP_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F') || s[i] == '.' || s[i] == ':'))
            return 0;
    return 1;
}

/* A string member into out: 1 present, 0 absent / null / not a string /
 * empty (the reference's !field), -1 too long or not a valid string. */
static int get_str(const struct json_doc *d, int obj, const char *key, char *out, size_t cap)
{
    int i = json_get(d, obj, key), n;

    out[0] = '\0';
    if (i < 0 || json_kind(d, i) != JSON_STRING)
        return 0;
    n = json_str(d, i, out, cap);
    if (n < 0) {
        out[0] = '\0';
        return -1;
    }
    return n > 0;
}

/* An optional string member: as get_str(), but present with another type
 * than string or null is -1 (invalid), not 0 (absent). */
static int opt_str(const struct json_doc *d, int obj, const char *key, char *out, size_t cap)
{
    enum json_kind k = json_kind(d, json_get(d, obj, key));

    if (k != JSON_STRING && k != JSON_NULL) {
        out[0] = '\0';
        return -1;
    }
    return get_str(d, obj, key, out, cap);
}

static int parse_body(struct json_doc *d, const char *body, size_t len)
{
    return json_parse(d, body, len, tokens, API_TOKENS) == 0 && json_kind(d, 0) == JSON_OBJECT
               ? 0
               : MG_ERR_INVAL;
}

/* --- output ----------------------------------------------------------------- */

static void services_json(struct textbuf *b, const struct coord_node *n)
{
    size_t i;

    textbuf_printf(b, "[");
    for (i = 0; i < n->n_services; i++) {
        const struct coord_service *s = &n->services[i];
        textbuf_printf(b, "%s{\"type\":\"%s\",\"port\":%u,\"publicKey\":", i ? "," : "", s->type,
                       (unsigned)s->port);
        textbuf_printf(b, s->key[0] ? "\"%s\"}" : "null}", s->key);
    }
    textbuf_printf(b, "]");
}

static void ip_json(struct textbuf *b, const char *ip)
{
    textbuf_printf(b, ip[0] ? "\"%s\"" : "null", ip);
}

/* PROTOCOLS.md 3's node object; detail adds when it registered and was last
 * heard from (GET /nodes/:id). */
static void node_json(struct textbuf *b, const struct coord_node *n, int detail)
{
    char key[COORD_KEY_TEXT];

    coord_key_format(n->pub, key);
    textbuf_printf(b, "{\"id\":\"%s\",\"public_key\":\"%s\",\"tailscale_hostname\":\"%s\","
                   "\"tailscale_ip\":", n->id, key, n->host);
    ip_json(b, n->ip);
    textbuf_printf(b, ",\"status\":\"%s\",\"services\":", coord_status_name(n->status));
    services_json(b, n);
    if (detail) {
        textbuf_printf(b, ",\"registered_at\":%lld,\"last_heartbeat\":",
                       (long long)n->registered_at);
        textbuf_printf(b, n->heartbeat_at ? "%lld" : "null", (long long)n->heartbeat_at);
    }
    textbuf_printf(b, "}");
}

/* --- POST /register ---------------------------------------------------------- */

/* "services": absent, or an array of {type, port, publicKey?}. */
static int read_services(const struct json_doc *d, struct coord_node *n, struct textbuf *out)
{
    int arr = json_get(d, 0, "services"), i;

    if (arr < 0 || json_kind(d, arr) == JSON_NULL)
        return 0;
    if (json_kind(d, arr) != JSON_ARRAY)
        return error(out, 400, "Invalid services");
    if (json_size(d, arr) > BOARD_COORD_SERVICES)
        return error(out, 400, "Too many services");
    for (i = json_first(d, arr); i >= 0; i = json_next(d, arr, i)) {
        struct coord_service *s = &n->services[n->n_services];
        int p = json_get(d, i, "port");
        int64_t port = 0;

        if (json_kind(d, i) != JSON_OBJECT ||
            get_str(d, i, "type", s->type, sizeof(s->type)) != 1 ||
            !valid_name(s->type, sizeof(s->type) - 1) || json_int(d, p, &port) != 0 ||
            port < 1 || port > 65535 || opt_str(d, i, "publicKey", s->key, sizeof(s->key)) < 0 ||
            !coord_is_plain(s->key))
            return error(out, 400, "Invalid services");
        s->port = (uint16_t)port;
        n->n_services++;
    }
    return 0;
}

static int do_register(const char *body, size_t len, uint64_t now_ms, int64_t wall_ms,
                       struct textbuf *out)
{
    static struct coord_node n;
    char key[COORD_KEY_TEXT + 8], sig[160], msg[512];
    struct json_doc d;
    int have[4], rc, mlen;

    if (parse_body(&d, body, len) != 0)
        return error(out, 400, "Invalid JSON body");
    memset(&n, 0, sizeof(n));
    have[0] = get_str(&d, 0, "nodeId", n.id, sizeof(n.id));
    have[1] = get_str(&d, 0, "publicKey", key, sizeof(key));
    have[2] = get_str(&d, 0, "tailscaleHostname", n.host, sizeof(n.host));
    if (!have[0] || !have[1] || !have[2])
        return MISSING(out);
    if (have[0] < 0 || !valid_name(n.id, sizeof(n.id) - 1))
        return error(out, 400, "Invalid nodeId");
    if (have[1] < 0 || coord_key_parse(key, n.pub) != 0)
        return error(out, 400, "Invalid publicKey");
    if (have[2] < 0 || !valid_name(n.host, sizeof(n.host) - 1))
        return error(out, 400, "Invalid tailscaleHostname");
    have[3] = opt_str(&d, 0, "tailscaleIP", n.ip, sizeof(n.ip));
    if (have[3] < 0 || (have[3] && !valid_ip(n.ip)))
        return error(out, 400, "Invalid tailscaleIP");
    rc = read_services(&d, &n, out);
    if (rc != 0)
        return rc;
    mlen = coord_register_message(n.id, key, n.host, msg, sizeof(msg));
    if (get_str(&d, 0, "signature", sig, sizeof(sig)) != 1 || mlen < 0 ||
        coord_verify(n.pub, msg, (size_t)mlen, sig) != 0)
        return BAD_SIG(out);
    n.status = COORD_PENDING;
    n.registered_at = wall_ms;
    n.last_ts = 0;   /* no heartbeat yet: any timestamp in the window is newer */
    n.seen_ms = now_ms;
    rc = registry_add(&n);
    if (rc == MG_ERR_EXIST)
        return error(out, 409, "Node already registered");
    if (rc != 0)
        return store_error(out, rc);
    textbuf_printf(out, "{\"success\":true,\"nodeId\":\"%s\",\"status\":\"pending\","
                   "\"message\":\"Registration successful. Awaiting sovereign approval.\"}", n.id);
    return 201;
}

/* --- sovereign-signed requests ----------------------------------------------- */

/* Checks approverPublicKey and signature over msg: 0, or the answer's
 * status with out filled. */
static int sovereign_signed(const struct json_doc *d, const char *msg, size_t mlen,
                            struct textbuf *out)
{
    char key[COORD_KEY_TEXT + 8], sig[160];
    uint8_t pub[ED25519_PUB_LEN];

    if (get_str(d, 0, "approverPublicKey", key, sizeof(key)) != 1 ||
        coord_key_parse(key, pub) != 0 || !registry_is_sovereign(pub))
        return NOT_SOV(out);
    if (get_str(d, 0, "signature", sig, sizeof(sig)) != 1 || coord_verify(pub, msg, mlen, sig) != 0)
        return BAD_SIG(out);
    return 0;
}

/* POST /approve/:id and /deny/:id. */
static int do_decide(const char *action, const char *id, const char *body, size_t len,
                     uint64_t now_ms, struct textbuf *out)
{
    enum coord_status to = action[0] == 'a' ? COORD_ACTIVE : COORD_DENIED;
    const struct coord_node *n;
    struct json_doc d;
    char msg[COORD_ID_MAX + 16];
    int mlen, rc;

    if (parse_body(&d, body, len) != 0)
        return error(out, 400, "Invalid JSON body");
    mlen = coord_action_message(action, id, msg, sizeof(msg));
    if (mlen < 0)
        return error(out, 404, "Node not found or already processed");
    rc = sovereign_signed(&d, msg, (size_t)mlen, out);
    if (rc != 0)
        return rc;
    n = registry_find(id);
    if (!n || n->status != COORD_PENDING)
        return error(out, 404, "Node not found or already processed");
    rc = registry_set_status(id, to, now_ms);
    if (rc != 0)
        return store_error(out, rc);
    textbuf_printf(out, "{\"success\":true,\"nodeId\":\"%s\",\"status\":\"%s\"}", id,
                   coord_status_name(to));
    return 200;
}

static int do_sovereign_add(const char *body, size_t len, struct textbuf *out)
{
    char key[COORD_KEY_TEXT + 8], desc[COORD_DESC_MAX], msg[COORD_KEY_TEXT + 32];
    uint8_t pub[ED25519_PUB_LEN];
    struct json_doc d;
    int have, mlen, rc;

    if (parse_body(&d, body, len) != 0)
        return error(out, 400, "Invalid JSON body");
    have = get_str(&d, 0, "publicKey", key, sizeof(key));
    if (!have)
        return MISSING(out);
    if (have < 0 || coord_key_parse(key, pub) != 0)
        return error(out, 400, "Invalid publicKey");
    if (opt_str(&d, 0, "description", desc, sizeof(desc)) < 0 || !coord_is_plain(desc))
        return error(out, 400, "Invalid description");
    /* The message names the key as sent, as the signer wrote it. */
    mlen = coord_action_message("sovereign-add", key, msg, sizeof(msg));
    rc = mlen < 0 ? BAD_SIG(out) : sovereign_signed(&d, msg, (size_t)mlen, out);
    if (rc != 0)
        return rc;
    rc = registry_sovereign_add(pub, desc);
    if (rc == MG_ERR_EXIST)
        return error(out, 409, "Sovereign key already exists");
    if (rc != 0)
        return store_error(out, rc);
    coord_key_format(pub, key);
    textbuf_printf(out, "{\"success\":true,\"publicKey\":\"%s\"}", key);
    return 200;
}

/* --- POST /heartbeat --------------------------------------------------------- */

static int do_heartbeat(const char *body, size_t len, uint64_t now_ms, int64_t wall_ms,
                        struct textbuf *out)
{
    char id[COORD_ID_MAX], ip[COORD_IP_MAX], sig[160], msg[COORD_ID_MAX + 40];
    const struct coord_node *n;
    struct json_doc d;
    int64_t ts;
    int have, mlen, rc;

    if (parse_body(&d, body, len) != 0)
        return error(out, 400, "Invalid JSON body");
    have = get_str(&d, 0, "nodeId", id, sizeof(id));
    if (have <= 0)
        return have ? error(out, 404, "Node not registered") : MISSING(out);
    n = registry_find(id);
    if (!n)
        return error(out, 404, "Node not registered");
    if (n->status != COORD_ACTIVE && n->status != COORD_OFFLINE)
        return error(out, 403, "Node not active");
    if (json_int(&d, json_get(&d, 0, "timestamp"), &ts) != 0 || ts < wall_ms - COORD_SKEW_MS ||
        ts > wall_ms + COORD_SKEW_MS)
        return BAD_TIME(out);
    have = opt_str(&d, 0, "tailscaleIP", ip, sizeof(ip));
    if (have < 0 || (have && !valid_ip(ip)))
        return error(out, 400, "Invalid tailscaleIP");
    mlen = coord_heartbeat_message(id, ts, msg, sizeof(msg));
    if (get_str(&d, 0, "signature", sig, sizeof(sig)) != 1 || mlen < 0 ||
        coord_verify(n->pub, msg, (size_t)mlen, sig) != 0)
        return BAD_SIG(out);
    if (ts <= n->last_ts)
        return BAD_TIME(out);   /* a replay, or older than one already accepted */
    rc = registry_heartbeat(id, ts, ip, now_ms, wall_ms);
    if (rc != 0)
        return store_error(out, rc);
    textbuf_printf(out, "{\"success\":true,\"timestamp\":%lld}", (long long)wall_ms);
    return 200;
}

/* --- reads ------------------------------------------------------------------- */

static int get_nodes(struct http_str query, struct textbuf *out)
{
    enum coord_status want = COORD_ACTIVE;
    char name[16];
    size_t i, k = 0;
    int n = http_query_param(&query, "status", name, sizeof(name));

    /* Absent or empty is the default, as the reference's status || 'active'. */
    if (n != MG_ERR_NOENT && n != 0 && (n < 0 || coord_status_parse(name, &want) != 0))
        return error(out, 400, "Invalid status");
    textbuf_printf(out, "{\"nodes\":[");
    for (i = 0; i < registry_slots(); i++) {
        const struct coord_node *node = registry_at(i);
        if (!node || node->status != want)
            continue;
        textbuf_printf(out, k++ ? "," : "");
        node_json(out, node, 0);
    }
    textbuf_printf(out, "]}");
    return 200;
}

static int get_node(const char *id, struct textbuf *out)
{
    const struct coord_node *n = registry_find(id);

    if (!n)
        return error(out, 404, "Node not found");
    node_json(out, n, 1);
    return 200;
}

/* Every node whatever its status, with when it was last heard from, and
 * the counts per status. */
static int get_topology(struct textbuf *out)
{
    size_t i, k = 0, total = 0;
    int st;

    textbuf_printf(out, "{\"nodes\":[");
    for (i = 0; i < registry_slots(); i++) {
        const struct coord_node *n = registry_at(i);
        if (!n)
            continue;
        textbuf_printf(out, "%s{\"id\":\"%s\",\"status\":\"%s\",\"tailscale_hostname\":\"%s\","
                       "\"tailscale_ip\":", k++ ? "," : "", n->id, coord_status_name(n->status),
                       n->host);
        ip_json(out, n->ip);
        textbuf_printf(out, ",\"services\":");
        services_json(out, n);
        textbuf_printf(out, ",\"last_heartbeat\":");
        textbuf_printf(out, n->heartbeat_at ? "%lld}" : "null}", (long long)n->heartbeat_at);
    }
    textbuf_printf(out, "],\"counts\":{");
    for (st = 0; st < COORD_N_STATUS; st++) {
        size_t c = registry_count((enum coord_status)st);
        total += c;
        textbuf_printf(out, "\"%s\":%zu,", coord_status_name((enum coord_status)st), c);
    }
    textbuf_printf(out, "\"total\":%zu},\"sovereigns\":%zu}", total, registry_sovereign_count());
    return 200;
}

/* --- routing ----------------------------------------------------------------- */

/* The id after prefix in path ("/approve/" + id): 1 with out filled, 0 when
 * path is not prefix + one valid id. */
static int path_id(struct http_str path, const char *prefix, char out[COORD_ID_MAX])
{
    size_t n = strlen(prefix), len;

    if (path.len <= n || memcmp(path.p, prefix, n) != 0)
        return 0;
    len = path.len - n;
    if (len >= COORD_ID_MAX)
        return 0;
    memcpy(out, path.p + n, len);
    out[len] = '\0';
    return valid_name(out, COORD_ID_MAX - 1);
}

static int path_is(struct http_str path, const char *s)
{
    return path.len == strlen(s) && memcmp(path.p, s, path.len) == 0;
}

int coord_api(enum http_method method, struct http_str path, struct http_str query,
              const char *body, size_t len, uint64_t now_ms, int64_t wall_ms,
              struct textbuf *out)
{
    char id[COORD_ID_MAX];

    if (method == HTTP_GET) {
        if (path_is(path, "/health"))
            return answer(out, 200, "{\"status\":\"ok\",\"service\":\"mesh\"}");
        if (path_is(path, "/nodes"))
            return get_nodes(query, out);
        if (path_is(path, "/topology"))
            return get_topology(out);
        if (path_id(path, "/nodes/", id))
            return get_node(id, out);
        if (path.len > 7 && memcmp(path.p, "/nodes/", 7) == 0)
            return error(out, 404, "Node not found");
    } else if (method == HTTP_POST) {
        if (path_is(path, "/register"))
            return do_register(body, len, now_ms, wall_ms, out);
        if (path_is(path, "/heartbeat"))
            return do_heartbeat(body, len, now_ms, wall_ms, out);
        if (path_is(path, "/sovereign/add"))
            return do_sovereign_add(body, len, out);
        if (path_id(path, "/approve/", id))
            return do_decide("approve", id, body, len, now_ms, out);
        if (path_id(path, "/deny/", id))
            return do_decide("deny", id, body, len, now_ms, out);
        if ((path.len > 9 && memcmp(path.p, "/approve/", 9) == 0) ||
            (path.len > 6 && memcmp(path.p, "/deny/", 6) == 0))
            return error(out, 404, "Node not found or already processed");
    }
    return error(out, 404, "Not found");
}
