#include "keys_service.h"

#include <stdio.h>
#include <string.h>

#include "board.h"
#include "console/console.h"
#include "crypto.h"
#include "diag/log.h"
#include "flash.h"
#include "keystore.h"
#include "mg_err.h"
#include "store/recstore.h"
#include "sys.h"

static const char *flash_path = BOARD_FLASH_PATH;
static const char *secret_source = "none";

void keys_set_flash_path(const char *path)
{
    flash_path = path;
}

static const char *state_name(enum ks_state st)
{
    return st == KS_PRESENT ? "present" : st == KS_CORRUPT ? "corrupt" : "missing";
}

/* Reads the board's root secret into sec, logging what is wrong with it. */
static int read_secret(struct hal_device_secret *sec)
{
    int rc = hal_sys_device_secret(sec);

    if (rc == MG_ERR_INVAL)
        log_printf("keys: root secret %s is malformed (want key=<64 hex> or passphrase=...)",
                   hal_sys_secret_path());
    else if (rc && rc != MG_ERR_NOENT)
        log_printf("keys: root secret %s: %s", hal_sys_secret_path(), mg_strerror(rc));
    secret_source = sec->kind == HAL_SECRET_KEY          ? "key file"
                    : sec->kind == HAL_SECRET_PASSPHRASE ? "passphrase"
                                                         : "none";
    return rc;
}

/* A development board without a root secret gets one on its first boot,
 * read back into sec; 0 when there is one now. */
static int provision_root(struct hal_device_secret *sec)
{
    uint8_t key[HAL_SECRET_KEY_LEN];
    int rc = mg_random(key, sizeof(key));

    if (rc == 0)
        rc = hal_sys_create_device_secret(key);
    memset(key, 0, sizeof(key));
    if (rc == 0)
        rc = read_secret(sec);
    if (rc == 0)
        log_printf("keys: first boot: new root key written to %s", hal_sys_secret_path());
    else
        log_printf("keys: cannot provision a root key in %s: %s", hal_sys_secret_path(),
                   mg_strerror(rc));
    return rc;
}

void keys_boot(void)
{
    struct hal_device_secret sec;
    const struct ks_key_info *k;
    int rc, secret_rc, made = 0, n[3] = { 0, 0, 0 };
    size_t i;

    rc = hal_flash_open(flash_path);
    if (rc == MG_ERR_CORRUPT)
        log_printf("flash: %s is truncated: refused, left as it is (restore it, or remove "
                   "it for a factory-fresh device)", flash_path);
    else if (rc)
        log_printf("flash: %s: %s", flash_path, mg_strerror(rc));
    secret_rc = read_secret(&sec);
    rc = keystore_open(hal_flash_part("keys"), &sec, BOARD_KDF_ITERATIONS);
    /* Only a blank device without any secret is provisioned: a malformed
     * secret file is the operator's to fix, not ours to replace. */
    if (keystore_status() == KS_NO_SECRET && keystore_blank() && secret_rc == MG_ERR_NOENT &&
        provision_root(&sec) == 0)
        rc = keystore_open(hal_flash_part("keys"), &sec, BOARD_KDF_ITERATIONS);
    hal_sys_secret_wipe(&sec);
    if (rc == 0) {
        rc = keystore_generate_missing(&made);
        if (rc)
            log_printf("keys: generating missing keys failed: %s", mg_strerror(rc));
        else if (made)
            log_printf("keys: generated %d key(s), durable before any service starts", made);
    } else {
        log_printf("keys: keystore %s: %s", flash_path, keystore_status_text(keystore_status()));
    }
    for (i = 0; (k = keystore_key(i)) != NULL; i++) {
        if (k->origin == KS_LEARNED && k->state == KS_MISSING)
            continue;   /* a free session slot is not a missing key */
        n[k->state]++;
        if (k->state == KS_CORRUPT)
            log_printf("keys: %s is corrupt: the services that need it will not start; "
                       "'keys reset %s' replaces it", k->name, k->name);
    }
    log_printf("keys: %d present, %d missing, %d corrupt (open %lu ms)", n[KS_PRESENT],
               n[KS_MISSING], n[KS_CORRUPT], (unsigned long)keystore_open_ms());
}

/* --- console ------------------------------------------------------------- */

static void keys_list(void)
{
    const struct ks_key_info *k;
    char fp[200];
    size_t i;

    console_printf("keystore: %s (flash %s, root secret: %s)\n",
                   keystore_status_text(keystore_status()), flash_path, secret_source);
    console_printf("%-6s %-16s %-8s %s\n", "id", "name", "state", "fingerprint");
    for (i = 0; (k = keystore_key(i)) != NULL; i++) {
        if (k->origin == KS_LEARNED && k->state == KS_MISSING)
            continue;   /* a free session slot */
        if (k->state != KS_PRESENT || keystore_fingerprint(k->id, fp, sizeof(fp)) != 0)
            strcpy(fp, k->state == KS_MISSING && k->origin == KS_PROVISIONED ? "(not provisioned)"
                                                                              : "-");
        console_printf("0x%04x %-16s %-8s %s\n", k->id, k->name, state_name(k->state), fp);
    }
}

static void do_reset(void *arg)
{
    const struct ks_key_info *k = arg;
    int rc = keystore_reset(k->id);

    if (rc) {
        console_printf("error: keys reset %s: %s\n", k->name, mg_strerror(rc));
        return;
    }
    log_printf("keys: %s reset by the operator, now %s", k->name, state_name(k->state));
    console_printf("%s is now %s; reboot to start the services that need it\n", k->name,
                   state_name(k->state));
}

static void keys_cmd(int argc, char **argv)
{
    const struct ks_key_info *k;
    char question[160];

    if (argc == 1) {
        keys_list();
        return;
    }
    if (argc != 3 || strcmp(argv[1], "reset") != 0) {
        console_printf("usage: keys [reset <name>]\n");
        return;
    }
    k = keystore_find(argv[2]);
    if (!k) {
        console_printf("error: no key '%s' (see 'keys')\n", argv[2]);
        return;
    }
    if (keystore_status() != KS_OK) {
        console_printf("error: keystore %s; only factory-reset can help\n",
                       keystore_status_text(keystore_status()));
        return;
    }
    snprintf(question, sizeof(question), "this destroys key %s (%s)%s", k->name,
             state_name(k->state),
             k->origin == KS_GENERATED ? " and generates a new one: peers that know it lose it"
             : k->origin == KS_LEARNED ? ": the peer's session and trusted identity are forgotten"
                                       : "; it must be provisioned again");
    console_confirm(question, do_reset, (void *)k);
}

static void part_line(const char *name)
{
    const struct hal_flash_part *p = hal_flash_part(name);
    const struct recstore *rs = keystore_records();
    struct recstore_usage u;
    uint32_t i;

    if (!p)
        return;
    console_printf("%-9s 0x%06lx %5lu KiB  ", name, (unsigned long)p->off,
                   (unsigned long)(p->size / 1024));
    if (strcmp(name, "keys") != 0 || keystore_status() == KS_NO_FLASH) {
        console_printf("not mounted\n");
        return;
    }
    recstore_usage(rs, &u);
    console_printf("%lu sectors (%lu free), %lu records, %lu B live of %lu, %lu B used, "
                   "erases %lu..%lu, gc %lu, torn writes voided %lu%s\n",
                   (unsigned long)u.sectors, (unsigned long)u.free_sectors,
                   (unsigned long)u.records, (unsigned long)u.bytes_live,
                   (unsigned long)u.bytes_total, (unsigned long)u.bytes_used,
                   (unsigned long)u.min_erases, (unsigned long)u.max_erases, rs->gc_runs,
                   rs->torn_ignored, recstore_damaged(rs) ? ", DAMAGED" : "");
    console_printf("          sector erases:");
    for (i = 0; i < rs->n_sectors; i++)
        console_printf(" %lu", (unsigned long)rs->sectors[i].erases);
    console_printf("\n");
}

static void flash_cmd(int argc, char **argv)
{
    struct hal_flash_stats st;

    (void)argc;
    (void)argv;
    hal_flash_stats(&st);
    console_printf("flash %s: %lu KiB, %u B sectors; since boot %lu programs (%llu B), "
                   "%lu erases, %lu NOR violations\n",
                   flash_path, (unsigned long)(BOARD_FLASH_SIZE / 1024), BOARD_FLASH_SECTOR,
                   st.programs, (unsigned long long)st.bytes_programmed, st.erases,
                   st.nor_violations);
    part_line("keys");
    part_line("registry");
    part_line("mailbox");
}

static void do_factory_reset(void *arg)
{
    static const char *const parts[] = { "registry", "mailbox" };
    int rc = keystore_erase();
    size_t i;

    (void)arg;
    for (i = 0; rc == 0 && i < sizeof(parts) / sizeof(parts[0]); i++) {
        const struct hal_flash_part *p = hal_flash_part(parts[i]);
        rc = hal_flash_part_erase(p, 0, p->size);
    }
    if (rc == 0)
        rc = hal_flash_sync();
    if (rc) {
        console_printf("error: factory reset: %s\n", mg_strerror(rc));
        return;
    }
    log_printf("factory reset: flash erased, rebooting");
    loop_reboot();
}

static void factory_reset_cmd(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    console_confirm("this erases every key, the registry and every mailbox; the device "
                    "reboots as new", do_factory_reset, NULL);
}

static const struct console_cmd commands[] = {
    { "keys", "[reset <name>]", "key states and public fingerprints; reset one key",
      keys_cmd },
    { "flash", "", "partitions, sectors, erase counts, free space, records", flash_cmd },
    { "factory-reset", "", "erase all keys and data, then reboot", factory_reset_cmd },
};

const struct service keys_service = {
    .name = "keys",
    .commands = commands,
    .n_commands = sizeof(commands) / sizeof(commands[0]),
};
