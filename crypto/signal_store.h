/* libsignal's stores over the keystore (crypto/keystore.h):
 *   identity      our pair from KS_SIGNAL_IDENTITY; a peer's identity is
 *                 trusted on first use and kept with its session; a changed
 *                 key for a known peer is not trusted (never replaced here)
 *   pre keys      the one-time prekeys of the KS_PREKEYS pages; one used by
 *                 a peer is removed from its page
 *   signed prekey KS_SIGNED_PREKEY
 *   sessions      one keystore slot per peer (KS_SESSIONS + i, at most
 *                 BOARD_SIGNAL_SESSIONS), holding the peer's address, its
 *                 identity and the serialized session record
 *
 * A Signal operation concerns one peer. Its store calls work on a staged
 * copy of that peer's slot; signal_store_commit() writes it in one record
 * (so identity and session change together, power-cut safe as every
 * keystore record is) and only then removes a used one-time prekey.
 * signal_store_abort() forgets the staged changes. */
#ifndef SIGNAL_STORE_H
#define SIGNAL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <signal_protocol.h>

#include "board.h"
#include "keystore.h"

#define SIG_NAME_MAX    64   /* bytes of a peer's name (a relay id) */
#define SIG_IDENTITY_LEN 33  /* a serialized Curve25519 public key: 0x05 || 32 */
/* The largest serialized session record a slot holds. */
#define SIG_SESSION_MAX (KS_MAX_PLAIN - KS_SESSION_HEAD - SIG_NAME_MAX - SIG_IDENTITY_LEN)

/* Reads the slots' addresses (the keystore must be open) and installs the
 * stores in ctx. MG_ERR_PERM if the keystore is not open. A corrupt slot is
 * remembered: an operation on a peer not found in a good slot then fails
 * with MG_ERR_CORRUPT, since that peer's session may be the corrupt one. */
int signal_store_attach(signal_protocol_store_context *ctx, signal_context *global);

/* Stages addr's slot for the operation about to run: 0, MG_ERR_CORRUPT (its
 * slot, or possibly its slot, is corrupt), MG_ERR_INVAL (a bad name). */
int signal_store_begin(const signal_protocol_address *addr);

/* Writes what the operation changed: 0, MG_ERR_NOSPC (no free slot),
 * MG_ERR_IO. Always ends the staging. */
int signal_store_commit(void);
void signal_store_abort(void);

/* The first error a store callback met during the operation (0 if none):
 * MG_ERR_TOOBIG (the session outgrew its slot), MG_ERR_PERM (identity
 * changed), MG_ERR_CORRUPT, MG_ERR_IO. */
int signal_store_error(void);

/* The staged peer has a session, and its trusted identity (33 bytes); 0 /
 * MG_ERR_NOENT. */
int signal_store_has_session(void);
int signal_store_identity(uint8_t out[SIG_IDENTITY_LEN]);

/* Forgets a peer: its slot is deleted (an operator's acceptance of a new
 * identity). MG_ERR_NOENT if there is none. */
int signal_store_forget(const char *name, int32_t device_id);

/* Slots in use, and the size of the largest session record written. */
void signal_store_usage(size_t *slots_used, size_t *largest_session);

#endif
