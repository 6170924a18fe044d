#include "node.h"

#include <string.h>

#include "console/console.h"
#include "ed25519.h"
#include "hex.h"
#include "keystore.h"
#include "mbedtls/base64.h"
#include "mbedtls/platform_util.h"

static char id[8 + 2 * ED25519_PUB_LEN + 1];
static char pub_b64[45];

const char *node_id(void)
{
    return id;
}

static int node_init(void)
{
    uint8_t key[64];
    size_t len, n;
    int rc = keystore_get(KS_NODE, key, sizeof(key), &len);

    if (rc)
        return rc;
    memcpy(id, "ed25519_", 8);
    hex_encode(key + 32, ED25519_PUB_LEN, id + 8);
    mbedtls_base64_encode((unsigned char *)pub_b64, sizeof(pub_b64), &n, key + 32,
                          ED25519_PUB_LEN);
    mbedtls_platform_zeroize(key, sizeof(key));
    return 0;
}

static void node_cmd(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    console_printf("node id    %s\npublic key %s (base64)\n", id, pub_b64);
}

static const struct console_cmd commands[] = {
    { "node", "", "this node's id and public key", node_cmd },
};

static const uint16_t needs[] = { KS_NODE, 0 };

const struct service node_service = {
    .name = "node",
    .init = node_init,
    .commands = commands,
    .n_commands = sizeof(commands) / sizeof(commands[0]),
    .keys = needs,
};
