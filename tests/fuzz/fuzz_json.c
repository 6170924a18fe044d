/* libFuzzer target for strict JSON (firmware/json/json.c): arbitrary bytes
 * as a request body, checked against the contract in json.h.
 *
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *       -Ihal -Ifirmware -Ibuild/src/jsmn -DJSMN_STRICT -DJSMN_PARENT_LINKS \
 *       tests/fuzz/fuzz_json.c firmware/json/json.c hal/hex.c -o fuzz_json
 *   mkdir -p scratch && ./fuzz_json -max_total_time=60 scratch tests/fuzz/corpus/json/
 *
 * jsmn is one header (build/src/jsmn/jsmn.h, unpacked by tools/deps): built
 * that way, without JSMN_HEADER, json.c compiles its implementation and this
 * file only its declarations. A build that passes -DJSMN_HEADER everywhere
 * needs one more translation unit, `#include "jsmn.h"` alone, without it.
 *
 * What is checked: the answer does not depend on the token array beyond
 * MG_ERR_NOSPC; the tokens tile the text in order; the readers agree with
 * each other; json_canon writes printable ASCII that parses again to the
 * same shape and is its own canonical form. The input is libFuzzer's own
 * buffer of exactly size bytes, so a read past len is an ASan report.
 *
 * libFuzzer adds the inputs it finds to the first directory, so never name the
 * checked-in one first. */
#ifndef JSMN_HEADER
#define JSMN_HEADER
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "json/json.h"
#include "mg_err.h"

#define FUZZ_CAP   16384
#define SMALL_TOK  16
/* Every token starts at its own byte, so a text never needs more. */
#define BIG_TOK    (FUZZ_CAP + 1)
/* A raw DEL becomes \u007f: six bytes out for one in at most. */
#define CANON_CAP  (6 * FUZZ_CAP + 16)

#define MUST(cond)                                                             \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

static jsmntok_t small_tok[SMALL_TOK], tok[BIG_TOK], tok2[BIG_TOK];
static char str_buf[FUZZ_CAP + 1];

struct sink {
    char buf[CANON_CAP];
    size_t n;
    unsigned calls;
};

static struct sink canon1, canon2;

static void sink_emit(void *ctx, const char *p, size_t n)
{
    struct sink *s = ctx;

    MUST(n > 0);
    MUST(n <= sizeof(s->buf) - s->n);
    memcpy(s->buf + s->n, p, n);
    s->n += n;
    s->calls++;
}

static int canon_into(const struct json_doc *d, const char *const *skip, struct sink *s)
{
    s->n = 0;
    s->calls = 0;
    return json_canon(d, 0, skip, sink_emit, s);
}

/* The decimal text of v, as the number grammar writes it. */
static size_t int_text(int64_t v, char out[24])
{
    char rev[24];
    uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    size_t n = 0, k = 0;

    do {
        rev[n++] = (char)('0' + m % 10);
        m /= 10;
    } while (m > 0);
    if (v < 0)
        out[k++] = '-';
    while (n > 0)
        out[k++] = rev[--n];
    return k;
}

static void check_tokens(const struct json_doc *d, const uint8_t *data, size_t size)
{
    int i;

    MUST(d->count >= 1);
    MUST(json_skip(d, 0) == d->count);
    for (i = 0; i < d->count; i++) {
        const jsmntok_t *t = &d->tok[i];
        MUST(t->start >= 0 && t->start <= t->end && (size_t)t->end <= size);
        MUST(i == 0 || t->start > d->tok[i - 1].start);
        if (t->type == JSMN_STRING)
            MUST(t->start >= 1 && data[t->start - 1] == '"' && (size_t)t->end < size &&
                 data[t->end] == '"');
        else
            MUST(t->end > t->start);
    }
}

static void check_string(const struct json_doc *d, int i)
{
    size_t raw = (size_t)(d->tok[i].end - d->tok[i].start);
    int n = json_str(d, i, str_buf, raw + 1);   /* unescaping never grows */

    MUST(n >= 0 || n == MG_ERR_INVAL);
    if (n < 0) {
        MUST(str_buf[0] == '\0');
        return;
    }
    MUST(strlen(str_buf) == (size_t)n);
    MUST(json_str_eq(d, i, str_buf));
    MUST(json_str(d, i, str_buf, (size_t)n) == MG_ERR_TOOBIG);
    MUST(json_str(d, i, str_buf, raw + 1) == n);
}

static void check_container(const struct json_doc *d, int c)
{
    int k, n = 0, last = c;

    for (k = json_first(d, c); k >= 0; k = json_next(d, c, k)) {
        MUST(k > last && k < json_skip(d, c));
        last = k;
        n++;
        if (d->tok[c].type != JSMN_OBJECT)
            continue;
        MUST(d->tok[k].type == JSMN_STRING && d->tok[k].size == 1);
        MUST(json_skip(d, k) == k + 1);
        check_string(d, k);
        if (json_str(d, k, str_buf, sizeof(str_buf)) >= 0)
            MUST(json_get(d, c, str_buf) == k + 1);   /* keys are unique */
    }
    MUST(n == json_size(d, c));
}

static void check_scalar(const struct json_doc *d, int i, const uint8_t *data)
{
    enum json_kind kind = json_kind(d, i);
    const char *p = (const char *)data + d->tok[i].start;
    size_t len = (size_t)(d->tok[i].end - d->tok[i].start);
    char text[24];
    size_t n;
    int64_t v;
    int b;

    if (kind == JSON_TRUE || kind == JSON_FALSE) {
        MUST(json_bool(d, i, &b) == 0 && b == (kind == JSON_TRUE));
        MUST(len == (b ? 4u : 5u));
    } else {
        MUST(json_bool(d, i, &b) == MG_ERR_INVAL);
    }
    if (kind == JSON_NULL)
        MUST(len == 4 && memcmp(p, "null", 4) == 0);
    if (json_int(d, i, &v) == 0) {
        MUST(kind == JSON_NUMBER);
        n = int_text(v, text);
        MUST((n == len && memcmp(text, p, n) == 0) ||
             (v == 0 && len == 2 && memcmp(p, "-0", 2) == 0));
    }
}

static void check_canon(const struct json_doc *d, size_t size)
{
    static const char *const skip[] = { "a", "", "\xc3\xa9", NULL };
    struct json_doc again;
    size_t k;
    int rc = canon_into(d, NULL, &canon1), i, big = 0, kinds[8] = { 0 };

    for (i = 0; i < d->count; i++)
        if (d->tok[i].type == JSMN_OBJECT && d->tok[i].size > JSON_MAX_MEMBERS)
            big = 1;
    if (big) {
        MUST(rc == MG_ERR_NOSPC && canon1.calls == 0);
        return;
    }
    MUST(rc == 0);
    MUST(canon1.n <= 6 * size);
    for (k = 0; k < canon1.n; k++)
        MUST(canon1.buf[k] >= 0x20 && canon1.buf[k] < 0x7F);
    MUST(json_parse(&again, canon1.buf, canon1.n, tok2, BIG_TOK) == 0);
    /* Members move, so the shape is compared by what it holds. */
    MUST(again.count == d->count);
    for (i = 0; i < d->count; i++) {
        kinds[d->tok[i].type & 7]++;
        kinds[tok2[i].type & 7]--;
    }
    for (k = 0; k < 8; k++)
        MUST(kinds[k] == 0);
    MUST(canon_into(&again, NULL, &canon2) == 0);
    MUST(canon2.n == canon1.n && memcmp(canon2.buf, canon1.buf, canon1.n) == 0);

    /* Leaving members out keeps it canonical, and they are gone. */
    MUST(canon_into(d, skip, &canon1) == 0);
    MUST(json_parse(&again, canon1.buf, canon1.n, tok2, BIG_TOK) == 0);
    if (again.tok[0].type == JSMN_OBJECT)
        for (k = 0; skip[k] != NULL; k++)
            MUST(json_get(&again, 0, skip[k]) == -1);
    MUST(canon_into(&again, NULL, &canon2) == 0);
    MUST(canon2.n == canon1.n && memcmp(canon2.buf, canon1.buf, canon1.n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct json_doc d, small;
    const char *text = (const char *)data;
    int rc, rc_small, i;

    if (size > FUZZ_CAP)
        return 0;
    rc = json_parse(&d, text, size, tok, BIG_TOK);
    MUST(rc == 0 || rc == MG_ERR_INVAL);
    MUST(d.text == text && d.len == size && d.tok == tok);

    /* Fewer tokens change the answer only to MG_ERR_NOSPC (also for a
     * repeated key, which is looked for only once the tokens fit). */
    rc_small = json_parse(&small, text, size, small_tok, SMALL_TOK);
    if (rc != 0) {
        MUST(d.count == 0 && small.count == 0);
        MUST(rc_small == MG_ERR_INVAL || rc_small == MG_ERR_NOSPC);
        return 0;
    }
    if (d.count > SMALL_TOK) {
        MUST(rc_small == MG_ERR_NOSPC && small.count == 0);
    } else {
        MUST(rc_small == 0 && small.count == d.count);
        MUST(memcmp(small_tok, tok, (size_t)d.count * sizeof(tok[0])) == 0);
    }

    check_tokens(&d, data, size);
    for (i = 0; i < d.count; i++) {
        if (d.tok[i].type == JSMN_OBJECT || d.tok[i].type == JSMN_ARRAY)
            check_container(&d, i);
        else if (d.tok[i].type == JSMN_STRING)
            check_string(&d, i);
        else
            check_scalar(&d, i, data);
    }
    check_canon(&d, size);
    return 0;
}
