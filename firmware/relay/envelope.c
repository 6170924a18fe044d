#include "envelope.h"

#include "mg_err.h"
#include "relay/users.h"

const char *envelope_check(const struct json_doc *d, int env, size_t max_body,
                           int64_t *timestamp, int *too_big)
{
    static const char *const strings[] = { "senderId", "recipientId", "sessionId" };
    static char text[BOARD_RELAY_ENVELOPE_MAX + 1];
    int64_t v;
    size_t i;
    int k, n;

    *too_big = 0;
    if (json_kind(d, env) != JSON_OBJECT)
        return "envelope: must be an object";
    k = json_get(d, env, "version");
    if (k < 0 || json_kind(d, k) != JSON_NUMBER || json_int(d, k, &v) != 0 || v < 1)
        return "envelope.version: an integer >= 1";
    for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        k = json_get(d, env, strings[i]);
        if (k < 0 || json_kind(d, k) != JSON_STRING)
            return i == 0 ? "envelope.senderId: a string"
                 : i == 1 ? "envelope.recipientId: a string" : "envelope.sessionId: a string";
    }
    k = json_get(d, env, "type");
    if (k < 0 || json_kind(d, k) != JSON_NUMBER || json_int(d, k, &v) != 0 || v < 0)
        return "envelope.type: an integer >= 0";
    k = json_get(d, env, "timestamp");
    if (k < 0 || json_kind(d, k) != JSON_NUMBER || json_int(d, k, timestamp) != 0 ||
        *timestamp <= 0)
        return "envelope.timestamp: an integer > 0";
    k = json_get(d, env, "body");
    if (k < 0 || json_kind(d, k) != JSON_STRING)
        return "envelope.body: a non-empty base64 string";
    n = json_str(d, k, text, sizeof(text));
    if (n == MG_ERR_TOOBIG || (n > 0 && (size_t)n > max_body)) {
        *too_big = 1;
        return "envelope.body: too large";
    }
    if (n <= 0 || users_b64_check(text, (size_t)n) <= 0)
        return "envelope.body: a non-empty base64 string";
    return NULL;
}

