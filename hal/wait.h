/* The superloop's only blocking call: sleep until a registered descriptor is
 * readable or the deadline passes. */
#ifndef HAL_WAIT_H
#define HAL_WAIT_H

#define HAL_WAIT_FDS 4

/* Adds a descriptor to wait on; MG_ERR_NOSPC past HAL_WAIT_FDS. */
int hal_wait_add_fd(int fd);

/* Stops waiting on fd (a console whose input ended); MG_ERR_NOENT if absent. */
int hal_wait_remove_fd(int fd);

/* Waits at most timeout_ms (0: just look). Returns the number of ready
 * descriptors (0 on timeout). */
int hal_wait(int timeout_ms);

#endif
