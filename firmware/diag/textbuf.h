/* Appending formatted text to a fixed buffer; an overflow is remembered, so
 * a caller checks once at the end instead of after every append. */
#ifndef TEXTBUF_H
#define TEXTBUF_H

#include <stddef.h>
#include <stdint.h>

struct textbuf {
    char *p;
    size_t cap, len;
    int overflow;
};

void textbuf_init(struct textbuf *b, char *mem, size_t cap);
void textbuf_printf(struct textbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends s as it is, and v in decimal: for hot paths, where printf's
 * parsing of its format shows (an HTTP response head per request). */
void textbuf_puts(struct textbuf *b, const char *s);
void textbuf_u64(struct textbuf *b, uint64_t v);

/* Appends s as a JSON string the way Python's json.dumps writes it by
 * default (ensure_ascii): \" \\ \n \r \t \b \f, other controls, DEL and
 * every non-ASCII code point as \uXXXX (lowercase, astral ones as surrogate
 * pairs). s is UTF-8; a malformed byte is written as \ufffd. */
void textbuf_json_string(struct textbuf *b, const char *s);

#endif
