/* Strict JSON (firmware/json): what json_parse refuses, what the readers
 * give back, and json_canon byte for byte against Python 3's
 *     json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
 * (expected outputs printed by Debian's /usr/bin/python3; numbers keep their
 * text, the one stated difference). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "hex.h"
#include "json/json.h"
#include "mg_err.h"
#include "test.h"

#define TOK_MAX 1024

static jsmntok_t tok[TOK_MAX];
static struct json_doc doc;
static char text[16384];

struct sink {
    char buf[8192];
    size_t n;
    unsigned calls;
    int overflow;
};

static struct sink out;

static void sink_emit(void *ctx, const char *p, size_t n)
{
    struct sink *s = ctx;

    s->calls++;
    if (n >= sizeof(s->buf) - s->n) {
        s->overflow = 1;
        return;
    }
    memcpy(s->buf + s->n, p, n);
    s->n += n;
    s->buf[s->n] = '\0';
}

static int parse_n(const char *t, size_t len)
{
    return json_parse(&doc, t, len, tok, TOK_MAX);
}

static int parse(const char *t)
{
    return parse_n(t, strlen(t));
}

/* Parses t and writes its canonical form into out; json_parse's or
 * json_canon's code. */
static int canon(const char *t, const char *const *skip)
{
    int rc = parse(t);

    memset(&out, 0, sizeof(out));
    return rc ? rc : json_canon(&doc, 0, skip, sink_emit, &out);
}

#define CHECK_CANON(t, skip, want)                                                  \
    do {                                                                            \
        int rc_ = canon((t), (skip));                                               \
        CHECK_EQ(rc_, 0);                                                           \
        CHECK(!out.overflow);                                                       \
        if (strcmp(out.buf, (want)) != 0) {                                         \
            test_fail(__FILE__, __LINE__, "canon gave %s, want %s", out.buf, want); \
            return;                                                                 \
        }                                                                           \
    } while (0)

/* Each text must be refused as invalid; names the first one that is not. */
#define CHECK_ALL_REFUSED(texts)                                                    \
    do {                                                                            \
        size_t k_;                                                                  \
        for (k_ = 0; k_ < sizeof(texts) / sizeof(texts[0]); k_++) {                 \
            int rc_ = parse(texts[k_]);                                             \
            if (rc_ != MG_ERR_INVAL) {                                              \
                test_fail(__FILE__, __LINE__, "%s: %d, want MG_ERR_INVAL",          \
                          texts[k_], rc_);                                          \
                return;                                                             \
            }                                                                       \
            CHECK_EQ(doc.count, 0);                                                 \
        }                                                                           \
    } while (0)

#define CHECK_ALL_ACCEPTED(texts)                                                   \
    do {                                                                            \
        size_t k_;                                                                  \
        for (k_ = 0; k_ < sizeof(texts) / sizeof(texts[0]); k_++) {                 \
            int rc_ = parse(texts[k_]);                                             \
            if (rc_ != 0) {                                                         \
                test_fail(__FILE__, __LINE__, "%s: %d, want 0", texts[k_], rc_);    \
                return;                                                             \
            }                                                                       \
        }                                                                           \
    } while (0)

/* n arrays nested: [[[...]]] */
static size_t nested_arrays(int n)
{
    int k;

    for (k = 0; k < n; k++) {
        text[k] = '[';
        text[n + k] = ']';
    }
    text[2 * n] = '\0';
    return (size_t)(2 * n);
}

/* {"k000":0,"k001":1,...} with n members, the last one keyed `last` when
 * it is not NULL. */
static void many_members(int n, const char *last)
{
    size_t len = 0;
    int k;

    text[len++] = '{';
    for (k = 0; k < n; k++) {
        if (k > 0)
            text[len++] = ',';
        text[len++] = '"';
        if (k == n - 1 && last != NULL) {
            memcpy(text + len, last, strlen(last));
            len += strlen(last);
        } else {
            text[len++] = 'k';
            text[len++] = (char)('0' + k / 100);
            text[len++] = (char)('0' + k / 10 % 10);
            text[len++] = (char)('0' + k % 10);
        }
        memcpy(text + len, "\":0", 3);
        len += 3;
    }
    text[len++] = '}';
    text[len] = '\0';
}

/* --- what parses ---------------------------------------------------------- */

MG_TEST(test_an_object_fills_jsmn_tokens_in_text_order)
{
    CHECK_EQ(parse("{\"a\":[1,true,null],\"b\":\"x\"}"), 0);
    CHECK_EQ(doc.count, 8);
    CHECK_EQ(doc.tok[0].type, JSMN_OBJECT);
    CHECK_EQ(doc.tok[0].size, 2);
    CHECK_EQ(doc.tok[2].type, JSMN_ARRAY);
    CHECK_EQ(doc.tok[2].size, 3);
    CHECK_EQ(doc.tok[7].type, JSMN_STRING);
    CHECK_EQ(doc.tok[7].start, 24);
    CHECK_EQ(doc.tok[7].end, 25);
    CHECK_EQ(doc.len, strlen(doc.text));
}

MG_TEST(test_a_top_level_scalar_is_one_token)
{
    static const char *const texts[] = { "0", " -1.5e+3 \n", "true", "false", "null",
                                         "\"s\"", "\t\"\"\r\n" };
    static const enum json_kind kinds[] = { JSON_NUMBER, JSON_NUMBER, JSON_TRUE, JSON_FALSE,
                                            JSON_NULL, JSON_STRING, JSON_STRING };
    size_t k;

    for (k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
        CHECK_EQ(parse(texts[k]), 0);
        CHECK_EQ(doc.count, 1);
        CHECK_EQ(json_kind(&doc, 0), kinds[k]);
    }
    CHECK_EQ(parse(" -1.5e+3 \n"), 0);
    CHECK_EQ(doc.tok[0].start, 1);
    CHECK_EQ(doc.tok[0].end, 8);
}

MG_TEST(test_the_four_whitespace_bytes_may_surround_the_value)
{
    CHECK_EQ(parse(" \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n[ 1 , 2 ] }\n "), 0);
    CHECK_EQ(doc.count, 5);
}

MG_TEST(test_every_number_of_the_grammar_parses)
{
    static const char *const texts[] = {
        "0", "-0", "0.0", "-0.0e-0", "1e5", "1E5", "1e+5", "1e-5", "1e05", "12.5E+10",
        "123456789012345678901234567890", "[0,-1,2.25,3e3]",
    };

    CHECK_ALL_ACCEPTED(texts);
}

MG_TEST(test_every_escape_and_raw_utf8_at_each_length_parse)
{
    static const char *const texts[] = {
        "\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0041 \\u00e9 \\u00E9\"",
        "\"\\ud83d\\ude00\"", "\"\\ud800\"", "\"\\udfff\\ud800\"",   /* lone surrogates too */
        "\"\xc2\x80 \xdf\xbf \xc3\xa9\"",                            /* 2 bytes */
        "\"\xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 \xef\xbf\xbf \xe2\x82\xac\"", /* 3 bytes */
        "\"\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf \xf0\x9f\x98\x80\"",    /* 4 bytes */
        "\"\x7f ~ /\"",
    };

    CHECK_ALL_ACCEPTED(texts);
}

/* --- what is refused ------------------------------------------------------ */

MG_TEST(test_an_empty_or_blank_text_is_refused)
{
    static const char *const texts[] = { "", " ", "\r\n\t " };

    CHECK_ALL_REFUSED(texts);
}

MG_TEST(test_whitespace_other_than_the_four_is_refused)
{
    static const char *const texts[] = {
        "\f{}", "{}\v", "{\f}", "\xc2\xa0{}", "[1,\xe2\x80\x80 2]",
        "\xef\xbb\xbf{}",   /* a byte order mark */
    };

    CHECK_ALL_REFUSED(texts);
}

MG_TEST(test_trailing_garbage_is_refused)
{
    static const char *const texts[] = { "{}x", "[1]]", "{}}", "1,", "null;", "\"a\"\"",
                                         "true false", "0 x" };

    CHECK_ALL_REFUSED(texts);
}

MG_TEST(test_two_top_level_values_are_refused)
{
    static const char *const texts[] = { "{}{}", "[] []", "1 2", "\"a\" \"b\"", "{} 1",
                                         "null null" };

    CHECK_ALL_REFUSED(texts);
}

MG_TEST(test_numbers_outside_the_grammar_are_refused)
{
    static const char *const texts[] = {
        "01", "-01", "00", "-", "+1", "--1", "1.", ".5", "-.5", "1.e3", "1e", "1e+", "1E-",
        "0x10", "1_000", "1.5.5", "1e5e5", "NaN", "Infinity", "-Infinity", "[01]", "[1.]",
        "[-]", "{\"a\":01}", "1 .5", "- 1",
    };

    CHECK_ALL_REFUSED(texts);
}

MG_TEST(test_literals_must_be_exact)
{
    static const char *const texts[] = { "tru", "truee", "True", "TRUE", "nul", "nulll",
                                         "fals", "falsey", "t", "[nul]", "[true false]",
                                         "undefined", "[none]" };

    CHECK_ALL_REFUSED(texts);
}

MG_TEST(test_raw_control_characters_in_a_string_are_refused)
{
    static const char *const texts[] = { "\"a\x01\"", "\"\t\"", "\"\n\"", "\"\r\"",
                                         "\"\x1f\"", "{\"\x08\":1}" };

    CHECK_ALL_REFUSED(texts);
    CHECK_EQ(parse_n("\"a\0b\"", 5), MG_ERR_INVAL);   /* NUL inside a string */
}

MG_TEST(test_invalid_escapes_are_refused)
{
    static const char *const texts[] = {
        "\"\\x41\"", "\"\\U0041\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\u 123\"", "\"\\'\"",
        "\"\\a\"", "\"\\0\"", "\"\\", "\"\\\"", "\"\\u00\"", "\"\\u", "\"\\ \"",
    };

    CHECK_ALL_REFUSED(texts);
}

MG_TEST(test_malformed_utf8_is_refused)
{
    static const char *const texts[] = {
        "\"\xc0\x80\"", "\"\xc1\xbf\"",                   /* overlong 2 bytes */
        "\"\xe0\x80\xaf\"", "\"\xe0\x9f\xbf\"",           /* overlong 3 bytes */
        "\"\xf0\x80\x80\xaf\"", "\"\xf0\x8f\xbf\xbf\"",   /* overlong 4 bytes */
        "\"\xed\xa0\x80\"", "\"\xed\xbf\xbf\"",           /* surrogates U+D800, U+DFFF */
        "\"\xed\xa0\xbd\xed\xb8\x80\"",                   /* a pair in CESU-8 */
        "\"\xf4\x90\x80\x80\"", "\"\xf5\x80\x80\x80\"",   /* above U+10FFFF */
        "\"\xf8\x88\x80\x80\x80\"", "\"\xfe\"", "\"\xff\"",
        "\"\x80\"", "\"\xbf\"", "\"a\xa9\"",              /* a continuation alone */
        "\"\xc3\x28\"", "\"\xe2\x28\xa1\"", "\"\xe2\x82\x28\"", "\"\xf0\x9f\x98\x28\"",
        "\"\xc3\"", "\"\xe2\x82\"", "\"\xf0\x9f\x98\"",   /* cut short by the quote */
        "\"\xc3", "\"\xe2\x82", "\"\xf0\x9f\x98",         /* cut short by the end */
        "\xc3\xa9",                                       /* outside a string */
    };

    CHECK_ALL_REFUSED(texts);
}

MG_TEST(test_broken_structure_is_refused)
{
    static const char *const texts[] = {
        "{", "[", "\"", "\"abc", "}", "]", "[}", "{]", "{\"a\"}", "{\"a\":}", "{\"a\" 1}",
        "{\"a\"::1}", "{1:2}", "{null:1}", "{[]:1}", "{\"a\":1,}", "[1,]", "[,1]", "{,}",
        "[,]", "[1 2]", "{\"a\":1 \"b\":2}", "{'a':1}", "{a:1}", "['a']", ":", ",", "[1:2]",
        "{\"a\",1}", "[[]", "[]]", "{\"a\":{}", "{\"a\":1}}", "/* */{}", "{}//",
    };

    CHECK_ALL_REFUSED(texts);
}

MG_TEST(test_nesting_is_allowed_32_deep_and_refused_33_deep)
{
    CHECK_EQ(parse_n(text, nested_arrays(JSON_MAX_DEPTH)), 0);
    CHECK_EQ(doc.count, JSON_MAX_DEPTH);
    CHECK_EQ(parse_n(text, nested_arrays(JSON_MAX_DEPTH + 1)), MG_ERR_INVAL);
    CHECK_EQ(parse_n(text, nested_arrays(1000)), MG_ERR_INVAL);
}

MG_TEST(test_objects_count_toward_the_depth_as_arrays_do)
{
    size_t len = 0;
    int k;

    for (k = 0; k < JSON_MAX_DEPTH + 1; k++) {
        memcpy(text + len, "{\"a\":", 5);
        len += 5;
    }
    text[len++] = '1';
    for (k = 0; k < JSON_MAX_DEPTH + 1; k++)
        text[len++] = '}';
    CHECK_EQ(parse_n(text, len), MG_ERR_INVAL);
    /* one level less: the innermost {"a":1} becomes 1 */
    CHECK_EQ(parse_n(text + 5, len - 6), 0);
}

MG_TEST(test_a_repeated_key_is_refused)
{
    CHECK_EQ(parse("{\"a\":1,\"a\":2}"), MG_ERR_INVAL);
    CHECK_EQ(doc.count, 0);
    CHECK_EQ(parse("{\"a\":1,\"b\":2,\"c\":3,\"b\":{}}"), MG_ERR_INVAL);
}

MG_TEST(test_a_key_repeated_through_an_escape_is_refused)
{
    static const char *const texts[] = {
        "{\"a\":1,\"\\u0061\":2}",
        "{\"\xc3\xa9\":1,\"\\u00E9\":2}",
        "{\"\xf0\x9f\x98\x80\":1,\"\\ud83d\\ude00\":2}",
        "{\"\\/\":1,\"/\":2}",
        "{\"\\ud800\":1,\"\\uD800\":2}",
        "{\"a\\nb\":1,\"a\\u000ab\":2}",
    };

    CHECK_ALL_REFUSED(texts);
}

MG_TEST(test_a_repeated_key_in_a_nested_object_is_refused)
{
    CHECK_EQ(parse("{\"x\":[{\"b\":1,\"c\":2,\"b\":3}]}"), MG_ERR_INVAL);
    CHECK_EQ(parse("[{},{\"q\":{\"r\":1,\"r\":1}}]"), MG_ERR_INVAL);
}

MG_TEST(test_the_same_key_in_different_objects_is_not_a_repeat)
{
    CHECK_EQ(parse("[{\"a\":1},{\"a\":1}]"), 0);
    CHECK_EQ(parse("{\"a\":{\"a\":{\"a\":1}}}"), 0);
    CHECK_EQ(parse("{\"a\":1,\"A\":2,\"a \":3,\"\\u0061b\":4,\"\\ud800\":5,\"\\udc00\":6}"), 0);
}

MG_TEST(test_a_repeated_key_among_hundreds_is_found_and_keys_keep_their_size)
{
    int k;

    many_members(300, "k007");
    CHECK_EQ(parse(text), MG_ERR_INVAL);
    many_members(300, "k\\u0030\\u0030\\u0037");
    CHECK_EQ(parse(text), MG_ERR_INVAL);
    many_members(300, NULL);
    CHECK_EQ(parse(text), 0);
    CHECK_EQ(doc.count, 601);
    /* the check borrows the keys' size field: it is put back */
    for (k = 1; k < doc.count; k += 2) {
        CHECK_EQ(doc.tok[k].type, JSMN_STRING);
        CHECK_EQ(doc.tok[k].size, 1);
    }
    CHECK_EQ(json_get(&doc, 0, "k299"), 600);
}

MG_TEST(test_more_tokens_than_the_array_holds_is_nospc)
{
    CHECK_EQ(json_parse(&doc, "[1,2,3]", 7, tok, 3), MG_ERR_NOSPC);
    CHECK_EQ(doc.count, 0);
    CHECK_EQ(json_parse(&doc, "[1,2,3]", 7, tok, 4), 0);
    CHECK_EQ(doc.count, 4);
    CHECK_EQ(json_parse(&doc, "{\"a\":{\"b\":1}}", 13, tok, 4), MG_ERR_NOSPC);
    CHECK_EQ(json_parse(&doc, "{\"a\":{\"b\":1}}", 13, tok, 5), 0);
    CHECK_EQ(json_parse(&doc, "7", 1, tok, 0), MG_ERR_NOSPC);
    CHECK_EQ(json_parse(&doc, "7", 1, tok, 1), 0);
    /* the grammar is judged first */
    CHECK_EQ(json_parse(&doc, "[1,2,3", 6, tok, 1), MG_ERR_INVAL);
}

/* Long strings are scanned eight bytes at a time: every byte the scan must
 * stop at is found at every offset of a long run, and plain runs of every
 * length up to the quote are taken whole. */
MG_TEST(test_long_strings_stop_at_every_special_byte_at_every_offset)
{
    static const char *const bad[] = { "\x01", "\x1f", "\\q", "\xc3(", "\xff", "\xed\xa0\x80" };
    static const char *const good[] = { "\\n", "\\u00e9", "\xc3\xa9", "\xf0\x9f\x98\x80", "\x7f", "" };
    char t[128];
    size_t k, i;

    for (k = 0; k < 40; k++) {
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            int n = snprintf(t, sizeof(t), "\"%.*s%s%.*s\"", (int)k,
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", bad[i],
                             (int)(k % 9), "ABCDEFGHI");
            if (parse_n(t, (size_t)n) != MG_ERR_INVAL)
                test_fail(__FILE__, __LINE__, "bad[%zu] after %zu bytes accepted", i, k);
        }
        for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
            int n = snprintf(t, sizeof(t), "\"%.*s%s%.*s\"", (int)k,
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", good[i],
                             (int)(k % 9), "ABCDEFGHI");
            if (parse_n(t, (size_t)n) != 0 || doc.tok[0].end != n - 1)
                test_fail(__FILE__, __LINE__, "good[%zu] after %zu bytes refused", i, k);
        }
        /* No closing quote, the end of the text anywhere in a run. */
        snprintf(t, sizeof(t), "\"%.*s", (int)k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
        CHECK_EQ(parse_n(t, k + 1), MG_ERR_INVAL);
    }
}

MG_TEST(test_nothing_past_len_is_read)
{
    CHECK_EQ(parse_n("[1]", 2), MG_ERR_INVAL);
    CHECK_EQ(parse_n("12", 1), 0);
    CHECK_EQ(doc.tok[0].end, 1);
    CHECK_EQ(parse_n("\"ab\"", 3), MG_ERR_INVAL);
    CHECK_EQ(parse_n("\"\\u0041\"", 6), MG_ERR_INVAL);
    CHECK_EQ(parse_n("true", 3), MG_ERR_INVAL);
    CHECK_EQ(parse_n("{}\0", 3), MG_ERR_INVAL);   /* a NUL is not an end */
}

/* --- reading -------------------------------------------------------------- */

static const char members[] =
    "{\"a\":1,\"b\\n\":[2,[3,{\"d\":4}]],\"\\u00e9\":{\"d\":5},\"e\":\"\",\"f\":[]}";

MG_TEST(test_json_get_finds_a_member_by_its_unescaped_key)
{
    int v;

    CHECK_EQ(parse(members), 0);
    CHECK_EQ(json_get(&doc, 0, "a"), 2);
    v = json_get(&doc, 0, "b\n");
    CHECK_EQ(doc.tok[v].type, JSMN_ARRAY);
    v = json_get(&doc, 0, "\xc3\xa9");
    CHECK_EQ(json_kind(&doc, v), JSON_OBJECT);
    CHECK_EQ(json_get(&doc, v, "d"), v + 2);
    CHECK_EQ(json_get(&doc, 0, "d"), -1);      /* only members of that object */
    CHECK_EQ(json_get(&doc, 0, "b"), -1);
    CHECK_EQ(json_get(&doc, 0, ""), -1);
    CHECK_EQ(json_get(&doc, 0, "\\u00e9"), -1);   /* not the escaped text */
    CHECK_EQ(json_get(&doc, json_get(&doc, 0, "f"), "a"), -1);   /* not an object */
    CHECK_EQ(json_get(&doc, -1, "a"), -1);
    CHECK_EQ(json_get(&doc, doc.count, "a"), -1);
}

MG_TEST(test_json_first_and_next_walk_members_past_nested_values)
{
    static const char *const keys[] = { "a", "b\n", "\xc3\xa9", "e", "f" };
    int k, n = 0;

    CHECK_EQ(parse(members), 0);
    for (k = json_first(&doc, 0); k >= 0; k = json_next(&doc, 0, k)) {
        CHECK(n < 5);
        CHECK(json_str_eq(&doc, k, keys[n]));
        n++;
    }
    CHECK_EQ(n, 5);
    CHECK_EQ(json_size(&doc, 0), 5);
}

MG_TEST(test_json_first_and_next_walk_elements_past_nested_values)
{
    static const enum json_kind kinds[] = { JSON_NUMBER, JSON_ARRAY };
    int arr, k, n = 0;

    CHECK_EQ(parse(members), 0);
    arr = json_get(&doc, 0, "b\n");
    for (k = json_first(&doc, arr); k >= 0; k = json_next(&doc, arr, k)) {
        CHECK(n < 2);
        CHECK_EQ(json_kind(&doc, k), kinds[n]);
        n++;
    }
    CHECK_EQ(n, 2);
    CHECK_EQ(json_size(&doc, arr), 2);
    CHECK_EQ(json_size(&doc, arr + 2), 2);
}

MG_TEST(test_empty_containers_and_scalars_have_no_first_member)
{
    CHECK_EQ(parse(members), 0);
    CHECK_EQ(json_first(&doc, json_get(&doc, 0, "f")), -1);
    CHECK_EQ(json_size(&doc, json_get(&doc, 0, "f")), 0);
    CHECK_EQ(json_first(&doc, json_get(&doc, 0, "a")), -1);
    CHECK_EQ(json_size(&doc, json_get(&doc, 0, "a")), MG_ERR_INVAL);
    CHECK_EQ(json_next(&doc, json_get(&doc, 0, "a"), 3), -1);
    CHECK_EQ(json_first(&doc, -1), -1);
    CHECK_EQ(json_size(&doc, -1), MG_ERR_INVAL);
    CHECK_EQ(parse("{}"), 0);
    CHECK_EQ(json_first(&doc, 0), -1);
    CHECK_EQ(json_size(&doc, 0), 0);
}

MG_TEST(test_json_skip_passes_over_a_whole_value)
{
    CHECK_EQ(parse(members), 0);
    CHECK_EQ(json_skip(&doc, 0), doc.count);
    CHECK_EQ(json_skip(&doc, 2), 3);                        /* 1 */
    CHECK_EQ(json_skip(&doc, 4), 11);                       /* [2,[3,{"d":4}]] */
    CHECK_EQ(doc.tok[11].type, JSMN_STRING);
    CHECK_EQ(json_skip(&doc, 3), 4);                        /* a key: its value is next */
    CHECK_EQ(json_skip(&doc, doc.count - 1), doc.count);
    CHECK_EQ(json_skip(&doc, -1), -1);
    CHECK_EQ(json_skip(&doc, doc.count), -1);
}

MG_TEST(test_json_kind_tells_each_kind_and_reads_a_missing_member_as_null)
{
    CHECK_EQ(parse("[{},[],\"\",-1,0.5,true,false,null]"), 0);
    CHECK_EQ(json_kind(&doc, 0), JSON_ARRAY);
    CHECK_EQ(json_kind(&doc, 1), JSON_OBJECT);
    CHECK_EQ(json_kind(&doc, 2), JSON_ARRAY);
    CHECK_EQ(json_kind(&doc, 3), JSON_STRING);
    CHECK_EQ(json_kind(&doc, 4), JSON_NUMBER);
    CHECK_EQ(json_kind(&doc, 5), JSON_NUMBER);
    CHECK_EQ(json_kind(&doc, 6), JSON_TRUE);
    CHECK_EQ(json_kind(&doc, 7), JSON_FALSE);
    CHECK_EQ(json_kind(&doc, 8), JSON_NULL);
    CHECK_EQ(json_kind(&doc, -1), JSON_NULL);
    CHECK_EQ(json_kind(&doc, 9), JSON_NULL);
}

MG_TEST(test_json_str_unescapes_every_escape_into_utf8)
{
    static const char want[] = "\" \\ / \b \f \n \r \t A \xc3\xa9 \xe2\x82\xac "
                               "\xf0\x9f\x98\x80 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \x7f";
    char buf[64];

    CHECK_EQ(parse("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0041 \\u00E9 \\u20ac "
                   "\\uD83D\\uDE00 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \\u007f\""), 0);
    CHECK_EQ(json_str(&doc, 0, buf, sizeof(buf)), (int)strlen(want));
    CHECK(strcmp(buf, want) == 0);
    CHECK(json_str_eq(&doc, 0, want));
}

MG_TEST(test_json_str_refuses_nul_and_lone_surrogates)
{
    static const char *const texts[] = { "\"\\u0000\"", "\"a\\u0000b\"", "\"\\ud800\"",
                                         "\"\\udc00\"", "\"x\\ud83dy\"", "\"\\ud800\\u0041\"",
                                         "\"\\ude00\\ud83d\"", "\"\\ud83d\\ud83d\"" };
    char buf[16];
    size_t k;

    for (k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
        CHECK_EQ(parse(texts[k]), 0);
        memset(buf, 'x', sizeof(buf));
        CHECK_EQ(json_str(&doc, 0, buf, sizeof(buf)), MG_ERR_INVAL);
        CHECK_EQ(buf[0], '\0');
        CHECK(!json_str_eq(&doc, 0, "a"));
    }
    CHECK_EQ(parse("[1]"), 0);
    CHECK_EQ(json_str(&doc, 0, buf, sizeof(buf)), MG_ERR_INVAL);
    CHECK_EQ(json_str(&doc, 1, buf, sizeof(buf)), MG_ERR_INVAL);
    CHECK_EQ(json_str(&doc, -1, buf, sizeof(buf)), MG_ERR_INVAL);
}

MG_TEST(test_json_str_is_toobig_when_the_nul_does_not_fit)
{
    char buf[8];

    CHECK_EQ(parse("\"abc\""), 0);
    CHECK_EQ(json_str(&doc, 0, buf, 4), 3);
    memset(buf, 'x', sizeof(buf));
    CHECK_EQ(json_str(&doc, 0, buf, 3), MG_ERR_TOOBIG);
    CHECK_EQ(buf[0], '\0');
    CHECK_EQ(json_str(&doc, 0, NULL, 0), MG_ERR_TOOBIG);
    CHECK_EQ(parse("\"\xe2\x82\xac\""), 0);     /* a code point is not cut */
    CHECK_EQ(json_str(&doc, 0, buf, 3), MG_ERR_TOOBIG);
    CHECK_EQ(json_str(&doc, 0, buf, 4), 3);
    CHECK_EQ(parse("\"\""), 0);
    CHECK_EQ(json_str(&doc, 0, buf, 1), 0);
    CHECK_EQ(json_str(&doc, 0, NULL, 0), MG_ERR_TOOBIG);
    /* a refusal further on wins over the lack of room */
    CHECK_EQ(parse("\"abcdefgh\\u0000\""), 0);
    CHECK_EQ(json_str(&doc, 0, buf, 2), MG_ERR_INVAL);
}

MG_TEST(test_json_str_eq_compares_after_unescaping)
{
    CHECK_EQ(parse("[\"a\\/b\",\"\\u00e9\",\"\\ud83d\\ude00\",\"\",\"ab\",1]"), 0);
    CHECK(json_str_eq(&doc, 1, "a/b"));
    CHECK(!json_str_eq(&doc, 1, "a\\/b"));
    CHECK(json_str_eq(&doc, 2, "\xc3\xa9"));
    CHECK(json_str_eq(&doc, 3, "\xf0\x9f\x98\x80"));
    CHECK(json_str_eq(&doc, 4, ""));
    CHECK(!json_str_eq(&doc, 4, "a"));
    CHECK(!json_str_eq(&doc, 5, "a"));
    CHECK(!json_str_eq(&doc, 5, "abc"));
    CHECK(!json_str_eq(&doc, 6, "1"));
    CHECK(!json_str_eq(&doc, -1, ""));
}

MG_TEST(test_json_int_reads_the_whole_int64_range)
{
    int64_t v = 0;

    CHECK_EQ(parse("[0,-0,42,-42,9223372036854775807,-9223372036854775808]"), 0);
    CHECK_EQ(json_int(&doc, 1, &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(json_int(&doc, 2, &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(json_int(&doc, 3, &v), 0);
    CHECK_EQ(v, 42);
    CHECK_EQ(json_int(&doc, 4, &v), 0);
    CHECK_EQ(v, -42);
    CHECK_EQ(json_int(&doc, 5, &v), 0);
    CHECK(v == INT64_MAX);
    CHECK_EQ(json_int(&doc, 6, &v), 0);
    CHECK(v == INT64_MIN);
}

MG_TEST(test_json_int_refuses_fractions_exponents_overflow_and_non_numbers)
{
    int64_t v = 7;
    int k;

    CHECK_EQ(parse("[9223372036854775808,-9223372036854775809,99999999999999999999,"
                   "1.5,1e3,1E3,-1.0,0e0,\"1\",true,null,[1]]"), 0);
    for (k = 1; k < doc.count; k = json_skip(&doc, k))
        CHECK_EQ(json_int(&doc, k, &v), MG_ERR_INVAL);
    CHECK_EQ(json_int(&doc, 0, &v), MG_ERR_INVAL);
    CHECK_EQ(json_int(&doc, -1, &v), MG_ERR_INVAL);
    CHECK_EQ(v, 7);
}

MG_TEST(test_json_bool_reads_true_and_false_only)
{
    int v = 7;

    CHECK_EQ(parse("[true,false,null,0,1,\"true\"]"), 0);
    CHECK_EQ(json_bool(&doc, 1, &v), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(json_bool(&doc, 2, &v), 0);
    CHECK_EQ(v, 0);
    v = 7;
    CHECK_EQ(json_bool(&doc, 3, &v), MG_ERR_INVAL);
    CHECK_EQ(json_bool(&doc, 4, &v), MG_ERR_INVAL);
    CHECK_EQ(json_bool(&doc, 5, &v), MG_ERR_INVAL);
    CHECK_EQ(json_bool(&doc, 6, &v), MG_ERR_INVAL);
    CHECK_EQ(json_bool(&doc, 0, &v), MG_ERR_INVAL);
    CHECK_EQ(json_bool(&doc, -1, &v), MG_ERR_INVAL);
    CHECK_EQ(v, 7);
}

MG_TEST(test_a_refused_text_leaves_a_document_every_reader_finds_empty)
{
    char buf[4];
    int64_t n;

    CHECK_EQ(parse("{\"a\":1,\"a\":2}"), MG_ERR_INVAL);
    CHECK_EQ(json_get(&doc, 0, "a"), -1);
    CHECK_EQ(json_first(&doc, 0), -1);
    CHECK_EQ(json_skip(&doc, 0), -1);
    CHECK_EQ(json_str(&doc, 0, buf, sizeof(buf)), MG_ERR_INVAL);
    CHECK_EQ(json_int(&doc, 0, &n), MG_ERR_INVAL);
    CHECK_EQ(json_canon(&doc, 0, NULL, sink_emit, &out), MG_ERR_INVAL);
}

/* --- the canonical form --------------------------------------------------- */

MG_TEST(test_canon_sorts_keys_at_every_level_and_drops_whitespace)
{
    CHECK_CANON("{ \"b\" : [ 1 , { \"z\" : null , \"y\" : true } ] , \"a\" : { \"d\" : false ,"
                " \"c\" : \"x\" } }",
                NULL, "{\"a\":{\"c\":\"x\",\"d\":false},\"b\":[1,{\"y\":true,\"z\":null}]}");
}

MG_TEST(test_canon_escapes_strings_as_python_does)
{
    CHECK_CANON("\"q\\\" b\\\\ s\\/ /\\b\\f\\n\\r\\t \\u0001\\u001F\\u007f\x7f~\"", NULL,
                "\"q\\\" b\\\\ s/ /\\b\\f\\n\\r\\t \\u0001\\u001f\\u007f\\u007f~\"");
}

MG_TEST(test_canon_writes_every_non_ascii_code_point_as_a_lowercase_escape)
{
    CHECK_CANON("{\"s\":\"\xc3\xa9\\u00E9 \xe2\x82\xac\\u20AC \xf0\x9f\x98\x80\\uD83D\\uDE00 "
                "\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf4\x8f\xbf\xbf\"}",
                NULL,
                "{\"s\":\"\\u00e9\\u00e9 \\u20ac\\u20ac \\ud83d\\ude00\\ud83d\\ude00 "
                "\\u07ff\\u0800\\uffff\\udbff\\udfff\"}");
}

MG_TEST(test_canon_sorts_keys_by_code_point_not_by_their_escaped_text)
{
    /* "\u00e9" would come before "z" as text; U+1F600 after U+FFFF, though
     * its UTF-16 form \ud83d sorts before \uffff */
    CHECK_CANON("{\"z\":1,\"\\u00e9\":2,\"a\":3,\"\\u0041\":4,\"ab\":5,\"\\uffff\":6,"
                "\"\\ud83d\\ude00\":7,\"\xee\x80\x80\":8,\"~\":9,\"\\u007f\":10,\"\":11}",
                NULL,
                "{\"\":11,\"A\":4,\"a\":3,\"ab\":5,\"z\":1,\"~\":9,\"\\u007f\":10,\"\\u00e9\":2,"
                "\"\\ue000\":8,\"\\uffff\":6,\"\\ud83d\\ude00\":7}");
}

MG_TEST(test_canon_keeps_lone_surrogates_and_sorts_them_as_their_code_points)
{
    CHECK_CANON("{\"\\ud800\":1,\"\\udbff\\udfff\":2,\"\\ue000\":3,\"\\udc00x\":4,"
                "\"\\ud83d\\ud83d\\ude00\":5,\"\\ud7ff\":6}",
                NULL,
                "{\"\\ud7ff\":6,\"\\ud800\":1,\"\\ud83d\\ud83d\\ude00\":5,\"\\udc00x\":4,"
                "\"\\ue000\":3,\"\\udbff\\udfff\":2}");
}

MG_TEST(test_canon_keeps_numbers_as_written)
{
    /* Python would print 1.0, 100.0, 0 and 1e-07 */
    CHECK_CANON("[1.0, 1E+2, -0, 0.0000001, 12345678901234567890]", NULL,
                "[1.0,1E+2,-0,0.0000001,12345678901234567890]");
}

MG_TEST(test_canon_writes_empty_containers)
{
    CHECK_CANON("{\"b\":[],\"a\":{},\"c\":[[],{}]}", NULL, "{\"a\":{},\"b\":[],\"c\":[[],{}]}");
    CHECK_CANON(" { } ", NULL, "{}");
    CHECK_CANON("[ ]", NULL, "[]");
}

MG_TEST(test_canon_writes_a_top_level_scalar)
{
    CHECK_CANON("  \"x\\u00e9\"  ", NULL, "\"x\\u00e9\"");
    CHECK_CANON(" true", NULL, "true");
    CHECK_CANON("null ", NULL, "null");
    CHECK_CANON("-12.5e3", NULL, "-12.5e3");
}

MG_TEST(test_canon_of_a_member_writes_only_that_value)
{
    CHECK_EQ(parse("{\"x\":{\"b\":1,\"a\":[true]},\"y\":2}"), 0);
    memset(&out, 0, sizeof(out));
    CHECK_EQ(json_canon(&doc, json_get(&doc, 0, "x"), NULL, sink_emit, &out), 0);
    CHECK(strcmp(out.buf, "{\"a\":[true],\"b\":1}") == 0);
    CHECK_EQ(json_canon(&doc, -1, NULL, sink_emit, &out), MG_ERR_INVAL);
}

MG_TEST(test_canon_skips_listed_keys_of_the_top_level_object_only)
{
    static const char *const skip[] = { "timestamp_ms", "hmac_rotation", NULL };

    /* the nested ones stay; a skipped key written with an escape goes too */
    CHECK_CANON("{\"hmac_rotation\":{\"x\":1},\"identity\":{\"timestamp_ms\":2,"
                "\"hmac_rotation\":[3]},\"\\u0074imestamp_ms\":4,\"version\":1}",
                skip, "{\"identity\":{\"hmac_rotation\":[3],\"timestamp_ms\":2},\"version\":1}");
    CHECK_CANON("[{\"timestamp_ms\":1}]", skip, "[{\"timestamp_ms\":1}]");
    CHECK_CANON("{\"timestamp_ms\":1}", skip, "{}");
}

MG_TEST(test_canon_of_the_protocol_vector_hashes_to_its_config_hash)
{
    static const char *const skip[] = { "hmac_rotation", "timestamp_ms", NULL };
    static const char want[] = "ee130564602f499105e698a8da43b4c6a1574af6c702dead9267ad3ad7a33ed7";
    uint8_t digest[MG_SHA256_LEN];
    char hex[2 * MG_SHA256_LEN + 1];

    CHECK_CANON("{\"identity\":{\"allowed_senders\":[\"+15550001111\"],\"bot_name\":\"Joi\","
                "\"groups\":{}}}",
                skip,
                "{\"identity\":{\"allowed_senders\":[\"+15550001111\"],\"bot_name\":\"Joi\","
                "\"groups\":{}}}");
    mg_sha256(out.buf, out.n, digest);
    hex_encode(digest, sizeof(digest), hex);
    CHECK(strcmp(hex, want) == 0);

    /* the same body reordered, spaced, with the keys the hash leaves out */
    CHECK_CANON("{\"timestamp_ms\":1700000000000, \"identity\":{\"groups\":{},\"bot_name\":"
                "\"Joi\",\"allowed_senders\":[\"+15550001111\"]},\"hmac_rotation\":"
                "{\"new_secret\":\"00ff\",\"grace_period_ms\":60000}}",
                skip,
                "{\"identity\":{\"allowed_senders\":[\"+15550001111\"],\"bot_name\":\"Joi\","
                "\"groups\":{}}}");
    mg_sha256(out.buf, out.n, digest);
    hex_encode(digest, sizeof(digest), hex);
    CHECK(strcmp(hex, want) == 0);
}

MG_TEST(test_canon_sorts_an_object_of_max_members)
{
    static const char head[] = "{\"a\":0,\"k000\":0,\"k001\":0,";
    static const char tail[] = ",\"k253\":0,\"k254\":0}";

    many_members(JSON_MAX_MEMBERS, "a");   /* k000..k254, then a */
    CHECK_EQ(canon(text, NULL), 0);
    CHECK_EQ(out.n, strlen(text));
    CHECK_MEM(out.buf, head, strlen(head));
    CHECK_MEM(out.buf + out.n - strlen(tail), tail, strlen(tail));
}

MG_TEST(test_canon_refuses_an_object_over_max_members_and_emits_nothing)
{
    size_t len;

    many_members(JSON_MAX_MEMBERS + 1, NULL);
    CHECK_EQ(canon(text, NULL), MG_ERR_NOSPC);
    CHECK_EQ(out.calls, 0);
    /* deep inside an array too */
    len = strlen(text);
    memmove(text + 7, text, len + 1);
    memcpy(text, "[1,2,[", 6);
    text[6] = ' ';
    memcpy(text + 7 + len, "]]", 3);
    CHECK_EQ(canon(text, NULL), MG_ERR_NOSPC);
    CHECK_EQ(out.calls, 0);
}

MG_TEST(test_canon_output_parses_again_and_is_its_own_canon)
{
    static char first[sizeof(out.buf)];
    static const char *const texts[] = {
        "{\"\\ud800\":[\"\\u0000\\u001f\\\"\",{\"\":{}}],\"\xf0\x9f\x98\x80\":\"\\t\",\"a\":-0.5e-1}",
        "[\"\\ud83d\\ud83d\\ude00\\ude00\", \"/\\/\", {\"z\":[], \"y\":[[[]]]}]",
    };
    size_t k;

    for (k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
        CHECK_EQ(canon(texts[k], NULL), 0);
        memcpy(first, out.buf, out.n + 1);
        CHECK_EQ(canon(first, NULL), 0);
        CHECK(strcmp(first, out.buf) == 0);
    }
}

/* Found by fuzz_config: a text that ends inside a string exactly where the
 * eight-byte fast path stops was read one byte past its end. The text is a
 * global without a NUL after it, so ASan sees that byte. */
static const char unterminated_on_a_step[10] = { '{', '"', 'v', 'e', 'r', 's', 'i', 'o', 'n', '1' };

MG_TEST(test_a_string_cut_at_an_eight_byte_step_is_refused_without_reading_past_the_text)
{
    CHECK_EQ(json_parse(&doc, unterminated_on_a_step, sizeof(unterminated_on_a_step), tok,
                        TOK_MAX),
             MG_ERR_INVAL);
}
