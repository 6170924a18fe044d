"""Mailbox replication (PROTOCOLS.md section 5) between three real gateways
on one bridge (A 10.42.0.2, B .3, C .4): pushes with X-Peer-Url/X-Peer-HMAC,
signed acks and pulls (section 4), the per-sender cap as a rule of the whole
mesh. The peer's side of the wire is also played by Python (hmac, hashlib,
cryptography): a signer independent of the firmware's."""
import asyncio
import base64
import hashlib
import hmac
import http.server
import json
import os
import re
import socket
import statistics
import threading
import time
import uuid

import pytest
import websockets
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conftest import ROOT, Gateway, bridged_taps, hmac_headers

SECRET = "repl-integ-secret"
PEER_PORT = 9632
HOST_IP = "10.42.0.1"
NAMES = ["gw-a", "gw-b", "gw-c"]
GLOBAL_SECRET = "mesh-wide-fallback"
TESTER = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))   # a Python peer
TESTER_URL = ""   # the Python peer's, set by the fixture
REPLICATE = "/api/mesh/dm/replicate-envelope"


def now_ms():
    return int(time.time() * 1000)


def b64(data):
    return base64.b64encode(data).decode()


def pair_secret(x, y):
    return "pair-" + "-".join(sorted((x, y)))


def peer_key(secret, url):
    """HKDF-SHA256(secret, salt sb-peer-auth-v1, info url), as section 5 says."""
    prk = hmac.new(b"sb-peer-auth-v1", secret.encode(), hashlib.sha256).digest()
    return hmac.new(prk, url.encode() + b"\x01", hashlib.sha256).digest()


def hmac_push_headers(secret, url, body):
    return {"X-Peer-Url": url,
            "X-Peer-HMAC": hmac.new(peer_key(secret, url), body, hashlib.sha256).hexdigest(),
            "Content-Type": "application/json"}


def nara_headers(priv, name, method, path, body=b"", ts=None):
    ts = now_ms() if ts is None else ts
    signed = f"{name}{ts}{method}{path.split('?')[0]}".encode()
    hdrs = {"X-Nara-Name": name, "X-Nara-Timestamp": str(ts)}
    if body:
        digest = b64(hashlib.sha256(body).digest())
        hdrs["X-Nara-Content-SHA256"] = digest
        signed += digest.encode()
    hdrs["X-Nara-Signature"] = b64(priv.sign(signed))
    return hdrs


def msg_id():
    return f"dm_{now_ms()}_{os.urandom(6).hex()}"


def replica(frm, to, mid=None, deposited_at=None, text=b"hi"):
    env = {"version": 1, "senderId": frm, "recipientId": to, "sessionId": "s1", "type": 2,
           "body": b64(text), "timestamp": now_ms()}
    return {"envelope": {"msg_id": mid or msg_id(), "from": frm, "to": to, "envelope": env,
                         "deposited_at": deposited_at or now_ms()}}


# --- the mesh -------------------------------------------------------------------------


class PythonPeer:
    """A peer played by Python at 10.42.0.1: checks every push the gateways
    make (X-Peer-Url is this peer's own URL, as section 5 says, X-Peer-HMAC
    under the key of that URL and the pair's secret, which tells the sender)
    and takes it; answers signed acks and pulls with nothing."""

    def __init__(self):
        self.pushes = []          # (sender name, msg_id, verified[, "signed"])
        self.names = []           # the gateways that may push
        self.keys = {}            # sender name -> base64 public key
        peer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path == REPLICATE and "X-Nara-Signature" in self.headers:
                    name = self.headers["X-Nara-Name"]
                    ok = peer.verify_signed(self.headers, "POST", self.path, body)
                    mid = json.loads(body)["envelope"]["msg_id"]
                    peer.pushes.append((name, mid, ok, "signed"))
                    self.reply(200 if ok else 401, {"ok": True, "msg_id": mid} if ok else {})
                elif self.path == REPLICATE:
                    url = self.headers.get("X-Peer-Url", "")
                    got = self.headers.get("X-Peer-HMAC", "")
                    name = next((n for n in peer.names if hmac.compare_digest(
                        hmac.new(peer_key(pair_secret(n, "tester"), url), body,
                                 hashlib.sha256).hexdigest(), got)), "?")
                    ok = name != "?" and url == peer.url
                    mid = json.loads(body)["envelope"]["msg_id"]
                    peer.pushes.append((name, mid, ok))
                    answer = {"ok": True, "msg_id": mid} if ok else {"ok": False}
                    self.reply(200 if ok else 403, answer)
                else:
                    self.reply(200, {"ok": True, "dropped": 0})

            def do_GET(self):
                self.reply(200, {"ok": True, "messages": [], "acked": [], "more": False})

            def reply(self, status, doc):
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.srv = http.server.ThreadingHTTPServer((HOST_IP, 0), Handler)
        self.url = f"http://{HOST_IP}:{self.srv.server_address[1]}"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def verify_signed(self, headers, method, path, body):
        """Section 4, with the key the gateway's /ping announced."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        key = self.keys.get(headers.get("X-Nara-Name", ""))
        if not key:
            return False
        signed = (headers["X-Nara-Name"] + headers.get("X-Nara-Timestamp", "") + method +
                  path).encode()
        digest = headers.get("X-Nara-Content-SHA256")
        if body and digest != b64(hashlib.sha256(body).digest()):
            return False
        signed += (digest or "").encode()
        try:
            Ed25519PublicKey.from_public_bytes(base64.b64decode(key)).verify(
                base64.b64decode(headers["X-Nara-Signature"]), signed)
        except (InvalidSignature, ValueError):
            return False
        return abs(now_ms() - int(headers["X-Nara-Timestamp"])) < 30000

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


class Mesh:
    def __init__(self, gws, tester):
        self.gws = gws
        self.tester = tester
        self.keys = {}
        self.extra_peers = []
        tester.names = NAMES[:len(gws)]

    def url(self, i):
        return f"http://{self.gws[i].ip}:{PEER_PORT}"

    def config(self, i, signed_tester=False, **relay):
        peers = [{"name": NAMES[j], "url": self.url(j),
                  "secret": pair_secret(NAMES[i], NAMES[j]), "public_key": self.keys[j]}
                 for j in range(len(self.gws)) if j != i]
        tester = {"name": "tester", "url": self.tester.url,
                  "secret": pair_secret(NAMES[i], "tester"),
                  "public_key": b64(TESTER.public_key().public_bytes(
                      serialization.Encoding.Raw, serialization.PublicFormat.Raw))}
        gateway = {"relay": {"auth": "open", **relay}, "node": {"name": NAMES[i]},
                   "peers": peers + [tester] + self.extra_peers, "peer_secret": GLOBAL_SECRET}
        if signed_tester:   # no secret for it at all: section 4 signatures
            del tester["secret"]
            del gateway["peer_secret"]
        return {"identity": {"bot_name": "Joi", "allowed_senders": ["*"], "groups": {}},
                "rate_limits": {"inbound": {"max_per_hour": 0, "max_per_minute": 0}},
                "gateway": gateway, "timestamp_ms": now_ms()}

    def push_config(self, i, signed_tester=False, **relay):
        body = json.dumps(self.config(i, signed_tester, **relay)).encode()
        gw = self.gws[i]
        st, _, answer = gw.request("POST", "/config/sync", body, hmac_headers(SECRET, body),
                                   port=8444)
        assert st == 200, answer

    def configure(self, *which, signed_tester=False, **relay):
        for i in which or range(len(self.gws)):
            self.push_config(i, signed_tester, **relay)
        # The peer service syncs the registry on its next pass.
        time.sleep(0.3)


def diagnostics(gw):
    st, _, body = gw.request("GET", "/diagnostics")
    assert st == 200
    return json.loads(body)


def queued(gw):
    return diagnostics(gw)["counts"]["queuedMessages"]


def wait_for(cond, timeout=15, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def mailbox_count(gw, user):
    # A log line of the gateway's own (a "> " line) can end the console's
    # answer before the command's: ask again until the command answered.
    for _ in range(5):
        out = gw.console(f"mailbox {user}")
        m = re.search(rf"{re.escape(user)}: (\d+) queued", out)
        if m:
            return int(m.group(1))
        if f"mailbox: no user {user}" in out:
            return 0
    raise AssertionError(f"mailbox {user}: no answer: {out!r}")


def got_id(gw, uid):
    """The msg_id of the one message queued for uid on gw (console)."""
    m = re.search(r"^  (dm_\S+) from", gw.console(f"mailbox {uid}"), re.M)
    return m.group(1) if m else None


def register(gw, uid):
    st, _, body = gw.request("POST", "/v1/register", json.dumps({"id": uid}).encode())
    assert st == 200, body


def send(gw, frm, to, text=b"hello"):
    env = {"version": 1, "senderId": frm, "recipientId": to, "sessionId": "s1", "type": 2,
           "body": b64(text), "timestamp": now_ms()}
    t0 = time.time()
    st, _, body = gw.request("POST", "/v1/messages",
                             json.dumps({"from": frm, "to": to, "envelope": env}).encode())
    return st, json.loads(body) if body else None, time.time() - t0


def users(prefix):
    return [f"{prefix}-{uuid.uuid4().hex[:8]}" for _ in range(2)]


async def receive(gw, uid, n, ack=True, wait=2.5):
    url = f"ws://{gw.ip}:8080/ws?client_id={uid}" + ("&ack=1" if ack else "")
    async with websockets.connect(url) as ws:
        got = []
        try:
            while True:
                got.append(json.loads(await asyncio.wait_for(ws.recv(),
                                                             wait if len(got) >= n else 8)))
        except asyncio.TimeoutError:
            pass
        if ack and got:
            await ws.send(json.dumps({"type": "ack", "ids": [m["msgId"] for m in got]}))
            await asyncio.sleep(0.3)
        return got


def run(coro, timeout=40):
    return asyncio.run(asyncio.wait_for(coro, timeout))


@pytest.fixture(scope="module")
def mesh(request):
    board = request.config.getoption("--board")
    runner = request.config.getoption("--runner")
    firmware = request.config.getoption("--firmware")
    with bridged_taps(3) as taps:
        gws = [Gateway(board, runner, firmware, ip=ip, tap=tap, mac=mac, name=f"repl-{NAMES[i]}",
                       env={"MESH_HMAC_SECRET": SECRET}, args=("-T", "3000,8000"))
               for i, (tap, ip, mac) in enumerate(taps)]
        global TESTER_URL
        tester = None
        try:
            for gw in gws:
                gw.start(timeout=60)
            tester = PythonPeer()
            TESTER_URL = tester.url
            m = Mesh(gws, tester)
            for i, gw in enumerate(gws):
                st, _, body = gw.request("GET", "/ping", port=PEER_PORT)
                assert st == 200
                m.keys[i] = json.loads(body)["public_key"]
                tester.keys[NAMES[i]] = m.keys[i]
            m.configure()
            yield m
        finally:
            for gw in gws:
                gw.remove()
            if tester:
                tester.close()


def on_all(mesh, *uids):
    for gw in mesh.gws:
        for uid in uids:
            register(gw, uid)


# --- the story of the issue ------------------------------------------------------------


def test_a_message_deposited_on_a_reaches_bob_once_on_c_and_his_ack_drops_every_copy(mesh):
    a, b, c = mesh.gws
    alice, bob = users("alice")[0], users("bob")[0]
    on_all(mesh, alice, bob)
    ok_before = diagnostics(a)["dm_replication_push_ok"]
    st, doc, _ = send(a, alice, bob)
    assert st == 200 and doc["delivered"] is False
    wait_for(lambda: mailbox_count(b, bob) == 1 and mailbox_count(c, bob) == 1,
             what="the replicas on B and C")
    wait_for(lambda: diagnostics(a)["dm_replication_push_ok"] == ok_before + 3,
             what="three pushes (B, C and the Python peer)")
    assert [p for p in mesh.tester.pushes if p[1] == got_id(a, bob)] == [
        ("gw-a", got_id(a, bob), True)]
    got = run(receive(c, bob, 1))
    assert len(got) == 1 and got[0]["from"] == alice and got[0]["msgId"].startswith("dm_")
    wait_for(lambda: mailbox_count(a, bob) == 0 and mailbox_count(b, bob) == 0
             and mailbox_count(c, bob) == 0, what="every copy dropped")
    for gw in (a, b):
        d = diagnostics(gw)
        assert d["replication"]["droppedByAck"] >= 1
        assert d["firmware"]["heap"]["callsAfterSeal"] == 0
    # Connecting again anywhere brings nothing back.
    for gw in mesh.gws:
        assert run(receive(gw, bob, 0, wait=1.5)) == []


def test_a_recipient_connecting_elsewhere_gets_each_message_once_through_the_pull(mesh):
    a, b, c = mesh.gws
    alice, bob = users("pull")
    on_all(mesh, alice, bob)
    assert send(a, alice, bob)[0] == 200
    assert send(a, alice, bob)[0] == 200
    wait_for(lambda: mailbox_count(b, bob) == 2, what="replicas on B")
    got = run(receive(b, bob, 2))
    assert len(got) == 2 and len({m["msgId"] for m in got}) == 2
    assert diagnostics(b)["replication"]["pulls"] >= 1
    wait_for(lambda: mailbox_count(a, bob) == 0 and mailbox_count(c, bob) == 0,
             what="acks told to A and C")


def test_a_third_message_from_a_sender_with_two_pending_is_refused_on_every_gateway(mesh):
    alice, bob = users("cap")
    on_all(mesh, alice, bob)
    a = mesh.gws[0]
    assert send(a, alice, bob)[0] == 200
    assert send(a, alice, bob)[0] == 200
    wait_for(lambda: all(mailbox_count(gw, bob) == 2 for gw in mesh.gws), what="replicas")
    for gw in mesh.gws:
        st, doc, _ = send(gw, alice, bob)
        assert st == 429, (gw.ip, doc)
        assert doc["pending"] == 2 and doc["limit"] == 2
    got = run(receive(mesh.gws[2], bob, 2))
    assert len(got) == 2
    wait_for(lambda: all(mailbox_count(gw, bob) == 0 for gw in mesh.gws), what="acks")
    # The quota is free again everywhere.
    assert send(mesh.gws[1], alice, bob)[0] == 200
    run(receive(mesh.gws[1], bob, 1))


def test_a_gateway_that_ignores_the_cap_cannot_get_a_third_replica_accepted(mesh):
    hostile = os.path.join(os.path.dirname(mesh.gws[0].cmd[mesh.gws[0].cmd.index("-f") - 1]),
                           "meshgate-hostile")
    if not os.path.exists(hostile):
        pytest.skip("build/<board>/meshgate-hostile not built (make integ builds it)")
    a = mesh.gws[0]
    normal = list(a.cmd)
    a.cmd[a.cmd.index("-f") - 1] = hostile
    try:
        a.restart(timeout=60)
        mesh.configure(0)
        eve, frank = users("eve")
        on_all(mesh, eve, frank)
        rejected = diagnostics(a)["dm_replication_push_rejected"]
        for _ in range(3):
            assert send(a, eve, frank)[0] == 200   # the cap ignored at home
        assert mailbox_count(a, frank) == 3
        wait_for(lambda: diagnostics(a)["dm_replication_push_rejected"] == rejected + 2,
                 what="both honest peers refusing the third")
        wait_for(lambda: diagnostics(a)["replication"]["queueDepth"] == 0, what="queue empty")
        for gw in mesh.gws[1:]:
            assert mailbox_count(gw, frank) == 2
            assert diagnostics(gw)["replication"]["receivedRefused"] >= 1
        got = run(receive(mesh.gws[2], frank, 2))
        assert len(got) == 2
    finally:
        a.cmd[:] = normal
        a.restart(timeout=60)
        mesh.configure(0)


def test_pushes_pending_when_a_is_killed_are_delivered_after_its_restart(mesh):
    a, b, c = mesh.gws
    gary, hank = users("gary")
    on_all(mesh, gary, hank)
    b.stop()
    c.stop()
    try:
        st, _, took = send(a, gary, hank)
        assert st == 200 and took < 1.0
        wait_for(lambda: diagnostics(a)["replication"]["queueDepth"] == 2, what="two jobs")
        a.restart(timeout=60)   # kill -9, then boot on the same flash, deny-all
        d = diagnostics(a)
        assert d["replication"]["queueDepth"] == 2 and d["counts"]["queuedMessages"] >= 1
    finally:
        for gw in (b, c):
            gw.start(timeout=60)
    mesh.configure(1, 2)
    mesh.configure(0)
    wait_for(lambda: mailbox_count(b, hank) == 1 and mailbox_count(c, hank) == 1,
             timeout=30, what="the pushes after the restart")
    wait_for(lambda: diagnostics(a)["replication"]["queueDepth"] == 0, what="queue drained")
    got = run(receive(c, hank, 1))
    assert len(got) == 1 and got[0]["from"] == gary
    wait_for(lambda: all(mailbox_count(gw, hank) == 0 for gw in mesh.gws), what="acks")


class SilentPeer:
    """Accepts connections and never answers (a slow peer), or answers
    garbage."""

    def __init__(self, mode):
        self.mode = mode
        self.hits = 0
        peer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                peer.hits += 1
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if peer.mode == "slow":
                    time.sleep(8)
                    return
                body = b"<html>not json" if peer.hits % 2 else b'{"ok":"maybe"}'
                self.send_response(200 if peer.hits % 3 else 500)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.srv = http.server.ThreadingHTTPServer((HOST_IP, 0), Handler)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def deposit_latencies(gw, n=12):
    alice, bob = users("lat")
    register(gw, alice)
    register(gw, bob)
    times = []
    for _ in range(n):
        st, _, took = send(gw, alice, bob)
        assert st == 200
        times.append(took)
        run(receive(gw, bob, 1, wait=0.2))
    return times


def test_an_unreachable_a_slow_and_a_garbage_peer_leave_the_relays_latency_alone(mesh):
    a = mesh.gws[0]
    base = statistics.median(deposit_latencies(a))
    slow, garbage = SilentPeer("slow"), SilentPeer("garbage")
    mesh.extra_peers = [
        {"name": "dead", "url": "http://10.42.0.99:9632", "secret": "x"},
        {"name": "slow", "url": f"http://{HOST_IP}:{slow.port}", "secret": "x"},
        {"name": "garbage", "url": f"http://{HOST_IP}:{garbage.port}", "secret": "x"}]
    try:
        mesh.configure(0)
        errors = diagnostics(a)["dm_replication_push_error"]
        times = deposit_latencies(a)
        assert max(times) < 1.0, times
        assert statistics.median(times) < base * 3 + 0.05, (base, times)
        wait_for(lambda: diagnostics(a)["dm_replication_push_error"] > errors + 2,
                 what="errors counted")
        assert garbage.hits >= 1
        # A message nobody acks yet keeps its jobs for the three bad peers.
        alice, bob = users("held")
        register(a, alice)
        register(a, bob)
        assert send(a, alice, bob)[0] == 200
        time.sleep(1.2)
        d = diagnostics(a)
        assert d["replication"]["queueDepth"] >= 3 and d["replication"]["oldestPendingSec"] >= 1
        run(receive(a, bob, 1))
        out = a.console("repl")
        assert all(name in out for name in ("dead", "slow", "garbage"))
        assert d["firmware"]["heap"]["callsAfterSeal"] == 0
    finally:
        mesh.extra_peers = []
        mesh.configure(0)
        slow.close()
        garbage.close()
    # The jobs of peers gone from the config do not linger past their messages.
    wait_for(lambda: diagnostics(a)["replication"]["queueDepth"] == 0, timeout=30,
             what="jobs of removed peers gone")


def test_a_peer_without_any_secret_gets_section_4_signed_pushes(mesh):
    a = mesh.gws[0]
    mesh.configure(0, signed_tester=True)
    try:
        alice, bob = users("s4")
        register(a, alice)
        register(a, bob)
        assert send(a, alice, bob)[0] == 200
        mid = wait_for(lambda: got_id(a, bob), what="the message")
        wait_for(lambda: any(p[1] == mid for p in mesh.tester.pushes), what="the signed push")
        assert [p for p in mesh.tester.pushes if p[1] == mid] == [("gw-a", mid, True, "signed")]
        assert re.search(r"tester\s+\S+ auth signed", a.console("repl"))
        run(receive(a, bob, 1))
    finally:
        mesh.configure(0)


# --- the receiver's checks, from a Python peer --------------------------------------------


def python_push(gw, doc, secret=None, url=None, body=None, headers=None):
    i = ["10.42.0.2", "10.42.0.3", "10.42.0.4"].index(gw.ip)
    url = url or f"http://{gw.ip}:{PEER_PORT}"   # section 5: the target's URL
    body = body if body is not None else json.dumps(doc).encode()
    hdrs = headers if headers is not None else hmac_push_headers(
        secret or pair_secret(NAMES[i], "tester"), url, body)
    st, _, resp = gw.request("POST", REPLICATE, body, hdrs, port=PEER_PORT)
    return st, resp


DENIED = b'{"ok":false,"detail":"Invalid or missing peer HMAC"}'


def test_bad_authentication_is_403_with_the_protocols_body(mesh):
    b = mesh.gws[1]
    doc = replica("x1", "y1")
    body = json.dumps(doc).encode()
    b_url = mesh.url(1)
    good = hmac_push_headers(pair_secret("gw-b", "tester"), b_url, body)
    cases = [
        {},                                                               # no headers
        {"X-Peer-Url": b_url},                                            # no HMAC
        dict(good, **{"X-Peer-HMAC": "0" * 64}),                          # wrong HMAC
        dict(good, **{"X-Peer-HMAC": good["X-Peer-HMAC"].upper()}),       # uppercase
        dict(good, **{"X-Peer-Url": "http://10.42.0.77:9632"}),           # not us, not a peer
        dict(good, **{"X-Peer-Url": mesh.url(0)}),                        # signed for another URL
        hmac_push_headers(pair_secret("gw-b", "tester"), TESTER_URL, body)  # keyed by the sender's
        | {"X-Peer-Url": b_url},
        hmac_push_headers("wrong-secret", b_url, body),                   # wrong secret
        hmac_push_headers(GLOBAL_SECRET, b_url, body),  # every peer has its own: no fallback
    ]
    for hdrs in cases:
        st, resp = python_push(b, doc, body=body, headers=hdrs)
        assert (st, resp) == (403, DENIED), hdrs
    # The URL is compared normalized: scheme and host case, a trailing slash.
    loud = b_url.replace("http://", "HTTP://") + "/"
    st, resp = python_push(b, doc, body=body, headers=dict(good, **{"X-Peer-Url": loud}))
    assert st == 200 and json.loads(resp) == {"ok": True, "msg_id": doc["envelope"]["msg_id"]}


def test_a_peer_without_its_own_secret_uses_the_global_one(mesh):
    b = mesh.gws[1]
    mesh.extra_peers = [{"name": "plain", "url": "http://10.42.0.1:7"}]
    try:
        mesh.configure(1)
        doc = replica("g1", "g2")
        body = json.dumps(doc).encode()
        st, resp = python_push(b, doc, body=body,
                               headers=hmac_push_headers(GLOBAL_SECRET, mesh.url(1), body))
        assert st == 200 and json.loads(resp)["ok"] is True
    finally:
        mesh.extra_peers = []
        mesh.configure(1)


def test_an_oversize_body_is_413_before_any_authentication(mesh):
    b = mesh.gws[1]
    body = b'{"envelope":"' + b"x" * (64 * 1024) + b'"}'
    st, _, _ = b.request("POST", REPLICATE, body, {}, port=PEER_PORT)
    assert st == 413


@pytest.mark.parametrize("body,detail", [
    (b"{not json", "Invalid JSON"),
    (b"[]", "Invalid JSON"),
    (b'{"envelope":"a string"}', "envelope: must be an object"),
    (b'{"envelope":{"from":"a","to":"b","envelope":{},"deposited_at":1}}', "msg_id"),
    (b'{"envelope":{"msg_id":"r:0000000000000000:00000001","from":"a","to":"b",'
     b'"envelope":{},"deposited_at":1}}', "msg_id"),
    (b'{"envelope":{"msg_id":"dm_1_000000000000","to":"b","envelope":{},"deposited_at":1}}',
     "from, to"),
    (b'{"envelope":{"msg_id":"dm_1_000000000000","from":"a","to":"b","deposited_at":1}}',
     "envelope.envelope"),
    (b'{"envelope":{"msg_id":"dm_1_000000000000","from":"a","to":"b","envelope":{}}}',
     "deposited_at"),
])
def test_bad_bodies_with_a_good_hmac_are_400(mesh, body, detail):
    st, resp = python_push(mesh.gws[1], None, body=body)
    assert st == 400
    doc = json.loads(resp)
    assert doc["ok"] is False and detail in doc["detail"]


def test_a_bad_hmac_is_refused_before_bad_json_is_looked_at(mesh):
    st, resp = python_push(mesh.gws[1], None, body=b"{not json",
                           headers=hmac_push_headers("nope", mesh.url(1), b"{not json"))
    assert (st, resp) == (403, DENIED)


def test_replicas_are_idempotent_capped_and_keep_their_deposit_time(mesh):
    b = mesh.gws[1]
    frm, to = users("rep")
    first = replica(frm, to, deposited_at=now_ms() - 5000)
    mid = first["envelope"]["msg_id"]
    assert python_push(b, first) == (200, json.dumps({"ok": True, "msg_id": mid},
                                                     separators=(",", ":")).encode())
    st, resp = python_push(b, first)
    assert (st, json.loads(resp)) == (200, {"ok": True, "msg_id": mid, "duplicate": True})
    assert python_push(b, replica(frm, to))[0] == 200
    st, resp = python_push(b, replica(frm, to))
    assert st == 200
    assert resp == (b'{"ok":false,"detail":"Per-sender cap reached on this relay; refusing '
                    b'replica","cap_violation":true,"pending":2,"limit":2}')
    # A duplicate is checked before the cap it fills.
    assert json.loads(python_push(b, first)[1])["duplicate"] is True
    got = run(receive(b, to, 2))
    assert [m["msgId"] for m in got][0] == mid
    # Acked: a late copy is a duplicate, never delivered again.
    assert json.loads(python_push(b, first)[1])["duplicate"] is True
    assert run(receive(b, to, 0, wait=1.0)) == []


def test_a_replica_for_a_full_mailbox_is_refused(mesh):
    b = mesh.gws[1]
    mesh.configure(1, mailbox_cap=1)
    try:
        to = users("full")[0]
        assert python_push(b, replica("s1-" + to, to))[0] == 200
        st, resp = python_push(b, replica("s2-" + to, to))
        assert (st, resp) == (200, b'{"ok":false,"detail":"Recipient mailbox full"}')
        run(receive(b, to, 1))
    finally:
        mesh.configure(1)


def test_an_expired_replica_is_answered_and_not_kept(mesh):
    b = mesh.gws[1]
    to = users("old")[0]
    doc = replica("o-" + to, to, deposited_at=now_ms() - 25 * 3600 * 1000)
    st, resp = python_push(b, doc)
    assert st == 200 and json.loads(resp)["ok"] is True
    assert mailbox_count(b, to) == 0


def test_a_section_4_signed_replica_is_taken_too(mesh):
    b = mesh.gws[1]
    doc = replica("sig-a", "sig-b")
    body = json.dumps(doc).encode()
    hdrs = nara_headers(TESTER, "tester", "POST", REPLICATE, body)
    hdrs["Content-Type"] = "application/json"
    st, resp = python_push(b, None, body=body, headers=hdrs)
    assert st == 200 and json.loads(resp)["ok"] is True
    bad = dict(hdrs, **{"X-Nara-Timestamp": str(now_ms() - 60000)})
    assert python_push(b, None, body=body, headers=bad) == (403, DENIED)


def test_a_signed_ack_drops_the_copy_and_its_replay_is_refused(mesh):
    b = mesh.gws[1]
    frm, to = users("ack")
    doc = replica(frm, to)
    register(b, to)
    assert python_push(b, doc)[0] == 200
    assert mailbox_count(b, to) == 1
    body = json.dumps({"to": to, "msg_ids": [doc["envelope"]["msg_id"]]}).encode()
    hdrs = nara_headers(TESTER, "tester", "POST", "/api/mesh/dm/ack", body)
    st, _, resp = b.request("POST", "/api/mesh/dm/ack", body, hdrs, port=PEER_PORT)
    assert st == 200 and json.loads(resp) == {"ok": True, "dropped": 1}
    assert mailbox_count(b, to) == 0
    st, _, resp = b.request("POST", "/api/mesh/dm/ack", body, hdrs, port=PEER_PORT)
    assert st == 401 and b"replayed" in resp
    # Unsigned, it never reaches the handler.
    st, _, _ = b.request("POST", "/api/mesh/dm/ack", body, {}, port=PEER_PORT)
    assert st == 401
    assert json.loads(python_push(b, doc)[1])["duplicate"] is True


def test_a_signed_pull_lists_a_mailbox(mesh):
    b = mesh.gws[1]
    frm, to = users("lst")
    doc = replica(frm, to)
    assert python_push(b, doc)[0] == 200
    path = f"/api/mesh/dm/pull?to={to}"
    st, _, resp = b.request("GET", path, b"", nara_headers(TESTER, "tester", "GET", path),
                            port=PEER_PORT)
    assert st == 200
    got = json.loads(resp)
    assert got["ok"] is True and [m["msg_id"] for m in got["messages"]] == [
        doc["envelope"]["msg_id"]]
    assert got["messages"][0]["deposited_at"] == doc["envelope"]["deposited_at"]
    assert got["messages"][0]["envelope"] == doc["envelope"]["envelope"]
    run(receive(b, to, 1))


def test_the_console_and_diagnostics_show_replication(mesh):
    a = mesh.gws[0]
    d = diagnostics(a)
    for k in ("dm_replication_push_ok", "dm_replication_push_rejected",
              "dm_replication_push_error"):
        assert isinstance(d[k], int)
    assert "queueDepth" in d["replication"] and "oldestPendingSec" in d["replication"]
    out = a.console("repl")
    assert "pushes" in out and "queue" in out and "gw-b" in out and "hmac" in out
