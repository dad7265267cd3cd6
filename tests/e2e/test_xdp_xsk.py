#!/usr/bin/python3
"""test_xdp_xsk.py TCP_ROUTED XSK_OBJECT — tcp-routed on DPDK's net_af_xdp with the zone guard's XSK
variant as its XDP program (`xdp_prog=`, DPDK 22.11): it only ever receives permitted traffic.

    tcpr-x2: v1 10.88.0.2 (pinned ISOLATED) and 10.88.0.3 ─ veth ─ v0 in tcpr-x1: tcp-routed,
                                                                 net_af_xdp0,iface=v0,xdp_prog=…

The PMD loads the object itself with libbpf's default pin root, so the guard's maps are
/sys/fs/bpf/tcpr_* and tcp-routed's [enforce] writes them there (bpffs = "/sys/fs/bpf"). Each
address sends N UDP datagrams; tcp-routed must have received exactly the N from 10.88.0.3 (IPv6
is off on v1 and the neighbour entry is static, so nothing else is sent), and the guard's counters
must show the N from 10.88.0.2 dropped as ISOLATED. Pins and namespaces are removed at the end.
Exit 0 pass, 1 fail, 77 skip (not root).
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

N = 25
SKIP = 77
X1, X2 = f"tcpr-x1-{os.getpid()}", f"tcpr-x2-{os.getpid()}"   # never another run's namespaces


def sh(*cmd, check=True, timeout=20):
    r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def as_int(v):
    """bpftool -j gives a number, or little-endian bytes as hex strings."""
    if isinstance(v, int):
        return v
    return int.from_bytes(bytes(int(b, 16) for b in v), "little")


SENDER = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
for i in range(int(sys.argv[2])):
    s.sendto(b"x" * 32, ("10.88.0.1", 9999))
    time.sleep(0.005)
"""


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    routed, xsk_obj = sys.argv[1], os.path.abspath(sys.argv[2])
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces, AF_XDP)")
        return SKIP
    if any(f.startswith("tcpr_") for f in os.listdir("/sys/fs/bpf")):
        print("FAIL: /sys/fs/bpf already holds tcpr_* maps (another run?); not touching them")
        return 1
    problems, proc = [], None
    tmp = tempfile.mkdtemp(prefix="tcpr-xsk-")

    def check(cond, msg):
        print(("ok   " if cond else "FAIL ") + msg)
        if not cond:
            problems.append(msg)

    try:
        sh("ip", "netns", "add", X1)
        sh("ip", "netns", "add", X2)
        sh("ip", "link", "add", "v0", "netns", X1, "type", "veth", "peer", "name", "v1", "netns", X2)
        sh("ip", "netns", "exec", X2, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        sh("ip", "netns", "exec", X1, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        sh("ip", "-n", X1, "addr", "add", "10.88.0.1/24", "dev", "v0")
        sh("ip", "-n", X2, "addr", "add", "10.88.0.2/24", "dev", "v1")
        sh("ip", "-n", X2, "addr", "add", "10.88.0.3/24", "dev", "v1")
        sh("ip", "-n", X1, "link", "set", "v0", "up")
        sh("ip", "-n", X2, "link", "set", "v1", "up")
        mac = re.search(r"ether ([0-9a-f:]{17})", sh("ip", "-n", X1, "link", "show", "v0").stdout).group(1)
        sh("ip", "-n", X2, "neigh", "replace", "10.88.0.1", "lladdr", mac, "dev", "v1", "nud", "permanent")
        conf = os.path.join(tmp, "xsk.toml")
        eal = ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", f"--file-prefix=tcpr-xsk-{os.getpid()}", "-l", "0-1",
               "--log-level=*:error"]
        with open(conf, "w") as f:
            f.write(f"""
[dataplane]
workers = 1
mbufs = 8191
eal_args = [{", ".join('"' + a + '"' for a in eal)}]

[control]
socket = "{tmp}/control.sock"

[[port]]
name = "agents"
device = "net_af_xdp0,iface=v0,xdp_prog={xsk_obj}"
egress = "drop"

[behavior]
agents = ["10.88.0.0/24"]

[[behavior.pin]]
agent = "10.88.0.2"
zone = "ISOLATED"

[enforce]
enabled = true
bpffs = "/sys/fs/bpf"
""")
        log = open(os.path.join(tmp, "routed.log"), "w+")
        proc = subprocess.Popen(["nsenter", f"--net=/run/netns/{X1}", routed, "--config", conf],
                                stdout=log, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            text = open(log.name).read()
            if "SIGINT or SIGTERM stops" in text or proc.poll() is not None:
                break
            time.sleep(0.1)
        check("SIGINT or SIGTERM stops" in text, "tcp-routed started on net_af_xdp with the XSK guard")
        time.sleep(0.5)
        for src in ("10.88.0.2", "10.88.0.3"):
            sh("ip", "netns", "exec", X2, sys.executable, "-c", SENDER, src, str(N))
        time.sleep(1.0)
        counters = sh("bpftool", "-j", "map", "dump", "pinned", "/sys/fs/bpf/tcpr_counters").stdout
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        text = open(log.name).read()
        m = re.search(r"stopped after (\d+) packets", text)
        got = int(m.group(1)) if m else -1
        check(got == N, f"tcp-routed received {got} packets: the {N} from 10.88.0.3, none of the {N} from 10.88.0.2")
        slot = 3 * 6 + 3   # tcpr_counter_index(ISOLATED, DROPPED): zone 3 × 6 actions + action 3
        dropped = 0
        for e in json.loads(counters):
            if as_int(e["key"]) == slot:
                dropped = sum(as_int(v["value"]) for v in e["values"])
        check(dropped == N, f"the guard dropped {dropped} frames as ISOLATED in the driver")
    except Exception as e:  # noqa: BLE001
        problems.append(str(e))
        print(f"FAIL {e}")
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        for ns in (X1, X2):
            sh("ip", "netns", "del", ns, check=False)
        for f in os.listdir("/sys/fs/bpf"):
            if f.startswith("tcpr_") or f == "zone_guard":
                os.unlink(os.path.join("/sys/fs/bpf", f))
    print(f"{'PASS' if not problems else 'FAIL'}: tcp-routed on af_xdp behind the XSK guard ({len(problems)} problems)")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
