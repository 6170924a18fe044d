/* Read-only walking of a jsmn token array, for tests that read JSON files. */
#ifndef JSON_WALK_H
#define JSON_WALK_H

#include <stddef.h>

#include "jsmn.h"

struct json_doc {
    const char *text;
    jsmntok_t *tok;
    int count;
};

/* Parses text into the caller's token array; 0, or -1 when it does not parse. */
int json_parse(struct json_doc *d, const char *text, size_t len, jsmntok_t *tok, int max);
/* The token after the whole value at i. */
int json_skip(const struct json_doc *d, int i);
/* The value of key in the object at obj, or -1. */
int json_get(const struct json_doc *d, int obj, const char *key);
/* 1 when the string token at i equals s. */
int json_eq(const struct json_doc *d, int i, const char *s);
/* The number at i as a long (0 if it is not a number). */
long json_long(const struct json_doc *d, int i);
/* Decodes the hex string at i into out; its length in bytes, or -1. */
long json_hex(const struct json_doc *d, int i, unsigned char *out, size_t cap);
/* 1 when the array at arr holds the string s. */
int json_array_has(const struct json_doc *d, int arr, const char *s);

#endif
