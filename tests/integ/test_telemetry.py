"""The telemetry probe and meshctl as a Signal client (issue 9): an
operator registers as `sysmaint` with meshctl, the gateway's encrypted
reports reach it through the relay and decrypt, their figures match /proc,
the session outlives a reboot without a new prekey exchange, two people chat
through the gateway, and bad input is reported rather than trusted."""
import base64
import hashlib
import json
import os
import re
import subprocess
import tempfile
import time
import uuid

import pytest

import xeddsa
from conftest import ROOT, hmac_headers, module_gateway

SECRET = "telemetry-integ-secret"
URL = "http://10.42.0.2:8080"
INTERVAL_MS = 2000


def now_ms():
    return int(time.time() * 1000)


def b64(b):
    return base64.b64encode(b).decode()


def push_config(gw, auth="signed", recipient="sysmaint"):
    doc = {"identity": {"bot_name": "Joi", "allowed_senders": ["*"], "groups": {}},
           "rate_limits": {"inbound": {"max_per_hour": 0, "max_per_minute": 0}},
           "gateway": {"relay": {"auth": auth},
                       "intervals": {"telemetry_ms": INTERVAL_MS},
                       "telemetry": {"recipient": recipient}}}
    body = json.dumps(doc).encode()
    st, _, resp = gw.request("POST", "/config/sync", body, hmac_headers(SECRET, body), port=8444)
    assert st == 200, resp


class Meshctl:
    """One meshctl store (an identity) in the test's directory."""

    def __init__(self, board, workdir, ident, store=None):
        self.exe = os.path.join(ROOT, "build", board, "meshctl")
        self.id = ident
        self.store = os.path.join(workdir, (store or ident) + ".img")
        self.slow = board != "host"

    def args(self, *a):
        return [self.exe, *a, "--store", self.store]

    def run(self, *a, check=True, timeout=60):
        p = subprocess.run(self.args(*a), capture_output=True, text=True, timeout=timeout)
        if check:
            assert p.returncode == 0, p.stderr
        return p

    def init(self):
        self.run("init", "--id", self.id)
        return self

    def register(self):
        self.run("register", "--url", URL)
        return self

    def send(self, to, text, *extra, check=True):
        p = self.run("send", "--url", URL, "--to", to, *extra, text, check=check)
        return json.loads(p.stdout) if p.returncode == 0 else p

    def listen(self, count, timeout=30):
        p = self.run("listen", "--url", URL, "--count", str(count), "--timeout",
                     str(timeout * (3 if self.slow else 1)), timeout=timeout * 3 + 30)
        return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]

    def listen_bg(self, count, timeout=30):
        return subprocess.Popen(self.args("listen", "--url", URL, "--count", str(count),
                                          "--timeout", str(timeout * (3 if self.slow else 1))),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def lines_of(proc, timeout=120):
    out, err = proc.communicate(timeout=timeout)
    return [json.loads(line) for line in out.splitlines() if line.strip()], err


class RawClient:
    """A relay user speaking the HTTP API directly (signed as section 1
    says, with the independent Python signer): for the bad input meshctl
    would never make."""

    def __init__(self, gw, name):
        self.gw, self.id = gw, name
        self.priv = os.urandom(32)
        self.identity = b"\x05" + xeddsa.public_key(self.priv)

    def post(self, path, doc):
        body = json.dumps(doc).encode()
        ts = str(now_ms())
        msg = "\n".join([self.id, ts, "POST", path, hashlib.sha256(body).hexdigest()]).encode()
        hdrs = {"X-Mesh-Id": self.id, "X-Mesh-Timestamp": ts,
                "X-Mesh-Signature": b64(xeddsa.sign(self.priv, msg))}
        st, _, resp = self.gw.request("POST", path, body, hdrs)
        return st, json.loads(resp) if resp else None

    def register(self):
        assert self.post("/v1/register", {"id": self.id, "identityKey": b64(self.identity)})[0] == 200
        return self

    def publish_badly_signed_bundle(self):
        bundle = {"id": self.id, "deviceId": 1, "registrationId": 77,
                  "identityKey": b64(self.identity),
                  "signedPreKey": {"keyId": 1, "publicKey": b64(b"\x05" + os.urandom(32)),
                                   "signature": b64(os.urandom(64))},
                  "preKey": {"keyId": 1, "publicKey": b64(b"\x05" + os.urandom(32))}}
        assert self.post("/v1/prekeys", {"id": self.id, "bundle": bundle})[0] == 200

    def send_garbage(self, to, type_=3):
        env = {"version": 1, "senderId": self.id, "recipientId": to, "sessionId": "x",
               "type": type_, "body": b64(os.urandom(120)), "timestamp": now_ms()}
        return self.post("/v1/messages", {"from": self.id, "to": to, "envelope": env})


@pytest.fixture(scope="module")
def gw(request):
    yield from module_gateway(request, env={"MESH_HMAC_SECRET": SECRET})


@pytest.fixture(scope="module")
def workdir():
    d = tempfile.mkdtemp(prefix="mg-tele-")
    yield d
    subprocess.run(["rm", "-rf", d], check=False)


@pytest.fixture(scope="module")
def operator(request, gw, workdir):
    push_config(gw)
    return Meshctl(request.config.getoption("--board"), workdir, "sysmaint").init().register()


def reports(msgs):
    return [m for m in msgs if m.get("message", {}).get("kind") == "telemetry.report"]


def proc_figures():
    mem = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":")
            mem[k] = int(v.split()[0])
    net_in = net_out = 0
    with open("/proc/net/dev") as f:
        for line in f.readlines()[2:]:
            name, data = line.split(":", 1)
            if name.strip() != "lo":
                fields = data.split()
                net_in += int(fields[0])
                net_out += int(fields[8])
    with open("/proc/loadavg") as f:
        load = [float(x) for x in f.read().split()[:3]]
    mem_pct = 100.0 * (mem["MemTotal"] - mem["MemAvailable"]) / mem["MemTotal"]
    swap_pct = (100.0 * (mem["SwapTotal"] - mem["SwapFree"]) / mem["SwapTotal"]
                if mem["SwapTotal"] else 0.0)
    return mem_pct, swap_pct, net_in, net_out, load


def test_the_gateways_reports_reach_the_operator_decrypted_and_match_proc(gw, operator):
    msgs = operator.listen(3)
    got = reports(msgs)
    assert len(got) >= 2, msgs
    assert got[0]["type"] == 3                       # the first makes the session
    mem_pct, swap_pct, net_in, net_out, load = proc_figures()
    for m in got:
        r = m["message"]
        assert r["version"] == 1 and r["reportId"] and r["createdAt"] > 0
        assert m["from"] == r["source"]
        h = r["host"]
        assert abs(h["memPct"] - mem_pct) < 10
        assert abs(h["swapPct"] - swap_pct) < 10
        assert 0 <= h["netInBytes"] <= net_in and 0 <= h["netOutBytes"] <= net_out
        assert all(abs(a - b) < 2.0 for a, b in zip(h["load"], load))
        assert set(r["relay"]) >= {"uptimeSec", "counts", "queueDepthHistogram"}
        assert r["firmware"]["heap"]["callsAfterSeal"] == 0
    assert got[-1]["message"]["host"]["cpuPct"] is not None
    assert 0 <= got[-1]["message"]["host"]["cpuPct"] <= 100
    assert len({m["message"]["reportId"] for m in got}) == len(got)
    # meshctl answered the prekey message: the session now sends whisper messages.
    later = reports(operator.listen(2))
    assert later and later[-1]["type"] == 2
    out = gw.console("telemetry")
    assert "recipient  sysmaint" in out and "type 2" in out
    assert re.search(r"host +cpu \d+\.\d\d%, mem \d+\.\d\d%", out), out


def test_a_capped_probe_keeps_only_its_newest_report_and_counts_the_rest(gw, operator):
    operator.listen(10, timeout=3)                   # empty the mailbox
    time.sleep(INTERVAL_MS * 5 / 1000)               # the cap (2) holds the third on
    out = gw.console("telemetry")
    capped = int(re.search(r"(\d+) capped", out).group(1))
    skipped = int(re.search(r"(\d+) skipped \(replaced\)", out).group(1))
    assert capped > 0 and skipped > 0, out
    got = reports(operator.listen(3, timeout=10))
    assert len(got) == 3 and all(m["type"] == 2 for m in got)


def test_meshctl_telemetry_prints_the_reports_as_a_table(gw, operator):
    p = operator.run("telemetry", "--url", URL, "--count", "1", "--timeout",
                     str(30 if operator.slow else 10))
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["from", "report", "type", "cpu%", "mem%", "swap%", "netIn",
                                "netOut", "load"]
    row = lines[1].split()
    assert row[1].startswith("rpt_") and row[2] == "2"
    assert 0 <= float(row[4]) <= 100 and row[8].startswith("[")


def test_after_a_reboot_the_session_continues_without_a_new_prekey_exchange(gw, operator):
    gw.restart()
    push_config(gw)                                  # the config lives in RAM only
    got = reports(operator.listen(1))
    assert got and got[0]["type"] == 2, got
    out = gw.console("telemetry")
    assert re.search(r"reports +\d+ built, [1-9]\d* sent \(0 prekey\)", out), out
    assert "session." in gw.console("signal")


def test_alice_and_bob_chat_through_the_gateway(request, gw, operator, workdir):
    board = request.config.getoption("--board")
    alice = Meshctl(board, workdir, "alice").init().register()
    bob = Meshctl(board, workdir, "bob").init().register()
    listening = bob.listen_bg(1)
    time.sleep(1)
    sent = alice.send("bob", "hello bob, \"quoted\"")
    assert sent["ok"] and sent["type"] == 3
    got, err = lines_of(listening)
    assert len(got) == 1, err
    prompt = got[0]["message"]
    assert got[0]["from"] == "alice" and got[0]["type"] == 3
    assert prompt["kind"] == "chat.prompt" and prompt["prompt"] == "hello bob, \"quoted\""
    assert prompt["from"] == "alice" and prompt["requestId"] == sent["requestId"]
    reply = bob.send("alice", "hi alice", "--reply-to", prompt["requestId"])
    assert reply["type"] == 2                        # bob's session came from alice's message
    msgs = alice.listen(2)
    kinds = {m["message"]["kind"]: m for m in msgs if "message" in m}
    assert "control.ping" in kinds                   # bob's listen answered the prekey message
    r = kinds["chat.reply"]["message"]
    assert r["reply"] == "hi alice" and r["requestId"] == prompt["requestId"]
    # alice has heard from bob: her next message is a whisper message.
    assert alice.send("bob", "again")["type"] == 2
    assert [m["message"]["prompt"] for m in bob.listen(1)] == ["again"]


def test_an_envelope_that_does_not_decrypt_is_reported_and_acked(request, gw, operator, workdir):
    board = request.config.getoption("--board")
    carol = Meshctl(board, workdir, "carol").init().register()
    mallory = RawClient(gw, "mallory-" + uuid.uuid4().hex[:6]).register()
    assert mallory.send_garbage("carol")[0] == 200
    got = carol.listen(1)
    assert got == [{"msgId": got[0]["msgId"], "from": mallory.id, "type": 3,
                    "error": "undecryptable"}]
    assert carol.listen(1, timeout=2) == []          # acked: not delivered again
    # The gateway's own mailbox takes only its recipient's answers.
    gateway_id = re.search(r"identity +(\S+) \(registered", gw.console("telemetry")).group(1)
    assert mallory.send_garbage(gateway_id)[0] == 200
    time.sleep(1.5)
    assert re.search(r"inbox +\d+ answers, [1-9]\d* dropped", gw.console("telemetry"))


def test_a_bundle_with_a_bad_signature_is_refused(request, gw, operator, workdir):
    board = request.config.getoption("--board")
    mallory = RawClient(gw, "mallory-" + uuid.uuid4().hex[:6]).register()
    mallory.publish_badly_signed_bundle()
    dave = Meshctl(board, workdir, "dave").init().register()
    p = dave.send(mallory.id, "hi", check=False)
    assert p.returncode == 1 and "bad signature" in p.stderr
    # The probe refuses it too, and says so.
    push_config(gw, recipient=mallory.id)
    time.sleep(INTERVAL_MS * 1.5 / 1000)
    out = gw.console("telemetry")
    assert "bad signature" in out, out
    push_config(gw)


def test_a_changed_identity_key_is_reported_not_trusted(request, gw, operator, workdir):
    board = request.config.getoption("--board")
    erin = Meshctl(board, workdir, "erin").init().register()
    frank = Meshctl(board, workdir, "frank").init().register()
    assert frank.send("erin", "first")["type"] == 3
    assert erin.listen(1)[0]["message"]["prompt"] == "first"
    # Someone else's identity under frank's id: the open mode lets it deposit.
    push_config(gw, auth="open")
    impostor = Meshctl(board, workdir, "frank", store="impostor").init()
    assert impostor.send("erin", "it is me, frank")["type"] == 3
    got = erin.listen(1)
    assert got[0]["from"] == "frank" and got[0]["error"] == "identity_changed"
    push_config(gw)


def test_no_heap_call_after_the_seal_with_telemetry_running(gw, operator):
    st, _, body = gw.request("GET", "/diagnostics")
    assert st == 200
    assert json.loads(body)["firmware"]["heap"]["callsAfterSeal"] == 0
    out = gw.console("signal")
    assert "leaks" in out and " 0 leaks" in out
