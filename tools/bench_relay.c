/* Load generator of make bench for the relay and its reference (issue
 * "Relay": end-to-end throughput and latency). Host tool, one thread, poll().
 *
 *   bench-relay relay IP PORT SECONDS SENDERS RECIPIENTS BODY_BYTES
 *       registers RECIPIENTS + SENDERS ids (open mode), connects each
 *       recipient's WebSocket (&ack=1), then each sender deposits on its own
 *       keep-alive connection one envelope of BODY_BYTES (base64 of the
 *       body) after the other, round robin over the recipients. A recipient
 *       acks every frame. Latency: deposit sent -> frame received.
 *   bench-relay mqtt IP PORT SECONDS BODY_BYTES INFLIGHT
 *       one MQTT 3.1.1 publisher (QoS 1, at most INFLIGHT unacked) and one
 *       subscriber (QoS 1, PUBACK for each) on one topic. Latency: PUBLISH
 *       sent -> PUBLISH received.
 *
 * Prints one line: "delivered N in S s: R msg/s, p50 X ms, p99 Y ms,
 * errors E". Exits 1 when nothing was delivered. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS   256
#define BUF         (64 * 1024)
#define MAX_SAMPLES 2000000

struct conn {
    int fd;
    int kind;               /* 0 sender (HTTP), 1 recipient (WS), 2 mqtt pub, 3 mqtt sub */
    int id;
    char in[BUF];
    size_t in_len;
    int busy;               /* a sender waiting for its answer */
    int next_to;
    unsigned long seq;
};

static struct conn conns[MAX_CONNS];
static int n_conns;
static double *lat;          /* ms */
static unsigned long n_lat, errors;
static char first_error[160];   /* the first refused answer's status and body */
static const char *ip;
static int port;
static double began_ms;      /* this run's start: an earlier run's leftovers are older */
static char payload[65536];  /* base64-ish text (A..Z) of the body */
static size_t body_bytes;

static double now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int dial(void)
{
    struct sockaddr_in a = { 0 };
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        fprintf(stderr, "bench-relay: connect %s:%d: %s\n", ip, port, strerror(errno));
        exit(2);
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (w <= 0) {
            fprintf(stderr, "bench-relay: send: %s\n", strerror(errno));
            exit(2);
        }
        c += w;
        n -= (size_t)w;
    }
}

/* One blocking HTTP exchange (setup only); the status. */
static int http_once(const char *method, const char *path, const char *body)
{
    char req[1024], resp[4096];
    int fd = dial(), n, status = 0;
    ssize_t r;

    n = snprintf(req, sizeof(req),
                 "%s %s HTTP/1.1\r\nHost: b\r\nConnection: close\r\nContent-Type: application/json\r\n"
                 "Content-Length: %zu\r\n\r\n%s", method, path, strlen(body), body);
    send_all(fd, req, (size_t)n);
    r = recv(fd, resp, sizeof(resp) - 1, MSG_WAITALL);
    if (r > 0) {
        resp[r] = '\0';
        sscanf(resp, "HTTP/1.1 %d", &status);
    }
    close(fd);
    return status;
}

static void sample(double ms)
{
    if (n_lat < MAX_SAMPLES)
        lat[n_lat++] = ms;
}

/* --- relay ----------------------------------------------------------------- */

static int n_recipients;

static void deposit(struct conn *c)
{
    static char req[BUF];
    char body[BUF - 1024];
    int n;

    n = snprintf(body, sizeof(body),
                 "{\"from\":\"bs%d\",\"to\":\"br%d\",\"envelope\":{\"version\":1,\"senderId\":\"bs%d\","
                 "\"recipientId\":\"br%d\",\"sessionId\":\"%.3f\",\"type\":2,\"body\":\"%s\","
                 "\"timestamp\":%lu}}", c->id, c->next_to, c->id, c->next_to, now_ms(), payload,
                 (unsigned long)time(NULL) * 1000 + c->seq % 1000);
    n = snprintf(req, sizeof(req),
                 "POST /v1/messages HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n"
                 "Content-Length: %d\r\n\r\n%s", n, body);
    send_all(c->fd, req, (size_t)n);
    c->busy = 1;
    c->seq++;
    c->next_to = (c->next_to + 1) % n_recipients;
}

/* Consumes whole HTTP responses from a sender's buffer. */
static void sender_input(struct conn *c)
{
    for (;;) {
        char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4), *cl;
        size_t head, total, len = 0;
        int status = 0;

        if (!end)
            return;
        head = (size_t)(end - c->in) + 4;
        cl = memmem(c->in, head, "Content-Length: ", 16);
        if (cl)
            len = strtoul(cl + 16, NULL, 10);
        total = head + len;
        if (c->in_len < total)
            return;
        sscanf(c->in, "HTTP/1.1 %d", &status);
        if (status != 200 && errors++ == 0)
            snprintf(first_error, sizeof(first_error), "%d %.*s", status,
                     (int)(len < 120 ? len : 120), c->in + head);
        memmove(c->in, c->in + total, c->in_len - total);
        c->in_len -= total;
        c->busy = 0;
    }
}

static void ws_send_text(int fd, const char *s, size_t n)
{
    uint8_t frame[512];
    uint8_t mask[4] = { 1, 2, 3, 4 };
    size_t i, h = 2;

    frame[0] = 0x81;
    if (n < 126) {
        frame[1] = (uint8_t)(0x80 | n);
    } else {
        frame[1] = 0x80 | 126;
        frame[2] = (uint8_t)(n >> 8);
        frame[3] = (uint8_t)n;
        h = 4;
    }
    memcpy(frame + h, mask, 4);
    for (i = 0; i < n && h + 4 + i < sizeof(frame); i++)
        frame[h + 4 + i] = (uint8_t)(s[i] ^ mask[i % 4]);
    send_all(fd, frame, h + 4 + n);
}

/* Consumes whole frames from a recipient's buffer; acks each message. */
static void recipient_input(struct conn *c)
{
    for (;;) {
        uint8_t *p = (uint8_t *)c->in;
        size_t len, h = 2;
        char *msg, *sid, *mid, ack[160];
        double sent;

        if (c->in_len < 2)
            return;
        len = p[1] & 0x7f;
        if (len == 126) {
            if (c->in_len < 4)
                return;
            len = (size_t)p[2] << 8 | p[3];
            h = 4;
        } else if (len == 127) {
            errors++;
            c->in_len = 0;
            return;
        }
        if (c->in_len < h + len)
            return;
        msg = c->in + h;
        sid = memmem(msg, len, "\"sessionId\":\"", 13);
        mid = memmem(msg, len, "\"msgId\":\"", 9);
        if ((p[0] & 0x0f) == 1 && sid && mid) {
            sent = strtod(sid + 13, NULL);
            /* Acked either way; a message an earlier run left unacked
             * (redelivered on connect) is not this run's sample. */
            if (sent >= began_ms)
                sample(now_ms() - sent);
            int n = snprintf(ack, sizeof(ack), "{\"type\":\"ack\",\"ids\":[\"%.*s\"]}",
                             (int)strcspn(mid + 9, "\""), mid + 9);
            ws_send_text(c->fd, ack, (size_t)n);
        }
        memmove(c->in, c->in + h + len, c->in_len - h - len);
        c->in_len -= h + len;
    }
}

/* Opens recipient c's WebSocket. What follows the 101's head in the same
 * read (a message waiting for the recipient is pushed at once) is kept as
 * the start of its frames, not dropped: dropping it would cut a frame and
 * the recipient would never find the next one. */
static void ws_open(struct conn *c)
{
    char req[512], *end = NULL;
    size_t got = 0, head;
    ssize_t r;
    int n;

    c->fd = dial();
    n = snprintf(req, sizeof(req),
                 "GET /ws?client_id=br%d&ack=1 HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n", c->id);
    send_all(c->fd, req, (size_t)n);
    while (!end && got < sizeof(c->in)) {
        r = recv(c->fd, c->in + got, sizeof(c->in) - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
        end = memmem(c->in, got, "\r\n\r\n", 4);
    }
    if (!end || strncmp(c->in, "HTTP/1.1 101", 12) != 0) {
        fprintf(stderr, "bench-relay: websocket for br%d refused\n", c->id);
        exit(2);
    }
    head = (size_t)(end + 4 - c->in);
    memmove(c->in, c->in + head, got - head);
    c->in_len = got - head;
    recipient_input(c);
}

/* --- mqtt ------------------------------------------------------------------ */

static size_t mqtt_len(uint8_t *out, size_t n)
{
    size_t i = 0;

    do {
        uint8_t b = (uint8_t)(n % 128);
        n /= 128;
        out[i++] = (uint8_t)(b | (n ? 0x80 : 0));
    } while (n);
    return i;
}

static void mqtt_connect(int fd, const char *client)
{
    uint8_t pkt[128], var[64], ack[4];
    size_t cl = strlen(client), v = 0, n;

    memcpy(var, "\x00\x04MQTT\x04\x02\x00\x3c", 10);   /* clean session, 60 s */
    v = 10;
    var[v++] = (uint8_t)(cl >> 8);
    var[v++] = (uint8_t)cl;
    memcpy(var + v, client, cl);
    v += cl;
    pkt[0] = 0x10;
    n = 1 + mqtt_len(pkt + 1, v);
    memcpy(pkt + n, var, v);
    send_all(fd, pkt, n + v);
    if (recv(fd, ack, 4, MSG_WAITALL) != 4 || ack[0] != 0x20 || ack[3] != 0) {
        fprintf(stderr, "bench-relay: MQTT CONNECT refused\n");
        exit(2);
    }
}

static unsigned inflight, max_inflight;
static uint16_t next_pid = 1;

static void mqtt_publish(int fd)
{
    static uint8_t pkt[70000];
    size_t var = 2 + 5 + 2 + 8 + body_bytes, n;
    double t = now_ms();

    pkt[0] = 0x32;   /* PUBLISH, QoS 1 */
    n = 1 + mqtt_len(pkt + 1, var);
    memcpy(pkt + n, "\x00\x05" "bench", 7);
    n += 7;
    pkt[n++] = (uint8_t)(next_pid >> 8);
    pkt[n++] = (uint8_t)next_pid;
    next_pid = (uint16_t)(next_pid == 65535 ? 1 : next_pid + 1);   /* 0 is no id */
    memcpy(pkt + n, &t, 8);
    memcpy(pkt + n + 8, payload, body_bytes);
    send_all(fd, pkt, n + 8 + body_bytes);
    inflight++;
}

/* Whole MQTT packets: PUBACKs on the publisher, PUBLISHes on the subscriber. */
static void mqtt_input(struct conn *c)
{
    for (;;) {
        uint8_t *p = (uint8_t *)c->in;
        size_t len = 0, mul = 1, i = 1;

        while (i < c->in_len && i < 5) {
            len += (p[i] & 0x7f) * mul;
            mul *= 128;
            if (!(p[i++] & 0x80))
                break;
        }
        if (i >= c->in_len || c->in_len < i + len)
            return;
        if ((p[0] & 0xf0) == 0x40 && inflight) {          /* PUBACK */
            inflight--;
        } else if ((p[0] & 0xf0) == 0x30) {               /* PUBLISH (QoS 1) */
            size_t tl = (size_t)p[i] << 8 | p[i + 1], at = i + 2 + tl;
            uint8_t puback[4] = { 0x40, 2, p[at], p[at + 1] };
            double t;
            memcpy(&t, p + at + 2, 8);
            sample(now_ms() - t);
            send_all(c->fd, puback, 4);
        }
        memmove(c->in, c->in + i + len, c->in_len - i - len);
        c->in_len -= i + len;
    }
}

/* --- driver ------------------------------------------------------------------ */

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void run(double seconds, void (*kick)(void))
{
    struct pollfd pfd[MAX_CONNS];
    double end = now_ms() + seconds * 1000;
    int i;

    while (now_ms() < end) {
        kick();
        for (i = 0; i < n_conns; i++)
            pfd[i] = (struct pollfd){ conns[i].fd, POLLIN, 0 };
        if (poll(pfd, (nfds_t)n_conns, 100) < 0)
            break;
        for (i = 0; i < n_conns; i++) {
            struct conn *c = &conns[i];
            ssize_t r;
            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            r = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
            if (r <= 0) {
                fprintf(stderr, "bench-relay: connection %d closed\n", i);
                exit(2);
            }
            c->in_len += (size_t)r;
            if (c->kind == 0)
                sender_input(c);
            else if (c->kind == 1)
                recipient_input(c);
            else
                mqtt_input(c);
        }
    }
}

static void kick_senders(void)
{
    int i;

    for (i = 0; i < n_conns; i++)
        if (conns[i].kind == 0 && !conns[i].busy)
            deposit(&conns[i]);
}

static void kick_publisher(void)
{
    int i;

    for (i = 0; i < n_conns; i++)
        while (conns[i].kind == 2 && inflight < max_inflight)
            mqtt_publish(conns[i].fd);
}

int main(int argc, char **argv)
{
    double seconds, t0, t1;
    int i, senders;
    char body[128];

    if (argc < 7 || (strcmp(argv[1], "relay") == 0 && argc < 8)) {
        fprintf(stderr, "usage: bench-relay relay IP PORT SECONDS SENDERS RECIPIENTS BODY_BYTES\n"
                        "       bench-relay mqtt IP PORT SECONDS BODY_BYTES INFLIGHT\n");
        return 2;
    }
    began_ms = now_ms();
    ip = argv[2];
    port = atoi(argv[3]);
    seconds = atof(argv[4]);
    lat = malloc(MAX_SAMPLES * sizeof(*lat));
    if (!lat)
        return 2;
    if (strcmp(argv[1], "relay") == 0) {
        senders = atoi(argv[5]);
        n_recipients = atoi(argv[6]);
        body_bytes = strtoul(argv[7], NULL, 10);
        if (senders + n_recipients > MAX_CONNS || body_bytes % 4 || body_bytes >= sizeof(payload))
            return 2;
        memset(payload, 'A', body_bytes);
        for (i = 0; i < n_recipients + senders; i++) {
            snprintf(body, sizeof(body), "{\"id\":\"b%c%d\"}", i < n_recipients ? 'r' : 's',
                     i < n_recipients ? i : i - n_recipients);
            if (http_once("POST", "/v1/register", body) != 200) {
                fprintf(stderr, "bench-relay: register refused (is the relay in open mode?)\n");
                return 2;
            }
        }
        for (i = 0; i < n_recipients; i++) {
            conns[n_conns] = (struct conn){ .kind = 1, .id = i };
            ws_open(&conns[n_conns++]);
        }
        for (i = 0; i < senders; i++)
            conns[n_conns++] = (struct conn){ .fd = dial(), .kind = 0, .id = i,
                                              .next_to = i % n_recipients };
        t0 = now_ms();
        run(seconds, kick_senders);
    } else {
        body_bytes = strtoul(argv[5], NULL, 10);
        max_inflight = (unsigned)atoi(argv[6]);
        if (body_bytes >= sizeof(payload))
            return 2;
        memset(payload, 'A', body_bytes);
        conns[0] = (struct conn){ .fd = dial(), .kind = 3 };
        mqtt_connect(conns[0].fd, "bench-sub");
        {
            uint8_t sub[] = { 0x82, 10, 0, 1, 0, 5, 'b', 'e', 'n', 'c', 'h', 1 }, ack[5];
            send_all(conns[0].fd, sub, sizeof(sub));
            if (recv(conns[0].fd, ack, 5, MSG_WAITALL) != 5 || ack[0] != 0x90 || ack[4] != 1) {
                fprintf(stderr, "bench-relay: MQTT SUBSCRIBE refused\n");
                return 2;
            }
        }
        conns[1] = (struct conn){ .fd = dial(), .kind = 2 };
        mqtt_connect(conns[1].fd, "bench-pub");
        n_conns = 2;
        t0 = now_ms();
        run(seconds, kick_publisher);
    }
    t1 = now_ms();
    if (n_lat == 0) {
        printf("delivered 0 in %.1f s, errors %lu\n", (t1 - t0) / 1000, errors);
        return 1;
    }
    qsort(lat, n_lat, sizeof(*lat), cmp);
    printf("delivered %lu in %.1f s: %.0f msg/s, p50 %.2f ms, p99 %.2f ms, errors %lu\n", n_lat,
           (t1 - t0) / 1000, (double)n_lat * 1000 / (t1 - t0), lat[n_lat / 2],
           lat[n_lat * 99 / 100], errors);
    if (errors)
        printf("first refusal: %s\n", first_error);
    return 0;
}
