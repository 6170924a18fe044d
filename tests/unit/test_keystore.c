/* The keystore: first boot makes the device's keys durably, later boots read
 * the same keys, and every kind of bad flash ends in a clear state (corrupt,
 * missing, wrong root key, damaged) without a crash and without a key
 * silently replaced (DESIGN.md section 6). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "board.h"
#include "crypto.h"
#include "flash.h"
#include "flash_image.h"
#include "keystore.h"
#include "mg_err.h"
#include "store/recstore.h"
#include "sys.h"
#include "test.h"

#define ITER 1000   /* PBKDF2 rounds in tests: the derivation, not its cost */

static struct hal_device_secret key_a, key_b, pass_a, pass_b, none;

static void secrets(void)
{
    memset(&key_a, 0, sizeof(key_a));
    key_a.kind = HAL_SECRET_KEY;
    memset(key_a.key, 0xA5, sizeof(key_a.key));
    key_b = key_a;
    key_b.key[31] ^= 1;
    memset(&pass_a, 0, sizeof(pass_a));
    pass_a.kind = HAL_SECRET_PASSPHRASE;
    strcpy(pass_a.passphrase, "correct horse battery staple");
    pass_a.passphrase_len = strlen(pass_a.passphrase);
    pass_b = pass_a;
    pass_b.passphrase[0] = 'C';
    memset(&none, 0, sizeof(none));
}

static int reboot_with(const struct hal_device_secret *s)
{
    hal_flash_close();
    if (hal_flash_open(flash_image_path()) != 0)
        return MG_ERR_IO;
    return keystore_open(hal_flash_part("keys"), s, ITER);
}

static int first_boot(const struct hal_device_secret *s)
{
    int made = 0, rc = keystore_open(hal_flash_part("keys"), s, ITER);

    if (rc == 0)
        rc = keystore_generate_missing(&made);
    return rc ? rc : made;
}

static void fingerprint(uint16_t id, char *out)
{
    if (keystore_fingerprint(id, out, 200) != 0)
        strcpy(out, "?");
}

/* Overwrites len bytes of the flash image at the partition offset. */
static void poke(uint32_t off, const void *data, size_t len)
{
    int fd;

    hal_flash_close();
    fd = open(flash_image_path(), O_WRONLY);   /* no stdio: it allocates */
    if (fd < 0 || pwrite(fd, data, len, (off_t)(hal_flash_part("keys")->off + off)) !=
                      (ssize_t)len)
        test_fail(__FILE__, __LINE__, "cannot poke the image");
    if (fd >= 0)
        close(fd);
}

/* Where the newest record of id sits in the partition. */
static uint32_t record_off(uint16_t id)
{
    const struct recstore *rs = keystore_records();
    size_t i;

    for (i = 0; i < rs->n_entries; i++)
        if (rs->entries[i].id == id)
            return rs->entries[i].sector * BOARD_FLASH_SECTOR + rs->entries[i].off;
    return 0;
}

FLASH_TEST(test_keystore_first_boot_makes_every_generated_key_and_a_reboot_reads_them_back)
{
    char node[200], ident[200], spk[200], again[200];

    secrets();
    CHECK_EQ(first_boot(&key_a), 3 + KS_PREKEY_PAGES);
    CHECK_EQ(keystore_status(), KS_OK);
    CHECK_EQ(keystore_state(KS_NODE), KS_PRESENT);
    CHECK_EQ(keystore_state(KS_SIGNAL_IDENTITY), KS_PRESENT);
    CHECK_EQ(keystore_state(KS_SIGNED_PREKEY), KS_PRESENT);
    CHECK_EQ(keystore_state(KS_PREKEYS + 3), KS_PRESENT);
    CHECK_EQ(keystore_state(KS_MESH_HMAC), KS_MISSING);   /* provisioned only */
    fingerprint(KS_NODE, node);
    fingerprint(KS_SIGNAL_IDENTITY, ident);
    fingerprint(KS_SIGNED_PREKEY, spk);
    CHECK(strncmp(node, "ed25519_", 8) == 0 && strlen(node) == 8 + 64);

    CHECK_EQ(reboot_with(&key_a), 0);
    CHECK_EQ(first_boot(&key_a), 0);   /* nothing missing: nothing made */
    fingerprint(KS_NODE, again);
    CHECK(strcmp(again, node) == 0);
    fingerprint(KS_SIGNAL_IDENTITY, again);
    CHECK(strcmp(again, ident) == 0);
    fingerprint(KS_SIGNED_PREKEY, again);
    CHECK(strcmp(again, spk) == 0);
}

FLASH_TEST(test_keystore_secrets_are_not_in_the_flash_in_clear)
{
    static uint8_t image[64 * 1024];
    uint8_t seed[64];
    size_t len, i;

    secrets();
    CHECK_EQ(first_boot(&key_a), 3 + KS_PREKEY_PAGES);
    CHECK_EQ(keystore_get(KS_NODE, seed, sizeof(seed), &len), 0);
    CHECK_EQ(hal_flash_part_read(hal_flash_part("keys"), 0, image, sizeof(image)), 0);
    for (i = 0; i + 8 <= sizeof(image); i++)
        CHECK(memcmp(image + i, seed, 8) != 0);
}

FLASH_TEST(test_keystore_another_devices_root_key_is_reported_and_changes_nothing)
{
    unsigned long ops;
    int made = -1;

    secrets();
    CHECK_EQ(first_boot(&key_a), 3 + KS_PREKEY_PAGES);
    CHECK_EQ(reboot_with(&key_b), MG_ERR_KEY);
    CHECK_EQ(keystore_status(), KS_WRONG_KEY);
    CHECK_EQ(keystore_state(KS_NODE), KS_CORRUPT);
    ops = hal_flash_ops();
    CHECK_EQ(keystore_generate_missing(&made), MG_ERR_PERM);
    CHECK_EQ(keystore_reset(KS_NODE), MG_ERR_PERM);
    CHECK_EQ(hal_flash_ops(), ops);   /* not one write */
    /* A passphrase where the store was made with a key: wrong key too. */
    CHECK_EQ(reboot_with(&pass_a), MG_ERR_KEY);
    CHECK_EQ(reboot_with(&key_a), 0);
    CHECK_EQ(keystore_state(KS_NODE), KS_PRESENT);
}

FLASH_TEST(test_keystore_a_passphrase_opens_its_store_and_another_does_not)
{
    char node[200], again[200];

    secrets();
    CHECK_EQ(first_boot(&pass_a), 3 + KS_PREKEY_PAGES);
    fingerprint(KS_NODE, node);
    CHECK_EQ(reboot_with(&pass_b), MG_ERR_KEY);
    CHECK_EQ(reboot_with(&key_a), MG_ERR_KEY);
    CHECK_EQ(reboot_with(&pass_a), 0);
    fingerprint(KS_NODE, again);
    CHECK(strcmp(node, again) == 0);
}

FLASH_TEST(test_keystore_without_a_root_secret_writes_nothing)
{
    secrets();
    CHECK_EQ(keystore_open(hal_flash_part("keys"), &none, ITER), MG_ERR_NOENT);
    CHECK_EQ(keystore_status(), KS_NO_SECRET);
    CHECK(keystore_blank());
    CHECK_EQ(hal_flash_ops(), 0);
    CHECK_EQ(first_boot(&key_a), 3 + KS_PREKEY_PAGES);
    CHECK_EQ(reboot_with(&none), MG_ERR_NOENT);
    CHECK_EQ(keystore_state(KS_NODE), KS_CORRUPT);   /* there, but unreadable */
}

/* The heart of it: a key that does not read is corrupt, stays corrupt across
 * boots, is never regenerated on its own, and only an operator's reset
 * replaces it. */
FLASH_TEST(test_keystore_a_flipped_bit_makes_that_key_corrupt_and_it_is_never_regenerated)
{
    char before[200], after[200], ident[200];
    uint8_t b;
    uint32_t at;
    int made;

    secrets();
    CHECK_EQ(first_boot(&key_a), 3 + KS_PREKEY_PAGES);
    fingerprint(KS_NODE, before);
    fingerprint(KS_SIGNAL_IDENTITY, ident);
    at = record_off(KS_NODE) + RECSTORE_REC_HEAD + 30;
    CHECK_EQ(hal_flash_part_read(hal_flash_part("keys"), at, &b, 1), 0);
    b ^= 0x04;
    poke(at, &b, 1);
    CHECK_EQ(reboot_with(&key_a), 0);
    CHECK_EQ(keystore_state(KS_NODE), KS_CORRUPT);
    CHECK_EQ(keystore_state(KS_SIGNAL_IDENTITY), KS_PRESENT);
    CHECK_EQ(keystore_generate_missing(&made), 0);
    CHECK_EQ(made, 0);
    CHECK_EQ(reboot_with(&key_a), 0);
    CHECK_EQ(keystore_state(KS_NODE), KS_CORRUPT);
    fingerprint(KS_SIGNAL_IDENTITY, after);
    CHECK(strcmp(ident, after) == 0);

    CHECK_EQ(keystore_reset(KS_NODE), 0);   /* the operator's confirmed order */
    CHECK_EQ(keystore_state(KS_NODE), KS_PRESENT);
    CHECK_EQ(reboot_with(&key_a), 0);
    fingerprint(KS_NODE, after);
    CHECK(strcmp(before, after) != 0);
}

/* A record whose CRC holds but whose ciphertext was not made under our key
 * (a record written by something else): corrupt, not missing. */
FLASH_TEST(test_keystore_a_record_that_fails_decryption_is_corrupt)
{
    static struct recstore rs;
    uint8_t junk[96];

    secrets();
    CHECK_EQ(first_boot(&key_a), 3 + KS_PREKEY_PAGES);
    memset(junk, 0x5A, sizeof(junk));
    CHECK_EQ(recstore_mount(&rs, hal_flash_part("keys")), 0);
    CHECK_EQ(recstore_write(&rs, KS_SIGNAL_IDENTITY, junk, sizeof(junk)), 0);
    CHECK_EQ(recstore_write(&rs, KS_MESH_HMAC, junk, 10), 0);   /* too short to be sealed */
    CHECK_EQ(reboot_with(&key_a), 0);
    CHECK_EQ(keystore_state(KS_SIGNAL_IDENTITY), KS_CORRUPT);
    CHECK_EQ(keystore_state(KS_MESH_HMAC), KS_CORRUPT);
    /* The signed prekey verifies against the identity: unusable with it. */
    CHECK_EQ(keystore_state(KS_SIGNED_PREKEY), KS_CORRUPT);
    CHECK_EQ(keystore_state(KS_NODE), KS_PRESENT);
}

FLASH_TEST(test_keystore_an_all_ff_image_is_a_fresh_device)
{
    secrets();
    CHECK_EQ(keystore_open(hal_flash_part("keys"), &key_a, ITER), 0);
    CHECK_EQ(keystore_state(KS_NODE), KS_MISSING);
    CHECK_EQ(keystore_status(), KS_OK);
}

FLASH_TEST(test_keystore_a_garbage_image_is_damaged_and_nothing_is_generated)
{
    static uint8_t junk[64 * 1024];
    size_t i;
    int made;
    uint32_t x = 12345;

    secrets();
    for (i = 0; i < sizeof(junk); i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (uint8_t)(x >> 16);
    }
    poke(0, junk, sizeof(junk));
    CHECK_EQ(reboot_with(&key_a), MG_ERR_CORRUPT);
    CHECK_EQ(keystore_status(), KS_DAMAGED);
    CHECK_EQ(keystore_generate_missing(&made), MG_ERR_PERM);
    /* Factory reset is the way out. */
    CHECK_EQ(keystore_erase(), 0);
    CHECK_EQ(reboot_with(&key_a), 0);
    CHECK_EQ(keystore_generate_missing(&made), 0);
    CHECK_EQ(made, 3 + KS_PREKEY_PAGES);
}

FLASH_TEST(test_keystore_a_corrupt_header_makes_the_store_damaged)
{
    uint8_t b;
    uint32_t at;

    secrets();
    CHECK_EQ(first_boot(&key_a), 3 + KS_PREKEY_PAGES);
    at = record_off(0x0001) + RECSTORE_REC_HEAD + 20;
    CHECK_EQ(hal_flash_part_read(hal_flash_part("keys"), at, &b, 1), 0);
    b ^= 0x80;
    poke(at, &b, 1);
    CHECK_EQ(reboot_with(&key_a), MG_ERR_CORRUPT);
    CHECK_EQ(keystore_status(), KS_DAMAGED);
    CHECK_EQ(keystore_state(KS_NODE), KS_CORRUPT);
}

FLASH_TEST(test_keystore_a_truncated_image_is_refused_not_read_as_missing_keys)
{
    secrets();
    CHECK_EQ(first_boot(&key_a), 3 + KS_PREKEY_PAGES);
    hal_flash_close();
    CHECK_EQ(truncate(flash_image_path(), 6000), 0);
    CHECK_EQ(hal_flash_open(flash_image_path()), MG_ERR_CORRUPT);
    CHECK_EQ(keystore_open(hal_flash_part("keys"), &key_a, ITER), MG_ERR_IO);
    CHECK_EQ(keystore_status(), KS_NO_FLASH);
}

FLASH_TEST(test_keystore_provisioned_secrets_are_stored_and_shown_only_as_check_values)
{
    static const char secret[] = "controller-shared-secret-0123456789";
    char fp[200];
    uint8_t got[128];
    size_t len;

    secrets();
    CHECK_EQ(first_boot(&key_a), 3 + KS_PREKEY_PAGES);
    CHECK_EQ(keystore_put(KS_MESH_HMAC, secret, sizeof(secret) - 1), 0);
    CHECK_EQ(keystore_put(KS_MESH_HMAC, secret, 0), MG_ERR_INVAL);
    CHECK_EQ(reboot_with(&key_a), 0);
    CHECK_EQ(keystore_get(KS_MESH_HMAC, got, sizeof(got), &len), 0);
    CHECK_EQ(len, sizeof(secret) - 1);
    CHECK_MEM(got, secret, len);
    fingerprint(KS_MESH_HMAC, fp);
    CHECK(strstr(fp, "check ") != NULL);
    CHECK(strstr(fp, "controller") == NULL);
    CHECK_EQ(keystore_reset(KS_MESH_HMAC), 0);   /* provisioned: reset deletes */
    CHECK_EQ(keystore_state(KS_MESH_HMAC), KS_MISSING);
}
