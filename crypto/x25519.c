#include "x25519.h"

#include <string.h>

#include "curve25519-donna.h"
#include "mbedtls/platform_util.h"
#include "mg_err.h"

void x25519_clamp(uint8_t priv[X25519_KEY_LEN])
{
    priv[0] &= 248;
    priv[31] &= 127;
    priv[31] |= 64;
}

int x25519_shared(uint8_t shared[X25519_KEY_LEN], const uint8_t priv[X25519_KEY_LEN],
                  const uint8_t peer_pub[X25519_KEY_LEN])
{
    uint8_t k[X25519_KEY_LEN];
    uint8_t zero = 0;
    int i;

    memcpy(k, priv, sizeof(k));
    x25519_clamp(k);
    curve25519_donna(shared, k, peer_pub);
    mbedtls_platform_zeroize(k, sizeof(k));

    for (i = 0; i < X25519_KEY_LEN; i++)
        zero |= shared[i];
    if (zero == 0)
        return MG_ERR_CRYPTO;
    return 0;
}

void x25519_public_key(uint8_t pub[X25519_KEY_LEN], const uint8_t priv[X25519_KEY_LEN])
{
    static const uint8_t base[X25519_KEY_LEN] = { 9 };

    (void)x25519_shared(pub, priv, base);
}
