/* The libsignal scratch arena (DESIGN.md section 2). libsignal-protocol-c
 * allocates on every operation; the firmware and unit-test images link a
 * copy of the library whose malloc, calloc, realloc, free and strdup are
 * renamed to the mg_sig_* functions here (Makefile, libsignal-arena.a), so
 * its memory comes from one static arena of BOARD_SIGNAL_ARENA bytes.
 *
 * Every Signal operation runs between sig_arena_begin() and sig_arena_end().
 * What is allocated before sig_arena_seal() (the library's contexts, made
 * once at init) is kept; after the seal, an allocation outside an operation
 * is refused (NULL), and sig_arena_end() frees whatever the operation left
 * behind and reports it. Exhaustion is a NULL, which libsignal turns into
 * SG_ERR_NOMEM. The arena is the pool "signal_arena" (bytes) in `mem`. */
#ifndef SIGNAL_ARENA_H
#define SIGNAL_ARENA_H

#include <stddef.h>

struct sig_arena_stats {
    size_t capacity;
    size_t used;             /* bytes in blocks now, headers included */
    size_t high_water;       /* the most ever in use */
    size_t op_high_water;    /* the most in use during the last operation */
    unsigned long ops;
    unsigned long refused;   /* allocations that did not fit */
    unsigned long leaks;     /* operations that ended with blocks left */
    unsigned long stray;     /* allocations outside an operation after the seal, and
                                frees of what is not a live block of the arena */
};

/* Starts an operation. MG_ERR_PERM if one is already running (operations
 * do not nest). */
int sig_arena_begin(void);

/* Ends the operation: 0 when it freed everything it allocated; otherwise
 * MG_ERR_CORRUPT, its blocks are released anyway and the leak is counted. */
int sig_arena_end(void);

/* Ends init: from now on, allocations outside an operation are refused. */
void sig_arena_seal(void);

/* Bytes the arena holds for blocks kept from init (not an operation's). */
size_t sig_arena_kept(void);

void sig_arena_get_stats(struct sig_arena_stats *out);

/* Forgets the high-water marks (a measurement starts). */
void sig_arena_reset_high_water(void);

/* The allocator libsignal is linked against. */
void *mg_sig_malloc(size_t size);
void *mg_sig_calloc(size_t n, size_t size);
void *mg_sig_realloc(void *p, size_t size);
void mg_sig_free(void *p);
char *mg_sig_strdup(const char *s);

#endif
