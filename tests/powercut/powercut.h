/* The power-cut sweeps (tests/powercut/): each runs a workload once to
 * count its flash operations, then again for every operation k with the
 * power cut at k (whole, then torn), reboots and checks what survived. */
#ifndef TEST_POWERCUT_H
#define TEST_POWERCUT_H

/* Cut points exercised so far, over all sweeps (for the report). */
extern unsigned long powercut_points;

#endif
