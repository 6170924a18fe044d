/* Delivery tracking for the relay's messages (PROTOCOLS.md section 2,
 * /api/v1/delivery/status): a message is known by its envelope timestamp;
 * it is delivered when the recipient acks it and read when the recipient
 * sends a read receipt. Entries live 24 hours in a fixed table
 * (BOARD_DELIVERY_SLOTS); when the table is full of live entries the oldest
 * one is forgotten, since losing a status is better than refusing a
 * message. RAM only. Times are wall-clock ms. */
#ifndef DELIVERY_H
#define DELIVERY_H

#include <stdint.h>

#include "pool.h"

#define DELIVERY_KEEP_MS (24ll * 3600 * 1000)

struct delivery_status {
    int64_t timestamp;     /* the message's timestamp, its key */
    int64_t sent_at;       /* when the relay accepted it */
    int64_t delivered_at;  /* 0: not yet */
    int64_t read_at;       /* 0: not yet */
};

/* A message was accepted at now. A timestamp already tracked keeps its
 * first sent_at. */
void delivery_sent(int64_t timestamp, int64_t now);

/* The recipient acked / read it: MG_ERR_NOENT when it is not tracked. Read
 * implies delivered. The first time of each is kept. */
int delivery_delivered(int64_t timestamp, int64_t now);
int delivery_read(int64_t timestamp, int64_t now);

/* The status of a tracked message at now: 0, or MG_ERR_NOENT when it was
 * never tracked or is older than DELIVERY_KEEP_MS. */
int delivery_lookup(int64_t timestamp, int64_t now, struct delivery_status *out);

/* Forgets every entry and the counts (boot, tests). */
void delivery_reset(void);

/* The table's use, high-water and entries forgotten to make room. */
extern struct pool_stat delivery_pool;

#endif
