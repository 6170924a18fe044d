"""The firmware's outbound HTTP client, driven from the console's `fetch`
against servers on the namespace side of the TAP (10.42.0.1)."""
import http.server
import re
import socket
import threading
import time

import pytest

HOST_IP = "10.42.0.1"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/hello":
            body = b"hello from the host"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/no-length":
            # HTTP/1.0 style: the body ends when the server closes.
            self.wfile.write(b"HTTP/1.0 201 Created\r\n\r\nuntil close")
            self.close_connection = True
        elif self.path == "/big":
            body = b"x" * 100000
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/chunked":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"2\r\nok\r\n0\r\n\r\n")
            self.close_connection = True
        elif self.path == "/garbage":
            self.wfile.write(b"SSH-2.0-OpenSSH\r\n\r\n")
            self.close_connection = True
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    srv = http.server.ThreadingHTTPServer((HOST_IP, 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()


def fetch(gateway, target, path="", timeout=10):
    start = len(gateway.output())
    out = gateway.console(f"fetch {target} {path}".strip())
    assert "fetch: GET http://" in out, out
    return gateway.wait_output(r"fetch: (\d+, \d+ bytes\n.*|failed: .*)\n", start, timeout).group(1)


def test_fetch_reads_a_response_with_content_length(gateway, server):
    assert fetch(gateway, f"{HOST_IP}:{server}", "/hello") == "200, 19 bytes\nhello from the host"


def test_fetch_reads_a_body_ended_by_close(gateway, server):
    assert fetch(gateway, f"{HOST_IP}:{server}", "/no-length") == "201, 11 bytes\nuntil close"


def test_fetch_reports_status_codes_as_they_are(gateway, server):
    assert fetch(gateway, f"{HOST_IP}:{server}", "/missing").startswith("404, ")


def test_oversize_response_is_refused_not_overflowed(gateway, server):
    got = fetch(gateway, f"{HOST_IP}:{server}", "/big")
    assert got.startswith("failed: response larger than the client's buffer")
    assert gateway.request("GET", "/health")[0] == 200


def test_malformed_responses_are_refused_and_the_client_keeps_working(gateway, server):
    assert fetch(gateway, f"{HOST_IP}:{server}", "/chunked").startswith(
        "failed: chunked responses are not supported")
    assert fetch(gateway, f"{HOST_IP}:{server}", "/garbage").startswith(
        "failed: not an HTTP/1.x response")
    # No slot was lost to them: four more requests (every slot) all finish.
    for _ in range(4):
        assert fetch(gateway, f"{HOST_IP}:{server}", "/hello").startswith("200, ")
    assert re.search(r"^http_clients +4 +0 ", gateway.console("mem"), re.M)


def test_connection_refused_is_reported(gateway):
    s = socket.socket()
    s.bind((HOST_IP, 0))
    port = s.getsockname()[1]
    s.close()   # nothing listens there now
    assert fetch(gateway, f"{HOST_IP}:{port}", "/").startswith("failed: connection refused")


def test_unreachable_host_times_out_after_5_seconds_without_blocking(gateway):
    start = time.time()
    out_start = len(gateway.output())
    gateway.console("fetch 10.42.0.99:80 /")
    # The loop keeps serving while the connect is pending.
    assert gateway.request("GET", "/health")[0] == 200
    assert "address" in gateway.console("status")
    m = gateway.wait_output(r"fetch: failed: (.*)\n", out_start, timeout=15)
    assert m.group(1).startswith("connect timed out after 5 s")
    assert 4.5 < time.time() - start < 9


def test_bad_fetch_arguments_get_clear_messages(gateway):
    assert "usage: fetch" in gateway.console("fetch")
    assert "bad port" in gateway.console("fetch 10.42.0.1:99999 /")
    assert "cannot start: " in gateway.console("fetch not-an-ip /")
