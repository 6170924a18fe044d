/* The controller's config (firmware/confsync/config.c) and the delivery
 * table (firmware/confsync/delivery.c). */
#include <stdio.h>
#include <string.h>

#include "confsync/config.h"
#include "confsync/delivery.h"
#include "mg_err.h"
#include "test.h"

#define VECTOR_BODY "{\"identity\":{\"allowed_senders\":[\"+15550001111\"],\"bot_name\":\"Joi\"," \
                    "\"groups\":{}}}"
#define VECTOR_HASH "ee130564602f499105e698a8da43b4c6a1574af6c702dead9267ad3ad7a33ed7"

static struct config_error err;

static int stage(const char *body)
{
    return config_stage(body, strlen(body), &err);
}

static int push(const char *body)
{
    int rc = stage(body);

    if (rc == 0)
        config_apply(1700000000000);
    return rc;
}

MG_TEST(test_config_the_protocol_vector_hashes_as_python_does)
{
    config_reset();
    CHECK_EQ(push(VECTOR_BODY), 0);
    CHECK(config_current() != NULL);
    CHECK(strcmp(config_current()->hash, VECTOR_HASH) == 0);
    CHECK(strcmp(config_current()->bot_name, "Joi") == 0);
    CHECK_EQ(config_current()->n_allowed, 1);
    CHECK(strcmp(config_current()->allowed[0], "+15550001111") == 0);
    CHECK_EQ(config_current()->allow_all, 0);
    CHECK_EQ(config_current()->applied_at, 1700000000000);
}

MG_TEST(test_config_rotation_and_timestamp_are_left_out_of_the_hash)
{
    config_reset();
    CHECK_EQ(push("{\"timestamp_ms\":5,\"identity\":{\"allowed_senders\":[\"+15550001111\"],"
                  "\"bot_name\":\"Joi\",\"groups\":{}},\"hmac_rotation\":{\"new_secret\":"
                  "\"00112233445566778899aabbccddeeff\",\"grace_period_ms\":0}}"),
             0);
    CHECK(strcmp(config_current()->hash, VECTOR_HASH) == 0);
    CHECK_EQ(config_current()->timestamp_ms, 5);
}

MG_TEST(test_config_before_the_first_push_there_is_none)
{
    config_reset();
    CHECK(config_current() == NULL);
    CHECK(config_staged() == NULL);
}

MG_TEST(test_config_a_staged_push_does_not_touch_the_running_one_until_applied)
{
    char hash[65];

    config_reset();
    CHECK_EQ(push(VECTOR_BODY), 0);
    strcpy(hash, config_current()->hash);
    CHECK_EQ(stage("{\"identity\":{\"allowed_senders\":[\"*\"]}}"), 0);
    CHECK(strcmp(config_current()->hash, hash) == 0);
    CHECK_EQ(config_current()->allow_all, 0);
    config_apply(2);
    CHECK_EQ(config_current()->allow_all, 1);
    CHECK(strcmp(config_current()->hash, hash) != 0);
}

MG_TEST(test_config_a_refused_push_leaves_the_running_config_untouched)
{
    config_reset();
    CHECK_EQ(push(VECTOR_BODY), 0);
    CHECK_EQ(stage("{\"identity\":{\"allowed_senders\":[\"a\",2]}}"), MG_ERR_INVAL);
    CHECK(config_staged() == NULL);
    config_apply(9);   /* nothing staged: no effect */
    CHECK(strcmp(config_current()->hash, VECTOR_HASH) == 0);
    CHECK_EQ(config_current()->n_allowed, 1);
    CHECK_EQ(config_current()->applied_at, 1700000000000);
}

MG_TEST(test_config_malformed_null_empty_and_non_objects_are_invalid_json)
{
    static const char *const bad[] = {
        "", "{", "null", "{}", "[]", "[{\"identity\":{}}]", "\"identity\"", "1",
        "{\"identity\":{}} x", "{\"identity\":{},}", "{\"identity\":{},\"identity\":{}}",
    };
    size_t i;

    config_reset();
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ(stage(bad[i]), MG_ERR_INVAL);
        CHECK_EQ(err.status, 400);
        CHECK(strcmp(err.code, "invalid_json") == 0);
    }
    CHECK(config_current() == NULL);
}

MG_TEST(test_config_without_identity_is_missing_identity)
{
    config_reset();
    CHECK_EQ(stage("{\"version\":1,\"security\":{\"kill_switch\":true}}"), MG_ERR_INVAL);
    CHECK_EQ(err.status, 400);
    CHECK(strcmp(err.code, "missing_identity") == 0);
}

/* Each wrong type in each section, and the field it names. */
MG_TEST(test_config_wrong_types_in_every_section_are_invalid_config_naming_the_field)
{
    static const struct {
        const char *body, *field;
    } bad[] = {
        { "{\"identity\":[]}", "identity" },
        { "{\"identity\":{\"bot_name\":1}}", "identity.bot_name" },
        { "{\"identity\":{\"allowed_senders\":{}}}", "identity.allowed_senders" },
        { "{\"identity\":{\"allowed_senders\":[null]}}", "identity.allowed_senders" },
        { "{\"identity\":{\"allowed_senders\":[\"\"]}}", "identity.allowed_senders" },
        { "{\"identity\":{\"groups\":[]}}", "identity.groups" },
        { "{\"identity\":{},\"version\":0}", "version" },
        { "{\"identity\":{},\"version\":\"1\"}", "version" },
        { "{\"identity\":{},\"rate_limits\":[]}", "rate_limits" },
        { "{\"identity\":{},\"rate_limits\":{\"inbound\":1}}", "rate_limits.inbound" },
        { "{\"identity\":{},\"rate_limits\":{\"inbound\":{\"max_per_minute\":1.5}}}",
          "rate_limits.inbound.max_per_minute" },
        { "{\"identity\":{},\"rate_limits\":{\"inbound\":{\"max_per_hour\":-1}}}",
          "rate_limits.inbound.max_per_hour" },
        { "{\"identity\":{},\"validation\":{\"max_text_length\":0}}",
          "validation.max_text_length" },
        { "{\"identity\":{},\"validation\":{\"max_timestamp_skew_ms\":true}}",
          "validation.max_timestamp_skew_ms" },
        { "{\"identity\":{},\"security\":{\"kill_switch\":1}}", "security.kill_switch" },
        { "{\"identity\":{},\"security\":{\"privacy_mode\":\"on\"}}", "security.privacy_mode" },
        { "{\"identity\":{},\"timestamp_ms\":\"x\"}", "timestamp_ms" },
        { "{\"identity\":{},\"hmac_rotation\":{\"new_secret\":\"abc\"}}",
          "hmac_rotation.new_secret" },
        { "{\"identity\":{},\"hmac_rotation\":{\"new_secret\":"
          "\"zz112233445566778899aabbccddeeff\"}}", "hmac_rotation.new_secret" },
        { "{\"identity\":{},\"hmac_rotation\":{\"new_secret\":"
          "\"00112233445566778899aabbccddeeff\",\"grace_period_ms\":-1}}",
          "hmac_rotation.grace_period_ms" },
        { "{\"identity\":{},\"gateway\":[]}", "gateway" },
        { "{\"identity\":{},\"gateway\":{\"relay\":{\"auth\":\"none\"}}}", "gateway.relay.auth" },
        { "{\"identity\":{},\"gateway\":{\"relay\":{\"ttl_ms\":10}}}", "gateway.relay.ttl_ms" },
        { "{\"identity\":{},\"gateway\":{\"relay\":{\"max_envelope_bytes\":99999999}}}",
          "gateway.relay.max_envelope_bytes" },
        { "{\"identity\":{},\"gateway\":{\"relay\":{\"mailbox_cap\":0}}}",
          "gateway.relay.mailbox_cap" },
        { "{\"identity\":{},\"gateway\":{\"peers\":{}}}", "gateway.peers" },
        { "{\"identity\":{},\"gateway\":{\"peers\":[{\"name\":\"b\"}]}}", "gateway.peers[].url" },
        { "{\"identity\":{},\"gateway\":{\"peers\":[{\"url\":\"ftp://b\"}]}}",
          "gateway.peers[].url" },
        { "{\"identity\":{},\"gateway\":{\"coordinator\":{\"url\":\"http://\"}}}",
          "gateway.coordinator.url" },
        { "{\"identity\":{},\"gateway\":{\"coordinator\":{\"role\":\"yes\"}}}",
          "gateway.coordinator.role" },
        { "{\"identity\":{},\"gateway\":{\"coordinator\":{\"sovereign_keys\":\"k\"}}}",
          "gateway.coordinator.sovereign_keys" },
        { "{\"identity\":{},\"gateway\":{\"coordinator\":{\"sovereign_keys\":"
          "[\"ed25519_4cb5abf6\"]}}}", "gateway.coordinator.sovereign_keys" },
        { "{\"identity\":{},\"gateway\":{\"coordinator\":{\"sovereign_keys\":[1]}}}",
          "gateway.coordinator.sovereign_keys" },
        { "{\"identity\":{},\"gateway\":{\"coordinator\":{\"offline_after_ms\":999}}}",
          "gateway.coordinator.offline_after_ms" },
        { "{\"identity\":{},\"gateway\":{\"coordinator\":{\"offline_check_ms\":99}}}",
          "gateway.coordinator.offline_check_ms" },
        { "{\"identity\":{},\"gateway\":{\"coordinator\":{\"offline_check_ms\":1.5}}}",
          "gateway.coordinator.offline_check_ms" },
        { "{\"identity\":{},\"gateway\":{\"intervals\":{\"heartbeat_ms\":5}}}",
          "gateway.intervals.heartbeat_ms" },
        { "{\"identity\":{},\"gateway\":{\"telemetry\":{\"recipient\":[]}}}",
          "gateway.telemetry.recipient" },
        { "{\"identity\":{},\"gateway\":{\"forwarding\":{\"enabled\":true}}}",
          "gateway.forwarding.inbound_url" },
    };
    size_t i;

    config_reset();
    CHECK_EQ(push(VECTOR_BODY), 0);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = strlen(bad[i].field);
        if (stage(bad[i].body) != MG_ERR_INVAL || err.status != 400 ||
            strcmp(err.code, "invalid_config") != 0 || strncmp(err.detail, bad[i].field, n) != 0 ||
            err.detail[n] != ':')
            test_fail(__FILE__, __LINE__, "%s: %s %s", bad[i].body, err.code ? err.code : "ok",
                      err.detail);
    }
    CHECK(strcmp(config_current()->hash, VECTOR_HASH) == 0);
}

MG_TEST(test_config_more_senders_than_the_table_holds_is_refused_whole)
{
    static char body[BOARD_CONFIG_SENDERS * 12 + 64];
    size_t n = 0, i;

    config_reset();
    n += (size_t)snprintf(body, sizeof(body), "{\"identity\":{\"allowed_senders\":[");
    for (i = 0; i <= BOARD_CONFIG_SENDERS; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "%s\"u%zu\"", i ? "," : "", i);
    snprintf(body + n, sizeof(body) - n, "]}}");
    CHECK_EQ(stage(body), MG_ERR_INVAL);
    CHECK(strcmp(err.code, "config_too_large") == 0);
    CHECK(config_current() == NULL);
    /* Exactly the table's size fits. */
    n = (size_t)snprintf(body, sizeof(body), "{\"identity\":{\"allowed_senders\":[");
    for (i = 0; i < BOARD_CONFIG_SENDERS; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "%s\"u%zu\"", i ? "," : "", i);
    snprintf(body + n, sizeof(body) - n, "]}}");
    CHECK_EQ(push(body), 0);
    CHECK_EQ(config_current()->n_allowed, BOARD_CONFIG_SENDERS);
}

MG_TEST(test_config_more_peers_than_the_table_holds_is_refused_whole)
{
    static char body[BOARD_PEERS * 64 + 128];
    size_t n, i;

    config_reset();
    n = (size_t)snprintf(body, sizeof(body), "{\"identity\":{},\"gateway\":{\"peers\":[");
    for (i = 0; i <= BOARD_PEERS; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "%s{\"url\":\"http://p%zu:9632\"}",
                              i ? "," : "", i);
    snprintf(body + n, sizeof(body) - n, "]}}");
    CHECK_EQ(stage(body), MG_ERR_INVAL);
    CHECK(strcmp(err.code, "config_too_large") == 0);
}

MG_TEST(test_config_fields_left_out_take_the_documented_defaults)
{
    const struct config *c;

    config_reset();
    CHECK_EQ(push("{\"identity\":{}}"), 0);
    c = config_current();
    CHECK_EQ(c->relay_auth, CONFIG_AUTH_SIGNED);
    CHECK_EQ(c->pending_per_sender, 2);
    CHECK_EQ(c->ttl_ms, 24ull * 3600 * 1000);
    CHECK_EQ(c->max_envelope_bytes, 8192);
    CHECK_EQ(c->heartbeat_ms, 120000);
    CHECK(strcmp(c->telemetry_recipient, "sysmaint") == 0);
    CHECK_EQ(c->n_allowed, 0);
    CHECK_EQ(c->kill_switch, 0);
    CHECK_EQ(c->rotate, 0);
}

MG_TEST(test_config_the_gateway_section_is_read_whole)
{
    const struct config *c;

    config_reset();
    CHECK_EQ(push("{\"identity\":{\"allowed_senders\":[\"*\",\"bob\"]},"
                  "\"security\":{\"kill_switch\":true,\"privacy_mode\":true},"
                  "\"rate_limits\":{\"inbound\":{\"max_per_hour\":100,\"max_per_minute\":7}},"
                  "\"gateway\":{\"relay\":{\"auth\":\"open\",\"mailbox_cap\":9,"
                  "\"pending_per_sender_limit\":3,\"ttl_ms\":60000,\"max_envelope_bytes\":1024},"
                  "\"peers\":[{\"name\":\"b\",\"url\":\"http://10.42.0.3:9632\",\"secret\":\"s3\"}],"
                  "\"coordinator\":{\"url\":\"http://10.42.0.9:8190\",\"role\":true},"
                  "\"node\":{\"name\":\"gw-a\"},\"intervals\":{\"heartbeat_ms\":30000,"
                  "\"telemetry_ms\":60000},\"telemetry\":{\"recipient\":\"ops\"},"
                  "\"forwarding\":{\"enabled\":true,\"inbound_url\":\"http://10.42.0.1:9000/in\"},"
                  "\"future\":{\"kept\":1}}}"),
             0);
    c = config_current();
    CHECK_EQ(c->allow_all, 1);
    CHECK_EQ(c->n_allowed, 2);
    CHECK_EQ(c->kill_switch, 1);
    CHECK_EQ(c->privacy_mode, 1);
    CHECK_EQ(c->max_per_hour, 100);
    CHECK_EQ(c->max_per_minute, 7);
    CHECK_EQ(c->relay_auth, CONFIG_AUTH_OPEN);
    CHECK_EQ(c->mailbox_cap, 9);
    CHECK_EQ(c->pending_per_sender, 3);
    CHECK_EQ(c->ttl_ms, 60000);
    CHECK_EQ(c->max_envelope_bytes, 1024);
    CHECK_EQ(c->n_peers, 1);
    CHECK(strcmp(c->peers[0].url, "http://10.42.0.3:9632") == 0);
    CHECK_EQ(c->peers[0].secret_len, 2);
    CHECK_MEM(c->peers[0].secret, "s3", 2);
    CHECK(strcmp(c->coordinator_url, "http://10.42.0.9:8190") == 0);
    CHECK_EQ(c->coordinator_role, 1);
    CHECK(strcmp(c->node_name, "gw-a") == 0);
    CHECK_EQ(c->heartbeat_ms, 30000);
    CHECK(strcmp(c->telemetry_recipient, "ops") == 0);
    CHECK_EQ(c->forwarding, 1);
    CHECK(strcmp(c->inbound_url, "http://10.42.0.1:9000/in") == 0);
}

MG_TEST(test_config_a_peer_public_key_is_base64_of_32_bytes_and_optional)
{
    const struct config *c;

    config_reset();
    CHECK_EQ(push("{\"identity\":{},\"gateway\":{\"peers\":["
                  "{\"name\":\"a\",\"url\":\"http://10.42.0.3:9632\","
                  "\"public_key\":\"A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=\"},"
                  "{\"name\":\"b\",\"url\":\"http://10.42.0.4:9632\"}]}}"),
             0);
    c = config_current();
    CHECK_EQ(c->n_peers, 2);
    CHECK_EQ(c->peers[0].has_public_key, 1);
    CHECK_EQ(c->peers[0].public_key[0], 0x03);
    CHECK_EQ(c->peers[0].public_key[31], 0xb8);
    CHECK_EQ(c->peers[1].has_public_key, 0);
}

MG_TEST(test_config_the_global_peer_secret_is_read_and_must_not_be_empty)
{
    const struct config *c;

    config_reset();
    CHECK_EQ(push("{\"identity\":{},\"gateway\":{\"peers\":[{\"name\":\"b\","
                  "\"url\":\"http://10.42.0.3:9632\"}]}}"), 0);
    CHECK_EQ(config_current()->peer_secret_len, 0);
    CHECK_EQ(push("{\"identity\":{},\"gateway\":{\"peer_secret\":\"mesh-wide\"}}"), 0);
    c = config_current();
    CHECK_EQ(c->peer_secret_len, 9);
    CHECK_MEM(c->peer_secret, "mesh-wide", 9);
    CHECK_EQ(stage("{\"identity\":{},\"gateway\":{\"peer_secret\":\"\"}}"), MG_ERR_INVAL);
    CHECK(strstr(err.detail, "gateway.peer_secret") != NULL);
    CHECK_EQ(stage("{\"identity\":{},\"gateway\":{\"peer_secret\":7}}"), MG_ERR_INVAL);
    CHECK(strstr(err.detail, "gateway.peer_secret") != NULL);
    /* A refused push leaves the running one alone. */
    CHECK_EQ(config_current()->peer_secret_len, 9);
}

MG_TEST(test_config_a_peer_public_key_that_is_not_32_bytes_of_base64_is_refused)
{
    static const char *const bad[] = {
        "\"A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMQ==\"",    /* 31 bytes */
        "\"A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=\"",    /* base64url */
        "\"ed25519_03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8\"",
        "\"\"", "32",
    };
    char body[256];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        config_reset();
        snprintf(body, sizeof(body), "{\"identity\":{},\"gateway\":{\"peers\":[{\"name\":\"a\","
                 "\"url\":\"http://10.42.0.3:9632\",\"public_key\":%s}]}}", bad[i]);
        CHECK_EQ(stage(body), MG_ERR_INVAL);
        CHECK(strcmp(err.code, "invalid_config") == 0);
        CHECK(strstr(err.detail, "gateway.peers[].public_key") != NULL);
    }
}

MG_TEST(test_config_the_node_hostname_and_address_are_read_and_checked)
{
    const struct config *c;

    config_reset();
    CHECK_EQ(push("{\"identity\":{},\"gateway\":{\"node\":{\"name\":\"gw-a\","
                  "\"hostname\":\"gw-a.mesh\",\"ip\":\"100.64.0.7\"}}}"),
             0);
    c = config_current();
    CHECK(strcmp(c->node_hostname, "gw-a.mesh") == 0);
    CHECK(strcmp(c->node_ip, "100.64.0.7") == 0);
    CHECK_EQ(stage("{\"identity\":{},\"gateway\":{\"node\":{\"ip\":\"100.64.0.256\"}}}"),
             MG_ERR_INVAL);
    CHECK(strstr(err.detail, "gateway.node.ip") != NULL);
    CHECK_EQ(stage("{\"identity\":{},\"gateway\":{\"node\":{\"ip\":\"1.2.3\"}}}"),
             MG_ERR_INVAL);
    CHECK_EQ(stage("{\"identity\":{},\"gateway\":{\"node\":{\"ip\":\" 1.2.3.4\"}}}"),
             MG_ERR_INVAL);
}

MG_TEST(test_config_a_rotation_is_staged_with_its_secret_text_and_wiped_once_applied)
{
    const struct config *c;

    config_reset();
    CHECK_EQ(stage("{\"identity\":{},\"hmac_rotation\":{\"new_secret\":"
                   "\"00112233445566778899AABBCCDDEEFF\"}}"),
             0);
    c = config_staged();
    CHECK_EQ(c->rotate, 1);
    CHECK_EQ(c->new_secret_len, 32);
    CHECK_MEM(c->new_secret, "00112233445566778899AABBCCDDEEFF", 32);
    CHECK_EQ(c->grace_ms, 60000);
    config_apply(1);
    c = config_current();
    CHECK_EQ(c->new_secret[0], 0);
}

/* --- delivery tracking --------------------------------------------------- */

#define T0 1700000000000ll

MG_TEST(test_delivery_an_untracked_timestamp_is_not_found)
{
    struct delivery_status s;

    delivery_reset();
    CHECK_EQ(delivery_lookup(T0, T0, &s), MG_ERR_NOENT);
    CHECK_EQ(delivery_delivered(T0, T0), MG_ERR_NOENT);
    CHECK_EQ(delivery_read(T0, T0), MG_ERR_NOENT);
}

MG_TEST(test_delivery_sent_then_delivered_then_read_keeps_each_first_time)
{
    struct delivery_status s;

    delivery_reset();
    delivery_sent(T0, T0 + 1);
    CHECK_EQ(delivery_lookup(T0, T0 + 2, &s), 0);
    CHECK_EQ(s.sent_at, T0 + 1);
    CHECK_EQ(s.delivered_at, 0);
    CHECK_EQ(delivery_delivered(T0, T0 + 10), 0);
    CHECK_EQ(delivery_delivered(T0, T0 + 20), 0);
    CHECK_EQ(delivery_read(T0, T0 + 30), 0);
    delivery_sent(T0, T0 + 40);
    CHECK_EQ(delivery_lookup(T0, T0 + 50, &s), 0);
    CHECK_EQ(s.sent_at, T0 + 1);
    CHECK_EQ(s.delivered_at, T0 + 10);
    CHECK_EQ(s.read_at, T0 + 30);
}

MG_TEST(test_delivery_a_read_receipt_implies_delivery)
{
    struct delivery_status s;

    delivery_reset();
    delivery_sent(T0, T0);
    CHECK_EQ(delivery_read(T0, T0 + 5), 0);
    CHECK_EQ(delivery_lookup(T0, T0 + 6, &s), 0);
    CHECK_EQ(s.delivered_at, T0 + 5);
    CHECK_EQ(s.read_at, T0 + 5);
}

MG_TEST(test_delivery_entries_are_forgotten_after_24_hours)
{
    struct delivery_status s;

    delivery_reset();
    delivery_sent(T0, T0);
    CHECK_EQ(delivery_lookup(T0, T0 + DELIVERY_KEEP_MS, &s), 0);
    CHECK_EQ(delivery_lookup(T0, T0 + DELIVERY_KEEP_MS + 1, &s), MG_ERR_NOENT);
    CHECK_EQ(delivery_pool.used, 0);
}

MG_TEST(test_delivery_a_full_table_forgets_its_oldest_entry_and_counts_it)
{
    struct delivery_status s;
    int64_t i;

    delivery_reset();
    for (i = 0; i < BOARD_DELIVERY_SLOTS; i++)
        delivery_sent(T0 + i, T0 + i);
    CHECK_EQ(delivery_pool.used, BOARD_DELIVERY_SLOTS);
    delivery_sent(T0 - 1, T0 + BOARD_DELIVERY_SLOTS);
    CHECK_EQ(delivery_pool.used, BOARD_DELIVERY_SLOTS);
    CHECK_EQ(delivery_pool.refused, 1);
    CHECK_EQ(delivery_lookup(T0, T0 + BOARD_DELIVERY_SLOTS, &s), MG_ERR_NOENT);
    CHECK_EQ(delivery_lookup(T0 - 1, T0 + BOARD_DELIVERY_SLOTS, &s), 0);
    CHECK_EQ(delivery_lookup(T0 + 1, T0 + BOARD_DELIVERY_SLOTS, &s), 0);
    delivery_reset();
    CHECK_EQ(delivery_pool.used, 0);
}

/* The index against a plain list of what must be tracked: four times the
 * table's size of random timestamps (probe runs form and are shifted back as
 * the oldest are forgotten), expiry at the tail and lookups of forgotten
 * entries. */
MG_TEST(test_delivery_many_entries_are_found_until_forgotten)
{
    static int64_t sent[4 * BOARD_DELIVERY_SLOTS];
    struct delivery_status s;
    uint32_t x = 12345;
    size_t n = 0, i;
    int64_t now = T0;

    delivery_reset();
    while (n < sizeof(sent) / sizeof(sent[0])) {
        int64_t ts;
        x = x * 1103515245u + 12345u;
        ts = T0 + (int64_t)(x >> 4);
        for (i = 0; i < n && sent[i] != ts; i++)
            ;
        if (i < n)
            continue;
        delivery_sent(ts, ++now);
        sent[n++] = ts;
        if (n % 97 == 0) {
            for (i = 0; i < n; i++) {
                int want = i + BOARD_DELIVERY_SLOTS >= n;
                CHECK_EQ(delivery_lookup(sent[i], now, &s), want ? 0 : MG_ERR_NOENT);
                if (want)
                    CHECK_EQ(s.timestamp, sent[i]);
            }
        }
    }
    CHECK_EQ(delivery_pool.used, BOARD_DELIVERY_SLOTS);
    CHECK_EQ(delivery_pool.refused, n - BOARD_DELIVERY_SLOTS);
    /* Everything expires; the table empties as it is looked at. */
    CHECK_EQ(delivery_lookup(sent[n - 1], now + DELIVERY_KEEP_MS + 1, &s), MG_ERR_NOENT);
    CHECK_EQ(delivery_pool.used, 0);
    delivery_sent(sent[0], now + DELIVERY_KEEP_MS + 2);
    CHECK_EQ(delivery_lookup(sent[0], now + DELIVERY_KEEP_MS + 3, &s), 0);
}

#define COORD_KEY_A "ed25519_4cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba29"

MG_TEST(test_config_coordinator_keys_and_offline_windows_are_read)
{
    const struct config *c;

    config_reset();
    CHECK_EQ(push("{\"identity\":{},\"gateway\":{\"coordinator\":{\"role\":true,"
                  "\"sovereign_keys\":[\"" COORD_KEY_A "\",\"ED25519_00\"],"
                  "\"offline_after_ms\":1000,\"offline_check_ms\":100}}}"), MG_ERR_INVAL);
    CHECK(config_current() == NULL);   /* the uppercase prefix is no key */
    CHECK_EQ(push("{\"identity\":{},\"gateway\":{\"coordinator\":{\"role\":true,"
                  "\"sovereign_keys\":[\"" COORD_KEY_A "\"],"
                  "\"offline_after_ms\":1000,\"offline_check_ms\":100}}}"), 0);
    c = config_current();
    CHECK_EQ(c->coordinator_role, 1);
    CHECK_EQ(c->n_sovereign_keys, 1);
    CHECK_EQ(c->sovereign_keys[0][0], 0x4c);
    CHECK_EQ(c->sovereign_keys[0][31], 0x29);
    CHECK_EQ(c->offline_after_ms, 1000);
    CHECK_EQ(c->offline_check_ms, 100);
}

MG_TEST(test_config_coordinator_offline_windows_default_to_five_minutes_and_a_minute)
{
    config_reset();
    CHECK_EQ(push(VECTOR_BODY), 0);
    CHECK_EQ(config_current()->offline_after_ms, 300000);
    CHECK_EQ(config_current()->offline_check_ms, 60000);
    CHECK_EQ(config_current()->n_sovereign_keys, 0);
}

MG_TEST(test_config_more_sovereign_keys_than_the_table_holds_is_refused_whole)
{
    static char body[BOARD_COORD_SOVEREIGNS * 80 + 128];
    size_t n, i;

    config_reset();
    n = (size_t)snprintf(body, sizeof(body),
                         "{\"identity\":{},\"gateway\":{\"coordinator\":{\"sovereign_keys\":[");
    for (i = 0; i <= BOARD_COORD_SOVEREIGNS; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "%s\"%s\"", i ? "," : "", COORD_KEY_A);
    snprintf(body + n, sizeof(body) - n, "]}}}");
    CHECK_EQ(stage(body), MG_ERR_INVAL);
    CHECK(strcmp(err.code, "config_too_large") == 0);
    CHECK(config_staged() == NULL);
}
