/* The serial console as a loop service: reads the board UART without
 * waiting, feeds the line editor, and registers every service's commands
 * (struct service.commands) plus the system's own. */
#ifndef CONSOLE_SERVICE_H
#define CONSOLE_SERVICE_H

#include "loop.h"

/* Bytes taken from the UART per loop pass at most: a paste or garbage
 * stream cannot hold the loop. */
#define CONSOLE_RX_BATCH 256

/* The UART path ("-": stdin/stdout, a tty, a FIFO); before the service's
 * init. NULL: no console. */
void console_service_set_path(const char *path);

/* Registered last, so its init sees every other service's commands. */
extern const struct service console_service;

#endif
