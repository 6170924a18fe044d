/* libFuzzer target for the controller's config parser
 * (firmware/confsync/config.c): arbitrary bytes as a /config/sync body that
 * passed the HMAC gate, checked against config.h's promises:
 *   - a refused push says why (400 and one of the documented codes) and
 *     leaves the running config exactly as it was, nothing staged;
 *   - an accepted push stays inside every static table, its strings are
 *     terminated inside their fields, its hash is 64 lowercase hex, and
 *     staging the same bytes again gives the same config and hash;
 *   - applying it makes it the running config.
 *
 * Built by tests/fuzz/fuzz.mk against the host board's mbedTLS
 * (build/host/deps/libmbedcrypto.a, for SHA-256) and jsmn. libFuzzer adds the
 * inputs it finds to the first directory, so never name the checked-in one
 * first. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "confsync/config.h"
#include "crypto.h"
#include "mg_err.h"

#define MUST(cond)                                                             \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

static const char base[] =
    "{\"identity\":{\"allowed_senders\":[\"+15550001111\"],\"bot_name\":\"Joi\",\"groups\":{}}}";
static struct config running_copy, first;

static int terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

static void check_accepted(const struct config *c)
{
    size_t i;

    MUST(c->n_allowed <= BOARD_CONFIG_SENDERS && c->n_peers <= BOARD_PEERS);
    MUST(strlen(c->hash) == 64 && strspn(c->hash, "0123456789abcdef") == 64);
    MUST(terminated(c->bot_name, sizeof(c->bot_name)));
    for (i = 0; i < c->n_allowed; i++)
        MUST(terminated(c->allowed[i], CONFIG_ID_MAX) && c->allowed[i][0] != '\0');
    for (i = 0; i < c->n_peers; i++) {
        MUST(terminated(c->peers[i].url, CONFIG_URL_MAX));
        MUST(strncmp(c->peers[i].url, "http://", 7) == 0);
        MUST(c->peers[i].secret_len <= CONFIG_SECRET_MAX);
    }
    MUST(c->relay_auth == CONFIG_AUTH_SIGNED || c->relay_auth == CONFIG_AUTH_OPEN);
    MUST(c->max_envelope_bytes >= 1 && c->max_envelope_bytes <= BOARD_RELAY_ENVELOPE_MAX);
    MUST(c->mailbox_cap >= 1 && c->pending_per_sender >= 1);
    MUST(!c->forwarding || c->inbound_url[0] != '\0');
    MUST(!c->rotate || (c->new_secret_len >= 32 && c->new_secret_len <= CONFIG_SECRET_MAX));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct config_error err;

    (void)argc;
    (void)argv;
    MUST(mg_crypto_init() == 0);
    MUST(config_stage(base, sizeof(base) - 1, &err) == 0);
    config_apply(1);
    first = *config_current();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct config staged_copy;
    struct config_error err;
    const struct config *c;
    int rc;

    running_copy = *config_current();
    rc = config_stage((const char *)data, size, &err);
    if (rc != 0) {
        MUST(rc == MG_ERR_INVAL && err.status == 400 && err.code);
        MUST(strcmp(err.code, "invalid_json") == 0 || strcmp(err.code, "missing_identity") == 0 ||
             strcmp(err.code, "invalid_config") == 0 || strcmp(err.code, "config_too_large") == 0);
        MUST(terminated(err.detail, sizeof(err.detail)));
        MUST(config_staged() == NULL);
        MUST(memcmp(config_current(), &running_copy, sizeof(running_copy)) == 0);
        return 0;
    }
    c = config_staged();
    MUST(c != NULL && c != config_current());
    MUST(memcmp(config_current(), &running_copy, sizeof(running_copy)) == 0);
    check_accepted(c);
    staged_copy = *c;
    MUST(config_stage((const char *)data, size, &err) == 0);
    MUST(memcmp(config_staged(), &staged_copy, sizeof(staged_copy)) == 0);
    config_apply(2);
    MUST(strcmp(config_current()->hash, staged_copy.hash) == 0);
    /* Back to the first config, so every input starts from the same one. */
    MUST(config_stage(base, sizeof(base) - 1, &err) == 0);
    config_apply(1);
    MUST(strcmp(config_current()->hash, first.hash) == 0);
    return 0;
}
