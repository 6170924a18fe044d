/* libFuzzer target for mailbox replication's bodies (PROTOCOLS.md 5,
 * firmware/repl/replica.c): arbitrary bytes as a pushed body and as a push's
 * answer. Checked: nothing crashes or reads out of bounds; an accepted
 * replica has a section 5 msg_id, relay ids and an envelope inside the body
 * and no larger than allowed; written back ({"envelope":...}) it parses
 * again into the same fields; a push's answer always gets one of the three
 * outcomes. libFuzzer adds the inputs it finds to the first directory, so
 * never name the checked-in one first. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "diag/textbuf.h"
#include "repl/replica.h"

#define MUST(cond)                                                             \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

#define MAX_ENVELOPE 4096

static char again[2 * MAX_ENVELOPE + 1024];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data, *why = NULL;
    struct replica r, r2;
    struct textbuf b;
    int dup = 0;
    enum replica_outcome o = replica_outcome(200, body, size, &dup);

    MUST(o == REPLICA_OK || o == REPLICA_REFUSED || o == REPLICA_RETRY);
    MUST(!dup || o == REPLICA_OK);
    if (replica_parse(body, size, MAX_ENVELOPE, &r, &why) != 0) {
        MUST(why != NULL);
        return 0;
    }
    MUST(replica_msg_id_ok(r.msg_id));
    MUST(r.from[0] && r.to[0] && r.deposited_at > 0);
    MUST(r.envelope >= body && r.envelope + r.envelope_len <= body + size);
    MUST(r.envelope_len > 0 && r.envelope_len <= MAX_ENVELOPE);
    textbuf_init(&b, again, sizeof(again));
    textbuf_printf(&b, "{\"envelope\":");
    replica_write(&b, &r);
    textbuf_printf(&b, "}");
    MUST(!b.overflow);
    MUST(replica_parse(again, b.len, MAX_ENVELOPE, &r2, &why) == 0);
    MUST(strcmp(r.msg_id, r2.msg_id) == 0 && strcmp(r.from, r2.from) == 0 &&
         strcmp(r.to, r2.to) == 0 && r.deposited_at == r2.deposited_at);
    MUST(r.envelope_len == r2.envelope_len && memcmp(r.envelope, r2.envelope, r.envelope_len) == 0);
    return 0;
}
