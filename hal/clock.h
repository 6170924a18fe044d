/* Time for the superloop: a monotonic millisecond counter for deadlines and a
 * wall clock (Unix milliseconds) for protocol timestamps. */
#ifndef HAL_CLOCK_H
#define HAL_CLOCK_H

#include <stdint.h>

/* Milliseconds since an arbitrary start; never goes backwards. */
uint64_t hal_clock_ms(void);

/* Microseconds since the same start, for measuring short durations:
 * hal_clock_ms() is always this divided by 1000. */
uint64_t hal_clock_us(void);

/* Unix time in milliseconds (may jump when the board's clock is set). */
int64_t hal_clock_wall_ms(void);

/* "YYYY-MM-DDTHH:MM:SSZ" for Unix milliseconds (proleptic Gregorian, UTC),
 * into out[CLOCK_UTC_LEN]. Pure arithmetic: libc's gmtime may load time zone
 * files, which allocates. */
#define CLOCK_UTC_LEN 21
void clock_format_utc(int64_t unix_ms, char out[CLOCK_UTC_LEN]);

#endif
