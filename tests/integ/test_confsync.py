"""Config sync over the network (PROTOCOLS.md section 2): the controller's
HMAC gate on port 8444, pushes signed by an independent signer (Python's hmac
module) and by meshctl, key rotation, and the console's view."""
import hashlib
import json
import os
import re
import subprocess
import time

import pytest

from conftest import ROOT, Gateway, hmac_headers, module_gateway

SECRET = "integ-bootstrap-secret"
PORT = 8444


def now_ms():
    return int(time.time() * 1000)


signed = hmac_headers


def config_body(**extra):
    doc = {"version": 1,
           "identity": {"bot_name": "Joi", "allowed_senders": ["+15550001111", "alice"],
                        "groups": {}},
           "rate_limits": {"inbound": {"max_per_hour": 100, "max_per_minute": 10}},
           "security": {"privacy_mode": False, "kill_switch": False},
           "timestamp_ms": now_ms()}
    doc.update(extra)
    return json.dumps(doc).encode()


def python_hash(body):
    doc = json.loads(body)
    doc.pop("hmac_rotation", None)
    doc.pop("timestamp_ms", None)
    canon = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()


class Controller:
    def __init__(self, gw, secret=SECRET):
        self.gw = gw
        self.secret = secret

    def push(self, body, secret=None, **kw):
        hdrs = signed(secret or self.secret, body, **kw)
        return self.gw.request("POST", "/config/sync", body, hdrs, port=PORT)

    def status(self):
        st, _, body = self.gw.request("GET", "/config/status", port=PORT)
        assert st == 200
        return json.loads(body)["data"]["config_hash"]


@pytest.fixture(scope="module")
def gw(request):
    yield from module_gateway(request, env={"MESH_HMAC_SECRET": SECRET})


@pytest.fixture
def ctl(gw):
    return Controller(gw)


def error_code(body):
    return json.loads(body)["error"]["code"]


def test_health_says_hmac_is_enabled(gw):
    st, _, body = gw.request("GET", "/health", port=PORT)
    assert st == 200
    assert json.loads(body) == {"status": "ok", "mode": "gateway", "hmac": "enabled"}


def test_a_fresh_gateway_has_no_config_and_its_console_says_deny_all(gw, ctl):
    gw.restart()
    assert ctl.status() is None
    assert "deny-all" in gw.console("config")


def test_the_protocol_vector_push_is_applied_with_its_hash(gw, ctl):
    body = b'{"identity":{"allowed_senders":["+15550001111"],"bot_name":"Joi","groups":{}}}'
    st, _, resp = ctl.push(body)
    assert st == 200, resp
    data = json.loads(resp)
    assert data["status"] == "ok"
    assert data["data"]["config_hash"] == \
        "ee130564602f499105e698a8da43b4c6a1574af6c702dead9267ad3ad7a33ed7"
    assert abs(data["data"]["applied_at"] - now_ms()) < 60000
    assert ctl.status() == data["data"]["config_hash"]


def test_config_hash_matches_python_for_unicode_nesting_and_unknown_keys(gw, ctl):
    body = json.dumps({
        "identity": {"bot_name": "J\u00f6i \u2603 \U0001f600", "allowed_senders": ["*"],
                     "groups": {"z": [1, {"b": None, "a": True}], "\u00e9": "x/y\"\\\n"}},
        "zeta": {"nested": {"deep": [1.50, -0, 2e10]}},
        "timestamp_ms": 1, "hmac_rotation": None,
    }, ensure_ascii=False).encode()
    st, _, resp = ctl.push(body)
    assert st == 200, resp
    assert json.loads(resp)["data"]["config_hash"] == python_hash(body)


def test_a_push_signed_by_meshctl_is_applied(gw, tmp_path):
    path = tmp_path / "config.json"
    body = config_body()
    path.write_bytes(body)
    meshctl = os.path.join(ROOT, "build", gw.board, "meshctl")
    out = subprocess.run([meshctl, "config", "push", "--url", f"http://{gw.ip}:{PORT}",
                          "--secret", SECRET, str(path)], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr + out.stdout
    assert out.stdout.startswith("200\n")
    assert json.loads(out.stdout.split("\n", 1)[1])["data"]["config_hash"] == python_hash(body)
    st = subprocess.run([meshctl, "config", "status", "--url", f"http://{gw.ip}:{PORT}"],
                        capture_output=True, text=True, timeout=30)
    assert st.returncode == 0 and python_hash(body) in st.stdout
    wrong = subprocess.run([meshctl, "config", "push", "--url", f"http://{gw.ip}:{PORT}",
                            "--secret", "not-the-secret", str(path)], capture_output=True,
                           text=True, timeout=30)
    assert wrong.returncode == 1 and "hmac_invalid_signature" in wrong.stdout


@pytest.mark.parametrize("missing", ["X-Nonce", "X-Timestamp", "X-HMAC-SHA256"])
def test_each_missing_header_is_401_and_changes_nothing(gw, ctl, missing):
    before = ctl.status()
    body = config_body(version=7)
    hdrs = signed(SECRET, body)
    del hdrs[missing]
    st, _, resp = gw.request("POST", "/config/sync", body, hdrs, port=PORT)
    assert st == 401
    assert error_code(resp) == "hmac_missing_headers"
    assert json.loads(resp)["status"] == "error"
    assert ctl.status() == before


@pytest.mark.parametrize("ts,code", [("17000abc", "hmac_invalid_timestamp"),
                                     ("1.5", "hmac_invalid_timestamp"),
                                     ("past", "timestamp_skew_past"),
                                     ("future", "timestamp_skew_future")])
def test_bad_and_skewed_timestamps_are_refused(gw, ctl, ts, code):
    before = ctl.status()
    body = config_body(version=8)
    if ts == "past":
        ts = str(now_ms() - 310000)
    elif ts == "future":
        ts = str(now_ms() + 310000)
    st, _, resp = ctl.push(body, ts=ts)
    assert st == 401 and error_code(resp) == code
    assert ctl.status() == before


def test_a_timestamp_just_inside_the_window_passes(gw, ctl):
    # The gateway's clock is this machine's: 299 s in the past is inside
    # the 300 s window wherever the request lands within a second.
    st, _, resp = ctl.push(config_body(), ts=now_ms() - 299000)
    assert st == 200, resp


def test_a_replayed_request_is_refused_and_changes_nothing(gw, ctl):
    body = config_body(version=3)
    hdrs = signed(SECRET, body)
    assert gw.request("POST", "/config/sync", body, hdrs, port=PORT)[0] == 200
    applied = ctl.status()
    st, _, resp = gw.request("POST", "/config/sync", body, hdrs, port=PORT)
    assert st == 401 and error_code(resp) == "replay_detected"
    assert ctl.status() == applied


def test_uppercase_hex_and_a_wrong_key_are_invalid_signatures(gw, ctl):
    before = ctl.status()
    body = config_body(version=9)
    hdrs = signed(SECRET, body)
    hdrs["X-HMAC-SHA256"] = hdrs["X-HMAC-SHA256"].upper()
    st, _, resp = gw.request("POST", "/config/sync", body, hdrs, port=PORT)
    assert st == 401 and error_code(resp) == "hmac_invalid_signature"
    st, _, resp = ctl.push(body, secret="wrong-secret")
    assert st == 401 and error_code(resp) == "hmac_invalid_signature"
    assert ctl.status() == before


def nonces_in_use(gw):
    return int(re.search(r"nonces\s+(\d+) of (\d+) in use", gw.console("nonces")).group(1))


def test_bad_signatures_do_not_fill_the_nonce_cache(gw, ctl):
    used_before = nonces_in_use(gw)
    for _ in range(50):
        st, _, _ = ctl.push(config_body(), secret="flood")
        assert st == 401
    assert nonces_in_use(gw) == used_before
    assert ctl.push(config_body())[0] == 200
    assert nonces_in_use(gw) == used_before + 1


@pytest.mark.parametrize("body,code", [
    (b"{not json", "invalid_json"), (b"{}", "invalid_json"), (b"null", "invalid_json"),
    (b"[1,2]", "invalid_json"), (b'{"version":1}', "missing_identity"),
    (b'{"identity":[]}', "invalid_config"),
    (b'{"identity":{"allowed_senders":"alice"}}', "invalid_config"),
    (b'{"identity":{"allowed_senders":[1]}}', "invalid_config"),
    (b'{"identity":{},"rate_limits":{"inbound":{"max_per_hour":"10"}}}', "invalid_config"),
    (b'{"identity":{},"security":{"kill_switch":"yes"}}', "invalid_config"),
    (b'{"identity":{},"validation":{"max_text_length":-1}}', "invalid_config"),
    (b'{"identity":{},"gateway":{"relay":{"auth":"none"}}}', "invalid_config"),
    (b'{"identity":{},"gateway":{"peers":[{"name":"b","url":"ftp://x"}]}}', "invalid_config"),
    (b'{"identity":{},"hmac_rotation":{"new_secret":"xyz"}}', "invalid_config"),
    (b'{"identity":{},"timestamp_ms":"now"}', "invalid_config"),
])
def test_bad_configs_get_400_and_leave_the_running_config(gw, ctl, body, code):
    before = ctl.status()
    st, _, resp = ctl.push(body)
    assert st == 400, resp
    doc = json.loads(resp)
    assert doc["status"] == "error" and doc["error"] == code
    assert ctl.status() == before


def test_a_config_over_a_static_table_is_refused_whole(gw, ctl):
    before = ctl.status()
    body = config_body(identity={"allowed_senders": [f"user{i}" for i in range(300)]})
    st, _, resp = ctl.push(body)
    assert st == 400 and json.loads(resp)["error"] == "config_too_large"
    assert ctl.status() == before


def test_an_oversize_body_is_413(gw, ctl):
    body = b'{"identity":{},"pad":"' + b"x" * (70 * 1024) + b'"}'
    st, _, _ = ctl.push(body)
    assert st == 413


def test_rotation_keeps_the_old_key_for_the_grace_window_only(gw):
    new = os.urandom(32).hex()
    ctl = Controller(gw)
    body = config_body(hmac_rotation={"new_secret": new, "grace_period_ms": 3000})
    st, _, resp = ctl.push(body)
    assert st == 200, resp
    out = gw.console("config")
    assert "previous   accepted for" in out and new not in out
    # Inside the grace window both keys pass.
    assert ctl.push(config_body(version=2))[0] == 200
    assert ctl.push(config_body(version=3), secret=new)[0] == 200
    time.sleep(3.5)
    st, _, resp = ctl.push(config_body(version=4))
    assert st == 401 and error_code(resp) == "hmac_invalid_signature"
    assert ctl.push(config_body(version=5), secret=new)[0] == 200
    # Grace 0 switches at once.
    newer = os.urandom(32).hex()
    assert ctl.push(config_body(hmac_rotation={"new_secret": newer, "grace_period_ms": 0}),
                    secret=new)[0] == 200
    assert ctl.push(config_body(version=6), secret=new)[0] == 401
    assert ctl.push(config_body(version=6), secret=newer)[0] == 200


def test_a_reboot_forgets_the_config_and_the_rotated_key(gw):
    ctl = Controller(gw)
    gw.restart()
    assert ctl.status() is None
    assert ctl.push(config_body())[0] == 200   # the bootstrap key again


def test_delivery_status_is_gated_and_checks_its_timestamp(gw):
    st, _, resp = gw.request("GET", "/api/v1/delivery/status?timestamp=1", port=PORT)
    assert st == 401 and error_code(resp) == "hmac_missing_headers"
    for query, code in [("", "missing_timestamp"), ("?timestamp=", "missing_timestamp"),
                        ("?timestamp=abc", "invalid_timestamp"),
                        ("?timestamp=-5", "invalid_timestamp")]:
        st, _, resp = gw.request("GET", "/api/v1/delivery/status" + query,
                                 headers=signed(SECRET, b""), port=PORT)
        assert st == 400 and json.loads(resp)["error"] == code, (query, resp)
    st, _, resp = gw.request("GET", "/api/v1/delivery/status?timestamp=1700000000000",
                             headers=signed(SECRET, b""), port=PORT)
    assert st == 200
    assert json.loads(resp) == {"status": "ok", "data": None, "message": "not_tracked"}


def test_without_a_secret_the_gate_answers_503(request, gw):
    gw.stop()   # one TAP: the gateway without a secret takes its place
    g = Gateway(request.config.getoption("--board"), request.config.getoption("--runner"),
                request.config.getoption("--firmware"))
    try:
        g.start()
        st, _, body = g.request("GET", "/health", port=PORT)
        assert json.loads(body)["hmac"] == "disabled"
        st, _, resp = Controller(g).push(config_body())
        assert st == 503 and error_code(resp) == "hmac_not_configured"
        assert "no controller secret" in g.output()
    finally:
        g.remove()
        gw.start()


def test_no_heap_calls_after_seal_with_config_sync_running(gw):
    ctl = Controller(gw)
    for i in range(20):
        assert ctl.push(config_body(version=i + 1))[0] == 200
    st, _, body = gw.request("GET", "/diagnostics")
    assert json.loads(body)["firmware"]["heap"]["callsAfterSeal"] == 0


def test_meshctl_config_refuses_bad_arguments_clearly(gw, tmp_path):
    meshctl = os.path.join(ROOT, "build", gw.board, "meshctl")
    good = tmp_path / "c.json"
    good.write_bytes(config_body())
    env = {k: v for k, v in os.environ.items() if k != "MESH_HMAC_SECRET"}
    cases = [
        (["config", "push", "--url", "ftp://x", "--secret", "s", str(good)], 2, "usage"),
        (["config", "push", "--url", f"http://{gw.ip}:{PORT}", str(good)], 2, "no secret"),
        (["config", "push", "--url", f"http://{gw.ip}:{PORT}", "--secret", "s",
          str(tmp_path / "missing.json")], 1, "cannot read"),
        (["config", "status"], 2, "usage"),
        (["config", "status", "--url", "http://10.42.0.9:1"], 1, "cannot connect"),
    ]
    for args, rc, text in cases:
        out = subprocess.run([meshctl, *args], capture_output=True, text=True, timeout=30, env=env)
        assert out.returncode == rc and text in out.stderr, (args, out.returncode, out.stderr)
