#!/usr/bin/python3
"""check_agents.py REPORT_DIR LABELS [--max-delay S] — the behaviour acceptance rule (issue 5).

Compares REPORT_DIR/agents.jsonl (written by `tcp-routed replay CAP --report-dir REPORT_DIR
--agents CIDR`) with LABELS (CAP.agents.jsonl, made by the capture script from what each agent
was told to do), independently of the router's code:

  - every labelled anomalous agent has `first_anomalous_ts` not null and
        onset <= first_anomalous_ts <= onset + MAX_DELAY      (MAX_DELAY = 5.0 s by default)
    (detecting before the anomaly began is as wrong as detecting it late or never);
  - every labelled normal agent has `first_anomalous_ts` null (no false positive);
  - every labelled agent is in agents.jsonl exactly once, and every line of agents.jsonl keeps
    the report contract (DESIGN.md "Data contracts"): `agent` (IP string), `zone` (TRUSTED,
    MONITORED, QUARANTINED or ISOLATED), `trust` and `score` (numbers), `features` (an object of
    name -> value), `first_anomalous_ts` (capture seconds or null; not null when the zone is
    QUARANTINED or ISOLATED, since it is the time of the first transition out of
    TRUSTED/MONITORED).
Agents the report has but the labels do not (e.g. outside the labelled hosts) are listed, not
judged. Timestamps are compared with a 2 µs tolerance: both sides are pcap microsecond stamps of
~1.8e9 s printed through binary doubles, so the onset packet itself may come back a few hundred
nanoseconds off.

LABELS lines: {"agent": IP, "role": "normal"|"anomalous", "kind": null|KIND, "onset": null|S}.
Prints a table (agent, kind, onset, detected, delay, zone, verdict), then one line per violation.
Exit status: 0 all agents pass, 1 violations (every one listed), 2 usage or unreadable input.
Standard library only.
"""
import argparse
import ipaddress
import json
import math
import sys
from pathlib import Path

ZONES = ("TRUSTED", "MONITORED", "QUARANTINED", "ISOLATED")
TS_TOLERANCE = 2e-6
ROLES = ("normal", "anomalous")


class InputError(Exception):
    pass


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def read_jsonl(path):
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"{path}: {e.strerror or e}")
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise InputError(f"{path}:{n}: not JSON: {e}")
        if not isinstance(obj, dict):
            raise InputError(f"{path}:{n}: not a JSON object")
        rows.append((n, obj))
    return rows


def load_labels(path):
    labels = {}
    for n, obj in read_jsonl(path):
        where = f"{path}:{n}"
        agent, role, kind, onset = (obj.get(k) for k in ("agent", "role", "kind", "onset"))
        try:
            ipaddress.ip_address(agent)
        except (TypeError, ValueError):
            raise InputError(f"{where}: `agent` {agent!r} is not an IP address")
        if role not in ROLES:
            raise InputError(f"{where}: `role` {role!r} is not one of {ROLES}")
        if role == "anomalous" and not (isinstance(kind, str) and is_number(onset)):
            raise InputError(f"{where}: an anomalous agent needs a `kind` and a numeric `onset`")
        if role == "normal" and onset is not None:
            raise InputError(f"{where}: a normal agent has `onset` null")
        if agent in labels:
            raise InputError(f"{where}: agent {agent} labelled twice")
        labels[agent] = {"role": role, "kind": kind, "onset": onset}
    if not labels:
        raise InputError(f"{path}: no labels")
    return labels


def load_report(report_dir, problems):
    """agents.jsonl as {agent: line}; contract breaches and duplicates go to `problems`."""
    path = Path(report_dir) / "agents.jsonl"
    report = {}
    for n, obj in read_jsonl(path):
        where = f"agents.jsonl:{n}"
        agent = obj.get("agent")
        bad = []
        try:
            ipaddress.ip_address(agent)
        except (TypeError, ValueError):
            bad.append(f"`agent` {agent!r} is not an IP address string")
        if obj.get("zone") not in ZONES:
            bad.append(f"`zone` {obj.get('zone')!r} is not one of {'/'.join(ZONES)}")
        for k in ("trust", "score"):
            if not is_number(obj.get(k)):
                bad.append(f"`{k}` {obj.get(k)!r} is not a number")
        feats = obj.get("features")
        if not isinstance(feats, dict):
            bad.append(f"`features` {feats!r} is not an object")
        if "first_anomalous_ts" not in obj:
            bad.append("`first_anomalous_ts` is missing")
        elif obj["first_anomalous_ts"] is not None and not is_number(obj["first_anomalous_ts"]):
            bad.append(f"`first_anomalous_ts` {obj['first_anomalous_ts']!r} is neither a number "
                       "nor null")
        elif obj["first_anomalous_ts"] is None and obj.get("zone") in ZONES[2:]:
            # first_anomalous_ts is the first transition out of TRUSTED/MONITORED: an agent in
            # QUARANTINED or ISOLATED has made one.
            bad.append(f"`zone` {obj['zone']} but `first_anomalous_ts` null")
        problems += [f"{where} ({agent}): contract: {b}" for b in bad]
        if not isinstance(agent, str):
            continue
        if agent in report:
            problems.append(f"{where}: agent {agent} appears again (first at line "
                            f"{report[agent]['_line']})")
            continue
        report[agent] = dict(obj, _line=n, _ok=not bad)
    return report


def judge(labels, report, max_delay):
    """Returns (table rows, violations)."""
    rows, problems = [], []
    for agent in sorted(labels, key=ipaddress.ip_address):
        lab = labels[agent]
        kind = lab["kind"] or "normal"
        onset = lab["onset"]
        got = report.get(agent)
        ts = got.get("first_anomalous_ts") if got else None
        zone = got.get("zone") if got else None
        delay = ts - onset if is_number(ts) and onset is not None else None
        if got is None:
            verdict = "MISSING"
            problems.append(f"{agent} ({kind}): not in agents.jsonl")
        elif not got["_ok"]:
            verdict = "BAD LINE"  # the contract breach is already listed
        elif lab["role"] == "anomalous":
            if ts is None:
                verdict = "MISSED"
                problems.append(f"{agent} ({kind}): missed: first_anomalous_ts is null, expected "
                                f"within [{onset:.6f}, {onset + max_delay:.6f}] (zone {zone})")
            elif delay < -TS_TOLERANCE:
                verdict = "EARLY"
                problems.append(f"{agent} ({kind}): early: first_anomalous_ts {ts:.6f} is "
                                f"{-delay:.3f} s before the onset {onset:.6f}")
            elif delay > max_delay + TS_TOLERANCE:
                verdict = "LATE"
                problems.append(f"{agent} ({kind}): late: first_anomalous_ts {ts:.6f} is "
                                f"{delay:.3f} s after the onset {onset:.6f} (max {max_delay:g} s)")
            else:
                verdict = "ok"
        elif ts is not None:
            verdict = "FALSE POS"
            problems.append(f"{agent} (normal): false positive: first_anomalous_ts {ts:.6f}, "
                            f"expected null (zone {zone})")
        else:
            verdict = "ok"
        rows.append((agent, kind, onset, ts, delay, zone, verdict))
    return rows, problems


def fmt_ts(v):
    return f"{v:.6f}" if is_number(v) else "-"


def print_table(rows, max_delay):
    print(f"{'agent':<16} {'kind':<12} {'onset':>18} {'detected':>18} {'delay(s)':>9} "
          f"{'zone':<11} verdict   (max delay {max_delay:g} s)")
    for agent, kind, onset, ts, delay, zone, verdict in rows:
        d = f"{delay:9.3f}" if delay is not None else f"{'-':>9}"
        print(f"{agent:<16} {kind:<12} {fmt_ts(onset):>18} {fmt_ts(ts):>18} {d} "
              f"{zone or '-':<11} {verdict}")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("report_dir")
    ap.add_argument("labels")
    ap.add_argument("--max-delay", type=float, default=5.0,
                    help="seconds after the onset by which the anomaly must be detected (5.0)")
    args = ap.parse_args(argv[1:])
    problems = []
    try:
        labels = load_labels(args.labels)
        report = load_report(args.report_dir, problems)
    except InputError as e:
        print(f"check_agents: {e}", file=sys.stderr)
        return 2
    rows, violations = judge(labels, report, args.max_delay)
    problems += violations
    print_table(rows, args.max_delay)
    extra = sorted(set(report) - set(labels), key=lambda a: (len(a), a))
    if extra:
        print(f"not labelled, not judged: {len(extra)} agent(s): {', '.join(extra[:20])}"
              + (" ..." if len(extra) > 20 else ""))
    n_anom = sum(lab["role"] == "anomalous" for lab in labels.values())
    if problems:
        print(f"FAIL: {len(problems)} violation(s) over {len(labels)} labelled agents "
              f"({n_anom} anomalous):")
        for p in problems:
            print(f"  {p}")
        return 1
    print(f"PASS: {n_anom} anomalous agents detected within {args.max_delay:g} s of their onset, "
          f"{len(labels) - n_anom} normal agents never flagged")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
