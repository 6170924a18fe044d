/* The relay service (PROTOCOLS.md section 1) on BOARD_PORT_RELAY. So far it
 * answers GET /health and GET /diagnostics; mailboxes come with the relay
 * issue. */
#ifndef RELAY_H
#define RELAY_H

#include "loop.h"

extern const struct service relay_service;

#endif
