"""The gateway takes its address from a DHCP server (dnsmasq from Debian on
the namespace side of the TAP) when started with `-a dhcp`."""
import os
import re
import subprocess

import pytest

from conftest import ROOT, Gateway


@pytest.fixture(scope="module")
def dnsmasq(request):
    board = request.config.getoption("--board")
    lease = os.path.join(ROOT, "build", board, "integ-dnsmasq.leases")
    proc = subprocess.Popen(
        ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0", "--interface=mg0",
         "--bind-interfaces", "--dhcp-range=10.42.0.50,10.42.0.59,255.255.255.0,5m",
         "--dhcp-option=option:router,10.42.0.1", f"--dhcp-leasefile={lease}",
         "--pid-file="], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield proc
    proc.kill()
    proc.wait()


def test_dhcp_lease_gives_the_gateway_its_address(request, dnsmasq):
    gw = Gateway(request.config.getoption("--board"), request.config.getoption("--runner"),
                 request.config.getoption("--firmware"), args=("-a", "dhcp"))
    gw.log = open(gw.log_path, "w")
    try:
        gw._spawn()
        m = gw.wait_output(r"net: \S+ up, address (10\.42\.0\.5\d) netmask 255\.255\.255\.0 "
                           r"gateway 10\.42\.0\.1 \(dhcp\)", timeout=30)
        gw.ip = m.group(1)
        gw.wait_booted()
        status, _, body = gw.request("GET", "/health")
        assert (status, body) == (200, b"ok")
        assert f"address    {gw.ip} (link up)" in gw.console("status")
    finally:
        gw.remove()
