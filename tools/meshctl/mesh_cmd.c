/* meshctl keygen, coord and ping.
 *
 *   meshctl keygen --out FILE
 *       a new Ed25519 key: FILE holds its 32-byte seed as 64 hex digits and a
 *       newline (mode 0600, never overwritten); prints the public key as
 *       ed25519_<hex> (section 3) and as base64 (section 4).
 *   meshctl coord approve|deny ID --url URL --key FILE
 *       POST /approve/ID or /deny/ID {"approverPublicKey","signature"},
 *       signed over "approve:ID" / "deny:ID".
 *   meshctl coord sovereign-add PUBKEY --url URL --key FILE [--description D]
 *       POST /sovereign/add {"publicKey","description","approverPublicKey",
 *       "signature"}, signed over "sovereign-add:PUBKEY".
 *   meshctl coord nodes [--status S] --url URL      GET /nodes?status=S
 *   meshctl coord topology --url URL                GET /topology
 *   meshctl ping URL                                GET URL/ping
 *
 * Coordinator signatures are Ed25519 over SHA-256(message), written
 * ed25519_sig_<hex>. Each prints the status and the body and exits 0 only
 * for a 2xx answer. */
#include "mesh_cmd.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "b64.h"
#include "crypto.h"
#include "ed25519.h"
#include "hex.h"
#include "http.h"
#include "mbedtls/platform_util.h"

static int print_response(const struct mctl_response *r)
{
    printf("%d\n%.*s\n", r->status, (int)r->body_len, r->body);
    return r->status >= 200 && r->status < 300 ? 0 : 1;
}

static void print_public(const uint8_t pub[32])
{
    char hex[65], b64[B64_LEN(32) + 1];

    hex_encode(pub, 32, hex);
    b64_encode(pub, 32, b64);
    printf("public key ed25519_%s\npublic key %s (base64)\n", hex, b64);
}

int meshctl_keygen(int argc, char **argv)
{
    uint8_t seed[32], pub[32];
    char hex[65];
    int fd, ok;

    if (argc != 2 || strcmp(argv[0], "--out") != 0) {
        fprintf(stderr, "usage: meshctl keygen --out FILE\n");
        return 2;
    }
    if (mg_crypto_init() != 0 || mg_random(seed, sizeof(seed)) != 0) {
        fprintf(stderr, "meshctl keygen: no randomness\n");
        return 1;
    }
    fd = open(argv[1], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "meshctl keygen: %s: cannot create (it must not exist)\n", argv[1]);
        return 1;
    }
    hex_encode(seed, sizeof(seed), hex);
    ok = dprintf(fd, "%s\n", hex) == 65 && fsync(fd) == 0;
    close(fd);
    ed25519_public_key(seed, pub);
    mbedtls_platform_zeroize(seed, sizeof(seed));
    mbedtls_platform_zeroize(hex, sizeof(hex));
    if (!ok) {
        fprintf(stderr, "meshctl keygen: %s: write failed\n", argv[1]);
        unlink(argv[1]);
        return 1;
    }
    printf("key file   %s\n", argv[1]);
    print_public(pub);
    return 0;
}

/* A key file of meshctl keygen: 64 hex digits, then optional white space. */
static int read_key(const char *path, uint8_t seed[32], uint8_t pub[32])
{
    char buf[130];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        fprintf(stderr, "meshctl: %s: cannot read the key file\n", path);
        return -1;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 64 || hex_decode(buf, 64, seed, 32) != 32 ||
        strspn(buf + 64, " \t\r\n") != (size_t)n - 64) {
        fprintf(stderr, "meshctl: %s: not a key file (64 hex digits)\n", path);
        return -1;
    }
    ed25519_public_key(seed, pub);
    return 0;
}

/* "ed25519_sig_" + hex of sign(SHA-256(msg)) into out[141]. */
static void sign_text(const uint8_t seed[32], const uint8_t pub[32], const char *msg, char *out)
{
    uint8_t digest[MG_SHA256_LEN], sig[64];

    mg_sha256(msg, strlen(msg), digest);
    ed25519_sign(seed, pub, digest, sizeof(digest), sig);
    memcpy(out, "ed25519_sig_", 12);
    hex_encode(sig, sizeof(sig), out + 12);
}

/* s as a JSON string (ASCII escapes for controls and non-ASCII bytes as
 * they are: the coordinator parses UTF-8). */
static int json_string(char *out, size_t cap, const char *s)
{
    size_t n = 0;

#define PUTC(c)              \
    do {                     \
        if (n + 1 >= cap)    \
            return -1;       \
        out[n++] = (c);      \
    } while (0)
    PUTC('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            PUTC('\\');
            PUTC((char)c);
        } else if (c < 0x20) {
            if (n + 7 >= cap)
                return -1;
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        } else {
            PUTC((char)c);
        }
    }
    PUTC('"');
#undef PUTC
    out[n] = '\0';
    return 0;
}

static int coord_usage(void)
{
    fprintf(stderr,
            "usage: meshctl coord approve|deny ID --url URL --key FILE\n"
            "       meshctl coord sovereign-add PUBKEY --url URL --key FILE [--description D]\n"
            "       meshctl coord nodes [--status S] --url URL\n"
            "       meshctl coord topology --url URL\n"
            "  URL is the coordinator, e.g. http://10.42.0.2:8190; FILE from meshctl keygen.\n");
    return 2;
}

int meshctl_coord(int argc, char **argv)
{
    static char body[8192];
    static struct mctl_response resp;
    const char *cmd, *arg = NULL, *url = NULL, *key = NULL, *status = NULL, *desc = "";
    char path[1200], sig[141], approver[8 + 65], quoted[2048], quoted_arg[1024];
    uint8_t seed[32], pub[32];
    struct mctl_url u;
    int i, rc;

    if (argc < 1)
        return coord_usage();
    cmd = argv[0];
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            key = argv[++i];
        else if (strcmp(argv[i], "--status") == 0 && i + 1 < argc)
            status = argv[++i];
        else if (strcmp(argv[i], "--description") == 0 && i + 1 < argc)
            desc = argv[++i];
        else if (argv[i][0] != '-' && !arg)
            arg = argv[i];
        else
            return coord_usage();
    }
    if (!url || mctl_url_parse(url, &u) != 0)
        return coord_usage();
    /* The URL's own path, if any, is the coordinator's prefix. */
    if (strcmp(u.path, "/") == 0)
        u.path[0] = '\0';
    if (strcmp(cmd, "nodes") == 0 && !arg) {
        snprintf(path, sizeof(path), "%s/nodes%s%s", u.path, status ? "?status=" : "",
                 status ? status : "");
        if (status && strspn(status, "abcdefghijklmnopqrstuvwxyz") != strlen(status)) {
            fprintf(stderr, "meshctl coord nodes: --status is a word (active, pending, ...)\n");
            return 2;
        }
        return mctl_http(&u, "GET", path, NULL, NULL, 0, &resp) != 0 ? 1 : print_response(&resp);
    }
    if (strcmp(cmd, "topology") == 0 && !arg) {
        snprintf(path, sizeof(path), "%s/topology", u.path);
        return mctl_http(&u, "GET", path, NULL, NULL, 0, &resp) != 0 ? 1 : print_response(&resp);
    }
    if ((strcmp(cmd, "approve") != 0 && strcmp(cmd, "deny") != 0 &&
         strcmp(cmd, "sovereign-add") != 0) || !arg || !key)
        return coord_usage();
    if (strlen(arg) > 512 || strcspn(arg, "/?#% \t\r\n\"\\") != strlen(arg)) {
        fprintf(stderr, "meshctl coord %s: %s: not a node id or key\n", cmd, arg);
        return 2;
    }
    if (mg_crypto_init() != 0 || read_key(key, seed, pub) != 0)
        return 1;
    memcpy(approver, "ed25519_", 8);
    hex_encode(pub, 32, approver + 8);
    snprintf(quoted, sizeof(quoted), "%s:%s", cmd, arg);
    sign_text(seed, pub, quoted, sig);
    mbedtls_platform_zeroize(seed, sizeof(seed));
    if (strcmp(cmd, "sovereign-add") == 0) {
        if (json_string(quoted, sizeof(quoted), desc) != 0 ||
            json_string(quoted_arg, sizeof(quoted_arg), arg) != 0) {
            fprintf(stderr, "meshctl coord sovereign-add: description too long\n");
            return 2;
        }
        snprintf(body, sizeof(body),
                 "{\"publicKey\":%s,\"description\":%s,\"approverPublicKey\":\"%s\","
                 "\"signature\":\"%s\"}", quoted_arg, quoted, approver, sig);
        snprintf(path, sizeof(path), "%s/sovereign/add", u.path);
    } else {
        snprintf(body, sizeof(body), "{\"approverPublicKey\":\"%s\",\"signature\":\"%s\"}",
                 approver, sig);
        snprintf(path, sizeof(path), "%s/%s/%s", u.path, cmd, arg);
    }
    rc = mctl_http(&u, "POST", path, NULL, body, strlen(body), &resp);
    return rc != 0 ? 1 : print_response(&resp);
}

int meshctl_ping(int argc, char **argv)
{
    static struct mctl_response resp;
    struct mctl_url u;
    char path[1100];

    if (argc != 1 || mctl_url_parse(argv[0], &u) != 0) {
        fprintf(stderr, "usage: meshctl ping URL     (a peer, e.g. http://10.42.0.2:9632)\n");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/ping", strcmp(u.path, "/") == 0 ? "" : u.path);
    if (mctl_http(&u, "GET", path, NULL, NULL, 0, &resp) != 0)
        return 1;
    return print_response(&resp);
}
