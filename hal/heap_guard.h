/* The allocator guard (DESIGN.md section 2). Every firmware and test image is
 * linked with -Wl,--wrap=malloc,calloc,realloc,free so that all calls, from our
 * code, the libraries and the static C library alike, pass through here.
 * Before heap_seal() they are counted as init allocations; after it, each
 * malloc/calloc/realloc is counted as a violation (the memory is still
 * returned: a late allocation must be visible, never a crash). */
#ifndef HEAP_GUARD_H
#define HEAP_GUARD_H

#include <stdbool.h>

struct heap_stats {
    unsigned long init_calls;     /* allocations before the seal */
    unsigned long calls_after_seal;
    unsigned long frees;
    bool sealed;
};

/* Ends init: from now on every allocation is a violation. */
void heap_seal(void);

/* Allocations since heap_seal(); 0 for a healthy firmware. */
unsigned long heap_calls_after_seal(void);

void heap_get_stats(struct heap_stats *out);

#endif
