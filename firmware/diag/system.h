/* The system's console commands (status, net, mem, loop, log, reboot,
 * halt) as a service with no work of its own. */
#ifndef SYSTEM_H
#define SYSTEM_H

#include "loop.h"

extern const struct service system_service;

#endif
