#!/usr/bin/python3
"""Semantic routing in replay (issue 6): which path each flow takes, what leaves each port byte
for byte, healing when a path goes down, determinism.

Usage: test_routing.py TCP_ROUTED TCP_ROUTEGEN CONFIG        (CONFIG: config/example-paths.toml)

Expectations come from the routing spec (the comments of CONFIG, README "Semantic routing"), from
CONFIG itself (MACs, VLAN, l3, paths) and from decoding the inputs (scapy, tshark), never from a
recorded output. The inputs are made here, in a temporary directory:

  A  tcp-routegen --behavior --agents 20 --anomalies secret_leak=2 --duration 20 --seed 3: agents
     (10.1.0.0/16) with LLM/MCP/A2A/DNS/HTTP traffic; two of them leak an AWS key (labelled in
     A.pcap.labels.jsonl / A.pcap.agents.jsonl) and are QUARANTINED at once by that hard signal.
  B  hand-made (scapy): a VLAN-tagged flow, non-agent secret flows (IPv4 and IPv6) with a TTL /
     hop limit 1 packet after the secret, an ARP frame, a MONITORED agent's DNS and LLM calls, and
     an agent that leaks an AWS key and then sends DNS, remediation (10.99/16) and other traffic.
  C  hand-made (scapy), non-agents only: 40 long-lived DNS sessions, 60 one-shot DNS queries
     spread over the capture, 6 keep-alive LLM connections; replayed without and with a
     --path-events schedule taking dns-a and llm down and up again.

Tests (expectations from the spec and CONFIG; B and C are built so that each is unambiguous):
  a_class_paths      llm.api/mcp/a2a (labels of A) -> egress llm, their payload packets on llm's next
                     hop; dns -> dns-a or dns-b, both used
  a_secret_dlp       non-agent secret flows (B, IPv4/IPv6) -> dlp from the secret on; agents' leaks (A):
                     nothing from the secret on leaves, egress dlp or drop
  a_monitored_mirror flows of MONITORED agents (first packet .. first zone event): mirror monitor and
                     every packet once on out/tap.pcap; TRUSTED agents' and non-agents' flows: no copy
  a_quarantine       after the leak: dns and 10.99/16 flows -> quarantine (out/quar.pcap), the rest
                     dropped (egress drop, exact zone_quarantined count)
  a_general_for_other_classes  http/tls flows -> general; a tag found later: route event content
  b_rewrite_bytes    every out/{wan,dlp,tap,quar,agents}.pcap frame = its input frame with exactly its
                     path's changes (MACs, VLAN 20 push / outer id rewrite keeping PCP, TTL-1 and hop
                     limit-1 on dlp); IPv4 checksums (scapy, tshark); TTL 1 towards dlp: ttl_expired
  c_healing          dns-a and llm down then up: exactly their pinned flows move (path_down, at their
                     first packet after the event, never back), nothing on a dead next hop, new flows
                     avoid it while down and use it again after
  d_determinism      two replays: identical flows.jsonl, events.jsonl, out/*.pcap frames

Each test prints one line (PASS/FAIL name: detail, and the problems under a FAIL). Exit 0 when
all pass, 1 otherwise, 77 when tshark is missing.
"""
import collections
import ipaddress
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import tomllib

os.environ.setdefault("SCAPY_USE_LIBPCAP", "no")
from scapy.all import (ARP, DNS, DNSQR, DNSRR, IP, IPv6, TCP, UDP, Dot1Q, Ether,  # noqa: E402
                       RawPcapReader, conf, wrpcap)

conf.verb = 0

ETH_VLAN = (0x8100, 0x88A8)
SECRET_RE = re.compile(rb"AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----")

# --------------------------------------------------------------------------------------------
# Configuration: the paths and ports under test, read from CONFIG.


class Cfg:
    def __init__(self, path):
        with open(path, "rb") as f:
            t = tomllib.load(f)
        self.port_mac = {p["name"]: bytes.fromhex(p["mac"].replace(":", "")) for p in t["port"]}
        self.paths = {}
        for p in t["path"]:
            self.paths[p["name"]] = {
                "port": p["port"],
                "mac": bytes.fromhex(p["next_hop_mac"].replace(":", "")),
                "vlan": p.get("vlan"),
                "l3": bool(p.get("l3", False)),
                "role": p.get("role"),
            }
        self.path_of_mac = {v["mac"]: k for k, v in self.paths.items()}
        self.agents = [ipaddress.ip_network(a) for a in t["behavior"]["agents"]]
        self.remediation = [ipaddress.ip_network(a) for a in t["behavior"]["zones"]["remediation"]]
        self.quarantine_classes = set(t["behavior"]["zones"]["quarantine_classes"])
        self.default_path = t["routing"]["default_path"]
        self.ingress = t["replay"]["ingress"]
        # The spec's fixed points, checked against the file so a changed config fails loudly.
        assert self.paths["general"]["vlan"] == 20 and self.paths["dlp"]["l3"], "unexpected CONFIG"
        assert self.paths["monitor"]["role"] == "monitor" and self.paths["quarantine"]["role"] == "quarantine"

    def is_agent(self, ip):
        a = ipaddress.ip_address(ip)
        return any(a in n for n in self.agents)

    def is_remediation(self, ip):
        a = ipaddress.ip_address(ip)
        return any(a in n for n in self.remediation)


# --------------------------------------------------------------------------------------------
# Frames: a small parser of our own (Ethernet, 802.1Q/802.1ad, IPv4/IPv6, TCP/UDP).


class Frame:
    __slots__ = ("idx", "ts", "raw", "tags", "etype", "l3off", "ipv", "src", "dst", "proto", "sport", "dport",
                 "payload", "flags", "ttl")

    def __init__(self, idx, ts, raw):
        self.idx, self.ts, self.raw = idx, ts, raw
        self.tags = []
        off = 12
        while off + 4 <= len(raw) and struct.unpack_from("!H", raw, off)[0] in ETH_VLAN:
            self.tags.append(struct.unpack_from("!HH", raw, off))
            off += 4
        self.etype = struct.unpack_from("!H", raw, off)[0] if off + 2 <= len(raw) else None
        self.l3off = off + 2
        self.ipv = self.src = self.dst = self.proto = self.sport = self.dport = self.ttl = None
        self.payload, self.flags = b"", 0
        b = raw[self.l3off:]
        if self.etype == 0x0800 and len(b) >= 20:
            ihl = (b[0] & 15) * 4
            total = struct.unpack_from("!H", b, 2)[0]
            self.ipv, self.ttl, self.proto = 4, b[8], b[9]
            self.src, self.dst = str(ipaddress.IPv4Address(b[12:16])), str(ipaddress.IPv4Address(b[16:20]))
            l4 = b[ihl:total]
        elif self.etype == 0x86DD and len(b) >= 40:
            plen = struct.unpack_from("!H", b, 4)[0]
            self.ipv, self.ttl, self.proto = 6, b[7], b[6]
            self.src, self.dst = str(ipaddress.IPv6Address(b[8:24])), str(ipaddress.IPv6Address(b[24:40]))
            l4 = b[40:40 + plen]
        else:
            return
        if self.proto == 6 and len(l4) >= 20:
            self.sport, self.dport = struct.unpack_from("!HH", l4, 0)
            self.flags = l4[13]
            self.payload = l4[(l4[12] >> 4) * 4:]
        elif self.proto == 17 and len(l4) >= 8:
            self.sport, self.dport = struct.unpack_from("!HH", l4, 0)
            self.payload = l4[8:]

    def match_key(self):
        """The frame from its IP header on, minus what a route may change (TTL/hop limit, IPv4
        header checksum); the whole frame after the tags when it is not IP."""
        b = bytearray(self.raw[self.l3off:])
        if self.ipv == 4:
            b[8] = 0
            b[10:12] = b"\0\0"
        elif self.ipv == 6:
            b[7] = 0
        return bytes(b)

    def endpoints(self):
        return (self.proto, self.src, self.sport), (self.proto, self.dst, self.dport)


def read_pcap(path):
    if not os.path.exists(path) or os.path.getsize(path) <= 24:
        return []
    out = []
    for i, (data, meta) in enumerate(RawPcapReader(path)):
        out.append(Frame(i, meta.sec + meta.usec / 1e6, bytes(data)))
    return out


def ep_of(s, proto):
    """'ip:port' or '[v6]:port' of flows.jsonl -> (proto number, canonical ip, port)."""
    host, port = s.rsplit(":", 1)
    return ({"tcp": 6, "udp": 17}.get(proto, proto), str(ipaddress.ip_address(host.strip("[]"))), int(port))


def conv_key(a, b):
    return frozenset((a, b))


def ip_checksum(hdr):
    s = 0
    for i in range(0, len(hdr), 2):
        s += (hdr[i] << 8) + (hdr[i + 1] if i + 1 < len(hdr) else 0)
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


# --------------------------------------------------------------------------------------------
# Replays


class Report:
    def __init__(self, d, inp, cfg):
        self.dir, self.cfg = d, cfg
        with open(os.path.join(d, "flows.jsonl")) as f:
            self.flows_text = f.read()
        with open(os.path.join(d, "events.jsonl")) as f:
            self.events_text = f.read()
        self.flows = [json.loads(x) for x in self.flows_text.splitlines() if x.strip()]
        self.events = [json.loads(x) for x in self.events_text.splitlines() if x.strip()]
        self.route_events = [e for e in self.events if e.get("kind") == "route"]
        self.zone_events = [e for e in self.events if e.get("kind") != "route"]
        with open(os.path.join(d, "summary.json")) as f:
            self.summary = json.load(f)
        self.out = {p: read_pcap(os.path.join(d, "out", p + ".pcap")) for p in cfg.port_mac}
        self.flow_by_conv = {}
        for fl in self.flows:
            c, s = ep_of(fl["client"], fl["proto"]), ep_of(fl["server"], fl["proto"])
            self.flow_by_conv[conv_key(c, s)] = fl
        # Each output frame matched to its input frame (multiset, in order, per port).
        self.unmatched = []          # (port, frame)
        self.emitted = collections.defaultdict(list)   # input idx -> [(port, out frame)]
        index = collections.defaultdict(list)
        for fr in inp.frames:
            index[fr.match_key()].append(fr.idx)
        for port, frames in self.out.items():
            pos = collections.defaultdict(int)
            for of in frames:
                k = of.match_key()
                cands = index.get(k, [])
                if pos[k] < len(cands):
                    self.emitted[cands[pos[k]]].append((port, of))
                    pos[k] += 1
                else:
                    self.unmatched.append((port, of))

    def flow(self, conv):
        return self.flow_by_conv.get(conv)

    def drops(self):
        return {k: v for k, v in self.summary.get("drops", {}).items() if v}


class Input:
    def __init__(self, path, cfg):
        self.path = path
        self.frames = read_pcap(path)
        self.t0 = self.frames[0].ts
        self.by_conv = collections.defaultdict(list)
        for fr in self.frames:
            if fr.sport is not None:
                self.by_conv[conv_key(*fr.endpoints())].append(fr)

    def conv_frames(self, fl):
        c, s = ep_of(fl["client"], fl["proto"]), ep_of(fl["server"], fl["proto"])
        frs = self.by_conv.get(conv_key(c, s), [])
        return [(fr, fr.endpoints()[0] == c) for fr in frs]


def run(cmd, timeout, check=False):
    """subprocess.run, waiting a little when the binary is missing or busy (being relinked)."""
    for attempt in range(15):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=check)
        except OSError:
            if attempt == 14:
                raise
            time.sleep(2)


class Runner:
    def __init__(self, routed, config, tmp):
        self.routed, self.config, self.tmp = routed, config, tmp
        self.n = 0

    def replay(self, inp, cfg, name, *extra):
        out = os.path.join(self.tmp, name)
        cmd = [self.routed, "replay", inp.path, "--report-dir", out, "--config", self.config, "-q", *extra]
        p = run(cmd, timeout=120)
        if p.returncode != 0:
            raise SystemExit(f"FAIL: {' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
        return Report(out, inp, cfg)


# --------------------------------------------------------------------------------------------
# Hand-made captures


class Cap:
    """Packets with times; ids unique over the capture so every frame is distinguishable."""

    def __init__(self, t0):
        self.t0 = t0
        self.pkts = []
        self.ip_id = 0x1000

    def add(self, t, pkt):
        pkt.time = self.t0 + round(t, 6)
        self.pkts.append(pkt)
        return pkt

    def next_id(self):
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        return self.ip_id

    def ip(self, src, dst, ttl):
        if ":" in src:
            return IPv6(src=src, dst=dst, hlim=ttl)
        return IP(src=src, dst=dst, ttl=ttl, id=self.next_id())

    def write(self, path):
        self.pkts.sort(key=lambda p: float(p.time))
        wrpcap(path, self.pkts)


MAC_C, MAC_S = "02:aa:00:00:00:01", "02:bb:00:00:00:01"


class Tcp:
    def __init__(self, cap, cli, srv, sport, dport, vlan=None):
        self.cap, self.cli, self.srv, self.sport, self.dport, self.vlan = cap, cli, srv, sport, dport, vlan
        self.cseq, self.sseq = 1000 + sport * 7, 5000 + dport * 13

    def send(self, t, c2s, flags, payload=b"", ttl=64):
        eth = Ether(src=MAC_C if c2s else MAC_S, dst=MAC_S if c2s else MAC_C)
        if self.vlan is not None:
            eth = eth / Dot1Q(prio=self.vlan[0], vlan=self.vlan[1])
        src, dst = (self.cli, self.srv) if c2s else (self.srv, self.cli)
        sp, dp = (self.sport, self.dport) if c2s else (self.dport, self.sport)
        seq, ack = (self.cseq, self.sseq) if c2s else (self.sseq, self.cseq)
        pkt = eth / self.cap.ip(src, dst, ttl) / TCP(sport=sp, dport=dp, flags=flags, seq=seq,
                                                     ack=ack if "A" in flags else 0, window=64240)
        if payload:
            pkt = pkt / payload
        adv = len(payload) + (1 if ("S" in flags or "F" in flags) else 0)
        if c2s:
            self.cseq += adv
        else:
            self.sseq += adv
        return self.cap.add(t, pkt)

    def open(self, t):
        self.send(t, True, "S")
        self.send(t + 0.0005, False, "SA")
        self.send(t + 0.001, True, "A")

    def exchange(self, t, req, resp, ttl=64):
        self.send(t, True, "PA", req, ttl=ttl)
        if resp is not None:
            self.send(t + 0.002, False, "PA", resp)
            self.send(t + 0.003, True, "A")

    def close(self, t):
        self.send(t, True, "FA")
        self.send(t + 0.0005, False, "FA")
        self.send(t + 0.001, True, "A")


def http_post(host, path, body, ctype="application/json"):
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: python-httpx/0.27.0\r\n"
            f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def http_get(host, path):
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n".encode()


def http_ok(body=b'{"ok":true}'):
    return (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def chat_body(i):
    return json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"step {i}: summarise"}],
                       "max_tokens": 64}).encode()


def chat_answer(i):
    return http_ok(json.dumps({"id": f"chatcmpl-{i}", "object": "chat.completion",
                               "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}]}).encode())


def dns_pair(cap, t, cli, sport, srv, qid, name, answer="93.184.216.34"):
    q = Ether(src=MAC_C, dst=MAC_S) / cap.ip(cli, srv, 64) / UDP(sport=sport, dport=53) / DNS(
        id=qid, rd=1, qd=DNSQR(qname=name))
    r = Ether(src=MAC_S, dst=MAC_C) / cap.ip(srv, cli, 64) / UDP(sport=53, dport=sport) / DNS(
        id=qid, qr=1, aa=0, rd=1, ra=1, qd=DNSQR(qname=name), an=DNSRR(rrname=name, ttl=60, rdata=answer))
    cap.add(t, q)
    cap.add(t + 0.0007, r)


AWS_KEY = b"AKIAZ7QWERTY12345678"   # AKIA + 16 uppercase/digits: a hard signal (tag secret)


def make_b(path):
    """Capture B (see the module doc). Times relative to T0."""
    cap = Cap(1700001000.0)
    # 1. The first flow (no load anywhere yet): a non-agent's VLAN-tagged (PCP 3, id 7) HTTP GET.
    #    Path general rewrites the outer tag's id to 20 and keeps PCP.
    f = Tcp(cap, "192.168.50.10", "10.2.0.80", 41000, 80, vlan=(3, 7))
    f.open(0.0)
    f.exchange(0.01, http_get("www.example.com", "/index.html"), http_ok(b"<html>hello</html>"))
    f.close(0.05)
    # 2. An ARP request: no flow, leaves by the default path's port unrewritten.
    cap.add(0.5, Ether(src=MAC_C, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=MAC_C, psrc="192.168.50.11",
                                                                 pdst="192.168.50.1"))
    # 3. A non-agent keep-alive HTTP connection: a benign POST, then one with an AWS key (tag
    #    secret: the flow moves to dlp), a TTL-1 POST (dropped: ttl_expired), and a TTL-64 POST.
    f = Tcp(cap, "192.168.50.11", "10.2.0.81", 41001, 80)
    f.open(1.0)
    f.exchange(1.01, http_post("api.example.com", "/api/items", b'{"item":"chair","qty":2}'), http_ok())
    f.exchange(1.2, http_post("api.example.com", "/api/config",
                              b'{"aws_access_key_id":"' + AWS_KEY + b'","region":"eu-west-1"}'), http_ok())
    f.exchange(1.4, http_post("api.example.com", "/api/items", b'{"item":"table","qty":1}'), None, ttl=1)
    f.exchange(1.6, http_post("api.example.com", "/api/items", b'{"item":"lamp","qty":3}'), http_ok())
    f.close(1.7)
    # 4. The same over IPv6, the key in the first request; then hop limit 1 (dropped), then 64.
    f = Tcp(cap, "fd00:50::11", "fd00:2::81", 41002, 80)
    f.open(2.0)
    f.exchange(2.01, http_post("api6.example.com", "/upload", b'{"key":"' + AWS_KEY + b'"}'), http_ok())
    f.exchange(2.2, http_post("api6.example.com", "/upload", b'{"n":1}'), None, ttl=1)
    f.exchange(2.4, http_post("api6.example.com", "/upload", b'{"n":2}'), http_ok())
    f.close(2.5)
    # 5. Agent 10.1.7.8 (MONITORED: new): DNS and an LLM call, mirrored to monitor.
    dns_pair(cap, 3.5, "10.1.7.8", 5101, "10.2.0.2", 0x2001, "api.openai.com")
    f = Tcp(cap, "10.1.7.8", "10.2.0.60", 41010, 80)
    f.open(3.6)
    f.exchange(3.61, http_post("api.openai.com", "/v1/chat/completions", chat_body(0)), chat_answer(0))
    f.close(3.7)
    # 6. Agent 10.1.7.7 leaks an AWS key in its first flow: QUARANTINED at once (hard signal).
    f = Tcp(cap, "10.1.7.7", "10.2.0.90", 41020, 80)
    f.open(3.0)
    f.exchange(3.01, http_post("hooks.example.com", "/api/v1/integrations",
                               b'{"config":{"aws_access_key_id":"' + AWS_KEY + b'"}}'), http_ok())
    f.exchange(3.05, http_post("hooks.example.com", "/api/v1/integrations", b'{"retry":true}'), http_ok())
    f.close(3.1)
    #    Then what a quarantined agent may still do: DNS (quarantine_classes) and remediation
    #    (10.99/16), and what it may not (anything else).
    dns_pair(cap, 4.0, "10.1.7.7", 5001, "10.2.0.2", 0x1001, "updates.example.com")
    f = Tcp(cap, "10.1.7.7", "10.99.0.5", 41021, 80)
    f.open(4.5)
    f.exchange(4.51, http_get("remediate.internal", "/agent/status"), http_ok())
    f.close(4.55)
    f = Tcp(cap, "10.1.7.7", "10.2.0.91", 41022, 443)
    f.send(5.0, True, "S")
    f.cseq -= 1
    f.send(6.0, True, "S")   # the SYN again (retransmission, new IP id)
    dns_pair(cap, 5.5, "10.1.7.7", 5002, "10.2.0.2", 0x1002, "pypi.org")
    cap.write(path)


# Capture C: healing. Non-agents only (no zones, no mirrors). Relative to its first packet (T0).
C_T0 = 1700002000.0
C_EVENTS = [("+3", "dns-a", "down", 3.0), (f"{C_T0 + 4.25:.2f}", "llm", "down", 4.25),
            ("+7.5", "dns-a", "up", 7.5), ("+8", "llm", "up", 8.0)]


def make_c(path):
    cap = Cap(C_T0)
    dns_pair(cap, 0.0, "172.16.9.1", 9999, "10.2.0.2", 1, "first.example.com")   # the first packet: T0
    for i in range(40):                      # long-lived DNS "sessions": a query every 0.5 s
        t, k = 0.05 + 0.011 * i, 0
        while t < 11.0:
            dns_pair(cap, t, f"172.16.1.{i + 1}", 20000 + i, "10.2.0.2", (i * 64 + k) & 0xFFFF,
                     f"s{i}-q{k}.example.com")
            t, k = t + 0.5, k + 1
    for j in range(60):                      # one query each, every 0.18 s
        dns_pair(cap, 0.2 + 0.18 * j + 0.0013, f"172.16.2.{j + 1}", 30000 + j, "10.2.0.3", 0x4000 + j,
                 f"one{j}.example.org")
    for k in range(6):                       # keep-alive LLM connections, a call every 0.5 s
        f = Tcp(cap, f"172.16.3.{k + 1}", "10.2.0.50", 40000 + k, 80)
        f.open(0.1 + 0.03 * k)
        t, n = 0.12 + 0.03 * k, 0
        while t < 11.0:
            f.exchange(t, http_post("api.openai.com", "/v1/chat/completions", chat_body(n)), chat_answer(n))
            t, n = t + 0.5, n + 1
        f.close(11.2)
    for k, start in ((6, 5.0), (7, 9.0)):    # new LLM connections while llm is down, and after
        f = Tcp(cap, f"172.16.3.{k + 1}", "10.2.0.50", 40000 + k, 80)
        f.open(start)
        for n in range(3):
            f.exchange(start + 0.02 + 0.3 * n, http_post("api.openai.com", "/v1/chat/completions", chat_body(n)),
                       chat_answer(n))
        f.close(start + 1.0)
    cap.write(path)


# --------------------------------------------------------------------------------------------
# Checks


class Test:
    def __init__(self, name):
        self.name, self.problems, self.notes = name, [], []

    def fail(self, msg):
        self.problems.append(msg)

    def check(self, cond, msg):
        if not cond:
            self.fail(msg)
        return cond

    def done(self, detail=""):
        if self.problems:
            print(f"FAIL {self.name}: {len(self.problems)} problem(s){'; ' + detail if detail else ''}")
            for p in self.problems[:25]:
                print("    " + p)
            if len(self.problems) > 25:
                print(f"    ... and {len(self.problems) - 25} more")
        else:
            print(f"PASS {self.name}: {detail}")
        for n in self.notes:
            print("    note: " + n)
        return not self.problems


def fl_name(fl):
    return f"{fl['proto']} {fl['client']} -> {fl['server']} ({fl['class']}{' ' + ','.join(fl['tags']) if fl['tags'] else ''})"


def expected_frame(cfg, fr, path):
    """`fr` as it must leave on `path`: MACs, outer VLAN push/rewrite, TTL-1 on l3 paths."""
    p = cfg.paths[path]
    tags = list(fr.tags)
    if p["vlan"] == "strip":
        tags = tags[1:]
    elif isinstance(p["vlan"], int):
        if tags:
            tags[0] = (tags[0][0], (tags[0][1] & 0xF000) | p["vlan"])
        else:
            tags = [(0x8100, p["vlan"])]
    l3 = bytearray(fr.raw[fr.l3off:])
    if p["l3"]:
        if fr.ipv == 4:
            l3[8] -= 1
            ihl = (l3[0] & 15) * 4
            l3[10:12] = b"\0\0"
            l3[10:12] = struct.pack("!H", ip_checksum(bytes(l3[:ihl])))
        elif fr.ipv == 6:
            l3[7] -= 1
    return (p["mac"] + cfg.port_mac[p["port"]] + b"".join(struct.pack("!HH", *t) for t in tags)
            + struct.pack("!H", fr.etype) + bytes(l3))


def first_diff(a, b):
    for i in range(min(len(a), len(b))):
        if a[i] != b[i]:
            return f"first difference at byte {i}: {a[i]:#04x} expected {b[i]:#04x} (lengths {len(a)}/{len(b)})"
    return f"lengths {len(a)} vs expected {len(b)}"


def frame_desc(fr):
    if fr.ipv is None:
        return f"frame #{fr.idx + 1} ethertype {fr.etype:#06x}"
    return f"frame #{fr.idx + 1} t={fr.ts:.6f} {fr.src}:{fr.sport} -> {fr.dst}:{fr.dport} len {len(fr.raw)}"


def check_rewrites(t, cfg, inp, rep, label):
    """Every frame that left a port is an input frame with exactly the rewrite of its path."""
    by_idx = {fr.idx: fr for fr in inp.frames}
    counts = collections.Counter()
    for port, of in rep.unmatched:
        t.fail(f"{label}: out/{port}.pcap frame #{of.idx + 1} ({frame_desc(of)}) is no input frame with a route's changes")
    for idx, outs in rep.emitted.items():
        fr = by_idx[idx]
        for port, of in outs:
            if port == cfg.ingress:
                # Answers back to the agents: unrewritten.
                t.check(of.raw == fr.raw, f"{label}: out/{port}.pcap #{of.idx + 1}, input {frame_desc(fr)}, rewritten: {first_diff(of.raw, fr.raw)}")
                counts["agents"] += 1
                continue
            dst = of.raw[0:6]
            path = cfg.path_of_mac.get(dst)
            if path is None:
                # Only frames without a flow leave unrewritten by the default path's port.
                ok = (fr.sport is None and of.raw == fr.raw and port == cfg.paths[cfg.default_path]["port"])
                t.check(ok, f"{label}: out/{port}.pcap #{of.idx + 1}, input {frame_desc(fr)}, has dst MAC {dst.hex(':')} of no path")
                counts["no-flow"] += ok
                continue
            if not t.check(cfg.paths[path]["port"] == port,
                           f"{label}: {frame_desc(fr)} carries path {path}'s MAC but left by port {port}"):
                continue
            exp = expected_frame(cfg, fr, path)
            if t.check(of.raw == exp, f"{label}: out/{port}.pcap #{of.idx + 1}, input {frame_desc(fr)}, on path {path}: {first_diff(of.raw, exp)}"):
                counts[path] += 1
                if fr.tags:
                    counts[f"{path}+tagged"] += 1
                if cfg.paths[path]["l3"]:
                    counts[f"{path}+ipv{fr.ipv}"] += 1
    return counts


def check_checksums_scapy(t, rep, label):
    n = 0
    for port, frames in rep.out.items():
        for of in frames:
            if of.ipv != 4:
                continue
            ip = IP(of.raw[of.l3off:])
            got = ip.chksum
            del ip.chksum
            want = IP(bytes(ip)).chksum
            n += 1
            t.check(got == want, f"{label}: out/{port}.pcap frame #{of.idx + 1}: IPv4 checksum {got:#06x}, recomputed {want:#06x}")
    return n


def check_checksums_tshark(t, rep, label):
    n = 0
    for port in rep.out:
        path = os.path.join(rep.dir, "out", port + ".pcap")
        if not rep.out[port]:
            continue
        p = subprocess.run(["tshark", "-r", path, "-o", "ip.check_checksum:TRUE", "-Y", "ip",
                            "-T", "fields", "-e", "frame.number", "-e", "ip.checksum.status"],
                           capture_output=True, text=True, timeout=120)
        for line in p.stdout.splitlines():
            num, status = (line.split("\t") + [""])[:2]
            n += 1
            # ip.checksum.status: 1 good (tshark 4.x: 0 bad, 1 good, 2 unverified)
            t.check(status.split(",")[0] == "1", f"{label}: tshark: out/{port}.pcap frame {num}: ip.checksum.status {status!r}")
    return n


def agent_of_flow(cfg, fl):
    ip = str(ep_of(fl["client"], fl["proto"])[1])
    return ip if cfg.is_agent(ip) else None


def secret_packet_ts(inp, fl):
    """Time of the first client->server packet of the flow carrying a secret, from the input."""
    for fr, c2s in inp.conv_frames(fl):
        if c2s and SECRET_RE.search(fr.payload):
            return fr.ts
    return None


def quarantine_times(cfg, inp, flows_with_tags):
    """agent -> the time its first secret left it (a hard signal: QUARANTINED at once)."""
    q = {}
    for fl in flows_with_tags:
        if "secret" in fl["tags"]:
            a = agent_of_flow(cfg, fl)
            ts = secret_packet_ts(inp, fl)
            if a and ts is not None:
                q[a] = min(q.get(a, ts), ts)
    return q


def emitted_on(rep, fr):
    return [(port, cfg_path_of(rep, of)) for port, of in rep.emitted.get(fr.idx, [])]


def cfg_path_of(rep, of):
    """The path whose next hop an output frame is addressed to (None: not rewritten)."""
    return rep.cfg.path_of_mac.get(of.raw[0:6])


def labels_by_conv(path):
    out = {}
    with open(path) as f:
        for line in f:
            lb = json.loads(line)
            out[conv_key(ep_of(lb["client"], lb["proto"]), ep_of(lb["server"], lb["proto"]))] = lb
    return out


def c2s_payload_frames(inp, fl):
    return [fr for fr, c2s in inp.conv_frames(fl) if c2s and fr.payload]


def test_a_class_paths(cfg, A, ra, la, qa, B, rb):
    """llm.api/mcp/a2a -> llm; dns -> dns-a|dns-b, both used; from the labels of capture A."""
    t = Test("a_class_paths")
    n = collections.Counter()
    straddle = 0
    for conv, lb in la.items():
        fl = ra.flow(conv)
        if not t.check(fl is not None, f"A: labelled conversation {lb['proto']} {lb['client']} -> {lb['server']} missing in flows.jsonl"):
            continue
        if lb["tags"]:
            continue
        agent = agent_of_flow(cfg, fl)
        q = qa.get(agent)
        if q is not None and fl["first_ts"] <= q <= fl["last_ts"]:
            straddle += 1
            continue
        if q is not None and fl["first_ts"] > q:
            continue   # quarantined: test_a_quarantine
        want = None
        if lb["class"] in ("llm.api", "mcp", "a2a"):
            want = {"llm"}
        elif lb["class"] == "dns":
            want = {"dns-a", "dns-b"}
        if want is None:
            continue
        if t.check(fl["egress"] in want, f"A: {fl_name(fl)} (label {lb['class']}): egress {fl['egress']!r}, expected {sorted(want)}"):
            n[fl["egress"]] += 1
        # Every client->server packet carrying payload left on that path (the packet that
        # decides the class and those after it).
        for fr in c2s_payload_frames(A, fl):
            paths = {p for _, p in emitted_on(ra, fr) if p not in ("monitor",)}
            t.check(paths == {fl["egress"]},
                    f"A: {fl_name(fl)}: {frame_desc(fr)} left on {sorted(paths, key=str)}, expected [{fl['egress']!r}]")
    t.check(n["llm"] >= 50, f"A: only {n['llm']} llm.api/mcp/a2a flows on llm: the capture proves little")
    t.check(n["dns-a"] >= 3 and n["dns-b"] >= 3,
            f"A: DNS flows per path: dns-a {n['dns-a']}, dns-b {n['dns-b']}; both must be used")
    # B: the MONITORED agent's DNS and LLM call.
    for conv_eps, want in (((17, "10.1.7.8", 5101), {"dns-a", "dns-b"}), ((6, "10.1.7.8", 41010), {"llm"})):
        fl = next((f for f in rb.flows if ep_of(f["client"], f["proto"]) == conv_eps), None)
        if t.check(fl is not None, f"B: no flow of {conv_eps}"):
            t.check(fl["egress"] in want, f"B: {fl_name(fl)}: egress {fl['egress']!r}, expected {sorted(want)}")
    return t.done(f"{n['llm']} llm.api/mcp/a2a flows on llm, DNS on dns-a {n['dns-a']} / dns-b {n['dns-b']}"
                  f" ({straddle} flows straddling their agent's quarantine not judged)")


def test_a_secret(cfg, A, ra, la, qa, B, rb):
    """secret -> dlp (only path with capability dlp); a secret never leaves on another path."""
    t = Test("a_secret_dlp")
    # B: non-agents (TRUSTED, never quarantined): the flow is on dlp from the secret on.
    n_dlp = 0
    for cli in ((6, "192.168.50.11", 41001), (6, "fd00:50::11", 41002)):
        fl = next((f for f in rb.flows if ep_of(f["client"], f["proto"]) == cli), None)
        if not t.check(fl is not None, f"B: no flow of client {cli}"):
            continue
        t.check("secret" in fl["tags"], f"B: {fl_name(fl)}: not tagged secret")
        t.check(fl["egress"] == "dlp", f"B: {fl_name(fl)}: egress {fl['egress']!r}, expected 'dlp'")
        ts = secret_packet_ts(B, fl)
        for fr in c2s_payload_frames(B, fl):
            if fr.ts < ts:
                continue
            paths = [p for _, p in emitted_on(rb, fr)]
            want = [] if fr.ttl <= 1 else ["dlp"]
            if t.check(paths == want, f"B: {fl_name(fl)}: {frame_desc(fr)} (TTL {fr.ttl}) left on {paths}, expected {want}"):
                n_dlp += len(paths)
    # A: agents' leaks. The hard signal quarantines the agent at the packet that carries the
    # secret, so that packet and the rest of the flow are dropped by the zone gate: nothing of it
    # may leave at all (neither on wan nor on dlp), and the flow's egress is dlp or drop.
    n_a = 0
    for conv, lb in la.items():
        if "secret" not in lb["tags"]:
            continue
        fl = ra.flow(conv)
        if not t.check(fl is not None, f"A: secret conversation {lb['client']} -> {lb['server']} missing"):
            continue
        n_a += 1
        t.check("secret" in fl["tags"], f"A: {fl_name(fl)}: label secret, not tagged")
        ts = secret_packet_ts(A, fl)
        if not t.check(ts is not None, f"A: {fl_name(fl)}: no secret found in its payload by the test"):
            continue
        for fr, c2s in A.conv_frames(fl):
            if fr.ts >= ts:
                where = emitted_on(ra, fr)
                t.check(not where, f"A: {fl_name(fl)}: {frame_desc(fr)} after the secret left on {where}")
        t.check(fl["egress"] in ("dlp", "drop"),
                f"A: {fl_name(fl)}: egress {fl['egress']!r}, expected 'dlp' (or 'drop': its agent is quarantined "
                f"by this very packet), not the provisional path of its SYN")
    return t.done(f"{n_dlp} secret-flow packets on dlp (IPv4 and IPv6), {n_a} agent leaks held")


def test_a_mirror(cfg, A, ra, la, qa, B, rb):
    """MONITORED agents' flows: mirror monitor, every packet of them copied to out/tap.pcap."""
    t = Test("a_monitored_mirror")
    n_mirrored = n_plain = n_frames = 0
    for inp, rep, lab in ((A, ra, "A"), (B, rb, "B")):
        first_seen = {}
        for fr in inp.frames:
            for ip in (fr.src, fr.dst):
                if ip and cfg.is_agent(ip) and ip not in first_seen:
                    first_seen[ip] = fr.ts
        zone_ev = collections.defaultdict(list)
        for e in rep.zone_events:
            zone_ev[e["agent"]].append(e)
        for fl in rep.flows:
            agent = agent_of_flow(cfg, fl)
            frames = inp.conv_frames(fl)
            if agent is None:
                tapped = [fr for fr, _ in frames if any(p == "tap" for p, _ in rep.emitted.get(fr.idx, []))]
                t.check(fl["mirror"] is None and not tapped,
                        f"{lab}: non-agent {fl_name(fl)}: mirror {fl['mirror']!r}, {len(tapped)} frames on tap")
                n_plain += 1
                continue
            evs = sorted(zone_ev.get(agent, []), key=lambda e: e["ts"])
            # The agent is MONITORED from its first packet to its first zone event.
            end = evs[0]["ts"] if evs else float("inf")
            if fl["last_ts"] < end:
                t.check(fl["mirror"] == "monitor", f"{lab}: {fl_name(fl)} of MONITORED agent {agent}: mirror {fl['mirror']!r}")
                missing = [fr for fr, _ in frames
                           if sum(1 for p, of in rep.emitted.get(fr.idx, []) if p == "tap"
                                  and of.raw[:6] == cfg.paths["monitor"]["mac"]) != 1]
                # Frames dropped by a gate do not leave at all; a MONITORED agent's are not dropped.
                t.check(not missing, f"{lab}: {fl_name(fl)} of MONITORED agent {agent}: {len(missing)} of {len(frames)} "
                                     f"packets not once on tap, first {frame_desc(missing[0]) if missing else ''}")
                n_mirrored += 1
                n_frames += len(frames)
            elif evs and evs[0]["to"] == "TRUSTED" and fl["first_ts"] > end and (len(evs) == 1 or fl["last_ts"] < evs[1]["ts"]):
                tapped = [fr for fr, _ in frames if any(p == "tap" for p, _ in rep.emitted.get(fr.idx, []))]
                t.check(fl["mirror"] is None and not tapped,
                        f"{lab}: {fl_name(fl)} of TRUSTED agent {agent}: mirror {fl['mirror']!r}, {len(tapped)} frames on tap")
                n_plain += 1
    t.check(n_mirrored >= 30, f"only {n_mirrored} flows of MONITORED agents: the capture proves little")
    tap_paths = {cfg_path_of(ra, of) for of in ra.out["tap"]} | {cfg_path_of(rb, of) for of in rb.out["tap"]}
    t.check(tap_paths <= {"monitor"}, f"frames on tap with next hops of {tap_paths}")
    return t.done(f"{n_mirrored} flows of MONITORED agents fully on tap ({n_frames} frames), "
                  f"{n_plain} flows of TRUSTED agents/non-agents not mirrored")


def test_a_quarantine(cfg, A, ra, la, qa, B, rb):
    """QUARANTINED agents: permitted flows (class dns, or to 10.99/16) -> quarantine (port quar),
    everything else dropped (zone_quarantined)."""
    t = Test("a_quarantine")
    qb = quarantine_times(cfg, B, rb.flows)
    t.check(set(qb) == {"10.1.7.7"}, f"B: agents with a leak found by the test: {sorted(qb)}")
    t.check(set(qa) == {a["agent"] for a in map(json.loads, open(A.path + ".agents.jsonl")) if a["kind"] == "secret_leak"},
            f"A: leaking agents found by the test {sorted(qa)} differ from A.pcap.agents.jsonl")
    n_q = n_drop = 0
    expected_zone_drops = {"A": 0, "B": 0}
    for inp, rep, q, lab, labels in ((A, ra, qa, "A", la), (B, rb, qb, "B", None)):
        for agent, qt in q.items():
            ev = [e for e in rep.zone_events if e["agent"] == agent and e["to"] == "QUARANTINED"]
            t.check(ev and abs(ev[0]["ts"] - qt) < 1e-6,
                    f"{lab}: agent {agent} leaked at {qt:.6f}: zone events {ev} (premise: quarantined at once)")
        for fl in rep.flows:
            agent = agent_of_flow(cfg, fl)
            if agent not in q:
                continue
            qt = q[agent]
            frames = inp.conv_frames(fl)
            if fl["first_ts"] <= qt:
                # The leaking flow and those before: after qt nothing of them may leave.
                for fr, _ in frames:
                    if fr.ts >= qt:
                        expected_zone_drops[lab] += 1
                        t.check(not rep.emitted.get(fr.idx), f"{lab}: {fl_name(fl)}: {frame_desc(fr)} after the quarantine left")
                continue
            cls = labels[conv_key(ep_of(fl["client"], fl["proto"]), ep_of(fl["server"], fl["proto"]))]["class"] \
                if labels else fl["class"]
            server_ip = ep_of(fl["server"], fl["proto"])[1]
            permitted = cls in cfg.quarantine_classes or cfg.is_remediation(server_ip)
            if permitted:
                n_q += 1
                t.check(fl["egress"] == "quarantine" and fl["mirror"] is None,
                        f"{lab}: {fl_name(fl)} of QUARANTINED {agent} (permitted): egress {fl['egress']!r} "
                        f"mirror {fl['mirror']!r}, expected 'quarantine', no mirror")
                for fr, c2s in frames:
                    where = [(p, cfg_path_of(rep, of)) for p, of in rep.emitted.get(fr.idx, [])]
                    want = [("quar", "quarantine")] if c2s else [(cfg.ingress, None)]
                    t.check(where == want, f"{lab}: {fl_name(fl)}: {frame_desc(fr)} left on {where}, expected {want}")
            else:
                n_drop += 1
                expected_zone_drops[lab] += len(frames)
                t.check(fl["egress"] == "drop", f"{lab}: {fl_name(fl)} of QUARANTINED {agent}: egress {fl['egress']!r}, expected 'drop'")
                left = [fr for fr, _ in frames if rep.emitted.get(fr.idx)]
                t.check(not left, f"{lab}: {fl_name(fl)} of QUARANTINED {agent}: {len(left)} packets left")
    for lab, rep in (("A", ra), ("B", rb)):
        got = rep.drops().get("zone_quarantined", 0)
        t.check(got == expected_zone_drops[lab],
                f"{lab}: drops zone_quarantined {got}, expected {expected_zone_drops[lab]} (quarantined agents' packets "
                f"after the leak outside permitted flows)")
    t.check(n_q >= 4 and n_drop >= 2, f"only {n_q} permitted / {n_drop} refused flows of quarantined agents")
    return t.done(f"{n_q} permitted flows on quarantine, {n_drop} flows refused, "
                  f"zone_quarantined drops {expected_zone_drops}")


def test_a_general(cfg, A, ra, la, qa, B, rb):
    """Flows of no class-specific path (http, tls, ...) and a flow's unknown start: path general,
    per the spec ("best path for class unknown (path general)"; "general ... anything"); dlp is
    for flows needing the dlp capability. A tag found on a pinned flow moves it: route event
    reason content."""
    t = Test("a_general_for_other_classes")
    n = collections.Counter()
    for conv, lb in la.items():
        fl = ra.flow(conv)
        if fl is None or lb["tags"] or lb["class"] not in ("http", "tls", "grpc", "websocket", "ssh", "unknown"):
            continue
        q = qa.get(agent_of_flow(cfg, fl))
        if q is not None and fl["last_ts"] >= q:
            continue
        n[fl["egress"]] += 1
        t.check(fl["egress"] == "general", f"A: {fl_name(fl)}: egress {fl['egress']!r}, expected 'general'")
    fl = next((f for f in rb.flows if ep_of(f["client"], f["proto"]) == (6, "192.168.50.11", 41001)), None)
    if t.check(fl is not None, "B: keep-alive secret flow missing"):
        ts = secret_packet_ts(B, fl)
        ev = [e for e in rb.route_events if e["client"] == fl["client"]]
        want = [{"reason": "content", "from": "general", "to": "dlp"}]
        got = [{k: e.get(k) for k in ("reason", "from", "to")} for e in ev]
        t.check(got == want and all(abs(e["ts"] - ts) < 1e-6 for e in ev),
                f"B: {fl_name(fl)} (http, its second request carries the key, at {ts:.6f}): route events {ev}, expected {want} at {ts:.6f}")
    return t.done(f"A: http/tls flows by egress {dict(n)}")


def test_b_rewrite(cfg, A, ra, B, rb):
    t = Test("b_rewrite_bytes")
    ca = check_rewrites(t, cfg, A, ra, "A")
    cb = check_rewrites(t, cfg, B, rb, "B")
    for lab, rep, inp in (("A", ra, A), ("B", rb, B)):
        for port, frames in rep.out.items():
            got = rep.summary["egress"].get(port, {}).get("packets")
            t.check(got == len(frames), f"{lab}: summary egress {port} packets {got}, out/{port}.pcap holds {len(frames)}")
        # Answers (server -> client) go back out of the agents port; nothing else does.
        for fr in inp.frames:
            outs = [p for p, _ in rep.emitted.get(fr.idx, []) if p == cfg.ingress]
            if outs:
                fl = rep.flow(conv_key(*fr.endpoints())) if fr.sport is not None else None
                t.check(fl is not None and ep_of(fl["server"], fl["proto"]) == fr.endpoints()[0],
                        f"{lab}: {frame_desc(fr)} left by port {cfg.ingress} but is no server->client packet")
    n_scapy = check_checksums_scapy(t, ra, "A") + check_checksums_scapy(t, rb, "B")
    n_tshark = check_checksums_tshark(t, ra, "A") + check_checksums_tshark(t, rb, "B")
    # B's special frames.
    tagged = [fr for fr in B.frames if fr.tags and fr.src == "192.168.50.10"]
    for fr in tagged:
        outs = rb.emitted.get(fr.idx, [])
        if fr.sport == 41000:   # client -> server: general, tag id 7 -> 20, PCP 3 kept
            ok = len(outs) == 1 and outs[0][0] == "wan" and struct.unpack_from("!HH", outs[0][1].raw, 12) == (0x8100, (3 << 13) | 20)
            t.check(ok, f"B: VLAN-tagged {frame_desc(fr)} left as {[(p, of.raw[:18].hex()) for p, of in outs]}, expected on wan tagged PCP 3 id 20")
    for fr in B.frames:
        if fr.tags and fr.dst == "192.168.50.10":   # answers: back unchanged, VLAN 7 kept
            outs = rb.emitted.get(fr.idx, [])
            t.check([p for p, _ in outs] == [cfg.ingress] and outs[0][1].raw == fr.raw,
                    f"B: VLAN-tagged answer {frame_desc(fr)} left as {[p for p, _ in outs]}")
    t.check(cb.get("general+tagged", 0) >= 3, f"B: {cb.get('general+tagged', 0)} pre-tagged frames checked on general")
    ttl1 = [fr for fr in B.frames if fr.ttl == 1]
    for fr in ttl1:
        t.check(not rb.emitted.get(fr.idx), f"B: TTL/hop limit 1 {frame_desc(fr)} towards dlp left on {[p for p, _ in rb.emitted[fr.idx]]}")
    t.check(rb.drops().get("ttl_expired", 0) == len(ttl1) == 2,
            f"B: drops ttl_expired {rb.drops().get('ttl_expired', 0)}, expected {len(ttl1)} (one IPv4 TTL 1, one IPv6 hop limit 1)")
    t.check(set(rb.drops()) <= {"ttl_expired", "zone_quarantined"}, f"B: unexpected drops {rb.drops()}")
    t.check(set(ra.drops()) <= {"zone_quarantined"}, f"A: unexpected drops {ra.drops()}")
    arp = [fr for fr in B.frames if fr.etype == 0x0806]
    t.check(len(arp) == 1 and [p for p, _ in rb.emitted.get(arp[0].idx, [])] == [cfg.paths[cfg.default_path]["port"]],
            f"B: the ARP frame left on {[p for p, _ in rb.emitted.get(arp[0].idx, [])]}, expected the default path's port unrewritten")
    t.check(cb.get("dlp+ipv4", 0) >= 2 and cb.get("dlp+ipv6", 0) >= 2,
            f"B: dlp frames checked: IPv4 {cb.get('dlp+ipv4', 0)}, IPv6 {cb.get('dlp+ipv6', 0)}")
    for need in ("llm", "general", "dns-a", "dns-b", "monitor", "agents"):
        t.check(ca.get(need, 0) > 0, f"A: no frame checked on {need}")
    t.check(cb.get("quarantine", 0) > 0, "B: no frame checked on quarantine")
    total = sum(v for k, v in ca.items() if "+" not in k) + sum(v for k, v in cb.items() if "+" not in k)
    return t.done(f"{total} output frames equal their input with the path's changes "
                  f"(A {dict(sorted((k, v) for k, v in ca.items() if '+' not in k))}; "
                  f"B pre-tagged on general {cb.get('general+tagged', 0)}, dlp IPv4 {cb.get('dlp+ipv4', 0)} / IPv6 "
                  f"{cb.get('dlp+ipv6', 0)}); IPv4 checksums good: scapy {n_scapy}, tshark {n_tshark}")


def test_c_healing(cfg, C, rn, re_, events_file):
    t = Test("c_healing")
    t0 = C.t0
    down = {}
    for _, path, state, off in C_EVENTS:
        if state == "down":
            down[path] = [t0 + off, None]
        else:
            down[path][1] = t0 + off
    macs = {cfg.paths[p]["mac"]: p for p in down}
    t.check(not rn.route_events, f"run without path events: route events {rn.route_events[:3]}")
    base = {conv_key(ep_of(f["client"], f["proto"]), ep_of(f["server"], f["proto"])): f for f in rn.flows}
    healed = {conv_key(ep_of(f["client"], f["proto"]), ep_of(f["server"], f["proto"])): f for f in re_.flows}
    t.check(set(base) == set(healed), "the runs with and without path events have different flows")
    ev_by_client = collections.defaultdict(list)
    for e in re_.route_events:
        ev_by_client[(e["proto"], e["client"], e["server"])].append(e)
        path = e["from"]
        ok = (e.get("reason") == "path_down" and path in down and down[path][0] <= e["ts"] < down[path][1]
              and e["to"] != path and e["to"] not in [p for p, (a, b) in down.items() if a <= e["ts"] < b])
        t.check(ok, f"route event {e}: expected reason path_down, from a path down at that time, to a live one")
    long_dns = {"dns-a": 0, "dns-b": 0}
    moved = collections.Counter()
    short_during = 0
    new_after = collections.Counter()
    for conv, fb in base.items():
        fe = healed.get(conv)
        if fe is None:
            continue
        frames = C.conv_frames(fe)
        c2s_ts = [fr.ts for fr, c2s in frames if c2s]
        evs = ev_by_client.get((fe["proto"], fe["client"], fe["server"]), [])
        name = fl_name(fe)
        long_lived = fe["first_ts"] < t0 + 1 and fe["last_ts"] > t0 + 10
        if fe["class"] == "dns" and long_lived:
            t.check(fb["egress"] in ("dns-a", "dns-b"), f"base: {name}: egress {fb['egress']!r}")
            long_dns[fb["egress"]] = long_dns.get(fb["egress"], 0) + 1
        if fb["egress"] in down and long_lived:
            # Pinned on a path that goes down: moves at its first packet from the event on,
            # once, and stays where it went when the path comes back.
            d0 = down[fb["egress"]][0]
            first_after = min(ts for ts in c2s_ts if ts >= d0)
            want_to = {"dns-b"} if fb["egress"] == "dns-a" else {"general", "dlp"}
            ok = (len(evs) == 1 and evs[0]["from"] == fb["egress"] and evs[0]["to"] in want_to
                  and abs(evs[0]["ts"] - first_after) < 1e-6)
            if t.check(ok, f"{name} on {fb['egress']} (down at +{d0 - t0:g} s): route events {evs}, expected one "
                           f"path_down from {fb['egress']} to {sorted(want_to)} at {first_after:.6f}"):
                moved[fb["egress"]] += 1
                t.check(fe["egress"] == evs[0]["to"], f"{name}: moved to {evs[0]['to']} but ends on {fe['egress']!r} "
                                                      f"(pinned flows must not move back when the path is up again)")
                # From the move on, its payload packets leave on the path the event names.
                for fr in c2s_payload_frames(C, fe):
                    if fr.ts >= evs[0]["ts"]:
                        where = [p for _, p in emitted_on(re_, fr)]
                        t.check(where == [evs[0]["to"]], f"{name}: {frame_desc(fr)} after its move left on {where}, "
                                                         f"expected [{evs[0]['to']!r}]")
        elif not long_lived and fb["egress"] in down and down[fb["egress"]][0] <= fe["first_ts"] < down[fb["egress"]][1]:
            # A new flow while its path is down: placed elsewhere (no move, no event).
            short_during += fb["egress"] == "dns-a"
            want = {"dns-b"} if fb["egress"] == "dns-a" else {"general", "dlp"}
            t.check(fe["egress"] in want and not evs,
                    f"{name} started while {fb['egress']} was down: egress {fe['egress']!r}, events {evs}, expected {sorted(want)}")
            if fb["egress"] == "llm":
                new_after["llm-down"] += 1
        else:
            if fb["egress"] in down and fe["first_ts"] >= down[fb["egress"]][1]:
                new_after[fb["egress"]] += 1   # started after its path came back: on it again
            # Consistent hashing: flows not on a lost path keep their path, no event.
            t.check(fe["egress"] == fb["egress"] and not evs,
                    f"{name}: egress {fe['egress']!r} with path events, {fb['egress']!r} without; events {evs} "
                    f"(only the lost path's flows may move)")
        # No packet of any flow on a path's next hop while it is down, nor of a moved flow after.
        for fr, c2s in frames:
            for port, of in re_.emitted.get(fr.idx, []):
                p = macs.get(of.raw[:6])
                if p is None:
                    continue
                a, b = down[p]
                t.check(not (a <= fr.ts < b), f"{name}: {frame_desc(fr)} left on {p} while it was down")
                t.check(not (evs and fr.ts >= evs[0]["ts"] and evs[0]["from"] == p),
                        f"{name}: {frame_desc(fr)} left on {p} after the flow moved off it")
    t.check(long_dns["dns-a"] >= 5 and long_dns["dns-b"] >= 5,
            f"long-lived DNS sessions by path without events: {long_dns}: both must carry several")
    t.check(moved["dns-a"] == long_dns["dns-a"] and moved["llm"] == 6,
            f"moved: {dict(moved)}; expected all {long_dns['dns-a']} long-lived DNS sessions of dns-a and all 6 LLM connections")
    t.check(short_during >= 5, f"only {short_during} one-shot DNS flows of dns-a's hash while dns-a was down")
    t.check(new_after["dns-a"] >= 3 and new_after["llm"] == 1 and new_after["llm-down"] == 1,
            f"new flows on a path after it came back up: {dict(new_after)}; expected dns-a >= 3, one LLM "
            f"connection while llm was down and one after")
    t.check(not [e for e in re_.route_events if e.get("reason") == "path_up"], "path_up route events for pinned flows")
    # Unmatched output frames would hide packets from the checks above.
    t.check(not re_.unmatched, f"{len(re_.unmatched)} output frames match no input frame")
    return t.done(f"long-lived DNS dns-a {long_dns['dns-a']} / dns-b {long_dns['dns-b']}; moved {dict(moved)} "
                  f"(all path_down, none back on up); {short_during} new DNS flows of dns-a's hash on dns-b while it was down; "
                  f"new flows back on their path after it came up {dict(new_after)}; "
                  f"{len(re_.route_events)} route events")


def test_d_determinism(runner, cfg, A, ra, C, re_, events_file):
    t = Test("d_determinism")
    ra2 = runner.replay(A, cfg, "A2")
    re2 = runner.replay(C, cfg, "C-events2", "--path-events", events_file)
    for lab, r1, r2 in (("A", ra, ra2), ("C with path events", re_, re2)):
        t.check(r1.flows_text == r2.flows_text, f"{lab}: flows.jsonl differs between two replays")
        t.check(r1.events_text == r2.events_text, f"{lab}: events.jsonl differs between two replays")
        for port in r1.out:
            t.check([f.raw for f in r1.out[port]] == [f.raw for f in r2.out[port]],
                    f"{lab}: out/{port}.pcap frames differ between two replays")
    return t.done(f"flows.jsonl, events.jsonl and out/*.pcap frames identical over two replays "
                  f"of A ({len(ra.flows)} flows) and of C with path events ({len(re_.route_events)} route events)")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    routed, gen, config = sys.argv[1:4]
    if shutil.which("tshark") is None:
        print("SKIP: tshark not found")
        sys.exit(77)
    cfg = Cfg(config)
    started = time.time()
    keep = os.environ.get("TCPR_KEEP_REPORTS")
    tmp = tempfile.mkdtemp(prefix="tcpr-routing-")
    try:
        runner = Runner(routed, config, tmp)
        a_path = os.path.join(tmp, "A.pcap")
        run([gen, "--behavior", "--agents", "20", "--anomalies", "secret_leak=2", "--duration", "20",
             "--seed", "3", "-o", a_path], timeout=120, check=True)
        b_path, c_path = os.path.join(tmp, "B.pcap"), os.path.join(tmp, "C.pcap")
        make_b(b_path)
        make_c(c_path)
        events_file = os.path.join(tmp, "C.events")
        with open(events_file, "w") as f:
            f.write("# healing test: TIME PATH up|down (+SECONDS: after the first packet)\n")
            for when, path, state, _ in C_EVENTS:
                f.write(f"{when} {path} {state}\n")
        A, B, C = Input(a_path, cfg), Input(b_path, cfg), Input(c_path, cfg)
        assert abs(C.t0 - C_T0) < 1e-6
        ra = runner.replay(A, cfg, "A")
        rb = runner.replay(B, cfg, "B")
        rn = runner.replay(C, cfg, "C-plain")
        re_ = runner.replay(C, cfg, "C-events", "--path-events", events_file)
        la = labels_by_conv(a_path + ".labels.jsonl")
        qa = quarantine_times(cfg, A, [{**lb} for lb in la.values()])
        results = [
            test_a_class_paths(cfg, A, ra, la, qa, B, rb),
            test_a_secret(cfg, A, ra, la, qa, B, rb),
            test_a_mirror(cfg, A, ra, la, qa, B, rb),
            test_a_quarantine(cfg, A, ra, la, qa, B, rb),
            test_a_general(cfg, A, ra, la, qa, B, rb),
            test_b_rewrite(cfg, A, ra, B, rb),
            test_c_healing(cfg, C, rn, re_, events_file),
            test_d_determinism(runner, cfg, A, ra, C, re_, events_file),
        ]
    finally:
        if keep:
            print(f"reports kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    n_fail = results.count(False)
    print(f"{'FAIL' if n_fail else 'ok'}: {len(results) - n_fail} of {len(results)} routing tests passed "
          f"in {time.time() - started:.1f} s")
    sys.exit(1 if n_fail else 0)


if __name__ == "__main__":
    main()
