"""The serial console, typed into the firmware's UART (its stdin here) while
the gateway serves the network."""
import os
import re

def test_help_lists_every_system_command(gateway):
    out = gateway.console("help")
    for cmd in ("help", "status", "net", "mem", "loop", "log", "reboot", "halt"):
        assert re.search(rf"^\s*{cmd}\b", out, re.M), (cmd, out)


def test_status_shows_address_heap_and_services(gateway):
    out = gateway.console("status")
    assert "address    10.42.0.2 (link up)" in out
    assert re.search(r"heap +sealed, \d+ calls during init, 0 after seal", out)
    assert ("services   keys http httpc relay confsync coord node heartbeat peer repl telemetry system "
            "console") in out
    m = re.search(r"host +load \d+\.\d\d, (\d+) of (\d+) kB available, firmware RSS (\d+) kB", out)
    assert m and 0 < int(m.group(1)) <= int(m.group(2)) and int(m.group(3)) > 0, out


def test_net_counts_the_frames_of_a_request(gateway):
    before = int(re.search(r"rx (\d+) frames", gateway.console("net")).group(1))
    assert gateway.request("GET", "/health")[0] == 200
    out = gateway.console("net")
    assert "inet 10.42.0.2  netmask 255.255.255.0  gateway 10.42.0.1" in out
    assert int(re.search(r"rx (\d+) frames", out).group(1)) >= before + 3


def test_mem_lists_every_pool_with_size_used_and_high_water(gateway):
    out = gateway.console("mem")
    rows = {m.group(1): tuple(map(int, m.groups()[1:]))
            for m in re.finditer(r"^(\S+) +(\d+) +(\d+) +(\d+) +(\d+)$", out, re.M)}
    assert {"http_conns", "http_clients", "log_ring", "console_cmds", "mbedtls_arena",
            "lwip.TCP_PCB"} <= set(rows)
    assert 0 < rows["log_ring"][1] <= rows["log_ring"][2] <= rows["log_ring"][0]
    size, used, high, _ = rows["http_conns"]
    assert size > 0 and used <= high <= size
    assert "heap: sealed" in out and "0 after seal" in out


def test_loop_reports_passes_and_each_service(gateway):
    out = gateway.console("loop")
    assert int(re.search(r"passes (\d+)", out).group(1)) > 0
    for svc in ("http", "relay", "system", "console"):
        assert re.search(rf"^{svc} +\d+ +\d+$", out, re.M), out


def test_log_replays_the_boot_lines(gateway):
    out = gateway.console("log 50")
    assert "heap sealed" in out
    assert "error" not in gateway.console("log 1")
    assert "log: expected a line count" in gateway.console("log many")


def test_unknown_command_and_overlong_line_get_clear_messages(gateway):
    assert "unknown command 'frobnicate'" in gateway.console("frobnicate now")
    assert "line too long (max 128 characters)" in gateway.console("x" * 500)
    assert "address" in gateway.console("status")


def test_garbage_on_the_console_leaves_it_and_the_network_working(gateway):
    garbage = bytes(range(256)) * 8 + os.urandom(4096).replace(b"\n", b"").replace(b"\r", b"")
    gateway.console(garbage)
    # Whatever the garbage left half-typed is abandoned by Ctrl-U.
    assert "address" in gateway.console(b"\x15status")
    assert gateway.request("GET", "/health")[0] == 200


def test_reboot_restarts_the_firmware_and_it_serves_again(gateway):
    boots = gateway.boots()
    gateway.proc.stdin.write(b"reboot\n")
    gateway.proc.stdin.flush()
    gateway.wait_booted(timeout=30, boots=boots + 1)
    out = gateway.console("status")
    assert re.search(r"uptime +0d 00:00:0\d", out), out
    assert gateway.request("GET", "/health")[0] == 200
