/* The coordinator (PROTOCOLS.md 3): its signatures and messages
 * (coord/signing.c), the registry and its persistence (coord/registry.c)
 * and every endpoint through coord_api(), driven as a node and a sovereign
 * would, with keys of their own. */
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "coord/api.h"
#include "coord/registry.h"
#include "coord/signing.h"
#include "crypto.h"
#include "diag/textbuf.h"
#include "ed25519.h"
#include "flash.h"
#include "flash_image.h"
#include "hex.h"
#include "mg_err.h"
#include "pool.h"
#include "test.h"

#define VECTOR_KEY "ed25519_4cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba29"
#define VECTOR_SIG "ed25519_sig_39256ba90a1eecaa31df5a889da43fba2de20414265a87bfe18a7656fff1" \
                   "bb4ccfa9c1f4e364a3a2e58513b7e86d65088f1ca00be4e1b98f47ea1e7f44d28d0d"

#define WALL 1700000000000LL   /* the gateway's wall clock in these tests */
#define NOW  5000ull           /* and its monotonic one */

static char resp[COORD_ANSWER_MAX];
static int status;

/* A party with a key: seed 31 x 00 then n (n = 1 is the protocol's). */
struct party {
    uint8_t seed[32], pub[32];
    char key[COORD_KEY_TEXT];
};

static struct party party(uint8_t n)
{
    struct party p;

    memset(p.seed, 0, sizeof(p.seed));
    p.seed[31] = n;
    ed25519_public_key(p.seed, p.pub);
    coord_key_format(p.pub, p.key);
    return p;
}

/* "ed25519_sig_<hex>" over SHA-256(msg). */
static void sign(const struct party *p, const char *msg, char out[141])
{
    uint8_t digest[MG_SHA256_LEN], sig[ED25519_SIG_LEN];

    mg_sha256(msg, strlen(msg), digest);
    ed25519_sign(p->seed, p->pub, digest, sizeof(digest), sig);
    memcpy(out, "ed25519_sig_", 12);
    hex_encode(sig, sizeof(sig), out + 12);
}

static int request(enum http_method m, const char *target, const char *body)
{
    const char *q = strchr(target, '?');
    struct http_str path = { target, q ? (size_t)(q - target) : strlen(target) };
    struct http_str query = { q ? q + 1 : "", q ? strlen(q + 1) : 0 };
    struct textbuf out;

    textbuf_init(&out, resp, sizeof(resp));
    status = coord_api(m, path, query, body, body ? strlen(body) : 0, NOW, WALL, &out);
    return out.overflow ? -1 : status;
}

static int post(const char *path, const char *body)
{
    return request(HTTP_POST, path, body);
}

static int get(const char *target)
{
    return request(HTTP_GET, target, NULL);
}

static int said(const char *json)
{
    if (strcmp(resp, json) == 0)
        return 1;
    printf("    answered %d %s\n    wanted      %s\n", status, resp, json);
    return 0;
}

/* POST /register for id signed by p, with extra members (",..." or ""). */
static int register_node(const struct party *p, const char *id, const char *extra)
{
    char msg[512], sig[141], body[1024];

    coord_register_message(id, p->key, "host-x", msg, sizeof(msg));
    sign(p, msg, sig);
    snprintf(body, sizeof(body), "{\"nodeId\":\"%s\",\"publicKey\":\"%s\","
             "\"tailscaleHostname\":\"host-x\",\"signature\":\"%s\"%s}", id, p->key, sig, extra);
    return post("/register", body);
}

/* POST /approve/:id or /deny/:id by p. */
static int decide(const struct party *p, const char *action, const char *id)
{
    char msg[128], sig[141], path[96], body[512];

    snprintf(msg, sizeof(msg), "%s:%s", action, id);
    sign(p, msg, sig);
    snprintf(path, sizeof(path), "/%s/%s", action, id);
    snprintf(body, sizeof(body), "{\"approverPublicKey\":\"%s\",\"signature\":\"%s\"}", p->key,
             sig);
    return post(path, body);
}

static int heartbeat(const struct party *p, const char *id, long long ts)
{
    char msg[128], sig[141], body[512];

    snprintf(msg, sizeof(msg), "heartbeat:%s:%lld", id, ts);
    sign(p, msg, sig);
    snprintf(body, sizeof(body), "{\"nodeId\":\"%s\",\"tailscaleIP\":\"100.64.0.7\","
             "\"timestamp\":%lld,\"signature\":\"%s\"}", id, ts, sig);
    return post("/heartbeat", body);
}

static int mount(void)
{
    return registry_mount(hal_flash_part("registry"), NOW, WALL);
}

/* A mounted registry with sovereign party(1) and node "n1" of party(2)
 * registered; approved when active. */
static int setup(const struct party *sov, const struct party *node, int active)
{
    if (mount() != 0 || registry_sovereign_add(sov->pub, "test") != 0 ||
        register_node(node, "n1", "") != 201)
        return -1;
    return active && decide(sov, "approve", "n1") != 200 ? -1 : 0;
}

/* --- signatures and messages ------------------------------------------------ */

MG_TEST(test_coord_vector_seed_and_approve_signature_verify_in_every_accepted_form)
{
    struct party p = party(1);
    char sig[141], upper[141];
    static const char msg[] = "approve:validator-002";
    size_t i;

    CHECK(strcmp(p.key, VECTOR_KEY) == 0);
    sign(&p, msg, sig);
    CHECK(strcmp(sig, VECTOR_SIG) == 0);
    CHECK_EQ(coord_verify(p.pub, msg, strlen(msg), VECTOR_SIG), 0);
    /* "ed25519_" instead of "ed25519_sig_", and uppercase hex. */
    snprintf(upper, sizeof(upper), "ed25519_%s", VECTOR_SIG + 12);
    CHECK_EQ(coord_verify(p.pub, msg, strlen(msg), upper), 0);
    for (i = 12; upper[i]; i++)
        if (upper[i] >= 'a' && upper[i] <= 'f')
            upper[i] = (char)(upper[i] - 'a' + 'A');
    CHECK_EQ(coord_verify(p.pub, msg, strlen(msg), upper), 0);
}

MG_TEST(test_coord_forged_truncated_misprefixed_and_malleable_signatures_are_refused)
{
    struct party p = party(1), q = party(2);
    static const char msg[] = "approve:validator-002";
    /* L, the group order, little-endian: S + L verifies in lax libraries. */
    static const uint8_t order[32] = {
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };
    uint8_t sig[64];
    char text[141];
    unsigned carry = 0;
    int i;

    sign(&q, msg, text);
    CHECK_EQ(coord_verify(p.pub, msg, strlen(msg), text), MG_ERR_AUTH);     /* another key */
    CHECK_EQ(coord_verify(p.pub, "approve:validator-003", 21, VECTOR_SIG), MG_ERR_AUTH);
    snprintf(text, sizeof(text), "%.139s", VECTOR_SIG);
    CHECK_EQ(coord_verify(p.pub, msg, strlen(msg), text), MG_ERR_AUTH);     /* truncated */
    snprintf(text, sizeof(text), "ed25519:%s", VECTOR_SIG + 12);
    CHECK_EQ(coord_verify(p.pub, msg, strlen(msg), text), MG_ERR_AUTH);     /* prefix */
    CHECK_EQ(coord_verify(p.pub, msg, strlen(msg), VECTOR_SIG + 12), MG_ERR_AUTH);
    snprintf(text, sizeof(text), "%s", VECTOR_SIG);
    text[20] = 'g';
    CHECK_EQ(coord_verify(p.pub, msg, strlen(msg), text), MG_ERR_AUTH);     /* not hex */
    CHECK_EQ(coord_sig_parse(VECTOR_SIG, sig), 0);
    for (i = 0; i < 32; i++) {
        carry += sig[32 + i] + order[i];
        sig[32 + i] = (uint8_t)carry;
        carry >>= 8;
    }
    memcpy(text, "ed25519_sig_", 12);
    hex_encode(sig, sizeof(sig), text + 12);
    CHECK_EQ(coord_verify(p.pub, msg, strlen(msg), text), MG_ERR_AUTH);     /* S + L */
}

MG_TEST(test_coord_keys_parse_only_in_their_one_form)
{
    uint8_t pub[32];

    CHECK_EQ(coord_key_parse(VECTOR_KEY, pub), 0);
    CHECK_EQ(pub[0], 0x4c);
    CHECK_EQ(coord_key_parse(VECTOR_KEY "00", pub), MG_ERR_INVAL);
    CHECK_EQ(coord_key_parse(VECTOR_KEY + 8, pub), MG_ERR_INVAL);
    CHECK_EQ(coord_key_parse("ed25519_sig_4cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f24"
                             "1aedf0a5ba29", pub), MG_ERR_INVAL);
    CHECK_EQ(coord_key_parse("", pub), MG_ERR_INVAL);
}

MG_TEST(test_coord_register_message_is_the_compact_json_in_protocol_key_order)
{
    char out[256];
    static const char want[] =
        "{\"nodeId\":\"validator-002\",\"publicKey\":\"" VECTOR_KEY "\","
        "\"tailscaleHostname\":\"val-2\"}";

    CHECK_EQ(coord_register_message("validator-002", VECTOR_KEY, "val-2", out, sizeof(out)),
             (long)strlen(want));
    CHECK(strcmp(out, want) == 0);
    CHECK_EQ(coord_register_message("a\"b", VECTOR_KEY, "h", out, sizeof(out)), MG_ERR_INVAL);
    CHECK_EQ(coord_register_message("a", VECTOR_KEY, "h", out, 40), MG_ERR_TOOBIG);
    CHECK_EQ(coord_heartbeat_message("n1", 1700000000123LL, out, sizeof(out)), 26);
    CHECK(strcmp(out, "heartbeat:n1:1700000000123") == 0);
    CHECK_EQ(coord_action_message("deny", "n1", out, sizeof(out)), 7);
    CHECK(strcmp(out, "deny:n1") == 0);
}

/* --- POST /register ------------------------------------------------------------ */

FLASH_TEST(test_coord_register_answers_201_pending_and_lists_the_node)
{
    struct party p = party(2);
    char want[1024];

    CHECK_EQ(mount(), 0);
    CHECK_EQ(register_node(&p, "n1", ",\"tailscaleIP\":\"100.64.0.1\",\"services\":"
                                     "[{\"type\":\"relay\",\"port\":8080,\"publicKey\":\"abc=\"},"
                                     "{\"type\":\"coord\",\"port\":8190}]"), 201);
    CHECK(said("{\"success\":true,\"nodeId\":\"n1\",\"status\":\"pending\",\"message\":"
               "\"Registration successful. Awaiting sovereign approval.\"}"));
    CHECK_EQ(get("/nodes"), 200);
    CHECK(said("{\"nodes\":[]}"));   /* the default is active */
    CHECK_EQ(get("/nodes?status=pending"), 200);
    snprintf(want, sizeof(want), "{\"nodes\":[{\"id\":\"n1\",\"public_key\":\"%s\","
             "\"tailscale_hostname\":\"host-x\",\"tailscale_ip\":\"100.64.0.1\","
             "\"status\":\"pending\",\"services\":[{\"type\":\"relay\",\"port\":8080,"
             "\"publicKey\":\"abc=\"},{\"type\":\"coord\",\"port\":8190,\"publicKey\":null}]}]}",
             p.key);
    CHECK(said(want));
    registry_reset();
}

FLASH_TEST(test_coord_register_twice_is_409_and_keeps_the_first)
{
    struct party p = party(2), q = party(3);

    CHECK_EQ(mount(), 0);
    CHECK_EQ(register_node(&p, "n1", ""), 201);
    CHECK_EQ(register_node(&q, "n1", ""), 409);
    CHECK(said("{\"error\":\"Node already registered\"}"));
    CHECK_EQ(registry_nodes(), 1);
    CHECK(memcmp(registry_find("n1")->pub, p.pub, 32) == 0);
    registry_reset();
}

FLASH_TEST(test_coord_register_bad_input_is_refused_and_changes_nothing)
{
    static const struct {
        const char *body;
        int status;
        const char *answer;
    } bad[] = {
        { "{", 400, "{\"error\":\"Invalid JSON body\"}" },
        { "[1]", 400, "{\"error\":\"Invalid JSON body\"}" },
        { "{}", 400, "{\"error\":\"Missing required fields\"}" },
        { "{\"nodeId\":\"n1\",\"publicKey\":\"" VECTOR_KEY "\"}", 400,
          "{\"error\":\"Missing required fields\"}" },
        { "{\"nodeId\":7,\"publicKey\":\"" VECTOR_KEY "\",\"tailscaleHostname\":\"h\"}", 400,
          "{\"error\":\"Missing required fields\"}" },
        { "{\"nodeId\":\"\",\"publicKey\":\"" VECTOR_KEY "\",\"tailscaleHostname\":\"h\"}", 400,
          "{\"error\":\"Missing required fields\"}" },
        { "{\"nodeId\":\"a/b\",\"publicKey\":\"" VECTOR_KEY "\",\"tailscaleHostname\":\"h\"}", 400,
          "{\"error\":\"Invalid nodeId\"}" },
        { "{\"nodeId\":\"n1\",\"publicKey\":\"ed25519_00\",\"tailscaleHostname\":\"h\"}", 400,
          "{\"error\":\"Invalid publicKey\"}" },
        { "{\"nodeId\":\"n1\",\"publicKey\":\"" VECTOR_KEY "\",\"tailscaleHostname\":\"a b\"}",
          400, "{\"error\":\"Invalid tailscaleHostname\"}" },
        { "{\"nodeId\":\"n1\",\"publicKey\":\"" VECTOR_KEY "\",\"tailscaleHostname\":\"h\","
          "\"tailscaleIP\":\"x\"}", 400, "{\"error\":\"Invalid tailscaleIP\"}" },
        { "{\"nodeId\":\"n1\",\"publicKey\":\"" VECTOR_KEY "\",\"tailscaleHostname\":\"h\","
          "\"tailscaleIP\":[]}", 400, "{\"error\":\"Invalid tailscaleIP\"}" },
        { "{\"nodeId\":\"n1\",\"publicKey\":\"" VECTOR_KEY "\",\"tailscaleHostname\":\"h\","
          "\"services\":[{\"type\":\"relay\",\"port\":1,\"publicKey\":5}]}", 400,
          "{\"error\":\"Invalid services\"}" },
        { "{\"nodeId\":\"n1\",\"publicKey\":\"" VECTOR_KEY "\",\"tailscaleHostname\":\"h\","
          "\"services\":{}}", 400, "{\"error\":\"Invalid services\"}" },
        { "{\"nodeId\":\"n1\",\"publicKey\":\"" VECTOR_KEY "\",\"tailscaleHostname\":\"h\","
          "\"services\":[{\"type\":\"relay\",\"port\":0}]}", 400,
          "{\"error\":\"Invalid services\"}" },
        { "{\"nodeId\":\"n1\",\"publicKey\":\"" VECTOR_KEY "\",\"tailscaleHostname\":\"h\","
          "\"services\":[{\"type\":\"relay\",\"port\":\"80\"}]}", 400,
          "{\"error\":\"Invalid services\"}" },
        { "{\"nodeId\":\"n1\",\"publicKey\":\"" VECTOR_KEY "\",\"tailscaleHostname\":\"h\","
          "\"services\":[{\"type\":\"a\",\"port\":1},{\"type\":\"a\",\"port\":1},"
          "{\"type\":\"a\",\"port\":1},{\"type\":\"a\",\"port\":1},{\"type\":\"a\",\"port\":1}]}",
          400, "{\"error\":\"Too many services\"}" },
        { "{\"nodeId\":\"n1\",\"publicKey\":\"" VECTOR_KEY "\",\"tailscaleHostname\":\"h\"}", 401,
          "{\"error\":\"Invalid signature\"}" },
        { "{\"nodeId\":\"n1\",\"publicKey\":\"" VECTOR_KEY "\",\"tailscaleHostname\":\"h\","
          "\"signature\":\"" VECTOR_SIG "\"}", 401, "{\"error\":\"Invalid signature\"}" },
    };
    size_t i;

    CHECK_EQ(mount(), 0);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (post("/register", bad[i].body) != bad[i].status || strcmp(resp, bad[i].answer) != 0)
            test_fail(__FILE__, __LINE__, "%s: %d %s", bad[i].body, status, resp);
    CHECK_EQ(registry_nodes(), 0);
    registry_reset();
}

FLASH_TEST(test_coord_register_signed_by_another_key_or_for_another_node_is_401)
{
    struct party p = party(2), q = party(3);
    char msg[512], sig[141], body[1024];

    CHECK_EQ(mount(), 0);
    /* q signs p's registration. */
    coord_register_message("n1", p.key, "host-x", msg, sizeof(msg));
    sign(&q, msg, sig);
    snprintf(body, sizeof(body), "{\"nodeId\":\"n1\",\"publicKey\":\"%s\","
             "\"tailscaleHostname\":\"host-x\",\"signature\":\"%s\"}", p.key, sig);
    CHECK_EQ(post("/register", body), 401);
    /* p's signature over n2's registration, sent for n1. */
    coord_register_message("n2", p.key, "host-x", msg, sizeof(msg));
    sign(&p, msg, sig);
    snprintf(body, sizeof(body), "{\"nodeId\":\"n1\",\"publicKey\":\"%s\","
             "\"tailscaleHostname\":\"host-x\",\"signature\":\"%s\"}", p.key, sig);
    CHECK_EQ(post("/register", body), 401);
    CHECK(said("{\"error\":\"Invalid signature\"}"));
    CHECK_EQ(registry_nodes(), 0);
    registry_reset();
}

FLASH_TEST(test_coord_a_full_registry_answers_registry_full_and_changes_nothing)
{
    struct party p = party(2);
    char id[16];
    int i;

    CHECK_EQ(mount(), 0);
    for (i = 0; i < BOARD_COORD_NODES; i++) {
        snprintf(id, sizeof(id), "node-%d", i);
        CHECK_EQ(register_node(&p, id, ""), 201);
    }
    CHECK_EQ(register_node(&p, "one-more", ""), 503);
    CHECK(said("{\"error\":\"registry_full\"}"));
    CHECK_EQ(registry_nodes(), BOARD_COORD_NODES);
    CHECK(registry_find("one-more") == NULL);
    CHECK_EQ(coord_nodes_pool.used, BOARD_COORD_NODES);
    /* A taken id is still told apart from a full table. */
    CHECK_EQ(register_node(&p, "node-0", ""), 409);
    registry_reset();
    CHECK_EQ(coord_nodes_pool.used, 0);
}

/* --- approve, deny, sovereigns -------------------------------------------------- */

FLASH_TEST(test_coord_a_sovereign_approves_a_pending_node_once)
{
    struct party sov = party(1), node = party(2);

    CHECK_EQ(setup(&sov, &node, 0), 0);
    CHECK_EQ(decide(&sov, "approve", "n1"), 200);
    CHECK(said("{\"success\":true,\"nodeId\":\"n1\",\"status\":\"active\"}"));
    CHECK_EQ(registry_find("n1")->status, COORD_ACTIVE);
    CHECK_EQ(decide(&sov, "approve", "n1"), 404);
    CHECK(said("{\"error\":\"Node not found or already processed\"}"));
    CHECK_EQ(decide(&sov, "deny", "n1"), 404);
    CHECK_EQ(registry_find("n1")->status, COORD_ACTIVE);
    registry_reset();
}

FLASH_TEST(test_coord_a_sovereign_denies_a_pending_node)
{
    struct party sov = party(1), node = party(2);

    CHECK_EQ(setup(&sov, &node, 0), 0);
    CHECK_EQ(decide(&sov, "deny", "n1"), 200);
    CHECK(said("{\"success\":true,\"nodeId\":\"n1\",\"status\":\"denied\"}"));
    CHECK_EQ(get("/nodes?status=denied"), 200);
    CHECK(strstr(resp, "\"id\":\"n1\"") != NULL);
    registry_reset();
}

FLASH_TEST(test_coord_approve_by_a_non_sovereign_or_with_a_bad_signature_changes_nothing)
{
    struct party sov = party(1), node = party(2);
    char sig[141], body[512];

    CHECK_EQ(setup(&sov, &node, 0), 0);
    CHECK_EQ(decide(&node, "approve", "n1"), 403);
    CHECK(said("{\"error\":\"Unauthorized - not a sovereign key\"}"));
    CHECK_EQ(post("/approve/n1", "{\"signature\":\"x\"}"), 403);
    CHECK_EQ(post("/approve/n1", "{\"approverPublicKey\":\"ed25519_12\",\"signature\":\"x\"}"),
             403);
    /* The sovereign's signature over another node's approval. */
    sign(&sov, "approve:n2", sig);
    snprintf(body, sizeof(body), "{\"approverPublicKey\":\"%s\",\"signature\":\"%s\"}", sov.key,
             sig);
    CHECK_EQ(post("/approve/n1", body), 401);
    CHECK(said("{\"error\":\"Invalid signature\"}"));
    /* Its deny signature used to approve. */
    sign(&sov, "deny:n1", sig);
    snprintf(body, sizeof(body), "{\"approverPublicKey\":\"%s\",\"signature\":\"%s\"}", sov.key,
             sig);
    CHECK_EQ(post("/approve/n1", body), 401);
    CHECK_EQ(post("/approve/n1", "nope"), 400);
    CHECK(said("{\"error\":\"Invalid JSON body\"}"));
    CHECK_EQ(registry_find("n1")->status, COORD_PENDING);
    registry_reset();
}

FLASH_TEST(test_coord_approving_an_unknown_node_is_404)
{
    struct party sov = party(1), node = party(2);

    CHECK_EQ(setup(&sov, &node, 0), 0);
    CHECK_EQ(decide(&sov, "approve", "ghost"), 404);
    CHECK(said("{\"error\":\"Node not found or already processed\"}"));
    CHECK_EQ(post("/approve/", "{}"), 404);
    CHECK_EQ(post("/approve/a%2Fb", "{}"), 404);
    registry_reset();
}

FLASH_TEST(test_coord_sovereign_add_needs_an_existing_sovereigns_signature)
{
    struct party sov = party(1), other = party(5);
    char msg[128], sig[141], body[512];

    CHECK_EQ(mount(), 0);
    CHECK_EQ(registry_sovereign_add(sov.pub, "first"), 0);
    snprintf(body, sizeof(body), "{\"publicKey\":\"%s\",\"description\":\"ops\"}", other.key);
    CHECK_EQ(post("/sovereign/add", body), 403);   /* unsigned */
    CHECK(said("{\"error\":\"Unauthorized - not a sovereign key\"}"));
    snprintf(msg, sizeof(msg), "sovereign-add:%s", other.key);
    sign(&other, msg, sig);   /* signed by itself, not a sovereign */
    snprintf(body, sizeof(body), "{\"publicKey\":\"%s\",\"description\":\"ops\","
             "\"approverPublicKey\":\"%s\",\"signature\":\"%s\"}", other.key, other.key, sig);
    CHECK_EQ(post("/sovereign/add", body), 403);
    snprintf(body, sizeof(body), "{\"publicKey\":\"%s\",\"description\":\"ops\","
             "\"approverPublicKey\":\"%s\"}", other.key, sov.key);
    CHECK_EQ(post("/sovereign/add", body), 401);
    CHECK_EQ(registry_sovereign_count(), 1);
    sign(&sov, msg, sig);
    snprintf(body, sizeof(body), "{\"publicKey\":\"%s\",\"description\":\"ops\","
             "\"approverPublicKey\":\"%s\",\"signature\":\"%s\"}", other.key, sov.key, sig);
    CHECK_EQ(post("/sovereign/add", body), 200);
    snprintf(msg, sizeof(msg), "{\"success\":true,\"publicKey\":\"%s\"}", other.key);
    CHECK(said(msg));
    CHECK(registry_is_sovereign(other.pub));
    CHECK_EQ(post("/sovereign/add", body), 409);
    CHECK(said("{\"error\":\"Sovereign key already exists\"}"));
    CHECK_EQ(post("/sovereign/add", "{\"description\":\"x\"}"), 400);
    CHECK(said("{\"error\":\"Missing required fields\"}"));
    CHECK_EQ(registry_sovereign_count(), 2);
    registry_reset();
}

FLASH_TEST(test_coord_a_full_sovereign_table_refuses_the_next_and_changes_nothing)
{
    struct party p;
    int i;

    CHECK_EQ(mount(), 0);
    for (i = 0; i < BOARD_COORD_SOVEREIGNS; i++) {
        p = party((uint8_t)(10 + i));
        CHECK_EQ(registry_sovereign_add(p.pub, "k"), 0);
    }
    p = party(99);
    CHECK_EQ(registry_sovereign_add(p.pub, "k"), MG_ERR_NOSPC);
    CHECK_EQ(registry_sovereign_count(), BOARD_COORD_SOVEREIGNS);
    CHECK(!registry_is_sovereign(p.pub));
    p = party(10);
    CHECK_EQ(registry_sovereign_add(p.pub, "k"), MG_ERR_EXIST);
    registry_reset();
}

/* --- heartbeats and offline ------------------------------------------------------ */

FLASH_TEST(test_coord_a_valid_heartbeat_is_accepted_and_records_the_address)
{
    struct party sov = party(1), node = party(2);

    CHECK_EQ(setup(&sov, &node, 1), 0);
    CHECK_EQ(heartbeat(&node, "n1", WALL - 1000), 200);
    CHECK(said("{\"success\":true,\"timestamp\":1700000000000}"));
    CHECK(strcmp(registry_find("n1")->ip, "100.64.0.7") == 0);
    CHECK_EQ(registry_find("n1")->heartbeat_at, WALL);
    registry_reset();
}

FLASH_TEST(test_coord_replayed_skewed_and_missing_timestamps_are_400)
{
    struct party sov = party(1), node = party(2);

    CHECK_EQ(setup(&sov, &node, 1), 0);
    CHECK_EQ(heartbeat(&node, "n1", WALL - 60001), 400);
    CHECK(said("{\"error\":\"Timestamp too old or invalid\"}"));
    CHECK_EQ(heartbeat(&node, "n1", WALL + 60001), 400);
    CHECK_EQ(heartbeat(&node, "n1", WALL + 60000), 200);   /* exactly 60 s passes */
    CHECK_EQ(heartbeat(&node, "n1", WALL + 60000), 400);   /* the same one again */
    CHECK(said("{\"error\":\"Timestamp too old or invalid\"}"));
    CHECK_EQ(heartbeat(&node, "n1", WALL + 59999), 400);   /* older than the last */
    CHECK_EQ(post("/heartbeat", "{\"nodeId\":\"n1\",\"signature\":\"x\"}"), 400);
    CHECK(said("{\"error\":\"Timestamp too old or invalid\"}"));
    CHECK_EQ(post("/heartbeat", "{\"nodeId\":\"n1\",\"timestamp\":\"1700000000000\","
                                "\"signature\":\"x\"}"), 400);
    CHECK_EQ(registry_find("n1")->last_ts, WALL + 60000);
    registry_reset();
}

FLASH_TEST(test_coord_heartbeats_of_unknown_pending_or_forged_nodes_are_refused)
{
    struct party sov = party(1), node = party(2), other = party(3);

    CHECK_EQ(setup(&sov, &node, 0), 0);
    CHECK_EQ(heartbeat(&node, "ghost", WALL), 404);
    CHECK(said("{\"error\":\"Node not registered\"}"));
    CHECK_EQ(heartbeat(&node, "n1", WALL), 403);
    CHECK(said("{\"error\":\"Node not active\"}"));
    CHECK_EQ(decide(&sov, "approve", "n1"), 200);
    CHECK_EQ(heartbeat(&other, "n1", WALL), 401);   /* another key */
    CHECK(said("{\"error\":\"Invalid signature\"}"));
    CHECK_EQ(register_node(&other, "n2", ""), 201);
    CHECK_EQ(decide(&sov, "approve", "n2"), 200);
    CHECK_EQ(heartbeat(&other, "n2", WALL), 200);
    CHECK_EQ(post("/heartbeat", "{\"timestamp\":1}"), 400);
    CHECK(said("{\"error\":\"Missing required fields\"}"));
    CHECK_EQ(post("/heartbeat", "{\"nodeId\":\"n1\",\"timestamp\":1700000000000}"), 401);
    CHECK_EQ(registry_find("n1")->heartbeat_at, 0);
    registry_reset();
}

FLASH_TEST(test_coord_a_silent_node_goes_offline_and_a_heartbeat_brings_it_back)
{
    struct party sov = party(1), node = party(2);

    CHECK_EQ(setup(&sov, &node, 1), 0);
    CHECK_EQ(registry_mark_offline(NOW + 1000, 1000), 0);   /* exactly the window: not yet */
    CHECK_EQ(registry_mark_offline(NOW + 1001, 1000), 1);
    CHECK_EQ(registry_find("n1")->status, COORD_OFFLINE);
    CHECK_EQ(registry_mark_offline(NOW + 5000, 1000), 0);
    CHECK_EQ(get("/nodes?status=offline"), 200);
    CHECK(strstr(resp, "\"id\":\"n1\"") != NULL);
    CHECK_EQ(heartbeat(&node, "n1", WALL), 200);
    CHECK_EQ(registry_find("n1")->status, COORD_ACTIVE);
    /* Pending and denied nodes never go offline. */
    CHECK_EQ(register_node(&node, "n2", ""), 201);
    CHECK_EQ(decide(&sov, "deny", "n2"), 200);
    CHECK_EQ(registry_mark_offline(NOW + 100000, 1000), 1);   /* n1 only */
    CHECK_EQ(registry_find("n2")->status, COORD_DENIED);
    registry_reset();
}

/* --- persistence --------------------------------------------------------------------- */

FLASH_TEST(test_coord_the_registry_survives_a_remount_of_its_partition)
{
    struct party sov = party(1), node = party(2), other = party(3);
    const struct coord_node *n;

    CHECK_EQ(mount(), 0);
    CHECK_EQ(registry_sovereign_add(sov.pub, "first"), 0);
    CHECK_EQ(register_node(&node, "n1", ",\"services\":[{\"type\":\"relay\",\"port\":8080,"
                                        "\"publicKey\":\"k1\"}]"), 201);
    CHECK_EQ(register_node(&other, "n2", ""), 201);
    CHECK_EQ(decide(&sov, "approve", "n1"), 200);
    CHECK_EQ(decide(&sov, "deny", "n2"), 200);
    CHECK_EQ(heartbeat(&node, "n1", WALL - 5), 200);
    CHECK_EQ(registry_mark_offline(NOW + 10000, 1000), 1);

    registry_reset();
    hal_flash_close();
    CHECK_EQ(hal_flash_open(flash_image_path()), 0);
    CHECK_EQ(registry_mount(hal_flash_part("registry"), 100, WALL + 7), 0);
    CHECK_EQ(registry_sovereign_count(), 1);
    CHECK(registry_is_sovereign(sov.pub));
    CHECK(strcmp(registry_sovereign_at(0)->desc, "first") == 0);
    n = registry_find("n1");
    CHECK(n != NULL);
    CHECK_EQ(n->status, COORD_OFFLINE);
    CHECK(memcmp(n->pub, node.pub, 32) == 0);
    CHECK(strcmp(n->host, "host-x") == 0);
    CHECK(strcmp(n->ip, "100.64.0.7") == 0);
    CHECK_EQ(n->n_services, 1);
    CHECK(strcmp(n->services[0].type, "relay") == 0);
    CHECK_EQ(n->services[0].port, 8080);
    CHECK(strcmp(n->services[0].key, "k1") == 0);
    CHECK_EQ(n->registered_at, WALL);
    /* The heartbeat clock restarts at the boot; its replay floor is the boot. */
    CHECK_EQ(n->seen_ms, 100);
    CHECK_EQ(n->last_ts, WALL + 7);
    CHECK_EQ(registry_find("n2")->status, COORD_DENIED);
    CHECK_EQ(coord_nodes_pool.used, 2);
    CHECK_EQ(coord_sovereigns_pool.used, 1);
    CHECK_EQ(heartbeat(&node, "n1", WALL - 5), 400);   /* from before the boot */
    registry_reset();
}

FLASH_TEST(test_coord_without_its_partition_every_change_is_503_unavailable)
{
    struct party p = party(2);

    registry_reset();
    CHECK_EQ(registry_mount(NULL, NOW, WALL), MG_ERR_IO);
    CHECK_EQ(register_node(&p, "n1", ""), 503);
    CHECK(said("{\"error\":\"registry_unavailable\"}"));
    CHECK_EQ(registry_sovereign_add(p.pub, "x"), MG_ERR_IO);
    CHECK_EQ(registry_nodes(), 0);
}

/* --- reads ------------------------------------------------------------------------------ */

FLASH_TEST(test_coord_nodes_by_id_topology_and_health_answer_their_shapes)
{
    struct party sov = party(1), node = party(2), other = party(3);
    char want[1024];

    CHECK_EQ(setup(&sov, &node, 1), 0);
    CHECK_EQ(register_node(&other, "n2", ""), 201);
    CHECK_EQ(get("/health"), 200);
    CHECK(said("{\"status\":\"ok\",\"service\":\"mesh\"}"));
    CHECK_EQ(get("/nodes/n1"), 200);
    snprintf(want, sizeof(want), "{\"id\":\"n1\",\"public_key\":\"%s\",\"tailscale_hostname\":"
             "\"host-x\",\"tailscale_ip\":null,\"status\":\"active\",\"services\":[],"
             "\"registered_at\":1700000000000,\"last_heartbeat\":null}", node.key);
    CHECK(said(want));
    CHECK_EQ(get("/nodes/ghost"), 404);
    CHECK(said("{\"error\":\"Node not found\"}"));
    CHECK_EQ(get("/nodes?status=bogus"), 400);
    CHECK(said("{\"error\":\"Invalid status\"}"));
    CHECK_EQ(get("/nodes?status="), 200);   /* empty: the default, active */
    CHECK(strstr(resp, "\"id\":\"n1\"") != NULL && strstr(resp, "n2") == NULL);
    CHECK_EQ(get("/topology"), 200);
    CHECK(said("{\"nodes\":[{\"id\":\"n1\",\"status\":\"active\",\"tailscale_hostname\":"
               "\"host-x\",\"tailscale_ip\":null,\"services\":[],\"last_heartbeat\":null},"
               "{\"id\":\"n2\",\"status\":\"pending\",\"tailscale_hostname\":\"host-x\","
               "\"tailscale_ip\":null,\"services\":[],\"last_heartbeat\":null}],"
               "\"counts\":{\"pending\":1,\"active\":1,\"denied\":0,\"offline\":0,\"total\":2},"
               "\"sovereigns\":1}"));
    CHECK_EQ(get("/nowhere"), 404);
    CHECK(said("{\"error\":\"Not found\"}"));
    registry_reset();
}

/* Registers node i with every field at its longest. */
static int register_longest(const struct party *p, int i)
{
    char id[COORD_ID_MAX], host[COORD_HOST_MAX], ip[COORD_IP_MAX], msg[512], sig[141];
    static char body[COORD_BODY_MAX];
    size_t n;
    int k;

    memset(id, 'i', sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    id[0] = (char)('a' + i / 26);
    id[1] = (char)('a' + i % 26);
    memset(host, 'h', sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    memset(ip, '1', sizeof(ip) - 1);
    ip[sizeof(ip) - 1] = '\0';
    coord_register_message(id, p->key, host, msg, sizeof(msg));
    sign(p, msg, sig);
    n = (size_t)snprintf(body, sizeof(body), "{\"nodeId\":\"%s\",\"publicKey\":\"%s\","
                         "\"tailscaleHostname\":\"%s\",\"tailscaleIP\":\"%s\",\"signature\":"
                         "\"%s\",\"services\":[", id, p->key, host, ip, sig);
    for (k = 0; k < BOARD_COORD_SERVICES; k++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "%s{\"type\":\"%.*s\",\"port\":65535,"
                              "\"publicKey\":\"%.*s\"}", k ? "," : "",
                              COORD_SVC_TYPE_MAX - 1, "ttttttttttttttttttttttttttttttttttttttttt",
                              COORD_SVC_KEY_MAX - 1,
                              "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
                              "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk");
    snprintf(body + n, sizeof(body) - n, "]}");
    return post("/register", body);
}

/* COORD_ANSWER_MAX (coord.c's answer buffer) holds the listings of a full
 * registry of the longest nodes, and one such node is COORD_NODE_JSON_MAX
 * at most even with its detail. */
FLASH_TEST(test_coord_a_full_registry_of_the_longest_nodes_lists_within_one_answer)
{
    struct party p = party(2);
    char path[96];
    int i;

    CHECK_EQ(mount(), 0);
    for (i = 0; i < BOARD_COORD_NODES; i++)
        CHECK_EQ(register_longest(&p, i), 201);
    CHECK_EQ(registry_at(0)->n_services, BOARD_COORD_SERVICES);
    CHECK_EQ(strlen(registry_at(0)->services[0].key), COORD_SVC_KEY_MAX - 1);
    CHECK_EQ(strlen(registry_at(0)->host), COORD_HOST_MAX - 1);
    snprintf(path, sizeof(path), "/nodes/%s", registry_at(0)->id);
    CHECK_EQ(get(path), 200);
    CHECK(strlen(resp) <= COORD_NODE_JSON_MAX);
    CHECK(strlen(resp) > COORD_NODE_JSON_MAX - 64);   /* the bound is tight */
    CHECK_EQ(get("/nodes?status=pending"), 200);
    CHECK(strlen(resp) > 16 * 1024);                  /* more than one send buffer */
    CHECK_EQ(get("/topology"), 200);
    /* Every node rewritten (collection moves them), then back from flash. */
    for (i = 0; i < BOARD_COORD_NODES; i++)
        CHECK_EQ(registry_set_status(registry_at((size_t)i)->id, COORD_DENIED, NOW), 0);
    registry_reset();
    CHECK_EQ(mount(), 0);
    CHECK_EQ(registry_count(COORD_DENIED), BOARD_COORD_NODES);
    registry_reset();
}

/* Clears a bit of the first copy of text in the registry partition, as rot
 * would: the record around it then fails its CRC. */
static int rot(const char *text)
{
    static uint8_t part[BOARD_PART_REGISTRY_SIZE];
    const struct hal_flash_part *p = hal_flash_part("registry");
    size_t n = strlen(text), i;
    uint8_t b;

    if (hal_flash_part_read(p, 0, part, sizeof(part)) != 0)
        return -1;
    for (i = 0; i + n <= sizeof(part); i++)
        if (memcmp(part + i, text, n) == 0) {
            b = (uint8_t)(part[i] & ~0x20u);   /* 'c' -> 'C': only clears a bit */
            return hal_flash_program(p->off + (uint32_t)i, &b, 1);
        }
    return -1;
}

FLASH_TEST(test_coord_a_corrupt_record_keeps_its_slot_out_of_use_and_is_never_written_over)
{
    struct party sov = party(1), node = party(2);

    CHECK_EQ(mount(), 0);
    CHECK_EQ(registry_sovereign_add(sov.pub, "corruptsov"), 0);
    CHECK_EQ(register_node(&node, "corruptme", ""), 201);
    CHECK_EQ(register_node(&node, "n2", ""), 201);
    CHECK_EQ(rot("corruptme"), 0);
    CHECK_EQ(rot("corruptsov"), 0);
    CHECK_EQ(mount(), 0);
    CHECK_EQ(registry_corrupt(), 1);
    CHECK(registry_find("corruptme") == NULL && registry_find("Corruptme") == NULL);
    CHECK(registry_find("n2") != NULL);
    CHECK_EQ(coord_nodes_pool.used, 2);                /* the corrupt slot counts */
    CHECK_EQ(registry_sovereigns_corrupt(), 1);
    CHECK_EQ(registry_sovereign_count(), 0);
    CHECK_EQ(registry_sovereign_add(sov.pub, "again"), MG_ERR_CORRUPT);
    /* A new node takes a free slot: the corrupt record is still there. */
    CHECK_EQ(register_node(&node, "n3", ""), 201);
    CHECK_EQ(mount(), 0);
    CHECK_EQ(registry_corrupt(), 1);
    CHECK(registry_find("n2") != NULL && registry_find("n3") != NULL);
    registry_reset();
}
