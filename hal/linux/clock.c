#include "clock.h"

#include <time.h>

static int64_t read_ms(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t hal_clock_ms(void)
{
    return (uint64_t)read_ms(CLOCK_MONOTONIC);
}

int64_t hal_clock_wall_ms(void)
{
    return read_ms(CLOCK_REALTIME);
}

uint64_t hal_clock_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
