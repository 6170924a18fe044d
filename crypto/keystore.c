#include "keystore.h"

#include <stdio.h>
#include <string.h>

#include "board.h"
#include "clock.h"
#include "crypto.h"
#include "ed25519.h"
#include "hex.h"
#include "le.h"
#include "mbedtls/platform_util.h"
#include "mg_err.h"
#include "store/recstore.h"
#include "x25519.h"
#include "xeddsa.h"

#define ID_HEADER   0x0001
#define MAGIC       "MGKS"
#define VERSION     1
#define KDF_KEY     0
#define KDF_PASS    1
#define HEADER_LEN  56
#define IV_LEN      12
#define TAG_LEN     16
#define SEALED_MAX  (IV_LEN + TAG_LEN + KS_MAX_PLAIN)

static const char check_aad[] = "meshgate keystore check";

static struct recstore rs;
static enum ks_status status = KS_NO_FLASH;
static uint8_t store_key[32];
static uint32_t open_ms;

static struct ks_key_info keys[] = {
    { KS_NODE, "node", KS_GENERATED, KS_MISSING },
    { KS_SIGNAL_IDENTITY, "signal-identity", KS_GENERATED, KS_MISSING },
    { KS_SIGNED_PREKEY, "signed-prekey", KS_GENERATED, KS_MISSING },
    { KS_PREKEYS + 0, "prekeys.0", KS_GENERATED, KS_MISSING },
    { KS_PREKEYS + 1, "prekeys.1", KS_GENERATED, KS_MISSING },
    { KS_PREKEYS + 2, "prekeys.2", KS_GENERATED, KS_MISSING },
    { KS_PREKEYS + 3, "prekeys.3", KS_GENERATED, KS_MISSING },
    { KS_MESH_HMAC, "mesh-hmac", KS_PROVISIONED, KS_MISSING },
    { KS_PEER_SECRET, "peer-secret", KS_PROVISIONED, KS_MISSING },
    { KS_SESSIONS + 0, "session.0", KS_LEARNED, KS_MISSING },
    { KS_SESSIONS + 1, "session.1", KS_LEARNED, KS_MISSING },
    { KS_SESSIONS + 2, "session.2", KS_LEARNED, KS_MISSING },
    { KS_SESSIONS + 3, "session.3", KS_LEARNED, KS_MISSING },
    { KS_SESSIONS + 4, "session.4", KS_LEARNED, KS_MISSING },
    { KS_SESSIONS + 5, "session.5", KS_LEARNED, KS_MISSING },
    { KS_SESSIONS + 6, "session.6", KS_LEARNED, KS_MISSING },
    { KS_SESSIONS + 7, "session.7", KS_LEARNED, KS_MISSING },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

_Static_assert(KS_PREKEY_PAGES == 4, "the key table lists four prekey pages");
_Static_assert(4 + KS_PREKEY_PAGE * 36 <= KS_MAX_PLAIN, "a prekey page fits");
_Static_assert(SEALED_MAX <= RECSTORE_MAX_LEN, "a sealed key fits one record");
_Static_assert(BOARD_SIGNAL_SESSIONS == 8, "the key table lists eight session slots");

static struct ks_key_info *info(uint16_t id)
{
    size_t i;

    for (i = 0; i < N_KEYS; i++)
        if (keys[i].id == id)
            return &keys[i];
    return NULL;
}

/* --- verification: a key's plaintext is self-consistent ------------------ */

static int verify_x25519_pair(const uint8_t *priv, const uint8_t *pub)
{
    uint8_t check[32];

    x25519_public_key(check, priv);
    return mg_ct_compare(check, pub, 32) == 0;
}

/* What the identity signs for a signed prekey: the public key serialized
 * as libsignal does, type byte 0x05 (Curve25519) then the 32 bytes. */
static void spk_message(uint8_t msg[33], const uint8_t pub[32])
{
    msg[0] = 0x05;
    memcpy(msg + 1, pub, 32);
}

static int verify(uint16_t id, const uint8_t *p, size_t len)
{
    uint8_t check[32];

    switch (id) {
    case KS_NODE:
        if (len != 64)
            return 0;
        ed25519_public_key(p, check);
        return mg_ct_compare(check, p + 32, 32) == 0;
    case KS_SIGNAL_IDENTITY: {
        uint32_t reg = len == 68 ? le32_get(p + 64) : 0;
        return len == 68 && reg >= 1 && reg <= 16380 && verify_x25519_pair(p, p + 32);
    }
    case KS_SIGNED_PREKEY: {
        uint8_t ident[68], msg[33];
        size_t ilen;
        if (len != 140 || !verify_x25519_pair(p + 12, p + 44))
            return 0;
        /* The signature is checked against the identity when it is
         * present; a signed prekey without its identity cannot be used. */
        if (keystore_get(KS_SIGNAL_IDENTITY, ident, sizeof(ident), &ilen) != 0)
            return 0;
        spk_message(msg, p + 44);
        return xeddsa_verify(ident + 32, msg, sizeof(msg), p + 76) == 0;
    }
    case KS_MESH_HMAC:
    case KS_PEER_SECRET:
        return len >= 1 && len <= 128;
    default:
        if (id >= KS_PREKEYS && id < KS_PREKEYS + KS_PREKEY_PAGES)
            return len >= 4 && p[0] <= KS_PREKEY_PAGE && len == 4 + (size_t)p[0] * 36;
        if (id >= KS_SESSIONS && id < KS_SESSIONS + BOARD_SIGNAL_SESSIONS)
            return len >= KS_SESSION_HEAD && p[0] == 1 && p[1] >= 1 && (p[2] == 0 || p[2] == 33) &&
                   len == KS_SESSION_HEAD + (size_t)p[1] + p[2] + (size_t)(p[8] | p[9] << 8);
        return 0;
    }
}

/* --- sealing ------------------------------------------------------------- */

static void aad_for(uint16_t id, uint8_t aad[6])
{
    memcpy(aad, "MGK1", 4);
    aad[4] = (uint8_t)id;
    aad[5] = (uint8_t)(id >> 8);
}

/* Reads and decrypts; MG_ERR_CORRUPT for a record that fails either. */
static int unseal(uint16_t id, uint8_t *out, size_t cap, size_t *len)
{
    static uint8_t sealed[SEALED_MAX];
    uint8_t aad[6];
    size_t n;
    int rc = recstore_read(&rs, id, sealed, sizeof(sealed), &n);

    *len = 0;
    if (rc == MG_ERR_TOOBIG)
        return MG_ERR_CORRUPT;   /* no key of ours is that long */
    if (rc)
        return rc;
    if (n < IV_LEN + TAG_LEN)
        return MG_ERR_CORRUPT;
    n -= IV_LEN + TAG_LEN;
    if (n > cap)
        return MG_ERR_TOOBIG;
    aad_for(id, aad);
    if (mg_aes_gcm_decrypt(store_key, sizeof(store_key), sealed, IV_LEN, aad, sizeof(aad),
                           sealed + IV_LEN + TAG_LEN, n, out, sealed + IV_LEN, TAG_LEN) != 0)
        return MG_ERR_CORRUPT;
    *len = n;
    return 0;
}

static int seal_and_write(uint16_t id, const uint8_t *plain, size_t len)
{
    static uint8_t sealed[SEALED_MAX];
    uint8_t aad[6];
    int rc;

    if (len > KS_MAX_PLAIN)
        return MG_ERR_TOOBIG;
    rc = mg_random(sealed, IV_LEN);
    aad_for(id, aad);
    if (rc == 0)
        rc = mg_aes_gcm_encrypt(store_key, sizeof(store_key), sealed, IV_LEN, aad, sizeof(aad),
                                plain, len, sealed + IV_LEN + TAG_LEN, sealed + IV_LEN, TAG_LEN);
    if (rc == 0)
        rc = recstore_write(&rs, id, sealed, IV_LEN + TAG_LEN + len);
    mbedtls_platform_zeroize(sealed, sizeof(sealed));
    return rc;
}

/* Decrypts and verifies one key into its table state. */
static void check_key(struct ks_key_info *k)
{
    uint8_t plain[KS_MAX_PLAIN];
    size_t len;
    int rc = unseal(k->id, plain, sizeof(plain), &len);

    if (rc == MG_ERR_NOENT)
        k->state = KS_MISSING;
    else if (rc == 0 && verify(k->id, plain, len))
        k->state = KS_PRESENT;
    else
        k->state = KS_CORRUPT;
    mbedtls_platform_zeroize(plain, sizeof(plain));
}

/* --- the header ---------------------------------------------------------- */

static int derive(const struct hal_device_secret *secret, int kdf, uint32_t iterations,
                  const uint8_t salt[16])
{
    static const char info_str[] = "meshgate keystore v1";
    uint8_t root[32];
    const uint8_t *ikm = secret->key;
    int rc = 0;

    if (kdf == KDF_PASS) {
        rc = mg_pbkdf2_hmac_sha256(secret->passphrase, secret->passphrase_len, salt, 16,
                                   iterations, root, sizeof(root));
        ikm = root;
    }
    if (rc == 0)
        rc = mg_hkdf_sha256(salt, 16, ikm, 32, info_str, sizeof(info_str) - 1, store_key,
                            sizeof(store_key));
    mbedtls_platform_zeroize(root, sizeof(root));
    return rc;
}

static int write_header(const struct hal_device_secret *secret, uint32_t iterations)
{
    uint8_t h[HEADER_LEN];
    int kdf = secret->kind == HAL_SECRET_PASSPHRASE ? KDF_PASS : KDF_KEY;
    int rc;

    memset(h, 0, sizeof(h));
    memcpy(h, MAGIC, 4);
    h[4] = VERSION;
    h[5] = (uint8_t)kdf;
    le32_put(h + 8, kdf == KDF_PASS ? iterations : 0);
    rc = mg_random(h + 12, 16 + IV_LEN);
    if (rc == 0)
        rc = derive(secret, kdf, iterations, h + 12);
    if (rc == 0)
        rc = mg_aes_gcm_encrypt(store_key, sizeof(store_key), h + 28, IV_LEN, check_aad,
                                sizeof(check_aad) - 1, NULL, 0, NULL, h + 40, TAG_LEN);
    return rc ? rc : recstore_write(&rs, ID_HEADER, h, sizeof(h));
}

/* Opens an existing header with the secret: the status it leads to. */
static enum ks_status check_header(const struct hal_device_secret *secret)
{
    uint8_t h[HEADER_LEN];
    size_t len;
    uint32_t iterations;
    int kdf;

    if (recstore_read(&rs, ID_HEADER, h, sizeof(h), &len) != 0 || len != HEADER_LEN ||
        memcmp(h, MAGIC, 4) != 0 || h[4] != VERSION || h[5] > KDF_PASS)
        return KS_DAMAGED;
    kdf = h[5];
    iterations = le32_get(h + 8);
    if (kdf == KDF_PASS && (iterations == 0 || iterations > 10000000u))
        return KS_DAMAGED;
    if (secret->kind == HAL_SECRET_NONE)
        return KS_NO_SECRET;
    if ((kdf == KDF_PASS) != (secret->kind == HAL_SECRET_PASSPHRASE))
        return KS_WRONG_KEY;
    if (derive(secret, kdf, iterations, h + 12) != 0)
        return KS_WRONG_KEY;
    if (mg_aes_gcm_decrypt(store_key, sizeof(store_key), h + 28, IV_LEN, check_aad,
                           sizeof(check_aad) - 1, NULL, 0, NULL, h + 40, TAG_LEN) != 0)
        return KS_WRONG_KEY;
    return KS_OK;
}

int keystore_blank(void)
{
    size_t i;

    for (i = 0; i < rs.n_entries; i++)
        if (rs.entries[i].state != REC_NONE)
            return 0;
    return !recstore_damaged(&rs) && !recstore_foreign(&rs);
}

int keystore_open(const struct hal_flash_part *part, const struct hal_device_secret *secret,
                  uint32_t kdf_iterations)
{
    uint64_t t0 = hal_clock_ms();
    size_t i;
    int rc;

    status = KS_NO_FLASH;
    mbedtls_platform_zeroize(store_key, sizeof(store_key));
    for (i = 0; i < N_KEYS; i++)
        keys[i].state = KS_MISSING;
    if (!part || recstore_mount(&rs, part) != 0)
        return MG_ERR_IO;
    if (keystore_blank()) {
        if (secret->kind == HAL_SECRET_NONE) {
            status = KS_NO_SECRET;
            return MG_ERR_NOENT;
        }
        rc = write_header(secret, kdf_iterations);
        if (rc)
            return rc;
        status = KS_OK;
    } else if (recstore_damaged(&rs) || recstore_state_of(&rs, ID_HEADER) != REC_VALID) {
        /* Damage we cannot place, or keys without the header that opens
         * them: no key can be trusted to be its newest version. */
        status = KS_DAMAGED;
    } else {
        status = check_header(secret);
    }
    for (i = 0; i < N_KEYS; i++) {
        enum recstore_state rst = recstore_state_of(&rs, keys[i].id);
        if (status == KS_OK)
            check_key(&keys[i]);
        else
            keys[i].state = rst == REC_NONE || rst == REC_DELETED ? KS_MISSING : KS_CORRUPT;
    }
    open_ms = (uint32_t)(hal_clock_ms() - t0);
    switch (status) {
    case KS_OK:
        return 0;
    case KS_NO_SECRET:
        return MG_ERR_NOENT;
    case KS_WRONG_KEY:
        return MG_ERR_KEY;
    default:
        return MG_ERR_CORRUPT;
    }
}

enum ks_status keystore_status(void)
{
    return status;
}

const char *keystore_status_text(enum ks_status st)
{
    switch (st) {
    case KS_OK:
        return "open";
    case KS_NO_FLASH:
        return "flash unreadable";
    case KS_NO_SECRET:
        return "no root secret on this board";
    case KS_WRONG_KEY:
        return "wrong root key (another device's flash, or another passphrase)";
    case KS_DAMAGED:
        return "damaged (header corrupt or damage of unknown extent)";
    }
    return "?";
}

/* --- generation ---------------------------------------------------------- */

static int generate(uint16_t id, uint8_t *p, size_t *len)
{
    int rc;

    switch (id) {
    case KS_NODE:
        rc = mg_random(p, 32);
        if (rc)
            return rc;
        ed25519_public_key(p, p + 32);
        *len = 64;
        return 0;
    case KS_SIGNAL_IDENTITY: {
        uint8_t r[2] = { 0, 0 };
        rc = mg_random(p, 32);
        if (rc == 0)
            rc = mg_random(r, sizeof(r));
        if (rc)
            return rc;
        x25519_clamp(p);
        x25519_public_key(p + 32, p);
        /* libsignal's range: 1..16380. */
        le32_put(p + 64, 1u + (uint32_t)((r[0] | r[1] << 8) % 16380u));
        *len = 68;
        return 0;
    }
    case KS_SIGNED_PREKEY: {
        uint8_t ident[68], msg[33], rnd[64];
        uint64_t now = (uint64_t)hal_clock_wall_ms();
        size_t ilen;
        rc = keystore_get(KS_SIGNAL_IDENTITY, ident, sizeof(ident), &ilen);
        if (rc == 0)
            rc = mg_random(p, 4);
        if (rc == 0)
            rc = mg_random(p + 12, 32);
        if (rc == 0)
            rc = mg_random(rnd, sizeof(rnd));
        if (rc)
            return rc;
        le32_put(p, le32_get(p) & 0xFFFFFFu);   /* Signal prekey ids are 24-bit */
        le32_put(p + 4, (uint32_t)now);
        le32_put(p + 8, (uint32_t)(now >> 32));
        x25519_clamp(p + 12);
        x25519_public_key(p + 44, p + 12);
        spk_message(msg, p + 44);
        xeddsa_sign(ident, msg, sizeof(msg), rnd, p + 76);
        mbedtls_platform_zeroize(ident, sizeof(ident));
        *len = 140;
        return 0;
    }
    default: {
        unsigned page = (unsigned)(id - KS_PREKEYS), k;
        if (id < KS_PREKEYS || page >= KS_PREKEY_PAGES)
            return MG_ERR_INVAL;
        memset(p, 0, 4);
        p[0] = KS_PREKEY_PAGE;
        for (k = 0; k < KS_PREKEY_PAGE; k++) {
            uint8_t *e = p + 4 + k * 36;
            le32_put(e, 1 + page * KS_PREKEY_PAGE + k);
            rc = mg_random(e + 4, 32);
            if (rc)
                return rc;
            x25519_clamp(e + 4);
        }
        *len = 4 + KS_PREKEY_PAGE * 36;
        return 0;
    }
    }
}

static int generate_one(struct ks_key_info *k)
{
    uint8_t plain[KS_MAX_PLAIN];
    size_t len;
    int rc = generate(k->id, plain, &len);

    if (rc == 0)
        rc = seal_and_write(k->id, plain, len);
    mbedtls_platform_zeroize(plain, sizeof(plain));
    if (rc == 0)
        check_key(k);   /* read back from flash: what a reboot will see */
    return rc;
}

int keystore_generate_missing(int *made)
{
    size_t i;
    int rc;

    *made = 0;
    if (status != KS_OK)
        return MG_ERR_PERM;
    /* The table is in dependency order. */
    for (i = 0; i < N_KEYS; i++) {
        if (keys[i].origin != KS_GENERATED || keys[i].state != KS_MISSING)
            continue;
        if (keys[i].id == KS_SIGNED_PREKEY && keystore_state(KS_SIGNAL_IDENTITY) != KS_PRESENT)
            continue;
        rc = generate_one(&keys[i]);
        if (rc)
            return rc;
        (*made)++;
    }
    return 0;
}

/* --- access -------------------------------------------------------------- */

enum ks_state keystore_state(uint16_t id)
{
    const struct ks_key_info *k = info(id);

    return k ? k->state : KS_MISSING;
}

int keystore_get(uint16_t id, void *out, size_t cap, size_t *len)
{
    const struct ks_key_info *k = info(id);

    *len = 0;
    if (status != KS_OK)
        return MG_ERR_PERM;
    if (!k)
        return MG_ERR_NOENT;
    return unseal(id, out, cap, len);
}

int keystore_put(uint16_t id, const void *plain, size_t len)
{
    struct ks_key_info *k = info(id);
    int rc;

    if (status != KS_OK)
        return MG_ERR_PERM;
    if (!k || !verify(id, plain, len))
        return MG_ERR_INVAL;
    rc = seal_and_write(id, plain, len);
    if (rc == 0)
        check_key(k);
    return rc;
}

int keystore_reset(uint16_t id)
{
    struct ks_key_info *k = info(id);
    int rc;

    struct ks_key_info *spk = info(KS_SIGNED_PREKEY);

    if (!k)
        return MG_ERR_NOENT;
    if (status != KS_OK)
        return MG_ERR_PERM;
    /* The signed prekey is signed by the identity: it goes first, so that
     * a cut anywhere leaves it missing (made again at boot), never signed
     * by a key that is gone. */
    if (id == KS_SIGNAL_IDENTITY) {
        rc = recstore_delete(&rs, KS_SIGNED_PREKEY);
        if (rc)
            return rc;
        spk->state = KS_MISSING;
    }
    rc = recstore_delete(&rs, id);
    if (rc)
        return rc;
    k->state = KS_MISSING;
    rc = k->origin == KS_GENERATED ? generate_one(k) : 0;
    if (rc == 0 && id == KS_SIGNAL_IDENTITY)
        rc = generate_one(spk);
    return rc;
}

int keystore_erase(void)
{
    const struct hal_flash_part *part = rs.part;
    int rc;

    if (!part)
        return MG_ERR_IO;
    rc = hal_flash_part_erase(part, 0, part->size);
    if (rc == 0)
        rc = hal_flash_sync();
    status = KS_NO_FLASH;
    mbedtls_platform_zeroize(store_key, sizeof(store_key));
    return rc;
}

const struct ks_key_info *keystore_key(size_t i)
{
    return i < N_KEYS ? &keys[i] : NULL;
}

const struct ks_key_info *keystore_key_info(uint16_t id)
{
    return info(id);
}

const struct ks_key_info *keystore_find(const char *name)
{
    size_t i;

    for (i = 0; i < N_KEYS; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

int keystore_fingerprint(uint16_t id, char *out, size_t cap)
{
    uint8_t p[KS_MAX_PLAIN], mac[MG_SHA256_LEN];
    char h[2 * 33 + 1];
    size_t len;
    int rc = keystore_get(id, p, sizeof(p), &len);

    if (rc == 0) {
        switch (id) {
        case KS_NODE:
            hex_encode(p + 32, 32, h);
            snprintf(out, cap, "ed25519_%s", h);
            break;
        case KS_SIGNAL_IDENTITY:
            hex_encode(p + 32, 32, h);
            snprintf(out, cap, "05%s reg %lu", h, (unsigned long)le32_get(p + 64));
            break;
        case KS_SIGNED_PREKEY:
            hex_encode(p + 44, 32, h);
            snprintf(out, cap, "id %lu 05%s", (unsigned long)le32_get(p), h);
            break;
        case KS_MESH_HMAC:
        case KS_PEER_SECRET:
            /* A check value: proves which secret it is, reveals nothing. */
            mg_hmac_sha256(p, len, "meshgate key check", 18, mac);
            hex_encode(mac, 4, h);
            snprintf(out, cap, "%zu bytes, check %s", len, h);
            break;
        default:
            if (id >= KS_SESSIONS)
                snprintf(out, cap, "peer %.*s.%lu, session %u bytes", p[1], (const char *)p + 12,
                         (unsigned long)le32_get(p + 4), (unsigned)(p[8] | p[9] << 8));
            else if (p[0])
                snprintf(out, cap, "%u one-time prekeys, ids %lu..%lu", p[0],
                         (unsigned long)le32_get(p + 4),
                         (unsigned long)le32_get(p + 4 + (p[0] - 1u) * 36));
            else
                snprintf(out, cap, "all used");
        }
    }
    mbedtls_platform_zeroize(p, sizeof(p));
    return rc;
}

const struct recstore *keystore_records(void)
{
    return &rs;
}

uint32_t keystore_open_ms(void)
{
    return open_ms;
}
