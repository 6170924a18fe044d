"""A flood of connection attempts against the relay port: more arrive than
the connection pool holds, and the gateway evicts or refuses, never
overflows, never crashes, and is left with nothing half-open."""
import json
import socket
import time

import pytest

from conftest import module_gateway
from test_runtime import diagnostics, pool


@pytest.fixture(scope="module")
def gateway(request):
    """Idle connections are kept 60 s, not the suite's 4 s: the flood must
    fill the pool however slowly it is accepted (qemu on a loaded machine
    took about 25 a second, and idle ones timed out before it filled)."""
    yield from module_gateway(request, args=("-T", "1500,60000"))


def test_500_simultaneous_connection_attempts_never_crash_it(gateway):
    before = diagnostics(gateway)["firmware"]["http"]
    capacity = pool(diagnostics(gateway), "http_conns")["capacity"]
    asked = 1   # our own /diagnostics connections since `before`, accepted too
    socks = []
    try:
        for _ in range(500):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((gateway.ip, 8080))
            socks.append(s)
        # The flood stays open until more of it was accepted than the pool
        # holds, which the assertions below need: a fixed 3 s was too short
        # for qemu on a loaded machine (81 accepted).
        time.sleep(3)
        deadline = time.time() + 30
        while time.time() < deadline:
            asked += 1
            http = diagnostics(gateway)["firmware"]["http"]
            if http["accepted"] - before["accepted"] - asked > capacity:
                break
            time.sleep(0.5)
    finally:
        for s in socks:
            s.close()
    # Under qemu the gateway may still be draining the flood: wait until
    # only our diagnostics request holds a connection.
    deadline = time.time() + 20
    while True:
        asked += 1
        d = diagnostics(gateway)
        drained = pool(d, "http_conns")["used"] <= 1 and d["firmware"]["tcp"]["acceptsPending"] == 0
        if drained or time.time() > deadline:
            break
        time.sleep(0.2)
    http = d["firmware"]["http"]
    conns = pool(d, "http_conns")
    # More connections than the pool holds arrived: older idle ones were
    # evicted (or new ones refused), and the pool never overflowed.
    assert http["accepted"] - before["accepted"] - asked > conns["capacity"]
    assert http["evicted"] + http["refusedBusy"] > before["evicted"] + before["refusedBusy"], \
        json.dumps([before, http, conns, d["firmware"]["tcp"]])
    assert conns["highWater"] <= conns["capacity"]
    assert d["firmware"]["heap"]["callsAfterSeal"] == 0
    # Nothing is left half-open once the flood has drained: PCBs still in
    # SYN_RCVD or FIN_WAIT would hold the pool and the backlog for 20 s.
    assert d["firmware"]["tcp"]["acceptsPending"] == 0, d["firmware"]["tcp"]
