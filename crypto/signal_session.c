#include "signal_session.h"

#include <string.h>

#include <curve.h>
#include <protocol.h>
#include <ratchet.h>
#include <session_builder.h>
#include <session_cipher.h>
#include <session_pre_key.h>
#include <session_record.h>
#include <session_state.h>

#include "keystore.h"
#include "le.h"
#include "mbedtls/base64.h"
#include "mbedtls/platform_util.h"
#include "mg_err.h"
#include "signal_arena.h"
#include "signal_bundle.h"
#include "signal_provider.h"
#include "signal_store.h"
#include "x25519.h"
#include "xeddsa.h"

#define MESSAGE_MAX (BOARD_SIGNAL_MESSAGE_MAX + 256)   /* serialized, with headers */

static signal_context *gctx;
static signal_protocol_store_context *store;
static struct sig_op_stats stats;
static uint8_t message[MESSAGE_MAX];   /* a decoded body */

/* --- one operation ------------------------------------------------------- */

struct op {
    enum sig_op kind;
    signal_protocol_address addr;
};

static int op_begin(struct op *op, enum sig_op kind, const char *name, int32_t device_id)
{
    int rc;

    op->kind = kind;
    op->addr.name = name;
    op->addr.name_len = name ? strlen(name) : 0;
    op->addr.device_id = device_id;
    if (!store)
        return MG_ERR_PERM;
    rc = signal_store_begin(&op->addr);
    if (rc)
        return rc;
    rc = sig_arena_begin();
    if (rc)
        signal_store_abort();
    return rc;
}

/* libsignal's answer in our terms; what a store callback met comes first. */
static int mapped(int sg)
{
    int st = signal_store_error();

    if (sg >= 0)
        return 0;
    if (st)
        return st;
    switch (sg) {
    case SG_ERR_NOMEM:
        return MG_ERR_NOSPC;
    case SG_ERR_UNTRUSTED_IDENTITY:
        return MG_ERR_PERM;
    case SG_ERR_DUPLICATE_MESSAGE:
        return MG_ERR_EXIST;
    case SG_ERR_NO_SESSION:
    case SG_ERR_INVALID_KEY_ID:
        return MG_ERR_NOENT;
    case SG_ERR_INVAL:
        return MG_ERR_INVAL;
    default:   /* bad MAC, message, key, version, protobuf */
        return MG_ERR_AUTH;
    }
}

/* Commits the store when the operation succeeded, and empties the arena. */
static int op_end(struct op *op, int rc)
{
    struct sig_arena_stats a;

    if (rc == 0)
        rc = signal_store_commit();
    else
        signal_store_abort();
    (void)sig_arena_end();   /* a leak is counted in the arena's stats */
    sig_arena_get_stats(&a);
    if (a.op_high_water > stats.high_water[op->kind])
        stats.high_water[op->kind] = a.op_high_water;
    stats.count[op->kind]++;
    if (rc)
        stats.failed++;
    return rc;
}

/* --- init and our bundle ------------------------------------------------- */

int signal_session_init(void)
{
    int rc;

    if (!gctx) {
        /* The library's contexts are kept for good (made before the seal). */
        if (signal_context_create(&gctx, NULL) < 0 ||
            signal_context_set_crypto_provider(gctx, signal_provider()) < 0 ||
            signal_protocol_store_context_create(&store, gctx) < 0)
            return MG_ERR_NOSPC;
        sig_arena_seal();
    }
    rc = signal_store_attach(store, gctx);
    if (rc == 0 && (keystore_state(KS_SIGNAL_IDENTITY) != KS_PRESENT ||
                    keystore_state(KS_SIGNED_PREKEY) != KS_PRESENT))
        rc = MG_ERR_NOENT;
    return rc;
}

/* The first unused one-time prekey: its id and public key. */
static int first_prekey(uint32_t *id, uint8_t pub[SIG_KEY_LEN])
{
    static uint8_t page[KS_MAX_PLAIN];
    size_t len = 0;
    unsigned p;
    int rc = MG_ERR_NOENT;

    for (p = 0; p < KS_PREKEY_PAGES && rc; p++)
        if (keystore_get((uint16_t)(KS_PREKEYS + p), page, sizeof(page), &len) == 0 &&
            page[0] > 0) {
            *id = le32_get(page + 4);
            pub[0] = 0x05;
            x25519_public_key(pub + 1, page + 8);
            rc = 0;
        }
    mbedtls_platform_zeroize(page, sizeof(page));
    return rc;
}

int signal_session_bundle_json(const char *id, char *out, size_t cap, size_t *len)
{
    struct sig_bundle b;
    uint8_t ident[68], spk[140];
    size_t n = 0;
    int rc;

    memset(&b, 0, sizeof(b));
    *len = 0;
    rc = keystore_get(KS_SIGNAL_IDENTITY, ident, sizeof(ident), &n);
    if (rc == 0)
        rc = keystore_get(KS_SIGNED_PREKEY, spk, sizeof(spk), &n);
    if (rc == 0) {
        b.registration_id = le32_get(ident + 64);
        b.device_id = 1;
        b.identity[0] = 0x05;
        memcpy(b.identity + 1, ident + 32, 32);
        b.signed_prekey_id = le32_get(spk);
        b.signed_prekey[0] = 0x05;
        memcpy(b.signed_prekey + 1, spk + 44, 32);
        memcpy(b.signature, spk + 76, SIG_SIG_LEN);
        b.has_prekey = first_prekey(&b.prekey_id, b.prekey) == 0;
        rc = sig_bundle_format(&b, id, out, cap, len);
    }
    mbedtls_platform_zeroize(ident, sizeof(ident));
    mbedtls_platform_zeroize(spk, sizeof(spk));
    stats.count[SIG_OP_BUNDLE]++;
    return rc == MG_ERR_NOENT || rc == MG_ERR_CORRUPT ? MG_ERR_PERM : rc;
}

/* --- a session from a bundle --------------------------------------------- */

static int build_from(const struct sig_bundle *b, const signal_protocol_address *addr)
{
    ec_public_key *ik = NULL, *spk = NULL, *pk = NULL;
    session_pre_key_bundle *bundle = NULL;
    session_builder *builder = NULL;
    int rc = curve_decode_point(&ik, b->identity, SIG_KEY_LEN, gctx);

    if (rc == 0)
        rc = curve_decode_point(&spk, b->signed_prekey, SIG_KEY_LEN, gctx);
    if (rc == 0 && b->has_prekey)
        rc = curve_decode_point(&pk, b->prekey, SIG_KEY_LEN, gctx);
    if (rc == 0)
        rc = session_pre_key_bundle_create(&bundle, b->registration_id, b->device_id,
                                           b->has_prekey ? b->prekey_id : 0, pk,
                                           b->signed_prekey_id, spk, b->signature,
                                           SIG_SIG_LEN, ik);
    if (rc == 0)
        rc = session_builder_create(&builder, store, addr, gctx);
    if (rc == 0)
        rc = session_builder_process_pre_key_bundle(builder, bundle);
    session_builder_free(builder);
    SIGNAL_UNREF(bundle);
    SIGNAL_UNREF(ik);
    SIGNAL_UNREF(spk);
    SIGNAL_UNREF(pk);
    return rc;
}

int signal_session_from_bundle(const char *name, int32_t device_id, const char *json,
                               size_t len)
{
    struct sig_bundle b;
    struct op op;
    int rc = sig_bundle_parse(json, len, &b);

    if (rc)
        return rc;
    /* Strict XEdDSA first (crypto/xeddsa.c refuses what libsignal's own
     * check lets through: a non-canonical S or key). */
    if (xeddsa_verify(b.identity + 1, b.signed_prekey, SIG_KEY_LEN, b.signature) != 0)
        return MG_ERR_AUTH;
    rc = op_begin(&op, SIG_OP_FROM_BUNDLE, name, device_id);
    if (rc)
        return rc;
    return op_end(&op, mapped(build_from(&b, &op.addr)));
}

/* --- messages ------------------------------------------------------------ */

int signal_session_encrypt(const char *name, int32_t device_id, const void *plain,
                           size_t len, int *type, char *body_b64, size_t cap,
                           size_t *body_len)
{
    session_cipher *cipher = NULL;
    ciphertext_message *msg = NULL;
    struct op op;
    int rc;

    *body_len = 0;
    if (len > BOARD_SIGNAL_MESSAGE_MAX)
        return MG_ERR_TOOBIG;
    rc = op_begin(&op, SIG_OP_ENCRYPT, name, device_id);
    if (rc)
        return rc;
    if (signal_store_has_session() != 0) {
        rc = MG_ERR_NOENT;
        goto done;
    }
    rc = mapped(session_cipher_create(&cipher, store, &op.addr, gctx));
    if (rc == 0)
        rc = mapped(session_cipher_encrypt(cipher, plain, len, &msg));
    if (rc == 0) {
        signal_buffer *ser = ciphertext_message_get_serialized(msg);
        *type = ciphertext_message_get_type(msg);
        if (mbedtls_base64_encode((unsigned char *)body_b64, cap, body_len,
                                  signal_buffer_data(ser), signal_buffer_len(ser)) != 0)
            rc = MG_ERR_TOOBIG;
    }
done:
    SIGNAL_UNREF(msg);
    session_cipher_free(cipher);
    return op_end(&op, rc);
}

/* The receiver chain of the peer's ratchet key in any state of the record,
 * or NULL for a chain not seen yet. */
static ratchet_chain_key *chain_of(session_record *rec, ec_public_key *ratchet_key)
{
    session_record_state_node *node;
    session_state *state = session_record_get_state(rec);
    ratchet_chain_key *chain = state ? session_state_get_receiver_chain_key(state, ratchet_key)
                                     : NULL;

    for (node = session_record_get_previous_states_head(rec); node && !chain;
         node = session_record_get_previous_states_next(node))
        chain = session_state_get_receiver_chain_key(
            session_record_get_previous_states_element(node), ratchet_key);
    return chain;
}

/* Refuses a message that would make libsignal derive and keep more than
 * BOARD_SIGNAL_MAX_SKIP message keys (its own limit is 2000 per chain: far
 * more than a session slot or the arena holds). */
static int skip_allowed(const signal_protocol_address *addr, const signal_message *m)
{
    session_record *rec = NULL;
    ratchet_chain_key *chain = NULL;
    uint32_t counter = signal_message_get_counter(m), next = 0;
    int rc = signal_protocol_session_load_session(store, &rec, addr);

    if (rc < 0)
        return mapped(rc);
    chain = chain_of(rec, signal_message_get_sender_ratchet_key(m));
    if (chain)
        next = ratchet_chain_key_get_index(chain);
    SIGNAL_UNREF(rec);   /* the chain is the record's: not ours to release */
    if (counter > next && counter - next > BOARD_SIGNAL_MAX_SKIP)
        return MG_ERR_TOOBIG;
    return 0;
}

static int decrypt_prekey(const struct op *op, size_t n, signal_buffer **out)
{
    pre_key_signal_message *m = NULL;
    session_cipher *cipher = NULL;
    int rc = mapped(pre_key_signal_message_deserialize(&m, message, n, gctx));

    if (rc == 0)
        rc = skip_allowed(&op->addr, pre_key_signal_message_get_signal_message(m));
    if (rc == 0)
        rc = mapped(session_cipher_create(&cipher, store, &op->addr, gctx));
    if (rc == 0)
        rc = mapped(session_cipher_decrypt_pre_key_signal_message(cipher, m, NULL, out));
    session_cipher_free(cipher);
    SIGNAL_UNREF(m);
    return rc;
}

static int decrypt_whisper(const struct op *op, size_t n, signal_buffer **out)
{
    signal_message *m = NULL;
    session_cipher *cipher = NULL;
    int rc = signal_store_has_session();

    if (rc == 0)
        rc = mapped(signal_message_deserialize(&m, message, n, gctx));
    if (rc == 0)
        rc = skip_allowed(&op->addr, m);
    if (rc == 0)
        rc = mapped(session_cipher_create(&cipher, store, &op->addr, gctx));
    if (rc == 0)
        rc = mapped(session_cipher_decrypt_signal_message(cipher, m, NULL, out));
    session_cipher_free(cipher);
    SIGNAL_UNREF(m);
    return rc;
}

int signal_session_decrypt(const char *name, int32_t device_id, int type,
                           const char *body_b64, size_t body_len, void *plain, size_t cap,
                           size_t *plain_len)
{
    signal_buffer *out = NULL;
    struct op op;
    size_t n = 0;
    int rc;

    *plain_len = 0;
    if (type != SIG_MSG_PREKEY && type != SIG_MSG_WHISPER)
        return MG_ERR_INVAL;
    rc = mbedtls_base64_decode(message, sizeof(message), &n, (const unsigned char *)body_b64,
                               body_len);
    if (rc == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL)
        return MG_ERR_TOOBIG;
    if (rc != 0 || n == 0)
        return MG_ERR_INVAL;
    rc = op_begin(&op, type == SIG_MSG_PREKEY ? SIG_OP_DECRYPT_PREKEY : SIG_OP_DECRYPT_WHISPER,
                  name, device_id);
    if (rc)
        return rc;
    rc = type == SIG_MSG_PREKEY ? decrypt_prekey(&op, n, &out) : decrypt_whisper(&op, n, &out);
    if (rc == 0 && signal_buffer_len(out) > cap)
        rc = MG_ERR_TOOBIG;
    if (rc == 0) {
        memcpy(plain, signal_buffer_data(out), signal_buffer_len(out));
        *plain_len = signal_buffer_len(out);
    }
    signal_buffer_bzero_free(out);
    rc = op_end(&op, rc);
    if (rc && *plain_len) {
        /* Not durable, so not delivered: the caller must not act on it. */
        mbedtls_platform_zeroize(plain, *plain_len);
        *plain_len = 0;
    }
    return rc;
}

int signal_session_forget(const char *name, int32_t device_id)
{
    return signal_store_forget(name, device_id);
}

void signal_session_get_stats(struct sig_op_stats *out)
{
    *out = stats;
}
