/* What lwIP asks of its port under NO_SYS=1: time, randomness, diagnostics. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "arch/cc.h"
#include "clock.h"
#include "crypto.h"
#include "lwip/sys.h"

u32_t sys_now(void)
{
    return (u32_t)hal_clock_ms();
}

uint32_t mg_lwip_rand(void)
{
    uint32_t r = 0;

    (void)mg_random(&r, sizeof(r));
    return r;
}

void mg_lwip_diag(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

void mg_lwip_assert(const char *msg, int line, const char *file)
{
    fprintf(stderr, "lwip assertion \"%s\" failed at %s:%d\n", msg, file, line);
    abort();
}
