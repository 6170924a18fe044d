/* UTC formatting without libc's time zone machinery, against dates whose
 * Unix times are known. */
#include <string.h>

#include "clock.h"
#include "test.h"

static int formats_as(int64_t ms, const char *want)
{
    char out[CLOCK_UTC_LEN];

    clock_format_utc(ms, out);
    return strcmp(out, want) == 0;
}

MG_TEST(test_clock_format_utc_known_instants)
{
    CHECK(formats_as(0, "1970-01-01T00:00:00Z"));
    CHECK(formats_as(951782400000LL, "2000-02-29T00:00:00Z"));      /* leap day, 400-year rule */
    CHECK(formats_as(951868799999LL, "2000-02-29T23:59:59Z"));
    CHECK(formats_as(4107542400000LL, "2100-03-01T00:00:00Z"));     /* 2100 is not leap */
    CHECK(formats_as(1795305600000LL, "2026-11-22T00:00:00Z"));
    CHECK(formats_as(2147483648000LL, "2038-01-19T03:14:08Z"));     /* past 32-bit time_t */
    CHECK(formats_as(-1000, "1969-12-31T23:59:59Z"));
    CHECK(formats_as(-1, "1969-12-31T23:59:59Z"));
}

MG_TEST(test_clock_format_utc_out_of_range_is_said)
{
    CHECK(formats_as(400000000000000LL, "(out of range)"));
}
