/* A prekey bundle and its JSON form (PROTOCOLS.md section 1):
 *   {"id","deviceId","registrationId","identityKey",
 *    "signedPreKey":{"keyId","publicKey","signature"},"preKey":{"keyId","publicKey"}}
 * keys standard base64: identity and public keys 33 bytes (0x05 || key),
 * the signature 64. Parsing ignores keys it does not know (kyberPreKey,
 * preKeys); preKey may be absent or null, deviceId absent means 1. */
#ifndef SIGNAL_BUNDLE_H
#define SIGNAL_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#define SIG_KEY_LEN 33
#define SIG_SIG_LEN 64
#define SIG_BUNDLE_JSON_MAX 512   /* what sig_bundle_format() writes, id included */

struct sig_bundle {
    uint32_t registration_id;
    int32_t device_id;
    uint8_t identity[SIG_KEY_LEN];
    uint32_t signed_prekey_id;
    uint8_t signed_prekey[SIG_KEY_LEN];
    uint8_t signature[SIG_SIG_LEN];
    int has_prekey;
    uint32_t prekey_id;
    uint8_t prekey[SIG_KEY_LEN];
};

/* Writes b as JSON with "id" first when id is not NULL (an id of printable
 * ASCII without quotes or backslashes, else MG_ERR_INVAL). MG_ERR_TOOBIG if
 * cap is short. The output is NUL-terminated; *len excludes the NUL. */
int sig_bundle_format(const struct sig_bundle *b, const char *id, char *out, size_t cap,
                      size_t *len);

/* Parses a bundle: MG_ERR_INVAL for JSON that is not one, a field missing
 * or of the wrong type or length, a key without the 0x05 type byte. */
int sig_bundle_parse(const char *json, size_t len, struct sig_bundle *b);

#endif
