/* The keystore (DESIGN.md section 6): the device's keys as records of the
 * record store (firmware/store/recstore.h) on the `keys` partition, each
 * payload AES-256-GCM under a key derived from the device's root secret
 * (hal/sys.h).
 *
 * Records:
 *   0x0001 header   {"MGKS", version 1, kdf (0 root key, 1 passphrase),
 *                    0, iterations u32, salt[16], check iv[12], check tag[16]}
 *                    in clear: the KDF parameters and a key check, so that a
 *                    wrong root key is told from a corrupt record.
 *   0x01xx keys     {iv[12], tag[16], ciphertext}; AAD "MGK1" || id (u16 LE).
 * The store key is HKDF-SHA256(salt, root, "meshgate keystore v1"), the root
 * being the provisioned key or PBKDF2-HMAC-SHA256(passphrase, salt,
 * iterations).
 *
 * Every key is in exactly one state: present (decrypts and verifies),
 * missing (never written, or deleted by an operator), or corrupt (its
 * record fails its CRC, decryption or verification). A corrupt key is never
 * replaced, except by keystore_reset() on an operator's confirmed order. */
#ifndef KEYSTORE_H
#define KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "flash.h"
#include "store/recstore.h"
#include "sys.h"

struct recstore;

/* Key ids and their plaintext layouts (little-endian integers). */
#define KS_NODE            0x0100  /* Ed25519 seed[32], public key[32] */
#define KS_SIGNAL_IDENTITY 0x0101  /* X25519 private[32], public[32], registration id u32 */
#define KS_SIGNED_PREKEY   0x0102  /* id u32, created ms u64, private[32], public[32],
                                      XEdDSA signature by the identity over 0x05||public [64] */
#define KS_PREKEYS         0x0110  /* pages 0x0110..: count u8, 0[3], count x {id u32, private[32]} */
#define KS_MESH_HMAC       0x0120  /* controller secret (MESH_HMAC_SECRET), 1..128 bytes */
#define KS_PEER_SECRET     0x0121  /* the device's peer secret, 1..128 bytes */
#define KS_SESSIONS        0x0200  /* slots 0x0200..: one Signal peer each (signal_store.h):
                                      version 1, name len u8, identity len u8 (0|33), 0,
                                      device id u32, session len u16, 0[2],
                                      name, identity, serialized session record */

#define KS_PREKEY_PAGE     16      /* one-time prekeys per page record */
#define KS_PREKEY_PAGES    (BOARD_SIGNAL_PREKEYS / KS_PREKEY_PAGE)
#define KS_SESSION_HEAD    12      /* a session slot's fixed part */
/* Largest plaintext: what one record holds once sealed (a session slot). */
#define KS_MAX_PLAIN       (RECSTORE_MAX_LEN - 12 - 16)

enum ks_status {
    KS_OK,            /* open; keys readable */
    KS_NO_FLASH,      /* the partition cannot be read */
    KS_NO_SECRET,     /* keys exist but the board has no root secret */
    KS_WRONG_KEY,     /* the root secret does not open this store */
    KS_DAMAGED,       /* the header is corrupt, or damage of unknown extent */
};

enum ks_state { KS_MISSING, KS_PRESENT, KS_CORRUPT };

enum ks_origin {
    KS_GENERATED,     /* made on the device at first boot */
    KS_PROVISIONED,   /* written by meshctl provision (a shared secret) */
    KS_LEARNED,       /* written as the device talks (a Signal session with a peer) */
};

struct ks_key_info {
    uint16_t id;
    const char *name;          /* "node", "signal-identity", ... */
    enum ks_origin origin;
    enum ks_state state;
};

/* Mounts the partition and checks the header against the root secret
 * (which may be of kind HAL_SECRET_NONE). A blank store gets a header when
 * there is a secret. Then every known key is decrypted and verified once,
 * so that states are known before any service starts. 0 when the store is
 * open (KS_OK); otherwise the status says why, and the error code is
 * MG_ERR_IO, MG_ERR_NOENT (no secret), MG_ERR_KEY or MG_ERR_CORRUPT. */
int keystore_open(const struct hal_flash_part *part, const struct hal_device_secret *secret,
                  uint32_t kdf_iterations);

enum ks_status keystore_status(void);
const char *keystore_status_text(enum ks_status st);

/* The store holds no record at all (a fresh device). */
int keystore_blank(void);

/* Generates and durably writes every generated key that is missing, in
 * dependency order (the signed prekey needs the identity). Refused
 * (MG_ERR_PERM) unless the store is open; a key whose prerequisite is not
 * present stays missing. *made counts the keys written. */
int keystore_generate_missing(int *made);

enum ks_state keystore_state(uint16_t id);

/* Copies the key's plaintext. MG_ERR_NOENT missing, MG_ERR_CORRUPT corrupt,
 * MG_ERR_PERM store not open, MG_ERR_TOOBIG short buffer. */
int keystore_get(uint16_t id, void *out, size_t cap, size_t *len);

/* Writes a key (verified first: MG_ERR_INVAL if it does not verify). */
int keystore_put(uint16_t id, const void *plain, size_t len);

/* An operator's confirmed reset: deletes the key and, when it is one the
 * device generates, generates a new one. */
int keystore_reset(uint16_t id);

/* Erases the whole partition; the next boot is a first boot. */
int keystore_erase(void);

/* The known keys, in a fixed order; NULL past the end. */
const struct ks_key_info *keystore_key(size_t i);
const struct ks_key_info *keystore_find(const char *name);
const struct ks_key_info *keystore_key_info(uint16_t id);

/* A public description of a present key: public keys, ids, and for secrets
 * a 4-byte check value; never secret bytes. */
int keystore_fingerprint(uint16_t id, char *out, size_t cap);

/* The open record store, for the `flash` console command. */
const struct recstore *keystore_records(void);

/* Milliseconds the last open took (mount, key derivation, checks). */
uint32_t keystore_open_ms(void);

#endif
