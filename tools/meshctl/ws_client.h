/* meshctl's WebSocket client (RFC 6455) over a blocking socket: the
 * handshake, text frames out (masked, as a client must), and text frames
 * in (a ping is answered, a close ends it). One connection at a time. */
#ifndef MESHCTL_WS_CLIENT_H
#define MESHCTL_WS_CLIENT_H

#include <stddef.h>

#include "http.h"

/* Opens target (path and query) on u's host with extra header lines
 * ("Name: value\r\n" each, or NULL). The descriptor, or -1 with a message
 * on stderr (the HTTP status and body when the upgrade is refused). */
int mctl_ws_open(const struct mctl_url *u, const char *target, const char *headers);

/* Waits up to timeout_ms for a text frame and writes it NUL-terminated into
 * buf: its length; 0 on timeout; -1 when the connection closed or broke or
 * a frame is larger than cap - 1. */
long mctl_ws_recv(int fd, char *buf, size_t cap, int timeout_ms);

/* Sends one text frame: 0, or -1. */
int mctl_ws_send(int fd, const char *text, size_t len);

#endif
