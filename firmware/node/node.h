/* The node's identity on the mesh (PROTOCOLS.md section 3): its Ed25519
 * key from the keystore, shown in both encodings. Without a present node
 * key the service does not start. */
#ifndef NODE_H
#define NODE_H

#include <stdint.h>

#include "loop.h"

/* The node id, "ed25519_" + 64 lowercase hex digits. */
const char *node_id(void);

extern const struct service node_service;

#endif
