"""The coordinator role over the network (PROTOCOLS.md section 3, port
8190): nodes and sovereigns with keys of their own (Python's cryptography
Ed25519, a signer independent of the firmware's), the controller's config
turning the role on, the console, offline detection, a reboot."""
import hashlib
import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from conftest import hmac_headers, module_gateway

SECRET = "integ-coord-secret"
PORT = 8190
VECTOR_KEY = "ed25519_4cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba29"
VECTOR_SIG = ("ed25519_sig_39256ba90a1eecaa31df5a889da43fba2de20414265a87bfe18a7656fff1bb4c"
              "cfa9c1f4e364a3a2e58513b7e86d65088f1ca00be4e1b98f47ea1e7f44d28d0d")


def now_ms():
    return int(time.time() * 1000)


class Party:
    """A node or a sovereign: an Ed25519 key from seed 31 x 00 then n."""

    def __init__(self, n):
        self.sk = Ed25519PrivateKey.from_private_bytes(bytes(31) + bytes([n]))
        raw = self.sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key = "ed25519_" + raw.hex()

    def sign(self, message):
        """Ed25519 over SHA-256(message), as the reference signs."""
        return "ed25519_sig_" + self.sk.sign(hashlib.sha256(message.encode()).digest()).hex()


def register_message(node_id, key, host):
    # The reference signs JSON.stringify({nodeId, publicKey, tailscaleHostname}):
    # compact, in that key order (the firmware builds the same bytes).
    return json.dumps({"nodeId": node_id, "publicKey": key, "tailscaleHostname": host},
                      separators=(",", ":"))


class Coord:
    def __init__(self, gw):
        self.gw = gw

    def post(self, path, doc):
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        st, _, resp = self.gw.request("POST", path, body, port=PORT)
        return st, json.loads(resp)

    def get(self, path):
        st, hdrs, resp = self.gw.request("GET", path, port=PORT)
        assert hdrs["content-type"] == "application/json"
        return st, json.loads(resp)

    def register(self, party, node_id, host="host-a", signer=None, **extra):
        doc = {"nodeId": node_id, "publicKey": party.key, "tailscaleHostname": host,
               "signature": (signer or party).sign(register_message(node_id, party.key, host))}
        doc.update(extra)
        return self.post("/register", doc)

    def decide(self, sovereign, action, node_id, signer=None):
        return self.post(f"/{action}/{node_id}",
                         {"approverPublicKey": sovereign.key,
                          "signature": (signer or sovereign).sign(f"{action}:{node_id}")})

    def heartbeat(self, party, node_id, ts=None, ip="100.64.0.9"):
        ts = now_ms() if ts is None else ts
        return self.post("/heartbeat", {"nodeId": node_id, "tailscaleIP": ip, "timestamp": ts,
                                        "signature": party.sign(f"heartbeat:{node_id}:{ts}")})

    def status_of(self, node_id):
        st, doc = self.get(f"/nodes/{node_id}")
        assert st == 200
        return doc["status"]

    def counts(self):
        return self.get("/topology")[1]["counts"]


def push_config(gw, **coordinator):
    coordinator.setdefault("role", True)
    body = json.dumps({"version": 1, "identity": {"bot_name": "Joi", "allowed_senders": ["*"],
                                                  "groups": {}},
                       "timestamp_ms": now_ms(),
                       "gateway": {"coordinator": coordinator}}).encode()
    st, _, resp = gw.request("POST", "/config/sync", body, hmac_headers(SECRET, body), port=8444)
    assert st == 200, resp


SOV = Party(1)        # the protocol's vector key, added on the console
NODE = Party(2)
OTHER = Party(3)


@pytest.fixture(scope="module")
def gw(request):
    yield from module_gateway(request, env={"MESH_HMAC_SECRET": SECRET})


@pytest.fixture
def coord(gw):
    return Coord(gw)


def test_the_role_is_off_until_a_config_turns_it_on(gw, coord):
    st, _, body = gw.request("GET", "/health", port=PORT)
    assert (st, json.loads(body)) == (503, {"error": "coordinator_disabled"})
    assert "role       off" in gw.console("coord")
    push_config(gw)
    assert coord.get("/health") == (200, {"status": "ok", "service": "mesh"})
    assert "role       on (config)" in gw.console("coord")


def test_the_vector_key_signs_as_the_protocol_says():
    assert SOV.key == VECTOR_KEY
    assert SOV.sign("approve:validator-002") == VECTOR_SIG


def test_register_answers_201_pending(coord):
    st, doc = coord.register(NODE, "validator-002", tailscaleIP="100.64.0.2",
                             services=[{"type": "relay", "port": 8080, "publicKey": "abc="}])
    assert (st, doc) == (201, {"success": True, "nodeId": "validator-002", "status": "pending",
                               "message": "Registration successful. Awaiting sovereign approval."})
    st, doc = coord.get("/nodes?status=pending")
    assert doc == {"nodes": [{"id": "validator-002", "public_key": NODE.key,
                              "tailscale_hostname": "host-a", "tailscale_ip": "100.64.0.2",
                              "status": "pending",
                              "services": [{"type": "relay", "port": 8080,
                                            "publicKey": "abc="}]}]}
    assert coord.get("/nodes") == (200, {"nodes": []})   # default: active


def test_register_twice_is_409(coord):
    assert coord.register(OTHER, "validator-002") == (409, {"error": "Node already registered"})
    assert coord.get("/nodes/validator-002")[1]["public_key"] == NODE.key


@pytest.mark.parametrize("body,status,error", [
    (b"{not json", 400, "Invalid JSON body"),
    (b"[]", 400, "Invalid JSON body"),
    (b"{}", 400, "Missing required fields"),
    (b'{"nodeId":"x","publicKey":"' + VECTOR_KEY.encode() + b'"}', 400,
     "Missing required fields"),
    (b'{"nodeId":5,"publicKey":"k","tailscaleHostname":"h"}', 400, "Missing required fields"),
    (b'{"nodeId":"x","publicKey":"ed25519_zz","tailscaleHostname":"h"}', 400,
     "Invalid publicKey"),
    (b'{"nodeId":"x y","publicKey":"' + VECTOR_KEY.encode() + b'","tailscaleHostname":"h"}',
     400, "Invalid nodeId"),
    (b'{"nodeId":"x","publicKey":"' + VECTOR_KEY.encode() + b'","tailscaleHostname":"h"}',
     401, "Invalid signature"),
])
def test_bad_registrations_are_refused_and_change_nothing(coord, body, status, error):
    before = coord.counts()
    assert coord.post("/register", body) == (status, {"error": error})
    assert coord.counts() == before


def test_forged_truncated_misprefixed_and_cross_node_register_signatures_are_401(coord):
    before = coord.counts()
    assert coord.register(NODE, "n-forged", signer=OTHER)[0] == 401
    good = NODE.sign(register_message("n-forged", NODE.key, "host-a"))
    for sig in (good[:-2], "ed25519:" + good[12:], good[12:],
                NODE.sign(register_message("n-other", NODE.key, "host-a"))):
        st, doc = coord.post("/register", {"nodeId": "n-forged", "publicKey": NODE.key,
                                           "tailscaleHostname": "host-a", "signature": sig})
        assert (st, doc) == (401, {"error": "Invalid signature"})
    assert coord.counts() == before


def test_the_console_adds_and_lists_sovereigns(gw):
    out = gw.console("sovereign add " + SOV.key)
    assert f"sovereign {SOV.key} added" in out
    assert "already a sovereign" in gw.console("sovereign add " + SOV.key)
    assert "error: not a key" in gw.console("sovereign add ed25519_12")
    out = gw.console("sovereign list")
    assert "1 sovereign key(s)" in out and SOV.key in out


def test_approve_by_a_non_sovereign_or_a_bad_signature_changes_nothing(coord):
    assert coord.decide(NODE, "approve", "validator-002") == \
        (403, {"error": "Unauthorized - not a sovereign key"})
    assert coord.post("/approve/validator-002", {"signature": "x"})[0] == 403
    assert coord.decide(SOV, "approve", "validator-002", signer=OTHER) == \
        (401, {"error": "Invalid signature"})
    st, doc = coord.post("/approve/validator-002",
                         {"approverPublicKey": SOV.key, "signature": SOV.sign("deny:validator-002")})
    assert st == 401
    assert coord.status_of("validator-002") == "pending"


def test_a_pending_node_cannot_heartbeat(coord):
    assert coord.heartbeat(NODE, "validator-002") == (403, {"error": "Node not active"})


def test_a_sovereign_approves_once(coord):
    assert coord.decide(SOV, "approve", "validator-002") == \
        (200, {"success": True, "nodeId": "validator-002", "status": "active"})
    assert coord.decide(SOV, "approve", "validator-002") == \
        (404, {"error": "Node not found or already processed"})
    assert coord.decide(SOV, "approve", "ghost") == \
        (404, {"error": "Node not found or already processed"})
    assert [n["id"] for n in coord.get("/nodes")[1]["nodes"]] == ["validator-002"]


def test_a_sovereign_denies(coord):
    assert coord.register(OTHER, "n-denied")[0] == 201
    assert coord.decide(SOV, "deny", "n-denied") == \
        (200, {"success": True, "nodeId": "n-denied", "status": "denied"})
    assert coord.decide(SOV, "deny", "n-denied")[0] == 404
    assert coord.heartbeat(OTHER, "n-denied") == (403, {"error": "Node not active"})


def test_heartbeats_are_verified_and_never_replayed(coord):
    ts = now_ms()
    st, doc = coord.heartbeat(NODE, "validator-002", ts)
    assert st == 200 and doc["success"] is True and abs(doc["timestamp"] - ts) < 5000
    assert coord.get("/nodes/validator-002")[1]["tailscale_ip"] == "100.64.0.9"
    too_old = {"error": "Timestamp too old or invalid"}
    assert coord.heartbeat(NODE, "validator-002", ts) == (400, too_old)         # replayed
    assert coord.heartbeat(NODE, "validator-002", ts - 1) == (400, too_old)     # older
    assert coord.heartbeat(NODE, "validator-002", now_ms() - 61000) == (400, too_old)
    assert coord.heartbeat(NODE, "validator-002", now_ms() + 61000) == (400, too_old)
    assert coord.post("/heartbeat", {"nodeId": "validator-002", "signature": "x"}) == \
        (400, too_old)
    assert coord.heartbeat(OTHER, "validator-002") == (401, {"error": "Invalid signature"})
    assert coord.heartbeat(NODE, "ghost") == (404, {"error": "Node not registered"})
    assert coord.post("/heartbeat", {"timestamp": 1}) == \
        (400, {"error": "Missing required fields"})
    assert coord.post("/heartbeat", b"{") == (400, {"error": "Invalid JSON body"})
    assert coord.heartbeat(NODE, "validator-002")[0] == 200


def test_sovereign_add_needs_a_sovereigns_signature(coord):
    new = Party(7)
    doc = {"publicKey": new.key, "description": "ops"}
    assert coord.post("/sovereign/add", doc) == \
        (403, {"error": "Unauthorized - not a sovereign key"})
    assert coord.post("/sovereign/add", dict(doc, approverPublicKey=SOV.key)) == \
        (401, {"error": "Invalid signature"})
    assert coord.post("/sovereign/add", dict(doc, approverPublicKey=new.key,
                                             signature=new.sign("sovereign-add:" + new.key)))[0] == 403
    signed = dict(doc, approverPublicKey=SOV.key, signature=SOV.sign("sovereign-add:" + new.key))
    assert coord.post("/sovereign/add", signed) == (200, {"success": True, "publicKey": new.key})
    assert coord.post("/sovereign/add", signed) == (409, {"error": "Sovereign key already exists"})
    assert coord.get("/topology")[1]["sovereigns"] == 2
    # The new sovereign approves.
    assert coord.register(Party(8), "n-by-new")[0] == 201
    assert coord.decide(new, "approve", "n-by-new")[0] == 200


def test_node_by_id_topology_and_unknown_paths(coord):
    st, doc = coord.get("/nodes/validator-002")
    assert st == 200
    assert doc["id"] == "validator-002" and doc["status"] == "active"
    assert doc["last_heartbeat"] > 0 and doc["registered_at"] > 0
    assert coord.get("/nodes/ghost") == (404, {"error": "Node not found"})
    assert coord.get("/nodes?status=bogus") == (400, {"error": "Invalid status"})
    st, topo = coord.get("/topology")
    assert topo["counts"] == {"pending": 0, "active": 2, "denied": 1, "offline": 0, "total": 3}
    assert {n["id"]: n["status"] for n in topo["nodes"]} == \
        {"validator-002": "active", "n-denied": "denied", "n-by-new": "active"}
    assert coord.get("/nowhere") == (404, {"error": "Not found"})


def test_sovereign_keys_from_the_config_are_added(gw, coord):
    cfg_sov = Party(9)
    push_config(gw, sovereign_keys=[cfg_sov.key])
    assert cfg_sov.key in gw.console("sovereign list")
    assert coord.register(Party(10), "n-cfg")[0] == 201
    assert coord.decide(cfg_sov, "approve", "n-cfg")[0] == 200


def test_a_silent_node_goes_offline_and_a_heartbeat_brings_it_back(gw, coord):
    push_config(gw, offline_after_ms=1000, offline_check_ms=100)
    assert coord.heartbeat(NODE, "validator-002")[0] == 200
    deadline = time.time() + 10
    while coord.status_of("validator-002") != "offline":
        assert time.time() < deadline, "never marked offline"
        time.sleep(0.2)
    assert "validator-002" in [n["id"] for n in coord.get("/nodes?status=offline")[1]["nodes"]]
    assert "offline" in gw.console("coord")
    assert coord.heartbeat(NODE, "validator-002")[0] == 200
    assert coord.status_of("validator-002") == "active"
    # Back to the default windows for what follows.
    push_config(gw)


def test_the_console_summarises_the_registry(gw):
    out = gw.console("coord")
    assert "role       on (config)" in out
    assert "nodes      4 of 64: 0 pending, 1 active, 2 offline, 1 denied" in out
    assert "validator-002" in out and "heartbeat" in out
    assert "sovereigns 3 of 8" in out


def test_the_registry_survives_a_reboot(gw, coord):
    before = coord.get("/topology")[1]
    gw.restart()
    # The config lives in RAM: the role is off until the controller pushes again.
    assert gw.request("GET", "/health", port=PORT)[0] == 503
    push_config(gw)
    after = coord.get("/topology")[1]
    assert after["counts"] == before["counts"] and after["sovereigns"] == before["sovereigns"]
    assert [(n["id"], n["status"], n["tailscale_ip"]) for n in after["nodes"]] == \
        [(n["id"], n["status"], n["tailscale_ip"]) for n in before["nodes"]]
    assert SOV.key in gw.console("sovereign list")
    assert coord.heartbeat(NODE, "validator-002")[0] == 200
    assert coord.register(NODE, "validator-002")[0] == 409


def test_a_full_registry_answers_registry_full_and_lists_whole(gw, coord):
    total = coord.counts()["total"]
    host = "h" * 63
    services = [{"type": f"svc{k}", "port": 9000 + k, "publicKey": "k" * 79} for k in range(4)]
    for i in range(64 - total):
        assert coord.register(NODE, f"fill-{i}", host=host, services=services)[0] == 201
    assert coord.register(NODE, "one-too-many") == (503, {"error": "registry_full"})
    assert coord.counts()["total"] == 64
    assert coord.get("/nodes/one-too-many")[0] == 404
    # Far more than a connection's 16 KiB send buffer, whole and well formed.
    st, hdrs, body = gw.request("GET", "/nodes?status=pending", port=PORT)
    assert st == 200 and len(body) > 32 * 1024
    assert int(hdrs["content-length"]) == len(body)
    nodes = json.loads(body)["nodes"]
    assert [n["id"] for n in nodes] == [f"fill-{i}" for i in range(64 - total)]
    assert all(n["services"] == services and n["tailscale_hostname"] == host for n in nodes)
    # Two at once on one keep-alive connection, pipelined.
    req = b"GET /topology HTTP/1.1\r\nHost: x\r\n\r\n"
    raw = gw.raw(req + req[:-2] + b"Connection: close\r\n\r\n", port=PORT)
    assert raw.count(b"HTTP/1.1 200 OK") == 2
    first = raw.split(b"\r\n\r\n", 1)[1]
    assert json.loads(first[:first.index(b"HTTP/1.1 200")])["counts"]["total"] == 64


def test_no_heap_calls_after_seal_with_the_coordinator_running(gw):
    st, _, body = gw.request("GET", "/diagnostics")
    doc = json.loads(body)
    assert doc["firmware"]["heap"]["callsAfterSeal"] == 0
    assert "coord_nodes" in body.decode()
