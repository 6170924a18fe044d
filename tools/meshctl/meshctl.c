/* meshctl: the operator's host tool. This file holds `provision` (and hands
 * `config` to config_cmd.c, `keygen`, `coord` and `ping` to mesh_cmd.c, the
 * Signal client's `init`, `register`, `send`, `listen` and `telemetry` to
 * signal_cmd.c): it makes
 * the flash image a board boots from, with the root secret and the shared
 * secrets an operator chooses, and prints the public keys to register
 * elsewhere. It runs the firmware's own keystore code on the board's
 * geometry (it is built per board).
 *
 *   meshctl provision --image FILE --key-file FILE
 *                     [--root-key HEX64 | --passphrase TEXT]
 *                     [--mesh-hmac SECRET] [--peer-secret SECRET] [--force]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board.h"
#include "config_cmd.h"
#include "mesh_cmd.h"
#include "signal_cmd.h"
#include "crypto.h"
#include "flash.h"
#include "hex.h"
#include "keystore.h"
#include "mg_err.h"
#include "sys.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: meshctl provision --image FILE --key-file FILE\n"
            "                         [--root-key HEX64 | --passphrase TEXT]\n"
            "                         [--mesh-hmac SECRET] [--peer-secret SECRET] [--force]\n"
            "  writes a %s flash image (%u KiB) with freshly generated device keys and the\n"
            "  given secrets, and the root secret file the board reads; prints public keys.\n"
            "  Without --root-key or --passphrase a random root key is made.\n"
            "       meshctl config push|status --url URL [--secret S] [FILE]\n"
            "  pushes a signed config to a gateway's controller port, or reads its hash.\n"
            "       meshctl keygen --out FILE\n"
            "  makes an Ed25519 key file (an operator's or a sovereign's) and prints its public key.\n"
            "       meshctl coord approve|deny|sovereign-add|nodes|topology ... --url URL\n"
            "  the coordinator's API (meshctl coord for details).\n"
            "       meshctl ping URL\n"
            "  a peer gateway's GET /ping.\n"
            "       meshctl init|register|send|listen|telemetry ... --store FILE\n"
            "  a Signal client of a relay (meshctl init for details).\n",
            BOARD_NAME, BOARD_FLASH_SIZE / 1024);
    return 2;
}

static int write_passphrase_file(const char *path, const char *pass)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int ok;

    if (fd < 0)
        return MG_ERR_IO;
    ok = dprintf(fd, "passphrase=%s\n", pass) > 0 && fsync(fd) == 0;
    close(fd);
    return ok ? 0 : MG_ERR_IO;
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "meshctl provision: %s: %s\n", what, mg_strerror(rc));
    return 1;
}

static int provision(int argc, char **argv)
{
    const char *image = NULL, *key_file = NULL, *root_hex = NULL, *pass = NULL;
    const char *mesh_hmac = NULL, *peer = NULL;
    struct hal_device_secret secret;
    const struct ks_key_info *k;
    char fp[200];
    int force = 0, made, rc, i;
    size_t n;

    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--force") == 0) {
            force = 1;
            continue;
        }
        if (!v)
            return usage();
        if (strcmp(a, "--image") == 0)
            image = v;
        else if (strcmp(a, "--key-file") == 0)
            key_file = v;
        else if (strcmp(a, "--root-key") == 0)
            root_hex = v;
        else if (strcmp(a, "--passphrase") == 0)
            pass = v;
        else if (strcmp(a, "--mesh-hmac") == 0)
            mesh_hmac = v;
        else if (strcmp(a, "--peer-secret") == 0)
            peer = v;
        else
            return usage();
        i++;
    }
    if (!image || !key_file || (root_hex && pass))
        return usage();
    if (pass && (strlen(pass) == 0 || strlen(pass) > HAL_SECRET_PASS_MAX)) {
        fprintf(stderr, "meshctl provision: a passphrase has 1 to %d characters\n",
                HAL_SECRET_PASS_MAX);
        return 2;
    }
    if ((mesh_hmac && (strlen(mesh_hmac) == 0 || strlen(mesh_hmac) > 128)) ||
        (peer && (strlen(peer) == 0 || strlen(peer) > 128))) {
        fprintf(stderr, "meshctl provision: a secret has 1 to 128 bytes\n");
        return 2;
    }
    if (!force && (access(image, F_OK) == 0 || access(key_file, F_OK) == 0)) {
        fprintf(stderr, "meshctl provision: %s or %s exists (provisioning makes a new device; "
                        "--force replaces them)\n", image, key_file);
        return 1;
    }
    unsetenv("MESHGATE_PASSPHRASE");   /* the file written here is the source */
    unlink(image);
    unlink(key_file);
    rc = mg_crypto_init();
    if (rc)
        return fail("crypto", rc);

    memset(&secret, 0, sizeof(secret));
    hal_sys_set_secret_path(key_file);
    if (pass) {
        rc = write_passphrase_file(key_file, pass);
    } else {
        if (root_hex) {
            if (strlen(root_hex) != 64 || hex_decode(root_hex, 64, secret.key, 32) != 32) {
                fprintf(stderr, "meshctl provision: --root-key takes 64 hex digits\n");
                return 2;
            }
        } else {
            rc = mg_random(secret.key, sizeof(secret.key));
            if (rc)
                return fail("random", rc);
        }
        rc = hal_sys_create_device_secret(secret.key);
    }
    if (rc)
        return fail(key_file, rc);
    rc = hal_sys_device_secret(&secret);
    if (rc)
        return fail(key_file, rc);

    rc = hal_flash_open(image);
    if (rc)
        return fail(image, rc);
    rc = keystore_open(hal_flash_part("keys"), &secret, BOARD_KDF_ITERATIONS);
    hal_sys_secret_wipe(&secret);
    if (rc == 0)
        rc = keystore_generate_missing(&made);
    if (rc == 0 && mesh_hmac)
        rc = keystore_put(KS_MESH_HMAC, mesh_hmac, strlen(mesh_hmac));
    if (rc == 0 && peer)
        rc = keystore_put(KS_PEER_SECRET, peer, strlen(peer));
    if (rc)
        return fail("keystore", rc);

    printf("board      %s\nimage      %s\nroot       %s (%s)\n", BOARD_NAME, image, key_file,
           pass ? "passphrase" : "key");
    for (n = 0; (k = keystore_key(n)) != NULL; n++) {
        if (k->origin == KS_LEARNED && k->state != KS_PRESENT)
            continue;   /* a free session slot */
        if (k->state != KS_PRESENT || keystore_fingerprint(k->id, fp, sizeof(fp)) != 0)
            strcpy(fp, "(not provisioned)");
        printf("%-16s %s\n", k->name, fp);
    }
    hal_flash_close();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "provision") == 0)
        return provision(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "config") == 0)
        return meshctl_config(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "keygen") == 0)
        return meshctl_keygen(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "coord") == 0)
        return meshctl_coord(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "ping") == 0)
        return meshctl_ping(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "init") == 0)
        return meshctl_init(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "register") == 0)
        return meshctl_register(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "send") == 0)
        return meshctl_send(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "listen") == 0)
        return meshctl_listen(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "telemetry") == 0)
        return meshctl_telemetry(argc - 2, argv + 2);
    return usage();
}
