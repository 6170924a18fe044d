/* Random bytes from the hardware or OS, for seeding and key generation. */
#ifndef HAL_ENTROPY_H
#define HAL_ENTROPY_H

#include <stddef.h>

/* Fills buf with len random bytes; 0, or MG_ERR_IO if the source fails. */
int hal_entropy(void *buf, size_t len);

#endif
