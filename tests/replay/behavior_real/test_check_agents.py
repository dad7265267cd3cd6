#!/usr/bin/python3
"""test_check_agents.py — self-test of check_agents.py on hand-made reports (standard library).

fixtures/labels.jsonl labels ten agents like the real capture's (five normal; port_scan,
syn_flood, secret_leak, beacon, lateral with onsets 20.18–30.15 s after 1700000000). Each
fixtures/CASE/agents.jsonl is a report against it:

  pass            every anomaly detected in [onset, onset + 5]: the leak at its onset packet
                  printed 0.3 µs low (within the 2 µs tolerance), the beacon at exactly +5.0 s;
                  normal agents null; a server 10.77.2.10 as an extra, unlabelled agent
  early           the port scan detected 0.5 s before its onset
  late            the beacon detected 5.2 s after its onset
  missed          the lateral movement never detected (null)
  false_positive  a normal agent with a first_anomalous_ts
  missing_agent   a labelled normal agent absent from agents.jsonl
  all_wrong       early + late + missed + false positive at once: all four listed
  bad_contract    zone BLOCKED, features a list, first_anomalous_ts a string, ISOLATED with a
                  null first_anomalous_ts, an agent on two lines

Also: the real labels (../../data/behavior/real_agents.pcap.agents.jsonl, when present) with
reports made here from them (all detected 1 s late → pass; all null → every anomalous agent
missed), --max-delay, and the usage/input errors (exit 2).
Run: /usr/bin/python3 tests/replay/behavior_real/test_check_agents.py  (exit 0 = all pass).
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECK = HERE / "check_agents.py"
FIX = HERE / "fixtures"
LABELS = FIX / "labels.jsonl"
REAL_LABELS = HERE.parents[1] / "data/behavior/real_agents.pcap.agents.jsonl"

# case → (exit status, substrings every one of which must be in stdout, violation count or None)
CASES = {
    "pass": (0, ["PASS: 5 anomalous agents", "not labelled, not judged: 1 agent(s): 10.77.2.10"],
             None),
    "early": (1, ["10.77.1.12 (port_scan): early: first_anomalous_ts 1700000019.681433 is 0.500 s "
                  "before the onset 1700000020.181433"], 1),
    "late": (1, ["10.77.1.18 (beacon): late: first_anomalous_ts 1700000032.844415 is 5.200 s "
                 "after the onset 1700000027.644415 (max 5 s)"], 1),
    "missed": (1, ["10.77.1.20 (lateral): missed: first_anomalous_ts is null"], 1),
    "false_positive": (1, ["10.77.1.15 (normal): false positive: first_anomalous_ts "
                           "1700000031.500000, expected null"], 1),
    "missing_agent": (1, ["10.77.1.13 (normal): not in agents.jsonl"], 1),
    "all_wrong": (1, ["10.77.1.11 (normal): false positive", "10.77.1.12 (port_scan): early",
                      "10.77.1.16 (secret_leak): late", "10.77.1.20 (lateral): missed"], 4),
    "bad_contract": (1, ["`zone` 'BLOCKED' is not one of", "`features` [1, 2] is not an object",
                         "`first_anomalous_ts` '1700000021.981433' is neither a number nor null",
                         "`zone` ISOLATED but `first_anomalous_ts` null",
                         "agent 10.77.1.17 appears again"], 5),
}


def run(*args):
    res = subprocess.run([sys.executable, str(CHECK), *map(str, args)], capture_output=True,
                         text=True, timeout=30)
    return res.returncode, res.stdout, res.stderr


def expect(name, got, want_rc, needles=(), count=None):
    rc, out, err = got
    bad = []
    if rc != want_rc:
        bad.append(f"exit {rc}, expected {want_rc}")
    bad += [f"output lacks {n!r}" for n in needles if n not in out + err]
    if count is not None and f"FAIL: {count} violation(s)" not in out:
        bad.append(f"expected exactly {count} violation(s)")
    if want_rc in (0, 1) and not out.startswith("agent "):
        bad.append("no table")
    print(f"{'ok  ' if not bad else 'FAIL'} {name}")
    for b in bad:
        print(f"     {b}")
    if bad:
        print("     | " + (out + err).rstrip().replace("\n", "\n     | "))
    return not bad


def report_line(agent, ts, zone):
    return json.dumps({"agent": agent, "zone": zone, "trust": 0.5, "score": 0.5,
                       "features": {"pkt_rate": 1.0}, "first_anomalous_ts": ts})


def main():
    ok = True
    for case, (rc, needles, count) in CASES.items():
        ok &= expect(case, run(FIX / case, LABELS), rc, needles, count)
    ok &= expect("late, with --max-delay 6", run(FIX / "late", LABELS, "--max-delay", "6"), 0,
                 ["PASS"])
    ok &= expect("pass, with --max-delay 2", run(FIX / "pass", LABELS, "--max-delay", "2"), 1,
                 ["10.77.1.18 (beacon): late", "10.77.1.20 (lateral): late"], 2)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ok &= expect("no agents.jsonl", run(tmp, LABELS), 2, ["agents.jsonl"])
        ok &= expect("no labels file", run(FIX / "pass", tmp / "nope.jsonl"), 2, ["nope.jsonl"])
        (tmp / "garbage").mkdir()
        (tmp / "garbage/agents.jsonl").write_text("{not json\n")
        ok &= expect("agents.jsonl not JSON", run(tmp / "garbage", LABELS), 2, ["not JSON"])
        bad_labels = tmp / "bad_labels.jsonl"
        bad_labels.write_text('{"agent": "10.77.1.12", "role": "anomalous", "kind": "beacon", '
                              '"onset": null}\n')
        ok &= expect("anomalous label without onset", run(FIX / "pass", bad_labels), 2,
                     ["needs a `kind` and a numeric `onset`"])

        if REAL_LABELS.is_file():
            labels = [json.loads(line) for line in REAL_LABELS.read_text().splitlines()]
            for name, shift, want, n_bad in (("real labels, all detected 1 s late", 1.0, 0, None),
                                             ("real labels, nothing detected", None, 1,
                                              sum(lab["role"] == "anomalous" for lab in labels))):
                d = tmp / name.replace(" ", "_").replace(",", "")
                d.mkdir()
                lines = []
                for lab in labels:
                    ts = lab["onset"] + shift if lab["onset"] is not None and shift else None
                    lines.append(report_line(lab["agent"], ts,
                                             "QUARANTINED" if ts is not None else "MONITORED"))
                (d / "agents.jsonl").write_text("\n".join(lines) + "\n")
                ok &= expect(name, run(d, REAL_LABELS), want,
                             ["PASS"] if want == 0 else ["missed"], n_bad)
        else:
            print(f"skip real labels: {REAL_LABELS} not found")
    print("test_check_agents: " + ("all passed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
