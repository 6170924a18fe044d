/* The coordinator's HTTP API (PROTOCOLS.md 3) as a function of a request:
 * method, path, query and body in, status and JSON body out. It reads and
 * changes the registry and verifies signatures; it knows nothing of
 * connections (coord.c puts it on the port), so tests and the fuzz target
 * call it directly.
 *
 * Answers, beyond the reference's (all {"error":"..."} with status):
 *   400 "Invalid JSON body"       body not one JSON object (or one of more
 *                                 than 128 values: no request needs them)
 *   400 "Missing required fields" a required string absent, null, empty or
 *                                 not a string (as the reference's !field)
 *   400 "Invalid <field>"         present but not in the accepted form: ids
 *                                 and host names 1..63 of
 *                                 [A-Za-z0-9._-], keys "ed25519_" + 64 hex,
 *                                 tailscaleIP 2..45 of [0-9A-Fa-f.:],
 *                                 services [{type, port 1..65535,
 *                                 publicKey?}] of at most
 *                                 BOARD_COORD_SERVICES ("Too many services")
 *   400 "Timestamp too old or invalid"  also a heartbeat whose timestamp is
 *                                 not newer than the node's last accepted
 *                                 one (a replay)
 *   400 "Invalid status"          GET /nodes?status= other than pending,
 *                                 active, offline, denied
 *   401 "Invalid signature"       absent, malformed or wrong signature
 *   403 "Unauthorized - not a sovereign key"  approverPublicKey absent,
 *                                 malformed or not a sovereign
 *   404 "Node not found"          GET /nodes/:id; "Not found" other paths
 *   409 "Sovereign key already exists"
 *   503 "registry_full"           the table is full; nothing changed
 *   503 "registry_unavailable"    the registry partition did not mount or a
 *                                 write failed; nothing changed
 * A request changes nothing unless it answers 2xx. */
#ifndef COORD_API_H
#define COORD_API_H

#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "diag/textbuf.h"
#include "net/http_parse.h"

#define COORD_SKEW_MS    60000     /* heartbeat timestamps: |now - ts| at most this */
#define COORD_BODY_MAX   4096      /* bytes of a request body */
/* The longest node object a listing holds (every field at its longest,
 * BOARD_COORD_SERVICES services; a unit test builds it), and so the
 * longest answer: a listing of a full registry. */
#define COORD_NODE_JSON_MAX  1000
#define COORD_ANSWER_MAX     (BOARD_COORD_NODES * (COORD_NODE_JSON_MAX + 1) + 256)

/* Answers method path?query with body (len bytes) at monotonic now_ms and
 * wall-clock wall_ms: the status; the body is in out (out->overflow: it
 * did not fit, nothing else is wrong with the answer). */
int coord_api(enum http_method method, struct http_str path, struct http_str query,
              const char *body, size_t len, uint64_t now_ms, int64_t wall_ms,
              struct textbuf *out);

#endif
