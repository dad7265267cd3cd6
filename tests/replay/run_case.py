#!/usr/bin/python3
"""run_case.py — run one replay test case: `run_case.py TCP_ROUTED CASE_DIR [--keep]`.

A case is a directory holding case.toml (keys: see README.md next to this file). The runner
replays the case's capture with `TCP_ROUTED replay CAPTURE --report-dir DIR [--config FILE]
[--workers N]` (60 s timeout by default) once per entry of `workers`, then checks the report:

  check_tshark_conversations  TCP/UDP flows in flows.jsonl == tshark's conversations, with the
                              same client, packet, byte and timestamp figures per direction
  check_deterministic         flows.jsonl and summary.json (minus `processing`; across worker counts
                              also minus `flow_table`, whose expired/drained split follows each
                              worker's own clock) identical across
                              a repeated run and across all worker counts
  check_egress_capture        out/*.pcap hold, as a multiset of frame bytes, input packets only,
                              and input packets − drops of them
  [expect.summary]            exact values of summary.json keys (tables compare the listed keys)
  [expect.drops]              summary.json drops, exactly: unlisted reasons must be 0 or absent
  [[expect.flows]]            each table matches exactly one flow on the keys it lists
  check_agents                the behaviour verdicts: the case's check_agents.py REPORT_DIR
                              CAPTURE.agents.jsonl must exit 0 for every run (agents.jsonl and
                              events.jsonl also join check_deterministic)
  check_labels                the classification against CAPTURE.labels.jsonl (ground truth, one
                              line per conversation): every labelled conversation is a flow;
                              per class and per tag precision and recall >= min_precision /
                              min_recall (default 0.98); sni, host, method, path equal where the
                              label is not null. A confusion table goes to the log, pass or fail
  expect_error                bad capture: a non-zero exit, stderr one line containing the
                              substring(s) (case-insensitive), within `timeout` (20 s default)

Exit status: 0 pass (one summary line), 1 fail (a line per problem), 77 skip (tshark needed but
missing; meson counts it as skipped). Standard library only, plus tshark through subprocess.
--keep (or TCPR_KEEP_REPORTS=1) keeps the report directories and prints where they are.
"""
import difflib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from pathlib import Path

RUN_TIMEOUT = 60.0
ERROR_TIMEOUT = 20.0
TS_TOLERANCE = 2e-6  # pcap timestamps are microseconds; JSON floats of ~1.7e9 hold ~0.25 µs
SKIP = 77
DROP_HEADER = Path(__file__).resolve().parents[2] / "include/tcpr/abi/drop_reason.h"

CASE_KEYS = {
    "description", "capture", "config", "workers", "timeout", "check_tshark_conversations",
    "check_deterministic", "check_egress_capture", "expect", "expect_error", "expect_exit_nonzero",
    "check_labels", "min_precision", "min_recall", "check_agents",
}
EXPECT_KEYS = {"summary", "drops", "flows"}
# The replay report contract (DESIGN.md "Data contracts") for one flows.jsonl line.
FLOW_KEYS = {
    "proto": str, "client": str, "server": str, "class": str, "tags": list, "packets": int,
    "bytes": int, "packets_c2s": int, "packets_s2c": int, "bytes_c2s": int, "bytes_s2c": int,
    "egress": str, "first_ts": (int, float), "last_ts": (int, float),
}
FLOW_NULLABLE_KEYS = ("sni", "host", "method", "path")  # present; a string or null
SUMMARY_KEYS = {"packets": int, "bytes": int, "flows": int, "drops": dict, "processing": dict}
CONV_FIELDS = ("packets", "bytes", "packets_c2s", "packets_s2c", "bytes_c2s", "bytes_s2c")
# Content classes and risk tags (DESIGN.md "Words"), in the order tables show them.
CLASSES = ("llm.api", "mcp", "a2a", "grpc", "websocket", "http", "tls", "ssh", "dns", "unknown")
TAGS = ("secret", "shell")
LABEL_FIELDS = ("sni", "host", "method", "path")  # compared where the label is not null
DEFAULT_MIN_SCORE = 0.98


class CaseError(Exception):
    """The case itself is wrong (bad case.toml, unreadable input): fail, do not skip."""


class SkipCase(Exception):
    """A tool the case needs is missing: exit 77, which meson reports as skipped."""


# --- small helpers ------------------------------------------------------------------------------

def parse_endpoint(text):
    """'1.2.3.4:80' or '[fd99::1]:80' → (packed address, port); ValueError if neither."""
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d+)", text)
    family = socket.AF_INET6
    if not m:
        m = re.fullmatch(r"(\d+\.\d+\.\d+\.\d+):(\d+)", text)
        family = socket.AF_INET
    if not m:
        raise ValueError(f"not ip:port or [ipv6]:port: {text!r}")
    port = int(m.group(2))
    if port > 65535:
        raise ValueError(f"port out of range: {text!r}")
    return socket.inet_pton(family, m.group(1)), port


def fmt_endpoint(addr, port):
    if ":" in addr:
        return f"[{addr}]:{port}"
    return f"{addr}:{port}"


def known_drop_reasons():
    """Report names from include/tcpr/abi/drop_reason.h, or None if the header is not there."""
    try:
        text = DROP_HEADER.read_text()
    except OSError:
        return None
    return set(re.findall(r'X\(\s*[A-Z0-9_]+\s*,\s*"([a-z0-9_]+)"\s*\)', text)) - {"none"}


def read_frames(path):
    """(link type, [frame bytes]) of a pcap or pcapng file; CaseError if it is neither."""
    data = Path(path).read_bytes()
    if len(data) < 24:
        raise CaseError(f"{path}: too short for a capture")
    magic = data[:4]
    for endian in ("<", ">"):
        if struct.unpack(endian + "I", magic)[0] in (0xA1B2C3D4, 0xA1B23C4D):
            return _read_pcap(path, data, endian)
    if struct.unpack("<I", magic)[0] == 0x0A0D0D0A:
        return _read_pcapng(path, data)
    raise CaseError(f"{path}: neither pcap nor pcapng")


def _read_pcap(path, data, e):
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    frames, off = [], 24
    while off < len(data):
        if off + 16 > len(data):
            raise CaseError(f"{path}: truncated record header at offset {off}")
        incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        if off + 16 + incl > len(data):
            raise CaseError(f"{path}: truncated record at offset {off}")
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return linktype, frames


def _read_pcapng(path, data):
    e, off, frames, linktypes, snaplens = "<", 0, [], [], []
    while off + 12 <= len(data):
        btype = struct.unpack(e + "I", data[off:off + 4])[0]
        if btype == 0x0A0D0D0A:  # section header: byte order, new interface list
            e = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            linktypes, snaplens = [], []
        blen = struct.unpack(e + "I", data[off + 4:off + 8])[0]
        if blen < 12 or off + blen > len(data):
            raise CaseError(f"{path}: truncated pcapng block at offset {off}")
        body = data[off + 8:off + blen - 4]
        if btype == 1:  # interface description
            linktypes.append(struct.unpack(e + "H", body[:2])[0])
            snaplens.append(struct.unpack(e + "I", body[4:8])[0])
        elif btype == 6:  # enhanced packet
            caplen = struct.unpack(e + "I", body[12:16])[0]
            frames.append(body[20:20 + caplen])
        elif btype == 3:  # simple packet
            origlen = struct.unpack(e + "I", body[:4])[0]
            snap = snaplens[0] if snaplens and snaplens[0] else origlen
            frames.append(body[4:4 + min(origlen, snap)])
        elif btype == 2:  # obsolete packet block
            caplen = struct.unpack(e + "I", body[12:16])[0]
            frames.append(body[20:20 + caplen])
        off += blen
    if off != len(data):
        raise CaseError(f"{path}: trailing bytes after the last pcapng block")
    if len(set(linktypes)) > 1:
        raise CaseError(f"{path}: interfaces with different link types {sorted(set(linktypes))}")
    return (linktypes[0] if linktypes else None), frames


# --- tshark -------------------------------------------------------------------------------------

TSHARK_FIELDS = ("frame.number", "frame.len", "frame.time_epoch", "frame.protocols", "ip.src",
                 "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport", "udp.srcport",
                 "udp.dstport", "tcp.stream", "udp.stream")


def tshark_conversations(capture):
    """TCP and UDP conversations of CAPTURE, one dict per tshark stream, in the flows.jsonl shape.

    A packet belongs to a conversation when its outermost IP header (v4 or v6, after any IPv6
    extension headers) carries TCP or UDP: an ICMP error quoting a UDP header is not UDP.
    """
    cmd = ["tshark", "-r", str(capture), "-n", "-T", "fields", "-E", "separator=/t",
           "-E", "occurrence=f"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        raise CaseError(f"tshark failed on {capture}: {res.stderr.strip()}")
    convs = {}
    for line in res.stdout.splitlines():
        v = dict(zip(TSHARK_FIELDS, line.split("\t")))
        protos = v["frame.protocols"].split(":")
        ip_at = next((i for i, p in enumerate(protos) if p in ("ip", "ipv6")), None)
        if ip_at is None:
            continue
        l4 = next((p for p in protos[ip_at + 1:] if not p.startswith("ipv6.")), None)
        if l4 not in ("tcp", "udp"):
            continue
        ipf = "ip" if protos[ip_at] == "ip" else "ipv6"
        src = fmt_endpoint(v[f"{ipf}.src"], int(v[f"{l4}.srcport"]))
        dst = fmt_endpoint(v[f"{ipf}.dst"], int(v[f"{l4}.dstport"]))
        length, ts = int(v["frame.len"]), float(v["frame.time_epoch"])
        key = (l4, int(v[f"{l4}.stream"]))
        c = convs.get(key)
        if c is None:
            c = convs[key] = {"proto": l4, "client": src, "server": dst, "packets": 0, "bytes": 0,
                              "packets_c2s": 0, "packets_s2c": 0, "bytes_c2s": 0,
                              "bytes_s2c": 0, "first_ts": ts, "last_ts": ts,
                              "first_frame": int(v["frame.number"])}
        d = "c2s" if src == c["client"] else "s2c"
        c["packets"] += 1
        c["bytes"] += length
        c["packets_" + d] += 1
        c["bytes_" + d] += length
        c["first_ts"] = min(c["first_ts"], ts)
        c["last_ts"] = max(c["last_ts"], ts)
    return list(convs.values())


# --- running tcp-routed -------------------------------------------------------------------------

class Run:
    def __init__(self, label, rc, stdout, stderr, seconds, report_dir, timed_out):
        self.label, self.rc, self.stdout, self.stderr = label, rc, stdout, stderr
        self.seconds, self.dir, self.timed_out = seconds, Path(report_dir), timed_out
        self.flows_text = self.summary = self.flows = None
        self.workers = None


def run_tcp_routed(binary, capture, report_dir, config, workers, timeout, label):
    cmd = [binary, "replay", str(capture), "--report-dir", str(report_dir)]
    if config is not None:
        cmd += ["--config", str(config)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    Path(report_dir).mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    # Own session, so a timeout kills everything tcp-routed started (by its process group id).
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    seconds = time.monotonic() - t0
    return Run(label, proc.returncode, out.decode(errors="replace"),
               err.decode(errors="replace"), seconds, report_dir, timed_out)


# --- checks; each returns a list of problem lines -----------------------------------------------

def load_report(run):
    problems = []
    flows_path, summary_path = run.dir / "flows.jsonl", run.dir / "summary.json"
    try:
        run.flows_text = flows_path.read_bytes()
    except OSError as e:
        return [f"{run.label}: no flows.jsonl: {e}"]
    try:
        run.summary = json.loads(summary_path.read_bytes())
    except (OSError, ValueError) as e:
        return [f"{run.label}: summary.json unreadable: {e}"]
    if not isinstance(run.summary, dict):
        return [f"{run.label}: summary.json is not a JSON object"]
    for k, t in SUMMARY_KEYS.items():
        if not isinstance(run.summary.get(k), t) or isinstance(run.summary.get(k), bool):
            problems.append(f"{run.label}: summary.json: `{k}` missing or not {t.__name__}")
    run.flows = []
    text = run.flows_text.decode(errors="replace")
    if text and not text.endswith("\n"):
        problems.append(f"{run.label}: flows.jsonl: last line has no newline")
    for n, line in enumerate(text.splitlines(), 1):
        try:
            f = json.loads(line)
        except ValueError as e:
            problems.append(f"{run.label}: flows.jsonl:{n}: not JSON: {e}")
            continue
        if not isinstance(f, dict):
            problems.append(f"{run.label}: flows.jsonl:{n}: not a JSON object")
            continue
        for k, t in FLOW_KEYS.items():
            if k not in f:
                problems.append(f"{run.label}: flows.jsonl:{n}: missing `{k}`")
            elif not isinstance(f[k], t) or isinstance(f[k], bool):
                problems.append(f"{run.label}: flows.jsonl:{n}: `{k}` = {f[k]!r} has wrong type")
        for k in FLOW_NULLABLE_KEYS:
            if k not in f:
                problems.append(f"{run.label}: flows.jsonl:{n}: missing `{k}`")
            elif f[k] is not None and not isinstance(f[k], str):
                problems.append(f"{run.label}: flows.jsonl:{n}: `{k}` = {f[k]!r} not string/null")
        for k in ("client", "server"):
            try:
                parse_endpoint(f.get(k, ""))
            except (ValueError, OSError) as e:
                problems.append(f"{run.label}: flows.jsonl:{n}: `{k}`: {e}")
        f["_line"] = n
        run.flows.append(f)
    n_flows = run.summary.get("flows")
    if isinstance(n_flows, int) and n_flows != len(run.flows):
        problems.append(f"{run.label}: summary.json flows = {n_flows} but flows.jsonl has "
                        f"{len(run.flows)} lines")
    return problems


def conv_key(proto, a, b):
    ea, eb = parse_endpoint(a), parse_endpoint(b)
    return (proto,) + tuple(sorted([ea, eb]))


def check_conversations(run, convs):
    """flows.jsonl TCP/UDP flows vs tshark conversations, matched on (proto, endpoint pair)."""
    problems = []
    want, got = {}, {}
    for c in convs:
        want.setdefault(conv_key(c["proto"], c["client"], c["server"]), []).append(c)
    for f in run.flows:
        if f.get("proto") not in ("tcp", "udp"):
            continue
        try:
            got.setdefault(conv_key(f["proto"], f["client"], f["server"]), []).append(f)
        except (ValueError, OSError, KeyError):
            continue  # already reported by load_report
    for key in sorted(set(want) | set(got), key=repr):
        ws = sorted(want.get(key, []), key=lambda c: c["first_ts"])
        gs = sorted(got.get(key, []), key=lambda f: f.get("first_ts", 0))
        for i in range(max(len(ws), len(gs))):
            if i >= len(gs):
                w = ws[i]
                problems.append(f"{run.label}: missing flow {w['proto']} {w['client']} -> "
                                f"{w['server']} (tshark: {w['packets']} packets, {w['bytes']} "
                                f"bytes, first frame {w['first_frame']})")
                continue
            g = gs[i]
            where = (f"{run.label}: flows.jsonl:{g['_line']} {g['proto']} {g['client']} -> "
                     f"{g['server']}")
            if i >= len(ws):
                problems.append(f"{where}: not a tshark conversation (extra flow)")
                continue
            w = ws[i]
            if parse_endpoint(g["client"]) != parse_endpoint(w["client"]):
                problems.append(f"{where}: client: expected {w['client']} (first sender, frame "
                                f"{w['first_frame']}), got {g['client']}")
            for k in CONV_FIELDS:
                if g.get(k) != w[k]:
                    problems.append(f"{where}: {k}: expected {w[k]}, got {g.get(k)}")
            for k in ("first_ts", "last_ts"):
                gv = g.get(k)
                if not isinstance(gv, (int, float)) or abs(gv - w[k]) > TS_TOLERANCE:
                    problems.append(f"{where}: {k}: expected {w[k]:.6f}, got {gv}")
    return problems


def summary_without_processing(run, across_workers=False):
    s = dict(run.summary)
    s.pop("processing", None)
    if across_workers:
        # Each worker ages its own flows on its own packets' clock: how many ended by timeout
        # rather than at the end of the capture depends on how flows were spread. The flows
        # themselves (flows.jsonl) do not.
        s.pop("flow_table", None)
    return json.dumps(s, indent=2)  # keeps the file's key order: order changes are differences


def report_text(run, name):
    path = run.dir / name
    return path.read_text(errors="replace") if path.is_file() else ""


def check_deterministic(runs):
    problems = []
    ref = runs[0]
    for r in runs[1:]:
        for what, a, b in (
                ("flows.jsonl", ref.flows_text.decode(errors="replace"),
                 r.flows_text.decode(errors="replace")),
                ("summary.json minus processing", summary_without_processing(ref, r.workers != ref.workers),
                 summary_without_processing(r, r.workers != ref.workers)),
                ("agents.jsonl", report_text(ref, "agents.jsonl"), report_text(r, "agents.jsonl")),
                ("events.jsonl", report_text(ref, "events.jsonl"), report_text(r, "events.jsonl"))):
            if a == b:
                continue
            diff = list(difflib.unified_diff(a.splitlines(), b.splitlines(), ref.label, r.label,
                                             lineterm="", n=0))
            problems.append(f"{what} differs between {ref.label} and {r.label}:")
            problems += ["    " + (d if len(d) <= 300 else d[:300] + "...") for d in diff[:24]]
            if len(diff) > 24:
                problems.append(f"    ... {len(diff) - 24} more diff lines")
    return problems


def check_agents(run, capture, case_dir):
    """The case's own checker decides (it knows the scenario); a non-zero exit is a failure."""
    labels = Path(str(capture) + ".agents.jsonl")
    cmd = [sys.executable, str(case_dir / "check_agents.py"), str(run.dir), str(labels)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if p.returncode == 0:
        return []
    return [f"{run.label}: check_agents.py exit {p.returncode}:"] + \
        ["    " + line for line in (p.stdout + p.stderr).strip().splitlines()[-20:]]


def check_egress(run, in_linktype, in_frames):
    problems = []
    out_dir = run.dir / "out"
    outs = sorted(out_dir.glob("*.pcap")) if out_dir.is_dir() else []
    got = Counter()
    for p in outs:
        try:
            lt, frames = read_frames(p)
        except CaseError as e:
            problems.append(f"{run.label}: out/{p.name}: {e}")
            continue
        if frames and lt != in_linktype:
            problems.append(f"{run.label}: out/{p.name}: link type {lt}, input has {in_linktype}")
        got.update(frames)
    want = Counter(in_frames)
    drops = run.summary.get("drops") if isinstance(run.summary.get("drops"), dict) else {}
    dropped = sum(v for v in drops.values() if isinstance(v, int))
    expected_total = len(in_frames) - dropped
    total = sum(got.values())
    if total != expected_total:
        problems.append(f"{run.label}: out/*.pcap hold {total} packets in {len(outs)} files, "
                        f"expected {len(in_frames)} input - {dropped} dropped = {expected_total}")
    for frame, n in (got - want).items():
        problems.append(f"{run.label}: out/*.pcap: {n} packet(s) not in the input (or more "
                        f"copies than the input has): {len(frame)} bytes {frame[:34].hex()}...")
    return problems


def check_expect_summary(run, expect):
    return _subset(run.label, "summary", expect, run.summary, [])


def _subset(label, path, want, got, problems):
    for k, w in want.items():
        where = f"{path}.{k}"
        if not isinstance(got, dict) or k not in got:
            problems.append(f"{label}: {where}: expected {w!r}, missing")
        elif isinstance(w, dict):
            _subset(label, where, w, got[k], problems)
        elif got[k] != w or isinstance(got[k], bool) != isinstance(w, bool):
            problems.append(f"{label}: {where}: expected {w!r}, got {got[k]!r}")
    return problems


def check_expect_drops(run, expect, known):
    problems = []
    got = run.summary.get("drops") or {}
    if known is not None:
        for name in sorted(set(got) - known):
            problems.append(f"{run.label}: summary.drops: unknown reason {name!r} (not in "
                            f"{DROP_HEADER.name})")
    for name in sorted(set(expect) | set(got)):
        w, g = expect.get(name, 0), got.get(name, 0)
        if w != g:
            problems.append(f"{run.label}: drops.{name}: expected {w}, got {g}")
    return problems


def check_expect_flows(run, expected):
    problems = []
    for i, e in enumerate(expected):
        def matches(f):
            for k, w in e.items():
                if k in ("client", "server"):
                    try:
                        if parse_endpoint(f.get(k, "")) != parse_endpoint(w):
                            return False
                    except (ValueError, OSError):
                        return False
                elif k.endswith("_ts") and isinstance(w, (int, float)):
                    if not isinstance(f.get(k), (int, float)) or abs(f[k] - w) > TS_TOLERANCE:
                        return False
                elif f.get(k) != w:
                    return False
            return True
        hits = [f for f in run.flows if matches(f)]
        if len(hits) != 1:
            problems.append(f"{run.label}: [[expect.flows]] #{i + 1} {json.dumps(e)}: "
                            f"{len(hits)} matching flows, expected exactly 1")
            near = [f for f in run.flows if f.get("client") == e.get("client")
                    and f.get("server") == e.get("server")]
            for f in near:
                diffs = [f"{k}: expected {w!r}, got {f.get(k)!r}" for k, w in e.items()
                         if f.get(k) != w]
                problems.append(f"    flows.jsonl:{f['_line']} has the endpoints; "
                                + "; ".join(diffs))
    return problems


# --- classification against ground-truth labels ------------------------------------------------

def load_labels(capture):
    """CAPTURE.labels.jsonl → [label dict]; CaseError if it is missing or malformed."""
    path = Path(str(capture) + ".labels.jsonl")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise CaseError(f"check_labels: {e}")
    labels, seen = [], {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path.name}:{n}"
        try:
            lab = json.loads(line)
        except ValueError as e:
            raise CaseError(f"{where}: not JSON: {e}")
        if not isinstance(lab, dict):
            raise CaseError(f"{where}: not a JSON object")
        if lab.get("proto") not in ("tcp", "udp"):
            raise CaseError(f"{where}: `proto` must be \"tcp\" or \"udp\"")
        if lab.get("class") not in CLASSES:
            raise CaseError(f"{where}: `class` {lab.get('class')!r} is not one of {list(CLASSES)}")
        tags = lab.get("tags")
        if not isinstance(tags, list) or any(t not in TAGS for t in tags):
            raise CaseError(f"{where}: `tags` must be a list of {list(TAGS)}")
        for k in LABEL_FIELDS:
            if lab.get(k) is not None and not isinstance(lab[k], str):
                raise CaseError(f"{where}: `{k}` must be a string or null")
        try:
            key = (lab["proto"], parse_endpoint(lab.get("client", "")),
                   parse_endpoint(lab.get("server", "")))
        except (ValueError, OSError) as e:
            raise CaseError(f"{where}: {e}")
        if key in seen:
            raise CaseError(f"{where}: same conversation as line {seen[key]}")
        seen[key] = n
        lab["_key"], lab["_line"] = key, n
        labels.append(lab)
    if not labels:
        raise CaseError(f"{path.name}: no labels")
    return labels


# Report fields must never carry a secret in clear (issue 4: "reports and logs show a tag, the
# kind of secret and a short hash"): the shapes of the credential kinds, written from their
# issuers' documented formats, not from the classifier's rules.
SECRET_PATTERNS = [re.compile(p) for p in (
    r"(?:AKIA|ASIA)[0-9A-Z]{16}", r"gh[pousr]_[A-Za-z0-9]{36}", r"github_pat_[A-Za-z0-9_]{22,}",
    r"glpat-[A-Za-z0-9_-]{20}", r"xox[baprs]-[0-9A-Za-z-]{10,}", r"sk-(?:proj-|ant-)[A-Za-z0-9_-]{20,}",
    r"AIza[0-9A-Za-z_-]{35}", r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.")]

TOKEN_CHARS = r"[A-Za-z0-9_\-+/=.]"


def field_matches(got, want):
    """A reported field equals the label's, where a run of '*' in the report (a masked secret)
    stands for one or more token characters of the label's value."""
    if not isinstance(got, str):
        return False
    if "*" not in got:
        return got == want
    parts = re.split(r"\*+", got)
    return re.fullmatch((TOKEN_CHARS + "+").join(re.escape(x) for x in parts), want) is not None


def _score(num, den):
    return num / den if den else None


def _fmt_score(x):
    return "-" if x is None else f"{x:.2f}"


def check_labels(run, labels, min_precision, min_recall):
    """Scores the run's flows against the labels. Returns (problems, table lines); the table
    (confusion of classes, then precision/recall per class and tag) goes to the log either way.

    Scored are the labelled conversations found in flows.jsonl. For a class or tag C:
    precision = correct / reported as C, recall = correct / labelled C. Every class or tag that is
    labelled or reported on a labelled conversation is checked, so a tag reported where no label
    has it (a false positive in a capture of near misses) has precision 0 and fails.
    """
    flows = {}
    for f in run.flows:
        try:
            key = (f.get("proto"), parse_endpoint(f["client"]), parse_endpoint(f["server"]))
        except (ValueError, OSError, KeyError):
            continue  # already reported by load_report
        flows.setdefault(key, []).append(f)
    problems, pairs = [], []
    for lab in labels:
        where = f"{lab['proto']} {lab['client']} -> {lab['server']}"
        hits = flows.get(lab["_key"], [])
        if len(hits) != 1:
            swapped = flows.get((lab["_key"][0], lab["_key"][2], lab["_key"][1]))
            why = (f"{len(hits)} flows" if hits else
                   "no flow" + (" (one with client and server swapped)" if swapped else ""))
            problems.append(f"{run.label}: labelled conversation {where} "
                            f"({lab.get('note') or 'label line ' + str(lab['_line'])}): {why}")
            continue
        pairs.append((lab, hits[0]))

    # Per conversation: everything that differs, on one line.
    for lab, f in pairs:
        diffs = []
        if f.get("class") != lab["class"]:
            diffs.append(f"class {lab['class']} -> {f.get('class')}")
        got_tags = sorted(set(f.get("tags") or []))
        if got_tags != sorted(set(lab["tags"])):
            diffs.append(f"tags {sorted(set(lab['tags']))} -> {got_tags}")
        for k in LABEL_FIELDS:
            if lab.get(k) is not None and not field_matches(f.get(k), lab[k]):
                diffs.append(f"{k} {json.dumps(lab[k])} -> {json.dumps(f.get(k))}")
        for pattern in SECRET_PATTERNS:
            if pattern.search(json.dumps({k: f.get(k) for k in LABEL_FIELDS})):
                diffs.append(f"a secret in clear in the report ({pattern.pattern[:24]}...)")
        if diffs:
            note = f" ({lab['note']})" if lab.get("note") else ""
            problems.append(f"{run.label}: flows.jsonl:{f['_line']} {lab['proto']} {lab['client']} "
                            f"-> {lab['server']}{note}: " + "; ".join(diffs))

    # Confusion of classes: rows are the label's class, columns the reported one.
    rows = order_classes({lab["class"] for lab, _ in pairs})
    cols = order_classes({str(f.get("class")) for _, f in pairs} | set(rows))
    confusion = Counter((lab["class"], str(f.get("class"))) for lab, f in pairs)
    width = max([len(c) for c in cols] + [7])
    head = "label \\ reported".ljust(18)
    table = [f"{len(pairs)} of {len(labels)} labelled conversations scored; confusion of classes "
             f"(rows: label, columns: reported):",
             "  " + head + "".join(c.rjust(width + 2) for c in cols)]
    for r in rows:
        table.append("  " + r.ljust(18) + "".join(
            (str(confusion[(r, c)]) if confusion[(r, c)] else ".").rjust(width + 2) for c in cols))

    # Precision and recall per class and per tag.
    table.append(f"  {'class/tag':<18}{'labelled':>9}{'reported':>9}{'correct':>8}"
                 f"{'precision':>10}{'recall':>8}   (min {min_precision:g} / {min_recall:g})")
    scored = [(c, lambda lab, f, c=c: (lab["class"] == c, f.get("class") == c)) for c in cols]
    tag_names = order_tags({t for lab, f in pairs
                            for t in list(lab["tags"]) + list(f.get("tags") or [])})
    scored += [("#" + t, lambda lab, f, t=t: (t in lab["tags"], t in (f.get("tags") or [])))
               for t in tag_names]
    scores = []
    for name, test in scored:
        n_lab = n_rep = n_ok = 0
        for lab, f in pairs:
            want, got = test(lab, f)
            n_lab += want
            n_rep += got
            n_ok += want and got
        if not n_lab and not n_rep:
            continue
        # Undefined (shown "-") when nothing was reported (then recall is 0) or nothing labelled
        # (then precision is 0): either way the other figure fails.
        precision, recall = _score(n_ok, n_rep), _score(n_ok, n_lab)
        bad = []
        if precision is not None and precision < min_precision:
            bad.append(f"precision {precision:.2f} < {min_precision:g} ({n_ok} of {n_rep} "
                       f"reported are labelled so)")
        if recall is not None and recall < min_recall:
            bad.append(f"recall {recall:.2f} < {min_recall:g} ({n_ok} of {n_lab} labelled are "
                       f"reported so)")
        table.append(f"  {name:<18}{n_lab:>9}{n_rep:>9}{n_ok:>8}{_fmt_score(precision):>10}"
                     f"{_fmt_score(recall):>8}" + ("   FAIL" if bad else ""))
        kind = "tag" if name.startswith("#") else "class"
        scores += [f"{run.label}: {kind} {name.lstrip('#')}: {b}" for b in bad]
    return scores + problems, table


def order_classes(names):
    return sorted(names, key=lambda c: (CLASSES.index(c) if c in CLASSES else len(CLASSES), c))


def order_tags(names):
    return sorted(names, key=lambda t: (TAGS.index(t) if t in TAGS else len(TAGS), str(t)))


# --- the case -----------------------------------------------------------------------------------

def load_case(case_dir):
    path = case_dir / "case.toml"
    try:
        case = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise CaseError(f"{path}: {e}")
    unknown = set(case) - CASE_KEYS
    if unknown:
        raise CaseError(f"{path}: unknown keys {sorted(unknown)}")
    case["_dir"] = case_dir
    if not isinstance(case.get("capture"), str):
        raise CaseError(f"{path}: `capture` (a path) is required")
    expect = case.get("expect", {})
    if set(expect) - EXPECT_KEYS:
        raise CaseError(f"{path}: unknown [expect] tables {sorted(set(expect) - EXPECT_KEYS)}")
    workers = case.get("workers")
    if workers is not None and (not isinstance(workers, list) or not workers
                                or not all(isinstance(w, int) and w > 0 for w in workers)):
        raise CaseError(f"{path}: `workers` must be a non-empty list of positive integers")
    known = known_drop_reasons()
    if known is not None:
        for name in sorted(set(expect.get("drops", {})) - known):
            raise CaseError(f"{path}: [expect.drops] {name!r} is not a reason in {DROP_HEADER}")
    for k in ("min_precision", "min_recall"):
        v = case.get(k, DEFAULT_MIN_SCORE)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= 1:
            raise CaseError(f"{path}: `{k}` must be a number in [0, 1]")
        if k in case and not case.get("check_labels"):
            raise CaseError(f"{path}: `{k}` without `check_labels = true`")
    err = case.get("expect_error")
    if isinstance(err, str):
        case["expect_error"] = [err]
    elif err is not None and not (isinstance(err, list) and all(isinstance(s, str) for s in err)):
        raise CaseError(f"{path}: `expect_error` must be a string or a list of strings")
    if err is not None:
        mixed = [k for k in ("check_tshark_conversations", "check_deterministic",
                             "check_egress_capture", "check_labels", "expect") if case.get(k)]
        if mixed:
            raise CaseError(f"{path}: `expect_error` cannot be combined with {mixed}")
    return case


def run_error_case(case, binary, capture, config, tmp):
    timeout = float(case.get("timeout", ERROR_TIMEOUT))
    workers = case.get("workers", [None])[0]
    run = run_tcp_routed(binary, capture, tmp / "report", config, workers, timeout, "run")
    if run.timed_out:
        return [f"did not finish within {timeout:g} s (killed)"], ""
    problems = []
    if case.get("expect_exit_nonzero", True) and run.rc == 0:
        problems.append("exit code 0, expected non-zero")
    err = run.stderr.rstrip("\n")
    if not err:
        problems.append("stderr is empty, expected one line")
    elif "\n" in err:
        problems.append(f"stderr has {err.count(chr(10)) + 1} lines, expected one:")
        problems += ["    | " + line for line in err.splitlines()[:10]]
    for s in case["expect_error"]:
        if s.lower() not in err.lower():
            problems.append(f"stderr lacks {s!r}: {err.splitlines()[0] if err else ''!r}")
    summary = f"exit {run.rc} in {run.seconds:.1f} s: {err.splitlines()[0] if err else ''}"
    return problems, summary, []


def run_case(binary, case_dir, keep):
    case = load_case(case_dir)
    capture = (case_dir / case["capture"]).resolve()
    config = (case_dir / case["config"]).resolve() if case.get("config") else None
    if config is not None and not config.is_file():
        raise CaseError(f"config {config} does not exist")
    tmp = Path(tempfile.mkdtemp(prefix=f"tcpr-replay-{case_dir.name}-"))
    try:
        if case.get("expect_error") is not None:
            return run_error_case(case, binary, capture, config, tmp)
        return run_report_case(binary, case, capture, config, tmp)
    finally:
        if keep:
            print(f"{case_dir.name}: reports kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run_report_case(binary, case, capture, config, tmp):
    if not capture.is_file():
        raise CaseError(f"capture {capture} does not exist")
    labels = load_labels(capture) if case.get("check_labels", False) else None
    want_conv = case.get("check_tshark_conversations", False)
    if want_conv and shutil.which("tshark") is None:
        raise SkipCase("tshark not found (needed by check_tshark_conversations)")
    timeout = float(case.get("timeout", RUN_TIMEOUT))
    workers = case.get("workers", [None])
    plan = list(workers)
    if case.get("check_deterministic", False):
        plan.insert(1, workers[0])  # the first worker count twice: run-to-run determinism
    runs, problems = [], []
    for i, w in enumerate(plan):
        label = f"run{i + 1}" + (f"(workers={w})" if w is not None else "")
        r = run_tcp_routed(binary, capture, tmp / f"report{i + 1}", config, w, timeout, label)
        r.workers = w
        if r.timed_out:
            problems.append(f"{label}: did not finish within {timeout:g} s (killed)")
        elif r.rc != 0:
            problems.append(f"{label}: exit code {r.rc}; stderr: {r.stderr.strip()[:2000]}")
        else:
            p = load_report(r)
            problems += p
            if not p:
                runs.append(r)
    if problems:
        return problems, "", []

    convs = tshark_conversations(capture) if want_conv else None
    in_linktype, in_frames = read_frames(capture)
    expect = case.get("expect", {})
    known = known_drop_reasons()
    checks, details, details_of = [], [], {}
    for r in runs:
        if want_conv:
            problems += check_conversations(r, convs)
        if case.get("check_egress_capture", False):
            problems += check_egress(r, in_linktype, in_frames)
        if "summary" in expect:
            problems += check_expect_summary(r, expect["summary"])
        if "drops" in expect:
            problems += check_expect_drops(r, expect["drops"], known)
        if "flows" in expect:
            problems += check_expect_flows(r, expect["flows"])
        if case.get("check_agents", False):
            problems += check_agents(r, capture, case["_dir"])
        if labels is not None:
            p, table = check_labels(r, labels, case.get("min_precision", DEFAULT_MIN_SCORE),
                                    case.get("min_recall", DEFAULT_MIN_SCORE))
            problems += p
            details += label_tables(r, table, details_of)
    if want_conv:
        checks.append(f"{len(convs)} tshark conversations")
    if case.get("check_deterministic", False):
        problems += check_deterministic(runs)
        checks.append("deterministic")
    if case.get("check_egress_capture", False):
        checks.append("egress capture")
    checks += [f"expect.{k}" for k in ("summary", "drops", "flows") if k in expect]
    if labels is not None:
        checks.append(f"labels of {len(labels)} conversations")
    if case.get("check_agents", False):
        checks.append("agent verdicts (check_agents.py)")
    s = runs[0].summary
    summary = (f"{len(runs)} runs (workers {', '.join(str(w) for w in plan)}), "
               f"{s.get('packets')} packets, {len(runs[0].flows)} flows, "
               f"{sum(v for v in s.get('drops', {}).values() if isinstance(v, int))} dropped; "
               f"checked: {', '.join(checks) or 'exit status only'}")
    return problems, summary, details


def label_tables(run, table, seen):
    """The label table of a run for the log: in full the first time, then only if it differs
    from one already shown (`seen`: table text → label of the run that showed it)."""
    text = "\n".join(table)
    if text in seen:
        return [f"{run.label}: classification as in {seen[text]}"]
    seen[text] = run.label
    return [f"{run.label}: " + table[0]] + table[1:]


def merge_runs(problems):
    """One line per distinct problem, naming every run that had it ("run1, run3: ...");
    indented continuation lines stay with the problem above them."""
    items = []
    for p in problems:
        if p.startswith("    ") and items:
            items[-1][1] += "\n" + p
            continue
        m = re.match(r"(run\d+(?:\(workers=\d+\))?): (.*)", p, re.S)
        items.append([m.group(1), m.group(2)] if m else [None, p])
    merged = {}
    for label, text in items:
        merged.setdefault(text, [])
        if label is not None:
            merged[text].append(label)
    return [(", ".join(labels) + ": " if labels else "") + text for text, labels in merged.items()]


def main(argv):
    args = [a for a in argv[1:] if a != "--keep"]
    keep = "--keep" in argv[1:] or os.environ.get("TCPR_KEEP_REPORTS") == "1"
    if len(args) != 2:
        print("usage: run_case.py TCP_ROUTED CASE_DIR [--keep]", file=sys.stderr)
        return 2
    binary, case_dir = args[0], Path(args[1]).resolve()
    name = case_dir.name
    try:
        problems, summary, details = run_case(binary, case_dir, keep)
    except SkipCase as e:
        print(f"SKIP {name}: {e}")
        return SKIP
    except CaseError as e:
        print(f"FAIL {name}: case error: {e}")
        return 1
    if problems:
        problems = merge_runs(problems)
        print(f"FAIL {name}: {len(problems)} problem(s)")
    else:
        print(f"PASS {name}: {summary}")
    for d in details:
        print("  " + d)
    for p in problems:
        print("  " + p.replace("\n", "\n  "))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
