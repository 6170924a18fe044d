/* Runs every registered test once, in name order, and prints one line per
 * test and "N passed, N failed" last. Exit status 1 if any failed. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "flash.h"
#include "heap_guard.h"
#include "hex.h"
#include "test.h"

#define MAX_TESTS 1024

struct test {
    const char *name;
    test_fn fn;
};

static struct test tests[MAX_TESTS];
static size_t n_tests;
static const char *vectors_dir = "../shared/vectors/wycheproof";

static int failed;           /* the running test has failed */
static int quiet;            /* inside test_passes(): do not print failures */
static unsigned long heap_allowed;

void test_register(const char *name, test_fn fn)
{
    size_t i;

    if (n_tests == MAX_TESTS) {
        fprintf(stderr, "too many tests (MAX_TESTS %d)\n", MAX_TESTS);
        exit(2);
    }
    /* Insertion in name order: the run order must not depend on link order. */
    for (i = n_tests; i > 0 && strcmp(tests[i - 1].name, name) > 0; i--)
        tests[i] = tests[i - 1];
    tests[i].name = name;
    tests[i].fn = fn;
    n_tests++;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    failed = 1;
    if (quiet)
        return;
    fprintf(stdout, "    %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

void test_expect_heap_calls(unsigned long n)
{
    heap_allowed += n;
}

const char *test_vectors_dir(void)
{
    return vectors_dir;
}

long test_read_file(const char *dir, const char *name, char *buf, size_t size)
{
    char path[512];
    long total = 0;
    int fd;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return -1;
    fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    for (;;) {
        ssize_t n = read(fd, buf + total, size - 1 - (size_t)total);
        if (n < 0) {
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        total += n;
        if ((size_t)total == size - 1) {
            close(fd);
            return -1;   /* file does not fit */
        }
    }
    close(fd);
    buf[total] = '\0';
    return total;
}

long test_unhex(const char *hex, unsigned char *out, size_t cap)
{
    return hex_decode(hex, strlen(hex), out, cap);
}

/* Runs one test: it fails on a failed CHECK or on an unexpected allocation. */
static int run(test_fn fn)
{
    unsigned long before = heap_calls_after_seal();
    unsigned long used;

    failed = 0;
    heap_allowed = 0;
    fn();
    used = heap_calls_after_seal() - before;
    if (used > heap_allowed)
        test_fail("heap_guard", 0, "%lu heap call(s) after seal", used - heap_allowed);
    return !failed;
}

int test_passes(test_fn fn)
{
    int saved_failed = failed, saved_quiet = quiet;
    unsigned long saved_allowed = heap_allowed;
    unsigned long before = heap_calls_after_seal();
    int ok;

    quiet = 1;
    ok = run(fn);
    quiet = saved_quiet;
    failed = saved_failed;
    /* What the inner test allocated belongs to it, not to its caller. */
    heap_allowed = saved_allowed + (heap_calls_after_seal() - before);
    return ok;
}

int main(int argc, char **argv)
{
    const char *filter = NULL;
    unsigned passed = 0, fails = 0;
    size_t i;
    int a;

    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--vectors") == 0 && a + 1 < argc)
            vectors_dir = argv[++a];
        else
            filter = argv[a];
    }
    if (mg_crypto_init() != 0) {
        fprintf(stdout, "crypto init failed\n");
        return 1;
    }
    /* stdout's buffer is allocated on first use, the flash's sync thread at
     * its start: both before the seal, as the firmware's boot does. */
    fprintf(stdout, "running %zu tests\n", n_tests);
    fflush(stdout);
    if (hal_flash_init() != 0) {
        fprintf(stdout, "flash init failed\n");
        return 1;
    }
    heap_seal();

    for (i = 0; i < n_tests; i++) {
        if (filter && !strstr(tests[i].name, filter))
            continue;
        if (run(tests[i].fn)) {
            passed++;
            fprintf(stdout, "ok   %s\n", tests[i].name);
        } else {
            fails++;
            fprintf(stdout, "FAIL %s\n", tests[i].name);
        }
        fflush(stdout);
    }
    fprintf(stdout, "%u passed, %u failed\n", passed, fails);
    return fails ? 1 : 0;
}
