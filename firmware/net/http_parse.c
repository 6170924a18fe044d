#include "http_parse.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "hex.h"
#include "mg_err.h"

/* A step's outcome when the bytes so far are fine but end too soon; every
 * other non-zero outcome is the HTTP status to answer. */
#define HTTP_NEED 1

struct http_cursor {
    const char *buf;
    size_t pos;
    size_t end;   /* min(len, max_head) */
    int full;     /* end is max_head: more bytes cannot help */
};

static const struct {
    const char *name;
    enum http_method method;
} http_methods[] = {
    { "GET", HTTP_GET },         { "HEAD", HTTP_HEAD },       { "POST", HTTP_POST },
    { "PUT", HTTP_PUT },         { "DELETE", HTTP_DELETE },   { "OPTIONS", HTTP_OPTIONS },
    { "PATCH", HTTP_PATCH },
};

/* RFC 9110 5.6.2 tchar. */
static int http_is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return 1;
    default:
        return 0;
    }
}

static int http_is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static unsigned char http_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static int http_eq_nocase(struct http_str s, const char *lit)
{
    size_t i;

    for (i = 0; i < s.len; i++) {
        if (lit[i] == '\0' ||
            http_lower((unsigned char)s.p[i]) != http_lower((unsigned char)lit[i]))
            return 0;
    }
    return lit[i] == '\0';
}

/* Whether a comma-separated header value holds token (case-insensitive). */
static int http_list_has(struct http_str v, const char *token)
{
    size_t i = 0;

    while (i < v.len) {
        size_t start, stop;

        while (i < v.len && (http_is_ows((unsigned char)v.p[i]) || v.p[i] == ','))
            i++;
        start = i;
        while (i < v.len && v.p[i] != ',')
            i++;
        stop = i;
        while (stop > start && http_is_ows((unsigned char)v.p[stop - 1]))
            stop--;
        if (stop > start) {
            struct http_str item = { v.p + start, stop - start };

            if (http_eq_nocase(item, token))
                return 1;
        }
    }
    return 0;
}

static struct http_str http_span(const struct http_cursor *c, size_t from, size_t to)
{
    struct http_str s = { c->buf + from, to - from };

    return s;
}

/* Consumes one byte equal to want. */
static int http_expect(struct http_cursor *c, char want)
{
    if (c->pos == c->end)
        return HTTP_NEED;
    if (c->buf[c->pos] != want)
        return 400;
    c->pos++;
    return 0;
}

static int http_expect_crlf(struct http_cursor *c)
{
    int rc = http_expect(c, '\r');

    return rc ? rc : http_expect(c, '\n');
}

static int http_expect_digit(struct http_cursor *c, int *digit)
{
    unsigned char ch;

    if (c->pos == c->end)
        return HTTP_NEED;
    ch = (unsigned char)c->buf[c->pos];
    if (ch < '0' || ch > '9')
        return 400;
    *digit = ch - '0';
    c->pos++;
    return 0;
}

static int http_parse_method(struct http_cursor *c, struct http_request *req)
{
    size_t start = c->pos, i;

    while (c->pos < c->end && http_is_tchar((unsigned char)c->buf[c->pos]))
        c->pos++;
    if (c->pos == c->end)
        return HTTP_NEED;
    if (c->pos == start || c->buf[c->pos] != ' ')
        return 400;
    req->method_str = http_span(c, start, c->pos);
    req->method = HTTP_OTHER;
    for (i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++) {
        if (req->method_str.len == strlen(http_methods[i].name) &&
            memcmp(req->method_str.p, http_methods[i].name, req->method_str.len) == 0)
            req->method = http_methods[i].method;
    }
    c->pos++;
    return 0;
}

static int http_parse_target(struct http_cursor *c, struct http_request *req)
{
    size_t start = c->pos, question = 0;
    int has_query = 0;

    for (;;) {
        unsigned char ch;

        if (c->pos - start > HTTP_MAX_TARGET)
            return 414;
        /* A target cut off by max_head is too long for us, whatever the
         * rest of the head would have been. */
        if (c->pos == c->end)
            return (c->full && c->pos > start) ? 414 : HTTP_NEED;
        ch = (unsigned char)c->buf[c->pos];
        if (c->pos == start && ch != '/')
            return 400;
        if (ch == ' ')
            break;
        if (ch < 0x21 || ch > 0x7e || ch == '#')
            return 400;
        if (ch == '?' && !has_query) {
            has_query = 1;
            question = c->pos;
        }
        if (ch == '%') {
            size_t k;

            for (k = 1; k <= 2; k++) {
                if (c->pos + k == c->end)
                    return c->full ? 414 : HTTP_NEED;
                if (hex_digit((unsigned char)c->buf[c->pos + k]) < 0)
                    return 400;
            }
            c->pos += 2;
        }
        c->pos++;
    }
    req->target = http_span(c, start, c->pos);
    if (has_query) {
        req->path = http_span(c, start, question);
        req->query = http_span(c, question + 1, c->pos);
    } else {
        req->path = req->target;
        req->query = http_span(c, c->pos, c->pos);
    }
    c->pos++;
    return 0;
}

static int http_parse_version(struct http_cursor *c, struct http_request *req)
{
    static const char name[] = "HTTP/";
    size_t i;
    int major, minor, rc;

    for (i = 0; i < sizeof(name) - 1; i++) {
        rc = http_expect(c, name[i]);
        if (rc)
            return rc;
    }
    if ((rc = http_expect_digit(c, &major)) != 0 || (rc = http_expect(c, '.')) != 0 ||
        (rc = http_expect_digit(c, &minor)) != 0 || (rc = http_expect_crlf(c)) != 0)
        return rc;
    if (major != 1 || minor > 1)
        return 505;
    req->minor = minor;
    return 0;
}

static int http_parse_request_line(struct http_cursor *c, struct http_request *req)
{
    int rc;

    /* RFC 9112 2.2: ignore empty lines before the request line, which some
     * clients send after a body. */
    while (c->pos < c->end && c->buf[c->pos] == '\r') {
        rc = http_expect_crlf(c);
        if (rc)
            return rc;
    }
    if ((rc = http_parse_method(c, req)) != 0 || (rc = http_parse_target(c, req)) != 0)
        return rc;
    return http_parse_version(c, req);
}

/* One header line, or the empty line ending the head (*done set). */
static int http_parse_header(struct http_cursor *c, struct http_request *req, int *done)
{
    size_t name, colon, value, value_end;
    unsigned char ch;
    int rc;

    if (c->pos == c->end)
        return HTTP_NEED;
    ch = (unsigned char)c->buf[c->pos];
    if (ch == '\r') {
        rc = http_expect_crlf(c);
        *done = rc == 0;
        return rc;
    }
    /* obs-fold (RFC 9112 5.2) would continue the previous value: refused. */
    if (http_is_ows(ch))
        return 400;
    if (req->n_headers == HTTP_MAX_HEADERS)
        return 431;

    name = c->pos;
    while (c->pos < c->end && http_is_tchar((unsigned char)c->buf[c->pos]))
        c->pos++;
    if (c->pos == c->end)
        return HTTP_NEED;
    if (c->pos == name || c->buf[c->pos] != ':')
        return 400;
    colon = c->pos++;

    while (c->pos < c->end && http_is_ows((unsigned char)c->buf[c->pos]))
        c->pos++;
    value = value_end = c->pos;
    while (c->pos < c->end && c->buf[c->pos] != '\r') {
        ch = (unsigned char)c->buf[c->pos++];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return 400;
        if (!http_is_ows(ch))
            value_end = c->pos;
    }
    rc = http_expect_crlf(c);
    if (rc)
        return rc;
    req->headers[req->n_headers].name = http_span(c, name, colon);
    req->headers[req->n_headers].value = http_span(c, value, value_end);
    req->n_headers++;
    return 0;
}

/* Content-Length digits, compared by value so "007" agrees with "7". */
static struct http_str http_length_digits(struct http_str v)
{
    while (v.len > 1 && v.p[0] == '0') {
        v.p++;
        v.len--;
    }
    return v;
}

static int http_parse_length(struct http_str v, size_t *out, int *overflow)
{
    size_t n = 0, i;

    if (v.len == 0)
        return 400;
    *overflow = 0;
    for (i = 0; i < v.len; i++) {
        unsigned d = (unsigned)((unsigned char)v.p[i] - '0');

        if (d > 9)
            return 400;
        if (n > (SIZE_MAX - d) / 10)
            *overflow = 1;
        else
            n = n * 10 + d;
    }
    *out = n;
    return 0;
}

/* What the headers mean, once they are all in. */
static int http_interpret(struct http_request *req, size_t max_body)
{
    struct http_str length = { NULL, 0 };
    int hosts = 0, chunked = 0, conn_close = 0, conn_keep = 0, conn_upgrade = 0;
    int websocket = 0, overflow = 0;
    size_t i;

    for (i = 0; i < req->n_headers; i++) {
        struct http_str name = req->headers[i].name, value = req->headers[i].value;

        if (http_eq_nocase(name, "host")) {
            hosts++;
        } else if (http_eq_nocase(name, "content-length")) {
            struct http_str digits = http_length_digits(value);

            /* RFC 9110 8.6: a repeated Content-Length must agree, else
             * two readers of this stream could frame it differently. */
            if (req->has_body_length && (digits.len != length.len ||
                             memcmp(digits.p, length.p, digits.len) != 0))
                return 400;
            if (http_parse_length(value, &req->content_length, &overflow))
                return 400;
            length = digits;
            req->has_body_length = 1;
        } else if (http_eq_nocase(name, "transfer-encoding")) {
            chunked = 1;
        } else if (http_eq_nocase(name, "connection")) {
            conn_close |= http_list_has(value, "close");
            conn_keep |= http_list_has(value, "keep-alive");
            conn_upgrade |= http_list_has(value, "upgrade");
        } else if (http_eq_nocase(name, "upgrade")) {
            websocket |= http_list_has(value, "websocket");
        }
    }
    if (hosts > 1 || (hosts == 0 && req->minor == 1))
        return 400;
    if (chunked)
        return 411;
    if (req->has_body_length && (overflow || req->content_length > max_body))
        return 413;
    req->keep_alive = !conn_close && (req->minor == 1 || conn_keep);
    /* RFC 9110 7.8: Upgrade in an HTTP/1.0 request is ignored. */
    req->websocket_upgrade = req->method == HTTP_GET && req->minor == 1 && websocket &&
                             conn_upgrade;
    return 0;
}

static int http_status_error(int status)
{
    switch (status) {
    case 411:
    case 505:
        return MG_ERR_PERM;
    case 413:
    case 414:
    case 431:
        return MG_ERR_TOOBIG;
    default:
        return MG_ERR_INVAL;
    }
}

int http_parse_request(const char *buf, size_t len, size_t max_head, size_t max_body,
                       struct http_request *req, int *status)
{
    struct http_cursor c;
    int rc, done = 0, ignored;

    if (!status)
        status = &ignored;
    *status = 0;
    if (!req || (!buf && len)) {
        *status = 500;
        return MG_ERR_INVAL;
    }
    memset(req, 0, sizeof(*req));
    if (max_head > INT_MAX)
        max_head = INT_MAX;
    c.buf = buf;
    c.pos = 0;
    c.end = len < max_head ? len : max_head;
    c.full = len >= max_head;

    rc = http_parse_request_line(&c, req);
    while (rc == 0 && !done)
        rc = http_parse_header(&c, req, &done);
    if (rc == 0)
        rc = http_interpret(req, max_body);
    if (rc == HTTP_NEED) {
        if (!c.full)
            return MG_ERR_AGAIN;
        rc = 431;
    }
    if (rc) {
        *status = rc;
        return http_status_error(rc);
    }
    req->head_len = c.pos;
    return (int)c.pos;
}

const struct http_str *http_header_get(const struct http_request *req, const char *name)
{
    size_t i;

    if (!req || !name)
        return NULL;
    for (i = 0; i < req->n_headers && i < HTTP_MAX_HEADERS; i++) {
        if (http_eq_nocase(req->headers[i].name, name))
            return &req->headers[i].value;
    }
    return NULL;
}

/* Decodes the byte at s[*i] ('+' and %XX included) and moves past it;
 * -1 for a broken escape. */
static int http_decode_byte(const char *s, size_t len, size_t *i)
{
    unsigned char ch = (unsigned char)s[*i];
    int hi, lo;

    if (ch == '+') {
        (*i)++;
        return ' ';
    }
    if (ch != '%') {
        (*i)++;
        return ch;
    }
    if (len - *i < 3)
        return -1;
    hi = hex_digit((unsigned char)s[*i + 1]);
    lo = hex_digit((unsigned char)s[*i + 2]);
    if (hi < 0 || lo < 0)
        return -1;
    *i += 3;
    return hi * 16 + lo;
}

static int http_key_is(const char *key, size_t len, const char *name)
{
    size_t i = 0, n = 0;

    while (i < len) {
        int b = http_decode_byte(key, len, &i);

        if (b < 0 || name[n] == '\0' || (unsigned char)name[n] != b)
            return 0;
        n++;
    }
    return name[n] == '\0';
}

int http_query_param(const struct http_str *query, const char *name, char *out, size_t cap)
{
    size_t i = 0;

    if (!query || !name || name[0] == '\0' || !out || (!query->p && query->len))
        return MG_ERR_INVAL;
    while (i < query->len) {
        const char *pair = query->p + i;
        size_t len = 0, key_len, j, n = 0;

        while (i + len < query->len && pair[len] != '&')
            len++;
        i += len + 1;
        for (key_len = 0; key_len < len && pair[key_len] != '='; key_len++)
            ;
        if (!http_key_is(pair, key_len, name))
            continue;

        j = key_len < len ? key_len + 1 : len;
        while (j < len) {
            int b = http_decode_byte(pair, len, &j);

            if (b <= 0)
                return MG_ERR_INVAL;
            if (n + 1 >= cap || n >= INT_MAX)
                return MG_ERR_TOOBIG;
            out[n++] = (char)b;
        }
        if (cap == 0)
            return MG_ERR_TOOBIG;
        out[n] = '\0';
        return (int)n;
    }
    return MG_ERR_NOENT;
}

const char *http_status_text(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default:  return "Unknown";
    }
}
