#include "ws.h"

#include <string.h>

#include "b64.h"
#include "mbedtls/sha1.h"
#include "mg_err.h"

enum ws_reader_state {
    WS_RS_HEADER = 0,
    WS_RS_PAYLOAD,
    WS_RS_CLOSED,
    WS_RS_ERROR,
};

/* --- opening handshake ---------------------------------------------------- */

/* Section 4.2.1: the key is the base64 of 16 bytes, canonical (its 22nd
 * character's unused low bits clear, then "=="). */
static int ws_key_is_16_bytes(const char *key, size_t len)
{
    unsigned char raw[16];

    return len == 24 && b64_decode(key, len, raw, sizeof(raw)) == 16;
}

int ws_accept_key(const char *client_key, size_t key_len, char out[WS_ACCEPT_LEN + 1])
{
    /* Section 1.3: the GUID every server appends to prove it read the key. */
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    mbedtls_sha1_context sha;
    unsigned char digest[20];
    int rc;

    out[0] = '\0';
    if (client_key == NULL || !ws_key_is_16_bytes(client_key, key_len))
        return MG_ERR_INVAL;

    mbedtls_sha1_init(&sha);
    rc = mbedtls_sha1_starts_ret(&sha);
    if (rc == 0)
        rc = mbedtls_sha1_update_ret(&sha, (const unsigned char *)client_key, key_len);
    if (rc == 0)
        rc = mbedtls_sha1_update_ret(&sha, (const unsigned char *)guid, sizeof(guid) - 1);
    if (rc == 0)
        rc = mbedtls_sha1_finish_ret(&sha, digest);
    mbedtls_sha1_free(&sha);
    if (rc != 0)
        return MG_ERR_CRYPTO;

    _Static_assert(B64_LEN(sizeof(digest)) == WS_ACCEPT_LEN, "the accept key is 28 characters");
    b64_encode(digest, sizeof(digest), out);
    return 0;
}

/* --- frame header --------------------------------------------------------- */

static int ws_opcode_is_control(uint8_t op)
{
    return (op & 0x8) != 0;
}

static int ws_opcode_is_known(uint8_t op)
{
    return op <= WS_OP_BINARY || (op >= WS_OP_CLOSE && op <= WS_OP_PONG);
}

static int ws_protocol_error(struct ws_frame *f)
{
    f->close_code = WS_CLOSE_PROTOCOL;
    return MG_ERR_INVAL;
}

int ws_frame_parse(const uint8_t *buf, size_t len, struct ws_frame *f)
{
    size_t need, pos, i;
    uint64_t plen;
    uint8_t len7;

    memset(f, 0, sizeof(*f));
    if (len < 1)
        return MG_ERR_AGAIN;

    f->fin = (uint8_t)(buf[0] >> 7);
    f->opcode = buf[0] & 0x0F;
    /* Section 5.2: a nonzero RSV bit without a negotiated extension that
     * defines it fails the connection; we negotiate none. */
    if ((buf[0] & 0x70) != 0 || !ws_opcode_is_known(f->opcode))
        return ws_protocol_error(f);
    /* Section 5.5: control frames are never fragmented. */
    if (ws_opcode_is_control(f->opcode) && !f->fin)
        return ws_protocol_error(f);
    if (len < 2)
        return MG_ERR_AGAIN;

    f->masked = (uint8_t)(buf[1] >> 7);
    len7 = buf[1] & 0x7F;
    if (ws_opcode_is_control(f->opcode) && len7 > WS_CONTROL_MAX)
        return ws_protocol_error(f);

    need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
    if (len < need)
        return MG_ERR_AGAIN;
    if (len7 < 126) {
        plen = len7;
    } else {
        plen = 0;
        for (i = 2; i < need; i++)
            plen = (plen << 8) | buf[i];
        /* Section 5.2: the most significant bit of a 64-bit length MUST be
         * 0, and the minimal number of bytes MUST be used. */
        if (len7 == 127 && (plen >> 63) != 0)
            return ws_protocol_error(f);
        if ((len7 == 126 && plen < 126) || (len7 == 127 && plen <= 0xFFFF))
            return ws_protocol_error(f);
    }
    f->payload_len = plen;

    pos = need;
    if (f->masked) {
        need += 4;
        if (len < need)
            return MG_ERR_AGAIN;
        memcpy(f->mask, buf + pos, 4);
    }
    return (int)need;
}

/* --- UTF-8 ---------------------------------------------------------------- */

/* Checks bytes as they arrive, so a message split anywhere (even inside a
 * character, across fragments) is judged the same as when whole. The range
 * kept for the next continuation byte is what rules out overlong forms
 * (E0, F0), UTF-16 surrogates (ED) and code points beyond U+10FFFF (F4),
 * the exclusions of RFC 3629 section 4 that section 8.1 refers to. */
static void ws_utf8_reset(struct ws_utf8 *u)
{
    u->need = 0;
    u->lo = 0x80;
    u->hi = 0xBF;
}

static int ws_utf8_step(struct ws_utf8 *u, uint8_t b)
{
    if (u->need > 0) {
        if (b < u->lo || b > u->hi)
            return -1;
        u->need--;
        u->lo = 0x80;
        u->hi = 0xBF;
        return 0;
    }
    if (b < 0x80)
        return 0;
    if (b >= 0xC2 && b <= 0xDF) {
        u->need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
        u->need = 2;
        if (b == 0xE0)
            u->lo = 0xA0;
        else if (b == 0xED)
            u->hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        u->need = 3;
        if (b == 0xF0)
            u->lo = 0x90;
        else if (b == 0xF4)
            u->hi = 0x8F;
    } else {
        /* Continuation bytes out of place, C0/C1 (always overlong), F5..FF. */
        return -1;
    }
    return 0;
}

/* 1 while p[0..n) continues valid UTF-8 from where u stands. */
static int ws_utf8_check(struct ws_utf8 *u, const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (ws_utf8_step(u, p[i]) != 0)
            return 0;
    return 1;
}

/* --- reader --------------------------------------------------------------- */

void ws_reader_init(struct ws_reader *r, uint8_t *msg_buf, size_t msg_cap, int require_mask)
{
    memset(r, 0, sizeof(*r));
    r->msg = msg_buf;
    r->msg_cap = msg_buf != NULL ? msg_cap : 0;
    r->require_mask = require_mask != 0;
    r->state = WS_RS_HEADER;
    ws_utf8_reset(&r->utf8);
}

static void ws_event_clear(struct ws_event *ev)
{
    ev->type = WS_EV_NONE;
    ev->data = NULL;
    ev->len = 0;
    ev->code = 0;
}

static int ws_report_error(const struct ws_reader *r, struct ws_event *ev)
{
    ev->type = WS_EV_ERROR;
    ev->data = NULL;
    ev->len = 0;
    ev->code = r->err_code;
    return r->err_rc;
}

static int ws_fail(struct ws_reader *r, uint16_t code, struct ws_event *ev)
{
    r->state = WS_RS_ERROR;
    r->err_code = code;
    r->err_rc = code == WS_CLOSE_TOO_BIG ? MG_ERR_TOOBIG : MG_ERR_INVAL;
    return ws_report_error(r, ev);
}

/* Checks a parsed header against the connection's state before any of its
 * payload is read; 0 or the close code to fail with. */
static uint16_t ws_frame_admit(struct ws_reader *r)
{
    const struct ws_frame *f = &r->frame;

    /* Section 5.1: clients mask every frame, servers none. */
    if (f->masked != r->require_mask)
        return WS_CLOSE_PROTOCOL;

    if (ws_opcode_is_control(f->opcode)) {
        r->ctl_len = 0;
        r->remaining = (size_t)f->payload_len;   /* <= 125: ws_frame_parse */
        return 0;
    }

    /* Section 5.4: a message is one start frame and then only continuation
     * frames until FIN; control frames alone may come between them. */
    if (f->opcode == WS_OP_CONT) {
        if (!r->msg_open)
            return WS_CLOSE_PROTOCOL;
    } else {
        if (r->msg_open)
            return WS_CLOSE_PROTOCOL;
        r->msg_open = 1;
        r->msg_opcode = f->opcode;
        r->msg_len = 0;
        ws_utf8_reset(&r->utf8);
    }
    /* Compared in 64 bits: a declared length may not fit a 32-bit size_t. */
    if (f->payload_len > (uint64_t)(r->msg_cap - r->msg_len))
        return WS_CLOSE_TOO_BIG;
    r->remaining = (size_t)f->payload_len;
    return 0;
}

/* Section 7.4: the codes a close frame may carry. 1004-1006 and 1015 are
 * reserved and never sent, 1016-2999 are unassigned protocol codes, below
 * 1000 is unused; 1012-1014 are registered in the IANA registry that section
 * 11.7 creates, 3000-4999 belong to libraries and applications. */
static int ws_close_code_allowed(uint16_t code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

/* The frame's payload is all in; 0 with *ev set (possibly to NONE), or the
 * close code to fail with. */
static uint16_t ws_frame_complete(struct ws_reader *r, struct ws_event *ev)
{
    const struct ws_frame *f = &r->frame;
    struct ws_utf8 reason;

    r->state = WS_RS_HEADER;
    switch (f->opcode) {
    case WS_OP_CLOSE:
        /* Section 5.5.1: empty, or a 2-byte code then a UTF-8 reason. */
        if (r->ctl_len == 1)
            return WS_CLOSE_PROTOCOL;
        ev->type = WS_EV_CLOSE;
        ev->code = WS_CLOSE_NO_STATUS;
        if (r->ctl_len >= 2) {
            ev->code = (uint16_t)((r->ctl[0] << 8) | r->ctl[1]);
            if (!ws_close_code_allowed(ev->code))
                return WS_CLOSE_PROTOCOL;
            /* A private validator: the close may arrive in the middle of a
             * text message whose UTF-8 state must not be disturbed. */
            ws_utf8_reset(&reason);
            if (!ws_utf8_check(&reason, r->ctl + 2, (size_t)r->ctl_len - 2) || reason.need)
                return WS_CLOSE_INVALID_DATA;
            ev->data = r->ctl + 2;
            ev->len = (size_t)r->ctl_len - 2;
        }
        r->state = WS_RS_CLOSED;
        return 0;
    case WS_OP_PING:
    case WS_OP_PONG:
        ev->type = f->opcode == WS_OP_PING ? WS_EV_PING : WS_EV_PONG;
        ev->data = r->ctl;
        ev->len = r->ctl_len;
        return 0;
    default:
        break;
    }

    if (!f->fin)
        return 0;
    /* Section 8.1: a character cut at the end of the message is invalid. */
    if (r->msg_opcode == WS_OP_TEXT && r->utf8.need != 0)
        return WS_CLOSE_INVALID_DATA;
    r->msg_open = 0;
    ev->type = r->msg_opcode == WS_OP_TEXT ? WS_EV_TEXT : WS_EV_BINARY;
    ev->data = r->msg;
    ev->len = r->msg_len;
    return 0;
}

/* Unmasks up to n payload bytes into the message or the control buffer;
 * returns how many it took, with *code set if the text is not UTF-8. */
static size_t ws_take_payload(struct ws_reader *r, const uint8_t *in, size_t n, uint16_t *code)
{
    const struct ws_frame *f = &r->frame;
    int control = ws_opcode_is_control(f->opcode);
    uint8_t *dst;
    size_t i;

    if (n > r->remaining)
        n = r->remaining;
    if (n == 0)
        return 0;
    if (control) {
        dst = r->ctl + r->ctl_len;
        r->ctl_len = (uint8_t)(r->ctl_len + n);
    } else {
        dst = r->msg + r->msg_len;
        r->msg_len += n;
    }
    for (i = 0; i < n; i++) {
        dst[i] = in[i] ^ f->mask[r->mask_pos];
        r->mask_pos = (uint8_t)((r->mask_pos + 1) & 3);
    }
    r->remaining -= n;

    /* Section 8.1: fail as soon as the text stops being UTF-8, not at the
     * end of a message that may be long. */
    if (!control && r->msg_opcode == WS_OP_TEXT && !ws_utf8_check(&r->utf8, dst, n))
        *code = WS_CLOSE_INVALID_DATA;
    return n;
}

/* Moves header bytes into r->hdr until the header parses; returns how many
 * input bytes belong to the header, with *code set on a malformed one. */
static size_t ws_take_header(struct ws_reader *r, const uint8_t *in, size_t n, uint16_t *code)
{
    size_t take = WS_HEADER_MAX - r->hdr_len;
    size_t had = r->hdr_len;
    int rc;

    if (take > n)
        take = n;
    /* Copy as much as a header can hold; what the parser leaves beyond the
     * header is payload and stays unconsumed in the input. */
    memcpy(r->hdr + had, in, take);
    rc = ws_frame_parse(r->hdr, had + take, &r->frame);
    if (rc == MG_ERR_AGAIN) {
        r->hdr_len = (uint8_t)(had + take);
        return take;
    }
    if (rc < 0) {
        *code = r->frame.close_code;
        return take;
    }
    r->hdr_len = 0;
    r->mask_pos = 0;
    *code = ws_frame_admit(r);
    if (*code == 0)
        r->state = WS_RS_PAYLOAD;
    return (size_t)rc - had;
}

int ws_reader_feed(struct ws_reader *r, const uint8_t *in, size_t len, size_t *consumed,
                   struct ws_event *ev)
{
    size_t pos = 0;
    uint16_t code = 0;

    ws_event_clear(ev);
    *consumed = 0;
    if (r->state == WS_RS_ERROR)
        return ws_report_error(r, ev);
    if (r->state == WS_RS_CLOSED) {
        *consumed = len;
        return 0;
    }

    for (;;) {
        if (r->state == WS_RS_HEADER) {
            if (pos == len)
                break;
            pos += ws_take_header(r, in + pos, len - pos, &code);
            if (code != 0)
                break;
            if (r->state != WS_RS_PAYLOAD)
                continue;
        } else if (pos < len) {
            pos += ws_take_payload(r, in + pos, len - pos, &code);
            if (code != 0)
                break;
        }
        if (r->remaining > 0) {
            if (pos == len)
                break;
            continue;
        }
        code = ws_frame_complete(r, ev);
        if (code != 0 || ev->type != WS_EV_NONE)
            break;
    }

    *consumed = pos;
    if (code != 0) {
        ws_event_clear(ev);
        return ws_fail(r, code, ev);
    }
    return 0;
}

/* --- writers -------------------------------------------------------------- */

static size_t ws_put_header(uint8_t *out, uint8_t opcode, int fin, int masked, size_t len)
{
    uint64_t len64 = len;
    size_t n, i;

    out[0] = (uint8_t)((fin ? 0x80 : 0x00) | (opcode & 0x0F));
    out[1] = masked ? 0x80 : 0x00;
    /* Section 5.2: the minimal encoding, which ws_frame_parse insists on. */
    if (len < 126) {
        out[1] |= (uint8_t)len;
        return 2;
    }
    if (len <= 0xFFFF) {
        out[1] |= 126;
        n = 2;
    } else {
        out[1] |= 127;
        n = 8;
    }
    for (i = 0; i < n; i++)
        out[2 + i] = (uint8_t)(len64 >> (8 * (n - 1 - i)));
    return 2 + n;
}

size_t ws_frame_header(uint8_t out[10], uint8_t opcode, int fin, size_t payload_len)
{
    return ws_put_header(out, opcode, fin, 0, payload_len);
}

size_t ws_close_payload(uint8_t out[WS_CONTROL_MAX], uint16_t code, const char *reason)
{
    size_t n = 0;

    if (code == WS_CLOSE_NO_STATUS || code == WS_CLOSE_ABNORMAL || code == 1015)
        return 0;
    out[0] = (uint8_t)(code >> 8);
    out[1] = (uint8_t)code;
    if (reason != NULL) {
        while (n <= WS_CONTROL_MAX - 2 && reason[n] != '\0')
            n++;
        if (n > WS_CONTROL_MAX - 2) {
            n = WS_CONTROL_MAX - 2;
            /* Back up over continuation bytes so no character is cut. */
            while (n > 0 && ((uint8_t)reason[n] & 0xC0) == 0x80)
                n--;
        }
        memcpy(out + 2, reason, n);
    }
    return 2 + n;
}

size_t ws_frame_write_masked(uint8_t *out, size_t cap, uint8_t opcode, int fin,
                             const uint8_t mask[4], const uint8_t *payload, size_t len)
{
    uint8_t hdr[WS_HEADER_MAX];
    size_t h, i;

    h = ws_put_header(hdr, opcode, fin, 1, len);
    memcpy(hdr + h, mask, 4);
    h += 4;
    if (cap < h || len > cap - h)
        return 0;
    memcpy(out, hdr, h);
    for (i = 0; i < len; i++)
        out[h + i] = payload[i] ^ mask[i & 3];
    return h + len;
}
