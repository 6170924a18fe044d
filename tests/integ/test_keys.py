"""The keystore as an operator meets it: keys made at first boot and the
same after a power cut, a corrupt key that stops the service needing it
until an operator resets it, another device's root key, a factory reset."""
import os
import re
import struct
import subprocess

import pytest

from conftest import ROOT, Gateway

SECTOR = 4096


@pytest.fixture
def gw(request):
    g = Gateway(request.config.getoption("--board"), request.config.getoption("--runner"),
                request.config.getoption("--firmware"))
    try:
        yield g
    finally:
        g.remove()


def fingerprints(g):
    out = g.console("keys")
    return dict(re.findall(r"^0x[0-9a-f]{4} (\S+)\s+present\s+(.+?)\s*$", out, re.M))


def record_offset(path, key_id):
    """Where the newest record of key_id sits in the keys partition (the
    record format of firmware/store/recstore.h)."""
    with open(path, "rb") as f:
        part = f.read(16 * SECTOR)
    best = None
    for s in range(16):
        base = s * SECTOR
        if part[base:base + 4] != b"MGR2":
            continue
        off = 24
        while off + 20 <= SECTOR:
            rid, length, seq = struct.unpack_from("<HHI", part, base + off)
            if rid == 0xFFFF:
                break
            if rid == key_id and (best is None or seq > best[0]):
                best = (seq, base + off)
            off += (20 + length + 3) & ~3
    return best[1]


def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x20]))


def test_first_boot_makes_the_keys_and_a_power_cut_keeps_them(gw):
    gw.start()
    assert "generated 7 key(s)" in gw.output()
    before = fingerprints(gw)
    assert before["node"].startswith("ed25519_")
    assert {"node", "signal-identity", "signed-prekey", "prekeys.0"} <= set(before)
    node = gw.console("node")
    assert before["node"] in node
    gw.restart()
    assert "generated" not in gw.output()
    assert fingerprints(gw) == before
    assert before["node"] in gw.console("node")


def test_a_corrupt_node_key_stops_its_service_until_an_operator_resets_it(gw):
    gw.start()
    old = fingerprints(gw)["node"]
    gw.stop()
    flip_byte(gw.flash_path, record_offset(gw.flash_path, 0x0100) + 20 + 40)
    gw.start()
    assert "keys: node is corrupt" in gw.output()
    assert "node: not started: key node is corrupt" in gw.output()
    assert re.search(r"node\s+corrupt", gw.console("keys"))
    assert "unknown command 'node'" in gw.console("node")
    assert "not started" in gw.console("loop")
    assert "node(not started)" in gw.console("status")
    # Another boot does not regenerate it behind the operator's back.
    gw.restart()
    assert "generated" not in gw.output()
    assert re.search(r"node\s+corrupt", gw.console("keys"))
    # A reset asks first; anything but "yes" cancels.
    assert "type 'yes' to confirm" in gw.console("keys reset node")
    assert "cancelled" in gw.console("no")
    assert re.search(r"node\s+corrupt", gw.console("keys"))
    gw.console("keys reset node")
    assert "node is now present" in gw.console("yes")
    gw.restart()
    new = fingerprints(gw)["node"]
    assert new != old
    assert new in gw.console("node")


def test_another_devices_root_key_is_reported_and_changes_nothing(gw):
    gw.start()
    before = fingerprints(gw)
    gw.stop()
    with open(gw.key_path) as f:
        mine = f.read()
    with open(gw.key_path, "w") as f:
        f.write("key=" + "ab" * 32 + "\n")
    with open(gw.flash_path, "rb") as f:
        image = f.read()
    gw.start()
    assert "wrong root key" in gw.output()
    assert "wrong root key" in gw.console("keys")
    assert "node: not started" in gw.output()
    gw.stop()
    with open(gw.flash_path, "rb") as f:
        assert f.read() == image   # not one byte written
    with open(gw.key_path, "w") as f:
        f.write(mine)
    gw.start()
    assert fingerprints(gw) == before


def test_factory_reset_asks_then_erases_and_reboots_as_new(gw):
    gw.start()
    old = fingerprints(gw)["node"]
    assert "cancelled" in (gw.console("factory-reset") and gw.console("nope"))
    assert fingerprints(gw)["node"] == old
    gw.console("factory-reset")
    start = len(gw.output())
    gw.proc.stdin.write(b"yes\n")
    gw.proc.stdin.flush()
    gw.wait_output(r"factory reset: flash erased, rebooting", start)
    gw.wait_booted(boots=2)
    assert "generated 7 key(s)" in gw.output()[start:]
    assert fingerprints(gw)["node"] != old


def test_flash_shows_partitions_sectors_and_erase_counts(gw):
    gw.start()
    out = gw.console("flash")
    assert re.search(r"^keys\s+0x000000\s+64 KiB\s+16 sectors \(\d+ free\), 8 records", out, re.M)
    assert re.search(r"sector erases:( \d+){16}", out)
    assert re.search(r"^mailbox\s+0x020000", out, re.M)


def test_a_provisioned_image_boots_with_the_keys_meshctl_printed(gw):
    meshctl = os.path.join(ROOT, "build", gw.board, "meshctl")
    out = subprocess.run([meshctl, "provision", "--image", gw.flash_path, "--key-file",
                          gw.key_path, "--passphrase", "field unit 7", "--mesh-hmac",
                          "controller-secret"], capture_output=True, text=True, check=True).stdout
    printed = dict(re.findall(r"^(\S+)\s+(.+?)\s*$", out, re.M))
    gw.start()
    assert "generated" not in gw.output()
    keys = fingerprints(gw)
    assert keys["node"] == printed["node"]
    assert keys["signal-identity"] == printed["signal-identity"]
    assert keys["mesh-hmac"] == printed["mesh-hmac"] and "controller" not in keys["mesh-hmac"]
    assert "root secret: passphrase" in gw.console("keys")
    # It refuses to overwrite a device without --force.
    again = subprocess.run([meshctl, "provision", "--image", gw.flash_path, "--key-file",
                            gw.key_path], capture_output=True, text=True)
    assert again.returncode == 1 and "exists" in again.stderr


def test_bad_console_input_gets_a_clear_message_and_changes_nothing(gw):
    gw.start()
    before = fingerprints(gw)
    assert "error: no key 'nosuch'" in gw.console("keys reset nosuch")
    assert "usage: keys [reset <name>]" in gw.console("keys rotate node")
    assert "usage: keys [reset <name>]" in gw.console("keys reset")
    assert fingerprints(gw) == before
    # A reset, done at run time, allocates nothing after the seal.
    gw.console("keys reset signal-identity")
    assert "signal-identity is now present" in gw.console("yes")
    assert re.search(r"heap +sealed, \d+ calls during init, 0 after seal", gw.console("status"))
    after = fingerprints(gw)
    assert after["node"] == before["node"]
    assert after["signal-identity"] != before["signal-identity"]
    assert after["signed-prekey"] != before["signed-prekey"]   # signed by the new identity


def test_meshctl_refuses_bad_arguments_and_writes_nothing(gw):
    meshctl = os.path.join(ROOT, "build", gw.board, "meshctl")
    for args, err in ((["--root-key", "abcd"], "64 hex digits"),
                      (["--mesh-hmac", "x" * 129], "1 to 128 bytes"),
                      (["--passphrase", ""], "1 to 128 characters")):
        r = subprocess.run([meshctl, "provision", "--image", gw.flash_path, "--key-file",
                            gw.key_path, *args], capture_output=True, text=True)
        assert r.returncode == 2 and err in r.stderr, r.stderr
        assert not os.path.exists(gw.flash_path) and not os.path.exists(gw.key_path)
