/* Appending formatted text to a fixed buffer; an overflow is remembered, so
 * a caller checks once at the end instead of after every append. */
#ifndef TEXTBUF_H
#define TEXTBUF_H

#include <stddef.h>

struct textbuf {
    char *p;
    size_t cap, len;
    int overflow;
};

void textbuf_init(struct textbuf *b, char *mem, size_t cap);
void textbuf_printf(struct textbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
