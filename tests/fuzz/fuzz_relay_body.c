/* libFuzzer target for the relay's request bodies: arbitrary bytes as the
 * body of POST /v1/messages or POST /v1/prekeys, through the same strict
 * JSON parser and the same checks the relay runs (relay/envelope.c,
 * relay/users.c). Checked: the checks never crash or read out of bounds; an
 * accepted envelope has a positive timestamp and was not flagged too big;
 * an accepted bundle's keys are terminated base64 text that decodes to the
 * right lengths, within the one-time prekey table, and is served back as a
 * JSON document the parser takes again. libFuzzer adds the inputs it finds
 * to the first directory, so never name the checked-in one first. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "json/json.h"
#include "relay/envelope.h"
#include "relay/users.h"

#define MUST(cond)                                                             \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

static jsmntok_t tok[512], tok2[512];
static struct user user;
static char served[8192];

static void check_key(const char *text, int want)
{
    static uint8_t raw[1600];

    MUST(memchr(text, '\0', USER_B64_KYBER) != NULL);
    MUST(users_b64_decode(text, strlen(text), raw, sizeof(raw)) == want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct json_doc d, again;
    const char *why;
    int64_t ts = 0;
    int too_big, i, n;

    if (json_parse(&d, (const char *)data, size, tok, 512) != 0 || json_kind(&d, 0) != JSON_OBJECT)
        return 0;
    i = json_get(&d, 0, "envelope");
    if (i >= 0) {
        why = envelope_check(&d, i, 8192, &ts, &too_big);
        MUST(!why || why[0]);
        MUST(why || (ts > 0 && !too_big));
    }
    i = json_get(&d, 0, "bundle");
    if (i >= 0 && users_parse_bundle(&d, i, &user.bundle, &why) == 0) {
        struct user_bundle *b = &user.bundle;
        size_t k;
        MUST(b->present && b->n_onetime <= BOARD_RELAY_ONETIME);
        check_key(b->identity, 33);
        check_key(b->spk_pub, 33);
        check_key(b->spk_sig, 64);
        for (k = 0; k < b->n_onetime; k++)
            check_key(b->onetime[k].pub, 33);
        if (b->has_kyber)
            check_key(b->kyber_pub, 1569);
        strcpy(user.id, "fuzz");
        n = users_serve_bundle(&user, served, sizeof(served));
        MUST(n > 0);
        MUST(json_parse(&again, served, (size_t)n, tok2, 512) == 0);
    }
    return 0;
}
