#include "repl.h"

#include <stdio.h>
#include <string.h>

#include "board.h"
#include "clock.h"
#include "confsync/config.h"
#include "console/console.h"
#include "crypto.h"
#include "diag/log.h"
#include "diag/textbuf.h"
#include "json/json.h"
#include "keystore.h"
#include "mg_err.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "node/node.h"
#include "peer/peer.h"
#include "peer/peer_auth.h"
#include "pool.h"
#include "relay/journal.h"
#include "relay/mailbox.h"
#include "relay/relay.h"
#include "relay/users.h"
#include "repl/outbox.h"
#include "repl/replica.h"
#include "strhash.h"

#define REPL_INFLIGHT      3      /* requests out at once (of HTTP_CLIENT_SLOTS) */
#define REPL_PUSH_INFLIGHT 2      /* of which pushes: a pull always finds one */
#define BACKOFF_MIN_MS     1000
#define BACKOFF_MAX_MS     60000
#define ACK_BATCH          32     /* msg_ids per ack request */
#define REPLAY_TTL_MS      (2 * PEER_AUTH_WINDOW_MS)   /* a signature is valid +-30 s */
#define PULL_OUT_MAX       (15 * 1024)                 /* fits one send buffer */
#define PULL_TOKENS        2048
#define PULL_MERGE_MAX     64     /* messages merged from one pull answer */
#define NO_CREDENTIALS_MS  10000  /* a peer we cannot authenticate to: look again */

#define PATH_REPLICATE "/api/mesh/dm/replicate-envelope"
#define PATH_ACK       "/api/mesh/dm/ack"
#define PATH_PULL      "/api/mesh/dm/pull"

_Static_assert(BOARD_PEERS <= 32, "peer masks are 32 bits");
_Static_assert(BOARD_PEERS <= 256, "a job's number is a peer slot");

static struct {
    unsigned long push_ok, push_duplicate, push_rejected, push_error;
    unsigned long in_stored, in_duplicate, in_refused, in_denied, in_bad;
    unsigned long acks_sent, acks_failed, acks_in, acks_replayed, acks_lost, dropped_by_ack;
    unsigned long pulls, pulls_failed, pulled, pulls_served;
} st;

/* Per registry slot: backoff, and whether a request to it is out (one at a
 * time per peer). */
struct peer_state {
    char name[PEER_NAME_MAX];
    uint64_t next_ms;
    uint32_t backoff_ms;
    int busy;
};
static struct peer_state ps[BOARD_PEERS];

enum req_kind { REQ_FREE, REQ_PUSH, REQ_ACK, REQ_PULL };

struct request {
    uint8_t kind;
    uint8_t peer;                   /* registry slot */
    uint16_t job;                   /* REQ_PUSH: outbox slot */
    uint16_t user;                  /* REQ_PULL: the recipient's index */
    uint16_t n;                     /* REQ_ACK: ids sent */
    char ids[ACK_BATCH][JOURNAL_ID_MAX];
};
static struct request reqs[REPL_INFLIGHT];
POOL_DEFINE(repl_requests, reqs)

/* msg_ids that left this relay, newest last (a ring), chained by hash:
 * every local ack asks whether its id is here. */
#define TOMB_BUCKETS BOARD_REPL_TOMBSTONES
struct tomb {
    char msg_id[JOURNAL_ID_MAX];
    uint16_t to;
    uint16_t next_plus_1;           /* in its bucket's chain; 0 ends it */
};
static struct tomb tombs[BOARD_REPL_TOMBSTONES];
POOL_DEFINE(repl_tombstones, tombs)
static size_t tomb_next;
static uint16_t tomb_buckets[TOMB_BUCKETS];    /* first slot + 1; 0: empty */

/* Acks still to tell: a bit per registry slot (a ring; the oldest is lost
 * when it is full, counted; a pull finds the ids again). */
struct ack {
    char msg_id[JOURNAL_ID_MAX];
    char to[USER_ID_MAX];
    uint32_t todo;
};
static struct ack acks[BOARD_REPL_ACKS];
POOL_DEFINE(repl_acks, acks)
static size_t ack_next;

/* Signatures of acks taken in the replay window. */
struct seen_sig {
    uint8_t h[16];
    int64_t at;
};
static struct seen_sig seen[BOARD_REPL_REPLAY];
POOL_DEFINE(repl_replay, seen)

/* Per recipient: the connection a pull was made for, and its progress. */
struct pull {
    const struct http_conn *ws;
    uint8_t active;
    uint32_t todo, out;             /* peers to ask, peers asked and not answered */
    uint64_t until;                 /* the hold ends then whatever happened */
};
static struct pull pulls[BOARD_RELAY_USERS];

/* Replicas appended, answered once the pass's commit made them durable. */
struct staged {
    struct http_deferred reply;
    uint16_t slot;
};
static struct staged staged[BOARD_HTTP_CONNS];
POOL_DEFINE(repl_staged, staged)
static size_t n_staged;

static char body_buf[HTTP_CLIENT_REQ_MAX - 1024];   /* a push, an ack: the client copies it */
static char env_buf[JOURNAL_ENVELOPE_MAX];
static jsmntok_t ptok[PULL_TOKENS];

/* --- small helpers ---------------------------------------------------------- */

static int64_t wall(void)
{
    return hal_clock_wall_ms();
}

static void self_url(char out[48])
{
    char ip[16];

    node_ip(ip);
    snprintf(out, 48, "http://%s:%u", ip, (unsigned)BOARD_PORT_PEER);
}

/* The URL a push to p is addressed to (X-Peer-Url, PROTOCOLS.md 5): as the
 * config lists it, else http://host:port for a peer the coordinator
 * listed. */
static void target_url(const struct config *cfg, const struct peer *p, char out[CONFIG_URL_MAX])
{
    size_t i;

    for (i = 0; cfg && i < cfg->n_peers; i++) {
        if (strcmp(cfg->peers[i].name, p->name) == 0) {
            snprintf(out, CONFIG_URL_MAX, "%s", cfg->peers[i].url);
            return;
        }
    }
    snprintf(out, CONFIG_URL_MAX, "http://%s:%u", p->host, (unsigned)p->port);
}

/* The registry slot's state, reset when the slot now holds another peer. */
static struct peer_state *state_of(size_t k, const struct peer *p)
{
    if (strcmp(ps[k].name, p->name) != 0) {
        memset(&ps[k], 0, sizeof(ps[k]));
        snprintf(ps[k].name, sizeof(ps[k].name), "%s", p->name);
    }
    return &ps[k];
}

static int peer_slot(const char *name)
{
    size_t k;

    for (k = 0; k < BOARD_PEERS; k++) {
        const struct peer *p = peers_slot(k);
        if (p && strcmp(p->name, name) == 0)
            return (int)k;
    }
    return -1;
}

/* A peer of the registry other than this node. */
static const struct peer *other_peer(size_t k)
{
    const struct peer *p = peers_slot(k);

    return p && strcmp(p->name, node_name()) != 0 ? p : NULL;
}

/* Peers that take section 4 requests from us (acks, pulls). */
static uint32_t signed_mask(void)
{
    uint32_t m = 0;
    size_t k;

    for (k = 0; k < BOARD_PEERS; k++) {
        const struct peer *p = other_peer(k);
        if (p && p->has_key)
            m |= 1u << k;
    }
    return m;
}

static void backoff(struct peer_state *s, uint64_t now)
{
    s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (s->backoff_ms > BACKOFF_MAX_MS)
        s->backoff_ms = BACKOFF_MAX_MS;
    s->next_ms = now + s->backoff_ms;
}

static struct request *req_take(enum req_kind kind, size_t peer)
{
    size_t i;

    for (i = 0; i < REPL_INFLIGHT; i++) {
        if (reqs[i].kind == REQ_FREE) {
            memset(&reqs[i], 0, sizeof(reqs[i]));
            reqs[i].kind = (uint8_t)kind;
            reqs[i].peer = (uint8_t)peer;
            pool_take(&repl_requests_pool);
            return &reqs[i];
        }
    }
    return NULL;
}

static void req_give(struct request *r)
{
    r->kind = REQ_FREE;
    pool_give(&repl_requests_pool);
}

static size_t inflight(enum req_kind kind)
{
    size_t i, n = 0;

    for (i = 0; i < REPL_INFLIGHT; i++)
        n += reqs[i].kind == kind;
    return n;
}

/* --- tombstones --------------------------------------------------------------- */

static uint16_t *tomb_bucket(const char *msg_id)
{
    return &tomb_buckets[strhash(msg_id) % TOMB_BUCKETS];
}

int repl_forgotten(const char *msg_id)
{
    uint16_t i;

    for (i = *tomb_bucket(msg_id); i; i = tombs[i - 1].next_plus_1)
        if (strcmp(tombs[i - 1].msg_id, msg_id) == 0)
            return 1;
    return 0;
}

void repl_forget(const char *msg_id, uint16_t to)
{
    uint16_t slot = (uint16_t)tomb_next, *p;
    struct tomb *t = &tombs[slot];

    if (!replica_msg_id_ok(msg_id) || repl_forgotten(msg_id))
        return;
    if (!t->msg_id[0]) {
        pool_take(&repl_tombstones_pool);
    } else {
        for (p = tomb_bucket(t->msg_id); *p && *p != slot + 1; p = &tombs[*p - 1].next_plus_1)
            ;                       /* the oldest is in its chain: unlink it */
        if (*p)
            *p = t->next_plus_1;
    }
    snprintf(t->msg_id, sizeof(t->msg_id), "%s", msg_id);
    t->to = to;
    p = tomb_bucket(msg_id);
    t->next_plus_1 = *p;
    *p = (uint16_t)(slot + 1);
    tomb_next = (tomb_next + 1) % BOARD_REPL_TOMBSTONES;
}

/* A message leaves because a peer said it was acked there: no ack goes
 * back out, and it is remembered as seen. */
static void drop_acked(uint16_t slot)
{
    const struct msg *m = mailbox_at(slot);

    if (!m || m->state == MSG_FREE || m->state == MSG_STAGED)
        return;
    if (journal_append_delete(m->msg_id) != 0)
        log_printf("repl: journal refused a delete of %s", m->msg_id);
    repl_forget(m->msg_id, m->to);
    mailbox_remove(slot);
    st.dropped_by_ack++;
}

/* --- storing replicas ------------------------------------------------------------ */

/* Section 5's checks past authentication and parsing, then the store (STAGED:
 * the caller makes it durable). 1 with *slot; else 0 with the answer in
 * status and out. */
static int take_replica(const struct replica *r, int *status, char *out, size_t cap,
                        uint16_t *slot)
{
    const struct config *cfg = config_current();
    struct replica_facts f = { 1, 1, NULL, 0, 0, 0, 0, 0 };
    struct user *from = users_find(r->from), *to = users_find(r->to);
    struct journal_deposit jd;
    journal_handle h = 0;
    int64_t expires;

    f.duplicate = mailbox_find(r->msg_id) != MAILBOX_NONE || repl_forgotten(r->msg_id);
    f.depth = to ? mailbox_depth(users_index(to)) : 0;
    f.mailbox_cap = cfg ? cfg->mailbox_cap : CONFIG_DEFAULT_MAILBOX_CAP;
    f.pending = from && to ? mailbox_pending(users_index(from), users_index(to)) : 0;
    f.limit = cfg ? cfg->pending_per_sender : CONFIG_DEFAULT_PENDING_PER_SENDER;
    if (!replica_decide(&f, r->msg_id, status, out, cap))
        return 0;
    /* The TTL runs from the original deposit, wherever it was made (a
     * deposit time in the future buys no more than a deposit now). */
    expires = (r->deposited_at < wall() ? r->deposited_at : wall()) +
              (int64_t)(cfg ? cfg->ttl_ms : CONFIG_DEFAULT_TTL_MS);
    if (expires <= wall()) {
        replica_stored_json(r->msg_id, out, cap);   /* expired on arrival: nothing to keep */
        return 0;
    }
    if ((!from && !(from = users_add(r->from))) || (!to && !(to = users_add(r->to)))) {
        *status = 503;
        snprintf(out, cap, "{\"ok\":false,\"detail\":\"User table full\"}");
        return 0;
    }
    memset(&jd, 0, sizeof(jd));
    memcpy(jd.msg_id, r->msg_id, sizeof(jd.msg_id));
    memcpy(jd.from, r->from, sizeof(jd.from));
    memcpy(jd.to, r->to, sizeof(jd.to));
    jd.deposited_at = r->deposited_at;
    jd.expires_at = expires;
    jd.envelope_len = (uint32_t)r->envelope_len;
    *slot = MAILBOX_NONE;
    if (journal_append_deposit(&jd, r->envelope, &h) == 0) {
        *slot = mailbox_add(r->msg_id, users_index(from), users_index(to), r->deposited_at,
                            expires, 0, h, (uint32_t)r->envelope_len);
        if (*slot == MAILBOX_NONE)
            (void)journal_append_delete(r->msg_id);
    }
    if (*slot == MAILBOX_NONE) {
        *status = 503;
        snprintf(out, cap, "{\"ok\":false,\"detail\":\"Storage full\"}");
        return 0;
    }
    return 1;
}

static void commit_staged(void)
{
    char out[96];
    int rc;
    size_t i;

    if (!n_staged)
        return;
    /* Normally the relay's group commit of this pass already covered them. */
    rc = journal_pending() ? journal_commit() : 0;
    for (i = 0; i < n_staged; i++) {
        struct msg *m = mailbox_at(staged[i].slot);
        if (!m)
            continue;
        if (rc != 0) {
            mailbox_remove(staged[i].slot);
            snprintf(out, sizeof(out), "{\"ok\":false,\"detail\":\"Storage failed\"}");
            http_respond_deferred(staged[i].reply, 503, "application/json", out, strlen(out));
            continue;
        }
        m->state = MSG_QUEUED;
        relay_push_soon();
        st.in_stored++;
        replica_stored_json(m->msg_id, out, sizeof(out));
        http_respond_deferred(staged[i].reply, 200, "application/json", out, strlen(out));
    }
    n_staged = 0;
    pool_set_used(&repl_staged_pool, 0);
}

/* --- inbound: replicate-envelope ------------------------------------------------- */

static void replicate_in(struct http_conn *c, const struct http_request *req, const char *body,
                         size_t len)
{
    const struct config *cfg = config_current();
    struct replica_facts f = { 0, 0, NULL, 0, 0, 0, 0, 0 };
    struct replica r;
    const char *who = NULL;
    char out[256];
    uint16_t slot;
    int status;

    /* The server already answered 413 for a body over 64 KiB, unread. */
    if (http_header_get(req, "X-Peer-HMAC")) {
        char self[48];
        self_url(self);
        f.authenticated = replica_auth_hmac(cfg, self, req, body, len, &who) == 0;
    } else if (http_header_get(req, "X-Nara-Signature")) {
        const struct peer *p;
        f.authenticated = cfg && peer_verify(req, body, len, wall(), &p, &who) == 0;
    }
    if (f.authenticated)
        f.parsed = replica_parse(body, len, JOURNAL_ENVELOPE_MAX, &r, &f.why) == 0;
    if (!f.authenticated || !f.parsed) {
        if (!f.authenticated)
            st.in_denied++;
        else
            st.in_bad++;
        replica_decide(&f, "", &status, out, sizeof(out));
        http_respond(c, status, "application/json", out, strlen(out));
        return;
    }
    if (n_staged == sizeof(staged) / sizeof(staged[0])) {
        http_respond_json(c, 503, "{\"ok\":false,\"detail\":\"Busy\"}");
        return;
    }
    if (!take_replica(&r, &status, out, sizeof(out), &slot)) {
        if (strstr(out, "\"duplicate\":true"))
            st.in_duplicate++;
        else
            st.in_refused++;
        http_respond(c, status, "application/json", out, strlen(out));
        return;
    }
    staged[n_staged].reply = http_defer(c);
    staged[n_staged].slot = slot;
    n_staged++;
    pool_set_used(&repl_staged_pool, n_staged);
}

/* --- inbound: ack ---------------------------------------------------------------- */

/* 1 if the signature was taken before (within its window), else it is
 * remembered; -1 when the cache is full of live signatures. */
static int replayed(const struct http_str *sig, int64_t now)
{
    uint8_t h[MG_SHA256_LEN];
    int free_i = -1;
    size_t i;

    mg_sha256(sig->p, sig->len, h);
    for (i = 0; i < BOARD_REPL_REPLAY; i++) {
        if (seen[i].at && now - seen[i].at > REPLAY_TTL_MS) {
            seen[i].at = 0;
            pool_give(&repl_replay_pool);
        }
        if (seen[i].at && memcmp(seen[i].h, h, sizeof(seen[i].h)) == 0)
            return 1;
        if (!seen[i].at && free_i < 0)
            free_i = (int)i;
    }
    if (free_i < 0)
        return -1;
    memcpy(seen[free_i].h, h, sizeof(seen[free_i].h));
    seen[free_i].at = now;
    pool_take(&repl_replay_pool);
    return 0;
}

/* {"to":id,"msg_ids":[...]}: the peer's recipient acked these; our copies go. */
static void ack_in(struct http_conn *c, const struct http_request *req, const char *body,
                   size_t len, const struct peer *from)
{
    static const char replay_text[] = "Authentication failed: replayed signature";
    const struct http_str *sig = http_header_get(req, "X-Nara-Signature");
    struct json_doc d;
    char to_id[USER_ID_MAX], out[64];
    const struct user *to;
    int ids, k, n = 0, seen_before;

    (void)from;
    seen_before = sig ? replayed(sig, wall()) : 1;
    if (seen_before == 1) {
        st.acks_replayed++;
        http_respond(c, 401, "text/plain", replay_text, sizeof(replay_text) - 1);
        return;
    }
    if (seen_before < 0) {
        http_respond_error(c, 503, "replay_cache_full");
        return;
    }
    if (json_parse(&d, body, len, ptok, PULL_TOKENS) != 0 || json_kind(&d, 0) != JSON_OBJECT ||
        json_kind(&d, json_get(&d, 0, "to")) != JSON_STRING ||
        json_str(&d, json_get(&d, 0, "to"), to_id, sizeof(to_id)) <= 0 ||
        json_kind(&d, (ids = json_get(&d, 0, "msg_ids"))) != JSON_ARRAY) {
        http_respond_json(c, 400, "{\"ok\":false,\"detail\":\"Invalid JSON\"}");
        return;
    }
    st.acks_in++;
    to = users_find(to_id);
    for (k = json_first(&d, ids); to && k >= 0; k = json_next(&d, ids, k)) {
        char id[JOURNAL_ID_MAX];
        uint16_t s;
        const struct msg *m;

        if (json_str(&d, k, id, sizeof(id)) <= 0 || !replica_msg_id_ok(id))
            continue;
        s = mailbox_find(id);
        m = mailbox_at(s);
        if (m && m->to == users_index(to)) {
            drop_acked(s);
            n++;
        } else if (!m) {
            repl_forget(id, users_index(to));   /* a replica still on its way is late */
        }
    }
    snprintf(out, sizeof(out), "{\"ok\":true,\"dropped\":%d}", n);
    http_respond_json(c, 200, out);
}

/* --- inbound: pull ------------------------------------------------------------- */

/* GET /api/mesh/dm/pull?to=id: {"ok":true,"to":id,"messages":[replica...],
 * "acked":[msg_id...],"more":bool}; what fits one answer, oldest first. */
static void pull_in(struct http_conn *c, const struct http_request *req, const char *body,
                    size_t len, const struct peer *from)
{
    static char out[PULL_OUT_MAX];
    char id[USER_ID_MAX];
    const struct user *u;
    struct textbuf b;
    int more = 0, first = 1;
    uint16_t s;
    size_t i;

    (void)body;
    (void)len;
    (void)from;
    if (http_query_param(&req->query, "to", id, sizeof(id)) <= 0) {
        http_respond_json(c, 400, "{\"ok\":false,\"detail\":\"to: required\"}");
        return;
    }
    st.pulls_served++;
    u = users_find(id);
    textbuf_init(&b, out, sizeof(out));
    textbuf_printf(&b, "{\"ok\":true,\"to\":");
    textbuf_json_string(&b, id);
    textbuf_printf(&b, ",\"messages\":[");
    for (s = u ? mailbox_first(users_index(u)) : MAILBOX_NONE; s != MAILBOX_NONE;
         s = mailbox_next(s)) {
        const struct msg *m = mailbox_at(s);
        struct journal_deposit jd;
        struct replica r;

        if (m->state != MSG_QUEUED && m->state != MSG_SENT)
            continue;
        /* Room for this one and the acked list. */
        if (b.len + m->len + 512 + 64 * JOURNAL_ID_MAX > sizeof(out)) {
            more = 1;
            break;
        }
        if (journal_read(m->h, &jd, env_buf, sizeof(env_buf)) != 0)
            continue;
        memset(&r, 0, sizeof(r));
        memcpy(r.msg_id, m->msg_id, sizeof(r.msg_id));
        snprintf(r.from, sizeof(r.from), "%s", users_at(m->from)->id);
        snprintf(r.to, sizeof(r.to), "%s", u->id);
        r.deposited_at = m->deposited_at;
        r.envelope = env_buf;
        r.envelope_len = m->len;
        textbuf_printf(&b, first ? "" : ",");
        replica_write(&b, &r);
        first = 0;
    }
    textbuf_printf(&b, "],\"acked\":[");
    first = 1;
    for (i = 0; u && i < BOARD_REPL_TOMBSTONES && b.len + 2 * JOURNAL_ID_MAX < sizeof(out); i++) {
        const struct tomb *t = &tombs[(tomb_next + BOARD_REPL_TOMBSTONES - 1 - i) %
                                      BOARD_REPL_TOMBSTONES];
        if (!t->msg_id[0] || t->to != users_index(u))
            continue;
        textbuf_printf(&b, "%s\"%s\"", first ? "" : ",", t->msg_id);
        first = 0;
    }
    textbuf_printf(&b, "],\"more\":%s}", more ? "true" : "false");
    if (b.overflow)
        http_respond_error(c, 500, "pull_too_large");
    else
        http_respond(c, 200, "application/json", out, b.len);
}

/* --- outbound: pushes ---------------------------------------------------------- */

static void push_done(void *ctx, const struct http_client_result *res)
{
    struct request *r = ctx;
    size_t ji = r->job;
    struct outbox_job *job = outbox_at(ji);
    struct peer_state *s = &ps[r->peer];
    uint64_t now = hal_clock_ms();
    int dup = 0;
    enum replica_outcome o = res->rc != 0 ? REPLICA_RETRY
                                          : replica_outcome(res->status, res->body,
                                                            res->body_len, &dup);

    s->busy = 0;
    req_give(r);
    if (!job)
        return;
    if (o == REPLICA_RETRY) {
        st.push_error++;
        if (s->backoff_ms == 0 || s->backoff_ms >= BACKOFF_MAX_MS / 2)
            log_printf("repl: push of %s to %s failed (%s); backing off", job->msg_id, job->peer,
                       res->rc ? res->why : "bad answer");
        backoff(s, now);
        job->state = OUTBOX_WAITING;
        job->attempts++;
        job->next_ms = s->next_ms;
        return;
    }
    s->backoff_ms = 0;
    s->next_ms = 0;
    if (o == REPLICA_OK) {
        st.push_ok++;
        st.push_duplicate += dup;
    } else {
        st.push_rejected++;
        log_printf("repl: %s refused %s (%.*s)", job->peer, job->msg_id,
                   (int)(res->body_len > 120 ? 120 : res->body_len), res->body);
    }
    outbox_finish(ji);
}

/* The pushed body of the message m into body_buf; its length, or -1. */
static int push_body(const struct msg *m)
{
    struct journal_deposit jd;
    struct replica r;
    struct textbuf b;

    if (journal_read(m->h, &jd, env_buf, sizeof(env_buf)) != 0)
        return -1;
    memset(&r, 0, sizeof(r));
    memcpy(r.msg_id, m->msg_id, sizeof(r.msg_id));
    memcpy(r.from, jd.from, sizeof(r.from));
    memcpy(r.to, jd.to, sizeof(r.to));
    r.deposited_at = m->deposited_at;
    r.envelope = env_buf;
    r.envelope_len = jd.envelope_len;
    textbuf_init(&b, body_buf, sizeof(body_buf));
    textbuf_printf(&b, "{\"envelope\":");
    replica_write(&b, &r);
    textbuf_printf(&b, "}");
    return b.overflow ? -1 : (int)b.len;
}

/* Starts job i to the peer in registry slot k; 0 when it is out. */
static int start_push(size_t i, size_t k, const struct msg *m, uint64_t now)
{
    const struct config *cfg = config_current();
    const struct peer *p = peers_slot(k);
    struct outbox_job *job = outbox_at(i);
    const uint8_t *secret;
    struct request *r;
    size_t secret_len;
    int n, rc;

    n = push_body(m);
    if (n < 0) {
        st.push_error++;
        log_printf("repl: %s cannot be pushed (unreadable or too large): dropped", job->msg_id);
        outbox_finish(i);
        return MG_ERR_INVAL;
    }
    secret = replica_secret(cfg, p->name, &secret_len);
    if (!secret && !p->has_key) {
        job->next_ms = now + NO_CREDENTIALS_MS;   /* a config may bring a secret */
        return MG_ERR_AUTH;
    }
    r = req_take(REQ_PUSH, k);
    if (!r)
        return MG_ERR_NOSPC;
    r->job = (uint16_t)i;
    if (secret) {
        char headers[256], url[CONFIG_URL_MAX];
        struct http_client_request hr;
        target_url(cfg, p, url);
        rc = replica_auth_headers(secret, secret_len, url, body_buf, (size_t)n, headers,
                                  sizeof(headers));
        hr = (struct http_client_request){ "POST", p->host, p->port, PATH_REPLICATE, headers,
                                           "application/json", body_buf, (size_t)n,
                                           PEER_TIMEOUT_MS };
        if (rc == 0)
            rc = http_client_start(&hr, push_done, r);
    } else {
        rc = peer_request(p->name, "POST", PATH_REPLICATE, body_buf, (size_t)n, push_done, r);
    }
    if (rc != 0) {
        req_give(r);
        job->next_ms = now + 200;   /* every client slot busy: soon again */
        return rc;
    }
    job->state = OUTBOX_SENDING;
    state_of(k, p)->busy = 1;
    return 0;
}

static void send_pushes(uint64_t now)
{
    int64_t t = wall();
    size_t i;

    if (outbox_count() == 0)
        return;             /* the usual case, checked every pass */
    for (i = 0; i < BOARD_REPL_QUEUE && inflight(REQ_PUSH) < REPL_PUSH_INFLIGHT; i++) {
        struct outbox_job *job = outbox_at(i);
        const struct msg *m;
        struct peer_state *s;
        int k;

        if (!job || job->state != OUTBOX_WAITING || job->next_ms > now)
            continue;
        m = mailbox_at(mailbox_find(job->msg_id));
        if (!m || m->expires_at <= t) {
            outbox_finish(i);   /* acked, delivered or expired meanwhile */
            continue;
        }
        if (m->state == MSG_STAGED)
            continue;           /* not durable yet: nothing to push */
        k = peer_slot(job->peer);
        if (k < 0) {
            job->next_ms = now + NO_CREDENTIALS_MS;   /* not (yet) in the config */
            continue;
        }
        s = state_of((size_t)k, peers_slot((size_t)k));
        if (s->busy || s->next_ms > now)
            continue;
        (void)start_push(i, (size_t)k, m, now);
    }
}

/* --- outbound: acks ------------------------------------------------------------ */

void repl_acked(const char *msg_id, const struct user *u)
{
    struct ack *a = &acks[ack_next];
    uint32_t mask = signed_mask();

    if (!mask || !replica_msg_id_ok(msg_id))
        return;
    if (a->todo)
        st.acks_lost++;
    else
        pool_take(&repl_acks_pool);
    snprintf(a->msg_id, sizeof(a->msg_id), "%s", msg_id);
    snprintf(a->to, sizeof(a->to), "%s", u->id);
    a->todo = mask;
    ack_next = (ack_next + 1) % BOARD_REPL_ACKS;
}

static void ack_clear(size_t i, uint32_t bit)
{
    if (!(acks[i].todo & bit))
        return;
    acks[i].todo &= ~bit;
    if (!acks[i].todo)
        pool_give(&repl_acks_pool);
}

static void ack_done(void *ctx, const struct http_client_result *res)
{
    struct request *r = ctx;
    struct peer_state *s = &ps[r->peer];
    uint32_t bit = 1u << r->peer;
    size_t i, j;

    s->busy = 0;
    if (res->rc != 0 || res->status != 200) {
        st.acks_failed++;
        backoff(s, hal_clock_ms());
        req_give(r);
        return;
    }
    st.acks_sent++;
    s->backoff_ms = 0;
    s->next_ms = 0;
    for (j = 0; j < r->n; j++)
        for (i = 0; i < BOARD_REPL_ACKS; i++)
            if ((acks[i].todo & bit) && strcmp(acks[i].msg_id, r->ids[j]) == 0)
                ack_clear(i, bit);
    req_give(r);
}

static void send_acks(uint64_t now)
{
    size_t k, i;

    if (!repl_acks_pool.used)
        return;
    for (k = 0; k < BOARD_PEERS; k++) {
        const struct peer *p = other_peer(k);
        uint32_t bit = 1u << k;
        struct peer_state *s;
        struct request *r;
        struct textbuf b;
        const char *to = NULL;

        if (!p || !p->has_key) {
            for (i = 0; i < BOARD_REPL_ACKS; i++)
                ack_clear(i, bit);   /* nobody to tell there (any more) */
            continue;
        }
        s = state_of(k, p);
        if (s->busy || s->next_ms > now)
            continue;
        for (i = 0; i < BOARD_REPL_ACKS && !to; i++)
            if (acks[i].todo & bit)
                to = acks[i].to;
        if (!to || !(r = req_take(REQ_ACK, k)))
            continue;
        textbuf_init(&b, body_buf, sizeof(body_buf));
        textbuf_printf(&b, "{\"to\":\"%s\",\"msg_ids\":[", to);
        for (i = 0; i < BOARD_REPL_ACKS && r->n < ACK_BATCH; i++) {
            if (!(acks[i].todo & bit) || strcmp(acks[i].to, to) != 0)
                continue;
            textbuf_printf(&b, "%s\"%s\"", r->n ? "," : "", acks[i].msg_id);
            memcpy(r->ids[r->n++], acks[i].msg_id, JOURNAL_ID_MAX);
        }
        textbuf_printf(&b, "]}");
        if (b.overflow ||
            peer_request(p->name, "POST", PATH_ACK, body_buf, b.len, ack_done, r) != 0) {
            req_give(r);
            continue;
        }
        s->busy = 1;
    }
}

/* --- outbound: pulls ------------------------------------------------------------- */

/* Stores what a peer's pull answer holds for user ui and drops what it says
 * was acked; one commit for all of it before the relay may push. */
static void merge_pull(uint16_t ui, const char *text, size_t len)
{
    const struct user *u = users_at(ui);
    uint16_t got[PULL_MERGE_MAX];
    size_t n = 0, i;
    struct json_doc d;
    int arr, k, rc;

    if (!u || json_parse(&d, text, len, ptok, PULL_TOKENS) != 0 ||
        json_kind(&d, 0) != JSON_OBJECT) {
        st.pulls_failed++;
        return;
    }
    arr = json_get(&d, 0, "acked");
    for (k = json_first(&d, arr); json_kind(&d, arr) == JSON_ARRAY && k >= 0;
         k = json_next(&d, arr, k)) {
        char id[JOURNAL_ID_MAX];
        const struct msg *m;
        uint16_t s;
        if (json_str(&d, k, id, sizeof(id)) <= 0 || !replica_msg_id_ok(id))
            continue;
        s = mailbox_find(id);
        m = mailbox_at(s);
        if (m && m->to == ui)
            drop_acked(s);
        else if (!m)
            repl_forget(id, ui);
    }
    arr = json_get(&d, 0, "messages");
    for (k = json_first(&d, arr); json_kind(&d, arr) == JSON_ARRAY && k >= 0 &&
         n < PULL_MERGE_MAX; k = json_next(&d, arr, k)) {
        struct replica r;
        const char *why;
        char out[256];
        int status;
        if (replica_from_json(&d, k, JOURNAL_ENVELOPE_MAX, &r, &why) != 0 ||
            strcmp(r.to, u->id) != 0)
            continue;
        if (take_replica(&r, &status, out, sizeof(out), &got[n]))
            n++;
    }
    if (!n)
        return;
    rc = journal_commit();
    for (i = 0; i < n; i++) {
        if (rc != 0)
            mailbox_remove(got[i]);
        else
            mailbox_at(got[i])->state = MSG_QUEUED;
    }
    relay_push_soon();
    if (rc == 0)
        st.pulled += n;
}

static void pull_done(void *ctx, const struct http_client_result *res)
{
    struct request *r = ctx;
    struct pull *p = &pulls[r->user];
    uint32_t bit = 1u << r->peer;

    ps[r->peer].busy = 0;
    p->out &= ~bit;
    if (res->rc != 0 || res->status != 200)
        st.pulls_failed++;
    else
        merge_pull(r->user, res->body, res->body_len);
    req_give(r);
}

/* The query value of a relay id (printable ASCII), percent-encoded. */
static void query_escape(const char *s, char *out, size_t cap)
{
    static const char hexd[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *s && o + 4 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            out[o++] = (char)ch;
        } else {
            out[o++] = '%';
            out[o++] = hexd[ch >> 4];
            out[o++] = hexd[ch & 15];
        }
    }
    out[o] = '\0';
}

static void send_pulls(uint64_t now)
{
    size_t ui, k;

    for (ui = 0; ui < users_count(); ui++) {
        struct pull *p = &pulls[ui];
        const struct user *u = users_at((uint16_t)ui);

        if (!u->ws)
            p->ws = NULL;   /* the next connection pulls again */
        if (!p->active)
            continue;
        if (now >= p->until || (!p->todo && !p->out)) {
            p->active = 0;
            relay_push_soon();   /* held messages may go now */
            continue;
        }
        for (k = 0; k < BOARD_PEERS && p->todo; k++) {
            const struct peer *peer = other_peer(k);
            uint32_t bit = 1u << k;
            struct peer_state *s;
            struct request *r;
            char path[sizeof(PATH_PULL) + 4 + 3 * USER_ID_MAX], q[3 * USER_ID_MAX + 1];

            if (!(p->todo & bit))
                continue;
            if (!peer || !peer->has_key) {
                p->todo &= ~bit;
                continue;
            }
            s = state_of(k, peer);
            if (s->next_ms > now) {
                p->todo &= ~bit;   /* backing off: unreachable lately, not worth the hold */
                continue;
            }
            if (s->busy || !(r = req_take(REQ_PULL, k)))
                continue;
            r->user = (uint16_t)ui;
            query_escape(u->id, q, sizeof(q));
            snprintf(path, sizeof(path), "%s?to=%s", PATH_PULL, q);
            if (peer_request(peer->name, "GET", path, NULL, 0, pull_done, r) != 0) {
                req_give(r);
                continue;
            }
            s->busy = 1;
            p->todo &= ~bit;
            p->out |= bit;
        }
    }
}

int repl_holds(const struct user *u)
{
    uint16_t ui = users_index(u);
    struct pull *p;
    uint64_t now;

    if (ui >= BOARD_RELAY_USERS)
        return 0;
    p = &pulls[ui];
    if (p->ws == u->ws && !p->active)
        return 0;   /* the usual case, asked for every user on every pass */
    now = hal_clock_ms();
    if (p->ws != u->ws) {
        /* A new connection: ask the peers before the first push. */
        p->ws = u->ws;
        p->todo = u->ws ? signed_mask() : 0;
        p->out = 0;
        p->active = p->todo != 0;
        p->until = now + REPL_PULL_HOLD_MS;
        st.pulls += p->active;
        if (p->active)
            send_pulls(now);
    }
    if (p->active && (now >= p->until || (!p->todo && !p->out)))
        p->active = 0;
    return p->active;
}

/* --- the relay's side ------------------------------------------------------------ */

void repl_deposited(const char *msg_id, int64_t deposited_at, int64_t expires_at)
{
    size_t k;

    for (k = 0; k < BOARD_PEERS; k++) {
        const struct peer *p = other_peer(k);
        int rc;
        if (!p)
            continue;
        rc = outbox_stage(msg_id, (uint8_t)k, p->name, deposited_at, expires_at);
        if (rc != 0 && (rc != MG_ERR_NOSPC || outbox_refused() == 1 ||
                        outbox_refused() % 100 == 0))
            log_printf("repl: no push of %s to %s: %s (a pull will find it)", msg_id, p->name,
                       mg_strerror(rc));
    }
}

void repl_reset(void)
{
    outbox_reset();
    memset(tombs, 0, sizeof(tombs));
    memset(tomb_buckets, 0, sizeof(tomb_buckets));
    tomb_next = 0;
    repl_tombstones_pool.used = repl_tombstones_pool.high_water = 0;
    memset(acks, 0, sizeof(acks));
    ack_next = 0;
    repl_acks_pool.used = repl_acks_pool.high_water = 0;
    memset(seen, 0, sizeof(seen));
    repl_replay_pool.used = 0;
    memset(pulls, 0, sizeof(pulls));
    memset(ps, 0, sizeof(ps));
    memset(reqs, 0, sizeof(reqs));
    repl_requests_pool.used = 0;
    n_staged = 0;
    memset(&st, 0, sizeof(st));
}

/* --- diagnostics and console ------------------------------------------------------ */

void repl_diagnostics_json(struct textbuf *b)
{
    int64_t oldest = outbox_oldest();

    textbuf_printf(b, ",\"dm_replication_push_ok\":%lu,\"dm_replication_push_rejected\":%lu,"
                   "\"dm_replication_push_error\":%lu,\"replication\":{\"queueDepth\":%zu,"
                   "\"queueCapacity\":%d,\"oldestPendingSec\":%lld,\"queueRefused\":%lu,"
                   "\"queueEvicted\":%lu,"
                   "\"pushDuplicates\":%lu,\"received\":%lu,\"receivedDuplicates\":%lu,"
                   "\"receivedRefused\":%lu,\"receivedDenied\":%lu,\"receivedBad\":%lu,"
                   "\"acksSent\":%lu,\"acksFailed\":%lu,\"acksReceived\":%lu,"
                   "\"acksReplayed\":%lu,\"acksPending\":%zu,\"droppedByAck\":%lu,"
                   "\"pulls\":%lu,\"pulled\":%lu,\"pullsFailed\":%lu,\"pullsServed\":%lu,"
                   "\"tombstones\":%zu}",
                   st.push_ok, st.push_rejected, st.push_error, outbox_count(),
                   BOARD_REPL_QUEUE, (long long)(oldest ? (wall() - oldest) / 1000 : 0),
                   outbox_refused(), outbox_evicted(), st.push_duplicate, st.in_stored, st.in_duplicate,
                   st.in_refused, st.in_denied, st.in_bad, st.acks_sent, st.acks_failed,
                   st.acks_in, st.acks_replayed, repl_acks_pool.used, st.dropped_by_ack,
                   st.pulls, st.pulled, st.pulls_failed, st.pulls_served,
                   repl_tombstones_pool.used);
}

static void repl_cmd(int argc, char **argv)
{
    int64_t oldest = outbox_oldest();
    uint64_t now = hal_clock_ms();
    size_t k;

    (void)argc;
    (void)argv;
    console_printf("pushes     %lu ok (%lu duplicates), %lu rejected, %lu errors\n", st.push_ok,
                   st.push_duplicate, st.push_rejected, st.push_error);
    console_printf("queue      %zu of %d pending, oldest %lld s, %lu evicted and %lu refused "
                   "(full)\n", outbox_count(), BOARD_REPL_QUEUE,
                   (long long)(oldest ? (wall() - oldest) / 1000 : 0), outbox_evicted(),
                   outbox_refused());
    console_printf("received   %lu stored, %lu duplicates, %lu refused, %lu denied, %lu bad\n",
                   st.in_stored, st.in_duplicate, st.in_refused, st.in_denied, st.in_bad);
    console_printf("acks       %lu sent, %lu failed, %zu pending, %lu received, %lu replayed, "
                   "%lu copies dropped\n", st.acks_sent, st.acks_failed, repl_acks_pool.used,
                   st.acks_in, st.acks_replayed, st.dropped_by_ack);
    console_printf("pulls      %lu made, %lu messages merged, %lu failed, %lu served\n",
                   st.pulls, st.pulled, st.pulls_failed, st.pulls_served);
    console_printf("tombstones %zu of %d\n", repl_tombstones_pool.used, BOARD_REPL_TOMBSTONES);
    for (k = 0; k < BOARD_PEERS; k++) {
        const struct peer *p = other_peer(k);
        size_t secret_len;
        if (!p)
            continue;
        console_printf("  %-20s %s:%u auth %s%s, %s\n", p->name, p->host, p->port,
                       replica_secret(config_current(), p->name, &secret_len) ? "hmac" :
                       p->has_key ? "signed" : "none",
                       ps[k].busy ? ", busy" : "",
                       ps[k].next_ms > now ? "backing off" : "ready");
    }
}

static const struct console_cmd commands[] = {
    { "repl", "", "mailbox replication: pushes, queue, acks, pulls, peers", repl_cmd },
};

/* --- the service ---------------------------------------------------------------- */

static void repl_poll(uint64_t now)
{
    commit_staged();
    if (!config_current())
        return;
    send_pulls(now);
    send_acks(now);
    send_pushes(now);
}

static uint64_t repl_next_deadline(uint64_t now)
{
    size_t i;

    if (n_staged)
        return now;
    if (outbox_count() || repl_acks_pool.used)
        return now + 100;
    for (i = 0; i < users_count(); i++)
        if (pulls[i].active)
            return now + 50;
    return LOOP_NO_DEADLINE;
}

static int repl_init(void)
{
    size_t i, dropped = 0;
    int rc;

    /* The journal's mount (relay) refilled the queue: jobs whose message
     * did not come back end now. */
    for (i = 0; i < BOARD_REPL_QUEUE; i++) {
        const struct outbox_job *job = outbox_at(i);
        if (job && mailbox_find(job->msg_id) == MAILBOX_NONE) {
            outbox_finish(i);
            dropped++;
        }
    }
    if (outbox_count() || dropped)
        log_printf("repl: %zu pending pushes from the journal (%zu without their message)",
                   outbox_count(), dropped);
    rc = peer_route_add_self(HTTP_POST, PATH_REPLICATE, replicate_in);
    if (rc == 0)
        rc = peer_route_add(HTTP_POST, PATH_ACK, ack_in);
    if (rc == 0)
        rc = peer_route_add(HTTP_GET, PATH_PULL, pull_in);
    return rc;
}

static const uint16_t needs[] = { KS_NODE, 0 };

const struct service repl_service = {
    .name = "repl",
    .init = repl_init,
    .poll = repl_poll,
    .next_deadline = repl_next_deadline,
    .commands = commands,
    .n_commands = sizeof(commands) / sizeof(commands[0]),
    .keys = needs,
};
