#include "powercut.h"

#include "flash.h"
#include "flash_image.h"
#include "test.h"

unsigned long powercut_points;

unsigned long powercut_sweep(const struct powercut_workload *w, int torn)
{
    unsigned long total, k;
    const char *why;
    char pending[64];

    if (flash_image_create() != 0)
        return 0;
    why = w->run() != 0 ? "the workload failed without a cut" : w->uncut ? w->uncut() : NULL;
    total = hal_flash_ops();
    flash_image_remove();
    if (why) {
        test_fail(__FILE__, __LINE__, "%s (%lu operations)", why, total);
        return 0;
    }
    for (k = 1; k <= total; k++) {
        if (flash_image_create() != 0)
            return 0;
        hal_flash_powercut_arm(k, torn);
        w->run();
        hal_flash_powercut_disarm();
        powercut_points++;
        why = w->after_cut();
        if (why) {
            w->pending(pending, sizeof(pending));
            test_fail(__FILE__, __LINE__, "cut at op %lu/%lu (torn %d), %s: %s", k, total, torn,
                      pending, why);
            flash_image_remove();
            return 0;
        }
        flash_image_remove();
    }
    return total;
}
