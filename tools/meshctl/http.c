#define _GNU_SOURCE   /* strcasestr */
#include "http.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int mctl_url_parse(const char *url, struct mctl_url *out)
{
    const char *p = url, *host, *colon, *slash;
    size_t hlen;

    if (strncmp(p, "http://", 7) != 0) {
        fprintf(stderr, "meshctl: %s: only http:// URLs\n", url);
        return -1;
    }
    host = p + 7;
    slash = strchr(host, '/');
    if (!slash)
        slash = host + strlen(host);
    colon = memchr(host, ':', (size_t)(slash - host));
    hlen = (size_t)((colon ? colon : slash) - host);
    if (hlen == 0 || hlen >= sizeof(out->host)) {
        fprintf(stderr, "meshctl: %s: no host\n", url);
        return -1;
    }
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';
    if (colon) {
        size_t plen = (size_t)(slash - colon - 1);
        if (plen == 0 || plen >= sizeof(out->port) ||
            strspn(colon + 1, "0123456789") < plen) {
            fprintf(stderr, "meshctl: %s: bad port\n", url);
            return -1;
        }
        memcpy(out->port, colon + 1, plen);
        out->port[plen] = '\0';
    } else {
        strcpy(out->port, "80");
    }
    if (strlen(slash) >= sizeof(out->path)) {
        fprintf(stderr, "meshctl: %s: path too long\n", url);
        return -1;
    }
    strcpy(out->path, *slash ? slash : "/");
    return 0;
}

static int connect_to(const struct mctl_url *u)
{
    struct addrinfo hints = { 0 }, *res, *ai;
    struct timeval tv = { 10, 0 };
    int fd = -1, rc;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(u->host, u->port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "meshctl: %s: %s\n", u->host, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        fprintf(stderr, "meshctl: cannot connect to %s:%s: %s\n", u->host, u->port,
                strerror(errno));
    return fd;
}

static int send_all(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int mctl_http(const struct mctl_url *u, const char *method, const char *path,
              const char *headers, const void *body, size_t len, struct mctl_response *r)
{
    static char buf[sizeof(r->body) + 8192];
    char head[2048];
    size_t got = 0;
    const char *end, *cl;
    int fd, n;

    n = snprintf(head, sizeof(head),
                 "%s %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n%s"
                 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                 method, path ? path : u->path, u->host, u->port, headers ? headers : "", len);
    if (n < 0 || (size_t)n >= sizeof(head)) {
        fprintf(stderr, "meshctl: request head too long\n");
        return -1;
    }
    fd = connect_to(u);
    if (fd < 0)
        return -1;
    if (send_all(fd, head, (size_t)n) != 0 || (len && send_all(fd, body, len) != 0)) {
        fprintf(stderr, "meshctl: send: %s\n", strerror(errno));
        close(fd);
        return -1;
    }
    for (;;) {
        ssize_t k = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
        if (k < 0) {
            fprintf(stderr, "meshctl: receive: %s\n", strerror(errno));
            close(fd);
            return -1;
        }
        if (k == 0 || got + (size_t)k == sizeof(buf) - 1) {
            got += (size_t)k;
            break;
        }
        got += (size_t)k;
    }
    close(fd);
    buf[got] = '\0';
    end = strstr(buf, "\r\n\r\n");
    if (!end || sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1) {
        fprintf(stderr, "meshctl: not an HTTP response\n");
        return -1;
    }
    end += 4;
    r->body_len = got - (size_t)(end - buf);
    cl = strcasestr(buf, "\r\nContent-Length:");
    if (cl && cl < end) {
        size_t want = strtoul(cl + 17, NULL, 10);
        if (want < r->body_len)
            r->body_len = want;
    }
    if (r->body_len >= sizeof(r->body))
        r->body_len = sizeof(r->body) - 1;
    memcpy(r->body, end, r->body_len);
    r->body[r->body_len] = '\0';
    return 0;
}

int mctl_connect(const struct mctl_url *u)
{
    return connect_to(u);
}

int mctl_send_all(int fd, const void *p, size_t n)
{
    return send_all(fd, p, n);
}
