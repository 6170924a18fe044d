#include "heartbeat.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "confsync/config.h"
#include "console/console.h"
#include "diag/log.h"
#include "entropy.h"
#include "heartbeat/membership.h"
#include "keystore.h"
#include "mg_err.h"
#include "net/http_client.h"
#include "node/node.h"
#include "peer/peers.h"

enum exchange { EX_NONE, EX_REGISTER, EX_HEARTBEAT, EX_NODES };

/* What the registration was made with: a change of any registers again. */
struct standing {
    char url[CONFIG_URL_MAX];
    char name[NODE_NAME_MAX];
    char hostname[NODE_NAME_MAX];
    char ip[16];
    int coordinator_role;
};

static struct heartbeat_status st;
static struct standing made;
static enum exchange in_flight;
static uint32_t gen;                /* bumped on a new standing: late answers are dropped */
static unsigned beats;              /* successful heartbeats since ACTIVE */
static int nodes_due;
static char host[16];
static uint16_t port;
static char prefix[CONFIG_URL_MAX]; /* the coordinator URL's path, without a trailing '/' */
/* One request is built at a time; http_client_start() copies it. */
static char body[2048];

static const char *const state_names[] = { "idle", "registering", "pending approval", "active" };

const char *heartbeat_state_name(enum heartbeat_state s)
{
    return state_names[s];
}

void heartbeat_get_status(struct heartbeat_status *out)
{
    *out = st;
    out->in_flight = in_flight != EX_NONE;
}

/* The last result, for the console: "heartbeat 403" or "register: why". */
static void note(const char *what, int status, const char *why)
{
    st.last_at_ms = hal_clock_wall_ms();
    if (why)
        snprintf(st.last, sizeof(st.last), "%s: %s", what, why);
    else
        snprintf(st.last, sizeof(st.last), "%s %d", what, status);
}

static void enter(enum heartbeat_state s)
{
    if (s != st.state)
        log_printf("heartbeat: %s -> %s", state_names[st.state], state_names[s]);
    st.state = s;
}

static void backoff(uint64_t now)
{
    uint64_t delay;
    uint32_t r = 0;

    if (st.failures < 31)
        st.failures++;
    /* 1 s doubling: past the sixth failure the cap holds anyway. */
    delay = (uint64_t)HEARTBEAT_BACKOFF_MIN_MS << (st.failures - 1 < 6 ? st.failures - 1 : 6);
    if (delay > HEARTBEAT_BACKOFF_MAX_MS)
        delay = HEARTBEAT_BACKOFF_MAX_MS;
    /* Half the delay plus a random half: nodes that lost the coordinator
     * together do not come back in step. */
    hal_entropy(&r, sizeof(r));
    st.next_ms = now + delay / 2 + r % (delay / 2 + 1);
}

static uint64_t interval(void)
{
    const struct config *c = config_current();

    return c ? c->heartbeat_ms : CONFIG_DEFAULT_HEARTBEAT_MS;
}

static void on_register(const struct http_client_result *r, uint64_t now)
{
    if (r->status == 201 || r->status == 409) {
        st.registrations++;
        st.failures = 0;
        enter(HEARTBEAT_PENDING);
        st.next_ms = now;   /* the first heartbeat tells whether it is approved */
        return;
    }
    log_printf("heartbeat: register refused: %d %.60s", r->status, r->body);
    st.next_ms = now + interval();
}

static void on_heartbeat(const struct http_client_result *r, uint64_t now)
{
    st.failures = 0;
    st.next_ms = now + interval();
    switch (r->status) {
    case 200:
        st.heartbeats_ok++;
        if (st.state != HEARTBEAT_ACTIVE)
            beats = 0;
        enter(HEARTBEAT_ACTIVE);
        if (beats++ % HEARTBEAT_NODES_EVERY == 0)
            nodes_due = 1;
        return;
    case 403:
        enter(HEARTBEAT_PENDING);
        break;
    case 404:
        enter(HEARTBEAT_REGISTER);
        st.next_ms = now;
        break;
    default:
        log_printf("heartbeat: refused: %d %.60s", r->status, r->body);
        break;
    }
    st.heartbeats_failed++;
}

static void on_nodes(const struct http_client_result *r)
{
    size_t added = 0;
    int rc;

    if (r->status != 200) {
        log_printf("heartbeat: /nodes answered %d", r->status);
        return;
    }
    rc = membership_nodes_to_peers(r->body, r->body_len, node_name(), node_public_key(),
                                   hal_clock_wall_ms(), &added);
    if (rc != 0) {
        log_printf("heartbeat: /nodes answer is not a node list");
        return;
    }
    st.nodes_at_ms = hal_clock_wall_ms();
}

static void done(void *ctx, const struct http_client_result *r)
{
    static const char *const names[] = { "", "register", "heartbeat", "nodes" };
    enum exchange ex = in_flight;
    uint64_t now = hal_clock_ms();

    if ((uint32_t)(uintptr_t)ctx != gen)
        return;   /* made under a standing since replaced */
    in_flight = EX_NONE;
    if (r->rc != 0 || r->status >= 500) {
        note(names[ex], r->status, r->rc != 0 ? r->why : NULL);
        if (ex == EX_HEARTBEAT)
            st.heartbeats_failed++;
        if (ex == EX_NODES)
            return;   /* asked again after the next heartbeats */
        if (st.failures == 0)
            log_printf("heartbeat: %s failed (%s); backing off", names[ex], st.last);
        backoff(now);
        return;
    }
    note(names[ex], r->status, NULL);
    if (ex == EX_REGISTER)
        on_register(r, now);
    else if (ex == EX_HEARTBEAT)
        on_heartbeat(r, now);
    else
        on_nodes(r);
}

static int start(enum exchange ex, const char *method, const char *what, size_t len)
{
    char path[CONFIG_URL_MAX + 32];
    struct http_client_request req;
    int rc;

    snprintf(path, sizeof(path), "%s%s", prefix, what);
    req = (struct http_client_request){ method, host, port, path, NULL,
                                        len ? "application/json" : NULL, body, len, 0 };
    rc = http_client_start(&req, done, (void *)(uintptr_t)gen);
    if (rc == 0)
        in_flight = ex;
    return rc;
}

static int send_register(void)
{
    struct membership_node n = { made.name, node_id(), made.hostname, made.ip,
                                 made.coordinator_role };
    size_t len;
    int rc = membership_register_body(node_sign, &n, body, sizeof(body), &len);

    return rc ? rc : start(EX_REGISTER, "POST", "/register", len);
}

static int send_heartbeat(void)
{
    size_t len;
    int rc = membership_heartbeat_body(node_sign, made.name, made.ip, hal_clock_wall_ms(), body,
                                       sizeof(body), &len);

    return rc ? rc : start(EX_HEARTBEAT, "POST", "/heartbeat", len);
}

/* The standing the running config asks for; 1 if it differs from made. */
static int standing_changed(struct standing *want)
{
    const struct config *c = config_current();

    memset(want, 0, sizeof(*want));
    if (c) {
        strcpy(want->url, c->coordinator_url);
        want->coordinator_role = c->coordinator_role;
    }
    snprintf(want->name, sizeof(want->name), "%s", node_name());
    snprintf(want->hostname, sizeof(want->hostname), "%s", node_hostname());
    node_ip(want->ip);
    return memcmp(want, &made, sizeof(made)) != 0;
}

static void restart(const struct standing *want, uint64_t now)
{
    const char *path;

    made = *want;
    gen++;
    in_flight = EX_NONE;
    st.failures = 0;
    nodes_due = 0;
    st.next_ms = now;
    /* What an earlier coordinator listed is not vouched for any more. */
    peers_sync_begin(PEER_COORDINATOR);
    peers_sync_end(PEER_COORDINATOR);
    if (!made.url[0]) {
        enter(HEARTBEAT_IDLE);
        return;
    }
    if (http_url_split(made.url, host, &port, &path) != 0) {
        log_printf("heartbeat: coordinator url %s is not http://IPv4[:port]", made.url);
        enter(HEARTBEAT_IDLE);
        return;
    }
    snprintf(prefix, sizeof(prefix), "%s", strcmp(path, "/") == 0 ? "" : path);
    if (prefix[0] && prefix[strlen(prefix) - 1] == '/')
        prefix[strlen(prefix) - 1] = '\0';
    enter(HEARTBEAT_REGISTER);
}

static void heartbeat_poll(uint64_t now)
{
    struct standing want;
    int rc;

    if (standing_changed(&want))
        restart(&want, now);
    if (st.state == HEARTBEAT_IDLE || in_flight != EX_NONE)
        return;
    if (st.state == HEARTBEAT_ACTIVE && nodes_due) {
        rc = start(EX_NODES, "GET", "/nodes?status=active", 0);
        if (rc == 0)
            nodes_due = 0;
        return;
    }
    if (now < st.next_ms)
        return;
    if (st.state == HEARTBEAT_REGISTER && strcmp(made.ip, "0.0.0.0") == 0) {
        st.next_ms = now + 1000;   /* no address yet (DHCP): nothing to register */
        return;
    }
    rc = st.state == HEARTBEAT_REGISTER ? send_register() : send_heartbeat();
    if (rc == MG_ERR_NOSPC) {
        st.next_ms = now + 100;   /* every client slot busy: soon again */
    } else if (rc != 0) {
        note(st.state == HEARTBEAT_REGISTER ? "register" : "heartbeat", 0, mg_strerror(rc));
        backoff(now);
    }
}

static uint64_t heartbeat_next_deadline(uint64_t now)
{
    if (st.state == HEARTBEAT_IDLE || in_flight != EX_NONE)
        return LOOP_NO_DEADLINE;
    if (st.state == HEARTBEAT_ACTIVE && nodes_due)
        return now;
    return st.next_ms;
}

static int heartbeat_init(void)
{
    memset(&st, 0, sizeof(st));
    memset(&made, 0, sizeof(made));
    in_flight = EX_NONE;
    nodes_due = 0;
    snprintf(made.name, sizeof(made.name), "%s", node_name());
    snprintf(made.hostname, sizeof(made.hostname), "%s", node_hostname());
    node_ip(made.ip);
    return 0;
}

/* --- console ------------------------------------------------------------------- */

static void node_cmd(int argc, char **argv)
{
    const struct config *c = config_current();
    int64_t now = hal_clock_wall_ms();
    uint64_t mono = hal_clock_ms();
    char ip[16];

    (void)argc;
    (void)argv;
    node_ip(ip);
    console_printf("node id    %s\nhostname   %s\naddress    %s\n", node_name(), node_hostname(),
                   ip);
    console_printf("public key %s\npublic key %s (base64)\n", node_id(), node_public_b64());
    console_printf("coord      %s\n", c && c->coordinator_url[0] ? c->coordinator_url
                                                                 : "- (no gateway.coordinator.url)");
    console_printf("state      %s%s", state_names[st.state], in_flight ? ", exchange under way" : "");
    if (st.state != HEARTBEAT_IDLE && !in_flight)
        console_printf(", next in %llu ms",
                       (unsigned long long)(st.next_ms > mono ? st.next_ms - mono : 0));
    if (st.failures)
        console_printf(", %u failure(s) in a row, backing off", st.failures);
    console_printf("\n");
    if (st.last_at_ms)
        console_printf("last       %s, %lld ms ago\n", st.last, (long long)(now - st.last_at_ms));
    else
        console_printf("last       none\n");
    console_printf("heartbeats %lu ok, %lu failed, %lu registration(s), every %llu ms\n",
                   st.heartbeats_ok, st.heartbeats_failed, st.registrations,
                   (unsigned long long)interval());
    if (st.nodes_at_ms)
        console_printf("nodes      read %lld ms ago, %zu peer(s) known\n",
                       (long long)(now - st.nodes_at_ms), peers_count());
}

static const struct console_cmd commands[] = {
    { "node", "", "this node's identity and its standing at the coordinator", node_cmd },
};

static const uint16_t needs[] = { KS_NODE, 0 };

const struct service heartbeat_service = {
    .name = "heartbeat",
    .init = heartbeat_init,
    .poll = heartbeat_poll,
    .next_deadline = heartbeat_next_deadline,
    .commands = commands,
    .n_commands = sizeof(commands) / sizeof(commands[0]),
    .keys = needs,
};
