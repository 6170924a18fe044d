/* The relay for in-process clients (firmware/relay/local.h) on a real
 * journal: registration binds a key, a bundle is served with its one-time
 * prekeys handed out once, deposits go through the envelope checks and the
 * per-sender cap and are durable across a reboot, a local mailbox is read
 * and acked. */
#include <stdio.h>
#include <string.h>

#include "confsync/config.h"
#include "flash_image.h"
#include "lwip/init.h"
#include "mg_err.h"
#include "relay/local.h"
#include "relay/relay.h"
#include "test.h"

#define K1 "BQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB"
#define K2 "BQICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIC"
#define SIG "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBw=="

static const char bundle_json[] =
    "{\"deviceId\":1,\"registrationId\":9,\"identityKey\":\"" K1 "\","
    "\"signedPreKey\":{\"keyId\":1,\"publicKey\":\"" K2 "\",\"signature\":\"" SIG "\"},"
    "\"preKey\":{\"keyId\":5,\"publicKey\":\"" K2 "\"},"
    "\"preKeys\":[{\"keyId\":6,\"publicKey\":\"" K2 "\"}]}";

static uint8_t key1[33], key2[33];

/* The relay booted on the test's image (lwIP once: the listener needs its
 * pools; a second boot's listener is already bound, which is not what the
 * test is about). */
static void boot(void)
{
    static int lwip_up;
    static const char cfg[] = "{\"identity\":{\"allowed_senders\":[\"*\"]}}";
    struct config_error err = { 0, NULL, "" };

    if (!lwip_up) {
        lwip_init();
        lwip_up = 1;
    }
    (void)relay_service.init();
    config_reset();
    if (config_stage(cfg, strlen(cfg), &err) == 0)
        config_apply(1700000000000LL);
    memset(key1, 1, sizeof(key1));
    memset(key2, 2, sizeof(key2));
    key1[0] = key2[0] = 0x05;
}

static const char *env(char *buf, size_t cap, const char *body)
{
    snprintf(buf, cap, "{\"version\":1,\"senderId\":\"gw\",\"recipientId\":\"ops\","
             "\"sessionId\":\"gw:ops\",\"type\":3,\"body\":\"%s\",\"timestamp\":1700000000001}",
             body);
    return buf;
}

/* A deposit gw -> ops of an envelope with this body. */
static int deposit(char *buf, size_t cap, const char *body, const char **why)
{
    env(buf, cap, body);
    return relay_local_deposit("gw", "ops", buf, strlen(buf), why);
}

FLASH_TEST(test_relay_local_register_binds_the_key_and_a_bundle_is_served_once_per_prekey)
{
    static char out[4096];
    int n;

    boot();
    CHECK_EQ(relay_local_register("ops", key1), 0);
    CHECK_EQ(relay_local_register("ops", key1), 0);          /* idempotent */
    CHECK_EQ(relay_local_register("ops", key2), MG_ERR_EXIST);
    CHECK_EQ(relay_local_register("bad id", key1), MG_ERR_INVAL);
    CHECK_EQ(relay_local_bundle("ops", out, sizeof(out)), MG_ERR_NOENT);
    CHECK_EQ(relay_local_publish("nobody", bundle_json, strlen(bundle_json)), MG_ERR_NOENT);
    CHECK_EQ(relay_local_publish("ops", bundle_json, strlen(bundle_json)), 0);
    n = relay_local_bundle("ops", out, sizeof(out));
    CHECK(n > 0 && strstr(out, "\"keyId\":6") != NULL);   /* the one-time prekey */
    n = relay_local_bundle("ops", out, sizeof(out));
    CHECK(n > 0 && strstr(out, "\"keyId\":6") == NULL && strstr(out, "\"keyId\":5") != NULL);
    boot();                                                   /* a reboot */
    CHECK_EQ(relay_local_register("ops", key2), MG_ERR_EXIST); /* the binding is durable */
    n = relay_local_bundle("ops", out, sizeof(out));
    CHECK(n > 0 && strstr(out, "\"keyId\":6") == NULL);     /* handed out for good */
}

FLASH_TEST(test_relay_local_deposits_pass_the_checks_and_the_per_sender_cap)
{
    static char e[512], got[512];
    struct relay_local_msg m;
    const char *why;

    boot();
    CHECK_EQ(relay_local_register("gw", key1), 0);
    CHECK_EQ(relay_local_admit("gw", "ops", &why), 404);
    CHECK(strcmp(why, "Recipient not registered.") == 0);
    CHECK_EQ(relay_local_register("ops", key2), 0);
    CHECK_EQ(relay_local_deposit("gw", "ops", "{\"version\":1}", 13, &why), 400);
    CHECK_EQ(deposit(e, sizeof(e), "", &why), 400);
    CHECK_EQ(relay_local_admit("gw", "ops", &why), 200);
    CHECK_EQ(deposit(e, sizeof(e), "AAAA", &why), 200);
    CHECK_EQ(deposit(e, sizeof(e), "BBBB", &why), 200);
    CHECK_EQ(relay_local_admit("gw", "ops", &why), 429);     /* the default cap of 2 */
    CHECK_EQ(deposit(e, sizeof(e), "CCCC", &why), 429);
    CHECK(strcmp(why, "Per-sender cap reached.") == 0);
    boot();                                                   /* durable before the 200 */
    CHECK_EQ(relay_local_fetch("ops", &m, got, sizeof(got)), 0);
    CHECK(strcmp(m.from, "gw") == 0 && strstr(got, "\"body\":\"AAAA\"") != NULL);
    CHECK_EQ(relay_local_ack("gw", m.msg_id), MG_ERR_NOENT);  /* not the sender's to ack */
    CHECK_EQ(relay_local_ack("ops", m.msg_id), 0);
    CHECK_EQ(relay_local_admit("gw", "ops", &why), 200);
    CHECK_EQ(relay_local_fetch("ops", &m, got, sizeof(got)), 0);
    CHECK(strstr(got, "\"body\":\"BBBB\"") != NULL);
    CHECK_EQ(relay_local_ack("ops", m.msg_id), 0);
    CHECK_EQ(relay_local_fetch("ops", &m, got, sizeof(got)), MG_ERR_NOENT);
    config_reset();
    CHECK_EQ(relay_local_admit("gw", "ops", &why), 403);     /* no config: deny-all */
}
