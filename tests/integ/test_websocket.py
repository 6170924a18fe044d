"""The HTTP engine's WebSocket path (RFC 6455), through the relay port's
live diagnostics socket: a real client library for the happy paths, raw
frames for the protocol faults a client library would never send."""
import asyncio
import base64
import json
import os
import struct

import websockets

from conftest import parse_response, read_response

URL = "ws://10.42.0.2:8080/diagnostics/live"


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


def test_live_diagnostics_answer_over_a_websocket(gateway):
    async def go():
        async with websockets.connect(URL) as ws:
            await ws.send("diagnostics")
            first = json.loads(await ws.recv())
            await ws.send("diagnostics")
            second = json.loads(await ws.recv())
            await ws.send("what")
            unknown = json.loads(await ws.recv())
            return first, second, unknown
    first, second, unknown = run(go())
    assert first["firmware"]["http"]["wsUpgrades"] >= 1
    assert second["firmware"]["http"]["wsMessages"] > first["firmware"]["http"]["wsMessages"]
    assert second["firmware"]["heap"]["callsAfterSeal"] == 0
    assert unknown == {"error": "unknown_request"}


def test_ping_is_answered_and_fragments_are_reassembled(gateway):
    async def go():
        async with websockets.connect(URL) as ws:
            pong = await ws.ping(b"are you there")
            await asyncio.wait_for(pong, 5)
            await ws.send(["diag", "nost", "ics"])   # three frames, one message
            return json.loads(await ws.recv())
    assert "firmware" in run(go())


def test_client_close_is_echoed_with_its_code(gateway):
    async def go():
        ws = await websockets.connect(URL)
        await ws.close(code=1000, reason="bye")
        return ws.close_code
    assert run(go()) == 1000


def handshake(gateway):
    key = base64.b64encode(os.urandom(16)).decode()
    s = gateway.connect()
    s.sendall(("GET /diagnostics/live HTTP/1.1\r\nHost: g\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
               f"Sec-WebSocket-Key: {key}\r\n\r\n").encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        b = s.recv(1)
        assert b, head
        head += b
    assert head.startswith(b"HTTP/1.1 101 ")
    return s


def frame(opcode, payload, masked=True, fin=True, declared=None):
    n = len(payload) if declared is None else declared
    b0 = (0x80 if fin else 0) | opcode
    m = 0x80 if masked else 0
    if n < 126:
        head = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, m | 126, n)
    else:
        head = struct.pack("!BBQ", b0, m | 127, n)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))


def close_code_of(s):
    """Reads the server's frames until its close; returns the close code and
    checks the TCP connection then ends."""
    data = read_response(s, timeout=5)
    i = 0
    while i + 2 <= len(data):
        op, ln = data[i] & 0x0F, data[i + 1] & 0x7F
        i += 2
        if ln == 126:
            ln = struct.unpack("!H", data[i:i + 2])[0]
            i += 2
        if op == 0x8:
            return struct.unpack("!H", data[i:i + 2])[0] if ln >= 2 else None
        i += ln
    raise AssertionError(f"no close frame in {data!r}")


def test_unmasked_client_frame_is_closed_with_1002(gateway):
    s = handshake(gateway)
    s.sendall(frame(0x1, b"diagnostics", masked=False))
    assert close_code_of(s) == 1002
    assert gateway.request("GET", "/health")[0] == 200


def test_oversize_message_is_closed_with_1009_before_its_payload(gateway):
    s = handshake(gateway)
    s.sendall(frame(0x1, b"", declared=100000)[:14])   # the header alone
    assert close_code_of(s) == 1009
    s = handshake(gateway)
    # The limit holds across fragments too.
    s.sendall(frame(0x1, b"a" * 800, fin=False) + frame(0x0, b"b" * 800))
    assert close_code_of(s) == 1009


def test_binary_request_is_closed_with_1003(gateway):
    s = handshake(gateway)
    s.sendall(frame(0x2, b"\x00\x01"))
    assert close_code_of(s) == 1003


def test_invalid_utf8_text_is_closed_with_1007(gateway):
    s = handshake(gateway)
    s.sendall(frame(0x1, b"\xc0\xaf"))
    assert close_code_of(s) == 1007


def test_upgrade_errors_are_json_answers(gateway):
    status, _, body = gateway.request("GET", "/diagnostics/live")
    assert status == 426 and json.loads(body)["error"] == "upgrade_required"
    hdr = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "not-a-key"}
    status, _, body = gateway.request("GET", "/diagnostics/live", headers=hdr)
    assert status == 400 and json.loads(body)["error"] == "bad_websocket_key"
    hdr.update({"Sec-WebSocket-Version": "8", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    status, _, body = gateway.request("GET", "/diagnostics/live", headers=hdr)
    assert status == 426 and json.loads(body)["error"] == "unsupported_websocket_version"
    assert gateway.request("GET", "/health")[0] == 200
