/* Signal sessions for the firmware (libsignal-protocol-c, protocol v3, no
 * Kyber): the device's bundle, sessions from a peer's bundle (X3DH), and
 * encrypt / decrypt of the envelope bodies of PROTOCOLS.md section 1 (type
 * 3 prekey, 2 whisper; body standard base64). Keys and sessions live in the
 * keystore (signal_store.h); every call is one operation of the Signal
 * arena (signal_arena.h), which is empty again when it returns.
 *
 * A peer is a name (its relay id) and a device id (1 for most).
 * Errors: MG_ERR_PERM the keystore is not open, or the peer's identity key
 * changed (never replaced silently: signal_session_forget() is the
 * operator's acceptance); MG_ERR_AUTH a bad signature, MAC or message;
 * MG_ERR_CORRUPT the peer's session record is corrupt (it is not made
 * again); MG_ERR_NOENT no session (decrypting a whisper message first) or an
 * unknown prekey; MG_ERR_EXIST a message already decrypted; MG_ERR_TOOBIG a
 * message over BOARD_SIGNAL_MESSAGE_MAX, skipping more than
 * BOARD_SIGNAL_MAX_SKIP messages, or a session that outgrew its slot;
 * MG_ERR_NOSPC the arena or the session slots are full. */
#ifndef SIGNAL_SESSION_H
#define SIGNAL_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "board.h"

#define SIG_MSG_WHISPER 2
#define SIG_MSG_PREKEY  3
/* base64 of the largest message a plaintext of BOARD_SIGNAL_MESSAGE_MAX makes. */
#define SIG_BODY_B64_MAX (((BOARD_SIGNAL_MESSAGE_MAX + 256) + 2) / 3 * 4 + 1)

/* Sets up libsignal over the keystore (which must be open, with the Signal
 * identity and signed prekey present). Call at init, before heap and arena
 * are sealed, and again after the keystore is reopened. */
int signal_session_init(void);

/* The device's bundle as JSON (signal_bundle.h), "id" first when id is not
 * NULL; preKey is the first one-time prekey not yet used, absent when all
 * are. */
int signal_session_bundle_json(const char *id, char *out, size_t cap, size_t *len);

/* Makes a session with the peer from its bundle JSON: its signed prekey
 * signature must verify (MG_ERR_AUTH otherwise, nothing stored). */
int signal_session_from_bundle(const char *name, int32_t device_id, const char *json,
                               size_t len);

/* Encrypts for the peer: *type SIG_MSG_PREKEY until the peer has answered,
 * then SIG_MSG_WHISPER; body_b64 NUL-terminated, *body_len without it. */
int signal_session_encrypt(const char *name, int32_t device_id, const void *plain,
                           size_t len, int *type, char *body_b64, size_t cap,
                           size_t *body_len);

/* Decrypts a message of the peer; a prekey message makes the session. */
int signal_session_decrypt(const char *name, int32_t device_id, int type,
                           const char *body_b64, size_t body_len, void *plain, size_t cap,
                           size_t *plain_len);

/* Deletes the peer's session and trusted identity. */
int signal_session_forget(const char *name, int32_t device_id);

/* The most arena bytes each kind of operation has needed (headers and the
 * library's kept contexts included), and how many ran. */
enum sig_op { SIG_OP_BUNDLE, SIG_OP_FROM_BUNDLE, SIG_OP_ENCRYPT, SIG_OP_DECRYPT_PREKEY,
              SIG_OP_DECRYPT_WHISPER, SIG_OP_COUNT };
struct sig_op_stats {
    size_t high_water[SIG_OP_COUNT];
    unsigned long count[SIG_OP_COUNT];
    unsigned long failed;
};
void signal_session_get_stats(struct sig_op_stats *out);

#endif
