#!/usr/bin/python3
"""label_behavior.py PCAP PLAN RUNLOG OUT — the labels of make_behavior_capture.sh's capture.

Reads the capture with tshark and writes OUT (PCAP.agents.jsonl): one line per agent of PLAN,
  {"agent": IP, "role": "normal"|"anomalous", "kind": null|KIND, "onset": null|SECONDS}
where `onset` is the capture timestamp (pcap seconds, as in the replay report's *_ts fields) of
the first packet of the agent's anomaly, found in the capture by the anomaly's signature:
  port_scan    first TCP SYN from the agent to anything but the ordinary services (LLM, MCP)
  syn_flood    first TCP SYN from the agent to the flood target's port
  secret_leak  first frame from the agent whose TCP payload holds the AWS key id or the PEM header
  beacon       first TCP SYN from the agent to the beacon endpoint
  lateral      first TCP SYN from the agent to port 22
Which agent does what, and the wall-clock time each anomaly was launched, come from PLAN and
RUNLOG (agent.py's events), never from looking at the traffic; the capture only says *when*.

It refuses (exit 1) a capture that is not what the plan says:
  - link type not Ethernet, or snaplen < 2048;
  - a frame that is neither ARP nor IPv4 between addresses of 10.77.0.0/16;
  - an onset not found, or more than 2 s after (or before) the launch time agent.py logged;
  - traffic that is not ordinary (a TCP SYN to anything but the LLM/MCP services, UDP to
    anything but dnsmasq:53, the secret's bytes, agent-to-agent frames) from a normal agent, or
    from an anomalous agent before its onset, or, after it, other than its own anomaly's;
  - an agent.py `fail` event of an anomaly.
It prints per agent the packets (sent + received) before and after the onset (for normal agents:
the earliest onset of all), and how many of them carry the anomaly's signature.
"""
import ipaddress
import json
import struct
import subprocess
import sys
from collections import Counter, defaultdict

NET = ipaddress.ip_network("10.77.0.0/16")
LAUNCH_TOLERANCE = 2.0  # s between agent.py's anomaly_start and the first anomalous packet
FIELDS = ["frame.time_epoch", "eth.type", "ip.src", "ip.dst", "ip.proto", "tcp.srcport",
          "tcp.dstport", "tcp.flags.syn", "tcp.flags.ack", "udp.srcport", "udp.dstport"]


def tshark(pcap, *args):
    res = subprocess.run(["tshark", "-n", "-r", pcap, *args], capture_output=True, text=True,
                         timeout=300)
    if res.returncode != 0:
        sys.exit(f"label_behavior: tshark {' '.join(args)}: {res.stderr.strip()}")
    return res.stdout


def pcap_header(pcap):
    with open(pcap, "rb") as f:
        head = f.read(24)
    magic = head[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        sys.exit(f"label_behavior: {pcap}: not a pcap file")
    snaplen, linktype = struct.unpack(endian + "II", head[16:24])
    return snaplen, linktype


class Frame:
    __slots__ = ("ts", "arp", "src", "dst", "proto", "sport", "dport", "syn")

    def __init__(self, cols):
        ts, etype, src, dst, proto, tsp, tdp, syn, ack, usp, udp = cols
        self.ts = float(ts)
        self.arp = etype == "0x0806"
        self.src, self.dst = src or None, dst or None
        self.proto = {"6": "tcp", "17": "udp"}.get(proto, proto or None)
        self.sport = int(tsp or usp or 0)
        self.dport = int(tdp or udp or 0)
        self.syn = syn in ("1", "True") and ack in ("0", "False")


def main(pcap, plan_path, runlog, out):
    with open(plan_path, encoding="utf-8") as f:
        plan = json.load(f)
    events = [json.loads(line) for line in open(runlog, encoding="utf-8") if line.strip()]
    agents = plan["agents"]
    svc = plan["services"]
    problems = []

    snaplen, linktype = pcap_header(pcap)
    if linktype != 1:
        problems.append(f"link type {linktype}, expected 1 (Ethernet)")
    if snaplen < 2048:
        problems.append(f"snaplen {snaplen} < 2048")

    frames = [Frame(line.split("\t")) for line in tshark(
        pcap, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=f",
        *sum((["-e", f] for f in FIELDS), [])).splitlines()]
    if not frames:
        sys.exit("label_behavior: empty capture")
    start = frames[0].ts
    other, arp = Counter(), 0
    for fr in frames:
        if fr.arp:
            arp += 1
        elif not (fr.src and fr.dst and ipaddress.ip_address(fr.src) in NET
                  and ipaddress.ip_address(fr.dst) in NET):
            other[f"{fr.src}->{fr.dst} proto {fr.proto}"] += 1
    for what, n in other.most_common(10):
        problems.append(f"{n} frame(s) outside 10.77.0.0/16 IPv4 and ARP: {what}")

    ordinary_tcp = {(svc["llm"]["ip"], svc["llm"]["port"]), (svc["mcp"]["ip"], svc["mcp"]["port"])}
    dns = (svc["dns"], 53)

    # The secret's frames, by content (tshark's own search of the TCP payload).
    secret_ts = defaultdict(list)
    leak = next((a["anomaly"] for a in agents.values() if a["kind"] == "secret_leak"), None)
    if leak:
        for needle in (leak["key_id"], "-----BEGIN RSA PRIVATE KEY-----"):
            for line in tshark(pcap, "-Y", f'tcp.payload contains "{needle}"', "-T", "fields",
                               "-e", "frame.time_epoch", "-e", "ip.src").splitlines():
                ts, src = line.split("\t")
                secret_ts[src].append(float(ts))

    def signature(ip, fr):
        """Does frame fr, sent by agent ip, carry agent ip's anomaly's signature?"""
        a = agents[ip]
        kind, arg = a["kind"], a.get("anomaly") or {}
        if kind == "port_scan":
            return fr.proto == "tcp" and fr.syn and (fr.dst, fr.dport) not in ordinary_tcp
        if kind == "syn_flood":
            return (fr.proto == "tcp" and fr.syn and fr.dst == arg["target"]
                    and fr.dport == arg["port"])
        if kind == "secret_leak":
            return fr.ts in secret_ts.get(ip, ())
        if kind == "beacon":
            return fr.proto == "tcp" and fr.syn and (fr.dst, fr.dport) == (arg["ip"], arg["port"])
        if kind == "lateral":
            return fr.proto == "tcp" and fr.syn and fr.dport == 22
        return False

    def related(ip, fr):
        """Is frame fr, sent by agent ip, part of agent ip's anomaly (its connections' other
        packets too, e.g. the SYN of the leak's POST, nmap's RSTs after a SYN-ACK)?"""
        a = agents[ip]
        kind, arg = a["kind"], a.get("anomaly") or {}
        if fr.proto != "tcp" or kind is None:
            return False
        if kind == "port_scan":
            return (fr.dst, fr.dport) not in ordinary_tcp
        if kind == "syn_flood":
            return (fr.dst, fr.dport) == (arg["target"], arg["port"])
        if kind in ("secret_leak", "beacon"):
            return (fr.dst, fr.dport) == (arg["ip"], arg["port"])
        return fr.dport == 22

    def ordinary(fr):
        """Ordinary work's packets, as an agent sends them."""
        if fr.dst in agents:
            return False
        if fr.proto == "udp":
            return (fr.dst, fr.dport) == dns
        if fr.proto == "tcp" and fr.syn:
            return (fr.dst, fr.dport) in ordinary_tcp
        return fr.proto == "tcp"

    # Onsets from the capture, cross-checked with the launch times agent.py logged.
    launch = {e["agent"]: e["wall"] for e in events if e["event"] == "anomaly_start"}
    for e in events:
        if e["event"] == "fail" and agents[e["agent"]]["kind"] and e.get("what") not in (
                "llm", "mcp", "dns"):
            problems.append(f"{e['agent']}: agent.py: {e}")
    onset = {}
    for ip, a in agents.items():
        if not a["kind"]:
            continue
        first = next((fr.ts for fr in frames if fr.src == ip and signature(ip, fr)), None)
        if first is None:
            problems.append(f"{ip} {a['kind']}: no packet of the anomaly in the capture")
            continue
        onset[ip] = first
        if ip not in launch:
            problems.append(f"{ip} {a['kind']}: agent.py logged no anomaly_start")
        elif not -LAUNCH_TOLERANCE <= first - launch[ip] <= LAUNCH_TOLERANCE:
            problems.append(f"{ip} {a['kind']}: first anomalous packet {first - launch[ip]:+.3f} s "
                            f"from the launch agent.py logged")

    # Nothing anomalous where it does not belong; packet counts per phase.
    split_all = min(onset.values()) if onset else start
    rows = []
    if secret_ts:
        for src in secret_ts:
            if agents.get(src, {}).get("kind") != "secret_leak":
                problems.append(f"{src}: sent the leaked secret's bytes")
    for ip, a in sorted(agents.items(), key=lambda kv: ipaddress.ip_address(kv[0])):
        split = onset.get(ip, split_all)
        before = after = sig = 0
        odd = Counter()
        for fr in frames:
            if ip not in (fr.src, fr.dst):
                continue
            if fr.ts < split:
                before += 1
            else:
                after += 1
            if fr.src != ip:
                continue
            sig += a["kind"] is not None and signature(ip, fr)
            if related(ip, fr) and ip in launch and fr.ts >= launch[ip] - 0.05:
                continue  # the anomaly's traffic, once agent.py had launched it
            if not ordinary(fr) or fr.ts in secret_ts.get(ip, ()):
                odd[f"{fr.proto} -> {fr.dst}:{fr.dport}{' SYN' if fr.syn else ''}"] += 1
        for what, n in odd.most_common(5):
            problems.append(f"{ip} ({a['kind'] or 'normal'}): {n} packet(s) neither ordinary nor "
                            f"of its anomaly (once launched): {what}")
        rows.append((ip, a["kind"] or "normal", onset.get(ip), before, after, sig))

    print(f"label_behavior: {len(frames)} frames over {frames[-1].ts - start:.1f} s, "
          f"{arp} ARP, snaplen {snaplen}, link type {linktype}")
    print(f"  {'agent':<12} {'kind':<12} {'onset(s)':>9} {'before':>7} {'after':>7} "
          f"{'signature':>9}   (normal agents split at the first onset, "
          f"{split_all - start:.3f} s)")
    for ip, kind, on, before, after, sig in rows:
        on_s = f"{on - start:9.3f}" if on is not None else f"{'-':>9}"
        print(f"  {ip:<12} {kind:<12} {on_s} {before:7d} {after:7d} {sig:9d}")

    if problems:
        for p in problems:
            print(f"label_behavior: {p}", file=sys.stderr)
        return 1
    with open(out, "w", encoding="utf-8") as f:
        for ip, a in sorted(agents.items(), key=lambda kv: ipaddress.ip_address(kv[0])):
            f.write(json.dumps({"agent": ip, "role": "anomalous" if a["kind"] else "normal",
                                "kind": a["kind"], "onset": onset.get(ip)}) + "\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit("usage: label_behavior.py PCAP PLAN RUNLOG OUT")
    sys.exit(main(*sys.argv[1:]))
