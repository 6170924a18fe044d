/* Strict JSON (RFC 8259) over jsmn tokens, for request bodies and configs.
 *
 * jsmn tokenises without allocating but is lenient (it takes "tru", "1-2",
 * raw control bytes, bad UTF-8, trailing garbage); json_parse() first checks
 * the whole text against the RFC 8259 grammar itself (UTF-8 validated, depth
 * capped at JSON_MAX_DEPTH, exactly one value with only whitespace around it)
 * and only then lets jsmn fill the caller's token array. Everything else here
 * reads that array: values are never copied unless the caller asks for a
 * decoded string. No heap, no stdio. */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>
#include <stdint.h>

#include "jsmn.h"

#define JSON_MAX_DEPTH 32

struct json_doc {
    const char *text;
    size_t len;
    const jsmntok_t *tok;
    int count;            /* tokens filled */
};

/* Parses text[0..len) into tok[0..max_tok). 0 on success, with d filled and
 * value 0 the top-level value (which may be a scalar). MG_ERR_INVAL for
 * anything that is not one strict JSON value (Python's json.loads would
 * refuse it, or it holds an object with a repeated key, or nesting deeper
 * than JSON_MAX_DEPTH; also NaN/Infinity and a byte order mark, which Python
 * takes); MG_ERR_NOSPC when its grammar is valid but it needs more than
 * max_tok tokens (one per value and one per key; repeated keys are looked
 * for only once the tokens fit); MG_ERR_TOOBIG when len does not fit an int.
 * On failure d->count is 0, so every reader below finds nothing. Reads
 * nothing past text[len - 1]; NUL bytes are not terminators (and are
 * refused). */
int json_parse(struct json_doc *d, const char *text, size_t len, jsmntok_t *tok, int max_tok);

/* The index of the token after the whole value at i (d->count after the
 * last one), -1 if i is out of range. O(log count). For an object member's
 * key at k it is k + 1, its value. */
int json_skip(const struct json_doc *d, int i);

/* What the value at i is: the jsmn type, the primitive told apart by its
 * first byte. An index out of range (json_get's -1) reads as JSON_NULL, as a
 * missing member reads as None in Python's dict.get(). */
enum json_kind { JSON_OBJECT, JSON_ARRAY, JSON_STRING, JSON_NUMBER, JSON_TRUE, JSON_FALSE,
                 JSON_NULL };
enum json_kind json_kind(const struct json_doc *d, int i);

/* The value of key (compared after unescaping) in the object at obj, or -1
 * (also when obj is not an object). */
int json_get(const struct json_doc *d, int obj, const char *key);

/* Iterating: the first member's key token of the object at obj (or the first
 * element of the array), -1 if empty; json_next() moves past a key and its
 * value (object) or one element (array), -1 after the last. For an object
 * member at key index k the value is k + 1. */
int json_first(const struct json_doc *d, int container);
int json_next(const struct json_doc *d, int container, int i);
/* Members of an object / elements of an array; MG_ERR_INVAL (-1) for
 * anything else. */
int json_size(const struct json_doc *d, int container);

/* 1 when the string at i, unescaped, equals s (NUL-terminated UTF-8); 0 for
 * anything else, and for a string holding \u0000 or a lone surrogate, which
 * no such s can hold. */
int json_str_eq(const struct json_doc *d, int i, const char *s);

/* Unescapes the string at i into out (UTF-8, NUL-terminated, at most cap
 * bytes with the NUL). Returns its length; MG_ERR_INVAL if i is not a string
 * or holds \u0000 or a lone surrogate; MG_ERR_TOOBIG if it does not fit. */
int json_str(const struct json_doc *d, int i, char *out, size_t cap);

/* The number at i as an integer: only -?digits without fraction or exponent
 * that fit int64_t (-0 is 0). MG_ERR_INVAL otherwise (not a number, 1.5,
 * 1e3, overflow), *out untouched. */
int json_int(const struct json_doc *d, int i, int64_t *out);

/* The boolean at i: 0 and *out set, or MG_ERR_INVAL. */
int json_bool(const struct json_doc *d, int i, int *out);

/* Writes the value at i in the canonical form of Python's
 *     json.dumps(v, sort_keys=True, separators=(",", ":"))     (ensure_ascii)
 * through emit: keys sorted by code point at every level (an escaped
 * surrogate pair is one astral code point, a lone \ud800 is 0xD800 and is
 * written back as \ud800, as Python does), no whitespace, strings re-escaped
 * as Python does (\" \\ \b \f \n \r \t, other controls, DEL (0x7f) and every
 * non-ASCII code point as \uXXXX lowercase, astral ones as surrogate pairs,
 * "/" unescaped), numbers as their original text, true/false/null. Members
 * of the object at i (only that level) whose key is in skip (NULL-terminated
 * list, or NULL) are left out. Returns 0; MG_ERR_NOSPC if an object in the
 * value has more than JSON_MAX_MEMBERS members (the sort is done in a fixed
 * array per level, on the stack), checked before anything is emitted;
 * MG_ERR_INVAL if i is out of range. */
#define JSON_MAX_MEMBERS 256
typedef void (*json_emit_fn)(void *ctx, const char *p, size_t n);
int json_canon(const struct json_doc *d, int i, const char *const *skip, json_emit_fn emit,
               void *ctx);

#endif
