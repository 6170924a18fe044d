"""Mesh membership end to end (issue "Mesh membership"): three gateways on
one bridge of the test network, gw-a also the coordinator, and an operator
with meshctl. Every gateway registers (gw-a with itself), waits as pending,
is approved by the operator's sovereign key, heartbeats and learns the other
two as peers; a stopped gateway is reported offline after the (shortened)
window and is active again once restarted; the coordinator restarted still
knows everyone. Windows are seconds, not minutes, through the config."""
import json
import os
import re
import subprocess
import time

import pytest

from conftest import Gateway, bridged_taps, hmac_headers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECRET = "integ-mesh-secret"
NAMES = ["gw-a", "gw-b", "gw-c"]
COORD_PORT = 8190
OFFLINE_MS = 3000


def meshctl(*args):
    r = subprocess.run([os.path.join(ROOT, "build", "host", "meshctl"), *args],
                       capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout, r.stderr


def wait_until(what, ok, timeout=30, every=0.2):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = ok()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")


class Mesh:
    def __init__(self, gws, coord_ip, sovereign_key):
        self.gws = gws
        self.coord_url = f"http://{coord_ip}:{COORD_PORT}"
        self.sovereign_key = sovereign_key

    def push_config(self, i):
        gw = self.gws[i]
        doc = {"version": 1, "timestamp_ms": int(time.time() * 1000),
               "identity": {"bot_name": "Joi", "allowed_senders": ["*"], "groups": {}},
               "gateway": {"node": {"name": NAMES[i], "hostname": NAMES[i]},
                           "intervals": {"heartbeat_ms": 1000},
                           "coordinator": {"url": self.coord_url, "role": i == 0,
                                           "sovereign_keys": [self.sovereign_key],
                                           "offline_after_ms": OFFLINE_MS,
                                           "offline_check_ms": 250}}}
        body = json.dumps(doc).encode()
        st, _, resp = gw.request("POST", "/config/sync", body, hmac_headers(SECRET, body),
                                 port=8444)
        assert st == 200, resp

    def nodes(self, status):
        rc, out, err = meshctl("coord", "nodes", "--status", status, "--url", self.coord_url)
        assert rc == 0, out + err
        return {n["id"]: n for n in json.loads(out.split("\n", 1)[1])["nodes"]}

    def status_of(self, name):
        st, _, body = self.gws[0].request("GET", f"/nodes/{name}", port=COORD_PORT)
        return json.loads(body).get("status") if st == 200 else None


@pytest.fixture(scope="module")
def mesh(request, tmp_path_factory):
    board = request.config.getoption("--board")
    runner = request.config.getoption("--runner")
    firmware = request.config.getoption("--firmware")
    key_file = str(tmp_path_factory.mktemp("sovereign") / "sovereign.key")
    rc, out, err = meshctl("keygen", "--out", key_file)
    assert rc == 0, err
    sovereign = re.search(r"^public key (ed25519_[0-9a-f]{64})$", out, re.M).group(1)
    with bridged_taps(3) as nodes:
        gws = [Gateway(board, runner, firmware, env={"MESH_HMAC_SECRET": SECRET}, ip=ip, tap=tap,
                       mac=mac, name=NAMES[i]) for i, (tap, ip, mac) in enumerate(nodes)]
        try:
            for gw in gws:
                gw.start(timeout=60)
            m = Mesh(gws, nodes[0][1], sovereign)
            m.key_file = key_file
            yield m
        finally:
            for gw in gws:
                gw.remove()


def test_three_gateways_register_wait_for_approval_and_become_active(mesh):
    for i in range(3):
        mesh.push_config(i)
    # Every one registers, gw-a with itself, and waits as pending.
    pending = wait_until("three pending", lambda: len(mesh.nodes("pending")) == 3 and
                         mesh.nodes("pending"))
    assert set(pending) == set(NAMES)
    for i, gw in enumerate(mesh.gws):
        node = pending[NAMES[i]]
        assert node["tailscale_ip"] == gw.ip
        assert {s["type"] for s in node["services"]} >= {"relay", "peer"}
        assert ("coordinator" in {s["type"] for s in node["services"]}) == (i == 0)
    assert "pending" in wait_until("gw-b pending on its console",
                                   lambda: re.search(r"^state +(\w+)", mesh.gws[1].console("node"),
                                                     re.M).group(1) == "pending" and "pending")
    for name in NAMES:
        rc, out, err = meshctl("coord", "approve", name, "--url", mesh.coord_url,
                               "--key", mesh.key_file)
        assert rc == 0 and '"status":"active"' in out, out + err
    # Approving twice is refused (the node is no longer pending).
    rc, out, _ = meshctl("coord", "approve", "gw-b", "--url", mesh.coord_url, "--key",
                         mesh.key_file)
    assert rc != 0 and out.startswith("404"), out
    wait_until("every gateway heartbeating as active",
               lambda: all(re.search(r"^state +active", gw.console("node"), re.M)
                           for gw in mesh.gws))
    assert set(mesh.nodes("active")) == set(NAMES)


def test_every_gateway_learns_the_other_two_as_peers(mesh):
    for i, gw in enumerate(mesh.gws):
        others = [n for n in NAMES if n != NAMES[i]]
        out = wait_until(f"{NAMES[i]}'s peers", lambda gw=gw, others=others: (
            lambda text: all(re.search(rf"^\s+{o}\s", text, re.M) for o in others) and text)(
                gw.console("peers")))
        assert not re.search(rf"^\s+{NAMES[i]}\s", out, re.M), out   # not itself
        # Each peer is reachable at the address the coordinator lists.
        for o in others:
            ip = mesh.gws[NAMES.index(o)].ip
            assert re.search(rf"^\s+{o}\s+{re.escape(ip)}:9632", out, re.M), out


def test_a_stopped_gateway_is_offline_after_the_window_and_active_again_after_a_restart(mesh):
    c = mesh.gws[2]
    c.stop()
    t0 = time.time()
    wait_until("gw-c offline", lambda: mesh.status_of("gw-c") == "offline", timeout=20)
    assert time.time() - t0 >= OFFLINE_MS / 1000 - 1.5   # not before its heartbeats stopped
    assert mesh.status_of("gw-b") == "active" and mesh.status_of("gw-a") == "active"
    c.start(timeout=60)
    mesh.push_config(2)                  # the config lives in RAM: the controller pushes again
    wait_until("gw-c active again", lambda: mesh.status_of("gw-c") == "active", timeout=20)


def test_the_coordinator_restarted_still_knows_everyone(mesh):
    a = mesh.gws[0]
    a.restart(timeout=60)
    mesh.push_config(0)
    nodes = wait_until("the registry after the reboot",
                       lambda: len(mesh.nodes("active")) == 3 and mesh.nodes("active"))
    assert set(nodes) == set(NAMES)
    # Heartbeats keep coming from the two others: none turns offline.
    time.sleep(OFFLINE_MS / 1000 + 1)
    assert all(mesh.status_of(n) == "active" for n in NAMES)
    # The gateways keep serving throughout.
    for gw in mesh.gws:
        assert gw.request("GET", "/health")[0] == 200
    # No heap after the seal on any of them.
    for gw in mesh.gws:
        st, _, body = gw.request("GET", "/diagnostics")
        assert json.loads(body)["firmware"]["heap"]["callsAfterSeal"] == 0
