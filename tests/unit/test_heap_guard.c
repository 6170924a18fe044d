#include <stdlib.h>
#include <string.h>

#include "heap_guard.h"
#include "test.h"

/* Through a volatile pointer so the compiler cannot drop the pair. */
static void *(*volatile allocate)(size_t) = malloc;

static void allocates_without_saying_so(void)
{
    free(allocate(32));
}

MG_TEST(test_allocation_after_seal_is_counted)
{
    unsigned long before = heap_calls_after_seal();
    struct heap_stats st;

    test_expect_heap_calls(1);
    free(allocate(16));
    CHECK_EQ(heap_calls_after_seal(), before + 1);
    heap_get_stats(&st);
    CHECK(st.sealed);
}

MG_TEST(test_a_test_that_allocates_after_seal_fails)
{
    CHECK(!test_passes(allocates_without_saying_so));
}
