#!/usr/bin/python3
"""test_xdp_guard.py TCP_ROUTED TCP_ROUTECTL — the XDP zone guard on real interfaces (issue 7).

Network namespaces made here (and removed at the end, whatever happens):

    tcpr-a1 (10.77.0.1) ─ veth ─┐
    tcpr-a2 (10.77.0.2) ─ veth ─┼─ bridge br0 in tcpr-hub ─ guard on h-a1, h-a2 (tcp-routed [enforce])
    tcpr-srv (10.77.0.100) ─ veth ─┘                          and on h-srv (tcp-routectl xdp attach)

tcp-routed runs live in tcpr-hub (nsenter --net: only the network namespace changes, so bpffs
and its pins are the host's) on a net_null port: it carries none of this traffic, it only writes
the zones of its [[behavior.pin]] agents into the maps. Real traffic is curl to a python HTTP
server in tcpr-srv. Steps, each checked with curl from both agents:

 1. a2 pinned ISOLATED: a1 gets its page, a2 does not (its SYNs die on h-a2; the server's
    packets to a2 would die on h-srv); the guard's ISOLATED dropped counter moves.
 2. tcp-routed killed with SIGKILL: the same holds (programs attached by netlink and pinned maps
    outlive it).
 3. tcp-routed restarted with a1 pinned ISOLATED and a2 unpinned: the maps are reconciled — a1
    is cut off, a2 passes again (its stale entry removed), and the start line says so.
 4. tcp-routectl xdp status lists the three interfaces; xdp detach leaves a1 free again.
 5. A local decision reaches the maps between ticks: tcp-routed reads (net_pcap) one HTTP POST from
    a1 carrying an AWS key, with a 60 s tick, no pins; a1 must be cut off within 2 s (only the
    worker → control ring path can do that before the tick), a2 not; the exit summary counts it.

Exit 0 pass, 1 fail, 77 skip (not root, or no bpffs/XDP: the reason is printed).
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

# Names carry the PID: two runs (or a run beside CI) never share or delete each other's namespaces.
_ID = os.getpid()
HUB, NA1, NA2, NSRV = (f"tcpr-hub-{_ID}", f"tcpr-a1-{_ID}", f"tcpr-a2-{_ID}", f"tcpr-srv-{_ID}")
NS = [HUB, NA1, NA2, NSRV]
A1, A2, SRV = "10.77.0.1", "10.77.0.2", "10.77.0.100"
PORT = 8080
SKIP = 77
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
from live import in_ns, sh  # noqa: E402


def setup():
    for ns in NS:
        sh("ip", "netns", "add", ns)
    in_ns(HUB, "ip", "link", "add", "br0", "type", "bridge")
    in_ns(HUB, "ip", "link", "set", "br0", "up")
    for name, ns, addr in (("a1", NA1, A1), ("a2", NA2, A2), ("srv", NSRV, SRV)):
        sh("ip", "link", "add", f"h-{name}", "netns", HUB, "type", "veth", "peer", "name", "eth0", "netns", ns)
        in_ns(HUB, "ip", "link", "set", f"h-{name}", "master", "br0")
        in_ns(HUB, "ip", "link", "set", f"h-{name}", "up")
        in_ns(ns, "ip", "addr", "add", f"{addr}/24", "dev", "eth0")
        in_ns(ns, "ip", "link", "set", "eth0", "up")
        in_ns(ns, "ip", "link", "set", "lo", "up")


def teardown(procs, pin_dir):
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
    for ns in NS:
        sh("ip", "netns", "del", ns, check=False)
    if pin_dir and os.path.isdir(pin_dir):
        for f in os.listdir(pin_dir):
            os.unlink(os.path.join(pin_dir, f))
        os.rmdir(pin_dir)


def fetch(ns):
    """True when the agent in `ns` gets the server's page within 2 s."""
    r = in_ns(ns, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2",
              f"http://{SRV}:{PORT}/", check=False, timeout=10)
    return r.stdout.strip() == "200"


def fetch_quick(ns):
    r = in_ns(ns, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "0.3",
              f"http://{SRV}:{PORT}/", check=False, timeout=10)
    return r.stdout.strip() == "200"


def write_config(tmp, pin_dir, name, device, behavior):
    """A tcp-routed config for the hub: one port on `device`, [behavior] text, the guard on h-a1/h-a2."""
    path = os.path.join(tmp, f"tcpr-{name}.toml")
    eal = ["--no-huge", "-m", "256", "--no-pci", "--no-shconf", f"--file-prefix=tcpr-e2e-{os.getpid()}-{name}",
           "-l", "0-1", "--log-level=*:error"]
    with open(path, "w") as f:
        f.write(f"""
[dataplane]
workers = 1
mbufs = 2047
eal_args = [{", ".join('"' + a + '"' for a in eal)}]

[control]
socket = "{tmp}/control-{name}.sock"

[[port]]
name = "in"
device = "{device}"
egress = "drop"

[behavior]
agents = ["10.77.0.0/24"]
{behavior}
[enforce]
enabled = true
bpffs = "{pin_dir}"
interfaces = ["h-a1", "h-a2"]
mode = "native"
""")
    return path


def config(tmp, pin_dir, isolated):
    """tcp-routed carrying no traffic (net_null), one agent pinned ISOLATED."""
    return write_config(tmp, pin_dir, isolated, "net_null0,no-rx=1",
                        f'[[behavior.pin]]\nagent = "{isolated}"\nzone = "ISOLATED"\n')


def secret_config(tmp, pin_dir):
    """tcp-routed reading one POST with an AWS key from a1 (a hard signal), a 60 s tick."""
    from scapy.all import Ether, IP, TCP, Raw, wrpcap  # noqa: E402 — only this step needs scapy
    body = b'{"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "note": "upload"}'
    head = (f"POST /upload HTTP/1.1\r\nHost: {SRV}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    cap = os.path.join(tmp, "secret.pcap")
    pkts = [Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:64") / IP(src=A1, dst=SRV) /
            TCP(sport=40000, dport=PORT, flags=f, seq=s, ack=1) / Raw(load=p)
            for f, s, p in (("S", 0, b""), ("PA", 1, head + body))]
    wrpcap(cap, pkts)
    # [behavior] keys go before its [[behavior.pin]] tables; tick is one of them.
    return write_config(tmp, pin_dir, "secret", f"net_pcap0,rx_pcap={cap}", "tick = 60\n")


def start_routed(binary, conf, log):
    p = subprocess.Popen(["nsenter", f"--net=/run/netns/{HUB}", binary, "--config", conf],
                         stdout=log, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        with open(log.name) as f:
            text = f.read()
        if "SIGINT or SIGTERM stops" in text:
            time.sleep(0.5)   # the first tick publishes the pins
            return p, text
        if p.poll() is not None:
            raise RuntimeError(f"tcp-routed exited {p.returncode}:\n{text}")
        time.sleep(0.1)
    raise RuntimeError("tcp-routed did not start in 30 s")


def counters(ctl, pin_dir):
    r = sh("nsenter", f"--net=/run/netns/{HUB}", ctl, "xdp", "status", "--bpffs", pin_dir, "--json")
    return json.loads(r.stdout)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    routed, ctl = sys.argv[1], sys.argv[2]
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces, XDP)")
        return SKIP
    if not os.path.isdir("/sys/fs/bpf"):
        print("SKIP: no /sys/fs/bpf")
        return SKIP
    pin_dir = f"/sys/fs/bpf/tcpr-e2e-{os.getpid()}"
    procs, problems = [], []

    def check(cond, msg):
        print(("ok   " if cond else "FAIL ") + msg)
        if not cond:
            problems.append(msg)

    tmp = tempfile.mkdtemp(prefix="tcpr-e2e-")
    try:
        setup()
        server = subprocess.Popen(["ip", "netns", "exec", NSRV, sys.executable, "-m", "http.server",
                                   str(PORT), "--bind", SRV], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  cwd=tmp)
        procs.append(server)
        deadline = time.time() + 10
        while not fetch(NA1) and time.time() < deadline:
            time.sleep(0.2)
        check(fetch(NA1) and fetch(NA2), "without the guard both agents reach the server")

        # 1. a2 ISOLATED.
        log1 = open(os.path.join(tmp, "routed1.log"), "w+")
        routed1, text = start_routed(routed, config(tmp, pin_dir, A2), log1)
        procs.append(routed1)
        check("attached to 2 interface(s)" in text, "tcp-routed attached the guard to h-a1 and h-a2")
        r = sh("nsenter", f"--net=/run/netns/{HUB}", ctl, "xdp", "attach", "h-srv", "--bpffs", pin_dir, "--mode", "native")
        check(r.returncode == 0, "tcp-routectl xdp attach h-srv")
        check(fetch(NA1), "a1 (no pin) reaches the server")
        check(not fetch(NA2), "a2 (ISOLATED) does not")
        c = counters(ctl, pin_dir)
        check(c["counters"]["ISOLATED"]["dropped"] > 0, f"ISOLATED frames dropped: {c['counters']['ISOLATED']['dropped']}")
        ifaces = sorted(i["iface"] for i in c["interfaces"])
        check(ifaces == ["h-a1", "h-a2", "h-srv"], f"status lists the guarded interfaces: {ifaces}")

        # 2. SIGKILL: enforcement holds.
        routed1.send_signal(signal.SIGKILL)
        routed1.wait(timeout=10)
        check(fetch(NA1), "after SIGKILL a1 still reaches the server")
        check(not fetch(NA2), "after SIGKILL a2 is still cut off")

        # 3. Restart with other pins: reconciled.
        log2 = open(os.path.join(tmp, "routed2.log"), "w+")
        routed2, text = start_routed(routed, config(tmp, pin_dir, A1), log2)
        procs.append(routed2)
        check("1 stale removed" in text, "the restart removed a2's stale entry: " +
              next((l for l in text.splitlines() if "reconciled" in l), "(no line)"))
        check(not fetch(NA1), "after the restart a1 (now ISOLATED) is cut off")
        check(fetch(NA2), "after the restart a2 (released) reaches the server")
        routed2.send_signal(signal.SIGTERM)
        routed2.wait(timeout=20)
        check(not fetch(NA1), "after a clean exit (no --detach-on-exit) a1 is still cut off")

        # 4. Detach.
        for i in ("h-a1", "h-a2", "h-srv"):
            r = sh("nsenter", f"--net=/run/netns/{HUB}", ctl, "--json", "xdp", "detach", i)
            check(json.loads(r.stdout) == {"iface": i, "attached": False}, f"xdp detach {i} --json")
        check(fetch(NA1), "with the guard detached a1 reaches the server again")
        r = sh("nsenter", f"--net=/run/netns/{HUB}", ctl, "xdp", "detach", "h-a1", check=False)
        check(r.returncode == 1 and "no XDP program" in r.stderr, "detaching twice is a clear error")
        r = sh(ctl, "xdp", "attach", "no-such-if", "--bpffs", pin_dir, check=False)
        check(r.returncode == 1 and "no interface named" in r.stderr, "an unknown interface is a clear error")

        # 5. A local decision, written between ticks.
        log3 = open(os.path.join(tmp, "routed3.log"), "w+")
        routed3, text = start_routed(routed, secret_config(tmp, pin_dir), log3)
        procs.append(routed3)
        deadline = time.time() + 2
        cut = False
        while time.time() < deadline and not cut:
            cut = not fetch_quick(NA1)
        check(cut, "a1's secret (a local decision) cut it off within 2 s, long before the 60 s tick")
        check(fetch(NA2), "a2 is unaffected")
        routed3.send_signal(signal.SIGTERM)
        routed3.wait(timeout=20)
        text = open(log3.name).read()
        line = next((l for l in text.splitlines() if "enforce syncs" in l), "")
        check(" local 1 " in line, f"the exit summary counts one local decision: {line.strip()}")
        for i in ("h-a1", "h-a2"):
            sh("nsenter", f"--net=/run/netns/{HUB}", ctl, "xdp", "detach", i, check=False)
    except Exception as e:  # noqa: BLE001 — report, clean up, fail
        problems.append(str(e))
        print(f"FAIL {e}")
    finally:
        teardown(procs, pin_dir)
    print(f"{'PASS' if not problems else 'FAIL'}: xdp guard end to end ({len(problems)} problems)")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
