#include "node.h"

#include <stdio.h>
#include <string.h>

#include "b64.h"
#include "confsync/config.h"
#include "ed25519.h"
#include "hex.h"
#include "keystore.h"
#include "lwip/ip4_addr.h"
#include "mg_err.h"
#include "net/netif_tap.h"

/* seed || public key, read once at init: every heartbeat and peer request
 * is signed, and a keystore read decrypts a flash record. */
static uint8_t key[64];
static int have_key;
static char id[8 + 2 * ED25519_PUB_LEN + 1];
static char pub_b64[B64_LEN(ED25519_PUB_LEN) + 1];
static char default_hostname[NODE_NAME_MAX];

const char *node_id(void)
{
    return id;
}

const char *node_public_b64(void)
{
    return pub_b64;
}

const uint8_t *node_public_key(void)
{
    return key + 32;
}

int node_sign(const void *msg, size_t len, uint8_t sig[64])
{
    if (!have_key)
        return MG_ERR_NOENT;
    ed25519_sign(key, key + 32, msg, len, sig);
    return 0;
}

const char *node_hostname(void)
{
    const struct config *c = config_current();

    return c && c->node_hostname[0] ? c->node_hostname : default_hostname;
}

const char *node_name(void)
{
    const struct config *c = config_current();

    return c && c->node_name[0] ? c->node_name : node_hostname();
}

void node_ip(char out[16])
{
    const struct config *c = config_current();
    struct netif *n = netif_tap_get();

    if (c && c->node_ip[0])
        snprintf(out, 16, "%s", c->node_ip);
    else if (!n || !ip4addr_ntoa_r(netif_ip4_addr(n), out, 16))
        strcpy(out, "0.0.0.0");
}

static int node_init(void)
{
    size_t len;
    int rc = keystore_get(KS_NODE, key, sizeof(key), &len);

    if (rc)
        return rc;
    have_key = 1;
    memcpy(id, "ed25519_", 8);
    hex_encode(key + 32, ED25519_PUB_LEN, id + 8);
    b64_encode(key + 32, ED25519_PUB_LEN, pub_b64);
    snprintf(default_hostname, sizeof(default_hostname), "meshgate-%.8s", id + 8);
    return 0;
}

static const uint16_t needs[] = { KS_NODE, 0 };

/* Its console command `node` belongs to the heartbeat service, which shows
 * the identity with the node's standing at the coordinator. */
const struct service node_service = {
    .name = "node",
    .init = node_init,
    .keys = needs,
};
