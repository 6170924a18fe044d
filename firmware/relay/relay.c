#include "relay.h"

#include <stdio.h>
#include <string.h>

#include "board.h"
#include "clock.h"
#include "confsync/config.h"
#include "confsync/delivery.h"
#include "confsync/policy.h"
#include "console/console.h"
#include "crypto.h"
#include "diag/diag.h"
#include "diag/log.h"
#include "hex.h"
#include "json/json.h"
#include "mg_err.h"
#include "mbedtls/base64.h"
#include "net/http_server.h"
#include "pool.h"
#include "relay/auth.h"
#include "relay/envelope.h"
#include "relay/forward.h"
#include "relay/journal.h"
#include "relay/local.h"
#include "relay/mailbox.h"
#include "relay/users.h"
#include "repl/outbox.h"
#include "repl/repl.h"

static uint64_t started_ms;
static int journal_ok;

/* One request body's tokens at a time (the loop has one thread). */
#define RELAY_TOKENS 512
static jsmntok_t tokens[RELAY_TOKENS];

/* Writes appended to the journal and not yet durable, oldest first, each
 * answered once the group commit of its ticket has made it so: the flash
 * syncs one batch while the loop takes in the next. */
struct pending {
    struct http_deferred reply;
    uint64_t ticket;            /* journal_ticket() after its append */
    uint16_t slot;              /* a deposit's; MAILBOX_NONE: a registration */
    char id[USER_ID_MAX];       /* a registration's id, for its answer */
};
static struct pending pending[BOARD_HTTP_CONNS];
/* Its high-water is the largest group commit so far. */
POOL_DEFINE(relay_pending, pending);
static size_t n_pending;

static struct {
    unsigned long deposits, deliveries, acks, expired, refused, bytes;
    unsigned long last_deposits, last_deliveries;
    uint64_t last_tick_ms;
    double deposits_per_s, deliveries_per_s;
} st;

/* c is answered once what it just appended is durable (commit_pass()). */
static void answer_when_durable(struct http_conn *c, uint16_t slot, const char *id)
{
    struct pending *p = &pending[n_pending++];
    size_t n;

    p->reply = http_defer(c);
    p->ticket = journal_ticket();
    p->slot = slot;
    n = strnlen(id, sizeof(p->id) - 1);
    memcpy(p->id, id, n);
    p->id[n] = '\0';
    pool_set_used(&relay_pending_pool, n_pending);
}

/* Whether the next poll pushes every connected user: a deposit pushes its
 * recipient at once, so a pass only walks them all after something that
 * may have left a queue unsent (a full socket, a new or closed one, a hold,
 * a replay), and once a second whatever happened. */
static int push_wanted = 1;

void relay_push_soon(void)
{
    push_wanted = 1;
}

static char metrics[1024];   /* the last POST /diagnostics/metrics, as sent */
static size_t metrics_len;

/* A frame or a bundle being written: an envelope and its wrapping. */
static char out[JOURNAL_ENVELOPE_MAX + 512];

/* --- small helpers -------------------------------------------------------- */

static int64_t now_wall(void)
{
    return hal_clock_wall_ms();
}

static void respond(struct http_conn *c, int status, const char *json)
{
    http_respond_json(c, status, json);
}

/* {"error":"Invalid request.","details":"<why>"}: why is our own text. */
static void invalid(struct http_conn *c, const char *why)
{
    struct textbuf b;
    char body[256];

    textbuf_init(&b, body, sizeof(body));
    textbuf_printf(&b, "{\"error\":\"Invalid request.\",\"details\":\"%s\"}", why);
    http_respond(c, 400, "application/json", body, b.len);
}

static void error_code(struct http_conn *c, int status, const char *code)
{
    http_respond_error(c, status, code);
}

/* A relay id: 1..63 printable ASCII bytes without quote or backslash, so it
 * can be written into JSON as it is. */
static int valid_id(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0 || n >= USER_ID_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
            return 0;
    return 1;
}

/* Parses a body that must be a JSON object; answers and returns -1 if not. */
static int parse_object(struct http_conn *c, struct json_doc *d, const char *body, size_t len)
{
    int rc = json_parse(d, body, len, tokens, RELAY_TOKENS);

    if (rc != 0 || json_kind(d, 0) != JSON_OBJECT) {
        respond(c, 400, "{\"error\":\"Invalid JSON body.\"}");
        return -1;
    }
    return 0;
}

/* A string member holding a valid id, into out. */
static int get_id(const struct json_doc *d, const char *key, char out[USER_ID_MAX])
{
    int i = json_get(d, 0, key);

    return i >= 0 && json_kind(d, i) == JSON_STRING && json_str(d, i, out, USER_ID_MAX) > 0 &&
           valid_id(out);
}

/* A JSON object body with a valid "id"; answers and returns -1 if not. */
static int parse_with_id(struct http_conn *c, struct json_doc *d, const char *body, size_t len,
                         char id[USER_ID_MAX])
{
    if (parse_object(c, d, body, len) != 0)
        return -1;
    if (!get_id(d, "id", id)) {
        invalid(c, "id: a string of 1 to 63 printable characters");
        return -1;
    }
    return 0;
}

static enum config_auth auth_mode(void)
{
    const struct config *cfg = config_current();

    return cfg ? cfg->relay_auth : CONFIG_AUTH_SIGNED;
}

/* Writes and WebSocket upgrades need a config (deny-all at boot) and, in
 * signed mode, a signature by who; 1 when the request may go on, else it
 * has been answered. */
static int request_allowed(struct http_conn *c, const struct http_request *req, const char *who,
                         const uint8_t *identity, const char *body, size_t len)
{
    const char *why;
    int status;

    if (!config_current()) {
        error_code(c, 403, "not_configured");
        return 0;
    }
    if (auth_mode() == CONFIG_AUTH_OPEN)
        return 1;
    if (!identity) {
        error_code(c, 401, "no_identity_key");
        return 0;
    }
    status = auth_check(req, who, identity, body, len, now_wall(), &why);
    if (status != 0) {
        error_code(c, status, why);
        return 0;
    }
    return 1;
}

/* --- /health, /diagnostics --------------------------------------------- */

static void health(struct http_conn *c, const struct http_request *req, const char *body,
                   size_t len)
{
    (void)req;
    (void)body;
    (void)len;
    http_respond(c, 200, "text/plain", "ok", 2);
}

static void histogram(unsigned h[4], unsigned long *bytes, int64_t *oldest)
{
    size_t i;
    uint16_t s;

    memset(h, 0, 4 * sizeof(h[0]));
    *bytes = 0;
    *oldest = 0;
    for (i = 0; i < users_count(); i++) {
        uint32_t n = mailbox_depth((uint16_t)i);
        h[n == 0 ? 0 : n <= 5 ? 1 : n <= 20 ? 2 : 3]++;
        for (s = mailbox_first((uint16_t)i); s != MAILBOX_NONE; s = mailbox_next(s)) {
            const struct msg *m = mailbox_at(s);
            *bytes += m->len;
            if (!*oldest || m->deposited_at < *oldest)
                *oldest = m->deposited_at;
        }
    }
}

static size_t ws_connections(void)
{
    size_t i, n = 0;

    for (i = 0; i < users_count(); i++)
        n += users_at((uint16_t)i)->ws != NULL;
    return n;
}

void relay_summary_json(struct textbuf *b, const struct relay_summary *s)
{
    textbuf_printf(b, "\"uptimeSec\":%llu,\"counts\":{\"users\":%zu,\"prekeys\":%zu,"
                   "\"queuedMessages\":%zu,\"activeConnections\":%zu},"
                   "\"queueDepthHistogram\":{\"0\":%u,\"1-5\":%u,\"6-20\":%u,\"21+\":%u}",
                   (unsigned long long)s->uptime_s, s->users, s->prekeys, s->queued,
                   s->connections, s->histogram[0], s->histogram[1], s->histogram[2],
                   s->histogram[3]);
}

/* The summary, plus the bytes queued and the oldest deposit time. */
static void summarize(struct relay_summary *out, unsigned long *bytes, int64_t *oldest)
{
    histogram(out->histogram, bytes, oldest);
    out->uptime_s = (hal_clock_ms() - started_ms) / 1000;
    out->users = users_count();
    out->prekeys = users_bundles();
    out->queued = mailbox_count();
    out->connections = ws_connections();
}

void relay_get_summary(struct relay_summary *out)
{
    unsigned long bytes;
    int64_t oldest;

    summarize(out, &bytes, &oldest);
}

/* The relay's /diagnostics document (PROTOCOLS.md 1) with its own figures
 * under "relay" and the firmware's under "firmware"; NULL if it outgrew its
 * buffer. */
static const char *diagnostics_json(size_t *len)
{
    static char doc[12 * 1024];
    struct forward_stats fw;
    struct journal_stats js;
    struct relay_summary sum;
    struct textbuf b;
    unsigned long bytes;
    int64_t oldest, now = now_wall();

    summarize(&sum, &bytes, &oldest);
    journal_get_stats(&js);
    forward_get_stats(&fw);
    textbuf_init(&b, doc, sizeof(doc));
    textbuf_printf(&b, "{");
    relay_summary_json(&b, &sum);
    textbuf_printf(&b, ",\"metrics\":");
    if (metrics_len)
        textbuf_printf(&b, "%.*s", (int)metrics_len, metrics);
    else
        textbuf_printf(&b, "null");
    textbuf_printf(&b, ",\"relay\":{\"deposits\":%lu,\"deliveries\":%lu,\"acks\":%lu,"
                   "\"expired\":%lu,\"refused\":%lu,\"queuedBytes\":%lu,\"oldestAgeSec\":%lld,"
                   "\"depositsPerSec\":%.1f,\"deliveriesPerSec\":%.1f,"
                   "\"journal\":{\"ok\":%s,\"segments\":%u,\"segmentsFree\":%u,\"bytesTotal\":%u,"
                   "\"bytesUsed\":%u,\"compactions\":%lu,\"tornVoided\":%lu,\"damaged\":%lu,"
                   "\"commits\":%lu,\"syncUsMean\":%llu,\"syncUsMax\":%llu,\"erasesMin\":%u,"
                   "\"erasesMax\":%u},\"forward\":{\"queued\":%lu,\"sent\":%lu,"
                   "\"retries\":%lu,\"failed\":%lu,\"dropped\":%lu,\"pending\":%u}},"
                   "\"firmware\":",
                   st.deposits, st.deliveries, st.acks, st.expired, st.refused, bytes,
                   (long long)(oldest ? (now - oldest) / 1000 : 0), st.deposits_per_s,
                   st.deliveries_per_s, journal_ok ? "true" : "false", js.segments,
                   js.segments_free, js.bytes_total, js.bytes_used, js.compactions,
                   js.torn_voided, js.damaged, js.commits,
                   (unsigned long long)(js.syncs_timed ? js.sync_us_total / js.syncs_timed : 0),
                   (unsigned long long)js.sync_us_max, js.erases_min, js.erases_max, fw.queued,
                   fw.sent, fw.retries, fw.failed, fw.dropped, fw.pending);
    diag_firmware_json(&b);
    repl_diagnostics_json(&b);
    textbuf_printf(&b, "}");
    *len = b.len;
    return b.overflow ? NULL : doc;
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

/* POST /diagnostics/metrics: the host figures a probe reports, kept as sent
 * (a JSON object) and shown under "metrics". */
static void post_metrics(struct http_conn *c, const struct http_request *req, const char *body,
                         size_t len)
{
    struct json_doc d;

    (void)req;
    if (parse_object(c, &d, body, len) != 0)
        return;
    if (len > sizeof(metrics)) {
        error_code(c, 413, "payload_too_large");
        return;
    }
    memcpy(metrics, body, len);
    metrics_len = len;
    respond(c, 200, "{\"ok\":true}");
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

/* --- journal: persistence of messages ----------------------------------- */

/* Users are journaled too, as deposit records of their own whose msg_id
 * names the user and the record's version:
 *     "r:<tag>:<seq>"  registration: from = the id, to = the base64 identity
 *                      key ("" in open mode)
 *     "b:<tag>:<seq>"  bundle: from = the id, the envelope is the bundle in
 *                      the form users_store_bundle() writes
 * tag is 16 hex digits of SHA-256(id), seq counts the user's records of
 * that kind. They never expire; only a user's newest record of a kind is
 * live, so a compaction never carries an old version past a newer one. */
static void user_record_id(char kind, const struct user *u, uint32_t seq,
                           char out[JOURNAL_ID_MAX])
{
    snprintf(out, JOURNAL_ID_MAX, "%c:%s:%08x", kind, u->tag, seq);
}

/* The kind ('r', 'b') and seq of a user record; 0 for a message. */
static char user_record(const char *msg_id, uint32_t *seq)
{
    unsigned long v = 0;
    size_t i;

    if ((msg_id[0] != 'r' && msg_id[0] != 'b') || msg_id[1] != ':' || strlen(msg_id) != 27 ||
        msg_id[18] != ':')
        return 0;
    for (i = 19; i < 27; i++) {
        int d = hex_digit(msg_id[i]);
        if (d < 0)
            return 0;
        v = v * 16 + (unsigned long)d;
    }
    *seq = (uint32_t)v;
    return msg_id[0];
}

/* The user a record names, or NULL. */
static struct user *record_user(const char *msg_id)
{
    size_t i;

    for (i = 0; i < users_count(); i++) {
        struct user *u = users_at((uint16_t)i);
        if (memcmp(u->tag, msg_id + 2, 16) == 0)
            return u;
    }
    return NULL;
}

static int journal_user(char kind, struct user *u, int64_t now, const char *body, size_t len)
{
    struct journal_deposit jd;
    journal_handle h;
    uint32_t *seq = kind == 'r' ? &u->reg_seq : &u->bundle_seq;
    size_t n;
    int rc;

    memset(&jd, 0, sizeof(jd));
    user_record_id(kind, u, *seq + 1, jd.msg_id);
    memcpy(jd.from, u->id, sizeof(jd.from));
    if (kind == 'r' && u->has_key)
        mbedtls_base64_encode((unsigned char *)jd.to, sizeof(jd.to), &n, u->identity, 33);
    jd.deposited_at = now;
    jd.expires_at = INT64_MAX;
    jd.envelope_len = (uint32_t)len;
    rc = journal_append_deposit(&jd, body, &h);
    if (rc == 0) {
        (*seq)++;
        if (kind == 'b')
            u->bundle_h = h;
    }
    return rc;
}

static int journal_registration(struct user *u, int64_t now)
{
    return journal_user('r', u, now, "{}", 2);
}

static int journal_bundle(struct user *u, int64_t now)
{
    static char text[USER_B64_KYBER + 2048];
    int n = users_store_bundle(u, text, sizeof(text));

    return n < 0 ? n : journal_user('b', u, now, text, (size_t)n);
}

static void replay_user(const struct journal_deposit *d, journal_handle h, char kind,
                        uint32_t seq)
{
    struct user *u = users_find(d->from);
    uint8_t key[34];

    if (!u && valid_id(d->from))
        u = users_add(d->from);
    if (!u)
        return;
    if (kind == 'b') {
        /* Read once the mount is over (the journal is busy replaying). */
        u->bundle_h = h;
        u->bundle_seq = seq;
        return;
    }
    u->reg_seq = seq;
    if (d->to[0] && users_b64_decode(d->to, strlen(d->to), key, sizeof(key)) == 33) {
        memcpy(u->identity, key, 33);
        u->has_key = 1;
    }
}

/* After the mount: every user's newest bundle, from its record. */
static void load_bundles(void)
{
    static char text[USER_B64_KYBER + 2048];
    static jsmntok_t tok[RELAY_TOKENS];
    struct json_doc d;
    const char *why;
    size_t i;

    for (i = 0; i < users_count(); i++) {
        struct user *u = users_at((uint16_t)i);
        struct journal_deposit jd;
        int rc;

        if (!u->bundle_h)
            continue;
        rc = journal_read(u->bundle_h, &jd, text, sizeof(text) - 1);
        if (rc == 0) {
            text[jd.envelope_len] = '\0';
            rc = json_parse(&d, text, jd.envelope_len, tok, RELAY_TOKENS) == 0
                     ? users_parse_bundle(&d, 0, &u->bundle, &why)
                     : MG_ERR_CORRUPT;
        }
        if (rc != 0)
            log_printf("relay: the bundle of %s is unreadable (%s): it must be published again",
                       u->id, mg_strerror(rc));
    }
}

static void on_replay_deposit(void *ctx, const struct journal_deposit *d, journal_handle h)
{
    struct user *from, *to;
    uint32_t seq;
    uint16_t slot;
    char kind = user_record(d->msg_id, &seq);

    (void)ctx;
    if (kind) {
        replay_user(d, h, kind, seq);
        return;
    }
    if (outbox_is_record(d->msg_id)) {   /* a push job (repl/outbox.h) */
        outbox_replay(d);
        return;
    }
    slot = mailbox_find(d->msg_id);
    if (slot != MAILBOX_NONE) {   /* a copy a compaction left twice: the newer */
        mailbox_at(slot)->h = h;
        return;
    }
    if (d->expires_at <= now_wall())
        return;
    from = users_find(d->from);
    if (!from && valid_id(d->from))
        from = users_add(d->from);
    to = users_find(d->to);
    if (!to && valid_id(d->to))
        to = users_add(d->to);
    if (!from || !to)
        return;
    slot = mailbox_add(d->msg_id, users_index(from), users_index(to), d->deposited_at,
                       d->expires_at, 0, h, d->envelope_len);
    if (slot != MAILBOX_NONE)
        mailbox_at(slot)->state = MSG_QUEUED;
}

static void on_replay_delete(void *ctx, const char *msg_id)
{
    uint16_t slot = mailbox_find(msg_id);

    (void)ctx;
    if (outbox_is_record(msg_id))
        outbox_replay_delete(msg_id);
    if (slot != MAILBOX_NONE) {
        repl_forget(msg_id, mailbox_at(slot)->to);
        mailbox_remove(slot);
    }
}

static int is_live(void *ctx, const char *msg_id)
{
    const struct msg *m;
    const struct user *u;
    uint32_t seq;
    char kind = user_record(msg_id, &seq);

    (void)ctx;
    if (kind) {   /* users are never deleted: their newest records live */
        u = record_user(msg_id);
        return u && seq == (kind == 'r' ? u->reg_seq : u->bundle_seq);
    }
    if (outbox_is_record(msg_id))
        return outbox_is_live(msg_id);
    m = mailbox_at(mailbox_find(msg_id));
    return m && m->state != MSG_FREE && m->expires_at > now_wall();
}

static void moved(void *ctx, const char *msg_id, journal_handle h)
{
    struct msg *m;
    struct user *u;
    uint32_t seq;

    (void)ctx;
    if (user_record(msg_id, &seq) == 'b') {
        u = record_user(msg_id);
        if (u)
            u->bundle_h = h;
        return;
    }
    m = mailbox_at(mailbox_find(msg_id));
    if (m)
        m->h = h;
}

static const struct journal_callbacks journal_cb = {
    on_replay_deposit, on_replay_delete, is_live, moved, NULL,
};

/* A message leaves the relay: its delete is journaled (durable with the
 * next commit), then its slot is freed. */
static void drop(uint16_t slot)
{
    const struct msg *m = mailbox_at(slot);

    if (!m || m->state == MSG_FREE)
        return;
    if (journal_ok && journal_append_delete(m->msg_id) != 0)
        log_printf("relay: journal refused a delete of %s", m->msg_id);
    repl_forget(m->msg_id, m->to);   /* a late replica of it is a duplicate */
    mailbox_remove(slot);
}

/* --- registration and bundles -------------------------------------------- */

static void do_register(struct http_conn *c, const struct http_request *req, const char *body,
                        size_t len)
{
    struct json_doc d;
    char id[USER_ID_MAX], key_text[USER_B64_33];
    uint8_t key[34];
    const uint8_t *identity = NULL;
    struct user *u;
    int k;

    if (parse_with_id(c, &d, body, len, id) != 0)
        return;
    k = json_get(&d, 0, "identityKey");
    if (k >= 0) {
        if (json_kind(&d, k) != JSON_STRING || json_str(&d, k, key_text, sizeof(key_text)) <= 0 ||
            users_b64_decode(key_text, strlen(key_text), key, sizeof(key)) != 33 ||
            key[0] != 0x05) {
            invalid(c, "identityKey: 33 bytes of base64, type 0x05");
            return;
        }
        identity = key;
    }
    u = users_find(id);
    /* Proof of possession: signed by the key being bound (or the bound one). */
    if (!request_allowed(c, req, id, u && u->has_key ? u->identity : identity, body, len))
        return;
    if (u && u->has_key && identity && memcmp(u->identity, identity, 33) != 0) {
        respond(c, 409, "{\"error\":\"Identity key mismatch.\"}");
        return;
    }
    if (u && (u->has_key || !identity)) {
        char reply[96];
        struct textbuf b;
        textbuf_init(&b, reply, sizeof(reply));
        textbuf_printf(&b, "{\"id\":\"%s\"}", id);
        http_respond(c, 200, "application/json", reply, b.len);   /* nothing new */
        return;
    }
    if (!journal_ok || n_pending == sizeof(pending) / sizeof(pending[0])) {
        error_code(c, 503, journal_ok ? "busy" : "storage_unavailable");
        return;
    }
    if (!u && !(u = users_add(id))) {
        st.refused++;
        error_code(c, 503, "user_table_full");
        return;
    }
    if (identity) {
        memcpy(u->identity, identity, 33);
        u->has_key = 1;
    }
    /* Answered once durable, with the pass's deposits. */
    if (journal_registration(u, now_wall()) != 0) {
        error_code(c, 503, "storage_full");
        return;
    }
    answer_when_durable(c, MAILBOX_NONE, id);
}

static void post_prekeys(struct http_conn *c, const struct http_request *req, const char *body,
                         size_t len)
{
    static struct user_bundle b;
    struct json_doc d;
    char id[USER_ID_MAX];
    const char *why;
    struct user *u;
    int k;

    if (parse_with_id(c, &d, body, len, id) != 0)
        return;
    k = json_get(&d, 0, "bundle");
    if (k < 0 || users_parse_bundle(&d, k, &b, &why) != 0) {
        invalid(c, k < 0 ? "bundle: required" : why);
        return;
    }
    u = users_find(id);
    if (!u) {
        respond(c, 404, "{\"error\":\"User not registered.\"}");
        return;
    }
    if (!request_allowed(c, req, id, u->has_key ? u->identity : NULL, body, len))
        return;
    if (u->has_key) {
        uint8_t key[34];
        if (users_b64_decode(b.identity, strlen(b.identity), key, sizeof(key)) != 33 ||
            memcmp(key, u->identity, 33) != 0) {
            invalid(c, "bundle.identityKey: not the key this id registered");
            return;
        }
    }
    if (!journal_ok || n_pending == sizeof(pending) / sizeof(pending[0])) {
        error_code(c, 503, journal_ok ? "busy" : "storage_unavailable");
        return;
    }
    u->bundle = b;
    if (journal_bundle(u, now_wall()) != 0) {
        error_code(c, 503, "storage_full");
        return;
    }
    /* Answered once durable, with the pass's deposits. */
    answer_when_durable(c, MAILBOX_NONE, "");
}

static void get_prekeys(struct http_conn *c, const struct http_request *req, const char *body,
                        size_t len)
{
    static char bundle[sizeof(out)];
    char id[USER_ID_MAX];
    struct user *u;
    struct textbuf b;
    size_t n = req->path.len - strlen("/v1/prekeys/");
    int blen, consumed;

    (void)body;
    (void)len;
    if (n == 0 || n >= sizeof(id)) {
        respond(c, 404, "{\"error\":\"Prekeys not found.\"}");
        return;
    }
    memcpy(id, req->path.p + strlen("/v1/prekeys/"), n);
    id[n] = '\0';
    u = users_find(id);
    if (!u || !u->bundle.present) {
        respond(c, 404, "{\"error\":\"Prekeys not found.\"}");
        return;
    }
    consumed = u->bundle.n_onetime > 0;
    blen = users_serve_bundle(u, bundle, sizeof(bundle));
    if (blen < 0) {
        error_code(c, 500, "bundle_too_large");
        return;
    }
    /* A one-time prekey handed out must stay handed out across a power
     * cut: the smaller bundle is durable before the answer. */
    if (consumed && (!journal_ok || journal_bundle(u, now_wall()) != 0 || journal_commit() != 0)) {
        error_code(c, 503, "storage_full");
        return;
    }
    textbuf_init(&b, out, sizeof(out));
    textbuf_printf(&b, "{\"id\":\"%s\",\"bundle\":%.*s}", u->id, blen, bundle);
    http_respond(c, 200, "application/json", out, b.len);
}

/* --- deposits ------------------------------------------------------------ */

/* The largest envelope body: gateway.relay.max_envelope_bytes, and
 * validation.max_text_length when that is smaller (the text is encrypted,
 * so its length is the body's). */
static size_t max_body(const struct config *cfg)
{
    size_t n = cfg ? cfg->max_envelope_bytes : CONFIG_DEFAULT_ENVELOPE_BYTES;

    if (cfg && cfg->max_text_length && cfg->max_text_length < n)
        n = cfg->max_text_length;
    return n;
}

/* A msgId's 6 random bytes come from a store that one DRBG call fills for
 * 16 ids: the call's fixed cost (reseed check, update) was most of a
 * 6-byte draw, once per deposit. */
static void make_msg_id(int64_t now, char out_id[JOURNAL_ID_MAX])
{
    static uint8_t id_bytes[16 * 6];
    static size_t left;
    char hex[13];
    struct textbuf b;

    if (left == 0) {
        mg_random(id_bytes, sizeof(id_bytes));
        left = sizeof(id_bytes);
    }
    hex_encode(id_bytes + sizeof(id_bytes) - left, 6, hex);
    left -= 6;
    /* "dm_<ms>_<hex>" in pieces: once per deposit, where printf shows. The
     * longest ("-" and 19 digits) is 37 bytes with its NUL. */
    textbuf_init(&b, out_id, JOURNAL_ID_MAX);
    textbuf_puts(&b, now < 0 ? "dm_-" : "dm_");
    textbuf_u64(&b, now < 0 ? 0 - (uint64_t)now : (uint64_t)now);
    textbuf_puts(&b, "_");
    textbuf_puts(&b, hex);
}

/* The envelope of a deposit (PROTOCOLS.md 1) against the config's limits:
 * 0 with *timestamp its time, or 413 / 400 with *why. */
static int check_envelope(const struct config *cfg, const struct json_doc *d, int env,
                          int64_t now, int64_t *timestamp, const char **why)
{
    int too_big;

    *why = envelope_check(d, env, max_body(cfg), timestamp, &too_big);
    if (too_big) {
        *why = "Envelope too large.";
        return 413;
    }
    if (*why)
        return 400;
    /* validation.max_timestamp_skew_ms: 0 leaves the envelope's time alone. */
    if (cfg && cfg->max_timestamp_skew_ms &&
        (uint64_t)(*timestamp > now ? *timestamp - now : now - *timestamp) >
            cfg->max_timestamp_skew_ms) {
        *why = "envelope.timestamp: further from now than validation.max_timestamp_skew_ms";
        return 400;
    }
    return 0;
}

static const char sender_capped[] = "Per-sender cap reached.";

/* The caps a deposit from from to to must pass, in this order: 200, or 429
 * with *why "Recipient mailbox full." or "Per-sender cap reached." (*pend:
 * the sender's unacked messages there), or 503 "storage_unavailable". */
static int deposit_caps(const struct config *cfg, const struct user *from, const struct user *to,
                        uint32_t *pend, const char **why)
{
    *why = NULL;
    *pend = 0;
    if (mailbox_depth(users_index(to)) >= cfg->mailbox_cap) {
        *why = "Recipient mailbox full.";
        return 429;
    }
    *pend = mailbox_pending(users_index(from), users_index(to));
#ifdef MESHGATE_TEST_IGNORE_CAP
    /* Test images only (build/<board>/meshgate-hostile): a gateway that
     * ignores the cap itself, whose peers must still refuse its replicas. */
    *pend = 0;
#endif
    if (*pend >= cfg->pending_per_sender) {
        *why = sender_capped;
        return 429;
    }
    if (!journal_ok) {
        *why = "storage_unavailable";
        return 503;
    }
    return 200;
}

/* The answer to a deposit deposit_caps() refused (or "busy"): the 429s
 * as the reference words them, the cap with its figures. */
static void refuse_deposit(struct http_conn *c, int status, const char *why, uint32_t pend,
                           uint32_t limit)
{
    char msg[128];
    int n;

    if (status == 503) {
        error_code(c, 503, why);
        return;
    }
    if (why == sender_capped)
        n = snprintf(msg, sizeof(msg), "{\"error\":\"%s\",\"pending\":%u,\"limit\":%u}", why,
                     pend, limit);
    else
        n = snprintf(msg, sizeof(msg), "{\"error\":\"%s\"}", why);
    http_respond(c, status, "application/json", msg, (size_t)n);
}

static void post_message(struct http_conn *c, const struct http_request *req, const char *body,
                         size_t len)
{
    const struct config *cfg;
    struct journal_deposit jd;
    struct policy_verdict pv;
    struct json_doc d;
    char from_id[USER_ID_MAX], to_id[USER_ID_MAX];
    struct user *from, *to;
    const char *why;
    int64_t timestamp = 0, now = now_wall();
    journal_handle h;
    uint16_t slot;
    int env, status, rc;
    size_t env_len;
    uint32_t pend;

    if (parse_object(c, &d, body, len) != 0)
        return;
    if (!get_id(&d, "from", from_id) || !get_id(&d, "to", to_id)) {
        invalid(c, "from, to: strings of 1 to 63 printable characters");
        return;
    }
    env = json_get(&d, 0, "envelope");
    if (env < 0) {
        invalid(c, "envelope: required");
        return;
    }
    cfg = config_current();
    status = check_envelope(cfg, &d, env, now, &timestamp, &why);
    if (status == 413) {
        respond(c, 413, "{\"error\":\"Envelope too large.\"}");
        return;
    }
    if (status) {
        invalid(c, why);
        return;
    }
    from = users_find(from_id);
    if (!from) {
        respond(c, 404, "{\"error\":\"User not registered.\"}");
        return;
    }
    to = users_find(to_id);
    if (!to) {
        respond(c, 404, "{\"error\":\"Recipient not registered.\"}");
        return;
    }
    if (!request_allowed(c, req, from_id, from->has_key ? from->identity : NULL, body, len))
        return;
    pv = policy_deposit(from_id, now);
    if (pv.status) {
        st.refused++;
        if (pv.status == 429) {
            char hdr[48];
            snprintf(hdr, sizeof(hdr), "Retry-After: %u\r\n", pv.retry_after_s);
            http_respond_with(c, 429, hdr, "application/json", "{\"error\":\"rate_limited\"}",
                              strlen("{\"error\":\"rate_limited\"}"));
        } else {
            error_code(c, pv.status, pv.error);
        }
        return;
    }
    /* Past the policy there is a config (cfg): no config is not_configured. */
    status = deposit_caps(cfg, from, to, &pend, &why);
    if (status == 200 && n_pending == sizeof(pending) / sizeof(pending[0])) {
        status = 503;
        why = "busy";
    }
    if (status != 200) {
        st.refused++;
        refuse_deposit(c, status, why, pend, cfg->pending_per_sender);
        return;
    }
    env_len = (size_t)(d.tok[env].end - d.tok[env].start);
    memset(&jd, 0, sizeof(jd));
    make_msg_id(now, jd.msg_id);
    memcpy(jd.from, from_id, sizeof(jd.from));
    memcpy(jd.to, to_id, sizeof(jd.to));
    jd.deposited_at = now;
    jd.expires_at = now + (int64_t)cfg->ttl_ms;
    jd.envelope_len = (uint32_t)env_len;
    rc = journal_append_deposit(&jd, body + d.tok[env].start, &h);
    if (rc == 0) {
        slot = mailbox_add(jd.msg_id, users_index(from), users_index(to), now, jd.expires_at,
                           timestamp, h, (uint32_t)env_len);
        if (slot == MAILBOX_NONE) {
            journal_append_delete(jd.msg_id);
            rc = MG_ERR_NOSPC;
        } else {
            /* Its push jobs join the same group commit (PROTOCOLS.md 5). */
            repl_deposited(jd.msg_id, now, jd.expires_at);
        }
    }
    if (rc != 0) {
        st.refused++;
        error_code(c, 503, "storage_full");
        return;
    }
    answer_when_durable(c, slot, "");
    st.bytes += env_len;
}

/* --- WebSocket delivery --------------------------------------------------- */

/* Pushes what u's socket has not had yet, oldest first, until the socket's
 * send buffer is full (the rest goes from a later poll). */
static void push(struct user *u)
{
    uint16_t s, next;

    if (!u->ws)
        return;
    if (repl_holds(u)) {   /* a fresh connection waits for its pull */
        push_wanted = 1;
        return;
    }
    for (s = mailbox_first(users_index(u)); s != MAILBOX_NONE; s = next) {
        struct msg *m = mailbox_at(s);
        const struct user *from = users_at(m->from);
        struct textbuf b;
        int n;

        next = mailbox_next(s);
        if (m->state != MSG_QUEUED)
            continue;
        textbuf_init(&b, out, sizeof(out));
        textbuf_puts(&b, "{\"from\":\"");
        textbuf_puts(&b, from->id);
        textbuf_puts(&b, "\",\"to\":\"");
        textbuf_puts(&b, u->id);
        textbuf_puts(&b, "\",\"envelope\":");
        n = journal_read(m->h, NULL, out + b.len, sizeof(out) - b.len - 64);
        if (n < 0) {
            log_printf("relay: %s unreadable in the journal (%s): dropped", m->msg_id,
                       mg_strerror(n));
            drop(s);
            continue;
        }
        b.len += (size_t)m->len;
        out[b.len] = '\0';
        textbuf_puts(&b, ",\"msgId\":\"");
        textbuf_puts(&b, m->msg_id);
        textbuf_puts(&b, "\"}");
        if (b.overflow || ws_send(u->ws, WS_OP_TEXT, out, b.len) != 0) {
            push_wanted = 1;   /* the socket is full: a later pass goes on */
            return;
        }
        st.deliveries++;
        if (u->ws_ack) {
            m->state = MSG_SENT;
        } else {
            /* Legacy clients: delivered on send, as the reference does. */
            if (m->timestamp)
                delivery_delivered(m->timestamp, now_wall());
            repl_acked(m->msg_id, u);
            drop(s);
        }
    }
}

/* From the recipient: {"type":"ack","ids":[msg_id, ...]} deletes what it
 * got; {"type":"read","ids":[...]} or {"type":"read","timestamps":[...]}
 * (envelope timestamps: a read receipt may come after the ack) marks them
 * read for delivery tracking. */
static void ws_message(struct http_conn *c, int opcode, const uint8_t *data, size_t len)
{
    struct user *u = http_conn_user(c);
    struct json_doc d;
    int t, ids, k, ack;

    if (!u || opcode != WS_OP_TEXT)
        return;
    if (json_parse(&d, (const char *)data, len, tokens, RELAY_TOKENS) != 0 ||
        json_kind(&d, 0) != JSON_OBJECT)
        return;
    t = json_get(&d, 0, "type");
    ack = t >= 0 && json_str_eq(&d, t, "ack");
    if (t < 0 || (!ack && !json_str_eq(&d, t, "read")))
        return;
    ids = json_get(&d, 0, "timestamps");
    if (!ack && ids >= 0 && json_kind(&d, ids) == JSON_ARRAY) {
        for (k = json_first(&d, ids); k >= 0; k = json_next(&d, ids, k)) {
            int64_t ts;
            if (json_int(&d, k, &ts) == 0)
                delivery_read(ts, now_wall());
        }
        return;
    }
    ids = json_get(&d, 0, "ids");
    if (ids < 0 || json_kind(&d, ids) != JSON_ARRAY)
        return;
    for (k = json_first(&d, ids); k >= 0; k = json_next(&d, ids, k)) {
        char id[JOURNAL_ID_MAX];
        uint16_t s;
        struct msg *m;

        if (json_str(&d, k, id, sizeof(id)) <= 0)
            continue;
        s = mailbox_find(id);
        m = mailbox_at(s);
        if (!m || m->to != users_index(u))
            continue;   /* only the recipient acks its own messages */
        if (m->timestamp)
            (ack ? delivery_delivered : delivery_read)(m->timestamp, now_wall());
        if (ack && (m->state == MSG_SENT || m->state == MSG_QUEUED)) {
            st.acks++;
            repl_acked(id, u);   /* the peers drop their copies */
            drop(s);
        }
    }
}

static void ws_closed(struct http_conn *c, uint16_t code)
{
    struct user *u = http_conn_user(c);
    uint16_t s;

    (void)code;
    if (!u || u->ws != c)
        return;
    u->ws = NULL;
    push_wanted = 1;
    /* Unacked messages go again on the next connection. */
    for (s = mailbox_first(users_index(u)); s != MAILBOX_NONE; s = mailbox_next(s))
        if (mailbox_at(s)->state == MSG_SENT)
            mailbox_at(s)->state = MSG_QUEUED;
}

static const struct ws_handler relay_ws = { ws_message, ws_closed, 64 * 1024 };

static void ws_connect(struct http_conn *c, const struct http_request *req, const char *body,
                       size_t len)
{
    char id[USER_ID_MAX], ack[4];
    struct user *u;
    int n = http_query_param(&req->query, "client_id", id, sizeof(id));

    if (n <= 0) {
        respond(c, 400, "{\"error\":\"client_id required.\"}");
        return;
    }
    u = users_find(id);
    if (!u) {
        respond(c, 401, "{\"error\":\"User not registered.\"}");
        return;
    }
    /* Reading a mailbox is denied before the first config like a write:
     * users and their messages outlive a reboot, the config does not. */
    if (!request_allowed(c, req, id, u->has_key ? u->identity : NULL, body, len))
        return;
    if (http_upgrade_websocket(c, req, &relay_ws) != 0)
        return;
    if (u->ws) {
        struct http_conn *old = u->ws;
        ws_closed(old, 4000);
        http_conn_set_user(old, NULL);
        ws_close(old, 4000, "superseded");
    }
    n = http_query_param(&req->query, "ack", ack, sizeof(ack));
    u->ws = c;
    u->ws_ack = n > 0 && strcmp(ack, "1") == 0;
    http_conn_set_user(c, u);
    /* The queue goes from the next poll, after the 101 has left. */
    push_wanted = 1;
}

/* --- the loop ---------------------------------------------------------------- */

/* A deferred answer with a JSON body. */
static void answer(struct http_deferred d, int status, const char *json)
{
    http_respond_deferred(d, status, "application/json", json, strlen(json));
}

/* A deposit whose record is durable (the commit that covered it returned
 * 0): counted, tracked, forwarded to the bot's inbound URL if it is for the
 * bot, and pushed to a connected recipient. */
static void deposit_stored(const struct config *cfg, struct msg *m)
{
    struct user *to = users_at(m->to);

    m->state = MSG_QUEUED;
    st.deposits++;
    if (m->timestamp)
        delivery_sent(m->timestamp, m->deposited_at);
    if (cfg && cfg->forwarding && cfg->bot_name[0] && strcmp(to->id, cfg->bot_name) == 0)
        forward_enqueue(m->msg_id, m->h);
    push(to);
}

/* The answers of the writes whose group commit has ended: 200 once
 * durable; a commit the flash refused un-stages its deposits (none was
 * stored). */
static void commit_pass(void)
{
    const struct config *cfg = config_current();
    size_t i, failed = 0;
    int rc = 0;

    /* The next sync starts before the answers: the flash works on the new
     * batch while the loop answers and pushes the last one. */
    journal_commit_poll();
    if (journal_ok && journal_commit_start() != 0)
        log_printf("relay: journal refused a commit");
    for (i = 0; i < n_pending; i++) {
        struct pending *p = &pending[i];
        struct msg *m;
        int delivered;

        rc = journal_ticket_state(p->ticket);
        if (rc == MG_ERR_AGAIN)
            break;       /* tickets only grow: the rest wait too */
        failed += rc != 0;

        if (p->slot == MAILBOX_NONE) {
            char reply[96];
            /* A registration answers its id, a bundle {"ok":true}. */
            if (p->id[0])
                snprintf(reply, sizeof(reply), "{\"id\":\"%s\"}", p->id);
            else
                strcpy(reply, "{\"ok\":true}");
            /* A failed commit leaves the user in RAM: registering is
             * idempotent, and the client is told to try again. */
            answer(p->reply, rc ? 503 : 200, rc ? "{\"error\":\"storage_failed\"}" : reply);
            continue;
        }
        m = mailbox_at(p->slot);
        if (rc != 0) {
            mailbox_remove(p->slot);
            answer(p->reply, 503, "{\"error\":\"storage_failed\"}");
            continue;
        }
        deposit_stored(cfg, m);
        /* Sent now: waiting for its ack, or (legacy) already dropped. */
        delivered = m->state != MSG_QUEUED;
        if (delivered)
            answer(p->reply, 200, "{\"ok\":true,\"queued\":true,\"delivered\":true}");
        else
            answer(p->reply, 200, "{\"ok\":true,\"queued\":true,\"delivered\":false}");
    }
    if (failed)
        log_printf("relay: journal commit failed: %zu writes refused", failed);
    memmove(pending, pending + i, (n_pending - i) * sizeof(pending[0]));
    n_pending -= i;
    pool_set_used(&relay_pending_pool, n_pending);
}

/* Once a second, the whole table (a state and a time per slot: a few
 * microseconds); an expired message goes like an acked one. */
static void expire(uint64_t mono, int64_t now)
{
    static uint64_t last;
    uint16_t i;

    if (mono - last < 1000)
        return;
    last = mono;
    push_wanted = 1;
    for (i = 0; i < BOARD_RELAY_MESSAGES; i++) {
        const struct msg *m = mailbox_at(i);
        if ((m->state == MSG_QUEUED || m->state == MSG_SENT) && m->expires_at <= now) {
            st.expired++;
            drop(i);
        }
    }
}

static void relay_poll(uint64_t now)
{
    size_t i;

    commit_pass();
    forward_poll(now);
    expire(now, now_wall());
    if (push_wanted) {
        push_wanted = 0;
        for (i = 0; i < users_count(); i++)
            push(users_at((uint16_t)i));
    }
    /* This pass's deposits and deletes: the flash syncs them while the
     * loop goes on; a later pass answers. */
    if (journal_ok && journal_commit_start() != 0)
        log_printf("relay: journal refused a commit");
    if (now - st.last_tick_ms >= 1000) {
        double secs = (double)(now - st.last_tick_ms) / 1000.0;
        st.deposits_per_s = (double)(st.deposits - st.last_deposits) / secs;
        st.deliveries_per_s = (double)(st.deliveries - st.last_deliveries) / secs;
        st.last_deposits = st.deposits;
        st.last_deliveries = st.deliveries;
        st.last_tick_ms = now;
    }
}

static uint64_t relay_next_deadline(uint64_t now)
{
    /* Answers wait for a running sync, whose end wakes the loop. */
    if (n_pending == 0 || journal_commit_running())
        return now + 1000;
    return now;
}

/* --- console -------------------------------------------------------------------- */

static void relay_cmd(int argc, char **argv)
{
    struct journal_stats js;
    unsigned h[4];
    unsigned long bytes;
    int64_t oldest;

    (void)argc;
    (void)argv;
    histogram(h, &bytes, &oldest);
    journal_get_stats(&js);
    console_printf("users      %zu (%zu with bundles), %zu connected\n", users_count(),
                   users_bundles(), ws_connections());
    console_printf("messages   %zu queued, %lu bytes, oldest %lld s\n", mailbox_count(), bytes,
                   (long long)(oldest ? (now_wall() - oldest) / 1000 : 0));
    console_printf("depths     0: %u  1-5: %u  6-20: %u  21+: %u\n", h[0], h[1], h[2], h[3]);
    console_printf("totals     %lu deposits, %lu deliveries, %lu acks, %lu expired, %lu refused\n",
                   st.deposits, st.deliveries, st.acks, st.expired, st.refused);
    console_printf("rates      %.1f deposits/s, %.1f deliveries/s\n", st.deposits_per_s,
                   st.deliveries_per_s);
    console_printf("journal    %s, %u of %u bytes used, %u/%u segments free, %lu compactions, "
                   "%lu commits\n", journal_ok ? "ok" : "NOT MOUNTED", js.bytes_used,
                   js.bytes_total, js.segments_free, js.segments, js.compactions, js.commits);
    console_printf("syncs      %lu, mean %llu us, longest %llu us\n", js.syncs_timed,
                   (unsigned long long)(js.syncs_timed ? js.sync_us_total / js.syncs_timed : 0),
                   (unsigned long long)js.sync_us_max);
}

static void mailbox_cmd(int argc, char **argv)
{
    struct user *u;
    uint16_t s;
    int n = 0;

    if (argc != 2) {
        console_printf("usage: mailbox <id>\n");
        return;
    }
    u = users_find(argv[1]);
    if (!u) {
        console_printf("mailbox: no user %s\n", argv[1]);
        return;
    }
    console_printf("%s: %u queued, key %s, bundle %s, socket %s\n", u->id, u->queued,
                   u->has_key ? "bound" : "none", u->bundle.present ? "yes" : "no",
                   u->ws ? (u->ws_ack ? "connected (acks)" : "connected") : "none");
    for (s = mailbox_first(users_index(u)); s != MAILBOX_NONE && n < 20; s = mailbox_next(s), n++) {
        const struct msg *m = mailbox_at(s);
        console_printf("  %s from %s, %u B, %s, expires in %lld s\n", m->msg_id,
                       users_at(m->from)->id, m->len,
                       m->state == MSG_SENT ? "sent, unacked" : "queued",
                       (long long)((m->expires_at - now_wall()) / 1000));
    }
    if (s != MAILBOX_NONE)
        console_printf("  ...\n");
}

static const struct console_cmd commands[] = {
    { "relay", "", "users, queued messages, rates and the journal", relay_cmd },
    { "mailbox", "<id>", "one user's queue", mailbox_cmd },
};

/* --- init ---------------------------------------------------------------------- */

static const struct http_route routes[] = {
    { HTTP_GET, "/health", health },
    { HTTP_GET, "/diagnostics", diagnostics },
    { HTTP_POST, "/diagnostics/metrics", post_metrics },
    { HTTP_GET, "/diagnostics/live", diagnostics_live },
    { HTTP_POST, "/v1/register", do_register },
    { HTTP_POST, "/v1/prekeys", post_prekeys },
    { HTTP_GET, "/v1/prekeys/*", get_prekeys },
    { HTTP_POST, "/v1/messages", post_message },
    { HTTP_GET, "/ws", ws_connect },
};

static struct http_listener listener = {
    "relay", BOARD_PORT_RELAY, routes, sizeof(routes) / sizeof(routes[0]), 0,
    "{\"error\":\"Not found.\"}", NULL, 0, 0,
};

static int relay_init(void)
{
    const struct hal_flash_part *part = hal_flash_part("mailbox");
    int rc;

    started_ms = hal_clock_ms();
    st.last_tick_ms = started_ms;
    users_reset();
    mailbox_reset();
    auth_reset();
    policy_reset();
    forward_reset();
    repl_reset();   /* the mount refills its queue */
    rc = part ? journal_mount(part, &journal_cb) : MG_ERR_IO;
    journal_ok = rc == 0;
    push_wanted = 1;   /* what the mount replayed */
    if (journal_ok)
        load_bundles();
    if (journal_ok)
        log_printf("relay: journal mounted, %zu messages for %zu users", mailbox_count(),
                   users_count());
    else
        log_printf("relay: mailbox journal unavailable (%s): deposits answer 503",
                   mg_strerror(rc));
    return http_listen(&listener);
}

const struct service relay_service = {
    .name = "relay",
    .init = relay_init,
    .poll = relay_poll,
    .next_deadline = relay_next_deadline,
    .commands = commands,
    .n_commands = sizeof(commands) / sizeof(commands[0]),
};

/* --- in-process clients (relay/local.h) ------------------------------------ */

/* What a staged journal write becomes for a local caller: durable now. */
static int local_commit(void)
{
    return journal_pending() && journal_commit() != 0 ? MG_ERR_IO : 0;
}

int relay_local_register(const char *id, const uint8_t identity[33])
{
    struct user *u;

    if (!valid_id(id))
        return MG_ERR_INVAL;
    u = users_find(id);
    if (u && u->has_key)
        return memcmp(u->identity, identity, 33) == 0 ? 0 : MG_ERR_EXIST;
    if (!journal_ok)
        return MG_ERR_IO;
    if (!u && !(u = users_add(id)))
        return MG_ERR_NOSPC;
    memcpy(u->identity, identity, 33);
    u->has_key = 1;
    if (journal_registration(u, now_wall()) != 0)
        return MG_ERR_IO;
    return local_commit();
}

int relay_local_publish(const char *id, const char *bundle, size_t len)
{
    static struct user_bundle b;
    struct json_doc d;
    const char *why;
    struct user *u = users_find(id);
    uint8_t key[34];

    if (!u)
        return MG_ERR_NOENT;
    if (json_parse(&d, bundle, len, tokens, RELAY_TOKENS) != 0 ||
        json_kind(&d, 0) != JSON_OBJECT || users_parse_bundle(&d, 0, &b, &why) != 0)
        return MG_ERR_INVAL;
    if (u->has_key && (users_b64_decode(b.identity, strlen(b.identity), key, sizeof(key)) != 33 ||
                       memcmp(key, u->identity, 33) != 0))
        return MG_ERR_INVAL;
    if (!journal_ok)
        return MG_ERR_IO;
    u->bundle = b;
    if (journal_bundle(u, now_wall()) != 0)
        return MG_ERR_IO;
    return local_commit();
}

int relay_local_bundle(const char *id, char *out_buf, size_t cap)
{
    struct user *u = users_find(id);
    int n, consumed;

    if (!u || !u->bundle.present)
        return MG_ERR_NOENT;
    consumed = u->bundle.n_onetime > 0;
    n = users_serve_bundle(u, out_buf, cap - 1);
    if (n < 0)
        return MG_ERR_TOOBIG;
    out_buf[n] = '\0';
    /* As GET /v1/prekeys: a one-time prekey handed out stays handed out. */
    if (consumed && (!journal_ok || journal_bundle(u, now_wall()) != 0 || local_commit() != 0))
        return MG_ERR_IO;
    return n;
}

/* The checks of post_message() past its policy, in its order, without
 * counting anything. */
static int local_caps(const struct user *from, const struct user *to, const char **why)
{
    const struct config *cfg = config_current();
    uint32_t pend;

    *why = NULL;
    if (!from) {
        *why = "User not registered.";
        return 404;
    }
    if (!to) {
        *why = "Recipient not registered.";
        return 404;
    }
    if (!cfg) {
        *why = "not_configured";
        return 403;
    }
    return deposit_caps(cfg, from, to, &pend, why);
}

int relay_local_admit(const char *from, const char *to, const char **why)
{
    return local_caps(users_find(from), users_find(to), why);
}

int relay_local_deposit(const char *from_id, const char *to_id, const char *envelope, size_t len,
                        const char **why)
{
    const struct config *cfg = config_current();
    struct journal_deposit jd;
    struct policy_verdict pv;
    struct json_doc d;
    struct user *from = users_find(from_id), *to = users_find(to_id);
    int64_t timestamp = 0, now = now_wall();
    journal_handle h;
    uint16_t slot;
    int status;

    if (json_parse(&d, envelope, len, tokens, RELAY_TOKENS) != 0) {
        *why = "Invalid JSON body.";
        return 400;
    }
    status = check_envelope(cfg, &d, 0, now, &timestamp, why);
    if (status)
        return status;
    if (!from || !to)
        return local_caps(from, to, why);
    pv = policy_deposit(from_id, now);
    if (pv.status) {
        st.refused++;
        *why = pv.error;
        return pv.status;
    }
    status = local_caps(from, to, why);
    if (status != 200) {
        st.refused++;
        return status;
    }
    memset(&jd, 0, sizeof(jd));
    make_msg_id(now, jd.msg_id);
    memcpy(jd.from, from->id, sizeof(jd.from));
    memcpy(jd.to, to->id, sizeof(jd.to));
    jd.deposited_at = now;
    jd.expires_at = now + (int64_t)cfg->ttl_ms;
    jd.envelope_len = (uint32_t)len;
    slot = MAILBOX_NONE;
    if (journal_append_deposit(&jd, envelope, &h) == 0) {
        slot = mailbox_add(jd.msg_id, users_index(from), users_index(to), now, jd.expires_at,
                           timestamp, h, (uint32_t)len);
        if (slot == MAILBOX_NONE)
            journal_append_delete(jd.msg_id);
    }
    if (slot == MAILBOX_NONE || local_commit() != 0) {
        if (slot != MAILBOX_NONE)
            mailbox_remove(slot);
        st.refused++;
        *why = "storage_full";
        return 503;
    }
    /* Durable: from here as commit_pass() does for an HTTP deposit. */
    st.bytes += len;
    deposit_stored(cfg, mailbox_at(slot));
    *why = NULL;
    return 200;
}

int relay_local_fetch(const char *id, struct relay_local_msg *lm, char *envelope, size_t cap)
{
    struct user *u = users_find(id);
    uint16_t s;
    int n;

    if (!u)
        return MG_ERR_NOENT;
    for (s = mailbox_first(users_index(u)); s != MAILBOX_NONE; s = mailbox_next(s)) {
        const struct msg *m = mailbox_at(s);
        if (m->state != MSG_QUEUED && m->state != MSG_SENT)
            continue;
        memcpy(lm->msg_id, m->msg_id, sizeof(lm->msg_id));
        memcpy(lm->from, users_at(m->from)->id, sizeof(lm->from));
        lm->len = m->len;
        if (m->len >= cap)
            return MG_ERR_TOOBIG;
        n = journal_read(m->h, NULL, envelope, cap - 1);
        if (n < 0) {
            drop(s);
            return MG_ERR_CORRUPT;
        }
        envelope[m->len] = '\0';
        return 0;
    }
    return MG_ERR_NOENT;
}

int relay_local_ack(const char *id, const char *msg_id)
{
    const struct user *u = users_find(id);
    uint16_t s = mailbox_find(msg_id);
    const struct msg *m = mailbox_at(s);

    if (!u || !m || m->to != users_index(u))
        return MG_ERR_NOENT;
    if (m->timestamp)
        delivery_delivered(m->timestamp, now_wall());
    st.acks++;
    drop(s);
    return local_commit();
}
