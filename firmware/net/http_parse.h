/* HTTP/1.1 request heads (RFC 9110, RFC 9112), parsed in place.
 *
 * The server keeps a connection's received bytes in a fixed buffer and calls
 * http_parse_request() on the whole buffer each time more arrive, until it
 * returns the head's length. The parser keeps no state between calls and
 * never allocates: every http_str in the result points into that buffer, so
 * the result is valid while the buffer's first head_len bytes are unchanged.
 * The buffer needs no NUL terminator and is never read past len.
 *
 * What it accepts, strictly:
 *   request-line  method SP origin-form SP "HTTP/" DIGIT "." DIGIT CRLF, one
 *                 SP each; the method is a token (unknown ones are HTTP_OTHER,
 *                 matched case-sensitively as RFC 9110 9.1 says); the target
 *                 starts with '/', is visible ASCII without '#', at most
 *                 HTTP_MAX_TARGET bytes, and every '%' starts a %XX escape;
 *                 the version is 1.0 or 1.1.
 *   header lines  token ":" OWS value OWS CRLF; the value is visible ASCII,
 *                 SP, HTAB or obs-text (0x80-0xFF), trimmed of OWS.
 *   line ends     CRLF only: a bare LF or a bare CR anywhere in the head is
 *                 400, so the parser never disagrees with a proxy in front of
 *                 it about where a line ends. Empty lines (CRLF) before the
 *                 request line are skipped (RFC 9112 2.2) and count in
 *                 head_len.
 *   Host          HTTP/1.1 needs exactly one; HTTP/1.0 at most one
 *                 (RFC 9112 3.2).
 *   bodies        Content-Length only: 1*DIGIT; repeated headers must agree.
 *                 Any Transfer-Encoding is refused with 411, with or without
 *                 Content-Length. No Content-Length means no body.
 *
 * Whatever the error, the connection cannot be resynchronised: answer with
 * *status and close it. */
#ifndef HTTP_PARSE_H
#define HTTP_PARSE_H

#include <stddef.h>

#define HTTP_MAX_HEADERS 32
#ifndef HTTP_MAX_TARGET
#define HTTP_MAX_TARGET  2048
#endif

enum http_method {
    HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_DELETE, HTTP_OPTIONS, HTTP_PATCH,
    HTTP_OTHER
};

/* Bytes in someone else's buffer, not NUL-terminated. */
struct http_str {
    const char *p;
    size_t len;
};

struct http_header {
    struct http_str name, value;
};

struct http_request {
    enum http_method method;
    struct http_str method_str;
    struct http_str target;       /* as sent: path?query */
    struct http_str path;         /* before the first '?', still percent-encoded */
    struct http_str query;        /* after the first '?'; empty if there is none */
    int minor;                    /* HTTP/1.0 -> 0, HTTP/1.1 -> 1 */
    struct http_header headers[HTTP_MAX_HEADERS];
    size_t n_headers;
    int has_body_length;          /* a Content-Length header was sent */
    size_t content_length;        /* 0 without one */
    int keep_alive;               /* 1.1: unless "Connection: close"; 1.0: only with
                                     "Connection: keep-alive" (and no close) */
    int websocket_upgrade;        /* HTTP/1.1 GET with Upgrade: websocket and a
                                     Connection token "upgrade" */
    size_t head_len;              /* request line + headers + the empty line */
};

/* Parses the head at the start of buf[0..len). The head may be at most
 * max_head bytes (capped at INT_MAX); a Content-Length above max_body is
 * refused. Bytes after the head (body, pipelined requests) are not looked at.
 *
 * Returns head_len (> 0) when the head is complete and valid, with *req
 * filled and *status set to 0. Returns MG_ERR_AGAIN, *status 0, when the
 * bytes so far are a valid beginning and len < max_head: call again with more.
 * Otherwise returns a negative code and sets *status to the answer:
 *   MG_ERR_INVAL   400 malformed line, bare LF/CR, control byte, obs-fold,
 *                      bad or conflicting Content-Length, Host missing (1.1)
 *                      or repeated
 *   MG_ERR_TOOBIG  414 target longer than HTTP_MAX_TARGET, or still running
 *                      when max_head is reached
 *                  431 head (or the part seen) over max_head, or more than
 *                      HTTP_MAX_HEADERS headers
 *                  413 Content-Length over max_body
 *   MG_ERR_PERM    411 Transfer-Encoding present (chunked is not supported)
 *                  505 a version other than HTTP/1.0 and HTTP/1.1
 * Errors in the request line are reported as soon as its bytes are in, before
 * the rest of the head. *req is meaningful only on success. */
int http_parse_request(const char *buf, size_t len, size_t max_head, size_t max_body,
                       struct http_request *req, int *status);

/* The value of the first header called name (compared case-insensitively),
 * pointing into the request's buffer; NULL if there is none. */
const struct http_str *http_header_get(const struct http_request *req, const char *name);

/* Finds the first parameter called name in a query ("a=1&b=x%20y") and
 * percent-decodes its value into out ('+' is a space), NUL-terminated, in at
 * most cap bytes including the NUL. A parameter without '=' has an empty value.
 * Names are compared after decoding.
 * Returns the value's length, MG_ERR_NOENT if absent, MG_ERR_INVAL for a bad
 * or %00 escape in the value (out is a C string), MG_ERR_TOOBIG if the value
 * does not fit. out is unspecified on error. */
int http_query_param(const struct http_str *query, const char *name, char *out, size_t cap);

/* The reason phrase for a status code ("Not Found"); "Unknown" otherwise. */
const char *http_status_text(int status);

#endif /* HTTP_PARSE_H */
