/* The envelope of PROTOCOLS.md section 1 as the relay checks it before
 * storing it: {version >= 1, senderId, recipientId, sessionId (strings),
 * type >= 0, body (standard base64, non-empty), timestamp > 0}; unknown keys
 * are ignored, and the envelope is stored and pushed as its sender wrote
 * it. */
#ifndef ENVELOPE_H
#define ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "json/json.h"

/* Checks the value at env of d. NULL if it is a valid envelope (with
 * *timestamp set), else a sentence naming the field; *too_big is set when
 * the body's text is longer than max_body bytes (the relay answers 413). */
const char *envelope_check(const struct json_doc *d, int env, size_t max_body,
                           int64_t *timestamp, int *too_big);

#endif
