#include "json.h"

#include <limits.h>
#include <string.h>

#include "hex.h"
#include "mg_err.h"

/* --- the grammar (RFC 8259), checked before jsmn sees the text ----------- */

struct json_scan {
    const unsigned char *p;
    size_t len;
    size_t pos;
    size_t tokens;   /* what jsmn will fill: one per value and one per key */
};

static int scan_value(struct json_scan *s, int depth);

static void scan_ws(struct json_scan *s)
{
    while (s->pos < s->len) {
        unsigned char c = s->p[s->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        s->pos++;
    }
}

/* Takes c if it is the next byte. */
static int scan_take(struct json_scan *s, unsigned char c)
{
    if (s->pos < s->len && s->p[s->pos] == c) {
        s->pos++;
        return 1;
    }
    return 0;
}

static size_t scan_digits(struct json_scan *s)
{
    size_t start = s->pos;

    while (s->pos < s->len && s->p[s->pos] >= '0' && s->p[s->pos] <= '9')
        s->pos++;
    return s->pos - start;
}

/* The length of the UTF-8 sequence at p (n bytes left) whose lead byte is
 * 0x80 or above, or 0 when it is not well-formed: Unicode table 3-7, so no
 * overlong forms, no encoded surrogates, nothing above U+10FFFF. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char lo = 0x80, hi = 0xBF;
    size_t len, k;

    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        len = 2;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        len = 3;
        if (p[0] == 0xE0)
            lo = 0xA0;
        else if (p[0] == 0xED)
            hi = 0x9F;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        len = 4;
        if (p[0] == 0xF0)
            lo = 0x90;
        else if (p[0] == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (k = 1; k < len; k++) {
        if (p[k] < lo || p[k] > hi)
            return 0;
        lo = 0x80;
        hi = 0xBF;
    }
    return len;
}

/* Nonzero if one of the eight bytes of w is '"', '\\', a control character
 * or not ASCII: the bytes a string's fast path must stop at. */
static uint64_t plain_stop(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');

    return ((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w) | (w & highs);
}

static int scan_string(struct json_scan *s)
{
    s->pos++;   /* the opening quote */
    while (s->pos < s->len) {
        unsigned char c;
        size_t k, n;
        uint64_t w;

        /* Long runs of plain ASCII (base64 envelopes) go eight at a time. */
        while (s->len - s->pos >= 8) {
            memcpy(&w, s->p + s->pos, 8);
            if ((plain_stop(w) & 0x8080808080808080ull) != 0)
                break;
            s->pos += 8;
        }
        if (s->pos == s->len)
            break;   /* the text ended inside the string, on an eight-byte step */
        c = s->p[s->pos];
        if (c == '"') {
            s->pos++;
            return 0;
        }
        if (c < 0x20)
            return MG_ERR_INVAL;
        if (c < 0x80 && c != '\\') {
            s->pos++;
            continue;
        }
        if (c >= 0x80) {
            n = utf8_len(s->p + s->pos, s->len - s->pos);
            if (n == 0)
                return MG_ERR_INVAL;
            s->pos += n;
            continue;
        }
        if (s->len - s->pos < 2)
            return MG_ERR_INVAL;
        switch (s->p[s->pos + 1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            s->pos += 2;
            break;
        case 'u':
            if (s->len - s->pos < 6)
                return MG_ERR_INVAL;
            for (k = 2; k < 6; k++)
                if (hex_digit(s->p[s->pos + k]) < 0)
                    return MG_ERR_INVAL;
            s->pos += 6;
            break;
        default:
            return MG_ERR_INVAL;
        }
    }
    return MG_ERR_INVAL;   /* no closing quote */
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int scan_number(struct json_scan *s)
{
    scan_take(s, '-');
    if (!scan_take(s, '0')) {
        if (s->pos >= s->len || s->p[s->pos] < '1' || s->p[s->pos] > '9')
            return MG_ERR_INVAL;
        scan_digits(s);
    }
    if (scan_take(s, '.') && scan_digits(s) == 0)
        return MG_ERR_INVAL;
    if (scan_take(s, 'e') || scan_take(s, 'E')) {
        if (!scan_take(s, '+'))
            scan_take(s, '-');
        if (scan_digits(s) == 0)
            return MG_ERR_INVAL;
    }
    return 0;
}

static int scan_word(struct json_scan *s, const char *word)
{
    size_t n = strlen(word);

    if (s->len - s->pos < n || memcmp(s->p + s->pos, word, n) != 0)
        return MG_ERR_INVAL;
    s->pos += n;
    return 0;
}

static int scan_object(struct json_scan *s, int depth)
{
    int rc;

    s->pos++;
    scan_ws(s);
    if (scan_take(s, '}'))
        return 0;
    for (;;) {
        if (s->pos >= s->len || s->p[s->pos] != '"')
            return MG_ERR_INVAL;
        s->tokens++;
        rc = scan_string(s);
        if (rc)
            return rc;
        scan_ws(s);
        if (!scan_take(s, ':'))
            return MG_ERR_INVAL;
        scan_ws(s);
        rc = scan_value(s, depth);
        if (rc)
            return rc;
        scan_ws(s);
        if (scan_take(s, '}'))
            return 0;
        if (!scan_take(s, ','))
            return MG_ERR_INVAL;
        scan_ws(s);
    }
}

static int scan_array(struct json_scan *s, int depth)
{
    int rc;

    s->pos++;
    scan_ws(s);
    if (scan_take(s, ']'))
        return 0;
    for (;;) {
        rc = scan_value(s, depth);
        if (rc)
            return rc;
        scan_ws(s);
        if (scan_take(s, ']'))
            return 0;
        if (!scan_take(s, ','))
            return MG_ERR_INVAL;
        scan_ws(s);
    }
}

/* depth: the containers open around this value. The recursion is bounded by
 * JSON_MAX_DEPTH. */
static int scan_value(struct json_scan *s, int depth)
{
    unsigned char c;

    if (s->pos >= s->len)
        return MG_ERR_INVAL;
    s->tokens++;
    c = s->p[s->pos];
    switch (c) {
    case '{':
    case '[':
        if (depth == JSON_MAX_DEPTH)
            return MG_ERR_INVAL;
        return c == '{' ? scan_object(s, depth + 1) : scan_array(s, depth + 1);
    case '"':
        return scan_string(s);
    case 't':
        return scan_word(s, "true");
    case 'f':
        return scan_word(s, "false");
    case 'n':
        return scan_word(s, "null");
    default:
        return c == '-' || (c >= '0' && c <= '9') ? scan_number(s) : MG_ERR_INVAL;
    }
}

/* --- strings: code points of a validated string token --------------------- */

struct json_cur {
    const char *s;
    size_t pos;
    size_t end;
};

static void cur_init(struct json_cur *c, const struct json_doc *d, int i)
{
    c->s = d->text;
    c->pos = (size_t)d->tok[i].start;
    c->end = (size_t)d->tok[i].end;
}

static uint32_t hex4(const char *p)
{
    uint32_t v = 0;
    int k;

    for (k = 0; k < 4; k++)
        v = v << 4 | (uint32_t)hex_digit((unsigned char)p[k]);
    return v;
}

/* The next code point (call while c->pos < c->end). An escaped surrogate pair
 * is one astral code point; a lone escaped surrogate comes back as itself, as
 * Python keeps it. The text has passed scan_string(), so every escape and
 * sequence is complete. */
static uint32_t cur_next(struct json_cur *c)
{
    const unsigned char *p = (const unsigned char *)c->s + c->pos;
    uint32_t cp, lo;

    if (p[0] == '\\') {
        c->pos += 2;
        switch (p[1]) {
        case 'b': return '\b';
        case 'f': return '\f';
        case 'n': return '\n';
        case 'r': return '\r';
        case 't': return '\t';
        case 'u': break;
        default:  return p[1];
        }
        c->pos += 4;
        cp = hex4((const char *)p + 2);
        if (cp >= 0xD800 && cp <= 0xDBFF && c->end - c->pos >= 6 && p[6] == '\\' &&
            p[7] == 'u') {
            lo = hex4((const char *)p + 8);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                c->pos += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
        }
        return cp;
    }
    if (p[0] < 0x80) {
        c->pos += 1;
        return p[0];
    }
    if (p[0] < 0xE0) {
        c->pos += 2;
        return (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
    }
    if (p[0] < 0xF0) {
        c->pos += 3;
        return (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
    }
    c->pos += 4;
    return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
           (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
}

static int is_surrogate(uint32_t cp)
{
    return cp >= 0xD800 && cp <= 0xDFFF;
}

static size_t utf8_put(uint32_t cp, unsigned char out[4])
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | cp >> 6);
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | cp >> 12);
        out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | cp >> 18);
    out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Python's order of str: by code point, a prefix first. */
static int str_cmp(const struct json_doc *d, int a, int b)
{
    const char *p = d->text + d->tok[a].start, *q = d->text + d->tok[b].start;
    size_t np = (size_t)(d->tok[a].end - d->tok[a].start);
    size_t nq = (size_t)(d->tok[b].end - d->tok[b].start);
    struct json_cur x, y;

    if (!memchr(p, '\\', np) && !memchr(q, '\\', nq)) {
        /* Without escapes the bytes decide: UTF-8 sorts as its code points. */
        int c = memcmp(p, q, np < nq ? np : nq);
        return c ? (c < 0 ? -1 : 1) : (np > nq) - (np < nq);
    }
    cur_init(&x, d, a);
    cur_init(&y, d, b);
    while (x.pos < x.end && y.pos < y.end) {
        uint32_t ca = cur_next(&x), cb = cur_next(&y);
        if (ca != cb)
            return ca < cb ? -1 : 1;
    }
    return (x.pos < x.end) - (y.pos < y.end);
}

static int valid_index(const struct json_doc *d, int i)
{
    return i >= 0 && i < d->count;
}

static int is_container(const struct json_doc *d, int i)
{
    return valid_index(d, i) && (d->tok[i].type == JSMN_OBJECT || d->tok[i].type == JSMN_ARRAY);
}

/* --- repeated keys ------------------------------------------------------- */

/* Sorts the n keys of one object, a list threaded through their tokens'
 * size field (the next key's index, -1 at the end), by code point. A key
 * token's size is always 1, so json_parse() can borrow it and put it back:
 * that makes the check O(n log n) without memory of its own. */
static int sort_keys(const struct json_doc *d, jsmntok_t *tok, int head, int n)
{
    int a, b, k, i, out = -1, *tail = &out;

    if (n < 2)
        return head;
    for (k = head, i = 1; i < n / 2; i++)
        k = tok[k].size;
    b = tok[k].size;
    tok[k].size = -1;
    a = sort_keys(d, tok, head, n / 2);
    b = sort_keys(d, tok, b, n - n / 2);
    while (a >= 0 && b >= 0) {
        int *from = str_cmp(d, a, b) <= 0 ? &a : &b;
        *tail = *from;
        tail = &tok[*from].size;
        *from = tok[*from].size;
    }
    *tail = a >= 0 ? a : b;
    return out;
}

static int has_repeated_key(const struct json_doc *d, jsmntok_t *tok)
{
    int o, k, head, *tail, n, next, repeated = 0;

    for (o = 0; o < d->count && !repeated; o++) {
        if (tok[o].type != JSMN_OBJECT || tok[o].size < 2)
            continue;
        head = -1;
        tail = &head;
        n = 0;
        for (k = json_first(d, o); k >= 0; k = json_next(d, o, k)) {
            *tail = k;
            tail = &tok[k].size;
            n++;
        }
        *tail = -1;
        head = sort_keys(d, tok, head, n);
        for (k = head; k >= 0; k = next) {
            next = tok[k].size;
            if (next >= 0 && str_cmp(d, k, next) == 0)
                repeated = 1;
            tok[k].size = 1;
        }
    }
    return repeated;
}

/* --- parsing ------------------------------------------------------------- */

int json_parse(struct json_doc *d, const char *text, size_t len, jsmntok_t *tok, int max_tok)
{
    struct json_scan s = { (const unsigned char *)text, len, 0, 0 };
    jsmn_parser p;
    size_t start, end;
    int rc, n;

    d->text = text;
    d->len = len;
    d->tok = tok;
    d->count = 0;
    if (len > INT_MAX)   /* jsmn's offsets are int */
        return MG_ERR_TOOBIG;
    scan_ws(&s);
    start = s.pos;
    rc = scan_value(&s, 0);
    if (rc)
        return rc;
    end = s.pos;
    scan_ws(&s);
    if (s.pos != len)
        return MG_ERR_INVAL;
    if (max_tok < 0 || s.tokens > (size_t)max_tok)
        return MG_ERR_NOSPC;

    if (text[start] != '{' && text[start] != '[' && text[start] != '"') {
        /* jsmn's strict mode wants a delimiter after a primitive, and a
         * top-level one may end the text: its one token is filled here. */
        tok[0].type = JSMN_PRIMITIVE;
        tok[0].start = (int)start;
        tok[0].end = (int)end;
        tok[0].size = 0;
#ifdef JSMN_PARENT_LINKS
        tok[0].parent = -1;
#endif
        d->count = 1;
        return 0;
    }
    jsmn_init(&p);
    n = jsmn_parse(&p, text, len, tok, (unsigned)max_tok);
    if (n < 0 || (size_t)n != s.tokens)
        return MG_ERR_INVAL;   /* jsmn disagrees with the grammar: not expected */
    d->count = n;
    if (has_repeated_key(d, tok)) {
        d->count = 0;
        return MG_ERR_INVAL;
    }
    return 0;
}

/* --- reading ------------------------------------------------------------- */

int json_skip(const struct json_doc *d, int i)
{
    int lo, hi, end;

    if (!valid_index(d, i))
        return -1;
    /* Tokens are in text order and the whole value at i lies before its end:
     * the next one is the first to start at or after it. */
    lo = i + 1;
    hi = d->count;
    end = d->tok[i].end;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (d->tok[mid].start < end)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

enum json_kind json_kind(const struct json_doc *d, int i)
{
    if (!valid_index(d, i))
        return JSON_NULL;
    switch (d->tok[i].type) {
    case JSMN_OBJECT: return JSON_OBJECT;
    case JSMN_ARRAY:  return JSON_ARRAY;
    case JSMN_STRING: return JSON_STRING;
    default:          break;
    }
    switch (d->text[d->tok[i].start]) {
    case 't': return JSON_TRUE;
    case 'f': return JSON_FALSE;
    case 'n': return JSON_NULL;
    default:  return JSON_NUMBER;
    }
}

int json_first(const struct json_doc *d, int container)
{
    if (!is_container(d, container) || d->tok[container].size == 0)
        return -1;
    return container + 1;
}

int json_next(const struct json_doc *d, int container, int i)
{
    int n;

    if (!is_container(d, container) || i <= container || i >= d->count)
        return -1;
    n = json_skip(d, d->tok[container].type == JSMN_OBJECT ? i + 1 : i);
    if (n < 0 || n >= d->count || d->tok[n].start >= d->tok[container].end)
        return -1;
    return n;
}

int json_size(const struct json_doc *d, int container)
{
    return is_container(d, container) ? d->tok[container].size : MG_ERR_INVAL;
}

int json_get(const struct json_doc *d, int obj, const char *key)
{
    int k;

    if (!valid_index(d, obj) || d->tok[obj].type != JSMN_OBJECT)
        return -1;
    for (k = json_first(d, obj); k >= 0; k = json_next(d, obj, k))
        if (json_str_eq(d, k, key))
            return k + 1;
    return -1;
}

int json_str_eq(const struct json_doc *d, int i, const char *s)
{
    const unsigned char *q = (const unsigned char *)s;
    struct json_cur c;
    unsigned char u[4];
    size_t n;

    if (!valid_index(d, i) || d->tok[i].type != JSMN_STRING)
        return 0;
    cur_init(&c, d, i);
    if (!memchr(c.s + c.pos, '\\', c.end - c.pos))   /* the text is the string */
        return strlen(s) == c.end - c.pos && memcmp(c.s + c.pos, s, c.end - c.pos) == 0;
    while (c.pos < c.end) {
        uint32_t cp = cur_next(&c);
        if (is_surrogate(cp) || cp == 0)   /* no UTF-8 text holds either */
            return 0;
        n = utf8_put(cp, u);
        if (strncmp((const char *)q, (const char *)u, n) != 0)
            return 0;
        q += n;
    }
    return *q == '\0';
}

int json_str(const struct json_doc *d, int i, char *out, size_t cap)
{
    struct json_cur c;
    unsigned char u[4];
    size_t len = 0, n;
    int rc = cap > 0 ? 0 : MG_ERR_TOOBIG;

    if (cap > 0)
        out[0] = '\0';
    if (!valid_index(d, i) || d->tok[i].type != JSMN_STRING)
        return MG_ERR_INVAL;
    cur_init(&c, d, i);
    while (c.pos < c.end) {
        uint32_t cp;
        /* The text is valid UTF-8 without raw controls (scan_string), so
         * every byte up to the next escape is copied as it is. */
        const char *esc = memchr(c.s + c.pos, '\\', c.end - c.pos);
        size_t run = (esc ? (size_t)(esc - c.s) : c.end) - c.pos;
        if (run > 0) {
            if (rc == 0 && cap - len > run && len + run < INT_MAX) {
                memcpy(out + len, c.s + c.pos, run);
                len += run;
            } else {
                rc = MG_ERR_TOOBIG;
            }
            c.pos += run;
            continue;
        }
        cp = cur_next(&c);
        if (cp == 0 || is_surrogate(cp)) {
            if (cap > 0)
                out[0] = '\0';
            return MG_ERR_INVAL;
        }
        n = utf8_put(cp, u);
        if (rc == 0 && cap - len > n && len + n < INT_MAX) {
            memcpy(out + len, u, n);
            len += n;
        } else {
            rc = MG_ERR_TOOBIG;   /* read on: a bad escape further on is INVAL */
        }
    }
    if (rc != 0) {
        if (cap > 0)
            out[0] = '\0';
        return rc;
    }
    out[len] = '\0';
    return (int)len;
}

int json_int(const struct json_doc *d, int i, int64_t *out)
{
    const char *p, *end;
    uint64_t mag = 0, limit = (uint64_t)INT64_MAX;
    int neg;

    if (json_kind(d, i) != JSON_NUMBER)   /* also when i is out of range */
        return MG_ERR_INVAL;
    p = d->text + d->tok[i].start;
    end = d->text + d->tok[i].end;
    neg = *p == '-';
    if (neg) {
        p++;
        limit++;
    }
    for (; p < end; p++) {
        unsigned dig;
        if (*p < '0' || *p > '9')
            return MG_ERR_INVAL;   /* a fraction or an exponent */
        dig = (unsigned)(*p - '0');
        if (mag > (limit - dig) / 10)
            return MG_ERR_INVAL;
        mag = mag * 10 + dig;
    }
    if (neg && mag > 0)
        *out = -(int64_t)(mag - 1) - 1;
    else
        *out = (int64_t)mag;
    return 0;
}

int json_bool(const struct json_doc *d, int i, int *out)
{
    enum json_kind k = json_kind(d, i);

    if (k != JSON_TRUE && k != JSON_FALSE)
        return MG_ERR_INVAL;
    *out = k == JSON_TRUE;
    return 0;
}

/* --- the canonical form -------------------------------------------------- */

struct json_out {
    json_emit_fn emit;
    void *ctx;
    size_t n;
    char buf[64];
};

static void out_flush(struct json_out *o)
{
    if (o->n > 0)
        o->emit(o->ctx, o->buf, o->n);
    o->n = 0;
}

static void out_put(struct json_out *o, const char *p, size_t n)
{
    if (n > sizeof(o->buf) - o->n) {
        out_flush(o);
        if (n > sizeof(o->buf)) {
            o->emit(o->ctx, p, n);
            return;
        }
    }
    memcpy(o->buf + o->n, p, n);
    o->n += n;
}

static void out_u16(struct json_out *o, uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    char e[6] = { '\\', 'u', digits[v >> 12 & 15], digits[v >> 8 & 15], digits[v >> 4 & 15],
                  digits[v & 15] };

    out_put(o, e, sizeof(e));
}

/* As Python's ensure_ascii encoder writes a str. */
static void out_string(struct json_out *o, const struct json_doc *d, int i)
{
    struct json_cur c;

    out_put(o, "\"", 1);
    cur_init(&c, d, i);
    while (c.pos < c.end) {
        uint32_t cp = cur_next(&c);
        char ch = (char)cp;
        switch (cp) {
        case '"':  out_put(o, "\\\"", 2); break;
        case '\\': out_put(o, "\\\\", 2); break;
        case '\b': out_put(o, "\\b", 2); break;
        case '\f': out_put(o, "\\f", 2); break;
        case '\n': out_put(o, "\\n", 2); break;
        case '\r': out_put(o, "\\r", 2); break;
        case '\t': out_put(o, "\\t", 2); break;
        default:
            if (cp >= 0x20 && cp < 0x7F) {   /* Python escapes DEL too */
                out_put(o, &ch, 1);
            } else if (cp < 0x10000) {
                out_u16(o, cp);
            } else {
                out_u16(o, 0xD800 + ((cp - 0x10000) >> 10));
                out_u16(o, 0xDC00 + ((cp - 0x10000) & 0x3FF));
            }
        }
    }
    out_put(o, "\"", 1);
}

static int skipped(const struct json_doc *d, int key, const char *const *skip)
{
    for (; skip != NULL && *skip != NULL; skip++)
        if (json_str_eq(d, key, *skip))
            return 1;
    return 0;
}

static void canon_value(const struct json_doc *d, int i, const char *const *skip,
                        struct json_out *o);

/* The members in key order, by binary insertion into a per-level array
 * (keys are distinct: json_parse() refused repeats). */
static void canon_object(const struct json_doc *d, int obj, const char *const *skip,
                         struct json_out *o)
{
    int order[JSON_MAX_MEMBERS];
    int n = 0, k, j;

    for (k = json_first(d, obj); k >= 0 && n < JSON_MAX_MEMBERS; k = json_next(d, obj, k)) {
        int lo = 0, hi = n;
        if (skipped(d, k, skip))
            continue;
        while (lo < hi) {
            int mid = lo + (hi - lo) / 2;
            if (str_cmp(d, order[mid], k) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        memmove(order + lo + 1, order + lo, (size_t)(n - lo) * sizeof(order[0]));
        order[lo] = k;
        n++;
    }
    out_put(o, "{", 1);
    for (j = 0; j < n; j++) {
        if (j > 0)
            out_put(o, ",", 1);
        out_string(o, d, order[j]);
        out_put(o, ":", 1);
        canon_value(d, order[j] + 1, NULL, o);
    }
    out_put(o, "}", 1);
}

static void canon_value(const struct json_doc *d, int i, const char *const *skip,
                        struct json_out *o)
{
    int k;

    switch (d->tok[i].type) {
    case JSMN_OBJECT:
        canon_object(d, i, skip, o);
        break;
    case JSMN_ARRAY:
        out_put(o, "[", 1);
        for (k = json_first(d, i); k >= 0; k = json_next(d, i, k)) {
            if (k != i + 1)
                out_put(o, ",", 1);
            canon_value(d, k, NULL, o);
        }
        out_put(o, "]", 1);
        break;
    case JSMN_STRING:
        out_string(o, d, i);
        break;
    default:
        out_put(o, d->text + d->tok[i].start, (size_t)(d->tok[i].end - d->tok[i].start));
        break;
    }
}

int json_canon(const struct json_doc *d, int i, const char *const *skip, json_emit_fn emit,
               void *ctx)
{
    struct json_out o;
    int k, end = json_skip(d, i);

    if (end < 0)
        return MG_ERR_INVAL;
    /* Every object is measured before anything is written, so a refusal
     * emits nothing. */
    for (k = i; k < end; k++)
        if (d->tok[k].type == JSMN_OBJECT && d->tok[k].size > JSON_MAX_MEMBERS)
            return MG_ERR_NOSPC;
    o.emit = emit;
    o.ctx = ctx;
    o.n = 0;
    canon_value(d, i, skip, &o);
    out_flush(&o);
    return 0;
}
