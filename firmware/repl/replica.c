#include "replica.h"

#include <stdio.h>
#include <string.h>

#include "diag/textbuf.h"
#include "json/json.h"
#include "mg_err.h"
#include "peer/peers.h"
#include "repl/peerkey.h"

#define REPLICA_TOKENS 512
static jsmntok_t tokens[REPLICA_TOKENS];

int replica_msg_id_ok(const char *s)
{
    size_t i = 3, digits = 0, hex = 0;

    if (strncmp(s, "dm_", 3) != 0)
        return 0;
    while (s[i] >= '0' && s[i] <= '9' && digits < 20) {
        i++;
        digits++;
    }
    if (digits == 0 || digits > 19 || s[i++] != '_')
        return 0;
    while ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')) {
        i++;
        hex++;
    }
    return hex == 12 && s[i] == '\0';
}

/* A relay id as the relay takes it: 1..63 printable bytes, no quote or
 * backslash (written into JSON as it is). */
static int id_ok(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0 || n >= USER_ID_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
            return 0;
    return 1;
}

static int get_string(const struct json_doc *d, int obj, const char *key, char *out, size_t cap)
{
    int i = json_get(d, obj, key);

    return i >= 0 && json_kind(d, i) == JSON_STRING && json_str(d, i, out, cap) > 0;
}

int replica_from_json(const struct json_doc *d, int obj, size_t max_envelope, struct replica *r,
                      const char **why)
{
    int env, at;
    int64_t t;

    memset(r, 0, sizeof(*r));
    if (json_kind(d, obj) != JSON_OBJECT) {
        *why = "envelope: must be an object";
        return MG_ERR_INVAL;
    }
    if (!get_string(d, obj, "msg_id", r->msg_id, sizeof(r->msg_id)) ||
        !replica_msg_id_ok(r->msg_id)) {
        *why = "msg_id: dm_<ms>_<12 hex> required";
        return MG_ERR_INVAL;
    }
    if (!get_string(d, obj, "from", r->from, sizeof(r->from)) || !id_ok(r->from) ||
        !get_string(d, obj, "to", r->to, sizeof(r->to)) || !id_ok(r->to)) {
        *why = "from, to: relay ids required";
        return MG_ERR_INVAL;
    }
    at = json_get(d, obj, "deposited_at");
    if (at < 0 || json_kind(d, at) != JSON_NUMBER || json_int(d, at, &t) != 0 || t <= 0) {
        *why = "deposited_at: a positive integer (ms) required";
        return MG_ERR_INVAL;
    }
    r->deposited_at = t;
    env = json_get(d, obj, "envelope");
    if (env < 0 || (json_kind(d, env) != JSON_OBJECT && json_kind(d, env) != JSON_STRING)) {
        *why = "envelope.envelope: an object or a string required";
        return MG_ERR_INVAL;
    }
    /* A string keeps its quotes: the value is stored and pushed as JSON. */
    r->envelope = d->text + d->tok[env].start - (json_kind(d, env) == JSON_STRING);
    r->envelope_len = (size_t)(d->tok[env].end - d->tok[env].start) +
                      (json_kind(d, env) == JSON_STRING ? 2u : 0u);
    if (r->envelope_len > max_envelope) {
        *why = "envelope.envelope: larger than this relay takes";
        return MG_ERR_INVAL;
    }
    return 0;
}

int replica_parse(const char *body, size_t len, size_t max_envelope, struct replica *r,
                  const char **why)
{
    struct json_doc d;

    *why = "Invalid JSON";
    memset(r, 0, sizeof(*r));
    if (json_parse(&d, body, len, tokens, REPLICA_TOKENS) != 0 || json_kind(&d, 0) != JSON_OBJECT)
        return MG_ERR_INVAL;
    return replica_from_json(&d, json_get(&d, 0, "envelope"), max_envelope, r, why);
}

void replica_write(struct textbuf *b, const struct replica *r)
{
    textbuf_printf(b, "{\"msg_id\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"envelope\":%.*s,"
                   "\"deposited_at\":%lld}", r->msg_id, r->from, r->to, (int)r->envelope_len,
                   r->envelope, (long long)r->deposited_at);
}

int replica_decide(const struct replica_facts *f, const char *msg_id, int *status, char *out,
                   size_t cap)
{
    *status = 200;
    if (!f->authenticated) {
        *status = 403;
        snprintf(out, cap, "{\"ok\":false,\"detail\":\"Invalid or missing peer HMAC\"}");
        return 0;
    }
    if (!f->parsed) {
        /* why is our own text, JSON-safe. */
        *status = 400;
        snprintf(out, cap, "{\"ok\":false,\"detail\":\"%s\"}", f->why ? f->why : "Invalid JSON");
        return 0;
    }
    /* Duplicates first: a replica seen before is never refused for the cap
     * it itself fills. */
    if (f->duplicate) {
        snprintf(out, cap, "{\"ok\":true,\"msg_id\":\"%s\",\"duplicate\":true}", msg_id);
        return 0;
    }
    if (f->depth >= f->mailbox_cap) {
        snprintf(out, cap, "{\"ok\":false,\"detail\":\"Recipient mailbox full\"}");
        return 0;
    }
    if (f->pending >= f->limit) {
        snprintf(out, cap,
                 "{\"ok\":false,\"detail\":\"Per-sender cap reached on this relay; refusing "
                 "replica\",\"cap_violation\":true,\"pending\":%u,\"limit\":%u}",
                 f->pending, f->limit);
        return 0;
    }
    return 1;
}

void replica_stored_json(const char *msg_id, char *out, size_t cap)
{
    snprintf(out, cap, "{\"ok\":true,\"msg_id\":\"%s\"}", msg_id);
}

enum replica_outcome replica_outcome(int status, const char *body, size_t len, int *duplicate)
{
    static jsmntok_t tok[32];
    struct json_doc d;
    int ok = 0, flag = 0, i;

    *duplicate = 0;
    if (status != 200 || json_parse(&d, body, len, tok, 32) != 0 ||
        json_kind(&d, 0) != JSON_OBJECT || json_bool(&d, json_get(&d, 0, "ok"), &ok) != 0)
        return REPLICA_RETRY;
    if (ok) {
        i = json_get(&d, 0, "duplicate");
        *duplicate = i >= 0 && json_bool(&d, i, &flag) == 0 && flag;
        return REPLICA_OK;
    }
    i = json_get(&d, 0, "cap_violation");
    if ((i >= 0 && json_bool(&d, i, &flag) == 0 && flag) ||
        json_str_eq(&d, json_get(&d, 0, "detail"), "Recipient mailbox full"))
        return REPLICA_REFUSED;
    return REPLICA_RETRY;
}

const uint8_t *replica_secret(const struct config *cfg, const char *name, size_t *len)
{
    size_t i;

    for (i = 0; cfg && i < cfg->n_peers; i++) {
        if (strcmp(cfg->peers[i].name, name) != 0)
            continue;
        if (cfg->peers[i].secret_len) {
            *len = cfg->peers[i].secret_len;
            return cfg->peers[i].secret;
        }
        break;
    }
    if (cfg && cfg->peer_secret_len) {
        *len = cfg->peer_secret_len;
        return cfg->peer_secret;
    }
    *len = 0;
    return NULL;
}

/* The name of the peer whose URL normalizes to url: a configured one, else
 * one the coordinator listed (at http://host:port); NULL if none. */
static const char *peer_at(const struct config *cfg, const char *url)
{
    char norm[CONFIG_URL_MAX + 32];
    size_t i;

    for (i = 0; i < cfg->n_peers; i++)
        if (peerkey_normalize(cfg->peers[i].url, norm, sizeof(norm)) == 0 &&
            strcmp(norm, url) == 0)
            return cfg->peers[i].name;
    for (i = 0; i < BOARD_PEERS; i++) {
        const struct peer *p = peers_slot(i);
        if (!p || p->source != PEER_COORDINATOR)
            continue;
        snprintf(norm, sizeof(norm), "http://%s:%u", p->host, p->port);
        if (strcmp(norm, url) == 0)
            return p->name;
    }
    return NULL;
}

/* 1 when body's HMAC under the key of secret for url is mac. */
static int verifies(const uint8_t *secret, size_t secret_len, const char *url, const char *body,
                    size_t len, const struct http_str *mac)
{
    uint8_t key[PEERKEY_LEN];
    int ok;

    peerkey_derive(secret, secret_len, url, key);
    ok = peerkey_verify(key, body, len, mac->p, mac->len);
    memset(key, 0, sizeof(key));
    return ok;
}

int replica_auth_hmac(const struct config *cfg, const char *self_url,
                      const struct http_request *req, const char *body, size_t len,
                      const char **peer)
{
    static char name[PEER_NAME_MAX];
    const struct http_str *url = http_header_get(req, "X-Peer-Url");
    const struct http_str *mac = http_header_get(req, "X-Peer-HMAC");
    char raw[CONFIG_URL_MAX + 32], norm[sizeof(raw)], self[sizeof(raw)];
    int global_usable = 0;
    size_t i;

    *peer = NULL;
    if (!cfg || !url || !mac || url->len == 0 || url->len >= sizeof(raw))
        return MG_ERR_AUTH;
    memcpy(raw, url->p, url->len);
    raw[url->len] = '\0';
    if (peerkey_normalize(raw, norm, sizeof(norm)) != 0)
        return MG_ERR_AUTH;
    if ((peerkey_normalize(self_url, self, sizeof(self)) != 0 || strcmp(norm, self) != 0) &&
        !peer_at(cfg, norm))
        return MG_ERR_AUTH;
    for (i = 0; i < cfg->n_peers; i++) {
        const struct config_peer *c = &cfg->peers[i];
        if (!c->secret_len) {
            global_usable = 1;
        } else if (verifies(c->secret, c->secret_len, norm, body, len, mac)) {
            snprintf(name, sizeof(name), "%s", c->name);
            *peer = name;
            return 0;
        }
    }
    /* Peers the coordinator listed have no secret of their own either. */
    for (i = 0; i < BOARD_PEERS && !global_usable; i++) {
        const struct peer *p = peers_slot(i);
        global_usable = p && p->source == PEER_COORDINATOR;
    }
    if (global_usable && cfg->peer_secret_len &&
        verifies(cfg->peer_secret, cfg->peer_secret_len, norm, body, len, mac)) {
        name[0] = '\0';
        *peer = name;
        return 0;
    }
    return MG_ERR_AUTH;
}

int replica_auth_headers(const uint8_t *secret, size_t secret_len, const char *target_url,
                         const void *body, size_t len, char *out, size_t cap)
{
    char norm[CONFIG_URL_MAX + 32], hex[PEERKEY_HEX_LEN + 1];
    uint8_t key[PEERKEY_LEN];
    int n;

    if (peerkey_normalize(target_url, norm, sizeof(norm)) != 0)
        return MG_ERR_INVAL;
    peerkey_derive(secret, secret_len, norm, key);
    peerkey_sign(key, body, len, hex);
    memset(key, 0, sizeof(key));
    n = snprintf(out, cap, "X-Peer-Url: %s\r\nX-Peer-HMAC: %s\r\n", norm, hex);
    return n < 0 || (size_t)n >= cap ? MG_ERR_TOOBIG : 0;
}
