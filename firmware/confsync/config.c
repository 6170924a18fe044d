#include "config.h"

#include <stdio.h>
#include <string.h>

#include "b64.h"
#include "coord/keytext.h"
#include "crypto.h"
#include "hex.h"
#include "json/json.h"
#include "mg_err.h"

/* Two configs: the running one and the one being built. A push fills the
 * other slot; applying it switches the index. */
static struct config slots[2];
static int running = -1;       /* index into slots, -1: none yet */
static int staged = -1;

/* Enough for the largest config that fits the tables (every sender and
 * peer filled) with room for unknown keys, kept in the hash. */
#define CONFIG_TOKENS 4096
static jsmntok_t tokens[CONFIG_TOKENS];

static const char *const unhashed[] = { "hmac_rotation", "timestamp_ms", NULL };

/* --- field readers: each returns 0, or MG_ERR_INVAL with err filled ------ */

struct reader {
    const struct json_doc *d;
    struct config_error *err;
};

static int fail(struct reader *r, const char *section, const char *key, const char *why)
{
    r->err->status = 400;
    r->err->code = "invalid_config";
    snprintf(r->err->detail, sizeof(r->err->detail), "%s%s%s%s", section,
             section[0] && key[0] ? "." : "", key, why);
    return MG_ERR_INVAL;
}

/* A config that would overflow a static table or parser limit. */
static int too_large(struct config_error *err, const char *detail)
{
    err->status = 400;
    err->code = "config_too_large";
    snprintf(err->detail, sizeof(err->detail), "%s", detail);
    return MG_ERR_INVAL;
}

/* The member key of the object obj: its index, -1 if absent. */
static int member(struct reader *r, int obj, const char *key)
{
    return obj < 0 ? -1 : json_get(r->d, obj, key);
}

/* An optional object member: *out its index or -1. */
static int get_object(struct reader *r, int obj, const char *section, const char *key, int *out)
{
    int i = member(r, obj, key);

    *out = i;
    if (i >= 0 && json_kind(r->d, i) != JSON_OBJECT)
        return fail(r, section, key, ": must be an object");
    return 0;
}

static int get_string(struct reader *r, int obj, const char *section, const char *key,
                      char *out, size_t cap)
{
    int i = member(r, obj, key), n;

    if (i < 0)
        return 0;
    if (json_kind(r->d, i) != JSON_STRING)
        return fail(r, section, key, ": must be a string");
    n = json_str(r->d, i, out, cap);
    if (n == MG_ERR_TOOBIG)
        return fail(r, section, key, ": too long");
    if (n < 0)
        return fail(r, section, key, ": not a valid string");
    return 0;
}

static int get_uint(struct reader *r, int obj, const char *section, const char *key,
                    uint64_t min, uint64_t max, uint64_t *out)
{
    int i = member(r, obj, key);
    int64_t v;

    if (i < 0)
        return 0;
    if (json_kind(r->d, i) != JSON_NUMBER || json_int(r->d, i, &v) != 0)
        return fail(r, section, key, ": must be an integer");
    if (v < 0 || (uint64_t)v < min || (uint64_t)v > max)
        return fail(r, section, key, ": out of range");
    *out = (uint64_t)v;
    return 0;
}

static int get_u32(struct reader *r, int obj, const char *section, const char *key,
                   uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t v = *out;
    int rc = get_uint(r, obj, section, key, min, max, &v);

    *out = (uint32_t)v;
    return rc;
}

static int get_bool(struct reader *r, int obj, const char *section, const char *key, int *out)
{
    int i = member(r, obj, key);

    if (i < 0)
        return 0;
    if (json_bool(r->d, i, out) != 0)
        return fail(r, section, key, ": must be true or false");
    return 0;
}

/* An http:// URL with a host: what the HTTP client can reach. */
static int get_url(struct reader *r, int obj, const char *section, const char *key, char *out)
{
    int rc = get_string(r, obj, section, key, out, CONFIG_URL_MAX);

    if (rc != 0 || out[0] == '\0')
        return rc;
    if (strncmp(out, "http://", 7) != 0 || out[7] == '\0' || out[7] == '/' || out[7] == ':')
        return fail(r, section, key, ": must be an http:// URL with a host");
    return 0;
}

/* --- sections ---------------------------------------------------------- */

static int read_identity(struct reader *r, int obj, struct config *c)
{
    int arr, i, rc;

    if (json_kind(r->d, obj) != JSON_OBJECT)
        return fail(r, "identity", "", ": must be an object");
    rc = get_string(r, obj, "identity", "bot_name", c->bot_name, sizeof(c->bot_name));
    if (rc != 0)
        return rc;
    if (get_object(r, obj, "identity", "groups", &i) != 0)
        return MG_ERR_INVAL;
    arr = member(r, obj, "allowed_senders");
    if (arr < 0)
        return 0;
    if (json_kind(r->d, arr) != JSON_ARRAY)
        return fail(r, "identity", "allowed_senders", ": must be an array of strings");
    if ((size_t)json_size(r->d, arr) > BOARD_CONFIG_SENDERS)
        return too_large(r->err,
                         "identity.allowed_senders: more entries than the gateway holds");
    for (i = json_first(r->d, arr); i >= 0; i = json_next(r->d, arr, i)) {
        char *id = c->allowed[c->n_allowed];
        int n;

        if (json_kind(r->d, i) != JSON_STRING)
            return fail(r, "identity", "allowed_senders", ": must be an array of strings");
        n = json_str(r->d, i, id, CONFIG_ID_MAX);
        if (n <= 0)
            return fail(r, "identity", "allowed_senders",
                        n == 0 ? ": an empty id" : ": an id too long or not valid");
        if (strcmp(id, "*") == 0)
            c->allow_all = 1;
        c->n_allowed++;
    }
    return 0;
}

static int read_limits(struct reader *r, int top, struct config *c)
{
    int rl, in, val, sec;

    if (get_object(r, top, "", "rate_limits", &rl) != 0 ||
        get_object(r, rl, "rate_limits", "inbound", &in) != 0 ||
        get_u32(r, in, "rate_limits.inbound", "max_per_hour", 0, UINT32_MAX,
                &c->max_per_hour) != 0 ||
        get_u32(r, in, "rate_limits.inbound", "max_per_minute", 0, UINT32_MAX,
                &c->max_per_minute) != 0)
        return MG_ERR_INVAL;
    if (get_object(r, top, "", "validation", &val) != 0 ||
        get_u32(r, val, "validation", "max_text_length", 1, UINT32_MAX,
                &c->max_text_length) != 0 ||
        get_uint(r, val, "validation", "max_timestamp_skew_ms", 0, INT64_MAX,
                 &c->max_timestamp_skew_ms) != 0)
        return MG_ERR_INVAL;
    if (get_object(r, top, "", "security", &sec) != 0 ||
        get_bool(r, sec, "security", "privacy_mode", &c->privacy_mode) != 0 ||
        get_bool(r, sec, "security", "kill_switch", &c->kill_switch) != 0)
        return MG_ERR_INVAL;
    return 0;
}

static int read_rotation(struct reader *r, int top, struct config *c)
{
    char hex[CONFIG_SECRET_MAX + 1];
    unsigned char raw[CONFIG_SECRET_MAX / 2];
    int rot, n;

    /* null is no rotation, as a controller's rotation.get() reads it. */
    rot = member(r, top, "hmac_rotation");
    if (rot >= 0 && json_kind(r->d, rot) == JSON_NULL)
        return 0;
    if (get_object(r, top, "", "hmac_rotation", &rot) != 0)
        return MG_ERR_INVAL;
    if (rot < 0)
        return 0;
    hex[0] = '\0';
    if (get_string(r, rot, "hmac_rotation", "new_secret", hex, sizeof(hex)) != 0)
        return MG_ERR_INVAL;
    n = (int)strlen(hex);
    /* The new key is the secret's text, as MESH_HMAC_SECRET is: a
     * controller signs with new_secret.encode() from then on. */
    if (n < 32 || hex_decode(hex, (size_t)n, raw, sizeof(raw)) < 0)
        return fail(r, "hmac_rotation", "new_secret", ": must be 32 to 128 hex digits");
    memcpy(c->new_secret, hex, (size_t)n);
    c->new_secret_len = (size_t)n;
    c->grace_ms = CONFIG_DEFAULT_GRACE_MS;
    if (get_uint(r, rot, "hmac_rotation", "grace_period_ms", 0, 7ull * 24 * 3600 * 1000,
                 &c->grace_ms) != 0)
        return MG_ERR_INVAL;
    c->rotate = 1;
    return 0;
}

static int read_peers(struct reader *r, int gw, struct config *c)
{
    int arr = member(r, gw, "peers"), i;

    if (arr < 0)
        return 0;
    if (json_kind(r->d, arr) != JSON_ARRAY)
        return fail(r, "gateway", "peers", ": must be an array of objects");
    if ((size_t)json_size(r->d, arr) > BOARD_PEERS)
        return too_large(r->err, "gateway.peers: more peers than the gateway holds");
    for (i = json_first(r->d, arr); i >= 0; i = json_next(r->d, arr, i)) {
        struct config_peer *p = &c->peers[c->n_peers];
        char secret[CONFIG_SECRET_MAX + 1], key[B64_LEN(32) + 2];

        if (json_kind(r->d, i) != JSON_OBJECT)
            return fail(r, "gateway", "peers", ": must be an array of objects");
        secret[0] = key[0] = '\0';
        if (get_string(r, i, "gateway.peers[]", "name", p->name, sizeof(p->name)) != 0 ||
            get_url(r, i, "gateway.peers[]", "url", p->url) != 0 ||
            get_string(r, i, "gateway.peers[]", "secret", secret, sizeof(secret)) != 0 ||
            get_string(r, i, "gateway.peers[]", "public_key", key, sizeof(key)) != 0)
            return MG_ERR_INVAL;
        if (p->url[0] == '\0')
            return fail(r, "gateway.peers[]", "url", ": required");
        if (member(r, i, "public_key") >= 0) {
            if (b64_decode(key, strlen(key), p->public_key, sizeof(p->public_key)) != 32)
                return fail(r, "gateway.peers[]", "public_key", ": must be base64 of 32 bytes");
            p->has_public_key = 1;
        }
        p->secret_len = strlen(secret);
        memcpy(p->secret, secret, p->secret_len);
        c->n_peers++;
    }
    return 0;
}

/* gateway.peer_secret: the fallback of gateway.peers[].secret; a string,
 * non-empty when present (an empty secret would sign nothing useful). */
static int read_peer_secret(struct reader *r, int gw, struct config *c)
{
    char secret[CONFIG_SECRET_MAX + 1];

    secret[0] = '\0';
    if (get_string(r, gw, "gateway", "peer_secret", secret, sizeof(secret)) != 0)
        return MG_ERR_INVAL;
    if (member(r, gw, "peer_secret") >= 0 && secret[0] == '\0')
        return fail(r, "gateway", "peer_secret", ": must not be empty");
    c->peer_secret_len = strlen(secret);
    memcpy(c->peer_secret, secret, c->peer_secret_len);
    return 0;
}

/* gateway.coordinator's registry settings: sovereign keys and the offline
 * windows (PROTOCOLS.md 3). */
static int read_coordinator(struct reader *r, int coord, struct config *c)
{
    static const char sec[] = "gateway.coordinator";
    int arr = member(r, coord, "sovereign_keys"), i;

    if (get_uint(r, coord, sec, "offline_after_ms", 1000, 30ull * 24 * 3600 * 1000,
                 &c->offline_after_ms) != 0 ||
        get_uint(r, coord, sec, "offline_check_ms", 100, 24ull * 3600 * 1000,
                 &c->offline_check_ms) != 0)
        return MG_ERR_INVAL;
    if (arr < 0)
        return 0;
    if (json_kind(r->d, arr) != JSON_ARRAY)
        return fail(r, sec, "sovereign_keys", ": must be an array of ed25519_ keys");
    if ((size_t)json_size(r->d, arr) > BOARD_COORD_SOVEREIGNS)
        return too_large(r->err,
                         "gateway.coordinator.sovereign_keys: more keys than the gateway holds");
    for (i = json_first(r->d, arr); i >= 0; i = json_next(r->d, arr, i)) {
        char text[COORD_KEY_TEXT];

        if (json_kind(r->d, i) != JSON_STRING || json_str(r->d, i, text, sizeof(text)) < 0 ||
            coord_key_parse(text, c->sovereign_keys[c->n_sovereign_keys]) != 0)
            return fail(r, sec, "sovereign_keys", ": must be an array of ed25519_ keys");
        c->n_sovereign_keys++;
    }
    return 0;
}

/* Four decimal octets, "10.42.0.2": what the node reports as its address. */
static int is_ipv4(const char *s)
{
    int parts = 0;

    while (parts < 4) {
        unsigned v = 0, digits = 0;
        for (; *s >= '0' && *s <= '9' && digits < 4; s++, digits++)
            v = v * 10 + (unsigned)(*s - '0');
        if (digits == 0 || digits > 3 || v > 255)
            return 0;
        parts++;
        if (parts < 4 && *s++ != '.')
            return 0;
    }
    return *s == '\0';
}

/* gateway.node: the address and host name reported to the coordinator
 * (PROTOCOLS.md 3). */
static int read_node(struct reader *r, int node, struct config *c)
{
    if (get_string(r, node, "gateway.node", "hostname", c->node_hostname,
                   sizeof(c->node_hostname)) != 0 ||
        get_string(r, node, "gateway.node", "ip", c->node_ip, sizeof(c->node_ip)) != 0)
        return MG_ERR_INVAL;
    if (c->node_ip[0] && !is_ipv4(c->node_ip))
        return fail(r, "gateway.node", "ip", ": must be a dotted IPv4 address");
    return 0;
}

static int read_gateway(struct reader *r, int top, struct config *c)
{
    int gw, relay, coord, node, iv, tel, fwd;
    char auth[8] = "signed";

    if (get_object(r, top, "", "gateway", &gw) != 0)
        return MG_ERR_INVAL;
    if (gw < 0)
        return 0;
    if (get_object(r, gw, "gateway", "relay", &relay) != 0 ||
        get_string(r, relay, "gateway.relay", "auth", auth, sizeof(auth)) != 0 ||
        get_u32(r, relay, "gateway.relay", "mailbox_cap", 1, BOARD_RELAY_MESSAGES,
                &c->mailbox_cap) != 0 ||
        get_u32(r, relay, "gateway.relay", "pending_per_sender_limit", 1, BOARD_RELAY_MESSAGES,
                &c->pending_per_sender) != 0 ||
        get_uint(r, relay, "gateway.relay", "ttl_ms", 1000, 30ull * 24 * 3600 * 1000,
                 &c->ttl_ms) != 0 ||
        get_u32(r, relay, "gateway.relay", "max_envelope_bytes", 1, BOARD_RELAY_ENVELOPE_MAX,
                &c->max_envelope_bytes) != 0)
        return MG_ERR_INVAL;
    if (strcmp(auth, "signed") == 0)
        c->relay_auth = CONFIG_AUTH_SIGNED;
    else if (strcmp(auth, "open") == 0)
        c->relay_auth = CONFIG_AUTH_OPEN;
    else
        return fail(r, "gateway.relay", "auth", ": must be signed or open");
    if (read_peers(r, gw, c) != 0 || read_peer_secret(r, gw, c) != 0)
        return MG_ERR_INVAL;
    if (get_object(r, gw, "gateway", "coordinator", &coord) != 0 ||
        get_url(r, coord, "gateway.coordinator", "url", c->coordinator_url) != 0 ||
        get_bool(r, coord, "gateway.coordinator", "role", &c->coordinator_role) != 0 ||
        read_coordinator(r, coord, c) != 0 ||
        get_object(r, gw, "gateway", "node", &node) != 0 ||
        get_string(r, node, "gateway.node", "name", c->node_name, sizeof(c->node_name)) != 0)
        return MG_ERR_INVAL;
    if (read_node(r, node, c) != 0)
        return MG_ERR_INVAL;
    if (get_object(r, gw, "gateway", "intervals", &iv) != 0 ||
        get_uint(r, iv, "gateway.intervals", "heartbeat_ms", 1000, 24ull * 3600 * 1000,
                 &c->heartbeat_ms) != 0 ||
        get_uint(r, iv, "gateway.intervals", "telemetry_ms", 1000, 24ull * 3600 * 1000,
                 &c->telemetry_ms) != 0)
        return MG_ERR_INVAL;
    if (get_object(r, gw, "gateway", "telemetry", &tel) != 0 ||
        get_string(r, tel, "gateway.telemetry", "recipient", c->telemetry_recipient,
                   sizeof(c->telemetry_recipient)) != 0 ||
        get_object(r, gw, "gateway", "forwarding", &fwd) != 0 ||
        get_bool(r, fwd, "gateway.forwarding", "enabled", &c->forwarding) != 0 ||
        get_url(r, fwd, "gateway.forwarding", "inbound_url", c->inbound_url) != 0)
        return MG_ERR_INVAL;
    if (c->forwarding && c->inbound_url[0] == '\0')
        return fail(r, "gateway.forwarding", "inbound_url", ": required when enabled");
    return 0;
}

static void defaults(struct config *c)
{
    memset(c, 0, sizeof(*c));
    c->relay_auth = CONFIG_AUTH_SIGNED;
    c->mailbox_cap = CONFIG_DEFAULT_MAILBOX_CAP;
    c->pending_per_sender = CONFIG_DEFAULT_PENDING_PER_SENDER;
    c->ttl_ms = CONFIG_DEFAULT_TTL_MS;
    c->max_envelope_bytes = CONFIG_DEFAULT_ENVELOPE_BYTES;
    c->heartbeat_ms = CONFIG_DEFAULT_HEARTBEAT_MS;
    c->telemetry_ms = CONFIG_DEFAULT_TELEMETRY_MS;
    c->offline_after_ms = CONFIG_DEFAULT_OFFLINE_AFTER_MS;
    c->offline_check_ms = CONFIG_DEFAULT_OFFLINE_CHECK_MS;
    strcpy(c->telemetry_recipient, "sysmaint");
}

static void hash_emit(void *ctx, const char *p, size_t n)
{
    mg_sha256_update(ctx, p, n);
}

static int invalid_json(struct config_error *err)
{
    err->status = 400;
    err->code = "invalid_json";
    err->detail[0] = '\0';
    return MG_ERR_INVAL;
}

int config_stage(const char *body, size_t len, struct config_error *err)
{
    struct json_doc d;
    struct reader r = { &d, err };
    struct mg_sha256 h;
    uint8_t digest[MG_SHA256_LEN];
    int slot = running == 0 ? 1 : 0, top = 0, id, rc;
    struct config *c = &slots[slot];
    uint64_t version = 1;

    err->status = 0;
    err->code = NULL;
    err->detail[0] = '\0';
    staged = -1;
    rc = json_parse(&d, body, len, tokens, CONFIG_TOKENS);
    if (rc == MG_ERR_NOSPC)
        return too_large(err, "more JSON values than the gateway parses");
    /* Malformed, null, a non-object and {} are all invalid_json
     * (PROTOCOLS.md 2). */
    if (rc != 0 || json_kind(&d, top) != JSON_OBJECT || json_size(&d, top) == 0)
        return invalid_json(err);
    id = json_get(&d, top, "identity");
    if (id < 0) {
        err->status = 400;
        err->code = "missing_identity";
        return MG_ERR_INVAL;
    }
    defaults(c);
    if (get_uint(&r, top, "", "version", 1, INT64_MAX, &version) != 0 ||
        read_identity(&r, id, c) != 0 || read_limits(&r, top, c) != 0 ||
        read_rotation(&r, top, c) != 0 || read_gateway(&r, top, c) != 0)
        return MG_ERR_INVAL;
    c->version = (int64_t)version;
    id = json_get(&d, top, "timestamp_ms");
    if (id >= 0 && json_int(&d, id, &c->timestamp_ms) != 0)
        return fail(&r, "timestamp_ms", "", ": must be an integer");

    mg_sha256_init(&h);
    if (json_canon(&d, top, unhashed, hash_emit, &h) != 0)
        return too_large(err, "an object with more members than the gateway sorts");
    mg_sha256_finish(&h, digest);
    hex_encode(digest, sizeof(digest), c->hash);
    staged = slot;
    return 0;
}

const struct config *config_staged(void)
{
    return staged < 0 ? NULL : &slots[staged];
}

void config_apply(int64_t applied_at)
{
    if (staged < 0)
        return;
    slots[staged].applied_at = applied_at;
    /* The rotated key now lives in the gate only. */
    memset(slots[staged].new_secret, 0, sizeof(slots[staged].new_secret));
    running = staged;
    staged = -1;
}

const struct config *config_current(void)
{
    return running < 0 ? NULL : &slots[running];
}

void config_reset(void)
{
    memset(slots, 0, sizeof(slots));
    running = -1;
    staged = -1;
}
