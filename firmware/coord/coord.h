/* The coordinator role (PROTOCOLS.md 3) on BOARD_PORT_COORD: the listener,
 * the offline check and the console's `coord` and `sovereign`.
 *
 * The listener is opened at init whatever the role; while the role is off
 * every path answers 503 {"error":"coordinator_disabled"}, so a client
 * tells "not the coordinator" from "no gateway". The role is on when the
 * board says so (BOARD_COORD_ROLE) or the running config has
 * gateway.coordinator.role true. Each newly applied config's
 * gateway.coordinator.sovereign_keys are added as sovereigns (persisted
 * like any other), and its offline_after_ms / offline_check_ms replace the
 * defaults (5 min / 60 s). The registry itself is coord/registry.h, the
 * requests coord/api.h. */
#ifndef COORD_H
#define COORD_H

#include "loop.h"

extern const struct service coord_service;

/* 1 when the role is on now. */
int coord_role_on(void);

#endif
