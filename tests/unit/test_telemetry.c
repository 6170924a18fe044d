/* The telemetry probe's sending steps (firmware/telemetry/telemetry.c) over
 * a fake relay and a fake Signal session: a recipient without a bundle or a
 * cap keeps the newest report held, a refusal before encrypting spends no
 * message key, a sent report is the section 1 envelope (type 3, then 2), a
 * bad bundle signature and a changed identity are named. */
#include <stdio.h>
#include <string.h>

#include "json/json.h"
#include "mbedtls/base64.h"
#include "mg_err.h"
#include "signal_session.h"
#include "telemetry/telemetry.h"
#include "test.h"

static struct {
    int admit_status;           /* what admit answers */
    const char *admit_why;
    int have_bundle;
    int from_bundle_rc;
    int deposit_status;
    int session;                /* a session exists */
    int answered;               /* the peer has answered: whisper messages */
    int encrypts, deposits, from_bundles;
    char envelope[SIG_BODY_B64_MAX + 512];
    size_t envelope_len;
} fake;

static int f_bundle(const char *id, char *out, size_t cap)
{
    (void)id;
    if (!fake.have_bundle)
        return MG_ERR_NOENT;
    return snprintf(out, cap, "{\"fake\":true}");
}

static int f_admit(const char *from, const char *to, const char **why)
{
    (void)from;
    (void)to;
    *why = fake.admit_why;
    return fake.admit_status;
}

static int f_deposit(const char *from, const char *to, const char *env, size_t len,
                     const char **why)
{
    (void)from;
    (void)to;
    fake.deposits++;
    *why = fake.deposit_status == 200 ? NULL : "Per-sender cap reached.";
    if (fake.deposit_status == 200) {
        memcpy(fake.envelope, env, len);
        fake.envelope[len] = '\0';
        fake.envelope_len = len;
    }
    return fake.deposit_status;
}

static int f_from_bundle(const char *name, int32_t device, const char *json, size_t len)
{
    (void)name;
    (void)device;
    (void)json;
    (void)len;
    fake.from_bundles++;
    if (fake.from_bundle_rc == 0)
        fake.session = 1;
    return fake.from_bundle_rc;
}

/* The "ciphertext" is the plaintext in base64, so a test can read it. */
static int f_encrypt(const char *name, int32_t device, const void *plain, size_t len, int *type,
                     char *b64, size_t cap, size_t *blen)
{
    (void)name;
    (void)device;
    if (!fake.session)
        return MG_ERR_NOENT;
    fake.encrypts++;
    *type = fake.answered ? SIG_MSG_WHISPER : SIG_MSG_PREKEY;
    return mbedtls_base64_encode((unsigned char *)b64, cap, blen, plain, len) ? MG_ERR_TOOBIG : 0;
}

static const struct telemetry_ops ops = { f_bundle, f_admit, f_deposit, f_from_bundle, f_encrypt };

static void setup(void)
{
    memset(&fake, 0, sizeof(fake));
    fake.admit_status = 200;
    fake.deposit_status = 200;
    fake.have_bundle = 1;
    telemetry_reset(&ops, "gw-1");
}

/* The report inside the last deposited envelope. */
static const char *deposited_report(void)
{
    static char text[2048];
    static jsmntok_t tok[32];
    struct json_doc d;
    size_t n = 0;
    int b;

    if (json_parse(&d, fake.envelope, fake.envelope_len, tok, 32) != 0 ||
        (b = json_get(&d, 0, "body")) < 0 ||
        mbedtls_base64_decode((unsigned char *)text, sizeof(text) - 1, &n,
                              (const unsigned char *)fake.envelope + d.tok[b].start,
                              (size_t)(d.tok[b].end - d.tok[b].start)) != 0)
        return "";
    text[n] = '\0';
    return text;
}

MG_TEST(test_telemetry_without_a_bundle_the_newest_report_is_held_and_the_older_skipped)
{
    struct telemetry_stats s;

    setup();
    fake.admit_status = 404;
    fake.admit_why = "Recipient not registered.";
    telemetry_hold("{\"r\":1}", 7, "rpt_1");
    CHECK_EQ(telemetry_send_held("sysmaint", 1000), MG_ERR_NOENT);
    telemetry_hold("{\"r\":2}", 7, "rpt_2");
    fake.admit_status = 200;
    fake.have_bundle = 0;                     /* registered, no bundle yet */
    CHECK_EQ(telemetry_send_held("sysmaint", 2000), MG_ERR_NOENT);
    telemetry_get_stats(&s);
    CHECK_EQ(s.no_bundle, 2);
    CHECK_EQ(s.replaced, 1);
    CHECK_EQ(s.sent, 0);
    CHECK_EQ(fake.deposits, 0);
    fake.have_bundle = 1;
    CHECK_EQ(telemetry_send_held("sysmaint", 3000), 0);
    CHECK(strcmp(deposited_report(), "{\"r\":2}") == 0);   /* the newest, only */
    CHECK_EQ(telemetry_send_held("sysmaint", 4000), MG_ERR_NOENT);   /* nothing held */
    CHECK_EQ(fake.deposits, 1);
}

MG_TEST(test_telemetry_a_cap_refusal_keeps_the_report_and_spends_no_message_key)
{
    struct telemetry_stats s;

    setup();
    fake.session = 1;
    fake.admit_status = 429;
    fake.admit_why = "Per-sender cap reached.";
    telemetry_hold("{\"r\":1}", 7, "rpt_1");
    CHECK_EQ(telemetry_send_held("sysmaint", 1000), MG_ERR_AGAIN);
    CHECK_EQ(telemetry_send_held("sysmaint", 2000), MG_ERR_AGAIN);
    CHECK_EQ(fake.encrypts, 0);
    telemetry_get_stats(&s);
    CHECK_EQ(s.capped, 2);
    CHECK(strstr(s.last_error, "Per-sender cap reached.") != NULL);
    fake.admit_status = 200;
    CHECK_EQ(telemetry_send_held("sysmaint", 3000), 0);
    CHECK_EQ(fake.encrypts, 1);
    telemetry_get_stats(&s);
    CHECK_EQ(s.sent, 1);
    CHECK_EQ(s.last_error[0], '\0');
    CHECK(strcmp(s.last_sent, "rpt_1") == 0);
}

MG_TEST(test_telemetry_a_refused_deposit_keeps_the_report_for_the_next_try)
{
    struct telemetry_stats s;

    setup();
    fake.session = 1;
    fake.deposit_status = 429;
    telemetry_hold("{\"r\":1}", 7, "rpt_1");
    CHECK_EQ(telemetry_send_held("sysmaint", 1000), MG_ERR_AGAIN);
    fake.deposit_status = 200;
    CHECK_EQ(telemetry_send_held("sysmaint", 2000), 0);
    telemetry_get_stats(&s);
    CHECK_EQ(s.capped, 1);
    CHECK_EQ(s.sent, 1);
    CHECK(strcmp(deposited_report(), "{\"r\":1}") == 0);
}

MG_TEST(test_telemetry_a_sent_report_is_the_section_1_envelope_prekey_then_whisper)
{
    static jsmntok_t tok[32];
    struct telemetry_stats s;
    struct json_doc d;
    char text[64];
    int64_t v = 0;

    setup();
    telemetry_hold("{\"r\":1}", 7, "rpt_1");
    CHECK_EQ(telemetry_send_held("sysmaint", 1700000000123LL), 0);
    CHECK_EQ(fake.from_bundles, 1);           /* the session came from the bundle */
    CHECK_EQ(json_parse(&d, fake.envelope, fake.envelope_len, tok, 32), 0);
    CHECK_EQ(json_int(&d, json_get(&d, 0, "version"), &v), 0);
    CHECK_EQ(v, 1);
    CHECK(json_str(&d, json_get(&d, 0, "senderId"), text, sizeof(text)) > 0 &&
          strcmp(text, "gw-1") == 0);
    CHECK(json_str(&d, json_get(&d, 0, "recipientId"), text, sizeof(text)) > 0 &&
          strcmp(text, "sysmaint") == 0);
    CHECK(json_str(&d, json_get(&d, 0, "sessionId"), text, sizeof(text)) > 0 &&
          strcmp(text, "gw-1:sysmaint") == 0);
    CHECK_EQ(json_int(&d, json_get(&d, 0, "type"), &v), 0);
    CHECK_EQ(v, SIG_MSG_PREKEY);
    CHECK_EQ(json_int(&d, json_get(&d, 0, "timestamp"), &v), 0);
    CHECK_EQ(v, 1700000000123LL);
    fake.answered = 1;
    telemetry_hold("{\"r\":2}", 7, "rpt_2");
    CHECK_EQ(telemetry_send_held("sysmaint", 1700000010123LL), 0);
    CHECK_EQ(fake.from_bundles, 1);           /* no new prekey exchange */
    telemetry_get_stats(&s);
    CHECK_EQ(s.last_type, SIG_MSG_WHISPER);
    CHECK_EQ(s.sent, 2);
    CHECK_EQ(s.sent_prekey, 1);
    CHECK_EQ(s.replaced, 0);
}

MG_TEST(test_telemetry_a_bad_bundle_signature_or_a_changed_identity_is_named_and_held)
{
    struct telemetry_stats s;

    setup();
    fake.from_bundle_rc = MG_ERR_AUTH;
    telemetry_hold("{\"r\":1}", 7, "rpt_1");
    CHECK_EQ(telemetry_send_held("mallory", 1000), MG_ERR_AUTH);
    telemetry_get_stats(&s);
    CHECK(strstr(s.last_error, "bad signature") != NULL);
    fake.from_bundle_rc = MG_ERR_PERM;
    CHECK_EQ(telemetry_send_held("mallory", 2000), MG_ERR_PERM);
    telemetry_get_stats(&s);
    CHECK(strstr(s.last_error, "identity key of mallory changed") != NULL);
    CHECK_EQ(s.failed, 2);
    CHECK_EQ(fake.deposits, 0);
    fake.from_bundle_rc = 0;
    CHECK_EQ(telemetry_send_held("mallory", 3000), 0);   /* still held until then */
}
