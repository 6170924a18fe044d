#include "registry.h"

#include <string.h>

#include "le.h"
#include "mg_err.h"
#include "pool.h"
#include "store/recstore.h"

#define REC_SOVEREIGNS  0x0001
#define REC_NODE_BASE   0x0100
#define REC_VERSION     1

enum slot_state { SLOT_FREE, SLOT_USED, SLOT_CORRUPT };

struct slot {
    uint8_t state;                        /* enum slot_state */
    struct coord_node node;
};

static struct slot slots[BOARD_COORD_NODES];
POOL_DEFINE(coord_nodes, slots);
static struct coord_sovereign sovereigns[BOARD_COORD_SOVEREIGNS];
POOL_DEFINE(coord_sovereigns, sovereigns);
static size_t n_sovereigns;

static struct recstore store;
static int mounted;
static int sovereigns_corrupt;   /* never written over: that would lose the others */
static uint8_t rec[RECSTORE_MAX_LEN];

/* The largest records, as encode_node() / encode_sovereigns() write them:
 * every string is a length byte and at most cap - 1 bytes. */
#define NODE_REC_MAX  (2 + 8 + COORD_ID_MAX + ED25519_PUB_LEN + COORD_HOST_MAX + COORD_IP_MAX + \
                       1 + BOARD_COORD_SERVICES * (COORD_SVC_TYPE_MAX + 2 + COORD_SVC_KEY_MAX))
#define SOV_REC_MAX   (2 + BOARD_COORD_SOVEREIGNS * (ED25519_PUB_LEN + COORD_DESC_MAX))
#define REC_SPAN(n)   ((RECSTORE_REC_HEAD + (n) + 3u) / 4u * 4u)
_Static_assert(NODE_REC_MAX <= RECSTORE_MAX_LEN && SOV_REC_MAX <= RECSTORE_MAX_LEN,
               "a node and the sovereign set each fit one record");
_Static_assert(BOARD_COORD_NODES + 1 <= RECSTORE_MAX_IDS, "one record id per node slot");
/* A full registry of the largest nodes still fits the partition, so the
 * table, not the flash, is what fills first: records do not span sectors,
 * so count whole sectors of node records, one for the sovereigns, and the
 * two the record store keeps free (one for collection). */
#define NODES_PER_SECTOR ((BOARD_FLASH_SECTOR - RECSTORE_SECT_HEAD) / REC_SPAN(NODE_REC_MAX))
_Static_assert((BOARD_COORD_NODES + NODES_PER_SECTOR - 1) / NODES_PER_SECTOR + 1 + 2 <=
               BOARD_PART_REGISTRY_SIZE / BOARD_FLASH_SECTOR,
               "the registry partition holds a full registry");
_Static_assert(BOARD_PART_REGISTRY_SIZE / BOARD_FLASH_SECTOR <= RECSTORE_MAX_SECTORS,
               "the record store covers the registry partition");

/* --- record encoding ----------------------------------------------------- */

struct writer {
    uint8_t *p;
    size_t len;
};

static void put_u8(struct writer *w, uint8_t v)
{
    w->p[w->len++] = v;
}

static void put_bytes(struct writer *w, const void *b, size_t n)
{
    memcpy(w->p + w->len, b, n);
    w->len += n;
}

static void put_str(struct writer *w, const char *s)
{
    size_t n = strlen(s);

    put_u8(w, (uint8_t)n);
    put_bytes(w, s, n);
}

static void put_i64(struct writer *w, int64_t v)
{
    le32_put(w->p + w->len, (uint32_t)(uint64_t)v);
    le32_put(w->p + w->len + 4, (uint32_t)((uint64_t)v >> 32));
    w->len += 8;
}

struct reader {
    const uint8_t *p;
    size_t len, pos;
    int bad;
};

static int get_bytes(struct reader *r, void *out, size_t n)
{
    if (r->bad || n > r->len - r->pos) {
        r->bad = 1;
        return -1;
    }
    memcpy(out, r->p + r->pos, n);
    r->pos += n;
    return 0;
}

static uint8_t get_u8(struct reader *r)
{
    uint8_t v = 0;

    get_bytes(r, &v, 1);
    return v;
}

static void get_str(struct reader *r, char *out, size_t cap)
{
    size_t n = get_u8(r);

    out[0] = '\0';
    if (n >= cap) {
        r->bad = 1;
        return;
    }
    if (get_bytes(r, out, n) == 0)
        out[n] = '\0';
}

static int64_t get_i64(struct reader *r)
{
    uint8_t b[8] = { 0 };

    get_bytes(r, b, 8);
    return (int64_t)((uint64_t)le32_get(b) | (uint64_t)le32_get(b + 4) << 32);
}

static size_t encode_node(const struct coord_node *n)
{
    struct writer w = { rec, 0 };
    size_t i;

    put_u8(&w, REC_VERSION);
    put_u8(&w, (uint8_t)n->status);
    put_i64(&w, n->registered_at);
    put_str(&w, n->id);
    put_bytes(&w, n->pub, ED25519_PUB_LEN);
    put_str(&w, n->host);
    put_str(&w, n->ip);
    put_u8(&w, (uint8_t)n->n_services);
    for (i = 0; i < n->n_services; i++) {
        const struct coord_service *s = &n->services[i];
        put_str(&w, s->type);
        put_u8(&w, (uint8_t)s->port);
        put_u8(&w, (uint8_t)(s->port >> 8));
        put_str(&w, s->key);
    }
    return w.len;
}

static int decode_node(const uint8_t *p, size_t len, struct coord_node *n)
{
    struct reader r = { p, len, 0, 0 };
    size_t i;

    memset(n, 0, sizeof(*n));
    if (get_u8(&r) != REC_VERSION)
        return MG_ERR_CORRUPT;
    n->status = (enum coord_status)get_u8(&r);
    n->registered_at = get_i64(&r);
    get_str(&r, n->id, sizeof(n->id));
    get_bytes(&r, n->pub, ED25519_PUB_LEN);
    get_str(&r, n->host, sizeof(n->host));
    get_str(&r, n->ip, sizeof(n->ip));
    n->n_services = get_u8(&r);
    if (n->n_services > BOARD_COORD_SERVICES || (unsigned)n->status >= COORD_N_STATUS)
        return MG_ERR_CORRUPT;
    for (i = 0; i < n->n_services; i++) {
        struct coord_service *s = &n->services[i];
        get_str(&r, s->type, sizeof(s->type));
        s->port = get_u8(&r);
        s->port = (uint16_t)(s->port | get_u8(&r) << 8);
        get_str(&r, s->key, sizeof(s->key));
    }
    return r.bad || r.pos != len || n->id[0] == '\0' ? MG_ERR_CORRUPT : 0;
}

static size_t encode_sovereigns(const struct coord_sovereign *set, size_t n)
{
    struct writer w = { rec, 0 };
    size_t i;

    put_u8(&w, REC_VERSION);
    put_u8(&w, (uint8_t)n);
    for (i = 0; i < n; i++) {
        put_bytes(&w, set[i].pub, ED25519_PUB_LEN);
        put_str(&w, set[i].desc);
    }
    return w.len;
}

static int decode_sovereigns(const uint8_t *p, size_t len)
{
    struct reader r = { p, len, 0, 0 };
    size_t n, i;

    if (get_u8(&r) != REC_VERSION)
        return MG_ERR_CORRUPT;
    n = get_u8(&r);
    if (n > BOARD_COORD_SOVEREIGNS)
        return MG_ERR_CORRUPT;
    for (i = 0; i < n; i++) {
        get_bytes(&r, sovereigns[i].pub, ED25519_PUB_LEN);
        get_str(&r, sovereigns[i].desc, sizeof(sovereigns[i].desc));
    }
    if (r.bad || r.pos != len)
        return MG_ERR_CORRUPT;
    n_sovereigns = n;
    return 0;
}

static int store_node(size_t slot, const struct coord_node *n)
{
    if (!mounted)
        return MG_ERR_IO;
    return recstore_write(&store, (uint16_t)(REC_NODE_BASE + slot), rec, encode_node(n));
}

/* --- mount ---------------------------------------------------------------- */

void registry_reset(void)
{
    memset(slots, 0, sizeof(slots));
    memset(sovereigns, 0, sizeof(sovereigns));
    n_sovereigns = 0;
    mounted = 0;
    sovereigns_corrupt = 0;
    pool_set_used(&coord_nodes_pool, 0);
    pool_set_used(&coord_sovereigns_pool, 0);
}

int registry_mount(const struct hal_flash_part *part, uint64_t now_ms, int64_t wall_ms)
{
    size_t i, len, used = 0;
    int rc;

    registry_reset();
    rc = part ? recstore_mount(&store, part) : MG_ERR_IO;
    if (rc != 0)
        return rc;
    mounted = 1;
    rc = recstore_read(&store, REC_SOVEREIGNS, rec, sizeof(rec), &len);
    if (rc == 0)
        rc = decode_sovereigns(rec, len);
    if (rc != 0 && rc != MG_ERR_NOENT) {
        n_sovereigns = 0;
        sovereigns_corrupt = 1;
    }
    for (i = 0; i < BOARD_COORD_NODES; i++) {
        struct slot *s = &slots[i];
        rc = recstore_read(&store, (uint16_t)(REC_NODE_BASE + i), rec, sizeof(rec), &len);
        if (rc == MG_ERR_NOENT)
            continue;
        if (rc == 0)
            rc = decode_node(rec, len, &s->node);
        if (rc == 0 && registry_find(s->node.id) != NULL)
            rc = MG_ERR_CORRUPT;   /* a duplicate id cannot be told apart */
        used++;
        if (rc != 0) {
            memset(&s->node, 0, sizeof(s->node));
            s->state = SLOT_CORRUPT;
            continue;
        }
        s->state = SLOT_USED;
        s->node.seen_ms = now_ms;
        s->node.last_ts = wall_ms;
    }
    pool_set_used(&coord_nodes_pool, used);
    pool_set_used(&coord_sovereigns_pool, n_sovereigns);
    return 0;
}

/* --- nodes ---------------------------------------------------------------- */

size_t registry_slots(void)
{
    return BOARD_COORD_NODES;
}

const struct coord_node *registry_at(size_t i)
{
    return i < BOARD_COORD_NODES && slots[i].state == SLOT_USED ? &slots[i].node : NULL;
}

static int find_slot(const char *id)
{
    size_t i;

    for (i = 0; i < BOARD_COORD_NODES; i++)
        if (slots[i].state == SLOT_USED && strcmp(slots[i].node.id, id) == 0)
            return (int)i;
    return -1;
}

const struct coord_node *registry_find(const char *id)
{
    int i = find_slot(id);

    return i < 0 ? NULL : &slots[i].node;
}

size_t registry_count(enum coord_status st)
{
    size_t i, n = 0;

    for (i = 0; i < BOARD_COORD_NODES; i++)
        n += slots[i].state == SLOT_USED && slots[i].node.status == st;
    return n;
}

size_t registry_nodes(void)
{
    size_t i, n = 0;

    for (i = 0; i < BOARD_COORD_NODES; i++)
        n += slots[i].state == SLOT_USED;
    return n;
}

int registry_sovereigns_corrupt(void)
{
    return sovereigns_corrupt;
}

size_t registry_corrupt(void)
{
    size_t i, n = 0;

    for (i = 0; i < BOARD_COORD_NODES; i++)
        n += slots[i].state == SLOT_CORRUPT;
    return n;
}

int registry_add(const struct coord_node *n)
{
    size_t i;
    int rc;

    if (find_slot(n->id) >= 0)
        return MG_ERR_EXIST;
    if (!mounted)
        return MG_ERR_IO;
    if (pool_take(&coord_nodes_pool) != 0)
        return MG_ERR_NOSPC;
    for (i = 0; slots[i].state != SLOT_FREE; i++)
        ;   /* the pool counts every slot not free, so one is */
    rc = store_node(i, n);
    if (rc != 0) {
        pool_give(&coord_nodes_pool);
        return rc;
    }
    slots[i].node = *n;
    slots[i].state = SLOT_USED;
    return 0;
}

/* Writes the changed copy of slot i, then makes it the node. */
static int commit(int i, const struct coord_node *changed, int write)
{
    int rc = write ? store_node((size_t)i, changed) : 0;

    if (rc == 0)
        slots[i].node = *changed;
    return rc;
}

int registry_set_status(const char *id, enum coord_status st, uint64_t now_ms)
{
    int i = find_slot(id);
    struct coord_node n;

    if (i < 0)
        return MG_ERR_NOENT;
    n = slots[i].node;
    n.status = st;
    if (st == COORD_ACTIVE)
        n.seen_ms = now_ms;   /* approved: the offline clock starts now */
    return commit(i, &n, 1);
}

int registry_heartbeat(const char *id, int64_t ts, const char *ip, uint64_t now_ms,
                       int64_t wall_ms)
{
    int i = find_slot(id), write = 0;
    struct coord_node n;

    if (i < 0)
        return MG_ERR_NOENT;
    n = slots[i].node;
    if (n.status != COORD_ACTIVE && n.status != COORD_OFFLINE)
        return MG_ERR_PERM;
    if (n.status == COORD_OFFLINE) {
        n.status = COORD_ACTIVE;
        write = 1;
    }
    if (ip && ip[0] && strcmp(ip, n.ip) != 0 && strlen(ip) < sizeof(n.ip)) {
        strcpy(n.ip, ip);
        write = 1;
    }
    n.last_ts = ts;
    n.heartbeat_at = wall_ms;
    n.seen_ms = now_ms;
    return commit(i, &n, write);
}

size_t registry_mark_offline(uint64_t now_ms, uint64_t after_ms)
{
    size_t i, marked = 0;

    for (i = 0; i < BOARD_COORD_NODES; i++) {
        struct coord_node n = slots[i].node;
        if (slots[i].state != SLOT_USED || n.status != COORD_ACTIVE || now_ms < n.seen_ms ||
            now_ms - n.seen_ms <= after_ms)
            continue;
        n.status = COORD_OFFLINE;
        marked += commit((int)i, &n, 1) == 0;
    }
    return marked;
}

/* --- sovereigns ------------------------------------------------------------ */

int registry_is_sovereign(const uint8_t pub[ED25519_PUB_LEN])
{
    size_t i;

    for (i = 0; i < n_sovereigns; i++)
        if (memcmp(sovereigns[i].pub, pub, ED25519_PUB_LEN) == 0)
            return 1;
    return 0;
}

int registry_sovereign_add(const uint8_t pub[ED25519_PUB_LEN], const char *desc)
{
    struct coord_sovereign next[BOARD_COORD_SOVEREIGNS];
    int rc;

    if (registry_is_sovereign(pub))
        return MG_ERR_EXIST;
    if (!mounted)
        return MG_ERR_IO;
    if (sovereigns_corrupt)
        return MG_ERR_CORRUPT;
    if (pool_take(&coord_sovereigns_pool) != 0)
        return MG_ERR_NOSPC;
    memcpy(next, sovereigns, sizeof(next));
    memcpy(next[n_sovereigns].pub, pub, ED25519_PUB_LEN);
    memset(next[n_sovereigns].desc, 0, COORD_DESC_MAX);
    strncpy(next[n_sovereigns].desc, desc ? desc : "", COORD_DESC_MAX - 1);
    rc = recstore_write(&store, REC_SOVEREIGNS, rec, encode_sovereigns(next, n_sovereigns + 1));
    if (rc != 0) {
        pool_give(&coord_sovereigns_pool);
        return rc;
    }
    sovereigns[n_sovereigns] = next[n_sovereigns];
    n_sovereigns++;
    return 0;
}

size_t registry_sovereign_count(void)
{
    return n_sovereigns;
}

const struct coord_sovereign *registry_sovereign_at(size_t i)
{
    return i < n_sovereigns ? &sovereigns[i] : NULL;
}

/* --- status names ----------------------------------------------------------- */

static const char *const status_names[COORD_N_STATUS] = { "pending", "active", "denied",
                                                           "offline" };

const char *coord_status_name(enum coord_status st)
{
    return (unsigned)st < COORD_N_STATUS ? status_names[st] : "unknown";
}

int coord_status_parse(const char *name, enum coord_status *out)
{
    int i;

    for (i = 0; i < COORD_N_STATUS; i++)
        if (strcmp(name, status_names[i]) == 0) {
            *out = (enum coord_status)i;
            return 0;
        }
    return MG_ERR_INVAL;
}
