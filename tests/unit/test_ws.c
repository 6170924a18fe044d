/* WebSocket framing (firmware/net/ws.c) against RFC 6455: the handshake's
 * accept key, frame headers, message reassembly, control frames, the close
 * codes a misbehaving peer earns, and the frame writers. */
#include <string.h>

#include "mg_err.h"
#include "net/ws.h"
#include "test.h"

/* The masking key of the examples in RFC 6455 section 5.7. */
static const uint8_t mask_key[4] = { 0x37, 0xfa, 0x21, 0x3d };

static uint8_t msg_buf[70000];
static uint8_t wire[70100];

struct rec {
    enum ws_ev_type type;
    uint16_t code;
    size_t len;
    uint8_t data[128];   /* the first bytes of the event's data */
};

/* Feeds in[0..len) to r in pieces of at most chunk bytes, as the network
 * would deliver them, and records each event until the input is used up or
 * the reader fails. Returns the number of events recorded. */
static size_t feed(struct ws_reader *r, const uint8_t *in, size_t len, size_t chunk,
                   struct rec *out, size_t max)
{
    size_t pos = 0, n = 0, piece, used;
    struct ws_event ev;
    int rc;

    while (pos < len && n < max) {
        piece = len - pos < chunk ? len - pos : chunk;
        rc = ws_reader_feed(r, in + pos, piece, &used, &ev);
        if (used > piece)
            return 0;
        pos += used;
        if (ev.type == WS_EV_NONE) {
            if (used != piece || rc != 0)
                return 0;
            continue;
        }
        out[n].type = ev.type;
        out[n].code = ev.code;
        out[n].len = ev.len;
        memset(out[n].data, 0, sizeof(out[n].data));
        if (ev.data != NULL)
            memcpy(out[n].data, ev.data, ev.len < 128 ? ev.len : 128);
        n++;
        if (ev.type == WS_EV_ERROR)
            break;
    }
    return n;
}

/* Appends one masked client frame to wire at *at. */
static void put(size_t *at, uint8_t op, int fin, const void *payload, size_t len)
{
    *at += ws_frame_write_masked(wire + *at, sizeof(wire) - *at, op, fin, mask_key, payload,
                                 len);
}

/* Reads wire[0..len) with a server reader over msg_buf[0..cap); the last
 * event's type and code. */
static struct rec last_event(size_t len, size_t cap)
{
    struct ws_reader r;
    struct rec ev[8];
    struct rec none = { WS_EV_NONE, 0, 0, { 0 } };
    size_t n;

    ws_reader_init(&r, msg_buf, cap, 1);
    n = feed(&r, wire, len, len, ev, 8);
    return n == 0 ? none : ev[n - 1];
}

static enum ws_ev_type text_verdict(const char *bytes, size_t len)
{
    size_t at = 0;

    put(&at, WS_OP_TEXT, 1, bytes, len);
    return last_event(at, sizeof(msg_buf)).type;
}

/* --- handshake ------------------------------------------------------------ */

MG_TEST(test_accept_key_of_the_rfc_example_is_its_published_value)
{
    /* RFC 6455 sections 1.3 and 4.2.2: SHA-1 b37a4f2c...b2bec4ea, whose
     * base64 is the value below. */
    static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
    char out[WS_ACCEPT_LEN + 1];

    CHECK_EQ(ws_accept_key(key, strlen(key), out), 0);
    CHECK(strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
}

MG_TEST(test_accept_key_refuses_a_key_that_is_not_base64_of_16_bytes)
{
    static const char *const bad[] = {
        "",
        "dGhlIHNhbXBsZSBub25jZQ=",       /* 23 characters */
        "dGhlIHNhbXBsZSBub25jZQ===",     /* 25 characters */
        "dGhlIHNhbXBsZSBub25jZQ",        /* padding missing */
        "dGhlIHNhbXBsZSBub25jZWE=",      /* 17 bytes */
        "dGhlIHNhbXBsZSBub25j!Q==",      /* not in the alphabet */
        "dGhlIHNhbXBsZSBub25jZR==",      /* unused bits set: not canonical */
        "dGhlIHNhbXBs ZSBub25jZQ==",
    };
    char out[WS_ACCEPT_LEN + 1];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(out, "x", 2);
        CHECK_EQ(ws_accept_key(bad[i], strlen(bad[i]), out), MG_ERR_INVAL);
        CHECK_EQ(out[0], '\0');
    }
}

/* --- single frames -------------------------------------------------------- */

MG_TEST(test_single_masked_text_frame_is_delivered_unmasked)
{
    /* RFC 6455 section 5.7: "A single-frame masked text message". */
    static const uint8_t frame[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                     0x7f, 0x9f, 0x4d, 0x51, 0x58 };
    struct ws_reader r;
    struct ws_event ev;
    size_t used;

    ws_reader_init(&r, msg_buf, sizeof(msg_buf), 1);
    CHECK_EQ(ws_reader_feed(&r, frame, sizeof(frame), &used, &ev), 0);
    CHECK_EQ(used, sizeof(frame));
    CHECK_EQ(ev.type, WS_EV_TEXT);
    CHECK_EQ(ev.len, 5);
    CHECK(ev.data == msg_buf);
    CHECK_MEM(ev.data, "Hello", 5);
}

MG_TEST(test_unmasked_frame_to_the_server_fails_with_1002)
{
    /* RFC 6455 section 5.7: "A single-frame unmasked text message". */
    static const uint8_t frame[] = { 0x81, 0x05, 'H', 'e', 'l', 'l', 'o' };
    struct ws_reader r;
    struct ws_event ev;
    size_t used;

    ws_reader_init(&r, msg_buf, sizeof(msg_buf), 1);
    CHECK_EQ(ws_reader_feed(&r, frame, sizeof(frame), &used, &ev), MG_ERR_INVAL);
    CHECK_EQ(ev.type, WS_EV_ERROR);
    CHECK_EQ(ev.code, WS_CLOSE_PROTOCOL);
}

MG_TEST(test_client_reader_reads_unmasked_frames_and_refuses_masked_ones)
{
    static const uint8_t plain[] = { 0x82, 0x03, 1, 2, 3 };
    struct ws_reader r;
    struct rec ev[4];
    size_t at = 0;

    ws_reader_init(&r, msg_buf, sizeof(msg_buf), 0);
    CHECK_EQ(feed(&r, plain, sizeof(plain), sizeof(plain), ev, 4), 1);
    CHECK_EQ(ev[0].type, WS_EV_BINARY);
    CHECK_EQ(ev[0].len, 3);
    CHECK_MEM(ev[0].data, "\x01\x02\x03", 3);

    put(&at, WS_OP_BINARY, 1, "abc", 3);
    CHECK_EQ(feed(&r, wire, at, at, ev, 4), 1);
    CHECK_EQ(ev[0].type, WS_EV_ERROR);
    CHECK_EQ(ev[0].code, WS_CLOSE_PROTOCOL);
}

MG_TEST(test_empty_text_message_is_delivered_with_length_zero)
{
    size_t at = 0;
    struct rec ev;

    put(&at, WS_OP_TEXT, 1, "", 0);
    ev = last_event(at, sizeof(msg_buf));
    CHECK_EQ(ev.type, WS_EV_TEXT);
    CHECK_EQ(ev.len, 0);
}

MG_TEST(test_two_messages_in_one_read_come_out_one_per_call)
{
    struct ws_reader r;
    struct ws_event ev;
    size_t at = 0, first, used;

    put(&at, WS_OP_TEXT, 1, "one", 3);
    first = at;
    put(&at, WS_OP_BINARY, 1, "two", 3);

    ws_reader_init(&r, msg_buf, sizeof(msg_buf), 1);
    CHECK_EQ(ws_reader_feed(&r, wire, at, &used, &ev), 0);
    CHECK_EQ(ev.type, WS_EV_TEXT);
    CHECK_EQ(used, first);
    CHECK_MEM(ev.data, "one", 3);
    CHECK_EQ(ws_reader_feed(&r, wire + used, at - used, &used, &ev), 0);
    CHECK_EQ(ev.type, WS_EV_BINARY);
    CHECK_EQ(used, at - first);
    CHECK_MEM(ev.data, "two", 3);
}

MG_TEST(test_frame_with_16_bit_length_is_read_whole)
{
    size_t at = 0, i;
    struct rec ev;
    static uint8_t payload[300];

    for (i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7);
    put(&at, WS_OP_BINARY, 1, payload, sizeof(payload));
    CHECK_EQ(wire[1], 0x80 | 126);
    CHECK_EQ(at, 2 + 2 + 4 + sizeof(payload));
    ev = last_event(at, sizeof(msg_buf));
    CHECK_EQ(ev.type, WS_EV_BINARY);
    CHECK_EQ(ev.len, sizeof(payload));
    CHECK_MEM(msg_buf, payload, sizeof(payload));
}

MG_TEST(test_frame_with_64_bit_length_is_read_whole)
{
    static uint8_t payload[65536 + 10];
    size_t at = 0, i;
    struct rec ev;

    for (i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i ^ (i >> 8));
    put(&at, WS_OP_BINARY, 1, payload, sizeof(payload));
    CHECK_EQ(wire[1], 0x80 | 127);
    CHECK_EQ(at, 2 + 8 + 4 + sizeof(payload));
    ev = last_event(at, sizeof(msg_buf));
    CHECK_EQ(ev.type, WS_EV_BINARY);
    CHECK_EQ(ev.len, sizeof(payload));
    CHECK_MEM(msg_buf, payload, sizeof(payload));
}

/* --- fragmentation -------------------------------------------------------- */

MG_TEST(test_fragmented_message_is_reassembled_into_one_event)
{
    struct ws_reader r;
    struct rec ev[4];
    size_t at = 0;

    put(&at, WS_OP_TEXT, 0, "Hel", 3);
    put(&at, WS_OP_CONT, 0, "lo, ", 4);
    put(&at, WS_OP_CONT, 1, "world", 5);
    ws_reader_init(&r, msg_buf, sizeof(msg_buf), 1);
    CHECK_EQ(feed(&r, wire, at, at, ev, 4), 1);
    CHECK_EQ(ev[0].type, WS_EV_TEXT);
    CHECK_EQ(ev[0].len, 12);
    CHECK_MEM(ev[0].data, "Hello, world", 12);
}

MG_TEST(test_ping_between_fragments_is_delivered_before_the_message_completes)
{
    struct ws_reader r;
    struct rec ev[4];
    size_t at = 0;

    put(&at, WS_OP_BINARY, 0, "ab", 2);
    put(&at, WS_OP_PING, 1, "are you there", 13);
    put(&at, WS_OP_CONT, 1, "cd", 2);
    ws_reader_init(&r, msg_buf, sizeof(msg_buf), 1);
    CHECK_EQ(feed(&r, wire, at, at, ev, 4), 2);
    CHECK_EQ(ev[0].type, WS_EV_PING);
    CHECK_EQ(ev[0].len, 13);
    CHECK_MEM(ev[0].data, "are you there", 13);
    CHECK_EQ(ev[1].type, WS_EV_BINARY);
    CHECK_EQ(ev[1].len, 4);
    CHECK_MEM(ev[1].data, "abcd", 4);
}

MG_TEST(test_message_fed_one_byte_at_a_time_gives_the_same_events_as_whole)
{
    struct ws_reader r;
    struct rec whole[8], bytewise[8];
    size_t at = 0, n, i;

    put(&at, WS_OP_TEXT, 0, "caf\xc3", 4);
    put(&at, WS_OP_PONG, 1, "p", 1);
    put(&at, WS_OP_CONT, 0, "\xa9 ", 2);
    put(&at, WS_OP_PING, 1, "", 0);
    put(&at, WS_OP_CONT, 1, "au lait", 7);
    put(&at, WS_OP_CLOSE, 1, "\x03\xe8" "bye", 5);

    ws_reader_init(&r, msg_buf, sizeof(msg_buf), 1);
    n = feed(&r, wire, at, at, whole, 8);
    CHECK_EQ(n, 4);
    ws_reader_init(&r, msg_buf, sizeof(msg_buf), 1);
    CHECK_EQ(feed(&r, wire, at, 1, bytewise, 8), n);
    for (i = 0; i < n; i++) {
        CHECK_EQ(bytewise[i].type, whole[i].type);
        CHECK_EQ(bytewise[i].code, whole[i].code);
        CHECK_EQ(bytewise[i].len, whole[i].len);
        CHECK_MEM(bytewise[i].data, whole[i].data, sizeof(whole[i].data));
    }
    CHECK_EQ(whole[2].type, WS_EV_TEXT);
    CHECK_MEM(whole[2].data, "caf\xc3\xa9 au lait", 14);
    CHECK_EQ(whole[3].type, WS_EV_CLOSE);
    CHECK_EQ(whole[3].code, 1000);
}

MG_TEST(test_continuation_without_a_started_message_fails_with_1002)
{
    size_t at = 0;
    struct rec ev;

    put(&at, WS_OP_CONT, 1, "orphan", 6);
    ev = last_event(at, sizeof(msg_buf));
    CHECK_EQ(ev.type, WS_EV_ERROR);
    CHECK_EQ(ev.code, WS_CLOSE_PROTOCOL);
}

MG_TEST(test_new_data_frame_while_a_fragmented_message_is_open_fails_with_1002)
{
    size_t at = 0;
    struct rec ev;

    put(&at, WS_OP_TEXT, 0, "first", 5);
    put(&at, WS_OP_TEXT, 1, "second", 6);
    ev = last_event(at, sizeof(msg_buf));
    CHECK_EQ(ev.type, WS_EV_ERROR);
    CHECK_EQ(ev.code, WS_CLOSE_PROTOCOL);
}

/* --- malformed headers ---------------------------------------------------- */

MG_TEST(test_control_frame_longer_than_125_bytes_fails_with_1002)
{
    static uint8_t payload[126];
    size_t at = 0;
    struct rec ev;

    put(&at, WS_OP_PING, 1, payload, sizeof(payload));
    ev = last_event(at, sizeof(msg_buf));
    CHECK_EQ(ev.type, WS_EV_ERROR);
    CHECK_EQ(ev.code, WS_CLOSE_PROTOCOL);
}

MG_TEST(test_fragmented_control_frame_fails_with_1002)
{
    size_t at = 0;
    struct rec ev;

    put(&at, WS_OP_PING, 0, "half", 4);
    ev = last_event(at, sizeof(msg_buf));
    CHECK_EQ(ev.type, WS_EV_ERROR);
    CHECK_EQ(ev.code, WS_CLOSE_PROTOCOL);
}

MG_TEST(test_rsv_bits_without_an_extension_fail_with_1002)
{
    static const uint8_t rsv[] = { 0x40, 0x20, 0x10 };
    size_t at, i;
    struct rec ev;

    for (i = 0; i < sizeof(rsv); i++) {
        at = 0;
        put(&at, WS_OP_TEXT, 1, "x", 1);
        wire[0] |= rsv[i];
        ev = last_event(at, sizeof(msg_buf));
        CHECK_EQ(ev.type, WS_EV_ERROR);
        CHECK_EQ(ev.code, WS_CLOSE_PROTOCOL);
    }
}

MG_TEST(test_reserved_opcodes_fail_with_1002)
{
    static const uint8_t ops[] = { 3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF };
    size_t at, i;
    struct rec ev;

    for (i = 0; i < sizeof(ops); i++) {
        at = 0;
        put(&at, ops[i], 1, "", 0);
        ev = last_event(at, sizeof(msg_buf));
        CHECK_EQ(ev.type, WS_EV_ERROR);
        CHECK_EQ(ev.code, WS_CLOSE_PROTOCOL);
    }
}

MG_TEST(test_length_not_in_its_minimal_encoding_fails_with_1002)
{
    /* 5 bytes declared in the 16-bit form, then 200 in the 64-bit form. */
    static const uint8_t len16[] = { 0x82, 0xFE, 0x00, 0x05 };
    static const uint8_t len64[] = { 0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0x00, 0xC8 };
    struct ws_frame f;

    CHECK_EQ(ws_frame_parse(len16, sizeof(len16), &f), MG_ERR_INVAL);
    CHECK_EQ(f.close_code, WS_CLOSE_PROTOCOL);
    CHECK_EQ(ws_frame_parse(len64, sizeof(len64), &f), MG_ERR_INVAL);
    CHECK_EQ(f.close_code, WS_CLOSE_PROTOCOL);
}

MG_TEST(test_64_bit_length_with_its_top_bit_set_fails_with_1002)
{
    static const uint8_t hdr[] = { 0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0x01,
                                   1, 2, 3, 4 };
    struct ws_reader r;
    struct ws_event ev;
    size_t used;

    ws_reader_init(&r, msg_buf, sizeof(msg_buf), 1);
    CHECK_EQ(ws_reader_feed(&r, hdr, sizeof(hdr), &used, &ev), MG_ERR_INVAL);
    CHECK_EQ(ev.type, WS_EV_ERROR);
    CHECK_EQ(ev.code, WS_CLOSE_PROTOCOL);
}

MG_TEST(test_frame_parse_asks_for_more_bytes_until_the_header_is_complete)
{
    static const uint8_t hdr[] = { 0x81, 0xFE, 0x01, 0x00, 1, 2, 3, 4 };
    struct ws_frame f;
    size_t n;

    for (n = 0; n < sizeof(hdr); n++)
        CHECK_EQ(ws_frame_parse(hdr, n, &f), MG_ERR_AGAIN);
    CHECK_EQ(ws_frame_parse(hdr, sizeof(hdr), &f), 8);
    CHECK_EQ(f.fin, 1);
    CHECK_EQ(f.opcode, WS_OP_TEXT);
    CHECK_EQ(f.masked, 1);
    CHECK_EQ(f.payload_len, 256);
    CHECK_MEM(f.mask, "\x01\x02\x03\x04", 4);
}

/* --- size ----------------------------------------------------------------- */

MG_TEST(test_message_larger_than_the_buffer_fails_with_1009_before_its_payload)
{
    struct ws_reader r;
    struct ws_event ev;
    size_t at = 0, first, used;

    put(&at, WS_OP_BINARY, 0, "0123456789", 10);
    first = at;
    put(&at, WS_OP_CONT, 1, "0123456789", 10);

    ws_reader_init(&r, msg_buf, 16, 1);
    CHECK_EQ(ws_reader_feed(&r, wire, at, &used, &ev), MG_ERR_TOOBIG);
    CHECK_EQ(ev.type, WS_EV_ERROR);
    CHECK_EQ(ev.code, WS_CLOSE_TOO_BIG);
    CHECK_EQ(used, first + 6);   /* the second frame's header, none of its payload */
}

MG_TEST(test_message_exactly_filling_the_buffer_is_accepted)
{
    size_t at = 0;
    struct rec ev;

    put(&at, WS_OP_BINARY, 0, "01234567", 8);
    put(&at, WS_OP_CONT, 1, "89abcdef", 8);
    ev = last_event(at, 16);
    CHECK_EQ(ev.type, WS_EV_BINARY);
    CHECK_EQ(ev.len, 16);
}

MG_TEST(test_declared_length_beyond_32_bits_fails_with_1009_on_every_board)
{
    static const uint8_t hdr[] = { 0x82, 0xFF, 0, 0, 0x01, 0, 0, 0, 0, 0,
                                   1, 2, 3, 4 };
    struct ws_reader r;
    struct ws_event ev;
    size_t used;

    ws_reader_init(&r, msg_buf, sizeof(msg_buf), 1);
    CHECK_EQ(ws_reader_feed(&r, hdr, sizeof(hdr), &used, &ev), MG_ERR_TOOBIG);
    CHECK_EQ(ev.code, WS_CLOSE_TOO_BIG);
}

/* --- UTF-8 ---------------------------------------------------------------- */

MG_TEST(test_overlong_utf8_text_fails_with_1007)
{
    CHECK_EQ(text_verdict("\xc0\xaf", 2), WS_EV_ERROR);          /* '/' in 2 bytes */
    CHECK_EQ(text_verdict("\xe0\x80\xaf", 3), WS_EV_ERROR);      /* in 3 */
    CHECK_EQ(text_verdict("\xf0\x80\x80\xaf", 4), WS_EV_ERROR);  /* in 4 */
    CHECK_EQ(text_verdict("\xc1\xbf", 2), WS_EV_ERROR);
}

MG_TEST(test_utf8_error_event_carries_close_code_1007)
{
    size_t at = 0;
    struct rec ev;

    put(&at, WS_OP_TEXT, 1, "\xc0\xaf", 2);
    ev = last_event(at, sizeof(msg_buf));
    CHECK_EQ(ev.type, WS_EV_ERROR);
    CHECK_EQ(ev.code, WS_CLOSE_INVALID_DATA);
}

MG_TEST(test_utf16_surrogate_in_text_fails_with_1007)
{
    CHECK_EQ(text_verdict("\xed\xa0\x80", 3), WS_EV_ERROR);      /* U+D800 */
    CHECK_EQ(text_verdict("\xed\xbf\xbf", 3), WS_EV_ERROR);      /* U+DFFF */
    CHECK_EQ(text_verdict("\xed\x9f\xbf", 3), WS_EV_TEXT);       /* U+D7FF is fine */
}

MG_TEST(test_code_point_beyond_u10ffff_fails_with_1007)
{
    CHECK_EQ(text_verdict("\xf4\x90\x80\x80", 4), WS_EV_ERROR);  /* U+110000 */
    CHECK_EQ(text_verdict("\xf5\x80\x80\x80", 4), WS_EV_ERROR);
    CHECK_EQ(text_verdict("\xf4\x8f\xbf\xbf", 4), WS_EV_TEXT);   /* U+10FFFF */
}

MG_TEST(test_utf8_sequence_cut_at_the_message_end_fails_with_1007)
{
    size_t at = 0;
    struct rec ev;

    put(&at, WS_OP_TEXT, 0, "ok \xe2\x82", 5);
    put(&at, WS_OP_CONT, 1, "", 0);
    ev = last_event(at, sizeof(msg_buf));
    CHECK_EQ(ev.type, WS_EV_ERROR);
    CHECK_EQ(ev.code, WS_CLOSE_INVALID_DATA);
}

MG_TEST(test_multibyte_utf8_split_across_fragments_is_accepted)
{
    size_t at = 0;
    struct rec ev;

    /* U+1F600 cut after its first and third bytes, with a ping between. */
    put(&at, WS_OP_TEXT, 0, "\xf0", 1);
    put(&at, WS_OP_CONT, 0, "\x9f\x98", 2);
    put(&at, WS_OP_PING, 1, "\xff", 1);
    put(&at, WS_OP_CONT, 1, "\x80!", 2);
    ev = last_event(at, sizeof(msg_buf));
    CHECK_EQ(ev.type, WS_EV_TEXT);
    CHECK_EQ(ev.len, 5);
    CHECK_MEM(ev.data, "\xf0\x9f\x98\x80!", 5);
}

MG_TEST(test_binary_message_is_not_checked_as_utf8)
{
    size_t at = 0;
    struct rec ev;

    put(&at, WS_OP_BINARY, 1, "\xc0\xaf\xff", 3);
    ev = last_event(at, sizeof(msg_buf));
    CHECK_EQ(ev.type, WS_EV_BINARY);
}

/* --- close ---------------------------------------------------------------- */

MG_TEST(test_close_with_code_and_reason_is_parsed)
{
    size_t at = 0;
    struct rec ev;

    put(&at, WS_OP_CLOSE, 1, "\x03\xe9" "going away", 12);
    ev = last_event(at, sizeof(msg_buf));
    CHECK_EQ(ev.type, WS_EV_CLOSE);
    CHECK_EQ(ev.code, WS_CLOSE_GOING_AWAY);
    CHECK_EQ(ev.len, 10);
    CHECK_MEM(ev.data, "going away", 10);
}

MG_TEST(test_close_without_payload_reports_code_1005)
{
    size_t at = 0;
    struct rec ev;

    put(&at, WS_OP_CLOSE, 1, "", 0);
    ev = last_event(at, sizeof(msg_buf));
    CHECK_EQ(ev.type, WS_EV_CLOSE);
    CHECK_EQ(ev.code, WS_CLOSE_NO_STATUS);
    CHECK_EQ(ev.len, 0);
}

MG_TEST(test_close_with_a_one_byte_payload_fails_with_1002)
{
    size_t at = 0;
    struct rec ev;

    put(&at, WS_OP_CLOSE, 1, "\x03", 1);
    ev = last_event(at, sizeof(msg_buf));
    CHECK_EQ(ev.type, WS_EV_ERROR);
    CHECK_EQ(ev.code, WS_CLOSE_PROTOCOL);
}

MG_TEST(test_close_with_code_1005_1006_999_or_unassigned_fails_with_1002)
{
    static const uint16_t bad[] = { 0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000,
                                    65535 };
    uint8_t payload[2];
    size_t at, i;
    struct rec ev;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        payload[0] = (uint8_t)(bad[i] >> 8);
        payload[1] = (uint8_t)bad[i];
        at = 0;
        put(&at, WS_OP_CLOSE, 1, payload, 2);
        ev = last_event(at, sizeof(msg_buf));
        CHECK_EQ(ev.type, WS_EV_ERROR);
        CHECK_EQ(ev.code, WS_CLOSE_PROTOCOL);
    }
}

MG_TEST(test_close_with_allowed_codes_is_accepted)
{
    static const uint16_t good[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                                     1012, 1013, 1014, 3000, 3999, 4000, 4999 };
    uint8_t payload[2];
    size_t at, i;
    struct rec ev;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        payload[0] = (uint8_t)(good[i] >> 8);
        payload[1] = (uint8_t)good[i];
        at = 0;
        put(&at, WS_OP_CLOSE, 1, payload, 2);
        ev = last_event(at, sizeof(msg_buf));
        CHECK_EQ(ev.type, WS_EV_CLOSE);
        CHECK_EQ(ev.code, good[i]);
    }
}

MG_TEST(test_close_reason_that_is_not_utf8_fails_with_1007)
{
    size_t at = 0;
    struct rec ev;

    put(&at, WS_OP_CLOSE, 1, "\x03\xe8\xed\xa0\x80", 5);
    ev = last_event(at, sizeof(msg_buf));
    CHECK_EQ(ev.type, WS_EV_ERROR);
    CHECK_EQ(ev.code, WS_CLOSE_INVALID_DATA);
}

MG_TEST(test_input_after_a_close_is_consumed_and_ignored)
{
    struct ws_reader r;
    struct ws_event ev;
    size_t at = 0, used;

    put(&at, WS_OP_CLOSE, 1, "\x03\xe8", 2);
    put(&at, WS_OP_TEXT, 1, "late", 4);
    ws_reader_init(&r, msg_buf, sizeof(msg_buf), 1);
    CHECK_EQ(ws_reader_feed(&r, wire, at, &used, &ev), 0);
    CHECK_EQ(ev.type, WS_EV_CLOSE);
    CHECK_EQ(used, 8);
    CHECK_EQ(ws_reader_feed(&r, wire + used, at - used, &used, &ev), 0);
    CHECK_EQ(ev.type, WS_EV_NONE);
    CHECK_EQ(used, at - 8);
}

MG_TEST(test_reader_stays_in_its_error_state_after_a_failure)
{
    static const uint8_t unmasked[] = { 0x81, 0x01, 'x' };
    struct ws_reader r;
    struct ws_event ev;
    size_t at = 0, used;

    put(&at, WS_OP_TEXT, 1, "fine", 4);
    ws_reader_init(&r, msg_buf, sizeof(msg_buf), 1);
    CHECK_EQ(ws_reader_feed(&r, unmasked, sizeof(unmasked), &used, &ev), MG_ERR_INVAL);
    CHECK_EQ(ws_reader_feed(&r, wire, at, &used, &ev), MG_ERR_INVAL);
    CHECK_EQ(used, 0);
    CHECK_EQ(ev.type, WS_EV_ERROR);
    CHECK_EQ(ev.code, WS_CLOSE_PROTOCOL);
}

/* --- writers -------------------------------------------------------------- */

MG_TEST(test_server_header_uses_the_7_16_and_64_bit_forms_at_125_126_and_65536)
{
    static const uint8_t h125[] = { 0x81, 125 };
    static const uint8_t h126[] = { 0x82, 126, 0x00, 0x7E };
    static const uint8_t h65535[] = { 0x82, 126, 0xFF, 0xFF };
    static const uint8_t h65536[] = { 0x02, 127, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00 };
    uint8_t out[10];

    CHECK_EQ(ws_frame_header(out, WS_OP_TEXT, 1, 125), 2);
    CHECK_MEM(out, h125, 2);
    CHECK_EQ(ws_frame_header(out, WS_OP_BINARY, 1, 126), 4);
    CHECK_MEM(out, h126, 4);
    CHECK_EQ(ws_frame_header(out, WS_OP_BINARY, 1, 65535), 4);
    CHECK_MEM(out, h65535, 4);
    CHECK_EQ(ws_frame_header(out, WS_OP_BINARY, 0, 65536), 10);
    CHECK_MEM(out, h65536, 10);
}

MG_TEST(test_close_payload_holds_the_code_and_cuts_the_reason_at_a_character)
{
    char reason[200];
    uint8_t out[WS_CONTROL_MAX];
    size_t i;

    CHECK_EQ(ws_close_payload(out, WS_CLOSE_NORMAL, "bye"), 5);
    CHECK_MEM(out, "\x03\xe8" "bye", 5);
    CHECK_EQ(ws_close_payload(out, WS_CLOSE_GOING_AWAY, NULL), 2);
    CHECK_EQ(ws_close_payload(out, WS_CLOSE_NO_STATUS, "ignored"), 0);

    /* 122 ASCII bytes, then a 2-byte character that would end at byte 124. */
    memset(reason, 'a', 122);
    memcpy(reason + 122, "\xc3\xa9\xc3\xa9", 5);
    CHECK_EQ(ws_close_payload(out, WS_CLOSE_POLICY, reason), 2 + 122);
    for (i = 0; i < 122; i++)
        CHECK_EQ(out[2 + i], 'a');
    memset(reason, 'b', sizeof(reason) - 1);
    reason[sizeof(reason) - 1] = '\0';
    CHECK_EQ(ws_close_payload(out, WS_CLOSE_POLICY, reason), WS_CONTROL_MAX);
}

MG_TEST(test_masked_writer_output_reads_back_through_the_server_reader)
{
    static const size_t sizes[] = { 0, 1, 125, 126, 65535, 65536 };
    static uint8_t payload[65536];
    size_t at, i, k;
    struct rec ev;

    for (i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 31 + 5);
    for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        at = ws_frame_write_masked(wire, sizeof(wire), WS_OP_BINARY, 1, mask_key, payload,
                                   sizes[k]);
        CHECK(at > sizes[k]);
        ev = last_event(at, sizeof(msg_buf));
        CHECK_EQ(ev.type, WS_EV_BINARY);
        CHECK_EQ(ev.len, sizes[k]);
        CHECK_MEM(msg_buf, payload, sizes[k]);
    }
}

MG_TEST(test_masked_writer_refuses_a_frame_that_does_not_fit)
{
    uint8_t out[16];

    CHECK_EQ(ws_frame_write_masked(out, sizeof(out), WS_OP_TEXT, 1, mask_key,
                                   (const uint8_t *)"0123456789", 10), 16);
    CHECK_EQ(ws_frame_write_masked(out, sizeof(out), WS_OP_TEXT, 1, mask_key,
                                   (const uint8_t *)"0123456789a", 11), 0);
    CHECK_EQ(ws_frame_write_masked(out, 5, WS_OP_TEXT, 1, mask_key, NULL, 0), 0);
}
