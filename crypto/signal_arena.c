#include "signal_arena.h"

#include <stdint.h>
#include <string.h>

#include "board.h"
#include "mg_err.h"
#include "pool.h"

/* Blocks tile the arena from its start up to `top`; past it is untouched.
 * Each block starts with a header; sizes include it and are multiples of
 * ALIGN, so every payload is aligned for any object. Freed blocks merge
 * with free neighbours, and a free block at the end gives its bytes back
 * to the top: an operation that frees everything leaves the arena exactly
 * as it found it. */
#define ALIGN     16u
#define HEAD      16u
#define KEPT      0u          /* block made outside any operation (init) */

struct block {
    uint32_t size;            /* bytes, header included */
    uint32_t prev_size;       /* the block before's size; 0 for the first */
    uint32_t op;              /* operation that made it, KEPT for init */
    uint32_t used;
};
_Static_assert(sizeof(struct block) == HEAD, "the header is one alignment unit");
_Static_assert(BOARD_SIGNAL_ARENA % ALIGN == 0, "the arena is whole alignment units");

static _Alignas(ALIGN) uint8_t signal_arena[BOARD_SIGNAL_ARENA];
POOL_DEFINE(signal_arena, signal_arena)

static uint32_t top;          /* end of the last block */
/* The free blocks below top, a list through their payloads (every payload
 * is at least ALIGN bytes): a search walks the holes only, not the used
 * blocks that stay for a whole operation. */
#define NONE UINT32_MAX
struct links {
    uint32_t next, prev;
};
static uint32_t free_head = NONE;
static uint32_t last_size;    /* the last block's size; 0 when there is none */
static uint32_t op;           /* the running operation's number; KEPT: none */
static uint32_t op_count;     /* last operation number handed out */
static unsigned long op_blocks;   /* live blocks of the running operation */
static int sealed;
static size_t used_bytes, kept_bytes;
static struct sig_arena_stats st = { BOARD_SIGNAL_ARENA, 0, 0, 0, 0, 0, 0, 0 };

static struct block *at(uint32_t off)
{
    return (struct block *)(void *)(signal_arena + off);
}

static uint32_t off_of(const struct block *b)
{
    return (uint32_t)((const uint8_t *)b - signal_arena);
}

static void account(long delta)
{
    used_bytes = (size_t)((long)used_bytes + delta);
    if (used_bytes > st.high_water)
        st.high_water = used_bytes;
    if (used_bytes > st.op_high_water)
        st.op_high_water = used_bytes;
    pool_set_used(&signal_arena_pool, used_bytes);
}

static struct links *links(struct block *b)
{
    return (struct links *)(void *)(b + 1);
}

static void list_add(struct block *b)
{
    struct links *l = links(b);

    l->prev = NONE;
    l->next = free_head;
    if (free_head != NONE)
        links(at(free_head))->prev = off_of(b);
    free_head = off_of(b);
}

static void list_del(struct block *b)
{
    const struct links *l = links(b);

    if (l->prev != NONE)
        links(at(l->prev))->next = l->next;
    else
        free_head = l->next;
    if (l->next != NONE)
        links(at(l->next))->prev = l->prev;
}

/* Tells the block after b (if any) how big b is now. */
static void link_next(struct block *b)
{
    uint32_t next = off_of(b) + b->size;

    if (next < top)
        at(next)->prev_size = b->size;
}

/* Cuts b to size bytes when the rest is worth a block of its own. */
static void split(struct block *b, uint32_t size)
{
    struct block *rest;

    if (b->size - size < HEAD + ALIGN)
        return;
    rest = at(off_of(b) + size);
    rest->size = b->size - size;
    rest->prev_size = size;
    rest->op = KEPT;
    rest->used = 0;
    b->size = size;
    link_next(rest);
    list_add(rest);
}

static int need_of(size_t size, uint32_t *need)
{
    if (size > BOARD_SIGNAL_ARENA)
        return -1;
    /* A payload of at least ALIGN bytes: room for the links once free. */
    *need = (uint32_t)((size + ALIGN - 1) / ALIGN * ALIGN) + HEAD;
    if (*need < HEAD + ALIGN)
        *need = HEAD + ALIGN;
    return 0;
}

static void take(struct block *b)
{
    b->used = 1;
    b->op = op;
    if (op != KEPT)
        op_blocks++;
    else
        kept_bytes += b->size;
    account((long)b->size);
}

static void *alloc(size_t size)
{
    uint32_t need, off;
    struct block *b;

    if (op == KEPT && sealed) {
        st.stray++;
        return NULL;
    }
    if (need_of(size, &need) != 0)
        goto refuse;
    for (off = free_head; off != NONE; off = links(at(off))->next) {
        b = at(off);
        if (b->size >= need) {
            list_del(b);
            split(b, need);   /* a free block is never the last one */
            take(b);
            return b + 1;
        }
    }
    if (BOARD_SIGNAL_ARENA - top < need)
        goto refuse;
    b = at(top);
    b->size = need;
    b->prev_size = last_size;
    top += need;
    last_size = need;
    take(b);
    return b + 1;
refuse:
    st.refused++;
    signal_arena_pool.refused++;
    return NULL;
}

static struct block *block_of(void *p)
{
    return (struct block *)p - 1;
}

/* Marks b free and merges it with free neighbours; a free block at the end
 * goes back to the top. */
static void release(struct block *b)
{
    struct block *next;
    int listed = 0;

    if (b->op != KEPT) {
        if (op_blocks)
            op_blocks--;
    } else {
        kept_bytes -= b->size;
    }
    account(-(long)b->size);
    b->used = 0;
    b->op = KEPT;
    if (off_of(b) + b->size < top) {
        next = at(off_of(b) + b->size);
        if (!next->used) {
            list_del(next);
            b->size += next->size;
        }
    }
    if (b->prev_size) {
        struct block *prev = at(off_of(b) - b->prev_size);
        if (!prev->used) {
            prev->size += b->size;
            b = prev;
            listed = 1;
        }
    }
    if (off_of(b) + b->size >= top) {
        if (listed)
            list_del(b);
        top = off_of(b);
        last_size = b->prev_size;
    } else {
        if (!listed)
            list_add(b);
        link_next(b);
    }
}

void *mg_sig_malloc(size_t size)
{
    return alloc(size);
}

void *mg_sig_calloc(size_t n, size_t size)
{
    void *p;

    if (size && n > BOARD_SIGNAL_ARENA / size) {
        st.refused++;
        signal_arena_pool.refused++;
        return NULL;
    }
    p = alloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *mg_sig_realloc(void *p, size_t size)
{
    struct block *b;
    uint32_t need;
    void *q;

    if (!p)
        return alloc(size);
    if (size == 0) {
        mg_sig_free(p);
        return NULL;
    }
    b = block_of(p);
    if (need_of(size, &need) != 0) {
        st.refused++;
        signal_arena_pool.refused++;
        return NULL;
    }
    if (b->size >= need)
        return p;
    /* The last block grows in place (protobuf packing and utarray grow
     * one buffer at a time). */
    if (off_of(b) + b->size == top && BOARD_SIGNAL_ARENA - off_of(b) >= need) {
        account((long)(need - b->size));
        if (b->op == KEPT)
            kept_bytes += need - b->size;
        top = off_of(b) + need;
        b->size = need;
        last_size = need;
        return p;
    }
    q = alloc(size);
    if (!q)
        return NULL;
    memcpy(q, p, b->size - HEAD);
    mg_sig_free(p);
    return q;
}

void mg_sig_free(void *p)
{
    uintptr_t q = (uintptr_t)p, base = (uintptr_t)signal_arena;

    if (!p)
        return;
    /* Not one of ours (or already free): counted, never merged into the
     * arena's blocks. */
    if (q < base + HEAD || q >= base + top || (q - base) % ALIGN != 0 || !block_of(p)->used) {
        st.stray++;
        return;
    }
    release(block_of(p));
}

char *mg_sig_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = alloc(n);

    if (d)
        memcpy(d, s, n);
    return d;
}

int sig_arena_begin(void)
{
    if (op != KEPT)
        return MG_ERR_PERM;
    if (++op_count == KEPT)
        op_count = 1;
    op = op_count;
    op_blocks = 0;
    st.op_high_water = used_bytes;
    st.ops++;
    return 0;
}

int sig_arena_end(void)
{
    uint32_t off, ended = op;

    if (op == KEPT)
        return MG_ERR_PERM;
    op = KEPT;
    if (op_blocks == 0)
        return 0;
    /* What the operation left is released so that the next one starts
     * from the same arena; the leak is a bug to report, not to carry. */
    st.leaks++;
    off = 0;
    while (off < top) {
        struct block *b = at(off);
        if (b->used && b->op == ended) {
            release(b);
            off = 0;           /* merging may have moved block starts */
            continue;
        }
        off += b->size;
    }
    op_blocks = 0;
    return MG_ERR_CORRUPT;
}

void sig_arena_seal(void)
{
    sealed = 1;
}

size_t sig_arena_kept(void)
{
    return kept_bytes;
}

void sig_arena_get_stats(struct sig_arena_stats *out)
{
    *out = st;
    out->used = used_bytes;
}

void sig_arena_reset_high_water(void)
{
    st.high_water = used_bytes;
    st.op_high_water = used_bytes;
    signal_arena_pool.high_water = used_bytes;
}
