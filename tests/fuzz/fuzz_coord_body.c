/* libFuzzer target for the coordinator's requests (firmware/coord/api.c):
 * the first byte picks an endpoint of PROTOCOLS.md 3, the rest is its body
 * (or, for the GETs, its query), answered by coord_api() over a registry
 * mounted once on a flash image in a temporary directory, holding one
 * sovereign, one active node and one pending node. Checked: nothing
 * crashes or reads out of bounds; every answer has a known status, fits
 * the answer buffer and is one strict JSON object; no request changes the
 * registry without a valid signature (the fuzzer cannot forge one), so the
 * counts stay as set up. libFuzzer adds the inputs it finds to the first
 * directory, so never name the checked-in one first. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coord/api.h"
#include "coord/registry.h"
#include "ed25519.h"
#include "flash.h"
#include "json/json.h"

#define MUST(cond)                                                             \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

#define WALL 1700000000000LL

static char answer[COORD_ANSWER_MAX];
static jsmntok_t tok[4096];
static char dir[64], image[96];

static const char *const paths[] = {
    "/register", "/heartbeat", "/approve/n-pending", "/deny/n-pending", "/approve/n-active",
    "/sovereign/add", "/nodes", "/nodes/n-active", "/topology", "/health", "/approve/x%2f",
};

static void remove_image(void)
{
    hal_flash_close();
    unlink(image);
    rmdir(dir);
}

/* A node of seed 2's key with status st. */
static void add_node(const char *id, enum coord_status st)
{
    struct coord_node n;
    uint8_t seed[32] = { 0 };

    memset(&n, 0, sizeof(n));
    seed[31] = 2;
    ed25519_public_key(seed, n.pub);
    snprintf(n.id, sizeof(n.id), "%s", id);
    strcpy(n.host, "host");
    n.status = st;
    MUST(registry_add(&n) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    uint8_t seed[32] = { 0 }, pub[32];

    (void)argc;
    (void)argv;
    strcpy(dir, access("/dev/shm", W_OK) == 0 ? "/dev/shm/mg-fuzz-XXXXXX" : "/tmp/mg-fuzz-XXXXXX");
    MUST(mkdtemp(dir) != NULL);
    snprintf(image, sizeof(image), "%s/flash.img", dir);
    MUST(hal_flash_open(image) == 0);
    atexit(remove_image);
    MUST(registry_mount(hal_flash_part("registry"), 0, WALL) == 0);
    seed[31] = 1;
    ed25519_public_key(seed, pub);
    MUST(registry_sovereign_add(pub, "fuzz") == 0);
    add_node("n-active", COORD_ACTIVE);
    add_node("n-pending", COORD_PENDING);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct textbuf out;
    struct json_doc d;
    struct http_str path, query = { "", 0 };
    const char *p;
    int status, get;

    if (size == 0)
        return 0;
    p = paths[data[0] % (sizeof(paths) / sizeof(paths[0]))];
    get = data[0] % (sizeof(paths) / sizeof(paths[0])) >= 6;
    path.p = p;
    path.len = strlen(p);
    if (get) {
        query.p = (const char *)data + 1;
        query.len = size - 1;
    }
    textbuf_init(&out, answer, sizeof(answer));
    status = coord_api(get ? HTTP_GET : HTTP_POST, path, query, (const char *)data + 1, size - 1,
                       1000, WALL, &out);
    MUST(!out.overflow);
    MUST(status == 200 || status == 201 || status == 400 || status == 401 || status == 403 ||
         status == 404 || status == 409 || status == 503);
    MUST(json_parse(&d, answer, out.len, tok, 4096) == 0 && json_kind(&d, 0) == JSON_OBJECT);
    MUST(registry_sovereign_count() == 1 && registry_count(COORD_ACTIVE) == 1 &&
         registry_count(COORD_PENDING) == 1 && registry_count(COORD_DENIED) == 0);
    return 0;
}
