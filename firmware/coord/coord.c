#include "coord.h"

#include <string.h>

#include "board.h"
#include "clock.h"
#include "confsync/config.h"
#include "console/console.h"
#include "coord/api.h"
#include "coord/registry.h"
#include "coord/keytext.h"
#include "diag/log.h"
#include "diag/textbuf.h"
#include "mg_err.h"
#include "net/http_server.h"

/* The config whose coordinator fields are in effect, told apart by its
 * slot and time of applying (config.h switches slots on every apply). */
static const struct config *seen_cfg;
static int64_t seen_applied_at;
static uint64_t next_check;
static unsigned long marked_offline;

/* Answers are written into answer; one larger than a connection's send
 * buffer (a listing of many nodes) stays lent to that connection until it
 * has all gone to TCP. Meanwhile answers are written into spare, and one
 * that does not fit it is refused as busy. */
static char answer[COORD_ANSWER_MAX];
static char spare[4096];
static int answer_lent;

static void answer_returned(void *ctx)
{
    (void)ctx;
    answer_lent = 0;
}

static uint64_t offline_after_ms(void)
{
    const struct config *c = config_current();

    return c ? c->offline_after_ms : CONFIG_DEFAULT_OFFLINE_AFTER_MS;
}

static uint64_t offline_check_ms(void)
{
    const struct config *c = config_current();

    return c ? c->offline_check_ms : CONFIG_DEFAULT_OFFLINE_CHECK_MS;
}

int coord_role_on(void)
{
    const struct config *c = config_current();

    return BOARD_COORD_ROLE || (c && c->coordinator_role);
}

/* --- HTTP -------------------------------------------------------------------- */

static void handle(struct http_conn *c, const struct http_request *req, const char *body,
                   size_t len)
{
    struct textbuf out;
    int status;

    if (!coord_role_on()) {
        http_respond_error(c, 503, "coordinator_disabled");
        return;
    }
    if (answer_lent)
        textbuf_init(&out, spare, sizeof(spare));
    else
        textbuf_init(&out, answer, sizeof(answer));
    status = coord_api(req->method, req->path, req->query, body, len, hal_clock_ms(),
                       hal_clock_wall_ms(), &out);
    if (out.overflow) {
        /* Only spare can overflow (COORD_ANSWER_MAX holds the longest). */
        http_respond_with(c, 503, "Retry-After: 1\r\n", "application/json",
                          "{\"error\":\"busy\"}", 16);
    } else if (out.p == spare) {
        http_respond(c, status, "application/json", spare, out.len);
    } else {
        answer_lent = 1;
        http_respond_borrowed(c, status, "application/json", answer, out.len, answer_returned,
                              NULL);
    }
}

static const struct http_route routes[] = {
    { HTTP_GET, "/*", handle },
    { HTTP_POST, "/*", handle },
};

static struct http_listener listener = {
    "coord", BOARD_PORT_COORD, routes, sizeof(routes) / sizeof(routes[0]), COORD_BODY_MAX,
    "{\"error\":\"Not found\"}", NULL, 0, 0,
};

/* --- config and the offline check ------------------------------------------- */

static void add_config_sovereigns(const struct config *c)
{
    char key[COORD_KEY_TEXT];
    size_t i;

    for (i = 0; i < c->n_sovereign_keys; i++) {
        int rc = registry_sovereign_add(c->sovereign_keys[i], "config");
        if (rc == 0 || rc == MG_ERR_EXIST)
            continue;
        coord_key_format(c->sovereign_keys[i], key);
        log_printf("coord: sovereign %.20s... from the config not added: %s", key,
                   rc == MG_ERR_NOSPC ? "the table is full" : mg_strerror(rc));
    }
}

static void follow_config(uint64_t now)
{
    const struct config *c = config_current();

    if (!c || (c == seen_cfg && c->applied_at == seen_applied_at))
        return;
    seen_cfg = c;
    seen_applied_at = c->applied_at;
    add_config_sovereigns(c);
    if (next_check > now + c->offline_check_ms)
        next_check = now + c->offline_check_ms;
}

static void coord_poll(uint64_t now)
{
    size_t n;

    follow_config(now);
    if (now < next_check)
        return;
    next_check = now + offline_check_ms();
    if (!coord_role_on())
        return;
    n = registry_mark_offline(now, offline_after_ms());
    marked_offline += n;
    if (n)
        log_printf("coord: %zu node(s) offline (no heartbeat for %llu ms)", n,
                   (unsigned long long)offline_after_ms());
}

static uint64_t coord_next_deadline(uint64_t now)
{
    (void)now;
    return next_check;
}

static int coord_init(void)
{
    uint64_t now = hal_clock_ms();
    int rc = registry_mount(hal_flash_part("registry"), now, hal_clock_wall_ms());

    seen_cfg = NULL;
    seen_applied_at = 0;
    marked_offline = 0;
    next_check = now + CONFIG_DEFAULT_OFFLINE_CHECK_MS;
    if (rc != 0)
        log_printf("coord: registry unavailable (%s): changes answer 503", mg_strerror(rc));
    else
        log_printf("coord: registry mounted, %zu node(s), %zu sovereign(s)%s",
                   registry_nodes(), registry_sovereign_count(),
                   registry_corrupt() || registry_sovereigns_corrupt() ? ", some records CORRUPT"
                                                                        : "");
    return http_listen(&listener);
}

/* --- console ----------------------------------------------------------------- */

static void coord_cmd(int argc, char **argv)
{
    const struct config *c = config_current();
    uint64_t now = hal_clock_ms();
    size_t i;

    (void)argc;
    (void)argv;
    console_printf("role       %s%s, port %u\n", coord_role_on() ? "on" : "off",
                   BOARD_COORD_ROLE              ? " (board default)"
                   : c && c->coordinator_role    ? " (config)"
                                                 : ": every request answers 503",
                   BOARD_PORT_COORD);
    console_printf("offline    after %llu ms without a heartbeat, checked every %llu ms; "
                   "%lu marked since boot\n",
                   (unsigned long long)offline_after_ms(), (unsigned long long)offline_check_ms(),
                   marked_offline);
    console_printf("nodes      %zu of %d: %zu pending, %zu active, %zu offline, %zu denied",
                   registry_nodes(), BOARD_COORD_NODES, registry_count(COORD_PENDING),
                   registry_count(COORD_ACTIVE), registry_count(COORD_OFFLINE),
                   registry_count(COORD_DENIED));
    console_printf("%s\n", registry_corrupt() ? ", some slots CORRUPT" : "");
    console_printf("sovereigns %zu of %d%s\n", registry_sovereign_count(), BOARD_COORD_SOVEREIGNS,
                   registry_sovereigns_corrupt() ? " (record CORRUPT: none can be added)" : "");
    for (i = 0; i < registry_slots(); i++) {
        const struct coord_node *n = registry_at(i);
        if (!n)
            continue;
        console_printf("  %-24s %-8s %-15s heartbeat %llu s ago%s\n", n->id,
                       coord_status_name(n->status), n->ip[0] ? n->ip : "-",
                       (unsigned long long)((now - n->seen_ms) / 1000),
                       n->heartbeat_at ? "" : " (none since boot or approval)");
    }
}

static void sovereign_add_cmd(const char *text)
{
    uint8_t pub[ED25519_PUB_LEN];
    char key[COORD_KEY_TEXT];
    int rc;

    if (coord_key_parse(text, pub) != 0) {
        console_printf("error: not a key: want ed25519_ and 64 hex digits\n");
        return;
    }
    coord_key_format(pub, key);
    rc = registry_sovereign_add(pub, "console");
    if (rc == 0) {
        log_printf("coord: sovereign %.20s... added from the console", key);
        console_printf("sovereign %s added\n", key);
    } else if (rc == MG_ERR_EXIST) {
        console_printf("error: %s is already a sovereign\n", key);
    } else if (rc == MG_ERR_NOSPC) {
        console_printf("error: the sovereign table is full (%d)\n", BOARD_COORD_SOVEREIGNS);
    } else {
        console_printf("error: registry: %s\n", mg_strerror(rc));
    }
}

static void sovereign_cmd(int argc, char **argv)
{
    char key[COORD_KEY_TEXT];
    size_t i;

    if (argc == 3 && strcmp(argv[1], "add") == 0) {
        sovereign_add_cmd(argv[2]);
        return;
    }
    if (argc != 2 || strcmp(argv[1], "list") != 0) {
        console_printf("usage: sovereign add <ed25519_key> | sovereign list\n");
        return;
    }
    console_printf("%zu sovereign key(s)\n", registry_sovereign_count());
    for (i = 0; i < registry_sovereign_count(); i++) {
        const struct coord_sovereign *s = registry_sovereign_at(i);
        coord_key_format(s->pub, key);
        console_printf("  %s %s\n", key, s->desc);
    }
}

static const struct console_cmd commands[] = {
    { "coord", "", "the coordinator: role, registry counts, nodes and their heartbeats",
      coord_cmd },
    { "sovereign", "add <key> | list", "the keys that approve nodes", sovereign_cmd },
};

const struct service coord_service = {
    .name = "coord",
    .init = coord_init,
    .poll = coord_poll,
    .next_deadline = coord_next_deadline,
    .commands = commands,
    .n_commands = sizeof(commands) / sizeof(commands[0]),
};
