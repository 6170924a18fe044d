#include "recstore_values.h"

#include <string.h>

#include "flash.h"
#include "flash_image.h"

size_t rec_value(uint16_t id, unsigned v, uint8_t *out)
{
    size_t len = 200 + (id * 131 + v * 17) % 800, i;

    for (i = 0; i < len; i++)
        out[i] = (uint8_t)(id * 7 + v * 13 + i);
    return len;
}

int rec_reads_as(struct recstore *s, uint16_t id, unsigned v)
{
    uint8_t want[RECSTORE_MAX_LEN], got[RECSTORE_MAX_LEN];
    size_t n = rec_value(id, v, want), len;

    return recstore_read(s, id, got, sizeof(got), &len) == 0 && len == n &&
           memcmp(got, want, n) == 0;
}

int rec_remount(struct recstore *s)
{
    hal_flash_close();
    if (hal_flash_open(flash_image_path()) != 0)
        return -1;
    return recstore_mount(s, hal_flash_part("keys"));
}
