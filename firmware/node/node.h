/* The node's identity on the mesh (PROTOCOLS.md sections 3 and 4): its
 * Ed25519 key from the keystore, shown in both encodings, and the name and
 * address it goes by. The private key stays in this module: others ask it
 * to sign. Without a present node key the service does not start. */
#ifndef NODE_H
#define NODE_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"

#define NODE_NAME_MAX 64        /* bytes of a node name, with the NUL */

/* The public key as "ed25519_" + 64 lowercase hex digits (section 3). */
const char *node_id(void);
/* The public key as base64 of its 32 bytes (section 4). */
const char *node_public_b64(void);
/* The 32 raw bytes of the public key. */
const uint8_t *node_public_key(void);

/* A plain Ed25519 signature of msg by the node key into sig[64]; 0, or
 * MG_ERR_NOENT when the service has not started (no key). Callers that sign
 * a digest (section 3) hash first. */
int node_sign(const void *msg, size_t len, uint8_t sig[64]);

/* The host name this node reports: gateway.node.hostname from the running
 * config, else "meshgate-" and the first 8 hex digits of the public key. */
const char *node_hostname(void);
/* The node's name on the mesh (the coordinator's nodeId, X-Nara-Name):
 * gateway.node.name, else the host name. */
const char *node_name(void);
/* The node's IPv4 address as reported to peers: gateway.node.ip, else the
 * interface's address ("0.0.0.0" before it has one), into out[16]. */
void node_ip(char out[16]);

extern const struct service node_service;

#endif
