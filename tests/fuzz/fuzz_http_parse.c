/* libFuzzer target for the HTTP request-head parser: arbitrary bytes as a
 * connection's buffer, checked against the contract in http_parse.h.
 *
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -Ihal -Ifirmware/net \
 *       tests/fuzz/fuzz_http_parse.c firmware/net/http_parse.c hal/hex.c hal/mg_err.c -o fuzz_http
 *   mkdir -p scratch && ./fuzz_http -max_total_time=20 scratch tests/fuzz/corpus/http_parse/
 *
 * libFuzzer adds the inputs it finds to the first directory, so never name the
 * checked-in one first. `make fuzz` and `make fuzz-smoke` build and run it
 * (tests/fuzz/fuzz.mk).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http_parse.h"
#include "mg_err.h"

#define FUZZ_CAP      4096
#define FUZZ_BODY_MAX 65536

#define MUST(cond)                                                             \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

/* The input sits at the very end of this array, so a read past len lands in
 * ASan's redzone instead of in spare buffer bytes. */
static char area[FUZZ_CAP];
static struct http_request req, again;

static int inside(struct http_str s, const char *buf, size_t head_len)
{
    return s.p >= buf && s.p <= buf + head_len && s.len <= (size_t)(buf + head_len - s.p);
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static void check_query(const struct http_str *query, const char *name)
{
    char out[64];
    int n = http_query_param(query, name, out, sizeof(out));

    if (n >= 0) {
        MUST((size_t)n < sizeof(out));
        MUST(out[n] == '\0');
        MUST(strlen(out) == (size_t)n);
    } else {
        MUST(n == MG_ERR_NOENT || n == MG_ERR_INVAL || n == MG_ERR_TOOBIG);
    }
}

static void check_success(const char *buf, size_t len, size_t max_head, size_t max_body, int rc)
{
    size_t i, h = (size_t)rc;
    int status = -1;
    char name[64];

    MUST(req.head_len == h && h <= len && h <= max_head);
    MUST(h >= 4 && memcmp(buf + h - 4, "\r\n\r\n", 4) == 0);
    MUST(inside(req.method_str, buf, h) && req.method_str.len > 0);
    MUST(inside(req.target, buf, h) && req.target.len > 0 && req.target.p[0] == '/');
    MUST(req.target.len <= HTTP_MAX_TARGET);
    MUST(inside(req.path, buf, h) && req.path.p == req.target.p);
    MUST(inside(req.query, buf, h) && req.path.len <= req.target.len);
    MUST(req.query.len == 0 || req.query.p == req.target.p + req.path.len + 1);
    MUST(req.minor == 0 || req.minor == 1);
    MUST(req.n_headers <= HTTP_MAX_HEADERS);
    MUST(!req.has_body_length || req.content_length <= max_body);
    MUST(req.has_body_length || req.content_length == 0);
    MUST(!req.websocket_upgrade || (req.method == HTTP_GET && req.minor == 1));
    for (i = 0; i < req.n_headers; i++) {
        const struct http_header *hd = &req.headers[i];

        MUST(inside(hd->name, buf, h) && hd->name.len > 0);
        MUST(inside(hd->value, buf, h));
        MUST(memchr(hd->name.p, ':', hd->name.len) == NULL);
        MUST(memchr(hd->value.p, '\r', hd->value.len) == NULL);
        MUST(memchr(hd->value.p, '\n', hd->value.len) == NULL);
        MUST(hd->value.len == 0 ||
             (!is_ows(hd->value.p[0]) && !is_ows(hd->value.p[hd->value.len - 1])));
        if (hd->name.len < sizeof(name)) {
            const struct http_str *v;

            memcpy(name, hd->name.p, hd->name.len);
            name[hd->name.len] = '\0';
            v = http_header_get(&req, name);
            MUST(v && v >= &req.headers[0].value && v <= &hd->value);
        }
    }
    if (req.minor == 1)
        MUST(http_header_get(&req, "host") != NULL);

    check_query(&req.query, "client_id");
    check_query(&req.query, "a");

    /* The head alone gives the same answer; one byte less asks for more. */
    MUST(http_parse_request(buf, h, max_head, max_body, &again, &status) == rc);
    MUST(status == 0 && again.content_length == req.content_length);
    MUST(http_parse_request(buf, h - 1, max_head, max_body, &again, &status) == MG_ERR_AGAIN);
}

static void run(const char *buf, size_t len, size_t max_head, size_t max_body)
{
    int status = -1;
    int rc = http_parse_request(buf, len, max_head, max_body, &req, &status);

    if (rc > 0) {
        MUST(status == 0);
        check_success(buf, len, max_head, max_body, rc);
        return;
    }
    if (rc == MG_ERR_AGAIN) {
        MUST(status == 0 && len < max_head);
        return;
    }
    switch (status) {
    case 400: MUST(rc == MG_ERR_INVAL); break;
    case 413: case 414: case 431: MUST(rc == MG_ERR_TOOBIG); break;
    case 411: case 505: MUST(rc == MG_ERR_PERM); break;
    default: __builtin_trap();
    }
    MUST(strcmp(http_status_text(status), "Unknown") != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = size < FUZZ_CAP ? size : FUZZ_CAP;
    char *buf = area + FUZZ_CAP - n;
    struct http_str raw;

    if (n)
        memcpy(buf, data, n);
    run(buf, n, FUZZ_CAP, FUZZ_BODY_MAX);
    /* Tight limits reach the 431/414/413 paths with short inputs. */
    run(buf, n, n / 2 + 1, 16);

    raw.p = buf;
    raw.len = n;
    check_query(&raw, "a");
    check_query(&raw, "GET /?a");
    return 0;
}
