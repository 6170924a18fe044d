#include "membership.h"

#include <string.h>

#include "board.h"
#include "crypto.h"
#include "hex.h"
#include "json/json.h"
#include "lwip/ip4_addr.h"
#include "mg_err.h"
#include "peer/peers.h"

/* A /nodes answer of BOARD_PEERS nodes with a few services each, with room. */
#define NODES_TOKENS 1024
static jsmntok_t tokens[NODES_TOKENS];

void membership_register_message(struct textbuf *b, const char *node_name, const char *key,
                                 const char *hostname)
{
    textbuf_printf(b, "{\"nodeId\":");
    textbuf_json_string(b, node_name);
    textbuf_printf(b, ",\"publicKey\":");
    textbuf_json_string(b, key);
    textbuf_printf(b, ",\"tailscaleHostname\":");
    textbuf_json_string(b, hostname);
    textbuf_printf(b, "}");
}

int membership_sign(peer_signer sign, const void *msg, size_t len, char *out)
{
    uint8_t digest[MG_SHA256_LEN], sig[64];
    int rc;

    mg_sha256(msg, len, digest);
    rc = sign(digest, sizeof(digest), sig);
    if (rc != 0)
        return rc;
    memcpy(out, "ed25519_sig_", 12);
    hex_encode(sig, sizeof(sig), out + 12);
    return 0;
}

int membership_register_body(peer_signer sign, const struct membership_node *n, char *out,
                             size_t cap, size_t *len)
{
    static char msg[1024];
    char sig[MEMBERSHIP_SIG_TEXT_LEN + 1];
    struct textbuf m, b;
    int rc;

    textbuf_init(&m, msg, sizeof(msg));
    membership_register_message(&m, n->name, n->key, n->hostname);
    if (m.overflow)
        return MG_ERR_TOOBIG;
    rc = membership_sign(sign, msg, m.len, sig);
    if (rc != 0)
        return rc;
    textbuf_init(&b, out, cap);
    textbuf_printf(&b, "{\"nodeId\":");
    textbuf_json_string(&b, n->name);
    textbuf_printf(&b, ",\"publicKey\":");
    textbuf_json_string(&b, n->key);
    textbuf_printf(&b, ",\"tailscaleHostname\":");
    textbuf_json_string(&b, n->hostname);
    textbuf_printf(&b, ",\"tailscaleIP\":");
    textbuf_json_string(&b, n->ip);
    textbuf_printf(&b, ",\"services\":[{\"type\":\"relay\",\"port\":%d,\"publicKey\":\"%s\"},"
                   "{\"type\":\"peer\",\"port\":%d,\"publicKey\":\"%s\"}",
                   BOARD_PORT_RELAY, n->key, BOARD_PORT_PEER, n->key);
    if (n->coordinator_role)
        textbuf_printf(&b, ",{\"type\":\"coordinator\",\"port\":%d,\"publicKey\":\"%s\"}",
                       BOARD_PORT_COORD, n->key);
    textbuf_printf(&b, "],\"signature\":\"%s\"}", sig);
    *len = b.len;
    return b.overflow ? MG_ERR_TOOBIG : 0;
}

int membership_heartbeat_body(peer_signer sign, const char *node_name, const char *ip,
                              int64_t timestamp_ms, char *out, size_t cap, size_t *len)
{
    char msg[128], sig[MEMBERSHIP_SIG_TEXT_LEN + 1];
    struct textbuf m, b;
    int rc;

    textbuf_init(&m, msg, sizeof(msg));
    textbuf_printf(&m, "heartbeat:%s:%lld", node_name, (long long)timestamp_ms);
    if (m.overflow)
        return MG_ERR_TOOBIG;
    rc = membership_sign(sign, msg, m.len, sig);
    if (rc != 0)
        return rc;
    textbuf_init(&b, out, cap);
    textbuf_printf(&b, "{\"nodeId\":");
    textbuf_json_string(&b, node_name);
    textbuf_printf(&b, ",\"tailscaleIP\":");
    textbuf_json_string(&b, ip);
    textbuf_printf(&b, ",\"timestamp\":%lld,\"signature\":\"%s\"}", (long long)timestamp_ms, sig);
    *len = b.len;
    return b.overflow ? MG_ERR_TOOBIG : 0;
}

/* "ed25519_" + 64 hex digits (either case) into 32 bytes; 0 or -1. */
static int parse_key(const struct json_doc *d, int i, uint8_t out[32])
{
    char text[8 + 64 + 2];
    int n = json_kind(d, i) == JSON_STRING ? json_str(d, i, text, sizeof(text)) : -1;

    if (n != 8 + 64 || memcmp(text, "ed25519_", 8) != 0 || hex_decode(text + 8, 64, out, 32) != 32)
        return -1;
    return 0;
}

static uint16_t service_port(const struct json_doc *d, int services, const char *type)
{
    int i;

    if (json_kind(d, services) != JSON_ARRAY)
        return 0;
    for (i = json_first(d, services); i >= 0; i = json_next(d, services, i)) {
        int64_t port;
        if (json_kind(d, i) == JSON_OBJECT && json_str_eq(d, json_get(d, i, "type"), type) &&
            json_int(d, json_get(d, i, "port"), &port) == 0 && port > 0 && port <= 65535)
            return (uint16_t)port;
    }
    return 0;
}

int membership_nodes_to_peers(const char *body, size_t len, const char *self_name,
                              const uint8_t self_key[32], int64_t now_ms, size_t *added)
{
    struct json_doc d;
    int nodes, i;

    *added = 0;
    if (json_parse(&d, body, len, tokens, NODES_TOKENS) != 0 || json_kind(&d, 0) != JSON_OBJECT)
        return MG_ERR_INVAL;
    nodes = json_get(&d, 0, "nodes");
    if (json_kind(&d, nodes) != JSON_ARRAY)
        return MG_ERR_INVAL;
    peers_sync_begin(PEER_COORDINATOR);
    for (i = json_first(&d, nodes); i >= 0; i = json_next(&d, nodes, i)) {
        struct peer p;
        ip4_addr_t ip;
        int services = json_get(&d, i, "services");

        memset(&p, 0, sizeof(p));
        if (json_kind(&d, i) != JSON_OBJECT ||
            json_str(&d, json_get(&d, i, "id"), p.name, sizeof(p.name)) <= 0 ||
            json_str(&d, json_get(&d, i, "tailscale_ip"), p.host, sizeof(p.host)) <= 0 ||
            !ip4addr_aton(p.host, &ip) || parse_key(&d, json_get(&d, i, "public_key"),
                                                    p.public_key) != 0)
            continue;
        if (strcmp(p.name, self_name) == 0 || memcmp(p.public_key, self_key, 32) == 0)
            continue;
        if (json_get(&d, i, "status") >= 0 && !json_str_eq(&d, json_get(&d, i, "status"), "active"))
            continue;
        p.has_key = 1;
        p.source = PEER_COORDINATOR;
        p.last_seen_ms = now_ms;
        p.port = service_port(&d, services, "peer");
        if (p.port == 0)
            p.port = BOARD_PORT_PEER;
        p.relay_port = service_port(&d, services, "relay");
        p.coord_port = service_port(&d, services, "coordinator");
        peers_put(&p);   /* a full table is counted by its pool */
    }
    peers_sync_end(PEER_COORDINATOR);
    /* Counted at the end: a node listed twice is one entry. */
    for (i = 0; i < BOARD_PEERS; i++)
        *added += peers_slot((size_t)i) && peers_slot((size_t)i)->source == PEER_COORDINATOR;
    return 0;
}
