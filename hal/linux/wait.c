#include "wait.h"

#include <poll.h>

#include "mg_err.h"

static struct pollfd fds[HAL_WAIT_FDS];
static int n_fds;

int hal_wait_add_fd(int fd)
{
    if (n_fds == HAL_WAIT_FDS)
        return MG_ERR_NOSPC;
    fds[n_fds].fd = fd;
    fds[n_fds].events = POLLIN;
    n_fds++;
    return 0;
}

int hal_wait_remove_fd(int fd)
{
    int i;

    for (i = 0; i < n_fds; i++) {
        if (fds[i].fd == fd) {
            fds[i] = fds[--n_fds];
            return 0;
        }
    }
    return MG_ERR_NOENT;
}

int hal_wait(int timeout_ms)
{
    int n = poll(fds, (nfds_t)n_fds, timeout_ms);

    return n < 0 ? 0 : n;
}
