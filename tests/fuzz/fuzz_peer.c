/* libFuzzer target for what the mesh membership code reads off the network:
 * the first byte chooses which.
 *   even: the rest is a coordinator's GET /nodes answer, read into the peer
 *         registry (heartbeat/membership.c). Checked: the registry stays
 *         within BOARD_PEERS; every entry has a terminated, non-empty name,
 *         an IPv4 host, a port and a key, and is not this node; an answer
 *         refused as a whole leaves the registry as it was.
 *   odd:  the rest is a request to the peer port: parsed as the server does
 *         (net/http_parse.c), then its X-Nara-* headers checked
 *         (peer/peer_auth.c) against the section 4 vector key. Checked: a
 *         refusal always says why; a digest or signature that was accepted
 *         has its documented length.
 * libFuzzer adds the inputs it finds to the first directory, so never name
 * the checked-in one first. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "ed25519.h"
#include "heartbeat/membership.h"
#include "mg_err.h"
#include "net/http_parse.h"
#include "peer/peer_auth.h"
#include "peer/peers.h"

#define MUST(cond)                                                             \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

static const uint8_t self_key[32] = { 1 };
static uint8_t vector_pub[32];
static struct peer before[BOARD_PEERS];

static void snapshot(struct peer *out)
{
    size_t i;

    for (i = 0; i < BOARD_PEERS; i++) {
        const struct peer *p = peers_slot(i);
        memset(&out[i], 0, sizeof(out[i]));
        if (p)
            out[i] = *p;
    }
}

static void nodes(const char *body, size_t len)
{
    static struct peer after[BOARD_PEERS];
    size_t added, i;
    int rc;

    snapshot(before);
    rc = membership_nodes_to_peers(body, len, "me", self_key, 1, &added);
    MUST(rc == 0 || rc == MG_ERR_INVAL);
    MUST(peers_count() <= BOARD_PEERS && added <= BOARD_PEERS);
    if (rc != 0) {
        snapshot(after);
        MUST(memcmp(before, after, sizeof(after)) == 0);
        return;
    }
    MUST(added == peers_count());   /* the registry had no static entries */
    for (i = 0; i < BOARD_PEERS; i++) {
        const struct peer *p = peers_slot(i);
        if (!p)
            continue;
        MUST(memchr(p->name, '\0', sizeof(p->name)) && p->name[0]);
        MUST(memchr(p->host, '\0', sizeof(p->host)) && p->host[0]);
        MUST(p->port != 0 && p->has_key && p->source == PEER_COORDINATOR);
        MUST(strcmp(p->name, "me") != 0 && memcmp(p->public_key, self_key, 32) != 0);
    }
}

static void request(const char *buf, size_t len)
{
    struct http_request req;
    struct peer_auth_claim cl;
    const char *reason = NULL;
    int status, n = http_parse_request(buf, len, 4096, 65536, &req, &status);

    if (n <= 0)
        return;
    peer_auth_claim_of(&req, &cl);
    if (peer_auth_precheck(&cl, 1704067200000ll, &reason) != 0) {
        MUST(reason && reason[0]);
        return;
    }
    if (peer_auth_verify(&cl, &req, buf + n, len - (size_t)n < req.content_length
                                                  ? len - (size_t)n : req.content_length,
                         vector_pub, &reason) != 0) {
        MUST(reason && reason[0]);
        return;
    }
    MUST(!cl.digest.p || cl.digest.len == PEER_DIGEST_B64_LEN);
    MUST(cl.signature.len == PEER_SIG_B64_LEN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;

    if (!ready) {
        uint8_t seed[32];
        size_t i;
        for (i = 0; i < 32; i++)
            seed[i] = (uint8_t)i;
        ed25519_public_key(seed, vector_pub);
        ready = 1;
    }
    if (size == 0)
        return 0;
    if (data[0] % 2 == 0) {
        peers_reset();
        nodes((const char *)data + 1, size - 1);
    } else {
        request((const char *)data + 1, size - 1);
    }
    return 0;
}
