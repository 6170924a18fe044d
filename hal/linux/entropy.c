#include "entropy.h"

#include <errno.h>
#include <sys/random.h>

#include "mg_err.h"

int hal_entropy(void *buf, size_t len)
{
    unsigned char *p = buf;

    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return MG_ERR_IO;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
