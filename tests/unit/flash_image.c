#include "flash_image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flash.h"

static char dir[64], image[96];

int flash_image_create(void)
{
    strcpy(dir, access("/dev/shm", W_OK) == 0 ? "/dev/shm/mg-flash-XXXXXX"
                                              : "/tmp/mg-flash-XXXXXX");
    if (!mkdtemp(dir)) {
        test_fail(__FILE__, __LINE__, "mkdtemp(%s) failed", dir);
        return -1;
    }
    snprintf(image, sizeof(image), "%s/flash.img", dir);
    if (hal_flash_open(image) != 0) {
        test_fail(__FILE__, __LINE__, "hal_flash_open(%s) failed", image);
        rmdir(dir);
        return -1;
    }
    return 0;
}

void flash_image_remove(void)
{
    hal_flash_close();
    unlink(image);
    rmdir(dir);
}

const char *flash_image_path(void)
{
    return image;
}

void flash_image_run(void (*body)(void))
{
    if (flash_image_create() != 0)
        return;
    body();
    flash_image_remove();
}
