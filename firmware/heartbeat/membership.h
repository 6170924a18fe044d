/* What a member node sends to the coordinator and reads back (PROTOCOLS.md
 * section 3), the bytes only: the heartbeat service does the exchanges.
 * Keys are "ed25519_" + 64 lowercase hex, signatures "ed25519_sig_" + 128
 * hex, and Ed25519 signs SHA-256(message). */
#ifndef MEMBERSHIP_H
#define MEMBERSHIP_H

#include <stddef.h>
#include <stdint.h>

#include "diag/textbuf.h"
#include "peer/peer_auth.h"

#define MEMBERSHIP_SIG_TEXT_LEN (12 + 128)   /* "ed25519_sig_" + hex */

/* The register message, exactly
 *     {"nodeId":N,"publicKey":K,"tailscaleHostname":H}
 * as the reference's JSON.stringify writes it (that key order, no
 * whitespace; PROTOCOLS.md 3), which the coordinator re-creates to check
 * the signature (coord/signing.c). Strings are escaped as JSON; the
 * coordinator takes only plain names ([A-Za-z0-9._-]), where no escape can
 * occur. Into b. */
void membership_register_message(struct textbuf *b, const char *node_name, const char *key,
                                 const char *hostname);

/* "ed25519_sig_" + hex of sign(SHA-256(msg)) into out[MEMBERSHIP_SIG_TEXT_LEN + 1]; 0 or
 * the signer's error. */
int membership_sign(peer_signer sign, const void *msg, size_t len, char *out);

/* The services a node announces: relay, peer, and coordinator when it
 * serves that role; ports from board.h. */
struct membership_node {
    const char *name, *key, *hostname, *ip;   /* key: "ed25519_" + hex */
    int coordinator_role;
};

/* The body of POST /register:
 *   {"nodeId","publicKey","tailscaleHostname","tailscaleIP",
 *    "services":[{"type","port","publicKey"},...],"signature"}
 * the signature over membership_register_message(). 0, MG_ERR_TOOBIG, or
 * the signer's error. */
int membership_register_body(peer_signer sign, const struct membership_node *n, char *out,
                             size_t cap, size_t *len);

/* The body of POST /heartbeat: {"nodeId","tailscaleIP","timestamp","signature"},
 * signed over "heartbeat:<nodeId>:<timestamp>". */
int membership_heartbeat_body(peer_signer sign, const char *node_name, const char *ip,
                              int64_t timestamp_ms, char *out, size_t cap, size_t *len);

/* Reads a GET /nodes answer {"nodes":[{id,public_key,tailscale_ip,status,
 * services:[{type,port,publicKey}]}]} into the registry as coordinator
 * entries (a whole sync: nodes no longer listed are dropped). Nodes named
 * self_name or holding self_key (32 bytes) are left out, as are nodes
 * without a usable IPv4 address or key. The peer port is the "peer"
 * service's, else BOARD_PORT_PEER. *added how many are in the registry
 * from this answer. 0, or MG_ERR_INVAL for an answer that is not such a
 * document (the registry is then untouched). */
int membership_nodes_to_peers(const char *body, size_t len, const char *self_name,
                              const uint8_t self_key[32], int64_t now_ms, size_t *added);

#endif
