/* The firmware's own figures (loop, pools, heap, network) as JSON, for
 * /diagnostics, the console and telemetry. */
#ifndef DIAG_H
#define DIAG_H

#include <stddef.h>

#include "textbuf.h"

/* One fixed pool's figures: ours (hal/pool.h) and lwIP's (named "lwip.*"). */
struct diag_pool {
    const char *name;
    size_t capacity, used, high_water;
    unsigned long refused;
};

/* Calls fn for every pool, ours sorted by name, then lwIP's. */
void diag_each_pool(void (*fn)(const struct diag_pool *p, void *ctx), void *ctx);

/* Appends a JSON object {"version",...,"loop":{},"heap":{},"pools":[],...}. */
void diag_firmware_json(struct textbuf *b);

#endif
