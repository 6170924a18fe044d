/* Signal sessions: the firmware's identity (through the keystore and the
 * session API) and a second party made here with libsignal directly over
 * in-memory stores do X3DH from bundles and exchange prekey and whisper
 * messages both ways; what must be refused is refused; sessions survive a
 * reboot; every operation leaves the Signal arena empty and the heap alone
 * (the runner fails a test that allocates). */
#include <stdio.h>
#include <string.h>

#include <curve.h>
#include <protocol.h>
#include <session_builder.h>
#include <session_cipher.h>
#include <session_pre_key.h>
#include <signal_protocol.h>

#include "board.h"
#include "clock.h"
#include "crypto.h"
#include "flash.h"
#include "flash_image.h"
#include "keystore.h"
#include "mbedtls/aes.h"
#include "mbedtls/base64.h"
#include "mbedtls/sha512.h"
#include "mg_err.h"
#include "signal_arena.h"
#include "signal_bundle.h"
#include "signal_provider.h"
#include "signal_session.h"
#include "signal_store.h"
#include "store/recstore.h"
#include "sys.h"
#include "test.h"
#include "x25519.h"
#include "xeddsa.h"

#define GW    "meshgate"     /* how the peer calls the firmware */
#define BOB   "sysmaint"     /* how the firmware calls the peer */
#define ITER  1000

/* --- the arena stays empty ---------------------------------------------- */

static size_t kept;   /* the library's contexts, after signal_session_init() */
static unsigned long leaks, refused;   /* the arena's counts at boot (its own tests
                                          leak and overflow on purpose) */

static int arena_is_empty(void)
{
    struct sig_arena_stats a;

    sig_arena_get_stats(&a);
    return a.used == sig_arena_kept() && a.leaks == leaks && a.used == kept;
}

/* --- the firmware side ---------------------------------------------------- */

static struct hal_device_secret secret;

static int boot(void)
{
    struct sig_arena_stats a;
    int made = 0, rc;

    memset(&secret, 0, sizeof(secret));
    secret.kind = HAL_SECRET_KEY;
    memset(secret.key, 0x3C, sizeof(secret.key));
    rc = keystore_open(hal_flash_part("keys"), &secret, ITER);
    if (rc == 0)
        rc = keystore_generate_missing(&made);
    if (rc == 0)
        rc = signal_session_init();
    kept = sig_arena_kept();
    sig_arena_get_stats(&a);
    leaks = a.leaks;
    refused = a.refused;
    return rc;
}

static int reboot(void)
{
    hal_flash_close();
    if (hal_flash_open(flash_image_path()) != 0)
        return MG_ERR_IO;
    return boot();
}

/* A message on the wire: type and base64 body. */
struct wire {
    int type;
    size_t len;
    char body[SIG_BODY_B64_MAX];
};

static int gw_send(const char *text, struct wire *w)
{
    return signal_session_encrypt(BOB, 1, text, strlen(text), &w->type, w->body,
                                  sizeof(w->body), &w->len);
}

static int gw_recv(const struct wire *w, char *text, size_t cap)
{
    size_t n = 0;
    int rc = signal_session_decrypt(BOB, 1, w->type, w->body, w->len, text, cap - 1, &n);

    text[n] = '\0';
    return rc;
}

/* --- the peer: libsignal directly, stores in memory ---------------------- */

struct peer {
    uint8_t ident_priv[32], ident_pub[33];
    uint32_t reg_id;
    uint32_t spk_id;
    uint8_t spk_priv[32], spk_pub[33], spk_sig[64];
    uint32_t pk_id;
    uint8_t pk_priv[32], pk_pub[33];
    int pk_used;
    uint8_t trusted[33];
    int has_trusted;
    uint8_t session[8192];
    size_t session_len;
};

static struct peer bob, bob2;

static void key_pair(uint8_t priv[32], uint8_t pub[33])
{
    mg_random(priv, 32);
    x25519_clamp(priv);
    pub[0] = 0x05;
    x25519_public_key(pub + 1, priv);
}

static void peer_make(struct peer *p, uint32_t reg_id)
{
    uint8_t rnd[64];

    memset(p, 0, sizeof(*p));
    key_pair(p->ident_priv, p->ident_pub);
    p->reg_id = reg_id;
    p->spk_id = 7;
    key_pair(p->spk_priv, p->spk_pub);
    mg_random(rnd, sizeof(rnd));
    xeddsa_sign(p->ident_priv, p->spk_pub, 33, rnd, p->spk_sig);
    p->pk_id = 42;
    key_pair(p->pk_priv, p->pk_pub);
}

static int peer_bundle(const struct peer *p, char *out, size_t cap)
{
    struct sig_bundle b;
    size_t len;

    memset(&b, 0, sizeof(b));
    b.registration_id = p->reg_id;
    b.device_id = 1;
    memcpy(b.identity, p->ident_pub, 33);
    b.signed_prekey_id = p->spk_id;
    memcpy(b.signed_prekey, p->spk_pub, 33);
    memcpy(b.signature, p->spk_sig, 64);
    b.has_prekey = 1;
    b.prekey_id = p->pk_id;
    memcpy(b.prekey, p->pk_pub, 33);
    return sig_bundle_format(&b, BOB, out, cap, &len);
}

static int p_identity(signal_buffer **pub, signal_buffer **priv, void *u)
{
    struct peer *p = u;

    *pub = signal_buffer_create(p->ident_pub, 33);
    *priv = signal_buffer_create(p->ident_priv, 32);
    return 0;
}

static int p_reg_id(void *u, uint32_t *id)
{
    *id = ((struct peer *)u)->reg_id;
    return 0;
}

static int p_save_identity(const signal_protocol_address *a, uint8_t *key, size_t len, void *u)
{
    struct peer *p = u;

    (void)a;
    if (len != 33)
        return SG_ERR_INVAL;
    memcpy(p->trusted, key, 33);
    p->has_trusted = 1;
    return 0;
}

static int p_is_trusted(const signal_protocol_address *a, uint8_t *key, size_t len, void *u)
{
    struct peer *p = u;

    (void)a;
    return !p->has_trusted || (len == 33 && memcmp(p->trusted, key, 33) == 0);
}

static int serialized_pair(const uint8_t priv[32], ec_key_pair **pair, signal_context *g)
{
    ec_private_key *sk = NULL;
    ec_public_key *pk = NULL;
    int rc = curve_decode_private_point(&sk, priv, 32, g);

    if (rc == 0)
        rc = curve_generate_public_key(&pk, sk);
    if (rc == 0)
        rc = ec_key_pair_create(pair, pk, sk);
    SIGNAL_UNREF(sk);
    SIGNAL_UNREF(pk);
    return rc;
}

static signal_context *peer_gctx;

static int p_load_pre_key(signal_buffer **rec, uint32_t id, void *u)
{
    struct peer *p = u;
    ec_key_pair *pair = NULL;
    session_pre_key *k = NULL;
    int rc;

    if (id != p->pk_id || p->pk_used)
        return SG_ERR_INVALID_KEY_ID;
    rc = serialized_pair(p->pk_priv, &pair, peer_gctx);
    if (rc == 0)
        rc = session_pre_key_create(&k, id, pair);
    if (rc == 0)
        rc = session_pre_key_serialize(rec, k);
    SIGNAL_UNREF(pair);
    SIGNAL_UNREF(k);
    return rc;
}

static int p_store_pre_key(uint32_t id, uint8_t *r, size_t n, void *u)
{
    (void)id, (void)r, (void)n, (void)u;
    return SG_ERR_INVAL;
}

static int p_contains_pre_key(uint32_t id, void *u)
{
    struct peer *p = u;

    return id == p->pk_id && !p->pk_used;
}

static int p_remove_pre_key(uint32_t id, void *u)
{
    struct peer *p = u;

    if (id == p->pk_id)
        p->pk_used = 1;
    return 0;
}

static int p_load_spk(signal_buffer **rec, uint32_t id, void *u)
{
    struct peer *p = u;
    ec_key_pair *pair = NULL;
    session_signed_pre_key *k = NULL;
    int rc;

    if (id != p->spk_id)
        return SG_ERR_INVALID_KEY_ID;
    rc = serialized_pair(p->spk_priv, &pair, peer_gctx);
    if (rc == 0)
        rc = session_signed_pre_key_create(&k, id, 0, pair, p->spk_sig, 64);
    if (rc == 0)
        rc = session_signed_pre_key_serialize(rec, k);
    SIGNAL_UNREF(pair);
    SIGNAL_UNREF(k);
    return rc;
}

static int p_contains_spk(uint32_t id, void *u)
{
    return id == ((struct peer *)u)->spk_id;
}

static int p_remove_spk(uint32_t id, void *u)
{
    (void)id, (void)u;
    return SG_ERR_INVAL;
}

static int p_load_session(signal_buffer **rec, signal_buffer **user,
                          const signal_protocol_address *a, void *u)
{
    struct peer *p = u;

    (void)user, (void)a;
    if (!p->session_len)
        return 0;
    *rec = signal_buffer_create(p->session, p->session_len);
    return 1;
}

static int p_sub_devices(signal_int_list **s, const char *n, size_t l, void *u)
{
    (void)s, (void)n, (void)l, (void)u;
    return 0;
}

static int p_store_session(const signal_protocol_address *a, uint8_t *rec, size_t len,
                           uint8_t *ur, size_t ul, void *u)
{
    struct peer *p = u;

    (void)a, (void)ur, (void)ul;
    if (len > sizeof(p->session))
        return SG_ERR_NOMEM;
    memcpy(p->session, rec, len);
    p->session_len = len;
    return 0;
}

static int p_contains_session(const signal_protocol_address *a, void *u)
{
    (void)a;
    return ((struct peer *)u)->session_len != 0;
}

static int p_delete_session(const signal_protocol_address *a, void *u)
{
    (void)a;
    ((struct peer *)u)->session_len = 0;
    return 1;
}

static int p_delete_all(const char *n, size_t l, void *u)
{
    (void)n, (void)l, (void)u;
    return 0;
}

/* One operation of the peer: its libsignal contexts live only as long as
 * the operation, in the Signal arena like the firmware's. */
struct peer_op {
    struct peer *p;
    signal_protocol_store_context *store;
    signal_protocol_address addr;
};

static int peer_begin(struct peer_op *op, struct peer *p)
{
    signal_protocol_session_store ss = {
        p_load_session, p_sub_devices, p_store_session, p_contains_session,
        p_delete_session, p_delete_all, NULL, p };
    signal_protocol_pre_key_store pks = {
        p_load_pre_key, p_store_pre_key, p_contains_pre_key, p_remove_pre_key, NULL, p };
    signal_protocol_signed_pre_key_store sks = {
        p_load_spk, p_store_pre_key, p_contains_spk, p_remove_spk, NULL, p };
    signal_protocol_identity_key_store iks = {
        p_identity, p_reg_id, p_save_identity, p_is_trusted, NULL, p };

    memset(op, 0, sizeof(*op));
    op->p = p;
    op->addr.name = GW;
    op->addr.name_len = strlen(GW);
    op->addr.device_id = 1;
    if (sig_arena_begin() != 0)
        return -1;
    if (signal_context_create(&peer_gctx, NULL) < 0 ||
        signal_context_set_crypto_provider(peer_gctx, signal_provider()) < 0 ||
        signal_protocol_store_context_create(&op->store, peer_gctx) < 0 ||
        signal_protocol_store_context_set_session_store(op->store, &ss) < 0 ||
        signal_protocol_store_context_set_pre_key_store(op->store, &pks) < 0 ||
        signal_protocol_store_context_set_signed_pre_key_store(op->store, &sks) < 0 ||
        signal_protocol_store_context_set_identity_key_store(op->store, &iks) < 0)
        return -1;
    return 0;
}

static int peer_end(struct peer_op *op, int rc)
{
    signal_protocol_store_context_destroy(op->store);
    signal_context_destroy(peer_gctx);
    peer_gctx = NULL;
    if (sig_arena_end() != 0)
        return -999;
    return rc;
}

/* The peer takes the firmware's bundle (X3DH as the initiator). */
static int peer_from_bundle(struct peer *p, const char *json)
{
    struct peer_op op;
    struct sig_bundle b;
    ec_public_key *ik = NULL, *spk = NULL, *pk = NULL;
    session_pre_key_bundle *bundle = NULL;
    session_builder *builder = NULL;
    int rc;

    if (sig_bundle_parse(json, strlen(json), &b) != 0)
        return -1;
    if (peer_begin(&op, p) != 0)
        return peer_end(&op, -1);
    rc = curve_decode_point(&ik, b.identity, 33, peer_gctx);
    if (rc == 0)
        rc = curve_decode_point(&spk, b.signed_prekey, 33, peer_gctx);
    if (rc == 0 && b.has_prekey)
        rc = curve_decode_point(&pk, b.prekey, 33, peer_gctx);
    if (rc == 0)
        rc = session_pre_key_bundle_create(&bundle, b.registration_id, b.device_id,
                                           b.has_prekey ? b.prekey_id : 0, pk,
                                           b.signed_prekey_id, spk, b.signature, 64, ik);
    if (rc == 0)
        rc = session_builder_create(&builder, op.store, &op.addr, peer_gctx);
    if (rc == 0)
        rc = session_builder_process_pre_key_bundle(builder, bundle);
    session_builder_free(builder);
    SIGNAL_UNREF(bundle);
    SIGNAL_UNREF(ik);
    SIGNAL_UNREF(spk);
    SIGNAL_UNREF(pk);
    return peer_end(&op, rc);
}

static int peer_send(struct peer *p, const char *text, struct wire *w)
{
    struct peer_op op;
    session_cipher *cipher = NULL;
    ciphertext_message *msg = NULL;
    int rc;

    if (peer_begin(&op, p) != 0)
        return peer_end(&op, -1);
    rc = session_cipher_create(&cipher, op.store, &op.addr, peer_gctx);
    if (rc == 0)
        rc = session_cipher_encrypt(cipher, (const uint8_t *)text, strlen(text), &msg);
    if (rc == 0) {
        signal_buffer *s = ciphertext_message_get_serialized(msg);
        w->type = ciphertext_message_get_type(msg);
        rc = mbedtls_base64_encode((unsigned char *)w->body, sizeof(w->body), &w->len,
                                   signal_buffer_data(s), signal_buffer_len(s));
    }
    SIGNAL_UNREF(msg);
    session_cipher_free(cipher);
    return peer_end(&op, rc);
}

static int peer_recv(struct peer *p, const struct wire *w, char *text, size_t cap)
{
    static uint8_t raw[SIG_BODY_B64_MAX];
    struct peer_op op;
    session_cipher *cipher = NULL;
    signal_buffer *out = NULL;
    size_t n = 0;
    int rc;

    text[0] = '\0';
    if (mbedtls_base64_decode(raw, sizeof(raw), &n, (const unsigned char *)w->body, w->len))
        return -1;
    if (peer_begin(&op, p) != 0)
        return peer_end(&op, -1);
    rc = session_cipher_create(&cipher, op.store, &op.addr, peer_gctx);
    if (rc == 0 && w->type == SIG_MSG_PREKEY) {
        pre_key_signal_message *m = NULL;
        rc = pre_key_signal_message_deserialize(&m, raw, n, peer_gctx);
        if (rc == 0)
            rc = session_cipher_decrypt_pre_key_signal_message(cipher, m, NULL, &out);
        SIGNAL_UNREF(m);
    } else if (rc == 0) {
        signal_message *m = NULL;
        rc = signal_message_deserialize(&m, raw, n, peer_gctx);
        if (rc == 0)
            rc = session_cipher_decrypt_signal_message(cipher, m, NULL, &out);
        SIGNAL_UNREF(m);
    }
    if (rc == 0 && signal_buffer_len(out) < cap) {
        memcpy(text, signal_buffer_data(out), signal_buffer_len(out));
        text[signal_buffer_len(out)] = '\0';
    }
    signal_buffer_free(out);
    session_cipher_free(cipher);
    return peer_end(&op, rc);
}

/* --- fixtures ------------------------------------------------------------- */

/* The firmware has a session with bob from bob's bundle. */
static int gw_knows_bob(void)
{
    char json[SIG_BUNDLE_JSON_MAX];
    int rc = boot();

    peer_make(&bob, 4321);
    if (rc == 0)
        rc = peer_bundle(&bob, json, sizeof(json));
    if (rc == 0)
        rc = signal_session_from_bundle(BOB, 1, json, strlen(json));
    return rc;
}

/* Flips one byte of a message body (after decoding) and encodes it again. */
static void tamper(struct wire *w, size_t at_from_end)
{
    static uint8_t raw[SIG_BODY_B64_MAX];
    size_t n = 0;

    mbedtls_base64_decode(raw, sizeof(raw), &n, (const unsigned char *)w->body, w->len);
    raw[n - 1 - at_from_end] ^= 0x01;
    mbedtls_base64_encode((unsigned char *)w->body, sizeof(w->body), &w->len, raw, n);
}

/* --- the provider against known answers ---------------------------------- */

static int unhex(const char *h, uint8_t *out, size_t n)
{
    return test_unhex(h, out, n) == (long)n;
}

MG_TEST(test_signal_provider_hmac_sha256_matches_rfc_4231_case_2)
{
    const signal_crypto_provider *p = signal_provider();
    static const char data[] = "what do ya want for nothing?";
    uint8_t want[32];
    signal_buffer *out = NULL;
    void *ctx = NULL;

    CHECK(unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", want, 32));
    CHECK_EQ(sig_arena_begin(), 0);
    CHECK_EQ(p->hmac_sha256_init_func(&ctx, (const uint8_t *)"Jefe", 4, NULL), 0);
    CHECK_EQ(p->hmac_sha256_update_func(ctx, (const uint8_t *)data, 10, NULL), 0);
    CHECK_EQ(p->hmac_sha256_update_func(ctx, (const uint8_t *)data + 10, sizeof(data) - 11, NULL), 0);
    CHECK_EQ(p->hmac_sha256_final_func(ctx, &out, NULL), 0);
    p->hmac_sha256_cleanup_func(ctx, NULL);
    CHECK_EQ(signal_buffer_len(out), 32);
    CHECK_MEM(signal_buffer_data(out), want, 32);
    signal_buffer_free(out);
    CHECK_EQ(sig_arena_end(), 0);
}

MG_TEST(test_signal_provider_sha512_matches_mbedtls_and_restarts_after_final)
{
    const signal_crypto_provider *p = signal_provider();
    uint8_t want[64];
    signal_buffer *a = NULL, *b = NULL;
    void *ctx = NULL;

    mbedtls_sha512_ret((const unsigned char *)"abc", 3, want, 0);
    CHECK_EQ(sig_arena_begin(), 0);
    CHECK_EQ(p->sha512_digest_init_func(&ctx, NULL), 0);
    CHECK_EQ(p->sha512_digest_update_func(ctx, (const uint8_t *)"abc", 3, NULL), 0);
    CHECK_EQ(p->sha512_digest_final_func(ctx, &a, NULL), 0);
    CHECK_EQ(p->sha512_digest_update_func(ctx, (const uint8_t *)"abc", 3, NULL), 0);
    CHECK_EQ(p->sha512_digest_final_func(ctx, &b, NULL), 0);
    p->sha512_digest_cleanup_func(ctx, NULL);
    CHECK_MEM(signal_buffer_data(a), want, 64);
    CHECK_MEM(signal_buffer_data(b), want, 64);
    signal_buffer_free(a);
    signal_buffer_free(b);
    CHECK_EQ(sig_arena_end(), 0);
}

/* NIST SP 800-38A F.2.1 (CBC-AES128) and F.5.1 (CTR-AES128), first block. */
MG_TEST(test_signal_provider_aes_cbc_and_ctr_match_sp800_38a)
{
    const signal_crypto_provider *p = signal_provider();
    uint8_t key[16], iv[16], ctr[16], pt[16], cbc[16], ctr_ct[16];
    signal_buffer *out = NULL, *back = NULL;

    CHECK(unhex("2b7e151628aed2a6abf7158809cf4f3c", key, 16));
    CHECK(unhex("000102030405060708090a0b0c0d0e0f", iv, 16));
    CHECK(unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", ctr, 16));
    CHECK(unhex("6bc1bee22e409f96e93d7e117393172a", pt, 16));
    CHECK(unhex("7649abac8119b246cee98e9b12e9197d", cbc, 16));
    CHECK(unhex("874d6191b620e3261bef6864990db6ce", ctr_ct, 16));
    CHECK_EQ(sig_arena_begin(), 0);
    CHECK_EQ(p->encrypt_func(&out, SG_CIPHER_AES_CBC_PKCS5, key, 16, iv, 16, pt, 16, NULL), 0);
    CHECK_EQ(signal_buffer_len(out), 32);   /* a whole block of PKCS#5 padding */
    CHECK_MEM(signal_buffer_data(out), cbc, 16);
    CHECK_EQ(p->decrypt_func(&back, SG_CIPHER_AES_CBC_PKCS5, key, 16, iv, 16,
                             signal_buffer_data(out), signal_buffer_len(out), NULL), 0);
    CHECK_EQ(signal_buffer_len(back), 16);
    CHECK_MEM(signal_buffer_data(back), pt, 16);
    signal_buffer_free(back);
    back = NULL;
    signal_buffer_data(out)[31] ^= 0x02;   /* the padding no longer checks */
    CHECK(p->decrypt_func(&back, SG_CIPHER_AES_CBC_PKCS5, key, 16, iv, 16,
                          signal_buffer_data(out), signal_buffer_len(out), NULL) < 0);
    CHECK(back == NULL);
    signal_buffer_free(out);
    CHECK_EQ(p->encrypt_func(&out, SG_CIPHER_AES_CTR_NOPADDING, key, 16, ctr, 16, pt, 16, NULL),
             0);
    CHECK_EQ(signal_buffer_len(out), 16);
    CHECK_MEM(signal_buffer_data(out), ctr_ct, 16);
    signal_buffer_free(out);
    CHECK(p->encrypt_func(&out, 99, key, 16, iv, 16, pt, 16, NULL) < 0);
    CHECK(p->encrypt_func(&out, SG_CIPHER_AES_CBC_PKCS5, key, 15, iv, 16, pt, 16, NULL) < 0);
    CHECK_EQ(sig_arena_end(), 0);
}

/* A 32-byte key, as libsignal's message keys are, against mbedTLS direct. */
MG_TEST(test_signal_provider_aes256_cbc_matches_mbedtls_at_every_padding_length)
{
    const signal_crypto_provider *p = signal_provider();
    uint8_t key[32], iv[16], iv2[16], pt[48], want[64];
    mbedtls_aes_context aes;
    size_t len, i;

    for (i = 0; i < 32; i++)
        key[i] = (uint8_t)(i * 3 + 1);
    memset(iv, 0x11, sizeof(iv));
    memset(pt, 0x61, sizeof(pt));
    CHECK_EQ(sig_arena_begin(), 0);
    for (len = 0; len <= 33; len++) {
        signal_buffer *out = NULL;
        size_t padded = (len / 16 + 1) * 16;
        memcpy(want, pt, len);
        memset(want + len, (int)(padded - len), padded - len);
        memcpy(iv2, iv, 16);
        mbedtls_aes_init(&aes);
        mbedtls_aes_setkey_enc(&aes, key, 256);
        mbedtls_aes_crypt_cbc(&aes, MBEDTLS_AES_ENCRYPT, padded, iv2, want, want);
        mbedtls_aes_free(&aes);
        CHECK_EQ(p->encrypt_func(&out, SG_CIPHER_AES_CBC_PKCS5, key, 32, iv, 16, pt, len, NULL), 0);
        CHECK_EQ(signal_buffer_len(out), padded);
        CHECK_MEM(signal_buffer_data(out), want, padded);
        signal_buffer_free(out);
    }
    CHECK_EQ(sig_arena_end(), 0);
}

/* --- the arena ------------------------------------------------------------- */

MG_TEST(test_signal_arena_reuses_freed_blocks_and_refuses_what_does_not_fit)
{
    struct sig_arena_stats a;
    void *x, *y, *z;
    size_t before;

    sig_arena_get_stats(&a);
    before = a.used;
    CHECK_EQ(sig_arena_begin(), 0);
    CHECK_EQ(sig_arena_begin(), MG_ERR_PERM);   /* operations do not nest */
    x = mg_sig_malloc(100);
    y = mg_sig_calloc(10, 10);
    CHECK(x && y);
    CHECK_EQ(((uint8_t *)y)[99], 0);
    CHECK_EQ((uintptr_t)x % 16, 0);
    mg_sig_free(x);
    z = mg_sig_malloc(50);
    CHECK(z == x);                               /* the freed block, first fit */
    y = mg_sig_realloc(y, 4000);                 /* the last block grows in place */
    CHECK(y != NULL);
    CHECK(mg_sig_malloc(BOARD_SIGNAL_ARENA) == NULL);
    CHECK(mg_sig_calloc((size_t)-1 / 2, 4) == NULL);
    mg_sig_free(z);
    mg_sig_free(y);
    CHECK_EQ(sig_arena_end(), 0);
    sig_arena_get_stats(&a);
    CHECK_EQ(a.used, before);
    CHECK(a.refused >= 2);
}

MG_TEST(test_signal_arena_releases_and_reports_what_an_operation_leaks)
{
    struct sig_arena_stats a, b;

    sig_arena_get_stats(&a);
    CHECK_EQ(sig_arena_begin(), 0);
    CHECK(mg_sig_malloc(300) != NULL);
    CHECK(mg_sig_strdup("left behind") != NULL);
    CHECK_EQ(sig_arena_end(), MG_ERR_CORRUPT);
    sig_arena_get_stats(&b);
    CHECK_EQ(b.used, a.used);
    CHECK_EQ(b.leaks, a.leaks + 1);
    CHECK_EQ(sig_arena_end(), MG_ERR_PERM);
}

MG_TEST(test_signal_arena_counts_a_free_of_what_it_did_not_give)
{
    struct sig_arena_stats a, b;
    int on_stack = 0;
    void *p;

    sig_arena_get_stats(&a);
    CHECK_EQ(sig_arena_begin(), 0);
    p = mg_sig_malloc(64);
    CHECK(p != NULL);
    mg_sig_free(p);
    mg_sig_free(p);            /* twice */
    mg_sig_free(&on_stack);    /* never ours */
    CHECK_EQ(sig_arena_end(), 0);
    sig_arena_get_stats(&b);
    CHECK_EQ(b.stray, a.stray + 2);
    CHECK_EQ(b.used, a.used);
}

/* --- bundles --------------------------------------------------------------- */

FLASH_TEST(test_signal_bundle_json_has_the_protocol_shape_and_parses_back)
{
    static char json[SIG_BUNDLE_JSON_MAX];
    struct sig_bundle b;
    uint8_t ident[68];
    size_t len = 0;

    CHECK_EQ(boot(), 0);
    CHECK_EQ(signal_session_bundle_json("gw-1", json, sizeof(json), &len), 0);
    CHECK_EQ(len, strlen(json));
    {
        static const char head[] = "{\"id\":\"gw-1\",\"deviceId\":1,\"registrationId\":";
        CHECK(strncmp(json, head, sizeof(head) - 1) == 0);
    }
    CHECK(strstr(json, "\"signedPreKey\":{\"keyId\":") != NULL);
    CHECK(strstr(json, "\"preKey\":{\"keyId\":1,\"publicKey\":\"B") != NULL);
    CHECK_EQ(sig_bundle_parse(json, len, &b), 0);
    CHECK_EQ(keystore_get(KS_SIGNAL_IDENTITY, ident, sizeof(ident), &len), 0);
    CHECK_EQ(b.identity[0], 0x05);
    CHECK_MEM(b.identity + 1, ident + 32, 32);
    CHECK_EQ(xeddsa_verify(b.identity + 1, b.signed_prekey, 33, b.signature), 0);
    CHECK(b.has_prekey && b.prekey_id == 1);
    CHECK(sig_bundle_parse("{\"identityKey\":\"BQ==\"}", 21, &b) == MG_ERR_INVAL);
    CHECK_EQ(signal_session_bundle_json("bad\"id", json, sizeof(json), &len), MG_ERR_INVAL);
    CHECK_EQ(signal_session_bundle_json("gw-1", json, 100, &len), MG_ERR_TOOBIG);
    CHECK(arena_is_empty());
}

/* --- sessions ---------------------------------------------------------------- */

FLASH_TEST(test_signal_x3dh_both_ways_then_whisper_messages_round_trip)
{
    static char json[SIG_BUNDLE_JSON_MAX], text[256];
    static struct wire w;
    size_t len;

    /* The firmware starts: it has bob's bundle. */
    CHECK_EQ(gw_knows_bob(), 0);
    CHECK(arena_is_empty());
    CHECK_EQ(gw_send("hello bob", &w), 0);
    CHECK_EQ(w.type, SIG_MSG_PREKEY);
    CHECK(arena_is_empty());
    CHECK_EQ(peer_recv(&bob, &w, text, sizeof(text)), 0);
    CHECK(strcmp(text, "hello bob") == 0);
    CHECK_EQ(peer_send(&bob, "hello gateway", &w), 0);
    CHECK_EQ(w.type, SIG_MSG_WHISPER);
    CHECK_EQ(gw_recv(&w, text, sizeof(text)), 0);
    CHECK(strcmp(text, "hello gateway") == 0);
    CHECK(arena_is_empty());
    CHECK_EQ(gw_send("answered: whisper now", &w), 0);
    CHECK_EQ(w.type, SIG_MSG_WHISPER);
    CHECK_EQ(peer_recv(&bob, &w, text, sizeof(text)), 0);
    CHECK(strcmp(text, "answered: whisper now") == 0);

    /* The peer starts, from the firmware's bundle: its one-time prekey is
     * used once and leaves the bundle. */
    peer_make(&bob2, 999);
    CHECK_EQ(signal_session_bundle_json(NULL, json, sizeof(json), &len), 0);
    CHECK(strstr(json, "\"preKey\":{\"keyId\":1,") != NULL);
    CHECK_EQ(peer_from_bundle(&bob2, json), 0);
    CHECK_EQ(peer_send(&bob2, "from the other side", &w), 0);
    CHECK_EQ(w.type, SIG_MSG_PREKEY);
    {
        size_t n = 0;
        CHECK_EQ(signal_session_decrypt("other", 1, w.type, w.body, w.len, text, sizeof(text),
                                        &n), 0);
        CHECK(n == 19 && memcmp(text, "from the other side", 19) == 0);
        CHECK_EQ(signal_session_decrypt("other", 1, w.type, w.body, w.len, text, sizeof(text),
                                        &n), MG_ERR_EXIST);   /* a replay, not a new session */
    }
    CHECK_EQ(signal_session_bundle_json(NULL, json, sizeof(json), &len), 0);
    CHECK(strstr(json, "\"preKey\":{\"keyId\":2,") != NULL);
    {
        int type = 0;
        CHECK_EQ(signal_session_encrypt("other", 1, "ok", 2, &type, w.body, sizeof(w.body),
                                        &w.len), 0);
        w.type = type;
        CHECK_EQ(type, SIG_MSG_WHISPER);   /* the firmware answers inside the session */
        CHECK_EQ(peer_recv(&bob2, &w, text, sizeof(text)), 0);
        CHECK(strcmp(text, "ok") == 0);
    }
    CHECK(arena_is_empty());
}

FLASH_TEST(test_signal_messages_out_of_order_within_the_skip_limit_all_decrypt_once)
{
    static struct wire w[4];
    static char text[64];
    int i;

    CHECK_EQ(gw_knows_bob(), 0);
    CHECK_EQ(gw_send("hi", &w[0]), 0);
    CHECK_EQ(peer_recv(&bob, &w[0], text, sizeof(text)), 0);
    for (i = 0; i < 4; i++) {
        char m[8];
        snprintf(m, sizeof(m), "m%d", i);
        CHECK_EQ(peer_send(&bob, m, &w[i]), 0);
    }
    CHECK_EQ(gw_recv(&w[3], text, sizeof(text)), 0);
    CHECK(strcmp(text, "m3") == 0);
    CHECK_EQ(gw_recv(&w[1], text, sizeof(text)), 0);
    CHECK(strcmp(text, "m1") == 0);
    CHECK_EQ(gw_recv(&w[0], text, sizeof(text)), 0);
    CHECK(strcmp(text, "m0") == 0);
    CHECK_EQ(gw_recv(&w[2], text, sizeof(text)), 0);
    CHECK(strcmp(text, "m2") == 0);
    CHECK_EQ(gw_recv(&w[1], text, sizeof(text)), MG_ERR_EXIST);
    CHECK(arena_is_empty());
}

FLASH_TEST(test_signal_a_message_skipping_too_far_is_refused_and_changes_nothing)
{
    static struct wire w[BOARD_SIGNAL_MAX_SKIP + 2];
    static char text[64];
    int i;

    CHECK_EQ(gw_knows_bob(), 0);
    CHECK_EQ(gw_send("hi", &w[0]), 0);
    CHECK_EQ(peer_recv(&bob, &w[0], text, sizeof(text)), 0);
    for (i = 0; i < BOARD_SIGNAL_MAX_SKIP + 2; i++)
        CHECK_EQ(peer_send(&bob, "x", &w[i]), 0);
    /* Index MAX_SKIP + 1 skips MAX_SKIP + 1 keys: one too many. */
    CHECK_EQ(gw_recv(&w[BOARD_SIGNAL_MAX_SKIP + 1], text, sizeof(text)), MG_ERR_TOOBIG);
    CHECK_EQ(gw_recv(&w[BOARD_SIGNAL_MAX_SKIP], text, sizeof(text)), 0);   /* exactly the limit */
    for (i = 0; i < BOARD_SIGNAL_MAX_SKIP + 2; i++)
        if (i != BOARD_SIGNAL_MAX_SKIP)
            CHECK_EQ(gw_recv(&w[i], text, sizeof(text)), 0);
    CHECK(arena_is_empty());
}

/* libsignal keeps up to 2000 skipped keys per chain (compile-time, in the
 * Debian source); a slot holds about five. What would not fit is refused,
 * and the messages in order still pass. */
FLASH_TEST(test_signal_skipped_keys_that_would_outgrow_the_slot_are_refused)
{
    static struct wire w[BOARD_SIGNAL_MAX_SKIP + 1];
    static char text[64];
    int i;

    CHECK_EQ(gw_knows_bob(), 0);
    CHECK_EQ(gw_send("hi", &w[0]), 0);
    CHECK_EQ(peer_recv(&bob, &w[0], text, sizeof(text)), 0);
    for (i = 0; i <= BOARD_SIGNAL_MAX_SKIP; i++)
        CHECK_EQ(peer_send(&bob, "lost", &w[i]), 0);
    CHECK_EQ(gw_recv(&w[BOARD_SIGNAL_MAX_SKIP], text, sizeof(text)), 0);   /* keeps 4 keys */
    CHECK_EQ(gw_send("next chain", &w[0]), 0);
    CHECK_EQ(peer_recv(&bob, &w[0], text, sizeof(text)), 0);
    for (i = 0; i <= BOARD_SIGNAL_MAX_SKIP; i++)
        CHECK_EQ(peer_send(&bob, "y", &w[i]), 0);
    CHECK_EQ(gw_recv(&w[BOARD_SIGNAL_MAX_SKIP], text, sizeof(text)), MG_ERR_TOOBIG);
    for (i = 0; i <= BOARD_SIGNAL_MAX_SKIP; i++)
        CHECK_EQ(gw_recv(&w[i], text, sizeof(text)), 0);
    CHECK(arena_is_empty());
}

FLASH_TEST(test_signal_a_tampered_ciphertext_is_refused_and_the_session_goes_on)
{
    static struct wire w, good;
    static char text[64];

    CHECK_EQ(gw_knows_bob(), 0);
    CHECK_EQ(gw_send("hi", &w), 0);
    CHECK_EQ(peer_recv(&bob, &w, text, sizeof(text)), 0);
    CHECK_EQ(peer_send(&bob, "genuine", &good), 0);
    w = good;
    tamper(&w, 12);   /* inside the ciphertext, before the 8-byte MAC */
    CHECK_EQ(gw_recv(&w, text, sizeof(text)), MG_ERR_AUTH);
    CHECK(text[0] == '\0');
    w = good;
    tamper(&w, 0);    /* the MAC itself */
    CHECK_EQ(gw_recv(&w, text, sizeof(text)), MG_ERR_AUTH);
    CHECK_EQ(gw_recv(&good, text, sizeof(text)), 0);
    CHECK(strcmp(text, "genuine") == 0);
    CHECK(arena_is_empty());
}

FLASH_TEST(test_signal_a_bundle_with_a_bad_signed_prekey_signature_is_refused)
{
    static char json[SIG_BUNDLE_JSON_MAX];
    static struct wire w;

    CHECK_EQ(boot(), 0);
    peer_make(&bob, 4321);
    bob.spk_sig[5] ^= 0x20;
    CHECK_EQ(peer_bundle(&bob, json, sizeof(json)), 0);
    CHECK_EQ(signal_session_from_bundle(BOB, 1, json, strlen(json)), MG_ERR_AUTH);
    CHECK_EQ(gw_send("no session", &w), MG_ERR_NOENT);
    bob.spk_sig[5] ^= 0x20;
    CHECK_EQ(peer_bundle(&bob, json, sizeof(json)), 0);
    CHECK_EQ(signal_session_from_bundle(BOB, 1, json, strlen(json)), 0);
    CHECK(arena_is_empty());
}

FLASH_TEST(test_signal_a_changed_identity_key_is_reported_never_replaced)
{
    static char json[SIG_BUNDLE_JSON_MAX], gw_bundle[SIG_BUNDLE_JSON_MAX], text[64];
    static struct wire w;
    uint8_t before[33], after[33];
    size_t len;

    CHECK_EQ(gw_knows_bob(), 0);
    CHECK_EQ(gw_send("hi", &w), 0);
    CHECK_EQ(peer_recv(&bob, &w, text, sizeof(text)), 0);
    /* Someone else, under bob's name, with another identity. */
    peer_make(&bob2, 77);
    CHECK_EQ(peer_bundle(&bob2, json, sizeof(json)), 0);
    CHECK_EQ(signal_session_from_bundle(BOB, 1, json, strlen(json)), MG_ERR_PERM);
    CHECK_EQ(signal_session_bundle_json(NULL, gw_bundle, sizeof(gw_bundle), &len), 0);
    CHECK_EQ(peer_from_bundle(&bob2, gw_bundle), 0);
    CHECK_EQ(peer_send(&bob2, "trust me", &w), 0);
    CHECK_EQ(gw_recv(&w, text, sizeof(text)), MG_ERR_PERM);
    /* The session with the real bob is untouched. */
    CHECK_EQ(peer_send(&bob, "still me", &w), 0);
    CHECK_EQ(gw_recv(&w, text, sizeof(text)), 0);
    CHECK(strcmp(text, "still me") == 0);
    {
        signal_protocol_address a = { BOB, strlen(BOB), 1 };
        CHECK_EQ(signal_store_begin(&a), 0);
        CHECK_EQ(signal_store_identity(before), 0);
        signal_store_abort();
        CHECK_MEM(before, bob.ident_pub, 33);
    }
    /* The operator accepts the new key: only then is it trusted. */
    CHECK_EQ(signal_session_forget(BOB, 1), 0);
    CHECK_EQ(signal_session_from_bundle(BOB, 1, json, strlen(json)), 0);
    {
        signal_protocol_address a = { BOB, strlen(BOB), 1 };
        CHECK_EQ(signal_store_begin(&a), 0);
        CHECK_EQ(signal_store_identity(after), 0);
        signal_store_abort();
        CHECK_MEM(after, bob2.ident_pub, 33);
    }
    CHECK(arena_is_empty());
}

FLASH_TEST(test_signal_a_corrupt_session_record_is_reported_not_recreated)
{
    static struct recstore rs;
    static char json[SIG_BUNDLE_JSON_MAX];
    static struct wire w;
    uint8_t junk[200];

    CHECK_EQ(gw_knows_bob(), 0);
    CHECK_EQ(gw_send("hi", &w), 0);
    CHECK_EQ(keystore_state(KS_SESSIONS + 0), KS_PRESENT);
    /* A record whose CRC holds but which does not decrypt. */
    memset(junk, 0x5A, sizeof(junk));
    hal_flash_close();
    CHECK_EQ(hal_flash_open(flash_image_path()), 0);
    CHECK_EQ(recstore_mount(&rs, hal_flash_part("keys")), 0);
    CHECK_EQ(recstore_write(&rs, KS_SESSIONS + 0, junk, sizeof(junk)), 0);
    CHECK_EQ(reboot(), 0);
    CHECK_EQ(keystore_state(KS_SESSIONS + 0), KS_CORRUPT);
    CHECK_EQ(gw_send("again", &w), MG_ERR_CORRUPT);
    CHECK_EQ(peer_bundle(&bob, json, sizeof(json)), 0);
    CHECK_EQ(signal_session_from_bundle(BOB, 1, json, strlen(json)), MG_ERR_CORRUPT);
    /* Whose session it was is not known: no new peer is taken on either. */
    CHECK_EQ(signal_session_from_bundle("someone", 1, json, strlen(json)), MG_ERR_CORRUPT);
    CHECK_EQ(keystore_state(KS_SESSIONS + 0), KS_CORRUPT);
    /* The operator's reset clears it. */
    CHECK_EQ(keystore_reset(KS_SESSIONS + 0), 0);
    CHECK_EQ(signal_session_from_bundle(BOB, 1, json, strlen(json)), 0);
    CHECK(arena_is_empty());
}

FLASH_TEST(test_signal_a_session_survives_a_reboot)
{
    static struct wire w;
    static char text[64];

    CHECK_EQ(gw_knows_bob(), 0);
    CHECK_EQ(gw_send("before", &w), 0);
    CHECK_EQ(peer_recv(&bob, &w, text, sizeof(text)), 0);
    CHECK_EQ(peer_send(&bob, "reply", &w), 0);
    CHECK_EQ(gw_recv(&w, text, sizeof(text)), 0);
    CHECK_EQ(peer_send(&bob, "sent while it was down", &w), 0);
    CHECK_EQ(reboot(), 0);
    CHECK_EQ(gw_recv(&w, text, sizeof(text)), 0);
    CHECK(strcmp(text, "sent while it was down") == 0);
    CHECK_EQ(gw_send("after", &w), 0);
    CHECK_EQ(w.type, SIG_MSG_WHISPER);
    CHECK_EQ(peer_recv(&bob, &w, text, sizeof(text)), 0);
    CHECK(strcmp(text, "after") == 0);
    CHECK(arena_is_empty());
}

/* The figures the board sizes come from: the arena's high-water per kind
 * of operation at the largest message, and a session record's size. */
FLASH_TEST(test_signal_worst_case_fits_the_arena_and_a_session_fits_its_slot)
{
    static char big[BOARD_SIGNAL_MESSAGE_MAX + 1], text[BOARD_SIGNAL_MESSAGE_MAX + 1];
    static struct wire w[BOARD_SIGNAL_MAX_SKIP + 1];
    struct sig_op_stats s;
    struct sig_arena_stats a;
    size_t slots = 0, largest = 0, n = 0;
    uint64_t t0;
    int i, k, rounds = 50;

    memset(big, 'T', BOARD_SIGNAL_MESSAGE_MAX);
    big[BOARD_SIGNAL_MESSAGE_MAX] = '\0';
    CHECK_EQ(gw_knows_bob(), 0);
    CHECK_EQ(gw_send(big, &w[0]), 0);
    CHECK_EQ(peer_recv(&bob, &w[0], text, sizeof(text)), 0);
    /* Skipped keys on the firmware's side, then the late messages, in two
     * chains (the peer ratchets when it hears from the firmware). */
    for (k = 0; k < 2; k++) {
        CHECK_EQ(gw_send(big, &w[0]), 0);
        CHECK_EQ(peer_recv(&bob, &w[0], text, sizeof(text)), 0);
        for (i = 0; i <= BOARD_SIGNAL_MAX_SKIP; i++)
            CHECK_EQ(peer_send(&bob, big, &w[i]), 0);
        for (i = BOARD_SIGNAL_MAX_SKIP; i >= 0; i--)
            CHECK_EQ(gw_recv(&w[i], text, sizeof(text)), 0);
    }
    signal_store_usage(&slots, &largest);
    CHECK_EQ(slots, 1);
    CHECK(largest <= KS_MAX_PLAIN - KS_SESSION_HEAD - strlen(BOB) - SIG_IDENTITY_LEN);

    /* A prekey message into the firmware, at the largest size. */
    {
        static char json[SIG_BUNDLE_JSON_MAX];
        size_t len;
        peer_make(&bob2, 5);
        CHECK_EQ(signal_session_bundle_json(NULL, json, sizeof(json), &len), 0);
        CHECK_EQ(peer_from_bundle(&bob2, json), 0);
        CHECK_EQ(peer_send(&bob2, big, &w[0]), 0);
        CHECK_EQ(signal_session_decrypt("big", 1, w[0].type, w[0].body, w[0].len, text,
                                        sizeof(text), &n), 0);
        CHECK_EQ(n, BOARD_SIGNAL_MESSAGE_MAX);
    }

    t0 = hal_clock_ms();
    for (i = 0; i < rounds; i++) {
        CHECK_EQ(gw_send("ping", &w[0]), 0);
        CHECK_EQ(peer_recv(&bob, &w[0], text, sizeof(text)), 0);
        CHECK_EQ(peer_send(&bob, "pong", &w[0]), 0);
        CHECK_EQ(gw_recv(&w[0], text, sizeof(text)), 0);
    }
    signal_session_get_stats(&s);
    sig_arena_get_stats(&a);
    printf("    signal arena high-water (bytes, %zu kept): from bundle %zu, encrypt %zu, "
           "decrypt prekey %zu, decrypt whisper %zu; overall %zu of %d\n",
           kept, s.high_water[SIG_OP_FROM_BUNDLE], s.high_water[SIG_OP_ENCRYPT],
           s.high_water[SIG_OP_DECRYPT_PREKEY], s.high_water[SIG_OP_DECRYPT_WHISPER],
           a.high_water, BOARD_SIGNAL_ARENA);
    signal_store_usage(&slots, &largest);
    printf("    signal session record: largest %zu bytes (slot holds %zu); %d round trips "
           "(4 operations each) in %lu ms\n",
           largest, (size_t)(KS_MAX_PLAIN - KS_SESSION_HEAD - strlen(BOB) - SIG_IDENTITY_LEN),
           rounds, (unsigned long)(hal_clock_ms() - t0));
    CHECK(a.high_water < BOARD_SIGNAL_ARENA);
    CHECK_EQ(a.refused, refused);
    CHECK(arena_is_empty());
}
