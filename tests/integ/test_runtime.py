"""The runtime over the network: the relay port's /health and /diagnostics,
and the HTTP engine's answers to bad input. Each test leaves the gateway
serving."""
import json
import re
import socket
import subprocess
import time

from conftest import parse_response, read_response


def recv_until(s, suffix):
    got = b""
    while not got.endswith(suffix):
        b = s.recv(4096)
        assert b, f"connection closed after {got!r}"
        got += b
    return got


def test_health_answers_ok(gateway):
    status, headers, body = gateway.request("GET", "/health")
    assert status == 200
    assert headers["content-type"] == "text/plain"
    assert body == b"ok"


def test_unknown_path_gets_the_relay_404_json(gateway):
    status, _, body = gateway.request("GET", "/nope")
    assert status == 404
    assert json.loads(body) == {"error": "Not found."}


def test_wrong_method_on_known_path_is_405(gateway):
    status, _, body = gateway.request("POST", "/health", b"x")
    assert status == 405
    assert json.loads(body)["error"] == "method_not_allowed"


def test_keep_alive_serves_many_requests_on_one_connection(gateway):
    with gateway.connect() as s:
        for _ in range(50):
            s.sendall(b"GET /health HTTP/1.1\r\nHost: g\r\n\r\n")
            got = recv_until(s, b"ok")
            assert got.startswith(b"HTTP/1.1 200 ")


def test_pipelined_requests_are_answered_in_order(gateway):
    req = b"GET /health HTTP/1.1\r\nHost: g\r\n\r\nGET /nope HTTP/1.1\r\nHost: g\r\n\r\n" \
          b"GET /health HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n"
    raw = gateway.raw(req)
    statuses = [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", raw)]
    assert statuses == [200, 404, 200]


def test_malformed_request_line_is_400_and_closes(gateway):
    status, headers, body = parse_response(gateway.raw(b"GARBAGE\r\n\r\n"))
    assert status == 400
    assert headers["connection"] == "close"
    assert json.loads(body)["error"] == "bad_request"
    assert gateway.request("GET", "/health")[0] == 200


def test_oversize_headers_are_431(gateway):
    big = b"X-Big: " + b"a" * 8000 + b"\r\n"
    status, _, body = parse_response(gateway.raw(b"GET /health HTTP/1.1\r\nHost: g\r\n" + big + b"\r\n"))
    assert status == 431
    assert json.loads(body)["error"] == "headers_too_large"
    assert gateway.request("GET", "/health")[0] == 200


def test_oversize_body_is_413_before_it_is_sent(gateway):
    req = b"POST /health HTTP/1.1\r\nHost: g\r\nContent-Length: 10000000\r\n\r\n"
    status, _, body = parse_response(gateway.raw(req))
    assert status == 413


def test_chunked_body_is_411(gateway):
    req = b"POST /health HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    status, _, _ = parse_response(gateway.raw(req))
    assert status == 411


def test_invalid_content_length_is_400(gateway):
    req = b"POST /health HTTP/1.1\r\nHost: g\r\nContent-Length: -5\r\n\r\n"
    assert parse_response(gateway.raw(req))[0] == 400


def test_slow_client_gets_408_and_the_gateway_keeps_serving(gateway):
    with gateway.connect() as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHo")
        start = time.time()
        raw = read_response(s, timeout=10)
    assert parse_response(raw)[0] == 408
    assert time.time() - start < 8
    assert gateway.request("GET", "/health")[0] == 200


def diagnostics(gateway):
    status, _, body = gateway.request("GET", "/diagnostics")
    assert status == 200
    return json.loads(body)


def pool(d, name):
    return next(p for p in d["firmware"]["pools"] if p["name"] == name)


def test_a_full_pool_of_busy_connections_answers_503_busy(gateway):
    size = pool(diagnostics(gateway), "http_conns")["capacity"]
    busy = []
    try:
        # Each holds half a request, so none is idle and none can be evicted.
        for i in range(size):
            try:
                s = gateway.connect()
            except OSError as e:
                d = diagnostics(gateway)
                raise AssertionError(f"connect {i} failed ({e}): tcp {d['firmware']['tcp']}, "
                                     f"{[p for p in d['firmware']['pools'] if 'TCP' in p['name'] or 'http' in p['name']]}")
            s.sendall(b"GET /health HTTP/1.1\r\n")
            busy.append(s)
        time.sleep(0.2)
        raw = gateway.raw(b"GET /health HTTP/1.1\r\nHost: g\r\n\r\n")
        status, headers, body = parse_response(raw)
        assert status == 503
        assert json.loads(body) == {"error": "busy"}
    finally:
        for s in busy:
            s.close()
    time.sleep(0.3)
    assert gateway.request("GET", "/health")[0] == 200


def test_diagnostics_show_no_heap_calls_after_seal_under_load(gateway):
    with gateway.connect() as s:
        for _ in range(2000):
            s.sendall(b"GET /health HTTP/1.1\r\nHost: g\r\n\r\n")
            got = recv_until(s, b"ok")
    d = diagnostics(gateway)
    assert d["firmware"]["heap"]["sealed"] is True
    assert d["firmware"]["heap"]["callsAfterSeal"] == 0
    assert d["firmware"]["http"]["requests"] >= 2000
    names = {p["name"] for p in d["firmware"]["pools"]}
    assert "http_conns" in names and "lwip.TCP_PCB" in names
    assert set(d["queueDepthHistogram"]) == {"0", "1-5", "6-20", "21+"}


def test_ping_gets_icmp_echo_replies(gateway):
    out = subprocess.run(["ping", "-c", "3", "-i", "0.2", "-W", "2", gateway.ip],
                         capture_output=True, text=True, timeout=20).stdout
    assert re.search(r"3 packets transmitted, 3 received", out), out


def test_a_client_reusing_the_port_of_a_connection_in_time_wait_is_served(gateway):
    # The gateway closes first (Connection: close), so it keeps the port pair
    # in TIME-WAIT for 2 min; a client may reuse its port at once.
    probe = socket.socket()
    probe.bind(("10.42.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    for attempt in range(2):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("10.42.0.1", port))
        s.settimeout(5)
        s.connect((gateway.ip, 8080))
        s.sendall(b"GET /health HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n")
        status, _, body = parse_response(read_response(s, 5))
        s.close()
        assert status == 200 and body == b"ok", attempt
        time.sleep(0.2)
    assert diagnostics(gateway)["firmware"]["tcp"]["timeWait"] >= 1
