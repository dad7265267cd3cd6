#!/usr/bin/python3
"""Live mode on DPDK vdevs, no hugepages: tcp-routed --config FILE, stopped by a signal.

Usage: test_live.py TCP_ROUTED CASE   (CASE: forward, forward_2_workers, forward_behavior,
  forward_behavior_2_workers, drop_egress, bad_device,
                                        too_few_lcores, bad_config)
Expectations come from the input capture itself (read with scapy): what enters must leave,
byte for byte, and the counters printed at exit must add up to it.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter

from scapy.all import rdpcap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAPTURE = os.path.join(ROOT, "tests", "data", "mixed.pcap")


def config(tmp, workers=1, egress="out", out_device=None, lcores="0-1", extra=""):
    out_device = out_device or f"net_pcap_out,tx_pcap={tmp}/out.pcap"
    path = os.path.join(tmp, "live.toml")
    with open(path, "w") as f:
        f.write(f"""[dataplane]
workers = {workers}
mbufs = 4095
eal_args = ["--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--file-prefix=tcpr-test-{os.getpid()}",
            "--lcores=({lcores})@(0-{os.cpu_count() - 1})", "--log-level=*:error"]
{extra}
[control]
socket = "{tmp}/control.sock"

[[port]]
name = "in"
device = "net_pcap_in,rx_pcap={CAPTURE},tx_pcap={tmp}/in_tx.pcap"
egress = "{egress}"

[[port]]
name = "out"
device = "{out_device}"
egress = "drop"
""")
    return path


def count_records(path):
    try:
        return len(rdpcap(path))
    except Exception:
        return -1


def run_until(cmd, done, timeout=30):
    """Starts tcp-routed, waits for done() (or the timeout), stops it with SIGTERM."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + timeout
    try:
        while time.time() < deadline and p.poll() is None and not done():
            time.sleep(0.2)
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        fail(f"tcp-routed did not stop within 15 s of SIGTERM\n{out}\n{err}")
    return p.returncode, out, err


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


# Behaviour on, every IPv4 address an agent: the control thread ticks (10 ms) and swaps the
# workers' tables while they forward; calm traffic must pass unchanged.
BEHAVIOR = """[behavior]
agents = ["0.0.0.0/0"]
tick = 0.01
"""


def check_forward(routed, workers, extra=""):
    expected = [bytes(p) for p in rdpcap(CAPTURE)]
    with tempfile.TemporaryDirectory() as tmp:
        lcores = f"0-{workers}"
        cfg = config(tmp, workers=workers, lcores=lcores, extra=extra)
        out_pcap = os.path.join(tmp, "out.pcap")
        rc, out, err = run_until([routed, "--config", cfg],
                                 lambda: count_records(out_pcap) >= len(expected))
        if rc != 0:
            fail(f"exit code {rc}\n{out}\n{err}")
        got = [bytes(p) for p in rdpcap(out_pcap)]
        if workers == 1 and got != expected:
            fail(f"output differs from input: {len(got)} vs {len(expected)} frames")
        if Counter(got) != Counter(expected):
            fail(f"output frames are not the input frames: {len(got)} vs {len(expected)}")
        if f"stopped after {len(expected)} packets" not in out:
            fail(f"final counters missing or wrong:\n{out}")
        if extra:
            m = re.search(r"behavior ticks (\d+) agents (\d+) .* quarantined 0 isolated 0", out)
            if m is None or int(m.group(1)) == 0 or int(m.group(2)) == 0:
                fail(f"no behaviour line with ticks, agents and nobody gated:\n{out}")
        in_tx = count_records(os.path.join(tmp, "in_tx.pcap"))
        if in_tx > 0:
            fail(f"{in_tx} frames went back out of the ingress port")
    print(f"ok: {len(expected)} frames forwarded with {workers} worker(s)" + (" and behaviour on" if extra else ""))


def check_drop_egress(routed):
    n = len(rdpcap(CAPTURE))
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config(tmp, egress="drop")
        # Nothing leaves, so wait for the RX counter instead: the process prints it at exit.
        rc, out, err = run_until([routed, "--config", cfg, "--stats-interval", "0.2"],
                                 lambda: False, timeout=4)
        if rc != 0:
            fail(f"exit code {rc}\n{out}\n{err}")
        if f"drop no_egress                    {n}" not in out:
            fail(f"expected {n} no_egress drops:\n{out}")
        if count_records(os.path.join(tmp, "out.pcap")) > 0:
            fail("frames left a port although egress is drop")
    print(f"ok: {n} frames dropped as no_egress")


def check_error(routed, kind):
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "bad_device":
            cfg = config(tmp, out_device="net_nosuchdriver0")
            want = ("port 'out'", "cannot probe device 'net_nosuchdriver0'")
        elif kind == "too_few_lcores":
            cfg, want = config(tmp, workers=2, lcores="0-1"), ("2 workers need 3 lcores",)
        else:
            cfg = config(tmp, extra="[flow]\ncapacity = 0\n")
            want = (f"{cfg}:", "'flow.capacity' = 0 is out of range")
        p = subprocess.run([routed, "--config", cfg], capture_output=True, text=True, timeout=30)
        lines = [l for l in p.stderr.splitlines() if l.startswith("tcp-routed:")]
        if p.returncode == 0:
            fail(f"{kind}: exit code 0")
        if len(lines) != 1 or not all(w in lines[0] for w in want):
            fail(f"{kind}: expected one error line with {want}, got:\n{p.stderr}")
    print(f"ok: {kind}: {lines[0]}")


def main():
    routed, case = sys.argv[1], sys.argv[2]
    if case == "forward":
        check_forward(routed, 1)
    elif case == "forward_2_workers":
        check_forward(routed, 2)
    elif case == "forward_behavior":
        check_forward(routed, 1, BEHAVIOR)
    elif case == "forward_behavior_2_workers":
        check_forward(routed, 2, BEHAVIOR)
    elif case == "drop_egress":
        check_drop_egress(routed)
    else:
        check_error(routed, case)


if __name__ == "__main__":
    main()
