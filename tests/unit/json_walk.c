#include "json_walk.h"

#include <stdlib.h>
#include <string.h>

#include "hex.h"

int json_parse(struct json_doc *d, const char *text, size_t len, jsmntok_t *tok, int max)
{
    jsmn_parser p;

    jsmn_init(&p);
    d->text = text;
    d->tok = tok;
    d->count = jsmn_parse(&p, text, len, tok, (unsigned)max);
    return d->count > 0 ? 0 : -1;
}

int json_skip(const struct json_doc *d, int i)
{
    int n = d->tok[i].size, k;

    i++;
    for (k = 0; k < n; k++)
        i = json_skip(d, i);
    return i;
}

int json_eq(const struct json_doc *d, int i, const char *s)
{
    const jsmntok_t *t = &d->tok[i];
    size_t n = (size_t)(t->end - t->start);

    return t->type == JSMN_STRING && strlen(s) == n && memcmp(d->text + t->start, s, n) == 0;
}

int json_get(const struct json_doc *d, int obj, const char *key)
{
    int i = obj + 1, k;

    if (d->tok[obj].type != JSMN_OBJECT)
        return -1;
    for (k = 0; k < d->tok[obj].size; k++) {
        if (json_eq(d, i, key))
            return i + 1;
        i = json_skip(d, i);
    }
    return -1;
}

long json_long(const struct json_doc *d, int i)
{
    char buf[32];
    size_t n;

    if (i < 0 || d->tok[i].type != JSMN_PRIMITIVE)
        return 0;
    n = (size_t)(d->tok[i].end - d->tok[i].start);
    if (n >= sizeof(buf))
        return 0;
    memcpy(buf, d->text + d->tok[i].start, n);
    buf[n] = '\0';
    return strtol(buf, NULL, 10);
}

long json_hex(const struct json_doc *d, int i, unsigned char *out, size_t cap)
{
    if (i < 0 || d->tok[i].type != JSMN_STRING)
        return -1;
    return hex_decode(d->text + d->tok[i].start, (size_t)(d->tok[i].end - d->tok[i].start),
                      out, cap);
}

int json_array_has(const struct json_doc *d, int arr, const char *s)
{
    int i = arr + 1, k;

    if (arr < 0 || d->tok[arr].type != JSMN_ARRAY)
        return 0;
    for (k = 0; k < d->tok[arr].size; k++) {
        if (json_eq(d, i, s))
            return 1;
        i = json_skip(d, i);
    }
    return 0;
}
