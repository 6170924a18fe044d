/* The relay's tables and checks that need no network: users and bundles
 * (firmware/relay/users.c), the mailbox index (mailbox.c), signed-request
 * authentication (auth.c) and the controller's deposit policy
 * (firmware/confsync/policy.c). */
#include <stdio.h>
#include <string.h>

#include "confsync/config.h"
#include "confsync/policy.h"
#include "crypto.h"
#include "hex.h"
#include "mbedtls/base64.h"
#include "mg_err.h"
#include "pool.h"
#include "relay/auth.h"
#include "relay/mailbox.h"
#include "relay/users.h"
#include "test.h"
#include "x25519.h"
#include "xeddsa.h"

extern struct pool_stat relay_messages_pool, relay_auth_pool;

/* --- users and bundles ---------------------------------------------------- */

MG_TEST(test_users_are_found_by_id_and_the_table_refuses_when_full)
{
    char id[16];
    size_t i;

    users_reset();
    CHECK(users_find("alice") == NULL);
    CHECK(users_add("alice") != NULL);
    CHECK(users_find("alice") == users_at(0));
    CHECK(users_add("") == NULL);
    for (i = 1; i < BOARD_RELAY_USERS; i++) {
        snprintf(id, sizeof(id), "u%zu", i);
        CHECK(users_add(id) != NULL);
    }
    CHECK(users_add("one-too-many") == NULL);
    CHECK_EQ(users_count(), BOARD_RELAY_USERS);
    /* Every id finds its own slot through the index, a missing one none. */
    CHECK(users_find("alice") == users_at(0));
    for (i = 1; i < BOARD_RELAY_USERS; i++) {
        snprintf(id, sizeof(id), "u%zu", i);
        CHECK(users_find(id) == users_at((uint16_t)i));
    }
    CHECK(users_find("u0") == NULL);
    CHECK(users_find("one-too-many") == NULL);
    users_reset();
    CHECK_EQ(users_count(), 0);
    CHECK(users_find("alice") == NULL);
    CHECK(users_find("u1") == NULL);
}

static const char bundle_json[] =
    "{\"bundle\":{\"id\":\"alice\",\"deviceId\":1,\"registrationId\":77,"
    "\"identityKey\":\"BQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB\","
    "\"signedPreKey\":{\"keyId\":5,\"publicKey\":\"BQICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIC\","
    "\"signature\":\"AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw==\"},"
    "\"preKey\":{\"keyId\":1,\"publicKey\":\"BQQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE\"},"
    "\"preKeys\":[{\"keyId\":21,\"publicKey\":\"BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUF\"}]}}";

static int parse_bundle(const char *text, struct user_bundle *b, const char **why)
{
    static jsmntok_t tok[128];
    struct json_doc d;

    if (json_parse(&d, text, strlen(text), tok, 128) != 0)
        return -100;
    return users_parse_bundle(&d, json_get(&d, 0, "bundle"), b, why);
}

MG_TEST(test_a_bundle_is_served_with_each_one_time_prekey_once_then_the_fallback)
{
    static char out[4096];
    struct user *u;
    const char *why;

    users_reset();
    u = users_add("alice");
    CHECK_EQ(parse_bundle(bundle_json, &u->bundle, &why), 0);
    CHECK_EQ(u->bundle.n_onetime, 1);
    CHECK(users_serve_bundle(u, out, sizeof(out)) > 0);
    CHECK(strstr(out, "\"preKey\":{\"keyId\":21,") != NULL);
    CHECK(strstr(out, "\"registrationId\":77") != NULL);
    CHECK(users_serve_bundle(u, out, sizeof(out)) > 0);
    CHECK(strstr(out, "\"preKey\":{\"keyId\":1,") != NULL);
    CHECK(strstr(out, "preKeys") == NULL);
    CHECK_EQ(users_serve_bundle(u, out, 64), MG_ERR_TOOBIG);
}

MG_TEST(test_a_bundle_with_a_key_of_the_wrong_length_or_bad_base64_is_refused)
{
    static const char *const bad[] = {
        "{\"bundle\":[]}",
        "{\"bundle\":{\"deviceId\":1}}",
        /* identity of 32 bytes */
        "{\"bundle\":{\"deviceId\":1,\"registrationId\":1,"
        "\"identityKey\":\"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\"}}",
        /* not base64 */
        "{\"bundle\":{\"deviceId\":1,\"registrationId\":1,"
        "\"identityKey\":\"!QEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB\"}}",
    };
    struct user_bundle b;
    const char *why;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ(parse_bundle(bad[i], &b, &why), MG_ERR_INVAL);
        CHECK(why != NULL);
        CHECK_EQ(b.present, 0);
    }
}

MG_TEST(test_base64_must_be_padded_standard_alphabet)
{
    uint8_t out[8];

    CHECK_EQ(users_b64_decode("aGk=", 4, out, sizeof(out)), 2);
    CHECK_EQ(users_b64_decode("aGk", 3, out, sizeof(out)), -1);
    CHECK_EQ(users_b64_decode("aG k", 4, out, sizeof(out)), -1);
    CHECK_EQ(users_b64_decode("aG-_", 4, out, sizeof(out)), -1);
    CHECK_EQ(users_b64_decode("", 0, out, sizeof(out)), -1);
}

/* --- the mailbox index ----------------------------------------------------- */

MG_TEST(test_mailbox_queues_are_oldest_first_and_counted_per_sender)
{
    uint16_t a, b, s1, s2, s3;

    users_reset();
    mailbox_reset();
    a = users_index(users_add("a"));
    b = users_index(users_add("b"));
    s1 = mailbox_add("m1", a, b, 1, 100, 0, 0, 10);
    s2 = mailbox_add("m2", b, b, 2, 100, 0, 0, 10);
    s3 = mailbox_add("m3", a, b, 3, 100, 0, 0, 10);
    CHECK(s1 != MAILBOX_NONE && s2 != MAILBOX_NONE && s3 != MAILBOX_NONE);
    CHECK_EQ(mailbox_first(b), s1);
    CHECK_EQ(mailbox_next(s1), s2);
    CHECK_EQ(mailbox_next(s2), s3);
    CHECK_EQ(mailbox_pending(a, b), 2);
    CHECK_EQ(mailbox_depth(b), 3);
    CHECK_EQ(mailbox_find("m2"), s2);
    mailbox_remove(s2);
    CHECK_EQ(mailbox_find("m2"), MAILBOX_NONE);
    CHECK_EQ(mailbox_next(s1), s3);
    mailbox_remove(s3);
    CHECK_EQ(users_at(b)->tail, s1);
    CHECK_EQ(mailbox_depth(b), 1);
    mailbox_remove(s1);
    CHECK_EQ(mailbox_first(b), MAILBOX_NONE);
    CHECK_EQ(mailbox_count(), 0);
    CHECK_EQ(relay_messages_pool.used, 0);
}

MG_TEST(test_a_full_message_table_refuses_and_frees_slots_again)
{
    char id[24];
    uint16_t a;
    size_t i;

    users_reset();
    mailbox_reset();
    a = users_index(users_add("a"));
    for (i = 0; i < BOARD_RELAY_MESSAGES; i++) {
        snprintf(id, sizeof(id), "m%zu", i);
        CHECK(mailbox_add(id, a, a, 1, 2, 0, 0, 1) != MAILBOX_NONE);
    }
    CHECK_EQ(mailbox_add("extra", a, a, 1, 2, 0, 0, 1), MAILBOX_NONE);
    mailbox_remove(mailbox_find("m7"));
    CHECK(mailbox_add("extra", a, a, 1, 2, 0, 0, 1) != MAILBOX_NONE);
    CHECK_EQ(mailbox_find("m7"), MAILBOX_NONE);
    mailbox_reset();
    CHECK_EQ(relay_messages_pool.used, 0);
}

/* --- signed requests -------------------------------------------------------- */

static struct http_request req;
static char sig_b64[96], ts_text[24];

static void make_request(const char *id, int64_t ts, const uint8_t priv[32], const char *target,
                         const char *body)
{
    static char msg[512];
    uint8_t digest[32], sig[64], rnd[64];
    char hex[65];
    size_t n;

    snprintf(ts_text, sizeof(ts_text), "%lld", (long long)ts);
    mg_sha256(body, strlen(body), digest);
    hex_encode(digest, 32, hex);
    n = (size_t)snprintf(msg, sizeof(msg), "%s\n%s\nPOST\n%s\n%s", id, ts_text, target, hex);
    mg_random(rnd, sizeof(rnd));
    xeddsa_sign(priv, msg, n, rnd, sig);
    mbedtls_base64_encode((unsigned char *)sig_b64, sizeof(sig_b64), &n, sig, 64);
    memset(&req, 0, sizeof(req));
    req.method = HTTP_POST;
    req.method_str = (struct http_str){ "POST", 4 };
    req.target = (struct http_str){ target, strlen(target) };
    req.headers[0] = (struct http_header){ { "X-Mesh-Id", 9 }, { id, strlen(id) } };
    req.headers[1] = (struct http_header){ { "X-Mesh-Timestamp", 16 }, { ts_text, strlen(ts_text) } };
    req.headers[2] = (struct http_header){ { "X-Mesh-Signature", 16 }, { sig_b64, n } };
    req.n_headers = 3;
}

static void key_pair(uint8_t priv[32], uint8_t identity[33])
{
    mg_random(priv, 32);
    x25519_clamp(priv);
    identity[0] = 0x05;
    x25519_public_key(identity + 1, priv);
}

#define NOW 1700000000000ll

MG_TEST(test_a_signed_request_passes_once_and_its_replay_is_refused)
{
    uint8_t priv[32], identity[33];
    const char *why;

    auth_reset();
    key_pair(priv, identity);
    make_request("alice", NOW, priv, "/v1/messages", "{}");
    CHECK_EQ(auth_check(&req, "alice", identity, "{}", 2, NOW + 1000, &why), 0);
    CHECK_EQ(auth_check(&req, "alice", identity, "{}", 2, NOW + 2000, &why), 401);
    CHECK(strcmp(why, "replayed_signature") == 0);
    CHECK_EQ(relay_auth_pool.used, 1);
}

MG_TEST(test_signed_requests_refuse_other_bodies_keys_ids_and_times)
{
    uint8_t priv[32], identity[33], other[33], other_priv[32];
    const char *why;

    auth_reset();
    key_pair(priv, identity);
    key_pair(other_priv, other);
    make_request("alice", NOW, priv, "/v1/messages", "{}");
    CHECK_EQ(auth_check(&req, "alice", identity, "{ }", 3, NOW, &why), 401);
    CHECK(strcmp(why, "invalid_signature") == 0);
    CHECK_EQ(auth_check(&req, "alice", other, "{}", 2, NOW, &why), 401);
    CHECK(strcmp(why, "invalid_signature") == 0);
    CHECK_EQ(auth_check(&req, "bob", identity, "{}", 2, NOW, &why), 401);
    CHECK(strcmp(why, "identity_mismatch") == 0);
    CHECK_EQ(auth_check(&req, "alice", identity, "{}", 2, NOW + AUTH_WINDOW_MS + 1, &why), 401);
    CHECK(strcmp(why, "stale_timestamp") == 0);
    CHECK_EQ(auth_check(&req, "alice", identity, "{}", 2, NOW - AUTH_WINDOW_MS - 1, &why), 401);
    CHECK(strcmp(why, "stale_timestamp") == 0);
    req.n_headers = 2;
    CHECK_EQ(auth_check(&req, "alice", identity, "{}", 2, NOW, &why), 401);
    CHECK(strcmp(why, "signature_required") == 0);
    /* None of those was remembered; the genuine one still passes. */
    CHECK_EQ(relay_auth_pool.used, 0);
    req.n_headers = 3;
    CHECK_EQ(auth_check(&req, "alice", identity, "{}", 2, NOW + AUTH_WINDOW_MS, &why), 0);
}

/* --- the deposit policy ------------------------------------------------------ */

static void push(const char *body)
{
    struct config_error err = { 0, NULL, "" };

    CHECK_EQ(config_stage(body, strlen(body), &err), 0);
    config_apply(1);
}

MG_TEST(test_policy_denies_everything_before_the_first_config)
{
    struct policy_verdict v;

    config_reset();
    policy_reset();
    v = policy_deposit("alice", NOW);
    CHECK_EQ(v.status, 403);
    CHECK(strcmp(v.error, "not_configured") == 0);
}

MG_TEST(test_policy_allows_listed_senders_only_unless_star)
{
    config_reset();
    policy_reset();
    push("{\"identity\":{\"allowed_senders\":[\"alice\"]}}");
    CHECK_EQ(policy_deposit("alice", NOW).status, 0);
    CHECK_EQ(policy_deposit("mallory", NOW).status, 403);
    CHECK(strcmp(policy_deposit("mallory", NOW).error, "sender_not_allowed") == 0);
    push("{\"identity\":{\"allowed_senders\":[\"*\"]}}");
    CHECK_EQ(policy_deposit("mallory", NOW).status, 0);
}

MG_TEST(test_policy_kill_switch_refuses_with_503)
{
    config_reset();
    push("{\"identity\":{\"allowed_senders\":[\"*\"]},\"security\":{\"kill_switch\":true}}");
    CHECK_EQ(policy_deposit("alice", NOW).status, 503);
    CHECK(strcmp(policy_deposit("alice", NOW).error, "kill_switch") == 0);
}

MG_TEST(test_policy_rate_limits_per_minute_with_retry_after_and_per_sender)
{
    struct policy_verdict v;
    int i;

    config_reset();
    policy_reset();
    push("{\"identity\":{\"allowed_senders\":[\"*\"]},"
         "\"rate_limits\":{\"inbound\":{\"max_per_minute\":3,\"max_per_hour\":5}}}");
    for (i = 0; i < 3; i++)
        CHECK_EQ(policy_deposit("alice", NOW + i).status, 0);
    v = policy_deposit("alice", NOW + 10000);
    CHECK_EQ(v.status, 429);
    CHECK(strcmp(v.error, "rate_limited") == 0);
    CHECK_EQ(v.retry_after_s, 50);
    CHECK_EQ(policy_deposit("bob", NOW + 10000).status, 0);   /* another sender */
    /* A new minute lets two more through, then the hour is full. */
    CHECK_EQ(policy_deposit("alice", NOW + 60000).status, 0);
    CHECK_EQ(policy_deposit("alice", NOW + 60001).status, 0);
    v = policy_deposit("alice", NOW + 60002);
    CHECK_EQ(v.status, 429);
    CHECK_EQ(v.retry_after_s, 3540);
}

MG_TEST(test_base64_check_agrees_with_decoding_without_decoding)
{
    static const char *const texts[] = { "aGk=", "aGk", "aGVsbG8=", "aGVsbA==", "AAAA", "a===",
                                         "aG=k", "aGk=aGk=", "aG k", "aG-_", "", "====",
                                         "[]{}", "@`z9", "\xc1" "AAA", "+/+/", "Zz09",
                                         "AAAAAAA=", "AAAAAA==", "AAAAA===" };
    uint8_t out[16];
    size_t i;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        int want = users_b64_decode(texts[i], strlen(texts[i]), out, sizeof(out));
        if (users_b64_check(texts[i], strlen(texts[i])) != want)
            test_fail(__FILE__, __LINE__, "%s: check %d, decode %d", texts[i],
                      users_b64_check(texts[i], strlen(texts[i])), want);
    }
}
