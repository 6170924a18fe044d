#include "signal_store.h"

#include <string.h>

#include <curve.h>
#include <session_pre_key.h>
#include <session_record.h>

#include "le.h"
#include "mbedtls/platform_util.h"
#include "mg_err.h"
#include "x25519.h"

#define SLOT_VERSION 1

enum slot_state { SLOT_FREE, SLOT_USED, SLOT_CORRUPT };

/* What is known of each slot without decrypting it again. */
struct slot_index {
    uint8_t state;                 /* enum slot_state */
    uint8_t name_len;
    int32_t device_id;
    char name[SIG_NAME_MAX];
};

/* One peer's slot while an operation runs on it. */
struct staged {
    int active, dirty;
    int slot;                      /* -1: not yet written */
    int32_t device_id;
    size_t name_len, identity_len, session_len;
    char name[SIG_NAME_MAX];
    uint8_t identity[SIG_IDENTITY_LEN];
    uint8_t session[KS_MAX_PLAIN];
    uint32_t remove_prekey;        /* a one-time prekey used by the operation; 0 none */
    int error;
};

static struct slot_index slots[BOARD_SIGNAL_SESSIONS];
static struct staged st;
static uint8_t slot_plain[KS_MAX_PLAIN];
static size_t largest_session;
static signal_context *gctx;

static uint16_t slot_id(int i)
{
    return (uint16_t)(KS_SESSIONS + i);
}

static void note_error(int err)
{
    if (!st.error)
        st.error = err;
}

/* --- slots --------------------------------------------------------------- */

/* Reads slot i into st (when into is set) and its index entry. */
static int read_slot(int i, int into)
{
    size_t len = 0, name_len, id_len, sess_len;
    int rc = keystore_get(slot_id(i), slot_plain, sizeof(slot_plain), &len);

    if (rc == MG_ERR_NOENT) {
        slots[i].state = SLOT_FREE;
        return rc;
    }
    /* keystore_get() checked the lengths (keystore.c verify()). */
    if (rc != 0 || len < KS_SESSION_HEAD || slot_plain[1] > SIG_NAME_MAX) {
        slots[i].state = SLOT_CORRUPT;
        mbedtls_platform_zeroize(slot_plain, sizeof(slot_plain));
        return MG_ERR_CORRUPT;
    }
    name_len = slot_plain[1];
    id_len = slot_plain[2];
    sess_len = (size_t)(slot_plain[8] | slot_plain[9] << 8);
    slots[i].state = SLOT_USED;
    slots[i].name_len = (uint8_t)name_len;
    slots[i].device_id = (int32_t)le32_get(slot_plain + 4);
    memcpy(slots[i].name, slot_plain + KS_SESSION_HEAD, name_len);
    if (into) {
        st.slot = i;
        st.device_id = slots[i].device_id;
        st.name_len = name_len;
        memcpy(st.name, slots[i].name, name_len);
        st.identity_len = id_len;
        memcpy(st.identity, slot_plain + KS_SESSION_HEAD + name_len, id_len);
        st.session_len = sess_len;
        memcpy(st.session, slot_plain + KS_SESSION_HEAD + name_len + id_len, sess_len);
    }
    mbedtls_platform_zeroize(slot_plain, sizeof(slot_plain));
    return 0;
}

static int find_slot(const char *name, size_t name_len, int32_t device_id)
{
    int i;

    for (i = 0; i < BOARD_SIGNAL_SESSIONS; i++)
        if (slots[i].state == SLOT_USED && slots[i].device_id == device_id &&
            slots[i].name_len == name_len && memcmp(slots[i].name, name, name_len) == 0)
            return i;
    return -1;
}

static int any_corrupt(void)
{
    int i;

    for (i = 0; i < BOARD_SIGNAL_SESSIONS; i++)
        if (slots[i].state == SLOT_CORRUPT)
            return 1;
    return 0;
}

/* Session bytes the staged slot can hold with its name and identity. */
static size_t session_room(void)
{
    return KS_MAX_PLAIN - KS_SESSION_HEAD - st.name_len - SIG_IDENTITY_LEN;
}

static int is_staged(const signal_protocol_address *a)
{
    return st.active && a->device_id == st.device_id && a->name_len == st.name_len &&
           memcmp(a->name, st.name, st.name_len) == 0;
}

/* The keystore's table is the truth (an operator may have reset a slot
 * from the console): the index follows it. */
static void refresh_index(void)
{
    int i;

    for (i = 0; i < BOARD_SIGNAL_SESSIONS; i++) {
        enum ks_state ks = keystore_state(slot_id(i));
        if ((ks == KS_MISSING) != (slots[i].state == SLOT_FREE) ||
            (ks == KS_CORRUPT) != (slots[i].state == SLOT_CORRUPT))
            (void)read_slot(i, 0);
    }
}

int signal_store_begin(const signal_protocol_address *a)
{
    int i;

    refresh_index();
    memset(&st, 0, sizeof(st));
    st.slot = -1;
    if (!a->name || a->name_len == 0 || a->name_len > SIG_NAME_MAX)
        return MG_ERR_INVAL;
    i = find_slot(a->name, a->name_len, a->device_id);
    if (i >= 0) {
        int rc = read_slot(i, 1);
        if (rc)
            return rc;
    } else if (any_corrupt()) {
        return MG_ERR_CORRUPT;   /* this peer's session may be the corrupt one */
    } else {
        st.device_id = a->device_id;
        st.name_len = a->name_len;
        memcpy(st.name, a->name, a->name_len);
    }
    st.active = 1;
    return 0;
}

static int free_slot(void)
{
    int i;

    for (i = 0; i < BOARD_SIGNAL_SESSIONS; i++)
        if (slots[i].state == SLOT_FREE)
            return i;
    return -1;
}

/* Takes one prekey out of its page. */
static int remove_prekey_now(uint32_t id)
{
    static uint8_t page[KS_MAX_PLAIN];
    size_t len = 0;
    unsigned p, k;
    int rc = MG_ERR_NOENT;

    for (p = 0; p < KS_PREKEY_PAGES && rc == MG_ERR_NOENT; p++) {
        if (keystore_get((uint16_t)(KS_PREKEYS + p), page, sizeof(page), &len) != 0)
            continue;
        for (k = 0; k < page[0]; k++) {
            uint8_t *e = page + 4 + k * 36;
            if (le32_get(e) != id)
                continue;
            memmove(e, e + 36, (size_t)(page[0] - k - 1) * 36);
            page[0]--;
            rc = keystore_put((uint16_t)(KS_PREKEYS + p), page, 4 + (size_t)page[0] * 36);
            break;
        }
    }
    mbedtls_platform_zeroize(page, sizeof(page));
    return rc;
}

int signal_store_commit(void)
{
    size_t len;
    int rc = 0, slot = st.slot;

    if (!st.active)
        return MG_ERR_PERM;
    if (st.dirty) {
        if (slot < 0)
            slot = free_slot();
        if (slot < 0) {
            signal_store_abort();
            return MG_ERR_NOSPC;
        }
        memset(slot_plain, 0, KS_SESSION_HEAD);
        slot_plain[0] = SLOT_VERSION;
        slot_plain[1] = (uint8_t)st.name_len;
        slot_plain[2] = (uint8_t)st.identity_len;
        le32_put(slot_plain + 4, (uint32_t)st.device_id);
        slot_plain[8] = (uint8_t)st.session_len;
        slot_plain[9] = (uint8_t)(st.session_len >> 8);
        len = KS_SESSION_HEAD;
        memcpy(slot_plain + len, st.name, st.name_len);
        len += st.name_len;
        memcpy(slot_plain + len, st.identity, st.identity_len);
        len += st.identity_len;
        memcpy(slot_plain + len, st.session, st.session_len);
        len += st.session_len;
        rc = keystore_put(slot_id(slot), slot_plain, len);
        mbedtls_platform_zeroize(slot_plain, sizeof(slot_plain));
        if (rc == 0) {
            slots[slot].state = SLOT_USED;
            slots[slot].name_len = (uint8_t)st.name_len;
            slots[slot].device_id = st.device_id;
            memcpy(slots[slot].name, st.name, st.name_len);
            if (st.session_len > largest_session)
                largest_session = st.session_len;
        }
    }
    /* After the session is durable: a cut in between leaves the prekey
     * usable once more, never a session that needs a prekey that is gone. */
    if (rc == 0 && st.remove_prekey)
        rc = remove_prekey_now(st.remove_prekey);
    signal_store_abort();
    return rc;
}

void signal_store_abort(void)
{
    mbedtls_platform_zeroize(&st, sizeof(st));
    st.slot = -1;
}

int signal_store_error(void)
{
    return st.error;
}

int signal_store_has_session(void)
{
    return st.active && st.session_len ? 0 : MG_ERR_NOENT;
}

int signal_store_identity(uint8_t out[SIG_IDENTITY_LEN])
{
    if (!st.active || st.identity_len != SIG_IDENTITY_LEN)
        return MG_ERR_NOENT;
    memcpy(out, st.identity, SIG_IDENTITY_LEN);
    return 0;
}

int signal_store_forget(const char *name, int32_t device_id)
{
    int i = find_slot(name, strlen(name), device_id);
    int rc;

    if (i < 0)
        return MG_ERR_NOENT;
    rc = keystore_reset(slot_id(i));
    if (rc == 0)
        slots[i].state = SLOT_FREE;
    return rc;
}

void signal_store_usage(size_t *slots_used, size_t *largest)
{
    size_t n = 0;
    int i;

    for (i = 0; i < BOARD_SIGNAL_SESSIONS; i++)
        n += slots[i].state != SLOT_FREE;
    *slots_used = n;
    *largest = largest_session;
}

/* --- identity key store -------------------------------------------------- */

static int get_identity_key_pair(signal_buffer **public_data, signal_buffer **private_data,
                                 void *user_data)
{
    uint8_t ident[68], pub[SIG_IDENTITY_LEN];
    size_t len = 0;
    int rc = keystore_get(KS_SIGNAL_IDENTITY, ident, sizeof(ident), &len);

    (void)user_data;
    if (rc != 0 || len != sizeof(ident)) {
        note_error(rc ? rc : MG_ERR_CORRUPT);
        return SG_ERR_INVALID_KEY;
    }
    pub[0] = 0x05;   /* libsignal's type byte for Curve25519 keys */
    memcpy(pub + 1, ident + 32, 32);
    *public_data = signal_buffer_create(pub, sizeof(pub));
    *private_data = signal_buffer_create(ident, 32);
    mbedtls_platform_zeroize(ident, sizeof(ident));
    if (!*public_data || !*private_data) {
        signal_buffer_free(*public_data);
        signal_buffer_bzero_free(*private_data);
        return SG_ERR_NOMEM;
    }
    return 0;
}

static int get_local_registration_id(void *user_data, uint32_t *registration_id)
{
    uint8_t ident[68];
    size_t len = 0;
    int rc = keystore_get(KS_SIGNAL_IDENTITY, ident, sizeof(ident), &len);

    (void)user_data;
    *registration_id = rc == 0 && len == sizeof(ident) ? le32_get(ident + 64) : 0;
    mbedtls_platform_zeroize(ident, sizeof(ident));
    if (rc != 0)
        note_error(rc);
    return rc == 0 ? 0 : SG_ERR_INVALID_KEY;
}

static int save_identity(const signal_protocol_address *a, uint8_t *key, size_t len,
                         void *user_data)
{
    (void)user_data;
    if (!is_staged(a))
        return SG_ERR_INVAL;
    if (key && len != SIG_IDENTITY_LEN)
        return SG_ERR_INVALID_KEY;
    /* Only ever reached for a trusted key: the first, or the same one. */
    if (st.identity_len == SIG_IDENTITY_LEN && key &&
        memcmp(st.identity, key, SIG_IDENTITY_LEN) == 0)
        return 0;
    st.identity_len = key ? SIG_IDENTITY_LEN : 0;
    if (key)
        memcpy(st.identity, key, SIG_IDENTITY_LEN);
    st.dirty = 1;
    return 0;
}

static int is_trusted_identity(const signal_protocol_address *a, uint8_t *key, size_t len,
                               void *user_data)
{
    (void)user_data;
    if (!is_staged(a))
        return SG_ERR_INVAL;
    if (st.identity_len == 0)
        return 1;   /* trust on first use */
    if (len == SIG_IDENTITY_LEN && memcmp(st.identity, key, len) == 0)
        return 1;
    note_error(MG_ERR_PERM);
    return 0;
}

/* --- pre key stores ------------------------------------------------------ */

/* A key pair from a private key, the way libsignal keeps it. */
static int key_pair_of(const uint8_t priv[32], ec_key_pair **pair)
{
    ec_private_key *sk = NULL;
    ec_public_key *pk = NULL;
    int rc = curve_decode_private_point(&sk, priv, 32, gctx);

    if (rc == 0)
        rc = curve_generate_public_key(&pk, sk);
    if (rc == 0)
        rc = ec_key_pair_create(pair, pk, sk);
    SIGNAL_UNREF(sk);
    SIGNAL_UNREF(pk);
    return rc;
}

/* Finds one-time prekey id: its private key, or MG_ERR_NOENT. */
static int find_prekey(uint32_t id, uint8_t priv[32])
{
    static uint8_t page[KS_MAX_PLAIN];
    size_t len = 0;
    unsigned p, k;
    int rc = MG_ERR_NOENT;

    for (p = 0; p < KS_PREKEY_PAGES && rc == MG_ERR_NOENT; p++) {
        if (keystore_get((uint16_t)(KS_PREKEYS + p), page, sizeof(page), &len) != 0)
            continue;
        for (k = 0; k < page[0]; k++)
            if (le32_get(page + 4 + k * 36) == id) {
                memcpy(priv, page + 8 + k * 36, 32);
                rc = 0;
                break;
            }
    }
    mbedtls_platform_zeroize(page, sizeof(page));
    return rc;
}

static int load_pre_key(signal_buffer **record, uint32_t id, void *user_data)
{
    uint8_t priv[32];
    ec_key_pair *pair = NULL;
    session_pre_key *key = NULL;
    int rc;

    (void)user_data;
    /* The removal is staged: until commit the key still reads as there. */
    if (id == 0 || id == st.remove_prekey || find_prekey(id, priv) != 0)
        return SG_ERR_INVALID_KEY_ID;
    rc = key_pair_of(priv, &pair);
    mbedtls_platform_zeroize(priv, sizeof(priv));
    if (rc == 0)
        rc = session_pre_key_create(&key, id, pair);
    if (rc == 0)
        rc = session_pre_key_serialize(record, key);
    SIGNAL_UNREF(pair);
    SIGNAL_UNREF(key);
    return rc < 0 ? rc : SG_SUCCESS;
}

static int store_pre_key(uint32_t id, uint8_t *record, size_t len, void *user_data)
{
    (void)id;
    (void)record;
    (void)len;
    (void)user_data;
    return SG_ERR_INVAL;   /* prekeys are made by the keystore, not by libsignal */
}

static int contains_pre_key(uint32_t id, void *user_data)
{
    uint8_t priv[32];
    int found = id != 0 && id != st.remove_prekey && find_prekey(id, priv) == 0;

    (void)user_data;
    mbedtls_platform_zeroize(priv, sizeof(priv));
    return found;
}

static int remove_pre_key(uint32_t id, void *user_data)
{
    (void)user_data;
    st.remove_prekey = id;
    return 0;
}

static int load_signed_pre_key(signal_buffer **record, uint32_t id, void *user_data)
{
    uint8_t spk[140];
    size_t len = 0;
    ec_key_pair *pair = NULL;
    session_signed_pre_key *key = NULL;
    int rc = keystore_get(KS_SIGNED_PREKEY, spk, sizeof(spk), &len);

    (void)user_data;
    if (rc != 0 || len != sizeof(spk) || le32_get(spk) != id) {
        mbedtls_platform_zeroize(spk, sizeof(spk));
        return SG_ERR_INVALID_KEY_ID;
    }
    rc = key_pair_of(spk + 12, &pair);
    if (rc == 0)
        rc = session_signed_pre_key_create(&key, id,
                                           le32_get(spk + 4) | (uint64_t)le32_get(spk + 8) << 32,
                                           pair, spk + 76, 64);
    if (rc == 0)
        rc = session_signed_pre_key_serialize(record, key);
    mbedtls_platform_zeroize(spk, sizeof(spk));
    SIGNAL_UNREF(pair);
    SIGNAL_UNREF(key);
    return rc < 0 ? rc : SG_SUCCESS;
}

static int store_signed_pre_key(uint32_t id, uint8_t *record, size_t len, void *user_data)
{
    (void)id;
    (void)record;
    (void)len;
    (void)user_data;
    return SG_ERR_INVAL;
}

static int contains_signed_pre_key(uint32_t id, void *user_data)
{
    uint8_t spk[140];
    size_t len = 0;
    int found = keystore_get(KS_SIGNED_PREKEY, spk, sizeof(spk), &len) == 0 &&
                len == sizeof(spk) && le32_get(spk) == id;

    (void)user_data;
    mbedtls_platform_zeroize(spk, sizeof(spk));
    return found;
}

static int remove_signed_pre_key(uint32_t id, void *user_data)
{
    (void)id;
    (void)user_data;
    return SG_ERR_INVAL;   /* rotation is the keystore's (keys reset) */
}

/* --- session store ------------------------------------------------------- */

static int load_session(signal_buffer **record, signal_buffer **user_record,
                        const signal_protocol_address *a, void *user_data)
{
    (void)user_record;
    (void)user_data;
    if (!is_staged(a))
        return SG_ERR_INVAL;
    if (st.session_len == 0)
        return 0;
    *record = signal_buffer_create(st.session, st.session_len);
    return *record ? 1 : SG_ERR_NOMEM;
}

static int get_sub_device_sessions(signal_int_list **sessions, const char *name,
                                   size_t name_len, void *user_data)
{
    signal_int_list *list = signal_int_list_alloc();
    int i, n = 0;

    (void)user_data;
    if (!list)
        return SG_ERR_NOMEM;
    for (i = 0; i < BOARD_SIGNAL_SESSIONS; i++)
        if (slots[i].state == SLOT_USED && slots[i].name_len == name_len &&
            memcmp(slots[i].name, name, name_len) == 0) {
            if (signal_int_list_push_back(list, slots[i].device_id) < 0) {
                signal_int_list_free(list);
                return SG_ERR_NOMEM;
            }
            n++;
        }
    *sessions = list;
    return n;
}

/* Drops archived states (oldest first) until the record fits: they only
 * serve late messages of a replaced session. 0 with *out set, 1 when even
 * the current state alone does not fit, or an SG_ERR_* code. */
static int shrink_record(const uint8_t *data, size_t len, size_t room, signal_buffer **out)
{
    session_record *rec = NULL;
    signal_buffer *buf = NULL;
    int rc = session_record_deserialize(&rec, data, len, gctx);

    while (rc == 0) {
        session_record_state_node *node = session_record_get_previous_states_head(rec), *last;
        signal_buffer_free(buf);
        buf = NULL;
        rc = session_record_serialize(&buf, rec);
        if (rc < 0 || signal_buffer_len(buf) <= room)
            break;
        if (!node) {
            rc = 1;
            break;
        }
        for (last = node; session_record_get_previous_states_next(last);)
            last = session_record_get_previous_states_next(last);
        session_record_get_previous_states_remove(rec, last);
    }
    SIGNAL_UNREF(rec);
    if (rc != 0) {
        signal_buffer_free(buf);
        return rc;
    }
    *out = buf;
    return 0;
}

static int store_session(const signal_protocol_address *a, uint8_t *record, size_t len,
                         uint8_t *user_record, size_t user_len, void *user_data)
{
    signal_buffer *small = NULL;
    int rc;

    (void)user_record;
    (void)user_len;
    (void)user_data;
    if (!is_staged(a))
        return SG_ERR_INVAL;
    if (len > session_room()) {
        rc = shrink_record(record, len, session_room(), &small);
        if (rc != 0) {
            note_error(rc == 1 ? MG_ERR_TOOBIG : MG_ERR_CRYPTO);
            return rc == 1 ? SG_ERR_NOMEM : rc;
        }
        record = signal_buffer_data(small);
        len = signal_buffer_len(small);
    }
    memcpy(st.session, record, len);
    st.session_len = len;
    st.dirty = 1;
    signal_buffer_bzero_free(small);
    return 0;
}

static int contains_session(const signal_protocol_address *a, void *user_data)
{
    (void)user_data;
    if (!is_staged(a))
        return SG_ERR_INVAL;
    return st.session_len != 0;
}

static int delete_session(const signal_protocol_address *a, void *user_data)
{
    (void)user_data;
    if (!is_staged(a))
        return SG_ERR_INVAL;
    st.session_len = 0;
    st.dirty = 1;
    return 1;
}

static int delete_all_sessions(const char *name, size_t name_len, void *user_data)
{
    (void)name;
    (void)name_len;
    (void)user_data;
    return SG_ERR_INVAL;   /* not used by the operations we run */
}

int signal_store_attach(signal_protocol_store_context *ctx, signal_context *global)
{
    static const signal_protocol_session_store sessions = {
        load_session, get_sub_device_sessions, store_session, contains_session,
        delete_session, delete_all_sessions, NULL, NULL,
    };
    static const signal_protocol_pre_key_store pre_keys = {
        load_pre_key, store_pre_key, contains_pre_key, remove_pre_key, NULL, NULL,
    };
    static const signal_protocol_signed_pre_key_store signed_pre_keys = {
        load_signed_pre_key, store_signed_pre_key, contains_signed_pre_key,
        remove_signed_pre_key, NULL, NULL,
    };
    static const signal_protocol_identity_key_store identity = {
        get_identity_key_pair, get_local_registration_id, save_identity,
        is_trusted_identity, NULL, NULL,
    };
    int i;

    if (keystore_status() != KS_OK)
        return MG_ERR_PERM;
    gctx = global;
    signal_store_abort();
    largest_session = 0;
    for (i = 0; i < BOARD_SIGNAL_SESSIONS; i++)
        (void)read_slot(i, 0);
    if (signal_protocol_store_context_set_session_store(ctx, &sessions) < 0 ||
        signal_protocol_store_context_set_pre_key_store(ctx, &pre_keys) < 0 ||
        signal_protocol_store_context_set_signed_pre_key_store(ctx, &signed_pre_keys) < 0 ||
        signal_protocol_store_context_set_identity_key_store(ctx, &identity) < 0)
        return MG_ERR_CRYPTO;
    return 0;
}
