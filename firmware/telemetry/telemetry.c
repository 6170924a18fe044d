#include "telemetry.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "clock.h"
#include "confsync/config.h"
#include "console/console.h"
#include "diag/log.h"
#include "diag/textbuf.h"
#include "json/json.h"
#include "keystore.h"
#include "mg_err.h"
#include "node/node.h"
#include "relay/local.h"
#include "signal_arena.h"
#include "signal_bundle.h"
#include "signal_session.h"
#include "signal_store.h"
#include "telemetry/report.h"

#if BOARD_TELEMETRY_REPORT_MAX > BOARD_SIGNAL_MESSAGE_MAX
#error "a report must fit one Signal message"
#endif

/* Answers read from the gateway's mailbox in one poll: bounded work. */
#define INBOX_PER_POLL 4

static const struct telemetry_ops default_ops = {
    relay_local_bundle, relay_local_admit, relay_local_deposit, signal_session_from_bundle,
    signal_session_encrypt,
};

static struct {
    const struct telemetry_ops *ops;
    char self[USER_ID_MAX];       /* the gateway's relay id; "" until registered */
    int published;                /* self registered and its bundle published */
    uint64_t next_due, next_try, next_register;
    int held;
    size_t report_len;
    char report_id[40];
    unsigned long seq;
    struct telemetry_cpu_state cpu;
    struct telemetry_host host;   /* the last report's sample, for the console */
    struct telemetry_stats stats;
} t;

static char report[BOARD_TELEMETRY_REPORT_MAX + 1];
static char body[SIG_BODY_B64_MAX];
static char envelope[SIG_BODY_B64_MAX + 512];
static char bundle[SIG_BUNDLE_JSON_MAX + 512];
/* The gateway's mailbox: one envelope at a time, and its plaintext. */
static char inbox[SIG_BODY_B64_MAX + 512];
static uint8_t plain[BOARD_SIGNAL_MESSAGE_MAX];

static void set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(t.stats.last_error, sizeof(t.stats.last_error), fmt, ap);
    va_end(ap);
}

/* The relay said no: a cap (429) is worth waiting for, anything else is
 * counted as failed and returns rc. */
static int refused(int status, const char *why, int rc)
{
    if (status == 429)
        t.stats.capped++;
    else
        t.stats.failed++;
    set_error("the relay refused: %s", why ? why : "?");
    return status == 429 ? MG_ERR_AGAIN : rc;
}

void telemetry_reset(const struct telemetry_ops *ops, const char *self)
{
    memset(&t, 0, sizeof(t));
    t.ops = ops ? ops : &default_ops;
    if (self)
        snprintf(t.self, sizeof(t.self), "%s", self);
}

void telemetry_get_stats(struct telemetry_stats *out)
{
    *out = t.stats;
}

void telemetry_hold(const char *text, size_t len, const char *report_id)
{
    if (len > BOARD_TELEMETRY_REPORT_MAX)
        return;
    if (t.held)
        t.stats.replaced++;
    memcpy(report, text, len);
    report[len] = '\0';
    t.report_len = len;
    snprintf(t.report_id, sizeof(t.report_id), "%s", report_id);
    t.held = 1;
}

/* The sessionId of an envelope: the pair's ids in sorted order, the same in
 * both directions (the reference leaves its form open). */
static void session_id(char *out, size_t cap, const char *a, const char *b)
{
    if (strcmp(a, b) > 0) {
        const char *x = a;
        a = b;
        b = x;
    }
    snprintf(out, cap, "%s:%s", a, b);
}

/* Encrypts the held report, making the session from the recipient's bundle
 * first when there is none. */
static int encrypt_held(const char *to, int *type, size_t *blen)
{
    int rc = t.ops->encrypt(to, 1, report, t.report_len, type, body, sizeof(body), blen);
    int n;

    if (rc != MG_ERR_NOENT)
        return rc;
    n = t.ops->bundle(to, bundle, sizeof(bundle));
    if (n < 0)
        return n;
    rc = t.ops->from_bundle(to, 1, bundle, (size_t)n);
    if (rc == MG_ERR_AUTH)
        set_error("the bundle of %s has a bad signature", to);
    else if (rc == MG_ERR_PERM)
        set_error("the identity key of %s changed: not trusted (keys reset its session)", to);
    if (rc)
        return rc == MG_ERR_NOENT ? MG_ERR_INVAL : rc;
    return t.ops->encrypt(to, 1, report, t.report_len, type, body, sizeof(body), blen);
}

int telemetry_send_held(const char *to, int64_t now)
{
    char sid[2 * USER_ID_MAX + 2];
    struct textbuf b;
    const char *why = NULL;
    size_t blen = 0;
    int status, type = 0, rc;

    if (!t.held || !t.self[0])
        return MG_ERR_NOENT;
    status = t.ops->admit(t.self, to, &why);
    if (status == 404 && why && strncmp(why, "Recipient", 9) == 0) {
        t.stats.no_bundle++;
        set_error("%s has not registered yet", to);
        return MG_ERR_NOENT;
    }
    if (status != 200)
        return refused(status, why, MG_ERR_PERM);
    rc = encrypt_held(to, &type, &blen);
    if (rc == MG_ERR_NOENT) {
        t.stats.no_bundle++;
        set_error("%s has no bundle yet", to);
        return rc;
    }
    if (rc) {
        t.stats.failed++;
        if (rc != MG_ERR_AUTH && rc != MG_ERR_PERM)
            set_error("encrypting for %s: %s", to, mg_strerror(rc));
        return rc;
    }
    session_id(sid, sizeof(sid), t.self, to);
    textbuf_init(&b, envelope, sizeof(envelope));
    textbuf_printf(&b, "{\"version\":1,\"senderId\":\"%s\",\"recipientId\":\"%s\","
                   "\"sessionId\":\"%s\",\"type\":%d,\"body\":\"%s\",\"timestamp\":%lld}",
                   t.self, to, sid, type, body, (long long)now);
    if (b.overflow) {
        t.stats.failed++;
        set_error("the envelope outgrew its buffer");
        return MG_ERR_TOOBIG;
    }
    status = t.ops->deposit(t.self, to, envelope, b.len, &why);
    /* Refused now, a message key is spent: the recipient skips it (within
     * BOARD_SIGNAL_MAX_SKIP). */
    if (status != 200)
        return refused(status, why, MG_ERR_IO);
    t.held = 0;
    t.stats.sent++;
    if (type == SIG_MSG_PREKEY)
        t.stats.sent_prekey++;
    t.stats.last_type = type;
    t.stats.last_sent_at = now;
    memcpy(t.stats.last_sent, t.report_id, sizeof(t.stats.last_sent));
    t.stats.last_error[0] = '\0';
    return 0;
}

/* --- the service ------------------------------------------------------------ */

/* Registers the gateway's Signal identity under its node name and publishes
 * its bundle (again at every start: the prekey in it may have changed). */
static int register_self(void)
{
    uint8_t ident[68], pub[33];
    const char *name = node_name();
    size_t n = 0;
    int rc = keystore_get(KS_SIGNAL_IDENTITY, ident, sizeof(ident), &n);

    if (rc == 0) {
        pub[0] = 0x05;
        memcpy(pub + 1, ident + 32, 32);
        rc = relay_local_register(name, pub);
    }
    memset(ident, 0, sizeof(ident));
    if (rc == 0)
        rc = signal_session_bundle_json(name, bundle, sizeof(bundle), &n);
    if (rc == 0)
        rc = relay_local_publish(name, bundle, n);
    if (rc) {
        set_error("registering %s with the relay: %s", name, mg_strerror(rc));
        return rc;
    }
    snprintf(t.self, sizeof(t.self), "%s", name);
    t.published = 1;
    log_printf("telemetry: %s registered with the relay, bundle published", name);
    return 0;
}

/* The envelope's type and body (PROTOCOLS.md 1); 0 or MG_ERR_INVAL. */
static int envelope_parts(const char *text, size_t len, int *type, const char **b64, size_t *blen)
{
    static jsmntok_t tok[32];
    struct json_doc d;
    int64_t v = 0;
    int i;

    if (json_parse(&d, text, len, tok, 32) != 0 || json_kind(&d, 0) != JSON_OBJECT)
        return MG_ERR_INVAL;
    i = json_get(&d, 0, "type");
    if (i < 0 || json_int(&d, i, &v) != 0)
        return MG_ERR_INVAL;
    *type = (int)v;
    i = json_get(&d, 0, "body");
    if (i < 0 || json_kind(&d, i) != JSON_STRING)
        return MG_ERR_INVAL;
    *b64 = text + d.tok[i].start;
    *blen = (size_t)(d.tok[i].end - d.tok[i].start);
    return 0;
}

/* Reads the gateway's own mailbox: the recipient's answers are decrypted
 * (the plaintext is not used: a session that has an answer sends whisper
 * messages); everything is acked. */
static void drain_inbox(const char *recipient)
{
    struct relay_local_msg m = { "", "", 0 };
    const char *b64 = NULL;
    size_t blen = 0, n = 0;
    int i, rc, type = 0;

    for (i = 0; i < INBOX_PER_POLL; i++) {
        rc = relay_local_fetch(t.self, &m, inbox, sizeof(inbox));
        if (rc == MG_ERR_NOENT)
            return;
        if (rc == MG_ERR_CORRUPT) {   /* already dropped by the relay */
            t.stats.rejected++;
            continue;
        }
        if (rc == 0 && recipient && strcmp(m.from, recipient) == 0 &&
            envelope_parts(inbox, m.len, &type, &b64, &blen) == 0)
            rc = signal_session_decrypt(m.from, 1, type, b64, blen, plain, sizeof(plain), &n);
        else if (rc == 0)
            rc = MG_ERR_PERM;
        memset(plain, 0, n);
        if (rc == 0) {
            t.stats.answers++;
        } else {
            t.stats.rejected++;
            set_error("a message from %s was dropped: %s", m.from,
                      rc == MG_ERR_PERM ? "not a message of the recipient's" : mg_strerror(rc));
        }
        if (relay_local_ack(t.self, m.msg_id) != 0)
            return;   /* the journal refused: next poll */
    }
}

static void build_report(int64_t wall)
{
    struct telemetry_host host;
    struct relay_summary sum;
    struct telemetry_meta meta;
    char id[40];
    int n;

    telemetry_sample_host(&t.cpu, &host);
    t.host = host;
    relay_get_summary(&sum);
    snprintf(id, sizeof(id), "rpt_%lld_%lu", (long long)wall, ++t.seq);
    meta = (struct telemetry_meta){ id, t.self, wall };
    if (t.held)
        t.stats.replaced++;
    t.held = 0;
    n = telemetry_report_json(report, sizeof(report), &meta, &sum, &host);
    if (n < 0) {
        set_error("the report outgrew BOARD_TELEMETRY_REPORT_MAX");
        return;
    }
    t.report_len = (size_t)n;
    memcpy(t.report_id, id, sizeof(t.report_id));
    t.held = 1;
    t.stats.reports++;
}

static int telemetry_init(void)
{
    struct telemetry_host host;

    telemetry_reset(NULL, NULL);
    /* The first report's CPU use is over the time since boot. */
    telemetry_sample_host(&t.cpu, &host);
    return 0;
}

static void telemetry_poll(uint64_t now)
{
    const struct config *cfg = config_current();

    if ((!t.published || strcmp(t.self, node_name()) != 0) && now >= t.next_register) {
        t.published = 0;
        if (register_self() != 0)
            t.next_register = now + BOARD_TELEMETRY_RETRY_MS;
    }
    if (!t.published)
        return;
    drain_inbox(cfg ? cfg->telemetry_recipient : NULL);
    if (!cfg)
        return;
    if (now >= t.next_due) {
        t.next_due = now + cfg->telemetry_ms;
        build_report(hal_clock_wall_ms());
        t.next_try = now;
    }
    if (t.held && now >= t.next_try &&
        telemetry_send_held(cfg->telemetry_recipient, hal_clock_wall_ms()) != 0)
        t.next_try = now + BOARD_TELEMETRY_RETRY_MS;
}

static uint64_t telemetry_next_deadline(uint64_t now)
{
    uint64_t next = now + 1000;   /* the inbox, and a config to come */

    if (!t.published && t.next_register < next)
        next = t.next_register;
    if (t.published && config_current() && t.next_due < next)
        next = t.next_due;
    if (t.held && t.next_try < next)
        next = t.next_try;
    return next < now ? now : next;
}

/* --- console ---------------------------------------------------------------- */

static void telemetry_cmd(int argc, char **argv)
{
    const struct config *cfg = config_current();
    const struct telemetry_stats *s = &t.stats;
    uint64_t now = hal_clock_ms();

    (void)argc;
    (void)argv;
    console_printf("identity   %s (%s)\n", t.self[0] ? t.self : "-",
                   t.published ? "registered, bundle published" : "not registered");
    if (!cfg) {
        console_printf("recipient  - (no config yet: nothing is sent)\n");
    } else {
        console_printf("recipient  %s, every %llu ms, next due in %lld ms\n",
                       cfg->telemetry_recipient, (unsigned long long)cfg->telemetry_ms,
                       (long long)(t.next_due > now ? t.next_due - now : 0));
    }
    console_printf("last       %s, type %d, %lld s ago\n", s->last_sent[0] ? s->last_sent : "-",
                   s->last_type, (long long)(s->last_sent_at ? (hal_clock_wall_ms() -
                                                               s->last_sent_at) / 1000 : 0));
    if (s->reports)
        console_printf("host       cpu %u.%02u%%, mem %u.%02u%%, swap %u.%02u%%, load %u.%02u, "
                       "net %llu in, %llu out%s\n", t.host.cpu_x100 / 100, t.host.cpu_x100 % 100,
                       t.host.mem_x100 / 100, t.host.mem_x100 % 100, t.host.swap_x100 / 100,
                       t.host.swap_x100 % 100, t.host.load_x100[0] / 100,
                       t.host.load_x100[0] % 100, (unsigned long long)t.host.net_in_bytes,
                       (unsigned long long)t.host.net_out_bytes,
                       t.host.have[TF_CPU] && t.host.have[TF_MEM] && t.host.have[TF_SWAP] &&
                       t.host.have[TF_NET] && t.host.have[TF_LOAD] ? "" : " (some unmeasured)");
    console_printf("held       %s (%zu bytes)\n", t.held ? t.report_id : "-",
                   t.held ? t.report_len : 0);
    console_printf("reports    %lu built, %lu sent (%lu prekey), %lu skipped (replaced)\n",
                   s->reports, s->sent, s->sent_prekey, s->replaced);
    console_printf("refused    %lu no bundle, %lu capped, %lu failed\n", s->no_bundle,
                   s->capped, s->failed);
    console_printf("inbox      %lu answers, %lu dropped\n", s->answers, s->rejected);
    console_printf("error      %s\n", s->last_error[0] ? s->last_error : "-");
}

static void signal_cmd(int argc, char **argv)
{
    struct sig_arena_stats a;
    struct sig_op_stats o;
    const struct ks_key_info *k;
    char fp[200];
    size_t i, used = 0, largest = 0;

    (void)argc;
    (void)argv;
    if (keystore_fingerprint(KS_SIGNAL_IDENTITY, fp, sizeof(fp)) != 0)
        strcpy(fp, "(not present)");
    console_printf("identity   %s\n", fp);
    signal_store_usage(&used, &largest);
    console_printf("sessions   %zu of %d slots, largest record %zu bytes\n", used,
                   BOARD_SIGNAL_SESSIONS, largest);
    for (i = 0; (k = keystore_key(i)) != NULL; i++)
        if (k->origin == KS_LEARNED && k->state != KS_MISSING) {
            if (k->state != KS_PRESENT || keystore_fingerprint(k->id, fp, sizeof(fp)) != 0)
                strcpy(fp, "CORRUPT");
            console_printf("  %-12s %s\n", k->name, fp);
        }
    signal_session_get_stats(&o);
    sig_arena_get_stats(&a);
    console_printf("ops        %lu encrypt, %lu decrypt, %lu from bundle, %lu failed\n",
                   o.count[SIG_OP_ENCRYPT],
                   o.count[SIG_OP_DECRYPT_PREKEY] + o.count[SIG_OP_DECRYPT_WHISPER],
                   o.count[SIG_OP_FROM_BUNDLE], o.failed);
    console_printf("arena      %zu of %zu bytes, high-water %zu, %lu refused, %lu leaks\n",
                   a.used, a.capacity, a.high_water, a.refused, a.leaks);
}

static const struct console_cmd commands[] = {
    { "telemetry", "", "the probe: last report, next due, skipped counts, last error",
      telemetry_cmd },
    { "signal", "", "Signal identity fingerprint, sessions, arena", signal_cmd },
};

static const uint16_t needs[] = { KS_SIGNAL_IDENTITY, KS_SIGNED_PREKEY, 0 };

const struct service telemetry_service = {
    .name = "telemetry",
    .init = telemetry_init,
    .poll = telemetry_poll,
    .next_deadline = telemetry_next_deadline,
    .commands = commands,
    .n_commands = sizeof(commands) / sizeof(commands[0]),
    .keys = needs,
};
