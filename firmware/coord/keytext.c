#include "keytext.h"

#include <string.h>

#include "hex.h"
#include "mg_err.h"

static int parse_hex_after(const char *text, const char *prefix, uint8_t *out, size_t n)
{
    size_t plen = strlen(prefix);

    if (strncmp(text, prefix, plen) != 0 || strlen(text + plen) != 2 * n)
        return MG_ERR_INVAL;
    return hex_decode(text + plen, 2 * n, out, n) == (long)n ? 0 : MG_ERR_INVAL;
}

int coord_key_parse(const char *text, uint8_t pub[ED25519_PUB_LEN])
{
    return parse_hex_after(text, "ed25519_", pub, ED25519_PUB_LEN);
}

void coord_key_format(const uint8_t pub[ED25519_PUB_LEN], char out[COORD_KEY_TEXT])
{
    memcpy(out, "ed25519_", 8);
    hex_encode(pub, ED25519_PUB_LEN, out + 8);
}

int coord_sig_parse(const char *text, uint8_t sig[ED25519_SIG_LEN])
{
    if (parse_hex_after(text, "ed25519_sig_", sig, ED25519_SIG_LEN) == 0)
        return 0;
    return parse_hex_after(text, "ed25519_", sig, ED25519_SIG_LEN);
}
