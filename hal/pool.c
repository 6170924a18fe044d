#include "pool.h"

#include "mg_err.h"

static struct pool_stat *pools;

void pool_register(struct pool_stat *p)
{
    struct pool_stat **at = &pools;

    /* Keep the list sorted by name so reports are stable across builds. */
    while (*at) {
        const char *a = (*at)->name, *b = p->name;
        while (*a && *a == *b) {
            a++;
            b++;
        }
        if ((unsigned char)*a > (unsigned char)*b)
            break;
        at = &(*at)->next;
    }
    p->next = *at;
    *at = p;
}

int pool_take(struct pool_stat *p)
{
    if (p->used >= p->capacity) {
        p->refused++;
        return MG_ERR_NOSPC;
    }
    pool_set_used(p, p->used + 1);
    return 0;
}

void pool_give(struct pool_stat *p)
{
    if (p->used > 0)
        p->used--;
}

void pool_set_used(struct pool_stat *p, size_t used)
{
    p->used = used;
    if (used > p->high_water)
        p->high_water = used;
}

const struct pool_stat *pool_first(void)
{
    return pools;
}

const struct pool_stat *pool_next(const struct pool_stat *p)
{
    return p->next;
}
