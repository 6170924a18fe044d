/* The root secret on Linux boards: a provisioning file (hal/sys.h). Read
 * with plain read(2), no stdio: it runs at init, but stdio would allocate. */
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board.h"
#include "hex.h"
#include "mg_err.h"

static const char *secret_path = BOARD_SECRET_PATH;

void hal_sys_set_secret_path(const char *path)
{
    secret_path = path;
}

const char *hal_sys_secret_path(void)
{
    return secret_path;
}

void hal_sys_secret_wipe(struct hal_device_secret *s)
{
    volatile uint8_t *p = (volatile uint8_t *)s;
    size_t i;

    for (i = 0; i < sizeof(*s); i++)
        p[i] = 0;
}

static int set_passphrase(struct hal_device_secret *out, const char *p, size_t len)
{
    if (len == 0 || len > HAL_SECRET_PASS_MAX)
        return MG_ERR_INVAL;
    out->kind = HAL_SECRET_PASSPHRASE;
    memcpy(out->passphrase, p, len);
    out->passphrase[len] = '\0';
    out->passphrase_len = len;
    return 0;
}

/* One line "key=<hex>" or "passphrase=<text>", an optional newline. */
static int parse(struct hal_device_secret *out, char *text, size_t n)
{
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        n--;
    if (memchr(text, '\n', n))
        return MG_ERR_INVAL;
    if (n > 4 && memcmp(text, "key=", 4) == 0) {
        if (n - 4 != 2 * HAL_SECRET_KEY_LEN ||
            hex_decode(text + 4, n - 4, out->key, sizeof(out->key)) != HAL_SECRET_KEY_LEN)
            return MG_ERR_INVAL;
        out->kind = HAL_SECRET_KEY;
        return 0;
    }
    if (n > 11 && memcmp(text, "passphrase=", 11) == 0)
        return set_passphrase(out, text + 11, n - 11);
    return MG_ERR_INVAL;
}

int hal_sys_device_secret(struct hal_device_secret *out)
{
    char text[2 * HAL_SECRET_PASS_MAX];
    const char *env = getenv("MESHGATE_PASSPHRASE");
    ssize_t n;
    int fd, rc;

    memset(out, 0, sizeof(*out));
    if (env && *env)
        return set_passphrase(out, env, strlen(env));
    fd = open(secret_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? MG_ERR_NOENT : MG_ERR_IO;
    n = read(fd, text, sizeof(text));
    close(fd);
    if (n < 0)
        return MG_ERR_IO;
    if ((size_t)n == sizeof(text))
        return MG_ERR_INVAL;
    rc = parse(out, text, (size_t)n);
    memset(text, 0, sizeof(text));
    if (rc)
        hal_sys_secret_wipe(out);
    return rc;
}

int hal_sys_create_device_secret(const uint8_t key[HAL_SECRET_KEY_LEN])
{
    char line[4 + 2 * HAL_SECRET_KEY_LEN + 1];
    int fd, rc = 0;

    memcpy(line, "key=", 4);
    hex_encode(key, HAL_SECRET_KEY_LEN, line + 4);
    line[sizeof(line) - 1] = '\n';   /* over hex_encode's NUL */
    fd = open(secret_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? MG_ERR_EXIST : MG_ERR_IO;
    if (write(fd, line, sizeof(line)) != (ssize_t)sizeof(line) || fsync(fd) != 0)
        rc = MG_ERR_IO;
    close(fd);
    memset(line, 0, sizeof(line));
    if (rc)
        unlink(secret_path);
    return rc;
}
