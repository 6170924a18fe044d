"""The real firmware, started inside the test's network namespace (the
Makefile runs pytest under `tools/netns exec`), reached over its TAP device
with plain sockets, its console on a pipe."""
import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GATEWAY_IP = "10.42.0.2"


def pytest_addoption(parser):
    parser.addoption("--board", default="host")
    parser.addoption("--runner", default="")
    parser.addoption("--firmware", default="")


class Gateway:
    """One gateway: its flash image and root key live in a directory of
    their own for the gateway's whole life, across restarts."""

    def __init__(self, board, runner, firmware="", args=(), env=None, ip=GATEWAY_IP, tap=None,
                 mac=None, name=""):
        self.board = board
        self.env = dict(os.environ, **(env or {}))
        self.dir = tempfile.mkdtemp(prefix="mg-gw-",
                                    dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
        self.flash_path = os.path.join(self.dir, "flash.img")
        self.key_path = os.path.join(self.dir, "device.key")
        net = (["-t", tap] if tap else []) + (["-a", ip] if ip != GATEWAY_IP else []) + \
              (["-m", mac] if mac else [])
        self.cmd = ([runner] if runner else []) + [
            firmware or os.path.join(ROOT, "build", board, "meshgate"),
            "-f", self.flash_path, "-k", self.key_path, *net, *args]
        self.log_path = os.path.join(ROOT, "build", board,
                                     f"integ-firmware{'-' + name if name else ''}.log")
        self.proc = None
        self.ip = ip

    def start(self, timeout=20):
        self.log = open(self.log_path, "w")
        self._spawn()
        self.wait_booted(timeout)
        return self

    def _spawn(self):
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=self.env)

    def boots(self):
        return self.output().count("heap sealed")

    def wait_booted(self, timeout=20, boots=1):
        """Waits for the boot count-th "heap sealed" and a first answer. Like
        a supervisor, starts the image again when it exits asking for a
        reboot (status 3: under qemu-user it cannot re-execute itself)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.boots() >= boots:
                break
            rc = self.proc.poll()
            if rc == 3:
                self._spawn()
            elif rc is not None:
                raise RuntimeError(f"firmware exited ({rc}): " + self.output())
            time.sleep(0.05)
        else:
            raise RuntimeError("firmware did not boot: " + self.output())
        # The first exchange also settles ARP.
        while time.time() < deadline:
            try:
                if self.request("GET", "/health")[0] == 200:
                    return
            except (OSError, IndexError, ValueError):
                pass   # ARP and the first SYN race the boot
            time.sleep(0.1)
        raise RuntimeError("firmware does not answer: " + self.output())

    def wait_output(self, pattern, start=0, timeout=10):
        """Waits for a regular expression in the output after offset start;
        returns the match."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(pattern, self.output()[start:])
            if m:
                return m
            time.sleep(0.05)
        raise RuntimeError(f"no {pattern!r} in: " + self.output()[start:])

    def console(self, line, timeout=10):
        """Types line (str or bytes) on the console; returns what it printed
        up to the next prompt."""
        data = line.encode() if isinstance(line, str) else line
        text = data.decode(errors="replace")
        # A plain command is echoed as typed (an overlong one up to the
        # console's limit); other input (control bytes, several lines) is
        # not looked for.
        echo = text[:64] if text.isprintable() else ""
        start = len(self.output())
        self.proc.stdin.write(data + b"\n")
        self.proc.stdin.flush()
        deadline = time.time() + timeout
        while time.time() < deadline:
            out = self.output()[start:]
            # The prompt after the echo of this line: a log line of the
            # gateway's own, printed with a prompt after it, is not the end.
            at = out.find(echo)
            if at >= 0 and out.endswith("> ") and len(out) > at + len(echo):
                return out
            time.sleep(0.02)
        raise RuntimeError(f"no prompt after {line!r}: " + self.output()[start:])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.proc:
            self.log.close()

    def restart(self, timeout=20):
        """Power off (kill -9) and boot again on the same flash."""
        self.stop()
        return self.start(timeout)

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def output(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def connect(self, port=8080, timeout=10):
        return socket.create_connection((self.ip, port), timeout=timeout)

    def raw(self, data, port=8080, timeout=10):
        """Sends bytes, returns everything the gateway answers until it closes
        or goes quiet."""
        with self.connect(port, timeout) as s:
            s.sendall(data)
            return read_response(s, timeout)

    def request(self, method, path, body=b"", headers=None, port=8080):
        hdrs = {"Host": self.ip, "Connection": "close"}
        hdrs.update(headers or {})
        if body or method in ("POST", "PUT"):
            hdrs["Content-Length"] = str(len(body))
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
        return parse_response(self.raw(head.encode() + b"\r\n" + body, port))


def hmac_headers(secret, body, nonce=None, ts=None):
    """The controller's signature headers (PROTOCOLS.md 2), made with
    Python's hmac module: a signer independent of the firmware's."""
    import hashlib
    import hmac
    import uuid
    nonce = nonce or str(uuid.uuid4())
    ts = str(int(time.time() * 1000) if ts is None else ts)
    sig = hmac.new(secret.encode(), nonce.encode() + ts.encode() + body, hashlib.sha256).hexdigest()
    return {"X-Nonce": nonce, "X-Timestamp": ts, "X-HMAC-SHA256": sig}


def read_response(s, timeout=10):
    s.settimeout(timeout)
    chunks = []
    while True:
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not b:
            break
        chunks.append(b)
    return b"".join(chunks)


def parse_response(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


@contextlib.contextmanager
def bridged_taps(n):
    """n TAP devices on one bridge of the test namespace, which takes over
    10.42.0.1 from mg0: yields (tap, ip, mac) for gateways 0..n-1 (mg0 at
    10.42.0.2, mg1 at 10.42.0.3, ...); puts mg0 back as it was afterwards."""
    def ip(*args, check=True):
        subprocess.run(["ip", *args], check=check, capture_output=True)
    ip("link", "add", "mgbr", "type", "bridge")
    try:
        ip("addr", "del", "10.42.0.1/24", "dev", "mg0")
        ip("link", "set", "mg0", "master", "mgbr")
        for i in range(1, n):
            ip("tuntap", "add", "dev", f"mg{i}", "mode", "tap")
            ip("link", "set", f"mg{i}", "master", "mgbr")
            ip("link", "set", f"mg{i}", "up")
        ip("addr", "add", "10.42.0.1/24", "dev", "mgbr")
        ip("link", "set", "mgbr", "up")
        yield [(f"mg{i}", f"10.42.0.{2 + i}", f"02:4d:47:00:00:{2 + i:02x}") for i in range(n)]
    finally:
        for i in range(1, n):
            ip("link", "del", f"mg{i}", check=False)
        ip("link", "set", "mg0", "nomaster", check=False)
        ip("link", "del", "mgbr", check=False)
        ip("addr", "add", "10.42.0.1/24", "dev", "mg0", check=False)


def module_gateway(request, args=(), env=None):
    """A booted gateway for a module's fixture (yield from it), removed
    however the module ends."""
    gw = Gateway(request.config.getoption("--board"), request.config.getoption("--runner"),
                 request.config.getoption("--firmware"), args=args, env=env)
    try:
        yield gw.start()
    finally:
        gw.remove()


@pytest.fixture(scope="module")
def gateway(request):
    yield from module_gateway(request, args=("-T", "1500,4000"))
