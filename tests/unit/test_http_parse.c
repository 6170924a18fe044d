/* HTTP/1.1 request heads as the server's connections see them: whole, in
 * pieces, oversized and malformed (RFC 9112 sections 2, 3 and 5). */
#include <string.h>

#include "mg_err.h"
#include "net/http_parse.h"
#include "test.h"

#define HEAD_MAX 4096
#define BODY_MAX 65536

static const char valid_request[] =
    "POST /v1/messages?to=bob%20b&ack=1 HTTP/1.1\r\n"
    "Host: 10.42.0.2:8080\r\n"
    "Content-Type: application/json\r\n"
    "X-Mesh-Id:\talice \r\n"
    "Content-Length: 5\r\n"
    "\r\n";

static struct http_request req;

static int parse(const char *text, int *status)
{
    return http_parse_request(text, strlen(text), HEAD_MAX, BODY_MAX, &req, status);
}

static int str_is(struct http_str s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

MG_TEST(test_get_with_query_parses_path_and_query)
{
    static const char text[] = "GET /nodes?status=active HTTP/1.1\r\nHost: mesh\r\n\r\n";
    int status = -1;

    CHECK_EQ(parse(text, &status), (int)strlen(text));
    CHECK_EQ(status, 0);
    CHECK_EQ(req.method, HTTP_GET);
    CHECK(str_is(req.method_str, "GET"));
    CHECK(str_is(req.target, "/nodes?status=active"));
    CHECK(str_is(req.path, "/nodes"));
    CHECK(str_is(req.query, "status=active"));
    CHECK_EQ(req.minor, 1);
    CHECK_EQ(req.head_len, strlen(text));
}

MG_TEST(test_target_without_query_has_an_empty_query)
{
    int status;

    CHECK(parse("GET /health HTTP/1.1\r\nHost: a\r\n\r\n", &status) > 0);
    CHECK(str_is(req.path, "/health"));
    CHECK_EQ(req.query.len, 0);
}

MG_TEST(test_every_prefix_of_a_valid_request_asks_for_more)
{
    size_t n, total = strlen(valid_request);
    int status;

    for (n = 0; n < total; n++) {
        status = -1;
        CHECK_EQ(http_parse_request(valid_request, n, HEAD_MAX, BODY_MAX, &req, &status),
                 MG_ERR_AGAIN);
        CHECK_EQ(status, 0);
    }
    CHECK_EQ(http_parse_request(valid_request, total, HEAD_MAX, BODY_MAX, &req, &status),
             (int)total);
}

MG_TEST(test_bytes_after_the_head_are_left_for_the_body)
{
    char buf[sizeof(valid_request) + 5];
    size_t head = strlen(valid_request);
    int status;

    memcpy(buf, valid_request, head);
    memcpy(buf + head, "hello", 5);
    CHECK_EQ(http_parse_request(buf, head + 5, HEAD_MAX, BODY_MAX, &req, &status), (int)head);
    CHECK_EQ(req.method, HTTP_POST);
    CHECK(req.has_body_length);
    CHECK_EQ(req.content_length, 5);
}

MG_TEST(test_buffer_without_nul_is_read_only_up_to_len)
{
    static const char text[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    char buf[sizeof(text) - 1];
    int status;

    memcpy(buf, text, sizeof(buf));
    CHECK_EQ(http_parse_request(buf, sizeof(buf), HEAD_MAX, BODY_MAX, &req, &status),
             (int)sizeof(buf));
    CHECK_EQ(http_parse_request(buf, sizeof(buf) - 1, HEAD_MAX, BODY_MAX, &req, &status),
             MG_ERR_AGAIN);
}

MG_TEST(test_pipelined_second_request_is_not_part_of_the_head)
{
    static const char text[] = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\n";
    int status;

    CHECK_EQ(parse(text, &status), (int)strlen("GET /a HTTP/1.1\r\nHost: a\r\n\r\n"));
    CHECK(str_is(req.path, "/a"));
    CHECK(!req.has_body_length);
    CHECK_EQ(req.content_length, 0);
}

MG_TEST(test_empty_lines_before_the_request_line_are_skipped)
{
    static const char text[] = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    int status;

    CHECK_EQ(parse(text, &status), (int)strlen(text));
    CHECK(str_is(req.method_str, "GET"));
}

MG_TEST(test_bare_lf_is_refused_with_400)
{
    int status;

    CHECK_EQ(parse("GET / HTTP/1.1\nHost: a\n\n", &status), MG_ERR_INVAL);
    CHECK_EQ(status, 400);
    CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\n\r\n", &status), MG_ERR_INVAL);
    CHECK_EQ(status, 400);
    CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\n\n", &status), MG_ERR_INVAL);
    CHECK_EQ(status, 400);
}

MG_TEST(test_bare_cr_is_refused_with_400)
{
    int status;

    CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\rX-A: b\r\n\r\n", &status), MG_ERR_INVAL);
    CHECK_EQ(status, 400);
}

MG_TEST(test_oversize_head_is_431)
{
    static const char text[] = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: aaaaaaaaaaaaaaaa\r\n\r\n";
    int status;

    CHECK_EQ(http_parse_request(text, strlen(text), 30, BODY_MAX, &req, &status), MG_ERR_TOOBIG);
    CHECK_EQ(status, 431);
    CHECK_EQ(http_parse_request(text, 30, 30, BODY_MAX, &req, &status), MG_ERR_TOOBIG);
    CHECK_EQ(status, 431);
}

MG_TEST(test_head_exactly_max_head_long_is_accepted)
{
    static const char text[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\nbody";
    size_t head = strlen(text) - 4;
    int status;

    CHECK_EQ(http_parse_request(text, strlen(text), head, BODY_MAX, &req, &status), (int)head);
}

MG_TEST(test_target_longer_than_the_limit_is_414)
{
    static char text[HTTP_MAX_TARGET + 64];
    size_t n;
    int status;

    memcpy(text, "GET /", 5);
    for (n = 5; n < sizeof(text) - 1; n++)
        text[n] = 'a';
    text[n] = '\0';
    CHECK_EQ(http_parse_request(text, strlen(text), sizeof(text) * 2, BODY_MAX, &req, &status),
             MG_ERR_TOOBIG);
    CHECK_EQ(status, 414);
}

MG_TEST(test_target_cut_off_by_max_head_is_414)
{
    static const char text[] = "GET /aaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n";
    int status;

    CHECK_EQ(http_parse_request(text, strlen(text), 16, BODY_MAX, &req, &status), MG_ERR_TOOBIG);
    CHECK_EQ(status, 414);
}

MG_TEST(test_too_many_headers_is_431)
{
    static char text[2048];
    size_t n = 0;
    int i, status;

    n += (size_t)(stpcpy(text, "GET / HTTP/1.1\r\nHost: a\r\n") - text);
    for (i = 0; i < HTTP_MAX_HEADERS; i++)
        n += (size_t)(stpcpy(text + n, "X-H: v\r\n") - (text + n));
    strcpy(text + n, "\r\n");
    CHECK_EQ(parse(text, &status), MG_ERR_TOOBIG);
    CHECK_EQ(status, 431);
}

MG_TEST(test_exactly_max_headers_are_accepted)
{
    static char text[2048];
    size_t n = 0;
    int i, status;

    n += (size_t)(stpcpy(text, "GET / HTTP/1.1\r\nHost: a\r\n") - text);
    for (i = 1; i < HTTP_MAX_HEADERS; i++)
        n += (size_t)(stpcpy(text + n, "X-H: v\r\n") - (text + n));
    strcpy(text + n, "\r\n");
    CHECK(parse(text, &status) > 0);
    CHECK_EQ(req.n_headers, HTTP_MAX_HEADERS);
}

MG_TEST(test_content_length_over_limit_is_413)
{
    static const char text[] = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n";
    int status;

    CHECK_EQ(http_parse_request(text, strlen(text), HEAD_MAX, 100, &req, &status), MG_ERR_TOOBIG);
    CHECK_EQ(status, 413);
}

MG_TEST(test_content_length_at_the_limit_is_accepted)
{
    static const char text[] = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n";
    int status;

    CHECK(http_parse_request(text, strlen(text), HEAD_MAX, 100, &req, &status) > 0);
    CHECK_EQ(req.content_length, 100);
}

MG_TEST(test_content_length_that_overflows_is_413_not_wrapped)
{
    static const char text[] =
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551621\r\n\r\n";
    int status;

    CHECK_EQ(http_parse_request(text, strlen(text), HEAD_MAX, (size_t)-1, &req, &status),
             MG_ERR_TOOBIG);
    CHECK_EQ(status, 413);
}

MG_TEST(test_signed_listed_or_empty_content_length_is_400)
{
    static const char *const values[] = { "+5", "-1", "5, 5", "", "0x10", "5 5" };
    char text[128];
    size_t i;
    int status;

    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        strcpy(text, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ");
        strcat(text, values[i]);
        strcat(text, "\r\n\r\n");
        CHECK_EQ(parse(text, &status), MG_ERR_INVAL);
        CHECK_EQ(status, 400);
    }
}

MG_TEST(test_conflicting_content_lengths_are_400)
{
    int status;

    CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                   "Content-Length: 6\r\n\r\n", &status), MG_ERR_INVAL);
    CHECK_EQ(status, 400);
}

MG_TEST(test_repeated_equal_content_lengths_are_accepted)
{
    int status;

    CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n"
                "content-length: 007\r\n\r\n", &status) > 0);
    CHECK_EQ(req.content_length, 7);
}

MG_TEST(test_chunked_transfer_encoding_is_411)
{
    int status;

    CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", &status),
             MG_ERR_PERM);
    CHECK_EQ(status, 411);
}

MG_TEST(test_transfer_encoding_beside_content_length_is_411)
{
    int status;

    CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n", &status), MG_ERR_PERM);
    CHECK_EQ(status, 411);
}

MG_TEST(test_http_2_version_is_505)
{
    int status;

    CHECK_EQ(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n", &status), MG_ERR_PERM);
    CHECK_EQ(status, 505);
    CHECK_EQ(parse("GET / HTTP/1.2\r\nHost: a\r\n\r\n", &status), MG_ERR_PERM);
    CHECK_EQ(status, 505);
}

MG_TEST(test_malformed_version_is_400)
{
    static const char *const lines[] = {
        "GET / HTTP/1\r\n", "GET / http/1.1\r\n", "GET / HTTP/1.10\r\n", "GET / HTTP/1.1 \r\n",
        "GET / HTTP/x.1\r\n", "GET /\r\n",
    };
    size_t i;
    int status;

    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        CHECK_EQ(parse(lines[i], &status), MG_ERR_INVAL);
        CHECK_EQ(status, 400);
    }
}

MG_TEST(test_request_line_errors_are_answered_before_the_headers_arrive)
{
    int status;

    CHECK_EQ(parse("GET / HTTP/2.0\r\n", &status), MG_ERR_PERM);
    CHECK_EQ(status, 505);
    CHECK_EQ(parse("GET http://", &status), MG_ERR_INVAL);
    CHECK_EQ(status, 400);
}

MG_TEST(test_target_not_in_origin_form_is_400)
{
    static const char *const lines[] = {
        "GET http://a/ HTTP/1.1\r\n", "OPTIONS * HTTP/1.1\r\n", "CONNECT a:443 HTTP/1.1\r\n",
        "GET  / HTTP/1.1\r\n", "GET / extra HTTP/1.1\r\n",
    };
    size_t i;
    int status;

    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        CHECK_EQ(parse(lines[i], &status), MG_ERR_INVAL);
        CHECK_EQ(status, 400);
    }
}

MG_TEST(test_double_space_before_version_is_400)
{
    int status;

    CHECK_EQ(parse("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", &status), MG_ERR_INVAL);
    CHECK_EQ(status, 400);
}

MG_TEST(test_fragment_control_or_bad_escape_in_target_is_400)
{
    static const char *const lines[] = {
        "GET /a#b HTTP/1.1\r\n", "GET /a\tb HTTP/1.1\r\n", "GET /a%zz HTTP/1.1\r\n",
        "GET /a%4 HTTP/1.1\r\n", "GET /\xc3\xa9 HTTP/1.1\r\n",
    };
    size_t i;
    int status;

    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        CHECK_EQ(parse(lines[i], &status), MG_ERR_INVAL);
        CHECK_EQ(status, 400);
    }
}

MG_TEST(test_unknown_or_lowercase_method_is_other_not_an_error)
{
    int status;

    CHECK(parse("PROPFIND / HTTP/1.1\r\nHost: a\r\n\r\n", &status) > 0);
    CHECK_EQ(req.method, HTTP_OTHER);
    CHECK(str_is(req.method_str, "PROPFIND"));
    CHECK(parse("get / HTTP/1.1\r\nHost: a\r\n\r\n", &status) > 0);
    CHECK_EQ(req.method, HTTP_OTHER);
}

MG_TEST(test_known_methods_are_recognised)
{
    static const struct { const char *text; enum http_method m; } cases[] = {
        { "GET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_GET },
        { "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_HEAD },
        { "POST / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_POST },
        { "PUT / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PUT },
        { "DELETE / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_DELETE },
        { "OPTIONS / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_OPTIONS },
        { "PATCH / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PATCH },
    };
    size_t i;
    int status;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK(parse(cases[i].text, &status) > 0);
        CHECK_EQ(req.method, cases[i].m);
    }
}

MG_TEST(test_header_without_colon_is_400)
{
    int status;

    CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nX-Broken\r\n\r\n", &status), MG_ERR_INVAL);
    CHECK_EQ(status, 400);
}

MG_TEST(test_whitespace_before_colon_is_400)
{
    int status;

    CHECK_EQ(parse("GET / HTTP/1.1\r\nHost : a\r\n\r\n", &status), MG_ERR_INVAL);
    CHECK_EQ(status, 400);
}

MG_TEST(test_empty_header_name_is_400)
{
    int status;

    CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", &status), MG_ERR_INVAL);
    CHECK_EQ(status, 400);
}

MG_TEST(test_obs_fold_is_400)
{
    int status;

    CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", &status), MG_ERR_INVAL);
    CHECK_EQ(status, 400);
}

MG_TEST(test_control_byte_in_header_value_is_400)
{
    static const char text[] = "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n";
    int status;

    CHECK_EQ(http_parse_request(text, sizeof(text) - 1, HEAD_MAX, BODY_MAX, &req, &status),
             MG_ERR_INVAL);
    CHECK_EQ(status, 400);
    CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x7f\r\n\r\n", &status), MG_ERR_INVAL);
    CHECK_EQ(status, 400);
}

MG_TEST(test_header_values_are_trimmed_and_may_be_empty)
{
    int status;

    CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nX-A: \t one two \t\r\nX-B:\r\nX-C:   \r\n\r\n",
                &status) > 0);
    CHECK(str_is(*http_header_get(&req, "X-A"), "one two"));
    CHECK_EQ(http_header_get(&req, "X-B")->len, 0);
    CHECK_EQ(http_header_get(&req, "X-C")->len, 0);
}

MG_TEST(test_header_value_may_carry_obs_text)
{
    int status;

    CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\xc3\xa9\r\n\r\n", &status) > 0);
    CHECK(str_is(*http_header_get(&req, "x-name"), "caf\xc3\xa9"));
}

MG_TEST(test_header_lookup_is_case_insensitive)
{
    int status;

    CHECK(parse(valid_request, &status) > 0);
    CHECK(str_is(*http_header_get(&req, "x-mesh-id"), "alice"));
    CHECK(str_is(*http_header_get(&req, "CONTENT-TYPE"), "application/json"));
}

MG_TEST(test_absent_header_lookup_is_null)
{
    int status;

    CHECK(parse(valid_request, &status) > 0);
    CHECK(http_header_get(&req, "X-Nonce") == NULL);
    CHECK(http_header_get(&req, "X-Mesh") == NULL);
    CHECK(http_header_get(&req, "X-Mesh-Id-2") == NULL);
}

MG_TEST(test_http_1_1_without_host_is_400)
{
    int status;

    CHECK_EQ(parse("GET / HTTP/1.1\r\n\r\n", &status), MG_ERR_INVAL);
    CHECK_EQ(status, 400);
}

MG_TEST(test_two_host_headers_are_400)
{
    int status;

    CHECK_EQ(parse("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", &status), MG_ERR_INVAL);
    CHECK_EQ(status, 400);
}

MG_TEST(test_http_1_0_request_needs_no_host)
{
    int status;

    CHECK(parse("GET / HTTP/1.0\r\n\r\n", &status) > 0);
    CHECK_EQ(req.minor, 0);
}

MG_TEST(test_keep_alive_defaults_by_version)
{
    int status;

    CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &status) > 0);
    CHECK(req.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\n\r\n", &status) > 0);
    CHECK(!req.keep_alive);
}

MG_TEST(test_connection_header_overrides_keep_alive)
{
    int status;

    CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n", &status) > 0);
    CHECK(!req.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &status) > 0);
    CHECK(req.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", &status) > 0);
    CHECK(!req.keep_alive);
}

MG_TEST(test_websocket_upgrade_is_detected)
{
    int status;

    CHECK(parse("GET /ws?client_id=alice HTTP/1.1\r\nHost: a\r\nUpgrade: WebSocket\r\n"
                "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
                &status) > 0);
    CHECK(req.websocket_upgrade);
}

MG_TEST(test_websocket_upgrade_needs_get_1_1_and_connection_upgrade)
{
    int status;

    CHECK(parse("POST /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
                &status) > 0);
    CHECK(!req.websocket_upgrade);
    CHECK(parse("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: close\r\n\r\n",
                &status) > 0);
    CHECK(!req.websocket_upgrade);
    CHECK(parse("GET /ws HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
                &status) > 0);
    CHECK(!req.websocket_upgrade);
    CHECK(parse("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n",
                &status) > 0);
    CHECK(!req.websocket_upgrade);
}

MG_TEST(test_empty_buffer_asks_for_more)
{
    int status = -1;

    CHECK_EQ(http_parse_request("", 0, HEAD_MAX, BODY_MAX, &req, &status), MG_ERR_AGAIN);
    CHECK_EQ(status, 0);
}

MG_TEST(test_query_param_percent_decodes)
{
    char out[32];
    int status;

    CHECK(parse(valid_request, &status) > 0);
    CHECK_EQ(http_query_param(&req.query, "to", out, sizeof(out)), 5);
    CHECK(strcmp(out, "bob b") == 0);
    CHECK_EQ(http_query_param(&req.query, "ack", out, sizeof(out)), 1);
    CHECK(strcmp(out, "1") == 0);
}

MG_TEST(test_query_param_plus_is_space_and_names_are_decoded)
{
    static const char q[] = "a=1&client%5Fid=x+y&flag";
    struct http_str query = { q, sizeof(q) - 1 };
    char out[16];

    CHECK_EQ(http_query_param(&query, "client_id", out, sizeof(out)), 3);
    CHECK(strcmp(out, "x y") == 0);
    CHECK_EQ(http_query_param(&query, "flag", out, sizeof(out)), 0);
    CHECK(strcmp(out, "") == 0);
}

MG_TEST(test_first_of_repeated_query_params_wins)
{
    static const char q[] = "status=active&status=pending";
    struct http_str query = { q, sizeof(q) - 1 };
    char out[16];

    CHECK_EQ(http_query_param(&query, "status", out, sizeof(out)), 6);
    CHECK(strcmp(out, "active") == 0);
}

MG_TEST(test_absent_query_param_is_noent)
{
    static const char q[] = "ab=1&b_=2";
    struct http_str query = { q, sizeof(q) - 1 }, empty = { NULL, 0 };
    char out[16];

    CHECK_EQ(http_query_param(&query, "b", out, sizeof(out)), MG_ERR_NOENT);
    CHECK_EQ(http_query_param(&empty, "b", out, sizeof(out)), MG_ERR_NOENT);
}

MG_TEST(test_bad_percent_escape_is_invalid)
{
    static const char *const qs[] = { "k=%zz", "k=%4", "k=ab%" };
    char out[16];
    size_t i;

    for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        struct http_str query = { qs[i], strlen(qs[i]) };

        CHECK_EQ(http_query_param(&query, "k", out, sizeof(out)), MG_ERR_INVAL);
    }
}

MG_TEST(test_percent_00_in_a_value_is_invalid)
{
    static const char q[] = "k=a%00b";
    struct http_str query = { q, sizeof(q) - 1 };
    char out[16];

    CHECK_EQ(http_query_param(&query, "k", out, sizeof(out)), MG_ERR_INVAL);
}

MG_TEST(test_query_param_that_does_not_fit_is_toobig)
{
    static const char q[] = "k=abcd";
    struct http_str query = { q, sizeof(q) - 1 };
    char out[5];

    CHECK_EQ(http_query_param(&query, "k", out, 4), MG_ERR_TOOBIG);
    CHECK_EQ(http_query_param(&query, "k", out, 0), MG_ERR_TOOBIG);
    CHECK_EQ(http_query_param(&query, "k", out, sizeof(out)), 4);
    CHECK(strcmp(out, "abcd") == 0);
}

MG_TEST(test_status_text_names_the_codes)
{
    CHECK(strcmp(http_status_text(200), "OK") == 0);
    CHECK(strcmp(http_status_text(404), "Not Found") == 0);
    CHECK(strcmp(http_status_text(411), "Length Required") == 0);
    CHECK(strcmp(http_status_text(431), "Request Header Fields Too Large") == 0);
    CHECK(strcmp(http_status_text(505), "HTTP Version Not Supported") == 0);
    CHECK(strcmp(http_status_text(299), "Unknown") == 0);
}
