/* The peer port (PROTOCOLS.md section 4, BOARD_PORT_PEER): gateway-to-gateway
 * requests signed with node keys, and the client that makes them.
 *
 * Listener: GET /ping answers anyone {"from","mesh_ip","public_key","t"};
 * every other request first passes the verification gate (peer_verify()):
 * a refusal is 401 text/plain "Authentication failed: <reason>". A request
 * that passes goes to the signed route registered for its method and path
 * (peer_route_add()), else 404 {"error":"not_found"}.
 *
 * The registry behind the gate (peers.h) is fed by the static config here
 * (gateway.peers[] with a public_key, synced on every applied config) and by
 * the heartbeat service from the coordinator's active nodes. */
#ifndef PEER_H
#define PEER_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "peer/peers.h"

#define PEER_ROUTES_MAX   8          /* signed routes other modules may add */
#define PEER_TIMEOUT_MS   5000       /* a peer request's whole budget (section 4) */

/* A signed route's handler: like an http_handler, answering exactly once,
 * with from the verified sender (valid during the call). */
typedef void (*peer_handler)(struct http_conn *c, const struct http_request *req,
                             const char *body, size_t len, const struct peer *from);

/* Adds a signed route on the peer port (path exact, or a prefix ending in
 * '*', as http_route). path must live as long as the firmware. 0, or
 * MG_ERR_NOSPC when PEER_ROUTES_MAX are taken. */
int peer_route_add(enum http_method method, const char *path, peer_handler h);

/* Adds a route whose handler authenticates the request itself: the gate
 * passes it through unverified, and the handler answers its own refusals.
 * For mailbox replication (PROTOCOLS.md 5), whose pushes carry either
 * X-Peer-HMAC or section 4 signatures (peer_verify()). Same path rules and
 * table as peer_route_add(). */
int peer_route_add_self(enum http_method method, const char *path, http_handler h);

/* The verification gate on its own (for a handler on another listener
 * that also takes section 4 signatures): 0 with *from the registry entry of
 * the verified sender, whose last_seen is updated; or MG_ERR_AUTH with
 * *reason ("unknown peer", "invalid signature", ...). */
int peer_verify(const struct http_request *req, const char *body, size_t len, int64_t now_ms,
                const struct peer **from, const char **reason);

/* Sends a signed request (X-Nara-* by this node, a digest with a body) to
 * the registry's peer peer_name at its peer port, path possibly with a
 * query; JSON body when len > 0. done(ctx, ...) is called exactly once from
 * a later pass, within PEER_TIMEOUT_MS. 0; MG_ERR_NOENT for a peer not in
 * the registry; otherwise an error from signing or http_client_start()
 * (MG_ERR_NOSPC: every client slot busy) and done is never called. */
int peer_request(const char *peer_name, const char *method, const char *path, const void *body,
                 size_t len, http_client_done done, void *ctx);

extern const struct service peer_service;

#endif
