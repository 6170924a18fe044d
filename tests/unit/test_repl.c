/* Mailbox replication (PROTOCOLS.md 5): the pushed body and its parsing,
 * the receiver's order of checks and its answers byte for byte, what a
 * push's answer means, X-Peer-Url/X-Peer-HMAC with per-peer and global
 * secrets (the section 5 vector), and the push queue's persistence in the
 * journal across remounts and compactions (firmware/repl/outbox.c). */
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "clock.h"
#include "confsync/config.h"
#include "diag/textbuf.h"
#include "flash.h"
#include "flash_image.h"
#include "mg_err.h"
#include "peer/peers.h"
#include "relay/journal.h"
#include "repl/outbox.h"
#include "repl/repl.h"
#include "repl/replica.h"
#include "test.h"

/* --- the body ----------------------------------------------------------------- */

static const char good_body[] =
    "{\"envelope\":{\"msg_id\":\"dm_1700000000000_0123456789ab\",\"from\":\"alice\","
    "\"to\":\"bob\",\"envelope\":{\"version\":1,\"body\":\"aGk=\"},\"deposited_at\":1700000000000}}";

MG_TEST(test_repl_a_replica_body_parses_into_its_fields_and_writes_back_the_same)
{
    struct replica r;
    struct textbuf b;
    const char *why = NULL;
    char out[512];

    CHECK_EQ(replica_parse(good_body, strlen(good_body), 8192, &r, &why), 0);
    CHECK(strcmp(r.msg_id, "dm_1700000000000_0123456789ab") == 0);
    CHECK(strcmp(r.from, "alice") == 0 && strcmp(r.to, "bob") == 0);
    CHECK_EQ(r.deposited_at, 1700000000000LL);
    CHECK_EQ(r.envelope_len, strlen("{\"version\":1,\"body\":\"aGk=\"}"));
    CHECK_MEM(r.envelope, "{\"version\":1,\"body\":\"aGk=\"}", r.envelope_len);
    textbuf_init(&b, out, sizeof(out));
    textbuf_printf(&b, "{\"envelope\":");
    replica_write(&b, &r);
    textbuf_printf(&b, "}");
    CHECK_EQ(b.len, strlen(good_body));
    CHECK_MEM(out, good_body, b.len);
}

MG_TEST(test_repl_a_string_envelope_is_kept_as_json_text)
{
    static const char body[] = "{\"envelope\":{\"msg_id\":\"dm_1_0123456789ab\",\"from\":\"a\","
                               "\"to\":\"b\",\"envelope\":\"Y2lwaGVy\",\"deposited_at\":5}}";
    struct replica r;
    const char *why;

    CHECK_EQ(replica_parse(body, strlen(body), 8192, &r, &why), 0);
    CHECK_EQ(r.envelope_len, 10);
    CHECK_MEM(r.envelope, "\"Y2lwaGVy\"", 10);
}

MG_TEST(test_repl_bad_bodies_are_refused_with_the_field_named)
{
    static const char *const bad[][2] = {
        { "{nope", "Invalid JSON" },
        { "[]", "Invalid JSON" },
        { "{}", "envelope: must be an object" },
        { "{\"envelope\":[]}", "envelope: must be an object" },
        { "{\"envelope\":{\"from\":\"a\",\"to\":\"b\",\"envelope\":{},\"deposited_at\":1}}",
          "msg_id" },
        { "{\"envelope\":{\"msg_id\":\"b:0123456789abcdef:00000001\",\"from\":\"a\",\"to\":\"b\","
          "\"envelope\":{},\"deposited_at\":1}}", "msg_id" },
        { "{\"envelope\":{\"msg_id\":\"dm_1_0123456789AB\",\"from\":\"a\",\"to\":\"b\","
          "\"envelope\":{},\"deposited_at\":1}}", "msg_id" },
        { "{\"envelope\":{\"msg_id\":\"dm_1_0123456789ab\",\"from\":\"a b\",\"to\":\"b\","
          "\"envelope\":{},\"deposited_at\":1}}", "from, to" },
        { "{\"envelope\":{\"msg_id\":\"dm_1_0123456789ab\",\"from\":\"a\",\"to\":\"b\","
          "\"envelope\":3,\"deposited_at\":1}}", "envelope.envelope" },
        { "{\"envelope\":{\"msg_id\":\"dm_1_0123456789ab\",\"from\":\"a\",\"to\":\"b\","
          "\"envelope\":{},\"deposited_at\":\"1\"}}", "deposited_at" },
        { "{\"envelope\":{\"msg_id\":\"dm_1_0123456789ab\",\"from\":\"a\",\"to\":\"b\","
          "\"envelope\":{\"x\":\"0123456789\"},\"deposited_at\":1}}", "larger" },
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct replica r;
        const char *why = NULL;
        CHECK_EQ(replica_parse(bad[i][0], strlen(bad[i][0]), 10, &r, &why), MG_ERR_INVAL);
        CHECK(why && strstr(why, bad[i][1]));
    }
}

MG_TEST(test_repl_msg_ids_are_only_those_of_section_5)
{
    CHECK(replica_msg_id_ok("dm_1700000000000_0123456789ab"));
    CHECK(replica_msg_id_ok("dm_0_000000000000"));
    CHECK(!replica_msg_id_ok("dm__0123456789ab"));
    CHECK(!replica_msg_id_ok("dm_1_0123456789a"));
    CHECK(!replica_msg_id_ok("dm_1_0123456789abc"));
    CHECK(!replica_msg_id_ok("dm_12345678901234567890_0123456789ab"));
    CHECK(!replica_msg_id_ok("p:dm_1_0123456789ab/00"));
    CHECK(!replica_msg_id_ok("r:0123456789abcdef:00000001"));
}

/* The tombstone ring: the newest BOARD_REPL_TOMBSTONES ids are found (by
 * their hash chain), an older one is forgotten when its slot is reused. */
MG_TEST(test_repl_the_last_forgotten_ids_are_remembered_and_older_ones_dropped)
{
    const unsigned extra = 100, n = BOARD_REPL_TOMBSTONES + extra;
    char id[JOURNAL_ID_MAX];
    unsigned i;

    repl_reset();
    CHECK(!repl_forgotten("dm_1_000000000000"));
    for (i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "dm_%u_%012x", 1700000000u + i, i * 2654435761u);
        repl_forget(id, (uint16_t)(i % 7));
        repl_forget(id, (uint16_t)(i % 7));   /* twice: still one slot */
    }
    for (i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "dm_%u_%012x", 1700000000u + i, i * 2654435761u);
        CHECK_EQ(repl_forgotten(id), i >= extra);
    }
    repl_forget("not-a-msg-id", 0);            /* only section 5's ids are kept */
    CHECK(!repl_forgotten("not-a-msg-id"));
    repl_reset();
    CHECK(!repl_forgotten(id));
}

/* --- the receiver's order of checks ------------------------------------------ */

static int decide(struct replica_facts f, int *status, char *out)
{
    return replica_decide(&f, "dm_1_0123456789ab", status, out, 256);
}

MG_TEST(test_repl_the_checks_come_in_the_protocols_order_with_its_bodies)
{
    struct replica_facts all_bad = { 0, 0, "Invalid JSON", 1, 5, 5, 9, 2 };
    char out[256];
    int status;

    CHECK_EQ(decide(all_bad, &status, out), 0);
    CHECK_EQ(status, 403);
    CHECK(strcmp(out, "{\"ok\":false,\"detail\":\"Invalid or missing peer HMAC\"}") == 0);
    all_bad.authenticated = 1;
    CHECK_EQ(decide(all_bad, &status, out), 0);
    CHECK_EQ(status, 400);
    CHECK(strcmp(out, "{\"ok\":false,\"detail\":\"Invalid JSON\"}") == 0);
    all_bad.parsed = 1;   /* a duplicate over the cap in a full mailbox */
    CHECK_EQ(decide(all_bad, &status, out), 0);
    CHECK_EQ(status, 200);
    CHECK(strcmp(out, "{\"ok\":true,\"msg_id\":\"dm_1_0123456789ab\",\"duplicate\":true}") == 0);
    all_bad.duplicate = 0;
    CHECK_EQ(decide(all_bad, &status, out), 0);
    CHECK_EQ(status, 200);
    CHECK(strcmp(out, "{\"ok\":false,\"detail\":\"Recipient mailbox full\"}") == 0);
    all_bad.depth = 4;
    CHECK_EQ(decide(all_bad, &status, out), 0);
    CHECK_EQ(status, 200);
    CHECK(strcmp(out, "{\"ok\":false,\"detail\":\"Per-sender cap reached on this relay; refusing "
                      "replica\",\"cap_violation\":true,\"pending\":9,\"limit\":2}") == 0);
    all_bad.pending = 1;
    CHECK_EQ(decide(all_bad, &status, out), 1);
    replica_stored_json("dm_1_0123456789ab", out, sizeof(out));
    CHECK(strcmp(out, "{\"ok\":true,\"msg_id\":\"dm_1_0123456789ab\"}") == 0);
}

MG_TEST(test_repl_the_cap_is_pending_at_or_over_the_limit)
{
    struct replica_facts f = { 1, 1, NULL, 0, 0, 10, 2, 2 };
    char out[256];
    int status;

    CHECK_EQ(decide(f, &status, out), 0);
    CHECK(strstr(out, "\"pending\":2,\"limit\":2}"));
    f.pending = 1;
    CHECK_EQ(decide(f, &status, out), 1);
}

/* --- a push's answer ---------------------------------------------------------- */

static enum replica_outcome outcome(int status, const char *body, int *dup)
{
    return replica_outcome(status, body, strlen(body), dup);
}

MG_TEST(test_repl_definite_answers_end_a_push_and_anything_else_retries)
{
    int dup;

    CHECK_EQ(outcome(200, "{\"ok\":true,\"msg_id\":\"dm_1_0123456789ab\"}", &dup), REPLICA_OK);
    CHECK_EQ(dup, 0);
    CHECK_EQ(outcome(200, "{\"ok\":true,\"msg_id\":\"x\",\"duplicate\":true}", &dup), REPLICA_OK);
    CHECK_EQ(dup, 1);
    CHECK_EQ(outcome(200, "{\"ok\":false,\"detail\":\"Per-sender cap reached on this relay; "
                          "refusing replica\",\"cap_violation\":true,\"pending\":2,\"limit\":2}",
                     &dup), REPLICA_REFUSED);
    CHECK_EQ(outcome(200, "{\"ok\":false,\"detail\":\"Recipient mailbox full\"}", &dup),
             REPLICA_REFUSED);
    CHECK_EQ(outcome(403, "{\"ok\":false,\"detail\":\"Invalid or missing peer HMAC\"}", &dup),
             REPLICA_RETRY);
    CHECK_EQ(outcome(200, "{\"ok\":false,\"detail\":\"Storage full\"}", &dup), REPLICA_RETRY);
    CHECK_EQ(outcome(500, "", &dup), REPLICA_RETRY);
    CHECK_EQ(outcome(200, "<html>", &dup), REPLICA_RETRY);
    CHECK_EQ(outcome(200, "{\"ok\":\"yes\"}", &dup), REPLICA_RETRY);
    CHECK_EQ(outcome(200, "[true]", &dup), REPLICA_RETRY);
}

/* --- X-Peer-Url / X-Peer-HMAC ----------------------------------------------------- */

static char raw[8192];
static struct http_request req;

static int parse(const char *headers, const char *body)
{
    int status, n = snprintf(raw, sizeof(raw),
                             "POST /api/mesh/dm/replicate-envelope HTTP/1.1\r\nHost: gw\r\n%s"
                             "Content-Length: %zu\r\n\r\n%s", headers, strlen(body), body);

    return http_parse_request(raw, (size_t)n, 4096, 65536, &req, &status) > 0 ? 0 : -1;
}

static int configure(const char *gateway)
{
    char body[1024];
    struct config_error err = { 0, NULL, "" };

    snprintf(body, sizeof(body), "{\"identity\":{},\"gateway\":%s}", gateway);
    config_reset();
    if (config_stage(body, strlen(body), &err) != 0)
        return -1;
    config_apply(1700000000000);
    return 0;
}

MG_TEST(test_repl_push_headers_follow_the_section_5_vector)
{
    static const char secret[] = "shared-secret";
    static const char body[] = "{\"envelope\":{\"msg_id\":\"dm_1_000000000000\"}}";
    char h[256];

    /* The key of the vector (test_peerkey.c), over this body. */
    CHECK_EQ(replica_auth_headers((const uint8_t *)secret, sizeof(secret) - 1,
                                  "HTTP://Peer-B.example:8000/", body, sizeof(body) - 1, h,
                                  sizeof(h)), 0);
    CHECK(strcmp(h, "X-Peer-Url: http://peer-b.example:8000\r\nX-Peer-HMAC: "
                    "7e75b3259eaf548921a146170213baae8ed2e3a77e94e9e264e89acc002a37ae\r\n") == 0);
    CHECK_EQ(replica_auth_headers((const uint8_t *)secret, 6, "nope", body, 3, h, sizeof(h)),
             MG_ERR_INVAL);
    CHECK_EQ(replica_auth_headers((const uint8_t *)secret, 6, "http://a", body, 3, h, 20),
             MG_ERR_TOOBIG);
}

/* Headers of a push to url signed with secret. */
static void signed_by(const char *secret, const char *url, const char *body, char *h, size_t cap)
{
    replica_auth_headers((const uint8_t *)secret, strlen(secret), url, body, strlen(body), h, cap);
}

#define SELF "http://10.42.0.3:9632"   /* the gateway under test, gw-b */

static int auth(const char **peer)
{
    return replica_auth_hmac(config_current(), SELF, &req, raw + req.head_len,
                             strlen(good_body), peer);
}

/* Section 5: X-Peer-Url is the target's URL, and the key comes from it;
 * the secret of the peering says who pushed. */
MG_TEST(test_repl_a_push_to_this_gateways_url_verifies_under_the_senders_own_secret)
{
    const char *peer = NULL;
    char h[256];

    CHECK_EQ(configure("{\"peer_secret\":\"global\",\"peers\":["
                       "{\"name\":\"gw-a\",\"url\":\"http://10.42.0.2:9632/\",\"secret\":\"s-ab\"},"
                       "{\"name\":\"gw-c\",\"url\":\"http://10.42.0.4:9632\"}]}"), 0);
    signed_by("s-ab", "HTTP://10.42.0.3:9632/", good_body, h, sizeof(h));
    CHECK_EQ(parse(h, good_body), 0);
    CHECK_EQ(auth(&peer), 0);
    CHECK(peer && strcmp(peer, "gw-a") == 0);
    /* The same bytes, one changed: refused. */
    raw[req.head_len + 3] ^= 1;
    CHECK_EQ(auth(&peer), MG_ERR_AUTH);
    /* The global secret: gw-c has none of its own, so it may be used. */
    signed_by("global", SELF, good_body, h, sizeof(h));
    CHECK_EQ(parse(h, good_body), 0);
    CHECK_EQ(auth(&peer), 0);
    CHECK(peer && strcmp(peer, "") == 0);
    /* A fleet list naming every relay: a push addressed to a listed URL. */
    signed_by("s-ab", "http://10.42.0.4:9632", good_body, h, sizeof(h));
    CHECK_EQ(parse(h, good_body), 0);
    CHECK_EQ(auth(&peer), 0);
    /* Signed for another URL than the one named: refused. */
    signed_by("s-ab", SELF, good_body, h, sizeof(h));
    memcpy(strstr(h, "10.42.0.3"), "10.42.0.4", 9);
    CHECK_EQ(parse(h, good_body), 0);
    CHECK_EQ(auth(&peer), MG_ERR_AUTH);
    config_reset();
}

MG_TEST(test_repl_the_global_secret_is_refused_when_every_peer_has_its_own)
{
    const char *peer = NULL;
    char h[256];

    CHECK_EQ(configure("{\"peer_secret\":\"global\",\"peers\":["
                       "{\"name\":\"gw-a\",\"url\":\"http://10.42.0.2:9632\",\"secret\":\"s-ab\"}]}"),
             0);
    peers_reset();
    signed_by("global", SELF, good_body, h, sizeof(h));
    CHECK_EQ(parse(h, good_body), 0);
    CHECK_EQ(auth(&peer), MG_ERR_AUTH);
    signed_by("s-ab", SELF, good_body, h, sizeof(h));
    CHECK_EQ(parse(h, good_body), 0);
    CHECK_EQ(auth(&peer), 0);
    config_reset();
}

MG_TEST(test_repl_unknown_urls_missing_headers_and_no_secret_are_refused)
{
    const char *peer = NULL;
    char h[256];

    CHECK_EQ(configure("{\"peers\":[{\"name\":\"gw-c\",\"url\":\"http://10.42.0.4:9632\"},"
                       "{\"name\":\"gw-a\",\"url\":\"http://10.42.0.2:9632\",\"secret\":\"s\"}]}"),
             0);
    signed_by("s", "http://10.42.0.9:9632", good_body, h, sizeof(h));   /* not us, not a peer */
    CHECK_EQ(parse(h, good_body), 0);
    CHECK_EQ(auth(&peer), MG_ERR_AUTH);
    signed_by("", SELF, good_body, h, sizeof(h));                      /* no secret */
    CHECK_EQ(parse(h, good_body), 0);
    CHECK_EQ(auth(&peer), MG_ERR_AUTH);
    CHECK_EQ(parse("X-Peer-Url: http://10.42.0.3:9632\r\n", good_body), 0);
    CHECK_EQ(auth(&peer), MG_ERR_AUTH);
    CHECK_EQ(parse("", good_body), 0);
    CHECK_EQ(auth(&peer), MG_ERR_AUTH);
    CHECK_EQ(replica_auth_hmac(NULL, SELF, &req, raw + req.head_len, strlen(good_body), &peer),
             MG_ERR_AUTH);
    CHECK(peer == NULL);
    config_reset();
}

MG_TEST(test_repl_a_coordinator_listed_peer_pushes_with_the_global_secret)
{
    struct peer p;
    const char *peer = NULL;
    char h[256];

    CHECK_EQ(configure("{\"peer_secret\":\"global\"}"), 0);
    peers_reset();
    signed_by("global", SELF, good_body, h, sizeof(h));
    CHECK_EQ(parse(h, good_body), 0);
    CHECK_EQ(auth(&peer), MG_ERR_AUTH);   /* no peer may use it yet */
    memset(&p, 0, sizeof(p));
    strcpy(p.name, "gw-far");
    strcpy(p.host, "10.42.0.7");
    p.port = 9632;
    p.source = PEER_COORDINATOR;
    CHECK_EQ(peers_put(&p), 0);
    CHECK_EQ(parse(h, good_body), 0);
    CHECK_EQ(auth(&peer), 0);
    /* Addressed to the coordinator peer's URL (a fleet list): taken too. */
    signed_by("global", "http://10.42.0.7:9632", good_body, h, sizeof(h));
    CHECK_EQ(parse(h, good_body), 0);
    CHECK_EQ(auth(&peer), 0);
    signed_by("global", "http://10.42.0.7:9633", good_body, h, sizeof(h));
    CHECK_EQ(parse(h, good_body), 0);
    CHECK_EQ(auth(&peer), MG_ERR_AUTH);
    peers_reset();
    config_reset();
}

/* --- the queue in the journal ---------------------------------------------------- */

static unsigned long messages_seen;

static void on_deposit(void *ctx, const struct journal_deposit *d, journal_handle h)
{
    (void)ctx;
    (void)h;
    if (outbox_is_record(d->msg_id))
        outbox_replay(d);
    else
        messages_seen++;
}

static void on_delete(void *ctx, const char *id)
{
    (void)ctx;
    if (outbox_is_record(id))
        outbox_replay_delete(id);
}

/* Messages are all dead for compaction: only the jobs must survive it. */
static int is_live(void *ctx, const char *id)
{
    (void)ctx;
    return outbox_is_record(id) && outbox_is_live(id);
}

static const struct journal_callbacks cbs = { on_deposit, on_delete, is_live, NULL, NULL };
static const struct hal_flash_part small = { "mailbox", BOARD_PART_MAILBOX_OFF,
                                             3 * JOURNAL_SEGMENT };

static int remount_part(const struct hal_flash_part *part)
{
    hal_flash_close();
    if (hal_flash_open(flash_image_path()) != 0)
        return -1;
    outbox_reset();
    messages_seen = 0;
    return journal_mount(part, &cbs);
}

static int remount(void)
{
    return remount_part(&small);
}

static int64_t later(void)
{
    return hal_clock_wall_ms() + 86400000LL;
}

static int job_of(const char *msg_id, const char *peer)
{
    size_t i;

    for (i = 0; i < BOARD_REPL_QUEUE; i++) {
        const struct outbox_job *j = outbox_at(i);
        if (j && strcmp(j->msg_id, msg_id) == 0 && strcmp(j->peer, peer) == 0)
            return (int)i;
    }
    return -1;
}

FLASH_TEST(test_repl_pending_pushes_survive_a_remount_and_finished_ones_do_not)
{
    struct journal_deposit d;
    int64_t exp = later();

    CHECK_EQ(remount(), 0);
    memset(&d, 0, sizeof(d));
    strcpy(d.msg_id, "dm_1700000000000_0123456789ab");
    strcpy(d.from, "alice");
    strcpy(d.to, "bob");
    d.deposited_at = 1700000000000LL;
    d.expires_at = exp;
    d.envelope_len = 2;
    CHECK_EQ(journal_append_deposit(&d, "{}", NULL), 0);
    CHECK_EQ(outbox_stage(d.msg_id, 0, "gw-b", d.deposited_at, exp), 0);
    CHECK_EQ(outbox_stage(d.msg_id, 1, "gw-c", d.deposited_at, exp), 0);
    CHECK_EQ(outbox_count(), 2);
    CHECK_EQ(journal_commit(), 0);

    CHECK_EQ(remount(), 0);
    CHECK_EQ(messages_seen, 1);
    CHECK_EQ(outbox_count(), 2);
    CHECK(job_of(d.msg_id, "gw-b") >= 0 && job_of(d.msg_id, "gw-c") >= 0);
    CHECK_EQ(outbox_at((size_t)job_of(d.msg_id, "gw-c"))->k, 1);
    CHECK_EQ(outbox_at((size_t)job_of(d.msg_id, "gw-c"))->deposited_at, 1700000000000LL);
    CHECK_EQ(outbox_oldest(), 1700000000000LL);
    outbox_finish((size_t)job_of(d.msg_id, "gw-b"));
    CHECK_EQ(journal_commit(), 0);

    CHECK_EQ(remount(), 0);
    CHECK_EQ(outbox_count(), 1);
    CHECK(job_of(d.msg_id, "gw-b") < 0 && job_of(d.msg_id, "gw-c") >= 0);
    outbox_finish((size_t)job_of(d.msg_id, "gw-c"));
    CHECK_EQ(journal_commit(), 0);
    CHECK_EQ(remount(), 0);
    CHECK_EQ(outbox_count(), 0);
    CHECK_EQ(outbox_oldest(), 0);
}

FLASH_TEST(test_repl_expired_jobs_are_not_replayed)
{
    CHECK_EQ(remount(), 0);
    CHECK_EQ(outbox_stage("dm_1_0123456789ab", 0, "gw-b", 1, hal_clock_wall_ms() - 1), 0);
    CHECK_EQ(outbox_stage("dm_2_0123456789ab", 0, "gw-b", 2, later()), 0);
    CHECK_EQ(journal_commit(), 0);
    CHECK_EQ(remount(), 0);
    CHECK_EQ(outbox_count(), 1);
    CHECK(job_of("dm_2_0123456789ab", "gw-b") >= 0);
}

FLASH_TEST(test_repl_compaction_carries_live_jobs_on)
{
    static uint8_t env[16 * 1024];
    struct journal_deposit d;
    struct journal_stats js;
    int64_t exp = later();
    unsigned n;

    CHECK_EQ(remount(), 0);
    CHECK_EQ(outbox_stage("dm_7_0123456789ab", 3, "gw-b", 7, exp), 0);
    CHECK_EQ(outbox_stage("dm_8_0123456789ab", 3, "gw-b", 8, exp), 0);
    outbox_finish((size_t)job_of("dm_8_0123456789ab", "gw-b"));
    CHECK_EQ(journal_commit(), 0);
    /* Dead messages until the first segment has been compacted twice over. */
    memset(env, 'x', sizeof(env));
    for (n = 0; n < 40; n++) {
        memset(&d, 0, sizeof(d));
        snprintf(d.msg_id, sizeof(d.msg_id), "dm_%u_0123456789ab", 100 + n);
        strcpy(d.from, "a");
        strcpy(d.to, "b");
        d.deposited_at = 1;
        d.expires_at = exp;
        d.envelope_len = sizeof(env);
        CHECK_EQ(journal_append_deposit(&d, env, NULL), 0);
        CHECK_EQ(journal_commit(), 0);
    }
    journal_get_stats(&js);
    CHECK(js.compactions >= 2);
    CHECK_EQ(outbox_count(), 1);
    CHECK_EQ(remount(), 0);
    CHECK_EQ(outbox_count(), 1);
    CHECK(job_of("dm_7_0123456789ab", "gw-b") >= 0);
    CHECK_EQ(outbox_at((size_t)job_of("dm_7_0123456789ab", "gw-b"))->k, 3);
}

FLASH_TEST(test_repl_a_full_queue_drops_the_oldest_job_of_the_busiest_peer)
{
    char id[JOURNAL_ID_MAX];
    size_t i;

    CHECK_EQ(remount_part(hal_flash_part("mailbox")), 0);
    /* A dead peer's jobs fill the queue; a healthy one's still get in. */
    for (i = 0; i < BOARD_REPL_QUEUE - 1; i++) {
        snprintf(id, sizeof(id), "dm_%zu_0123456789ab", 1000 + i);
        CHECK_EQ(outbox_stage(id, 0, "dead", (int64_t)(1000 + i), later()), 0);
    }
    CHECK_EQ(outbox_stage("dm_5_0123456789ab", 1, "gw-c", 5, later()), 0);
    CHECK_EQ(outbox_count(), BOARD_REPL_QUEUE);
    CHECK_EQ(outbox_stage("dm_6_0123456789ab", 1, "gw-c", 6, later()), 0);
    CHECK_EQ(outbox_evicted(), 1);
    CHECK_EQ(outbox_refused(), 0);
    CHECK(job_of("dm_1000_0123456789ab", "dead") < 0);   /* the oldest of the busiest */
    CHECK(job_of("dm_1001_0123456789ab", "dead") >= 0);
    CHECK(job_of("dm_5_0123456789ab", "gw-c") >= 0 && job_of("dm_6_0123456789ab", "gw-c") >= 0);
    CHECK_EQ(journal_commit(), 0);
    /* The eviction is journaled: a reboot does not bring the job back. */
    CHECK_EQ(remount_part(hal_flash_part("mailbox")), 0);
    CHECK_EQ(outbox_count(), BOARD_REPL_QUEUE);
    CHECK(job_of("dm_1000_0123456789ab", "dead") < 0);
    for (i = 0; i < BOARD_REPL_QUEUE; i++)
        outbox_finish(i);
    CHECK_EQ(outbox_count(), 0);
    CHECK_EQ(journal_commit(), 0);
}

FLASH_TEST(test_repl_a_queue_full_of_single_jobs_refuses_and_counts)
{
    char id[JOURNAL_ID_MAX], peer[16];
    size_t i;

    CHECK_EQ(remount_part(hal_flash_part("mailbox")), 0);
    for (i = 0; i < BOARD_REPL_QUEUE; i++) {
        snprintf(id, sizeof(id), "dm_%zu_0123456789ab", i);
        snprintf(peer, sizeof(peer), "p%zu", i);
        CHECK_EQ(outbox_stage(id, 0, peer, 1, later()), 0);
    }
    CHECK_EQ(outbox_stage("dm_99999_0123456789ab", 0, "gw-b", 1, later()), MG_ERR_NOSPC);
    CHECK_EQ(outbox_refused(), 1);
    CHECK_EQ(outbox_stage("dm_1_0123456789ab", 0, "", 1, later()), MG_ERR_INVAL);
    for (i = 0; i < BOARD_REPL_QUEUE; i++)
        outbox_finish(i);
    CHECK_EQ(outbox_count(), 0);
    CHECK_EQ(journal_commit(), 0);
}
