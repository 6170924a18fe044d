/* Config sync (PROTOCOLS.md section 2): the controller listener
 * (BOARD_PORT_CONTROL) with the HMAC gate, /config/sync, /config/status,
 * /health and /api/v1/delivery/status, and the console's `config` and
 * `nonces`. The bootstrap key comes from the keystore (mesh-hmac) or, when
 * none is provisioned, MESH_HMAC_SECRET in the environment; the config
 * lives in RAM only (config.h). */
#ifndef CONFSYNC_H
#define CONFSYNC_H

#include "loop.h"

extern const struct service confsync_service;

#endif
