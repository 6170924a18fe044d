"""Mesh membership over the network: the peer port 9632 (PROTOCOLS.md section
4: /ping, the signature gate, the signed client) and the heartbeat service
against a fake coordinator (section 3) on the namespace side of the TAP. Every
signature the firmware makes is checked with Python's `cryptography`, a signer
and verifier independent of the firmware's; meshctl's coordinator commands
are checked the same way."""
import base64
import hashlib
import json
import os
import re
import subprocess
import threading
import time
import http.server
from urllib.parse import urlsplit, parse_qs

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from conftest import ROOT, hmac_headers, module_gateway

SECRET = "integ-peer-secret"
HOST_IP = "10.42.0.1"
PEER_PORT = 9632
NODE_NAME = "gw-test"


def now_ms():
    return int(time.time() * 1000)


def raw_public(priv):
    return priv.public_key().public_bytes(serialization.Encoding.Raw,
                                          serialization.PublicFormat.Raw)


def b64(data):
    return base64.b64encode(data).decode()


def coord_verify(key_text, sig_text, message):
    """Section 3: Ed25519 over SHA-256(message), ed25519_ hex encodings."""
    assert re.fullmatch(r"ed25519_[0-9a-f]{64}", key_text), key_text
    assert re.fullmatch(r"ed25519_sig_[0-9a-f]{128}", sig_text), sig_text
    pub = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key_text[8:]))
    pub.verify(bytes.fromhex(sig_text[12:]), hashlib.sha256(message).digest())


def nara_headers(priv, name, method, path, body=b"", ts=None, digest=None):
    """Section 4 headers as a Python peer makes them."""
    ts = now_ms() if ts is None else ts
    signed = f"{name}{ts}{method}{path.split('?')[0]}".encode()
    hdrs = {"X-Nara-Name": name, "X-Nara-Timestamp": str(ts)}
    if digest is None and body:
        digest = b64(hashlib.sha256(body).digest())
    if digest is not None:
        hdrs["X-Nara-Content-SHA256"] = digest
        signed += digest.encode()
    hdrs["X-Nara-Signature"] = b64(priv.sign(signed))
    return hdrs


TESTER = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))   # the section 4 vector key
OTHER = Ed25519PrivateKey.generate()                              # a node the coordinator lists


# --- a fake coordinator ---------------------------------------------------------


class FakeCoordinator:
    """The reference coordinator's answers (section 3) with every signature
    really verified; what it saw is kept for the tests."""

    def __init__(self):
        self.lock = threading.Lock()
        self.nodes = {}          # id -> {"public_key", "status", "tailscale_ip", ...}
        self.sovereigns = set()
        self.others = []         # extra nodes listed by /nodes
        self.seen = []           # (time, method, path, status, body bytes)
        self.problems = []       # signature or format faults found
        self.mode = "normal"     # "503": every answer is 503
        self.srv = None
        self.port = 0

    def start(self):
        coord = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                coord.handle(self, "GET", b"")

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                coord.handle(self, "POST", self.rfile.read(n))

            def log_message(self, *args):
                pass

        self.srv = http.server.ThreadingHTTPServer((HOST_IP, self.port), Handler)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()

    @property
    def url(self):
        return f"http://{HOST_IP}:{self.port}"

    def events(self, path=None, since=0):
        with self.lock:
            return [e for e in self.seen if e[0] >= since and (path is None or e[2] == path)]

    def wait_for(self, path, status=None, since=0, timeout=15, count=1):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = [e for e in self.events(path, since) if status is None or e[3] == status]
            if len(got) >= count:
                return got
            time.sleep(0.05)
        last = [(round(e[0] - since, 2), e[1], e[2], e[3]) for e in self.events(since=since)[-8:]]
        raise AssertionError(f"no {count} x {path} {status}: saw {last}, problems {self.problems}")

    def handle(self, h, method, body):
        url = urlsplit(h.path)
        with self.lock:
            status, answer = self.answer(method, url.path, parse_qs(url.query), body)
            self.seen.append((time.time(), method, url.path, status, body))
        data = json.dumps(answer).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def problem(self, what):
        self.problems.append(what)
        return 401, {"error": "Invalid signature"}

    def answer(self, method, path, query, body):
        if self.mode == "503":
            return 503, {"error": "unavailable"}
        doc = json.loads(body) if body else {}
        if (method, path) == ("POST", "/register"):
            if not all(k in doc for k in ("nodeId", "publicKey", "tailscaleHostname", "signature")):
                return 400, {"error": "Missing required fields"}
            # The one serialisation of the message (the reference's JSON.stringify).
            msg = json.dumps({"nodeId": doc["nodeId"], "publicKey": doc["publicKey"],
                              "tailscaleHostname": doc["tailscaleHostname"]},
                             separators=(",", ":")).encode()
            try:
                coord_verify(doc["publicKey"], doc["signature"], msg)
            except (InvalidSignature, AssertionError) as e:
                return self.problem(f"register: {e!r}")
            if doc["nodeId"] in self.nodes:
                return 409, {"error": "Node already registered"}
            self.nodes[doc["nodeId"]] = {
                "id": doc["nodeId"], "public_key": doc["publicKey"],
                "tailscale_hostname": doc["tailscaleHostname"],
                "tailscale_ip": doc.get("tailscaleIP"), "status": "pending",
                "services": doc.get("services", [])}
            return 201, {"success": True, "nodeId": doc["nodeId"], "status": "pending",
                         "message": "Registration successful. Awaiting sovereign approval."}
        if (method, path) == ("POST", "/heartbeat"):
            node = self.nodes.get(doc.get("nodeId"))
            if node is None:
                return 404, {"error": "Node not registered"}
            ts = doc.get("timestamp")
            if not isinstance(ts, int) or abs(now_ms() - ts) > 60000:
                return 400, {"error": "Timestamp too old or invalid"}
            try:
                coord_verify(node["public_key"], doc.get("signature", ""),
                             f"heartbeat:{doc['nodeId']}:{ts}".encode())
            except (InvalidSignature, AssertionError) as e:
                return self.problem(f"heartbeat: {e!r}")
            if doc.get("tailscaleIP") != node["tailscale_ip"]:
                self.problems.append(f"heartbeat from {doc.get('tailscaleIP')}")
            if node["status"] != "active":
                return 403, {"error": "Node not active"}
            return 200, {"success": True, "timestamp": ts}
        if method == "POST" and path.split("/")[1:2] in (["approve"], ["deny"]):
            verb, node_id = path.split("/")[1], path.split("/", 2)[2]
            try:
                coord_verify(doc["approverPublicKey"], doc["signature"],
                             f"{verb}:{node_id}".encode())
            except (InvalidSignature, AssertionError, KeyError) as e:
                return self.problem(f"{verb}: {e!r}")
            if doc["approverPublicKey"] not in self.sovereigns:
                return 403, {"error": "Unauthorized - not a sovereign key"}
            node = self.nodes.get(node_id)
            if node is None or node["status"] != "pending":
                return 404, {"error": "Node not found or already processed"}
            node["status"] = "active" if verb == "approve" else "denied"
            return 200, {"success": True, "nodeId": node_id, "status": node["status"]}
        if (method, path) == ("POST", "/sovereign/add"):
            try:
                coord_verify(doc["approverPublicKey"], doc["signature"],
                             f"sovereign-add:{doc['publicKey']}".encode())
            except (InvalidSignature, AssertionError, KeyError) as e:
                return self.problem(f"sovereign-add: {e!r}")
            if doc["approverPublicKey"] not in self.sovereigns:
                return 403, {"error": "Unauthorized - not a sovereign key"}
            self.sovereigns.add(doc["publicKey"])
            return 200, {"success": True}
        if (method, path) == ("GET", "/nodes"):
            want = query.get("status", ["active"])[0]
            nodes = [n for n in list(self.nodes.values()) + self.others if n["status"] == want]
            return 200, {"nodes": nodes}
        if (method, path) == ("GET", "/topology"):
            return 200, {"nodes": len(self.nodes), "edges": []}
        return 404, {"error": "Not found"}


class FakePeer(http.server.BaseHTTPRequestHandler):
    """A peer gateway on the namespace side: checks the firmware's section 4
    signature against the key /ping announced."""
    gateway_key = None
    seen = []

    def do_GET(self):
        if self.path.startswith("/slow"):
            time.sleep(8)
        name = self.headers.get("X-Nara-Name", "")
        ts = self.headers.get("X-Nara-Timestamp", "")
        sig = self.headers.get("X-Nara-Signature", "")
        ok = False
        try:
            FakePeer.gateway_key.verify(base64.b64decode(sig, validate=True),
                                        f"{name}{ts}GET{self.path.split('?')[0]}".encode())
            ok = abs(now_ms() - int(ts)) < 30000
        except (InvalidSignature, ValueError):
            pass
        FakePeer.seen.append((self.path, name, ok, "X-Nara-Content-SHA256" in self.headers))
        body = json.dumps({"verified": ok, "from": name}).encode()
        try:
            self.send_response(200 if ok else 401)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass   # the gateway gave up first (the slow path)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def gw(request):
    yield from module_gateway(request, env={"MESH_HMAC_SECRET": SECRET})


@pytest.fixture(scope="module")
def coord():
    c = FakeCoordinator().start()
    yield c
    try:
        c.stop()
    except Exception:
        pass


@pytest.fixture(scope="module")
def fake_peer():
    srv = http.server.ThreadingHTTPServer((HOST_IP, 0), FakePeer)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv.server_address[1]
    srv.shutdown()


def push_config(gw, fake_peer_port=9, **gateway):
    gateway.setdefault("peers", [
        {"name": "tester", "url": f"http://{HOST_IP}:{fake_peer_port}",
         "public_key": b64(raw_public(TESTER))},
        {"name": "keyless", "url": f"http://{HOST_IP}:{fake_peer_port}"}])
    body = json.dumps({"version": 1, "identity": {"bot_name": "Joi", "allowed_senders": ["*"],
                                                   "groups": {}},
                       "gateway": gateway, "timestamp_ms": now_ms()}).encode()
    st, _, answer = gw.request("POST", "/config/sync", body, hmac_headers(SECRET, body), port=8444)
    assert st == 200, answer


def ping(gw):
    st, hdrs, body = gw.request("GET", "/ping", port=PEER_PORT)
    assert st == 200 and hdrs["content-type"] == "application/json"
    return json.loads(body)


def peer_call(gw, method, path, body=b"", headers=None):
    return gw.request(method, path, body, headers or {}, port=PEER_PORT)


def meshctl(*args):
    return subprocess.run([os.path.join(ROOT, "build", "host", "meshctl"), *args],
                          capture_output=True, text=True, timeout=30)


def console_field(out, name):
    m = re.search(rf"^{name}\s+(.*)$", out, re.M)
    return m.group(1) if m else None


# --- the peer port ------------------------------------------------------------------


def test_ping_answers_anyone_with_the_nodes_name_address_and_base64_key(gw):
    doc = ping(gw)
    assert set(doc) == {"from", "mesh_ip", "public_key", "t"}
    assert doc["mesh_ip"] == "10.42.0.2"
    assert abs(doc["t"] - now_ms()) < 5000
    key = base64.b64decode(doc["public_key"], validate=True)
    assert len(key) == 32
    node = gw.console("node")
    assert f"ed25519_{key.hex()}" in node
    assert f"{doc['public_key']} (base64)" in node
    # Before any config the name is the default host name, from the key.
    assert doc["from"] == f"meshgate-{key.hex()[:8]}" == console_field(node, "node id")


def test_meshctl_ping_prints_the_peers_ping(gw):
    r = meshctl("ping", f"http://{gw.ip}:{PEER_PORT}")
    assert r.returncode == 0, r.stderr
    status, body = r.stdout.split("\n", 1)
    assert status == "200"
    assert json.loads(body)["public_key"] == ping(gw)["public_key"]


def test_a_static_peer_with_a_key_passes_the_gate_with_and_without_a_body(gw):
    push_config(gw)
    st, _, body = peer_call(gw, "GET", "/nothing-here", headers=nara_headers(TESTER, "tester",
                                                                              "GET", "/nothing-here"))
    assert st == 404, body   # verified, then no such signed route
    data = b'{"hello":"peer"}'
    st, _, body = peer_call(gw, "POST", "/api/mesh/dm/x", data,
                            nara_headers(TESTER, "tester", "POST", "/api/mesh/dm/x", data))
    assert st == 404, body
    # The query is not signed.
    st, _, _ = peer_call(gw, "GET", "/p?to=bob", headers=nara_headers(TESTER, "tester", "GET", "/p"))
    assert st == 404
    assert "tester" in gw.console("peers")


def refused(gw, method, path, body=b"", headers=None):
    st, hdrs, answer = peer_call(gw, method, path, body, headers)
    assert st == 401, (st, answer)
    assert hdrs["content-type"] == "text/plain"
    text = answer.decode()
    assert text.startswith("Authentication failed: ")
    return text[len("Authentication failed: "):]


def test_each_bad_signature_is_refused_with_its_reason(gw):
    push_config(gw)
    data = b'{"a":1}'
    assert refused(gw, "GET", "/x") == "missing signature headers"
    assert refused(gw, "GET", "/x", headers=nara_headers(TESTER, "tester", "GET", "/x",
                                                         ts=now_ms() - 31000)) \
        == "timestamp outside the 30 s window"
    assert refused(gw, "GET", "/x", headers=nara_headers(TESTER, "tester", "GET", "/x",
                                                         ts=now_ms() + 31000)) \
        == "timestamp outside the 30 s window"
    assert refused(gw, "GET", "/x", headers=nara_headers(TESTER, "mallory", "GET", "/x")) \
        == "unknown peer"
    assert refused(gw, "GET", "/x", headers=nara_headers(TESTER, "keyless", "GET", "/x")) \
        == "no public key for this peer"
    no_digest = nara_headers(TESTER, "tester", "POST", "/x")
    assert refused(gw, "POST", "/x", data, no_digest) == "missing content digest"
    wrong = nara_headers(TESTER, "tester", "POST", "/x", data,
                         digest=b64(hashlib.sha256(b"other").digest()))
    assert refused(gw, "POST", "/x", data, wrong) == "content digest mismatch"
    h = nara_headers(TESTER, "tester", "GET", "/x")
    h["X-Nara-Signature"] = "!!" + h["X-Nara-Signature"][2:]
    assert refused(gw, "GET", "/x", headers=h) == "malformed signature"
    h = nara_headers(TESTER, "tester", "GET", "/x")
    h["X-Nara-Signature"] = b64(base64.b64decode(h["X-Nara-Signature"])[:63])
    assert refused(gw, "GET", "/x", headers=h) == "malformed signature"
    assert refused(gw, "GET", "/x", headers=nara_headers(OTHER, "tester", "GET", "/x")) \
        == "invalid signature"
    assert refused(gw, "GET", "/y", headers=nara_headers(TESTER, "tester", "GET", "/x")) \
        == "invalid signature"
    # And the gateway keeps serving.
    assert ping(gw)["mesh_ip"] == "10.42.0.2"
    assert re.search(r"requests\s+\d+ verified, [1-9]\d* refused", gw.console("peers"))


def test_signed_requests_from_the_gateway_verify_with_its_announced_key(gw, fake_peer):
    FakePeer.gateway_key = Ed25519PublicKey.from_public_bytes(
        base64.b64decode(ping(gw)["public_key"]))
    push_config(gw, fake_peer, node={"name": NODE_NAME})
    start = len(gw.output())
    assert "signed GET /hello?x=1 to tester" in gw.console("peer-fetch tester /hello?x=1")
    got = gw.wait_output(r"peer-fetch: (\d+), \d+ bytes\n(.*)\n", start).groups()
    assert got[0] == "200", got
    assert json.loads(got[1]) == {"verified": True, "from": NODE_NAME}
    assert FakePeer.seen[-1] == ("/hello?x=1", NODE_NAME, True, False)
    assert "no such peer" in gw.console("peer-fetch nobody /x")


def test_a_peer_that_does_not_answer_fails_within_5_seconds(gw, fake_peer):
    push_config(gw, fake_peer, node={"name": NODE_NAME})
    start = len(gw.output())
    t0 = time.time()
    gw.console("peer-fetch tester /slow")
    m = gw.wait_output(r"peer-fetch: failed: (.*)\n", start, timeout=12)
    took = time.time() - t0
    assert 4.5 <= took < 7, took
    assert "in time" in m.group(1)
    assert gw.request("GET", "/health")[0] == 200


# --- the heartbeat against a fake coordinator -------------------------------------------


@pytest.fixture(scope="module")
def sovereign(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("keys") / "sovereign.key")
    r = meshctl("keygen", "--out", path)
    assert r.returncode == 0, r.stderr
    return path, re.search(r"public key (ed25519_[0-9a-f]{64})", r.stdout).group(1)


def test_meshctl_keygen_writes_a_seed_and_prints_both_encodings(sovereign):
    path, key = sovereign
    with open(path) as f:
        seed = bytes.fromhex(f.read().strip())
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    pub = raw_public(Ed25519PrivateKey.from_private_bytes(seed))
    assert key == "ed25519_" + pub.hex()
    r = meshctl("keygen", "--out", path)
    assert r.returncode != 0 and "must not exist" in r.stderr


def test_without_a_coordinator_url_the_heartbeat_is_idle(gw, coord):
    push_config(gw, node={"name": NODE_NAME})
    time.sleep(1.5)
    assert console_field(gw.console("node"), "state").startswith("idle")
    assert coord.events("/register") == []


def test_registers_with_a_signed_message_then_stays_pending_on_403(gw, coord):
    t0 = time.time()
    push_config(gw, node={"name": NODE_NAME}, coordinator={"url": coord.url},
                intervals={"heartbeat_ms": 1000})
    reg = coord.wait_for("/register", 201, since=t0)[0]
    doc = json.loads(reg[4])
    key = "ed25519_" + base64.b64decode(ping(gw)["public_key"]).hex()
    assert doc["nodeId"] == NODE_NAME and doc["publicKey"] == key
    assert doc["tailscaleHostname"] == f"meshgate-{key[8:16]}"
    assert doc["tailscaleIP"] == "10.42.0.2"
    assert {(s["type"], s["port"]) for s in doc["services"]} == {("relay", 8080), ("peer", 9632)}
    assert all(s["publicKey"] == key for s in doc["services"])
    assert coord.problems == []
    beats = coord.wait_for("/heartbeat", 403, since=t0, count=2)
    assert 0.7 < beats[1][0] - beats[0][0] < 2.0
    node = gw.console("node")
    assert console_field(node, "state").startswith("pending approval")
    assert "heartbeat 403" in console_field(node, "last")
    assert coord.url in node
    assert coord.problems == []


def test_approved_by_a_sovereign_with_meshctl_it_heartbeats_every_second(gw, coord, sovereign):
    path, key = sovereign
    coord.sovereigns.add(key)
    r = meshctl("coord", "approve", NODE_NAME, "--url", coord.url, "--key", path)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert json.loads(r.stdout.split("\n", 1)[1])["status"] == "active"
    t0 = time.time()
    beats = coord.wait_for("/heartbeat", 200, since=t0, count=4, timeout=10)
    gaps = [b[0] - a[0] for a, b in zip(beats, beats[1:])]
    assert all(0.7 < g < 2.0 for g in gaps), gaps
    assert console_field(gw.console("node"), "state").startswith("active")
    assert coord.problems == []


def test_active_nodes_from_the_coordinator_feed_the_peer_registry(gw, coord, fake_peer):
    coord.others = [{"id": "gw-other", "public_key": "ed25519_" + raw_public(OTHER).hex(),
                     "tailscale_hostname": "other", "tailscale_ip": HOST_IP, "status": "active",
                     "services": [{"type": "peer", "port": fake_peer,
                                   "publicKey": "ed25519_" + raw_public(OTHER).hex()},
                                  {"type": "relay", "port": 8080, "publicKey": "x"}]}]
    t0 = time.time()
    coord.wait_for("/nodes", 200, since=t0, timeout=12)
    deadline = time.time() + 5
    while "gw-other" not in gw.console("peers") and time.time() < deadline:
        time.sleep(0.2)
    peers = gw.console("peers")
    line = next(l for l in peers.splitlines() if "gw-other" in l)
    assert f"{HOST_IP}:{fake_peer} coordinator key {b64(raw_public(OTHER))}" in line
    assert NODE_NAME not in peers   # itself, listed too, is left out
    # The coordinator's key now opens the gate for that node...
    st, _, _ = peer_call(gw, "GET", "/x", headers=nara_headers(OTHER, "gw-other", "GET", "/x"))
    assert st == 404
    # ...and a node no longer listed is dropped.
    coord.others = []
    t1 = time.time()
    coord.wait_for("/nodes", 200, since=t1, timeout=12)
    time.sleep(0.3)
    assert "gw-other" not in gw.console("peers")
    assert refused(gw, "GET", "/x", headers=nara_headers(OTHER, "gw-other", "GET", "/x")) \
        == "unknown peer"


def test_a_coordinator_that_forgot_the_node_gets_a_new_registration(gw, coord):
    with coord.lock:
        coord.nodes.clear()
    t0 = time.time()
    coord.wait_for("/heartbeat", 404, since=t0)
    coord.wait_for("/register", 201, since=t0)
    coord.wait_for("/heartbeat", 403, since=t0)
    assert console_field(gw.console("node"), "state").startswith("pending approval")
    with coord.lock:
        coord.nodes[NODE_NAME]["status"] = "active"
    coord.wait_for("/heartbeat", 200, since=time.time())


def test_a_failing_coordinator_is_retried_with_growing_backoff(gw, coord):
    coord.mode = "503"
    t0 = time.time()
    fails = coord.wait_for("/heartbeat", 503, since=t0, count=4, timeout=15)
    gaps = [b[0] - a[0] for a, b in zip(fails, fails[1:])]
    # 1 s doubling, each delay between half and all of it.
    assert 0.4 < gaps[0] < 1.3 and 0.9 < gaps[1] < 2.3 and 1.9 < gaps[2] < 4.3, gaps
    assert gw.request("GET", "/health")[0] == 200
    node = gw.console("node")
    assert "heartbeat 503" in console_field(node, "last")
    assert "backing off" in console_field(node, "state")
    coord.mode = "normal"
    coord.wait_for("/heartbeat", 200, since=time.time(), timeout=15)
    assert "backing off" not in console_field(gw.console("node"), "state")


def test_an_unreachable_coordinator_backs_off_and_the_gateway_keeps_serving(gw, coord):
    coord.stop()
    try:
        t0 = time.time()
        while time.time() - t0 < 4:
            assert gw.request("GET", "/health")[0] == 200
            assert ping(gw)["from"] == NODE_NAME
            time.sleep(0.3)
        node = gw.console("node")
        assert "connection refused" in console_field(node, "last"), node
        assert "backing off" in console_field(node, "state")
    finally:
        coord.start()   # the same port again
    coord.wait_for("/heartbeat", 200, since=time.time(), timeout=20)
    assert console_field(gw.console("node"), "state").startswith("active")
    assert coord.problems == []
    assert re.search(r"heap: sealed, \d+ calls during init, 0 after seal", gw.console("mem"))


def test_without_the_url_it_goes_idle_and_a_new_registration_of_a_known_node_is_a_409(gw, coord):
    push_config(gw, node={"name": NODE_NAME}, intervals={"heartbeat_ms": 1000})
    time.sleep(1.5)
    t0 = time.time()
    time.sleep(1.5)
    assert coord.events(since=t0) == []
    assert console_field(gw.console("node"), "state").startswith("idle")
    push_config(gw, node={"name": NODE_NAME}, coordinator={"url": coord.url},
                intervals={"heartbeat_ms": 1000})
    coord.wait_for("/register", 409, since=t0)
    coord.wait_for("/heartbeat", 200, since=t0)
    assert console_field(gw.console("node"), "state").startswith("active")


# --- meshctl's coordinator commands ----------------------------------------------------


def test_meshctl_deny_and_approve_are_signed_by_the_key_file(gw, coord, sovereign):
    path, key = sovereign
    with coord.lock:
        coord.nodes["cand-1"] = {"id": "cand-1", "status": "pending", "public_key": key,
                                 "tailscale_ip": "10.9.9.9", "services": []}
    t0 = time.time()
    r = meshctl("coord", "deny", "cand-1", "--url", coord.url, "--key", path)
    assert r.returncode == 0, (r.stdout, r.stderr)
    ev = coord.events("/deny/cand-1", since=t0)[0]
    assert set(json.loads(ev[4])) == {"approverPublicKey", "signature"}
    assert coord.nodes["cand-1"]["status"] == "denied"
    r = meshctl("coord", "approve", "cand-1", "--url", coord.url, "--key", path)
    assert r.returncode == 1 and r.stdout.startswith("404")
    assert coord.problems == []


def test_meshctl_sovereign_add_signs_the_new_key(coord, sovereign, tmp_path):
    path, key = sovereign
    other = "ed25519_" + raw_public(Ed25519PrivateKey.generate()).hex()
    t0 = time.time()
    r = meshctl("coord", "sovereign-add", other, "--url", coord.url, "--key", path,
                "--description", 'ops "second" key \u00e9')
    assert r.returncode == 0, (r.stdout, r.stderr)
    doc = json.loads(coord.events("/sovereign/add", since=t0)[0][4])
    assert doc["publicKey"] == other and doc["approverPublicKey"] == key
    assert doc["description"] == 'ops "second" key \u00e9'
    assert set(doc) == {"publicKey", "description", "approverPublicKey", "signature"}
    assert other in coord.sovereigns
    # A key that is not a sovereign's is refused by the coordinator.
    stranger = str(tmp_path / "stranger.key")
    assert meshctl("keygen", "--out", stranger).returncode == 0
    r = meshctl("coord", "sovereign-add", other, "--url", coord.url, "--key", stranger)
    assert r.returncode == 1 and r.stdout.startswith("403")
    assert coord.problems == []


def test_meshctl_nodes_and_topology_read_the_coordinator(coord):
    r = meshctl("coord", "nodes", "--status", "denied", "--url", coord.url)
    assert r.returncode == 0, r.stderr
    assert [n["id"] for n in json.loads(r.stdout.split("\n", 1)[1])["nodes"]] == ["cand-1"]
    r = meshctl("coord", "nodes", "--url", coord.url)
    assert NODE_NAME in r.stdout
    r = meshctl("coord", "topology", "--url", coord.url)
    assert r.returncode == 0 and r.stdout.startswith("200")
    assert meshctl("coord", "approve", "x", "--url", coord.url).returncode == 2   # no key
