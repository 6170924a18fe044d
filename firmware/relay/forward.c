#include "forward.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "confsync/config.h"
#include "confsync/gate.h"
#include "crypto.h"
#include "diag/log.h"
#include "diag/textbuf.h"
#include "hex.h"
#include "mg_err.h"
#include "net/http_client.h"
#include "pool.h"
#include "relay/mailbox.h"

enum job_state { JOB_FREE, JOB_WAITING, JOB_SENDING };

struct job {
    uint8_t state;
    uint8_t tries;
    journal_handle h;
    uint64_t due_ms;
    char msg_id[JOURNAL_ID_MAX];
};

static struct job jobs[FORWARD_SLOTS];
POOL_DEFINE(relay_forwards, jobs);
static struct forward_stats fs;
/* One request is built at a time: the envelope and its wrapping. */
static char body[JOURNAL_ENVELOPE_MAX + 512];
static char envelope[JOURNAL_ENVELOPE_MAX + 1];

int forward_enqueue(const char *msg_id, journal_handle h)
{
    size_t i;

    for (i = 0; i < FORWARD_SLOTS; i++) {
        if (jobs[i].state != JOB_FREE)
            continue;
        if (pool_take(&relay_forwards_pool) != 0)
            break;
        jobs[i] = (struct job){ JOB_WAITING, 0, h, hal_clock_ms(), { 0 } };
        strncpy(jobs[i].msg_id, msg_id, sizeof(jobs[i].msg_id) - 1);
        fs.queued++;
        return 0;
    }
    fs.dropped++;
    log_printf("forward: queue full, a message for the bot is not forwarded");
    return MG_ERR_NOSPC;
}

static void release(struct job *j)
{
    j->state = JOB_FREE;
    pool_give(&relay_forwards_pool);
}

static void retry_later(struct job *j, const char *why)
{
    uint64_t delay;
    uint8_t r;

    if (++j->tries >= FORWARD_TRIES) {
        fs.failed++;
        log_printf("forward: giving up after %u tries (%s)", j->tries, why);
        release(j);
        return;
    }
    fs.retries++;
    delay = 1000ull << (j->tries - 1);
    if (delay > 60000)
        delay = 60000;
    mg_random(&r, 1);
    j->due_ms = hal_clock_ms() + delay + (uint64_t)r * delay / 1024;   /* +0..25 % */
    j->state = JOB_WAITING;
}

static void done(void *ctx, const struct http_client_result *r)
{
    struct job *j = ctx;

    if (r->rc == 0 && r->status >= 200 && r->status < 300) {
        fs.sent++;
        release(j);
        return;
    }
    retry_later(j, r->rc ? r->why : "controller refused");
}

static void send_job(struct job *j, const struct config *c)
{
    struct journal_deposit d;
    struct http_client_request req;
    struct textbuf b;
    char host[16], nonce[33], ts[24], sig[65], headers[256];
    uint8_t r[16];
    const char *path;
    uint16_t port, slot;
    int rc;

    slot = mailbox_find(j->msg_id);
    if (slot != MAILBOX_NONE)
        j->h = mailbox_at(slot)->h;   /* a compaction may have moved it */
    rc = journal_read(j->h, &d, envelope, sizeof(envelope));
    if (rc != 0) {
        fs.failed++;
        log_printf("forward: the message is gone from the journal (%s)", mg_strerror(rc));
        release(j);
        return;
    }
    if (http_url_split(c->inbound_url, host, &port, &path) != 0) {
        retry_later(j, "inbound_url is not http://IPv4[:port]/path");
        return;
    }
    textbuf_init(&b, body, sizeof(body));
    textbuf_printf(&b, "{\"msgId\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"deposited_at\":%lld,"
                   "\"envelope\":%.*s}", d.msg_id, d.from, d.to, (long long)d.deposited_at,
                   (int)d.envelope_len, envelope);
    mg_random(r, sizeof(r));
    hex_encode(r, sizeof(r), nonce);
    snprintf(ts, sizeof(ts), "%lld", (long long)hal_clock_wall_ms());
    if (b.overflow ||
        gate_sign_current(nonce, strlen(nonce), ts, strlen(ts), body, b.len, sig) != 0) {
        retry_later(j, b.overflow ? "too large" : "no controller key");
        return;
    }
    snprintf(headers, sizeof(headers), "X-Nonce: %s\r\nX-Timestamp: %s\r\nX-HMAC-SHA256: %s\r\n",
             nonce, ts, sig);
    req = (struct http_client_request){ "POST", host, port, path, headers, "application/json",
                                        body, b.len, 0 };
    rc = http_client_start(&req, done, j);
    if (rc == MG_ERR_NOSPC)
        return;   /* every client slot busy: the next poll tries again */
    if (rc != 0) {
        retry_later(j, mg_strerror(rc));
        return;
    }
    j->state = JOB_SENDING;
}

void forward_poll(uint64_t now)
{
    const struct config *c = config_current();
    size_t i;

    for (i = 0; i < FORWARD_SLOTS; i++) {
        struct job *j = &jobs[i];
        if (j->state != JOB_WAITING || j->due_ms > now)
            continue;
        if (!c || !c->forwarding) {
            fs.dropped++;
            release(j);   /* forwarding was turned off meanwhile */
            continue;
        }
        send_job(j, c);
    }
}

void forward_get_stats(struct forward_stats *out)
{
    size_t i;

    *out = fs;
    out->pending = 0;
    for (i = 0; i < FORWARD_SLOTS; i++)
        out->pending += jobs[i].state != JOB_FREE;
}

void forward_reset(void)
{
    memset(jobs, 0, sizeof(jobs));
    memset(&fs, 0, sizeof(fs));
    relay_forwards_pool.used = relay_forwards_pool.high_water = 0;
}
