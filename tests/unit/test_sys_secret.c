/* The root secret file (hal/sys.h): both forms read, every malformed file
 * refused as malformed, and first-boot provisioning never replaces a file. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mg_err.h"
#include "sys.h"
#include "test.h"

static char path[] = "/tmp/mg-secret-XXXXXX";

static void write_file(const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        test_fail(__FILE__, __LINE__, "cannot write %s", path);
    if (fd >= 0)
        close(fd);
}

static int setup(void)
{
    int fd = mkstemp(path);

    if (fd < 0)
        return -1;
    close(fd);
    unsetenv("MESHGATE_PASSPHRASE");
    hal_sys_set_secret_path(path);
    return 0;
}

static void teardown(void)
{
    unlink(path);
    strcpy(path, "/tmp/mg-secret-XXXXXX");
    hal_sys_set_secret_path("device.key");
}

MG_TEST(test_sys_secret_reads_a_key_or_a_passphrase)
{
    struct hal_device_secret s;

    CHECK_EQ(setup(), 0);
    write_file("key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1F\n");
    CHECK_EQ(hal_sys_device_secret(&s), 0);
    CHECK_EQ(s.kind, HAL_SECRET_KEY);
    CHECK_EQ(s.key[0], 0x00);
    CHECK_EQ(s.key[31], 0x1f);
    write_file("passphrase=two words");
    CHECK_EQ(hal_sys_device_secret(&s), 0);
    CHECK_EQ(s.kind, HAL_SECRET_PASSPHRASE);
    CHECK(strcmp(s.passphrase, "two words") == 0);
    CHECK_EQ(s.passphrase_len, 9);
    teardown();
}

MG_TEST(test_sys_secret_refuses_every_malformed_file_and_leaves_it)
{
    static const char *const bad[] = {
        "key=0001",                                                              /* short */
        "key=zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",  /* not hex */
        "key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00", /* long */
        "secret=abc",                                                            /* unknown */
        "passphrase=",                                                           /* empty */
        "passphrase=a\npassphrase=b",                                            /* two lines */
        "",
    };
    struct hal_device_secret s;
    uint8_t key[HAL_SECRET_KEY_LEN];
    size_t i;

    CHECK_EQ(setup(), 0);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(bad[i]);
        CHECK_EQ(hal_sys_device_secret(&s), MG_ERR_INVAL);
        CHECK_EQ(s.kind, HAL_SECRET_NONE);   /* nothing half-read is kept */
        /* Provisioning does not write over it either. */
        memset(key, 1, sizeof(key));
        CHECK_EQ(hal_sys_create_device_secret(key), MG_ERR_EXIST);
        CHECK_EQ(hal_sys_device_secret(&s), MG_ERR_INVAL);
    }
    unlink(path);
    CHECK_EQ(hal_sys_device_secret(&s), MG_ERR_NOENT);
    CHECK_EQ(hal_sys_create_device_secret(key), 0);
    CHECK_EQ(hal_sys_device_secret(&s), 0);
    CHECK_EQ(s.kind, HAL_SECRET_KEY);
    CHECK_MEM(s.key, key, sizeof(key));
    teardown();
}
