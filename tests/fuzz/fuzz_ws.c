/* libFuzzer target for the WebSocket reader (firmware/net/ws.c).
 *
 * Input layout:
 *   bytes 0..3  chunk sizes, used in turn: the network delivers the stream in
 *               pieces of that many bytes (0: all that is left)
 *   byte  4     bit 0: server reader (frames must be masked), else client;
 *               bits 1..2: message buffer of 4096, 125, 16 or 0 bytes
 *   the rest    the byte stream from the peer
 *
 * Every contract of ws.h that can be checked from outside is, and a broken
 * one traps: consumed within the piece, events within their bounds, text that
 * is UTF-8 by an independent decoder, an error that sticks, and each complete
 * message surviving a round trip through ws_frame_write_masked.
 *
 * ws_accept_key() needs mbedTLS's SHA-1 and base64, from the tree tools/deps
 * unpacks (M=build/src/mbedtls):
 *
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -Ihal -Ifirmware \
 *       -Icrypto -I$M/include -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"' \
 *       tests/fuzz/fuzz_ws.c firmware/net/ws.c $M/library/sha1.c $M/library/base64.c \
 *       $M/library/constant_time.c $M/library/platform_util.c -o fuzz_ws
 *   mkdir -p scratch && ./fuzz_ws -max_total_time=20 scratch tests/fuzz/corpus/ws/
 *
 * libFuzzer adds the inputs it finds to the first directory, so never name the
 * checked-in one first. `make fuzz` and `make fuzz-smoke` build and run it
 * (tests/fuzz/fuzz.mk). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mg_err.h"
#include "net/ws.h"

#define MSG_CAP 4096

static uint8_t msg_buf[MSG_CAP];
static uint8_t echo_buf[MSG_CAP];
static uint8_t echo_wire[MSG_CAP + WS_HEADER_MAX];

#define REQUIRE(cond)            \
    do {                         \
        if (!(cond))             \
            __builtin_trap();    \
    } while (0)

/* Decodes code points rather than following byte ranges, so it does not
 * share the reader's way of judging UTF-8. */
static int utf8_ok(const uint8_t *p, size_t n)
{
    size_t i = 0, k, more;
    uint32_t cp, min;

    while (i < n) {
        uint8_t b = p[i++];
        if (b < 0x80)
            continue;
        if ((b & 0xE0) == 0xC0) {
            more = 1, cp = b & 0x1F, min = 0x80;
        } else if ((b & 0xF0) == 0xE0) {
            more = 2, cp = b & 0x0F, min = 0x800;
        } else if ((b & 0xF8) == 0xF0) {
            more = 3, cp = b & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (n - i < more)
            return 0;
        for (k = 0; k < more; k++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i++] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
    }
    return 1;
}

/* A complete message, written as a client would and read back by a fresh
 * server reader, must come out the same. */
static void echo_round_trip(uint8_t op, const uint8_t *data, size_t len)
{
    static const uint8_t mask[4] = { 0xA5, 0x01, 0xFF, 0x3C };
    struct ws_reader r;
    struct ws_event ev;
    size_t n, used;

    n = ws_frame_write_masked(echo_wire, sizeof(echo_wire), op, 1, mask, data, len);
    REQUIRE(n >= len + 6);
    ws_reader_init(&r, echo_buf, sizeof(echo_buf), 1);
    REQUIRE(ws_reader_feed(&r, echo_wire, n, &used, &ev) == 0);
    REQUIRE(used == n);
    REQUIRE(ev.type == (op == WS_OP_TEXT ? WS_EV_TEXT : WS_EV_BINARY));
    REQUIRE(ev.len == len && memcmp(ev.data, data, len) == 0);
}

static void check_event(const struct ws_event *ev, int rc, size_t cap)
{
    switch (ev->type) {
    case WS_EV_NONE:
        REQUIRE(rc == 0);
        break;
    case WS_EV_TEXT:
    case WS_EV_BINARY:
        REQUIRE(rc == 0);
        REQUIRE(ev->len <= cap);
        REQUIRE(ev->len == 0 || ev->data == msg_buf);
        if (ev->type == WS_EV_TEXT)
            REQUIRE(utf8_ok(ev->data, ev->len));
        echo_round_trip(ev->type == WS_EV_TEXT ? WS_OP_TEXT : WS_OP_BINARY, ev->data,
                        ev->len);
        break;
    case WS_EV_PING:
    case WS_EV_PONG:
        REQUIRE(rc == 0);
        REQUIRE(ev->len <= WS_CONTROL_MAX);
        break;
    case WS_EV_CLOSE:
        REQUIRE(rc == 0);
        REQUIRE(ev->len <= WS_CONTROL_MAX - 2);
        REQUIRE(ev->code == WS_CLOSE_NO_STATUS ? ev->len == 0 : ev->code >= 1000);
        REQUIRE(utf8_ok(ev->data, ev->len));
        break;
    case WS_EV_ERROR:
        REQUIRE(ev->code == WS_CLOSE_PROTOCOL || ev->code == WS_CLOSE_INVALID_DATA ||
                ev->code == WS_CLOSE_TOO_BIG);
        REQUIRE(rc == (ev->code == WS_CLOSE_TOO_BIG ? MG_ERR_TOOBIG : MG_ERR_INVAL));
        break;
    default:
        __builtin_trap();
    }
}

/* The header parser alone, on the start of the stream. */
static void check_parse(const uint8_t *p, size_t n)
{
    struct ws_frame f;
    int rc = ws_frame_parse(p, n, &f);

    if (rc > 0) {
        REQUIRE(rc >= 2 && rc <= WS_HEADER_MAX && (size_t)rc <= n);
        REQUIRE((f.payload_len >> 63) == 0);
        REQUIRE(!(f.opcode & 0x8) || (f.fin && f.payload_len <= WS_CONTROL_MAX));
    } else {
        REQUIRE(rc == MG_ERR_AGAIN || (rc == MG_ERR_INVAL && f.close_code == WS_CLOSE_PROTOCOL));
        REQUIRE(rc != MG_ERR_AGAIN || n < WS_HEADER_MAX);
    }
}

/* What one event looked like, to compare two readings of a stream. */
struct seen {
    enum ws_ev_type type;
    uint16_t code;
    size_t len;
    uint32_t hash;
};

#define MAX_SEEN 512

static struct seen seen_chunked[MAX_SEEN], seen_whole[MAX_SEEN];

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Reads in[0..len) with a fresh reader in pieces whose sizes cycle through
 * chunks[0..3] (NULL: everything left at each call), checking every event;
 * logs them into log and returns how many there were. */
static size_t read_stream(const uint8_t *in, size_t len, const uint8_t *chunks, size_t cap,
                          int require_mask, struct seen *log)
{
    struct ws_reader r;
    struct ws_event ev;
    size_t pos = 0, piece, used, turn = 0, n = 0;
    int rc, closed = 0;
    uint16_t code;

    ws_reader_init(&r, msg_buf, cap, require_mask);
    while (pos < len) {
        piece = chunks != NULL ? chunks[turn++ & 3] : 0;
        if (piece == 0 || piece > len - pos)
            piece = len - pos;
        rc = ws_reader_feed(&r, in + pos, piece, &used, &ev);
        REQUIRE(used <= piece);
        check_event(&ev, rc, cap);
        if (closed)
            REQUIRE(ev.type == WS_EV_NONE && used == piece);
        if (ev.type == WS_EV_NONE)
            REQUIRE(used == piece);
        else if (ev.type != WS_EV_ERROR)
            REQUIRE(used > 0);   /* every event costs input: no endless loop */
        closed = closed || ev.type == WS_EV_CLOSE;
        pos += used;
        if (ev.type != WS_EV_NONE && n < MAX_SEEN) {
            log[n].type = ev.type;
            log[n].code = ev.code;
            log[n].len = ev.len;
            log[n].hash = ev.data != NULL ? fnv1a(ev.data, ev.len) : 0;
            n++;
        }
        if (ev.type == WS_EV_ERROR) {
            /* The error sticks: the next call consumes nothing and says it
             * again. */
            code = ev.code;
            rc = ws_reader_feed(&r, in + pos, len - pos, &used, &ev);
            REQUIRE(ev.type == WS_EV_ERROR && ev.code == code && used == 0);
            check_event(&ev, rc, cap);
            break;
        }
    }
    return n;
}

/* The handshake's key check on the start of the stream: a refusal leaves
 * "", an answer is 28 base64 characters. */
static void check_accept(const uint8_t *p, size_t n)
{
    char out[WS_ACCEPT_LEN + 1];
    size_t i;

    if (n > 32)
        n = 32;
    if (ws_accept_key((const char *)p, n, out) != 0) {
        REQUIRE(out[0] == '\0');
        return;
    }
    REQUIRE(n == 24 && strlen(out) == WS_ACCEPT_LEN);
    for (i = 0; i < WS_ACCEPT_LEN; i++)
        REQUIRE(out[i] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t caps[4] = { MSG_CAP, WS_CONTROL_MAX, 16, 0 };
    size_t len, cap, n_chunked, n_whole, i;
    const uint8_t *in;
    int require_mask;

    if (size < 5)
        return 0;
    in = data + 5;
    len = size - 5;
    cap = caps[(data[4] >> 1) & 3];
    require_mask = data[4] & 1;

    check_parse(in, len);
    check_accept(in, len);

    /* Section 5.4's promise: where the network splits the stream changes
     * nothing about the messages read from it. */
    n_chunked = read_stream(in, len, data, cap, require_mask, seen_chunked);
    n_whole = read_stream(in, len, NULL, cap, require_mask, seen_whole);
    REQUIRE(n_chunked == n_whole);
    for (i = 0; i < n_whole; i++) {
        REQUIRE(seen_chunked[i].type == seen_whole[i].type);
        REQUIRE(seen_chunked[i].code == seen_whole[i].code);
        REQUIRE(seen_chunked[i].len == seen_whole[i].len);
        REQUIRE(seen_chunked[i].hash == seen_whole[i].hash);
    }
    return 0;
}
