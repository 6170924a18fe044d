/* meshctl's HTTP/1.1 client: one blocking request per connection over the
 * host's sockets (meshctl is a host tool, not firmware). */
#ifndef MESHCTL_HTTP_H
#define MESHCTL_HTTP_H

#include <stddef.h>

struct mctl_url {
    char host[256];
    char port[6];
    char path[1024];      /* "/" when the URL has none */
};

/* Splits "http://host[:port][/path]"; 0, or -1 with a message on stderr. */
int mctl_url_parse(const char *url, struct mctl_url *out);

struct mctl_response {
    int status;
    char body[65536];
    size_t body_len;
};

/* Sends one request to u's host and port with path (u->path when NULL),
 * extra header lines (each "Name: value\r\n", or NULL) and a body, and reads
 * the whole response (10 s timeout). 0, or -1 with a message on stderr. */
int mctl_http(const struct mctl_url *u, const char *method, const char *path,
              const char *headers, const void *body, size_t len, struct mctl_response *r);

/* A TCP connection to u's host and port (10 s send and receive timeouts):
 * the descriptor, or -1 with a message on stderr. For the WebSocket client. */
int mctl_connect(const struct mctl_url *u);

/* Writes all n bytes: 0, or -1. */
int mctl_send_all(int fd, const void *p, size_t n);

#endif
