#include "ws_client.h"

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "b64.h"
#include "crypto.h"

/* Bytes read past the handshake or a frame: kept for the next frame. */
static unsigned char rbuf[128 * 1024];
static size_t rlen;

static int fill(int fd, size_t want, int timeout_ms)
{
    while (rlen < want) {
        struct pollfd p = { fd, POLLIN, 0 };
        ssize_t k;
        int rc = poll(&p, 1, timeout_ms);
        if (rc == 0)
            return 0;
        if (rc < 0)
            return -1;
        k = recv(fd, rbuf + rlen, sizeof(rbuf) - rlen, 0);
        if (k <= 0)
            return -1;
        rlen += (size_t)k;
    }
    return 1;
}

static void consume(size_t n)
{
    memmove(rbuf, rbuf + n, rlen - n);
    rlen -= n;
}

int mctl_ws_open(const struct mctl_url *u, const char *target, const char *headers)
{
    unsigned char nonce[16];
    char key[B64_LEN(16) + 1], head[4096];
    char *end = NULL;
    int fd, n, status = 0;

    rlen = 0;
    if (mg_random(nonce, sizeof(nonce)) != 0)
        return -1;
    b64_encode(nonce, sizeof(nonce), key);
    n = snprintf(head, sizeof(head),
                 "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
                 target, u->host, u->port, key, headers ? headers : "");
    if (n < 0 || (size_t)n >= sizeof(head))
        return -1;
    fd = mctl_connect(u);
    if (fd < 0)
        return -1;
    if (mctl_send_all(fd, head, (size_t)n) != 0)
        goto fail;
    while (!end) {
        if (rlen == sizeof(rbuf) - 1 || fill(fd, rlen + 1, 10000) != 1)
            break;
        rbuf[rlen] = '\0';
        end = strstr((char *)rbuf, "\r\n\r\n");
    }
    if (!end || sscanf((char *)rbuf, "HTTP/1.%*d %d", &status) != 1 || status != 101) {
        fprintf(stderr, "meshctl: WebSocket upgrade refused (%d): %s\n", status,
                end ? end + 4 : "");
        goto fail;
    }
    consume((size_t)(end + 4 - (char *)rbuf));
    return fd;
fail:
    close(fd);
    return -1;
}

/* Sends one frame with opcode op, masked. */
static int send_frame(int fd, int op, const void *data, size_t len)
{
    unsigned char hdr[14], mask[4];
    unsigned char chunk[4096];
    const unsigned char *p = data;
    size_t h = 0, i, off;

    if (mg_random(mask, sizeof(mask)) != 0)
        return -1;
    hdr[h++] = (unsigned char)(0x80 | op);
    if (len < 126) {
        hdr[h++] = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (unsigned char)(len >> 8);
        hdr[h++] = (unsigned char)len;
    } else {
        hdr[h++] = 0x80 | 127;
        for (i = 0; i < 8; i++)
            hdr[h++] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    }
    memcpy(hdr + h, mask, 4);
    h += 4;
    if (mctl_send_all(fd, hdr, h) != 0)
        return -1;
    for (off = 0; off < len; off += sizeof(chunk)) {
        size_t n = len - off < sizeof(chunk) ? len - off : sizeof(chunk);
        for (i = 0; i < n; i++)
            chunk[i] = p[off + i] ^ mask[(off + i) & 3];
        if (mctl_send_all(fd, chunk, n) != 0)
            return -1;
    }
    return 0;
}

int mctl_ws_send(int fd, const char *text, size_t len)
{
    return send_frame(fd, 1, text, len);
}

long mctl_ws_recv(int fd, char *buf, size_t cap, int timeout_ms)
{
    for (;;) {
        uint64_t len;
        size_t h = 2, i;
        int op, rc = fill(fd, 2, timeout_ms);

        if (rc <= 0)
            return rc;
        op = rbuf[0] & 0x0f;
        len = rbuf[1] & 0x7f;
        if (rbuf[1] & 0x80)
            return -1;   /* a server never masks */
        if (len == 126)
            h = 4;
        else if (len == 127)
            h = 10;
        if (fill(fd, h, 10000) != 1)
            return -1;
        if (h == 4)
            len = (uint64_t)rbuf[2] << 8 | rbuf[3];
        else if (h == 10)
            for (len = 0, i = 2; i < 10; i++)
                len = len << 8 | rbuf[i];
        if (len + h > sizeof(rbuf) || len >= cap || fill(fd, h + (size_t)len, 10000) != 1)
            return -1;
        if (op == 8)
            return -1;
        if (op == 9)
            send_frame(fd, 10, rbuf + h, (size_t)len);
        if (op == 1 || op == 0) {
            memcpy(buf, rbuf + h, (size_t)len);
            buf[len] = '\0';
            consume(h + (size_t)len);
            return (long)len;
        }
        consume(h + (size_t)len);
    }
}
