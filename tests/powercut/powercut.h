/* The power-cut sweeps (tests/powercut/): each runs a workload once to
 * count its flash operations, then again for every operation k with the
 * power cut at k (whole, then torn), reboots and checks what survived. */
#ifndef TEST_POWERCUT_H
#define TEST_POWERCUT_H

#include <stddef.h>

struct powercut_workload {
    /* Runs the workload on a blank image until the end (0) or until the
     * flash fails (the cut, -1), keeping track of what was acknowledged. */
    int (*run)(void);
    /* Called after a run without a cut: why it does not exercise what it
     * must (too few operations, no garbage collection), or NULL. */
    const char *(*uncut)(void);
    /* Called after a cut run: reboots, checks everything acknowledged
     * survived and that the store keeps working; why not, or NULL. */
    const char *(*after_cut)(void);
    /* What was being written when the power went, for a failure message. */
    void (*pending)(char *buf, size_t cap);
};

/* Sweeps every operation of w, whole or torn; the operations cut, or 0
 * with the test failed. */
unsigned long powercut_sweep(const struct powercut_workload *w, int torn);

/* Cut points exercised so far, over all sweeps (for the report). */
extern unsigned long powercut_points;

#endif
