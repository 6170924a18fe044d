/* Fixed pools report their size, use and high-water mark (STYLE.md "Memory
 * is declared, not requested"). A module declares its storage statically and
 * one `struct pool_stat` beside it:
 *
 *     static struct relay_user users[BOARD_RELAY_USERS];
 *     POOL_DEFINE(relay_users, users);
 *
 * and calls pool_take(&relay_users_pool) / pool_give(...) as slots are used
 * and freed. Every pool so defined is listed by pool_first()/pool_next()
 * (the console's `mem` command and /diagnostics). */
#ifndef POOL_H
#define POOL_H

#include <stddef.h>

struct pool_stat {
    const char *name;
    size_t capacity;       /* slots (or bytes, for arenas) */
    size_t item_size;      /* bytes per slot */
    size_t used;
    size_t high_water;
    unsigned long refused; /* takes refused because the pool was full */
    struct pool_stat *next;
};

void pool_register(struct pool_stat *p);

#define POOL_DEFINE(name, array)                                              \
    struct pool_stat name##_pool = {                                          \
        #name, sizeof(array) / sizeof((array)[0]), sizeof((array)[0]),        \
        0, 0, 0, NULL };                                                      \
    __attribute__((constructor)) static void name##_pool_register(void)       \
    { pool_register(&name##_pool); }

/* A pool of n slots that are counted, not stored (a limit on how many of
 * something may be outstanding). */
#define POOL_DEFINE_COUNT(name, n)                                            \
    struct pool_stat name##_pool = { #name, (n), 0, 0, 0, 0, NULL };          \
    __attribute__((constructor)) static void name##_pool_register(void)       \
    { pool_register(&name##_pool); }

/* Counts one slot as used; 0, or MG_ERR_NOSPC (and counts a refusal) if full. */
int pool_take(struct pool_stat *p);
/* Counts one slot as free again. */
void pool_give(struct pool_stat *p);
/* For arenas and byte pools: sets the use directly, tracking the high-water. */
void pool_set_used(struct pool_stat *p, size_t used);

const struct pool_stat *pool_first(void);
const struct pool_stat *pool_next(const struct pool_stat *p);

#endif
