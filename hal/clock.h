/* Time for the superloop: a monotonic millisecond counter for deadlines and a
 * wall clock (Unix milliseconds) for protocol timestamps. */
#ifndef HAL_CLOCK_H
#define HAL_CLOCK_H

#include <stdint.h>

/* Milliseconds since an arbitrary start; never goes backwards. */
uint64_t hal_clock_ms(void);

/* Microseconds since the same start, for measuring short durations. */
uint64_t hal_clock_us(void);

/* Unix time in milliseconds (may jump when the board's clock is set). */
int64_t hal_clock_wall_ms(void);

#endif
