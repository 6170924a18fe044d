"""The relay (PROTOCOLS.md section 1) driven as its clients do: register,
publish bundles, deposit envelopes, receive them over WebSocket, with
signed requests (XEdDSA by the registered identity key, an independent
Python signer) under the policy a controller pushed."""
import asyncio
import base64
import hashlib
import hmac
import json
import os
import time
import uuid

import pytest
import websockets

import xeddsa
from conftest import hmac_headers, module_gateway

SECRET = "relay-integ-secret"
WS = "ws://10.42.0.2:8080/ws"


def now_ms():
    return int(time.time() * 1000)


def b64(b):
    return base64.b64encode(b).decode()


def push_config(gw, **gateway_section):
    doc = {"identity": {"bot_name": "Joi", "allowed_senders": ["*"], "groups": {}},
           "rate_limits": {"inbound": {"max_per_hour": 0, "max_per_minute": 0}},
           "gateway": {"relay": {"auth": "signed", **gateway_section}}}
    push_doc(gw, doc)


def push_doc(gw, doc):
    body = json.dumps(doc).encode()
    st, _, resp = gw.request("POST", "/config/sync", body, hmac_headers(SECRET, body), port=8444)
    assert st == 200, resp


class Client:
    """One relay user: an id and an X25519 identity key."""

    def __init__(self, gw, name=None):
        self.gw = gw
        self.id = name or "u-" + uuid.uuid4().hex[:10]
        self.priv = os.urandom(32)
        self.identity = b"\x05" + xeddsa.public_key(self.priv)

    def headers(self, method, target, body=b"", ts=None, key=None):
        ts = str(now_ms() if ts is None else ts)
        msg = "\n".join([self.id, ts, method, target, hashlib.sha256(body).hexdigest()]).encode()
        return {"X-Mesh-Id": self.id, "X-Mesh-Timestamp": ts,
                "X-Mesh-Signature": b64(xeddsa.sign(key or self.priv, msg))}

    def post(self, path, doc, signed=True, **kw):
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        hdrs = self.headers("POST", path, body, **kw) if signed else {}
        st, h, resp = self.gw.request("POST", path, body, hdrs)
        return st, h, json.loads(resp) if resp else None

    def register(self):
        st, _, doc = self.post("/v1/register", {"id": self.id, "identityKey": b64(self.identity)})
        assert st == 200, doc
        assert doc == {"id": self.id}
        return self

    def bundle(self, one_time=()):
        return {"id": self.id, "deviceId": 1, "registrationId": 4242,
                "identityKey": b64(self.identity),
                "signedPreKey": {"keyId": 7, "publicKey": b64(b"\x05" + os.urandom(32)),
                                 "signature": b64(os.urandom(64))},
                "preKey": {"keyId": 1, "publicKey": b64(b"\x05" + os.urandom(32))},
                "preKeys": [{"keyId": k, "publicKey": b64(b"\x05" + os.urandom(32))}
                            for k in one_time]}

    def envelope(self, to, text=b"hello"):
        return {"version": 1, "senderId": self.id, "recipientId": to.id, "sessionId": "s1",
                "type": 2, "body": b64(text), "timestamp": now_ms()}

    def send(self, to, text=b"hello", **kw):
        return self.post("/v1/messages", {"from": self.id, "to": to.id,
                                          "envelope": self.envelope(to, text)}, **kw)

    def ws_url(self, ack=True):
        return f"{WS}?client_id={self.id}" + ("&ack=1" if ack else "")

    def ws_headers(self, ack=True):
        target = f"/ws?client_id={self.id}" + ("&ack=1" if ack else "")
        return self.headers("GET", target)


def run(coro, timeout=30):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def receive(client, n, ack=True, ack_them=True, timeout=5):
    async with websockets.connect(client.ws_url(ack), extra_headers=client.ws_headers(ack)) as ws:
        got = []
        try:
            while len(got) < n:
                got.append(json.loads(await asyncio.wait_for(ws.recv(), timeout)))
        except asyncio.TimeoutError:
            pass
        if ack and ack_them and got:
            await ws.send(json.dumps({"type": "ack", "ids": [m["msgId"] for m in got]}))
            await asyncio.sleep(0.2)
        return got


@pytest.fixture(scope="module")
def gw(request):
    yield from module_gateway(request, env={"MESH_HMAC_SECRET": SECRET})


@pytest.fixture
def configured(gw):
    push_config(gw)
    return gw


def diagnostics(gw):
    st, _, body = gw.request("GET", "/diagnostics")
    assert st == 200
    return json.loads(body)


def test_before_any_config_writes_are_denied_not_configured(gw):
    gw.restart()
    st, _, doc = Client(gw).post("/v1/register", {"id": "early"})
    assert st == 403 and doc == {"error": "not_configured"}


def test_after_a_reboot_mailboxes_stay_closed_until_a_config_comes(gw):
    push_config(gw)
    a, b = Client(gw).register(), Client(gw).register()
    assert a.send(b, b"kept")[0] == 200
    gw.restart()
    st, _, body = gw.request("GET", f"/ws?client_id={b.id}&ack=1", headers=b.ws_headers())
    assert st == 403 and json.loads(body) == {"error": "not_configured"}
    push_config(gw)
    assert [base64.b64decode(m["envelope"]["body"]) for m in run(receive(b, 1))] == [b"kept"]


def test_register_is_idempotent_and_binds_the_identity_key(configured):
    a = Client(configured).register()
    a.register()
    other = Client(configured, a.id)     # same id, another key
    st, _, doc = other.post("/v1/register", {"id": a.id, "identityKey": b64(other.identity)})
    assert st == 401 and doc == {"error": "invalid_signature"}   # not the bound key


def test_a_message_reaches_the_recipient_over_websocket_and_is_deleted_on_ack(configured):
    a, b = Client(configured).register(), Client(configured).register()
    sent_ms = int(time.time() * 1000)
    st, _, doc = a.send(b, b"first")
    assert st == 200 and doc == {"ok": True, "queued": True, "delivered": False}
    got = run(receive(b, 1))
    assert len(got) == 1
    m = got[0]
    assert m["from"] == a.id and m["to"] == b.id
    assert base64.b64decode(m["envelope"]["body"]) == b"first"
    # The msg_id form of PROTOCOLS.md 5, dm_<ms>_<12 hex>: the deposit time in ms.
    prefix, ms, tag = m["msgId"].split("_")
    assert prefix == "dm" and len(tag) == 12 and int(tag, 16) >= 0, m["msgId"]
    assert ms == str(int(ms)) and abs(int(ms) - sent_ms) < 60000, m["msgId"]
    assert run(receive(b, 1, timeout=1)) == []   # acked: gone


def test_unacked_messages_are_delivered_again_on_reconnect(configured):
    a, b = Client(configured).register(), Client(configured).register()
    assert a.send(b, b"again")[0] == 200
    first = run(receive(b, 1, ack_them=False))
    second = run(receive(b, 1))
    assert [m["msgId"] for m in first] == [m["msgId"] for m in second]
    assert run(receive(b, 1, timeout=1)) == []


def test_a_connected_recipient_gets_the_message_at_once(configured):
    a, b = Client(configured).register(), Client(configured).register()

    async def go():
        async with websockets.connect(b.ws_url(), extra_headers=b.ws_headers()) as ws:
            await asyncio.sleep(0.2)
            st, _, doc = await asyncio.get_running_loop().run_in_executor(None, a.send, b)
            msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
            await ws.send(json.dumps({"type": "ack", "ids": [msg["msgId"]]}))
            return st, doc, msg
    st, doc, msg = run(go())
    assert st == 200 and doc["delivered"] is True
    assert msg["from"] == a.id


def test_messages_survive_a_kill_minus_9(configured):
    a, b = Client(configured).register(), Client(configured).register()
    assert a.send(b, b"m0")[0] == 200
    assert a.send(b, b"m1")[0] == 200
    configured.restart()                 # kill -9, boot on the same flash
    push_config(configured)              # RAM-only config: pushed again
    # Registrations are durable too: b's key is still bound, nobody can
    # take its id with another key, and b connects without registering.
    thief = Client(configured, b.id)
    st, _, doc = thief.post("/v1/register", {"id": b.id, "identityKey": b64(thief.identity)})
    assert st == 401 and doc == {"error": "invalid_signature"}
    got = run(receive(b, 2))
    assert [base64.b64decode(m["envelope"]["body"]) for m in got] == [b"m0", b"m1"]
    assert run(receive(b, 1, timeout=1)) == []


def test_the_per_sender_cap_refuses_a_third_unacked_message(configured):
    a, b = Client(configured).register(), Client(configured).register()
    assert a.send(b)[0] == 200
    assert a.send(b)[0] == 200
    st, _, doc = a.send(b)
    assert st == 429
    assert doc["pending"] == 2 and doc["limit"] == 2
    run(receive(b, 2))
    assert a.send(b)[0] == 200


def test_bundles_are_served_with_one_time_prekeys_handed_out_once(configured):
    a = Client(configured).register()
    st, _, doc = a.post("/v1/prekeys", {"id": a.id, "bundle": a.bundle(one_time=[11, 12])})
    assert st == 200 and doc == {"ok": True}
    seen = []
    for _ in range(3):
        st, _, body = configured.request("GET", f"/v1/prekeys/{a.id}")
        assert st == 200
        doc = json.loads(body)
        assert doc["id"] == a.id and doc["bundle"]["identityKey"] == b64(a.identity)
        seen.append(doc["bundle"]["preKey"]["keyId"])
    assert seen == [11, 12, 1]
    st, _, body = configured.request("GET", "/v1/prekeys/nobody")
    assert st == 404 and json.loads(body) == {"error": "Prekeys not found."}


@pytest.mark.parametrize("body,status,error", [
    (b"{not json", 400, "Invalid JSON body."),
    (b"", 400, "Invalid JSON body."),
    (b"[1]", 400, "Invalid JSON body."),
    (b'{"from":1,"to":"x","envelope":{}}', 400, "Invalid request."),
])
def test_bad_message_bodies_get_400(configured, body, status, error):
    a = Client(configured).register()
    st, _, doc = a.post("/v1/messages", body)
    assert st == status and doc["error"] == error


@pytest.mark.parametrize("field,value", [
    ("version", 0), ("version", "1"), ("type", -1), ("body", ""), ("body", "not base64!"),
    ("timestamp", 0), ("senderId", 5), ("sessionId", None),
])
def test_bad_envelopes_get_400_and_change_nothing(configured, field, value):
    a, b = Client(configured).register(), Client(configured).register()
    env = a.envelope(b)
    env[field] = value
    before = diagnostics(configured)["counts"]["queuedMessages"]
    st, _, doc = a.post("/v1/messages", {"from": a.id, "to": b.id, "envelope": env})
    assert st == 400 and doc["error"] == "Invalid request.", doc
    assert diagnostics(configured)["counts"]["queuedMessages"] == before


def test_unknown_sender_recipient_and_oversize_envelopes(configured):
    a, b = Client(configured).register(), Client(configured)
    st, _, doc = a.send(b)
    assert st == 404 and doc == {"error": "Recipient not registered."}
    st, _, doc = b.send(a)
    assert st == 404 and doc == {"error": "User not registered."}
    b.register()
    st, _, doc = a.send(b, os.urandom(7000))    # 9336 base64 bytes > 8192
    assert st == 413


def test_forged_stale_and_replayed_signatures_are_refused(configured):
    a, b = Client(configured).register(), Client(configured).register()
    env = {"from": a.id, "to": b.id, "envelope": a.envelope(b)}
    body = json.dumps(env).encode()
    st, _, doc = configured.request("POST", "/v1/messages", body,
                                    a.headers("POST", "/v1/messages", body, key=os.urandom(32)))
    assert st == 401 and json.loads(doc)["error"] == "invalid_signature"
    st, _, doc = configured.request("POST", "/v1/messages", body,
                                    a.headers("POST", "/v1/messages", body, ts=now_ms() - 60000))
    assert st == 401 and json.loads(doc)["error"] == "stale_timestamp"
    hdrs = a.headers("POST", "/v1/messages", body)
    assert configured.request("POST", "/v1/messages", body, hdrs)[0] == 200
    st, _, doc = configured.request("POST", "/v1/messages", body, hdrs)
    assert st == 401 and json.loads(doc)["error"] == "replayed_signature"
    st, _, doc = configured.request("POST", "/v1/messages", body)
    assert st == 401 and json.loads(doc)["error"] == "signature_required"
    run(receive(b, 1))


def test_websocket_needs_a_registered_signed_client(configured):
    a = Client(configured)
    st, _, body = configured.request("GET", "/ws")
    assert st == 400
    st, _, body = configured.request("GET", f"/ws?client_id={a.id}")
    assert st == 401


def test_a_second_socket_supersedes_the_first_with_4000(configured):
    b = Client(configured).register()

    async def go():
        async with websockets.connect(b.ws_url(), extra_headers=b.ws_headers()) as first:
            async with websockets.connect(b.ws_url(), extra_headers=b.ws_headers()):
                try:
                    await asyncio.wait_for(first.recv(), 5)
                except websockets.ConnectionClosed as e:
                    return e.code, e.reason
    assert run(go()) == (4000, "superseded")


def test_the_kill_switch_refuses_deposits_with_503(configured):
    a, b = Client(configured).register(), Client(configured).register()
    push_doc(configured, {"identity": {"allowed_senders": ["*"]},
                          "security": {"kill_switch": True}})
    st, _, doc = a.send(b)
    assert st == 503 and doc == {"error": "kill_switch"}
    push_config(configured)
    assert a.send(b)[0] == 200
    run(receive(b, 1))


def test_diagnostics_count_the_relay_and_no_heap_is_used(configured):
    a, b = Client(configured).register(), Client(configured).register()
    for _ in range(2):
        assert a.send(b)[0] == 200
    d = diagnostics(configured)
    assert d["counts"]["users"] >= 2 and d["counts"]["queuedMessages"] >= 2
    assert d["queueDepthHistogram"]["1-5"] >= 1
    assert d["relay"]["journal"]["ok"] is True
    assert d["firmware"]["heap"]["callsAfterSeal"] == 0
    out = configured.console("relay")
    assert "deposits" in out and "journal    ok" in out
    assert f"{b.id}: 2 queued" in configured.console(f"mailbox {b.id}")
    run(receive(b, 2))


class Inbound:
    """The controller's inbound endpoint: a real HTTP server on the test
    host's side of the TAP, answering 500 to its first `fail` requests."""

    def __init__(self, fail=1):
        import http.server
        import threading
        got, outer = [], self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                got.append((dict(self.headers), body))
                status = 500 if len(got) <= outer.fail else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.fail = fail
        self.got = got
        self.server = http.server.HTTPServer(("10.42.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_envelopes_for_the_bot_are_forwarded_signed_with_retry(configured):
    inbound = Inbound(fail=1)
    try:
        push_doc(configured, {"identity": {"bot_name": "joi-bot", "allowed_senders": ["*"]},
                              "gateway": {"forwarding": {
                                  "enabled": True,
                                  "inbound_url": f"http://10.42.0.1:{inbound.port}/in"}}})
        a, bot = Client(configured).register(), Client(configured, "joi-bot").register()
        other = Client(configured).register()
        assert a.send(other, b"not for the bot")[0] == 200
        assert a.send(bot, b"for the bot")[0] == 200
        deadline = time.time() + 15
        while len(inbound.got) < 2 and time.time() < deadline:
            time.sleep(0.1)
        assert len(inbound.got) == 2, inbound.got     # one 500, then the retry
        headers, fwd = inbound.got[-1]
        assert headers["X-HMAC-SHA256"] == hmac.new(
            SECRET.encode(), headers["X-Nonce"].encode() + headers["X-Timestamp"].encode() + fwd,
            hashlib.sha256).hexdigest()
        doc = json.loads(fwd)
        assert doc["from"] == a.id and doc["to"] == "joi-bot"
        assert base64.b64decode(doc["envelope"]["body"]) == b"for the bot"
        assert inbound.got[0][1] == fwd
        d = diagnostics(configured)["relay"]["forward"]
        assert d["sent"] == 1 and d["retries"] == 1
        run(receive(bot, 1))
        run(receive(other, 1))
    finally:
        inbound.close()
        push_config(configured)


def test_delivery_status_follows_a_message_from_sent_to_delivered_to_read(configured):
    a, b = Client(configured).register(), Client(configured).register()
    env = a.envelope(b)
    ts = env["timestamp"]

    def status():
        st, _, body = configured.request("GET", f"/api/v1/delivery/status?timestamp={ts}",
                                         headers=hmac_headers(SECRET, b""), port=8444)
        assert st == 200
        return json.loads(body)["data"]

    assert status() is None
    assert a.post("/v1/messages", {"from": a.id, "to": b.id, "envelope": env})[0] == 200
    s = status()
    assert s["timestamp"] == ts and s["delivered"] is False and s["read"] is False
    assert s["delivered_at"] is None and abs(s["sent_at"] - now_ms()) < 60000
    run(receive(b, 1))
    s = status()
    assert s["delivered"] is True and s["read"] is False and s["delivered_at"] >= s["sent_at"]

    async def read_receipt():
        async with websockets.connect(b.ws_url(), extra_headers=b.ws_headers()) as ws:
            await ws.send(json.dumps({"type": "read", "timestamps": [ts]}))
            await asyncio.sleep(0.3)
    run(read_receipt())
    s = status()
    assert s["read"] is True and s["read_at"] >= s["delivered_at"]


def test_pipelined_deposits_are_answered_in_order_after_the_group_commit(configured):
    a, b, c = (Client(configured).register() for _ in range(3))
    reqs = b""
    for to, text in ((b, b"one"), (c, b"two")):
        body = json.dumps({"from": a.id, "to": to.id, "envelope": a.envelope(to, text)}).encode()
        hdrs = {"Host": "g", "Content-Length": str(len(body)),
                **a.headers("POST", "/v1/messages", body)}
        reqs += (b"POST /v1/messages HTTP/1.1\r\n" +
                 "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()).encode() + b"\r\n" + body)
    reqs += b"GET /health HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n"
    raw = configured.raw(reqs)
    assert raw.count(b"HTTP/1.1 200 OK") == 3, raw
    assert raw.index(b'"queued":true') < raw.rindex(b"\r\n\r\nok")
    assert [m["envelope"]["body"] for m in run(receive(b, 1))] == [b64(b"one")]
    assert [m["envelope"]["body"] for m in run(receive(c, 1))] == [b64(b"two")]


def test_a_full_mailbox_and_the_rate_limit_are_429(configured):
    push_config(configured, mailbox_cap=3, pending_per_sender_limit=10)
    try:
        a, b = Client(configured).register(), Client(configured).register()
        for _ in range(3):
            assert a.send(b)[0] == 200
        before = diagnostics(configured)["counts"]["queuedMessages"]
        st, _, doc = a.send(b)
        assert st == 429 and doc == {"error": "Recipient mailbox full."}
        assert diagnostics(configured)["counts"]["queuedMessages"] == before
        run(receive(b, 3))
        push_doc(configured, {"identity": {"allowed_senders": ["*"]},
                              "rate_limits": {"inbound": {"max_per_minute": 2}}})
        c = Client(configured).register()
        assert a.send(c)[0] == 200 and a.send(c)[0] == 200
        st, headers, doc = a.send(c)
        assert st == 429 and doc == {"error": "rate_limited"}
        assert 1 <= int(headers["retry-after"]) <= 60
        run(receive(c, 2))
    finally:
        push_config(configured)


def test_a_sender_not_allowed_by_the_config_is_403(configured):
    a, b = Client(configured).register(), Client(configured).register()
    push_doc(configured, {"identity": {"allowed_senders": [b.id]}})
    try:
        st, _, doc = a.send(b)
        assert st == 403 and doc == {"error": "sender_not_allowed"}
    finally:
        push_config(configured)


def test_validation_limits_of_the_config_apply_to_envelopes(configured):
    push_doc(configured, {"identity": {"allowed_senders": ["*"]},
                          "validation": {"max_text_length": 100, "max_timestamp_skew_ms": 60000}})
    try:
        a, b = Client(configured).register(), Client(configured).register()
        st, _, doc = a.send(b, os.urandom(120))        # 160 base64 bytes > 100
        assert st == 413 and doc == {"error": "Envelope too large."}
        env = a.envelope(b)
        env["timestamp"] = now_ms() - 120000
        st, _, doc = a.post("/v1/messages", {"from": a.id, "to": b.id, "envelope": env})
        assert st == 400 and "max_timestamp_skew_ms" in doc["details"]
        assert a.send(b, b"short")[0] == 200
        run(receive(b, 1))
    finally:
        push_config(configured)


def test_a_bundle_for_an_unregistered_id_is_404(configured):
    a = Client(configured)
    st, _, doc = a.post("/v1/prekeys", {"id": a.id, "bundle": a.bundle()})
    assert st == 404 and doc == {"error": "User not registered."}
    st, _, body = configured.request("GET", f"/v1/prekeys/{a.id}")
    assert st == 404


def test_kill_minus_9_during_concurrent_deposits_loses_and_repeats_nothing(configured):
    """Senders deposit concurrently; the gateway is killed at a random
    moment. Every deposit that got its 200 arrives exactly once at an acking
    recipient after the restart."""
    import random
    import threading
    push_config(configured, auth="open", mailbox_cap=4096, pending_per_sender_limit=4096)
    left_by_others = diagnostics(configured)["counts"]["queuedMessages"]
    recipients = [Client(configured).register() for _ in range(4)]
    senders = [Client(configured).register() for _ in range(8)]
    acked, lock = set(), threading.Lock()
    total = 2000 if configured.board == "host" else 600

    def sender(k):
        s = senders[k]
        for i in range(total // len(senders)):
            text = f"{k}:{i}".encode()
            to = recipients[i % len(recipients)]
            try:
                st, _, _ = s.send(to, text, signed=False)
            except (OSError, IndexError, ValueError):
                return                      # the gateway is gone
            if st == 200:
                with lock:
                    acked.add((to.id, text))
    threads = [threading.Thread(target=sender, args=(k,)) for k in range(len(senders))]
    for t in threads:
        t.start()
    deadline = time.time() + 60
    kill_after = random.randint(total // 4, total * 3 // 4)
    while time.time() < deadline and len(acked) < kill_after:
        time.sleep(0.01)
    configured.stop()                       # kill -9 in the middle of it
    for t in threads:
        t.join(30)
    assert len(acked) >= kill_after
    configured.start()
    push_config(configured, auth="open", mailbox_cap=4096, pending_per_sender_limit=4096)

    async def drain(r):
        async with websockets.connect(r.ws_url()) as ws:
            got = []
            try:
                while True:
                    m = json.loads(await asyncio.wait_for(ws.recv(), 3))
                    got.append(m)
                    await ws.send(json.dumps({"type": "ack", "ids": [m["msgId"]]}))
            except asyncio.TimeoutError:
                return got
    received = []
    for r in recipients:
        for m in run(drain(r), timeout=120):
            received.append((r.id, base64.b64decode(m["envelope"]["body"])))
    assert len(received) == len(set(received)), "a message arrived twice"
    missing = acked - set(received)
    assert not missing, f"{len(missing)} acknowledged deposits lost, e.g. {sorted(missing)[:3]}"
    assert diagnostics(configured)["counts"]["queuedMessages"] == left_by_others
    push_config(configured)


def test_a_full_journal_answers_503_and_loses_nothing_acknowledged(configured):
    push_config(configured, auth="open", mailbox_cap=4096, pending_per_sender_limit=4096)
    a, b = Client(configured).register(), Client(configured).register()
    stored, refused = [], None
    for i in range(1000):
        text = i.to_bytes(4, "big") + os.urandom(6000)      # 8 KiB of base64
        st, _, doc = a.send(b, text, signed=False)
        if st == 200:
            stored.append(text)
            continue
        refused = (st, doc)
        break
    assert refused == (503, {"error": "storage_full"}), refused
    assert len(stored) > 100
    journal = diagnostics(configured)["relay"]["journal"]
    assert journal["segmentsFree"] <= 1
    got = [base64.b64decode(m["envelope"]["body"]) for m in run(receive(b, len(stored)), 120)]
    assert got == stored                   # every acknowledged one, in order
    # Acked and deleted: room again.
    for _ in range(3):
        st, _, doc = a.send(b, os.urandom(6000), signed=False)
        if st == 200:
            break
    assert st == 200, doc
    run(receive(b, 1))
    push_config(configured)


def test_bundles_and_handed_out_prekeys_survive_a_kill_minus_9(configured):
    a = Client(configured).register()
    assert a.post("/v1/prekeys", {"id": a.id, "bundle": a.bundle(one_time=[31, 32])})[0] == 200

    def fetch():
        st, _, body = configured.request("GET", f"/v1/prekeys/{a.id}")
        assert st == 200, body
        return json.loads(body)["bundle"]["preKey"]["keyId"]
    assert fetch() == 31
    configured.restart()
    push_config(configured)
    assert fetch() == 32          # 31 went to someone before the power cut
    assert fetch() == 1
    configured.restart()
    assert fetch() == 1


def test_messages_expire_after_the_configured_ttl(configured):
    push_config(configured, ttl_ms=1000)
    try:
        a, b = Client(configured).register(), Client(configured).register()
        assert a.send(b, b"short-lived")[0] == 200
        deadline = time.time() + 10
        while time.time() < deadline:
            if diagnostics(configured)["relay"]["expired"] >= 1 and \
                    f"{b.id}: 0 queued" in configured.console(f"mailbox {b.id}"):
                break
            time.sleep(0.5)
        assert run(receive(b, 1, timeout=1)) == []
    finally:
        push_config(configured)


# Last in the module: the user table stays full (users are durable).
def test_a_full_user_table_refuses_registration_with_503(configured):
    push_config(configured, auth="open")
    for i in range(1000):
        st, _, doc = Client(configured, f"filler-{i}").post("/v1/register", {"id": f"filler-{i}"},
                                                            signed=False)
        if st != 200:
            break
    assert st == 503 and doc == {"error": "user_table_full"}
    d = diagnostics(configured)
    assert d["counts"]["users"] == next(p for p in d["firmware"]["pools"]
                                        if p["name"] == "relay_users")["capacity"]
    push_config(configured)
