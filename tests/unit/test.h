/* meshgate's unit-test runner. A test is a sentence:
 *
 *     MG_TEST(test_replayed_nonce_is_refused)
 *     {
 *         CHECK(...);
 *         CHECK_EQ(rc, MG_ERR_AUTH);
 *     }
 *
 * The runner seals the heap before the first test: a test (or the module it
 * drives) that allocates fails, unless it declares the calls it expects with
 * test_expect_heap_calls(). The last line printed is "N passed, N failed". */
#ifndef MG_TEST_H
#define MG_TEST_H

#include <stddef.h>

typedef void (*test_fn)(void);

void test_register(const char *name, test_fn fn);
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Allows n allocations after the seal in the running test. */
void test_expect_heap_calls(unsigned long n);
/* Runs fn under the same rules as a registered test, quietly; 1 if it passed. */
int test_passes(test_fn fn);
/* The Wycheproof vectors directory (--vectors DIR). */
const char *test_vectors_dir(void);
/* Reads a whole file into buf (NUL-terminated); its length, or -1. No stdio,
 * no heap. */
long test_read_file(const char *dir, const char *name, char *buf, size_t size);

/* Decodes a hex string into out; its length in bytes, or -1. */
long test_unhex(const char *hex, unsigned char *out, size_t cap);

#define MG_TEST(name)                                                          \
    static void name(void);                                                    \
    __attribute__((constructor)) static void name##_register(void)            \
    { test_register(#name, name); }                                            \
    static void name(void)

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            test_fail(__FILE__, __LINE__, "%s", #cond);                        \
            return;                                                            \
        }                                                                      \
    } while (0)

#define CHECK_EQ(a, b)                                                         \
    do {                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                    \
        if (a_ != b_) {                                                        \
            test_fail(__FILE__, __LINE__, "%s == %s (%lld != %lld)", #a, #b,   \
                      a_, b_);                                                 \
            return;                                                            \
        }                                                                      \
    } while (0)

#define CHECK_MEM(a, b, n)                                                     \
    do {                                                                       \
        if (memcmp((a), (b), (n)) != 0) {                                      \
            test_fail(__FILE__, __LINE__, "%s == %s (%zu bytes differ)", #a,   \
                      #b, (size_t)(n));                                        \
            return;                                                            \
        }                                                                      \
    } while (0)

#endif
