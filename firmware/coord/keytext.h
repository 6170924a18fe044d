/* The coordinator's text forms of keys and signatures (PROTOCOLS.md 3): a
 * key is "ed25519_" + 64 hex digits, a signature "ed25519_sig_" + 128 hex
 * digits ("ed25519_" + 128 is accepted too). Hex of either case is read,
 * lowercase is written. Text only: the config parser reads keys with it. */
#ifndef COORD_KEYTEXT_H
#define COORD_KEYTEXT_H

#include <stdint.h>

#include "ed25519.h"

#define COORD_KEY_TEXT  (8 + 2 * ED25519_PUB_LEN + 1)   /* "ed25519_" + hex + NUL */

/* Reads a key's text (NUL-terminated) into pub; 0, or MG_ERR_INVAL for a
 * wrong prefix, length or digit. */
int coord_key_parse(const char *text, uint8_t pub[ED25519_PUB_LEN]);

/* Writes pub as "ed25519_<lowercase hex>" into out. */
void coord_key_format(const uint8_t pub[ED25519_PUB_LEN], char out[COORD_KEY_TEXT]);

/* Reads a signature's text into sig; 0, or MG_ERR_INVAL. */
int coord_sig_parse(const char *text, uint8_t sig[ED25519_SIG_LEN]);

#endif
