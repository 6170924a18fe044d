#include "signal_cmd.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "b64.h"
#include "board.h"
#include "crypto.h"
#include "flash.h"
#include "hex.h"
#include "http.h"
#include "json/json.h"
#include "keystore.h"
#include "le.h"
#include "mg_err.h"
#include "signal_bundle.h"
#include "signal_session.h"
#include "sys.h"
#include "ws_client.h"
#include "x25519.h"
#include "xeddsa.h"

#define ID_MAX 64

static char self[ID_MAX];
static jsmntok_t tok[512];

static int64_t now_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* --- options ---------------------------------------------------------------- */

struct opts {
    const char *store, *url, *id, *to, *reply, *text;
    long count, timeout_s;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->timeout_s = -1;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strncmp(a, "--", 2) != 0) {
            if (o->text)
                return -1;
            o->text = a;
            continue;
        }
        if (!v)
            return -1;
        if (strcmp(a, "--store") == 0)
            o->store = v;
        else if (strcmp(a, "--url") == 0)
            o->url = v;
        else if (strcmp(a, "--id") == 0)
            o->id = v;
        else if (strcmp(a, "--to") == 0)
            o->to = v;
        else if (strcmp(a, "--reply-to") == 0)
            o->reply = v;
        else if (strcmp(a, "--count") == 0)
            o->count = strtol(v, NULL, 10);
        else if (strcmp(a, "--timeout") == 0)
            o->timeout_s = strtol(v, NULL, 10);
        else
            return -1;
        i++;
    }
    if (!o->store) {
        o->store = getenv("MESHCTL_STORE");
        if (!o->store)
            return -1;
    }
    return 0;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: meshctl init --id ID --store FILE\n"
            "       meshctl register --url URL --store FILE\n"
            "       meshctl send --url URL --store FILE --to ID [--reply-to REQUEST_ID] TEXT\n"
            "       meshctl listen --url URL --store FILE [--count N] [--timeout S]\n"
            "       meshctl telemetry --url URL --store FILE [--count N] [--timeout S]\n"
            "  a Signal client of a relay; FILE (with FILE.key and FILE.id) holds the\n"
            "  identity, prekeys and sessions, encrypted. --store defaults to $MESHCTL_STORE.\n");
    return 2;
}

/* --- the store ---------------------------------------------------------------- */

static void side_path(char *out, size_t cap, const char *store, const char *ext)
{
    snprintf(out, cap, "%s.%s", store, ext);
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "meshctl: %s: %s\n", what, mg_strerror(rc));
    return 1;
}

/* Opens (or, with id, creates) the store and Signal over it. */
static int store_open(const char *store, const char *id)
{
    char key_path[1024], id_path[1024];
    struct hal_device_secret secret;
    uint8_t root[32];
    int made = 0, rc;
    FILE *f;

    side_path(key_path, sizeof(key_path), store, "key");
    side_path(id_path, sizeof(id_path), store, "id");
    rc = mg_crypto_init();
    if (rc)
        return fail("crypto", rc);
    unsetenv("MESHGATE_PASSPHRASE");
    hal_sys_set_secret_path(key_path);
    if (id) {
        if (access(store, F_OK) == 0 || access(key_path, F_OK) == 0) {
            fprintf(stderr, "meshctl init: %s or %s exists\n", store, key_path);
            return 1;
        }
        rc = mg_random(root, sizeof(root));
        if (rc == 0)
            rc = hal_sys_create_device_secret(root);
        memset(root, 0, sizeof(root));
        if (rc)
            return fail(key_path, rc);
        f = fopen(id_path, "w");
        if (!f || fprintf(f, "%s\n", id) < 0 || fclose(f) != 0)
            return fail(id_path, MG_ERR_IO);
    }
    f = fopen(id_path, "r");
    if (!f || !fgets(self, sizeof(self), f)) {
        if (f)
            fclose(f);
        return fail(id_path, MG_ERR_NOENT);
    }
    fclose(f);
    self[strcspn(self, "\r\n")] = '\0';
    memset(&secret, 0, sizeof(secret));
    rc = hal_sys_device_secret(&secret);
    if (rc)
        return fail(key_path, rc);
    rc = hal_flash_open(store);
    if (rc)
        return fail(store, rc);
    rc = keystore_open(hal_flash_part("keys"), &secret, BOARD_KDF_ITERATIONS);
    hal_sys_secret_wipe(&secret);
    if (rc == 0 && id)
        rc = keystore_generate_missing(&made);
    if (rc)
        return fail("keystore", rc);
    rc = signal_session_init();
    if (rc)
        return fail("signal", rc);
    return 0;
}

/* --- requests ------------------------------------------------------------------ */

/* The X-Mesh-* headers of PROTOCOLS.md 1: XEdDSA by the identity key over
 * id \n timestamp \n METHOD \n target \n hex(sha256(body)). */
static int sign_headers(const char *method, const char *target, const void *body, size_t len,
                        char *out, size_t cap)
{
    uint8_t ident[68], digest[32], rnd[64], sig[64];
    char hexd[65], ts[24], sig64[B64_LEN(64) + 1], msg[2048];
    size_t n = 0;
    int rc = keystore_get(KS_SIGNAL_IDENTITY, ident, sizeof(ident), &n), m;

    if (rc)
        return rc;
    mg_sha256(body, len, digest);
    hex_encode(digest, 32, hexd);
    snprintf(ts, sizeof(ts), "%lld", (long long)now_ms());
    m = snprintf(msg, sizeof(msg), "%s\n%s\n%s\n%s\n%s", self, ts, method, target, hexd);
    if (m < 0 || (size_t)m >= sizeof(msg) || mg_random(rnd, sizeof(rnd)) != 0)
        return MG_ERR_TOOBIG;
    xeddsa_sign(ident, msg, (size_t)m, rnd, sig);
    memset(ident, 0, sizeof(ident));
    b64_encode(sig, 64, sig64);
    snprintf(out, cap, "X-Mesh-Id: %s\r\nX-Mesh-Timestamp: %s\r\nX-Mesh-Signature: %s\r\n", self,
             ts, sig64);
    return 0;
}

static struct mctl_response resp;

/* A signed request to the relay; its status, or -1. */
static int relay_request(const struct mctl_url *u, const char *method, const char *path,
                         const char *body, size_t len)
{
    char hdrs[512];

    if (sign_headers(method, path, body, len, hdrs, sizeof(hdrs)) != 0)
        return -1;
    if (mctl_http(u, method, path, hdrs, body, len, &resp) != 0)
        return -1;
    return resp.status;
}

/* Writes s as a JSON string. */
static void json_esc(FILE *f, const char *s, size_t n)
{
    size_t i;

    fputc('"', f);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* Like json_esc into a buffer; the length written, or -1 when it does not fit. */
static long json_esc_buf(char *out, size_t cap, const char *s)
{
    size_t o = 0;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (o + 7 >= cap)
            return -1;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return (long)o;
}

/* --- init, register ------------------------------------------------------------ */

int meshctl_init(int argc, char **argv)
{
    struct opts o;
    char fp[200];

    if (parse_opts(argc, argv, &o) != 0 || !o.id || o.text || strlen(o.id) >= ID_MAX ||
        strpbrk(o.id, "\"\\ "))
        return usage();
    if (store_open(o.store, o.id) != 0)
        return 1;
    if (keystore_fingerprint(KS_SIGNAL_IDENTITY, fp, sizeof(fp)) != 0)
        strcpy(fp, "?");
    printf("id         %s\nstore      %s (+ .key, .id)\nidentity   %s\n", self, o.store, fp);
    hal_flash_close();
    return 0;
}

/* Appends "preKeys": every one-time prekey of the store (at most
 * BOARD_RELAY_ONETIME), so that each sender gets its own. */
static int add_prekeys(char *bundle, size_t cap, size_t *len)
{
    static uint8_t page[KS_MAX_PLAIN];
    size_t n = 0, o = *len - 1, count = 0;   /* over the closing brace */
    unsigned p, i;

    o += (size_t)snprintf(bundle + o, cap - o, ",\"preKeys\":[");
    for (p = 0; p < KS_PREKEY_PAGES; p++) {
        if (keystore_get((uint16_t)(KS_PREKEYS + p), page, sizeof(page), &n) != 0)
            continue;
        for (i = 0; i < page[0] && count < BOARD_RELAY_ONETIME; i++, count++) {
            uint8_t pub[33];
            char b[B64_LEN(33) + 1];
            pub[0] = 0x05;
            x25519_public_key(pub + 1, page + 8 + 36 * i);
            b64_encode(pub, 33, b);
            if (o + 128 >= cap)
                return MG_ERR_TOOBIG;
            o += (size_t)snprintf(bundle + o, cap - o, "%s{\"keyId\":%u,\"publicKey\":\"%s\"}",
                                  count ? "," : "", (unsigned)le32_get(page + 4 + 36 * i), b);
        }
    }
    memset(page, 0, sizeof(page));
    o += (size_t)snprintf(bundle + o, cap - o, "]}");
    *len = o;
    return 0;
}

int meshctl_register(int argc, char **argv)
{
    static char bundle[8192], body[9000];
    struct mctl_url u;
    struct opts o;
    uint8_t ident[68], pub[33];
    char pub64[B64_LEN(33) + 1];
    size_t n = 0;
    int st, len;

    if (parse_opts(argc, argv, &o) != 0 || !o.url || o.text || mctl_url_parse(o.url, &u) != 0)
        return usage();
    if (store_open(o.store, NULL) != 0)
        return 1;
    if (keystore_get(KS_SIGNAL_IDENTITY, ident, sizeof(ident), &n) != 0)
        return fail("identity", MG_ERR_NOENT);
    pub[0] = 0x05;
    memcpy(pub + 1, ident + 32, 32);
    memset(ident, 0, sizeof(ident));
    b64_encode(pub, 33, pub64);
    len = snprintf(body, sizeof(body), "{\"id\":\"%s\",\"identityKey\":\"%s\"}", self, pub64);
    st = relay_request(&u, "POST", "/v1/register", body, (size_t)len);
    if (st != 200) {
        fprintf(stderr, "meshctl register: /v1/register answered %d %s\n", st, resp.body);
        return 1;
    }
    if (signal_session_bundle_json(self, bundle, sizeof(bundle), &n) != 0 ||
        add_prekeys(bundle, sizeof(bundle), &n) != 0)
        return fail("bundle", MG_ERR_TOOBIG);
    len = snprintf(body, sizeof(body), "{\"id\":\"%s\",\"bundle\":%s}", self, bundle);
    st = relay_request(&u, "POST", "/v1/prekeys", body, (size_t)len);
    if (st != 200) {
        fprintf(stderr, "meshctl register: /v1/prekeys answered %d %s\n", st, resp.body);
        return 1;
    }
    printf("{\"id\":\"%s\",\"registered\":true,\"identityKey\":\"%s\"}\n", self, pub64);
    hal_flash_close();
    return 0;
}

/* --- send ---------------------------------------------------------------------- */

static const char *session_error(int rc)
{
    switch (rc) {
    case MG_ERR_AUTH:
        return "undecryptable";
    case MG_ERR_PERM:
        return "identity_changed";
    case MG_ERR_NOENT:
        return "no_session";
    case MG_ERR_EXIST:
        return "duplicate";
    case MG_ERR_CORRUPT:
        return "corrupt_session";
    case MG_ERR_TOOBIG:
        return "too_big";
    default:
        return "invalid";
    }
}

static char b64body[SIG_BODY_B64_MAX];

/* Encrypts plain for `to`, making the session from its bundle first when
 * there is none; prints why on stderr when it cannot. */
static int encrypt_for(const struct mctl_url *u, const char *to, const char *plain, size_t len,
                       int *type, size_t *blen)
{
    char path[128];
    struct json_doc d;
    int rc = signal_session_encrypt(to, 1, plain, len, type, b64body, sizeof(b64body), blen), b;

    if (rc != MG_ERR_NOENT)
        goto out;
    snprintf(path, sizeof(path), "/v1/prekeys/%s", to);
    if (mctl_http(u, "GET", path, NULL, NULL, 0, &resp) != 0)
        return MG_ERR_IO;
    if (resp.status != 200) {
        fprintf(stderr, "meshctl: %s has no bundle (%d %s)\n", to, resp.status, resp.body);
        return MG_ERR_NOENT;
    }
    if (json_parse(&d, resp.body, resp.body_len, tok, 512) != 0 ||
        (b = json_get(&d, 0, "bundle")) < 0 || json_kind(&d, b) != JSON_OBJECT) {
        fprintf(stderr, "meshctl: the bundle of %s is not JSON\n", to);
        return MG_ERR_INVAL;
    }
    rc = signal_session_from_bundle(to, 1, resp.body + d.tok[b].start,
                                    (size_t)(d.tok[b].end - d.tok[b].start));
    if (rc == MG_ERR_AUTH) {
        fprintf(stderr, "meshctl: the bundle of %s has a bad signature: refused\n", to);
        return rc;
    }
    if (rc == MG_ERR_PERM) {
        fprintf(stderr, "meshctl: the identity key of %s changed: not trusted\n", to);
        return rc;
    }
    if (rc == 0)
        rc = signal_session_encrypt(to, 1, plain, len, type, b64body, sizeof(b64body), blen);
out:
    if (rc == MG_ERR_PERM)
        fprintf(stderr, "meshctl: the identity key of %s changed: not trusted\n", to);
    else if (rc)
        fprintf(stderr, "meshctl: encrypting for %s: %s\n", to, mg_strerror(rc));
    return rc;
}

/* Encrypts plain for `to` and deposits it as the envelope of PROTOCOLS.md 1. */
static int deliver(const struct mctl_url *u, const char *to, const char *plain, size_t len,
                   int *type)
{
    static char body[SIG_BODY_B64_MAX + 1024];
    const char *a = strcmp(self, to) < 0 ? self : to, *b = a == self ? to : self;
    size_t blen = 0;
    int n, st;

    if (encrypt_for(u, to, plain, len, type, &blen) != 0)
        return -1;
    n = snprintf(body, sizeof(body),
                 "{\"from\":\"%s\",\"to\":\"%s\",\"envelope\":{\"version\":1,\"senderId\":\"%s\","
                 "\"recipientId\":\"%s\",\"sessionId\":\"%s:%s\",\"type\":%d,\"body\":\"%s\","
                 "\"timestamp\":%lld}}", self, to, self, to, a, b, *type, b64body,
                 (long long)now_ms());
    if (n < 0 || (size_t)n >= sizeof(body))
        return -1;
    st = relay_request(u, "POST", "/v1/messages", body, (size_t)n);
    if (st != 200) {
        fprintf(stderr, "meshctl: /v1/messages answered %d %s\n", st, resp.body);
        return -1;
    }
    return 0;
}

int meshctl_send(int argc, char **argv)
{
    static char plain[BOARD_SIGNAL_MESSAGE_MAX + 1], text[BOARD_SIGNAL_MESSAGE_MAX];
    uint8_t rnd[8];
    char req[17];
    struct mctl_url u;
    struct opts o;
    int n, type = 0;

    if (parse_opts(argc, argv, &o) != 0 || !o.url || !o.to || !o.text ||
        mctl_url_parse(o.url, &u) != 0)
        return usage();
    if (store_open(o.store, NULL) != 0)
        return 1;
    if (json_esc_buf(text, sizeof(text), o.text) < 0) {
        fprintf(stderr, "meshctl send: the text is too long\n");
        return 1;
    }
    mg_random(rnd, sizeof(rnd));
    hex_encode(rnd, sizeof(rnd), req);
    /* The SysMaint reference's chat shapes: chat.prompt, and chat.reply to
     * a prompt's requestId. */
    if (o.reply)
        n = snprintf(plain, sizeof(plain), "{\"version\":1,\"kind\":\"chat.reply\","
                     "\"requestId\":\"%s\",\"reply\":\"%s\",\"from\":\"%s\",\"createdAt\":%lld}",
                     o.reply, text, self, (long long)now_ms());
    else
        n = snprintf(plain, sizeof(plain), "{\"version\":1,\"kind\":\"chat.prompt\","
                     "\"requestId\":\"%s\",\"prompt\":\"%s\",\"from\":\"%s\",\"createdAt\":%lld}",
                     req, text, self, (long long)now_ms());
    if (n < 0 || (size_t)n >= sizeof(plain)) {
        fprintf(stderr, "meshctl send: the message is too long\n");
        return 1;
    }
    if (deliver(&u, o.to, plain, (size_t)n, &type) != 0)
        return 1;
    printf("{\"ok\":true,\"to\":\"%s\",\"type\":%d,\"requestId\":\"%s\"}\n", o.to, type,
           o.reply ? o.reply : req);
    hal_flash_close();
    return 0;
}

/* --- listen, telemetry ------------------------------------------------------------ */

static void table_row(const struct json_doc *d, const char *from, int type)
{
    static const char *const pcts[] = { "cpuPct", "memPct", "swapPct" };
    int h = json_get(d, 0, "host"), i, v;
    char s[64];

    i = json_get(d, 0, "reportId");
    if (i < 0 || json_str(d, i, s, sizeof(s)) <= 0)
        strcpy(s, "?");
    printf("%-10s %-28s %4d", from, s, type);
    for (i = 0; i < 3; i++) {
        v = h >= 0 ? json_get(d, h, pcts[i]) : -1;
        printf(" %7.*s", v >= 0 ? d->tok[v].end - d->tok[v].start : 1,
               v >= 0 ? d->text + d->tok[v].start : "-");
    }
    v = h >= 0 ? json_get(d, h, "netInBytes") : -1;
    printf(" %14.*s", v >= 0 ? d->tok[v].end - d->tok[v].start : 1,
           v >= 0 ? d->text + d->tok[v].start : "-");
    v = h >= 0 ? json_get(d, h, "netOutBytes") : -1;
    printf(" %14.*s", v >= 0 ? d->tok[v].end - d->tok[v].start : 1,
           v >= 0 ? d->text + d->tok[v].start : "-");
    v = h >= 0 ? json_get(d, h, "load") : -1;
    printf(" %.*s\n", v >= 0 ? d->tok[v].end - d->tok[v].start : 1,
           v >= 0 ? d->text + d->tok[v].start : "-");
}

/* One pushed frame {"from","to","envelope","msgId"}: decrypted and printed
 * (a JSON line, or a table row for a report); *msg_id for the ack. A prekey
 * message that decrypts is answered with a control.ping, so that the
 * sender's session learns it has arrived and sends whisper messages. */
static void handle_frame(const struct mctl_url *u, char *frame, size_t len, int table,
                         char *msg_id, size_t id_cap)
{
    static char plain[BOARD_SIGNAL_MESSAGE_MAX + 1];
    static jsmntok_t ptok[4096];
    char from[ID_MAX] = "";
    struct json_doc d, p;
    int e, t, b, i, rc, type = 0;
    int64_t v = 0, ts = 0;
    size_t n = 0;

    msg_id[0] = '\0';
    if (json_parse(&d, frame, len, tok, 512) != 0 || json_kind(&d, 0) != JSON_OBJECT)
        return;
    i = json_get(&d, 0, "msgId");
    if (i >= 0)
        json_str(&d, i, msg_id, id_cap);
    i = json_get(&d, 0, "from");
    if (i >= 0)
        json_str(&d, i, from, sizeof(from));
    e = json_get(&d, 0, "envelope");
    t = e >= 0 ? json_get(&d, e, "type") : -1;
    b = e >= 0 ? json_get(&d, e, "body") : -1;
    i = e >= 0 ? json_get(&d, e, "timestamp") : -1;
    if (i >= 0)
        json_int(&d, i, &ts);
    if (t < 0 || json_int(&d, t, &v) != 0 || b < 0 || json_kind(&d, b) != JSON_STRING) {
        rc = MG_ERR_INVAL;
    } else {
        type = (int)v;
        rc = signal_session_decrypt(from, 1, type, frame + d.tok[b].start,
                                    (size_t)(d.tok[b].end - d.tok[b].start), plain,
                                    sizeof(plain) - 1, &n);
    }
    if (rc) {
        if (!table) {
            printf("{\"msgId\":\"%s\",\"from\":", msg_id);
            json_esc(stdout, from, strlen(from));
            printf(",\"type\":%d,\"error\":\"%s\"}\n", type, session_error(rc));
        } else {
            fprintf(stderr, "meshctl: a message from %s: %s\n", from, session_error(rc));
        }
        fflush(stdout);
        return;
    }
    plain[n] = '\0';
    i = json_parse(&p, plain, n, ptok, 4096) == 0 && json_kind(&p, 0) == JSON_OBJECT;
    if (table) {
        if (i && json_get(&p, 0, "kind") >= 0 && json_str_eq(&p, json_get(&p, 0, "kind"),
                                                                 "telemetry.report"))
            table_row(&p, from, type);
    } else {
        printf("{\"msgId\":\"%s\",\"from\":", msg_id);
        json_esc(stdout, from, strlen(from));
        printf(",\"type\":%d,\"timestamp\":%lld,\"message\":", type, (long long)ts);
        if (i)
            fwrite(plain, 1, n, stdout);
        else
            json_esc(stdout, plain, n);
        printf("}\n");
    }
    fflush(stdout);
    if (type == SIG_MSG_PREKEY) {
        int n2 = snprintf(plain, sizeof(plain),
                          "{\"version\":1,\"kind\":\"control.ping\",\"createdAt\":%lld}",
                          (long long)now_ms());
        int t2 = 0;
        if (deliver(u, from, plain, (size_t)n2, &t2) != 0)
            fprintf(stderr, "meshctl: could not answer %s's first message\n", from);
    }
}

static int listen_loop(int argc, char **argv, int table)
{
    static char frame[128 * 1024];
    char target[160], hdrs[512], msg_id[64], ack[160];
    struct mctl_url u;
    struct opts o;
    int64_t deadline;
    long seen = 0, n;
    int fd;

    if (parse_opts(argc, argv, &o) != 0 || !o.url || o.text || mctl_url_parse(o.url, &u) != 0)
        return usage();
    if (store_open(o.store, NULL) != 0)
        return 1;
    snprintf(target, sizeof(target), "/ws?client_id=%s&ack=1", self);
    if (sign_headers("GET", target, "", 0, hdrs, sizeof(hdrs)) != 0)
        return 1;
    fd = mctl_ws_open(&u, target, hdrs);
    if (fd < 0)
        return 1;
    if (table) {
        printf("%-10s %-28s %4s %7s %7s %7s %14s %14s %s\n", "from", "report", "type", "cpu%",
               "mem%", "swap%", "netIn", "netOut", "load");
        fflush(stdout);
    }
    deadline = o.timeout_s >= 0 ? now_ms() + o.timeout_s * 1000 : INT64_MAX;
    while (!o.count || seen < o.count) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            break;
        n = mctl_ws_recv(fd, frame, sizeof(frame), left > 1000 ? 1000 : (int)left);
        if (n < 0) {
            fprintf(stderr, "meshctl: the relay closed the connection\n");
            close(fd);
            return 1;
        }
        if (n == 0)
            continue;
        handle_frame(&u, frame, (size_t)n, table, msg_id, sizeof(msg_id));
        seen++;
        if (msg_id[0]) {
            int k = snprintf(ack, sizeof(ack), "{\"type\":\"ack\",\"ids\":[\"%s\"]}", msg_id);
            mctl_ws_send(fd, ack, (size_t)k);
        }
    }
    close(fd);
    hal_flash_close();
    return 0;
}

int meshctl_listen(int argc, char **argv)
{
    return listen_loop(argc, argv, 0);
}

int meshctl_telemetry(int argc, char **argv)
{
    return listen_loop(argc, argv, 1);
}
