/* lwIP port definitions for meshgate (NO_SYS=1, single-threaded superloop). */
#ifndef MESHGATE_LWIP_ARCH_CC_H
#define MESHGATE_LWIP_ARCH_CC_H

#include <stdint.h>
#include <stdlib.h>

/* All meshgate boards are little-endian; lwIP's default is what we need. */

void mg_lwip_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mg_lwip_assert(const char *msg, int line, const char *file) __attribute__((noreturn));
uint32_t mg_lwip_rand(void);

#define LWIP_PLATFORM_DIAG(x)            do { mg_lwip_diag x; } while (0)
#define LWIP_PLATFORM_ASSERT(x)          mg_lwip_assert((x), __LINE__, __FILE__)
#define LWIP_RAND()                      mg_lwip_rand()

#endif
