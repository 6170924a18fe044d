/* meshctl config: the controller's side of PROTOCOLS.md section 2.
 *
 *   meshctl config push --url http://GW:8444 [--secret S] FILE
 *   meshctl config status --url http://GW:8444
 *
 * push signs FILE's bytes as they are (nonce || timestamp || body, HMAC-
 * SHA256 under the secret, or MESH_HMAC_SECRET from the environment) and
 * POSTs them to /config/sync; both print the status and the response body
 * and exit 0 only for a 2xx answer. */
#include "config_cmd.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "confsync/gate.h"
#include "crypto.h"
#include "hex.h"
#include "http.h"

static int usage(void)
{
    fprintf(stderr, "usage: meshctl config push --url URL [--secret S] FILE\n"
                    "       meshctl config status --url URL\n"
                    "  URL is the gateway's controller listener, e.g. http://10.42.0.2:8444;\n"
                    "  without --secret the key is MESH_HMAC_SECRET from the environment.\n");
    return 2;
}

/* A random UUID v4, as controllers send in X-Nonce. */
static int make_nonce(char out[37])
{
    uint8_t r[16];
    char hex[33];

    if (mg_random(r, sizeof(r)) != 0)
        return -1;
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
    hex_encode(r, sizeof(r), hex);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
    return 0;
}

static long read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t got = 0;
    ssize_t n;

    if (fd < 0)
        return -1;
    while ((n = read(fd, buf + got, cap - got)) > 0) {
        got += (size_t)n;
        if (got == cap) {
            close(fd);
            return -2;
        }
    }
    close(fd);
    return n < 0 ? -1 : (long)got;
}

static int print_response(const struct mctl_response *r)
{
    printf("%d\n%.*s\n", r->status, (int)r->body_len, r->body);
    return r->status >= 200 && r->status < 300 ? 0 : 1;
}

int meshctl_config(int argc, char **argv)
{
    static char body[64 * 1024];
    static struct mctl_response resp;
    const char *url = NULL, *secret = getenv("MESH_HMAC_SECRET"), *file = NULL, *cmd;
    struct mctl_url u;
    char nonce[37], ts[24], sig[65], headers[512];
    struct timespec now;
    long len;
    int i;

    if (argc < 1)
        return usage();
    cmd = argv[0];
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (strcmp(argv[i], "--secret") == 0 && i + 1 < argc)
            secret = argv[++i];
        else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else
            return usage();
    }
    if (!url || mctl_url_parse(url, &u) != 0)
        return usage();
    if (strcmp(cmd, "status") == 0 && !file) {
        if (mctl_http(&u, "GET", "/config/status", NULL, NULL, 0, &resp) != 0)
            return 1;
        return print_response(&resp);
    }
    if (strcmp(cmd, "push") != 0 || !file)
        return usage();
    if (!secret || !secret[0]) {
        fprintf(stderr, "meshctl config push: no secret (--secret or MESH_HMAC_SECRET)\n");
        return 2;
    }
    len = read_file(file, body, sizeof(body));
    if (len < 0) {
        fprintf(stderr, "meshctl config push: %s: %s\n", file,
                len == -2 ? "larger than 64 KiB" : "cannot read");
        return 1;
    }
    if (mg_crypto_init() != 0 || make_nonce(nonce) != 0) {
        fprintf(stderr, "meshctl config push: no randomness\n");
        return 1;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(ts, sizeof(ts), "%lld",
             (long long)now.tv_sec * 1000 + (long long)(now.tv_nsec / 1000000));
    gate_sign(secret, strlen(secret), nonce, strlen(nonce), ts, strlen(ts), body, (size_t)len,
              sig);
    snprintf(headers, sizeof(headers), "X-Nonce: %s\r\nX-Timestamp: %s\r\nX-HMAC-SHA256: %s\r\n",
             nonce, ts, sig);
    if (mctl_http(&u, "POST", "/config/sync", headers, body, (size_t)len, &resp) != 0)
        return 1;
    return print_response(&resp);
}
