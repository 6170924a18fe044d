/* RFC 6455 WebSocket framing for the HTTP server: the opening handshake's
 * accept key, a frame header parser, a message reader that the connection
 * feeds with whatever bytes arrived, and the writers for outgoing frames.
 *
 * Pure code: no sockets, no I/O, no allocation, no static state. The
 * connection owns every buffer (the reader struct, its message buffer, the
 * output it writes frames into); nothing here keeps a pointer beyond what
 * ws_reader_init() is given.
 *
 * Functions return 0 (or a length) on success and a negative MG_ERR_* code on
 * failure. Where a failure means the peer broke the protocol, the close code
 * to send back (RFC 6455 section 7.4.1) comes with it. */
#ifndef WS_H
#define WS_H

#include <stddef.h>
#include <stdint.h>

/* Opcodes (RFC 6455 section 5.2). */
#define WS_OP_CONT   0x0
#define WS_OP_TEXT   0x1
#define WS_OP_BINARY 0x2
#define WS_OP_CLOSE  0x8
#define WS_OP_PING   0x9
#define WS_OP_PONG   0xA

/* Close codes (RFC 6455 section 7.4.1). */
#define WS_CLOSE_NORMAL       1000
#define WS_CLOSE_GOING_AWAY   1001
#define WS_CLOSE_PROTOCOL     1002
#define WS_CLOSE_UNSUPPORTED  1003
#define WS_CLOSE_NO_STATUS    1005  /* never on the wire: "no code given" */
#define WS_CLOSE_ABNORMAL     1006  /* never on the wire: "dropped" */
#define WS_CLOSE_INVALID_DATA 1007
#define WS_CLOSE_POLICY       1008
#define WS_CLOSE_TOO_BIG      1009
#define WS_CLOSE_INTERNAL     1011

#define WS_HEADER_MAX   14   /* 2 + 8 extended length + 4 mask */
#define WS_CONTROL_MAX 125   /* control frame payload bound, section 5.5 */
#define WS_ACCEPT_LEN   28   /* base64 of a 20-byte SHA-1, without the NUL */

/* Computes the Sec-WebSocket-Accept value for the client's Sec-WebSocket-Key
 * (RFC 6455 section 4.2.2): base64(SHA-1(key + the RFC's GUID)), written to
 * out with a terminating NUL. client_key is the header value without
 * surrounding whitespace (the HTTP layer trims it) and need not be
 * NUL-terminated. MG_ERR_INVAL, and out set to "", if the key is not the
 * canonical base64 of exactly 16 bytes (section 4.2.1 point 5): 24
 * characters, "==" at the end, unused bits zero. */
int ws_accept_key(const char *client_key, size_t key_len, char out[WS_ACCEPT_LEN + 1]);

/* One frame header as read off the wire. */
struct ws_frame {
    uint64_t payload_len;   /* as declared: may exceed SIZE_MAX on 32-bit boards */
    uint8_t  fin;           /* 1 on the last frame of a message */
    uint8_t  opcode;        /* WS_OP_* */
    uint8_t  masked;        /* 1 if a masking key follows the length */
    uint8_t  mask[4];       /* zero when not masked */
    uint16_t close_code;    /* on failure: the close code to send */
};

/* Parses the frame header at the start of buf[0..len).
 * Returns the header length (2..WS_HEADER_MAX) with *f filled in;
 * MG_ERR_AGAIN if buf holds only a prefix of a header that is valid so far
 * (nothing is wrong yet, call again with more bytes); or MG_ERR_INVAL with
 * f->close_code = WS_CLOSE_PROTOCOL when the header is malformed: an RSV bit
 * set (no extension is ever negotiated), a reserved opcode, a fragmented
 * control frame or one longer than 125 bytes (section 5.5), a 64-bit length
 * with its top bit set, or a length not in its minimal encoding (section 5.2
 * says the minimal form MUST be used; refusing the others leaves one way to
 * write each header). Faults are reported as soon as the bytes that show
 * them have arrived. Masking policy and message size are the reader's. */
int ws_frame_parse(const uint8_t *buf, size_t len, struct ws_frame *f);

enum ws_ev_type {
    WS_EV_NONE = 0,   /* all input consumed, no event yet: feed more */
    WS_EV_TEXT,       /* a complete, valid UTF-8 text message */
    WS_EV_BINARY,     /* a complete binary message */
    WS_EV_PING,       /* answer with a pong carrying data[0..len) */
    WS_EV_PONG,
    WS_EV_CLOSE,      /* the peer's close: code, reason in data[0..len) */
    WS_EV_ERROR,      /* the peer broke the protocol: send a close with code */
};

struct ws_event {
    enum ws_ev_type type;
    const uint8_t  *data;  /* message, control payload or close reason; NULL if none */
    size_t          len;
    uint16_t        code;  /* CLOSE: the peer's code (1005 if none); ERROR: ours to send */
};

/* Where a UTF-8 check stands between bytes. Private to ws.c. */
struct ws_utf8 {
    uint8_t need;   /* continuation bytes still expected */
    uint8_t lo;     /* range allowed for the next continuation byte */
    uint8_t hi;
};

/* A message reader: the caller declares it (per connection) and gives it a
 * message buffer. Fields are private to ws.c. */
struct ws_reader {
    uint8_t        *msg;          /* the caller's message buffer */
    size_t          msg_cap;
    size_t          msg_len;      /* bytes of the message assembled so far */
    size_t          remaining;    /* payload bytes of the current frame still to come */
    struct ws_frame frame;        /* the frame being read */
    int             err_rc;       /* in the error state: the value feed returns */
    uint16_t        err_code;     /* in the error state: the close code to send */
    uint8_t         state;
    uint8_t         require_mask;
    uint8_t         msg_open;     /* a fragmented message awaits its last frame */
    uint8_t         msg_opcode;   /* WS_OP_TEXT or WS_OP_BINARY of that message */
    uint8_t         mask_pos;     /* payload offset mod 4 within the frame */
    uint8_t         hdr_len;
    uint8_t         hdr[WS_HEADER_MAX];
    uint8_t         ctl_len;
    uint8_t         ctl[WS_CONTROL_MAX];
    struct ws_utf8  utf8;         /* the text message's check so far */
};

/* Prepares r to read a new connection's frames into msg_buf (msg_cap bytes,
 * owned by the caller and not touched by anyone else while r is in use).
 * require_mask nonzero is the server side: every frame must be masked, an
 * unmasked one fails with 1002 (section 5.1). Zero is the client side:
 * frames must be unmasked, a masked one fails with 1002 (same section). */
void ws_reader_init(struct ws_reader *r, uint8_t *msg_buf, size_t msg_cap, int require_mask);

/* Feeds len received bytes. Reads until it has one event or the input is
 * exhausted, stores the number of bytes it used in *consumed (<= len), and
 * fills *ev. The caller acts on the event and calls again with the bytes
 * from in + *consumed on; input may be split at any byte boundary.
 *
 * Returns 0 with ev->type one of:
 *   WS_EV_NONE           *consumed == len, nothing complete yet;
 *   WS_EV_TEXT/BINARY    ev->data = msg_buf, ev->len its length (<= msg_cap):
 *                        fragments are reassembled (section 5.4), text is
 *                        checked to be valid UTF-8 (section 8.1);
 *   WS_EV_PING/PONG      ev->data = the payload (<= 125 bytes, in r); they
 *                        may arrive between the fragments of a message;
 *   WS_EV_CLOSE          ev->code and the reason; after it the reader
 *                        consumes and ignores all further input (section
 *                        1.4: nothing may follow a close).
 * ev->data stays valid until the next call on r.
 *
 * Returns a negative code with ev->type == WS_EV_ERROR and ev->code the close
 * code to send: MG_ERR_INVAL with 1002 (a header ws_frame_parse refuses, a
 * frame masked the wrong way for the side, a continuation without a started
 * message, a new data message inside a fragmented one, a close payload of 1
 * byte or with a code section 7.4 does not allow on the wire) or 1007 (text,
 * or a close reason, that is not UTF-8: overlong forms, surrogates, beyond
 * U+10FFFF, a sequence cut at the message end); MG_ERR_TOOBIG with 1009 (the
 * message would not fit msg_cap; found from the frame header, before its
 * payload is read). The reader then stays in that error: later calls consume
 * nothing and report the same error. */
int ws_reader_feed(struct ws_reader *r, const uint8_t *in, size_t len, size_t *consumed,
                   struct ws_event *ev);

/* Writes a server frame header (unmasked, section 5.1) for a payload of
 * payload_len bytes into out; returns its length: 2, 4 or 10. The payload is
 * sent after it as is. fin nonzero marks the last frame of a message. */
size_t ws_frame_header(uint8_t out[10], uint8_t opcode, int fin, size_t payload_len);

/* Writes a close frame payload (section 5.5.1): the code in network order,
 * then reason (NUL-terminated UTF-8, may be NULL) cut to fit 125 bytes at a
 * character boundary so the peer still reads valid UTF-8. Returns its length.
 * The codes that must never be sent (1005, 1006, 1015) give an empty payload,
 * a close without a status. */
size_t ws_close_payload(uint8_t out[WS_CONTROL_MAX], uint16_t code, const char *reason);

/* Writes a whole client frame (masked with mask, section 5.3) carrying
 * payload[0..len) into out[0..cap); returns its length, or 0 if it does not
 * fit. mask should come from mg_random() for real traffic (section 10.3). */
size_t ws_frame_write_masked(uint8_t *out, size_t cap, uint8_t opcode, int fin,
                             const uint8_t mask[4], const uint8_t *payload, size_t len);

#endif
