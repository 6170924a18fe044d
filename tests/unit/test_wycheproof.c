/* Every Wycheproof case in ../shared/vectors/wycheproof through the
 * primitives the firmware exposes: each valid case must verify, each invalid
 * one must be refused. */
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "ed25519.h"
#include "hex.h"
#include "json/json.h"
#include "mg_err.h"
#include "test.h"
#include "x25519.h"

#define FILE_MAX  (512 * 1024)
#define TOKENS_MAX 65536
#define FIELD_MAX 16384

static char file[FILE_MAX];
static jsmntok_t tokens[TOKENS_MAX];
static unsigned char a[FIELD_MAX], b[FIELD_MAX], c[FIELD_MAX], d_[FIELD_MAX];
static unsigned char e[FIELD_MAX], out[FIELD_MAX], out2[FIELD_MAX];

struct tally {
    unsigned valid, invalid, acceptable, wrong;
    long first_wrong;
};

enum expect { EXPECT_VALID, EXPECT_INVALID, EXPECT_ACCEPTABLE };

typedef int (*case_fn)(const struct json_doc *doc, int group, int tc, enum expect want);

/* The number at i, 0 if it is none. */
static long field_long(const struct json_doc *doc, int i)
{
    int64_t v;

    return json_int(doc, i, &v) == 0 ? (long)v : 0;
}

/* Decodes the hex string at i into out; its length in bytes, or -1. The
 * vectors' hex holds no escapes, so the raw text is decoded. */
static long field_hex(const struct json_doc *doc, int i, unsigned char *out, size_t cap)
{
    if (json_kind(doc, i) != JSON_STRING)
        return -1;
    return hex_decode(doc->text + doc->tok[i].start,
                      (size_t)(doc->tok[i].end - doc->tok[i].start), out, cap);
}

/* 1 when the array at arr holds the string s. */
static int array_has(const struct json_doc *doc, int arr, const char *s)
{
    int k;

    if (json_kind(doc, arr) != JSON_ARRAY)
        return 0;
    for (k = json_first(doc, arr); k >= 0; k = json_next(doc, arr, k))
        if (json_str_eq(doc, k, s))
            return 1;
    return 0;
}

static void report(const char *name, const struct tally *t)
{
    fprintf(stdout, "     wycheproof %-8s %u cases: %u valid, %u invalid, %u acceptable, %u wrong\n",
            name, t->valid + t->invalid + t->acceptable, t->valid, t->invalid, t->acceptable,
            t->wrong);
}

/* Runs fn on every test case of the file; the tally says how many were
 * judged wrongly (fn returns 1 for a correct judgement). */
static int walk(const char *name, case_fn fn, struct tally *t)
{
    struct json_doc doc;
    long len = test_read_file(test_vectors_dir(), name, file, sizeof(file));
    int groups, g, k;

    memset(t, 0, sizeof(*t));
    if (len < 0 || json_parse(&doc, file, (size_t)len, tokens, TOKENS_MAX) != 0)
        return -1;
    groups = json_get(&doc, 0, "testGroups");
    if (groups < 0)
        return -1;
    g = groups + 1;
    for (k = 0; k < json_size(&doc, groups); k++, g = json_skip(&doc, g)) {
        int tests = json_get(&doc, g, "tests"), tc, j;
        if (tests < 0)
            return -1;
        tc = tests + 1;
        for (j = 0; j < json_size(&doc, tests); j++, tc = json_skip(&doc, tc)) {
            int r = json_get(&doc, tc, "result");
            enum expect want = json_str_eq(&doc, r, "valid") ? EXPECT_VALID
                             : json_str_eq(&doc, r, "invalid") ? EXPECT_INVALID
                             : EXPECT_ACCEPTABLE;
            if (want == EXPECT_VALID)
                t->valid++;
            else if (want == EXPECT_INVALID)
                t->invalid++;
            else
                t->acceptable++;
            if (!fn(&doc, g, tc, want)) {
                if (!t->wrong)
                    t->first_wrong = field_long(&doc, json_get(&doc, tc, "tcId"));
                t->wrong++;
            }
        }
    }
    return 0;
}

#define FIELD(doc, tc, key, buf) field_hex(doc, json_get(doc, tc, key), buf, sizeof(buf))

static int hmac_case(const struct json_doc *doc, int group, int tc, enum expect want)
{
    long klen = FIELD(doc, tc, "key", a), mlen = FIELD(doc, tc, "msg", b);
    long tlen = FIELD(doc, tc, "tag", c);
    long tag_bits = field_long(doc, json_get(doc, group, "tagSize"));
    int match;

    if (klen < 0 || mlen < 0 || tlen < 0 || tag_bits % 8 || tag_bits > 256)
        return 0;
    mg_hmac_sha256(a, (size_t)klen, b, (size_t)mlen, out);
    match = tlen == tag_bits / 8 && mg_ct_compare(out, c, (size_t)tlen) == 0;
    return want == EXPECT_VALID ? match : !match;
}

static int hkdf_case(const struct json_doc *doc, int group, int tc, enum expect want)
{
    long ilen = FIELD(doc, tc, "ikm", a), slen = FIELD(doc, tc, "salt", b);
    long nlen = FIELD(doc, tc, "info", c), olen = FIELD(doc, tc, "okm", d_);
    long size = field_long(doc, json_get(doc, tc, "size"));
    int rc;

    (void)group;
    if (ilen < 0 || slen < 0 || nlen < 0 || size < 0 || size > FIELD_MAX)
        return want == EXPECT_INVALID;
    rc = mg_hkdf_sha256(b, (size_t)slen, a, (size_t)ilen, c, (size_t)nlen, out, (size_t)size);
    if (want == EXPECT_VALID)
        return rc == 0 && olen == size && memcmp(out, d_, (size_t)size) == 0;
    return rc != 0;
}

static int gcm_case(const struct json_doc *doc, int group, int tc, enum expect want)
{
    long klen = FIELD(doc, tc, "key", a), ivlen = FIELD(doc, tc, "iv", b);
    long aadlen = FIELD(doc, tc, "aad", c), mlen = FIELD(doc, tc, "msg", d_);
    long clen = FIELD(doc, tc, "ct", e);
    unsigned char tag[32], tag2[16];
    long tlen = FIELD(doc, tc, "tag", tag);
    int enc, dec;

    (void)group;
    if (klen < 0 || ivlen < 0 || aadlen < 0 || mlen < 0 || clen < 0 || tlen < 0)
        return 0;
    dec = mg_aes_gcm_decrypt(a, (size_t)klen, b, (size_t)ivlen, c, (size_t)aadlen, e,
                             (size_t)clen, out, tag, (size_t)tlen);
    if (want != EXPECT_VALID)
        return dec != 0;
    enc = mg_aes_gcm_encrypt(a, (size_t)klen, b, (size_t)ivlen, c, (size_t)aadlen, d_,
                             (size_t)mlen, out2, tag2, (size_t)tlen);
    return dec == 0 && enc == 0 && clen == mlen && memcmp(out, d_, (size_t)mlen) == 0 &&
           memcmp(out2, e, (size_t)clen) == 0 && memcmp(tag2, tag, (size_t)tlen) == 0;
}

static int x25519_case(const struct json_doc *doc, int group, int tc, enum expect want)
{
    long plen = FIELD(doc, tc, "public", a), klen = FIELD(doc, tc, "private", b);
    long slen = FIELD(doc, tc, "shared", c);
    int rc;

    (void)group;
    if (plen != 32 || klen != 32 || slen != 32)
        return want == EXPECT_INVALID;
    rc = x25519_shared(out, b, a);
    /* "acceptable" cases with an all-zero secret (low-order public keys) are
     * the ones we refuse on purpose; every other case must compute. */
    if (array_has(doc, json_get(doc, tc, "flags"), "ZeroSharedSecret"))
        return rc == MG_ERR_CRYPTO;
    if (want == EXPECT_INVALID)
        return rc != 0 || memcmp(out, c, 32) != 0;
    return rc == 0 && memcmp(out, c, 32) == 0;
}

static int ed25519_case(const struct json_doc *doc, int group, int tc, enum expect want)
{
    int key = json_get(doc, group, "publicKey");
    long plen = field_hex(doc, json_get(doc, key, "pk"), a, sizeof(a));
    long mlen = FIELD(doc, tc, "msg", b), slen = FIELD(doc, tc, "sig", c);
    int rc;

    if (plen != 32 || mlen < 0)
        return 0;
    if (slen < 0)   /* not even hex: nothing to verify */
        return want != EXPECT_VALID;
    rc = ed25519_verify(a, b, (size_t)mlen, c, (size_t)slen);
    return want == EXPECT_VALID ? rc == 0 : rc == MG_ERR_AUTH;
}

static void run_file(const char *file_name, const char *name, case_fn fn, unsigned min_cases)
{
    struct tally t;

    CHECK_EQ(walk(file_name, fn, &t), 0);
    report(name, &t);
    CHECK(t.valid + t.invalid + t.acceptable >= min_cases);
    if (t.wrong)
        test_fail(__FILE__, __LINE__, "%s: %u cases judged wrongly, first tcId %ld", name,
                  t.wrong, t.first_wrong);
}

MG_TEST(test_wycheproof_hmac_sha256_valid_verify_and_modified_tags_are_refused)
{
    run_file("hmac_sha256_test.json", "hmac", hmac_case, 174);
}

MG_TEST(test_wycheproof_hkdf_sha256_derives_every_valid_case_and_refuses_oversize)
{
    run_file("hkdf_sha256_test.json", "hkdf", hkdf_case, 86);
}

MG_TEST(test_wycheproof_aes_gcm_round_trips_valid_and_refuses_bad_tags_and_ivs)
{
    run_file("aes_gcm_test.json", "aes-gcm", gcm_case, 316);
}

MG_TEST(test_wycheproof_x25519_computes_every_case_and_refuses_zero_secrets)
{
    run_file("x25519_test.json", "x25519", x25519_case, 518);
}

MG_TEST(test_wycheproof_ed25519_verifies_valid_and_refuses_every_invalid_signature)
{
    run_file("ed25519_test.json", "ed25519", ed25519_case, 151);
}
