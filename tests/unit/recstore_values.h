/* Record payloads a test can write and later recognise, for the record
 * store's unit tests and its power-cut sweep. */
#ifndef TEST_RECSTORE_VALUES_H
#define TEST_RECSTORE_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include "store/recstore.h"

/* Version v of id into out (RECSTORE_MAX_LEN bytes): distinct per (id, v),
 * 200 to 999 bytes long; returns the length. */
size_t rec_value(uint16_t id, unsigned v, uint8_t *out);

/* 1 when id reads back from s as exactly version v. */
int rec_reads_as(struct recstore *s, uint16_t id, unsigned v);

/* A reboot: closes and reopens the test's flash image, then mounts the
 * keys partition into s. 0, or an error. */
int rec_remount(struct recstore *s);

#endif
