/* The controller's HMAC gate (PROTOCOLS.md section 2): vectors, every
 * answer and the order of the checks, the nonce cache and key rotation. */
#include <string.h>

#include "board.h"
#include "crypto.h"
#include "confsync/gate.h"
#include "mg_err.h"
#include "pool.h"
#include "test.h"

#define VEC_SECRET "test-secret"
#define VEC_NONCE  "123e4567-e89b-42d3-a456-426614174000"
#define VEC_TS     "1700000000000"
#define VEC_NOW    1700000000000ull
#define VEC_BODY   "{\"identity\":{\"allowed_senders\":[\"+15550001111\"],\"bot_name\":\"Joi\",\"groups\":{}}}"
#define VEC_SIG    "c699869b67b8c7eee974bb227967abdc3c21d99108d5207d033367a7ba5daa2a"
#define VEC_SIG_EMPTY "e4b0062c175bf522eb62e183167936d4863d36817e7560f53c74d5b28e2c5ce6"

#define OTHER_SECRET "next-secret"

static struct gate_str hdr(const char *text)
{
    struct gate_str s;

    s.p = text;
    s.len = text ? strlen(text) : 0;
    return s;
}

static int verdict_is(struct gate_verdict v, int status, const char *code)
{
    if (v.status != status)
        return 0;
    if (!code)
        return v.code == NULL && v.message == NULL;
    return v.code && strcmp(v.code, code) == 0 && v.message && v.message[0];
}

static const char *code_text(const char *code)
{
    return code ? code : "(pass)";
}

#define CHECK_VERDICT(expr, st, c)                                             \
    do {                                                                       \
        struct gate_verdict v_ = (expr);                                       \
        if (!verdict_is(v_, (st), (c))) {                                      \
            test_fail(__FILE__, __LINE__, "verdict %d %s, expected %d %s",     \
                      v_.status, code_text(v_.code), (st), code_text(c));      \
            return;                                                            \
        }                                                                      \
    } while (0)

#define CHECK_PASS(expr) CHECK_VERDICT(expr, 0, NULL)

static void sign(const char *key, const char *nonce, const char *ts, const char *body,
                 char sig[65])
{
    gate_sign(key, strlen(key), nonce, strlen(nonce), ts, strlen(ts), body, strlen(body), sig);
}

/* A request signed by key, checked at now. */
static struct gate_verdict send_signed(const char *key, const char *nonce, const char *ts,
                                       const char *body, uint64_t now)
{
    char sig[65];

    sign(key, nonce, ts, body, sig);
    return gate_check(hdr(nonce), hdr(ts), hdr(sig), body, strlen(body), now);
}

/* The vector request with another nonce, signed by the test secret. */
static struct gate_verdict send_nonce(const char *nonce, uint64_t now)
{
    return send_signed(VEC_SECRET, nonce, VEC_TS, VEC_BODY, now);
}

static void set_vector_key(void)
{
    gate_reset();
    gate_set_key(VEC_SECRET, strlen(VEC_SECRET));
}

/* "n-<decimal>", without stdio (it may allocate after the seal). */
static void nonce_text(unsigned long n, char out[24])
{
    char digits[21];
    size_t k = 0, i = 0;

    do {
        digits[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    out[i++] = 'n';
    out[i++] = '-';
    while (k)
        out[i++] = digits[--k];
    out[i] = '\0';
}

/* Stores count distinct nonces ("n-0" ...) at now; 1 if all passed. */
static int store_nonces(unsigned long count, uint64_t now)
{
    char nonce[24];
    unsigned long i;

    for (i = 0; i < count; i++) {
        nonce_text(i, nonce);
        if (send_nonce(nonce, now).status != 0)
            return 0;
    }
    return 1;
}

static const struct pool_stat *find_pool(const char *name)
{
    const struct pool_stat *p;

    for (p = pool_first(); p; p = pool_next(p))
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

static size_t nonces_used(uint64_t now)
{
    struct gate_state st;

    gate_get_state(&st, now);
    return st.nonces_used;
}

/* --- vectors ------------------------------------------------------------- */

MG_TEST(test_gate_sign_gives_the_protocol_vector_for_the_config_body)
{
    char sig[65];

    gate_reset();
    sign(VEC_SECRET, VEC_NONCE, VEC_TS, VEC_BODY, sig);
    CHECK(strcmp(sig, VEC_SIG) == 0);
}

MG_TEST(test_gate_sign_gives_the_protocol_vector_for_an_empty_body)
{
    char sig[65];

    gate_reset();
    gate_sign(VEC_SECRET, strlen(VEC_SECRET), VEC_NONCE, strlen(VEC_NONCE), VEC_TS,
              strlen(VEC_TS), NULL, 0, sig);
    CHECK(strcmp(sig, VEC_SIG_EMPTY) == 0);
}

MG_TEST(test_gate_passes_the_protocol_vector_request)
{
    set_vector_key();
    CHECK_PASS(gate_check(hdr(VEC_NONCE), hdr(VEC_TS), hdr(VEC_SIG), VEC_BODY,
                             strlen(VEC_BODY), VEC_NOW));
    CHECK_EQ(nonces_used(VEC_NOW), 1);
}

MG_TEST(test_gate_passes_the_empty_body_vector_request)
{
    set_vector_key();
    CHECK_PASS(gate_check(hdr(VEC_NONCE), hdr(VEC_TS), hdr(VEC_SIG_EMPTY), NULL, 0, VEC_NOW));
}

/* --- order of the checks ------------------------------------------------- */

MG_TEST(test_gate_without_a_key_answers_503_not_configured_before_anything_else)
{
    gate_reset();
    CHECK_VERDICT(gate_check(hdr(VEC_NONCE), hdr(VEC_TS), hdr(VEC_SIG), VEC_BODY,
                             strlen(VEC_BODY), VEC_NOW), 503, "hmac_not_configured");
    CHECK_VERDICT(gate_check(hdr(NULL), hdr(NULL), hdr(NULL), NULL, 0, VEC_NOW),
                  503, "hmac_not_configured");
    CHECK_EQ(nonces_used(VEC_NOW), 0);
}

MG_TEST(test_gate_refuses_a_missing_or_empty_nonce_as_missing_headers)
{
    set_vector_key();
    CHECK_VERDICT(gate_check(hdr(NULL), hdr(VEC_TS), hdr(VEC_SIG), VEC_BODY, strlen(VEC_BODY),
                             VEC_NOW), 401, "hmac_missing_headers");
    CHECK_VERDICT(gate_check(hdr(""), hdr(VEC_TS), hdr(VEC_SIG), VEC_BODY, strlen(VEC_BODY),
                             VEC_NOW), 401, "hmac_missing_headers");
}

MG_TEST(test_gate_refuses_a_missing_or_empty_timestamp_as_missing_headers)
{
    set_vector_key();
    CHECK_VERDICT(gate_check(hdr(VEC_NONCE), hdr(NULL), hdr(VEC_SIG), VEC_BODY,
                             strlen(VEC_BODY), VEC_NOW), 401, "hmac_missing_headers");
    CHECK_VERDICT(gate_check(hdr(VEC_NONCE), hdr(""), hdr(VEC_SIG), VEC_BODY,
                             strlen(VEC_BODY), VEC_NOW), 401, "hmac_missing_headers");
}

MG_TEST(test_gate_refuses_a_missing_or_empty_signature_as_missing_headers)
{
    set_vector_key();
    CHECK_VERDICT(gate_check(hdr(VEC_NONCE), hdr(VEC_TS), hdr(NULL), VEC_BODY,
                             strlen(VEC_BODY), VEC_NOW), 401, "hmac_missing_headers");
    CHECK_VERDICT(gate_check(hdr(VEC_NONCE), hdr(VEC_TS), hdr(""), VEC_BODY,
                             strlen(VEC_BODY), VEC_NOW), 401, "hmac_missing_headers");
}

MG_TEST(test_gate_treats_a_header_with_a_pointer_but_no_length_as_missing)
{
    struct gate_str empty = { VEC_NONCE, 0 };

    set_vector_key();
    CHECK_VERDICT(gate_check(empty, hdr(VEC_TS), hdr(VEC_SIG), VEC_BODY, strlen(VEC_BODY),
                             VEC_NOW), 401, "hmac_missing_headers");
}

MG_TEST(test_gate_reports_a_missing_header_before_a_bad_timestamp)
{
    set_vector_key();
    CHECK_VERDICT(gate_check(hdr(NULL), hdr("soon"), hdr("nothex"), NULL, 0, VEC_NOW),
                  401, "hmac_missing_headers");
}

MG_TEST(test_gate_refuses_timestamps_that_are_not_int64_decimal_integers)
{
    static const char *const bad[] = {
        "abc", "-", "+1700000000000", "1700000000000.0", " 1700000000000", "1700000000000 ",
        "1.7e12", "0x1", "--1", "1-", "17000000000000000000",   /* 20 digits */
        "9223372036854775808", "-9223372036854775809", "00000000000000000001",
    };
    size_t i;

    set_vector_key();
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_VERDICT(send_signed(VEC_SECRET, VEC_NONCE, bad[i], VEC_BODY, VEC_NOW),
                      401, "hmac_invalid_timestamp");
    CHECK_EQ(nonces_used(VEC_NOW), 0);
}

MG_TEST(test_gate_reports_a_bad_timestamp_before_a_bad_signature)
{
    set_vector_key();
    CHECK_VERDICT(gate_check(hdr(VEC_NONCE), hdr("12a"), hdr("nothex"), NULL, 0, VEC_NOW),
                  401, "hmac_invalid_timestamp");
}

MG_TEST(test_gate_reads_the_int64_limits_as_integers_far_from_now)
{
    set_vector_key();
    CHECK_VERDICT(send_signed(VEC_SECRET, VEC_NONCE, "9223372036854775807", "", VEC_NOW),
                  401, "timestamp_skew_future");
    CHECK_VERDICT(send_signed(VEC_SECRET, VEC_NONCE, "-9223372036854775808", "", VEC_NOW),
                  401, "timestamp_skew_past");
    CHECK_VERDICT(send_signed(VEC_SECRET, VEC_NONCE, "-1", "", VEC_NOW),
                  401, "timestamp_skew_past");
}

MG_TEST(test_gate_signs_a_negative_or_zero_padded_timestamp_as_sent)
{
    char sig[65];

    set_vector_key();
    /* At now 0, "-1" and "-0" are inside the window. */
    CHECK_PASS(send_signed(VEC_SECRET, "a", "-1", VEC_BODY, 0));
    CHECK_PASS(send_signed(VEC_SECRET, "b", "-0", VEC_BODY, 0));
    CHECK_PASS(send_signed(VEC_SECRET, "c", "0001700000000000", VEC_BODY, VEC_NOW));
    /* The same value in other text is other signed bytes. */
    sign(VEC_SECRET, "d", VEC_TS, VEC_BODY, sig);
    CHECK_VERDICT(gate_check(hdr("d"), hdr("01700000000000"), hdr(sig), VEC_BODY,
                             strlen(VEC_BODY), VEC_NOW), 401, "hmac_invalid_signature");
}

MG_TEST(test_gate_passes_a_timestamp_exactly_300000_ms_in_the_past)
{
    set_vector_key();
    CHECK_PASS(send_nonce(VEC_NONCE, VEC_NOW + 300000));
}

MG_TEST(test_gate_refuses_a_timestamp_300001_ms_in_the_past)
{
    set_vector_key();
    CHECK_VERDICT(send_nonce(VEC_NONCE, VEC_NOW + 300001), 401, "timestamp_skew_past");
    CHECK_EQ(nonces_used(VEC_NOW), 0);
}

MG_TEST(test_gate_passes_a_timestamp_exactly_300000_ms_in_the_future)
{
    set_vector_key();
    CHECK_PASS(send_nonce(VEC_NONCE, VEC_NOW - 300000));
}

MG_TEST(test_gate_refuses_a_timestamp_300001_ms_in_the_future)
{
    set_vector_key();
    CHECK_VERDICT(send_nonce(VEC_NONCE, VEC_NOW - 300001), 401, "timestamp_skew_future");
    CHECK_EQ(nonces_used(VEC_NOW), 0);
}

MG_TEST(test_gate_reports_skew_before_a_bad_signature)
{
    set_vector_key();
    CHECK_VERDICT(gate_check(hdr(VEC_NONCE), hdr(VEC_TS), hdr("nothex"), NULL, 0,
                             VEC_NOW + 300001), 401, "timestamp_skew_past");
}

/* --- signatures ---------------------------------------------------------- */

MG_TEST(test_gate_refuses_an_uppercase_signature_even_when_its_value_is_right)
{
    char upper[65];
    size_t i;

    set_vector_key();
    for (i = 0; i < 65; i++)
        upper[i] = (VEC_SIG[i] >= 'a' && VEC_SIG[i] <= 'f') ? (char)(VEC_SIG[i] - 32) : VEC_SIG[i];
    CHECK_VERDICT(gate_check(hdr(VEC_NONCE), hdr(VEC_TS), hdr(upper), VEC_BODY,
                             strlen(VEC_BODY), VEC_NOW), 401, "hmac_invalid_signature");
    /* One uppercase digit is enough. */
    memcpy(upper, VEC_SIG, sizeof(upper));
    upper[0] = 'C';
    CHECK_VERDICT(gate_check(hdr(VEC_NONCE), hdr(VEC_TS), hdr(upper), VEC_BODY,
                             strlen(VEC_BODY), VEC_NOW), 401, "hmac_invalid_signature");
    CHECK_EQ(nonces_used(VEC_NOW), 0);
}

MG_TEST(test_gate_refuses_a_signature_of_the_wrong_length)
{
    struct gate_str sig = hdr(VEC_SIG);
    char longer[130];

    set_vector_key();
    sig.len = 63;
    CHECK_VERDICT(gate_check(hdr(VEC_NONCE), hdr(VEC_TS), sig, VEC_BODY, strlen(VEC_BODY),
                             VEC_NOW), 401, "hmac_invalid_signature");
    sig.len = 62;   /* whole bytes, still short */
    CHECK_VERDICT(gate_check(hdr(VEC_NONCE), hdr(VEC_TS), sig, VEC_BODY, strlen(VEC_BODY),
                             VEC_NOW), 401, "hmac_invalid_signature");
    memcpy(longer, VEC_SIG, 64);
    memcpy(longer + 64, "0", 2);
    CHECK_VERDICT(gate_check(hdr(VEC_NONCE), hdr(VEC_TS), hdr(longer), VEC_BODY,
                             strlen(VEC_BODY), VEC_NOW), 401, "hmac_invalid_signature");
    memcpy(longer + 64, VEC_SIG, 65);   /* the signature twice */
    CHECK_VERDICT(gate_check(hdr(VEC_NONCE), hdr(VEC_TS), hdr(longer), VEC_BODY,
                             strlen(VEC_BODY), VEC_NOW), 401, "hmac_invalid_signature");
    CHECK_EQ(nonces_used(VEC_NOW), 0);
}

MG_TEST(test_gate_refuses_a_signature_with_a_non_hex_character)
{
    char sig[65];

    set_vector_key();
    memcpy(sig, VEC_SIG, sizeof(sig));
    sig[10] = 'g';
    CHECK_VERDICT(gate_check(hdr(VEC_NONCE), hdr(VEC_TS), hdr(sig), VEC_BODY,
                             strlen(VEC_BODY), VEC_NOW), 401, "hmac_invalid_signature");
}

MG_TEST(test_gate_refuses_a_signature_by_another_key)
{
    set_vector_key();
    CHECK_VERDICT(send_signed(OTHER_SECRET, VEC_NONCE, VEC_TS, VEC_BODY, VEC_NOW),
                  401, "hmac_invalid_signature");
    CHECK_EQ(nonces_used(VEC_NOW), 0);
}

MG_TEST(test_gate_refuses_a_signature_over_another_body_or_nonce)
{
    static const char other_body[] = "{\"identity\":{}}";

    set_vector_key();
    CHECK_VERDICT(gate_check(hdr(VEC_NONCE), hdr(VEC_TS), hdr(VEC_SIG), other_body,
                             strlen(other_body), VEC_NOW), 401, "hmac_invalid_signature");
    CHECK_VERDICT(gate_check(hdr("123e4567-e89b-42d3-a456-426614174001"), hdr(VEC_TS),
                             hdr(VEC_SIG), VEC_BODY, strlen(VEC_BODY), VEC_NOW),
                  401, "hmac_invalid_signature");
}

MG_TEST(test_gate_signs_no_separators_so_a_digit_may_move_from_nonce_to_timestamp)
{
    /* The wire format's own ambiguity (PROTOCOLS.md 2), kept for
     * compatibility: these are the vector's signed bytes. */
    set_vector_key();
    CHECK_PASS(gate_check(hdr("123e4567-e89b-42d3-a456-42661417400"), hdr("01700000000000"),
                          hdr(VEC_SIG), VEC_BODY, strlen(VEC_BODY), VEC_NOW));
}

MG_TEST(test_gate_refuses_a_nonce_longer_than_GATE_NONCE_MAX_as_invalid_signature)
{
    char nonce[GATE_NONCE_MAX + 2];

    set_vector_key();
    memset(nonce, 'n', GATE_NONCE_MAX + 1);
    nonce[GATE_NONCE_MAX + 1] = '\0';
    CHECK_VERDICT(send_nonce(nonce, VEC_NOW), 401, "hmac_invalid_signature");
    CHECK_EQ(nonces_used(VEC_NOW), 0);
    /* GATE_NONCE_MAX bytes are stored, and a replay of it is refused. */
    nonce[GATE_NONCE_MAX] = '\0';
    CHECK_PASS(send_nonce(nonce, VEC_NOW));
    CHECK_VERDICT(send_nonce(nonce, VEC_NOW), 401, "replay_detected");
    CHECK_EQ(nonces_used(VEC_NOW), 1);
}

MG_TEST(test_gate_verifies_a_signature_over_the_largest_body_in_place)
{
    static char body[BOARD_HTTP_BODY_MAX];
    char sig[65];

    set_vector_key();
    memset(body, ' ', sizeof(body));
    gate_sign(VEC_SECRET, strlen(VEC_SECRET), VEC_NONCE, strlen(VEC_NONCE), VEC_TS,
              strlen(VEC_TS), body, sizeof(body), sig);
    CHECK_PASS(gate_check(hdr(VEC_NONCE), hdr(VEC_TS), hdr(sig), body, sizeof(body), VEC_NOW));
    /* One byte less is another message. */
    CHECK_VERDICT(gate_check(hdr(VEC_NONCE), hdr(VEC_TS), hdr(sig), body, sizeof(body) - 1,
                             VEC_NOW), 401, "hmac_invalid_signature");
}

/* --- replay and the nonce cache ------------------------------------------ */

MG_TEST(test_gate_refuses_a_replayed_nonce_and_changes_nothing)
{
    struct gate_state before, after;

    set_vector_key();
    CHECK_PASS(send_nonce(VEC_NONCE, VEC_NOW));
    gate_get_state(&before, VEC_NOW);
    CHECK_VERDICT(send_nonce(VEC_NONCE, VEC_NOW + 1000), 401, "replay_detected");
    /* Another body or timestamp under the same nonce is still a replay. */
    CHECK_VERDICT(send_signed(VEC_SECRET, VEC_NONCE, "1700000001000", "", VEC_NOW),
                  401, "replay_detected");
    gate_get_state(&after, VEC_NOW);
    CHECK_EQ(after.nonces_used, before.nonces_used);
    CHECK_EQ(after.nonces_high_water, before.nonces_high_water);
    CHECK_EQ(after.passed, 1);
    CHECK_EQ(after.refused, 2);
}

MG_TEST(test_gate_reports_a_bad_signature_with_a_replayed_nonce_as_invalid_signature)
{
    set_vector_key();
    CHECK_PASS(send_nonce(VEC_NONCE, VEC_NOW));
    CHECK_VERDICT(send_signed(OTHER_SECRET, VEC_NONCE, VEC_TS, VEC_BODY, VEC_NOW),
                  401, "hmac_invalid_signature");
}

MG_TEST(test_gate_stores_no_nonce_for_a_flood_of_bad_signatures)
{
    char nonce[24];
    unsigned long i;

    set_vector_key();
    for (i = 0; i < 2 * BOARD_NONCE_SLOTS; i++) {
        nonce_text(i, nonce);
        CHECK_VERDICT(send_signed(OTHER_SECRET, nonce, VEC_TS, VEC_BODY, VEC_NOW),
                      401, "hmac_invalid_signature");
    }
    CHECK_EQ(nonces_used(VEC_NOW), 0);
    CHECK_PASS(send_nonce(VEC_NONCE, VEC_NOW));
    /* A nonce refused under a bad signature was not remembered either. */
    nonce_text(0, nonce);
    CHECK_PASS(send_nonce(nonce, VEC_NOW));
}

MG_TEST(test_gate_forgets_a_nonce_15_minutes_after_it_was_stored)
{
    /* The request's timestamp follows the clock so only the nonce decides. */
    const uint64_t stored = VEC_NOW;
    char sig_late[65], sig_at[65];

    set_vector_key();
    CHECK_PASS(send_nonce(VEC_NONCE, stored));
    sign(VEC_SECRET, VEC_NONCE, "1700000899999", "", sig_late);
    CHECK_VERDICT(gate_check(hdr(VEC_NONCE), hdr("1700000899999"), hdr(sig_late), "", 0,
                             stored + GATE_NONCE_TTL_MS - 1), 401, "replay_detected");
    sign(VEC_SECRET, VEC_NONCE, "1700000900000", "", sig_at);
    CHECK_PASS(gate_check(hdr(VEC_NONCE), hdr("1700000900000"), hdr(sig_at), "", 0,
                             stored + GATE_NONCE_TTL_MS));
    CHECK_EQ(nonces_used(stored + GATE_NONCE_TTL_MS), 1);
}

MG_TEST(test_gate_refuses_a_replay_after_the_clock_steps_back_a_little)
{
    set_vector_key();
    CHECK_PASS(send_nonce(VEC_NONCE, VEC_NOW + 60000));
    /* The clock is set back two minutes: the request is still in its window. */
    CHECK_VERDICT(send_nonce(VEC_NONCE, VEC_NOW - 60000), 401, "replay_detected");
}

MG_TEST(test_gate_keeps_no_nonce_forever_after_the_clock_steps_back_far)
{
    set_vector_key();
    CHECK(store_nonces(10, VEC_NOW));
    CHECK_EQ(nonces_used(VEC_NOW + GATE_NONCE_TTL_MS - 1), 10);
    /* Set back by a year: the entries stored "in the future" are dropped. */
    CHECK_EQ(nonces_used(VEC_NOW - 365ull * 24 * 3600 * 1000), 0);
    CHECK_EQ(nonces_used(VEC_NOW), 0);
}

MG_TEST(test_gate_drops_only_the_nonces_stored_far_ahead_of_a_clock_set_back)
{
    set_vector_key();
    CHECK_PASS(send_nonce("early", VEC_NOW));
    CHECK_PASS(send_signed(VEC_SECRET, "late", "1700000840000", "", VEC_NOW + 840000));
    /* Set back to 2 min before "early": "late" is now 16 min ahead. */
    CHECK_EQ(nonces_used(VEC_NOW - 120000), 1);
    CHECK_VERDICT(send_nonce("early", VEC_NOW - 120000), 401, "replay_detected");
    CHECK_PASS(send_signed(VEC_SECRET, "late", "1699999880000", "", VEC_NOW - 120000));
}

MG_TEST(test_gate_nonce_stored_after_a_step_back_lives_as_long_as_the_newest)
{
    set_vector_key();
    CHECK_PASS(send_nonce("first", VEC_NOW + 200000));
    /* Set back 200 s: "second" is stored with first's time. */
    CHECK_PASS(send_nonce("second", VEC_NOW));
    CHECK_EQ(nonces_used(VEC_NOW + 200000 + GATE_NONCE_TTL_MS - 1), 2);
    CHECK_EQ(nonces_used(VEC_NOW + 200000 + GATE_NONCE_TTL_MS), 0);
}

MG_TEST(test_gate_answers_503_when_the_cache_is_full_and_stores_nothing)
{
    struct gate_state st;
    char nonce[24];

    set_vector_key();
    CHECK(store_nonces(BOARD_NONCE_SLOTS, VEC_NOW));
    CHECK_VERDICT(send_nonce(VEC_NONCE, VEC_NOW + 1), 503, "nonce_cache_full");
    CHECK_VERDICT(send_nonce(VEC_NONCE, VEC_NOW + 2), 503, "nonce_cache_full");
    /* A replay is still a replay, not a full cache. */
    nonce_text(BOARD_NONCE_SLOTS - 1, nonce);
    CHECK_VERDICT(send_nonce(nonce, VEC_NOW + 3), 401, "replay_detected");
    gate_get_state(&st, VEC_NOW + 3);
    CHECK_EQ(st.nonces_used, BOARD_NONCE_SLOTS);
    CHECK_EQ(st.nonces_high_water, BOARD_NONCE_SLOTS);
    CHECK_EQ(st.nonces_capacity, BOARD_NONCE_SLOTS);
    CHECK_EQ(st.nonces_refused, 2);
    CHECK_EQ(st.passed, BOARD_NONCE_SLOTS);
    CHECK_EQ(st.refused, 3);
}

MG_TEST(test_gate_reuses_expired_slots_of_a_full_cache)
{
    char nonce[24];

    set_vector_key();
    CHECK_PASS(send_nonce("oldest", VEC_NOW - 1000));
    CHECK(store_nonces(BOARD_NONCE_SLOTS - 1, VEC_NOW));
    CHECK_VERDICT(send_nonce(VEC_NONCE, VEC_NOW + 1), 503, "nonce_cache_full");
    /* "oldest" expires first: one request fits, the next does not. */
    CHECK_PASS(send_signed(VEC_SECRET, VEC_NONCE, "1700000899000", "",
                              VEC_NOW - 1000 + GATE_NONCE_TTL_MS));
    CHECK_VERDICT(send_signed(VEC_SECRET, "another", "1700000899000", "",
                              VEC_NOW - 1000 + GATE_NONCE_TTL_MS), 503, "nonce_cache_full");
    CHECK_EQ(nonces_used(VEC_NOW - 1000 + GATE_NONCE_TTL_MS), BOARD_NONCE_SLOTS);
    /* All the rest expire together; every nonce is accepted again. */
    nonce_text(0, nonce);
    CHECK_PASS(send_signed(VEC_SECRET, nonce, "1700000900000", "", VEC_NOW + GATE_NONCE_TTL_MS));
    CHECK_EQ(nonces_used(VEC_NOW + GATE_NONCE_TTL_MS), 2);
}

MG_TEST(test_gate_nonce_pool_shows_in_mem_with_use_and_high_water)
{
    const struct pool_stat *p;

    set_vector_key();
    p = find_pool("gate_nonces");
    CHECK(p != NULL);
    CHECK_EQ(p->capacity, BOARD_NONCE_SLOTS);
    CHECK(store_nonces(3, VEC_NOW));
    CHECK_EQ(p->used, 3);
    CHECK_EQ(p->high_water, 3);
    CHECK_EQ(nonces_used(VEC_NOW + GATE_NONCE_TTL_MS), 0);
    CHECK_EQ(p->used, 0);
    CHECK_EQ(p->high_water, 3);
}

MG_TEST(test_gate_finds_replays_among_many_nonces_in_the_same_buckets)
{
    char nonce[24];
    unsigned long i;

    set_vector_key();
    CHECK(store_nonces(BOARD_NONCE_SLOTS / 2, VEC_NOW));
    for (i = 0; i < BOARD_NONCE_SLOTS / 2; i++) {
        nonce_text(i, nonce);
        CHECK_VERDICT(send_nonce(nonce, VEC_NOW), 401, "replay_detected");
    }
    CHECK_EQ(nonces_used(VEC_NOW), BOARD_NONCE_SLOTS / 2);
}

/* --- keys and rotation --------------------------------------------------- */

MG_TEST(test_gate_set_key_refuses_an_empty_or_oversized_key)
{
    static const uint8_t big[GATE_KEY_MAX + 1];
    struct gate_state st;

    gate_reset();
    CHECK_EQ(gate_set_key("", 0), MG_ERR_INVAL);
    CHECK_EQ(gate_set_key(NULL, 4), MG_ERR_INVAL);
    CHECK_EQ(gate_set_key(big, sizeof(big)), MG_ERR_INVAL);
    gate_get_state(&st, VEC_NOW);
    CHECK(!st.has_key);
    CHECK_EQ(gate_set_key(big, GATE_KEY_MAX), 0);
    gate_get_state(&st, VEC_NOW);
    CHECK(st.has_key);
}

MG_TEST(test_gate_set_key_drops_the_previous_key_and_its_window)
{
    struct gate_state st;

    set_vector_key();
    CHECK_EQ(gate_rotate(OTHER_SECRET, strlen(OTHER_SECRET), VEC_NOW, 60000), 0);
    CHECK_EQ(gate_set_key("third", 5), 0);
    gate_get_state(&st, VEC_NOW);
    CHECK(!st.has_previous);
    CHECK_VERDICT(send_nonce(VEC_NONCE, VEC_NOW), 401, "hmac_invalid_signature");
    CHECK_PASS(send_signed("third", VEC_NONCE, VEC_TS, VEC_BODY, VEC_NOW));
}

MG_TEST(test_gate_rotate_needs_a_key_set_and_a_valid_length)
{
    struct gate_state st;

    gate_reset();
    CHECK_EQ(gate_rotate(OTHER_SECRET, strlen(OTHER_SECRET), VEC_NOW, 60000), MG_ERR_INVAL);
    gate_get_state(&st, VEC_NOW);
    CHECK(!st.has_key);

    set_vector_key();
    CHECK_EQ(gate_rotate("", 0, VEC_NOW, 60000), MG_ERR_INVAL);
    CHECK_EQ(gate_rotate(NULL, 3, VEC_NOW, 60000), MG_ERR_INVAL);
    gate_get_state(&st, VEC_NOW);
    CHECK(!st.has_previous);
    CHECK_PASS(send_nonce(VEC_NONCE, VEC_NOW));
}

MG_TEST(test_gate_rotation_makes_the_new_key_current_at_once)
{
    set_vector_key();
    CHECK_EQ(gate_rotate(OTHER_SECRET, strlen(OTHER_SECRET), VEC_NOW, 60000), 0);
    CHECK_PASS(send_signed(OTHER_SECRET, VEC_NONCE, VEC_TS, VEC_BODY, VEC_NOW));
}

MG_TEST(test_gate_accepts_the_old_key_inside_the_grace_window)
{
    set_vector_key();
    CHECK_EQ(gate_rotate(OTHER_SECRET, strlen(OTHER_SECRET), VEC_NOW, 60000), 0);
    CHECK_PASS(send_nonce("a", VEC_NOW));
    CHECK_PASS(send_nonce("b", VEC_NOW + 59999));
}

MG_TEST(test_gate_refuses_the_old_key_from_the_end_of_the_grace_window)
{
    set_vector_key();
    CHECK_EQ(gate_rotate(OTHER_SECRET, strlen(OTHER_SECRET), VEC_NOW, 60000), 0);
    CHECK_VERDICT(send_nonce("a", VEC_NOW + 60000), 401, "hmac_invalid_signature");
    CHECK_PASS(send_signed(OTHER_SECRET, "b", VEC_TS, VEC_BODY, VEC_NOW + 60000));
    /* Once refused it stays refused, even if the clock is set back. */
    CHECK_VERDICT(send_nonce("c", VEC_NOW + 30000), 401, "hmac_invalid_signature");
}

MG_TEST(test_gate_rotation_with_grace_zero_refuses_the_old_key_at_once)
{
    struct gate_state st;

    set_vector_key();
    CHECK_EQ(gate_rotate(OTHER_SECRET, strlen(OTHER_SECRET), VEC_NOW, 0), 0);
    gate_get_state(&st, VEC_NOW);
    CHECK(!st.has_previous);
    CHECK_VERDICT(send_nonce("a", VEC_NOW), 401, "hmac_invalid_signature");
    CHECK_PASS(send_signed(OTHER_SECRET, "b", VEC_TS, VEC_BODY, VEC_NOW));
}

MG_TEST(test_gate_drops_the_old_key_when_the_clock_steps_back_before_the_rotation)
{
    struct gate_state st;

    set_vector_key();
    CHECK_EQ(gate_rotate(OTHER_SECRET, strlen(OTHER_SECRET), VEC_NOW, 60000), 0);
    CHECK_VERDICT(send_nonce("a", VEC_NOW - 1), 401, "hmac_invalid_signature");
    gate_get_state(&st, VEC_NOW);
    CHECK(!st.has_previous);
}

MG_TEST(test_gate_second_rotation_keeps_only_the_key_it_replaces)
{
    set_vector_key();
    CHECK_EQ(gate_rotate(OTHER_SECRET, strlen(OTHER_SECRET), VEC_NOW, 60000), 0);
    CHECK_EQ(gate_rotate("third", 5, VEC_NOW + 1000, 60000), 0);
    CHECK_VERDICT(send_nonce("a", VEC_NOW + 2000), 401, "hmac_invalid_signature");
    CHECK_PASS(send_signed(OTHER_SECRET, "b", VEC_TS, VEC_BODY, VEC_NOW + 2000));
    CHECK_PASS(send_signed("third", "c", VEC_TS, VEC_BODY, VEC_NOW + 2000));
}

MG_TEST(test_gate_rotation_grace_that_would_overflow_the_clock_saturates)
{
    struct gate_state st;

    set_vector_key();
    CHECK_EQ(gate_rotate(OTHER_SECRET, strlen(OTHER_SECRET), VEC_NOW, UINT64_MAX), 0);
    gate_get_state(&st, VEC_NOW);
    CHECK(st.has_previous);
    CHECK(st.previous_until == UINT64_MAX);
    CHECK_PASS(send_nonce("a", VEC_NOW));
}

MG_TEST(test_gate_state_reports_keys_window_and_counters)
{
    uint8_t digest[MG_SHA256_LEN];
    struct gate_state st;

    gate_reset();
    gate_get_state(&st, VEC_NOW);
    CHECK(!st.has_key);
    CHECK(!st.has_previous);
    CHECK_EQ(st.nonces_used, 0);
    CHECK_EQ(st.nonces_capacity, BOARD_NONCE_SLOTS);
    CHECK_EQ(st.passed, 0);
    CHECK_EQ(st.refused, 0);

    CHECK_EQ(gate_set_key(VEC_SECRET, strlen(VEC_SECRET)), 0);
    mg_sha256(VEC_SECRET, strlen(VEC_SECRET), digest);
    gate_get_state(&st, VEC_NOW);
    CHECK(st.has_key);
    CHECK_MEM(st.current_check, digest, sizeof(st.current_check));

    CHECK_EQ(gate_rotate(OTHER_SECRET, strlen(OTHER_SECRET), VEC_NOW, 60000), 0);
    mg_sha256(OTHER_SECRET, strlen(OTHER_SECRET), digest);
    gate_get_state(&st, VEC_NOW);
    CHECK(st.has_previous);
    CHECK(st.previous_until == VEC_NOW + 60000);
    CHECK_MEM(st.current_check, digest, sizeof(st.current_check));

    CHECK_PASS(send_nonce("a", VEC_NOW));
    CHECK_VERDICT(send_nonce("a", VEC_NOW), 401, "replay_detected");
    CHECK_VERDICT(gate_check(hdr(NULL), hdr(VEC_TS), hdr(VEC_SIG), NULL, 0, VEC_NOW),
                  401, "hmac_missing_headers");
    gate_get_state(&st, VEC_NOW);
    CHECK_EQ(st.passed, 1);
    CHECK_EQ(st.refused, 2);
    CHECK_EQ(st.nonces_used, 1);
    CHECK_EQ(st.nonces_high_water, 1);
    CHECK_EQ(st.nonces_refused, 0);

    gate_get_state(&st, VEC_NOW + 60000);
    CHECK(!st.has_previous);
}

MG_TEST(test_gate_reset_forgets_keys_nonces_and_figures)
{
    struct gate_state st;

    set_vector_key();
    CHECK(store_nonces(5, VEC_NOW));
    gate_reset();
    gate_get_state(&st, VEC_NOW);
    CHECK(!st.has_key);
    CHECK_EQ(st.nonces_used, 0);
    CHECK_EQ(st.nonces_high_water, 0);
    CHECK_EQ(st.passed, 0);
    CHECK_VERDICT(send_nonce("n-0", VEC_NOW), 503, "hmac_not_configured");
    set_vector_key();
    CHECK_PASS(send_nonce("n-0", VEC_NOW));
}
