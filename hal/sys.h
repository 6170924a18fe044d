/* The device's root secret, from which the keystore's encryption key is
 * derived (crypto/keystore.h). A production board reads it from OTP or a
 * secure element; the Linux boards read a provisioning file, written by
 * `meshctl provision` or created at first boot, holding one line:
 *
 *     key=<64 hex digits>        the 32-byte root key itself, or
 *     passphrase=<text>          a passphrase, stretched by the keystore with
 *                                PBKDF2-HMAC-SHA256 (salt and iteration count
 *                                are recorded in flash)
 *
 * The environment variable MESHGATE_PASSPHRASE, when set, is a passphrase
 * and takes precedence over the file. */
#ifndef HAL_SYS_H
#define HAL_SYS_H

#include <stddef.h>
#include <stdint.h>

#define HAL_SECRET_KEY_LEN  32
#define HAL_SECRET_PASS_MAX 128

enum hal_secret_kind { HAL_SECRET_NONE, HAL_SECRET_KEY, HAL_SECRET_PASSPHRASE };

struct hal_device_secret {
    enum hal_secret_kind kind;
    uint8_t key[HAL_SECRET_KEY_LEN];
    char passphrase[HAL_SECRET_PASS_MAX + 1];
    size_t passphrase_len;
};

/* Where the provisioning file is (the string is kept); the default is
 * BOARD_SECRET_PATH. */
void hal_sys_set_secret_path(const char *path);
const char *hal_sys_secret_path(void);

/* Reads the secret. 0 with kind set; MG_ERR_NOENT when the board has none
 * (no file, no environment); MG_ERR_INVAL when the file is malformed;
 * MG_ERR_IO when it cannot be read. */
int hal_sys_device_secret(struct hal_device_secret *out);

/* Provisions a root key on a board that has none (first boot of a
 * development board): creates the file readable by its owner only, never
 * replacing one. MG_ERR_EXIST if there is one already. */
int hal_sys_create_device_secret(const uint8_t key[HAL_SECRET_KEY_LEN]);

/* Wipes a secret from memory. */
void hal_sys_secret_wipe(struct hal_device_secret *s);

#endif
