/* meshgate firmware: init (may allocate), then seal the heap (DESIGN.md 1). */
#include <stdio.h>

#include "board.h"
#include "crypto.h"
#include "heap_guard.h"
#include "lwip/init.h"
#include "mg_err.h"
#include "version.h"

int main(void)
{
    struct heap_stats hs;
    int rc;

    printf("meshgate %s board %s (%s)\n", MESHGATE_VERSION, BOARD_NAME, BOARD_ARCH);
    rc = mg_crypto_init();
    if (rc != 0) {
        printf("init: crypto: %s\n", mg_strerror(rc));
        return 1;
    }
    lwip_init();
    heap_seal();
    heap_get_stats(&hs);
    printf("init: done, %lu heap calls during init, heap sealed\n", hs.init_calls);
    fflush(stdout);
    return heap_calls_after_seal() == 0 ? 0 : 1;
}
