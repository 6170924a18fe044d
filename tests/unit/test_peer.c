/* Signed peer requests (firmware/peer: PROTOCOLS.md section 4), the peer
 * registry, and the coordinator messages a member sends (firmware/heartbeat/
 * membership.c, section 3). */
#include <stdio.h>
#include <string.h>

#include "b64.h"
#include "board.h"
#include "confsync/config.h"
#include "crypto.h"
#include "ed25519.h"
#include "heartbeat/membership.h"
#include "hex.h"
#include "mg_err.h"
#include "net/http_parse.h"
#include "peer/peer.h"
#include "peer/peer_auth.h"
#include "peer/peers.h"
#include "test.h"

#define T0 1704067200000ll
#define VECTOR_PUB "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
#define VECTOR_SIG "hYXxfJX8h9C1yhrHh9n689rZHxrN/YnQTowLvkg7a0eVOaWdQcoawguY0Yx6AyvXxUfi27BeRsAee8h6vmPNAg=="

static uint8_t seed[32], pub[32];

/* The signer of the tests: whatever key seed/pub hold. */
static int test_sign(const void *msg, size_t len, uint8_t sig[64])
{
    ed25519_sign(seed, pub, msg, len, sig);
    return 0;
}

static void use_vector_key(void)
{
    size_t i;

    for (i = 0; i < 32; i++)
        seed[i] = (uint8_t)i;
    ed25519_public_key(seed, pub);
}

static void use_coordinator_key(void)
{
    memset(seed, 0, sizeof(seed));
    seed[31] = 1;
    ed25519_public_key(seed, pub);
}

/* The value of header name in a block of "Name: value\r\n" lines. */
static const char *header_value(const char *block, const char *name, char *out, size_t cap)
{
    const char *p = strstr(block, name), *end;

    if (!p)
        return NULL;
    p += strlen(name) + 2;
    end = strstr(p, "\r\n");
    snprintf(out, cap, "%.*s", (int)(end - p), p);
    return out;
}

/* A parsed request as the server would hand it over: raw is kept in buf. */
static char raw[4096];
static struct http_request req;

static int parse(const char *method, const char *target, const char *headers, const char *body)
{
    int status, n;

    n = snprintf(raw, sizeof(raw), "%s %s HTTP/1.1\r\nHost: gw\r\n%sContent-Length: %zu\r\n\r\n%s",
                 method, target, headers, strlen(body), body);
    return http_parse_request(raw, (size_t)n, 4096, 65536, &req, &status) > 0 ? 0 : -1;
}

static void add_peer(const char *name, const uint8_t key[32], enum peer_source src)
{
    struct peer p;

    memset(&p, 0, sizeof(p));
    snprintf(p.name, sizeof(p.name), "%s", name);
    strcpy(p.host, "10.42.0.3");
    p.port = 9632;
    p.has_key = key != NULL;
    if (key)
        memcpy(p.public_key, key, 32);
    p.source = src;
    peers_put(&p);
}

/* Signs a request by alice at ts (signed_path is what the signer signs),
 * sends target with body; the gate's verdict at now. */
static int verdict(int64_t ts, const char *method, const char *signed_path, const char *target,
                   const char *body, int64_t now, const char **reason)
{
    static char headers[PEER_AUTH_HEADERS_MAX];
    const struct peer *from;

    if (peer_auth_headers(test_sign, "alice", ts, method, signed_path, body, strlen(body), headers,
                          sizeof(headers)) != 0 ||
        parse(method, target, headers, body) != 0) {
        *reason = "test setup";
        return -100;
    }
    return peer_verify(&req, raw + req.head_len, strlen(body), now, &from, reason);
}

static void gate_setup(void)
{
    use_vector_key();
    peers_reset();
    add_peer("alice", pub, PEER_STATIC);
}

/* --- section 4 vectors and signing ---------------------------------------- */

MG_TEST(test_peer_vector_seed_gives_the_base64_public_key)
{
    char b64[B64_LEN(32) + 1];

    use_vector_key();
    b64_encode(pub, 32, b64);
    CHECK(strcmp(b64, VECTOR_PUB) == 0);
}

MG_TEST(test_peer_signing_the_vector_request_gives_the_vector_signature)
{
    char headers[PEER_AUTH_HEADERS_MAX], v[128];

    use_vector_key();
    CHECK_EQ(peer_auth_headers(test_sign, "alice", T0, "POST", "/events/sync", NULL, 0, headers,
                               sizeof(headers)),
             0);
    CHECK(header_value(headers, "X-Nara-Signature", v, sizeof(v)) != NULL);
    CHECK(strcmp(v, VECTOR_SIG) == 0);
    CHECK(strcmp(header_value(headers, "X-Nara-Name", v, sizeof(v)), "alice") == 0);
    CHECK(strcmp(header_value(headers, "X-Nara-Timestamp", v, sizeof(v)), "1704067200000") == 0);
    CHECK(strstr(headers, "X-Nara-Content-SHA256") == NULL);
}

MG_TEST(test_peer_a_query_is_not_signed_by_the_client)
{
    char a[PEER_AUTH_HEADERS_MAX], b[PEER_AUTH_HEADERS_MAX];

    use_vector_key();
    CHECK_EQ(peer_auth_headers(test_sign, "alice", T0, "POST", "/events/sync?x=1", NULL, 0, a,
                               sizeof(a)),
             0);
    CHECK_EQ(peer_auth_headers(test_sign, "alice", T0, "POST", "/events/sync", NULL, 0, b,
                               sizeof(b)),
             0);
    CHECK(strcmp(a, b) == 0);
}

MG_TEST(test_peer_a_body_adds_its_digest_header_and_signs_it)
{
    char headers[PEER_AUTH_HEADERS_MAX], v[128], want[B64_LEN(32) + 1], sig_b64[128];
    char msg[256];
    uint8_t digest[32], sig[64];
    long n;

    use_vector_key();
    CHECK_EQ(peer_auth_headers(test_sign, "alice", T0, "POST", "/x", "{}", 2, headers,
                               sizeof(headers)),
             0);
    mg_sha256("{}", 2, digest);
    b64_encode(digest, 32, want);
    CHECK(strcmp(header_value(headers, "X-Nara-Content-SHA256", v, sizeof(v)), want) == 0);
    snprintf(msg, sizeof(msg), "alice%lldPOST/x%s", T0, want);
    header_value(headers, "X-Nara-Signature", sig_b64, sizeof(sig_b64));
    n = b64_decode(sig_b64, strlen(sig_b64), sig, sizeof(sig));
    CHECK_EQ(n, 64);
    CHECK_EQ(ed25519_verify(pub, msg, strlen(msg), sig, 64), 0);
}

/* --- the verification gate -------------------------------------------------- */

MG_TEST(test_peer_gate_a_valid_signature_passes_and_names_the_peer)
{
    const char *reason = NULL;
    const struct peer *from;

    gate_setup();
    CHECK_EQ(verdict(T0, "POST", "/events/sync", "/events/sync", "", T0, &reason), 0);
    CHECK_EQ(peer_verify(&req, "", 0, T0 + 1, &from, &reason), 0);
    CHECK(from != NULL && strcmp(from->name, "alice") == 0);
    CHECK_EQ(from->last_seen_ms, T0 + 1);
    CHECK_EQ(verdict(T0, "POST", "/x", "/x", "{\"a\":1}", T0, &reason), 0);
}

MG_TEST(test_peer_gate_takes_29999_ms_of_skew_either_way_and_refuses_30001)
{
    const char *reason = NULL;

    gate_setup();
    CHECK_EQ(verdict(T0, "GET", "/p", "/p", "", T0 + 29999, &reason), 0);
    CHECK_EQ(verdict(T0, "GET", "/p", "/p", "", T0 - 29999, &reason), 0);
    CHECK_EQ(verdict(T0, "GET", "/p", "/p", "", T0 + 30000, &reason), 0);
    CHECK_EQ(verdict(T0, "GET", "/p", "/p", "", T0 + 30001, &reason), MG_ERR_AUTH);
    CHECK(strcmp(reason, "timestamp outside the 30 s window") == 0);
    CHECK_EQ(verdict(T0, "GET", "/p", "/p", "", T0 - 30001, &reason), MG_ERR_AUTH);
    CHECK(strcmp(reason, "timestamp outside the 30 s window") == 0);
}

MG_TEST(test_peer_gate_refuses_a_body_without_its_digest)
{
    char headers[PEER_AUTH_HEADERS_MAX];
    const struct peer *from;
    const char *reason = NULL;

    gate_setup();
    /* Signed as if bodiless, then sent with a body. */
    CHECK_EQ(peer_auth_headers(test_sign, "alice", T0, "POST", "/x", NULL, 0, headers,
                               sizeof(headers)),
             0);
    CHECK_EQ(parse("POST", "/x", headers, "{}"), 0);
    CHECK_EQ(peer_verify(&req, raw + req.head_len, 2, T0, &from, &reason), MG_ERR_AUTH);
    CHECK(strcmp(reason, "missing content digest") == 0);
    CHECK(from == NULL);
}

MG_TEST(test_peer_gate_refuses_a_digest_of_another_body)
{
    char headers[PEER_AUTH_HEADERS_MAX];
    const struct peer *from;
    const char *reason = NULL;

    gate_setup();
    CHECK_EQ(peer_auth_headers(test_sign, "alice", T0, "POST", "/x", "{\"a\":1}", 7, headers,
                               sizeof(headers)),
             0);
    CHECK_EQ(parse("POST", "/x", headers, "{\"a\":2}"), 0);
    CHECK_EQ(peer_verify(&req, raw + req.head_len, 7, T0, &from, &reason), MG_ERR_AUTH);
    CHECK(strcmp(reason, "content digest mismatch") == 0);
}

MG_TEST(test_peer_gate_refuses_an_unknown_peer)
{
    const char *reason = NULL;

    gate_setup();
    peers_reset();
    add_peer("bob", pub, PEER_STATIC);
    CHECK_EQ(verdict(T0, "GET", "/p", "/p", "", T0, &reason), MG_ERR_AUTH);
    CHECK(strcmp(reason, "unknown peer") == 0);
}

MG_TEST(test_peer_gate_refuses_a_known_peer_without_a_key)
{
    const char *reason = NULL;

    gate_setup();
    peers_reset();
    add_peer("alice", NULL, PEER_STATIC);
    CHECK_EQ(verdict(T0, "GET", "/p", "/p", "", T0, &reason), MG_ERR_AUTH);
    CHECK(strcmp(reason, "no public key for this peer") == 0);
}

static int verdict_of(const char *method, const char *target, const char *sig,
                      const char **reason)
{
    char headers[512];
    const struct peer *from;

    snprintf(headers, sizeof(headers),
             "X-Nara-Name: alice\r\nX-Nara-Timestamp: %lld\r\nX-Nara-Signature: %s\r\n", T0, sig);
    if (parse(method, target, headers, "") != 0)
        return -100;
    return peer_verify(&req, "", 0, T0, &from, reason);
}

static int verdict_with_signature(const char *sig, const char **reason)
{
    return verdict_of("POST", "/events/sync", sig, reason);
}

MG_TEST(test_peer_gate_refuses_bad_base64_and_truncated_signatures)
{
    static char truncated[] = VECTOR_SIG;
    char short_sig[B64_LEN(63) + 1];
    uint8_t sig[64];
    const char *reason = NULL;

    gate_setup();
    CHECK_EQ(verdict_with_signature(VECTOR_SIG, &reason), 0);   /* the vector itself passes */
    CHECK_EQ(verdict_with_signature("not*base64!", &reason), MG_ERR_AUTH);
    CHECK(strcmp(reason, "malformed signature") == 0);
    truncated[sizeof(truncated) - 5] = '\0';   /* cut inside the last quantum */
    CHECK_EQ(verdict_with_signature(truncated, &reason), MG_ERR_AUTH);
    CHECK(strcmp(reason, "malformed signature") == 0);
    CHECK_EQ(b64_decode(VECTOR_SIG, strlen(VECTOR_SIG), sig, sizeof(sig)), 64);
    b64_encode(sig, 63, short_sig);   /* well-formed base64 of 63 bytes */
    CHECK_EQ(verdict_with_signature(short_sig, &reason), MG_ERR_AUTH);
    CHECK(strcmp(reason, "malformed signature") == 0);
    CHECK_EQ(verdict_with_signature("", &reason), MG_ERR_AUTH);
}

MG_TEST(test_peer_gate_refuses_a_signature_by_another_key_or_for_another_path)
{
    const char *reason = NULL;

    gate_setup();
    CHECK_EQ(verdict(T0, "POST", "/a", "/b", "", T0, &reason), MG_ERR_AUTH);
    CHECK(strcmp(reason, "invalid signature") == 0);
    CHECK_EQ(verdict(T0, "GET", "/a", "/a", "", T0, &reason), 0);
    use_coordinator_key();   /* alice's registry key is still the vector's */
    CHECK_EQ(verdict(T0, "GET", "/a", "/a", "", T0, &reason), MG_ERR_AUTH);
    CHECK(strcmp(reason, "invalid signature") == 0);
}

MG_TEST(test_peer_gate_ignores_the_query_string)
{
    const char *reason = NULL;

    gate_setup();
    CHECK_EQ(verdict(T0, "GET", "/api/mesh/dm/pull", "/api/mesh/dm/pull?to=bob", "", T0, &reason),
             0);
    /* A signer that signed the query too is refused. */
    {
        char msg[128], sig_b64[B64_LEN(64) + 1];
        uint8_t sig[64];

        snprintf(msg, sizeof(msg), "alice%lldGET/api/mesh/dm/pull?to=bob", T0);
        test_sign(msg, strlen(msg), sig);
        b64_encode(sig, 64, sig_b64);
        CHECK_EQ(verdict_of("GET", "/api/mesh/dm/pull?to=bob", sig_b64, &reason), MG_ERR_AUTH);
        CHECK(strcmp(reason, "invalid signature") == 0);
        snprintf(msg, sizeof(msg), "alice%lldGET/api/mesh/dm/pull", T0);
        test_sign(msg, strlen(msg), sig);
        b64_encode(sig, 64, sig_b64);
        CHECK_EQ(verdict_of("GET", "/api/mesh/dm/pull?to=bob", sig_b64, &reason), 0);
    }
}

MG_TEST(test_peer_gate_refuses_missing_headers_and_bad_timestamps)
{
    const struct peer *from;
    const char *reason = NULL;

    gate_setup();
    CHECK_EQ(parse("GET", "/p", "X-Nara-Name: alice\r\n", ""), 0);
    CHECK_EQ(peer_verify(&req, "", 0, T0, &from, &reason), MG_ERR_AUTH);
    CHECK(strcmp(reason, "missing signature headers") == 0);
    CHECK_EQ(parse("GET", "/p",
                   "X-Nara-Name: alice\r\nX-Nara-Timestamp: 17e12\r\nX-Nara-Signature: x\r\n", ""),
             0);
    CHECK_EQ(peer_verify(&req, "", 0, T0, &from, &reason), MG_ERR_AUTH);
    CHECK(strcmp(reason, "invalid timestamp") == 0);
}

/* --- the registry ------------------------------------------------------------ */

MG_TEST(test_peers_a_full_registry_refuses_the_next_and_counts_it)
{
    char name[16];
    size_t i;
    struct peer p;

    use_vector_key();
    peers_reset();
    for (i = 0; i < BOARD_PEERS; i++) {
        snprintf(name, sizeof(name), "n%zu", i);
        memset(&p, 0, sizeof(p));
        strcpy(p.name, name);
        CHECK_EQ(peers_put(&p), 0);
    }
    CHECK_EQ(peers_count(), BOARD_PEERS);
    memset(&p, 0, sizeof(p));
    strcpy(p.name, "one-more");
    CHECK_EQ(peers_put(&p), MG_ERR_NOSPC);
    CHECK_EQ(peers_pool.refused, 1);
    CHECK(peers_find("one-more", 8) == NULL);
    /* Replacing a known name still works when full. */
    strcpy(p.name, "n3");
    strcpy(p.host, "10.0.0.3");
    CHECK_EQ(peers_put(&p), 0);
    CHECK(strcmp(peers_find("n3", 2)->host, "10.0.0.3") == 0);
    peers_reset();
    CHECK_EQ(peers_pool.used, 0);
}

MG_TEST(test_peers_the_coordinator_never_replaces_a_static_entry)
{
    uint8_t other[32];

    use_vector_key();
    memset(other, 7, sizeof(other));
    peers_reset();
    add_peer("alice", pub, PEER_STATIC);
    add_peer("alice", other, PEER_COORDINATOR);
    CHECK_MEM(peers_find("alice", 5)->public_key, pub, 32);
    CHECK_EQ(peers_find("alice", 5)->source, PEER_STATIC);
    peers_reset();
}

MG_TEST(test_peers_a_sync_drops_what_its_source_no_longer_lists)
{
    use_vector_key();
    peers_reset();
    add_peer("s", pub, PEER_STATIC);
    add_peer("a", pub, PEER_COORDINATOR);
    add_peer("b", pub, PEER_COORDINATOR);
    peers_sync_begin(PEER_COORDINATOR);
    add_peer("b", pub, PEER_COORDINATOR);
    CHECK_EQ(peers_sync_end(PEER_COORDINATOR), 1);
    CHECK(peers_find("a", 1) == NULL);
    CHECK(peers_find("b", 1) != NULL);
    CHECK(peers_find("s", 1) != NULL);
    CHECK_EQ(peers_count(), 2);
    peers_reset();
    CHECK_EQ(peers_pool.used, 0);
}

/* --- base64 ------------------------------------------------------------------- */

MG_TEST(test_b64_is_strict_about_length_alphabet_padding_and_unused_bits)
{
    uint8_t out[8];

    CHECK_EQ(b64_decode("Zm9v", 4, out, sizeof(out)), 3);
    CHECK_MEM(out, "foo", 3);
    CHECK_EQ(b64_decode("Zm8=", 4, out, sizeof(out)), 2);
    CHECK_EQ(b64_decode("Zg==", 4, out, sizeof(out)), 1);
    CHECK_EQ(b64_decode("", 0, out, sizeof(out)), 0);
    CHECK_EQ(b64_decode("Zg=", 3, out, sizeof(out)), -1);
    CHECK_EQ(b64_decode("Zm9", 3, out, sizeof(out)), -1);
    CHECK_EQ(b64_decode("Zh==", 4, out, sizeof(out)), -1);   /* unused bits set */
    CHECK_EQ(b64_decode("Z=g=", 4, out, sizeof(out)), -1);
    CHECK_EQ(b64_decode("Zm9-", 4, out, sizeof(out)), -1);   /* base64url is not this */
    CHECK_EQ(b64_decode("Zm9vZm9v", 8, out, 5), -1);         /* does not fit */
}

/* --- section 3: what a member sends ------------------------------------------------ */

MG_TEST(test_membership_signs_the_sha256_of_approve_as_the_section_3_vector_says)
{
    char sig[MEMBERSHIP_SIG_TEXT_LEN + 1];

    use_coordinator_key();
    CHECK_EQ(membership_sign(test_sign, "approve:validator-002", 21, sig), 0);
    CHECK(strcmp(sig, "ed25519_sig_39256ba90a1eecaa31df5a889da43fba2de20414265a87bfe18a7656fff1bb4c"
                      "cfa9c1f4e364a3a2e58513b7e86d65088f1ca00be4e1b98f47ea1e7f44d28d0d") == 0);
}

MG_TEST(test_membership_register_message_is_compact_json_in_the_protocol_key_order)
{
    char out[256];
    struct textbuf b;

    textbuf_init(&b, out, sizeof(out));
    /* json.dumps({"nodeId": "gw-\u00e9\"x\x7f\U0001F600", "publicKey": "ed25519_ab",
     *             "tailscaleHostname": "h\n"}, separators=(",", ":")) */
    membership_register_message(&b, "gw-\xc3\xa9\"x\x7f\xf0\x9f\x98\x80", "ed25519_ab", "h\n");
    CHECK(!b.overflow);
    CHECK(strcmp(out, "{\"nodeId\":\"gw-\\u00e9\\\"x\\u007f\\ud83d\\ude00\",\"publicKey\":"
                      "\"ed25519_ab\",\"tailscaleHostname\":\"h\\n\"}") == 0);
}

MG_TEST(test_membership_heartbeat_body_is_signed_over_heartbeat_name_timestamp)
{
    char out[512], want_sig[MEMBERSHIP_SIG_TEXT_LEN + 1], msg[64];
    size_t len;

    use_coordinator_key();
    CHECK_EQ(membership_heartbeat_body(test_sign, "gw-a", "10.42.0.2", T0, out, sizeof(out), &len),
             0);
    snprintf(msg, sizeof(msg), "heartbeat:gw-a:%lld", T0);
    CHECK_EQ(membership_sign(test_sign, msg, strlen(msg), want_sig), 0);
    snprintf(msg, sizeof(msg), "%lld", T0);
    CHECK(strstr(out, "{\"nodeId\":\"gw-a\",\"tailscaleIP\":\"10.42.0.2\",\"timestamp\":") == out);
    CHECK(strstr(out, msg) != NULL);
    CHECK(strstr(out, want_sig) != NULL);
    CHECK_EQ(len, strlen(out));
}

MG_TEST(test_membership_register_body_announces_the_coordinator_only_in_that_role)
{
    static char out[2048];
    struct membership_node n = { "gw-a", "ed25519_00", "host-a", "10.42.0.2", 0 };
    size_t len;

    use_coordinator_key();
    CHECK_EQ(membership_register_body(test_sign, &n, out, sizeof(out), &len), 0);
    CHECK(strstr(out, "\"type\":\"peer\",\"port\":9632") != NULL);
    CHECK(strstr(out, "\"type\":\"relay\",\"port\":8080") != NULL);
    CHECK(strstr(out, "coordinator") == NULL);
    CHECK(strstr(out, "\"tailscaleIP\":\"10.42.0.2\"") != NULL);
    n.coordinator_role = 1;
    CHECK_EQ(membership_register_body(test_sign, &n, out, sizeof(out), &len), 0);
    CHECK(strstr(out, "\"type\":\"coordinator\",\"port\":8190") != NULL);
}

MG_TEST(test_membership_active_nodes_feed_the_registry_without_this_node)
{
    static const char body[] =
        "{\"nodes\":[{\"id\":\"gw-b\",\"public_key\":\"ed25519_"
        "4CB5ABF6AD79FBF5ABBCCAFCC269D85CD2651ED4B885B5869F241AEDF0A5BA29\","
        "\"tailscale_hostname\":\"b\",\"tailscale_ip\":\"10.42.0.7\",\"status\":\"active\","
        "\"services\":[{\"type\":\"relay\",\"port\":8080,\"publicKey\":\"k\"},"
        "{\"type\":\"peer\",\"port\":9700,\"publicKey\":\"k\"}]},"
        "{\"id\":\"me\",\"public_key\":\"ed25519_"
        "0000000000000000000000000000000000000000000000000000000000000000\","
        "\"tailscale_ip\":\"10.42.0.2\",\"services\":[]},"
        "{\"id\":\"no-ip\",\"public_key\":\"ed25519_"
        "0000000000000000000000000000000000000000000000000000000000000001\","
        "\"tailscale_ip\":\"somewhere\",\"services\":[]},"
        "{\"id\":\"gw-c\",\"public_key\":\"ed25519_"
        "0000000000000000000000000000000000000000000000000000000000000002\","
        "\"tailscale_ip\":\"10.42.0.8\"}]}";
    uint8_t self[32] = { 0 };
    const struct peer *b;
    size_t added;

    use_coordinator_key();
    self[0] = 0x55;
    peers_reset();
    CHECK_EQ(membership_nodes_to_peers(body, strlen(body), "me", self, T0, &added), 0);
    CHECK_EQ(added, 2);
    b = peers_find("gw-b", 4);
    CHECK(b != NULL);
    CHECK(strcmp(b->host, "10.42.0.7") == 0);
    CHECK_EQ(b->port, 9700);
    CHECK_EQ(b->relay_port, 8080);
    CHECK_EQ(b->source, PEER_COORDINATOR);
    CHECK_MEM(b->public_key, pub, 32);
    CHECK_EQ(peers_find("gw-c", 4)->port, BOARD_PORT_PEER);
    CHECK(peers_find("me", 2) == NULL);
    CHECK(peers_find("no-ip", 5) == NULL);
    /* Not a node list: the registry is left as it was. */
    CHECK_EQ(membership_nodes_to_peers("{\"x\":1}", 7, "me", self, T0, &added), MG_ERR_INVAL);
    CHECK_EQ(peers_count(), 2);
    /* A later list without gw-c drops it. */
    CHECK_EQ(membership_nodes_to_peers("{\"nodes\":[]}", 12, "me", self, T0, &added), 0);
    CHECK_EQ(peers_count(), 0);
}

/* Found by fuzz_peer: a node listed twice was counted twice. */
MG_TEST(test_membership_a_node_listed_twice_is_one_entry)
{
    static const char body[] =
        "{\"nodes\":[{\"id\":\"gw-b\",\"public_key\":\"ed25519_"
        "4cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba29\","
        "\"tailscale_ip\":\"10.42.0.7\"},{\"id\":\"gw-b\",\"public_key\":\"ed25519_"
        "4cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba29\","
        "\"tailscale_ip\":\"10.42.0.9\"}]}";
    uint8_t self[32] = { 0 };
    size_t added;

    peers_reset();
    CHECK_EQ(membership_nodes_to_peers(body, strlen(body), "me", self, T0, &added), 0);
    CHECK_EQ(added, 1);
    CHECK_EQ(peers_count(), 1);
    CHECK(strcmp(peers_find("gw-b", 4)->host, "10.42.0.9") == 0);   /* the last listing */
    peers_reset();
}
