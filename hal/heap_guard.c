#include "heap_guard.h"

#include <stddef.h>

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void __real_free(void *p);

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
void __wrap_free(void *p);

static struct heap_stats stats;

static void count_allocation(void)
{
    if (stats.sealed)
        stats.calls_after_seal++;
    else
        stats.init_calls++;
}

void *__wrap_malloc(size_t size)
{
    count_allocation();
    return __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
    count_allocation();
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
    count_allocation();
    return __real_realloc(p, size);
}

void __wrap_free(void *p)
{
    if (p)
        stats.frees++;
    __real_free(p);
}

void heap_seal(void)
{
    stats.sealed = true;
}

unsigned long heap_calls_after_seal(void)
{
    return stats.calls_after_seal;
}

void heap_get_stats(struct heap_stats *out)
{
    *out = stats;
}
